#!/usr/bin/env node
/**
 * Soak (`npm run soak`; issue 14, "Soak"). Three real `parley serve`
 * processes (US, CN, EU) on 127.0.0.1, founded with the real binary, every
 * node reaching each peer through a TCP proxy per directed link that this
 * harness owns. For SOAK_SECONDS (default 180) it drives a duty desk's mix at
 * SOAK_RATE operations per second (default 8):
 *
 *   hotline messages   FLASH / IMMEDIATE / PRIORITY / ROUTINE, to one or both other parties,
 *                      TLP:CLEAR / GREEN / AMBER (AMBER sealed to the recipients)
 *   incident reports   initial reports, updates and finals of a party's open incidents
 *   acknowledgements   the recipient's officer acknowledges each message and report on time
 *                      (10–30 % into its window), late (2–3 s after it), or never, as planned at send
 *   auditors           inclusion proofs of acknowledged entries and consistency proofs between
 *                      checkpoints they saw, verified with @parley/core against the party's log key
 *   inbox reads        an officer's first inbox page
 *   heartbeats         written by the nodes themselves (accord heartbeat 2 s)
 *
 * and injects faults on a schedule (SOAK_FAULTS, a comma list; default all):
 *
 *   kill            kill -9 of CN, restarted after 2 s on the same data directory and port
 *   partition       both links between US and EU cut (the proxies destroy every connection) for a while
 *   slow-disk       US's process moved into a cgroup-v1 blkio group throttled to 10 write IOPS
 *                   (/sys/fs/cgroup/blkio; the data directory's block device) for a while
 *   kill-sequencer  kill -9 of the sequencer of a party served by several processes on PostgreSQL
 *   kill-postgres   kill -9 of the PostgreSQL server under a party's nodes
 *
 * A fault this build or machine cannot run is listed as NOT RUN with the
 * reason — never counted as passed.
 *
 * At the end, with the load stopped and every fault healed: every log is
 * audited with `parley log verify --accord` against its node; every entry a
 * node acknowledged (HTTP 201) is in its log with the acknowledged leaf hash
 * and held exactly once by each of its recipients, with at most one receipt
 * each (nothing lost, nothing delivered twice); no index was acknowledged
 * twice; no node holds a fork proof; every witness cosigns every log at its
 * final size; and every deadline the senders report agrees with what this
 * harness recorded: the sent time lies within the send request, an
 * acknowledgement made after its deadline is judged late, every
 * acknowledgement's judged time is the cosigned evidence its sender judges
 * it by (the sender's first cosignature of the recipient's log containing
 * it, read from the sender's store; deadlines/state.ts), one made well
 * before its deadline (and not delayed by a fault) is judged on time unless
 * that evidence came after the deadline (then late is right: counted and
 * printed as witnessing lag), every verdict agrees with its own judged
 * time, and the recipient's node judges
 * each acknowledgement as its sender's does (same verdict and state; where
 * their judged times differ, by how much is printed).
 *
 * It prints throughput, latency percentiles per kind (request and delivery,
 * from each node's SSE stream), recovery times per fault, peak RSS per node
 * and disk bytes per entry, beside the machine's limits measured in the same
 * run (bench/lib/limits.mjs). `--json FILE` writes the summary as JSON.
 * Exits 0 only when every promise held.
 */
