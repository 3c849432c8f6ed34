/**
 * RFC 6962 §2.1 / RFC 9162 §2.1.1 Merkle tree hashing.
 *
 *     leaf hash  = SHA-256(0x00 || leaf input)
 *     node hash  = SHA-256(0x01 || left || right)
 *     MTH({})    = SHA-256("")                    (the empty tree)
 *     MTH(D[n])  = node(MTH(D[0:k]), MTH(D[k:n])), k = largest power of two < n
 *
 * The 0x00/0x01 prefixes separate leaves from interior nodes, so no leaf can
 * be passed off as a subtree (second-preimage resistance, RFC 9162 §2.1.1).
 *
 * Tree sizes and indexes are JS numbers below 2^53 and never go through
 * bitwise operators (which would truncate them to 32 bits).
 */
import { getCrypto } from '../crypto/provider.js';
import { fail } from '../errors.js';

/** A 32-byte SHA-256 hash: leaf hash, node hash or root hash. */
export type Hash = Uint8Array;

/** Size in bytes of every {@link Hash}. */
export const HASH_SIZE = 32;

const scratch = new Uint8Array(1 + 2 * HASH_SIZE);

/**
 * RFC 6962 §2.1: the hash of a leaf, `SHA-256(0x00 || data)`.
 * @param data the leaf input (a log entry's bytes).
 * @returns a fresh 32-byte hash.
 * @example leafHash(new Uint8Array()) // 6e340b9c…afa01d
 */
export function leafHash(data: Uint8Array): Hash {
  // Small entries reuse one buffer: an allocation per leaf was a measurable
  // share of the append rate (bench/log-core.mjs).
  const buf = data.length < leafScratch.length ? leafScratch.subarray(0, 1 + data.length) : new Uint8Array(1 + data.length);
  buf[0] = 0x00;
  buf.set(data, 1);
  return getCrypto().sha256(buf);
}

const leafScratch = new Uint8Array(4096);

/**
 * RFC 6962 §2.1: the hash of an interior node, `SHA-256(0x01 || left || right)`.
 * @param left  32-byte hash of the left subtree.
 * @param right 32-byte hash of the right subtree.
 * @returns a fresh 32-byte hash.
 */
export function nodeHash(left: Hash, right: Hash): Hash {
  // Callers pass 32-byte hashes; a shorter one would leave stale bytes in the
  // scratch buffer, so the lengths are part of the contract, checked cheaply.
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    throw new Error('internal: nodeHash needs two 32-byte hashes');
  }
  scratch[0] = 0x01;
  scratch.set(left, 1);
  scratch.set(right, 1 + HASH_SIZE);
  return getCrypto().sha256(scratch);
}

/** RFC 6962 §2.1: MTH({}) = SHA-256(""), the root of the empty tree. */
export function emptyRoot(): Hash {
  return getCrypto().sha256(new Uint8Array(0));
}

/**
 * Checks that `h` is a 32-byte hash.
 * @throws ParseError `HASH_INVALID`.
 */
export function assertHash(h: Uint8Array, what = 'hash'): Hash {
  if (h.length !== HASH_SIZE) fail('HASH_INVALID', `${what}: ${h.length} bytes, want ${HASH_SIZE}`);
  return h;
}

/**
 * The largest power of two strictly smaller than `n` (n ≥ 2): the split
 * point k of RFC 6962 §2.1.
 */
export function splitPoint(n: number): number {
  // k = 2^⌊log2(n − 1)⌋ from the leading-zero count of n − 1, taken on exact
  // 32-bit halves so sizes up to 2^53 stay exact (the hottest line of proof
  // generation: Math.log2 and a correction loop were 30% of its time).
  const m = n - 1;
  if (m < 4294967296) return POW2[31 - Math.clz32(m)]!;
  return POW2[63 - Math.clz32(Math.floor(m / 4294967296))]!;
}

/** 2^i for i in 0..63, exact (a table lookup is faster than `**` on hot paths). */
export const POW2: readonly number[] = Array.from({ length: 64 }, (_, i) => 2 ** i);

/** True when n is a valid tree size or index: an integer in [0, 2^53). */
export function isTreeSize(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
