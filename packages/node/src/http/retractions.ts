/**
 * Retractions (issue 13): an officer withdraws an entry of this party's own
 * log, or supersedes it with a later one (retract.ts, retractions.ts).
 *
 *     POST /v1/retractions   officer, admin   {entry: {party?, index}, replacement?: {party?, index},
 *                                             reason, lang?, marking?}   → 201 Submitted
 *
 * Same role rules as sending the withdrawn type: an incident report's or an
 * incident link's retraction needs the accord's `report` role, a FLASH entry's the `flash`
 * role (the retraction carries the withdrawn entry's precedence).
 */
import type { StoredAnswer } from '../idempotency.js';
import { z } from 'zod';
import type { Submitted as SubmittedT } from '../service.js';
import { retractTarget, submitRetraction } from '../retract.js';
import { type App, type Context, BEARER, WRITERS, requireAccordRole } from './context.js';
import * as S from './schemas.js';

const Position = z.object({ party: S.PartyId.optional().describe('Default: this party'), index: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }).strict();
const Lang = z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8}){0,3}$/, 'a BCP 47 language tag such as en or zh-CN');

export const RetractionRequest = z
  .object({
    entry: Position.describe('The entry withdrawn: one of this party\u2019s own log'),
    replacement: Position.optional().describe('Supersede: the later entry of this party\u2019s log (same type; for reports the same incident) that takes its place'),
    reason: z.string().min(1).max(2000).describe('Why it is withdrawn: shown to every recipient'),
    lang: Lang.optional(),
    marking: S.Marking.optional().describe('Default: the withdrawn entry\u2019s; a given one must be at least as restrictive'),
  })
  .strict()
  .meta({ id: 'RetractionRequest' });

export function registerRetractions(app: App, ctx: Context): void {
  const { node, sessions, metrics } = ctx;
  const submitted = (s: SubmittedT) => ({ party: node.party, index: s.index, leafHash: s.leafHash, treeSize: s.treeSize, entry: s.entry });

  app.post('/v1/retractions', {
    onRequest: sessions.require(WRITERS),
    schema: { tags: ['entries'], summary: 'Retract an entry of this party\u2019s log, or supersede it with a later one; every recipient\u2019s node applies it', security: BEARER, body: RetractionRequest, response: { 201: S.Submitted } },
    handler: async (req, reply) => {
      const b = req.body;
      const p = sessions.principal(req);
      const entry = { party: b.entry.party ?? node.party, index: b.entry.index };
      const replacement = b.replacement ? { party: b.replacement.party ?? node.party, index: b.replacement.index } : undefined;
      const target = entry.party === node.party ? await retractTarget(node, entry) : undefined;
      // Reports and incident links are both sent under the accord's `report` role (api.ts, links.ts).
      if (target?.type === 'incident.report' || target?.type === 'incident.link') requireAccordRole(node, p.role, 'report');
      if (target?.precedence === 'FLASH') requireAccordRole(node, p.role, 'flash');
      const created = (subs: readonly SubmittedT[]): StoredAnswer => ({ status: 201, headers: { location: `/v1/entries/${node.party}/${subs[0]!.index}` }, body: submitted(subs[0]!) });
      return ctx.idempotency.serve(req, reply, p.name, created, async () =>
        created([
          await metrics.append(() =>
            submitRetraction(node, p.name, {
              entry,
              action: replacement ? 'supersede' : 'retract',
              ...(replacement ? { replacement } : {}),
              reason: b.reason,
              ...(b.lang !== undefined ? { lang: b.lang } : {}),
              ...(b.marking !== undefined ? { marking: b.marking } : {}),
            }),
          ),
        ]),
      );
    },
  });
}
