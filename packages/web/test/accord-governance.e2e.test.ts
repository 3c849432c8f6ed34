/**
 * Accord governance in Chromium against two real nodes (CN, US) on
 * 127.0.0.1 with federation (issue 11):
 *
 *   - CN's admin proposes version 2, rotating US's log and HPKE keys (US's
 *     node holds the new keys). US's admin opens the Accord page, sees the
 *     pending proposal (CN approved, US's consent with its new key missing), presses
 *     Approve, reads the change in the dialog and confirms; the page then
 *     shows version 2 in force and in the history, with the key rotation
 *     and US's activation position. An officer sees no Approve button.
 *     English, Chinese, and a phone (390 px, no sideways scroll).
 *   - The explorer verifies US's entries on both sides of the rotation in
 *     the browser, on US's dashboard and on CN's: an entry before it is
 *     judged by version 1 (the old key), one after it by version 2 (the new
 *     key, under a checkpoint signed by it alone and cosigned by CN's
 *     witness), every step passing.
 *   - A refusal of an approval (a 4xx problem) is shown in words in the dialog.
 *   - axe-core finds no serious violation on the page with a pending
 *     proposal, nor in the approve dialog (en, zh-CN).
 */
import { type Accord, accordId as accordIdOf, draftAmendment, formatBase64, formatVerifierKey, verifierKeyOf, verifyAccord } from '@parley/core/node';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PHONE, SKIP_E2E, type TestBrowser, launchBrowser, login, pageErrors, setLang, shot } from './helpers/browser.js';
import { type Channel, apiClient, startChannel, until } from './helpers/channel.js';

const ALL_PASS = { accord: 'pass', key: 'pass', checkpoint: 'pass', witnesses: 'pass', consistency: 'pass', leaf: 'pass', entry: 'pass', inclusion: 'pass' };

async function stepStatuses(page: Page): Promise<Record<string, string>> {
  await page.getByTestId('verify-result').waitFor();
  return page.$$eval('[data-testid=verify-steps] > li', (els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-step'), e.getAttribute('data-status')])));
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Serious and critical WCAG 2.1 A/AA violations axe-core finds on the page (as in a11y.e2e.test.ts). */
async function axeSerious(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    const w = window as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[] }> } };
    const r = await w.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
  });
}

interface ChainAnswer {
  versions: { accord: Accord }[];
  activations: { party: string; version: number; size: number }[];
}

