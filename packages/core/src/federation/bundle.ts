/**
 * Offline bundles: a signed file of one party's log entries, the checkpoint
 * they are in and their inclusion proofs, for air-gapped hand delivery
 * (PRODUCT.md, "a link is cut"). The recipient verifies it with the accord
 * alone and ingests the entries exactly as if they had arrived over the
 * network.
 *
 * A bundle is RFC 8785 canonical JSON (one spelling: the bytes are exactly
 * JCS of the value), UTF-8, no BOM, no trailing newline. Members, all
 * required, in JCS order:
 *
 *     accord      channel id: lowercase hex SHA-256 of the accord
 *     checkpoint  the sender's latest checkpoint, a C2SP signed note as text
 *                 (tlog-checkpoint body, the sender's log signature, and any
 *                 witness cosignatures it holds)
 *     created     when the bundle was made, RFC 3339 UTC with milliseconds
 *     entries     [{"entry": base64 entry bytes (the leaf input),
 *                   "index": the entry's index in the sender's log,
 *                   "proof": [base64 32-byte hashes]}]   RFC 9162 §2.1.3
 *                 inclusion proof of the leaf in the checkpoint's tree,
 *                 leaf side first; entries sorted by index, strictly
 *                 ascending; 0 … 100,000 of them
 *     from        sender party id
 *     sig         base64 Ed25519 signature by the sender's log key
 *     to          recipient party id (exactly one; ≠ from)
 *     type        "parley/bundle"
 *     v           1
 *
 * Signature (domain-separated, STYLE.md §13):
 *
 *     sig = Ed25519(sender log key, "parley/bundle/v1\n" || JCS(bundle without "sig"))
 *
 * Example (hashes and signatures shortened; test/vectors/parley/bundle-v1.json
 * pins a complete one byte for byte):
 *
 *     {"accord":"5b0c…","checkpoint":"us.parley.example/log\n3\nq1J…=\n\n— us.parley.example/log Mu6h…\n",
 *      "created":"2026-11-27T08:00:00.000Z","entries":[{"entry":"eyJhY2…","index":0,"proof":["3Lw…=","Xk8…="]}],
 *      "from":"US","sig":"tT4…==","to":"CN","type":"parley/bundle","v":1}
 *
 * What {@link openBundle} checks, in this order (cheap and unsigned checks
 * first, nothing acted on before the bundle signature verifies):
 *
 *     size ≤ 64 MiB                                      INPUT_TOO_LARGE
 *     UTF-8, JSON, canonical, closed member sets,
 *       v, type, field shapes, ≤ 100,000 entries,
 *       indexes ascending, canonical base64              BUNDLE_MALFORMED
 *     accord = our channel; to = me; from a party ≠ me;
 *       bundle signature by from's log key               BUNDLE_INVALID
 *     checkpoint: signed by from's log key, origin = that key's name; every
 *       known cosignature (other parties' log keys as cosignature/v1
 *       witnesses) valid, unknown signatures ignored    BUNDLE_INVALID
 *     per entry: index < tree size; verifyEntry (channel, parties, the
 *       sender's signature); sender = from; addressed to me (or, opened
 *       with `others`, kept apart in `others`); seq = index;
 *       inclusion proof against the checkpoint root    BUNDLE_INVALID
 *
 * A ParseError from an inner parser (note, checkpoint, entry) after the
 * bundle signature verified is still `BUNDLE_MALFORMED`; a VerificationError
 * is `BUNDLE_INVALID`. The inner error is kept as `cause`.
 *
 * Optional member (issue 12, trusted time), absent unless the sender holds
 * RFC 3161 tokens of its checkpoints — a bundle without it has exactly the
 * bytes it had before, and a reader of this version that meets it checks it:
 *
 *     timestamps  [{"checkpoint": the exact checkpoint note stamped (the
 *                   sender's own signed note of that size, as its node
 *                   serves it, no cosignatures: the imprint is SHA-256 of it),
 *                   "tokens": [{"authority", "token"}]}]   core tsa wire form,
 *                 1 … 16 checkpoints, tree sizes strictly ascending, each at
 *                 most the bundle checkpoint's; tokens sorted by authority
 *
 * {@link openBundle} checks their shape (BUNDLE_MALFORMED) and that each
 * stamped note is a checkpoint of the sender's log (origin) no larger than
 * the bundle's (BUNDLE_INVALID); the tokens themselves — signature, chain to
 * an accord root, imprint, validity — and the note's signature by the key in
 * force at its size are checked by the importer with `@parley/core/tsa`
 * (asynchronous, WebCrypto), which refuses the bundle as BUNDLE_INVALID with
 * the token's TSA_* error as cause.
 *
 * Compatibility rule: a new member or a new meaning is a new version (`v`)
 * and a new signing context; unknown members are errors. (`timestamps` is
 * the one exception, made while no reader of version 1 was released outside
 * this repository: optional, covered by the same signature.)
 */
