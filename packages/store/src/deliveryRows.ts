/**
 * The deliveries row as both stores read it (issue 14: the deadline tracker's
 * deliveries on disk), and the record it becomes.
 */
import type { DeliveryJudgement, StoredDelivery } from './types.js';

/** A `deliveries` row joined with its answers and withdrawal (column names as in both schemas). */
export interface DeliveryRow {
  party: string;
  idx: number;
  recipient: string;
  direction: 'sent' | 'received';
  leaf_hash: string;
  facts: string;
  answers: string | null;
  retraction: string | null;
  // schema 13 / PG 5: the tracker's judgement (state null: never judged)
  state: string | null;
  settled: number | boolean | null;
  overdue: number | null;
  due_at: number | string | null;
  judged_at: number | string | null;
  rank: number | null;
  sort_due: number | string | null;
  start_bound: number | string | null;
  receipt_idx: number | string | null;
  receipt_bound: number | string | null;
  ack_idx: number | string | null;
  ack_bound: number | string | null;
}

/** The judgement columns, in the order {@link judgementParams} gives them. */
export const DELIVERY_JUDGEMENT_COLUMNS = 'd.state, d.settled, d.overdue, d.due_at, d.judged_at, d.rank, d.sort_due, d.start_bound, d.receipt_idx, d.receipt_bound, d.ack_idx, d.ack_bound';

/** The SELECT list of a delivery row (the deliveries table as `d`, answers `a`, withdrawals `w`). */
export const DELIVERY_COLUMNS = `d.party, d.idx, d.recipient, d.direction, d.leaf_hash, d.facts, a.answers, w.retraction, ${DELIVERY_JUDGEMENT_COLUMNS}`;

/** The joins of a delivery row. */
export const DELIVERY_JOINS = `LEFT JOIN delivery_answers a ON a.party = d.party AND a.idx = d.idx AND a.recipient = d.recipient AND a.hash = d.leaf_hash
        LEFT JOIN delivery_withdrawals w ON w.party = d.party AND w.idx = d.idx`;

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

/** The stored delivery of a row: absent answers and withdrawal are left out, not null. */
export function storedDeliveryOf(r: DeliveryRow): StoredDelivery {
  return {
    party: r.party,
    index: Number(r.idx),
    recipient: r.recipient,
    direction: r.direction,
    leafHash: r.leaf_hash,
    facts: r.facts,
    ...(r.answers !== null ? { answers: r.answers } : {}),
    ...(r.retraction !== null ? { withdrawn: r.retraction } : {}),
    ...(r.state !== null && r.state !== undefined
      ? {
          judged: {
            state: r.state,
            settled: r.settled === true || r.settled === 1,
            overdue: r.overdue ?? 0,
            dueAt: num(r.due_at),
            judgedAt: num(r.judged_at) ?? 0,
            rank: r.rank ?? 0,
            sortDue: num(r.sort_due) ?? 0,
            startBound: num(r.start_bound),
            receiptIdx: num(r.receipt_idx),
            receiptBound: num(r.receipt_bound),
            ackIdx: num(r.ack_idx),
            ackBound: num(r.ack_bound),
          },
        }
      : {}),
  };
}

/** The values written by judgeDeliveries, after the key: state … ack_bound, then party, idx, recipient. */
export function judgementParams(j: DeliveryJudgement): (string | number | null)[] {
  return [j.state, j.settled ? 1 : 0, j.overdue, j.dueAt, j.judgedAt, j.rank, j.sortDue, j.startBound, j.receiptIdx, j.receiptBound, j.ackIdx, j.ackBound, j.party, j.index, j.recipient];
}
