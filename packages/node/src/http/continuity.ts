/**
 * Continuity (issue 9, "No rollback"; rollback.ts):
 *
 *     GET /v1/continuity                      officers (any role): the rollback guard's state — whether this
 *                                             node may sign, our log size, the largest cosigned size of it a
 *                                             peer holds, what each peer answered, and what to do
 *     GET /fed/v1/mirror/{party}/entries?from&to
 *                                             node to node (Parley-Signature): the entries of {party}'s log
 *                                             this node holds (received or mirrored), [from, to) contiguously
 *                                             from `from`, at most 256 — how a rolled-back party recovers
 *                                             its log, and anyone audits it, from the others' copies
 *          200 application/json  {party, from, entries: [base64 of each entry's bytes]} (possibly empty)
 *
 * The mirror serves bytes only: each entry is signed by its party and the
 * caller verifies it (and the tree) against a cosigned checkpoint; sealed
 * bodies stay sealed. Any authenticated party may ask: another party's
 * log is public at its node anyway (/log/tile/entries).
 */
import { formatBase64 } from '@parley/core';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MIRROR_PAGE } from '../rollback.js';
import { type App, type Context, BEARER, READERS } from './context.js';
import { authenticateNode } from './federation.js';
import { HttpError } from './problem.js';
import * as S from './schemas.js';

const PeerAnswer = z.object({
  party: z.string(),
  status: z.enum(['asking', 'none', 'cosigned', 'invalid']).describe('asking: no answer yet; none: it cosigned nothing of our log; cosigned: a verified checkpoint; invalid: its answer did not verify'),
  size: z.number().int().optional().describe('The size it cosigned'),
  error: z.string().optional().describe('Why the last request to it failed'),
  mirrored: z.number().int().optional().describe('Entries of our log beyond our size its mirror gave at the last recovery attempt'),
});

export const ContinuityResponse = z
  .object({
    state: z
      .enum(['unchecked', 'unconfirmed', 'confirmed', 'rolled-back', 'recovering'])
      .describe('confirmed/unchecked: writes allowed; unconfirmed: no peer answered yet (writes wait, then 503 LOG_UNCONFIRMED); rolled-back/recovering: 409 LOG_ROLLED_BACK'),
    localSize: z.number().int(),
    cosignedSize: z.number().int().describe('Largest verified cosigned size of this log any peer holds'),
    cosignedBy: z.array(z.string()),
    peers: z.array(PeerAnswer),
    detail: z.string(),
    since: z.string(),
  })
  .meta({ id: 'Continuity' });

const Index = z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

export function registerContinuity(app: App, ctx: Context): void {
  const { node, store, sessions } = ctx;
  const typed = app.withTypeProvider<ZodTypeProvider>();

  typed.get('/v1/continuity', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['channel'], summary: 'Whether this node may sign: its log checked against what the peers cosigned of it (rollback guard)', security: BEARER, response: { 200: ContinuityResponse } },
    handler: async (_req, reply) => {
      const guard = node.continuity;
      const status = guard
        ? (() => {
            const g = guard.status();
            return { ...g, cosignedBy: [...g.cosignedBy], peers: [...g.peers] };
          })()
        : { state: 'unchecked' as const, localSize: node.treeSize, cosignedSize: 0, cosignedBy: [], peers: [], detail: 'no rollback guard runs in this process', since: new Date(0).toISOString() };
      return reply.header('cache-control', 'no-store').send(status);
    },
  });

  typed.get('/fed/v1/mirror/:party/entries', {
    schema: {
      tags: ['federation'],
      summary: 'Recovery: entries of a party\u2019s log this node holds (Parley-Signature required)',
      params: z.object({ party: S.PartyId }),
      querystring: z.object({ from: Index, to: Index }),
      response: { 200: z.object({ party: z.string(), from: z.number().int(), entries: z.array(z.string()).describe('Base64 of each entry, indexes from, from+1, …') }) },
    },
    handler: async (req, reply) => {
      authenticateNode(req, new Uint8Array(), ctx);
      const { party } = req.params;
      const { from, to } = req.query;
      if (party === node.party || node.accord.party(party) === undefined) throw new HttpError('NOT_FOUND', `this node mirrors no log of ${party}`);
      if (to <= from) throw new HttpError('VALIDATION_FAILED', 'want from < to');
      const held = await store.mirrored(party, from, Math.min(to, from + MIRROR_PAGE));
      return reply.header('cache-control', 'no-store').send({ party, from, entries: held.map((e) => formatBase64(e.bytes)) });
    },
  });
}
