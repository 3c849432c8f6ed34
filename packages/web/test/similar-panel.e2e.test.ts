/**
 * "Possibly the same event" end to end: two real nodes (CN, US) federating
 * on 127.0.0.1, each serving the built dashboard, driven by Chromium. US
 * reports an event in English and CN the same event in Chinese; on CN's
 * incident page the panel suggests US's incident with its reasons; CN's
 * officer confirms; the link is listed on CN's page and, once federation
 * delivers it, on US's page for US's incident. The panel is checked in
 * Chinese too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Channel, sampleReport, startChannel, until } from './helpers/channel.js';
import { SKIP_E2E, type TestBrowser, axeViolations, launchBrowser, login, pageErrors, setLang, shot } from './helpers/browser.js';

describe.skipIf(SKIP_E2E)('similar-incident panel (Chromium, two real nodes)', () => {
  let ch: Channel;
  let b: TestBrowser;

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'US'] });
    b = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await ch?.stop();
  });

  it('suggests the other party’s report, confirms a link, and both sides list it', async () => {
    const us = await ch.api('US');
    const cn = await ch.api('CN');
    await us.post('/v1/reports', {
      marking: 'TLP:GREEN',
      report: sampleReport('US:2026-0101', { title: 'FooChat 3 jailbreak produced nerve-agent synthesis steps', summary: 'A public jailbreak made FooChat 3 output VX synthesis steps; 1,200 users saw it before release 3.0.2.', category: 'SB', severity: 4, system: { name: 'FooChat 3', developer: 'Acme AI' }, occurredAt: '2026-11-20T08:00:00Z', lang: 'en' }),
    });
    await cn.post('/v1/reports', {
      marking: 'TLP:GREEN',
      report: sampleReport('CN:2026-0042', { title: 'FooChat-3 越狱后输出神经毒剂合成步骤', summary: '公开的越狱提示使 FooChat 3 输出了 VX 的合成步骤，3.0.2 版本修补前约 1,200 名用户看到。', category: 'SB', severity: 4, system: { name: 'FooChat-3', developer: 'Acme AI' }, occurredAt: '2026-11-20T11:00:00Z', lang: 'zh-CN' }),
    });
    await until('CN holds US’s report', async () => ((await cn.get<{ items: { incident: string }[] }>('/v1/incidents')).items.some((i) => i.incident === 'US:2026-0101') ? true : undefined), 30_000);

    const page = await b.page(`${ch.party('CN').url}/`);
    await login(page, ch.party('CN').officer);
    await page.goto(`${ch.party('CN').url}/incidents/${encodeURIComponent('CN:2026-0042')}`);
    const panel = page.getByTestId('similar-panel');
    await panel.getByRole('heading', { name: 'Possibly the same event' }).waitFor();
    const item = panel.locator('[data-testid=similar-item][data-incident="US:2026-0101"]');
    await item.waitFor();
    expect(await item.textContent()).toContain('same AI system');
    // The title is marked with its report's language (WCAG 3.1.2), and each Confirm button says which incident it links.
    expect(await item.locator('[lang="en"]').textContent()).toContain('FooChat 3 jailbreak');
    const described = await item.getByTestId('confirm-link').getAttribute('aria-describedby');
    expect(described).toBeTruthy();
    expect(await page.locator(`[id="${described}"]`).textContent()).toContain('US:2026-0101');
    await shot(page, 'similar-panel-en');
    // US's officer has US's incident open: the link CN confirms shows there live, once federation delivers it (no reload).
    const usPage = await b.page(`${ch.party('US').url}/`);
    await login(usPage, ch.party('US').officer);
    await usPage.goto(`${ch.party('US').url}/incidents/${encodeURIComponent('US:2026-0101')}`);
    await usPage.getByTestId('similar-panel').locator('[data-testid=similar-item][data-incident="CN:2026-0042"]').waitFor();
    await item.getByTestId('confirm-link').click();
    await panel.getByTestId('incident-links').getByRole('link', { name: 'US:2026-0101' }).waitFor();
    await item.getByText('Linked').waitFor();
    await setLang(page, 'zh-CN');
    await panel.getByRole('heading', { name: '可能是同一事件' }).waitFor();
    await panel.getByText('已确认的关联').waitFor();
    await shot(page, 'similar-panel-zh-CN');
    await setLang(page, 'en');
    // The confirmed link names its entry: its page reads as a link (not raw JSON), and a mistaken one can be retracted from there.
    await panel.getByTestId('link-entry').click();
    await page.waitForURL(/\/entries\/CN\/\d+$/);
    const body = page.getByTestId('body');
    await body.getByRole('link', { name: 'US:2026-0101' }).waitFor();
    expect(await body.textContent()).toContain('same event');
    expect(await page.locator('pre.body-text').count()).toBe(0);
    await page.getByTestId('retract-button').waitFor();
    expect(pageErrors(page)).toEqual([]);
    // axe (WCAG 2.1 A/AA, serious and critical): the panel with a suggestion and a confirmed link, and the link's page, in both languages.
    for (const lang of ['en', 'zh-CN'] as const) {
      const ctx = await b.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: lang, bypassCSP: true });
      try {
        const p = await ctx.newPage();
        await p.goto(ch.party('CN').url);
        await login(p, ch.party('CN').officer);
        await setLang(p, lang);
        await p.goto(`${ch.party('CN').url}/incidents/${encodeURIComponent('CN:2026-0042')}`);
        await p.getByTestId('similar-item').first().waitFor();
        await p.getByTestId('incident-links').waitFor();
        expect(await axeViolations(p), `incident ${lang}`).toEqual([]);
        await p.getByTestId('link-entry').click();
        await p.getByTestId('body').getByRole('link', { name: 'US:2026-0101' }).waitFor();
        expect(await axeViolations(p), `link entry ${lang}`).toEqual([]);
      } finally {
        await ctx.close();
      }
    }

    // Federation carries the link to US, whose open page for its own incident lists it, live.
    await usPage.getByTestId('incident-links').getByRole('link', { name: 'CN:2026-0042' }).waitFor({ timeout: 30_000 });
    await usPage.locator('[data-testid=similar-item][data-incident="CN:2026-0042"]').getByText('Linked').waitFor();
    expect(pageErrors(usPage)).toEqual([]);
  }, 120_000);

  it('names the party that signed the report compared, not the one its incident id claims', async () => {
    // Nothing stops a party from writing an incident id with another party's prefix: CN writes "US:…", an
    // incident US never reported. US's node names it CN's (incidents.ts incidentReporter) and suggests it.
    const cn = await ch.api('CN');
    await cn.post('/v1/reports', {
      marking: 'TLP:GREEN',
      report: sampleReport('US:spoof-0001', { title: 'FooChat 3 jailbreak output nerve-agent synthesis steps', summary: 'A jailbreak made FooChat 3 output VX synthesis steps.', category: 'SB', severity: 4, system: { name: 'FooChat 3 Pro', developer: 'Acme AI' }, occurredAt: '2026-11-20T09:00:00Z', lang: 'en' }),
    });
    const page = await b.page(`${ch.party('US').url}/`);
    await login(page, ch.party('US').officer);
    await page.goto(`${ch.party('US').url}/incidents/${encodeURIComponent('US:2026-0101')}`);
    const spoof = page.locator('[data-testid=similar-item][data-incident="US:spoof-0001"]');
    // Federation brings CN's report to US; the panel follows new reports live.
    await spoof.waitFor({ timeout: 30_000 });
    expect(await spoof.getByTestId('similar-party').textContent()).toMatch(/^CN\b/);
    // "FooChat 3 Pro" contains "FooChat 3": a similar system, not the same one.
    expect(await spoof.textContent()).toContain('similar AI system');
    expect(await spoof.textContent()).not.toContain('same AI system');
    const real = page.locator('[data-testid=similar-item][data-incident="CN:2026-0042"]');
    expect(await real.getByTestId('similar-party').textContent()).toMatch(/^CN\b/);
    expect(await real.locator('[lang="zh-CN"]').textContent()).toContain('越狱');
    expect(pageErrors(page)).toEqual([]);
  }, 120_000);
});
