/**
 * Node-to-node request authentication: every federation request (entries,
 * checkpoints, witness requests) carries a `Parley-Signature` header made
 * with the sending party's log key from the accord. In the spirit of HTTP
 * Message Signatures (RFC 9421), with one fixed set of covered components.
 *
 * Header (one line, exactly this order and spacing; ≤ 256 characters):
 *
 *     Parley-Signature: party=<sender>, created=<POSIX seconds>, nonce=<nonce>, sig=<signature>
 *
 *     sender    ^[A-Z][A-Z0-9-]{1,15}$, a party of the accord
 *     created   canonical decimal (no sign, no leading zeros), ≤ 2^53 − 1
 *     nonce     16 random bytes, base64url (RFC 4648 §5) without padding: 22 characters, canonical
 *     signature Ed25519 (RFC 8032) over the signing base, standard padded base64 (88 characters)
 *
 * Signing base (UTF-8; "\n" separated; NO final newline). The accord id and
 * the recipient are covered but not sent: a request signed for another
 * channel or another node fails as a bad signature.
 *
 *     "parley/request/v1" "\n"
 *     accord id           "\n"   lowercase hex, 64 digits
 *     sender party        "\n"
 *     recipient party     "\n"
 *     method              "\n"   ^[A-Z]{1,16}$, as on the request line (RFC 9110 §9.1: case-sensitive)
 *     request target      "\n"   origin-form path and query exactly as on the request line,
 *                                not decoded or normalized: ^/[!-~]{0,4095}$
 *     created             "\n"   as in the header
 *     nonce               "\n"   as in the header
 *     base64(SHA-256(body))      standard padded base64 of the digest of the exact body
 *                                bytes (SHA-256 of nothing when there is no body)
 *
 * Example base (test/vectors/parley/fork-v1.json pins it and the header):
 *
 *     parley/request/v1
 *     1c2df61214d2f1fe2db5c136259a008fd6250ce53f630d5d45880dbf03c5312f
 *     US
 *     CN
 *     POST
 *     /v1/federation/entries?since=7
 *     1795795200
 *     AAECAwQFBgcICQoLDA0ODw
 *     pxloWm5zF3XPaWniETsMAgpjaxvZXLWvp/kuGybLhSU=
 *
 *     Parley-Signature: party=US, created=1795795200, nonce=AAECAwQFBgcICQoLDA0ODw, sig=+0iyttfhB9CKNPzwwUXJOmNkFQTjujsqHGjQa/Vo7R7sLCX25TUqwkVeIUaOaoCPst6vxXve2iTJtnd3VI2mAQ==
 *
 * No field may contain "\n", so the base is injective; it starts with
 * "parley/request/v1\n", a context no checkpoint (origins never start with
 * "parley/"), cosignature ("cosignature/v1\n"), entry or accord signature
 * shares, so a request signature is never valid as anything else.
 *
 * Verification rejects (one code, `REQUEST_UNAUTHENTICATED`, 401; a header
 * that does not parse is `REQUEST_SIGNATURE_MALFORMED`, 400): a missing
 * header, a sender not in the accord or equal to the recipient, `created`
 * outside now ± maxSkew, a bad signature (which covers a body, method,
 * target, recipient or channel other than the signed ones), and a nonce seen
 * before. Nonces are recorded only AFTER the signature verifies, so an
 * attacker cannot fill the cache or burn a party's nonces.
 *
 * Content-Digest (RFC 9530 §2; issue 9, "Federation routes check the request
 * signature before reading a large body"). A request with a body also
 * carries the base's last line as a header, so the recipient can verify the
 * signature from the head alone, before reading a byte of the body (RFC 9421
 * §7.2.8 does the same by covering `content-digest`):
 *
 *     Content-Digest: sha-256=:<standard padded base64 of SHA-256(body)>:
 *
 * Exactly one member, `sha-256`, whose value is a Structured Field byte
 * sequence (RFC 8941 §3.3.5; 44 base64 characters between colons); no other
 * spelling, algorithm, parameter or whitespace is accepted
 * (`CONTENT_DIGEST_MALFORMED`, 400). The header is not a new covered field:
 * the signature already covers the digest, so a header naming another
 * digest than the signed one is a bad signature. Verification then has two
 * steps: {@link verifyRequestHead} (everything above but the nonce record,
 * pure) when the head arrives, and {@link verifyRequestBody} once the body
 * is in: SHA-256(body) must equal the header's digest
 * (`CONTENT_DIGEST_MISMATCH`, 400) and only then is the nonce checked and
 * recorded. Without the header (older senders) the whole check waits for
 * the body ({@link verifyRequest}), as before.
 */
