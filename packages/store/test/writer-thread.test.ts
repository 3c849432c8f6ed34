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

  it('refuses :memory:, which a second connection cannot share', () => {
    expect(() => withWriterThread(SqliteStore.open(':memory:'), ':memory:')).toThrow(RangeError);
  });
});
