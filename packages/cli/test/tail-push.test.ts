/**
 * A WITNESS HOLDS EVERY ENTRY IT COSIGNS (issue 9, "No rollback"), with real
 * processes: three `parley serve` (US, CN, EU) on 127.0.0.1, founded with the
 * real binary. EU reaches US through a proxy that refuses every GET, so EU
 * cannot pull, scan or gossip US's log: all EU holds of US's log is what
 * US's pushes carry.
 *
 *   1. US sends 3 messages to everyone; CN and EU cosign them; `parley
 *      backup` copies US's store (size B).
 *   2. CN stops. US sends one message addressed to CN ONLY. EU's witness
 *      cosigns US's checkpoint covering it — and the moment it has, EU's
 *      mirror serves that entry byte for byte (a push carries US's whole
 *      tail; a witnessed push is cosigned only once the witness holds it).
 *      Before: the push carried only entries addressed to EU, EU cosigned
 *      index B by consistency proof alone and held no copy of it.
 *   3. US stops, `parley restore` puts the backup (size B) back, US starts
 *      with CN still down: it is rolled back (EU cosigned B+1) and recovers
 *      entry B from EU alone, byte for byte; it resumes, and EU's entry is
 *      not in EU's inbox and got no receipt from EU.
 *   4. CN starts: it gets the message, and no node holds a fork proof.
 *
 * Waits poll with deadlines; no fixed sleep decides an outcome.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { type Server, type IncomingMessage, type ServerResponse, createServer as createHttpServer, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatAddCheckpointRequest, getCrypto, signRequest, verifyAccord } from '@parley/core/node';
import { readAccordFile } from '../src/datadir.js';
import { unlockKeys } from '../src/secrets.js';
import { nodeKeys } from '../src/keyfile.js';

const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const BIN = join(REPO, 'packages/cli/bin/parley.js');
const PASSPHRASE = 'correct horse battery staple';
const PASSWORD = 'admin-password-123';
const PARTIES = ['US', 'CN', 'EU'] as const;
type Party = (typeof PARTIES)[number];

let tmp = '';
const at = (...p: string[]) => join(tmp, ...p);
const dataOf = (p: Party) => p.toLowerCase();

function env(): NodeJS.ProcessEnv {
  const e: NodeJS.ProcessEnv = { ...process.env, PARLEY_PASSPHRASE: PASSPHRASE };
  for (const k of ['PARLEY_DATA', 'PARLEY_URL', 'PARLEY_TOKEN', 'PARLEY_WEBHOOK']) delete e[k];
  return e;
}

function parley(args: readonly string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8', timeout: 60_000, env: env() });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function json<T = Record<string, unknown>>(args: readonly string[]): T {
  const r = parley([...args, '--json']);
  expect(r.code, `parley ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((done) => s.listen(0, '127.0.0.1', () => done()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((done) => s.close(() => done()));
  return port;
}

/** An HTTP proxy for US's way to one peer that can refuse the mirror route. */
class MirrorGate {
  readonly #server: Server;
  refuseMirror = false;
  /** Refuse every GET (the peer behind cannot be pulled, gossiped with, or asked what it cosigned). */
  refuseGets = false;
  port = 0;
  constructor(readonly targetPort: number) {
    this.#server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      if ((this.refuseMirror && (req.url ?? '').startsWith('/fed/v1/mirror/')) || (this.refuseGets && req.method === 'GET')) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('mirror refused by the test\n');
        return;
      }
      const up = httpRequest({ host: '127.0.0.1', port: this.targetPort, method: req.method, path: req.url, headers: req.headers }, (ur) => {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
  }
  async listen(): Promise<this> {
    await new Promise<void>((done) => this.#server.listen(0, '127.0.0.1', () => done()));
    this.port = (this.#server.address() as { port: number }).port;
    return this;
  }
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }
  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((done) => this.#server.close(() => done()));
  }
}

interface Node {
  party: Party;
  port: number;
  url: string;
  child: ChildProcess | undefined;
  exited: Promise<void>;
  log: string;
  token: string;
}

const nodes = {} as Record<Party, Node>;
const gates = {} as Record<'CN' | 'EU' | 'US', MirrorGate>;

function start(n: Node): Promise<void> {
  // US reaches its peers through gates; EU reaches US through one that refuses EU's pulls of US.
  const peers =
    n.party === 'US' ? (['CN', 'EU'] as const).flatMap((p) => ['--peer', `${p}=${gates[p].url}`]) : n.party === 'EU' ? ['--peer', `US=${gates.US.url}`, '--peer', `CN=${nodes.CN.url}`] : [];
  const child = spawn(process.execPath, [BIN, 'serve', '--data', dataOf(n.party), '--port', String(n.port), '--poll', '300', '--no-heartbeat', '--json', ...peers], { cwd: tmp, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  n.child = child;
  n.exited = new Promise((r) => child.once('exit', () => r()));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (n.log = (n.log + d).slice(-8000)));
  return new Promise((done, fail) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) done();
    });
    child.once('error', fail);
    void n.exited.then(() => fail(new Error(`serve ${n.party} exited early: ${n.log}`)));
  });
}

