/**
 * Salted per-claim disclosures: the SD-JWT model (RFC 9901, formerly
 * draft-ietf-oauth-selective-disclosure-jwt), without the JWT.
 *
 * An `evaluation.commitment` carries only digests; whoever holds a
 * disclosure can show that one claim's value is the committed one, and no
 * one can learn a claim from its digest (the salt is ≥ 128 random bits).
 *
 *     disclosure = base64url(UTF-8(JSON text of [salt, name, value]))   RFC 9901 §4.2.1
 *     digest     = base64url(SHA-256(ASCII(disclosure)))               RFC 9901 §4.2.3
 *
 * The digest is over the encoded STRING, not the JSON it decodes to: any
 * JSON spelling a committer chose stays valid (we write JCS, RFC 8785, and
 * accept any JSON text, as SD-JWT verifiers must).
 *
 * Nested claims (RFC 9901 §4.2.6 "recursive disclosures"): an object claim's
 * value is exactly `{"_sd": [child digests]}`; each child is a disclosure
 * itself, so revealing a child means revealing every ancestor — the child's
 * digest is only in its parent's `_sd`. Arrays are leaf values.
 *
 * Decoys (RFC 9901 §4.2.5): every `_sd` list — the commitment's top-level
 * `sd` and each nested one — gets at least {@link MIN_DECOYS} random digests
 * (SHA-256 of 32 random bytes), so that its length is a multiple of
 * {@link SD_PAD}, and is sorted by the digests' text (code-unit order of
 * base64url), so neither the count of claims nor the order reveals anything.
 *
 * Paths name claims from the top: `redLines.cbrn.outcome`. Claim names match
 * {@link CLAIM_NAME}; {@link commitClaims} further refuses a `.` in a name so
 * that every path has one reading.
 *
 * @example
 *   const { sd, disclosures } = commitClaims({ model: { name: 'M', version: '1' }, evaluator: 'UK AISI' });
 *   const shown = selectDisclosures(disclosures, ['model.version']);   // + its parent `model`
 *   openDisclosures(sd, shown.map((d) => d.encoded)).claims;            // { model: { version: '1' } }
 */
import { type ErrorCode, fail, ParleyError } from '../errors.js';
import { decodeUtf8, encodeUtf8, formatBase64url, parseBase64url } from '../encoding.js';
import { getCrypto } from '../crypto/provider.js';
import { canonicalize } from '../cjson.js';
import { type JsonValue, parseJson } from '../ijson.js';

/** A JSON object (claims, or a nested claim's opened value). */
export type JsonObject = { [name: string]: JsonValue };

/** The one digest algorithm we write and accept (RFC 9901 §4.1.1 `_sd_alg` name). */
export const SD_ALG = 'sha-256';
/** A claim name as a disclosure carries it (never `_sd`, which cannot match: it starts with `_`). */
export const CLAIM_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
/** A digest: base64url of 32 bytes, unpadded. */
export const SD_DIGEST = /^[A-Za-z0-9_-]{43}$/;
/** Salt bytes we make (128 bits, RFC 9901 §9.3); we accept 16..64. */
export const SALT_BYTES = 16;
/** Every `_sd` list gets at least this many decoys… */
export const MIN_DECOYS = 3;
/** …and is padded to a multiple of this. */
export const SD_PAD = 8;
/** Most digests in one `_sd` list (decoys included), as the commitment body allows. */
export const MAX_SD = 512;
/** Longest encoded disclosure we accept (a claim is a short value, not a report). */
export const MAX_DISCLOSURE_LENGTH = 64 * 1024;

/** One disclosure: `[salt, name, value]`, its encoded form and digest. */
export interface Disclosure {
  /** base64url of the JSON text of `[salt, name, value]` — what is revealed. */
  readonly encoded: string;
  /** base64url(SHA-256(ASCII(encoded))) — what is committed. */
  readonly digest: string;
  readonly salt: string;
  readonly name: string;
  /** The claim's value; for a nested claim `{"_sd": [...]}`. */
  readonly value: JsonValue;
}

/** A disclosure made by {@link commitClaims}, with the claim's path from the top. */
export interface PathedDisclosure extends Disclosure {
  readonly path: string;
}

/** A claim as {@link openDisclosures} revealed it. */
export interface RevealedClaim {
  readonly path: string;
  readonly name: string;
  /** Its value; a nested claim's is the opened object (children revealed so far). */
  readonly value: JsonValue;
  readonly digest: string;
}

