/**
 * C2SP signed-note: text signed by one or more keys.
 *
 * Format (C2SP signed-note §Format; Go `note.Open`):
 *
 *     note      = text "\n" signature+           ; text ends in "\n"
 *     signature = "— " key-name " " base64(key ID(4, big-endian) || sig) "\n"
 *
 * Example:
 *
 *     This is an example message.
 *
 *     — example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=
 *
 * - The text is everything up to and including the newline before the LAST
 *   blank line; it may contain blank lines itself. Signatures cover the text.
 * - The whole note is strict UTF-8 with no ASCII control character other than
 *   "\n". Invalid UTF-8 (and, for string input, a lone surrogate) is
 *   `NOTE_MALFORMED` — one code for every structural fault of a note.
 * - Key names: non-empty, no Unicode White_Space, no `+`. Base64 is canonical
 *   RFC 4648 §4 and decodes to at least 5 bytes (key ID + ≥1 signature byte).
 * - Limits: at most {@link MAX_NOTE_BYTES} bytes (`NOTE_TOO_LARGE`) and
 *   {@link MAX_NOTE_SIGNATURES} signature lines (`NOTE_TOO_MANY_SIGNATURES`;
 *   C2SP: SHOULD limit, MUST accept ≥ 16; Go: 100).
 * - Two signature lines with the same (key name, key ID) are
 *   `NOTE_DUPLICATE_SIGNATURE`. Go drops repeats silently and C2SP says
 *   nothing; we reject because no honest signer emits two (Go `Sign` elides
 *   them, Ed25519 is deterministic) and one canonical reading is safer than
 *   "first one wins".
 *
 * Trust (C2SP signed-note §Signatures): {@link parseNote} returns an
 * {@link UnverifiedNote}; only {@link openNote} produces a
 * {@link VerifiedNote}. Unknown keys (name AND key ID must match) are ignored;
 * a known key whose signature fails rejects the whole note
 * (`SIGNATURE_INVALID`, the spec's SHOULD, Go's behaviour); no verified
 * signature is `NOTE_UNVERIFIED`.
 */
import { fail, isParleyError } from '../errors.js';
import { concatBytes, decodeUtf8, encodeUtf8, formatBase64, parseBase64 } from '../encoding.js';
import { formatKeyId, isValidKeyName, keyIdBytes, readUint32 } from './key.js';
import type { NoteSigner, NoteVerifier, VerifierSet } from './verifier.js';

/** Largest note we parse: 1 MiB (room for 100 post-quantum signatures). */
export const MAX_NOTE_BYTES = 1048576;
/** Most signature lines in one note (Go `note.Open`). */
export const MAX_NOTE_SIGNATURES = 100;

/** One signature line: key name, key ID, and signature bytes (after the key ID). */
export interface NoteSignature {
  readonly name: string;
  /** Unsigned 32-bit key ID. */
  readonly keyId: number;
  readonly signature: Uint8Array;
}

/** A signature that a trusted key verified. */
export interface VerifiedSignature extends NoteSignature {
  readonly verifier: NoteVerifier;
}

/** A syntactically valid note whose signatures have NOT been checked. Do not act on its text. */
export class UnverifiedNote {
  constructor(
    readonly text: string,
    readonly signatures: readonly NoteSignature[],
  ) {}
}

const OPENED = Symbol('opened');

/** A note with at least one signature verified by a trusted key. Only {@link openNote} makes one. */
export class VerifiedNote {
  /**
   * @internal use {@link openNote}.
   */
  constructor(
    token: symbol,
    readonly text: string,
    /** Signatures from trusted keys, all valid, in note order. */
    readonly verified: readonly VerifiedSignature[],
    /** Signatures from keys not in the verifier set (ignored, not checked). */
    readonly unknown: readonly NoteSignature[],
  ) {
    if (token !== OPENED) throw new Error('internal: VerifiedNote is only made by openNote');
  }
}

const EM_DASH_SPACE = '\u2014 ';
const CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
const LONE_SURROGATE = /\p{Cs}/u;

function noteString(input: Uint8Array | string): string {
  if (typeof input === 'string') {
    // A JS string of n code units encodes to at least n UTF-8 bytes.
    if (input.length > MAX_NOTE_BYTES) fail('NOTE_TOO_LARGE', 'note larger than 1 MiB');
    if (LONE_SURROGATE.test(input)) fail('NOTE_MALFORMED', 'note is not valid Unicode');
    if (encodeUtf8(input).length > MAX_NOTE_BYTES) fail('NOTE_TOO_LARGE', 'note larger than 1 MiB');
    return input;
  }
  if (input.length > MAX_NOTE_BYTES) fail('NOTE_TOO_LARGE', 'note larger than 1 MiB');
  try {
    return decodeUtf8(input, 'note');
  } catch (e) {
    return fail('NOTE_MALFORMED', 'note is not valid UTF-8', e);
  }
}

