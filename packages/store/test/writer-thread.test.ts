/**
 * The SQLite writer thread (withWriterThread) and the pipelined LogWriter
 * on top of it: the LogStore contract holds, concurrent appends give one
 * consistent log, a failed commit sends the batch staged behind it back to
 * the queue (nothing of it acknowledged, no gap, no reused index), and the
 * event loop keeps running while a batch commits.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Frontier, MemoryTree, leafHash, encodeUtf8, StoreError } from '@parley/core';
import { SqliteStore } from '../src/sqlite/store.js';
import { withWriterThread } from '../src/sqlite/threaded.js';
import { LogWriter, type Prepared } from '../src/writer.js';
import type { AppendBatch, LogStore } from '../src/types.js';
import { describeLogStore } from './logStoreContract.js';
import { buildBatch, checkLog, meta, ORIGIN, openTestCheckpoint, signTestCheckpoint, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const freshPath = () => join(tmp.dir, `threaded-${n++}.sqlite`);
const threaded = (path = freshPath()) => withWriterThread(SqliteStore.open(path), path);

describeLogStore('SqliteStore with a writer thread', async () => threaded());

const entry = (tag: string) => (index: number, time: Date): Prepared => ({
  bytes: encodeUtf8(JSON.stringify({ seq: index, tag, time: time.toISOString() })),
  meta: meta({ time: time.toISOString() }),
});

describe('pipelined LogWriter on a writer thread', () => {
  it('turns many concurrent appends into one consistent log, batches staged behind commits', async () => {
    const store = threaded();
    const writer = await LogWriter.open(store, { origin: ORIGIN, signCheckpoint: signTestCheckpoint, maxBatch: 64 });
    const results = await Promise.all(Array.from({ length: 2000 }, (_, k) => writer.append(entry(`t${k}`))));
    expect(results.map((r) => r.index).sort((a, b) => a - b)).toEqual(Array.from({ length: 2000 }, (_, i) => i));
    const { cp } = await checkLog(store);
    expect(cp?.treeSize).toBe(2000);
    const t = new MemoryTree();
    for (const e of await store.entries(0, 2000)) t.append(leafHash(e.bytes));
    expect(openTestCheckpoint((await store.latestCheckpoint())!).rootHash).toEqual(t.root());
    expect(new Set(results.map((r) => r.treeSize)).size).toBeGreaterThanOrEqual(2000 / 64);
    await writer.close();
    await store.close();
  });

  it('re-stages the batch behind a failed commit: it is neither lost nor acknowledged twice, and no index is reused', async () => {
    const path = freshPath();
    const real = threaded(path);
    let calls = 0;
    // Fail the second commit, after the writer has staged a third batch on top of it.
    const flaky: LogStore = new Proxy(real, {
      get(target, prop) {
        if (prop === 'appendBatch') {
          return async (b: AppendBatch) => {
            calls++;
            if (calls === 2) {
              await new Promise((r) => setTimeout(r, 20));
              throw new StoreError('STORE_UNAVAILABLE', 'injected: commit failed, not persisted');
            }
            return target.appendBatch(b);
          };
        }
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const writer = await LogWriter.open(flaky, { origin: ORIGIN, signCheckpoint: signTestCheckpoint, maxBatch: 10 });
    const settled = await Promise.allSettled(Array.from({ length: 60 }, (_, k) => writer.append(entry(`f${k}`))));
    const ok = settled.filter((s) => s.status === 'fulfilled').map((s) => (s as PromiseFulfilledResult<{ index: number }>).value.index);
    const failed = settled.filter((s) => s.status === 'rejected');
    // Only the failed batch's own submissions were rejected; the rest landed, gap-free.
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.length).toBeLessThanOrEqual(10);
    expect(ok.sort((a, b) => a - b)).toEqual(Array.from({ length: ok.length }, (_, i) => i));
    expect(ok.length + failed.length).toBe(60);
    const { cp } = await checkLog(real);
    expect(cp?.treeSize).toBe(ok.length);
    await writer.close();
    await real.close();
  });

  it('keeps the event loop free while a batch commits (the plain store does not)', async () => {
    // A macrotask queued just before a commit runs before that commit resolves
    // only if the commit happens off this thread.
    const ranBeforeCommit = async (store: LogStore) => {
      let ran = false;
      setImmediate(() => (ran = true));
      const f = Frontier.empty();
      await store.appendBatch(buildBatch(f, Array.from({ length: 200 }, (_, k) => ({ bytes: encodeUtf8(`loop ${k}`), meta: meta() }))));
      return ran;
    };
    const path = freshPath();
    const store = threaded(path);
    expect(await ranBeforeCommit(store)).toBe(true);
    await store.close();
    const plain = SqliteStore.open(freshPath());
    expect(await ranBeforeCommit(plain)).toBe(false);
    await plain.close();
  });

  it('runs every write on the thread: settings, ingest and witness state leave the event loop free too', async () => {
    const store = threaded();
    let ran = false;
    setImmediate(() => (ran = true));
    await store.putSetting('k', { v: 1 });
    expect(ran).toBe(true);
    // Read-after-write on the main connection.
    expect(await store.getSetting('k')).toEqual({ v: 1 });
    await store.close();
  });

  it('commits writes that queue together in one transaction, each in its own savepoint: one that fails rejects alone', async () => {
    const path = freshPath();
    const store = threaded(path);
    const received = (index: number, hash: number) => ({ party: 'CN', index, leafHash: new Uint8Array(32).fill(hash), bytes: encodeUtf8(`cn ${index}`), meta: meta({ from: 'CN' }), receivedAt: new Date(0).toISOString() });
    await store.ingest([received(0, 1)]);
    const state = (size: number) => ({ party: 'CN', treeSize: size, rootHash: new Uint8Array(32).fill(size), note: encodeUtf8(`note ${size}\n`) });
    const writes = await Promise.allSettled([
      ...Array.from({ length: 20 }, (_, k) => store.putSetting(`s/${k}`, k)),
      store.ingest([received(1, 2), received(0, 9)]), // (CN, 0) held with another hash: STORE_CONFLICT, and (CN, 1) is not stored either
      store.ingest([received(2, 3)]),
      store.advanceWitness('CN', 0, state(3)),
      store.advanceWitness('CN', 0, state(4)), // lost the compare-and-set to the one before
    ]);
    expect(writes.slice(0, 20).every((w) => w.status === 'fulfilled')).toBe(true);
    expect(writes[20]).toMatchObject({ status: 'rejected', reason: { code: 'STORE_CONFLICT' } });
    expect(writes.slice(21).map((w) => (w as PromiseFulfilledResult<unknown>).value)).toEqual([1, true, false]);
    expect(await store.getSetting('s/19')).toBe(19);
    expect(await store.received('CN', 1)).toBeUndefined();
    expect(await store.received('CN', 2)).toBeDefined();
    expect((await store.witnessState('CN'))?.treeSize).toBe(3);
    await store.close();
    // All of it durable in the file, as a fresh connection sees it.
    const again = SqliteStore.open(path);
    expect(await again.getSetting('s/0')).toBe(0);
    expect((await again.witnessState('CN'))?.treeSize).toBe(3);
    await again.close();
  });

  it('refuses :memory:, which a second connection cannot share', () => {
    expect(() => withWriterThread(SqliteStore.open(':memory:'), ':memory:')).toThrow(RangeError);
  });
});
