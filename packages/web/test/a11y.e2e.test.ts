/**
 * Accessibility, checked by axe-core in Chromium against two real nodes (CN,
 * US): every page of the dashboard — login, inbox, outbox, an entry (as the
 * officer and as the auditor), compose (both tabs, and the message form
 * showing its validation errors), incidents, an incident's timeline, link
 * health, the log explorer with a verified entry, compliance, accord — in
 * English and Chinese at 1280×800, and a few on a tablet (820×1180) and on a
 * phone (390×844: tables as cards, the menu open and closed), with the
 * WCAG 2.1 A/AA rules. Any violation of impact serious or critical fails the
 * test, with each violation's rule id, impact, targets and help printed.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, PHONE, SKIP_E2E, TABLET, type TestBrowser, type Viewport, launchBrowser, login, setLang, shot } from './helpers/browser.js';
import { type Channel, type Login, startChannel, until, sampleReport as report } from './helpers/channel.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface AxeNode {
  target: unknown[];
  failureSummary?: string | undefined;
}
interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: AxeNode[];
}

/** Rules that genuinely cannot apply, by exact selector (none so far). */
const EXCLUDE: string[] = [];

async function axe(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async (exclude) => {
    const w = window as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<{ violations: AxeViolation[] }> } };
    const ctx = exclude.length > 0 ? { include: [document], exclude: exclude.map((s) => [s]) } : document;
    const r = await w.axe.run(ctx, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })) }));
  }, EXCLUDE);
}

function describeViolations(where: string, vs: AxeViolation[]): string {
  return vs
    .map((v) => `${where}: [${v.impact}] ${v.id} — ${v.help} (${v.helpUrl})\n${v.nodes.map((n) => `    ${JSON.stringify(n.target)}${n.failureSummary !== undefined ? `\n      ${n.failureSummary.replace(/\n/g, '\n      ')}` : ''}`).join('\n')}`)
    .join('\n');
}

/** Waits until the page has its heading and has finished loading. */
async function settled(page: Page, ready?: string): Promise<void> {
  await page.locator('h1').first().waitFor();
  if (ready !== undefined) await page.locator(ready).first().waitFor();
  await page.waitForFunction(() => document.querySelector('.loading') === null);
  await page.waitForTimeout(300); // animations (recharts) and late renders settle
}



