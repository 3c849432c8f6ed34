/**
 * Entry bodies: one zod schema per entry type, describing the bodies core's
 * registry (`checkBody`, core entry/bodies.ts) enforces: they validate
 * officers' requests at the route and become the JSON Schemas published in
 * the OpenAPI document (`z.toJSONSchema`). The node itself checks every body
 * — its own and every one received, once opened — with core's registry.
 *
 * Bodies are what gets sealed (TLP other than CLEAR) or published in clear;
 * envelope facts (sender, recipients, precedence, marking, references) live
 * in the envelope, never repeated here.
 */
import { z } from 'zod';
import { type KnownEntryType, ACTOR_TYPES, ATLAS_TECHNIQUE_ID, CVE_ID, LINK_RELATIONS, RETRACTION_ACTIONS, EVALUATION_STAGES, MAX_DISCLOSURE_LENGTH, MAX_SD, MODEL_DIGEST, SD_ALG, SD_DIGEST, decodeDisclosure, HARM_TYPES, INCIDENT_ID, LANG_TAG, PARTY_ID, ParleyError, REJECTION_CODE, REPORT_KINDS, STAGES, TAXONOMY_V1, parseAccord } from '@parley/core';

/**
 * The checks themselves live in core (entry/bodies.ts): one registry used on
 * our submissions, on every received body, by the CLI and the dashboard. The
 * zod schemas below describe the same bodies for the OpenAPI document and
 * for route validation; test/bodies.test.ts keeps the two in agreement.
 */
export { BODY_CHECKS, bodyProblem, checkBody, receiptRejection } from '@parley/core';

/** Sorted strictly ascending (so no duplicates and one canonical order), as core's checks want. */
function sortedUnique(xs: readonly string[]): boolean {
  return xs.every((x, i) => i === 0 || xs[i - 1]! < x);
}

/** BCP 47 language tags we expect (free-form, bounded). */
const lang = z.string().regex(LANG_TAG, 'a BCP 47 language tag such as en or zh-CN');
const text = (max: number) => z.string().min(1).max(max);
const categoryCodes = TAXONOMY_V1.categories.map((c) => c.code) as [string, ...string[]];

/** `hotline.message`: free text, optionally tagged with its language. */
export const HotlineMessageBody = z
  .object({
    text: text(20_000).describe('The message, as the duty officer wrote it'),
    lang: lang.optional().describe('Language of the text'),
  })
  .strict()
  .meta({ id: 'HotlineMessageBody' });

/** An incident id: the reporting party's id, a dash, then 4–40 characters. */
export const IncidentId = z.string().regex(INCIDENT_ID, 'PARTY:local-id, e.g. US:2026-0007');

/** `incident.report`: one report in the life of one incident (initial, update, final, retraction). */
export const IncidentReportBody = z
  .object({
    incident: IncidentId.describe('Incident id, stable across its initial report, updates, final report and retraction'),
    kind: z.enum(REPORT_KINDS).describe('initial | update | final | retraction'),
    title: text(300),
    summary: text(20_000).describe('What happened, what is known and not known'),
    category: z.enum(categoryCodes).describe('Taxonomy category code'),
    severity: z.number().int().min(0).max(7).describe('Taxonomy severity 0–7'),
    stage: z.enum(STAGES),
    system: z
      .object({ name: text(200), developer: text(200).optional(), version: text(100).optional() })
      .strict()
      .describe('The AI system involved'),
    actor: z.object({ type: z.enum(ACTOR_TYPES), description: text(2000).optional() }).strict(),
    harm: z.object({ types: z.array(z.enum(HARM_TYPES)).max(HARM_TYPES.length), description: text(5000).optional() }).strict(),
    mitigations: z.array(text(2000)).max(50),
    occurredAt: z.iso.datetime().optional().describe('When the incident happened, if known (RFC 3339)'),
    detectedAt: z.iso.datetime().optional().describe('When the reporting party became aware of it (RFC 3339)'),
    lang: lang.optional(),
    techniques: z.array(z.string().regex(ATLAS_TECHNIQUE_ID)).min(1).max(32).refine(sortedUnique, 'sorted and unique').optional().describe('MITRE ATLAS technique ids, e.g. AML.T0051'),
    cves: z.array(z.string().regex(CVE_ID)).min(1).max(64).refine(sortedUnique, 'sorted and unique').optional().describe('CVE ids of vulnerabilities involved'),
    potential: z.literal(true).optional().describe('A near miss or an issue: no harm has happened (yet)'),
    source: z
      .object({ name: text(100), id: text(100), url: z.string().regex(/^https:\/\/[^\s]{1,1990}$/).optional(), license: text(100) })
      .strict()
      .optional()
      .describe('Attribution of a record taken from a public database (AIID)'),
  })
  .strict()
  .meta({ id: 'IncidentReportBody' });


