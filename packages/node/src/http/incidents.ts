/**
 * Incidents and compliance for the dashboard (any logged-in role; what a
 * role may not read is left out, never summarised from sealed bodies):
 *
 *     GET /v1/incidents?party&category&severity&status&from&to&q&limit&before
 *     GET /v1/incidents/{id}               its reports and their acks, oldest first
 *     GET /v1/compliance?from&to           receipt/ack figures, incidents per day
 *     GET /v1/compliance.csv?kind&from&to  the same as RFC 4180 CSV
 *
 * Incidents come from the node's {@link IncidentIndex} (incidents.ts);
 * compliance from the deadline tracker's statuses (deadlines/compliance.ts),
 * judged by the same cosigned times as GET /v1/deadlines.
 */
import { z } from 'zod';
import { TAXONOMY_V1 } from '@parley/core';
import type { Role } from '@parley/store';
import { IncidentId } from '../bodies.js';
import { type IncidentFilter, type IncidentSummary as Summary, incidentIndex } from '../incidents.js';
import { complianceCsv, complianceOf, formatCsv } from '../deadlines/compliance.js';
import { skippedEntries } from '../skipped.js';
import { deadlineTracker } from '../deadlines/tracker.js';
import type { EntryView } from '../service.js';
import { type App, type Context, BEARER, READERS } from './context.js';
import { withDeadlines } from './deadlines.js';
import { HttpError } from './problem.js';
import { LinkView, linksOf } from './links.js';
import * as S from './schemas.js';

const categoryCodes = TAXONOMY_V1.categories.map((c) => c.code) as [string, ...string[]];
const DAY_MS = 86_400_000;

/** A time bound: an RFC 3339 date-time, or a UTC day (YYYY-MM-DD: its start for `from`, its end for `to`). */
const TimeBound = z.union([z.iso.datetime({ offset: true }), z.iso.date()]).describe('RFC 3339 date-time, or YYYY-MM-DD (UTC day)');
const fromMs = (s: string | undefined) => (s === undefined ? undefined : s.length === 10 ? Date.parse(`${s}T00:00:00Z`) : Date.parse(s));
const toMs = (s: string | undefined) => (s === undefined ? undefined : s.length === 10 ? Date.parse(`${s}T00:00:00Z`) + DAY_MS - 1 : Date.parse(s));

/** Cursor: `<last as ms>~<incident id>` of the last item of the previous page. */
const Cursor = z.string().regex(/^(0|[1-9][0-9]{0,15})~[A-Z][A-Z0-9-]{1,15}:[A-Za-z0-9._-]{4,40}$/, 'the `next` of the previous page');

export const IncidentStatus = z.enum(['open', 'updated', 'final', 'retracted']);

export const IncidentsQuery = z
  .object({
    party: S.PartyId.optional().describe('Reporting party'),
    category: z.enum(categoryCodes).optional(),
    severity: S.Decimal.pipe(z.number().int().min(0).max(7)).optional(),
    status: IncidentStatus.optional(),
    from: TimeBound.optional(),
    to: TimeBound.optional(),
    q: z.string().min(1).max(200).optional().describe('Case-insensitive text search (title, summary, system, actor, harm, mitigations, id); any script'),
    limit: S.Decimal.pipe(z.number().int().min(1).max(200)).optional().describe('1–200, default 50'),
    before: Cursor.optional(),
  })
  .strict();

export const IncidentSummary = z
  .object({
    incident: z.string(),
    party: z.string().describe('Reporting party'),
    first: z.string().describe('Time of its first report'),
    last: z.string().describe('Time of its latest report'),
    entries: z.number().int().describe('Reports held (readable or not)'),
    latest: z.object({ party: z.string(), index: z.number().int() }),
    title: z.string().optional().describe('From the latest report this role can read'),
    category: z.string().optional(),
    severity: z.number().int().optional(),
    status: IncidentStatus.optional(),
    sealed: z.literal(true).optional().describe('Every report is sealed from this role: metadata only'),
  })
  .meta({ id: 'IncidentSummary' });

