#!/usr/bin/env node
/**
 * Entry sign + verify throughput: core signEntry / verifyEntry with
 * node:crypto, for a small clear hotline message and a 16 KiB body.
 *
 *   node bench/entry-sign.mjs [DIST [OTHER_DIST]]
 *
 * DIST defaults to packages/core/dist. With OTHER_DIST (e.g. a copy of an
 * earlier build) both run in this process, rounds interleaved A, B, A, B…
 * so a noisy machine slows both alike; rates are per second of this
 * process's CPU time; medians and the ratio B/A are printed.
 * It asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dists = (process.argv.length > 2 ? process.argv.slice(2) : [new URL('../packages/core/dist', import.meta.url).pathname]).map((d) => resolve(d));
const vec = JSON.parse(readFileSync(new URL('../packages/core/test/vectors/parley/channel-v1.json', import.meta.url), 'utf8'));
const ROUNDS = Number(process.env.ROUNDS ?? 9);
const MS = Number(process.env.ROUND_MS ?? 300);

const subjects = [];
for (const dist of dists) {
  const core = await import(pathToFileURL(`${dist}/node.js`).href);
  const accord = core.verifyAccord(vec.accord);
  const key = core.signerKeyFromSeed('us.parley.example/log', core.parseBase64(vec.seeds.US.log));
  subjects.push({ dist, core, accord, sign: core.getCrypto().ed25519Signer(key.seed) });
}
const small = vec.entry.envelope;
const big = { ...small, body: { clear: { text: 'x'.repeat(16_000), lang: 'en' } } };

/** Operations per second of this process's CPU time (user + system), not wall time: another process's load does not count. */
function rate(fn) {
  let n = 0;
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const start = cpu();
  let now = start;
  while (now - start < MS) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
    now = cpu();
  }
  return (n * 1000) / (now - start);
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

for (const [name, env] of [['small', small], ['16KiB', big]]) {
  const results = subjects.map(() => ({ sign: [], verify: [], both: [] }));
  // Round 0 warms every subject up (JIT) and is not counted.
  for (let r = 0; r <= ROUNDS; r++) {
    subjects.forEach((s, i) => {
      const bytes = s.core.signEntry(env, s.sign).bytes;
      if (r === 0) {
        rate(() => s.core.verifyEntry(s.core.signEntry(env, s.sign).bytes, s.accord));
        return;
      }
      results[i].sign.push(rate(() => s.core.signEntry(env, s.sign)));
      results[i].verify.push(rate(() => s.core.verifyEntry(bytes, s.accord)));
      results[i].both.push(rate(() => s.core.verifyEntry(s.core.signEntry(env, s.sign).bytes, s.accord)));
    });
  }
  results.forEach((x, i) => {
    const m = { sign: median(x.sign), verify: median(x.verify), both: median(x.both) };
    const base = i > 0 ? { sign: median(results[0].sign), verify: median(results[0].verify), both: median(results[0].both) } : undefined;
    const ratio = (k) => (base ? ` (${((m[k] / base[k]) * 100).toFixed(1)}%)` : '');
    console.log(`${name.padEnd(6)} ${String.fromCharCode(65 + i)}  sign ${m.sign.toFixed(0).padStart(6)}/s${ratio('sign')}  verify ${m.verify.toFixed(0).padStart(6)}/s${ratio('verify')}  sign+verify ${m.both.toFixed(0).padStart(6)}/s${ratio('both')}`);
  });
}
