/**
 * Every node is a C2SP tlog-witness for every other party's log: three
 * parties (CN, UK, US); US appends entries and publishes checkpoints, which
 * US sends to CN's (and UK's) witness with a consistency proof from the size
 * the witness last cosigned, learning that size from 409 answers as a
 * tlog-witness client does. Tested on the WitnessService directly, through
 * the HTTP route in process (`inject`), and over real 127.0.0.1 sockets.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type Checkpoint,
  MemoryTree,
  StoreError,
  TLOG_SIZE_CONTENT_TYPE,
  VerifierSet,
  appendSignatures,
  cosignerKey,
  decodeUtf8,
  encodeUtf8,
  formatAddCheckpointRequest,
  generateSignerKey,
  newSigner,
  openWitnessedCheckpoint,
  parseAddCheckpointResponse,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  proveConsistency,
  signCheckpoint,
  verifyForkProof,
} from '@parley/core/node';
import { type LogStore, SqliteStore } from '@parley/store';
import { type AddCheckpointAnswer, ParleyNode, WITNESS_TEXT_CONTENT_TYPE, WitnessService, createServer, forksOf, unverifiedOf } from '../src/index.js';
import { openChannel } from './helpers/channel.js';
import { expectProblem, openHttpChannel } from './helpers/http.js';

type Channel = Awaited<ReturnType<typeof openChannel>>;

const CLOCK = new Date('2026-05-14T12:00:00Z');
const checkpointOf = (note: Uint8Array): Checkpoint => parseCheckpoint(parseNote(note).text);
const text = (b: Uint8Array) => decodeUtf8(b);

/** US's published checkpoints by size (it publishes one per committed batch). */
async function publish(us: ParleyNode, n: number): Promise<Uint8Array> {
  for (let i = 0; i < n; i++) await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `link test ${us.treeSize}` });
  return (await us.latestCheckpoint())!;
}

/** An add-checkpoint request for `note` (default: the log's latest) with a proof from `oldSize`, made from the log node. */
async function addRequest(log: ParleyNode, oldSize: number, note?: Uint8Array): Promise<Uint8Array> {
  const cp = note ?? (await log.latestCheckpoint())!;
  const size = checkpointOf(cp).treeSize;
  const proof = oldSize > 0 && oldSize < size ? await log.consistencyProof(oldSize, size) : [];
  return formatAddCheckpointRequest({ oldSize, proof, checkpointNote: cp });
}

/** The tlog-witness client loop: try `oldSize`, on 409 retry with the size the witness answered. */
async function submit(send: (body: Uint8Array) => Promise<{ status: number; body: Uint8Array }>, log: ParleyNode, oldSize = 0, note?: Uint8Array) {
  let r = await send(await addRequest(log, oldSize, note));
  if (r.status === 409) r = await send(await addRequest(log, Number(text(r.body).trim()), note));
  return r;
}

function keysOf(ch: Channel, id: string) {
  const p = ch.parties.find((x) => x.id === id)!;
  return { log: p.keys.log, vkey: p.party.logKey, verifiers: new VerifierSet([p.party.logKey]), cosigner: cosignerKey(parseVerifierKey(p.party.logKey)) };
}

/** A witness on `id`'s store with a fixed clock (the node's own uses the system clock). */
function witnessOf(ch: Channel, id: string, store: LogStore = ch.store(id)): WitnessService {
  const node = ch.node(id);
  return new WitnessService({ governed: () => node, party: id, witnessKey: cosignerKey(keysOf(ch, id).log), store, now: () => CLOCK });
}

/** A tree of `size` other leaves, signed with the log's key: a fork of US's log. */
function forkedCheckpoint(ch: Channel, size: number): { note: Uint8Array; tree: MemoryTree } {
  const tree = new MemoryTree();
  for (let i = 0; i < size; i++) tree.appendData(encodeUtf8(`forked entry ${i}`));
  const cp = { origin: ch.node('US').origin, treeSize: size, rootHash: tree.root(), extensions: [] };
  return { note: signCheckpoint(cp, newSigner(keysOf(ch, 'US').log)), tree };
}

function expectCosigned(a: AddCheckpointAnswer): asserts a is Extract<AddCheckpointAnswer, { status: 200 }> {
  expect(a.status, text(a.body)).toBe(200);
}

let ch: Channel | undefined;
afterEach(async () => {
  await ch?.close();
  ch = undefined;
});

