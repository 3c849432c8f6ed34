/**
 * The unknown-type rule (core entry/registry.ts), over real sockets: an
 * entry of a type this node does not know is verified, stored, receipted
 * like any other, listed in the inbox (as unknown: the dashboard labels it),
 * never tracked for an acknowledgement — never silently skipped, never a
 * reason to refuse a whole bundle.
 *
 * Three real nodes, CN, EU and US, on SQLite files, serving over 127.0.0.1.
 * US's log holds entries of type `future.thing` — one clear, one sealed
 * (TLP:AMBER, so it must still open for each recipient) — followed by a
 * known `hotline.message`, all addressed to CN and EU, signed with US's key
 * by core's `signEntry` and appended with a LogWriter on US's store, as a
 * newer Parley would write them. No Federator runs, so each path is driven
 * alone: US PUSHES its tail to CN (one bundle holding all three: before,
 * CN refused the whole bundle), and EU PULLS US's log (before, the scan
 * skipped the unknown entries silently). Both then hold, receipt and list
 * all three; CN's receipts pushed back to US settle US's deliveries with no
 * acknowledgement due; acknowledging an unknown entry is refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Envelope, type JsonValue, getCrypto, newSigner, parseEntry, receiptRejection, sealBody, signCheckpoint, signEntry } from '@parley/core/node';
import { LogWriter, SqliteStore } from '@parley/store';
import type { FastifyInstance } from 'fastify';
import { ParleyNode, PeerClient, createServer, deadlineTracker, hashPassword, loadPullCursor, loadPushCursor, metaOf, pullFrom, pushTo } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { PASSWORD } from './helpers/http.js';

const IDS = ['CN', 'EU', 'US'] as const;
const parties = IDS.map(makeParty);
const accord = makeAccord(parties);
const keysOf = (id: string) => parties.find((p) => p.id === id)!.keys;
let dir: string;
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const apps = new Map<string, FastifyInstance>();
const urls: Record<string, string> = {};
/** US's log: [future.thing clear, future.thing sealed, hotline.message]. */
let written: number[] = [];

/** Appends entries signed with US's key straight through a LogWriter on US's store (the node would refuse to write an unknown type). */
async function appendAsNewerParley(store: SqliteStore, drafts: { type: string; marking: Envelope['marking']; body: JsonValue }[]): Promise<number[]> {
  const log = keysOf('US').log;
  const writer = await LogWriter.open(store, { origin: log.name, signCheckpoint: (cp) => signCheckpoint(cp, newSigner(log)) });
  const sign = getCrypto().ed25519Signer(log.seed);
  const accordId = nodes.get('CN')!.accord.id;
  const out: number[] = [];
  for (const d of drafts) {
    const body =
      d.marking === 'TLP:CLEAR'
        ? { clear: d.body }
        : { sealed: sealBody({ accordId, from: 'US', recipients: parties.map((p) => ({ party: p.id, publicKey: p.keys.hpke.publicKey })), body: d.body }) };
    const r = await writer.append((index, time) => {
      const env: Envelope = { v: 1, accord: accordId, from: { party: 'US', officer: 'alice' }, to: ['CN', 'EU'], seq: index, time: time.toISOString(), type: d.type, precedence: 'FLASH', marking: d.marking, refs: [], body };
      const e = signEntry(env, sign);
      return { bytes: e.bytes, meta: metaOf(e.entry, d.body) };
    });
    out.push(r.index);
  }
  await writer.close();
  return out;
}

