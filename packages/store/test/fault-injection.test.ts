/**
 * Crash safety by fault injection at every write step (STYLE.md §12), with
 * the REAL better-sqlite3 driver on temp files.
 *
 * Two kinds of fault, table-driven:
 * - around the store call (faultyStore.ts): `before` = failed and not
 *   persisted, `after` = the transaction committed but the caller saw an error;
 * - inside the transaction, at each statement of the commit order written in
 *   sqlite/store.ts (entries, entry_to, entry_refs, hashes, checkpoints): a
 *   trigger created by a second connection makes that very INSERT fail, so
 *   SQLite rolls the transaction back mid-way.
 *
 * Each case appends in waves (one wave = one batch), fails the second wave,
 * lets the same writer go on, then "restarts": a fresh SqliteStore +
 * LogWriter on the same file. After that, every acknowledged entry is there
 * with its bytes; the root from the stored hashes equals the latest
 * checkpoint's; a new append works; consistency proofs from every earlier
 * checkpoint verify; and no index was ever handed out twice for stored data.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeUtf8, formatBase64, storedHashCount } from '@parley/core';
import { SqliteStore } from '../src/sqlite/store.js';
import { LogWriter, type Prepared } from '../src/writer.js';
import { type Fault, faultyStore } from './faultyStore.js';
import { checkLog, meta, ORIGIN, signTestCheckpoint, tempDir } from './helpers.js';

const tmp = tempDir('parley-faults-');
afterAll(() => tmp.cleanup());

const WAVE = 12;
type Outcome = 'ok' | 'fail';

interface Case {
  readonly name: string;
  /** Wrapper faults armed before wave 2 (call numbers count from there). */
  readonly faults?: readonly Fault[];
  /** SQL run by a second connection before wave 2 (a failing trigger), undone after it. */
  readonly trigger?: { readonly create: string; readonly drop: string };
  /** Whether the failed wave 2 is in the log afterwards. */
  readonly persisted: boolean;
  /** Outcome of waves 1..4. */
  readonly waves: readonly Outcome[];
}

// Wave 1 is entries [0, 12), so wave 2 starts at index 12 and stored index storedHashCount(12).
const W2 = WAVE;
const H2 = storedHashCount(WAVE);
const trig = (table: string, when: string) => ({
  create: `CREATE TRIGGER inject_fault BEFORE INSERT ON ${table} WHEN ${when} BEGIN SELECT RAISE(ABORT, 'injected fault'); END`,
  drop: 'DROP TRIGGER inject_fault',
});

const CASES: readonly Case[] = [
  { name: 'appendBatch fails before the transaction (not persisted)', faults: [{ method: 'appendBatch', call: 1, when: 'before' }], persisted: false, waves: ['ok', 'fail', 'ok', 'ok'] },
  { name: 'appendBatch fails after COMMIT (persisted, caller saw an error)', faults: [{ method: 'appendBatch', call: 1, when: 'after' }], persisted: true, waves: ['ok', 'fail', 'ok', 'ok'] },
  {
    name: 'persisted failure, then the resync read fails too (writer stays stale one more batch)',
    faults: [{ method: 'appendBatch', call: 1, when: 'after' }, { method: 'treeSize', call: 1, when: 'before' }],
    persisted: true,
    waves: ['ok', 'fail', 'fail', 'ok'],
  },
  {
    name: 'persisted failure, then the frontier read fails during resync',
    faults: [{ method: 'appendBatch', call: 1, when: 'after' }, { method: 'readHashes', call: 1, when: 'before' }],
    persisted: true,
    waves: ['ok', 'fail', 'fail', 'ok'],
  },
  { name: 'statement fails mid-transaction: first entry row', trigger: trig('entries', `NEW.idx = ${W2}`), persisted: false, waves: ['ok', 'fail', 'ok', 'ok'] },
  { name: 'statement fails mid-transaction: a later entry row', trigger: trig('entries', `NEW.idx = ${W2 + 7}`), persisted: false, waves: ['ok', 'fail', 'ok', 'ok'] },
  { name: 'statement fails mid-transaction: recipient row', trigger: trig('entry_to', `NEW.idx = ${W2 + 3}`), persisted: false, waves: ['ok', 'fail', 'ok', 'ok'] },
  { name: 'statement fails mid-transaction: ref row', trigger: trig('entry_refs', `NEW.idx = ${W2 + 5}`), persisted: false, waves: ['ok', 'fail', 'ok', 'ok'] },
  { name: 'statement fails mid-transaction: first stored hash', trigger: trig('hashes', `NEW.idx = ${H2}`), persisted: false, waves: ['ok', 'fail', 'ok', 'ok'] },
  { name: 'statement fails mid-transaction: an interior node hash', trigger: trig('hashes', `NEW.idx = ${H2 + 9}`), persisted: false, waves: ['ok', 'fail', 'ok', 'ok'] },
  { name: 'statement fails mid-transaction: checkpoint (last before COMMIT)', trigger: trig('checkpoints', 'NEW.tree_size > 12'), persisted: false, waves: ['ok', 'fail', 'ok', 'ok'] },
];

