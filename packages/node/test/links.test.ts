/**
 * Cross-party linking (issue 13) with real nodes (SQLite stores, the HTTP
 * API in process, entries carried between nodes by their own ingest, as
 * federation delivers them): US reports an event in English, CN the same
 * event in Chinese; CN's node suggests US's incident with its reasons; CN's
 * officer confirms the link; the link reaches US and EU (who received both
 * reports) and both incident views show it; a retracted report stops being
 * suggested; bad links are typed 4xx problems.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHttpChannel, login, expectProblem } from './helpers/http.js';
import { sampleReport } from './helpers/channel.js';
import { compare, dice, normalizeName, textFeatures } from '../src/similar.js';

type Ch = Awaited<ReturnType<typeof openHttpChannel>>;
let ch: Ch;
const auth = new Map<string, { authorization: string }>();

const usReport = sampleReport({
  incident: 'US:2026-0101',
  title: 'FooChat 3 jailbreak produced nerve-agent synthesis steps',
  summary: 'A public jailbreak prompt made FooChat 3 output step-by-step synthesis of a nerve agent (VX). 1,200 users saw the answer before the filter was patched in release 3.0.2.',
  category: 'SB',
  severity: 4,
  system: { name: 'FooChat 3', developer: 'Acme AI' },
  harm: { types: ['security'] },
  occurredAt: '2026-11-20T08:00:00Z',
  lang: 'en',
});
const cnReport = sampleReport({
  incident: 'CN:2026-0042',
  title: 'FooChat-3 越狱后输出神经毒剂合成步骤',
  summary: '一个公开的越狱提示使 FooChat 3 输出了神经毒剂（VX）的分步合成方法。在 3.0.2 版本修补过滤器之前，约 1,200 名用户看到了该回答。',
  category: 'SB',
  severity: 4,
  system: { name: 'FooChat-3', developer: 'Acme AI' },
  harm: { types: ['security'] },
  occurredAt: '2026-11-20T11:30:00Z',
  lang: 'zh-CN',
});
const unrelated = sampleReport({
  incident: 'US:2026-0102',
  title: 'Image model watermark removed',
  summary: 'Watermarks of generated images were stripped at scale by a third-party tool.',
  category: 'IO',
  severity: 2,
  system: { name: 'PixGen' },
  occurredAt: '2026-06-01T00:00:00Z',
});

async function post(party: string, url: string, payload: unknown, who = 'alice') {
  return ch.app(party).inject({ method: 'POST', url, payload: payload as object, headers: who === 'alice' ? auth.get(party)! : await login(ch.app(party), who) });
}
async function get(party: string, url: string, who = 'alice') {
  return ch.app(party).inject({ method: 'GET', url, headers: who === 'alice' ? auth.get(party)! : await login(ch.app(party), who) });
}
async function deliver(from: string, to: string, indexes: readonly number[]) {
  const bytes = [];
  for (const i of indexes) bytes.push((await ch.store(from).entry(i))!.bytes);
  return ch.node(to).ingest(bytes);
}
async function report(party: string, body: object, to?: string[]) {
  const r = await post(party, '/v1/reports', { marking: 'TLP:GREEN', report: body, ...(to ? { to } : {}) });
  expect(r.statusCode, r.body).toBe(201);
  return r.json<{ index: number }>().index;
}

beforeAll(async () => {
  ch = await openHttpChannel(['CN', 'EU', 'US']);
  for (const p of ['CN', 'EU', 'US']) auth.set(p, await login(ch.app(p), 'alice'));
});
afterAll(async () => ch?.close());

describe('similarity (pure)', () => {
  it('normalises names and makes CJK bigrams and Latin tokens', () => {
    expect(normalizeName('FooChat-3')).toBe(normalizeName('ＦｏｏＣｈａｔ 3'));
    const f = textFeatures('FooChat 3 越狱后输出 the VX');
    expect([...f]).toEqual(expect.arrayContaining(['foochat', '3', '越狱', '狱后', '后输', '输出', 'vx']));
    expect(f.has('the')).toBe(false);
    expect(dice(new Set(['a', 'b']), new Set(['b', 'c']))).toBe(0.5);
  });
  it('scores the English and Chinese reports of one event high, an unrelated one low', () => {
    const a = { report: usReport, firstTime: '2026-11-20T09:00:00Z' };
    const b = { report: cnReport, firstTime: '2026-11-20T12:00:00Z' };
    const s = compare(b, a);
    expect(s.score).toBeGreaterThanOrEqual(0.75);
    expect(s.reasons.map((r) => r.code)).toEqual(['system', 'developer', 'time', 'text', 'category']);
    expect(compare(b, { report: unrelated, firstTime: '2026-06-01T01:00:00Z' }).score).toBeLessThan(0.2);
  });
});

describe('links between real nodes', () => {
  let us: number;
  let cn: number;
  let other: number;
  it('CN’s node suggests US’s report of the same event, with reasons, and not the unrelated one', async () => {
    us = await report('US', usReport);
    other = await report('US', unrelated);
    cn = await report('CN', cnReport);
    await deliver('US', 'CN', [us, other]);
    await deliver('US', 'EU', [us, other]);
    await deliver('CN', 'US', [cn]);
    await deliver('CN', 'EU', [cn]);
    const r = await get('CN', '/v1/incidents/CN:2026-0042/similar');
    expect(r.statusCode, r.body).toBe(200);
    const items = r.json<{ items: { incident: string; party: string; score: number; reasons: { code: string }[]; linked: boolean }[] }>().items;
    expect(items.map((i) => i.incident)).toEqual(['US:2026-0101']);
    expect(items[0]).toMatchObject({ party: 'US', linked: false });
    expect(items[0]!.reasons.map((x) => x.code)).toContain('system');
    // Its own party's incidents are never suggested; with min=0 the unrelated one shows, below.
    const all = (await get('CN', '/v1/incidents/CN:2026-0042/similar?min=0')).json<{ items: { incident: string; score: number }[] }>().items;
    expect(all.map((i) => i.incident)).toEqual(['US:2026-0101', 'US:2026-0102']);
    expect(all[1]!.score).toBeLessThan(0.2);
    // US's node sees it the other way round.
    const back = (await get('US', '/v1/incidents/US:2026-0101/similar')).json<{ items: { incident: string }[] }>().items;
    expect(back.map((i) => i.incident)).toEqual(['CN:2026-0042']);
  });

  it('an auditor gets a typed 403 for a sealed incident, and nothing is suggested from sealed reports', async () => {
    const r = await get('CN', '/v1/incidents/CN:2026-0042/similar', 'audrey');
    expectProblem(r, 403, 'FORBIDDEN');
    expectProblem(await get('CN', '/v1/incidents/CN:9999-0000/similar'), 404, 'NOT_FOUND');
  });

  it('CN’s officer confirms the link: an incident.link to US and EU, at the reports’ marking; both sides show it', async () => {
    const r = await post('CN', '/v1/incidents/links', { incidents: ['US:2026-0101', 'CN:2026-0042'], note: '同一事件 / same event', lang: 'zh-CN' });
    expect(r.statusCode, r.body).toBe(201);
    const s = r.json<{ index: number; entry: { type: string; to: string[]; marking: string; refs: { party: string; index: number }[]; body: unknown } }>();
    expect(s.entry).toMatchObject({ type: 'incident.link', to: ['EU', 'US'], marking: 'TLP:GREEN' });
    expect(s.entry.refs.map((x) => `${x.party}/${x.index}`)).toEqual([`CN/${cn}`, `US/${us}`]);
    // Linking again is a typed 409.
    expectProblem(await post('CN', '/v1/incidents/links', { incidents: ['CN:2026-0042', 'US:2026-0101'] }), 409, 'LINK_EXISTS');
    // Delivered as federation would: US and EU accept it (receipts, not rejections).
    for (const to of ['US', 'EU']) {
      const d = await deliver('CN', to, [s.index]);
      expect(d.accepted).toBe(1);
      const rec = await ch.store(to).received('CN', s.index);
      expect(rec?.meta.type).toBe('incident.link');
    }
    for (const [party, id] of [['CN', 'CN:2026-0042'], ['US', 'US:2026-0101'], ['US', 'CN:2026-0042'], ['EU', 'US:2026-0101'], ['EU', 'CN:2026-0042']] as const) {
      const v = await get(party, `/v1/incidents/${id}`);
      expect(v.statusCode, v.body).toBe(200);
      const links = v.json<{ links?: { party: string; incidents: string[]; relation: string; note?: string }[] }>().links;
      expect(links, `${party} ${id}`).toEqual([expect.objectContaining({ party: 'CN', incidents: ['CN:2026-0042', 'US:2026-0101'], relation: 'same-event', note: '同一事件 / same event' })]);
    }
    const again = (await get('CN', '/v1/incidents/CN:2026-0042/similar')).json<{ items: { incident: string; linked: boolean }[] }>().items;
    expect(again[0]).toMatchObject({ incident: 'US:2026-0101', linked: true });
  });

  it('refuses bad links with typed problems, never 5xx', async () => {
    expectProblem(await post('CN', '/v1/incidents/links', { incidents: ['US:2026-0101', 'US:2026-0102'] }), 422, 'LINK_INVALID');
    expectProblem(await post('CN', '/v1/incidents/links', { incidents: ['US:2026-0101', 'CN:0000-0404'] }), 422, 'LINK_INVALID');
    expectProblem(await post('CN', '/v1/incidents/links', { incidents: ['US:2026-0101', 'US:2026-0101'] }), 422, 'LINK_INVALID');
    expectProblem(await post('CN', '/v1/incidents/links', { incidents: ['US:2026-0101'] }), 400, 'VALIDATION_FAILED');
    expectProblem(await post('CN', '/v1/incidents/links', { incidents: ['US:2026-0101', 'CN:2026-0042'] }, 'audrey'), 403, 'FORBIDDEN');
  });

  it('a party that did not receive both reports is not told of a link', async () => {
    // A CN report sent to US only: a CN–US link cannot go to EU.
    const cn2 = await report('CN', { ...cnReport, incident: 'CN:2026-0043' }, ['US']);
    await deliver('CN', 'US', [cn2]);
    const r = await post('US', '/v1/incidents/links', { incidents: ['US:2026-0102', 'CN:2026-0043'], relation: 'related' });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json<{ entry: { to: string[] } }>().entry.to).toEqual(['CN']);
  });

  it('a retracted report is no longer suggested', async () => {
    // US withdraws its report (a retraction entry citing it), as the retract helper's command does.
    const rec = (await ch.store('US').entry(other))!;
    const { formatBase64 } = await import('@parley/core');
    await ch.node('US').submit('alice', { type: 'retraction', to: ['CN', 'EU'], precedence: 'ROUTINE', marking: 'TLP:GREEN', refs: [{ party: 'US', index: other, hash: formatBase64(rec.leafHash) }], body: { action: 'retract', reason: 'entered in error' } });
    const r = await get('US', '/v1/incidents/US:2026-0102/similar?min=0');
    expect(r.json<{ items: unknown[] }>().items).toEqual([]);
    const fromCn = (await get('US', '/v1/incidents/CN:2026-0042/similar?min=0')).json<{ items: { incident: string }[] }>().items;
    expect(fromCn.map((i) => i.incident)).toEqual(['US:2026-0101']);
  });

  it('a retraction the node refused withdraws nothing: the report is still suggested and its link still shown', async () => {
    // A node that skips the checks: a retraction of US's report addressed to CN only (the report went to CN and EU).
    const rec = (await ch.store('US').entry(us))!;
    const { formatBase64 } = await import('@parley/core');
    const bad = await ch.node('US').submit('mallory', { type: 'retraction', to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:GREEN', refs: [{ party: 'US', index: us, hash: formatBase64(rec.leafHash) }], body: { action: 'retract', reason: 'hostile' } });
    await deliver('US', 'CN', [bad.index]);
    const { retractionIndex } = await import('../src/retractions.js');
    await retractionIndex(ch.node('CN')).refresh();
    expect(retractionIndex(ch.node('CN')).citing('US', us)).toEqual([{ party: 'US', index: bad.index }]);
    const v = (await get('CN', '/v1/incidents/US:2026-0101')).json<{ links?: unknown[] }>();
    expect(v.links).toHaveLength(1);
    const items = (await get('CN', '/v1/incidents/CN:2026-0042/similar')).json<{ items: { incident: string; linked: boolean }[] }>().items;
    expect(items).toEqual([expect.objectContaining({ incident: 'US:2026-0101', linked: true })]);
  });
});
