/**
 * An incident id (PARTY:local-id) is a claim made by whoever sends a report:
 * a party may send a report under another party's prefix (a counter-assessment
 * of that party's incident, or a forgery of one it never reported). The
 * incident list names the prefix's party only when that party's own report is
 * held; otherwise the first report's sender.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHttpChannel, login } from './helpers/http.js';
import { sampleReport } from './helpers/channel.js';

type Ch = Awaited<ReturnType<typeof openHttpChannel>>;
let ch: Ch;

beforeAll(async () => {
  ch = await openHttpChannel(['CN', 'US']);
});
afterAll(async () => {
  await ch?.close();
});

async function report(from: string, incident: string, title: string): Promise<number> {
  const r = await ch.app(from).inject({ method: 'POST', url: '/v1/reports', headers: await login(ch.app(from), 'alice'), payload: { marking: 'TLP:CLEAR', report: sampleReport({ incident, title }) } });
  expect(r.statusCode, r.body).toBe(201);
  return r.json<{ index: number }>().index;
}

async function deliver(from: string, to: string, index: number) {
  await ch.node(to).ingest([(await ch.store(from).entry(index))!.bytes]);
}

async function listed(at: string): Promise<Record<string, unknown>[]> {
  const r = await ch.app(at).inject({ method: 'GET', url: '/v1/incidents', headers: await login(ch.app(at), 'alice') });
  expect(r.statusCode, r.body).toBe(200);
  return r.json<{ items: Record<string, unknown>[] }>().items;
}

describe('the reporting party of an incident', () => {
  it('is not taken from a prefix the party never reported under: a forged US id sent by CN is listed as CN\u2019s', async () => {
    await deliver('CN', 'US', await report('CN', 'US:forged-01', 'Forged in US\u2019s name'));
    expect((await listed('US')).find((i) => i['incident'] === 'US:forged-01')).toMatchObject({ party: 'CN', title: 'Forged in US\u2019s name' });
  });

  it('is the prefix\u2019s party once that party\u2019s own report is held, whoever reported first', async () => {
    await deliver('CN', 'US', await report('CN', 'US:2026-0500', 'CN assesses first'));
    expect((await listed('US')).find((i) => i['incident'] === 'US:2026-0500')).toMatchObject({ party: 'CN' });
    await report('US', 'US:2026-0500', 'US reports its own incident');
    expect((await listed('US')).find((i) => i['incident'] === 'US:2026-0500')).toMatchObject({ party: 'US' });
  });

  it('cannot make a link "between parties" of two incidents one party reported, by a forged prefix', async () => {
    await report('CN', 'CN:2026-0600', 'Chatbot leaked a key');
    await report('CN', 'US:forged-02', 'Chatbot leaked a key');
    const r = await ch.app('CN').inject({ method: 'POST', url: '/v1/incidents/links', headers: await login(ch.app('CN'), 'alice'), payload: { incidents: ['CN:2026-0600', 'US:forged-02'] } });
    expect(r.statusCode, r.body).toBe(422);
    expect(r.json<{ code: string }>().code).toBe('LINK_INVALID');
  });
});
