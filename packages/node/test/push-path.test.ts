/**
 * The FLASH push path (issue 14, "FLASH round trip"): a witnessed push's
 * work starts while its request nonce is being written, and nothing is
 * answered before that nonce is durable — so a push captured on the wire
 * and replayed to another process of the receiving party (which has not
 * seen the nonce in memory) is refused 401 by the store's answer and adds
 * nothing; the steps of a push are published on the diagnostics channel
 * `parley.delivery` in the order they happen (bench/node.mjs reads them).
 * Real SQLite files with the writer thread, real HTTP on 127.0.0.1.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore, withWriterThread } from '@parley/store';
import { DELIVERY_TRACE_CHANNEL, type DeliveryStep, ParleyNode, PeerClient, createServer, loadPushCursor, pushTo } from '../src/index.js';
import { openChannel } from './helpers/channel.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-push-path-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the push path', () => {
  it('a push replayed to a second process of the receiver is refused 401 from the stored nonce and adds nothing; the first took the message and answered its receipt', async () => {
    const ch = await openChannel(['US', 'CN'], dir);
    const file = join(dir, 'CN.sqlite');
    const cn = ch.parties.find((p) => p.id === 'CN')!;
    await ch.store('CN').close(); // CN runs below on its file, twice, as two `parley serve` processes would
    const open = async () => {
      const store = withWriterThread(SqliteStore.open(file), file);
      const node = await ParleyNode.open({ accord: ch.accord, party: 'CN', keys: cn.keys, store });
      const app = await createServer({ node, store });
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      return { store, node, url, async stop() { await app.close(); await node.close(); await store.close(); } };
    };
    const a = await open();
    const b = await open(); // opened before A records the push's nonce: B's memory does not hold it
    const us = ch.node('US');
    const sent = await us.sendMessage('alice', { to: ['CN'], precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'captured on the wire' });
    // Capture the request as it leaves (fetch hook), deliver it to A, then replay it byte for byte to B.
    let captured: { url: string; init: RequestInit; body: Uint8Array } | undefined;
    const recording = (async (input: string | URL | Request, init?: RequestInit) => {
      if (init?.method === 'POST' && String(input).endsWith('/fed/v1/bundle')) captured = { url: String(input), init, body: new Uint8Array(init.body as Uint8Array) };
      return fetch(input, init);
    }) as typeof fetch;
    const cursor = await loadPushCursor(ch.store('US'), 'CN');
    await pushTo(us, ch.store('US'), new PeerClient(us, 'CN', { url: a.url, fetch: recording }), cursor, 256);
    expect(captured).toBeDefined();
    expect(cursor.cosigned).toBe(us.treeSize);
    const held = await a.store.received('US', sent.index);
    expect(held).toBeDefined();
    const receipts = (await a.store.referencing('US', sent.index)).filter((e) => e.meta.type === 'receipt');
    expect(receipts).toHaveLength(1);
    const cnSize = await a.store.treeSize();

    const replay = await fetch(captured!.url.replace(a.url, b.url), { ...captured!.init, body: captured!.body });
    expect(replay.status).toBe(401);
    const problem = (await replay.json()) as { code: string; detail: string };
    expect(problem.code).toBe('REQUEST_UNAUTHENTICATED');
    expect(problem.detail).toMatch(/replay/);
    // Nothing new: no second receipt, no entry in CN's log.
    expect((await b.store.referencing('US', sent.index)).filter((e) => e.meta.type === 'receipt')).toHaveLength(1);
    expect(await b.store.treeSize()).toBe(cnSize);
    await b.stop();
    await a.stop();
    await us.close();
    await ch.store('US').close();
  }, 60_000);

  it('publishes the steps of a push on parley.delivery, in order, with the pushed checkpoint size', async () => {
    const ch = await openChannel(['US', 'CN'], mkdtempSync(join(dir, 'trace-')));
    const app = await createServer({ node: ch.node('CN'), store: ch.store('CN') });
    const url = await app.listen({ host: '127.0.0.1', port: 0 });
    const steps: DeliveryStep[] = [];
    const take = (s: unknown) => steps.push(s as DeliveryStep);
    subscribe(DELIVERY_TRACE_CHANNEL, take);
    try {
      const us = ch.node('US');
      await us.sendMessage('alice', { to: ['CN'], precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'traced' });
      const cursor = await loadPushCursor(ch.store('US'), 'CN');
      await pushTo(us, ch.store('US'), new PeerClient(us, 'CN', { url }), cursor, 256, { onReply: () => undefined });
      const size = us.treeSize;
      expect(steps.map((s) => s.step)).toEqual(['push.send', 'push.received', 'push.authenticated', 'push.verified', 'push.durable', 'push.answer']);
      for (const s of steps.filter((x) => x.step !== 'push.received' && x.step !== 'push.authenticated')) expect([s.log, s.size]).toEqual(['US', size]);
      for (let i = 1; i < steps.length; i++) expect(steps[i]!.t).toBeGreaterThanOrEqual(steps[i - 1]!.t);
      expect(steps[0]!.bytes).toBeGreaterThan(0);
    } finally {
      unsubscribe(DELIVERY_TRACE_CHANNEL, take);
      await app.close();
      await ch.close();
    }
  }, 60_000);
});
