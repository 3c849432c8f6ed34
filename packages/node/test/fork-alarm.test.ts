/**
 * Split views are caught, and a caught fork is the highest alarm. Three
 * parties on 127.0.0.1 (CN, EU, US) — but US is malicious: two US nodes with
 * the same keys and different stores behind two URLs, CN configured with
 * one ("view A") and EU with the other ("view B"). Proves: CN and EU compare
 * what they cosigned of US's log (gossip) and catch the split within one poll
 * interval; both end up holding a fork proof that verifyForkProof accepts;
 * GET /v1/forks lists it and its text downloads and verifies; US's new
 * entries are refused (ingest, push, pull) while the old ones stay readable;
 * link health shows US down with reason fork; the webhook fires once per
 * proof with an error log line. Also: an entry stored without its receipt
 * (a crash between the two) ends with exactly one receipt after redelivery
 * and under concurrent ingest; an offline bundle whose checkpoint forks from
 * the one cosigned is refused and kept as a fork proof.
 */
import { createServer as createHttpServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SignedEntry, VerificationError, leafHash, parseEntry, verifyAccord, verifyForkProof } from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import type { FastifyInstance } from 'fastify';
import {
  DeadlineTracker,
  DeadlineWatcher,
  Federator,
  ParleyNode,
  PeerClient,
  PeerError,
  type StructuredLogger,
  createServer,
  exportBundle,
  forksOf,
  importBundle,
  loadPushCursor,
  metaOf,
  peersOf,
  pushTo,
  unverifiedOf,
  verifyWebhook,
} from '../src/index.js';
import { openChannel } from './helpers/channel.js';
import { login, openHttpChannel } from './helpers/http.js';

const POLL = 300;
const OPTS = { pollMs: POLL, backoff: { baseMs: 40, maxMs: 300 } };

let dir: string;
let ch: Awaited<ReturnType<typeof openHttpChannel>>;
let usB: ParleyNode;
let usBStore: SqliteStore;
let appB: FastifyInstance;
const urls: Record<string, string> = {};
const feds = new Map<string, Federator>();
let watcher: DeadlineWatcher;
const hits: { headers: IncomingMessage['headers']; body: Buffer }[] = [];
let hook: ReturnType<typeof createHttpServer>;
const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
const logger: StructuredLogger = {
  info: (obj, msg) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
  warn: (obj, msg) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
  error: (obj, msg) => lines.push({ level: 'error', obj: obj as Record<string, unknown>, msg }),
};

/** CN sees US at view A (the channel's US node), EU at view B (a second node with US's keys). */
const PEER_URLS = (): Record<string, Record<string, string>> => ({ CN: { EU: urls['EU']!, US: urls['USa']! }, EU: { CN: urls['CN']!, US: urls['USb']! } });

