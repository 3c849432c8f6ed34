/**
 * The LogStore contract as a reusable suite: every implementation (SQLite
 * now, PostgreSQL later) runs `describeLogStore(name, open)` with a factory
 * for a fresh, empty store. It checks only what types.ts promises.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Frontier, MemoryTree, StoreError, formatBase64, leafHash, storedHashCount } from '@parley/core';
import type { SignedAccord } from '@parley/core';
import type { EntryMeta, IdempotencyRecord, LogStore, ReceivedEntry, WitnessState } from '../src/types.js';
import { buildBatch, entryBytes, expectRejectsCode, meta } from './helpers.js';

/** Opens a fresh, empty store; `close` is called by the suite. */
export type OpenStore = () => Promise<LogStore>;

function received(party: string, index: number, over: Partial<EntryMeta> = {}, tag = 'r'): ReceivedEntry {
  const bytes = entryBytes(index, `${tag}:${party}`);
  return {
    party,
    index,
    leafHash: leafHash(bytes),
    bytes,
    meta: meta({ from: party, to: ['US'], ...over }),
    receivedAt: `2026-05-14T12:00:${String(index % 60).padStart(2, '0')}Z`,
  };
}

/** A witness state for `size`; `tag` varies the root and note so two states differ. */
function witnessed(size: number, tag = 'w', party = 'CN'): WitnessState {
  return { party, treeSize: size, rootHash: leafHash(entryBytes(size, `root:${tag}`)), note: entryBytes(size, `note:${tag}`, 120) };
}

