/**
 * Deadlines and link health over HTTP (any logged-in role):
 *
 *     GET /v1/deadlines   every delivery this node is party to, with its
 *                         deadlines and state (deadlines/state.ts), and counts
 *     GET /v1/links       link health per other party (deadlines/heartbeat.ts)
 *
 * {@link withDeadlines} adds each inbox/outbox item's deadlines (one per
 * recipient: one for a received entry, one per addressee for a sent one).
 *
 * and one metric in the server's registry:
 *
 *     parley_deadlines_overdue{kind,precedence,direction}  overdue deliveries still unanswered
 *
 * Both read the node's shared {@link DeadlineTracker}; a request refreshes
 * it incrementally (only entries new since the last read).
 */
import { z } from 'zod';
import { Gauge } from 'prom-client';
import { type DeliveryStateName, type DeliveryStatus, DELIVERY_STATES, summarize } from '../deadlines/state.js';
import type { EntryView } from '../service.js';
import type { Role } from '@parley/store';
import { type ListingKey, type ListingQuery, deadlineTracker } from '../deadlines/tracker.js';
import { skippedEntries } from '../skipped.js';
import { linkHealth, linkSourceOf } from '../deadlines/heartbeat.js';
import { type App, type Context, BEARER, READERS } from './context.js';
import { HttpError } from './problem.js';
import * as S from './schemas.js';

const Answer = z.object({ index: z.number().int(), at: z.string().describe("The answering party's entry time"), judgedAt: z.string(), onTime: z.boolean() });

export const DeadlineItem = z
  .object({
    party: z.string().describe('Sender: the log holding the entry'),
    index: z.number().int(),
    recipient: z.string().describe('The party whose receipt and acknowledgement this delivery awaits'),
    direction: z.enum(['sent', 'received']),
    type: z.string().describe('Entry type'),
    precedence: S.Precedence,
    marking: z.string(),
    sentAt: z.string(),
    receiptDueAt: z.string(),
    ackDueAt: z.string().optional().describe('Only hotline messages and incident reports need an acknowledgement'),
    receipt: Answer.optional(),
    ack: Answer.extend({ officer: z.string() }).optional(),
    rejection: z
      .object({ index: z.number().int(), at: z.string(), code: z.string(), reason: z.string() })
      .optional()
      .describe("The recipient's signed rejection (a receipt with status rejected at this index of its log): the entry's body failed its check"),
    initialReport: z.object({ detectedAt: z.string(), dueAt: z.string(), onTime: z.boolean() }).optional(),
    state: z.enum(DELIVERY_STATES as [string, ...string[]]),
    overdue: z.array(z.enum(['receipt', 'ack'])).readonly().describe('Deadlines that passed before their answer (late answers included)'),
    settled: z.boolean(),
    nextDueAt: z.string().optional(),
  })
  .meta({ id: 'DeadlineItem' });

const Counts = z.object({
  total: z.number().int(),
  byState: z.record(z.string(), z.number().int()),
  open: z.number().int(),
  late: z.number().int(),
});

export const DeadlinesQuery = z
  .object({
    direction: z.enum(['sent', 'received']).optional(),
    state: z.enum(DELIVERY_STATES as [string, ...string[]]).optional(),
    party: S.PartyId.optional().describe('Sender'),
    index: S.Decimal.optional(),
    recipient: S.PartyId.optional(),
    open: z.enum(['true', 'false']).optional().describe('true: only deliveries still awaiting an answer'),
    limit: S.Decimal.pipe(z.number().int().min(1).max(1000)).optional().describe('1–1000, default 200; overdue first, then open by next deadline, then settled'),
    after: z.string().max(400).optional().describe('The `next` of the previous page: the deliveries after it in the same order, judged at the first page\u2019s time (for 10 minutes)'),
  })
  .strict();

export const DeadlinesResponse = z.object({
  items: z.array(DeadlineItem),
  counts: Counts.describe('Over every delivery, not only the items listed'),
  clock: z.literal('own').describe('Times are the parties\u2019 own clocks (cosigned bounds come with federation)'),
  next: z.string().optional().describe('More deliveries follow: pass as `after` for the next page'),
  skipped: z
    .array(z.object({ party: z.string(), entry: z.number().int(), code: z.string(), reason: z.string() }))
    .optional()
    .describe('Held entries the deadline tracker could not file (skipped, not fatal; skipped.ts)'),
});

