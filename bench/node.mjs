#!/usr/bin/env node
/**
 * Node benchmark (`npm run bench`, after log-core.mjs). Each figure is printed
 * beside the machine's own limit for the same work, measured in this run with
 * the same primitives (node:crypto Ed25519 and X25519/HKDF/AES-GCM, SQLite
 * with synchronous=FULL on the same disk). It asserts nothing.
 *
 *   durable appends   entries/s at 1, 10, 100 submitters  vs  min(Ed25519 sign × cores, SQLite batched FULL inserts)
 *                     (entries signed on a SignPool, one thread per core, as `parley serve` signs them)
 *                                                          and SQLite one-row FULL commits (1 submitter)
 *   ingest            entries/s                           vs  Ed25519 verify × verification threads
 *                     µs CPU per entry (all threads)      vs  µs CPU of one Ed25519 verify
 *   proofs            inclusion proofs/s from the store at 1,000,000 entries (goal ≥ 10,000/s)
 *   sealing           1 KiB seal+open for one recipient  vs  raw X25519 + HKDF + AES-256-GCM
 *   FLASH round trip  US sends, until US holds CN's receipt: p50/p90/p99/max at 200/s, open loop,
 *                     from the intended send time (bench/lib/flash.mjs)  vs  bare HTTP round trip, same run
 *
 * BENCH_SECONDS (default 2) sets each timed window; BENCH_POLL_MS (default
 * 5000, `parley serve`'s) the FLASH nodes' pull interval; BENCH_FLASH_MESSAGES (default 3000) and
 * BENCH_FLASH_RATE (default 200) the FLASH figure's sample and rate; BENCH_PROOF_LOG (default
 * 1000000) the size of the log the proof figure is measured on; BENCH_ONLY
 * (a comma-separated list of appends, ingest, proofs, audit, sealing, flash;
 * default all) the sections that run. `npm run bench` runs the FLASH section
 * in a process of its own: after the 1,000,000-entry sections, that process's
 * heap (and its garbage collector) is not what a node serving a hotline has.
 */
import * as nc from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  draftAccord,
  formatBase64,
  formatVerifierKey,
  generateSignerKey,
  getCrypto,
  hpkeGenerateKeyPair,
  hpkeOpen,
  hpkeSeal,
  signAccord,
  verifierKeyOf,
  canonicalizeToBytes,
  inclusionProofIndexes,
  inclusionProofFromHashes,
  storedHashIndex,
  Frontier,
  leafHash,
  signCheckpoint,
  newSigner,
} from '../packages/core/dist/node.js';
import { SqliteStore, withWriterThread } from '../packages/store/dist/index.js';
import { ParleyNode, SignPool, VerifyPool } from '../packages/node/dist/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const CORES = availableParallelism();
const PROOF_LOG = Number(process.env.BENCH_PROOF_LOG ?? 1_000_000);
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((x) => x.trim())) : undefined;
const runs = (section) => ONLY === undefined || ONLY.has(section);
const loadStart = loadavg();
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-'));
const rows = [];
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));
const pct = (a, b) => `${((100 * a) / b).toFixed(0)}%`;
function row(what, value, unit, limit, label) {
  rows.push([what, `${fmt(value)} ${unit}`, `${fmt(limit)} ${unit}`, pct(value, limit), label]);
}

/** User + system CPU µs of a process.cpuUsage() difference (every thread of the process). */
const cpuUs = (u) => u.user + u.system;

/** Calls fn (sync or async) back to back for SECONDS; returns ops/s. */
async function rate(fn, seconds = SECONDS) {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await fn(n++);
  }
  return (n * 1000) / (performance.now() - start);
}

function syncRate(fn, seconds = SECONDS, batch = 50) {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    for (let i = 0; i < batch; i++) fn(n + i);
    n += batch;
  }
  return (n * 1000) / (performance.now() - start);
}

