/**
 * Store throughput figures, beside the raw SQLite rates they are bounded by
 * (measured in the same run, on the same disk):
 * - durable appends through LogWriter of ~1 KiB entries signed with Ed25519 in
 *   `prepare`, with 1, 10 and 100 concurrent submitters;
 * - SQLite alone: one-row transactions with synchronous=FULL (the fsync rate)
 *   and 1 KiB inserts batched 1,000 per transaction;
 * - inclusion proofs per second served from the store on a large log
 *   (inclusionProofIndexes → store.readHashes → inclusionProofFromHashes).
 *
 * Not a test: run it by hand (a bench script can import these functions later).
 *   npx tsc -b packages/core packages/store
 *   node --import tsx packages/store/test/perf/store-bench.ts [dir] [proofLogSize]
 */
import '@parley/core/node';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import {
  encodeUtf8,
  getCrypto,
  inclusionProofFromHashes,
  inclusionProofIndexes,
  leafHash,
  newSigner,
  parseCheckpoint,
  parseNote,
  signCheckpoint,
  signerKeyFromSeed,
  verifyInclusion,
} from '@parley/core';
import { SqliteStore } from '../../src/sqlite/store.js';
import { LogWriter } from '../../src/writer.js';
import type { EntryMeta } from '../../src/types.js';

const ORIGIN = 'bench.parley.test/US';
const logSigner = newSigner(signerKeyFromSeed(ORIGIN, new Uint8Array(32).fill(1)));
const META: EntryMeta = { type: 'hotline.message', from: 'US', officer: 'bench', to: ['CN'], time: '', precedence: 'ROUTINE', marking: 'TLP:AMBER', refs: [] };

export interface AppendFigure {
  readonly concurrency: number;
  readonly entries: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly meanBatch: number;
}

/**
 * Durable appends of ~`entrySize`-byte entries (body + 64-byte Ed25519 signature made in `prepare`).
 * @param path a database file (created if missing).
 */
export async function measureAppends(path: string, concurrency: number, seconds = 3, entrySize = 1024): Promise<AppendFigure> {
  const store = SqliteStore.open(path);
  const writer = await LogWriter.open(store, { origin: ORIGIN, signCheckpoint: (cp) => signCheckpoint(cp, logSigner) });
  const sign = getCrypto().ed25519Signer(new Uint8Array(32).fill(2));
  const body = new Uint8Array(entrySize - 64);
  const checkpoints = new Set<number>();
  let count = 0;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const r = await writer.append((index, time) => {
          const head = encodeUtf8(`${index} ${time.toISOString()} `);
          body.set(head);
          const bytes = new Uint8Array(entrySize);
          bytes.set(body);
          bytes.set(sign(body), body.length);
          return { bytes, meta: META };
        });
        checkpoints.add(r.treeSize);
        count++;
      }
    }),
  );
  const secs = (performance.now() - start) / 1000;
  await writer.close();
  await store.close();
  return { concurrency, entries: count, seconds: secs, perSecond: count / secs, meanBatch: count / checkpoints.size };
}

/** SQLite alone: one-row synchronous=FULL transactions, and 1,000-row transactions, of 1 KiB blobs (WAL). */
export function measureRawSqlite(path: string, seconds = 2): { oneRowPerSecond: number; batchedPerSecond: number } {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, b BLOB NOT NULL)');
  const ins = db.prepare('INSERT INTO t (b) VALUES (?)');
  const blob = new Uint8Array(1024).fill(7);
  const one = db.transaction(() => ins.run(blob));
  const many = db.transaction(() => {
    for (let i = 0; i < 1000; i++) ins.run(blob);
  });
  const rate = (f: () => void, rows: number) => {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < seconds * 1000) {
      f();
      n += rows;
    }
    return n / ((performance.now() - t0) / 1000);
  };
  const oneRowPerSecond = rate(() => one(), 1);
  const batchedPerSecond = rate(() => many(), 1000);
  db.close();
  return { oneRowPerSecond, batchedPerSecond };
}

/** Builds (if needed) a log of `size` small entries with big batches. */
export async function buildLog(path: string, size: number): Promise<void> {
  const store = SqliteStore.open(path);
  const writer = await LogWriter.open(store, { origin: ORIGIN, signCheckpoint: (cp) => signCheckpoint(cp, logSigner), maxBatch: 65536 });
  while (writer.size < size) {
    const n = Math.min(65536, size - writer.size);
    await Promise.all(Array.from({ length: n }, () => writer.append((index) => ({ bytes: encodeUtf8(`entry ${index} `.padEnd(64, '.')), meta: META }))));
  }
  await writer.close();
  await store.close();
}

/** Inclusion proofs per second for random leaves, each read in one readHashes call; verifies a sample. */
export async function measureProofs(path: string, proofs = 20000): Promise<{ size: number; perSecond: number; hashesPerProof: number }> {
  const store = SqliteStore.open(path, { readonly: true });
  const size = await store.treeSize();
  const cp = parseCheckpoint(parseNote((await store.latestCheckpoint())!).text);
  const leaves = Array.from({ length: proofs }, () => Math.floor(Math.random() * size));
  let hashes = 0;
  const t0 = performance.now();
  const out = [];
  for (const i of leaves) {
    const idx = inclusionProofIndexes(size, i);
    hashes += idx.length;
    out.push(inclusionProofFromHashes(size, i, await store.readHashes(idx)));
  }
  const perSecond = proofs / ((performance.now() - t0) / 1000);
  for (let k = 0; k < 200; k++) {
    const e = (await store.entry(leaves[k]!))!;
    if (!verifyInclusion(out[k]!, size, cp.rootHash, leaves[k]!, leafHash(e.bytes))) throw new Error('proof does not verify');
  }
  await store.close();
  return { size, perSecond, hashesPerProof: hashes / proofs };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const dir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'parley-bench-'));
  const proofSize = Number(process.argv[3] ?? 1_000_000);
  const f = (x: number) => Math.round(x).toLocaleString('en-US');
  // The disk's fsync rate drifts (other tenants): measure the raw rates beside each figure.
  for (const c of [1, 10, 100]) {
    const raw = measureRawSqlite(join(dir, 'raw.sqlite'));
    console.log(`sqlite one-row FULL commits: ${f(raw.oneRowPerSecond)}/s; batched 1 KiB inserts: ${f(raw.batchedPerSecond)}/s`);
    const p = join(dir, `appends-${c}.sqlite`);
    const r = await measureAppends(p, c);
    console.log(`LogWriter durable 1 KiB Ed25519-signed appends, ${c} submitters: ${f(r.perSecond)}/s (mean batch ${r.meanBatch.toFixed(1)})`);
    for (const s of ['', '-wal', '-shm']) rmSync(p + s, { force: true });
  }
  const proofLog = join(dir, `proofs-${proofSize}.sqlite`);
  if (!existsSync(proofLog)) {
    const t0 = performance.now();
    await buildLog(proofLog, proofSize);
    console.log(`built a ${f(proofSize)}-entry log in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  for (let round = 0; round < 3; round++) {
    const p = await measureProofs(proofLog);
    console.log(`inclusion proofs from the store at ${f(p.size)} entries: ${f(p.perSecond)}/s (${p.hashesPerProof.toFixed(1)} stored hashes each, one query)`);
  }
}
