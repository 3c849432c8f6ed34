/**
 * DeadlineTracker: the facts of every delivery this node is party to,
 * gathered incrementally from the store, judged by state.ts on demand.
 *
 *     sent      each entry of our log (but receipts) × each recipient;
 *               answered by `receipt`/`ack` entries RECEIVED from that
 *               recipient whose refs point at (us, index) with the entry's hash
 *     received  each entry received from another party (but receipts);
 *               answered by our OWN `receipt`/`ack` entries referencing it
 *
 * `refresh()` reads only what is new since the last call: own entries from
 * the last tree size, received entries above the last receive sequence (the
 * inbox cursor). Facts and answers are kept in memory — O(deliveries); a node
 * whose history outgrows that needs a store-side index (a `referencedBy`
 * over received entries), which the store does not have yet.
 *
 * Answers are matched by (delivery, leaf hash), not by arrival order: an
 * answer read before the entry it answers simply waits in the answer map.
 */
import { bodyProblem, formatBase64, type Precedence, type VerifiedAccord } from '@parley/core';
import type { LogStore, OwnEntry, ReceivedEntry } from '@parley/store';
import type { ParleyNode } from '../service.js';
import type { Governed } from '../epochs.js';
import { type AckAnswer, type Answer, type DeliveryFacts, type DeliveryStatus, type RejectionAnswer, type ReportFacts, type TimeBounds, OWN_CLOCKS, deliveryState, needsReceipt } from './state.js';
import { rejectionInEntry } from '../received.js';
import { retractionIndex } from '../retractions.js';
import { skippedEntries } from '../skipped.js';

/** One page of store reads. */
const PAGE = 500;
/** The first page of received entries per refresh. */
const FIRST_PAGE = 16;
/** Bound changes over at most this many entries are applied by lookup, larger ones by a scan. */
const BOUNDS_LOOKUP = 1024;

type Facts = Omit<DeliveryFacts, 'receipt' | 'ack'> & { readonly leafHash: string };

interface Answers {
  receipt?: Answer;
  ack?: AckAnswer;
  rejection?: RejectionAnswer;
}

/** The key of one delivery: sender/index>recipient. */
export function deliveryKey(party: string, index: number, recipient: string): string {
  return `${party}/${index}>${recipient}`;
}

export interface DeadlineTrackerOptions {
  readonly node: ParleyNode;
  readonly store: LogStore;
  /** Cosigned time bounds (default: the parties' own clocks). */
  readonly bounds?: TimeBounds;
}

