/**
 * A cache of stored hashes at tree levels ≥ {@link MIN_LEVEL}.
 *
 * Why these: an inclusion proof in a tree of n leaves reads about log2(n)
 * stored hashes, one per level; the ones at level ≥ 8 cover 256 leaves or
 * more, so there are only n/128 of them in all (8 Ki hashes, 256 KiB, for a
 * million entries) and every proof reuses them. Lower levels are many and
 * rarely read twice, so caching them would only evict the useful ones.
 *
 * Why it is safe: a stored hash never changes once committed (the log is
 * append-only and hashes are written once, in the batch's transaction), and
 * the cache is filled only from committed reads, never from a batch that
 * might still roll back.
 *
 * Bounded: past {@link MAX_ENTRIES} the least recently used hash goes (a Map
 * keeps insertion order; a hit re-inserts).
 */
import type { Hash } from '@parley/core';
import { splitStoredHashIndex } from '@parley/core';

/** Lowest tree level cached. */
export const MIN_LEVEL = 8;
/** At most this many hashes (≈ 64 Ki × ~100 B with Map overhead ≈ 6 MiB). */
export const MAX_ENTRIES = 65536;

export class HashCache {
  readonly #map = new Map<number, Hash>();
  readonly #max: number;

  constructor(max = MAX_ENTRIES) {
    this.#max = max;
  }

  get(index: number): Hash | undefined {
    const h = this.#map.get(index);
    if (h !== undefined && this.#map.size > this.#max / 2) {
      // Refresh recency only when eviction is a possibility: cheap hits otherwise.
      this.#map.delete(index);
      this.#map.set(index, h);
    }
    return h;
  }

  /** Offers a committed hash; kept only if it is at a cached level. */
  put(index: number, h: Hash): void {
    if (splitStoredHashIndex(index)[0] < MIN_LEVEL) return;
    this.#map.set(index, h);
    if (this.#map.size > this.#max) this.#map.delete(this.#map.keys().next().value!);
  }

  get size(): number {
    return this.#map.size;
  }
}
