/**
 * /v1/evaluations (issue 12, EVAL.md §10): evaluation commitments,
 * deployment notices and reveals; the evaluations index; evidence bundles
 * and DSSE attestations.
 *
 *     POST /v1/evaluations/commitments             officer, admin   → 201 Submitted
 *     POST /v1/evaluations/notices                 officer, admin   → 201 Submitted
 *     POST /v1/evaluations/reveals                 officer, admin   → 201 Submitted
 *     GET  /v1/evaluations                         any role         → {evaluations: EvaluationView[]}
 *     GET  /v1/evaluations/{party}/{index}         any role         → EvaluationView
 *     GET  /v1/evaluations/{party}/{index}/evidence?reveal=P:I      → the evidence bundle (JCS JSON)
 *     POST /v1/evaluations/{party}/{index}/dsse    officer, admin   → DSSE envelope (body {reveal?: "P:I", payload?: b64 to co-sign})
 *
 * Reference rules are typed 4xx problems (evaluations/refs.ts):
 * EVAL_COMMITMENT_MISSING, EVAL_NOTICE_BEFORE_COMMITMENT (422),
 * EVAL_DISCLOSURE_MISMATCH, EVAL_SALT_REUSED, EVAL_DISCLOSURE_DUPLICATE (422),
 * EVAL_DISCLOSURE_MALFORMED (400); a reveal not addressed to us, asked for by
 * name, or a DSSE with no opened reveal: EVAL_NOT_ADDRESSED (403). Auditors
 * read views (claims of sealed reveals only for roles that read sealed
 * bodies) and evidence of CLEAR reveals; only writers submit and sign.
 */
import type { StoredAnswer } from '../idempotency.js';
import { z } from 'zod';
import { canonicalize } from '@parley/core';
import type { Submitted as SubmittedT } from '../service.js';
import { evaluationEvidence, signEvaluation } from '../evaluations/evidence.js';
import { submitCommitment, submitNotice, submitReveal } from '../evaluations/submit.js';
import { EvaluationCapture } from '../evaluations/times.js';
import { EvaluationIndex } from '../evaluations/views.js';
import { type App, type Context, BEARER, READERS, WRITERS } from './context.js';
import { HttpError } from './problem.js';
import * as S from './schemas.js';

const At = z.object({ party: S.PartyId, index: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) }).strict();
const Digest = z.string().regex(/^[A-Za-z0-9_-]{43}$/, 'a base64url SHA-256 digest (43 characters, no padding)');
const Encoded = z.string().min(1).max(16_384).regex(/^[A-Za-z0-9_-]+$/, 'a base64url disclosure (no padding)');
const Domain = z.string().min(1).max(40);
const Time = z.iso.datetime({ offset: true }).describe('RFC 3339');
const PositionText = z
  .string()
  .regex(/^[A-Z][A-Z0-9-]{0,15}:(0|[1-9][0-9]{0,15})$/, 'PARTY:INDEX, e.g. US:12')
  .transform((s) => {
    const [party, index] = s.split(':');
    return { party: party!, index: Number(index) };
  });

export const EvaluationCommitmentRequest = z
  .object({
    stage: z.enum(['report', 'protocol']).describe('protocol: a pre-registered plan, committed first'),
    domains: z.array(Domain).min(1).max(16).describe('In the clear, e.g. CBRN, cyber, autonomy, safeguards'),
    sd: z.array(Digest).min(1).max(512).describe('Top-level claim digests and decoys, sorted (byte order), unique (core commitClaims)'),
    protocol: At.optional().describe('The stage-protocol commitment of this party it follows'),
    precedence: S.Precedence.optional().describe('Default ROUTINE'),
  })
  .strict()
  .meta({ id: 'EvaluationCommitmentRequest' });

export const DeploymentNoticeRequest = z
  .object({
    commitment: At.describe('The stage-report commitment it cites'),
    model: z.object({ id: z.string().min(1).max(200), digest: z.string().regex(/^sha256:[0-9a-f]{64}$/, 'sha256:<64 lowercase hex>') }).strict(),
    deployedAt: Time,
    note: z.string().min(1).max(2000).optional(),
    to: z.array(S.PartyId).min(1).max(64).optional().describe('Default: every other party'),
    precedence: S.Precedence.optional().describe('Default PRIORITY'),
    marking: S.Marking.optional().describe('Default TLP:CLEAR'),
  })
  .strict()
  .meta({ id: 'DeploymentNoticeRequest' });

export const EvaluationRevealRequest = z
  .object({
    commitment: At.describe("A commitment of this party's own log"),
    disclosures: z.array(Encoded).min(1).max(512).describe('Encoded disclosures (core selectDisclosures: every ancestor of a nested claim included)'),
    to: z.union([z.array(S.PartyId).min(1).max(64), z.literal('all')]).describe('Recipients, or "all" (every other party)'),
    marking: S.Marking.describe('TLP:CLEAR = public; any other marking seals the disclosures to `to`'),
    precedence: S.Precedence.optional().describe('Default ROUTINE'),
  })
  .strict()
  .meta({ id: 'EvaluationRevealRequest' });