export function describeLogStore(name: string, open: OpenStore): void {
  describe(`LogStore contract: ${name}`, () => {
    let store: LogStore;
    let frontier: Frontier;

    beforeEach(async () => {
      store = await open();
      frontier = Frontier.empty();
    });
    afterEach(async () => {
      await store.close();
    });

    /** Appends `n` entries as one batch; metadata from `m(i)`. */
    async function append(n: number, m: (i: number) => EntryMeta = () => meta()) {
      const first = frontier.size;
      const batch = buildBatch(
        frontier,
        Array.from({ length: n }, (_, k) => ({ bytes: entryBytes(first + k), meta: m(first + k) })),
      );
      await store.appendBatch(batch);
      return batch;
    }

    it('starts empty', async () => {
      expect(await store.treeSize()).toBe(0);
      expect(await store.latestCheckpoint()).toBeUndefined();
      expect(await store.entry(0)).toBeUndefined();
      expect(await store.entries(0, 10)).toEqual([]);
      expect(await store.readHashes([])).toEqual([]);
      expect(await store.highestReceived('CN')).toBe(-1);
      expect(await store.outbox({ limit: 10 })).toEqual([]);
      expect(await store.inbox({ limit: 10 })).toEqual([]);
    });

    // An index no log can hold (fraction, negative, beyond 2^53) is simply not there — never a store
    // failure (STORE_UNAVAILABLE would become a 503 and a retry loop on PostgreSQL).
    it('answers point reads of an impossible index as absent, never with an error', async () => {
      await append(3);
      for (const bad of [1.5, -1, Number.MAX_SAFE_INTEGER + 2, 2 ** 64, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(await store.entry(bad)).toBeUndefined();
        expect(await store.received('CN', bad)).toBeUndefined();
        expect(await store.referencing('CN', bad)).toEqual([]);
        expect(await store.checkpointAt(bad)).toBeUndefined();
      }
      expect(await store.entries(0, 2 ** 64)).toHaveLength(3);
      expect(await store.entries(-5, 2)).toHaveLength(2);
      expect(await store.entries(1.5, 3)).toHaveLength(1);
    });

    it('appends batches atomically and reads them back (entries, hashes, checkpoints)', async () => {
      const sizes = [1, 2, 5, 8, 1, 13];
      const batches = [];
      for (const n of sizes) batches.push(await append(n));
      const size = sizes.reduce((a, b) => a + b, 0);
      expect(await store.treeSize()).toBe(size);
      expect(await store.latestCheckpoint()).toEqual(batches.at(-1)!.checkpoint);
      for (const b of batches) expect(await store.checkpointAt(b.treeSize)).toEqual(b.checkpoint);
      expect(await store.checkpointAt(2)).toBeUndefined(); // no batch ended at 2
      expect(await store.checkpointAt(size + 1)).toBeUndefined();

      const all = batches.flatMap((b) => b.entries);
      for (const e of all) expect(await store.entry(e.index)).toEqual(e);
      expect(await store.entry(size)).toBeUndefined();
      expect(await store.entries(3, 9)).toEqual(all.slice(3, 9));
      expect(await store.entries(size - 2, size + 100)).toEqual(all.slice(size - 2)); // capped at the tree size

      const t = new MemoryTree();
      for (const e of all) t.append(e.leafHash);
      const count = storedHashCount(size);
      const want = Array.from({ length: count }, (_, i) => i).reverse(); // any order, returned as asked
      expect(await store.readHashes(want)).toEqual(t.readHashes(want));
      expect(await store.readHashes([5, 5, 0])).toEqual(t.readHashes([5, 5, 0]));
    });

    it('rejects a missing stored hash with STORE_CORRUPT', async () => {
      await append(3);
      await expectRejectsCode(store.readHashes([0, storedHashCount(3)]), StoreError, 'STORE_CORRUPT');
    });

    it('rejects a batch that does not start at the tree size with STORE_CONFLICT and changes nothing', async () => {
      const b1 = await append(4);
      // Replaying the same batch: starts at 0, the log has 4.
      await expectRejectsCode(store.appendBatch(b1), StoreError, 'STORE_CONFLICT');
      // A gap: a batch built for size 6 on a log of 4.
      const ahead = Frontier.empty();
      buildBatch(ahead, Array.from({ length: 6 }, (_, i) => ({ bytes: entryBytes(i, 'x'), meta: meta() })));
      await expectRejectsCode(store.appendBatch(buildBatch(ahead, [{ bytes: entryBytes(6), meta: meta() }])), StoreError, 'STORE_CONFLICT');
      expect(await store.treeSize()).toBe(4);
      expect(await store.latestCheckpoint()).toEqual(b1.checkpoint);
      await append(1); // and the log still takes the right batch
      expect(await store.treeSize()).toBe(5);
    });

    // issue 14: the conditional append is a MUST of the contract.
    it('rejects a batch built on another history (right size, other prevRoot) with STORE_CONFLICT and writes nothing', async () => {
      const b1 = await append(4);
      // Another log of 4 entries: the batch starts at 4, but on a tree that is not the stored one.
      const other = Frontier.empty();
      buildBatch(other, Array.from({ length: 4 }, (_, i) => ({ bytes: entryBytes(i, 'other'), meta: meta() })));
      const forked = buildBatch(other, [{ bytes: entryBytes(4, 'other'), meta: meta() }]);
      expect(forked.entries[0]!.index).toBe(4);
      await expectRejectsCode(store.appendBatch(forked), StoreError, 'STORE_CONFLICT');
      // The right entries with a wrong prevRoot: refused as well.
      const right = buildBatch(frontier.clone(), [{ bytes: entryBytes(4), meta: meta() }]);
      await expectRejectsCode(store.appendBatch({ ...right, prevRoot: forked.prevRoot }), StoreError, 'STORE_CONFLICT');
      await expectRejectsCode(store.appendBatch({ ...right, prevRoot: new Uint8Array(31) }), StoreError, 'STORE_CONFLICT');
      expect(await store.treeSize()).toBe(4);
      expect(await store.latestCheckpoint()).toEqual(b1.checkpoint);
      expect(await store.entry(4)).toBeUndefined();
      await store.appendBatch(right);
      expect(await store.treeSize()).toBe(5);
    });

    it('checks prevRoot on the empty log too (the root of the empty tree)', async () => {
      const seeded = Frontier.empty();
      buildBatch(seeded, [{ bytes: entryBytes(0, 'seed'), meta: meta() }]);
      const good = buildBatch(Frontier.empty(), [{ bytes: entryBytes(0), meta: meta() }]);
      await expectRejectsCode(store.appendBatch({ ...good, prevRoot: seeded.root() }), StoreError, 'STORE_CONFLICT');
      expect(await store.treeSize()).toBe(0);
      await store.appendBatch(good);
      expect(await store.treeSize()).toBe(1);
    });

    it('lets exactly one of two racing batches built on the same log win; the loser writes nothing', async () => {
      await append(3);
      for (let round = 0; round < 5; round++) {
        const size = frontier.size;
        const fa = frontier.clone();
        const fb = frontier.clone();
        const a = buildBatch(fa, Array.from({ length: 2 + round }, (_, k) => ({ bytes: entryBytes(size + k, `a${round}`), meta: meta() })));
        const b = buildBatch(fb, Array.from({ length: 1 + round }, (_, k) => ({ bytes: entryBytes(size + k, `b${round}`), meta: meta() })));
        const results = await Promise.allSettled([store.appendBatch(a), store.appendBatch(b)]);
        const won = results.map((r) => r.status === 'fulfilled');
        expect(won.filter(Boolean)).toHaveLength(1);
        const lost = results[won[0] ? 1 : 0] as PromiseRejectedResult;
        expect(lost.reason).toBeInstanceOf(StoreError);
        expect((lost.reason as StoreError).code).toBe('STORE_CONFLICT');
        const winner = won[0] ? a : b;
        expect(await store.treeSize()).toBe(winner.treeSize);
        expect(await store.latestCheckpoint()).toEqual(winner.checkpoint);
        expect(await store.entries(size, winner.treeSize)).toEqual(winner.entries);
        frontier = won[0] ? fa : fb;
      }
    });

    it('rejects a malformed batch (wrong hashes, wrong size) and writes none of it', async () => {
      await append(2);
      const f = frontier.clone();
      const good = buildBatch(f, [{ bytes: entryBytes(2), meta: meta() }, { bytes: entryBytes(3), meta: meta() }]);
      await expectRejectsCode(store.appendBatch({ ...good, hashes: good.hashes.slice(1) }), StoreError, 'STORE_CONFLICT');
      await expectRejectsCode(store.appendBatch({ ...good, treeSize: 5 }), StoreError, 'STORE_CONFLICT');
      await expectRejectsCode(store.appendBatch({ ...good, entries: [] }), StoreError, 'STORE_CONFLICT');
      const swapped = good.entries.map((e, k) => ({ ...e, leafHash: good.entries[1 - k]!.leafHash }));
      await expectRejectsCode(store.appendBatch({ ...good, entries: swapped }), StoreError, 'STORE_CONFLICT');
      expect(await store.treeSize()).toBe(2);
      await store.appendBatch(good);
      expect(await store.treeSize()).toBe(4);
    });

    it('keeps metadata exactly (optional incident, recipients, refs)', async () => {
      const m1 = meta({ type: 'incident.report', incident: 'INC-1', to: ['CN', 'UK'], refs: [{ party: 'CN', index: 7, hash: formatBase64(new Uint8Array(32)) }] });
      const m2 = meta();
      await append(2, (i) => (i === 0 ? m1 : m2));
      expect((await store.entry(0))!.meta).toEqual(m1);
      const e1 = (await store.entry(1))!;
      expect(e1.meta).toEqual(m2);
      expect('incident' in e1.meta).toBe(false);
    });

    it('lists the outbox newest first, filtered and paged by index', async () => {
      await append(10, (i) =>
        meta({
          type: i % 2 === 0 ? 'hotline.message' : 'incident.report',
          to: i % 3 === 0 ? ['CN', 'UK'] : ['UK'],
          ...(i % 2 === 1 ? { incident: i < 5 ? 'INC-A' : 'INC-B' } : {}),
        }),
      );
      const idx = async (q: Parameters<LogStore['outbox']>[0]) => (await store.outbox(q)).map((e) => e.index);
      expect(await idx({ limit: 3 })).toEqual([9, 8, 7]);
      expect(await idx({ limit: 3, before: 7 })).toEqual([6, 5, 4]);
      expect(await idx({ limit: 100, before: 2 })).toEqual([1, 0]);
      expect(await idx({ limit: 100, type: 'incident.report' })).toEqual([9, 7, 5, 3, 1]);
      expect(await idx({ limit: 100, party: 'CN' })).toEqual([9, 6, 3, 0]);
      expect(await idx({ limit: 100, party: 'UK' })).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
      expect(await idx({ limit: 100, incident: 'INC-A' })).toEqual([3, 1]);
      expect(await idx({ limit: 100, party: 'CN', type: 'incident.report' })).toEqual([9, 3]);
      expect(await idx({ limit: 1, party: 'CN', before: 9 })).toEqual([6]);
      expect(await idx({ limit: 100, party: 'FR' })).toEqual([]);
      // Paging through everything with the cursor sees each entry once.
      const seen: number[] = [];
      for (let before: number | undefined; ; ) {
        const page = await store.outbox(before === undefined ? { limit: 4 } : { limit: 4, before });
        if (page.length === 0) break;
        seen.push(...page.map((e) => e.index));
        before = page.at(-1)!.index;
      }
      expect(seen).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    });

    it('ingests idempotently and reports how many entries were new', async () => {
      const a = [received('CN', 0), received('CN', 1), received('UK', 0)];
      expect(await store.ingest(a)).toBe(3);
      expect(await store.ingest(a)).toBe(0);
      expect(await store.ingest([received('CN', 1), received('CN', 2), received('CN', 2)])).toBe(1);
      expect(await store.received('CN', 1)).toEqual(a[1]);
      expect(await store.received('CN', 9)).toBeUndefined();
      expect(await store.highestReceived('CN')).toBe(2);
      expect(await store.highestReceived('UK')).toBe(0);
      expect(await store.highestReceived('FR')).toBe(-1);
      expect(await store.ingest([])).toBe(0);
    });

    it('reads many received entries in one call: each key answered in the order asked, undefined where nothing is held', async () => {
      const held = [received('CN', 0), received('CN', 2), received('UK', 0), received('CN', 1, { type: 'incident.report', incident: 'INC-7' })];
      await store.ingest(held);
      expect(await store.receivedMany([])).toEqual([]);
      const keys = [
        { party: 'UK', index: 0 },
        { party: 'CN', index: 3 }, // not held
        { party: 'CN', index: 2 },
        { party: 'FR', index: 0 }, // no such log here
        { party: 'CN', index: 1 },
        { party: 'CN', index: 2 }, // asked twice: answered twice
        { party: 'CN', index: -1 }, // not a log index
        { party: 'CN', index: 0.5 },
        { party: 'UK', index: 2 }, // CN holds 2, UK does not
      ];
      expect(await store.receivedMany(keys)).toEqual([held[2], undefined, held[1], undefined, held[3], held[1], undefined, undefined, undefined]);
      // What received() answers, key by key.
      for (const k of keys) expect((await store.receivedMany([k]))[0]).toEqual(await store.received(k.party, k.index));
      // A batch larger than any one statement's parameter limit is still one answer per key.
      const many = Array.from({ length: 40_000 }, (_, i) => ({ party: i % 2 ? 'CN' : 'UK', index: i % 5 }));
      const answers = await store.receivedMany(many);
      expect(answers).toHaveLength(many.length);
      expect(answers.filter((a) => a !== undefined)).toHaveLength(many.filter((k) => (k.party === 'CN' ? k.index <= 2 : k.index === 0)).length);
    });

    it('rejects the same (party, index) with another hash with STORE_CONFLICT, atomically', async () => {
      await store.ingest([received('CN', 0)]);
      const forked = received('CN', 0, {}, 'fork');
      await expectRejectsCode(store.ingest([received('CN', 1), forked]), StoreError, 'STORE_CONFLICT');
      expect(await store.received('CN', 1)).toBeUndefined(); // nothing of the call stayed
      expect((await store.received('CN', 0))!.leafHash).toEqual(received('CN', 0).leafHash);
    });

    it('stores the received entries a batch carries in its transaction: with the batch, or not at all', async () => {
      await store.ingest([received('CN', 0)]);
      const receipt = { bytes: entryBytes(0, 'receipt'), meta: meta({ type: 'receipt', to: ['CN'], refs: [{ party: 'CN', index: 1, hash: formatBase64(received('CN', 1).leafHash) }] }) };
      // A conflict among the received entries fails the whole batch: no receipt, no entry.
      const before = frontier.clone();
      const bad = buildBatch(frontier, [receipt]);
      await expectRejectsCode(store.appendBatch({ ...bad, received: [received('CN', 1), received('CN', 0, {}, 'fork')] }), StoreError, 'STORE_CONFLICT');
      expect(await store.treeSize()).toBe(0);
      expect(await store.received('CN', 1)).toBeUndefined();
      // Held entries are skipped, new ones stored, with the batch.
      const good = buildBatch(before, [receipt]);
      await store.appendBatch({ ...good, received: [received('CN', 0), received('CN', 1)] });
      expect(await store.treeSize()).toBe(1);
      expect(await store.received('CN', 1)).toEqual(received('CN', 1));
      expect((await store.referencing('CN', 1)).map((e) => e.meta.type)).toEqual(['receipt']);
      expect(await store.ingest([received('CN', 0), received('CN', 1)])).toBe(0);
    });

    describe('idempotency keys (issue 14)', () => {
      const digest = (c: string) => c.repeat(64);
      const rec = (key: string, indexes: number[], over: Partial<IdempotencyRecord> = {}): IdempotencyRecord => ({
        scope: 'alice',
        key,
        digest: digest('a'),
        indexes,
        response: JSON.stringify({ status: 201, indexes }),
        createdAt: 1_000,
        ...over,
      });

      it('stores a key in its batch\'s transaction: held iff the entries are, and read back exactly', async () => {
        const one = { bytes: entryBytes(0, 'k'), meta: meta() };
        // A batch that fails (built on another tree) stores neither the entry nor its key.
        const other = Frontier.empty();
        buildBatch(other, [{ bytes: entryBytes(0, 'other'), meta: meta() }]);
        await expectRejectsCode(store.appendBatch({ ...buildBatch(other.clone(), [one]), idempotency: [rec('k1', [1])] }), StoreError, 'STORE_CONFLICT');
        expect(await store.idempotencyRecord('alice', 'k1')).toBeUndefined();
        expect(await store.treeSize()).toBe(0);
        // The batch that commits stores both.
        const b = buildBatch(frontier, [one, { bytes: entryBytes(1, 'k'), meta: meta() }]);
        await store.appendBatch({ ...b, idempotency: [rec('k1', [0]), rec('k2', [1], { digest: digest('b') })] });
        expect(await store.treeSize()).toBe(2);
        expect(await store.idempotencyRecord('alice', 'k1')).toEqual(rec('k1', [0]));
        expect(await store.idempotencyRecord('alice', 'k2')).toEqual(rec('k2', [1], { digest: digest('b') }));
        // Scoped: another officer's key of the same text is another key.
        expect(await store.idempotencyRecord('bob', 'k1')).toBeUndefined();
      });

      it('rejects a batch carrying a key already held with STORE_CONFLICT, writing none of it', async () => {
        await store.appendBatch({ ...buildBatch(frontier, [{ bytes: entryBytes(0), meta: meta() }]), idempotency: [rec('k', [0])] });
        const before = frontier.clone();
        const again = buildBatch(frontier, [{ bytes: entryBytes(1), meta: meta() }, { bytes: entryBytes(2), meta: meta() }]);
        await expectRejectsCode(store.appendBatch({ ...again, idempotency: [rec('fresh', [1]), rec('k', [2], { digest: digest('c') })] }), StoreError, 'STORE_CONFLICT');
        expect(await store.treeSize()).toBe(1);
        expect(await store.idempotencyRecord('alice', 'fresh')).toBeUndefined();
        expect(await store.idempotencyRecord('alice', 'k')).toEqual(rec('k', [0]));
        // The same batch without the held key commits: the conflict wrote nothing.
        await store.appendBatch({ ...buildBatch(before, [{ bytes: entryBytes(1), meta: meta() }, { bytes: entryBytes(2), meta: meta() }]), idempotency: [rec('fresh', [1, 2])] });
        expect(await store.idempotencyRecord('alice', 'fresh')).toEqual(rec('fresh', [1, 2]));
      });

      it('refuses malformed records (index outside the batch, bad digest, empty or long key) before writing', async () => {
        const items = [{ bytes: entryBytes(0), meta: meta() }];
        for (const bad of [rec('x', [1]), rec('x', [0], { digest: 'nothex' }), rec('', [0]), rec('k'.repeat(256), [0]), rec('x', [0], { scope: '' }), rec('x', [])]) {
          await expectRejectsCode(store.appendBatch({ ...buildBatch(frontier.clone(), items), idempotency: [bad] }), StoreError, 'STORE_CONFLICT');
        }
        await expectRejectsCode(store.appendBatch({ ...buildBatch(frontier.clone(), items), idempotency: [rec('x', [0]), rec('x', [0])] }), StoreError, 'STORE_CONFLICT');
        expect(await store.treeSize()).toBe(0);
      });

      it('prunes records made before a time, and only those', async () => {
        await store.appendBatch({ ...buildBatch(frontier, [{ bytes: entryBytes(0), meta: meta() }, { bytes: entryBytes(1), meta: meta() }]), idempotency: [rec('old', [0], { createdAt: 10 }), rec('new', [1], { createdAt: 20 })] });
        expect(await store.pruneIdempotency(20)).toBe(1);
        expect(await store.idempotencyRecord('alice', 'old')).toBeUndefined();
        expect(await store.idempotencyRecord('alice', 'new')).toBeDefined();
        expect(await store.treeSize()).toBe(2); // the entries stay
      });
    });

    it('lists the inbox newest first by receive order, filtered and paged by rowid', async () => {
      await store.ingest([received('CN', 0), received('UK', 0, { type: 'incident.report', incident: 'INC-9' })]);
      await store.ingest([received('CN', 5), received('CN', 3, { type: 'incident.report', incident: 'INC-9' })]);
      const all = await store.inbox({ limit: 10 });
      expect(all.map((e) => [e.party, e.index])).toEqual([['CN', 3], ['CN', 5], ['UK', 0], ['CN', 0]]);
      const rowids = all.map((e) => e.rowid);
      expect([...rowids].sort((x, y) => y - x)).toEqual(rowids);
      expect(new Set(rowids).size).toBe(4);
      const page2 = await store.inbox({ limit: 2, before: all[1]!.rowid });
      expect(page2.map((e) => [e.party, e.index])).toEqual([['UK', 0], ['CN', 0]]);
      expect((await store.inbox({ limit: 10, party: 'CN' })).map((e) => e.index)).toEqual([3, 5, 0]);
      expect((await store.inbox({ limit: 10, type: 'incident.report' })).map((e) => e.party)).toEqual(['CN', 'UK']);
      expect((await store.inbox({ limit: 10, incident: 'INC-9', party: 'UK' })).map((e) => e.index)).toEqual([0]);
      const { rowid, ...entry } = all[0]!;
      void rowid;
      expect(entry).toEqual(received('CN', 3, { type: 'incident.report', incident: 'INC-9' }));
    });

    it('finds own entries that reference a (party, index)', async () => {
      const ref = (party: string, index: number) => ({ party, index, hash: formatBase64(leafHash(entryBytes(index, `r:${party}`))) });
      await append(4, (i) =>
        i === 1 ? meta({ type: 'receipt', refs: [ref('CN', 5)] }) : i === 3 ? meta({ type: 'ack', refs: [ref('CN', 5), ref('UK', 5)] }) : meta(),
      );
      expect((await store.referencing('CN', 5)).map((e) => e.index)).toEqual([1, 3]);
      expect((await store.referencing('UK', 5)).map((e) => e.index)).toEqual([3]);
      expect(await store.referencing('CN', 4)).toEqual([]);
    });

    it('stores officers and sessions', async () => {
      const o = { name: 'alice', role: 'officer' as const, passwordHash: 'scrypt$1$2$3$salt$hash', created: '2026-05-14T12:00:00Z', disabled: false };
      await store.putOfficer(o);
      await store.putOfficer({ ...o, name: 'bob', role: 'admin' });
      expect(await store.officer('alice')).toEqual(o);
      expect(await store.officer('carol')).toBeUndefined();
      await store.putOfficer({ ...o, disabled: true, role: 'auditor' });
      expect(await store.officer('alice')).toEqual({ ...o, disabled: true, role: 'auditor' });
      expect((await store.officers()).map((x) => x.name)).toEqual(['alice', 'bob']);

      const s = { tokenHash: 'ab'.repeat(32), officer: 'alice', created: '2026-05-14T12:00:00Z', expires: '2026-05-14T20:00:00Z' };
      await store.putSession(s);
      expect(await store.session(s.tokenHash)).toEqual(s);
      await store.deleteSession(s.tokenHash);
      expect(await store.session(s.tokenHash)).toBeUndefined();
      await store.deleteSession(s.tokenHash); // deleting twice is fine
    });

    describe('fork evidence (issue 9)', () => {
      /** A checkpoint note of `size` with root tag `root`, and a signature line `sig`. */
      const note = (size: number, root: string, sig = 'sig') => `cn.parley.test/log\n${size}\n${root}=\n\n\u2014 cn.parley.test/log ${sig}\n`;
      const proof = (a: string, b: string, tag = '') => JSON.stringify({ a, b, tag });

      it('keeps a fork proof once per pair of views, in either order and whatever signatures ride along', async () => {
        const [a, b] = [note(5, 'AAA'), note(5, 'BBB')];
        expect(await store.forkProofs()).toEqual([]);
        expect(await store.addForkProof({ party: 'CN', views: [a, b], proof: proof(a, b), recordedAt: '2026-05-14T12:00:00Z' })).toBe(true);
        expect(await store.addForkProof({ party: 'CN', views: [b, a], proof: proof(b, a), recordedAt: '2026-05-14T12:00:01Z' })).toBe(false);
        expect(await store.addForkProof({ party: 'CN', views: [note(5, 'BBB', 'cosigned'), a], proof: proof(a, b, 'other kind'), recordedAt: '2026-05-14T12:00:02Z' })).toBe(false);
        expect(await store.forkProofs('CN')).toEqual([{ party: 'CN', proof: proof(a, b), recordedAt: '2026-05-14T12:00:00Z' }]);
        // Another pair, and another party: kept, oldest first.
        const c = note(7, 'CCC');
        expect(await store.addForkProof({ party: 'CN', views: [a, c], proof: proof(a, c), recordedAt: '2026-05-14T12:00:03Z' })).toBe(true);
        expect(await store.addForkProof({ party: 'UK', views: [a, b], proof: proof(a, b, 'uk'), recordedAt: '2026-05-14T12:00:04Z' })).toBe(true);
        expect((await store.forkProofs('CN')).map((f) => f.proof)).toEqual([proof(a, b), proof(a, c)]);
        expect((await store.forkProofs()).map((f) => f.party)).toEqual(['CN', 'CN', 'UK']);
        expect(await store.forkProofs('US')).toEqual([]);
      });

      it('refuses a proof whose views are one checkpoint or not notes, with STORE_CONFLICT, writing nothing', async () => {
        const a = note(5, 'AAA');
        await expectRejectsCode(store.addForkProof({ party: 'CN', views: [a, note(5, 'AAA', 'other sig')], proof: 'x', recordedAt: 't' }), StoreError, 'STORE_CONFLICT');
        await expectRejectsCode(store.addForkProof({ party: 'CN', views: [a, 'no blank line'], proof: 'x', recordedAt: 't' }), StoreError, 'STORE_CONFLICT');
        await expectRejectsCode(store.addForkProof({ party: '', views: [a, note(5, 'B')], proof: 'x', recordedAt: 't' }), StoreError, 'STORE_CONFLICT');
        expect(await store.forkProofs()).toEqual([]);
      });

      it('keeps checkpoints for comparison once each, up to a cap, and marks them compared without dropping them', async () => {
        const [a, b, c] = [note(3, 'A'), note(4, 'B'), note(5, 'C')];
        expect(await store.addUnverifiedCheckpoint('CN', a, 't0', 2)).toBe(true);
        expect(await store.addUnverifiedCheckpoint('CN', a, 't1', 2)).toBe(false);
        expect(await store.addUnverifiedCheckpoint('CN', b, 't2', 2)).toBe(true);
        expect(await store.addUnverifiedCheckpoint('CN', c, 't3', 2)).toBe(false); // the cap
        expect(await store.addUnverifiedCheckpoint('UK', c, 't3', 2)).toBe(true);
        expect(await store.unverifiedCheckpoints('CN')).toEqual([a, b]);
        await store.markCheckpointsCompared('CN', [a], 'consistent', 't4');
        expect(await store.unverifiedCheckpoints('CN')).toEqual([b]);
        // Compared once: the row stays, so the same note is not kept again.
        expect(await store.addUnverifiedCheckpoint('CN', a, 't5', 2)).toBe(false);
        expect(await store.addUnverifiedCheckpoint('CN', c, 't5', 2)).toBe(true);
        expect(await store.unverifiedCheckpoints('CN')).toEqual([b, c]);
        expect(await store.unverifiedCheckpoints('UK')).toEqual([c]);
      });
    });

    describe('witness state', () => {
      // Keyed by party (schema 7, issue 11).
      const CN = 'CN';
      const UK = 'UK';

      it('starts with no state for any party', async () => {
        expect(await store.witnessState(CN)).toBeUndefined();
      });

      it('advances by compare-and-set from size 0 (no row) and reads back exactly', async () => {
        expect(await store.advanceWitness(CN, 0, witnessed(5))).toBe(true);
        expect(await store.witnessState(CN)).toEqual(witnessed(5));
        expect(await store.advanceWitness(CN, 5, witnessed(9))).toBe(true);
        expect(await store.witnessState(CN)).toEqual(witnessed(9));
        expect(await store.witnessState(UK)).toBeUndefined(); // per party
        expect(await store.advanceWitness(UK, 0, witnessed(2, 'uk', 'UK'))).toBe(true);
        expect(await store.witnessState(UK)).toEqual(witnessed(2, 'uk', 'UK'));
        expect(await store.witnessState(CN)).toEqual(witnessed(9));
      });

      it('refuses a stale expected size with false and writes nothing', async () => {
        expect(await store.advanceWitness(CN, 3, witnessed(5))).toBe(false); // no row: the stored size is 0
        expect(await store.witnessState(CN)).toBeUndefined();
        await store.advanceWitness(CN, 0, witnessed(5));
        expect(await store.advanceWitness(CN, 0, witnessed(7, 'other'))).toBe(false);
        expect(await store.advanceWitness(CN, 4, witnessed(7, 'other'))).toBe(false);
        expect(await store.witnessState(CN)).toEqual(witnessed(5));
      });

      it('re-cosigns the same size (same expected and new size), replacing the note', async () => {
        await store.advanceWitness(CN, 0, witnessed(5));
        const again = { ...witnessed(5), note: entryBytes(5, 'later cosignature', 120) };
        expect(await store.advanceWitness(CN, 5, again)).toBe(true);
        expect(await store.witnessState(CN)).toEqual(again);
      });

      it('keeps every cosigned note in its history (issue 14): by size, paged, only what an advance wrote', async () => {
        expect(await store.witnessCosignatures(CN, 0, 10)).toEqual([]);
        expect(await store.advanceWitness(CN, 0, witnessed(5))).toBe(true);
        expect(await store.advanceWitness(CN, 5, witnessed(9))).toBe(true);
        expect(await store.advanceWitness(CN, 5, witnessed(12, 'lost race'))).toBe(false); // not written: not in the history
        expect(await store.advanceWitness(CN, 9, witnessed(11))).toBe(true);
        expect(await store.advanceWitness(UK, 0, witnessed(2, 'uk', 'UK'))).toBe(true);
        const row = (n: number) => ({ party: CN, treeSize: n, note: witnessed(n).note });
        expect(await store.witnessCosignatures(CN, 0, 10)).toEqual([row(5), row(9), row(11)]);
        expect(await store.witnessCosignatures(CN, 0, 2)).toEqual([row(5), row(9)]);
        expect(await store.witnessCosignatures(CN, 9, 2)).toEqual([row(11)]);
        expect(await store.witnessCosignatures(CN, 11, 2)).toEqual([]);
        expect((await store.witnessCosignatures(UK, 0, 10)).map((r) => r.treeSize)).toEqual([2]);
        // A re-cosignature of the held size keeps the first note of that size in the history.
        expect(await store.advanceWitness(CN, 11, { ...witnessed(11), note: entryBytes(11, 'later', 120) })).toBe(true);
        expect(await store.witnessCosignatures(CN, 9, 10)).toEqual([row(11)]);
        await expectRejectsCode(store.witnessCosignatures(CN, -1, 10), StoreError, 'STORE_CONFLICT');
        await expectRejectsCode(store.witnessCosignatures(CN, 0, 0), StoreError, 'STORE_CONFLICT');
        await expectRejectsCode(store.witnessCosignatures(CN, 0, 1001), StoreError, 'STORE_CONFLICT');
      });

      it('adds history rows insert-only without touching the witness state (a copy, parley migrate)', async () => {
        expect(await store.advanceWitness(CN, 0, witnessed(9))).toBe(true);
        const row = (n: number, why = 'copied', party = CN) => ({ party, treeSize: n, note: entryBytes(n, why, 100) });
        expect(await store.addWitnessCosignatures([])).toBe(0);
        expect(await store.addWitnessCosignatures([row(5), row(9), row(2, 'uk', UK)])).toBe(2); // size 9 is held: it keeps its note
        expect(await store.witnessCosignatures(CN, 0, 10)).toEqual([row(5), { party: CN, treeSize: 9, note: witnessed(9).note }]);
        expect((await store.witnessCosignatures(UK, 0, 10)).map((r) => r.treeSize)).toEqual([2]);
        expect(await store.addWitnessCosignatures([row(5, 'another')])).toBe(0);
        expect(await store.witnessCosignatures(CN, 0, 1)).toEqual([row(5)]);
        expect(await store.witnessState(CN)).toEqual(witnessed(9));
        expect(await store.witnessState(UK)).toBeUndefined();
        // Our caller's bug: nothing written (the good row beside a bad one neither).
        for (const bad of [{ ...row(6), treeSize: 0 }, { ...row(6), note: new Uint8Array(0) }, { ...row(6), party: '' }]) {
          await expectRejectsCode(store.addWitnessCosignatures([row(7), bad]), StoreError, 'STORE_CONFLICT');
        }
        await expectRejectsCode(store.addWitnessCosignatures(Array.from({ length: 1001 }, (_, i) => row(100 + i))), StoreError, 'STORE_CONFLICT');
        expect((await store.witnessCosignatures(CN, 0, 10)).map((r) => r.treeSize)).toEqual([5, 9]);
      });

      it('lets exactly one of concurrent advances from one size win', async () => {
        await store.advanceWitness(CN, 0, witnessed(4));
        const results = await Promise.all([6, 7, 8, 9, 10].map((n) => store.advanceWitness(CN, 4, witnessed(n))));
        expect(results.filter((r) => r)).toHaveLength(1);
        const won = [6, 7, 8, 9, 10][results.indexOf(true)]!;
        expect(await store.witnessState(CN)).toEqual(witnessed(won));
      });

      it('rejects going backwards, a bad root hash or an empty note with STORE_CONFLICT, writing nothing', async () => {
        await store.advanceWitness(CN, 0, witnessed(5));
        await expectRejectsCode(store.advanceWitness(CN, 5, witnessed(4)), StoreError, 'STORE_CONFLICT');
        await expectRejectsCode(store.advanceWitness(CN, 5, { ...witnessed(6), rootHash: new Uint8Array(31) }), StoreError, 'STORE_CONFLICT');
        await expectRejectsCode(store.advanceWitness(CN, 5, { ...witnessed(6), note: new Uint8Array(0) }), StoreError, 'STORE_CONFLICT');
        await expectRejectsCode(store.advanceWitness(CN, -1, witnessed(6)), StoreError, 'STORE_CONFLICT');
        expect(await store.witnessState(CN)).toEqual(witnessed(5));
      });

      it('refuses a state of another party than the key (STORE_CONFLICT), writing nothing', async () => {
        await expectRejectsCode(store.advanceWitness(UK, 0, witnessed(6)), StoreError, 'STORE_CONFLICT');
        await expectRejectsCode(store.advanceWitness('', 0, { ...witnessed(6), party: '' }), StoreError, 'STORE_CONFLICT');
        expect(await store.witnessState(UK)).toBeUndefined();
      });
    });

    // issue 9: evidence in typed tables, never moved backwards.
    describe('evidence: cursors, cosignatures of our log, cosigned times, escalations', () => {
      const h = (n: number) => leafHash(entryBytes(n, 'frontier'));

      it('moves a cursor forward only, per kind and party, and reads it back exactly', async () => {
        expect(await store.cursor('pull', 'CN')).toBeUndefined();
        expect(await store.advanceCursor('pull', 'CN', { treeSize: 3, frontier: [h(1), h(2)] })).toBe(true);
        expect(await store.cursor('pull', 'CN')).toEqual({ treeSize: 3, frontier: [h(1), h(2)] });
        expect(await store.advanceCursor('pull', 'CN', { treeSize: 2, frontier: [h(9)] })).toBe(false); // stale
        expect(await store.advanceCursor('pull', 'CN', { treeSize: 3, frontier: [h(9)] })).toBe(false); // repeated
        expect(await store.cursor('pull', 'CN')).toEqual({ treeSize: 3, frontier: [h(1), h(2)] });
        expect(await store.advanceCursor('pull', 'CN', { treeSize: 4, frontier: [h(4)] })).toBe(true);
        expect(await store.cursor('push', 'CN')).toBeUndefined();
        expect(await store.advanceCursor('push', 'CN', { treeSize: 0, frontier: [] })).toBe(true);
        expect(await store.cursor('push', 'CN')).toEqual({ treeSize: 0, frontier: [] });
        expect(await store.cursor('pull', 'UK')).toBeUndefined();
        expect(await store.cursor('pull', 'CN')).toEqual({ treeSize: 4, frontier: [h(4)] });
      });

      it('applies cursor writes in flight together in issue order, so the largest wins whatever order they land', async () => {
        await Promise.all([5, 9, 7, 8, 6].map((n) => store.advanceCursor('push', 'CN', { treeSize: n, frontier: [] })));
        expect((await store.cursor('push', 'CN'))!.treeSize).toBe(9);
      });

      it('rejects a bad cursor with STORE_CONFLICT, writing nothing', async () => {
        await expectRejectsCode(store.advanceCursor('pull', 'CN', { treeSize: -1, frontier: [] }), StoreError, 'STORE_CONFLICT');
        await expectRejectsCode(store.advanceCursor('pull', 'CN', { treeSize: 2, frontier: [new Uint8Array(31)] }), StoreError, 'STORE_CONFLICT');
        expect(await store.cursor('pull', 'CN')).toBeUndefined();
      });

      it('keeps the newest cosignature of our log per witness: larger size, or the same size cosigned later', async () => {
        expect(await store.ownCosigned('CN')).toBeUndefined();
        expect(await store.advanceOwnCosigned({ witness: 'CN', treeSize: 5, cosignedAt: 100, note: 'n5' })).toBe(true);
        expect(await store.advanceOwnCosigned({ witness: 'CN', treeSize: 4, cosignedAt: 200, note: 'n4' })).toBe(false);
        expect(await store.advanceOwnCosigned({ witness: 'CN', treeSize: 5, cosignedAt: 100, note: 'again' })).toBe(false);
        expect(await store.ownCosigned('CN')).toEqual({ witness: 'CN', treeSize: 5, cosignedAt: 100, note: 'n5' });
        expect(await store.advanceOwnCosigned({ witness: 'CN', treeSize: 5, cosignedAt: 101, note: 'n5b' })).toBe(true);
        expect(await store.advanceOwnCosigned({ witness: 'UK', treeSize: 2, note: 'uk' })).toBe(true);
        expect(await store.ownCosigned('UK')).toEqual({ witness: 'UK', treeSize: 2, note: 'uk' });
        expect(await store.ownCosigned('CN')).toEqual({ witness: 'CN', treeSize: 5, cosignedAt: 101, note: 'n5b' });
        await expectRejectsCode(store.advanceOwnCosigned({ witness: 'CN', treeSize: 0, cosignedAt: 1, note: 'x' }), StoreError, 'STORE_CONFLICT');
        await expectRejectsCode(store.advanceOwnCosigned({ witness: 'CN', treeSize: 9, cosignedAt: 1, note: '' }), StoreError, 'STORE_CONFLICT');
        await expectRejectsCode(store.advanceOwnCosigned({ witness: 'CN', treeSize: 9, cosignedAt: -1, note: 'x' }), StoreError, 'STORE_CONFLICT');
      });

      it('records cosigned times insert-only and lists the largest sizes per cosigner', async () => {
        await store.addCosignedTimes([
          { party: 'US', cosigner: 'CN', treeSize: 3, cosignedAt: 10 },
          { party: 'US', cosigner: 'CN', treeSize: 7, cosignedAt: 20 },
          { party: 'US', cosigner: 'UK', treeSize: 5, cosignedAt: 15 },
          { party: 'CN', cosigner: 'US', treeSize: 1, cosignedAt: 5 },
        ]);
        await store.addCosignedTimes([{ party: 'US', cosigner: 'CN', treeSize: 3, cosignedAt: 99 }]); // first time kept
        await store.addCosignedTimes([{ party: 'US', cosigner: 'CN', treeSize: 9, cosignedAt: 30 }]);
        expect(await store.cosignedTimes('US')).toEqual([
          { party: 'US', cosigner: 'CN', treeSize: 3, cosignedAt: 10 },
          { party: 'US', cosigner: 'CN', treeSize: 7, cosignedAt: 20 },
          { party: 'US', cosigner: 'CN', treeSize: 9, cosignedAt: 30 },
          { party: 'US', cosigner: 'UK', treeSize: 5, cosignedAt: 15 },
        ]);
        expect((await store.cosignedTimes('US', 2)).map((p) => `${p.cosigner}${p.treeSize}`)).toEqual(['CN7', 'CN9', 'UK5']);
        expect(await store.cosignedTimes('EU')).toEqual([]);
        // Atomic per call: one bad point writes none of the call's points.
        await expectRejectsCode(store.addCosignedTimes([{ party: 'EU', cosigner: 'CN', treeSize: 2, cosignedAt: 1 }, { party: 'EU', cosigner: 'CN', treeSize: 0, cosignedAt: 1 }]), StoreError, 'STORE_CONFLICT');
        expect(await store.cosignedTimes('EU')).toEqual([]);
      });

      it('keeps checkpoint time-stamp tokens insert-only (issue 12): first token stays, listed by size then authority, atomic per call', async () => {
        const tok = (s: string) => new TextEncoder().encode(s);
        expect(await store.checkpointTimestamps('US')).toEqual([]);
        expect(await store.latestTimestampedSize('US')).toBe(0);
        expect(
          await store.addCheckpointTimestamps([
            { party: 'US', treeSize: 7, authority: 'tsa-b', token: tok('b7'), genTime: 7_000, note: 'n' },
            { party: 'US', treeSize: 3, authority: 'tsa-a', token: tok('a3'), genTime: 3_000, note: 'n' },
            { party: 'US', treeSize: 7, authority: 'tsa-a', token: tok('a7'), genTime: 7_001, note: 'n' },
            { party: 'CN', treeSize: 2, authority: 'tsa-a', token: tok('cn'), genTime: 2_000, note: 'n' },
          ]),
        ).toBe(4);
        // A second token for a held (party, size, authority) is not stored: the first stays.
        expect(await store.addCheckpointTimestamps([{ party: 'US', treeSize: 3, authority: 'tsa-a', token: tok('other'), genTime: 1, note: 'n' }])).toBe(0);
        expect(await store.checkpointTimestamps('US')).toEqual([
          { party: 'US', treeSize: 3, authority: 'tsa-a', token: tok('a3'), genTime: 3_000, note: 'n' },
          { party: 'US', treeSize: 7, authority: 'tsa-a', token: tok('a7'), genTime: 7_001, note: 'n' },
          { party: 'US', treeSize: 7, authority: 'tsa-b', token: tok('b7'), genTime: 7_000, note: 'n' },
        ]);
        expect((await store.checkpointTimestamps('US', { treeSize: 7 })).map((t) => t.authority)).toEqual(['tsa-a', 'tsa-b']);
        expect((await store.checkpointTimestamps('US', { from: 4 })).map((t) => t.treeSize)).toEqual([7, 7]);
        expect((await store.checkpointTimestamps('US', { limit: 1 })).map((t) => t.treeSize)).toEqual([3]);
        expect(await store.checkpointTimestamps('US', { treeSize: 5 })).toEqual([]);
        expect(await store.latestTimestampedSize('US')).toBe(7);
        expect(await store.latestTimestampedSize('CN')).toBe(2);
        // Atomic per call: one bad row writes none of the call's rows.
        for (const bad of [
          { party: 'EU', treeSize: 0, authority: 'tsa-a', token: tok('x'), genTime: 1, note: 'n' },
          { party: 'EU', treeSize: 1, authority: '', token: tok('x'), genTime: 1, note: 'n' },
          { party: 'EU', treeSize: 1, authority: 'tsa-a', token: new Uint8Array(0), genTime: 1, note: 'n' },
          { party: 'EU', treeSize: 1, authority: 'tsa-a', token: tok('x'), genTime: 1, note: '' },
          { party: 'EU', treeSize: 1, authority: 'tsa-a', token: tok('x'), genTime: -1, note: 'n' },
          { party: 'EU', treeSize: 1.5, authority: 'tsa-a', token: tok('x'), genTime: 1, note: 'n' },
        ]) {
          await expectRejectsCode(store.addCheckpointTimestamps([{ party: 'EU', treeSize: 9, authority: 'tsa-a', token: tok('ok'), genTime: 1, note: 'n' }, bad]), StoreError, 'STORE_CONFLICT');
        }
        expect(await store.checkpointTimestamps('EU')).toEqual([]);
      });

      it('records escalations once, with their webhooks, and moves a webhook by compare-and-set on attempts', async () => {
        expect(await store.escalations()).toEqual([]);
        expect(await store.recordEscalations([{ id: 'a', recordedAt: 1000, webhook: '{"a":1}' }, { id: 'b', recordedAt: 1001 }])).toEqual(['a', 'b']);
        expect(await store.recordEscalations([{ id: 'a', recordedAt: 5000, webhook: '{"changed":1}' }, { id: 'c', recordedAt: 1002, webhook: '{}' }])).toEqual(['c']);
        expect(await store.escalations()).toEqual([
          { id: 'a', recordedAt: 1000, webhook: { body: '{"a":1}', attempts: 0, nextAttemptAt: 1000, state: 'pending' } },
          { id: 'b', recordedAt: 1001 },
          { id: 'c', recordedAt: 1002, webhook: { body: '{}', attempts: 0, nextAttemptAt: 1002, state: 'pending' } },
        ]);
        expect(await store.updateWebhook('a', 0, { attempts: 1, nextAttemptAt: 3000, state: 'pending' })).toBe(true);
        expect(await store.updateWebhook('a', 0, { attempts: 1, nextAttemptAt: 9000, state: 'pending' })).toBe(false); // lost the race
        expect(await store.updateWebhook('a', 1, { attempts: 2, nextAttemptAt: 3000, state: 'delivered' })).toBe(true);
        expect(await store.updateWebhook('a', 2, { attempts: 3, nextAttemptAt: 3000, state: 'pending' })).toBe(false); // delivered stays delivered
        expect(await store.updateWebhook('b', 0, { attempts: 1, nextAttemptAt: 0, state: 'delivered' })).toBe(false); // no webhook
        expect(await store.updateWebhook('zz', 0, { attempts: 1, nextAttemptAt: 0, state: 'delivered' })).toBe(false);
        expect((await store.escalations())[0]).toEqual({ id: 'a', recordedAt: 1000, webhook: { body: '{"a":1}', attempts: 2, nextAttemptAt: 3000, state: 'delivered' } });
        await expectRejectsCode(store.updateWebhook('c', 1, { attempts: 0, nextAttemptAt: 0, state: 'pending' }), StoreError, 'STORE_CONFLICT');
      });
    });

    describe('governance (issue 14): accord chain, departed logs, accord forks, evaluation notes', () => {
      const signed = (version: number, tag = 'a') => ({ accord: { channel: 'ch', version, parties: [{ id: 'US' }] }, signatures: [{ party: 'US', keyId: tag, signature: `${tag}${version}` }] }) as unknown as SignedAccord;
      const act = (party: string, version: number, size: number, suspectFrom?: number) => ({ party, version, size, entry: `${party}-${version}`, ...(suspectFrom !== undefined ? { suspectFrom } : {}) });

      it('stores the accord chain, counts its revisions, and only ever lets it grow', async () => {
        expect(await store.accordChain()).toBeUndefined();
        expect(await store.accordChainRevision()).toBe(0);
        const one = { channel: 'ch', versions: [signed(2)], activations: [act('US', 2, 4), act('CN', 2, 1, 0)] };
        expect(await store.putAccordChain(one)).toBe(1);
        expect(await store.accordChain()).toEqual({ ...one, revision: 1 });
        const two = { channel: 'ch', versions: [signed(2), signed(3)], activations: [...one.activations, act('US', 3, 9)] };
        expect(await store.putAccordChain(two)).toBe(2);
        expect(await store.accordChainRevision()).toBe(2);
        // Backwards, in any way: refused, nothing written.
        const refused = [
          { ...one, activations: two.activations }, // drops version 3
          { ...two, activations: one.activations }, // drops an activation
          { ...two, activations: [act('US', 2, 5), ...two.activations.slice(1)] }, // moves an activation
          { ...two, channel: 'other' },
          { ...two, versions: [signed(3)] }, // not numbered from 2
          { ...two, activations: [...two.activations, act('US', 3, 9)] }, // two for one (party, version)
          { ...two, activations: [...two.activations, { ...act('UK', 3, -1) }] },
        ];
        for (const c of refused) await expectRejectsCode(store.putAccordChain(c), StoreError, 'STORE_CONFLICT');
        expect(await store.accordChain()).toEqual({ ...two, revision: 2 });
        // The same versions with other signatures (the caller checked the digests) and one more activation: a new revision.
        const three = { channel: 'ch', versions: [signed(2, 'b'), signed(3)], activations: [...two.activations, act('CN', 3, 2)] };
        expect(await store.putAccordChain(three)).toBe(3);
        expect(await store.accordChain()).toEqual({ ...three, revision: 3 });
      });

      it('records departed logs once: the first end stays, a malformed call writes nothing', async () => {
        expect(await store.departedLogs()).toEqual([]);
        const uk = { party: 'UK', version: 3, digest: 'd3', end: 5 };
        expect(await store.addDepartedLogs([uk, { party: 'JP', version: 4, digest: 'd4', end: 0 }])).toEqual(['UK', 'JP']);
        expect(await store.addDepartedLogs([{ ...uk, end: 9 }])).toEqual([]);
        await expectRejectsCode(store.addDepartedLogs([{ party: 'FR', version: 4, digest: 'd4', end: 1 }, { party: 'DE', version: 1, digest: 'd', end: 1 }]), StoreError, 'STORE_CONFLICT');
        await expectRejectsCode(store.addDepartedLogs([{ party: 'DE', version: 4, digest: '', end: 1 }]), StoreError, 'STORE_CONFLICT');
        expect(await store.departedLogs()).toEqual([{ party: 'JP', version: 4, digest: 'd4', end: 0 }, uk]);
      });

      it('keeps accord fork proofs once each, oldest first, up to the cap', async () => {
        expect(await store.accordForkProofs()).toEqual([]);
        expect(await store.addAccordForkProof('p1\n', '2026-05-14T12:00:00Z', 2)).toBe(true);
        expect(await store.addAccordForkProof('p1\n', '2026-05-14T12:00:01Z', 2)).toBe(false);
        expect(await store.addAccordForkProof('p0\n', '2026-05-14T12:00:02Z', 2)).toBe(true);
        expect(await store.addAccordForkProof('p2\n', '2026-05-14T12:00:03Z', 2)).toBe(false); // the cap
        await expectRejectsCode(store.addAccordForkProof('', '2026-05-14T12:00:04Z', 9), StoreError, 'STORE_CONFLICT');
        expect(await store.accordForkProofs()).toEqual(['p1\n', 'p0\n']);
      });

      it('keeps the first evaluation note per (party, index, cosigner)', async () => {
        const n = { party: 'CN', index: 3, cosigner: 'US', treeSize: 4, cosignedAt: 1_778_760_000, note: 'note US\n' };
        expect(await store.evaluationNotes('CN', 3)).toEqual([]);
        expect(await store.addEvaluationNote(n)).toBe(true);
        expect(await store.addEvaluationNote({ ...n, treeSize: 9, note: 'later\n' })).toBe(false);
        expect(await store.addEvaluationNote({ ...n, cosigner: 'UK', cosignedAt: 5 })).toBe(true);
        expect(await store.addEvaluationNote({ ...n, index: 2 })).toBe(true);
        for (const bad of [{ ...n, index: 5, treeSize: 5 }, { ...n, index: 6, cosigner: '' }, { ...n, index: 7, treeSize: 9, cosignedAt: -1 }, { ...n, index: 8, treeSize: 9, note: '' }]) {
          await expectRejectsCode(store.addEvaluationNote(bad), StoreError, 'STORE_CONFLICT');
        }
        expect(await store.evaluationNotes('CN', 3)).toEqual([{ ...n, cosigner: 'UK', cosignedAt: 5 }, n]); // by cosigner
        expect(await store.evaluationNotes('CN', 2)).toEqual([{ ...n, index: 2 }]);
        expect(await store.evaluationNotes('CN', 5)).toEqual([]);
      });
    });

    describe('deliveries (issue 14: the deadline tracker on disk)', () => {
      const d = (party: string, index: number, recipient: string, facts = '{"f":1}') => ({ party, index, recipient, direction: 'sent' as const, leafHash: `h${index}`, facts });
      const batch = (o: Partial<import('../src/types.js').DeliveryBatch> = {}) => ({ deliveries: [], answers: [], withdrawals: [], cursor: { ownSize: 0, lastSeq: 0 }, ...o });

      it('files deliveries, answers and withdrawals with the cursor; reads them in key order with the answers under the leaf hash', async () => {
        expect(await store.deliveryCursor()).toEqual({ ownSize: 0, lastSeq: 0 });
        expect(await store.deliveries({ limit: 10 })).toEqual([]);
        await store.fileDeliveries(
          batch({
            deliveries: [d('US', 10, 'CN'), d('US', 2, 'EU'), d('US', 2, 'CN'), d('CN', 7, 'US')],
            answers: [
              { party: 'US', index: 2, recipient: 'CN', hash: 'h2', answers: '{"receipt":1}' },
              { party: 'US', index: 10, recipient: 'CN', hash: 'another history', answers: '{"receipt":2}' },
              { party: 'US', index: 3, recipient: 'CN', hash: 'h3', answers: '{"early":1}' }, // before its entry
            ],
            withdrawals: [{ party: 'US', index: 2, retraction: '{"index":9}' }],
            cursor: { ownSize: 11, lastSeq: 4 },
          }),
        );
        expect(await store.deliveryCursor()).toEqual({ ownSize: 11, lastSeq: 4 });
        const all = await store.deliveries({ limit: 10 });
        expect(all.map((r) => `${r.party}/${r.index}>${r.recipient}`)).toEqual(['CN/7>US', 'US/2>CN', 'US/2>EU', 'US/10>CN']);
        expect(all[1]).toEqual({ ...d('US', 2, 'CN'), answers: '{"receipt":1}', withdrawn: '{"index":9}' });
        expect(all[2]).toEqual({ ...d('US', 2, 'EU'), withdrawn: '{"index":9}' });
        expect(all[3]).toEqual(d('US', 10, 'CN')); // an answer naming another hash answers nothing held
        // Paging by key, and filters.
        expect((await store.deliveries({ limit: 2, after: { party: 'US', index: 2, recipient: 'CN' } })).map((r) => r.recipient + r.index)).toEqual(['EU2', 'CN10']);
        expect((await store.deliveries({ limit: 10, party: 'US', recipient: 'CN' })).map((r) => r.index)).toEqual([2, 10]);
        expect((await store.deliveries({ limit: 10, party: 'US', index: 2, recipient: 'EU' })).length).toBe(1);
        expect(await store.deliveries({ limit: 10, direction: 'received' })).toEqual([]);
        // The early answer waits in its row; a later filing of its entry finds it.
        expect(await store.deliveryAnswers([{ party: 'US', index: 3, recipient: 'CN', hash: 'h3' }, { party: 'US', index: 3, recipient: 'CN', hash: 'zz' }])).toEqual([{ party: 'US', index: 3, recipient: 'CN', hash: 'h3', answers: '{"early":1}' }]);
        await store.fileDeliveries(batch({ deliveries: [d('US', 3, 'CN')], answers: [{ party: 'US', index: 2, recipient: 'CN', hash: 'h2', answers: '{"receipt":1,"ack":2}' }], cursor: { ownSize: 12, lastSeq: 3 } }));
        expect((await store.deliveries({ limit: 1, party: 'US', index: 3, recipient: 'CN' }))[0]?.answers).toBe('{"early":1}');
        expect((await store.deliveries({ limit: 1, party: 'US', index: 2, recipient: 'CN' }))[0]?.answers).toBe('{"receipt":1,"ack":2}'); // answers replace their row
        expect(await store.deliveryCursor()).toEqual({ ownSize: 12, lastSeq: 4 }); // never backwards
      });

      it('keeps the first filing of a delivery and of a withdrawal (filing again after a crash changes nothing)', async () => {
        const b = batch({ deliveries: [d('US', 0, 'CN', '{"v":1}')], withdrawals: [{ party: 'US', index: 0, retraction: '{"index":1}' }], cursor: { ownSize: 1, lastSeq: 0 } });
        await store.fileDeliveries(b);
        await store.fileDeliveries(batch({ deliveries: [d('US', 0, 'CN', '{"v":2}')], withdrawals: [{ party: 'US', index: 0, retraction: '{"index":5}' }], cursor: { ownSize: 1, lastSeq: 0 } }));
        expect(await store.deliveries({ limit: 10 })).toEqual([{ ...d('US', 0, 'CN', '{"v":1}'), withdrawn: '{"index":1}' }]);
      });

      it('keeps judgements in indexed columns: stale and recently judged ranges, listing order, counts, and what makes a delivery due again (issue 14)', async () => {
        const j = (party: string, index: number, recipient: string, o: Partial<import('../src/types.js').DeliveryJudgement> = {}) => ({
          party, index, recipient, state: 'sent', settled: false, overdue: 0, dueAt: 5000 as number | null, judgedAt: 1000, rank: 1, sortDue: 5000,
          startBound: null, receiptIdx: null, receiptBound: null, ackIdx: null, ackBound: null, ...o,
        });
        const keys = (rows: readonly { party: string; index: number; recipient: string }[]) => rows.map((r) => `${r.party}/${r.index}>${r.recipient}`);
        await store.fileDeliveries(batch({ deliveries: [d('US', 0, 'CN'), d('US', 1, 'CN'), d('US', 2, 'CN'), d('CN', 0, 'US')], cursor: { ownSize: 3, lastSeq: 1 } }));
        // New deliveries are due at once (never judged), in due order then key order; paged.
        expect(keys(await store.deliveries({ limit: 10, staleBefore: 1 }))).toEqual(['CN/0>US', 'US/0>CN', 'US/1>CN', 'US/2>CN']);
        expect(keys(await store.deliveries({ limit: 10, staleBefore: 1, afterStale: { at: 0, key: { party: 'US', index: 0, recipient: 'CN' } } }))).toEqual(['US/1>CN', 'US/2>CN']);
        expect(await store.nextDeliveryDue()).toBe(0);
        await store.judgeDeliveries([
          j('US', 0, 'CN', { state: 'overdue-receipt', overdue: 1, rank: 0, sortDue: 900, dueAt: null, startBound: 100 }),
          j('US', 1, 'CN', { dueAt: 3000, sortDue: 3000, receiptIdx: 7, receiptBound: 200 }),
          j('US', 2, 'CN', { state: 'acknowledged', settled: true, rank: 2, sortDue: 4000, dueAt: null, ackIdx: 9, ackBound: 300 }),
          j('CN', 0, 'US', { judgedAt: 2500 }),
          j('EU', 5, 'US'), // not held: skipped
        ]);
        const [first] = await store.deliveries({ limit: 1, party: 'US', index: 0, recipient: 'CN' });
        expect(first?.judged).toEqual({ state: 'overdue-receipt', settled: false, overdue: 1, dueAt: null, judgedAt: 1000, rank: 0, sortDue: 900, startBound: 100, receiptIdx: null, receiptBound: null, ackIdx: null, ackBound: null });
        expect(await store.deliveries({ limit: 10, staleBefore: 3000 })).toEqual([]); // due at 3000: stale only after it
        expect(keys(await store.deliveries({ limit: 10, staleBefore: 3001 }))).toEqual(['US/1>CN']);
        expect(await store.nextDeliveryDue()).toBe(3000);
        expect(keys(await store.deliveries({ limit: 10, judgedAfter: 2000 }))).toEqual(['CN/0>US']);
        // Listing at 2000: the judgements that hold then (CN/0 was judged after it), in listing order, filtered, paged.
        expect(keys(await store.deliveryListing({ at: 2000, limit: 10 }))).toEqual(['US/0>CN', 'US/1>CN', 'US/2>CN']);
        expect(keys(await store.deliveryListing({ at: 2000, limit: 10, after: [0, 900, 0, 'US', 'CN'] }))).toEqual(['US/1>CN', 'US/2>CN']);
        expect(keys(await store.deliveryListing({ at: 2000, limit: 10, settled: false, state: 'sent' }))).toEqual(['US/1>CN']);
        expect(keys(await store.deliveryListing({ at: 3500, limit: 10 }))).toEqual(['US/0>CN', 'CN/0>US', 'US/2>CN']); // US/1 stale at 3500
        const counts = (await store.deliveryCounts(2000)).map((c) => `${c.state}:${c.settled}:${c.overdue}:${c.n}`).sort();
        expect(counts).toEqual(['acknowledged:true:0:1', 'overdue-receipt:false:1:1', 'sent:false:0:1']);
        // Bounds moved: own entries of a range, and deliveries answered by entries of the recipient's log in a range.
        await store.rejudgeDeliveries([{ party: 'CN', from: 7, to: 8 }]);
        expect(keys(await store.deliveries({ limit: 10, staleBefore: 1 }))).toEqual(['US/1>CN']); // its receipt is CN/7
        await store.rejudgeDeliveries([{ party: 'CN', from: 9, to: 10 }, { party: 'US', from: 0, to: 1 }]);
        expect(keys(await store.deliveries({ limit: 10, staleBefore: 1 }))).toEqual(['US/0>CN', 'US/1>CN', 'US/2>CN']);
        // A new provider and what it covers: those judged without a bound it knows (CN/0>US: no start bound).
        await store.judgeDeliveries([j('CN', 0, 'US', { judgedAt: 2500 })]);
        await store.rejudgeDeliveries([], [{ party: 'CN', to: 1, by: 'EU' }, { party: 'CN', to: 0 }]); // another cosigner's; nothing below 0
        expect(keys(await store.deliveries({ limit: 10, staleBefore: 1 }))).toEqual(['US/0>CN', 'US/1>CN', 'US/2>CN']);
        await store.rejudgeDeliveries([], [{ party: 'CN', to: 1, by: 'US' }]);
        expect(keys(await store.deliveries({ limit: 10, staleBefore: 1 }))).toEqual(['CN/0>US', 'US/0>CN', 'US/1>CN', 'US/2>CN']);
        // An answer or a withdrawal filed makes its deliveries due again.
        await store.judgeDeliveries([j('US', 0, 'CN'), j('US', 1, 'CN'), j('US', 2, 'CN'), j('CN', 0, 'US')]);
        await store.fileDeliveries(batch({ answers: [{ party: 'US', index: 1, recipient: 'CN', hash: 'h1', answers: '{}' }], withdrawals: [{ party: 'CN', index: 0, retraction: '{}' }], cursor: { ownSize: 3, lastSeq: 1 } }));
        expect(keys(await store.deliveries({ limit: 10, staleBefore: 1 }))).toEqual(['CN/0>US', 'US/1>CN']);
      });

      it('writes a judgement made on a basis only where the row still holds that basis: an answer or withdrawal filed meanwhile stays due (hfix1)', async () => {
        const j = (index: number, basis: { answers: string | null; withdrawn: string | null }) => ({
          party: 'US', index, recipient: 'CN', state: 'overdue-ack', settled: false, overdue: 2, dueAt: null, judgedAt: 1000, rank: 0, sortDue: 900,
          startBound: null, receiptIdx: null, receiptBound: null, ackIdx: null, ackBound: null, basis,
        });
        await store.fileDeliveries(batch({ deliveries: [d('US', 0, 'CN'), d('US', 1, 'CN'), d('US', 2, 'CN'), d('US', 3, 'CN')], answers: [0, 1, 2, 3].map((i) => ({ party: 'US', index: i, recipient: 'CN', hash: `h${i}`, answers: '{"receipt":1}' })), cursor: { ownSize: 4, lastSeq: 0 } }));
        // Read (the watcher's changes), then a filing of another process or a refresh: US/1 answered again, US/2 withdrawn.
        await store.fileDeliveries(batch({ answers: [{ party: 'US', index: 1, recipient: 'CN', hash: 'h1', answers: '{"receipt":1,"ack":2}' }], withdrawals: [{ party: 'US', index: 2, retraction: '{"index":7}' }], cursor: { ownSize: 4, lastSeq: 0 } }));
        await store.judgeDeliveries([j(0, { answers: '{"receipt":1}', withdrawn: null }), j(1, { answers: '{"receipt":1}', withdrawn: null }), j(2, { answers: '{"receipt":1}', withdrawn: null }), j(3, { answers: null, withdrawn: null })]);
        const rows = await store.deliveries({ limit: 10 });
        expect(rows.map((r) => `${r.index}:${r.judged?.state ?? 'unjudged'}`)).toEqual(['0:overdue-ack', '1:unjudged', '2:unjudged', '3:unjudged']);
        expect((await store.deliveries({ limit: 10, staleBefore: 1 })).map((r) => r.index)).toEqual([1, 2, 3]); // still due: judged again
        // Without a basis: written as before.
        const { basis: _, ...unconditional } = j(3, { answers: null, withdrawn: null });
        await store.judgeDeliveries([unconditional]);
        expect((await store.deliveries({ limit: 1, party: 'US', index: 3, recipient: 'CN' }))[0]?.judged?.state).toBe('overdue-ack');
      });

      it('files answers with held as a compare-and-set: a row moved since it was read files nothing of the batch (hfix1: two filers)', async () => {
        const row = (answers: string, held: string | null) => ({ party: 'US', index: 0, recipient: 'CN', hash: 'h0', answers, held });
        expect(await store.fileDeliveries(batch({ deliveries: [d('US', 0, 'CN')], answers: [row('{"receipt":1}', null)], cursor: { ownSize: 1, lastSeq: 0 } }))).toBe(true);
        // Another filer read no row too, and merged its ack alone: refused, with its delivery, withdrawal and cursor.
        expect(await store.fileDeliveries(batch({ deliveries: [d('US', 1, 'CN')], answers: [row('{"ack":2}', null)], withdrawals: [{ party: 'US', index: 1, retraction: '{}' }], cursor: { ownSize: 2, lastSeq: 5 } }))).toBe(false);
        expect(await store.deliveryCursor()).toEqual({ ownSize: 1, lastSeq: 0 });
        expect((await store.deliveries({ limit: 10 })).map((r) => `${r.index}:${r.answers}:${r.withdrawn ?? '-'}`)).toEqual(['0:{"receipt":1}:-']);
        // Read again (held as it is now) and merged: filed.
        expect(await store.fileDeliveries(batch({ answers: [row('{"receipt":1,"ack":2}', '{"ack":0}')], cursor: { ownSize: 2, lastSeq: 5 } }))).toBe(false);
        expect(await store.fileDeliveries(batch({ answers: [row('{"receipt":1,"ack":2}', '{"receipt":1}')], cursor: { ownSize: 2, lastSeq: 5 } }))).toBe(true);
        expect((await store.deliveries({ limit: 1 }))[0]?.answers).toBe('{"receipt":1,"ack":2}');
        expect(await store.deliveryCursor()).toEqual({ ownSize: 2, lastSeq: 5 });
      });

      it('answers which escalations it holds, and leaves settled ones out of the list but those of a prefix', async () => {
        await store.recordEscalations([
          { id: 'overdue/receipt/US/0/CN', recordedAt: 1 },
          { id: 'overdue/ack/US/0/CN', recordedAt: 2, webhook: '{}' },
          { id: 'fork/CN/1', recordedAt: 3 },
          { id: 'arrival/CN/4', recordedAt: 4, webhook: '{}' },
          { id: 'fork/CN/2', recordedAt: 5, webhook: '{}' },
        ]);
        expect(await store.knownEscalations(['x', 'fork/CN/1', 'overdue/receipt/US/0/CN'])).toEqual(['fork/CN/1', 'overdue/receipt/US/0/CN']);
        expect(await store.knownEscalations([])).toEqual([]);
        expect(await store.updateWebhook('arrival/CN/4', 0, { attempts: 1, nextAttemptAt: 4, state: 'delivered' })).toBe(true);
        expect(await store.updateWebhook('fork/CN/2', 0, { attempts: 1, nextAttemptAt: 5, state: 'delivered' })).toBe(true);
        // Pending webhooks, and every fork id (settled or without a webhook); not the delivered arrival nor the overdue without a webhook.
        expect((await store.escalations({ keepSettled: 'fork/' })).map((e) => e.id)).toEqual(['overdue/ack/US/0/CN', 'fork/CN/1', 'fork/CN/2']);
        expect((await store.escalations()).length).toBe(5);
      });

      it('pages received entries forward with after, oldest first', async () => {
        await store.ingest([received('CN', 0), received('CN', 1), received('EU', 0)]);
        const all = await store.inbox({ limit: 10 });
        const seqs = all.map((r) => r.rowid).sort((a, b) => a - b);
        const fwd = await store.inbox({ after: seqs[0]!, limit: 10 });
        expect(fwd.map((r) => r.rowid)).toEqual(seqs.slice(1));
        expect((await store.inbox({ after: seqs[0]!, limit: 1 })).map((r) => r.rowid)).toEqual([seqs[1]]);
      });
    });

    it('stores JSON settings', async () => {
      expect(await store.getSetting('accord')).toBeUndefined();
      for (const v of ['abc', 0, 1.5, true, null, [1, 'x'], { a: { b: [null] } }]) {
        await store.putSetting('k', v);
        expect(await store.getSetting('k')).toEqual(v);
      }
      await store.putSetting('k', undefined);
      expect(await store.getSetting('k')).toBeUndefined();
    });
  });
}
