/**
 * Merkle math tested exhaustively for every tree size up to 130 (crossing
 * several powers of two), by mutation, and by property over sizes up to
 * 10,000, against an independent oracle written straight from the RFC 6962
 * §2.1 definitions (MTH, PATH, PROOF/SUBPROOF) over the leaf list.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryTree,
  type Hash,
  leafHash,
  nodeHash,
  proveConsistency,
  proveInclusion,
  splitStoredHashIndex,
  storedHashCount,
  storedHashIndex,
  storedHashes,
  treeHash,
  verifyConsistency,
  verifyInclusion,
  emptyRoot,
  splitPoint,
  Frontier,
  frontierIndexes,
} from '../src/merkle/index.js';
import { ArgumentError } from '../src/errors.js';
import { formatHex } from '../src/encoding.js';
import { setCrypto } from '../src/crypto/provider.js';
import { nodeCrypto } from '../src/crypto/node.js';

// --- Oracle: RFC 6962 §2.1 verbatim, recursive over leaf hashes. -------------
function k(n: number): number {
  let p = 1;
  while (p * 2 < n) p *= 2;
  return p;
}
function mth(d: Hash[]): Hash {
  if (d.length === 0) return emptyRoot();
  if (d.length === 1) return d[0]!;
  const s = k(d.length);
  return nodeHash(mth(d.slice(0, s)), mth(d.slice(s)));
}
function path(m: number, d: Hash[]): Hash[] {
  if (d.length <= 1) return [];
  const s = k(d.length);
  return m < s ? [...path(m, d.slice(0, s)), mth(d.slice(s))] : [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}
function subproof(m: number, d: Hash[], b: boolean): Hash[] {
  const n = d.length;
  if (m === n) return b ? [] : [mth(d)];
  const s = k(n);
  return m <= s
    ? [...subproof(m, d.slice(0, s), b), mth(d.slice(s))]
    : [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}
const hexes = (hs: Hash[]) => hs.map(formatHex);

function flipBit(h: Uint8Array, bit: number): Uint8Array {
  const c = h.slice();
  c[Math.floor(bit / 8)]! ^= 2 ** (bit % 8);
  return c;
}

const MAX = 130;
const leaves: Hash[] = [];
const tree = new MemoryTree();
const roots: Hash[] = [];

beforeAll(() => {
  setCrypto(nodeCrypto);
  roots.push(tree.root());
  for (let i = 0; i < 10_000; i++) {
    const h = leafHash(new TextEncoder().encode(`leaf ${i}`));
    leaves.push(h);
    tree.append(h);
    roots.push(tree.root());
  }
});

describe('index math', () => {
  it('splitPoint(n) is the largest power of two below n, up to 2^53 (property)', () => {
    const naive = (n: number) => {
      let p = 1;
      while (p * 2 < n) p *= 2;
      return p;
    };
    for (let n = 2; n < 5000; n++) expect(splitPoint(n)).toBe(naive(n));
    for (let e = 1; e <= 53; e++) for (const d of [-1, 0, 1, 2]) {
      const n = 2 ** e + d;
      if (n >= 2 && n <= Number.MAX_SAFE_INTEGER) expect(splitPoint(n)).toBe(naive(n));
    }
    fc.assert(
      fc.property(fc.integer({ min: 2, max: Number.MAX_SAFE_INTEGER }), (n) => {
        expect(splitPoint(n)).toBe(naive(n));
      }),
    );
  });
  it('storedHashIndex agrees with the loop of golang/mod tlog.go, beyond 2^32 too', () => {
    const goIndex = (level: number, n: number) => {
      for (let l = level; l > 0; l--) n = 2 * n + 1;
      let i = 0;
      for (; n > 0; n = Math.floor(n / 2)) i += n;
      return i + level;
    };
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 2 ** 38 }), (l, n) => {
        expect(storedHashIndex(l, n)).toBe(goIndex(l, n));
      }),
    );
  });
});

describe('stored hash indexes', () => {
  it('split(storedHashIndex(l, n)) = (l, n) for every stored hash of a 2000-leaf tree', () => {
    const count = storedHashCount(2000);
    const seen = new Set<number>();
    for (let i = 0; i < count; i++) {
      const [l, n] = splitStoredHashIndex(i);
      expect(storedHashIndex(l, n)).toBe(i);
      seen.add(i);
    }
    expect(seen.size).toBe(count);
  });
  it('round-trips for random (level, n) up to 2^40 (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 2 ** 38 }), (l, n) => {
        expect(splitStoredHashIndex(storedHashIndex(l, n))).toEqual([l, n]);
      }),
    );
  });
  it('the memory tree stores exactly storedHashCount(n) hashes, matching storedHashes()', () => {
    const t = new MemoryTree();
    for (let n = 0; n < 300; n++) {
      const expected = storedHashes(n, leaves[n]!, t);
      const before = t.storedCount;
      t.append(leaves[n]!);
      expect(t.storedCount).toBe(storedHashCount(n + 1));
      expect(hexes(t.readHashes(expected.map((_, i) => before + i)))).toEqual(hexes(expected));
    }
  });
});

describe(`every tree size 0..${MAX}`, () => {
  it('root = RFC 6962 MTH, from the frontier and from stored hashes', () => {
    for (let n = 0; n <= MAX; n++) {
      const want = formatHex(mth(leaves.slice(0, n)));
      expect(formatHex(roots[n]!)).toBe(want);
      expect(formatHex(treeHash(n, tree))).toBe(want);
    }
  });

  it('every inclusion proof equals PATH(m, D[n]) and verifies; every mutation fails', () => {
    for (let n = 1; n <= MAX; n++) {
      const d = leaves.slice(0, n);
      for (let m = 0; m < n; m++) {
        const p = proveInclusion(n, m, tree);
        expect(hexes(p)).toEqual(hexes(path(m, d)));
        expect(verifyInclusion(p, n, roots[n]!, m, leaves[m]!)).toBe(true);
        // Wrong index, wrong size, wrong leaf, wrong root, truncated or padded proof.
        if (n > 1) expect(verifyInclusion(p, n, roots[n]!, (m + 1) % n, leaves[m]!)).toBe(false);
        expect(verifyInclusion(p, n + 1, roots[n + 1]!, m, leaves[m]!)).toBe(false);
        if (n > 1) expect(verifyInclusion(p, n - 1, roots[n - 1]!, Math.min(m, n - 2), leaves[m]!)).toBe(false);
        expect(verifyInclusion(p, n, roots[n]!, m, flipBit(leaves[m]!, (m * 7) % 256))).toBe(false);
        expect(verifyInclusion(p, n, flipBit(roots[n]!, (n * 11) % 256), m, leaves[m]!)).toBe(false);
        if (p.length > 0) expect(verifyInclusion(p.slice(1), n, roots[n]!, m, leaves[m]!)).toBe(false);
        expect(verifyInclusion([...p, leaves[0]!], n, roots[n]!, m, leaves[m]!)).toBe(false);
        // Flip one bit in each proof hash (every bit, for small trees).
        for (let i = 0; i < p.length; i++) {
          const bits = n <= 16 ? 256 : 1;
          for (let b = 0; b < bits; b++) {
            const bit = n <= 16 ? b : (m * 31 + i * 17) % 256;
            const bad = p.slice();
            bad[i] = flipBit(p[i]!, bit);
            expect(verifyInclusion(bad, n, roots[n]!, m, leaves[m]!)).toBe(false);
          }
        }
      }
    }
  });

  it('every consistency proof equals PROOF(m, D[n]) and verifies; every mutation fails', () => {
    for (let n = 1; n <= MAX; n++) {
      const d = leaves.slice(0, n);
      for (let m = 1; m <= n; m++) {
        const p = proveConsistency(m, n, tree);
        expect(hexes(p)).toEqual(hexes(m === n ? [] : subproof(m, d, true)));
        expect(verifyConsistency(p, m, n, roots[m]!, roots[n]!)).toBe(true);
        if (m === n) continue;
        expect(verifyConsistency(p, m, n, roots[m - 1]!, roots[n]!)).toBe(false);
        expect(verifyConsistency(p, m, n, roots[m]!, roots[n - 1]!)).toBe(false);
        expect(verifyConsistency(p, m, n + 1, roots[m]!, roots[n + 1]!)).toBe(false);
        if (m > 1) expect(verifyConsistency(p, m - 1, n, roots[m - 1]!, roots[n]!)).toBe(false);
        expect(verifyConsistency(p.slice(1), m, n, roots[m]!, roots[n]!)).toBe(false);
        expect(verifyConsistency(p.slice(0, -1), m, n, roots[m]!, roots[n]!)).toBe(false);
        expect(verifyConsistency([...p, leaves[0]!], m, n, roots[m]!, roots[n]!)).toBe(false);
        for (let i = 0; i < p.length; i++) {
          const bits = n <= 16 ? 256 : 1;
          for (let b = 0; b < bits; b++) {
            const bit = n <= 16 ? b : (m * 13 + i * 29) % 256;
            const bad = p.slice();
            bad[i] = flipBit(p[i]!, bit);
            expect(verifyConsistency(bad, m, n, roots[m]!, roots[n]!)).toBe(false);
          }
        }
      }
    }
  });
});

describe('random trees up to 10,000 leaves (property)', () => {
  const sizeAndIndex = fc.integer({ min: 1, max: 10_000 }).chain((n) => fc.tuple(fc.constant(n), fc.integer({ min: 0, max: n - 1 })));

  it('inclusion proofs verify; flipping any bit of proof, leaf or root, or changing index or size, fails', () => {
    fc.assert(
      fc.property(sizeAndIndex, fc.nat(), fc.integer({ min: 1, max: 9_999 }), ([n, m], r, delta) => {
        const p = proveInclusion(n, m, tree);
        expect(verifyInclusion(p, n, roots[n]!, m, leaves[m]!)).toBe(true);
        const bit = r % 256;
        if (p.length > 0) {
          const bad = p.slice();
          const i = r % p.length;
          bad[i] = flipBit(p[i]!, bit);
          expect(verifyInclusion(bad, n, roots[n]!, m, leaves[m]!)).toBe(false);
        }
        expect(verifyInclusion(p, n, roots[n]!, m, flipBit(leaves[m]!, bit))).toBe(false);
        expect(verifyInclusion(p, n, flipBit(roots[n]!, bit), m, leaves[m]!)).toBe(false);
        const m2 = (m + delta) % n;
        if (m2 !== m) expect(verifyInclusion(p, n, roots[n]!, m2, leaves[m]!)).toBe(false);
        const n2 = ((n - 1 + delta) % 10_000) + 1;
        // A proof fixes the tree's shape, not its size: the size is bound to the
        // root by the signed checkpoint, so another size comes with its own root.
        if (n2 !== n && m < n2) expect(verifyInclusion(p, n2, roots[n2]!, m, leaves[m]!)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });

  it('consistency proofs verify between any two sizes; flipping any bit or changing a size fails', () => {
    const sizes = fc.integer({ min: 1, max: 10_000 }).chain((n) => fc.tuple(fc.integer({ min: 1, max: n }), fc.constant(n)));
    fc.assert(
      fc.property(sizes, fc.nat(), fc.integer({ min: 1, max: 9_999 }), ([m, n], r, delta) => {
        const p = proveConsistency(m, n, tree);
        expect(verifyConsistency(p, m, n, roots[m]!, roots[n]!)).toBe(true);
        if (m === n) return;
        const bit = r % 256;
        const bad = p.slice();
        const i = r % p.length;
        bad[i] = flipBit(p[i]!, bit);
        expect(verifyConsistency(bad, m, n, roots[m]!, roots[n]!)).toBe(false);
        expect(verifyConsistency(p, m, n, flipBit(roots[m]!, bit), roots[n]!)).toBe(false);
        expect(verifyConsistency(p, m, n, roots[m]!, flipBit(roots[n]!, bit))).toBe(false);
        const m2 = ((m - 1 + delta) % n) + 1;
        if (m2 !== m) expect(verifyConsistency(p, m2, n, roots[m2]!, roots[n]!)).toBe(false);
        const n2 = m + ((n - m + delta) % (10_000 - m + 1));
        if (n2 !== n) expect(verifyConsistency(p, m, n2, roots[m]!, roots[n2]!)).toBe(false);
      }),
      { numRuns: 500 },
    );
  });
});

describe('Frontier (a log writer restarting from stored hashes)', () => {
  it('restored at any size, it appends exactly what the tree stores and reaches the same roots', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 300 }), (start, more) => {
        const f = Frontier.restore(start, tree.readHashes(frontierIndexes(start)));
        expect(formatHex(f.root())).toBe(formatHex(roots[start]!));
        for (let i = start; i < start + more; i++) {
          const stored = f.append(leaves[i]!);
          const at = storedHashIndex(0, i);
          expect(hexes(stored)).toEqual(hexes(tree.readHashes(stored.map((_, k) => at + k))));
          expect(formatHex(f.root())).toBe(formatHex(roots[i + 1]!));
        }
      }),
      { numRuns: 60 },
    );
  });
  it('refuses a hash list that does not fit the size', () => {
    expect(() => Frontier.restore(5, [])).toThrow(ArgumentError);
    expect(() => Frontier.restore(4, tree.readHashes(frontierIndexes(5)))).toThrow(ArgumentError);
  });
  it('clones independently', () => {
    const f = Frontier.restore(10, tree.readHashes(frontierIndexes(10)));
    const g = f.clone();
    g.append(leaves[10]!);
    expect(f.size).toBe(10);
    expect(formatHex(f.root())).toBe(formatHex(roots[10]!));
    expect(formatHex(g.root())).toBe(formatHex(roots[11]!));
  });
});
