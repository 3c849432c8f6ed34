/**
 * Entries: the one signed envelope every Parley log entry uses.
 *
 * An entry is RFC 8785 canonical JSON; its canonical bytes are the log leaf
 * (leaf hash = RFC 6962 SHA-256(0x00 || bytes)). Members, all required:
 *
 *     v           1
 *     accord      channel id (hex SHA-256 of the accord)
 *     from        {"party": "US", "officer": "alice"}   ("node" for machine entries)
 *     to          recipient party ids, sorted, unique, never the sender
 *     seq         the entry's index in the sender's log
 *     time        sender's clock, RFC 3339 UTC with milliseconds
 *     type        a type name (open syntax, registry.ts ENTRY_TYPE_SYNTAX); known today:
 *                 incident.report | hotline.message | receipt | ack | heartbeat |
 *                 accord.amendment | accord.approval | accord.activation |
 *                 evaluation.commitment | deployment.notice | evaluation.reveal
 *                 (registry.ts; an unknown type is verified, stored and receipted like
 *                 any other, its body unchecked — see the unknown-type rule there)
 *     precedence  FLASH | IMMEDIATE | PRIORITY | ROUTINE
 *     marking     TLP:CLEAR | TLP:GREEN | TLP:AMBER | TLP:AMBER+STRICT | TLP:RED
 *     refs        [{"party", "index", "hash": base64 leaf hash}], entries this one answers
 *     body        {"clear": <JSON>}                      when marking is TLP:CLEAR
 *                 {"sealed": {"aead", "commitment", "recipients": [{"party", "enc", "ct"}]}} otherwise
 *     sig         base64 Ed25519 by the sender's log key over
 *                 "parley/entry/v1\n" || JCS(entry without "sig")
 *
 * Receipts and acks must reference what they answer, an approval its
 * proposal; governance types (accord.*) and evaluation commitments are
 * TLP:CLEAR; a deployment notice and an evaluation reveal reference exactly
 * their commitment, a commitment at most its protocol (registry `refs`).
 *
 * Sealed bodies (see seal.ts) are HPKE-encrypted to every recipient and to
 * the sender itself, so the sender's own officers can read what they sent.
 *
 * Parsing is strict: canonical bytes only (the leaf has one spelling), a
 * closed set of members, bounded sizes. Verification (shape, channel,
 * addressing, signature) needs only the accord (and, once keys rotate, the
 * sender's key for the entry's position: `verifyEntry`'s `member`).
 *
 * The signature is placed and removed by ONE canonicalization
 * (cjson.ts `canonicalizeMember`): signing canonicalizes the envelope and
 * learns where the top-level `sig` member goes; verifying canonicalizes the
 * entry and learns the [start, end) of its `sig` member, and what is signed is
 * the text with that member cut out. No text search, so no member named
 * `sig` or `time` anywhere in a body can move it.
 *
 * @example
 *   const { bytes, leafHash } = signEntry(envelope, signer);
 *   const e = verifyEntry(bytes, accord); // throws unless US signed it for this channel
 */
import { fail } from '../errors.js';
import { concatBytes, decodeUtf8, encodeUtf8, formatBase64, parseBase64 } from '../encoding.js';
import { canonicalize, canonicalizeMember, canonicalizeToBytes } from '../cjson.js';
import type { JsonValue } from '../ijson.js';
import type { Ed25519Sign } from '../crypto/provider.js';
import { type Hash, leafHash as rfc6962LeafHash } from '../merkle/hash.js';
import { arr, int, obj, oneOf, sortedUnique, str, time } from '../shape.js';
import { type Marking, type Precedence, MARKINGS, PRECEDENCES } from '../taxonomy/taxonomy.js';
import { type AccordMember, PARTY_ID, type VerifiedAccord } from '../accord/accord.js';
import { ENTRY_TYPE_SYNTAX, MAX_ENTRY_TYPE_LENGTH, entryTypeInfo } from './registry.js';
import type { KnownEntryType } from './bodies.js';

