/**
 * Entry bodies: one strict check per entry type — the single registry every
 * layer validates bodies with (the node on officers' submissions AND on every
 * body it receives, clear or opened; the CLI before sending; the dashboard
 * before rendering). Written in shape.ts's style rather than with a schema
 * library: core has no runtime dependencies beyond its crypto provider
 * (STYLE.md §15), the dashboard does not bundle zod, and a body is a protocol
 * document, so its check is a protocol parser: closed member sets, bounded
 * lengths, closed code sets from the taxonomy.
 *
 * The node's zod schemas (packages/node/src/bodies.ts) only describe these
 * bodies in the OpenAPI document; a node test keeps both in agreement.
 *
 * Bodies by type (`?` = optional; text = non-empty string, max length in
 * UTF-16 units; time = RFC 3339 UTC with `Z`, seconds required, any
 * fraction):
 *
 *     hotline.message   {text: text≤20000, lang?: BCP47}
 *     incident.report   {incident: PARTY:local-id, kind, title: text≤300,
 *                        summary: text≤20000, category, severity: 0..7, stage,
 *                        system: {name: text≤200, developer?: text≤200, version?: text≤100},
 *                        actor: {type, description?: text≤2000},
 *                        harm: {types: [harm type]≤8, description?: text≤5000},
 *                        mitigations: [text≤2000]≤50,
 *                        occurredAt?: time, detectedAt?: time, lang?: BCP47,
 *                        techniques?: [ATLAS technique id]≤32 sorted unique,
 *                        cves?: [CVE id]≤64 sorted unique,
 *                        potential?: true,                 a near miss or an issue (AIID), no harm yet
 *                        source?: {name: text≤100, id: text≤100, url?: https URL≤2000,
 *                                  license: text≤100}}    a record taken from a public database
 *                                                          (AIID), attributed under its licence
 *     ack               {reply?: text≤20000, lang?: BCP47}
 *     receipt           {receivedAt: time}                       the entries in refs were stored
 *                       {receivedAt, status: "rejected", code, reason: text≤2000}
 *                                                                  the one entry in refs was stored
 *                                                                  as evidence but rejected
 *     heartbeat         {treeSize: 0..2^53−1}
 *     accord.amendment  {accord: Accord (version N+1, whole; accord.ts parseAccord),
 *                        signatures: [signature]≤128, rationale?: text≤5000,
 *                        recovery?: {party, suspectFrom: 0..2^53−1}}
 *                                                                  a proposal; signatures are the
 *                                                                  consents collected so far, may be []
 *     accord.approval   {version: 2.., digest: hex64, signatures: [signature]1..2}
 *                                                                  one party's approval (refs = [the
 *                                                                  proposal]); its prior and/or plain signature
 *     accord.activation {version: 2.., digest: hex64,              the sender's log adopts that version
 *                        suspectFrom?: 0..2^53−1}                  from this entry on; suspectFrom only
 *                                                                  on a recovery of the sender's key
 *                                                                  from this entry on
 *
 *     evaluation.commitment {stage: "protocol"|"report", domains: [text≤40]1..16 unique,
 *                        sdAlg: "sha-256", sd: [digest]1..512 sorted unique}
 *                                                                  salted per-claim digests of an
 *                                                                  evaluation (eval/disclosure.ts);
 *                                                                  refs: [] or [the protocol commitment]
 *     deployment.notice {model: {id: text≤200, digest: "sha256:" hex64}, deployedAt: time,
 *                        note?: text≤2000}                         refs: [the commitment]
 *     evaluation.reveal {disclosures: [disclosure]1..512}          refs: [the commitment, in the
 *                                                                  sender's own log]; checked against
 *                                                                  it by eval/disclosure.ts openDisclosures
 *
 *     retraction        {action: "retract"|"supersede", reason: text≤2000, lang?: BCP47}
 *                                                                  refs: [the entry withdrawn, in the
 *                                                                  sender's own log] or, to supersede,
 *                                                                  [it, its replacement (same log, later)]
 *     incident.link     {incidents: [incident id]2..16 sorted unique, relation: "same-event"|"related",
 *                        note?: text≤2000, lang?: BCP47}          an officer confirms that incidents
 *                                                                  reported by different parties are
 *                                                                  one event (or related); refs: one
 *                                                                  report of each linked incident
 *
 *     digest     = base64url (unpadded) of a SHA-256 digest, 43 characters
 *     disclosure = base64url (unpadded) of the JSON text [salt, name, value] (structure
 *                  checked here; its digest against the commitment wherever both are held)
 *
 *     signature = {party, sig: base64 Ed25519 (64 bytes), prior?: true}, sorted by
 *                 party, then plain before prior; at most one of each per party
 *
 * Which types exist, and what each needs (an acknowledgement? may an officer
 * send it? its label), is the registry's business (registry.ts); this file
 * holds the checks it uses. A type the registry does not know has no body
 * check: see registry.ts for the unknown-type rule.
 *
 * A rejection is an ordinary machine receipt, signed into the receiver's log,
 * so the sender holds portable proof that its entry arrived and why it was
 * refused. `code` is a stable Parley error code (errors.ts), e.g.
 * `ENTRY_MALFORMED` for a body that fails its type's check here.
 *
 * @example
 *   checkBody('hotline.message', { text: 'hello' }); // → the body, typed
 *   bodyProblem('incident.report', { incident: 'US:0001', kind: 'initial' });
 *   // → ParseError ENTRY_MALFORMED "body.title: missing"
 */
