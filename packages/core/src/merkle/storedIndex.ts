/**
 * Stored hash indexes: a dense linear order for every hash a log stores,
 * after Crosby & Wallach §3.3 and golang/mod `sumdb/tlog` `StoredHashIndex`.
 *
 * Appending leaf n stores its leaf hash at `storedHashIndex(0, n)` followed by
 * the hashes of every subtree that leaf completes (one per trailing 1-bit of
 * n), so storage is append-only and the tree of size n occupies exactly
 * `storedHashCount(n)` slots. Node (level L, index n) covers leaves
 * [n·2^L, (n+1)·2^L).
 *
 *     leaves:      0 1 | 2 3 | ...
 *     stored:      L0n0 L0n1 L1n0 | L0n2 L0n3 L1n1 L2n0 | ...
 *     index:       0    1    2    | 3    4    5    6
 */
import { fail } from '../errors.js';
import { POW2 } from './hash.js';

/** Number of trailing 1-bits of n (n < 2^53), without bitwise operators. */
export function trailingOnes(n: number): number {
  let c = 0;
  while (n % 2 === 1) {
    c++;
    n = (n - 1) / 2;
  }
  return c;
}

/**
 * Number of 1-bits of a safe integer. The value is split into two exact
 * 32-bit halves first, so the bitwise operators below only ever see numbers
 * below 2^32 (the one place core uses them on index math, for speed).
 */
export function popcount(n: number): number {
  if (n < 4294967296) return popcount32(n);
  const hi = Math.floor(n / 4294967296);
  return popcount32(n - hi * 4294967296) + popcount32(hi);
}

function popcount32(x: number): number {
  x = x >>> 0;
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24) & 0xff;
}

/**
 * The stored index of the hash at (level, n).
 * Level L's n-th hash is written right after level L+1's (2n+1)-th, i.e. with
 * leaf m = n·2^L + 2^L − 1; level 0's m-th hash is at m + ⌊m/2⌋ + ⌊m/4⌋ + … =
 * 2m − popcount(m) (golang/mod tlog.go computes the same sum with a loop).
 * @param level tree level, 0 for leaves.
 * @param n     index of the node within its level.
 */
export function storedHashIndex(level: number, n: number): number {
  const p = POW2[level]!;
  const m = n * p + p - 1;
  return 2 * m - popcount(m) + level;
}

/**
 * Inverse of {@link storedHashIndex}.
 * @returns `[level, n]` such that `storedHashIndex(level, n) === index`.
 * @throws ArgumentError `TREE_ARGUMENT_INVALID` for a negative or unsafe index.
 */
export function splitStoredHashIndex(index: number): [level: number, n: number] {
  if (!Number.isSafeInteger(index) || index < 0) fail('TREE_ARGUMENT_INVALID', `stored index ${index}`);
  // storedHashIndex(0, n) ≤ 2n, so the leaf we want is in [index/2, index/2 + log2(index)].
  let n = Math.floor(index / 2);
  let indexN = storedHashIndex(0, n);
  if (indexN > index) throw new Error('internal: bad math in splitStoredHashIndex');
  for (;;) {
    // Each new leaf n adds 1 + trailingOnes(n) hashes.
    const x = indexN + 1 + trailingOnes(n);
    if (x > index) break;
    n++;
    indexN = x;
  }
  const level = index - indexN;
  return [level, Math.floor(n / 2 ** level)];
}

/** Number of hashes stored for a tree of n leaves. */
export function storedHashCount(n: number): number {
  if (n === 0) return 0;
  return storedHashIndex(0, n - 1) + 1 + trailingOnes(n - 1);
}
