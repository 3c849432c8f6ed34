/**
 * Retract and supersede reach every recipient (issue 13: "a retract/supersede
 * entry that every recipient's node applies"). Three real nodes — CN, EU and
 * US — each serving HTTP on 127.0.0.1 and federating by the real push/pull
 * routes (no entry is handed over by the test). US reports two incidents to
 * both CN and EU, supersedes the first report of one with its update and
 * retracts the other; then, on EACH recipient's node, read over HTTP:
 *   - the entry views show the supersede (with its replacement) and the retraction;
 *   - the incident list shows the superseded incident with its replacement's
 *     title and the retracted one `retracted`;
 *   - GET /v1/incidents/{id}/stix revokes what only the withdrawn report made
 *     and the retracted incident, and the bundle still validates;
 *   - a TAXII poller (the independent client) that had read the collection
 *     gets the revoked incident as a new version with `added_after`;
 * and a report sealed to CN alone, retracted, reaches neither EU nor CN's
 * auditor by STIX or TAXII (every collection, every version).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { SqliteStore } from '@parley/store';
import { Federator, ParleyNode, createServer, hashPassword, peersOf } from '../src/index.js';
import { makeAccord, makeParty, sampleReport } from './helpers/channel.js';
import { waitFor } from './helpers/governance.js';
import { OFFICERS, PASSWORD } from './helpers/http.js';
import { TaxiiClient } from './helpers/taxii-client.js';
import { stixValidators } from '../../core/test/helpers/stix-schemas.js';

const parties = [makeParty('CN'), makeParty('EU'), makeParty('US')];
const RECIPIENTS = ['CN', 'EU'] as const;
const accord = makeAccord(parties);
let dir: string;
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const apps = new Map<string, FastifyInstance>();
const feds: Federator[] = [];
const urls: Record<string, string> = {};
const tokens = new Map<string, string>();

async function token(party: string, officer: string): Promise<string> {
  const key = `${party}/${officer}`;
  if (!tokens.has(key)) {
    const r = await fetch(`${urls[party]}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: officer, password: PASSWORD }) });
    expect(r.status).toBe(201);
    tokens.set(key, ((await r.json()) as { token: string }).token);
  }
  return tokens.get(key)!;
}

async function call(party: string, officer: string, method: string, path: string, json?: unknown) {
  const res = await fetch(`${urls[party]}${path}`, {
    method,
    headers: { authorization: `Bearer ${await token(party, officer)}`, ...(json !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(json !== undefined ? { body: JSON.stringify(json) } : {}),
  });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, json: <T = Record<string, unknown>>() => JSON.parse(body) as T };
}

type View = { retracted?: { action: string; reason?: string; by: { index: number }; replacement?: { party: string; index: number } } };
type StixObj = Record<string, unknown> & { id: string; type: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-retract-recipients-'));
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
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('retract and supersede, applied by every recipient’s node', () => {
  it('US supersedes one report and retracts another sent to CN and EU; both recipients’ views, incidents, STIX and TAXII show it', async () => {
    const send = async (report: unknown) => {
      const r = await call('US', 'alice', 'POST', '/v1/reports', { to: [...RECIPIENTS], precedence: 'ROUTINE', marking: 'TLP:AMBER', report });
      expect(r.status, r.body).toBe(201);
      return r.json<{ index: number }>().index;
    };
    const first = await send(sampleReport({ incident: 'US:multi-0001', title: 'Wrong system named', mitigations: ['Took the wrong host offline'] }));
    const update = await send(sampleReport({ incident: 'US:multi-0001', kind: 'update', title: 'The right system', mitigations: ['Rotated credentials'] }));
    const other = await send(sampleReport({ incident: 'US:multi-0002', title: 'Sent in error' }));
    for (const to of RECIPIENTS) await waitFor(`${to} to hold US's reports`, async () => (await stores.get(to)!.received('US', other)) !== undefined && (await stores.get(to)!.received('US', update)) !== undefined);

    // A TAXII poller at each recipient reads the US — TLP:AMBER collection before the withdrawals.
    const taxii: Record<string, { client: TaxiiClient; root: string; amber: string; last: string }> = {};
    for (const to of RECIPIENTS) {
      const client = new TaxiiClient(await token(to, 'alice'));
      const root = (await client.discovery(urls[to]!)).api_roots[0]!;
      const amber = (await client.collections(root)).find((c) => c.title === 'US — TLP:AMBER')!.id;
      const pages = await client.pages(root, amber, 'manifest/');
      taxii[to] = { client, root, amber, last: pages.at(-1)!.last! };
    }

    const sup = await call('US', 'alice', 'POST', '/v1/retractions', { entry: { index: first }, replacement: { index: update }, reason: 'The first report named the wrong system.' });
    expect(sup.status, sup.body).toBe(201);
    expect(sup.json<{ entry: { to: string[] } }>().entry.to.sort()).toEqual([...RECIPIENTS]);
    const ret = await call('US', 'alice', 'POST', '/v1/retractions', { entry: { index: other }, reason: 'Sent to the wrong channel.' });
    expect(ret.status, ret.body).toBe(201);
    const supIndex = sup.json<{ index: number }>().index;
    const retIndex = ret.json<{ index: number }>().index;

    const schemas = stixValidators();
    for (const to of RECIPIENTS) {
      await waitFor(`${to} to apply both withdrawals`, async () => {
        const a = (await call(to, 'alice', 'GET', `/v1/entries/US/${first}`)).json<View>();
        const b = (await call(to, 'alice', 'GET', `/v1/entries/US/${other}`)).json<View>();
        return a.retracted !== undefined && b.retracted !== undefined;
      });
      // Entry views: what was withdrawn, by which entry, and the replacement.
      const a = (await call(to, 'alice', 'GET', `/v1/entries/US/${first}`)).json<View>();
      expect(a.retracted, to).toMatchObject({ action: 'supersede', reason: 'The first report named the wrong system.', by: { index: supIndex }, replacement: { party: 'US', index: update } });
      expect((await call(to, 'alice', 'GET', `/v1/entries/US/${update}`)).json<View>().retracted, to).toBeUndefined();
      expect((await call(to, 'alice', 'GET', `/v1/entries/US/${other}`)).json<View>().retracted, to).toMatchObject({ action: 'retract', by: { index: retIndex } });

      // Incidents: the replacement stands for the superseded one; the retracted incident is retracted.
      const list = (await call(to, 'alice', 'GET', '/v1/incidents?q=multi')).json<{ items: { incident: string; title: string; status: string }[] }>().items;
      expect(list.find((i) => i.incident === 'US:multi-0001'), to).toMatchObject({ title: 'The right system' });
      expect(list.find((i) => i.incident === 'US:multi-0001')?.status, to).not.toBe('retracted');
      expect(list.find((i) => i.incident === 'US:multi-0002'), to).toMatchObject({ status: 'retracted' });

      // STIX: what only the superseded report made is revoked; the incident stands on its replacement.
      const s1 = await call(to, 'alice', 'GET', '/v1/incidents/US:multi-0001/stix');
      expect(s1.status, s1.body).toBe(200);
      const b1 = s1.json<{ objects: StixObj[] }>();
      expect(schemas.bundleErrors(b1), to).toEqual([]);
      const inc1 = b1.objects.find((o) => o.type === 'incident')!;
      expect(inc1, to).toMatchObject({ name: 'The right system' });
      expect(inc1['revoked'], to).toBeUndefined();
      expect(b1.objects.find((o) => o.type === 'course-of-action' && o['name'] === 'Took the wrong host offline'), to).toMatchObject({ revoked: true });
      expect(b1.objects.find((o) => o.type === 'course-of-action' && o['name'] === 'Rotated credentials')?.['revoked'], to).toBeUndefined();
      // The retracted incident is revoked.
      const b2 = (await call(to, 'alice', 'GET', '/v1/incidents/US:multi-0002/stix')).json<{ objects: StixObj[] }>();
      expect(schemas.bundleErrors(b2), to).toEqual([]);
      expect(b2.objects.find((o) => o.type === 'incident'), to).toMatchObject({ name: 'Sent in error', revoked: true });

      // TAXII: the poller gets both incidents' new versions, the retracted one revoked.
      const t = taxii[to]!;
      const fresh = (await t.client.pages(t.root, t.amber, 'objects/', { added_after: t.last, 'match[type]': 'incident' })).flatMap((p) => p.items as StixObj[]);
      expect(fresh.find((o) => o['name'] === 'Sent in error'), to).toMatchObject({ revoked: true });
      expect(fresh.find((o) => o['name'] === 'The right system')?.['revoked'], to).toBeUndefined();
    }
  });

  it('a report sealed to CN alone, and its retraction, never leave in the clear: not to EU, not to CN’s auditor, by STIX or TAXII', async () => {
    const title = 'Sealed to CN alone';
    const sent = await call('US', 'alice', 'POST', '/v1/reports', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:AMBER', report: sampleReport({ incident: 'US:multi-0003', title, mitigations: ['Quarantined the CN-only host'] }) });
    expect(sent.status, sent.body).toBe(201);
    const index = sent.json<{ index: number }>().index;
    await waitFor('CN to hold it', async () => (await stores.get('CN')!.received('US', index)) !== undefined);
    const x = await call('US', 'alice', 'POST', '/v1/retractions', { entry: { index }, reason: 'CN only, and withdrawn.' });
    expect(x.status, x.body).toBe(201);
    await waitFor('CN to apply the retraction', async () => (await call('CN', 'alice', 'GET', `/v1/entries/US/${index}`)).json<View>().retracted !== undefined);
    // A barrier: a later US message to EU arrives, so whatever of US's log EU was to get before it, it has.
    const later = await call('US', 'alice', 'POST', '/v1/messages', { to: ['CN', 'EU'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'after the sealed report' });
    expect(later.status, later.body).toBe(201);
    const li = later.json<{ index: number }>().index;
    await waitFor('EU to hold the later message', async () => (await stores.get('EU')!.received('US', li)) !== undefined);

    // CN's officer gets it, revoked; CN's auditor is refused with STIX_SEALED; EU has nothing to give.
    const cn = await call('CN', 'alice', 'GET', '/v1/incidents/US:multi-0003/stix');
    expect(cn.status, cn.body).toBe(200);
    expect(cn.json<{ objects: StixObj[] }>().objects.find((o) => o.type === 'incident')).toMatchObject({ name: title, revoked: true });
    const audited = await call('CN', 'audrey', 'GET', '/v1/incidents/US:multi-0003/stix');
    expect(audited.status, audited.body).toBe(403);
    expect(audited.json()).toMatchObject({ code: 'STIX_SEALED' });
    const eu = await call('EU', 'alice', 'GET', '/v1/incidents/US:multi-0003/stix');
    expect([403, 404], eu.body).toContain(eu.status);
    expect(eu.body).not.toContain(title);

    // TAXII: nothing of it in any collection EU's officer or CN's auditor reads (every page, every version).
    for (const [party, officer] of [['EU', 'alice'], ['CN', 'audrey']] as const) {
      const client = new TaxiiClient(await token(party, officer));
      const root = (await client.discovery(urls[party]!)).api_roots[0]!;
      for (const c of await client.collections(root)) {
        const items = (await client.pages(root, c.id, 'objects/', { 'match[version]': 'all' })).flatMap((p) => p.items as StixObj[]);
        const text = JSON.stringify(items);
        expect(text, `${party}/${officer} ${c.title}`).not.toContain(title);
        expect(text, `${party}/${officer} ${c.title}`).not.toContain('Quarantined the CN-only host');
        expect(text, `${party}/${officer} ${c.title}`).not.toContain('US:multi-0003');
      }
    }
  });
});
