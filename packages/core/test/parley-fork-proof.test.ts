/**
 * Fork proofs (src/federation/fork.ts) and prefix proofs
 * (src/federation/prefix.ts): the pinned vectors of
 * test/vectors/parley/fork-v1.json (regenerated only on purpose by
 * make-fork-v1.ts), real forked logs in MemoryTrees signed with the
 * channel-v1 keys, mutation of every byte, honest pairs that must never
 * become proofs, and properties over random tree sizes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type ForkProof,
  type SignedAccord,
  type VerifiedAccord,
  FORK_KINDS,
  ParleyError,
  ParseError,
  VerificationError,
  ArgumentError,
  canonicalize,
  cosign,
  cosignerKey,
  detectFork,
  encodeUtf8,
  formatBase64,
  formatCheckpoint,
  formatForkProof,
  leafConflictProof,
  parseCheckpoint,
  parseForkProof,
  parseNote,
  prefixConflictProof,
  prefixRootFromProof,
  proveConsistency,
  proveInclusion,
  provePrefixRoot,
  signAccord,
  signerKeyFromSeed,
  treeHash,
  verifyAccord,
  verifyForkProof,
} from '../src/index.js';
import { providers, useProvider } from './helpers/providers.js';
import { assertThrowsCode, onlyParleyErrors } from './helpers/assert.js';
import { OWN_VECTORS_DIR } from './helpers/vectors.js';
import { FORK_V1, channelAccord, forkLeaf, forkTree, logKey, usCheckpoint } from './helpers/fork.js';

interface ForkVector {
  forks: Record<(typeof FORK_KINDS)[number], string>;
}

const vec = JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'parley/fork-v1.json'), 'utf8')) as ForkVector;
const { forkAt, older, newer, cosignedAt } = FORK_V1;

/** Every pinned proof, rebuilt from the recipe. */
function rebuild(accord: VerifiedAccord): Record<(typeof FORK_KINDS)[number], ForkProof> {
  const honest = forkTree(newer);
  const forked = forkTree(newer, forkAt);
  const olderNote = usCheckpoint(honest, older, cosignedAt);
  return {
    'same-size': detectFork(accord, 'US', usCheckpoint(honest, newer, cosignedAt), usCheckpoint(forked, newer))!,
    'leaf-conflict': leafConflictProof(
      accord,
      'US',
      forkAt,
      { note: olderNote, leafHash: forkLeaf(forkAt, false), proof: proveInclusion(older, forkAt, honest) },
      { note: usCheckpoint(forked, newer), leafHash: forkLeaf(forkAt, true), proof: proveInclusion(newer, forkAt, forked) },
    )!,
    'prefix-conflict': prefixConflictProof(accord, 'US', olderNote, usCheckpoint(forked, newer), provePrefixRoot(older, newer, forked))!,
  };
}

/** A second accord: same parties and keys, another name, so another id. */
function otherAccord(): VerifiedAccord {
  let s: SignedAccord = { accord: { ...channelAccord().accord, name: 'another-channel' }, signatures: [] };
  s = signAccord(s, 'US', logKey('US'));
  s = signAccord(s, 'CN', logKey('CN'));
  return verifyAccord(s);
}

