/**
 * A SqliteStore whose commits run on a writer thread.
 *
 * better-sqlite3 is synchronous: on the main thread, every write blocks the
 * event loop for its statements and its fsync, so nothing else — HTTP
 * requests, signing the next batch — happens meanwhile. With
 * {@link withWriterThread}, every write ({@link WRITE_OPS}: appends, ingest,
 * witness state, settings, officers, sessions) goes to a worker thread that
 * has its own connection to the same file (WAL allows one writer beside any
 * number of readers), and the writes that queue there while it is busy
 * share one commit (writerWorker.ts); reads stay on the main connection.
 *
 * The store contract holds unchanged: the worker runs the very same
 * transactions (atomic, each in its own savepoint when grouped, durable
 * before it answers), and a read issued after a write resolved starts a new
 * read transaction on the main connection, which sees the committed WAL
 * frames. If the thread dies, its pending writes reject with
 * STORE_UNAVAILABLE ("failed, maybe persisted"), which the LogWriter already
 * handles by re-reading the store, and every other writer by retrying.
 */
import { Worker } from 'node:worker_threads';
import { type ErrorCode, StoreError } from '@parley/core';
import type { AppendBatch, LogStore } from '../types.js';
import { toWire } from './batchWire.js';
import type { SqliteStore } from './store.js';

// Worker threads run JavaScript: from the compiled package this is the file
// beside this one; when this module runs from source (the tests), the build
// in dist/ (\`npm test\` builds first).
const WORKER = import.meta.url.endsWith('.ts') ? new URL('../../dist/sqlite/writerWorker.js', import.meta.url) : new URL('./writerWorker.js', import.meta.url);

/** The LogStore methods that write: each runs on the writer thread. */
export const WRITE_OPS = [
  'appendBatch',
  'ingest',
  // issue 9 (mirror of the other parties' logs)
  'mirror',
  'advanceWitness',
  'putSetting',
  'putOfficer',
  'putSession',
  'deleteSession',
  // issue 9 (fork evidence)
  'addForkProof',
  'addUnverifiedCheckpoint',
  'markCheckpointsCompared',
  // issue 9 (evidence tables)
  'advanceCursor',
  'advanceOwnCosigned',
  'addCosignedTimes',
  'recordEscalations',
  'updateWebhook',
  // issue 9 (hostile input: officers, nonces)
  'deleteOfficerSessions',
  'rememberNonce',
  // issue 12 (trusted time)
  'addCheckpointTimestamps',
  // issue 14 (governance tables)
  'putAccordChain',
  'addDepartedLogs',
  'addAccordForkProof',
  'addEvaluationNote',
  // issue 14 (the witness's cosignature history, copied by parley migrate)
  'addWitnessCosignatures',
  // issue 14 (idempotent retries)
  'pruneIdempotency',
  // issue 14 (durable deliveries)
  'fileDeliveries',
  'judgeDeliveries',
  'rejudgeDeliveries',
] as const;
export type WriteOp = (typeof WRITE_OPS)[number];

type Reply = { id: number; ok: true; value?: unknown } | { id: number; ok: false; code: ErrorCode; message: string };

class WriterThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (value: unknown) => void; reject: (e: unknown) => void }>();
  #next = 0;
  #dead: unknown;

  constructor(path: string) {
    this.#worker = new Worker(WORKER, { workerData: { path } });
    this.#worker.on('message', (r: Reply) => {
      const p = this.#pending.get(r.id);
      this.#pending.delete(r.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if (!p) return;
      if (r.ok) p.resolve(r.value);
      else p.reject(new StoreError(r.code, r.message));
    });
    const die = (e: unknown) => {
      this.#dead = e;
      for (const p of this.#pending.values()) p.reject(new StoreError('STORE_UNAVAILABLE', 'the SQLite writer thread stopped', { cause: e }));
      this.#pending.clear();
    };
    this.#worker.on('error', die);
    this.#worker.on('exit', (code) => die(new Error(`writer thread exited with ${code}`)));
    this.#worker.unref();
  }

  #send(message: object, transfer: ArrayBuffer[] = []): Promise<unknown> {
    if (this.#dead !== undefined) return Promise.reject(new StoreError('STORE_UNAVAILABLE', 'the SQLite writer thread stopped', { cause: this.#dead }));
    const id = this.#next++;
    return new Promise<unknown>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.ref();
      this.#worker.postMessage({ id, ...message }, transfer);
    });
  }

  write(op: WriteOp, args: unknown[]): Promise<unknown> {
    // A batch's bytes and hashes are moved in one buffer, not cloned entry by entry (batchWire.ts).
    if (op === 'appendBatch' && args.length === 1 && isBatch(args[0])) {
      let wire: ReturnType<typeof toWire>;
      try {
        wire = toWire(args[0]);
      } catch {
        return this.#send({ op, args }); // not packable (a malformed batch): the store reports it
      }
      return this.#send({ op, args: [wire[0]] }, wire[1]);
    }
    return this.#send({ op, args });
  }

  async close(): Promise<void> {
    if (this.#dead === undefined) await this.#send({ close: true }).catch(() => {});
    await this.#worker.terminate();
  }
}

/**
 * Wraps an open SqliteStore so that its writes run on a writer thread with
 * its own connection to `path` (the same file; not `:memory:`).
 * Closing the wrapper stops the thread and closes the store.
 */
export function withWriterThread(store: SqliteStore, path: string): LogStore {
  if (path === ':memory:') throw new RangeError('a writer thread needs a database file, not :memory:');
  const thread = new WriterThread(path);
  return new Proxy(store, {
    get(target, prop) {
      if (typeof prop === 'string' && (WRITE_OPS as readonly string[]).includes(prop)) return (...args: unknown[]) => thread.write(prop as WriteOp, args);
      if (prop === 'close') {
        return async () => {
          await thread.close();
          await target.close();
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as LogStore;
}

function isBatch(x: unknown): x is AppendBatch {
  const b = x as Partial<AppendBatch> | null;
  return typeof b === 'object' && b !== null && Array.isArray(b.entries) && Array.isArray(b.hashes);
}
