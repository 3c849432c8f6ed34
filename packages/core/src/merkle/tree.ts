/**
 * An append-only RFC 6962 Merkle tree over stored hashes.
 *
 * The tree is persistent and incremental: appending leaf n stores its hash
 * and the hashes of the subtrees it completes ({@link storedHashes}), which
 * is O(1) amortized and O(log n) worst case; the root and every proof read at
 * most O(log n) stored hashes. Nothing recomputes the whole tree.
 *
 * Storage sits behind {@link HashReader} (golang/mod `sumdb/tlog`): core never
 * touches a database. The functions that need stored hashes come in pairs —
 * `…Indexes` lists what to read, the other computes from what was read — so an
 * asynchronous store can fetch first and then call the synchronous math.
 */
import { fail } from '../errors.js';
import { type Hash, HASH_SIZE, emptyRoot, isTreeSize, leafHash, nodeHash, splitPoint } from './hash.js';
import { storedHashIndex, trailingOnes } from './storedIndex.js';
import { Frontier } from './frontier.js';

/**
 * Reads stored hashes by stored index (see `storedIndex.ts`).
 *
 * Contract: returns exactly one 32-byte hash per requested index, in the
 * same order, or throws. Callers pass indexes in increasing order where they
 * can, so sequential storage reads fast. The returned arrays may be views
 * into the store's memory; callers must not modify them.
 */
export interface HashReader {
  readHashes(indexes: readonly number[]): Hash[];
}

/** Reads through `r` and checks the contract. */
export function readChecked(r: HashReader, indexes: readonly number[]): Hash[] {
  if (indexes.length === 0) return [];
  const hashes = r.readHashes(indexes);
  if (hashes.length !== indexes.length) {
    throw new Error(`internal: readHashes(${indexes.length} indexes) returned ${hashes.length} hashes`);
  }
  return hashes;
}

/** Stored indexes of the left siblings that leaf n's new subtrees need, in increasing order. */
export function storedHashesIndexes(n: number): number[] {
  const m = trailingOnes(n);
  const indexes = new Array<number>(m);
  for (let i = 0; i < m; i++) {
    // n / 2^i is odd here; its left sibling at level i is n / 2^i − 1.
    indexes[m - 1 - i] = storedHashIndex(i, Math.floor(n / 2 ** i) - 1);
  }
  return indexes;
}

/**
 * The hashes to store when appending leaf n with hash `leaf`, to be written
 * starting at `storedHashIndex(0, n)`: the leaf hash, then one node hash per
 * subtree the leaf completes. Reads at most log2(n) earlier hashes.
 * @param n    index of the new leaf (= current tree size).
 * @param leaf its leaf hash ({@link leafHash}).
 * @param r    reader for the hashes already stored.
 */
export function storedHashes(n: number, leaf: Hash, r: HashReader): Hash[] {
  const old = readChecked(r, storedHashesIndexes(n));
  const m = old.length;
  const out = [leaf];
  let h = leaf;
  for (let i = 0; i < m; i++) {
    h = nodeHash(old[m - 1 - i]!, h);
    out.push(h);
  }
  return out;
}

/**
 * Stored indexes of the complete subtrees that make up leaves [lo, hi), left
 * to right (RFC 6962 §2.1 split, golang/mod `subTreeIndex`).
 */
export function subtreeIndexes(lo: number, hi: number, need: number[] = []): number[] {
  while (lo < hi) {
    const k = largestSubtree(lo, hi);
    const level = Math.log2(k);
    need.push(storedHashIndex(level, lo / k));
    lo += k;
  }
  return need;
}

/** Size of the largest complete subtree starting at lo within [lo, hi): splitPoint(hi − lo + 1). */
function largestSubtree(lo: number, hi: number): number {
  const k = splitPoint(hi - lo + 1);
  if (lo % k !== 0) throw new Error('internal: bad math in subtree decomposition');
  return k;
}

/**
 * Hash of leaves [lo, hi) from the hashes {@link subtreeIndexes} listed,
 * consumed from `hashes` starting at `pos`.
 * @returns the hash and the position after the consumed hashes.
 */
