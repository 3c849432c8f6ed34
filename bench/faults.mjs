#!/usr/bin/env node
/**
 * Fault harness (`npm run faults`; issue 9, "Tests and figures"). Three real
 * `parley serve` processes (US, CN, EU) on 127.0.0.1, founded with the real
 * binary in a temporary directory, federating by push and pull. It does to
 * them what operators and hostile parties do, then counts what the nodes
 * themselves report — it never writes evidence for them:
 *
 *   burst + kill -9   concurrent FLASH sends at US; US SIGKILLed mid-burst and
 *                     restarted; every acknowledged (201) entry must reach CN
 *                     and EU exactly once → sent / delivered once / lost / duplicated
 *   second instance   a second `parley serve` on a data directory in use must exit non-zero at once
 *   rollback          US's data directory replaced by an old copy (a restored backup), and US
 *                     SIGKILLed with its WAL deleted; US must refuse to sign until it has
 *                     recovered the cosigned tail from its peers, and no peer may hold a fork
 *                     proof against US afterwards → attempted / refused or recovered
 *   forks             EU's operator signs a second history (EU's real key) and offers it to
 *                     CN's and US's witnesses; each must keep a fork proof that
 *                     `parley verify-fork` accepts with the accord alone → planted / proven
 *   upload flood      40 concurrent unsigned 16 MiB uploads and 100 stalled ones at CN's
 *                     federation route; CN's resident memory is sampled → peak RSS
 *
 * Loopback only, bounded in time (FAULTS_SECONDS, default 300, for the whole
 * run). Prints a table (or one JSON object with --json) and exits 0 only when
 * nothing was lost, duplicated, forked unproven, rolled back unrefused, or
 * served twice.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import {
  MemoryTree,
  formatAddCheckpointRequest,
  newSigner,
  signCheckpoint,
} from '@parley/core/node';
import { BIN, REPO, cluster, sampleRss } from './lib/cluster.mjs';

const { openKeyFile, nodeKeys } = await import(join(REPO, 'packages/cli/dist/keyfile.js'));

const JSON_OUT = process.argv.includes('--json');
const BUDGET_MS = Number(process.env.FAULTS_SECONDS ?? 300) * 1000;
const PASSPHRASE = 'fault harness passphrase';
const PASSWORD = 'admin-password-123';
const PARTIES = ['US', 'CN', 'EU'];
const BURST = Number(process.env.FAULTS_BURST ?? 300);
const c = cluster({ prefix: 'parley-faults-', parties: PARTIES, passphrase: PASSPHRASE, password: PASSWORD, budgetMs: BUDGET_MS });
const { started, tmp, at, dataOf, env, nodes, parley, json, until, stop, http, get, login, listAll, witnessedSize } = c;
const log = (...a) => {
  if (!JSON_OUT) console.error(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s]`, ...a);
};

// ---------------------------------------------------------------- nodes

const start = (n) => c.start(n, ['--poll', '300']);

// ---------------------------------------------------------------- scenarios

const figures = {
  burst: { sent: 0, deliveredOnce: 0, lost: 0, duplicated: 0 },
  secondInstance: { attempted: 0, refused: 0 },
  rollback: { attempted: 0, refused: 0, recovered: 0, forkedAfter: 0 },
  forks: { planted: 0, proven: 0 },
  flood: { uploads: 0, stalled: 0, baseRssMiB: 0, peakRssMiB: 0, answeredAfter: false },
};
const problems = [];

async function setup() {
  await c.found('fault-harness', ['--heartbeat', '2', '--receipt', '5', '--ack-flash', '60']);
  await Promise.all(PARTIES.map((p) => start(nodes[p])));
  for (const p of PARTIES) await login(nodes[p]);
  await until('every witness to cosign every log', 60_000, async () => {
    for (const w of PARTIES) for (const o of PARTIES) if (w !== o && (await witnessedSize(nodes[w], nodes[o])) === 0) return false;
    return true;
  });
}

/** Concurrent FLASH sends at US; US is SIGKILLed once `killAt` are acknowledged, then restarted. */
async function burstKill() {
  const us = nodes.US;
  const acked = new Map(); // index → leafHash
  let refusedAfterKill = 0;
  let killed = false;
  let next = 0;
  const killAt = Math.floor(BURST / 3);
  const worker = async () => {
    while (next < BURST && !killed) {
      const i = next++;
      try {
        const r = await http(us, 'POST', '/v1/messages', { precedence: 'FLASH', marking: 'TLP:AMBER', text: `burst ${i}` });
        if (r.status === 201) {
          if (acked.has(r.body.index)) figures.burst.duplicated++;
          acked.set(r.body.index, r.body.leafHash);
          if (acked.size >= killAt && !killed) {
            killed = true;
            us.child.kill('SIGKILL');
          }
        }
      } catch {
        refusedAfterKill++;
      }
    }
  };
  await Promise.all(Array.from({ length: 10 }, worker));
  await us.exited;
  log(`burst: ${acked.size} acknowledged before kill -9 of US`);
  await start(us);
  await login(us);
  // The rest of the burst after the restart.
  while (next < BURST) {
    const i = next++;
    const r = await http(us, 'POST', '/v1/messages', { precedence: 'FLASH', marking: 'TLP:AMBER', text: `burst ${i}` });
    if (r.status === 201) acked.set(r.body.index, r.body.leafHash);
  }
  figures.burst.sent = acked.size;
  // Every acknowledged entry: in US's log, and at CN and EU exactly once.
  const counts = {};
  await until('CN and EU to hold every acknowledged entry', 90_000, async () => {
    for (const p of ['CN', 'EU']) {
      const c = new Map();
      for (const it of await listAll(nodes[p], '/v1/inbox', 'party=US&type=hotline.message')) c.set(it.index, (c.get(it.index) ?? 0) + 1);
      counts[p] = c;
      for (const i of acked.keys()) if (!c.has(i)) return false;
    }
    return true;
  }).catch((e) => problems.push(`burst: ${e.message}`));
  for (const [i, hash] of acked) {
    const own = await http(us, 'GET', `/v1/entries/US/${i}`);
    const inLog = own.status === 200 && own.body.leafHash === hash;
    const n = ['CN', 'EU'].map((p) => counts[p]?.get(i) ?? 0);
    if (!inLog || n.some((x) => x === 0)) figures.burst.lost++;
    else if (n.some((x) => x > 1)) figures.burst.duplicated++;
    else figures.burst.deliveredOnce++;
  }
}

