/**
 * Deadlines, escalation, heartbeats and link health (issue 4): the pure
 * state function with a fake clock; two real nodes on SQLite whose entries
 * are delivered by handing bytes to ingest (as service.test.ts does); the
 * watcher against a real webhook receiver on 127.0.0.1; the HTTP routes.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type AccordDeadlines, type SignedAccord, formatAddCheckpointRequest, verifyAccord } from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import {
  type Clock,
  type DeliveryFacts,
  type LinkSource,
  type OverdueEvent,
  type StructuredLogger,
  type TimeBounds,
  CosignedBounds,
  DeadlineTracker,
  DeadlineWatcher,
  EventHub,
  MAX_POINTS,
  Heartbeat,
  ParleyNode,
  attachLinkSource,
  countDeliveries,
  createServer,
  deadlineTracker,
  deliveryState,
  federatorLinkSource,
  hashPassword,
  linkHealth,
  needsAck,
  needsReceipt,
  verifyWebhook,
} from '../src/index.js';
import { type TestParty, makeAccord, makeParty, sampleReport as report } from './helpers/channel.js';

const T0 = Date.parse('2026-06-01T00:00:00.000Z');
const S = 1000;
const at = (ms: number) => new Date(T0 + ms).toISOString();

/** Taxonomy v1 defaults: receipt 60 s; ack FLASH 10 min … ROUTINE 6 h; initial report by severity. */
const DEADLINES: AccordDeadlines = verifyAccord(makeAccord([makeParty('CN'), makeParty('US')])).accord.deadlines;

/** A manual clock: time moves only when a test says so, and due timers fire in order. */
class ManualClock implements Clock {
  t: number;
  #next = 1;
  readonly #timers = new Map<number, { at: number; fn: () => void }>();
  constructor(t = T0) {
    this.t = t;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.#timers.delete(h as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  /** Moves time forward by `ms`, firing every timer that comes due. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = [...this.#timers].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.#timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
    }
    this.t = end;
  }
}

/** Records log lines. */
function recorder(): StructuredLogger & { lines: { level: string; obj: Record<string, unknown>; msg: string }[] } {
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const log = (level: string) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { lines, info: log('info'), warn: log('warn'), error: log('error') };
}


const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (closers.length > 0) await closers.pop()!();
});

// ---------------------------------------------------------------------------
// The state function.

const facts = (over: Partial<DeliveryFacts> = {}): DeliveryFacts => ({
  direction: 'sent',
  party: 'US',
  index: 3,
  recipient: 'CN',
  type: 'hotline.message',
  precedence: 'FLASH',
  marking: 'TLP:CLEAR',
  to: ['CN'],
  sentAt: at(0),
  ...over,
});

describe('deliveryState', () => {
  it('is sent until the receipt deadline, then overdue-receipt', () => {
    const f = facts();
    const s = deliveryState(f, DEADLINES, T0 + 60 * S);
    expect(s).toMatchObject({ state: 'sent', receiptDueAt: at(60 * S), ackDueAt: at(600 * S), nextDueAt: at(60 * S), overdue: [], settled: false });
    expect(deliveryState(f, DEADLINES, T0 + 60 * S + 1)).toMatchObject({ state: 'overdue-receipt', overdue: ['receipt'], settled: false, nextDueAt: at(600 * S) });
  });

  it('is received, then acknowledged, when both answers come on time', () => {
    const received = facts({ receipt: { index: 9, at: at(5 * S) } });
    expect(deliveryState(received, DEADLINES, T0 + 100 * S)).toMatchObject({ state: 'received', receipt: { index: 9, onTime: true }, nextDueAt: at(600 * S), settled: false });
    const acked = facts({ receipt: { index: 9, at: at(5 * S) }, ack: { index: 10, at: at(600 * S), officer: 'wang' } });
    const s = deliveryState(acked, DEADLINES, T0 + 10_000 * S);
    expect(s).toMatchObject({ state: 'acknowledged', ack: { index: 10, officer: 'wang', onTime: true }, overdue: [], settled: true });
    expect(s.nextDueAt).toBeUndefined();
  });

  it('keeps a late receipt as overdue-receipt even after an on-time ack', () => {
    const s = deliveryState(facts({ receipt: { index: 9, at: at(61 * S) }, ack: { index: 10, at: at(120 * S), officer: 'wang' } }), DEADLINES, T0 + 200 * S);
    expect(s).toMatchObject({ state: 'overdue-receipt', receipt: { onTime: false }, ack: { onTime: true }, overdue: ['receipt'], settled: true });
  });

  it('goes overdue-ack when the precedence deadline passes without an ack', () => {
    const f = facts({ precedence: 'PRIORITY', receipt: { index: 9, at: at(1 * S) } });
    expect(deliveryState(f, DEADLINES, T0 + 10_800 * S).state).toBe('received');
    expect(deliveryState(f, DEADLINES, T0 + 10_800 * S + 1)).toMatchObject({ state: 'overdue-ack', overdue: ['ack'], settled: false, ackDueAt: at(10_800 * S) });
  });

  it('counts an ack after the deadline as late: overdue-ack, settled', () => {
    const s = deliveryState(facts({ receipt: { index: 9, at: at(1 * S) }, ack: { index: 11, at: at(601 * S), officer: 'wang' } }), DEADLINES, T0 + 700 * S);
    expect(s).toMatchObject({ state: 'overdue-ack', ack: { onTime: false }, overdue: ['ack'], settled: true });
    expect(countDeliveries([s])).toMatchObject({ total: 1, open: 0, late: 1, byState: { 'overdue-ack': 1 } });
  });

  it('takes an ack as proof of receipt', () => {
    const s = deliveryState(facts({ ack: { index: 4, at: at(30 * S), officer: 'wang' } }), DEADLINES, T0 + 700 * S);
    expect(s).toMatchObject({ state: 'acknowledged', receipt: { index: 4, onTime: true }, settled: true });
  });

  it('needs no ack for machine entries', () => {
    for (const type of ['heartbeat', 'ack', 'accord.amendment']) {
      expect(needsAck(type)).toBe(false);
      const s = deliveryState(facts({ type, precedence: 'ROUTINE', receipt: { index: 2, at: at(3 * S) } }), DEADLINES, T0 + 86_400 * S);
      expect(s).toMatchObject({ state: 'received', settled: true, overdue: [] });
      expect(s.ackDueAt).toBeUndefined();
    }
    expect(needsReceipt('receipt')).toBe(false);
    expect(needsReceipt('heartbeat')).toBe(true);
  });

  it('judges an initial incident report against its severity’s deadline from detectedAt', () => {
    // Severity 5: 24 h; severity 1: 15 days (taxonomy v1 defaults).
    const late = deliveryState(facts({ type: 'incident.report', precedence: 'IMMEDIATE', report: { kind: 'initial', severity: 5, detectedAt: at(-25 * 3600 * S) } }), DEADLINES, T0);
    expect(late.initialReport).toEqual({ detectedAt: at(-25 * 3600 * S), dueAt: at(-3600 * S), onTime: false });
    const onTime = deliveryState(facts({ type: 'incident.report', precedence: 'ROUTINE', report: { kind: 'initial', severity: 1, detectedAt: at(-25 * 3600 * S) } }), DEADLINES, T0);
    expect(onTime.initialReport?.onTime).toBe(true);
    const update = deliveryState(facts({ type: 'incident.report', report: { kind: 'update', severity: 5, detectedAt: at(-25 * 3600 * S) } }), DEADLINES, T0);
    expect(update.initialReport).toBeUndefined();
    expect(deliveryState(facts({ type: 'incident.report', report: { kind: 'initial', severity: 5 } }), DEADLINES, T0).initialReport).toBeUndefined();
  });

  it('clamps claimed times into cosigned bounds (the TimeBounds hook)', () => {
    // The sender claims T0, but a cosigned checkpoint proves the entry did not exist before T0 + 100 s;
    // the recipient's receipt claims T0 + 150 s, and is proven to exist by then.
    const bounds = { bound: (party: string) => (party === 'US' ? { notBefore: at(100 * S) } : undefined) };
    const s = deliveryState(facts({ receipt: { index: 9, at: at(150 * S) } }), DEADLINES, T0 + 200 * S, bounds);
    expect(s).toMatchObject({ receiptDueAt: at(160 * S), state: 'received', receipt: { at: at(150 * S), onTime: true } });
    expect(deliveryState(facts({ receipt: { index: 9, at: at(150 * S) } }), DEADLINES, T0 + 200 * S).state).toBe('overdue-receipt');
  });
});

