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
import { ACTOR_TYPES, HARM_TYPES, INCIDENT_ID, LANG_TAG, REJECTION_CODE, REPORT_KINDS, STAGES, TAXONOMY_V1 } from '@parley/core';

/**
 * The checks themselves live in core (entry/bodies.ts): one registry used on
 * our submissions, on every received body, by the CLI and the dashboard. The
 * zod schemas below describe the same bodies for the OpenAPI document and
 * for route validation; test/bodies.test.ts keeps the two in agreement.
 */
export { BODY_CHECKS, bodyProblem, checkBody, receiptRejection } from '@parley/core';

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

/** `accord.amendment`: a proposed change to the accord (the quorum rule comes with federation). */
export const AccordAmendmentBody = z
  .object({ proposal: z.record(z.string(), z.unknown()), rationale: text(5000).optional() })
  .strict()
  .meta({ id: 'AccordAmendmentBody' });

export const BODY_SCHEMAS = {
  'hotline.message': HotlineMessageBody,
  'incident.report': IncidentReportBody,
  ack: AckBody,
  receipt: ReceiptBody,
  heartbeat: HeartbeatBody,
  'accord.amendment': AccordAmendmentBody,
} as const;

export type HotlineMessage = z.infer<typeof HotlineMessageBody>;
export type IncidentReport = z.infer<typeof IncidentReportBody>;
export type Ack = z.infer<typeof AckBody>;
