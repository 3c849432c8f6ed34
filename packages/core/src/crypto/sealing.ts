/**
 * HPKE's way to the crypto provider: the active binding with its X25519,
 * HMAC and AEAD primitives, `nobleCrypto` until `setCrypto` chooses
 * another. Only `envelope/` imports this module; it is the one place
 * verifying code would otherwise reach `@noble/ciphers` (see provider.ts).
 */
import { nobleCrypto } from './noble.js';
import { type CryptoProvider, chosenCrypto } from './provider.js';

/** The active binding with the HPKE primitives (`nobleCrypto` by default). */
export function getSealingCrypto(): CryptoProvider {
  return chosenCrypto() ?? nobleCrypto;
}
