/**
 * The evaluation evidence bundle: everything `parley eval verify` needs to
 * check an evaluation offline, with nothing but the accord.
 *
 * RFC 8785 canonical JSON (one spelling), closed member sets:
 *
 *     type         "parley/evaluation-evidence"
 *     v            1
 *     accord       channel id (hex SHA-256 of accord version 1)
 *     chain        the accord chain file text (`GET /v1/accord/chain`), or a signed accord (version 1) as JSON text
 *     commitment   EvidenceEntry      the evaluation.commitment
 *     notice?      EvidenceEntry      a deployment.notice citing it
 *     protocol?    EvidenceEntry      the protocol commitment it follows
 *     reveal?      EvidenceEntry      an evaluation.reveal of it
 *     disclosures? [disclosure]       opened disclosures (a recipient forwards these)
 *     created      time (toISOString form)
 *
 *     EvidenceEntry = {entry: base64 entry bytes, index, proof: [base64 32-byte hash]≤63,
 *                      checkpoint: checkpoint note text (with cosignatures),
 *                      timestamps: [{authority, token: base64 DER}]≤8}
 *
 * Verification (`verifyEvaluationEvidence`, evidence-verify.ts) reports each check
 * (`{id, ok, detail}`, detail in every language) rather than stopping at the
 * first failure, so a verifier sees all that holds and all that does not;
 * `ok` only when every check holds.
 *
 * RFC 3161 tokens are checked by an injected verifier (`@parley/core/tsa`'s
 * `verifyTimestamps`, bound to the accord's `timestamping`): this module,
 * part of core's main entry, must not pull in certificate code. A token is
 * over the note as it was stamped — the log's own signed note (what a node
 * stamps) or the note with its cosignatures — so both are tried.
 */
import { ParleyError, fail } from '../errors.js';
import { decodeUtf8, formatBase64, parseBase64 } from '../encoding.js';
import { canonicalize } from '../cjson.js';
import { parseJson } from '../ijson.js';
import { HASH_SIZE } from '../merkle/hash.js';
import { MAX_NOTE_BYTES } from '../note/note.js';
import { MAX_ENTRY_BYTES } from '../entry/envelope.js';
import { arr, int, obj, str, time } from '../shape.js';
import { MAX_TOKENS_PER_CHECKPOINT, type TimestampTokenWire, parseTimestampToken } from '../tsa/wire.js';
import { MAX_SD, decodeDisclosure } from './disclosure.js';

export const EVIDENCE_TYPE = 'parley/evaluation-evidence';
export const EVIDENCE_VERSION = 1;
/** Largest evidence bundle we parse. */
export const MAX_EVIDENCE_BYTES = 32 * 1024 * 1024;

/** An RFC 3161 token in its wire form (`{authority, token: base64 DER}`, core tsa/wire.ts). */
export type TimestampToken = TimestampTokenWire;

/** One entry with what proves it: inclusion in a checkpoint, its cosignatures, time stamps. */
export interface EvidenceEntry {
  /** Base64 canonical entry bytes. */
  readonly entry: string;
  readonly index: number;
  /** Base64 RFC 6962 inclusion proof hashes against `checkpoint`. */
  readonly proof: readonly string[];
  /** The checkpoint note text of the entry's log (its signature and cosignatures). */
  readonly checkpoint: string;
  readonly timestamps: readonly TimestampToken[];
}

/** The evidence bundle (module doc). */
export interface EvaluationEvidence {
  readonly type: typeof EVIDENCE_TYPE;
  readonly v: 1;
  readonly accord: string;
  readonly chain: string;
  readonly commitment: EvidenceEntry;
  readonly notice?: EvidenceEntry;
  readonly protocol?: EvidenceEntry;
  readonly reveal?: EvidenceEntry;
  readonly disclosures?: readonly string[];
  readonly created: string;
}

const CODE = 'EVIDENCE_MALFORMED';
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** The entries a bundle may carry, in the order they are checked. */
export const EVIDENCE_ROLES = ['commitment', 'notice', 'protocol', 'reveal'] as const;
export type EvidenceRole = (typeof EVIDENCE_ROLES)[number];

function b64(v: unknown, path: string, max: number, bytes?: number): string {
  const s = str(v, CODE, path, { pattern: B64, min: 4, max });
  try {
    const out = parseBase64(s, path);
    if (bytes !== undefined && out.length !== bytes) fail(CODE, `${path}: want ${bytes} bytes`);
  } catch (e) {
    if (e instanceof ParleyError && e.code === CODE) throw e;
    return fail(CODE, `${path}: not canonical base64`, e);
  }
  return s;
}