async function login(id: string): Promise<Record<string, string>> {
  const res = await fetch(`${urls[id]}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alice', password: PASSWORD }) });
  expect(res.status).toBe(201);
  return { authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
}

async function call<T>(id: string, path: string, method = 'GET'): Promise<{ status: number; body: T }> {
  const res = await fetch(`${urls[id]}${path}`, { method, headers: { ...(await login(id)), ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) }, ...(method === 'POST' ? { body: '{}' } : {}) });
  return { status: res.status, body: (await res.json()) as T };
}

/** `at`'s receipts (own log) referencing US/index, with the rejection each carries. */
async function answers(at: string, index: number) {
  const refs = await stores.get(at)!.referencing('US', index);
  return refs.filter((e) => e.meta.type === 'receipt').map((e) => ({ index: e.index, rejection: receiptRejection((parseEntry(e.bytes).body as { clear: unknown }).clear) }));
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-unknown-type-'));
  const passwordHash = await hashPassword(PASSWORD);
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    stores.set(p.id, store);
    await store.putOfficer({ name: 'alice', role: 'officer', passwordHash, created: new Date().toISOString(), disabled: false });
  }
  nodes.set('CN', await ParleyNode.open({ accord, party: 'CN', keys: keysOf('CN'), store: stores.get('CN')! }));
  nodes.set('EU', await ParleyNode.open({ accord, party: 'EU', keys: keysOf('EU'), store: stores.get('EU')! }));
  written = await appendAsNewerParley(stores.get('US')!, [
    { type: 'future.thing', marking: 'TLP:CLEAR', body: { shape: 'from a newer Parley', n: [1, 2] } },
    { type: 'future.thing', marking: 'TLP:AMBER', body: { sealed: 'still opens for each recipient' } },
    { type: 'hotline.message', marking: 'TLP:CLEAR', body: { text: 'a known entry after the unknown ones' } },
  ]);
  nodes.set('US', await ParleyNode.open({ accord, party: 'US', keys: keysOf('US'), store: stores.get('US')! }));
  for (const p of parties) {
    const app = await createServer({ node: nodes.get(p.id)!, store: stores.get(p.id)! });
    apps.set(p.id, app);
    urls[p.id] = await app.listen({ port: 0, host: '127.0.0.1' });
  }
}, 30_000);

afterAll(async () => {
  for (const a of apps.values()) await a.close();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** What every recipient must show, whichever path delivered: held, receipted (not rejected), listed, no ack due, not acknowledgeable. */
async function expectHeldReceiptedListed(at: string): Promise<void> {
  for (const i of written) {
    expect((await stores.get(at)!.received('US', i))?.meta.type, `${at} holds US/${i}`).toBe(i === written[2] ? 'hotline.message' : 'future.thing');
    expect(await answers(at, i), `${at}'s receipt of US/${i}`).toEqual([expect.objectContaining({ rejection: undefined })]);
  }
  // The sealed one was opened for this party (bodies of unknown types are not checked, but they are opened).
  expect((await nodes.get(at)!.read('US', written[1]!, 'officer'))?.body).toEqual({ sealed: 'still opens for each recipient' });
  const inbox = await call<{ items: { party: string; index: number; entry: { type: string }; body?: unknown; state?: { receipt?: unknown } }[] }>(at, '/v1/inbox?party=US');
  expect(inbox.status).toBe(200);
  const listed = new Map(inbox.body.items.map((v) => [v.index, v]));
  expect(listed.get(written[0]!)).toMatchObject({ entry: { type: 'future.thing' }, body: { shape: 'from a newer Parley' }, state: { receipt: expect.anything() } });
  expect(listed.get(written[1]!)).toMatchObject({ entry: { type: 'future.thing' }, state: { receipt: expect.anything() } });
  expect(listed.get(written[2]!)).toMatchObject({ entry: { type: 'hotline.message' } });
  // Never tracked for an acknowledgement: no ack deadline, settled once receipted; the known message awaits one.
  const t = deadlineTracker(nodes.get(at)!, stores.get(at)!);
  await t.refresh();
  for (const i of written.slice(0, 2)) {
    const s = (await t.status('US', i, at, Date.now()));
    expect(s, `${at}'s delivery of US/${i}`).toMatchObject({ state: 'received', settled: true });
    expect(s!.ackDueAt).toBeUndefined();
  }
  expect((await t.status('US', written[2]!, at, Date.now()))?.ackDueAt).toBeDefined();
  const ack = await call<{ code: string }>(at, `/v1/entries/US/${written[0]}/ack`, 'POST');
  expect(ack.status).toBe(422);
  expect(ack.body.code).toBe('NOT_ACKNOWLEDGEABLE');
}

describe('entries of a type this node does not know', () => {
  it('arrive by PUSH in one bundle with a known entry: stored, receipted, listed, no ack due', async () => {
    const us = nodes.get('US')!;
    const peer = new PeerClient(us, 'CN', { url: urls['CN']!, timeoutMs: 5000 });
    const accepted = await pushTo(us, stores.get('US')!, peer, await loadPushCursor(stores.get('US')!, 'CN'), 64);
    expect(accepted).toBe(3);
    await expectHeldReceiptedListed('CN');
  });

  it('arrive by PULL: not skipped, stored, receipted, listed, no ack due', async () => {
    const eu = nodes.get('EU')!;
    const peer = new PeerClient(eu, 'US', { url: urls['US']!, timeoutMs: 5000 });
    const r = await pullFrom(eu, stores.get('EU')!, peer, await loadPullCursor(stores.get('EU')!, 'US'));
    expect(r.rejected).toEqual([]);
    expect(r.accepted).toBe(3);
    await expectHeldReceiptedListed('EU');
  });

  it('are receipted back to the sender, whose deliveries settle with no acknowledgement due', async () => {
    const cn = nodes.get('CN')!;
    await pushTo(cn, stores.get('CN')!, new PeerClient(cn, 'US', { url: urls['US']!, timeoutMs: 5000 }), await loadPushCursor(stores.get('CN')!, 'US'), 64);
    const t = deadlineTracker(nodes.get('US')!, stores.get('US')!);
    await t.refresh();
    for (const i of written.slice(0, 2)) {
      expect((await t.status('US', i, 'CN', Date.now()))).toMatchObject({ state: 'received', settled: true });
      expect((await t.status('US', i, 'CN', Date.now()))!.ackDueAt).toBeUndefined();
    }
    expect((await t.status('US', written[2]!, 'CN', Date.now()))).toMatchObject({ state: 'received', settled: false });
  });
});
