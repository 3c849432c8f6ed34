/**
 * An opened evaluation as an in-toto Statement v1 in a DSSE envelope, so
 * supply-chain tooling (policy engines, attestation stores) can consume it.
 *
 *     Statement  {"_type": "https://in-toto.io/Statement/v1",
 *                 "subject": [{"name": model id, "digest": {"sha256": hex}}],
 *                 "predicateType": "https://parley.dev/evaluation/v1",
 *                 "predicate": {stage, domains, claims (opened), commitment: {party, index,
 *                               leafHash, checkpointSize}, notice?: {party, index, leafHash,
 *                               deployedAt}, timeline?, provability: [English sentences]}}
 *     envelope   {"payloadType": "application/vnd.in-toto+json", "payload": base64(JCS(statement)),
 *                 "signatures": [{"keyid", "sig"}]}                       DSSE v1 envelope
 *     sig        Ed25519 over PAE(payloadType, payload bytes)              DSSE v1 protocol
 *     PAE(t, b)  = "DSSEv1" SP LEN(t) SP t SP LEN(b) SP b, LEN = ASCII decimal byte count
 *     keyid      "<PARTY>:<note key name>+<key id hex>" — the party and its C2SP log key
 *                (e.g. "US:us.example+c74f20a3"), so a verifier finds the key in the accord
 *
 * Several parties sign the SAME payload (the committing party, and each
 * recipient that verified the reveal); {@link mergeDsse} unites their
 * envelopes and refuses envelopes over different payloads.
 */
import { fail, ParleyError } from '../errors.js';
import { concatBytes, decodeUtf8, encodeUtf8, formatBase64, parseBase64 } from '../encoding.js';
import { canonicalize, canonicalizeToBytes } from '../cjson.js';
import { type JsonValue, parseJson } from '../ijson.js';
import { getCrypto, type Ed25519Sign } from '../crypto/provider.js';
import { formatKeyId, type SignerKey, type VerifierKey } from '../note/key.js';
import type { VerifiedAccord } from '../accord/accord.js';
import { obj, str, arr } from '../shape.js';
import type { JsonObject } from './disclosure.js';
import type { EvaluationTimeline } from './timeline.js';
import { EVALUATION_PROVABILITY } from './claims-text.js';

export const IN_TOTO_STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PARLEY_EVALUATION_PREDICATE = 'https://parley.dev/evaluation/v1';
export const DSSE_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
/** Largest payload we sign or accept. */
export const MAX_DSSE_PAYLOAD = 4 * 1024 * 1024;

/** Where an entry sits: party, index, base64 leaf hash. */
export interface EntryLocation {
  readonly party: string;
  readonly index: number;
  readonly leafHash: string;
}

/** What {@link evaluationStatement} needs. */
export interface EvaluationStatementInput {
  readonly model: { readonly id: string; readonly digest: string };
  readonly stage: string;
  readonly domains: readonly string[];
  readonly claims: JsonObject;
  readonly commitment: EntryLocation & { readonly checkpointSize: number };
  readonly notice?: EntryLocation & { readonly deployedAt: string };
  readonly timeline?: Pick<EvaluationTimeline, 'committedBefore' | 'days' | 'deployedAt'> & { readonly marginSeconds?: number; readonly provenBy?: string };
}

/** An in-toto Statement v1. */
export interface InTotoStatement {
  readonly _type: typeof IN_TOTO_STATEMENT_TYPE;
  readonly subject: readonly { readonly name: string; readonly digest: { readonly sha256: string } }[];
  readonly predicateType: string;
  readonly predicate: JsonObject;
}

/** A DSSE envelope. */
export interface DsseEnvelope {
  readonly payloadType: string;
  /** Base64 (RFC 4648 §4, padded) of the payload bytes. */
  readonly payload: string;
  readonly signatures: readonly { readonly keyid: string; readonly sig: string }[];
}

/**
 * The in-toto Statement of an opened evaluation.
 * @throws VerificationError `DSSE_INVALID` for a model digest that is not `sha256:<hex64>`.
 */
