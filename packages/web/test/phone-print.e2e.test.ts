/**
 * The dashboard on a phone and on paper, in Chromium against two real nodes
 * (CN, US) on 127.0.0.1 with a channel's worth of entries: messages of every
 * precedence, an acknowledgement with its reply, and a long incident (an
 * initial report and six updates) so that it prints on several pages.
 *
 * Phone (390×844), every page in English and Chinese: nothing scrolls
 * sideways (the document and every element fit the viewport), tables render
 * as cards of label: value lines (no cell squeezed to a few pixels), inbox
 * and outbox rows lead with their title, and the navigation collapses behind
 * a menu button (aria-expanded, focus moved in and back, Escape closes). The
 * same pages at 1280×800 keep the side navigation and still fit.
 *
 * Paper: with print media the TLP marking (FIRST TLP 2.0 colours) is shown
 * and navigation, buttons and alerts are not; page.pdf() of the incident is
 * several pages long with the marking at the top and the bottom of every
 * page, clear of the text (pdf.js reads each page's text and its position),
 * and in its colour (each page rendered, its top and bottom bands sampled).
 * The incident downloads as JSON, as the API returns it.
 *
 * Screenshots: test/screenshots/{phone,desktop}-<page>-<lang>.png,
 * phone-menu-open-<lang>.png, incident-print.pdf and its pages rendered,
 * print-incident-en-page-<n>.png.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { createCanvas } from '@napi-rs/canvas';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESKTOP, PHONE, SCREENSHOTS, SKIP_E2E, type TestBrowser, launchBrowser, login, pageErrors, setLang, shot } from './helpers/browser.js';
import { type Api, type Channel, startChannel, until, sampleReport as report } from './helpers/channel.js';

const INCIDENT = 'CN:2026-0042';

/** A long paragraph, so that the incident's timeline runs over several printed pages. */
const LONG_EN =
  'Forensic review of the maintenance window shows the copy was made with a service credential that had not been rotated since the previous audit; ' +
  'the destination host answered from an address block leased the same day, and the transfer completed in forty-one minutes. ' +
  'Containment: credentials rotated, egress from the training cluster restricted to an allow-list, and the model provider notified under the accord.';
const LONG_ZH = '维护窗口的取证审查显示，复制操作使用了自上次审计以来未轮换的服务凭据；目标主机的地址段当天租用，传输在四十一分钟内完成。处置措施：已轮换凭据，训练集群的出站流量已限制为白名单，并已依据协定通知模型提供方。';

interface Seeded {
  flash: number;
  priority: number;
  /** US's own message to CN (its page lists deliveries). */
  sent: number;
  incidentEntries: number;
}

