/**
 * A peer that comes back is served at once (issue 14, the soak's "witnessing
 * lag after restart 10–20 s"; federation/federator.ts "contact"): while a
 * peer is unreachable our push loop's wait doubles, and it used to run to
 * its end after the peer was back. A signed request from the peer (its push)
 * now ends that wait.
 *
 * Two real runtimes on 127.0.0.1. US reaches CN through a TCP proxy this
 * test cuts; CN reaches US directly and pulls only once a minute. What is
 * measured is US's push loop: CN's cosignature of US's log coming back to
 * US (what dates US's entries), and US's link to CN reported up again.
 * US's backoff is long and
 * without jitter (5 s, 10 s, …), so "at once" and "at the end of the wait"
 * are seconds apart.
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

const IDS = ['CN', 'US'] as const;
const PASSWORD = 'correct horse battery staple';
const BASE_MS = 5_000;

let dir: string;
const runtimes = new Map<string, Runtime>();
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const urls: Record<string, string> = {};
let usToCn: Cuttable;
const call = httpCaller(urls, new Map(), PASSWORD);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-contact-'));
  const parties = IDS.map(makeParty);
  const accord = makeAccord(parties);
  const hash = await hashPassword(PASSWORD);
  const ports = new Map<string, number>();
  for (const id of IDS) {
    ports.set(id, await freePort());
    urls[id] = `http://127.0.0.1:${ports.get(id)}`;
  }
  usToCn = await new Cuttable(ports.get('CN')!).listen();
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    await putGovernanceOfficers(store, hash);
    stores.set(p.id, store);
    nodes.set(p.id, await ParleyNode.open({ accord, party: p.id, keys: p.keys, store }));
  }
  runtimes.set('CN', await startRuntime({ node: nodes.get('CN')!, store: stores.get('CN')!, port: ports.get('CN')!, peerUrls: { US: urls['US']! }, heartbeatMs: 0, federation: { pollMs: 60_000, backoff: { baseMs: 40, maxMs: 300 } } }));
  runtimes.set('US', await startRuntime({ node: nodes.get('US')!, store: stores.get('US')!, port: ports.get('US')!, peerUrls: { CN: `http://127.0.0.1:${usToCn.port}` }, heartbeatMs: 0, federation: { pollMs: 60_000, backoff: { baseMs: BASE_MS, maxMs: 60_000, jitter: 0 } } }));
}, 30_000);

afterAll(async () => {
  for (const r of runtimes.values()) await r.stop();
  await usToCn?.close();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const send = async (from: string, to: string, text: string): Promise<number> => {
  const r = await call(from, 'POST', '/v1/messages', { to: [to], precedence: 'FLASH', marking: 'TLP:CLEAR', text }, 'alice');
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return (r.body as { index: number }).index;
};
const holds = async (at: string, party: string, index: number) => (await stores.get(at)!.received(party, index)) !== undefined;
const usLinkToCn = () => runtimes.get('US')!.federator!.links().find((l) => l.party === 'CN')!;

describe('a peer that reaches us ends our backoff to it', () => {
  it("US's push to CN, backing off after failures, goes at once when CN's push reaches US — not when the wait ends", async () => {
    const first = await send('US', 'CN', 'Link check before the cut.');
    await waitFor('CN to hold the first message', () => holds('CN', 'US', first));
    // CN quiet before the cut: its receipt of the first message pushed and cosigned at US. Else that push lands
    // during the cut, and (rightly) brings US's retry forward before the test reads the wait.
    const cnLinkToUs = () => runtimes.get('CN')!.federator!.links().find((l) => l.party === 'US')!;
    await waitFor("CN's log pushed to US and cosigned", () => cnLinkToUs().pushedSize === nodes.get('CN')!.treeSize && cnLinkToUs().cosignedByPeer?.size === nodes.get('CN')!.treeSize);

    usToCn.block();
    const during = await send('US', 'CN', 'Sent while CN cannot be reached.');
    // Two failed pushes: the next try is 2 × BASE_MS after the second.
    await waitFor("US's push to CN to fail twice", () => usLinkToCn().consecutiveFailures >= 2, 20_000);
    const retryAt = Date.parse(usLinkToCn().retryAt!);
    usToCn.cut = false;
    expect(retryAt - Date.now()).toBeGreaterThan(BASE_MS); // the wait a returning peer used to sit out

    // CN writes to US: its push reaches US, and US's push loop goes now.
    const t0 = Date.now();
    const back = await send('CN', 'US', 'We are back.');
    await waitFor('US to hold CN’s message', () => holds('US', 'CN', back), 10_000);
    // US's push loop ran: CN's witness cosigned US's log with the message sent during the cut,
    // and the cosignature came back to US (it dates US's entries: deadlines, cosigned.ts).
    await waitFor("CN's cosignature of US's log up to the message sent during the cut, back at US", async () => ((await stores.get('US')!.ownCosigned('CN'))?.treeSize ?? 0) > during, 2 * BASE_MS);
    const witnessed = Date.now();
    expect(witnessed).toBeLessThan(retryAt - 1_000);
    expect(witnessed - t0).toBeLessThan(BASE_MS);
    expect(await holds('CN', 'US', during)).toBe(true);
    // The pull loop, woken by the same contact, heals too: the link is up again.
    await waitFor("US's link to CN to be up", () => usLinkToCn().consecutiveFailures === 0, BASE_MS);
  }, 60_000);
});
