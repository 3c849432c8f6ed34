/**
 * The node commands of `parley`, end to end with the real built binary
 * (`node packages/cli/bin/parley.js`) in temporary directories: two parties
 * found a channel (init, accord init/sign/verify/install), run their nodes
 * (serve on free ports), and exchange a FLASH message over the officers' API
 * (login, send, export → ingest, inbox, show, ack); then an auditor verifies
 * a node's whole log over HTTP and catches a tampered tile in a directory.
 *
 * Secrets come from PARLEY_PASSPHRASE and password files, as in scripts.
 * Asserted by exit code and JSON fields, never by message text (STYLE.md),
 * except where the human output is the feature (the inbox table).
 */
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Served, serve as serveNode } from './helpers/serve.js';
import { canonicalizeToBytes } from '@parley/core/node';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const BIN = join(REPO, 'packages/cli/bin/parley.js');
const PASSPHRASE = 'correct horse battery staple';

let tmp = '';
const at = (...p: string[]) => join(tmp, ...p);

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: no PARLEY_* from the developer's shell, the test passphrase. */
function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PARLEY_PASSPHRASE: PASSPHRASE, ...extra };
  for (const k of ['PARLEY_DATA', 'PARLEY_URL', 'PARLEY_TOKEN']) if (!(k in extra)) delete e[k];
  return e;
}

