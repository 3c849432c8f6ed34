/**
 * Cosigned time bounds: the {@link TimeBounds} provider that federation
 * makes possible (issue 4, "Times: a checkpoint cosigned by the recipient at
 * T proves its entries existed by T. Deadline accounting uses these bounds,
 * never a party's own clock alone").
 *
 * Facts. A cosignature (C2SP tlog-cosignature, cosignature/v1) by a
 * counterpart C on a checkpoint of party P's log of size n at timestamp t
 * (C's clock, POSIX seconds) proves that entries 0 … n−1 existed by t. This
 * node holds two kinds:
 *
 *     P ≠ us   our own witness cosigned P's checkpoint (witness.ts)       cosigner = us
 *     P = us   a peer's witness cosigned ours and sent the cosignature    cosigner = that peer
 *              back (federation/push.ts, kept under federation/cosigned/<peer>)
 *
 * Bound for entry i of P's log, over every cosigner of P's log:
 *
 *     notAfter(i) = min { t : a point (n, t) with n > i }    the entry existed by then
 *
 * No `notBefore` is given: "a checkpoint without the entry was cosigned at
 * t" would let a recipient whose witness clock runs fast push the start of
 * its own deadlines later. Each bound comes from the clock of the party that
 * cosigned, so it can be wrong only by that party's error: a recipient whose
 * clock runs slow moves the start of its own deadlines earlier (its own
 * evidence, used against it), and a sender's claim is judged against the
 * sender's own clock when it cosigns the answer (state.ts).
 *
 * History. Per (log, cosigner) a list of points (size, t), both increasing,
 * at most one per second (a later cosignature in the same second raises the
 * size: notAfter stays exact). A point may arrive after a larger one — a
 * cosignature whose answer was lost, read later from the witness's signed
 * history (federation/gossip.ts, issue 14) — and is put in its place when
 * it keeps both orders; at most
 * {@link MAX_POINTS} (the oldest go first: entries older than the history
 * get the oldest point kept, a later time — the tracker keeps each
 * delivery's earliest bound as a floor in the store, issue 14, so a
 * delivery is never judged later than it once was). Points arrive through {@link noteCosigned}
 * (called where cosignatures are made or received) and are persisted at
 * most once a second, each new point inserted once into the store's
 * insert-only `cosigned_times` table (`addCosignedTimes`; issue 9: evidence
 * is never a read-modify-write JSON value); a crash loses at most that
 * second, and the latest point of each log is recovered from the witness
 * state and the store's `ownCosigned` at {@link CosignedBounds.open}.
 *
 * Trusted time (issue 12). RFC 3161 tokens of a log's checkpoints bound its
 * entries the same way, on the time-stamping authorities' clocks: a
 * checkpoint of size n whose tokens from k = `required` distinct accord
 * authorities verified proves entries 0 … n−1 existed by the k-th smallest
 * genTime (tsa/bounds.ts). {@link CosignedBounds.bound} gives the earliest of
 * both kinds; {@link CosignedBounds.provenBy} says which proved it. Tokens
 * are persisted by whoever verified them (their own table); the histories
 * are rebuilt from it at open.
 *
 * How deadline accounting uses them: state.ts (deliveryState), with
 * `bound(party, index, by)`: only the delivery's other party's
 * cosignatures, the evidence both of its nodes hold (state.ts "Whose
 * cosignatures").
 *
 * @example
 *   const bounds = await CosignedBounds.open(node, store);
 *   tracker.setBounds(bounds);
 *   …
 *   await bounds.close();
 */
import { openWitnessedCheckpoint } from '@parley/core';
import type { CosignedTime, LogStore } from '@parley/store';
import type { ParleyNode } from '../service.js';
import { checkpointVerifiers, witnessKeysOf } from '../epochs.js';
import type { TimeBound, TimeBounds } from './state.js';
import { TimestampHistory, onTimestamped } from '../tsa/bounds.js';
import { timestampingOf, trustedTime } from '../tsa/verify.js';

/** Sizes per log whose tokens are kept in memory until k authorities stamped them. */
const MAX_PENDING_SIZES = 64;

/** Most points kept per (log, cosigner). */
export const MAX_POINTS = 2048;
/** Points per (log, cosigner) read by each {@link CosignedBounds.absorbStored}. */
const ABSORB_POINTS = 64;
/** Least time between two writes of one log's history (ms). */
const PERSIST_MS = 1000;

