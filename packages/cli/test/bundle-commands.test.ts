/**
 * `parley bundle export | import | inspect` end to end with the real built
 * binary and two served nodes (US, CN) in a temporary directory: US sends,
 * exports a bundle for CN through its running node, CN's admin imports it
 * through CN's running node and CN's inbox shows the entries; a repeat is all
 * duplicates, a flipped byte is exit 1 and stores nothing; inspect verifies
 * the file offline with the accord alone.
 *
 * Asserted by exit code and JSON fields (STYLE.md), as node-commands.test.ts.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Run, cleanEnv, parleyIn } from './helpers/channel.js';
import { type Served, serve as serveNode } from './helpers/serve.js';

let tmp = '';
const at = (...p: string[]) => join(tmp, ...p);

const parley = (args: readonly string[]): Run => parleyIn(tmp, args);

function json<T = Record<string, unknown>>(args: readonly string[]): T {
  const r = parley([...args, '--json']);
  expect(r.code, `parley ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

/** Runs with --json expecting `code`; returns the JSON printed on stdout. */
function fails<T = Record<string, unknown>>(code: number, args: readonly string[]): T {
  const r = parley([...args, '--json']);
  expect(r.code, `parley ${args.join(' ')}: ${r.stderr}`).toBe(code);
  return (r.stdout.trim() === '' ? {} : JSON.parse(r.stdout)) as T;
}

/** The nodes of these tests deliver by hand (export, ingest, bundles): no federation, no heartbeats. */
const serve = (data: string): Promise<Served> => serveNode(data, { cwd: tmp, env: cleanEnv(), extra: ['--no-federation', '--no-heartbeat'] });

const servers: Served[] = [];
let usNode: Served;
let cnNode: Served;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'parley-bundle-cli-'));
  writeFileSync(at('alice.pw'), 'alice-password-123\n');
  writeFileSync(at('bob.pw'), 'bob-password-4567\n');
  writeFileSync(at('root.pw'), 'cn-admin-password-89\n');
  json(['init', '--party', 'US', '--origin', 'us.parley.test/log', '--data', 'us', '--admin', 'alice', '--admin-password-file', 'alice.pw']);
  json(['init', '--party', 'CN', '--origin', 'cn.parley.test/log', '--data', 'cn', '--admin', 'root', '--admin-password-file', 'root.pw']);
  json(['accord', 'init', '--name', 'us-cn-bundles', '--party-file', 'us/party.json', '--party-file', 'cn/party.json']);
  for (const p of ['us', 'cn']) json(['accord', 'sign', 'accord.json', '--data', p]);
  for (const p of ['us', 'cn']) json(['accord', 'install', 'accord.json', '--data', p]);
  json(['officer', 'add', 'bob', '--role', 'officer', '--password-file', 'bob.pw', '--data', 'cn']);
  [usNode, cnNode] = await Promise.all([serve('us'), serve('cn')]);
  servers.push(usNode, cnNode);
  json(['login', '--name', 'alice', '--password-file', 'alice.pw', '--url', usNode.url, '--data', 'us']);
  json(['login', '--name', 'root', '--password-file', 'root.pw', '--url', cnNode.url, '--data', 'cn']);
}, 60_000);

