/**
 * The Evaluations page end to end in Chromium against two real nodes (CN,
 * US) on 127.0.0.1 with federation and the built dashboard. US's officer,
 * through US's node API as the CLI would: commits a pre-registered protocol,
 * then the evaluation report (salted claims from core's commitClaims,
 * following the protocol), announces the deployment three days and an hour
 * later, and reveals four claims to CN sealed (TLP:AMBER).
 *
 * On CN's dashboard (the recipient), in English and Chinese, at 1280×800
 * and 390×844: the list shows the commitment; its page shows the stage,
 * the domains, the digests, the protocol, the notice, the reveal with each
 * claim checked IN THE BROWSER as matching its committed digest, every
 * check of the evidence bundle passing, "Committed 3 days before
 * deployment", and what is provable, to whom. Nothing scrolls sideways on
 * the phone; axe finds nothing serious; printed, the page carries the
 * reveal's TLP:AMBER marking and leaves navigation and buttons out. A tampered evidence answer (the
 * route intercepted: a disclosure's value changed, the commitment's bytes
 * changed, another commitment's evidence served for this one) makes the
 * browser check fail with the reason shown. A second
 * deployment notice arrives live (SSE), without a reload.
 *
 * Screenshots: test/screenshots/evaluation{s,}-{desktop,phone}-{en,zh-CN}.png, evaluation-tampered-*.png.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitClaims, selectDisclosures, makeDisclosure, parseDisclosure } from '@parley/core/node';
import { DESKTOP, PHONE, SKIP_E2E, type TestBrowser, type Viewport, launchBrowser, login, pageErrors, setLang, shot } from './helpers/browser.js';
import { type Channel, startChannel, until } from './helpers/channel.js';
import { type TsaServer, startTsaServer } from '../../core/test/helpers/tsa.js';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const DAY = 86_400_000;

const CLAIMS = {
  model: { name: 'Frontier-9', version: '2026-11' },
  developer: 'Example Lab',
  evaluator: 'US Center for AI Standards and Innovation',
  suites: [{ name: 'cbrn-uplift', version: '3.1' }],
  redLines: { cbrn: { domain: 'CBRN', threshold: 'uplift at or above the expert baseline', outcome: 'below', score: 0.12 } },
  report: { sha256: 'ab'.repeat(32), name: 'frontier-9-pre-release.pdf' },
};
const REVEALED = ['model.version', 'evaluator', 'redLines.cbrn.outcome', 'redLines.cbrn.score'];

interface Submitted {
  index: number;
  leafHash: string;
}
interface View {
  commitment: { party: string; index: number; provenBy?: string };
  notices: unknown[];
  reveals: { party: string; index: number; addressed: boolean; revealed?: unknown[] }[];
  timeline?: { committedBefore: boolean; days: number };
}

async function axeSerious(page: Page): Promise<string[]> {
  await page.addScriptTag({ content: AXE_SOURCE });
  return page.evaluate(async () => {
    const w = window as unknown as { axe: { run(ctx: unknown, o: unknown): Promise<{ violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[] }> } };
    const r = await w.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, resultTypes: ['violations'] });
    return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `[${v.impact}] ${v.id} — ${v.help}: ${JSON.stringify(v.nodes.map((n) => n.target))}`);
  });
}

/** Elements reaching past the viewport, boxes scrolling sideways, the document wider than the viewport. */
async function sideways(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const out: string[] = [];
    const vw = window.innerWidth;
    if (document.documentElement.scrollWidth > vw) out.push(`document is ${document.documentElement.scrollWidth} px wide in ${vw} px`);
    const hidden = (el: Element) => {
      for (let e: Element | null = el; e !== null; e = e.parentElement) {
        const s = getComputedStyle(e);
        if (s.display === 'none' || s.visibility === 'hidden' || e.classList.contains('visually-hidden')) return true;
      }
      return false;
    };
    /** The part of `el` that can be seen: its box cut by every ancestor that clips (a visually hidden table header). */
    const visible = (el: Element) => {
      const r = el.getBoundingClientRect();
      let left = r.left;
      let right = r.right;
      for (let e = el.parentElement; e !== null; e = e.parentElement) {
        const st = getComputedStyle(e);
        if (st.overflowX === 'hidden' || st.overflowX === 'clip' || st.clip !== 'auto') {
          const c = e.getBoundingClientRect();
          left = Math.max(left, c.left);
          right = Math.min(right, c.right);
        }
      }
      return { left, right, width: right - left, height: r.height };
    };
    for (const el of document.querySelectorAll<HTMLElement>('main *:not(svg *)')) {
      const r = visible(el);
      if (r.width <= 0 || r.height === 0 || hidden(el)) continue;
      if (r.right > vw + 0.5 || r.left < -0.5) out.push(`<${el.tagName.toLowerCase()} class="${el.className}"> "${(el.textContent ?? '').trim().slice(0, 40)}" spans ${Math.round(r.left)}..${Math.round(r.right)}`);
      const ox = getComputedStyle(el).overflowX;
      if ((ox === 'auto' || ox === 'scroll') && el.scrollWidth > el.clientWidth + 1) out.push(`<${el.tagName.toLowerCase()} class="${el.className}"> scrolls sideways`);
    }
    return out.slice(0, 20);
  });
}

