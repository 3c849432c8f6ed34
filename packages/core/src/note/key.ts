/**
 * Note keys: verifier keys ("vkeys") and signer keys ("skeys") in the text
 * format of C2SP signed-note and Go `golang.org/x/mod/sumdb/note`.
 *
 * Format (C2SP signed-note §"Verifier keys"; Go `NewVerifier`, `NewSigner`):
 *
 *     vkey   = name "+" hex8(key ID) "+" base64(signature type || public key)
 *     skey   = "PRIVATE+KEY+" name "+" hex8(key ID) "+" base64(signature type || seed)
 *     key ID = SHA-256(name || 0x0A || signature type || public key)[:4], big-endian uint32
 *
 * Example:
 *
 *     PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW
 *
 * A vkey is split on its FIRST TWO `+` only: base64 may itself contain `+`
 * (`sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8`).
 *
 * Signature types (C2SP signed-note §"Signature types", tlog-cosignature):
 * - `0x01` Ed25519 over the note text (64-byte signature);
 * - `0x04` cosignature/v1: Ed25519 over a timestamped message (see
 *   `cosignature.ts`);
 * - `0x06` ML-DSA-44 subtree/v1 cosignatures: recognised by name, reported as
 *   `KEY_UNSUPPORTED` (not implemented);
 * - anything else: `KEY_UNSUPPORTED`.
 *
 * Strictness beyond Go: the key ID must be exactly 8 lowercase hex digits and
 * the base64 must be canonical (what we print is the only spelling we accept).
 * Names follow Go `isValidName`: non-empty, valid UTF-8 (JS strings: no lone
 * surrogates), no Unicode White_Space, no `+`.
 */
import { fail } from '../errors.js';
import { concatBytes, encodeUtf8, formatBase64, formatHex, parseBase64, parseHex } from '../encoding.js';
import { getCrypto } from '../crypto/provider.js';

/** Signature type byte for plain Ed25519 note signatures (C2SP signed-note). */
export const SIG_TYPE_ED25519 = 0x01;
/** Signature type byte for timestamped Ed25519 cosignatures (C2SP tlog-cosignature, cosignature/v1). */
export const SIG_TYPE_COSIGNATURE_V1 = 0x04;
/** Signature type byte for ML-DSA-44 cosignatures (C2SP tlog-cosignature, subtree/v1); not implemented. */
export const SIG_TYPE_MLDSA44_SUBTREE_V1 = 0x06;

/** What we know about a signature type: its name, key length, and whether we implement it. */
export interface KeyTypeInfo {
  readonly name: string;
  readonly publicKeyLength: number;
  readonly supported: boolean;
}

/** Registry of signature types we recognise. Only `supported` ones can be parsed into keys. */
export const KEY_TYPES: ReadonlyMap<number, KeyTypeInfo> = new Map<number, KeyTypeInfo>([
  [SIG_TYPE_ED25519, { name: 'ed25519', publicKeyLength: 32, supported: true }],
  [SIG_TYPE_COSIGNATURE_V1, { name: 'cosignature/v1', publicKeyLength: 32, supported: true }],
  // FIPS 204 ML-DSA-44 public keys are 1312 bytes (C2SP tlog-cosignature §Format).
  [SIG_TYPE_MLDSA44_SUBTREE_V1, { name: 'subtree/v1 (ML-DSA-44)', publicKeyLength: 1312, supported: false }],
]);

/** The signature types this module implements. */
export type SupportedKeyType = typeof SIG_TYPE_ED25519 | typeof SIG_TYPE_COSIGNATURE_V1;

/** A parsed verifier key. `type` discriminates how signatures are checked. */
export interface VerifierKey {
  readonly name: string;
  /** Key ID as an unsigned 32-bit integer (0 … 2^32 − 1). */
  readonly keyId: number;
  readonly type: SupportedKeyType;
  /** 32-byte Ed25519 public key (both supported types). */
  readonly publicKey: Uint8Array;
}

