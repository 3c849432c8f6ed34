/**
 * A pool of worker threads that verify entries (shape, channel, addressing,
 * Ed25519 signature — core's `verifyEntry`) in parallel. Signature checks
 * bound ingest and audits; one worker per spare core turns a second core into
 * a second verifier. Results come back in order.
 *
 * Each worker is given the signed accord once, verifies it itself (so a
 * worker never trusts the main thread's parse) — and, once the node runs on
 * a longer accord chain, the chain file ({@link VerifyPool.adopt}), which it
 * verifies too, judging each entry by the key in force at its index — and answers batches of entry
 * bytes with the parsed entry and its leaf hash, or the error's stable code:
 * the main thread then neither parses nor hashes what a worker verified.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type ChainFile, type SignedAccord, type SignedEntry, ParseError, VerificationError, ERROR_CATALOG, type ErrorCode } from '@parley/core';

/** One entry's verdict. */
export type Verdict =
  | { readonly ok: true; readonly leafHash: Uint8Array; readonly entry?: SignedEntry }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

interface Job {
  readonly resolve: (v: Verdict[]) => void;
  readonly reject: (e: unknown) => void;
}

/**
 * A batch crosses threads as one buffer (entries back to back, with their end
 * offsets), transferred rather than copied: cloning hundreds of small arrays
 * per message was a measurable share of an audit. Without entries, the answer
 * comes back the same way: leaf hashes back to back, failures listed.
 */
export interface PackedBatch {
  readonly data: Uint8Array;
  readonly ends: Uint32Array;
  readonly withEntries: boolean;
}
export type PackedReply =
  | { readonly verdicts: Verdict[] }
  | { readonly hashes: Uint8Array; readonly failures: readonly { readonly i: number; readonly code: ErrorCode; readonly message: string }[] };

function pack(batch: readonly Uint8Array[], withEntries: boolean): PackedBatch {
  let n = 0;
  for (const b of batch) n += b.length;
  const data = new Uint8Array(n);
  const ends = new Uint32Array(batch.length);
  let o = 0;
  batch.forEach((b, i) => {
    data.set(b, o);
    o += b.length;
    ends[i] = o;
  });
  return { data, ends, withEntries };
}

function unpack(reply: PackedReply, count: number): Verdict[] {
  if ('verdicts' in reply) return reply.verdicts;
  const out: Verdict[] = new Array<Verdict>(count);
  for (let i = 0; i < count; i++) out[i] = { ok: true, leafHash: reply.hashes.subarray(i * 32, i * 32 + 32) };
  for (const f of reply.failures) out[f.i] = { ok: false, code: f.code, message: f.message };
  return out;
}

// Worker threads run JavaScript: from the compiled package this is the file
// beside this one; when this module runs from source (the tests), the build
// in dist/ (\`npm test\` builds first).
const WORKER = import.meta.url.endsWith('.ts') ? new URL('../dist/verifyWorker.js', import.meta.url) : new URL('./verifyWorker.js', import.meta.url);

export class VerifyPool {
  readonly #workers: Worker[] = [];
  readonly #queues: Job[][] = [];
  #next = 0;

  /** @param threads worker count (default: available cores). */
  constructor(accord: SignedAccord, threads = availableParallelism()) {
    for (let i = 0; i < Math.max(1, threads); i++) {
      const w = new Worker(WORKER, { workerData: { accord } });
      const queue: Job[] = [];
      // Idle workers must not keep the process alive; busy ones must.
      w.on('message', (m: Verdict[]) => {
        queue.shift()?.resolve(m);
        if (queue.length === 0) w.unref();
      });
      w.on('error', (e) => {
        for (const j of queue.splice(0)) j.reject(e);
        w.unref();
      });
      w.unref();
      this.#workers.push(w);
      this.#queues.push(queue);
    }
  }

  /**
   * Has every worker judge entries by an accord chain from now on (issue 11):
   * each entry under the version and key in force at its index in its
   * sender's log. Each worker verifies the chain file itself. Batches
   * posted before this are judged by the chain they were posted under.
   * @param chain the chain file (GOV.md §2), version 1 first or not.
   * @param genesis version 1, when the file starts at version 2.
   */
  adopt(chain: ChainFile, genesis?: SignedAccord): void {
    for (const w of this.#workers) w.postMessage({ chain, ...(genesis !== undefined ? { genesis } : {}) });
  }

  get threads(): number {
    return this.#workers.length;
  }

  /** Verifies one batch on one worker (round robin). */
  #run(batch: readonly Uint8Array[], withEntries: boolean): Promise<Verdict[]> {
    const i = this.#next++ % this.#workers.length;
    const packed = pack(batch, withEntries);
    return new Promise<PackedReply>((resolve, reject) => {
      this.#queues[i]!.push({ resolve: resolve as unknown as (v: Verdict[]) => void, reject });
      this.#workers[i]!.ref();
      this.#workers[i]!.postMessage(packed, [packed.data.buffer as ArrayBuffer, packed.ends.buffer as ArrayBuffer]);
    }).then((reply) => unpack(reply, batch.length));
  }

  /**
   * Verifies entries across all workers, in chunks.
   * @param withEntries also return each parsed entry (ingest needs them; an
   *   audit needs only the verdict and leaf hash, and copying entries back
   *   across threads is a measurable share of its cost).
   * @returns one verdict per entry, in order.
   */
  async verify(entries: readonly Uint8Array[], chunk = 256, withEntries = true): Promise<Verdict[]> {
    const parts: Promise<Verdict[]>[] = [];
    for (let i = 0; i < entries.length; i += chunk) parts.push(this.#run(entries.slice(i, i + chunk), withEntries));
    return (await Promise.all(parts)).flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/** Throws the typed error a failed verdict stands for. */
export function throwVerdict(v: Verdict & { ok: false }): never {
  const Cls = ERROR_CATALOG[v.code].kind === 'verification' ? VerificationError : ParseError;
  throw new Cls(v.code, v.message);
}
