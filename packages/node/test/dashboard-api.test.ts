/**
 * The dashboard's API over real sockets on 127.0.0.1 (issue 5): two nodes,
 * US and CN, each with its own server; entries travel between them through
 * the nodes' ingest, as federation would deliver them.
 *
 *   - GET /v1/events: entry, checkpoint, deadline events as they happen;
 *     keepalive comments; Last-Event-ID replay and reset; bounded streams
 *   - GET /v1/incidents(/{id}): reports own and received, sealed from
 *     auditors, Chinese full-text search, filters, paging, the timeline
 *   - GET /v1/compliance(.csv): acks and receipts judged on time, RFC 4180 CSV
 *   - GET /v1/logs/{party}/…: own log from the store, the other party's from
 *     its node — the inclusion proof and checkpoint verify with core, as the
 *     browser does; bad input is 4xx, an unreachable node 502
 *   - the web app: index.html with a strict CSP, immutable assets, SPA fallback
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer as createTcpServer } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SqliteStore } from '@parley/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VerifierSet, appendSignatures, decodeUtf8, detectFork, formatAddCheckpointRequest, leafHash, newSigner, openCheckpoint, openWitnessedCheckpoint, parseBase64, signCheckpoint, verifyAccord, verifyConsistency, verifyInclusion } from '@parley/core/node';
import { ParleyNode, createServer, hashPassword, recordFork, CONTENT_SECURITY_POLICY, formatCsv, percentile, compliance } from '../src/index.js';
import { makeAccord, makeParty, openChannel, sampleReport } from './helpers/channel.js';
import { OFFICERS, PASSWORD, expectProblem } from './helpers/http.js';

type Channel = Awaited<ReturnType<typeof openChannel>>;
let ch: Channel;
const base: Record<string, string> = {};
const apps: FastifyInstance[] = [];
let webRoot: string;

async function server(party: string, o: Parameters<typeof createServer>[0] extends infer T ? Partial<T> : never = {}): Promise<string> {
  const app = await createServer({ node: ch.node(party), store: ch.store(party), ...o });
  apps.push(app);
  return app.listen({ port: 0, host: '127.0.0.1' });
}

beforeAll(async () => {
  ch = await openChannel(['CN', 'US']);
  const passwordHash = await hashPassword(PASSWORD);
  for (const id of ['CN', 'US']) {
    for (const [name, role] of Object.entries(OFFICERS)) await ch.store(id).putOfficer({ name, role, passwordHash, created: new Date().toISOString(), disabled: false });
  }
  webRoot = mkdtempSync(join(tmpdir(), 'parley-web-'));
  mkdirSync(join(webRoot, 'assets'));
  writeFileSync(join(webRoot, 'index.html'), '<!doctype html><html><head><script type="module" src="/assets/app-3f9a1c.js"></script></head><body><div id="root"></div></body></html>');
  writeFileSync(join(webRoot, 'assets', 'app-3f9a1c.js'), 'console.log("parley");');
  // What the web build leaves beside its files (packages/web/build/serveReady.ts), and a map that must never be served.
  for (const f of ['index.html', 'assets/app-3f9a1c.js']) {
    const raw = readFileSync(join(webRoot, f));
    writeFileSync(join(webRoot, `${f}.br`), brotliCompressSync(raw));
    writeFileSync(join(webRoot, `${f}.gz`), gzipSync(raw));
  }
  writeFileSync(join(webRoot, 'assets', 'app-3f9a1c.js.map'), '{"version":3,"sources":["secret.ts"]}');
  writeFileSync(join(webRoot, 'app.js.map'), '{"version":3,"sources":["secret.ts"]}');
  base['US'] = await server('US', { webRoot });
  base['CN'] = await server('CN', { peerUrls: { US: base['US'] } });
});
afterAll(async () => {
  for (const a of apps) await a.close();
  await ch?.close();
});

async function call(url: string, opts: { token?: string; headers?: Record<string, string>; method?: string; json?: unknown } = {}) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.json !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method: opts.method ?? 'GET', headers, ...(opts.json !== undefined ? { body: JSON.stringify(opts.json) } : {}) });
  const body = await res.text();
  return { statusCode: res.status, headers: Object.fromEntries(res.headers), body, json: <T>() => JSON.parse(body) as T };
}

/** A GET with node:http, so the body arrives as sent (fetch would decompress it). */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((done, fail) => {
    const req = httpRequest(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => done({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    req.on('error', fail);
    req.end();
  });
}

async function login(party: string, name: string): Promise<string> {
  const r = await call(`${base[party]}/v1/sessions`, { method: 'POST', json: { name, password: PASSWORD } });
  expect(r.statusCode, r.body).toBe(201);
  return r.json<{ token: string }>().token;
}

/** Delivers entries of `from`'s log to `to`, as federation would. */
async function deliver(from: string, to: string, indexes: readonly number[]) {
  const bytes = [];
  for (const i of indexes) bytes.push((await ch.store(from).entry(i))!.bytes);
  return ch.node(to).ingest(bytes);
}

interface SseEvent {
  id?: string;
  event?: string;
  data?: unknown;
  comment?: string;
}

/** An open event stream read with fetch, as the web app reads it. */
async function openEvents(url: string, token: string, headers: Record<string, string> = {}) {
  const ac = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, ...headers }, signal: ac.signal });
  const events: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  let buf = '';
  const reading = (async () => {
    if (!res.body) return;
    const dec = new TextDecoder();
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += dec.decode(chunk, { stream: true });
        let cut: number;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          const frame = buf.slice(0, cut);
          buf = buf.slice(cut + 2);
          const e: SseEvent = {};
          for (const line of frame.split('\n')) {
            if (line.startsWith(':')) e.comment = line.slice(1).trim();
            else if (line.startsWith('id: ')) e.id = line.slice(4);
            else if (line.startsWith('event: ')) e.event = line.slice(7);
            else if (line.startsWith('data: ')) e.data = JSON.parse(line.slice(6));
          }
          events.push(e);
          for (const w of waiters.splice(0)) w();
        }
      }
    } catch {
      // aborted
    }
  })();
  return {
    res,
    events,
    /** Waits for the first event (from `from` on) matching `pred`. */
    async next(pred: (e: SseEvent) => boolean, timeoutMs = 5000, from = 0): Promise<SseEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.slice(from).find(pred);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no matching event in ${JSON.stringify(events)}`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
    },
    /** Settles when the server ends the stream. */
    ended: reading,
    async close() {
      ac.abort();
      await reading;
    },
  };
}

describe('GET /v1/events', () => {
  it('streams entry, checkpoint and deadline events as entries are appended, received and answered', async () => {
    const us = await login('US', 'alice');
    const cn = await login('CN', 'audrey'); // auditors read events too
    const usEvents = await openEvents(`${base['US']}/v1/events`, us);
    const cnEvents = await openEvents(`${base['CN']}/v1/events`, cn);
    expect(usEvents.res.status).toBe(200);
    expect(usEvents.res.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(usEvents.res.headers.get('cache-control')).toBe('no-store');

    const sent = await call(`${base['US']}/v1/messages`, { method: 'POST', token: us, json: { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'Call now.' } });
    expect(sent.statusCode).toBe(201);
    const index = sent.json<{ index: number }>().index;
    const out = await usEvents.next((e) => e.event === 'entry');
    expect(out.data).toEqual({ party: 'US', index, type: 'hotline.message', precedence: 'FLASH', direction: 'out' });
    expect(Number(out.id)).toBeGreaterThan(0);
    expect((await usEvents.next((e) => e.event === 'checkpoint')).data).toEqual({ party: 'US', size: index + 1 });

    // CN receives it (and appends its receipt): an `in` entry, then its own `out` receipt.
    const { receipts } = await deliver('US', 'CN', [index]);
    expect((await cnEvents.next((e) => e.event === 'entry' && (e.data as { direction: string }).direction === 'in')).data).toEqual({ party: 'US', index, type: 'hotline.message', precedence: 'FLASH', direction: 'in' });
    expect((await cnEvents.next((e) => e.event === 'entry' && (e.data as { type: string }).type === 'receipt')).data).toMatchObject({ party: 'CN', direction: 'out' });

    // The receipt reaches US: the delivery US/index → CN turns `received`.
    await deliver('CN', 'US', [receipts[0]!.index]);
    const d = await usEvents.next((e) => e.event === 'deadline' && (e.data as { index: number }).index === index);
    expect(d.data).toEqual({ party: 'US', index, recipient: 'CN', state: 'received' });
    await usEvents.close();
    await cnEvents.close();
  });

  it('replays what a reconnecting client missed after Last-Event-ID, and tells a client it cannot serve to reset', async () => {
    const token = await login('US', 'alice');
    const a = await openEvents(`${base['US']}/v1/events`, token);
    await call(`${base['US']}/v1/messages`, { method: 'POST', token, json: { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'one' } });
    const first = await a.next((e) => e.event === 'entry');
    await call(`${base['US']}/v1/messages`, { method: 'POST', token, json: { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'two' } });
    const second = await a.next((e) => e.event === 'entry' && e.id !== first.id);

    const b = await openEvents(`${base['US']}/v1/events`, token, { 'last-event-id': first.id! });
    const replayed = await b.next((e) => e.event === 'entry');
    expect(replayed).toEqual(second);
    expect(b.events.some((e) => e.event === 'reset')).toBe(false);
    await b.close();

    const c = await openEvents(`${base['US']}/v1/events?lastEventId=1`, token);
    expect((await c.next((e) => e.event !== undefined)).event).toBe('reset');
    await c.close();
    await a.close();
  });

  it('ends a stream at the first keepalive after its session is revoked', async () => {
    const url = await server('US', { events: { keepaliveMs: 50 } });
    const token = await login('US', 'alice');
    const ev = await openEvents(`${url}/v1/events`, token);
    await ev.next((e) => e.comment === 'keepalive');
    expect((await call(`${url}/v1/sessions/current`, { method: 'DELETE', token })).statusCode).toBe(204);
    await ev.ended;
    expect(ev.events.filter((e) => e.event !== undefined)).toEqual([]);
  });

  it('rejects a malformed Last-Event-ID and a missing token with problems', async () => {
    const token = await login('US', 'alice');
    expectProblem(await call(`${base['US']}/v1/events`, { token, headers: { 'last-event-id': '01' } }), 400, 'VALIDATION_FAILED');
    expectProblem(await call(`${base['US']}/v1/events?lastEventId=x`, { token }), 400, 'VALIDATION_FAILED');
    expectProblem(await call(`${base['US']}/v1/events`), 401, 'UNAUTHENTICATED');
  });

  it('sends a keepalive comment, bounds the open streams and frees a slot when a stream closes', async () => {
    const url = await server('US', { events: { keepaliveMs: 50, maxStreams: 1 } });
    const token = await login('US', 'alice');
    const a = await openEvents(`${url}/v1/events`, token);
    expect((await a.next((e) => e.comment === 'keepalive')).comment).toBe('keepalive');
    const refused = await call(`${url}/v1/events`, { token });
    expectProblem(refused, 503, 'TOO_MANY_STREAMS');
    expect(refused.headers['retry-after']).toBe('10');
    await a.close();
    let status = 0;
    for (let i = 0; i < 50 && status !== 200; i++) {
      const b = await openEvents(`${url}/v1/events`, token);
      status = b.res.status;
      await b.close();
      if (status !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    expect(status).toBe(200);
  });
});

describe('GET /v1/incidents', () => {
  const id = 'US:2026-0042';
  let reports: number[] = [];

  beforeAll(async () => {
    const us = await login('US', 'alice');
    const send = async (body: unknown) => {
      const r = await call(`${base['US']}/v1/reports`, { method: 'POST', token: us, json: body });
      expect(r.statusCode, r.body).toBe(201);
      return r.json<{ index: number }>().index;
    };
    reports = [
      await send({ marking: 'TLP:AMBER', report: sampleReport({ incident: id, title: '前沿模型权重外泄', summary: '模型权重被复制到未知主机。', category: 'WT', severity: 5 }) }),
      await send({ marking: 'TLP:AMBER', report: sampleReport({ incident: id, kind: 'update', title: '前沿模型权重外泄（更新）', summary: '已确认外泄范围。', category: 'WT', severity: 6 }) }),
      await send({ marking: 'TLP:CLEAR', report: sampleReport({ incident: 'US:2026-0043', title: 'Chatbot gave dangerous advice', summary: 'Public chatbot; FULL-WIDTH ＡＢＣ text.', category: 'WT', severity: 2 }) }),
    ];
    const { receipts } = await deliver('US', 'CN', reports);
    expect(receipts.length).toBeGreaterThan(0);
    const cn = await login('CN', 'alice');
    const ack = await call(`${base['CN']}/v1/entries/US/${reports[0]}/ack`, { method: 'POST', token: cn, json: { reply: '收到' } });
    expect(ack.statusCode).toBe(201);
  });

  it('lists incidents held (received here), searching Chinese text case-insensitively, newest first', async () => {
    const token = await login('CN', 'alice');
    const r = await call(`${base['CN']}/v1/incidents?q=${encodeURIComponent('权重外泄')}`, { token });
    expect(r.statusCode, r.body).toBe(200);
    const items = r.json<{ items: Record<string, unknown>[] }>().items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ incident: id, party: 'US', title: '前沿模型权重外泄（更新）', category: 'WT', severity: 6, status: 'updated', entries: 2, latest: { party: 'US', index: reports[1] } });
    expect(items[0]!['sealed']).toBeUndefined();

    const all = (await call(`${base['CN']}/v1/incidents`, { token })).json<{ items: { incident: string }[] }>().items.map((i) => i.incident);
    expect(all).toEqual(['US:2026-0043', id]);
    // NFKC + lower case: "abc" finds full-width "ＡＢＣ".
    expect((await call(`${base['CN']}/v1/incidents?q=abc`, { token })).json<{ items: { incident: string }[] }>().items.map((i) => i.incident)).toEqual(['US:2026-0043']);
    expect((await call(`${base['CN']}/v1/incidents?severity=6&status=updated&category=WT&party=US`, { token })).json<{ items: unknown[] }>().items).toHaveLength(1);
    expect((await call(`${base['CN']}/v1/incidents?status=final`, { token })).json<{ items: unknown[] }>().items).toHaveLength(0);
    expect((await call(`${base['CN']}/v1/incidents?from=2000-01-01&to=2000-01-02`, { token })).json<{ items: unknown[] }>().items).toHaveLength(0);
  });

  it('shows auditors sealed incidents with metadata only, and never matches their sealed text', async () => {
    const token = await login('CN', 'audrey');
    const items = (await call(`${base['CN']}/v1/incidents`, { token })).json<{ items: Record<string, unknown>[] }>().items;
    const sealed = items.find((i) => i['incident'] === id)!;
    expect(sealed).toMatchObject({ incident: id, party: 'US', entries: 2, sealed: true });
    for (const k of ['title', 'category', 'severity', 'status']) expect(sealed[k], k).toBeUndefined();
    expect(items.find((i) => i['incident'] === 'US:2026-0043')).toMatchObject({ title: 'Chatbot gave dangerous advice' });
    expect((await call(`${base['CN']}/v1/incidents?q=${encodeURIComponent('权重')}`, { token })).json<{ items: unknown[] }>().items).toHaveLength(0);
    const tl = (await call(`${base['CN']}/v1/incidents/${id}`, { token })).json<{ timeline: Record<string, unknown>[] }>().timeline;
    expect(tl[0]).toMatchObject({ sealed: 'not-entitled' });
    expect(tl[0]!['body']).toBeUndefined();
  });

  it('pages with limit and the next cursor', async () => {
    const token = await login('CN', 'alice');
    const p1 = (await call(`${base['CN']}/v1/incidents?limit=1`, { token })).json<{ items: { incident: string }[]; next?: string }>();
    expect(p1.items.map((i) => i.incident)).toEqual(['US:2026-0043']);
    expect(p1.next).toBeDefined();
    const p2 = (await call(`${base['CN']}/v1/incidents?limit=1&before=${encodeURIComponent(p1.next!)}`, { token })).json<{ items: { incident: string }[]; next?: string }>();
    expect(p2.items.map((i) => i.incident)).toEqual([id]);
    expect(p2.next).toBeUndefined();
  });

  it('gives an incident’s timeline across parties, oldest first, with deadlines', async () => {
    const token = await login('CN', 'alice');
    const r = await call(`${base['CN']}/v1/incidents/${encodeURIComponent(id)}`, { token });
    expect(r.statusCode, r.body).toBe(200);
    const tl = r.json<{ incident: string; timeline: { party: string; index: number; entry: { type: string }; deadlines?: unknown[]; body?: { kind?: string } }[] }>();
    expect(tl.incident).toBe(id);
    expect(tl.timeline.map((v) => [v.party, v.entry.type])).toEqual([
      ['US', 'incident.report'],
      ['US', 'incident.report'],
      ['CN', 'ack'],
    ]);
    expect(tl.timeline[0]!.body?.kind).toBe('initial');
    expect(tl.timeline[0]!.deadlines).toEqual([expect.objectContaining({ recipient: 'CN', state: 'acknowledged' })]);
  });

  it('answers bad filters with 400 and unknown incidents with 404', async () => {
    const token = await login('CN', 'alice');
    for (const q of ['severity=9', 'severity=01', 'status=closed', 'category=ZZ', 'from=yesterday', 'before=nope', 'limit=0', 'q=', 'nope=1', 'party=us']) {
      expectProblem(await call(`${base['CN']}/v1/incidents?${q}`, { token }), 400, 'VALIDATION_FAILED');
    }
    expectProblem(await call(`${base['CN']}/v1/incidents/US:2099-0001`, { token }), 404, 'NOT_FOUND');
    expectProblem(await call(`${base['CN']}/v1/incidents/not-an-id`, { token }), 400, 'VALIDATION_FAILED');
  });
});

describe('GET /v1/compliance', () => {
  it('judges receipts and acks per sender, recipient and precedence, and exports RFC 4180 CSV', async () => {
    // US sends an IMMEDIATE message; CN receipts and acknowledges it; both answers reach US.
    const us = await login('US', 'alice');
    type Row = Record<string, number>;
    const ackRow = async () => (await call(`${base['US']}/v1/compliance`, { token: us })).json<{ acks: Row[] }>().acks.find((a) => a['from'] === ('US' as never) && a['party'] === ('CN' as never) && a['precedence'] === ('IMMEDIATE' as never));
    const before = (await ackRow()) ?? { count: 0, onTime: 0, overdue: 0, pending: 0 };
    const s = (await call(`${base['US']}/v1/messages`, { method: 'POST', token: us, json: { precedence: 'IMMEDIATE', marking: 'TLP:GREEN', text: 'compliance' } })).json<{ index: number }>();
    const { receipts } = await deliver('US', 'CN', [s.index]);
    const ack = await ch.node('CN').acknowledge('alice', 'US', s.index);
    await deliver('CN', 'US', [receipts[0]!.index, ack.index]);

    const r = await call(`${base['US']}/v1/compliance`, { token: us });
    expect(r.statusCode, r.body).toBe(200);
    const c = r.json<{ generated: string; acks: Record<string, unknown>[]; receipts: Record<string, unknown>[]; incidents: Record<string, unknown>[] }>();
    const row = c.acks.find((a) => a['from'] === 'US' && a['party'] === 'CN' && a['precedence'] === 'IMMEDIATE')!;
    expect(row).toMatchObject({ count: before['count']! + 1, onTime: before['onTime']! + 1, overdue: before['overdue'], pending: before['pending'], hitRate: 1 });
    expect(row['p50Ms']).toBeGreaterThanOrEqual(0);
    expect((row['histogram'] as { count: number }[]).reduce((n, b) => n + b.count, 0)).toBe(row['onTime']);
    expect((row['histogram'] as { leMs: number | null }[]).at(-1)!.leMs).toBeNull();
    expect(c.receipts.some((x) => x['precedence'] === 'IMMEDIATE' && x['onTime'] === 1)).toBe(true);
    expect(c.incidents).toContainEqual({ day: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/), category: 'WT', severity: 6, count: 1 });
    // Nothing sent before 2000.
    expect((await call(`${base['US']}/v1/compliance?to=2000-01-01`, { token: us })).json<{ acks: unknown[] }>().acks).toEqual([]);

    const csv = await call(`${base['US']}/v1/compliance.csv?kind=acks`, { token: us });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toMatch(/^text\/csv/);
    const lines = csv.body.split('\r\n');
    expect(lines[0]).toBe('from,party,precedence,count,onTime,overdue,pending,withdrawn,hitRate,p50Ms,p90Ms,p99Ms,maxMs');
    expect(lines).toContainEqual(`US,CN,IMMEDIATE,${row['count']},${row['onTime']},0,${row['pending']},${row['withdrawn']},1,${row['p50Ms']},${row['p90Ms']},${row['p99Ms']},${row['maxMs']}`);
    expect(csv.body.endsWith('\r\n')).toBe(true);
    expect((await call(`${base['US']}/v1/compliance.csv?kind=incidents`, { token: us })).body.split('\r\n')[0]).toBe('day,category,severity,count');
    expectProblem(await call(`${base['US']}/v1/compliance.csv?kind=everything`, { token: us }), 400, 'VALIDATION_FAILED');
    expectProblem(await call(`${base['US']}/v1/compliance.csv`, { token: us }), 400, 'VALIDATION_FAILED');
    expectProblem(await call(`${base['US']}/v1/compliance?from=2026-13-01`, { token: us }), 400, 'VALIDATION_FAILED');
  });

  it('quotes CSV fields per RFC 4180 and takes nearest-rank percentiles', () => {
    expect(formatCsv(['a', 'b'], [['x,y', 'say "hi"'], ['line\nbreak', null]])).toBe('a,b\r\n"x,y","say ""hi"""\r\n"line\nbreak",\r\n');
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.99)).toBe(4);
    expect(percentile([], 0.5)).toBeNull();
    expect(compliance([], { receiptSeconds: 60, ackSeconds: { FLASH: 1, IMMEDIATE: 1, PRIORITY: 1, ROUTINE: 1 }, initialReportSeconds: {} } as never)).toEqual({ receipts: [], acks: [] });
  });
});

describe('GET /v1/logs/{party}', () => {
  const verify = async (r: { party: string; index: number; treeSize: number; entry: string; leafHash: string; proof: string[]; checkpoint: string }, party: string) => {
    const accord = ch.accord.accord.parties.find((p) => p.id === party)!;
    const cp = openCheckpoint(r.checkpoint, new VerifierSet([accord.logKey])).checkpoint;
    expect(cp.treeSize).toBe(r.treeSize);
    const leaf = leafHash(parseBase64(r.entry));
    expect(Buffer.from(leaf).toString('base64')).toBe(r.leafHash);
    const proof = r.proof.map((p) => parseBase64(p));
    expect(verifyInclusion(proof, r.treeSize, cp.rootHash, r.index, leaf)).toBe(true);
    // The same proof does not verify another leaf.
    const other = Uint8Array.from(leaf);
    other[0]! ^= 1;
    expect(verifyInclusion(proof, r.treeSize, cp.rootHash, r.index, other)).toBe(false);
  };

  it('serves our own log: checkpoint, entry with an inclusion proof that verifies, listing', async () => {
    const token = await login('US', 'audrey');
    const note = await call(`${base['US']}/v1/logs/US/checkpoint`, { token });
    expect(note.statusCode).toBe(200);
    expect(note.headers['content-type']).toBe('text/plain; charset=utf-8');
    const r = await call(`${base['US']}/v1/logs/US/entries/1`, { token });
    expect(r.statusCode, r.body).toBe(200);
    const proof = r.json<Parameters<typeof verify>[0]>();
    expect(proof.checkpoint).toBe(note.body);
    await verify(proof, 'US');
    // At an older published size.
    const older = await call(`${base['US']}/v1/logs/US/entries/0?size=1`, { token });
    expect(older.statusCode, older.body).toBe(200);
    await verify(older.json(), 'US');

    const list = (await call(`${base['US']}/v1/logs/US?limit=2`, { token })).json<{ treeSize: number; items: { index: number; held: boolean; type?: string }[]; next?: number }>();
    expect(list.items.map((i) => i.index)).toEqual([list.treeSize - 1, list.treeSize - 2]);
    expect(list.items.every((i) => i.held && typeof i.type === 'string')).toBe(true);
    expect(list.next).toBe(list.treeSize - 2);
    const last = (await call(`${base['US']}/v1/logs/US?before=1`, { token })).json<{ items: { index: number }[]; next?: number }>();
    expect(last.items.map((i) => i.index)).toEqual([0]);
    expect(last.next).toBeUndefined();
  });

  it('serves another party’s log fetched from its node, and the proof verifies against its key', async () => {
    const token = await login('CN', 'alice');
    const note = await call(`${base['CN']}/v1/logs/US/checkpoint`, { token });
    expect(note.statusCode, note.body).toBe(200);
    const size = openCheckpoint(note.body, new VerifierSet([ch.accord.accord.parties.find((p) => p.id === 'US')!.logKey])).checkpoint.treeSize;
    // Index 1 was received by CN (held here); the last one was never sent to CN (fetched from US).
    for (const index of [1, size - 1]) {
      const r = await call(`${base['CN']}/v1/logs/US/entries/${index}`, { token });
      expect(r.statusCode, r.body).toBe(200);
      await verify(r.json(), 'US');
    }
    const list = (await call(`${base['CN']}/v1/logs/US?limit=200`, { token })).json<{ treeSize: number; items: { index: number; held: boolean }[] }>();
    expect(list.items.some((i) => i.held)).toBe(true);
    expect(list.items.length).toBeGreaterThan(0);
  });

  it('serves the witnessed checkpoints held: each peer\u2019s cosignature of our log, and our witness\u2019s of theirs', async () => {
    const us = ch.accord.accord.parties.find((p) => p.id === 'US')!.logKey;
    const cn = ch.accord.accord.parties.find((p) => p.id === 'CN')!.logKey;
    const token = await login('US', 'audrey');
    const none = (await call(`${base['US']}/v1/logs/US/cosigned`, { token })).json<{ notes: unknown[] }>();
    // CN's witness cosigns US's latest checkpoint, as a push would ask it to; US keeps the answer.
    const note = (await ch.node('US').latestCheckpoint())!;
    const size = openCheckpoint(note, new VerifierSet([us])).checkpoint.treeSize;
    const held = await ch.node('CN').witness.latest('US');
    const old = held?.treeSize ?? 0;
    const proof = old > 0 && old < size ? await ch.node('US').consistencyProof(old, size) : [];
    const a = await ch.node('CN').witness.addCheckpoint(formatAddCheckpointRequest({ oldSize: old, proof, checkpointNote: note }));
    expect(a.status).toBe(200);
    if (a.status !== 200) return;
    const cosigned = decodeUtf8(appendSignatures(note, [a.cosignature]));
    await ch.store('US').advanceOwnCosigned({ witness: 'CN', treeSize: size, cosignedAt: a.timestamp, note: cosigned });

    const own = (await call(`${base['US']}/v1/logs/US/cosigned`, { token })).json<{ party: string; notes: { witness: string; treeSize: number; note: string }[] }>();
    expect(none.notes).toEqual([]);
    expect(own.party).toBe('US');
    expect(own.notes).toEqual([{ witness: 'CN', treeSize: size, note: cosigned }]);
    const w = openWitnessedCheckpoint(own.notes[0]!.note, new VerifierSet([us]), [cn], { quorum: 1 });
    expect(w.cosignatures.map((c) => c.timestamp)).toEqual([a.timestamp]);
    // On CN: the latest of US's checkpoints that CN's own witness cosigned.
    const theirs = (await call(`${base['CN']}/v1/logs/US/cosigned`, { token: await login('CN', 'alice') })).json<{ notes: { witness: string; treeSize: number; note: string }[] }>();
    expect(theirs.notes.map((n) => [n.witness, n.treeSize])).toEqual([['CN', size]]);
    openWitnessedCheckpoint(theirs.notes[0]!.note, new VerifierSet([us]), [cn], { quorum: 1 });
    expectProblem(await call(`${base['US']}/v1/logs/XX/cosigned`, { token }), 404, 'NOT_FOUND');
  });

  it('serves consistency proofs between two sizes of any party\u2019s log, which verify against its checkpoints', async () => {
    const usKey = ch.accord.accord.parties.find((p) => p.id === 'US')!.logKey;
    const rootAt = async (size: number) => openCheckpoint((await ch.store('US').checkpointAt(size))!, new VerifierSet([usKey])).checkpoint.rootHash;
    const latest = openCheckpoint((await ch.node('US').latestCheckpoint())!, new VerifierSet([usKey])).checkpoint;
    expect(latest.treeSize).toBeGreaterThan(2);
    type Answer = { party: string; oldSize: number; newSize: number; proof: string[] };
    const check = (a: Answer, oldRoot: Uint8Array, newRoot: Uint8Array) => verifyConsistency(a.proof.map((p) => parseBase64(p)), a.oldSize, a.newSize, oldRoot, newRoot);
    // Our own log, from the store; and US's log as CN's node fetches it from US.
    for (const [at, token] of [['US', await login('US', 'audrey')], ['CN', await login('CN', 'alice')]] as const) {
      const r = await call(`${base[at]}/v1/logs/US/consistency?old=1&new=${latest.treeSize}`, { token });
      expect(r.statusCode, r.body).toBe(200);
      expect(r.headers['cache-control']).toBe('no-store');
      const a = r.json<Answer>();
      expect(a).toMatchObject({ party: 'US', oldSize: 1, newSize: latest.treeSize });
      expect(check(a, await rootAt(1), latest.rootHash)).toBe(true);
      // The same proof does not join another old root (a view the log never had).
      const other = Uint8Array.from(await rootAt(1));
      other[0]! ^= 1;
      expect(check(a, other, latest.rootHash)).toBe(false);
      const same = (await call(`${base[at]}/v1/logs/US/consistency?old=${latest.treeSize}&new=${latest.treeSize}`, { token })).json<Answer>();
      expect(same.proof).toEqual([]);
      // Sizes the log does not have: 400, also when the other party's node is the one that refuses.
      expectProblem(await call(`${base[at]}/v1/logs/US/consistency?old=1&new=${latest.treeSize + 1000}`, { token }), 400, 'TREE_ARGUMENT_INVALID');
    }
    const token = await login('US', 'audrey');
    expectProblem(await call(`${base['US']}/v1/logs/US/consistency?old=3&new=2`, { token }), 400, 'VALIDATION_FAILED');
    expectProblem(await call(`${base['US']}/v1/logs/US/consistency?old=0&new=2`, { token }), 400, 'VALIDATION_FAILED');
    expectProblem(await call(`${base['US']}/v1/logs/US/consistency?old=1`, { token }), 400, 'VALIDATION_FAILED');
    expectProblem(await call(`${base['US']}/v1/logs/US/consistency?old=1&new=2&x=1`, { token }), 400, 'VALIDATION_FAILED');
    expectProblem(await call(`${base['US']}/v1/logs/XX/consistency?old=1&new=2`, { token }), 404, 'NOT_FOUND');
    expectProblem(await call(`${base['US']}/v1/logs/US/consistency?old=1&new=2`), 401, 'UNAUTHENTICATED');
  });

  it('sends the accord\u2019s signatures, which verify as the accord the node runs on', async () => {
    const r = (await call(`${base['US']}/v1/accord`, { token: await login('US', 'audrey') })).json<{ id: string; accord: unknown; signedBy: string[]; signatures: { party: string; sig: string }[] }>();
    expect(r.signatures.map((s) => s.party)).toEqual(['CN', 'US']);
    const v = verifyAccord({ accord: r.accord as never, signatures: r.signatures }, { requireAll: true });
    expect(v.id).toBe(r.id);
    const forged = r.signatures.map((s) => (s.party === 'CN' ? { ...s, sig: r.signatures.find((x) => x.party === 'US')!.sig } : s));
    expect(() => verifyAccord({ accord: r.accord as never, signatures: forged })).toThrow();
  });

  it('answers bad input with 4xx and an unreachable node with 502', async () => {
    const token = await login('CN', 'alice');
    expectProblem(await call(`${base['CN']}/v1/logs/XX/checkpoint`, { token }), 404, 'NOT_FOUND');
    expectProblem(await call(`${base['CN']}/v1/logs/us/checkpoint`, { token }), 400, 'VALIDATION_FAILED');
    expectProblem(await call(`${base['CN']}/v1/logs/XX/entries/0`, { token }), 404, 'NOT_FOUND');
    expectProblem(await call(`${base['US']}/v1/logs/US/entries/999999`, { token: await login('US', 'alice') }), 400, 'TREE_ARGUMENT_INVALID');
    expectProblem(await call(`${base['US']}/v1/logs/US/entries/01`, { token: await login('US', 'alice') }), 400, 'VALIDATION_FAILED');
    expectProblem(await call(`${base['US']}/v1/logs/US/entries/0?size=0`, { token: await login('US', 'alice') }), 400, 'VALIDATION_FAILED');
    expectProblem(await call(`${base['US']}/v1/logs/US/entries/0?size=999999`, { token: await login('US', 'alice') }), 404, 'NOT_FOUND');
    expectProblem(await call(`${base['CN']}/v1/logs/US?limit=500`, { token }), 400, 'VALIDATION_FAILED');

    // CN's node with US's node unreachable (a port nothing listens on).
    const dead = await server('CN', { peerUrls: { US: 'http://127.0.0.1:9' } });
    const t2 = await call(`${dead}/v1/sessions`, { method: 'POST', json: { name: 'alice', password: PASSWORD } });
    const tok = t2.json<{ token: string }>().token;
    expectProblem(await call(`${dead}/v1/logs/US/entries/0`, { token: tok }), 502, 'UPSTREAM_UNAVAILABLE');
  });
});

describe('the web app on the node’s origin', () => {
  it('serves index.html with a strict CSP, assets as immutable, and client routes through the SPA fallback', async () => {
    const root = await call(`${base['US']}/`, { headers: { accept: 'text/html' } });
    expect(root.statusCode).toBe(200);
    expect(root.body).toContain('<div id="root">');
    expect(root.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(root.headers['content-security-policy']).toContain("script-src 'self'");
    expect(root.headers['content-security-policy']).not.toMatch(/script-src[^;]*unsafe/);
    expect(root.headers['x-content-type-options']).toBe('nosniff');

    const asset = await call(`${base['US']}/assets/app-3f9a1c.js`);
    expect(asset.statusCode).toBe(200);
    expect(asset.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(asset.headers['content-type']).toMatch(/javascript/);

    const route = await call(`${base['US']}/incidents/US:2026-0042`, { headers: { accept: 'text/html,application/xhtml+xml' } });
    expect(route.statusCode).toBe(200);
    expect(route.body).toContain('<div id="root">');
    expect(route.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
    expect(route.headers['cache-control']).toBe('no-cache');

    // API paths and non-HTML requests still get problems.
    expectProblem(await call(`${base['US']}/v1/nothing`, { headers: { accept: 'text/html' } }), 404, 'NOT_FOUND');
    expectProblem(await call(`${base['US']}/incidents`, { headers: { accept: 'application/json' } }), 404, 'NOT_FOUND');
    expectProblem(await call(`${base['US']}/assets/missing.js`, { headers: { accept: 'text/html' } }), 404, 'NOT_FOUND');
    // A node without a web root serves no app.
    expectProblem(await call(`${base['CN']}/`, { headers: { accept: 'text/html' } }), 404, 'NOT_FOUND');
  });

  it('sends the precompressed file the client accepts, with Content-Encoding and Vary, and never a source map', async () => {
    const js = readFileSync(join(webRoot, 'assets', 'app-3f9a1c.js'));
    const html = readFileSync(join(webRoot, 'index.html'));
    const decode: Record<string, (b: Buffer) => Buffer> = { br: brotliDecompressSync, gzip: gunzipSync };
    for (const [accept, encoding] of [['br', 'br'], ['gzip, deflate, br', 'br'], ['gzip', 'gzip'], ['identity', undefined], ['', undefined]] as const) {
      for (const [path, bytes, cache, html_] of [['/assets/app-3f9a1c.js', js, 'public, max-age=31536000, immutable', false], ['/', html, 'no-cache', true], ['/incidents', html, 'no-cache', true]] as const) {
        const r = await rawGet(`${base['US']}${path}`, { 'accept-encoding': accept, ...(html_ ? { accept: 'text/html' } : {}) });
        expect(r.status, `${path} ${accept}`).toBe(200);
        expect(r.headers['content-encoding'], `${path} ${accept}`).toBe(encoding);
        expect(String(r.headers['vary'])).toMatch(/accept-encoding/i);
        expect(r.headers['cache-control']).toBe(cache);
        expect(r.headers['content-type']).toMatch(html_ ? /^text\/html/ : /javascript/);
        expect(r.headers['content-security-policy']).toBe(CONTENT_SECURITY_POLICY);
        expect(encoding === undefined ? r.body : decode[encoding]!(r.body)).toEqual(bytes);
      }
    }
    // Maps have no URL, and the SPA fallback does not answer for them either.
    for (const path of ['/assets/app-3f9a1c.js.map', '/app.js.map']) {
      for (const accept of ['text/html', '*/*']) {
        const r = await rawGet(`${base['US']}${path}`, { accept, 'accept-encoding': 'br, gzip' });
        expect(r.status, `${path} ${accept}`).toBe(404);
        expect(r.body.toString()).not.toContain('secret.ts');
      }
    }
    // Nor do the compressed siblings: they are only sent for their file, with Content-Encoding.
    for (const path of ['/assets/app-3f9a1c.js.br', '/assets/app-3f9a1c.js.gz', '/index.html.gz']) expect((await rawGet(`${base['US']}${path}`, { accept: '*/*' })).status, path).toBe(404);
  });

  it('documents the new routes in OpenAPI', async () => {
    const doc = (await call(`${base['US']}/openapi.json`)).json<{ paths: Record<string, unknown> }>();
    for (const p of ['/v1/events', '/v1/incidents', '/v1/incidents/{id}', '/v1/compliance', '/v1/compliance.csv', '/v1/logs/{party}', '/v1/logs/{party}/checkpoint', '/v1/logs/{party}/entries/{index}', '/v1/logs/{party}/consistency']) {
      expect(doc.paths[p], p).toBeDefined();
    }
    expect(Object.keys(doc.paths).some((p) => p.includes('assets'))).toBe(false);
    const schemas = (doc as unknown as { components: { schemas: Record<string, unknown> } }).components.schemas;
    for (const id of ['EntryEvent', 'DeadlineEvent', 'LinkEvent', 'ForkEvent', 'CheckpointEvent', 'IncidentSummary', 'ComplianceRow', 'LogEntryProof', 'LogConsistencyProof']) expect(schemas[id], id).toBeDefined();
  });
});

describe('deadline events by the clock, and a silent peer', () => {
  it('announces a delivery going overdue when its deadline passes, with no write in between', async () => {
    const parties = ['CN', 'US'].map(makeParty);
    const accord = makeAccord(parties, { deadlines: { receiptSeconds: 1, ackSeconds: { FLASH: 1, IMMEDIATE: 1, PRIORITY: 1, ROUTINE: 1 }, initialReportSeconds: { '0': 1, '1': 1, '2': 1, '3': 1, '4': 1, '5': 1, '6': 1, '7': 1 } } });
    const store = SqliteStore.open(':memory:');
    const node = await ParleyNode.open({ accord, party: 'US', keys: parties[1]!.keys, store });
    await store.putOfficer({ name: 'alice', role: 'officer', passwordHash: await hashPassword(PASSWORD), created: new Date().toISOString(), disabled: false });
    const app = await createServer({ node, store });
    try {
      const url = await app.listen({ port: 0, host: '127.0.0.1' });
      const token = (await (await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alice', password: PASSWORD }) })).json() as { token: string }).token;
      const ev = await openEvents(`${url}/v1/events`, token);
      const sent = await node.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'nobody answers' });
      const isIt = (state: string) => (e: SseEvent) => e.event === 'deadline' && (e.data as { index: number; state: string }).index === sent.index && (e.data as { state: string }).state === state;
      expect((await ev.next(isIt('sent'))).data).toEqual({ party: 'US', index: sent.index, recipient: 'CN', state: 'sent' });
      expect((await ev.next(isIt('overdue-receipt'), 4000)).data).toEqual({ party: 'US', index: sent.index, recipient: 'CN', state: 'overdue-receipt' });
      await ev.close();
    } finally {
      await app.close();
      await node.close();
      await store.close();
    }
  });

  it('answers 504 UPSTREAM_TIMEOUT when the other party\u2019s node accepts but never answers', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent = createTcpServer((s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const url = await server('CN', { peerUrls: { US: `http://127.0.0.1:${port}` } });
      const token = (await (await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alice', password: PASSWORD }) })).json() as { token: string }).token;
      // An entry's proof always comes from US's node (the checkpoint may be held here).
      expectProblem(await call(`${url}/v1/logs/US/entries/0`, { token }), 504, 'UPSTREAM_TIMEOUT');
    } finally {
      for (const s of sockets) s.destroy();
      silent.close();
    }
  });
});

// Last: the fork proof it records quarantines US's log on CN.
describe('fork and link events', () => {
  it('announces a new fork proof and the link going down', async () => {
    const url = await server('CN', { events: { linkPollMs: 50 } });
    const token = await login('CN', 'alice');
    const ev = await openEvents(`${url}/v1/events`, token);
    await new Promise((r) => setTimeout(r, 150)); // the first (silent) link poll
    const us = ch.parties.find((p) => p.id === 'US')!;
    const signer = newSigner(us.keys.log);
    const note = (root: number) => signCheckpoint({ origin: us.keys.log.name, treeSize: 3, rootHash: new Uint8Array(32).fill(root), extensions: [] }, signer);
    const proof = detectFork(verifyAccord(ch.accord), 'US', note(1), note(2));
    expect(proof).toBeDefined();
    expect(await recordFork(ch.store('CN'), 'US', proof!)).toBe(true);
    expect((await ev.next((e) => e.event === 'fork')).data).toEqual({ party: 'US' });
    expect((await ev.next((e) => e.event === 'link')).data).toEqual({ party: 'US', state: 'down' });
    await ev.close();
  });
});
