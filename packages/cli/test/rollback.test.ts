/**
 * NO ROLLBACK, WITH REAL PROCESSES (issue 9): three parties (US, CN, EU)
 * founded with the real binary and served as three `parley serve` processes
 * on 127.0.0.1 (--poll 300, no heartbeats, so the log sizes are exactly what
 * the test sends). US reaches CN and EU through an HTTP proxy per link that
 * this test owns and that can refuse the mirror route (GET /fed/v1/mirror/…)
 * while passing everything else.
 *
 *   1. US sends 4 messages; CN and EU cosign them. `parley backup` copies
 *      US's store while US runs (online); `parley restore` on it is refused
 *      while US runs.
 *   2. US sends 6 more (3 to CN only: EU holds those in its mirror, not its
 *      inbox), CN sends US 2 messages (US's receipts join its log); CN and
 *      EU cosign US's size S, and EU's mirror serves all of US's log (asked
 *      as CN would, with a signed request).
 *   3. Every node stops; `parley restore` puts the old backup (size 4) back
 *      into US's data directory; `parley recover` with every peer down exits
 *      1 and says no peer answered.
 *   4. CN and EU start; both proxies refuse the mirror; US starts. Today's
 *      code signs at index 4 (201) and is later convicted of forking. Now:
 *      /healthz 503 "rolled-back", GET /v1/continuity shows S and who
 *      cosigned it, POST /v1/messages 409 LOG_ROLLED_BACK, and `parley send`
 *      exits 2 saying to run parley recover. Nothing was signed (size 4).
 *   5. EU's mirror is let through (CN's stays refused): US recovers by itself
 *      from EU's mirror — entries 4…S−1 byte for byte the ones it signed
 *      before — and resumes; CN's messages come back by pull with no second
 *      receipt; its next messages are cosigned past S by both, and no fork
 *      proof against US exists anywhere.
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

/** `parley` without blocking this process's event loop (the gates run in it). */
function parleyAsync(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', fail);
    child.once('close', (code) => done({ code, stdout, stderr }));
  });
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
  port = 0;
  constructor(readonly targetPort: number) {
    this.#server = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
      if (this.refuseMirror && (req.url ?? '').startsWith('/fed/v1/mirror/')) {
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
const gates = {} as Record<'CN' | 'EU', MirrorGate>;

function start(n: Node): Promise<void> {
  const peers = n.party === 'US' ? (['CN', 'EU'] as const).flatMap((p) => ['--peer', `${p}=${gates[p].url}`]) : [];
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
  tmp = mkdtempSync(join(tmpdir(), 'parley-rollback-'));
  writeFileSync(at('admin.pw'), `${PASSWORD}\n`);
  writeFileSync(at('pass.txt'), `${PASSPHRASE}\n`);
  for (const p of PARTIES) {
    nodes[p] = { party: p, port: await freePort(), url: '', child: undefined, exited: Promise.resolve(), log: '', token: '' };
    nodes[p].url = `http://127.0.0.1:${nodes[p].port}`;
    json(['init', '--party', p, '--origin', `${dataOf(p)}.parley.test/log`, '--data', dataOf(p), '--port', String(nodes[p].port), '--admin', 'admin', '--admin-password-file', 'admin.pw']);
  }
  json(['accord', 'init', '--name', 'rollback-test', ...PARTIES.flatMap((p) => ['--party-file', `${dataOf(p)}/party.json`]), '--heartbeat', '60']);
  for (const p of PARTIES) json(['accord', 'sign', 'accord.json', '--data', dataOf(p)]);
  for (const p of PARTIES) json(['accord', 'install', 'accord.json', '--data', dataOf(p)]);
  gates.CN = await new MirrorGate(nodes.CN.port).listen();
  gates.EU = await new MirrorGate(nodes.EU.port).listen();
  await Promise.all(PARTIES.map((p) => start(nodes[p])));
  for (const p of PARTIES) await login(nodes[p]);
}, 120_000);

afterAll(async () => {
  for (const p of PARTIES) if (nodes[p]) await stop(nodes[p]);
  for (const g of Object.values(gates)) await g.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('a node never signs a second history of its own log (real processes)', () => {
  let backupSize = 0;
  let cosigned = 0;
  let before = new Map<number, string>();
  const cnMessages: number[] = [];

  it('backs up online, and restore refuses a store in use', async () => {
    const us = nodes.US;
    for (let i = 0; i < 4; i++) await send(us, `before backup ${i}`);
    await until('CN and EU to cosign US at 4', 30_000, async () => ((await witnessedSize(nodes.CN, us)) >= 4 && (await witnessedSize(nodes.EU, us)) >= 4 ? true : undefined));
    const b = json<{ treeSize: number; checkpoints: number }>(['backup', '--data', 'us', '--out', 'us-old.sqlite']);
    backupSize = b.treeSize;
    expect(backupSize).toBe(4);
    expect(b.checkpoints).toBeGreaterThan(0);
    const refused = parley(['restore', '--data', 'us', 'us-old.sqlite']);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/DATA_DIR_LOCKED/);
  }, 60_000);

  it('every peer mirrors the whole log: EU serves US entries addressed to CN only', async () => {
    const us = nodes.US;
    for (let i = 0; i < 3; i++) await send(us, `to CN only ${i}`, ['CN']);
    for (let i = 0; i < 3; i++) await send(us, `after backup ${i}`);
    // CN writes to US: US's receipts of these are in the tail the backup lacks.
    for (let i = 0; i < 2; i++) cnMessages.push((await send(nodes.CN, `from CN ${i}`, ['US'])).index);
    cosigned = await until('US to receipt CN\u2019s messages, and CN and EU to cosign all of US\u2019s log', 30_000, async () => {
      if ((await receiptsOf(us, 'CN')).size < cnMessages.length) return undefined;
      const size = Number((await http(us, 'GET', '/log/checkpoint')).body.split('\n')[1]);
      return (await witnessedSize(nodes.CN, us)) >= size && (await witnessedSize(nodes.EU, us)) >= size ? size : undefined;
    });
    expect(cosigned).toBeGreaterThan(10);
    before = await leafHashes(us);
    expect(before.size).toBe(cosigned);
    // Ask EU's mirror as CN would: a request signed with CN's log key.
    const accord = verifyAccord(readAccordFile(at('accord.json')), { requireAll: false });
    const cnKeys = nodeKeys(await unlockKeys(at('cn'), at('pass.txt')));
    const signer = getCrypto().ed25519Signer(cnKeys.log.seed);
    const path = `/fed/v1/mirror/US/entries?from=0&to=${cosigned}`;
    await until("EU's mirror to hold all of US's log", 30_000, async () => {
      const header = signRequest({ accordId: accord.id, from: 'CN', to: 'EU', method: 'GET', path, body: new Uint8Array(), signer, now: Date.now() / 1000 });
      const r = await fetch(`${nodes.EU.url}${path}`, { headers: { 'parley-signature': header } });
      const v = (await r.json()) as { entries?: string[] };
      return r.status === 200 && v.entries?.length === cosigned ? true : undefined;
    });
  }, 90_000);

  it('restores the old backup; recover with every peer down says what it cannot know (exit 1)', async () => {
    for (const p of PARTIES) await stop(nodes[p]);
    const r = json<{ treeSize: number }>(['restore', '--data', 'us', 'us-old.sqlite']);
    expect(r.treeSize).toBe(backupSize);
    const rec = parley(['recover', '--data', 'us', '--peer', `CN=${gates.CN.url}`, '--peer', `EU=${gates.EU.url}`, '--passphrase-file', 'pass.txt', '--json']);
    expect(rec.code, rec.stderr).toBe(1);
    const out = JSON.parse(rec.stdout) as { state: string; before: number; after: number; peers: { party: string; status: string }[] };
    expect(out.state).toBe('unconfirmed');
    expect(out.after).toBe(backupSize);
    expect(out.peers.map((p) => p.status)).toEqual(['asking', 'asking']);
    const human = parley(['recover', '--data', 'us', '--peer', `CN=${gates.CN.url}`, '--peer', `EU=${gates.EU.url}`, '--passphrase-file', 'pass.txt']);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/no peer answered/);
    expect(human.stderr).toMatch(/CN: did not answer/);
  }, 90_000);

  it('the restored node refuses to sign (409 LOG_ROLLED_BACK, /healthz 503) while no peer can give the missing entries', async () => {
    await Promise.all([start(nodes.CN), start(nodes.EU)]);
    gates.CN.refuseMirror = true;
    gates.EU.refuseMirror = true;
    const us = nodes.US;
    await start(us);
    const health = await until('US to report rolled-back', 30_000, async () => {
      const h = await http(us, 'GET', '/healthz');
      return h.body?.status === 'rolled-back' ? h : undefined;
    });
    expect(health.status).toBe(503);
    await login(us);
    // Today's code answered 201 here, at index 4, and was later convicted of forking.
    const r = await http(us, 'POST', '/v1/messages', { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'after the restore' });
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.code).toBe('LOG_ROLLED_BACK');
    expect(r.body.type).toBe('urn:parley:error:log-rolled-back');
    // One peer's answer is enough to stop the node; wait for both to have answered (a busy machine).
    const c = await until('both peers to have answered US', 30_000, async () => {
      const c = await http(us, 'GET', '/v1/continuity');
      return c.body?.cosignedBy?.length === 2 ? c : undefined;
    });
    expect(c.body).toMatchObject({ state: 'rolled-back', localSize: backupSize, cosignedSize: cosigned });
    expect(c.body.cosignedBy).toEqual(['CN', 'EU']);
    const cli = parley(['send', '--url', us.url, '--token', us.token, '--precedence', 'ROUTINE', 'from the CLI']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/LOG_ROLLED_BACK/);
    expect(cli.stderr).toMatch(/parley recover --data/);
    expect((await http(us, 'GET', '/log/checkpoint')).body).toMatch(new RegExp(`\\n${backupSize}\\n`));
    // On demand, with the node stopped: parley recover says which peer cosigned what, and what is missing.
    await stop(us);
    const peers = ['--peer', `CN=${gates.CN.url}`, '--peer', `EU=${gates.EU.url}`, '--passphrase-file', 'pass.txt'];
    const rec = await parleyAsync(['recover', '--data', 'us', ...peers, '--json']);
    expect(rec.code, rec.stderr).toBe(1);
    expect(JSON.parse(rec.stdout).state, rec.stdout).toBe('rolled-back');
    const out = JSON.parse(rec.stdout) as { state: string; after: number; cosignedSize: number; cosignedBy: string[]; peers: { party: string; status: string; size?: number }[] };
    expect(out).toMatchObject({ state: 'rolled-back', after: backupSize, cosignedSize: cosigned, cosignedBy: ['CN', 'EU'] });
    expect(out.peers).toEqual([expect.objectContaining({ party: 'CN', status: 'cosigned', size: cosigned }), expect.objectContaining({ party: 'EU', status: 'cosigned', size: cosigned })]);
    const human = await parleyAsync(['recover', '--data', 'us', ...peers]);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain(`entries ${backupSize}…${cosigned - 1} are missing`);
    expect(human.stderr).toContain(`CN: cosigned size ${cosigned}`);
    await start(us);
  }, 150_000);

  it('recovers by itself from EU\u2019s mirror, byte for byte, and resumes without any fork proof', async () => {
    const us = nodes.US;
    gates.EU.refuseMirror = false;
    await until('US to recover and report ok', 60_000, async () => ((await http(us, 'GET', '/healthz')).status === 200 ? true : undefined));
    const c = await http(us, 'GET', '/v1/continuity');
    expect(c.body.state).toBe('confirmed');
    expect(c.body.localSize).toBeGreaterThanOrEqual(cosigned);
    const after = await leafHashes(us);
    for (const [i, h] of before) expect(after.get(i), `entry ${i}`).toBe(h);
    const next = await send(us, 'resumed');
    expect(next.index).toBeGreaterThanOrEqual(cosigned);
    await until('CN and EU to cosign US past the cosigned size', 30_000, async () =>
      (await witnessedSize(nodes.CN, us)) > cosigned && (await witnessedSize(nodes.EU, us)) > cosigned ? true : undefined,
    );
    // CN's messages come back to US by pull; the receipts in the recovered tail stand: one receipt each.
    await until('US to hold CN\u2019s messages again', 30_000, async () => {
      const inbox = await http(us, 'GET', '/v1/inbox?party=CN&limit=200');
      const held = new Set((inbox.body.items as { index: number }[]).map((i) => i.index));
      return cnMessages.every((i) => held.has(i)) ? true : undefined;
    });
    const receipts = await receiptsOf(us, 'CN');
    for (const i of cnMessages) expect(receipts.get(i), `receipts of CN/${i}`).toBe(1);
    expect(await forksAgainst(nodes.CN, 'US')).toBe(0);
    expect(await forksAgainst(nodes.EU, 'US')).toBe(0);
  }, 120_000);
});
