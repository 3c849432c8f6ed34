/**
 * Cosigned time bounds (deadlines/cosigned.ts, state.ts "Clocks"): deadline
 * accounting from what counterparts cosigned, never a party's own clock
 * alone (issue 4, "Times").
 *
 * Two nodes (US, CN) whose clocks are set apart from a shared true time.
 * Each witnesses the other's log through its real WitnessService (the
 * cosignature carries the witness's clock and is reported to its bounds);
 * the cosignature a peer returns for our log is reported as push.ts does.
 * Request signatures refuse a skew of more than 60 s, so an hour apart the
 * nodes cannot talk over HTTP: the exchange is driven in process, step by
 * step, which also lets the test set the true time of every step.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { formatAddCheckpointRequest, parseCheckpoint, parseNote } from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { CosignedBounds, DeadlineTracker, OWN_CLOCKS, ParleyNode, noteCosigned } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';

const S = 1000;
const H = 3600 * S;
/** True time at the start of each test (whole seconds: cosignature timestamps are). */
const T0 = Date.UTC(2026, 2, 1, 12, 0, 0);

let closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.reverse()) await c();
  closers = [];
});

interface Side {
  node: ParleyNode;
  store: SqliteStore;
  bounds: CosignedBounds;
  tracker: DeadlineTracker;
}

/** US and CN; each clock is the true time plus its offset (ms). */
async function pair(offsets: { US?: number; CN?: number }) {
  const truth = { t: T0 };
  const parties = [makeParty('CN'), makeParty('US')];
  const accord = makeAccord(parties);
  const open = async (id: 'US' | 'CN'): Promise<Side> => {
    const store = SqliteStore.open(':memory:');
    const node = await ParleyNode.open({ accord, party: id, keys: parties.find((p) => p.id === id)!.keys, store, now: () => new Date(truth.t + (offsets[id] ?? 0)) });
    const bounds = await CosignedBounds.open(node, store);
    const tracker = new DeadlineTracker({ node, store, bounds });
    closers.push(async () => {
      await bounds.close();
      await node.close();
      await store.close();
    });
    return { node, store, bounds, tracker };
  };
  const sides = { US: await open('US'), CN: await open('CN') };
  const deadlines = sides.US.node.accord.accord.deadlines;

  /** `witness` cosigns `log`'s latest checkpoint, and `log` keeps the cosignature (as a push does). */
  async function cosign(witness: Side, log: Side): Promise<number> {
    const note = (await log.node.latestCheckpoint())!;
    const size = parseCheckpoint(parseNote(note).text).treeSize;
    const old = (await witness.node.witness.latest(log.node.party))?.treeSize ?? 0;
    const proof = old > 0 && old < size ? await log.node.consistencyProof(old, size) : [];
    const r = await witness.node.witness.addCheckpoint(formatAddCheckpointRequest({ oldSize: old, proof, checkpointNote: note }));
    if (r.status !== 200) throw new Error(`witness refused: ${r.status}`);
    noteCosigned(log.store, { party: log.node.party, cosigner: witness.node.party, size, timestamp: r.timestamp });
    return r.timestamp * 1000;
  }

  /** Delivers own entries `indexes` of `from` to `to` (after `to` cosigned them, as the receive path requires); returns `to`'s receipts. */
  async function deliver(from: Side, to: Side, indexes: readonly number[]): Promise<number[]> {
    await cosign(to, from);
    const bytes = await Promise.all(indexes.map(async (i) => (await from.node.entryBytes(i))!));
    return (await to.node.ingest(bytes)).receipts.map((r) => r.index);
  }

  return { truth, ...sides, deadlines, cosign, deliver };
}

const iso = (t: number) => new Date(t).toISOString();

