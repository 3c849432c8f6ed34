#!/usr/bin/env node
/**
 * Memory and disk of a node holding a large log (`npm run bench`; issue 14,
 * "Figures"). It asserts nothing: read the figures beside their references.
 *
 *   1. Builds two SQLite stores of RSS_ENTRIES (default 100,000) signed
 *      1 KiB hotline messages from US to CN (RSS_TEXT, default 637, sets the
 *      text length; 700 gives bench/node.mjs's 1,087-byte entries), straight through the store in
 *      big batches (the figure is about holding a log, not appending it):
 *        sender    US's own log (every entry a delivery to CN)
 *        receiver  CN's store holding them all as received entries
 *   2. Starts a real node (`startRuntime`, as `parley serve` runs it: writer
 *      thread, HTTP, deadline watcher, federation to an unreachable peer) on
 *      each, in a process of its own, and serves for RSS_SECONDS (default 10):
 *      inclusion proofs, hash tiles, entry bundles, the outbox / inbox and
 *      /v1/deadlines, from 4 concurrent clients.
 *   3. Samples the node process's RSS (/proc/<pid>/status VmRSS, peak VmHWM).
 *
 *   RSS (steady / peak)   vs  the same runtime on an empty log (the floor), goal ≤ 256 MiB
 *   disk bytes per entry  vs  the entry bytes themselves (what must be kept), goal ≤ 1,250 B
 *
 * RSS_ENTRIES=10000000 gives the issue's figure (≈ 15 min to build on 2 cores,
 * ~13 GB of disk per store). RSS_KEEP=1 keeps the stores (their path is printed);
 * RSS_REUSE=DIR serves stores kept by an earlier run instead of building them
 * (they were served before: the first start's catch-up filing is then behind
 * them); RSS_BUILD_ONLY=1 builds and keeps them without serving.
 * RSS_TRACE=1 prints each node's RSS once a second (the first sample is taken
 * when the node is ready: its first deadline pass, filing the whole log, is
 * before it and shows only in the peak), the time to ready, and V8's share of the
 * node's RSS (heap, external) at ready and at the end; RSS_NODE_FLAGS passes
 * flags to the node process (e.g. --heapsnapshot-signal=SIGUSR2). The node sets
 * V8's lean heap as `parley serve --lean-heap` does (node heap.ts), the
 * configuration the issue's memory goal is met with; RSS_LEAN_HEAP=0 leaves
 * V8's defaults (`parley serve` without it). The load average is printed at the
 * start and the end: on a loaded machine the figures move.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const HERE = fileURLToPath(import.meta.url);
const dist = (p) => new URL(`../packages/${p}`, import.meta.url).href;

// --- The node process (`node bench/rss.mjs serve <role> <file> <setup.json>`). ------------------
if (process.argv[2] === 'serve') {
  const [, , , role, file, setupFile] = process.argv;
  await import(dist('core/dist/node.js'));
  const { ParleyNode, startRuntime, tokenHash, leanHeap } = await import(dist('node/dist/index.js'));
  // As `parley serve --lean-heap` does (before any worker starts); RSS_LEAN_HEAP=0 leaves V8's defaults (`parley serve` without it).
  if (process.env.RSS_LEAN_HEAP !== '0') leanHeap();
  const { SqliteStore, withWriterThread } = await import(dist('store/dist/index.js'));
  const setup = JSON.parse(readFileSync(setupFile, 'utf8'), (_k, v) => (v !== null && typeof v === 'object' && typeof v.$bytes === 'string' ? new Uint8Array(Buffer.from(v.$bytes, 'base64')) : v));
  const me = role === 'receiver' ? 'CN' : 'US';
  const store = withWriterThread(SqliteStore.open(file), file);
  const now = new Date().toISOString();
  await store.putOfficer({ name: 'bench', role: 'admin', passwordHash: 'scrypt$1$1$1$AA==$AA==', created: now, disabled: false });
  await store.putSession({ tokenHash: tokenHash(setup.token), officer: 'bench', created: now, expires: new Date(Date.now() + 86_400_000).toISOString() });
  const node = await ParleyNode.open({ accord: setup.accord, party: me, keys: setup.keys[me], store });
  const runtime = await startRuntime({
    node,
    store,
    port: 0,
    peerUrls: { US: 'http://127.0.0.1:9', CN: 'http://127.0.0.1:9' }, // nobody listens: federation backs off
    heartbeatMs: 0,
    continuity: { enabled: false },
    federation: { pollMs: 5000 },
  });
  // V8's share of the RSS (heap, external, array buffers): what is not in it is native (SQLite, allocator, code).
  const mem = (when) => {
    const m = process.memoryUsage();
    const f = (b) => (b / 2 ** 20).toFixed(0);
    if (process.env.RSS_TRACE) process.stderr.write(`${role} ${when}: rss ${f(m.rss)} heapTotal ${f(m.heapTotal)} heapUsed ${f(m.heapUsed)} external ${f(m.external)} arrayBuffers ${f(m.arrayBuffers)} MiB\n`);
  };
  mem('ready');
  process.stdout.write(`ready ${runtime.url}\n`);
  process.stdin.on('data', async () => {
    mem('end');
    await runtime.stop();
    await node.close();
    await store.close();
    process.exit(0);
  });
  await new Promise(() => {});
}

// --- The bench. --------------------------------------------------------------------------------
const core = await import(dist('core/dist/node.js'));
const { SqliteStore } = await import(dist('store/dist/index.js'));
const N = Number(process.env.RSS_ENTRIES ?? 100_000);
const SECONDS = Number(process.env.RSS_SECONDS ?? 10);
const BATCH = 20_000;
/** Text of each message: 637 characters make a 1,024-byte entry (± the digits of its seq), the "1 KiB entry". */
const TEXT = Number(process.env.RSS_TEXT ?? 637);
/** RSS_REUSE=DIR serves the stores a run with RSS_KEEP=1 left in DIR instead of building them again (10M entries take long to build). */
const REUSE = process.env.RSS_REUSE || undefined;
const dir = REUSE ?? mkdtempSync(join(process.env.RSS_DIR ?? tmpdir(), 'parley-rss-'));

