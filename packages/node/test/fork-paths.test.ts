/**
 * Issue 9, "Evidence of forks, wherever a second history shows up": every
 * path on which a node sees two inconsistent, validly signed checkpoints of
 * one log keeps the fork proof, raises the alarm and quarantines the log.
 *
 * Each case opens a fresh channel (CN, EU, US) on real SQLite files with a
 * real HTTP server per node on 127.0.0.1, plus a FORGER: a second US node
 * with US's keys and its own store, signing another history. CN first
 * cosigns US's honest log; then the forger's history reaches CN by one path:
 *
 *     anonymous add-checkpoint   POST /witness/add-checkpoint, no Parley-Signature
 *     witnessed push             pushTo (POST /fed/v1/bundle, witnessed push), signed by US's key
 *     plain push                 POST /fed/v1/bundle with a bundle only
 *     pull                       CN pulls US from the forger's server (old size a power of
 *                                two: the proof alone proves nothing, the tiles do)
 *     gossip                     EU cosigned the forger's view; CN and EU compare
 *     bundle import              POST /v1/bundles/import (what `parley bundle import` calls)
 *
 * and every case checks the same outcome ({@link expectQuarantined}): one
 * proof held, which verifies with the accord alone, however often and in
 * whichever order the two views are seen; GET /v1/forks lists it; the link
 * to US is down with reason fork; the metrics count it; CN's witness
 * cosigns none of US's later checkpoints (422 LOG_FORKED); US's new entries
 * are refused.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MemoryTree,
  VerificationError,
  decodeUtf8,
  detectFork,
  encodeUtf8,
  formatAddCheckpointRequest,
  newSigner,
  parseCheckpoint,
  parseNote,
  signCheckpoint,
  verifyAccord,
  verifyForkProof,
} from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import type { FastifyInstance } from 'fastify';
import {
  CompactRange,
  ForkDetected,
  ParleyNode,
  PeerClient,
  PeerError,
  createServer,
  exportBundle,
  forksOf,
  gossipWith,
  loadPushCursor,
  peerLogSource,
  pullFrom,
  pushTo,
  recordFork,
  unverifiedOf,
} from '../src/index.js';
import { login, openHttpChannel } from './helpers/http.js';

type Ch = Awaited<ReturnType<typeof openHttpChannel>>;

interface World {
  readonly ch: Ch;
  readonly url: Record<string, string>;
  /** A second US node: US's keys, another store, another history. */
  readonly forger: ParleyNode;
  readonly forgerStore: SqliteStore;
  readonly forgerApp: FastifyInstance;
  readonly dir: string;
}

let world: World | undefined;

afterEach(async () => {
  if (!world) return;
  const w = world;
  world = undefined;
  await w.forgerApp.close();
  await w.forger.close();
  await w.forgerStore.close();
  await w.ch.close();
  rmSync(w.dir, { recursive: true, force: true });
});

async function open(): Promise<World> {
  const dir = mkdtempSync(join(tmpdir(), 'parley-fork-paths-'));
  const ch = await openHttpChannel(['CN', 'EU', 'US'], { dir });
  const url: Record<string, string> = {};
  for (const id of ['CN', 'EU', 'US']) url[id] = await ch.app(id).listen({ port: 0, host: '127.0.0.1' });
  const forgerStore = SqliteStore.open(join(dir, 'US-forged.sqlite'));
  const forger = await ParleyNode.open({ accord: ch.accord, party: 'US', keys: ch.parties.find((p) => p.id === 'US')!.keys, store: forgerStore });
  const forgerApp = await createServer({ node: forger, store: forgerStore });
  url['forger'] = await forgerApp.listen({ port: 0, host: '127.0.0.1' });
  world = { ch, url, forger, forgerStore, forgerApp, dir };
  return world;
}

const say = (node: ParleyNode, text: string, to: string[] = ['CN', 'EU']) => node.sendMessage('alice', { to, precedence: 'ROUTINE', marking: 'TLP:CLEAR', text });

async function publish(node: ParleyNode, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i++) await say(node, `${tag} ${i}`);
}

/** US's add-checkpoint request for its latest checkpoint, from `old`. */
async function addRequest(node: ParleyNode, old: number): Promise<Uint8Array> {
  const note = (await node.latestCheckpoint())!;
  const size = parseCheckpoint(parseNote(note).text).treeSize;
  return formatAddCheckpointRequest({ oldSize: old, proof: old > 0 && old < size ? await node.consistencyProof(old, size) : [], checkpointNote: note });
}

