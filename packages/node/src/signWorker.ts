/** Worker side of {@link SignPool}: Ed25519 signatures with node:crypto, one private key object per seed. */
import * as nc from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { SignBatch, SignReply } from './signPool.js';

// PKCS#8 DER prefix of an Ed25519 private key; the 32-byte seed follows.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const keys = new Map<string, nc.KeyObject>();

function keyOf(seed: Uint8Array): nc.KeyObject {
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

parentPort!.on('message', (m: SignBatch) => {
  let reply: SignReply;
  const sigs = new Uint8Array(m.ends.length * 64);
  try {
    const key = keyOf(m.seed);
    let start = 0;
    for (let i = 0; i < m.ends.length; i++) {
      const end = m.ends[i]!;
      sigs.set(nc.sign(null, m.data.subarray(start, end), key), i * 64);
      start = end;
    }
    reply = { sigs };
  } catch (e) {
    reply = { error: e instanceof Error ? e.message : String(e) };
  }
  parentPort!.postMessage(reply, 'sigs' in reply ? [sigs.buffer] : []);
});
