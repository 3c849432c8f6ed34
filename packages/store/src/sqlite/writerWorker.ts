/**
 * Worker side of {@link withWriterThread}: owns a second connection to the
 * same SQLite file and runs `appendBatch` there, so the commit's fsync
 * blocks this thread instead of the node's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isParleyError } from '@parley/core';
import type { AppendBatch } from '../types.js';
import { SqliteStore } from './store.js';

const store = SqliteStore.open((workerData as { path: string }).path);

parentPort!.on('message', (m: { id: number; batch: AppendBatch } | { id: number; close: true }) => {
  if ('close' in m) {
    void store.close().then(() => parentPort!.postMessage({ id: m.id, ok: true }));
    return;
  }
  store.appendBatch(m.batch).then(
    () => parentPort!.postMessage({ id: m.id, ok: true }),
    (e: unknown) =>
      parentPort!.postMessage({
        id: m.id,
        ok: false,
        code: isParleyError(e) ? e.code : 'STORE_UNAVAILABLE',
        message: e instanceof Error ? e.message : String(e),
      }),
  );
});
