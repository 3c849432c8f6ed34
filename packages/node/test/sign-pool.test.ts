/**
 * The signing pool (issue 14): Ed25519 signatures made on worker threads are
 * the signatures node:crypto makes on the main thread (Ed25519 is
 * deterministic) for every message of a turn, whichever key each names; a
 * node given the pool stores entries that verify, each at the index it names,
 * under many concurrent submissions; and a node whose
 * pool is gone refuses the write without using an index.
 */
import * as nc from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { verifyAccord, verifyEntry } from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { ParleyNode, SignPool } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const mainThreadSign = (seed: Uint8Array, m: Uint8Array) => new Uint8Array(nc.sign(null, m, nc.createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })));

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

describe('SignPool', () => {
  it('signs every message of a turn on its threads, each with its own key, as node:crypto does on the main thread', async () => {
    const pool = new SignPool(2);
    cleanup.push(() => pool.close());
    const seeds = [nc.randomBytes(32), nc.randomBytes(32)].map((b) => new Uint8Array(b));
    const messages = Array.from({ length: 300 }, (_, i) => new Uint8Array(nc.randomBytes(1 + ((i * 37) % 1500))));
    const sigs = await Promise.all(messages.map((m, i) => pool.sign(seeds[i % 3 === 0 ? 1 : 0]!, m)));
    sigs.forEach((s, i) => expect(Buffer.from(s).equals(Buffer.from(mainThreadSign(seeds[i % 3 === 0 ? 1 : 0]!, messages[i]!)))).toBe(true));
    // A bound signer, in a turn of its own (few messages: signed on the calling thread), signs the same.
    expect(await pool.signer(seeds[0]!)(messages[1]!)).toEqual(mainThreadSign(seeds[0]!, messages[1]!));
  });

  it('refuses a seed that is not 32 bytes (the batch rejects, on a thread or inline) and keeps signing afterwards', async () => {
    const pool = new SignPool(1);
    cleanup.push(() => pool.close());
    await expect(pool.sign(new Uint8Array(31), new Uint8Array([1]))).rejects.toThrow(/32 bytes/);
    const many = Array.from({ length: 10 }, () => pool.sign(new Uint8Array(31), new Uint8Array([1])));
    for (const p of many) await expect(p).rejects.toThrow(/signing thread: .*32 bytes/);
    const seed = new Uint8Array(32).fill(9);
    expect(await pool.sign(seed, new Uint8Array([1, 2, 3]))).toEqual(mainThreadSign(seed, new Uint8Array([1, 2, 3])));
  });

  it('rejects once closed', async () => {
    const pool = new SignPool(1);
    await pool.close();
    await expect(pool.sign(new Uint8Array(32), new Uint8Array([1]))).rejects.toThrow(/closed/);
  });
});

describe('ParleyNode with a SignPool', () => {
  it('stores entries signed on the pool that verify, each at the index it names, under concurrent submissions', async () => {
    const parties = ['US', 'CN'].map(makeParty);
    const accord = makeAccord(parties);
    const pool = new SignPool(2);
    const store = SqliteStore.open(':memory:');
    const node = await ParleyNode.open({ accord, party: 'US', keys: parties[0]!.keys, store, signPool: pool });
    cleanup.push(() => pool.close(), () => store.close(), () => node.close());
    const sent = await Promise.all(Array.from({ length: 400 }, (_, k) => node.sendMessage('alice', { precedence: 'ROUTINE', marking: k % 2 === 0 ? 'TLP:CLEAR' : 'TLP:AMBER', text: `m${k}` })));
    expect(sent.map((s) => s.index).sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    const v = verifyAccord(accord);
    const stored = await store.entries(0, 400);
    stored.forEach((e, i) => {
      const entry = verifyEntry(e.bytes, v).entry; // throws unless US's log key signed exactly these bytes
      expect(entry.seq).toBe(i);
      expect(entry.sig).toBe(sent.find((s) => s.index === i)!.entry.sig);
    });
  });

  it('refuses a write when its pool is gone, and uses no index for it', async () => {
    const parties = ['US', 'CN'].map(makeParty);
    const accord = makeAccord(parties);
    const pool = new SignPool(1);
    const store = SqliteStore.open(':memory:');
    const node = await ParleyNode.open({ accord, party: 'US', keys: parties[0]!.keys, store, signPool: pool });
    cleanup.push(() => store.close(), () => node.close());
    expect((await node.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'before' })).index).toBe(0);
    await pool.close();
    await expect(node.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'after' })).rejects.toThrow(/closed/);
    expect(node.treeSize).toBe(1);
    expect(await store.treeSize()).toBe(1);
  });
});