import { fail, isParleyError } from '../errors.js';
import { bytesEqual, encodeUtf8, formatBase64, parseBase64, parseDecimal } from '../encoding.js';
import { getCrypto, type Ed25519Sign } from '../crypto/provider.js';
import { type VerifiedAccord, PARTY_ID } from '../accord/accord.js';

/** Signing context: the first line of every request signing base. */
export const REQUEST_CONTEXT = 'parley/request/v1\n';
/** The HTTP header field that carries the signature. */
export const REQUEST_SIGNATURE_HEADER = 'Parley-Signature';
/** Default clock skew tolerated between nodes, in seconds. */
export const DEFAULT_MAX_SKEW_SECONDS = 60;
/** Longest header value we parse (a valid one is at most ~165 characters). */
export const MAX_REQUEST_SIGNATURE_LENGTH = 256;
/** The HTTP header field that carries the body's digest (RFC 9530 §2). */
export const CONTENT_DIGEST_HEADER = 'Content-Digest';
const CONTENT_DIGEST = /^sha-256=:([A-Za-z0-9+/]{43}=):$/;
/** Longest Content-Digest value we look at (a valid one is 54 characters). */
const MAX_CONTENT_DIGEST_LENGTH = 128;

/**
 * Parses a `Content-Digest` header value strictly: `sha-256=:<base64>:`, one
 * spelling (see the module doc).
 * @returns the 32-byte SHA-256 digest.
 * @throws ParseError `CONTENT_DIGEST_MALFORMED`.
 * @example parseContentDigest('sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:') // SHA-256 of nothing
 */
export function parseContentDigest(header: string): Uint8Array {
  const m = header.length > MAX_CONTENT_DIGEST_LENGTH ? null : CONTENT_DIGEST.exec(header);
  if (!m) fail('CONTENT_DIGEST_MALFORMED', 'Content-Digest: want exactly "sha-256=:<base64 of 32 bytes>:"');
  try {
    return parseBase64(m[1]!, 'Content-Digest');
  } catch (e) {
    if (!isParleyError(e)) throw e;
    return fail('CONTENT_DIGEST_MALFORMED', `Content-Digest: ${e.message}`, e);
  }
}

/**
 * Formats a `Content-Digest` header value for a SHA-256 digest; inverse of
 * {@link parseContentDigest}.
 * @throws ParseError `CONTENT_DIGEST_MALFORMED` for a digest that is not 32 bytes.
 */
export function formatContentDigest(digest: Uint8Array): string {
  if (digest.length !== 32) fail('CONTENT_DIGEST_MALFORMED', 'Content-Digest: want a 32-byte SHA-256 digest');
  return `sha-256=:${formatBase64(digest)}:`;
}

/** The `Content-Digest` header value of a body: `sha-256=:<base64 SHA-256(body)>:`. */
export function contentDigestOf(body: Uint8Array): string {
  return formatContentDigest(getCrypto().sha256(body));
}

/** The fields of a `Parley-Signature` header value. */
export interface RequestSignature {
  readonly party: string;
  /** POSIX seconds. */
  readonly created: number;
  /** base64url, 22 characters (16 bytes). */
  readonly nonce: string;
  /** Standard base64 of the 64-byte Ed25519 signature. */
  readonly sig: string;
}

/** What a signing base covers. */
export interface RequestBaseInput {
  readonly accordId: string;
  readonly from: string;
  readonly to: string;
  readonly method: string;
  /** The request target: path and query as sent. */
  readonly path: string;
  readonly created: number;
  readonly nonce: string;
  readonly body: Uint8Array;
}

const HEADER = /^party=([A-Z][A-Z0-9-]{1,15}), created=([0-9]{1,16}), nonce=([A-Za-z0-9_-]{22}), sig=([A-Za-z0-9+/]{86}==)$/;
const HEX64 = /^[0-9a-f]{64}$/;
const METHOD = /^[A-Z]{1,16}$/;
const TARGET = /^\/[\x21-\x7e]{0,4095}$/;