function party(id) {
  const log = core.generateSignerKey(`${id.toLowerCase()}.bench.parley/log`);
  const hpke = core.hpkeGenerateKeyPair();
  return {
    keys: { log, hpke },
    party: { id, names: { en: id, 'zh-CN': id }, urls: ['http://127.0.0.1'], logKey: core.formatVerifierKey(core.verifierKeyOf(log)), hpkeKey: core.formatBase64(hpke.publicKey) },
  };
}
const reviveBytes = (_k, v) => (v !== null && typeof v === 'object' && typeof v.$bytes === 'string' ? new Uint8Array(Buffer.from(v.$bytes, 'base64')) : v);
const kept = REUSE ? JSON.parse(readFileSync(join(REUSE, 'setup.json'), 'utf8'), reviveBytes) : undefined;
const us = kept ? { keys: kept.keys.US } : party('US');
const cn = kept ? { keys: kept.keys.CN } : party('CN');
let accord = kept?.accord;
if (!accord) {
  accord = { accord: core.draftAccord({ name: 'bench', parties: [us.party, cn.party] }), signatures: [] };
  accord = core.signAccord(accord, 'US', us.keys.log);
  accord = core.signAccord(accord, 'CN', cn.keys.log);
}
const accordId = core.verifyAccord(accord).id;

/** Builds both stores in batches of BATCH: US's log, and CN holding the same entries as received. */
async function build() {
  const sender = SqliteStore.open(join(dir, 'sender.sqlite'));
  const receiver = SqliteStore.open(join(dir, 'receiver.sqlite'));
  const sign = core.getCrypto().ed25519Signer(us.keys.log.seed);
  const signer = core.newSigner(us.keys.log);
  const frontier = core.Frontier.empty();
  let stored = 0;
  let entryBytes = 0;
  const t0 = Date.now() - N; // one entry per ms, ending now: deadlines still ahead
  const started = performance.now();
  for (let base = 0; base < N; base += BATCH) {
    const entries = [];
    const received = [];
    const hashes = [];
    const prevRoot = frontier.root(); // the conditional append (issue 14): the root this batch builds on
    const receivedAt = new Date().toISOString();
    for (let i = base; i < Math.min(N, base + BATCH); i++) {
      const env = { v: 1, accord: accordId, from: { party: 'US', officer: 'bench' }, to: ['CN'], seq: i, time: new Date(t0 + i).toISOString(), type: 'hotline.message', precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [], body: { clear: { text: `${i} `.padEnd(TEXT, 'x') } } };
      const e = core.signEntry(env, sign);
      const meta = { type: env.type, from: 'US', officer: 'bench', to: env.to, time: env.time, precedence: env.precedence, marking: env.marking, refs: [] };
      entries.push({ index: i, leafHash: e.leafHash, bytes: e.bytes, meta });
      received.push({ party: 'US', index: i, leafHash: e.leafHash, bytes: e.bytes, meta, receivedAt });
      entryBytes += e.bytes.length;
      for (const h of frontier.append(e.leafHash)) hashes.push([stored++, h]);
    }
    const checkpoint = core.signCheckpoint({ origin: us.keys.log.name, treeSize: frontier.size, rootHash: frontier.root(), extensions: [] }, signer);
    await sender.appendBatch({ entries, hashes, treeSize: frontier.size, prevRoot, checkpoint });
    await receiver.ingest(received);
    if (N >= 1_000_000 && (base / BATCH) % 25 === 0) console.error(`built ${base + entries.length} / ${N} (${((performance.now() - started) / 1000).toFixed(0)} s)`);
  }
  await sender.close();
  await receiver.close();
  return { entryBytes, seconds: (performance.now() - started) / 1000 };
}