const PeerLink = z.object({ party: z.string(), state: z.enum(['up', 'down', 'unknown']), lastContactAt: z.string().optional(), detail: z.string().optional(), pullSource: z.enum(['node', 'mirror']).optional(), mirrorUrl: z.string().optional() });
export const LinksResponse = z.object({
  heartbeatSeconds: z.number().int(),
  links: z.array(
    z.object({
      party: z.string(),
      state: z.enum(['up', 'down', 'degraded']),
      reason: z
        .enum(['fork', 'heartbeat', 'checkpoint', 'transport'])
        .optional()
        .describe('Why the link is not up; fork: a fork proof is held against the party\u2019s log (GET /v1/forks); checkpoint: no checkpoint of its log cosigned by this node for two intervals'),
      forks: z.number().int().optional().describe('Fork proofs held against the party\u2019s log'),
      heartbeat: z.enum(['up', 'down']),
      checkpoint: z.enum(['up', 'down']).optional().describe('With federation: a checkpoint of its log cosigned by this node within two intervals'),
      lastCosigned: z.object({ size: z.number().int(), at: z.string() }).optional().describe('The newest checkpoint of its log this node cosigned, and when'),
      lastHeardAt: z.string().optional(),
      lastGoodContactAt: z.string().optional().describe('The last time contact was good: fresh entries and (with federation) a fresh cosigned checkpoint'),
      lastEntry: z.object({ index: z.number().int(), type: z.string(), time: z.string(), receivedAt: z.string() }).optional(),
      lastHeartbeat: z.object({ index: z.number().int(), time: z.string(), receivedAt: z.string() }).optional(),
      downAt: z.string().optional(),
      transport: PeerLink.optional(),
    }),
  ),
});

/** One recipient's delivery of a listed entry: the summary, the answers, and the ack's reply (issue 9). */
export type ListedDelivery = ReturnType<typeof summarize> & {
  receiptDueAt?: string;
  ackDueAt?: string;
  receipt?: { index: number; at: string; judgedAt: string; onTime: boolean };
  ack?: { index: number; at: string; judgedAt: string; onTime: boolean; officer: string; reply?: string; lang?: string };
};

/**
 * Inbox/outbox items with their `deadlines` (absent for entries without any,
 * such as receipts): per recipient, the state of THIS entry's delivery with
 * its receipt and acknowledgement, looked up by (entry, recipient) — never by
 * matching against a window of recent deliveries. With `role`, the reply of
 * each acknowledgement of a sent entry is read (opened when `role` may).
 */
export async function withDeadlines(ctx: Pick<Context, 'node' | 'store'>, items: readonly EntryView[], role?: Role): Promise<(EntryView & { deadlines?: ListedDelivery[] })[]> {
  const tracker = deadlineTracker(ctx.node, ctx.store);
  await tracker.refresh();
  const now = Date.now();
  return Promise.all(
    items.map(async (v) => {
      const recipients = v.party === ctx.node.party ? v.entry.to : [ctx.node.party];
      const deadlines: ListedDelivery[] = [];
      for (const r of recipients) {
        const s = await tracker.status(v.party, v.index, r, now);
        if (s) deadlines.push(await listed(ctx, s, role));
      }
      return deadlines.length > 0 ? { ...v, deadlines } : v;
    }),
  );
}

async function listed(ctx: Pick<Context, 'node'>, s: DeliveryStatus, role: Role | undefined): Promise<ListedDelivery> {
  let ack: ListedDelivery['ack'];
  if (s.ack) {
    ack = { index: s.ack.index, at: s.ack.at, judgedAt: s.ack.judgedAt, onTime: s.ack.onTime, officer: s.ack.officer };
    // The reply is in the recipient's ack entry, which we hold (received) when we sent the entry.
    if (role !== undefined && s.recipient !== ctx.node.party) {
      const body = (await ctx.node.read(s.recipient, s.ack.index, role))?.body as { reply?: unknown; lang?: unknown } | undefined;
      if (typeof body?.reply === 'string') ack = { ...ack, reply: body.reply, ...(typeof body.lang === 'string' ? { lang: body.lang } : {}) };
    }
  }
  return {
    ...summarize(s),
    receiptDueAt: s.receiptDueAt,
    ...(s.ackDueAt !== undefined ? { ackDueAt: s.ackDueAt } : {}),
    ...(s.receipt ? { receipt: { index: s.receipt.index, at: s.receipt.at, judgedAt: s.receipt.judgedAt, onTime: s.receipt.onTime } } : {}),
    ...(ack ? { ack } : {}),
  };
}

/** How long the pages of one listing may follow its first (its time is carried in the cursor). */
const LISTING_MAX_AGE_MS = 10 * 60_000;

/**
 * The opaque `next` cursor: the listing key of a page's last item and the
 * first page's time (`at`): every page of one listing is judged at that time.
 */
