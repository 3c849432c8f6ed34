/**
 * RFC 3161 requests and responses: what a node sends to a time-stamping
 * authority (TSA) and how it reads the reply.
 *
 *     imprint = SHA-256(exact signed checkpoint note, signature lines as served)
 *     TimeStampReq  = { version 1, messageImprint {sha-256, imprint}, nonce, certReq TRUE, reqPolicy? }   (RFC 3161 §2.4.1)
 *     TimeStampResp = { status PKIStatusInfo, timeStampToken ContentInfo? }                               (RFC 3161 §2.4.2)
 *
 * The transport is RFC 3161 §3.4 (HTTP): POST `application/timestamp-query`,
 * answer `application/timestamp-reply`. Core does no I/O: the node posts the
 * bytes {@link makeTimestampRequest} returns and gives the answer to
 * {@link readTimestampReply}.
 */
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { fail } from '../errors.js';
import { getCrypto } from '../crypto/provider.js';
import { encodeUtf8 } from '../encoding.js';
import { OID_RE } from '../accord/accord.js';

/** RFC 3161 §3.4 media type of a request. */
export const TIMESTAMP_QUERY_TYPE = 'application/timestamp-query';
/** RFC 3161 §3.4 media type of a response. */
export const TIMESTAMP_REPLY_TYPE = 'application/timestamp-reply';
/** id-sha256 (RFC 5754 §2.2). */
export const OID_SHA256 = '2.16.840.1.101.3.4.2.1';
/** A response larger than this is not a time-stamp reply (a token is a few KiB with its chain). */
export const MAX_TIMESTAMP_REPLY = 64 * 1024;

/**
 * The message imprint of a checkpoint: SHA-256 of the exact signed note text
 * (RFC 3161 §2.4.1 `hashedMessage`), signature lines included, so a token
 * binds the log owner's signature and the cosignatures served with it.
 */
export function timestampImprint(note: string | Uint8Array): Uint8Array {
  return getCrypto().sha256(typeof note === 'string' ? encodeUtf8(note) : note);
}

/** What {@link makeTimestampRequest} needs. */
export interface TimestampRequestInput {
  /** 32 bytes: {@link timestampImprint} of the note. */
  readonly imprint: Uint8Array;
  /** 8..16 random bytes (RFC 3161 §2.4.1: a large random number, so a reply cannot be replayed). */
  readonly nonce: Uint8Array;
  /** The authority's policy OID (RFC 3161 §2.4.1 `reqPolicy`); absent = the TSA's default. */
  readonly policy?: string;
}

/**
 * The DER INTEGER content of an unsigned big-endian number (X.690 §8.3):
 * leading zero octets dropped, one 0x00 put back when the top bit is set
 * (else it would read as negative).
 * @internal
 */
export function unsignedInteger(bytes: Uint8Array): Uint8Array {
  let i = 0;
  while (i < bytes.length - 1 && bytes[i] === 0) i++;
  const rest = bytes.length === 0 ? new Uint8Array([0]) : bytes.subarray(i);
  if (rest[0]! < 0x80) return rest.slice();
  const out = new Uint8Array(rest.length + 1);
  out.set(rest, 1);
  return out;
}

/**
 * A DER TimeStampReq (RFC 3161 §2.4.1) for `imprint` with `nonce`, asking
 * for the TSA's certificate in the token (`certReq` TRUE) so a verifier can
 * chain it to the accord's roots without fetching anything.
 * @throws ParseError `TSA_MALFORMED` for an imprint that is not 32 bytes, a nonce outside 8..16 bytes or a bad policy OID.
 */
