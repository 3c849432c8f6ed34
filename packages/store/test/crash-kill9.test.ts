/**
 * kill -9 at random moments (STYLE.md §12): a child process appends
 * concurrently through the real SqliteStore + LogWriter (every other round
 * with asynchronous prepares, as the node's signing threads make them) and prints every
 * acknowledged index; the parent SIGKILLs it, many times on the same file,
 * and after each kill reopens and checks that
 * - every printed (acknowledged) index is stored with the leaf hash printed;
 * - the tree is consistent: the root from the stored entries and hashes is
 *   the latest checkpoint's, consistency proofs from every earlier round's
 *   checkpoint verify, and a writer opens (it checks root = checkpoint);
 * - the log only grew: the previous round's leaves are an unchanged prefix.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesEqual, formatBase64, type Hash } from '@parley/core';
import { SqliteStore } from '../src/sqlite/store.js';
import { LogWriter } from '../src/writer.js';
import { checkLog, meta, ORIGIN, signTestCheckpoint, tempDir } from './helpers.js';

const CHILD = fileURLToPath(new URL('./fixtures/crash-child.ts', import.meta.url));
const ROUNDS = 24;
const tmp = tempDir('parley-kill9-');
afterAll(() => tmp.cleanup());

/**
 * Runs the child, SIGKILLs it `killAfterMs` after it is ready (or after it was
 * spawned, when `fromSpawn`: then the kill may land while it opens the store),
 * and returns what it printed.
 */
function runAndKill(path: string, tag: string, killAfterMs: number, fromSpawn = false, mode: 'sync' | 'async' = 'sync'): Promise<{ ready: number | undefined; acked: Map<number, string> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path, tag, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let timer: NodeJS.Timeout | undefined = fromSpawn ? setTimeout(() => child.kill('SIGKILL'), killAfterMs) : undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (timer === undefined && out.includes('\n')) timer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`child exited with ${code}/${signal}: ${err}`));
      const lines = out.split('\n');
      lines.pop(); // a line cut by the kill has no newline: never acknowledged
      const [first, ...rest] = lines;
      const m = /^ready (\d+)$/.exec(first ?? '');
      if (!m) {
        if (fromSpawn && out === '') return resolve({ ready: undefined, acked: new Map() });
        return reject(new Error(`child did not start: ${out.slice(0, 200)} ${err}`));
      }
      const acked = new Map<number, string>();
      for (const l of rest) {
        const [i, h] = l.split(' ');
        acked.set(Number(i), h!);
      }
      resolve({ ready: Number(m[1]), acked });
    });
  });
}

describe('kill -9 during concurrent appends (real SQLite, separate process)', () => {
  it(`loses no acknowledged entry and never forks, over ${ROUNDS} kills`, { timeout: 120_000 }, async () => {
    const path = join(tmp.dir, 'crash.sqlite');
    let prevLeaves: Hash[] = [];
    const earlier: Uint8Array[] = [];
    let totalAcked = 0;
    const sizes: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Random moments: while the child loads and opens the store, in its first
      // batches, and up to ~0.5 s into steady appending.
      const fromSpawn = round % 6 === 5;
      const delay = fromSpawn ? 250 + Math.floor(Math.random() * 150) : round % 3 === 0 ? Math.floor(Math.random() * 10) : 20 + Math.floor(Math.random() * 480);
      const { ready, acked } = await runAndKill(path, `round${round}`, delay, fromSpawn, round % 2 === 1 ? 'async' : 'sync');
      if (ready !== undefined) expect(ready, `round ${round} reopened at the size the last round left`).toBe(prevLeaves.length);
      totalAcked += acked.size;

      const store = SqliteStore.open(path);
      const size = await store.treeSize();
      for (const [index, hash] of acked) {
        const e = await store.entry(index);
        expect(e, `acknowledged ${index} in round ${round}`).toBeDefined();
        expect(formatBase64(e!.leafHash)).toBe(hash);
      }
      const { leaves } = await checkLog(store, earlier);
      expect(leaves.length).toBeGreaterThanOrEqual(prevLeaves.length);
      prevLeaves.forEach((h, i) => {
        if (!bytesEqual(h, leaves[i]!)) expect.fail(`leaf ${i} changed in round ${round}`);
      });
      sizes.push(size);
      const writer = await LogWriter.open(store, { origin: ORIGIN, signCheckpoint: signTestCheckpoint });
      expect(writer.size).toBe(size);
      await writer.close();
      const latest = await store.latestCheckpoint();
      if (latest) earlier.push(latest);
      prevLeaves = leaves;
      await store.close();
    }
    console.log(`kill -9 rounds: sizes ${sizes.join(' ')}; ${totalAcked} acknowledged`);
    // The rounds did real work and the last one still appends.
    expect(totalAcked).toBeGreaterThan(ROUNDS);
    const store = SqliteStore.open(path);
    const writer = await LogWriter.open(store, { origin: ORIGIN, signCheckpoint: signTestCheckpoint });
    const r = await writer.append((index) => ({ bytes: new TextEncoder().encode(`final ${index}`), meta: meta() }));
    expect(r.index).toBe(prevLeaves.length);
    await checkLog(store, earlier);
    await writer.close();
    await store.close();
  });
});
