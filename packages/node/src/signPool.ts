/**
 * A pool of worker threads that make Ed25519 signatures (node:crypto), so the
 * log writer's entries are signed on every core instead of on the event loop
 * (issue 14: "the writer signs on one thread" capped durable appends at one
 * core's signing rate).
 *
 * Calls made in one turn of the event loop — the LogWriter prepares a whole
 * batch in one turn — are gathered, split evenly across the workers and sent
 * as one buffer each (messages back to back, with their end offsets,
 * transferred, not copied); the signatures come back the same way, 64 bytes
 * each, in order, and each caller gets a 64-byte view into that one buffer. A worker keeps the private key object of each seed it was
 * given, so a key rotation needs nothing but the new seed. A turn with fewer
 * than {@link INLINE_BELOW} messages (one officer's message on a quiet node)
 * is signed on the calling thread instead: crossing to a worker and back
 * costs more than one signature, and it would lengthen every FLASH round
 * trip.
 *
 * The seed crosses to threads of this process only. If a worker dies, its
 * outstanding signatures reject (the LogWriter then rejects those entries
 * and prepares the rest again); later turns go to the remaining workers, and
 * once none is left every turn that is not signed inline rejects.
 *
 * @example
 *   const pool = new SignPool();
 *   const sig = await pool.sign(seed, message);
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { signWith } from './signKeys.js';

/** Turns with fewer messages than this are signed on the calling thread. */
export const INLINE_BELOW = 4;

/** What crosses to a worker: one seed, messages back to back. */
export interface SignBatch {
  readonly seed: Uint8Array;
  readonly data: Uint8Array;
  readonly ends: Uint32Array;
}

/** A worker's answer: the signatures back to back, or why it could not sign. */
export type SignReply = { readonly sigs: Uint8Array } | { readonly error: string };

interface Pending {
  readonly seed: Uint8Array;
  readonly message: Uint8Array;
  resolve(sig: Uint8Array): void;
  reject(e: unknown): void;
}

interface Slot {
  readonly worker: Worker;
  /** Batches sent and not answered, oldest first (a worker answers in order). */
  readonly jobs: Pending[][];
  dead: boolean;
}

// Worker threads run JavaScript: from the compiled package this is the file
// beside this one; when this module runs from source (the tests), the build
// in dist/ (`npm test` builds first).
const WORKER = import.meta.url.endsWith('.ts') ? new URL('../dist/signWorker.js', import.meta.url) : new URL('./signWorker.js', import.meta.url);

export class SignPool {
  readonly #slots: Slot[] = [];
  #pending: Pending[] = [];
  #scheduled = false;
  #closed = false;

  /** @param threads worker count (default: available cores). */
  constructor(threads = availableParallelism()) {
    for (let i = 0; i < Math.max(1, threads); i++) {
      const worker = new Worker(WORKER);
      const slot: Slot = { worker, jobs: [], dead: false };
      worker.on('message', (m: SignReply) => {
        const job = slot.jobs.shift();
        if (slot.jobs.length === 0) worker.unref();
        if (job === undefined) return;
        if ('error' in m) {
          for (const p of job) p.reject(new Error(`signing thread: ${m.error}`));
          return;
        }
        // Views into the one transferred buffer, not a copy (an ArrayBuffer) per signature (issue 14).
        job.forEach((p, k) => p.resolve(m.sigs.subarray(k * 64, k * 64 + 64)));
      });
      const die = (e: unknown) => {
        slot.dead = true;
        for (const job of slot.jobs.splice(0)) for (const p of job) p.reject(e);
      };
      worker.on('error', die);
      worker.on('exit', (code) => die(new Error(`signing thread exited with ${code}`)));
      // Idle workers must not keep the process alive; busy ones must.
      worker.unref();
      this.#slots.push(slot);
    }
  }

  get threads(): number {
    return this.#slots.length;
  }

  /**
   * Signs `message` with the Ed25519 key of `seed` on a worker thread.
   * @returns the 64-byte signature.
   * @throws Error when the pool is closed or its workers died.
   */
  sign(seed: Uint8Array, message: Uint8Array): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new Error('the signing pool is closed'));
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#pending.push({ seed, message, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        // Every call of this turn (a whole batch) is sent at once.
        queueMicrotask(() => this.#flush());
      }
    });
  }

  /** A signer bound to one key, for code that takes `(message) => Promise<signature>`. */
  signer(seed: Uint8Array): (message: Uint8Array) => Promise<Uint8Array> {
    const s = seed.slice();
    return (message) => this.sign(s, message);
  }

  #flush(): void {
    this.#scheduled = false;
    const pending = this.#pending;
    this.#pending = [];
    if (pending.length < INLINE_BELOW) {
      for (const p of pending) {
        try {
          p.resolve(signWith(p.seed, p.message));
        } catch (e) {
          p.reject(e);
        }
      }
      return;
    }
    const live = this.#slots.filter((s) => !s.dead);
    if (live.length === 0) {
      for (const p of pending) p.reject(new Error('no signing thread is running'));
      return;
    }
    // One seed per message sent: group by seed (a rotation is the only time there are two).
    const groups = new Map<string, Pending[]>();
    for (const p of pending) {
      const k = Buffer.from(p.seed.buffer, p.seed.byteOffset, p.seed.byteLength).toString('base64');
      let g = groups.get(k);
      if (g === undefined) groups.set(k, (g = []));
      g.push(p);
    }
    for (const group of groups.values()) {
      // Even shares, the idlest worker first.
      const order = [...live].sort((a, b) => a.jobs.length - b.jobs.length);
      const share = Math.ceil(group.length / order.length);
      for (let w = 0; w * share < group.length; w++) this.#send(order[w]!, group.slice(w * share, (w + 1) * share));
    }
  }

  #send(slot: Slot, job: Pending[]): void {
    let n = 0;
    for (const p of job) n += p.message.length;
    const data = new Uint8Array(n);
    const ends = new Uint32Array(job.length);
    let o = 0;
    job.forEach((p, i) => {
      data.set(p.message, o);
      o += p.message.length;
      ends[i] = o;
    });
    const batch: SignBatch = { seed: job[0]!.seed.slice(), data, ends };
    slot.jobs.push(job);
    slot.worker.ref();
    slot.worker.postMessage(batch, [data.buffer, ends.buffer]);
  }

  /** Stops the workers; signatures not yet answered reject. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
