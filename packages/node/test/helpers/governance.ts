/**
 * Fixtures shared by the governance tests over real HTTP on 127.0.0.1:
 * a free port, polling for a condition, the two officers every node gets,
 * and an HTTP caller that logs in once per node and officer.
 */
import { createServer as createNetServer } from 'node:net';
import type { SqliteStore } from '@parley/store';

/** A TCP port free on 127.0.0.1 right now. */
export async function freePort(): Promise<number> {
  const s = createNetServer();
  await new Promise<void>((done) => s.listen(0, '127.0.0.1', () => done()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((done) => s.close(() => done()));
  return port;
}

/** A free port for each of `ids`, its base URL written into `urls`. */
export async function allocatePorts(ids: readonly string[], urls: Record<string, string>): Promise<Map<string, number>> {
  const ports = new Map<string, number>();
  for (const id of ids) {
    ports.set(id, await freePort());
    urls[id] = `http://127.0.0.1:${ports.get(id)}`;
  }
  return ports;
}

/**
 * Polls `cond` every 50 ms.
 * @throws Error when `cond` is still false after `ms`.
 */
export async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Puts `root` (admin) and `alice` (officer) into `store`, both with the password hashed as `passwordHash`. */
export async function putGovernanceOfficers(store: SqliteStore, passwordHash: string): Promise<void> {
  for (const [name, role] of [['root', 'admin'], ['alice', 'officer']] as const) await store.putOfficer({ name, role, passwordHash, created: new Date().toISOString(), disabled: false });
}

export interface Reply {
  status: number;
  type: string;
  body: any;
}

/**
 * An HTTP caller: `call(id, method, path, body?, who = 'root')` sends to
 * `urls[id]` as officer `who` (logging in once, the token kept in `tokens`);
 * `who = 'none'` sends no credentials. A body that is not JSON is returned as
 * text when `lenientJson`; otherwise JSON.parse throws.
 */
export function httpCaller(urls: Record<string, string>, tokens: Map<string, string>, password: string, opts: { lenientJson?: boolean } = {}) {
  return async function call(id: string, method: string, path: string, body?: unknown, who = 'root'): Promise<Reply> {
    let token = tokens.get(`${id}/${who}`);
    if (!token && who !== 'none') {
      const r = await fetch(`${urls[id]}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: who, password }) });
      token = ((await r.json()) as { token: string }).token;
      tokens.set(`${id}/${who}`, token);
    }
    const res = await fetch(`${urls[id]}${path}`, {
      method,
      headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(who !== 'none' ? { authorization: `Bearer ${token}` } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    let parsed: unknown = text;
    if (opts.lenientJson) {
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON
      }
    } else parsed = text ? JSON.parse(text) : undefined;
    return { status: res.status, type: res.headers.get('content-type') ?? '', body: parsed };
  };
}
