/** The test PostgreSQL helper: a fresh database is created empty, usable, and dropped. */
import { expect, it } from 'vitest';
import pg from 'pg';
import { adminQuery, freshPgUrl } from './pg.js';

it('freshPgUrl creates an empty database and drop() removes it', async () => {
  const db = await freshPgUrl();
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  const r = await c.query(`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = 'public'`);
  expect(r.rows[0].n).toBe(0);
  await c.end();
  await db.drop();
  const left = await adminQuery('SELECT 1 FROM pg_database WHERE datname = $1', [db.name]);
  expect(left.rowCount).toBe(0);
});
