/**
 * Alerts that are heard (issue 9): besides overdue deadlines and forks, a
 * node's signed webhooks fire when a FLASH or IMMEDIATE entry arrives and
 * when a link goes down or comes back up. A real HTTP receiver on 127.0.0.1
 * checks each signature with the accord, as an operator's receiver would;
 * CN runs as `parley serve` runs it (startRuntime), on a file store, with
 * a 1 s heartbeat interval so a link goes down within the test.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAccord } from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { ARRIVAL_WEBHOOK_EVENT, LINK_DOWN_WEBHOOK_EVENT, LINK_UP_WEBHOOK_EVENT, ParleyNode, type Runtime, WEBHOOK_ID_HEADER, startRuntime, verifyWebhook } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';

const hits: { id: string; party: string | undefined; body: Record<string, unknown> }[] = [];
let hook: ReturnType<typeof createHttpServer>;
let runtime: Runtime;
const nodes = new Map<string, ParleyNode>();
const stores: SqliteStore[] = [];
let accord: ReturnType<typeof makeAccord>;

async function waitFor<T>(what: string, get: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = get();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; webhooks so far: ${hits.map((h) => h.id).join(', ')}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
const hit = (id: string) => () => hits.find((h) => h.id === id);

beforeAll(async () => {
  const verified = () => verifyAccord(accord);
  hook = createHttpServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const sig = req.headers['parley-webhook-signature'];
      hits.push({ id: String(req.headers[WEBHOOK_ID_HEADER.toLowerCase()]), party: verifyWebhook(verified(), typeof sig === 'string' ? sig : undefined, body), body: JSON.parse(body.toString('utf8')) as Record<string, unknown> });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const dir = mkdtempSync(join(tmpdir(), 'parley-alerts-'));
  const parties = ['CN', 'US'].map(makeParty);
  accord = makeAccord(parties, { heartbeatSeconds: 1 });
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    stores.push(store);
    nodes.set(p.id, await ParleyNode.open({ accord, party: p.id, keys: p.keys, store }));
  }
  const cn = parties.find((p) => p.id === 'CN')!;
  runtime = await startRuntime({
    node: nodes.get('CN')!,
    store: stores[0]!,
    federation: { enabled: false },
    heartbeatMs: 0,
    webhook: { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`, baseDelayMs: 50 },
    webhookKey: cn.keys.log,
    alertPollMs: 50,
  });
});
afterAll(async () => {
  await runtime?.stop();
  for (const n of nodes.values()) await n.close();
  for (const s of stores) await s.close();
  await new Promise((r) => hook?.close(r));
});

describe('alert webhooks', () => {
  it('announce a link that was never up, FLASH and IMMEDIATE arrivals (not ROUTINE), the link coming up and going down — each signed by the node', async () => {
    const never = await waitFor('link down (never heard)', hit('link/US/down/never'));
    expect(never).toMatchObject({ party: 'CN', body: { type: LINK_DOWN_WEBHOOK_EVENT, node: 'CN', party: 'US', state: 'down', reason: 'heartbeat' } });

    const us = nodes.get('US')!;
    const routine = await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'routine' });
    const flash = await us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'FLASH: call now' });
    const immediate = await us.sendMessage('alice', { precedence: 'IMMEDIATE', marking: 'TLP:CLEAR', text: 'immediate' });
    const cn = nodes.get('CN')!;
    for (const s of [routine, flash, immediate]) await cn.ingest([(await us.entryBytes(s.index))!]);

    const f = await waitFor('FLASH arrival', hit(`arrival/US/${flash.index}`));
    expect(f).toMatchObject({ party: 'CN', body: { type: ARRIVAL_WEBHOOK_EVENT, party: 'US', index: flash.index, entry: { precedence: 'FLASH', type: 'hotline.message', marking: 'TLP:AMBER' } } });
    expect(JSON.stringify(f.body)).not.toContain('call now'); // metadata only, like the log
    await waitFor('IMMEDIATE arrival', hit(`arrival/US/${immediate.index}`));
    expect(hits.find((h) => h.id === `arrival/US/${routine.index}`)).toBeUndefined();
    // A re-push of the FLASH is the same arrival: announced once.
    await cn.ingest([(await us.entryBytes(flash.index))!]);

    const up = await waitFor('link up', hit('link/US/up/never'));
    expect(up).toMatchObject({ party: 'CN', body: { type: LINK_UP_WEBHOOK_EVENT, party: 'US', state: 'up' } });
    // No contact for two intervals (2 s): down again, with the time it went down.
    const down = await waitFor('link down again', () => hits.find((h) => h.id.startsWith('link/US/down/') && h.id !== 'link/US/down/never'), 10_000);
    expect(down.body).toMatchObject({ type: LINK_DOWN_WEBHOOK_EVENT, party: 'US', state: 'down', downAt: down.id.slice('link/US/down/'.length) });
    expect(hits.filter((h) => h.id === `arrival/US/${flash.index}`)).toHaveLength(1);
    expect(hits.every((h) => h.party === 'CN')).toBe(true);
  }, 30_000);
});