export const ENTRY_VERSION = 1;
/** Signing context of entry signatures. */
export const ENTRY_CONTEXT = 'parley/entry/v1\n';
/** Largest entry we sign or accept. */
export const MAX_ENTRY_BYTES = 256 * 1024;

/** A type this version knows (registry.ts). An envelope's `type` may be any name of the open syntax. */
export type EntryType = KnownEntryType;

export const AEADS = ['AES-256-GCM', 'ChaCha20-Poly1305'] as const;
export type AeadName = (typeof AEADS)[number];

/** A reference into a party's log. */
export interface EntryRef {
  readonly party: string;
  readonly index: number;
  /** Base64 RFC 6962 leaf hash of the referenced entry. */
  readonly hash: string;
}

/** One recipient's HPKE-sealed copy of the body. */
export interface SealedCopy {
  readonly party: string;
  /** HPKE encapsulated key, base64. */
  readonly enc: string;
  /** HPKE ciphertext of JCS({"body", "salt"}), base64. */
  readonly ct: string;
}

export interface SealedBody {
  readonly aead: AeadName;
  /** Base64 salted commitment to JCS(body) (commitment.ts). */
  readonly commitment: string;
  /** Sorted by party: every recipient and the sender. */
  readonly recipients: readonly SealedCopy[];
}

export type EntryBody = { readonly clear: JsonValue } | { readonly sealed: SealedBody };

export interface Envelope {
  readonly v: 1;
  readonly accord: string;
  readonly from: { readonly party: string; readonly officer: string };
  readonly to: readonly string[];
  readonly seq: number;
  readonly time: string;
  /** Any name of the open syntax; {@link isKnownType} says whether this version knows it. */
  readonly type: string;
  readonly precedence: Precedence;
  readonly marking: Marking;
  readonly refs: readonly EntryRef[];
  readonly body: EntryBody;
}

export interface SignedEntry extends Envelope {
  readonly sig: string;
}

/** A verified entry with its leaf bytes and hash. */
export interface VerifiedEntry {
  readonly entry: SignedEntry;
  readonly bytes: Uint8Array;
  readonly leafHash: Hash;
}

export const OFFICER = /^[a-z0-9][a-z0-9._-]{0,63}$/;
const HEX64 = /^[0-9a-f]{64}$/;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

function ref(v: unknown, path: string): EntryRef {
  const o = obj(v, 'ENTRY_MALFORMED', path, ['party', 'index', 'hash']);
  return {
    party: str(o['party'], 'ENTRY_MALFORMED', `${path}.party`, { pattern: PARTY_ID, max: 16 }),
    index: int(o['index'], 'ENTRY_MALFORMED', `${path}.index`, 0, Number.MAX_SAFE_INTEGER),
    hash: str(o['hash'], 'ENTRY_MALFORMED', `${path}.hash`, { pattern: B64, min: 44, max: 44 }),
  };
}

function sealed(v: unknown, path: string): SealedBody {
  const o = obj(v, 'ENTRY_MALFORMED', path, ['aead', 'commitment', 'recipients']);
  const recipients = arr(o['recipients'], 'ENTRY_MALFORMED', `${path}.recipients`, 65, (r, p) => {
    const ro = obj(r, 'ENTRY_MALFORMED', p, ['party', 'enc', 'ct']);
    return {
      party: str(ro['party'], 'ENTRY_MALFORMED', `${p}.party`, { pattern: PARTY_ID, max: 16 }),
      enc: str(ro['enc'], 'ENTRY_MALFORMED', `${p}.enc`, { pattern: B64, min: 4, max: 200 }),
      ct: str(ro['ct'], 'ENTRY_MALFORMED', `${p}.ct`, { pattern: B64, min: 4, max: MAX_ENTRY_BYTES }),
    };
  }, 1);
  sortedUnique(recipients.map((r) => r.party), 'ENTRY_MALFORMED', `${path}.recipients[].party`);
  return {
    aead: oneOf(o['aead'], 'ENTRY_MALFORMED', `${path}.aead`, AEADS),
    commitment: str(o['commitment'], 'ENTRY_MALFORMED', `${path}.commitment`, { pattern: B64, min: 44, max: 44 }),
    recipients,
  };
}