// --- A two-party channel. ------------------------------------------------------
function party(id) {
  const log = generateSignerKey(`${id.toLowerCase()}.bench.parley/log`);
  const hpke = hpkeGenerateKeyPair();
  return {
    id,
    keys: { log, hpke },
    party: { id, names: { en: id, 'zh-CN': id }, urls: ['http://127.0.0.1'], logKey: formatVerifierKey(verifierKeyOf(log)), hpkeKey: formatBase64(hpke.publicKey) },
  };
}
const us = party('US');
const cn = party('CN');
let accord = { accord: draftAccord({ name: 'bench', parties: [us.party, cn.party] }), signatures: [] };
accord = signAccord(accord, 'US', us.keys.log);
accord = signAccord(accord, 'CN', cn.keys.log);

const TEXT = 'x'.repeat(700); // with the envelope and signature, ~1 KiB of canonical JSON

// --- Machine limits. ---------------------------------------------------------------
const edSeed = nc.randomBytes(32);
const edKey = nc.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), edSeed]), format: 'der', type: 'pkcs8' });
const edPub = nc.createPublicKey(edKey);
const kib = nc.randomBytes(1024);
const edSig = nc.sign(null, kib, edKey);
const signRate = syncRate(() => nc.sign(null, kib, edKey));
const verifyCpu0 = process.cpuUsage();
let verifyOps = 0;
const verifyRate = syncRate(() => (nc.verify(null, kib, edPub, edSig), verifyOps++));
/** CPU µs of one Ed25519 verify (this thread alone ran): on a loaded machine, wall-clock rates fall, CPU per operation much less. */
const verifyCpuUs = cpuUs(process.cpuUsage(verifyCpu0)) / verifyOps;

