/**
 * The conditional append (issue 14), with REAL processes: two child
 * processes, each its own connection and LogWriter, append to ONE store at
 * once — a SQLite file, and a PostgreSQL database — and in a second round
 * one of them is killed with SIGKILL mid-burst. The conditional append
 * (size and prevRoot) is what keeps them from forking the log: every batch
 * built on a stale tree is refused with STORE_CONFLICT and retried.
 *
 * After each run: the log verifies (checkLog: every leaf, the root, proofs);
 * every acknowledged entry is in the log at its index with its leaf hash; no
 * index was acknowledged twice; and (no crash) the log holds exactly the
 * acknowledged entries.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { formatBase64 } from '@parley/core';
import { SqliteStore } from '../src/sqlite/store.js';
import { PgStore } from '../src/postgres/store.js';
import type { LogStore } from '../src/types.js';
import { checkLog, tempDir } from './helpers.js';
import { freshPgUrl } from './pg.js';

const CHILD = fileURLToPath(new URL('./fixtures/race-child.ts', import.meta.url));
const tmp = tempDir('parley-race-');
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const d of drops) await d();
  tmp.cleanup();
});

interface Run {
  readonly child: ChildProcess;
  readonly acks: Map<number, string>;
  conflicts: number;
  readonly exited: Promise<number | null>;
  readonly ready: Promise<void>;
  dupes: number;
}

function start(spec: string, tag: string, count: number): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, spec, tag, String(count)], { stdio: ['ignore', 'pipe', 'pipe'] });
  let onReady!: () => void;
  const run: Run = {
    child,
    acks: new Map(),
    conflicts: 0,
    dupes: 0,
    ready: new Promise((r) => (onReady = r)),
    exited: new Promise((r) => child.on('exit', (code) => r(code))),
  };
  let buf = '';
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  child.on('exit', (code, sig) => {
    if (code !== 0 && sig !== 'SIGKILL') console.error(`race child ${tag} exited ${code}: ${err}`);
  });
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.startsWith('ready')) onReady();
      else if (line === 'conflict') run.conflicts++;
      else if (line.startsWith('ack ')) {
        const [, idx, hash] = line.split(' ');
        if (run.acks.has(Number(idx))) run.dupes++;
        run.acks.set(Number(idx), hash!);
      }
    }
  });
  return run;
}

async function verify(store: LogStore, runs: readonly Run[], crashed: boolean): Promise<void> {
  const { leaves } = await checkLog(store);
  const all = new Map<number, string>();
  for (const r of runs) {
    expect(r.dupes).toBe(0);
    for (const [idx, hash] of r.acks) {
      expect(all.has(idx), `index ${idx} acknowledged to both writers`).toBe(false);
      all.set(idx, hash);
    }
  }
  for (const [idx, hash] of all) {
    expect(idx).toBeLessThan(leaves.length);
    expect(formatBase64(leaves[idx]!), `acknowledged entry ${idx}`).toBe(hash);
  }
  // Without a crash every stored entry was acknowledged; a killed writer may have committed a batch it never reported.
  if (!crashed) expect(leaves.length).toBe(all.size);
  else expect(leaves.length).toBeGreaterThanOrEqual(all.size);
}

const backends: [string, () => Promise<{ spec: string; open(): Promise<LogStore> }>][] = [
  [
    'SQLite file',
    async () => {
      const spec = join(tmp.dir, `race-${Math.random().toString(36).slice(2)}.sqlite`);
      SqliteStore.open(spec).close(); // created and migrated once, before the race
      return { spec, open: async () => SqliteStore.open(spec) };
    },
  ],
  [
    'PostgreSQL',
    async () => {
      const db = await freshPgUrl();
      drops.push(db.drop);
      await (await PgStore.open(db.url)).close();
      return { spec: db.url, open: () => PgStore.open(db.url) };
    },
  ],
];

describe.each(backends)('two appending processes on one store: %s', (_name, make) => {
  it('never fork the log: each batch lands on the tree it was built on or is refused, and every acknowledged entry is kept', async () => {
    const { spec, open } = await make();
    const runs = [start(spec, 'a', 300), start(spec, 'b', 300)];
    const codes = await Promise.all(runs.map((r) => r.exited));
    expect(codes).toEqual([0, 0]);
    expect(runs.map((r) => r.acks.size)).toEqual([300, 300]);
    // The race was real: batches built on a tree the other process had already extended were refused.
    expect(runs[0]!.conflicts + runs[1]!.conflicts).toBeGreaterThan(0);
    const store = await open();
    await verify(store, runs, false);
    expect(await store.treeSize()).toBe(600);
    await store.close();
  });

  it('keep every acknowledged entry when one writer is killed -9 mid-burst', async () => {
    const { spec, open } = await make();
    const runs = [start(spec, 'a', 400), start(spec, 'b', 400)];
    await Promise.all(runs.map((r) => r.ready));
    while (runs[0]!.acks.size < 60) await new Promise((r) => setTimeout(r, 5));
    runs[0]!.child.kill('SIGKILL');
    const codes = await Promise.all(runs.map((r) => r.exited));
    expect(codes[1]).toBe(0);
    const store = await open();
    await verify(store, runs, true);
    await store.close();
  });
});