/**
 * Checks an envelope's shape and its own rules (without `sig`).
 * @throws ParseError `ENTRY_MALFORMED`.
 */
export function parseEnvelope(v: unknown, withSig = false): Envelope {
  const keys = ['v', 'accord', 'from', 'to', 'seq', 'time', 'type', 'precedence', 'marking', 'refs', 'body'];
  const o = obj(v, 'ENTRY_MALFORMED', 'entry', withSig ? [...keys, 'sig'] : keys);
  if (o['v'] !== ENTRY_VERSION) fail('ENTRY_MALFORMED', 'entry.v: unsupported version');
  const from = obj(o['from'], 'ENTRY_MALFORMED', 'entry.from', ['party', 'officer']);
  const env: Envelope = {
    v: 1,
    accord: str(o['accord'], 'ENTRY_MALFORMED', 'entry.accord', { pattern: HEX64, max: 64 }),
    from: {
      party: str(from['party'], 'ENTRY_MALFORMED', 'entry.from.party', { pattern: PARTY_ID, max: 16 }),
      officer: str(from['officer'], 'ENTRY_MALFORMED', 'entry.from.officer', { pattern: OFFICER, max: 64 }),
    },
    to: arr(o['to'], 'ENTRY_MALFORMED', 'entry.to', 64, (x, p) => str(x, 'ENTRY_MALFORMED', p, { pattern: PARTY_ID, max: 16 }), 1),
    seq: int(o['seq'], 'ENTRY_MALFORMED', 'entry.seq', 0, Number.MAX_SAFE_INTEGER),
    time: time(o['time'], 'ENTRY_MALFORMED', 'entry.time'),
    type: str(o['type'], 'ENTRY_MALFORMED', 'entry.type', { pattern: ENTRY_TYPE_SYNTAX, max: MAX_ENTRY_TYPE_LENGTH }),
    precedence: oneOf(o['precedence'], 'ENTRY_MALFORMED', 'entry.precedence', PRECEDENCES),
    marking: oneOf(o['marking'], 'ENTRY_MALFORMED', 'entry.marking', MARKINGS),
    refs: arr(o['refs'], 'ENTRY_MALFORMED', 'entry.refs', 16, ref),
    body: body(o['body']),
  };
  sortedUnique(env.to, 'ENTRY_MALFORMED', 'entry.to');
  if (env.to.includes(env.from.party)) fail('ENTRY_MALFORMED', 'entry.to: must not include the sender');
  const isClear = 'clear' in env.body;
  if (isClear !== (env.marking === 'TLP:CLEAR')) fail('ENTRY_MALFORMED', 'entry.body: TLP:CLEAR bodies are clear, every other marking is sealed');
  if (!isClear) {
    const want = [...env.to, env.from.party].sort();
    const got = (env.body as { sealed: SealedBody }).sealed.recipients.map((r) => r.party);
    if (want.join() !== got.join()) fail('ENTRY_MALFORMED', 'entry.body.sealed.recipients: must be exactly the recipients and the sender');
  }
  if ((env.type === 'receipt' || env.type === 'ack' || env.type === 'accord.approval') && env.refs.length === 0) fail('ENTRY_MALFORMED', `entry.refs: a ${env.type} must reference what it answers`);
  const info = entryTypeInfo(env.type);
  if ((info?.governance === true || info?.clear === true) && !isClear) fail('ENTRY_MALFORMED', `entry.marking: a ${env.type} is TLP:CLEAR`);
  if (info?.refs && (env.refs.length < info.refs[0] || env.refs.length > info.refs[1])) {
    fail('ENTRY_MALFORMED', `entry.refs: a ${env.type} carries ${info.refs[0] === info.refs[1] ? `exactly ${info.refs[0]}` : `${info.refs[0]}..${info.refs[1]}`} reference(s)`);
  }
  return env;
}