/** A second `parley serve` on a data directory in use. */
async function secondInstance() {
  for (const p of PARTIES) {
    figures.secondInstance.attempted++;
    const t0 = Date.now();
    const r = spawnSync(process.execPath, [BIN, 'serve', '--data', dataOf(p), '--port', '0', '--json'], { cwd: tmp, env: env(), encoding: 'utf8', timeout: 20_000 });
    if (r.status !== 0 && r.status !== null && Date.now() - t0 < 15_000) figures.secondInstance.refused++;
    else problems.push(`second instance on ${p}: exit ${r.status} after ${Date.now() - t0} ms`);
  }
  // The first instances still answer.
  for (const p of PARTIES) await get(nodes[p], '/log/checkpoint').catch((e) => problems.push(`after second instance: ${e.message}`));
}

async function sendSome(n, k, tag) {
  for (let i = 0; i < k; i++) {
    const r = await http(n, 'POST', '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:GREEN', text: `${tag} ${i}` });
    if (r.status !== 201) throw new Error(`send at ${n.party}: ${r.status} ${JSON.stringify(r.body)}`);
  }
}

/** How US behaves when it comes back shorter than its peers cosigned. */
async function expectRefusedOrRecovered(label, cosigned) {
  const us = nodes.US;
  figures.rollback.attempted++;
  await start(us);
  await login(us);
  const r = await http(us, 'POST', '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:GREEN', text: `after ${label}` });
  const size = async () => Number(new TextDecoder().decode(new Uint8Array(await (await fetch(`${us.url}/log/checkpoint`)).arrayBuffer())).split('\n')[1]);
  if (r.status === 201) {
    // Accepted only if the node had already recovered the cosigned tail first.
    if (r.body.index >= cosigned) figures.rollback.recovered++;
    else problems.push(`${label}: US signed index ${r.body.index} below the cosigned size ${cosigned}`);
  } else if (r.status >= 400 && r.status < 600) {
    figures.rollback.refused++;
    await until(`${label}: US to recover to the cosigned size ${cosigned}`, 60_000, async () => (await size()) >= cosigned).then(
      () => figures.rollback.recovered++,
      (e) => problems.push(e.message),
    );
  }
  await sendSome(us, 3, `${label} resumed`).catch((e) => problems.push(`${label}: ${e.message}`));
  await until(`${label}: CN and EU to cosign US past its rolled-back size`, 60_000, async () => {
    return (await witnessedSize(nodes.CN, us)) > cosigned && (await witnessedSize(nodes.EU, us)) > cosigned;
  }).catch((e) => problems.push(e.message));
  for (const p of ['CN', 'EU']) {
    const forks = await get(nodes[p], '/v1/forks');
    const items = Array.isArray(forks) ? forks : (forks.items ?? forks.forks ?? []);
    figures.rollback.forkedAfter += items.filter((f) => f.party === 'US').length;
  }
}

