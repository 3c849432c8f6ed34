/**
 * The log explorer's witness and consistency checks in Chromium against two
 * real nodes (CN, US) on 127.0.0.1 with federation: an honest node's entries
 * verify and the page lists who cosigned (CN's witness for US's log, US's
 * for CN's); a node showing this browser a view of its own fails, with the
 * reason in English and Chinese —
 *
 *   - its witnessed checkpoints with the cosignature lines stripped,
 *   - a cosignature that does not verify,
 *   - a fork re-signed with the party's own log key (the realistic hostile
 *     view: the node holds that key, not the witnesses'), which also fails
 *     against the checkpoint this browser verified before (localStorage).
 *
 * The node's answers are altered in flight with playwright's route API, as
 * a hostile node would send them. Screenshots go to test/screenshots/.
 */
import { MemoryTree, formatBase64, leafHash, newSigner, proveInclusion, signCheckpoint } from '@parley/core/node';
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIP_E2E, type TestBrowser, launchBrowser, login, setLang, shot } from './helpers/browser.js';
import { type Channel, startChannel, until } from './helpers/channel.js';

const ALL_PASS = { accord: 'pass', key: 'pass', checkpoint: 'pass', witnesses: 'pass', consistency: 'pass', leaf: 'pass', entry: 'pass', inclusion: 'pass' };

async function stepStatuses(page: Page): Promise<Record<string, string>> {
  await page.getByTestId('verify-result').waitFor();
  return page.$$eval('[data-testid=verify-steps] > li', (els) => Object.fromEntries(els.map((e) => [e.getAttribute('data-step'), e.getAttribute('data-status')])));
}

/** The cosigners the page lists: party, size, counted. */
async function cosigners(page: Page): Promise<{ party: string | null; size: number; counted: string | null }[]> {
  return page.$$eval('[data-testid=cosigners] > li', (els) => els.map((e) => ({ party: e.getAttribute('data-party'), size: Number(e.getAttribute('data-size')), counted: e.getAttribute('data-counted') })));
}

/** Waits for a fresh verification result after `act` (the page re-renders the result when it is done). */
async function verifyAgain(page: Page): Promise<void> {
  const at = await page.getByTestId('verify-result').textContent();
  await page.getByTestId('verify-again').click();
  await page.waitForFunction((before) => document.querySelector('[data-testid=verify-result]')?.textContent !== before, at);
}

/** A JSON answer of the node rewritten in flight. */
const rewrite = (edit: (j: any) => unknown) => async (route: Route) => {
  const res = await route.fetch();
  const j = await res.json();
  await route.fulfill({ response: res, json: edit(j) ?? j });
};

