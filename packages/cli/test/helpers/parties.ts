/**
 * Three parties (US, CN, EU) founded with the real binary in a temporary
 * directory and served as three `parley serve` processes on 127.0.0.1, for
 * the real-process CLI tests (faults, rollback, tail push): the set-up, the
 * processes, HTTP helpers, deadline waits, witness probes, and the proxies a
 * test puts between nodes (an HTTP gate that can refuse routes, a TCP proxy
 * that can cut a link).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server as HttpServer, type IncomingMessage, type ServerResponse, createServer as createHttpServer, request as httpRequest } from 'node:http';
import { type Server, type Socket, createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { formatAddCheckpointRequest } from '@parley/core/node';
import { ADMIN_PASSWORD, PASSPHRASE, type Run, cleanEnv, parleyIn } from './channel.js';
import { BIN } from './serve.js';

export { ADMIN_PASSWORD, PASSPHRASE };
export const PARTIES = ['US', 'CN', 'EU'] as const;
export type Party = (typeof PARTIES)[number];
export const dataOf = (p: Party) => p.toLowerCase();

export interface Node {
  party: Party;
  port: number;
  url: string;
  child: ChildProcess | undefined;
  exited: Promise<void>;
  /** The tail of its stderr (federation warnings), for failure messages. */
  log: string;
  token: string;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((done) => s.listen(0, '127.0.0.1', () => done()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((done) => s.close(() => done()));
  return port;
}

export async function bytesOf(url: string): Promise<Uint8Array> {
  const res = await fetch(url, { signal: AbortSignal.timeout(15_000) });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return new Uint8Array(Buffer.from(await res.arrayBuffer()));
}

/**
 * The size of `of`'s log that `witness` holds as cosigned: an anonymous
 * tlog-witness add-checkpoint with old size 0 is answered 409 `<size>\n`.
 */
export async function witnessedSize(witness: Node, of: Node): Promise<number> {
  const cp = await bytesOf(`${of.url}/log/checkpoint`);
  const res = await fetch(`${witness.url}/witness/add-checkpoint`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpointNote: cp }),
  });
  const text = await res.text();
  if (res.status !== 409) throw new Error(`${witness.party} answered ${res.status} to an old-0 probe: ${text}`);
  return Number(text.trim());
}

/** Stops `n` with SIGTERM if it runs, and waits for it to exit. */
export async function stop(n: Node): Promise<void> {
  if (n.child && n.child.exitCode === null && n.child.signalCode === null) {
    n.child.kill('SIGTERM');
    await n.exited;
  }
}

/** An HTTP proxy for one node's way to a peer that can refuse the mirror route, or every GET. */
export class MirrorGate {
  readonly #server: HttpServer;
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

/** A TCP proxy for one directed link, which the test can cut. */
export class Proxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #blocked = false;
  port = 0;

  constructor(readonly name: string, readonly targetPort: number) {
    this.#server = createServer((client) => {
      if (this.#blocked) {
        client.destroy();
        return;
      }
      const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
      this.#track(client);
      this.#track(upstream);
      const cut = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', cut).on('close', cut);
      upstream.on('error', cut).on('close', cut);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  #track(s: Socket): void {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
  }

