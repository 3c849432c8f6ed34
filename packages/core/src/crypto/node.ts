/**
 * `node:crypto` binding: the fast path on Node. Only `@parley/core/node`
 * imports this file, so the browser build of core never sees `node:crypto`.
 */
import * as nc from 'node:crypto';
import type { CryptoProvider } from './provider.js';
import { fail } from '../errors.js';

// DER prefixes that wrap a raw Ed25519 key for OpenSSL (RFC 8410 §7 PKCS#8
// PrivateKeyInfo and §4 SubjectPublicKeyInfo with id-Ed25519 = 1.3.101.112).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

// X25519 keys go through JWK, not DER: on Node 20 a PKCS#8 import of an
// X25519 key runs OpenSSL's generic decoder and measured ~3 k/s, a JWK import
// ~40 k/s and a JWK public one ~180 k/s. Node builds an OKP private key from
// `d` alone (a raw-key import) and only checks that `x` is a string, so `x`
// is left empty rather than computed; the RFC 9180 vectors pin the result.
function x25519Key(key: Uint8Array, kind: 'private' | 'public'): nc.KeyObject {
  if (key.length !== 32) fail('KEY_MALFORMED', `X25519 ${kind} key must be 32 bytes`);
  if (kind === 'private') {
    // Importing a private key derives its public key (one scalar
    // multiplication, as costly as the DH itself); HPKE imports the same key
    // twice in a seal (public key, then DH) and a node opens every body with
    // its one key, so recently used private keys are kept as KeyObjects.
    const id = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64');
    const hit = privateKeys.get(id);
    if (hit) {
      privateKeys.delete(id);
      privateKeys.set(id, hit);
      return hit;
    }
    const k = importX25519(key, kind);
    privateKeys.set(id, k);
    if (privateKeys.size > PRIVATE_KEY_CACHE) privateKeys.delete(privateKeys.keys().next().value!);
    return k;
  }
  return importX25519(key, kind);
}

/** Most private X25519 KeyObjects kept (LRU): the node's own key plus a few ephemeral ones. */
const PRIVATE_KEY_CACHE = 8;
const privateKeys = new Map<string, nc.KeyObject>();

function importX25519(key: Uint8Array, kind: 'private' | 'public'): nc.KeyObject {
  const b64 = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('base64url');
  try {
    return kind === 'private'
      ? nc.createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: b64, x: '' }, format: 'jwk' })
      : nc.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: b64 }, format: 'jwk' });
  } catch (e) {
    return fail('KEY_MALFORMED', `X25519 ${kind} key rejected`, e);
  }
}

/** AES-GCM by key length (16 → AES-128, 32 → AES-256); anything else is our bug. */
function gcmName(key: Uint8Array): 'aes-128-gcm' | 'aes-256-gcm' {
  if (key.length === 16) return 'aes-128-gcm';
  if (key.length === 32) return 'aes-256-gcm';
  throw new RangeError('internal: AES-GCM key must be 16 or 32 bytes');
}

type AeadName = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
const TAG = 16;

function seal(name: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Uint8Array {
  // The cast picks one overload: both GCM and ChaCha20-Poly1305 take authTagLength.
  const c = nc.createCipheriv(name as 'aes-256-gcm', key, nonce, { authTagLength: TAG });
  c.setAAD(aad);
  const body = c.update(pt);
  c.final(); // AEAD modes are stream modes: final() emits no bytes.
  const out = new Uint8Array(body.length + TAG);
  out.set(body, 0);
  out.set(c.getAuthTag(), body.length);
  return out;
}

function open(name: AeadName, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array | undefined {
  if (ct.length < TAG) return undefined;
  const d = nc.createDecipheriv(name as 'aes-256-gcm', key, nonce, { authTagLength: TAG });
  d.setAAD(aad);
  d.setAuthTag(ct.subarray(ct.length - TAG));
  const body = d.update(ct.subarray(0, ct.length - TAG));
  try {
    d.final(); // throws when the tag does not match
  } catch {
    return undefined;
  }
  return plain(body);
}

/**
 * Key objects already made, by key: building one (createPrivateKey /
 * createPublicKey, a DER parse) costs more than the Ed25519 operation it
 * serves, and the same few keys — the accord's — sign and verify every
 * checkpoint, cosignature and request. Private keys are filed under the
 * SHA-256 of the seed, never the seed. Bounded: cleared when full.
 */
const MAX_CACHED_KEYS = 256;
const keyCache = new Map<string, nc.KeyObject | undefined>();

function cachedKey(id: string, make: () => nc.KeyObject | undefined): nc.KeyObject | undefined {
  if (keyCache.has(id)) return keyCache.get(id);
  const key = make();
  if (keyCache.size >= MAX_CACHED_KEYS) keyCache.clear();
  keyCache.set(id, key);
  return key;
}

function privateKey(seed: Uint8Array): nc.KeyObject {
  if (seed.length !== 32) throw new RangeError('Ed25519 seed must be 32 bytes');
  return cachedKey(`s:${nc.hash('sha256', seed, 'base64')}`, () => nc.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' }))!;
}

function publicKey(raw: Uint8Array): nc.KeyObject | undefined {
  if (raw.length !== 32) return undefined;
  return cachedKey(`p:${Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64')}`, () => {
    try {
      return nc.createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
    } catch {
      return undefined;
    }
  });
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
  ed25519Verifier: (raw) => {
    const key = publicKey(raw);
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
  x25519PublicKey: (privateKey) => {
    const jwk = nc.createPublicKey(x25519Key(privateKey, 'private')).export({ format: 'jwk' });
    return new Uint8Array(Buffer.from(jwk.x ?? '', 'base64url'));
  },
  x25519: (privateKey, publicKey) => {
    const priv = x25519Key(privateKey, 'private');
    const pub = x25519Key(publicKey, 'public');
    let shared: Buffer;
    try {
      // OpenSSL refuses an all-zero result (ERR_OSSL_FAILED_DURING_DERIVATION).
      shared = nc.diffieHellman({ privateKey: priv, publicKey: pub });
    } catch (e) {
      return fail('KEY_MALFORMED', 'X25519: low-order public key (all-zero shared secret)', e);
    }
    if (shared.every((b) => b === 0)) fail('KEY_MALFORMED', 'X25519: low-order public key (all-zero shared secret)');
    return plain(shared);
  },
  hmacSha256: (key, data) => plain(nc.createHmac('sha256', key).update(data).digest()),
  aesGcmSeal: (key, nonce, aad, pt) => seal(gcmName(key), key, nonce, aad, pt),
  aesGcmOpen: (key, nonce, aad, ct) => open(gcmName(key), key, nonce, aad, ct),
  chacha20Poly1305Seal: (key, nonce, aad, pt) => seal('chacha20-poly1305', key, nonce, aad, pt),
  chacha20Poly1305Open: (key, nonce, aad, ct) => open('chacha20-poly1305', key, nonce, aad, ct),
};
