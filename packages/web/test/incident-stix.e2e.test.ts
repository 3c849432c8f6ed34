/**
 * The incident page's "Download STIX 2.1" button (issue 13), in Chromium
 * against two real nodes (CN, US) on 127.0.0.1: the file is the node's
 * bundle (GET /v1/incidents/:id/stix) byte for byte, named
 * incident-<id>.stix.json, valid against the OASIS STIX 2.1 schemas; the
 * label is in English and Chinese; for an auditor and a sealed incident the
 * node refuses (STIX_SEALED) and the page says why, in words of its own,
 * with no download. The report page shows the report's ATLAS techniques and
 * CVEs as links to their public pages, and a record taken from AIID with its
 * CC BY-SA attribution and its "potential" flag, in both languages.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_E2E, type TestBrowser, launchBrowser, login, pageErrors } from './helpers/browser.js';
import { type Channel, startChannel, until, sampleReport as report } from './helpers/channel.js';
import { stixValidators } from '../../core/test/helpers/stix-schemas.js';

const INCIDENT = 'CN:2026-0301';
const AIID = 'CN:aiid-23';

describe.skipIf(SKIP_E2E)('incident page: STIX 2.1 export (Chromium, two real nodes)', () => {
  let ch: Channel;
  let b: TestBrowser;
  let reported = 0;
  let imported = 0;
  const schemas = stixValidators();

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'US'] });
    b = await launchBrowser();
    const cn = await ch.api('CN');
    reported = (await cn.post<{ index: number }>('/v1/reports', { to: ['US'], marking: 'TLP:AMBER', report: report(INCIDENT, { techniques: ['AML.T0051', 'AML.T0051.001'], cves: ['CVE-2026-4242'] }) })).index;
    const source = { name: 'AIID', id: '23', url: 'https://incidentdatabase.ai/cite/23', license: 'CC BY-SA 4.0' };
    imported = (await cn.post<{ index: number }>('/v1/reports', { to: ['US'], marking: 'TLP:CLEAR', report: report(AIID, { title: 'Self-driving shuttle collides on its first day', potential: true, stage: 'near-miss', source }) })).index;
    const us = await ch.api('US');
    await until("US to hold CN's incidents", async () => ((await us.get<{ items: { incident: string }[] }>('/v1/incidents')).items.filter((i) => i.incident === INCIDENT || i.incident === AIID).length === 2 ? true : undefined));
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

  it('the report page shows its ATLAS techniques and CVEs as links, and an AIID record’s attribution and potential flag (en, zh-CN)', async () => {
    const page = await b.page(`${ch.party('US').url}/entries/CN/${reported}`, { lang: 'en' });
    await login(page, ch.party('US').officer);
    const techniques = page.getByTestId('report-techniques');
    await techniques.waitFor();
    expect(await techniques.locator('a').evaluateAll((as) => as.map((a) => [a.textContent, a.getAttribute('href')]))).toEqual([
      ['AML.T0051', 'https://atlas.mitre.org/techniques/AML.T0051'],
      ['AML.T0051.001', 'https://atlas.mitre.org/techniques/AML.T0051.001'],
    ]);
    expect(await page.getByTestId('report-cves').locator('a').getAttribute('href')).toBe('https://www.cve.org/CVERecord?id=CVE-2026-4242');
    expect(await page.getByTestId('report-source').count()).toBe(0);
    expect(await page.getByTestId('report-potential').count()).toBe(0);
    await page.goto(`${ch.party('US').url}/entries/CN/${imported}`);
    const source = page.getByTestId('report-source');
    await source.waitFor();
    expect(await source.textContent()).toContain('Taken from AIID record 23, licensed under CC BY-SA 4.0; attribution required.');
    expect(await source.locator('a').getAttribute('href')).toBe('https://incidentdatabase.ai/cite/23');
    expect(await page.getByTestId('report-potential').textContent()).toContain('no harm yet');
    const zh = await b.page(`${ch.party('US').url}/entries/CN/${imported}`, { lang: 'zh-CN' });
    await login(zh, ch.party('US').officer);
    await zh.getByTestId('report-source').waitFor();
    expect(await zh.getByTestId('report-source').textContent()).toContain('取自 AIID 记录 23，依 CC BY-SA 4.0 许可；须署名。');
    expect(pageErrors(page)).toEqual([]);
    expect(pageErrors(zh)).toEqual([]);
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