/** One cosignature: `cosigner` cosigned a checkpoint of `party`'s log of `size` at `timestamp`. */
export interface CosignedPoint {
  readonly party: string;
  readonly cosigner: string;
  readonly size: number;
  /** POSIX seconds (the cosignature's timestamp). */
  readonly timestamp: number;
  /** The cosigned checkpoint note (log signature and this cosignature), when the caller has it: evaluation evidence keeps the first one covering each evaluation entry (evaluations/capture.ts). */
  readonly note?: string;
}

const listeners = new WeakMap<LogStore, Set<(p: CosignedPoint) => void>>();
/** The bounds provider running on each store (set by {@link CosignedBounds.open}, cleared by close). */
const running = new WeakMap<LogStore, CosignedBounds>();

/**
 * The bounds provider running on `store` (startRuntime opens one), e.g. for
 * an API that shows when an entry was proven to exist
 * ({@link CosignedBounds.provenBy}); undefined when none runs.
 */
export function cosignedBoundsOf(store: LogStore): CosignedBounds | undefined {
  return running.get(store);
}

/**
 * Reports a cosignature made or received by the node on `store` to the
 * bounds provider of that store, if one runs. Never throws.
 */
export function noteCosigned(store: LogStore, p: CosignedPoint): void {
  for (const l of listeners.get(store) ?? []) {
    try {
      l(p);
    } catch {
      // A bound that is not recorded only leaves the claim in place.
    }
  }
}

/**
 * Calls `listener` with every cosignature reported on `store` ({@link noteCosigned}),
 * e.g. for live events. Listeners must not throw or block.
 * @returns a function that removes the listener.
 */
export function onCosigned(store: LogStore, listener: (p: CosignedPoint) => void): () => void {
  let set = listeners.get(store);
  if (!set) listeners.set(store, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

/** Points of one (log, cosigner): sizes and times (ms) both increasing. */
class History {
  readonly sizes: number[] = [];
  readonly times: number[] = [];

  /** Size of the latest point (0: none). */
  get size(): number {
    return this.sizes[this.sizes.length - 1] ?? 0;
  }

  /**
   * Adds the point (size, t) where it belongs by size — at the end, or
   * between two held points (a cosignature whose answer was lost and that
   * reached us later, from the witness's history, issue 14) — keeping both
   * sizes and times increasing and at most one point per second.
   * @returns the least index whose bound may have changed (entries [from, size)), or -1 when it adds nothing.
   */
  add(size: number, t: number): number {
    const n = this.sizes.length;
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1; // array positions, not tree indexes
      if (this.sizes[mid]! < size) lo = mid + 1;
      else hi = mid;
    }
    const i = lo;
    // Held already (a replay, or the same checkpoint cosigned again): the earlier fact stands.
    if (i < n && this.sizes[i] === size) return -1;
    const prevT = i > 0 ? this.times[i - 1]! : -Infinity;
    const nextT = i < n ? this.times[i]! : Infinity;
    // Out of order with what is held (a witness's clock stepped back): the facts held stand.
    if (t < prevT || t > nextT) return -1;
    // The next point is as early and covers more: nothing new.
    if (t === nextT) return -1;
    const from = i > 0 ? this.sizes[i - 1]! : 0;
    if (t === prevT) {
      this.sizes[i - 1] = size; // a later cosignature in the same second raises the size
      return from;
    }
    this.sizes.splice(i, 0, size);
    this.times.splice(i, 0, t);
    if (this.sizes.length > MAX_POINTS) {
      this.sizes.shift();
      this.times.shift();
    }
    return from;
  }

  /** Time of the first point whose size is > index. */
  notAfter(index: number): number | undefined {
    let lo = 0;
    let hi = this.sizes.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1; // array positions, not tree indexes
      if (this.sizes[mid]! > index) hi = mid;
      else lo = mid + 1;
    }
    return lo < this.sizes.length ? this.times[lo] : undefined;
  }

  toJSON(): [number, number][] {
    return this.sizes.map((s, i) => [s, this.times[i]! / 1000]);
  }
}

export class CosignedBounds implements TimeBounds {
  readonly #store: LogStore;
  /** party → cosigner → history. */
  readonly #logs = new Map<string, Map<string, History>>();
  /** Points accepted since the last write. */
  #fresh: CosignedTime[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writes: Promise<void> = Promise.resolve();
  readonly #listener = (p: CosignedPoint) => this.record(p);
  readonly #changeListeners = new Set<(party: string, from: number, to: number) => void>();
  /** party → trusted times from tokens (issue 12). */
  readonly #stamps = new Map<string, TimestampHistory>();
  /** party → size → verified tokens, until k authorities stamped that size. */
  readonly #pendingStamps = new Map<string, Map<number, { authority: string; genTime: number }[]>>();
  #required = 1;
  /** The parties whose logs are bounded (the accord's at open). */
  #parties: readonly string[] = [];
  #unsubscribeStamps: (() => void) | undefined;