import { type ErrorCode, ParleyError, fail } from '../errors.js';
import { arr, int, obj, oneOf, sortedUnique, str } from '../shape.js';
import { type ActorType, type HarmType, type ReportKind, type Stage, ACTOR_TYPES, HARM_TYPES, REPORT_KINDS, STAGES } from '../taxonomy/types.js';
import { TAXONOMY_V1 } from '../taxonomy/taxonomy.js';
import { type Accord, PARTY_ID, parseAccord } from '../accord/accord.js';
import { MAX_SD, SD_ALG, SD_DIGEST, decodeDisclosure } from '../eval/disclosure.js';

const CODE = 'ENTRY_MALFORMED' satisfies ErrorCode;

/** BCP 47 language tags we expect (free-form, bounded). */
export const LANG_TAG = /^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8}){0,3}$/;
/** An incident id: the reporting party's id, a colon, then 4–40 characters (`US:2026-0007`). */
export const INCIDENT_ID = /^[A-Z][A-Z0-9-]{1,15}:[A-Za-z0-9._-]{4,40}$/;
/** A MITRE ATLAS technique or sub-technique id (`AML.T0051`, `AML.T0051.000`). */
export const ATLAS_TECHNIQUE_ID = /^AML\.T\d{4}(?:\.\d{3})?$/;
/** A CVE id (`CVE-2024-12345`). */
export const CVE_ID = /^CVE-\d{4}-\d{4,19}$/;
/** An https URL (bounded; no whitespace). */
const HTTPS_URL = /^https:\/\/[^\s]{1,1990}$/;
/** What a `retraction` does to the entry it cites. */
export const RETRACTION_ACTIONS = ['retract', 'supersede'] as const;
export type RetractionAction = (typeof RETRACTION_ACTIONS)[number];
/** How the incidents of an `incident.link` relate. */
export const LINK_RELATIONS = ['same-event', 'related'] as const;
export type LinkRelation = (typeof LINK_RELATIONS)[number];
/** A stable error code as carried in a rejection. */
export const REJECTION_CODE = /^[A-Z][A-Z0-9_]{0,63}$/;
// RFC 3339 §5.6 date-time in UTC: a real calendar date (leap years included), seconds required, any fraction.
const DATE = String.raw`(?:(?:\d\d[2468][048]|\d\d[13579][26]|\d\d0[48]|[02468][048]00|[13579][26]00)-02-29|\d{4}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12]\d|3[01])|(?:0[469]|11)-(?:0[1-9]|[12]\d|30)|(?:02)-(?:0[1-9]|1\d|2[0-8])))`;
const DATE_TIME = new RegExp(String.raw`^${DATE}T(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d(?:\.\d+)?Z$`);

