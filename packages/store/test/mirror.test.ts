/**
 * The mirror (issue 9): other parties' log entries kept for their recovery,
 * the writer's adopt() of a recovered tail, and the online backup — on real
 * SQLite files, through the writer thread where the node uses one.
 */
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { Frontier, StoreError, leafHash } from '@parley/core';
import { SqliteStore } from '../src/sqlite/store.js';
import { withWriterThread } from '../src/sqlite/threaded.js';
import { backupDatabase, databaseInUse, verifyStoreFile } from '../src/sqlite/backup.js';
import { LogWriter } from '../src/writer.js';
import type { ReceivedEntry } from '../src/types.js';
import { ORIGIN, buildBatch, entryBytes, expectRejectsCode, meta, signTestCheckpoint, tempDir } from './helpers.js';

const tmp = tempDir('parley-mirror-');
afterAll(() => tmp.cleanup());
let n = 0;
const fresh = () => join(tmp.dir, `s-${n++}.sqlite`);

const other = (i: number, tag = 'cn') => ({ index: i, bytes: entryBytes(i, tag), leafHash: leafHash(entryBytes(i, tag)) });
const received = (i: number): ReceivedEntry => ({ party: 'CN', ...other(i), meta: meta({ from: 'CN', to: ['US'] }), receivedAt: '2026-01-01T00:00:00Z' });

describe('mirror', () => {
  it('serves received and mirrored entries of a party as one contiguous run, stopping at the first gap', async () => {
    const path = fresh();
    const store = withWriterThread(SqliteStore.open(path), path);
    await store.ingest([received(0), received(2)]);
    expect(await store.mirror('CN', [other(1), other(3), other(5)])).toBe(3);
    // Idempotent; what is held as received is not stored twice.
    expect(await store.mirror('CN', [other(1), other(2)])).toBe(0);
    const run = await store.mirrored('CN', 0, 10);
    expect(run.map((e) => e.index)).toEqual([0, 1, 2, 3]);
    expect(run.map((e) => Buffer.from(e.bytes).toString())).toEqual([0, 1, 2, 3].map((i) => Buffer.from(entryBytes(i, 'cn')).toString()));
    expect((await store.mirrored('CN', 5, 6)).map((e) => e.index)).toEqual([5]);
    expect(await store.mirrored('CN', 4, 6)).toEqual([]);
    expect(await store.mirrored('EU', 0, 6)).toEqual([]);
    // Counted without reading bytes: received ∪ mirror, each index once (2 is held as received only).
    expect(await store.heldCount('CN', 0, 10)).toBe(5);
    expect(await store.heldCount('CN', 0, 4)).toBe(4);
    expect(await store.heldCount('CN', 3, 5)).toBe(1);
    expect(await store.heldCount('CN', 4, 4)).toBe(0);
    expect(await store.heldCount('EU', 0, 10)).toBe(0);
    await store.close();
  });

  it('refuses another entry at an index it holds (evidence, never an overwrite)', async () => {
    const path = fresh();
    const store = withWriterThread(SqliteStore.open(path), path);
    await store.ingest([received(0)]);
    await store.mirror('CN', [other(1)]);
    await expectRejectsCode(store.mirror('CN', [other(0, 'forged')]), StoreError, 'STORE_CONFLICT');
    await expectRejectsCode(store.mirror('CN', [other(2), other(1, 'forged')]), StoreError, 'STORE_CONFLICT');
    expect((await store.mirrored('CN', 0, 5)).map((e) => e.index)).toEqual([0, 1]);
    await store.close();
  });
});

describe('LogWriter.adopt (a recovered tail)', () => {
  it('stores entries signed earlier with the checkpoint that commits to them, and refuses another history', async () => {
    const items = Array.from({ length: 6 }, (_, i) => ({ bytes: entryBytes(i, 'us'), meta: meta() }));
    // The "published" log: 6 entries and its checkpoint at 6.
    const f = Frontier.empty();
    const published = buildBatch(f, items);
    const store = SqliteStore.open(fresh());
    await store.appendBatch(buildBatch(Frontier.empty(), items.slice(0, 2)));
    const w = await LogWriter.open(store, { origin: ORIGIN, signCheckpoint: signTestCheckpoint });
    expect(w.size).toBe(2);
    // Another tail than the checkpoint's: nothing stored.
    await expectRejectsCode(w.adopt({ entries: [...items.slice(2, 5), { bytes: entryBytes(5, 'other'), meta: meta() }], checkpoint: published.checkpoint }), StoreError, 'STORE_CONFLICT');
    expect(await store.treeSize()).toBe(2);
    expect(await w.adopt({ entries: items.slice(2), checkpoint: published.checkpoint })).toBe(6);
    expect(Buffer.from((await store.latestCheckpoint())!).toString()).toBe(Buffer.from(published.checkpoint).toString());
    // It appends on from there.
    const next = await w.append(() => ({ bytes: entryBytes(6, 'us'), meta: meta() }));
    expect(next.index).toBe(6);
    await store.close();
  });

  it('the gate refuses a write before anything is signed', async () => {
    const store = SqliteStore.open(fresh());
    const w = await LogWriter.open(store, { origin: ORIGIN, signCheckpoint: signTestCheckpoint });
    let prepared = 0;
    w.setGate(() => Promise.reject(Object.assign(new Error('rolled back'), { code: 'LOG_ROLLED_BACK' })));
    await expect(w.append(() => (prepared++, { bytes: entryBytes(0), meta: meta() }))).rejects.toMatchObject({ code: 'LOG_ROLLED_BACK' });
    expect(prepared).toBe(0);
    w.setGate(undefined);
    expect((await w.append(() => ({ bytes: entryBytes(0), meta: meta() }))).index).toBe(0);
    await store.close();
  });
});

describe('backup', () => {
  it('copies a store in use, consistently, verifies the copy, and tells a store in use', async () => {
    const path = fresh();
    const store = withWriterThread(SqliteStore.open(path), path);
    const w = await LogWriter.open(store, { origin: ORIGIN, signCheckpoint: signTestCheckpoint });
    await Promise.all(Array.from({ length: 50 }, (_, i) => w.append(() => ({ bytes: entryBytes(i), meta: meta() }))));
    expect(databaseInUse(path)).toBe(true);
    // Appends keep committing while the backup runs: the copy is one of the states, whole.
    const more = Promise.all(Array.from({ length: 50 }, (_, i) => w.append(() => ({ bytes: entryBytes(50 + i), meta: meta() }))));
    const out = join(tmp.dir, 'backup.sqlite');
    const s = await backupDatabase(path, out);
    await more;
    expect(s.treeSize).toBeGreaterThanOrEqual(50);
    expect(s.checkpoints).toBeGreaterThan(0);
    expect(databaseInUse(out)).toBe(false);
    expect(existsSync(`${out}-wal`)).toBe(false);
    expect((await verifyStoreFile(out)).treeSize).toBe(s.treeSize);
    await w.close();
    await store.close();
    expect(databaseInUse(path)).toBe(false);
  });

  it('a damaged copy does not verify', async () => {
    const bad = join(tmp.dir, 'bad.sqlite');
    writeFileSync(bad, 'not a database');
    await expect(verifyStoreFile(bad)).rejects.toMatchObject({ code: expect.stringMatching(/^STORE_/) });
  });
});