export class DeadlineTracker {
  readonly #node: ParleyNode;
  readonly #store: LogStore;
  #bounds: TimeBounds;
  readonly #facts = new Map<string, Facts>();
  readonly #answers = new Map<string, Answers>();
  /** Deliveries not yet reported settled by {@link DeadlineTracker.changes}. */
  readonly #open = new Set<string>();
  /**
   * Open deliveries whose status {@link changes} last reported and that
   * cannot change before the time filed here (ms; Infinity: only by new
   * facts, answers or bounds, which remove the entry).
   */
  readonly #quiet = new Map<string, number>();
  #unsubscribeBounds: () => void = () => undefined;
  /** "party/index" of an answer entry → the deliveries it answers. */
  readonly #answering = new Map<string, Set<string>>();
  /** "party/index" of an entry its sender withdrew → the retraction (issue 13, retractions.ts). */
  readonly #withdrawn = new Map<string, Answer>();
  /** Entries filed since the last check for a withdrawal, and targets of retractions read since. */
  #toCheck: { party: string; index: number }[] = [];
  #ownSize = 0;
  #lastSeq = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(o: DeadlineTrackerOptions) {
    this.#node = o.node;
    this.#store = o.store;
    this.#bounds = o.bounds ?? OWN_CLOCKS;
  }

  get party(): string {
    return this.#node.party;
  }

  get accordId(): string {
    return this.#node.accord.id;
  }

  /** The verified accord of the node in force. */
  get accord(): VerifiedAccord {
    return this.#node.accord;
  }

  /** The node's accord chain and key epochs (fork proofs are checked against them). */
  get governed(): Governed {
    return this.#node;
  }

  /** Replaces the time-bounds provider (federation installs cosigned bounds). */
  setBounds(bounds: TimeBounds): void {
    this.#bounds = bounds;
    this.#quiet.clear();
    this.#unsubscribeBounds();
    this.#unsubscribeBounds = bounds.onChange?.((party, from, to) => this.#boundsChanged(party, from, to)) ?? (() => undefined);
  }

  /** Reads what is new in the store. Calls are serialized; concurrent callers share the work. */
  refresh(): Promise<void> {
    const run = this.#chain.then(() => this.#refresh());
    this.#chain = run.catch(() => {});
    return run;
  }

  /** Every delivery's status at `now` (ms), ordered by sender, index, recipient. Call {@link refresh} first. */
  items(now: number): DeliveryStatus[] {
    const out: DeliveryStatus[] = [];
    for (const key of this.#facts.keys()) out.push(this.#status(key, now)!);
    return out;
  }

  /** One delivery's status, or undefined when unknown. */
  status(party: string, index: number, recipient: string, now: number): DeliveryStatus | undefined {
    return this.#status(deliveryKey(party, index, recipient), now);
  }

  /**
   * The statuses of deliveries not yet {@link done} (every delivery, at
   * first) that may have changed since this last reported them: new facts
   * or answers, new time bounds for the entry or its answers, or a due time
   * reached. The watcher's incremental view: with thousands of deliveries
   * open (FLASH messages awaiting acks) judging every one on each pass kept
   * the event loop for tens of milliseconds. {@link nextDueAt} covers the
   * ones left out.
   */
  changes(now: number): DeliveryStatus[] {
    const out: DeliveryStatus[] = [];
    for (const key of this.#open) {
      const quietUntil = this.#quiet.get(key);
      // A status changes by the clock only once now > its due time (state.ts).
      if (quietUntil !== undefined && now <= quietUntil) continue;
      const s = this.#status(key, now)!;
      out.push(s);
      if (this.#settledBounds(key)) this.#quiet.set(key, s.nextDueAt !== undefined ? Date.parse(s.nextDueAt) : Number.POSITIVE_INFINITY);
      else this.#quiet.delete(key);
    }
    return out;
  }

  /** The earliest due time (ms) of the open deliveries {@link changes} leaves out, if any. */
  nextDueAt(): number | undefined {
    let next = Number.POSITIVE_INFINITY;
    for (const [key, t] of this.#quiet) if (t < next && this.#open.has(key)) next = t;
    return Number.isFinite(next) ? next : undefined;
  }

  /** True when the bounds the delivery's status uses are all known (bounds do not change once given, but by onChange). */
  #settledBounds(key: string): boolean {
    const b = this.#bounds;
    if (b.onChange === undefined) return true;
    const f = this.#facts.get(key)!;
    // The bounds deliveryState uses: each side's by the other side's cosignatures (state.ts).
    if (b.bound(f.party, f.index, f.recipient)?.notAfter === undefined) return false;
    const a = this.#answers.get(`${key}#${f.leafHash}`);
    if (a?.receipt && b.bound(f.recipient, a.receipt.index, f.party)?.notAfter === undefined) return false;
    if (a?.ack && b.bound(f.recipient, a.ack.index, f.party)?.notAfter === undefined) return false;
    return true;
  }

  /** Bounds of entries [from, to) of `party`'s log moved: the deliveries of those entries, or answered by them, are judged again. */
  #boundsChanged(party: string, from: number, to: number): void {
    // The usual case, a few entries newly cosigned: look their deliveries up.
    if (to - from <= BOUNDS_LOOKUP) {
      const parties = this.#node.accord.accord.parties;
      for (let i = from; i < to; i++) {
        for (const p of parties) this.#quiet.delete(deliveryKey(party, i, p.id));
        for (const key of this.#answering.get(`${party}/${i}`) ?? []) this.#quiet.delete(key);
      }
      return;
    }
    const inRange = (i: number | undefined) => i !== undefined && i >= from && i < to;
    for (const key of this.#quiet.keys()) {
      const f = this.#facts.get(key);
      if (!f) continue;
      if (f.party === party && inRange(f.index)) this.#quiet.delete(key);
      else if (f.recipient === party) {
        const a = this.#answers.get(`${key}#${f.leafHash}`);
        if (inRange(a?.receipt?.index) || inRange(a?.ack?.index)) this.#quiet.delete(key);
      }
    }
  }

  /** Drops a settled delivery from {@link changes} once its consumer has acted on it. */
  done(s: DeliveryStatus): void {
    if (!s.settled) return;
    const key = deliveryKey(s.party, s.index, s.recipient);
    this.#open.delete(key);
    this.#quiet.delete(key);
  }

  #status(key: string, now: number): DeliveryStatus | undefined {
    const f = this.#facts.get(key);
    if (!f) return undefined;
    const a = this.#answers.get(`${key}#${f.leafHash}`);
    const { leafHash: _h, ...facts } = f;
    const w = this.#withdrawn.get(`${f.party}/${f.index}`);
    return deliveryState(
      { ...facts, ...(a?.receipt ? { receipt: a.receipt } : {}), ...(a?.ack ? { ack: a.ack } : {}), ...(a?.rejection ? { rejection: a.rejection } : {}), ...(w ? { withdrawn: w } : {}) },
      this.#node.accord.accord.deadlines,
      now,
      this.#bounds,
    );
  }

  async #refresh(): Promise<void> {
    const size = await this.#store.treeSize();
    for (let from = this.#ownSize; from < size; from += PAGE) {
      for (const e of await this.#store.entries(from, Math.min(size, from + PAGE))) await this.#orSkip(this.#node.party, e.index, () => this.#own(e));
    }
    this.#ownSize = size;

    // Received entries above the cursor, newest first in pages, then applied oldest first.
    // The first page is small: a refresh usually finds a few new entries, and
    // reading (and decoding) 500 each time cost more than the rest of the pass.
    const fresh: (ReceivedEntry & { rowid: number })[] = [];
    let before: number | undefined;
    for (let limit = FIRST_PAGE; ; limit = PAGE) {
      const page = await this.#store.inbox({ limit, ...(before !== undefined ? { before } : {}) });
      const newer = page.filter((r) => r.rowid > this.#lastSeq);
      fresh.push(...newer);
      if (page.length < limit || newer.length < page.length) break;
      before = page[page.length - 1]!.rowid;
    }
    fresh.sort((a, b) => a.rowid - b.rowid);
    for (const r of fresh) await this.#orSkip(r.party, r.index, () => this.#received(r));
    if (fresh.length > 0) this.#lastSeq = fresh[fresh.length - 1]!.rowid;
    await this.#withdrawals();
  }

  /**
   * Issue 13: entries filed since the last pass, and entries cited by
   * retractions read since, that their sender withdrew (retractions.ts —
   * either may arrive first). A withdrawn delivery is judged again.
   */
  async #withdrawals(): Promise<void> {
    if (this.#toCheck.length === 0) return;
    const check = this.#toCheck;
    this.#toCheck = [];
    const index = retractionIndex(this.#node);
    await index.refresh();
    for (const { party, index: i } of check) {
      const k = `${party}/${i}`;
      if (this.#withdrawn.has(k)) continue;
      const r = await index.of(party, i);
      if (!r) continue;
      this.#withdrawn.set(k, { index: r.by.index, at: r.by.time });
      for (const p of this.#node.accord.accord.parties) {
        const key = deliveryKey(party, i, p.id);
        if (!this.#facts.has(key)) continue;
        this.#open.add(key);
        this.#quiet.delete(key);
      }
    }
  }

  /** Runs `file`; an entry that cannot be filed is skipped and reported (skipped.ts), never the end of the tracker. */
  async #orSkip(party: string, index: number, file: () => Promise<void>): Promise<void> {
    try {
      await file();
    } catch (err) {
      skippedEntries(this.#node).note('deadlines', party, index, err);
    }
  }

  async #own(e: OwnEntry): Promise<void> {
    const me = this.#node.party;
    const m = e.meta;
    if (m.type === 'retraction' && m.refs[0]) this.#toCheck.push({ party: m.refs[0].party, index: m.refs[0].index });
    if (needsReceipt(m.type)) {
      const report = m.type === 'incident.report' ? await this.#report(me, e.index) : undefined;
      for (const to of m.to) this.#add({ direction: 'sent', party: me, index: e.index, recipient: to, leafHash: formatBase64(e.leafHash), ...common(m, report) });
    }
    if (m.type === 'receipt' || m.type === 'ack') {
      const rejection = m.type === 'receipt' ? rejectionInEntry(e.bytes) : undefined;
      for (const ref of m.refs) if (ref.party !== me) this.#answer(deliveryKey(ref.party, ref.index, me), ref.hash, m.type, { index: e.index, at: m.time }, m.officer, rejection);
    }
  }

  async #received(r: ReceivedEntry): Promise<void> {
    const me = this.#node.party;
    const m = r.meta;
    if (m.type === 'retraction' && m.refs[0]) this.#toCheck.push({ party: m.refs[0].party, index: m.refs[0].index });
    if (needsReceipt(m.type)) {
      const report = m.type === 'incident.report' ? await this.#report(r.party, r.index) : undefined;
      this.#add({ direction: 'received', party: r.party, index: r.index, recipient: me, leafHash: formatBase64(r.leafHash), ...common(m, report) });
    }
    if (m.type === 'receipt' || m.type === 'ack') {
      const rejection = m.type === 'receipt' ? rejectionInEntry(r.bytes) : undefined;
      for (const ref of m.refs) if (ref.party === me) this.#answer(deliveryKey(me, ref.index, r.party), ref.hash, m.type, { index: r.index, at: m.time }, m.officer, rejection);
    }
  }

  #add(f: Facts): void {
    const key = deliveryKey(f.party, f.index, f.recipient);
    if (this.#facts.has(key)) return;
    if (f.type !== 'receipt' && f.type !== 'heartbeat' && f.type !== 'ack') this.#toCheck.push({ party: f.party, index: f.index });
    this.#facts.set(key, f);
    this.#open.add(key);
    this.#quiet.delete(key);
  }

  /**
   * Keeps the earliest answer of each kind. Answers are filed under the
   * entry's leaf hash as the answer's ref names it: one that names another
   * hash at that index (an answer to another history of the log) answers
   * nothing we hold. Filing by hash also lets an answer arrive before its entry.
   */
  #answer(key: string, hash: string, type: 'receipt' | 'ack', a: Answer, officer: string, rejection?: { code: string; reason: string }): void {
    const slot = `${key}#${hash}`;
    const cur = this.#answers.get(slot) ?? {};
    if (type === 'receipt') {
      if (!cur.receipt || Date.parse(a.at) < Date.parse(cur.receipt.at)) cur.receipt = a;
      // A refusal stands however many plain receipts came before or after it.
      if (rejection && !cur.rejection) cur.rejection = { ...a, ...rejection };
    } else if (!cur.ack || Date.parse(a.at) < Date.parse(cur.ack.at)) cur.ack = { ...a, officer };
    this.#answers.set(slot, cur);
    // A new answer can change a delivery the watcher already saw settle (an earlier receipt than the ack).
    if (this.#facts.has(key)) this.#open.add(key);
    this.#quiet.delete(key);
    // The answer is an entry of the recipient's log: its bound moving moves this delivery.
    const answer = `${key.slice(key.indexOf('>') + 1)}/${a.index}`;
    let keys = this.#answering.get(answer);
    if (!keys) this.#answering.set(answer, (keys = new Set()));
    keys.add(key);
  }

  /** Kind, severity and detectedAt of an incident report, from its (opened) body. */
  async #report(party: string, index: number): Promise<ReportFacts | undefined> {
    const v = await this.#node.read(party, index, 'admin');
    const b = v?.body;
    // A body that is not a report (rejected on ingest) gives no report facts; its delivery is still tracked.
    if (b === undefined || bodyProblem('incident.report', b)) return undefined;
    const o = b as { kind: string; severity: number; detectedAt?: string };
    return { kind: o['kind'], severity: o['severity'], ...(typeof o['detectedAt'] === 'string' ? { detectedAt: o['detectedAt'] } : {}) };
  }
}

function common(m: OwnEntry['meta'], report: ReportFacts | undefined) {
  return { type: m.type, precedence: m.precedence as Precedence, marking: m.marking, to: m.to, sentAt: m.time, ...(report ? { report } : {}) };
}

const trackers = new WeakMap<ParleyNode, DeadlineTracker>();

/**
 * The one tracker of a node, shared by the HTTP routes, the watcher and the
 * metrics (made on first use).
 */
export function deadlineTracker(node: ParleyNode, store: LogStore): DeadlineTracker {
  let t = trackers.get(node);
  if (!t) trackers.set(node, (t = new DeadlineTracker({ node, store })));
  return t;
}
