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
import type { DeliveryAnswerRow, DeliveryKey, DeliveryQuery, DeliveryRecord, DeliveryWithdrawal, LogStore, OwnEntry, ReceivedEntry, StoredDelivery } from '@parley/store';
import type { ParleyNode } from '../service.js';
import type { Governed } from '../epochs.js';
import { type AckAnswer, type Answer, type DeliveryFacts, type DeliveryStatus, type RejectionAnswer, type ReportFacts, type TimeBounds, OWN_CLOCKS, deliveryState, needsReceipt } from './state.js';
import { rejectionInEntry } from '../received.js';
import { retractionIndex } from '../retractions.js';
import { skippedEntries } from '../skipped.js';
/** One page of store reads (entries per filing transaction, deliveries per status page). */
const PAGE = 500;
/** Deliveries judged per {@link DeadlineTracker.changes} call by a scan (at start, after a wide bounds change). */
const SCAN_PAGE = 5000;
/** Bound changes over at most this many entries are applied by lookup, larger ones by a scan. */
const BOUNDS_LOOKUP = 1024;

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

/** A scan of the store's deliveries by {@link DeadlineTracker.changes}, one page per call. */
interface Scan {
  /** Report every delivery (else: due in [from, to), bounds unknown, or answered in `answers`). */
  readonly all: boolean;
  after: DeliveryKey | undefined;
  readonly from: number;
  readonly to: number;
  readonly answers: readonly { party: string; from: number; to: number }[];
  nextDue: number;
  unsettled: boolean;
  /** Date.now() when it started, and pages read (pacing). */
  readonly started: number;
  pages: number;
}

/** A deadline of `s` fell due in [from, to): its status changed by the clock. */
function dueIn(s: DeliveryStatus, from: number, to: number): boolean {
  for (const t of [s.receiptDueAt, s.ackDueAt]) {
    if (t === undefined) continue;
    const ms = Date.parse(t);
    if (ms >= from && ms < to) return true;
  }
  return false;
}

/** `s` is answered by an entry in one of `ranges` of its recipient's log. */
function answeredIn(s: DeliveryStatus, ranges: readonly { party: string; from: number; to: number }[]): boolean {
  for (const r of ranges) {
    if (r.party !== s.recipient) continue;
    for (const a of [s.receipt, s.ack]) if (a && a.index >= r.from && a.index < r.to) return true;
  }
  return false;
}

export interface DeadlineTrackerOptions {
  readonly node: ParleyNode;
  readonly store: LogStore;
  /** Cosigned time bounds (default: the parties' own clocks). */
  readonly bounds?: TimeBounds;
}

/** Filters of {@link DeadlineTracker.statuses}. */
export type StatusQuery = Omit<DeliveryQuery, 'limit' | 'after'>;

