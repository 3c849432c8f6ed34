/**
 * Retractions in the dashboard, end to end in Chromium against two real
 * nodes (CN, US) on 127.0.0.1 federating by push and pull (issue 13). US's
 * duty officer opens a report US sent to CN and withdraws it with
 * "Retract…" (the dialog refuses to send without a reason); the retraction
 * travels to CN, whose officer sees the report struck through with the
 * reason, no Acknowledge action, and the incident under a "retracted"
 * banner — in English and in Chinese. A supersession links the withdrawn
 * report to its replacement.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHONE, SKIP_E2E, type TestBrowser, axeViolations, launchBrowser, login, pageErrors, setLang, shot } from './helpers/browser.js';
import { type Channel, sampleReport, startChannel, until } from './helpers/channel.js';

type View = { index: number; retracted?: { action: string; reason?: string } };

describe.skipIf(SKIP_E2E)('retractions in the dashboard (Chromium)', () => {
  let ch: Channel;
  let b: TestBrowser;
  let usPage: Page;
  let cnPage: Page;
  let report = -1;

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'US'] });
    const us = await ch.api('US');
    report = (await us.post<{ index: number }>('/v1/reports', { to: ['CN'], precedence: 'FLASH', marking: 'TLP:AMBER', report: sampleReport('US:e2e-retract-1') })).index;
    const cn = await ch.api('CN');
    await until('CN to hold the report', async () => ((await cn.get<{ items: View[] }>('/v1/inbox?type=incident.report')).items.some((v) => v.index === report) ? true : undefined));
    b = await launchBrowser();
    usPage = await b.page(ch.party('US').url);
    await login(usPage, ch.party('US').officer);
    cnPage = await b.page(ch.party('CN').url);
    await login(cnPage, ch.party('CN').officer);
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await ch?.stop();
  }, 60_000);

  it('US\u2019s officer retracts the report from its page: a reason is required, then the page shows it withdrawn — and CN\u2019s open page, live', async () => {
    await usPage.goto(`${ch.party('US').url}/entries/US/${report}`);
    await usPage.getByTestId('retract-button').click();
    const dialog = usPage.getByTestId('retract-dialog');
    await dialog.waitFor();
    expect(await usPage.getByTestId('retract-confirm').isDisabled()).toBe(true);
    expect(await dialog.textContent()).toContain('CN'); // who will receive the retraction
    await usPage.getByTestId('retract-reason').fill('Reported on the wrong channel');
    // CN's officer has the report open, its Acknowledge action showing.
    await cnPage.goto(`${ch.party('CN').url}/entries/US/${report}`);
    await cnPage.getByTestId('ack-panel').waitFor();
    await usPage.getByTestId('retract-confirm').click();
    const note = usPage.getByTestId('retracted-note');
    await note.waitFor();
    expect(await note.textContent()).toContain('Retracted');
    expect(await note.textContent()).toContain('Reported on the wrong channel');
    expect(await usPage.getByTestId('retract-button').count()).toBe(0); // once only
    await shot(usPage, 'retract-own-entry-en');
    expect(pageErrors(usPage)).toEqual([]);
    // Live: CN's page turns without a reload once the retraction arrives (its delivery's deadline event).
    await cnPage.getByTestId('retracted-note').waitFor({ timeout: 20_000 });
    expect(await cnPage.getByTestId('ack-panel').count()).toBe(0);
  }, 60_000);

  it('CN\u2019s officer sees it struck through with the reason, nothing to acknowledge, the incident retracted (en, zh-CN)', async () => {
    const cn = await ch.api('CN');
    await until('CN to apply the retraction', async () => ((await cn.get<View>(`/v1/entries/US/${report}`)).retracted !== undefined ? true : undefined));
    await cnPage.goto(`${ch.party('CN').url}/entries/US/${report}`);
    const note = cnPage.getByTestId('retracted-note');
    await note.waitFor();
    expect(await note.textContent()).toContain('Reported on the wrong channel');
    expect(await cnPage.getByTestId('ack-panel').count()).toBe(0);
    expect(await cnPage.locator('section.card.is-retracted').count()).toBe(1);
    expect(await cnPage.locator('.is-retracted [data-testid=body]').evaluate((el) => getComputedStyle(el).textDecorationLine)).toContain('line-through');

    await cnPage.goto(`${ch.party('CN').url}/incidents/US:e2e-retract-1`);
    const banner = cnPage.getByTestId('retracted-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('This incident is retracted.');
    const item = cnPage.locator(`[data-testid=timeline-item][data-key="US/${report}"]`);
    expect(await item.getAttribute('class')).toContain('is-retracted');
    expect(await cnPage.getByTestId('retraction-line').textContent()).toContain(`retracts US/${report}`);
    await shot(cnPage, 'retract-incident-en');
    await setLang(cnPage, 'zh-CN');
    await expect(banner.textContent()).resolves.toContain('此事件已撤回');
    expect(await item.getByTestId('retracted-note').textContent()).toContain('已撤回');
    await shot(cnPage, 'retract-incident-zh');
    await setLang(cnPage, 'en');

    // The inbox: struck through, marked, and not counted among entries awaiting acknowledgement.
    await cnPage.goto(`${ch.party('CN').url}/`);
    const row = cnPage.locator(`[data-testid=inbox-row][data-key="US/${report}"]`);
    await row.waitFor();
    expect(await row.locator('s.retracted-title').count()).toBe(1);
    expect(await row.getByTestId('retracted-note').textContent()).toContain('Retracted');
    // Compliance: the withdrawn FLASH is neither pending nor overdue, and the page says so.
    await cnPage.goto(`${ch.party('CN').url}/compliance`);
    const withdrawn = cnPage.getByTestId('withdrawn-acks');
    await withdrawn.waitFor();
    expect(await withdrawn.textContent()).toContain('1 delivery withdrawn by its sender');
    expect(pageErrors(cnPage)).toEqual([]);
  }, 60_000);

  it('a superseded report links to its replacement', async () => {
    const us = await ch.api('US');
    const r1 = (await us.post<{ index: number }>('/v1/reports', { to: ['CN'], marking: 'TLP:CLEAR', report: sampleReport('US:e2e-retract-2', { title: 'Draft title' }) })).index;
    const r2 = (await us.post<{ index: number }>('/v1/reports', { to: ['CN'], marking: 'TLP:CLEAR', report: sampleReport('US:e2e-retract-2', { kind: 'update', title: 'Corrected title' }) })).index;
    // From the dialog: a replacement that is not later is refused, with the node's code and words, in the dialog.
    await usPage.goto(`${ch.party('US').url}/entries/US/${r2}`);
    await usPage.getByTestId('retract-button').click();
    await usPage.getByTestId('retract-reason').fill('Backwards');
    await usPage.getByTestId('retract-replacement').fill(String(r1));
    await usPage.getByTestId('retract-confirm').click();
    const refused = usPage.getByTestId('retract-dialog').getByRole('alert');
    await refused.waitFor();
    expect(await refused.textContent()).toContain('RETRACTION_REPLACEMENT_INVALID');
    expect(await refused.textContent()).toContain('The replacement must be a later entry');
    await usPage.getByRole('button', { name: 'Cancel' }).click();
    await usPage.goto(`${ch.party('US').url}/entries/US/${r1}`);
    await usPage.getByTestId('retract-button').click();
    // The reason's language is the officer's to say (here Chinese, from an English UI): it travels with the reason.
    await usPage.getByTestId('retract-reason').fill('标题已更正');
    await usPage.getByLabel('Reason language').selectOption('zh-CN');
    expect(await usPage.getByTestId('retract-reason').getAttribute('lang')).toBe('zh-CN');
    await usPage.getByTestId('retract-replacement').fill(String(r2));
    expect(await usPage.getByTestId('retract-confirm').textContent()).toBe('Supersede');
    await usPage.getByTestId('retract-confirm').click();
    await usPage.getByTestId('retracted-note').waitFor();
    expect(pageErrors(usPage)).toEqual([]);
    const cn = await ch.api('CN');
    await until('CN to apply the supersession', async () => ((await cn.get<View>(`/v1/entries/US/${r1}`)).retracted !== undefined ? true : undefined));
    await cnPage.goto(`${ch.party('CN').url}/entries/US/${r1}`);
    const note = cnPage.getByTestId('retracted-note');
    await note.waitFor();
    expect(await note.getAttribute('data-action')).toBe('supersede');
    expect(await note.locator('[data-testid=retracted-reason][lang="zh-CN"]').textContent()).toContain('标题已更正');
    expect((await cn.get<View & { retracted?: { lang?: string } }>(`/v1/entries/US/${r1}`)).retracted?.lang).toBe('zh-CN');
    await cnPage.getByTestId('replacement-link').click();
    await cnPage.waitForURL(`**/entries/US/${r2}`);
    await cnPage.getByText('Corrected title').first().waitFor();
    expect(await cnPage.getByTestId('retracted-note').count()).toBe(0);
    // In the inbox the note sits in the row's bold title, whose links are styled as plain text: its link to the replacement still looks like a link.
    await cnPage.goto(`${ch.party('CN').url}/`);
    const rowLink = cnPage.locator(`[data-testid=inbox-row][data-key="US/${r1}"] [data-testid=replacement-link]`);
    await rowLink.waitFor();
    expect(await rowLink.evaluate((el) => getComputedStyle(el).textDecorationLine)).toContain('underline');
    expect(await rowLink.evaluate((el) => getComputedStyle(el.closest('[data-testid=retracted-note]')!).fontWeight)).toBe('400');
    expect(pageErrors(cnPage)).toEqual([]);
  }, 60_000);

  it('a retraction\u2019s own page says what it withdraws and whether this node applies it — not the author\u2019s word for it', async () => {
    const cn = await ch.api('CN');
    // The applied one: US's retraction of its report (the first test).
    const mark = (await cn.get<{ retracted?: { by: { index: number } } }>(`/v1/entries/US/${report}`)).retracted!;
    await cnPage.goto(`${ch.party('CN').url}/entries/US/${mark.by.index}`);
    const verdict = cnPage.getByTestId('retraction-in-force');
    await verdict.waitFor();
    expect(await verdict.getAttribute('data-in-force')).toBe('true');
    expect(await cnPage.getByTestId('body').textContent()).toContain(`Withdraws US/${report}`);
    expect(await cnPage.getByTestId('retraction-reason').textContent()).toBe('Reported on the wrong channel');
    expect(await cnPage.locator('pre.body-text').count()).toBe(0); // not raw JSON
    // A node that skips the checks writes a retraction of CN's own entry: CN refuses it (RETRACTION_NOT_OWN) and keeps it as evidence.
    const own = await cn.post<{ index: number; leafHash: string }>('/v1/messages', { to: ['US'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'CN speaking' });
    const us = ch.party('US').node;
    const hostile = await us.submit('mallory', { type: 'retraction', to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [{ party: 'CN', index: own.index, hash: own.leafHash }], body: { action: 'retract', reason: 'CN never said that' } });
    await until('CN to hold the hostile retraction', async () => {
      try {
        return (await cn.get(`/v1/entries/US/${hostile.index}`)) !== undefined ? true : undefined;
      } catch {
        return undefined;
      }
    });
    await cnPage.goto(`${ch.party('CN').url}/entries/US/${hostile.index}`);
    await verdict.waitFor();
    expect(await verdict.getAttribute('data-in-force')).toBe('false');
    expect(await verdict.textContent()).toContain(`Not in force on this node: CN/${own.index}`);
    await shot(cnPage, 'retraction-not-in-force-en');
    await setLang(cnPage, 'zh-CN');
    await expect(verdict.textContent()).resolves.toContain('未在本节点生效');
    await setLang(cnPage, 'en');
    expect(pageErrors(cnPage)).toEqual([]);
  }, 60_000);

  it('on a phone the Retract dialog\u2019s fields keep their size', async () => {
    const us = await ch.api('US');
    const m = (await us.post<{ index: number }>('/v1/messages', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'phone' })).index;
    const phone = await b.page(`${ch.party('US').url}/entries/US/${m}`, { viewport: PHONE });
    await login(phone, ch.party('US').officer);
    await phone.getByTestId('retract-button').click();
    // A select in the page header's actions grows 12rem along its flex axis on a phone; in the dialog's stacked field that was its height.
    const langSelect = phone.getByLabel('Reason language');
    await langSelect.waitFor();
    const box = (await langSelect.boundingBox())!;
    expect(box.height).toBeLessThan(60);
    expect(box.width).toBeGreaterThan(200);
    await shot(phone, 'retract-dialog-phone-en');
    expect(pageErrors(phone)).toEqual([]);
  }, 60_000);

  it('the retracted views and the Retract dialog have no serious accessibility violations (axe, en and zh-CN)', async () => {
    for (const lang of ['en', 'zh-CN'] as const) {
      // axe is injected as an inline script: this context alone bypasses the node's CSP.
      const ctx = await b.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: lang, bypassCSP: true });
      try {
        const cn = await ctx.newPage();
        await cn.goto(ch.party('CN').url);
        await login(cn, ch.party('CN').officer);
        await setLang(cn, lang);
        await cn.goto(`${ch.party('CN').url}/incidents/US:e2e-retract-1`);
        await cn.getByTestId('retracted-banner').waitFor();
        expect(await axeViolations(cn), `incident ${lang}`).toEqual([]);
        await cn.goto(`${ch.party('CN').url}/entries/US/${report}`);
        await cn.getByTestId('retracted-note').waitFor();
        expect(await axeViolations(cn), `entry ${lang}`).toEqual([]);
        // The retraction's own page (what it withdraws, in force or not).
        const by = (await (await ch.api('CN')).get<{ retracted?: { by: { index: number } } }>(`/v1/entries/US/${report}`)).retracted!.by.index;
        await cn.goto(`${ch.party('CN').url}/entries/US/${by}`);
        await cn.getByTestId('retraction-in-force').waitFor();
        expect(await axeViolations(cn), `retraction ${lang}`).toEqual([]);
        const us = await ctx.newPage();
        const m = (await (await ch.api('US')).post<{ index: number }>('/v1/messages', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `a11y ${lang}` })).index;
        await us.goto(ch.party('US').url);
        await login(us, ch.party('US').officer);
        await setLang(us, lang);
        await us.goto(`${ch.party('US').url}/entries/US/${m}`);
        await us.getByTestId('retract-button').click();
        await us.getByTestId('retract-dialog').waitFor();
        expect(await axeViolations(us), `dialog ${lang}`).toEqual([]);
        await shot(us, `retract-dialog-${lang}`);
      } finally {
        await ctx.close();
      }
    }
  }, 90_000);
});
