/**
 * One delivery, one verdict (issue 14, the soak's "one acknowledgement judged
 * late by its sender"): the sender's and the recipient's nodes judge a
 * deadline on the same evidence (deadlines/state.ts "Whose cosignatures"),
 * so their dashboards agree.
 *
 * Three real runtimes (server, federator, cosigned bounds, tracker) on
 * 127.0.0.1; US and CN reach each other through TCP proxies this test owns,
 * EU directly. US sends CN a FLASH message; the US–CN links are cut; CN's
 * officer acknowledges well before the deadline and EU's witness cosigns
 * CN's log (with the acknowledgement) at once; the cut heals only after the
 * deadline, so US's witness cosigns the acknowledgement late. Before the
 * fix CN judged its acknowledgement by EU's earlier cosignature (on time)
 * while US judged it by its own (late): two verdicts of one delivery. Now
 * both judge it by US's cosignature — the counterpart's (PRODUCT.md "times
 * are bounded by the counterpart's cosignature timestamps") — and agree.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '@parley/store';
import { type Runtime, ParleyNode, hashPassword, startRuntime } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { freePort, httpCaller, putGovernanceOfficers, waitFor } from './helpers/governance.js';
import { Cuttable } from './helpers/proxy.js';

const IDS = ['CN', 'EU', 'US'] as const;
const PASSWORD = 'correct horse battery staple';
/** FLASH acknowledgement deadline (s): long enough to cut, acknowledge and be witnessed by EU inside it. */
const ACK_FLASH = 8;

let dir: string;
const runtimes = new Map<string, Runtime>();
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const proxies = new Map<string, Cuttable>(); // "US>CN": US's way to CN
const urls: Record<string, string> = {};
const call = httpCaller(urls, new Map(), PASSWORD);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-agree-'));
  const parties = IDS.map(makeParty);
  const accord = makeAccord(parties, { deadlines: { receiptSeconds: 10, ackSeconds: { FLASH: ACK_FLASH, IMMEDIATE: 60, PRIORITY: 60, ROUTINE: 60 }, initialReportSeconds: Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7].map((s) => [String(s), 86_400])) } });
  const hash = await hashPassword(PASSWORD);
  const ports = new Map<string, number>();
  for (const id of IDS) {
    ports.set(id, await freePort());
    urls[id] = `http://127.0.0.1:${ports.get(id)}`;
  }
  for (const [from, to] of [['US', 'CN'], ['CN', 'US']] as const) proxies.set(`${from}>${to}`, await new Cuttable(ports.get(to)!).listen());
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    await putGovernanceOfficers(store, hash);
    stores.set(p.id, store);
    nodes.set(p.id, await ParleyNode.open({ accord, party: p.id, keys: p.keys, store }));
  }
  for (const id of IDS) {
    const peerUrls = Object.fromEntries(IDS.filter((q) => q !== id).map((q) => [q, proxies.has(`${id}>${q}`) ? `http://127.0.0.1:${proxies.get(`${id}>${q}`)!.port}` : urls[q]!]));
    runtimes.set(id, await startRuntime({ node: nodes.get(id)!, store: stores.get(id)!, port: ports.get(id)!, peerUrls, heartbeatMs: 0, federation: { pollMs: 200, backoff: { baseMs: 40, maxMs: 300 } } }));
  }
}, 30_000);

afterAll(async () => {
  for (const r of runtimes.values()) await r.stop();
  for (const p of proxies.values()) await p.close();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Item {
  state: string;
  ackDueAt: string;
  ack?: { index: number; at: string; judgedAt: string; onTime: boolean };
}

/** The delivery US/`index` → CN as `at`'s node reports it (GET /v1/deadlines). */
async function delivery(at: 'US' | 'CN', index: number): Promise<Item | undefined> {
  const r = await call(at, 'GET', `/v1/deadlines?direction=${at === 'US' ? 'sent' : 'received'}&party=US&index=${index}&recipient=CN`, undefined, 'alice');
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return (r.body as { items: Item[] }).items[0];
}

/** Size of `log`'s log that `witness` cosigned, as `log`'s node holds it (the cosignature its push got back). */
async function cosignedBy(log: string, witness: string): Promise<number> {
  return (await stores.get(log)!.ownCosigned(witness))?.treeSize ?? 0;
}

describe('the sender and the recipient judge one acknowledgement alike', () => {
  it('an acknowledgement EU witnessed in time but US only after the deadline: both nodes give the same judged time and verdict (US’s cosignature)', async () => {
    // Everyone witnesses everyone first (the start of the clock is cosigned too).
    const sent = await call('US', 'POST', '/v1/messages', { to: ['CN'], precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'Anomalous weight transfer; acknowledge.' }, 'alice');
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const index = (sent.body as { index: number }).index;
    await waitFor('CN to hold the message and US to hold its receipt', async () => (await delivery('US', index))?.state === 'received');
    await waitFor('the start of the clock cosigned on both nodes (CN cosigned US/index)', async () => ((await nodes.get('CN')!.witness.latest('US'))?.treeSize ?? 0) > index && (await cosignedBy('US', 'CN')) > index);

    // Cut US–CN; CN's officer acknowledges well before the deadline; EU witnesses it at once.
    for (const p of proxies.values()) p.block();
    const acked = await call('CN', 'POST', `/v1/entries/US/${index}/ack`, { reply: 'Seen; isolating the cluster.' }, 'alice');
    expect(acked.status, JSON.stringify(acked.body)).toBe(201);
    const ackIndex = (acked.body as { index: number }).index;
    const madeBy = Date.now();
    await waitFor("EU's cosignature of CN's log with the acknowledgement", async () => (await cosignedBy('CN', 'EU')) > ackIndex);
    const due = Date.parse((await delivery('CN', index))!.ackDueAt);
    expect(madeBy).toBeLessThan(due - 2000); // made well before the deadline

    // Heal after the deadline: US's witness cosigns the acknowledgement late.
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now() + 1500)));
    for (const p of proxies.values()) p.cut = false;
    await waitFor('US to judge the acknowledgement', async () => (await delivery('US', index))?.ack !== undefined, 20_000);
    await waitFor("CN to hold US's cosignature of its log with the acknowledgement", async () => (await cosignedBy('CN', 'US')) > ackIndex, 20_000);

    const us = (await delivery('US', index))!;
    const cn = (await delivery('CN', index))!;
    expect(us.ack!.onTime).toBe(false); // US cosigned it only after the deadline
    expect(Date.parse(us.ack!.judgedAt)).toBeGreaterThan(due);
    // One verdict: same judged time, same outcome, same state on both dashboards.
    expect({ judgedAt: cn.ack?.judgedAt, onTime: cn.ack?.onTime, state: cn.state, ackDueAt: cn.ackDueAt }).toEqual({ judgedAt: us.ack!.judgedAt, onTime: us.ack!.onTime, state: us.state, ackDueAt: us.ackDueAt });
  }, 60_000);
});
