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
 * `refresh()` reads only what is new since its cursor: own entries from the
 * last tree size, received entries above the last receive sequence. Issue 14
 * (a node holding 10,000,000 entries in ≤ 256 MiB): the facts, answers and
 * withdrawals are filed in the store's `deliveries` tables (LogStore
 * `fileDeliveries`), one page of entries per transaction TOGETHER with the
 * cursor — a crash leaves a page filed whole or not at all, and the next
 * refresh re-reads from the cursor (filing is idempotent). Statuses are
 * judged from the store row by row ({@link statuses} pages in key order);
 * memory holds only what the watcher's incremental view needs: the
 * deliveries that may change by the clock, by unknown bounds, or that a new
 * fact touched ({@link changes}).
 *
 * Answers are matched by (delivery, leaf hash), not by arrival order: an
 * answer read before the entry it answers simply waits in its row.
 */
import { StoreError, bodyProblem, formatBase64, type Precedence, type VerifiedAccord } from '@parley/core';
import type { DeliveryAnswerRow, DeliveryJudgement, DeliveryKey, DeliveryQuery, DeliveryRecord, DeliveryWithdrawal, LogStore, OwnEntry, ReceivedEntry, StoredDelivery } from '@parley/store';
import type { ParleyNode } from '../service.js';
import type { Governed } from '../epochs.js';
import { type AckAnswer, type Answer, type DeliveryCounts, type DeliveryFacts, type DeliveryStateName, type DeliveryStatus, type RejectionAnswer, type ReportFacts, type TimeBound, type TimeBounds, DELIVERY_STATES, OWN_CLOCKS, deliveryState, listingPlace, needsReceipt } from './state.js';
import { rejectionInEntry } from '../received.js';
import { retractionIndex } from '../retractions.js';
import { skippedEntries } from '../skipped.js';
/** One page of store reads (entries per filing transaction, deliveries per status page). */
const PAGE = 500;
/**
 * Deliveries judged per {@link DeadlineTracker.changes} call (a page of the
 * stale ones). Small: a first start on a big log judges (and escalates) every
 * delivery page by page, and each page's statuses, escalations and
 * judgements are garbage after it (bench/rss.mjs at 100,000 entries: peak RSS
 * ~300 MiB with 5,000, ~225 MiB with 500, same machine and store).
 */
const SCAN_PAGE = 500;
/** Filings of one page tried when another filer keeps moving its answer rows ({@link DeadlineTracker} #file). */
const MAX_FILE_ATTEMPTS = 8;
/** Bound changes held for the next {@link DeadlineTracker.changes} before those of one party merge into one range. */
const MAX_RANGES = 256;

/** What the store row's `facts` column holds. */
type StoredFacts = Pick<DeliveryFacts, 'type' | 'precedence' | 'marking' | 'to' | 'sentAt' | 'report'>;

interface Answers {
  receipt?: Answer;
  ack?: AckAnswer;
  rejection?: RejectionAnswer;
}

/** The key of one delivery: sender/index>recipient. */
export function deliveryKey(party: string, index: number, recipient: string): string {
  return `${party}/${index}>${recipient}`;
}

function keyParts(key: string): DeliveryKey {
  const slash = key.indexOf('/');
  const gt = key.indexOf('>', slash);
  return { party: key.slice(0, slash), index: Number(key.slice(slash + 1, gt)), recipient: key.slice(gt + 1) };
}

/** What one page of entries adds, filed in one transaction with the cursor. */
interface Filing {
  readonly deliveries: DeliveryRecord[];
  /** "key#hash" → the answers read in this page, merged with the row held when filed. */
  readonly answers: Map<string, { key: string; hash: string; add: ((cur: Answers) => void)[] }>;
  /** Entries filed in this page, and targets of retractions read in it (retractions.ts: either may come first). */
  readonly toCheck: { party: string; index: number }[];
}

const newFiling = (): Filing => ({ deliveries: [], answers: new Map(), toCheck: [] });

const msOf = (t: string | undefined): number | undefined => (t === undefined ? undefined : Date.parse(t));
const least = (a: number | undefined, b: number | null | undefined): number | undefined => (b === null || b === undefined ? a : a === undefined ? b : Math.min(a, b));

/** Bits of the deadlines missed (the store's `overdue` column). */
const overdueBits = (s: DeliveryStatus): number => (s.overdue.includes('receipt') ? 1 : 0) | (s.overdue.includes('ack') ? 2 : 0);

