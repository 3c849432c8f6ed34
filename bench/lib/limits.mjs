/**
 * The machine's own limits, measured in the run whose figures they stand
 * beside (`npm run soak`): what one core does with node:crypto (SHA-256 and
 * Ed25519 over 1 KiB, the work behind every entry), what the disk does (1 KiB
 * write + fdatasync, the work behind every durable commit), and what a bare
 * HTTP round trip on loopback costs (a node:http server in its own process
 * answering 204, called with the same fetch the harness uses for the nodes).
 */
import { spawn } from 'node:child_process';
import * as nc from 'node:crypto';
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Calls `fn` in batches for `ms`; returns calls per second. */
function syncRate(fn, ms, batch = 50) {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
  }
  return (n * 1000) / (performance.now() - start);
}

/** Nearest-rank percentile of sorted numbers. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** p50/p90/p99/max of a list of milliseconds. */
export function spread(ms) {
  const s = [...ms].sort((a, b) => a - b);
  const r = (x) => (x === undefined ? undefined : Math.round(x * 10) / 10);
  return { n: s.length, p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s[s.length - 1]) };
}

/** Sequential loopback round trips to a bare node:http server in a child process. */
async function bareHttp(count) {
  const child = spawn(
    process.execPath,
    ['-e', "const s=require('node:http').createServer((q,r)=>{q.resume();q.on('end',()=>r.writeHead(204).end())});s.listen(0,'127.0.0.1',()=>console.log(s.address().port))"],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const port = await new Promise((done, fail) => {
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d) => {
        out += d;
        if (out.includes('\n')) done(Number(out.trim()));
      });
      child.once('exit', () => fail(new Error('the bare HTTP server exited')));
    });
    const url = `http://127.0.0.1:${port}/`;
    for (let i = 0; i < 50; i++) await (await fetch(url)).arrayBuffer(); // warm-up
    const times = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await (await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"text":"ping"}' })).arrayBuffer();
      times.push(performance.now() - t0);
    }
    return spread(times);
  } finally {
    child.kill('SIGKILL');
  }
}

/**
 * @param o.dir   a directory on the disk the nodes use (a scratch file is written and removed)
 * @param o.ms    each timed window (default 500)
 * @returns rates per second on one core, fdatasync'd 1 KiB writes per second, bare HTTP round trip spread (ms)
 */
export async function machineLimits(o) {
  const ms = o.ms ?? 500;
  const kib = nc.randomBytes(1024);
  const sha256 = syncRate(() => nc.createHash('sha256').update(kib).digest(), ms);
  const { privateKey, publicKey } = nc.generateKeyPairSync('ed25519');
  const sig = nc.sign(null, kib, privateKey);
  const ed25519Sign = syncRate(() => nc.sign(null, kib, privateKey), ms);
  const ed25519Verify = syncRate(() => nc.verify(null, kib, publicKey, sig), ms);
  const file = join(o.dir, 'limits-fsync.bin');
  const fd = openSync(file, 'w');
  let pos = 0;
  const fsync = syncRate(() => (writeSync(fd, kib, 0, kib.length, pos), (pos += kib.length), fdatasyncSync(fd)), ms, 5);
  closeSync(fd);
  rmSync(file, { force: true });
  const http = await bareHttp(o.httpCount ?? 500);
  return { sha256PerSec: Math.round(sha256), ed25519SignPerSec: Math.round(ed25519Sign), ed25519VerifyPerSec: Math.round(ed25519Verify), fsyncPerSec: Math.round(fsync), bareHttpMs: http };
}