function malformed(message: string, cause?: unknown): never {
  return fail('REQUEST_SIGNATURE_MALFORMED', message, cause);
}

function unauthenticated(message: string, cause?: unknown): never {
  return fail('REQUEST_UNAUTHENTICATED', message, cause);
}

/** RFC 4648 §5 base64url without padding. */
function formatBase64Url(bytes: Uint8Array): string {
  return formatBase64(bytes).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** Decodes a canonical unpadded base64url nonce of exactly 16 bytes. */
function parseNonce(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]{22}$/.test(s)) malformed('nonce: want 22 base64url characters');
  let bytes: Uint8Array;
  try {
    // Canonical means the 4 unused bits of the last character are zero; parseBase64 checks that by re-encoding.
    bytes = parseBase64(`${s.replaceAll('-', '+').replaceAll('_', '/')}==`, 'nonce');
  } catch (e) {
    return malformed('nonce: not canonical base64url', e);
  }
  return bytes;
}

/**
 * Parses a `Parley-Signature` header value strictly (one spelling).
 * @throws ParseError `REQUEST_SIGNATURE_MALFORMED`.
 * @example parseRequestSignature('party=US, created=1795795200, nonce=AAECAwQFBgcICQoLDA0ODw, sig=…').party // 'US'
 */
export function parseRequestSignature(header: string): RequestSignature {
  if (header.length > MAX_REQUEST_SIGNATURE_LENGTH) malformed('Parley-Signature: too long');
  const m = HEADER.exec(header);
  if (!m) malformed('Parley-Signature: want "party=P, created=N, nonce=B64URL, sig=B64"');
  const [, party, createdText, nonce, sig] = m as unknown as [string, string, string, string, string];
  let created: number;
  try {
    created = parseDecimal(createdText, 'created');
    if (parseBase64(sig, 'sig').length !== 64) malformed('sig: want 64 bytes');
  } catch (e) {
    if (!isParleyError(e)) throw e;
    return malformed(`Parley-Signature: ${e.message}`, e);
  }
  parseNonce(nonce);
  return { party, created, nonce, sig };
}

/**
 * Formats a header value; inverse of {@link parseRequestSignature}.
 * @throws ParseError `REQUEST_SIGNATURE_MALFORMED` for fields that would not parse back.
 */
export function formatRequestSignature(s: RequestSignature): string {
  // A created that is not a safe integer prints as "1.5", "-1", "NaN" or "1e+21", which the parser refuses.
  const text = `party=${s.party}, created=${s.created}, nonce=${s.nonce}, sig=${s.sig}`;
  parseRequestSignature(text);
  return text;
}

/**
 * The exact string a request signature covers (see the module doc).
 * @throws ParseError `REQUEST_SIGNATURE_MALFORMED` when a field is out of its
 *   grammar (a newline in the target, a lowercase method, …): no base exists.
 * @example requestSigningBase({ accordId, from: 'US', to: 'CN', method: 'GET', path: '/v1/checkpoint', created, nonce, body: new Uint8Array() })
 */
export function requestSigningBase(r: RequestBaseInput): string {
  return baseOverDigest(r, getCrypto().sha256(r.body));
}

/** {@link requestSigningBase} with the body's digest given instead of the body. */
function baseOverDigest(r: Omit<RequestBaseInput, 'body'>, bodyDigest: Uint8Array): string {
  if (!HEX64.test(r.accordId)) malformed('accord id: want 64 lowercase hex digits');
  if (!PARTY_ID.test(r.from) || !PARTY_ID.test(r.to)) malformed('party: not a party id');
  if (!METHOD.test(r.method)) malformed('method: want 1-16 capital letters');
  if (!TARGET.test(r.path)) malformed('path: want an origin-form request target of printable ASCII');
  if (!Number.isSafeInteger(r.created) || r.created < 0) malformed('created: want POSIX seconds');
  parseNonce(r.nonce);
  const digest = formatBase64(bodyDigest);
  return `${REQUEST_CONTEXT}${r.accordId}\n${r.from}\n${r.to}\n${r.method}\n${r.path}\n${r.created}\n${r.nonce}\n${digest}`;
}

