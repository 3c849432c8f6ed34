/**
 * Received rows are numbered in commit order across processes (issue 14):
 * the deadline tracker and the incident index follow `received.seq` as a
 * cursor, so a row numbered below one that committed first would be skipped
 * for ever. An ingest therefore waits while another process holds the
 * append lock (an appendBatch with received entries in flight), on the REAL
 * PostgreSQL (test/pg.ts: fresh database, fails loudly when the server is down).
 */
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { leafHash } from '@parley/core';
import type { ReceivedEntry } from '../src/types.js';
import { PgStore } from '../src/postgres/store.js';
import { entryBytes, meta } from './helpers.js';
import { freshPgUrl } from './pg.js';

const dbs: { drop(): Promise<void> }[] = [];
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

function received(party: string, index: number): ReceivedEntry {
  const bytes = entryBytes(index, party);
  return { party, index, leafHash: leafHash(bytes), bytes, meta: meta({ from: party }), receivedAt: '2026-12-04T10:00:00Z' };
}

describe('PgStore received order across processes', () => {
  it('an ingest waits for another process\u2019s append lock, so seq follows commit order', async () => {
    const db = await freshPgUrl();
    dbs.push(db);
    const store = await PgStore.open(db.url, { max: 2 });
    const other = new pg.Client({ connectionString: db.url });
    await other.connect();
    try {
      await store.ingest([received('CN', 0)]);
      // "Another process" holds the append lock, as its appendBatch does while it writes received rows.
      await other.query('BEGIN');
      await other.query('SELECT one FROM append_head FOR UPDATE');
      let done = false;
      const ingest = store.ingest([received('CN', 1)]).then((n) => ((done = true), n));
      await new Promise((r) => setTimeout(r, 300));
      expect(done).toBe(false);
      expect((await store.inbox({ limit: 10 })).map((r) => r.index)).toEqual([0]);
      await other.query('COMMIT');
      expect(await ingest).toBe(1);
      const rows = await store.inbox({ limit: 10 });
      expect(rows.map((r) => r.index)).toEqual([1, 0]);
      expect(rows[0]!.rowid).toBeGreaterThan(rows[1]!.rowid);
    } finally {
      await other.end();
      await store.close();
    }
  });
});
