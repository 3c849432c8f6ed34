/**
 * Delivery state that is right (issue 9), over real HTTP on 127.0.0.1 with
 * real SQLite stores (files): US and CN, entries carried between them by the
 * nodes' ingest, as federation would.
 *
 *   - GET /v1/inbox?order=urgency applies `limit` after ordering: an old
 *     unacknowledged FLASH stays on top of newer ROUTINE traffic; receipts
 *     and heartbeats are listed only with all=1
 *   - one acknowledgement per entry (409 ALREADY_ACKNOWLEDGED, also for two
 *     racing requests); receipts, heartbeats and acks are not acknowledged
 *     (422 NOT_ACKNOWLEDGEABLE)
 *   - GET /v1/outbox: each sent entry carries its own receipt, acknowledgement
 *     (late or not) and reply, after more than 1,000 later deliveries
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { SqliteStore } from '@parley/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ParleyNode, createServer, hashPassword } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { OFFICERS, PASSWORD } from './helpers/http.js';

const nodes = new Map<string, ParleyNode>();
const stores = new Map<string, SqliteStore>();
const apps: FastifyInstance[] = [];
const base: Record<string, string> = {};
const tokens: Record<string, string> = {};

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-delivery-'));
  const parties = ['CN', 'US'].map(makeParty);
  // FLASH acks are due within 1 s, so an ack can be late within the test.
  const accord = makeAccord(parties, { deadlines: { receiptSeconds: 60, ackSeconds: { FLASH: 1, IMMEDIATE: 3600, PRIORITY: 7200, ROUTINE: 86400 } } });
  const passwordHash = await hashPassword(PASSWORD);
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    stores.set(p.id, store);
    const node = await ParleyNode.open({ accord, party: p.id, keys: p.keys, store });
    nodes.set(p.id, node);
    for (const [name, role] of Object.entries(OFFICERS)) await store.putOfficer({ name, role, passwordHash, created: new Date().toISOString(), disabled: false });
    const app = await createServer({ node, store });
    apps.push(app);
    base[p.id] = await app.listen({ port: 0, host: '127.0.0.1' });
    const r = await fetch(`${base[p.id]}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alice', password: PASSWORD }) });
    tokens[p.id] = ((await r.json()) as { token: string }).token;
  }
});
afterAll(async () => {
  for (const a of apps) await a.close();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
});

const node = (id: string) => nodes.get(id)!;

async function call<T = Record<string, unknown>>(party: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${tokens[party]}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${base[party]}${path}`, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, body: (await r.json()) as T };
}

/** Carries entries [from, to) of `from`'s log to `to` (what federation's push does), and the receipts back. */
async function deliver(from: string, to: string, start: number, end = node(from).treeSize): Promise<void> {
  const bytes: Uint8Array[] = [];
  for (let i = start; i < end; i++) {
    const e = (await node(from).entryBytes(i))!;
    const entry = JSON.parse(new TextDecoder().decode(e)) as { to: string[] };
    if (entry.to.includes(to)) bytes.push(e);
  }
  for (let i = 0; i < bytes.length; i += 256) {
    const r = await node(to).ingest(bytes.slice(i, i + 256));
    // Receipts go back to the sender.
    if (r.receipts.length > 0) await node(from).ingest(await Promise.all(r.receipts.map(async (s) => (await node(to).entryBytes(s.index))!)));
  }
}

interface Listed {
  party: string;
  index: number;
  entry: { type: string; precedence: string };
  deadlines?: { recipient: string; state: string; settled: boolean; overdue: string[]; ackDueAt?: string; receipt?: { index: number }; ack?: { index: number; officer: string; onTime: boolean; judgedAt: string; reply?: string; lang?: string } }[];
}

describe('the inbox, most urgent first', () => {
  it('keeps an old unacknowledged FLASH on top of newer ROUTINE traffic, and leaves receipts and heartbeats out', async () => {
    const us = node('US');
    const start = us.treeSize;
    const flash = await us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'old FLASH, never acknowledged' });
    for (let i = 0; i < 12; i++) await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `routine ${i}` });
    await us.heartbeat();
    await deliver('US', 'CN', start);

    const urgent = await call<{ items: Listed[]; next?: number }>('CN', 'GET', '/v1/inbox?order=urgency&limit=5');
    expect(urgent.status).toBe(200);
    expect(urgent.body.items).toHaveLength(5);
    expect(urgent.body.items[0]).toMatchObject({ party: 'US', index: flash.index, entry: { precedence: 'FLASH' } });
    expect(urgent.body.next).toBeUndefined();
    // Newest first, the FLASH is below the limit: that listing is what `parley inbox` cut before.
    const newest = await call<{ items: Listed[] }>('CN', 'GET', '/v1/inbox?limit=5');
    expect(newest.body.items.map((v) => v.index)).not.toContain(flash.index);

    // Machine traffic is not an officer's: no heartbeat, no receipt unless all=1.
    const types = async (q: string) => new Set((await call<{ items: Listed[] }>('CN', 'GET', `/v1/inbox?${q}`)).body.items.map((v) => v.entry.type));
    expect([...(await types('limit=200'))].sort()).toEqual(['hotline.message']);
    expect(await types('limit=200&all=1')).toContain('heartbeat');
    expect(await types('limit=200&order=urgency')).not.toContain('heartbeat');
    expect([...(await types('limit=200&type=heartbeat'))]).toEqual(['heartbeat']);
    expect((await call('US', 'GET', '/v1/inbox?limit=200')).body['items']).toEqual([]); // US holds only CN's receipts
    expect((await call<{ items: Listed[] }>('US', 'GET', '/v1/inbox?limit=200&all=1')).body.items.every((v) => v.entry.type === 'receipt')).toBe(true);
  });
});