function sqliteRates() {
  const db = new Database(join(dir, 'limits.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
  const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
  const one = syncRate(() => db.transaction(() => ins.run(kib))(), SECONDS / 2, 10);
  const batch = db.transaction((n) => {
    for (let i = 0; i < n; i++) ins.run(kib);
  });
  const batched = syncRate(() => batch(1000), SECONDS / 2, 1) * 1000;
  db.close();
  return { one, batched };
}
const sqlite = sqliteRates();
console.log(
  `limits: Ed25519 sign ${fmt(signRate)}/s, verify ${fmt(verifyRate)}/s · SQLite FULL one-row commits ${fmt(sqlite.one)}/s, batched 1 KiB inserts ${fmt(sqlite.batched)}/s\n`,
);

// --- Durable appends. ------------------------------------------------------------------
// fsync latency on this kind of machine drifts by 2–3× within seconds, so the
// appends and their limits are measured in alternating 250 ms windows of the
// same run: the ratio compares like with like.
if (runs('appends')) {
  const db = new Database(join(dir, 'interleaved-limit.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
  const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
  const oneRow = () => db.transaction(() => ins.run(kib))();
  const signOnce = () => nc.sign(null, kib, edKey);
  for (const submitters of [1, 10, 100]) {
    const file = join(dir, `append-${submitters}.sqlite`);
    const store = withWriterThread(SqliteStore.open(file), file); // as \`parley serve\` runs it
    const signPool = new SignPool(CORES);
    const node = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store, signPool });
    const window = async (ms) => {
      let stop = false;
      let done = 0;
      const start = performance.now();
      const workers = Array.from({ length: submitters }, async () => {
        while (!stop) {
          await node.sendMessage('bench', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: TEXT });
          done++;
        }
      });
      await new Promise((r) => setTimeout(r, ms));
      stop = true;
      await Promise.all(workers);
      return [done, performance.now() - start];
    };
    await window(200); // warm-up
    let n = 0, t = 0, rawOne = 0, rawOneT = 0, rawSign = 0, rawSignT = 0;
    for (let r = 0; r < Math.max(2, Math.round((SECONDS * 1000) / 250)); r++) {
      const [a, ta] = await window(250);
      n += a;
      t += ta;
      if (submitters === 1) {
        const s0 = performance.now();
        let k = 0;
        while (performance.now() - s0 < 250) (oneRow(), k++);
        rawOne += k;
        rawOneT += performance.now() - s0;
      } else {
        const s0 = performance.now();
        let k = 0;
        while (performance.now() - s0 < 100) (signOnce(), k++);
        rawSign += k;
        rawSignT += performance.now() - s0;
      }
    }
    const perSec = (n * 1000) / t;
    const bytes = (await store.entry(0)).bytes.length;
    if (submitters === 1) {
      row(`durable appends, 1 submitter (${bytes} B entries)`, perSec, 'entries/s', (rawOne * 1000) / rawOneT, 'SQLite one-row FULL commits');
    } else {
      const limit = Math.min(((rawSign * 1000) / rawSignT) * CORES, sqlite.batched);
      row(`durable appends, ${submitters} submitters`, perSec, 'entries/s', limit, `min(Ed25519 sign × ${CORES} cores, SQLite batched FULL)`);
    }
    await node.close();
    await store.close();
    await signPool.close();
  }
  db.close();
}

// --- Ingest of entries signed by another party. ---------------------------------------------
if (runs('ingest')) {
  const senderStore = SqliteStore.open(join(dir, 'sender.sqlite'));
  const sender = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store: senderStore, maxBatch: 4096 });
  const N = Math.max(2000, Math.round(verifyRate * SECONDS));
  await Promise.all(Array.from({ length: N }, () => sender.sendMessage('bench', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: TEXT })));
  const entries = (await senderStore.entries(0, N)).map((e) => e.bytes);
  const threads = 2;
  const pool = new VerifyPool(accord, threads);
  const ingestFile = join(dir, 'ingest.sqlite');
  const store = withWriterThread(SqliteStore.open(ingestFile), ingestFile);
  const node = await ParleyNode.open({ accord, party: 'CN', keys: cn.keys, store, verifyPool: pool });
  await node.ingest(entries.slice(0, 64)); // warm the workers
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  // Two batches in flight, as when bundles arrive from more than one push:
  // one is verified on the workers while the other is stored and receipted.
  const inflight = new Set();
  for (let i = 64; i < N; i += 1024) {
    const p = node.ingest(entries.slice(i, i + 1024)).finally(() => inflight.delete(p));
    inflight.add(p);
    if (inflight.size >= 2) await Promise.race(inflight);
  }
  await Promise.all(inflight);
  const perSec = ((N - 64) * 1000) / (performance.now() - start);
  const ingestCpuUs = cpuUs(process.cpuUsage(cpu0)) / (N - 64);
  row(`ingest (verify on ${threads} worker threads, store, receipts)`, perSec, 'entries/s', verifyRate * threads, `Ed25519 verify × ${threads} threads`);
  // The same figure as CPU (every thread: workers, main, SQLite writer), which load skews far less than a rate:
  // with no core to spare beyond the verifying threads, ingest reaches 80 % of verify × threads only if
  // verifying is ≥ 80 % of its CPU.
  rows.push([`ingest CPU per entry (all threads)`, `${fmt(ingestCpuUs)} µs`, `${fmt(verifyCpuUs)} µs`, pct(verifyCpuUs, ingestCpuUs), 'Ed25519 verify CPU (ratio: verify share of ingest CPU)']);
  await pool.close();
  await node.close();
  await store.close();
  await sender.close();
  await senderStore.close();
}

