/**
 * The continuity guard's start-up rule (issue 9, rollback.ts), with real
 * runtimes on 127.0.0.1 and real SQLite files: a brand-new channel just
 * works; with no peer reachable writes wait and then fail LOG_UNCONFIRMED
 * (503, the detail shown), /healthz is 503; a peer coming up releases the
 * waiting writes; `trustLocalLog` is the operator's override; a peer that
 * serves a checkpoint it did not cosign is not believed. (Rollback and
 * recovery through real processes: packages/cli/test/rollback.test.ts.)
 */
import { createServer as createHttpServer } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { newSigner, signCheckpoint } from '@parley/core/node';
import { type Runtime, hashPassword, startRuntime } from '../src/index.js';
import { openChannel } from './helpers/channel.js';
import { freePort } from './helpers/governance.js';

const PASSWORD = 'correct horse battery staple';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function channel() {
  const dir = mkdtempSync(join(tmpdir(), 'parley-continuity-'));
  const ch = await openChannel(['US', 'CN'], dir);
  const passwordHash = await hashPassword(PASSWORD);
  for (const id of ['US', 'CN']) await ch.store(id).putOfficer({ name: 'alice', role: 'officer', passwordHash, created: new Date().toISOString(), disabled: false });
  cleanups.push(async () => {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return ch;
}

async function run(o: Parameters<typeof startRuntime>[0]): Promise<Runtime> {
  const r = await startRuntime({ heartbeatMs: 0, ...o });
  cleanups.push(() => r.stop());
  return r;
}

async function call(r: Runtime, method: string, path: string, body?: unknown, token?: string): Promise<{ status: number; headers: Headers; body: any }> {
  const res = await fetch(`${r.url}${path}`, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
}

async function login(r: Runtime): Promise<string> {
  const s = await call(r, 'POST', '/v1/sessions', { name: 'alice', password: PASSWORD });
  expect(s.status).toBe(201);
  return s.body.token as string;
}

const message = { precedence: 'ROUTINE', marking: 'TLP:GREEN', text: 'hello' };

describe('continuity guard: the start-up rule', () => {
  it('a brand-new channel just works: a peer that never cosigned our log confirms size 0', async () => {
    const ch = await channel();
    const cn = await run({ node: ch.node('CN'), store: ch.store('CN'), federation: { enabled: false } });
    const us = await run({ node: ch.node('US'), store: ch.store('US'), peerUrls: { CN: cn.url }, federation: { pollMs: 60_000 } });
    expect(us.continuity?.state).toBe('confirmed');
    expect(us.continuity?.status().peers).toEqual([{ party: 'CN', status: 'none' }]);
    const h = await call(us, 'GET', '/healthz');
    expect(h.status).toBe(200);
    expect(h.body).toMatchObject({ status: 'ok', continuity: 'confirmed' });
    const sent = await call(us, 'POST', '/v1/messages', message, await login(us));
    expect(sent.status).toBe(201);
  });

  it('with no peer reachable, writes wait and then fail LOG_UNCONFIRMED (503, detail shown); nothing is signed', async () => {
    const ch = await channel();
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const us = await run({ node: ch.node('US'), store: ch.store('US'), peerUrls: { CN: nowhere }, federation: { pollMs: 60_000 }, continuity: { waitMs: 300 } });
    expect(us.continuity?.state).toBe('unconfirmed');
    const h = await call(us, 'GET', '/healthz');
    expect(h.status).toBe(503);
    expect(h.body).toMatchObject({ status: 'unconfirmed', continuity: 'unconfirmed' });
    await expect(ch.node('US').heartbeat()).rejects.toMatchObject({ code: 'LOG_UNCONFIRMED' });
    const r = await call(us, 'POST', '/v1/messages', message, await login(us));
    expect(r.status).toBe(503);
    expect(r.body.code).toBe('LOG_UNCONFIRMED');
    expect(r.body.detail).toMatch(/CN/);
    expect(r.headers.get('retry-after')).not.toBeNull();
    expect(ch.node('US').treeSize).toBe(0);
    expect(await ch.store('US').treeSize()).toBe(0);
    const c = await call(us, 'GET', '/v1/continuity', undefined, await login(us));
    expect(c.body).toMatchObject({ state: 'unconfirmed', localSize: 0, peers: [{ party: 'CN', status: 'asking' }] });
  });

  it('a write waiting while unconfirmed goes through once a peer answers', async () => {
    const ch = await channel();
    const port = await freePort();
    const us = await run({ node: ch.node('US'), store: ch.store('US'), peerUrls: { CN: `http://127.0.0.1:${port}` }, federation: { pollMs: 60_000 }, continuity: { waitMs: 20_000, retryMs: 100 } });
    expect(us.continuity?.state).toBe('unconfirmed');
    const waiting = ch.node('US').sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:GREEN', text: 'waits' });
    await run({ node: ch.node('CN'), store: ch.store('CN'), port, federation: { enabled: false } });
    const s = await waiting;
    expect(s.index).toBe(0);
    expect(us.continuity?.state).toBe('confirmed');
  });

  it('trustLocalLog: the operator\u2019s override signs without any peer', async () => {
    const ch = await channel();
    const nowhere = `http://127.0.0.1:${await freePort()}`;
    const us = await run({ node: ch.node('US'), store: ch.store('US'), peerUrls: { CN: nowhere }, federation: { pollMs: 60_000 }, continuity: { trustLocalLog: true, waitMs: 300 } });
    expect(us.continuity?.state).toBe('unchecked');
    expect((await call(us, 'GET', '/healthz')).status).toBe(200);
    expect((await ch.node('US').sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:GREEN', text: 'trusted' })).index).toBe(0);
  });

  it('a peer serving a checkpoint of our log it did not cosign is not believed', async () => {
    const ch = await channel();
    // A hostile "CN": serves a checkpoint of size 100 really signed by US's key (say, one it saw) but with no cosignature of its own.
    const us = ch.parties.find((p) => p.id === 'US')!;
    const forged = signCheckpoint({ origin: us.keys.log.name, treeSize: 100, rootHash: new Uint8Array(32).fill(7), extensions: [] }, newSigner(us.keys.log));
    const hostile = createHttpServer((req, res) => {
      if ((req.url ?? '').startsWith('/fed/v1/witness/US')) res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(Buffer.from(forged));
      else res.writeHead(404).end();
    });
    await new Promise<void>((done) => hostile.listen(0, '127.0.0.1', () => done()));
    cleanups.push(() => new Promise<void>((done) => hostile.close(() => done())));
    const url = `http://127.0.0.1:${(hostile.address() as { port: number }).port}`;
    const rt = await run({ node: ch.node('US'), store: ch.store('US'), peerUrls: { CN: url }, federation: { pollMs: 60_000 }, continuity: { waitMs: 300 } });
    const peer = rt.continuity?.status().peers[0];
    expect(peer).toMatchObject({ party: 'CN', status: 'invalid' });
    expect(rt.continuity?.state).toBe('unconfirmed');
    expect(rt.continuity?.status().cosignedSize).toBe(0);
  });
});
