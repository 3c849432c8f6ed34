#!/usr/bin/env node
/**
 * Entry sign + verify throughput (core signEntry / verifyEntry with
 * node:crypto), for a small clear hotline message and a ~16 KiB body.
 * Usage: node bench/entry-sign.mjs [path/to/core/dist]  (default packages/core/dist)
 * Prints ops/s; interleaves rounds and reports the median of each.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = resolve(process.argv[2] ?? new URL('../packages/core/dist', import.meta.url).pathname);
const core = await import(pathToFileURL(`${dist}/node.js`).href);
const vec = JSON.parse(readFileSync(new URL('../packages/core/test/vectors/parley/channel-v1.json', import.meta.url), 'utf8'));
const { signEntry, verifyEntry, verifyAccord, getCrypto, signerKeyFromSeed, parseBase64 } = core;

const accord = verifyAccord(vec.accord);
const key = signerKeyFromSeed('us.parley.example/log', parseBase64(vec.seeds.US.log));
const sign = getCrypto().ed25519Signer(key.seed);
const small = vec.entry.envelope;
const big = { ...small, body: { clear: { text: 'x'.repeat(16_000), lang: 'en' } } };

function rate(fn, ms) {
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 50; i++) fn();
    n += 50;
    now = performance.now();
  }
  return (n * 1000) / (now - start);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ROUNDS = Number(process.env.ROUNDS ?? 7);
for (const [name, env] of [['small', small], ['16KiB', big]]) {
  const bytes = signEntry(env, sign).bytes;
  const s = [], v = [], sv = [];
  for (let r = 0; r < ROUNDS; r++) {
    s.push(rate(() => signEntry(env, sign), 400));
    v.push(rate(() => verifyEntry(bytes, accord), 400));
    sv.push(rate(() => verifyEntry(signEntry(env, sign).bytes, accord), 400));
  }
  console.log(`${name.padEnd(6)} sign ${median(s).toFixed(0).padStart(7)}/s  verify ${median(v).toFixed(0).padStart(7)}/s  sign+verify ${median(sv).toFixed(0).padStart(7)}/s`);
}
