/**
 * The dashboard end to end: two real nodes (CN, US) federating on
 * 127.0.0.1, each serving the built dashboard, driven by Debian's Chromium.
 *
 * A duty officer at US logs in; CN's officer sends a FLASH message through
 * CN's API and it appears in US's inbox live with a countdown; US
 * acknowledges it in two clicks; CN's outbox, open in a second browser,
 * turns "acknowledged". US's officer switches to Chinese and files an
 * incident report from the taxonomy, which arrives at CN. An unanswered
 * PRIORITY message turns overdue without a reload. An auditor sees
 * "sealed — not entitled" and no acknowledge button. Every page is
 * screenshot in English and Chinese (test/screenshots/).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type Channel, startChannel } from './helpers/channel.js';
import { SKIP_E2E, pageErrors, type TestBrowser, TABLET, launchBrowser, login, setLang, shot } from './helpers/browser.js';


interface ListResponse {
  items: { party: string; index: number; entry: { type: string; from: { party: string } }; body?: { text?: string; title?: string; incident?: string; lang?: string }; state?: { ack?: unknown } }[];
}

describe.skipIf(SKIP_E2E)('dashboard (Chromium, two real nodes)', () => {
  let ch: Channel;
  let b: TestBrowser;
  let us: Page;
  let cn: Page;
  const flashText = `FLASH: confirm the affected model endpoints are isolated (${Date.now()})`;
  let flash: { party: string; index: number };
  let incidentId = '';

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'US'] });
    b = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await ch?.stop();
  });

  it('serves the dashboard at / and logs an officer in', async () => {
    us = await b.page(`${ch.party('US').url}/`);
    await us.getByRole('heading', { name: 'Parley duty officer' }).waitFor();
    await shot(us, 'login-en');
    // A wrong password is explained, not ignored.
    await us.getByLabel('Officer name').fill(ch.party('US').officer.name);
    await us.getByLabel('Password').fill('wrong-password');
    await us.getByRole('button', { name: 'Sign in' }).click();
    await us.getByRole('alert').filter({ hasText: 'Wrong officer name or password' }).waitFor();
    await login(us, ch.party('US').officer);
    await us.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
    expect(await us.getByTestId('officer').textContent()).toContain('duty-us');
    expect(await us.getByTestId('our-party').textContent()).toBe('US');
    await us.locator('[data-testid=live-status][data-status=live]').waitFor();
  });

  it('shows a FLASH message from another node live, with a countdown', async () => {
    const api = await ch.api('CN');
    const sent = await api.post<{ party: string; index: number }>('/v1/messages', { to: ['US'], precedence: 'FLASH', marking: 'TLP:AMBER', text: flashText, lang: 'en' });
    flash = { party: sent.party, index: sent.index };
    const row = us.locator('[data-testid=inbox-row]', { hasText: flashText });
    await row.waitFor({ timeout: 20_000 }); // no reload: the event stream brings it
    expect(await row.getAttribute('data-overdue')).toBe('false');
    expect(await row.textContent()).toMatch(/due in \d+ m \d\d s/);
    expect(await row.locator('.prec-flash').count()).toBe(1);
    const before = await row.locator('[role=timer]').textContent();
    // It ticks: wait (bounded) for the text to change rather than sleeping and asserting.
    await row.locator('[role=timer]').filter({ hasNotText: before ?? '' }).waitFor({ timeout: 5000 });
    await shot(us, 'inbox-en');
  });

  it('acknowledges in two clicks: open, acknowledge', async () => {
    await us.locator('[data-testid=inbox-row]', { hasText: flashText }).getByRole('link', { name: flashText }).click();
    await us.getByTestId('body').filter({ hasText: flashText }).waitFor();
    await us.getByLabel('Reply (optional)').fill('Endpoints isolated; standing by.');
    await shot(us, 'entry-en');
    await us.getByTestId('ack-button').click();
    await us.getByTestId('acked').waitFor();
    expect(await us.getByTestId('acked').textContent()).toContain('duty-us');
    await us.getByRole('link', { name: 'Inbox' }).click();
    const row = us.locator('[data-testid=inbox-row]', { hasText: flashText });
    await us.locator(`[data-testid=inbox-row][data-key="${flash.party}/${flash.index}"][data-acked=true]`).waitFor();
    expect(await row.textContent()).toContain('Acknowledged');
  });

  it("turns the sender's outbox acknowledged (second browser, the other node)", async () => {
    cn = await b.page(`${ch.party('CN').url}/outbox`);
    await login(cn, ch.party('CN').officer);
    // The deep link survives the login.
    await cn.getByRole('heading', { level: 1, name: 'Outbox' }).waitFor();
    const rcpt = cn.locator(`[data-testid=outbox-row][data-key="CN/${flash.index}"] [data-testid=recipient][data-recipient=US]`);
    await rcpt.waitFor();
    await cn.locator(`[data-testid=outbox-row][data-key="CN/${flash.index}"] [data-recipient=US][data-state=acknowledged]`).waitFor({ timeout: 30_000 });
    expect(await rcpt.textContent()).toContain('Acknowledged');
    await shot(cn, 'outbox-en');
    // The acknowledgement carries US's reply, readable at CN.
    await rcpt.getByRole('link', { name: "View US's acknowledgement and reply" }).click();
    await cn.getByTestId('body').filter({ hasText: 'Endpoints isolated; standing by.' }).waitFor();
    await shot(cn, 'entry-ack-reply-en');
    await cn.goBack();
  });

  it('turns an unanswered PRIORITY message overdue without a reload', async () => {
    const api = await ch.api('CN');
    const text = `PRIORITY: please share indicators of compromise (${Date.now()})`;
    const sent = await api.post<{ index: number }>('/v1/messages', { to: ['US'], precedence: 'PRIORITY', marking: 'TLP:GREEN', text, lang: 'en' });
    await us.getByRole('link', { name: 'Inbox' }).click();
    const row = us.locator(`[data-testid=inbox-row][data-key="CN/${sent.index}"]`);
    await row.waitFor({ timeout: 20_000 });
    await us.locator(`[data-testid=inbox-row][data-key="CN/${sent.index}"][data-overdue=true]`).waitFor({ timeout: 20_000 });
    expect(await row.textContent()).toContain('OVERDUE');
    expect(Number(await us.getByTestId('count-overdue').locator('strong').textContent())).toBeGreaterThanOrEqual(1);
    // The navigation says so on every page.
    await us.locator('[data-testid=nav-awaiting]:not([data-overdue="0"])').waitFor();
    await shot(us, 'inbox-overdue-en');
  });

  it('switches language at any time: labels, <html lang>, taxonomy terms', async () => {
    expect(await us.getAttribute('html', 'lang')).toBe('en');
    expect(await us.getByRole('navigation').textContent()).toContain('Outbox');
    await setLang(us, 'zh-CN');
    expect(await us.getAttribute('html', 'lang')).toBe('zh-CN');
    await us.getByRole('heading', { level: 1, name: '收件箱' }).waitFor();
    const nav = await us.getByRole('navigation').textContent();
    expect(nav).toContain('发件箱');
    expect(nav).not.toContain('Outbox');
    expect(await us.locator('.prec-flash').first().textContent()).toMatch(/特急/);
    await shot(us, 'inbox-zh-CN');
    // The choice survives a reload.
    await us.reload();
    await us.getByRole('heading', { level: 1, name: '收件箱' }).waitFor();
  });

  it('composes an incident report in Chinese that arrives at the other party', async () => {
    const title = `智能体入侵水务公司控制网络 ${Date.now()}`;
    await us.getByRole('link', { name: '撰写' }).click();
    await us.getByTestId('tab-report').click();
    // Validation explains itself, in Chinese, before anything is sent.
    await us.getByTestId('send-report').click();
    await us.getByTestId('form-errors').waitFor();
    expect(await us.getByTestId('form-errors').textContent()).toContain('请填写报告标题');
    await shot(us, 'compose-report-errors-zh-CN');
    await us.getByTestId('report-title').fill(title);
    // Fixing a field takes its message away at once; the others stay until fixed.
    await us.getByTestId('form-errors').filter({ hasNotText: '请填写报告标题' }).waitFor();
    expect(await us.getByTestId('form-errors').textContent()).toContain('请从分类法中选择类别');
    await us.getByTestId('report-summary').fill('一个具备网络工具的智能体模型扫描并利用了暴露的人机界面；运营方已隔离该网段。');
    await us.getByTestId('report-category').selectOption('CY');
    await us.getByTestId('report-severity').selectOption('4');
    expect(await us.locator('#report-severity-hint').textContent()).toMatch(/默认优先级/);
    await us.getByTestId('system-name').fill('Agent-7');
    await us.getByLabel('基础设施损害').check();
    await us.getByPlaceholder('缓解措施 1').fill('已隔离网段');
    // Every field fixed: no message is left beside a filled field.
    await us.getByTestId('form-errors').waitFor({ state: 'detached' });
    await shot(us, 'compose-report-zh-CN');
    incidentId = await us.getByTestId('incident-id').inputValue();
    await us.getByTestId('send-report').click();
    await us.getByTestId('sent').waitFor();
    const api = await ch.api('CN');
    let got: ListResponse['items'][number] | undefined;
    for (let i = 0; i < 60 && got === undefined; i++) {
      const inbox = await api.get<ListResponse>('/v1/inbox?type=incident.report');
      got = inbox.items.find((v) => v.body?.title === title);
      if (got === undefined) await new Promise((r) => setTimeout(r, 250));
    }
    expect(got?.entry.from.party).toBe('US');
    expect(got?.body?.lang).toBe('zh-CN');
    // CN's officer sees it too, category and severity in their UI language.
    await cn.getByRole('link', { name: 'Inbox' }).click();
    await cn.locator('[data-testid=inbox-row]', { hasText: title }).waitFor({ timeout: 20_000 });
    await cn.locator('[data-testid=inbox-row]', { hasText: title }).getByRole('link', { name: title }).click();
    await cn.getByTestId('body').filter({ hasText: 'AI-enabled cyberattack' }).waitFor();
    await shot(cn, 'entry-report-en');
  });

  it('threads an update onto the incident, starting from its latest report', async () => {
    await setLang(us, 'en');
    await us.getByRole('link', { name: 'Compose' }).click();
    await us.getByTestId('tab-report').click();
    await us.getByTestId('kind-update').check();
    await us.getByTestId('incident-select').selectOption(incidentId);
    // The form starts from the incident's latest report: same title, category, severity.
    await us.waitForFunction(() => (document.querySelector('[data-testid=report-title]') as HTMLInputElement | null)?.value.startsWith('智能体入侵') === true);
    expect(await us.getByTestId('report-category').inputValue()).toBe('CY');
    expect(await us.locator('#report-incident-hint').textContent()).toMatch(/references US\/\d+/);
    await us.getByTestId('report-summary').fill('Forensics tie the intrusion to a fine-tuned open-weight model; no water-quality impact.');
    await shot(us, 'compose-update-en');
    await us.getByTestId('send-report').click();
    await us.getByTestId('sent').waitFor();
    const api = await ch.api('CN');
    interface ReportItem {
      body?: { incident?: string; kind?: string };
      entry: { refs: { party: string; index: number }[] };
    }
    let update: ReportItem | undefined;
    for (let i = 0; i < 60 && update === undefined; i++) {
      const inbox = await api.get<{ items: ReportItem[] }>(`/v1/inbox?type=incident.report&incident=${encodeURIComponent(incidentId)}`);
      update = inbox.items.find((v) => v.body?.kind === 'update');
      if (update === undefined) await new Promise((r) => setTimeout(r, 250));
    }
    expect(update?.body?.incident).toBe(incidentId);
    expect(update?.entry.refs.length).toBeGreaterThanOrEqual(1);
    expect(update?.entry.refs.every((r) => r.party === 'US')).toBe(true);
  });

  it('shows auditors "sealed — not entitled" and no acknowledge or compose', async () => {
    const a = await b.page(`${ch.party('US').url}/`);
    await login(a, ch.party('US').auditor);
    await a.goto(`${ch.party('US').url}/entries/${flash.party}/${flash.index}`);
    await a.getByTestId('sealed').waitFor();
    expect(await a.getByTestId('sealed').textContent()).toContain('Sealed — not entitled');
    expect(await a.getByTestId('ack-button').count()).toBe(0);
    expect(await a.getByRole('navigation').getByRole('link', { name: 'Compose' }).count()).toBe(0);
    await shot(a, 'entry-auditor-en');
  });

  it('is operable from the keyboard, with visible focus and every control labelled', async () => {
    await setLang(us, 'en');
    await us.goto(`${ch.party('US').url}/`);
    await us.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
    await us.locator('[data-testid=inbox-row]').first().waitFor();
    // The first Tab reaches the skip link.
    await us.keyboard.press('Tab');
    expect(await us.evaluate(() => document.activeElement?.textContent)).toBe('Skip to content');
    // Tab on to the first unacknowledged entry, open it with Enter, acknowledge with Enter.
    let onRow = false;
    for (let i = 0; i < 40 && !onRow; i++) {
      await us.keyboard.press('Tab');
      onRow = await us.evaluate(() => document.activeElement?.closest('[data-testid=inbox-row][data-acked=false]') !== null && document.activeElement?.tagName === 'A');
    }
    expect(onRow).toBe(true);
    const focus = await us.evaluate(() => {
      const s = getComputedStyle(document.activeElement!);
      return { style: s.outlineStyle, width: s.outlineWidth };
    });
    expect(focus.style).toBe('solid');
    expect(parseFloat(focus.width)).toBeGreaterThanOrEqual(2);
    await us.keyboard.press('Enter');
    await us.getByTestId('ack-button').waitFor();
    await us.getByTestId('ack-button').focus();
    await us.keyboard.press('Enter');
    await us.getByTestId('acked').waitFor();
    // Every form control on every form page has an accessible name.
    for (const path of ['/compose', '/compose?tab=report', '/', '/outbox', '/accord']) {
      await us.evaluate((p) => {
        history.pushState({}, '', p);
        dispatchEvent(new PopStateEvent('popstate'));
      }, path);
      await us.locator('main h1').first().waitFor();
      await us.waitForFunction(() => document.querySelector('.loading') === null);
      const unlabelled = await us.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>('input, select, textarea, button, a[href]')]
          .filter((el) => {
            const named = el.getAttribute('aria-label') ?? el.getAttribute('aria-labelledby') ?? el.getAttribute('title');
            if (named !== null && named.trim() !== '') return false;
            if (el instanceof HTMLInputElement || el instanceof HTMLSelectElement || el instanceof HTMLTextAreaElement) return (el.labels?.length ?? 0) === 0;
            return (el.textContent ?? '').trim() === '';
          })
          .map((el) => el.outerHTML.slice(0, 120)),
      );
      expect(unlabelled, path).toEqual([]);
    }
  });

  it('takes screenshots of every page, in English and Chinese, desktop and tablet', async () => {
    const pages = ['/', '/outbox', '/compose', '/compose?tab=report', '/incidents', '/links', '/logs', `/logs/CN`, '/compliance', '/accord', `/entries/${flash.party}/${flash.index}`];
    for (const lang of ['en', 'zh-CN'] as const) {
      await setLang(us, lang);
      for (const p of pages) {
        // In-app navigation (as a click on a link would do); direct loads are covered above.
        await us.evaluate((path) => {
          history.pushState({}, '', path);
          dispatchEvent(new PopStateEvent('popstate'));
        }, p);
        await us.locator('main h1').first().waitFor();
        await us.waitForFunction(() => document.querySelector('.loading') === null); // the page's data arrived
        const name = p === '/' ? 'inbox' : p.slice(1).replace(/[/?=]/g, '-');
        await shot(us, `page-${name}-${lang}`);
        expect(await us.getAttribute('html', 'lang')).toBe(lang);
      }
    }
    // A first visit from a Chinese browser opens in Chinese.
    const z = await b.page(`${ch.party('US').url}/`, { lang: 'zh-CN' });
    await z.getByRole('heading', { name: 'Parley 值班员' }).waitFor().catch(async (e: unknown) => {
      await shot(z, 'debug-login-zh');
      throw new Error(`${String(e)} — html: ${(await z.content()).slice(0, 600)}`);
    });
    expect(await z.getAttribute('html', 'lang')).toBe('zh-CN');
    await shot(z, 'login-zh-CN');
    const t = await b.page(`${ch.party('US').url}/`, { viewport: TABLET });
    await login(t, ch.party('US').officer);
    await shot(t, 'tablet-inbox-en');
    await t.goto(`${ch.party('US').url}/compose?tab=report`);
    await t.getByTestId('report-form').waitFor();
    await shot(t, 'tablet-compose-en');
    // Nothing overflows sideways at tablet width.
    expect(await t.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true);
    // No page threw along the way.
    expect([...pageErrors(us), ...pageErrors(cn), ...pageErrors(t), ...pageErrors(z)]).toEqual([]);
  });
});
