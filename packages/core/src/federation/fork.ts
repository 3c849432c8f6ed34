/**
 * Fork proofs: portable evidence that a party's log signed two checkpoints
 * that no single append-only history explains (PRODUCT.md "Witnessing",
 * threat "split view"). A fork is a VALUE, stored and gossiped, never a
 * thrown error (STYLE.md §7c); anyone holding the accord checks it offline.
 *
 * A fork proof is RFC 8785 canonical JSON (one spelling: the bytes parsed must
 * be the bytes re-serialized; no trailing newline), at most 256 KiB:
 *
 *     v        1
 *     type     "parley/fork-proof"
 *     accord   channel id (hex SHA-256 of the accord)
 *     party    the party whose log forked, e.g. "US"
 *     kind     "same-size" | "leaf-conflict" | "prefix-conflict"
 *     a, b     {"checkpoint": <signed checkpoint note, as text>, …per kind}
 *     index    leaf index (leaf-conflict only)
 *
 *     same-size        a = {checkpoint}, b = {checkpoint}
 *                      a.size = b.size, a.root ≠ b.root
 *     leaf-conflict    a = b = {checkpoint, leaf: b64 leaf hash, proof: [b64 …]}, index
 *                      index < a.size, index < b.size, a.leaf ≠ b.leaf, each proof is
 *                      an RFC 9162 §2.1.3.2 inclusion proof of its leaf at index
 *     prefix-conflict  a = {checkpoint}, b = {checkpoint, proof: [b64 …]}
 *                      1 ≤ a.size < b.size, b.proof is a prefix proof (prefix.ts) that
 *                      authenticates under b.root and yields a prefix root ≠ a.root
 *
 * Every checkpoint note is signed by the party's log key from the accord
 * (origin = key name) and carries ONLY that signature and cosignatures by
 * other parties of the accord (their log keys as cosignature/v1 keys, the
 * witness keys Parley nodes use). Builders drop every other signature;
 * verification rejects them, so a proof has one meaning: a mutated key name
 * cannot silently turn a cosignature into an ignored one. Cosignatures are
 * reported (who else saw each view, and when) but not required.
 *
 * Example (leaf-conflict; test/vectors/parley/fork-v1.json has all three
 * kinds byte for byte):
 *
 *     {"a":{"checkpoint":"us.parley.example/log\n8\nMb4TcwAi5UMM…=\n\n— us.parley.example/log jVp6wz2S…=\n— cn.parley.example/log RYdfeQAA…==\n",
 *           "leaf":"s5cpYfXt…=","proof":["zkhwtig2…=","qlHysUIU…=","ZIfBKBZl…="]},
 *      "accord":"1c2df612…","b":{"checkpoint":"us.parley.example/log\n13\nr74hDYPA…=\n\n— us.parley.example/log jVp6w1Yx…=\n",
 *           "leaf":"mmSlBJDC…=","proof":["zkhwtig2…=","77YHTAjJ…=","ZIfBKBZl…=","96kul2ix…="]},
 *      "index":5,"kind":"leaf-conflict","party":"US","type":"parley/fork-proof","v":1}
 *
 * Why each kind is sound — a log that signed both checkpoints had two trees.
 * An honest log has one leaf sequence H and signs (n, MTH(H[0:n])) only.
 * - same-size: MTH (RFC 6962 §2.1) is a function of the leaf sequence, so
 *   one history gives one root per size. Two roots for one size: at least one
 *   checkpoint is not of H. No hash assumption is needed.
 * - leaf-conflict: for fixed (index, size) the shape of an inclusion path is
 *   fixed, and leaves (0x00 prefix) and nodes (0x01) hash in separate domains;
 *   so two different leaf hashes at one index, each authenticated by a root
 *   of H, give two different openings of H's tree at one position, and
 *   somewhere along them two different inputs of one SHA-256 output — a
 *   collision. Barring that, the two roots are of different histories.
 * - prefix-conflict: the prefix proof is an RFC 9162 §2.1.4.2 consistency
 *   proof from a.size to b.size whose FIRST node is always explicit (the
 *   standard proof omits it when a.size is a power of two and substitutes
 *   a.root — exactly what a forked log would want). Folding it yields sr and
 *   fr; sr = b.root authenticates every node as the real node of b's tree
 *   (as above), so fr is the root of b's first a.size leaves. An honest log
 *   has fr = MTH(H[0:a.size]) = a.root; fr ≠ a.root is a fork.
 *
 * Trusted time (issue 12): each side may carry `timestamps`, RFC 3161 tokens
 * (core tsa wire form, sorted by authority) of that view as its log signed
 * it — the imprint is SHA-256 of the side's note with only the log's own
 * signature line ({@link stampedNote}). They say when each view existed, by
 * the authorities' clocks. Optional and outside the fork's soundness: a
 * proof without them has exactly the bytes it had before, and
 * {@link verifyForkProof} checks only their shape (FORK_PROOF_MALFORMED);
 * the tokens themselves are verified (asynchronously, `@parley/core/tsa`) by
 * whoever keeps or shows the proof, which drops those that do not verify.
 *
 * What is NOT a kind: a consistency proof from the log that fails to verify.
 * It is only the log's word (or a corrupted transfer) until it authenticates
 * under b.root; {@link prefixConflictProof} turns exactly the authenticating
 * ones into evidence. Neither is a lone checkpoint of size 0 with a non-empty
 * root (a bad checkpoint, not two views). The reporter and report time are
 * not members: nothing unsigned may ride in a proof, and the request that
 * carries it is already authenticated (request.ts).
 */
