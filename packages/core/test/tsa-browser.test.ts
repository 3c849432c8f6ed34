/**
 * `@parley/core/tsa` runs in a browser: bundled by esbuild for the browser
 * platform and evaluated in a bare V8 context with only what a page has
 * (WebCrypto, TextEncoder/Decoder, atob/btoa; no process, Buffer, require),
 * it verifies a real openssl token and refuses one for another note. And the
 * main entry stays free of pkijs/asn1js (they come only with the subpath).
 */
import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from './helpers/vectors.js';
import { type TestTsa, makeTestTsa } from './helpers/tsa.js';

describe('@parley/core/tsa in a browser-like context', () => {
  let tsa: TestTsa;
  beforeAll(async () => {
    tsa = await makeTestTsa({ name: 'browser-tsa' });
  }, 30_000);
  afterAll(() => tsa?.close());

  it('bundles for the browser and verifies a real openssl token with WebCrypto there', async () => {
    const out = await build({
      entryPoints: [join(REPO_ROOT, 'packages/core/src/tsa/index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'parleyTsa',
      write: false,
      logLevel: 'silent',
    });
    const code = out.outputFiles[0]!.text;
    expect(code).not.toMatch(/require\(["']node:/);
    const note = 'browser.example/log\n7\nq6wSBzN9Hr4DU0rpGbn/Ka7gnJUfKQh9VY5yOcVmCvw=\n\n\u2014 browser.example/log AAAA\n';
    const { token } = await tsa.stampData(note);
    const sandbox = {
      outerCrypto: webcrypto,
      OuterU8: Uint8Array,
      TextEncoder,
      TextDecoder,
      atob,
      btoa,
      input: JSON.stringify({ note, token: Buffer.from(token).toString('base64'), authority: tsa.authority }),
      result: undefined as unknown as Promise<string>,
    };
    runInNewContext(
      `// A vm context is another realm: Node's WebCrypto refuses its ArrayBuffers (a page has one realm, so
      // no browser needs this). Bytes are copied across realms, nothing else is changed.
      const out = (x) => (x instanceof ArrayBuffer || ArrayBuffer.isView(x)) ? new OuterU8(ArrayBuffer.isView(x) ? new Uint8Array(x.buffer, x.byteOffset, x.byteLength) : new Uint8Array(x)) : x;
      const back = (r) => Object.prototype.toString.call(r) === '[object ArrayBuffer]' ? new Uint8Array(new OuterU8(r)).buffer : r;
      const subtle = new Proxy(outerCrypto.subtle, { get: (t, k) => typeof t[k] === 'function' ? async (...a) => back(await t[k].apply(t, a.map(out))) : t[k] });
      globalThis.crypto = { subtle, getRandomValues: (a) => { a.set(outerCrypto.getRandomValues(new OuterU8(a.length))); return a; } };
      ${code}
      result = (async () => {
        const t = parleyTsa;
        const i = JSON.parse(input);
        const ts = { authorities: [i.authority], required: 1 };
        const good = await t.verifyTimestamps(i.note, [{ authority: i.authority.name, token: i.token }], ts);
        const bad = await t.verifyTimestamps(i.note + ' ', [{ authority: i.authority.name, token: i.token }], ts);
        return JSON.stringify({ satisfied: good.satisfied, time: typeof good.trustedTime?.toISOString(), failed: bad.failed,
          hasNodeGlobals: typeof process !== 'undefined' || typeof Buffer !== 'undefined' || typeof require !== 'undefined' });
      })();`,
      sandbox,
    );
    expect(JSON.parse(await sandbox.result)).toEqual({ satisfied: true, time: 'string', failed: [{ authority: 'browser-tsa', code: 'TSA_IMPRINT_MISMATCH' }], hasNodeGlobals: false });
  }, 30_000);

  it('keeps pkijs and asn1js out of the main entry', async () => {
    const main = await build({ entryPoints: [join(REPO_ROOT, 'packages/core/src/index.ts')], bundle: true, platform: 'browser', format: 'esm', write: false, metafile: true, logLevel: 'silent' });
    const inputs = Object.keys(Object.values(main.metafile.outputs)[0]!.inputs);
    expect(inputs.filter((f) => /node_modules\/(pkijs|asn1js|@peculiar)/.test(f))).toEqual([]);
  });
});
