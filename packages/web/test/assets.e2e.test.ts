/**
 * The built dashboard as a real node serves it (packages/web/dist, copied by
 * the channel harness, over 127.0.0.1): every text file compressed with
 * brotli or gzip as the client accepts, decompressing to the built bytes,
 * with Content-Encoding and Vary; hashed assets cached as immutable and
 * index.html revalidated; no source map reachable; a favicon (SVG and ICO)
 * linked from index.html that Chromium loads under the app's CSP; and a main
 * chunk free of code the browser never runs (@noble/ciphers: HPKE's AEADs)
 * and of pkijs/asn1js (RFC 3161 time-stamp tokens), which only the
 * Evaluations page loads, as a chunk of its own.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_E2E, type TestBrowser, launchBrowser } from './helpers/browser.js';
import { type Channel, WEB_ROOT, startChannel } from './helpers/channel.js';

const SOURCEMAPS = resolve(fileURLToPath(new URL('.', import.meta.url)), '../sourcemaps');
const IMMUTABLE = 'public, max-age=31536000, immutable';

/** A GET with node:http, so the body arrives as sent (fetch would decompress it). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((done, fail) => {
    const req = httpRequest(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}

const html = () => readFileSync(join(WEB_ROOT, 'index.html'), 'utf8');
/** The main chunk: the module script index.html loads. */
const mainChunk = () => /<script type="module"[^>]* src="\/(assets\/index-[^"]+\.js)"/.exec(html())![1]!;
const stylesheet = () => /<link rel="stylesheet"[^>]* href="\/(assets\/[^"]+\.css)"/.exec(html())![1]!;
const icons = () => [...html().matchAll(/<link rel="icon" href="\/([^"]+)"([^>]*)>/g)].map((m) => ({ path: m[1]!, attrs: m[2]! }));

