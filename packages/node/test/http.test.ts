/**
 * The HTTP API in process (fastify `inject`): every route, every role rule,
 * every class of error as an RFC 9457 problem, and that rejected requests
 * write nothing. The whole node over a real socket is http-live.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  VerifierSet,
  StoreError,
  checkEntryBundle,
  formatBase64,
  leafHash,
  openCheckpoint,
  parseBase64,
  parseEntryBundle,
  parseTileData,
  verifyConsistency,
  verifyInclusion,
} from '@parley/core/node';
import type { LogStore } from '@parley/store';
import { BODY_SCHEMAS, type IncidentReport, createServer, hashPassword, tokenHash, verifyPassword } from '../src/index.js';
import { DUMMY_HASH } from '../src/http/session.js';
import { expectProblem, login, openHttpChannel } from './helpers/http.js';
import { sampleReport } from './helpers/channel.js';

const report = (over: Partial<IncidentReport> = {}): IncidentReport => sampleReport({ severity: 3, ...over });
const message = { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'Link test' };

type Channel = Awaited<ReturnType<typeof openHttpChannel>>;
let ch: Channel | undefined;
afterEach(async () => {
  await ch?.close();
  ch = undefined;
});
async function channel(ids = ['CN', 'US'], opts: { bodyLimit?: number } = {}): Promise<Channel> {
  ch = await openHttpChannel(ids, opts);
  return ch;
}

/** Sends a message at US over HTTP and ingests it at CN through CN's admin route. */
async function deliver(c: Channel, body: Record<string, unknown> = message): Promise<{ index: number; receipt: number }> {
  const us = c.app('US');
  const sent = await us.inject({ method: 'POST', url: '/v1/messages', headers: await login(us, 'alice'), payload: body });
  expect(sent.statusCode, sent.body).toBe(201);
  const index = sent.json<{ index: number }>().index;
  const bytes = (await us.inject({ method: 'GET', url: `/log/entries/${index}` })).rawPayload;
  const cn = c.app('CN');
  const r = await cn.inject({ method: 'POST', url: '/v1/ingest', headers: await login(cn, 'root'), payload: { entries: [bytes.toString('base64')] } });
  expect(r.statusCode, r.body).toBe(200);
  return { index, receipt: r.json<{ receipts: { index: number }[] }>().receipts[0]!.index };
}

describe('sessions', () => {
  it('logs in for 8 hours, answers /v1/me, and logs out', async () => {
    const app = (await channel()).app('US');
    const r = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { name: 'alice', password: 'correct horse battery staple' } });
    expect(r.statusCode).toBe(201);
    expect(r.headers['cache-control']).toBe('no-store');
    const s = r.json<{ token: string; officer: unknown; expires: string }>();
    expect(s.officer).toEqual({ name: 'alice', role: 'officer' });
    expect(Date.parse(s.expires) - Date.now()).toBeGreaterThan(8 * 3600_000 - 60_000);
    expect(Date.parse(s.expires) - Date.now()).toBeLessThanOrEqual(8 * 3600_000);
    // Only the token's hash is stored.
    expect(await ch!.store('US').session(tokenHash(s.token))).toMatchObject({ officer: 'alice' });
    const headers = { authorization: `Bearer ${s.token}` };
    expect((await app.inject({ method: 'GET', url: '/v1/me', headers })).json()).toEqual({ name: 'alice', role: 'officer', expires: s.expires });
    expect((await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers })).statusCode).toBe(204);
    expectProblem(await app.inject({ method: 'GET', url: '/v1/me', headers }), 401, 'UNAUTHENTICATED');
  });

  it('answers an unknown name, a wrong password and a disabled officer with the same 401', async () => {
    const c = await channel();
    const app = c.app('US');
    const store = c.store('US');
    await store.putOfficer({ ...(await store.officer('alice'))!, name: 'gone', disabled: true });
    const bodies = [
      { name: 'nobody', password: 'correct horse battery staple' },
      { name: 'alice', password: 'wrong password entirely' },
      { name: 'gone', password: 'correct horse battery staple' },
    ];
    const problems = [];
    for (const payload of bodies) {
      const r = await app.inject({ method: 'POST', url: '/v1/sessions', payload });
      problems.push(expectProblem(r, 401, 'UNAUTHENTICATED'));
      expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect(new Set(problems.map((p) => JSON.stringify(p))).size).toBe(1);
    // An unknown name costs a scrypt run too: it is checked against a dummy hash
    // made with the same cost parameters as real ones (so it takes as long).
    const params = (h: string) => h.split('$').slice(0, 4).join('$');
    expect(params(DUMMY_HASH)).toBe(params(await hashPassword('any password at all')));
    expect(await verifyPassword('correct horse battery staple', DUMMY_HASH)).toBe(false);
  });

  it('refuses missing, malformed, unknown and expired tokens, and tokens of disabled officers', async () => {
    const c = await channel();
    const app = c.app('US');
    const store = c.store('US');
    const expired = 'e'.repeat(43);
    await store.putSession({ tokenHash: tokenHash(expired), officer: 'alice', created: '2026-01-01T00:00:00.000Z', expires: '2026-01-01T08:00:00.000Z' });
    const h = await login(app, 'audrey');
    for (const headers of [{}, { authorization: 'Basic YWxpY2U6eA==' }, { authorization: 'Bearer short' }, { authorization: `Bearer ${'x'.repeat(43)}` }, { authorization: `Bearer ${expired}` }]) {
      const r = await app.inject({ method: 'GET', url: '/v1/inbox', headers });
      expectProblem(r, 401, 'UNAUTHENTICATED');
      expect(r.headers['www-authenticate']).toMatch(/^Bearer/);
    }
    expect(await store.session(tokenHash(expired))).toBeUndefined(); // an expired session is removed when seen
    await store.putOfficer({ ...(await store.officer('audrey'))!, disabled: true });
    expectProblem(await app.inject({ method: 'GET', url: '/v1/me', headers: h }), 401, 'UNAUTHENTICATED');
  });
});

