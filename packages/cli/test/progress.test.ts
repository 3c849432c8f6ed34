/**
 * Progress on long work, with the real binary: at a terminal (a real
 * pseudo-terminal, util-linux `script`) `parley log verify` of a big log and
 * the store's migrations at open draw a bar on stderr; piped, or with
 * `--json`, the output has no bar and no control characters at all.
 *
 * The old store is the schema-1 fixture of @parley/store
 * (packages/store/test/fixtures/db/1, made by that release).
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, cleanEnv, foundChannel, parleyIn } from './helpers/channel.js';
import { BIN, type Served, serve } from './helpers/serve.js';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
/** Anything a terminal would interpret: escape sequences, carriage returns, other C0 controls but \n and \t. */
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/;

let tmp = '';
let logKey = '';
const run = (args: readonly string[]) => parleyIn(tmp, args, { timeout: 120_000 });

/** `parley args…` at a pseudo-terminal of 100 columns; resolves with its exit status and everything it drew (raw). */
function atTerminal(args: readonly string[], cwd = tmp): Promise<{ code: number | null; screen: string }> {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
  return new Promise((done) => {
    const child = spawn('script', ['-qfec', `stty cols 100 rows 40; ${cmd}`, '/dev/null'], { cwd, env: { ...process.env, TERM: 'xterm-256color', PARLEY_PASSPHRASE: 'correct horse battery staple' } });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => (screen += d.toString('utf8')));
    child.on('close', (code) => done({ code, screen }));
  });
}

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'parley-progress-'));
  // A log big enough to take a while to audit: 100 entry bundles.
  const r = run(['log', 'demo', '--entries', '25600', '--samples', '4', '--dir', 'biglog', '--json']);
  if (r.code !== 0) throw new Error(`log demo: ${r.stderr}`);
  logKey = (JSON.parse(r.stdout) as { logKey: string }).logKey;
}, 240_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('parley log verify of a big log', () => {
  it('at a terminal draws a progress bar on the way (and clears it)', async () => {
    const t = await atTerminal(['log', 'verify', '--from', 'biglog', '--key', logKey]);
    expect(t.code, t.screen).toBe(0);
    expect(t.screen).toMatch(/[░█]{10,}/); // the bar (shades_classic)
    expect(t.screen).toMatch(/\d+% \| \d+\/100 \| verifying 25600 entries/);
    expect(t.screen).toContain('The tree is intact');
  }, 120_000);

  it('piped, or with --json, prints no bar and no control character', () => {
    for (const args of [['log', 'verify', '--from', 'biglog', '--key', logKey], ['log', 'verify', '--from', 'biglog', '--key', logKey, '--json']]) {
      const r = run(args);
      expect(r.code, r.stderr).toBe(0);
      expect(CONTROL.test(r.stdout + r.stderr), JSON.stringify(r.stderr.slice(0, 200))).toBe(false);
      expect(r.stderr).not.toMatch(/[░█]/);
    }
  }, 120_000);

  it('--json at a terminal: stdout is the JSON object, without a bar', async () => {
    const t = await atTerminal(['log', 'verify', '--from', 'biglog', '--key', logKey, '--json']);
    expect(t.code).toBe(0);
    expect(t.screen).not.toMatch(/[░█]/);
    expect(JSON.parse(t.screen.trim())).toMatchObject({ valid: true, treeSize: 25600 });
  }, 120_000);
});

describe('store migrations at open', () => {
  /** A data directory whose store is the schema-1 fixture. */
  function oldDataDir(name: string): string {
    const dir = join(tmp, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ party: 'US', origin: 'us.parley.test/log', listen: { host: '127.0.0.1', port: 8443 }, accord: 'accord.json' }));
    copyFileSync(join(REPO, 'packages/store/test/fixtures/db/1/parley.sqlite'), join(dir, 'parley.sqlite'));
    return dir;
  }

  it('upgrading an old store at a terminal shows the migrations and says what was done', async () => {
    oldDataDir('old-tty');
    writeFileSync(join(tmp, 'pw'), `${ADMIN_PASSWORD}\n`);
    const t = await atTerminal(['officer', 'add', 'bob', '--role', 'officer', '--password-file', 'pw', '--data', 'old-tty']);
    expect(t.code, t.screen).toBe(0);
    expect(t.screen).toMatch(/upgrading the store from schema 1/);
    expect(t.screen).toMatch(/upgraded .*parley\.sqlite from schema 1 to \d+ \(\d+ migrations\)/);
  }, 60_000);

  it('piped: the same upgrade prints nothing but the result', () => {
    oldDataDir('old-pipe');
    const r = run(['officer', 'add', 'bob', '--role', 'officer', '--password-file', 'pw', '--data', 'old-pipe']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(CONTROL.test(r.stdout)).toBe(false);
    expect(run(['officer', 'list', '--data', 'old-pipe', '--json']).stdout).toContain('"bob"');
  }, 60_000);
});

describe('parley bundle export and import at a terminal', () => {
  let dir = '';
  const nodes: Served[] = [];
  afterAll(() => {
    for (const n of nodes) if (n.child.exitCode === null) n.child.kill('SIGKILL');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('show the transfer and the node\u2019s work as a bar; the files and the import are the same as piped', async () => {
    dir = foundChannel('parley-progress-bundle-');
    const extra = ['--no-federation', '--no-heartbeat', '--no-web'];
    nodes.push(...(await Promise.all([serve('us', { cwd: dir, env: cleanEnv(), extra }), serve('cn', { cwd: dir, env: cleanEnv(), extra })])));
    const [us, cn] = nodes as [Served, Served];
    for (const [data, name, url] of [['us', 'alice', us.url], ['cn', 'root', cn.url]] as const) {
      expect(parleyIn(dir, ['login', '--name', name, '--password-file', 'pw', '--url', url, '--data', data]).code).toBe(0);
    }
    expect(parleyIn(dir, ['send', '--data', 'us', '--precedence', 'ROUTINE', '--to', 'CN', 'for the bundle']).code).toBe(0);
    const ex = await atTerminal(['bundle', 'export', '--data', 'us', '--to', 'CN', '--out', 'to-cn.bundle'], dir);
    expect(ex.code, ex.screen).toBe(0);
    expect(ex.screen).toMatch(/[░█]{10,}.*(makes the bundle|receiving the bundle)/);
    const im = await atTerminal(['bundle', 'import', '--data', 'cn', 'to-cn.bundle'], dir);
    expect(im.code, im.screen).toBe(0);
    expect(im.screen).toMatch(/[░█]{10,}.*(sending to-cn\.bundle|the node verifies)/);
    expect(im.screen).toMatch(/1 accepted/);
    const again = parleyIn(dir, ['bundle', 'import', '--data', 'cn', 'to-cn.bundle']);
    expect(again.code).toBe(0);
    expect(CONTROL.test(again.stdout + again.stderr)).toBe(false);
  }, 180_000);
});
