/**
 * Worker side of {@link withWriterThread}: owns a second connection to the
 * same SQLite file and runs every write of the store there, so no commit's
 * fsync blocks the node's event loop.
 *
 * Group commit: the writes that arrive while the thread is busy (or in the
 * same turn) run in ONE transaction — each in its own savepoint, so one that
 * fails is rolled back alone and rejects alone — and one COMMIT (one fsync)
 * makes them all durable. No answer leaves before that COMMIT returned:
 * every resolved write is durable, exactly as when it runs alone. If the
 * COMMIT itself fails, every write of the group rejects (STORE_UNAVAILABLE
 * unless the driver said more): "failed, maybe persisted", which each
 * caller already has to handle for a write that runs alone.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isParleyError } from '@parley/core';
import { type WriteOp, WRITE_OPS } from './threaded.js';
import { SqliteStore } from './store.js';
import { fromWire, isWire } from './batchWire.js';

const store = SqliteStore.open((workerData as { path: string }).path);

type Message = { id: number; op: WriteOp; args: unknown[] } | { id: number; close: true };

let queue: Message[] = [];
let scheduled = false;

const failure = (id: number, e: unknown) => ({
  id,
  ok: false,
  code: isParleyError(e) ? e.code : 'STORE_UNAVAILABLE',
  message: e instanceof Error ? e.message : String(e),
});

parentPort!.on('message', (m: Message) => {
  queue.push(m);
  if (!scheduled) {
    scheduled = true;
    // Messages already delivered to this thread join the group.
    setImmediate(drain);
  }
});

function drain(): void {
  scheduled = false;
  const batch = queue;
  queue = [];
  const writes = batch.filter((m): m is Extract<Message, { op: WriteOp }> => 'op' in m && WRITE_OPS.includes(m.op));
  const settled = new Map<number, { ok: true; value: unknown } | { ok: false; error: unknown }>();
  const runAll = () => {
    for (const m of writes) {
      // Every store method runs its statements synchronously and returns a settled promise.
      const args = m.op === 'appendBatch' && isWire(m.args[0]) ? [fromWire(m.args[0])] : m.args;
      const p = (store[m.op] as (...a: unknown[]) => Promise<unknown>)(...args);
      p.then(
        (value) => settled.set(m.id, { ok: true, value }),
        (error: unknown) => settled.set(m.id, { ok: false, error }),
      );
    }
  };
  let commitError: unknown;
  try {
    if (writes.length === 1) runAll();
    else if (writes.length > 1) store.commitTogether(runAll);
  } catch (e) {
    commitError = e;
  }
  // The promises above are settled; their callbacks run before this microtask.
  void Promise.resolve().then(() => {
    for (const m of writes) {
      const s = settled.get(m.id);
      if (commitError !== undefined) parentPort!.postMessage(failure(m.id, commitError));
      else if (s === undefined) parentPort!.postMessage(failure(m.id, new Error('internal: write did not settle')));
      else if (s.ok) parentPort!.postMessage({ id: m.id, ok: true, value: s.value });
      else parentPort!.postMessage(failure(m.id, s.error));
    }
    for (const m of batch) {
      if ('close' in m) void store.close().then(() => parentPort!.postMessage({ id: m.id, ok: true }));
    }
  });
}
