/**
 * HKDF-SHA-256 (RFC 5869) on the provider's HMAC-SHA-256.
 *
 *     PRK  = HMAC-Hash(salt, IKM)                          Extract, §2.2 (salt "" = 32 zero bytes)
 *     T(0) = ""
 *     T(i) = HMAC-Hash(PRK, T(i-1) || info || i)           Expand, §2.3 (i one byte, 1…255)
 *     OKM  = first L bytes of T(1) || T(2) || …            L ≤ 255 · 32
 *
 * Built here rather than taken from a binding so RFC 9180's labeled
 * Extract/Expand (§4) are the same bytes in every binding: the labels are part
 * of IKM and info, and node:crypto's `hkdfSync` would hide the two steps.
 *
 * Example (RFC 5869 A.1): Extract(0x000102…0c, 0x0b × 22) = 077709362c2e32df…
 */
import { getSealingCrypto } from '../crypto/sealing.js';

/** SHA-256 output length in bytes (RFC 5869 "HashLen"). */
export const HKDF_SHA256_HASH_LEN = 32;

const ZERO_SALT = new Uint8Array(HKDF_SHA256_HASH_LEN);

/**
 * HKDF-Extract (RFC 5869 §2.2).
 * @param salt optional salt; an empty one means HashLen zero bytes.
 * @param ikm input keying material.
 * @returns the 32-byte pseudorandom key.
 */
export function hkdfExtract(salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  return getSealingCrypto().hmacSha256(salt.length === 0 ? ZERO_SALT : salt, ikm);
}

/**
 * HKDF-Expand (RFC 5869 §2.3).
 * @param prk a pseudorandom key of at least HashLen bytes (from {@link hkdfExtract}).
 * @param info context and application specific information.
 * @param length output length in bytes, 0 … 255 · 32.
 * @returns `length` bytes of output keying material.
 * @throws RangeError for a length above 255 · 32 (a caller bug: RFC 9180 lengths are fixed).
 */
export function hkdfExpand(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  if (!Number.isInteger(length) || length < 0 || length > 255 * HKDF_SHA256_HASH_LEN) {
    throw new RangeError('internal: HKDF-Expand length out of range');
  }
  const hmac = getSealingCrypto().hmacSha256;
  const out = new Uint8Array(length);
  const block = new Uint8Array(HKDF_SHA256_HASH_LEN + info.length + 1);
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1, o = 0; o < length; i++) {
    // T(i) = HMAC(PRK, T(i-1) || info || i); T(0) is empty, so the first block is shorter.
    const input = i === 1 ? block.subarray(HKDF_SHA256_HASH_LEN) : block;
    if (i > 1) block.set(t, 0);
    block.set(info, HKDF_SHA256_HASH_LEN);
    block[block.length - 1] = i;
    t = hmac(prk, input);
    out.set(t.subarray(0, Math.min(t.length, length - o)), o);
    o += t.length;
  }
  return out;
}