// ---------------------------------------------------------------------------
// Two real nodes.

interface Pair {
  clock: ManualClock;
  accord: SignedAccord;
  parties: TestParty[];
  us: ParleyNode;
  cn: ParleyNode;
  usStore: SqliteStore;
  cnStore: SqliteStore;
  /** Hands entries of `from`'s log to `to`'s ingest; returns the receipts `to` wrote. */
  deliver(from: ParleyNode, to: ParleyNode, indexes: readonly number[]): Promise<number[]>;
  reopen(party: 'US' | 'CN'): Promise<{ node: ParleyNode; store: SqliteStore }>;
}

async function pair(o: { heartbeatSeconds?: number; dir?: string } = {}): Promise<Pair> {
  const clock = new ManualClock();
  const parties = [makeParty('CN'), makeParty('US')];
  const accord = makeAccord(parties, o.heartbeatSeconds !== undefined ? { heartbeatSeconds: o.heartbeatSeconds } : {});
  const open = async (p: TestParty, path = ':memory:') => {
    const store = SqliteStore.open(path);
    const node = await ParleyNode.open({ accord, party: p.id, keys: p.keys, store, now: () => new Date(clock.now()) });
    closers.push(async () => {
      await node.close();
      await store.close();
    });
    return { node, store };
  };
  const cn = await open(parties[0]!);
  const us = await open(parties[1]!, o.dir ? `${o.dir}/US.sqlite` : ':memory:');
  return {
    clock,
    accord,
    parties,
    us: us.node,
    cn: cn.node,
    usStore: us.store,
    cnStore: cn.store,
    async deliver(from, to, indexes) {
      const bytes = await Promise.all(indexes.map(async (i) => (await from.entryBytes(i))!));
      return (await to.ingest(bytes)).receipts.map((r) => r.index);
    },
    async reopen(party) {
      return open(parties.find((p) => p.id === party)!, o.dir ? `${o.dir}/${party}.sqlite` : ':memory:');
    },
  };
}

