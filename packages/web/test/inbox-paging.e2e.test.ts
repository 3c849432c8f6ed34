/**
 * Inbox and outbox paging end to end: CN sends US more messages than one page
 * (200); US's inbox shows the first page and "Load more", which shows the
 * rest; a message arriving afterwards appears live with every loaded row kept;
 * CN's outbox pages the same way.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { SKIP_E2E, SCREENSHOTS, type TestBrowser, launchBrowser, login } from './helpers/browser.js';
import { type Channel, startChannel, until } from './helpers/channel.js';

const N = 205;


const rows = (page: Page, testid: string) => page.locator(`[data-testid=${testid}]`).count();

describe.skipIf(SKIP_E2E)('inbox and outbox paging in Chromium', () => {
  let ch: Channel;
  let b: TestBrowser;

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'US'], heartbeatSeconds: 5 });
    const cn = await ch.api('CN');
    const us = await ch.api('US');
    for (let i = 0; i < N; i += 5) {
      await Promise.all(
        Array.from({ length: Math.min(5, N - i) }, (_, j) => cn.post('/v1/messages', { to: ['US'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `Paging message ${i + j + 1}`, lang: 'en' })),
      );
    }
    // US holds all of them (two pages of the API).
    await until(`US to hold ${N} messages`, async () => {
      const first = await us.get<{ items: unknown[]; next?: number }>('/v1/inbox?type=hotline.message&limit=200');
      if (first.next === undefined) return undefined;
      const second = await us.get<{ items: unknown[] }>(`/v1/inbox?type=hotline.message&limit=200&before=${first.next}`);
      return first.items.length + second.items.length >= N ? true : undefined;
    }, 60_000, 250);
    b = await launchBrowser();
  }, 180_000);

  afterAll(async () => {
    await b?.close();
    await ch?.stop();
  });

  it('the inbox shows 200, loads the rest, and keeps them through a live arrival', async () => {
    const page = await b.page(ch.party('US').url);
    await login(page, ch.party('US').officer);
    await page.locator('[data-testid=live-status][data-status=live]').waitFor();
    await page.getByTestId('load-more').waitFor();
    expect(await rows(page, 'inbox-row')).toBe(200);
    await expect(page.getByTestId('load-more').textContent()).resolves.toBe('Load more');
    await page.getByTestId('load-more').scrollIntoViewIfNeeded();
    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: join(SCREENSHOTS, 'inbox-load-more-en.png') }); // the viewport at the list's end
    await page.getByTestId('load-more').click();
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=inbox-row]').length === n, N);
    expect(await page.getByTestId('load-more').count()).toBe(0);
    await page.getByRole('link', { name: 'Paging message 1', exact: true }).waitFor();
    // Nothing loaded by "Load more" is announced as new.
    expect(await page.locator('[aria-live=polite]').first().textContent()).toBe('');

    await (await ch.api('CN')).post('/v1/messages', { to: ['US'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'Paging message late', lang: 'en' });
    await page.locator('[data-testid=inbox-row]', { hasText: 'Paging message late' }).waitFor({ timeout: 30_000 });
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=inbox-row]').length === n, N + 1);
    await page.getByRole('link', { name: 'Paging message 1', exact: true }).waitFor();
    expect(await page.locator('[aria-live=polite]').first().textContent()).toMatch(/1 new entry arrived/);
  }, 120_000);

  it("the outbox pages the same way (CN's view)", async () => {
    const page = await b.page(ch.party('CN').url);
    await login(page, ch.party('CN').officer);
    await page.getByRole('link', { name: 'Outbox' }).click();
    await page.getByTestId('load-more').waitFor();
    expect(await rows(page, 'outbox-row')).toBe(200);
    await page.getByTestId('load-more').click();
    // N and the late one of the test above.
    await page.waitForFunction((n) => document.querySelectorAll('[data-testid=outbox-row]').length === n, N + 1);
    expect(await page.getByTestId('load-more').count()).toBe(0);
  }, 120_000);
});