export interface HotlineMessageBody {
  readonly text: string;
  readonly lang?: string;
}
export interface IncidentReportBody {
  readonly incident: string;
  readonly kind: ReportKind;
  readonly title: string;
  readonly summary: string;
  readonly category: string;
  readonly severity: number;
  readonly stage: Stage;
  readonly system: { readonly name: string; readonly developer?: string; readonly version?: string };
  readonly actor: { readonly type: ActorType; readonly description?: string };
  readonly harm: { readonly types: readonly HarmType[]; readonly description?: string };
  readonly mitigations: readonly string[];
  readonly occurredAt?: string;
  readonly detectedAt?: string;
  readonly lang?: string;
  /** MITRE ATLAS technique ids (sorted, unique). */
  readonly techniques?: readonly string[];
  /** CVE ids of vulnerabilities involved (sorted, unique). */
  readonly cves?: readonly string[];
  /** A near miss or an issue: no harm has happened (yet). */
  readonly potential?: true;
  /** Where a record taken from a public database (the AI Incident Database) came from, and its licence. */
  readonly source?: IncidentSource;
}
/** Attribution of a record taken from a public database (`{name: "AIID", id: "23", url, license: "CC BY-SA 4.0"}`). */
export interface IncidentSource {
  readonly name: string;
  readonly id: string;
  readonly url?: string;
  readonly license: string;
}
/** Withdraws an entry of the sender's own log (refs[0]); `supersede` names its replacement (refs[1]). */
export interface RetractionBody {
  readonly action: RetractionAction;
  readonly reason: string;
  readonly lang?: string;
}
/** An officer's confirmation that incidents reported by different parties are one event, or related. */
export interface IncidentLinkBody {
  readonly incidents: readonly string[];
  readonly relation: LinkRelation;
  readonly note?: string;
  readonly lang?: string;
}
export interface AckBody {
  readonly reply?: string;
  readonly lang?: string;
}
/** A machine receipt; with `status` it is a rejection of the one entry it references. */
export interface ReceiptBody {
  readonly receivedAt: string;
  readonly status?: 'rejected';
  readonly code?: string;
  readonly reason?: string;
}
export interface HeartbeatBody {
  readonly treeSize: number;
}
/** A signature over a version of the accord as an amendment carries it (GOV.md §1; `prior` = made with the party's key in the previous version). */
export interface AccordVersionSignature {
  readonly party: string;
  readonly sig: string;
  readonly prior?: true;
}
/** A proposed version N+1 of the accord. */
export interface AccordAmendmentBody {
  /** The whole proposed version. */
  readonly accord: Accord;
  /** Consents collected so far (may be empty). */
  readonly signatures: readonly AccordVersionSignature[];
  readonly rationale?: string;
  /** A compromise recovery: `party`'s entries from `suspectFrom` until the new key's activation are suspect. */
  readonly recovery?: { readonly party: string; readonly suspectFrom: number };
}
/** One party's approval of a proposal (the entry's refs name the proposal). */
export interface AccordApprovalBody {
  readonly version: number;
  /** Hex SHA-256 of the approved version's canonical accord. */
  readonly digest: string;
  /** This party's signatures: prior and/or plain. */
  readonly signatures: readonly AccordVersionSignature[];
}
/** The sender's log adopts `version` from this entry on. */
export interface AccordActivationBody {
  readonly version: number;
  readonly digest: string;
  /**
   * A compromise recovery of the sender's own log key only: the first suspect
   * index of its log (epochs.ts). Carried here so the new key signs it; a
   * chain file's copy of it is checked against this one.
   */
  readonly suspectFrom?: number;
}

