/**
 * The crypto provider: the one place core gets SHA-256, Ed25519 and random
 * bytes from.
 *
 * Core has no I/O and no Node-only imports, so it cannot call `node:crypto`
 * directly. Instead every hash and signature goes through the active
 * {@link CryptoProvider}. Two bindings exist:
 *
 * - `nobleCrypto` (`./noble.ts`): `@noble/hashes`, `@noble/curves` and
 *   `@noble/ciphers`, pure JS, runs anywhere. It is the default, so core is correct in a browser with no
 *   set-up.
 *
 * The default is reached in two halves, so a bundler leaves out what a page
 * never runs: {@link getCrypto} gives hashing and signatures
 * (`./nobleSigning.ts` by default) and is what verifying code calls;
 * `getSealingCrypto` (`./sealing.ts`) gives the whole binding, HPKE
 * primitives included, and only `envelope/` imports it. A bundle that
 * never seals or opens a body (the dashboard) thus carries no
 * `@noble/ciphers`, no X25519 and no HMAC: this module must not import
 * `./noble.ts`.
 * - `nodeCrypto` (`./node.ts`, reached through `@parley/core/node`):
 *   `node:crypto`, about 12–16× faster for Ed25519 and the fastest SHA-256 path
 *   on Node (one-shot `crypto.hash`). Importing `@parley/core/node` activates it.
 *
 * Both bindings run the same vector tests (test/crypto-providers.test.ts).
 *
 * Ed25519 is RFC 8032 "pure" Ed25519 with a 32-byte seed as the private key;
 * signers and verifiers are created once per key so a binding can cache its
 * native key objects.
 *
 * The HPKE primitives (RFC 9180, see `envelope/hpke.ts`) are raw and one-shot:
 * - X25519 (RFC 7748 §5): 32-byte private keys (clamped inside the function,
 *   never stored clamped) and 32-byte u-coordinates. An all-zero shared secret
 *   (a low-order public key) is refused, as RFC 9180 §7.1.4 requires.
 * - HMAC-SHA-256 (RFC 2104); HKDF (RFC 5869) is built on it in core so the
 *   labeled Extract/Expand of RFC 9180 §4 are byte-exact in every binding.
 * - AEADs in the RFC 5116 shape, ciphertext = encrypted bytes || 16-byte tag:
 *   AES-GCM (NIST SP 800-38D; 16-byte key = AES-128, 32-byte key = AES-256)
 *   and ChaCha20-Poly1305 (RFC 8439 §2.8), both with 12-byte nonces. `…Open`
 *   returns `undefined` for any ciphertext that does not authenticate —
 *   including one shorter than the tag — and never throws on it.
 *
 * Merkle code stays synchronous, so every function here is synchronous.
 */
import { nobleSigning } from './nobleSigning.js';

/** Signs messages with one Ed25519 key (RFC 8032 §5.1.6). */
export type Ed25519Sign = (message: Uint8Array) => Uint8Array;
/** Verifies RFC 8032 §5.1.7 Ed25519 signatures under one public key. */
export type Ed25519Verify = (message: Uint8Array, signature: Uint8Array) => boolean;

export interface CryptoProvider {
  /** Short name for diagnostics and benchmarks, e.g. `"node:crypto"`. */
  readonly name: string;
  /** SHA-256 (FIPS 180-4) of `data`; returns 32 fresh bytes. */
  sha256(data: Uint8Array): Uint8Array;
  /** The 32-byte Ed25519 public key of a 32-byte seed (RFC 8032 §5.1.5). */
  ed25519PublicKey(seed: Uint8Array): Uint8Array;
  /** A signing function bound to `seed` (32 bytes). */
  ed25519Signer(seed: Uint8Array): Ed25519Sign;
  /**
   * A verifying function bound to `publicKey` (32 bytes). It returns false —
   * never throws — for a signature of the wrong length or a key that is not a
   * valid curve point.
   */
  ed25519Verifier(publicKey: Uint8Array): Ed25519Verify;
  /** `n` bytes from a cryptographically secure generator. */
  randomBytes(n: number): Uint8Array;

  /**
   * The X25519 public key of a 32-byte private key: X25519(k, 9) (RFC 7748 §6.1).
   * @throws ParseError `KEY_MALFORMED` if `privateKey` is not 32 bytes.
   */
  x25519PublicKey(privateKey: Uint8Array): Uint8Array;
  /**
   * The X25519 shared secret X25519(privateKey, publicKey) (RFC 7748 §5).
   * @throws ParseError `KEY_MALFORMED` if a key is not 32 bytes or the result
   *   is all zero (low-order public key; RFC 9180 §7.1.4, RFC 7748 §6.1).
   */
  x25519(privateKey: Uint8Array, publicKey: Uint8Array): Uint8Array;
  /** HMAC-SHA-256 (RFC 2104) of `data` under `key`; 32 bytes. */
  hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array;
  /** AES-GCM seal; `key` is 16 (AES-128) or 32 (AES-256) bytes, `nonce` 12. Returns ciphertext || tag. */
  aesGcmSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** AES-GCM open; the plaintext, or `undefined` if `ciphertext` does not authenticate. */
  aesGcmOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined;
  /** ChaCha20-Poly1305 seal (RFC 8439 §2.8); 32-byte key, 12-byte nonce. Returns ciphertext || tag. */
  chacha20Poly1305Seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** ChaCha20-Poly1305 open; the plaintext, or `undefined` if `ciphertext` does not authenticate. */
  chacha20Poly1305Open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): Uint8Array | undefined;
}

/** The part of a binding that hashing, signing and verifying use: all a verifier needs. */
export type SigningCrypto = Pick<CryptoProvider, 'name' | 'sha256' | 'ed25519PublicKey' | 'ed25519Signer' | 'ed25519Verifier' | 'randomBytes'>;

/** The binding set with {@link setCrypto}; undefined: the @noble default. */
let active: CryptoProvider | undefined;

/**
 * Chooses the binding every core function uses from now on.
 * @param provider `nodeCrypto` or `nobleCrypto` (or a test double in tests);
 *   undefined goes back to the default.
 * @returns the previously chosen provider (undefined: the default), so
 *   tests can restore it.
 */
export function setCrypto(provider: CryptoProvider | undefined): CryptoProvider | undefined {
  const previous = active;
  active = provider;
  return previous;
}

/** The active binding's hashes and signatures (@noble's until {@link setCrypto} is called). */
export function getCrypto(): SigningCrypto {
  return active ?? nobleSigning;
}

/** The binding chosen with {@link setCrypto}, if any (for `./sealing.ts`). */
export function chosenCrypto(): CryptoProvider | undefined {
  return active;
}

/** SHA-256 through the active provider. */
export function sha256(data: Uint8Array): Uint8Array {
  return getCrypto().sha256(data);
}
