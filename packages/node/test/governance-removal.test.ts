/**
 * Removal by the others' quorum over real HTTP on 127.0.0.1 (issue 11,
 * GOV.md §1): AA and BB remove CC (unanimity of the parties kept; CC's own
 * signature is neither needed nor counted, so it cannot block its removal).
 * Every node activates the version; CC's node then writes nothing more
 * (CHANNEL_FROZEN), while AA and BB go on talking.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftAmendment } from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { type Runtime, ParleyNode, hashPassword, startRuntime } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { allocatePorts, httpCaller, putGovernanceOfficers, waitFor } from './helpers/governance.js';

const PASSWORD = 'correct horse battery staple';
const IDS = ['AA', 'BB', 'CC'] as const;
let dir: string;
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const runtimes = new Map<string, Runtime>();
const urls: Record<string, string> = {};
const tokens = new Map<string, string>();

const call = httpCaller(urls, tokens, PASSWORD);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-removal-'));
  const parties = IDS.map((id) => makeParty(id));
  const accord = makeAccord(parties);
  const passwordHash = await hashPassword(PASSWORD);
  const ports = await allocatePorts(IDS, urls);
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    stores.set(p.id, store);
    await putGovernanceOfficers(store, passwordHash);
    nodes.set(p.id, await ParleyNode.open({ accord, party: p.id, keys: p.keys, store }));
  }
  for (const id of IDS) {
    const peerUrls = Object.fromEntries(IDS.filter((x) => x !== id).map((x) => [x, urls[x]!]));
    runtimes.set(id, await startRuntime({ node: nodes.get(id)!, store: stores.get(id)!, port: ports.get(id)!, peerUrls, heartbeatMs: 0, federation: { pollMs: 200, backoff: { baseMs: 40, maxMs: 300 } } }));
  }
}, 30_000);

afterAll(async () => {
  for (const r of runtimes.values()) await r.stop();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('removal of a party by the others', () => {
  it('AA and BB remove CC without its signature; CC\u2019s node halts after its activation entry; AA and BB still talk', async () => {
    const cur = nodes.get('AA')!.chain.current;
    expect(cur.accord.amendmentQuorum).toBe(3);
    const removal = draftAmendment(cur, { ...cur.accord, parties: cur.accord.parties.filter((p) => p.id !== 'CC'), amendmentQuorum: 2 });
    const r = await call('AA', 'POST', '/v1/accord/proposals', { accord: removal, rationale: 'CC is removed' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    await waitFor('BB to list it', async () => (await call('BB', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.length === 1);
    // CC's approval of its own removal does not count (and its refusal could not block it).
    await waitFor('CC to list it', async () => (await call('CC', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.length === 1);
    expect((await call('CC', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items[0]).toMatchObject({ status: 'pending', quorum: { need: 2, have: 1 } });
    expect((await call('BB', 'POST', `/v1/accord/proposals/${r.body.digest}/approve`)).status).toBe(201);
    for (const id of IDS) await waitFor(`${id} to run on version 2`, () => nodes.get(id)!.chain.current.version === 2);
    await waitFor('CC to halt', () => nodes.get('CC')!.halted !== undefined);
    // CC's activation entry is in its log, addressed to both others.
    const last = nodes.get('CC')!.treeSize - 1;
    const entry = (await stores.get('CC')!.entry(last))!;
    expect(entry.meta.type).toBe('accord.activation');
    expect([...entry.meta.to].sort()).toEqual(['AA', 'BB']);
    const size = nodes.get('CC')!.treeSize;
    const refused = await call('CC', 'POST', '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'still here?' }, 'alice');
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('CHANNEL_FROZEN');
    expect(nodes.get('CC')!.treeSize).toBe(size);
    // AA and BB go on.
    expect(nodes.get('AA')!.halted).toBeUndefined();
    const sent = await call('AA', 'POST', '/v1/messages', { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'the two of us' }, 'alice');
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    expect(sent.body.entry.to).toEqual(['BB']);
    await waitFor('BB to receive it', async () => (await stores.get('BB')!.received('AA', sent.body.index)) !== undefined);
  });
});
