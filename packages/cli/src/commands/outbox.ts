/**
 * `parley outbox`: what we sent and how each recipient answered — its
 * receipt and acknowledgement with their times, on time, late or overdue,
 * and the reply. The node's own listing (GET /v1/outbox, the dashboard's
 * Outbox) carries every recipient's delivery of each entry; --pending and
 * --overdue select entries by their open deliveries (GET /v1/deadlines).
 *
 *     ENTRY  PRECEDENCE  TYPE             SENT                  TO      FIRST LINE
 *     US/7   FLASH       hotline.message  2025-06-01T10:00:00Z  CN, EU  Unusual model behaviour…
 *       CN  acknowledged late (+4s)  receipt 10:00:01Z  ack 10:00:09Z (wang)  reply: 收到
 *       EU  OVERDUE ack (due 10:05:00Z, 1m 10s ago)  receipt 10:00:01Z
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { ACK_TYPES, ENTRY_TYPES, PARTY_ID } from '@parley/core/node';
import type { DeadlinesResponse, EntryDeadline, EntryView, ListResponse } from '@parley/node/api';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { parseIndexArg } from '../hashes.js';
import { type ClientOpts, client, clientOptions } from '../client.js';
import { clock, columns, span, stamp } from '../human.js';
import { firstLine } from './inbox.js';

/** What an officer sends and answers (core's entry-type registry: the types needing an acknowledgement): listed unless --all or --type. */
const OFFICER_TYPES: readonly string[] = ACK_TYPES;
/** Parallel requests when fetching the entries of --pending/--overdue. */
const FETCHES = 8;

interface OutboxOpts extends ClientOpts {
  type?: string;
  to?: string;
  all?: boolean;
  pending?: boolean;
  overdue?: boolean;
  before?: string;
  limit: string;
}

type Client = ReturnType<typeof client>;

/**
 * One recipient's delivery in words: what happened, or what is awaited and
 * by when — the dashboard's labels (web entries.ts `deliveryLabel`).
 */
export function deliveryText(d: EntryDeadline, now: number): { text: string; overdue: boolean } {
  const late = (at: string, due: string | undefined) => (due === undefined ? '' : ` (+${span(Math.max(1000, Date.parse(at) - Date.parse(due)))})`);
  if (d.state === 'rejected') return { text: 'REJECTED (a signed rejection: the body failed its check)', overdue: false };
  if (d.state === 'withdrawn' && d.ack === undefined) return { text: 'withdrawn (we retracted it: no acknowledgement due)', overdue: false };
  if (d.ack !== undefined) return { text: d.ack.onTime ? 'acknowledged' : `acknowledged late${late(d.ack.judgedAt, d.ackDueAt)}`, overdue: false };
  const passed = (due: string | undefined) => !d.settled && due !== undefined && Date.parse(due) < now;
  const due = (what: string, at: string) => `${what} (due ${stamp(at)}, ${span(now - Date.parse(at))} ago)`;
  const receiptDue = d.receiptDueAt ?? d.dueAt;
  if (d.receipt === undefined) {
    if (d.overdue.includes('receipt') || passed(receiptDue)) return { text: due('OVERDUE receipt', receiptDue), overdue: true };
    return { text: `awaiting receipt (due in ${span(Date.parse(receiptDue) - now)})`, overdue: false };
  }
  if (d.ackDueAt !== undefined) {
    if (d.overdue.includes('ack') || passed(d.ackDueAt)) return { text: due('OVERDUE ack', d.ackDueAt), overdue: true };
    if (!d.settled) return { text: `awaiting ack (due in ${span(Date.parse(d.ackDueAt) - now)})`, overdue: false };
  }
  return { text: d.receipt.onTime ? 'received' : `received late${late(d.receipt.judgedAt, d.receiptDueAt)}`, overdue: false };
}

/** The recipient lines under an entry: state, receipt and ack times, officer, reply. */
function recipientRows(v: EntryView, now: number): string[][] {
  return (v.deadlines ?? []).map((d) => {
    const answers = [
      ...(d.receipt ? [`receipt ${clock(d.receipt.at, v.entry.time)}`] : []),
      ...(d.ack ? [`ack ${clock(d.ack.at, v.entry.time)} (${d.ack.officer})`] : []),
      ...(d.ack?.reply !== undefined ? [`reply: ${oneLine(d.ack.reply)}`] : []),
    ];
    return ['', d.recipient, deliveryText(d, now).text, answers.join('  ')];
  });
}

const oneLine = (s: string) => {
  const l = s.split('\n')[0] ?? '';
  return l.length > 72 ? `${l.slice(0, 71)}…` : l;
};

/** The table: a line per entry, a line per recipient under it. */
export function outboxLines(items: readonly EntryView[], now = Date.now()): string[] {
  if (items.length === 0) return [];
  const head = ['ENTRY', 'PRECEDENCE', 'TYPE', 'SENT', 'TO', 'FIRST LINE'];
  const entries = columns(
    items.map((v) => [`${v.party}/${v.index}`, v.entry.precedence, v.entry.type, stamp(v.entry.time), v.entry.to.join(', '), firstLine(v)]),
    head,
  );
  const recipients = columns(items.flatMap((v) => recipientRows(v, now)));
  const out = [entries[0]!];
  let r = 0;
  items.forEach((v, i) => {
    out.push(entries[i + 1]!);
    for (let k = 0; k < (v.deadlines?.length ?? 0); k++) out.push(recipients[r++]!);
  });
  return out;
}

