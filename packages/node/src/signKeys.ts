/** Ed25519 private key objects by seed, for the {@link SignPool} and its workers (node:crypto). */
import * as nc from 'node:crypto';

// PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const keys = new Map<string, nc.KeyObject>();

/**
 * The private key object of a 32-byte seed, made once per seed.
 * @throws RangeError for a seed that is not 32 bytes.
 */
export function keyOf(seed: Uint8Array): nc.KeyObject {
  const id = Buffer.from(seed.buffer, seed.byteOffset, seed.byteLength).toString('base64');
  let k = keys.get(id);
  if (k === undefined) {
    if (seed.length !== 32) throw new RangeError('an Ed25519 seed is 32 bytes');
    k = nc.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
    // A handful of keys in a process's life (one per rotation); never more than a few are kept.
    if (keys.size >= 8) keys.clear();
    keys.set(id, k);
  }
  return k;
}

/** Signs with node:crypto on the calling thread. */
export function signWith(seed: Uint8Array, message: Uint8Array): Uint8Array {
  return new Uint8Array(nc.sign(null, message, keyOf(seed)));
}
