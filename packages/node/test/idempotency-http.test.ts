/**
 * Idempotency-Key on the writes that append (issue 14, http/idempotency.ts;
 * IETF httpapi-idempotency-key-header): a retry with the same key and the
 * same request gets the first answer and appends nothing; another request
 * under a used key is a 422; a retry while the first is still being served
 * is a 409 with Retry-After; the key is kept in the store with the entry, so
 * another process of the party — the new sequencer after a failover —
 * answers the retry the same way.
 *
 * Real parts: SQLite in memory and the server over `inject` for the API
 * rules; PostgreSQL on 127.0.0.1:5432 (store/test/pg.ts: started if down,
 * FAILS when unreachable) with real HTTP for the in-flight and failover cases.
 */
import { afterEach, describe, expect, it } from 'vitest';
import pg from 'pg';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgStore, SqliteStore } from '@parley/store';
import { createServer, ParleyNode, type Runtime, SequencerElection, hashPassword, startRuntime } from '../src/index.js';
import { makeAccord, makeParty, sampleReport } from './helpers/channel.js';
import { expectProblem, login, openHttpChannel, PASSWORD } from './helpers/http.js';
import { freshPgUrl } from '../../store/test/pg.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const msg = (text: string) => ({ to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:AMBER', text });

describe('Idempotency-Key (one process, SQLite)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('answers a retry with the first answer and appends nothing; another request under the key is a 422', async () => {
    const ch = await openHttpChannel(['US', 'CN']);
    close = () => ch.close();
    const us = ch.app('US');
    const alice = await login(us, 'alice');
    const post = (payload: unknown, key?: string, headers = alice) => us.inject({ method: 'POST', url: '/v1/messages', headers: { ...headers, ...(key !== undefined ? { 'idempotency-key': key } : {}) }, payload: payload as object });

    const first = await post(msg('one'), '"k-1"');
    expect(first.statusCode, first.body).toBe(201);
    expect(first.headers['idempotency-replayed']).toBeUndefined();
    const size = await ch.store('US').treeSize();
    // The same request again (the key bare or as a Structured Field string; the JSON in another order): the same answer.
    for (const again of [await post(msg('one'), '"k-1"'), await post(msg('one'), 'k-1'), await post({ text: 'one', marking: 'TLP:AMBER', precedence: 'ROUTINE', to: ['CN'] }, '"k-1"')]) {
      expect(again.statusCode, again.body).toBe(201);
      expect(again.headers['idempotency-replayed']).toBe('true');
      expect(again.headers['location']).toBe(first.headers['location']);
      expect(again.json()).toEqual(first.json());
    }
    expect(await ch.store('US').treeSize()).toBe(size);
    // Another body under the used key: refused, nothing written.
    const p = expectProblem(await post(msg('two'), '"k-1"'), 422, 'IDEMPOTENCY_KEY_REUSED');
    expect(String(p['detail'])).toContain('k-1');
    expect(await ch.store('US').treeSize()).toBe(size);
    // Keys are per officer: root's "k-1" is another key.
    const root = await post(msg('one'), '"k-1"', await login(us, 'root'));
    expect(root.statusCode, root.body).toBe(201);
    expect(root.json<{ index: number }>().index).not.toBe(first.json<{ index: number }>().index);
    // Without a key, as before: each request is a new entry.
    const a = await post(msg('same'));
    const b = await post(msg('same'));
    expect(b.json<{ index: number }>().index).toBe(a.json<{ index: number }>().index + 1);
    // A malformed key is a 400, before anything is written.
    const before = await ch.store('US').treeSize();
    for (const bad of ['""', 'x'.repeat(256), '"a\\"b"', 'caf\u00e9']) expectProblem(await post(msg('bad'), bad), 400, 'VALIDATION_FAILED');
    expect(await ch.store('US').treeSize()).toBe(before);
  });

  it('covers acks, reports and retractions: each replayed, none logged twice', async () => {
    const ch = await openHttpChannel(['US', 'CN']);
    close = () => ch.close();
    const us = ch.app('US');
    const cn = ch.app('CN');
    const alice = await login(us, 'alice');
    // CN receives a US message, to acknowledge.
    const sent = await us.inject({ method: 'POST', url: '/v1/messages', headers: alice, payload: msg('to ack') });
    const entry = (await ch.store('US').entry(sent.json<{ index: number }>().index))!;
    const ing = await cn.inject({ method: 'POST', url: '/v1/ingest', headers: await login(cn, 'root'), payload: { entries: [Buffer.from(entry.bytes).toString('base64')] } });
    expect(ing.statusCode, ing.body).toBe(200);
    const cnAlice = await login(cn, 'alice');
    const ack = () => cn.inject({ method: 'POST', url: `/v1/entries/US/${entry.index}/ack`, headers: { ...cnAlice, 'idempotency-key': '"ack-1"' }, payload: { reply: 'seen' } });
    const a1 = await ack();
    expect(a1.statusCode, a1.body).toBe(201);
    const cnSize = await ch.store('CN').treeSize();
    const a2 = await ack();
    expect(a2.json()).toEqual(a1.json());
    expect(await ch.store('CN').treeSize()).toBe(cnSize);

    const report = () => us.inject({ method: 'POST', url: '/v1/reports', headers: { ...alice, 'idempotency-key': '"rep-1"' }, payload: { to: ['CN'], marking: 'TLP:AMBER', report: sampleReport() } });
    const r1 = await report();
    expect(r1.statusCode, r1.body).toBe(201);
    const usSize = await ch.store('US').treeSize();
    expect((await report()).json()).toEqual(r1.json());
    const retract = () => us.inject({ method: 'POST', url: '/v1/retractions', headers: { ...alice, 'idempotency-key': '"ret-1"' }, payload: { entry: { index: r1.json<{ index: number }>().index }, reason: 'sent in error' } });
    const t1 = await retract();
    expect(t1.statusCode, t1.body).toBe(201);
    // Without the key this retry would be RETRACTION_ALREADY (409); with it, the first answer.
    const t2 = await retract();
    expect(t2.statusCode, t2.body).toBe(201);
    expect(t2.json()).toEqual(t1.json());
    expect(await ch.store('US').treeSize()).toBe(usSize + 1);
    const rec = await ch.store('US').idempotencyRecord('alice', 'ret-1');
    expect(rec?.indexes).toEqual([t1.json<{ index: number }>().index]);
  });
});