/** A delivery's place in the listing order: rank, due, index, then sender and recipient (a total order, the paging cursor). */
export type ListingKey = readonly [rank: number, due: number, index: number, party: string, recipient: string];

export function listingKey(s: DeliveryStatus): ListingKey {
  const p = listingPlace(s);
  return [p.rank, p.sortDue, s.index, s.party, s.recipient];
}

export function compareListingKeys(a: ListingKey, b: ListingKey): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || (a[3] < b[3] ? -1 : a[3] > b[3] ? 1 : 0) || (a[4] < b[4] ? -1 : a[4] > b[4] ? 1 : 0);
}

/** Filters of a listing ({@link DeadlineTracker.listing}). */
export interface ListingQuery {
  readonly direction?: 'sent' | 'received';
  readonly state?: DeliveryStateName;
  readonly party?: string;
  readonly index?: number;
  readonly recipient?: string;
  /** true: only deliveries still awaiting an answer; false: only settled ones. */
  readonly open?: boolean;
}

const matches = (s: DeliveryStatus, q: ListingQuery): boolean =>
  (q.direction === undefined || s.direction === q.direction) &&
  (q.state === undefined || s.state === q.state) &&
  (q.party === undefined || s.party === q.party) &&
  (q.index === undefined || s.index === q.index) &&
  (q.recipient === undefined || s.recipient === q.recipient) &&
  (q.open === undefined || s.settled !== q.open);

export interface DeadlineTrackerOptions {
  readonly node: ParleyNode;
  readonly store: LogStore;
  /** Cosigned time bounds (default: the parties' own clocks). */
  readonly bounds?: TimeBounds;
}

/** Filters of {@link DeadlineTracker.statuses}. */
export type StatusQuery = Omit<DeliveryQuery, 'limit' | 'after' | 'staleBefore' | 'judgedAfter' | 'afterStale'>;

export class DeadlineTracker {
  readonly #node: ParleyNode;
  readonly #store: LogStore;
  #bounds: TimeBounds;
  /** Entries whose time bounds moved since the last {@link changes}: their deliveries, and those they answer, are made due (store). */
  #ranges: { party: string; from: number; to: number }[] = [];
  /** A new bounds provider: deliveries judged without a bound they use are judged again once. */
  #unbounded = false;
  /** The judgements of the last {@link changes}, written by {@link done}. */
  #judged = new Map<string, DeliveryJudgement>();
  /** The last {@link changes} read a full page of stale deliveries: more wait. */
  #more = false;
  /** The earliest due time of a judged delivery (the store's index), as of the last {@link done}. */
  #nextDue: number | undefined;
  #unsubscribeBounds: () => void = () => undefined;
  #cursor: { ownSize: number; lastSeq: number } | undefined;
  #chain: Promise<void> = Promise.resolve();
  /** The refresh queued behind the running one and not started yet: later callers share it. */
  #queued: Promise<void> | undefined;

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

  /**
   * Replaces the time-bounds provider (federation installs cosigned bounds).
   * Deliveries judged without a bound they use are judged again at the next
   * {@link changes} (the new provider may know it); the others keep their
   * judgement and its floors.
   */
  setBounds(bounds: TimeBounds): void {
    this.#bounds = bounds;
    this.#unbounded = true;
    this.#unsubscribeBounds();
    this.#unsubscribeBounds = bounds.onChange?.((party, from, to) => this.#boundsChanged(party, from, to)) ?? (() => undefined);
  }