/** A parsed signer key: a verifier key plus its 32-byte Ed25519 seed. */
export interface SignerKey extends VerifierKey {
  readonly seed: Uint8Array;
}

/** The raw fields of a vkey, split but not validated (see {@link splitVerifierKey}). */
export interface VerifierKeyParts {
  readonly name: string;
  readonly keyId: number;
  readonly type: number;
  readonly publicKey: Uint8Array;
}

const MAX_KEY_LENGTH = 8192;
const SKEY_PREFIX = 'PRIVATE+KEY+';
const WHITE_SPACE = /\p{White_Space}/u;
const LONE_SURROGATE = /\p{Cs}/u;
const HEX8 = /^[0-9a-f]{8}$/;

/**
 * Reports whether `name` is a valid key name (C2SP signed-note §Format: "Key
 * names MUST be non-empty and MUST NOT contain any Unicode spaces or plus";
 * Go `isValidName`).
 * @param name candidate key name.
 * @returns true when valid.
 * @example isValidKeyName('example.com/foo') // true
 */
export function isValidKeyName(name: string): boolean {
  return name !== '' && !name.includes('+') && !WHITE_SPACE.test(name) && !LONE_SURROGATE.test(name);
}

/**
 * Computes a key ID (C2SP signed-note §Signatures):
 * `SHA-256(name || 0x0A || type || publicKey)[:4]` read big-endian.
 * @param name key name.
 * @param type signature type byte.
 * @param publicKey public key bytes as encoded in the vkey.
 * @returns the key ID as an unsigned 32-bit integer.
 * @example keyId('PeterNeumann', 0x01, pub) // 0xc74f20a3
 */
export function keyId(name: string, type: number, publicKey: Uint8Array): number {
  const h = getCrypto().sha256(concatBytes(encodeUtf8(name), Uint8Array.of(0x0a, type), publicKey));
  return readUint32(h, 0);
}

/** Big-endian uint32 at `offset` (arithmetic, no bitwise operators). */
export function readUint32(bytes: Uint8Array, offset: number): number {
  return ((bytes[offset]! * 256 + bytes[offset + 1]!) * 256 + bytes[offset + 2]!) * 256 + bytes[offset + 3]!;
}

/** The 4 big-endian bytes of a uint32 key ID. */
export function keyIdBytes(id: number): Uint8Array {
  return Uint8Array.of(Math.floor(id / 16777216) % 256, Math.floor(id / 65536) % 256, Math.floor(id / 256) % 256, id % 256);
}

/**
 * Formats a key ID as 8 lowercase hex digits, the spelling used in vkeys.
 * @example formatKeyId(0xc74f20a3) // 'c74f20a3'
 */
export function formatKeyId(id: number): string {
  return formatHex(keyIdBytes(id));
}

function parseKeyIdHex(s: string, what: string): number {
  if (!HEX8.test(s)) fail('KEY_MALFORMED', `${what}: key ID is not 8 lowercase hex digits`);
  return readUint32(parseHex(s), 0);
}

function cut(s: string): [string, string] | undefined {
  const i = s.indexOf('+');
  return i < 0 ? undefined : [s.slice(0, i), s.slice(i + 1)];
}

function decodeKeyMaterial(b64: string, what: string): Uint8Array {
  let raw: Uint8Array;
  try {
    raw = parseBase64(b64, what);
  } catch (e) {
    return fail('KEY_MALFORMED', `${what}: key material is not canonical base64`, e);
  }
  if (raw.length === 0) fail('KEY_MALFORMED', `${what}: empty key material`);
  return raw;
}

/**
 * Splits a vkey into its fields without checking type, length or key ID —
 * for diagnostics and tests. Splits on the first two `+` only.
 * @param vkey verifier key string.
 * @returns name, key ID, type byte and key bytes.
 * @throws ParseError `KEY_MALFORMED` if the structure, name, hex or base64 is bad.
 * @example splitVerifierKey('example.com/foo+00000000+++++…').type // 0xfb
 */
