/**
 * Delivery state that is right, and alerts that are heard (issue 9), in
 * Chromium against three real nodes (CN, EU, US) federating on 127.0.0.1:
 *
 *   - an entry page re-reads only for events about its entry: a burst of 25
 *     messages from another party costs it no request beyond its own
 *     delivery's change (it used to re-read on every event of every party)
 *   - US's outbox shows each recipient's own answer: CN acknowledged with a
 *     reply, EU acknowledged late (+N s) — its own state, not "overdue"
 *   - a FLASH arriving is announced on whatever page is open (banner, tab
 *     title); the sound preference is kept across reloads
 *   - EU's link going down is announced, and composing to EU warns before
 *     sending: nothing is sent until the officer ticks "Send anyway"
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Request } from 'playwright-core';
import { type Channel, startChannel, until } from './helpers/channel.js';
import { SKIP_E2E, type TestBrowser, launchBrowser, login, pageErrors } from './helpers/browser.js';

interface Listed {
  items: { party: string; index: number; body?: { text?: string }; entry: { type: string } }[];
}

describe.skipIf(SKIP_E2E)('delivery state and alerts (Chromium, three real nodes)', () => {
  let ch: Channel;
  let b: TestBrowser;
  let us: Page;
  let sent: number;
  const stamp = Date.now();

  beforeAll(async () => {
    // FLASH acks are due in 8 s, so EU can acknowledge late; 2 s heartbeats, so a stopped node's link goes down within the test.
    ch = await startChannel({ parties: ['CN', 'EU', 'US'], ackSeconds: { FLASH: 8, IMMEDIATE: 600, PRIORITY: 600, ROUTINE: 3600 }, heartbeatSeconds: 2 });
    b = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await ch?.stop();
  });

  it('re-reads an entry page only for events about that entry', async () => {
    const api = await ch.api('US');
    sent = (await api.post<{ index: number }>('/v1/messages', { precedence: 'FLASH', marking: 'TLP:AMBER', text: `FLASH to both (${stamp})` })).index;
    // CN acknowledges at once (on time, with a reply); EU will be late (next test).
    const cnApi = await ch.api('CN');
    await until('CN to hold the FLASH', () => cnApi.get(`/v1/entries/US/${sent}`).then(() => true), 8000, 50);
    await cnApi.post(`/v1/entries/US/${sent}/ack`, { reply: '收到，正在隔离', lang: 'zh-CN' });
    us = await b.page(`${ch.party('US').url}/entries/US/${sent}`);
    await login(us, ch.party('US').officer);
    for (const id of ['CN', 'EU']) await us.locator(`[data-testid=deliveries] tr[data-recipient=${id}]:not([data-state=sent])`).waitFor({ timeout: 30_000 });

    const about: string[] = [];
    const count = (r: Request) => {
      const u = new URL(r.url());
      if (u.pathname === `/v1/entries/US/${sent}` || (u.pathname === '/v1/deadlines' && u.searchParams.get('index') === String(sent))) about.push(u.pathname + u.search);
    };
    us.on('request', count);
    const cn = await ch.api('CN');
    const before = Number((await us.getByTestId('nav-awaiting').textContent().catch(() => '0'))?.replace(/\D/g, '') || '0');
    for (let i = 0; i < 25; i++) await cn.post('/v1/messages', { to: ['US'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `routine ${i} (${stamp})` });
    // The page heard them: the nav badge (which does concern inbound traffic) counts them.
    await us.waitForFunction((n) => Number((document.querySelector('[data-testid=nav-awaiting]')?.textContent ?? '').replace(/\D/g, '')) >= n, before + 25, { timeout: 30_000 });
    us.off('request', count);
    // Only EU's delivery of this entry changes meanwhile (its ack goes overdue at 8 s): at most one
    // coalesced re-read of the entry and of its deliveries for it, not one per event of every party.
    expect(about.length, about.join('\n')).toBeLessThanOrEqual(4);
    expect(pageErrors(us)).toEqual([]);
  });

  it("shows in the outbox each recipient's own answer: acknowledged with its reply, and acknowledged late (+N s)", async () => {
    const eu = await ch.api('EU');
    await until('the FLASH overdue at EU', async () => ((await eu.get<{ items: { state: string }[] }>(`/v1/deadlines?party=US&index=${sent}`)).items[0]?.state === 'overdue-ack' ? true : undefined), 20_000);
    await eu.post(`/v1/entries/US/${sent}/ack`, { reply: 'Late, but isolated.' });

    await us.goto(`${ch.party('US').url}/outbox`);
    const row = us.locator(`[data-testid=outbox-row][data-key="US/${sent}"]`);
    const cnState = row.locator('[data-testid=recipient][data-recipient=CN]');
    const euState = row.locator('[data-testid=recipient][data-recipient=EU]');
    await cnState.locator('[data-testid=reply]', { hasText: '收到，正在隔离' }).waitFor({ timeout: 30_000 });
    expect(await cnState.getAttribute('data-label')).toBe('acknowledged');
    await euState.locator('[data-testid=reply]', { hasText: 'Late, but isolated.' }).waitFor({ timeout: 30_000 });
    expect(await euState.getAttribute('data-label')).toBe('acknowledged-late');
    expect(await euState.textContent()).toMatch(/Acknowledged late \(\+\d+/);
    expect(await euState.textContent()).not.toMatch(/overdue/i);
    // Times say their zone (the browser runs in Asia/Shanghai).
    expect(await cnState.locator('time').first().textContent()).toMatch(/GMT\+8/);
  });

  it('announces a FLASH arriving on whatever page is open, in a banner and the tab title; keeps the sound preference', async () => {
    await us.getByTestId('alert-sound').check();
    await us.reload();
    await us.getByTestId('officer').waitFor();
    expect(await us.getByTestId('alert-sound').isChecked()).toBe(true);
    const flash = await (await ch.api('CN')).post<{ index: number }>('/v1/messages', { to: ['US'], precedence: 'FLASH', marking: 'TLP:AMBER', text: `FLASH from CN (${stamp})` });
    const alert = us.locator(`[data-testid=alert][data-kind=flash][data-party=CN]`);
    await alert.waitFor({ timeout: 30_000 });
    expect(await alert.textContent()).toContain(`CN/${flash.index}`);
    await us.waitForFunction(() => document.title.startsWith('⚠ '));
    expect(new URL(us.url()).pathname).toBe('/outbox');
  });

  it("announces EU's link going down, and warns before sending to EU", async () => {
    await ch.party('EU').runtime.stop();
    await us.locator('[data-testid=alert][data-kind=link-down][data-party=EU]').waitFor({ timeout: 45_000 });

    await us.goto(`${ch.party('US').url}/compose`);
    await us.getByTestId('officer').waitFor();
    const warning = us.getByTestId('link-down-warning');
    await warning.waitFor({ timeout: 20_000 });
    expect(await warning.getAttribute('data-parties')).toBe('EU');
    const api = await ch.api('US');
    const size = (await api.get<Listed>('/v1/outbox?type=hotline.message&limit=5')).items[0]!.index;
    const text = `To both while EU is down (${stamp})`;
    await us.getByLabel('Message', { exact: true }).fill(text);
    await us.getByTestId('send-message').click();
    await us.locator('#to-error').waitFor();
    expect((await api.get<Listed>('/v1/outbox?type=hotline.message&limit=5')).items[0]!.index).toBe(size); // nothing sent
    await us.getByTestId('send-anyway').check();
    await us.getByTestId('send-message').click();
    await us.getByRole('link', { name: 'View it' }).waitFor();
    expect((await api.get<Listed>('/v1/outbox?type=hotline.message&limit=5')).items[0]!.body?.text).toBe(text);
    expect(pageErrors(us)).toEqual([]);
  });
});