const MALFORMED = 'EVAL_DISCLOSURE_MALFORMED' satisfies ErrorCode;

/** base64url(SHA-256(ASCII(encoded))) (RFC 9901 §4.2.3). */
export function disclosureDigest(encoded: string): string {
  return formatBase64url(getCrypto().sha256(encodeUtf8(encoded)));
}

/** A fresh random salt: base64url of {@link SALT_BYTES} random bytes. */
export function makeSalt(): string {
  return formatBase64url(getCrypto().randomBytes(SALT_BYTES));
}

/** A decoy digest: the digest form of 32 random bytes' hash (RFC 9901 §4.2.5). */
export function makeDecoy(): string {
  return formatBase64url(getCrypto().sha256(getCrypto().randomBytes(32)));
}

/**
 * A salt is base64url text of 16..64 bytes. The unused low bits of its last
 * character are not checked: a salt is an opaque string to SD-JWT, and the
 * specification's own example salt (RFC 9901 §4.2.1) does not re-encode.
 */
function checkSalt(salt: unknown, code: ErrorCode, what: string): string {
  if (typeof salt !== 'string' || !SALT_TEXT.test(salt) || salt.length % 4 === 1) fail(code, `${what}: the salt is not base64url`);
  const bytes = Math.floor((salt.length * 6) / 8);
  if (bytes < 16 || bytes > 64) fail(code, `${what}: the salt has ${bytes} bytes, want 16..64`);
  return salt;
}
const SALT_TEXT = /^[A-Za-z0-9_-]+$/;

/**
 * Makes a disclosure of one claim, encoded as base64url(JCS([salt, name, value])).
 * @param salt base64url of 16..64 bytes; a fresh 16-byte one by default.
 * @throws ParseError `EVAL_DISCLOSURE_MALFORMED` for a bad name or salt, or a value
 *   that is not I-JSON.
 */
export function makeDisclosure(name: string, value: JsonValue, salt: string = makeSalt()): Disclosure {
  checkSalt(salt, MALFORMED, `disclosure of ${name}`);
  if (!CLAIM_NAME.test(name)) fail(MALFORMED, `claim name ${JSON.stringify(name).slice(0, 80)} does not match ${CLAIM_NAME}`);
  let text: string;
  try {
    text = canonicalize([salt, name, value]);
  } catch (e) {
    return fail(MALFORMED, `claim ${name}: value is not I-JSON`, e);
  }
  const encoded = formatBase64url(encodeUtf8(text));
  return { encoded, digest: disclosureDigest(encoded), salt, name, value };
}

/**
 * Parses an encoded disclosure (any JSON spelling of a 3-element array).
 * @throws ParseError `EVAL_DISCLOSURE_MALFORMED`: not base64url, not UTF-8 JSON, not
 *   `[salt, name, value]`, a salt under 16 bytes, a bad claim name, a nested value that is
 *   not exactly `{"_sd": [sorted unique digests]}`.
 */
export function parseDisclosure(encoded: string): Disclosure {
  return { ...decodeDisclosure(encoded), digest: disclosureDigest(encoded) };
}

/**
 * {@link parseDisclosure} without the digest: the structural check (body
 * checks, evidence shapes, salts), which need not hash what it only reads.
 * @throws ParseError `EVAL_DISCLOSURE_MALFORMED`, as parseDisclosure.
 */
export function decodeDisclosure(encoded: string): Omit<Disclosure, 'digest'> {
  if (typeof encoded !== 'string' || encoded.length === 0 || encoded.length > MAX_DISCLOSURE_LENGTH) fail(MALFORMED, 'disclosure: empty or too long');
  let v: JsonValue;
  try {
    v = parseJson(decodeUtf8(parseBase64url(encoded, 'disclosure'), 'disclosure'));
  } catch (e) {
    return fail(MALFORMED, 'disclosure: not base64url of JSON text', e);
  }
  if (!Array.isArray(v) || v.length !== 3) fail(MALFORMED, 'disclosure: want the array [salt, name, value]');
  const [salt, name, value] = v as [JsonValue, JsonValue, JsonValue];
  checkSalt(salt, MALFORMED, 'disclosure');
  if (typeof name !== 'string' || !CLAIM_NAME.test(name)) fail(MALFORMED, `disclosure: claim name does not match ${CLAIM_NAME}`);
  nestedDigests(value, name);
  return { encoded, salt: salt as string, name, value };
}

