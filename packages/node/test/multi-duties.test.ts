/**
 * Once-per-party duties with several processes of one party on one
 * PostgreSQL database (issue 14, runtime.ts + sequencer.ts): three runtimes
 * of US, each with its own PgStore (its own pool, as separate processes
 * have) and its own election. Heartbeats are written once per interval per
 * party — by the sequencer only — and a new sequencer keeps the party's
 * rhythm instead of beating at its takeover. Writes reach the log from any
 * runtime (followers forward them over HTTP). A follower runs on an accord
 * version the sequencer adopted as soon as the store's chain revision moves,
 * without a restart.
 *
 * PostgreSQL on 127.0.0.1:5432 (store/test/pg.ts): started if down, FAILS when unreachable.
 */
import { type Socket, createServer } from 'node:net';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { type SignedAccord, draftAmendment, signAccordVersion, verifyAccord } from '@parley/core/node';
import { PgStore, SqliteStore } from '@parley/store';
import { ParleyNode, type Runtime, SequencerElection, cosignedBoundsOf, noteCosigned, startRuntime } from '../src/index.js';
import { LOCK_CLASS, sequencerLockKey } from '../src/sequencer.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { freshPgUrl } from '../../store/test/pg.js';

const INTERVAL = 400;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('once-per-party duties with several processes on one database', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()!().catch(() => undefined);
  });

  it('writes one heartbeat per interval for the party, across a change of sequencer', async () => {
    const db = await freshPgUrl();
    cleanup.push(() => db.drop());
    const us = makeParty('US');
    const accord = makeAccord([us, makeParty('CN')]);
    const runtimes: { rt: Runtime; node: ParleyNode; store: PgStore; stopped: boolean }[] = [];
    for (let i = 0; i < 3; i++) {
      const store = await PgStore.open(db.url, { max: 4 });
      const node = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store });
      const sequencer = new SequencerElection({ pool: store.pool, origin: node.origin, retryMs: 100, checkMs: 200 });
      const rt = await startRuntime({ node, store, sequencer, federation: { enabled: false }, heartbeatMs: INTERVAL });
      const r = { rt, node, store, stopped: false };
      runtimes.push(r);
      cleanup.push(async () => {
        if (!r.stopped) await rt.stop();
        await node.close();
        await store.close();
      });
    }
    const seqs = () => runtimes.filter((r) => !r.stopped && r.rt.sequencer!.isSequencer);
    await sleep(6 * INTERVAL);
    expect(seqs()).toHaveLength(1);
    // The sequencer goes away; another takes over and beats on.
    const first = seqs()[0]!;
    first.stopped = true;
    await first.rt.stop();
    await sleep(6 * INTERVAL);
    expect(seqs()).toHaveLength(1);
    expect(seqs()[0]).not.toBe(first);

    const beats = (await runtimes[1]!.store.outbox({ type: 'heartbeat', limit: 1000 })).map((e) => Date.parse(e.meta.time)).sort((a, b) => a - b);
    const span = beats.at(-1)! - beats[0]!;
    // One process would write span/INTERVAL + 1; three uncoordinated ones three times as many.
    expect(beats.length).toBeGreaterThanOrEqual(Math.floor(span / INTERVAL) - 1);
    expect(beats.length).toBeLessThanOrEqual(Math.ceil(span / INTERVAL) + 2);
    const gaps = beats.slice(1).map((t, i) => t - beats[i]!);
    // No double beat at the takeover: the new sequencer waited for the party's next beat.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(INTERVAL / 2);
  }, 60_000);

  it('a sequencer that loses its lock while its duties still stop (a pull from a silent peer in flight) leaves the lock to another process, which signs within seconds', async () => {
    // Issue 14's soak stall: on a loaded machine the sequencer's lock check timed out; its duties took long to
    // stop (requests to a peer that had just been killed wait for their timeout), and meanwhile it took the lock
    // back — "sequencer" by /healthz, refusing every write 503, and no other process could take over.
    const db = await freshPgUrl();
    cleanup.push(() => db.drop());
    // CN: accepts connections and never answers (a loaded or dying peer): requests wait for the peer timeout (5 s).
    const sockets = new Set<Socket>();
    let connections = 0;
    const silent = createServer((s) => {
      connections++;
      sockets.add(s.on('error', () => undefined));
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    cleanup.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    });
    const cnUrl = `http://127.0.0.1:${(silent.address() as { port: number }).port}`;
    const us = makeParty('US');
    const accord = makeAccord([us, makeParty('CN')]);
    const start = async (retryMs: number) => {
      const store = await PgStore.open(db.url, { max: 4 });
      const node = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store });
      const sequencer = new SequencerElection({ pool: store.pool, origin: node.origin, retryMs, checkMs: 200 });
      const rt = await startRuntime({ node, store, sequencer, peerUrls: { CN: cnUrl }, federation: { pollMs: 200, backoff: { baseMs: 100, maxMs: 300 } }, continuity: { trustLocalLog: true }, heartbeatMs: 0 });
      cleanup.push(async () => {
        await rt.stop();
        await node.close();
        await store.close();
      });
      return { rt, node, election: sequencer };
    };
    const until = async (what: string, cond: () => boolean, ms: number) => {
      const t0 = performance.now();
      while (!cond()) {
        if (performance.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
        await sleep(10);
      }
      return performance.now() - t0;
    };
    const a = await start(100);
    await until('A signs', () => a.node.isSequencer, 10_000);
    // B tries the lock less often than A (a slower, loaded process): without the hold, A takes the lock back first.
    const b = await start(1_000);
    expect(b.election.isSequencer).toBe(false);
    // A's federator pulls from CN again and again (each pull waits for CN until the peer timeout, 5 s, then backs off):
    // the lock session ends just as a new pull starts, so A's duties take seconds to stop.
    const before = connections;
    await until('a new pull from CN', () => connections > before, 20_000);
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    cleanup.push(() => admin.end());
    const lock = await admin.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::int4::oid AND objid = $2::int4::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, [LOCK_CLASS, sequencerLockKey(a.node.origin)]);
    expect(lock.rows).toHaveLength(1);
    await admin.query('SELECT pg_terminate_backend($1)', [lock.rows[0]!.pid]);
    await until('A steps down', () => !a.node.isSequencer, 3_000);
    // Someone signs again within a few seconds (B: its next try ≤ 1 s, its takeover ≤ ~1 s while CN is silent) …
    const ms = await until('a process signs again', () => a.node.isSequencer || b.node.isSequencer, 4_000);
    // … and it is B: A did not take the lock back while its last term's duties were stopping.
    expect(b.node.isSequencer).toBe(true);
    expect(a.election.isSequencer).toBe(false);
    console.log(`multi-duties: another process signs ${ms.toFixed(0)} ms after the sequencer's lock session ended`);
  }, 60_000);

  it('a follower refuses to sign, serves the sequencer\u2019s log and hears what it received', async () => {
    const db = await freshPgUrl();
    cleanup.push(() => db.drop());
    const us = makeParty('US');
    const cnParty = makeParty('CN');
    const accord = makeAccord([us, cnParty]);
    const runtimes: { rt: Runtime; node: ParleyNode }[] = [];
    for (let i = 0; i < 2; i++) {
      const store = await PgStore.open(db.url, { max: 4 });
      const node = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store });
      const sequencer = new SequencerElection({ pool: store.pool, origin: node.origin, retryMs: 100, checkMs: 200 });
      const rt = await startRuntime({ node, store, sequencer, federation: { enabled: false }, heartbeatMs: 0 });
      runtimes.push({ rt, node });
      cleanup.push(async () => {
        await rt.stop();
        await node.close();
        await store.close();
      });
    }
    for (let i = 0; i < 50 && !runtimes.some((r) => r.rt.sequencer!.isSequencer); i++) await sleep(50);
    const follower = runtimes.find((r) => !r.rt.sequencer!.isSequencer)!;
    const seq = runtimes.find((r) => r !== follower)!;
    // In-process, the follower's node refuses to sign itself…
    await expect(follower.node.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'x' })).rejects.toMatchObject({ code: 'SEQUENCER_UNAVAILABLE' });
    // …and its metrics say so.
    const m = await follower.rt.app.inject({ method: 'GET', url: '/healthz' });
    expect(m.json()).toMatchObject({ role: 'follower' });
    expect((await follower.rt.app.inject({ method: 'GET', url: '/metrics' })).body).toContain('parley_sequencer{party="US"} 0');
    expect((await seq.rt.app.inject({ method: 'GET', url: '/metrics' })).body).toContain('parley_sequencer{party="US"} 1');
    // A write that reaches a follower is handed to the sequencer: refused here only while none holds the lock.
    const forwarded = await follower.rt.app.inject({ method: 'POST', url: '/v1/messages', headers: { 'content-type': 'application/json' }, payload: { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'x' } });
    expect(forwarded.statusCode).toBe(401); // the sequencer's answer: no session
    expect((await seq.rt.app.inject({ method: 'GET', url: '/metrics' })).body).toContain('parley_http_requests_total{method="POST",route="/v1/messages",status="401"} 1');
    // Logins through a follower are throttled by the client's address, which the follower vouches for — not by its own.
    const login = (address: string, name: string) => follower.rt.app.inject({ method: 'POST', url: '/v1/sessions', remoteAddress: address, headers: { 'content-type': 'application/json' }, payload: { name, password: 'wrong password' } });
    const statuses: number[] = [];
    for (let i = 0; i < 22; i++) statuses.push((await login('10.0.0.7', `guess${i}`)).statusCode);
    expect(statuses.slice(0, 20).every((c) => c === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    expect((await login('10.0.0.8', 'someone')).statusCode).toBe(401);
    // A client cannot vouch for itself.
    const forged = await seq.rt.app.inject({ method: 'POST', url: '/v1/sessions', remoteAddress: '10.0.0.7', headers: { 'content-type': 'application/json', 'x-parley-client': '10.0.0.9', 'x-parley-client-mac': `${Math.floor(Date.now() / 1000)} AAAA` }, payload: { name: 'x', password: 'wrong password' } });
    expect(forged.statusCode).toBe(429);
    const sent = await seq.node.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'from the sequencer' });
    for (let i = 0; i < 50 && follower.node.treeSize <= sent.index; i++) await sleep(50);
    expect(follower.node.treeSize).toBe(seq.node.treeSize);
    // The follower's proofs are of the sequencer's checkpoint.
    expect(Buffer.from((await follower.node.latestCheckpoint())!).toString()).toBe(Buffer.from((await seq.node.latestCheckpoint())!).toString());

    // An entry the sequencer received reaches the follower's ingest listeners (its live events, governance).
    const cnStore = SqliteStore.open(':memory:');
    cleanup.push(() => cnStore.close());
    const cn = await ParleyNode.open({ accord, party: 'CN', keys: cnParty.keys, store: cnStore });
    cleanup.push(() => cn.close());
    const heard: { party: string; index: number }[] = [];
    follower.node.onIngest((es) => heard.push(...es.map((e) => ({ party: e.party, index: e.index }))));
    const m1 = await cn.sendMessage('li', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'to US' });
    await seq.node.ingest([(await cn.entryBytes(m1.index))!]);
    for (let i = 0; i < 50 && heard.length === 0; i++) await sleep(50);
    expect(heard).toEqual([{ party: 'CN', index: m1.index }]);

  }, 60_000);

  it('every process judges on cosigned bounds: a cosignature the sequencer recorded reaches a follower\u2019s bounds through the store', async () => {
    const db = await freshPgUrl();
    cleanup.push(() => db.drop());
    const us = makeParty('US');
    const accord = makeAccord([us, makeParty('CN')]);
    const runtimes: { rt: Runtime; node: ParleyNode; store: PgStore }[] = [];
    for (let i = 0; i < 2; i++) {
      const store = await PgStore.open(db.url, { max: 4 });
      const node = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store });
      const sequencer = new SequencerElection({ pool: store.pool, origin: node.origin, retryMs: 100, checkMs: 200 });
      const rt = await startRuntime({ node, store, sequencer, federation: { enabled: false }, heartbeatMs: 0, followMs: 100 });
      runtimes.push({ rt, node, store });
      cleanup.push(async () => {
        await rt.stop();
        await node.close();
        await store.close();
      });
    }
    for (let i = 0; i < 50 && !runtimes.some((r) => r.rt.sequencer!.isSequencer); i++) await sleep(50);
    const follower = runtimes.find((r) => !r.rt.sequencer!.isSequencer)!;
    const seq = runtimes.find((r) => r !== follower)!;
    // The sequencer's witness cosigned CN's log (witness requests are forwarded to it), and its push got
    // CN's cosignature of US's log back: both reported in the sequencer's process only.
    const t = Math.floor(Date.now() / 1000);
    noteCosigned(seq.store, { party: 'CN', cosigner: 'US', size: 7, timestamp: t });
    noteCosigned(seq.store, { party: 'US', cosigner: 'CN', size: 3, timestamp: t + 1 });
    const at = (s: number) => new Date(s * 1000).toISOString();
    const boundsOf = (r: { store: PgStore }) => cosignedBoundsOf(r.store);
    expect(boundsOf(follower), 'a follower runs cosigned bounds').toBeDefined();
    const deadline = Date.now() + 10_000;
    const both = () => [seq, follower].every((r) => boundsOf(r)?.provenBy('CN', 6, 'US')?.time === at(t) && boundsOf(r)?.provenBy('US', 2, 'CN')?.time === at(t + 1));
    while (!both() && Date.now() < deadline) await sleep(50);
    for (const r of [seq, follower]) {
      expect(boundsOf(r)?.provenBy('CN', 6, 'US')).toEqual({ time: at(t), how: 'cosignature' });
      expect(boundsOf(r)?.provenBy('US', 2, 'CN')).toEqual({ time: at(t + 1), how: 'cosignature' });
    }
  });

  it('a follower switches to an accord version the sequencer adopted, without a restart (the chain\u2019s revision in the store)', async () => {
    const db = await freshPgUrl();
    cleanup.push(() => db.drop());
    const us = makeParty('US');
    const cnParty = makeParty('CN');
    const accord = makeAccord([us, cnParty]);
    const runtimes: { rt: Runtime; node: ParleyNode; store: PgStore }[] = [];
    for (let i = 0; i < 2; i++) {
      const store = await PgStore.open(db.url, { max: 4 });
      const node = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store });
      const sequencer = new SequencerElection({ pool: store.pool, origin: node.origin, retryMs: 100, checkMs: 200 });
      const rt = await startRuntime({ node, store, sequencer, federation: { enabled: false }, heartbeatMs: 0 });
      runtimes.push({ rt, node, store });
      cleanup.push(async () => {
        await rt.stop();
        await node.close();
        await store.close();
      });
    }
    for (let i = 0; i < 50 && !runtimes.some((r) => r.rt.sequencer!.isSequencer); i++) await sleep(50);
    const follower = runtimes.find((r) => !r.rt.sequencer!.isSequencer)!;
    const seq = runtimes.find((r) => r !== follower)!;
    expect(follower.node.chain.current.version).toBe(1);
    // Version 2 (a longer heartbeat), approved by both parties, adopted by the sequencer.
    const cur = verifyAccord(accord);
    let v2: SignedAccord = { accord: draftAmendment(cur, { ...cur.accord, heartbeatSeconds: 1800 }), signatures: [] };
    v2 = signAccordVersion(v2, 'US', us.keys.log, { prior: true });
    v2 = signAccordVersion(v2, 'CN', cnParty.keys.log, { prior: true });
    await seq.node.adoptChain({ channel: cur.id, versions: [accord, v2], activations: [] });
    expect(await seq.store.accordChainRevision()).toBe(1);
    for (let i = 0; i < 100 && follower.node.chain.current.version < 2; i++) await sleep(50);
    expect(follower.node.chain.current.version).toBe(2);
    expect(follower.node.accord.accord.heartbeatSeconds).toBe(1800);
    expect(follower.node.chain.current.digest).toBe(seq.node.chain.current.digest);
    // Its API serves the new chain, and its governance decides by it.
    const served = (await follower.rt.app.inject({ method: 'GET', url: '/v1/accord/chain' })).json() as { versions: unknown[] };
    expect(served.versions).toHaveLength(2);
    expect(follower.node.governance!.chainFile().versions).toHaveLength(2);
    // The store's chain only grows: the follower's stale genesis-only chain is refused there.
    await expect(follower.store.putAccordChain({ channel: cur.id, versions: [], activations: [] })).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
  }, 60_000);
});