  private constructor(store: LogStore) {
    this.#store = store;
  }

  /**
   * Loads the persisted histories and the latest cosignatures the node holds,
   * and starts listening for new ones ({@link noteCosigned}).
   */
  static async open(node: ParleyNode, store: LogStore): Promise<CosignedBounds> {
    const b = new CosignedBounds(store);
    const parties = node.accord.accord.parties.map((p) => p.id);
    b.#parties = parties;
    for (const party of parties) {
      // Per cosigner in increasing size: the history rebuilds as it was recorded.
      for (const p of await store.cosignedTimes(party, MAX_POINTS)) b.#add(party, p.cosigner, p.treeSize, p.cosignedAt);
    }
    for (const party of parties) {
      if (party === node.party) continue;
      // Our witness's latest cosignature of P's log (its note carries our cosignature and its time).
      const held = await node.witness.latest(party);
      if (held !== undefined) {
        try {
          // The party's keys at that size (epochs), our witness key(s).
          const w = openWitnessedCheckpoint(held.note, checkpointVerifiers(node, party, held.treeSize), witnessKeysOf(node, node.party), { quorum: 1 });
          b.#add(party, node.party, held.treeSize, Math.min(...w.cosignatures.map((c) => c.timestamp)));
        } catch {
          // A state that does not verify proves nothing here (the witness refuses to build on it anyway).
        }
      }
      // P's witness's latest cosignature of our log (verified by push.ts before it was kept).
      const c = await store.ownCosigned(party);
      if (c?.cosignedAt !== undefined) b.#add(node.party, party, c.treeSize, c.cosignedAt);
    }
    b.#fresh = [];
    // issue 12: trusted times from the tokens held (verified before they were stored).
    b.#required = timestampingOf(node.accord)?.required ?? 1;
    for (const party of parties) {
      const bySize = new Map<number, { authority: string; genTime: number }[]>();
      for (const t of await store.checkpointTimestamps(party)) {
        let rows = bySize.get(t.treeSize);
        if (!rows) bySize.set(t.treeSize, (rows = []));
        rows.push(t);
      }
      for (const [size, rows] of bySize) b.#stamped(party, size, rows, false);
    }
    b.#unsubscribeStamps = onTimestamped(store, (t) => {
      let sizes = b.#pendingStamps.get(t.party);
      if (!sizes) b.#pendingStamps.set(t.party, (sizes = new Map()));
      let rows = sizes.get(t.treeSize);
      if (!rows) {
        sizes.set(t.treeSize, (rows = []));
        if (sizes.size > MAX_PENDING_SIZES) sizes.delete(sizes.keys().next().value!);
      }
      rows.push({ authority: t.authority, genTime: t.genTime });
      if (b.#stamped(t.party, t.treeSize, rows, true)) sizes.delete(t.treeSize);
    });
    let set = listeners.get(store);
    if (!set) listeners.set(store, (set = new Set()));
    set.add(b.#listener);
    running.set(store, b);
    return b;
  }

  /** Adds one cosignature's facts (see the module doc). */
  record(p: CosignedPoint): void {
    if (p.cosigner === p.party) return; // a party cosigning its own log proves nothing to the others
    // Entries this point covers that the point below it did not get a bound (or an earlier one, of all cosigners').
    const from = this.#add(p.party, p.cosigner, p.size, p.timestamp);
    if (from >= 0) {
      this.#fresh.push({ party: p.party, cosigner: p.cosigner, treeSize: p.size, cosignedAt: p.timestamp });
      this.#timer ??= setTimeout(() => this.#persist(), PERSIST_MS);
      this.#timer.unref?.();
      // Only the newly covered entries: a full history dropping its oldest point moves its oldest
      // entries' bounds LATER, and the tracker keeps the earliest bound it judged each delivery by
      // (its floor in the store, issue 14) — no change to judge again, no scan of every delivery.
      for (const l of this.#changeListeners) l(p.party, from, p.size);
    }
  }