async function rollback() {
  const us = nodes.US;
  // An operator's backup, taken while US is stopped.
  await stop(us);
  rmSync(at('us-old'), { recursive: true, force: true });
  cpSync(dataOf('US'), at('us-old'), { recursive: true });
  await start(us);
  await login(us);
  await sendSome(us, 20, 'after backup');
  const cosigned = await until('CN and EU to cosign US\'s 20 new entries', 60_000, async () => {
    const size = Number(new TextDecoder().decode(new Uint8Array(await (await fetch(`${us.url}/log/checkpoint`)).arrayBuffer())).split('\n')[1]);
    const a = await witnessedSize(nodes.CN, us);
    const b = await witnessedSize(nodes.EU, us);
    return a >= size && b >= size ? size : undefined;
  });
  // 1. Restore the old backup.
  await stop(us);
  rmSync(dataOf('US'), { recursive: true, force: true });
  cpSync(at('us-old'), dataOf('US'), { recursive: true });
  log(`rollback: US restored from a backup older than its cosigned size ${cosigned}`);
  await expectRefusedOrRecovered('restored backup', cosigned);

  // 2. kill -9 and a lost WAL.
  await sendSome(us, 10, 'before WAL loss');
  const cosigned2 = await until('CN and EU to cosign US', 60_000, async () => {
    const size = Number(new TextDecoder().decode(new Uint8Array(await (await fetch(`${us.url}/log/checkpoint`)).arrayBuffer())).split('\n')[1]);
    return (await witnessedSize(nodes.CN, us)) >= size && (await witnessedSize(nodes.EU, us)) >= size ? size : undefined;
  });
  await stop(us, 'SIGKILL');
  const wal = join(dataOf('US'), 'parley.sqlite-wal');
  if (existsSync(wal)) rmSync(wal);
  await expectRefusedOrRecovered('lost WAL', cosigned2);
}

/** EU's operator signs a second history with EU's own key and offers it to each witness. */
async function forks() {
  const secrets = await openKeyFile(readFileSync(join(dataOf('EU'), 'keys.enc'), 'utf8'), PASSPHRASE, 'keys.enc');
  const key = nodeKeys(secrets).log;
  // What each witness holds of EU's log, read before anything is planted: once one witness has a
  // proof, gossip carries it to the other, whose witness then refuses EU outright (LOG_FORKED).
  const held = {};
  for (const w of ['CN', 'US']) held[w] = await witnessedSize(nodes[w], nodes.EU);
  for (const w of ['CN', 'US']) {
    const size = held[w];
    const fake = new MemoryTree();
    for (let i = 0; i < size; i++) fake.appendData(new TextEncoder().encode(`rewritten EU entry ${i} for ${w}`));
    const forged = signCheckpoint({ origin: key.name, treeSize: size, rootHash: fake.root(), extensions: [] }, newSigner(key));
    figures.forks.planted++;
    await fetch(`${nodes[w].url}/witness/add-checkpoint`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: formatAddCheckpointRequest({ oldSize: size, proof: [], checkpointNote: forged }),
    });
    // The witness's own evidence: a fork proof it serves, which verifies with the accord alone.
    const proof = await until(`${w} to hold a fork proof against EU`, 20_000, async () => {
      const res = await fetch(`${nodes[w].url}/v1/forks/EU/0`, { headers: { authorization: `Bearer ${nodes[w].token}` } });
      return res.status === 200 ? await res.text() : undefined;
    }).catch((e) => (problems.push(e.message), undefined));
    if (proof === undefined) continue;
    writeFileSync(at(`fork-${w}.txt`), proof);
    const v = parley(['verify-fork', '--accord', 'accord.json', `fork-${w}.txt`]);
    if (v.code === 0) figures.forks.proven++;
    else problems.push(`verify-fork of ${w}'s proof: exit ${v.code} ${v.stderr}`);
  }
}