describe.skipIf(SKIP_E2E)('the explorer checks witnesses and history in Chromium', () => {
  let ch: Channel;
  let b: TestBrowser;
  let page: Page;
  let cnIndex: number;
  let usIndex: number;
  let usOrigin: string;

  beforeAll(async () => {
    ch = await startChannel({ parties: ['CN', 'US'], heartbeatSeconds: 2 });
    const cn = await ch.api('CN');
    const us = await ch.api('US');
    cnIndex = (await cn.post<{ index: number }>('/v1/messages', { to: ['US'], precedence: 'PRIORITY', marking: 'TLP:GREEN', text: '见证测试。', lang: 'zh-CN' })).index;
    usIndex = (await us.post<{ index: number }>('/v1/messages', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'Witness test.', lang: 'en' })).index;
    usOrigin = ch.party('US').logKey.name;
    // Each log's checkpoint covering the message, cosigned by the other party's witness.
    await until('CN to cosign a checkpoint of US covering the message', async () => ((await us.get<{ notes: { treeSize: number }[] }>('/v1/logs/US/cosigned')).notes.some((n) => n.treeSize > usIndex) ? true : undefined));
    await until('US to cosign a checkpoint of CN covering the message', async () => ((await us.get<{ notes: { treeSize: number }[] }>('/v1/logs/CN/cosigned')).notes.some((n) => n.treeSize > cnIndex) ? true : undefined));
    b = await launchBrowser();
    page = await b.page(ch.party('US').url);
    page.on('pageerror', (e) => console.error('pageerror', e.message));
    await login(page, ch.party('US').officer);
  }, 120_000);

  afterAll(async () => {
    await b?.close();
    await ch?.stop();
  });

  it('verifies an honest node\u2019s entries and lists who cosigned, in English and Chinese', async () => {
    await page.goto(`${ch.party('US').url}/logs/US/${usIndex}`);
    expect(await stepStatuses(page)).toEqual(ALL_PASS);
    expect((await cosigners(page)).filter((c) => c.counted === 'true').map((c) => c.party)).toEqual(['CN']);
    await expect(page.getByTestId('verified-witnesses').textContent()).resolves.toMatch(/Cosigned by: CN · China AI Safety and Development Association/);
    await expect(page.getByTestId('witness-count').textContent()).resolves.toBe('1 of 1 required witnesses cosigned');
    // The first check of this log here: remembered for the next.
    await expect(page.locator('[data-step=consistency]').textContent()).resolves.toMatch(/first checkpoint of this log verified in this browser/);
    const kept = await page.evaluate(() => Object.entries(localStorage).filter(([k]) => k.startsWith('parley.verified.') && k.endsWith('.US')));
    expect(kept).toHaveLength(1);
    const before = (JSON.parse(kept[0]![1]) as { size: number }).size;
    await shot(page, 'explorer-witnesses-en');

    // CN's log as US holds it: US's own witness cosigned it.
    await page.goto(`${ch.party('US').url}/logs/CN/${cnIndex}`);
    expect(await stepStatuses(page)).toEqual(ALL_PASS);
    expect((await cosigners(page)).filter((c) => c.counted === 'true').map((c) => c.party)).toEqual(['US']);

    // Again after US's log has grown: the new checkpoint is proved to extend the one verified before.
    await until('US\u2019s log to grow and be cosigned again', async () => ((await (await ch.api('US')).get<{ notes: { treeSize: number }[] }>('/v1/logs/US/cosigned')).notes[0]!.treeSize > before ? true : undefined));
    await setLang(page, 'zh-CN');
    await page.goto(`${ch.party('US').url}/logs/US/${usIndex}`);
    expect(await stepStatuses(page)).toEqual(ALL_PASS);
    await expect(page.locator('[data-step=consistency]').textContent()).resolves.toContain(`此前在本浏览器核验的树大小${before}`);
    await expect(page.getByTestId('verified-witnesses').textContent()).resolves.toMatch(/联署方：CN · 中国人工智能发展与安全研究网络/);
    await shot(page, 'explorer-witnesses-zh-CN');
    await setLang(page, 'en');

    // On a phone: the cosigners wrap inside the step (screenshot to look at).
    const phone = await b.page(ch.party('US').url, { viewport: { width: 390, height: 844 } });
    await login(phone, ch.party('US').officer);
    await phone.goto(`${ch.party('US').url}/logs/US/${usIndex}`);
    expect(await stepStatuses(phone)).toEqual(ALL_PASS);
    expect(await phone.$eval('[data-testid=cosigners]', (el) => el.scrollWidth <= el.clientWidth)).toBe(true);
    await shot(phone, 'explorer-witnesses-phone');
    await phone.close();
  });

  it('fails a view whose witnessed checkpoints carry no cosignature, and one with a bad cosignature', async () => {
    const strip = (note: string) => note.split('\n').filter((l) => !l.startsWith('\u2014 ') || l.startsWith(`\u2014 ${usOrigin} `)).join('\n');
    await page.route('**/v1/logs/US/cosigned', rewrite((j: { notes: { note: string }[] }) => j.notes.forEach((n) => (n.note = strip(n.note)))));
    await page.goto(`${ch.party('US').url}/logs/US/${usIndex}`);
    expect(await stepStatuses(page)).toMatchObject({ checkpoint: 'pass', witnesses: 'fail', inclusion: 'pass' });
    expect(await page.getByTestId('verify-result').getAttribute('data-verified')).toBe('false');
    await expect(page.locator('[data-step=witnesses]').textContent()).resolves.toMatch(/QUORUM_NOT_MET/);
    await expect(page.getByTestId('verify-reason').textContent()).resolves.toMatch(/Not enough witnesses cosigned the checkpoint this node showed: 0 of 1 required/);
    await shot(page, 'explorer-no-witness-en');
    await setLang(page, 'zh-CN');
    await expect(page.getByTestId('verify-reason').textContent()).resolves.toMatch(/联署本节点所示检查点的见证方不足：所需 1 个，仅有 0 个/);
    await shot(page, 'explorer-no-witness-zh-CN');
    await setLang(page, 'en');
    await page.unroute('**/v1/logs/US/cosigned');

    // One bit of CN's cosignature flipped (after its key ID and timestamp).
    const flipCn = (note: string) =>
      note
        .split('\n')
        .map((l) => {
          if (!l.startsWith('\u2014 ') || l.startsWith(`\u2014 ${usOrigin} `)) return l;
          const [dash, name, sig] = l.split(' ');
          const bytes = Buffer.from(sig!, 'base64');
          bytes[40] = bytes[40]! ^ 1;
          return `${dash} ${name} ${bytes.toString('base64')}`;
        })
        .join('\n');
    await page.route('**/v1/logs/US/cosigned', rewrite((j: { notes: { note: string }[] }) => j.notes.forEach((n) => (n.note = flipCn(n.note)))));
    await verifyAgain(page);
    expect(await stepStatuses(page)).toMatchObject({ witnesses: 'fail' });
    await expect(page.locator('[data-step=witnesses]').textContent()).resolves.toMatch(/COSIGNATURE_INVALID/);
    await expect(page.getByTestId('verify-reason').textContent()).resolves.toMatch(/A witness cosignature on the checkpoint does not verify \(CN · China AI Safety and Development Association\)/);
    await page.unroute('**/v1/logs/US/cosigned');

    await verifyAgain(page);
    expect(await stepStatuses(page)).toEqual(ALL_PASS);
  });

  it('fails a fork re-signed with the party\u2019s own key: no witness vouches for it, and it is not the history this browser saw', async () => {
    // This browser has verified US's log before (so it remembers a checkpoint of it).
    await page.goto(`${ch.party('US').url}/logs/US/${usIndex}`);
    expect(await stepStatuses(page)).toEqual(ALL_PASS);
    // The hostile node's view: US's real entries up to the message, then one it never logged, under a checkpoint signed with US's log key.
    const us = ch.party('US');
    const leaves: Uint8Array[] = [];
    for (let i = 0; i <= usIndex; i++) leaves.push((await us.store.entry(i))!.bytes);
    const fork = new MemoryTree();
    for (const l of leaves) fork.append(leafHash(l));
    fork.append(leafHash(new TextEncoder().encode('{"an entry":"nobody else has seen"}')));
    const note = new TextDecoder().decode(signCheckpoint({ origin: usOrigin, treeSize: fork.size, rootHash: fork.root(), extensions: [] }, newSigner(us.logKey)));
    const forged = { party: 'US', index: usIndex, treeSize: fork.size, entry: formatBase64(leaves[usIndex]!), leafHash: formatBase64(leafHash(leaves[usIndex]!)), proof: proveInclusion(fork.size, usIndex, fork).map(formatBase64), checkpoint: note };
    await page.route('**/v1/logs/US/cosigned', (r) => r.fulfill({ json: { party: 'US', notes: [] } }));
    await page.route(`**/v1/logs/US/entries/${usIndex}*`, (r) => r.fulfill({ json: forged }));
    await page.goto(`${ch.party('US').url}/logs/US/${usIndex}`);
    const steps = await stepStatuses(page);
    // Everything the node alone can make passes; what it cannot — a witness, the history seen before — fails.
    expect(steps).toEqual({ ...ALL_PASS, witnesses: 'fail', consistency: 'fail' });
    expect(await page.getByTestId('verify-result').getAttribute('data-verified')).toBe('false');
    await expect(page.locator('[data-step=consistency]').textContent()).resolves.toMatch(/PROOF_INVALID|NOT_PROVED/);
    await expect(page.getByTestId('verify-reason').textContent()).resolves.toMatch(/Not enough witnesses cosigned/);
    await shot(page, 'explorer-fork-en');
    await page.unroute('**/v1/logs/US/cosigned');
    await page.unroute(`**/v1/logs/US/entries/${usIndex}*`);

    // The forged view was not remembered: the honest node verifies again.
    await verifyAgain(page);
    expect(await stepStatuses(page)).toEqual(ALL_PASS);
  });

  it('starts again when the witnessed checkpoint moved on between its requests (404 for the size it chose)', async () => {
    const asked: string[] = [];
    await page.route(`**/v1/logs/CN/entries/${cnIndex}*`, async (r) => {
      asked.push(new URL(r.request().url()).search);
      if (asked.length === 1) await r.fulfill({ status: 404, contentType: 'application/problem+json', json: { type: 'urn:parley:error:not-found', title: 'Not Found', status: 404, detail: 'no checkpoint of CN\u2019s log at that size is available', code: 'NOT_FOUND' } });
      else await r.continue();
    });
    await page.goto(`${ch.party('US').url}/logs/CN/${cnIndex}`);
    expect(await stepStatuses(page)).toEqual(ALL_PASS);
    // The 404 and the request that started again; a later checkpoint of CN's log (a heartbeat, a cosignature)
    // can make the page verify once more, which asks again — so at least two, each for a witnessed size.
    expect(asked.length).toBeGreaterThanOrEqual(2);
    expect(asked.every((q) => /^\?size=[1-9][0-9]*$/.test(q))).toBe(true);
    await page.unroute(`**/v1/logs/CN/entries/${cnIndex}*`);
  });

  it('explains an entry newer than every witnessed checkpoint, and verifies it once one covers it', async () => {
    // The node's witnessed checkpoints, as if none covered the entry yet (an older size claimed).
    await page.route('**/v1/logs/US/cosigned', rewrite((j: { notes: { note: string; treeSize: number }[] }) => j.notes.forEach((n) => ((n.note = n.note.replace(/\n(\d+)\n/, `\n${usIndex}\n`)), (n.treeSize = usIndex)))));
    await page.goto(`${ch.party('US').url}/logs/US/${usIndex}`);
    await page.getByText(/newer than the latest checkpoint of this log that a witness has cosigned/).waitFor();
    await page.unroute('**/v1/logs/US/cosigned');
    // The next checkpoint of US's log (a heartbeat), or CN's cosignature of it, retries.
    await page.waitForFunction(() => document.querySelector('[data-testid=verify-result]')?.getAttribute('data-verified') === 'true', undefined, { timeout: 20_000 });
  });
});
