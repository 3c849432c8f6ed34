/**
 * Request and response schemas of the HTTP API. One zod schema per shape
 * gives validation at the boundary, the handler's types and the OpenAPI 3.1
 * document (STYLE.md §9). Request schemas are strict (unknown members are a
 * 400) and parse decimals in their one canonical spelling (STYLE.md §6).
 */
import { AEADS, ENTRY_TYPE_SYNTAX, ENTRY_TYPES, MARKINGS, OFFICER, PARTY_ID, PRECEDENCES } from '@parley/core';
import { z } from 'zod';
import { MIN_PASSWORD } from '../auth.js';
import { IncidentId, IncidentReportBody } from '../bodies.js';

/** A canonical decimal (no sign, no leading zeros) up to 2^53 − 1, from a path or query string. */
export const Decimal = z
  .string()
  .regex(/^(0|[1-9][0-9]{0,15})$/, 'a decimal without sign or leading zeros')
  .refine((s) => Number.isSafeInteger(Number(s)), 'at most 2^53 - 1')
  .transform(Number);

export const PartyId = z.string().regex(PARTY_ID, 'a party id such as US or CN');
export const OfficerName = z.string().regex(OFFICER, 'lowercase letters, digits, ".", "_" or "-", at most 64').refine((n) => n !== 'node', '"node" is reserved for the node itself');
export const Role = z.enum(['officer', 'auditor', 'admin']);
export const Precedence = z.enum(PRECEDENCES);
export const Marking = z.enum(MARKINGS);
/** A type this version knows (core's entry-type registry): what officers send and listings filter on. */
export const EntryType = z.enum(ENTRY_TYPES);
/** Any entry's type: open syntax; a type this node does not know is held and shown as unknown (core registry.ts). */
export const EntryTypeName = z.string().regex(ENTRY_TYPE_SYNTAX).describe(`A known type (${ENTRY_TYPES.join(', ')}) or, from a newer peer, another name of the same syntax`);
const Base64Hash = z.string().regex(/^[A-Za-z0-9+/]{43}=$/, 'a base64 SHA-256 hash (44 characters)');
const Recipients = z.array(PartyId).min(1).max(64).describe('Recipient parties (default: every other party)');
const Lang = z.string().regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8}){0,3}$/, 'a BCP 47 language tag such as en or zh-CN');

export const EntryRef = z.object({ party: PartyId, index: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), hash: Base64Hash }).strict().meta({ id: 'EntryRef' });

// --- sessions and officers ---------------------------------------------------

export const LoginRequest = z.object({ name: OfficerName, password: z.string().min(1).max(1024) }).strict();
export const OfficerView = z.object({ name: z.string(), role: Role });
export const LoginResponse = z.object({ token: z.string().describe('Bearer token: send as `Authorization: Bearer <token>`'), officer: OfficerView, expires: z.string() });
export const MeResponse = z.object({ name: z.string(), role: Role, expires: z.string() });
export const CreateOfficerRequest = z.object({ name: OfficerName, password: z.string().min(MIN_PASSWORD).max(1024), role: Role }).strict();
export const CreateOfficerResponse = z.object({ name: z.string(), role: Role, created: z.string() });

// --- entries -----------------------------------------------------------------

export const MessageRequest = z
  .object({
    to: Recipients.optional(),
    precedence: Precedence,
    marking: Marking,
    text: z.string().min(1).max(20_000),
    lang: Lang.optional(),
  })
  .strict();

export const ReportRequest = z
  .object({
    to: Recipients.optional(),
    precedence: Precedence.optional().describe("Default: the taxonomy's for the severity; a red line forces FLASH to every party"),
    marking: Marking,
    report: IncidentReportBody,
    refs: z.array(EntryRef).max(64).optional(),
  })
  .strict();

export const AckRequest = z.object({ reply: z.string().min(1).max(20_000).optional(), lang: Lang.optional() }).strict();

export const IngestRequest = z
  .object({ entries: z.array(z.string().max(400_000)).min(1).max(256).describe('Entry bytes as their senders\u2019 logs hold them, base64') })
  .strict();