/** Unsigned and stalled 16 MiB uploads at CN's federation route. */
async function flood() {
  const cn = nodes.CN;
  const rss = sampleRss(cn.child.pid);
  figures.flood.baseRssMiB = Math.round(rss.base / 2 ** 20);
  const big = Buffer.alloc(16 * 2 ** 20, 0x61);
  const uploads = Array.from({ length: 40 }, () =>
    fetch(`${cn.url}/fed/v1/bundle`, { method: 'POST', headers: { 'content-type': 'application/octet-stream' }, body: big, signal: AbortSignal.timeout(60_000) })
      .then((r) => r.arrayBuffer())
      .catch(() => undefined),
  );
  figures.flood.uploads = uploads.length;
  const stalled = [];
  for (let i = 0; i < 100; i++) {
    const s = connect(cn.port, '127.0.0.1');
    s.on('error', () => {});
    s.write(`POST /fed/v1/bundle HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${16 * 2 ** 20}\r\n\r\n`);
    s.write(Buffer.alloc(64 * 1024, 0x62));
    stalled.push(s);
  }
  figures.flood.stalled = stalled.length;
  await Promise.all(uploads);
  await new Promise((r) => setTimeout(r, 1000));
  const h = await http(cn, 'GET', '/log/checkpoint').catch(() => ({ status: 0 }));
  figures.flood.answeredAfter = h.status === 200;
  for (const s of stalled) s.destroy();
  figures.flood.peakRssMiB = Math.round(rss.stop() / 2 ** 20);
}

// ---------------------------------------------------------------- run

let failed = false;
try {
  log(`three nodes in ${tmp}`);
  await setup();
  log('burst with kill -9 of the sender');
  await burstKill();
  log('second instance on each data directory');
  await secondInstance();
  log('rollback: restored backup, lost WAL');
  await rollback();
  log('upload flood at CN');
  await flood();
  log('forks planted by EU');
  await forks();
} catch (e) {
  failed = true;
  problems.push(`aborted: ${e instanceof Error ? e.message : e}`);
  for (const p of PARTIES) if (nodes[p]?.log) problems.push(`${p} stderr tail: ${nodes[p].log.slice(-800)}`);
} finally {
  await Promise.all(PARTIES.map((p) => (nodes[p] ? stop(nodes[p]) : undefined)));
  c.remove();
}

const b = figures.burst;
const ok =
  !failed &&
  problems.length === 0 &&
  b.lost === 0 &&
  b.duplicated === 0 &&
  b.deliveredOnce === b.sent &&
  figures.secondInstance.refused === figures.secondInstance.attempted &&
  figures.rollback.recovered === figures.rollback.attempted &&
  figures.rollback.forkedAfter === 0 &&
  figures.forks.proven === figures.forks.planted &&
  figures.flood.answeredAfter;
const seconds = Math.round((Date.now() - started) / 100) / 10;
if (JSON_OUT) {
  console.log(JSON.stringify({ ok, seconds, ...figures, problems }, null, 2));
} else {
  const f = figures;
  console.log(`
Parley fault harness — three nodes on 127.0.0.1, ${seconds} s
  entries sent (acknowledged)      ${b.sent}
    delivered once to CN and EU    ${b.deliveredOnce}
    lost                           ${b.lost}
    duplicated                     ${b.duplicated}
  second instances                 ${f.secondInstance.attempted} attempted, ${f.secondInstance.refused} refused
  rollbacks                        ${f.rollback.attempted} attempted, ${f.rollback.refused} refused, ${f.rollback.recovered} recovered, ${f.rollback.forkedAfter} fork proofs against US after
  forks                            ${f.forks.planted} planted, ${f.forks.proven} proven (by the witnesses, checked with parley verify-fork)
  upload flood at CN               ${f.flood.uploads} unsigned 16 MiB + ${f.flood.stalled} stalled; RSS ${f.flood.baseRssMiB} MiB → peak ${f.flood.peakRssMiB} MiB; answering after: ${f.flood.answeredAfter}
${problems.length ? `problems:\n  - ${problems.join('\n  - ')}\n` : ''}result: ${ok ? 'every promise held' : 'SOMETHING BROKE'}`);
}
process.exit(ok ? 0 : 1);
