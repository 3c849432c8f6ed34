/**
 * Delivery states: pure functions from the facts about one delivery (an
 * entry, one recipient, the answers that recipient logged) and a clock to
 * where that delivery stands against the accord's deadlines. No I/O: the
 * {@link DeadlineTracker} (tracker.ts) gathers the facts from the store.
 *
 * One delivery = one entry of a sender's log × one of its recipients. The
 * answers are entries of the RECIPIENT's log whose refs point at the entry:
 * its machine `receipt` and its officer's `ack`.
 *
 *     sent ──receipt──▶ received ──ack──▶ acknowledged
 *       │                  │
 *       ▼ receipt due      ▼ ack due (hotline.message, incident.report only)
 *     overdue-receipt    overdue-ack
 *
 * Rules:
 * - Every entry type but `receipt` needs a receipt within
 *   `accord.deadlines.receiptSeconds` (receipts are never receipted: that
 *   would never end). `hotline.message` and `incident.report` also need an
 *   officer's ack within `ackSeconds[precedence]`; machine entries (receipts,
 *   heartbeats, acks) and amendments need none.
 * - Both deadlines run from the entry's time; an answer is on time when its
 *   time is at or before the due time (`at ≤ dueAt`), and a missing answer
 *   is overdue once `now > dueAt`.
 * - An ack also proves receipt: the receipt time is the earlier of the
 *   receipt's and the ack's.
 * - A deadline that passed before its answer leaves the delivery overdue
 *   for good: a late answer is recorded (`onTime: false`, `settled`) but the
 *   state stays `overdue-…` — a missed deadline is evidence (STYLE.md §7c),
 *   not something a late reply erases. A late receipt dominates: such a
 *   delivery is `overdue-receipt` even if the ack then came on time.
 * - A receipt that is a signed rejection (node/src/received.ts: the body
 *   failed its check) answers the receipt deadline like any receipt and
 *   settles the delivery as `rejected`: no acknowledgement is due for an
 *   entry its recipient refused. `rejected` wins over `overdue-receipt`
 *   (a late rejection still lists `receipt` in `overdue`).
 * - An entry its sender withdrew (a `retraction`, issue 13, node
 *   retractions.ts) needs no acknowledgement any more, whenever the
 *   retraction came: the delivery is `withdrawn` and settled, its ack is
 *   never overdue (an ack given before stays recorded). `withdrawn` wins
 *   over every state but `rejected`; a late receipt stays in `overdue`.
 * - An incident's INITIAL report with a `detectedAt` also carries the
 *   initial-report deadline for its severity
 *   (`initialReportSeconds[severity]`, from `detectedAt` to the report's
 *   time): whether the reporter itself was on time.
 *
 * Clocks. Without federation, times are each party's own claim: the
 * sender's envelope time starts the clock and the recipient's receipt/ack
 * envelope time stops it. With it, {@link TimeBounds} (cosigned.ts) says
 * what counterparts' cosignatures prove about when an entry existed —
 * `notAfter`: a counterpart cosigned a checkpoint containing it then;
 * `notBefore`: a counterpart cosigned a checkpoint without it then — and:
 *
 *     start  = the sender's claim clamped into [notBefore, notAfter]: a
 *              sender cannot date its entry later than a counterpart
 *              witnessed it (which would stretch the recipient's deadline)
 *     answer = notAfter of the answer when known — the recipient's claim is
 *              not used, whichever way its clock is wrong; else the claim
 *              clamped to ≥ notBefore (not yet cosigned: the claim stands
 *              until a cosignature replaces it)
 *
 * On the sender's node the answer's bound is the sender's own cosignature,
 * so a sender whose clock is off by any amount is judged on one clock (its
 * claim and its cosignature move together): the offset cancels, and a late
 * answer stays late.
 *
 * Whose cosignatures (issue 14, the soak's "judged late by its sender"): a
 * delivery is judged on the evidence of its TWO parties only — the start by
 * the recipient's cosignature of the sender's log, an answer by the
 * sender's cosignature of the recipient's log (PRODUCT.md: "times are
 * bounded by the counterpart's cosignature timestamps"; the `by` argument
 * of {@link TimeBounds.bound}) — plus trusted time-stamps, which both sides
 * hold alike. Both nodes hold those cosignatures (each made its own and
 * was sent the other's: push answers, a witness's held cosignature for a
 * checkpoint asked again, gossip), so the two dashboards judge on the same
 * evidence. A cosignature whose answer was lost AND was superseded at the
 * witness before gossip read its state reaches the answerer's node from the
 * witness's signed cosignature history (gossip.ts `readCosignatureHistory`,
 * issue 14) and takes its place in the bounds (cosigned.ts). A third party's cosignature is not used: the
 * recipient holds every peer's cosignature of its own log, the sender only
 * its own, so with "earliest over every cosigner" the recipient judged its
 * answer by a third party's earlier cosignature (on time) while the sender,
 * whose witness saw it later, judged it late — two verdicts of one delivery.
 *
 * Cosignature timestamps are whole seconds, so cosigned times are exact to
 * one second.
 */
