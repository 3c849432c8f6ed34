/** Worker side of {@link VerifyPool}: verifies batches of entries for one accord. */
import { parentPort, workerData } from 'node:worker_threads';
import { type ErrorCode, type SignedAccord, isParleyError, verifyAccord, verifyEntry } from '@parley/core/node';
import type { PackedBatch, PackedReply, Verdict } from './verifyPool.js';

// Whether the accord is complete enough is the caller's decision (a node runs
// only on a complete one; an auditor may check a log against a draft).
const accord = verifyAccord((workerData as { accord: SignedAccord }).accord, { requireAll: false });

parentPort!.on('message', ({ data, ends, withEntries }: PackedBatch) => {
  const failures: { i: number; code: ErrorCode; message: string }[] = [];
  const verdicts: Verdict[] = [];
  const hashes = withEntries ? new Uint8Array(0) : new Uint8Array(ends.length * 32);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const bytes = data.subarray(start, ends[i]);
    start = ends[i]!;
    try {
      const v = verifyEntry(bytes, accord);
      if (withEntries) verdicts.push({ ok: true, leafHash: v.leafHash, entry: v.entry });
      else hashes.set(v.leafHash, i * 32);
    } catch (e) {
      const f = isParleyError(e) ? { code: e.code, message: e.message } : { code: 'ENTRY_MALFORMED' as const, message: 'internal error while verifying' };
      if (withEntries) verdicts.push({ ok: false, ...f });
      else failures.push({ i, ...f });
    }
  }
  const reply: PackedReply = withEntries ? { verdicts } : { hashes, failures };
  parentPort!.postMessage(reply, withEntries ? [] : [hashes.buffer as ArrayBuffer]);
});