/**
 * Parses one signature line without its final newline (C2SP signed-note §Signatures).
 * @throws ParseError `NOTE_MALFORMED`.
 * @example parseSignatureLine('— example.com/foo Uw2QOkn8…').name // 'example.com/foo'
 */
export function parseSignatureLine(line: string): NoteSignature {
  if (!line.startsWith(EM_DASH_SPACE)) fail('NOTE_MALFORMED', 'signature line must start with "— "');
  const rest = line.slice(EM_DASH_SPACE.length);
  const sp = rest.indexOf(' ');
  if (sp < 0) fail('NOTE_MALFORMED', 'signature line has no signature');
  const name = rest.slice(0, sp);
  if (!isValidKeyName(name)) fail('NOTE_MALFORMED', 'invalid key name in signature line');
  let raw: Uint8Array;
  try {
    raw = parseBase64(rest.slice(sp + 1), 'signature');
  } catch (e) {
    if (!isParleyError(e)) throw e;
    return fail('NOTE_MALFORMED', 'signature is not canonical base64', e);
  }
  // 4-byte key ID plus at least one signature byte (Go: len(sig) < 5 is malformed).
  if (raw.length < 5) fail('NOTE_MALFORMED', 'signature shorter than 5 bytes');
  return { name, keyId: readUint32(raw, 0), signature: raw.slice(4) };
}

/**
 * Formats one signature line, with its final newline.
 * @throws ParseError `NOTE_MALFORMED` for an invalid key name or empty signature.
 * @example formatSignatureLine({ name: 'a', keyId: 1, signature }) // '— a AAAAA…\n'
 */
export function formatSignatureLine(sig: NoteSignature): string {
  if (!isValidKeyName(sig.name)) fail('NOTE_MALFORMED', 'invalid key name');
  if (sig.signature.length === 0) fail('NOTE_MALFORMED', 'empty signature');
  return `${EM_DASH_SPACE}${sig.name} ${formatBase64(concatBytes(keyIdBytes(sig.keyId), sig.signature))}\n`;
}

function checkText(text: string): void {
  if (CONTROL.test(text)) fail('NOTE_MALFORMED', 'note contains a control character');
}

function checkSignatures(sigs: readonly NoteSignature[]): void {
  if (sigs.length > MAX_NOTE_SIGNATURES) fail('NOTE_TOO_MANY_SIGNATURES', `more than ${MAX_NOTE_SIGNATURES} signatures`);
  const seen = new Set<string>();
  for (const s of sigs) {
    const id = `${s.name}+${formatKeyId(s.keyId)}`;
    if (seen.has(id)) fail('NOTE_DUPLICATE_SIGNATURE', `two signatures from ${id}`);
    seen.add(id);
  }
}

/**
 * Splits a signature block (lines each ending in "\n") into signatures.
 * Used for notes and for tlog-witness responses.
 * @throws ParseError `NOTE_MALFORMED`, `NOTE_TOO_MANY_SIGNATURES`, `NOTE_DUPLICATE_SIGNATURE`.
 */
