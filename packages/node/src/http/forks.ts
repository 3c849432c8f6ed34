/**
 * Fork proofs over HTTP (any logged-in role): the loudest state a node has.
 *
 *     GET /v1/forks                  every fork proof held, per party, verified again on read:
 *                                    {forks: [{id, party, n, kind, a, b, index?, href}]}
 *     GET /v1/forks/{party}/{n}      proof n against {party}'s log: the canonical proof text,
 *                                    application/json, as a download (`parley verify-fork FILE`
 *                                    checks it offline with only the accord)
 *
 * and two metrics in the server's registry (whichever path found the fork:
 * witness, push, pull, gossip or bundle import — all keep it in the store):
 *
 *     parley_forks_detected{party}   fork proofs held against each party's log (one per fork);
 *                                    accord fork proofs under party="accord"
 *     parley_log_forked{party}       1 while the party's log is quarantined (a proof is held), else 0
 *
 * A held proof quarantines the party's log (federation/forks.ts): its new
 * entries are refused, and link health shows it down with reason `fork`.
 */
import { formatBase64 } from '@parley/core';
import { Gauge } from 'prom-client';
import { z } from 'zod';
import { type HeldAccordFork, type HeldFork, accordForkMessage, accordForks, forksOf, heldAccordForks, heldForks } from '../federation/forks.js';
import { type App, type Context, BEARER, READERS } from './context.js';
import { HttpError } from './problem.js';
import * as S from './schemas.js';

const View = z.object({
  treeSize: z.number().int(),
  rootHash: z.string().describe('Base64 RFC 6962 root hash'),
  cosignedBy: z.array(z.object({ party: z.string(), timestamp: z.number().int() })).describe('Other parties whose valid cosignature this view carries'),
});

/** One side of an accord fork: a validly signed version N+1. */
const AccordSide = z.object({
  version: z.number().int(),
  digest: z.string().describe('Hex SHA-256 of the canonical accord of this side'),
  signedBy: z.array(z.string()).describe('Parties whose signature on this side verified'),
});

export const ForkItem = z
  .object({
    id: z.string().describe('Stable id: fork/<party>/<SHA-256 prefix of the proof text> (the webhook id too); fork/accord/… for an accord fork'),
    party: z.string().describe('The party whose log signed two irreconcilable checkpoints; for an accord fork, the first party that signed both versions (`accord` when none did)'),
    n: z.number().int().describe('Position in the party\u2019s list (an accord fork: in the accord fork list), for the download route'),
    kind: z.enum(['same-size', 'leaf-conflict', 'prefix-conflict', 'accord']).describe('accord: two different valid accord versions N+1 after one version N (issue 11)'),
    a: z.union([View, AccordSide]),
    b: z.union([View, AccordSide]),
    signers: z.array(z.string()).optional().describe('accord: every party that signed both versions'),
    race: z
      .object({ kind: z.literal('departure'), a: z.array(z.string()), b: z.array(z.string()) })
      .optional()
      .describe('accord: a departure race — both versions only let parties go (two withdrawals at once, or a withdrawal crossing a removal); a and b: who leaves in each'),
    message: z.string().optional().describe('accord: what happened and what to do, in words'),
    index: z.number().int().optional().describe('leaf-conflict: the index with two leaves'),
    href: z.string().describe('Where the proof text is downloaded'),
  })
  .meta({ id: 'ForkItem' });

export const ForksResponse = z.object({ forks: z.array(ForkItem) });

function item(f: HeldFork) {
  const view = (v: HeldFork['fork']['a']) => ({ treeSize: v.checkpoint.treeSize, rootHash: formatBase64(v.checkpoint.rootHash), cosignedBy: v.cosignatures.map((c) => ({ party: c.party, timestamp: c.timestamp })) });
  return {
    id: f.id,
    party: f.party,
    n: f.n,
    kind: f.fork.kind,
    a: view(f.fork.a),
    b: view(f.fork.b),
    ...(f.fork.index !== undefined ? { index: f.fork.index } : {}),
    href: `/v1/forks/${f.party}/${f.n}`,
  };
}

