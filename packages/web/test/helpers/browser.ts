/**
 * End-to-end harness, part 2: Debian's Chromium driven by playwright-core.
 *
 *     const b = await launchBrowser();            // throws when /usr/bin/chromium is absent (suites skip via SKIP_E2E outside CI)
 *     const page = await b.page(url);             // a fresh context (own storage) at 1280×800
 *     await login(page, ch.party('US').officer);
 *     await shot(page, 'inbox-en');               // test/screenshots/inbox-en.png
 *     await b.close();
 *
 * `CHROMIUM` overrides the executable path.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, type BrowserContext, type Page, chromium } from 'playwright-core';
import type { Login } from './channel.js';

export const CHROMIUM = process.env['CHROMIUM'] ?? '/usr/bin/chromium';
export const HAVE_CHROMIUM = existsSync(CHROMIUM);
/**
 * Suites that need Chromium skip only outside CI: with `CI` set (.ci/run
 * installs Chromium) a missing browser fails them loudly instead.
 */
export const SKIP_E2E = !HAVE_CHROMIUM && !process.env['CI'];
if (!HAVE_CHROMIUM) console.warn(`Chromium e2e suites ${SKIP_E2E ? 'SKIPPED' : 'will FAIL (CI is set)'}: no Chromium at ${CHROMIUM} (apt-get install chromium fonts-wqy-microhei)`);
export const SCREENSHOTS = resolve(fileURLToPath(new URL('.', import.meta.url)), '../screenshots');

export const LAUNCH_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

export interface Viewport {
  readonly width: number;
  readonly height: number;
}
export const DESKTOP: Viewport = { width: 1280, height: 800 };
export const TABLET: Viewport = { width: 820, height: 1180 };
/** A phone held upright (an iPhone 12–15's CSS viewport): the dashboard's one-column layout. */
export const PHONE: Viewport = { width: 390, height: 844 };

export interface TestBrowser {
  readonly browser: Browser;
  /** A new context (its own session storage) with one page at `url`. */
  page(url: string, o?: { viewport?: Viewport; lang?: 'en' | 'zh-CN'; timezoneId?: string }): Promise<Page>;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<TestBrowser> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: LAUNCH_ARGS });
  const contexts: BrowserContext[] = [];
  return {
    browser,
    async page(url, o = {}) {
      const ctx = await browser.newContext({ viewport: o.viewport ?? DESKTOP, locale: o.lang ?? 'en', timezoneId: o.timezoneId ?? 'Asia/Shanghai' });
      contexts.push(ctx);
      const page = await ctx.newPage();
      page.setDefaultTimeout(15_000);
      const errors: string[] = [];
      ERRORS.set(page, errors);
      page.on('pageerror', (e) => errors.push(`${e.name}: ${e.message}`));
      await page.goto(url);
      return page;
    },
    async close() {
      for (const c of contexts) await c.close().catch(() => undefined);
      await browser.close();
    },
  };
}

const ERRORS = new WeakMap<Page, string[]>();

/** Uncaught exceptions thrown in `page` so far (a React render error shows up here). */
export function pageErrors(page: Page): readonly string[] {
  return ERRORS.get(page) ?? [];
}

/** Logs in through the login form and waits for the app's shell. */
export async function login(page: Page, who: Login): Promise<void> {
  await page.getByLabel(/Officer name|值班员名称/).fill(who.name);
  await page.getByLabel(/^(Password|密码)$/).fill(who.password);
  await page.getByRole('button', { name: /^(Sign in|登录)$/ }).click();
  // Back on the page that asked for the session (the inbox by default). On a
  // phone the officer's name is behind the Menu button: present, not shown.
  await page.getByTestId('officer').waitFor({ state: 'attached' });
}

/**
 * Switches the UI language with the header's language switch. On a phone the
 * switch is behind the Menu button: it opens the menu, switches, and closes it.
 */
export async function setLang(page: Page, lang: 'en' | 'zh-CN'): Promise<void> {
  const sw = page.getByTestId('language-switch');
  const menu = page.getByTestId('menu-button');
  const opened = !(await sw.isVisible()) && (await menu.isVisible());
  if (opened) await menu.click();
  await sw.selectOption(lang);
  await page.waitForFunction((l) => document.documentElement.lang === l, lang);
  if (opened && (await menu.getAttribute('aria-expanded')) === 'true') await menu.click();
}

/** Saves a full-page screenshot as test/screenshots/<name>.png and returns its path. */
export async function shot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Serious and critical WCAG 2.1 A/AA violations on `page` (axe-core), as
 * "rule [targets]" lines. axe is injected as an inline script: open `page`
 * in a context made with `bypassCSP: true` (the node's CSP forbids inline scripts).
 */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    const w = window as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown }[] }[] }> } };
    const r = await w.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.id} ${JSON.stringify(v.nodes.map((n) => n.target))}`);
  });
}