export function subtreeHash(lo: number, hi: number, hashes: readonly Hash[], pos: number): [Hash, number] {
  let count = 0;
  while (lo < hi) {
    lo += largestSubtree(lo, hi);
    count++;
  }
  if (pos + count > hashes.length) throw new Error('internal: bad index math in subtreeHash');
  // Fold right to left: the rightmost subtrees are the smallest.
  let h = hashes[pos + count - 1]!;
  for (let i = pos + count - 2; i >= pos; i--) h = nodeHash(hashes[i]!, h);
  return [h, pos + count];
}

/**
 * RFC 6962 §2.1 MTH of the first n leaves, from stored hashes: one read of at
 * most 1 + log2(n) hashes. The empty tree's root is SHA-256("").
 * @throws ArgumentError `TREE_ARGUMENT_INVALID` for a size that is not a safe integer ≥ 0.
 */
export function treeHash(n: number, r: HashReader): Hash {
  if (!isTreeSize(n)) fail('TREE_ARGUMENT_INVALID', `tree size ${n}`);
  if (n === 0) return emptyRoot();
  const hashes = readChecked(r, subtreeIndexes(0, n));
  const [h, pos] = subtreeHash(0, n, hashes, 0);
  if (pos !== hashes.length) throw new Error('internal: bad index math in treeHash');
  return h;
}

const CHUNK_HASHES = 1 << 15; // 1 MiB of hashes per chunk

/**
 * An in-memory tree: stored hashes in fixed-size chunks (no per-hash object),
 * plus the right-edge frontier so that appends read nothing.
 *
 * @example
 *   const t = new MemoryTree();
 *   t.appendData(new TextEncoder().encode('hello'));
 *   t.root();
 */
export class MemoryTree implements HashReader {
  #chunks: Uint8Array[] = [];
  #stored = 0;
  readonly #frontier = Frontier.empty();

  /** Number of leaves. */
  get size(): number {
    return this.#frontier.size;
  }

  /** Number of stored hashes (= storedHashCount(size)). */
  get storedCount(): number {
    return this.#stored;
  }

  /**
   * Appends a leaf by its hash.
   * @returns the new leaf's index.
   * @throws ParseError `HASH_INVALID` if `leaf` is not 32 bytes.
   */
  append(leaf: Hash): number {
    const n = this.size;
    for (const h of this.#frontier.append(leaf)) this.#put(h);
    return n;
  }

  /** Appends a leaf by its input bytes (hashed with {@link leafHash}). */
  appendData(data: Uint8Array): number {
    return this.append(leafHash(data));
  }

  /** RFC 6962 MTH of the current tree, from the frontier (no reads). */
  root(): Hash {
    return this.#frontier.root();
  }

  /** The stored hash at `index` (a view; do not modify). */
  readHash(index: number): Hash {
    // `index < stored` and `stored` is a safe integer, so NaN and too-large fail here too.
    if (!(index >= 0 && index < this.#stored) || !Number.isInteger(index)) {
      fail('TREE_ARGUMENT_INVALID', `stored index ${index} not in [0, ${this.#stored})`);
    }
    const c = Math.floor(index / CHUNK_HASHES);
    const off = (index - c * CHUNK_HASHES) * HASH_SIZE;
    return this.#chunks[c]!.subarray(off, off + HASH_SIZE);
  }

  readHashes(indexes: readonly number[]): Hash[] {
    const out = new Array<Hash>(indexes.length);
    for (let i = 0; i < indexes.length; i++) out[i] = this.readHash(indexes[i]!);
    return out;
  }

  #put(h: Hash): void {
    const c = Math.floor(this.#stored / CHUNK_HASHES);
    if (c === this.#chunks.length) this.#chunks.push(new Uint8Array(CHUNK_HASHES * HASH_SIZE));
    this.#chunks[c]!.set(h, (this.#stored % CHUNK_HASHES) * HASH_SIZE);
    this.#stored++;
  }
}