/** What {@link signRequest} needs. */
export interface SignRequestInput {
  readonly accordId: string;
  /** Our party id. */
  readonly from: string;
  /** The recipient's party id. */
  readonly to: string;
  readonly method: string;
  readonly path: string;
  readonly body: Uint8Array;
  /** Ed25519 signer bound to our log key (`getCrypto().ed25519Signer(seed)`). */
  readonly signer: Ed25519Sign;
  /** POSIX seconds (fractions are dropped). */
  readonly now: number;
  /** 16 bytes; default fresh from `getCrypto().randomBytes`. Pass one only in tests. */
  readonly nonce?: Uint8Array;
}

/**
 * Signs a request: the `Parley-Signature` header value to send.
 * @throws ParseError `REQUEST_SIGNATURE_MALFORMED` for fields out of their
 *   grammar or a nonce that is not 16 bytes.
 * @example headers['parley-signature'] = signRequest({ accordId, from: 'US', to: 'CN', method: 'POST', path: '/v1/inbox', body, signer, now: Date.now() / 1000 })
 */
export function signRequest(input: SignRequestInput): string {
  return signOverDigest(input, getCrypto().sha256(input.body));
}

function signOverDigest(input: SignRequestInput, bodyDigest: Uint8Array): string {
  const nonceBytes = input.nonce ?? getCrypto().randomBytes(16);
  if (nonceBytes.length !== 16) malformed('nonce: want 16 bytes');
  const nonce = formatBase64Url(nonceBytes);
  const created = Math.floor(input.now);
  const base = baseOverDigest({ ...input, created, nonce }, bodyDigest);
  const sig = formatBase64(input.signer(encodeUtf8(base)));
  return formatRequestSignature({ party: input.from, created, nonce, sig });
}

/** The headers of a signed request: {@link signRequest}'s, and the body's `Content-Digest`. */
export interface SignedRequestHeaders {
  /** The `Parley-Signature` value. */
  readonly signature: string;
  /** The `Content-Digest` value (RFC 9530), over the same SHA-256 as the signature. */
  readonly contentDigest: string;
}

/**
 * {@link signRequest}, hashing the body once for both headers: send
 * `contentDigest` as `Content-Digest` on every request with a body, so the
 * recipient can check the signature before reading it (module doc).
 * @throws ParseError as {@link signRequest}.
 */
export function signRequestWithDigest(input: SignRequestInput): SignedRequestHeaders {
  const digest = getCrypto().sha256(input.body);
  return { signature: signOverDigest(input, digest), contentDigest: formatContentDigest(digest) };
}

/**
 * Where verified nonces are remembered until no request carrying them could
 * be accepted again. Keys are `<party> <nonce>`; times are POSIX seconds.
 *
 * Contract: after `add(key, e, t)`, `has(key, …, now)` is true for every
 * `now ≤ e`. An implementation may also answer true for keys it never saw
 * (failing closed, e.g. when full), never false for one it must remember.
 * `has` then `add` must not interleave with another request's pair (one
 * process: call both synchronously, as {@link verifyRequest} does).
 */
export interface NonceCache {
  /** True when `key`, valid until `expiresAt`, may have been seen (reject it as a replay). */
  has(key: string, expiresAt: number, now: number): boolean;
  /** Remembers `key` until `expiresAt` (inclusive). */
  add(key: string, expiresAt: number, now: number): void;
}

/**
 * A bounded in-memory {@link NonceCache}, oldest first (each nonce is used
 * once, so least recently used is least recently added). Expired nonces are
 * dropped as new ones arrive. When full of live nonces it evicts the oldest
 * and raises a floor: any request expiring at or before the latest evicted
 * one is refused from then on — under a flood it fails closed (refusing
 * some honest requests, which are retried with a fresh nonce) rather than
 * forgetting a nonce that a replay could reuse.
 */
export class MemoryNonceCache implements NonceCache {
  readonly #max: number;
  readonly #entries = new Map<string, number>();
  #floor = Number.NEGATIVE_INFINITY;