/** Bytes of a store file with its WAL checkpointed into it. */
function diskBytes(file) {
  const db = new Database(file);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return statSync(file).size;
}

function memOf(pid) {
  const s = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
  return { rss: kb('VmRSS') * 1024, hwm: kb('VmHWM') * 1024 };
}

/** Runs a node on `file` as `role`, drives reads for SECONDS, and samples its memory. */
async function serve(role, file, setupFile, token, size) {
  // RSS_NODE_FLAGS: flags for the node process (e.g. --heapsnapshot-signal=SIGUSR2, --max-semi-space-size=…).
  const flags = (process.env.RSS_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
  const child = spawn(process.execPath, [...flags, HERE, 'serve', role, file, setupFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  if (process.env.RSS_TRACE) console.error(`${role}: node pid ${child.pid}`);
  const t0 = performance.now();
  // The start (the first start's catch-up filing) is sampled too, once a second: RSS_TRACE prints it.
  const starting = [];
  const startSampler = setInterval(() => {
    try {
      starting.push(memOf(child.pid));
    } catch {}
  }, 1000);
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      const m = /^ready (\S+)$/m.exec(out);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`node (${role}) exited with ${code}`)));
  });
  clearInterval(startSampler);
  if (process.env.RSS_TRACE && starting.length > 0) {
    const every = Math.ceil(starting.length / 120); // at most 120 figures however long the start
    console.error(`${role} RSS every ${every} s while starting (MiB):`, starting.filter((_, i) => i % every === 0).map((s) => (s.rss / 2 ** 20).toFixed(0)).join(' '));
  }
  if (process.env.RSS_TRACE) console.error(`${role}: ready after ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  const samples = [];
  const sampler = setInterval(() => samples.push(memOf(child.pid)), 200);
  const auth = { authorization: `Bearer ${token}` };
  let requests = 0;
  let failures = 0;
  const get = async (path, headers = {}) => {
    const res = await fetch(url + path, { headers });
    await res.arrayBuffer();
    requests++;
    if (res.status !== 200) {
      failures++;
      if (process.env.RSS_DEBUG) console.error(role, path, res.status);
    }
  };
  const paths = (k) => {
    const i = (k * 7919) % Math.max(1, size);
    const t = Math.floor(i / 256) % Math.max(1, Math.floor(size / 256)); // full tiles only
    const tn = t < 1000 ? String(t).padStart(3, '0') : `x${String(Math.floor(t / 1000)).padStart(3, '0')}/${String(t % 1000).padStart(3, '0')}`;
    // The receiver's own log is empty: it serves what it received.
    return [
      role === 'receiver' ? [`/v1/entries/US/${i}`, auth] : [`/log/proof/inclusion?index=${i}&size=${size}`],
      role === 'receiver' ? [`/v1/entries/US/${(i * 31) % size}`, auth] : [`/log/tile/0/${tn}`],
      role === 'receiver' ? ['/v1/incidents', auth] : [`/log/tile/entries/${tn}`],
      [role === 'receiver' ? '/v1/inbox?limit=50' : '/v1/outbox?limit=50', auth],
      ['/v1/deadlines?limit=20', auth],
    ][k % 5];
  };
  const stop = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: 4 }, async (_, w) => {
      for (let k = w; performance.now() < stop; k += 4) {
        const [p, h] = paths(k);
        await get(p, h).catch(() => failures++);
      }
    }),
  );
  clearInterval(sampler);
  samples.push(memOf(child.pid));
  child.stdin.write('stop\n');
  await new Promise((resolve) => child.on('exit', resolve));
  if (process.env.RSS_TRACE) console.error(`${role} RSS every second (MiB):`, samples.filter((_, i) => i % 5 === 0).map((s) => (s.rss / 2 ** 20).toFixed(0)).join(' '));
  const late = samples.slice(Math.floor(samples.length / 2)).map((s) => s.rss).sort((a, b) => a - b);
  return { steady: late[Math.floor(late.length / 2)], peak: Math.max(...samples.map((s) => s.hwm)), requests, failures };
}

const loadAtStart = loadavg();
const token = 'b'.repeat(43); // a bearer token's shape (32 bytes, base64url)
const setupFile = join(dir, 'setup.json');
const builtFile = join(dir, 'built.json');
let built;
if (REUSE) {
  built = JSON.parse(readFileSync(builtFile, 'utf8'));
  if (built.entries !== N) throw new Error(`RSS_REUSE: ${dir} holds ${built.entries} entries; set RSS_ENTRIES=${built.entries}`);
} else {
  built = { entries: N, ...(await build()) };
  // Keys hold bytes: written as { $bytes: base64 }, read back by the node process.
  writeFileSync(setupFile, JSON.stringify({ accord, token, keys: { US: us.keys, CN: cn.keys } }, (_k, v) => (v instanceof Uint8Array ? { $bytes: Buffer.from(v).toString('base64') } : v)));
  writeFileSync(builtFile, JSON.stringify(built));
}
const { entryBytes, seconds } = built;
if (process.env.RSS_BUILD_ONLY) {
  console.log(`built ${N.toLocaleString('en-US')} entries in ${seconds.toFixed(0)} s into ${dir}`);
  process.exit(0);
}
const senderDisk = diskBytes(join(dir, 'sender.sqlite'));
const receiverDisk = diskBytes(join(dir, 'receiver.sqlite'));
// The floor: the same runtime on an empty store.
const floor = await serve('sender', join(dir, 'empty.sqlite'), setupFile, token, 0);
const sender = await serve('sender', join(dir, 'sender.sqlite'), setupFile, token, N);
const receiver = await serve('receiver', join(dir, 'receiver.sqlite'), setupFile, token, N);

const MiB = (b) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const avg = entryBytes / N;
const rows = [
  [`node RSS, sender of ${N.toLocaleString('en-US')} entries (steady / peak)`, `${MiB(sender.steady)} / ${MiB(sender.peak)}`, `${MiB(floor.steady)} / ${MiB(floor.peak)}`, `${(sender.peak / 2 ** 20 / 256 * 100).toFixed(0)}% of goal`, `same runtime, empty log (goal: peak ≤ 256 MiB); ${sender.requests} reads, ${sender.failures} failed`],
  [`node RSS, receiver of ${N.toLocaleString('en-US')} entries (steady / peak)`, `${MiB(receiver.steady)} / ${MiB(receiver.peak)}`, `${MiB(floor.steady)} / ${MiB(floor.peak)}`, `${(receiver.peak / 2 ** 20 / 256 * 100).toFixed(0)}% of goal`, `same runtime, empty log (goal: peak ≤ 256 MiB); ${receiver.requests} reads, ${receiver.failures} failed`],
  ['disk bytes per entry, sender (SQLite, own log)', `${(senderDisk / N).toFixed(0)} B`, `${avg.toFixed(0)} B`, `${((100 * senderDisk) / N / avg).toFixed(0)}%`, 'the entry bytes themselves (goal ≤ 1,250 B per 1 KiB entry)'],
  ['disk bytes per entry, receiver (SQLite, received)', `${(receiverDisk / N).toFixed(0)} B`, `${avg.toFixed(0)} B`, `${((100 * receiverDisk) / N / avg).toFixed(0)}%`, 'the entry bytes themselves'],
];
console.log(`load average (os.loadavg, 1/5/15 min) at the start: ${loadAtStart.map((x) => x.toFixed(2)).join(' / ')}, at the end: ${loadavg().map((x) => x.toFixed(2)).join(' / ')} on ${availableParallelism()} cores`);
console.log(`built ${N.toLocaleString('en-US')} entries in ${seconds.toFixed(0)} s (${(N / seconds).toFixed(0)}/s); machine memory ${MiB(totalmem())} (os.totalmem, this run): peak RSS sender ${((100 * sender.peak) / totalmem()).toFixed(1)} %, receiver ${((100 * receiver.peak) / totalmem()).toFixed(1)} % of it\n`);
const head = ['measure', 'Parley', 'reference', 'ratio', 'reference is'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ');
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
if (process.env.RSS_KEEP || REUSE) console.log(`\nstores kept in ${dir}`);
else rmSync(dir, { recursive: true, force: true });
