/**
 * Login throttling, officer administration, security headers and the
 * operator pages (issue 9, "Hostile input and load"), over real HTTP on
 * 127.0.0.1 against the node's server with a file-backed store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type HardeningOptions, createServer, hashPassword } from '../src/index.js';
import { openChannel } from './helpers/channel.js';
import { OFFICERS, PASSWORD } from './helpers/http.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-hardening-'));
let ch: Awaited<ReturnType<typeof openChannel>>;
const apps: { close(): Promise<unknown> }[] = [];

beforeAll(async () => {
  ch = await openChannel(['US', 'CN'], dir);
  const passwordHash = await hashPassword(PASSWORD);
  for (const [name, role] of Object.entries(OFFICERS)) await ch.store('US').putOfficer({ name, role, passwordHash, created: new Date().toISOString(), disabled: false });
}, 60_000);

afterAll(async () => {
  for (const a of apps) await a.close();
  await ch.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A listening server for US with `hardening`; returns its base URL. */
async function serve(hardening: HardeningOptions = {}): Promise<string> {
  const app = await createServer({ node: ch.node('US'), store: ch.store('US'), hardening });
  apps.push(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const a = app.server.address() as { port: number };
  return `http://127.0.0.1:${a.port}`;
}

interface Res {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function call(base: string, method: string, path: string, o: { token?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<Res> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...(o.body !== undefined ? { 'content-type': 'application/json' } : {}), ...(o.token ? { authorization: `Bearer ${o.token}` } : {}), ...o.headers },
    ...(o.body !== undefined ? { body: JSON.stringify(o.body) } : {}),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, headers: res.headers, body };
}

const login = (base: string, name: string, password = PASSWORD) => call(base, 'POST', '/v1/sessions', { body: { name, password } });
async function token(base: string, name: string, password = PASSWORD): Promise<string> {
  const r = await login(base, name, password);
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return r.body['token'] as string;
}

function expectProblem(r: Res, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(r.body['code']).toBe(code);
}

async function until(cond: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('login throttling (RFC 6585 429 + Retry-After)', () => {
  it('locks a name after its failures — even the right password waits — and lets it in once the lock ends', async () => {
    const base = await serve({ login: { nameFailures: 3, addressFailures: 100, baseLockMs: 1500 } });
    for (let i = 0; i < 3; i++) expectProblem(await login(base, 'alice', 'wrong password!'), 401, 'UNAUTHENTICATED');
    const locked = await login(base, 'alice');
    expectProblem(locked, 429, 'LOGIN_THROTTLED');
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    // Another name from the same address is not locked by alice's failures.
    expect((await login(base, 'audrey')).status).toBe(201);
    await until(async () => (await login(base, 'alice')).status === 201, 10_000);
  }, 30_000);

  it('locks an address that fails across many names', async () => {
    const base = await serve({ login: { nameFailures: 100, addressFailures: 4, baseLockMs: 60_000 } });
    for (const name of ['eve1', 'eve2', 'eve3', 'eve4']) expectProblem(await login(base, name, 'guess-guess-guess'), 401, 'UNAUTHENTICATED');
    const r = await login(base, 'root');
    expectProblem(r, 429, 'LOGIN_THROTTLED');
    expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(50);
  });

  it('behind a trusted reverse proxy, throttles the client address it forwards, not the proxy', async () => {
    const base = await serve({ trustProxy: '127.0.0.1', login: { nameFailures: 100, addressFailures: 2, baseLockMs: 60_000 } });
    const from = (ip: string, name: string, password: string) => call(base, 'POST', '/v1/sessions', { body: { name, password }, headers: { 'x-forwarded-for': ip } });
    for (const name of ['eve1', 'eve2']) expectProblem(await from('203.0.113.9', name, 'guess-guess-guess'), 401, 'UNAUTHENTICATED');
    expectProblem(await from('203.0.113.9', 'root', PASSWORD), 429, 'LOGIN_THROTTLED');
    expect((await from('198.51.100.7', 'root', PASSWORD)).status).toBe(201);
  });
});

describe('officer administration', () => {
  it('an admin disables an officer: their token stops working and they cannot log in; enabling lets them in again', async () => {
    const base = await serve();
    const root = await token(base, 'root');
    const alice = await token(base, 'alice');
    expect((await call(base, 'GET', '/v1/me', { token: alice })).status).toBe(200);
    expectProblem(await call(base, 'POST', '/v1/officers/alice/disable', { token: alice }), 403, 'FORBIDDEN');

    const off = await call(base, 'POST', '/v1/officers/alice/disable', { token: root });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ name: 'alice', disabled: true });
    expect(off.body['sessionsRevoked']).toBeGreaterThanOrEqual(1);
    expectProblem(await call(base, 'GET', '/v1/me', { token: alice }), 401, 'UNAUTHENTICATED');
    expectProblem(await login(base, 'alice'), 401, 'UNAUTHENTICATED');
    const list = await call(base, 'GET', '/v1/officers', { token: root });
    expect((list.body['officers'] as { name: string; disabled: boolean }[]).find((o) => o.name === 'alice')?.disabled).toBe(true);
    expectProblem(await call(base, 'POST', '/v1/officers/root/disable', { token: root }), 403, 'FORBIDDEN');
    expectProblem(await call(base, 'POST', '/v1/officers/nobody/disable', { token: root }), 404, 'NOT_FOUND');

    expect((await call(base, 'POST', '/v1/officers/alice/enable', { token: root })).body).toMatchObject({ disabled: false });
    expect((await login(base, 'alice')).status).toBe(201);
  });

  it('an officer changes their own password with the current one; other sessions end; an admin can set one', async () => {
    const base = await serve();
    const here = await token(base, 'audrey');
    const elsewhere = await token(base, 'audrey');
    expectProblem(await call(base, 'POST', '/v1/me/password', { token: here, body: { current: 'not it', password: 'a-new-password-456' } }), 403, 'PASSWORD_WRONG');
    expectProblem(await call(base, 'POST', '/v1/me/password', { token: here, body: { current: PASSWORD, password: 'short' } }), 400, 'VALIDATION_FAILED');
    const ok = await call(base, 'POST', '/v1/me/password', { token: here, body: { current: PASSWORD, password: 'a-new-password-456' } });
    expect(ok.body['name']).toBe('audrey');
    expect(ok.body['sessionsRevoked']).toBeGreaterThanOrEqual(1); // `elsewhere` (and audrey's sessions of earlier tests)
    expect((await call(base, 'GET', '/v1/me', { token: here })).status).toBe(200);
    expectProblem(await call(base, 'GET', '/v1/me', { token: elsewhere }), 401, 'UNAUTHENTICATED');
    expectProblem(await login(base, 'audrey'), 401, 'UNAUTHENTICATED');
    expect((await login(base, 'audrey', 'a-new-password-456')).status).toBe(201);

    const root = await token(base, 'root');
    const reset = await call(base, 'POST', '/v1/officers/audrey/password', { token: root, body: { password: PASSWORD } });
    expect(reset.body).toMatchObject({ name: 'audrey', disabled: false });
    expectProblem(await call(base, 'GET', '/v1/me', { token: here }), 401, 'UNAUTHENTICATED');
    expect((await login(base, 'audrey')).status).toBe(201);
    expectProblem(await call(base, 'POST', '/v1/officers/audrey/password', { token: here, body: { password: PASSWORD } }), 401, 'UNAUTHENTICATED');
  });
});