  /** @param maxEntries most nonces held (default 100 000: ~800 requests/s over a 2 × 60 s window). */
  constructor(maxEntries = 100_000) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new RangeError('maxEntries must be a positive integer');
    this.#max = maxEntries;
  }

  /** Number of nonces held. */
  get size(): number {
    return this.#entries.size;
  }

  has(key: string, expiresAt: number, now: number): boolean {
    if (expiresAt <= this.#floor) return true;
    const e = this.#entries.get(key);
    return e !== undefined && e >= now;
  }

  add(key: string, expiresAt: number, now: number): void {
    // Insertion order is roughly expiry order (created ≈ now), so expired ones sit at the front.
    for (const [k, e] of this.#entries) {
      if (e >= now) break;
      this.#entries.delete(k);
    }
    this.#entries.delete(key);
    while (this.#entries.size >= this.#max) {
      const [k, e] = this.#entries.entries().next().value as [string, number];
      this.#entries.delete(k);
      if (e >= now) this.#floor = Math.max(this.#floor, e);
    }
    this.#entries.set(key, expiresAt);
  }
}

/** What {@link verifyRequestHead} checks: the request's head, no body. */
export interface VerifyRequestHeadInput {
  /** The `Parley-Signature` header value, or undefined when absent. */
  readonly header: string | undefined;
  /** The `Content-Digest` header value (RFC 9530): the digest the signature is checked over. */
  readonly contentDigest: string;
  readonly accord: VerifiedAccord;
  /** Our own party id: requests signed for anyone else fail. */
  readonly to: string;
  readonly method: string;
  /** The request target exactly as received (path and query, not decoded). */
  readonly path: string;
  /** POSIX seconds. */
  readonly now: number;
  /** Default {@link DEFAULT_MAX_SKEW_SECONDS}; an integer in 1 … 3600. */
  readonly maxSkewSeconds?: number;
  /** When given, a nonce it already holds is refused now (only read: nothing is recorded). */
  readonly seen?: NonceCache;
}

/** What {@link verifyRequest} checks. */
export interface VerifyRequestInput extends Omit<VerifyRequestHeadInput, 'contentDigest' | 'seen'> {
  /** The exact body bytes received (empty when none). */
  readonly body: Uint8Array;
  /** The `Content-Digest` header value when one was sent: it must then name the body's digest. */
  readonly contentDigest?: string | undefined;
  readonly seen: NonceCache;
}

/** A request whose signature verified. */
export interface AuthenticatedRequest {
  /** The sending party, authenticated by its log key in the accord. */
  readonly party: string;
  readonly created: number;
  readonly nonce: string;
}

/** A request head whose signature verified over the digest its `Content-Digest` names; the body is still to check. */
export interface VerifiedRequestHead extends AuthenticatedRequest {
  /** SHA-256 of the body the sender signed. */
  readonly digest: Uint8Array;
  /** Last second (POSIX) at which the nonce could be accepted: created + max skew. */
  readonly expiresAt: number;
}

function skewOf(maxSkewSeconds: number | undefined): number {
  const skew = maxSkewSeconds ?? DEFAULT_MAX_SKEW_SECONDS;
  if (!Number.isSafeInteger(skew) || skew < 1 || skew > 3600) throw new RangeError('maxSkewSeconds must be an integer in 1 … 3600');
  return skew;
}

/** Every check but the nonce's, with the signature taken over the body digest `digestOf()` gives (computed only for a plausible header). */
function checkSignature(input: Omit<VerifyRequestHeadInput, 'contentDigest' | 'seen'>, digestOf: () => Uint8Array): VerifiedRequestHead {
  const skew = skewOf(input.maxSkewSeconds);
  if (input.header === undefined || input.header === '') unauthenticated(`no ${REQUEST_SIGNATURE_HEADER} header`);
  const s = parseRequestSignature(input.header);
  const sender = input.accord.party(s.party);
  if (!sender || s.party === input.to) unauthenticated('sender is not another party of the accord');
  if (!(Math.abs(input.now - s.created) <= skew)) unauthenticated('created is outside the allowed clock skew');
  const digest = digestOf();
  let base: string;
  try {
    base = baseOverDigest({ accordId: input.accord.id, from: s.party, to: input.to, method: input.method, path: input.path, created: s.created, nonce: s.nonce }, digest);
  } catch (e) {
    if (!isParleyError(e)) throw e;
    return unauthenticated('request cannot have been signed', e);
  }
  if (!sender.verify(encodeUtf8(base), parseBase64(s.sig))) unauthenticated('signature does not verify');
  return { party: s.party, created: s.created, nonce: s.nonce, digest, expiresAt: s.created + skew };
}