async function stop(n: Node): Promise<void> {
  if (n.child && n.child.exitCode === null && n.child.signalCode === null) {
    n.child.kill('SIGTERM');
    await n.exited;
  }
}

async function http(n: Node, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const res = await fetch(`${n.url}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(n.token ? { authorization: `Bearer ${n.token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(20_000),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
}

async function login(n: Node): Promise<void> {
  n.token = '';
  const r = await http(n, 'POST', '/v1/sessions', { name: 'admin', password: PASSWORD });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  n.token = r.body.token as string;
}

async function send(n: Node, text: string, to?: Party[]): Promise<{ index: number; leafHash: string }> {
  const r = await http(n, 'POST', '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:AMBER', text, ...(to ? { to } : {}) });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { index: r.body.index as number, leafHash: r.body.leafHash as string };
}

async function until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
      last = undefined;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      const logs = PARTIES.map((p) => `--- ${p} stderr tail:\n${nodes[p].log.slice(-1500)}`).join('\n');
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${String(last)}` : ''}\n${logs}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The size of `of`'s log `witness` holds as cosigned (an old-0 add-checkpoint is answered 409 `<size>`). */
async function witnessedSize(witness: Node, of: Node): Promise<number> {
  const cp = new Uint8Array(await (await fetch(`${of.url}/log/checkpoint`)).arrayBuffer());
  const res = await fetch(`${witness.url}/witness/add-checkpoint`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpointNote: cp }) });
  const text = await res.text();
  if (res.status !== 409) throw new Error(`${witness.party} answered ${res.status}: ${text}`);
  return Number(text.trim());
}

/** Our own log's leaf hashes by index, from the outbox. */
async function leafHashes(n: Node): Promise<Map<number, string>> {
  const r = await http(n, 'GET', '/v1/outbox?limit=200');
  expect(r.status).toBe(200);
  return new Map((r.body.items as { index: number; leafHash: string }[]).map((i) => [i.index, i.leafHash]));
}

/** How many receipts in `n`'s own log reference each entry of `from`. */
async function receiptsOf(n: Node, from: Party): Promise<Map<number, number>> {
  const r = await http(n, 'GET', '/v1/outbox?type=receipt&limit=200');
  expect(r.status).toBe(200);
  const counts = new Map<number, number>();
  for (const it of r.body.items as { entry: { refs: { party: string; index: number }[] } }[]) {
    for (const ref of it.entry.refs) if (ref.party === from) counts.set(ref.index, (counts.get(ref.index) ?? 0) + 1);
  }
  return counts;
}

async function forksAgainst(witness: Node, party: Party): Promise<number> {
  const r = await http(witness, 'GET', '/v1/forks');
  expect(r.status).toBe(200);
  return (r.body.forks as { party: string }[]).filter((f) => f.party === party).length;
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'parley-tail-'));
  writeFileSync(at('admin.pw'), `${PASSWORD}\n`);
  writeFileSync(at('pass.txt'), `${PASSPHRASE}\n`);
  for (const p of PARTIES) {
    nodes[p] = { party: p, port: await freePort(), url: '', child: undefined, exited: Promise.resolve(), log: '', token: '' };
    nodes[p].url = `http://127.0.0.1:${nodes[p].port}`;
    json(['init', '--party', p, '--origin', `${dataOf(p)}.parley.test/log`, '--data', dataOf(p), '--port', String(nodes[p].port), '--admin', 'admin', '--admin-password-file', 'admin.pw']);
  }
  json(['accord', 'init', '--name', 'tail-push-test', ...PARTIES.flatMap((p) => ['--party-file', `${dataOf(p)}/party.json`]), '--heartbeat', '60']);
  for (const p of PARTIES) json(['accord', 'sign', 'accord.json', '--data', dataOf(p)]);
  for (const p of PARTIES) json(['accord', 'install', 'accord.json', '--data', dataOf(p)]);
  gates.CN = await new MirrorGate(nodes.CN.port).listen();
  gates.EU = await new MirrorGate(nodes.EU.port).listen();
  gates.US = await new MirrorGate(nodes.US.port).listen();
  gates.US.refuseGets = true;
  await Promise.all(PARTIES.map((p) => start(nodes[p])));
  for (const p of PARTIES) await login(nodes[p]);
}, 120_000);