describe.skipIf(SKIP_E2E)('accessibility (axe-core, WCAG 2.1 A/AA) of every page in Chromium', () => {
  let ch: Channel;
  let b: TestBrowser;
  let cnIndex: number;
  const INCIDENT = 'CN:2026-0042';

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'US'], heartbeatSeconds: 2 });
    const cn = await ch.api('CN');
    const us = await ch.api('US');
    cnIndex = (await cn.post<{ index: number }>('/v1/messages', { to: ['US'], precedence: 'FLASH', marking: 'TLP:GREEN', text: '请确认收到：模型权重外泄。', lang: 'zh-CN' })).index;
    await cn.post('/v1/messages', { to: ['US'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'Routine check of the line.', lang: 'en' });
    await cn.post('/v1/reports', { to: ['US'], marking: 'TLP:GREEN', report: report(INCIDENT, { title: '模型权重被复制到未知主机', summary: '维护期间，一个前沿模型的权重被复制到未知主机。', lang: 'zh-CN' }) });
    await us.post('/v1/messages', { to: ['CN'], precedence: 'IMMEDIATE', marking: 'TLP:CLEAR', text: 'Line check from US.', lang: 'en' });
    // PRIORITY's deadline is 4 s in the harness: these go overdue, so the
    // overdue styles (red rows, badges, countdowns) are checked too.
    await cn.post('/v1/messages', { to: ['US'], precedence: 'PRIORITY', marking: 'TLP:AMBER', text: 'Please confirm the contact list.', lang: 'en' });
    await us.post('/v1/messages', { to: ['CN'], precedence: 'PRIORITY', marking: 'TLP:CLEAR', text: 'Please confirm the contact list (US).', lang: 'en' });
    await until("US to hold CN's message", async () => ((await us.get<{ items: { index: number }[] }>('/v1/inbox?party=CN')).items.some((i) => i.index === cnIndex) ? true : undefined));
    await us.post(`/v1/entries/CN/${cnIndex}/ack`, { reply: 'Received; investigating.', lang: 'en' });
    await until('a checkpoint of CN covering the message', async () => (await us.get<{ treeSize: number }>(`/v1/logs/CN/entries/${cnIndex}`)).treeSize);
    b = await launchBrowser();
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await ch?.stop();
  });

  /**
   * A logged-in page in a context with bypassCSP: the node's CSP forbids
   * inline scripts, and axe is injected as one (page.addScriptTag). Only this
   * test bypasses the CSP; every other e2e test runs under it.
   */
  async function open(lang: 'en' | 'zh-CN', viewport: Viewport, who?: Login): Promise<Page> {
    const ctx = await b.browser.newContext({ viewport, locale: lang, timezoneId: 'Asia/Shanghai', bypassCSP: true });
    const page = await ctx.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(ch.party('US').url);
    if (who !== undefined) {
      await login(page, who);
      // On a phone the switch is behind the menu; the context's locale already chose the language.
      if (await page.getByTestId('language-switch').isVisible()) await setLang(page, lang);
    }
    return page;
  }

  const found: string[] = [];
  async function check(page: Page, name: string): Promise<void> {
    const vs = (await axe(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
    if (vs.length > 0) found.push(describeViolations(name, vs));
    await shot(page, `a11y-${name}`);
  }

  type Visit = { name: string; path: string; ready?: string; then?: (p: Page) => Promise<void> };
  const pages = (): Visit[] => [
    { name: 'inbox', path: '/', ready: '[data-testid=inbox-row][data-overdue=true]' },
    { name: 'outbox', path: '/outbox', ready: '[data-testid=outbox-row] [data-state=overdue-ack]' },
    { name: 'entry', path: `/entries/CN/${cnIndex}` },
    { name: 'compose-message', path: '/compose', ready: '[data-testid=message-form]' },
    {
      name: 'compose-message-invalid',
      path: '/compose',
      ready: '[data-testid=message-form]',
      then: async (p) => {
        await p.getByTestId('send-message').click();
        await p.locator('.field-error').first().waitFor();
      },
    },
    { name: 'compose-report', path: '/compose?tab=report' },
    { name: 'incidents', path: '/incidents' },
    { name: 'incident', path: `/incidents/${encodeURIComponent(INCIDENT)}` },
    { name: 'links', path: '/links' },
    { name: 'explorer-verified', path: `/logs/CN/${cnIndex}`, ready: '[data-testid=verify-result]' },
    { name: 'compliance', path: '/compliance' },
    { name: 'accord', path: '/accord' },
    { name: 'glossary', path: '/glossary#witness', ready: '#witness[data-target=true]' },
    {
      name: 'shortcut-help',
      path: '/',
      ready: '[data-testid=inbox-row]',
      then: async (p) => {
        await p.locator('main h1').click();
        await p.keyboard.press('?');
        await p.getByTestId('shortcut-help').waitFor();
      },
    },
    {
      name: 'inbox-ack-dialog',
      path: '/',
      ready: '[data-testid=inbox-row][data-overdue=true]',
      then: async (p) => {
        await p.locator('main h1').click();
        await p.keyboard.press('j');
        await p.keyboard.press('a');
        await p.getByTestId('ack-dialog').waitFor();
      },
    },
  ];

  for (const lang of ['en', 'zh-CN'] as const) {
    it(`has no serious or critical violations in ${lang} at 1280×800`, async () => {
      found.length = 0;
      const anon = await open(lang, DESKTOP);
      if (lang !== 'en') {
        await anon.getByTestId('language-switch').selectOption(lang);
        await anon.waitForFunction((l) => document.documentElement.lang === l, lang);
      }
      await anon.locator('form').first().waitFor();
      await check(anon, `login-${lang}`);
      await anon.context().close();

      const page = await open(lang, DESKTOP, ch.party('US').officer);
      for (const v of pages()) {
        await page.goto(ch.party('US').url + v.path);
        await settled(page, v.ready);
        await v.then?.(page);
        await check(page, `${v.name}-${lang}`);
      }
      await page.context().close();

      const auditor = await open(lang, DESKTOP, ch.party('US').auditor);
      await auditor.goto(`${ch.party('US').url}/entries/CN/${cnIndex}`);
      await settled(auditor);
      await check(auditor, `entry-auditor-${lang}`);
      await auditor.context().close();

      if (found.length > 0) console.error(found.join('\n'));
      expect(found, found.join('\n')).toEqual([]);
    }, 180_000);
  }

  it('has no serious or critical violations on a tablet (820×1180)', async () => {
    found.length = 0;
    for (const lang of ['en', 'zh-CN'] as const) {
      const page = await open(lang, TABLET, ch.party('US').officer);
      for (const v of pages().filter((x) => ['inbox', 'entry', 'compose-report', 'explorer-verified', 'compliance'].includes(x.name))) {
        await page.goto(ch.party('US').url + v.path);
        await settled(page, v.ready);
        await check(page, `${v.name}-tablet-${lang}`);
      }
      await page.context().close();
    }
    if (found.length > 0) console.error(found.join('\n'));
    expect(found, found.join('\n')).toEqual([]);
  }, 180_000);

  it('has no serious or critical violations on a phone (390×844), the menu closed and open', async () => {
    found.length = 0;
    for (const lang of ['en', 'zh-CN'] as const) {
      const page = await open(lang, PHONE, ch.party('US').officer);
      for (const v of pages().filter((x) => ['inbox', 'outbox', 'incidents', 'incident', 'compliance', 'accord'].includes(x.name))) {
        await page.goto(ch.party('US').url + v.path);
        await settled(page, v.ready);
        await check(page, `${v.name}-phone-${lang}`);
      }
      await page.getByTestId('menu-button').click();
      await page.locator('nav#app-nav a').first().waitFor();
      await check(page, `menu-open-phone-${lang}`);
      await page.context().close();
    }
    if (found.length > 0) console.error(found.join('\n'));
    expect(found, found.join('\n')).toEqual([]);
  }, 180_000);
});