function body(v: unknown): EntryBody {
  const o = obj(v, 'ENTRY_MALFORMED', 'entry.body', [], ['clear', 'sealed']);
  const keys = Object.keys(o);
  if (keys.length !== 1) fail('ENTRY_MALFORMED', 'entry.body: want exactly one of "clear" or "sealed"');
  return keys[0] === 'clear' ? { clear: o['clear'] as JsonValue } : { sealed: sealed(o['sealed'], 'entry.body.sealed') };
}

/** The bytes an entry signature covers: ENTRY_CONTEXT || JCS(envelope without sig). */
export function entrySigningMessage(env: Envelope): Uint8Array {
  const { ...plain } = env as Envelope & { sig?: string };
  delete plain.sig;
  return concatBytes(encodeUtf8(ENTRY_CONTEXT), canonicalizeToBytes(plain));
}

/**
 * Signs an envelope with the sender's log key.
 *
 * The envelope is canonicalized once, by {@link canonicalizeMember}: its
 * text is exactly JCS(envelope), what the signature covers, and the offset
 * where `"sig"` goes in code-unit order (never first: `"accord"` sorts
 * before it), where `,"sig":"…"` is written in. A test checks the result
 * against canonicalizing the signed entry, whatever members named `sig` or
 * `time` a body holds.
 * @param env the envelope; checked with {@link parseEnvelope} first.
 * @param sign an Ed25519 signer bound to the sender's log key.
 * @returns the signed entry, its canonical bytes (the leaf) and leaf hash.
 * @throws ParseError `ENTRY_MALFORMED`, or `INPUT_TOO_LARGE` beyond {@link MAX_ENTRY_BYTES}.
 */
export function signEntry(env: Envelope, sign: Ed25519Sign): VerifiedEntry {
  const s = entrySigning(env);
  return s.finish(sign(s.message));
}

/** An envelope ready to be signed elsewhere: see {@link entrySigning}. */
export interface EntrySigning {
  /** The bytes the signature covers (ENTRY_CONTEXT || JCS(envelope)). */
  readonly message: Uint8Array;
  /** The signed entry, its canonical bytes and leaf hash, for the signature of {@link message}. */
  finish(signature: Uint8Array): VerifiedEntry;
}

/**
 * {@link signEntry} in two steps, for a signature made elsewhere (the node's
 * signing threads, issue 14): checks and canonicalizes the envelope once and
 * returns what to sign; `finish` writes the signature into the text. The
 * signature is not checked (the caller signs with its own key).
 * @throws ParseError `ENTRY_MALFORMED` (from {@link parseEnvelope}); `finish`
 *   throws `INPUT_TOO_LARGE` beyond {@link MAX_ENTRY_BYTES}.
 */
export function entrySigning(env: Envelope): EntrySigning {
  const checked = parseEnvelope(env);
  const { text, start } = canonicalizeMember(checked, 'sig');
  return {
    message: encodeUtf8(`${ENTRY_CONTEXT}${text}`),
    finish(signature) {
      const sig = formatBase64(signature);
      // The base64 needs no escaping.
      const bytes = encodeUtf8(`${text.slice(0, start)},"sig":"${sig}"${text.slice(start)}`);
      if (bytes.length > MAX_ENTRY_BYTES) fail('INPUT_TOO_LARGE', `entry of ${bytes.length} bytes exceeds ${MAX_ENTRY_BYTES}`);
      return { entry: { ...checked, sig }, bytes, leafHash: rfc6962LeafHash(bytes) };
    },
  };
}

/**
 * Parses entry bytes strictly: UTF-8, JSON, canonical (RFC 8785), the
 * envelope rules. The signature is NOT checked.
 *
 * Requiring the canonical spelling makes the engine's JSON.parse as strict as
 * an I-JSON parser here: a duplicate member, a non-canonical number, escape
 * or order, a lone surrogate or a value beyond a double cannot survive
 * `canonicalize(JSON.parse(text)) === text`. (A general I-JSON document,
 * which need not be canonical, goes through ijson.ts instead.)
 * @throws ParseError `ENTRY_MALFORMED` or `INPUT_TOO_LARGE`.
 */
