#!/usr/bin/env node
/**
 * Sustained durable appends per party on SQLite and on PostgreSQL (issue 14),
 * each beside its limit measured in the same run:
 *
 *   appends/s (LogWriter, real Ed25519-signed ~1 KiB entries, many submitters,
 *   group commit as the node does, each batch's entries signed on the
 *   node's SignPool, one signing thread per core, as `parley serve` does)
 *                                  vs  min(Ed25519 sign/s × cores, the store's
 *   raw batched durable insert rate of 1 KiB rows)        goal ≥ 50 %
 *
 * SQLite runs as `parley serve` runs it (WAL, synchronous=FULL, commits on the
 * writer thread); PostgreSQL on a fresh database of the local server
 * (synchronous_commit=on), dropped after. Asserts nothing.
 *
 * Also printed: the load average before and after (a shared machine shows),
 * and the process's CPU time per appended entry, all threads (signing ≈
 * 1/(sign rate) of it; the rest is what the writer, the store and the
 * hand-offs cost) — a figure a loaded machine disturbs far less than the rate.
 * For PostgreSQL it leaves out the server's own CPU (other processes).
 * The PostgreSQL limit is the faster of two ways to send the same 1 KiB rows
 * (a bytea[] parameter, or one binary parameter cut by offset on the server,
 * as the store now sends entries).
 *
 * BENCH_SECONDS (default 2): each timed window. BENCH_SUBMITTERS (default
 * 256): appends in flight. PARLEY_BENCH_PG (default
 * postgres://postgres@127.0.0.1:5432/postgres): the server's admin URL.
 */
import * as nc from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { encodeUtf8, newSigner, signCheckpoint, signerKeyFromSeed } from '../packages/core/dist/node.js';
import { LogWriter, PgStore, SqliteStore, withWriterThread } from '../packages/store/dist/index.js';
import { SignPool } from '../packages/node/dist/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const SUBMITTERS = Number(process.env.BENCH_SUBMITTERS ?? 256);
const ADMIN = process.env.PARLEY_BENCH_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const CORES = availableParallelism();
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-store-'));
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));
const kib = nc.randomBytes(1024);

function syncRate(fn, seconds, batch = 50) {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    for (let i = 0; i < batch; i++) fn(n + i);
    n += batch;
  }
  return (n * 1000) / (performance.now() - start);
}

// --- Limits ------------------------------------------------------------------------------
const edSeed = nc.randomBytes(32);
const edKey = nc.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), edSeed]), format: 'der', type: 'pkcs8' });
const signRate = syncRate(() => nc.sign(null, kib, edKey), SECONDS);