describe('acknowledgements', () => {
  it('accepts one per entry, even from two racing requests', async () => {
    const s = await node('US').sendMessage('alice', { precedence: 'IMMEDIATE', marking: 'TLP:CLEAR', text: 'ack me once' });
    await deliver('US', 'CN', s.index);
    const size = node('CN').treeSize;
    const [a, b] = await Promise.all([call('CN', 'POST', `/v1/entries/US/${s.index}/ack`, { reply: 'first' }), call('CN', 'POST', `/v1/entries/US/${s.index}/ack`, { reply: 'second' })]);
    expect([a.status, b.status].sort()).toEqual([201, 409]);
    expect((a.status === 409 ? a : b).body).toMatchObject({ status: 409, code: 'ALREADY_ACKNOWLEDGED' });
    expect(node('CN').treeSize).toBe(size + 1);
    const acks = (await stores.get('CN')!.referencing('US', s.index)).filter((e) => e.meta.type === 'ack');
    expect(acks).toHaveLength(1);
    const again = await call('CN', 'POST', `/v1/entries/US/${s.index}/ack`, {});
    expect(again.body).toMatchObject({ status: 409, code: 'ALREADY_ACKNOWLEDGED' });
    expect(node('CN').treeSize).toBe(size + 1);
  });

  it('refuses to acknowledge a receipt, a heartbeat or an acknowledgement', async () => {
    const start = node('US').treeSize;
    const hb = await node('US').heartbeat();
    const m = await node('US').sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'to be acknowledged' });
    await deliver('US', 'CN', start);
    const cnStart = node('CN').treeSize;
    const ack = await call<{ index: number }>('CN', 'POST', `/v1/entries/US/${m.index}/ack`, {});
    expect(ack.status).toBe(201);
    await deliver('CN', 'US', cnStart);
    const receipt = (await stores.get('US')!.inbox({ limit: 50, type: 'receipt' }))[0]!;
    const cases = [
      ['CN', `/v1/entries/US/${hb.index}/ack`],
      ['US', `/v1/entries/CN/${receipt.index}/ack`],
      ['US', `/v1/entries/CN/${ack.body.index}/ack`],
    ] as const;
    for (const [party, path] of cases) {
      const size = node(party).treeSize;
      const r = await call(party, 'POST', path, {});
      expect(r.body, path).toMatchObject({ status: 422, code: 'NOT_ACKNOWLEDGEABLE' });
      expect(node(party).treeSize).toBe(size);
    }
  });
});

describe('the outbox, each entry with its own delivery', () => {
  it('shows an acknowledgement, late or not, and its reply after more than 1,000 later deliveries', async () => {
    const us = node('US');
    const late = await us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'acknowledged late' });
    const onTime = await us.sendMessage('alice', { precedence: 'IMMEDIATE', marking: 'TLP:AMBER', text: 'acknowledged on time' });
    await deliver('US', 'CN', late.index);
    // The FLASH ack deadline is 1 s: wait (bounded) until CN judges it overdue, then acknowledge.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const d = (await call<{ items: { state: string }[] }>('CN', 'GET', `/v1/deadlines?party=US&index=${late.index}`)).body.items[0];
      if (d?.state === 'overdue-ack') break;
      if (Date.now() > deadline) throw new Error(`not overdue in time: ${JSON.stringify(d)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const cnStart = node('CN').treeSize;
    expect((await call('CN', 'POST', `/v1/entries/US/${late.index}/ack`, { reply: '收到，正在核实', lang: 'zh-CN' })).status).toBe(201);
    expect((await call('CN', 'POST', `/v1/entries/US/${onTime.index}/ack`, { reply: 'Received' })).status).toBe(201);
    await deliver('CN', 'US', cnStart);

    // 1,100 later messages, none acknowledged: more open deliveries than GET /v1/deadlines lists.
    const from = us.treeSize;
    await Promise.all(Array.from({ length: 1100 }, (_, i) => us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `later ${i}` })));
    await deliver('US', 'CN', from);
    const window = (await call<{ items: { index: number }[] }>('US', 'GET', '/v1/deadlines?direction=sent&limit=1000')).body.items;
    expect(window.map((d) => d.index)).not.toContain(late.index); // the window the dashboard matched against

    const page = await call<{ items: Listed[] }>('US', 'GET', `/v1/outbox?type=hotline.message&before=${onTime.index + 1}&limit=2`);
    expect(page.status).toBe(200);
    const [b, a] = page.body.items;
    expect(a).toMatchObject({ index: late.index, deadlines: [{ recipient: 'CN', state: 'overdue-ack', settled: true, overdue: ['ack'], receipt: {}, ack: { officer: 'alice', onTime: false, reply: '收到，正在核实', lang: 'zh-CN' } }] });
    const d = a!.deadlines![0]!;
    expect(Date.parse(d.ack!.judgedAt)).toBeGreaterThan(Date.parse(d.ackDueAt!));
    expect(b).toMatchObject({ index: onTime.index, deadlines: [{ recipient: 'CN', state: 'acknowledged', settled: true, overdue: [], ack: { onTime: true, reply: 'Received' } }] });
    // An auditor sees the delivery, not the sealed reply.
    const audrey = await fetch(`${base['US']}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'audrey', password: PASSWORD }) });
    const at = ((await audrey.json()) as { token: string }).token;
    const seen = (await (await fetch(`${base['US']}/v1/outbox?type=hotline.message&before=${onTime.index + 1}&limit=2`, { headers: { authorization: `Bearer ${at}` } })).json()) as { items: Listed[] };
    expect(seen.items[1]!.deadlines![0]!.ack).toMatchObject({ officer: 'alice', onTime: false });
    expect(seen.items[1]!.deadlines![0]!.ack!.reply).toBeUndefined();
  }, 60_000);
});
