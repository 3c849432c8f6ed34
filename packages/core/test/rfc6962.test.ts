/**
 * RFC 6962 / RFC 9162 §2.1 Merkle hashing and proofs against the published
 * vectors in ../shared/vectors/rfc6962.json (transparency-dev/merkle
 * testonly/constants.go and testdata/, see that directory's README), run with
 * both crypto bindings.
 */
import { describe, expect, it } from 'vitest';
import {
  MemoryTree,
  checkConsistency,
  checkInclusion,
  leafHash,
  nodeHash,
  proveConsistency,
  proveInclusion,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from '../src/merkle/index.js';
import { VerificationError, ArgumentError } from '../src/errors.js';
import { formatHex } from '../src/encoding.js';
import { providers, useProvider } from './helpers/providers.js';
import { type Rfc6962Vectors, b64, hex, loadVectors } from './helpers/vectors.js';
import { assertThrowsCode } from './helpers/assert.js';

const v = loadVectors<Rfc6962Vectors>('rfc6962.json');

describe.each(providers)('RFC 6962 vectors with $name', (provider) => {
  useProvider(provider);

  it('hashes every leaf', () => {
    expect(v.leaves).toHaveLength(8);
    for (const l of v.leaves) expect(formatHex(leafHash(hex(l.input_hex)))).toBe(l.leaf_hash_hex);
  });

  it('builds every complete subtree hash and every root for sizes 0..8', () => {
    const t = new MemoryTree();
    const roots = [formatHex(t.root())];
    for (const l of v.leaves) {
      t.appendData(hex(l.input_hex));
      roots.push(formatHex(t.root()));
    }
    expect(roots).toEqual(v.roots.map((r) => r.root_hex));
    for (const r of v.roots) expect(formatHex(treeHash(r.tree_size, t))).toBe(r.root_hex);
    for (const n of v.node_hashes) {
      const [lo, hi] = n.covers_leaves;
      // A complete subtree's hash is the root of a tree made of just its leaves.
      const sub = new MemoryTree();
      for (let i = lo; i < hi; i++) sub.appendData(hex(v.leaves[i]!.input_hex));
      expect(formatHex(sub.root())).toBe(n.hash_hex);
    }
  });

  it('gives the published outcome for all 98 inclusion probes', () => {
    expect(v.inclusion_proofs).toHaveLength(98);
    for (const p of v.inclusion_proofs) {
      const proof = (p.proof_b64 ?? []).map(b64);
      const ok = verifyInclusion(proof, p.tree_size, b64(p.root_b64), p.leaf_index, b64(p.leaf_hash_b64));
      expect(ok, p.id).toBe(p.expect_valid);
      if (!ok) {
        assertThrowsCode(
          () => checkInclusion(proof, p.tree_size, b64(p.root_b64), p.leaf_index, b64(p.leaf_hash_b64)),
          VerificationError,
          'PROOF_INVALID',
        );
      }
    }
  });

  it('gives the published outcome for all 98 consistency probes', () => {
    expect(v.consistency_proofs).toHaveLength(98);
    for (const p of v.consistency_proofs) {
      const proof = (p.proof_b64 ?? []).map(b64);
      const ok = verifyConsistency(proof, p.size1, p.size2, b64(p.root1_b64), b64(p.root2_b64));
      expect(ok, p.id).toBe(p.expect_valid);
    }
  });

  it('regenerates the published happy-path proofs byte for byte', () => {
    const t = new MemoryTree();
    for (const l of v.leaves) t.appendData(hex(l.input_hex));
    let inc = 0;
    for (const p of v.inclusion_proofs.filter((x) => x.id.endsWith('/happy-path'))) {
      const got = proveInclusion(p.tree_size, p.leaf_index, t).map(formatHex);
      expect(got, p.id).toEqual((p.proof_b64 ?? []).map((s) => formatHex(b64(s))));
      inc++;
    }
    let con = 0;
    for (const p of v.consistency_proofs.filter((x) => x.id.endsWith('/happy-path') && x.size1 > 0)) {
      const got = proveConsistency(p.size1, p.size2, t).map(formatHex);
      expect(got, p.id).toEqual((p.proof_b64 ?? []).map((s) => formatHex(b64(s))));
      con++;
    }
    // Five inclusion and five non-empty consistency happy paths in the source testdata.
    expect(inc).toBe(5);
    expect(con).toBe(5);
  });

  it('checks the real Rekor v2 inclusion proofs in checkpoints.json', () => {
    const cps = loadVectors<{ checkpoints: { id: string; inclusion?: any }[] }>('checkpoints.json').checkpoints;
    const withProof = cps.filter((c) => c.inclusion?.proof_b64);
    expect(withProof.length).toBe(2);
    for (const c of withProof) {
      const inc = c.inclusion;
      const leaf = leafHash(b64(inc.leaf_input_b64));
      expect(formatHex(leaf)).toBe(formatHex(b64(inc.leaf_hash_b64)));
      const proof = (inc.proof_b64 as string[]).map(b64);
      const root = b64(inc.root_hash_b64);
      expect(verifyInclusion(proof, inc.tree_size, root, inc.log_index, leaf), c.id).toBe(true);
      // Every single-bit flip of every proof hash must fail.
      for (let i = 0; i < proof.length; i++) {
        for (let bit = 0; bit < 256; bit += 37) {
          const bad = proof.map((h) => h.slice());
          bad[i]![bit >> 3]! ^= 1 << (bit & 7);
          expect(verifyInclusion(bad, inc.tree_size, root, inc.log_index, leaf)).toBe(false);
        }
      }
      expect(verifyInclusion(proof, inc.tree_size, root, inc.log_index - 1, leaf)).toBe(false);
      expect(verifyInclusion(proof, inc.tree_size + 1, root, inc.log_index, leaf)).toBe(false);
    }
  });
});

describe('proof requests out of range', () => {
  const t = new MemoryTree();
  for (let i = 0; i < 5; i++) t.appendData(new Uint8Array([i]));
  it('rejects index ≥ size and bad sizes with TREE_ARGUMENT_INVALID', () => {
    assertThrowsCode(() => proveInclusion(5, 5, t), ArgumentError, 'TREE_ARGUMENT_INVALID');
    assertThrowsCode(() => proveInclusion(5, -1, t), ArgumentError, 'TREE_ARGUMENT_INVALID');
    assertThrowsCode(() => proveInclusion(5, 1.5, t), ArgumentError, 'TREE_ARGUMENT_INVALID');
    assertThrowsCode(() => proveConsistency(0, 5, t), ArgumentError, 'TREE_ARGUMENT_INVALID');
    assertThrowsCode(() => proveConsistency(4, 3, t), ArgumentError, 'TREE_ARGUMENT_INVALID');
    assertThrowsCode(() => treeHash(-1, t), ArgumentError, 'TREE_ARGUMENT_INVALID');
  });
  it('rejects reading past the stored hashes', () => {
    assertThrowsCode(() => proveInclusion(6, 0, t), ArgumentError, 'TREE_ARGUMENT_INVALID');
  });
  it('nodeHash refuses a non-32-byte input (internal contract)', () => {
    expect(() => nodeHash(new Uint8Array(31), new Uint8Array(32))).toThrow();
  });
  it('checkConsistency throws PROOF_INVALID for a wrong root', () => {
    const p = proveConsistency(3, 5, t);
    assertThrowsCode(() => checkConsistency(p, 3, 5, treeHash(2, t), t.root()), VerificationError, 'PROOF_INVALID');
    expect(() => checkConsistency(p, 3, 5, treeHash(3, t), t.root())).not.toThrow();
  });
});