/** The default listing: one type, or officer traffic (two listings merged), or everything. */
async function listing(c: Client, o: OutboxOpts, limit: number): Promise<{ items: EntryView[]; next?: number }> {
  const types: readonly (string | undefined)[] = o.type !== undefined ? [o.type] : o.all === true ? [undefined] : OFFICER_TYPES;
  const pages = await Promise.all(
    types.map((type) => {
      const q = new URLSearchParams({ limit: String(limit), ...(type ? { type } : {}), ...(o.to ? { party: o.to } : {}), ...(o.before ? { before: o.before } : {}) });
      return c.get(`/v1/outbox?${q}`) as Promise<ListResponse>;
    }),
  );
  // Each page is newest first: the newest `limit` of their union are the newest `limit` overall.
  const all = pages.flatMap((p) => p.items).sort((a, b) => b.index - a.index);
  const items = all.slice(0, limit);
  const more = all.length > limit || pages.some((p) => p.next !== undefined);
  const last = items[items.length - 1];
  return { items, ...(more && last ? { next: last.index } : {}) };
}

/** --pending/--overdue: the entries with such a delivery (GET /v1/deadlines), newest first, each as the listing shows it. */
async function openEntries(c: Client, o: OutboxOpts, limit: number): Promise<{ items: EntryView[]; open: number }> {
  const q = new URLSearchParams({ direction: 'sent', open: 'true', limit: '1000', ...(o.to ? { recipient: o.to } : {}) });
  // Every page (issue 14: GET /v1/deadlines pages with `next`).
  const all: DeadlinesResponse['items'] = [];
  for (;;) {
    const d = (await c.get(`/v1/deadlines?${q}`)) as DeadlinesResponse;
    all.push(...d.items);
    if (d.next === undefined) break;
    q.set('after', d.next);
  }
  const types: readonly string[] | undefined = o.type !== undefined ? [o.type] : o.all === true ? undefined : OFFICER_TYPES;
  const wanted = all.filter(
    (i) => (types === undefined || types.includes(i.type)) && (o.overdue !== true || i.state === 'overdue-receipt' || i.state === 'overdue-ack') && (o.before === undefined || i.index < Number(o.before)),
  );
  const indexes = [...new Set(wanted.map((i) => i.index))].sort((a, b) => b - a);
  const items: EntryView[] = [];
  for (let k = 0; k < Math.min(limit, indexes.length); k += FETCHES) {
    const batch = indexes.slice(k, Math.min(limit, k + FETCHES));
    // Own indexes are contiguous: the page before i + 1 of length 1 is entry i, with its deliveries.
    const pages = await Promise.all(batch.map((i) => c.get(`/v1/outbox?before=${i + 1}&limit=1`) as Promise<ListResponse>));
    for (const p of pages) if (p.items[0]) items.push(p.items[0]);
  }
  return { items, open: indexes.length };
}

export function registerOutbox(program: Command): void {
  clientOptions(
    program
      .command('outbox')
      .description('entries we sent, newest first, and how each recipient answered: receipt and acknowledgement (times, on time, late or OVERDUE) and the reply')
      .addOption(new Option('--type <type>', 'only entries of this type').choices(ENTRY_TYPES))
      .option('--to <party>', 'only entries sent to this party')
      .option('--all', 'every entry of our log, receipts, acknowledgements and heartbeats included (default: messages and incident reports)')
      .option('--pending', 'only entries still awaiting a receipt or an acknowledgement')
      .option('--overdue', 'only entries a recipient has let go overdue and not yet answered')
      .option('--before <index>', 'only entries below this index of our log (the next page: the "next" of the previous listing)')
      .option('--limit <n>', 'at most n entries (1–200)', '50'),
  )
    .addHelpText(
      'after',
      `
Each entry is one line, and each recipient a line under it: "acknowledged",
"acknowledged late (+N)", "awaiting ack (due in N)", "OVERDUE ack (due T, N ago)",
"REJECTED", with the receipt's and acknowledgement's times (UTC) and the reply.
--json prints the node's listing: {"items": [entry with "deadlines": one per
recipient], "next"?} (with --pending/--overdue: "open", the entries matching).

Examples:
  $ parley outbox --data us
  $ parley outbox --data us --overdue --to CN
  $ parley outbox --data us --type incident.report --limit 10 --json`,
    )
    .action(
      act(async (o: OutboxOpts) => {
        const limit = parseIndexArg(o.limit, '--limit');
        if (limit < 1 || limit > 200) throw new UsageError('--limit must be between 1 and 200');
        if (o.to !== undefined && !PARTY_ID.test(o.to)) throw new UsageError(`--to "${o.to}" is not a party id (e.g. CN)`);
        if (o.before !== undefined) parseIndexArg(o.before, '--before');
        const c = client(o);
        const open = o.pending === true || o.overdue === true;
        const r = open ? await openEntries(c, o, limit) : await listing(c, o, limit);
        const now = Date.now();
        const overdue = r.items.filter((v) => (v.deadlines ?? []).some((d) => deliveryText(d, now).overdue)).length;
        const empty = open ? (o.overdue === true ? 'nothing we sent is overdue' : 'nothing we sent awaits an answer') : 'the outbox is empty';
        const footer = [
          `${r.items.length} ${r.items.length === 1 ? 'entry' : 'entries'}${overdue > 0 ? `, ${overdue} with an OVERDUE recipient` : ''}`,
          ...('next' in r && r.next !== undefined ? [`older: parley outbox --before ${r.next}`] : []),
          ...('open' in r && r.open > r.items.length ? [`${r.open - r.items.length} more: raise --limit`] : []),
        ].join('; ');
        makeOut(o.json === true).result({ ...r }, r.items.length === 0 ? [empty] : [...outboxLines(r.items, now), '', footer]);
        return EXIT_OK;
      }),
    );
}
