/**
 * Pure-JS crypto binding (`@noble/hashes`, `@noble/curves`, `@noble/ciphers`):
 * runs in any JavaScript engine, used by default and in the browser.
 * Hashing and signatures come from `./nobleSigning.ts`; this module adds
 * the HPKE primitives and is reached only through `./sealing.ts` (and by
 * name, `nobleCrypto`), so verifying code never pulls it into a bundle.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import type { CryptoProvider } from './provider.js';
import { nobleSigning } from './nobleSigning.js';
import { fail } from '../errors.js';

const TAG = 16;

function key32(key: Uint8Array, kind: string): Uint8Array {
  if (key.length !== 32) fail('KEY_MALFORMED', `X25519 ${kind} key must be 32 bytes`);
  return key;
}

function gcmKey(key: Uint8Array): Uint8Array {
  if (key.length !== 16 && key.length !== 32) throw new RangeError('internal: AES-GCM key must be 16 or 32 bytes');
  return key;
}

/** Runs a noble AEAD decryption; its tag mismatch (a throw) becomes `undefined`. */
function tryOpen(decrypt: () => Uint8Array, ct: Uint8Array): Uint8Array | undefined {
  if (ct.length < TAG) return undefined;
  try {
    return decrypt();
  } catch {
    return undefined;
  }
}

/** The whole binding: {@link nobleSigning} plus the HPKE primitives (X25519, HMAC-SHA-256, AES-GCM, ChaCha20-Poly1305). */
export const nobleCrypto: CryptoProvider = {
  ...nobleSigning,
  x25519PublicKey: (privateKey) => x25519.getPublicKey(key32(privateKey, 'private')),
  x25519: (privateKey, publicKey) => {
    let shared: Uint8Array;
    try {
      // noble throws on an all-zero result ("invalid private or public key received").
      shared = x25519.getSharedSecret(key32(privateKey, 'private'), key32(publicKey, 'public'));
    } catch (e) {
      return fail('KEY_MALFORMED', 'X25519: low-order public key (all-zero shared secret)', e);
    }
    if (shared.every((b) => b === 0)) fail('KEY_MALFORMED', 'X25519: low-order public key (all-zero shared secret)');
    return shared;
  },
  hmacSha256: (key, data) => hmac(sha256, key, data),
  aesGcmSeal: (key, nonce, aad, pt) => gcm(gcmKey(key), nonce, aad).encrypt(pt),
  aesGcmOpen: (key, nonce, aad, ct) => tryOpen(() => gcm(gcmKey(key), nonce, aad).decrypt(ct), ct),
  chacha20Poly1305Seal: (key, nonce, aad, pt) => chacha20poly1305(key, nonce, aad).encrypt(pt),
  chacha20Poly1305Open: (key, nonce, aad, ct) => tryOpen(() => chacha20poly1305(key, nonce, aad).decrypt(ct), ct),
};
