/**
 * openStore (issue 14: one store factory for every caller): a postgres:// or
 * postgresql:// URL opens the PostgreSQL store (real server, fresh
 * database), anything else the SQLite file; read-only opens refuse writes
 * with STORE_UNAVAILABLE on both and write nothing; an unreachable server
 * is STORE_UNAVAILABLE, with the password kept out of the message.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Frontier, StoreError } from '@parley/core';
import { isPostgresUrl, openStore } from '../src/factory.js';
import { PgStore } from '../src/postgres/store.js';
import { SqliteStore } from '../src/sqlite/store.js';
import { buildBatch, entryBytes, expectRejectsCode, meta, tempDir } from './helpers.js';
import { freshPgUrl } from './pg.js';

const tmp = tempDir('parley-factory-');
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(drops.map((d) => d()));
  tmp.cleanup();
}, 300_000);

describe('openStore', () => {
  it('tells PostgreSQL URLs from file paths', () => {
    for (const u of ['postgres://h/db', 'postgresql://u:p@h:5432/db', 'POSTGRES://h/db']) expect(isPostgresUrl(u), u).toBe(true);
    for (const p of ['data/parley.sqlite', '/var/lib/parley/postgres.sqlite', 'postgres:/x', 'file:postgres://x', ':memory:']) expect(isPostgresUrl(p), p).toBe(false);
  });

  it('opens PostgreSQL for a URL and SQLite for a path; read-only refuses writes on both and writes nothing', async () => {
    const db = await freshPgUrl();
    drops.push(db.drop);
    const path = join(tmp.dir, 'f.sqlite');
    for (const spec of [db.url, path]) {
      const rw = await openStore(spec, { writerThread: true });
      expect(rw instanceof PgStore || rw instanceof SqliteStore, spec).toBe(true);
      expect(rw instanceof PgStore).toBe(isPostgresUrl(spec));
      await rw.appendBatch(buildBatch(Frontier.empty(), [{ bytes: entryBytes(0), meta: meta() }]));
      await rw.putSetting('k', 1);
      await rw.close();

      const ro = await openStore(spec, { readonly: true });
      expect(await ro.treeSize()).toBe(1);
      expect(await ro.getSetting('k')).toBe(1);
      const f = Frontier.empty();
      buildBatch(f, [{ bytes: entryBytes(0), meta: meta() }]);
      await expectRejectsCode(ro.appendBatch(buildBatch(f, [{ bytes: entryBytes(1), meta: meta() }])), StoreError, 'STORE_UNAVAILABLE');
      await expectRejectsCode(ro.putSetting('k', 2), StoreError, 'STORE_UNAVAILABLE');
      await ro.close();

      const again = await openStore(spec);
      expect(await again.treeSize()).toBe(1);
      expect(await again.getSetting('k')).toBe(1);
      await again.close();
    }
  });

  it('an unreachable server is STORE_UNAVAILABLE, and the message does not carry the password', async () => {
    const e = await openStore('postgres://parley:s3cret-pw@127.0.0.1:1/none').then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(StoreError);
    expect((e as StoreError).code).toBe('STORE_UNAVAILABLE');
    expect(String((e as Error).message)).not.toContain('s3cret-pw');
  });
});
