/**
 * Nonces of signed node-to-node requests survive a restart (issue 9): a
 * request captured on the wire and replayed within its ±60 s window is
 * refused by the same node after it was stopped and reopened on the same
 * SQLite file (the nonce is in the store's request_nonces table before the
 * request is acted on); a fresh request still passes. Real SQLite files, the
 * writer thread `parley serve` uses, and the node's HTTP server.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PgStore, SqliteStore, withWriterThread } from '@parley/store';
import { ParleyNode, createServer } from '../src/index.js';
import { openChannel } from './helpers/channel.js';
import { expectProblem } from './helpers/http.js';
import { freshPgUrl } from '../../store/test/pg.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-nonces-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('replay protection across a restart', () => {
  it('refuses a captured request replayed after the node restarted; a fresh one passes', async () => {
    const ch = await openChannel(['US', 'CN'], dir);
    const file = join(dir, 'CN.sqlite');
    const cn = ch.parties.find((p) => p.id === 'CN')!;
    await ch.store('CN').close(); // CN runs below on its file, as parley serve runs it
    const start = async () => {
      const store = withWriterThread(SqliteStore.open(file), file);
      const node = await ParleyNode.open({ accord: ch.accord, party: 'CN', keys: cn.keys, store });
      const app = await createServer({ node, store });
      return { store, node, app, async stop() { await app.close(); await node.close(); await store.close(); } };
    };
    const captured = ch.node('US').signRequest({ to: 'CN', method: 'GET', path: '/fed/v1/forks' });
    const get = (app: Awaited<ReturnType<typeof start>>['app'], header: string) => app.inject({ method: 'GET', url: '/fed/v1/forks', headers: { 'parley-signature': header } });

    let run = await start();
    expect((await get(run.app, captured)).statusCode).toBe(200);
    expectProblem(await get(run.app, captured), 401, 'REQUEST_UNAUTHENTICATED'); // replay, same process
    await run.stop();

    run = await start();
    const replay = await get(run.app, captured);
    expectProblem(replay, 401, 'REQUEST_UNAUTHENTICATED');
    expect(replay.json<{ detail: string }>().detail).toMatch(/replay/);
    expect((await get(run.app, ch.node('US').signRequest({ to: 'CN', method: 'GET', path: '/fed/v1/forks' }))).statusCode).toBe(200);
    expect((await run.store.liveNonces(Date.now() / 1000)).length).toBe(2);
    await run.stop();
    await ch.node('US').close();
    await ch.store('US').close();
  }, 60_000);

  it('refuses (503) a request whose nonce the store could not write, and serves the next once the store is back — no restart (PostgreSQL)', async () => {
    // Issue 14's soak: after kill -9 of PostgreSQL one failed nonce write made the node refuse every
    // node-to-node request (503 STORE_UNAVAILABLE) until the process restarted — pushes and pulls to it, for good.
    const db = await freshPgUrl();
    const ch = await openChannel(['US', 'CN']);
    const cn = ch.parties.find((p) => p.id === 'CN')!;
    const store = await PgStore.open(db.url, { max: 4 });
    const node = await ParleyNode.open({ accord: ch.accord, party: 'CN', keys: cn.keys, store });
    const app = await createServer({ node, store });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      const get = () => app.inject({ method: 'GET', url: '/fed/v1/forks', headers: { 'parley-signature': ch.node('US').signRequest({ to: 'CN', method: 'GET', path: '/fed/v1/forks' }) } });
      expect((await get()).statusCode).toBe(200);
      // The nonce table out of reach for a moment: the write fails as a server error (STORE_UNAVAILABLE).
      await admin.query('ALTER TABLE request_nonces RENAME TO request_nonces_away');
      expectProblem(await get(), 503, 'STORE_UNAVAILABLE');
      await admin.query('ALTER TABLE request_nonces_away RENAME TO request_nonces');
      expect((await get()).statusCode).toBe(200);
      expect((await store.liveNonces(Date.now() / 1000)).length).toBe(2);
    } finally {
      await admin.end();
      await app.close();
      await node.close();
      await store.close();
      await ch.close();
      await db.drop();
    }
  }, 60_000);

  it('prunes expired nonces as new ones are remembered, and a key is live until it expires', async () => {
    const store = SqliteStore.open(join(dir, 'prune.sqlite'));
    expect(await store.rememberNonce('US a', 100, 50)).toBe(true);
    expect(await store.rememberNonce('US a', 100, 60)).toBe(false); // live: a replay
    expect(await store.rememberNonce('US b', 300, 150)).toBe(true); // prunes 'US a' (expired at 100)
    expect(await store.liveNonces(150)).toEqual([{ key: 'US b', expiresAt: 300 }]);
    expect(await store.rememberNonce('US a', 400, 200)).toBe(true); // expired, so new again
    await store.close();
  });
});
