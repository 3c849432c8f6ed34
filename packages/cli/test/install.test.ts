/**
 * `parley` on the PATH (issue 10): the README's set-up links the command with
 * npm, and the commands the CLI prints for the user to type then run as
 * printed. The link goes into a temporary npm prefix (npm_config_prefix), so
 * the test needs no root and leaves the machine's global packages alone; the
 * link command itself is read from the README, so the two cannot drift apart.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
let tmp = '';
let prefix = '';

/** The environment of a user whose npm prefix is `prefix` and whose PATH has its bin first (POSIX layout: PREFIX/bin). */
function userEnv(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, npm_config_prefix: prefix, npm_config_offline: 'true', PATH: `${join(prefix, 'bin')}${delimiter}${process.env['PATH'] ?? ''}` };
  for (const k of Object.keys(e)) if (k.startsWith('npm_') && k !== 'npm_config_prefix' && k !== 'npm_config_offline') delete e[k];
  for (const k of ['PARLEY_DATA', 'PARLEY_URL', 'PARLEY_TOKEN', 'PARLEY_WEBHOOK']) delete e[k];
  return e;
}

/** Runs a command line through sh, as a user types it. */
function sh(line: string, cwd: string) {
  const r = spawnSync('sh', ['-c', line], { cwd, env: userEnv(), encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return r;
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'parley-install-'));
  prefix = join(tmp, 'prefix');
});

afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

describe("the README's set-up puts parley on the PATH", { timeout: 180_000 }, () => {
  it('the link step the README shows makes `parley` a command of its own, usable from any directory', () => {
    const setup = /## Set up[^]*?```sh\n([^]*?)```/.exec(readFileSync(join(REPO, 'README.md'), 'utf8'))![1]!;
    const link = setup.split('\n').find((l) => l.startsWith('npm link'))!.replace(/\s+#.*$/, '');
    expect(link).toBeDefined();
    expect(setup).toMatch(/^parley demo/m);

    const linked = sh(link, REPO);
    expect(linked.status, linked.stderr).toBe(0);
    expect(existsSync(join(prefix, 'bin', 'parley'))).toBe(true);

    const elsewhere = join(tmp, 'elsewhere');
    sh(`mkdir -p "${elsewhere}"`, tmp);
    const version = sh('command -v parley && parley --version', elsewhere);
    expect(version.status, version.stderr).toBe(0);
    expect(version.stdout).toContain(join(prefix, 'bin', 'parley'));
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+$/m);
    // A command that needs the workspace's packages (core) resolves them through the link.
    const key = sh('parley keygen --name install.parley.test/log --json', elsewhere);
    expect(key.status, key.stderr).toBe(0);
    expect(JSON.parse(key.stdout)).toMatchObject({ name: 'install.parley.test/log', type: 'ed25519' });
  });

  // After the link above: the PATH now has `parley`.
  it('the command `parley log demo` tells the user to type runs as printed', () => {
    const demo = sh(`parley log demo --entries 20 --samples 5 --dir "${join(tmp, 'log')}"`, tmp);
    expect(demo.status, demo.stderr).toBe(0);
    const hint = demo.stdout.split('\n').find((l) => l.startsWith('Check it yourself: '))!;
    expect(hint).toMatch(/^Check it yourself: parley /);
    const check = sh(hint.slice('Check it yourself: '.length), tmp);
    expect(check.status, check.stderr).toBe(0);
    expect(check.stdout).toContain('cosigned:');
  });
});