afterAll(async () => {
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGTERM');
  await Promise.all(servers.map((s) => Promise.race([s.exited, new Promise((r) => setTimeout(r, 5000))])));
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

interface Exported {
  file: string;
  from: string;
  to: string;
  entries: number;
  checkpointSize: number;
  bytes: number;
  sha256: string;
}

interface Imported {
  imported: boolean;
  from: string;
  checkpointSize: number;
  accepted: number;
  duplicates: number;
  receipts: { index: number; leafHash: string }[];
}

describe('parley bundle', () => {
  let sent: number[] = [];
  let exported: Exported;

  it('export: US sends, then writes a bundle for CN through its node (0600, atomic, SHA-256 printed)', () => {
    sent = [
      json<{ index: number }>(['send', '--precedence', 'FLASH', '--to', 'CN', 'Across the air gap: call the hotline.', '--data', 'us']).index,
      json<{ index: number }>(['send', '--precedence', 'ROUTINE', '--to', 'CN', '--marking', 'TLP:CLEAR', 'Second message.', '--data', 'us']).index,
    ];
    exported = json<Exported>(['bundle', 'export', '--to', 'CN', '--data', 'us']);
    expect(exported).toMatchObject({ from: 'US', to: 'CN', entries: 2, checkpointSize: 2 });
    expect(exported.file).toBe(at('parley-US-to-CN-2.bundle'));
    const bytes = readFileSync(exported.file);
    expect(bytes.length).toBe(exported.bytes);
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(exported.sha256);
    expect(statSync(exported.file).mode & 0o777).toBe(0o600);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);

    // A range, to a chosen file; the human output names the file and the hash.
    const part = parley(['bundle', 'export', '--to', 'CN', '--since', '1', '--out', 'part.bundle', '--data', 'us']);
    expect(part.code, part.stderr).toBe(0);
    expect(part.stdout).toContain(at('part.bundle'));
    expect(part.stdout).toContain(createHash('sha256').update(readFileSync(at('part.bundle'))).digest('hex'));
  });

  it('inspect verifies the file offline with the accord alone and lists its entries', () => {
    const v = json<{ valid: boolean; from: string; to: string; checkpoint: { treeSize: number }; entries: { index: number; type: string; precedence: string; sealed: boolean }[] }>([
      'bundle', 'inspect', exported.file, '--accord', 'accord.json', '--me', 'CN',
    ]);
    expect(v).toMatchObject({ valid: true, from: 'US', to: 'CN', checkpoint: { treeSize: 2 } });
    expect(v.entries).toEqual([
      expect.objectContaining({ index: sent[0], type: 'hotline.message', precedence: 'FLASH', sealed: true }),
      expect.objectContaining({ index: sent[1], precedence: 'ROUTINE', sealed: false }),
    ]);
    // The data directory supplies accord and party too.
    expect(json(['bundle', 'inspect', 'part.bundle', '--data', 'cn'])).toMatchObject({ valid: true, entries: [{ index: sent[1] }] });
    expect(fails(1, ['bundle', 'inspect', exported.file, '--accord', 'accord.json', '--me', 'US'])).toMatchObject({ valid: false, code: 'BUNDLE_INVALID' });
    // Usage errors with --json are JSON too (README: {"ok": false, "code", "error"}).
    expect(fails(2, ['bundle', 'inspect', exported.file, '--me', 'CN', '--data', 'nowhere'])).toMatchObject({ ok: false, code: 'USAGE' });
    expect(fails(2, ['bundle', 'inspect', 'missing.bundle', '--accord', 'accord.json', '--me', 'CN'])).toMatchObject({ ok: false, code: 'FILE_UNREADABLE' });
  });

  it('import: CN\u2019s admin imports it through CN\u2019s node; the inbox shows the entries; a repeat is all duplicates', () => {
    const r = json<Imported>(['bundle', 'import', exported.file, '--data', 'cn']);
    expect(r).toMatchObject({ imported: true, from: 'US', checkpointSize: 2, accepted: 2, duplicates: 0 });
    expect(r.receipts).toHaveLength(1);

    const inbox = json<{ items: { party: string; index: number; body?: { text?: string }; state?: { receipt?: { index: number } } }[] }>(['inbox', '--data', 'cn']);
    expect(inbox.items.map((v) => v.index).sort()).toEqual([...sent].sort());
    for (const v of inbox.items) expect(v).toMatchObject({ party: 'US', state: { receipt: { index: r.receipts[0]!.index } } });
    expect(inbox.items.find((v) => v.index === sent[0])!.body?.text).toBe('Across the air gap: call the hotline.');

    expect(json<Imported>(['bundle', 'import', exported.file, '--data', 'cn'])).toMatchObject({ accepted: 0, duplicates: 2, receipts: [] });
    const human = parley(['bundle', 'import', 'part.bundle', '--data', 'cn']);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/from US .*0 accepted, 1 duplicate\b/);
  });

  it('a flipped byte is exit 1 and stores nothing; unusable arguments and nodes are exit 2', async () => {
    const before = json<{ items: unknown[] }>(['inbox', '--data', 'cn']).items.length;
    const bytes = readFileSync(exported.file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    writeFileSync(at('flipped.bundle'), bytes);
    const bad = fails<{ imported: boolean; code: string }>(1, ['bundle', 'import', 'flipped.bundle', '--data', 'cn']);
    expect(bad.imported).toBe(false);
    expect(bad.code).toMatch(/^BUNDLE_(INVALID|MALFORMED)$/);
    expect(fails(1, ['bundle', 'inspect', 'flipped.bundle', '--accord', 'accord.json', '--me', 'CN'])).toMatchObject({ valid: false });
    expect(json<{ items: unknown[] }>(['inbox', '--data', 'cn']).items).toHaveLength(before);

    // A bundle for someone else, at US: the node refuses it as invalid (1).
    expect(fails(1, ['bundle', 'import', exported.file, '--data', 'us'])).toMatchObject({ code: 'BUNDLE_INVALID' });
    // Not an admin (2), an unreachable node (2), a missing file (2), a bad party (2).
    const bob = await fetch(`${cnNode.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'bob', password: 'bob-password-4567' }) });
    const token = ((await bob.json()) as { token: string }).token;
    expect(parley(['bundle', 'import', exported.file, '--url', cnNode.url, '--token', token]).code).toBe(2);
    expect(parley(['bundle', 'import', exported.file, '--url', 'http://127.0.0.1:1', '--token', token]).code).toBe(3); // unreachable: try again later
    expect(parley(['bundle', 'import', 'missing.bundle', '--data', 'cn']).code).toBe(2);
    expect(parley(['bundle', 'export', '--to', 'cn', '--data', 'us']).code).toBe(2);
    expect(parley(['bundle', 'export', '--to', 'CN', '--since', '3', '--until', '1', '--data', 'us']).code).toBe(2);
    expect(parley(['bundle', 'export', '--to', 'US', '--data', 'us', '--out', 'self.bundle']).code).toBe(2);
    expect(existsSync(at('self.bundle'))).toBe(false);
  });
});
