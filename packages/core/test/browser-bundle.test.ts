/**
 * Core runs in a browser: bundled by esbuild for the browser platform (any
 * Node built-in import fails the build) and evaluated in a bare V8 context
 * that has only what a browser page has for us — no process, Buffer, require
 * or node:crypto — it verifies a real checkpoint and a real inclusion proof
 * with the @noble binding, and seals and opens an HPKE message with the
 * default binding (no set-up). A bundle that only verifies carries no
 * @noble/ciphers, X25519 or HMAC code (the dashboard never runs them).
 */
import { runInNewContext } from 'node:vm';
import { webcrypto } from 'node:crypto';
import { join } from 'node:path';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT, loadVectors } from './helpers/vectors.js';

describe('@parley/core in a browser-like context', () => {
  it('bundles for the browser and verifies real checkpoints and proofs there', async () => {
    const out = await build({
      entryPoints: [join(REPO_ROOT, 'packages/core/src/index.ts')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'parleyCore',
      write: false,
      logLevel: 'silent',
    });
    const code = out.outputFiles[0]!.text;
    expect(code).not.toMatch(/require\(["']node:/);

    const cps = loadVectors<{ checkpoints: { id: string; note_b64: string; inclusion?: Record<string, any> }[] }>('checkpoints.json').checkpoints;
    const sumdb = cps.find((c) => c.id === 'sumdb-6476701')!;
    const rekor = cps.find((c) => c.id === 'rekor-v2-tlog_hashedrekordv002')!;
    const input = {
      sumdbNote: sumdb.note_b64,
      sumdbKey: 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8',
      inclusion: rekor.inclusion,
    };
    const sandbox = {
      TextEncoder,
      TextDecoder,
      crypto: { getRandomValues: (a: Uint8Array) => webcrypto.getRandomValues(a) },
      input: JSON.stringify(input),
      result: '',
    };
    runInNewContext(
      `${code}
      const c = parleyCore;
      const i = JSON.parse(input);
      const cp = c.openCheckpoint(c.parseBase64(i.sumdbNote), new c.VerifierSet([i.sumdbKey]), { origin: 'go.sum database tree' });
      const inc = i.inclusion;
      const leaf = c.leafHash(c.parseBase64(inc.leaf_input_b64));
      const proof = inc.proof_b64.map((p) => c.parseBase64(p));
      const ok = c.verifyInclusion(proof, inc.tree_size, c.parseBase64(inc.root_hash_b64), inc.log_index, leaf);
      const bad = c.verifyInclusion(proof, inc.tree_size, c.parseBase64(inc.root_hash_b64), inc.log_index + 1, leaf);
      const key = c.generateSignerKey('browser.example/log');
      const signed = c.signCheckpoint({ origin: 'browser.example/log', treeSize: 1, rootHash: leaf, extensions: [] }, c.newSigner(key));
      const back = c.openCheckpoint(signed, new c.VerifierSet([c.verifierKeyOf(key)])).checkpoint.treeSize;
      const kp = c.hpkeGenerateKeyPair();
      const info = new TextEncoder().encode('browser'), aad = new Uint8Array(0);
      const sealed = c.hpkeSeal({ recipientPublicKey: kp.publicKey, info, aad, plaintext: new TextEncoder().encode('sealed here') });
      const opened = new TextDecoder().decode(c.hpkeOpen({ recipientPrivateKey: kp.privateKey, enc: sealed.enc, info, aad, ciphertext: sealed.ciphertext }));
      result = JSON.stringify({ provider: c.getCrypto().name, sealing: c.getSealingCrypto().name, opened, size: cp.checkpoint.treeSize, ok, bad, back,
        hasNodeGlobals: typeof process !== 'undefined' || typeof Buffer !== 'undefined' || typeof require !== 'undefined' });`,
      sandbox,
    );
    expect(JSON.parse(sandbox.result)).toEqual({ provider: '@noble', sealing: '@noble', opened: 'sealed here', size: 6476701, ok: true, bad: false, back: 1, hasNodeGlobals: false });
  });

  it('leaves @noble/ciphers, X25519 and HMAC out of a bundle that only verifies', async () => {
    const verifyOnly = await build({
      stdin: {
        contents: `export { openWitnessedCheckpoint, verifyInclusion, verifyConsistency, verifyEntry, verifyAccord, leafHash } from './src/index.ts';`,
        resolveDir: join(REPO_ROOT, 'packages/core'),
        loader: 'ts',
      },
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
    });
    // What ended up in the output (the metafile's top-level inputs also list modules tree-shaken away).
    const inputs = Object.entries(Object.values(verifyOnly.metafile.outputs)[0]!.inputs).flatMap(([f, i]) => (i.bytesInOutput > 0 ? [f] : []));
    expect(inputs.some((f) => f.includes('@noble/curves/ed25519'))).toBe(true);
    expect(inputs.filter((f) => f.includes('@noble/ciphers') || f.includes('montgomery') || f.includes('@noble/hashes/hmac'))).toEqual([]);
    expect(verifyOnly.outputFiles[0]!.text).not.toContain('expand 32-byte k');
  });
});
