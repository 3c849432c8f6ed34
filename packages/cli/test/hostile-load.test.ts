/**
 * Hostile uploads against a real `parley serve` process (issue 9, "Hostile
 * input and load"). Memory is the node process's own, read from
 * /proc/<pid>/status: VmHWM (peak resident set, reset before each flood)
 * against VmRSS before.
 *
 *   1. 40 concurrent unsigned 16 MiB pushes (POST /fed/v1/bundle): each is
 *      refused 401 before its body is read; the node's peak RSS grows by
 *      less than 150 MiB (it grew by ~520 MiB when every body was read
 *      before the signature was looked at) and it still answers.
 *   2. 100 stalled pushes with a plausible (unverifiable) header: at most
 *      4 hold a slot, the others are refused at once (429/503 with
 *      Retry-After), the node answers meanwhile, the stalled ones are cut
 *      off after the upload timeout (1 s here), and the peak RSS grows by
 *      less than 150 MiB (1.3 GiB before).
 *   3. A body over the limit sent by `parley send` is reported as 413 with
 *      the limit, not as "node unreachable".
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanEnv, foundChannel, parleyIn } from './helpers/channel.js';
import { type Served, serve } from './helpers/serve.js';

const MiB = 1024 * 1024;
let tmp = '';
let node: Served;

/** Resets the peak resident set of `pid` (VmHWM) to its current one (proc(5): clear_refs, "5"). */
function resetPeak(pid: number): void {
  writeFileSync(`/proc/${pid}/clear_refs`, '5');
}