export const SkippedEntry = z
  .object({ index: z.enum(['incidents', 'deadlines']), party: z.string(), entry: z.number().int(), code: z.string().describe('Stable error code (docs/errors.md)'), reason: z.string() })
  .meta({ id: 'SkippedEntry' });
export const IncidentsResponse = z.object({
  items: z.array(IncidentSummary),
  next: z.string().optional().describe('Cursor for the next page'),
  skipped: z.array(SkippedEntry).optional().describe('Held reports the index could not file (a body that fails its check, an entry that does not open): skipped, not fatal (skipped.ts)'),
});
export const IncidentParams = z.object({ id: IncidentId }).strict();
export const IncidentResponse = z.object({
  incident: z.string(),
  timeline: z.array(S.EntryView).describe('Reports of every party about it and the acks answering them, oldest first'),
  links: z.array(LinkView).optional().describe('Confirmed incident.link entries naming it (made from either side), oldest first (links.ts)'),
});

const Bucket = z.object({ leMs: z.number().int().nullable().describe('Upper bound; null: above every bound'), count: z.number().int() });
export const ComplianceRow = z
  .object({
    party: z.string().describe('The party whose answer is measured (recipient)'),
    from: z.string().describe('Sender'),
    precedence: S.Precedence,
    count: z.number().int(),
    onTime: z.number().int(),
    overdue: z.number().int().describe('Answered late, or not answered past the deadline'),
    pending: z.number().int().describe('Not answered, deadline not passed'),
    withdrawn: z.number().int().describe('Not answered, and no answer due: the sender withdrew the entry (issue 13)'),
    hitRate: z.number().nullable().describe('onTime / (onTime + overdue); null when nothing is judged yet'),
    p50Ms: z.number().int().nullable(),
    p90Ms: z.number().int().nullable(),
    p99Ms: z.number().int().nullable(),
    maxMs: z.number().int().nullable(),
    histogram: z.array(Bucket).readonly().describe('Non-cumulative latency buckets'),
  })
  .meta({ id: 'ComplianceRow' });
export const IncidentDay = z.object({ day: z.string().describe('UTC day of the first report, YYYY-MM-DD'), category: z.string(), severity: z.number().int(), count: z.number().int() });
export const ComplianceQuery = z.object({ from: TimeBound.optional(), to: TimeBound.optional() }).strict();
export const ComplianceResponse = z.object({
  generated: z.string(),
  receipts: z.array(ComplianceRow).describe('Machine receipts (heartbeats left out)'),
  acks: z.array(ComplianceRow).describe("Officers' acknowledgements"),
  incidents: z.array(IncidentDay),
});
export const ComplianceCsvQuery = ComplianceQuery.extend({ kind: z.enum(['acks', 'receipts', 'incidents']) }).strict();

function incidentsPerDay(items: readonly Summary[], from: number | undefined, to: number | undefined) {
  const counts = new Map<string, { day: string; category: string; severity: number; count: number }>();
  for (const s of items) {
    if (s.category === undefined || s.severity === undefined) continue;
    const t = Date.parse(s.first);
    if ((from !== undefined && t < from) || (to !== undefined && t > to)) continue;
    const day = new Date(t).toISOString().slice(0, 10);
    const key = `${day}|${s.category}|${s.severity}`;
    const c = counts.get(key) ?? { day, category: s.category, severity: s.severity, count: 0 };
    c.count++;
    counts.set(key, c);
  }
  return [...counts.values()].sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.category < b.category ? -1 : a.category > b.category ? 1 : a.severity - b.severity));
}