import { ParleyError, VerificationError, fail } from '../errors.js';
import { decodeUtf8, encodeUtf8, formatBase64, parseBase64 } from '../encoding.js';
import { canonicalize } from '../cjson.js';
import type { Ed25519Sign } from '../crypto/provider.js';
import { type Hash, HASH_SIZE } from '../merkle/hash.js';
import { checkInclusion } from '../merkle/proof.js';
import { MAX_NOTE_BYTES } from '../note/note.js';
import { VerifierSet } from '../note/verifier.js';
import { type WitnessedCheckpoint, openWitnessedCheckpoint } from '../note/witnessed.js';
import { PARTY_ID, type VerifiedAccord } from '../accord/accord.js';
import { MAX_ENTRY_BYTES, type SignedEntry, verifyEntry } from '../entry/envelope.js';
import { arr, int, obj, str, time } from '../shape.js';
import { type TimestampTokenWire, parseTimestampTokens } from '../tsa/wire.js';
import { parseCheckpoint } from '../note/checkpoint.js';
import { parseNote } from '../note/note.js';

/** Bundle format version. */
export const BUNDLE_VERSION = 1;
/** The `type` member. */
export const BUNDLE_TYPE = 'parley/bundle';
/** Signing context of bundle signatures. */
export const BUNDLE_CONTEXT = 'parley/bundle/v1\n';
/** Largest bundle we make or open: 64 MiB. */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
/** Most entries in one bundle. */
export const MAX_BUNDLE_ENTRIES = 100_000;
/** Most stamped checkpoints in one bundle's `timestamps`. */
export const MAX_BUNDLE_TIMESTAMPS = 16;
/** Most hashes in one inclusion proof (a tree of < 2^53 leaves needs ≤ 53; tlog-witness allows 63). */
export const MAX_BUNDLE_PROOF_HASHES = 63;

/** One entry as the sender puts it in a bundle. */
export interface BundleEntryInput {
  /** Index in the sender's log (= the entry's `seq`). */
  readonly index: number;
  /** The entry's canonical bytes (the leaf input). */
  readonly bytes: Uint8Array;
  /** RFC 9162 inclusion proof of the leaf in the checkpoint's tree. */
  readonly proof: readonly Uint8Array[];
}

/** What {@link makeBundle} needs. */
export interface BundleInput {
  readonly accordId: string;
  readonly from: string;
  readonly to: string;
  /** RFC 3339 UTC with milliseconds (`Date#toISOString`). */
  readonly created: string;
  /** The sender's signed checkpoint note (bytes or text). */
  readonly checkpoint: Uint8Array | string;
  /** Sorted by index, strictly ascending. */
  readonly entries: readonly BundleEntryInput[];
  /** RFC 3161 tokens of the sender's checkpoints (issue 12); absent or empty: no `timestamps` member. */
  readonly timestamps?: readonly BundleTimestamps[];
}

/** The tokens of one checkpoint of the sender's log, as a bundle carries them. */
export interface BundleTimestamps {
  /** The exact checkpoint note stamped (the sender's own signed note, no cosignatures). */
  readonly checkpoint: string;
  /** Sorted by authority, one per authority. */
  readonly tokens: readonly TimestampTokenWire[];
}

/** An entry of a verified bundle: signed by the sender, addressed to us, in the checkpoint. */
export interface BundleEntry {
  readonly index: number;
  readonly bytes: Uint8Array;
  readonly leafHash: Hash;
  readonly entry: SignedEntry;
}

