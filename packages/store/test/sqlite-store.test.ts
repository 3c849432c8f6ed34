/**
 * SqliteStore against the REAL better-sqlite3 on temp files: the shared
 * LogStore contract, then what is specific to SQLite (pragmas, read-only
 * opening, driver errors mapped to StoreError codes, layout checks at open).
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { Frontier, leafHash, StoreError } from '@parley/core';
import { SqliteStore } from '../src/sqlite/store.js';
import { describeLogStore } from './logStoreContract.js';
import { buildBatch, entryBytes, expectRejectsCode, meta, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const freshPath = () => join(tmp.dir, `store-${n++}.sqlite`);

describeLogStore('SqliteStore (file)', async () => SqliteStore.open(freshPath()));
describeLogStore('SqliteStore (:memory:)', async () => SqliteStore.open(':memory:'));

async function storeWith(path: string, sizes: number[]): Promise<void> {
  const s = SqliteStore.open(path);
  const f = Frontier.empty();
  for (const k of sizes) {
    const first = f.size;
    await s.appendBatch(buildBatch(f, Array.from({ length: k }, (_, i) => ({ bytes: entryBytes(first + i), meta: meta() }))));
  }
  await s.close();
}

describe('SqliteStore specifics', () => {
  it('opens in WAL mode with synchronous=FULL and foreign keys on', async () => {
    const path = freshPath();
    await storeWith(path, [3]);
    const db = new Database(path);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal'); // persistent in the file
    db.close();
  });

  it('reopens a file and keeps everything', async () => {
    const path = freshPath();
    await storeWith(path, [3, 4]);
    const s = SqliteStore.open(path);
    expect(await s.treeSize()).toBe(7);
    expect((await s.entry(6))!.bytes).toEqual(entryBytes(6));
    await s.close();
  });

  it('keeps witness state across reopening (durable on return)', async () => {
    const path = freshPath();
    const s = SqliteStore.open(path);
    const state = { party: 'CN', treeSize: 12, rootHash: new Uint8Array(32).fill(7), note: entryBytes(12, 'note') };
    expect(await s.advanceWitness('CN', 0, state)).toBe(true);
    await s.close();
    const again = SqliteStore.open(path);
    expect(await again.witnessState('CN')).toEqual(state);
    expect(await again.advanceWitness('CN', 0, { ...state, treeSize: 13 })).toBe(false);
    await again.close();
  });

  it('opens read-only: reads work, writes fail with STORE_UNAVAILABLE', async () => {
    const path = freshPath();
    await storeWith(path, [2]);
    const ro = SqliteStore.open(path, { readonly: true });
    expect(await ro.treeSize()).toBe(2);
    await expectRejectsCode(ro.putSetting('x', 1), StoreError, 'STORE_UNAVAILABLE');
    const f = Frontier.empty();
    buildBatch(f, [{ bytes: entryBytes(0), meta: meta() }, { bytes: entryBytes(1), meta: meta() }]);
    await expectRejectsCode(ro.appendBatch(buildBatch(f, [{ bytes: entryBytes(2), meta: meta() }])), StoreError, 'STORE_UNAVAILABLE');
    await ro.close();
  });

  it('maps open failures to StoreError codes', () => {
    expect(() => SqliteStore.open(join(tmp.dir, 'missing', 'dir', 'x.sqlite'))).toThrow(StoreError);
    try {
      SqliteStore.open(join(tmp.dir, 'nope.sqlite'), { readonly: true });
    } catch (e) {
      expect((e as StoreError).code).toBe('STORE_UNAVAILABLE');
    }
    const garbage = freshPath();
    copyFileSync(new URL(import.meta.url).pathname, garbage); // a text file is not a database
    let code: string | undefined;
    try {
      SqliteStore.open(garbage);
    } catch (e) {
      expect(e).toBeInstanceOf(StoreError);
      code = (e as StoreError).code;
    }
    expect(code).toBe('STORE_CORRUPT');
  });

  it('refuses a database whose entries, hashes and checkpoints disagree (STORE_CORRUPT)', async () => {
    for (const tamper of ['DELETE FROM hashes WHERE idx = (SELECT max(idx) FROM hashes)', 'DELETE FROM checkpoints WHERE tree_size = 5', 'DELETE FROM entries WHERE idx = 1']) {
      const path = freshPath();
      await storeWith(path, [2, 3]);
      const db = new Database(path);
      db.pragma('foreign_keys = OFF');
      db.exec(tamper);
      db.close();
      let code: string | undefined;
      try {
        SqliteStore.open(path);
      } catch (e) {
        code = (e as StoreError).code;
      }
      expect(code, tamper).toBe('STORE_CORRUPT');
    }
  });

  it('maps a lock held by another connection to STORE_UNAVAILABLE (SQLITE_BUSY), never a raw driver error', async () => {
    const path = freshPath();
    await storeWith(path, [1]);
    const s = SqliteStore.open(path, { busyTimeoutMs: 0 });
    const other = new Database(path);
    other.exec('BEGIN IMMEDIATE');
    const f = Frontier.empty();
    buildBatch(f, [{ bytes: entryBytes(0), meta: meta() }]);
    const err = await expectRejectsCode(s.appendBatch(buildBatch(f, [{ bytes: entryBytes(1), meta: meta() }])), StoreError, 'STORE_UNAVAILABLE');
    expect((err.cause as { code?: string }).code).toMatch(/^SQLITE_BUSY/);
    other.exec('ROLLBACK');
    other.close();
    await s.close();
  });

  it('rejects every call after close with STORE_UNAVAILABLE', async () => {
    const s = SqliteStore.open(freshPath());
    await s.close();
    await s.close();
    await expectRejectsCode(s.treeSize(), StoreError, 'STORE_UNAVAILABLE');
    await expectRejectsCode(s.readHashes([0]), StoreError, 'STORE_UNAVAILABLE');
  });

  it('maps corrupt stored JSON to STORE_CORRUPT', async () => {
    const path = freshPath();
    await storeWith(path, [2]);
    const db = new Database(path);
    // Bytes that are not an envelope keep their meta as JSON (schema 9): break it.
    db.pragma('ignore_check_constraints = ON');
    db.exec(`UPDATE entries SET meta = '{nope' WHERE idx = 0`);
    db.exec(`UPDATE entries SET meta = '{"from":"US"}' WHERE idx = 1`);
    db.close();
    const s = SqliteStore.open(path);
    await expectRejectsCode(s.entry(0), StoreError, 'STORE_CORRUPT');
    await expectRejectsCode(s.entry(1), StoreError, 'STORE_CORRUPT');
    await s.close();
  });

  // Schema 9 (issue 14, disk bytes per entry): the header fields an envelope carries are not stored twice.
  describe('entries whose bytes are their envelope', () => {
    const envelope = (i: number, m: ReturnType<typeof meta>, extra: Record<string, unknown> = {}) =>
      new TextEncoder().encode(
        JSON.stringify({ accord: 'a', body: { clear: { text: 'x'.repeat(100) } }, from: { officer: m.officer, party: m.from }, marking: m.marking, precedence: m.precedence, refs: m.refs.map((r) => ({ hash: r.hash, index: r.index, party: r.party })), seq: i, sig: 's', time: m.time, to: m.to, type: m.type, v: 1, ...extra }),
      );
    const ref = { party: 'CN', index: 7, hash: 'A'.repeat(43) + '=' };

    it('keeps no meta column for them and reads every field back from the bytes', async () => {
      const path = freshPath();
      const s = SqliteStore.open(path);
      const f = Frontier.empty();
      const m0 = meta({ refs: [ref], to: ['CN', 'UK'] });
      const m1 = meta({ type: 'incident.report', incident: 'INC-1' });
      const m2 = meta({ officer: 'bob' }); // the caller's meta says another officer than the bytes: kept
      await s.appendBatch(buildBatch(f, [{ bytes: envelope(0, m0), meta: m0 }, { bytes: envelope(1, m1), meta: m1 }, { bytes: envelope(2, meta()), meta: m2 }]));
      expect((await s.entries(0, 3)).map((e) => e.meta)).toEqual([m0, m1, m2]);
      expect((await s.outbox({ type: 'incident.report', limit: 5 })).map((e) => e.meta)).toEqual([m1]);
      expect((await s.referencing('CN', 7)).map((e) => e.index)).toEqual([0]);
      await s.close();
      const db = new Database(path, { readonly: true });
      expect(db.prepare('SELECT idx, meta IS NULL AS derived FROM entries ORDER BY idx').raw().all()).toEqual([[0, 1], [1, 1], [2, 0]]);
      expect(db.pragma('page_size', { simple: true })).toBe(16384);
      db.close();
    });

    it('reads the leaf hash from the stored hashes: a missing one is STORE_CORRUPT, not a crash', async () => {
      const path = freshPath();
      await storeWith(path, [3]);
      const s = SqliteStore.open(path);
      const e = (await s.entry(1))!;
      expect(e.leafHash).toEqual(leafHash(e.bytes));
      await s.close();
      const db = new Database(path);
      db.exec('DELETE FROM hashes WHERE idx = 1'); // entry 1's leaf: storedHashIndex(0, 1)
      db.close();
      // The layout check counts max(idx): the hole is found when the entry is read.
      const t = SqliteStore.open(path);
      await expectRejectsCode(t.entry(1), StoreError, 'STORE_CORRUPT');
      expect((await t.entry(0))!.index).toBe(0);
      await t.close();
    });
  });
});
