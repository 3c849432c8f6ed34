/**
 * GET /v1/incidents/{id}/stix over real sockets on 127.0.0.1 (issue 13):
 * three nodes (CN, GB, US); US reports, CN receives, acknowledges, sees the
 * update, a retraction and a link arrive. Every bundle validates against the
 * OASIS STIX 2.1 schemas (core/test/helpers/stix-schemas.ts); visibility is
 * that of GET /v1/incidents/{id}: an auditor gets TLP:CLEAR only and a 403
 * STIX_SEALED (problem+json, never a partial bundle) for a sealed incident;
 * a party the report was not sealed to does not hold it (404). A report
 * naming a technique outside the shipped ATLAS release is refused with 422
 * ATLAS_TECHNIQUE_UNKNOWN and nothing is appended.
 */
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatHex, parseBase64 } from '@parley/core/node';
import { INCIDENT_CORE_EXTENSION_ID, TLP2_MARKING_IDS, atlasAttackPatternId, parleyStixId } from '@parley/core/stix';
import { createServer, hashPassword } from '../src/index.js';
import { incidentStixSources } from '../src/stix.js';
import { openChannel, sampleReport } from './helpers/channel.js';
import { OFFICERS, PASSWORD, expectProblem } from './helpers/http.js';
import { stixValidators } from '../../core/test/helpers/stix-schemas.js';

type Channel = Awaited<ReturnType<typeof openChannel>>;
type Obj = Record<string, unknown> & { type: string; id: string };
let ch: Channel;
const base: Record<string, string> = {};
const apps: FastifyInstance[] = [];
const schemas = stixValidators();
const AMBER = 'US:2026-0101';
const CLEAR = 'US:2026-0102';
const HIDDEN = 'US:2026-0103';
const idx: Record<string, number> = {};

async function call(url: string, opts: { token?: string; method?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: opts.method ?? 'GET', headers, ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}) });
  const body = await res.text();
  return { statusCode: res.status, headers: Object.fromEntries(res.headers), body, json: <T>() => JSON.parse(body) as T };
}
async function login(party: string, name: string): Promise<string> {
  const r = await call(`${base[party]}/v1/sessions`, { method: 'POST', json: { name, password: PASSWORD } });
  expect(r.statusCode, r.body).toBe(201);
  return r.json<{ token: string }>().token;
}
async function deliver(from: string, to: string, indexes: readonly number[]) {
  const bytes = [];
  for (const i of indexes) bytes.push((await ch.store(from).entry(i))!.bytes);
  return ch.node(to).ingest(bytes);
}
async function report(token: string, body: unknown) {
  const r = await call(`${base['US']}/v1/reports`, { method: 'POST', token, json: body });
  expect(r.statusCode, r.body).toBe(201);
  return r.json<{ index: number }>().index;
}
const ref = async (party: string, index: number) => {
  const e = (await ch.store(party).entry(index))!;
  return { party, index, hash: Buffer.from(e.leafHash).toString('base64') };
};
const stix = (party: string, id: string, token: string) => call(`${base[party]}/v1/incidents/${encodeURIComponent(id)}/stix`, { token });

beforeAll(async () => {
  ch = await openChannel(['CN', 'GB', 'US']);
  const passwordHash = await hashPassword(PASSWORD);
  for (const id of ['CN', 'GB', 'US']) {
    for (const [name, role] of Object.entries(OFFICERS)) await ch.store(id).putOfficer({ name, role, passwordHash, created: new Date().toISOString(), disabled: false });
    const app = await createServer({ node: ch.node(id), store: ch.store(id) });
    apps.push(app);
    base[id] = await app.listen({ port: 0, host: '127.0.0.1' });
  }
  const us = await login('US', 'alice');
  idx['initial'] = await report(us, { marking: 'TLP:AMBER', report: sampleReport({ incident: AMBER, techniques: ['AML.T0051'], cves: ['CVE-2026-1234'], system: { name: 'Frontier-1', developer: 'Lab A', version: '3' } }) });
  idx['update'] = await report(us, { marking: 'TLP:AMBER', report: sampleReport({ incident: AMBER, kind: 'update', severity: 6, techniques: ['AML.T0024', 'AML.T0051'], cves: ['CVE-2026-1234', 'CVE-2026-9999'] }) });
  idx['clear'] = await report(us, { marking: 'TLP:CLEAR', report: sampleReport({ incident: CLEAR, category: 'SB', title: 'Public jailbreak', summary: 'A jailbreak of a public chatbot.' }) });
  idx['hidden'] = await report(us, { to: ['CN'], marking: 'TLP:AMBER', report: sampleReport({ incident: HIDDEN }) });
  await deliver('US', 'CN', Object.values(idx));
  await deliver('US', 'GB', [idx['initial']!, idx['update']!, idx['clear']!]);
  const cn = await login('CN', 'alice');
  const ack = await call(`${base['CN']}/v1/entries/US/${idx['initial']}/ack`, { method: 'POST', token: cn, json: { reply: '收到' } });
  expect(ack.statusCode, ack.body).toBe(201);
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await ch?.close();
});