/** The stages of an evaluation: a pre-registered protocol (what will be tested), or the report. */
export const EVALUATION_STAGES = ['protocol', 'report'] as const;
export type EvaluationStage = (typeof EVALUATION_STAGES)[number];
/** A model digest as a deployment notice carries it. */
export const MODEL_DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Salted per-claim digests of an evaluation; `stage` and `domains` are in the clear. */
export interface EvaluationCommitmentBody {
  readonly stage: EvaluationStage;
  readonly domains: readonly string[];
  readonly sdAlg: typeof SD_ALG;
  /** Top-level digests, decoys included, sorted (eval/disclosure.ts). */
  readonly sd: readonly string[];
}
/** A deployment of a model whose evaluation was committed (refs = [the commitment]). */
export interface DeploymentNoticeBody {
  readonly model: { readonly id: string; readonly digest: string };
  readonly deployedAt: string;
  readonly note?: string;
}
/** Disclosures opening claims of a commitment (refs = [the commitment]). */
export interface EvaluationRevealBody {
  readonly disclosures: readonly string[];
}

/** The body type of each entry type. */
export interface EntryBodies {
  readonly 'hotline.message': HotlineMessageBody;
  readonly 'incident.report': IncidentReportBody;
  readonly ack: AckBody;
  readonly receipt: ReceiptBody;
  readonly heartbeat: HeartbeatBody;
  readonly 'accord.amendment': AccordAmendmentBody;
  readonly 'accord.approval': AccordApprovalBody;
  readonly 'accord.activation': AccordActivationBody;
  readonly 'evaluation.commitment': EvaluationCommitmentBody;
  readonly 'deployment.notice': DeploymentNoticeBody;
  readonly 'evaluation.reveal': EvaluationRevealBody;
  readonly retraction: RetractionBody;
  readonly 'incident.link': IncidentLinkBody;
}

/** An entry type this version of Parley knows (has a body check for). */
export type KnownEntryType = keyof EntryBodies;

const text = (v: unknown, path: string, max: number) => str(v, CODE, path, { min: 1, max });
const lang = (v: unknown, path: string) => str(v, CODE, path, { pattern: LANG_TAG, max: 35 });
const dateTime = (v: unknown, path: string) => str(v, CODE, path, { pattern: DATE_TIME, max: 64 });
/**
 * Copies the optional members present in `o`, each checked by `check`. A
 * member set to `undefined` (a JavaScript caller's, never JSON's) is absent.
 */
function optional<T>(o: Record<string, unknown>, path: string, checks: Record<string, (v: unknown, path: string) => T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const [k, check] of Object.entries(checks)) if (o[k] !== undefined) out[k] = check(o[k], `${path}.${k}`);
  return out;
}
const CATEGORIES = TAXONOMY_V1.categories.map((c) => c.code);

function hotlineMessage(v: unknown, p: string): HotlineMessageBody {
  const o = obj(v, CODE, p, ['text'], ['lang']);
  return { text: text(o['text'], `${p}.text`, 20_000), ...optional(o, p, { lang }) };
}

function incidentReport(v: unknown, p: string): IncidentReportBody {
  const o = obj(v, CODE, p, ['incident', 'kind', 'title', 'summary', 'category', 'severity', 'stage', 'system', 'actor', 'harm', 'mitigations'], ['occurredAt', 'detectedAt', 'lang', 'techniques', 'cves', 'potential', 'source']);
  const sys = obj(o['system'], CODE, `${p}.system`, ['name'], ['developer', 'version']);
  const actor = obj(o['actor'], CODE, `${p}.actor`, ['type'], ['description']);
  const harm = obj(o['harm'], CODE, `${p}.harm`, ['types'], ['description']);
  return {
    incident: str(o['incident'], CODE, `${p}.incident`, { pattern: INCIDENT_ID, max: 57 }),
    kind: oneOf(o['kind'], CODE, `${p}.kind`, REPORT_KINDS),
    title: text(o['title'], `${p}.title`, 300),
    summary: text(o['summary'], `${p}.summary`, 20_000),
    category: oneOf(o['category'], CODE, `${p}.category`, CATEGORIES),
    severity: int(o['severity'], CODE, `${p}.severity`, 0, 7),
    stage: oneOf(o['stage'], CODE, `${p}.stage`, STAGES),
    system: {
      name: text(sys['name'], `${p}.system.name`, 200),
      ...optional(sys, `${p}.system`, { developer: (x, q) => text(x, q, 200), version: (x, q) => text(x, q, 100) }),
    },
    actor: { type: oneOf(actor['type'], CODE, `${p}.actor.type`, ACTOR_TYPES), ...optional(actor, `${p}.actor`, { description: (x, q) => text(x, q, 2000) }) },
    harm: {
      types: arr(harm['types'], CODE, `${p}.harm.types`, HARM_TYPES.length, (x, q) => oneOf(x, CODE, q, HARM_TYPES)),
      ...optional(harm, `${p}.harm`, { description: (x, q) => text(x, q, 5000) }),
    },
    mitigations: arr(o['mitigations'], CODE, `${p}.mitigations`, 50, (x, q) => text(x, q, 2000)),
    ...optional(o, p, { occurredAt: dateTime, detectedAt: dateTime, lang }),
    ...optional(o, p, {
      techniques: (x, q) => sortedIds(x, q, 32, ATLAS_TECHNIQUE_ID, 16),
      cves: (x, q) => sortedIds(x, q, 64, CVE_ID, 28),
    }),
    ...(o['potential'] === undefined ? {} : { potential: trueOnly(o['potential'], `${p}.potential`) }),
    ...optional(o, p, { source: incidentSource }),
  };
}

