/**
 * A party's node on PostgreSQL, end to end with the real built binary
 * (issue 14): `parley init --store postgres://…` on a fresh database of the
 * local server (127.0.0.1:5432; the test fails loudly when it is down), the
 * accord with a SQLite party, `parley serve` on it accepting entries, a
 * restart keeping them, officer/export reading the database, and the typed
 * refusals: a database that already holds a party, backup of a PostgreSQL
 * store (STORE_NOT_SQLITE), a --store that is not a PostgreSQL URL.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Served, serve as serveNode } from './helpers/serve.js';
import { freshPgUrl } from '../../store/test/pg.js';

const PASSPHRASE = 'correct horse battery staple';
let tmp = '';
let db: { url: string; drop(): Promise<void> };
const servers: Served[] = [];

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PARLEY_PASSPHRASE: PASSPHRASE };
  for (const k of ['PARLEY_DATA', 'PARLEY_URL', 'PARLEY_TOKEN']) delete e[k];
  return e;
}
function parley(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8', timeout: 60_000, env: env() });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function json<T = Record<string, unknown>>(args: readonly string[]): T {
  const r = parley([...args, '--json']);
  expect(r.code, `parley ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}
async function count(sql: string): Promise<number> {
  const c = new pg.Client({ connectionString: db.url });
  await c.connect();
  try {
    return Number((await c.query(sql)).rows[0].n);
  } finally {
    await c.end();
  }
}
const serve = (data: string): Promise<Served> => serveNode(data, { cwd: tmp, env: env(), extra: ['--no-federation', '--no-heartbeat'] });

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'parley-pg-cli-'));
  writeFileSync(join(tmp, 'alice.pw'), 'alice-password-123\n');
  db = await freshPgUrl();
});
afterAll(async () => {
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.exited));
  await db.drop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('a node on PostgreSQL', () => {
  it('parley init --store URL creates the tables there and keeps the URL in config.json (no SQLite file)', async () => {
    json(['init', '--party', 'US', '--origin', 'us.parley.test/log', '--data', 'us', '--admin', 'alice', '--admin-password-file', 'alice.pw', '--store', db.url]);
    json(['init', '--party', 'CN', '--origin', 'cn.parley.test/log', '--data', 'cn']);
    expect(JSON.parse(readFileSync(join(tmp, 'us', 'config.json'), 'utf8'))).toMatchObject({ party: 'US', store: db.url });
    expect(existsSync(join(tmp, 'us', 'parley.sqlite'))).toBe(false);
    expect(existsSync(join(tmp, 'cn', 'parley.sqlite'))).toBe(true);
    expect(await count(`SELECT count(*) AS n FROM officers WHERE name = 'alice' AND role = 'admin'`)).toBe(1);
    expect(json<{ officers: { name: string }[] }>(['officer', 'list', '--data', 'us']).officers.map((o) => o.name)).toEqual(['alice']);
  });

  it('refuses a database that already holds a party, and a --store that is not a PostgreSQL URL (2), writing no directory', () => {
    const taken = parley(['init', '--party', 'UK', '--origin', 'uk.parley.test/log', '--data', 'uk', '--store', db.url, '--json']);
    expect(taken.code).toBe(2);
    expect(existsSync(join(tmp, 'uk'))).toBe(false);
    const bad = parley(['init', '--party', 'UK', '--origin', 'uk.parley.test/log', '--data', 'uk', '--store', 'mysql://x@127.0.0.1/db', '--json']);
    expect(bad.code).toBe(2);
    expect(existsSync(join(tmp, 'uk'))).toBe(false);
  });

  it('an unreachable PostgreSQL is a store error (4), not a crash', () => {
    const r = parley(['init', '--party', 'UK', '--origin', 'uk.parley.test/log', '--data', 'uk', '--store', 'postgres://postgres@127.0.0.1:1/none', '--json']);
    expect(r.code).toBe(4);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'STORE_UNAVAILABLE' });
  });

  it('the accord is installed into the PostgreSQL store; parley serve runs on it and accepts entries, durable in the database', async () => {
    json(['accord', 'init', '--name', 'us-cn-pg', '--party-file', 'us/party.json', '--party-file', 'cn/party.json']);
    json(['accord', 'sign', 'accord.json', '--data', 'us']);
    json(['accord', 'sign', 'accord.json', '--data', 'cn']);
    for (const p of ['us', 'cn']) json(['accord', 'install', 'accord.json', '--data', p]);
    const node = await serve('us');
    servers.push(node);
    json(['login', '--name', 'alice', '--password-file', 'alice.pw', '--url', node.url, '--data', 'us']);
    const sent = json<{ index: number; leafHash: string }>(['send', '--precedence', 'FLASH', '--to', 'CN', '--marking', 'TLP:AMBER', '--lang', 'en', 'Stored in PostgreSQL.', '--data', 'us']);
    expect(sent.index).toBe(0);
    expect(await count('SELECT count(*) AS n FROM entries')).toBe(1);
    expect(await count('SELECT count(*) AS n FROM checkpoints WHERE tree_size = 1')).toBe(1);
    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
  });

  it('after a restart the node continues the same log; export reads it from the database', async () => {
    const node = await serve('us');
    servers.push(node);
    json(['login', '--name', 'alice', '--password-file', 'alice.pw', '--url', node.url, '--data', 'us']);
    const second = json<{ index: number }>(['send', '--precedence', 'ROUTINE', '--to', 'CN', '--marking', 'TLP:GREEN', '--lang', 'en', 'Second entry.', '--data', 'us']);
    expect(second.index).toBe(1);
    const checkpoint = await (await fetch(`${node.url}/log/checkpoint`)).text();
    expect(checkpoint.split('\n')[1]).toBe('2');
    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);
    const r = parley(['export', '--data', 'us']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { index: number });
    expect(lines.map((l) => l.index)).toEqual([0, 1]);
  });

  it('parley backup refuses a PostgreSQL store with STORE_NOT_SQLITE (2) and says what to use', () => {
    const r = parley(['backup', '--data', 'us', '--out', 'us.sqlite', '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'STORE_NOT_SQLITE' });
    expect(existsSync(join(tmp, 'us.sqlite'))).toBe(false);
  });
});