/** The signed entry as JSON (docs/entries: members of the envelope). Loose: the entry is shown as signed. */
export const SignedEntry = z
  .object({
    v: z.literal(1),
    accord: z.string(),
    from: z.object({ party: z.string(), officer: z.string() }),
    to: z.array(z.string()).readonly(),
    seq: z.number().int(),
    time: z.string(),
    type: EntryTypeName,
    precedence: Precedence,
    marking: Marking,
    refs: z.array(z.object({ party: z.string(), index: z.number().int(), hash: z.string() })).readonly(),
    body: z.union([
      z.object({
        sealed: z.object({
          aead: z.enum(AEADS),
          commitment: z.string(),
          recipients: z.array(z.object({ party: z.string(), enc: z.string(), ct: z.string() })).readonly(),
        }),
      }),
      z.object({ clear: z.unknown() }),
    ]),
    sig: z.string(),
  })
  .meta({ id: 'SignedEntry' });

export const Submitted = z
  .object({ party: z.string(), index: z.number().int(), leafHash: z.string(), treeSize: z.number().int(), entry: SignedEntry })
  .meta({ id: 'Submitted' });

const Stamp = z.object({ index: z.number().int(), time: z.string() });
export const EntryState = z.object({ receipt: Stamp.optional(), ack: Stamp.extend({ officer: z.string() }).optional() });

export const EntryView = z
  .object({
    party: z.string(),
    index: z.number().int(),
    leafHash: z.string(),
    entry: SignedEntry,
    body: z.unknown().optional().describe('The clear or opened body (absent when sealed and not readable)'),
    sealed: z.enum(['not-entitled', 'not-a-recipient']).optional(),
    state: EntryState.optional().describe('For received entries: our receipt and acknowledgement'),
    suspect: z.literal(true).optional().describe("Written after the sender's last witnessed checkpoint under a key later recovered as compromised (issue 11)"),
    retracted: z
      .object({
        by: z.object({ party: z.string(), index: z.number().int(), time: z.string() }).describe('The retraction entry, in the sender\u2019s log'),
        action: z.enum(['retract', 'supersede']),
        reason: z.string().optional().describe('Absent for a role that may not read the sealed retraction'),
        lang: z.string().optional(),
        replacement: z.object({ party: z.string(), index: z.number().int() }).optional().describe('Supersede: the entry that takes its place'),
      })
      .optional()
      .describe('Withdrawn by its sender (issue 13): kept in the log as evidence, no longer in force'),
    deadlines: z
      .array(
        z.object({
          recipient: z.string(),
          state: z.enum(['sent', 'received', 'acknowledged', 'overdue-receipt', 'overdue-ack', 'rejected', 'withdrawn']).describe('rejected: the recipient refused the entry with a signed rejection (no acknowledgement will come); withdrawn: the sender retracted it (no acknowledgement is due)'),
          dueAt: z.string().describe('The governing deadline: next while on time, first missed once overdue, last once settled'),
          overdue: z.array(z.enum(['receipt', 'ack'])).readonly(),
          settled: z.boolean(),
          receiptDueAt: z.string().optional(),
          ackDueAt: z.string().optional(),
          receipt: z.object({ index: z.number().int(), at: z.string(), judgedAt: z.string(), onTime: z.boolean() }).optional().describe("The recipient's receipt of this entry"),
          ack: z
            .object({
              index: z.number().int(),
              at: z.string(),
              judgedAt: z.string(),
              onTime: z.boolean(),
              officer: z.string(),
              reply: z.string().optional().describe('The reply sent with the acknowledgement, when this role may read it'),
              lang: z.string().optional(),
            })
            .optional()
            .describe("The recipient's acknowledgement of this entry (late when onTime is false: judgedAt − ackDueAt)"),
        }),
      )
      .optional()
      .describe('Inbox and outbox listings: each recipient\u2019s delivery of this very entry — deadlines, receipt, acknowledgement and reply — however many deliveries came after it'),
  })
  .meta({ id: 'EntryView' });

