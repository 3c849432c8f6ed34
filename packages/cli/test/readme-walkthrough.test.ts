/**
 * The README's "Run a node" walk-through, run as written so it cannot drift
 * from the command: its fenced `sh` block is taken from README.md and run by
 * bash, line by line, with the real binary as `parley` (the README's set-up
 * puts it on the PATH; `npx parley` is read the same way) and three changes
 * a reader's machine does not need:
 *
 * - the ports 8443 and 8444 become free ports (tests run side by side);
 * - the two `parley serve` lines, "each in its own terminal", run in the
 *   background, and the script waits until both nodes answer /healthz 200
 *   (their logs confirmed by each other) before going on, as a reader would;
 * - `parley report` without flags is interactive (asks at a terminal): it is
 *   report-command.test.ts's, and left out here.
 *
 * HOME is a temporary directory and the script starts in another one, the
 * "checkout": the walk-through must leave the checkout as it found it. At
 * the end the FLASH the walk-through sent must be the entry CN acknowledged.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './helpers/serve.js';
import { cleanEnv } from './helpers/channel.js';
import { freePort } from './helpers/parties.js';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');

/** The first ```sh block of the README's "## Run a node" section. */
function walkthrough(readme: string): string {
  const section = readme.slice(readme.indexOf('\n## Run a node'));
  const m = /```sh\n([\s\S]*?)```/.exec(section);
  if (!m) throw new Error('README: no sh block under "## Run a node"');
  return m[1]!;
}

/** The block as a bash script (see the module doc for the three changes). */
function script(block: string, ports: { us: number; cn: number }): string {
  const lines = block.replaceAll('8443', String(ports.us)).replaceAll('8444', String(ports.cn)).split('\n');
  const out: string[] = [];
  let serves = 0;
  for (const raw of lines) {
    const line = raw.replace(/^npx parley /, 'parley ');
    if (/^parley serve /.test(line)) {
      out.push(`${line.replace(/\s+#.*$/, '')} > serve-${serves++}.log 2>&1 &`);
      if (serves === 2) out.push(`wait_healthy ${ports.us} ${ports.cn}`);
    } else if (/^parley report( --data \S+)?\s*(#.*)?$/.test(line)) {
      out.push(': parley report is interactive: report-command.test.ts');
    } else {
      out.push(line);
    }
  }
  expect(serves, 'two parley serve lines').toBe(2);
  return [
    'set -euo pipefail',
    `parley() { "${process.execPath}" "${BIN}" "$@"; }`,
    'trap \'kill $(jobs -p) 2>/dev/null || true\' EXIT',
    // Waits until every node answers /healthz 200: listening, and its log confirmed by a peer.
    `wait_healthy() { for p in "$@"; do for i in $(seq 1 300); do "${process.execPath}" -e "fetch('http://127.0.0.1:'+process.argv[1]+'/healthz').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))" "$p" && break; sleep 0.2; [ "$i" = 300 ] && { echo "node on port $p never healthy" >&2; cat serve-*.log >&2; exit 1; }; done; done; }`,
    ...out,
    // The checks: what CN acknowledged is the FLASH the walk-through sent.
    `parley show --data cn US "$(node -p 'require("./flash.json").index')" --json > acked-flash.json`,
  ].join('\n');
}

let home = '';
afterAll(() => {
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('README walk-through', () => {
  it('runs as written: two parties found a channel, send a FLASH, CN acknowledges that FLASH; nothing is written in the checkout', async () => {
    const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
    home = mkdtempSync(join(tmpdir(), 'parley-readme-'));
    const checkout = join(home, 'checkout');
    mkdirSync(checkout);
    const ports = { us: await freePort(), cn: await freePort() };
    const file = join(home, 'walkthrough.sh');
    writeFileSync(file, script(walkthrough(readme), ports));
    const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
      const env = cleanEnv({ HOME: home });
      delete env['PARLEY_PASSPHRASE']; // the walk-through exports its own
      const child = spawn('bash', [file], { cwd: checkout, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 280_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        done({ code, stdout, stderr });
      });
    });
    expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
    const dir = join(home, 'parley');
    expect(readdirSync(checkout), 'files written in the checkout').toEqual([]);
    for (const f of ['us/keys.enc', 'cn/keys.enc', 'accord.json', 'to-cn.bundle']) expect(readdirSync(join(dir, f, '..'))).toContain(f.split('/').pop());
    const flash = JSON.parse(readFileSync(join(dir, 'flash.json'), 'utf8')) as { party: string; index: number; entry: { precedence: string; type: string } };
    expect(flash).toMatchObject({ party: 'US', entry: { type: 'hotline.message', precedence: 'FLASH' } });
    const acked = JSON.parse(readFileSync(join(dir, 'acked-flash.json'), 'utf8')) as { index: number; entry: { precedence: string }; state?: { ack?: { officer?: string } } };
    expect(acked).toMatchObject({ index: flash.index, entry: { precedence: 'FLASH' }, state: { ack: { officer: 'wang' } } });
  }, 300_000);
});
