/**
 * LogWriter (group commit) over the real SqliteStore on temp files: the log
 * it builds is the RFC 6962 tree of what was acknowledged, one checkpoint per
 * batch, batches grow under load, failures leave no gap and no reused index,
 * and proofs served from the store verify.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  consistencyProofFromHashes,
  consistencyProofIndexes,
  encodeUtf8,
  inclusionProofFromHashes,
  inclusionProofIndexes,
  leafHash,
  MemoryTree,
  StoreError,
  signCheckpoint,
  signerKeyFromSeed,
  newSigner,
  verifyConsistency,
  verifyInclusion,
} from '@parley/core';
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/sqlite/store.js';
import { LogWriter, type Appended, type Prepared } from '../src/writer.js';
import type { LogStore } from '../src/types.js';
import { checkLog, checkpointOf, expectRejectsCode, meta, ORIGIN, openTestCheckpoint, signTestCheckpoint, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());
let n = 0;
const freshPath = () => join(tmp.dir, `writer-${n++}.sqlite`);

const opts = { origin: ORIGIN, signCheckpoint: signTestCheckpoint };
/** An entry that embeds its own index, as the node's signed envelopes do. */
const entry = (tag: string) => (index: number, time: Date): Prepared => ({
  bytes: encodeUtf8(JSON.stringify({ seq: index, tag, time: time.toISOString() })),
  meta: meta({ time: time.toISOString() }),
});

async function openPair(path = freshPath(), o: Partial<Parameters<typeof LogWriter.open>[1]> = {}) {
  const store = SqliteStore.open(path);
  const writer = await LogWriter.open(store, { ...opts, ...o });
  return { path, store, writer };
}