export function registerIncidents(app: App, ctx: Context): void {
  const { node, store, sessions } = ctx;
  const index = incidentIndex(node, store);
  const tracker = deadlineTracker(node, store);

  async function figures(role: Role, q: { from?: string | undefined; to?: string | undefined }) {
    const from = fromMs(q.from);
    const to = toMs(q.to);
    await Promise.all([tracker.refresh(), index.refresh()]);
    const now = Date.now();
    const { receipts, acks } = await complianceOf(tracker.statuses(now), node.accord.accord.deadlines, { ...(from !== undefined ? { fromMs: from } : {}), ...(to !== undefined ? { toMs: to } : {}) });
    return { generated: new Date(now).toISOString(), receipts, acks, incidents: incidentsPerDay(index.list(role), from, to) };
  }

  app.get('/v1/incidents', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['incidents'], summary: 'Incidents from the reports held (own and received), newest first', security: BEARER, querystring: IncidentsQuery, response: { 200: IncidentsResponse } },
    handler: async (req, reply) => {
      const q = req.query;
      const from = fromMs(q.from);
      const to = toMs(q.to);
      const f: IncidentFilter = {
        ...(q.party !== undefined ? { party: q.party } : {}),
        ...(q.category !== undefined ? { category: q.category } : {}),
        ...(q.severity !== undefined ? { severity: q.severity } : {}),
        ...(q.status !== undefined ? { status: q.status } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(to !== undefined ? { to } : {}),
        ...(q.q !== undefined ? { q: q.q } : {}),
      };
      await index.refresh();
      let items = index.list(sessions.principal(req).role, f);
      if (q.before !== undefined) {
        const cut = q.before.indexOf('~');
        const ms = Number(q.before.slice(0, cut));
        const id = q.before.slice(cut + 1);
        items = items.filter((s) => Date.parse(s.last) < ms || (Date.parse(s.last) === ms && s.incident > id));
      }
      const limit = q.limit ?? 50;
      const page = items.slice(0, limit);
      const last = page[page.length - 1];
      const skipped = skippedEntries(node).list('incidents');
      return reply.header('cache-control', 'no-store').send({ items: page, ...(last && items.length > limit ? { next: `${Date.parse(last.last)}~${last.incident}` } : {}), ...(skipped.length > 0 ? { skipped } : {}) });
    },
  });

  app.get('/v1/incidents/:id', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['incidents'], summary: 'One incident: every party\u2019s reports about it and their acks, oldest first', security: BEARER, params: IncidentParams, response: { 200: IncidentResponse } },
    handler: async (req, reply) => {
      await index.refresh();
      const refs = index.timeline(req.params.id);
      if (!refs) throw new HttpError('NOT_FOUND', `no report of incident ${req.params.id} is held here`);
      const role = sessions.principal(req).role;
      const views: EntryView[] = [];
      for (const r of refs) {
        const v = await node.read(r.party, r.index, role);
        if (v) views.push(v);
      }
      const links = await linksOf(ctx, role, req.params.id);
      return reply.header('cache-control', 'no-store').send({ incident: req.params.id, timeline: await withDeadlines(ctx, views), ...(links.length > 0 ? { links } : {}) });
    },
  });

  app.get('/v1/compliance', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['incidents'], summary: 'Deadline compliance per sender, recipient and precedence; incidents per day', security: BEARER, querystring: ComplianceQuery, response: { 200: ComplianceResponse } },
    handler: async (req, reply) => reply.header('cache-control', 'no-store').send(await figures(sessions.principal(req).role, req.query)),
  });

  app.get('/v1/compliance.csv', {
    onRequest: sessions.require(READERS),
    schema: {
      tags: ['incidents'],
      summary: 'Compliance figures as RFC 4180 CSV (header row)',
      security: BEARER,
      querystring: ComplianceCsvQuery,
      response: { 200: { description: 'text/csv', content: { 'text/csv': { schema: z.string() } } } },
    },
    handler: async (req, reply) => {
      const { kind, ...range } = req.query;
      const f = await figures(sessions.principal(req).role, range);
      const csv =
        kind === 'incidents'
          ? formatCsv(['day', 'category', 'severity', 'count'], f.incidents.map((i) => [i.day, i.category, i.severity, i.count]))
          : complianceCsv(f[kind]);
      return reply
        .type('text/csv; charset=utf-8; header=present')
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="parley-${node.party}-${kind}.csv"`)
        .send(csv);
    },
  });
}