function parley(args: readonly string[], extraEnv: Record<string, string> = {}): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8', timeout: 30_000, env: env(extraEnv) });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs and expects exit 0 with one JSON object on stdout. */
function json<T = Record<string, unknown>>(args: readonly string[], extraEnv: Record<string, string> = {}): T {
  const r = parley([...args, '--json'], extraEnv);
  expect(r.code, `parley ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

const mode = (file: string) => statSync(file).mode & 0o777;

/** The nodes of these tests deliver by hand (export, ingest, bundles): no federation, no heartbeats. */
const serve = (data: string): Promise<Served> => serveNode(data, { cwd: tmp, env: env(), extra: ['--no-federation', '--no-heartbeat'] });

async function post(url: string, path: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

interface PartyMaterial {
  id: string;
  names: { en: string; 'zh-CN': string };
  urls: string[];
  logKey: string;
  hpkeKey: string;
}

let us: PartyMaterial;
let cn: PartyMaterial;
const servers: Served[] = [];

beforeAll(() => {
  tmp = mkdtempSync(join(tmpdir(), 'parley-node-cli-'));
  writeFileSync(at('alice.pw'), 'alice-password-123\n');
  writeFileSync(at('bob.pw'), 'bob-password-4567\n');
  writeFileSync(at('root.pw'), 'cn-admin-password-89\n');
});

afterAll(async () => {
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

describe('parley init', () => {
  it('creates a data directory with encrypted keys and prints the public material', () => {
    const r = parley(['init', '--party', 'US', '--origin', 'us.parley.test/log', '--data', 'us', '--admin', 'alice', '--admin-password-file', 'alice.pw', '--name-en', 'US AISI']);
    expect(r.code, r.stderr).toBe(0);
    us = JSON.parse(readFileSync(at('us', 'party.json'), 'utf8')) as PartyMaterial;
    cn = json<PartyMaterial>(['init', '--party', 'CN', '--origin', 'cn.parley.test/log', '--data', 'cn']);
    writeFileSync(at('cn.json'), JSON.stringify(cn));
    expect(Object.keys(cn).sort()).toEqual(['hpkeKey', 'id', 'logKey', 'names', 'urls']);
    expect(us.logKey.startsWith('us.parley.test/log+')).toBe(true);

    for (const f of ['keys.enc', 'config.json']) expect(mode(at('us', f))).toBe(0o600);
    const keys = readFileSync(at('us', 'keys.enc'), 'utf8');
    expect(keys).not.toContain('PRIVATE+KEY');
    expect(JSON.parse(keys)).toMatchObject({ v: 1, kdf: { name: 'scrypt', r: 8, p: 1 }, cipher: 'AES-256-GCM' });
    expect(JSON.parse(readFileSync(at('us', 'config.json'), 'utf8'))).toMatchObject({ party: 'US', origin: 'us.parley.test/log', accord: 'accord.json', listen: { host: '127.0.0.1' } });
  });

  it('refuses an existing data directory, a bad party id and a missing passphrase (2)', () => {
    expect(parley(['init', '--party', 'US', '--origin', 'us.parley.test/log', '--data', 'us']).code).toBe(2);
    expect(parley(['init', '--party', 'us', '--origin', 'x.test/log', '--data', 'x']).code).toBe(2);
    expect(parley(['init', '--party', 'XX', '--origin', 'x.test/log', '--data', 'x'], { PARLEY_PASSPHRASE: '' }).code).toBe(2);
  });
});

describe('parley accord', () => {
  it('drafts an unsigned accord from the parties\u2019 public material; verify says 1 until every party signed', () => {
    const d = json<{ id: string; parties: string[] }>(['accord', 'init', '--name', 'us-cn-test', '--party-file', 'us/party.json', '--party-file', 'cn.json', '--ack-flash', '300', '--heartbeat', '600']);
    expect(d.parties).toEqual(['CN', 'US']);
    expect(d.id).toMatch(/^[0-9a-f]{64}$/);
    const v = parley(['accord', 'verify', 'accord.json', '--json']);
    expect(v.code).toBe(1);
    expect(JSON.parse(v.stdout)).toMatchObject({ valid: true, complete: false, missing: ['CN', 'US'], heartbeatSeconds: 600, deadlines: { ackSeconds: { FLASH: 300 } } });
  });

  it('a wrong passphrase is a usage error (2) and writes nothing', () => {
    const before = readFileSync(at('accord.json'), 'utf8');
    expect(parley(['accord', 'sign', 'accord.json', '--data', 'cn'], { PARLEY_PASSPHRASE: 'not the passphrase' }).code).toBe(2);
    expect(readFileSync(at('accord.json'), 'utf8')).toBe(before);
  });

  it('each party signs; one signature verifies as incomplete (1), both as complete (0)', () => {
    json(['accord', 'sign', 'accord.json', '--data', 'us']);
    copyFileSync(at('accord.json'), at('one-signature.json'));
    const one = parley(['accord', 'verify', 'one-signature.json', '--json']);
    expect(one.code).toBe(1);
    expect(JSON.parse(one.stdout)).toMatchObject({ complete: false, signedBy: ['US'], missing: ['CN'] });

    json(['accord', 'sign', 'accord.json', '--data', 'cn']);
    expect(json(['accord', 'verify', 'accord.json'])).toMatchObject({ valid: true, complete: true, signedBy: ['CN', 'US'], missing: [] });
  });

  it('a tampered accord does not verify (1)', () => {
    writeFileSync(at('tampered.json'), readFileSync(at('accord.json'), 'utf8').replace('"heartbeatSeconds": 600', '"heartbeatSeconds": 601'));
    const r = parley(['accord', 'verify', 'tampered.json', '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: false, code: 'SIGNATURE_INVALID' });
  });

  it('serve refuses an incomplete accord (2); install refuses it (1) and installs the complete one', () => {
    copyFileSync(at('one-signature.json'), at('us', 'accord.json'));
    expect(parley(['serve', '--data', 'us', '--port', '0']).code).toBe(2);
    expect(parley(['accord', 'install', 'one-signature.json', '--data', 'us']).code).toBe(1);
    for (const p of ['us', 'cn']) expect(json(['accord', 'install', 'accord.json', '--data', p])).toMatchObject({ complete: true });
    expect(mode(at('us', 'accord.json'))).toBe(0o600);
  });
});

describe('parley officer', () => {
  it('adds officers to the store offline; a taken name is a usage error', () => {
    expect(json(['officer', 'add', 'bob', '--role', 'officer', '--password-file', 'bob.pw', '--data', 'cn'])).toEqual({ name: 'bob', role: 'officer' });
    expect(json(['officer', 'add', 'root', '--role', 'admin', '--password-file', 'root.pw', '--data', 'cn'])).toEqual({ name: 'root', role: 'admin' });
    expect(parley(['officer', 'add', 'bob', '--role', 'auditor', '--password-file', 'bob.pw', '--data', 'cn']).code).toBe(2);
    expect(parley(['officer', 'add', 'eve', '--role', 'king', '--password-file', 'bob.pw', '--data', 'cn']).code).toBe(2);
    const list = json<{ officers: { name: string; role: string }[] }>(['officer', 'list', '--data', 'cn']);
    expect(list.officers.map((o) => o.name).sort()).toEqual(['bob', 'root']);
  });
});

describe('two nodes exchange a FLASH message', () => {
  let usNode: Served;
  let cnNode: Served;
  let sent: { index: number; leafHash: string };

  beforeAll(async () => {
    [usNode, cnNode] = await Promise.all([serve('us'), serve('cn')]);
    servers.push(usNode, cnNode);
  });

  it('officers log in; the session is saved with mode 0600', () => {
    expect(json(['login', '--name', 'alice', '--password-file', 'alice.pw', '--url', usNode.url, '--data', 'us'])).toMatchObject({ officer: { name: 'alice', role: 'admin' } });
    expect(json(['login', '--name', 'bob', '--password-file', 'bob.pw', '--url', cnNode.url, '--data', 'cn'])).toMatchObject({ officer: { name: 'bob', role: 'officer' } });
    expect(mode(at('us', 'session.json'))).toBe(0o600);
    expect(parley(['login', '--name', 'bob', '--password-file', 'alice.pw', '--url', cnNode.url, '--data', 'elsewhere']).code).toBe(2);
  });

  it('US sends a FLASH message and a report; the commands use the saved session', () => {
    sent = json<{ index: number; leafHash: string }>(['send', '--precedence', 'FLASH', '--to', 'CN', '--marking', 'TLP:AMBER', '--lang', 'en', 'Unexpected model behaviour; call the hotline.', '--data', 'us']);
    expect(sent).toMatchObject({ party: 'US', index: 0, entry: { type: 'hotline.message', precedence: 'FLASH', to: ['CN'] } });
    const report = json(['report', '--incident', 'US:2026-0001', '--category', 'WT', '--severity', '5', '--system', 'Frontier-1', '--title', 'Weights copied',
      '--summary', 'Weights were copied to an unknown host.', '--harm', 'security', '--mitigation', 'Rotated credentials', '--data', 'us']);
    expect(report).toMatchObject({ index: 1, entry: { type: 'incident.report', marking: 'TLP:AMBER' } });
    // Not at a terminal and fields missing: a usage error, nothing sent.
    expect(parley(['report', '--category', 'WT', '--data', 'us']).code).toBe(2);
    // A report file that is not a report (core's body registry): a usage error, nothing sent.
    writeFileSync(join(tmp, 'bad-report.json'), JSON.stringify({ incident: 'US:2026-0009', kind: 'initial' }));
    expect(parley(['report', '--file', join(tmp, 'bad-report.json'), '--marking', 'TLP:CLEAR', '--data', 'us']).code).toBe(2);
    expect(parley(['send', '--precedence', 'FLASH', 'no token', '--url', usNode.url, '--data', 'nowhere']).code).toBe(2);
  });

  it('export → admin ingest on CN; CN\u2019s inbox shows it; show opens it; ack answers it', async () => {
    const r = parley(['export', '--data', 'us']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { index: number; leafHash: string; entry: unknown });
    expect(lines.map((l) => l.index)).toEqual([0, 1]);
    expect(lines[0]!.leafHash).toBe(sent.leafHash);
    const entries = lines.map((l) => Buffer.from(canonicalizeToBytes(l.entry as never)).toString('base64'));

    const login = await post(cnNode.url, '/v1/sessions', { name: 'root', password: 'cn-admin-password-89' });
    expect(login.status).toBe(201);
    const ingest = await post(cnNode.url, '/v1/ingest', { entries }, login.body['token'] as string);
    expect(ingest.status).toBe(200);
    expect(ingest.body).toMatchObject({ accepted: 2, duplicates: 0 });

    const table = parley(['inbox', '--data', 'cn']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(/FLASH\s+US\s+0\s+hotline\.message/);
    expect(table.stdout).toContain('Unexpected model behaviour');
    // The FLASH awaits our acknowledgement: the time left is on its line.
    expect(table.stdout).toMatch(/FLASH\s+US\s+0\s.*receipt ✓  ack —  due in \d+m \d+s/);
    const inbox = json<{ items: { party: string; index: number; state?: { receipt?: unknown; ack?: unknown } }[] }>(['inbox', '--type', 'hotline.message', '--limit', '5', '--data', 'cn']);
    expect(inbox.items).toHaveLength(1);
    expect(inbox.items[0]).toMatchObject({ party: 'US', index: 0 });
    expect(inbox.items[0]!.state?.receipt).toBeDefined();
    expect(inbox.items[0]!.state?.ack).toBeUndefined();
    // --limit applies after the urgency order (issue 9): newest first, the report (1) would be the one shown.
    expect(json<{ items: { index: number }[] }>(['inbox', '--limit', '1', '--data', 'cn']).items.map((v) => v.index)).toEqual([0]);
    // Receipts and heartbeats are not an officer's: CN's inbox lists none by default.
    expect(json<{ items: { entry: { type: string } }[] }>(['inbox', '--data', 'cn']).items.map((v) => v.entry.type).sort()).toEqual(['hotline.message', 'incident.report']);

    expect(json(['show', 'US', '0', '--data', 'cn'])).toMatchObject({ party: 'US', index: 0, body: { text: 'Unexpected model behaviour; call the hotline.', lang: 'en' } });
    expect(json(['show', 'US', '1', '--data', 'cn'])).toMatchObject({ body: { incident: 'US:2026-0001', category: 'WT', severity: 5 } });
    expect(parley(['show', 'US', '9', '--data', 'cn']).code).toBe(2);

    expect(json(['ack', 'US', '0', '--reply', 'Received; calling now.', '--data', 'cn'])).toMatchObject({ party: 'CN', entry: { type: 'ack', to: ['US'] } });
    const after = json<{ items: { state?: { ack?: { officer: string } } }[] }>(['inbox', '--type', 'hotline.message', '--data', 'cn']);
    expect(after.items[0]!.state?.ack?.officer).toBe('bob');
    // One acknowledgement per entry: a second is refused (2) with its code, and nothing is appended.
    const again = parley(['ack', 'US', '0', '--data', 'cn']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('ALREADY_ACKNOWLEDGED');
  });

  it('log verify audits a node\u2019s whole log over HTTP with the accord (0); a wrong key fails (1)', () => {
    const v = json<{ valid: boolean; treeSize: number; entries: number; signaturesChecked: boolean }>(['log', 'verify', '--from', cnNode.url, '--key', cn.logKey, '--accord', 'accord.json']);
    expect(v).toMatchObject({ valid: true, signaturesChecked: true });
    expect(v.entries).toBe(v.treeSize);
    expect(v.treeSize).toBeGreaterThanOrEqual(2); // the receipt(s) and the ack
    expect(json(['log', 'verify', '--from', usNode.url, '--key', us.logKey, '--accord', 'accord.json'])).toMatchObject({ valid: true, treeSize: 2, entries: 2 });
    expect(json(['log', 'verify', '--from', usNode.url, '--key', us.logKey])).toMatchObject({ valid: true, signaturesChecked: false });
    const wrong = parley(['log', 'verify', '--from', usNode.url, '--key', cn.logKey, '--json']);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stdout)).toMatchObject({ valid: false });
  });

  it('report asks at a terminal for what the flags left out, from the taxonomy, and sends it', async () => {
    // A real pseudo-terminal (util-linux `script`), so stdin and stderr are TTYs as at an officer's desk.
    const cmd = [process.execPath, BIN, 'report', '--incident', 'US:2026-0002', '--kind', 'initial', '--category', 'UB', '--severity', '3', '--stage', 'near-miss', '--data', 'us', '--json']
      .map((a) => `'${a}'`)
      .join(' ');
    // A pty made from a pipe has no size (0 columns wraps every character): give it one.
    const child = spawn('script', ['-qfec', `stty cols 120 rows 40; ${cmd}`, '/dev/null'], { cwd: tmp, env: env({ TERM: 'xterm-256color' }) });
    let screen = '';
    // What the terminal shows, without colours and cursor movements.
    child.stdout.on('data', (d: Buffer) => (screen += d.toString('utf8').replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '')));
    const exited = new Promise<number | null>((r) => child.on('close', r));
    // Waits for a prompt to appear after what was already answered, then types.
    let seen = 0;
    const answer = async (prompt: string, keys: string) => {
      // Bounded by time, not by a count of 50 ms polls: a busy machine draws the prompt late.
      for (const end = Date.now() + 30_000; Date.now() < end; ) {
        const at = screen.indexOf(prompt, seen);
        if (at >= 0) {
          seen = at + prompt.length;
          child.stdin.write(keys);
          return;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no prompt "${prompt}" in:\n${screen}`);
    };
    try {
      await answer('Title', 'Model ignored its stop instruction\r');
      await answer('Summary', 'An agent kept running after the operator stopped it.\r');
      await answer('AI system involved', 'Agent-9\r');
      await answer('developer', '\r'); // optional: left out
      await answer('version', '\r');
      await answer('Actor', '\x1b[A\r'); // one up from the default (unknown)
      await answer('Harm types', ' \r'); // the first harm type
      await answer('The harm, in a sentence', '\r');
      await answer('Mitigations', 'Revoked its tokens; Paused the deployment\r');
      await answer('Marking', '\r'); // the default, TLP:AMBER
      await answer('Precedence', '\r'); // the taxonomy's for the severity
      await answer('Send this report?', '\r'); // after the summary
      expect(await exited, screen).toBe(0);
    } finally {
      child.kill();
    }
    const index = Number(/"index":\s*(\d+)/.exec(screen)?.[1]);
    expect(Number.isInteger(index), screen).toBe(true);
    const shown = json<{ entry: { type: string; marking: string }; body: Record<string, unknown> }>(['show', 'US', String(index), '--data', 'us']);
    expect(shown.entry).toMatchObject({ type: 'incident.report', marking: 'TLP:AMBER' });
    const { TAXONOMY_V1 } = await import('@parley/core/node');
    expect(shown.body).toMatchObject({
      incident: 'US:2026-0002',
      title: 'Model ignored its stop instruction',
      category: 'UB',
      severity: 3,
      actor: { type: TAXONOMY_V1.actorTypes.at(-2)!.code },
      harm: { types: [TAXONOMY_V1.harmTypes[0]!.code] },
      mitigations: ['Revoked its tokens', 'Paused the deployment'],
    });
  });

  it('logout revokes the session and deletes session.json', () => {
    expect(json(['logout', '--data', 'cn'])).toMatchObject({ loggedOut: true });
    expect(parley(['inbox', '--data', 'cn', '--url', cnNode.url]).code).toBe(2);
  });

  it('serve stops cleanly on SIGTERM', async () => {
    for (const s of [usNode, cnNode]) s.child.kill('SIGTERM');
    expect(await usNode.exited).toBe(0);
    expect(await cnNode.exited).toBe(0);
  });
});