function trueOnly(v: unknown, p: string): true {
  if (v !== true) fail(CODE, `${p}: want true or absent`);
  return true;
}

/** A sorted, unique list of ids matching `pattern` (1..max items). */
function sortedIds(v: unknown, p: string, max: number, pattern: RegExp, maxLength: number): string[] {
  const ids = arr(v, CODE, p, max, (x, q) => str(x, CODE, q, { pattern, max: maxLength }), 1);
  sortedUnique(ids, CODE, p);
  return ids;
}

function incidentSource(v: unknown, p: string): IncidentSource {
  const o = obj(v, CODE, p, ['name', 'id', 'license'], ['url']);
  return {
    name: text(o['name'], `${p}.name`, 100),
    id: text(o['id'], `${p}.id`, 100),
    ...optional(o, p, { url: (x, q) => str(x, CODE, q, { pattern: HTTPS_URL, max: 2000 }) }),
    license: text(o['license'], `${p}.license`, 100),
  };
}

function retraction(v: unknown, p: string): RetractionBody {
  const o = obj(v, CODE, p, ['action', 'reason'], ['lang']);
  return { action: oneOf(o['action'], CODE, `${p}.action`, RETRACTION_ACTIONS), reason: text(o['reason'], `${p}.reason`, 2000), ...optional(o, p, { lang }) };
}

function incidentLink(v: unknown, p: string): IncidentLinkBody {
  const o = obj(v, CODE, p, ['incidents', 'relation'], ['note', 'lang']);
  const incidents = arr(o['incidents'], CODE, `${p}.incidents`, 16, (x, q) => str(x, CODE, q, { pattern: INCIDENT_ID, max: 57 }), 2);
  sortedUnique(incidents, CODE, `${p}.incidents`);
  return {
    incidents,
    relation: oneOf(o['relation'], CODE, `${p}.relation`, LINK_RELATIONS),
    ...optional(o, p, { note: (x, q) => text(x, q, 2000), lang }),
  };
}

function ack(v: unknown, p: string): AckBody {
  const o = obj(v, CODE, p, [], ['reply', 'lang']);
  return optional(o, p, { reply: (x, q) => text(x, q, 20_000), lang });
}

function receipt(v: unknown, p: string): ReceiptBody {
  const o = obj(v, CODE, p, ['receivedAt'], ['status', 'code', 'reason']);
  const receivedAt = dateTime(o['receivedAt'], `${p}.receivedAt`);
  if (!('status' in o) && !('code' in o) && !('reason' in o)) return { receivedAt };
  // A rejection carries all three, or it is not one.
  obj(o, CODE, p, ['receivedAt', 'status', 'code', 'reason']);
  return {
    receivedAt,
    status: oneOf(o['status'], CODE, `${p}.status`, ['rejected'] as const),
    code: str(o['code'], CODE, `${p}.code`, { pattern: REJECTION_CODE, max: 64 }),
    reason: text(o['reason'], `${p}.reason`, 2000),
  };
}