describe('cosigned time bounds', () => {
  it('CosignedBounds: notAfter is the earliest cosignature of a checkpoint containing the entry, over every cosigner, and survives a restart', async () => {
    const p = await pair({});
    for (let i = 0; i < 3; i++) await p.US.node.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `m${i}` });
    // CN cosigns US's log at size 1 (T0), then at size 3 (T0 + 10 s).
    noteCosigned(p.US.store, { party: 'US', cosigner: 'CN', size: 1, timestamp: T0 / 1000 });
    noteCosigned(p.US.store, { party: 'US', cosigner: 'CN', size: 3, timestamp: T0 / 1000 + 10 });
    // US cannot cosign its own log; a point out of order with those held adds nothing.
    noteCosigned(p.US.store, { party: 'US', cosigner: 'US', size: 3, timestamp: T0 / 1000 - 100 });
    noteCosigned(p.US.store, { party: 'US', cosigner: 'CN', size: 2, timestamp: T0 / 1000 + 11 });
    expect(p.US.bounds.bound('US', 0)).toEqual({ notAfter: iso(T0) });
    expect(p.US.bounds.bound('US', 1)).toEqual({ notAfter: iso(T0 + 10 * S) });
    // An earlier cosignature arriving late (its answer was lost; issue 14) takes its place between the two.
    const changed: [string, number, number][] = [];
    p.US.bounds.onChange((party, from, to) => changed.push([party, from, to]));
    noteCosigned(p.US.store, { party: 'US', cosigner: 'CN', size: 2, timestamp: T0 / 1000 + 5 });
    expect(changed).toEqual([['US', 1, 2]]);
    noteCosigned(p.US.store, { party: 'US', cosigner: 'CN', size: 2, timestamp: T0 / 1000 + 5 }); // a replay: nothing
    expect(changed).toHaveLength(1);
    expect(p.US.bounds.bound('US', 0)).toEqual({ notAfter: iso(T0) });
    expect(p.US.bounds.bound('US', 1)).toEqual({ notAfter: iso(T0 + 5 * S) });
    expect(p.US.bounds.bound('US', 2)).toEqual({ notAfter: iso(T0 + 10 * S) });
    expect(p.US.bounds.bound('US', 3)).toBeUndefined();
    expect(p.US.bounds.bound('CN', 0)).toBeUndefined();

    // Persisted on close; a new provider on the same store reads it back.
    await p.US.bounds.close();
    expect(await p.US.store.cosignedTimes('US')).toEqual([
      { party: 'US', cosigner: 'CN', treeSize: 1, cosignedAt: T0 / 1000 },
      { party: 'US', cosigner: 'CN', treeSize: 2, cosignedAt: T0 / 1000 + 5 },
      { party: 'US', cosigner: 'CN', treeSize: 3, cosignedAt: T0 / 1000 + 10 },
    ]);
    const again = await CosignedBounds.open(p.US.node, p.US.store);
    expect(again.bound('US', 1)).toEqual({ notAfter: iso(T0 + 5 * S) });
    expect(again.bound('US', 2)).toEqual({ notAfter: iso(T0 + 10 * S) });
    await again.close();
  });

  it('flush writes the points not yet persisted at once, not a second later (before a read position passes them)', async () => {
    const p = await pair({});
    for (let i = 0; i < 2; i++) await p.US.node.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `m${i}` });
    noteCosigned(p.US.store, { party: 'US', cosigner: 'CN', size: 2, timestamp: T0 / 1000 + 3 });
    noteCosigned(p.US.store, { party: 'US', cosigner: 'CN', size: 1, timestamp: T0 / 1000 }); // read late from the history
    expect(await p.US.store.cosignedTimes('US')).toEqual([]); // held in memory only, until the next second
    await p.US.bounds.flush();
    expect(await p.US.store.cosignedTimes('US')).toEqual([
      { party: 'US', cosigner: 'CN', treeSize: 1, cosignedAt: T0 / 1000 },
      { party: 'US', cosigner: 'CN', treeSize: 2, cosignedAt: T0 / 1000 + 3 },
    ]);
    await p.US.bounds.flush(); // nothing new: nothing written, nothing thrown
  });

  it('seeds the latest point of each log from the witness state (no history persisted yet)', async () => {
    const p = await pair({});
    await p.CN.node.sendMessage('wang', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'hello' });
    p.truth.t += 7 * S;
    await p.cosign(p.US, p.CN);
    const fresh = await CosignedBounds.open(p.US.node, p.US.store);
    expect(fresh.bound('CN', 0)).toEqual({ notAfter: iso(T0 + 7 * S) });
    await fresh.close();
  });

  it('an answerer whose clock runs 1 hour slow cannot make a late acknowledgement look on time', async () => {
    const p = await pair({ CN: -H });
    const sent = await p.US.node.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'Link test' });
    p.truth.t += 2 * S;
    const [receipt] = await p.deliver(p.US, p.CN, [sent.index]);
    await p.deliver(p.CN, p.US, [receipt!]);
    // The officer answers 5 minutes after the FLASH ack deadline; CN's clock dates the ack an hour earlier.
    p.truth.t = T0 + p.deadlines.ackSeconds.FLASH * S + 5 * 60 * S;
    const ack = await p.CN.node.acknowledge('wang', 'US', sent.index);
    expect(Date.parse(ack.entry.time)).toBe(p.truth.t - H);
    const cosignedAt = await p.cosign(p.US, p.CN);
    await p.US.node.ingest([(await p.CN.node.entryBytes(ack.index))!]);
    await p.US.tracker.refresh();

    // By CN's own clock the ack is on time ...
    const ownClocks = new DeadlineTracker({ node: p.US.node, store: p.US.store, bounds: OWN_CLOCKS });
    await ownClocks.refresh();
    expect((await ownClocks.status('US', sent.index, 'CN', p.truth.t))?.ack?.onTime).toBe(true);
    // ... but US cosigned CN's log with the ack only at the true time: late.
    const s = (await p.US.tracker.status('US', sent.index, 'CN', p.truth.t))!;
    expect(cosignedAt).toBeGreaterThan(T0 + p.deadlines.ackSeconds.FLASH * S);
    expect(s.ack).toMatchObject({ index: ack.index, judgedAt: iso(cosignedAt), onTime: false });
    expect(s.overdue).toContain('ack');
  });

  it('a sender whose clock runs 1 hour slow or fast is judged on its own clock: a late answer stays late', async () => {
    for (const offset of [-H, H]) {
      const p = await pair({ US: offset });
      const sent = await p.US.node.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'Link test' });
      // CN receipts twice the receipt deadline after the true sending time.
      p.truth.t += 2 * p.deadlines.receiptSeconds * S;
      const [receipt] = await p.deliver(p.US, p.CN, [sent.index]);
      const cosignedAt = await p.cosign(p.US, p.CN);
      await p.US.node.ingest([(await p.CN.node.entryBytes(receipt!))!]);
      await p.US.tracker.refresh();
      const s = (await p.US.tracker.status('US', sent.index, 'CN', p.truth.t + offset))!;
      expect(s.receipt).toMatchObject({ index: receipt, judgedAt: iso(cosignedAt), onTime: false });
      expect(s.state).toBe('overdue-receipt');
      // A fast sender's claim is no later than CN witnessed the entry (at the true time, by CN's clock).
      if (offset > 0) expect(s.receiptDueAt).toBe(iso(T0 + 2 * p.deadlines.receiptSeconds * S + p.deadlines.receiptSeconds * S));
      for (const c of closers.reverse()) await c();
      closers = [];
    }
  });

  it('a recipient whose clock runs fast or slow is judged by the time the sender cosigned its answer', async () => {
    for (const offset of [H, -H]) {
      const p = await pair({ CN: offset });
      const sent = await p.US.node.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'Link test' });
      p.truth.t += 3 * S;
      const [receipt] = await p.deliver(p.US, p.CN, [sent.index]);
      const cosignedAt = await p.cosign(p.US, p.CN);
      await p.US.node.ingest([(await p.CN.node.entryBytes(receipt!))!]);
      await p.US.tracker.refresh();
      const s = (await p.US.tracker.status('US', sent.index, 'CN', p.truth.t))!;
      // The receipt's own time is CN's clock, an hour off; it is judged at US's cosignature, 3 s after sending.
      expect(Date.parse(s.receipt!.at) - (T0 + 3 * S)).toBe(offset);
      expect(s.receipt!.judgedAt).toBe(iso(cosignedAt));
      if (offset > 0) {
        // Fast: on time by the cosigned time, though its own clock dates the receipt an hour late.
        expect(s).toMatchObject({ state: 'received', receipt: { onTime: true } });
        const ownClocks = new DeadlineTracker({ node: p.US.node, store: p.US.store, bounds: OWN_CLOCKS });
        await ownClocks.refresh();
        expect((await ownClocks.status('US', sent.index, 'CN', p.truth.t))?.state).toBe('overdue-receipt');
      } else {
        // Slow: its own clock cannot date the receipt earlier; and its witness, cosigning US's entry an
        // hour early, started its own deadline then (its evidence, used against it).
        expect(s.receiptDueAt).toBe(iso(T0 + 3 * S - H + p.deadlines.receiptSeconds * S));
        expect(s.state).toBe('overdue-receipt');
      }
      // CN judges its own answer by the cosignature US returned for CN's log, not by its clock.
      await p.CN.tracker.refresh();
      expect((await p.CN.tracker.status('US', sent.index, 'CN', p.truth.t + offset))?.receipt?.judgedAt).toBe(iso(cosignedAt));
      for (const c of closers.reverse()) await c();
      closers = [];
    }
  });
});
