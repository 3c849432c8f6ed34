/**
 * C2SP tlog-witness `add-checkpoint`: the request and response bodies, and
 * the witness's decision (which HTTP status) as a pure function.
 *
 * Request body (tlog-witness §add-checkpoint), every line ending in "\n":
 *
 *     old <decimal size>          no leading zeros
 *     <base64 32-byte hash>       0 … 63 consistency-proof lines (RFC 6962 §2.1.2)
 *                                 one empty line
 *     <checkpoint note>           a signed note (tlog-checkpoint)
 *
 * Example:
 *
 *     old 20852014
 *     PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=
 *
 *     example.com/behind-the-sofa
 *     20852163
 *     CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
 *
 *     — example.com/behind-the-sofa Az3grlgtzPICa5OS…
 *
 * Response body (200): one or more note signature lines (cosignatures).
 * 409 body: `<latest cosigned size>\n`, Content-Type `text/x.tlog.size`.
 *
 * Limits: request ≤ 1 MiB + 8 KiB (`INPUT_TOO_LARGE`), ≤ 63 proof lines,
 * response ≤ 256 KiB. Any other fault is `WITNESS_REQUEST_MALFORMED` /
 * `WITNESS_RESPONSE_MALFORMED` with the inner error as `cause`.
 */
import { ParleyError, fail, isParleyError } from '../errors.js';
import type { ErrorCode } from '../errors.js';
import { bytesEqual, decodeUtf8, encodeUtf8, formatBase64, parseBase64, parseDecimal } from '../encoding.js';
import { getCrypto } from '../crypto/provider.js';
import { formatSignatureLine, openNote, parseNote, parseSignatureBlock } from './note.js';
import type { NoteSignature, UnverifiedNote, VerifiedNote } from './note.js';
import { parseCheckpoint } from './checkpoint.js';
import type { Checkpoint } from './checkpoint.js';
import type { VerifierSet } from './verifier.js';

/** Most consistency-proof lines a request may carry (tlog-witness: "MUST NOT send more than 63"). */
export const MAX_PROOF_LINES = 63;
/** Largest add-checkpoint request body: a maximal note plus the old-size and proof lines. */
export const MAX_WITNESS_REQUEST_BYTES = 1048576 + 8192;
/** Largest add-checkpoint response body. */
export const MAX_WITNESS_RESPONSE_BYTES = 262144;
/** Content-Type of a 409 response body (tlog-witness §add-checkpoint). */
export const TLOG_SIZE_CONTENT_TYPE = 'text/x.tlog.size';

/** What a client sends. */
export interface AddCheckpointRequestInput {
  readonly oldSize: number;
  /** Consistency proof hashes, 32 bytes each. */
  readonly proof: readonly Uint8Array[];
  /** The signed checkpoint note, as sent. */
  readonly checkpointNote: Uint8Array | string;
}

/** A parsed request. `note` and `checkpoint` are NOT verified yet. */
export interface AddCheckpointRequest extends AddCheckpointRequestInput {
  readonly checkpointNote: Uint8Array;
  readonly note: UnverifiedNote;
  /** Parsed from unverified text: use only to pick keys, never to act on. */
  readonly checkpoint: Checkpoint;
}

const OLD_LINE = /^old (0|[1-9][0-9]*)$/;

function bodyString(body: Uint8Array | string, max: number, code: ErrorCode): string {
  const bytes = typeof body === 'string' ? encodeUtf8(body) : body;
  if (bytes.length > max) fail('INPUT_TOO_LARGE', 'body exceeds its size limit');
  try {
    return typeof body === 'string' ? body : decodeUtf8(bytes, 'body');
  } catch (e) {
    return fail(code, 'body is not valid UTF-8', e);
  }
}

function wrap<T>(code: ErrorCode, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!isParleyError(e) || e.code === code) throw e;
    return fail(code, what, e);
  }
}

function parseProofHash(line: string): Uint8Array {
  const h = parseBase64(line, 'proof hash');
  if (h.length !== 32) fail('HASH_INVALID', 'proof hash must be 32 bytes');
  return h;
}

/**
 * Parses an add-checkpoint request body. Checks structure only; signatures
 * and the proof are checked by {@link decideAddCheckpoint}.
 * @param body request bytes (or string).
 * @returns old size, proof hashes, the raw note and its unverified parse.
 * @throws ParseError `WITNESS_REQUEST_MALFORMED` (cause: the inner error), `INPUT_TOO_LARGE`.
 * @example parseAddCheckpointRequest(body).oldSize // 20852014
 */
