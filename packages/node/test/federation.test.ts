/**
 * Federation over real sockets: three nodes (CN, EU, US) listening on
 * 127.0.0.1, each with a Federator whose peers are the others' URLs.
 * Proves: a FLASH message from US reaches CN and EU, each receipts it once
 * and the receipts come back to US; CN's witness state for US's log moves
 * with cosignatures that verify; requests without, with a bad, a replayed,
 * a skewed or a foreign Parley-Signature are 401 and store nothing; a
 * partition (CN down) heals with every entry delivered and receipted
 * exactly once; a lost push is healed by the pull; a pull whose entries do
 * not match the cosigned checkpoint ingests nothing; a pushed checkpoint
 * that forks from the cosigned one is refused and kept as a fork proof.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REQUEST_SIGNATURE_HEADER,
  VerifierSet,
  appendSignatures,
  parseAddCheckpointResponse,
  parseAddCheckpointRequest,
  decodeUtf8,
  formatAddCheckpointRequest,
  generateSignerKey,
  getCrypto,
  makeBundle,
  newSigner,
  openWitnessedCheckpoint,
  parseCheckpoint,
  parseNote,
  signCheckpoint,
  signRequest,
  verifyForkProof,
} from '@parley/core/node';
import type { FastifyInstance } from 'fastify';
import { Federator, PeerClient, TAIL_PUSH_CONTENT_TYPE, WITNESSED_PUSH_CONTENT_TYPE, createServer, exportBundle, formatWitnessedPush, forksOf, parseWitnessedPush, peersOf, pushTo, loadPushCursor, receiveWitnessedPush } from '../src/index.js';
import { login, openHttpChannel } from './helpers/http.js';

const IDS = ['CN', 'EU', 'US'] as const;
let dir: string;
let ch: Awaited<ReturnType<typeof openHttpChannel>>;
const urls: Record<string, string> = {};
const apps = new Map<string, FastifyInstance>();
const feds = new Map<string, Federator>();
/** Test switch: US's pushes of bundles to CN vanish on the way (the request is never sent). */
let dropUsPushesToCn = false;
/** Test switch: entry bundles CN fetches from US arrive with one byte changed. */
let tamperCnPulls = false;

const OPTS = { pollMs: 150, backoff: { baseMs: 40, maxMs: 300 } };

function fetchOf(id: string): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = String(input);
    if (id === 'US' && dropUsPushesToCn && url.startsWith(urls['CN']!) && url.endsWith('/fed/v1/bundle')) throw new TypeError('fetch failed (dropped by the test)');
    const res = await fetch(input, init);
    if (id === 'CN' && tamperCnPulls && url.startsWith(urls['US']!) && url.includes('/log/tile/entries/')) {
      const body = new Uint8Array(await res.arrayBuffer());
      const at = body.length - 20; // inside the last (newest) entry's JSON: its leaf hash changes
      body[at] = body[at]! ^ 0x01;
      return new Response(body, { status: res.status, headers: res.headers });
    }
    return res;
  }) as typeof fetch;
}

async function startFederator(id: string): Promise<void> {
  feds.set(id, await Federator.start(ch.node(id), ch.store(id), peersOf(ch.node(id), { urls, timeoutMs: 2000, fetch: fetchOf(id) }), OPTS));
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const origin = (id: string) => ch.node(id).origin;
const keyOf = (id: string) => ch.parties.find((p) => p.id === id)!;
const send = (text: string, precedence: 'FLASH' | 'ROUTINE' = 'ROUTINE') => ch.node('US').sendMessage('alice', { precedence, marking: 'TLP:AMBER', text });

async function receipts(at: string, from: string, index: number) {
  return (await ch.store(at).referencing(from, index)).filter((e) => e.meta.type === 'receipt');
}

/** US's client of CN that records the path of every request it sends. */
function countingPeer(): { peer: PeerClient; paths: string[] } {
  const paths: string[] = [];
  const counting = (async (input: string | URL | Request, init?: RequestInit) => {
    paths.push(new URL(String(input)).pathname);
    return fetch(input, init);
  }) as typeof fetch;
  return { peer: new PeerClient(ch.node('US'), 'CN', { url: urls['CN']!, fetch: counting }), paths };
}

async function post(id: string, path: string, body: Uint8Array, headers: Record<string, string>) {
  const res = await fetch(`${urls[id]}${path}`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', ...headers }, body });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-fed-'));
  ch = await openHttpChannel(IDS, { dir });
  for (const id of IDS) {
    apps.set(id, ch.app(id));
    urls[id] = await ch.app(id).listen({ port: 0, host: '127.0.0.1' });
  }
  for (const id of IDS) await startFederator(id);
});