  /**
   * Reads what is new in the store. Calls are serialized; concurrent callers
   * share the work: a call while a refresh runs waits for ONE refresh queued
   * behind it (started after the call, so it reads everything committed
   * before), shared by every caller until it starts. A chain of one refresh
   * per call (every listing, the watcher, each process's routes) grew faster
   * than it drained once a refresh took longer than the gap between calls
   * (PostgreSQL on a loaded machine): every listing waited for all the
   * refreshes queued before it and timed out, for good (issue 14's soak, EU).
   */
  refresh(): Promise<void> {
    if (this.#queued !== undefined) return this.#queued;
    const run = this.#chain.then(() => {
      this.#queued = undefined;
      return this.#refresh();
    });
    this.#queued = run;
    this.#chain = run.catch(() => {});
    return run;
  }

  /**
   * Every delivery's status at `now` (ms), ordered by sender, index,
   * recipient, read from the store a page at a time: memory holds one page.
   * Call {@link refresh} first.
   */
  async *statuses(now: number, q: StatusQuery = {}): AsyncGenerator<DeliveryStatus> {
    let after: DeliveryKey | undefined;
    for (;;) {
      const page = await this.#store.deliveries({ ...q, limit: PAGE, ...(after ? { after } : {}) });
      for (const r of page) yield this.#judge(r, now);
      if (page.length < PAGE) return;
      const last = page[page.length - 1]!;
      after = { party: last.party, index: last.index, recipient: last.recipient };
    }
  }

  /** Every delivery's status at `now`, in one array: for small logs and tests ({@link statuses} streams). */
  async items(now: number, q: StatusQuery = {}): Promise<DeliveryStatus[]> {
    const out: DeliveryStatus[] = [];
    for await (const s of this.statuses(now, q)) out.push(s);
    return out;
  }

  /** One delivery's status, or undefined when unknown. */
  async status(party: string, index: number, recipient: string, now: number): Promise<DeliveryStatus | undefined> {
    const [r] = await this.#store.deliveries({ party, index, recipient, limit: 1 });
    return r ? this.#judge(r, now) : undefined;
  }

  /**
   * The statuses of deliveries whose judgement is stale at `now`: never
   * judged (new), touched by a new answer, withdrawal or bound since, or
   * whose due time passed (due_at < now: a store index range, issue 14 — no
   * pass over every delivery). One page of {@link SCAN_PAGE} per call
   * ({@link scanning}: more wait). Their new judgements are written by
   * {@link done}: a status not acknowledged (a crash before the watcher
   * recorded its escalations) is reported again.
   */
  async changes(now: number): Promise<DeliveryStatus[]> {
    const ranges = this.#ranges;
    const fresh = this.#unbounded;
    // A new provider: what it covers (absent: every log, whole), not a pass over every delivery.
    const unbounded = !fresh ? [] : (this.#bounds.covered?.() ?? this.#node.accord.accord.parties.map((p) => ({ party: p.id, to: Number.MAX_SAFE_INTEGER })));
    this.#ranges = [];
    this.#unbounded = false;
    if (ranges.length > 0 || unbounded.length > 0) {
      try {
        await this.#store.rejudgeDeliveries(ranges, unbounded);
      } catch (err) {
        // Not applied: kept for the next call (ranges that came meanwhile stay too).
        this.#ranges.push(...ranges);
        this.#unbounded ||= fresh;
        throw err;
      }
    }
    const page = await this.#store.deliveries({ staleBefore: now, limit: SCAN_PAGE });
    this.#more = page.length === SCAN_PAGE;
    this.#judged = new Map();
    const out: DeliveryStatus[] = [];
    for (const r of page) {
      const { status, judgement } = this.#judgeRow(r, now);
      this.#judged.set(deliveryKey(r.party, r.index, r.recipient), judgement);
      out.push(status);
    }
    return out;
  }

  /** True when the last {@link changes} left stale deliveries for the next call. */
  get scanning(): boolean {
    return this.#more;
  }

  /** The earliest due time (ms) of the judged deliveries, as of the last {@link done} (0: some wait to be judged). */
  nextDueAt(): number | undefined {
    return this.#nextDue;
  }

  /** Bounds of entries [from, to) of `party`'s log moved: their deliveries, and those they answer, are judged again. */
  #boundsChanged(party: string, from: number, to: number): void {
    if (from >= to) return;
    this.#ranges.push({ party, from, to });
    if (this.#ranges.length <= MAX_RANGES) return;
    // Merged per party: judging a few more again is harmless, and the list stays bounded.
    const merged = new Map<string, { party: string; from: number; to: number }>();
    for (const r of this.#ranges) {
      const m = merged.get(r.party);
      merged.set(r.party, m ? { party: r.party, from: Math.min(m.from, r.from), to: Math.max(m.to, r.to) } : r);
    }
    this.#ranges = [...merged.values()];
  }

  /**
   * The watcher acted on statuses {@link changes} reported (their
   * escalations are durable): their judgements are written, and they leave
   * the stale range until their next due time or fact. A judgement is
   * written only where the row's answers and withdrawal are still those it
   * was made on (its `basis`): one filed since {@link changes} read the row
   * (a refresh by a listing, or another process) keeps the row due, and it
   * is judged again at the next call.
   */
  async done(statuses: readonly DeliveryStatus[]): Promise<void> {
    const out: DeliveryJudgement[] = [];
    for (const s of statuses) {
      const j = this.#judged.get(deliveryKey(s.party, s.index, s.recipient));
      if (j) out.push(j);
    }
    for (let i = 0; i < out.length; i += PAGE) await this.#store.judgeDeliveries(out.slice(i, i + PAGE));
    this.#judged = new Map();
    this.#nextDue = await this.#store.nextDeliveryDue();
  }

  /**
   * One page of the listing at `at` in listing order (open and overdue, then
   * open by next deadline, then settled), after `after`, and the counts over
   * every delivery, both as of `at`: the deliveries whose stored judgement
   * holds at `at` are read from the store's indexes (a listing range and an
   * aggregate), the few others — stale at `at` or judged after it — are
   * judged here at `at`. Pages of one listing pass the first page's `at`:
   * a delivery going overdue between pages is neither skipped nor repeated.
   * `last` is the key the last item was placed by (the stored one for a
   * judgement read from the store's index, which a re-judgement with newer
   * bounds may not give): the next page's `after`.
   */
  async listing(at: number, q: ListingQuery, limit: number, after?: ListingKey): Promise<{ items: DeliveryStatus[]; counts: DeliveryCounts; more: boolean; last: ListingKey | undefined }> {
    const byState = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryStateName, number>;
    let total = 0;
    let open = 0;
    let late = 0;
    const tally = (state: string, settled: boolean, overdue: number, n: number) => {
      total += n;
      if (state in byState) byState[state as DeliveryStateName] += n;
      if (!settled) open += n;
      else if (overdue !== 0) late += n;
    };
    const page: { s: DeliveryStatus; k: ListingKey }[] = [];
    const offer = (s: DeliveryStatus, k: ListingKey) => {
      if (after !== undefined && compareListingKeys(k, after) <= 0) return;
      if (page.length > limit && compareListingKeys(k, page[page.length - 1]!.k) >= 0) return;
      let lo = 0;
      let hi = page.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (compareListingKeys(page[mid]!.k, k) < 0) lo = mid + 1;
        else hi = mid;
      }
      page.splice(lo, 0, { s, k });
      if (page.length > limit + 1) page.pop();
    };
    for await (const r of this.#unheld(at)) {
      const s = this.#judge(r, at);
      tally(s.state, s.settled, overdueBits(s), 1);
      if (matches(s, q)) offer(s, listingKey(s));
    }
    for (const c of await this.#store.deliveryCounts(at)) tally(c.state, c.settled, c.overdue, c.n);
    const rows = await this.#store.deliveryListing({
      at,
      limit: limit + 1,
      ...(after ? { after } : {}),
      ...(q.direction !== undefined ? { direction: q.direction } : {}),
      ...(q.state !== undefined ? { state: q.state } : {}),
      ...(q.party !== undefined ? { party: q.party } : {}),
      ...(q.index !== undefined ? { index: q.index } : {}),
      ...(q.recipient !== undefined ? { recipient: q.recipient } : {}),
      ...(q.open !== undefined ? { settled: !q.open } : {}),
    });
    for (const r of rows) {
      const s = this.#judge(r, at);
      const j = r.judged!;
      offer(s, [j.rank, j.sortDue, r.index, r.party, r.recipient]);
    }
    const more = page.length > limit;
    const items = page.slice(0, limit);
    return { items: items.map((x) => x.s), counts: { total, byState, open, late }, more, last: items[items.length - 1]?.k };
  }

  /**
   * Open deliveries overdue at `at` (the metrics): the store's listing range
   * of rank 0 (open and overdue) and the deliveries judged here at `at`.
   */
  async *overdueOpen(at: number): AsyncGenerator<DeliveryStatus> {
    for await (const r of this.#unheld(at)) {
      const s = this.#judge(r, at);
      if (!s.settled && s.overdue.length > 0) yield s;
    }
    let after: ListingKey | undefined;
    for (;;) {
      const rows = await this.#store.deliveryListing({ at, limit: PAGE, settled: false, ...(after ? { after } : {}) });
      for (const r of rows) {
        if (r.judged!.rank !== 0) return;
        const s = this.#judge(r, at);
        if (!s.settled && s.overdue.length > 0) yield s;
      }
      const last = rows[rows.length - 1];
      if (rows.length < PAGE || !last) return;
      after = [last.judged!.rank, last.judged!.sortDue, last.index, last.party, last.recipient];
    }
  }

  /** The deliveries whose stored judgement does not hold at `at`: stale at `at`, or judged after it (index ranges, a page at a time). */
  async *#unheld(at: number): AsyncGenerator<StoredDelivery> {
    for (const by of ['stale', 'judged'] as const) {
      let afterStale: { at: number; key: DeliveryKey } | undefined;
      for (;;) {
        const rows = await this.#store.deliveries({ limit: PAGE, ...(by === 'stale' ? { staleBefore: at } : { judgedAfter: at }), ...(afterStale ? { afterStale } : {}) });
        yield* rows;
        const last = rows[rows.length - 1];
        if (rows.length < PAGE || !last) break;
        afterStale = { at: (by === 'stale' ? last.judged?.dueAt : last.judged?.judgedAt) ?? 0, key: { party: last.party, index: last.index, recipient: last.recipient } };
      }
    }
  }

  /** A row's status at `now` and the judgement to store (its floors: the earliest bound ever used, issue 14). */
  #judgeRow(r: StoredDelivery, now: number): { status: DeliveryStatus; judgement: DeliveryJudgement } {
    const f = this.#floored(r);
    const status = this.#judge(r, now, f);
    const p = listingPlace(status);
    return {
      status,
      judgement: {
        party: r.party,
        index: r.index,
        recipient: r.recipient,
        state: status.state,
        settled: status.settled,
        overdue: overdueBits(status),
        dueAt: status.nextDueAt !== undefined ? Date.parse(status.nextDueAt) : null,
        judgedAt: now,
        rank: p.rank,
        sortDue: p.sortDue,
        startBound: f.start ?? null,
        receiptIdx: f.receipt?.index ?? null,
        receiptBound: f.receipt?.bound ?? null,
        ackIdx: f.ack?.index ?? null,
        ackBound: f.ack?.bound ?? null,
        // Written only if no answer or withdrawal was filed meanwhile (a refresh between changes and done, or another process).
        basis: { answers: r.answers ?? null, withdrawn: r.withdrawn ?? null },
      },
    };
  }

  /**
   * The time bounds of a row's entry and answers, each the earliest of the
   * provider's and the floor the store keeps (issue 14: a trimmed cosigned
   * history gives old entries a later time; an entry is never judged later
   * than it once was).
   */
  #floored(r: StoredDelivery): { start?: number; receipt?: { index: number; bound?: number }; ack?: { index: number; bound?: number }; a: Answers } {
    const b = this.#bounds;
    const j = r.judged;
    const a: Answers = r.answers !== undefined ? (JSON.parse(r.answers) as Answers) : {};
    const start = least(msOf(b.bound(r.party, r.index, r.recipient)?.notAfter), j?.startBound);
    const answer = (x: Answer | undefined, idx: number | null | undefined, floor: number | null | undefined) => {
      if (x === undefined) return undefined;
      const t = least(msOf(b.bound(r.recipient, x.index, r.party)?.notAfter), idx === x.index ? floor : undefined);
      return { index: x.index, ...(t !== undefined ? { bound: t } : {}) };
    };
    const receipt = answer(a.receipt, j?.receiptIdx, j?.receiptBound);
    const ack = answer(a.ack, j?.ackIdx, j?.ackBound);
    return { ...(start !== undefined ? { start } : {}), ...(receipt ? { receipt } : {}), ...(ack ? { ack } : {}), a };
  }

  #judge(r: StoredDelivery, now: number, fl = this.#floored(r)): DeliveryStatus {
    const f = JSON.parse(r.facts) as StoredFacts;
    const a = fl.a;
    const w = r.withdrawn !== undefined ? (JSON.parse(r.withdrawn) as Answer) : undefined;
    const facts: DeliveryFacts = {
      direction: r.direction,
      party: r.party,
      index: r.index,
      recipient: r.recipient,
      ...f,
      ...(a.receipt ? { receipt: a.receipt } : {}),
      ...(a.ack ? { ack: a.ack } : {}),
      ...(a.rejection ? { rejection: a.rejection } : {}),
      ...(w ? { withdrawn: w } : {}),
    };
    // The provider's bounds, floored (#floored): the three this delivery's state uses.
    const b = this.#bounds;
    const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    const floored = (got: TimeBound | undefined, t: number | undefined): TimeBound | undefined => {
      const notAfter = iso(t);
      return notAfter === undefined ? got : { ...got, notAfter };
    };
    const bounds: TimeBounds = {
      bound: (party, index, by) => {
        const got = b.bound(party, index, by);
        if (party === r.party && index === r.index && by === r.recipient) return floored(got, fl.start);
        if (party === r.recipient && by === r.party && fl.receipt?.index === index) return floored(got, fl.receipt.bound);
        if (party === r.recipient && by === r.party && fl.ack?.index === index) return floored(got, fl.ack.bound);
        return got;
      },
    };
    return deliveryState(facts, this.#node.accord.accord.deadlines, now, bounds);
  }

  async #refresh(): Promise<void> {
    // Read at each refresh, not once: another process on the store (a follower on one PostgreSQL) files too.
    const stored = await this.#store.deliveryCursor();
    this.#cursor = { ownSize: Math.max(this.#cursor?.ownSize ?? 0, stored.ownSize), lastSeq: Math.max(this.#cursor?.lastSeq ?? 0, stored.lastSeq) };
    const size = await this.#store.treeSize();
    for (let from = this.#cursor.ownSize; from < size; from += PAGE) {
      const to = Math.min(size, from + PAGE);
      const filing = newFiling();
      for (const e of await this.#store.entries(from, to)) await this.#orSkip(this.#node.party, e.index, () => this.#own(e, filing));
      await this.#file(filing, { ownSize: to, lastSeq: this.#cursor.lastSeq });
    }
    // Received entries above the cursor, oldest first, a page per transaction (#file moves the cursor).
    for (;;) {
      const page = await this.#store.inbox({ after: this.#cursor.lastSeq, limit: PAGE });
      if (page.length === 0) break;
      const filing = newFiling();
      for (const r of page) await this.#orSkip(r.party, r.index, () => this.#received(r, filing));
      await this.#file(filing, { ownSize: this.#cursor.ownSize, lastSeq: page[page.length - 1]!.rowid });
      if (page.length < PAGE) break;
    }
  }

  /**
   * Files one page: its deliveries, its answers merged with the rows held
   * (the earliest of each kind), the withdrawals found, and the cursor, in
   * one store transaction; then marks what it touched for {@link changes}.
   */
  async #file(f: Filing, cursor: { ownSize: number; lastSeq: number }): Promise<void> {
    const withdrawals = await this.#withdrawals(f.toCheck);
    const slots = [...f.answers.values()];
    // The merge is a compare-and-set of each answer row (`held`): another tracker or process that filed
    // one of them meanwhile makes the store file nothing, and the rows are read and merged again.
    for (let attempt = 1; ; attempt++) {
      const held = new Map((await this.#store.deliveryAnswers(slots.map((x) => ({ ...keyParts(x.key), hash: x.hash })))).map((r) => [`${deliveryKey(r.party, r.index, r.recipient)}#${r.hash}`, r.answers]));
      const answers: DeliveryAnswerRow[] = slots.map((x) => {
        const was = held.get(`${x.key}#${x.hash}`) ?? null;
        const cur = was === null ? {} : (JSON.parse(was) as Answers);
        for (const add of x.add) add(cur);
        return { ...keyParts(x.key), hash: x.hash, answers: JSON.stringify(cur), held: was };
      });
      if (await this.#store.fileDeliveries({ deliveries: f.deliveries, answers, withdrawals, cursor })) break;
      // Each failure is another filing's success: bounded all the same (the page is read again at the next refresh).
      if (attempt >= MAX_FILE_ATTEMPTS) throw new StoreError('STORE_CONFLICT', `deadlines: answer rows kept moving while filing (${attempt} attempts); filed at the next refresh`);
    }
    this.#cursor = { ownSize: Math.max(this.#cursor?.ownSize ?? 0, cursor.ownSize), lastSeq: Math.max(this.#cursor?.lastSeq ?? 0, cursor.lastSeq) };
    // What it touched is due at once in the store (new deliveries, answered or withdrawn ones: due_at 0), durably with the filing.
  }

  /**
   * Issue 13: of entries filed in a page and entries cited by retractions
   * read in it, those their sender withdrew (retractions.ts — either may
   * arrive first). A withdrawn delivery is judged again.
   */
  async #withdrawals(check: readonly { party: string; index: number }[]): Promise<DeliveryWithdrawal[]> {
    if (check.length === 0) return [];
    const index = retractionIndex(this.#node);
    await index.refresh();
    const out: DeliveryWithdrawal[] = [];
    const seen = new Set<string>();
    for (const { party, index: i } of check) {
      if (seen.has(`${party}/${i}`)) continue;
      seen.add(`${party}/${i}`);
      const r = await index.of(party, i);
      if (r) out.push({ party, index: i, retraction: JSON.stringify({ index: r.by.index, at: r.by.time } satisfies Answer) });
    }
    return out;
  }

  /** Runs `file`; an entry that cannot be filed is skipped and reported (skipped.ts), never the end of the tracker. */
  async #orSkip(party: string, index: number, file: () => Promise<void>): Promise<void> {
    try {
      await file();
    } catch (err) {
      // The store failing is not the entry's fault: the page is not filed (its cursor stays) and is tried again.
      if (err instanceof StoreError) throw err;
      skippedEntries(this.#node).note('deadlines', party, index, err);
    }
  }

  async #own(e: OwnEntry, f: Filing): Promise<void> {
    const me = this.#node.party;
    const m = e.meta;
    if (m.type === 'retraction' && m.refs[0]) f.toCheck.push({ party: m.refs[0].party, index: m.refs[0].index });
    if (needsReceipt(m.type)) {
      const report = m.type === 'incident.report' ? await this.#report(me, e.index) : undefined;
      for (const to of m.to) this.#add(f, 'sent', me, e.index, to, formatBase64(e.leafHash), common(m, report));
    }
    if (m.type === 'receipt' || m.type === 'ack') {
      const rejection = m.type === 'receipt' ? rejectionInEntry(e.bytes) : undefined;
      for (const ref of m.refs) if (ref.party !== me) this.#answer(f, deliveryKey(ref.party, ref.index, me), ref.hash, m.type, { index: e.index, at: m.time }, m.officer, rejection);
    }
  }

  async #received(r: ReceivedEntry, f: Filing): Promise<void> {
    const me = this.#node.party;
    const m = r.meta;
    if (m.type === 'retraction' && m.refs[0]) f.toCheck.push({ party: m.refs[0].party, index: m.refs[0].index });
    if (needsReceipt(m.type)) {
      const report = m.type === 'incident.report' ? await this.#report(r.party, r.index) : undefined;
      this.#add(f, 'received', r.party, r.index, me, formatBase64(r.leafHash), common(m, report));
    }
    if (m.type === 'receipt' || m.type === 'ack') {
      const rejection = m.type === 'receipt' ? rejectionInEntry(r.bytes) : undefined;
      for (const ref of m.refs) if (ref.party === me) this.#answer(f, deliveryKey(me, ref.index, r.party), ref.hash, m.type, { index: r.index, at: m.time }, m.officer, rejection);
    }
  }

  #add(f: Filing, direction: 'sent' | 'received', party: string, index: number, recipient: string, leafHash: string, facts: StoredFacts): void {
    if (facts.type !== 'receipt' && facts.type !== 'heartbeat' && facts.type !== 'ack') f.toCheck.push({ party, index });
    f.deliveries.push({ party, index, recipient, direction, leafHash, facts: JSON.stringify(facts) });
  }

  /**
   * Keeps the earliest answer of each kind. Answers are filed under the
   * entry's leaf hash as the answer's ref names it: one that names another
   * hash at that index (an answer to another history of the log) answers
   * nothing we hold. Filing by hash also lets an answer arrive before its entry.
   */
  #answer(f: Filing, key: string, hash: string, type: 'receipt' | 'ack', a: Answer, officer: string, rejection?: { code: string; reason: string }): void {
    const slot = `${key}#${hash}`;
    let x = f.answers.get(slot);
    if (!x) f.answers.set(slot, (x = { key, hash, add: [] }));
    x.add.push((cur) => {
      if (type === 'receipt') {
        if (!cur.receipt || Date.parse(a.at) < Date.parse(cur.receipt.at)) cur.receipt = a;
        // A refusal stands however many plain receipts came before or after it.
        if (rejection && !cur.rejection) cur.rejection = { ...a, ...rejection };
      } else if (!cur.ack || Date.parse(a.at) < Date.parse(cur.ack.at)) cur.ack = { ...a, officer };
    });
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
