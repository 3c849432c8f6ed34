#!/usr/bin/env node
/**
 * Accord chain and key epoch benchmark (`npm run bench`; issue 11 figures).
 * Every figure is printed beside the machine's own limit measured in the same
 * run with the same primitive (node:crypto Ed25519 verify), because this
 * machine's speed drifts with other tenants. It asserts nothing: read the ratios.
 *
 *   chain     verifyAccordChain over 1,000 versions (3 parties; every version
 *             changes the heartbeat with three prior signatures, every 10th
 *             also rotates a log key: prior + new-key signature), total and per
 *             version, beside the same number of raw Ed25519 verifies.
 *   audit     a log of 1,000,000 entries whose party rotated its key 10 times
 *             (11 epochs, activations every 90,909 entries) against the same log
 *             with no rotation. The audit of one position = keysFor(party, index)
 *             then the entry signature under that epoch's key; plus a checkpoint
 *             every 1,000 entries = checkpointKeys(party, size) then its signature.
 *             What is measured, said again in the output:
 *             - keysFor on ALL 1,000,000 positions, in order (what an audit does), both logs;
 *             - keysFor + Ed25519 verify of REAL signed entries (seq = their position,
 *               signed with the key of their epoch) on a sample of positions spread
 *               over the whole log (20,000 by default; BENCH_FULL_AUDIT=1 signs and
 *               verifies all 1,000,000 — minutes on a loaded machine);
 *             - all 1,000 checkpoints: checkpointKeys + verify of a signed checkpoint;
 *             the 1M audit time is lookups(measured) + verifies(measured rate × 1M)
 *             + checkpoints(measured), unless BENCH_FULL_AUDIT=1 measured it whole.
 *             The rotated/unrotated ratio is the goal (≤ 1.05×).
 *
 *   node bench/accord.mjs --quick   100 versions, 100,000 positions, 2,000 verified entries.
 *   BENCH_AUDIT_POSITIONS=n         another log length (e.g. with BENCH_FULL_AUDIT=1 on a small log).
 */
import * as nc from 'node:crypto';
import {
  canonicalize,
  draftAccord,
  draftAmendment,
  encodeUtf8,
  epochsOf,
  extendAccordChain,
  formatBase64,
  formatVerifierKey,
  getCrypto,
  signAccord,
  signAccordVersion,
  signEntry,
  signerKeyFromSeed,
  verifierKeyOf,
  verifyAccord,
  verifyAccordChain,
} from '../packages/core/dist/node.js';

const QUICK = process.argv.includes('--quick');
const FULL = process.env.BENCH_FULL_AUDIT === '1' && !QUICK;
const VERSIONS = QUICK ? 100 : 1000;
const POSITIONS = Number(process.env.BENCH_AUDIT_POSITIONS ?? (QUICK ? 100_000 : 1_000_000));
const ROTATIONS = 10;
const SAMPLE = FULL ? POSITIONS : QUICK ? 2_000 : 20_000;
const CHECKPOINT_EVERY = 1000;

const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x >= 1 ? x.toFixed(2) : x.toPrecision(3));
const seed = (label) => getCrypto().sha256(encodeUtf8(`parley bench seed: ${label}`));
const key = (id, gen) => signerKeyFromSeed(`${id.toLowerCase()}.bench.example/log`, seed(`${id} ${gen}`));
const hpke = (id) => formatBase64(seed(`${id} hpke`));
const party = (id, gen = 0) => ({ id, names: { en: id, 'zh-CN': id }, urls: [`https://${id.toLowerCase()}.bench.example`], logKey: formatVerifierKey(verifierKeyOf(key(id, gen))), hpkeKey: hpke(id) });
const withParty = (a, p) => ({ ...a, parties: [...a.parties.filter((x) => x.id !== p.id), p].sort((x, y) => (x.id < y.id ? -1 : 1)) });

console.log(`Parley accord benchmark — node ${process.version}, provider "${getCrypto().name}"${QUICK ? ', --quick' : ''}\n`);

// --- Machine limit: raw Ed25519 verify, node:crypto. ------------------------------
const rawPriv = nc.createPrivateKey({ key: Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), nc.randomBytes(32)]), format: 'der', type: 'pkcs8' });
const rawPub = nc.createPublicKey(rawPriv);
const rawMsg = Buffer.from(`parley/entry/v1\n${'x'.repeat(400)}`);
const rawSig = nc.sign(null, rawMsg, rawPriv);
function rawVerifyRate(ms = 500) {
  let n = 0;
  const t = performance.now();
  while (performance.now() - t < ms) {
    for (let i = 0; i < 50; i++) nc.verify(null, rawMsg, rawPub, rawSig);
    n += 50;
  }
  return (n * 1000) / (performance.now() - t);
}