const cursorOf = (k: ListingKey, at: number): string => Buffer.from(JSON.stringify([...k, at])).toString('base64url');

function listingKeyOf(cursor: string): { key: ListingKey; at: number | undefined } | undefined {
  try {
    const k = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    // 5 members: a cursor of an older node (no time: judged at the request's).
    if (!Array.isArray(k) || (k.length !== 5 && k.length !== 6)) return undefined;
    const [r, d, i, p, t, at] = k as unknown[];
    if (![r, d, i].every((n) => typeof n === 'number' && Number.isFinite(n)) || typeof p !== 'string' || typeof t !== 'string') return undefined;
    if (k.length === 6 && !(typeof at === 'number' && Number.isSafeInteger(at) && at >= 0)) return undefined;
    return { key: [r as number, d as number, i as number, p, t], at: at as number | undefined };
  } catch {
    return undefined;
  }
}

export function registerDeadlines(app: App, ctx: Context): void {
  const { node, store, sessions, metrics } = ctx;
  const tracker = deadlineTracker(node, store);

  new Gauge({
    name: 'parley_deadlines_overdue',
    help: 'Deliveries whose receipt or acknowledgement deadline passed with no answer yet',
    labelNames: ['kind', 'precedence', 'direction'],
    registers: [metrics.registry],
    async collect() {
      await tracker.refresh();
      this.reset();
      // The store's range of open overdue deliveries (issue 14), not a pass over every delivery.
      for await (const s of tracker.overdueOpen(Date.now())) {
        for (const kind of s.overdue) {
          if ((kind === 'receipt' && s.receipt) || (kind === 'ack' && s.ack)) continue;
          this.inc({ kind, precedence: s.precedence, direction: s.direction });
        }
      }
    },
  });

  app.get('/v1/deadlines', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['channel'], summary: 'Deliveries and their deadlines: sent, received, acknowledged or overdue', security: BEARER, querystring: DeadlinesQuery, response: { 200: DeadlinesResponse } },
    handler: async (req, reply) => {
      const q = req.query;
      await tracker.refresh();
      const limit = q.limit ?? 200;
      const after = q.after !== undefined ? listingKeyOf(q.after) : undefined;
      if (q.after !== undefined && after === undefined) throw new HttpError('VALIDATION_FAILED', 'after: not a cursor this node gave (pass the `next` of the previous page)');
      // A listing's time is judged against what changed since: an old one would be a pass over every delivery.
      if (after?.at !== undefined && (after.at < Date.now() - LISTING_MAX_AGE_MS || after.at > Date.now() + 1000)) {
        throw new HttpError('VALIDATION_FAILED', 'after: this listing is more than 10 minutes old (start again without `after`)');
      }
      // Issue 14: the counts are an SQL aggregate and the page an index range of the store's judged
      // deliveries, plus the few whose judgement does not hold at `at` — no pass over every delivery.
      // Every page of one listing is judged at the first page's time (the cursor carries it).
      const at = after?.at ?? Date.now();
      const query: ListingQuery = {
        ...(q.direction !== undefined ? { direction: q.direction } : {}),
        ...(q.state !== undefined ? { state: q.state as DeliveryStateName } : {}),
        ...(q.party !== undefined ? { party: q.party } : {}),
        ...(q.index !== undefined ? { index: q.index } : {}),
        ...(q.recipient !== undefined ? { recipient: q.recipient } : {}),
        ...(q.open !== undefined ? { open: q.open === 'true' } : {}),
      };
      // The cursor is the key the last item was placed by (not its key re-judged: newer bounds may move it).
      const { items, counts, more, last } = await tracker.listing(at, query, limit, after?.key);
      const skipped = skippedEntries(node).list('deadlines').map(({ party, entry, code, reason }) => ({ party, entry, code, reason }));
      return reply
        .header('cache-control', 'no-store')
        .send({ items, counts, clock: 'own' as const, ...(more && last ? { next: cursorOf(last, at) } : {}), ...(skipped.length > 0 ? { skipped } : {}) });
    },
  });

  app.get('/v1/links', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['channel'], summary: 'Link health per other party: heartbeats received, and federation\u2019s transport state', security: BEARER, response: { 200: LinksResponse } },
    handler: async (_req, reply) => {
      const source = linkSourceOf(node);
      const links = await linkHealth({ node, store, now: Date.now(), ...(source ? { source } : {}) });
      return reply.header('cache-control', 'no-store').send({ heartbeatSeconds: node.accord.accord.heartbeatSeconds, links });
    },
  });
}
