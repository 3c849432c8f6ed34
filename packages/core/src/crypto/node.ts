/**
 * `node:crypto` binding: the fast path on Node. Only `@parley/core/node`
 * imports this file, so the browser build of core never sees `node:crypto`.
 */
import * as nc from 'node:crypto';
import type { CryptoProvider } from './provider.js';

// DER prefixes that wrap a raw Ed25519 key for OpenSSL (RFC 8410 §7 PKCS#8
// PrivateKeyInfo and §4 SubjectPublicKeyInfo with id-Ed25519 = 1.3.101.112).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function privateKey(seed: Uint8Array): nc.KeyObject {
  if (seed.length !== 32) throw new RangeError('Ed25519 seed must be 32 bytes');
  return nc.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

/**
 * A plain Uint8Array over a Buffer's bytes (no copy). Core hands out plain
 * Uint8Arrays only: `Buffer#slice` returns a view where `Uint8Array#slice`
 * copies, and callers must not be surprised by that difference.
 */
function plain(b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export const nodeCrypto: CryptoProvider = {
  name: 'node:crypto',
  sha256: (data) => plain(nc.hash('sha256', data, 'buffer')),
  ed25519PublicKey: (seed) => {
    const spki = nc.createPublicKey(privateKey(seed)).export({ format: 'der', type: 'spki' });
    return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
  },
  ed25519Signer: (seed) => {
    const key = privateKey(seed);
    return (message) => plain(nc.sign(null, message, key));
  },
  ed25519Verifier: (publicKey) => {
    let key: nc.KeyObject | undefined;
    if (publicKey.length === 32) {
      try {
        key = nc.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
      } catch {
        key = undefined;
      }
    }
    return (message, signature) => {
      if (key === undefined || signature.length !== 64) return false;
      try {
        return nc.verify(null, message, key, signature);
      } catch {
        return false;
      }
    };
  },
  randomBytes: (n) => new Uint8Array(nc.randomBytes(n)),
};
