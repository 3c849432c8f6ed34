#!/usr/bin/env node
/**
 * Log-core benchmark (`npm run bench`). Every figure is printed beside the
 * machine's own limit for the same work, measured in the same run with the
 * same primitive (node:crypto one-shot SHA-256 and Ed25519), so the ratio
 * means something on a noisy machine. It asserts nothing: read the ratios.
 *
 *   append            leaves/s   vs  raw SHA-256 (64 B) / 2   (a leaf hash + ~1 node hash per leaf)
 *   proofs            ops/s      vs  raw SHA-256 / hashes per op (counted, not guessed)
 *   checkpoint        ops/s      vs  raw Ed25519 sign / verify
 *   1M-leaf audit     seconds    vs  2M hashes at the raw rate
 */
import * as nc from 'node:crypto';
import {
  MemoryTree,
  VerifierSet,
  generateSignerKey,
  getCrypto,
  leafHash,
  newSigner,
  openCheckpoint,
  proveConsistency,
  proveInclusion,
  setCrypto,
  signCheckpoint,
  treeHash,
  verifierKeyOf,
  verifyConsistency,
  verifyInclusion,
  bytesEqual,
} from '../packages/core/dist/node.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);

/** Runs fn for about `ms` milliseconds; returns [ops, elapsed ms]. */
function slice(fn, ms, batch) {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < batch; i++) fn(n + i);
    n += batch;
    now = performance.now();
  }
  return [n, now - start];
}

/**
 * Rates of `fn` and of the raw primitive `raw`, measured in alternating
 * 250 ms slices over the same 2 × SECONDS: this machine's speed drifts (other
 * tenants), and interleaving keeps the ratio honest when it does.
 * @returns [fn ops/s, raw ops/s]
 */
function paired(fn, raw, batch = 100, rawBatch = 1000) {
  slice(fn, 50, batch);
  slice(raw, 50, rawBatch); // warm-up
  let n1 = 0, t1 = 0, n2 = 0, t2 = 0;
  for (let r = 0; r < Math.max(1, Math.round((SECONDS * 1000) / 250)); r++) {
    const [a, ta] = slice(fn, 250, batch);
    const [b, tb] = slice(raw, 250, rawBatch);
    n1 += a; t1 += ta; n2 += b; t2 += tb;
  }
  return [(n1 * 1000) / t1, (n2 * 1000) / t2];
}

/** Runs fn repeatedly for about SECONDS; returns ops/s. */
function rate(fn, batch = 1000) {
  for (let i = 0; i < batch; i++) fn(i); // warm-up
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < SECONDS * 1000) {
    for (let i = 0; i < batch; i++) fn(n + i);
    n += batch;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}

/** Average number of SHA-256 calls fn makes. */
function hashesPer(fn, runs = 200) {
  const real = getCrypto();
  let count = 0;
  setCrypto({ ...real, sha256: (d) => (count++, real.sha256(d)) });
  try {
    for (let i = 0; i < runs; i++) fn(i);
  } finally {
    setCrypto(real);
  }
  return count / runs;
}

const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));
const pct = (a, b) => `${((100 * a) / b).toFixed(0)}%`;
const rows = [];
function row(what, value, unit, limit, limitLabel) {
  rows.push([what, `${fmt(value)} ${unit}`, limit === undefined ? '—' : `${fmt(limit)} ${unit}`, limit === undefined ? '' : pct(value, limit), limitLabel]);
}

console.log(`Parley log-core benchmark — node ${process.version}, ${nc.getHashes ? 'node:crypto' : ''} provider "${getCrypto().name}", ${SECONDS}s per figure\n`);

// --- Machine limits, same primitives. ---------------------------------------
const buf64 = nc.randomBytes(64);
const shaRaw = () => nc.hash('sha256', buf64, 'buffer');
const rawSha = rate(shaRaw, 5000);
const seed = nc.randomBytes(32);
const priv = nc.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
const pub = nc.createPublicKey(priv);
const cpMsg = Buffer.from('parley.bench/log\n1000000\n' + nc.randomBytes(32).toString('base64') + '\n');
const rawSig = nc.sign(null, cpMsg, priv);
const signRaw = () => nc.sign(null, cpMsg, priv);
const verifyRaw = () => nc.verify(null, cpMsg, pub, rawSig);
const rawSign = rate(signRaw, 200);
const rawVerify = rate(verifyRaw, 200);
console.log(`limits: SHA-256(64 B) ${fmt(rawSha)}/s · Ed25519 sign ${fmt(rawSign)}/s · verify ${fmt(rawVerify)}/s\n`);

