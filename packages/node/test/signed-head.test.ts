/**
 * Federation routes check the request signature before reading a large body
 * (issue 9): a request with `Content-Digest` (RFC 9530) has its
 * Parley-Signature verified from its head, so a forged push is answered 401
 * while its 16 MiB body is still being sent; the body is then checked
 * against the digest before the nonce is recorded; and a real push, whose
 * client now sends the header, works end to end. Real HTTP on 127.0.0.1,
 * real SQLite files.
 */
import { request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CONTENT_DIGEST_HEADER,
  REQUEST_SIGNATURE_HEADER,
  contentDigestOf,
  formatAddCheckpointRequest,
  generateSignerKey,
  getCrypto,
  parseCheckpoint,
  parseNote,
  signRequestWithDigest,
} from '@parley/core/node';
import type { FastifyInstance } from 'fastify';
import { PeerClient, createServer, loadPushCursor, pushTo } from '../src/index.js';
import { openChannel } from './helpers/channel.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-signed-head-'));
let ch: Awaited<ReturnType<typeof openChannel>>;
let app: FastifyInstance;
let port = 0;

beforeAll(async () => {
  ch = await openChannel(['US', 'CN'], dir);
  app = await createServer({ node: ch.node('CN'), store: ch.store('CN') });
  await app.listen({ host: '127.0.0.1', port: 0 });
  port = (app.server.address() as { port: number }).port;
}, 60_000);

afterAll(async () => {
  await app?.close();
  await ch?.close();
  rmSync(dir, { recursive: true, force: true });
});

const liveNonces = async () => (await ch.store('CN').liveNonces(Date.now() / 1000)).length;

interface Streamed {
  status: number;
  body: Record<string, unknown>;
  /** Body bytes written when the answer's head arrived. */
  writtenAtAnswer: number;
}

/**
 * POSTs `length` bytes in 64 KiB chunks over a fresh connection, yielding to
 * the event loop between chunks, and stops sending as soon as the answer's
 * head arrives (as a client that reads while it writes does).
 */
function streamPost(path: string, headers: Record<string, string>, length: number, chunk: (offset: number, size: number) => Uint8Array): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    let written = 0;
    let answered = false;
    const req = httpRequest({ host: '127.0.0.1', port, method: 'POST', path, agent: false, headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(length) } });
    req.on('error', (e) => {
      if (!answered) reject(e);
    });
    req.on('response', (res) => {
      answered = true;
      const writtenAtAnswer = written;
      const parts: Buffer[] = [];
      res.on('data', (c: Buffer) => parts.push(c));
      res.on('end', () => {
        req.destroy();
        let body: Record<string, unknown> = {};
        try {
          body = JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
        } catch {
          body = { text: Buffer.concat(parts).toString('utf8') };
        }
        resolve({ status: res.statusCode ?? 0, body, writtenAtAnswer });
      });
    });
    req.flushHeaders();
    const pump = async () => {
      while (!answered && written < length) {
        const size = Math.min(64 * 1024, length - written);
        await new Promise<void>((ok, fail) => req.write(chunk(written, size), (e) => (e ? fail(e) : ok())));
        written += size;
        await new Promise((r) => setImmediate(r));
      }
      if (!answered) req.end();
    };
    pump().catch((e: unknown) => {
      if (!answered) reject(e as Error);
    });
  });
}

