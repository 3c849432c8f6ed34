/**
 * Cross-party incident links (issue 13, "Retractions and links"):
 *
 *     GET  /v1/incidents/{id}/similar?limit&min   incidents reported by OTHER parties that may be the same event
 *     POST /v1/incidents/links                    officer, admin: confirm a link → an `incident.link` entry
 *
 * and {@link linksOf}, the confirmed links the incident view shows (GET
 * /v1/incidents/{id} `links`: every link naming the incident, whichever
 * incident it was made from — both directions).
 *
 * Suggestions come from the node's incident index (incidents.ts), scored by
 * similar.ts; a report that was withdrawn (a `retraction` of it by its
 * sender, or an incident.report of kind `retraction`) is never evidence and
 * an incident left with no live report is never suggested. Only what the
 * caller may read is compared: an auditor sees TLP:CLEAR reports only.
 *
 * A confirmed link is an `incident.link` entry in our log: refs = the latest
 * live report of each linked incident; marking = the most restrictive of
 * theirs; addressed to the parties that hold every linked report (each
 * report's sender and recipients, intersected, minus us) — so a party learns
 * of a link only when it received both sides of it.
 */
import type { StoredAnswer } from '../idempotency.js';
import type { Submitted as SubmittedT } from '../service.js';
import { z } from 'zod';
import { LINK_RELATIONS, MARKINGS, type Marking, fail, formatBase64 } from '@parley/core';
import type { LogStore, Role } from '@parley/store';
import { allOfType } from '../held.js';
import { IncidentId } from '../bodies.js';
import { type HeldReport, incidentIndex, incidentReporter } from '../incidents.js';
import type { ParleyNode } from '../service.js';
import { retractionOf } from '../retractions.js';
import { type Comparable, MIN_SCORE, compare } from '../similar.js';
import { type App, type Context, BEARER, READERS, WRITERS, requireAccordRole } from './context.js';
import { HttpError } from './problem.js';
import * as S from './schemas.js';

/**
 * Entries withdrawn by their sender: "party/index" of every entry a
 * `retraction` of the same party cites as refs[0] AND that this node applies
 * (retractionOf, retractions.ts: a retraction refused on ingest, or one that
 * breaks the rules, withdraws nothing — here as in the incident view).
 */
export async function withdrawnEntries(node: ParleyNode, store: LogStore): Promise<Set<string>> {
  const out = new Set<string>();
  for (const { party, e } of await allOfType(store, node.party, 'retraction')) {
    const ref = e.meta.refs[0];
    if (ref === undefined || ref.party !== party) continue;
    if ((await retractionOf(node, ref.party, ref.index)) !== undefined) out.add(`${ref.party}/${ref.index}`);
  }
  return out;
}

const live = (r: HeldReport, role: Role, withdrawn: ReadonlySet<string>) => r.body !== undefined && (r.clear || role !== 'auditor') && !withdrawn.has(`${r.party}/${r.index}`);

/** The incident's latest live report this role may read, with its first report's time; undefined when none (or it was withdrawn as a whole). */
function comparable(reports: readonly HeldReport[] | undefined, role: Role, withdrawn: ReadonlySet<string>): (Comparable & { held: HeldReport }) | undefined {
  if (!reports || reports.length === 0) return undefined;
  const seen = reports.filter((r) => live(r, role, withdrawn));
  const last = seen[seen.length - 1];
  if (!last || seen.some((r) => r.body!.kind === 'retraction')) return undefined;
  return { report: last.body!, firstTime: reports[0]!.time, held: last };
}

export const LinkView = z
  .object({
    party: z.string().describe('The party whose officer confirmed it'),
    index: z.number().int(),
    time: z.string(),
    officer: z.string(),
    incidents: z.array(z.string()),
    relation: z.enum(LINK_RELATIONS),
    note: z.string().optional(),
    lang: z.string().optional(),
  })
  .meta({ id: 'IncidentLink' });
export type LinkViewT = z.infer<typeof LinkView>;

