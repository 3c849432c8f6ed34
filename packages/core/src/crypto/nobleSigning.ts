/**
 * The hashing and signature half of the pure-JS binding (`@noble/hashes`
 * sha2, `@noble/curves` ed25519): what {@link getCrypto} gives until another
 * binding is set. It is its own module, importing nothing from
 * `@noble/ciphers`, so a bundle that only verifies (the dashboard) never
 * reaches AEAD, X25519 or HMAC code: `./noble.ts` adds those, and only
 * `./sealing.ts` (HPKE's way in) imports it.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import type { SigningCrypto } from './provider.js';

export const nobleSigning: SigningCrypto = {
  name: '@noble',
  sha256: (data) => sha256(data),
  ed25519PublicKey: (seed) => ed25519.getPublicKey(seed),
  ed25519Signer: (seed) => {
    const key = Uint8Array.from(seed);
    return (message) => ed25519.sign(message, key);
  },
  ed25519Verifier: (publicKey) => {
    const key = Uint8Array.from(publicKey);
    return (message, signature) => {
      if (signature.length !== 64 || key.length !== 32) return false;
      try {
        // zip215: false = RFC 8032 §5.1.7 rules, the same as node:crypto/OpenSSL.
        return ed25519.verify(signature, message, key, { zip215: false });
      } catch {
        return false;
      }
    };
  },
  randomBytes: (n) => randomBytes(n),
};