// --- Append. -------------------------------------------------------------------
const N = 1_000_000;
// Leaf i is 64 bytes: i (big-endian) then zeros. Made on demand into one
// buffer, so a million inputs do not sit on the heap during the measurements.
const inputBuf = new Uint8Array(64);
const inputView = new DataView(inputBuf.buffer);
function input(i) {
  inputView.setUint32(0, i);
  return inputBuf;
}
const appendTree = new MemoryTree();
let appended = 0;
const [appendRate, shaDuringAppend] = paired(() => {
  if (appended < N) appendTree.append(leafHash(input(appended++)));
}, shaRaw, 1000, 1000);
// Finish the 1M-leaf tree the proofs below need (it may have got there already).
while (appended < N) appendTree.append(leafHash(input(appended++)));
row('tree append (64 B leaves, to 1M)', appendRate, 'leaves/s', shaDuringAppend / 2, 'raw SHA-256 / 2');
let t0;
let secs;

// --- Proofs at 10^3 and 10^6. ------------------------------------------------------
// Rates first, hash counts after: counting swaps the crypto provider, and a
// second provider shape makes V8 deoptimize the hashing call sites.
const proofOps = [];
for (const size of [1_000, 1_000_000]) {
  const root = treeHash(size, appendTree);
  const idx = (i) => (i * 7919) % size;
  const incl = Array.from({ length: 1000 }, (_, i) => proveInclusion(size, idx(i), appendTree));
  const leaves = Array.from({ length: 1000 }, (_, i) => leafHash(input(idx(i))));
  const old = (i) => 1 + ((i * 104729) % (size - 1));
  const cons = Array.from({ length: 1000 }, (_, i) => proveConsistency(old(i), size, appendTree));
  const oldRoots = Array.from({ length: 1000 }, (_, i) => treeHash(old(i), appendTree));
  proofOps.push(
    [`inclusion proof generate @${size}`, (i) => proveInclusion(size, idx(i), appendTree)],
    [`inclusion proof verify   @${size}`, (i) => verifyInclusion(incl[i % 1000], size, root, idx(i % 1000), leaves[i % 1000])],
    [`consistency proof generate @${size}`, (i) => proveConsistency(old(i), size, appendTree)],
    [`consistency proof verify   @${size}`, (i) => verifyConsistency(cons[i % 1000], old(i % 1000), size, oldRoots[i % 1000], root)],
  );
}
const proofRates = proofOps.map(([, fn]) => paired(fn, shaRaw));
proofOps.forEach(([what, fn], k) => {
  const h = hashesPer(fn);
  const [opRate, shaRate] = proofRates[k];
  row(`${what} (${h.toFixed(1)} hashes)`, opRate, 'ops/s', shaRate / Math.max(h, 1), h >= 1 ? 'raw SHA-256 / hashes' : 'raw SHA-256 (1 hash)');
});

// --- Checkpoints. ------------------------------------------------------------------
const key = generateSignerKey('parley.bench/log');
const signer = newSigner(key);
const verifiers = new VerifierSet([verifierKeyOf(key)]);
const cp = { origin: 'parley.bench/log', treeSize: N, rootHash: appendTree.root(), extensions: [] };
const note = signCheckpoint(cp, signer);
const [cpSign, edSign] = paired(() => signCheckpoint(cp, signer), signRaw, 20, 20);
const [cpVerify, edVerify] = paired(() => openCheckpoint(note, verifiers), verifyRaw, 20, 20);
row('checkpoint sign (format + note)', cpSign, 'ops/s', edSign, 'raw Ed25519 sign');
row('checkpoint verify (parse + open)', cpVerify, 'ops/s', edVerify, 'raw Ed25519 verify');

// --- Audit a 1M-leaf tree from its leaves against a signed checkpoint. ------------
const shaBefore = rate(shaRaw, 5000);
t0 = performance.now();
const verified = openCheckpoint(note, verifiers, { origin: 'parley.bench/log' }).checkpoint;
const audit = new MemoryTree();
for (let i = 0; i < verified.treeSize; i++) audit.append(leafHash(input(i)));
const ok = bytesEqual(audit.root(), verified.rootHash);
secs = (performance.now() - t0) / 1000;
const shaAfter = rate(shaRaw, 5000);
// The raw rate right before and right after, averaged: the audit is one long run.
const limitSecs = (2 * N) / ((shaBefore + shaAfter) / 2);
rows.push(['verify 1M-leaf tree from leaves vs checkpoint', `${secs.toFixed(2)} s ${ok ? '(root matches)' : '(MISMATCH)'}`, `${limitSecs.toFixed(2)} s`, pct(limitSecs, secs), '2M hashes at raw SHA-256']);

// --- Report. -------------------------------------------------------------------------
const head = ['measure', 'Parley', 'machine limit', 'ratio', 'limit is'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ');
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
if (!ok) process.exitCode = 1;
