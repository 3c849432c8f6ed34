/**
 * The officer's inbox as a duty officer reads it (issue 9), for
 * `GET /v1/inbox?order=urgency` (the CLI's `parley inbox`, the dashboard):
 *
 *     1. received entries still awaiting our acknowledgement, overdue first,
 *        then by precedence (FLASH → ROUTINE), then by deadline;
 *     2. then everything else, newest first (receive order);
 *
 * and only THEN cut to `limit` — so an old unacknowledged FLASH is never
 * pushed off the page by newer ROUTINE traffic. The awaiting set comes from
 * the deadline tracker (every open delivery to us), not from a page of the
 * store. One page, no cursor: the urgent part is not a receive-order range.
 *
 * Receipts and heartbeats are machine traffic: not in an officer's inbox
 * unless asked for (`all=1`, or an explicit `type`).
 */
import type { ListQuery, ReceivedListing } from '@parley/store';
import { ENTRY_REGISTRY, ENTRY_TYPES, PRECEDENCES, type Precedence } from '@parley/core';
import { deadlineTracker } from '../deadlines/tracker.js';
import { type DeliveryStatus, needsAck } from '../deadlines/state.js';
import type { Context } from './context.js';

/**
 * Entry types an officer's inbox leaves out by default: machine traffic, the
 * known types neither officers nor governance write (core's entry-type
 * registry: receipt, heartbeat). A type this node does not know is listed.
 */
export const MACHINE_TYPES: readonly string[] = ENTRY_TYPES.filter((t) => !ENTRY_REGISTRY[t].officer && ENTRY_REGISTRY[t].governance !== true);

/** The store query for an inbox/outbox listing: machine traffic left out unless `all` or a type is asked for. */
export function officerQuery(q: ListQuery, all: boolean): ListQuery {
  return all || q.type !== undefined ? q : { ...q, excludeTypes: MACHINE_TYPES };
}

const due = (s: DeliveryStatus) => Date.parse(s.ackDueAt ?? s.receiptDueAt);
const late = (s: DeliveryStatus, now: number) => s.overdue.length > 0 || now > due(s);

/**
 * Orders awaiting deliveries: overdue first, then FLASH → ROUTINE, then the
 * nearest deadline, then the older entry.
 */
export function compareUrgency(now: number): (a: DeliveryStatus, b: DeliveryStatus) => number {
  const p = (s: DeliveryStatus) => PRECEDENCES.indexOf(s.precedence as Precedence);
  return (a, b) => Number(late(b, now)) - Number(late(a, now)) || p(a) - p(b) || due(a) - due(b) || a.sentAt.localeCompare(b.sentAt);
}

/**
 * The listings of the inbox in urgency order (see the module doc), at most `q.limit`.
 * `q.before` is ignored (one page).
 */
export async function urgentInbox(ctx: Pick<Context, 'node' | 'store'>, q: ListQuery): Promise<ReceivedListing[]> {
  const tracker = deadlineTracker(ctx.node, ctx.store);
  await tracker.refresh();
  const now = Date.now();
  const excluded = new Set(q.excludeTypes ?? []);
  const compare = compareUrgency(now);
  // Streamed from the store (issue 14): only the `limit` most urgent are kept (a node may hold millions
  // awaiting), in urgency order, each with its listing (read only when it enters: the incident filter).
  const top: { s: DeliveryStatus; rec: ReceivedListing }[] = [];
  for await (const s of tracker.statuses(now, { direction: 'received', ...(q.party !== undefined ? { party: q.party } : {}) })) {
    if (!needsAck(s.type) || s.settled || excluded.has(s.type) || (q.type !== undefined && s.type !== q.type)) continue;
    if (top.length >= q.limit && compare(s, top[top.length - 1]!.s) >= 0) continue;
    const rec = await ctx.store.received(s.party, s.index);
    if (!rec || (q.incident !== undefined && rec.meta.incident !== q.incident)) continue;
    let lo = 0;
    let hi = top.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (compare(top[mid]!.s, s) <= 0) lo = mid + 1;
      else hi = mid;
    }
    // rowid is the receive-order cursor; an urgent item is not part of a receive-order page.
    top.splice(lo, 0, { s, rec: { ...rec, rowid: 0 } });
    if (top.length > q.limit) top.pop();
  }
  const out: ReceivedListing[] = top.map((x) => x.rec);
  const taken = new Set(top.map((x) => `${x.s.party}/${x.s.index}`));
  const { before: _ignored, ...rest } = q;
  let before: number | undefined;
  while (out.length < q.limit) {
    const page = await ctx.store.inbox({ ...rest, ...(before !== undefined ? { before } : {}) });
    for (const r of page) if (out.length < q.limit && !taken.has(`${r.party}/${r.index}`)) out.push(r);
    if (page.length < q.limit) break;
    before = page[page.length - 1]!.rowid;
  }
  return out;
}
