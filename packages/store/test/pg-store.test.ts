/**
 * PgStore against the REAL PostgreSQL on 127.0.0.1:5432 (test/pg.ts: a fresh
 * database per store, dropped after; fails loudly when the server is down):
 * the shared LogStore contract, then what is specific to PostgreSQL.
 */
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Frontier, leafHash, StoreError } from '@parley/core';
import { PgStore } from '../src/postgres/store.js';
import type { DeliveryBatch } from '../src/types.js';
import { PG_MIGRATIONS, PG_SCHEMA_VERSION } from '../src/postgres/schema.js';
import { describeLogStore } from './logStoreContract.js';
import { buildBatch, checkLog, entryBytes, expectRejectsCode, meta, ORIGIN, signTestCheckpoint } from './helpers.js';
import { adminQuery, dropAll, freshPgUrl } from './pg.js';
import { LogWriter } from '../src/writer.js';

const dbs: { drop(): Promise<void> }[] = [];
// DROP DATABASE waits for a server checkpoint: dropped together, one checkpoint serves them all.
afterAll(() => dropAll(dbs), 300_000);

async function fresh(): Promise<string> {
  const db = await freshPgUrl();
  dbs.push(db);
  return db.url;
}

describeLogStore('PgStore', async () => PgStore.open(await fresh(), { max: 4 }));

