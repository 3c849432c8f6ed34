/**
 * The deadline bookkeeping's writes do not hold up the log's (issue 14's
 * soak): the trackers of two processes on one database file the same rows,
 * so one filing may wait on the other process's row locks — and in one write
 * queue per store every nonce, ingest and append of the process waited
 * behind it (EU's pushes timed out for minutes). Real PostgreSQL on
 * 127.0.0.1:5432 (store/test/pg.ts: started if down, FAILS when unreachable).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PgStore } from '../src/postgres/store.js';
import { freshPgUrl } from './pg.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!().catch(() => undefined);
});

describe('PgStore: deadline filings and the log writes', () => {
  it('a filing waiting on another process\u2019s row lock does not hold up a nonce, a setting or a cursor; the filing lands once the lock is released', async () => {
    const db = await freshPgUrl();
    cleanup.push(() => db.drop());
    const store = await PgStore.open(db.url, { max: 4 });
    cleanup.push(() => store.close());
    const other = await PgStore.open(db.url, { max: 2 });
    cleanup.push(() => other.close());
    // The other process's tracker is filing: it holds the filing cursor's row.
    const c = await other.pool.connect();
    cleanup.push(async () => c.release(true));
    await c.query('BEGIN');
    await c.query('INSERT INTO delivery_cursor (id, own_size, last_seq) VALUES (1, 1, 0) ON CONFLICT (id) DO UPDATE SET own_size = 1');
    const delivery = { party: 'US', index: 0, recipient: 'CN', direction: 'sent' as const, leafHash: 'h0', facts: '{"f":1}' };
    const filing = store.fileDeliveries({ deliveries: [delivery], answers: [], withdrawals: [], cursor: { ownSize: 1, lastSeq: 0 } });
    let filed = false;
    void filing.then(() => (filed = true), () => undefined);
    await new Promise((r) => setTimeout(r, 300)); // the filing is waiting on the lock now
    const writes = Promise.all([store.rememberNonce('US n1', 2_000_000_000, 1_000), store.putSetting('probe', 'x'), store.advanceCursor('pull', 'CN', { treeSize: 3, frontier: [] })]);
    const done = await Promise.race([writes.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), 3_000).unref())]);
    expect(done, 'the log writes waited behind a filing blocked on another process\u2019s lock').toBe(true);
    expect(filed).toBe(false);
    await c.query('COMMIT');
    expect(await filing).toBe(true);
    expect((await store.deliveries({ limit: 10 })).map((r) => [r.party, r.index, r.recipient])).toEqual([['US', 0, 'CN']]);
  }, 30_000);
});