describe('the built app as the node serves it', () => {
  let ch: Channel;
  let url: string;

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'US'] });
    url = ch.party('US').url;
  }, 60_000);
  afterAll(async () => {
    await ch?.stop();
  });

  it('sends brotli or gzip as accepted, decompressing to the built bytes, with Content-Encoding, Vary and the right caching', async () => {
    const files = [
      { path: '/', file: 'index.html', type: /^text\/html/, cache: 'no-cache' },
      { path: `/${mainChunk()}`, file: mainChunk(), type: /javascript/, cache: IMMUTABLE },
      { path: `/${stylesheet()}`, file: stylesheet(), type: /^text\/css/, cache: IMMUTABLE },
      { path: '/favicon.svg', file: 'favicon.svg', type: /^image\/svg\+xml/, cache: 'no-cache' },
    ];
    for (const f of files) {
      const bytes = readFileSync(join(WEB_ROOT, f.file));
      for (const [accept, encoding, decode] of [
        ['br', 'br', brotliDecompressSync],
        ['gzip, deflate, br', 'br', brotliDecompressSync],
        ['gzip', 'gzip', gunzipSync],
        ['identity', undefined, (b: Buffer) => b],
      ] as const) {
        const r = await rawGet(`${url}${f.path}`, { 'accept-encoding': accept, accept: 'text/html,*/*' });
        const what = `${f.path} (${accept})`;
        expect(r.status, what).toBe(200);
        expect(r.headers['content-encoding'], what).toBe(encoding);
        expect(String(r.headers['vary']), what).toMatch(/accept-encoding/i);
        expect(r.headers['content-type'], what).toMatch(f.type);
        expect(r.headers['cache-control'], what).toBe(f.cache);
        expect(decode(r.body).equals(bytes), what).toBe(true);
        if (encoding !== undefined) expect(r.body.length, what).toBeLessThan(bytes.length);
      }
    }
  });

  it('serves no source map: none in the served directory, none referenced, and a map URL is 404', async () => {
    const main = mainChunk();
    expect(readdirSync(join(WEB_ROOT, 'assets')).filter((f) => f.endsWith('.map'))).toEqual([]);
    // The build keeps them beside dist/ for debugging.
    expect(existsSync(join(SOURCEMAPS, `${main}.map`))).toBe(true);
    expect(readFileSync(join(WEB_ROOT, main), 'utf8')).not.toContain('sourceMappingURL');
    for (const accept of ['*/*', 'text/html']) {
      const r = await rawGet(`${url}/${main}.map`, { accept });
      expect(r.status, accept).toBe(404);
      expect(r.body.toString()).not.toContain('"sourcesContent"');
    }
  });

  it('links a favicon, SVG and ICO, and serves both', async () => {
    const linked = icons();
    expect(linked.map((i) => i.path).sort()).toEqual(['favicon.ico', 'favicon.svg']);
    expect(linked.find((i) => i.path === 'favicon.svg')!.attrs).toContain('type="image/svg+xml"');
    const ico = await rawGet(`${url}/favicon.ico`, { accept: 'image/*' });
    expect(ico.status).toBe(200);
    expect(ico.headers['content-type']).toMatch(/^image\/(x-icon|vnd\.microsoft\.icon)/);
    expect(ico.body.equals(readFileSync(join(WEB_ROOT, 'favicon.ico')))).toBe(true);
    // ICONDIR: reserved 0, type 1 (icon), at least one image.
    expect([ico.body.readUInt16LE(0), ico.body.readUInt16LE(2)]).toEqual([0, 1]);
    expect(ico.body.readUInt16LE(4)).toBeGreaterThan(0);
  });

  it('ships a main chunk without @noble/ciphers (the browser never seals or opens HPKE bodies)', () => {
    const js = readFileSync(join(WEB_ROOT, mainChunk()), 'utf8');
    // ChaCha20's constant (@noble/ciphers/_arx.js), GHASH's and AES's error texts (_polyval.js, aes.js).
    for (const marker of ['expand 32-byte k', 'ghash', '"aes key"']) expect(js.includes(marker), `main chunk contains ${marker}`).toBe(false);
    // The chunk does carry the verifying half of core's @noble binding (crypto/nobleSigning.ts), so the check looks at the right file.
    expect(js.includes('ed25519Verifier')).toBe(true);
  });

  it('ships a main chunk without pkijs or asn1js (the Evaluations page loads them on demand, in a chunk of its own)', () => {
    const js = readFileSync(join(WEB_ROOT, mainChunk()), 'utf8');
    // pkijs's schema error text and asn1js's decoder error text.
    const markers = ["Object's schema was not verified against input data", 'End of input reached before message was fully decoded'];
    for (const marker of markers) expect(js.includes(marker), `main chunk contains ${marker}`).toBe(false);
    // They are in the build, in another chunk: the markers are the right ones and the page can load them.
    const chunks = readdirSync(join(WEB_ROOT, 'assets')).filter((f) => f.endsWith('.js') && `assets/${f}` !== mainChunk());
    for (const marker of markers) expect(chunks.some((f) => readFileSync(join(WEB_ROOT, 'assets', f), 'utf8').includes(marker)), `no chunk carries ${marker}`).toBe(true);
  });

  it.skipIf(SKIP_E2E)('loads both icons in Chromium under the app\u2019s Content-Security-Policy, with no violation', async () => {
    const b: TestBrowser = await launchBrowser();
    try {
      const page = await b.page(`${url}/login`);
      const violations: string[] = [];
      page.on('console', (m) => /Content Security Policy/i.test(m.text()) && violations.push(m.text()));
      const loaded = await page.evaluate(async () => {
        const out: { href: string; width: number }[] = [];
        for (const link of document.querySelectorAll<HTMLLinkElement>('link[rel=icon]')) {
          const img = new Image();
          img.src = link.href;
          await img.decode();
          out.push({ href: new URL(link.href).pathname, width: img.naturalWidth });
        }
        return out;
      });
      expect(loaded.map((l) => l.href).sort()).toEqual(['/favicon.ico', '/favicon.svg']);
      expect(loaded.every((l) => l.width > 0)).toBe(true);
      expect(violations).toEqual([]);
    } finally {
      await b.close();
    }
  });
});