function sqliteBatched() {
  const db = new Database(join(dir, 'limit.sqlite'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)');
  const ins = db.prepare('INSERT INTO t (v) VALUES (?)');
  const batch = db.transaction((n) => {
    for (let i = 0; i < n; i++) ins.run(kib);
  });
  const r = syncRate(() => batch(1000), SECONDS, 1) * 1000;
  db.close();
  return r;
}

// The best of two ways to send the same rows: a bytea[] parameter (hex text per row), and ONE
// binary parameter cut into rows by offset on the server (as PgStore.appendBatch sends entries).
// The limit is the faster one: a store that learns a faster way must not beat a slower limit.
async function pgBatched(url) {
  const c = new pg.Client({ connectionString: url, options: '-c synchronous_commit=on' });
  await c.connect();
  await c.query('CREATE TABLE bench_limit (id BIGSERIAL PRIMARY KEY, v BYTEA NOT NULL)');
  const rows = Array.from({ length: 1000 }, () => kib);
  const blob = Buffer.concat(rows);
  const ways = {
    'bytea[]': () => c.query('INSERT INTO bench_limit (v) SELECT * FROM unnest($1::bytea[])', [rows]),
    binary: () => c.query('INSERT INTO bench_limit (v) SELECT substring($1::bytea FROM 1024 * (g - 1) + 1 FOR 1024) FROM generate_series(1, $2::int) AS g', [blob, rows.length]),
  };
  const rates = {};
  for (const [name, insert] of Object.entries(ways)) {
    let n = 0;
    const start = performance.now();
    while (performance.now() - start < (SECONDS * 1000) / 2) {
      await c.query('BEGIN');
      await insert();
      await c.query('COMMIT');
      n += rows.length;
    }
    rates[name] = (n * 1000) / (performance.now() - start);
  }
  await c.query('DROP TABLE bench_limit');
  await c.end();
  const best = Object.entries(rates).sort((a, b) => b[1] - a[1])[0];
  return { rate: best[1], how: best[0], rates };
}

// --- Appends through the LogWriter -------------------------------------------------------
const ORIGIN = 'bench.parley.test/log';
const LOG_KEY = signerKeyFromSeed(ORIGIN, new Uint8Array(32).fill(7));
const SIGNER = newSigner(LOG_KEY);
const TEXT = 'x'.repeat(800);
const meta = (time) => ({ type: 'hotline.message', from: 'US', officer: 'alice', to: ['CN'], time, precedence: 'ROUTINE', marking: 'TLP:AMBER', refs: [] });

const pool = new SignPool(CORES);

async function appends(store) {
  const writer = await LogWriter.open(store, { origin: ORIGIN, signCheckpoint: (cp) => signCheckpoint(cp, SIGNER) });
  const window = async (ms) => {
    let stop = false;
    let done = 0;
    const start = performance.now();
    const timer = setTimeout(() => (stop = true), ms);
    await Promise.all(
      Array.from({ length: SUBMITTERS }, async () => {
        while (!stop) {
          await writer.append((index, time) => {
            // A real signed entry: the body with its own index, signed with Ed25519 on the pool (as the node signs envelopes).
            const body = encodeUtf8(JSON.stringify({ v: 1, seq: index, from: 'US', time: time.toISOString(), text: TEXT }));
            return pool.sign(edSeed, body).then((sig) => {
              const bytes = new Uint8Array(body.length + sig.length);
              bytes.set(body);
              bytes.set(sig, body.length);
              return { bytes, meta: meta(time.toISOString()) };
            });
          });
          done++;
        }
      }),
    );
    clearTimeout(timer);
    return [done, performance.now() - start];
  };
  await window(300); // warm-up
  const cpu0 = process.cpuUsage();
  const [n, t] = await window(SECONDS * 1000);
  const cpu = process.cpuUsage(cpu0);
  const size = writer.size;
  await writer.close();
  // CPU of this process (every thread: event loop, signing, SQLite writer) per entry: what the rate costs, whatever else the machine runs.
  return { rate: (n * 1000) / t, size, bytes: (await store.entry(0)).bytes.length, cpuUs: (cpu.user + cpu.system) / n };
}

const rows = [];
function row(what, value, limit, label, cpuUs) {
  rows.push([what, `${fmt(value)} entries/s`, `${fmt(limit)} entries/s`, `${((100 * value) / limit).toFixed(0)}%`, `${cpuUs.toFixed(0)} µs`, label]);
}

const loadBefore = loadavg();
const sqliteLimit = sqliteBatched();
const file = join(dir, 'appends.sqlite');
const sqliteStore = withWriterThread(SqliteStore.open(file), file);
const sq = await appends(sqliteStore);
await sqliteStore.close();

const dbName = `parley_bench_${nc.randomBytes(5).toString('hex')}`;
const admin = new pg.Client({ connectionString: ADMIN });
try {
  await admin.connect();
} catch (e) {
  console.error(`PostgreSQL is not reachable at ${ADMIN} (${e.message}): start it (pg_ctlcluster 15 main start) or set PARLEY_BENCH_PG`);
  rmSync(dir, { recursive: true, force: true });
  await pool.close();
  process.exit(1);
}
await admin.query(`CREATE DATABASE ${dbName}`);
const u = new URL(ADMIN);
u.pathname = `/${dbName}`;
let pgRes;
let pgLimit;
let pgHow;
try {
  const lim = await pgBatched(u.toString());
  pgLimit = lim.rate;
  pgHow = `${lim.how}; ${Object.entries(lim.rates).map(([k, v]) => `${k} ${fmt(v)}/s`).join(', ')}`;
  const pgStore = await PgStore.open(u.toString());
  pgRes = await appends(pgStore);
  await pgStore.close();
} finally {
  await admin.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
  await admin.end();
  await pool.close();
  rmSync(dir, { recursive: true, force: true });
}

const signLimit = signRate * CORES;
console.log(`limits: Ed25519 sign ${fmt(signRate)}/s × ${CORES} cores = ${fmt(signLimit)}/s · SQLite batched FULL 1 KiB inserts ${fmt(sqliteLimit)}/s · PostgreSQL batched 1 KiB inserts (synchronous_commit=on, 1,000 rows a commit) ${fmt(pgLimit)}/s (${pgHow})`);
const la = (l) => l.map((x) => x.toFixed(2)).join(' ');
console.log(`load average (1, 5, 15 min): before ${la(loadBefore)} · after ${la(loadavg())} on ${CORES} cores — above ${CORES} the machine was shared and every figure is low\n`);
row(`durable appends, SQLite (${sq.bytes} B entries, ${SUBMITTERS} submitters)`, sq.rate, Math.min(signLimit, sqliteLimit), `min(Ed25519 sign × ${CORES} cores, SQLite batched FULL) — goal ≥ 50%`, sq.cpuUs);
row(`durable appends, PostgreSQL (${pgRes.bytes} B entries, ${SUBMITTERS} submitters)`, pgRes.rate, Math.min(signLimit, pgLimit), `min(Ed25519 sign × ${CORES} cores, PostgreSQL batched durable) — goal ≥ 50% (CPU: this process, not the server)`, pgRes.cpuUs);
const head = ['measure', 'Parley', 'machine limit', 'ratio', 'CPU/entry', 'limit is'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r) => r.map((c, i) => c.padEnd(widths[i])).join('  ');
console.log(line(head));
for (const r of rows) console.log(line(r));