/** `ack`: an officer's acknowledgement of a received entry (the entry is in `refs`). */
export const AckBody = z
  .object({ reply: text(20_000).optional(), lang: lang.optional() })
  .strict()
  .meta({ id: 'AckBody' });

/**
 * `receipt`: the node's automatic machine receipt (the entries are in `refs`).
 * With `status: "rejected"` (and `code`, `reason`) it is a signed rejection of
 * the one entry in `refs`: held as evidence, not accepted (core entry/bodies.ts).
 */
export const ReceiptBody = z
  .object({
    receivedAt: z.iso.datetime().describe("The receiving node's clock when it stored the entry"),
    status: z.literal('rejected').optional().describe('Present on a rejection: the referenced entry was stored as evidence but refused'),
    code: z.string().regex(REJECTION_CODE).optional().describe('Why, as a stable error code (docs/errors.md), e.g. ENTRY_MALFORMED'),
    reason: text(2000).optional().describe('Why, in words: the first offending member of the body'),
  })
  .strict()
  .refine((b) => (b.status === undefined) === (b.code === undefined) && (b.code === undefined) === (b.reason === undefined), 'status, code and reason come together')
  .meta({ id: 'ReceiptBody' });

/** `heartbeat`: a liveness beat with the sender's current log size. */
export const HeartbeatBody = z
  .object({ treeSize: z.number().int().min(0) })
  .strict()
  .meta({ id: 'HeartbeatBody' });

/** A signature over a version of the accord (`prior`: made with the party's key in the previous version). */
const AccordVersionSignature = z
  .object({
    party: z.string().regex(PARTY_ID),
    sig: z.string().regex(/^[A-Za-z0-9+/]{86}==$/, 'a base64 Ed25519 signature (88 characters)'),
    prior: z.literal(true).optional().describe("Made with the party's key in the previous version (an approval); absent: with the key this version names (consent)"),
  })
  .strict()
  .meta({ id: 'AccordVersionSignature' });
/** Sorted by party, plain before prior, at most one of each per party (core entry/bodies.ts). */
const inOrder = (sigs: readonly { party: string; prior?: true | undefined }[]) => sigs.every((s, i) => i === 0 || `${sigs[i - 1]!.party} ${sigs[i - 1]!.prior ? 1 : 0}` < `${s.party} ${s.prior ? 1 : 0}`);
const SIGNATURE_ORDER = 'sorted by party, plain before prior, at most one of each per party';
const Hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'hex SHA-256 (64 lowercase hex digits)');
const Version = z.number().int().min(2).max(Number.MAX_SAFE_INTEGER);
/** Whether core's accord check (parseAccord) accepts `v`; the schema cannot say more than "an accord" in JSON Schema. */
function isAccord(v: unknown): boolean {
  try {
    parseAccord(v);
    return true;
  } catch (e) {
    if (e instanceof ParleyError) return false;
    throw e;
  }
}

/** `accord.amendment`: a proposed version N+1 of the accord, whole, with the consents collected so far. */
export const AccordAmendmentBody = z
  .object({
    accord: z.record(z.string(), z.unknown()).refine(isAccord, 'an accord (as in accord.json: core parseAccord)').describe('The proposed version, whole'),
    signatures: z.array(AccordVersionSignature).max(128).refine(inOrder, SIGNATURE_ORDER).describe('Consents collected so far (may be empty)'),
    rationale: text(5000).optional(),
    recovery: z
      .object({ party: z.string().regex(PARTY_ID), suspectFrom: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER) })
      .strict()
      .optional()
      .describe("A compromise recovery: the party's entries from suspectFrom until the new key's activation are suspect"),
  })
  .strict()
  .meta({ id: 'AccordAmendmentBody' });

/** `accord.approval`: one party's approval of a proposal (the proposal is in `refs`). */
export const AccordApprovalBody = z
  .object({
    version: Version,
    digest: Hex64.describe("The approved version's digest"),
    signatures: z
      .array(AccordVersionSignature)
      .min(1)
      .max(2)
      .refine(inOrder, SIGNATURE_ORDER)
      .refine((sigs) => sigs.every((s) => s.party === sigs[0]?.party), "one party's signatures")
      .describe("This party's signatures: prior and/or plain"),
  })
  .strict()
  .meta({ id: 'AccordApprovalBody' });