import { type AccordDeadlines, type Precedence, needsAck as needsAckOf } from '@parley/core';

export type DeliveryStateName = 'sent' | 'received' | 'acknowledged' | 'overdue-receipt' | 'overdue-ack' | 'rejected' | 'withdrawn';
export const DELIVERY_STATES: readonly DeliveryStateName[] = ['sent', 'received', 'acknowledged', 'overdue-receipt', 'overdue-ack', 'rejected', 'withdrawn'];

/** `sent`: an entry of our log to another party; `received`: another party's entry to us. */
export type Direction = 'sent' | 'received';

/** Which deadline: the machine receipt or the officer's acknowledgement. */
export type DeadlineKind = 'receipt' | 'ack';

/** An answer: an entry of the recipient's log referencing the delivered entry. */
export interface Answer {
  /** Its index in the recipient's log. */
  readonly index: number;
  /** Its envelope time (the recipient's clock), RFC 3339. */
  readonly at: string;
}

export interface AckAnswer extends Answer {
  readonly officer: string;
}

/** A signed rejection (a receipt with `status: "rejected"`, node/src/received.ts). */
export interface RejectionAnswer extends Answer {
  readonly code: string;
  readonly reason: string;
}

/** What is known about an incident report's timing (from its body). */
export interface ReportFacts {
  readonly kind: string;
  readonly severity: number;
  /** When the reporting party became aware (RFC 3339), if it said. */
  readonly detectedAt?: string;
}

/** Everything the state of one delivery depends on, except the clock. */
export interface DeliveryFacts {
  readonly direction: Direction;
  /** The sender: the party whose log holds the entry. */
  readonly party: string;
  readonly index: number;
  /** The recipient whose answers this delivery awaits. */
  readonly recipient: string;
  readonly type: string;
  readonly precedence: Precedence;
  readonly marking: string;
  /** Every recipient of the entry. */
  readonly to: readonly string[];
  /** The sender's envelope time, RFC 3339. */
  readonly sentAt: string;
  readonly report?: ReportFacts;
  /** The recipient's earliest receipt of the entry. */
  readonly receipt?: Answer;
  /** The recipient's earliest acknowledgement of the entry. */
  readonly ack?: AckAnswer;
  /** The recipient's signed rejection of the entry (also one of its receipts). */
  readonly rejection?: RejectionAnswer;
  /** The sender's retraction of the entry (an entry of the sender's log, issue 13). */
  readonly withdrawn?: Answer;
}

/** What counterparts' cosignatures prove about when an entry existed. Absent members: no bound. */
export interface TimeBound {
  /** The entry did not exist before this time (RFC 3339). */
  readonly notBefore?: string;
  /** The entry existed by this time (RFC 3339): a counterpart cosigned a checkpoint containing it. */
  readonly notAfter?: string;
}

/**
 * The hook for cosigned times (federation): bounds on when entry `index`
 * of `party`'s log existed. Synchronous, so a provider caches what it read.
 */
export interface TimeBounds {
  /**
   * @param by when given, only this counterpart's cosignatures of `party`'s
   *   log count (and trusted time-stamps): the evidence both parties of a
   *   delivery hold (see the module doc). Absent: every cosigner's.
   */
  bound(party: string, index: number, by?: string): TimeBound | undefined;
  /**
   * Subscribes to changes: `listener(party, from, to)` after the bounds of
   * entries [from, to) of `party`'s log may have changed (absent: bounds
   * never change once given). @returns the unsubscribe function.
   */
  onChange?(listener: (party: string, from: number, to: number) => void): () => void;
  /**
   * What the provider knows bounds for: entries [0, to) of `party`'s log (by
   * cosigner `by`; absent: any). A tracker given this provider judges again
   * only the deliveries judged without such a bound (absent: every one judged
   * without a bound).
   */
  covered?(): readonly { readonly party: string; readonly to: number; readonly by?: string }[];
}

/** The parties' own clocks, nothing witnessed (no federation; cosigned.ts is the witnessed provider). */
export const OWN_CLOCKS: TimeBounds = { bound: () => undefined };

export interface JudgedAnswer extends Answer {
  /** The time used for the judgement (its cosigned time, or the claim; see the module doc). */
  readonly judgedAt: string;
  readonly onTime: boolean;
}