export function splitVerifierKey(vkey: string): VerifierKeyParts {
  if (vkey.length > MAX_KEY_LENGTH) fail('KEY_MALFORMED', 'vkey: too long');
  const a = cut(vkey);
  const b = a && cut(a[1]);
  if (a === undefined || b === undefined) fail('KEY_MALFORMED', 'vkey: want name+keyid+key');
  const [name, [hex, b64]] = [a[0], b];
  if (!isValidKeyName(name)) fail('KEY_MALFORMED', 'vkey: invalid key name');
  const id = parseKeyIdHex(hex, 'vkey');
  const raw = decodeKeyMaterial(b64, 'vkey');
  return { name, keyId: id, type: raw[0]!, publicKey: raw.subarray(1) };
}

function checkType(type: number, keyLength: number, what: string): SupportedKeyType {
  const info = KEY_TYPES.get(type);
  if (info === undefined || !info.supported) {
    fail('KEY_UNSUPPORTED', `${what}: signature type 0x${formatHex(Uint8Array.of(type))} (${info?.name ?? 'unknown'}) is not supported`);
  }
  if (keyLength !== info.publicKeyLength) fail('KEY_MALFORMED', `${what}: ${info.name} key must be ${info.publicKeyLength} bytes`);
  return type as SupportedKeyType;
}

/**
 * Parses a verifier key (Go `NewVerifier`, C2SP signed-note "Verifier keys").
 * @param vkey e.g. `PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW`.
 * @returns the key; `type` is 0x01 or 0x04.
 * @throws ParseError `KEY_MALFORMED` (structure, name, encoding, key length),
 *   `KEY_UNSUPPORTED` (type other than 0x01/0x04, including ML-DSA-44 0x06),
 *   `KEY_ID_MISMATCH` (key ID is not the hash of name, type and key).
 * @example parseVerifierKey(vkey).name // 'PeterNeumann'
 */
export function parseVerifierKey(vkey: string): VerifierKey {
  const parts = splitVerifierKey(vkey);
  const type = checkType(parts.type, parts.publicKey.length, 'vkey');
  const publicKey = Uint8Array.from(parts.publicKey);
  if (keyId(parts.name, type, publicKey) !== parts.keyId) fail('KEY_ID_MISMATCH', 'vkey: key ID does not match the key');
  return { name: parts.name, keyId: parts.keyId, type, publicKey };
}

/**
 * Formats a verifier key as `name+hex8+base64(type||key)`.
 * @param key a key from {@link parseVerifierKey} or {@link verifierKeyOf}.
 * @returns the vkey string.
 * @example formatVerifierKey(parseVerifierKey(s)) === s
 */
export function formatVerifierKey(key: VerifierKey): string {
  return `${key.name}+${formatKeyId(key.keyId)}+${formatBase64(concatBytes(Uint8Array.of(key.type), key.publicKey))}`;
}

/**
 * Builds a verifier key from a name, type and 32-byte Ed25519 public key,
 * computing the key ID (Go `NewEd25519VerifierKey`).
 * @throws ParseError `KEY_MALFORMED` for a bad name or key length.
 * @example newVerifierKey('example.com/log', 0x01, pub)
 */
export function newVerifierKey(name: string, type: SupportedKeyType, publicKey: Uint8Array): VerifierKey {
  if (!isValidKeyName(name)) fail('KEY_MALFORMED', 'invalid key name');
  checkType(type, publicKey.length, 'key');
  const pub = Uint8Array.from(publicKey);
  return { name, keyId: keyId(name, type, pub), type, publicKey: pub };
}

/**
 * Parses a signer key `PRIVATE+KEY+name+hex8+base64(type||seed)` (Go
 * `NewSigner`). Type 0x01 is Go's format; we also accept 0x04 for a witness
 * cosigner key (same seed, key ID computed with 0x04). The key ID is checked
 * against the public key derived from the seed.
 * @throws ParseError `KEY_MALFORMED`, `KEY_UNSUPPORTED`, `KEY_ID_MISMATCH`.
 * @example parseSignerKey('PRIVATE+KEY+PeterNeumann+c74f20a3+AYEK…').keyId
 */