// --- (a) A chain of VERSIONS accord versions. --------------------------------------------
const ids = ['CN', 'EU', 'US'];
const gens = { CN: 0, EU: 0, US: 0 };
let v1s = { accord: draftAccord({ name: 'bench-chain', parties: ids.map((id) => party(id)), created: new Date(Date.UTC(2026, 0, 1)) }), signatures: [] };
for (const id of ids) v1s = signAccord(v1s, id, key(id, 0));
const signedVersions = [v1s];
let chain = verifyAccordChain([v1s]);
let sigCount = v1s.signatures.length;
const tBuild = performance.now();
for (let n = 2; n <= VERSIONS; n++) {
  const prev = chain.current;
  let accord = { ...prev.accord, heartbeatSeconds: 600 + (n % 3000) };
  const rotating = n % 10 === 0 ? ids[(n / 10) % 3] : undefined;
  if (rotating) accord = withParty(accord, party(rotating, gens[rotating] + 1));
  let s = { accord: draftAmendment(prev, accord), signatures: [] };
  for (const id of ids) s = signAccordVersion(s, id, key(id, gens[id]), { prior: true });
  if (rotating) {
    gens[rotating] += 1;
    s = signAccordVersion(s, rotating, key(rotating, gens[rotating]));
  }
  sigCount += s.signatures.length;
  chain = extendAccordChain(chain, s);
  signedVersions.push(s);
}
const buildMs = performance.now() - tBuild;
const rawBefore = rawVerifyRate();
let best = Infinity;
for (let r = 0; r < (QUICK ? 2 : 3); r++) {
  const t = performance.now();
  const c = verifyAccordChain(signedVersions);
  best = Math.min(best, performance.now() - t);
  if (c.current.version !== VERSIONS) throw new Error('internal: chain length');
}
const rawAfter = rawVerifyRate();
const raw = (rawBefore + rawAfter) / 2;
const rawMsForSigs = (sigCount / raw) * 1000;
console.log(`(a) verifyAccordChain, ${VERSIONS} versions, ${sigCount} signatures (built and signed in ${fmt(buildMs / 1000)} s)`);
console.log(`    ${fmt(best)} ms total (best of ${QUICK ? 2 : 3}) · ${fmt(best / VERSIONS)} ms per version`);
console.log(`    raw Ed25519 verify (node:crypto, same run): ${fmt(raw)}/s → ${sigCount} verifies = ${fmt(rawMsForSigs)} ms; chain / raw = ${(best / rawMsForSigs).toFixed(2)}×\n`);

// --- (b) Audit of a POSITIONS-entry log, 10 rotations vs none. ------------------------------
const span = Math.floor(POSITIONS / (ROTATIONS + 1));
let rot = verifyAccordChain([(() => {
  let s = { accord: draftAccord({ name: 'bench-audit', parties: [party('US'), party('CN')], created: new Date(Date.UTC(2026, 0, 1)) }), signatures: [] };
  s = signAccord(s, 'US', key('US', 0));
  return signAccord(s, 'CN', key('CN', 0));
})()]);
const plain = rot;
for (let g = 1; g <= ROTATIONS; g++) {
  const prev = rot.current;
  let s = { accord: draftAmendment(prev, withParty(prev.accord, party('US', g))), signatures: [] };
  s = signAccordVersion(s, 'US', key('US', g - 1), { prior: true });
  s = signAccordVersion(s, 'CN', key('CN', 0), { prior: true });
  s = signAccordVersion(s, 'US', key('US', g));
  rot = extendAccordChain(rot, s);
}
const activations = [];
for (let g = 1; g <= ROTATIONS; g++) activations.push({ party: 'US', version: g + 1, size: g * span });
const epochsRot = epochsOf(rot, activations);
const epochsPlain = epochsOf(plain, []);
const genAt = (epochs, i) => epochs.keysFor('US', i).version.version - 1;

// Real entries at sampled positions (seq = position), signed by the key of their epoch in each log.
const channel = rot.channel;
const stride = Math.max(1, Math.floor(POSITIONS / SAMPLE));
const sample = [];
for (let i = Math.floor(stride / 2); i < POSITIONS && sample.length < SAMPLE; i += stride) sample.push(i);
const signers = new Map();
const signerFor = (gen) => {
  if (!signers.has(gen)) signers.set(gen, getCrypto().ed25519Signer(key('US', gen).seed));
  return signers.get(gen);
};
function entryAt(i, gen) {
  const env = {
    v: 1, accord: channel, from: { party: 'US', officer: 'node' }, to: ['CN'], seq: i, time: new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString(),
    type: 'heartbeat', precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [], body: { clear: { n: i } },
  };
  const e = signEntry(env, signerFor(gen));
  const { sig, ...unsigned } = e.entry;
  return { message: encodeUtf8(`parley/entry/v1\n${canonicalize(unsigned)}`), sig: Buffer.from(sig, 'base64') };
}
const tSign = performance.now();
const entriesRot = sample.map((i) => entryAt(i, genAt(epochsRot, i)));
const entriesPlain = sample.map((i) => entryAt(i, 0));
const signMs = performance.now() - tSign;
const checkpoints = [];
for (let s = CHECKPOINT_EVERY; s <= POSITIONS; s += CHECKPOINT_EVERY) checkpoints.push(s);
const cpNote = (size, gen) => {
  const message = encodeUtf8(`us.bench.example/log\n${size}\n${formatBase64(seed(`root ${size}`))}\n`);
  return { message, sig: signerFor(gen)(message) };
};
const cpRot = checkpoints.map((s) => cpNote(s, genAt(epochsRot, s - 1)));
const cpPlain = checkpoints.map((s) => cpNote(s, 0));

