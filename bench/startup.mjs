#!/usr/bin/env node
/**
 * CLI start-up benchmark (`npm run bench`). Each command runs as a real
 * process, BENCH_STARTUP_RUNS times (default 15), the commands taking turns
 * so load on the machine falls on all of them alike; each is printed beside
 * `node -e 0` measured in the same run (the ratio is what to read on a noisy
 * machine). It asserts nothing (test/startup.test.ts checks the mechanism).
 *
 *   node -e 0                          bare Node: the floor
 *   parley --help                      every command listed, none loaded
 *   parley log verify-inclusion        a real proof (index 123 of a 1,000-leaf tree) checked: exit 0
 *   parley inbox                       against a real node started here (`parley serve`), logged in: the whole request
 *   parley status / outbox             the same node, when this build has those commands
 *   parley serve --help                the node's command, not the node
 *   npx parley --help                  through npm (`npx` from the repository)
 *
 * Start-up is what a person waits for before the command does its work; the
 * figures include the work, which for these commands is small.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MemoryTree, formatHex, leafHash, proveInclusion } from '../packages/core/dist/node.js';

const RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 15);
const REPO = resolve(fileURLToPath(new URL('..', import.meta.url)));
const BIN = join(REPO, 'packages/cli/bin/parley.js');
const dir = mkdtempSync(join(tmpdir(), 'parley-bench-startup-'));
const at = (...p) => join(dir, ...p);
const PASSPHRASE = 'a passphrase for the start-up bench';
const env = { ...process.env, PARLEY_PASSPHRASE: PASSPHRASE, npm_config_offline: 'true' };
for (const k of ['PARLEY_DATA', 'PARLEY_URL', 'PARLEY_TOKEN', 'PARLEY_WEBHOOK']) delete env[k];

function parley(args) {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: dir, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`parley ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return r.stdout;
}

// --- A real proof. ------------------------------------------------------------
const tree = new MemoryTree();
for (let i = 0; i < 1000; i++) tree.appendData(new TextEncoder().encode(`entry ${i}`));
const proof = proveInclusion(1000, 123, tree);
writeFileSync(at('proof'), proof.map((h) => `${formatHex(h)}\n`).join(''));
const inclusion = ['log', 'verify-inclusion', '--leaf-hash', formatHex(leafHash(new TextEncoder().encode('entry 123'))), '--index', '123', '--size', '1000', '--root', formatHex(tree.root()), '--proof', at('proof')];

// --- A real node, logged in. -----------------------------------------------------
writeFileSync(at('pw'), 'a-bench-officer-password\n');
parley(['init', '--party', 'US', '--origin', 'us.bench.parley/log', '--data', 'us', '--admin', 'alice', '--admin-password-file', 'pw']);
parley(['init', '--party', 'CN', '--origin', 'cn.bench.parley/log', '--data', 'cn']);
parley(['accord', 'init', '--name', 'startup-bench', '--party-file', 'us/party.json', '--party-file', 'cn/party.json', '--out', 'accord.json']);
for (const p of ['us', 'cn']) parley(['accord', 'sign', 'accord.json', '--data', p]);
parley(['accord', 'install', 'accord.json', '--data', 'us']);
const node = spawn(process.execPath, [BIN, 'serve', '--data', 'us', '--port', '0', '--json', '--no-federation', '--no-heartbeat', '--no-web'], { cwd: dir, env, stdio: ['ignore', 'pipe', 'ignore'] });
const url = await new Promise((done, fail) => {
  let out = '';
  node.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    if (out.includes('\n')) done(JSON.parse(out.split('\n')[0]).url);
  });
  node.on('exit', (code) => fail(new Error(`parley serve exited ${code}`)));
});
parley(['login', '--data', 'us', '--url', url, '--name', 'alice', '--password-file', 'pw']);

// --- The commands. ------------------------------------------------------------------
const has = (command) => existsSync(join(REPO, `packages/cli/dist/commands/${command}.js`));
const cases = [
  { name: 'node -e 0', cmd: process.execPath, args: ['-e', '0'] },
  { name: 'parley --help', args: ['--help'] },
  { name: 'parley log verify-inclusion', args: inclusion },
  { name: 'parley inbox (running node)', args: ['inbox', '--data', 'us'] },
  ...(has('status') ? [{ name: 'parley status (running node)', args: ['status', '--data', 'us'], anyExit: true }] : []),
  ...(has('outbox') ? [{ name: 'parley outbox (running node)', args: ['outbox', '--data', 'us'], anyExit: true }] : []),
  { name: 'parley serve --help', args: ['serve', '--help'] },
  { name: 'npx parley --help', cmd: 'npx', args: ['parley', '--help'], cwd: REPO },
];
const times = new Map(cases.map((c) => [c.name, []]));
for (let run = 0; run < RUNS; run++) {
  for (const c of cases) {
    const t0 = performance.now();
    const r = spawnSync(c.cmd ?? process.execPath, c.cmd ? c.args : [BIN, ...c.args], { cwd: c.cwd ?? dir, env, encoding: 'utf8' });
    const ms = performance.now() - t0;
    if (r.error) throw r.error;
    if (r.status !== 0 && !c.anyExit) throw new Error(`${c.name} exited ${r.status}: ${r.stderr}`);
    times.get(c.name).push(ms);
  }
}
node.kill('SIGTERM');
await new Promise((done) => node.on('exit', done));
rmSync(dir, { recursive: true, force: true });

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
};
const base = quantile(times.get('node -e 0'), 0.5);
const s = (ms) => `${(ms / 1000).toFixed(3)} s`;
console.log(`\nCLI start-up: ${RUNS} runs each, wall time per process (median, p90), beside node -e 0`);
console.log(`${'command'.padEnd(32)}${'median'.padStart(10)}${'p90'.padStart(10)}${'× node -e 0'.padStart(14)}`);
for (const c of cases) {
  const xs = times.get(c.name);
  const med = quantile(xs, 0.5);
  console.log(`${c.name.padEnd(32)}${s(med).padStart(10)}${s(quantile(xs, 0.9)).padStart(10)}${`${(med / base).toFixed(1)}×`.padStart(14)}`);
}