describe('roles', () => {
  const routes: { method: 'GET' | 'POST' | 'DELETE'; url: string; payload?: unknown; admin?: true }[] = [
    { method: 'GET', url: '/v1/me' },
    { method: 'GET', url: '/v1/inbox' },
    { method: 'GET', url: '/v1/outbox' },
    { method: 'GET', url: '/v1/accord' },
    { method: 'GET', url: '/v1/entries/US/0' },
    { method: 'POST', url: '/v1/messages', payload: message },
    { method: 'POST', url: '/v1/reports', payload: { marking: 'TLP:CLEAR', report: report() } },
    { method: 'POST', url: '/v1/entries/CN/0/ack', payload: {} },
    { method: 'POST', url: '/v1/officers', payload: { name: 'bob', password: 'a long enough password', role: 'officer' }, admin: true },
    { method: 'POST', url: '/v1/ingest', payload: { entries: ['AAAA'] }, admin: true },
  ];

  it('lets auditors only read, officers read and act, and admins do everything', async () => {
    const c = await channel();
    const app = c.app('US');
    const headers = { alice: await login(app, 'alice'), audrey: await login(app, 'audrey'), root: await login(app, 'root') };
    for (const r of routes) {
      for (const [who, h] of Object.entries(headers)) {
        const allowed = who === 'root' || (who === 'alice' ? !r.admin : r.method === 'GET');
        const res = await app.inject({ method: r.method, url: r.url, headers: h, ...(r.payload !== undefined ? { payload: r.payload as object } : {}) });
        if (allowed) expect([200, 201, 204, 400, 404, 422], `${who} ${r.method} ${r.url}: ${res.body}`).toContain(res.statusCode);
        else expectProblem(res, 403, 'FORBIDDEN');
        // Without a token every one of them is a 401, whatever the body.
        expectProblem(await app.inject({ method: r.method, url: r.url, ...(r.payload !== undefined ? { payload: r.payload as object } : {}) }), 401, 'UNAUTHENTICATED');
      }
    }
  });

  it('checks the role before reading the body, and a refused write leaves the log as it was', async () => {
    const c = await channel();
    const app = c.app('US');
    const auditor = await login(app, 'audrey');
    const before = await c.store('US').treeSize();
    expectProblem(await app.inject({ method: 'POST', url: '/v1/messages', headers: { ...auditor, 'content-type': 'application/json' }, payload: '{not json' }), 403, 'FORBIDDEN');
    expectProblem(await app.inject({ method: 'POST', url: '/v1/messages', headers: auditor, payload: message }), 403, 'FORBIDDEN');
    expectProblem(await app.inject({ method: 'POST', url: '/v1/messages', payload: message }), 401, 'UNAUTHENTICATED');
    expect(await c.store('US').treeSize()).toBe(before);
    expect(c.node('US').treeSize).toBe(before);
    // An auditor may still log out.
    expect((await app.inject({ method: 'DELETE', url: '/v1/sessions/current', headers: auditor })).statusCode).toBe(204);
  });

  it('lets an admin create officers, who can then log in', async () => {
    const c = await channel();
    const app = c.app('US');
    const root = await login(app, 'root');
    const r = await app.inject({ method: 'POST', url: '/v1/officers', headers: root, payload: { name: 'bob', password: 'a long enough password', role: 'auditor' } });
    expect(r.statusCode).toBe(201);
    expect(r.json()).toMatchObject({ name: 'bob', role: 'auditor' });
    expect((await c.store('US').officer('bob'))?.passwordHash).toMatch(/^scrypt\$/);
    await login(app, 'bob', 'a long enough password');
    expectProblem(await app.inject({ method: 'POST', url: '/v1/officers', headers: root, payload: { name: 'bob', password: 'a long enough password', role: 'admin' } }), 409, 'STORE_CONFLICT');
    const short = expectProblem(await app.inject({ method: 'POST', url: '/v1/officers', headers: root, payload: { name: 'carol', password: 'short', role: 'officer' } }), 400, 'VALIDATION_FAILED');
    expect(short['issues']).toEqual([expect.objectContaining({ in: 'body', path: ['password'] })]);
    expectProblem(await app.inject({ method: 'POST', url: '/v1/officers', headers: root, payload: { name: 'node', password: 'a long enough password', role: 'officer' } }), 400, 'VALIDATION_FAILED');
    expectProblem(await app.inject({ method: 'POST', url: '/v1/officers', headers: root, payload: { name: 'carol', password: 'a long enough password', role: 'king' } }), 400, 'VALIDATION_FAILED');
  });
});