function lookups(epochs) {
  const t = performance.now();
  let acc = 0;
  for (let i = 0; i < POSITIONS; i++) acc += epochs.keysFor('US', i).from;
  const ms = performance.now() - t;
  if (acc < 0) throw new Error('internal');
  return ms;
}
function verifies(epochs, entries, from, to) {
  const t = performance.now();
  for (let k = from; k < to; k++) {
    const e = entries[k];
    if (!epochs.keysFor('US', sample[k]).member.verify(e.message, e.sig)) throw new Error(`internal: entry ${sample[k]} does not verify`);
  }
  return performance.now() - t;
}
function checkpointAudit(epochs, notes) {
  const t = performance.now();
  for (let k = 0; k < checkpoints.length; k++) {
    const keys = epochs.checkpointKeys('US', checkpoints[k]);
    if (!keys.some((m) => m.verify(notes[k].message, notes[k].sig))) throw new Error(`internal: checkpoint ${checkpoints[k]}`);
  }
  return performance.now() - t;
}

// Interleaved: lookups and checkpoints best of R rounds; the verifies in chunks of 100
// alternating between the two logs (order flipped every chunk), summed over R rounds,
// so drift of this shared machine hits both logs alike.
const R = FULL ? 1 : QUICK ? 3 : 4;
const CHUNK = 100;
const res = { rot: { look: Infinity, ver: 0, cp: Infinity }, plain: { look: Infinity, ver: 0, cp: Infinity } };
const logs = { rot: [epochsRot, entriesRot, cpRot], plain: [epochsPlain, entriesPlain, cpPlain] };
const rawDuring = [];
for (const name of ['rot', 'plain']) lookups(logs[name][0]); // warm-up (JIT)
for (let r = 0; r < Math.max(R, 3); r++) {
  for (const name of r % 2 === 0 ? ['rot', 'plain'] : ['plain', 'rot']) {
    const [ep, , cp] = logs[name];
    res[name].look = Math.min(res[name].look, lookups(ep));
    res[name].cp = Math.min(res[name].cp, checkpointAudit(ep, cp));
  }
}
for (let r = 0; r < R; r++) {
  for (let c = 0; c < sample.length; c += CHUNK) {
    for (const name of (c / CHUNK + r) % 2 === 0 ? ['rot', 'plain'] : ['plain', 'rot']) {
      const [ep, ent] = logs[name];
      res[name].ver += verifies(ep, ent, c, Math.min(sample.length, c + CHUNK));
    }
  }
  rawDuring.push(rawVerifyRate(200));
}
res.rot.ver /= R;
res.plain.ver /= R;
const rawAudit = rawDuring.reduce((a, b) => a + b, 0) / rawDuring.length;
const total = (x) => (FULL ? x.ver + x.cp : x.look + (x.ver / sample.length) * POSITIONS + x.cp);
console.log(`(b) audit of a ${POSITIONS.toLocaleString('en-US')}-entry log: ${ROTATIONS} key rotations (${ROTATIONS + 1} epochs of ${span.toLocaleString('en-US')}) vs none`);
console.log(`    measured: keysFor on all ${POSITIONS.toLocaleString('en-US')} positions; keysFor + Ed25519 verify of ${sample.length.toLocaleString('en-US')} real signed entries (seq = position, every ${stride}th position; signed in ${fmt(signMs / 1000)} s);`);
console.log(`              ${checkpoints.length} checkpoints (checkpointKeys + signature). lookups and checkpoints best of ${Math.max(R, 3)} interleaved rounds, verifies in alternating chunks of ${CHUNK}, averaged over ${R} round(s).`);
for (const [label, x] of [['10 rotations', res.rot], ['no rotation ', res.plain]]) {
  console.log(`    ${label}: lookups ${fmt(x.look)} ms (${fmt((x.look * 1e6) / POSITIONS)} ns/position) · verify ${fmt((x.ver * 1000) / sample.length)} µs/entry · checkpoints ${fmt(x.cp)} ms → ${FULL ? 'audit (measured)' : `audit of ${POSITIONS.toLocaleString('en-US')} (extrapolated verifies)`} ${fmt(total(x) / 1000)} s`);
}
console.log(`    raw Ed25519 verify during the audit: ${fmt(rawAudit)}/s (${fmt(1e6 / rawAudit)} µs) → ${POSITIONS.toLocaleString('en-US')} verifies = ${fmt(POSITIONS / rawAudit)} s`);
console.log(`    ratio rotated / unrotated: audit ${(total(res.rot) / total(res.plain)).toFixed(3)}× (goal ≤ 1.05×) · lookups alone ${(res.rot.look / res.plain.look).toFixed(2)}× · lookup share of the audit ${((100 * res.rot.look) / total(res.rot)).toFixed(2)}%`);
