/**
 * The dashboard with three parties: three real nodes (CN, EU, US)
 * federating on 127.0.0.1, each witnessing the two others, US's dashboard
 * driven by Debian's Chromium. Link health shows both other parties up with
 * checkpoints verified in the browser; one FLASH message composed at US goes
 * to both by default; each receiving node acknowledges it, and US's outbox
 * turns each recipient's row acknowledged — live, one after the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { type Channel, startChannel } from './helpers/channel.js';
import { SKIP_E2E, type TestBrowser, launchBrowser, login, shot } from './helpers/browser.js';

interface Listed {
  items: { party: string; index: number; body?: { text?: string } }[];
}

describe.skipIf(SKIP_E2E)('dashboard with three parties (Chromium, three real nodes)', () => {
  let ch: Channel;
  let b: TestBrowser;
  let us: Page;
  const text = `FLASH to both: isolate the shared evaluation cluster (${Date.now()})`;

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'EU', 'US'] });
    b = await launchBrowser();
  }, 60_000);
  afterAll(async () => {
    await b?.close();
    await ch?.stop();
  });

  it("shows both other parties' links up, their checkpoints verified in the browser", async () => {
    us = await b.page(`${ch.party('US').url}/links`);
    await login(us, ch.party('US').officer);
    for (const id of ['CN', 'EU']) {
      await us.waitForFunction((p) => document.querySelector(`[data-testid=link-${p}]`)?.getAttribute('data-state') === 'up', id, { timeout: 30_000 });
      await us.getByTestId(`link-${id}`).getByText('signature verified in this browser').waitFor();
    }
    await shot(us, 'links-three-parties-en');
  });

  it('sends one FLASH message to both from the compose form; each acknowledgement turns its row in the outbox', async () => {
    await us.goto(`${ch.party('US').url}/compose`);
    // Every other party is a recipient unless the officer unticks one.
    // The recipients are ticked once the accord has loaded: wait for it (bounded), then assert.
    for (const id of ['CN', 'EU']) await us.waitForFunction((t) => (document.querySelector(`[data-testid="${t}"]`) as HTMLInputElement | null)?.checked === true, `to-${id}`, { timeout: 15_000 }).catch(() => undefined);
    for (const id of ['CN', 'EU']) expect(await us.getByTestId(`to-${id}`).isChecked()).toBe(true);
    await us.getByLabel('Precedence').selectOption('FLASH');
    await us.getByLabel('Message', { exact: true }).fill(text);
    await us.getByRole('button', { name: '⚡ Send FLASH message' }).click();
    await us.getByRole('link', { name: 'View it' }).waitFor();
    const outbox = await (await ch.api('US')).get<Listed>('/v1/outbox?limit=20');
    const sent = outbox.items.find((i) => i.body?.text === text);
    expect(sent).toBeDefined();
    const key = `US/${sent!.index}`;

    await us.goto(`${ch.party('US').url}/outbox`);
    const row = us.locator(`[data-testid=outbox-row][data-key="${key}"]`);
    await row.waitFor();
    // Both receipts come back (each on the answer to US's push).
    for (const id of ['CN', 'EU']) await row.locator(`[data-recipient=${id}][data-state=received]`).waitFor({ timeout: 30_000 });

    // CN acknowledges: its row turns, EU's stays received; then EU.
    await (await ch.api('CN')).post(`/v1/entries/US/${sent!.index}/ack`, { reply: 'CN: isolated.', lang: 'en' });
    await row.locator('[data-recipient=CN][data-state=acknowledged]').waitFor({ timeout: 30_000 });
    expect(await row.locator('[data-recipient=EU]').getAttribute('data-state')).toBe('received');
    await (await ch.api('EU')).post(`/v1/entries/US/${sent!.index}/ack`, { reply: 'EU: isolated.', lang: 'en' });
    await row.locator('[data-recipient=EU][data-state=acknowledged]').waitFor({ timeout: 30_000 });
    await shot(us, 'outbox-three-parties-en');
  });
});