/** Where one delivery stands at `now`. */
export interface DeliveryStatus extends Omit<DeliveryFacts, 'report' | 'receipt' | 'ack' | 'rejection' | 'withdrawn'> {
  /** Withdrawn by its sender: the retraction (issue 13). */
  readonly withdrawn?: Answer;
  readonly receiptDueAt: string;
  /** Only for entries that need an officer's ack. */
  readonly ackDueAt?: string;
  readonly receipt?: JudgedAnswer;
  readonly ack?: JudgedAnswer & { readonly officer: string };
  /** The recipient refused the entry (its body failed its check): no acknowledgement will come. */
  readonly rejection?: RejectionAnswer;
  /** Incident initial reports with a `detectedAt`: the reporter's own deadline. */
  readonly initialReport?: { readonly detectedAt: string; readonly dueAt: string; readonly onTime: boolean };
  readonly state: DeliveryStateName;
  /** The deadlines that passed before their answer (a late answer leaves its kind here). */
  readonly overdue: readonly DeadlineKind[];
  /** Nothing more is expected (every needed answer is in, on time or not). */
  readonly settled: boolean;
  /** The next time this status changes by the clock alone, if it can. */
  readonly nextDueAt?: string;
}

/** Every entry but a receipt needs a machine receipt — an entry of a type this node does not know too. */
export function needsReceipt(type: string): boolean {
  return type !== 'receipt';
}

/**
 * Only human traffic needs an officer's acknowledgement: the types core's
 * entry-type registry marks `ack`. Never an unknown type (registry.ts).
 */
