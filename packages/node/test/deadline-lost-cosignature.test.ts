/**
 * One delivery, one verdict, when a cosignature's answer is lost (issue 14:
 * the soak's wrong verdicts). US sends CN a FLASH message; CN's officer
 * acknowledges well before the deadline and US's witness cosigns CN's log
 * with the acknowledgement at once — but every answer from US to CN is lost
 * on the way back (a proxy that forwards CN's requests and drops US's
 * answers). After the deadline CN writes again and US cosigns the newer
 * checkpoint; only then do answers reach CN again, so CN's push and gossip
 * see only that later cosignature. Before the witness served its signed
 * cosignature history (GET /fed/v1/witness/{party}/cosignatures), CN judged
 * its acknowledgement by that later cosignature (late) while US judged it by
 * the one it made in time (on time): two verdicts of one delivery. Now CN's
 * gossip reads the history and both judge by the same cosignature.
 *
 * Two real runtimes (server, federator, cosigned bounds, tracker) on
 * 127.0.0.1; each reaches the other through a TCP proxy this test owns.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '@parley/store';
import { openWitnessedCheckpoint, parseCheckpoint, parseNote } from '@parley/core/node';
import { type Runtime, ParleyNode, hashPassword, startRuntime } from '../src/index.js';
import { PeerClient } from '../src/federation/peer.js';
import { checkpointVerifiers, witnessKeysOf } from '../src/epochs.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { freePort, httpCaller, putGovernanceOfficers, waitFor } from './helpers/governance.js';
import { Cuttable } from './helpers/proxy.js';

const IDS = ['CN', 'US'] as const;
const PASSWORD = 'correct horse battery staple';
/** FLASH acknowledgement deadline (s): room to acknowledge and be cosigned well inside it. */
const ACK_FLASH = 6;

let dir: string;
const runtimes = new Map<string, Runtime>();
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const proxies = new Map<string, Cuttable>(); // "CN>US": CN's way to US
const urls: Record<string, string> = {};
const call = httpCaller(urls, new Map(), PASSWORD);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-lostcosig-'));
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
    const q = id === 'US' ? 'CN' : 'US';
    const peerUrls = { [q]: `http://127.0.0.1:${proxies.get(`${id}>${q}`)!.port}` };
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

/** Size of CN's log that US's witness holds as cosigned (US's own store). */
const usCosignedCN = async () => (await nodes.get('US')!.witness.latest('CN'))?.treeSize ?? 0;
/** Size of CN's log whose cosignature by US reached CN (its push cursor). */
const cnHoldsFromUS = async () => (await stores.get('CN')!.ownCosigned('US'))?.treeSize ?? 0;

