#!/usr/bin/env node
/**
 * Static mirror benchmark (issue 14, `npm run bench`): reads served by the
 * node vs by nginx serving its mirror directory, for the same log, beside
 * the machine's limits measured in the same run; and what mirroring costs
 * the write path. It asserts nothing.
 *
 *   limits            SHA-256 of 64 B (one Merkle node) per second on one core (node:crypto one-shot hash);
 *                     bare HTTP: a trivial node:http server answering 8 KiB (a tile), and answering
 *                     as many bytes as an entry bundle of this log (~256 KiB), same client
 *   tiles/s           random full level-0 hash tiles (8 KiB): node GET /log/tile/0/N  vs  nginx GET /tile/0/N
 *   entry bundles/s   random full entry bundles (256 entries): node vs nginx
 *   inclusion proofs/s  node: GET /log/proof/inclusion (JSON, hashes from SQLite);
 *                     nginx: the client fetches the level-0 tile of the entry, checks it
 *                     against its (cached) parent tile and the checkpoint's edge tiles, and
 *                     builds the proof itself (core TileReader) — what a verifier of a mirror does
 *   appends/s         100 submitters, durable (writer thread, as `parley serve`), without a
 *                     mirror vs with one (default interval, and publishing after every append),
 *                     in alternating 250 ms windows of the same run
 *
 * The client runs in a worker thread (its own event loop) with BENCH_CONNECTIONS
 * (default 16) keep-alive connections; the node's server runs on the main
 * thread; nginx is one process (master_process off, as the tests run it).
 * BENCH_SECONDS (default 2) sets each timed window; BENCH_MIRROR_LOG (default
 * 70,000) the log size. Needs /usr/sbin/nginx (Debian: apt-get install -y nginx).
 */
import * as nc from 'node:crypto';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { draftAccord, formatBase64, formatVerifierKey, generateSignerKey, hpkeGenerateKeyPair, signAccord, verifierKeyOf } from '../packages/core/dist/node.js';
import { SqliteStore, withWriterThread } from '../packages/store/dist/index.js';
import { MirrorPublisher, ParleyNode, startRuntime } from '../packages/node/dist/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
const LOG = Number(process.env.BENCH_MIRROR_LOG ?? 70_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 16);
const NGINX = process.env.PARLEY_NGINX ?? '/usr/sbin/nginx';
if (!existsSync(NGINX)) {
  console.error(`bench/mirror.mjs: nginx is not installed at ${NGINX} (apt-get install -y nginx)`);
  process.exit(1);
}
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-mirror-'));
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));
const rows = [];
const row = (what, value, unit, limit, label) => rows.push([what, `${fmt(value)} ${unit}`, limit === undefined ? '' : `${fmt(limit)} ${unit}`, limit === undefined ? '' : `${((100 * value) / limit).toFixed(0)}%`, label]);

// --- Machine limits. -----------------------------------------------------------------
function shaRate() {
  const x = nc.randomBytes(64);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < SECONDS * 500) {
    for (let i = 0; i < 1000; i++) nc.hash('sha256', x, 'buffer');
    n += 1000;
  }
  return (n * 1000) / (performance.now() - t0);
}
const sha = shaRate();

// --- A party's node with a log of LOG entries. -----------------------------------------------
function party(id) {
  const log = generateSignerKey(`${id.toLowerCase()}.bench.parley/log`);
  const hpke = hpkeGenerateKeyPair();
  return { id, keys: { log, hpke }, party: { id, names: { en: id, 'zh-CN': id }, urls: ['http://127.0.0.1'], logKey: formatVerifierKey(verifierKeyOf(log)), hpkeKey: formatBase64(hpke.publicKey) } };
}
const us = party('US');
const cn = party('CN');
let accord = { accord: draftAccord({ name: 'bench', parties: [us.party, cn.party] }), signatures: [] };
accord = signAccord(accord, 'US', us.keys.log);
accord = signAccord(accord, 'CN', cn.keys.log);
const TEXT = 'x'.repeat(700); // ~1 KiB entries, as bench/node.mjs
const send = (node) => node.sendMessage('bench', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: TEXT });