export function parseAddCheckpointRequest(body: Uint8Array | string): AddCheckpointRequest {
  const s = bodyString(body, MAX_WITNESS_REQUEST_BYTES, 'WITNESS_REQUEST_MALFORMED');
  return wrap('WITNESS_REQUEST_MALFORMED', 'malformed add-checkpoint request', () => {
    let pos = s.indexOf('\n');
    const old = OLD_LINE.exec(pos < 0 ? '' : s.slice(0, pos));
    if (old === null) fail('WITNESS_REQUEST_MALFORMED', 'first line must be "old <size>"');
    const oldSize = parseDecimal(old[1]!, 'old size');
    const proof: Uint8Array[] = [];
    for (;;) {
      const start = pos + 1;
      pos = s.indexOf('\n', start);
      if (pos < 0) fail('WITNESS_REQUEST_MALFORMED', 'missing empty line before the checkpoint');
      if (pos === start) break;
      if (proof.length === MAX_PROOF_LINES) fail('WITNESS_REQUEST_MALFORMED', 'more than 63 proof lines');
      proof.push(parseProofHash(s.slice(start, pos)));
    }
    const noteText = s.slice(pos + 1);
    const note = parseNote(noteText);
    return { oldSize, proof, checkpointNote: encodeUtf8(noteText), note, checkpoint: parseCheckpoint(note.text) };
  });
}

/**
 * Formats an add-checkpoint request body; inverse of {@link parseAddCheckpointRequest}.
 * @throws ParseError `WITNESS_REQUEST_MALFORMED` for an invalid old size, proof or note.
 * @example formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpointNote })
 */
export function formatAddCheckpointRequest(req: AddCheckpointRequestInput): Uint8Array {
  if (!Number.isSafeInteger(req.oldSize) || req.oldSize < 0) fail('WITNESS_REQUEST_MALFORMED', 'old size must be an integer in 0 … 2^53-1');
  if (req.proof.length > MAX_PROOF_LINES) fail('WITNESS_REQUEST_MALFORMED', 'more than 63 proof lines');
  if (req.proof.some((h) => h.length !== 32)) fail('WITNESS_REQUEST_MALFORMED', 'proof hashes must be 32 bytes');
  const head = `old ${req.oldSize.toString(10)}\n${req.proof.map((h) => formatBase64(h) + '\n').join('')}\n`;
  const note = typeof req.checkpointNote === 'string' ? encodeUtf8(req.checkpointNote) : req.checkpointNote;
  const out = new Uint8Array(encodeUtf8(head).length + note.length);
  out.set(encodeUtf8(head), 0);
  out.set(note, out.length - note.length);
  // Round-trip check keeps us from emitting a body we would refuse.
  parseAddCheckpointRequest(out);
  return out;
}

/**
 * Parses a 200 add-checkpoint response: one or more signature lines.
 * @throws ParseError `WITNESS_RESPONSE_MALFORMED` (cause: the inner error), `INPUT_TOO_LARGE`.
 * @example parseAddCheckpointResponse(body).map((s) => s.name)
 */
export function parseAddCheckpointResponse(body: Uint8Array | string): NoteSignature[] {
  const s = bodyString(body, MAX_WITNESS_RESPONSE_BYTES, 'WITNESS_RESPONSE_MALFORMED');
  return wrap('WITNESS_RESPONSE_MALFORMED', 'malformed add-checkpoint response', () => parseSignatureBlock(s));
}

/**
 * Formats a 200 add-checkpoint response body.
 * @throws ParseError `WITNESS_RESPONSE_MALFORMED` for no signatures or an invalid one.
 */
export function formatAddCheckpointResponse(sigs: readonly NoteSignature[]): Uint8Array {
  if (sigs.length === 0) fail('WITNESS_RESPONSE_MALFORMED', 'a response needs at least one signature');
  const out = wrap('WITNESS_RESPONSE_MALFORMED', 'bad signature', () => encodeUtf8(sigs.map(formatSignatureLine).join('')));
  parseAddCheckpointResponse(out);
  return out;
}

/** The 409 body: the latest cosigned size and a newline. */
export function formatTreeSizeBody(size: number): string {
  return `${size.toString(10)}\n`;
}

/** What the witness last cosigned for an origin. */
export interface WitnessLogState {
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
}

/** RFC 6962 §2.1.2 consistency check, supplied by the Merkle module. */
export type CheckConsistency = (oldSize: number, newSize: number, oldRoot: Uint8Array, newRoot: Uint8Array, proof: readonly Uint8Array[]) => boolean;