describe('Idempotency-Key when the write keeps losing the conditional append (SQLite file, two nodes of one party)', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await close?.();
    close = undefined;
  });

  it('is a 503 SEQUENCER_UNAVAILABLE with Retry-After, nothing written — not a 409 — and the resend with the key is logged once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-idem-race-'));
    const parties = ['US', 'CN'].map(makeParty);
    const accord = makeAccord(parties);
    const us = parties[0]!;
    const file = join(dir, 'US.sqlite');
    // The other process of the party: its own connection and node on the same file.
    const otherStore = SqliteStore.open(file);
    const other = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store: otherStore });
    const real = SqliteStore.open(file);
    let racing = false;
    let raced = 0;
    // Each batch of this node reaches the store just after the other process appended (a deposed
    // sequencer's batches landing while this one takes over): every conditional append is lost.
    const store = new Proxy(real, {
      get(t, p) {
        if (p === 'appendBatch') {
          return async (b: Parameters<SqliteStore['appendBatch']>[0]) => {
            if (racing) {
              raced++;
              await other.sendMessage('alice', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:AMBER', text: `other ${raced}` });
            }
            return t.appendBatch(b);
          };
        }
        const v: unknown = Reflect.get(t, p, t);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(t) : v;
      },
    });
    const node = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store });
    await real.putOfficer({ name: 'alice', role: 'officer', passwordHash: await hashPassword(PASSWORD), created: new Date().toISOString(), disabled: false });
    const app = await createServer({ node, store });
    close = async () => {
      await app.close();
      await node.close();
      await other.close();
      await real.close();
      await otherStore.close();
      rmSync(dir, { recursive: true, force: true });
    };
    const alice = await login(app, 'alice');
    const post = () => app.inject({ method: 'POST', url: '/v1/messages', headers: { ...alice, 'idempotency-key': '"race-1"' }, payload: msg('raced') });

    racing = true;
    const before = await real.treeSize();
    const lost = await post();
    const p = expectProblem(lost, 503, 'SEQUENCER_UNAVAILABLE');
    expect(lost.headers['retry-after']).toBeDefined();
    expect(p['status']).toBe(503);
    expect(raced).toBe(3); // staged three times, lost three times
    expect(await real.idempotencyRecord('alice', 'race-1')).toBeUndefined();
    // Only the other process's three entries were logged.
    expect(await real.treeSize()).toBe(before + 3);

    // The other process stops: the resend with the same key is logged, once.
    racing = false;
    const again = await post();
    expect(again.statusCode, again.body).toBe(201);
    const replay = await post();
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(replay.json()).toEqual(again.json());
    expect(await real.treeSize()).toBe(before + 4);
    expect((await real.idempotencyRecord('alice', 'race-1'))?.indexes).toEqual([before + 3]);
  });
});