/**
 * The child digests of a nested claim's value, or undefined for a leaf.
 * An object with `_sd` must be exactly `{"_sd": [...]}`, its list sorted and unique.
 */
function nestedDigests(value: JsonValue, name: string): readonly string[] | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !('_sd' in value)) return undefined;
  const keys = Object.keys(value);
  const sd = value['_sd'];
  if (keys.length !== 1 || !Array.isArray(sd) || sd.length > MAX_SD) fail(MALFORMED, `disclosure of ${name}: a nested claim is exactly {"_sd": [digest]≤${MAX_SD}}`);
  for (let i = 0; i < sd.length; i++) {
    const d = sd[i];
    if (typeof d !== 'string' || !SD_DIGEST.test(d)) fail(MALFORMED, `disclosure of ${name}: _sd[${i}] is not a digest`);
    if (i > 0 && !((sd[i - 1] as string) < d)) fail(MALFORMED, `disclosure of ${name}: _sd must be sorted and unique`);
  }
  return sd as string[];
}

/** Options of {@link commitClaims}. */
export interface CommitOptions {
  /** Paths (`report`, `suites`) whose object values are disclosed whole, not as nested claims. */
  readonly leafPaths?: readonly string[];
  /** Salt source (tests); default fresh random salts. */
  readonly salt?: (path: string) => string;
  /** Decoy source (tests); default fresh random decoys. */
  readonly decoy?: () => string;
}

/** Sorted digests padded with decoys: at least {@link MIN_DECOYS}, to a multiple of {@link SD_PAD}. */
function padded(digests: readonly string[], decoy: () => string): string[] {
  const n = digests.length + MIN_DECOYS;
  const total = Math.ceil(n / SD_PAD) * SD_PAD;
  const all = [...digests];
  while (all.length < total) all.push(decoy());
  return all.sort();
}

function isObject(v: JsonValue): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Commits to a claim tree: one disclosure per claim at every depth (object
 * values become nested `_sd` claims, except under `opts.leafPaths`), decoys
 * in every `_sd` list, every list sorted.
 * @returns `sd`, the top-level digests (what the commitment entry carries),
 *   and every disclosure with its path (what the committer keeps — the salts file).
 * @throws ParseError `EVAL_DOCUMENT_INVALID` for a claim name that does not match
 *   {@link CLAIM_NAME}, contains `.`, for a leaf object holding `_sd`, or for more claims
 *   than a `_sd` list holds.
 */
export function commitClaims(claims: JsonObject, opts: CommitOptions = {}): { sd: string[]; disclosures: PathedDisclosure[] } {
  const leaf = new Set(opts.leafPaths ?? []);
  const decoy = opts.decoy ?? makeDecoy;
  const out: PathedDisclosure[] = [];
  const level = (obj: JsonObject, prefix: string): string[] => {
    const digests: string[] = [];
    for (const [name, value] of Object.entries(obj)) {
      const path = prefix === '' ? name : `${prefix}.${name}`;
      if (!CLAIM_NAME.test(name) || name.includes('.')) fail('EVAL_DOCUMENT_INVALID', `${path}: a claim name matches ${CLAIM_NAME} without "."`);
      let v: JsonValue = value;
      if (isObject(value) && !leaf.has(path)) v = { _sd: level(value, path) };
      else if (isObject(value) && '_sd' in value) fail('EVAL_DOCUMENT_INVALID', `${path}: a leaf object must not hold "_sd"`);
      const d = makeDisclosure(name, v, opts.salt ? opts.salt(path) : makeSalt());
      out.push({ ...d, path });
      digests.push(d.digest);
    }
    const sd = padded(digests, decoy);
    if (sd.length > MAX_SD) fail('EVAL_DOCUMENT_INVALID', `${prefix || 'claims'}: ${digests.length} claims exceed one _sd list`);
    return sd;
  };
  const sd = level(claims, '');
  return { sd, disclosures: out };
}

/**
 * The disclosures to reveal for `paths`, each with every ancestor (a nested
 * claim is only found through its parent). Order: as in `all`.
 * @throws ArgumentError `EVAL_CLAIM_UNKNOWN` for a path not in `all`.
 */
