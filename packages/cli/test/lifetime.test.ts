/**
 * Killing the command stops the node it started (issue 10): `npx parley
 * serve` runs as npm → `sh -c` → node, and npm passes SIGTERM to the shell
 * only (nothing on SIGHUP or SIGKILL), so the node used to stay up, orphaned,
 * holding the port and the data directory's lock. Real npx, real serve, real
 * signals: after npx is killed the node must stop — cleanly, which its
 * removing the lock's pid file shows — and release the lock.
 *
 * And the other side of that decision: `nohup parley serve &` started
 * directly (not by npm) keeps running when its shell is gone, even when the
 * hangup reaches it; in a terminal that is closed, it stops cleanly.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockDataDir } from '@parley/store';
import { cleanEnv, foundChannel } from './helpers/channel.js';
import { BIN } from './helpers/serve.js';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const SERVE = ['serve', '--port', '0', '--json', '--no-federation', '--no-heartbeat', '--no-web'];
let tmp = '';
const pids: number[] = [];

/** The environment of a process a person started from a shell: no npm variables from the test runner. */
function shellEnv(): NodeJS.ProcessEnv {
  const e = cleanEnv();
  for (const k of Object.keys(e)) if (k.startsWith('npm_')) delete e[k];
  return e;
}

/** Whether `pid` runs: it exists and (where /proc tells) is not a zombie nobody has reaped yet. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(`${url}/log/checkpoint`, { signal: AbortSignal.timeout(2000) });
    return true;
  } catch {
    return false;
  }
}

/** Polls `ok` every 100 ms until it holds or `ms` pass; returns whether it held. */
async function within(ms: number, ok: () => boolean | Promise<boolean>): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await ok()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The pid `parley serve` recorded beside the lock of data directory `us`, once it is there. */
function lockPid(): number | undefined {
  try {
    return Number.parseInt(readFileSync(join(tmp, 'us', 'parley.lock.pid'), 'utf8'), 10);
  } catch {
    return undefined;
  }
}

/** Reads the URL `serve --json` prints first on `child`'s standard output; `stderr()` is what it wrote there so far. */
function urlOf(child: ChildProcess): Promise<{ url: string; stderr: () => string }> {
  return new Promise((done, fail) => {
    let out = '';
    let err = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) done({ url: (JSON.parse(out.split('\n')[0]!) as { url: string }).url, stderr: () => err });
    });
    child.on('exit', (code, signal) => fail(new Error(`exited ${code ?? signal} before listening: ${err}`)));
  });
}

/** Whether the data directory's lock is free: taking it (the store's own lock) succeeds. */
function lockFree(): boolean {
  try {
    lockDataDir(join(tmp, 'us'), 'lifetime test').release();
    return true;
  } catch {
    return false;
  }
}

beforeAll(() => {
  tmp = foundChannel('parley-lifetime-');
}, 120_000);