import { type ErrorCode, fail, isParleyError } from '../errors.js';
import { bytesEqual, decodeUtf8, encodeUtf8, formatBase64, parseBase64 } from '../encoding.js';
import { canonicalize } from '../cjson.js';
import { parseJson } from '../ijson.js';
import { type Hash, HASH_SIZE } from '../merkle/hash.js';
import { verifyInclusion } from '../merkle/proof.js';
import { type VerifierKey, cosignerKey, formatKeyId } from '../note/key.js';
import { formatNote, parseNote } from '../note/note.js';
import { VerifierSet } from '../note/verifier.js';
import { type Checkpoint, MAX_CHECKPOINT_BYTES, parseCheckpoint } from '../note/checkpoint.js';
import { openWitnessedCheckpoint } from '../note/witnessed.js';
import { type VerifiedAccord, PARTY_ID } from '../accord/accord.js';
import { arr, int, obj, oneOf, str } from '../shape.js';
import { prefixRootFromProof } from './prefix.js';
import { type AccordForkProof, parseAccordForkProof } from '../accord/chain.js';
import { type RetiredKeyProof, parseRetiredKeyProof } from '../accord/epochs.js';
import { type TimestampTokenWire, parseTimestampTokens } from '../tsa/wire.js';

/** The `type` member of every fork proof. */
export const FORK_PROOF_TYPE = 'parley/fork-proof';
/** Largest fork proof we parse or format. */
export const MAX_FORK_PROOF_BYTES = 256 * 1024;
/** Most hashes in one proof list (a tree of 2^53 − 1 leaves needs at most 54). */
export const MAX_FORK_PROOF_HASHES = 64;
export const FORK_KINDS = ['same-size', 'leaf-conflict', 'prefix-conflict'] as const;
export type ForkKind = (typeof FORK_KINDS)[number];

/** One side of a fork as carried in the document (strings as in the JSON). */
export interface ForkSide {
  /** The signed checkpoint note, text with signature lines. */
  readonly checkpoint: string;
  /** leaf-conflict: base64 RFC 6962 leaf hash at `index`. */
  readonly leaf?: string;
  /** leaf-conflict: inclusion proof; prefix-conflict (side b): prefix proof. Base64 hashes. */
  readonly proof?: readonly string[];
  /** Issue 12: RFC 3161 tokens of this view's {@link stampedNote} (unverified here). */
  readonly timestamps?: readonly TimestampTokenWire[];
}

