/**
 * Forwarding across a rotation of the party's log key (http/forward.ts): a
 * MAC under a log key the party rotated away from is accepted for a short
 * grace (ParleyNode.forwardKeys: RETIRED_FORWARD_KEY_MS, covered end to end in
 * follower-rotation.test.ts), but it never vouches for the client's address:
 * after a rotation for compromise, the old key's holder must not set the
 * address the sequencer throttles logins and caps uploads by. And the
 * acknowledgement of a forwarded request is made under the key that made its
 * vouch, fixed when the vouch is checked: a request that activates a
 * rotation changes the keys before its answer is sent.
 *
 * Real parts: a ParleyNode on SQLite (its forwarding key, real HMAC), the
 * forwarding hooks on a Fastify server listening on 127.0.0.1, real HTTP.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteStore } from '@parley/store';
import { ParleyNode } from '../src/index.js';
import { FORWARDED_FOR_HEADER, FORWARDED_HEADER, FORWARD_ACK_HEADER, FORWARD_MAC_HEADER, type ForwardKeys, clientAddress, registerForward } from '../src/http/forward.js';
import type { App } from '../src/http/context.js';
import type { ForwardKey } from '../src/service.js';
import { makeAccord, makeParty } from './helpers/channel.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-forward-retired-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A server with the forwarding hooks that accepts `accepted` and answers the client address it believes. */
async function serve(current: ForwardKey, accepted: ForwardKey[]): Promise<{ url: string; close: () => Promise<void> }> {
  const app = Fastify();
  const keys: ForwardKeys = { current: () => current, accepted: () => accepted };
  registerForward(app as unknown as App, undefined, keys);
  app.post('/who', async (req) => ({ client: clientAddress(req) }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
}

describe('a forwarded request vouched for under a retired log key', () => {
  it('is taken within the grace, acknowledged under that key, but its client address is not believed', async () => {
    const us = makeParty('US');
    const store = SqliteStore.open(join(dir, 'us.sqlite'));
    const node = await ParleyNode.open({ accord: makeAccord([us, makeParty('CN')]), party: 'US', keys: us.keys, store });
    try {
      const key = node.forwardKey();
      expect(key.retired).toBe(false);
      const retired: ForwardKey = { mac: (m) => key.mac(m), retired: true };
      const at = String(Math.floor(Date.now() / 1000));
      const vouch = `${at} ${key.mac(`POST\n/who\n203.0.113.9\n${at}`)}`;
      const send = (url: string) =>
        fetch(`${url}/who`, { method: 'POST', headers: { [FORWARDED_HEADER]: 'http://127.0.0.1:1', [FORWARDED_FOR_HEADER]: '203.0.113.9', [FORWARD_MAC_HEADER]: vouch }, signal: AbortSignal.timeout(10_000) });
      for (const [k, believed] of [
        [key, true],
        [retired, false],
      ] as const) {
        const s = await serve(key, [k]);
        try {
          const r = await send(s.url);
          expect(r.status).toBe(200);
          expect(r.headers.get(FORWARD_ACK_HEADER)).toBe(key.mac(`forward-ack\n${vouch}`));
          const { client } = (await r.json()) as { client: string };
          expect(client).toBe(believed ? '203.0.113.9' : '127.0.0.1');
        } finally {
          await s.close();
        }
      }
    } finally {
      await node.close();
      await store.close();
    }
  }, 30_000);

  it('is acknowledged under the key that made its vouch even when the request itself switches the keys (a rotation it activates)', async () => {
    const us = makeParty('US');
    const cn = makeParty('CN');
    const accord = makeAccord([us, cn]);
    const usStore = SqliteStore.open(join(dir, 'us-switch.sqlite'));
    const cnStore = SqliteStore.open(join(dir, 'cn-switch.sqlite'));
    const usNode = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store: usStore });
    const cnNode = await ParleyNode.open({ accord, party: 'CN', keys: cn.keys, store: cnStore });
    try {
      // Two distinct real keys: `old` vouches; the request's handler makes `fresh` the key in use, `old` retired.
      const old = usNode.forwardKey();
      const fresh = cnNode.forwardKey();
      let accepted: ForwardKey[] = [old];
      const app = Fastify();
      registerForward(app as unknown as App, undefined, { current: () => accepted[0]!, accepted: () => accepted });
      app.post('/activate', async () => {
        accepted = [fresh, { mac: (m) => old.mac(m), retired: true }];
        return { ok: true };
      });
      const url = await app.listen({ host: '127.0.0.1', port: 0 });
      try {
        const at = String(Math.floor(Date.now() / 1000));
        const vouch = `${at} ${old.mac(`POST\n/activate\n127.0.0.1\n${at}`)}`;
        const r = await fetch(`${url}/activate`, { method: 'POST', headers: { [FORWARDED_HEADER]: 'http://127.0.0.1:1', [FORWARDED_FOR_HEADER]: '127.0.0.1', [FORWARD_MAC_HEADER]: vouch }, signal: AbortSignal.timeout(10_000) });
        expect(r.status).toBe(200);
        // The follower checks the acknowledgement under the key it vouched with.
        expect(r.headers.get(FORWARD_ACK_HEADER)).toBe(old.mac(`forward-ack\n${vouch}`));
      } finally {
        await app.close();
      }
    } finally {
      await usNode.close();
      await cnNode.close();
      await usStore.close();
      await cnStore.close();
    }
  }, 30_000);
});
