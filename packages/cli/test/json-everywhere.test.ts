/**
 * `--json` everywhere and the exit statuses of the README's table, with the
 * real binary as a separate process:
 *
 * - every command of the tree (walked from buildProgram(), groups included)
 *   takes `--json`: run with it and nothing else it needs, it prints ONE JSON
 *   object on stdout — `{"ok": false, "code", "error": {code, type, title,
 *   detail}}` — and exits with the status its code has (exit.ts); a group
 *   without a subcommand is a usage error that lists them; `--help --json`
 *   describes every command as JSON;
 * - one failure of each class, as a script meets it: a usage error (2), a
 *   node that cannot be reached (3), a node that refuses (401 → 2) or is not
 *   available (503 LOG_UNCONFIRMED → 3), a data directory locked by the
 *   running node (2), a wrong passphrase (2), a store that is not a database
 *   (4), a check that fails (1).
 *
 * Asserted by exit status and JSON members, never by message text.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildProgram } from '../src/main.js';
import { CLI_ERRORS, exitStatusOf } from '../src/exit.js';
import { describeCommand, isGroup } from '../src/output.js';
import { BIN, type Served, serve } from './helpers/serve.js';
import { cleanEnv, foundChannel } from './helpers/channel.js';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `parley args…` as a real process in `cwd` (no PARLEY_* from the shell). */
function parley(cwd: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...cleanEnv(env), HOME: cwd }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', fail);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** Runs `fn` over `items`, `n` at a time (two cores are shared by the whole suite). */
async function pooled<T, R>(items: readonly T[], n: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: n }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  }));
  return out;
}

interface ErrorJson {
  ok: false;
  code: string;
  error: { code: string; type: string; title: string; detail: string; status?: number };
  subcommands?: string[];
  [k: string]: unknown;
}