/** `accord.activation`: the sender's log adopts `version` from this entry on. */
export const AccordActivationBody = z
  .object({
    version: Version,
    digest: Hex64,
    suspectFrom: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional().describe("A recovery of the sender's own log key: its entries from suspectFrom up to this activation are suspect (signed here by the new key)"),
  })
  .strict()
  .meta({ id: 'AccordActivationBody' });

const isDisclosure = (x: string) => {
  try {
    decodeDisclosure(x);
    return true;
  } catch {
    return false;
  }
};

/** `evaluation.commitment`: salted per-claim digests of an evaluation (TLP:CLEAR; refs: [] or [the protocol commitment]). */
export const EvaluationCommitmentBody = z
  .object({
    stage: z.enum(EVALUATION_STAGES).describe('protocol = the pre-registered plan; report = the evaluation done'),
    domains: z.array(text(40)).min(1).max(16).refine((d) => new Set(d).size === d.length, 'unique').describe('Domains evaluated, in the clear (CBRN, cyber, autonomy, safeguards, …)'),
    sdAlg: z.literal(SD_ALG).describe('Digest algorithm of the disclosures (SD-JWT _sd_alg)'),
    sd: z.array(z.string().regex(SD_DIGEST)).min(1).max(MAX_SD).refine(sortedUnique, 'sorted and unique').describe('Top-level disclosure digests, decoys included, sorted (base64url SHA-256)'),
  })
  .strict()
  .meta({ id: 'EvaluationCommitmentBody' });

/** `deployment.notice`: a model deployed under a committed evaluation (refs: [the commitment]). */
export const DeploymentNoticeBody = z
  .object({
    model: z.object({ id: text(200).describe("The model's public identifier"), digest: z.string().regex(MODEL_DIGEST).describe('sha256:<hex> of the deployed weights or artefact') }).strict(),
    deployedAt: z.iso.datetime().describe('When the model is (or was) deployed (RFC 3339)'),
    note: text(2000).optional(),
  })
  .strict()
  .meta({ id: 'DeploymentNoticeBody' });

/** `evaluation.reveal`: disclosures opening claims of a commitment (refs: [the commitment, in the sender's log]). */
export const EvaluationRevealBody = z
  .object({
    disclosures: z.array(z.string().max(MAX_DISCLOSURE_LENGTH).refine(isDisclosure, 'an SD-JWT disclosure: base64url of [salt, name, value]')).min(1).max(MAX_SD).describe('Encoded disclosures (parents of nested claims included)'),
  })
  .strict()
  .meta({ id: 'EvaluationRevealBody' });

/** One schema per type of core's entry-type registry (a missing or extra type is a compile error). */
/** `retraction`: withdraws an entry of the sender's own log (refs[0]); `supersede` names its replacement (refs[1]). */
export const RetractionBody = z
  .object({
    action: z.enum(RETRACTION_ACTIONS).describe('retract | supersede (refs[1] is the replacement)'),
    reason: text(2000).describe('Why the entry is withdrawn'),
    lang: lang.optional(),
  })
  .strict()
  .meta({ id: 'RetractionBody' });

/** `incident.link`: an officer confirms that incidents reported by different parties are one event, or related (refs: one report of each). */
export const IncidentLinkBody = z
  .object({
    incidents: z.array(IncidentId).min(2).max(16).refine(sortedUnique, 'sorted and unique').describe('The linked incident ids'),
    relation: z.enum(LINK_RELATIONS),
    note: text(2000).optional(),
    lang: lang.optional(),
  })
  .strict()
  .meta({ id: 'IncidentLinkBody' });

export const BODY_SCHEMAS: { readonly [T in KnownEntryType]: z.ZodType } = {
  'hotline.message': HotlineMessageBody,
  'incident.report': IncidentReportBody,
  ack: AckBody,
  receipt: ReceiptBody,
  heartbeat: HeartbeatBody,
  'accord.amendment': AccordAmendmentBody,
  'accord.approval': AccordApprovalBody,
  'accord.activation': AccordActivationBody,
  'evaluation.commitment': EvaluationCommitmentBody,
  'deployment.notice': DeploymentNoticeBody,
  'evaluation.reveal': EvaluationRevealBody,
  retraction: RetractionBody,
  'incident.link': IncidentLinkBody,
};

export type HotlineMessage = z.infer<typeof HotlineMessageBody>;
export type IncidentReport = z.infer<typeof IncidentReportBody>;
export type Ack = z.infer<typeof AckBody>;
