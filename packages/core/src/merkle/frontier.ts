/**
 * The right edge of an RFC 6962 tree: the roots of its complete subtrees,
 * largest first (a "compact range" [0, size)). It is all a log writer needs
 * to append: each new leaf merges with the frontier's equal-sized subtrees,
 * and the hashes it creates are exactly the ones to store at
 * `storedHashIndex(0, n)` onwards (see storedIndex.ts). The root is the
 * frontier folded right to left (RFC 6962 §2.1 split).
 *
 * A writer restores its frontier after a restart from one read of the stored
 * hashes at {@link frontierIndexes}`(size)`.
 *
 * @example
 *   const f = Frontier.restore(size, await store.readHashes(frontierIndexes(size)));
 *   const toStore = f.append(leafHash(entry)); // write at storedHashIndex(0, size)
 *   f.root();
 */
import { fail } from '../errors.js';
import { type Hash, assertHash, emptyRoot, isTreeSize, nodeHash } from './hash.js';
import { subtreeIndexes } from './tree.js';

/** Stored indexes of the frontier of a tree of `size` leaves, largest subtree first. */
export function frontierIndexes(size: number): number[] {
  if (!isTreeSize(size)) fail('TREE_ARGUMENT_INVALID', `tree size ${size}`);
  return subtreeIndexes(0, size);
}

export class Frontier {
  #size: number;
  readonly #hashes: Hash[];

  private constructor(size: number, hashes: Hash[]) {
    this.#size = size;
    this.#hashes = hashes;
  }

  /** The frontier of the empty tree. */
  static empty(): Frontier {
    return new Frontier(0, []);
  }

  /**
   * Rebuilds the frontier from the stored hashes at {@link frontierIndexes}(size).
   * @throws ArgumentError `TREE_ARGUMENT_INVALID` when the hash count does not fit the size.
   */
  static restore(size: number, hashes: readonly Hash[]): Frontier {
    const want = frontierIndexes(size).length;
    if (hashes.length !== want) fail('TREE_ARGUMENT_INVALID', `frontier of size ${size} has ${want} hashes, got ${hashes.length}`);
    hashes.forEach((h) => assertHash(h, 'frontier hash'));
    return new Frontier(size, hashes.map((h) => Uint8Array.from(h)));
  }

  /** Number of leaves. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends a leaf hash.
   * @returns the hashes to store from `storedHashIndex(0, oldSize)`: the
   *   leaf hash, then one node hash per subtree it completes.
   */
  append(leaf: Hash): Hash[] {
    assertHash(leaf, 'leaf hash');
    const out = [leaf];
    let h = leaf;
    // Each trailing 1-bit of the old size completes a subtree.
    for (let m = this.#size; m % 2 === 1; m = (m - 1) / 2) {
      h = nodeHash(this.#hashes.pop()!, h);
      out.push(h);
    }
    this.#hashes.push(h);
    this.#size++;
    return out;
  }

  /** RFC 6962 MTH of the tree (SHA-256("") when empty). */
  root(): Hash {
    const f = this.#hashes;
    if (f.length === 0) return emptyRoot();
    let h = f[f.length - 1]!;
    for (let i = f.length - 2; i >= 0; i--) h = nodeHash(f[i]!, h);
    return h;
  }

  /** A copy that can be advanced without touching this one (to stage a batch). */
  clone(): Frontier {
    return new Frontier(this.#size, this.#hashes.slice());
  }
}