export function parseSignerKey(skey: string): SignerKey {
  if (skey.length > MAX_KEY_LENGTH || !skey.startsWith(SKEY_PREFIX)) fail('KEY_MALFORMED', 'skey: want PRIVATE+KEY+name+keyid+key');
  const rest = skey.slice(SKEY_PREFIX.length);
  const a = cut(rest);
  const b = a && cut(a[1]);
  if (a === undefined || b === undefined) fail('KEY_MALFORMED', 'skey: want PRIVATE+KEY+name+keyid+key');
  const name = a[0];
  if (!isValidKeyName(name)) fail('KEY_MALFORMED', 'skey: invalid key name');
  const id = parseKeyIdHex(b[0], 'skey');
  const raw = decodeKeyMaterial(b[1], 'skey');
  const type = checkType(raw[0]!, raw.length - 1, 'skey');
  const seed = raw.slice(1);
  const publicKey = getCrypto().ed25519PublicKey(seed);
  if (keyId(name, type, publicKey) !== id) fail('KEY_ID_MISMATCH', 'skey: key ID does not match the key');
  return { name, keyId: id, type, publicKey, seed };
}

/**
 * Formats a signer key in Go's `PRIVATE+KEY+…` format. The result is secret.
 * @example formatSignerKey(parseSignerKey(s)) === s
 */
export function formatSignerKey(key: SignerKey): string {
  return `${SKEY_PREFIX}${key.name}+${formatKeyId(key.keyId)}+${formatBase64(concatBytes(Uint8Array.of(key.type), key.seed))}`;
}

/**
 * Builds a signer key from a 32-byte seed (deterministic; for tests and
 * imports). Use {@link generateSignerKey} for a fresh key.
 * @throws ParseError `KEY_MALFORMED` for a bad name or seed length.
 */
export function signerKeyFromSeed(name: string, seed: Uint8Array, type: SupportedKeyType = SIG_TYPE_ED25519): SignerKey {
  if (seed.length !== 32) fail('KEY_MALFORMED', 'Ed25519 seed must be 32 bytes');
  const vk = newVerifierKey(name, type, getCrypto().ed25519PublicKey(seed));
  return { ...vk, seed: Uint8Array.from(seed) };
}

/**
 * Generates a new Ed25519 signer key from `getCrypto().randomBytes` (Go
 * `GenerateKey`). Pass type 0x04 for a witness (cosignature/v1) key.
 * @param name key name (Go `isValidName`).
 * @returns the signer key; {@link verifierKeyOf} gives its public half.
 * @throws ParseError `KEY_MALFORMED` for an invalid name.
 * @example formatSignerKey(generateSignerKey('example.com/log'))
 */
export function generateSignerKey(name: string, type: SupportedKeyType = SIG_TYPE_ED25519): SignerKey {
  return signerKeyFromSeed(name, getCrypto().randomBytes(32), type);
}

/** The public half of a signer key. */
export function verifierKeyOf(key: SignerKey): VerifierKey {
  return { name: key.name, keyId: key.keyId, type: key.type, publicKey: key.publicKey };
}

/**
 * The cosignature/v1 form of a key: a 0x04 key is returned as is; a 0x01 key
 * is re-typed to 0x04 with its key ID recomputed (the behaviour of
 * transparency-dev/formats `NewVerifierForCosignatureV1`). Works for signer
 * and verifier keys alike.
 * @example cosignerKey(parseVerifierKey('TEST+7997405c+AQcC…')).type // 0x04
 */
export function cosignerKey<K extends VerifierKey>(key: K): K {
  if (key.type === SIG_TYPE_COSIGNATURE_V1) return key;
  return { ...key, type: SIG_TYPE_COSIGNATURE_V1, keyId: keyId(key.name, SIG_TYPE_COSIGNATURE_V1, key.publicKey) };
}