import { mkdirSync, readdirSync, rmdirSync, statSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { VerifierSet, checkConsistency, checkInclusion, openCheckpoint, parseBase64 } from '@parley/core/node';
import { cpSync } from 'node:fs';
import { Proxy, REPO, cluster, freePort, rssOf, sleep } from './lib/cluster.mjs';
import { postgresUnavailable, privatePostgres } from './lib/postgres.mjs';
import { machineLimits, spread } from './lib/limits.mjs';

const argv = process.argv.slice(2);
const JSON_FILE = argv.includes('--json') ? argv[argv.indexOf('--json') + 1] : undefined;
if (argv.includes('--json') && (JSON_FILE === undefined || JSON_FILE.startsWith('--'))) {
  console.error('usage: node bench/soak.mjs [--json FILE]   (SOAK_SECONDS, SOAK_RATE, SOAK_FAULTS in the environment)');
  process.exit(2);
}
const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);
const RATE = Number(process.env.SOAK_RATE ?? 8);
const ALL_FAULTS = ['kill', 'partition', 'slow-disk', 'kill-sequencer', 'kill-postgres'];
const WANTED = (process.env.SOAK_FAULTS ?? ALL_FAULTS.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
for (const f of WANTED) if (!ALL_FAULTS.includes(f)) (console.error(`unknown fault ${f}; known: ${ALL_FAULTS.join(', ')}`), process.exit(2));
if (!(SECONDS >= 5) || !(RATE > 0)) (console.error('SOAK_SECONDS must be ≥ 5 and SOAK_RATE > 0'), process.exit(2));

const PARTIES = ['US', 'CN', 'EU'];
const PRECEDENCES = ['FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE'];
const DEADLINES = { receipt: 10, ack: { FLASH: 8, IMMEDIATE: 10, PRIORITY: 12, ROUTINE: 15 } };
const HEARTBEAT = 2;
/**
 * How long after an acknowledgement its sender may take to cosign it (push, witness round): the
 * margin for an on-time verdict. The sender judges an answer by its own cosignature of the answer
 * (deadlines/state.ts), so an acknowledgement made less than this before its deadline, or while a
 * fault or its recovery delays witnessing, may rightly be judged late: either verdict is accepted
 * there, and the lag itself is reported (SOAK_COSIGN_LAG_MS to change).
 */
const COSIGN_LAG_MS = Number(process.env.SOAK_COSIGN_LAG_MS ?? 5000);
const MAX_INFLIGHT = 48;

const c = cluster({ prefix: 'parley-soak-', parties: PARTIES, passphrase: 'soak passphrase', password: 'soak-admin-password', budgetMs: SECONDS * 1000 + 420_000, nodeLogs: Boolean(process.env.SOAK_LOGS) });
const { nodes, at, dataOf, until, http, get, login, listAll, logSize, witnessedSize } = c;
const t = () => ((Date.now() - c.started) / 1000).toFixed(1).padStart(6);
const say = (...a) => console.error(`[${t()} s]`, ...a);
const problems = [];
const broke = (what) => (problems.push(what), say(`PROMISE BROKEN: ${what}`));

// ---------------------------------------------------------------- records

/** Acknowledged (201) entries: `${party}/${index}` → what the soak saw. */
const sent = new Map();
const twice = [];
const latency = {}; // kind → ms[]
const errors = {}; // kind → { count, inFault, codes: {status: n} }
const arrivals = new Map(); // `${party}/${index}>${recipient}` → epoch ms (SSE)
/** Fault windows: { name, parties: [...], links: [[a,b]], from, to } (epoch ms). */
const windows = [];
const counts = { opsPlanned: 0, opsShed: 0, audits: 0, auditFailures: 0 };
let inflight = 0;

const lat = (kind, ms) => (latency[kind] ??= []).push(ms);
function err(kind, status) {
  const e = (errors[kind] ??= { count: 0, inFault: 0, codes: {} });
  e.count++;
  if (windows.some((w) => w.to === undefined || Date.now() - w.to < 5000)) e.inFault++;
  e.codes[status] = (e.codes[status] ?? 0) + 1;
}
const pick = (xs) => xs[Math.floor(Math.random() * xs.length)];
function weighted(table) {
  let r = Math.random() * table.reduce((a, [, w]) => a + w, 0);
  for (const [v, w] of table) if ((r -= w) < 0) return v;
  return table[table.length - 1][0];
}
const up = (p) => !nodes[p].down;

// ---------------------------------------------------------------- channel

const proxies = new Map(); // "US>CN": US's way to CN
async function setup() {
  // The private PostgreSQL server is made (initdb, start, database) while the parties are founded.
  const pgReady = pgParty ? startPostgres(pgParty) : undefined;
  pgReady?.catch(() => undefined); // awaited below; a failure there aborts the run
  const s0 = Date.now();
  await c.found('soak', [
    '--heartbeat', String(HEARTBEAT),
    '--receipt', String(DEADLINES.receipt),
    ...PRECEDENCES.flatMap((p) => [`--ack-${p.toLowerCase()}`, String(DEADLINES.ack[p])]),
  ]);
  for (const p of PARTIES) {
    nodes[p].peers = (q) => proxies.get(`${p}>${q}`).url;
    nodes[p].keys = new VerifierSet([c.logKeyOf(p)]);
    nodes[p].procs = [nodes[p]];
  }
  setupSteps.foundMs = Date.now() - s0;
  if (pgParty) {
    await pgReady;
    setupSteps.postgresReadyMs = Date.now() - s0;
    await setupPostgres(nodes[pgParty]);
  }
  for (const from of PARTIES) for (const to of PARTIES) if (from !== to) proxies.set(`${from}>${to}`, await new Proxy(`${from}>${to}`, nodes[to].procs.map((x) => x.port)).listen());
  const n0 = Date.now();
  await Promise.all(PARTIES.map((p) => (p === pgParty ? startPgParty(nodes[p]) : start(nodes[p]))));
  setupSteps.nodesServingMs = Date.now() - n0;
  const w0 = Date.now();
  await until('every witness to cosign every log', 90_000, async () => {
    for (const w of PARTIES) for (const o of PARTIES) if (w !== o && (await witnessedSize(nodes[w], nodes[o])) === 0) return false;
    return true;
  });
  setupSteps.allWitnessedMs = Date.now() - w0;
  setupSteps.totalMs = Date.now() - s0;
  say(`set-up: ${Object.entries(setupSteps).map(([k, v]) => `${k.replace(/Ms$/, '')} ${(v / 1000).toFixed(1)} s`).join(', ')}`);
}
/** How long each step of the set-up took (printed, and in --json). */
const setupSteps = {};

// ---------------------------------------------------------------- a party on PostgreSQL, two processes

/**
 * With the PostgreSQL faults, `pgParty` keeps its log in a private PostgreSQL
 * server (bench/lib/postgres.mjs) and runs two `parley serve --store`
 * processes on it (the second on a copy of the data directory: keys and
 * config), one the sequencer. Peers and the soak reach the party through a
 * proxy that fails over between the two, as a load balancer would; a process
 * that exits on its own is restarted after 1 s, as a service manager would.
 */
const PG_FAULTS = WANTED.filter((f) => f === 'kill-sequencer' || f === 'kill-postgres');
let pgReason;
let pgParty;
let pgServer;
let pgUrl;
let pgBaseline;
/** A CHECKPOINT, so the database size counts what is written, not what waits in the WAL. */
async function pg_checkpoint() {
  const { default: pg } = await import('pg');
  const cl = new pg.Client({ connectionString: pgUrl.replace(/\/[^/]+$/, '/postgres') });
  await cl.connect();
  try {
    await cl.query('CHECKPOINT');
  } finally {
    await cl.end();
  }
}
async function pgDatabaseSize() {
  const { default: pg } = await import('pg');
  const cl = new pg.Client({ connectionString: pgUrl });
  await cl.connect();
  try {
    return Number((await cl.query('SELECT pg_database_size(current_database()) AS n')).rows[0].n);
  } finally {
    await cl.end();
  }
}
let front;
const serviceRestarts = [];

async function pgWhyNot() {
  if (!/--store\b/.test(c.parley(['serve', '--help']).stdout)) return 'this build has no PostgreSQL store behind `parley serve` (--store; the pg and multi work of issue 14)';
  const store = await import(join(REPO, 'packages/store/dist/index.js'));
  if (typeof store.PgStore?.open !== 'function') return 'this build\'s @parley/store has no PgStore';
  return postgresUnavailable();
}

/** The private server and the party's database (run beside the founding of the parties). */
async function startPostgres(party) {
  pgServer = await privatePostgres();
  await pgServer.start();
  pgUrl = await pgServer.createDatabase(`parley_soak_${party.toLowerCase()}`);
}

async function setupPostgres(n) {
  // The officers `parley init` created go to the party's database (what `parley migrate` does in full).
  const { SqliteStore, PgStore } = await import(join(REPO, 'packages/store/dist/index.js'));
  const sqlite = SqliteStore.open(join(dataOf(n.party), 'parley.sqlite'));
  const pg = await PgStore.open(pgUrl);
  for (const o of await sqlite.officers()) await pg.putOfficer(o);
  await sqlite.close();
  await pg.close();
  pgBaseline = await pgDatabaseSize(); // the schema and officers, before any entry: not per-entry bytes
  const second = at(`${n.party.toLowerCase()}-2`);
  cpSync(dataOf(n.party), second, { recursive: true, filter: (f) => !f.includes('parley.lock') && !/parley\.sqlite/.test(f) });
  const proc = (data, port, name) => ({ party: n.party, name, data, port, url: `http://127.0.0.1:${port}`, peers: n.peers, extra: ['--store', pgUrl], rssPeak: 0 });
  n.procs = [proc(dataOf(n.party), n.port, n.party), proc(second, await freePort(), `${n.party}#2`)];
  front = await new Proxy(`front>${n.party}`, n.procs.map((x) => x.port)).listen();
  n.url = front.url;
}

async function startProc(x) {
  x.killedBySoak = false;
  await c.start(x, ['--poll', '1000']);
  x.pid = x.child.pid;
  void x.exited.then(async () => {
    if (x.killedBySoak || stopping) return;
    serviceRestarts.push({ process: x.name, at: Date.now(), log: x.log.slice(-400) });
    say(`${x.name} exited on its own; restarting it (service manager)`);
    await sleep(1000);
    if (!stopping) await startProc(x).catch((e) => broke(`${x.name} did not restart: ${e.message}`));
  });
}

async function startPgParty(n) {
  // In parallel: the database was migrated when the officers were copied in (setupPostgres).
  await Promise.all(n.procs.map((x) => startProc(x)));
  await login(n);
  n.down = false;
}

/** The process of the PostgreSQL party that is its sequencer now (its own /healthz). */
async function sequencerProc() {
  for (const x of nodes[pgParty].procs) {
    const r = await fetch(`${x.url}/healthz`, { signal: AbortSignal.timeout(3000) }).then((res) => res.json(), () => undefined);
    if (r?.role === 'sequencer') return x;
  }
  return undefined;
}

async function start(n) {
  await c.start(n, ['--poll', '1000']);
  await login(n);
  n.down = false;
  n.pid = n.child.pid;
}

/** Peak RSS per node, across restarts. */
const rssTimer = setInterval(() => {
  for (const p of PARTIES) for (const x of nodes[p]?.procs ?? []) if (x.child && !nodes[p].down) x.rssPeak = Math.max(x.rssPeak ?? 0, rssOf(x.child.pid));
}, 250);

/** Each node's SSE stream: when each entry of another party arrived (first sight). */
function watchEvents(n) {
  const loop = async () => {
    while (!stopping) {
      if (n.down || !n.token) {
        await sleep(300);
        continue;
      }
      try {
        const ac = new AbortController();
        n.events = ac;
        const res = await fetch(`${n.url}/v1/events`, { headers: { authorization: `Bearer ${n.token}` }, signal: ac.signal });
        if (res.status !== 200) throw new Error(String(res.status));
        let buf = '';
        for await (const chunk of res.body) {
          buf += Buffer.from(chunk).toString('utf8');
          let i;
          while ((i = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            if (!/^event: entry$/m.test(block)) continue;
            const data = /^data: (.*)$/m.exec(block);
            if (!data) continue;
            const e = JSON.parse(data[1]);
            if (e.direction !== 'in') continue;
            const key = `${e.party}/${e.index}>${n.party}`;
            if (!arrivals.has(key)) arrivals.set(key, Date.now());
          }
        }
      } catch {}
      await sleep(300);
    }
  };
  return loop();
}

// ---------------------------------------------------------------- load

const TEXT = 'Unusual model behaviour in deployment; details follow. '.repeat(12);
const incidents = Object.fromEntries(PARTIES.map((p) => [p, []])); // open incidents: { id, last: {index, leafHash}, updates }
let incidentSeq = 0;

function record(kind, party, r, extra) {
  const key = `${party}/${r.body.index}`;
  if (sent.has(key)) twice.push(key);
  sent.set(key, { party, index: r.body.index, leafHash: r.body.leafHash, kind, ...extra });
}

/** Plans each recipient's acknowledgement of an entry that needs one. */
function planAcks(party, index, to, precedence, t0) {
  const window = DEADLINES.ack[precedence] * 1000;
  for (const r of to) {
    const mode = weighted([['on-time', 6], ['late', 2], ['never', 2]]);
    if (mode === 'never') continue;
    const at = mode === 'on-time' ? t0 + window * (0.1 + 0.2 * Math.random()) : t0 + window + 2000 + 1000 * Math.random();
    ackQueue.push({ party, index, recipient: r, mode, at, tries: 0 });
  }
}

async function sendMessage() {
  const from = pick(PARTIES.filter(up));
  if (!from) return;
  const others = PARTIES.filter((p) => p !== from);
  const to = Math.random() < 0.5 ? others : [pick(others)];
  const precedence = weighted([['FLASH', 15], ['IMMEDIATE', 20], ['PRIORITY', 25], ['ROUTINE', 40]]);
  const marking = weighted([['TLP:CLEAR', 3], ['TLP:GREEN', 3], ['TLP:AMBER', 4]]);
  const kind = precedence === 'FLASH' ? 'message FLASH' : 'message';
  const t0 = Date.now();
  const r = await http(nodes[from], 'POST', '/v1/messages', { to, precedence, marking, text: `${TEXT.slice(0, 100 + Math.floor(Math.random() * 500))} #${counts.opsPlanned}` });
  const t1 = Date.now();
  if (r.status !== 201) return err(kind, r.status);
  lat(kind, t1 - t0);
  record(kind, from, r, { type: 'hotline.message', precedence, to, t0, t1 });
  planAcks(from, r.body.index, to, precedence, t0);
}

async function sendReport() {
  const from = pick(PARTIES.filter(up));
  if (!from) return;
  const open = incidents[from];
  let kind = 'initial';
  let inc;
  if (open.length > 0 && Math.random() < 0.6) {
    inc = pick(open);
    kind = inc.updates >= 2 || Math.random() < 0.3 ? 'final' : 'update';
  } else {
    inc = { id: `${from}:soak-${String(++incidentSeq).padStart(4, '0')}`, updates: 0 };
  }
  const severity = 1 + Math.floor(Math.random() * 4); // below every red line: precedence stays the reporter's choice
  const precedence = weighted([['IMMEDIATE', 1], ['PRIORITY', 2], ['ROUTINE', 2]]);
  const report = {
    incident: inc.id,
    kind,
    title: 'Model-assisted intrusion attempt against a utility network',
    summary: `${kind} report: scanning and exploitation attempts traced to an agentic tool chain.`,
    category: 'CY',
    severity,
    stage: 'incident',
    system: { name: 'Agent-7', developer: 'unknown' },
    actor: { type: 'non-state-actor' },
    harm: { types: ['infrastructure'] },
    mitigations: ['Segment isolated'],
    detectedAt: new Date(Date.now() - 60_000).toISOString(),
    lang: 'en',
  };
  const t0 = Date.now();
  const r = await http(nodes[from], 'POST', '/v1/reports', { precedence, marking: 'TLP:AMBER', report, ...(inc.last ? { refs: [{ party: from, index: inc.last.index, hash: inc.last.leafHash }] } : {}) });
  const t1 = Date.now();
  if (r.status !== 201) return err('report', r.status);
  lat('report', t1 - t0);
  const to = PARTIES.filter((p) => p !== from);
  record('report', from, r, { type: 'incident.report', precedence, to, t0, t1 });
  planAcks(from, r.body.index, to, precedence, t0);
  inc.last = { index: r.body.index, leafHash: r.body.leafHash };
  if (kind === 'initial') open.push(inc);
  else if (kind === 'update') inc.updates++;
  else open.splice(open.indexOf(inc), 1);
}

/** Acknowledgements as planned; one not yet received is tried again shortly. */
const ackQueue = [];
const acksDone = [];
async function ackLoop() {
  while (!stopping || ackQueue.length > 0) {
    const now = Date.now();
    const due = ackQueue.filter((a) => a.at <= now && !a.busy && up(a.recipient));
    for (const a of due) {
      a.busy = true;
      void (async () => {
        const n = nodes[a.recipient];
        const t0 = Date.now();
        a.firstTry ??= t0;
        try {
          const r = await http(n, 'POST', `/v1/entries/${a.party}/${a.index}/ack`, { reply: 'Received; looking into it.' });
          const t1 = Date.now();
          if (r.status === 201) {
            lat('ack', t1 - t0);
            record('ack', a.recipient, r, { type: 'ack', to: [a.party], t0, t1 });
            acksDone.push({ ...a, t0, t1 });
            ackQueue.splice(ackQueue.indexOf(a), 1);
            return;
          }
          if (r.status === 409 && r.body?.code === 'ALREADY_ACKNOWLEDGED') {
            // An earlier try went through but its answer was lost (a timeout, a kill): the acknowledgement
            // exists, made somewhere between the first try and now.
            acksDone.push({ ...a, t0: a.firstTry ?? t0, t1: Date.now(), uncertain: true });
            ackQueue.splice(ackQueue.indexOf(a), 1);
            return;
          }
          if (r.status !== 404) err('ack', r.status >= 500 && typeof r.body?.code === 'string' ? `${r.status} ${r.body.code}` : r.status);
        } catch {
          err('ack', 'no answer');
        }
        a.tries++;
        // Not received yet (a partition, a restart): again, backing off as an officer's client would
        // (0.5 s doubling to 5 s) — a retry every 0.5 s of every acknowledgement waiting for its entry made
        // hundreds of requests a second to a party that was behind, and kept it behind (issue 14 soak).
        a.at = Date.now() + Math.min(5000, 500 * 2 ** Math.min(4, a.tries - 1));
        if (Date.now() - a.firstTry > 180_000) {
          ackQueue.splice(ackQueue.indexOf(a), 1);
          // A try that got no answer may still have been made: judged as made at an unknown time, or never.
          acksDone.push({ ...a, t0: a.firstTry, t1: Infinity, uncertain: true });
          broke(`${a.recipient} could not acknowledge ${a.party}/${a.index} for 3 minutes`);
        }
        a.busy = false;
      })();
    }
    await sleep(100);
  }
}

/** An auditor: a verified checkpoint, the inclusion proof of an acknowledged entry, and consistency with the last checkpoint it saw. */
const seen = {}; // party → { treeSize, rootHash }
async function audit() {
  const p = pick(PARTIES.filter(up));
  if (!p) return;
  const n = nodes[p];
  const t0 = Date.now();
  const res = await fetch(`${n.url}/log/checkpoint`, { signal: AbortSignal.timeout(15_000) });
  if (res.status !== 200) return err('checkpoint', res.status);
  const cp = openCheckpoint(new Uint8Array(await res.arrayBuffer()), n.keys).checkpoint;
  lat('checkpoint', Date.now() - t0);
  counts.audits++;
  const mine = [...sent.values()].filter((s) => s.party === p && s.index < cp.treeSize);
  if (mine.length > 0) {
    const s = pick(mine);
    const t1 = Date.now();
    const r = await http(n, 'GET', `/log/proof/inclusion?index=${s.index}&size=${cp.treeSize}`);
    if (r.status !== 200) return err('inclusion proof', r.status);
    lat('inclusion proof', Date.now() - t1);
    try {
      checkInclusion(r.body.proof.map((h) => parseBase64(h)), cp.treeSize, cp.rootHash, s.index, parseBase64(s.leafHash));
    } catch (e) {
      counts.auditFailures++;
      broke(`inclusion proof of ${p}/${s.index} in size ${cp.treeSize} failed: ${e.message}`);
    }
  }
  const old = seen[p];
  if (old && old.treeSize < cp.treeSize) {
    const t2 = Date.now();
    const r = await http(n, 'GET', `/log/proof/consistency?old=${old.treeSize}&new=${cp.treeSize}`);
    if (r.status !== 200) return err('consistency proof', r.status);
    lat('consistency proof', Date.now() - t2);
    try {
      checkConsistency(r.body.proof.map((h) => parseBase64(h)), old.treeSize, cp.treeSize, old.rootHash, cp.rootHash);
    } catch (e) {
      counts.auditFailures++;
      broke(`consistency proof of ${p} from ${old.treeSize} to ${cp.treeSize} failed: ${e.message}`);
    }
  }
  if (!old || old.treeSize < cp.treeSize) seen[p] = { treeSize: cp.treeSize, rootHash: cp.rootHash };
}

async function readInbox() {
  const p = pick(PARTIES.filter(up));
  if (!p) return;
  const t0 = Date.now();
  const r = await http(nodes[p], 'GET', '/v1/inbox?limit=50');
  if (r.status !== 200) return err('inbox', r.status);
  lat('inbox', Date.now() - t0);
}

const OPS = [[sendMessage, 45], [sendReport, 8], [audit, 22], [readInbox, 25]];
let stopping = false;
async function load(untilMs) {
  const interval = 1000 / RATE;
  let next = Date.now();
  while (Date.now() < untilMs) {
    counts.opsPlanned++;
    if (inflight >= MAX_INFLIGHT) counts.opsShed++;
    else {
      const op = weighted(OPS);
      inflight++;
      void op()
        .catch((e) => err(op.name, e?.name === 'TimeoutError' ? 'timeout' : 'no answer'))
        .finally(() => inflight--);
    }
    next += interval * (0.5 + Math.random()); // jittered around the set rate
    await sleep(Math.max(0, next - Date.now()));
  }
  loadEnd = Date.now(); // the load window (faults may still be recovering after it)
  await until('in-flight requests to finish', 60_000, async () => inflight === 0);
}

// ---------------------------------------------------------------- faults

/**
 * A probe message from `from` to `to`; resolves with the ms until every
 * recipient holds it, and its steps: until the sender accepted it (201), and
 * until each recipient held it (ms from the start of the probe).
 */
async function probe(from, to, tag, steps) {
  const t0 = Date.now();
  const r = await until(`${from} to accept the probe ${tag}`, 60_000, async () => {
    const x = await http(nodes[from], 'POST', '/v1/messages', { to, precedence: 'FLASH', marking: 'TLP:CLEAR', text: `probe ${tag}` }).catch(() => undefined);
    return x?.status === 201 ? x : undefined;
  });
  if (steps) steps.probeAcceptedMs = Date.now() - t0;
  record('probe', from, r, { type: 'hotline.message', precedence: 'FLASH', to, t0, t1: Date.now(), probe: true });
  const held = {};
  await until(`${to.join(' and ')} to hold the probe ${tag}`, 60_000, async () => {
    for (const q of to) {
      if (held[q] !== undefined) continue;
      if ((await http(nodes[q], 'GET', `/v1/entries/${from}/${r.body.index}`)).status === 200) held[q] = Date.now() - t0;
    }
    return to.every((q) => held[q] !== undefined);
  });
  if (steps) for (const q of to) steps[`probeHeldBy${q}Ms`] = held[q];
  return Date.now() - t0;
}

/** Which block device (major:minor) holds a path, for the blkio throttle. */
function deviceOf(path) {
  const dev = statSync(path).dev;
  return `${Math.floor(dev / 256) & 0xfff}:${(dev & 0xff) | ((Math.floor(dev / 4096) & 0xfff00))}`;
}
const BLKIO = '/sys/fs/cgroup/blkio';
let cgroup;

const FAULTS = {
  kill: {
    available: () => undefined,
    async run(len) {
      const n = nodes.CN;
      const w = { name: 'kill -9 CN', parties: ['CN'], links: [], from: Date.now() };
      windows.push(w);
      n.down = true;
      n.child.kill('SIGKILL');
      await n.exited;
      await sleep(Math.min(2000, len));
      const t0 = Date.now();
      const steps = {};
      await c.start(n, ['--poll', '1000']);
      steps.listeningMs = Date.now() - t0;
      await login(n);
      steps.loginMs = Date.now() - t0 - steps.listeningMs;
      n.down = false;
      n.pid = n.child.pid;
      const serving = Date.now() - t0;
      w.to = Date.now();
      const p0 = Date.now();
      const caughtUp = await probe('CN', ['US', 'EU'], 'after kill -9 of CN', steps);
      void p0;
      return { window: w, downMs: w.to - w.from, restartToServingMs: serving, recoveryMs: Date.now() - t0, probeDeliveredMs: caughtUp, steps, detail: 'SIGKILL, restart on the same data directory and port; recovery: restart until a new FLASH from CN is held by US and EU' };
    },
  },
  partition: {
    available: () => undefined,
    async run(len) {
      const cut = [proxies.get('US>EU'), proxies.get('EU>US')];
      const w = { name: 'partition US–EU', parties: [], links: [['US', 'EU']], from: Date.now() };
      windows.push(w);
      for (const p of cut) p.block();
      await sleep(len);
      for (const p of cut) p.unblock();
      w.to = Date.now();
      const healedAt = w.to;
      // Everything acknowledged across the cut (either way) reaches the other side.
      const across = [...sent.values()].filter((s) => s.t1 >= w.from && s.t1 <= w.to && ((s.party === 'US' && s.to.includes('EU')) || (s.party === 'EU' && s.to.includes('US'))));
      await until('every entry sent across the partition to arrive', 90_000, async () => {
        for (const s of across) {
          const q = s.party === 'US' ? 'EU' : 'US';
          if ((await http(nodes[q], 'GET', `/v1/entries/${s.party}/${s.index}`)).status !== 200) return false;
        }
        return true;
      });
      return { window: w, cutMs: w.to - w.from, entriesAcross: across.length, recoveryMs: Date.now() - healedAt, detail: 'US→EU and EU→US proxies destroy every connection; recovery: heal until EU and US hold every entry acknowledged across the cut' };
    },
  },
  'slow-disk': {
    available() {
      if (!existsSync(join(BLKIO, 'cgroup.procs'))) return `no cgroup-v1 blkio controller at ${BLKIO}`;
      try {
        cgroup = join(BLKIO, `parley-soak-${process.pid}`);
        mkdirSync(cgroup, { recursive: true });
        writeFileSync(join(cgroup, 'blkio.throttle.write_iops_device'), `${deviceOf(dataOf('US'))} 10\n`);
        return undefined;
      } catch (e) {
        cgroup = undefined;
        return `cannot make a throttled blkio cgroup: ${e.message}`;
      }
    },
    async run(len) {
      const n = nodes.US;
      const w = { name: 'slow disk US', parties: ['US'], links: [], from: Date.now(), slow: true };
      windows.push(w);
      writeFileSync(join(cgroup, 'cgroup.procs'), `${n.child.pid}\n`);
      await sleep(len);
      writeFileSync(join(BLKIO, 'cgroup.procs'), `${n.child.pid}\n`);
      w.to = Date.now();
      const t0 = Date.now();
      const steps = {};
      const caughtUp = await probe('US', ['CN', 'EU'], 'after the slow disk of US', steps);
      return { window: w, throttledMs: w.to - w.from, recoveryMs: Date.now() - t0, probeDeliveredMs: caughtUp, steps, detail: `US's process in blkio cgroup ${cgroup} (10 write IOPS on ${deviceOf(dataOf('US'))}); recovery: release until a new FLASH from US is held by CN and EU` };
    },
  },
  'kill-sequencer': {
    available: () => pgReason,
    async run(len) {
      const n = nodes[pgParty];
      const victim = await until(`${pgParty} to have a sequencer`, 30_000, sequencerProc);
      const w = { name: `kill -9 ${pgParty}'s sequencer`, parties: [pgParty], links: [], from: Date.now() };
      windows.push(w);
      victim.killedBySoak = true;
      victim.child.kill('SIGKILL');
      await victim.exited;
      const takeover = await until(`another ${pgParty} process to become the sequencer`, 60_000, async () => ((await sequencerProc()) ? Date.now() - w.from : undefined));
      // The probe runs while the victim is still down (the survivor alone must serve the party), then it is restarted.
      const steps = { takeoverMs: takeover };
      const caughtUp = await probe(pgParty, PARTIES.filter((q) => q !== pgParty), `after kill -9 of ${pgParty}'s sequencer`, steps);
      const recoveryMs = Date.now() - w.from;
      await sleep(Math.max(0, Math.min(2000, len) - recoveryMs));
      const r0 = Date.now();
      await startProc(victim);
      steps.victimRestartedMs = Date.now() - r0;
      w.to = Date.now();
      void n;
      return { window: w, takeoverMs: takeover, recoveryMs, probeDeliveredMs: caughtUp, steps, detail: `SIGKILL of ${victim.name}, the sequencer of ${pgParty}'s two processes on PostgreSQL, restarted as a follower once the probe was held (at least 2 s after the kill); recovery: kill until a new FLASH from ${pgParty}, written through the survivor, is held by the others (another process was sequencer ${(takeover / 1000).toFixed(1)} s after the kill)` };
    },
  },
  'kill-postgres': {
    available: () => pgReason,
    async run(len) {
      const w = { name: `kill -9 PostgreSQL under ${pgParty}`, parties: [pgParty], links: [], from: Date.now() };
      windows.push(w);
      const pid = await pgServer.kill9();
      await sleep(Math.min(2000, len));
      const t0 = Date.now();
      await pgServer.start();
      w.to = Date.now();
      const steps = { postgresUpMs: w.to - t0 };
      const caughtUp = await probe(pgParty, PARTIES.filter((q) => q !== pgParty), `after kill -9 of PostgreSQL`, steps);
      return { window: w, postgresBackMs: w.to - t0, recoveryMs: Date.now() - t0, probeDeliveredMs: caughtUp, steps, detail: `SIGKILL of the postmaster (pid ${pid}) of ${pgParty}'s private PostgreSQL server, restarted 2 s later (crash recovery from its WAL); recovery: restart until a new FLASH from ${pgParty} is held by the others` };
    },
  },
};

const faultResults = [];
async function faultSchedule(t0, untilMs) {
  const plan = WANTED.map((name) => ({ name, reason: FAULTS[name].available() }));
  for (const p of plan) if (p.reason) faultResults.push({ fault: p.name, run: false, reason: p.reason });
  const runnable = plan.filter((p) => !p.reason);
  const span = untilMs - t0;
  const len = Math.max(2000, Math.min(12_000, span / (3 * Math.max(1, runnable.length))));
  for (let i = 0; i < runnable.length; i++) {
    const at = t0 + (span * (i + 0.5)) / (runnable.length + 0.5) * 0.85;
    await sleep(Math.max(0, at - Date.now())); // a fault whose slot passed while the one before recovered runs at once (after the load, if need be)
    say(`fault: ${runnable[i].name} (${(len / 1000).toFixed(0)} s)`);
    const begun = Date.now();
    try {
      const r = await FAULTS[runnable[i].name].run(len);
      if (r.window) r.window.recovered = Date.now();
      faultResults.push({ fault: runnable[i].name, run: true, startedAtS: Math.round((begun - t0) / 100) / 10, ...r });
      say(`fault: ${runnable[i].name} recovered in ${r.recoveryMs} ms`);
    } catch (e) {
      // Not recovered: its effects may last to the end of the run.
      for (const w of windows) if (w.from >= begun) w.recovered = Infinity;
      faultResults.push({ fault: runnable[i].name, run: true, startedAtS: Math.round((begun - t0) / 100) / 10, failed: e.message });
      broke(`${runnable[i].name}: the channel did not recover: ${e.message}`);
    }
  }
}

// ---------------------------------------------------------------- end checks

const results = { lost: 0, duplicated: 0, duplicateReceipts: 0, indexesAcknowledgedTwice: 0, forks: 0, audits: {}, deadlines: {} };

async function converge() {
  // Every witness cosigns every log at its final size (heartbeats keep logs growing: at least the size seen first).
  const sizes = Object.fromEntries(await Promise.all(PARTIES.map(async (p) => [p, await logSize(nodes[p])])));
  await until('every witness to cosign every log at its size', 90_000, async () => {
    for (const w of PARTIES) for (const o of PARTIES) if (w !== o && (await witnessedSize(nodes[w], nodes[o])) < sizes[o]) return false;
    return true;
  }).catch((e) => broke(e.message));
  // Every recipient holds every acknowledged entry addressed to it.
  await until('every recipient to hold every acknowledged entry', 90_000, async () => {
    for (const q of PARTIES) {
      const holds = new Set((await listAll(nodes[q], '/v1/inbox', 'all=1')).map((it) => `${it.party}/${it.index}`));
      for (const s of sent.values()) if (s.to.includes(q) && !holds.has(`${s.party}/${s.index}`)) return false;
    }
    return true;
  }).catch(() => undefined); // what is still missing is counted as lost below
}

async function checkDelivery() {
  results.indexesAcknowledgedTwice = twice.length;
  for (const k of twice) broke(`index ${k} was acknowledged (201) to two different requests`);
  const held = {}; // recipient → party → Map(index → rows)
  const receipts = {}; // recipient → `${party}/${index}` → count
  const own = {};
  for (const p of PARTIES) {
    own[p] = new Map((await listAll(nodes[p], '/v1/outbox', 'all=1')).map((it) => [it.index, it]));
    held[p] = {};
    for (const it of await listAll(nodes[p], '/v1/inbox', 'all=1')) {
      const m = (held[p][it.party] ??= new Map());
      m.set(it.index, (m.get(it.index) ?? 0) + 1);
    }
    receipts[p] = new Map();
    for (const it of own[p].values()) {
      if (it.entry.type !== 'receipt') continue;
      for (const ref of it.entry.refs) receipts[p].set(`${ref.party}/${ref.index}`, (receipts[p].get(`${ref.party}/${ref.index}`) ?? 0) + 1);
    }
  }
  for (const s of sent.values()) {
    const mine = own[s.party].get(s.index);
    if (!mine || mine.leafHash !== s.leafHash) {
      results.lost++;
      broke(`${s.party}/${s.index} (${s.kind}) was acknowledged but ${mine ? 'holds another entry' : 'is not'} in ${s.party}'s log`);
      continue;
    }
    for (const q of mine.entry.to) {
      const rows = held[q]?.[s.party]?.get(s.index) ?? 0;
      if (rows === 0) (results.lost++, broke(`${s.party}/${s.index} (${s.kind}) never reached ${q}`));
      else if (rows > 1) (results.duplicated++, broke(`${q} holds ${s.party}/${s.index} ${rows} times`));
    }
  }
  // No entry of any party is held twice, acknowledged by us or not (heartbeats, receipts, acks).
  for (const q of PARTIES) for (const [p, m] of Object.entries(held[q])) for (const [i, rows] of m) if (rows > 1 && !sent.has(`${p}/${i}`)) (results.duplicated++, broke(`${q} holds ${p}/${i} ${rows} times`));
  for (const q of PARTIES) for (const [k, n] of receipts[q]) if (n > 1) (results.duplicateReceipts++, broke(`${q} wrote ${n} receipts of ${k}`));
  return { own, held };
}

/** Did a fault touch sender `a` or recipient `b` (or the link between them) during [from, to]? */
function faulted(a, b, from, to) {
  return windows.some(
    (w) => w.from <= to && (w.recovered ?? w.to ?? Infinity) >= from && (w.parties.includes(a) || w.parties.includes(b) || w.links.some(([x, y]) => (x === a && y === b) || (x === b && y === a))),
  );
}

/**
 * The cosigned evidence a sender judges an answer by (deadlines/state.ts "Whose cosignatures"): its
 * own witness's cosignature history of the recipient's log, read from the sender's store (read-only,
 * beside the running node). `firstCosigned(sender, recipient, index)` is the time (ms) of the sender's
 * first cosignature of a checkpoint of the recipient's log that contains `index`, or undefined.
 */
async function cosignatureEvidence() {
  const { SqliteStore, PgStore } = await import(join(REPO, 'packages/store/dist/index.js'));
  const stores = new Map();
  const history = new Map(); // `${sender}>${recipient}` → [{ treeSize, at }] ascending
  const storeOf = async (p) => {
    if (!stores.has(p)) stores.set(p, p === pgParty ? await PgStore.open(pgUrl, { readonly: true, max: 2 }) : SqliteStore.open(join(dataOf(p), 'parley.sqlite'), { readonly: true }));
    return stores.get(p);
  };
  /** A tlog-cosignature/v1 line's timestamp (key ID 4, timestamp 8, Ed25519 signature 64 bytes). */
  const cosignedAt = (note) => {
    const text = Buffer.from(note).toString('utf8');
    for (const line of text.slice(text.indexOf('\n\n') + 2).split('\n')) {
      const m = /^\u2014 \S+ (\S+)$/.exec(line);
      const b = m && Buffer.from(m[1], 'base64');
      if (b?.length === 76) return Number(b.readBigUInt64BE(4)) * 1000;
    }
    return undefined;
  };
  const load = async (sender, recipient) => {
    const store = await storeOf(sender);
    const rows = [];
    for (let after = 0; ; ) {
      const page = await store.witnessCosignatures(recipient, after, 100);
      for (const r of page) rows.push({ treeSize: r.treeSize, at: cosignedAt(r.note) });
      if (page.length < 100) break;
      after = page[page.length - 1].treeSize;
    }
    return rows;
  };
  return {
    async firstCosigned(sender, recipient, index) {
      const k = `${sender}>${recipient}`;
      if (!history.has(k)) history.set(k, load(sender, recipient));
      const rows = await history.get(k);
      let at;
      for (const r of rows) if (r.treeSize > index && r.at !== undefined && (at === undefined || r.at < at)) at = r.at;
      return at;
    },
    async close() {
      for (const st of stores.values()) await st.close();
    },
  };
}

async function checkDeadlines() {
  const ackLag = [];
  const d = { deliveries: 0, sentTimeRight: 0, verdictsChecked: 0, ackOnTimeExpected: 0, ackLateExpected: 0, ackNoneExpected: 0, excused: 0, wrong: 0, receiptsOnTime: 0, receiptsLate: 0, verdictsCompared: 0, verdictsDiffer: 0, judgedTimesDiffer: 0, acksMatchingEvidence: 0, acksWithoutEvidence: 0, onTimeButCosignedLate: 0 };
  const evidence = await cosignatureEvidence();
  const cosignedLate = [];
  const judgedApart = [];
  results.deadlines = d;
  const acks = new Map(acksDone.map((a) => [`${a.party}/${a.index}>${a.recipient}`, a]));
  const needing = [...sent.values()].filter((s) => s.type === 'hotline.message' || s.type === 'incident.report');
  // One listing per (sender, recipient) — at most 1000 rows each; an entry not in a full listing is asked for on its own.
  const listed = new Map(); // `${party}/${index}` → items
  const asked0 = Date.now();
  for (const p of PARTIES) {
    for (const q of PARTIES) {
      if (p === q) continue;
      const r = await get(nodes[p], `/v1/deadlines?direction=sent&recipient=${q}&limit=1000`, 60_000);
      for (const item of r.items) (listed.get(`${item.party}/${item.index}`) ?? listed.set(`${item.party}/${item.index}`, []).get(`${item.party}/${item.index}`)).push(item);
    }
  }
  // The recipients' view of the same deliveries (direction=received): both nodes must give one verdict (state.ts "Whose cosignatures").
  const theirs = new Map(); // `${party}/${index}>${recipient}` → item
  for (const q of PARTIES) {
    for (const p of PARTIES) {
      if (p === q) continue;
      const r = await get(nodes[q], `/v1/deadlines?direction=received&party=${p}&limit=1000`, 60_000);
      for (const item of r.items) theirs.set(`${item.party}/${item.index}>${item.recipient}`, item);
    }
  }
  const queue = [...needing];
  const wrong = (what) => (d.wrong++, broke(`deadline judged wrong: ${what}`));
  const worker = async () => {
    for (let s = queue.shift(); s; s = queue.shift()) {
      let asked = asked0;
      let items = listed.get(`${s.party}/${s.index}`) ?? [];
      if (items.length < s.to.length) {
        asked = Date.now();
        items = (await get(nodes[s.party], `/v1/deadlines?direction=sent&party=${s.party}&index=${s.index}`, 60_000)).items;
      }
      const r = { items };
      for (const item of r.items) {
        d.deliveries++;
        const id = `${s.party}/${s.index}>${item.recipient}`;
        const sentAt = Date.parse(item.sentAt);
        // The node's clock starts at the sender's claim, clamped to what a counterpart cosigned
        // (whole seconds, state.ts): at most 1 s before the claim, never after it, and within the
        // request that made the entry; both deadlines run from that start.
        const startAt = Date.parse(item.receiptDueAt) - DEADLINES.receipt * 1000;
        if (sentAt < s.t0 - 1000 || sentAt > s.t1 + 1000) wrong(`${id}: sent at ${item.sentAt}, but the request ran ${new Date(s.t0).toISOString()} – ${new Date(s.t1).toISOString()}`);
        else if (startAt > sentAt || startAt < sentAt - 1000 || startAt < s.t0 - 1000) wrong(`${id}: receipt due ${item.receiptDueAt} is not ${DEADLINES.receipt} s after the entry's time ${item.sentAt} (or its cosigned bound)`);
        else d.sentTimeRight++;
        if (Date.parse(item.ackDueAt) !== startAt + DEADLINES.ack[s.precedence] * 1000) wrong(`${id}: ack due ${item.ackDueAt}, not ${DEADLINES.ack[s.precedence]} s (${s.precedence}) after the receipt clock's start ${new Date(startAt).toISOString()}`);
        for (const kind of ['receipt', 'ack']) {
          const a = item[kind];
          if (!a) continue;
          const dueAt = Date.parse(kind === 'receipt' ? item.receiptDueAt : item.ackDueAt);
          if (a.onTime !== Date.parse(a.judgedAt) <= dueAt) wrong(`${id}: ${kind} judged at ${a.judgedAt} against due ${new Date(dueAt).toISOString()} but onTime=${a.onTime}`);
          if (Date.parse(a.judgedAt) < s.t0 - 1000) wrong(`${id}: ${kind} judged at ${a.judgedAt}, before the entry was sent`);
          if (kind === 'receipt') a.onTime ? d.receiptsOnTime++ : d.receiptsLate++;
        }
        // Acknowledgements: judged by the sender's own cosignature of the recipient's log (state.ts);
        // the judged time must be that evidence (whole seconds), and the verdict follows from it.
        const ackDue = Date.parse(item.ackDueAt);
        let cosigned;
        if (item.ack) {
          cosigned = await evidence.firstCosigned(s.party, item.recipient, item.ack.index);
          if (cosigned === undefined) d.acksWithoutEvidence++;
          else if (Math.abs(Date.parse(item.ack.judgedAt) - cosigned) > 1000) wrong(`${id}: ack ${item.recipient}/${item.ack.index} judged at ${item.ack.judgedAt}, but ${s.party}'s first cosignature of ${item.recipient}'s log containing it is at ${new Date(cosigned).toISOString()}`);
          else d.acksMatchingEvidence++;
        }
        // The officer's own timing, as this harness recorded it.
        const done = acks.get(id);
        if (done && item.ack) ackLag.push(Date.parse(item.ack.judgedAt) - done.t1);
        d.verdictsChecked++;
        const other = theirs.get(id);
        if (other !== undefined && item.ack !== undefined && other.ack !== undefined) {
          d.verdictsCompared++;
          // The judged times may differ where one side holds a cosignature the other does not yet (a
          // checkpoint cosigned while its cosignature was on no answer): counted, and reported; the verdict must not.
          const apart = Math.abs(Date.parse(other.ack.judgedAt) - Date.parse(item.ack.judgedAt));
          if (apart > 0) (judgedApart.push(apart), d.judgedTimesDiffer++);
          if (other.ack.onTime !== item.ack.onTime || other.state !== item.state) {
            d.verdictsDiffer++;
            broke(`deadline verdicts differ: ${id}: the sender says ${item.state} (ack judged at ${item.ack.judgedAt}, ${item.ack.onTime ? 'on time' : 'late'}), the recipient ${other.state} (judged at ${other.ack.judgedAt}, ${other.ack.onTime ? 'on time' : 'late'})`);
          }
        }
        if (!done) {
          d.ackNoneExpected++;
          if (item.ack) wrong(`${id}: an acknowledgement is reported that no officer made`);
          else if (asked - 2000 > ackDue && !item.overdue.includes('ack') && !item.rejection) wrong(`${id}: never acknowledged, past due, but not overdue (${item.state})`);
        } else if (done.uncertain && !item.ack) {
          d.excused++; // its tries got no answer: maybe never made
        } else if (done.t0 > ackDue + 1000) {
          d.ackLateExpected++;
          if (!item.ack) wrong(`${id}: acknowledged at ${new Date(done.t1).toISOString()} but no acknowledgement is reported`);
          else if (item.ack.onTime) wrong(`${id}: acknowledged at ${new Date(done.t0).toISOString()}, after the deadline ${item.ackDueAt}, yet judged on time`);
        } else if (done.t1 + COSIGN_LAG_MS <= ackDue && !faulted(s.party, item.recipient, done.t0, ackDue)) {
          d.ackOnTimeExpected++;
          if (!item.ack) wrong(`${id}: acknowledged at ${new Date(done.t1).toISOString()} but no acknowledgement is reported`);
          else if (!item.ack.onTime) {
            // Late by the evidence: its sender cosigned the answer only after the deadline (witnessing
            // lagged — a loaded machine, a peer frozen without a fault window). The verdict is the
            // evidence's; a judged time unlike the evidence was refused above. Counted and printed.
            if (cosigned !== undefined && cosigned > ackDue) (d.onTimeButCosignedLate++, cosignedLate.push(cosigned - done.t1));
            else wrong(`${id}: acknowledged at ${new Date(done.t1).toISOString()}, ${((ackDue - done.t1) / 1000).toFixed(1)} s before the deadline, yet judged late (judged at ${item.ack.judgedAt}; cosigned ${cosigned === undefined ? 'never' : new Date(cosigned).toISOString()})`);
          }
        } else d.excused++; // close to its deadline, or a fault lay between it and the deadline: either verdict can be right
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: 6 }, worker));
  } finally {
    await evidence.close();
  }
  d.ackJudgedAfterMadeMs = spread(ackLag);
  d.onTimeButCosignedLateLagMs = spread(cosignedLate);
  d.judgedApartMs = spread(judgedApart); // sender's and recipient's judged times of one acknowledgement, where they differ // the sender's cosignature of the acknowledgement, after the officer's request returned
}

async function auditAll() {
  await Promise.all(
    PARTIES.map(async (p) => {
      const t0 = Date.now();
      const r = await c.parleyAsync(['log', 'verify', '--from', nodes[p].url, '--key', c.logKeyOf(p), '--accord', 'accord.json', '--json']);
      let out;
      try {
        out = JSON.parse(r.stdout);
      } catch {}
      results.audits[p] = { ok: r.code === 0 && out?.valid === true && out?.signaturesChecked === true, treeSize: out?.treeSize, signaturesChecked: out?.signaturesChecked === true, ms: Date.now() - t0 };
      if (!results.audits[p].ok) broke(`parley log verify of ${p}: exit ${r.code} ${r.stderr.slice(-400)}`);
    }),
  );
  for (const p of PARTIES) {
    const f = (await get(nodes[p], '/v1/forks', 60_000)).forks;
    results.forks += f.length;
    if (f.length > 0) broke(`${p} holds ${f.length} fork proof(s): ${JSON.stringify(f).slice(0, 300)}`);
  }
}

function dirBytes(dir) {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) total += e.isDirectory() ? dirBytes(join(dir, e.name)) : statSync(join(dir, e.name)).size;
  return total;
}

