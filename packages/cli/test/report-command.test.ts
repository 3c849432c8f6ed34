/**
 * `parley report` as an officer meets it, with the real binary: three
 * parties (US, CN, EU), US's node served as a real process.
 *
 * - At a terminal (a real pseudo-terminal: util-linux `script`, 80 columns):
 *   the node is checked before the form (a node that may not sign, or no
 *   session, ends the command before the first prompt); every field is asked
 *   for, developer, version, harm, recipients and precedence included, each
 *   select starting on the flag's default; hints are whole (wrapped at word
 *   boundaries, not cut); a summary is shown and the report is sent only
 *   once confirmed (declined: CANCELLED, exit 2, nothing logged).
 * - Without a terminal: nothing is asked; missing fields are a usage error
 *   naming their flags; with the flags it sends without confirmation.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAXONOMY_V1 } from '@parley/core/node';
import { ADMIN_PASSWORD, cleanEnv, parleyIn } from './helpers/channel.js';
import { BIN, type Served, serve } from './helpers/serve.js';

let tmp = '';
let us: Served | undefined;
let cn: Served | undefined;
const run = (args: readonly string[], env: Record<string, string> = {}) => parleyIn(tmp, args, { env });
function ok(args: readonly string[]): Record<string, unknown> {
  const r = run([...args, '--json']);
  if (r.code !== 0) throw new Error(`parley ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'parley-report-'));
  writeFileSync(join(tmp, 'pw'), `${ADMIN_PASSWORD}\n`);
  // Accord URLs on closed ports: a node with federation on hears from no peer (its log stays unconfirmed).
  for (const p of ['US', 'CN', 'EU']) {
    ok(['init', '--party', p, '--origin', `${p.toLowerCase()}.parley.test/log`, '--data', p.toLowerCase(), '--port', String(await closedPort()), '--admin', 'alice', '--admin-password-file', 'pw']);
  }
  ok(['accord', 'init', '--name', 'report-test', '--party-file', 'us/party.json', '--party-file', 'cn/party.json', '--party-file', 'eu/party.json', '--out', 'accord.json']);
  for (const p of ['us', 'cn', 'eu']) ok(['accord', 'sign', 'accord.json', '--data', p]);
  for (const p of ['us', 'cn']) ok(['accord', 'install', 'accord.json', '--data', p]);
  [us, cn] = await Promise.all([
    serve('us', { cwd: tmp, env: cleanEnv(), extra: ['--no-federation', '--no-heartbeat', '--no-web'] }),
    serve('cn', { cwd: tmp, env: cleanEnv(), extra: ['--no-heartbeat', '--no-web'] }), // federation on, no peer: unconfirmed
  ]);
  ok(['login', '--name', 'alice', '--password-file', 'pw', '--url', us.url, '--data', 'us']);
  ok(['login', '--name', 'alice', '--password-file', 'pw', '--url', cn.url, '--data', 'cn']);
}, 180_000);

afterAll(() => {
  for (const s of [us, cn]) if (s?.child.exitCode === null) s.child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

/** `parley args…` at a pseudo-terminal of 80 columns: what it shows (no colours or cursor moves), and a way to answer. */
function atTerminal(args: readonly string[]) {
  const cmd = [process.execPath, BIN, ...args].map((a) => `'${a}'`).join(' ');
  // A pty made from a pipe has no size (0 columns wraps every character): give it one.
  const child = spawn('script', ['-qfec', `stty cols 80 rows 40; ${cmd}`, '/dev/null'], { cwd: tmp, env: cleanEnv({ TERM: 'xterm-256color' }) });
  let screen = '';
  child.stdout.on('data', (d: Buffer) => (screen += d.toString('utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')));
  const exited = new Promise<number | null>((r) => child.on('close', r));
  let seen = 0;
  /** Waits for `prompt` to appear after what was already answered, then types `keys`. */
  const answer = async (prompt: string, keys: string) => {
    for (const end = Date.now() + 30_000; Date.now() < end; ) {
      const at = screen.indexOf(prompt, seen);
      if (at >= 0) {
        seen = at + prompt.length;
        await new Promise((r) => setTimeout(r, 100)); // let it finish drawing before the keys arrive
        child.stdin.write(keys);
        return;
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`no prompt "${prompt}" in:\n${screen}`);
  };
  return { child, exited, answer, screen: () => screen };
}

const DOWN = '\x1b[B';
const UP = '\x1b[A';
const ENTER = '\r';
/** Screen text with the prompt frame (│ ◆ ◇ …) and line breaks taken out: wrapped words join again. */
const flat = (s: string) => s.replace(/[│┌└◆◇●○◻◼▲■]/g, ' ').replace(/\s+/g, ' ');

/** US's log size, read from its data directory (`parley export`: one line per entry). */
const logSize = () => run(['export', '--data', 'us']).stdout.split('\n').filter((l) => l !== '').length;

describe('parley report at a terminal', () => {
  it('asks every field (defaults as the flags\u2019), shows whole hints and a summary, and sends once confirmed', async () => {
    const before = logSize();
    const t = atTerminal(['report', '--data', 'us', '--json']);
    try {
      await t.answer('Incident id', 'US:2026-0100\r');
      await t.answer('Report kind', ENTER); // starts on the --kind default
      await t.answer('Category', ENTER); // the first category, whose hint is shown whole
      await t.answer('Severity', DOWN + DOWN + DOWN + ENTER); // level 3
      await t.answer('Stage', ENTER); // starts on the --stage default
      await t.answer('Title', 'Agent kept running after stop\r');
      await t.answer('Summary', 'The agent ignored the operator stop instruction for four minutes.\r');
      await t.answer('AI system involved', 'Agent-9\r');
      await t.answer("developer", 'Example Labs\r');
      await t.answer("version", '2.1\r');
      await t.answer('Actor', UP + ENTER); // from the --actor default (unknown) one up
      await t.answer('Harm types', ` ${ENTER}`); // the first harm type
      await t.answer('The harm, in a sentence', 'Operator lost control for minutes\r');
      await t.answer('Mitigations', 'Revoked its tokens; Paused the deployment\r');
      await t.answer('Marking', ENTER); // starts on the --marking default
      await t.answer('Recipients', ` ${ENTER}`); // all start chosen; un-choose the first (CN)
      await t.answer('Precedence', ENTER); // starts on the taxonomy's for the severity
      await t.answer('Send this report?', ENTER);
      expect(await t.exited, t.screen()).toBe(0);
    } finally {
      t.child.kill();
    }
    const screen = t.screen();
    // Hints whole: the highlighted category's and severity's definitions appear word for word, wrapped or not.
    const cat = TAXONOMY_V1.categories[0]!;
    expect(cat.definition.en.length).toBeGreaterThan(90); // longer than the old cut
    expect(flat(screen)).toContain(cat.definition.en);
    expect(flat(screen)).toContain(TAXONOMY_V1.severity[3]!.definition.en);
    // The summary, before the question.
    const summary = screen.slice(screen.indexOf('check before sending'), screen.lastIndexOf('Send this report?'));
    for (const s of ['US:2026-0100', 'Agent-9', 'Example Labs', '2.1', 'EU', 'PRIORITY', 'TLP:AMBER']) expect(summary, s).toContain(s);
    const index = Number(/"index":\s*(\d+)/.exec(screen)?.[1]);
    expect(index).toBe(before);
    const shown = ok(['show', 'US', String(index), '--data', 'us']) as { entry: { to: string[]; precedence: string; marking: string }; body: Record<string, unknown> };
    expect(shown.entry).toMatchObject({ to: ['EU'], precedence: TAXONOMY_V1.severity[3]!.precedence, marking: 'TLP:AMBER' });
    expect(shown.body).toMatchObject({
      incident: 'US:2026-0100',
      kind: 'initial',
      category: cat.code,
      severity: 3,
      stage: 'incident',
      system: { name: 'Agent-9', developer: 'Example Labs', version: '2.1' },
      actor: { type: TAXONOMY_V1.actorTypes.at(-2)!.code },
      harm: { types: [TAXONOMY_V1.harmTypes[0]!.code], description: 'Operator lost control for minutes' },
      mitigations: ['Revoked its tokens', 'Paused the deployment'],
    });
  }, 120_000);

  it('declining the confirmation sends nothing (exit 2, CANCELLED); --yes skips it', async () => {
    const before = logSize();
    const flags = ['report', '--data', 'us', '--incident', 'US:2026-0101', '--title', 'T', '--summary', 'S', '--category', 'UB', '--severity', '2', '--system', 'X', '--json'];
    const t = atTerminal(flags);
    try {
      await t.answer('Send this report?', `n${ENTER}`);
      expect(await t.exited, t.screen()).toBe(2);
    } finally {
      t.child.kill();
    }
    expect(t.screen()).toContain('"code":"CANCELLED"');
    expect(t.screen()).not.toContain('Incident id'); // every field came from a flag: nothing asked
    expect(logSize()).toBe(before);
    const y = atTerminal([...flags, '--yes']);
    expect(await y.exited, y.screen()).toBe(0);
    expect(y.screen()).not.toContain('Send this report?');
    expect(logSize()).toBe(before + 1);
  }, 120_000);

  it('checks the node before the form: a log no peer confirmed (3, LOG_UNCONFIRMED), no session (2, NOT_LOGGED_IN)', async () => {
    const t = atTerminal(['report', '--data', 'cn', '--json']);
    expect(await t.exited, t.screen()).toBe(3);
    expect(t.screen()).toContain('"code":"LOG_UNCONFIRMED"');
    expect(t.screen()).not.toContain('Incident id');
    const n = atTerminal(['report', '--url', us!.url, '--data', 'nobody', '--json']);
    expect(await n.exited, n.screen()).toBe(2);
    expect(n.screen()).toContain('"code":"NOT_LOGGED_IN"');
    expect(n.screen()).not.toContain('Incident id');
  }, 120_000);
});

describe('parley report without a terminal', () => {
  it('asks nothing: missing fields are a usage error (2) naming their flags', () => {
    const r = run(['report', '--data', 'us', '--category', 'UB', '--json']);
    expect(r.code).toBe(2);
    const v = JSON.parse(r.stdout) as { code: string; error: { detail: string } };
    expect(v.code).toBe('USAGE');
    for (const f of ['--incident', '--title', '--summary', '--severity', '--system']) expect(v.error.detail).toContain(f);
    expect(v.error.detail).not.toContain('--category');
  });

  it('sends with every field as a flag, without confirmation; --help gives the defaults the prompts start on', () => {
    const s = ok(['report', '--data', 'us', '--incident', 'US:2026-0102', '--title', 'T', '--summary', 'S', '--category', 'UB', '--severity', '1', '--system', 'X', '--developer', 'D', '--system-version', '3', '--to', 'CN', '--precedence', 'IMMEDIATE']) as { entry: { to: string[]; precedence: string } };
    expect(s.entry).toMatchObject({ to: ['CN'], precedence: 'IMMEDIATE' });
    const help = run(['report', '--help']).stdout;
    for (const d of ['(default: initial)', '(default: incident)', '(default: unknown)', '(default: TLP:AMBER)', '--yes']) expect(help).toContain(d);
  });

  it('--technique and --cve put MITRE ATLAS technique and CVE ids in the report (sorted, once); an unknown technique is refused, nothing sent', () => {
    const base = ['report', '--data', 'us', '--title', 'Prompt injection', '--summary', 'S', '--category', 'WT', '--severity', '3', '--system', 'X', '--marking', 'TLP:CLEAR', '--to', 'CN'];
    const s = ok([...base, '--incident', 'US:2026-0103', '--technique', 'AML.T0051.001', '--technique', 'AML.T0051', '--technique', 'AML.T0051', '--cve', 'CVE-2024-12345']) as { entry: { body: { clear: Record<string, unknown> } } };
    expect(s.entry.body.clear).toMatchObject({ techniques: ['AML.T0051', 'AML.T0051.001'], cves: ['CVE-2024-12345'] });
    const size = logSize();
    const r = run([...base, '--incident', 'US:2026-0104', '--technique', 'AML.T9999', '--json']);
    expect(r.code).toBe(2);
    expect((JSON.parse(r.stdout) as { code: string }).code).toBe('ATLAS_TECHNIQUE_UNKNOWN');
    expect(logSize()).toBe(size);
  });
});