export function makeTimestampRequest(input: TimestampRequestInput): Uint8Array {
  if (input.imprint.length !== 32) fail('TSA_MALFORMED', 'imprint: want 32 bytes (SHA-256)');
  if (input.nonce.length < 8 || input.nonce.length > 16) fail('TSA_MALFORMED', 'nonce: want 8..16 bytes');
  if (input.policy !== undefined && !OID_RE.test(input.policy)) fail('TSA_MALFORMED', 'policy: not a dotted OID');
  const req = new pkijs.TimeStampReq({
    version: 1,
    // RFC 5754 §2: SHA-2 AlgorithmIdentifiers are generated with absent parameters.
    messageImprint: new pkijs.MessageImprint({
      hashAlgorithm: new pkijs.AlgorithmIdentifier({ algorithmId: OID_SHA256 }),
      hashedMessage: new asn1js.OctetString({ valueHex: input.imprint.slice() }),
    }),
    nonce: new asn1js.Integer({ valueHex: unsignedInteger(input.nonce) }),
    certReq: true,
    ...(input.policy === undefined ? {} : { reqPolicy: input.policy }),
  });
  return new Uint8Array(req.toSchema().toBER(false));
}

/**
 * Parses exactly one DER/BER value spanning all of `der`.
 * @internal
 */
export function parseAsn1(der: Uint8Array, what: string): asn1js.AsnType {
  const r = asn1js.fromBER(der);
  if (r.offset === -1 || r.offset !== der.length) fail('TSA_MALFORMED', `${what}: not one DER value`);
  return r.result;
}

/** RFC 3161 §2.4.2 PKIStatus values a token comes with. */
const GRANTED = 0;
const GRANTED_WITH_MODS = 1;
const STATUS_NAMES = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];

/**
 * Reads a DER TimeStampResp (RFC 3161 §2.4.2) and returns the time-stamp
 * token it carries: the DER ContentInfo bytes exactly as the TSA sent them
 * (the token is what nodes store and pass on). The token is NOT verified
 * here: {@link verifyTimestampToken} does that.
 * @throws VerificationError `TSA_REJECTED` when the status is not granted or
 *   grantedWithMods; ParseError `TSA_MALFORMED` for anything that does not parse.
 */
export function parseTimestampResponse(der: Uint8Array): Uint8Array {
  if (der.length > MAX_TIMESTAMP_REPLY) fail('TSA_MALFORMED', `response: ${der.length} bytes, more than ${MAX_TIMESTAMP_REPLY}`);
  const asn = parseAsn1(der, 'response');
  let resp: pkijs.TimeStampResp;
  try {
    resp = new pkijs.TimeStampResp({ schema: asn });
  } catch (e) {
    return fail('TSA_MALFORMED', 'response: not a TimeStampResp (RFC 3161 §2.4.2)', e);
  }
  const status = resp.status.status;
  if (status !== GRANTED && status !== GRANTED_WITH_MODS) {
    const text = (resp.status.statusStrings ?? []).map((s) => String((s as { valueBlock?: { value?: unknown } }).valueBlock?.value ?? '')).join('; ');
    fail('TSA_REJECTED', `TSA answered ${STATUS_NAMES[status] ?? `status ${status}`}${text ? `: ${text}` : ''}`);
  }
  // RFC 3161 §2.4.2: with granted / grantedWithMods a timeStampToken MUST be present.
  const seq = asn as asn1js.Sequence;
  const token = seq.valueBlock.value[1];
  if (!resp.timeStampToken || token === undefined) fail('TSA_MALFORMED', 'response: granted without a timeStampToken');
  return new Uint8Array(token.valueBeforeDecodeView);
}

/** An HTTP answer of a TSA, as the node's fetch got it. */
export interface TimestampHttpReply {
  readonly status: number;
  /** The Content-Type header (null when absent). */
  readonly contentType: string | null;
  readonly body: Uint8Array;
}

/**
 * Reads a TSA's HTTP answer (RFC 3161 §3.4) and returns its token.
 * @throws ParseError `TSA_UNAVAILABLE` for a non-2xx status or a body that is not
 *   `application/timestamp-reply`; then as {@link parseTimestampResponse}.
 */
export function readTimestampReply(reply: TimestampHttpReply): Uint8Array {
  if (reply.status < 200 || reply.status > 299) fail('TSA_UNAVAILABLE', `TSA answered HTTP ${reply.status}`);
  const type = (reply.contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== TIMESTAMP_REPLY_TYPE) fail('TSA_UNAVAILABLE', `TSA answered ${type || 'no content type'}, not ${TIMESTAMP_REPLY_TYPE}`);
  return parseTimestampResponse(reply.body);
}
