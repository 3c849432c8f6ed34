/**
 * Retractions over the wire (issue 13): two real nodes, CN and US, each
 * serving HTTP on 127.0.0.1 and federating by the real push/pull routes.
 * A US officer sends a FLASH report to CN and retracts it with
 * POST /v1/retractions; the retraction travels like any entry and CN's node
 * applies it: CN's inbox, single-entry view and incident show it withdrawn,
 * and neither side counts an acknowledgement due (GET /v1/compliance and its
 * CSV count it `withdrawn`); acknowledging it is refused with ENTRY_WITHDRAWN. Bad requests are RFC 9457
 * problems with their RETRACTION_* codes (never a 5xx), and the role rules
 * of the withdrawn type apply.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { SqliteStore } from '@parley/store';
import { Federator, ParleyNode, createServer, hashPassword, peersOf } from '../src/index.js';
import { makeAccord, makeParty, sampleReport } from './helpers/channel.js';
import { OFFICERS, PASSWORD, expectProblem } from './helpers/http.js';

const parties = [makeParty('CN'), makeParty('US')];
const accord = makeAccord(parties);
let dir: string;
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const apps = new Map<string, FastifyInstance>();
const feds: Federator[] = [];
const urls: Record<string, string> = {};
const tokens = new Map<string, string>();

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

async function call(party: string, officer: string, method: string, path: string, json?: unknown) {
  const key = `${party}/${officer}`;
  if (!tokens.has(key)) {
    const r = await fetch(`${urls[party]}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: officer, password: PASSWORD }) });
    tokens.set(key, ((await r.json()) as { token: string }).token);
  }
  const res = await fetch(`${urls[party]}${path}`, {
    method,
    headers: { authorization: `Bearer ${tokens.get(key)}`, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  const body = await res.text();
  return { statusCode: res.status, headers: Object.fromEntries(res.headers), body, json: <T = Record<string, unknown>>() => JSON.parse(body) as T };
}

type View = { party: string; index: number; retracted?: { action: string; reason?: string; by: { index: number }; replacement?: { index: number } }; deadlines?: { state: string; overdue: string[] }[] };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-retract-http-'));
  const passwordHash = await hashPassword(PASSWORD);
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    stores.set(p.id, store);
    for (const [name, role] of Object.entries(OFFICERS)) await store.putOfficer({ name, role, passwordHash, created: new Date().toISOString(), disabled: false });
    nodes.set(p.id, await ParleyNode.open({ accord, party: p.id, keys: p.keys, store }));
  }
  for (const p of parties) {
    const app = await createServer({ node: nodes.get(p.id)!, store: stores.get(p.id)! });
    apps.set(p.id, app);
    urls[p.id] = await app.listen({ port: 0, host: '127.0.0.1' });
  }
  for (const p of parties) feds.push(await Federator.start(nodes.get(p.id)!, stores.get(p.id)!, peersOf(nodes.get(p.id)!, { urls, timeoutMs: 2000 }), { pollMs: 150, backoff: { baseMs: 40, maxMs: 300 } }));
}, 30_000);

afterAll(async () => {
  for (const f of feds) await f.stop();
  for (const a of apps.values()) await a.close();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('POST /v1/retractions, federated', () => {
  it('US retracts a FLASH report; CN\u2019s inbox, entry view and incident show it withdrawn; no ack is due on either side', async () => {
    const sent = await call('US', 'alice', 'POST', '/v1/reports', { to: ['CN'], precedence: 'FLASH', marking: 'TLP:AMBER', report: sampleReport({ incident: 'US:http-0001' }) });
    expect(sent.statusCode, sent.body).toBe(201);
    const index = sent.json<{ index: number }>().index;
    await waitFor('CN to hold the report', async () => (await stores.get('CN')!.received('US', index)) !== undefined);

    const x = await call('US', 'alice', 'POST', '/v1/retractions', { entry: { party: 'US', index }, reason: 'Reported on the wrong channel', lang: 'en' });
    expect(x.statusCode, x.body).toBe(201);
    const xi = x.json<{ index: number; entry: { type: string; to: string[]; marking: string } }>();
    expect(xi.entry).toMatchObject({ type: 'retraction', to: ['CN'], marking: 'TLP:AMBER' });
    expect(x.headers['location']).toBe(`/v1/entries/US/${xi.index}`);

    await waitFor('CN to apply the retraction', async () => {
      const r = await call('CN', 'alice', 'GET', `/v1/entries/US/${index}`);
      return r.json<View>().retracted !== undefined;
    });
    const one = (await call('CN', 'alice', 'GET', `/v1/entries/US/${index}`)).json<View>();
    expect(one.retracted).toMatchObject({ action: 'retract', reason: 'Reported on the wrong channel', by: { index: xi.index } });
    const inbox = (await call('CN', 'alice', 'GET', '/v1/inbox?type=incident.report')).json<{ items: View[] }>();
    expect(inbox.items.find((v) => v.index === index)?.retracted?.reason).toBe('Reported on the wrong channel');
    expect(inbox.items.find((v) => v.index === index)?.deadlines?.[0]?.state).toBe('withdrawn');
    // The auditor sees that it was withdrawn, not the sealed reason.
    const audited = (await call('CN', 'audrey', 'GET', `/v1/entries/US/${index}`)).json<View>();
    expect(audited.retracted).toMatchObject({ action: 'retract' });
    expect(audited.retracted?.reason).toBeUndefined();

    // Acknowledging it is refused (409 ENTRY_WITHDRAWN), and nothing is written.
    const size = await stores.get('CN')!.treeSize();
    const refused = await call('CN', 'alice', 'POST', `/v1/entries/US/${index}/ack`, { reply: 'seen' });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(refused.json()).toMatchObject({ code: 'ENTRY_WITHDRAWN', status: 409 });
    expect(await stores.get('CN')!.treeSize()).toBe(size);
    expect((await stores.get('CN')!.referencing('US', index)).some((e) => e.meta.type === 'ack')).toBe(false);

    const incident = (await call('CN', 'alice', 'GET', '/v1/incidents?q=http-0001')).json<{ items: { incident: string; status: string }[] }>();
    expect(incident.items).toEqual([expect.objectContaining({ incident: 'US:http-0001', status: 'retracted' })]);
    const timeline = (await call('CN', 'alice', 'GET', '/v1/incidents/US:http-0001')).json<{ timeline: View[] }>();
    expect(timeline.timeline.map((v) => v.index)).toEqual([index, xi.index]);

    // The sender's outbox: the delivery to CN is withdrawn, not overdue — and stays so.
    await waitFor('US to see CN\u2019s receipt of the report', async () => {
      const out = (await call('US', 'alice', 'GET', '/v1/outbox?type=incident.report')).json<{ items: View[] }>();
      return out.items.find((v) => v.index === index)?.deadlines?.[0]?.state === 'withdrawn';
    });
    const out = (await call('US', 'alice', 'GET', '/v1/outbox?type=incident.report')).json<{ items: View[] }>();
    expect(out.items.find((v) => v.index === index)).toMatchObject({ retracted: { action: 'retract' }, deadlines: [{ state: 'withdrawn', overdue: [] }] });
    const compliance = (await call('CN', 'alice', 'GET', '/v1/compliance')).json<{ acks: { from: string; precedence: string; withdrawn: number; overdue: number; pending: number }[] }>();
    expect(compliance.acks.find((r) => r.from === 'US' && r.precedence === 'FLASH')).toMatchObject({ withdrawn: 1, overdue: 0, pending: 0 });
    // The CSV export says the same, in its own column.
    const [header, ...lines] = (await call('CN', 'alice', 'GET', '/v1/compliance.csv?kind=acks')).body.trimEnd().split('\r\n');
    const cols = header!.split(',');
    const flash = lines.map((l) => Object.fromEntries(l.split(',').map((v, i) => [cols[i]!, v]))).find((r) => r['from'] === 'US' && r['precedence'] === 'FLASH');
    expect(flash).toMatchObject({ count: '1', withdrawn: '1', overdue: '0', pending: '0', hitRate: '' });
  });

  it('refuses bad retractions with problem+json 4xx codes, and applies the withdrawn type\u2019s role rules', async () => {
    const msg = await call('CN', 'alice', 'POST', '/v1/messages', { to: ['US'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'from CN' });
    const cnIndex = msg.json<{ index: number }>().index;
    expectProblem(await call('US', 'alice', 'POST', '/v1/retractions', { entry: { party: 'CN', index: cnIndex }, reason: 'not mine' }), 403, 'RETRACTION_NOT_OWN');
    expectProblem(await call('US', 'alice', 'POST', '/v1/retractions', { entry: { party: 'US', index: 99_999 }, reason: 'nothing there' }), 422, 'RETRACTION_TARGET_MISSING');
    const m = (await call('US', 'alice', 'POST', '/v1/messages', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:GREEN', text: 'oops' })).json<{ index: number }>().index;
    expectProblem(await call('US', 'alice', 'POST', '/v1/retractions', { entry: { party: 'US', index: m }, reason: 'x', marking: 'TLP:CLEAR' }), 422, 'RETRACTION_MARKING');
    expectProblem(await call('US', 'audrey', 'POST', '/v1/retractions', { entry: { party: 'US', index: m }, reason: 'auditors do not write' }), 403, 'FORBIDDEN');
    expectProblem(await call('US', 'alice', 'POST', '/v1/retractions', { entry: { party: 'US', index: m } }), 400, 'VALIDATION_FAILED');
    expect((await call('US', 'alice', 'POST', '/v1/retractions', { entry: { party: 'US', index: m }, reason: 'sent twice' })).statusCode).toBe(201);
    expectProblem(await call('US', 'alice', 'POST', '/v1/retractions', { entry: { party: 'US', index: m }, reason: 'again' }), 409, 'RETRACTION_ALREADY');
    // Supersede a report by a later report of the same incident.
    const r1 = (await call('US', 'alice', 'POST', '/v1/reports', { to: ['CN'], marking: 'TLP:CLEAR', report: sampleReport({ incident: 'US:http-0002', title: 'First' }) })).json<{ index: number }>().index;
    const r2 = (await call('US', 'alice', 'POST', '/v1/reports', { to: ['CN'], marking: 'TLP:CLEAR', report: sampleReport({ incident: 'US:http-0002', kind: 'update', title: 'Corrected' }) })).json<{ index: number }>().index;
    expectProblem(await call('US', 'alice', 'POST', '/v1/retractions', { entry: { party: 'US', index: r2 }, replacement: { party: 'US', index: r1 }, reason: 'backwards' }), 422, 'RETRACTION_REPLACEMENT_INVALID');
    const s = await call('US', 'alice', 'POST', '/v1/retractions', { entry: { party: 'US', index: r1 }, replacement: { party: 'US', index: r2 }, reason: 'title corrected' });
    expect(s.statusCode, s.body).toBe(201);
    await waitFor('CN to apply the supersession', async () => (await call('CN', 'alice', 'GET', `/v1/entries/US/${r1}`)).json<View>().retracted !== undefined);
    expect((await call('CN', 'alice', 'GET', `/v1/entries/US/${r1}`)).json<View>().retracted).toMatchObject({ action: 'supersede', replacement: { index: r2 } });
    const inc = (await call('CN', 'alice', 'GET', '/v1/incidents?q=http-0002')).json<{ items: { title: string; status: string }[] }>();
    expect(inc.items).toEqual([expect.objectContaining({ title: 'Corrected', status: 'updated' })]);
  });
});
