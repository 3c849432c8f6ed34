/** Worker side of {@link VerifyPool}: verifies batches of entries for one accord. */
import { parentPort, workerData } from 'node:worker_threads';
import { type AccordEpochs, type ChainFile, type ErrorCode, type SignedAccord, type VerifiedEntry, isParleyError, parseEntry, verifyAccord, verifyChainFile, verifyEntry } from '@parley/core/node';
import type { PackedBatch, PackedReply, Verdict } from './verifyPool.js';

// Whether the accord is complete enough is the caller's decision (a node runs
// only on a complete one; an auditor may check a log against a draft).
const accord = verifyAccord((workerData as { accord: SignedAccord }).accord, { requireAll: false });
/** Set once the pool adopts a chain of more than one version (VerifyPool.adopt). */
let epochs: AccordEpochs | undefined;

/** An entry under the version in force at its index in its sender's log (or the one accord). */
function verify(bytes: Uint8Array): VerifiedEntry {
  if (epochs === undefined) return verifyEntry(bytes, accord);
  const e = parseEntry(bytes);
  const epoch = epochs.keysFor(e.from.party, e.seq);
  if (epoch === undefined) return verifyEntry(bytes, epochs.chain.current); // refused there with its own code
  return verifyEntry(bytes, epoch.version);
}

parentPort!.on('message', (msg: PackedBatch | { chain: ChainFile; genesis?: SignedAccord }) => {
  if ('chain' in msg) {
    // No reply: the pool queues replies for batches only.
    try {
      const g = verifyChainFile(msg.chain, msg.genesis !== undefined ? { genesis: msg.genesis } : {});
      epochs = g.chain.versions.length > 1 ? g.epochs : undefined;
    } catch {
      // The main thread verified this chain before adopting it; a worker that cannot keeps judging as before.
    }
    return;
  }
  const { data, ends, withEntries } = msg;
  const failures: { i: number; code: ErrorCode; message: string }[] = [];
  const verdicts: Verdict[] = [];
  const hashes = withEntries ? new Uint8Array(0) : new Uint8Array(ends.length * 32);
  let start = 0;
  for (let i = 0; i < ends.length; i++) {
    const bytes = data.subarray(start, ends[i]);
    start = ends[i]!;
    try {
      const v = verify(bytes);
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
