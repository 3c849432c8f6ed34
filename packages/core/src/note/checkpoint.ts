/**
 * C2SP tlog-checkpoint: a signed note whose text is a log's tree head.
 *
 * Text (tlog-checkpoint §"Note text"), every line ending in "\n":
 *
 *     <origin>                 non-empty; any characters but control characters
 *     <tree size>              ASCII decimal, no leading zeros ("0" for empty)
 *     <root hash>              canonical base64 of 32 bytes (RFC 6962 root)
 *     [<extension line>]*      opaque, non-empty
 *
 * Example:
 *
 *     example.com/behind-the-sofa
 *     20852163
 *     CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
 *
 * Tree sizes above 2^53 − 1 are rejected so they stay exact JS numbers.
 * Compatibility rule: extension lines are kept and re-emitted verbatim; they
 * are signed but carry no meaning here.
 *
 * The origin is checked SEPARATELY from the signing key's name: the key name
 * "SHOULD match the origin line" (§Signatures) but real logs differ —
 * sum.golang.org signs origin "go.sum database tree".
 */
import { fail, isParleyError } from '../errors.js';
import { bytesEqual, formatBase64, parseBase64, parseDecimal } from '../encoding.js';
import { openNote, signNote } from './note.js';
import type { VerifiedNote, VerifiedSignature } from './note.js';
import type { NoteSigner, VerifierSet } from './verifier.js';

/** Largest checkpoint text we parse (64 KiB; real ones are ~100 bytes). */
export const MAX_CHECKPOINT_BYTES = 65536;

/** A parsed checkpoint body. */
export interface Checkpoint {
  readonly origin: string;
  /** Number of leaves, 0 … 2^53 − 1. */
  readonly treeSize: number;
  /** 32-byte RFC 6962 Merkle tree hash. */
  readonly rootHash: Uint8Array;
  /** Extension lines without their newlines (usually none). */
  readonly extensions: readonly string[];
}

/** A checkpoint whose note was verified by a trusted log key. */
export interface VerifiedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly note: VerifiedNote;
  /** The trusted signatures that verified. */
  readonly signers: readonly VerifiedSignature[];
}

const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;

function malformed(message: string, cause?: unknown): never {
  return fail('CHECKPOINT_MALFORMED', message, cause);
}

/**
 * Parses a checkpoint body (the note text).
 * @param text note text, ending in "\n".
 * @returns the {@link Checkpoint}.
 * @throws ParseError `CHECKPOINT_MALFORMED` for any deviation; `INPUT_TOO_LARGE` above 64 KiB.
 * @example parseCheckpoint('go.sum database tree\n6476701\nmb8Q…=\n').treeSize // 6476701
 */
export function parseCheckpoint(text: string): Checkpoint {
  if (text.length > MAX_CHECKPOINT_BYTES) fail('INPUT_TOO_LARGE', 'checkpoint larger than 64 KiB');
  if (!text.endsWith('\n')) malformed('checkpoint must end in a newline');
  if (CONTROL.test(text)) malformed('checkpoint contains a control character');
  const lines = text.slice(0, -1).split('\n');
  // §"Note text": at least three non-empty lines; extension lines MUST be non-empty.
  if (lines.length < 3) malformed('checkpoint needs origin, tree size and root hash');
  if (lines.some((l) => l === '')) malformed('checkpoint lines must be non-empty');
  const [origin, size, root, ...extensions] = lines as [string, string, string, ...string[]];
  let treeSize: number;
  let rootHash: Uint8Array;
  try {
    treeSize = parseDecimal(size, 'tree size');
    rootHash = parseBase64(root, 'root hash');
  } catch (e) {
    if (!isParleyError(e)) throw e;
    return malformed('bad tree size or root hash', e);
  }
  if (rootHash.length !== 32) malformed('root hash must be 32 bytes');
  return { origin, treeSize, rootHash, extensions };
}

/**
 * Formats a checkpoint body; inverse of {@link parseCheckpoint}.
 * @throws ParseError `CHECKPOINT_MALFORMED` for values that would not parse back.
 * @example formatCheckpoint({ origin: 'o', treeSize: 0, rootHash, extensions: [] })
 */
export function formatCheckpoint(cp: Checkpoint): string {
  if (!Number.isSafeInteger(cp.treeSize) || cp.treeSize < 0) malformed('tree size must be an integer in 0 … 2^53-1');
  if (cp.rootHash.length !== 32) malformed('root hash must be 32 bytes');
  for (const line of [cp.origin, ...cp.extensions]) {
    if (line === '' || line.includes('\n') || CONTROL.test(line)) malformed('origin and extension lines must be non-empty single lines');
  }
  const text = [cp.origin, cp.treeSize.toString(10), formatBase64(cp.rootHash), ...cp.extensions].join('\n') + '\n';
  if (text.length > MAX_CHECKPOINT_BYTES) fail('INPUT_TOO_LARGE', 'checkpoint larger than 64 KiB');
  return text;
}

/**
 * Signs a checkpoint as a note.
 * @param cp the checkpoint.
 * @param signers log key(s), e.g. `newSigner(skey)`.
 * @returns the note bytes.
 * @throws ParseError `CHECKPOINT_MALFORMED`, or note errors from `signNote`.
 * @example signCheckpoint(cp, newSigner(logKey))
 */
export function signCheckpoint(cp: Checkpoint, signers: NoteSigner | readonly NoteSigner[]): Uint8Array {
  return signNote(formatCheckpoint(cp), Array.isArray(signers) ? signers : [signers as NoteSigner]);
}

/** Options for {@link openCheckpoint}. */
export interface OpenCheckpointOptions {
  /** Expected origin line; checked independently of the key name. */
  readonly origin?: string;
}

/**
 * Verifies a checkpoint note against trusted log keys, then parses its body
 * and checks the origin.
 * @param note note bytes or string.
 * @param verifiers trusted log keys (name + key ID lookup; witnesses are ignored unless included).
 * @param options `origin`: expected origin.
 * @returns the checkpoint, the verified note and its trusted signatures.
 * @throws ParseError note errors, `CHECKPOINT_MALFORMED`; VerificationError
 *   `NOTE_UNVERIFIED`, `SIGNATURE_INVALID`, `ORIGIN_MISMATCH`.
 * @example openCheckpoint(bytes, new VerifierSet([sumdbKey]), { origin: 'go.sum database tree' })
 */
export function openCheckpoint(note: Uint8Array | string, verifiers: VerifierSet, options: OpenCheckpointOptions = {}): VerifiedCheckpoint {
  const opened = openNote(note, verifiers);
  const checkpoint = parseCheckpoint(opened.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) fail('ORIGIN_MISMATCH', 'checkpoint origin is not the expected one');
  return { checkpoint, note: opened, signers: opened.verified };
}

/** True when two checkpoints have the same origin, size, root hash and extensions. */
export function checkpointsEqual(a: Checkpoint, b: Checkpoint): boolean {
  return (
    a.origin === b.origin &&
    a.treeSize === b.treeSize &&
    bytesEqual(a.rootHash, b.rootHash) &&
    a.extensions.length === b.extensions.length &&
    a.extensions.every((e, i) => e === b.extensions[i])
  );
}