export function needsAck(type: string): boolean {
  return needsAckOf(type);
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** A claimed time clamped into what the bound proves. */
function judged(claimed: string, b: TimeBound | undefined): number {
  let t = Date.parse(claimed);
  if (b?.notBefore !== undefined) t = Math.max(t, Date.parse(b.notBefore));
  if (b?.notAfter !== undefined) t = Math.min(t, Date.parse(b.notAfter));
  return t;
}

/** When an answer is judged to exist: its cosigned time when known, else its claim (see the module doc). */
function answered(claimed: string, b: TimeBound | undefined): number {
  if (b?.notAfter !== undefined) return Date.parse(b.notAfter);
  return judged(claimed, b);
}

/**
 * The state of one delivery at `now` (see the module doc for the rules).
 * @param facts the delivery and the answers known so far.
 * @param deadlines the accord's deadlines.
 * @param now milliseconds since the epoch.
 * @param bounds cosigned time bounds (default: the parties' own clocks).
 * @example deliveryState(facts, accord.deadlines, Date.now()).state // 'overdue-ack'
 */
export function deliveryState(facts: DeliveryFacts, deadlines: AccordDeadlines, now: number, bounds: TimeBounds = OWN_CLOCKS): DeliveryStatus {
  // Each side's time is bounded by the other side's cosignature (module doc, "Whose cosignatures").
  const start = judged(facts.sentAt, bounds.bound(facts.party, facts.index, facts.recipient));
  const receiptDue = start + deadlines.receiptSeconds * 1000;
  // A rejected entry will never be acknowledged: the rejection settles it.
  const ackTracked = needsAck(facts.type) && facts.rejection === undefined;
  const ackDue = ackTracked ? start + deadlines.ackSeconds[facts.precedence] * 1000 : undefined;
  // A withdrawn entry keeps its ack deadline on record (compliance counts it as withdrawn) but no ack is due.
  const wantsAck = ackTracked && facts.withdrawn === undefined;

  const ackAt = facts.ack ? answered(facts.ack.at, bounds.bound(facts.recipient, facts.ack.index, facts.party)) : undefined;
  const ownReceiptAt = facts.receipt ? answered(facts.receipt.at, bounds.bound(facts.recipient, facts.receipt.index, facts.party)) : undefined;
  // An ack proves receipt: whichever answer came first stops the receipt clock.
  const proof = earliest(facts.receipt && ownReceiptAt !== undefined ? { a: facts.receipt, t: ownReceiptAt } : undefined, facts.ack && ackAt !== undefined ? { a: facts.ack, t: ackAt } : undefined);

  const receiptLate = proof ? proof.t > receiptDue : now > receiptDue;
  const ackLate = ackDue === undefined ? false : ackAt !== undefined ? ackAt > ackDue : wantsAck && now > ackDue;
  const overdue: DeadlineKind[] = [...(receiptLate ? (['receipt'] as const) : []), ...(ackLate ? (['ack'] as const) : [])];

  const state: DeliveryStateName = facts.rejection
    ? 'rejected'
    : facts.withdrawn
    ? 'withdrawn'
    : receiptLate
    ? 'overdue-receipt'
    : !proof
      ? 'sent'
      : ackLate
        ? 'overdue-ack'
        : wantsAck && ackAt !== undefined
          ? 'acknowledged'
          : 'received';
  const settled = facts.withdrawn !== undefined || (wantsAck ? facts.ack !== undefined : proof !== undefined);
  // Clock-driven changes: a missing answer whose deadline has not passed yet.
  const waiting = [...(!proof && !receiptLate ? [receiptDue] : []), ...(wantsAck && ackDue !== undefined && ackAt === undefined && !ackLate ? [ackDue] : [])];

  const r = facts.report;
  const initial =
    facts.type === 'incident.report' && r?.kind === 'initial' && r.detectedAt !== undefined
      ? (() => {
          const seconds = deadlines.initialReportSeconds[String(r.severity)];
          if (seconds === undefined) return undefined;
          const dueAt = Date.parse(r.detectedAt) + seconds * 1000;
          return { detectedAt: r.detectedAt, dueAt: iso(dueAt), onTime: start <= dueAt };
        })()
      : undefined;

  return {
    direction: facts.direction,
    party: facts.party,
    index: facts.index,
    recipient: facts.recipient,
    type: facts.type,
    precedence: facts.precedence,
    marking: facts.marking,
    to: facts.to,
    sentAt: facts.sentAt,
    receiptDueAt: iso(receiptDue),
    ...(ackDue !== undefined ? { ackDueAt: iso(ackDue) } : {}),
    ...(proof ? { receipt: { index: proof.a.index, at: proof.a.at, judgedAt: iso(proof.t), onTime: !receiptLate } } : {}),
    ...(facts.ack && ackAt !== undefined ? { ack: { index: facts.ack.index, at: facts.ack.at, officer: facts.ack.officer, judgedAt: iso(ackAt), onTime: !ackLate } } : {}),
    ...(facts.rejection ? { rejection: facts.rejection } : {}),
    ...(facts.withdrawn ? { withdrawn: facts.withdrawn } : {}),
    ...(initial ? { initialReport: initial } : {}),
    state,
    overdue,
    settled,
    ...(waiting.length > 0 ? { nextDueAt: iso(Math.min(...waiting)) } : {}),
  };
}

function earliest<T extends { t: number }>(a: T | undefined, b: T | undefined): T | undefined {
  if (!a) return b;
  if (!b) return a;
  return b.t < a.t ? b : a;
}

/** The short form shown beside an inbox/outbox item. */
export interface DeadlineSummary {
  readonly recipient: string;
  readonly state: DeliveryStateName;
  /**
   * The deadline that governs the item: the next one while it is open and
   * on time, the first one missed once overdue, the last one once settled.
   */
  readonly dueAt: string;
  readonly overdue: readonly DeadlineKind[];
  readonly settled: boolean;
}

/** {@link DeadlineSummary} of a status. */
export function summarize(s: DeliveryStatus): DeadlineSummary {
  const missed = s.overdue[0] === 'receipt' ? s.receiptDueAt : s.overdue[0] === 'ack' ? s.ackDueAt : undefined;
  const dueAt = s.settled ? (s.ackDueAt ?? s.receiptDueAt) : (missed ?? s.nextDueAt ?? s.receiptDueAt);
  return { recipient: s.recipient, state: s.state, dueAt, overdue: s.overdue, settled: s.settled };
}

/** Counts by state, plus how many are still open and how many were answered late. */
export interface DeliveryCounts {
  readonly total: number;
  readonly byState: Readonly<Record<DeliveryStateName, number>>;
  /** Not settled: an answer is still expected. */
  readonly open: number;
  /** Settled, but after a deadline. */
  readonly late: number;
}

/** Tallies statuses (see {@link DeliveryCounts}). */
export function countDeliveries(items: readonly DeliveryStatus[]): DeliveryCounts {
  const byState = Object.fromEntries(DELIVERY_STATES.map((s) => [s, 0])) as Record<DeliveryStateName, number>;
  let open = 0;
  let late = 0;
  for (const s of items) {
    byState[s.state]++;
    if (!s.settled) open++;
    else if (s.overdue.length > 0) late++;
  }
  return { total: items.length, byState, open, late };
}

/**
 * A status's place in the deadline listing (GET /v1/deadlines): rank 0 open
 * and overdue, 1 open, 2 settled; within a rank the deadline that matters
 * first (ms). Kept in the store's indexed columns with the judgement (issue 14).
 */
export function listingPlace(s: DeliveryStatus): { rank: number; sortDue: number } {
  const rank = s.settled ? 2 : s.overdue.length > 0 ? 0 : 1;
  const sortDue = Date.parse(s.overdue.length > 0 && !s.settled ? s.receiptDueAt : (s.nextDueAt ?? s.receiptDueAt));
  return { rank, sortDue };
}
