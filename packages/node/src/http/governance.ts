/**
 * Governance routes (issue 11, GOV.md §4; the logic is governance/governance.ts):
 *
 *     GET  /v1/accord/chain                       public: the chain file (genesis, versions, activations)
 *     GET  /v1/accord/proposals                   any officer: proposals with approvals, consents, quorum, status
 *     POST /v1/accord/proposals                   admin: propose version N+1 (amendment + our approval entry)
 *     POST /v1/accord/proposals/{digest}/approve  admin: approve (our approval entry)
 *
 * Bad input is a problem+json 4xx with its code (ACCORD_VERSION, ACCORD_CHAIN,
 * ACCORD_MALFORMED, SIGNATURE_INVALID, ACCORD_FORKED, CHANNEL_FROZEN …) and
 * nothing is stored: every check runs before the first append.
 */
import { z } from 'zod';
import { type App, type Context, BEARER, READERS, WRITERS, requireAccordRole } from './context.js';
import { HttpError } from './problem.js';

const Hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const Signature = z.object({ party: z.string().max(16), sig: z.string().max(100), prior: z.literal(true).optional() }).describe('Ed25519 over the accord signing message; prior: made with the key of version N');
const Recovery = z.object({ party: z.string().max(16), suspectFrom: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }).describe("Compromise recovery: the party's key changes without its prior signature; its entries from suspectFrom to the activation are suspect");

export const ProposalRequest = z.object({
  accord: z.looseObject({}).describe('Version N+1, whole (version, previous = digest of N)'),
  signatures: z.array(Signature).max(128).optional().describe('Consents collected so far (a joining party, a rotated key)'),
  rationale: z.string().min(1).max(5000).optional(),
  recovery: Recovery.optional(),
});
export const ProposalCreated = z.object({ digest: Hex64, index: z.number().int() });
export const ApprovalCreated = z.object({ index: z.number().int() });
export const ProposalView = z.object({
  digest: Hex64,
  version: z.number().int(),
  proposer: z.object({ party: z.string(), index: z.number().int() }),
  accord: z.looseObject({}),
  rationale: z.string().optional(),
  recovery: Recovery.optional(),
  diff: z.array(z.object({ path: z.string(), from: z.unknown().optional(), to: z.unknown().optional() })),
  approvals: z.array(z.object({ party: z.string(), prior: z.boolean(), index: z.number().int() })),
  consents: z.object({ need: z.array(z.string()), have: z.array(z.string()) }),
  quorum: z.object({ need: z.number().int(), have: z.number().int() }),
  status: z.enum(['pending', 'complete', 'active', 'refused']),
});
export const ProposalList = z.object({ items: z.array(ProposalView) });
export const ChainFileSchema = z.object({
  channel: Hex64,
  versions: z.array(z.object({ accord: z.looseObject({}), signatures: z.array(Signature) })),
  activations: z.array(z.object({ party: z.string(), version: z.number().int(), size: z.number().int(), entry: z.string(), suspectFrom: z.number().int().optional() })),
});

export function registerGovernance(app: App, ctx: Context): void {
  const { node, sessions } = ctx;
  const gov = () => {
    if (!node.governance) throw new HttpError('NOT_FOUND', 'this node has no governance');
    return node.governance;
  };

  app.get('/v1/accord/chain', {
    schema: { tags: ['channel'], summary: 'The accord chain: every version since the founding one, and each party\u2019s activations (public)', response: { 200: ChainFileSchema } },
    handler: async (_req, reply) => reply.header('cache-control', 'no-cache').send(gov().chainFile() as unknown as z.infer<typeof ChainFileSchema>),
  });

  app.get('/v1/accord/proposals', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['channel'], summary: 'Accord amendments proposed in any party\u2019s log, with approvals and status', security: BEARER, response: { 200: ProposalList } },
    handler: async () => ({ items: gov().list() as unknown as z.infer<typeof ProposalView>[] }),
  });

  app.post('/v1/accord/proposals', {
    onRequest: sessions.require(WRITERS),
    schema: { tags: ['channel'], summary: 'Propose the next accord version (admin, or the roles the accord\u2019s roles.amend names): an accord.amendment entry and this party\u2019s approval', security: BEARER, body: ProposalRequest, response: { 201: ProposalCreated } },
    handler: async (req, reply) => {
      requireAccordRole(ctx.node, sessions.principal(req).role, 'amend');
      const b = req.body;
      const r = await gov().propose(sessions.principal(req).name, {
        accord: b.accord,
        ...(b.signatures ? { signatures: b.signatures.map((s) => ({ party: s.party, sig: s.sig, ...(s.prior ? { prior: true as const } : {}) })) } : {}),
        ...(b.rationale !== undefined ? { rationale: b.rationale } : {}),
        ...(b.recovery ? { recovery: b.recovery } : {}),
      });
      return reply.code(201).header('location', `/v1/accord/proposals/${r.digest}`).send(r);
    },
  });

  app.post('/v1/accord/proposals/:digest/approve', {
    onRequest: sessions.require(WRITERS),
    schema: { tags: ['channel'], summary: 'Approve a proposed accord version (admin, or the roles the accord\u2019s roles.amend names)', security: BEARER, params: z.object({ digest: Hex64 }), response: { 201: ApprovalCreated } },
    handler: async (req, reply) => {
      requireAccordRole(ctx.node, sessions.principal(req).role, 'amend');
      const r = await gov().approve(sessions.principal(req).name, req.params.digest);
      if (!r) throw new HttpError('NOT_FOUND', `no proposal ${req.params.digest} is known here`);
      return reply.code(201).send(r);
    },
  });
}