/** The one JSON object on stdout of a failed run, checked for the shape every failure has. */
function failure(r: Run, what: string): ErrorJson {
  let v: ErrorJson;
  try {
    v = JSON.parse(r.stdout) as ErrorJson;
  } catch {
    throw new Error(`${what}: stdout is not one JSON object (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
  expect(v.ok, what).toBe(false);
  expect(v.code, what).toBe(v.error.code);
  expect(v.error.code, what).toMatch(/^[A-Z][A-Z0-9_]+$/);
  expect(v.error.type, what).toBe(`urn:parley:error:${v.error.code.toLowerCase().replaceAll('_', '-')}`);
  expect(typeof v.error.title === 'string' && v.error.title.length > 0, what).toBe(true);
  expect(typeof v.error.detail === 'string' && v.error.detail.length > 0, what).toBe(true);
  return v;
}

const pathOf = (c: Command): string[] => (c.parent ? [...pathOf(c.parent), c.name()] : []);
const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
const program = await buildProgram('all');
// A command with subcommands AND an action of its own (`export`, beside `export aiid`) runs like a leaf.
const leaves = all(program).filter((c) => !isGroup(c) && c !== program);
const groups = all(program).filter((c) => isGroup(c));

/** What a leaf needs so that running it with `--json` fails fast instead of doing its work. */
const FAIL_FAST: Record<string, string[]> = {
  demo: ['--web', 'no-such-web-build'], // else it runs the three-party demo
  'log demo': ['--entries', '1'], // else it builds a 10,000-entry log
};

let empty = '';
beforeAll(() => {
  empty = mkdtempSync(join(tmpdir(), 'parley-json-'));
});
afterAll(() => rmSync(empty, { recursive: true, force: true }));

describe('every command takes --json', () => {
  it('the tree has the commands the README lists, and every leaf declares --json', () => {
    const names = leaves.map((c) => pathOf(c).join(' '));
    for (const n of ['keygen', 'log verify', 'log verify-checkpoint', 'init', 'accord sign', 'officer add', 'send', 'report', 'inbox', 'ack', 'serve', 'bundle import', 'backup', 'recover']) expect(names).toContain(n);
    for (const c of leaves) expect(c.options.some((o) => o.long === '--json'), pathOf(c).join(' ')).toBe(true);
  });

  it('every leaf run with --json alone fails as one JSON object on stdout, with the exit status of its code', async () => {
    const runs = await pooled(leaves, 3, (c) => parley(empty, [...pathOf(c), ...(FAIL_FAST[pathOf(c).join(' ')] ?? []), '--json']));
    runs.forEach((r, i) => {
      const what = `parley ${pathOf(leaves[i]!).join(' ')} --json`;
      const v = failure(r, what);
      expect(r.code, `${what}: ${v.code}`).toBe(v.error.code in CLI_ERRORS ? CLI_ERRORS[v.error.code as keyof typeof CLI_ERRORS].exit : exitStatusOf({ from: 'core', code: v.error.code }));
      expect(r.code, what).not.toBe(70); // nothing of this is a bug
    });
  }, 240_000);

  it('a group without a subcommand is a usage error (2) that lists its subcommands, as JSON', async () => {
    const runs = await pooled(groups, 3, (g) => parley(empty, [...pathOf(g), '--json']));
    runs.forEach((r, i) => {
      const g = groups[i]!;
      const v = failure(r, `parley ${pathOf(g).join(' ')} --json`);
      expect(r.code).toBe(2);
      expect(v.code).toBe('USAGE');
      expect(v.subcommands).toEqual(g.commands.map((c) => c.name()));
      // Nothing on stderr: commander's "unknown option '--json'" there contradicted the JSON (issue 10 audit).
      expect(r.stderr, `parley ${pathOf(g).join(' ')} --json`).toBe('');
    });
  }, 120_000);

  it('--json is understood where a user may write it: before the command, and with the help command', async () => {
    // `parley --json CMD …` is `parley CMD … --json`: the same JSON failure, not a usage error about --json.
    const before = await parley(empty, ['--json', 'status', '--url', 'http://127.0.0.1:1', '--data', 'nowhere']);
    const after = await parley(empty, ['status', '--url', 'http://127.0.0.1:1', '--data', 'nowhere', '--json']);
    expect(before.code).toBe(after.code);
    expect(failure(before, 'parley --json status').code).toBe(failure(after, 'parley status --json').code);
    expect(before.stdout).toBe(after.stdout);
    // A commander usage error with --json first: JSON on stdout, nothing on stderr.
    const usage = await parley(empty, ['--json', 'log', 'verify-inclusion', '--index', 'x']);
    expect(usage.code).toBe(2);
    expect(failure(usage, 'parley --json log verify-inclusion').code).toBe('USAGE');
    expect(usage.stderr).toBe('');
    // `parley help [CMD] --json` describes the command as `--help --json` does.
    const inbox = await parley(empty, ['help', 'inbox', '--json']);
    expect(inbox.code, inbox.stderr).toBe(0);
    expect(JSON.parse(inbox.stdout)).toEqual(JSON.parse(JSON.stringify(describeCommand(program.commands.find((c) => c.name() === 'inbox')!))));
    const top = await parley(empty, ['help', '--json']);
    expect(top.code, top.stderr).toBe(0);
    expect(JSON.parse(top.stdout)).toMatchObject({ command: 'parley' });
    // Without --json nothing changes: `parley --json` is still only the program's flag when no command follows.
    const alone = await parley(empty, ['--json']);
    expect(alone.code).toBe(2);
    expect(failure(alone, 'parley --json').subcommands).toContain('status');
  }, 60_000);

  it('--help --json describes a command as JSON, exit 0 (every command in-process; the groups and a leaf as processes)', async () => {
    for (const c of all(program)) {
      const d = describeCommand(c);
      expect(d.command).toBe(['parley', ...pathOf(c)].join(' '));
      expect(d.options.some((o) => o.flags.includes('--json')), d.command).toBe(true);
      expect(d.subcommands.map((s) => s.name)).toEqual(c.commands.map((s) => s.name()));
    }
    const cmds = [...groups, leaves.find((c) => c.name() === 'send')!];
    const runs = await pooled(cmds, 3, (c) => parley(empty, [...pathOf(c), '--help', '--json']));
    runs.forEach((r, i) => {
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(JSON.parse(JSON.stringify(describeCommand(cmds[i]!))));
    });
  }, 120_000);
});

/** A port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

describe('one failure of each class: JSON on stdout with its code, and the README\u2019s exit status', () => {
  let tmp = '';
  let us: Served | undefined;
  beforeAll(async () => {
    tmp = foundChannel('parley-json-classes-');
    // Federation on, CN never started: US's rollback guard cannot confirm its log, so writes end in 503 LOG_UNCONFIRMED.
    us = await serve('us', { cwd: tmp, env: cleanEnv(), extra: ['--no-heartbeat', '--no-web'] });
  }, 120_000);
  afterAll(() => {
    if (us?.child.exitCode === null) us.child.kill('SIGKILL');
    rmSync(tmp, { recursive: true, force: true });
  });

  it('usage: an unknown option or a missing value (2, USAGE)', async () => {
    for (const args of [['keygen', '--json'], ['inbox', '--limit', '0', '--json', '--url', 'http://127.0.0.1:1', '--token', 't'], ['send', '--frob', '--json']]) {
      const r = await parley(tmp, args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(failure(r, args.join(' ')).code).toBe('USAGE');
    }
  });

  it('the node cannot be reached (3, NODE_UNREACHABLE)', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await parley(tmp, ['inbox', '--url', url, '--token', 't', '--json']);
    expect(r.code).toBe(3);
    const v = failure(r, 'inbox of a closed port');
    expect(v.code).toBe('NODE_UNREACHABLE');
    expect(v.error.status).toBeUndefined();
  });

  it('the node refuses: 401 → 2 with the problem\u2019s code, title and status', async () => {
    const r = await parley(tmp, ['inbox', '--url', us!.url, '--token', 'not-a-token', '--json']);
    expect(r.code).toBe(2);
    const v = failure(r, 'inbox with a bad token');
    expect(v.error).toMatchObject({ code: 'UNAUTHENTICATED', status: 401, title: 'Authentication required', type: 'urn:parley:error:unauthenticated' });
  });

  it('the node is not available: 503 LOG_UNCONFIRMED → 3 (try again later)', async () => {
    const login = await parley(tmp, ['login', '--name', 'alice', '--password-file', 'pw', '--url', us!.url, '--data', 'us', '--json']);
    expect(login.code, login.stdout + login.stderr).toBe(0);
    const r = await parley(tmp, ['send', '--data', 'us', '--precedence', 'ROUTINE', 'hello', '--json']);
    expect(r.code, r.stdout).toBe(3);
    expect(failure(r, 'send while unconfirmed').error).toMatchObject({ code: 'LOG_UNCONFIRMED', status: 503 });
  }, 60_000);

  it('the data directory is locked by the running node (2, DATA_DIR_LOCKED)', async () => {
    const r = await parley(tmp, ['officer', 'add', 'bob', '--role', 'officer', '--password-file', 'pw', '--data', 'us', '--json']);
    expect(r.code).toBe(2);
    expect(failure(r, 'officer add while serving').code).toBe('DATA_DIR_LOCKED');
  });

  it('a wrong passphrase (2, PASSPHRASE_WRONG); no passphrase and no terminal (2, PASSPHRASE_MISSING)', async () => {
    const wrong = await parley(tmp, ['accord', 'sign', 'accord.json', '--data', 'cn', '--json'], { PARLEY_PASSPHRASE: 'not the passphrase' });
    expect(wrong.code).toBe(2);
    expect(failure(wrong, 'wrong passphrase').code).toBe('PASSPHRASE_WRONG');
    const none = await parley(tmp, ['accord', 'sign', 'accord.json', '--data', 'cn', '--json'], { PARLEY_PASSPHRASE: '' });
    expect(none.code).toBe(2);
    expect(failure(none, 'no passphrase').code).toBe('PASSPHRASE_MISSING');
  });

  it('no data directory (2, DATA_DIR_MISSING); an unreadable key file (2, KEY_FILE_UNREADABLE)', async () => {
    const r = await parley(tmp, ['officer', 'list', '--data', 'nowhere', '--json']);
    expect(r.code).toBe(2);
    expect(failure(r, 'no data dir').code).toBe('DATA_DIR_MISSING');
    mkdirSync(join(tmp, 'nokeys'));
    for (const f of ['config.json', 'party.json', 'accord.json']) copyFileSync(join(tmp, 'cn', f), join(tmp, 'nokeys', f));
    const k = await parley(tmp, ['accord', 'sign', 'accord.json', '--data', 'nokeys', '--json']);
    expect(k.code).toBe(2);
    expect(failure(k, 'no keys.enc').code).toBe('KEY_FILE_UNREADABLE');
  });

  it('a store that is not a database (4, STORE_CORRUPT)', async () => {
    mkdirSync(join(tmp, 'broken'));
    copyFileSync(join(tmp, 'cn', 'config.json'), join(tmp, 'broken', 'config.json'));
    writeFileSync(join(tmp, 'broken', 'parley.sqlite'), 'this is not an SQLite database, and it is long enough to have a header page'.repeat(64));
    for (const args of [['officer', 'list'], ['export']]) {
      const r = await parley(tmp, [...args, '--data', 'broken', '--json']);
      expect(r.code, args.join(' ')).toBe(4);
      expect(failure(r, args.join(' ')).code).toBe('STORE_CORRUPT');
    }
  });

  it('a store of a newer schema (4, STORE_UNAVAILABLE), backup included (it said 1, "backup invalid")', async () => {
    mkdirSync(join(tmp, 'newer'));
    copyFileSync(join(tmp, 'cn', 'config.json'), join(tmp, 'newer', 'config.json'));
    const db = new Database(join(tmp, 'newer', 'parley.sqlite'));
    db.pragma('user_version = 999');
    db.close();
    for (const args of [['export'], ['backup', '--out', join(tmp, 'newer.bak')]]) {
      const r = await parley(tmp, [...args, '--data', 'newer', '--json']);
      expect(r.code, `${args.join(' ')}: ${r.stdout}`).toBe(4);
      expect(failure(r, args.join(' ')).code).toBe('STORE_UNAVAILABLE');
    }
  });

  it('a check that fails (1): the failure keeps its members and gains ok:false and error', async () => {
    const a = JSON.parse(readFileSync(join(tmp, 'accord.json'), 'utf8')) as { accord: { name: string } };
    a.accord.name = 'tampered-name';
    writeFileSync(join(tmp, 'tampered.json'), JSON.stringify(a));
    const r = await parley(tmp, ['accord', 'verify', 'tampered.json', '--json']);
    expect(r.code).toBe(1);
    const v = failure(r, 'tampered accord');
    expect(v).toMatchObject({ valid: false, code: 'SIGNATURE_INVALID' });
  });

  it('without --json the same failures print one line on stderr and nothing on stdout', async () => {
    const r = await parley(tmp, ['officer', 'list', '--data', 'broken']);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^parley: .*STORE_CORRUPT/);
  });
});