/** POST /witness/add-checkpoint, anonymous (no Parley-Signature), as a plain tlog-witness client. */
async function postWitness(base: string, body: Uint8Array): Promise<{ status: number; text: string }> {
  const r = await fetch(`${base}/witness/add-checkpoint`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: Buffer.from(body) });
  return { status: r.status, text: await r.text() };
}

/** CN's witness cosigns US's honest log at its current size, over HTTP. */
async function cnCosignsHonest(w: World): Promise<number> {
  const us = w.ch.node('US');
  const held = (await w.ch.node('CN').witness.latest(us.party))?.treeSize ?? 0;
  const r = await postWitness(w.url['CN']!, await addRequest(us, held));
  expect(r.status, r.text).toBe(200);
  return us.treeSize;
}

/** A same-size checkpoint of another tree, signed with US's key (no node behind it). */
function forgedCheckpoint(w: World, size: number): Uint8Array {
  const tree = new MemoryTree();
  for (let i = 0; i < size; i++) tree.appendData(encodeUtf8(`rewritten US entry ${i}`));
  return signCheckpoint({ origin: w.ch.node('US').origin, treeSize: size, rootHash: tree.root(), extensions: [] }, newSigner(w.ch.parties.find((p) => p.id === 'US')!.keys.log));
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * The outcome every path must reach at `at` (CN unless said): exactly one
 * proof against US's log, verifiable; listed, alarmed, counted; US's log
 * cosigned no more and its new entries refused.
 */
async function expectQuarantined(w: World, kind: string, at = 'CN', next: ParleyNode = w.ch.node('US')): Promise<void> {
  const accord = verifyAccord(w.ch.accord);
  const proofs = await forksOf(w.ch.store(at), 'US');
  expect(proofs).toHaveLength(1);
  expect(verifyForkProof(proofs[0]!, accord)).toMatchObject({ party: 'US', kind });

  // The history `at` cosigned goes on (`next`): its next checkpoint is not cosigned, its new entry not taken.
  const node = w.ch.node(at);
  const before = await node.witness.latest(w.ch.node('US').party);
  const s = await say(next, 'after the fork');
  const answer = await postWitness(w.url[at]!, await addRequest(next, before?.treeSize ?? 0));
  expect(answer.status, answer.text).toBe(422);
  expect(JSON.parse(answer.text)).toMatchObject({ code: 'LOG_FORKED' });
  expect(await node.witness.latest(w.ch.node('US').party)).toEqual(before);
  const bytes = (await next.store.entry(s.index))!.bytes;
  const refused = await node.ingest([bytes]).catch((e: unknown) => e);
  expect(refused).toBeInstanceOf(VerificationError);
  expect(refused).toMatchObject({ code: 'ENTRY_INVALID' });
  expect(await w.ch.store(at).received('US', s.index)).toBeUndefined();

  const app = w.ch.app(at);
  const auth = await login(app, 'audrey');
  const listed = await app.inject({ method: 'GET', url: '/v1/forks', headers: auth });
  expect(listed.json<{ forks: { party: string; kind: string }[] }>().forks).toMatchObject([{ party: 'US', kind }]);
  const links = await app.inject({ method: 'GET', url: '/v1/links', headers: auth });
  expect(links.statusCode, links.body).toBe(200);
  const us = links.json<{ links: { party: string; state: string; reason?: string }[] }>().links.find((l) => l.party === 'US');
  expect(us).toMatchObject({ state: 'down', reason: 'fork' });
  const metrics = (await app.inject({ method: 'GET', url: '/metrics' })).body;
  expect(metrics).toMatch(/^parley_forks_detected\{party="US"\} 1$/m);
  expect(metrics).toMatch(/^parley_log_forked\{party="US"\} 1$/m);
  expect(metrics).toMatch(/^parley_log_forked\{party="EU"\} 0$/m);
}

describe('a second history is caught on every path', () => {
  it('anonymous POST /witness/add-checkpoint: the proof is kept before the refusal, once, with a live fork event', async () => {
    const w = await open();
    await publish(w.ch.node('US'), 3, 'real');
    const size = await cnCosignsHonest(w);

    // A dashboard listening to CN's live events.
    const auth = await login(w.ch.app('CN'), 'alice');
    const abort = new AbortController();
    const events = await fetch(`${w.url['CN']}/v1/events`, { headers: auth, signal: abort.signal });
    expect(events.status).toBe(200);
    const reader = events.body!.getReader();
    let seen = '';
    const sawFork = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return false;
        seen += decodeUtf8(value);
        if (/event: fork\ndata: \{"party":"US"\}/.test(seen)) return true;
      }
    })();

    const forged = forgedCheckpoint(w, size);
    const r = await postWitness(w.url['CN']!, formatAddCheckpointRequest({ oldSize: size, proof: [], checkpointNote: forged }));
    expect(r.status, r.text).toBe(422);
    expect(JSON.parse(r.text)).toMatchObject({ code: 'LOG_FORKED' });
    await expect(sawFork).resolves.toBe(true);
    abort.abort();

    // Seen again, and with a stale old size: still one proof.
    for (const old of [size, 0]) expect((await postWitness(w.url['CN']!, formatAddCheckpointRequest({ oldSize: old, proof: [], checkpointNote: forged }))).status).toBe(422);
    // The same two views in the other order (as another path would build them): one proof.
    const held = (await w.ch.node('CN').witness.latest(w.ch.node('US').party))!.note;
    expect(await recordFork(w.ch.store('CN'), 'US', detectFork(w.ch.node('CN').accord, 'US', forged, held)!)).toBe(false);
    await expectQuarantined(w, 'same-size');
  });

  it('witnessed push: the forger pushes its history signed with US\u2019s key; CN keeps the proof and refuses it', async () => {
    const w = await open();
    const us = w.ch.node('US');
    await publish(us, 3, 'real');
    await pushTo(us, w.ch.store('US'), new PeerClient(us, 'CN', { url: w.url['CN']! }), await loadPushCursor(w.ch.store('US'), 'CN'), 256);
    expect((await w.ch.node('CN').witness.latest(us.party))?.treeSize).toBe(3);

    await publish(w.forger, 3, 'forged');
    const peer = new PeerClient(w.forger, 'CN', { url: w.url['CN']! });
    for (let i = 0; i < 2; i++) {
      const err = await pushTo(w.forger, w.forgerStore, peer, await loadPushCursor(w.forgerStore, 'CN'), 256).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(PeerError);
      expect(err).toMatchObject({ status: 422, problemCode: 'LOG_FORKED' });
    }
    expect(await w.ch.store('CN').received('US', 0)).toMatchObject({ index: 0 }); // the honest entry stays
    expect((await w.ch.node('CN').read('US', 0, 'officer'))?.body).toEqual({ text: 'real 0' });
    await expectQuarantined(w, 'same-size');
  });

  it('plain push: a bundle proven against a forged checkpoint of the cosigned size', async () => {
    const w = await open();
    const us = w.ch.node('US');
    await publish(us, 3, 'real');
    await cnCosignsHonest(w);
    await publish(w.forger, 3, 'forged');
    const bundle = await exportBundle(w.forger, w.forgerStore, { to: 'CN' });
    const peer = new PeerClient(w.forger, 'CN', { url: w.url['CN']! });
    for (let i = 0; i < 2; i++) {
      const err = await peer.pushBundle(bundle).catch((e: unknown) => e);
      expect(err).toMatchObject({ status: 422, problemCode: 'PROOF_INVALID' });
    }
    await expectQuarantined(w, 'same-size');
  });

  it('pull: CN pulls US from the forger\u2019s server; a cosigned size that is a power of two is proven from its tiles', async () => {
    const w = await open();
    const cn = w.ch.node('CN');
    const us = w.ch.node('US');
    await publish(us, 4, 'real');
    const honest = await pullFrom(cn, w.ch.store('CN'), new PeerClient(cn, 'US', { url: w.url['US']! }), new CompactRange(0, []));
    expect(honest.witnessedSize).toBe(4);

    await publish(w.forger, 6, 'forged');
    const forgedPeer = new PeerClient(cn, 'US', { url: w.url['forger']! });
    for (let i = 0; i < 2; i++) {
      const err = await pullFrom(cn, w.ch.store('CN'), forgedPeer, honest.cursor).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ForkDetected);
    }
    expect((await cn.witness.latest(us.party))?.treeSize).toBe(4);
    await expectQuarantined(w, 'prefix-conflict');
    // Quarantined: the honest server is not even read.
    await expect(pullFrom(cn, w.ch.store('CN'), new PeerClient(cn, 'US', { url: w.url['US']! }), honest.cursor)).rejects.toBeInstanceOf(ForkDetected);
  });

  it('gossip: CN and EU cosigned two views; each keeps one proof, whichever side found it and in whichever order', async () => {
    const w = await open();
    const [cn, eu] = [w.ch.node('CN'), w.ch.node('EU')];
    await publish(w.ch.node('US'), 3, 'real');
    await cnCosignsHonest(w);
    await publish(w.forger, 3, 'forged');
    await pullFrom(eu, w.ch.store('EU'), new PeerClient(eu, 'US', { url: w.url['forger']! }), new CompactRange(0, []));
    expect((await eu.witness.latest(w.ch.node('US').party))?.treeSize).toBe(3);

    const sources = () => undefined;
    // CN finds it (its view first); EU finds it (the other view first); each then hears the other's proof.
    expect((await gossipWith(cn, w.ch.store('CN'), new PeerClient(cn, 'EU', { url: w.url['EU']! }), sources)).compared['US']).toBe('fork');
    expect((await gossipWith(eu, w.ch.store('EU'), new PeerClient(eu, 'CN', { url: w.url['CN']! }), sources)).received).toBe(1);
    await gossipWith(cn, w.ch.store('CN'), new PeerClient(cn, 'EU', { url: w.url['EU']! }), sources);
    expect(await forksOf(w.ch.store('EU'), 'US')).toEqual(await forksOf(w.ch.store('CN'), 'US'));
    await expectQuarantined(w, 'same-size');
    await expectQuarantined(w, 'same-size', 'EU', w.forger);
  });

  it('bundle import (POST /v1/bundles/import): a forged bundle of the cosigned size, and one of a smaller size compared at the next contact', async () => {
    const w = await open();
    const us = w.ch.node('US');
    await publish(us, 3, 'real');
    await cnCosignsHonest(w);
    const root = await login(w.ch.app('CN'), 'root');
    const post = (bytes: Uint8Array) =>
      fetch(`${w.url['CN']}/v1/bundles/import`, { method: 'POST', headers: { ...root, 'content-type': 'application/octet-stream' }, body: Buffer.from(bytes) });

    // Smaller than cosigned: nothing to compare offline; kept, and gossip with US's node proves it.
    await publish(w.forger, 2, 'forged');
    const small = await post(await exportBundle(w.forger, w.forgerStore, { to: 'CN' }));
    expect(small.status, await small.clone().text()).toBe(200);
    expect(await unverifiedOf(w.ch.store('CN'), 'US')).toHaveLength(1);
    const cn = w.ch.node('CN');
    const usPeer = new PeerClient(cn, 'US', { url: w.url['US']! });
    await gossipWith(cn, w.ch.store('CN'), usPeer, (p) => (p === 'US' ? peerLogSource(usPeer) : undefined));
    expect(await unverifiedOf(w.ch.store('CN'), 'US')).toEqual([]);
    expect(verifyForkProof((await forksOf(w.ch.store('CN'), 'US'))[0]!, cn.accord)).toMatchObject({ kind: 'prefix-conflict' });

    // The cosigned size with another root: refused, and the proof it makes is a second fork (another pair).
    await say(w.forger, 'forged 2');
    const same = await post(await exportBundle(w.forger, w.forgerStore, { to: 'CN' }));
    expect(same.status).toBe(422);
    expect(await forksOf(w.ch.store('CN'), 'US')).toHaveLength(2);
    // Imported again: no third proof.
    expect((await post(await exportBundle(w.forger, w.forgerStore, { to: 'CN' }))).status).toBe(422);
    expect(await forksOf(w.ch.store('CN'), 'US')).toHaveLength(2);
    const metrics = (await w.ch.app('CN').inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/^parley_forks_detected\{party="US"\} 2$/m);
    expect(metrics).toMatch(/^parley_log_forked\{party="US"\} 1$/m);
  });
});

describe('fork evidence survives a restart in its table', () => {
  it('a proof kept by the witness is held after reopening the store, and the log stays quarantined', async () => {
    const w = await open();
    await publish(w.ch.node('US'), 3, 'real');
    const size = await cnCosignsHonest(w);
    await postWitness(w.url['CN']!, formatAddCheckpointRequest({ oldSize: size, proof: [], checkpointNote: forgedCheckpoint(w, size) }));
    await waitFor('the proof', async () => (await forksOf(w.ch.store('CN'), 'US')).length === 1);
    const path = join(w.dir, 'CN.sqlite');
    const again = SqliteStore.open(path, { readonly: true });
    try {
      expect(await again.forkProofs('US')).toHaveLength(1);
      expect(await again.getSetting('federation/forks/US')).toBeUndefined();
    } finally {
      await again.close();
    }
  });
});