describe('security headers and operator pages', () => {
  it('puts the security headers on every response, and no-store on the API and errors', async () => {
    const base = await serve({ hsts: true });
    const t = await token(base, 'alice');
    for (const [path, tok] of [['/healthz'], ['/v1/me', t], ['/v1/me'], ['/no/such/route'], ['/log/checkpoint']] as [string, string?][]) {
      const r = await call(base, 'GET', path, tok ? { token: tok } : {});
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(r.headers.get('referrer-policy'), path).toBe('no-referrer');
      expect(r.headers.get('x-frame-options'), path).toBe('DENY');
      expect(r.headers.get('cross-origin-resource-policy'), path).toBe('same-origin');
      expect(r.headers.get('content-security-policy'), path).toContain("frame-ancestors 'none'");
      expect(r.headers.get('strict-transport-security'), path).toMatch(/^max-age=\d+/);
      if (path !== '/log/checkpoint') expect(r.headers.get('cache-control'), path).toBe('no-store');
    }
    expect((await call(await serve(), 'GET', '/healthz')).headers.get('strict-transport-security')).toBeNull();
    // The live event stream writes its own head: it carries them too.
    const stop = new AbortController();
    const sse = await fetch(`${base}/v1/events`, { headers: { authorization: `Bearer ${t}` }, signal: stop.signal });
    expect(sse.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(sse.headers.get('x-content-type-options')).toBe('nosniff');
    expect(sse.headers.get('x-frame-options')).toBe('DENY');
    stop.abort();
  });

  it('serves /metrics only with its token when one is set, not at all when off; /docs and /openapi.json only when public', async () => {
    const secret = 'metrics-token-0123456789';
    const gated = await serve({ metrics: { token: secret }, publicDocs: false });
    expectProblem(await call(gated, 'GET', '/metrics'), 401, 'UNAUTHENTICATED');
    expectProblem(await call(gated, 'GET', '/metrics', { token: 'metrics-token-0123456788' }), 401, 'UNAUTHENTICATED');
    const ok = await call(gated, 'GET', '/metrics', { token: secret });
    expect(ok.status).toBe(200);
    expect(String(ok.body['text'])).toContain('parley_');
    for (const p of ['/docs', '/docs/', '/docs/static/index.html', '/openapi.json']) expectProblem(await call(gated, 'GET', p), 404, 'NOT_FOUND');

    const off = await serve({ metrics: 'off' });
    expectProblem(await call(off, 'GET', '/metrics', { token: secret }), 404, 'NOT_FOUND');
    expect((await call(off, 'GET', '/openapi.json')).status).toBe(200);
  });
});