// --- Appends with and without a mirror. ---------------------------------------------
async function appendsFigure() {
  const open = async (name) => {
    const file = join(dir, `${name}.sqlite`);
    const store = withWriterThread(SqliteStore.open(file), file);
    return { store, node: await ParleyNode.open({ accord, party: 'US', keys: us.keys, store }) };
  };
  const plain = await open('plain');
  const mirrored = await open('mirrored');
  const eager = await open('eager');
  const m1 = await MirrorPublisher.start({ node: mirrored.node, store: mirrored.store, dir: join(dir, 'mirror-appends') });
  const m2 = await MirrorPublisher.start({ node: eager.node, store: eager.store, dir: join(dir, 'mirror-eager'), intervalMs: 0 });
  const window = async (node, ms) => {
    let stop = false;
    let done = 0;
    const t0 = performance.now();
    await Promise.all([
      ...Array.from({ length: 100 }, async () => {
        while (!stop) {
          await send(node);
          done++;
        }
      }),
      new Promise((r) => setTimeout(r, ms)).then(() => (stop = true)),
    ]);
    return [done, performance.now() - t0];
  };
  for (const x of [plain, mirrored, eager]) await window(x.node, 200);
  const sums = [[0, 0], [0, 0], [0, 0]];
  for (let r = 0; r < Math.max(2, Math.round((SECONDS * 1000) / 250)); r++) {
    for (const [i, x] of [plain, mirrored, eager].entries()) {
      const [n, t] = await window(x.node, 250);
      sums[i][0] += n;
      sums[i][1] += t;
    }
  }
  await m1.sync();
  await m2.sync();
  const [a, b, c] = sums.map(([n, t]) => (n * 1000) / t);
  row('durable appends, 100 submitters, mirrored (every 250 ms)', b, 'entries/s', a, 'the same without a mirror');
  row('durable appends, 100 submitters, mirrored after every append', c, 'entries/s', a, 'the same without a mirror');
  await m1.stop();
  await m2.stop();
  for (const x of [plain, mirrored, eager]) {
    await x.node.close();
    await x.store.close();
  }
}
await appendsFigure();