/** A fork proof document. Well-formed after {@link parseForkProof}, but NOT verified: only {@link verifyForkProof} says it is a fork. */
export interface ForkProof {
  readonly v: 1;
  readonly type: typeof FORK_PROOF_TYPE;
  readonly accord: string;
  readonly party: string;
  readonly kind: ForkKind;
  readonly a: ForkSide;
  readonly b: ForkSide;
  readonly index?: number;
}

/** A cosignature on one side, by another party of the accord. */
export interface ForkCosignature {
  readonly party: string;
  /** POSIX seconds from the cosignature. */
  readonly timestamp: number;
}

/** One verified side of a fork. */
export interface ForkView {
  readonly checkpoint: Checkpoint;
  /** The note as carried in the proof. */
  readonly note: string;
  /** Valid cosignatures by other parties, in note order. */
  readonly cosignatures: readonly ForkCosignature[];
  /** leaf-conflict: the leaf hash this view puts at `index`. */
  readonly leaf?: Hash;
  /** Issue 12: the side's time-stamp tokens, shapes checked, NOT verified (see the module doc). */
  readonly timestamps?: readonly TimestampTokenWire[];
}

/** A fork proof that verified: `party`'s log signed both views, and they cannot both be honest. */
export interface VerifiedFork {
  readonly accord: string;
  readonly party: string;
  readonly kind: ForkKind;
  readonly a: ForkView;
  readonly b: ForkView;
  /** leaf-conflict: the index with two different leaves. */
  readonly index?: number;
  /** prefix-conflict: the root of b's first a.treeSize leaves (≠ a's root). */
  readonly prefixRoot?: Hash;
  /** The proof, canonical: what to store and forward. */
  readonly text: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const M: ErrorCode = 'FORK_PROOF_MALFORMED';

function malformed(message: string, cause?: unknown): never {
  return fail('FORK_PROOF_MALFORMED', message, cause);
}

function invalid(message: string, cause?: unknown): never {
  return fail('FORK_PROOF_INVALID', message, cause);
}

/** Runs `f`, turning any ParleyError into `code` (one code per failure kind, STYLE.md §7). */
function as<T>(code: ErrorCode, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!isParleyError(e)) throw e;
    return fail(code, `${what}: ${e.message}`, e);
  }
}

function hashString(v: unknown, path: string): string {
  const s = str(v, M, path, { min: 44, max: 44 });
  // 44 canonical characters are 32 bytes with one "=", or 33 without.
  if (as(M, path, () => parseBase64(s, path)).length !== HASH_SIZE) malformed(`${path}: not a 32-byte hash`);
  return s;
}

function side(v: unknown, path: string, kind: ForkKind, isB: boolean): ForkSide {
  const members = kind === 'leaf-conflict' ? ['checkpoint', 'leaf', 'proof'] : kind === 'prefix-conflict' && isB ? ['checkpoint', 'proof'] : ['checkpoint'];
  const o = obj(v, M, path, members, ['timestamps']);
  const checkpoint = str(o['checkpoint'], M, `${path}.checkpoint`, { min: 1, max: MAX_CHECKPOINT_BYTES });
  as(M, `${path}.checkpoint`, () => {
    const note = parseNote(checkpoint);
    parseCheckpoint(note.text);
    // Notes too have one spelling here, so the proof's bytes have one meaning.
    if (decodeUtf8(formatNote(note)) !== checkpoint) malformed('note is not in canonical form');
  });
  const out: { checkpoint: string; leaf?: string; proof?: string[]; timestamps?: TimestampTokenWire[] } = { checkpoint };
  if ('leaf' in o) out.leaf = hashString(o['leaf'], `${path}.leaf`);
  if ('proof' in o) out.proof = arr(o['proof'], M, `${path}.proof`, MAX_FORK_PROOF_HASHES, hashString);
  if ('timestamps' in o) {
    out.timestamps = as(M, `${path}.timestamps`, () => parseTimestampTokens(o['timestamps'], `${path}.timestamps`));
    if (out.timestamps.length === 0) malformed(`${path}.timestamps: absent rather than empty`);
  }
  return out;
}