/** Confirmed, not withdrawn links this role may read, optionally only those naming `incident`; oldest first. */
export async function linksOf(ctx: Pick<Context, 'node' | 'store'>, role: Role, incident?: string): Promise<LinkViewT[]> {
  const { node, store } = ctx;
  const withdrawn = await withdrawnEntries(node, store);
  const out: LinkViewT[] = [];
  for (const { party, e } of await allOfType(store, node.party, 'incident.link')) {
    if (withdrawn.has(`${party}/${e.index}`)) continue;
    const v = await node.read(party, e.index, role);
    const b = v?.body as { incidents?: string[]; relation?: LinkViewT['relation']; note?: string; lang?: string } | undefined;
    if (!b || !Array.isArray(b.incidents) || b.relation === undefined) continue;
    if (incident !== undefined && !b.incidents.includes(incident)) continue;
    out.push({ party, index: e.index, time: e.meta.time, officer: e.meta.officer, incidents: b.incidents, relation: b.relation, ...(b.note !== undefined ? { note: b.note } : {}), ...(b.lang !== undefined ? { lang: b.lang } : {}) });
  }
  return out.sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || a.party.localeCompare(b.party) || a.index - b.index);
}

const Reason = z.object({ code: z.enum(['source', 'system', 'developer', 'time', 'text', 'category']), text: z.string(), weight: z.number() });
export const SimilarQuery = z
  .object({
    limit: S.Decimal.pipe(z.number().int().min(1).max(50)).optional().describe('1–50, default 10'),
    min: z.string().regex(/^(0(\.\d{1,3})?|1(\.0{1,3})?)$/, 'a score between 0 and 1').transform(Number).optional().describe(`Lowest score, default ${MIN_SCORE}`),
  })
  .strict();
export const SimilarItem = z
  .object({
    incident: z.string(),
    party: z.string().describe('Reporting party'),
    title: z.string(),
    category: z.string(),
    severity: z.number().int(),
    latest: z.object({ party: z.string(), index: z.number().int() }).describe('The report compared'),
    score: z.number(),
    reasons: z.array(Reason),
    linked: z.boolean().describe('A confirmed link already names both'),
    lang: z.string().optional().describe('The language of the compared report (its title)'),
  })
  .meta({ id: 'SimilarIncident' });
export const SimilarResponse = z.object({ incident: z.string(), items: z.array(SimilarItem) });
export const LinkRequest = z
  .object({
    incidents: z.array(IncidentId).min(2).max(16).describe('The incidents to link (any order; sorted and de-duplicated)'),
    relation: z.enum(LINK_RELATIONS).optional().describe('Default same-event'),
    note: z.string().min(1).max(2000).optional(),
    lang: z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8}){0,3}$/).optional(),
  })
  .strict();

const chains = new WeakMap<ParleyNode, Promise<unknown>>();

