/**
 * LogWriter.resync (issue 14: several processes of one party on one store):
 * two writers, each its own connection to ONE real SQLite file, take turns
 * as the sequencer. A writer that did not write what the store now holds
 * never signs onto a stale tree (the conditional append: STORE_CONFLICT,
 * nothing written): after resync — or by itself after that failure, staging
 * the refused submission again — it continues on the grown log at the right
 * index; a refused submission whose idempotency key is now held is not
 * staged again, and the others of its batch are (never failed with its
 * conflict: the 409 STORE_CONFLICT a multi-process kill run showed). resync never moves the
 * frontier backwards, and while a batch is in flight it defers the re-read.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeUtf8, StoreError } from '@parley/core';
import { SqliteStore } from '../src/sqlite/store.js';
import { LogWriter, type Prepared } from '../src/writer.js';
import { checkLog, expectRejectsCode, meta, ORIGIN, signTestCheckpoint, tempDir } from './helpers.js';

const tmp = tempDir('parley-resync-');
afterAll(() => tmp.cleanup());
let n = 0;
const opts = { origin: ORIGIN, signCheckpoint: signTestCheckpoint };
const entry = (tag: string) => (index: number, time: Date): Prepared => ({
  bytes: encodeUtf8(JSON.stringify({ seq: index, tag, time: time.toISOString() })),
  meta: meta({ time: time.toISOString() }),
});

async function two() {
  const path = join(tmp.dir, `resync-${n++}.sqlite`);
  const sa = SqliteStore.open(path);
  const sb = SqliteStore.open(path);
  const a = await LogWriter.open(sa, opts);
  const b = await LogWriter.open(sb, opts);
  return { sa, sb, a, b, close: async () => { await a.close(); await b.close(); await sa.close(); await sb.close(); } };
}

describe('LogWriter.resync', () => {
  it('picks up what another writer appended, and appends after it at the right index', async () => {
    const { sa, a, b, close } = await two();
    for (let k = 0; k < 5; k++) await a.append(entry(`a${k}`));
    expect(b.size).toBe(0);
    expect(await b.resync()).toBe(5);
    expect(b.latestCheckpoint()).toEqual(a.latestCheckpoint());
    const got = await b.append(entry('b0'));
    expect(got.index).toBe(5);
    expect(got.treeSize).toBe(6);
    await checkLog(sa);
    await close();
  });

  it('a stale writer\'s batch loses the conditional append (nothing written) and its submission goes again on the grown log, by itself', async () => {
    const { sa, sb, a, b, close } = await two();
    await a.append(entry('a0'));
    await a.append(entry('a1'));
    // b still believes the log is empty: its first batch is built on the empty tree and
    // refused by the store; the writer re-reads the store and stages the submission again.
    const got = await b.append(entry('stale'));
    expect(got.index).toBe(2);
    expect(await sb.treeSize()).toBe(3);
    expect((await sa.entries(0, 3)).map((e) => JSON.parse(new TextDecoder().decode(e.bytes)).tag)).toEqual(['a0', 'a1', 'stale']);
    expect((await b.append(entry('b0'))).index).toBe(3);
    await checkLog(sa);
    await close();
  });

  it('a conflicting submission whose idempotency key the store now holds is refused, not logged twice (issue 14)', async () => {
    const { sa, b, a, close } = await two();
    const key = (tag: string) => ({
      scope: 'alice',
      key: 'K',
      record: (x: readonly { index: number }[]) => ({ scope: 'alice', key: 'K', digest: 'd'.repeat(64), indexes: x.map((e) => e.index), response: tag, createdAt: 1 }),
    });
    // a (the new sequencer) logs the write; b (the old one, stale) has the same write in hand.
    expect((await a.append(entry('first'), { idempotency: key('first') })).index).toBe(0);
    await expectRejectsCode(b.append(entry('again'), { idempotency: key('again') }), StoreError, 'STORE_CONFLICT');
    expect(await sa.treeSize()).toBe(1);
    expect((await sa.idempotencyRecord('alice', 'K'))?.response).toBe('first');
    // An unkeyed submission of b goes on, after the re-read.
    expect((await b.append(entry('b0'))).index).toBe(1);
    await checkLog(sa);
    await close();
  });

  it('a batch failed by one submission’s held idempotency key: that one is refused, the others in the batch are logged (issue 14)', async () => {
    const { sa, b, a, close } = await two();
    const key = (k: string, tag: string) => ({
      scope: 'alice',
      key: k,
      record: (x: readonly { index: number }[]) => ({ scope: 'alice', key: k, digest: 'd'.repeat(64), indexes: x.map((e) => e.index), response: tag, createdAt: 1 }),
    });
    // a (the old sequencer) logged K; b, the new one, holds that log already (the log will not move),
    // and gets K again (its client resent it) in the same batch as another officer's write.
    expect((await a.append(entry('first'), { idempotency: key('K', 'first') })).index).toBe(0);
    expect(await b.resync()).toBe(1);
    const again = b.append(entry('again'), { idempotency: key('K', 'again') });
    const other = b.append(entry('other'), { idempotency: key('L', 'other') });
    await expectRejectsCode(again, StoreError, 'STORE_CONFLICT');
    expect((await other).index).toBe(1);
    expect((await sa.idempotencyRecord('alice', 'K'))?.response).toBe('first');
    expect((await sa.idempotencyRecord('alice', 'L'))?.indexes).toEqual([1]);
    expect(await sa.treeSize()).toBe(2);
    await checkLog(sa);
    await close();
  });

  it('never moves the frontier backwards, and defers the re-read while a batch is in flight', async () => {
    const { sa, a, b, close } = await two();
    for (let k = 0; k < 3; k++) await a.append(entry(`a${k}`));
    expect(await b.resync()).toBe(3);
    // Busy: resync answers at once with what it knows, and the re-read happens before the next batch.
    const pending = b.append(entry('b0'));
    expect(await b.resync()).toBe(3);
    expect((await pending).index).toBe(3);
    expect(b.size).toBe(4);
    // a is now behind; resync brings it forward; a second resync is a no-op.
    expect(await a.resync()).toBe(4);
    expect(await a.resync()).toBe(4);
    expect((await a.append(entry('a3'))).index).toBe(4);
    await checkLog(sa);
    await close();
  });
});
