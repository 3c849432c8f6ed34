/**
 * `parley migrate` end to end with the real built binary (issue 14): a
 * party that ran on SQLite (entries sent through a real `parley serve`) is
 * copied to a fresh PostgreSQL database (127.0.0.1:5432; fails loudly when
 * down) and verified; --switch points config.json at it and the node
 * continues the same log there; then the PostgreSQL store is copied back to
 * a new SQLite data directory. A write sent with an Idempotency-Key before
 * the move and resent to the migrated node is answered from the copied key
 * (Idempotency-Replayed), not logged again. Refusals: a running node (its lock), a target
 * that is not empty — nothing copied.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8', timeout: 120_000, env: env() });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
function json<T = Record<string, unknown>>(args: readonly string[]): T {
  const r = parley([...args, '--json']);
  expect(r.code, `parley ${args.join(' ')}: ${r.stderr}${r.stdout}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}
const serve = (data: string): Promise<Served> => serveNode(data, { cwd: tmp, env: env(), extra: ['--no-federation', '--no-heartbeat'] });
async function stop(s: Served): Promise<void> {
  s.child.kill('SIGTERM');
  expect(await s.exited).toBe(0);
}
/** POST /v1/messages with an Idempotency-Key, as the saved session of DIR/session.json. */
async function keyedSend(url: string, text: string, key: string): Promise<{ status: number; index: number; replayed: boolean }> {
  const { token } = JSON.parse(readFileSync(join(tmp, 'us', 'session.json'), 'utf8')) as { token: string };
  const r = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': `"${key}"` },
    body: JSON.stringify({ precedence: 'ROUTINE', marking: 'TLP:CLEAR', text }),
  });
  const body = (await r.json()) as { index: number };
  return { status: r.status, index: body.index, replayed: r.headers.get('idempotency-replayed') === 'true' };
}
const KEY = 'migrate-8b0c2a64-6e0b-4f43-9d0c-2f3a2c1b7e55';

function send(text: string): number {
  return json<{ index: number }>(['send', '--precedence', 'ROUTINE', '--to', 'CN', '--marking', 'TLP:AMBER', '--lang', 'en', text, '--data', 'us']).index;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'parley-migrate-'));
  writeFileSync(join(tmp, 'alice.pw'), 'alice-password-123\n');
  db = await freshPgUrl();
});
afterAll(async () => {
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  await Promise.all(servers.map((s) => s.exited));
  await db.drop();
  rmSync(tmp, { recursive: true, force: true });
}, 300_000);

describe('parley migrate', () => {
  it('a SQLite party with a log (sent through a real node)', async () => {
    json(['init', '--party', 'US', '--origin', 'us.parley.test/log', '--data', 'us', '--admin', 'alice', '--admin-password-file', 'alice.pw']);
    json(['init', '--party', 'CN', '--origin', 'cn.parley.test/log', '--data', 'cn']);
    json(['accord', 'init', '--name', 'us-cn-migrate', '--party-file', 'us/party.json', '--party-file', 'cn/party.json']);
    json(['accord', 'sign', 'accord.json', '--data', 'us']);
    json(['accord', 'sign', 'accord.json', '--data', 'cn']);
    for (const p of ['us', 'cn']) json(['accord', 'install', 'accord.json', '--data', p]);
    const node = await serve('us');
    servers.push(node);
    json(['login', '--name', 'alice', '--password-file', 'alice.pw', '--url', node.url, '--data', 'us']);
    expect([send('one'), send('two'), send('three')]).toEqual([0, 1, 2]);
    // A keyed write whose answer the client is taken to have lost: it resends after the move (below).
    expect(await keyedSend(node.url, 'keyed, before the move', KEY)).toEqual({ status: 201, index: 3, replayed: false });
    // While the node runs, migrate refuses (the data directory's lock), copying nothing.
    const busy = parley(['migrate', '--from', 'us', '--to', db.url, '--json']);
    expect(busy.code).toBe(2);
    await stop(node);
  });

  it('copies it to an empty PostgreSQL database, verifies, and with --switch the node continues there', async () => {
    const r = json<{ treeSize: number; checkpoints: number; verified: boolean; switched: boolean; counts: Record<string, number> }>(['migrate', '--from', 'us', '--to', db.url, '--switch']);
    expect(r).toMatchObject({ treeSize: 4, verified: true, switched: true });
    expect(r.counts.officer).toBe(1);
    // Every keyed write (parley send keys its writes too) is copied with its key.
    expect(r.counts.idempotency).toBe(4);
    expect(r.counts.session).toBeGreaterThanOrEqual(1);
    expect(r.counts.setting).toBeGreaterThanOrEqual(1);
    expect(JSON.parse(readFileSync(join(tmp, 'us', 'config.json'), 'utf8')).store).toBe(db.url);
    const node = await serve('us');
    servers.push(node);
    // The saved session names the old port: log in to the new node (the officer and its password were copied).
    json(['login', '--name', 'alice', '--password-file', 'alice.pw', '--url', node.url, '--data', 'us']);
    // The resend after the move: the first answer from the copied key, nothing logged again.
    expect(await keyedSend(node.url, 'keyed, before the move', KEY)).toEqual({ status: 201, index: 3, replayed: true });
    expect(send('four, in PostgreSQL')).toBe(4);
    await stop(node);
  });

  it('refuses a target that is not empty (2, MIGRATE_TARGET_NOT_EMPTY), database or directory', () => {
    const r = parley(['migrate', '--from', 'cn', '--to', db.url, '--json']);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'MIGRATE_TARGET_NOT_EMPTY' });
    mkdirSync(join(tmp, 'full'));
    writeFileSync(join(tmp, 'full', 'x'), 'x');
    const d = parley(['migrate', '--from', 'us', '--to', 'full', '--json']);
    expect(d.code).toBe(2);
    expect(JSON.parse(d.stdout)).toMatchObject({ code: 'MIGRATE_TARGET_NOT_EMPTY' });
  });

  it('copies the PostgreSQL store back to a new SQLite data directory, complete and verified', () => {
    const r = json<{ treeSize: number; verified: boolean; counts: Record<string, number> }>(['migrate', '--from', 'us', '--to', 'us-sqlite']);
    expect(r).toMatchObject({ treeSize: 5, verified: true, counts: { idempotency: 5 } });
    expect(existsSync(join(tmp, 'us-sqlite', 'parley.sqlite'))).toBe(true);
    for (const f of ['keys.enc', 'party.json', 'accord.json', 'config.json']) expect(existsSync(join(tmp, 'us-sqlite', f))).toBe(true);
    expect(JSON.parse(readFileSync(join(tmp, 'us-sqlite', 'config.json'), 'utf8')).store).toBeUndefined();
    const exp = parley(['export', '--data', 'us-sqlite']);
    expect(exp.code, exp.stderr).toBe(0);
    expect(exp.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { index: number }).index)).toEqual([0, 1, 2, 3, 4]);
    expect(json<{ officers: { name: string }[] }>(['officer', 'list', '--data', 'us-sqlite']).officers.map((o) => o.name)).toEqual(['alice']);
  });

  it('--help has an example', () => {
    const h = parley(['migrate', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('Example:');
  });
});