describe('DeadlineTracker on two nodes', () => {
  it('follows a FLASH message from both sides: sent → received → overdue-ack → late ack', async () => {
    const p = await pair();
    const usT = new DeadlineTracker({ node: p.us, store: p.usStore });
    const cnT = new DeadlineTracker({ node: p.cn, store: p.cnStore });
    const sent = await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'Link test' });

    await usT.refresh();
    expect((await usT.items(p.clock.now()))).toMatchObject([{ direction: 'sent', party: 'US', index: sent.index, recipient: 'CN', state: 'sent', marking: 'TLP:AMBER' }]);

    p.clock.advance(5 * S);
    const [receipt] = await p.deliver(p.us, p.cn, [sent.index]);
    await p.deliver(p.cn, p.us, [receipt!]);
    await Promise.all([usT.refresh(), cnT.refresh()]);
    const mine = (await usT.status('US', sent.index, 'CN', p.clock.now()))!;
    expect(mine).toMatchObject({ state: 'received', receipt: { index: receipt, at: at(5 * S), onTime: true }, ackDueAt: at(600 * S) });
    expect((await cnT.status('US', sent.index, 'CN', p.clock.now()))).toMatchObject({ direction: 'received', state: 'received', receipt: { index: receipt } });
    // The heartbeat-free CN side: its receipt is not itself a delivery; US's receipt of nothing yet.
    expect((await cnT.items(p.clock.now())).map((s) => s.direction)).toEqual(['received']);

    p.clock.advance(600 * S);
    expect((await usT.status('US', sent.index, 'CN', p.clock.now()))?.state).toBe('overdue-ack');
    expect((await cnT.status('US', sent.index, 'CN', p.clock.now()))?.state).toBe('overdue-ack');

    const ack = await p.cn.acknowledge('wang', 'US', sent.index);
    await p.deliver(p.cn, p.us, [ack.index]);
    await Promise.all([usT.refresh(), cnT.refresh()]);
    for (const t of [usT, cnT]) {
      expect((await t.status('US', sent.index, 'CN', p.clock.now()))).toMatchObject({ state: 'overdue-ack', settled: true, ack: { index: ack.index, officer: 'wang', onTime: false } });
    }
    // CN's ack is a delivery too (US receipted it on ingest): machine entry, receipt only.
    expect((await usT.status('CN', ack.index, 'US', p.clock.now()))).toMatchObject({ direction: 'received', state: 'received', settled: true });
  });

  it('files more received entries than one page of the store (issue 14: the cursor moves page by page)', { timeout: 120_000 }, async () => {
    const p = await pair();
    const sent: number[] = [];
    for (let k = 0; k < 1100; k += 100) sent.push(...(await Promise.all(Array.from({ length: 100 }, () => p.us.heartbeat()))).map((e) => e.index));
    await p.deliver(p.us, p.cn, sent);
    const cnT = new DeadlineTracker({ node: p.cn, store: p.cnStore });
    await cnT.refresh();
    const received = await cnT.items(p.clock.now(), { direction: 'received' });
    expect(received.map((s) => s.index).sort((a, b) => a - b)).toEqual([...sent].sort((a, b) => a - b));
    expect(await p.cnStore.deliveryCursor()).toMatchObject({ lastSeq: 1100 });
  });

  it('reports a delivery in changes() only when it may have changed: new answers, new bounds, or its due time', async () => {
    const p = await pair();
    const t = new DeadlineTracker({ node: p.us, store: p.usStore });
    // The watcher's protocol: changes(), then done() once acted on (writes the judgements; issue 14).
    const keys = async (now = p.clock.now()) => {
      const c = await t.changes(now);
      await t.done(c);
      return c.map((s) => `${s.index}:${s.state}`);
    };
    const sent = await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'quiet' });
    await t.refresh();
    expect(await keys()).toEqual([`${sent.index}:sent`]);
    expect(await keys()).toEqual([]); // nothing new
    expect(t.nextDueAt()).toBe(T0 + 60 * S); // its receipt deadline
    expect(await keys(T0 + 60 * S)).toEqual([]); // due, but overdue only once now > dueAt
    expect(await keys(T0 + 60 * S + 1)).toEqual([`${sent.index}:overdue-receipt`]);
    // An answer brings it back at once.
    const [receipt] = await p.deliver(p.us, p.cn, [sent.index]);
    await p.deliver(p.cn, p.us, [receipt!]);
    await t.refresh();
    expect(await keys()).toEqual([`${sent.index}:received`]); // receipted at T0 (this clock has not moved)
    expect(await keys()).toEqual([]);

    // With bounds that can change: judged on every pass until its bounds are known, then again only when they move.
    const known = new Map<string, string>();
    const listeners: ((party: string, from: number, to: number) => void)[] = [];
    const bounds: TimeBounds = {
      bound: (party, index) => (known.has(`${party}/${index}`) ? { notAfter: known.get(`${party}/${index}`)! } : undefined),
      onChange: (l) => (listeners.push(l), () => undefined),
    };
    const u = new DeadlineTracker({ node: p.us, store: p.usStore });
    u.setBounds(bounds);
    await u.refresh();
    const open = async (now = p.clock.now()) => {
      const c = await u.changes(now);
      await u.done(c);
      return c.filter((s) => s.index === sent.index && s.party === 'US').length;
    };
    expect(await open()).toBe(1); // a new bounds provider: judged again, as it was judged without a bound
    expect(await open()).toBe(0); // no bound yet for US/0: judged again when its bounds move, not on every pass
    known.set(`US/${sent.index}`, at(0));
    known.set(`CN/${receipt!}`, at(0));
    for (const l of listeners) l('US', sent.index, sent.index + 1);
    expect(await open()).toBe(1);
    expect(await open()).toBe(0); // every bound it uses is known
    for (const l of listeners) l('US', sent.index + 1, sent.index + 5); // other entries
    expect(await open()).toBe(0);
    known.set(`CN/${receipt!}`, at(-1 * S)); // an earlier cosignature of the receipt
    for (const l of listeners) l('CN', receipt!, receipt! + 1);
    expect(await open()).toBe(1);
    expect(await open()).toBe(0);
    for (const l of listeners) l('US', 0, 100_000); // a wide change: an index range of the store
    expect(await open()).toBe(1);
    expect(await open()).toBe(0);
  });

  it('judges an incident initial report on time and acknowledged in time; ignores answers to another history', async () => {
    const p = await pair();
    const usT = new DeadlineTracker({ node: p.us, store: p.usStore });
    const r = await p.us.sendReport('alice', { marking: 'TLP:AMBER', report: report({ severity: 4, detectedAt: at(-2 * 3600 * S) }) });
    p.clock.advance(30 * S);
    const [receipt] = await p.deliver(p.us, p.cn, [r.index]);
    const ack = await p.cn.acknowledge('wang', 'US', r.index);
    await p.deliver(p.cn, p.us, [receipt!, ack.index]);
    await usT.refresh();
    expect((await usT.status('US', r.index, 'CN', p.clock.now()))).toMatchObject({
      type: 'incident.report',
      precedence: 'IMMEDIATE',
      state: 'acknowledged',
      initialReport: { detectedAt: at(-2 * 3600 * S), dueAt: at(22 * 3600 * S), onTime: true },
    });
    expect(countDeliveries((await usT.items(p.clock.now())))).toMatchObject({ byState: { acknowledged: 1, received: 1 } });
  });
});

// ---------------------------------------------------------------------------
// The watcher and its webhook.

