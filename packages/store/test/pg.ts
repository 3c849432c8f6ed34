/**
 * PostgreSQL for tests: every test gets its own database on the local server
 * (127.0.0.1:5432, user postgres, trust auth — the development and CI set-up,
 * see .ci/run), created fresh and dropped after.
 *
 * If the server is not reachable, this tries to start it (`pg_ctlcluster 15
 * main start`, then `service postgresql start`) and, if it is still down,
 * THROWS: a test that needs PostgreSQL fails loudly, it never skips.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** Where the test server listens (override with PARLEY_TEST_PG, an admin URL of the server). */
export const PG_ADMIN_URL = process.env['PARLEY_TEST_PG'] ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function reachable(): Promise<Error | undefined> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query('SELECT 1');
    return undefined;
  } catch (e) {
    return e as Error;
  } finally {
    await c.end().catch(() => undefined);
  }
}

let ready: Promise<void> | undefined;

/** Resolves when the test server answers; starts it if it does not; throws if it cannot be reached. */
export function ensurePostgres(): Promise<void> {
  ready ??= (async () => {
    let err = await reachable();
    if (!err) return;
    const attempts: [string, string[]][] = [
      ['pg_ctlcluster', ['15', 'main', 'start']],
      ['service', ['postgresql', 'start']],
    ];
    const tried: string[] = [];
    for (const [cmd, args] of attempts) {
      try {
        execFileSync(cmd, args, { stdio: 'pipe', timeout: 30_000 });
        tried.push(`${cmd} ${args.join(' ')}: ok`);
      } catch (e) {
        tried.push(`${cmd} ${args.join(' ')}: ${(e as Error).message.split('\n')[0]}`);
        continue;
      }
      for (let i = 0; i < 20; i++) {
        err = await reachable();
        if (!err) return;
        await new Promise((r) => setTimeout(r, 250));
      }
    }
    ready = undefined;
    throw new Error(
      `PostgreSQL is required by this test and is not reachable at ${PG_ADMIN_URL} (${err?.message}); ` +
        `tried to start it: ${tried.join('; ')}. Start it (pg_ctlcluster 15 main start) and rerun.`,
    );
  })();
  return ready;
}

/**
 * Drops several test databases at once. DROP DATABASE waits for a server
 * checkpoint (slow on a busy disk); issued together, their checkpoint
 * requests are served by one.
 */
export async function dropAll(dbs: readonly { drop(): Promise<void> }[]): Promise<void> {
  await Promise.all(dbs.map((d) => d.drop()));
}

/** Runs one statement on the admin database. */
export async function adminQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL });
  await c.connect();
  try {
    return await c.query(sql, params);
  } finally {
    await c.end();
  }
}

/** The URL of database `name` on the test server. */
export function pgUrlOf(name: string): string {
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/**
 * A new, empty database `parley_t_<random>` on the test server.
 * `drop()` ends every connection to it and drops it (call it after closing
 * the stores on it; it is safe to call twice).
 */
export async function freshPgUrl(): Promise<{ url: string; name: string; drop(): Promise<void> }> {
  await ensurePostgres();
  const name = `parley_t_${randomBytes(6).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  let dropped = false;
  return {
    url: pgUrlOf(name),
    name,
    async drop() {
      if (dropped) return;
      dropped = true;
      await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    },
  };
}