function nonceKey(r: AuthenticatedRequest): string {
  return `${r.party} ${r.nonce}`;
}

/**
 * Authenticates a request from its head alone, before its body is read: the
 * signature is checked over the digest the `Content-Digest` header names
 * (module doc). Pure: no nonce is recorded — call {@link verifyRequestBody}
 * with the body before acting on the request.
 * @returns the verified head, to pass to {@link verifyRequestBody}.
 * @throws ParseError `REQUEST_SIGNATURE_MALFORMED` / `CONTENT_DIGEST_MALFORMED`
 *   for a header that does not parse; VerificationError `REQUEST_UNAUTHENTICATED`
 *   for everything else (a replay only when `seen` is given); RangeError for a bad `maxSkewSeconds`.
 * @example const head = verifyRequestHead({ header, contentDigest: req.headers['content-digest'], accord, to: 'CN', method: 'POST', path: req.url, now: Date.now() / 1000 })
 */
export function verifyRequestHead(input: VerifyRequestHeadInput): VerifiedRequestHead {
  skewOf(input.maxSkewSeconds);
  if (input.header === undefined || input.header === '') unauthenticated(`no ${REQUEST_SIGNATURE_HEADER} header`);
  const digest = parseContentDigest(input.contentDigest);
  const head = checkSignature(input, () => digest);
  if (input.seen?.has(nonceKey(head), head.expiresAt, input.now)) unauthenticated('nonce seen before (replay)');
  return head;
}

/** What {@link verifyRequestBody} checks. */
export interface VerifyRequestBodyInput {
  /** From {@link verifyRequestHead}. */
  readonly head: VerifiedRequestHead;
  /** The exact body bytes received (empty when none). */
  readonly body: Uint8Array;
  /** POSIX seconds. */
  readonly now: number;
  readonly seen: NonceCache;
}

/**
 * Completes {@link verifyRequestHead} once the body is in: the body must be
 * the one the header (so the signature) names; then the nonce is checked
 * and recorded, as {@link verifyRequest} does.
 * @throws VerificationError `CONTENT_DIGEST_MISMATCH` (nonce not recorded), `REQUEST_UNAUTHENTICATED` (replay).
 */
export function verifyRequestBody(input: VerifyRequestBodyInput): AuthenticatedRequest {
  const { head } = input;
  if (!bytesEqual(getCrypto().sha256(input.body), head.digest)) fail('CONTENT_DIGEST_MISMATCH', 'the body is not the one its Content-Digest and signature name');
  const key = nonceKey(head);
  if (input.seen.has(key, head.expiresAt, input.now)) unauthenticated('nonce seen before (replay)');
  input.seen.add(key, head.expiresAt, input.now);
  return { party: head.party, created: head.created, nonce: head.nonce };
}

/**
 * Authenticates a federation request and records its nonce. With a
 * `contentDigest` it is {@link verifyRequestHead} then
 * {@link verifyRequestBody}; without, the signature is checked over the body.
 * @returns the authenticated sender.
 * @throws ParseError `REQUEST_SIGNATURE_MALFORMED` / `CONTENT_DIGEST_MALFORMED`
 *   for a header that does not parse; VerificationError `CONTENT_DIGEST_MISMATCH`
 *   for a body other than the header's; `REQUEST_UNAUTHENTICATED` for
 *   everything else (see the module doc); RangeError for a bad `maxSkewSeconds`.
 * @example const { party } = verifyRequest({ header: req.headers['parley-signature'], accord, to: 'CN', method: req.method, path: req.url, body, now: Date.now() / 1000, seen })
 */
export function verifyRequest(input: VerifyRequestInput): AuthenticatedRequest {
  const { body, contentDigest, seen, ...rest } = input;
  const head = contentDigest !== undefined ? verifyRequestHead({ ...rest, contentDigest }) : checkSignature(rest, () => getCrypto().sha256(body));
  return verifyRequestBody({ head, body, now: input.now, seen });
}
