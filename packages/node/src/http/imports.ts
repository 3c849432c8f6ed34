/**
 * Imports of public incident records (issue 13): the AI Incident Database.
 *
 *     GET  /v1/imports/aiid   any role: {party, imported: [{aiid, incident, index}]} — this node's party (the
 *                             incident ids' prefix) and the AIID incidents it already logged
 *     POST /v1/imports/aiid   officer, admin: {records: [{report, from?}], to?, dryRun?}
 *
 * The command line (`parley import aiid`) reads AIID's snapshot CSVs and maps
 * them to `incident.report` bodies; this route is the node's half: it checks
 * EVERY record first — a valid body (core's registry), attributed to AIID
 * under its licence, incident id `<PARTY>:aiid-<AIID id>`, TLP:CLEAR, no AIID
 * id twice — and only then signs them all and appends them in ONE store
 * batch (ParleyNode.submitAll → LogWriter.appendAll): every record is
 * logged, or none. A record whose incident this node already reported is
 * skipped (the AIID id is permanent, so importing the same snapshot twice
 * logs nothing new); the answer says what was imported and what was skipped
 * and why. Imports are serialised per node, so two concurrent imports of the
 * same snapshot cannot both log a record.
 *
 * Limits: at most {@link MAX_IMPORT_RECORDS} records (IMPORT_TOO_LARGE, 413),
 * and a body of at most {@link MAX_IMPORT_BYTES} (INPUT_TOO_LARGE, 413).
 */
import { type StoredAnswer, answerWith } from '../idempotency.js';
import { z } from 'zod';
import { INCIDENT_ID, ParleyError, checkBody, fail } from '@parley/core';
import type { IncidentReport } from '../bodies.js';
import { incidentIndex } from '../incidents.js';
import type { ParleyNode, Submitted as SubmittedT } from '../service.js';
import { type App, type Context, BEARER, READERS, WRITERS, requireAccordRole } from './context.js';
import * as S from './schemas.js';

/** Most records one import request may carry (the whole AIID is ~1,300 incidents in 2026). */
export const MAX_IMPORT_RECORDS = 5000;
/** Largest import request body. */
export const MAX_IMPORT_BYTES = 48 * 1024 * 1024;
/** The attribution every imported record carries (AIID's licence: https://incidentdatabase.ai/research/snapshots/). */
export const AIID_SOURCE = { name: 'AIID', license: 'CC BY-SA 4.0' } as const;
const AIID_ID = /^[1-9][0-9]{0,8}$/;

export const ImportRecord = z
  .object({
    report: z.unknown().describe('An incident.report body (checked as the registry checks every body)'),
    from: z.string().max(300).optional().describe('Where it came from, for the answer (e.g. "incidents.csv:12")'),
  })
  .strict();
export const AiidImportRequest = z
  .object({
    records: z.array(ImportRecord).describe(`At most ${MAX_IMPORT_RECORDS}`),
    to: z.array(S.PartyId).min(1).max(64).optional().describe('Recipients (default: every other party)'),
    dryRun: z.boolean().optional().describe('Check everything and answer what would be imported; log nothing'),
  })
  .strict();
const Imported = z.object({ aiid: z.string(), incident: z.string(), index: z.number().int().optional().describe('Entry index in our log (absent on a dry run)'), from: z.string().optional() });
const Skipped = z.object({ aiid: z.string(), incident: z.string(), code: z.string().describe('IMPORT_DUPLICATE'), reason: z.string(), from: z.string().optional() });
export const AiidImportResponse = z
  .object({ dryRun: z.boolean(), imported: z.array(Imported), skipped: z.array(Skipped), treeSize: z.number().int() })
  .meta({ id: 'AiidImportResponse' });
export type AiidImportResult = z.infer<typeof AiidImportResponse>;
export const AiidImportedResponse = z.object({ party: z.string().describe("This node's party: imported incident ids are <party>:aiid-<id>"), imported: z.array(Imported) });

interface Checked {
  readonly report: IncidentReport;
  readonly aiid: string;
  readonly from?: string;
}

/**
 * Checks one record of an AIID import.
 * @throws ParseError `IMPORT_RECORD_INVALID` naming the record and what is wrong.
 */
export function checkAiidRecord(party: string, r: { report: unknown; from?: string | undefined }, k: number): Checked {
  const where = `records[${k}]${r.from !== undefined ? ` (${r.from})` : ''}`;
  let report: IncidentReport;
  try {
    report = checkBody('incident.report', r.report) as IncidentReport;
  } catch (e) {
    return fail('IMPORT_RECORD_INVALID', `${where}: ${e instanceof ParleyError ? e.message : String(e)}`);
  }
  const src = report.source;
  if (src === undefined || src.name !== AIID_SOURCE.name || src.license !== AIID_SOURCE.license) fail('IMPORT_RECORD_INVALID', `${where}: source must be {name: "AIID", id, url?, license: "CC BY-SA 4.0"}`);
  if (!AIID_ID.test(src.id)) fail('IMPORT_RECORD_INVALID', `${where}: source.id "${src.id}" is not an AIID incident number`);
  const incident = `${party}:aiid-${src.id}`;
  if (report.incident !== incident || !INCIDENT_ID.test(incident)) fail('IMPORT_RECORD_INVALID', `${where}: incident must be ${incident} (the party's id and the AIID id), not ${report.incident}`);
  if (report.kind !== 'initial') fail('IMPORT_RECORD_INVALID', `${where}: an imported record is an initial report, not ${report.kind}`);
  return { report, aiid: src.id, ...(r.from !== undefined ? { from: r.from } : {}) };
}

