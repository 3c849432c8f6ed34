/**
 * What other parties send is checked as strictly as what we send (issue 9).
 *
 * Two real nodes, CN and US, on SQLite files, serving over 127.0.0.1 and
 * federating with each other. US's log holds, besides a good report, entries
 * whose bodies fail their checks — signed with US's own key by core's
 * `signEntry` and appended with a LogWriter on US's store, as a buggy or
 * hostile US node would: a clear `incident.report` whose body is only
 * `{incident, kind}` (the body that used to kill CN's GET /v1/incidents for
 * good) and a sealed `hotline.message` whose opened body has no text. They
 * reach CN by the real push/pull routes. Proves: CN stores them as evidence
 * but does not index them; GET /v1/incidents answers 200 with the good
 * incident and reports the bad one as skipped; CN answers each with a signed
 * rejection (a receipt with status rejected, in CN's own log); the rejection
 * reaches US, whose GET /v1/deadlines shows the delivery as `rejected`.
 * And a node holding a bad report stored by an older version (no check on
 * ingest), and a damaged record whose bytes do not parse, still serves
 * /v1/incidents, /v1/deadlines and /v1/compliance, listing what it skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Envelope, type JsonValue, formatBase64, getCrypto, leafHash, newSigner, parseEntry, receiptRejection, sealBody, signCheckpoint, signEntry } from '@parley/core/node';
import { LogWriter, SqliteStore } from '@parley/store';
import type { FastifyInstance } from 'fastify';
import { Federator, ParleyNode, createServer, deadlineTracker, hashPassword, metaOf, peersOf, skippedEntries } from '../src/index.js';
import { makeAccord, makeParty, sampleReport } from './helpers/channel.js';
import { PASSWORD } from './helpers/http.js';

const parties = [makeParty('CN'), makeParty('US')];
const accord = makeAccord(parties);
const keysOf = (id: string) => parties.find((p) => p.id === id)!.keys;
let dir: string;
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const apps = new Map<string, FastifyInstance>();
const feds: Federator[] = [];
const urls: Record<string, string> = {};
/** US's log indexes of its good report and of its two bad entries. */
let good = -1;
let badReport = -1;
let badSealed = -1;

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Appends entries signed with US's key straight through a LogWriter on US's store, bypassing ParleyNode's body check. */
async function appendUnchecked(store: SqliteStore, drafts: { type: Envelope['type']; marking: Envelope['marking']; body: JsonValue }[]): Promise<number[]> {
  const log = keysOf('US').log;
  const signer = newSigner(log);
  const writer = await LogWriter.open(store, { origin: log.name, signCheckpoint: (cp) => signCheckpoint(cp, signer) });
  const sign = getCrypto().ed25519Signer(log.seed);
  const out: number[] = [];
  for (const d of drafts) {
    const body =
      d.marking === 'TLP:CLEAR'
        ? { clear: d.body }
        : { sealed: sealBody({ accordId, from: 'US', recipients: parties.map((p) => ({ party: p.id, publicKey: p.keys.hpke.publicKey })), body: d.body }) };
    const r = await writer.append((index, time) => {
      const env: Envelope = { v: 1, accord: accordId, from: { party: 'US', officer: 'mallory' }, to: ['CN'], seq: index, time: time.toISOString(), type: d.type, precedence: 'FLASH', marking: d.marking, refs: [], body };
      const e = signEntry(env, sign);
      return { bytes: e.bytes, meta: metaOf(e.entry, d.body) };
    });
    out.push(r.index);
  }
  await writer.close();
  return out;
}

let accordId = '';