function shape(v: unknown): ForkProof {
  const head = obj(v, M, 'fork', ['v', 'type', 'accord', 'party', 'kind', 'a', 'b'], ['index']);
  if (head['v'] !== 1) malformed('fork.v: unsupported version');
  if (head['type'] !== FORK_PROOF_TYPE) malformed(`fork.type: want ${FORK_PROOF_TYPE}`);
  const kind = oneOf(head['kind'], M, 'fork.kind', FORK_KINDS);
  if (('index' in head) !== (kind === 'leaf-conflict')) malformed('fork.index: present exactly for leaf-conflict');
  const proof: ForkProof = {
    v: 1,
    type: FORK_PROOF_TYPE,
    accord: str(head['accord'], M, 'fork.accord', { pattern: HEX64, max: 64 }),
    party: str(head['party'], M, 'fork.party', { pattern: PARTY_ID, max: 16 }),
    kind,
    a: side(head['a'], 'fork.a', kind, false),
    b: side(head['b'], 'fork.b', kind, true),
  };
  return 'index' in head ? { ...proof, index: int(head['index'], M, 'fork.index', 0, Number.MAX_SAFE_INTEGER) } : proof;
}

/**
 * Parses a fork proof strictly: UTF-8, I-JSON, RFC 8785 canonical bytes, the
 * closed member set of its kind, canonical notes and base64. Nothing is verified.
 * @param input the proof bytes or text.
 * @returns the {@link ForkProof} document.
 * @throws ParseError `FORK_PROOF_MALFORMED`; `INPUT_TOO_LARGE` above 256 KiB.
 * @example parseForkProof(readFileSync('fork.json')).kind // 'leaf-conflict'
 */
export function parseForkProof(input: string | Uint8Array): ForkProof {
  if ((typeof input === 'string' ? encodeUtf8(input) : input).length > MAX_FORK_PROOF_BYTES) fail('INPUT_TOO_LARGE', 'fork proof larger than 256 KiB');
  const v = as(M, 'fork proof is not JSON', () => parseJson(input, { maxBytes: MAX_FORK_PROOF_BYTES, maxDepth: 8 }));
  const text = typeof input === 'string' ? input : decodeUtf8(input);
  if (as(M, 'fork proof', () => canonicalize(v)) !== text) malformed('fork proof is not canonical JSON (RFC 8785)');
  return shape(v);
}

/**
 * Formats a fork proof as its canonical text; inverse of {@link parseForkProof}.
 * @throws ParseError `FORK_PROOF_MALFORMED` for a document that would not parse back; `INPUT_TOO_LARGE`.
 * @example writeFileSync('fork.json', formatForkProof(detectFork(accord, 'US', a, b)!))
 */
export function formatForkProof(proof: ForkProof): string {
  const text = canonicalize(shape(proof));
  if (encodeUtf8(text).length > MAX_FORK_PROOF_BYTES) fail('INPUT_TOO_LARGE', 'fork proof larger than 256 KiB');
  return text;
}

interface Opened extends ForkView {
  /** The note with only the log signature and accord cosignatures. */
  readonly clean: string;
}

/**
 * Opens one checkpoint note of `partyId`'s log: the log signature must verify
 * under the accord's key (origin = key name); cosignatures by the other
 * parties' cosigner keys are checked and reported; other signatures are
 * listed in `unknown` by the note layer.
 */