describe.each(providers)('fork proofs with $name', (provider) => {
  useProvider(provider);

  it('rebuilds the pinned proof of each kind byte for byte, and verifies it', () => {
    const accord = channelAccord();
    const built = rebuild(accord);
    for (const kind of FORK_KINDS) {
      expect(formatForkProof(built[kind]), kind).toBe(vec.forks[kind]);
      const v = verifyForkProof(vec.forks[kind], accord);
      expect(v.kind).toBe(kind);
      expect(v.party).toBe('US');
      expect(v.accord).toBe(accord.id);
      expect(v.text).toBe(vec.forks[kind]);
      expect(formatForkProof(parseForkProof(vec.forks[kind]))).toBe(vec.forks[kind]);
      expect(verifyForkProof(encodeUtf8(vec.forks[kind]), accord).text).toBe(vec.forks[kind]);
    }
    const leaf = verifyForkProof(vec.forks['leaf-conflict'], accord);
    expect(leaf.index).toBe(forkAt);
    expect(leaf.a.checkpoint.treeSize).toBe(older);
    expect(leaf.b.checkpoint.treeSize).toBe(newer);
    expect(leaf.a.cosignatures).toEqual([{ party: 'CN', timestamp: cosignedAt }]);
    expect(leaf.b.cosignatures).toEqual([]);
    expect(formatBase64(leaf.a.leaf!)).toBe(formatBase64(forkLeaf(forkAt, false)));
    expect(formatBase64(leaf.b.leaf!)).toBe(formatBase64(forkLeaf(forkAt, true)));
    const prefix = verifyForkProof(vec.forks['prefix-conflict'], accord);
    expect(formatBase64(prefix.prefixRoot!)).toBe(formatBase64(treeHash(older, forkTree(older, forkAt))));
    expect(prefix.index).toBeUndefined();
  });

  it('fails or verifies identically under every single-byte change of every pinned proof', () => {
    const accord = channelAccord();
    for (const kind of FORK_KINDS) {
      const bytes = encodeUtf8(vec.forks[kind]);
      const want = verifyForkProof(bytes, accord).text;
      for (let i = 0; i < bytes.length; i++) {
        for (const flip of [0x01, 0x20]) {
          const m = bytes.slice();
          m[i]! ^= flip;
          const e = onlyParleyErrors(() => {
            expect(verifyForkProof(m, accord).text).toBe(want);
          });
          if (e) expect(['FORK_PROOF_MALFORMED', 'FORK_PROOF_INVALID'], `${kind} byte ${i}`).toContain(e.code);
        }
      }
    }
  });

  it('never turns an honest pair of consistent checkpoints into a proof', () => {
    const accord = channelAccord();
    const honest = forkTree(newer);
    const a = usCheckpoint(honest, older, cosignedAt);
    const b = usCheckpoint(honest, newer);
    expect(detectFork(accord, 'US', a, b)).toBeUndefined();
    expect(detectFork(accord, 'US', b, usCheckpoint(honest, newer, cosignedAt))).toBeUndefined();
    expect(prefixConflictProof(accord, 'US', a, b, provePrefixRoot(older, newer, honest))).toBeUndefined();
    const ev = (note: string, size: number) => ({ note, leafHash: forkLeaf(3, false), proof: proveInclusion(size, 3, honest) });
    expect(leafConflictProof(accord, 'US', 3, ev(a, older), ev(b, newer))).toBeUndefined();
    // A lie about a leaf does not verify, so it is no evidence.
    assertThrowsCode(
      () => leafConflictProof(accord, 'US', 3, ev(a, older), { ...ev(b, newer), leafHash: forkLeaf(3, true) }),
      VerificationError,
      'PROOF_INVALID',
    );
    // A prefix proof that does not authenticate under b is only the log's word.
    const bogus = provePrefixRoot(older, newer, forkTree(newer, forkAt));
    assertThrowsCode(() => prefixConflictProof(accord, 'US', a, b, bogus), VerificationError, 'PROOF_INVALID');
    assertThrowsCode(() => prefixConflictProof(accord, 'US', b, a, []), ArgumentError, 'TREE_ARGUMENT_INVALID');

    // Hand-made documents over the honest pair, of every kind, fail.
    const base = { v: 1, type: 'parley/fork-proof', accord: accord.id, party: 'US' } as const;
    const proofOf = (size: number, i: number) => proveInclusion(size, i, honest).map((h) => formatBase64(h));
    const attempts: ForkProof[] = [
      { ...base, kind: 'same-size', a: { checkpoint: b }, b: { checkpoint: usCheckpoint(honest, newer, cosignedAt) } },
      { ...base, kind: 'same-size', a: { checkpoint: a }, b: { checkpoint: b } },
      { ...base, kind: 'prefix-conflict', a: { checkpoint: a }, b: { checkpoint: b, proof: provePrefixRoot(older, newer, honest).map((h) => formatBase64(h)) } },
      { ...base, kind: 'prefix-conflict', a: { checkpoint: a }, b: { checkpoint: b, proof: bogus.map((h) => formatBase64(h)) } },
      { ...base, kind: 'prefix-conflict', a: { checkpoint: b }, b: { checkpoint: a, proof: proofOf(older, 0) } },
      {
        ...base,
        kind: 'leaf-conflict',
        index: 3,
        a: { checkpoint: a, leaf: formatBase64(forkLeaf(3, false)), proof: proofOf(older, 3) },
        b: { checkpoint: b, leaf: formatBase64(forkLeaf(3, false)), proof: proofOf(newer, 3) },
      },
      {
        ...base,
        kind: 'leaf-conflict',
        index: 3,
        a: { checkpoint: a, leaf: formatBase64(forkLeaf(3, false)), proof: proofOf(older, 3) },
        b: { checkpoint: b, leaf: formatBase64(forkLeaf(4, false)), proof: proofOf(newer, 4) },
      },
      {
        ...base,
        kind: 'leaf-conflict',
        index: older,
        a: { checkpoint: a, leaf: formatBase64(forkLeaf(older, false)), proof: proofOf(newer, older) },
        b: { checkpoint: b, leaf: formatBase64(forkLeaf(older, true)), proof: proofOf(newer, older) },
      },
    ];
    for (const p of attempts) assertThrowsCode(() => verifyForkProof(p, accord), VerificationError, 'FORK_PROOF_INVALID');
  });

  it('rejects a proof claimed for another party or another accord', () => {
    const accord = channelAccord();
    for (const kind of FORK_KINDS) {
      const asCN = vec.forks[kind].replace('"party":"US"', '"party":"CN"');
      expect(asCN).not.toBe(vec.forks[kind]);
      assertThrowsCode(() => verifyForkProof(asCN, accord), VerificationError, 'FORK_PROOF_INVALID');
      const asFR = vec.forks[kind].replace('"party":"US"', '"party":"FR"');
      assertThrowsCode(() => verifyForkProof(asFR, accord), VerificationError, 'FORK_PROOF_INVALID');
      assertThrowsCode(() => verifyForkProof(vec.forks[kind], otherAccord()), VerificationError, 'FORK_PROOF_INVALID');
    }
    // CN's key signing a checkpoint with US's origin is not US's log.
    const honest = forkTree(4);
    assertThrowsCode(() => detectFork(accord, 'CN', usCheckpoint(honest, 4), usCheckpoint(forkTree(4, 0), 4)), VerificationError, 'NOTE_UNVERIFIED');
    assertThrowsCode(() => detectFork(accord, 'FR', usCheckpoint(honest, 4), usCheckpoint(honest, 4)), VerificationError, 'FORK_PROOF_INVALID');
  });

  it('drops grease and foreign signatures when building, and refuses them in a proof', () => {
    const accord = channelAccord();
    const honest = forkTree(newer);
    const forked = forkTree(newer, forkAt);
    const grease = signerKeyFromSeed('grease.example/witness', new Uint8Array(32).fill(7));
    const cpText = (t: typeof honest) => formatCheckpoint(parseCheckpoint(parseNote(usCheckpoint(t, newer)).text));
    const greased = (t: typeof honest) => usCheckpoint(t, newer, cosignedAt, [cosign(cpText(t), cosignerKey(grease), 1), cosign(cpText(t), cosignerKey(logKey('US')), 2)]);
    const p = detectFork(accord, 'US', greased(honest), greased(forked))!;
    expect(p.a.checkpoint).toBe(usCheckpoint(honest, newer, cosignedAt));
    expect(p.b.checkpoint).toBe(usCheckpoint(forked, newer, cosignedAt));
    const v = verifyForkProof(p, accord);
    expect(v.a.cosignatures).toEqual([{ party: 'CN', timestamp: cosignedAt }]);
    assertThrowsCode(() => verifyForkProof({ ...p, a: { checkpoint: greased(honest) } }, accord), VerificationError, 'FORK_PROOF_INVALID');
    // A known cosigner whose signature fails sinks the whole note, in the builder and in the proof.
    const badCosig = usCheckpoint(honest, newer, undefined, [{ ...cosign(cpText(forked), cosignerKey(logKey('CN')), cosignedAt) }]);
    assertThrowsCode(() => detectFork(accord, 'US', badCosig, usCheckpoint(forked, newer)), VerificationError, 'SIGNATURE_INVALID');
    assertThrowsCode(() => verifyForkProof({ ...p, a: { checkpoint: badCosig } }, accord), VerificationError, 'FORK_PROOF_INVALID');
  });

  it('builds and verifies leaf- and prefix-conflict proofs for random sizes and fork points (property)', () => {
    const accord = channelAccord();
    const honest = forkTree(70);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 }), fc.nat(), fc.boolean(), (m, n, r, swap) => {
        const at = r % Math.min(m, n);
        const forked = forkTree(Math.max(m, n), at);
        const na = usCheckpoint(honest, m, cosignedAt);
        const nb = usCheckpoint(forked, n);
        const i = at + (r % (Math.min(m, n) - at)); // any index at or after the fork point
        const ea = { note: na, leafHash: forkLeaf(i, false), proof: proveInclusion(m, i, honest) };
        const eb = { note: nb, leafHash: forkLeaf(i, true), proof: proveInclusion(n, i, forked) };
        const p = swap ? leafConflictProof(accord, 'US', i, eb, ea)! : leafConflictProof(accord, 'US', i, ea, eb)!;
        const v = verifyForkProof(formatForkProof(p), accord);
        expect(v.kind).toBe('leaf-conflict');
        expect(v.index).toBe(i);
        // Below the fork point both logs agree: no proof.
        if (at > 0) {
          const j = r % at;
          const ok = (note: string, size: number, t: typeof honest) => ({ note, leafHash: forkLeaf(j, false), proof: proveInclusion(size, j, t) });
          expect(leafConflictProof(accord, 'US', j, ok(na, m, honest), ok(nb, n, forked))).toBeUndefined();
        }
        if (m === n) expect(detectFork(accord, 'US', na, nb)?.kind).toBe('same-size');
        else expect(detectFork(accord, 'US', na, nb)).toBeUndefined();
        const [lo, hi, loNote, hiNote, hiTree] = m < n ? [m, n, na, nb, forked] : [n, m, nb, na, honest];
        if (lo < hi) {
          const pp = prefixConflictProof(accord, 'US', loNote, hiNote, provePrefixRoot(lo, hi, hiTree))!;
          expect(verifyForkProof(pp, accord).kind).toBe('prefix-conflict');
          const same = usCheckpoint(hiTree, lo);
          expect(prefixConflictProof(accord, 'US', same, hiNote, provePrefixRoot(lo, hi, hiTree))).toBeUndefined();
        }
      }),
      { numRuns: provider.name === 'node:crypto' ? 120 : 40 },
    );
  });
});

