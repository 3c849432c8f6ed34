/**
 * The incident page's "Download STIX 2.1" button (issue 13), in Chromium
 * against two real nodes (CN, US) on 127.0.0.1: the file is the node's
 * bundle (GET /v1/incidents/:id/stix) byte for byte, named
 * incident-<id>.stix.json, valid against the OASIS STIX 2.1 schemas; the
 * label is in English and Chinese; for an auditor and a sealed incident the
 * node refuses (STIX_SEALED) and the page says why, in words of its own,
 * with no download.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_E2E, type TestBrowser, launchBrowser, login, pageErrors } from './helpers/browser.js';
import { type Channel, startChannel, until, sampleReport as report } from './helpers/channel.js';
import { stixValidators } from '../../core/test/helpers/stix-schemas.js';

const INCIDENT = 'CN:2026-0301';

describe.skipIf(SKIP_E2E)('incident page: STIX 2.1 export (Chromium, two real nodes)', () => {
  let ch: Channel;
  let b: TestBrowser;
  const schemas = stixValidators();

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'US'] });
    b = await launchBrowser();
    const cn = await ch.api('CN');
    await cn.post('/v1/reports', { to: ['US'], marking: 'TLP:AMBER', report: report(INCIDENT, { techniques: ['AML.T0051.001'], cves: ['CVE-2026-4242'] }) });
    const us = await ch.api('US');
    await until("US to hold CN's incident", async () => ((await us.get<{ items: { incident: string }[] }>('/v1/incidents')).items.some((i) => i.incident === INCIDENT) ? true : undefined));
  }, 180_000);
  afterAll(async () => {
    await b?.close();
    await ch?.stop();
  });

  it('downloads the node’s bundle as incident-<id>.stix.json, valid STIX 2.1, labelled in Chinese', async () => {
    const page = await b.page(`${ch.party('US').url}/incidents/${encodeURIComponent(INCIDENT)}`, { lang: 'zh-CN' });
    await login(page, ch.party('US').officer);
    await page.getByTestId('incident-timeline').waitFor();
    expect(await page.getByTestId('export-stix').textContent()).toContain('下载 STIX 2.1');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-stix').click()]);
    expect(download.suggestedFilename()).toBe('incident-CN_2026-0301.stix.json');
    const text = readFileSync((await download.path())!, 'utf8');
    const bundle = JSON.parse(text) as { type: string; objects: { type: string }[] };
    expect(schemas.bundleErrors(bundle)).toEqual([]);
    expect(bundle.objects.some((o) => o.type === 'incident')).toBe(true);
    const us = await ch.api('US');
    expect(text).toBe(JSON.stringify(await us.get(`/v1/incidents/${encodeURIComponent(INCIDENT)}/stix`)));
    expect(pageErrors(page)).toEqual([]);
  }, 120_000);

  it('an auditor and a sealed incident: the node refuses, the page says why (STIX_SEALED), nothing downloads', async () => {
    const page = await b.page(`${ch.party('US').url}/incidents/${encodeURIComponent(INCIDENT)}`, { lang: 'en' });
    await login(page, ch.party('US').auditor);
    await page.getByTestId('export-stix').waitFor();
    expect(await page.getByTestId('export-stix').textContent()).toContain('Download STIX 2.1');
    let downloads = 0;
    page.on('download', () => downloads++);
    await page.getByTestId('export-stix').click();
    await page.getByText('This incident is sealed from your role').waitFor();
    expect(await page.locator('.error-code').first().textContent()).toContain('STIX_SEALED');
    expect(downloads).toBe(0);
  }, 120_000);
});
