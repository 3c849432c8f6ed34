/**
 * Trusted time from tokens for deadline accounting (issue 12): the
 * time-stamp side of deadlines/cosigned.ts.
 *
 * A verified token of the checkpoint of `party`'s log of size n with genTime
 * t proves entries 0 … n−1 existed by t — on the authority's clock, not a
 * party's. With `required` = k, a checkpoint's time counts once k distinct
 * authorities stamped it: the k-th smallest genTime (verify.ts trustedTime).
 *
 * {@link TimestampHistory} keeps per log the points (size, trusted time)
 * that can still be the earliest bound of some entry: the Pareto front,
 * sizes and times both increasing, so notAfter(i) is the time of the first
 * point whose size is > i. Points arrive through {@link noteTimestamped}
 * (wherever a verified token is stored) and are rebuilt from the store at
 * CosignedBounds.open.
 */
import type { CheckpointTimestamp, LogStore } from '@parley/store';

/** Most points kept per log (the latest go last; older entries fall back to cosignatures and claims). */
export const MAX_TIMESTAMP_POINTS = 4096;

const listeners = new WeakMap<LogStore, Set<(t: CheckpointTimestamp) => void>>();

/** Reports a verified, stored token on `store` to the bounds provider of that store, if one runs. Never throws. */
export function noteTimestamped(store: LogStore, t: CheckpointTimestamp): void {
  for (const l of listeners.get(store) ?? []) {
    try {
      l(t);
    } catch {
      // A bound that is not recorded only leaves the cosigned one in place.
    }
  }
}

/** Calls `listener` with every token reported on `store`. @returns the unsubscribe function. */
export function onTimestamped(store: LogStore, listener: (t: CheckpointTimestamp) => void): () => void {
  let set = listeners.get(store);
  if (!set) listeners.set(store, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

/** The Pareto front of (size, time ms) points of one log. */
export class TimestampHistory {
  readonly sizes: number[] = [];
  readonly times: number[] = [];

  /**
   * Adds a point.
   * @returns the first entry index whose bound it moved (entries [from, size)
   *   now have it as their bound), or -1 when a held point already bounds every
   *   entry it would (a size ≥ it at a time ≤ it).
   */
  add(size: number, t: number): number {
    // First held point with size ≥ `size`.
    let lo = 0;
    let hi = this.sizes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sizes[mid]! >= size) hi = mid;
      else lo = mid + 1;
    }
    if (lo < this.sizes.length && this.times[lo]! <= t) return -1; // dominated
    // Dominated by the new point: a held point of the same size (it is later), and the
    // smaller sizes at a later or equal time (contiguous just before, times increase).
    const end = lo < this.sizes.length && this.sizes[lo] === size ? lo + 1 : lo;
    let start = lo;
    while (start > 0 && this.times[start - 1]! >= t) start--;
    this.sizes.splice(start, end - start, size);
    this.times.splice(start, end - start, t);
    if (this.sizes.length > MAX_TIMESTAMP_POINTS) {
      this.sizes.shift();
      this.times.shift();
      return 0;
    }
    return start > 0 ? this.sizes[start - 1]! : 0;
  }

  /** Time (ms) of the first point whose size is > index. */
  notAfter(index: number): number | undefined {
    let lo = 0;
    let hi = this.sizes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sizes[mid]! > index) hi = mid;
      else lo = mid + 1;
    }
    return lo < this.sizes.length ? this.times[lo] : undefined;
  }
}