function accordItem(f: HeldAccordFork) {
  const side = (v: HeldAccordFork['fork']['a']) => ({ version: v.version, digest: v.digest, signedBy: [...v.signedBy] });
  return {
    id: f.id,
    party: f.signers[0] ?? 'accord',
    n: f.n,
    kind: 'accord' as const,
    a: side(f.fork.a),
    b: side(f.fork.b),
    signers: [...f.signers],
    ...(f.race !== undefined ? { race: { kind: 'departure' as const, a: [...f.race.a], b: [...f.race.b] } } : {}),
    message: accordForkMessage(f),
    href: `/v1/forks/accord/${f.n}`,
  };
}

export function registerForks(app: App, ctx: Context): void {
  const { node, store, sessions, metrics } = ctx;

  new Gauge({
    name: 'parley_forks_detected',
    help: 'Fork proofs held against each party\u2019s log, and accord fork proofs under party="accord" (any value above 0 is the highest alarm)',
    labelNames: ['party'],
    registers: [metrics.registry],
    async collect() {
      for (const { id: party } of node.accord.accord.parties) this.set({ party }, (await forksOf(store, party)).length);
      // Two valid accord versions N+1 are no one party's log fork: one series of their own ("accord" is no party id).
      this.set({ party: 'accord' }, (await accordForks(store)).length);
    },
  });

  new Gauge({
    name: 'parley_log_forked',
    help: 'Whether this node holds a fork proof against the party\u2019s log (1: quarantined, highest alarm)',
    labelNames: ['party'],
    registers: [metrics.registry],
    async collect() {
      for (const { id: party } of node.accord.accord.parties) this.set({ party }, (await forksOf(store, party)).length > 0 ? 1 : 0);
    },
  });

  app.get('/v1/forks', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['channel'], summary: 'Fork proofs held: parties caught showing two histories (highest alarm)', security: BEARER, response: { 200: ForksResponse } },
    handler: async (_req, reply) => reply.header('cache-control', 'no-store').send({ forks: [...(await heldForks(store, node)).map(item), ...(await heldAccordForks(store, node)).map(accordItem)] }),
  });

  app.get('/v1/forks/accord/:n', {
    onRequest: sessions.require(READERS),
    schema: {
      tags: ['channel'],
      summary: 'One accord fork proof (two valid versions N+1), as the canonical file `parley verify-fork` checks with the accord chain',
      security: BEARER,
      params: z.object({ n: S.Decimal }),
      response: { 200: { description: 'The accord fork proof (RFC 8785 canonical JSON)', content: { 'application/json': { schema: S.Bytes } } } },
    },
    handler: async (req, reply) => {
      const text = (await accordForks(store))[req.params.n];
      if (text === undefined) throw new HttpError('NOT_FOUND', `no accord fork proof ${req.params.n} is held`);
      return reply
        .type('application/json')
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="fork-accord-${req.params.n}.json"`)
        .send(Buffer.from(text, 'utf8'));
    },
  });

  app.get('/v1/forks/:party/:n', {
    onRequest: sessions.require(READERS),
    schema: {
      tags: ['channel'],
      summary: 'One fork proof, as the canonical file `parley verify-fork` checks',
      security: BEARER,
      params: z.object({ party: S.PartyId, n: S.Decimal }),
      response: { 200: { description: 'The fork proof (RFC 8785 canonical JSON)', content: { 'application/json': { schema: S.Bytes } } } },
    },
    handler: async (req, reply) => {
      const { party, n } = req.params;
      const text = (await forksOf(store, party))[n];
      if (text === undefined) throw new HttpError('NOT_FOUND', `no fork proof ${n} is held against ${party}'s log`);
      return reply
        .type('application/json')
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="fork-${party}-${n}.json"`)
        .send(Buffer.from(text, 'utf8'));
    },
  });
}
