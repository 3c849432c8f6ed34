/**
 * A follower hands a write to whatever listens at its sequencer's URL
 * (http/forward.ts, issue 14). That URL can name another server by the
 * time the write is handed over: the sequencer was killed and its port was
 * reused — by another party's node on the same machine, by any program —
 * or --advertise-url names the wrong host. The transient `401 unknown or
 * revoked token` seen around sequencer kills was this: another party's node
 * took the forwarded write and authenticated the officer's token against
 * its own sessions. Now a forwarded request not vouched for by this
 * party's key is refused (503, nothing run), and a follower hands back only
 * an answer its party's sequencer acknowledged (503 otherwise, retried).
 *
 * Real parts: two runtimes of US on one PostgreSQL database (127.0.0.1:5432,
 * store/test/pg.ts: started if down, FAILS when unreachable), CN's node on
 * SQLite with its HTTP server, and a plain HTTP server on the same port
 * after CN's closed — the reused port. Real HTTP throughout.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PgStore, SqliteStore } from '@parley/store';
import { ParleyNode, type Runtime, SequencerElection, createServer as createParleyServer, hashPassword, startRuntime } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { freshPgUrl } from '../../store/test/pg.js';
import { freePort } from '../../cli/test/helpers/parties.js';

const PASSWORD = 'correct horse battery staple';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function post(url: string, path: string, body: unknown, token?: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const r = await fetch(url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await r.text();
  return { status: r.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

describe("a follower's write reaches only its own party's sequencer", () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()!().catch(() => undefined);
  });

  it('forwarded to another party\u2019s node (or another program) on the sequencer\u2019s port: 503 to retry, never that server\u2019s 401, nothing run there', async () => {
    const us = makeParty('US');
    const cn = makeParty('CN');
    const accord = makeAccord([us, cn]);
    // CN's node listens on the port US's sequencer names (its port reused).
    const dir = mkdtempSync(join(tmpdir(), 'parley-forward-party-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const cnStore = SqliteStore.open(join(dir, 'cn.sqlite'));
    const cnNode = await ParleyNode.open({ accord, party: 'CN', keys: cn.keys, store: cnStore });
    const passwordHash = await hashPassword(PASSWORD);
    await cnStore.putOfficer({ name: 'alice', role: 'officer', passwordHash, created: new Date().toISOString(), disabled: false });
    const cnApp = await createParleyServer({ node: cnNode, store: cnStore });
    const port = await freePort();
    await cnApp.listen({ port, host: '127.0.0.1' });
    cleanup.push(async () => {
      await cnApp.close();
      await cnNode.close();
      await cnStore.close();
    });
    const reused = `http://127.0.0.1:${port}`;

    const db = await freshPgUrl();
    cleanup.push(() => db.drop());
    const runtimes: Runtime[] = [];
    for (let i = 0; i < 2; i++) {
      const store = await PgStore.open(db.url, { max: 4 });
      if (i === 0) await store.putOfficer({ name: 'alice', role: 'officer', passwordHash, created: new Date().toISOString(), disabled: false });
      const node = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store });
      const sequencer = new SequencerElection({ pool: store.pool, origin: node.origin, retryMs: 100, checkMs: 200 });
      // The first to start takes the lock, and names the reused port as its URL.
      const rt = await startRuntime({ node, store, sequencer, federation: { enabled: false }, heartbeatMs: 0, ...(i === 0 ? { advertiseUrl: reused } : {}) });
      runtimes.push(rt);
      cleanup.push(async () => {
        await rt.stop();
        await node.close();
        await store.close();
      });
      if (i === 0) for (let k = 0; k < 100 && !rt.sequencer!.isSequencer; k++) await sleep(50);
    }
    const [seq, follower] = runtimes as [Runtime, Runtime];
    expect(seq.sequencer!.isSequencer).toBe(true);
    expect(follower.sequencer!.isSequencer).toBe(false);
    expect(await follower.sequencer!.sequencerUrl(0)).toBe(reused);
    // A token of US (the sequencer answers itself).
    const login = await post(seq.url, '/v1/sessions', { name: 'alice', password: PASSWORD });
    expect(login.status, JSON.stringify(login.body)).toBe(201);
    const token = login.body['token'] as string;
    const before = cnNode.treeSize;

    // Through the follower: CN's node takes nothing of it, the client is told to retry.
    const r = await post(follower.url, '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'to US, handed to the wrong server' }, token);
    expect(r.status, JSON.stringify(r.body)).toBe(503);
    expect(r.body).toMatchObject({ code: 'SEQUENCER_UNAVAILABLE' });
    // Even a login CN would accept (alice has the same password there) is not CN's to answer.
    const l2 = await post(follower.url, '/v1/sessions', { name: 'alice', password: PASSWORD });
    expect(l2.status, JSON.stringify(l2.body)).toBe(503);
    expect(cnNode.treeSize).toBe(before);
    expect(await cnStore.dumpTables().sessions()).toEqual([]);

    // Another program on the port, answering 201 to anything: not the sequencer's answer either.
    await cnApp.close();
    const hits: string[] = [];
    const other: Server = createServer((req, res) => {
      hits.push(`${req.method} ${req.url}`);
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"index":0}');
    });
    await new Promise<void>((done) => other.listen(port, '127.0.0.1', done));
    cleanup.push(() => new Promise((done) => other.close(() => done(undefined))));
    const r2 = await post(follower.url, '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'to another program' }, token);
    expect(hits).toEqual(['POST /v1/messages']);
    expect(r2.status, JSON.stringify(r2.body)).toBe(503);
    expect(r2.body).toMatchObject({ code: 'SEQUENCER_UNAVAILABLE' });

    // Written directly to the sequencer, the same write is logged (the refusals were the wrong server's).
    const ok = await post(seq.url, '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'to US, directly' }, token);
    expect(ok.status, JSON.stringify(ok.body)).toBe(201);
  }, 60_000);
});