describe('officers’ actions', () => {
  it('sends a message and reads it back from the outbox and by address', async () => {
    const c = await channel();
    const app = c.app('US');
    const h = await login(app, 'alice');
    const r = await app.inject({ method: 'POST', url: '/v1/messages', headers: h, payload: { ...message, text: '测试', lang: 'zh-CN' } });
    expect(r.statusCode).toBe(201);
    expect(r.headers['location']).toBe('/v1/entries/US/0');
    const s = r.json<{ party: string; index: number; leafHash: string; treeSize: number; entry: { to: string[]; from: unknown; precedence: string } }>();
    expect(s).toMatchObject({ party: 'US', index: 0, treeSize: 1 });
    expect(s.entry).toMatchObject({ to: ['CN'], from: { party: 'US', officer: 'alice' }, precedence: 'FLASH' });
    expect(parseBase64(s.leafHash)).toEqual(leafHash((await c.node('US').entryBytes(0))!));
    const view = (await app.inject({ method: 'GET', url: '/v1/entries/US/0', headers: h })).json();
    expect(view).toMatchObject({ party: 'US', index: 0, body: { text: '测试', lang: 'zh-CN' } });
    const out = (await app.inject({ method: 'GET', url: '/v1/outbox', headers: h })).json<{ items: { index: number }[] }>();
    expect(out.items.map((i) => i.index)).toEqual([0]);
    expectProblem(await app.inject({ method: 'GET', url: '/v1/entries/US/1', headers: h }), 404, 'NOT_FOUND');
    expectProblem(await app.inject({ method: 'GET', url: '/v1/entries/CN/0', headers: h }), 404, 'NOT_FOUND');
    expectProblem(await app.inject({ method: 'POST', url: '/v1/messages', headers: h, payload: { ...message, to: ['FR'] } }), 422, 'ENTRY_INVALID');
  });

  it('seals a report: officers read it, auditors see metadata only; a red line forces FLASH', async () => {
    const c = await channel(['CN', 'EU', 'US']);
    const app = c.app('US');
    const h = await login(app, 'alice');
    const r = await app.inject({ method: 'POST', url: '/v1/reports', headers: h, payload: { to: ['CN'], marking: 'TLP:AMBER', report: report() } });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json()).toMatchObject({ index: 0, entry: { precedence: 'PRIORITY', to: ['CN'], type: 'incident.report' } });
    expect(r.json<{ entry: { body: object } }>().entry.body).toHaveProperty('sealed');
    expect((await app.inject({ method: 'GET', url: '/v1/entries/US/0', headers: h })).json()).toMatchObject({ body: { title: 'Model weights exfiltrated' } });
    const audit = (await app.inject({ method: 'GET', url: '/v1/entries/US/0', headers: await login(app, 'audrey') })).json<Record<string, unknown>>();
    expect(audit['sealed']).toBe('not-entitled');
    expect(audit).not.toHaveProperty('body');
    const red = await app.inject({ method: 'POST', url: '/v1/reports', headers: h, payload: { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:RED', report: report({ category: 'CB', severity: 6 }) } });
    expect(red.json()).toMatchObject({ entry: { precedence: 'FLASH', to: ['CN', 'EU'] } });
    const refs = [{ party: 'US', index: 0, hash: r.json<{ leafHash: string }>().leafHash }];
    const upd = await app.inject({ method: 'POST', url: '/v1/reports', headers: h, payload: { marking: 'TLP:GREEN', refs, report: report({ kind: 'update' }) } });
    expect(upd.json()).toMatchObject({ entry: { refs } });
    const byIncident = await app.inject({ method: 'GET', url: '/v1/outbox?type=incident.report&incident=US:2026-0007', headers: h });
    expect(byIncident.json<{ items: unknown[] }>().items).toHaveLength(3);
  });

  it('ingests as admin, shows the inbox with receipt and ack state, and acknowledges', async () => {
    const c = await channel();
    const { index, receipt } = await deliver(c);
    const cn = c.app('CN');
    const wang = await login(cn, 'alice');
    const inbox = (await cn.inject({ method: 'GET', url: '/v1/inbox', headers: wang })).json<{ items: { party: string; index: number; body: unknown; state: { receipt?: { index: number }; ack?: unknown } }[] }>();
    expect(inbox.items).toHaveLength(1);
    expect(inbox.items[0]).toMatchObject({ party: 'US', index, body: { text: 'Link test' }, state: { receipt: { index: receipt } } });
    expect(inbox.items[0]!.state.ack).toBeUndefined();

    const ack = await cn.inject({ method: 'POST', url: `/v1/entries/US/${index}/ack`, headers: wang, payload: { reply: '收到', lang: 'zh-CN' } });
    expect(ack.statusCode, ack.body).toBe(201);
    expect(ack.json()).toMatchObject({ party: 'CN', entry: { type: 'ack', precedence: 'FLASH', refs: [{ party: 'US', index }] } });
    const view = (await cn.inject({ method: 'GET', url: `/v1/entries/US/${index}`, headers: wang })).json();
    expect(view).toMatchObject({ state: { receipt: { index: receipt }, ack: { officer: 'alice' } } });
    // One acknowledgement per entry (issue 9): a second is refused, and nothing is appended.
    const acked = c.node('CN').treeSize;
    expectProblem(await cn.inject({ method: 'POST', url: `/v1/entries/US/${index}/ack`, headers: wang }), 409, 'ALREADY_ACKNOWLEDGED');
    expect(c.node('CN').treeSize).toBe(acked);
    const size = c.node('CN').treeSize;
    expectProblem(await cn.inject({ method: 'POST', url: '/v1/entries/US/99/ack', headers: wang, payload: {} }), 404, 'NOT_FOUND');
    expectProblem(await cn.inject({ method: 'POST', url: '/v1/entries/CN/0/ack', headers: wang, payload: {} }), 404, 'NOT_FOUND');
    expect(c.node('CN').treeSize).toBe(size);

    // Ingest is idempotent; a tampered entry is refused and nothing of its batch is kept.
    const root = await login(cn, 'root');
    const bytes = (await c.node('US').entryBytes(index))!;
    expect((await cn.inject({ method: 'POST', url: '/v1/ingest', headers: root, payload: { entries: [formatBase64(bytes)] } })).json()).toMatchObject({ accepted: 0, duplicates: 1, receipts: [] });
    await c.node('US').sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'two' });
    const good = (await c.node('US').entryBytes(1))!;
    const bad = good.slice();
    bad[bad.length - 5]! ^= 1;
    const r = await cn.inject({ method: 'POST', url: '/v1/ingest', headers: root, payload: { entries: [formatBase64(good), formatBase64(bad)] } });
    expect(r.statusCode).toBeGreaterThanOrEqual(400);
    expect(r.statusCode).toBeLessThan(500);
    expect(String(r.headers['content-type'])).toMatch(/^application\/problem\+json/);
    expect(await c.store('CN').received('US', 1)).toBeUndefined();
    expectProblem(await cn.inject({ method: 'POST', url: '/v1/ingest', headers: root, payload: { entries: ['not base64!'] } }), 400, 'ENCODING_INVALID');
    expectProblem(await cn.inject({ method: 'POST', url: '/v1/ingest', headers: root, payload: { entries: [] } }), 400, 'VALIDATION_FAILED');
    expect(c.node('CN').treeSize).toBe(size);
  });

  it('pages the inbox and outbox with a cursor and filters them', async () => {
    const c = await channel();
    const us = c.node('US');
    for (let i = 0; i < 5; i++) await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `m${i}` });
    await us.sendReport('alice', { marking: 'TLP:CLEAR', report: report() });
    const entries = await Promise.all([0, 1, 2, 3, 4, 5].map(async (i) => formatBase64((await us.entryBytes(i))!)));
    const cn = c.app('CN');
    await cn.inject({ method: 'POST', url: '/v1/ingest', headers: await login(cn, 'root'), payload: { entries } });
    const h = await login(cn, 'audrey');
    const page = async (box: string, q: string) => (await cn.inject({ method: 'GET', url: `/v1/${box}?${q}`, headers: h })).json<{ items: { party: string; index: number }[]; next?: number }>();
    const seen: number[] = [];
    let q = 'limit=4';
    for (;;) {
      const p = await page('inbox', q);
      seen.push(...p.items.map((i) => i.index));
      if (p.next === undefined) break;
      q = `limit=4&before=${p.next}`;
    }
    expect(seen).toEqual([5, 4, 3, 2, 1, 0]);
    expect((await page('inbox', 'type=incident.report')).items.map((i) => i.index)).toEqual([5]);
    expect((await page('inbox', 'party=US&incident=US:2026-0007')).items.map((i) => i.index)).toEqual([5]);
    expect((await page('inbox', 'party=EU')).items).toEqual([]);
    // US's outbox holds the six entries it sent.
    const usApp = c.app('US');
    const ush = await login(usApp, 'audrey');
    const outbox = async (q: string) => (await usApp.inject({ method: 'GET', url: `/v1/outbox?${q}`, headers: ush })).json<{ items: { index: number }[]; next?: number }>();
    const out1 = await outbox('limit=4');
    expect(out1.items.map((i) => i.index)).toEqual([5, 4, 3, 2]);
    const out2 = await outbox(`limit=4&before=${out1.next}`);
    expect(out2.items.map((i) => i.index)).toEqual([1, 0]);
    expect(out2.next).toBeUndefined();
    expect((await outbox('type=incident.report&party=CN')).items.map((i) => i.index)).toEqual([5]);
    for (const bad of ['limit=0', 'limit=201', 'limit=01', 'before=-1', 'type=note', 'party=us', 'incident=nope', 'extra=1']) {
      const r = await cn.inject({ method: 'GET', url: `/v1/inbox?${bad}`, headers: h });
      const p = expectProblem(r, 400, 'VALIDATION_FAILED');
      expect((p['issues'] as { in: string }[])[0]!.in, bad).toBe('querystring');
    }
  });

  it('serves the accord and its id', async () => {
    const c = await channel();
    const r = (await c.app('US').inject({ method: 'GET', url: '/v1/accord', headers: await login(c.app('US'), 'audrey') })).json<{ id: string; accord: { parties: { id: string }[] }; signedBy: string[] }>();
    expect(r.id).toBe(c.node('US').accord.id);
    expect(r.accord.parties.map((p) => p.id)).toEqual(['CN', 'US']);
    expect(r.signedBy.sort()).toEqual(['CN', 'US']);
  });
});

