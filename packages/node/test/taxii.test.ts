/**
 * The read-only TAXII 2.1 server (issue 13) over real sockets on 127.0.0.1,
 * driven by an independent client written from the specification
 * (helpers/taxii-client.ts: it shares nothing with the server's code).
 *
 * US reports two incidents to CN (one TLP:AMBER with an update, one
 * TLP:CLEAR); CN's officer acknowledges. Then, at CN's node:
 *   - discovery → API root → collections → objects, every answer in TAXII's media type
 *   - paging with a small `limit` returns every object exactly once, in date-added order
 *   - filters: added_after, match[type], match[id], match[version] (last / first / all),
 *     match[spec_version]; the versions and manifest resources agree with the objects
 *   - every object validates against the OASIS STIX 2.1 schemas
 *   - auditors see only the TLP:CLEAR collections (403 on the others), officers all
 *   - bad input: 406, 401, 404, 400 — never a 5xx
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, hashPassword } from '../src/index.js';
import { openChannel, sampleReport } from './helpers/channel.js';
import { OFFICERS, PASSWORD } from './helpers/http.js';
import { TAXII, TaxiiClient, type CollectionInfo } from './helpers/taxii-client.js';
import { stixValidators } from '../../core/test/helpers/stix-schemas.js';

type Channel = Awaited<ReturnType<typeof openChannel>>;
let ch: Channel;
const base: Record<string, string> = {};
const apps: FastifyInstance[] = [];
const tokens: Record<string, string> = {};

async function call(url: string, opts: { token?: string; method?: string; json?: unknown; headers?: Record<string, string> } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: opts.method ?? 'GET', headers, ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}) });
  const body = await res.text();
  return { status: res.status, headers: res.headers, body, json: <T>() => JSON.parse(body) as T };
}

async function login(party: string, name: string): Promise<string> {
  const r = await call(`${base[party]}/v1/sessions`, { method: 'POST', json: { name, password: PASSWORD } });
  expect(r.status, r.body).toBe(201);
  return r.json<{ token: string }>().token;
}

async function deliver(from: string, to: string, indexes: readonly number[]) {
  const bytes = [];
  for (const i of indexes) bytes.push((await ch.store(from).entry(i))!.bytes);
  return ch.node(to).ingest(bytes);
}

let root: string;
let officerCollections: CollectionInfo[];

beforeAll(async () => {
  ch = await openChannel(['CN', 'US']);
  const passwordHash = await hashPassword(PASSWORD);
  for (const id of ['CN', 'US']) {
    for (const [name, role] of Object.entries(OFFICERS)) await ch.store(id).putOfficer({ name, role, passwordHash, created: new Date().toISOString(), disabled: false });
    const app = await createServer({ node: ch.node(id), store: ch.store(id) });
    apps.push(app);
    base[id] = await app.listen({ port: 0, host: '127.0.0.1' });
  }
  const us = await login('US', 'alice');
  const send = async (body: unknown) => {
    const r = await call(`${base['US']}/v1/reports`, { method: 'POST', token: us, json: body });
    expect(r.status, r.body).toBe(201);
    return r.json<{ index: number }>().index;
  };
  const reports = [
    await send({ marking: 'TLP:AMBER', report: sampleReport({ incident: 'US:2026-0100', techniques: ['AML.T0051'], mitigations: ['Rotated credentials', 'Blocked the host'] }) }),
    await send({ marking: 'TLP:CLEAR', report: sampleReport({ incident: 'US:2026-0101', title: 'Chatbot gave dangerous advice', category: 'WT', severity: 2 }) }),
  ];
  await deliver('US', 'CN', reports);
  // A second version of the AMBER incident, delivered later: CN adds it when it arrives.
  await new Promise((r) => setTimeout(r, 15));
  const update = await send({ marking: 'TLP:AMBER', report: sampleReport({ incident: 'US:2026-0100', kind: 'update', severity: 6, title: 'Model weights exfiltrated (update)' }) });
  await new Promise((r) => setTimeout(r, 15));
  await deliver('US', 'CN', [update]);
  const cn = await login('CN', 'alice');
  expect((await call(`${base['CN']}/v1/entries/US/${reports[0]}/ack`, { method: 'POST', token: cn, json: { reply: '收到' } })).status).toBe(201);
  tokens['officer'] = cn;
  tokens['auditor'] = await login('CN', 'audrey');
  const client = new TaxiiClient(tokens['officer']);
  const d = await client.discovery(base['CN']!);
  expect(d.api_roots).toHaveLength(1);
  root = d.api_roots[0]!;
  await client.apiRoot(root);
  officerCollections = await client.collections(root);
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await ch?.close();
});

const named = (title: string) => officerCollections.find((c) => c.title === title)!;

describe('TAXII 2.1 at CN, read by an independent client', () => {
  it('offers one read-only collection per (party, marking), with stable UUIDs, the same on both nodes', async () => {
    const titles = officerCollections.map((c) => c.title);
    for (const p of ['US', 'CN']) for (const m of ['TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER', 'TLP:AMBER+STRICT', 'TLP:RED']) expect(titles).toContain(`${p} — ${m}`);
    expect(officerCollections.every((c) => c.can_read && !c.can_write && c.media_types?.includes('application/stix+json;version=2.1'))).toBe(true);
    const us = new TaxiiClient(await login('US', 'alice'));
    const usRoot = (await us.discovery(base['US']!)).api_roots[0]!;
    expect((await us.collections(usRoot)).map((c) => c.id).sort()).toEqual(officerCollections.map((c) => c.id).sort());
    expect(await new TaxiiClient(tokens['officer']).collection(root, named('US — TLP:AMBER').id)).toMatchObject({ title: 'US — TLP:AMBER' });
  });

  it('pages through every object once, in date-added order, and every object is valid STIX 2.1', async () => {
    const client = new TaxiiClient(tokens['officer']);
    const amber = named('US — TLP:AMBER').id;
    const whole = (await client.pages(root, amber, 'objects/')).flatMap((p) => p.items as Record<string, unknown>[]);
    expect(whole.length).toBeGreaterThan(3);
    const types = new Set(whole.map((o) => o['type']));
    for (const t of ['incident', 'identity', 'marking-definition', 'attack-pattern', 'course-of-action']) expect(types).toContain(t);
    const paged = await client.pages(root, amber, 'objects/', { limit: '2' });
    expect(paged.length).toBeGreaterThan(1);
    const ids = paged.flatMap((p) => (p.items as Record<string, unknown>[]).map((o) => `${o['id']}@${o['modified'] ?? o['created']}`));
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(whole.map((o) => `${o['id']}@${o['modified'] ?? o['created']}`).sort());
    // Pages follow each other in date-added order.
    for (let i = 1; i < paged.length; i++) expect(Date.parse(paged[i]!.first!)).toBeGreaterThanOrEqual(Date.parse(paged[i - 1]!.last!));
    const { forType } = stixValidators();
    for (const o of whole) {
      const v = forType(String(o['type']));
      expect(v(o), `${String(o['id'])}: ${JSON.stringify(v.errors)}`).toBe(true);
    }
    // Nothing of the CLEAR incident in the AMBER collection, and the reverse.
    const clear = (await client.pages(root, named('US — TLP:CLEAR').id, 'objects/')).flatMap((p) => p.items as Record<string, unknown>[]);
    const incidentNames = (xs: Record<string, unknown>[]) => xs.filter((o) => o['type'] === 'incident').map((o) => o['name']);
    expect(incidentNames(clear)).toEqual(['Chatbot gave dangerous advice']);
    expect(incidentNames(whole)).toEqual(['Model weights exfiltrated (update)']);
  });

  it('keeps both versions of an updated incident: last by default, first, all, the versions resource and the manifest agree', async () => {
    const client = new TaxiiClient(tokens['officer']);
    const amber = named('US — TLP:AMBER').id;
    const incidents = async (q: Record<string, string>) => (await client.pages(root, amber, 'objects/', { 'match[type]': 'incident', ...q })).flatMap((p) => p.items as Record<string, unknown>[]);
    const [last] = await incidents({});
    expect(last).toMatchObject({ type: 'incident', name: 'Model weights exfiltrated (update)' });
    const [first] = await incidents({ 'match[version]': 'first' });
    expect(first).toMatchObject({ id: last!['id'], name: 'Model weights exfiltrated' });
    const all = await incidents({ 'match[version]': 'all' });
    expect(all.map((o) => o['name'])).toEqual(['Model weights exfiltrated', 'Model weights exfiltrated (update)']);
    const versions = (await client.pages(root, amber, `objects/${String(last!['id'])}/versions/`)).flatMap((p) => p.items as string[]);
    expect(versions).toEqual(all.map((o) => o['modified']));
    const exact = await incidents({ 'match[version]': versions[0]! });
    expect(exact.map((o) => o['name'])).toEqual(['Model weights exfiltrated']);
    const one = await client.get<{ objects: Record<string, unknown>[] }>(`${root}collections/${amber}/objects/${String(last!['id'])}/?match[version]=all`);
    expect(one.body.objects.map((o) => o['modified'])).toEqual(versions);
    const manifest = (await client.pages(root, amber, 'manifest/', { 'match[id]': String(last!['id']), 'match[version]': 'all' })).flatMap((p) => p.items as Record<string, unknown>[]);
    expect(manifest.map((m) => m['version'])).toEqual(versions);
    expect(manifest.every((m) => m['media_type'] === 'application/stix+json;version=2.1')).toBe(true);
    // added_after: only what came after the first version's date added.
    const after = (await client.pages(root, amber, 'objects/', { added_after: String(manifest[0]!['date_added']), 'match[type]': 'incident', 'match[version]': 'all' })).flatMap((p) => p.items as Record<string, unknown>[]);
    expect(after.map((o) => o['name'])).toEqual(['Model weights exfiltrated (update)']);
    expect((await incidents({ 'match[spec_version]': '2.0' })).length).toBe(0);
    // The update names a mitigation again: its course-of-action gets a new version citing both reports, and
    // the latest version served is the object GET /v1/incidents/{id}/stix gives — one (id, version), one content.
    const coas = (await client.pages(root, amber, 'objects/', { 'match[type]': 'course-of-action', 'match[version]': 'all' })).flatMap((p) => p.items as Record<string, unknown>[]);
    const rotated = coas.filter((o) => o['name'] === 'Rotated credentials');
    expect(rotated.map((o) => (o['external_references'] as unknown[]).length)).toEqual([1, 2]);
    expect(rotated[1]!['modified']).toBe(last!['modified']);
    const bundle = await call(`${base['CN']}/v1/incidents/US:2026-0100/stix`, { token: tokens['officer']! });
    expect(bundle.json<{ objects: Record<string, unknown>[] }>().objects.find((o) => o['id'] === rotated[1]!['id'])).toEqual(rotated[1]);
    expect((await client.get(`${root}collections/${amber}/objects/?match[id]=incident--00000000-0000-4000-8000-000000000000`)).body).toEqual({});
  });

  it('serves a retraction as a new, revoked version that a poller with added_after picks up', async () => {
    const us = await login('US', 'alice');
    const sent = await call(`${base['US']}/v1/reports`, { method: 'POST', token: us, json: { marking: 'TLP:CLEAR', report: sampleReport({ incident: 'US:2026-0102', title: 'Sent in error' }) } });
    expect(sent.status, sent.body).toBe(201);
    const index = sent.json<{ index: number }>().index;
    await deliver('US', 'CN', [index]);
    const client = new TaxiiClient(tokens['officer']);
    const clear = named('US — TLP:CLEAR').id;
    const before = await client.pages(root, clear, 'manifest/', { 'match[type]': 'incident' });
    const last = before.at(-1)!.last!;
    await new Promise((r) => setTimeout(r, 15));
    const r = await call(`${base['US']}/v1/retractions`, { method: 'POST', token: us, json: { entry: { index }, reason: 'sent to the wrong channel' } });
    expect(r.status, r.body).toBe(201);
    await deliver('US', 'CN', [r.json<{ index: number }>().index]);
    // A poller that saw everything up to `last` now gets exactly the revoked version.
    const fresh = (await client.pages(root, clear, 'objects/', { added_after: last, 'match[type]': 'incident' })).flatMap((p) => p.items as Record<string, unknown>[]);
    expect(fresh).toHaveLength(1);
    expect(fresh[0]).toMatchObject({ name: 'Sent in error', revoked: true });
    const versions = (await client.pages(root, clear, `objects/${String(fresh[0]!['id'])}/versions/`)).flatMap((p) => p.items as string[]);
    expect(versions).toHaveLength(2);
    expect(versions[1]).toBe(fresh[0]!['modified']);
  });

  it('lets an auditor read only the TLP:CLEAR collections', async () => {
    const client = new TaxiiClient(tokens['auditor']);
    const cs = await client.collections(root);
    expect(cs.map((c) => c.title).sort()).toEqual(['CN — TLP:CLEAR', 'US — TLP:CLEAR']);
    const r = await client.get(`${root}collections/${named('US — TLP:AMBER').id}/objects/`);
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ code: 'FORBIDDEN', http_status: '403' });
    const clear = (await client.pages(root, named('US — TLP:CLEAR').id, 'objects/')).flatMap((p) => p.items as Record<string, unknown>[]);
    expect(clear.some((o) => o['type'] === 'incident')).toBe(true);
  });

  it('refuses bad requests with clear 4xx answers, never a 5xx', async () => {
    const client = new TaxiiClient(tokens['officer']);
    const amber = named('US — TLP:AMBER').id;
    const html = await new TaxiiClient(tokens['officer'], 'text/html').get(`${root}collections/`);
    expect(html.status).toBe(406);
    expect(html.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect((await new TaxiiClient(tokens['officer'], 'application/taxii+json;version=2.0').get(`${root}collections/`)).status).toBe(406);
    const anon = await new TaxiiClient(undefined).get(`${base['CN']}/taxii2/`);
    expect(anon.status).toBe(401);
    for (const [url, status] of [
      [`${base['CN']}/taxii2/no-such-root/`, 404],
      [`${base['CN']}/taxii2/%ZZ/`, 400],
      [`${base['CN']}/taxii2/${'r'.repeat(300)}/`, 400],
      [`${root}collections/00000000-0000-4000-8000-000000000000/`, 404],
      [`${root}collections/not-a-uuid/`, 400],
      [`${root}collections/${amber}/objects/?limit=0`, 400],
      [`${root}collections/${amber}/objects/?limit=-5`, 400],
      [`${root}collections/${amber}/objects/?added_after=yesterday`, 400],
      [`${root}collections/${amber}/objects/?match[version]=newest`, 400],
      [`${root}collections/${amber}/objects/?match[version]=2026-99-99T99:99:99Z`, 400],
      [`${root}collections/${amber}/objects/?match[id]=not-an-id`, 400],
      [`${root}collections/${amber}/objects/?next=%7B%7D`, 400],
      [`${root}collections/${amber}/objects/?next=${Buffer.from('[1,"x"]').toString('base64url')}`, 400],
      [`${root}collections/${amber}/objects/?bogus=1`, 400],
      [`${root}collections/${amber}/objects/incident--00000000-0000-4000-8000-000000000000/`, 404],
      [`${root}collections/${amber}/objects/incident--00000000-0000-4000-8000-000000000000/versions/`, 404],
    ] as const) {
      const r = await client.get<Record<string, unknown>>(url);
      expect(r.status, `${url}: ${JSON.stringify(r.body)}`).toBe(status);
      expect(r.headers.get('content-type')).toBe(TAXII);
    }
    // The router's own refusals are problems too, outside TAXII as well.
    const bad = await call(`${base['CN']}/v1/entries/%ZZ/1`, { token: tokens['officer']! });
    expect(bad.status).toBe(400);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(bad.json<{ code: string }>().code).toBe('REQUEST_MALFORMED');
    // A limit above the server's page size is lowered, not refused.
    const big = await client.get<{ objects?: unknown[] }>(`${root}collections/${amber}/objects/?limit=999999`);
    expect(big.status).toBe(200);
    // Writes are not offered.
    const post = await call(`${root}collections/${amber}/objects/`, { method: 'POST', token: tokens['officer']!, headers: { accept: TAXII, 'content-type': 'application/taxii+json;version=2.1' } });
    expect(post.status).toBe(405);
  });
});