/** A bundle whose every check passed (see {@link openBundle}). */
export interface VerifiedBundle {
  readonly accordId: string;
  readonly from: string;
  readonly to: string;
  readonly created: string;
  /** The sender's checkpoint, verified with its log key; valid cosignatures of other parties are listed. */
  readonly checkpoint: WitnessedCheckpoint;
  readonly entries: readonly BundleEntry[];
  /**
   * Entries of the sender's log NOT addressed to us, checked as the others
   * (signature, sender, seq = index, inclusion) — only when opened with
   * {@link OpenBundleOptions.others}: a node's push carries its whole log
   * tail so that every witness holds what it cosigns (issue 9, "No
   * rollback"); their bodies stay sealed to their recipients. Never ingested
   * as received (no receipt, no inbox): the caller mirrors them.
   */
  readonly others: readonly BundleEntry[];
  /**
   * The `timestamps` member, when present: shapes checked, each note a
   * checkpoint of the sender's log no larger than the bundle's — tokens NOT
   * yet verified (the importer does, see the module doc).
   */
  readonly timestamps?: readonly (BundleTimestamps & { readonly treeSize: number })[];
}

/** How {@link openBundle} treats entries not addressed to the recipient. */
export interface OpenBundleOptions {
  /**
   * Accept them into {@link VerifiedBundle.others} instead of refusing the
   * bundle (node-to-node pushes of a whole log tail; an offline import
   * keeps the strict default: every entry addressed to `me`).
   */
  readonly others?: boolean;
}

const HEX64 = /^[0-9a-f]{64}$/;
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Base64 length of the largest entry. */
const MAX_ENTRY_B64 = 4 * Math.ceil(MAX_ENTRY_BYTES / 3);

/** The parsed, unverified members. */
interface RawBundle {
  readonly accord: string;
  readonly checkpoint: string;
  readonly created: string;
  readonly entries: readonly { readonly index: number; readonly bytes: Uint8Array; readonly proof: readonly Uint8Array[] }[];
  readonly from: string;
  readonly to: string;
  readonly timestamps?: readonly BundleTimestamps[];
}

function b64(v: unknown, path: string, min: number, max: number, bytes?: number): Uint8Array {
  const s = str(v, 'BUNDLE_MALFORMED', path, { pattern: B64, min, max });
  let out: Uint8Array;
  try {
    out = parseBase64(s, path);
  } catch (e) {
    return fail('BUNDLE_MALFORMED', `${path}: not canonical base64`, e);
  }
  if (bytes !== undefined && out.length !== bytes) fail('BUNDLE_MALFORMED', `${path}: want ${bytes} bytes`);
  return out;
}

