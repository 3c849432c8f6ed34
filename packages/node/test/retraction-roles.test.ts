/**
 * Retractions follow the role rules of what they withdraw (http/retractions.ts):
 * with an accord whose `roles.report` is admins only, an officer may neither
 * send a report or a link nor retract one; an admin may. Real nodes on SQLite,
 * the HTTP API in process.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SignedAccord, draftAccord, signAccord, verifyAccord } from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { ParleyNode, createServer, hashPassword } from '../src/index.js';
import { makeParty, sampleReport } from './helpers/channel.js';
import { OFFICERS, PASSWORD, expectProblem, login } from './helpers/http.js';

const parties = [makeParty('CN'), makeParty('US')];
const nodes = new Map<string, ParleyNode>();
const stores = new Map<string, SqliteStore>();
const apps = new Map<string, FastifyInstance>();

beforeAll(async () => {
  let signed: SignedAccord = { accord: { ...draftAccord({ name: 'roles-channel', parties: parties.map((p) => p.party) }), roles: { amend: ['admin'], flash: ['admin', 'officer'], report: ['admin'] } }, signatures: [] };
  for (const p of parties) signed = signAccord(signed, p.id, p.keys.log);
  verifyAccord(signed);
  const passwordHash = await hashPassword(PASSWORD);
  for (const p of parties) {
    const store = SqliteStore.open(':memory:');
    for (const [name, role] of Object.entries(OFFICERS)) await store.putOfficer({ name, role, passwordHash, created: new Date().toISOString(), disabled: false });
    const node = await ParleyNode.open({ accord: signed, party: p.id, keys: p.keys, store });
    stores.set(p.id, store);
    nodes.set(p.id, node);
    apps.set(p.id, await createServer({ node, store }));
  }
});
afterAll(async () => {
  for (const a of apps.values()) await a.close();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
});

describe('retraction roles', () => {
  it('an officer may not retract an incident link when only admins send reports and links', async () => {
    const us = apps.get('US')!;
    const root = await login(us, 'root');
    const alice = await login(us, 'alice');
    const mine = await us.inject({ method: 'POST', url: '/v1/reports', headers: root, payload: { marking: 'TLP:CLEAR', report: sampleReport({ incident: 'US:2026-0001' }) } });
    expect(mine.statusCode, mine.body).toBe(201);
    const theirs = await nodes.get('CN')!.submit('root', { type: 'incident.report', to: ['US'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', body: sampleReport({ incident: 'CN:2026-0001' }) as never });
    await nodes.get('US')!.ingest([(await stores.get('CN')!.entry(theirs.index))!.bytes]);
    // An officer may not link (the accord's report role) …
    expectProblem(await us.inject({ method: 'POST', url: '/v1/incidents/links', headers: alice, payload: { incidents: ['US:2026-0001', 'CN:2026-0001'] } }), 403, 'FORBIDDEN');
    const link = await us.inject({ method: 'POST', url: '/v1/incidents/links', headers: root, payload: { incidents: ['US:2026-0001', 'CN:2026-0001'] } });
    expect(link.statusCode, link.body).toBe(201);
    const index = link.json<{ index: number }>().index;
    // … nor withdraw one; nothing is written.
    const size = nodes.get('US')!.treeSize;
    expectProblem(await us.inject({ method: 'POST', url: '/v1/retractions', headers: alice, payload: { entry: { index }, reason: 'not the same event' } }), 403, 'FORBIDDEN');
    expect(nodes.get('US')!.treeSize).toBe(size);
    const r = await us.inject({ method: 'POST', url: '/v1/retractions', headers: root, payload: { entry: { index }, reason: 'not the same event' } });
    expect(r.statusCode, r.body).toBe(201);
  });
});