function evidenceEntry(v: unknown, path: string): EvidenceEntry {
  const o = obj(v, CODE, path, ['entry', 'index', 'proof', 'checkpoint', 'timestamps']);
  return {
    entry: b64(o['entry'], `${path}.entry`, 4 * Math.ceil(MAX_ENTRY_BYTES / 3)),
    index: int(o['index'], CODE, `${path}.index`, 0, Number.MAX_SAFE_INTEGER - 1),
    proof: arr(o['proof'], CODE, `${path}.proof`, 63, (h, p) => b64(h, p, 44, HASH_SIZE)),
    checkpoint: str(o['checkpoint'], CODE, `${path}.checkpoint`, { min: 1, max: MAX_NOTE_BYTES }),
    // The wire form every carrier of tokens checks (tsa/wire.ts: name pattern, canonical base64, 64 KiB token), as EVIDENCE_MALFORMED.
    timestamps: arr(o['timestamps'], CODE, `${path}.timestamps`, MAX_TOKENS_PER_CHECKPOINT, (t, p) => {
      try {
        return parseTimestampToken(t, p);
      } catch (e) {
        return fail(CODE, `${p}: ${e instanceof ParleyError ? e.message : 'not a time-stamp token'}`, e);
      }
    }),
  };
}

/** Checks the shape of a parsed bundle. @throws ParseError `EVIDENCE_MALFORMED`. */
export function checkEvaluationEvidence(v: unknown): EvaluationEvidence {
  const o = obj(v, CODE, 'evidence', ['type', 'v', 'accord', 'chain', 'commitment', 'created'], ['notice', 'protocol', 'reveal', 'disclosures']);
  if (o['type'] !== EVIDENCE_TYPE) fail(CODE, `evidence.type: want "${EVIDENCE_TYPE}"`);
  if (o['v'] !== EVIDENCE_VERSION) fail(CODE, 'evidence.v: unsupported version');
  const out: Record<string, unknown> = {
    type: EVIDENCE_TYPE,
    v: 1,
    accord: str(o['accord'], CODE, 'evidence.accord', { pattern: /^[0-9a-f]{64}$/, max: 64 }),
    chain: str(o['chain'], CODE, 'evidence.chain', { min: 2, max: MAX_EVIDENCE_BYTES }),
    created: time(o['created'], CODE, 'evidence.created'),
  };
  for (const r of EVIDENCE_ROLES) if (o[r] !== undefined) out[r] = evidenceEntry(o[r], `evidence.${r}`);
  if (o['disclosures'] !== undefined) {
    out['disclosures'] = arr(o['disclosures'], CODE, 'evidence.disclosures', MAX_SD * 4, (x, p) => {
      try {
        return decodeDisclosure(x as string).encoded;
      } catch (e) {
        return fail(CODE, `${p}: not a disclosure`, e);
      }
    });
  }
  return out as unknown as EvaluationEvidence;
}

/**
 * Parses an evidence bundle: UTF-8, I-JSON, RFC 8785 canonical, the shape above.
 * @throws ParseError `EVIDENCE_MALFORMED`, `INPUT_TOO_LARGE`.
 */
export function parseEvaluationEvidence(input: string | Uint8Array): EvaluationEvidence {
  const size = typeof input === 'string' ? input.length : input.length;
  if (size > MAX_EVIDENCE_BYTES) fail('INPUT_TOO_LARGE', 'evidence bundle larger than 32 MiB');
  let text: string;
  let v: unknown;
  try {
    text = typeof input === 'string' ? input : decodeUtf8(input, 'evidence');
    v = parseJson(text, { maxBytes: MAX_EVIDENCE_BYTES });
  } catch (e) {
    return fail(CODE, 'evidence is not JSON', e);
  }
  const ev = checkEvaluationEvidence(v);
  if (canonicalize(v) !== text) fail(CODE, 'evidence is not canonical JSON (RFC 8785)');
  return ev;
}

/** The bundle as canonical JSON text (what {@link parseEvaluationEvidence} reads back). */
export function formatEvaluationEvidence(ev: EvaluationEvidence): string {
  return canonicalize(checkEvaluationEvidence(JSON.parse(JSON.stringify(ev)) as unknown));
}

/** An evidence entry from what a holder has: entry bytes, index, proof hashes, note, tokens. */
export function evidenceEntryOf(bytes: Uint8Array, index: number, proof: readonly Uint8Array[], checkpoint: string, timestamps: readonly TimestampToken[] = []): EvidenceEntry {
  return { entry: formatBase64(bytes), index, proof: proof.map((h) => formatBase64(h)), checkpoint, timestamps };
}