// ---------------------------------------------------------------- run

/** Ctrl-C (or a supervisor's SIGTERM): no node, server, cgroup or directory is left behind. */
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    console.error(`\n${sig}: stopping the nodes and cleaning up`);
    stopping = true;
    for (const p of PARTIES) for (const x of nodes[p]?.procs ?? (nodes[p] ? [nodes[p]] : [])) ((x.killedBySoak = true), x.child?.kill('SIGKILL'));
    if (cgroup) {
      try {
        for (const pid of readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) writeFileSync(join(BLKIO, 'cgroup.procs'), `${pid}\n`);
        rmdirSync(cgroup);
      } catch {}
    }
    await pgServer?.stop().catch(() => {});
    if (!process.env.SOAK_KEEP && !process.env.SOAK_LOGS) c.remove();
    process.exit(130);
  });
}

let failed = false;
let loadAtStart;
let limits;
let loadStart = 0;
let loadEnd = 0;
let storage = {};
let entriesHeld;
let pgBytes;
const watchers = [];
try {
  say(`soak: ${SECONDS} s at ${RATE} ops/s, faults ${WANTED.join(', ')}; nodes in ${c.tmp}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  if (process.env.SOAK_LOGS) say(`node logs (stderr and request log of every process, kept): ${c.tmp}/logs/<process>.log`);
  loadAtStart = loadavg();
  limits = await machineLimits({ dir: c.tmp, ms: SECONDS < 60 ? 250 : 500, httpCount: SECONDS < 60 ? 300 : 1000 });
  say(`limits: SHA-256 ${limits.sha256PerSec}/s, Ed25519 sign ${limits.ed25519SignPerSec}/s verify ${limits.ed25519VerifyPerSec}/s, fdatasync ${limits.fsyncPerSec}/s, bare HTTP p50 ${limits.bareHttpMs.p50} ms p99 ${limits.bareHttpMs.p99} ms`);
  if (PG_FAULTS.length > 0) {
    pgReason = await pgWhyNot();
    if (!pgReason) pgParty = 'EU';
    say(pgParty ? `${pgParty} runs two processes on a private PostgreSQL server` : `PostgreSQL faults not run: ${pgReason}`);
  }
  await setup();
  for (const p of PARTIES) watchers.push(watchEvents(nodes[p]));
  say('channel up; load starts');
  loadStart = Date.now();
  const end = loadStart + SECONDS * 1000;
  const acking = ackLoop();
  await Promise.all([load(end), faultSchedule(loadStart, end)]);
  say(`load stopped; ${ackQueue.length} acknowledgements still planned`);
  stopping = true;
  // Acknowledgements planned for later than a few seconds from now are not made (they become "never"): the drain stays short.
  for (const a of [...ackQueue]) if (a.at > loadEnd + 4000 && !a.busy) ackQueue.splice(ackQueue.indexOf(a), 1);
  await acking;
  say('converging');
  await converge();
  say('checking delivery, deadlines, audits');
  const { own, held } = await checkDelivery();
  await checkDeadlines();
  await auditAll();
  for (const p of PARTIES) held[p] = { own: own[p].size, received: Object.values(held[p]).reduce((a, m) => a + m.size, 0) };
  entriesHeld = held;
} catch (e) {
  failed = true;
  broke(`aborted: ${e instanceof Error ? e.stack : e}`);
  for (const p of PARTIES) if (nodes[p]?.log) problems.push(`${p} stderr tail: ${nodes[p].log.slice(-800)}`);
} finally {
  stopping = true;
  clearInterval(rssTimer);
  for (const p of PARTIES) nodes[p]?.events?.abort();
  if (cgroup) {
    try {
      for (const pid of readFileSync(join(cgroup, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) writeFileSync(join(BLKIO, 'cgroup.procs'), `${pid}\n`);
      rmdirSync(cgroup);
    } catch (e) {
      problems.push(`could not remove ${cgroup}: ${e.message}`);
    }
  }
  if (pgServer && pgUrl && entriesHeld) {
    try {
      await pg_checkpoint();
      pgBytes = await pgDatabaseSize();
    } catch (e) {
      problems.push(`could not read the PostgreSQL database size: ${e.message}`);
    }
  }
  await Promise.all(PARTIES.flatMap((p) => (nodes[p]?.procs ?? []).map((x) => ((x.killedBySoak = true), c.stop(x)))));
  for (const p of proxies.values()) await p.close();
  await front?.close();
  await pgServer?.stop();
  // Disk use once each node has stopped cleanly (SQLite folds its WAL back into the file on close).
  if (entriesHeld) {
    for (const p of PARTIES) {
      const bytes = dirBytes(dataOf(p));
      const files = readdirSync(dataOf(p));
      const db = files.filter((f) => /\.sqlite$/.test(f)).reduce((a, f) => a + statSync(join(dataOf(p), f)).size, 0);
      const wal = files.filter((f) => /\.sqlite-wal$/.test(f)).reduce((a, f) => a + statSync(join(dataOf(p), f)).size, 0);
      const n = Math.max(1, entriesHeld[p].own + entriesHeld[p].received);
      if (p === pgParty) {
        storage[p] = { postgresBytes: pgBytes, postgresEmptyBytes: pgBaseline, ownEntries: entriesHeld[p].own, receivedEntries: entriesHeld[p].received, bytesPerEntry: pgBytes === undefined ? undefined : Math.round((pgBytes - (pgBaseline ?? 0)) / n) };
        continue;
      }
      storage[p] = { bytes, sqliteBytes: db, walBytes: wal, ownEntries: entriesHeld[p].own, receivedEntries: entriesHeld[p].received, bytesPerEntry: Math.round(bytes / n), sqliteBytesPerEntry: Math.round(db / n) };
    }
  }
  if (!process.env.SOAK_KEEP && !process.env.SOAK_LOGS) c.remove();
}

// ---------------------------------------------------------------- summary

const loadSeconds = Math.max(1, (loadEnd - loadStart) / 1000);
const writes = [...sent.values()];
const byKind = {};
for (const s of writes) byKind[s.kind] = (byKind[s.kind] ?? 0) + 1;
const deliveryLat = { 'delivery FLASH': [], delivery: [] };
for (const s of writes) {
  if (s.type !== 'hotline.message' && s.type !== 'incident.report') continue;
  for (const q of s.to) {
    const a = arrivals.get(`${s.party}/${s.index}>${q}`);
    if (a !== undefined) deliveryLat[s.precedence === 'FLASH' ? 'delivery FLASH' : 'delivery'].push(a - s.t0);
  }
}
// Per fault: the writes of the parties it touched while it lasted, and the deliveries of entries sent meanwhile.
for (const r of faultResults) {
  const w = r.window;
  delete r.window;
  if (!w) continue;
  const touched = new Set([...w.parties, ...w.links.flat()]);
  const inWindow = writes.filter((s) => s.t0 >= w.from && s.t0 <= w.to && touched.has(s.party) && s.kind !== 'probe');
  r.writesDuringMs = spread(inWindow.map((s) => s.t1 - s.t0));
  const del = [];
  for (const s of inWindow) for (const q of s.to ?? []) if (arrivals.has(`${s.party}/${s.index}>${q}`)) del.push(arrivals.get(`${s.party}/${s.index}>${q}`) - s.t0);
  r.deliveriesDuringMs = spread(del);
}
const latencies = Object.fromEntries([...Object.entries(latency), ...Object.entries(deliveryLat)].map(([k, v]) => [k, spread(v)]));
const ok = !failed && problems.length === 0;
const summary = {
  ok,
  seconds: { load: Math.round(loadSeconds), total: Math.round((Date.now() - c.started) / 1000) },
  setupMs: setupSteps,
  loadavg: { start: loadAtStart, end: loadavg() },
  rate: { planned: RATE, opsPlanned: counts.opsPlanned, opsShed: counts.opsShed },
  limits: limits && { ...limits, memoryMiB: Math.round(totalmem() / 2 ** 20) },
  throughput: {
    acknowledgedWritesPerSec: Math.round((writes.length / loadSeconds) * 10) / 10,
    byKind,
    auditsPerSec: Math.round((counts.audits / loadSeconds) * 10) / 10,
    logSizes: Object.fromEntries(PARTIES.map((p) => [p, storage[p]?.ownEntries])),
  },
  latencyMs: latencies,
  errors,
  faults: faultResults,
  rssPeakMiB: Object.fromEntries(PARTIES.flatMap((p) => (nodes[p]?.procs ?? []).map((x) => [x.name ?? p, Math.round((10 * (x.rssPeak ?? 0)) / 2 ** 20) / 10]))),
  postgres: pgParty ? { party: pgParty, processes: 2, serviceRestarts: serviceRestarts.map(({ process, at, log }) => ({ process, atS: Math.round((at - loadStart) / 100) / 10, stderrTail: log.slice(-300) })) } : { notRun: pgReason ?? 'no PostgreSQL fault asked for' },
  storage,
  checks: results,
  problems,
};
if (JSON_FILE) writeFileSync(JSON_FILE, `${JSON.stringify(summary, null, 2)}\n`);

const L = limits ?? { bareHttpMs: {} };
const f1 = (x) => (x === undefined ? '–' : String(x));
const lines = [];
lines.push(`Parley soak — three nodes on 127.0.0.1, ${summary.seconds.load} s of load at ${RATE} ops/s (${summary.seconds.total} s in all, with set-up, fault recovery and checks)`);
lines.push(`load average (os.loadavg 1/5/15 min): at start ${(loadAtStart ?? []).map((x) => x.toFixed(2)).join(' ')}, at end ${summary.loadavg.end.map((x) => x.toFixed(2)).join(' ')} (on ${cpus().length} cores)`);
lines.push(`set-up: ${Object.entries(setupSteps).map(([k, v]) => `${k.replace(/Ms$/, '')} ${(v / 1000).toFixed(1)} s`).join(', ') || '–'}`);
lines.push(`machine limits (same run): SHA-256 ${f1(L.sha256PerSec)}/s · Ed25519 sign ${f1(L.ed25519SignPerSec)}/s, verify ${f1(L.ed25519VerifyPerSec)}/s (1 core) · 1 KiB fdatasync ${f1(L.fsyncPerSec)}/s · bare HTTP round trip p50 ${f1(L.bareHttpMs.p50)} ms, p99 ${f1(L.bareHttpMs.p99)} ms`);
lines.push(`throughput: ${summary.throughput.acknowledgedWritesPerSec} acknowledged writes/s (${Object.entries(byKind).map(([k, v]) => `${v} ${k}`).join(', ')}); ${summary.throughput.auditsPerSec} audits/s; ${counts.opsShed} of ${counts.opsPlanned} operations shed (over ${MAX_INFLIGHT} in flight)`);
lines.push(`  vs limits: writes/s are ${L.ed25519SignPerSec ? ((100 * summary.throughput.acknowledgedWritesPerSec) / L.ed25519SignPerSec).toFixed(2) : '–'} % of Ed25519 sign, ${L.fsyncPerSec ? ((100 * summary.throughput.acknowledgedWritesPerSec) / L.fsyncPerSec).toFixed(1) : '–'} % of fdatasync — the soak runs at a set rate, it is not a throughput ceiling`);
lines.push('latency (ms)               n      p50     p90     p99     max    p99 ÷ bare HTTP p99');
for (const [k, s] of Object.entries(latencies)) {
  if (s.n === 0) continue;
  lines.push(`  ${k.padEnd(22)} ${String(s.n).padStart(5)} ${[s.p50, s.p90, s.p99, s.max].map((x) => String(x).padStart(7)).join(' ')}    ${L.bareHttpMs.p99 ? `${(s.p99 / L.bareHttpMs.p99).toFixed(0)}×` : ''}`);
}
lines.push('faults:');
for (const r of faultResults) {
  if (!r.run) lines.push(`  ${r.fault.padEnd(15)} NOT RUN — ${r.reason}`);
  else if (r.failed) lines.push(`  ${r.fault.padEnd(15)} at ${r.startedAtS} s: DID NOT RECOVER — ${r.failed}`);
  else lines.push(`  ${r.fault.padEnd(15)} at ${r.startedAtS} s: recovered in ${(r.recoveryMs / 1000).toFixed(1)} s${r.restartToServingMs !== undefined ? ` (serving ${(r.restartToServingMs / 1000).toFixed(1)} s after restart)` : ''}${r.takeoverMs !== undefined ? ` (new sequencer after ${(r.takeoverMs / 1000).toFixed(1)} s)` : ''}${r.postgresBackMs !== undefined ? ` (PostgreSQL up ${(r.postgresBackMs / 1000).toFixed(1)} s after restart)` : ''}${r.entriesAcross !== undefined ? ` (${r.entriesAcross} entries sent across the cut)` : ''} — ${r.detail}`);
  if (r.steps) lines.push(`  ${''.padEnd(15)} steps (ms): ${Object.entries(r.steps).map(([k, v]) => `${k.replace(/Ms$/, '')} ${v}`).join(', ')}`);
  if (r.writesDuringMs?.n) lines.push(`  ${''.padEnd(15)} meanwhile: ${r.writesDuringMs.n} writes by ${r.fault === 'partition' ? 'US and EU' : 'the party'} p50 ${r.writesDuringMs.p50} / p99 ${r.writesDuringMs.p99} ms; their deliveries p50 ${f1(r.deliveriesDuringMs.p50)} / p99 ${f1(r.deliveriesDuringMs.p99)} ms`);
}
const memMiB = Math.round(totalmem() / 2 ** 20);
lines.push(`peak RSS (MiB): ${Object.entries(summary.rssPeakMiB).map(([p, v]) => `${p} ${v} (${((100 * v) / memMiB).toFixed(1)} % of memory)`).join(', ')} — machine memory ${memMiB} MiB (os.totalmem, this run); goal per node ≤ 256 MiB`);
if (pgParty) lines.push(`PostgreSQL: ${pgParty} on a private server with two serve processes behind a failover proxy; restarts by the service manager: ${serviceRestarts.length ? serviceRestarts.map((r) => `${r.process} at ${Math.round((r.at - loadStart) / 1000)} s`).join(', ') : 'none'}`);
lines.push(`disk: ${PARTIES.map((p) => (storage[p]?.postgresBytes !== undefined ? `${p} PostgreSQL database ${(storage[p].postgresBytes / 2 ** 20).toFixed(1)} MiB (${((storage[p].postgresEmptyBytes ?? 0) / 2 ** 20).toFixed(1)} MiB before any entry) / ${storage[p].ownEntries} own + ${storage[p].receivedEntries} received entries = ${storage[p].bytesPerEntry} B per entry beyond the empty database` : storage[p] ? `${p} ${(storage[p].bytes / 2 ** 20).toFixed(1)} MiB / ${storage[p].ownEntries} own + ${storage[p].receivedEntries} received entries = ${storage[p].bytesPerEntry} B per entry (SQLite file ${storage[p].sqliteBytesPerEntry} B; WAL left ${storage[p].walBytes} B)` : `${p} –`)).join('; ')}`);
lines.push(`errors (request kind: count, of which during or within 5 s of a fault): ${Object.entries(errors).map(([k, e]) => `${k} ${e.count} (${e.inFault}) ${JSON.stringify(e.codes)}`).join('; ') || 'none'}`);
const d = results.deadlines;
lines.push(`promises: lost ${results.lost}, duplicated ${results.duplicated}, duplicate receipts ${results.duplicateReceipts}, indexes acknowledged twice ${results.indexesAcknowledgedTwice}, fork proofs ${results.forks}`);
lines.push(`  audits: ${PARTIES.map((p) => `${p} ${results.audits[p]?.ok ? 'valid' : 'FAILED'}`).join(', ')} (parley log verify --accord); proofs checked by auditors ${counts.audits}, failed ${counts.auditFailures}`);
lines.push(`  deadlines: ${f1(d.deliveries)} deliveries; sent time within the request ${f1(d.sentTimeRight)}; acks expected on time ${f1(d.ackOnTimeExpected)}, late ${f1(d.ackLateExpected)}, never ${f1(d.ackNoneExpected)}, near the deadline or across a fault ${f1(d.excused)}; receipts on time ${f1(d.receiptsOnTime)}, late ${f1(d.receiptsLate)}; judged wrong ${f1(d.wrong)}; acknowledgements judged alike (verdict and state) by sender and recipient ${f1(d.verdictsCompared === undefined ? undefined : d.verdictsCompared - d.verdictsDiffer)} of ${f1(d.verdictsCompared)}, with judged times apart ${f1(d.judgedTimesDiffer)} (max ${f1(d.judgedApartMs?.max)} ms)`);
lines.push(`  acknowledgements judged by the sender's cosignature (the evidence, read from its store): ${f1(d.acksMatchingEvidence)} match it, ${f1(d.acksWithoutEvidence)} not yet cosigned (judged by the claim); made ≥ ${COSIGN_LAG_MS} ms before the deadline outside faults but cosigned by the sender after it (so rightly late) ${f1(d.onTimeButCosignedLate)}${d.onTimeButCosignedLateLagMs?.n ? ` (cosigned p50 ${d.onTimeButCosignedLateLagMs.p50} / max ${d.onTimeButCosignedLateLagMs.max} ms after the request)` : ''}`);
if (d.ackJudgedAfterMadeMs?.n) lines.push(`    an acknowledgement's judged time (its sender's cosignature) came after the officer's request by p50 ${d.ackJudgedAfterMadeMs.p50} / p90 ${d.ackJudgedAfterMadeMs.p90} / p99 ${d.ackJudgedAfterMadeMs.p99} / max ${d.ackJudgedAfterMadeMs.max} ms (whole seconds; on-time margin ${COSIGN_LAG_MS} ms)`);
if (problems.length) lines.push(`problems:\n  - ${problems.slice(0, 40).join('\n  - ')}${problems.length > 40 ? `\n  … and ${problems.length - 40} more` : ''}`);
lines.push(`result: ${ok ? 'every promise held' : 'SOMETHING BROKE'}`);
console.log(lines.join('\n'));
process.exit(ok ? 0 : 1);