describe('errors are RFC 9457 problems, and bad requests write nothing', () => {
  it('maps malformed JSON, wrong media types, oversized bodies, schema violations, unknown routes and methods', async () => {
    const c = await channel(['CN', 'US'], { bodyLimit: 4096 });
    const app = c.app('US');
    const h = await login(app, 'alice');
    const json = { ...h, 'content-type': 'application/json' };
    const post = (headers: Record<string, string>, payload: string | object, url = '/v1/messages') => app.inject({ method: 'POST', url, headers, payload });

    expectProblem(await post(json, '{"precedence":'), 400, 'JSON_MALFORMED');
    expectProblem(await post(json, ''), 400, 'JSON_MALFORMED');
    expectProblem(await post(json, '{"__proto__":{"admin":true},"precedence":"FLASH","marking":"TLP:CLEAR","text":"x"}'), 400, 'JSON_MALFORMED');
    expectProblem(await post({ ...h, 'content-type': 'text/plain' }, 'hello'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await post({ ...h, 'content-type': 'application/x-www-form-urlencoded' }, 'text=hello'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await post({ ...h, 'content-type': 'application/xml' }, '<m/>'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await post(json, { ...message, text: 'x'.repeat(5000) }), 413, 'INPUT_TOO_LARGE');

    const sev = expectProblem(await post(json, { marking: 'TLP:CLEAR', report: report({ severity: 9 }) }, '/v1/reports'), 400, 'VALIDATION_FAILED');
    expect(sev['detail']).toContain('body.report.severity');
    expect(sev['issues']).toEqual([expect.objectContaining({ in: 'body', path: ['report', 'severity'] })]);
    const extra = expectProblem(await post(json, { ...message, admin: true }), 400, 'VALIDATION_FAILED');
    expect(extra['detail']).toMatch(/admin/);
    expectProblem(await post(json, { ...message, precedence: 'URGENT' }), 400, 'VALIDATION_FAILED');
    expectProblem(await post(json, { ...message, text: '' }), 400, 'VALIDATION_FAILED');
    expectProblem(await post(json, { ...message, to: [] }), 400, 'VALIDATION_FAILED');
    expectProblem(await post(json, [message]), 400, 'VALIDATION_FAILED');
    const params = expectProblem(await app.inject({ method: 'GET', url: '/v1/entries/US/01', headers: h }), 400, 'VALIDATION_FAILED');
    expect(params['issues']).toEqual([expect.objectContaining({ in: 'params', path: ['index'] })]);
    expectProblem(await app.inject({ method: 'GET', url: '/v1/entries/us/0', headers: h }), 400, 'VALIDATION_FAILED');
    expectProblem(await app.inject({ method: 'GET', url: '/v1/entries/US/99999999999999999', headers: h }), 400, 'VALIDATION_FAILED');

    expectProblem(await app.inject({ method: 'GET', url: '/v2/nothing' }), 404, 'NOT_FOUND');
    const m = expectProblem(await app.inject({ method: 'PUT', url: '/v1/messages', headers: json, payload: '{}' }), 405, 'METHOD_NOT_ALLOWED');
    expect(m['detail']).toContain('PUT');
    expect((await app.inject({ method: 'DELETE', url: '/v1/entries/US/0' })).headers['allow']).toMatch(/GET/);
    expect((await app.inject({ method: 'POST', url: '/log/checkpoint' })).statusCode).toBe(405);

    expect(c.node('US').treeSize).toBe(0);
    expect(await c.store('US').treeSize()).toBe(0);
  });

  it('refuses bodies over the default 1 MiB limit', async () => {
    const c = await channel();
    const app = c.app('US');
    const r = await app.inject({ method: 'POST', url: '/v1/messages', headers: await login(app, 'alice'), payload: { ...message, text: 'x'.repeat(1024 * 1024) } });
    expectProblem(r, 413, 'INPUT_TOO_LARGE');
    expect(await c.store('US').treeSize()).toBe(0);
  });

  it('answers our own failures with a 500 that leaks nothing, and an unavailable store with 503 + Retry-After', async () => {
    const c = await channel();
    const store = c.store('US');
    let failWith: unknown;
    const flaky = new Proxy(store, {
      get(target, prop, receiver) {
        if (prop === 'inbox') return async () => { throw failWith; };
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    }) as LogStore;
    const app = await createServer({ node: c.node('US'), store: flaky });
    try {
      const h = await login(app, 'audrey');
      failWith = new Error('secret detail /var/lib/parley/db.sqlite');
      const p = expectProblem(await app.inject({ method: 'GET', url: '/v1/inbox', headers: h }), 500, 'INTERNAL_ERROR');
      expect(JSON.stringify(p)).not.toContain('secret');
      failWith = new StoreError('STORE_UNAVAILABLE', 'disk full at /var/lib/parley');
      const r = await app.inject({ method: 'GET', url: '/v1/inbox', headers: h });
      expect(JSON.stringify(expectProblem(r, 503, 'STORE_UNAVAILABLE'))).not.toContain('/var/lib');
      expect(r.headers['retry-after']).toBeDefined();
    } finally {
      await app.close();
    }
  });
});

describe('the public log', () => {
  it('serves checkpoint, tiles, entry bundles, entries and proofs that verify', async () => {
    const c = await channel();
    const app = c.app('US');
    const us = c.node('US');
    expectProblem(await app.inject({ method: 'GET', url: '/log/checkpoint' }), 404, 'NOT_FOUND');
    const burst = (from: number, n: number) => Promise.all(Array.from({ length: n }, (_, i) => us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `m${from + i}` })));
    await burst(0, 100); // a checkpoint at exactly 100, for the consistency proof
    await burst(100, 200);

    const cpr = await app.inject({ method: 'GET', url: '/log/checkpoint' });
    expect(cpr.statusCode).toBe(200);
    expect(cpr.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(cpr.headers['cache-control']).toBe('no-store');
    const keys = new VerifierSet([c.parties.find((p) => p.id === 'US')!.party.logKey]);
    const cp = openCheckpoint(cpr.body, keys, { origin: us.origin }).checkpoint;
    expect(cp.treeSize).toBe(300);

    const get = (url: string) => app.inject({ method: 'GET', url });
    const full = await get('/log/tile/0/000');
    expect(full.statusCode).toBe(200);
    expect(full.headers['content-type']).toBe('application/octet-stream');
    expect(full.headers['cache-control']).toContain('immutable');
    const hashes = parseTileData(full.rawPayload, 256);
    expect(formatBase64(hashes[7]!)).toBe(formatBase64(leafHash((await us.entryBytes(7))!)));
    expect((await get('/log/tile/0/001.p/44')).rawPayload).toHaveLength(44 * 32);
    expect((await get('/log/tile/1/000.p/1')).rawPayload).toHaveLength(32);
    const bundle = await get('/log/tile/entries/000');
    expect(bundle.headers['cache-control']).toContain('immutable');
    checkEntryBundle(parseEntryBundle(bundle.rawPayload, 256), hashes);
    expect(parseEntryBundle((await get('/log/tile/entries/001.p/44')).rawPayload, 44)).toHaveLength(44);
    for (const missing of ['/log/tile/0/001.p/45', '/log/tile/0/002', '/log/tile/0/001', '/log/tile/1/000', '/log/tile/entries/001', '/log/tile/2/000.p/1']) {
      expectProblem(await get(missing), 404, 'NOT_FOUND');
    }
    for (const bad of ['/log/tile/0/1', '/log/tile/0/x000/001', '/log/tile/0/001.p/256', '/log/tile/0/001.p/0', '/log/tile/00/000', '/log/tile/64/000', '/log/tile/0/', '/log/tile/x/000', '/log/tile/0/000.p/01']) {
      expectProblem(await get(bad), 400, 'TILE_PATH_MALFORMED');
    }

    const e = await get('/log/entries/42');
    expect(e.headers['content-type']).toBe('application/json');
    expect(formatBase64(e.rawPayload)).toBe(formatBase64((await us.entryBytes(42))!));
    expectProblem(await get('/log/entries/300'), 404, 'NOT_FOUND');
    expectProblem(await get('/log/entries/-1'), 400, 'VALIDATION_FAILED');

    const inc = (await get('/log/proof/inclusion?index=42&size=300')).json<{ index: number; treeSize: number; proof: string[] }>();
    expect(inc).toMatchObject({ index: 42, treeSize: 300 });
    const proof = inc.proof.map((p) => parseBase64(p));
    expect(verifyInclusion(proof, 300, cp.rootHash, 42, leafHash(new Uint8Array(e.rawPayload)))).toBe(true);
    expect(verifyInclusion(proof, 300, cp.rootHash, 43, leafHash(new Uint8Array(e.rawPayload)))).toBe(false);
    expectProblem(await get('/log/proof/inclusion?index=42&size=301'), 400, 'TREE_ARGUMENT_INVALID');
    expectProblem(await get('/log/proof/inclusion?index=300&size=300'), 400, 'TREE_ARGUMENT_INVALID');
    expectProblem(await get('/log/proof/inclusion?index=1'), 400, 'VALIDATION_FAILED');

    const con = (await get('/log/proof/consistency?old=100&new=300')).json<{ proof: string[] }>();
    const old = openCheckpoint((await c.store('US').checkpointAt(100))!, keys).checkpoint;
    expect(verifyConsistency(con.proof.map((p) => parseBase64(p)), 100, 300, old.rootHash, cp.rootHash)).toBe(true);
    expectProblem(await get('/log/proof/consistency?old=300&new=100'), 400, 'TREE_ARGUMENT_INVALID');
    expectProblem(await get('/log/proof/consistency?old=1&new=301'), 400, 'TREE_ARGUMENT_INVALID');
  });
});

describe('OpenAPI, docs, metrics, health', () => {
  it('publishes an OpenAPI 3.1 document with every route, the entry body schemas and problem responses', async () => {
    const app = (await channel()).app('US');
    const r = await app.inject({ method: 'GET', url: '/openapi.json' });
    expect(r.statusCode).toBe(200);
    const doc = r.json<{ openapi: string; paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>; components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> } }>();
    expect(doc.openapi).toBe('3.1.0');
    const ops = Object.entries(doc.paths).flatMap(([p, o]) => Object.keys(o).map((m) => `${m.toUpperCase()} ${p}`));
    expect(ops).toEqual(
      expect.arrayContaining([
        'POST /v1/sessions', 'DELETE /v1/sessions/current', 'GET /v1/me', 'POST /v1/officers', 'POST /v1/messages', 'POST /v1/reports',
        'POST /v1/entries/{party}/{index}/ack', 'GET /v1/entries/{party}/{index}', 'GET /v1/inbox', 'GET /v1/outbox', 'GET /v1/accord', 'POST /v1/ingest',
        'GET /log/checkpoint', 'GET /log/tile/{*}', 'GET /log/entries/{index}', 'GET /log/proof/inclusion', 'GET /log/proof/consistency', 'GET /metrics', 'GET /healthz',
      ]),
    );
    expect(ops.some((o) => o.includes('/docs'))).toBe(false);
    for (const schema of Object.values(BODY_SCHEMAS)) expect(Object.keys(doc.components.schemas)).toContain((schema.meta() as { id: string }).id);
    expect(doc.components.schemas['Problem']).toBeDefined();
    expect(doc.components.securitySchemes['bearer']).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.paths['/v1/messages']!['post']!.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/log/checkpoint']!['get']!.security).toBeUndefined();
    expect(doc.paths['/v1/messages']!['post']!.responses['default']).toMatchObject({ content: { 'application/problem+json': {} } });
    // Request bodies are documented as input (defaults optional); the report body is a reference to its component.
    expect(JSON.stringify(doc.paths['/v1/reports'])).toContain('#/components/schemas/IncidentReportBody');

    const ui = await app.inject({ method: 'GET', url: '/docs' });
    expect(ui.statusCode).toBe(200);
    expect(ui.headers['content-type']).toMatch(/^text\/html/);
  });

  it('counts appends, ingests and requests, and reports tree size and checkpoint age', async () => {
    const c = await channel();
    await deliver(c);
    const us = c.app('US');
    await us.inject({ method: 'GET', url: '/v1/nothing' });
    const text = (await us.inject({ method: 'GET', url: '/metrics' })).body;
    expect(text).toContain('parley_entries_appended_total{type="hotline.message"} 1');
    expect(text).toMatch(/parley_append_seconds_count 1\b/);
    expect(text).toMatch(/parley_tree_size 1\b/);
    expect(text).toMatch(/parley_checkpoint_age_seconds \d/);
    expect(text).toContain('parley_http_requests_total{method="POST",route="/v1/messages",status="201"} 1');
    expect(text).toContain('route="unmatched",status="404"');
    const cn = (await c.app('CN').inject({ method: 'GET', url: '/metrics' })).body;
    expect(cn).toMatch(/parley_entries_ingested_total 1\b/);
    expect(cn).toContain('parley_entries_appended_total{type="receipt"} 1');
    expect((await us.inject({ method: 'GET', url: '/healthz' })).json()).toEqual({ status: 'ok', party: 'US', treeSize: 1 });
  });
});