export function evaluationStatement(i: EvaluationStatementInput): InTotoStatement {
  const m = /^sha256:([0-9a-f]{64})$/.exec(i.model.digest);
  if (!m) fail('DSSE_INVALID', 'model digest is not sha256:<hex>');
  const t = i.timeline;
  const predicate: JsonObject = {
    stage: i.stage,
    domains: [...i.domains],
    claims: i.claims,
    commitment: { ...i.commitment },
    ...(i.notice ? { notice: { ...i.notice } } : {}),
    ...(t
      ? {
          timeline: {
            committedBefore: t.committedBefore,
            days: t.days,
            deployedAt: t.deployedAt,
            ...(t.marginSeconds !== undefined ? { marginSeconds: t.marginSeconds } : {}),
            ...(t.provenBy !== undefined ? { provenBy: t.provenBy } : {}),
          },
        }
      : {}),
    provability: EVALUATION_PROVABILITY.map((p) => p.en),
  };
  return { _type: IN_TOTO_STATEMENT_TYPE, subject: [{ name: i.model.id, digest: { sha256: m[1]! } }], predicateType: PARLEY_EVALUATION_PREDICATE, predicate };
}

/** DSSE v1 pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. */
export function pae(payloadType: string, payload: Uint8Array): Uint8Array {
  const t = encodeUtf8(payloadType);
  return concatBytes(encodeUtf8(`DSSEv1 ${t.length} `), t, encodeUtf8(` ${payload.length} `), payload);
}

/** The keyid Parley writes for `party`'s log key: "<PARTY>:<name>+<key id hex>". */
export function dsseKeyId(party: string, key: VerifierKey): string {
  return `${party}:${key.name}+${formatKeyId(key.keyId)}`;
}

/** A signer for {@link signDsse}. */
export interface DsseSigner {
  readonly keyid: string;
  readonly sign: Ed25519Sign;
}

/** A DSSE signer from a party's log signing key. */
export function dsseSigner(party: string, key: SignerKey): DsseSigner {
  return { keyid: dsseKeyId(party, key), sign: getCrypto().ed25519Signer(key.seed) };
}

/**
 * Signs a statement (JCS) or payload bytes into a DSSE envelope; with
 * `into`, adds the signature to that envelope (same payload).
 * @throws VerificationError `DSSE_INVALID` for a payload over the size limit.
 */
export function signDsse(statement: InTotoStatement | Uint8Array, signer: DsseSigner, payloadType = DSSE_PAYLOAD_TYPE): DsseEnvelope {
  const payload = statement instanceof Uint8Array ? statement : canonicalizeToBytes(statement);
  if (payload.length > MAX_DSSE_PAYLOAD) fail('DSSE_INVALID', 'payload too large');
  const sig = signer.sign(pae(payloadType, payload));
  return { payloadType, payload: formatBase64(payload), signatures: [{ keyid: signer.keyid, sig: formatBase64(sig) }] };
}

const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Parses an envelope strictly (closed members, canonical base64).
 * @throws VerificationError `DSSE_INVALID`.
 */
export function parseDsse(input: string | Uint8Array | unknown): DsseEnvelope {
  let v = input;
  try {
    if (typeof input === 'string' || input instanceof Uint8Array) v = parseJson(input, { maxBytes: 2 * MAX_DSSE_PAYLOAD });
    const o = obj(v, 'DSSE_INVALID', 'envelope', ['payloadType', 'payload', 'signatures']);
    const payload = str(o['payload'], 'DSSE_INVALID', 'envelope.payload', { pattern: B64, max: 2 * MAX_DSSE_PAYLOAD });
    parseBase64(payload, 'envelope.payload');
    return {
      payloadType: str(o['payloadType'], 'DSSE_INVALID', 'envelope.payloadType', { min: 1, max: 200 }),
      payload,
      signatures: arr(o['signatures'], 'DSSE_INVALID', 'envelope.signatures', 64, (x, p) => {
        const s = obj(x, 'DSSE_INVALID', p, ['keyid', 'sig']);
        const sig = str(s['sig'], 'DSSE_INVALID', `${p}.sig`, { pattern: B64, min: 4, max: 200 });
        parseBase64(sig, `${p}.sig`);
        return { keyid: str(s['keyid'], 'DSSE_INVALID', `${p}.keyid`, { min: 1, max: 200 }), sig };
      }),
    };
  } catch (e) {
    if (e instanceof ParleyError && e.code === 'DSSE_INVALID') throw e;
    return fail('DSSE_INVALID', 'not a DSSE envelope', e);
  }
}

