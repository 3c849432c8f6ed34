/**
 * The cosignature history's read position survives a restart (issue 14,
 * reviewer finding on federation/gossip.ts). As in
 * deadline-lost-cosignature.test.ts, US's witness cosigns CN's log with the
 * acknowledgement in time, its answer is lost, and after the deadline it
 * cosigns a newer checkpoint. This time CN's process goes down before its
 * gossip read the history, just after a push brought the later cosignature
 * back (`ownCosigned` past the lost one). A new process must still read the
 * lost cosignature — it resumes from the position kept in the store, not
 * from `ownCosigned` — so CN and US judge the acknowledgement alike. With
 * no position stored at all (a node upgraded from a version that kept it in
 * memory) it reads the history from size 0, with the same outcome.
 *
 * Two real runtimes on 127.0.0.1, each reaching the other through a TCP
 * proxy this test owns; CN's restart reopens its SQLite file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '@parley/store';
import { decodeUtf8, openWitnessedCheckpoint } from '@parley/core/node';
import { type Runtime, ParleyNode, hashPassword, startRuntime } from '../src/index.js';
import { historyCursorKey } from '../src/federation/gossip.js';
import { checkpointVerifiers, witnessKeysOf } from '../src/epochs.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { freePort, httpCaller, putGovernanceOfficers, waitFor } from './helpers/governance.js';
import { Cuttable } from './helpers/proxy.js';

const IDS = ['CN', 'US'] as const;
const PASSWORD = 'correct horse battery staple';
/** FLASH acknowledgement deadline (s): room to acknowledge and be cosigned well inside it. */
const ACK_FLASH = 6;

let dir: string;
let accord: ReturnType<typeof makeAccord>;
let parties: ReturnType<typeof makeParty>[];
const runtimes = new Map<string, Runtime>();
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const proxies = new Map<string, Cuttable>(); // "CN>US": CN's way to US
const ports = new Map<string, number>();
const urls: Record<string, string> = {};
const call = httpCaller(urls, new Map(), PASSWORD);

async function start(id: 'CN' | 'US'): Promise<void> {
  const p = parties.find((x) => x.id === id)!;
  const store = SqliteStore.open(join(dir, `${id}.sqlite`));
  stores.set(id, store);
  const node = await ParleyNode.open({ accord, party: id, keys: p.keys, store });
  nodes.set(id, node);
  const q = id === 'US' ? 'CN' : 'US';
  const peerUrls = { [q]: `http://127.0.0.1:${proxies.get(`${id}>${q}`)!.port}` };
  runtimes.set(id, await startRuntime({ node, store, port: ports.get(id)!, peerUrls, heartbeatMs: 0, federation: { pollMs: 200, backoff: { baseMs: 40, maxMs: 300 } } }));
}

async function stop(id: string): Promise<void> {
  await runtimes.get(id)?.stop();
  await nodes.get(id)?.close();
  await stores.get(id)?.close();
  runtimes.delete(id);
  nodes.delete(id);
  stores.delete(id);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-lostcosig-restart-'));
  parties = IDS.map(makeParty);
  accord = makeAccord(parties, { deadlines: { receiptSeconds: 10, ackSeconds: { FLASH: ACK_FLASH, IMMEDIATE: 60, PRIORITY: 60, ROUTINE: 60 }, initialReportSeconds: Object.fromEntries([0, 1, 2, 3, 4, 5, 6, 7].map((s) => [String(s), 86_400])) } });
  const hash = await hashPassword(PASSWORD);
  for (const id of IDS) {
    ports.set(id, await freePort());
    urls[id] = `http://127.0.0.1:${ports.get(id)}`;
  }
  for (const [from, to] of [['US', 'CN'], ['CN', 'US']] as const) proxies.set(`${from}>${to}`, await new Cuttable(ports.get(to)!).listen());
  for (const id of IDS) {
    const store = SqliteStore.open(join(dir, `${id}.sqlite`));
    await putGovernanceOfficers(store, hash);
    await store.close();
  }
  for (const id of IDS) await start(id);
}, 30_000);

