/**
 * LogWriter with prepares that return promises (issue 14: the node signs a
 * batch's entries on its signing threads) over the real SqliteStore: every
 * prepare of a batch is started before any is awaited (so a pool signs them
 * in parallel), a rejected one fails only its submission and leaves no gap
 * (those after it are prepared again with the index they end up at), a
 * group is all or nothing, and a large backlog on an idle writer is split so
 * that staging overlaps the commit. Every stored entry names its own index.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeUtf8, leafHash } from '@parley/core';
import { SqliteStore } from '../src/sqlite/store.js';
import { LogWriter, type Appended, type Prepared } from '../src/writer.js';
import type { LogStore } from '../src/types.js';
import { checkLog, meta, ORIGIN, signTestCheckpoint, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const freshPath = () => join(tmp.dir, `writer-async-${n++}.sqlite`);

const built = (index: number, time: Date, tag: string): Prepared => ({
  bytes: encodeUtf8(JSON.stringify({ seq: index, tag, time: time.toISOString() })),
  meta: meta({ time: time.toISOString() }),
});
/** Resolves on a later macrotask, as a signature from another thread does. */
const later = <T>(f: () => T): Promise<T> => new Promise((resolve, reject) => setTimeout(() => { try { resolve(f()); } catch (e) { reject(e); } }, 1));

async function open(o: { maxBatch?: number } = {}) {
  const store = SqliteStore.open(freshPath());
  const writer = await LogWriter.open(store, { origin: ORIGIN, signCheckpoint: signTestCheckpoint, ...o });
  return { store, writer };
}

/** Every stored entry's `seq` is its index; the log checks out (tree, checkpoint). */
async function expectSeqIsIndex(store: LogStore, size: number): Promise<void> {
  expect(await store.treeSize()).toBe(size);
  const stored = await store.entries(0, size);
  stored.forEach((e, i) => expect(JSON.parse(new TextDecoder().decode(e.bytes)).seq).toBe(i));
  await checkLog(store);
}

describe('LogWriter with asynchronous prepares', () => {
  it('starts every prepare of a batch before any settles, and stores each entry at the index it was built for', async () => {
    const { store, writer } = await open();
    let started = 0;
    const startedWhenFirstSettled: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, k) =>
        writer.append((index, time) => {
          started++;
          return later(() => {
            startedWhenFirstSettled.push(started);
            return built(index, time, `a${k}`);
          });
        }),
      ),
    );
    // All 60 (one batch: too few to split) were prepared before the first promise settled: they ran side by side.
    expect(startedWhenFirstSettled[0]).toBe(60);
    expect(results.map((r) => r.index).sort((a, b) => a - b)).toEqual(Array.from({ length: 60 }, (_, i) => i));
    await expectSeqIsIndex(store, 60);
    await writer.close();
    await store.close();
  });

  it('rejects only the submission whose promise rejects; those after it are prepared again at the index they get', async () => {
    const { store, writer } = await open();
    const boom = new Error('signing failed');
    const calls = new Map<number, number[]>();
    const settled = await Promise.allSettled(
      Array.from({ length: 50 }, (_, k) =>
        writer.append((index, time) => {
          calls.set(k, [...(calls.get(k) ?? []), index]);
          return later(() => {
            if (k % 7 === 3) throw boom;
            return built(index, time, `r${k}`);
          });
        }),
      ),
    );
    const failed = settled.filter((s) => s.status === 'rejected');
    expect(failed.length).toBe(7);
    for (const f of failed) expect((f as PromiseRejectedResult).reason).toBe(boom);
    const ok = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value.index] : []));
    expect(ok.sort((a, b) => a - b)).toEqual(Array.from({ length: 43 }, (_, i) => i));
    // Submission 4 was first prepared for index 4; 3 failed, so it was prepared again and stored at 3.
    expect(calls.get(4)![0]).toBe(4);
    expect(calls.get(4)!.at(-1)).toBe(3);
    expect((settled[4] as PromiseFulfilledResult<Appended>).value.index).toBe(3);
    await expectSeqIsIndex(store, 43);
    // A promise of something that is not bytes is refused as a synchronous one is.
    await expect(writer.append(() => Promise.resolve({ bytes: 'x' as unknown as Uint8Array, meta: meta() }))).rejects.toBeInstanceOf(TypeError);
    expect((await writer.append((i, t) => later(() => built(i, t, 'after')))).index).toBe(43);
    await writer.close();
    await store.close();
  });

  it('fails a whole group when one of its promises rejects, using no index', async () => {
    const { store, writer } = await open();
    const boom = new Error('one of the group');
    const group = writer.appendAll(
      [0, 1, 2].map((k) => (i: number, t: Date) =>
        later(() => {
          if (k === 1) throw boom;
          return built(i, t, `g${k}`);
        }),
      ),
    );
    const single = writer.append((i, t) => later(() => built(i, t, 'single')));
    await expect(group).rejects.toBe(boom);
    expect((await single).index).toBe(0);
    await expectSeqIsIndex(store, 1);
    await writer.close();
    await store.close();
  });

  it('splits a large backlog on an idle writer in two, so the second half is staged while the first commits', async () => {
    const { store, writer } = await open();
    const results = await Promise.all(Array.from({ length: 300 }, (_, k) => writer.append((i, t) => later(() => built(i, t, `s${k}`)))));
    const sizes = [...new Set(results.map((r) => r.treeSize))].sort((a, b) => a - b);
    expect(sizes).toEqual([150, 300]);
    await expectSeqIsIndex(store, 300);
    await writer.close();
    await store.close();
  });
});

describe('a conflict the log did not cause is not retried (review of the merged writer)', () => {
  it('a batch refused for a received entry held with another hash fails once, with that conflict, and the writer goes on', async () => {
    const { store, writer } = await open();
    const held = encodeUtf8('{"seq":0,"held":true}');
    const other = encodeUtf8('{"seq":0,"other":true}');
    const rcv = (bytes: Uint8Array) => ({ party: 'CN', index: 0, leafHash: leafHash(bytes), bytes, meta: meta({ from: 'CN', to: ['US'] }), receivedAt: '2026-05-14T12:00:00Z' });
    await store.ingest([rcv(held)]);
    let prepared = 0;
    const failed = writer.append(
      (index, time) => {
        prepared++;
        return built(index, time, 'receipt');
      },
      { received: [rcv(other)] },
    );
    await expect(failed).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    // Staged once: the log did not move, so staging it again (CONFLICT_RETRIES) would fail the same way.
    expect(prepared).toBe(1);
    await writer.append((index, time) => built(index, time, 'next'));
    await expectSeqIsIndex(store, 1);
    await writer.close();
    await store.close();
  });
});