function heartbeat(v: unknown, p: string): HeartbeatBody {
  const o = obj(v, CODE, p, ['treeSize']);
  return { treeSize: int(o['treeSize'], CODE, `${p}.treeSize`, 0, Number.MAX_SAFE_INTEGER) };
}

const HEX64 = /^[0-9a-f]{64}$/;
const B64_SIG = /^[A-Za-z0-9+/]{86}==$/;
const MAX_VERSION = Number.MAX_SAFE_INTEGER;

function accordSignatures(v: unknown, p: string, min: number, max: number): AccordVersionSignature[] {
  const sigs = arr(v, CODE, p, max, (x, q) => {
    const o = obj(x, CODE, q, ['party', 'sig'], ['prior']);
    if (o['prior'] !== undefined && o['prior'] !== true) fail(CODE, `${q}.prior: want true or absent`);
    return {
      party: str(o['party'], CODE, `${q}.party`, { pattern: PARTY_ID, max: 16 }),
      sig: str(o['sig'], CODE, `${q}.sig`, { pattern: B64_SIG, min: 88, max: 88 }),
      ...(o['prior'] === true ? { prior: true as const } : {}),
    };
  }, min);
  // Sorted by party, then plain before prior; at most one of each per party.
  const keys = sigs.map((s) => `${s.party} ${s.prior ? 1 : 0}`);
  for (let i = 1; i < keys.length; i++) if (!(keys[i - 1]! < keys[i]!)) fail(CODE, `${p}: want sorted by party, plain before prior, at most one of each per party`);
  return sigs;
}

function accordAmendment(v: unknown, p: string): AccordAmendmentBody {
  const o = obj(v, CODE, p, ['accord', 'signatures'], ['rationale', 'recovery']);
  let accord: Accord;
  try {
    accord = parseAccord(o['accord']);
  } catch (e) {
    // The accord's own check (accord.ts) names what is wrong; as an entry body it is a malformed body.
    return fail(CODE, `${p}.accord: ${e instanceof ParleyError ? e.message : 'not an accord'}`, e);
  }
  return {
    accord,
    signatures: accordSignatures(o['signatures'], `${p}.signatures`, 0, 128),
    ...optional(o, p, { rationale: (x, q) => text(x, q, 5000) }),
    ...optional(o, p, {
      recovery: (x, q) => {
        const r = obj(x, CODE, q, ['party', 'suspectFrom']);
        return { party: str(r['party'], CODE, `${q}.party`, { pattern: PARTY_ID, max: 16 }), suspectFrom: int(r['suspectFrom'], CODE, `${q}.suspectFrom`, 0, Number.MAX_SAFE_INTEGER) };
      },
    }),
  };
}

function accordApproval(v: unknown, p: string): AccordApprovalBody {
  const o = obj(v, CODE, p, ['version', 'digest', 'signatures']);
  const signatures = accordSignatures(o['signatures'], `${p}.signatures`, 1, 2);
  if (signatures.some((s) => s.party !== signatures[0]!.party)) fail(CODE, `${p}.signatures: an approval carries one party's signatures`);
  return {
    version: int(o['version'], CODE, `${p}.version`, 2, MAX_VERSION),
    digest: str(o['digest'], CODE, `${p}.digest`, { pattern: HEX64, max: 64 }),
    signatures,
  };
}

function accordActivation(v: unknown, p: string): AccordActivationBody {
  const o = obj(v, CODE, p, ['version', 'digest'], ['suspectFrom']);
  const out = { version: int(o['version'], CODE, `${p}.version`, 2, MAX_VERSION), digest: str(o['digest'], CODE, `${p}.digest`, { pattern: HEX64, max: 64 }) };
  return 'suspectFrom' in o ? { ...out, suspectFrom: int(o['suspectFrom'], CODE, `${p}.suspectFrom`, 0, Number.MAX_SAFE_INTEGER) } : out;
}