const Revealed = z.object({ path: z.string(), value: z.unknown(), digest: z.string() });

const Withdrawn = z
  .object({
    by: z.object({ party: z.string(), index: z.number().int(), time: z.string() }),
    action: z.enum(['retract', 'supersede']),
    replacement: z.object({ party: z.string(), index: z.number().int() }).optional(),
  })
  .optional()
  .describe('Withdrawn by its sender (issue 13); the reason is in GET /v1/entries/{party}/{index}');

export const EvaluationView = z
  .object({
    commitment: z.object({
      party: z.string(),
      index: z.number().int(),
      leafHash: z.string(),
      time: z.string(),
      stage: z.string(),
      domains: z.array(z.string()),
      sdCount: z.number().int(),
      provenBy: z.string().optional().describe('Earliest trusted time the commitment provably existed: counterparts\u2019 cosignatures or RFC 3161 tokens'),
      provenHow: z.enum(['cosignature', 'timestamp']).optional(),
      retracted: Withdrawn,
    }),
    protocol: z.object({ party: z.string(), index: z.number().int(), time: z.string(), provenBy: z.string().optional() }).optional(),
    notices: z.array(
      z.object({
        party: z.string(),
        index: z.number().int(),
        time: z.string(),
        model: z.object({ id: z.string(), digest: z.string() }),
        deployedAt: z.string(),
        note: z.string().optional(),
        error: z.string().optional().describe('A broken reference rule (its code): such a notice does not count for the timeline'),
        retracted: Withdrawn,
      }),
    ),
    reveals: z.array(
      z.object({
        party: z.string(),
        index: z.number().int(),
        time: z.string(),
        to: z.array(z.string()),
        marking: z.string(),
        addressed: z.boolean().describe('TLP:CLEAR, or sealed to this party'),
        claims: z.record(z.string(), z.unknown()).optional().describe('The revealed claims, checked against the commitment here'),
        revealed: z.array(Revealed).optional(),
        error: z.string().optional().describe('Why no claims: the code of the check that failed, or EVAL_NOT_ADDRESSED for a role that may not read sealed bodies'),
        retracted: Withdrawn,
      }),
    ),
    timeline: z
      .object({
        committedBefore: z.boolean().describe('provenBy is strictly before deployedAt'),
        marginSeconds: z.number().int().optional().describe('deployedAt − provenBy in whole seconds; absent while the commitment is not proven'),
        days: z.number().int().describe('floor(marginSeconds / 86400), at least 0'),
        deployedAt: z.string(),
        statement: z.object({ en: z.string(), 'zh-CN': z.string() }).describe('The one line to show ("committed N days before deployment"), every language'),
      })
      .optional()
      .describe('Of the commitment and the earliest valid notice (core evaluationTimeline); absent without a valid notice'),
  })
  .meta({ id: 'EvaluationView' });

export const EvaluationsResponse = z.object({ evaluations: z.array(EvaluationView) }).meta({ id: 'EvaluationsResponse' });

const EvidenceItem = z.object({ entry: z.string(), index: z.number().int(), proof: z.array(z.string()), checkpoint: z.string(), timestamps: z.array(z.object({ authority: z.string(), token: z.string() })) });
export const EvaluationEvidence = z
  .object({
    type: z.literal('parley/evaluation-evidence'),
    v: z.literal(1),
    accord: z.string(),
    chain: z.string().describe('The accord chain file (JSON text)'),
    commitment: EvidenceItem,
    protocol: EvidenceItem.optional(),
    notice: EvidenceItem.optional(),
    reveal: EvidenceItem.optional(),
    disclosures: z.array(z.string()).optional(),
    created: z.string(),
  })
  .meta({ id: 'EvaluationEvidence' });

export const DsseEnvelope = z
  .object({ payloadType: z.string(), payload: z.string(), signatures: z.array(z.object({ keyid: z.string(), sig: z.string() })) })
  .meta({ id: 'DsseEnvelope' });

const EvidenceQuery = z.object({ reveal: PositionText.optional().describe('PARTY:INDEX of the reveal to include (default: the latest opened here)') }).strict();
const DsseRequest = z
  .object({
    reveal: PositionText.optional().describe('PARTY:INDEX of the reveal to attest (default: the one a given payload names, else the latest opened here)'),
    payload: z.string().max(1_000_000).optional().describe("Co-sign: another party's statement (its envelope's payload, base64), signed as given when this node agrees on every fact of the logs"),
  })
  .strict();

