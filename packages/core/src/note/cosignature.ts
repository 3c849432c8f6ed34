/**
 * C2SP tlog-cosignature, Ed25519 `cosignature/v1` (signature type 0x04).
 *
 * A cosignature is a note signature line on a checkpoint, made by a witness
 * (cosigner) key:
 *
 *     — <witness name> base64(key ID(4) || timestamp(8, u64 big-endian) || Ed25519 signature(64))
 *
 *     key ID         = SHA-256(name || 0x0A || 0x04 || 32-byte public key)[:4]
 *     signed message = "cosignature/v1\n" || "time " || decimal(timestamp) || "\n" || checkpoint body
 *
 * The checkpoint body is the whole note text (origin, size, root hash and any
 * extension lines, with its final newline; no signature lines). Example signed
 * message (tlog-cosignature §"Ed25519 signed message"):
 *
 *     cosignature/v1
 *     time 1679315147
 *     example.com/behind-the-sofa
 *     20852163
 *     CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
 *
 * Timestamps are POSIX seconds and MUST NOT exceed 2^63 − 1 (§Format); we
 * also reject anything above 2^53 − 1 (year ~285 million) so that timestamps
 * stay exact JS numbers. Both are `COSIGNATURE_MALFORMED`.
 *
 * The ML-DSA-44 `subtree/v1` type (0x06) is not implemented (see key.ts).
 */
import { fail, isParleyError } from '../errors.js';
import { concatBytes, encodeUtf8, parseBase64 } from '../encoding.js';
import { getCrypto } from '../crypto/provider.js';
import { SIG_TYPE_COSIGNATURE_V1, keyIdBytes, readUint32 } from './key.js';
import type { SignerKey, VerifierKey } from './key.js';
import type { NoteSignature } from './note.js';

/** Domain-separation header line of cosignature/v1 (tlog-cosignature §"Ed25519 signed message"). */
export const COSIGNATURE_V1_HEADER = 'cosignature/v1\n';
/** Length of a cosignature/v1 signature without its key ID: 8-byte timestamp + 64-byte Ed25519. */
export const COSIGNATURE_V1_LENGTH = 72;
/** Largest timestamp we accept: 2^53 − 1 (the spec's bound is 2^63 − 1). */
export const MAX_COSIGNATURE_TIMESTAMP = Number.MAX_SAFE_INTEGER;

const TWO_32 = 4294967296;

/** A decoded cosignature/v1 signature (the bytes after the key ID). */
export interface Cosignature {
  /** POSIX seconds, 0 … 2^53 − 1. */
  readonly timestamp: number;
  /** 64-byte Ed25519 signature over {@link cosignatureMessage}. */
  readonly signature: Uint8Array;
}

function checkTimestamp(timestamp: number): void {
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    fail('COSIGNATURE_MALFORMED', 'cosignature timestamp must be an integer in 0 … 2^53-1');
  }
}

/**
 * The exact bytes a cosignature/v1 signs (tlog-cosignature §"Ed25519 signed
 * message"): `"cosignature/v1\ntime " || decimal(timestamp) || "\n" || body`.
 * @param body checkpoint note text, ending in a newline.
 * @param timestamp POSIX seconds.
 * @returns the message bytes.
 * @throws ParseError `COSIGNATURE_MALFORMED` for a bad timestamp; `CHECKPOINT_MALFORMED` if body lacks its final newline.
 * @example decodeUtf8(cosignatureMessage('o\n1\nAAA…=\n', 5)) // 'cosignature/v1\ntime 5\no\n1\nAAA…=\n'
 */
export function cosignatureMessage(body: string | Uint8Array, timestamp: number): Uint8Array {
  checkTimestamp(timestamp);
  const b = typeof body === 'string' ? encodeUtf8(body) : body;
  if (b.length === 0 || b[b.length - 1] !== 0x0a) fail('CHECKPOINT_MALFORMED', 'checkpoint body must end in a newline');
  // Number#toString is canonical decimal (no leading zeros) for safe integers.
  return concatBytes(encodeUtf8(`${COSIGNATURE_V1_HEADER}time ${timestamp.toString(10)}\n`), b);
}

/**
 * Decodes the 72 bytes after the key ID: u64 big-endian timestamp (RFC 8446
 * §3.3 serialization) then the Ed25519 signature.
 * @throws ParseError `COSIGNATURE_MALFORMED` for a wrong length (e.g. a plain
 *   64-byte Ed25519 signature) or a timestamp above 2^53 − 1.
 * @example parseCosignature(sig).timestamp // 1779573024
 */