function evaluationCommitment(v: unknown, p: string): EvaluationCommitmentBody {
  const o = obj(v, CODE, p, ['stage', 'domains', 'sdAlg', 'sd']);
  const domains = arr(o['domains'], CODE, `${p}.domains`, 16, (x, q) => text(x, q, 40), 1);
  if (new Set(domains).size !== domains.length) fail(CODE, `${p}.domains: must be unique`);
  const sd = arr(o['sd'], CODE, `${p}.sd`, MAX_SD, (x, q) => str(x, CODE, q, { pattern: SD_DIGEST, max: 43 }), 1);
  sortedUnique(sd, CODE, `${p}.sd`);
  return {
    stage: oneOf(o['stage'], CODE, `${p}.stage`, EVALUATION_STAGES),
    domains,
    sdAlg: oneOf(o['sdAlg'], CODE, `${p}.sdAlg`, [SD_ALG] as const),
    sd,
  };
}

function deploymentNotice(v: unknown, p: string): DeploymentNoticeBody {
  const o = obj(v, CODE, p, ['model', 'deployedAt'], ['note']);
  const m = obj(o['model'], CODE, `${p}.model`, ['id', 'digest']);
  return {
    model: { id: text(m['id'], `${p}.model.id`, 200), digest: str(m['digest'], CODE, `${p}.model.digest`, { pattern: MODEL_DIGEST, max: 71 }) },
    deployedAt: dateTime(o['deployedAt'], `${p}.deployedAt`),
    ...optional(o, p, { note: (x, q) => text(x, q, 2000) }),
  };
}

function evaluationReveal(v: unknown, p: string): EvaluationRevealBody {
  const o = obj(v, CODE, p, ['disclosures']);
  const disclosures = arr(o['disclosures'], CODE, `${p}.disclosures`, MAX_SD, (x, q) => {
    try {
      return decodeDisclosure(x as string).encoded;
    } catch (e) {
      return fail(CODE, `${q}: ${e instanceof ParleyError ? e.message : 'not a disclosure'}`, e);
    }
  }, 1);
  return { disclosures };
}

/**
 * One check per known entry type (the registry, registry.ts, carries them
 * with the rest of what a type needs). Each returns the body (typed) or
 * throws ParseError `ENTRY_MALFORMED` with a path.
 */
export const BODY_CHECKS: { readonly [T in KnownEntryType]: (v: unknown, path: string) => EntryBodies[T] } = {
  'hotline.message': hotlineMessage,
  'incident.report': incidentReport,
  ack,
  receipt,
  heartbeat,
  'accord.amendment': accordAmendment,
  'accord.approval': accordApproval,
  'accord.activation': accordActivation,
  'evaluation.commitment': evaluationCommitment,
  'deployment.notice': deploymentNotice,
  'evaluation.reveal': evaluationReveal,
  retraction,
  'incident.link': incidentLink,
};

/**
 * Checks `body` against `type`'s check.
 * @returns the body, typed (a fresh object with the same members).
 * @throws ParseError `ENTRY_MALFORMED` naming the offending member (`body.system.name: missing`), also for a
 *   type this version does not know (a received entry of an unknown type is not checked at all: registry.ts).
 * @example checkBody('heartbeat', { treeSize: 3 })
 */
export function checkBody<T extends KnownEntryType>(type: T, body: unknown): EntryBodies[T] {
  const check = (BODY_CHECKS as Partial<Record<string, (v: unknown, path: string) => unknown>>)[type];
  if (!check) fail(CODE, `no body check for entry type ${String(type)}`);
  return check(body, 'body') as EntryBodies[T];
}

/**
 * {@link checkBody} as a value: the error, or undefined for a good body. For
 * indexes and ingest, which must skip and report a bad body rather than fail.
 */
export function bodyProblem(type: string, body: unknown): ParleyError | undefined {
  try {
    checkBody(type as KnownEntryType, body);
    return undefined;
  } catch (e) {
    if (e instanceof ParleyError) return e;
    throw e;
  }
}

/** The rejection a receipt body carries, or undefined for a plain receipt (or a body that is not a valid receipt). */
export function receiptRejection(body: unknown): { readonly code: string; readonly reason: string } | undefined {
  if (bodyProblem('receipt', body)) return undefined;
  const b = body as ReceiptBody;
  return b.status === 'rejected' ? { code: b.code!, reason: b.reason! } : undefined;
}
