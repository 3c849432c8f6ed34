/**
 * Withdrawal from a two-party channel over real HTTP on 127.0.0.1 (issue 11,
 * GOV.md §1): AA withdraws alone (its prior signature is enough), the version
 * left with BB alone is frozen; both nodes activate it and from then on
 * refuse every new entry with CHANNEL_FROZEN (409), storing nothing.
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
const IDS = ['AA', 'BB'] as const;
let dir: string;
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const runtimes = new Map<string, Runtime>();
const urls: Record<string, string> = {};
const tokens = new Map<string, string>();

const call = httpCaller(urls, tokens, PASSWORD);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-freeze-'));
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
    const other = IDS.find((x) => x !== id)!;
    runtimes.set(id, await startRuntime({ node: nodes.get(id)!, store: stores.get(id)!, port: ports.get(id)!, peerUrls: { [other]: urls[other]! }, heartbeatMs: 0, federation: { pollMs: 200, backoff: { baseMs: 40, maxMs: 300 } } }));
  }
}, 30_000);

afterAll(async () => {
  for (const r of runtimes.values()) await r.stop();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a two-party withdrawal freezes the channel', () => {
  it('AA withdraws alone; both nodes activate the frozen version; every later write is CHANNEL_FROZEN and stores nothing', async () => {
    const cur = nodes.get('AA')!.chain.current;
    const withdrawal = draftAmendment(cur, { ...cur.accord, parties: cur.accord.parties.filter((p) => p.id !== 'AA'), amendmentQuorum: 1 });
    const r = await call('AA', 'POST', '/v1/accord/proposals', { accord: withdrawal, rationale: 'AA withdraws' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    for (const id of IDS) await waitFor(`${id} to run on version 2`, () => nodes.get(id)!.chain.current.version === 2);
    await waitFor('BB to activate it', async () => ((await call('BB', 'GET', '/v1/accord/chain')).body.activations as { party: string }[]).some((a) => a.party === 'BB'));
    expect(nodes.get('BB')!.chain.current.frozen).toBe(true);
    for (const id of IDS) {
      await waitFor(`${id} to halt`, () => nodes.get(id)!.halted !== undefined);
      const size = nodes.get(id)!.treeSize;
      const sent = await call(id, 'POST', '/v1/messages', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'anyone there?' }, 'alice');
      expect(sent.status, JSON.stringify(sent.body)).toBe(409);
      expect(sent.type).toMatch(/^application\/problem\+json/);
      expect(sent.body.code).toBe('CHANNEL_FROZEN');
      await expect(nodes.get(id)!.heartbeat()).rejects.toMatchObject({ code: 'CHANNEL_FROZEN' });
      expect(nodes.get(id)!.treeSize).toBe(size);
    }
    // The version is frozen: nothing amends it.
    const again = draftAmendment(nodes.get('BB')!.chain.current, { ...nodes.get('BB')!.chain.current.accord, heartbeatSeconds: 60 });
    const refused = await call('BB', 'POST', '/v1/accord/proposals', { accord: again });
    expect(refused.body.code).toBe('CHANNEL_FROZEN');
    expect(refused.status).toBe(409);
  });
});