/** A field of /proc/<pid>/status in MiB (VmRSS, VmHWM). */
function memOf(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no ${field} for ${pid}`);
  return Number(m[1]) / 1024;
}

interface Upload {
  /** The status line's code, when an answer came. */
  status?: number;
  /** Everything the server sent. */
  answer: string;
  /** Bytes of body written before the connection ended. */
  sent: number;
  /** Milliseconds from connecting to the answer's first byte (or to the close, without one). */
  ms: number;
}

/**
 * A raw HTTP/1.1 upload of `length` body bytes (all of them, or `stallAfter`
 * then nothing more). Resolves when the server answered and closed, or when
 * the connection ended; `stalled` uploads resolve when the server closes them.
 */
function upload(url: string, o: { path: string; length: number; headers?: Record<string, string>; stallAfter?: number; onStalled?: () => void }): Promise<Upload> {
  const { hostname, port } = new URL(url);
  const chunk = Buffer.alloc(MiB, 0x61);
  return new Promise((done) => {
    const r: Upload = { answer: '', sent: 0, ms: 0 };
    const t0 = Date.now();
    const sock = connect(Number(port), hostname);
    const finish = () => {
      const m = /^HTTP\/1\.1 (\d{3})/.exec(r.answer);
      if (m) r.status = Number(m[1]);
      if (r.ms === 0) r.ms = Date.now() - t0;
      done(r);
    };
    sock.on('data', (d: Buffer) => {
      if (r.ms === 0) r.ms = Date.now() - t0;
      r.answer += d.toString('latin1');
      // Stop sending once answered.
      if (r.answer.includes('\r\n\r\n')) sock.end();
    });
    sock.on('error', () => {});
    sock.on('close', finish);
    sock.on('connect', () => {
      const head = [`POST ${o.path} HTTP/1.1`, `Host: ${hostname}:${port}`, 'Content-Type: application/octet-stream', `Content-Length: ${o.length}`, ...Object.entries(o.headers ?? {}).map(([k, v]) => `${k}: ${v}`), '', ''];
      sock.write(head.join('\r\n'));
      const limit = Math.min(o.length, o.stallAfter ?? o.length);
      const pump = () => {
        while (r.sent < limit && !sock.destroyed && !sock.writableEnded) {
          const n = Math.min(chunk.length, limit - r.sent);
          r.sent += n;
          if (!sock.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            sock.once('drain', pump);
            return;
          }
        }
        if (r.sent >= limit && o.stallAfter !== undefined) o.onStalled?.();
      };
      pump();
    });
  });
}

/** A Parley-Signature header that parses and is fresh, from CN — whose signature nobody can verify before the body. */
function plausibleHeader(): string {
  const nonce = randomBytes(16).toString('base64url');
  const sig = randomBytes(64).toString('base64');
  return `party=CN, created=${Math.floor(Date.now() / 1000)}, nonce=${nonce}, sig=${sig}`;
}


async function healthy(url: string): Promise<boolean> {
  const res = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) });
  return res.status === 200;
}

beforeAll(async () => {
  tmp = foundChannel('parley-hostile-');
  node = await serve('us', { cwd: tmp, env: cleanEnv(), extra: ['--no-federation', '--no-heartbeat', '--no-web', '--upload-timeout', '1'] });
}, 120_000);

afterAll(() => {
  if (node?.child.exitCode === null) node.child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

describe('uploads from strangers do not grow the node', () => {
  it('40 concurrent unsigned 16 MiB pushes are refused before their bodies; peak RSS grows < 150 MiB', async () => {
    const pid = node.child.pid!;
    resetPeak(pid);
    const before = memOf(pid, 'VmRSS');
    const all = await Promise.all(Array.from({ length: 40 }, () => upload(node.url, { path: '/fed/v1/bundle', length: 16 * MiB })));
    expect(all.every((u) => u.status === 401), JSON.stringify(all.map((u) => u.status))).toBe(true);
    expect(all[0]!.answer).toContain('request-unauthenticated');
    const growth = memOf(pid, 'VmHWM') - before;
    process.stderr.write(`40 unsigned 16 MiB pushes: peak RSS ${before.toFixed(0)} → +${growth.toFixed(0)} MiB\n`);
    expect(growth, `peak RSS grew by ${growth.toFixed(0)} MiB`).toBeLessThan(150);
    expect(await healthy(node.url)).toBe(true);
  }, 120_000);

  it('100 stalled pushes: at most 4 in flight, the rest refused at once, the stalled cut off; peak RSS grows < 150 MiB', async () => {
    const pid = node.child.pid!;
    resetPeak(pid);
    const before = memOf(pid, 'VmRSS');
    let stalled = 0;
    const all = Array.from({ length: 100 }, () =>
      upload(node.url, { path: '/fed/v1/bundle', length: 16 * MiB, stallAfter: 12 * MiB, headers: { 'Parley-Signature': plausibleHeader() }, onStalled: () => stalled++ }),
    );
    // While they stall, the node answers.
    expect(await healthy(node.url)).toBe(true);
    const done = await Promise.all(all);
    const refused = done.filter((u) => u.status === 429 || u.status === 503);
    const cut = done.filter((u) => u.status === undefined);
    expect(refused.length + cut.length, JSON.stringify(done.map((u) => u.status))).toBe(100);
    // CN's 2 slots, each taken again by a later arrival once the timeout freed it (opening 100 connections takes a while).
    expect(cut.length).toBeGreaterThan(0);
    expect(cut.length).toBeLessThanOrEqual(10);
    for (const u of refused) expect(u.answer).toMatch(/retry-after: \d+/i);
    // Every one claims CN: CN's 2 slots are the limit here (the total, 4, bounds several peers).
    for (const u of refused) expect(u.answer).toContain('too-many-uploads');
    expect(refused.length).toBeGreaterThanOrEqual(90);
    // The stalled ones held their slots until the 1 s upload timeout cut them off.
    for (const u of cut) expect(u.ms).toBeGreaterThanOrEqual(900);
    const growth = memOf(pid, 'VmHWM') - before;
    process.stderr.write(`100 stalled pushes: ${refused.length} refused, ${cut.length} cut off, peak RSS ${before.toFixed(0)} → +${growth.toFixed(0)} MiB\n`);
    expect(growth, `peak RSS grew by ${growth.toFixed(0)} MiB (${stalled} stalled)`).toBeLessThan(150);
    expect(await healthy(node.url)).toBe(true);
  }, 120_000);
});

describe('parley send over the body limit', () => {
  it('reports 413 INPUT_TOO_LARGE with the limit, not "node unreachable"', async () => {
    expect(parleyIn(tmp, ['login', '--name', 'alice', '--password-file', 'pw', '--url', node.url, '--data', 'us']).code).toBe(0);
    for (const size of [2 * MiB, 12 * MiB]) {
      writeFileSync(join(tmp, 'big.txt'), 'x'.repeat(size));
      const r = parleyIn(tmp, ['send', '--precedence', 'ROUTINE', '--to', 'CN', '-', '--data', 'us'], { stdinFile: join(tmp, 'big.txt') });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('INPUT_TOO_LARGE');
      expect(r.stderr).toContain('HTTP 413');
      expect(r.stderr).toContain(String(MiB)); // the limit, 1048576 bytes
      expect(r.stderr).not.toContain('cannot reach');
    }
    expect(await healthy(node.url)).toBe(true);
  }, 120_000);
});