const file = join(dir, 'us.sqlite');
const store = withWriterThread(SqliteStore.open(file), file);
const node = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store, maxBatch: 4096 });
process.stderr.write(`building a log of ${LOG.toLocaleString('en-US')} entries… `);
const t0 = performance.now();
let next = 0;
await Promise.all(Array.from({ length: 256 }, async () => {
  while (next++ < LOG) await send(node);
}));
process.stderr.write(`${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
const mirrorDir = join(dir, 'mirror');
const runtime = await startRuntime({ node, store, heartbeatMs: 0, federation: { enabled: false }, mirror: { dir: mirrorDir }, hardening: { metrics: 'off', publicDocs: false, hsts: false } });
const c0 = performance.now();
await runtime.mirror.caughtUp;
await runtime.mirror.sync();
const catchUp = (performance.now() - c0) / 1000;
const size = node.treeSize;

// --- nginx on the mirror (the configuration docs/operations.md shows). -----------------------------
async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const p = s.address().port;
  await new Promise((r) => s.close(r));
  return p;
}
const nginxDir = join(dir, 'nginx');
mkdirSync(join(nginxDir, 'tmp'), { recursive: true });
const nginxPort = await freePort();
writeFileSync(
  join(nginxDir, 'nginx.conf'),
  `daemon off;
master_process off;
worker_processes 1;
pid ${nginxDir}/nginx.pid;
error_log ${nginxDir}/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 100000;
    types { }
    client_body_temp_path ${nginxDir}/tmp/body;
    proxy_temp_path ${nginxDir}/tmp/proxy;
    fastcgi_temp_path ${nginxDir}/tmp/fastcgi;
    uwsgi_temp_path ${nginxDir}/tmp/uwsgi;
    scgi_temp_path ${nginxDir}/tmp/scgi;
    server {
        listen 127.0.0.1:${nginxPort};
        root ${mirrorDir};
        location ~ /\\. { return 404; }
        location = /checkpoint {
            default_type "text/plain; charset=utf-8";
            add_header Cache-Control "no-cache" always;
        }
        location = /timestamps {
            default_type application/json;
            add_header Cache-Control "no-cache" always;
        }
        location /tile/ {
            default_type application/octet-stream;
            add_header Cache-Control "public, max-age=31536000, immutable" always;
        }
        location / { return 404; }
    }
}
`,
);
const nginx = spawn(NGINX, ['-p', nginxDir, '-e', join(nginxDir, 'error.log'), '-c', join(nginxDir, 'nginx.conf')], { stdio: 'ignore' });
const nginxUrl = `http://127.0.0.1:${nginxPort}`;
for (let i = 0; ; i++) {
  try {
    await (await fetch(`${nginxUrl}/checkpoint`)).arrayBuffer();
    break;
  } catch {
    if (i > 200) throw new Error('nginx did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

// --- A trivial HTTP server: the bare request rate (8 KiB answers: a tile; /bundle: an entry bundle's size). --
const body8k = nc.randomBytes(8192);
const bundleBytes = statSync(join(mirrorDir, 'tile', 'entries', '000')).size;
const bodyBundle = nc.randomBytes(bundleBytes);
const bare = createServer((req, res) => {
  const b = req.url === '/bundle' ? bodyBundle : body8k;
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': b.length });
  res.end(b);
});
await new Promise((r) => bare.listen(0, '127.0.0.1', r));
const bareUrl = `http://127.0.0.1:${bare.address().port}`;

// --- The client (worker thread). ------------------------------------------------------
const coreUrl = new URL('../packages/core/dist/node.js', import.meta.url).href;
const clientCode = `
const { parentPort, workerData } = require('node:worker_threads');
const { Pool } = require('undici');
(async () => {
  const core = await import(${JSON.stringify(coreUrl)});
  const { connections } = workerData;
  parentPort.on('message', async (job) => {
    const seconds = job.seconds;
    const pool = new Pool(job.origin, { connections, pipelining: 1 });
    const get = async (path) => {
      const r = await pool.request({ method: 'GET', path });
      const b = new Uint8Array(await r.body.arrayBuffer());
      if (r.statusCode !== 200) throw new Error(job.origin + path + ': HTTP ' + r.statusCode);
      return b;
    };
    let proof;
    if (job.kind === 'tileproof') {
      // A verifier of a mirror: the checkpoint and upper tiles once, then per proof the entry's level-0 tile.
      const note = await get('/checkpoint');
      const lines = new TextDecoder().decode(note).split('\\n');
      const treeSize = Number(lines[1]);
      const root = core.parseBase64(lines[2]);
      const cache = new Map();
      for (const t of core.edgeTiles(treeSize)) cache.set(core.formatTilePath(t), await get('/' + core.formatTilePath(t)));
      for (let l = 1; 256 ** l <= treeSize; l++) for (let n = 0; n < core.fullTileCount(treeSize, l); n++) {
        const p = core.formatTilePath({ level: l, index: n, width: 256 });
        cache.set(p, await get('/' + p));
      }
      proof = async (i) => {
        const t0 = { level: 0, index: Math.floor(i / 256), width: i < core.fullTileCount(treeSize, 0) * 256 ? 256 : core.partialTileWidth(treeSize, 0) };
        const p0 = core.formatTilePath(t0);
        const leaf = cache.get(p0) ?? (await get('/' + p0));
        const reader = new core.TileReader(treeSize, root, (t) => { const p = core.formatTilePath(t); return p === p0 ? leaf : cache.get(p); });
        const hashes = reader.readHashes(core.inclusionProofIndexes(treeSize, i));
        return core.inclusionProofFromHashes(treeSize, i, hashes);
      };
    }
    let n = 0, stop = false;
    const t0 = performance.now();
    setTimeout(() => (stop = true), seconds * 1000);
    await Promise.all(Array.from({ length: connections }, async () => {
      while (!stop) {
        const x = job.paths[Math.floor(Math.random() * job.paths.length)];
        if (job.kind === 'tileproof') await proof(x);
        else if (job.kind === 'proof') JSON.parse(new TextDecoder().decode(await get(x)));
        else await get(x);
        n++;
      }
    }));
    const rate = (n * 1000) / (performance.now() - t0);
    await pool.close();
    parentPort.postMessage(rate);
  });
  parentPort.postMessage('ready');
})();
`;
const worker = new Worker(clientCode, { eval: true, workerData: { connections: CONNECTIONS } });
await new Promise((r) => worker.once('message', r));
worker.on('error', (e) => {
  console.error(`bench/mirror.mjs: the client failed: ${e.stack ?? e}`);
  process.exit(1);
});
const measure = (job) =>
  new Promise((resolve) => {
    worker.once('message', resolve);
    worker.postMessage(job);
  });

const pad3 = (n) => {
  let s = String(n % 1000).padStart(3, '0');
  for (n = Math.floor(n / 1000); n > 0; n = Math.floor(n / 1000)) s = `x${String(n % 1000).padStart(3, '0')}/${s}`;
  return s;
};
const fullTiles = Math.floor(size / 256);
const tilePaths = Array.from({ length: fullTiles }, (_, n) => `tile/0/${pad3(n)}`);
const bundlePaths = Array.from({ length: fullTiles }, (_, n) => `tile/entries/${pad3(n)}`);
const indexes = Array.from({ length: 4096 }, () => Math.floor(Math.random() * size));

// Machine load drifts within seconds on a shared machine: every figure is measured in
// ROUNDS short windows, interleaved with the others, and averaged.
const ROUNDS = 3;
const jobs = {
  bareRate: { origin: bareUrl, kind: 'get', paths: ['/'] },
  bareBundleRate: { origin: bareUrl, kind: 'get', paths: ['/bundle'] },
  nodeTiles: { origin: runtime.url, kind: 'get', paths: tilePaths.map((p) => `/log/${p}`) },
  nginxTiles: { origin: nginxUrl, kind: 'get', paths: tilePaths.map((p) => `/${p}`) },
  nodeBundles: { origin: runtime.url, kind: 'get', paths: bundlePaths.map((p) => `/log/${p}`) },
  nginxBundles: { origin: nginxUrl, kind: 'get', paths: bundlePaths.map((p) => `/${p}`) },
  nodeProofs: { origin: runtime.url, kind: 'proof', paths: indexes.map((i) => `/log/proof/inclusion?index=${i}&size=${size}`) },
  nginxProofs: { origin: nginxUrl, kind: 'tileproof', paths: indexes },
};
const sum = Object.fromEntries(Object.keys(jobs).map((k) => [k, 0]));
for (let r = 0; r < ROUNDS; r++) for (const [k, job] of Object.entries(jobs)) sum[k] += (await measure({ ...job, seconds: SECONDS / ROUNDS })) / ROUNDS;
const { bareRate, bareBundleRate, nodeTiles, nginxTiles, nodeBundles, nginxBundles, nodeProofs, nginxProofs } = sum;
const bundleKiB = `${Math.round(bundleBytes / 1024)} KiB`;

row('tiles (8 KiB) served by the node', nodeTiles, 'req/s', bareRate, 'bare node:http, 8 KiB answers');
row('tiles (8 KiB) served by nginx from the mirror', nginxTiles, 'req/s', bareRate, 'bare node:http, 8 KiB answers');
row(`entry bundles (${bundleKiB}) served by the node`, nodeBundles, 'req/s', bareBundleRate, `bare node:http, ${bundleKiB} answers`);
row(`entry bundles (${bundleKiB}) served by nginx`, nginxBundles, 'req/s', bareBundleRate, `bare node:http, ${bundleKiB} answers`);
row('inclusion proofs from the node (/log/proof/inclusion)', nodeProofs, 'proofs/s', bareRate, 'bare node:http, 8 KiB answers');
row('inclusion proofs from nginx (client: tile + verify + prove)', nginxProofs, 'proofs/s', sha / 256, 'SHA-256 ÷ 256 (a tile\'s check is 255 hashes)');

worker.terminate();
nginx.kill('SIGTERM');
bare.close();
await runtime.stop();
await node.close();
await store.close();

console.log(`limits: SHA-256 ${fmt(sha)} hashes/s (64 B, one core) · bare HTTP ${fmt(bareRate)} req/s (node:http, 8 KiB) and ${fmt(bareBundleRate)} req/s (${bundleKiB}), ${CONNECTIONS} keep-alive connections · ${(await import('node:os')).cpus().length} cores`);
console.log(`static mirror: log of ${size.toLocaleString('en-US')} entries, catch-up of an empty directory ${catchUp.toFixed(1)} s\n`);
const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(`${r[0].padEnd(widths[0])}  ${r[1].padStart(widths[1])}  ${r[2].padStart(widths[2])}  ${r[3].padStart(widths[3])}  ${r[4]}`);
rmSync(dir, { recursive: true, force: true });