function openSide(accord: VerifiedAccord, partyId: string, note: string | Uint8Array, strict: boolean): Opened {
  const member = accord.party(partyId);
  if (!member) invalid(`${partyId} is not a party of the accord`);
  const witnesses = new Map<string, { party: string; key: VerifierKey }>();
  for (const p of accord.accord.parties) {
    if (p.id === partyId) continue;
    const key = cosignerKey(accord.party(p.id)!.logKey);
    witnesses.set(`${key.name}+${formatKeyId(key.keyId)}`, { party: p.id, key });
  }
  const w = openWitnessedCheckpoint(note, new VerifierSet([member.logKey]), [...witnesses.values()].map((x) => x.key), { origin: member.logKey.name });
  if (strict && w.note.unknown.length > 0) invalid('checkpoint carries a signature by a key not in the accord');
  const cosignatures = w.cosignatures.map((c) => ({ party: witnesses.get(`${c.name}+${formatKeyId(c.keyId)}`)!.party, timestamp: c.timestamp }));
  const clean = decodeUtf8(formatNote({ text: w.note.text, signatures: w.note.verified }));
  return { checkpoint: w.checkpoint, note: typeof note === 'string' ? note : decodeUtf8(note), cosignatures, clean };
}

function checkKind(p: ForkProof, a: Opened, b: Opened): { index?: number; prefixRoot?: Hash; leafA?: Hash; leafB?: Hash } {
  const A = a.checkpoint;
  const B = b.checkpoint;
  const hashes = (s: ForkSide) => (s.proof ?? []).map((h) => parseBase64(h));
  switch (p.kind) {
    case 'same-size':
      if (A.treeSize !== B.treeSize || bytesEqual(A.rootHash, B.rootHash)) invalid('not two roots for one tree size');
      return {};
    case 'leaf-conflict': {
      const i = p.index!;
      const leafA = parseBase64(p.a.leaf!);
      const leafB = parseBase64(p.b.leaf!);
      if (bytesEqual(leafA, leafB)) invalid('the two leaves are the same');
      // RFC 9162 §2.1.3.2 also fails an index at or beyond the tree size.
      if (!verifyInclusion(hashes(p.a), A.treeSize, A.rootHash, i, leafA)) invalid('inclusion proof a does not verify');
      if (!verifyInclusion(hashes(p.b), B.treeSize, B.rootHash, i, leafB)) invalid('inclusion proof b does not verify');
      return { index: i, leafA, leafB };
    }
    case 'prefix-conflict': {
      const prefixRoot = prefixRootFromProof(hashes(p.b), A.treeSize, B.treeSize, B.rootHash);
      if (prefixRoot === undefined) invalid('prefix proof does not verify');
      if (bytesEqual(prefixRoot, A.rootHash)) invalid('b extends a: no fork');
      return { prefixRoot };
    }
  }
}

/**
 * Verifies a fork proof against the accord: the channel, the party, both log
 * signatures, every cosignature present, and the conflict of its kind.
 * @param proof the document (text, bytes or parsed; always re-checked).
 * @param accord the verified accord of the channel.
 * @returns the {@link VerifiedFork}: evidence to store, forward and alarm on.
 * @throws ParseError `FORK_PROOF_MALFORMED` (or `INPUT_TOO_LARGE`);
 *   VerificationError `FORK_PROOF_INVALID` for anything that does not verify.
 * @example verifyForkProof(readFileSync('fork.json'), accord).party // 'US'
 */
export function verifyForkProof(proof: ForkProof | string | Uint8Array, accord: VerifiedAccord): VerifiedFork {
  const p = typeof proof === 'string' || proof instanceof Uint8Array ? parseForkProof(proof) : shape(proof);
  if (p.accord !== accord.id) invalid('fork proof is for another accord');
  const a = as('FORK_PROOF_INVALID', 'checkpoint a', () => openSide(accord, p.party, p.a.checkpoint, true));
  const b = as('FORK_PROOF_INVALID', 'checkpoint b', () => openSide(accord, p.party, p.b.checkpoint, true));
  const k = checkKind(p, a, b);
  const view = (o: Opened, leaf: Hash | undefined, s: ForkSide): ForkView => {
    const v = { checkpoint: o.checkpoint, note: o.note, cosignatures: o.cosignatures, ...(s.timestamps !== undefined ? { timestamps: s.timestamps } : {}) };
    return leaf === undefined ? v : { ...v, leaf };
  };
  const out: { -readonly [K in keyof VerifiedFork]: VerifiedFork[K] } = {
    accord: p.accord,
    party: p.party,
    kind: p.kind,
    a: view(a, k.leafA, p.a),
    b: view(b, k.leafB, p.b),
    text: canonicalize(p),
  };
  if (k.index !== undefined) out.index = k.index;
  if (k.prefixRoot !== undefined) out.prefixRoot = k.prefixRoot;
  return out;
}