// --- Inclusion proofs from the store at PROOF_LOG entries. --------------------------------------
if (runs('proofs')) {
  // The tree is built straight into the store in big batches (the proof
  // figure is about reading, not about appending).
  const store = SqliteStore.open(join(dir, 'proofs.sqlite'));
  const signer = newSigner(us.keys.log);
  const frontier = Frontier.empty();
  const entry = new Uint8Array(64);
  const view = new DataView(entry.buffer);
  let stored = 0;
  for (let base = 0; base < PROOF_LOG; base += 50_000) {
    const entries = [];
    const hashes = [];
    const prevRoot = frontier.root(); // the conditional append (issue 14): the root this batch builds on
    for (let i = base; i < Math.min(PROOF_LOG, base + 50_000); i++) {
      view.setUint32(0, i);
      const bytes = entry.slice();
      const lh = leafHash(bytes);
      entries.push({ index: i, leafHash: lh, bytes, meta: { type: 'heartbeat', from: 'US', officer: 'node', to: ['CN'], time: '2026-01-01T00:00:00.000Z', precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [] } });
      for (const h of frontier.append(lh)) hashes.push([stored++, h]);
    }
    const cp = signCheckpoint({ origin: us.keys.log.name, treeSize: frontier.size, rootHash: frontier.root(), extensions: [] }, signer);
    await store.appendBatch({ entries, hashes, treeSize: frontier.size, prevRoot, checkpoint: cp });
  }
  const size = frontier.size;
  const proofs = await rate(async (i) => {
    const index = (i * 7919) % size;
    const idx = inclusionProofIndexes(size, index);
    return inclusionProofFromHashes(size, index, await store.readHashes(idx));
  });
  rows.push([`inclusion proofs from the store @${size}`, `${fmt(proofs)} proofs/s`, '10,000 proofs/s', pct(proofs, 10_000), 'the issue\'s goal (no raw limit)']);
  await store.close();
  void storedHashIndex;
}

// --- Full audit of an AUDIT_LOG-entry log. ------------------------------------------------------
// What an auditor does with a log and the accord: recompute the tree from
// every entry and match the signed checkpoint, and verify every entry (shape,
// channel, signature) — on both cores, through the node's VerifyPool. The
// limit is the bare Ed25519 verification of as many signatures on the same
// two worker threads.
if (runs('audit')) {
  const AUDIT_LOG = Number(process.env.BENCH_AUDIT_LOG ?? 1_000_000);
  const accordV = (await import('../packages/core/dist/node.js')).verifyAccord(accord);
  const sign = getCrypto().ed25519Signer(us.keys.log.seed);
  const { signEntry, Frontier: F, signCheckpoint: signCp, newSigner: ns, openCheckpoint, VerifierSet, bytesEqual } = await import('../packages/core/dist/node.js');
  const entries = new Array(AUDIT_LOG);
  const frontier = F.empty();
  const t0 = Date.UTC(2026, 0, 1);
  for (let i = 0; i < AUDIT_LOG; i++) {
    const e = signEntry(
      { v: 1, accord: accordV.id, from: { party: 'US', officer: 'bench' }, to: ['CN'], seq: i, time: new Date(t0 + i).toISOString(), type: 'hotline.message', precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [], body: { clear: { text: `audit entry ${i}` } } },
      sign,
    );
    entries[i] = e.bytes;
    frontier.append(e.leafHash);
  }
  const checkpoint = signCp({ origin: us.keys.log.name, treeSize: AUDIT_LOG, rootHash: frontier.root(), extensions: [] }, ns(us.keys.log));
  const pool = new VerifyPool(accord, 2);
  await pool.verify(entries.slice(0, 512)); // warm the workers
  const start = performance.now();
  const cp = openCheckpoint(checkpoint, new VerifierSet([us.party.logKey]), { origin: us.keys.log.name }).checkpoint;
  const tree = F.empty();
  let bad = 0;
  for (let i = 0; i < AUDIT_LOG; i += 65536) {
    for (const v of await pool.verify(entries.slice(i, i + 65536), 1024, false)) {
      if (!v.ok) bad++;
      else tree.append(v.leafHash);
    }
  }
  const ok = bad === 0 && tree.size === cp.treeSize && bytesEqual(tree.root(), cp.rootHash);
  const auditSecs = (performance.now() - start) / 1000;
  await pool.close();
  // The limit: bare verification of the same number of signatures on two threads.
  const { Worker } = await import('node:worker_threads');
  const msg = entries[0];
  const rawSig = nc.sign(null, msg, edKey);
  const src = `const { parentPort, workerData } = require('node:worker_threads'); const c = require('node:crypto');
    const pub = c.createPublicKey({ key: Buffer.from(workerData.pub), format: 'der', type: 'spki' });
    const m = Buffer.from(workerData.msg), s = Buffer.from(workerData.sig);
    let n = 0; const t = performance.now(); while (performance.now() - t < workerData.ms) { c.verify(null, m, pub, s); n++; }
    parentPort.postMessage(n * 1000 / (performance.now() - t));`;
  const ms = SECONDS * 1000;
  const rates = await Promise.all(
    [0, 1].map(
      () =>
        new Promise((resolve, reject) => {
          const w = new Worker(src, { eval: true, workerData: { pub: edPub.export({ format: 'der', type: 'spki' }), msg, sig: rawSig, ms } });
          w.on('message', resolve);
          w.on('error', reject);
        }),
    ),
  );
  const limitSecs = AUDIT_LOG / rates.reduce((a, b) => a + b, 0);
  rows.push([`full audit of a ${AUDIT_LOG.toLocaleString('en-US')}-entry log (2 threads)`, `${auditSecs.toFixed(1)} s ${ok ? '(root matches)' : '(FAILED)'}`, `${limitSecs.toFixed(1)} s`, `${(auditSecs / limitSecs).toFixed(2)}×`, 'Ed25519-verify as many on 2 threads (goal ≤ 1.3×)']);
}