  async listen(): Promise<this> {
    await new Promise<void>((done, fail) => {
      this.#server.once('error', fail);
      this.#server.listen(0, '127.0.0.1', () => done());
    });
    this.port = (this.#server.address() as { port: number }).port;
    return this;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Refuses new connections and destroys open ones (keep-alive sockets included). */
  block(): void {
    this.#blocked = true;
    for (const s of this.#sockets) s.destroy();
  }

  unblock(): void {
    this.#blocked = false;
  }

  async close(): Promise<void> {
    this.block();
    await new Promise<void>((done) => this.#server.close(() => done()));
  }
}

export interface ThreeParties {
  readonly nodes: Record<Party, Node>;
  /** The temporary directory ('' before `found`). */
  dir(): string;
  at(...p: string[]): string;
  /** `parley args…` in the directory (blocks this process's event loop). */
  parley(args: readonly string[]): Omit<Run, 'ms'>;
  /** `parley` without blocking this process's event loop (proxies and gates run in it). */
  parleyAsync(args: readonly string[]): Promise<Omit<Run, 'ms'>>;
  /** `parley args… --json`, expected to exit 0; its JSON. */
  json<T = Record<string, unknown>>(args: readonly string[]): T;
  /**
   * A new directory with `admin.pw` and `pass.txt`; US, CN and EU each
   * `parley init` on a free port (data dirs `us`, `cn`, `eu`, admin `admin`),
   * then accord init (name, `accordFlags`), sign and install by all three.
   */
  found(prefix: string, accordName: string, accordFlags: readonly string[]): Promise<void>;
  /** Starts `parley serve --data D --port P FLAGS… --json PEERS…` for `n` and waits for its JSON line (its url checked when `checkUrl`). */
  start(n: Node, o: { flags: readonly string[]; peers: readonly string[]; checkUrl?: boolean }): Promise<void>;
  http(n: Node, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }>;
  get(n: Node, path: string): Promise<any>;
  login(n: Node): Promise<void>;
  /** Polls `check` until it returns a value that is not undefined; fails with `what`, the last error and every node's stderr tail after `ms`. */
  until<T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T>;
  /** Starts every node with `start` (all at once), then logs each one's admin in. */
  startAll(start: (n: Node) => Promise<void>): Promise<void>;
  /** Stops every node (SIGTERM), closes `gates`, removes the directory. */
  teardown(gates: Iterable<{ close(): Promise<void> }>): Promise<void>;
  /** Removes the directory. */
  remove(): void;
}

/** The harness of a three-party real-process test: `parley` runs time out after `parleyTimeout`, HTTP requests after `httpTimeout`. */
export function threeParties(o: { parleyTimeout: number; httpTimeout: number }): ThreeParties {
  let tmp = '';
  const nodes = {} as Record<Party, Node>;
  const at = (...p: string[]) => join(tmp, ...p);

  const parley = (args: readonly string[]): Omit<Run, 'ms'> => {
    const { code, stdout, stderr } = parleyIn(tmp, args, { timeout: o.parleyTimeout });
    return { code, stdout, stderr };
  };

  const parleyAsync = (args: readonly string[]): Promise<Omit<Run, 'ms'>> =>
    new Promise((done, fail) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('error', fail);
      child.once('close', (code) => done({ code, stdout, stderr }));
    });

  const json = <T = Record<string, unknown>>(args: readonly string[]): T => {
    const r = parley([...args, '--json']);
    expect(r.code, `parley ${args.join(' ')}: ${r.stderr}`).toBe(0);
    return JSON.parse(r.stdout) as T;
  };

  const found = async (prefix: string, accordName: string, accordFlags: readonly string[]): Promise<void> => {
    tmp = mkdtempSync(join(tmpdir(), prefix));
    writeFileSync(at('admin.pw'), `${ADMIN_PASSWORD}\n`);
    writeFileSync(at('pass.txt'), `${PASSPHRASE}\n`);
    for (const p of PARTIES) {
      nodes[p] = { party: p, port: await freePort(), url: '', child: undefined, exited: Promise.resolve(), log: '', token: '' };
      nodes[p].url = `http://127.0.0.1:${nodes[p].port}`;
      json(['init', '--party', p, '--origin', `${dataOf(p)}.parley.test/log`, '--data', dataOf(p), '--port', String(nodes[p].port), '--admin', 'admin', '--admin-password-file', 'admin.pw']);
    }
    json(['accord', 'init', '--name', accordName, ...PARTIES.flatMap((p) => ['--party-file', `${dataOf(p)}/party.json`]), ...accordFlags]);
    for (const p of PARTIES) json(['accord', 'sign', 'accord.json', '--data', dataOf(p)]);
    for (const p of PARTIES) json(['accord', 'install', 'accord.json', '--data', dataOf(p)]);
  };

  const start = (n: Node, s: { flags: readonly string[]; peers: readonly string[]; checkUrl?: boolean }): Promise<void> => {
    const child = spawn(process.execPath, [BIN, 'serve', '--data', dataOf(n.party), '--port', String(n.port), ...s.flags, '--json', ...s.peers], {
      cwd: tmp,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    n.child = child;
    n.exited = new Promise((r) => child.once('exit', () => r()));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (n.log = (n.log + d).slice(-8000)));
    return new Promise((done, fail) => {
      let out = '';
      child.stdout!.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        if (!out.includes('\n')) return;
        if (!s.checkUrl) return done();
        try {
          expect((JSON.parse(out.split('\n')[0]!) as { url: string }).url).toBe(n.url);
          done();
        } catch (e) {
          fail(e as Error);
        }
      });
      child.once('error', fail);
      void n.exited.then(() => fail(new Error(`serve ${n.party} exited early: ${n.log}`)));
    });
  };

  const http = async (n: Node, method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> => {
    const res = await fetch(`${n.url}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(n.token ? { authorization: `Bearer ${n.token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(o.httpTimeout),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text };
  };

  const get = async (n: Node, path: string): Promise<any> => {
    const r = await http(n, 'GET', path);
    if (r.status !== 200) throw new Error(`GET ${n.party}${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  const login = async (n: Node): Promise<void> => {
    n.token = '';
    const r = await http(n, 'POST', '/v1/sessions', { name: 'admin', password: ADMIN_PASSWORD });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    n.token = r.body.token as string;
  };

  const until = async <T>(what: string, ms: number, check: () => Promise<T | undefined>): Promise<T> => {
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
  };

  const remove = () => {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  };

  const startAll = async (startOne: (n: Node) => Promise<void>): Promise<void> => {
    await Promise.all(PARTIES.map((p) => startOne(nodes[p])));
    for (const p of PARTIES) await login(nodes[p]);
  };

  const teardown = async (gates: Iterable<{ close(): Promise<void> }>): Promise<void> => {
    for (const p of PARTIES) if (nodes[p]) await stop(nodes[p]);
    for (const g of gates) await g.close();
    remove();
  };

  return { nodes, dir: () => tmp, at, parley, parleyAsync, json, found, start, http, get, login, until, startAll, teardown, remove };
}

// ------------------------------------------------ our own log, as rollback and tail-push read it

/** Sends a ROUTINE TLP:AMBER message from `n` (to `to`, or everyone); expects 201. */
export async function sendRoutine(h: Pick<ThreeParties, 'http'>, n: Node, text: string, to?: Party[]): Promise<{ index: number; leafHash: string }> {
  const r = await h.http(n, 'POST', '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:AMBER', text, ...(to ? { to } : {}) });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { index: r.body.index as number, leafHash: r.body.leafHash as string };
}

/** Our own log's leaf hashes by index, from the outbox. */
export async function leafHashes(h: Pick<ThreeParties, 'http'>, n: Node): Promise<Map<number, string>> {
  const r = await h.http(n, 'GET', '/v1/outbox?limit=200');
  expect(r.status).toBe(200);
  return new Map((r.body.items as { index: number; leafHash: string }[]).map((i) => [i.index, i.leafHash]));
}

/** How many receipts in `n`'s own log reference each entry of `from`. */
export async function receiptsOf(h: Pick<ThreeParties, 'http'>, n: Node, from: Party): Promise<Map<number, number>> {
  const r = await h.http(n, 'GET', '/v1/outbox?type=receipt&limit=200');
  expect(r.status).toBe(200);
  const counts = new Map<number, number>();
  for (const it of r.body.items as { entry: { refs: { party: string; index: number }[] } }[]) {
    for (const ref of it.entry.refs) if (ref.party === from) counts.set(ref.index, (counts.get(ref.index) ?? 0) + 1);
  }
  return counts;
}

/** How many fork proofs against `party` `witness` holds. */
export async function forksAgainst(h: Pick<ThreeParties, 'http'>, witness: Node, party: Party): Promise<number> {
  const r = await h.http(witness, 'GET', '/v1/forks');
  expect(r.status).toBe(200);
  return (r.body.forks as { party: string }[]).filter((f) => f.party === party).length;
}
