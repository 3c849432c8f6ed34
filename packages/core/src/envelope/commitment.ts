/**
 * Salted commitments to a plaintext, so a sealed body can later be disclosed
 * to an auditor and checked against what was logged.
 *
 * Byte layout (all fixed; no length prefixes are needed because the label and
 * the salt have fixed lengths and the plaintext is the only variable part, last):
 *
 *     commitment = SHA-256( "parley/commitment/v1" || 0x00 || salt || plaintext )
 *                           20 ASCII bytes           1      32     0…n bytes
 *
 * - The label separates this hash from every other SHA-256 in Parley (leaf
 *   and node hashes start with 0x00/0x01 directly; key IDs with a name), and
 *   the 0x00 ends it, so no other label can be a prefix (STYLE.md §13).
 * - The 32-byte salt is fresh random bytes per commitment: it hides the
 *   plaintext from anyone who could guess it (a short or low-entropy body)
 *   until the salt is disclosed together with the plaintext.
 *
 * Example (test/vectors/parley/commitment.json): salt = 0x00 0x01 … 0x1f,
 * plaintext = "hello" → commitment given there.
 */
import { getCrypto } from '../crypto/provider.js';
import { bytesEqual, concatBytes, encodeUtf8 } from '../encoding.js';
import { fail } from '../errors.js';

/** Domain-separation label of commitment v1 (ASCII, followed by one 0x00 byte). */
export const COMMITMENT_LABEL = 'parley/commitment/v1';
/** Length in bytes of a commitment salt. */
export const COMMITMENT_SALT_SIZE = 32;

const PREFIX = concatBytes(encodeUtf8(COMMITMENT_LABEL), Uint8Array.of(0x00));

/** A commitment and the salt that opens it (keep the salt secret until disclosure). */
export interface Commitment {
  readonly salt: Uint8Array;
  /** SHA-256 of the layout above; 32 bytes. */
  readonly commitment: Uint8Array;
}

function commitmentHash(salt: Uint8Array, plaintext: Uint8Array): Uint8Array {
  // "parley/commitment/v1" || 0x00 || salt || plaintext (module doc).
  return getCrypto().sha256(concatBytes(PREFIX, salt, plaintext));
}

/**
 * Commits to `plaintext`.
 * @param plaintext the bytes to commit to (for example an entry body before sealing).
 * @param salt 32 bytes; omit it to draw fresh random bytes (the normal case).
 * @returns the salt and the 32-byte commitment.
 * @throws ParseError `COMMITMENT_SALT_INVALID` if `salt` is not 32 bytes.
 * @example const { salt, commitment } = commit(body); // store commitment, keep salt for the auditor
 */
export function commit(plaintext: Uint8Array, salt?: Uint8Array): Commitment {
  const s = salt ?? getCrypto().randomBytes(COMMITMENT_SALT_SIZE);
  if (s.length !== COMMITMENT_SALT_SIZE) fail('COMMITMENT_SALT_INVALID', 'commitment salt must be 32 bytes');
  return { salt: s, commitment: commitmentHash(s, plaintext) };
}

/**
 * Checks that `salt` and `plaintext` open `commitment`.
 * @param commitment the 32-byte commitment that was logged.
 * @param salt the disclosed salt.
 * @param plaintext the disclosed plaintext.
 * @returns true only if the lengths are right and the hash matches; never throws.
 * @example checkCommitment(commitment, salt, body) // true
 */
export function checkCommitment(commitment: Uint8Array, salt: Uint8Array, plaintext: Uint8Array): boolean {
  if (commitment.length !== 32 || salt.length !== COMMITMENT_SALT_SIZE) return false;
  return bytesEqual(commitmentHash(salt, plaintext), commitment);
}