// --- Sealing a 1 KiB body for one recipient. ---------------------------------------------------
if (runs('sealing')) {
  const body = nc.randomBytes(1024);
  const info = new TextEncoder().encode('parley/body/v1\nbench');
  const aad = new TextEncoder().encode('US\nCN\ncommitment');
  const r = hpkeGenerateKeyPair();
  const ours = syncRate(() => {
    const s = hpkeSeal({ recipientPublicKey: r.publicKey, info, aad, plaintext: body });
    hpkeOpen({ recipientPrivateKey: r.privateKey, enc: s.enc, info, aad, ciphertext: s.ciphertext });
  });
  // Raw: the same primitives without HPKE's labels — ephemeral X25519 key,
  // two DHs (seal + open), HKDF-SHA256, AES-256-GCM both ways.
  const rk = nc.generateKeyPairSync('x25519');
  const raw = syncRate(() => {
    const e = nc.generateKeyPairSync('x25519');
    const z1 = nc.diffieHellman({ privateKey: e.privateKey, publicKey: rk.publicKey });
    const k1 = Buffer.from(nc.hkdfSync('sha256', z1, info, aad, 44));
    const c = nc.createCipheriv('aes-256-gcm', k1.subarray(0, 32), k1.subarray(32));
    const ct = Buffer.concat([c.update(body), c.final()]);
    const tag = c.getAuthTag();
    const z2 = nc.diffieHellman({ privateKey: rk.privateKey, publicKey: e.publicKey });
    const k2 = Buffer.from(nc.hkdfSync('sha256', z2, info, aad, 44));
    const d = nc.createDecipheriv('aes-256-gcm', k2.subarray(0, 32), k2.subarray(32));
    d.setAuthTag(tag);
    Buffer.concat([d.update(ct), d.final()]);
  });
  row('HPKE seal + open, 1 KiB, one recipient', ours, 'ops/s', raw, 'raw X25519 + HKDF + AES-256-GCM');
}

