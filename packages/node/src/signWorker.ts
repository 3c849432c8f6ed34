/** Worker side of {@link SignPool}: Ed25519 signatures with node:crypto, one private key object per seed. */
import * as nc from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import type { SignBatch, SignReply } from './signPool.js';
import { keyOf } from './signKeys.js';


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