describe('GET /v1/incidents/{id}/stix', () => {
  it('gives an officer a STIX 2.1 bundle that validates, with the media type and the log entries’ leaf hashes', async () => {
    const token = await login('CN', 'alice');
    const r = await stix('CN', AMBER, token);
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['content-type']).toBe('application/stix+json;version=2.1');
    const bundle = r.json<{ type: string; objects: Obj[] }>();
    expect(schemas.bundleErrors(bundle)).toEqual([]);
    const inc = bundle.objects.find((o) => o.type === 'incident')!;
    expect(inc.id).toBe(parleyStixId('incident', AMBER));
    const ext = (inc['extensions'] as Record<string, Record<string, unknown>>)[INCIDENT_CORE_EXTENSION_ID]!;
    expect(ext).toMatchObject({ investigation_status: 'open', criticality: 86 });
    // The external references carry the leaf hashes the incident view shows (hex of its base64).
    const view = (await call(`${base['CN']}/v1/incidents/${AMBER}`, { token })).json<{ timeline: { party: string; index: number; leafHash: string }[] }>();
    const refs = (inc['external_references'] as { source_name: string; external_id?: string; description?: string; hashes?: Record<string, string> }[]).filter((x) => x.source_name === 'parley');
    expect(refs.map((x) => x.external_id)).toEqual([`US/${idx['initial']}`, `US/${idx['update']}`]);
    for (const x of refs) {
      const v = view.timeline.find((t) => `${t.party}/${t.index}` === x.external_id)!;
      expect(x.hashes!['SHA-256']).toBe(formatHex(parseBase64(v.leafHash)));
      // …and name the log to check them against: US's log origin (its log key's name in the accord).
      expect(x.description).toMatch(new RegExp(`^incident\\.report (initial|update); entry ${v.index} of the log us\\.parley\\.test/log$`));
    }
    expect(bundle.objects.some((o) => o.type === 'attack-pattern' && o.id === atlasAttackPatternId('AML.T0051'))).toBe(true);
    expect(bundle.objects.some((o) => o.type === 'note' && o['content'] === '收到')).toBe(true);
    for (const o of bundle.objects) if (!['marking-definition', 'extension-definition'].includes(o.type)) expect(o['object_marking_refs'], o.id).toBeDefined();
  });

  it('is deterministic: the same entries give the same bytes', async () => {
    const token = await login('CN', 'alice');
    const a = await stix('CN', AMBER, token);
    const b = await stix('CN', AMBER, token);
    expect(a.body).toBe(b.body);
    // The same objects, with their entry times and markings, for a TAXII server.
    const sources = (await incidentStixSources(ch.node('CN'), ch.store('CN'), AMBER, 'officer'))!;
    expect(sources.map((x) => x.object)).toEqual(a.json<{ objects: unknown[] }>().objects);
    for (const x of sources) expect(Number.isNaN(Date.parse(x.time))).toBe(false);
    await expect(incidentStixSources(ch.node('CN'), ch.store('CN'), AMBER, 'auditor')).rejects.toMatchObject({ code: 'STIX_SEALED' });
  });

  it('gives an auditor TLP:CLEAR incidents only; a sealed one is 403 STIX_SEALED, with no bundle', async () => {
    const token = await login('CN', 'audrey');
    expectProblem(await stix('CN', AMBER, token), 403, 'STIX_SEALED');
    const r = await stix('CN', CLEAR, token);
    expect(r.statusCode, r.body).toBe(200);
    const bundle = r.json<{ objects: Obj[] }>();
    expect(schemas.bundleErrors(bundle)).toEqual([]);
    for (const o of bundle.objects) if (o['object_marking_refs'] !== undefined) expect(o['object_marking_refs'], o.id).toEqual([TLP2_MARKING_IDS['TLP:CLEAR']]);
  });

  it('a party the report was not sealed to does not hold it: 404; unknown ids 404, bad ids 400, no token 401', async () => {
    const gb = await login('GB', 'alice');
    expectProblem(await stix('GB', HIDDEN, gb), 404, 'NOT_FOUND');
    expect((await stix('CN', HIDDEN, await login('CN', 'alice'))).statusCode).toBe(200);
    expectProblem(await stix('CN', 'US:2099-0001', gb.length ? await login('CN', 'alice') : ''), 404, 'NOT_FOUND');
    expectProblem(await stix('CN', 'not-an-id', await login('CN', 'alice')), 400, 'VALIDATION_FAILED');
    expectProblem(await call(`${base['CN']}/v1/incidents/${AMBER}/stix`), 401, 'UNAUTHENTICATED');
  });

  it('a retraction revokes what only the withdrawn report produced, with a new version of the incident', async () => {
    const token = await login('CN', 'alice');
    const before = (await stix('CN', AMBER, token)).json<{ objects: Obj[] }>().objects;
    const s = await ch.node('US').submit('alice', { type: 'retraction', precedence: 'ROUTINE', marking: 'TLP:AMBER', refs: [await ref('US', idx['update']!)], body: { action: 'retract', reason: 'Wrong system named.' } });
    await deliver('US', 'CN', [s.index]);
    const r = await stix('CN', AMBER, token);
    expect(r.statusCode, r.body).toBe(200);
    const bundle = r.json<{ objects: Obj[] }>();
    expect(schemas.bundleErrors(bundle)).toEqual([]);
    const inc = bundle.objects.find((o) => o.type === 'incident')!;
    const old = before.find((o) => o.type === 'incident')!;
    expect(inc.id).toBe(old.id);
    expect(Date.parse(inc['modified'] as string)).toBeGreaterThan(Date.parse(old['modified'] as string));
    expect((inc['extensions'] as Record<string, Record<string, unknown>>)[INCIDENT_CORE_EXTENSION_ID]!['criticality']).toBe(71); // severity 5 again
    const cve = bundle.objects.find((o) => o.type === 'relationship' && o['target_ref'] === parleyStixId('vulnerability', 'CVE-2026-9999'))!;
    expect(cve['revoked']).toBe(true);
    const kept = bundle.objects.find((o) => o.type === 'relationship' && o['target_ref'] === parleyStixId('vulnerability', 'CVE-2026-1234'))!;
    expect(kept['revoked']).toBeUndefined();
  });

  it('a confirmed link becomes a related-to relationship to the other incident', async () => {
    const s = await ch.node('US').submit('alice', {
      type: 'incident.link',
      precedence: 'ROUTINE',
      marking: 'TLP:AMBER',
      refs: [await ref('US', idx['initial']!), await ref('US', idx['clear']!)],
      body: { incidents: [AMBER, CLEAR], relation: 'related', note: 'Same model.' },
    });
    await deliver('US', 'CN', [s.index]);
    const bundle = (await stix('CN', AMBER, await login('CN', 'alice'))).json<{ objects: Obj[] }>();
    const rel = bundle.objects.find((o) => o.type === 'relationship' && o['target_ref'] === parleyStixId('incident', CLEAR))!;
    expect(rel).toMatchObject({ relationship_type: 'related-to', description: 'related: Same model.' });
    // On the sender's own node too (own link entries).
    const own = (await stix('US', CLEAR, await login('US', 'alice'))).json<{ objects: Obj[] }>();
    expect(own.objects.some((o) => o.type === 'relationship' && o['target_ref'] === parleyStixId('incident', AMBER))).toBe(true);
  });
});

describe('ATLAS technique ids on submission', () => {
  it('refuses a report naming a technique outside the shipped ATLAS release with 422, appending nothing', async () => {
    const us = await login('US', 'alice');
    const size = await ch.store('US').treeSize();
    const r = await call(`${base['US']}/v1/reports`, { method: 'POST', token: us, json: { marking: 'TLP:AMBER', report: sampleReport({ incident: 'US:2026-0199', techniques: ['AML.T0051', 'AML.T9999'] }) } });
    expectProblem(r, 422, 'ATLAS_TECHNIQUE_UNKNOWN');
    expect(await ch.store('US').treeSize()).toBe(size);
  });
});
