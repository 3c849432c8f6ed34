/**
 * End to end in Chromium against two real nodes (CN, US) on 127.0.0.1: CN
 * holds, besides a hotline message, two entries US signed with its log key as
 * a newer Parley would — one of type `future.thing` (unknown to this version)
 * and one `accord.activation` (governance) — stored and receipted through
 * CN's node (ingest). The dashboard shows the unknown one as "Unknown type —
 * needs a newer Parley" (未知类型——需要更新版本的 Parley) with its body as
 * signed and no acknowledgement asked for, lists it in "all entries", and
 * renders the activation in words.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Envelope, getCrypto, signEntry } from '@parley/core/node';
import { SKIP_E2E, type TestBrowser, launchBrowser, login, pageErrors, setLang, shot } from './helpers/browser.js';
import { type Channel, startChannel, until } from './helpers/channel.js';

/** Far beyond US's own log: these entries never meet US's real ones. */
const UNKNOWN = 100_000;
const ACTIVATION = 100_001;

describe.skipIf(SKIP_E2E)('entry types in the dashboard (Chromium)', () => {
  let ch: Channel;
  let b: TestBrowser;
  let page: Page;

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'US'] });
    const us = ch.party('US');
    const cn = ch.party('CN');
    const sign = getCrypto().ed25519Signer(us.logKey.seed);
    const env = (seq: number, type: string, body: Record<string, unknown>): Envelope => ({
      v: 1,
      accord: cn.node.accord.id,
      from: { party: 'US', officer: 'node' },
      to: ['CN'],
      seq,
      time: new Date().toISOString(),
      type,
      precedence: 'ROUTINE',
      marking: 'TLP:CLEAR',
      refs: [],
      body: { clear: body as never },
    });
    const r = await cn.node.ingest([signEntry(env(UNKNOWN, 'future.thing', { shape: 'from a newer Parley' }), sign).bytes, signEntry(env(ACTIVATION, 'accord.activation', { version: 2, digest: 'ab'.repeat(32) }), sign).bytes]);
    expect(r.accepted).toBe(2);
    const api = await ch.api('CN');
    await until('CN to list both', async () => ((await api.get<{ items: { index: number }[] }>('/v1/inbox?party=US&all=1')).items.filter((i) => i.index >= UNKNOWN).length === 2 ? true : undefined));
    b = await launchBrowser();
    page = await b.page(cn.url);
    await login(page, cn.officer);
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await ch?.stop();
  });

  it('shows an entry of an unknown type as such, its body as signed, no acknowledgement asked for', async () => {
    await page.goto(`${ch.party('CN').url}/entries/US/${UNKNOWN}`);
    const box = page.getByTestId('unknown-type');
    await box.waitFor();
    const text = (await box.textContent()) ?? '';
    expect(text).toContain('Unknown type — needs a newer Parley');
    expect(text).toContain('future.thing');
    expect(text).toContain('from a newer Parley');
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Unknown type — needs a newer Parley');
    expect(await page.getByRole('button', { name: 'Acknowledge' }).count()).toBe(0);
    await shot(page, 'entry-unknown-type-en');
    await setLang(page, 'zh-CN');
    await expect(box.textContent()).resolves.toContain('未知类型——需要更新版本的 Parley');
    await setLang(page, 'en');
    expect(pageErrors(page)).toEqual([]);
  });

  it('renders a governance entry in words', async () => {
    await page.goto(`${ch.party('CN').url}/entries/US/${ACTIVATION}`);
    const g = page.getByTestId('governance-body');
    await g.waitFor();
    expect(await g.textContent()).toContain("From this entry on, version 2 of the accord governs US's log");
    expect(await page.getByRole('heading', { level: 1 }).textContent()).toContain('Accord activation');
    expect(pageErrors(page)).toEqual([]);
  });

  it('lists the unknown entry under "all entries", labelled', async () => {
    await page.goto(`${ch.party('CN').url}/?show=all`);
    const row = page.locator(`[data-testid=inbox-row][data-key="US/${UNKNOWN}"]`);
    await row.waitFor();
    expect(await row.getAttribute('data-type')).toBe('future.thing');
    expect(await row.textContent()).toContain('Unknown type — needs a newer Parley');
    expect(pageErrors(page)).toEqual([]);
  });
});