// --- FLASH round trip between two nodes on 127.0.0.1 (bench/lib/flash.mjs). -------------------------
// Open loop at 200 msg/s, latency from the intended send time, ≥ 3,000
// measured messages after a discarded warm-up, beside a bare node:http round
// trip of the same sizes in alternating 1 s windows; then where the time goes.
if (runs('flash')) {
  const { flashRoundTrip } = await import('./lib/flash.mjs');
  const POLL_MS = Number(process.env.BENCH_POLL_MS ?? 5000);
  const r = await flashRoundTrip({
    accord,
    us,
    cn,
    dir,
    text: TEXT,
    pollMs: POLL_MS,
    rate: Number(process.env.BENCH_FLASH_RATE ?? 200),
    messages: Number(process.env.BENCH_FLASH_MESSAGES ?? 3000),
  });
  const load = (l) => l.map((x) => x.toFixed(2)).join(' ');
  const f = (x) => `${x.toFixed(1)} ms`;
  console.log(`FLASH round trip @${r.rate} msg/s (open loop, from the intended send time; pull every ${POLL_MS / 1000} s)`);
  console.log(`  load average before ${load(r.loadBefore)}, after ${load(r.loadAfter)} (1/5/15 min; this machine has ${(await import('node:os')).availableParallelism()} cores)`);
  console.log(`  bare HTTP: node:http server and undici keep-alive client on threads of their own, POST ${r.sizes.push} B → answer ${r.sizes.answer} B (a push of one message and its answer${r.sizes.fromPushOf > 1 ? `, per message of the smallest push: ${r.sizes.fromPushOf}` : ''})`);
  // Kept up: a message waits for at most about the push in flight (p50 of that wait ≤ 1.5 × a push's round trip, p50);
  // a backlog makes it wait for several, and the figure then measures the queue.
  const st = r.stages.stages;
  const pushRtt = st.slice(3, 9).reduce((a, x) => a + (x.p50 ?? 0), 0);
  const keptUp = r.stages.matched > 0 && (st[2].p50 ?? 0) <= 1.5 * pushRtt;
  console.log(`  waiting for a push p50 ${f(st[2].p50 ?? 0)} vs a push's round trip p50 ${f(pushRtt)}; FLASH p50 in the first measured window ${f(r.drift.first)}, in the last ${f(r.drift.last)}`);
  if (r.stages.matched === 0) console.log('  no step timestamps from this build (parley.delivery): whether FLASH kept up is not known');
  else console.log(`  ${keptUp ? 'FLASH kept up with the rate' : 'FLASH did NOT keep up with the rate on this machine at this load: messages wait behind a backlog of pushes, and the figure measures that queue'}`);
  if (r.unfinished > 0) console.log(`  ${r.unfinished} FLASH round trips unfinished 60 s after the last arrival: counted with their latency so far (a lower bound)`);
  console.log(`  ${'what'.padEnd(14)} ${'n'.padStart(6)} ${'p50'.padStart(10)} ${'p90'.padStart(10)} ${'p99'.padStart(10)} ${'max'.padStart(10)}`);
  for (const [name, s] of [['FLASH', r.flash], ['bare HTTP', r.http]]) console.log(`  ${name.padEnd(14)} ${String(s.n).padStart(6)} ${f(s.p50).padStart(10)} ${f(s.p90).padStart(10)} ${f(s.p99).padStart(10)} ${f(s.max).padStart(10)}`);
  const ratio = (k) => `${(r.flash[k] / r.http[k]).toFixed(1)}×`;
  console.log(`  ${'FLASH / HTTP'.padEnd(14)} ${''.padStart(6)} ${ratio('p50').padStart(10)} ${ratio('p90').padStart(10)} ${ratio('p99').padStart(10)} ${ratio('max').padStart(10)}`);
  console.log(`  where a FLASH round trip goes (${r.stages.matched} of ${r.stages.total} messages matched to their push):`);
  for (const s of r.stages.stages) console.log(`    ${s.name.padEnd(44)} p50 ${f(s.p50 ?? 0).padStart(9)}   p99 ${f(s.p99 ?? 0).padStart(9)}`);
  console.log('');
  for (const p of [50, 99]) {
    rows.push([`FLASH round trip p${p} @${r.rate} msg/s (US → CN receipt → US; load ${r.loadAfter[0].toFixed(1)}${keptUp || r.stages.matched === 0 ? '' : '; did not keep up'})`, f(r.flash[`p${p}`]), f(r.http[`p${p}`]), ratio(`p${p}`), `bare HTTP round trip p${p}, same run${p === 99 ? ' (goal: ≤ 5×)' : ''}`]);
  }
}

// --- Report. -------------------------------------------------------------------------------------
const la = (l) => l.map((x) => x.toFixed(2)).join(' ');
console.log(`load average (1, 5, 15 min): at start ${la(loadStart)} · at the end ${la(loadavg())} on ${CORES} cores — above ${CORES} the machine was shared and every figure is low`);
const head = ['measure', 'Parley', 'machine limit', 'ratio', 'limit is'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ');
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
rmSync(dir, { recursive: true, force: true });
void canonicalizeToBytes;
void getCrypto;