describe('fork proof format', () => {
  const text = vec.forks['leaf-conflict'];
  const doc = JSON.parse(text) as Record<string, any>;
  const canon = (v: unknown) => canonicalize(v);

  it('parses strictly: canonical JSON, closed members per kind, 32-byte hashes, canonical notes', () => {
    const sameSize = JSON.parse(vec.forks['same-size']) as Record<string, any>;
    const bad: string[] = [
      `${text}\n`,
      ` ${text}`,
      JSON.stringify(doc, null, 1),
      canon({ ...doc, extra: 1 }),
      canon({ ...doc, v: 2 }),
      canon({ ...doc, type: 'parley/fork' }),
      canon({ ...doc, kind: 'other' }),
      canon({ ...doc, accord: doc['accord'].toUpperCase() }),
      canon({ ...doc, party: 'us' }),
      canon({ ...doc, index: -1 }),
      canon({ ...doc, index: 1.5 }),
      canon({ ...sameSize, index: 0 }),
      canon(Object.fromEntries(Object.entries(doc).filter(([k]) => k !== 'index'))),
      canon({ ...doc, kind: 'same-size' }),
      canon({ ...doc, kind: 'prefix-conflict' }),
      canon({ ...doc, a: { ...doc['a'], leaf: formatBase64(new Uint8Array(33)).slice(0, 44) } }),
      canon({ ...doc, a: { ...doc['a'], leaf: 'A'.repeat(44) } }),
      canon({ ...doc, a: { ...doc['a'], proof: ['x'] } }),
      canon({ ...doc, a: { ...doc['a'], proof: Array(65).fill(doc['a'].proof[0]) } }),
      canon({ ...doc, a: { ...doc['a'], checkpoint: doc['a'].checkpoint.replace('\n\n', '\n') } }),
      canon({ ...doc, a: { ...doc['a'], checkpoint: 'not a note' } }),
      canon({ ...doc, b: { checkpoint: doc['b'].checkpoint } }),
      canon([doc]),
      'null',
      '',
      '{"a":',
    ];
    for (const b of bad) assertThrowsCode(() => parseForkProof(b), ParseError, 'FORK_PROOF_MALFORMED');
    assertThrowsCode(() => parseForkProof('"' + 'x'.repeat(300 * 1024) + '"'), ParseError, 'INPUT_TOO_LARGE');
    expect(() => formatForkProof({ ...doc, extra: 1 } as unknown as ForkProof)).toThrow(ParleyError);
  });

  it('never crashes on garbage (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length - 1 }), fc.string({ maxLength: 4 }), (at, ins) => {
        const mutated = text.slice(0, at) + ins + text.slice(at + 1);
        onlyParleyErrors(() => parseForkProof(mutated));
      }),
    );
  });
});