describe('PgStore specifics', () => {
  it('migrates once: a second open, and two opens at once, run no migration and keep the data', async () => {
    const url = await fresh();
    const steps: number[] = [];
    const [a, b] = await Promise.all([PgStore.open(url, { onMigrate: (s) => steps.push(s.version) }), PgStore.open(url, { onMigrate: (s) => steps.push(s.version) })]);
    // Exactly one of the two ran the migrations (the other waited on the advisory lock and found them done).
    expect(steps).toEqual([...PG_MIGRATIONS.map((m) => m.version), PG_SCHEMA_VERSION]); // "before migration n" each, and "all done", from one opener only
    const f = Frontier.empty();
    await a.appendBatch(buildBatch(f, [{ bytes: entryBytes(0), meta: meta() }]));
    await a.close();
    await b.close();
    const again: number[] = [];
    const c = await PgStore.open(url, { onMigrate: (s) => again.push(s.version) });
    expect(again).toEqual([]);
    expect(await c.treeSize()).toBe(1);
    const v = await c.pool.query('SELECT max(version)::int AS v FROM parley_schema');
    expect(v.rows[0].v).toBe(PG_SCHEMA_VERSION);
    await c.close();
  });

  it('refuses a database written by a newer version (STORE_UNAVAILABLE)', async () => {
    const url = await fresh();
    const s = await PgStore.open(url);
    await s.pool.query(`INSERT INTO parley_schema (version, description) VALUES ($1, 'from the future')`, [PG_SCHEMA_VERSION + 1]);
    await s.close();
    await expectRejectsCode(PgStore.open(url), StoreError, 'STORE_UNAVAILABLE');
  });

  it('reports an unreachable server as STORE_UNAVAILABLE (connection refused)', async () => {
    await expectRejectsCode(PgStore.open('postgres://postgres@127.0.0.1:1/none', { connectTimeoutMs: 2000 }), StoreError, 'STORE_UNAVAILABLE');
  });

  it('rejects calls after close with STORE_UNAVAILABLE', async () => {
    const s = await PgStore.open(await fresh());
    await s.close();
    await expectRejectsCode(s.treeSize(), StoreError, 'STORE_UNAVAILABLE');
    await expectRejectsCode(s.putSetting('k', 1), StoreError, 'STORE_UNAVAILABLE');
    await s.close(); // idempotent
  });

  it('runs every connection with synchronous_commit on (durable on return)', async () => {
    const s = await PgStore.open(await fresh());
    const r = await s.pool.query('SHOW synchronous_commit');
    expect(r.rows[0].synchronous_commit).toBe('on');
    await s.close();
  });

  it('finds a log whose hashes and checkpoints disagree STORE_CORRUPT at open', async () => {
    const url = await fresh();
    const s = await PgStore.open(url);
    const f = Frontier.empty();
    await s.appendBatch(buildBatch(f, [0, 1, 2].map((i) => ({ bytes: entryBytes(i), meta: meta() }))));
    await s.close();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query('DELETE FROM checkpoints');
    await c.end();
    await expectRejectsCode(PgStore.open(url), StoreError, 'STORE_CORRUPT');
  });

  it('keeps a large log exactly (many batches, proofs verify)', async () => {
    const s = await PgStore.open(await fresh());
    const f = Frontier.empty();
    const earlier: Uint8Array[] = [];
    for (let b = 0; b < 20; b++) {
      const first = f.size;
      const batch = buildBatch(f, Array.from({ length: 37 }, (_, k) => ({ bytes: entryBytes(first + k, 'big', 300), meta: meta() })));
      await s.appendBatch(batch);
      if (b % 5 === 0) earlier.push(batch.checkpoint);
    }
    await checkLog(s, earlier);
    await s.close();
  });

  it('survives its connections being killed (server restart, failover): errors are STORE_UNAVAILABLE, then it reconnects; no acknowledged entry is lost', async () => {
    const db = await freshPgUrl();
    dbs.push(db);
    const s = await PgStore.open(db.url, { max: 4 });
    const w = await LogWriter.open(s, { origin: ORIGIN, signCheckpoint: signTestCheckpoint });
    const acked = new Map<number, Uint8Array>();
    const failures: string[] = [];
    let stop = false;
    const workers = Array.from({ length: 8 }, async (_, k) => {
      for (let i = 0; !stop; i++) {
        try {
          const r = await w.append((index) => ({ bytes: entryBytes(index, `w${k}-${i}`), meta: meta() }));
          acked.set(r.index, r.leafHash);
        } catch (e) {
          failures.push(e instanceof StoreError ? e.code : String(e));
          await new Promise((r) => setTimeout(r, 20));
        }
      }
    });
    for (let round = 0; round < 5; round++) {
      await new Promise((r) => setTimeout(r, 150));
      await adminQuery('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [db.name]);
    }
    // Run on until an append succeeds after the last kill (bounded), rather than for a fixed time a busy machine may not give.
    const since = acked.size;
    for (let t = Date.now(); acked.size === since && Date.now() - t < 30_000; ) await new Promise((r) => setTimeout(r, 20));
    stop = true;
    await Promise.all(workers);
    await w.close();
    // Every failure was typed; the store kept working after each kill.
    expect(failures.every((c) => c === 'STORE_UNAVAILABLE' || c === 'STORE_CONFLICT'), failures.join(',')).toBe(true);
    const { leaves } = await checkLog(s);
    for (const [i, h] of acked) expect(leaves[i], `acknowledged entry ${i}`).toEqual(h);
    expect(acked.size).toBeGreaterThan(0);
    expect(await s.treeSize()).toBeGreaterThanOrEqual(acked.size);
    await s.close();
  });
});

describe('PgStore: two processes ingesting the same entries at once', () => {
  it('store each entry once, count it once, and raise no false fork (STORE_CONFLICT only for another hash)', async () => {
    const db = await freshPgUrl();
    dbs.push(db);
    const [a, b] = [await PgStore.open(db.url, { max: 2 }), await PgStore.open(db.url, { max: 2 })];
    const rec = (i: number, tag = 'r') => {
      const bytes = entryBytes(i, tag);
      return { party: 'CN', index: i, leafHash: leafHash(bytes), bytes, meta: meta({ from: 'CN', to: ['US'] }), receivedAt: '2026-05-14T12:00:00Z' };
    };
    let total = 0;
    for (let round = 0; round < 20; round++) {
      const batch = Array.from({ length: 50 }, (_, k) => rec(round * 50 + k));
      const [x, y] = await Promise.all([a.ingest(batch), b.ingest(batch)]);
      expect(x + y).toBe(50);
      total += x + y;
      await Promise.all([a.mirror('UK', batch.map((e) => ({ index: e.index, leafHash: e.leafHash, bytes: e.bytes }))), b.mirror('UK', batch.map((e) => ({ index: e.index, leafHash: e.leafHash, bytes: e.bytes })))]);
    }
    expect(total).toBe(1000);
    expect(await a.heldCount('UK', 0, 1000)).toBe(1000);
    expect(await a.highestReceived('CN')).toBe(999);
    await expectRejectsCode(b.ingest([rec(5, 'fork')]), StoreError, 'STORE_CONFLICT');
    await a.close();
    await b.close();
  });
});

describe('PgStore: filing and judging the same deliveries at once', () => {
  it('lock the rows in one order: a filing that answers them out of key order and a judgement of them (two processes) both commit, no deadlock', async () => {
    const db = await freshPgUrl();
    dbs.push(db);
    // Two processes of one party (a store's own writes go one at a time).
    const s = await PgStore.open(db.url, { max: 4 });
    const s2 = await PgStore.open(db.url, { max: 4 });
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      const batch = (o: Partial<DeliveryBatch>): DeliveryBatch => ({ deliveries: [], answers: [], withdrawals: [], cursor: { ownSize: 0, lastSeq: 0 }, ...o });
      const delivery = (index: number) => ({ party: 'US', index, recipient: 'CN', direction: 'sent' as const, leafHash: `h${index}`, facts: '{}' });
      const answer = (index: number) => ({ party: 'US', index, recipient: 'CN', hash: `h${index}`, answers: '{"receipt":1}' });
      const judged = (index: number) => ({
        party: 'US', index, recipient: 'CN', state: 'open', settled: false, overdue: 0, dueAt: 5000, judgedAt: 1000, rank: 1, sortDue: 5000,
        startBound: null, receiptIdx: null, receiptBound: null, ackIdx: null, ackBound: null,
      });
      await s.fileDeliveries(batch({ deliveries: [0, 1, 2].map(delivery), cursor: { ownSize: 3, lastSeq: 0 } }));
      const waiting = async (n: number) => {
        const end = Date.now() + 10_000;
        for (;;) {
          const r = await other.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`);
          if (r.rows[0].n >= n) return;
          if (Date.now() > end) throw new Error(`timed out waiting for ${n} transactions waiting on a lock`);
          await new Promise((r) => setTimeout(r, 20));
        }
      };
      // Another transaction holds US/2: the filing (answers 1, 2, 0) waits on it; the judgement (0, 1) starts meanwhile.
      await other.query('BEGIN');
      await other.query(`SELECT 1 FROM deliveries WHERE party = 'US' AND idx = 2 FOR UPDATE`);
      const filing = s.fileDeliveries(batch({ answers: [answer(1), answer(2), answer(0)], cursor: { ownSize: 3, lastSeq: 1 } }));
      await waiting(1);
      const judging = s2.judgeDeliveries([judged(0), judged(1)]);
      await waiting(2);
      await other.query('COMMIT');
      // Before: the filing held US/1 and waited for US/0, which the judgement held while it waited for US/1 — one aborted (40P01).
      const [f, j] = await Promise.allSettled([filing, judging]);
      expect(f).toEqual({ status: 'fulfilled', value: true });
      expect(j).toEqual({ status: 'fulfilled', value: undefined });
      expect((await s.deliveryAnswers([0, 1, 2].map((i) => ({ party: 'US', index: i, recipient: 'CN', hash: `h${i}` })))).length).toBe(3);
    } finally {
      await other.end();
      await s.close();
      await s2.close();
    }
  });
});