async function seed(ch: Channel): Promise<Seeded> {
  const cn = await ch.api('CN');
  const us = await ch.api('US');
  const flash = await cn.post<{ index: number }>('/v1/messages', { to: ['US'], precedence: 'FLASH', marking: 'TLP:AMBER', text: 'FLASH: confirm the affected model endpoints are isolated and that no further weights leave the cluster.', lang: 'en' });
  const priority = await cn.post<{ index: number }>('/v1/messages', { to: ['US'], precedence: 'PRIORITY', marking: 'TLP:GREEN', text: '请提供入侵指标（IOC），包括目标主机的地址和传输时间。', lang: 'zh-CN' });
  await cn.post('/v1/messages', { to: ['US'], precedence: 'ROUTINE', marking: 'TLP:RED', text: 'Routine: weekly liaison call moved to Thursday 09:00 UTC.', lang: 'en' });
  const sent = await us.post<{ index: number }>('/v1/messages', { to: ['CN'], precedence: 'IMMEDIATE', marking: 'TLP:AMBER', text: 'IMMEDIATE: we observed the same destination host in our own logs; sharing details under TLP:AMBER.', lang: 'en' });
  // The incident: an initial report and six updates, one of them in Chinese, one marked GREEN.
  let prev = await cn.post<{ index: number; leafHash: string }>('/v1/reports', { to: ['US'], marking: 'TLP:AMBER', report: report(INCIDENT, { summary: LONG_EN, mitigations: ['Credentials rotated', 'Egress allow-list on the training cluster'] }) });
  for (let i = 1; i <= 6; i++) {
    const zh = i % 3 === 0;
    prev = await cn.post<{ index: number; leafHash: string }>('/v1/reports', {
      to: ['US'],
      marking: i === 2 ? 'TLP:GREEN' : 'TLP:AMBER',
      report: report(INCIDENT, {
        kind: 'update',
        severity: 5,
        title: zh ? '模型权重被复制到未知主机（更新）' : `Model weights copied to an unknown host (update ${i})`,
        summary: zh ? LONG_ZH : `Update ${i}. ${LONG_EN}`,
        mitigations: [zh ? '已限制出站流量' : `Mitigation step ${i} applied`],
        ...(zh ? { lang: 'zh-CN' } : {}),
      }),
      refs: [{ party: 'CN', index: prev.index, hash: prev.leafHash }],
    });
  }
  await us.post('/v1/reports', { to: ['CN'], marking: 'TLP:CLEAR', report: report('US:2026-0007', { category: 'UB', severity: 3, title: 'Agent kept running after stop command' }) });
  await until("US to hold CN's incident", async () => ((await us.get<{ timeline: unknown[] }>(`/v1/incidents/${encodeURIComponent(INCIDENT)}`)).timeline.length >= 7 ? true : undefined));
  await until("US to hold CN's FLASH", async () => ((await us.get<{ items: { index: number }[] }>('/v1/inbox?party=CN')).items.some((i) => i.index === flash.index) ? true : undefined));
  await us.post(`/v1/entries/CN/${flash.index}/ack`, { reply: 'Endpoints isolated; standing by.', lang: 'en' });
  const incident = await us.get<{ timeline: unknown[] }>(`/v1/incidents/${encodeURIComponent(INCIDENT)}`);
  return { flash: flash.index, priority: priority.index, sent: sent.index, incidentEntries: incident.timeline.length };
}

/** Navigates in the app (as a link would) and waits until the page has its heading and its data. */
async function open(page: Page, path: string, ready?: string): Promise<void> {
  await page.evaluate((p) => {
    history.pushState({}, '', p);
    dispatchEvent(new PopStateEvent('popstate'));
  }, path);
  await page.locator('main h1').first().waitFor();
  if (ready !== undefined) await page.locator(ready).first().waitFor();
  await page.waitForFunction(() => document.querySelector('.loading') === null);
  await page.waitForTimeout(250); // charts and late renders settle
}

/**
 * What does not fit: the document scrolling sideways, any element reaching
 * past the viewport's edges (as far as it can be seen), any box scrolling
 * sideways on its own, and any table cell under 40 px whose text wraps (the
 * "one character a line" symptom).
 */