describe('signature checked from the head (Content-Digest)', () => {
  it('answers a push with a plausible header but a bad signature 401 before its 16 MiB body is sent, and records nothing', async () => {
    const path = '/fed/v1/bundle';
    const size = 16 * 1024 * 1024;
    const body = new Uint8Array(size).fill(0x61);
    const stranger = generateSignerKey('stranger.parley.test/log');
    // Claims US (a party of the accord), fresh, well-formed: everything the old pre-body checks look at passes.
    const forged = signRequestWithDigest({ accordId: ch.node('US').accord.id, from: 'US', to: 'CN', method: 'POST', path, body, signer: getCrypto().ed25519Signer(stranger.seed), now: Date.now() / 1000 });
    const before = await liveNonces();
    const r = await streamPost(path, { [REQUEST_SIGNATURE_HEADER]: forged.signature, [CONTENT_DIGEST_HEADER]: forged.contentDigest }, size, (o, n) => body.subarray(o, o + n));
    expect(r.status, JSON.stringify(r.body)).toBe(401);
    expect(r.body['code']).toBe('REQUEST_UNAUTHENTICATED');
    expect(r.writtenAtAnswer).toBeLessThan(1024 * 1024);
    expect(await liveNonces()).toBe(before);

    // A malformed Content-Digest is refused before the body too.
    const real = ch.node('US').signRequestHeaders({ to: 'CN', method: 'POST', path, body });
    const m = await streamPost(path, { ...real, [CONTENT_DIGEST_HEADER]: `sha-512=:${Buffer.alloc(64).toString('base64')}:` }, size, (o, n) => body.subarray(o, o + n));
    expect(m.status).toBe(400);
    expect(m.body['code']).toBe('CONTENT_DIGEST_MALFORMED');
    expect(m.writtenAtAnswer).toBeLessThan(1024 * 1024);
  }, 60_000);

  it('refuses a body that is not the one its digest names (nonce not used), then takes the same head with the right body', async () => {
    const us = ch.node('US');
    await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:AMBER', text: 'a checkpoint to witness' });
    const note = (await us.latestCheckpoint())!;
    const held = (await ch.node('CN').witness.latest(us.party))?.treeSize ?? 0;
    const size = parseCheckpoint(parseNote(note).text).treeSize;
    const body = formatAddCheckpointRequest({ oldSize: held, proof: held > 0 && held < size ? await us.consistencyProof(held, size) : [], checkpointNote: note });
    const path = '/witness/add-checkpoint';
    const headers = us.signRequestHeaders({ to: 'CN', method: 'POST', path, body });
    expect(headers[CONTENT_DIGEST_HEADER]).toBe(contentDigestOf(body));
    const tampered = body.slice();
    tampered[tampered.length - 2]! ^= 1;
    const before = await liveNonces();
    const bad = await streamPost(path, headers, tampered.length, (o, n) => tampered.subarray(o, o + n));
    expect(bad.status, JSON.stringify(bad.body)).toBe(400);
    expect(bad.body['code']).toBe('CONTENT_DIGEST_MISMATCH');
    expect(await liveNonces()).toBe(before);
    expect((await ch.node('CN').witness.latest(us.party))?.treeSize ?? 0).toBe(held);

    const good = await streamPost(path, headers, body.length, (o, n) => body.subarray(o, o + n));
    expect(good.status, JSON.stringify(good.body)).toBe(200);
    expect(await liveNonces()).toBe(before + 1);
    expect((await ch.node('CN').witness.latest(us.party))?.treeSize).toBe(size);
    // Its replay is refused from the head: the nonce is now held.
    const replay = await streamPost(path, headers, body.length, (o, n) => body.subarray(o, o + n));
    expect(replay.status).toBe(401);
    expect(replay.body['code']).toBe('REQUEST_UNAUTHENTICATED');
  }, 60_000);

  it('delivers a real push end to end: the federation client sends Content-Digest and the node takes it', async () => {
    const us = ch.node('US');
    const s = await us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'pushed with a digest' });
    const sent: { path: string; digest: string | null; signature: string | null }[] = [];
    const recording = (async (input: string | URL | Request, init?: RequestInit) => {
      const h = new Headers(init?.headers);
      sent.push({ path: new URL(String(input)).pathname, digest: h.get('content-digest'), signature: h.get('parley-signature') });
      return fetch(input, init);
    }) as typeof fetch;
    const peer = new PeerClient(us, 'CN', { url: `http://127.0.0.1:${port}`, fetch: recording });
    const cursor = await loadPushCursor(ch.store('US'), 'CN');
    await pushTo(us, ch.store('US'), peer, cursor, 256);
    expect(sent.length).toBeGreaterThan(0);
    for (const r of sent) {
      expect(r.signature).not.toBeNull();
      expect(r.digest).toMatch(/^sha-256=:[A-Za-z0-9+/]{43}=:$/);
    }
    expect(await ch.store('CN').received('US', s.index)).toBeDefined();
    expect(cursor.cosigned).toBe(us.treeSize);
  }, 60_000);
});