async function startFederator(id: 'CN' | 'EU'): Promise<void> {
  feds.set(id, await Federator.start(ch.node(id), ch.store(id), peersOf(ch.node(id), { urls: PEER_URLS()[id]!, timeoutMs: 2000 }), OPTS));
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const witnessed = async (id: string) => (await ch.node(id).witness.latest(ch.node('US').party))?.treeSize ?? 0;
const receiptsOf = async (at: string, from: string, index: number) => (await ch.store(at).referencing(from, index)).filter((e) => e.meta.type === 'receipt');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-fork-'));
  ch = await openHttpChannel(['CN', 'EU', 'US'], { dir });
  const us = ch.parties.find((p) => p.id === 'US')!;
  usBStore = SqliteStore.open(join(dir, 'US-b.sqlite'));
  usB = await ParleyNode.open({ accord: ch.accord, party: 'US', keys: us.keys, store: usBStore });
  appB = await createServer({ node: usB, store: usBStore });
  for (const id of ['CN', 'EU']) urls[id] = await ch.app(id).listen({ port: 0, host: '127.0.0.1' });
  urls['USa'] = await ch.app('US').listen({ port: 0, host: '127.0.0.1' });
  urls['USb'] = await appB.listen({ port: 0, host: '127.0.0.1' });

  hook = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      hits.push({ headers: req.headers, body: Buffer.concat(chunks) });
      res.end();
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const cn = ch.parties.find((p) => p.id === 'CN')!;
  watcher = new DeadlineWatcher({
    tracker: new DeadlineTracker({ node: ch.node('CN'), store: ch.store('CN') }),
    store: ch.store('CN'),
    logger,
    webhook: { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`, key: cn.keys.log, baseDelayMs: 50 },
  });
  await watcher.start();
  await startFederator('CN');
  await startFederator('EU');
});

afterAll(async () => {
  for (const f of feds.values()) await f.stop();
  await watcher?.stop();
  await appB?.close();
  await usB?.close();
  await usBStore?.close();
  await ch?.close();
  await new Promise<void>((resolve) => (hook ? hook.close(() => resolve()) : resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('a receipt lost to a crash is written on the next delivery', () => {
  it('an entry stored without its receipt ends with exactly one receipt, through redelivery and concurrent ingest', async () => {
    await feds.get('CN')!.stop();
    await feds.get('EU')!.stop();
    const cn = ch.node('CN');
    // "Crash": CN stored EU's entry, but its receipt was never appended.
    const gap = async (text: string) => {
      const s = await ch.node('EU').sendMessage('li', { to: ['CN'], precedence: 'FLASH', marking: 'TLP:CLEAR', text });
      const bytes = (await ch.store('EU').entry(s.index))!.bytes;
      const e: SignedEntry = parseEntry(bytes);
      await ch.store('CN').ingest([{ party: 'EU', index: s.index, leafHash: leafHash(bytes), bytes, meta: metaOf(e, 'clear' in e.body ? e.body.clear : null), receivedAt: new Date().toISOString() }]);
      expect(await receiptsOf('CN', 'EU', s.index)).toHaveLength(0);
      return { index: s.index, bytes };
    };

    // Redelivery by push and pull (both run: EU pushes the bundle again, CN scans EU's log again).
    const a = await gap('held but never receipted');
    await startFederator('CN');
    await startFederator('EU');
    await waitFor('the receipt', async () => (await receiptsOf('CN', 'EU', a.index)).length > 0);
    const size = ch.node('EU').treeSize;
    await waitFor('both directions caught up', () => {
      const push = feds.get('EU')!.links().find((l) => l.party === 'CN')!;
      const pull = feds.get('CN')!.links().find((l) => l.party === 'EU')!;
      return push.pushedSize >= size && pull.scannedSize >= size;
    });
    await sleep(2 * POLL);
    expect(await receiptsOf('CN', 'EU', a.index)).toHaveLength(1);

    // Concurrent deliveries of a held, unreceipted entry: one receipt.
    await feds.get('CN')!.stop();
    await feds.get('EU')!.stop();
    const b = await gap('delivered three times at once');
    const results = await Promise.all([cn.ingest([b.bytes]), cn.ingest([b.bytes]), cn.ingest([b.bytes])]);
    expect(results.map((r) => r.duplicates)).toEqual([1, 1, 1]);
    expect(results.flatMap((r) => r.receipts)).toHaveLength(1);
    expect(await receiptsOf('CN', 'EU', b.index)).toHaveLength(1);
    expect((await cn.ingest([b.bytes])).receipts).toHaveLength(0);
    await startFederator('CN');
    await startFederator('EU');
  });
});

describe('a split view is caught and raises the alarm', () => {
  it('US shows CN one history and EU another: both hold a verifiable fork proof within one poll interval', async () => {
    const accord = ch.node('CN').accord;
    // View A (CN): 2 entries. View B (EU): 3 other entries. Both addressed to CN and EU.
    const old = [];
    // One pair of views, whatever the timing: EU is away while both views grow, so
    // gossip can carry neither A@1 to EU nor B@1 or B@2 to CN (each such pair is a
    // fork proof too, and the node rightly keeps and escalates every one).
    await feds.get('EU')!.stop();
    for (let i = 0; i < 2; i++) old.push(await ch.node('US').sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `view A ${i}` }));
    await waitFor('CN cosigned view A', async () => (await witnessed('CN')) === 2);
    for (let i = 0; i < 3; i++) await usB.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `view B ${i}` });
    await startFederator('EU');
    await waitFor('CN cosigned view A, EU view B', async () => (await witnessed('CN')) === 2 && (await witnessed('EU')) === 3);
    const t0 = Date.now();
    await waitFor('EU holds a fork proof', async () => (await forksOf(ch.store('EU'), 'US')).length > 0);
    const caught = Date.now() - t0;
    await waitFor('CN holds a fork proof', async () => (await forksOf(ch.store('CN'), 'US')).length > 0);
    const both = Date.now() - t0;
    // Caught at the next gossip round: within one poll interval (plus request time);
    // the holder of the smaller view gets the proof by gossip one round later at most.
    expect(caught).toBeLessThan(POLL + 700);
    expect(both).toBeLessThan(2 * POLL + 1000);

    for (const id of ['CN', 'EU']) {
      const [text] = await forksOf(ch.store(id), 'US');
      const v = verifyForkProof(text!, accord);
      expect(v).toMatchObject({ party: 'US', kind: 'prefix-conflict' });
      expect([v.a.checkpoint.treeSize, v.b.checkpoint.treeSize]).toEqual([2, 3]);
    }
    // Entries of view A that CN held before stay readable.
    for (const s of old) expect((await ch.node('CN').read('US', s.index, 'officer'))?.body).toEqual({ text: `view A ${s.index}` });
  });

  it('lists the proof at GET /v1/forks, serves its text for verify-fork, counts it, and shows the link down with reason fork', async () => {
    const app = ch.app('CN');
    const auth = await login(app, 'audrey'); // any role
    const r = await app.inject({ method: 'GET', url: '/v1/forks', headers: auth });
    expect(r.statusCode, r.body).toBe(200);
    const { forks } = r.json<{ forks: { id: string; party: string; kind: string; href: string; a: { treeSize: number }; b: { treeSize: number } }[] }>();
    expect(forks).toHaveLength(1);
    expect(forks[0]).toMatchObject({ party: 'US', kind: 'prefix-conflict', a: { treeSize: 2 }, b: { treeSize: 3 }, href: '/v1/forks/US/0' });
    const file = await app.inject({ method: 'GET', url: forks[0]!.href, headers: auth });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-type']).toMatch(/^application\/json/);
    expect(file.headers['content-disposition']).toBe('attachment; filename="fork-US-0.json"');
    expect(verifyForkProof(file.rawPayload, verifyAccord(ch.accord)).party).toBe('US');
    expect((await app.inject({ method: 'GET', url: '/v1/forks/US/1', headers: auth })).statusCode).toBe(404);
    expect((await app.inject({ method: 'GET', url: '/v1/forks' })).statusCode).toBe(401);

    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/^parley_forks_detected\{party="US"\} 1$/m);
    expect(metrics.body).toMatch(/^parley_forks_detected\{party="EU"\} 0$/m);

    const links = await app.inject({ method: 'GET', url: '/v1/links', headers: auth });
    expect(links.statusCode, links.body).toBe(200);
    const byParty = new Map(links.json<{ links: { party: string; state: string; reason?: string; forks?: number }[] }>().links.map((l) => [l.party, l]));
    expect(byParty.get('US')).toMatchObject({ state: 'down', reason: 'fork', forks: 1 });
    expect(byParty.get('EU')?.reason).not.toBe('fork');
    expect(feds.get('CN')!.links().find((l) => l.party === 'US')).toMatchObject({ forks: 1 });
  });

  it('escalates the fork once: an error log line and one signed parley.fork.detected webhook', async () => {
    const [text] = await forksOf(ch.store('CN'), 'US');
    await waitFor('the fork webhook', () => hits.some((h) => JSON.parse(h.body.toString('utf8')).type === 'parley.fork.detected'));
    await sleep(3 * POLL);
    watcher.notify();
    await watcher.idle();
    const forkHits = hits.filter((h) => JSON.parse(h.body.toString('utf8')).type === 'parley.fork.detected');
    expect(forkHits).toHaveLength(1);
    const event = JSON.parse(forkHits[0]!.body.toString('utf8')) as Record<string, unknown>;
    expect(event).toMatchObject({ type: 'parley.fork.detected', node: 'CN', party: 'US', kind: 'prefix-conflict', proof: text });
    expect(forkHits[0]!.headers['parley-webhook-id']).toBe(event['id']);
    expect(verifyWebhook(verifyAccord(ch.accord), forkHits[0]!.headers['parley-webhook-signature'] as string, forkHits[0]!.body)).toBe('CN');
    const errors = lines.filter((l) => l.level === 'error' && l.obj['event'] === 'parley.fork.detected');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.obj).toMatchObject({ id: event['id'], party: 'US' });
  });

  it('refuses US\u2019s new entries afterwards — at ingest, by push and by pull — while the old ones stay', async () => {
    const usA = ch.node('US');
    const s = await usA.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'after the fork' });
    const bytes = (await ch.store('US').entry(s.index))!.bytes;
    const err = await ch.node('CN').ingest([bytes]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VerificationError);
    expect(err).toMatchObject({ code: 'ENTRY_INVALID' });

    const peer = new PeerClient(usA, 'CN', { url: urls['CN']! });
    const pushed = await pushTo(usA, ch.store('US'), peer, await loadPushCursor(ch.store('US'), 'CN'), 256).catch((e: unknown) => e);
    expect(pushed).toBeInstanceOf(PeerError);
    // Refused at CN's witness, which cosigns no checkpoint of a log it holds a fork proof against.
    expect(pushed).toMatchObject({ code: 'PEER_REFUSED', status: 422, problemCode: 'LOG_FORKED' });

    // CN's pulls of US are quarantined too: wait (bounded) for a pull to be refused, then check nothing came in.
    await waitFor('a refused pull of US', () => feds.get('CN')!.links().find((l) => l.party === 'US')!.lastError?.code === 'FORK_DETECTED');
    expect(await ch.store('CN').received('US', s.index)).toBeUndefined();
    expect(await ch.store('CN').received('US', 0)).toBeDefined();
    // Every proof held was escalated exactly once.
    await watcher.idle();
    const ids = hits.map((h) => JSON.parse(h.body.toString('utf8')) as { type: string; id: string }).filter((e) => e.type === 'parley.fork.detected').map((e) => e.id);
    expect(new Set(ids).size).toBe(ids.length);
  });
});

describe('offline import against the witness state', () => {
  it('refuses a bundle whose checkpoint forks from the one cosigned, and keeps the fork proof', async () => {
    const c = await openChannel(['CN', 'US']);
    const forger = SqliteStore.open(':memory:');
    const fake = await ParleyNode.open({ accord: c.accord, party: 'US', keys: c.parties.find((p) => p.id === 'US')!.keys, store: forger });
    try {
      const cn = c.node('CN');
      const us = c.node('US');
      for (let i = 0; i < 3; i++) await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `real ${i}` });
      const first = await importBundle(cn, await exportBundle(us, c.store('US'), { to: 'CN' }));
      expect(first).toMatchObject({ accepted: 3, witness: 'cosigned' });
      expect((await cn.witness.latest(us.party))?.treeSize).toBe(3);
      expect((await importBundle(cn, await exportBundle(us, c.store('US'), { to: 'CN' }))).witness).toBe('witnessed');

      // A later bundle at another size: no consistency proof travels offline; kept for the next contact.
      await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'real 3' });
      const later = await importBundle(cn, await exportBundle(us, c.store('US'), { to: 'CN', since: 3 }));
      expect(later).toMatchObject({ accepted: 1, witness: 'deferred' });
      expect(await unverifiedOf(c.store('CN'), 'US')).toHaveLength(1);

      // The forger signs another history of the size CN cosigned.
      for (let i = 0; i < 3; i++) await fake.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `forged ${i}` });
      const before = cn.treeSize;
      const err = await importBundle(cn, await exportBundle(fake, forger, { to: 'CN' })).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(VerificationError);
      expect(err).toMatchObject({ code: 'PROOF_INVALID' });
      const proofs = await forksOf(c.store('CN'), 'US');
      expect(proofs).toHaveLength(1);
      expect(verifyForkProof(proofs[0]!, cn.accord)).toMatchObject({ party: 'US', kind: 'same-size' });
      expect(cn.treeSize).toBe(before); // nothing ingested, no receipt
      expect((await cn.read('US', 0, 'officer'))?.body).toEqual({ text: 'real 0' });

      // Quarantined: even US's honest next bundle is refused now.
      await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'real 4' });
      const refused = await importBundle(cn, await exportBundle(us, c.store('US'), { to: 'CN', since: 4 })).catch((e: unknown) => e);
      expect(refused).toMatchObject({ code: 'ENTRY_INVALID' });
      expect(await c.store('CN').received('US', 4)).toBeUndefined();
    } finally {
      await fake.close();
      await forger.close();
      await c.close();
    }
  });
});