async function login(id: string): Promise<Record<string, string>> {
  const res = await fetch(`${urls[id]}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alice', password: PASSWORD }) });
  expect(res.status).toBe(201);
  return { authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
}

async function getJson<T>(id: string, path: string): Promise<{ status: number; body: T }> {
  const res = await fetch(`${urls[id]}${path}`, { headers: await login(id) });
  return { status: res.status, body: (await res.json()) as T };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-bodies-'));
  const passwordHash = await hashPassword(PASSWORD);
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    stores.set(p.id, store);
    await store.putOfficer({ name: 'alice', role: 'officer', passwordHash, created: new Date().toISOString(), disabled: false });
  }
  // US writes a good report through its node, then (node closed) the bad entries around the node's check.
  let us = await ParleyNode.open({ accord, party: 'US', keys: keysOf('US'), store: stores.get('US')! });
  accordId = us.accord.id;
  good = (await us.sendReport('alice', { marking: 'TLP:CLEAR', report: sampleReport(), to: ['CN'] })).index;
  await us.close();
  const bad = await appendUnchecked(stores.get('US')!, [
    { type: 'incident.report', marking: 'TLP:CLEAR', body: { incident: 'US:2026-0666', kind: 'initial' } },
    { type: 'hotline.message', marking: 'TLP:AMBER', body: { lang: 'en' } },
  ]);
  badReport = bad[0]!;
  badSealed = bad[1]!;
  us = await ParleyNode.open({ accord, party: 'US', keys: keysOf('US'), store: stores.get('US')! });
  nodes.set('US', us);
  nodes.set('CN', await ParleyNode.open({ accord, party: 'CN', keys: keysOf('CN'), store: stores.get('CN')! }));
  for (const p of parties) {
    const app = await createServer({ node: nodes.get(p.id)!, store: stores.get(p.id)! });
    apps.set(p.id, app);
    urls[p.id] = await app.listen({ port: 0, host: '127.0.0.1' });
  }
  for (const p of parties) feds.push(await Federator.start(nodes.get(p.id)!, stores.get(p.id)!, peersOf(nodes.get(p.id)!, { urls, timeoutMs: 2000 }), { pollMs: 150, backoff: { baseMs: 40, maxMs: 300 } }));
}, 30_000);

afterAll(async () => {
  for (const f of feds) await f.stop();
  for (const a of apps.values()) await a.close();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** CN's receipts (own log) referencing US/index, with the rejection each carries. */
async function cnAnswers(index: number) {
  const refs = await stores.get('CN')!.referencing('US', index);
  return refs.filter((e) => e.meta.type === 'receipt').map((e) => ({ index: e.index, rejection: receiptRejection((parseEntry(e.bytes).body as { clear: unknown }).clear) }));
}

describe('bodies received from another party', () => {
  it('stores a bad body as evidence and answers it with a signed rejection, not a receipt', async () => {
    await waitFor('CN to answer all three of US entries', async () => (await cnAnswers(badSealed)).length > 0 && (await cnAnswers(badReport)).length > 0 && (await cnAnswers(good)).length > 0);
    expect(await stores.get('CN')!.received('US', badReport)).toBeDefined();
    expect((await stores.get('CN')!.received('US', badReport))!.meta.incident).toBeUndefined(); // not filed as a report
    expect(await cnAnswers(good)).toEqual([expect.objectContaining({ rejection: undefined })]);
    const [r1] = await cnAnswers(badReport);
    expect(r1!.rejection).toMatchObject({ code: 'ENTRY_MALFORMED' });
    expect(r1!.rejection!.reason).toContain('body.');
    // The sealed body was opened for CN, then checked.
    expect((await cnAnswers(badSealed))[0]!.rejection).toMatchObject({ code: 'ENTRY_MALFORMED' });
    // The rejection is an entry of CN's own log, signed by CN and referencing exactly the refused entry.
    const rej = (await stores.get('CN')!.entry(r1!.index))!;
    const e = parseEntry(rej.bytes);
    expect(e.from.party).toBe('CN');
    expect(e.refs).toEqual([{ party: 'US', index: badReport, hash: formatBase64((await stores.get('US')!.entry(badReport))!.leafHash) }]);
  });

  it('keeps GET /v1/incidents alive: the good incident listed, the bad report reported as skipped', async () => {
    const r = await getJson<{ items: { incident: string }[]; skipped?: { index: string; party: string; entry: number; code: string }[] }>('CN', '/v1/incidents');
    expect(r.status).toBe(200);
    expect(r.body.items.map((i) => i.incident)).toEqual(['US:2026-0007']);
    expect(r.body.skipped).toEqual([expect.objectContaining({ index: 'incidents', party: 'US', entry: badReport, code: 'ENTRY_MALFORMED' })]);
    expect(skippedEntries(nodes.get('CN')!).count('incidents')).toBe(1); // parley_index_skipped_entries{index="incidents"}
  });

  it('lets the sender see the rejection: its deliveries are rejected, settled, no ack due', async () => {
    type Item = { party: string; index: number; recipient: string; state: string; settled: boolean; ackDueAt?: string; rejection?: { code: string } };
    await waitFor('US to hold CN rejections', async () => {
      const t = deadlineTracker(nodes.get('US')!, stores.get('US')!);
      await t.refresh();
      return (await t.status('US', badReport, 'CN', Date.now()))?.state === 'rejected' && (await t.status('US', badSealed, 'CN', Date.now()))?.state === 'rejected';
    });
    const r = await getJson<{ items: Item[] }>('US', '/v1/deadlines?direction=sent');
    expect(r.status).toBe(200);
    const byIndex = new Map(r.body.items.filter((i) => i.recipient === 'CN').map((i) => [i.index, i]));
    expect(byIndex.get(badReport)).toMatchObject({ state: 'rejected', settled: true, rejection: { code: 'ENTRY_MALFORMED' } });
    expect(byIndex.get(badReport)!.ackDueAt).toBeUndefined();
    expect(byIndex.get(badSealed)).toMatchObject({ state: 'rejected', settled: true });
    expect(byIndex.get(good)!.state).not.toBe('rejected');
    // The receiver's side of the same delivery agrees.
    const cn = await getJson<{ items: Item[] }>('CN', '/v1/deadlines?direction=received');
    expect(cn.body.items.find((i) => i.party === 'US' && i.index === badReport)).toMatchObject({ state: 'rejected', settled: true });
  });
});

describe('a bad report stored before bodies were checked', () => {
  it('is skipped and reported by the index instead of failing it', async () => {
    // An older version stored it with its incident id in the metadata and a plain receipt.
    const ch = { accord, party: 'CN', keys: keysOf('CN') };
    const store = SqliteStore.open(join(dir, 'old-CN.sqlite'));
    const node = await ParleyNode.open({ ...ch, store });
    try {
      const us = parties.find((p) => p.id === 'US')!;
      const sign = getCrypto().ed25519Signer(us.keys.log.seed);
      const make = (seq: number, body: JsonValue) => {
        const env: Envelope = { v: 1, accord: node.accord.id, from: { party: 'US', officer: 'mallory' }, to: ['CN'], seq, time: new Date().toISOString(), type: 'incident.report', precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [], body: { clear: body } };
        const e = signEntry(env, sign);
        return { party: 'US', index: seq, leafHash: e.leafHash, bytes: e.bytes, meta: metaOf(e.entry, body), receivedAt: env.time };
      };
      // And one whose stored bytes do not even parse (a damaged record): every index skips it too.
      const junk = new TextEncoder().encode('not an entry');
      const damaged = { ...make(2, sampleReport({ incident: 'US:2026-0999' }) as unknown as JsonValue), bytes: junk, leafHash: leafHash(junk) };
      await store.ingest([make(0, { incident: 'US:2026-0666', kind: 'initial' }), make(1, sampleReport() as unknown as JsonValue), damaged]);
      const app = await createServer({ node, store });
      try {
        await store.putOfficer({ name: 'alice', role: 'officer', passwordHash: await hashPassword(PASSWORD), created: new Date().toISOString(), disabled: false });
        const session = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { name: 'alice', password: PASSWORD } });
        const r = await app.inject({ method: 'GET', url: '/v1/incidents', headers: { authorization: `Bearer ${session.json<{ token: string }>().token}` } });
        expect(r.statusCode, r.body).toBe(200);
        const body = r.json<{ items: { incident: string }[]; skipped?: { entry: number; code: string }[] }>();
        expect(body.items.map((i) => i.incident)).toEqual(['US:2026-0007']);
        expect(body.skipped).toEqual([expect.objectContaining({ entry: 0, code: 'ENTRY_MALFORMED' }), expect.objectContaining({ entry: 2 })]);
        // The deadline tracker (and compliance, built on it) skips the damaged one and says so.
        const d = await app.inject({ method: 'GET', url: '/v1/deadlines', headers: { authorization: `Bearer ${session.json<{ token: string }>().token}` } });
        expect(d.statusCode, d.body).toBe(200);
        const dl = d.json<{ items: { party: string; index: number }[]; skipped?: { party: string; entry: number; code: string }[] }>();
        expect(dl.items.filter((i) => i.party === 'US').map((i) => i.index)).toEqual([0, 1]);
        expect(dl.skipped).toEqual([expect.objectContaining({ party: 'US', entry: 2 })]);
        const c = await app.inject({ method: 'GET', url: '/v1/compliance', headers: { authorization: `Bearer ${session.json<{ token: string }>().token}` } });
        expect(c.statusCode, c.body).toBe(200);
      } finally {
        await app.close();
      }
    } finally {
      await node.close();
      await store.close();
    }
  });
});
