/**
 * Officers' roles by amendment (issue 11, core accord/roles.ts) over real
 * HTTP on 127.0.0.1 with SQLite files: AA and BB amend the accord so that
 * only admins may send FLASH and officers may also amend. Before it, an
 * officer's FLASH goes out and an officer cannot approve; after it, each
 * node refuses its own officer's FLASH message or FLASH report (403
 * FORBIDDEN, problem+json, nothing appended) while ROUTINE messages and
 * reports still go out, and an officer may propose an amendment. Last, an
 * amendment to a taxonomy this build does not know is neither proposed nor
 * approved (422 TAXONOMY_UNKNOWN).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accordId, draftAmendment, parseEntry } from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { type Runtime, ParleyNode, hashPassword, startRuntime } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { type Reply, allocatePorts, httpCaller, putGovernanceOfficers, waitFor } from './helpers/governance.js';

const PASSWORD = 'correct horse battery staple';
const IDS = ['AA', 'BB'] as const;
let dir: string;
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const runtimes = new Map<string, Runtime>();
const urls: Record<string, string> = {};
const tokens = new Map<string, string>();
const call = httpCaller(urls, tokens, PASSWORD);

function expectProblem(r: Reply, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.type).toMatch(/^application\/problem\+json/);
  expect(r.body.code).toBe(code);
}

const REPORT = {
  incident: 'AA:2026-0042',
  kind: 'initial',
  title: 'Model weights exfiltrated',
  summary: 'Weights of a frontier model were copied out of a training cluster.',
  category: 'SC',
  severity: 3,
  stage: 'incident',
  system: { name: 'Test model' },
  actor: { type: 'unknown' },
  harm: { types: [] },
  mitigations: [],
};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-roles-'));
  const parties = IDS.map((id) => makeParty(id));
  const accord = makeAccord(parties);
  const passwordHash = await hashPassword(PASSWORD);
  const ports = await allocatePorts(IDS, urls);
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    stores.set(p.id, store);
    await putGovernanceOfficers(store, passwordHash);
    await store.putOfficer({ name: 'audrey', role: 'auditor', passwordHash, created: new Date().toISOString(), disabled: false });
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

const flash = (text: string) => ({ precedence: 'FLASH', marking: 'TLP:CLEAR', text });

describe('officers\u2019 roles by amendment', () => {
  it('without a roles member: officers send FLASH, only admins amend, auditors write nothing', async () => {
    expect((await call('AA', 'POST', '/v1/messages', flash('before the amendment'), 'alice')).status).toBe(201);
    const cur = nodes.get('AA')!.chain.current;
    const v2 = draftAmendment(cur, { ...cur.accord, heartbeatSeconds: 1200 });
    expectProblem(await call('AA', 'POST', '/v1/accord/proposals', { accord: v2 }, 'alice'), 403, 'FORBIDDEN');
    expectProblem(await call('AA', 'POST', '/v1/messages', flash('an auditor'), 'audrey'), 403, 'FORBIDDEN');
  });

  it('an amendment limits FLASH to admins and lets officers amend; each node enforces it for its own officers', async () => {
    const cur = nodes.get('AA')!.chain.current;
    const roles = { amend: ['admin', 'officer'], flash: ['admin'], report: ['admin', 'officer'] };
    const v2 = draftAmendment(cur, { ...cur.accord, roles } as typeof cur.accord);
    const r = await call('AA', 'POST', '/v1/accord/proposals', { accord: v2, rationale: 'FLASH is for admins' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    await waitFor('BB to list it', async () => (await call('BB', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.length === 1);
    const listed = (await call('BB', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items[0];
    expect(listed.diff).toEqual([
      { path: 'roles.amend', from: ['admin'], to: ['admin', 'officer'] },
      { path: 'roles.flash', from: ['admin', 'officer'], to: ['admin'] },
    ]);
    // Under version 1 BB's officer may not approve yet.
    expectProblem(await call('BB', 'POST', `/v1/accord/proposals/${r.body.digest}/approve`, undefined, 'alice'), 403, 'FORBIDDEN');
    expect((await call('BB', 'POST', `/v1/accord/proposals/${r.body.digest}/approve`)).status).toBe(201);
    for (const id of IDS) await waitFor(`${id} to run on version 2`, () => nodes.get(id)!.chain.current.version === 2);

    for (const id of IDS) {
      const size = nodes.get(id)!.treeSize;
      const refused = await call(id, 'POST', '/v1/messages', flash('an officer tries FLASH'), 'alice');
      expectProblem(refused, 403, 'FORBIDDEN');
      expect(refused.body.detail).toMatch(/accord version 2 lets only admin officers send FLASH/);
      expectProblem(await call(id, 'POST', '/v1/reports', { precedence: 'FLASH', marking: 'TLP:CLEAR', report: { ...REPORT, incident: `${id}:2026-0042` } }, 'alice'), 403, 'FORBIDDEN');
      // Nothing appended for either (receipts of peer traffic may be).
      for (let i = size; i < nodes.get(id)!.treeSize; i++) expect(['receipt', 'heartbeat', 'accord.activation', 'accord.approval']).toContain(parseEntry((await stores.get(id)!.entry(i))!.bytes).type);
      // What the accord still grants goes out.
      expect((await call(id, 'POST', '/v1/messages', { ...flash('routine'), precedence: 'ROUTINE' }, 'alice')).status).toBe(201);
      expect((await call(id, 'POST', '/v1/reports', { marking: 'TLP:CLEAR', report: { ...REPORT, incident: `${id}:2026-0043` } }, 'alice')).status).toBe(201);
      expect((await call(id, 'POST', '/v1/messages', flash('an admin sends FLASH'))).status).toBe(201);
    }
    // Officers may now propose.
    const now = nodes.get('BB')!.chain.current;
    const v3 = draftAmendment(now, { ...now.accord, heartbeatSeconds: 900 });
    expect((await call('BB', 'POST', '/v1/accord/proposals', { accord: v3 }, 'alice')).status).toBe(201);
  }, 60_000);
});

describe('an amendment to a taxonomy this node does not know', () => {
  it('is neither proposed nor approved: 422 TAXONOMY_UNKNOWN, nothing appended', async () => {
    const cur = nodes.get('AA')!.chain.current;
    const v = draftAmendment(cur, { ...cur.accord, taxonomy: { ...cur.accord.taxonomy, version: '2', sha256: 'ab'.repeat(32) } });
    const size = nodes.get('AA')!.treeSize;
    const r = await call('AA', 'POST', '/v1/accord/proposals', { accord: v, rationale: 'taxonomy v2' });
    expectProblem(r, 422, 'TAXONOMY_UNKNOWN');
    expect(r.body.detail).toMatch(/version 2 .*does not know/);
    for (let i = size; i < nodes.get('AA')!.treeSize; i++) expect(parseEntry((await stores.get('AA')!.entry(i))!.bytes).type).not.toBe('accord.amendment');
    // A peer that proposes it anyway (its node does not check): this node will not approve it.
    const sent = await nodes.get('BB')!.submit('root', { type: 'accord.amendment', to: ['AA'], precedence: 'PRIORITY', marking: 'TLP:CLEAR', body: { accord: v, signatures: [] } as never });
    await waitFor('AA to list it', async () => ((await call('AA', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items as { digest: string }[]).some((x) => x.digest === accordId(v)));
    expect(sent.index).toBeGreaterThan(0);
    expectProblem(await call('AA', 'POST', `/v1/accord/proposals/${accordId(v)}/approve`), 422, 'TAXONOMY_UNKNOWN');
    expect(nodes.get('AA')!.chain.current.version).toBe(cur.version);
  }, 30_000);
});