export class DeadlineTracker {
  readonly #node: ParleyNode;
  readonly #store: LogStore;
  #bounds: TimeBounds;
  /** Deliveries a new fact, answer, withdrawal or bound touched since the last {@link changes}: judged at the next. */
  readonly #touched = new Set<string>();
  /** A scan of the store's deliveries under way ({@link changes}, a page per call). */
  #scan: Scan | undefined;
  /** The next scan reports every delivery (at first, after a wide bounds change or new bounds). */
  #scanAll = true;
  /** Bounds of many entries moved (a trimmed cosigned history): a full scan, paced. */
  #wideChange = false;
  /** Due times before this were reported by a scan (the window of the next one starts here). */
  #coveredUntil = Number.NEGATIVE_INFINITY;
  /** The earliest due time of an unanswered deadline seen by the last scan (and touched deliveries since). */
  #nextDue = Number.POSITIVE_INFINITY;
  /** The last scan met deliveries whose bounds are not all known: the next pass judges them again. */
  #unsettled = false;
  /** Entries of a recipient's log whose bounds moved: the deliveries they answer are judged again by the next scan. */
  #answerRanges: { party: string; from: number; to: number }[] = [];
  /**
   * Wall-clock time (Date.now()) before which no scan but a full one starts:
   * after a scan of more than one page, as long again as it took (scans of
   * a big store take at most half the node's time; issue 14).
   */
  #pacedUntil = 0;
  #unsubscribeBounds: () => void = () => undefined;
  #cursor: { ownSize: number; lastSeq: number } | undefined;
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
    this.#scanAll = true;
    this.#unsubscribeBounds();
    this.#unsubscribeBounds = bounds.onChange?.((party, from, to) => this.#boundsChanged(party, from, to)) ?? (() => undefined);
  }

  /** Reads what is new in the store. Calls are serialized; concurrent callers share the work. */
  refresh(): Promise<void> {
    const run = this.#chain.then(() => this.#refresh());
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
   * The statuses of deliveries that may have changed since this last
   * reported them: new facts or answers, new time bounds for the entry or
   * its answers, or a due time reached. The watcher's incremental view,
   * with no per-delivery state in memory (issue 14): touched deliveries are
   * read by key; the clock's changes are found by a scan of the store that
   * reports the deliveries with a deadline in [end of the last scan, now) —
   * run once `now` passes the earliest due time the last scan saw
   * ({@link nextDueAt}) — and those whose bounds are not all known yet
   * (judged on every pass until they are). At first, and after a wide
   * bounds change, a scan reports every delivery. A scan reports
   * {@link SCAN_PAGE} deliveries per call while {@link scanning}.
   */
  async changes(now: number): Promise<DeliveryStatus[]> {
    const out: DeliveryStatus[] = [];
    const seen = new Set<string>();
    const touched = [...this.#touched];
    this.#touched.clear();
    for (const key of touched) {
      const { party, index, recipient } = keyParts(key);
      const [r] = await this.#store.deliveries({ party, index, recipient, limit: 1 });
      if (!r) continue; // an answer to an entry not held (yet): its filing touches it again
      const s = this.#judge(r, now);
      seen.add(key);
      out.push(s);
      if (s.nextDueAt !== undefined) this.#nextDue = Math.min(this.#nextDue, Date.parse(s.nextDueAt));
      if (!this.#settledBounds(r)) this.#unsettled = true;
    }
    if (this.#scan === undefined) {
      // A deadline changes a status only once now > its due time (state.ts).
      const wanted = this.#scanAll || this.#wideChange || this.#unsettled || this.#answerRanges.length > 0 || now > this.#nextDue;
      if (wanted && (this.#scanAll || Date.now() >= this.#pacedUntil)) {
        this.#scan = { all: this.#scanAll || this.#wideChange, after: undefined, from: this.#coveredUntil, to: now, answers: this.#answerRanges, nextDue: Number.POSITIVE_INFINITY, unsettled: false, started: Date.now(), pages: 0 };
        this.#scanAll = false;
        this.#wideChange = false;
        this.#answerRanges = [];
      }
    }
    const scan = this.#scan;
    if (scan !== undefined) {
      const page = await this.#store.deliveries({ limit: SCAN_PAGE, ...(scan.after ? { after: scan.after } : {}) });
      scan.pages++;
      for (const r of page) {
        const s = this.#judge(r, now);
        const settled = this.#settledBounds(r);
        if (s.nextDueAt !== undefined) scan.nextDue = Math.min(scan.nextDue, Date.parse(s.nextDueAt));
        if (!settled) scan.unsettled = true;
        const key = deliveryKey(r.party, r.index, r.recipient);
        if (!seen.has(key) && (scan.all || !settled || dueIn(s, scan.from, scan.to) || answeredIn(s, scan.answers))) out.push(s);
      }
      const last = page[page.length - 1];
      if (page.length === SCAN_PAGE && last) scan.after = { party: last.party, index: last.index, recipient: last.recipient };
      else {
        this.#scan = undefined;
        this.#pacedUntil = scan.pages > 1 ? Date.now() + (Date.now() - scan.started) : 0;
        this.#coveredUntil = scan.to;
        this.#nextDue = scan.nextDue;
        this.#unsettled = scan.unsettled;
      }
    }
    return out;
  }

  /** True while a scan of the store's deliveries is under way: {@link changes} has more to report at once. */
  get scanning(): boolean {
    return this.#scan !== undefined;
  }

  /** The earliest due time (ms) of the deliveries {@link changes} leaves out, if any. */
  nextDueAt(): number | undefined {
    if (!Number.isFinite(this.#nextDue)) return undefined;
    // A paced scan waits: wake then, not at once and again.
    return this.#pacedUntil > Date.now() ? Math.max(this.#nextDue, this.#pacedUntil) : this.#nextDue;
  }

  /** True when the bounds the delivery's status uses are all known (bounds do not change once given, but by onChange). */
  #settledBounds(r: StoredDelivery): boolean {
    const b = this.#bounds;
    if (b.onChange === undefined) return true;
    // The bounds deliveryState uses: each side's by the other side's cosignatures (state.ts).
    if (b.bound(r.party, r.index, r.recipient)?.notAfter === undefined) return false;
    const a: Answers = r.answers !== undefined ? (JSON.parse(r.answers) as Answers) : {};
    if (a.receipt && b.bound(r.recipient, a.receipt.index, r.party)?.notAfter === undefined) return false;
    if (a.ack && b.bound(r.recipient, a.ack.index, r.party)?.notAfter === undefined) return false;
    return true;
  }

  /** Bounds of entries [from, to) of `party`'s log moved: the deliveries of those entries, or answered by them, are judged again. */
  #boundsChanged(party: string, from: number, to: number): void {
    // A wide change (a trimmed history): every delivery is judged again.
    if (to - from > BOUNDS_LOOKUP) {
      // Paced like the due scans: a full cosigned history trims at every new point (cosigned.ts),
      // and an unpaced full scan per cosignature would pin the CPU.
      this.#wideChange = true;
      return;
    }
    // The usual case, a few entries newly cosigned: their deliveries by key, and the ones they answer by the next scan.
    const parties = this.#node.accord.accord.parties;
    for (let i = from; i < to; i++) for (const p of parties) if (p.id !== party) this.#touch(deliveryKey(party, i, p.id));
    this.#answerRanges.push({ party, from, to });
  }

  /** Makes a delivery judged at the next {@link changes}. */
  #touch(key: string): void {
    // Nobody asked for changes for a while (a follower, or a first filing of a whole log): a full
    // scan reports them all anyway, and the set must not grow with the log.
    if (this.#scanAll) return;
    if (this.#touched.size >= SCAN_PAGE) {
      this.#touched.clear();
      this.#scanAll = true;
      return;
    }
    this.#touched.add(key);
  }

  /**
   * The watcher acted on a status {@link changes} reported. Nothing is kept
   * per delivery (the store holds the facts; the next scan finds the clock's
   * changes), so there is nothing to drop: kept for the watcher's protocol.
   */
  done(_s: DeliveryStatus): void {}

  #judge(r: StoredDelivery, now: number): DeliveryStatus {
    const f = JSON.parse(r.facts) as StoredFacts;
    const a: Answers = r.answers !== undefined ? (JSON.parse(r.answers) as Answers) : {};
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
    return deliveryState(facts, this.#node.accord.accord.deadlines, now, this.#bounds);
  }

  async #refresh(): Promise<void> {
    this.#cursor ??= await this.#store.deliveryCursor();
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
    const held = new Map((await this.#store.deliveryAnswers(slots.map((x) => ({ ...keyParts(x.key), hash: x.hash })))).map((r) => [`${deliveryKey(r.party, r.index, r.recipient)}#${r.hash}`, JSON.parse(r.answers) as Answers]));
    const answers: DeliveryAnswerRow[] = slots.map((x) => {
      const cur = held.get(`${x.key}#${x.hash}`) ?? {};
      for (const add of x.add) add(cur);
      return { ...keyParts(x.key), hash: x.hash, answers: JSON.stringify(cur) };
    });
    await this.#store.fileDeliveries({ deliveries: f.deliveries, answers, withdrawals, cursor });
    this.#cursor = { ownSize: Math.max(this.#cursor?.ownSize ?? 0, cursor.ownSize), lastSeq: Math.max(this.#cursor?.lastSeq ?? 0, cursor.lastSeq) };
    // ---- FILED: what it touched may have changed.
    for (const d of f.deliveries) this.#touch(deliveryKey(d.party, d.index, d.recipient));
    for (const x of slots) this.#touch(x.key);
    const parties = this.#node.accord.accord.parties;
    for (const w of withdrawals) for (const p of parties) this.#touch(deliveryKey(w.party, w.index, p.id));
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
