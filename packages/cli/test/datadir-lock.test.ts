/**
 * One process per data directory (issue 9): real `parley` processes on a real
 * data directory. While `parley serve` runs, a second serve and every command
 * that writes the directory itself (officer add, accord install) exit at once
 * with DATA_DIR_LOCKED, naming the directory and the holder's pid; reading
 * commands (officer list) still work. After kill -9 of the holder the OS has
 * released the lock and a new serve starts on the same directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, type Served, serve as serveNode } from './helpers/serve.js';

const PASSPHRASE = 'correct horse battery staple';
let tmp = '';
const at = (...p: string[]) => join(tmp, ...p);
const servers: Served[] = [];

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PARLEY_PASSPHRASE: PASSPHRASE };
  for (const k of ['PARLEY_DATA', 'PARLEY_URL', 'PARLEY_TOKEN', 'PARLEY_WEBHOOK']) delete e[k];
  return e;
}

function parley(args: readonly string[], timeout = 30_000): { code: number | null; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8', timeout, env: env() });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

function ok(args: readonly string[]): void {
  const r = parley(args);
  expect(r.code, `parley ${args.join(' ')}: ${r.stderr}`).toBe(0);
}

const serve = (): Promise<Served> => serveNode('us', { cwd: tmp, env: env(), extra: ['--no-federation', '--no-heartbeat', '--no-web'] }).then((s) => (servers.push(s), s));

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'parley-lock-'));
  writeFileSync(at('pw'), 'admin-password-123\n');
  ok(['init', '--party', 'US', '--origin', 'us.parley.test/log', '--data', 'us', '--admin', 'alice', '--admin-password-file', 'pw']);
  ok(['init', '--party', 'CN', '--origin', 'cn.parley.test/log', '--data', 'cn']);
  ok(['accord', 'init', '--name', 'lock-test', '--party-file', 'us/party.json', '--party-file', 'cn/party.json', '--out', 'accord.json']);
  ok(['accord', 'sign', 'accord.json', '--data', 'us']);
  ok(['accord', 'sign', 'accord.json', '--data', 'cn']);
  ok(['accord', 'install', 'accord.json', '--data', 'us']);
}, 60_000);

afterAll(() => {
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

describe('one process per data directory', () => {
  it('a second serve, officer add and accord install on a directory in use exit at once with DATA_DIR_LOCKED naming the dir and pid', async () => {
    const first = await serve();
    const pid = first.child.pid!;

    const second = parley(['serve', '--data', 'us', '--port', '0', '--no-federation', '--no-heartbeat', '--no-web'], 20_000);
    expect(second.code, second.stderr).toBe(2);
    expect(second.ms).toBeLessThan(10_000); // at once: before the passphrase, the store or a port
    expect(second.stderr).toContain('DATA_DIR_LOCKED');
    expect(second.stderr).toContain(at('us'));
    expect(second.stderr).toContain(`pid ${pid}`);

    const add = parley(['officer', 'add', 'bob', '--role', 'officer', '--password-file', 'pw', '--data', 'us']);
    expect(add.code).toBe(2);
    expect(add.stderr).toContain('DATA_DIR_LOCKED');
    const install = parley(['accord', 'install', 'accord.json', '--data', 'us']);
    expect(install.code).toBe(2);
    expect(install.stderr).toContain('DATA_DIR_LOCKED');

    // Reading is not writing: the running node's officers can be listed.
    const list = parley(['officer', 'list', '--data', 'us', '--json']);
    expect(list.code, list.stderr).toBe(0);
    expect((JSON.parse(list.stdout) as { officers: { name: string }[] }).officers.map((o) => o.name)).toEqual(['alice']);
    // The first node still serves.
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);

    // kill -9: no clean shutdown, the OS drops the lock; a new serve starts.
    first.child.kill('SIGKILL');
    await first.exited;
    const again = await serve();
    expect((await fetch(`${again.url}/healthz`)).status).toBe(200);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);
    // After a clean stop too, the directory is free for a writing command.
    ok(['officer', 'add', 'bob', '--role', 'officer', '--password-file', 'pw', '--data', 'us']);
  }, 90_000);
});