export const ListQuery = z
  .object({
    type: EntryType.optional(),
    party: PartyId.optional(),
    incident: IncidentId.optional(),
    before: Decimal.optional().describe('Cursor: the `next` of the previous page'),
    limit: Decimal.pipe(z.number().int().min(1).max(200)).optional().describe('1–200, default 50'),
    all: z.enum(['0', '1', 'false', 'true']).optional().describe('Inbox: 1 also lists receipts and heartbeats (left out by default, unless `type` asks for them)'),
    order: z.enum(['newest', 'urgency']).optional().describe('Inbox: `urgency` lists entries awaiting acknowledgement first (overdue, then FLASH → ROUTINE, then by deadline), then the rest newest first, and applies `limit` after that order; one page, no `next`'),
  })
  .strict();

export const ListResponse = z.object({ items: z.array(EntryView), next: z.number().int().optional().describe('Cursor for the next page, when there may be one') });

export const EntryParams = z.object({ party: PartyId, index: Decimal }).strict();

export const IngestResponse = z.object({ accepted: z.number().int(), duplicates: z.number().int(), receipts: z.array(Submitted) });

export const AccordResponse = z.object({
  id: z.string().describe('Channel id: hex SHA-256 of the canonical accord'),
  version: z.number().int().min(1).describe('The accord version in force (1: the founding accord)'),
  digest: z.string().describe('Hex SHA-256 of the canonical accord of this version (the channel id for version 1)'),
  previous: z.string().optional().describe('Digest of the version before (versions ≥ 2)'),
  frozen: z.boolean().describe('True when this version leaves one party: no log takes new entries'),
  accord: z.looseObject({}).describe('The accord (RFC 8785 canonical JSON members, version ≥ 2 members and party witnessKey included)'),
  signedBy: z.array(z.string()),
  signatures: z
    .array(z.object({ party: z.string(), sig: z.string().describe('Base64 Ed25519 over the accord signing message (core accord.ts)'), prior: z.literal(true).optional().describe('Made with the party\u2019s key of the version before') }))
    .describe('The verified signatures, so a reader (the dashboard) can check the accord itself'),
});

// --- public log ----------------------------------------------------------------

export const IndexParams = z.object({ index: Decimal }).strict();
export const InclusionQuery = z.object({ index: Decimal, size: Decimal }).strict();
export const InclusionResponse = z.object({ index: z.number().int(), treeSize: z.number().int(), proof: z.array(z.string()).describe('Base64 hashes, RFC 9162 §2.1.3') });
export const ConsistencyQuery = z.object({ old: Decimal, new: Decimal }).strict();
export const ConsistencyResponse = z.object({ proof: z.array(z.string()).describe('Base64 hashes, RFC 9162 §2.1.4') });
/** Raw bytes in a response (tiles, entries, notes): documented as a binary string. */
export const Bytes = z.custom<Buffer>((v) => Buffer.isBuffer(v)).meta({ type: 'string', format: 'binary' });

export const Health = z.object({
  status: z.enum(['ok', 'unconfirmed', 'rolled-back', 'recovering', 'unchecked', 'confirmed']).describe('ok, or (503) why this node may not sign (issue 9: GET /v1/continuity)'),
  party: z.string(),
  treeSize: z.number().int(),
  continuity: z.enum(['unchecked', 'unconfirmed', 'confirmed', 'rolled-back', 'recovering']).optional().describe('The rollback guard\u2019s state, when one runs'),
  role: z.enum(['sequencer', 'follower']).optional().describe('Several processes for one party (issue 14): whether this one signs and appends the log'),
});

export const SequencerStatus = z
  .object({
    role: z.enum(['sequencer', 'follower']).describe('sequencer: this process signs and appends the log and runs heartbeats, escalations and federation; follower: it serves reads and forwards writes'),
    multi: z.boolean().describe('Whether this process competes for the sequencer lock (a PostgreSQL store); false: the party\u2019s only process'),
    treeSize: z.number().int().describe('The log size this process serves'),
    self: z.string().optional().describe('This process\u2019s advertised base URL'),
    sequencer: z.string().optional().describe('The sequencer\u2019s base URL; absent while no process holds the lock'),
    since: z.string().describe('When this process took its role'),
    elected: z.number().int().describe('How many times this process became the sequencer'),
  })
  .meta({ id: 'SequencerStatus' });