describe('WitnessService (in process)', () => {
  it('cosigns US\u2019s checkpoint at CN with CN\u2019s log key in cosignature/v1 form, refuses a replay with 409, then follows the log', async () => {
    ch = await openChannel(['CN', 'UK', 'US']);
    const us = ch.node('US');
    const cn = witnessOf(ch, 'CN');
    expect(cn.logs.map((l) => l.party).sort()).toEqual(['UK', 'US']);
    const note = await publish(us, 5);

    const req = await addRequest(us, 0);
    const a = await cn.addCheckpoint(req);
    expectCosigned(a);
    expect(a.contentType).toBe('text/plain; charset=utf-8');
    expect(a.timestamp).toBe(CLOCK.getTime() / 1000);
    const sigs = parseAddCheckpointResponse(a.body);
    expect(sigs).toHaveLength(1);
    const cnKeys = keysOf(ch, 'CN');
    expect(cnKeys.cosigner.type).toBe(0x04);
    const opened = openWitnessedCheckpoint(appendSignatures(note, sigs), keysOf(ch, 'US').verifiers, [cnKeys.cosigner], { origin: us.origin, quorum: 1 });
    expect(opened.checkpoint.treeSize).toBe(5);
    expect(opened.cosignatures).toMatchObject([{ name: cnKeys.cosigner.name, keyId: cnKeys.cosigner.keyId, timestamp: a.timestamp }]);

    // What the witness stored: the checkpoint with US's signature and its cosignature.
    const held = (await cn.latest(us.party))!;
    expect(held).toMatchObject({ party: 'US', treeSize: 5, rootHash: opened.checkpoint.rootHash });
    expect(openWitnessedCheckpoint(held.note, keysOf(ch, 'US').verifiers, [cnKeys.cosigner], { quorum: 1 }).checkpoint.treeSize).toBe(5);

    // The same request again: the old size is no longer the witness's.
    const again = await cn.addCheckpoint(req);
    expect(again).toMatchObject({ status: 409, contentType: TLOG_SIZE_CONTENT_TYPE, latestSize: 5 });
    expect(text(again.body)).toBe('5\n');

    // US grows; the next request carries a consistency proof from 5.
    await publish(us, 7);
    const next = await cn.addCheckpoint(await addRequest(us, 5));
    expectCosigned(next);
    expect(next.checkpoint.treeSize).toBe(12);
    expect((await cn.latest(us.party))!.treeSize).toBe(12);

    // UK witnesses too: two distinct witnesses on one checkpoint.
    const uk = await submit((b) => witnessOf(ch!, 'UK').addCheckpoint(b), us, 0);
    expect(uk.status).toBe(200);
    const both = appendSignatures(appendSignatures((await us.latestCheckpoint())!, parseAddCheckpointResponse(next.body)), parseAddCheckpointResponse(uk.body));
    expect(openWitnessedCheckpoint(both, keysOf(ch, 'US').verifiers, [keysOf(ch, 'CN').vkey, keysOf(ch, 'UK').vkey], { quorum: 2 }).distinctWitnesses).toBe(2);
  });

  it('never cosigns a fork: an inconsistent checkpoint signed with US\u2019s key is a 422 and the stored state is unchanged', async () => {
    ch = await openChannel(['CN', 'UK', 'US']);
    const us = ch.node('US');
    const cn = witnessOf(ch, 'CN');
    await publish(us, 4);
    expectCosigned(await cn.addCheckpoint(await addRequest(us, 0)));
    const before = await cn.latest(us.party);

    // A longer tree that does not extend the cosigned one, with a proof from its own history.
    const fork = forkedCheckpoint(ch, 9);
    const forked = await cn.addCheckpoint(formatAddCheckpointRequest({ oldSize: 4, proof: proveConsistency(4, 9, fork.tree), checkpointNote: fork.note }));
    expect(forked).toMatchObject({ status: 422, reason: 'inconsistent' });
    // A genuine proof of US's real log does not make the forked root consistent either.
    await publish(us, 5);
    const mixed = await cn.addCheckpoint(formatAddCheckpointRequest({ oldSize: 4, proof: await us.consistencyProof(4, 9), checkpointNote: fork.note }));
    expect(mixed).toMatchObject({ status: 422, reason: 'inconsistent' });
    // Same size as cosigned, other root.
    // Proofs that do not authenticate prove nothing (old size 4, a power of two): no fork proof yet,
    // the checkpoint is kept for gossip to compare with US's own log.
    expect(await forksOf(ch.store('CN'), 'US')).toEqual([]);
    expect(await unverifiedOf(ch.store('CN'), 'US')).toEqual([decodeUtf8(fork.note)]);
    expect(await cn.latest(us.party)).toEqual(before);
    // Same size as cosigned, other root: a same-size fork proof is kept (durably) before the refusal.
    const sameSize = forkedCheckpoint(ch, 4);
    expect(await cn.addCheckpoint(formatAddCheckpointRequest({ oldSize: 4, proof: [], checkpointNote: sameSize.note }))).toMatchObject({ status: 422, reason: 'log-forked', error: { code: 'LOG_FORKED' } });
    const proofs = await forksOf(ch.store('CN'), 'US');
    expect(proofs).toHaveLength(1);
    expect(verifyForkProof(proofs[0]!, us.accord)).toMatchObject({ party: 'US', kind: 'same-size' });
    expect(await cn.latest(us.party)).toEqual(before);

    // Issue 9: a log held forked is cosigned no more — not even its real next checkpoint.
    expect(await cn.addCheckpoint(await addRequest(us, 4))).toMatchObject({ status: 422, reason: 'log-forked' });
    expect(await cn.latest(us.party)).toEqual(before);
  });

  it('refuses unknown logs (404, its own included), bad signatures (403) and malformed requests (400), storing nothing', async () => {
    ch = await openChannel(['CN', 'UK', 'US']);
    const us = ch.node('US');
    const cn = witnessOf(ch, 'CN');
    const note = await publish(us, 3);
    await publish(ch.node('CN'), 2);

    const stranger = generateSignerKey('stranger.parley.test/log');
    const strangerNote = signCheckpoint({ ...checkpointOf(note), origin: stranger.name }, newSigner(stranger));
    expect(await cn.addCheckpoint(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpointNote: strangerNote }))).toMatchObject({ status: 404, reason: 'unknown-origin' });
    expect(await cn.addCheckpoint(await addRequest(ch.node('CN'), 0))).toMatchObject({ status: 404, reason: 'unknown-origin' });

    // A flipped bit in US's signature; a key that only borrows US's name.
    const s = text(note);
    const at = s.lastIndexOf(' ') + 10; // inside the signature's base64, past the key ID
    const tampered = `${s.slice(0, at)}${s[at] === 'A' ? 'B' : 'A'}${s.slice(at + 1)}`;
    const flipped = await cn.addCheckpoint(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpointNote: tampered }));
    expect(flipped).toMatchObject({ status: 403, reason: 'unverified' });
    expect((flipped as { error?: { code: string } }).error?.code).toBe('SIGNATURE_INVALID');
    const impostor = generateSignerKey(us.origin);
    const impostorNote = signCheckpoint(checkpointOf(note), newSigner(impostor));
    const unverified = await cn.addCheckpoint(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpointNote: impostorNote }));
    expect(unverified).toMatchObject({ status: 403, reason: 'unverified' });
    expect((unverified as { error?: { code: string } }).error?.code).toBe('NOTE_UNVERIFIED');

    for (const body of ['', 'hello', 'old 01\n\n', `old 0\n\n${text(note).replace('\n3\n', '\n03\n')}`]) {
      expect(await cn.addCheckpoint(encodeUtf8(body)), body).toMatchObject({ status: 400, reason: 'malformed' });
    }
    const tooOld = text(await addRequest(us, 0)).replace('old 0\n', 'old 4\n');
    expect(await cn.addCheckpoint(tooOld)).toMatchObject({ status: 400, reason: 'old-size-too-large' });
    for (const l of cn.logs) expect(await cn.latest(l.party)).toBeUndefined();
  });

  it('cosigns at most one of concurrent add-checkpoints from one old size; the losers get 409 with the winner\u2019s size', async () => {
    ch = await openChannel(['CN', 'UK', 'US']);
    const us = ch.node('US');
    const cn = witnessOf(ch, 'CN');
    const notes: Uint8Array[] = [];
    for (const round of [1, 2]) {
      const from = (await cn.latest(us.party))?.treeSize ?? 0;
      for (let i = 0; i < 4; i++) notes.push(await publish(us, round)); // round 1: sizes 1…4; round 2: 6, 8, 10, 12
      const candidates = notes.filter((n) => checkpointOf(n).treeSize > from);
      // Each checkpoint twice, all from the same old size, all in flight at once.
      const requests = await Promise.all([...candidates, ...candidates].map((n) => addRequest(us, from, n)));
      const answers = await Promise.all(requests.map((r) => cn.addCheckpoint(r)));
      const won = answers.filter((a) => a.status === 200);
      expect(won).toHaveLength(1);
      const size = (won[0] as Extract<AddCheckpointAnswer, { status: 200 }>).checkpoint.treeSize;
      for (const a of answers) if (a.status !== 200) expect(a).toMatchObject({ status: 409, latestSize: size });
      expect((await cn.latest(us.party))!.treeSize).toBe(size);
    }
  });

  it('decides one request of a log at a time: one that builds on a state still being written waits for it and is cosigned', async () => {
    ch = await openChannel(['CN', 'UK', 'US']);
    const us = ch.node('US');
    const cn = witnessOf(ch, 'CN');
    const first = await publish(us, 2);
    const second = await publish(us, 3);
    // Both in flight at once; the second's old size is the first's new one (a client that pipelines).
    const [a, b] = await Promise.all([cn.addCheckpoint(await addRequest(us, 0, first)), cn.addCheckpoint(await addRequest(us, 2, second))]);
    expectCosigned(a);
    expectCosigned(b);
    expect((await cn.latest(us.party))!.treeSize).toBe(5);
    // begin: the state to be held is known before it is durable; the answer waits for it.
    await publish(us, 1);
    const begun = await cn.begin(await addRequest(us, 5));
    expect(begun.status).toBe(200);
    if (begun.status !== 200) return;
    expect(begun.state).toMatchObject({ party: 'US', treeSize: 6 });
    const later = cn.addCheckpoint(await addRequest(us, 5));
    expectCosigned(await begun.durable);
    expect(await later).toMatchObject({ status: 409, latestSize: 6 });
  });

  it('releases a cosignature only once it is stored (faults before and after the compare-and-set)', async () => {
    ch = await openChannel(['CN', 'UK', 'US']);
    const us = ch.node('US');
    await publish(us, 3);
    const real = ch.store('CN');
    let fault: 'before' | 'after' | undefined;
    const flaky = new Proxy(real, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if (typeof v !== 'function') return v;
        const f = (v as (...a: unknown[]) => Promise<unknown>).bind(target);
        if (prop !== 'advanceWitness') return f;
        return async (...args: unknown[]) => {
          const when = fault;
          fault = undefined;
          if (when === 'before') throw new StoreError('STORE_UNAVAILABLE', 'injected before');
          const r = await f(...args);
          if (when === 'after') throw new StoreError('STORE_UNAVAILABLE', 'injected after');
          return r;
        };
      },
    }) as LogStore;
    const cn = witnessOf(ch, 'CN', flaky);
    const req = await addRequest(us, 0);

    fault = 'before'; // failed and not persisted: nothing stored, the retry is cosigned
    await expect(cn.addCheckpoint(req)).rejects.toBeInstanceOf(StoreError);
    expect(await cn.latest(us.party)).toBeUndefined();
    expectCosigned(await cn.addCheckpoint(req));

    await publish(us, 2);
    const req2 = await addRequest(us, 3);
    fault = 'after'; // persisted but the answer lost: the retry is a 409 and the cosigned note is kept
    await expect(cn.addCheckpoint(req2)).rejects.toBeInstanceOf(StoreError);
    expect(await cn.addCheckpoint(req2)).toMatchObject({ status: 409, latestSize: 5 });
    const held = (await cn.latest(us.party))!;
    expect(openWitnessedCheckpoint(held.note, keysOf(ch, 'US').verifiers, [keysOf(ch, 'CN').cosigner], { quorum: 1 }).checkpoint.treeSize).toBe(5);
  });

  it('keeps its state across a restart (file store, reopened)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-witness-'));
    try {
      ch = await openChannel(['CN', 'UK', 'US'], dir);
      const c = ch;
      const us = c.node('US');
      await publish(us, 6);
      expectCosigned(await c.node('CN').witness.addCheckpoint(await addRequest(us, 0)));
      const held = await c.node('CN').witness.latest(us.party);
      await c.node('CN').close();
      await c.store('CN').close();

      const cnParty = c.parties.find((p) => p.id === 'CN')!;
      const store = SqliteStore.open(join(dir, 'CN.sqlite'));
      const cn = await ParleyNode.open({ accord: c.accord, party: 'CN', keys: cnParty.keys, store });
      try {
        expect(await cn.witness.latest(us.party)).toEqual(held);
        expect(await cn.witness.addCheckpoint(await addRequest(us, 0))).toMatchObject({ status: 409, latestSize: 6 });
        await publish(us, 2);
        const fork = forkedCheckpoint(c, 8);
        // Old size 6 is not a power of two: the forged history's own proof authenticates, a prefix conflict.
        expect(await cn.witness.addCheckpoint(formatAddCheckpointRequest({ oldSize: 6, proof: proveConsistency(6, 8, fork.tree), checkpointNote: fork.note }))).toMatchObject({ status: 422, reason: 'log-forked' });
        expect(verifyForkProof((await forksOf(store, 'US'))[0]!, c.node('US').accord)).toMatchObject({ kind: 'prefix-conflict' });
        expect(await cn.witness.addCheckpoint(await addRequest(us, 6))).toMatchObject({ status: 422, reason: 'log-forked' });
      } finally {
        await cn.close();
        await store.close();
      }
      // The channel's own handles for CN are closed already; close the rest.
      for (const id of ['UK', 'US']) {
        await c.node(id).close();
        await c.store(id).close();
      }
      ch = undefined;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('POST /witness/add-checkpoint (in process)', () => {
  let hc: Awaited<ReturnType<typeof openHttpChannel>> | undefined;
  afterEach(async () => {
    await hc?.close();
    hc = undefined;
  });
  const post = (app: Awaited<ReturnType<typeof createServer>>, body: Uint8Array | string, type: string | undefined = 'text/plain') =>
    app.inject({ method: 'POST', url: '/witness/add-checkpoint', headers: type === undefined ? {} : { 'content-type': type }, payload: typeof body === 'string' ? body : Buffer.from(body) });

  it('answers 200 text/plain cosignatures, 409 text/x.tlog.size, and problems for every refusal', async () => {
    hc = await openHttpChannel(['CN', 'UK', 'US']);
    const us = hc.node('US');
    const app = hc.app('CN');
    const note = await publish(us, 4);
    const req = await addRequest(us, 0);

    const ok = await post(app, req);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.headers['content-type']).toBe(WITNESS_TEXT_CONTENT_TYPE);
    expect(ok.headers['cache-control']).toBe('no-store');
    const cn = keysOf(hc, 'CN');
    expect(openWitnessedCheckpoint(appendSignatures(note, parseAddCheckpointResponse(ok.rawPayload)), keysOf(hc, 'US').verifiers, [cn.cosigner], { quorum: 1 }).cosignatures).toHaveLength(1);

    const conflict = await post(app, req);
    expect(conflict.statusCode).toBe(409);
    expect(conflict.headers['content-type']).toBe(TLOG_SIZE_CONTENT_TYPE);
    expect(conflict.body).toBe('4\n');

    await publish(us, 3);
    const fork = forkedCheckpoint(hc, 7);
    expectProblem(await post(app, formatAddCheckpointRequest({ oldSize: 4, proof: proveConsistency(4, 7, fork.tree), checkpointNote: fork.note })), 422, 'PROOF_INVALID');
    expectProblem(await post(app, await addRequest(hc.node('CN'), 0, await publish(hc.node('CN'), 1))), 404, 'NOT_FOUND');
    const impostor = generateSignerKey(us.origin);
    expectProblem(await post(app, formatAddCheckpointRequest({ oldSize: 4, proof: [], checkpointNote: signCheckpoint(checkpointOf(note), newSigner(impostor)) })), 403, 'NOTE_UNVERIFIED');
    expectProblem(await post(app, 'old 4\nnot a request\n'), 400, 'WITNESS_REQUEST_MALFORMED');
    expectProblem(await post(app, text(await addRequest(us, 0)).replace('old 0\n', 'old 9\n')), 400, 'TREE_ARGUMENT_INVALID');
    expect((await hc.node('CN').witness.latest(us.party))!.treeSize).toBe(4);

    // Requests without a Content-Type or as octets are taken; JSON is not.
    const next = await post(app, await addRequest(us, 4), undefined);
    expect(next.statusCode, next.body).toBe(200);
    expectProblem(await post(app, await addRequest(us, 7), 'application/json'), 415, 'UNSUPPORTED_MEDIA_TYPE');
    // Old size = checkpoint size with the same root: cosigned again (a fresh timestamp), size unchanged.
    expect((await post(app, await addRequest(us, 7), 'application/octet-stream')).statusCode).toBe(200);
    expect((await hc.node('CN').witness.latest(us.party))!.treeSize).toBe(7);
    expectProblem(await post(app, 'x'.repeat(1048576 + 8192 + 1)), 413, 'INPUT_TOO_LARGE');

    const doc = (await app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(doc.paths)).toContain('/witness/add-checkpoint');
  });

  it('cosigns one of concurrent requests from one old size', async () => {
    hc = await openHttpChannel(['CN', 'UK', 'US']);
    const us = hc.node('US');
    const a = await publish(us, 2);
    const b = await publish(us, 3);
    const app = hc.app('UK');
    const rs = await Promise.all([a, b, a, b, b, a].map(async (n) => post(app, await addRequest(us, 0, n))));
    const statuses = rs.map((r) => r.statusCode).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409, 409]);
    const size = (await hc.node('UK').witness.latest(us.party))!.treeSize;
    for (const r of rs) if (r.statusCode === 409) expect(r.body).toBe(`${size}\n`);
  });
});