/** The envelope as canonical JSON text. */
export function formatDsse(env: DsseEnvelope): string {
  return canonicalize(parseDsse(env));
}

/** A key a verifier accepts: keyid and its Ed25519 key. */
export interface DsseKey {
  readonly keyid: string;
  readonly key: VerifierKey;
}

/** Every party's log keys across the given accord versions, as DSSE keys. */
export function dsseKeysOf(versions: readonly VerifiedAccord[]): DsseKey[] {
  const out = new Map<string, DsseKey>();
  for (const v of versions) {
    for (const p of v.accord.parties) {
      const m = v.party(p.id)!;
      const keyid = dsseKeyId(p.id, m.logKey);
      out.set(keyid, { keyid, key: m.logKey });
    }
  }
  return [...out.values()];
}

/**
 * Verifies an envelope: every signature whose keyid is among `keys` must
 * verify over PAE(payloadType, payload), and at least one must.
 * @returns the payload, the parsed statement (for the in-toto type), who signed, and unknown keyids.
 * @throws VerificationError `DSSE_INVALID`.
 */
export function verifyDsse(env: DsseEnvelope | string | Uint8Array, keys: readonly DsseKey[]): { payload: Uint8Array; statement?: InTotoStatement; signedBy: string[]; unknown: string[] } {
  const e = parseDsse(env);
  const payload = parseBase64(e.payload, 'envelope.payload');
  const message = pae(e.payloadType, payload);
  const byId = new Map(keys.map((k) => [k.keyid, k.key] as const));
  const signedBy: string[] = [];
  const unknown: string[] = [];
  for (const s of e.signatures) {
    const key = byId.get(s.keyid);
    if (!key) {
      unknown.push(s.keyid);
      continue;
    }
    if (!getCrypto().ed25519Verifier(key.publicKey)(message, parseBase64(s.sig))) fail('DSSE_INVALID', `signature of ${s.keyid} does not verify`);
    if (!signedBy.includes(s.keyid)) signedBy.push(s.keyid);
  }
  if (signedBy.length === 0) fail('DSSE_INVALID', 'no signature by a known key');
  let statement: InTotoStatement | undefined;
  if (e.payloadType === DSSE_PAYLOAD_TYPE) {
    let v: JsonValue;
    try {
      v = parseJson(decodeUtf8(payload, 'payload'));
    } catch (err) {
      return fail('DSSE_INVALID', 'in-toto payload is not JSON', err);
    }
    const o = v as { _type?: unknown };
    if (typeof v !== 'object' || v === null || o._type !== IN_TOTO_STATEMENT_TYPE) fail('DSSE_INVALID', 'payload is not an in-toto Statement v1');
    statement = v as unknown as InTotoStatement;
  }
  return { payload, ...(statement ? { statement } : {}), signedBy, unknown };
}

/**
 * Unites the signatures of envelopes over the SAME payload and type
 * (sorted by keyid; one signature per keyid and sig).
 * @throws VerificationError `DSSE_INVALID` for envelopes over different payloads.
 */
export function mergeDsse(...envs: readonly (DsseEnvelope | string)[]): DsseEnvelope {
  const parsed = envs.map((x) => parseDsse(x));
  const first = parsed[0];
  if (!first) return fail('DSSE_INVALID', 'nothing to merge');
  const seen = new Map<string, { keyid: string; sig: string }>();
  for (const e of parsed) {
    if (e.payloadType !== first.payloadType || e.payload !== first.payload) fail('DSSE_INVALID', 'envelopes sign different payloads');
    for (const s of e.signatures) seen.set(`${s.keyid}\n${s.sig}`, s);
  }
  const signatures = [...seen.values()].sort((a, b) => (a.keyid < b.keyid ? -1 : a.keyid > b.keyid ? 1 : a.sig < b.sig ? -1 : 1));
  return { payloadType: first.payloadType, payload: first.payload, signatures };
}