/**
 * The note a time-stamp token of a view stamps (issue 12): the view's text
 * with only its log's own signature line(s) — those named by the
 * checkpoint's origin — as the log's node served it at /log/checkpoint.
 * @throws ParseError for a note that does not parse.
 */
export function stampedNote(note: string): string {
  const n = parseNote(note);
  const origin = parseCheckpoint(n.text).origin;
  const own = n.signatures.filter((x) => x.name === origin);
  return own.length === n.signatures.length ? note : decodeUtf8(formatNote({ text: n.text, signatures: own }));
}

function build(accord: VerifiedAccord, partyId: string, kind: ForkKind, a: ForkSide, b: ForkSide, index?: number): ForkProof {
  const p: ForkProof = { v: 1, type: FORK_PROOF_TYPE, accord: accord.id, party: partyId, kind, a, b };
  const proof = index === undefined ? p : { ...p, index };
  verifyForkProof(proof, accord); // a builder never hands out a proof that does not verify
  return proof;
}

/**
 * Decides what two checkpoint notes of one party's log show on their own:
 * a `same-size` fork when they have one tree size and two root hashes.
 * Different sizes need more data ({@link leafConflictProof},
 * {@link prefixConflictProof}); equal roots are no fork (extension lines
 * aside, which carry no tree).
 * @param accord the channel's verified accord.
 * @param partyId the party whose log signed both notes.
 * @returns the proof, with signatures not from accord keys dropped; undefined when no fork shows.
 * @throws VerificationError `FORK_PROOF_INVALID` for a party not in the
 *   accord; note and checkpoint errors (`NOTE_UNVERIFIED`,
 *   `SIGNATURE_INVALID`, `ORIGIN_MISMATCH`, …) for a note the log did not sign.
 * @example detectFork(accord, 'US', cosignedEarlier, gossiped)?.kind // 'same-size'
 */
export function detectFork(accord: VerifiedAccord, partyId: string, noteA: string | Uint8Array, noteB: string | Uint8Array): ForkProof | undefined {
  const a = openSide(accord, partyId, noteA, false);
  const b = openSide(accord, partyId, noteB, false);
  if (a.checkpoint.treeSize !== b.checkpoint.treeSize || bytesEqual(a.checkpoint.rootHash, b.checkpoint.rootHash)) return undefined;
  return build(accord, partyId, 'same-size', { checkpoint: a.clean }, { checkpoint: b.clean });
}

/** A leaf a checkpoint commits to at some index, with its inclusion proof. */
export interface LeafEvidence {
  /** The signed checkpoint note. */
  readonly note: string | Uint8Array;
  /** RFC 6962 leaf hash. */
  readonly leafHash: Uint8Array;
  /** RFC 6962 §2.1.1 inclusion proof under the note's root. */
  readonly proof: readonly Uint8Array[];
}

/**
 * Builds a `leaf-conflict` proof from two inclusion proofs at one index.
 * @returns the proof; undefined when both leaves are the same (no fork).
 * @throws VerificationError `PROOF_INVALID` when an inclusion proof does not
 *   verify under its checkpoint (that is no evidence); `FORK_PROOF_INVALID`
 *   for a party not in the accord; note errors as {@link detectFork}.
 * @example leafConflictProof(accord, 'US', 5, { note: a, leafHash: x, proof: pa }, { note: b, leafHash: y, proof: pb })
 */