/** Checks every member's shape; `withSig` for a signed bundle. */
function parseShape(v: unknown, withSig: boolean): RawBundle & { readonly sig?: string } {
  const members = ['accord', 'checkpoint', 'created', 'entries', 'from', 'to', 'type', 'v'];
  const o = obj(v, 'BUNDLE_MALFORMED', 'bundle', withSig ? [...members, 'sig'] : members, ['timestamps']);
  if (o['v'] !== BUNDLE_VERSION) fail('BUNDLE_MALFORMED', 'bundle.v: unsupported version');
  if (o['type'] !== BUNDLE_TYPE) fail('BUNDLE_MALFORMED', `bundle.type: want "${BUNDLE_TYPE}"`);
  if (Array.isArray(o['entries']) && o['entries'].length > MAX_BUNDLE_ENTRIES) fail('INPUT_TOO_LARGE', `bundle has more than ${MAX_BUNDLE_ENTRIES} entries`);
  const entries = arr(o['entries'], 'BUNDLE_MALFORMED', 'bundle.entries', MAX_BUNDLE_ENTRIES, (x, p) => {
    const e = obj(x, 'BUNDLE_MALFORMED', p, ['entry', 'index', 'proof']);
    return {
      index: int(e['index'], 'BUNDLE_MALFORMED', `${p}.index`, 0, Number.MAX_SAFE_INTEGER - 1),
      bytes: b64(e['entry'], `${p}.entry`, 4, MAX_ENTRY_B64),
      proof: arr(e['proof'], 'BUNDLE_MALFORMED', `${p}.proof`, MAX_BUNDLE_PROOF_HASHES, (h, hp) => b64(h, hp, 44, 44, HASH_SIZE)),
    };
  });
  // One order, no repeats: an index appears once, and the file has one spelling.
  for (let i = 1; i < entries.length; i++) if (!(entries[i - 1]!.index < entries[i]!.index)) fail('BUNDLE_MALFORMED', 'bundle.entries: indexes must be strictly ascending');
  const raw: RawBundle = {
    accord: str(o['accord'], 'BUNDLE_MALFORMED', 'bundle.accord', { pattern: HEX64, max: 64 }),
    checkpoint: str(o['checkpoint'], 'BUNDLE_MALFORMED', 'bundle.checkpoint', { min: 1, max: MAX_NOTE_BYTES }),
    created: time(o['created'], 'BUNDLE_MALFORMED', 'bundle.created'),
    entries,
    from: str(o['from'], 'BUNDLE_MALFORMED', 'bundle.from', { pattern: PARTY_ID, max: 16 }),
    to: str(o['to'], 'BUNDLE_MALFORMED', 'bundle.to', { pattern: PARTY_ID, max: 16 }),
  };
  if (raw.from === raw.to) fail('BUNDLE_MALFORMED', 'bundle.to: must not be the sender');
  const stamped =
    'timestamps' in o
      ? {
          ...raw,
          timestamps: arr(
            o['timestamps'],
            'BUNDLE_MALFORMED',
            'bundle.timestamps',
            MAX_BUNDLE_TIMESTAMPS,
            (x, p) => {
              const t = obj(x, 'BUNDLE_MALFORMED', p, ['checkpoint', 'tokens']);
              return {
                checkpoint: str(t['checkpoint'], 'BUNDLE_MALFORMED', `${p}.checkpoint`, { min: 1, max: MAX_NOTE_BYTES }),
                tokens: inner(`${p}.tokens`, () => parseTimestampTokens(t['tokens'], `${p}.tokens`)),
              };
            },
            1,
          ),
        }
      : raw;
  if (!withSig) return stamped;
  return { ...stamped, sig: str(o['sig'], 'BUNDLE_MALFORMED', 'bundle.sig', { pattern: B64, min: 88, max: 88 }) };
}

/** The JSON value of a bundle without its signature. */
function unsignedValue(raw: RawBundle): Record<string, unknown> {
  return {
    v: BUNDLE_VERSION,
    type: BUNDLE_TYPE,
    accord: raw.accord,
    from: raw.from,
    to: raw.to,
    created: raw.created,
    checkpoint: raw.checkpoint,
    entries: raw.entries.map((e) => ({ index: e.index, entry: formatBase64(e.bytes), proof: e.proof.map((h) => formatBase64(h)) })),
    // issue 12: only when there are tokens, so a bundle without any keeps its earlier bytes.
    ...(raw.timestamps !== undefined && raw.timestamps.length > 0 ? { timestamps: raw.timestamps.map((t) => ({ checkpoint: t.checkpoint, tokens: t.tokens.map((k) => ({ authority: k.authority, token: k.token })) })) } : {}),
  };
}

/**
 * The bytes a bundle signature covers: BUNDLE_CONTEXT || JCS(bundle without "sig").
 * @param input the bundle's members (as for {@link makeBundle}).
 * @returns the signing message.
 * @throws ParseError `BUNDLE_MALFORMED` for members that would not parse back.
 * @example bundleSigningMessage(input) // "parley/bundle/v1\n{\"accord\":…}"
 */
export function bundleSigningMessage(input: BundleInput): Uint8Array {
  return encodeUtf8(`${BUNDLE_CONTEXT}${canonicalize(checkedInput(input))}`);
}

function checkedInput(input: BundleInput): Record<string, unknown> {
  const checkpoint = typeof input.checkpoint === 'string' ? input.checkpoint : inner('checkpoint', () => decodeUtf8(input.checkpoint as Uint8Array, 'checkpoint'));
  const value = unsignedValue({ accord: input.accordId, checkpoint, created: input.created, entries: input.entries, from: input.from, to: input.to, ...(input.timestamps !== undefined ? { timestamps: input.timestamps } : {}) });
  parseShape(value, false);
  return value;
}