afterAll(async () => {
  for (const id of [...runtimes.keys()]) await stop(id);
  for (const p of proxies.values()) await p.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

interface Item {
  state: string;
  ackDueAt: string;
  ack?: { index: number; at: string; judgedAt: string; onTime: boolean };
}

async function delivery(at: 'US' | 'CN', index: number): Promise<Item | undefined> {
  const r = await call(at, 'GET', `/v1/deadlines?direction=${at === 'US' ? 'sent' : 'received'}&party=US&index=${index}&recipient=CN`, undefined, 'alice');
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return (r.body as { items: Item[] }).items[0];
}

const usCosignedCN = async () => (await nodes.get('US')!.witness.latest('CN'))?.treeSize ?? 0;
const cnHoldsFromUS = async () => (await stores.get('CN')!.ownCosigned('US'))?.treeSize ?? 0;

/**
 * One FLASH delivery US → CN whose acknowledgement's cosignature is lost and
 * superseded, CN restarting in between; `forget` also removes CN's stored
 * read position first (a node upgraded from a version that kept none).
 */
async function lostThenRestart(forget: boolean): Promise<void> {
  const sent = await call('US', 'POST', '/v1/messages', { to: ['CN'], precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'Anomalous weight transfer; acknowledge.' }, 'alice');
  expect(sent.status, JSON.stringify(sent.body)).toBe(201);
  const index = (sent.body as { index: number }).index;
  await waitFor('US to hold CN’s receipt', async () => (await delivery('US', index))?.state === 'received');
  const cnSize = nodes.get('CN')!.treeSize;
  await waitFor('CN to hold US’s cosignature of its log with the receipt', async () => (await cnHoldsFromUS()) >= cnSize);

  // Every answer of US to CN is lost from now on; CN's requests still reach US.
  proxies.get('CN>US')!.mute();
  const acked = await call('CN', 'POST', `/v1/entries/US/${index}/ack`, { reply: 'Seen; isolating the cluster.' }, 'alice');
  expect(acked.status, JSON.stringify(acked.body)).toBe(201);
  const ackIndex = (acked.body as { index: number }).index;
  await waitFor('US’s witness to cosign CN’s log with the acknowledgement', async () => (await usCosignedCN()) > ackIndex);
  const due = Date.parse((await delivery('CN', index))!.ackDueAt);
  expect(Date.now()).toBeLessThan(due - 1500);

  await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now() + 1500))); // past the deadline
  const later = await call('CN', 'POST', '/v1/messages', { to: ['US'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'Follow-up.' }, 'alice');
  expect(later.status, JSON.stringify(later.body)).toBe(201);
  const laterIndex = (later.body as { index: number }).index;
  await waitFor('US’s witness to cosign CN’s newer checkpoint', async () => (await usCosignedCN()) > laterIndex);

  // CN goes down. Just before, a push brought the later cosignature back (its answer got through):
  // CN's store holds it as `ownCosigned`, past the lost one, which CN's gossip never read.
  await stop('CN');
  const held = (await nodes.get('US')!.witness.latest('CN'))!;
  const store = SqliteStore.open(join(dir, 'CN.sqlite'));
  const cn = await ParleyNode.open({ accord, party: 'CN', keys: parties.find((x) => x.id === 'CN')!.keys, store });
  const w = openWitnessedCheckpoint(held.note, checkpointVerifiers(cn, 'CN', held.treeSize), witnessKeysOf(cn, 'US'), { quorum: 1 });
  expect(await store.advanceOwnCosigned({ witness: 'US', treeSize: held.treeSize, cosignedAt: Math.max(...w.cosignatures.map((c) => c.timestamp)), note: decodeUtf8(held.note) })).toBe(true);
  expect((await store.cursor('push', historyCursorKey('US')))?.treeSize ?? 0).toBeLessThanOrEqual(ackIndex); // the lost one unread
  await cn.close();
  await store.close();
  if (forget) {
    const raw = new Database(join(dir, 'CN.sqlite'));
    raw.prepare('DELETE FROM cursors WHERE kind = ? AND party = ?').run('push', historyCursorKey('US'));
    raw.close();
  }

  // A new CN process; answers flow again.
  proxies.get('CN>US')!.unmute();
  await start('CN');
  await waitFor('US to judge the acknowledgement', async () => (await delivery('US', index))?.ack !== undefined);
  const us = (await delivery('US', index))!;
  expect(us.ack!.onTime).toBe(true);
  expect(Date.parse(us.ack!.judgedAt)).toBeLessThan(due);

  await waitFor('the new CN process to read US’s history past the acknowledgement', async () => ((await stores.get('CN')!.cursor('push', historyCursorKey('US')))?.treeSize ?? 0) > ackIndex, 15_000).catch(() => undefined);
  await waitFor('CN to judge the acknowledgement by US’s cosignature made in time', async () => (await delivery('CN', index))?.ack?.judgedAt === us.ack!.judgedAt, 15_000).catch(() => undefined);
  const got = (await delivery('CN', index))!;
  expect({ judgedAt: got.ack?.judgedAt, onTime: got.ack?.onTime, ackDueAt: got.ackDueAt }).toEqual({ judgedAt: us.ack!.judgedAt, onTime: true, ackDueAt: us.ackDueAt });
}

describe('the cosignature history after a restart', () => {
  it('a cosignature lost and superseded before CN restarts is still read: one verdict (on time)', () => lostThenRestart(false), 90_000);
  it('with no read position stored (an upgrade), the new process reads the history from 0, not from ownCosigned', () => lostThenRestart(true), 90_000);
});