describe.skipIf(SKIP_E2E)('the Evaluations page in Chromium (two real nodes)', () => {
  let ch: Channel;
  let b: TestBrowser;
  let tsa: TsaServer;
  let protocol: Submitted;
  let commitment: Submitted;
  let reveal: Submitted;
  const deployedAt = new Date(Date.now() + 3 * DAY + 3_600_000).toISOString();

  beforeAll(async () => {
    // A real RFC 3161 authority (openssl ts) in the accord: the nodes stamp their checkpoints, and the
    // evidence bundles carry the tokens they hold.
    tsa = await startTsaServer();
    ch = await startChannel({ parties: ['CN', 'US'], heartbeatSeconds: 2, timestamping: { authorities: [tsa.authority], required: 1 } });
    const us = await ch.api('US');
    const cn = await ch.api('CN');
    const plan = commitClaims({ model: { name: 'Frontier-9' }, redLines: { cbrn: { domain: 'CBRN', threshold: 'uplift at or above the expert baseline' } } });
    protocol = await us.post<Submitted>('/v1/evaluations/commitments', { stage: 'protocol', domains: ['CBRN'], sd: plan.sd });
    const committed = commitClaims(CLAIMS);
    commitment = await us.post<Submitted>('/v1/evaluations/commitments', { stage: 'report', domains: ['CBRN', 'cyber', 'autonomy'], sd: committed.sd, protocol: { party: 'US', index: protocol.index } });
    // The notice waits until CN cosigned a checkpoint holding the commitment (so its time is proved).
    await until('a CN cosignature over the commitment', async () => ((await us.get<View>(`/v1/evaluations/US/${commitment.index}`)).commitment.provenBy !== undefined ? true : undefined), 30_000);
    await us.post('/v1/evaluations/notices', { commitment: { party: 'US', index: commitment.index }, model: { id: 'example-lab/frontier-9@2026-11', digest: `sha256:${'c3'.repeat(32)}` }, deployedAt, note: 'General availability through the public API.' });
    const disclosures = selectDisclosures(committed.disclosures, REVEALED).map((d) => d.encoded);
    reveal = await us.post<Submitted>('/v1/evaluations/reveals', { commitment: { party: 'US', index: commitment.index }, disclosures, to: ['CN'], marking: 'TLP:AMBER' });
    await until(
      'CN to hold the evaluation, its notice and the opened reveal, with the timeline proved',
      async () => {
        const v = await cn.get<View>(`/v1/evaluations/US/${commitment.index}`);
        return v.notices.length === 1 && v.reveals.some((r) => r.index === reveal.index && r.addressed) && v.timeline?.committedBefore === true ? v : undefined;
      },
      40_000,
    );
    // The reveal is proved once CN holds a cosigned checkpoint of US's log covering it (its evidence answers then).
    await until('the evidence of the reveal at CN', () => cn.get(`/v1/evaluations/US/${commitment.index}/evidence?reveal=US:${reveal.index}`), 30_000);
    b = await launchBrowser();
  }, 150_000);

  afterAll(async () => {
    await b?.close();
    await ch?.stop();
    await tsa?.close();
  });

  async function open(lang: 'en' | 'zh-CN', viewport: Viewport, bypassCSP = false): Promise<Page> {
    const ctx = await b.browser.newContext({ viewport, locale: lang, timezoneId: 'Asia/Shanghai', bypassCSP });
    const page = await ctx.newPage();
    page.setDefaultTimeout(20_000);
    await page.goto(`${ch.party('CN').url}/evaluations`);
    await login(page, ch.party('CN').officer);
    if (await page.getByTestId('language-switch').isVisible()) await setLang(page, lang);
    return page;
  }

  /** The verdict's kind once the browser check finished; a failure's words and failed checks are printed. */
  async function verdict(page: Page): Promise<string> {
    await page.locator('[data-testid=eval-verdict]:not([data-kind=pending])').waitFor();
    const kind = (await page.getByTestId('eval-verdict').getAttribute('data-kind')) ?? '';
    if (kind !== 'before') {
      const failed = await page.$$eval('[data-testid=eval-checks] > li[data-status=fail], [data-testid=eval-check-error]', (els) => els.map((e) => e.textContent));
      console.log(`verdict ${kind}: ${await page.getByTestId('eval-verdict').textContent()}\n  ${failed.join('\n  ')}`);
    }
    return kind;
  }

  for (const [lang, viewport, name] of [
    ['en', DESKTOP, 'desktop'],
    ['zh-CN', DESKTOP, 'desktop'],
    ['en', PHONE, 'phone'],
    ['zh-CN', PHONE, 'phone'],
  ] as const) {
    it(`lists the commitment and proves its timeline and reveal in the browser (${lang}, ${name})`, async () => {
      const page = await open(lang, viewport, true);
      const row = page.locator(`[data-testid=evaluation-row][data-key="US/${commitment.index}"]`);
      await row.waitFor();
      await expect(row.textContent()).resolves.toContain('example-lab/frontier-9@2026-11');
      await expect(page.locator(`[data-testid=evaluation-row][data-key="US/${protocol.index}"]`).count()).resolves.toBe(1);
      await page.waitForFunction(() => document.querySelector('.loading') === null);
      await shot(page, `evaluations-${name}-${lang}`);
      if (name === 'phone') expect(await sideways(page)).toEqual([]);
      expect(await axeSerious(page)).toEqual([]);

      await row.getByRole('link').click();
      expect(await verdict(page)).toBe('before');
      const line = (await page.getByTestId('eval-verdict').textContent()) ?? '';
      expect(line).toMatch(lang === 'en' ? /Committed 3 days before deployment/ : /在部署前 3 天作出承诺/);
      // Every check of the evidence bundle passed, in this browser.
      const checks = await page.$$eval('[data-testid=eval-checks] > li', (els) => els.map((e) => [e.getAttribute('data-check'), e.getAttribute('data-status')]));
      expect(checks.length).toBeGreaterThan(3);
      expect(checks.filter(([, s]) => s !== 'pass')).toEqual([]);
      // The reveal: each claim opened here against its committed digest.
      const rv = page.locator(`[data-testid=reveal][data-key="US/${reveal.index}"]`);
      await expect(rv.getAttribute('data-verified')).resolves.toBe('true');
      const claims = await rv.locator('[data-testid=claim]').evaluateAll((els) => els.map((e) => [e.getAttribute('data-path'), e.getAttribute('data-status'), e.querySelector('.claim-value')?.textContent]));
      expect(claims).toEqual([
        ['evaluator', 'match', CLAIMS.evaluator],
        ['model.version', 'match', '2026-11'],
        ['redLines.cbrn.outcome', 'match', 'below'],
        ['redLines.cbrn.score', 'match', '0.12'],
      ]);
      // The commitment in the clear, its protocol and its notice.
      const c = (await page.getByTestId('eval-commitment').textContent()) ?? '';
      for (const d of ['CBRN', 'cyber', 'autonomy']) expect(c).toContain(d);
      await expect(page.getByTestId('sd-count').textContent()).resolves.toMatch(/^\d+/);
      await expect(page.getByTestId('eval-protocol').getByRole('link').getAttribute('href')).resolves.toBe(`/evaluations/US/${protocol.index}`);
      await expect(page.getByTestId('notice').textContent()).resolves.toContain(`sha256:${'c3'.repeat(32)}`);
      // What is provable, to whom, in the page's language.
      const provable = (await page.getByTestId('eval-provability').textContent()) ?? '';
      expect(provable).toMatch(lang === 'en' ? /never/i : /永远|绝不|不能/);
      await page.waitForFunction(() => document.querySelector('.loading') === null);
      await shot(page, `evaluation-${name}-${lang}`);
      if (name === 'phone') expect(await sideways(page)).toEqual([]);
      expect(await axeSerious(page)).toEqual([]);
      if (name === 'desktop') {
        // On paper: the most restrictive marking shown (the reveal opened here is TLP:AMBER) heads and foots
        // every sheet; navigation and buttons are left out; the verdict and the claims stay.
        await page.emulateMedia({ media: 'print' });
        await expect(page.locator('.print-marking-top').textContent()).resolves.toBe('TLP:AMBER');
        expect(await page.locator('.sidenav').isVisible()).toBe(false);
        expect(await page.getByRole('button', { name: /Print|打印/ }).isVisible()).toBe(false);
        expect(await page.getByTestId('eval-verdict').isVisible()).toBe(true);
        expect(await page.getByTestId('claims-table').isVisible()).toBe(true);
        await shot(page, `evaluation-print-${lang}`);
        await page.emulateMedia({ media: 'screen' });
      }
      expect(pageErrors(page)).toEqual([]);
      await page.context().close();
    }, 150_000);
  }

  /** Rewrites the evidence answers with `edit`. */
  const tamper = (edit: (j: { commitment: { entry: string }; disclosures?: string[] }) => void) => async (route: Route) => {
    const res = await route.fetch();
    const j = (await res.json()) as Parameters<typeof edit>[0];
    edit(j);
    await route.fulfill({ response: res, json: j });
  };

  it('fails the browser check, with the reason shown, when the evidence is tampered with in flight', async () => {
    const page = await open('en', DESKTOP);
    const pattern = `**/v1/evaluations/US/${commitment.index}/evidence*`;
    // A revealed value changed (same salt and name, another score): its digest is not in the commitment.
    await page.route(
      pattern,
      tamper((j) => {
        const i = j.disclosures!.findIndex((d) => parseDisclosure(d).name === 'score');
        const d = parseDisclosure(j.disclosures![i]!);
        j.disclosures![i] = makeDisclosure(d.name, 0.01, d.salt).encoded;
      }),
    );
    await page.goto(`${ch.party('CN').url}/evaluations/US/${commitment.index}`);
    expect(await verdict(page)).toBe('failed');
    await expect(page.getByTestId('eval-failure-reason').textContent()).resolves.toMatch(/\S/);
    const rv = page.locator(`[data-testid=reveal][data-key="US/${reveal.index}"]`);
    await expect(rv.getAttribute('data-verified')).resolves.toBe('false');
    await expect(rv.getByTestId('reveal-result').textContent()).resolves.toContain('EVAL_DISCLOSURE_MISMATCH');
    await expect(page.getByTestId('eval-verdict').textContent()).resolves.not.toMatch(/before deployment/);
    await shot(page, 'evaluation-tampered-disclosure-en');
    await page.unroute(pattern);

    // The commitment's signed bytes changed (a domain renamed): its signature no longer holds.
    await page.route(
      pattern,
      tamper((j) => {
        const text = Buffer.from(j.commitment.entry, 'base64').toString('utf8');
        j.commitment.entry = Buffer.from(text.replace('"autonomy"', '"autonomx"')).toString('base64');
      }),
    );
    await page.reload();
    expect(await verdict(page)).toBe('failed');
    await expect(page.getByTestId('eval-failure-reason').textContent()).resolves.toMatch(/\S/);
    await shot(page, 'evaluation-tampered-commitment-en');
    await page.unroute(pattern);

    // The evidence of another commitment (the protocol: it verifies on its own) answered for this one: refused by position.
    await page.route(pattern, async (route) => {
      const res = await route.fetch({ url: `${ch.party('CN').url}/v1/evaluations/US/${protocol.index}/evidence` });
      await route.fulfill({ response: res });
    });
    await page.reload();
    expect(await verdict(page)).toBe('failed');
    await expect(page.getByTestId('eval-failure-reason').textContent()).resolves.toContain('commitment.position');
    await expect(page.locator('[data-testid=eval-checks] > li[data-check="commitment.position"]').getAttribute('data-status')).resolves.toBe('fail');
    await expect(page.getByTestId('eval-verdict').textContent()).resolves.not.toMatch(/before deployment/);
    await page.unroute(pattern);

    // Untampered again: proved.
    await page.reload();
    expect(await verdict(page)).toBe('before');
    await page.context().close();
  }, 150_000);

  it('checks RFC 3161 time stamps in the browser with pkijs, loaded on this page only, and shows a bad token\u2019s code', async () => {
    const page = await open('en', DESKTOP);
    const chunks: string[] = [];
    page.on('request', (r) => /\/assets\/tsa-[^/]*\.js$/.test(r.url()) && chunks.push(r.url()));
    await page.goto(`${ch.party('CN').url}/`);
    await page.getByTestId('officer').waitFor({ state: 'attached' });
    await page.goto(`${ch.party('CN').url}/evaluations`);
    await page.locator('[data-testid=evaluation-row]').first().waitFor();
    expect(chunks, 'the inbox and the list load no pkijs').toEqual([]);
    const cn = await ch.api('CN');
    // What the node's own evidence carries: where it has tokens, the browser verified them (every check passed above).
    const held = await until('a token of US\u2019s log at CN', () => cn.get<{ treeSize: number; timestamps: { authority: string; token: string }[] }>('/v1/logs/US/timestamps'), 30_000);
    expect(held.timestamps[0]!.authority).toBe(tsa.authority.name);
    // A token of another checkpoint (one bit of its signature flipped too), attached to the commitment's checkpoint:
    // pkijs parses it in the browser and core refuses it with its TSA code.
    const pattern = `**/v1/evaluations/US/${commitment.index}/evidence*`;
    await page.route(
      pattern,
      tamper((j) => {
        const der = Buffer.from(held.timestamps[0]!.token, 'base64');
        der[der.length - 2] = der[der.length - 2]! ^ 1;
        (j.commitment as unknown as { timestamps: unknown[] }).timestamps = [{ authority: held.timestamps[0]!.authority, token: der.toString('base64') }];
      }),
    );
    await page.goto(`${ch.party('CN').url}/evaluations/US/${commitment.index}`);
    expect(await verdict(page)).toBe('failed');
    const check = page.locator('[data-testid=eval-checks] > li[data-check="commitment.timestamps"]');
    await expect(check.getAttribute('data-status')).resolves.toBe('fail');
    await expect(check.textContent()).resolves.toMatch(/TSA_[A-Z_]+/);
    await expect(page.getByTestId('eval-failure-reason').textContent()).resolves.toContain('commitment.timestamps');
    expect(chunks.length, 'the Evaluations page loaded the time-stamp verifier').toBeGreaterThan(0);
    await shot(page, 'evaluation-tampered-timestamp-en');
    await page.unroute(pattern);
    await page.context().close();
  }, 150_000);

  it('is reached by keyboard (g then v) and shows a new deployment notice live, without a reload', async () => {
    const page = await open('en', DESKTOP);
    await page.goto(`${ch.party('CN').url}/`);
    await page.getByTestId('officer').waitFor({ state: 'attached' });
    await page.keyboard.press('g');
    await page.keyboard.press('v');
    await page.waitForURL((u) => u.pathname === '/evaluations');
    await page.locator(`[data-testid=evaluation-row][data-key="US/${commitment.index}"]`).getByRole('link').click();
    expect(await verdict(page)).toBe('before');
    await page.getByTestId('live-status').and(page.locator('[data-status=live]')).waitFor();
    const us = await ch.api('US');
    // US announces a second deployment: the notices' list grows on CN's open page.
    const notice2 = await us.post<Submitted>('/v1/evaluations/notices', { commitment: { party: 'US', index: commitment.index }, model: { id: 'example-lab/frontier-9-mini@2026-11', digest: `sha256:${'d4'.repeat(32)}` }, deployedAt });
    await page.locator(`[data-testid=notice][data-key="US/${notice2.index}"]`).waitFor({ timeout: 20_000 });
    await page.context().close();
  }, 150_000);
});