/**
 * Makes a signed bundle. Only the shape is checked here; the sender's own
 * entries, checkpoint and proofs are the caller's (see the node's
 * `exportBundle`), and the recipient checks them all with {@link openBundle}.
 * @param input accord id, sender, recipient, creation time, checkpoint note
 *   and entries with their proofs against it.
 * @param sign an Ed25519 signer bound to the sender's log key.
 * @returns the canonical bundle bytes.
 * @throws ParseError `BUNDLE_MALFORMED` for bad members (unsorted indexes,
 *   `to` = `from`, a hash that is not 32 bytes, …); `INPUT_TOO_LARGE` beyond
 *   {@link MAX_BUNDLE_ENTRIES} entries or {@link MAX_BUNDLE_BYTES} bytes.
 * @example
 *   const file = makeBundle({ accordId, from: 'US', to: 'CN', created: new Date().toISOString(),
 *                             checkpoint, entries: [{ index: 0, bytes, proof }] }, signer);
 */
export function makeBundle(input: BundleInput, sign: Ed25519Sign): Uint8Array {
  const value = checkedInput(input);
  const sig = formatBase64(sign(encodeUtf8(`${BUNDLE_CONTEXT}${canonicalize(value)}`)));
  const bytes = encodeUtf8(canonicalize({ ...value, sig }));
  if (bytes.length > MAX_BUNDLE_BYTES) fail('INPUT_TOO_LARGE', `bundle of ${bytes.length} bytes exceeds ${MAX_BUNDLE_BYTES}`);
  return bytes;
}

/**
 * Parses a bundle strictly (size, UTF-8, canonical JSON, shapes) without
 * checking any signature or proof. Do not act on the result: use
 * {@link openBundle}.
 * @param bytes the bundle file.
 * @returns the members and the exact signed text's pieces.
 * @throws ParseError `BUNDLE_MALFORMED`, `INPUT_TOO_LARGE`.
 */
function parseBundle(bytes: Uint8Array): { raw: RawBundle; sig: string; text: string } {
  if (bytes.length > MAX_BUNDLE_BYTES) fail('INPUT_TOO_LARGE', `bundle of ${bytes.length} bytes exceeds ${MAX_BUNDLE_BYTES}`);
  let text: string;
  let v: unknown;
  try {
    text = decodeUtf8(bytes, 'bundle');
    v = JSON.parse(text);
  } catch (e) {
    return fail('BUNDLE_MALFORMED', 'bundle is not valid JSON', e);
  }
  let canonical: string;
  try {
    canonical = canonicalize(v);
  } catch (e) {
    return fail('BUNDLE_MALFORMED', 'bundle is not canonical JSON (RFC 8785)', e);
  }
  // As for entries (envelope.ts): requiring the one canonical spelling makes
  // JSON.parse as strict as an I-JSON parser (no duplicate members, no
  // non-canonical numbers or escapes survive the comparison).
  if (canonical !== text) fail('BUNDLE_MALFORMED', 'bundle is not canonical JSON (RFC 8785)');
  const parsed = parseShape(v, true);
  return { raw: parsed, sig: parsed.sig!, text };
}

/**
 * JCS(bundle without "sig"), cut from the canonical text: the member
 * `,"sig":"…"` sits between "from" and "to" in code-unit order, and after the
 * shape check no other object in the bundle has a "sig" member, while a
 * quote inside a string value is always escaped (`\"`), so the first
 * `,"sig":"` of the text is that member.
 */
function signedText(text: string, sig: string): string {
  const member = `,"sig":"${sig}"`;
  const at = text.indexOf(member);
  if (at < 0) throw new Error('internal: sig member not where canonical order puts it');
  return text.slice(0, at) + text.slice(at + member.length);
}

/** Runs `fn`, turning an inner ParleyError into the bundle's own code (kept as cause). */
function inner<T>(what: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof ParleyError)) throw e;
    return fail(e instanceof VerificationError ? 'BUNDLE_INVALID' : 'BUNDLE_MALFORMED', `${what}: ${e.message}`, e);
  }
}

/**
 * Opens a bundle addressed to `me`: every check of the module doc, with
 * only the accord.
 * @param bytes the bundle file.
 * @param accord the verified accord of the channel.
 * @param me the recipient party id (this node's party).
 * @returns the sender, its verified checkpoint and the verified entries in index order.
 * @throws ParseError `BUNDLE_MALFORMED`, `INPUT_TOO_LARGE`;
 *   VerificationError `BUNDLE_INVALID` (another channel, not for `me`, not
 *   from another party, a bad signature, a checkpoint that is not the
 *   sender's, an entry not from the sender or not addressed to `me`, a
 *   `seq` ≠ index, an inclusion proof that fails). The inner error is the `cause`.
 * @example
 *   const b = openBundle(file, accord, 'CN');
 *   await node.ingest(b.entries.map((e) => e.bytes));
 */
