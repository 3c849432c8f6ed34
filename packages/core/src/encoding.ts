/**
 * Strict, canonical encodings shared by every format (STYLE.md §6): each value
 * has exactly one accepted spelling, so `format(parse(s)) === s`.
 *
 * - base64: RFC 4648 §4 standard alphabet with padding; the decoded bytes must
 *   re-encode to the same string (no stray bits, no whitespace).
 * - hex: lowercase only (what we print); {@link parseHexLoose} also takes
 *   uppercase for user input.
 * - decimals: `^(0|[1-9][0-9]*)$`, at most 2^53 − 1.
 * - UTF-8: RFC 3629, no overlongs, no surrogates (WHATWG fatal decoder).
 */
import { fail } from './errors.js';

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_INDEX = new Int16Array(128).fill(-1);
for (let i = 0; i < B64.length; i++) B64_INDEX[B64.charCodeAt(i)] = i;

/** RFC 4648 §4 base64 with padding. */
export function formatBase64(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = bytes[i]! * 65536 + bytes[i + 1]! * 256 + bytes[i + 2]!;
    out += B64[Math.floor(n / 262144)]! + B64[Math.floor(n / 4096) % 64]! + B64[Math.floor(n / 64) % 64]! + B64[n % 64]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]!;
    out += B64[Math.floor(n / 4)]! + B64[(n % 4) * 16]! + '==';
  } else if (rest === 2) {
    const n = bytes[i]! * 256 + bytes[i + 1]!;
    out += B64[Math.floor(n / 1024)]! + B64[Math.floor(n / 16) % 64]! + B64[(n % 16) * 4]! + '=';
  }
  return out;
}

const B64_SHAPE = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Decodes canonical RFC 4648 §4 base64: padded, no whitespace, and the unused
 * bits of the last character zero — checked by re-encoding.
 * @throws ParseError `ENCODING_INVALID` for any other spelling.
 */
export function parseBase64(s: string, what = 'base64'): Uint8Array {
  if (s.length % 4 !== 0 || !B64_SHAPE.test(s)) fail('ENCODING_INVALID', `${what}: not canonical base64`);
  const pad = s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((s.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < s.length; i += 4) {
    let n = 0;
    for (let j = 0; j < 4; j++) {
      const c = s.charCodeAt(i + j);
      n = n * 64 + (c === 61 ? 0 : B64_INDEX[c]!);
    }
    if (o < out.length) out[o++] = Math.floor(n / 65536);
    if (o < out.length) out[o++] = Math.floor(n / 256) % 256;
    if (o < out.length) out[o++] = n % 256;
  }
  if (formatBase64(out) !== s) fail('ENCODING_INVALID', `${what}: not canonical base64`);
  return out;
}

/**
 * RFC 4648 §5 base64url without padding (as JOSE and SD-JWT write it,
 * RFC 7515 §2).
 */
export function formatBase64url(bytes: Uint8Array): string {
  return formatBase64(bytes).replace(/=+$/, '').replaceAll('+', '-').replaceAll('/', '_');
}

const B64URL_SHAPE = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes canonical unpadded base64url (RFC 4648 §5): no padding, no
 * whitespace, unused bits zero — checked by re-encoding.
 * @throws ParseError `ENCODING_INVALID` for any other spelling.
 */
export function parseBase64url(s: string, what = 'base64url'): Uint8Array {
  if (!B64URL_SHAPE.test(s) || s.length % 4 === 1) fail('ENCODING_INVALID', `${what}: not canonical unpadded base64url`);
  const std = s.replaceAll('-', '+').replaceAll('_', '/');
  return parseBase64(std + '='.repeat((4 - (std.length % 4)) % 4), what);
}

const HEX = '0123456789abcdef';

/** Lowercase hex. */
export function formatHex(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b >>> 4]! + HEX[b & 15]!;
  return out;
}

function hexNibble(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * Decodes lowercase hex.
 * @throws ParseError `ENCODING_INVALID` for odd length, uppercase or other characters.
 */
export function parseHex(s: string, what = 'hex'): Uint8Array {
  if (s.length % 2 !== 0) fail('ENCODING_INVALID', `${what}: odd number of hex digits`);
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(s.charCodeAt(2 * i));
    const lo = hexNibble(s.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) fail('ENCODING_INVALID', `${what}: not lowercase hex`);
    out[i] = hi * 16 + lo;
  }
  return out;
}

/** Like {@link parseHex} but accepts uppercase digits too (for typed-in input). */
export function parseHexLoose(s: string, what = 'hex'): Uint8Array {
  return parseHex(s.toLowerCase(), what);
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/**
 * Parses a canonical non-negative decimal: no sign, no leading zeros, at most
 * 2^53 − 1 so it is exact as a JS number.
 * @throws ParseError `ENCODING_INVALID`.
 */
export function parseDecimal(s: string, what = 'number'): number {
  if (s.length > 16 || !DECIMAL.test(s)) fail('ENCODING_INVALID', `${what}: not a canonical decimal`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) fail('ENCODING_INVALID', `${what}: larger than 2^53-1`);
  return n;
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/**
 * Decodes strict UTF-8 (a BOM is kept as U+FEFF, not skipped).
 * @throws ParseError `ENCODING_INVALID` for malformed sequences.
 */
export function decodeUtf8(bytes: Uint8Array, what = 'text'): string {
  try {
    return decoder.decode(bytes);
  } catch (e) {
    return fail('ENCODING_INVALID', `${what}: invalid UTF-8`, e);
  }
}

/** UTF-8 encoding of a string (lone surrogates become U+FFFD). */
export function encodeUtf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** Constant-length byte comparison (not constant-time; used on public data). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Concatenates byte arrays into a new one. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