afterAll(() => {
  for (const pid of pids) if (alive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

describe('npx parley serve: killing npx stops the node', { timeout: 120_000 }, () => {
  for (const signal of ['SIGTERM', 'SIGHUP', 'SIGKILL'] as const) {
    it(`${signal} to the npx process: the node stops cleanly within seconds, the port closes and the lock is free`, async () => {
      // From the repository, as the README says: npm finds the workspace's own `parley` (offline: never the registry).
      const npx = spawn('npx', ['parley', ...SERVE, '--data', join(tmp, 'us')], { cwd: REPO, env: cleanEnv({ npm_config_offline: 'true' }), stdio: ['ignore', 'pipe', 'pipe'] });
      pids.push(npx.pid!);
      const exited = new Promise<void>((done) => npx.on('exit', () => done()));
      const { url, stderr } = await urlOf(npx);
      const node = lockPid()!;
      pids.push(node);
      expect(node).not.toBe(npx.pid); // npm runs it through a shell: a process of its own
      expect(await answers(url)).toBe(true);

      npx.kill(signal);
      await exited;
      expect(await within(10_000, async () => !alive(node) && !(await answers(url))), `the node (pid ${node}) still runs after ${signal} to npx`).toBe(true);
      // A clean stop: the node released its lock itself (the pid file goes with it), so the directory is free at once.
      expect(existsSync(join(tmp, 'us', 'parley.lock.pid')), `not a clean stop: ${stderr()}`).toBe(false);
      expect(lockFree()).toBe(true);
    });
  }

  it('Ctrl-C (SIGINT to the whole process group, as a terminal sends it) stops the node cleanly', async () => {
    const npx = spawn('npx', ['parley', ...SERVE, '--data', join(tmp, 'us')], { cwd: REPO, env: cleanEnv({ npm_config_offline: 'true' }), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    pids.push(npx.pid!);
    const exited = new Promise<void>((done) => npx.on('exit', () => done()));
    const { url, stderr } = await urlOf(npx);
    const node = lockPid()!;
    pids.push(node);
    process.kill(-npx.pid!, 'SIGINT');
    await exited;
    expect(await within(10_000, async () => !alive(node) && !(await answers(url))), stderr()).toBe(true);
    expect(existsSync(join(tmp, 'us', 'parley.lock.pid')), `not a clean stop: ${stderr()}`).toBe(false);
    expect(lockFree()).toBe(true);
  });
});

describe('nohup parley serve & (not started by npm)', { timeout: 120_000 }, () => {
  it('outlives the shell that started it, ignores the hangup, and still stops cleanly on SIGTERM', async () => {
    const log = join(tmp, 'nohup.out');
    const sh = spawn('sh', ['-c', `nohup "${process.execPath}" "${BIN}" ${SERVE.join(' ')} --data us > "${log}" 2>&1 &`], { cwd: tmp, env: shellEnv(), stdio: 'ignore' });
    await new Promise<void>((done) => sh.on('exit', () => done()));
    let url = '';
    expect(
      await within(60_000, () => {
        const first = existsSync(log) ? readFileSync(log, 'utf8').split('\n').find((l) => l.startsWith('{')) : undefined;
        if (first !== undefined) url = (JSON.parse(first) as { url: string }).url;
        return url !== '';
      }),
    ).toBe(true);
    const node = lockPid()!;
    pids.push(node);

    // Its shell is gone; a hangup (what a shell sends its jobs when its terminal closes) must not end it either.
    process.kill(node, 'SIGHUP');
    await new Promise((r) => setTimeout(r, 2000));
    expect(alive(node)).toBe(true);
    expect(await answers(url)).toBe(true);

    process.kill(node, 'SIGTERM');
    expect(await within(10_000, async () => !alive(node) && !(await answers(url)))).toBe(true);
    expect(existsSync(join(tmp, 'us', 'parley.lock.pid'))).toBe(false);
  });
});

// script(1) (util-linux) runs a command on a terminal of its own; killing it closes that terminal.
const hasScript = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;
if (!hasScript) console.warn('lifetime.test.ts: script(1) not found — the terminal hang-up case is skipped');

describe.skipIf(!hasScript)('parley serve in a terminal', { timeout: 120_000 }, () => {
  it('closing its terminal (SIGHUP, and a terminal that fails every write) stops the node cleanly', async () => {
    const log = join(tmp, 'pty.log');
    const term = spawn('script', ['-qfc', `"${process.execPath}" "${BIN}" ${SERVE.join(' ')} --data us`, log], { cwd: tmp, env: shellEnv(), stdio: 'ignore' });
    pids.push(term.pid!);
    let url = '';
    expect(
      await within(60_000, () => {
        const first = existsSync(log) ? readFileSync(log, 'utf8').split(/\r?\n/).find((l) => l.startsWith('{')) : undefined;
        if (first !== undefined) url = (JSON.parse(first) as { url: string }).url;
        return url !== '';
      }),
    ).toBe(true);
    const node = lockPid()!;
    pids.push(node);
    term.kill('SIGKILL'); // the window closes
    expect(await within(10_000, async () => !alive(node) && !(await answers(url))), readFileSync(log, 'utf8')).toBe(true);
    expect(existsSync(join(tmp, 'us', 'parley.lock.pid')), `not a clean stop: ${readFileSync(log, 'utf8')}`).toBe(false);
    expect(lockFree()).toBe(true);
  });
});