async function layoutProblems(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const vw = window.innerWidth;
    const de = document.documentElement;
    if (de.scrollWidth > vw) out.push(`document is ${de.scrollWidth} px wide in a ${vw} px viewport`);
    const name = (el: Element) => {
      const id = el.id !== '' ? `#${el.id}` : '';
      const cls = typeof el.className === 'string' && el.className.trim() !== '' ? `.${el.className.trim().split(/\s+/).join('.')}` : '';
      const text = (el.textContent ?? '').trim().slice(0, 40);
      return `<${el.tagName.toLowerCase()}${id}${cls}> "${text}"`;
    };
    /** The part of `el` that can be seen: its box cut by every ancestor that clips without scrolling (a visually hidden header). */
    const visible = (el: Element) => {
      const r = el.getBoundingClientRect();
      let left = r.left;
      let right = r.right;
      for (let e = el.parentElement; e !== null; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.overflowX === 'hidden' || s.overflowX === 'clip' || s.clip !== 'auto') {
          const c = e.getBoundingClientRect();
          left = Math.max(left, c.left);
          right = Math.min(right, c.right);
        }
      }
      return { left, right, width: right - left, height: r.height };
    };
    const hidden = (el: Element) => {
      for (let e: Element | null = el; e !== null; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.display === 'none' || s.visibility === 'hidden' || e.classList.contains('visually-hidden')) return true;
      }
      return false;
    };
    // HTML elements only (an SVG chart's own parts are clipped by the <svg>, which is checked).
    for (const el of document.body.querySelectorAll<HTMLElement>('*:not(svg *)')) {
      const r = visible(el);
      if (r.width <= 0 || r.height === 0) continue;
      if ((r.right > vw + 0.5 || r.left < -0.5) && !hidden(el) && !el.classList.contains('skip-link')) out.push(`${name(el)} spans ${Math.round(r.left)}..${Math.round(r.right)} px`);
      // A box of its own that scrolls sideways (a table in an overflow wrapper) is sideways scrolling too.
      const ox = getComputedStyle(el).overflowX;
      if ((ox === 'auto' || ox === 'scroll') && el.scrollWidth > el.clientWidth + 1 && !hidden(el)) out.push(`${name(el)} scrolls sideways (${el.scrollWidth} px in ${el.clientWidth} px)`);
    }
    // The compact header: brand, live status and Menu button side by side, none spilling into the next.
    for (const part of document.querySelectorAll<HTMLElement>('.topbar > *, .topbar .brand')) {
      if (!hidden(part) && part.scrollWidth > part.clientWidth + 1) out.push(`${name(part)} holds ${part.scrollWidth} px in ${part.clientWidth} px`);
    }
    // The "one character a line" symptom: a cell too narrow for its text, which wraps.
    for (const cell of document.querySelectorAll<HTMLElement>('main table.data td, main table.data th')) {
      const text = (cell.textContent ?? '').trim();
      if (text === '' || hidden(cell)) continue;
      const w = cell.getBoundingClientRect().width;
      const range = document.createRange();
      range.selectNodeContents(cell);
      const lines = new Set([...range.getClientRects()].map((q) => Math.round(q.bottom))).size;
      if (w < 40 && lines > 1) out.push(`${name(cell)} is a ${Math.round(w)} px wide cell wrapping its text on ${lines} lines`);
    }
    return out.slice(0, 30);
  });
}

/**
 * Tables in main that are not cards: a data table with three or more
 * columns must show its rows as blocks with a label before each value
 * (but the card's title line and its action button).
 */
async function tablesNotCards(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    for (const table of document.querySelectorAll<HTMLTableElement>('main table.data')) {
      if (table.offsetParent === null) continue; // in a closed <details>
      const cols = table.tHead?.rows[0]?.cells.length ?? 0;
      if (cols < 3) continue;
      const rows = [...table.tBodies].flatMap((b) => [...b.rows]);
      for (const tr of rows) {
        if (getComputedStyle(tr).display === 'table-row') {
          out.push(`${table.getAttribute('data-testid') ?? table.className}: row "${(tr.textContent ?? '').slice(0, 40)}" is a table row`);
          break;
        }
        for (const td of tr.querySelectorAll(':scope > :not(.card-title, .card-action)')) {
          const label = getComputedStyle(td, '::before').content;
          if ((td.textContent ?? '').trim() !== '' && (label === 'none' || label === 'normal' || label === '""')) {
            out.push(`${table.getAttribute('data-testid') ?? table.className}: cell "${(td.textContent ?? '').slice(0, 30)}" has no label`);
            break;
          }
        }
      }
    }
    return out;
  });
}

/** Inbox and outbox cards lead with their title: it sits above the row's meta line. */
async function rowsNotTitleFirst(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('main .entry-row')]
      .filter((row) => {
        const title = row.querySelector('.title')?.getBoundingClientRect();
        const meta = row.querySelector('.meta')?.getBoundingClientRect();
        return title !== undefined && meta !== undefined && title.top > meta.top;
      })
      .map((row) => (row.textContent ?? '').slice(0, 50)),
  );
}

