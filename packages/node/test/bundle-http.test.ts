/**
 * Offline bundles over the officers' API: POST /v1/bundles/export (officer,
 * admin) answers the signed file byte for byte with its name and SHA-256;
 * POST /v1/bundles/import (admin) verifies and ingests it as network delivery
 * does. In process (`inject`) for every role rule and error, then once over
 * real 127.0.0.1 sockets between two nodes.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_BUNDLE_BYTES, openBundle } from '@parley/core/node';
import { expectProblem, login, openHttpChannel } from './helpers/http.js';

type Channel = Awaited<ReturnType<typeof openHttpChannel>>;
let ch: Channel | undefined;
afterEach(async () => {
  await ch?.close();
  ch = undefined;
});

const OCTETS = { 'content-type': 'application/octet-stream' };
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('base64');

/** A channel where US has sent `to` (one entry per element) over its API; returns the indexes. */
async function channel(ids: string[], sends: string[][]): Promise<{ c: Channel; sent: number[] }> {
  ch = await openHttpChannel(ids);
  const us = ch.app('US');
  const alice = await login(us, 'alice');
  const sent: number[] = [];
  for (const [i, to] of sends.entries()) {
    const r = await us.inject({ method: 'POST', url: '/v1/messages', headers: alice, payload: { to, precedence: i === 0 ? 'FLASH' : 'ROUTINE', marking: 'TLP:AMBER', text: `message ${i} to ${to.join(', ')}` } });
    expect(r.statusCode, r.body).toBe(201);
    sent.push(r.json<{ index: number }>().index);
  }
  return { c: ch, sent };
}

interface ImportAnswer {
  from: string;
  checkpointSize: number;
  accepted: number;
  duplicates: number;
  receipts: { index: number; leafHash: string }[];
}

