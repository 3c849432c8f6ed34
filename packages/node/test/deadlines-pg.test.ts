/**
 * Two deadline trackers filing into one PostgreSQL store (hfix1: several
 * node processes on one store each run a tracker). Answers merged by one
 * are never dropped by the other's read-modify-write, and a tracker takes
 * up the filing cursor another moved instead of filing its pages again.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PgStore, SqliteStore, type LogStore } from '@parley/store';
import { DeadlineTracker, ParleyNode } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { freshPgUrl } from '../../store/test/pg.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanup.length > 0) await cleanup.pop()!().catch(() => undefined);
});

/** US's node on a fresh PostgreSQL database, of an accord with CN (closed and dropped after the test). */
async function usOnPostgres() {
  const db = await freshPgUrl();
  cleanup.push(() => db.drop());
  const [us, cn] = [makeParty('US'), makeParty('CN')];
  const accord = makeAccord([cn, us]);
  const usStore = await PgStore.open(db.url, { max: 4 });
  const usNode = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store: usStore });
  cleanup.push(async () => {
    await usNode.close();
    await usStore.close();
  });
  return { accord, cn, usStore, usNode };
}

describe('deadline trackers of two processes on one PostgreSQL store', () => {
  it('keep both answers when they file the same delivery concurrently, and share the filing cursor', { timeout: 60_000 }, async () => {
    const { accord, cn, usStore, usNode } = await usOnPostgres();
    const cnStore = SqliteStore.open(':memory:');
    const cnNode = await ParleyNode.open({ accord, party: 'CN', keys: cn.keys, store: cnStore });
    cleanup.push(async () => {
      await cnNode.close();
      await cnStore.close();
    });
    const deliver = async (from: ParleyNode, to: ParleyNode, indexes: readonly number[]) =>
      (await to.ingest(await Promise.all(indexes.map(async (i) => (await from.entryBytes(i))!)))).receipts.map((r) => r.index);

    // The first tracker stops just before it files (after reading the answer rows it merged with).
    let filings = 0;
    let reached!: () => void;
    const atFile = new Promise<void>((r) => (reached = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const paused = new Proxy(usStore, {
      get(target, prop) {
        if (prop === 'fileDeliveries') {
          return async (b: Parameters<LogStore['fileDeliveries']>[0]) => {
            filings++;
            if (b.answers.length > 0 && filings === 1) {
              reached();
              await gate;
            }
            return target.fileDeliveries(b);
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as LogStore;
    const first = new DeadlineTracker({ node: usNode, store: paused });
    const second = new DeadlineTracker({ node: usNode, store: usStore });

    const sent = await usNode.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'two filers' });
    await first.refresh(); // files the sent delivery (no answers: not paused)
    filings = 0;
    const [receipt] = await deliver(usNode, cnNode, [sent.index]);
    await deliver(cnNode, usNode, [receipt!]);
    const filing = first.refresh(); // reads the receipt's page and the (absent) answer row, then waits
    await atFile;
    // Meanwhile the ack arrives and the other process files receipt and ack together.
    const ack = await cnNode.acknowledge('wang', 'US', sent.index);
    await deliver(cnNode, usNode, [ack.index]);
    await second.refresh();
    release();
    await filing;

    const s = await second.status('US', sent.index, 'CN', Date.now());
    expect(s).toMatchObject({ receipt: { index: receipt }, ack: { index: ack.index, officer: 'wang' } });
    const cursor = await usStore.deliveryCursor();
    // The first tracker takes up the cursor the other moved: nothing is filed again.
    filings = 0;
    await first.refresh();
    expect(filings).toBe(0);
    expect(await usStore.deliveryCursor()).toEqual(cursor);
  });
  it('shares one queued refresh among callers that come while a refresh runs — the queue stays bounded however many call', { timeout: 60_000 }, async () => {
    // Issue 14's soak: one refresh chained per call (every inbox/outbox listing, the watcher) grew faster than
    // it drained once a refresh took longer than the gap between listings, and EU's listings timed out for good.
    const { usStore, usNode } = await usOnPostgres();
    // Counts the refreshes that ran (each reads the filing cursor once) and holds the first one open.
    let runs = 0;
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const counted = new Proxy(usStore, {
      get(target, prop) {
        if (prop === 'deliveryCursor') {
          return async () => {
            if (++runs === 1) {
              started();
              await gate;
            }
            return target.deliveryCursor();
          };
        }
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as LogStore;
    const tracker = new DeadlineTracker({ node: usNode, store: counted });
    const first = tracker.refresh();
    await running;
    // Written while the first refresh runs: the callers below must see it.
    const sent = await usNode.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'while refreshing' });
    const callers = Array.from({ length: 20 }, () => tracker.refresh());
    release();
    await Promise.all([first, ...callers]);
    expect(runs).toBe(2); // the running one and ONE shared by the 20 callers (21 runs, one per call, before)
    expect(await tracker.status('US', sent.index, 'CN', Date.now())).toMatchObject({ state: 'sent' });
  });
});