export function parseEntry(bytes: Uint8Array): SignedEntry {
  return parseEntryText(bytes).entry;
}

/** The parsed entry, its text, and the [start, end) of its `sig` member (with its comma) in the text. */
function parseEntryText(bytes: Uint8Array): { entry: SignedEntry; text: string; start: number; end: number } {
  if (bytes.length > MAX_ENTRY_BYTES) fail('INPUT_TOO_LARGE', `entry of ${bytes.length} bytes exceeds ${MAX_ENTRY_BYTES}`);
  let text: string;
  let v: unknown;
  try {
    text = decodeUtf8(bytes, 'entry');
    v = JSON.parse(text);
  } catch (e) {
    return fail('ENTRY_MALFORMED', 'entry is not valid JSON', e);
  }
  // One canonicalization: the canonical text, and where "sig" is in it (verifyEntry cuts it out).
  const isObject = typeof v === 'object' && v !== null && !Array.isArray(v);
  let canonical: { text: string; start: number; end: number };
  try {
    canonical = isObject ? canonicalizeMember(v, 'sig') : { text: canonicalize(v), start: -1, end: -1 };
  } catch (e) {
    return fail('ENTRY_MALFORMED', 'entry is not canonical JSON (RFC 8785)', e);
  }
  // One spelling per entry: the leaf hash must not depend on the encoder.
  if (canonical.text !== text) fail('ENTRY_MALFORMED', 'entry is not canonical JSON (RFC 8785)');
  const env = parseEnvelope(v, true);
  const sig = str((v as Record<string, unknown>)['sig'], 'ENTRY_MALFORMED', 'entry.sig', { pattern: B64, min: 88, max: 88 });
  return { entry: { ...env, sig }, text, start: canonical.start, end: canonical.end };
}

/**
 * Verifies an entry for a channel: shape, channel id, that sender and
 * recipients are parties of the accord, and the sender's signature.
 * @param bytes the entry's canonical bytes.
 * @param accord the channel's accord (recipients and references must be its parties).
 * @param member the sender's key for this entry, overriding the lookup of
 *   `entry.from.party` in `accord` — once keys rotate, the epoch's member
 *   (`epochs.keysFor(party, seq).member`); it must be the sender's.
 * @throws ParseError `ENTRY_MALFORMED`; VerificationError `ENTRY_INVALID`
 *   (wrong channel, unknown party, `member` of another party) or `SIGNATURE_INVALID`.
 */
export function verifyEntry(bytes: Uint8Array, accord: VerifiedAccord, member?: AccordMember): VerifiedEntry {
  const { entry, text, start, end } = parseEntryText(bytes);
  if (entry.accord !== accord.id) fail('ENTRY_INVALID', 'entry belongs to another accord');
  if (member !== undefined && member.party.id !== entry.from.party) fail('ENTRY_INVALID', `entry of ${entry.from.party} checked against the key of ${member.party.id}`);
  const sender = member ?? accord.party(entry.from.party);
  if (!sender) fail('ENTRY_INVALID', `sender ${entry.from.party} is not a party of the accord`);
  for (const p of entry.to) if (!accord.party(p)) fail('ENTRY_INVALID', `recipient ${p} is not a party of the accord`);
  for (const r of entry.refs) if (!accord.party(r.party)) fail('ENTRY_INVALID', `reference to ${r.party}, not a party of the accord`);
  const sig = parseBase64(entry.sig, 'entry.sig');
  // The signed text is the canonical text without its "sig" member (see signEntry).
  const message = encodeUtf8(`${ENTRY_CONTEXT}${text.slice(0, start)}${text.slice(end)}`);
  if (!sender.verify(message, sig)) fail('SIGNATURE_INVALID', `entry signature of ${entry.from.party} does not verify`);
  return { entry, bytes, leafHash: rfc6962LeafHash(bytes) };
}

/** The entry's canonical bytes as text (for display and export). */
export function entryText(bytes: Uint8Array): string {
  return decodeUtf8(bytes, 'entry');
}