describe('LogWriter', () => {
  it('turns hundreds of concurrent appends into a few batches whose root is the tree of the acknowledged leaves', async () => {
    const { path, store, writer } = await openPair();
    const results = await Promise.all(Array.from({ length: 600 }, (_, k) => writer.append(entry(`c${k}`))));
    expect(results.map((r) => r.index).sort((a, b) => a - b)).toEqual(Array.from({ length: 600 }, (_, i) => i));
    const stored = await store.entries(0, 600);
    const t = new MemoryTree();
    for (const e of stored) t.append(leafHash(e.bytes));
    const cp = openTestCheckpoint((await store.latestCheckpoint())!);
    expect(cp.treeSize).toBe(600);
    expect(cp.rootHash).toEqual(t.root());
    // Each result's index matches the bytes it was built for, and its checkpoint is the batch's.
    for (const r of results) {
      expect(JSON.parse(new TextDecoder().decode(stored[r.index]!.bytes)).seq).toBe(r.index);
      expect(r.leafHash).toEqual(stored[r.index]!.leafHash);
      expect(r.index).toBeLessThan(r.treeSize);
      expect(await store.checkpointAt(r.treeSize)).toEqual(r.checkpoint);
    }
    // One checkpoint per batch, batches of more than one entry.
    const batches = new Set(results.map((r) => r.treeSize));
    expect(batches.size).toBeLessThan(600);
    const rows = new Database(path, { readonly: true });
    expect(rows.prepare('SELECT count(*) FROM checkpoints').pluck().get()).toBe(batches.size);
    rows.close();
    expect(writer.size).toBe(600);
    expect(writer.latestCheckpoint()).toEqual(await store.latestCheckpoint());
    await writer.close();
    await store.close();
  });

  it('respects maxBatch and keeps batching while a batch commits', async () => {
    const { store, writer } = await openPair(freshPath(), { maxBatch: 7 });
    const results = await Promise.all(Array.from({ length: 100 }, (_, k) => writer.append(entry(`m${k}`))));
    const perBatch = new Map<number, number>();
    for (const r of results) perBatch.set(r.treeSize, (perBatch.get(r.treeSize) ?? 0) + 1);
    expect(Math.max(...perBatch.values())).toBeLessThanOrEqual(7);
    expect(perBatch.size).toBeGreaterThanOrEqual(Math.ceil(100 / 7));
    await writer.close();
    await store.close();
  });

  it('rejects only the submission whose prepare throws, and leaves no gap', async () => {
    const { store, writer } = await openPair();
    const boom = new Error('prepare failed');
    const settled = await Promise.allSettled(
      Array.from({ length: 50 }, (_, k) => writer.append(k % 7 === 3 ? () => { throw boom; } : entry(`g${k}`))),
    );
    const ok = settled.filter((s): s is PromiseFulfilledResult<Appended> => s.status === 'fulfilled').map((s) => s.value.index);
    const failed = settled.filter((s) => s.status === 'rejected');
    expect(failed.length).toBe(7);
    for (const f of failed) expect((f as PromiseRejectedResult).reason).toBe(boom);
    expect(ok.sort((a, b) => a - b)).toEqual(Array.from({ length: 43 }, (_, i) => i));
    await checkLog(store);
    // Bytes that are not a Uint8Array are refused the same way.
    await expect(writer.append(() => ({ bytes: 'x' as unknown as Uint8Array, meta: meta() }))).rejects.toBeInstanceOf(TypeError);
    expect((await writer.append(entry('after'))).index).toBe(43);
    await writer.close();
    await store.close();
  });

  it('serves inclusion and consistency proofs from the store that verify against its checkpoints', async () => {
    const { store, writer } = await openPair();
    const acked: Appended[] = [];
    for (let wave = 0; wave < 6; wave++) acked.push(...(await Promise.all(Array.from({ length: 1 + wave * 9 }, (_, k) => writer.append(entry(`p${wave}.${k}`))))));
    const size = writer.size;
    const latest = openTestCheckpoint(writer.latestCheckpoint()!);
    for (const a of acked) {
      // In the latest tree, and in the tree of the checkpoint that acknowledged it.
      for (const [ts, root] of [[size, latest.rootHash], [a.treeSize, checkpointOf(a.checkpoint).rootHash]] as const) {
        const proof = inclusionProofFromHashes(ts, a.index, await store.readHashes(inclusionProofIndexes(ts, a.index)));
        expect(verifyInclusion(proof, ts, root, a.index, a.leafHash)).toBe(true);
      }
    }
    const cps = [...new Set(acked.map((a) => a.treeSize))].sort((x, y) => x - y);
    for (const o of cps) {
      for (const nw of cps.filter((x) => x >= o)) {
        const proof = consistencyProofFromHashes(o, nw, await store.readHashes(consistencyProofIndexes(o, nw)));
        const oldCp = checkpointOf((await store.checkpointAt(o))!);
        const newCp = checkpointOf((await store.checkpointAt(nw))!);
        expect(verifyConsistency(proof, o, nw, oldCp.rootHash, newCp.rootHash)).toBe(true);
      }
    }
    await writer.close();
    await store.close();
  });

  it('restores its frontier from the store on open and continues the log', async () => {
    const first = await openPair();
    await Promise.all(Array.from({ length: 37 }, (_, k) => first.writer.append(entry(`r${k}`))));
    const before = first.writer.latestCheckpoint()!;
    await first.writer.close();
    await first.store.close();
    const again = await openPair(first.path);
    expect(again.writer.size).toBe(37);
    expect(again.writer.latestCheckpoint()).toEqual(before);
    expect((await again.writer.append(entry('next'))).index).toBe(37);
    await checkLog(again.store, [before]);
    await again.writer.close();
    await again.store.close();
  });

  it('refuses to open over a checkpoint that disagrees with the stored hashes (STORE_CORRUPT) or another origin (STORE_CONFLICT)', async () => {
    const { path, store, writer } = await openPair();
    await Promise.all(Array.from({ length: 5 }, (_, k) => writer.append(entry(`o${k}`))));
    await writer.close();
    await expectRejectsCode(LogWriter.open(store, { ...opts, origin: 'parley.test/CN' }), StoreError, 'STORE_CONFLICT');
    await store.close();
    const db = new Database(path);
    const wrong = signTestCheckpoint({ origin: ORIGIN, treeSize: 5, rootHash: new Uint8Array(32), extensions: [] });
    db.prepare('UPDATE checkpoints SET note = ? WHERE tree_size = 5').run(wrong);
    db.close();
    const s2 = SqliteStore.open(path);
    await expectRejectsCode(LogWriter.open(s2, opts), StoreError, 'STORE_CORRUPT');
    await s2.close();
  });

  it('rejects a whole batch when the store fails, does not advance, and continues', async () => {
    const { store, writer: _w } = await openPair();
    await _w.close();
    let failNext = false;
    const flaky: LogStore = new Proxy(store, {
      get(target, prop, recv) {
        if (prop === 'appendBatch' && failNext) {
          failNext = false;
          return () => Promise.reject(new StoreError('STORE_UNAVAILABLE', 'injected'));
        }
        const v = Reflect.get(target, prop, recv) as unknown;
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const writer = await LogWriter.open(flaky, opts);
    await Promise.all(Array.from({ length: 4 }, (_, k) => writer.append(entry(`a${k}`))));
    failNext = true;
    const settled = await Promise.allSettled(Array.from({ length: 6 }, (_, k) => writer.append(entry(`b${k}`))));
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as StoreError).code === 'STORE_UNAVAILABLE')).toBe(true);
    expect(writer.size).toBe(4);
    const next = await writer.append(entry('c'));
    expect(next.index).toBe(4);
    await checkLog(store);
    await writer.close();
    await store.close();
  });

  it('rejects a batch whose checkpoint cannot be signed, then continues', async () => {
    let bad = false;
    const { store, writer } = await openPair(freshPath(), {
      signCheckpoint: (cp) => {
        if (bad) throw new Error('HSM offline');
        return signTestCheckpoint(cp);
      },
    });
    await writer.append(entry('x'));
    bad = true;
    await expect(writer.append(entry('y'))).rejects.toThrow('HSM offline');
    bad = false;
    expect((await writer.append(entry('z'))).index).toBe(1);
    await checkLog(store);
    await writer.close();
    await store.close();
  });

  it('drains on close and refuses later appends with STORE_UNAVAILABLE', async () => {
    const { store, writer } = await openPair();
    const pending = Array.from({ length: 40 }, (_, k) => writer.append(entry(`d${k}`)));
    await writer.close();
    const done = await Promise.allSettled(pending);
    expect(done.every((d) => d.status === 'fulfilled')).toBe(true);
    expect(await store.treeSize()).toBe(40);
    await expectRejectsCode(writer.append(entry('late')), StoreError, 'STORE_UNAVAILABLE');
    await store.close();
  });

  it('hands out entry times that never go backwards', async () => {
    const clock = [5000, 4000, 6000, 1000, 7000];
    let i = 0;
    const { store, writer } = await openPair(freshPath(), { now: () => new Date(clock[i++ % clock.length]!) });
    const times: number[] = [];
    await Promise.all(Array.from({ length: 5 }, () => writer.append((index, time) => (times.push(time.getTime()), entry('t')(index, time)))));
    expect(times).toEqual([5000, 5000, 6000, 6000, 7000]);
    await writer.close();
    await store.close();
  });

  it('signs with a real Ed25519 log key: checkpoints open with the verifier', async () => {
    const key = signerKeyFromSeed(ORIGIN, new Uint8Array(32).fill(42));
    const { store, writer } = await openPair(freshPath(), { signCheckpoint: (cp) => signCheckpoint(cp, newSigner(key)) });
    const r = await writer.append(entry('k'));
    expect(openTestCheckpoint(r.checkpoint).treeSize).toBe(1);
    await writer.close();
    await store.close();
  });
});