describe('parley serve --web: the dashboard on the node\u2019s origin', () => {
  it('serves a built web app with a strict CSP from --web DIR, none with --no-web, and refuses a DIR without index.html (2)', async () => {
    const web = at('web-dist');
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><div id="root"></div><script type="module" src="/assets/main-1a2b.js"></script>');
    writeFileSync(join(web, 'assets', 'main-1a2b.js'), 'export {};');
    const node = await serveNode('us', { cwd: tmp, env: env(), extra: ['--no-federation', '--no-heartbeat', '--web', web] });
    servers.push(node);
    const page = await fetch(`${node.url}/inbox`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<div id="root">');
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self';/);
    expect((await fetch(`${node.url}/assets/main-1a2b.js`)).headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    node.child.kill('SIGTERM');
    expect(await node.exited).toBe(0);

    const bare = await serveNode('us', { cwd: tmp, env: env(), extra: ['--no-federation', '--no-heartbeat', '--no-web'] });
    servers.push(bare);
    expect((await fetch(`${bare.url}/`, { headers: { accept: 'text/html' } })).status).toBe(404);
    bare.child.kill('SIGTERM');
    expect(await bare.exited).toBe(0);

    expect(parley(['serve', '--data', 'us', '--port', '0', '--web', at('alice.pw')]).code).toBe(2);
    expect(parley(['serve', '--data', 'us', '--port', '0', '--web', at('nowhere')]).code).toBe(2);
  });
});

describe('parley log verify on a tlog-tiles directory', () => {
  it('verifies a demo log (0) and catches one flipped byte in a tile (1)', () => {
    const demo = json<{ logKey: string }>(['log', 'demo', '--entries', '700', '--samples', '5', '--dir', 'demo']);
    expect(json(['log', 'verify', '--from', 'demo', '--key', demo.logKey])).toMatchObject({ valid: true, treeSize: 700, entries: 700, signaturesChecked: false });
    const tile = at('demo', 'tile', '0', '000');
    const bytes = readFileSync(tile);
    bytes[100]! ^= 1;
    writeFileSync(tile, bytes);
    const r = parley(['log', 'verify', '--from', 'demo', '--key', demo.logKey, '--json']);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ valid: false, code: 'TILE_INVALID' });
    expect(parley(['log', 'verify', '--from', 'demo', '--key', 'not-a-key']).code).toBe(2);
  });
});
