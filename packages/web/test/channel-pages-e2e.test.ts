/**
 * End to end in Chromium against two real nodes (CN, US) on 127.0.0.1, with
 * federation, heartbeats and the built dashboard: the log explorer verifies
 * real entries' inclusion proofs IN THE BROWSER step by step (CN's entry as
 * US holds it, US's own), and fails — at the right step — when the node's
 * answer is tampered with in flight (playwright's route API); the incidents,
 * link health and compliance pages show the channel's real data. Screenshots
 * of each page in English and Chinese (and the explorer on a tablet) go to
 * test/screenshots/.
 */
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { SKIP_E2E, SCREENSHOTS, TABLET, type TestBrowser, launchBrowser, login, setLang, shot } from './helpers/browser.js';
import { type Channel, startChannel, until, sampleReport as report } from './helpers/channel.js';



/** Flips one bit of the first byte of a base64 value. */
function flip(b64: string): string {
  const bytes = Buffer.from(b64, 'base64');
  bytes[0] = bytes[0]! ^ 1;
  return bytes.toString('base64');
}

async function stepStatuses(page: Page): Promise<Record<string, string>> {
  await page.getByTestId('verify-result').waitFor();
  return page.$$eval('[data-testid=verify-steps] > li', (els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-step'), e.getAttribute('data-status')])));
}

const ALL_PASS = { accord: 'pass', key: 'pass', checkpoint: 'pass', witnesses: 'pass', consistency: 'pass', leaf: 'pass', entry: 'pass', inclusion: 'pass' };

describe.skipIf(SKIP_E2E)('channel pages in Chromium (log explorer, incidents, link health, compliance)', () => {
  let ch: Channel;
  let b: TestBrowser;
  let page: Page;
  let cnIndex: number;

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'US'], heartbeatSeconds: 2 });
    const cn = await ch.api('CN');
    const us = await ch.api('US');
    const sent = await cn.post<{ index: number }>('/v1/messages', { to: ['US'], precedence: 'FLASH', marking: 'TLP:GREEN', text: '请确认收到：模型权重外泄。', lang: 'zh-CN' });
    cnIndex = sent.index;
    await cn.post('/v1/reports', { to: ['US'], marking: 'TLP:GREEN', report: report('CN:2026-0042', { title: '模型权重被复制到未知主机', summary: '维护期间，一个前沿模型的权重被复制到未知主机。', lang: 'zh-CN' }) });
    const initial = await us.post<{ index: number; leafHash: string }>('/v1/reports', { to: ['CN'], marking: 'TLP:CLEAR', report: report('US:2026-0007', { category: 'UB', severity: 3, title: 'Agent kept running after stop command' }) });
    await us.post('/v1/reports', {
      to: ['CN'],
      marking: 'TLP:CLEAR',
      report: report('US:2026-0007', { kind: 'update', category: 'UB', severity: 4, title: 'Agent kept running after stop command', summary: 'Stopped at the orchestrator; root cause under review.' }),
      refs: [{ party: 'US', index: initial.index, hash: initial.leafHash }],
    });
    // US receives CN's message and acknowledges it; CN holds US's reports.
    await until('US to hold CN\'s message', async () => ((await us.get<{ items: { index: number }[] }>('/v1/inbox?party=CN')).items.some((i) => i.index === cnIndex) ? true : undefined));
    await us.post(`/v1/entries/CN/${cnIndex}/ack`, { reply: 'Received; investigating.', lang: 'en' });
    // A checkpoint of CN's log covering the message, cosigned by US's witness.
    await until('a checkpoint of CN covering the message', async () => (await us.get<{ treeSize: number }>(`/v1/logs/CN/entries/${cnIndex}`)).treeSize);
    b = await launchBrowser();
    page = await b.page(ch.party('US').url);
    page.on('pageerror', (e) => console.error('pageerror', e.message));
    page.on('console', (m) => m.type() === 'error' && console.error('console', m.text()));
    await login(page, ch.party('US').officer);
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await ch?.stop();
  });

  it('browses CN\'s log and verifies CN\'s message in the browser, every step passing', async () => {
    await page.goto(`${ch.party('US').url}/logs/CN`);
    await page.getByTestId('log-table').waitFor();
    await shot(page, 'explorer-log-en');
    await page.getByRole('link', { name: `Verify entry ${cnIndex}` }).click();
    const steps = await stepStatuses(page);
    expect(steps).toEqual(ALL_PASS);
    expect(await page.getByTestId('verify-result').getAttribute('data-verified')).toBe('true');
    await expect(page.getByTestId('verify-result').textContent()).resolves.toMatch(/Verified in this browser/);
    await shot(page, 'explorer-verified-en');
    // By keyboard: the index field and Enter open and verify an entry.
    await page.getByRole('link', { name: 'Back to the log' }).click();
    await page.getByLabel('Entry index').focus();
    await page.keyboard.type(String(cnIndex));
    await page.keyboard.press('Enter');
    await page.waitForURL(new RegExp(`/logs/CN/${cnIndex}$`));
    expect(await stepStatuses(page)).toEqual(ALL_PASS);
  });

  it('verifies an entry of our own log, also against an older checkpoint, and the same in Chinese', async () => {
    await page.goto(`${ch.party('US').url}/logs/US/0`);
    expect(await stepStatuses(page)).toEqual(ALL_PASS);
    // An older checkpoint of our log, chosen by its size: it is the one verified against.
    const older = (await (await ch.api('US')).get<{ treeSize: number }>('/v1/logs/US/entries/0')).treeSize;
    await until('our log to grow past that checkpoint', async () => ((await (await ch.api('US')).get<{ treeSize: number }>('/v1/logs/US/entries/0')).treeSize > older ? true : undefined));
    await page.getByLabel('Checkpoint to verify against (tree size)').fill(String(older));
    await page.getByRole('button', { name: 'Use this checkpoint' }).click();
    await page.waitForURL(new RegExp(`/logs/US/0\\?size=${older}$`));
    await page.waitForFunction((n) => document.querySelector('[data-step=checkpoint]')?.textContent?.includes(`Tree size${n}`), older);
    expect(await stepStatuses(page)).toEqual(ALL_PASS);
    await setLang(page, 'zh-CN');
    await page.goto(`${ch.party('US').url}/logs/CN/${cnIndex}`);
    expect(await stepStatuses(page)).toEqual(ALL_PASS);
    await expect(page.getByTestId('verify-result').textContent()).resolves.toMatch(/已在本浏览器中核验/);
    await shot(page, 'explorer-verified-zh-CN');
    await setLang(page, 'en');
  });

  it('fails a tampered proof at the inclusion step, and a tampered checkpoint at the signature step', async () => {
    const tamper = (edit: (j: { proof: string[]; checkpoint: string; entry: string }) => void) => async (route: Route) => {
      const res = await route.fetch();
      // A 404 (the witnessed checkpoint moved on between two reads) is retried by the page: pass it through untouched.
      if (!res.ok()) return route.fulfill({ response: res });
      const j = (await res.json()) as { proof: string[]; checkpoint: string; entry: string };
      edit(j);
      await route.fulfill({ response: res, json: j });
    };
    const pattern = `**/v1/logs/CN/entries/${cnIndex}*`;

    await page.route(pattern, tamper((j) => (j.proof[0] = flip(j.proof[0]!))));
    await page.goto(`${ch.party('US').url}/logs/CN/${cnIndex}`);
    let steps = await stepStatuses(page);
    expect(steps).toMatchObject({ checkpoint: 'pass', leaf: 'pass', inclusion: 'fail' });
    expect(await page.getByTestId('verify-result').getAttribute('data-verified')).toBe('false');
    await expect(page.locator('[data-step=inclusion]').textContent()).resolves.toMatch(/PROOF_INVALID/);
    await shot(page, 'explorer-tampered-proof-en');
    await page.unroute(pattern);

    await page.route(pattern, tamper((j) => (j.checkpoint = j.checkpoint.replace(/\n(\d+)\n/, (_m, n: string) => `\n${Number(n) + 1}\n`))));
    await page.getByTestId('verify-again').click();
    await page.waitForFunction(() => document.querySelector('[data-step=checkpoint]')?.getAttribute('data-status') === 'fail');
    steps = await stepStatuses(page);
    expect(steps).toMatchObject({ checkpoint: 'fail', inclusion: 'skipped' });
    await page.unroute(pattern);

    await page.route(pattern, tamper((j) => (j.entry = Buffer.from(Buffer.from(j.entry, 'base64').toString('utf8').replace('"duty-cn"', '"duty-cx"')).toString('base64'))));
    await page.getByTestId('verify-again').click();
    await page.waitForFunction(() => document.querySelector('[data-step=leaf]')?.getAttribute('data-status') === 'fail');
    expect(await stepStatuses(page)).toMatchObject({ leaf: 'fail', entry: 'skipped', inclusion: 'skipped' });
    await page.unroute(pattern);

    await page.getByTestId('verify-again').click();
    await page.waitForFunction(() => document.querySelector('[data-testid=verify-result]')?.getAttribute('data-verified') === 'true');
  });

  it('explains an entry newer than the latest checkpoint, and verifies it once the next checkpoint is signed', async () => {
    const pattern = `**/v1/logs/CN/entries/${cnIndex}*`;
    await page.route(pattern, (r) =>
      r.fulfill({ status: 400, contentType: 'application/problem+json', json: { type: 'urn:parley:error:tree-argument-invalid', title: 'Bad Request', status: 400, detail: 'index is not below the tree size', code: 'TREE_ARGUMENT_INVALID' } }),
    );
    await page.goto(`${ch.party('US').url}/logs/CN/${cnIndex}`);
    await page.getByText(/is newer than the latest checkpoint/).waitFor();
    await page.unroute(pattern);
    await page.waitForFunction(() => document.querySelector('[data-testid=verify-result]')?.getAttribute('data-verified') === 'true', undefined, { timeout: 20_000 });
  });

  it('lists incidents with filters and search, and shows an incident\'s timeline across parties', async () => {
    await page.goto(`${ch.party('US').url}/incidents`);
    const table = page.getByTestId('incidents-table');
    await table.getByRole('link', { name: 'US:2026-0007' }).waitFor();
    await table.getByRole('link', { name: 'CN:2026-0042' }).waitFor();
    await shot(page, 'incidents-en');
    await page.getByLabel('Category').selectOption('UB');
    await page.waitForFunction(() => !document.querySelector('[data-testid=incidents-table]')?.textContent?.includes('CN:2026-0042'));
    expect(page.url()).toContain('category=UB');
    // A filter chosen while a search is still pending keeps both; clearing
    // drops the pending search too.
    await page.getByLabel('Search').fill('robot');
    await page.getByLabel('Severity').selectOption('3');
    await page.waitForFunction(() => location.search.includes('q=robot'));
    expect(new URL(page.url()).searchParams.get('category')).toBe('UB');
    expect(new URL(page.url()).searchParams.get('severity')).toBe('3');
    await page.getByLabel('Search').fill('pending');
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForFunction(() => location.search === '');
    await expect(page.getByLabel('Search').inputValue()).resolves.toBe('');
    await page.getByLabel('Search').fill('未知主机');
    await page.waitForFunction(() => {
      const t = document.querySelector('[data-testid=incidents-table]')?.textContent ?? '';
      return t.includes('CN:2026-0042') && !t.includes('US:2026-0007');
    });
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await table.getByRole('link', { name: 'US:2026-0007' }).click();
    const timeline = page.getByTestId('incident-timeline');
    await timeline.locator('li').nth(1).waitFor();
    expect(await timeline.locator('li.timeline-item').count()).toBeGreaterThanOrEqual(2);
    await shot(page, 'incident-timeline-en');
    await setLang(page, 'zh-CN');
    await page.getByRole('heading', { level: 2, name: /时间线/ }).waitFor();
    await shot(page, 'incident-timeline-zh-CN');
    await page.goto(`${ch.party('US').url}/incidents`);
    await page.getByRole('heading', { level: 1, name: '事件' }).waitFor();
    await page.getByTestId('incidents-table').waitFor();
    await shot(page, 'incidents-zh-CN');
    await setLang(page, 'en');
  });

  it('shows link health: CN up with a fresh heartbeat, checkpoints verified in the browser', async () => {
    await page.goto(`${ch.party('US').url}/links`);
    const card = page.getByTestId('link-CN');
    await card.waitFor();
    await page.waitForFunction(() => document.querySelector('[data-testid=link-CN]')?.getAttribute('data-state') === 'up');
    await card.getByText('signature verified in this browser').waitFor();
    await page.getByTestId('link-US').getByText('signature verified in this browser').waitFor();
    await shot(page, 'links-en');
    await setLang(page, 'zh-CN');
    await page.getByTestId('link-CN').getByText('链路正常').waitFor();
    await shot(page, 'links-zh-CN');
    await setLang(page, 'en');
  });

  it('updates the incident list live when another party reports', async () => {
    await page.goto(`${ch.party('US').url}/incidents`);
    await page.getByTestId('incidents-table').getByRole('link', { name: 'CN:2026-0042' }).waitFor();
    const cn = await ch.api('CN');
    await cn.post('/v1/reports', { to: ['US'], marking: 'TLP:CLEAR', report: report('CN:2026-0043', { category: 'CY', severity: 2, title: 'Phishing kit generated by a public model' }) });
    await page.getByTestId('incidents-table').getByRole('link', { name: 'CN:2026-0043' }).waitFor({ timeout: 20_000 });
  });

  it('makes a fork alarm impossible to miss (the node\'s answers stubbed with a held fork proof)', async () => {
    const fork = {
      id: 'fork/CN/0123456789abcdef',
      party: 'CN',
      n: 0,
      kind: 'same-size',
      a: { treeSize: 12, rootHash: Buffer.alloc(32, 1).toString('base64'), cosignedBy: [{ party: 'US', timestamp: 1795000000 }] },
      b: { treeSize: 12, rootHash: Buffer.alloc(32, 2).toString('base64'), cosignedBy: [] },
      href: '/v1/forks/CN/0',
    };
    await page.route('**/v1/forks', (r) => r.fulfill({ json: { forks: [fork] } }));
    await page.route('**/v1/links', async (r) => {
      const res = await r.fetch();
      const j = (await res.json()) as { links: { party: string; state: string; reason?: string; forks?: number }[] };
      for (const l of j.links) if (l.party === 'CN') Object.assign(l, { state: 'down', reason: 'fork', forks: 1, downAt: new Date().toISOString() });
      await r.fulfill({ response: res, json: j });
    });
    await page.goto(`${ch.party('US').url}/links`);
    await page.getByTestId('fork-alarm').getByText(/FORK DETECTED/).waitFor();
    expect(await page.getByTestId('link-CN').getAttribute('data-state')).toBe('fork');
    await shot(page, 'links-fork-en');
    await setLang(page, 'zh-CN');
    await page.getByTestId('fork-alarm').getByText(/检测到分叉/).waitFor();
    await shot(page, 'links-fork-zh-CN');
    await setLang(page, 'en');
    // Every route of this test (forks, links); a links reload still in flight is let go, not fulfilled twice.
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  });

  it('shows an accord fork as an accord fork (versions and signers, no log sizes, on no party\u2019s card), a departure race in words, in both languages', async () => {
    const digest = (c: string) => c.repeat(64);
    const fork = {
      id: 'fork/accord/0123456789abcdef',
      party: 'accord',
      n: 0,
      kind: 'accord',
      a: { version: 2, digest: digest('a'), signedBy: ['CN'] },
      b: { version: 2, digest: digest('b'), signedBy: ['US'] },
      signers: [],
      race: { kind: 'departure', a: ['CN'], b: ['US'] },
      message: 'ACCORD FORK (a departure race)',
      href: '/v1/forks/accord/0',
    };
    await page.route('**/v1/forks', (r) => r.fulfill({ json: { forks: [fork] } }));
    await page.goto(`${ch.party('US').url}/links`);
    const alarm = page.getByTestId('fork-alarm');
    await alarm.getByText(/ACCORD FORK: two different versions 2/).waitFor();
    const text = await alarm.innerText();
    expect(text).toMatch(/accord version 2/);
    expect(text).toMatch(/signed by CN/);
    expect(text).not.toMatch(/size undefined|undefined/);
    expect(text).not.toMatch(/FORK DETECTED in the log/);
    expect(await page.getByTestId('accord-fork-race').innerText()).toMatch(/departure race, not an attack/);
    // No party's log forked: no card is marked.
    expect(await page.getByTestId('link-CN').getAttribute('data-state')).not.toBe('fork');
    await setLang(page, 'zh-CN');
    await alarm.getByText(/协定分叉/).waitFor();
    expect(await page.getByTestId('accord-fork-race').innerText()).toMatch(/退出竞争/);
    expect(await alarm.innerText()).not.toMatch(/undefined/);
    await setLang(page, 'en');
    await page.unrouteAll({ behavior: 'ignoreErrors' });
  });

  it('shows compliance charts with their tables and CSV downloads', async () => {
    await page.goto(`${ch.party('US').url}/compliance`);
    await page.getByTestId('section-acks').waitFor();
    await page.getByTestId('table-incidents').waitFor();
    await page.locator('.recharts-bar-rectangle').first().waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('csv-incidents.csv').click()]);
    expect(download.suggestedFilename()).toBe('incidents.csv');
    await shot(page, 'compliance-en');
    await page.getByTestId('section-acks').screenshot({ path: join(SCREENSHOTS, 'compliance-acks-en.png') });
    await setLang(page, 'zh-CN');
    await page.getByRole('heading', { level: 1, name: '合规情况' }).waitFor();
    await shot(page, 'compliance-zh-CN');
    await setLang(page, 'en');
  });

  it('shows an auditor sealed incidents as metadata only, and lets them verify entries', async () => {
    const aud = await b.page(ch.party('US').url);
    await login(aud, ch.party('US').auditor);
    await aud.goto(`${ch.party('US').url}/incidents`);
    const row = aud.getByTestId('incidents-table').getByRole('row').filter({ has: aud.getByRole('link', { name: 'CN:2026-0042' }) });
    await row.getByText('Sealed — not entitled').waitFor();
    expect(await row.textContent()).not.toContain('模型权重');
    await shot(aud, 'incidents-auditor-en');
    await aud.goto(`${ch.party('US').url}/logs/CN/${cnIndex}`);
    expect(await stepStatuses(aud)).toEqual(ALL_PASS);
  });

  it('is usable on a tablet', async () => {
    const tab = await b.page(ch.party('US').url, { viewport: TABLET });
    await login(tab, ch.party('US').officer);
    await tab.goto(`${ch.party('US').url}/logs/CN/${cnIndex}`);
    expect(await stepStatuses(tab)).toEqual(ALL_PASS);
    await shot(tab, 'explorer-tablet-en');
    await tab.goto(`${ch.party('US').url}/links`);
    await tab.getByTestId('link-CN').waitFor();
    await shot(tab, 'links-tablet-en');
    await tab.goto(`${ch.party('US').url}/incidents`);
    await tab.getByTestId('incidents-table').waitFor();
    await shot(tab, 'incidents-tablet-en');
  });

  it('turns CN\'s link DOWN live, without a reload, when CN\'s node stops', async () => {
    await page.goto(`${ch.party('US').url}/links`);
    await page.waitForFunction(() => document.querySelector('[data-testid=link-CN]')?.getAttribute('data-state') === 'up');
    await ch.party('CN').runtime.stop();
    await page.waitForFunction(() => document.querySelector('[data-testid=link-CN]')?.getAttribute('data-state') === 'down', undefined, { timeout: 30_000 });
    await page.getByTestId('link-CN').getByText('Link DOWN').waitFor();
    await shot(page, 'links-down-en');
  });
});
