/**
 * Two nodes (US, CN) over real sockets on 127.0.0.1: an officer logs in at
 * US and sends a FLASH message over HTTP; the entry's bytes are fetched from
 * US's public log and handed to CN's ingest by CN's admin; CN's officer sees
 * it in the inbox with a receipt and acknowledges it; the checkpoint and an
 * inclusion proof fetched from US verify under US's log key as the accord
 * (fetched from CN) names it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifierSet, leafHash, openCheckpoint, parseBase64, verifyInclusion } from '@parley/core/node';
import { PASSWORD, openHttpChannel } from './helpers/http.js';

let ch: Awaited<ReturnType<typeof openHttpChannel>>;
const base: Record<string, string> = {};

beforeAll(async () => {
  ch = await openHttpChannel(['CN', 'US']);
  for (const id of ['CN', 'US']) base[id] = await ch.app(id).listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await ch?.close();
});

async function call(party: string, method: string, path: string, opts: { token?: string; json?: unknown; body?: string; type?: string } = {}) {
  const headers: Record<string, string> = {};
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  if (opts.type) headers['content-type'] = opts.type;
  const res = await fetch(`${base[party]}${path}`, { method, headers, ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : opts.body !== undefined ? { body: opts.body } : {}) });
  return { status: res.status, type: res.headers.get('content-type') ?? '', headers: res.headers, bytes: new Uint8Array(await res.arrayBuffer()) };
}
const json = <T>(r: { bytes: Uint8Array }): T => JSON.parse(new TextDecoder().decode(r.bytes)) as T;

async function login(party: string, name: string): Promise<string> {
  const r = await call(party, 'POST', '/v1/sessions', { json: { name, password: PASSWORD } });
  expect(r.status).toBe(201);
  return json<{ token: string }>(r).token;
}

describe('two nodes over 127.0.0.1', () => {
  it('listens on loopback', () => {
    expect(base['US']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(base['CN']).not.toBe(base['US']);
  });

  it('sends a FLASH message at US, delivers it to CN, which receipts and acknowledges it; the log verifies', async () => {
    const alice = await login('US', 'alice');
    const sent = await call('US', 'POST', '/v1/messages', { token: alice, json: { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'Unexplained model behaviour on the shared testbed; call now.' } });
    expect(sent.status).toBe(201);
    const s = json<{ index: number; leafHash: string; entry: { precedence: string; to: string[] } }>(sent);
    expect(s.entry).toMatchObject({ precedence: 'FLASH', to: ['CN'] });

    const entry = await call('US', 'GET', `/log/entries/${s.index}`);
    expect(entry.status).toBe(200);
    expect(entry.type).toBe('application/json');
    expect(new TextDecoder().decode(entry.bytes)).not.toContain('Unexplained'); // sealed: the public log carries no plaintext

    const root = await login('CN', 'root');
    const ing = await call('CN', 'POST', '/v1/ingest', { token: root, json: { entries: [Buffer.from(entry.bytes).toString('base64')] } });
    expect(ing.status).toBe(200);
    const receipt = json<{ accepted: number; receipts: { index: number }[] }>(ing);
    expect(receipt.accepted).toBe(1);

    const wang = await login('CN', 'alice');
    const inbox = json<{ items: { party: string; index: number; body: unknown; state: { receipt?: { index: number }; ack?: { officer: string } } }[] }>(await call('CN', 'GET', '/v1/inbox', { token: wang }));
    expect(inbox.items[0]).toMatchObject({ party: 'US', index: s.index, body: { text: expect.stringContaining('Unexplained') }, state: { receipt: { index: receipt.receipts[0]!.index } } });

    const ack = await call('CN', 'POST', `/v1/entries/US/${s.index}/ack`, { token: wang, json: { reply: '收到，正在处理', lang: 'zh-CN' } });
    expect(ack.status).toBe(201);
    expect(ack.headers.get('location')).toMatch(/^\/v1\/entries\/CN\/\d+$/);
    const after = json<{ items: { state: { ack?: { officer: string } } }[] }>(await call('CN', 'GET', '/v1/inbox', { token: wang }));
    expect(after.items[0]!.state.ack).toMatchObject({ officer: 'alice' });

    // Verify US's log with the key the accord names for US — the accord as CN serves it.
    const accord = json<{ accord: { parties: { id: string; logKey: string }[] } }>(await call('CN', 'GET', '/v1/accord', { token: wang }));
    const keys = new VerifierSet([accord.accord.parties.find((p) => p.id === 'US')!.logKey]);
    const cpr = await call('US', 'GET', '/log/checkpoint');
    expect(cpr.type).toBe('text/plain; charset=utf-8');
    expect(cpr.headers.get('cache-control')).toBe('no-store');
    const cp = openCheckpoint(cpr.bytes, keys).checkpoint;
    expect(cp.treeSize).toBeGreaterThan(s.index);
    const proof = json<{ proof: string[] }>(await call('US', 'GET', `/log/proof/inclusion?index=${s.index}&size=${cp.treeSize}`));
    const leaf = leafHash(entry.bytes);
    expect(Buffer.from(leaf).toString('base64')).toBe(s.leafHash);
    expect(verifyInclusion(proof.proof.map((p) => parseBase64(p)), cp.treeSize, cp.rootHash, s.index, leaf)).toBe(true);
  });

  it('answers problems over the wire too, and serves a parseable OpenAPI document', async () => {
    const alice = await login('US', 'alice');
    const before = ch.node('US').treeSize;
    const wrongType = await call('US', 'POST', '/v1/messages', { token: alice, type: 'text/plain', body: 'hello' });
    expect(wrongType.status).toBe(415);
    expect(wrongType.type).toMatch(/^application\/problem\+json/);
    expect(json<{ code: string }>(wrongType).code).toBe('UNSUPPORTED_MEDIA_TYPE');
    const big = await call('US', 'POST', '/v1/messages', { token: alice, json: { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'x'.repeat(2 * 1024 * 1024) } });
    expect(big.status).toBe(413);
    expect(json<{ code: string }>(big).code).toBe('INPUT_TOO_LARGE');
    const anon = await call('US', 'POST', '/v1/messages', { json: { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'x' } });
    expect(anon.status).toBe(401);
    expect(ch.node('US').treeSize).toBe(before);

    const doc = json<{ openapi: string; paths: Record<string, unknown> }>(await call('US', 'GET', '/openapi.json'));
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/messages', '/v1/inbox', '/log/checkpoint', '/log/proof/inclusion']));
    const health = await call('US', 'GET', '/healthz');
    expect(json(health)).toMatchObject({ status: 'ok', party: 'US' });
  });
});