export function leafConflictProof(accord: VerifiedAccord, partyId: string, index: number, a: LeafEvidence, b: LeafEvidence): ForkProof | undefined {
  const side = (e: LeafEvidence): ForkSide => {
    const o = openSide(accord, partyId, e.note, false);
    if (!verifyInclusion(e.proof, o.checkpoint.treeSize, o.checkpoint.rootHash, index, e.leafHash)) fail('PROOF_INVALID', 'inclusion proof does not verify');
    return { checkpoint: o.clean, leaf: formatBase64(e.leafHash), proof: e.proof.map((h) => formatBase64(h)) };
  };
  const [sa, sb] = [side(a), side(b)];
  if (sa.leaf === sb.leaf) return undefined;
  return build(accord, partyId, 'leaf-conflict', sa, sb, index);
}

/**
 * Builds a `prefix-conflict` proof: `proof` must be a prefix proof (see
 * `provePrefixRoot` in prefix.ts) of `older`'s size in `newer`'s tree. A witness
 * whose tlog-witness consistency proof failed can pass that proof directly
 * when the old size is not a power of two; otherwise (or when it does not
 * authenticate) read `newer`'s tiles and use `provePrefixRoot`.
 * @returns the proof; undefined when `newer` does extend `older` (no fork).
 * @throws ArgumentError `TREE_ARGUMENT_INVALID` unless 1 ≤ older size < newer
 *   size; VerificationError `PROOF_INVALID` when the proof does not
 *   authenticate under `newer`'s root (only the log's word, no evidence);
 *   `FORK_PROOF_INVALID` and note errors as {@link detectFork}.
 * @example prefixConflictProof(accord, 'US', lastCosigned, offered, provePrefixRoot(8, 13, tiles))
 */
export function prefixConflictProof(accord: VerifiedAccord, partyId: string, older: string | Uint8Array, newer: string | Uint8Array, proof: readonly Uint8Array[]): ForkProof | undefined {
  const a = openSide(accord, partyId, older, false);
  const b = openSide(accord, partyId, newer, false);
  const [m, n] = [a.checkpoint.treeSize, b.checkpoint.treeSize];
  if (!(m >= 1 && m < n)) fail('TREE_ARGUMENT_INVALID', `prefix conflict needs 1 ≤ older size (${m}) < newer size (${n})`);
  const prefixRoot = prefixRootFromProof(proof, m, n, b.checkpoint.rootHash);
  if (prefixRoot === undefined) fail('PROOF_INVALID', 'prefix proof does not verify under the newer checkpoint');
  if (bytesEqual(prefixRoot, a.checkpoint.rootHash)) return undefined;
  return build(accord, partyId, 'prefix-conflict', { checkpoint: a.clean }, { checkpoint: b.clean, proof: proof.map((h) => formatBase64(h)) });
}

/**
 * Every kind of fork evidence Parley exchanges, all with `type`
 * "parley/fork-proof": the checkpoint forks of this module (verified against
 * one accord), accord forks (`kind: "accord"`, accord/chain.ts) and
 * retired keys (`kind: "retired-key"`, accord/epochs.ts), both verified
 * against the accord chain.
 */
export type AnyForkProof = ForkProof | AccordForkProof | RetiredKeyProof;

/**
 * Parses any fork proof by its `kind` (each strictly, as its own parser).
 * @throws ParseError `FORK_PROOF_MALFORMED`; `INPUT_TOO_LARGE`.
 * @example parseAnyForkProof(text).kind // 'accord'
 */
export function parseAnyForkProof(input: string | Uint8Array): AnyForkProof {
  if ((typeof input === 'string' ? encodeUtf8(input) : input).length > MAX_FORK_PROOF_BYTES) fail('INPUT_TOO_LARGE', 'fork proof larger than 256 KiB');
  const v = as(M, 'fork proof is not JSON', () => parseJson(input, { maxBytes: MAX_FORK_PROOF_BYTES, maxDepth: 16 }));
  const kind = typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>)['kind'] : undefined;
  if (kind === 'accord') return parseAccordForkProof(input);
  if (kind === 'retired-key') return parseRetiredKeyProof(input);
  return parseForkProof(input);
}