describe.skipIf(SKIP_E2E)('accord governance in Chromium', () => {
  let ch: Channel;
  let b: TestBrowser;
  let page: Page;
  let usBefore: number;
  let digest: string;

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'US'], heartbeatSeconds: 2, next: ['US'] });
    const us = await ch.api('US');
    usBefore = (await us.post<{ index: number }>('/v1/messages', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'Before the rotation.', lang: 'en' })).index;
    // CN's admin proposes version 2: US's new log and HPKE keys.
    const usParty = ch.party('US');
    const v1 = verifyAccord(ch.accord);
    const v2 = draftAmendment(v1, {
      ...ch.accord.accord,
      parties: ch.accord.accord.parties.map((p) => (p.id === 'US' ? { ...p, logKey: formatVerifierKey(verifierKeyOf(usParty.nextLogKey!)), hpkeKey: usParty.nextHpkeKey! } : p)),
    });
    const cnAdmin = await apiClient(ch.party('CN').url, ch.party('CN').admin);
    digest = (await cnAdmin.post<{ digest: string }>('/v1/accord/proposals', { accord: v2, rationale: 'US rotates its log key (planned).' })).digest;
    await until('US to list the proposal', async () => ((await us.get<{ items: { digest: string }[] }>('/v1/accord/proposals')).items.some((x) => x.digest === digest) ? true : undefined));
    b = await launchBrowser();
    page = await b.page(ch.party('US').url);
    await login(page, ch.party('US').admin);
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await ch?.stop();
  });

  it('the Accord page with a pending proposal, and its approve dialog, have no serious axe violations (en, zh-CN)', async () => {
    for (const lang of ['en', 'zh-CN'] as const) {
      // axe is injected as an inline script: this context alone bypasses the node's CSP.
      const ctx = await b.browser.newContext({ viewport: { width: 1280, height: 800 }, locale: lang, bypassCSP: true });
      const p = await ctx.newPage();
      await p.goto(ch.party('US').url);
      await login(p, ch.party('US').admin);
      await setLang(p, lang);
      await p.goto(`${ch.party('US').url}/accord`);
      await p.locator('[data-testid=proposal][data-version="2"]').waitFor();
      await p.locator('[data-testid=accord-history]').waitFor();
      expect(await axeSerious(p), `accord page ${lang}`).toEqual([]);
      await p.getByTestId('approve').click();
      await p.getByTestId('approve-dialog').waitFor();
      expect(await axeSerious(p), `approve dialog ${lang}`).toEqual([]);
      await p.keyboard.press('Escape');
      await p.getByTestId('approve-dialog').waitFor({ state: 'detached' });
      await ctx.close();
    }
  });

  it('an admin sees the pending proposal, approves it after reading the change, and the page shows version 2', async () => {
    await page.goto(`${ch.party('US').url}/accord`);
    const card = page.locator(`[data-testid=proposal][data-version="2"]`);
    await card.waitFor();
    expect(await card.getAttribute('data-status')).toBe('pending');
    // US's key changes without a prior-key signature yet, so (GOV.md §1.3) only CN is eligible: quorum 1 of 1, met; US's consent is what is missing.
    await expect(card.getByTestId('proposal-quorum').textContent()).resolves.toBe('1 of 1 approvals needed');
    await expect(card.getByTestId('proposal-approvals').textContent()).resolves.toMatch(/CN · China AI Safety and Development Association.*waiting for US/s);
    await expect(card.getByTestId('proposal-consents').textContent()).resolves.toMatch(/Consent still missing from: US/);
    await expect(card.getByTestId('proposal-changes').textContent()).resolves.toMatch(/US's log key rotated:.*us\.e2e\.parley\/log\+/s);
    await expect(page.getByTestId('accord-version-number').textContent()).resolves.toMatch(/version 1/);
    await shot(page, 'accord-proposal-en');

    // Approve → the dialog repeats the change; keyboard: Enter on the focused confirm button.
    await card.getByTestId('approve').focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByTestId('approve-dialog');
    await dialog.waitFor();
    await expect(dialog.getByTestId('approve-changes').textContent()).resolves.toMatch(/US's log key rotated/);
    await expect(dialog.getByTestId('approve-changes').textContent()).resolves.toMatch(/US's HPKE \(encryption\) key rotated/);
    await shot(page, 'accord-approve-dialog-en');
    await page.keyboard.press('Enter');
    await dialog.waitFor({ state: 'detached' });

    // Quorum (CN + US) and US's consent: every node activates version 2; the page follows (live reload).
    await until(
      'the page to show version 2 in the history',
      async () => {
        if ((await page.locator('[data-testid=accord-version][data-version="2"]').count()) > 0) return true;
        await page.reload();
        await page.getByTestId('accord-current').waitFor();
        return undefined;
      },
      30_000,
      1_000,
    );
    await expect(page.getByTestId('accord-version-number').textContent()).resolves.toMatch(/version 2/);
    await expect(page.getByTestId('chain-verified').textContent()).resolves.toMatch(/2 versions/);
    const v2 = page.locator('[data-testid=accord-version][data-version="2"]');
    await expect(v2.getByTestId('version-changes').textContent()).resolves.toMatch(/US's log key rotated/);
    await expect(v2.textContent()).resolves.toMatch(/CN \(approval with the previous key\).*US \(approval with the previous key\)/s);
    await until('US\u2019s activation of version 2 to show', async () => ((await page.locator('[data-testid=activation][data-party=US][data-version="2"]').count()) > 0 ? true : (await page.reload(), undefined)), 20_000, 1_000);
    expect(await page.locator(`[data-testid=proposal][data-version="2"]`).getAttribute('data-status')).toBe('active');
    await shot(page, 'accord-history-en');

    // Chinese.
    await setLang(page, 'zh-CN');
    await expect(page.locator('#acc-history').textContent()).resolves.toBe('版本历史');
    await expect(v2.getByTestId('version-changes').textContent()).resolves.toMatch(/US 的日志密钥已轮换/);
    await expect(page.getByTestId('accord-version-number').textContent()).resolves.toMatch(/第 2 版/);
    await shot(page, 'accord-history-zh-CN');
    await setLang(page, 'en');

    // A phone: one column, no sideways scroll.
    const phone = await b.page(ch.party('US').url, { viewport: PHONE });
    await login(phone, ch.party('US').admin);
    await phone.goto(`${ch.party('US').url}/accord`);
    await phone.locator('[data-testid=accord-version][data-version="2"]').waitFor();
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    await shot(phone, 'accord-history-phone');
    expect(pageErrors(page)).toEqual([]);
    expect(pageErrors(phone)).toEqual([]);
  });

  it('an officer sees proposals but no Approve button', async () => {
    const p = await b.page(ch.party('CN').url);
    await login(p, ch.party('CN').officer);
    await p.goto(`${ch.party('CN').url}/accord`);
    await p.locator('[data-testid=proposal][data-version="2"]').waitFor({ state: 'attached' });
    expect(await p.getByTestId('approve').count()).toBe(0);
  });

  it('shows a node\u2019s refusal of an approval in words, in the dialog', async () => {
    // CN proposes version 3 (heartbeat 2 s → 4 s); US's admin approves, and the node's answer is a 403 ACCORD_QUORUM
    // (rewritten in flight, as a node refusing would send it).
    const cnAdmin = await apiClient(ch.party('CN').url, ch.party('CN').admin);
    const founding = verifyAccord(ch.accord);
    const chain = await (await ch.api('US')).get<{ versions: { accord: Accord; signatures: { party: string; sig: string; prior?: boolean }[] }[] }>('/v1/accord/chain');
    const current = chain.versions[chain.versions.length - 1]!;
    // draftAmendment reads only the version and digest of the version before.
    const v3 = draftAmendment({ ...founding, version: 2, digest: accordIdOf(current.accord) }, { ...current.accord, heartbeatSeconds: 4 });
    const d3 = (await cnAdmin.post<{ digest: string }>('/v1/accord/proposals', { accord: v3 })).digest;
    await page.goto(`${ch.party('US').url}/accord`);
    const card = page.locator(`[data-testid=proposal][data-version="3"]`);
    await card.waitFor();
    await expect(card.getByTestId('proposal-changes').textContent()).resolves.toBe('Heartbeat interval: 2 s → 4 s');
    await page.route(`**/v1/accord/proposals/${d3}/approve`, (route) =>
      route.fulfill({ status: 403, contentType: 'application/problem+json', body: JSON.stringify({ type: 'about:blank', title: 'Forbidden', status: 403, code: 'ACCORD_QUORUM', detail: 'version 3 lacks its quorum' }) }),
    );
    await card.getByTestId('approve').click();
    await page.getByTestId('approve-confirm').click();
    const problem = page.getByTestId('accord-problem');
    await problem.waitFor();
    expect(await problem.getAttribute('data-code')).toBe('ACCORD_QUORUM');
    await expect(problem.textContent()).resolves.toMatch(/Not enough approvals for this version yet\..*version 3 lacks its quorum/s);
    await shot(page, 'accord-approve-refused-en');
    await page.keyboard.press('Escape');
    await page.unroute(`**/v1/accord/proposals/${d3}/approve`);
  });

  it('the explorer verifies US\u2019s entries on both sides of the key rotation', async () => {
    const us = await ch.api('US');
    const chain = await us.get<ChainAnswer>('/v1/accord/chain');
    const R = chain.activations.find((a) => a.party === 'US' && a.version === 2)!.size;
    const usAfter = (await us.post<{ index: number }>('/v1/messages', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'After the rotation.', lang: 'en' })).index;
    expect(usBefore).toBeLessThan(R);
    expect(usAfter).toBeGreaterThan(R);

    // Before the rotation: judged by version 1 and US's old key, under the latest witnessed checkpoint.
    await page.goto(`${ch.party('US').url}/logs/US/${usBefore}`);
    expect(await stepStatuses(page)).toEqual(ALL_PASS);
    await expect(page.getByTestId('judged-by').textContent()).resolves.toBe('Judged by accord version 1.');
    await expect(page.locator('[data-step=accord]').textContent()).resolves.toMatch(/Accord versions verified\s*2/);

    // After it: judged by version 2 and the new key, under a checkpoint signed by the new key only and cosigned by CN's witness.
    await until('CN to cosign a checkpoint of US signed by the new key, covering the message', async () => ((await us.get<{ notes: { treeSize: number }[] }>('/v1/logs/US/cosigned')).notes.some((n) => n.treeSize > usAfter) ? true : undefined), 30_000);
    await page.goto(`${ch.party('US').url}/logs/US/${usAfter}`);
    expect(await stepStatuses(page)).toEqual(ALL_PASS);
    await expect(page.getByTestId('judged-by').textContent()).resolves.toBe('Judged by accord version 2.');
    const pub = await page.locator('[data-step=key] dd').nth(2).textContent();
    expect(pub).toBe(formatBase64(verifierKeyOf(ch.party('US').nextLogKey!).publicKey));
    expect(await page.getByTestId('suspect-warning').count()).toBe(0);
    await shot(page, 'explorer-rotation-en');

    // The same from CN's dashboard: US's log as CN holds it.
    const cnPage = await b.page(ch.party('CN').url);
    await login(cnPage, ch.party('CN').officer);
    await cnPage.goto(`${ch.party('CN').url}/logs/US/${usBefore}`);
    expect(await stepStatuses(cnPage)).toEqual(ALL_PASS);
    await expect(cnPage.getByTestId('judged-by').textContent()).resolves.toBe('Judged by accord version 1.');
    await until('CN to hold a witnessed checkpoint of US covering the message', async () => ((await (await ch.api('CN')).get<{ notes: { treeSize: number }[] }>('/v1/logs/US/cosigned')).notes.some((n) => n.treeSize > usAfter) ? true : undefined), 30_000);
    await cnPage.goto(`${ch.party('CN').url}/logs/US/${usAfter}`);
    expect(await stepStatuses(cnPage)).toEqual(ALL_PASS);
    await expect(cnPage.getByTestId('judged-by').textContent()).resolves.toBe('Judged by accord version 2.');
  });
});