afterAll(async () => {
  for (const f of feds.values()) await f.stop();
  for (const a of apps.values()) await a.close();
  await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('three nodes federating over 127.0.0.1', () => {
  it('delivers a FLASH message from US to CN and EU; each receipts it once and the receipts reach US', async () => {
    const s = await send('Model exfiltration attempt on the shared cluster; call now.', 'FLASH');
    for (const id of ['CN', 'EU']) {
      await waitFor(`${id} holds US/${s.index}`, async () => (await ch.store(id).received('US', s.index)) !== undefined);
      const view = await ch.node(id).read('US', s.index, 'officer');
      expect(view?.body).toMatchObject({ text: expect.stringContaining('exfiltration') });
    }
    for (const id of ['CN', 'EU']) {
      await waitFor(`${id}'s receipt at US`, async () => {
        const r = await receipts(id, 'US', s.index);
        return r.length === 1 && (await ch.store('US').received(id, r[0]!.index)) !== undefined;
      });
      expect(await receipts(id, 'US', s.index)).toHaveLength(1);
    }
    const inbox = await ch.node('CN').inbox({ limit: 50, party: 'US' }, 'officer');
    expect(inbox.filter((v) => v.index === s.index)).toHaveLength(1);
  });

  it("advances CN's witness state for US's log with cosignatures, and US keeps CN's cosignature on its checkpoint", async () => {
    const before = (await ch.node('CN').witness.latest('US'))?.treeSize ?? 0;
    const s = await send('witness me');
    await waitFor("CN's witness at US's new size", async () => ((await ch.node('CN').witness.latest('US'))?.treeSize ?? 0) > s.index);
    const held = (await ch.node('CN').witness.latest('US'))!;
    expect(held.treeSize).toBeGreaterThan(before);
    const w = openWitnessedCheckpoint(held.note, new VerifierSet([keyOf('US').party.logKey]), [keyOf('CN').party.logKey], { quorum: 1, origin: origin('US') });
    expect(w.checkpoint.treeSize).toBe(held.treeSize);
    expect(w.cosignatures[0]!.timestamp).toBeGreaterThan(0);

    await waitFor('US holds a CN-cosigned checkpoint', async () => ((await ch.store('US').ownCosigned('CN'))?.treeSize ?? 0) > s.index);
    const kept = (await ch.store('US').ownCosigned('CN'))!;
    const mine = openWitnessedCheckpoint(kept.note, new VerifierSet([keyOf('US').party.logKey]), [keyOf('CN').party.logKey], { quorum: 1 });
    expect(mine.checkpoint.treeSize).toBe(kept.treeSize);
    const link = feds.get('US')!.links().find((l) => l.party === 'CN')!;
    expect(link).toMatchObject({ consecutiveFailures: 0, forks: 0 });
    expect(link.lastContact).toBeDefined();
    expect(link.cosignedByPeer?.size).toBeGreaterThan(s.index);
    // Link health judges the checkpoints federation brings to our witness: CN's, cosigned by US.
    const health = await apps.get('US')!.inject({ method: 'GET', url: '/v1/links', headers: await login(apps.get('US')!, 'audrey') });
    const cn = health.json<{ links: { party: string; state: string; checkpoint?: string; lastCosigned?: { size: number } }[] }>().links.find((l) => l.party === 'CN');
    expect(cn).toMatchObject({ state: 'up', checkpoint: 'up', lastCosigned: { size: (await ch.node('US').witness.latest('CN'))!.treeSize } });
  });

  it('refuses requests without, with a bad, replayed, skewed or foreign Parley-Signature (401) and stores nothing', async () => {
    await feds.get('US')!.stop();
    await feds.get('CN')!.stop();
    try {
      const us = ch.node('US');
      const s = await send('for CN only by hand');
      const bundle = await exportBundle(us, ch.store('US'), { to: 'CN', since: s.index });
      const path = '/fed/v1/bundle';
      const now = Date.now() / 1000;
      const stranger = generateSignerKey('stranger.parley.test/log');
      const signed = (o: { from?: string; at?: number; key?: Uint8Array; body?: Uint8Array } = {}) =>
        signRequest({ accordId: us.accord.id, from: o.from ?? 'US', to: 'CN', method: 'POST', path, body: o.body ?? bundle, signer: getCrypto().ed25519Signer(o.key ?? keyOf('US').keys.log.seed), now: o.at ?? now });
      const refused = async (headers: Record<string, string>, code: string) => {
        const r = await post('CN', path, bundle, headers);
        expect(r.status, r.text).toBe(code === 'REQUEST_SIGNATURE_MALFORMED' ? 400 : 401);
        expect(r.type).toMatch(/^application\/problem\+json/);
        expect(JSON.parse(r.text)).toMatchObject({ code });
      };
      await refused({}, 'REQUEST_UNAUTHENTICATED');
      await refused({ [REQUEST_SIGNATURE_HEADER]: 'party=US, nonsense' }, 'REQUEST_SIGNATURE_MALFORMED');
      await refused({ [REQUEST_SIGNATURE_HEADER]: signed({ key: stranger.seed }) }, 'REQUEST_UNAUTHENTICATED'); // a key not in the accord, claiming US
      await refused({ [REQUEST_SIGNATURE_HEADER]: signed({ from: 'XX', key: stranger.seed }) }, 'REQUEST_UNAUTHENTICATED'); // a party not in the accord
      await refused({ [REQUEST_SIGNATURE_HEADER]: signed({ from: 'CN', key: keyOf('CN').keys.log.seed }) }, 'REQUEST_UNAUTHENTICATED'); // CN to itself
      await refused({ [REQUEST_SIGNATURE_HEADER]: signed({ at: now - 120 }) }, 'REQUEST_UNAUTHENTICATED'); // skewed clock
      await refused({ [REQUEST_SIGNATURE_HEADER]: signed({ body: new Uint8Array([1]) }) }, 'REQUEST_UNAUTHENTICATED'); // signed another body
      expect(await ch.store('CN').received('US', s.index)).toBeUndefined();

      // A signed add-checkpoint with a bad signature is refused too; a good one is served.
      const note = (await us.latestCheckpoint())!;
      const size = parseCheckpoint(parseNote(note).text).treeSize;
      const held = (await ch.node('CN').witness.latest('US'))?.treeSize ?? 0;
      const addBody = formatAddCheckpointRequest({ oldSize: held, proof: held > 0 && held < size ? await us.consistencyProof(held, size) : [], checkpointNote: note });
      const addPath = '/witness/add-checkpoint';
      const bad = signRequest({ accordId: us.accord.id, from: 'US', to: 'CN', method: 'POST', path: addPath, body: addBody, signer: getCrypto().ed25519Signer(stranger.seed), now });
      expect((await post('CN', addPath, addBody, { 'content-type': 'text/plain', [REQUEST_SIGNATURE_HEADER]: bad })).status).toBe(401);
      expect(((await ch.node('CN').witness.latest('US'))?.treeSize ?? 0)).toBe(held);
      const good = us.signRequest({ to: 'CN', method: 'POST', path: addPath, body: addBody });
      expect((await post('CN', addPath, addBody, { 'content-type': 'text/plain', [REQUEST_SIGNATURE_HEADER]: good })).status).toBe(200);

      // The properly signed push is accepted once; its replay is refused.
      const header = us.signRequest({ to: 'CN', method: 'POST', path, body: bundle });
      const ok = await post('CN', path, bundle, { [REQUEST_SIGNATURE_HEADER]: header });
      expect(ok.status, ok.text).toBe(200);
      expect(JSON.parse(ok.text)).toMatchObject({ from: 'US', checkpointSize: size, accepted: 1, duplicates: 0, receipts: [{ index: expect.any(Number) }] });
      await refused({ [REQUEST_SIGNATURE_HEADER]: header }, 'REQUEST_UNAUTHENTICATED');
      expect(await receipts('CN', 'US', s.index)).toHaveLength(1);
    } finally {
      await startFederator('US');
      await startFederator('CN');
    }
  });

  it('answers 409 with the cosigned size when a pushed checkpoint is not the one witnessed, and the pusher recovers', async () => {
    await feds.get('US')!.stop();
    try {
      const s = await send('after a 409');
      // A client that believes CN cosigned nothing of US's log learns the size from 409s and delivers.
      const peer = new PeerClient(ch.node('US'), 'CN', { url: urls['CN']! });
      const cursor = { ...(await loadPushCursor(ch.store('US'), 'CN')), cosigned: 0 };
      await pushTo(ch.node('US'), ch.store('US'), peer, cursor, 256);
      expect(cursor.cosigned).toBe(ch.node('US').treeSize);
      await waitFor('CN holds it', async () => (await ch.store('CN').received('US', s.index)) !== undefined);
    } finally {
      await startFederator('US');
    }
  });

  it('pushes a new checkpoint and its entries in ONE request (a witnessed push): CN cosigns, ingests and receipts', async () => {
    // CN's own pull would witness US's checkpoint meanwhile.
    await feds.get('US')!.stop();
    await feds.get('CN')!.stop();
    try {
      const s = await send('one request per hop', 'FLASH');
      const { peer, paths } = countingPeer();
      const cursor = await loadPushCursor(ch.store('US'), 'CN');
      expect(cursor.cosigned).toBeLessThan(ch.node('US').treeSize);
      await pushTo(ch.node('US'), ch.store('US'), peer, cursor, 256);
      expect(paths).toEqual(['/fed/v1/bundle']);
      expect(cursor.cosigned).toBe(ch.node('US').treeSize);
      expect((await ch.node('CN').witness.latest('US'))?.treeSize).toBe(ch.node('US').treeSize);
      expect(await ch.store('CN').received('US', s.index)).toBeDefined();
      expect(await receipts('CN', 'US', s.index)).toHaveLength(1);
      const kept = (await ch.store('US').ownCosigned('CN'))!;
      expect(kept.treeSize).toBe(ch.node('US').treeSize);
      openWitnessedCheckpoint(kept.note, new VerifierSet([keyOf('US').party.logKey]), [keyOf('CN').party.logKey], { quorum: 1 });
    } finally {
      await startFederator('US');
      await startFederator('CN');
    }
  });

  it("brings CN's receipt back on the answer to US's push (a reply): one request in all; US witnesses CN's checkpoint and ingests the receipt", async () => {
    // US pushes by hand; CN's federator runs, as it builds the reply.
    await feds.get('US')!.stop();
    try {
      const s = await send('receipt on the answer', 'FLASH');
      const { peer, paths } = countingPeer();
      const replies: Uint8Array[] = [];
      await pushTo(ch.node('US'), ch.store('US'), peer, await loadPushCursor(ch.store('US'), 'CN'), 256, { onReply: (r) => replies.push(r) });
      expect(paths).toEqual(['/fed/v1/bundle']);
      expect(replies).toHaveLength(1);
      const [receipt] = await receipts('CN', 'US', s.index);
      expect(receipt).toBeDefined();
      // The reply is a witnessed push of CN's log: its checkpoint covers the receipt.
      const back = parseWitnessedPush(replies[0]!);
      const offered = parseCheckpoint(parseAddCheckpointRequest(back.witness).note.text).treeSize;
      expect(offered).toBeGreaterThan(receipt!.index);
      const r = await receiveWitnessedPush(ch.node('US'), ch.store('US'), replies[0]!, 'CN');
      expect(r).toMatchObject({ status: 200, from: 'CN', checkpointSize: offered });
      expect((await ch.node('US').witness.latest('CN'))?.treeSize).toBe(offered);
      expect(await ch.store('US').received('CN', receipt!.index)).toBeDefined();
      // The same reply again is stored once (idempotent), as any push.
      expect(await receiveWitnessedPush(ch.node('US'), ch.store('US'), replies[0]!, 'CN')).toMatchObject({ status: 200, accepted: 0 });
      // CN did not push it again on its own, and has US's cosignature of that checkpoint once it asks for it.
      await waitFor("CN's cosignature from US", async () => ((await ch.store('CN').ownCosigned('US'))?.treeSize ?? 0) >= offered);
      expect(feds.get('CN')!.links().find((l) => l.party === 'US')).toMatchObject({ consecutiveFailures: 0, pushedSize: expect.any(Number) });
    } finally {
      await startFederator('US');
    }
  });

  it('heals a reply that is lost on the way: US pulls the receipt, and CN still gets its checkpoint cosigned', async () => {
    await feds.get('US')!.stop();
    let restarted = false;
    try {
      const s = await send('the answer is lost', 'FLASH');
      const peer = new PeerClient(ch.node('US'), 'CN', { url: urls['CN']! });
      let dropped = 0;
      await pushTo(ch.node('US'), ch.store('US'), peer, await loadPushCursor(ch.store('US'), 'CN'), 256, { onReply: () => dropped++ });
      expect(dropped).toBe(1);
      const [receipt] = await receipts('CN', 'US', s.index);
      expect(await ch.store('US').received('CN', receipt!.index)).toBeUndefined();
      await startFederator('US');
      restarted = true;
      await waitFor("US pulls CN's receipt", async () => (await ch.store('US').received('CN', receipt!.index)) !== undefined);
      await waitFor("CN's checkpoint with the receipt cosigned by US", async () => ((await ch.store('CN').ownCosigned('US'))?.treeSize ?? 0) > receipt!.index);
      expect(await receipts('CN', 'US', s.index)).toHaveLength(1);
    } finally {
      if (!restarted) await startFederator('US');
    }
  });

  it('falls back to add-checkpoint then bundle for a peer that answers a witnessed push 415 (an earlier version)', async () => {
    await feds.get('US')!.stop();
    await feds.get('CN')!.stop();
    try {
      const paths: string[] = [];
      const old = (async (input: string | URL | Request, init?: RequestInit) => {
        paths.push(new URL(String(input)).pathname);
        const type = new Headers(init?.headers).get('content-type') ?? '';
        // An earlier version knows neither the witnessed push nor the tail push.
        if (type.startsWith(WITNESSED_PUSH_CONTENT_TYPE) || type.startsWith(TAIL_PUSH_CONTENT_TYPE)) return new Response('{}', { status: 415, headers: { 'content-type': 'application/problem+json' } });
        return fetch(input, init);
      }) as typeof fetch;
      const peer = new PeerClient(ch.node('US'), 'CN', { url: urls['CN']!, fetch: old });
      const cursor = await loadPushCursor(ch.store('US'), 'CN');
      const first = await send('to an older node');
      await pushTo(ch.node('US'), ch.store('US'), peer, cursor, 256);
      expect(paths).toEqual(['/fed/v1/bundle', '/fed/v1/bundle', '/witness/add-checkpoint', '/fed/v1/bundle']);
      expect(peer.witnessedPush).toBe(false);
      expect(peer.tailPush).toBe(false);
      expect(await receipts('CN', 'US', first.index)).toHaveLength(1);
      // From then on, the two requests straight away.
      paths.length = 0;
      const second = await send('again');
      await pushTo(ch.node('US'), ch.store('US'), peer, cursor, 256);
      expect(paths).toEqual(['/witness/add-checkpoint', '/fed/v1/bundle']);
      expect(await receipts('CN', 'US', second.index)).toHaveLength(1);
      expect(cursor.cosigned).toBe(ch.node('US').treeSize);
    } finally {
      await startFederator('US');
      await startFederator('CN');
    }
  });

  it('a witness cosigns on a push only what it holds: PUSH_INCOMPLETE without the tail; a tail push mirrors what is not addressed to it (no receipt, no inbox)', async () => {
    // CN's own pull would witness and scan US's log meanwhile.
    await feds.get('US')!.stop();
    await feds.get('CN')!.stop();
    try {
      const us = ch.node('US');
      const toEu = await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:AMBER', text: 'to EU only', to: ['EU'] });
      const toCn = await us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'to CN only', to: ['CN'] });
      const held = (await ch.node('CN').witness.latest('US'))?.treeSize ?? 0;
      const note = (await us.latestCheckpoint())!;
      const size = parseCheckpoint(parseNote(note).text).treeSize;
      expect(held).toBeLessThan(size);
      // As an earlier sender pushes: only what is addressed to CN, with a fresh add-checkpoint request.
      const bundle = await exportBundle(us, ch.store('US'), { to: 'CN', since: toEu.index });
      const add = formatAddCheckpointRequest({ oldSize: held, proof: held > 0 ? await us.consistencyProof(held, size) : [], checkpointNote: note });
      const path = '/fed/v1/bundle';
      const body = formatWitnessedPush({ witness: add, bundle });
      const r = await post('CN', path, body, { 'content-type': WITNESSED_PUSH_CONTENT_TYPE, [REQUEST_SIGNATURE_HEADER]: us.signRequest({ to: 'CN', method: 'POST', path, body }) });
      expect(r.status, r.text).toBe(422);
      expect(JSON.parse(r.text)).toMatchObject({ code: 'PUSH_INCOMPLETE' });
      // Nothing cosigned, nothing stored.
      expect((await ch.node('CN').witness.latest('US'))?.treeSize ?? 0).toBe(held);
      expect(await ch.store('CN').received('US', toCn.index)).toBeUndefined();
      // Our push carries the whole tail: CN mirrors the entry to EU and cosigns.
      const { peer, paths } = countingPeer();
      const cursor = await loadPushCursor(ch.store('US'), 'CN');
      await pushTo(us, ch.store('US'), peer, cursor, 256);
      expect(paths).toEqual(['/fed/v1/bundle']);
      expect(cursor.cosigned).toBe(size);
      expect((await ch.node('CN').witness.latest('US'))?.treeSize).toBe(size);
      const mirrored = await ch.store('CN').mirrored('US', 0, size);
      expect(mirrored.map((e) => e.index)).toEqual([...Array(size).keys()]);
      expect(Buffer.from(mirrored[toEu.index]!.bytes)).toEqual(Buffer.from((await ch.store('US').entry(toEu.index))!.bytes));
      expect(await ch.store('CN').received('US', toEu.index)).toBeUndefined();
      expect(await receipts('CN', 'US', toEu.index)).toHaveLength(0);
      expect(await receipts('CN', 'US', toCn.index)).toHaveLength(1);
      const inbox = await ch.store('CN').inbox({ limit: 1000 });
      expect(inbox.some((i) => i.party === 'US' && i.index === toEu.index)).toBe(false);
    } finally {
      await startFederator('US');
      await startFederator('CN');
    }
  });

  it('pushes to a peer that takes witnessed pushes but not the tail (415) only what is addressed to it', async () => {
    await feds.get('US')!.stop();
    await feds.get('CN')!.stop();
    try {
      const paths: string[] = [];
      const types: string[] = [];
      const older = (async (input: string | URL | Request, init?: RequestInit) => {
        paths.push(new URL(String(input)).pathname);
        const type = new Headers(init?.headers).get('content-type') ?? '';
        types.push(type);
        if (type.startsWith(TAIL_PUSH_CONTENT_TYPE)) return new Response('{}', { status: 415, headers: { 'content-type': 'application/problem+json' } });
        return fetch(input, init);
      }) as typeof fetch;
      const peer = new PeerClient(ch.node('US'), 'CN', { url: urls['CN']!, fetch: older });
      const cursor = await loadPushCursor(ch.store('US'), 'CN');
      const s = await send('to a node of the version before');
      await pushTo(ch.node('US'), ch.store('US'), peer, cursor, 256);
      expect(types).toEqual([TAIL_PUSH_CONTENT_TYPE, WITNESSED_PUSH_CONTENT_TYPE]);
      expect(paths).toEqual(['/fed/v1/bundle', '/fed/v1/bundle']);
      expect(peer.tailPush).toBe(false);
      expect(peer.witnessedPush).toBe(true);
      expect(await receipts('CN', 'US', s.index)).toHaveLength(1);
    } finally {
      await startFederator('US');
      await startFederator('CN');
    }
  });

  it("refuses a witnessed push framed wrong (400), of another log (422), inconsistent (422) or stale (409) — unless CN holds exactly its checkpoint", async () => {
    // CN's own pull would witness US's checkpoint meanwhile.
    await feds.get('US')!.stop();
    await feds.get('CN')!.stop();
    try {
      const us = ch.node('US');
      const s = await send('witnessed push refusals');
      const path = '/fed/v1/bundle';
      const bundle = await exportBundle(us, ch.store('US'), { to: 'CN', since: s.index });
      const held = (await ch.node('CN').witness.latest('US'))?.treeSize ?? 0;
      const note = (await us.latestCheckpoint())!;
      const size = parseCheckpoint(parseNote(note).text).treeSize;
      const push = async (body: Uint8Array) => post('CN', path, body, { 'content-type': WITNESSED_PUSH_CONTENT_TYPE, [REQUEST_SIGNATURE_HEADER]: us.signRequest({ to: 'CN', method: 'POST', path, body }) });
      const expectProblem = (r: { status: number; text: string }, status: number, code: string) => {
        expect(r.status, r.text).toBe(status);
        expect(JSON.parse(r.text)).toMatchObject({ code });
      };
      expectProblem(await push(new TextEncoder().encode('parley-push/v1 99999\nshort')), 400, 'BUNDLE_MALFORMED');
      // EU's checkpoint, witnessed at CN on US's push.
      const eu = ch.node('EU');
      const euNote = (await eu.latestCheckpoint())!;
      const euHeld = (await ch.node('CN').witness.latest('EU'))?.treeSize ?? 0;
      const euSize = parseCheckpoint(parseNote(euNote).text).treeSize;
      const euAdd = formatAddCheckpointRequest({ oldSize: euHeld, proof: euHeld > 0 && euHeld < euSize ? await eu.consistencyProof(euHeld, euSize) : [], checkpointNote: euNote });
      expectProblem(await push(formatWitnessedPush({ witness: euAdd, bundle })), 422, 'BUNDLE_INVALID');
      // A proof that does not lead from the held size to ours.
      expect(held).toBeGreaterThan(1);
      const wrong = formatAddCheckpointRequest({ oldSize: held, proof: await us.consistencyProof(1, size), checkpointNote: note });
      expectProblem(await push(formatWitnessedPush({ witness: wrong, bundle })), 422, 'PROOF_INVALID');
      expect((await ch.node('CN').witness.latest('US'))?.treeSize).toBe(held);
      expect(await ch.store('CN').received('US', s.index)).toBeUndefined();
      // A stale old size: the tlog-witness 409 with the size held.
      const stale = formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpointNote: note });
      const r = await push(formatWitnessedPush({ witness: stale, bundle }));
      expect(r.status, r.text).toBe(409);
      expect(r.text).toBe(`${held}\n`);
      expect(await ch.store('CN').received('US', s.index)).toBeUndefined();
      // The same stale push once CN's witness holds exactly this checkpoint (as its own pull would
      // leave it): the bundle is taken, and the stored cosignature answers.
      const proof = await us.consistencyProof(held, size);
      expect((await ch.node('CN').witness.addCheckpoint(formatAddCheckpointRequest({ oldSize: held, proof, checkpointNote: note }))).status).toBe(200);
      const late = await push(formatWitnessedPush({ witness: stale, bundle }));
      expect(late.status, late.text).toBe(200);
      const answer = JSON.parse(late.text) as { accepted: number; cosignatures: string };
      expect(answer.accepted).toBe(1);
      openWitnessedCheckpoint(appendSignatures(note, parseAddCheckpointResponse(answer.cosignatures)), new VerifierSet([keyOf('US').party.logKey]), [keyOf('CN').party.logKey], { quorum: 1 });
      expect(await ch.store('CN').received('US', s.index)).toBeDefined();
    } finally {
      await startFederator('US');
      await startFederator('CN');
    }
  });

  it('heals a partition: CN down while US sends 5 messages; after restart each arrives once and is receipted once', async () => {
    await feds.get('CN')!.stop();
    const port = Number(new URL(urls['CN']!).port);
    await apps.get('CN')!.close();
    const sent: Awaited<ReturnType<typeof send>>[] = [];
    for (let i = 0; i < 5; i++) sent.push(await send(`during the partition ${i}`));
    await waitFor('EU has all five', async () => (await Promise.all(sent.map((s) => ch.store('EU').received('US', s.index)))).every((r) => r !== undefined));
    await waitFor("US's link to CN failing", () => feds.get('US')!.links().find((l) => l.party === 'CN')!.consecutiveFailures >= 2);
    const down = feds.get('US')!.links().find((l) => l.party === 'CN')!;
    expect(down.lastError?.code).toBe('PEER_UNREACHABLE');
    // Link health (GET /v1/links) shows the transport down while heartbeats are not yet stale.
    const health = await apps.get('US')!.inject({ method: 'GET', url: '/v1/links', headers: await login(apps.get('US')!, 'audrey') });
    expect(health.statusCode, health.body).toBe(200);
    const cn = health.json<{ links: { party: string; transport?: { state: string } }[] }>().links.find((l) => l.party === 'CN');
    expect(cn?.transport?.state).toBe('down');
    for (const s of sent) expect(await ch.store('CN').received('US', s.index)).toBeUndefined();

    const app = await createServer({ node: ch.node('CN'), store: ch.store('CN') });
    apps.set('CN', app);
    urls['CN'] = await app.listen({ port, host: '127.0.0.1' });
    await startFederator('CN');
    await waitFor('CN has all five', async () => (await Promise.all(sent.map((s) => ch.store('CN').received('US', s.index)))).every((r) => r !== undefined));
    await waitFor('US link healthy', () => feds.get('US')!.links().find((l) => l.party === 'CN')!.consecutiveFailures === 0);
    // Let both paths (US's retried push and CN's pull) run again before counting.
    const size = ch.node('US').treeSize;
    await waitFor('both directions caught up', () => {
      const toCn = feds.get('US')!.links().find((l) => l.party === 'CN')!;
      const fromUs = feds.get('CN')!.links().find((l) => l.party === 'US')!;
      return toCn.pushedSize >= size && fromUs.scannedSize >= size;
    });
    for (const s of sent) {
      expect(await receipts('CN', 'US', s.index)).toHaveLength(1);
      expect((await ch.node('CN').inbox({ limit: 100, party: 'US' }, 'officer')).filter((v) => v.index === s.index)).toHaveLength(1);
    }
    await waitFor("CN's receipts back at US", async () => {
      for (const s of sent) {
        const r = await receipts('CN', 'US', s.index);
        if (!(await ch.store('US').received('CN', r[0]!.index))) return false;
      }
      return true;
    });
  });

  it('heals a lost push with the pull', async () => {
    dropUsPushesToCn = true;
    try {
      const s = await send('this push is lost');
      await waitFor('CN pulled it', async () => (await ch.store('CN').received('US', s.index)) !== undefined);
      const link = feds.get('US')!.links().find((l) => l.party === 'CN')!;
      expect(link.lastError?.code).toBe('PEER_UNREACHABLE');
      expect(await receipts('CN', 'US', s.index)).toHaveLength(1);
    } finally {
      dropUsPushesToCn = false;
    }
    await waitFor('US link healthy again', () => feds.get('US')!.links().find((l) => l.party === 'CN')!.consecutiveFailures === 0);
    const views = (await ch.node('CN').inbox({ limit: 200, party: 'US' }, 'officer')).map((v) => v.index);
    expect(new Set(views).size).toBe(views.length);
    expect(decodeUtf8((await ch.node('US').latestCheckpoint())!)).toContain(origin('US'));
  });

  it('ingests nothing from a pull whose entries do not match the cosigned checkpoint', async () => {
    dropUsPushesToCn = true;
    tamperCnPulls = true;
    let s;
    try {
      s = await send('served tampered');
      await waitFor('CN refuses the tampered scan', () => feds.get('CN')!.links().find((l) => l.party === 'US')!.lastError?.code === 'TILE_INVALID');
      expect(await ch.store('CN').received('US', s.index)).toBeUndefined();
      tamperCnPulls = false;
      await waitFor('CN pulled it untampered', async () => (await ch.store('CN').received('US', s!.index)) !== undefined);
      expect(await receipts('CN', 'US', s.index)).toHaveLength(1);
    } finally {
      dropUsPushesToCn = false;
      tamperCnPulls = false;
    }
  });

  it('keeps a fork proof and refuses (422) a pushed bundle whose checkpoint forks from the one cosigned', async () => {
    const us = ch.node('US');
    const held = (await ch.node('CN').witness.latest('US'))!;
    const forged = signCheckpoint({ origin: origin('US'), treeSize: held.treeSize, rootHash: getCrypto().randomBytes(32), extensions: [] }, newSigner(keyOf('US').keys.log));
    const bundle = makeBundle({ accordId: us.accord.id, from: 'US', to: 'CN', created: new Date().toISOString(), checkpoint: forged, entries: [] }, getCrypto().ed25519Signer(keyOf('US').keys.log.seed));
    const r = await post('CN', '/fed/v1/bundle', bundle, { [REQUEST_SIGNATURE_HEADER]: us.signRequest({ to: 'CN', method: 'POST', path: '/fed/v1/bundle', body: bundle }) });
    expect(r.status, r.text).toBe(422);
    expect(JSON.parse(r.text)).toMatchObject({ code: 'PROOF_INVALID' });
    const proofs = await forksOf(ch.store('CN'), 'US');
    expect(proofs).toHaveLength(1);
    expect(verifyForkProof(proofs[0]!, us.accord)).toMatchObject({ party: 'US', kind: 'same-size' });
    expect((await ch.node('CN').witness.latest('US'))!.treeSize).toBe(held.treeSize);
  });
});
