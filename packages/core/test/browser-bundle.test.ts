/**
 * Core runs in a browser: bundled by esbuild for the browser platform (any
 * Node built-in import fails the build) and evaluated in a bare V8 context
 * that has only what a browser page has for us — no process, Buffer, require
 * or node:crypto — it verifies a real checkpoint and a real inclusion proof
 * with the @noble binding.
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
      result = JSON.stringify({ provider: c.getCrypto().name, size: cp.checkpoint.treeSize, ok, bad, back,
        hasNodeGlobals: typeof process !== 'undefined' || typeof Buffer !== 'undefined' || typeof require !== 'undefined' });`,
      sandbox,
    );
    expect(JSON.parse(sandbox.result)).toEqual({ provider: '@noble', size: 6476701, ok: true, bad: false, back: 1, hasNodeGlobals: false });
  });
});
