/**
 * Real `parley serve` processes on 127.0.0.1 for the harnesses that put a
 * channel through faults (bench/faults.mjs, bench/soak.mjs): parties founded
 * with the real binary in a temporary directory (init, accord init/sign/
 * install), started and SIGKILLed as child processes, reached over HTTP, with
 * the probes both harnesses read (witnessed size, resident memory) and a TCP
 * proxy per directed link that a harness can cut (a partition without
 * stopping a process).
 *
 * Nothing here decides an outcome: the harnesses count what the nodes report.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatAddCheckpointRequest } from '@parley/core/node';

export const REPO = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const BIN = join(REPO, 'packages/cli/bin/parley.js');

export async function freePort() {
  const s = createServer();
  await new Promise((done) => s.listen(0, '127.0.0.1', done));
  const port = s.address().port;
  await new Promise((done) => s.close(done));
  return port;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Resident set of a process now, in bytes (VmRSS from /proc; 0 once it is gone). */
export function rssOf(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Peak resident set of a process, sampled every 50 ms until stopped. */
export function sampleRss(pid) {
  const base = rssOf(pid);
  let peak = base;
  const t = setInterval(() => (peak = Math.max(peak, rssOf(pid))), 50);
  return { base, stop: () => (clearInterval(t), Math.max(peak, rssOf(pid))) };
}

/** A TCP proxy for one directed link, which a harness can cut: blocked, it destroys every open connection and every new one. */
export class Proxy {
  #server;
  #sockets = new Set();
  #blocked = false;
  port = 0;

  /**
   * @param targetPort one port, or several tried in order for each new
   *   connection (a load balancer's failover over a party's processes)
   */
  constructor(name, targetPort) {
    this.name = name;
    this.targets = Array.isArray(targetPort) ? targetPort : [targetPort];
    this.#server = createServer((client) => {
      if (this.#blocked) {
        client.destroy();
        return;
      }
      client.pause();
      this.#track(client);
      const attempt = (i) => {
        const upstream = createConnection({ host: '127.0.0.1', port: this.targets[i] });
        const refused = () => {
          upstream.destroy();
          if (i + 1 < this.targets.length && !client.destroyed) attempt(i + 1);
          else client.destroy();
        };
        upstream.once('error', refused);
        upstream.once('connect', () => {
          upstream.off('error', refused);
          this.#track(upstream);
          const cut = () => {
            client.destroy();
            upstream.destroy();
          };
          client.on('error', cut).on('close', cut);
          upstream.on('error', cut).on('close', cut);
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
        });
      };
      client.on('error', () => client.destroy());
      attempt(0);
    });
  }

  #track(s) {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
  }

  async listen() {
    await new Promise((done, fail) => {
      this.#server.once('error', fail);
      this.#server.listen(0, '127.0.0.1', () => done());
    });
    this.port = this.#server.address().port;
    return this;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  get blocked() {
    return this.#blocked;
  }

  block() {
    this.#blocked = true;
    for (const s of this.#sockets) s.destroy();
  }

  unblock() {
    this.#blocked = false;
  }

  async close() {
    this.block();
    await new Promise((done) => this.#server.close(() => done()));
  }
}

/**
 * A channel of real nodes in a fresh temporary directory.
 *
 * @param o.prefix      the temporary directory's prefix
 * @param o.parties     party ids (data directories are their lower-case names)
 * @param o.passphrase  every node's key passphrase
 * @param o.password    the `admin` officer's password on every node
 * @param o.budgetMs    `until` throws once the whole run is older than this
 * @param o.log         progress lines
 * @param o.nodeLogs    when true, each `parley serve` process's stderr and stdout are appended to
 *                      `<tmp>/logs/<name>.log` (`n.logFile`; kept across restarts), with `--log` (request log)
 */
export function cluster(o) {
  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), o.prefix));
  const at = (...p) => join(tmp, ...p);
  const dataOf = (p) => at(p.toLowerCase());
  const env = () => {
    const e = { ...process.env, PARLEY_PASSPHRASE: o.passphrase };
    for (const k of ['PARLEY_DATA', 'PARLEY_URL', 'PARLEY_TOKEN', 'PARLEY_WEBHOOK']) delete e[k];
    return e;
  };
  const nodes = {};

  /** `parley args…` in the directory (synchronous: blocks the caller's event loop). */
  function parley(args, timeout = 60_000) {
    const r = spawnSync(process.execPath, [BIN, ...args], { cwd: tmp, encoding: 'utf8', timeout, env: env() });
    if (r.error) throw r.error;
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  /** `parley args…` without blocking the event loop (proxies and load generators keep running). */
  function parleyAsync(args, timeout = 120_000) {
    return new Promise((done, fail) => {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: tmp, env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      const t = setTimeout(() => child.kill('SIGKILL'), timeout);
      child.stdout.setEncoding('utf8').on('data', (d) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
      child.once('error', fail);
      child.once('close', (code) => (clearTimeout(t), done({ code, stdout, stderr })));
    });
  }

  function json(args) {
    const r = parley([...args, '--json']);
    if (r.code !== 0) throw new Error(`parley ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  }

  function overBudget() {
    if (Date.now() - started > o.budgetMs) throw new Error(`the run exceeded its budget of ${o.budgetMs / 1000} s`);
  }

  async function until(what, ms, check) {
    const deadline = Date.now() + ms;
    let last;
    for (;;) {
      overBudget();
      try {
        const v = await check();
        if (v !== undefined && v !== false) return v;
        last = undefined;
      } catch (e) {
        last = e;
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? `: ${last}` : ''}`);
      await sleep(200);
    }
  }

  /**
   * Every party `parley init`s on a free port (admin `admin`), then the accord
   * (`accordFlags`) is drafted, signed and installed by all.
   */
  async function found(accordName, accordFlags) {
    writeFileSync(at('admin.pw'), `${o.password}\n`);
    for (const p of o.parties) {
      const port = await freePort();
      nodes[p] = { party: p, port, url: `http://127.0.0.1:${port}`, child: undefined, exited: Promise.resolve({}), log: '', token: '', peers: undefined };
    }
    // Each step runs for every party at once: each is a key derivation (scrypt) in a process of its own.
    const each = (args) =>
      Promise.all(
        o.parties.map(async (p) => {
          const r = await parleyAsync([...args(p), '--json']);
          if (r.code !== 0) throw new Error(`parley ${args(p).join(' ')} exited ${r.code}: ${r.stderr}`);
          return JSON.parse(r.stdout);
        }),
      );
    await each((p) => ['init', '--party', p, '--origin', `${p.toLowerCase()}.parley.test/log`, '--data', dataOf(p), '--port', String(nodes[p].port), '--admin', 'admin', '--admin-password-file', 'admin.pw']);
    json(['accord', 'init', '--name', accordName, ...o.parties.flatMap((p) => ['--party-file', join(dataOf(p), 'party.json')]), ...accordFlags]);
    // Signatures are collected in turn (each signs the file the one before wrote); installs are independent.
    for (const p of o.parties) json(['accord', 'sign', 'accord.json', '--data', dataOf(p)]);
    await each((p) => ['accord', 'install', 'accord.json', '--data', dataOf(p)]);
  }

  /** The log key of party `p` (from its party.json). */
  const logKeyOf = (p) => JSON.parse(readFileSync(join(dataOf(p), 'party.json'), 'utf8')).logKey;

  /**
   * Starts `parley serve` for `n` on its port and waits for its JSON line.
   * Peers: `n.peers(party)` when set (a proxy's URL), else each peer's own URL;
   * data directory `n.data` when set (a party's second process), else the party's;
   * `n.extra` and `extra` are added to the command line.
   */
  function start(n, extra = []) {
    const peers = o.parties.filter((p) => p !== n.party).flatMap((p) => ['--peer', `${p}=${n.peers ? n.peers(p) : nodes[p].url}`]);
    const logging = o.nodeLogs === true;
    const child = spawn(process.execPath, [BIN, 'serve', '--data', n.data ?? dataOf(n.party), '--port', String(n.port), '--json', ...(logging ? ['--log'] : []), ...peers, ...(n.extra ?? []), ...extra], {
      cwd: tmp,
      env: env(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    n.child = child;
    n.exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
    child.stderr.setEncoding('utf8').on('data', (d) => (n.log = (n.log + d).slice(-8000)));
    if (logging) {
      mkdirSync(at('logs'), { recursive: true });
      n.logFile = at('logs', `${(n.name ?? n.party).replace(/[^A-Za-z0-9_-]/g, '_')}.log`);
      const file = createWriteStream(n.logFile, { flags: 'a' });
      file.write(`${JSON.stringify({ level: 'info', msg: 'soak: process started', pid: child.pid, time: Date.now() })}\n`);
      child.stderr.on('data', (d) => file.write(d));
      child.stdout.on('data', (d) => file.write(d));
      child.once('exit', (code, signal) => file.end(`${JSON.stringify({ level: 'info', msg: 'soak: process exited', code, signal, time: Date.now() })}\n`));
    }
    return new Promise((done, fail) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d) => {
        out += d;
        if (out.includes('\n')) done();
      });
      child.once('error', fail);
      void n.exited.then(({ code }) => fail(new Error(`serve ${n.party} exited ${code}: ${n.log.slice(-2000)}`)));
    });
  }

  const running = (n) => n.child !== undefined && n.child.exitCode === null && n.child.signalCode === null;

  async function stop(n, signal = 'SIGTERM') {
    if (!n.child || !running(n)) return;
    n.child.kill(signal);
    await Promise.race([n.exited, sleep(10_000)]);
  }

  async function http(n, method, path, body, h = {}) {
    const res = await fetch(`${n.url}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(n.token ? { authorization: `Bearer ${n.token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(h.timeout ?? 15_000),
    });
    const text = await res.text();
    let parsed = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {}
    return { status: res.status, body: parsed };
  }

  async function get(n, path, timeout) {
    const r = await http(n, 'GET', path, undefined, timeout !== undefined ? { timeout } : {});
    if (r.status !== 200) throw new Error(`GET ${n.party}${path}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }

  async function login(n) {
    n.token = '';
    const r = await http(n, 'POST', '/v1/sessions', { name: 'admin', password: o.password });
    if (r.status !== 201) throw new Error(`login ${n.party}: ${r.status} ${JSON.stringify(r.body)}`);
    n.token = r.body.token;
  }

  /** Every item of a paged /v1 list (inbox, outbox); a check, not a latency: each page may take a minute (a loaded machine). */
  async function listAll(n, path, query) {
    const items = [];
    let before;
    for (;;) {
      const page = await get(n, `${path}?${[query, 'limit=200', ...(before !== undefined ? [`before=${before}`] : [])].filter(Boolean).join('&')}`, 60_000);
      items.push(...page.items);
      if (page.next === undefined) return items;
      before = page.next;
    }
  }

  /** The tree size of `of`'s checkpoint. */
  async function logSize(of) {
    const text = new TextDecoder().decode(new Uint8Array(await (await fetch(`${of.url}/log/checkpoint`, { signal: AbortSignal.timeout(15_000) })).arrayBuffer()));
    return Number(text.split('\n')[1]);
  }

  /**
   * The size of `of`'s log that `witness` holds as cosigned: an anonymous
   * tlog-witness add-checkpoint with old size 0 is answered 409 `<size>\n`.
   */
  async function witnessedSize(witness, of) {
    const cp = await (await fetch(`${of.url}/log/checkpoint`, { signal: AbortSignal.timeout(15_000) })).arrayBuffer();
    const res = await fetch(`${witness.url}/witness/add-checkpoint`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpointNote: new Uint8Array(cp) }),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await res.text();
    if (res.status !== 409) throw new Error(`${witness.party} answered ${res.status} to an old-0 probe: ${text}`);
    return Number(text.trim());
  }

  const remove = () => rmSync(tmp, { recursive: true, force: true });

  return { tmp, at, dataOf, env, nodes, started, parley, parleyAsync, json, overBudget, until, found, logKeyOf, start, running, stop, http, get, login, listAll, logSize, witnessedSize, remove };
}
