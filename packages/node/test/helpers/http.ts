/**
 * HTTP test fixtures: a channel whose nodes each have a server (not
 * listening; `inject` for in-process tests) and three officers per node,
 * put straight into the store: `alice` (officer), `audrey` (auditor),
 * `root` (admin), all with {@link PASSWORD}.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { expect } from 'vitest';
import type { Role } from '@parley/store';
import { createServer, hashPassword } from '../../src/index.js';
import { openChannel } from './channel.js';

export const PASSWORD = 'correct horse battery staple';
export const OFFICERS: Readonly<Record<string, Role>> = { alice: 'officer', audrey: 'auditor', root: 'admin' };

let hashed: Promise<string> | undefined;

/** Opens a channel with a server per party. */
export async function openHttpChannel(ids: readonly string[], opts: { bodyLimit?: number; dir?: string } = {}) {
  const ch = await openChannel(ids, opts.dir);
  hashed ??= hashPassword(PASSWORD);
  const passwordHash = await hashed;
  const apps = new Map<string, FastifyInstance>();
  for (const id of ids) {
    for (const [name, role] of Object.entries(OFFICERS)) {
      await ch.store(id).putOfficer({ name, role, passwordHash, created: new Date().toISOString(), disabled: false });
    }
    apps.set(id, await createServer({ node: ch.node(id), store: ch.store(id), ...(opts.bodyLimit !== undefined ? { bodyLimit: opts.bodyLimit } : {}) }));
  }
  return {
    ...ch,
    app: (id: string) => apps.get(id)!,
    async close() {
      for (const a of apps.values()) await a.close();
      await ch.close();
    },
  };
}

/** Logs `name` in over `inject` and returns the bearer header. */
export async function login(app: FastifyInstance, name: string, password = PASSWORD): Promise<{ authorization: string }> {
  const r = await app.inject({ method: 'POST', url: '/v1/sessions', payload: { name, password } });
  expect(r.statusCode, r.body).toBe(201);
  return { authorization: `Bearer ${r.json<{ token: string }>().token}` };
}

/** Asserts an RFC 9457 problem response with `status` and `code`; returns its body. */
export function expectProblem(r: LightMyRequestResponse | { statusCode: number; headers: Record<string, unknown>; body: string }, status: number, code: string) {
  expect(r.statusCode, r.body).toBe(status);
  expect(String(r.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const p = JSON.parse(r.body) as Record<string, unknown>;
  expect(p).toMatchObject({ status, code, type: `urn:parley:error:${code.toLowerCase().replaceAll('_', '-')}` });
  expect(typeof p['title']).toBe('string');
  expect(typeof p['detail']).toBe('string');
  expect(JSON.stringify(p)).not.toMatch(/\bat .+:\d+:\d+/); // no stack frames
  return p;
}