const chains = new WeakMap<ParleyNode, Promise<unknown>>();

export function registerImports(app: App, ctx: Context): void {
  const { node, store, sessions, metrics } = ctx;
  const index = incidentIndex(node, store);

  app.get('/v1/imports/aiid', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['incidents'], summary: "This node's party and the AI Incident Database incidents it has imported", security: BEARER, response: { 200: AiidImportedResponse } },
    handler: async (_req, reply) => {
      await index.refresh();
      const imported: z.infer<typeof Imported>[] = [];
      const prefix = `${node.party}:aiid-`;
      for (const id of index.ids()) {
        if (!id.startsWith(prefix)) continue;
        const own = index.reportsOf(id)?.find((r) => r.party === node.party);
        if (own) imported.push({ aiid: id.slice(prefix.length), incident: id, index: own.index });
      }
      imported.sort((a, b) => Number(a.aiid) - Number(b.aiid));
      return reply.header('cache-control', 'no-store').send({ party: node.party, imported });
    },
  });

  app.post('/v1/imports/aiid', {
    onRequest: sessions.require(WRITERS),
    bodyLimit: MAX_IMPORT_BYTES,
    schema: {
      tags: ['incidents'],
      summary: 'Import AI Incident Database records as TLP:CLEAR incident reports: all or nothing, idempotent by AIID id',
      security: BEARER,
      body: AiidImportRequest,
      response: { 200: AiidImportResponse },
    },
    handler: async (req, reply) => {
      requireAccordRole(node, sessions.principal(req).role, 'report');
      const b = req.body;
      if (b.records.length > MAX_IMPORT_RECORDS) fail('IMPORT_TOO_LARGE', `${b.records.length} records: at most ${MAX_IMPORT_RECORDS} per import; import the snapshot in parts`);
      // Every record is checked before anything is signed.
      const checked = b.records.map((r, k) => checkAiidRecord(node.party, r, k));
      const seen = new Map<string, number>();
      checked.forEach((c, k) => {
        const first = seen.get(c.aiid);
        if (first !== undefined) fail('IMPORT_RECORD_INVALID', `records[${k}] repeats AIID incident ${c.aiid} of records[${first}]`);
        seen.set(c.aiid, k);
      });
      const officer = sessions.principal(req).name;
      // The answer depends on what was already imported: the handler sets it (answerWith) before it appends.
      const ok = (body: unknown): StoredAnswer => ({ status: 200, headers: { 'cache-control': 'no-store' }, body });
      return ctx.idempotency.serve(req, reply, officer, () => ok({}), async () => {
      const run = (chains.get(node) ?? Promise.resolve()).then(async () => {
        await index.refresh();
        const skipped: z.infer<typeof Skipped>[] = [];
        const fresh: Checked[] = [];
        for (const c of checked) {
          const held = index.reportsOf(c.report.incident)?.find((r) => r.party === node.party);
          if (held) skipped.push({ aiid: c.aiid, incident: c.report.incident, code: 'IMPORT_DUPLICATE', reason: `already imported: entry ${node.party}/${held.index} (${held.time})`, ...(c.from !== undefined ? { from: c.from } : {}) });
          else fresh.push(c);
        }
        const drafts = fresh.map((c) => ({
          type: 'incident.report' as const,
          ...(b.to ? { to: b.to } : {}),
          precedence: 'ROUTINE' as const,
          marking: 'TLP:CLEAR' as const,
          body: c.report,
        }));
        if (b.dryRun === true) {
          // Check the drafts as submitAll would (recipients), without signing.
          for (const p of b.to ?? []) if (p === node.party || !node.versionAtNext.party(p)) fail('ENTRY_INVALID', `${p} is not another party of the accord`);
          return { dryRun: true, imported: fresh.map((c) => ({ aiid: c.aiid, incident: c.report.incident, ...(c.from !== undefined ? { from: c.from } : {}) })), skipped, treeSize: node.treeSize };
        }
        const answer = (done: readonly SubmittedT[], treeSize: number) => ({
          dryRun: false,
          imported: fresh.map((c, k) => ({ aiid: c.aiid, incident: c.report.incident, index: done[k]!.index, ...(c.from !== undefined ? { from: c.from } : {}) })),
          skipped,
          treeSize,
        });
        answerWith((done) => ok(answer(done, done[done.length - 1]?.treeSize ?? node.treeSize)));
        const done: SubmittedT[] = fresh.length === 0 ? [] : await node.submitAll(officer, drafts);
        for (const s of done) metrics.appended.inc({ type: s.entry.type });
        return answer(done, node.treeSize);
      });
      chains.set(node, run.catch(() => undefined));
      return ok(await run);
      });
    },
  });
}
