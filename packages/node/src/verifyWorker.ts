/** Worker side of {@link VerifyPool}: verifies batches of entries for one accord. */
import { parentPort, workerData } from 'node:worker_threads';
import { type SignedAccord, isParleyError, verifyAccord, verifyEntry } from '@parley/core/node';
import type { Verdict } from './verifyPool.js';

// Whether the accord is complete enough is the caller's decision (a node runs
// only on a complete one; an auditor may check a log against a draft).
const accord = verifyAccord((workerData as { accord: SignedAccord }).accord, { requireAll: false });

parentPort!.on('message', ({ batch, withEntries }: { batch: Uint8Array[]; withEntries: boolean }) => {
  const out: Verdict[] = batch.map((bytes) => {
    try {
      const v = verifyEntry(bytes, accord);
      return withEntries ? { ok: true, leafHash: v.leafHash, entry: v.entry } : { ok: true, leafHash: v.leafHash };
    } catch (e) {
      if (isParleyError(e)) return { ok: false, code: e.code, message: e.message };
      return { ok: false, code: 'ENTRY_MALFORMED', message: 'internal error while verifying' };
    }
  });
  parentPort!.postMessage(out);
});