describe('Idempotency-Key across processes (PostgreSQL, real HTTP)', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()!().catch(() => undefined);
  });

  async function party(n: number) {
    const db = await freshPgUrl();
    cleanup.push(() => db.drop());
    const us = makeParty('US');
    const accord = makeAccord([us, makeParty('CN')]);
    const procs: { rt: Runtime; node: ParleyNode; store: PgStore; stopped: boolean }[] = [];
    for (let i = 0; i < n; i++) {
      const store = await PgStore.open(db.url, { max: 4 });
      if (i === 0) await store.putOfficer({ name: 'alice', role: 'officer', passwordHash: await hashPassword(PASSWORD), created: new Date().toISOString(), disabled: false });
      const node = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store });
      const sequencer = new SequencerElection({ pool: store.pool, origin: node.origin, retryMs: 100, checkMs: 200 });
      const rt = await startRuntime({ node, store, sequencer, federation: { enabled: false }, heartbeatMs: 0 });
      const p = { rt, node, store, stopped: false };
      procs.push(p);
      cleanup.push(async () => {
        if (!p.stopped) await rt.stop();
        await node.close();
        await store.close();
      });
    }
    for (let i = 0; i < 100 && !procs.some((p) => p.rt.sequencer!.isSequencer); i++) await sleep(50);
    const r = await fetch(`${procs[0]!.rt.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alice', password: PASSWORD }) });
    expect(r.status).toBe(201);
    const token = ((await r.json()) as { token: string }).token;
    const post = async (url: string, body: unknown, key: string) => {
      const res = await fetch(`${url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'idempotency-key': `"${key}"` }, body: JSON.stringify(body) });
      return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
    };
    return { db, procs, post };
  }

  it('a retry while the first request is still being served is a 409 with Retry-After; then the first answer', async () => {
    const { db, procs, post } = await party(1);
    const url = procs[0]!.rt.url;
    // Hold the append lock from another session: the first write waits in the store, in flight.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    cleanup.push(() => holder.end());
    await holder.query('BEGIN');
    await holder.query('SELECT one FROM append_head FOR UPDATE');
    const first = post(url, msg('slow'), 'fly-1');
    // In flight once its append waits on the held lock (a session of the database blocked on a lock), bounded.
    const waiting = async () => (await holder.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`)).rows[0].n > 0;
    for (let end = Date.now() + 15_000; !(await waiting()); await sleep(20)) if (Date.now() > end) throw new Error('the first write never reached the store');
    const second = await post(url, msg('slow'), 'fly-1');
    expect(second.status, JSON.stringify(second.body)).toBe(409);
    expect(second.body['code']).toBe('IDEMPOTENCY_KEY_IN_FLIGHT');
    expect(second.headers.get('retry-after')).toBe('1');
    expect(second.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    await holder.query('COMMIT');
    const one = await first;
    expect(one.status, JSON.stringify(one.body)).toBe(201);
    const third = await post(url, msg('slow'), 'fly-1');
    expect(third.status).toBe(201);
    expect(third.headers.get('idempotency-replayed')).toBe('true');
    expect(third.body).toEqual(one.body);
    expect(await procs[0]!.store.treeSize()).toBe(1);
  }, 180_000);

  it('a key stored by one sequencer is answered by a follower and, after a failover, by the new sequencer: one entry', async () => {
    const { procs, post } = await party(2);
    const seq = procs.find((p) => p.rt.sequencer!.isSequencer)!;
    const other = procs.find((p) => p !== seq)!;
    const first = await post(seq.rt.url, msg('failover'), 'fo-1');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    // Through the follower (forwarded to the sequencer): replayed.
    const viaFollower = await post(other.rt.url, msg('failover'), 'fo-1');
    expect(viaFollower.status).toBe(201);
    expect(viaFollower.body).toEqual(first.body);
    // The sequencer goes; the other process takes over and answers the retry from the stored key.
    await seq.rt.stop();
    seq.stopped = true;
    for (let i = 0; i < 100 && !other.rt.sequencer!.isSequencer; i++) await sleep(50);
    expect(other.rt.sequencer!.isSequencer).toBe(true);
    const retry = await post(other.rt.url, msg('failover'), 'fo-1');
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    expect(retry.headers.get('idempotency-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(await other.store.treeSize()).toBe(1);
    // And a mismatch is refused there too.
    const reused = await post(other.rt.url, msg('something else'), 'fo-1');
    expect(reused.status).toBe(422);
    expect(reused.body['code']).toBe('IDEMPOTENCY_KEY_REUSED');
  }, 180_000);
});
