/**
 * Cross-party links with the real binary and three federated `parley serve`
 * processes (US, CN, EU): US reports an event in English, CN the same event
 * in Chinese, both to every party; `parley incidents similar` on CN's node
 * suggests US's incident with its reasons; `parley incidents link` logs an
 * incident.link; federation carries it to US and EU, whose incident views
 * (both incidents) list it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTIES, dataOf, threeParties } from './helpers/parties.js';

const h = threeParties({ parleyTimeout: 60_000, httpTimeout: 10_000 });

beforeAll(async () => {
  await h.found('parley-links-', 'links-test', ['--heartbeat', '60']);
  await h.startAll((n) => h.start(n, { flags: ['--poll', '300', '--no-web'], peers: [] }));
  for (const p of PARTIES) h.json(['login', '--name', 'admin', '--password-file', 'admin.pw', '--url', h.nodes[p].url, '--data', dataOf(p)]);
}, 180_000);
afterAll(async () => h.teardown([]));

const report = (data: string, f: Record<string, string>, extra: string[] = []) =>
  h.json(['report', ...Object.entries(f).flatMap(([k, v]) => [`--${k}`, v]), '--harm', 'security', '--marking', 'TLP:GREEN', '--yes', '--data', data, ...extra]);

describe('parley incidents similar | link, between real nodes', () => {
  it('CN’s node suggests US’s English report of the event CN reported in Chinese; an officer links them; US and EU see the link', async () => {
    report('us', { incident: 'US:2026-0101', title: 'FooChat 3 jailbreak produced nerve-agent synthesis steps', summary: 'A public jailbreak prompt made FooChat 3 output step-by-step synthesis of a nerve agent (VX); about 1,200 users saw it before release 3.0.2 patched the filter.', category: 'SB', severity: '4', system: 'FooChat 3', developer: 'Acme AI', lang: 'en' });
    report('cn', { incident: 'CN:2026-0042', title: 'FooChat-3 越狱后输出神经毒剂合成步骤', summary: '一个公开的越狱提示使 FooChat 3 输出了神经毒剂（VX）的分步合成方法，在 3.0.2 版本修补过滤器之前约 1,200 名用户看到了该回答。', category: 'SB', severity: '4', system: 'FooChat-3', developer: 'Acme AI', lang: 'zh-CN' });
    report('us', { incident: 'US:2026-0102', title: 'Image model watermark removed', summary: 'Watermarks of generated images were stripped at scale by a third-party tool.', category: 'IO', severity: '2', system: 'PixGen' });
    // Federation delivers each report to the other two parties.
    await h.until('CN holds both US reports and EU holds all three', 30_000, async () => {
      const cn = await h.http(h.nodes.CN, 'GET', '/v1/incidents/US:2026-0102');
      const eu = await h.http(h.nodes.EU, 'GET', '/v1/incidents/CN:2026-0042');
      const eu2 = await h.http(h.nodes.EU, 'GET', '/v1/incidents/US:2026-0101');
      return cn.status === 200 && eu.status === 200 && eu2.status === 200 ? true : undefined;
    });
    await h.until('CN holds US:2026-0101', 10_000, async () => ((await h.http(h.nodes.CN, 'GET', '/v1/incidents/US:2026-0101')).status === 200 ? true : undefined));

    const sim = h.json<{ items: { incident: string; party: string; score: number; reasons: { code: string }[] }[] }>(['incidents', 'similar', 'CN:2026-0042', '--data', 'cn']);
    expect(sim.items.map((i) => i.incident)).toEqual(['US:2026-0101']);
    expect(sim.items[0]!.reasons.map((r) => r.code)).toEqual(expect.arrayContaining(['system', 'developer', 'time', 'text']));
    const human = h.parley(['incidents', 'similar', 'CN:2026-0042', '--data', 'cn']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/SCORE\s+INCIDENT/);
    expect(human.stdout).toContain('same system: FooChat-3');

    const link = h.json<{ party: string; index: number; entry: { to: string[]; type: string } }>(['incidents', 'link', 'CN:2026-0042', 'US:2026-0101', '--note', '同一事件', '--lang', 'zh-CN', '--data', 'cn']);
    expect(link.entry).toMatchObject({ type: 'incident.link', to: ['EU', 'US'] });
    for (const p of ['US', 'EU'] as const) {
      for (const id of ['US:2026-0101', 'CN:2026-0042']) {
        const links = await h.until(`${p} shows the link on ${id}`, 30_000, async () => {
          const v = await h.get(h.nodes[p], `/v1/incidents/${id}`);
          return (v.links as unknown[] | undefined)?.length ? (v.links as { party: string; index: number; incidents: string[]; note: string }[]) : undefined;
        });
        expect(links).toEqual([expect.objectContaining({ party: 'CN', index: link.index, incidents: ['CN:2026-0042', 'US:2026-0101'], note: '同一事件' })]);
      }
    }
    // A second confirmation of the same link is refused (exit 2, a typed code).
    const again = h.parley(['incidents', 'link', 'US:2026-0101', 'CN:2026-0042', '--json', '--data', 'cn']);
    expect(again.code).toBe(2);
    expect(JSON.parse(again.stdout)).toMatchObject({ error: { code: 'LINK_EXISTS' } });
    const bad = h.parley(['incidents', 'link', 'US:2026-0101', '--json', '--data', 'cn']);
    expect(bad.code).toBe(2);
  }, 120_000);
});