export function openBundle(bytes: Uint8Array, accord: VerifiedAccord, me: string, o: OpenBundleOptions = {}): VerifiedBundle {
  const { raw, sig, text } = parseBundle(bytes);
  if (raw.accord !== accord.id) fail('BUNDLE_INVALID', 'bundle belongs to another accord');
  if (raw.to !== me) fail('BUNDLE_INVALID', `bundle is addressed to ${raw.to}, not ${me}`);
  const sender = accord.party(raw.from);
  if (!sender) fail('BUNDLE_INVALID', `sender ${raw.from} is not a party of the accord`);
  const message = encodeUtf8(`${BUNDLE_CONTEXT}${signedText(text, sig)}`);
  if (!sender.verify(message, parseBase64(sig, 'bundle.sig'))) fail('BUNDLE_INVALID', `bundle signature of ${raw.from} does not verify`);

  // C2SP tlog-checkpoint: the sender's log signature, origin = its key name;
  // other parties witness the log, so their cosignatures are checked and kept.
  const witnesses = accord.accord.parties.filter((p) => p.id !== raw.from).map((p) => accord.party(p.id)!.logKey);
  const checkpoint = inner('bundle.checkpoint', () =>
    openWitnessedCheckpoint(raw.checkpoint, new VerifierSet([sender.logKey]), witnesses, { origin: sender.logKey.name }),
  );
  const { treeSize, rootHash } = checkpoint.checkpoint;

  const entries: BundleEntry[] = [];
  const others: BundleEntry[] = [];
  raw.entries.forEach((e, i) => {
    const path = `bundle.entries[${i}]`;
    if (e.index >= treeSize) fail('BUNDLE_INVALID', `${path}: index ${e.index} is beyond the checkpoint's tree size ${treeSize}`);
    const v = inner(path, () => verifyEntry(e.bytes, accord));
    if (v.entry.from.party !== raw.from) fail('BUNDLE_INVALID', `${path}: entry is from ${v.entry.from.party}, not the bundle's sender`);
    const ours = v.entry.to.includes(me);
    if (!ours && o.others !== true) fail('BUNDLE_INVALID', `${path}: entry is not addressed to ${me}`);
    if (v.entry.seq !== e.index) fail('BUNDLE_INVALID', `${path}: entry seq ${v.entry.seq} is not its index ${e.index}`);
    // RFC 9162 §2.1.3.2 against the signed checkpoint: the entry is in the log the sender signed.
    inner(path, () => checkInclusion(e.proof, treeSize, rootHash, e.index, v.leafHash));
    (ours ? entries : others).push({ index: e.index, bytes: e.bytes, leafHash: v.leafHash, entry: v.entry });
  });
  // issue 12: each stamped note is a checkpoint of the sender's log, no larger than the bundle's, sizes ascending.
  let timestamps: (BundleTimestamps & { treeSize: number })[] | undefined;
  if (raw.timestamps !== undefined) {
    timestamps = [];
    let last = 0;
    for (const [i, t] of raw.timestamps.entries()) {
      const path = `bundle.timestamps[${i}]`;
      const cp = inner(`${path}.checkpoint`, () => parseCheckpoint(parseNote(t.checkpoint).text));
      if (cp.origin !== sender.logKey.name) fail('BUNDLE_INVALID', `${path}.checkpoint: origin ${cp.origin} is not ${raw.from}'s log`);
      if (cp.treeSize < 1 || cp.treeSize > treeSize) fail('BUNDLE_INVALID', `${path}.checkpoint: size ${cp.treeSize} is not within 1..${treeSize}`);
      if (cp.treeSize <= last) fail('BUNDLE_INVALID', `${path}.checkpoint: sizes must be strictly ascending`);
      last = cp.treeSize;
      timestamps.push({ checkpoint: t.checkpoint, tokens: t.tokens, treeSize: cp.treeSize });
    }
  }
  return { accordId: raw.accord, from: raw.from, to: raw.to, created: raw.created, checkpoint, entries, others, ...(timestamps !== undefined ? { timestamps } : {}) };
}