/** The witness's configuration and state, as seen by {@link decideAddCheckpoint}. */
export interface AddCheckpointContext {
  /** Trusted keys for an origin; `undefined` for an unknown origin (404). */
  logKeys(origin: string): VerifierSet | undefined;
  /** Latest cosigned state for an origin; `undefined` if never cosigned (size 0). */
  latest(origin: string): WitnessLogState | undefined;
  checkConsistency: CheckConsistency;
}

/** Stable reasons for a refusal. */
export type AddCheckpointReason =
  | 'malformed'
  | 'unknown-origin'
  | 'unverified'
  | 'old-size-too-large'
  | 'old-size-mismatch'
  | 'proof-with-old-size-zero'
  | 'empty-tree-root'
  | 'root-mismatch'
  | 'inconsistent';

/** The decision. Only a 200 may be cosigned, after persisting atomically with the size check. */
export type AddCheckpointOutcome =
  | { readonly status: 200; readonly request: AddCheckpointRequest; readonly checkpoint: Checkpoint; readonly note: VerifiedNote }
  | { readonly status: 409; readonly reason: 'old-size-mismatch'; readonly latestSize: number; readonly body: string }
  | { readonly status: 400 | 403 | 404 | 422; readonly reason: AddCheckpointReason; readonly error?: ParleyError };

function refuse(status: 400 | 403 | 404 | 422, reason: AddCheckpointReason, error?: unknown): AddCheckpointOutcome {
  return error instanceof ParleyError ? { status, reason, error } : { status, reason };
}

/**
 * Decides an add-checkpoint request (tlog-witness §add-checkpoint, HEAD
 * 2026-07), in this order:
 * 400 malformed → 404 unknown origin → 403 no valid trusted signature (or a
 * failing one) → 400 old size > checkpoint size → 409 old size ≠ latest
 * cosigned size → 422 proof sent with old size 0 → 422 equal sizes with a
 * different root (size 0: root ≠ SHA-256("")) → 422 consistency proof fails → 200.
 * @param body request bytes or an already parsed request.
 * @param ctx keys, latest state and the consistency checker.
 * @returns the outcome; the caller persists and cosigns only on 200.
 * @throws only on our own bugs; bad input becomes a status.
 * @example decideAddCheckpoint(body, { logKeys, latest, checkConsistency }).status
 */
export function decideAddCheckpoint(body: Uint8Array | string | AddCheckpointRequest, ctx: AddCheckpointContext): AddCheckpointOutcome {
  let req: AddCheckpointRequest;
  try {
    req = typeof body === 'string' || body instanceof Uint8Array ? parseAddCheckpointRequest(body) : body;
  } catch (e) {
    if (!isParleyError(e)) throw e;
    return refuse(400, 'malformed', e);
  }
  const keys = ctx.logKeys(req.checkpoint.origin);
  if (keys === undefined) return refuse(404, 'unknown-origin');
  let note: VerifiedNote;
  try {
    note = openNote(req.checkpointNote, keys);
  } catch (e) {
    if (!isParleyError(e)) throw e;
    return refuse(e.code === 'NOTE_UNVERIFIED' || e.code === 'SIGNATURE_INVALID' ? 403 : 400, 'unverified', e);
  }
  const cp = req.checkpoint;
  if (req.oldSize > cp.treeSize) return refuse(400, 'old-size-too-large');
  const latest = ctx.latest(cp.origin);
  const latestSize = latest?.treeSize ?? 0;
  if (req.oldSize !== latestSize) return { status: 409, reason: 'old-size-mismatch', latestSize, body: formatTreeSizeBody(latestSize) };
  if (req.oldSize === 0 && req.proof.length > 0) return refuse(422, 'proof-with-old-size-zero');
  if (req.oldSize === cp.treeSize) {
    // Nothing to prove: the root must be the one we hold (or the empty-tree root, RFC 6962 §2.1: MTH({}) = SHA-256()).
    const expected = latest?.rootHash ?? getCrypto().sha256(new Uint8Array(0));
    if (req.proof.length > 0 || !bytesEqual(expected, cp.rootHash)) return refuse(422, latest === undefined ? 'empty-tree-root' : 'root-mismatch');
  } else if (latest !== undefined && req.oldSize > 0 && !ctx.checkConsistency(req.oldSize, cp.treeSize, latest.rootHash, cp.rootHash, req.proof)) {
    // (oldSize > 0 = latestSize implies `latest` is set; oldSize 0 needs no proof.)
    return refuse(422, 'inconsistent');
  }
  return { status: 200, request: req, checkpoint: cp, note };
}