export function registerLinks(app: App, ctx: Context): void {
  const { node, store, sessions, metrics } = ctx;
  const index = incidentIndex(node, store);

  app.get('/v1/incidents/:id/similar', {
    onRequest: sessions.require(READERS),
    schema: {
      tags: ['incidents'],
      summary: 'Incidents reported by other parties that may be the same event: score and reasons (system, time, text in either language)',
      security: BEARER,
      params: z.object({ id: IncidentId }).strict(),
      querystring: SimilarQuery,
      response: { 200: SimilarResponse },
    },
    handler: async (req, reply) => {
      const id = req.params.id;
      const role = sessions.principal(req).role;
      await index.refresh();
      const reports = index.reportsOf(id);
      if (!reports) throw new HttpError('NOT_FOUND', `no report of incident ${id} is held here`);
      const withdrawn = await withdrawnEntries(node, store);
      const subject = comparable(reports, role, withdrawn);
      if (!subject) {
        if (!reports.some((r) => r.body !== undefined && (r.clear || role !== 'auditor'))) throw new HttpError('FORBIDDEN', `every report of ${id} is sealed from the ${role} role`);
        return reply.header('cache-control', 'no-store').send({ incident: id, items: [] });
      }
      const me = incidentReporter(id, reports);
      const links = await linksOf(ctx, role, id);
      const min = req.query.min ?? MIN_SCORE;
      const items: z.infer<typeof SimilarItem>[] = [];
      for (const other of index.ids()) {
        const theirs = index.reportsOf(other);
        if (other === id || !theirs) continue;
        const them = incidentReporter(other, theirs);
        if (them === me) continue;
        const c = comparable(theirs, role, withdrawn);
        if (!c) continue;
        const s = compare(subject, c);
        if (s.score < min) continue;
        items.push({
          incident: other,
          party: them,
          title: c.report.title,
          category: c.report.category,
          severity: c.report.severity,
          latest: { party: c.held.party, index: c.held.index },
          score: s.score,
          reasons: [...s.reasons],
          linked: links.some((l) => l.incidents.includes(other)),
          ...(c.report.lang !== undefined ? { lang: c.report.lang } : {}),
        });
      }
      items.sort((a, b) => b.score - a.score || (a.incident < b.incident ? -1 : 1));
      return reply.header('cache-control', 'no-store').send({ incident: id, items: items.slice(0, req.query.limit ?? 10) });
    },
  });

  app.post('/v1/incidents/links', {
    onRequest: sessions.require(WRITERS),
    schema: { tags: ['incidents'], summary: 'Confirm that incidents of different parties are one event (or related): an incident.link entry', security: BEARER, body: LinkRequest, response: { 201: S.Submitted } },
    handler: async (req, reply) => {
      const role = sessions.principal(req).role;
      requireAccordRole(node, role, 'report');
      const officer = sessions.principal(req).name;
      const incidents = [...new Set(req.body.incidents)].sort();
      const relation = req.body.relation ?? 'same-event';
      if (incidents.length < 2) fail('LINK_INVALID', 'a link names at least two different incidents');
      const created = (subs: readonly SubmittedT[]): StoredAnswer => {
        const s = subs[0]!;
        return { status: 201, headers: { location: `/v1/entries/${node.party}/${s.index}` }, body: { party: node.party, index: s.index, leafHash: s.leafHash, treeSize: s.treeSize, entry: s.entry } };
      };
      return ctx.idempotency.serve(req, reply, officer, created, async () => {
      const run = (chains.get(node) ?? Promise.resolve()).then(async () => {
        await index.refresh();
        const withdrawn = await withdrawnEntries(node, store);
        const held: HeldReport[] = [];
        for (const id of incidents) {
          const reports = index.reportsOf(id);
          if (!reports) fail('LINK_INVALID', `no report of incident ${id} is held here`);
          const c = comparable(reports, role, withdrawn);
          if (!c) fail('LINK_INVALID', `incident ${id} has no live report this node can read (sealed, or retracted)`);
          held.push(c.held);
        }
        if (new Set(incidents.map((i) => incidentReporter(i, index.reportsOf(i)!))).size < 2) fail('LINK_INVALID', 'every incident named was reported by the same party: a link joins reports of different parties');
        const existing = (await linksOf(ctx, 'admin')).find((l) => l.party === node.party && l.relation === relation && l.incidents.length === incidents.length && l.incidents.every((x, k) => x === incidents[k]));
        if (existing) fail('LINK_EXISTS', `entry ${existing.party}/${existing.index} (${existing.time}, ${existing.officer}) already links ${incidents.join(', ')} as ${relation}`);
        // Each linked report's entry: its hash for refs, its marking, who holds it.
        const facts = await Promise.all(held.map(async (r) => (r.party === node.party ? await store.entry(r.index) : await store.received(r.party, r.index))!));
        let holders: Set<string> | undefined;
        for (const f of facts) {
          const h = new Set([f.meta.from, ...f.meta.to]);
          holders = holders === undefined ? h : new Set([...holders].filter((p) => h.has(p)));
        }
        const to = [...(holders ?? [])].filter((p) => p !== node.party && node.versionAtNext.party(p) !== undefined).sort();
        if (to.length === 0) fail('LINK_INVALID', 'no other party holds every linked report: there is nobody to tell');
        const marking = facts.map((f) => f.meta.marking as Marking).reduce((a, b) => (MARKINGS.indexOf(b) > MARKINGS.indexOf(a) ? b : a), 'TLP:CLEAR' as Marking);
        return metrics.append(() =>
          node.submit(officer, {
            type: 'incident.link',
            to,
            precedence: 'ROUTINE',
            marking,
            refs: held.map((r, k) => ({ party: r.party, index: r.index, hash: formatBase64(facts[k]!.leafHash) })),
            body: { incidents, relation, ...(req.body.note !== undefined ? { note: req.body.note } : {}), ...(req.body.lang !== undefined ? { lang: req.body.lang } : {}) },
          }),
        );
      });
      chains.set(node, run.catch(() => undefined));
      return created([await run]);
      });
    },
  });
}