export function selectDisclosures<D extends PathedDisclosure>(all: readonly D[], paths: readonly string[]): D[] {
  const byPath = new Map(all.map((d) => [d.path, d] as const));
  const want = new Set<string>();
  for (const p of paths) {
    const parts = p.split('.');
    for (let i = 1; i <= parts.length; i++) {
      const q = parts.slice(0, i).join('.');
      if (!byPath.has(q)) fail('EVAL_CLAIM_UNKNOWN', `claim ${p}: no committed claim ${q}`);
      want.add(q);
    }
  }
  // Selecting a nested claim whole reveals its children too.
  for (const p of paths) for (const d of all) if (d.path.startsWith(`${p}.`)) want.add(d.path);
  return all.filter((d) => want.has(d.path));
}

/**
 * Opens disclosures against a commitment's top-level `sd` (RFC 9901 §7.1
 * steps 3–5, without the JWT): each disclosure's digest must appear in
 * `sd` or in the `_sd` of another revealed disclosure, exactly once.
 * @returns the revealed claim tree (`_sd` members removed; hidden claims absent)
 *   and each revealed claim with its path, sorted by path.
 * @throws ParseError `EVAL_DISCLOSURE_MALFORMED`; VerificationError
 *   `EVAL_DISCLOSURE_DUPLICATE` (the same disclosure twice, a digest listed twice
 *   or under two parents, two claims of one name under one parent),
 *   `EVAL_SALT_REUSED` (two disclosures with one salt), `EVAL_DISCLOSURE_MISMATCH`
 *   (a digest that is neither committed nor under a revealed parent: a changed
 *   value, or a child revealed without its parent).
 */
export function openDisclosures(sd: readonly string[], encoded: readonly string[]): { claims: JsonObject; revealed: RevealedClaim[] } {
  if (encoded.length > MAX_SD * 4) fail(MALFORMED, `${encoded.length} disclosures are too many`);
  const parsed = encoded.map((e) => parseDisclosure(e));
  const byDigest = new Map<string, Disclosure>();
  const salts = new Set<string>();
  for (const d of parsed) {
    if (byDigest.has(d.digest)) fail('EVAL_DISCLOSURE_DUPLICATE', `disclosure of ${d.name} is given twice`);
    byDigest.set(d.digest, d);
    if (salts.has(d.salt)) fail('EVAL_SALT_REUSED', `disclosure of ${d.name} reuses another disclosure's salt`);
    salts.add(d.salt);
  }
  const placed = new Set<string>();
  const revealed: RevealedClaim[] = [];
  const open = (digests: readonly string[], prefix: string): JsonObject => {
    const out: JsonObject = {};
    const seen = new Set<string>();
    for (const digest of digests) {
      if (seen.has(digest)) fail('EVAL_DISCLOSURE_DUPLICATE', `${prefix || 'sd'}: digest listed twice`);
      seen.add(digest);
      const d = byDigest.get(digest);
      if (!d) continue; // hidden, or a decoy
      if (placed.has(digest)) fail('EVAL_DISCLOSURE_DUPLICATE', `disclosure of ${d.name} sits under two parents`);
      placed.add(digest);
      const path = prefix === '' ? d.name : `${prefix}.${d.name}`;
      if (Object.prototype.hasOwnProperty.call(out, d.name)) fail('EVAL_DISCLOSURE_DUPLICATE', `${path}: two claims of one name`);
      const children = nestedDigests(d.value, d.name);
      const value: JsonValue = children ? open(children, path) : d.value;
      out[d.name] = value;
      revealed.push({ path, name: d.name, value, digest });
    }
    return out;
  };
  const claims = open(sd, '');
  for (const d of parsed) {
    if (!placed.has(d.digest)) fail('EVAL_DISCLOSURE_MISMATCH', `disclosure of ${d.name} matches no committed digest nor a revealed parent's`);
  }
  revealed.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { claims, revealed };
}

/**
 * {@link openDisclosures} as a value: the opened claims, or the error's code
 * (for views that show a bad reveal rather than fail).
 */
export function tryOpenDisclosures(sd: readonly string[], encoded: readonly string[]): { claims: JsonObject; revealed: RevealedClaim[] } | { error: ErrorCode; message: string } {
  try {
    return openDisclosures(sd, encoded);
  } catch (e) {
    if (e instanceof ParleyError) return { error: e.code, message: e.message };
    throw e;
  }
}