describe.skipIf(SKIP_E2E)('the dashboard on a phone and on paper (Chromium, two real nodes)', () => {
  let ch: Channel;
  let b: TestBrowser;
  let s: Seeded;
  let usApi: Api;

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'US'] });
    s = await seed(ch);
    usApi = await ch.api('US');
    b = await launchBrowser();
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await ch?.stop();
  });

  const pages = (): { name: string; path: string; ready?: string }[] => [
    { name: 'inbox', path: '/', ready: '[data-testid=inbox-row]' },
    { name: 'inbox-all', path: '/', ready: '[data-testid=inbox-row]' },
    { name: 'entry', path: `/entries/CN/${s.flash}`, ready: '[data-testid=body]' },
    { name: 'entry-sent', path: `/entries/US/${s.sent}`, ready: '[data-testid=deliveries]' },
    { name: 'outbox', path: '/outbox', ready: '[data-testid=outbox-row]' },
    { name: 'compose', path: '/compose', ready: 'form' },
    { name: 'compose-report', path: '/compose?tab=report', ready: '[data-testid=report-form]' },
    { name: 'incidents', path: '/incidents', ready: '[data-testid=incidents-table]' },
    { name: 'incident', path: `/incidents/${encodeURIComponent(INCIDENT)}`, ready: '[data-testid=incident-timeline]' },
    { name: 'links', path: '/links', ready: '[data-testid=link-CN]' },
    { name: 'explorer', path: '/logs/CN', ready: '[data-testid=log-table]' },
    { name: 'explorer-entry', path: `/logs/CN/${s.flash}`, ready: '[data-testid=verify-result]' },
    { name: 'compliance', path: '/compliance', ready: '[data-testid=table-acks]' },
    { name: 'accord', path: '/accord', ready: '[data-testid=accord-id]' },
  ];

  for (const lang of ['en', 'zh-CN'] as const) {
    it(`fits every page on a phone (390×844) in ${lang}: no sideways scrolling, tables as cards, titles first`, async () => {
      const page = await b.page(`${ch.party('US').url}/`, { viewport: PHONE, lang });
      await page.locator('form').first().waitFor();
      expect(await layoutProblems(page), 'login').toEqual([]);
      await shot(page, `phone-login-${lang}`);
      await login(page, ch.party('US').officer);
      const problems: string[] = [];
      for (const p of pages()) {
        await open(page, p.path, p.ready);
        if (p.name === 'inbox-all') {
          await page.locator('#scope').selectOption('all');
          await page.locator('[data-testid=inbox-row][data-acked=true]').first().waitFor();
        }
        if (p.name === 'accord') for (const d of await page.locator('main details').all()) await d.evaluate((el) => el.setAttribute('open', ''));
        for (const x of [...(await layoutProblems(page)), ...(await tablesNotCards(page)), ...(await rowsNotTitleFirst(page)).map((r) => `row not title first: ${r}`)]) problems.push(`${p.name}: ${x}`);
        await shot(page, `phone-${p.name}-${lang}`);
        if (p.name === 'inbox-all') await page.locator('#scope').selectOption('action');
      }
      expect(problems).toEqual([]);
      expect(pageErrors(page)).toEqual([]);
    }, 240_000);

    it(`keeps every page as it was on a desktop (1280×800) in ${lang}: side navigation, nothing overflowing`, async () => {
      const page = await b.page(`${ch.party('US').url}/`, { viewport: DESKTOP, lang });
      await page.locator('form').first().waitFor();
      await shot(page, `desktop-login-${lang}`);
      await login(page, ch.party('US').officer);
      const problems: string[] = [];
      for (const p of pages().filter((x) => x.name !== 'inbox-all')) {
        await open(page, p.path, p.ready);
        if (p.name === 'accord') for (const d of await page.locator('main details').all()) await d.evaluate((el) => el.setAttribute('open', ''));
        for (const x of await layoutProblems(page)) problems.push(`${p.name}: ${x}`);
        // The side navigation is always there and the menu button is not.
        expect(await page.getByRole('navigation', { name: lang === 'en' ? 'Main' : '主导航' }).isVisible(), p.name).toBe(true);
        expect(await page.getByTestId('menu-button').isVisible(), p.name).toBe(false);
        // Tables stay tables.
        expect(await page.evaluate(() => [...document.querySelectorAll('main table.data tbody tr')].every((tr) => getComputedStyle(tr).display === 'table-row')), p.name).toBe(true);
        await shot(page, `desktop-${p.name}-${lang}`);
      }
      expect(problems).toEqual([]);
      expect(pageErrors(page)).toEqual([]);
    }, 240_000);
  }

  it('collapses the navigation behind a menu button on a phone: aria-expanded, focus in and back, Escape, a link closes it', async () => {
    const page = await b.page(`${ch.party('US').url}/`, { viewport: PHONE });
    await login(page, ch.party('US').officer);
    await page.getByRole('heading', { level: 1, name: 'Inbox' }).waitFor();
    const button = page.getByRole('button', { name: 'Menu' });
    const nav = page.locator('nav#app-nav');
    // Closed: a compact header (one line: the brand, the live status, the button) and no navigation.
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await nav.isVisible()).toBe(false);
    const header = await page.locator('header.topbar').boundingBox();
    expect(header!.height).toBeLessThanOrEqual(64);
    expect(await page.getByTestId('live-status').isVisible()).toBe(true);
    expect(await page.getByTestId('language-switch').isVisible()).toBe(false);
    const controls = (await button.getAttribute('aria-controls'))!.split(' ');
    expect(controls).toContain('app-nav');
    expect(await nav.getAttribute('aria-label')).toBe('Main');
    // Open: focus moves to the first link; every page and the header's tools are reachable.
    await button.click();
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    await nav.getByRole('link', { name: 'Accord' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.closest('nav')?.getAttribute('aria-label'))).toBe('Main');
    expect(await page.getByTestId('language-switch').isVisible()).toBe(true);
    expect(await page.getByRole('button', { name: 'Log out' }).isVisible()).toBe(true);
    expect(await layoutProblems(page)).toEqual([]);
    await shot(page, 'phone-menu-open-en');
    // Escape closes and gives focus back to the button.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Escape');
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await nav.isVisible()).toBe(false);
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('menu-button');
    // From the keyboard: Enter opens; following a link navigates and closes the menu.
    await page.keyboard.press('Enter');
    expect(await button.getAttribute('aria-expanded')).toBe('true');
    await nav.getByRole('link', { name: 'Outbox' }).click();
    await page.getByRole('heading', { level: 1, name: 'Outbox' }).waitFor();
    expect(await button.getAttribute('aria-expanded')).toBe('false');
    expect(await nav.isVisible()).toBe(false);
    // In Chinese the button is named in Chinese.
    await button.click();
    await setLang(page, 'zh-CN');
    await page.getByRole('button', { name: '菜单' }).waitFor();
    await shot(page, 'phone-menu-open-zh-CN');
    expect(pageErrors(page)).toEqual([]);
  }, 120_000);

  it('prints the incident with its TLP marking on every page and without navigation, buttons or alerts', async () => {
    const page = await b.page(`${ch.party('US').url}/incidents/${encodeURIComponent(INCIDENT)}`, { viewport: DESKTOP });
    await login(page, ch.party('US').officer);
    await page.getByTestId('incident-timeline').waitFor();
    await page.waitForFunction(() => document.querySelector('.loading') === null);
    // An alert on screen (a FLASH arriving) that must not reach the paper.
    await (await ch.api('CN')).post('/v1/messages', { to: ['US'], precedence: 'FLASH', marking: 'TLP:RED', text: 'FLASH: second host found.', lang: 'en' });
    await page.getByTestId('alert-banner').waitFor({ timeout: 20_000 });
    const marking = page.locator('.print-marking');
    // On screen the marking is the badges' business; the paper header is hidden.
    expect(await marking.first().isVisible()).toBe(false);
    await page.emulateMedia({ media: 'print' });
    // The incident's marking is its most restrictive entry's: AMBER (one update is GREEN).
    expect(await marking.count()).toBe(2);
    for (const m of await marking.all()) {
      expect(await m.isVisible()).toBe(true);
      expect((await m.textContent())?.trim()).toBe('TLP:AMBER');
      const style = await m.evaluate((el) => {
        const c = getComputedStyle(el);
        return { color: c.color, background: c.backgroundColor, position: c.position };
      });
      // FIRST TLP 2.0: TLP:AMBER is #FFC000 on black.
      expect(style).toEqual({ color: 'rgb(255, 192, 0)', background: 'rgb(0, 0, 0)', position: 'fixed' });
    }
    for (const hidden of ['nav[aria-label=Main]', 'header.topbar', '[data-testid=alert-banner]', '[data-testid=print-incident]', '[data-testid=export-json]']) {
      expect(await page.locator(hidden).first().isVisible(), hidden).toBe(false);
    }
    expect(await page.evaluate(() => [...document.querySelectorAll('button, .btn')].filter((el) => (el as HTMLElement).offsetParent !== null).map((el) => el.textContent))).toEqual([]);
    expect(await page.getByTestId('incident-timeline').isVisible()).toBe(true);
    mkdirSync(SCREENSHOTS, { recursive: true });

    // The PDF: several pages, each with the marking at its top and its bottom, clear of the text.
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    writeFileSync(join(SCREENSHOTS, 'incident-print.pdf'), pdf);
    const doc = await getDocument({ data: new Uint8Array(pdf), useSystemFonts: false }).promise;
    expect(doc.numPages).toBeGreaterThanOrEqual(3);
    let sawTitle = false;
    for (let n = 1; n <= doc.numPages; n++) {
      const pg = await doc.getPage(n);
      const { width, height } = pg.getViewport({ scale: 1 });
      const items = (await pg.getTextContent()).items.flatMap((i) =>
        'str' in i && i.str.trim() !== '' ? [{ str: i.str, top: height - i.transform[5]! - i.height, bottom: height - i.transform[5]!, middle: i.transform[4]! + i.width / 2 }] : [],
      );
      // The page's marking lines are centred (the entries' own badges sit at the left of their meta line).
      const marks = items.filter((i) => i.str.trim() === 'TLP:AMBER' && Math.abs(i.middle - width / 2) < 20);
      const head = marks.filter((m) => m.bottom < height * 0.12);
      const foot = marks.filter((m) => m.top > height * 0.88);
      expect(head.length, `page ${n} of ${doc.numPages}: a marking at the top`).toBe(1);
      expect(foot.length, `page ${n} of ${doc.numPages}: a marking at the bottom`).toBe(1);
      const text = items.filter((i) => !marks.includes(i));
      // Nothing runs under the markings.
      for (const t of text) expect(t.top >= head[0]!.bottom - 0.5 && t.bottom <= foot[0]!.top + 0.5, `page ${n}: "${t.str}" overlaps a marking`).toBe(true);
      const all = text.map((t) => t.str).join(' ');
      expect(all).not.toMatch(/Outbox|Log out|Save as PDF|Download JSON/);
      if (all.includes(INCIDENT)) sawTitle = true;
      if (n === 1) expect(all).toMatch(/Printed from US's Parley node by duty-us/);
      // On paper a countdown says when the deadline is, not only how far it was at the moment of printing.
      expect(all).not.toMatch(/due in \d+ m \d+ s(?! \()/);
      // The sheet as a reader sees it: TLP:AMBER's #FFC000 in the top band and in the bottom band.
      const scale = 1.5;
      const vp = pg.getViewport({ scale });
      const canvas = createCanvas(Math.ceil(vp.width), Math.ceil(vp.height));
      const ctx = canvas.getContext('2d');
      await pg.render({ canvasContext: ctx as unknown as CanvasRenderingContext2D, canvas: canvas as unknown as HTMLCanvasElement, viewport: vp }).promise;
      writeFileSync(join(SCREENSHOTS, `print-incident-en-page-${n}.png`), canvas.toBuffer('image/png'));
      const amber = (fromPt: number, toPt: number) => {
        const y = Math.floor(fromPt * scale);
        const px = ctx.getImageData(0, y, canvas.width, Math.ceil(toPt * scale) - y).data;
        let hits = 0;
        for (let i = 0; i < px.length; i += 4) if (Math.abs(px[i]! - 0xff) < 40 && Math.abs(px[i + 1]! - 0xc0) < 40 && px[i + 2]! < 70) hits++;
        return hits;
      };
      expect(amber(head[0]!.top - 2, head[0]!.bottom + 2), `page ${n}: amber at the top`).toBeGreaterThan(50);
      expect(amber(foot[0]!.top - 2, foot[0]!.bottom + 2), `page ${n}: amber at the bottom`).toBeGreaterThan(50);
    }
    expect(sawTitle).toBe(true);
    await page.emulateMedia({ media: 'screen' });
    expect(pageErrors(page)).toEqual([]);
  }, 120_000);

  it('marks a printed entry with its own TLP, and a list with its most restrictive', async () => {
    const page = await b.page(`${ch.party('US').url}/entries/CN/${s.priority}`, { viewport: DESKTOP });
    await login(page, ch.party('US').officer);
    await page.getByTestId('body').waitFor();
    await page.emulateMedia({ media: 'print' });
    expect((await page.locator('.print-marking').first().textContent())?.trim()).toBe('TLP:GREEN');
    expect(await page.locator('.print-marking').first().evaluate((el) => getComputedStyle(el).color)).toBe('rgb(51, 255, 0)');
    // The acknowledge form is for the screen.
    expect(await page.getByTestId('ack-button').isVisible()).toBe(false);
    await open(page, '/', '[data-testid=inbox-row]');
    await page.locator('.print-marking').first().waitFor({ state: 'attached' });
    expect((await page.locator('.print-marking').first().textContent())?.trim()).toBe('TLP:RED');
    await page.emulateMedia({ media: 'screen' });
  }, 120_000);

  it('exports the incident as JSON (as the API returns it) and prints it from a "Print / Save as PDF" button', async () => {
    const page = await b.page(`${ch.party('US').url}/incidents/${encodeURIComponent(INCIDENT)}`, { viewport: PHONE, lang: 'zh-CN' });
    await login(page, ch.party('US').officer);
    await page.getByTestId('incident-timeline').waitFor();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-json').click()]);
    expect(download.suggestedFilename()).toBe('incident-CN_2026-0042.json');
    const file = JSON.parse(readFileSync((await download.path())!, 'utf8')) as { incident: string; timeline: { party: string; index: number }[] };
    expect(file.incident).toBe(INCIDENT);
    expect(file.timeline.length).toBe(s.incidentEntries);
    expect(file).toEqual(await usApi.get(`/v1/incidents/${encodeURIComponent(INCIDENT)}`));
    // The print button opens the browser's print dialog (recorded here: headless Chromium has none).
    await page.evaluate(() => {
      (window as unknown as { printed: number }).printed = 0;
      window.print = () => {
        (window as unknown as { printed: number }).printed += 1;
      };
    });
    await page.getByTestId('print-incident').click();
    expect(await page.evaluate(() => (window as unknown as { printed: number }).printed)).toBe(1);
    expect(await page.getByTestId('print-incident').textContent()).toContain('打印 / 另存为 PDF');
    expect(pageErrors(page)).toEqual([]);
  }, 120_000);
});