  /**
   * Adds the points another process of the party persisted (issue 14,
   * several processes on one PostgreSQL store): the latest `limit` per
   * (log, cosigner) from the store's `cosigned_times`. Points held already
   * add nothing; new ones are not persisted again, and move the bounds of
   * the entries they cover as {@link record} does.
   * @throws StoreError.
   */
  async absorbStored(limit = ABSORB_POINTS): Promise<void> {
    for (const party of this.#parties) {
      for (const p of await this.#store.cosignedTimes(party, limit)) {
        if (p.cosigner === party) continue;
        const from = this.#add(party, p.cosigner, p.treeSize, p.cosignedAt);
        if (from >= 0) for (const l of this.#changeListeners) l(party, from, p.treeSize);
      }
    }
  }

  onChange(listener: (party: string, from: number, to: number) => void): () => void {
    this.#changeListeners.add(listener);
    return () => this.#changeListeners.delete(listener);
  }

  covered(): { party: string; to: number; by?: string }[] {
    const out: { party: string; to: number; by?: string }[] = [];
    for (const [party, log] of this.#logs) for (const [by, h] of log) if (h.size > 0) out.push({ party, to: h.size, by });
    for (const [party, h] of this.#stamps) {
      const to = h.sizes[h.sizes.length - 1];
      if (to !== undefined) out.push({ party, to });
    }
    return out;
  }

  bound(party: string, index: number, by?: string): TimeBound | undefined {
    const p = this.provenBy(party, index, by);
    return p === undefined ? undefined : { notAfter: p.time };
  }

  /**
   * The earliest trusted time at which entry `index` of `party`'s log
   * provably existed (RFC 3339), and what proves it: a counterpart's
   * cosignature, or k authorities' time-stamp tokens (issue 12). A tie goes
   * to the cosignature.
   * @param by only this cosigner's cosignatures count (deadlines: the other
   *   party of the delivery, state.ts "Whose cosignatures"); absent: any cosigner's.
   */
  provenBy(party: string, index: number, by?: string): { readonly time: string; readonly how: 'cosignature' | 'timestamp' } | undefined {
    let after: number | undefined;
    for (const [cosigner, h] of this.#logs.get(party) ?? []) {
      if (by !== undefined && cosigner !== by) continue;
      const a = h.notAfter(index);
      if (a !== undefined && (after === undefined || a < after)) after = a;
    }
    const stamped = this.#stamps.get(party)?.notAfter(index);
    if (stamped !== undefined && (after === undefined || stamped < after)) return { time: new Date(stamped).toISOString(), how: 'timestamp' };
    return after === undefined ? undefined : { time: new Date(after).toISOString(), how: 'cosignature' };
  }

  /** Adds a checkpoint's trusted time when k authorities stamped it; true when it counted. */
  #stamped(party: string, size: number, rows: readonly { authority: string; genTime: number }[], notify: boolean): boolean {
    const t = trustedTime(rows, this.#required);
    if (t === undefined) return false;
    let h = this.#stamps.get(party);
    if (!h) this.#stamps.set(party, (h = new TimestampHistory()));
    const from = h.add(size, t);
    if (from >= 0 && notify) for (const l of this.#changeListeners) l(party, from, size);
    return true;
  }

  /**
   * Writes the points not yet persisted now, not at the next second: a
   * caller that moves a read position past points it reported (the
   * cosignature history, federation/gossip.ts) first makes them durable, so
   * a crash cannot lose a point it will not read again.
   * @throws StoreError when the write fails (the caller keeps its position).
   */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const points = this.#fresh;
    this.#fresh = [];
    const w = this.#writes.then(() => (points.length > 0 ? this.#store.addCosignedTimes(points) : undefined));
    this.#writes = w.catch(() => undefined);
    await w;
  }

  /** Stops listening and writes what is not yet persisted. */
  async close(): Promise<void> {
    listeners.get(this.#store)?.delete(this.#listener);
    if (running.get(this.#store) === this) running.delete(this.#store);
    this.#unsubscribeStamps?.();
    this.#persist();
    await this.#writes;
  }

  /** Adds a point to the in-memory history; the least index whose bound may have changed, or -1 when it adds nothing (older, or a replay). */
  #add(party: string, cosigner: string, size: number, timestamp: number): number {
    if (!Number.isSafeInteger(size) || size < 1 || !Number.isSafeInteger(timestamp) || timestamp < 0) return -1;
    let log = this.#logs.get(party);
    if (!log) this.#logs.set(party, (log = new Map()));
    let h = log.get(cosigner);
    if (!h) log.set(cosigner, (h = new History()));
    return h.add(size, timestamp * 1000);
  }

  #persist(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#fresh.length === 0) return;
    const points = this.#fresh;
    this.#fresh = [];
    // Insert-only: a point already held keeps its first time; a lost write only loses a bound, never moves one.
    this.#writes = this.#writes.then(() => this.#store.addCosignedTimes(points)).catch(() => undefined);
  }
}