describe('fault injection at every write step (real SQLite)', () => {
  CASES.forEach((c, caseNo) => {
    it(c.name, async () => {
      const path = join(tmp.dir, `case-${caseNo}.sqlite`);
      /** Every prepare call, in order: the last one per index is what may be stored there. */
      const prepared: { index: number; bytes: Uint8Array }[] = [];
      const acked = new Map<number, Uint8Array>();
      const checkpoints: Uint8Array[] = [];
      const prepare = (tag: string) => (index: number, time: Date): Prepared => {
        const bytes = encodeUtf8(JSON.stringify({ seq: index, tag, time: time.toISOString() }));
        prepared.push({ index, bytes });
        return { bytes, meta: meta({ to: ['CN', 'UK'], refs: [{ party: 'CN', index, hash: formatBase64(new Uint8Array(32)) }] }) };
      };

      const real = SqliteStore.open(path);
      const faulty = faultyStore(real);
      const writer = await LogWriter.open(faulty.store, { origin: ORIGIN, signCheckpoint: signTestCheckpoint });
      for (const [w, want] of c.waves.entries()) {
        if (w === 1) {
          faulty.arm(c.faults ?? []);
          if (c.trigger) withSecondConnection(path, c.trigger.create);
        }
        const settled = await Promise.allSettled(Array.from({ length: WAVE }, (_, k) => writer.append(prepare(`w${w}.${k}`))));
        if (w === 1 && c.trigger) withSecondConnection(path, c.trigger.drop);
        for (const s of settled) {
          expect(s.status, `wave ${w + 1}`).toBe(want === 'ok' ? 'fulfilled' : 'rejected');
          if (s.status === 'fulfilled') {
            acked.set(s.value.index, lastPrepared(prepared, s.value.index).bytes);
            checkpoints.push(s.value.checkpoint);
          } else {
            expect(s.reason).toHaveProperty('code');
          }
        }
      }
      expect(faulty.fired.length).toBe(c.faults?.length ?? 0);
      await writer.close();
      await real.close();

      // Restart: a fresh store and writer on the same file.
      const store = SqliteStore.open(path);
      const w2 = await LogWriter.open(store, { origin: ORIGIN, signCheckpoint: signTestCheckpoint });
      const size = await store.treeSize();
      const okWaves = c.waves.filter((x) => x === 'ok').length;
      expect(size).toBe((okWaves + (c.persisted ? 1 : 0)) * WAVE);
      for (const [index, bytes] of acked) expect((await store.entry(index))?.bytes, `acknowledged ${index}`).toEqual(bytes);
      // No index reused: what is stored at each index is the LAST thing prepared for it.
      for (const e of await store.entries(0, size)) expect(e.bytes).toEqual(lastPrepared(prepared, e.index).bytes);
      const before = await checkLog(store, checkpoints);
      const latestBefore = (await store.latestCheckpoint())!;
      const next = await w2.append(prepare('after-restart'));
      expect(next.index).toBe(size);
      const after = await checkLog(store, [...checkpoints, latestBefore]);
      expect(after.leaves.slice(0, size)).toEqual(before.leaves); // the log only grew
      await w2.close();
      await store.close();
    });
  });

  it('ingest is atomic per call when a row fails mid-transaction', async () => {
    const path = join(tmp.dir, 'ingest.sqlite');
    const store = SqliteStore.open(path);
    const rec = (i: number) => ({
      party: 'CN',
      index: i,
      leafHash: new Uint8Array(32).fill(i),
      bytes: encodeUtf8(`cn ${i}`),
      meta: meta({ from: 'CN', to: ['US'] }),
      receivedAt: '2026-05-14T12:00:00Z',
    });
    withSecondConnection(path, trig('received', 'NEW.idx = 2').create);
    await expect(store.ingest([rec(0), rec(1), rec(2), rec(3)])).rejects.toHaveProperty('code');
    expect(await store.highestReceived('CN')).toBe(-1);
    withSecondConnection(path, 'DROP TRIGGER inject_fault');
    expect(await store.ingest([rec(0), rec(1), rec(2), rec(3)])).toBe(4);
    await store.close();
  });
});

function lastPrepared(prepared: readonly { index: number; bytes: Uint8Array }[], index: number) {
  for (let i = prepared.length - 1; i >= 0; i--) if (prepared[i]!.index === index) return prepared[i]!;
  throw new Error(`nothing prepared for ${index}`);
}

function withSecondConnection(path: string, sql: string): void {
  const db = new Database(path);
  db.exec(sql);
  db.close();
}