export function registerEvaluations(app: App, ctx: Context): void {
  const { node, sessions, metrics } = ctx;
  const index = new EvaluationIndex(node);
  const capture = new EvaluationCapture(node);
  app.addHook('onClose', async () => capture.stop());
  const submitted = (s: SubmittedT) => ({ party: node.party, index: s.index, leafHash: s.leafHash, treeSize: s.treeSize, entry: s.entry });
  const location = (i: number) => `/v1/entries/${node.party}/${i}`;
  const created = (subs: readonly SubmittedT[]): StoredAnswer => ({ status: 201, headers: { location: location(subs[0]!.index) }, body: submitted(subs[0]!) });
  const held = async (party: string, i: number, role: Parameters<EvaluationIndex['evaluation']>[2]) => {
    const ev = await index.evaluation(party, i, role);
    if (!ev) throw new HttpError('NOT_FOUND', `no evaluation commitment ${party}/${i} is held here`);
    return ev;
  };

  app.post('/v1/evaluations/commitments', {
    onRequest: sessions.require(WRITERS),
    schema: { tags: ['evaluations'], summary: 'Commit to an evaluation (or its protocol): salted claim digests, in the clear, to every party', security: BEARER, body: EvaluationCommitmentRequest, response: { 201: S.Submitted } },
    handler: async (req, reply) => {
      const b = req.body;
      const officer = sessions.principal(req).name;
      return ctx.idempotency.serve(req, reply, officer, created, async () =>
        created([await metrics.append(() => submitCommitment(node, officer, { stage: b.stage, domains: b.domains, sd: b.sd, ...(b.protocol ? { protocol: b.protocol } : {}), ...(b.precedence ? { precedence: b.precedence } : {}) }))]),
      );
    },
  });

  app.post('/v1/evaluations/notices', {
    onRequest: sessions.require(WRITERS),
    schema: { tags: ['evaluations'], summary: 'Announce a deployment, citing the evaluation commitment', security: BEARER, body: DeploymentNoticeRequest, response: { 201: S.Submitted } },
    handler: async (req, reply) => {
      const b = req.body;
      const officer = sessions.principal(req).name;
      return ctx.idempotency.serve(req, reply, officer, created, async () =>
        created([
          await metrics.append(() =>
            submitNotice(node, officer, {
              commitment: b.commitment,
              model: b.model,
              deployedAt: b.deployedAt,
              ...(b.note !== undefined ? { note: b.note } : {}),
              ...(b.to ? { to: b.to } : {}),
              ...(b.precedence ? { precedence: b.precedence } : {}),
              ...(b.marking ? { marking: b.marking } : {}),
            }),
          ),
        ]),
      );
    },
  });

  app.post('/v1/evaluations/reveals', {
    onRequest: sessions.require(WRITERS),
    schema: { tags: ['evaluations'], summary: 'Reveal chosen disclosures of one of this party\u2019s commitments (sealed to `to`, or public at TLP:CLEAR)', security: BEARER, body: EvaluationRevealRequest, response: { 201: S.Submitted } },
    handler: async (req, reply) => {
      const b = req.body;
      const officer = sessions.principal(req).name;
      return ctx.idempotency.serve(req, reply, officer, created, async () =>
        created([await metrics.append(() => submitReveal(node, officer, { commitment: b.commitment, disclosures: b.disclosures, to: b.to, marking: b.marking, ...(b.precedence ? { precedence: b.precedence } : {}) }))]),
      );
    },
  });

  app.get('/v1/evaluations', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['evaluations'], summary: 'Every evaluation commitment held here with its notices, reveals and timeline, newest first', security: BEARER, response: { 200: EvaluationsResponse } },
    handler: async (req, reply) => reply.header('cache-control', 'no-store').send({ evaluations: (await index.list(sessions.principal(req).role)) as z.input<typeof EvaluationView>[] }),
  });

  app.get('/v1/evaluations/:party/:index', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['evaluations'], summary: 'One evaluation: commitment, protocol, notices, reveals (opened when addressed to this party), timeline', security: BEARER, params: S.EntryParams, response: { 200: EvaluationView } },
    handler: async (req, reply) => {
      const ev = await held(req.params.party, req.params.index, sessions.principal(req).role);
      return reply.header('cache-control', 'no-store').send((await index.view(ev)) as z.input<typeof EvaluationView>);
    },
  });

  app.get('/v1/evaluations/:party/:index/evidence', {
    onRequest: sessions.require(READERS),
    schema: { tags: ['evaluations'], summary: 'The evidence bundle (parley eval verify checks it offline)', security: BEARER, params: S.EntryParams, querystring: EvidenceQuery, response: { 200: EvaluationEvidence } },
    handler: async (req, reply) => {
      const ev = await held(req.params.party, req.params.index, sessions.principal(req).role);
      const evidence = await evaluationEvidence(node, ev, req.query.reveal);
      // JCS text: the file a recipient forwards is exactly these bytes.
      return reply.header('cache-control', 'no-store').type('application/json').serializer((x: unknown) => canonicalize(x)).send(evidence as unknown as z.input<typeof EvaluationEvidence>);
    },
  });

  app.post('/v1/evaluations/:party/:index/dsse', {
    onRequest: sessions.require(WRITERS),
    schema: { tags: ['evaluations'], summary: 'The in-toto Statement v1 of this evaluation as opened here, in a DSSE envelope signed with this node\u2019s log key', security: BEARER, params: S.EntryParams, body: DsseRequest.nullish(), response: { 200: DsseEnvelope } },
    handler: async (req, reply) => {
      const ev = await held(req.params.party, req.params.index, sessions.principal(req).role);
      return reply.header('cache-control', 'no-store').send((await signEvaluation(node, ev, req.body?.reveal, req.body?.payload)) as unknown as z.input<typeof DsseEnvelope>);
    },
  });
}