interface Hit {
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A webhook receiver on 127.0.0.1 answering each request with the next status of `statuses` (then 200). */
async function receiver(statuses: number[] = []): Promise<{ url: string; hits: Hit[]; server: Server }> {
  const hits: Hit[] = [];
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/parley`, hits, server };
}

describe('DeadlineWatcher', () => {
  it('escalates an overdue receipt once: log line, signed webhook retried after a 500, timer at the next due time', async () => {
    const p = await pair();
    const hook = await receiver([500]);
    const log = recorder();
    const usKey = p.parties[1]!.keys.log;
    const watcher = new DeadlineWatcher({
      tracker: new DeadlineTracker({ node: p.us, store: p.usStore }),
      store: p.usStore,
      logger: log,
      clock: p.clock,
      webhook: { url: hook.url, key: usKey, baseDelayMs: 2 * S },
      maxSleepMs: 3600 * S,
    });
    closers.push(() => watcher.stop());
    const sent = await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'Anyone there?' });
    await watcher.start();
    expect(watcher.nextWakeAt).toBe(T0 + 60 * S + 1); // just past the receipt deadline, not a poll
    expect(hook.hits).toHaveLength(0);

    p.clock.advance(60 * S + 1);
    await watcher.idle();
    expect(hook.hits).toHaveLength(1); // answered 500
    expect(watcher.pending).toMatchObject([{ id: `overdue/receipt/US/${sent.index}/CN`, attempts: 1, nextAttemptAt: p.clock.now() + 2 * S }]);
    expect(log.lines.filter((l) => l.level === 'warn' && l.obj['event'] === 'parley.deadline.overdue')).toMatchObject([
      { obj: { kind: 'receipt', party: 'US', index: sent.index, recipient: 'CN', precedence: 'FLASH', dueAt: at(60 * S) } },
    ]);
    expect(watcher.nextWakeAt).toBe(p.clock.now() + 2 * S);

    p.clock.advance(2 * S);
    await watcher.idle();
    expect(hook.hits).toHaveLength(2);
    expect(watcher.pending).toEqual([]);
    const [first, second] = hook.hits as [Hit, Hit];
    expect(second.body.equals(first.body)).toBe(true); // the same bytes on retry
    expect(second.headers['parley-webhook-id']).toBe(`overdue/receipt/US/${sent.index}/CN`);
    expect(second.headers['content-type']).toBe('application/json');
    const accord = verifyAccord(p.accord);
    expect(verifyWebhook(accord, second.headers['parley-webhook-signature'] as string, second.body)).toBe('US');
    // A flipped byte, or the other party's key, does not verify.
    const tampered = Buffer.from(second.body);
    tampered.writeUInt8(tampered.readUInt8(tampered.length - 2) ^ 1, tampered.length - 2);
    expect(verifyWebhook(accord, second.headers['parley-webhook-signature'] as string, tampered)).toBeUndefined();
    expect(verifyWebhook(accord, String(second.headers['parley-webhook-signature']).replace('party=US', 'party=CN'), second.body)).toBeUndefined();
    const event = JSON.parse(second.body.toString('utf8')) as OverdueEvent;
    expect(event).toEqual({
      type: 'parley.deadline.overdue',
      id: `overdue/receipt/US/${sent.index}/CN`,
      accord: accord.id,
      node: 'US',
      party: 'US',
      index: sent.index,
      recipient: 'CN',
      direction: 'sent',
      kind: 'receipt',
      dueAt: at(60 * S),
      entry: { from: 'US', to: ['CN'], type: 'hotline.message', precedence: 'FLASH', marking: 'TLP:CLEAR', time: at(0) },
    });

    // The ack deadline passes too: one more escalation, of kind ack; nothing repeats.
    p.clock.advance(600 * S);
    await watcher.idle();
    await watcher.check();
    expect(hook.hits.map((h) => h.headers['parley-webhook-id'])).toEqual([
      `overdue/receipt/US/${sent.index}/CN`,
      `overdue/receipt/US/${sent.index}/CN`,
      `overdue/ack/US/${sent.index}/CN`,
    ]);
  });

  it('does not escalate deliveries answered in time, nor heartbeats', async () => {
    const p = await pair();
    const hook = await receiver();
    const watcher = new DeadlineWatcher({ tracker: new DeadlineTracker({ node: p.us, store: p.usStore }), store: p.usStore, logger: recorder(), clock: p.clock, webhook: { url: hook.url, key: p.parties[1]!.keys.log } });
    closers.push(() => watcher.stop());
    const m = await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'ping' });
    await p.us.heartbeat();
    await watcher.start();
    p.clock.advance(10 * S);
    const [receipt] = await p.deliver(p.us, p.cn, [m.index]);
    const ack = await p.cn.acknowledge('wang', 'US', m.index);
    await p.deliver(p.cn, p.us, [receipt!, ack.index]);
    watcher.notify();
    await watcher.idle();
    p.clock.advance(3600 * S);
    await watcher.idle();
    await watcher.check();
    expect(hook.hits).toHaveLength(0); // the heartbeat's receipt is overdue, but heartbeats do not escalate
  });

  it('survives a restart: neither repeats a sent escalation nor forgets a pending webhook', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const dir = await mkdtemp(`${tmpdir()}/parley-deadlines-`);
    closers.push(() => rm(dir, { recursive: true, force: true }));
    const p = await pair({ dir });
    const hook = await receiver([503, 503, 503]);
    const key = p.parties[1]!.keys.log;
    const a = await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'one' });
    const first = new DeadlineWatcher({ tracker: new DeadlineTracker({ node: p.us, store: p.usStore }), store: p.usStore, logger: recorder(), clock: p.clock, webhook: { url: hook.url, key, baseDelayMs: 60 * S } });
    await first.start();
    p.clock.advance(61 * S);
    await first.idle();
    expect(hook.hits).toHaveLength(1);
    expect(first.pending).toHaveLength(1);
    await first.stop();
    expect(p.clock.pending).toBe(0);

    // "Restart": a fresh process state over the same database.
    await p.us.close();
    await p.usStore.close();
    const { node, store } = await p.reopen('US');
    expect(await store.escalations()).toMatchObject([{ id: `overdue/receipt/US/${a.index}/CN`, webhook: { attempts: 1, state: 'pending' } }]);
    const log = recorder();
    const second = new DeadlineWatcher({ tracker: new DeadlineTracker({ node, store }), store, logger: log, clock: p.clock, webhook: { url: hook.url, key, baseDelayMs: 60 * S } });
    closers.push(() => second.stop());
    await second.start();
    expect(hook.hits).toHaveLength(1); // the retry is not due yet
    expect(log.lines.filter((l) => l.obj['event'] === 'parley.deadline.overdue')).toHaveLength(0); // not escalated again
    p.clock.advance(60 * S);
    await second.idle();
    expect(hook.hits).toHaveLength(2); // 503 again: retried at 60 s · 2
    p.clock.advance(120 * S);
    await second.idle();
    expect(hook.hits).toHaveLength(3); // 503
    p.clock.advance(240 * S);
    await second.idle();
    expect(hook.hits).toHaveLength(4); // 200
    expect(second.pending).toEqual([]);
    // The store says so: delivered after 4 attempts (compare-and-set on attempts, issue 9).
    expect(await store.escalations()).toMatchObject([{ id: `overdue/receipt/US/${a.index}/CN`, webhook: { attempts: 4, state: 'delivered' } }]);
    expect(new Set(hook.hits.map((h) => h.headers['parley-webhook-id']))).toEqual(new Set([`overdue/receipt/US/${a.index}/CN`]));
  });

  it('abandons a webhook after maxAttempts', async () => {
    const p = await pair();
    const hook = await receiver([500, 500, 500]);
    const log = recorder();
    const watcher = new DeadlineWatcher({ tracker: new DeadlineTracker({ node: p.us, store: p.usStore }), store: p.usStore, logger: log, clock: p.clock, webhook: { url: hook.url, key: p.parties[1]!.keys.log, maxAttempts: 2, baseDelayMs: S } });
    closers.push(() => watcher.stop());
    await p.us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'one' });
    await watcher.start();
    p.clock.advance(61 * S);
    await watcher.idle();
    p.clock.advance(S);
    await watcher.idle();
    expect(hook.hits).toHaveLength(2);
    expect(watcher.pending).toEqual([]);
    expect(log.lines.some((l) => l.level === 'error' && l.msg === 'deadline webhook abandoned')).toBe(true);
    expect((await p.usStore.escalations()).map((e) => e.webhook)).toEqual([expect.objectContaining({ attempts: 2, state: 'abandoned' })]);
  });
});

// ---------------------------------------------------------------------------
// Heartbeats and link health.

describe('Heartbeat and link health', () => {
  it('beats at start and on every interval until stopped', async () => {
    const p = await pair({ heartbeatSeconds: 10 });
    const beats: number[] = [];
    const hb = new Heartbeat({ node: p.us, clock: p.clock, onBeat: (s) => beats.push(s.index) });
    expect(hb.intervalMs).toBe(10 * S);
    expect((await hb.start())?.entry.type).toBe('heartbeat');
    expect(p.us.treeSize).toBe(1);
    p.clock.advance(10 * S);
    await vi.waitFor(() => expect(beats).toHaveLength(2));
    p.clock.advance(10 * S);
    await vi.waitFor(() => expect(beats).toHaveLength(3));
    await hb.stop();
    p.clock.advance(30 * S);
    await new Promise((r) => setTimeout(r, 20));
    expect(beats).toEqual([0, 1, 2]);
    const e = (await p.us.read('US', 2, 'auditor'))!;
    expect(e.entry).toMatchObject({ type: 'heartbeat', to: ['CN'], time: at(20 * S) });
    expect(e.body).toEqual({ treeSize: 2 });
  });

  it('beats on a short real interval', async () => {
    const p = await pair();
    const hb = new Heartbeat({ node: p.us, intervalMs: 30 });
    closers.push(() => hb.stop());
    await hb.start();
    await vi.waitFor(() => expect(p.us.treeSize).toBeGreaterThanOrEqual(3), { timeout: 2000 });
  });

  it('shows a party up while its beats are fresh and down after two missed intervals', async () => {
    const p = await pair({ heartbeatSeconds: 10 });
    const health = async () => (await linkHealth({ node: p.cn, store: p.cnStore, now: p.clock.now() }))[0]!;
    expect(await health()).toMatchObject({ party: 'US', state: 'down', heartbeat: 'down' });
    expect((await health()).lastHeardAt).toBeUndefined();

    const beat = await p.us.heartbeat();
    await p.deliver(p.us, p.cn, [beat.index]);
    expect(await health()).toMatchObject({ state: 'up', lastHeardAt: at(0), lastHeartbeat: { index: beat.index, time: at(0) }, lastEntry: { type: 'heartbeat' } });
    p.clock.advance(20 * S);
    expect((await health()).state).toBe('up');
    p.clock.advance(1);
    expect(await health()).toMatchObject({ state: 'down', heartbeat: 'down', lastHeardAt: at(0), downAt: at(20 * S) });

    // A fresh beat brings it back; federation's transport state is folded in.
    const next = await p.us.heartbeat();
    await p.deliver(p.us, p.cn, [next.index]);
    expect(await health()).toMatchObject({ state: 'up', lastHeardAt: at(20 * S + 1) });
    const source: LinkSource = { links: () => [{ party: 'US', state: 'down', detail: 'push: connection refused' }] };
    expect(await linkHealth({ node: p.cn, store: p.cnStore, now: p.clock.now(), source })).toMatchObject([{ state: 'degraded', heartbeat: 'up', transport: { state: 'down' } }]);
  });

  it('with federation, shows a party down after two intervals without a checkpoint of its log cosigned by us, however fresh its entries', async () => {
    const p = await pair({ heartbeatSeconds: 10 });
    /** CN's witness cosigns US's latest checkpoint, as a push or pull would have it do. */
    const witness = async () => {
      const note = (await p.us.latestCheckpoint())!;
      const size = p.us.treeSize;
      const held = (await p.cn.witness.latest(p.us.party))?.treeSize ?? 0;
      const r = await p.cn.witness.addCheckpoint(formatAddCheckpointRequest({ oldSize: held, proof: held > 0 && held < size ? await p.us.consistencyProof(held, size) : [], checkpointNote: note }));
      expect(r.status).toBe(200);
    };
    const health = async () => (await linkHealth({ node: p.cn, store: p.cnStore, now: p.clock.now(), cosigned: true }))[0]!;
    const beat = await p.us.heartbeat();
    await p.deliver(p.us, p.cn, [beat.index]);
    // Fresh entries, but nothing of US's log cosigned yet.
    expect(await health()).toMatchObject({ state: 'down', reason: 'checkpoint', heartbeat: 'up', checkpoint: 'down', lastHeardAt: at(0) });
    expect((await health()).lastGoodContactAt).toBeUndefined();

    await witness();
    expect(await health()).toMatchObject({ state: 'up', heartbeat: 'up', checkpoint: 'up', lastCosigned: { size: p.us.treeSize, at: at(0) }, lastGoodContactAt: at(0) });
    // Entries keep arriving; no new checkpoint is cosigned.
    p.clock.advance(15 * S);
    const next = await p.us.heartbeat();
    await p.deliver(p.us, p.cn, [next.index]);
    p.clock.advance(5 * S);
    expect((await health()).state).toBe('up');
    p.clock.advance(1);
    expect(await health()).toMatchObject({ state: 'down', reason: 'checkpoint', heartbeat: 'up', checkpoint: 'down', lastHeardAt: at(15 * S), lastGoodContactAt: at(0), downAt: at(20 * S) });

    // A fresh cosignature brings it back.
    await witness();
    expect(await health()).toMatchObject({ state: 'up', checkpoint: 'up', lastCosigned: { size: p.us.treeSize, at: at(20 * S) }, lastGoodContactAt: at(15 * S) });
    // Without federation (no witnessing source) checkpoints are not judged.
    p.clock.advance(60 * S);
    const later = await p.us.heartbeat();
    await p.deliver(p.us, p.cn, [later.index]);
    expect((await linkHealth({ node: p.cn, store: p.cnStore, now: p.clock.now() }))[0]).toMatchObject({ state: 'up', heartbeat: 'up' });
    expect((await linkHealth({ node: p.cn, store: p.cnStore, now: p.clock.now() }))[0]!.checkpoint).toBeUndefined();
    const witnessing: LinkSource = { witnesses: true, links: () => [{ party: 'US', state: 'up' }] };
    expect((await linkHealth({ node: p.cn, store: p.cnStore, now: p.clock.now(), source: witnessing }))[0]).toMatchObject({ state: 'down', reason: 'checkpoint' });
  });

  it('reads federation’s link states through federatorLinkSource', async () => {
    const states = [
      { party: 'CN', lastContact: at(0), consecutiveFailures: 0, forks: 0 },
      { party: 'EU', consecutiveFailures: 0, forks: 0 },
      { party: 'JP', lastContact: at(0), consecutiveFailures: 3, lastError: { code: 'PEER_UNAVAILABLE', message: 'connection refused' }, retryAt: at(5 * S), forks: 0 },
      { party: 'KR', lastContact: at(0), consecutiveFailures: 0, forks: 1 },
    ];
    expect(await federatorLinkSource({ links: () => states }).links()).toEqual([
      { party: 'CN', state: 'up', lastContactAt: at(0) },
      { party: 'EU', state: 'unknown' },
      { party: 'JP', state: 'down', lastContactAt: at(0), detail: `PEER_UNAVAILABLE: connection refused (retry at ${at(5 * S)})` },
      { party: 'KR', state: 'down', lastContactAt: at(0), detail: 'fork proofs held: 1' },
    ]);
  });

  it('does not let a sender’s fast clock keep a link up: contact is min(sender time, receive time)', async () => {
    const p = await pair({ heartbeatSeconds: 10 });
    const beat = await p.us.heartbeat();
    p.clock.advance(15 * S);
    await p.deliver(p.us, p.cn, [beat.index]); // delivered late: heard at its own time, T0
    p.clock.advance(6 * S);
    expect((await linkHealth({ node: p.cn, store: p.cnStore, now: p.clock.now() }))[0]).toMatchObject({ state: 'down', lastHeardAt: at(0) });
  });
});

// ---------------------------------------------------------------------------
// HTTP.

describe('GET /v1/deadlines, /v1/links', () => {
  it('lists deliveries with their states and counts, link health, and the overdue gauge', async () => {
    const p = await pair();
    // The nodes' clock two hours behind the server's: what US sent then is long overdue now.
    p.clock.t = Date.now() - 2 * 3600 * S;
    const lost = await p.us.sendMessage('alice', { precedence: 'PRIORITY', marking: 'TLP:CLEAR', text: 'lost' });
    p.clock.t = Date.now();
    const fresh = await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'fresh' });
    const [receipt] = await p.deliver(p.us, p.cn, [fresh.index]);
    await p.deliver(p.cn, p.us, [receipt!]);

    const passwordHash = await hashPassword('correct horse battery staple');
    await p.usStore.putOfficer({ name: 'audrey', role: 'auditor', passwordHash, created: new Date().toISOString(), disabled: false });
    const app = await createServer({ node: p.us, store: p.usStore });
    closers.push(() => app.close());
    const login = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { name: 'audrey', password: 'correct horse battery staple' } });
    const headers = { authorization: `Bearer ${login.json<{ token: string }>().token}` };

    expect((await app.inject({ method: 'GET', url: '/v1/deadlines' })).statusCode).toBe(401);
    const r = await app.inject({ method: 'GET', url: '/v1/deadlines', headers });
    expect(r.statusCode, r.body).toBe(200);
    const body = r.json<{ items: Record<string, unknown>[]; counts: Record<string, unknown> }>();
    // Overdue first; CN's receipt is not itself a delivery (receipts are never receipted).
    expect(body.items).toMatchObject([
      { party: 'US', index: lost.index, recipient: 'CN', direction: 'sent', type: 'hotline.message', precedence: 'PRIORITY', state: 'overdue-receipt', overdue: ['receipt'], settled: false },
      { party: 'US', index: fresh.index, recipient: 'CN', direction: 'sent', state: 'received', receipt: { index: receipt, onTime: true } },
    ]);
    expect(body.items).toHaveLength(2);
    expect(body.counts).toMatchObject({ total: 2, open: 2, byState: { 'overdue-receipt': 1, received: 1 } });
    const filtered = await app.inject({ method: 'GET', url: `/v1/deadlines?state=overdue-receipt&limit=5`, headers });
    expect(filtered.json<{ items: { index: number }[] }>().items.map((i) => i.index)).toEqual([lost.index]);
    expect((await app.inject({ method: 'GET', url: '/v1/deadlines?state=lost', headers })).statusCode).toBe(400);
    // Paging (issue 14): the same order one item at a time, `next` passed back as `after`; the counts over all each time.
    const first = (await app.inject({ method: 'GET', url: '/v1/deadlines?limit=1', headers })).json<{ items: { index: number }[]; counts: { total: number }; next?: string }>();
    expect(first.items.map((i) => i.index)).toEqual([lost.index]);
    expect(first.counts.total).toBe(2);
    const second = (await app.inject({ method: 'GET', url: `/v1/deadlines?limit=1&after=${first.next}`, headers })).json<{ items: { index: number }[]; counts: { total: number }; next?: string }>();
    expect(second.items.map((i) => i.index)).toEqual([fresh.index]);
    expect(second.counts.total).toBe(2);
    expect(second.next).toBeUndefined();
    expect(body).not.toHaveProperty('next');
    const bad = await app.inject({ method: 'GET', url: '/v1/deadlines?after=bm90IGEgY3Vyc29y', headers });
    expect(bad.statusCode).toBe(400);
    expect(bad.headers['content-type']).toMatch(/problem\+json/);

    // Inbox and outbox items carry their deadlines, one per recipient.
    const outbox = await app.inject({ method: 'GET', url: '/v1/outbox', headers });
    expect(outbox.statusCode, outbox.body).toBe(200);
    expect(outbox.json<{ items: unknown[] }>().items).toMatchObject([
      { index: fresh.index, deadlines: [{ recipient: 'CN', state: 'received', overdue: [], settled: false }] },
      { index: lost.index, deadlines: [{ recipient: 'CN', state: 'overdue-receipt', overdue: ['receipt'], settled: false }] },
    ]);
    // Receipts are machine traffic: listed only with all=1 (issue 9).
    expect((await app.inject({ method: 'GET', url: '/v1/inbox', headers })).json<{ items: unknown[] }>().items).toHaveLength(0);
    const inbox = await app.inject({ method: 'GET', url: '/v1/inbox?all=1', headers });
    expect(inbox.json<{ items: Record<string, unknown>[] }>().items).toHaveLength(1);
    expect(inbox.json<{ items: Record<string, unknown>[] }>().items[0]!['deadlines']).toBeUndefined(); // a receipt has no deadlines

    const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/parley_deadlines_overdue\{kind="receipt",precedence="PRIORITY",direction="sent"\} 1/);

    attachLinkSource(p.us, { links: () => [{ party: 'CN', state: 'up', lastContactAt: new Date().toISOString() }] });
    const links = await app.inject({ method: 'GET', url: '/v1/links', headers });
    expect(links.statusCode, links.body).toBe(200);
    expect(links.json()).toMatchObject({ heartbeatSeconds: 3600, links: [{ party: 'CN', state: 'up', heartbeat: 'up', lastEntry: { index: receipt, type: 'receipt' }, transport: { state: 'up' } }] });
    attachLinkSource(p.us, undefined);
  });
});

// Issue 14 review findings: paging at the first page's time, bound floors, a bounded watcher.
describe('deadlines on the store’s indexes (issue 14)', () => {
  it('pages /v1/deadlines at the first page’s time: a delivery going overdue between pages is neither skipped nor shown twice', async () => {
    const p = await pair();
    p.clock.t = Date.now() - 2 * 3600 * S;
    const lost = await p.us.sendMessage('alice', { precedence: 'PRIORITY', marking: 'TLP:CLEAR', text: 'lost' });
    // Two open deliveries whose receipt deadlines (60 s after their time) fall a few seconds from now, A before B.
    const base = Date.now();
    p.clock.t = base - 60 * S + 3 * S;
    const a = await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'a' });
    p.clock.t = base - 60 * S + 4 * S;
    const b = await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'b' });
    const dueB = base + 4 * S;
    const passwordHash = await hashPassword('correct horse battery staple');
    await p.usStore.putOfficer({ name: 'audrey', role: 'auditor', passwordHash, created: new Date().toISOString(), disabled: false });
    const app = await createServer({ node: p.us, store: p.usStore });
    closers.push(() => app.close());
    const login = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { name: 'audrey', password: 'correct horse battery staple' } });
    const headers = { authorization: `Bearer ${login.json<{ token: string }>().token}` };
    type Page = { items: { index: number; state: string }[]; counts: { total: number; byState: Record<string, number> }; next?: string };
    // The node's watcher judges and stores what is stale (the store's indexes then hold every judgement).
    const tracker = deadlineTracker(p.us, p.usStore);
    const judge = async (now: number) => {
      await tracker.refresh();
      for (;;) {
        const c = await tracker.changes(now);
        await tracker.done(c);
        if (!tracker.scanning) return;
      }
    };
    await judge(Date.now());
    const first = (await app.inject({ method: 'GET', url: '/v1/deadlines?limit=2', headers })).json<Page>();
    expect(Date.now()).toBeLessThan(base + 3 * S); // the page was read before A's deadline (else the machine is too slow for this test)
    expect(first.items.map((i) => `${i.index}:${i.state}`)).toEqual([`${lost.index}:overdue-receipt`, `${a.index}:sent`]);
    // Wait (bounded) until B's deadline has passed, and let the watcher judge it overdue.
    await vi.waitFor(() => expect(Date.now()).toBeGreaterThan(dueB + 1), { timeout: 10_000, interval: 50 });
    await judge(Date.now());
    expect((await tracker.status('US', b.index, 'CN', Date.now()))?.state).toBe('overdue-receipt');
    // The next page is judged at the first page's time: B, still open then, follows A; nothing twice.
    const second = (await app.inject({ method: 'GET', url: `/v1/deadlines?limit=2&after=${first.next}`, headers })).json<Page>();
    expect(second.items.map((i) => `${i.index}:${i.state}`)).toEqual([`${b.index}:sent`]);
    expect(second.counts).toMatchObject({ total: 3, byState: { 'overdue-receipt': 1, sent: 2 } });
    expect(second.next).toBeUndefined();
    // A cursor carries its listing's time for 10 minutes: an older one is refused (4xx), not a pass over every delivery.
    const [r0, d0, i0, p0, t0] = JSON.parse(Buffer.from(first.next!, 'base64url').toString('utf8')) as unknown[];
    const stale = Buffer.from(JSON.stringify([r0, d0, i0, p0, t0, Date.now() - 11 * 60_000])).toString('base64url');
    const old = await app.inject({ method: 'GET', url: `/v1/deadlines?after=${stale}`, headers });
    expect(old.statusCode).toBe(400);
    expect(old.headers['content-type']).toMatch(/problem\+json/);
    // A new listing is judged now: both A and B overdue.
    const fresh = (await app.inject({ method: 'GET', url: '/v1/deadlines', headers })).json<Page>();
    expect(fresh.counts.byState['overdue-receipt']).toBe(3);
  });

  it('does not overwrite an answer filed between changes() and done() with the verdict made without it (hfix1)', async () => {
    const p = await pair();
    const t = new DeadlineTracker({ node: p.us, store: p.usStore });
    const sent = await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'race' });
    const [receipt] = await p.deliver(p.us, p.cn, [sent.index]);
    await p.deliver(p.cn, p.us, [receipt!]);
    await t.refresh();
    await t.done(await t.changes(p.clock.now())); // received, due at its ack deadline
    p.clock.advance(601 * S);
    const now = p.clock.now();
    const c = await t.changes(now);
    expect(c.map((s) => `${s.index}:${s.state}:${s.settled}`)).toEqual([`${sent.index}:overdue-ack:false`]);
    // Meanwhile (the watcher awaits its escalations) the late ack arrives and a listing refreshes: filed, due again.
    const ack = await p.cn.acknowledge('wang', 'US', sent.index);
    await p.deliver(p.cn, p.us, [ack.index]);
    await t.refresh();
    await t.done(c);
    // The stale verdict (open, due never) was not written over the ack: listing and counts show it settled.
    const l = await t.listing(now + 1, {}, 10);
    expect(l.items.find((s) => s.index === sent.index)).toMatchObject({ state: 'overdue-ack', settled: true, ack: { index: ack.index } });
    expect(l.counts.open).toBe(0);
    // And it is judged again at the next pass, then stored settled.
    expect((await t.changes(now + 1)).map((s) => `${s.index}:${s.settled}`)).toContain(`${sent.index}:true`);
  });

  it('pages /v1/deadlines by the key each item was placed by, not its key re-judged with newer bounds (hfix1)', async () => {
    const p = await pair();
    const base = Date.now();
    const sent: number[] = [];
    for (const ago of [10, 8, 6]) {
      p.clock.t = base - ago * S;
      sent.push((await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: `m${ago}` })).index);
    }
    const [a, b, c] = sent as [number, number, number];
    const passwordHash = await hashPassword('correct horse battery staple');
    await p.usStore.putOfficer({ name: 'audrey', role: 'auditor', passwordHash, created: new Date().toISOString(), disabled: false });
    const app = await createServer({ node: p.us, store: p.usStore });
    closers.push(() => app.close());
    const login = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { name: 'audrey', password: 'correct horse battery staple' } });
    const headers = { authorization: `Bearer ${login.json<{ token: string }>().token}` };
    type Page = { items: { index: number; state: string; receiptDueAt: string }[]; next?: string };
    const tracker = deadlineTracker(p.us, p.usStore);
    await tracker.refresh();
    await tracker.done(await tracker.changes(Date.now())); // stored in listing order A, B, C (by receipt due time)
    // Newer bounds (not yet judged into the store) put B's receipt deadline before A's.
    tracker.setBounds({ bound: (party, index) => (party === 'US' && index === b ? { notAfter: new Date(base - 30 * S).toISOString() } : undefined) });
    const first = (await app.inject({ method: 'GET', url: '/v1/deadlines?limit=2', headers })).json<Page>();
    expect(first.items.map((i) => i.index)).toEqual([a, b]);
    expect(Date.parse(first.items[1]!.receiptDueAt)).toBeLessThan(Date.parse(first.items[0]!.receiptDueAt)); // B re-judged: due before A
    const second = (await app.inject({ method: 'GET', url: `/v1/deadlines?limit=2&after=${first.next}`, headers })).json<Page>();
    expect(second.items.map((i) => i.index)).toEqual([c]); // neither A nor B again
    expect(second.next).toBeUndefined();
  });

  it('never judges a delivery later than it once was when a full cosigned history drops its oldest points', async () => {
    const p = await pair();
    const sent = await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'old' }); // claimed at T0
    const bounds = await CosignedBounds.open(p.us, p.usStore);
    closers.push(() => bounds.close());
    const t = new DeadlineTracker({ node: p.us, store: p.usStore });
    t.setBounds(bounds);
    await t.refresh();
    const pass = async (now: number) => {
      const c = await t.changes(now);
      await t.done(c);
      return c;
    };
    // CN cosigned US's log holding the entry 30 s before its claim: the deadline runs from then.
    const t0 = T0 / 1000 - 30;
    bounds.record({ party: 'US', cosigner: 'CN', size: sent.index + 1, timestamp: t0 });
    await pass(p.clock.now());
    const judgedAt = (await t.status('US', sent.index, 'CN', p.clock.now()))!;
    expect(judgedAt.receiptDueAt).toBe(at(-30 * S + 60 * S));
    // MAX_POINTS later cosignatures (a second apart): the oldest point goes, and the entry's bound in the history moves later.
    for (let k = 1; k <= MAX_POINTS; k++) bounds.record({ party: 'US', cosigner: 'CN', size: sent.index + 1 + k, timestamp: t0 + k });
    expect(bounds.bound('US', sent.index, 'CN')?.notAfter).toBe(new Date((t0 + 1) * 1000).toISOString());
    // The tracker keeps the earlier bound it judged by (its floor), whatever makes it judge again.
    await p.usStore.rejudgeDeliveries([{ party: 'US', from: sent.index, to: sent.index + 1 }]);
    await pass(p.clock.now());
    expect((await t.status('US', sent.index, 'CN', p.clock.now()))?.receiptDueAt).toBe(at(-30 * S + 60 * S));
    expect((await t.status('US', sent.index, 'CN', p.clock.now() + 31 * S))?.state).toBe('overdue-receipt'); // by the earlier bound
  });

  it('judges again at start only the deliveries a new cosigned history covers, not every delivery', async () => {
    const p = await pair();
    const sent = [];
    for (let i = 0; i < 3; i++) sent.push(await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: `m${i}` }));
    const first = new DeadlineTracker({ node: p.us, store: p.usStore });
    await first.refresh();
    await first.done(await first.changes(p.clock.now())); // judged (no cosignature yet) and stored
    // A restart: a new tracker with the cosigned bounds, which cover the first entry only.
    const bounds = await CosignedBounds.open(p.us, p.usStore);
    closers.push(() => bounds.close());
    bounds.record({ party: 'US', cosigner: 'CN', size: sent[0]!.index + 1, timestamp: T0 / 1000 - 5 });
    const t = new DeadlineTracker({ node: p.us, store: p.usStore });
    t.setBounds(bounds);
    await t.refresh();
    const c = await t.changes(p.clock.now());
    expect(c.map((s) => s.index)).toEqual([sent[0]!.index]);
    expect(c[0]?.receiptDueAt).toBe(at(-5 * S + 60 * S));
  });

  /** US's watcher (a tracker of its own), posting webhooks to `url`, on the pair's clock. */
  const webhookWatcher = (p: Pair, url: string) =>
    new DeadlineWatcher({
      tracker: new DeadlineTracker({ node: p.us, store: p.usStore }),
      store: p.usStore,
      logger: recorder(),
      clock: p.clock,
      webhook: { url, key: p.parties[1]!.keys.log },
      maxSleepMs: 3600 * S,
    });

  it('holds no memory per overdue delivery in the watcher once its webhook is delivered', async () => {
    const p = await pair();
    const hook = await receiver();
    const watcher = webhookWatcher(p, hook.url);
    closers.push(() => watcher.stop());
    const n = 12;
    for (let i = 0; i < n; i++) await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: `m${i}` });
    await watcher.start();
    p.clock.advance(60 * S + 1);
    await watcher.check();
    await vi.waitFor(() => expect(hook.hits).toHaveLength(n), { timeout: 10_000 });
    await watcher.idle();
    expect(watcher.pending).toEqual([]);
    expect((await p.usStore.escalations()).filter((e) => e.webhook?.state === 'delivered')).toHaveLength(n);
    expect(watcher.held).toBe(0); // not one entry per overdue delivery escalated since start
  });

  it('the live events hub remembers only the deliveries still expecting an answer, not every delivery (issue 14)', async () => {
    const p = await pair();
    // 40 heartbeats CN receipts on arrival (settled at once) and one FLASH message awaiting CN's ack.
    const beats = (await Promise.all(Array.from({ length: 40 }, () => p.us.heartbeat()))).map((e) => e.index);
    const flash = await p.us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'ack me' });
    await p.deliver(p.us, p.cn, [...beats, flash.index]);
    const hub = new EventHub(p.cn, p.cnStore, { keepaliveMs: 60_000 });
    const server = createHttpServer((_req, res) => hub.open(res, undefined, Date.now() + 60_000));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const ac = new AbortController();
    closers.push(async () => {
      ac.abort();
      hub.close();
      await new Promise((r) => server.close(r));
    });
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { signal: ac.signal });
    expect(res.status).toBe(200);
    let text = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of res.body!) text += decoder.decode(chunk as Uint8Array, { stream: true });
    })().catch(() => undefined);
    // The first pass remembers the FLASH delivery only (it remembered all 41 before).
    await vi.waitFor(() => expect(hub.heldDeadlines).toBe(1), { timeout: 10_000 });
    // CN acknowledges: the change is announced, and the delivery, settled, is forgotten; CN's ack, sent to US and
    // awaiting US's receipt, is the one delivery remembered now.
    const ack = await p.cn.acknowledge('wang', 'US', flash.index);
    await vi.waitFor(() => expect(text).toContain(`"party":"US","index":${flash.index},"recipient":"CN","state":"acknowledged"`), { timeout: 10_000 });
    await vi.waitFor(() => expect(text).toContain(`"party":"CN","index":${ack.index},"recipient":"US"`), { timeout: 10_000 });
    expect(hub.heldDeadlines).toBe(1);
    ac.abort();
    await reading;
  });

  it('holds no memory per announced arrival once its webhook is delivered, and announces none twice across a restart', async () => {
    const p = await pair();
    const hook = await receiver();
    const watcher = webhookWatcher(p, hook.url);
    closers.push(() => watcher.stop());
    await watcher.start();
    const n = 12;
    const events = Array.from({ length: n }, (_, i) => ({ id: `arrival/CN/${i}`, body: JSON.stringify({ i }) }));
    expect(await watcher.announce(events)).toEqual(events.map((e) => e.id));
    expect(await watcher.announce(events.slice(0, 3))).toEqual([]); // still pending: not queued twice
    await watcher.check();
    await vi.waitFor(() => expect(hook.hits).toHaveLength(n), { timeout: 10_000 });
    await watcher.idle();
    expect(watcher.pending).toEqual([]);
    expect(watcher.held).toBe(0); // not one id per FLASH arrival announced since start
    // Delivered: the store, not memory, says they were announced.
    expect(await watcher.announce(events)).toEqual([]);
    await watcher.stop();
    const again = webhookWatcher(p, hook.url);
    closers.push(() => again.stop());
    await again.start();
    expect(again.held).toBe(0);
    expect(await again.announce([...events, { id: 'arrival/CN/99', body: '{}' }])).toEqual(['arrival/CN/99']);
    await again.check();
    await vi.waitFor(() => expect(hook.hits).toHaveLength(n + 1), { timeout: 10_000 });
  });
});