describe('witnessing over 127.0.0.1', () => {
  let hc: Awaited<ReturnType<typeof openHttpChannel>>;
  const base: Record<string, string> = {};
  beforeAll(async () => {
    hc = await openHttpChannel(['CN', 'UK', 'US']);
    for (const id of ['CN', 'UK', 'US']) base[id] = await hc.app(id).listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await hc?.close();
  });
  const send = (party: string) => async (body: Uint8Array) => {
    const r = await fetch(`${base[party]}/witness/add-checkpoint`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body });
    return { status: r.status, type: r.headers.get('content-type') ?? '', body: new Uint8Array(await r.arrayBuffer()) };
  };

  it('US gets its checkpoints cosigned by CN and UK, learning their sizes from 409s; forks and strangers are refused', async () => {
    const us = hc.node('US');
    await publish(us, 3);
    const first = await send('CN')(await addRequest(us, 0));
    expect(first.status).toBe(200);
    expect(first.type).toBe(WITNESS_TEXT_CONTENT_TYPE);
    const replay = await send('CN')(await addRequest(us, 0));
    expect([replay.status, replay.type, text(replay.body)]).toEqual([409, TLOG_SIZE_CONTENT_TYPE, '3\n']);

    await publish(us, 6);
    const note = (await us.latestCheckpoint())!;
    const cn = await submit(send('CN'), us, 0, note); // stale guess → 409 → retry from 3 with a proof
    const uk = await submit(send('UK'), us, 3, note); // stale guess → 409 → retry from 0
    expect([cn.status, uk.status]).toEqual([200, 200]);
    const witnessed = appendSignatures(appendSignatures(note, parseAddCheckpointResponse(cn.body)), parseAddCheckpointResponse(uk.body));
    const opened = openWitnessedCheckpoint(witnessed, keysOf(hc, 'US').verifiers, [keysOf(hc, 'CN').cosigner, keysOf(hc, 'UK').cosigner], { quorum: 2 });
    expect(opened.checkpoint.treeSize).toBe(9);

    const fork = forkedCheckpoint(hc, 12);
    const forked = await send('CN')(formatAddCheckpointRequest({ oldSize: 9, proof: proveConsistency(9, 12, fork.tree), checkpointNote: fork.note }));
    expect(forked.status).toBe(422);
    expect(forked.type).toMatch(/^application\/problem\+json/);
    expect(JSON.parse(text(forked.body))).toMatchObject({ status: 422, code: 'LOG_FORKED' });
    expect((await hc.node('CN').witness.latest(us.party))!.treeSize).toBe(9);
    expect(await forksOf(hc.store('CN'), 'US')).toHaveLength(1);

    const own = await send('US')(await addRequest(us, 0));
    expect(own.status).toBe(404);
    const bad = await send('UK')(encodeUtf8('old 0\n\nnot a checkpoint\n'));
    expect(bad.status).toBe(400);
  });

  it('lets one of concurrent requests from one old size win over the wire', async () => {
    const us = hc.node('US');
    const from = (await hc.node('UK').witness.latest(us.party))?.treeSize ?? 0;
    const a = await publish(us, 1);
    const b = await publish(us, 2);
    const rs = await Promise.all([a, b, a, b].map(async (n) => send('UK')(await addRequest(us, from, n))));
    expect(rs.map((r) => r.status).sort()).toEqual([200, 409, 409, 409]);
  });
});