export function parseCosignature(sig: Uint8Array): Cosignature {
  if (sig.length !== COSIGNATURE_V1_LENGTH) fail('COSIGNATURE_MALFORMED', `cosignature must be ${COSIGNATURE_V1_LENGTH} bytes`);
  const hi = readUint32(sig, 0);
  const lo = readUint32(sig, 4);
  // hi ≥ 2^31 means > 2^63 − 1 (forbidden by the spec); hi ≥ 2^21 means > 2^53 − 1 (unsupported here).
  if (hi >= 2097152) fail('COSIGNATURE_MALFORMED', 'cosignature timestamp above 2^53-1');
  return { timestamp: hi * TWO_32 + lo, signature: sig.slice(8) };
}

/** Encodes timestamp || signature (72 bytes); the inverse of {@link parseCosignature}. */
export function formatCosignature(c: Cosignature): Uint8Array {
  checkTimestamp(c.timestamp);
  if (c.signature.length !== 64) fail('COSIGNATURE_MALFORMED', 'Ed25519 signature must be 64 bytes');
  const hi = Math.floor(c.timestamp / TWO_32);
  return concatBytes(keyIdBytes(hi), keyIdBytes(c.timestamp % TWO_32), c.signature);
}

/**
 * Reads key ID and timestamp from a whole note-line signature (key ID ||
 * timestamp || signature, 76 bytes) without verifying it.
 * @param sig the decoded bytes, or the base64 from the signature line.
 * @throws ParseError `COSIGNATURE_MALFORMED` if it is not 76 bytes (a 68-byte
 *   plain Ed25519 note signature has no timestamp); `ENCODING_INVALID` for bad base64.
 * @example cosignatureTimestamp('jWbPPwAAAABkGFDL…').timestamp // 1679315147
 */
export function cosignatureTimestamp(sig: Uint8Array | string): { keyId: number; timestamp: number } {
  const raw = typeof sig === 'string' ? parseBase64(sig, 'cosignature') : sig;
  if (raw.length !== 4 + COSIGNATURE_V1_LENGTH) fail('COSIGNATURE_MALFORMED', 'not a cosignature/v1 signature (want 76 bytes)');
  return { keyId: readUint32(raw, 0), timestamp: parseCosignature(raw.subarray(4)).timestamp };
}

function requireCosignerKey(key: VerifierKey): void {
  if (key.type !== SIG_TYPE_COSIGNATURE_V1) fail('KEY_UNSUPPORTED', 'not a cosignature/v1 (0x04) key; see cosignerKey()');
}

/**
 * Produces the 72 signature bytes of a cosignature/v1 (without key ID).
 * @param body checkpoint note text.
 * @param key witness signer key of type 0x04 (convert with `cosignerKey`).
 * @param timestamp POSIX seconds.
 * @throws ParseError `KEY_UNSUPPORTED` for a non-0x04 key, `COSIGNATURE_MALFORMED` for a bad timestamp.
 */
export function signCosignature(body: string | Uint8Array, key: SignerKey, timestamp: number): Uint8Array {
  requireCosignerKey(key);
  const signature = getCrypto().ed25519Signer(key.seed)(cosignatureMessage(body, timestamp));
  return formatCosignature({ timestamp, signature });
}

/**
 * Cosigns a checkpoint: the note signature for one witness, ready to append
 * to the checkpoint note (`formatSignatureLine`).
 * @param checkpointBody checkpoint note text (see `formatCheckpoint`).
 * @param witness signer key of type 0x04.
 * @param timestamp POSIX seconds of signing.
 * @returns `{ name, keyId, signature }` with the 72-byte signature.
 * @example formatSignatureLine(cosign(formatCheckpoint(cp), witnessKey, 1700000000))
 */
export function cosign(checkpointBody: string | Uint8Array, witness: SignerKey, timestamp: number): NoteSignature {
  return { name: witness.name, keyId: witness.keyId, signature: signCosignature(checkpointBody, witness, timestamp) };
}

/**
 * Verifies the 72 bytes of a cosignature/v1 against a 0x04 key.
 * @returns the timestamp when the signature is valid, `undefined` otherwise
 *   (wrong length and timestamps out of range included: never throws for bad signature bytes).
 * @throws ParseError `KEY_UNSUPPORTED` for a non-0x04 key.
 */
export function verifyCosignature(body: string | Uint8Array, key: VerifierKey, sig: Uint8Array): number | undefined {
  requireCosignerKey(key);
  let c: Cosignature;
  let msg: Uint8Array;
  try {
    c = parseCosignature(sig);
    msg = cosignatureMessage(body, c.timestamp);
  } catch (e) {
    if (!isParleyError(e)) throw e;
    return undefined;
  }
  return getCrypto().ed25519Verifier(key.publicKey)(msg, c.signature) ? c.timestamp : undefined;
}
