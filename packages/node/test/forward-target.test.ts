/**
 * A follower hands writes to its party's sequencer (http/forward.ts, issue 14)
 * — and ONLY to it. A request line in absolute form (`POST http://host/… HTTP/1.1`)
 * or with a scheme-relative path (`POST //host/…`) must not make the follower
 * send the request (with the client's headers and a MAC it computed) to another
 * host and hand back that host's answer (server-side request forgery).
 *
 * Real processes' parts: two runtimes of US on one PostgreSQL database
 * (127.0.0.1:5432, store/test/pg.ts: started if down, FAILS when unreachable),
 * a raw TCP client, and a third HTTP server standing for the attacker's target.
 */
import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PgStore } from '@parley/store';
import { ParleyNode, type Runtime, SequencerElection, startRuntime } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { freshPgUrl } from '../../store/test/pg.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends raw bytes to host:port and returns the whole answer's status line. */
function raw(port: number, request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(request));
    let got = '';
    s.setTimeout(10_000, () => s.destroy(new Error('no answer')));
    s.on('data', (d) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) s.end();
    });
    s.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
    s.on('error', reject);
  });
}

describe('a follower forwards writes to its sequencer only', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()!().catch(() => undefined);
  });

  it('never sends a request to a host named in the request line', async () => {
    const hits: string[] = [];
    const target: Server = createServer((req, res) => {
      hits.push(`${req.method} ${req.url} ${req.headers['x-parley-client-mac'] ?? ''}`);
      res.writeHead(200, { 'content-type': 'text/plain' }).end('secret from another host');
    });
    await new Promise<void>((r) => target.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => target.close(() => r())));
    const tport = (target.address() as { port: number }).port;

    const db = await freshPgUrl();
    cleanup.push(() => db.drop());
    const us = makeParty('US');
    const accord = makeAccord([us, makeParty('CN')]);
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
    const fport = Number(new URL(follower.rt.url).port);

    const lines = [`POST http://127.0.0.1:${tport}/steal HTTP/1.1`, `POST //127.0.0.1:${tport}/steal HTTP/1.1`, `PUT http://127.0.0.1:${tport}/steal HTTP/1.1`, `POST /\\127.0.0.1:${tport}/steal HTTP/1.1`];
    for (const line of lines) {
      const status = await raw(fport, `${line}\r\nHost: 127.0.0.1:${fport}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
      expect(status, line).toMatch(/^HTTP\/1\.1 4\d\d /);
    }
    expect(hits).toEqual([]);
    // An ordinary write is still handed over (the sequencer answers: no session).
    const ok = await raw(fport, `POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1:${fport}\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}`);
    expect(ok).toMatch(/^HTTP\/1\.1 401 /);
  }, 60_000);
});
