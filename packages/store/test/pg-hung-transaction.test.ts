/**
 * A process that hangs inside a transaction (SIGSTOP, a frozen VM) must not
 * block its party's next sequencer forever (issue 14, "kill -9 / hang of the
 * sequencer"): PostgreSQL ends a session idle in a transaction after
 * IDLE_IN_TRANSACTION_MS, rolling back what it held, and the other store's
 * write — waiting on the same row — goes through. Real PostgreSQL on
 * 127.0.0.1:5432 (store/test/pg.ts: started if down, FAILS when unreachable).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IDLE_IN_TRANSACTION_MS, PgStore } from '../src/postgres/store.js';
import { freshPgUrl } from './pg.js';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!().catch(() => undefined);
});

describe('PgStore: a transaction left open by a hung process', () => {
  it('is ended by the server, and the write that waited on its row lock completes', async () => {
    const db = await freshPgUrl();
    cleanup.push(() => db.drop());
    const hung = await PgStore.open(db.url, { max: 2 });
    cleanup.push(() => hung.close());
    const next = await PgStore.open(db.url, { max: 2 });
    cleanup.push(() => next.close());
    // The hung process: a transaction that took a row lock, then nothing (its statements never come).
    const c = await hung.pool.connect();
    let lost: unknown;
    c.on('error', (e) => (lost = e));
    cleanup.push(async () => c.release(true));
    await c.query('BEGIN');
    await c.query(`INSERT INTO settings (key, value) VALUES ('sequencer.probe', '"hung"')`);
    const t0 = performance.now();
    // The next sequencer writes the same row: it waits on the lock until the server ends the silent session.
    const bound = IDLE_IN_TRANSACTION_MS + 10_000;
    const done = await Promise.race([
      next.putSetting('sequencer.probe', 'next').then(() => true),
      new Promise<false>((r) => setTimeout(() => r(false), bound).unref()),
    ]);
    expect(done, `the write waited more than ${bound} ms on the hung transaction`).toBe(true);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(IDLE_IN_TRANSACTION_MS - 1_000);
    expect(await next.getSetting('sequencer.probe')).toBe('next');
    // The hung session is gone: its transaction rolled back, its next statement fails.
    await expect(c.query('COMMIT')).rejects.toBeDefined();
    void lost;
  }, 30_000);
});