describe.each(providers)('prefix proofs with $name', (provider) => {
  useProvider(provider);
  it('yield the prefix root for every 1 ≤ m < n ≤ 40, equal the consistency proof unless m is a power of two, and fail on any flipped bit', () => {
    const t = forkTree(40);
    for (let n = 2; n <= 40; n++) {
      const root = treeHash(n, t);
      for (let m = 1; m < n; m++) {
        const p = provePrefixRoot(m, n, t);
        expect(formatBase64(prefixRootFromProof(p, m, n, root)!)).toBe(formatBase64(treeHash(m, t)));
        const c = proveConsistency(m, n, t);
        expect(p.slice(p.length - c.length).map((h) => formatBase64(h))).toEqual(c.map((h) => formatBase64(h)));
        expect(p.length - c.length).toBe(Number.isInteger(Math.log2(m)) ? 1 : 0);
        for (let k = 0; k < p.length; k++) {
          const flipped = p.map((h, j) => (j === k ? h.map((b, x) => (x === (m + n) % 32 ? b ^ 1 : b)) : h));
          expect(prefixRootFromProof(flipped, m, n, root)).toBeUndefined();
        }
        expect(prefixRootFromProof(p.slice(1), m, n, root)).toBeUndefined();
        expect(prefixRootFromProof([...p, root], m, n, root)).toBeUndefined();
        expect(prefixRootFromProof(p, m, n, treeHash(n - 1 > m ? n - 1 : n, forkTree(n, 0)))).toBeUndefined();
      }
    }
    expect(prefixRootFromProof([], 1, 2, treeHash(2, t))).toBeUndefined();
    expect(prefixRootFromProof(provePrefixRoot(1, 2, t), 2, 2, treeHash(2, t))).toBeUndefined();
    assertThrowsCode(() => provePrefixRoot(0, 2, t), ArgumentError, 'TREE_ARGUMENT_INVALID');
    assertThrowsCode(() => provePrefixRoot(2, 2, t), ArgumentError, 'TREE_ARGUMENT_INVALID');
  });
});