describe('POST /v1/bundles/export and /v1/bundles/import (inject)', () => {
  it('US exports to CN; CN imports: entries arrive with receipts; a second import is all duplicates', async () => {
    const { c, sent } = await channel(['CN', 'EU', 'US'], [['CN'], ['EU'], ['CN', 'EU']]);
    const us = c.app('US');
    const r = await us.inject({ method: 'POST', url: '/v1/bundles/export', headers: await login(us, 'alice'), payload: { to: 'CN' } });
    expect(r.statusCode, r.body).toBe(200);
    expect(r.headers['content-type']).toBe('application/octet-stream');
    expect(r.headers['content-disposition']).toBe(`attachment; filename="parley-US-to-CN-${c.node('US').treeSize}.bundle"`);
    expect(r.headers['cache-control']).toBe('no-store');
    const file = new Uint8Array(r.rawPayload);
    expect(r.headers['repr-digest']).toBe(`sha-256=:${sha256(file)}:`);
    expect(openBundle(file, c.node('CN').accord, 'CN').entries.map((e) => e.index)).toEqual([sent[0], sent[2]]);

    const cn = c.app('CN');
    const root = await login(cn, 'root');
    const imp = await cn.inject({ method: 'POST', url: '/v1/bundles/import', headers: { ...root, ...OCTETS }, payload: Buffer.from(file) });
    expect(imp.statusCode, imp.body).toBe(200);
    const a = imp.json<ImportAnswer>();
    expect(a).toMatchObject({ from: 'US', checkpointSize: c.node('US').treeSize, accepted: 2, duplicates: 0 });
    expect(a.receipts).toHaveLength(1);
    expect(a.receipts[0]!.leafHash).toMatch(/^[A-Za-z0-9+/]{43}=$/);

    const inbox = await cn.inject({ method: 'GET', url: '/v1/inbox', headers: await login(cn, 'alice') });
    const items = inbox.json<{ items: { party: string; index: number; body: { text: string }; state: { receipt?: { index: number } } }[] }>().items;
    expect(items.map((v) => v.index).sort()).toEqual([sent[0], sent[2]].sort());
    for (const v of items) expect(v.state.receipt?.index).toBe(a.receipts[0]!.index);
    expect(items.find((v) => v.index === sent[0])!.body.text).toBe('message 0 to CN');

    const again = await cn.inject({ method: 'POST', url: '/v1/bundles/import', headers: { ...root, ...OCTETS }, payload: Buffer.from(file) });
    expect(again.json<ImportAnswer>()).toEqual({ from: 'US', checkpointSize: c.node('US').treeSize, accepted: 0, duplicates: 2, receipts: [] });
    expect(c.node('CN').treeSize).toBe(1);

    // An admin may export too, and a range narrows it.
    const part = await us.inject({ method: 'POST', url: '/v1/bundles/export', headers: await login(us, 'root'), payload: { to: 'EU', since: sent[1]! + 1 } });
    expect(part.statusCode, part.body).toBe(200);
    expect(openBundle(new Uint8Array(part.rawPayload), c.node('EU').accord, 'EU').entries.map((e) => e.index)).toEqual([sent[2]]);
  });

  it('a tampered or misaddressed bundle is a problem and stores nothing', async () => {
    const { c } = await channel(['CN', 'EU', 'US'], [['CN'], ['EU']]);
    const us = c.app('US');
    const alice = await login(us, 'alice');
    const forCn = new Uint8Array((await us.inject({ method: 'POST', url: '/v1/bundles/export', headers: alice, payload: { to: 'CN' } })).rawPayload);
    const forEu = new Uint8Array((await us.inject({ method: 'POST', url: '/v1/bundles/export', headers: alice, payload: { to: 'EU' } })).rawPayload);
    const cn = c.app('CN');
    const root = { ...(await login(cn, 'root')), ...OCTETS };
    const send = (b: Uint8Array) => cn.inject({ method: 'POST', url: '/v1/bundles/import', headers: root, payload: Buffer.from(b) });

    expectProblem(await send(forEu), 422, 'BUNDLE_INVALID');
    const text = new TextDecoder().decode(forCn);
    const sig = text.indexOf('"sig":"') + 10;
    const badSig = forCn.slice();
    badSig[sig] = badSig[sig] === 0x41 ? 0x42 : 0x41;
    expectProblem(await send(badSig), 422, 'BUNDLE_INVALID');
    expectProblem(await send(forCn.subarray(0, forCn.length - 1)), 400, 'BUNDLE_MALFORMED');
    expectProblem(await send(new TextEncoder().encode(`${text}\n`)), 400, 'BUNDLE_MALFORMED');
    // Any single flipped bit is caught, as one code or the other.
    for (const at of [0, 20, Math.floor(forCn.length / 2), forCn.length - 3]) {
      const b = forCn.slice();
      b[at]! ^= 0x01;
      const r = await send(b);
      expect([400, 422], r.body).toContain(r.statusCode);
      expect(r.json<{ code: string }>().code).toMatch(/^BUNDLE_(MALFORMED|INVALID)$/);
    }
    expect(c.node('CN').treeSize).toBe(0);
    expect((await cn.inject({ method: 'GET', url: '/v1/inbox', headers: await login(cn, 'alice') })).json()).toEqual({ items: [] });
    expect((await send(forCn)).json<ImportAnswer>().accepted).toBe(1);
  });

  it('roles, media types, sizes and arguments', async () => {
    const { c } = await channel(['CN', 'US'], [['CN']]);
    const us = c.app('US');
    const cn = c.app('CN');
    const file = (await us.inject({ method: 'POST', url: '/v1/bundles/export', headers: await login(us, 'alice'), payload: { to: 'CN' } })).rawPayload;
    const exp = (headers: Record<string, string>, payload: unknown) => us.inject({ method: 'POST', url: '/v1/bundles/export', headers, payload: payload as Record<string, unknown> });
    const imp = (headers: Record<string, string>, payload: Buffer | string = file) => cn.inject({ method: 'POST', url: '/v1/bundles/import', headers, payload });

    // Who may.
    expectProblem(await exp({}, { to: 'CN' }), 401, 'UNAUTHENTICATED');
    expectProblem(await exp(await login(us, 'audrey'), { to: 'CN' }), 403, 'FORBIDDEN');
    expectProblem(await imp(OCTETS), 401, 'UNAUTHENTICATED');
    expectProblem(await imp({ ...(await login(cn, 'audrey')), ...OCTETS }), 403, 'FORBIDDEN');
    expectProblem(await imp({ ...(await login(cn, 'alice')), ...OCTETS }), 403, 'FORBIDDEN');

    // What export takes.
    const alice = await login(us, 'alice');
    expectProblem(await exp(alice, { to: 'US' }), 400, 'BUNDLE_MALFORMED');
    expectProblem(await exp(alice, { to: 'FR' }), 400, 'BUNDLE_MALFORMED');
    expectProblem(await exp(alice, { to: 'cn' }), 400, 'VALIDATION_FAILED');
    expectProblem(await exp(alice, { to: 'CN', since: -1 }), 400, 'VALIDATION_FAILED');
    expectProblem(await exp(alice, { to: 'CN', extra: 1 }), 400, 'VALIDATION_FAILED');
    expectProblem(await exp(alice, { to: 'CN', since: 3, until: 1 }), 400, 'TREE_ARGUMENT_INVALID');
    expectProblem(await cn.inject({ method: 'POST', url: '/v1/bundles/export', headers: await login(cn, 'alice'), payload: { to: 'US' } }), 400, 'TREE_ARGUMENT_INVALID'); // empty log

    // What import takes: the raw file, as application/octet-stream only, up to 64 MiB.
    const root = await login(cn, 'root');
    expectProblem(await imp({ ...root, 'content-type': 'application/json' }, file.toString('utf8')), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await imp({ ...root, 'content-type': 'text/plain' }, file.toString('utf8')), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await cn.inject({ method: 'POST', url: '/v1/bundles/import', headers: root }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expectProblem(await imp({ ...root, ...OCTETS }, Buffer.alloc(0)), 400, 'BUNDLE_MALFORMED');
    expectProblem(await imp({ ...root, ...OCTETS }, Buffer.alloc(MAX_BUNDLE_BYTES + 1, 0x20)), 413, 'INPUT_TOO_LARGE');
    // Other routes still take JSON only.
    expectProblem(await us.inject({ method: 'POST', url: '/v1/messages', headers: { ...alice, ...OCTETS }, payload: Buffer.from('{}') }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    expect(c.node('CN').treeSize).toBe(0);
    // Parameters on the media type are fine.
    expect((await imp({ ...root, 'content-type': 'Application/Octet-Stream; x=1' })).statusCode).toBe(200);
  });

  it('documents both routes in OpenAPI, the binary bodies as format: binary', async () => {
    const { c } = await channel(['CN', 'US'], []);
    type Op = { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> }; responses: Record<string, { content?: Record<string, { schema: Record<string, unknown> }>; headers?: Record<string, unknown> }>; security?: unknown };
    const doc = (await c.app('US').inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, { post: Op }> }>();
    const exp = doc.paths['/v1/bundles/export']!.post;
    const imp = doc.paths['/v1/bundles/import']!.post;
    expect(exp.requestBody!.content['application/json']!.schema).toMatchObject({ properties: { to: { type: 'string' } }, required: ['to'] });
    expect(exp.responses['200']!.content!['application/octet-stream']!.schema).toMatchObject({ type: 'string', format: 'binary' });
    expect(Object.keys(exp.responses['200']!.headers ?? {})).toEqual(expect.arrayContaining(['content-disposition', 'repr-digest']));
    expect(imp.requestBody!.content['application/octet-stream']!.schema).toMatchObject({ type: 'string', format: 'binary' });
    expect(imp.responses['200']!.content!['application/json']!.schema).toMatchObject({ properties: { from: {}, checkpointSize: {}, accepted: {}, duplicates: {}, receipts: {} } });
    for (const op of [exp, imp]) expect(op.responses['default']).toBeDefined();
  });
});

describe('bundles over 127.0.0.1', () => {
  it('US exports to CN with fetch; CN imports it; the entries arrive with receipts; a repeat is all duplicates', async () => {
    const { c, sent } = await channel(['CN', 'US'], [['CN'], ['CN']]);
    const base: Record<string, string> = {};
    for (const id of ['CN', 'US']) base[id] = await c.app(id).listen({ port: 0, host: '127.0.0.1' });
    const token = async (party: string, name: string) => {
      const r = await fetch(`${base[party]}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, password: 'correct horse battery staple' }) });
      return ((await r.json()) as { token: string }).token;
    };

    const res = await fetch(`${base['US']}/v1/bundles/export`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${await token('US', 'alice')}` },
      body: JSON.stringify({ to: 'CN' }),
    });
    expect(res.status).toBe(200);
    const file = new Uint8Array(await res.arrayBuffer());
    expect(res.headers.get('repr-digest')).toBe(`sha-256=:${sha256(file)}:`);
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="parley-US-to-CN-2\.bundle"$/);

    const root = await token('CN', 'root');
    const post = (body: Uint8Array) =>
      fetch(`${base['CN']}/v1/bundles/import`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${root}` }, body });
    const first = await post(file);
    expect(first.status).toBe(200);
    const a = (await first.json()) as ImportAnswer;
    expect(a).toMatchObject({ from: 'US', checkpointSize: 2, accepted: 2, duplicates: 0 });
    expect(a.receipts).toHaveLength(1);
    for (const i of sent) expect((await c.node('CN').state('US', i)).receipt?.index).toBe(a.receipts[0]!.index);
    expect((await (await post(file)).json()) as ImportAnswer).toMatchObject({ accepted: 0, duplicates: 2, receipts: [] });

    const bad = file.slice();
    bad[bad.length - 10]! ^= 0x02;
    const refused = await post(bad);
    expect([400, 422]).toContain(refused.status);
    expect(refused.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(c.node('CN').treeSize).toBe(1);
  });
});