export function parseSignatureBlock(block: string): NoteSignature[] {
  if (block.length === 0 || !block.endsWith('\n')) fail('NOTE_MALFORMED', 'signatures must end in a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) fail('NOTE_TOO_MANY_SIGNATURES', `more than ${MAX_NOTE_SIGNATURES} signatures`);
  const sigs = lines.map(parseSignatureLine);
  checkSignatures(sigs);
  return sigs;
}

/**
 * Parses a signed note without checking any signature.
 * @param input note bytes (authoritative) or a string.
 * @returns the {@link UnverifiedNote}: text and signatures.
 * @throws ParseError `NOTE_MALFORMED`, `NOTE_TOO_LARGE`, `NOTE_TOO_MANY_SIGNATURES`, `NOTE_DUPLICATE_SIGNATURE`.
 * @example parseNote(bytes).signatures[0].name // 'example.com/foo'
 */
export function parseNote(input: Uint8Array | string): UnverifiedNote {
  const s = noteString(input);
  checkText(s);
  // The text/signature separator is the LAST blank line (C2SP signed-note §Format).
  const split = s.lastIndexOf('\n\n');
  if (split < 0) fail('NOTE_MALFORMED', 'note has no blank line before its signatures');
  return new UnverifiedNote(s.slice(0, split + 1), parseSignatureBlock(s.slice(split + 2)));
}

/**
 * Formats a note: text, blank line, signature lines. Inverse of {@link parseNote}.
 * @throws ParseError `NOTE_MALFORMED` (text not ending in "\n", control
 *   characters, no signatures), `NOTE_TOO_MANY_SIGNATURES`, `NOTE_DUPLICATE_SIGNATURE`, `NOTE_TOO_LARGE`.
 * @example formatNote(parseNote(bytes)) // same bytes
 */
export function formatNote(note: { readonly text: string; readonly signatures: readonly NoteSignature[] }): Uint8Array {
  if (!note.text.endsWith('\n')) fail('NOTE_MALFORMED', 'note text must end in a newline');
  checkText(note.text);
  if (LONE_SURROGATE.test(note.text)) fail('NOTE_MALFORMED', 'note text is not valid Unicode');
  if (note.signatures.length === 0) fail('NOTE_MALFORMED', 'a note needs at least one signature');
  checkSignatures(note.signatures);
  const s = `${note.text}\n${note.signatures.map(formatSignatureLine).join('')}`;
  // Key names may hold characters (e.g. U+0001) that isValidKeyName allows but a note may not.
  checkText(s);
  const out = encodeUtf8(s);
  if (out.length > MAX_NOTE_BYTES) fail('NOTE_TOO_LARGE', 'note larger than 1 MiB');
  return out;
}

/**
 * Signs `text` with each signer and formats the note (Go `note.Sign`).
 * Existing signatures come first; one from the same (name, key ID) as a new
 * signer is replaced, as in Go.
 * @param text note text, ending in "\n".
 * @param signers keys to sign with (see `newSigner`).
 * @param existing signatures to keep (e.g. from a parsed note).
 * @returns the note bytes.
 * @throws ParseError as {@link formatNote}.
 * @example signNote('hello\n', [newSigner(skey)])
 */
export function signNote(text: string, signers: readonly NoteSigner[], existing: readonly NoteSignature[] = []): Uint8Array {
  if (!text.endsWith('\n')) fail('NOTE_MALFORMED', 'note text must end in a newline');
  checkText(text);
  const msg = encodeUtf8(text);
  const fresh = signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(msg) }));
  const replaced = new Set(fresh.map((s) => `${s.name}+${formatKeyId(s.keyId)}`));
  const kept = existing.filter((s) => !replaced.has(`${s.name}+${formatKeyId(s.keyId)}`));
  return formatNote({ text, signatures: [...kept, ...fresh] });
}

/**
 * Parses a note and verifies it against trusted keys (Go `note.Open`).
 * @param input note bytes or string.
 * @param verifiers trusted keys.
 * @returns a {@link VerifiedNote} with the verified and the ignored (unknown-key) signatures.
 * @throws ParseError as {@link parseNote}; VerificationError `SIGNATURE_INVALID`
 *   when a known key's signature fails, `NOTE_UNVERIFIED` when no known key signed.
 * @example openNote(bytes, new VerifierSet([vkey])).text
 */
export function openNote(input: Uint8Array | string, verifiers: VerifierSet): VerifiedNote {
  const note = parseNote(input);
  const msg = encodeUtf8(note.text);
  const verified: VerifiedSignature[] = [];
  const unknown: NoteSignature[] = [];
  for (const sig of note.signatures) {
    const v = verifiers.get(sig.name, sig.keyId);
    if (v === undefined) {
      unknown.push(sig);
    } else if (v.verify(msg, sig.signature)) {
      verified.push({ ...sig, verifier: v });
    } else {
      fail('SIGNATURE_INVALID', `invalid signature for key ${sig.name}+${formatKeyId(sig.keyId)}`);
    }
  }
  if (verified.length === 0) fail('NOTE_UNVERIFIED', 'note has no verifiable signatures');
  return new VerifiedNote(OPENED, note.text, verified, unknown);
}

/**
 * Adds signature lines to a note without checking any signature, e.g. a
 * tlog-witness response merged into the checkpoint (tlog-witness
 * §add-checkpoint: "the client MAY concatenate it to the checkpoint").
 * A new signature replaces an existing one from the same (name, key ID).
 * @param note note bytes or string.
 * @param sigs signatures to add.
 * @returns the new note bytes; open it with {@link openNote} before trusting it.
 * @throws ParseError as {@link parseNote} and {@link formatNote}.
 * @example appendSignatures(checkpointNote, parseAddCheckpointResponse(body))
 */
export function appendSignatures(note: Uint8Array | string, sigs: readonly NoteSignature[]): Uint8Array {
  const parsed = parseNote(note);
  const replaced = new Set(sigs.map((s) => `${s.name}+${formatKeyId(s.keyId)}`));
  const kept = parsed.signatures.filter((s) => !replaced.has(`${s.name}+${formatKeyId(s.keyId)}`));
  return formatNote({ text: parsed.text, signatures: [...kept, ...sigs] });
}
