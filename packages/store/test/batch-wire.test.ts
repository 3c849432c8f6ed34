/**
 * batchWire.ts: an AppendBatch packed into one transferable buffer for the
 * SQLite writer thread comes back, across a real MessagePort with the
 * buffers transferred, equal to what was packed — entries (bytes, leaf
 * hashes, metas, indexes), stored hashes, checkpoint, prevRoot, received
 * entries and idempotency records — and a malformed batch (a short hash, a
 * non-integer index) comes back just as malformed, for the store to refuse.
 */
import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { Frontier, leafHash } from '@parley/core';
import { fromWire, isWire, toWire, type WireBatch } from '../src/sqlite/batchWire.js';
import type { AppendBatch } from '../src/types.js';
import { buildBatch, entryBytes, meta } from './helpers.js';

/** Posts the packed batch through a real port, buffers transferred, and unpacks what arrives. */
async function across(b: AppendBatch): Promise<AppendBatch> {
  const { port1, port2 } = new MessageChannel();
  const [wire, transfer] = toWire(b);
  const got = new Promise<unknown>((r) => port2.once('message', r));
  port1.postMessage(wire, transfer);
  const m = await got;
  port1.close();
  port2.close();
  expect(isWire(m)).toBe(true);
  // Moved, not copied: the sender's buffer is detached.
  expect(wire.buf.byteLength).toBe(0);
  return fromWire(m as WireBatch);
}

const plain = (b: AppendBatch) => JSON.parse(JSON.stringify(b, (_k, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v)));

describe('the AppendBatch wire format of the SQLite writer thread', () => {
  it('brings a batch back equal, with received entries and idempotency records', async () => {
    const f = Frontier.empty();
    f.append(leafHash(entryBytes(0)));
    const b0 = buildBatch(f, Array.from({ length: 7 }, (_, i) => ({ bytes: entryBytes(i + 1, 'w', 10 + 97 * i), meta: meta({ to: ['CN', 'FR'], ...(i % 2 === 0 ? { incident: `inc-${i}` } : {}), refs: [{ party: 'CN', index: i, hash: 'h' }] }) })));
    const b: AppendBatch = {
      ...b0,
      received: [{ party: 'CN', index: 3, leafHash: leafHash(entryBytes(3)), bytes: entryBytes(3), meta: meta({ from: 'CN' }), receivedAt: '2026-05-14T12:00:01Z' }],
      idempotency: [{ scope: 'alice', key: 'k', digest: 'd'.repeat(64), indexes: [1, 2], response: '{}', createdAt: 5 }],
    };
    const back = await across(b);
    expect(plain(back)).toEqual(plain(b));
    expect(back.entries.map((e) => e.bytes.length)).toEqual(b.entries.map((e) => e.bytes.length));
  });

  it('moves the received entries\' bytes and leaf hashes in the transferred buffer: only their other fields are cloned', async () => {
    const b0 = buildBatch(Frontier.empty(), [{ bytes: entryBytes(0, 'receipt'), meta: meta({ type: 'receipt' }) }]);
    const received = Array.from({ length: 16 }, (_, i) => ({ party: i % 3 ? 'CN' : 'FR', index: i, leafHash: leafHash(entryBytes(i, 'cn', 900 + i)), bytes: entryBytes(i, 'cn', 900 + i), meta: meta({ from: 'CN' }), receivedAt: `2026-05-14T12:00:${String(i).padStart(2, '0')}Z` }));
    const b: AppendBatch = { ...b0, received };
    const [wire] = toWire(b);
    const cloned = (wire.rest as { received?: unknown }).received;
    expect(JSON.stringify(cloned, (_k, v: unknown) => (v instanceof Uint8Array ? 'BYTES' : v))).not.toContain('BYTES');
    expect(cloned).toHaveLength(16);
    expect(wire.buf.length).toBeGreaterThan(received.reduce((n, r) => n + r.bytes.length + 32, 0));
    const back = await across(b);
    expect(plain(back)).toEqual(plain(b));
    // A batch without received entries comes back without the field.
    expect('received' in (await across(b0))).toBe(false);
    // Received bytes that are not a Uint8Array are not packed (they would become other bytes).
    expect(() => toWire({ ...b, received: [{ ...received[0]!, bytes: 'text' as unknown as Uint8Array }] })).toThrow(TypeError);
  });

  it('keeps a malformed batch malformed (the store checks it, not the wire)', async () => {
    const b = buildBatch(Frontier.empty(), [{ bytes: entryBytes(0), meta: meta() }, { bytes: new Uint8Array(0), meta: meta() }]);
    const bad: AppendBatch = {
      ...b,
      entries: [{ ...b.entries[0]!, index: 0.5, leafHash: new Uint8Array(31) }, b.entries[1]!],
      hashes: [[-1, new Uint8Array(33)], ...b.hashes.slice(1)],
    };
    const back = await across(bad);
    expect(back.entries[0]!.index).toBe(0.5);
    expect(back.entries[0]!.leafHash.length).toBe(31);
    expect(back.entries[1]!.bytes.length).toBe(0);
    expect(back.hashes[0]![0]).toBe(-1);
    expect(back.hashes[0]![1].length).toBe(33);
    expect(plain(back)).toEqual(plain(bad));
  });

  it('refuses to pack a byte field that is not a Uint8Array (it would become other bytes)', () => {
    const b = buildBatch(Frontier.empty(), [{ bytes: entryBytes(0), meta: meta() }]);
    const text = { ...b, entries: [{ ...b.entries[0]!, bytes: 'not bytes' as unknown as Uint8Array }] };
    expect(() => toWire(text)).toThrow(TypeError);
    const hash = { ...b, hashes: [[0, [1, 2, 3] as unknown as Uint8Array] as const] };
    expect(() => toWire(hash)).toThrow(TypeError);
  });
});