afterAll(async () => {
  for (const p of PARTIES) if (nodes[p]) await stop(nodes[p]);
  for (const g of Object.values(gates)) await g.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** EU's mirror of US's log [from, to), asked with a request signed by CN's log key (as CN would ask). */
async function euMirror(from: number, to: number): Promise<{ status: number; entries: string[] }> {
  const accord = verifyAccord(readAccordFile(at('accord.json')), { requireAll: false });
  const cnKeys = nodeKeys(await unlockKeys(at('cn'), at('pass.txt')));
  const signer = getCrypto().ed25519Signer(cnKeys.log.seed);
  const path = `/fed/v1/mirror/US/entries?from=${from}&to=${to}`;
  const header = signRequest({ accordId: accord.id, from: 'CN', to: 'EU', method: 'GET', path, body: new Uint8Array(), signer, now: Date.now() / 1000 });
  const r = await fetch(`${nodes.EU.url}${path}`, { headers: { 'parley-signature': header } });
  const v = (await r.json()) as { entries?: string[] };
  return { status: r.status, entries: v.entries ?? [] };
}

/** US's own entry bytes at `index` (base64), from its public entry bundle. */
async function usEntry(index: number, size: number): Promise<string> {
  const tile = Math.floor(index / 256);
  const width = Math.min(256, size - tile * 256);
  const path = `/log/tile/entries/${tileIndexPath(tile)}${width < 256 ? `.p/${width}` : ''}`;
  const res = await fetch(`${nodes.US.url}${path}`);
  expect(res.status, path).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  // C2SP tlog-tiles entry bundle: big-endian uint16 length, then the entry.
  let at = 0;
  for (let i = 0; ; i++) {
    const n = (bytes[at]! << 8) | bytes[at + 1]!;
    if (i === index - tile * 256) return Buffer.from(bytes.subarray(at + 2, at + 2 + n)).toString('base64');
    at += 2 + n;
  }
}

function tileIndexPath(n: number): string {
  const parts: string[] = [];
  let s = String(n).padStart(3, '0');
  // C2SP tlog-tiles: groups of three digits, all but the last prefixed with "x".
  while (s.length % 3 !== 0) s = '0' + s;
  for (let i = 0; i < s.length; i += 3) parts.push(s.slice(i, i + 3));
  return parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join('/');
}

describe('a witness holds every entry it cosigns: a push carries the whole tail (real processes)', () => {
  let backupSize = 0;
  let toCnOnly = { index: -1, leafHash: '' };
  let entryBytes = '';

  it('backs up US after three messages to everyone', async () => {
    const us = nodes.US;
    for (let i = 0; i < 3; i++) await send(us, `to everyone ${i}`);
    await until('CN and EU to cosign US at 3', 30_000, async () => ((await witnessedSize(nodes.CN, us)) >= 3 && (await witnessedSize(nodes.EU, us)) >= 3 ? true : undefined));
    backupSize = json<{ treeSize: number }>(['backup', '--data', 'us', '--out', 'us-old.sqlite']).treeSize;
    expect(backupSize).toBe(3);
  }, 60_000);

  it('EU holds an entry addressed to CN only as soon as it has cosigned it, though it cannot pull US', async () => {
    await stop(nodes.CN);
    const us = nodes.US;
    toCnOnly = await send(us, 'to CN only, while CN is down', ['CN']);
    expect(toCnOnly.index).toBe(backupSize);
    await until('EU to cosign US past the CN-only entry', 30_000, async () => ((await witnessedSize(nodes.EU, us)) > toCnOnly.index ? true : undefined));
    // No waiting here: what EU cosigned, EU holds.
    const m = await euMirror(0, toCnOnly.index + 1);
    expect(m.status).toBe(200);
    expect(m.entries.length, "EU's mirror of US's log up to the entry it cosigned").toBe(toCnOnly.index + 1);
    entryBytes = await usEntry(toCnOnly.index, toCnOnly.index + 1);
    expect(m.entries[toCnOnly.index]).toBe(entryBytes);
    // Mirrored, not received: not in EU's inbox, no receipt by EU.
    const inbox = await http(nodes.EU, 'GET', '/v1/inbox?party=US&limit=200');
    expect(inbox.status).toBe(200);
    expect((inbox.body.items as { index: number }[]).map((i) => i.index)).not.toContain(toCnOnly.index);
    expect((await receiptsOf(nodes.EU, 'US')).get(toCnOnly.index)).toBeUndefined();
  }, 60_000);

  it('US restored from the old backup recovers the entry from EU alone (CN still down), byte for byte', async () => {
    const us = nodes.US;
    await stop(us);
    expect(json<{ treeSize: number }>(['restore', '--data', 'us', 'us-old.sqlite']).treeSize).toBe(backupSize);
    await start(us);
    await until('US to recover from EU and report ok', 60_000, async () => ((await http(us, 'GET', '/healthz')).status === 200 ? true : undefined));
    await login(us);
    const c = await http(us, 'GET', '/v1/continuity');
    expect(c.body.state).toBe('confirmed');
    expect(c.body.localSize).toBeGreaterThan(toCnOnly.index);
    expect((await leafHashes(us)).get(toCnOnly.index)).toBe(toCnOnly.leafHash);
    const next = await send(us, 'resumed');
    expect(next.index).toBeGreaterThan(toCnOnly.index);
    await until('EU to cosign US past the resumed entry', 30_000, async () => ((await witnessedSize(nodes.EU, us)) > next.index ? true : undefined));
  }, 120_000);

  it('CN, back, gets the message; no node holds a fork proof against US', async () => {
    await start(nodes.CN);
    await login(nodes.CN);
    await until('CN to hold the CN-only message', 60_000, async () => {
      const inbox = await http(nodes.CN, 'GET', '/v1/inbox?party=US&limit=200');
      return (inbox.body.items as { index: number }[]).some((i) => i.index === toCnOnly.index) ? true : undefined;
    });
    expect(await forksAgainst(nodes.CN, 'US')).toBe(0);
    expect(await forksAgainst(nodes.EU, 'US')).toBe(0);
  }, 90_000);
});
