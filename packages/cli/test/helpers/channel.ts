/**
 * A two-party channel (US, CN) founded with the real binary in a temporary
 * directory, for tests that run `parley serve` as a real process: init with
 * an admin each, accord init, both sign, both install.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BIN } from './serve.js';

export const PASSPHRASE = 'correct horse battery staple';
export const ADMIN_PASSWORD = 'admin-password-123';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** The test environment: no PARLEY_* from the developer's shell, the test passphrase. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PARLEY_PASSPHRASE: PASSPHRASE };
  for (const k of ['PARLEY_DATA', 'PARLEY_URL', 'PARLEY_TOKEN', 'PARLEY_WEBHOOK']) delete e[k];
  return { ...e, ...extra };
}

/** Runs `parley args…` in `cwd` as a real process; `stdinFile` becomes its standard input (as `< FILE` in a shell). */
export function parleyIn(cwd: string, args: readonly string[], o: { timeout?: number; input?: string; stdinFile?: string; env?: Record<string, string> } = {}): Run {
  const t0 = Date.now();
  const fd = o.stdinFile !== undefined ? openSync(o.stdinFile, 'r') : undefined;
  try {
    const r = spawnSync(process.execPath, [BIN, ...args], {
      cwd,
      encoding: 'utf8',
      timeout: o.timeout ?? 30_000,
      env: cleanEnv(o.env),
      ...(o.input !== undefined ? { input: o.input } : {}),
      ...(fd !== undefined ? { stdio: [fd, 'pipe', 'pipe'] } : {}),
    });
    if (r.error) throw r.error;
    return { code: r.status, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Founds US and CN in a new temporary directory (data dirs `us`, `cn`;
 * admins `alice` and `root` with password file `pw`).
 * @returns the directory.
 */
export function foundChannel(prefix: string): string {
  const tmp = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(tmp, 'pw'), `${ADMIN_PASSWORD}\n`);
  const ok = (args: readonly string[]) => {
    const r = parleyIn(tmp, args);
    if (r.code !== 0) throw new Error(`parley ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  };
  ok(['init', '--party', 'US', '--origin', 'us.parley.test/log', '--data', 'us', '--admin', 'alice', '--admin-password-file', 'pw']);
  ok(['init', '--party', 'CN', '--origin', 'cn.parley.test/log', '--data', 'cn', '--admin', 'root', '--admin-password-file', 'pw']);
  ok(['accord', 'init', '--name', 'hostile-test', '--party-file', 'us/party.json', '--party-file', 'cn/party.json', '--out', 'accord.json']);
  for (const p of ['us', 'cn']) ok(['accord', 'sign', 'accord.json', '--data', p]);
  for (const p of ['us', 'cn']) ok(['accord', 'install', 'accord.json', '--data', p]);
  return tmp;
}
