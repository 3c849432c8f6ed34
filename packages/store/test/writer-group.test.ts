/**
 * LogWriter.appendAll over the real SqliteStore: a group of entries is one
 * unit — consecutive indexes, one appendBatch, resolved together — and a
 * failure anywhere (a prepare that throws, the store failing the commit)
 * leaves none of it stored and no index used (the AIID import's all or
 * nothing, issue 13).
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeUtf8, StoreError } from '@parley/core';
import { SqliteStore } from '../src/sqlite/store.js';
import { LogWriter, type Prepared } from '../src/writer.js';
import type { AppendBatch, LogStore } from '../src/types.js';
import { checkLog, meta, ORIGIN, signTestCheckpoint, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const opts = { origin: ORIGIN, signCheckpoint: signTestCheckpoint };
const entry = (tag: string) => (index: number, time: Date): Prepared => ({
  bytes: encodeUtf8(JSON.stringify({ seq: index, tag, time: time.toISOString() })),
  meta: meta({ time: time.toISOString() }),
});

/** The real store, counting appendBatch calls and failing the next one on demand. */
function counting(real: LogStore) {
  const calls: number[] = [];
  let failNext = false;
  const store: LogStore = new Proxy(real, {
    get(target, prop, recv) {
      if (prop === 'appendBatch') {
        return (b: AppendBatch) => {
          calls.push(b.entries.length);
          if (failNext) {
            failNext = false;
            return Promise.reject(new StoreError('STORE_UNAVAILABLE', 'injected'));
          }
          return target.appendBatch(b);
        };
      }
      const v = Reflect.get(target, prop, recv) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { store, calls, failNextCommit: () => (failNext = true) };
}

describe('LogWriter.appendAll', () => {
  it('commits a group of 300 in one batch with consecutive indexes, even beside concurrent single appends', async () => {
    const real = SqliteStore.open(join(tmp.dir, `group-${n++}.sqlite`));
    const c = counting(real);
    const writer = await LogWriter.open(c.store, { ...opts, maxBatch: 8 });
    await writer.append(entry('first'));
    const singles = Array.from({ length: 20 }, (_, k) => writer.append(entry(`s${k}`)));
    const group = writer.appendAll(Array.from({ length: 300 }, (_, k) => entry(`g${k}`)));
    const [done] = await Promise.all([group, ...singles]);
    const idx = done.map((a) => a.index);
    expect(idx).toEqual(Array.from({ length: 300 }, (_, k) => idx[0]! + k));
    // One checkpoint covers the whole group: it was one appendBatch call holding ≥ 300 entries.
    expect(new Set(done.map((a) => a.treeSize)).size).toBe(1);
    expect(c.calls.some((k) => k >= 300)).toBe(true);
    expect(writer.size).toBe(321);
    await checkLog(real);
    await writer.close();
    await real.close();
  });

  it('stores none of a group whose prepare throws, and uses no index', async () => {
    const real = SqliteStore.open(join(tmp.dir, `group-${n++}.sqlite`));
    const writer = await LogWriter.open(real, opts);
    await writer.append(entry('a'));
    const boom = new Error('record 3 does not sign');
    const group = writer.appendAll([entry('x0'), entry('x1'), entry('x2'), () => { throw boom; }, entry('x4')]);
    const single = writer.append(entry('b'));
    await expect(group).rejects.toBe(boom);
    expect((await single).index).toBe(1);
    expect(await real.treeSize()).toBe(2);
    await checkLog(real);
    await writer.close();
    await real.close();
  });

  it('stores none of a group when the store fails its commit, then goes on without a gap', async () => {
    const real = SqliteStore.open(join(tmp.dir, `group-${n++}.sqlite`));
    const c = counting(real);
    const writer = await LogWriter.open(c.store, opts);
    await writer.append(entry('a'));
    c.failNextCommit();
    await expect(writer.appendAll(Array.from({ length: 50 }, (_, k) => entry(`g${k}`)))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(await real.treeSize()).toBe(1);
    const again = await writer.appendAll([entry('r0'), entry('r1')]);
    expect(again.map((a) => a.index)).toEqual([1, 2]);
    await checkLog(real);
    await writer.close();
    await real.close();
  });

  it('resolves [] for an empty group without writing', async () => {
    const real = SqliteStore.open(join(tmp.dir, `group-${n++}.sqlite`));
    const writer = await LogWriter.open(real, opts);
    expect(await writer.appendAll([])).toEqual([]);
    expect(await real.treeSize()).toBe(0);
    await writer.close();
    await real.close();
  });
});
