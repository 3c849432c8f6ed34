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
const rawSha = rate(() => nc.hash('sha256', buf64, 'buffer'), 5000);
const seed = nc.randomBytes(32);
const priv = nc.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]), format: 'der', type: 'pkcs8' });
const pub = nc.createPublicKey(priv);
const cpMsg = Buffer.from('parley.bench/log\n1000000\n' + nc.randomBytes(32).toString('base64') + '\n');
const rawSig = nc.sign(null, cpMsg, priv);
const rawSign = rate(() => nc.sign(null, cpMsg, priv), 200);
const rawVerify = rate(() => nc.verify(null, cpMsg, pub, rawSig), 200);
console.log(`limits: SHA-256(64 B) ${fmt(rawSha)}/s · Ed25519 sign ${fmt(rawSign)}/s · verify ${fmt(rawVerify)}/s\n`);

// --- Append. -------------------------------------------------------------------
const N = 1_000_000;
const inputs = Array.from({ length: N }, (_, i) => {
  const b = Buffer.alloc(64);
  b.writeUInt32BE(i, 0);
  return new Uint8Array(b.buffer, b.byteOffset, 64);
});
const appendTree = new MemoryTree();
let t0 = performance.now();
for (let i = 0; i < N; i++) appendTree.append(leafHash(inputs[i]));
let secs = (performance.now() - t0) / 1000;
row('tree append (1M leaves, 64 B each)', N / secs, 'leaves/s', rawSha / 2, 'raw SHA-256 / 2');

// --- Proofs at 10^3 and 10^6. ------------------------------------------------------
for (const size of [1_000, 1_000_000]) {
  const root = treeHash(size, appendTree);
  const idx = (i) => (i * 7919) % size;
  const incl = Array.from({ length: 1000 }, (_, i) => proveInclusion(size, idx(i), appendTree));
  const leaves = Array.from({ length: 1000 }, (_, i) => leafHash(inputs[idx(i)]));
  const genH = hashesPer((i) => proveInclusion(size, idx(i), appendTree));
  const verH = hashesPer((i) => verifyInclusion(incl[i % 1000], size, root, idx(i % 1000), leaves[i % 1000]));
  const gen = rate((i) => proveInclusion(size, idx(i), appendTree));
  const ver = rate((i) => verifyInclusion(incl[i % 1000], size, root, idx(i % 1000), leaves[i % 1000]));
  row(`inclusion proof generate @${size} (${genH.toFixed(1)} hashes)`, gen, 'ops/s', genH > 0.5 ? rawSha / genH : undefined, 'raw SHA-256 / hashes');
  row(`inclusion proof verify   @${size} (${verH.toFixed(1)} hashes)`, ver, 'ops/s', rawSha / verH, 'raw SHA-256 / hashes');

  const old = (i) => 1 + ((i * 104729) % (size - 1));
  const cons = Array.from({ length: 1000 }, (_, i) => proveConsistency(old(i), size, appendTree));
  const oldRoots = Array.from({ length: 1000 }, (_, i) => treeHash(old(i), appendTree));
  const cgenH = hashesPer((i) => proveConsistency(old(i), size, appendTree));
  const cverH = hashesPer((i) => verifyConsistency(cons[i % 1000], old(i % 1000), size, oldRoots[i % 1000], root));
  const cgen = rate((i) => proveConsistency(old(i), size, appendTree));
  const cver = rate((i) => verifyConsistency(cons[i % 1000], old(i % 1000), size, oldRoots[i % 1000], root));
  row(`consistency proof generate @${size} (${cgenH.toFixed(1)} hashes)`, cgen, 'ops/s', cgenH > 0.5 ? rawSha / cgenH : undefined, 'raw SHA-256 / hashes');
  row(`consistency proof verify   @${size} (${cverH.toFixed(1)} hashes)`, cver, 'ops/s', rawSha / cverH, 'raw SHA-256 / hashes');
}

// --- Checkpoints. ------------------------------------------------------------------
const key = generateSignerKey('parley.bench/log');
const signer = newSigner(key);
const verifiers = new VerifierSet([verifierKeyOf(key)]);
const cp = { origin: 'parley.bench/log', treeSize: N, rootHash: appendTree.root(), extensions: [] };
const note = signCheckpoint(cp, signer);
row('checkpoint sign (format + note)', rate(() => signCheckpoint(cp, signer), 200), 'ops/s', rawSign, 'raw Ed25519 sign');
row('checkpoint verify (parse + open)', rate(() => openCheckpoint(note, verifiers), 200), 'ops/s', rawVerify, 'raw Ed25519 verify');

// --- Audit a 1M-leaf tree from its leaves against a signed checkpoint. ------------
t0 = performance.now();
const verified = openCheckpoint(note, verifiers, { origin: 'parley.bench/log' }).checkpoint;
const audit = new MemoryTree();
for (let i = 0; i < verified.treeSize; i++) audit.append(leafHash(inputs[i]));
const ok = bytesEqual(audit.root(), verified.rootHash);
secs = (performance.now() - t0) / 1000;
const limitSecs = (2 * N) / rawSha;
rows.push(['verify 1M-leaf tree from leaves vs checkpoint', `${secs.toFixed(2)} s ${ok ? '(root matches)' : '(MISMATCH)'}`, `${limitSecs.toFixed(2)} s`, pct(limitSecs, secs), '2M hashes at raw SHA-256']);

// --- Report. -------------------------------------------------------------------------
const head = ['measure', 'Parley', 'machine limit', 'ratio', 'limit is'];
const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
const line = (r) => r.map((c, i) => String(c).padEnd(widths[i])).join('  ');
console.log(line(head));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line(r));
if (!ok) process.exitCode = 1;