describe('a cosignature whose answer was lost and then superseded', () => {
  it('reaches the log’s node from the witness’s history: sender and recipient judge the acknowledgement alike (on time)', async () => {
    const sent = await call('US', 'POST', '/v1/messages', { to: ['CN'], precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'Anomalous weight transfer; acknowledge.' }, 'alice');
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const index = (sent.body as { index: number }).index;
    await waitFor('US to hold CN’s receipt', async () => (await delivery('US', index))?.state === 'received');
    const cnSize = nodes.get('CN')!.treeSize;
    await waitFor('CN to hold US’s cosignature of its log with the receipt', async () => (await cnHoldsFromUS()) >= cnSize);

    // From now on every answer of US to CN is lost; CN's requests still reach US.
    proxies.get('CN>US')!.mute();
    const acked = await call('CN', 'POST', `/v1/entries/US/${index}/ack`, { reply: 'Seen; isolating the cluster.' }, 'alice');
    expect(acked.status, JSON.stringify(acked.body)).toBe(201);
    const ackIndex = (acked.body as { index: number }).index;
    const madeBy = Date.now();
    await waitFor('US’s witness to cosign CN’s log with the acknowledgement', async () => (await usCosignedCN()) > ackIndex);
    const cosignedBy = Date.now();
    const due = Date.parse((await delivery('CN', index))!.ackDueAt);
    expect(cosignedBy).toBeLessThan(due - 1500); // cosigned well before the deadline
    expect(await cnHoldsFromUS()).toBeLessThanOrEqual(ackIndex); // that cosignature never reached CN

    // After the deadline CN writes again; US cosigns the newer checkpoint (its answer lost too).
    await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now() + 1500)));
    const later = await call('CN', 'POST', '/v1/messages', { to: ['US'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'Follow-up.' }, 'alice');
    expect(later.status, JSON.stringify(later.body)).toBe(201);
    const laterIndex = (later.body as { index: number }).index;
    await waitFor('US’s witness to cosign CN’s newer checkpoint', async () => (await usCosignedCN()) > laterIndex);

    // Answers flow again: CN's push and gossip now see the later cosignature only.
    proxies.get('CN>US')!.unmute();
    await waitFor('CN to hold US’s later cosignature', async () => (await cnHoldsFromUS()) > laterIndex, 30_000);
    await waitFor('US to judge the acknowledgement', async () => (await delivery('US', index))?.ack !== undefined);
    const us = (await delivery('US', index))!;
    expect(us.ack!.onTime).toBe(true); // US cosigned it in time
    expect(Date.parse(us.ack!.judgedAt)).toBeLessThan(due);
    expect(Date.parse(us.ack!.judgedAt)).toBeGreaterThanOrEqual(Math.floor(madeBy / 1000) * 1000 - 1000);

    // One verdict: CN reads US's cosignature history and judges by the same cosignature.
    const same = async () => {
      const cn = await delivery('CN', index);
      return cn?.ack?.judgedAt === us.ack!.judgedAt;
    };
    await waitFor('CN to judge the acknowledgement by US’s cosignature made in time', same, 15_000).catch(() => undefined);
    const cn = (await delivery('CN', index))!;
    expect({ judgedAt: cn.ack?.judgedAt, onTime: cn.ack?.onTime, state: cn.state, ackDueAt: cn.ackDueAt }).toEqual({ judgedAt: us.ack!.judgedAt, onTime: true, state: us.state, ackDueAt: us.ackDueAt });
  }, 90_000);
});

describe('GET /fed/v1/witness/{party}/cosignatures', () => {
  it('serves the witness’s signed cosignatures of a log by size, paged, to an accord party only', async () => {
    const cn = nodes.get('CN')!;
    const peer = new PeerClient(cn, 'US', { url: urls['US']! });
    const all: number[] = [];
    let after = 0;
    for (;;) {
      const page = (await peer.cosignatureHistory('CN', after, 2))!;
      for (const note of page.notes) {
        const size = parseCheckpoint(parseNote(note).text).treeSize;
        // Each is CN's checkpoint with US's cosignature, as the witness state held it.
        openWitnessedCheckpoint(note, checkpointVerifiers(cn, 'CN', size), witnessKeysOf(cn, 'US'), { quorum: 1 });
        all.push(size);
      }
      expect(page.notes.length).toBeLessThanOrEqual(2);
      if (page.next === undefined) break;
      after = page.next;
    }
    expect(all.length).toBeGreaterThanOrEqual(3);
    expect(all).toEqual([...all].sort((a, b) => a - b));
    expect(new Set(all).size).toBe(all.length);
    expect(all[all.length - 1]).toBe(await usCosignedCN());
    // Our own log is not witnessed here; a page size over the cap is bad input; a stranger is refused.
    expect(await peer.cosignatureHistory('US', 0, 10)).toBeUndefined();
    expect((await fetch(`${urls['US']}/fed/v1/witness/CN/cosignatures?after=0`)).status).toBe(401);
    await expect(peer.cosignatureHistory('CN', 0, 101)).rejects.toMatchObject({ status: 400 });
  });
});
