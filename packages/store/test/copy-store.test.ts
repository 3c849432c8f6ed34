/**
 * Copying a whole store between implementations (issue 14, `parley
 * migrate`): a SQLite store holding every kind of record is copied to
 * PostgreSQL (real server, fresh database) and back to a new SQLite file;
 * each copy verifies record by record and recomputes the tree. A copy
 * tampered with afterwards (one byte of one entry, a missing session) is
 * caught, and so is a copied idempotency key with another answer or missing;
 * a non-empty target is refused before anything is written.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { Frontier, leafHash, type SignedAccord, StoreError } from '@parley/core';
import { SqliteStore } from '../src/sqlite/store.js';
import { backupDatabase } from '../src/sqlite/backup.js';
import { PgStore } from '../src/postgres/store.js';
import { copyStore, dumpCounts, verifyCopy, type DumpableStore } from '../src/copy.js';
import type { IdempotencyRecord } from '../src/types.js';
import { buildBatch, checkLog, entryBytes, expectRejectsCode, meta, tempDir } from './helpers.js';
import { freshPgUrl } from './pg.js';

const tmp = tempDir('parley-copy-');
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(drops.map((d) => d()));
  tmp.cleanup();
}, 300_000);
const NOW = 1_800_000_000;
const note = (size: number, root: string, sig = 'sig') => `cn.parley.test/log\n${size}\n${root}=\n\n\u2014 cn.parley.test/log ${sig}\n`;

/** Idempotency records by the first index of the batch that stores them (populate). */
const IDEMPOTENCY: Record<number, IdempotencyRecord[]> = {
  0: [{ scope: 'alice', key: 'k-first', digest: 'a'.repeat(64), indexes: [0], response: '{"status":201,"body":{"index":0}}', createdAt: 1_700_000_000_000 }],
  13: [
    { scope: 'zed', key: 'k-z', digest: 'b'.repeat(64), indexes: [13, 14], response: '{"status":201,"body":{"index":13}}', createdAt: 1_700_000_000_001 },
    { scope: 'alice', key: 'k-mid', digest: 'c'.repeat(64), indexes: [52], response: '{"status":201,"body":{"index":52}}', createdAt: 1_700_000_000_002 },
  ],
};

/** Fills `s` with records of every kind. */
async function populate(s: DumpableStore): Promise<void> {
  const f = Frontier.empty();
  for (const n of [1, 3, 7, 2, 40, 5]) {
    const first = f.size;
    const batch = buildBatch(f, Array.from({ length: n }, (_, k) => ({ bytes: entryBytes(first + k, 'own', 200), meta: meta({ to: ['CN', 'UK'], refs: k === 0 ? [{ party: 'CN', index: 1, hash: 'x' }] : [], ...(k === 1 ? { type: 'incident.report', incident: 'US:1' } : {}) }) })));
    // Idempotency keys (issue 14) ride with the batch whose entries they name: one in the first batch, two in the fifth.
    await s.appendBatch({ ...batch, ...(IDEMPOTENCY[first] !== undefined ? { idempotency: IDEMPOTENCY[first] } : {}) });
  }
  const rec = (party: string, index: number) => {
    const bytes = entryBytes(index, `r:${party}`);
    return { party, index, leafHash: leafHash(bytes), bytes, meta: meta({ from: party, to: ['US'] }), receivedAt: `2026-05-14T12:00:${String(index % 60).padStart(2, '0')}Z` };
  };
  // Received out of index order: the receive order is what must survive.
  await s.ingest([rec('CN', 5), rec('CN', 1), rec('UK', 0)]);
  await s.ingest(Array.from({ length: 700 }, (_, i) => rec('UK', 700 - i)));
  await s.mirror('CN', Array.from({ length: 600 }, (_, i) => ({ index: 10 + i, leafHash: leafHash(entryBytes(10 + i, 'm')), bytes: entryBytes(10 + i, 'm') })));
  await s.mirror('AU', [{ index: 0, leafHash: leafHash(entryBytes(0, 'au')), bytes: entryBytes(0, 'au') }]);
  await s.putOfficer({ name: 'zed', role: 'auditor', passwordHash: 'h1', created: 't', disabled: true });
  await s.putOfficer({ name: 'alice', role: 'admin', passwordHash: 'h2', created: 't', disabled: false });
  await s.putSession({ tokenHash: 'ab'.repeat(32), officer: 'alice', created: 't', expires: 'u' });
  await s.rememberNonce('CN n1', NOW + 100, NOW);
  await s.putSetting('accord', { id: 'abc', nested: [1, null, 'x'] });
  await s.putSetting('leftover', { from: 'an operator' });
  // issue 14: the governance tables (a chain written twice: the copy starts at its own revision 1).
  const signed = (version: number) => ({ accord: { channel: 'c', version, parties: [{ id: 'US' }] }, signatures: [{ party: 'US', keyId: 'k', signature: `s${version}` }] }) as unknown as SignedAccord;
  await s.putAccordChain({ channel: 'c', versions: [signed(2)], activations: [{ party: 'US', version: 2, size: 3, entry: 'e' }] });
  await s.putAccordChain({ channel: 'c', versions: [signed(2), signed(3)], activations: [{ party: 'US', version: 2, size: 3, entry: 'e' }, { party: 'CN', version: 3, size: 0, suspectFrom: 0, entry: 'f' }] });
  await s.addDepartedLogs([{ party: 'UK', version: 3, digest: 'd3', end: 701 }]);
  await s.addAccordForkProof('fork b\n', '2026-05-14T12:00:00Z', 8);
  await s.addAccordForkProof('fork a\n', '2026-05-14T12:00:01Z', 8);
  await s.addEvaluationNote({ party: 'CN', index: 1, cosigner: 'US', treeSize: 6, cosignedAt: 12, note: 'cn 6\n' });
  await s.addEvaluationNote({ party: 'US', index: 4, cosigner: 'CN', treeSize: 5, cosignedAt: 13, note: 'us 5\n' });
  await s.advanceWitness('CN', 0, { party: 'CN', treeSize: 9, rootHash: leafHash(entryBytes(9, 'root')), note: entryBytes(9, 'note', 100) });
  // The witness's cosignature history (issue 14): earlier notes than the state's current one, of two logs.
  await s.advanceWitness('CN', 9, { party: 'CN', treeSize: 12, rootHash: leafHash(entryBytes(12, 'root')), note: entryBytes(12, 'note', 100) });
  await s.advanceWitness('CN', 12, { party: 'CN', treeSize: 15, rootHash: leafHash(entryBytes(15, 'root')), note: entryBytes(15, 'note', 100) });
  await s.advanceWitness('AU', 0, { party: 'AU', treeSize: 1, rootHash: leafHash(entryBytes(1, 'root')), note: entryBytes(1, 'au-note', 100) });
  await s.advanceWitness('AU', 1, { party: 'AU', treeSize: 2, rootHash: leafHash(entryBytes(2, 'root')), note: entryBytes(2, 'au-note', 100) });
  await s.addForkProof({ party: 'CN', views: [note(5, 'BBB'), note(5, 'AAA')], proof: '{"p":1}', recordedAt: '2026-05-14T12:00:00Z' });
  await s.addUnverifiedCheckpoint('CN', note(3, 'A'), 't0', 10);
  await s.addUnverifiedCheckpoint('CN', note(4, 'B'), 't1', 10);
  await s.markCheckpointsCompared('CN', [note(3, 'A')], 'consistent', 't2');
  await s.advanceCursor('pull', 'CN', { treeSize: 3, frontier: [leafHash(entryBytes(1, 'f')), leafHash(entryBytes(2, 'f'))] });
  await s.advanceCursor('push', 'UK', { treeSize: 7, frontier: [] });
  await s.advanceOwnCosigned({ witness: 'CN', treeSize: 5, cosignedAt: 100, note: 'n5' });
  await s.advanceOwnCosigned({ witness: 'UK', treeSize: 2, note: 'n2' });
  await s.addCosignedTimes([{ party: 'US', cosigner: 'CN', treeSize: 3, cosignedAt: 10 }, { party: 'US', cosigner: 'UK', treeSize: 5, cosignedAt: 15 }]);
  await s.addCheckpointTimestamps([{ party: 'US', treeSize: 4, authority: 'tsa', token: new Uint8Array([1, 2, 3]), genTime: 4000, note: 'n' }]);
  await s.recordEscalations([{ id: 'e1', recordedAt: 1000, webhook: '{"a":1}' }, { id: 'e2', recordedAt: 1001 }]);
  await s.updateWebhook('e1', 0, { attempts: 2, nextAttemptAt: 5000, state: 'abandoned' });
}

async function pgStore(): Promise<{ store: PgStore; url: string }> {
  const db = await freshPgUrl();
  drops.push(db.drop);
  return { store: await PgStore.open(db.url, { max: 4 }), url: db.url };
}

describe('copyStore / verifyCopy', () => {
  it('copies SQLite → PostgreSQL → SQLite exactly: every record, the receive order, the tree', async () => {
    const src = SqliteStore.open(join(tmp.dir, 'src.sqlite'));
    await populate(src);
    const counts = await dumpCounts(src, NOW);
    expect(counts).toMatchObject({ batch: 58, received: 703, mirror: 601, officer: 2, session: 1, nonce: 1, setting: 2, witness: 2, forkProof: 1, unverified: 2, cursor: 2, ownCosigned: 2, cosignedTime: 2, timestamp: 1, escalation: 2, accordChain: 1, departed: 1, accordFork: 2, evaluationNote: 2, idempotency: 3, witnessCosignature: 5 });

    const { store: mid } = await pgStore();
    const phases = new Set<string>();
    expect(await copyStore(src, mid, { now: NOW, progress: (p) => phases.add(p) })).toEqual(counts);
    const v1 = await verifyCopy(src, mid, { now: NOW, progress: (p) => phases.add(p) });
    expect(v1.mismatch).toBeUndefined();
    expect(v1).toMatchObject({ treeSize: 58, checkpoints: 6, counts });
    expect([...phases]).toEqual(['copy', 'verify']);
    await checkLog(mid);
    // The receive order, not the index order, survives.
    expect((await mid.inbox({ limit: 3 })).map((e) => `${e.party}${e.index}`).reverse()).toEqual(['UK3', 'UK2', 'UK1']);
    expect((await mid.inbox({ limit: 1000 })).at(-1)).toMatchObject({ party: 'CN', index: 5 });
    expect(await mid.escalations()).toEqual(await src.escalations());
    expect(await mid.unverifiedCheckpoints('CN')).toEqual([note(4, 'B')]);
    expect(await mid.addUnverifiedCheckpoint('CN', note(3, 'A'), 't9', 10)).toBe(false); // compared once, kept as evidence
    const { revision, ...chain } = (await src.accordChain())!;
    expect(revision).toBe(2);
    expect(await mid.accordChain()).toEqual({ ...chain, revision: 1 });
    expect(await mid.accordForkProofs()).toEqual(['fork b\n', 'fork a\n']);

    const back = SqliteStore.open(join(tmp.dir, 'back.sqlite'));
    await copyStore(mid, back, { now: NOW });
    expect((await verifyCopy(mid, back, { now: NOW })).mismatch).toBeUndefined();
    expect((await verifyCopy(src, back, { now: NOW })).mismatch).toBeUndefined();
    // Idempotency keys both ways: a retry after the move is answered from the copied record.
    for (const r of Object.values(IDEMPOTENCY).flat()) {
      expect(await mid.idempotencyRecord(r.scope, r.key), `${r.scope}/${r.key} in PostgreSQL`).toEqual(r);
      expect(await back.idempotencyRecord(r.scope, r.key), `${r.scope}/${r.key} back in SQLite`).toEqual(r);
    }
    // The witness's whole cosignature history both ways, not only each log's current note (a log's node reads it after the move).
    for (const party of ['AU', 'CN']) {
      const held = await src.witnessCosignatures(party, 0, 10);
      expect(held.map((r) => r.treeSize)).toEqual(party === 'CN' ? [9, 12, 15] : [1, 2]);
      expect(await mid.witnessCosignatures(party, 0, 10), `${party} in PostgreSQL`).toEqual(held);
      expect(await back.witnessCosignatures(party, 0, 10), `${party} back in SQLite`).toEqual(held);
    }
    for (const s of [src, mid, back]) await s.close();
  });

  it('finds a copy tampered with afterwards: one byte of one entry, a missing row', async () => {
    const src = SqliteStore.open(join(tmp.dir, 'src2.sqlite'));
    await populate(src);
    const { store: dst, url } = await pgStore();
    await copyStore(src, dst, { now: NOW });
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`UPDATE entries SET bytes = overlay(bytes placing '\\xff'::bytea from 20 for 1) WHERE idx = 30`);
    let v = await verifyCopy(src, dst, { now: NOW });
    expect(v.mismatch).toMatchObject({ kind: 'batch' });
    await c.query('DELETE FROM sessions');
    await c.end();
    v = await verifyCopy(src, src, { now: NOW });
    expect(v.mismatch).toBeUndefined();
    v = await verifyCopy(src, dst, { now: NOW });
    expect(v.mismatch).toBeDefined();
    await src.close();
    await dst.close();
  });

  it('finds a copy whose accord chain or evaluation notes differ (issue 14: the governance tables are verified too)', async () => {
    const src = SqliteStore.open(join(tmp.dir, 'src5.sqlite'));
    await populate(src);
    const path = join(tmp.dir, 'dst5.sqlite');
    const dst = SqliteStore.open(path);
    await copyStore(src, dst, { now: NOW });
    expect((await verifyCopy(src, dst, { now: NOW })).mismatch).toBeUndefined();
    const raw = new Database(path);
    raw.prepare(`UPDATE accord_activations SET size = 4 WHERE party = 'US'`).run();
    expect((await verifyCopy(src, dst, { now: NOW })).mismatch).toMatchObject({ kind: 'accordChain' });
    raw.prepare(`UPDATE accord_activations SET size = 3 WHERE party = 'US'`).run();
    raw.exec('DROP TRIGGER evaluation_notes_insert_only_d');
    raw.prepare(`DELETE FROM evaluation_notes WHERE party = 'US'`).run();
    raw.close();
    expect((await verifyCopy(src, dst, { now: NOW })).mismatch).toMatchObject({ kind: 'evaluationNote' });
    await src.close();
    await dst.close();
  });

  it('finds a copy that lacks an earlier cosignature of the witness history (only the current note would survive advanceWitness)', async () => {
    const src = SqliteStore.open(join(tmp.dir, 'src8.sqlite'));
    await populate(src);
    const path = join(tmp.dir, 'dst8.sqlite');
    const dst = SqliteStore.open(path);
    await copyStore(src, dst, { now: NOW });
    expect((await verifyCopy(src, dst, { now: NOW })).mismatch).toBeUndefined();
    const raw = new Database(path);
    raw.exec('DROP TRIGGER witness_cosignatures_insert_only_d');
    raw.prepare(`DELETE FROM witness_cosignatures WHERE party = 'CN' AND tree_size = 12`).run();
    raw.close();
    expect((await verifyCopy(src, dst, { now: NOW })).mismatch).toMatchObject({ kind: 'witnessCosignature' });
    await src.close();
    await dst.close();
  });

  it('finds a copy whose idempotency keys differ: another answer, a key missing', async () => {
    const src = SqliteStore.open(join(tmp.dir, 'src7.sqlite'));
    await populate(src);
    const { store: dst, url } = await pgStore();
    await copyStore(src, dst, { now: NOW });
    expect((await verifyCopy(src, dst, { now: NOW })).mismatch).toBeUndefined();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    await c.query(`UPDATE idempotency_keys SET response = '{"status":201,"body":{"index":1}}' WHERE key = 'k-first'`);
    expect((await verifyCopy(src, dst, { now: NOW })).mismatch).toMatchObject({ kind: 'idempotency' });
    await c.query(`DELETE FROM idempotency_keys WHERE key = 'k-first'`);
    await c.end();
    expect((await verifyCopy(src, dst, { now: NOW })).mismatch).toMatchObject({ kind: 'idempotency' });
    await src.close();
    await dst.close();
  });

  it('parley backup (the SQLite online backup) carries the governance tables with the rest: the copy verifies record by record', async () => {
    const path = join(tmp.dir, 'src6.sqlite');
    const src = SqliteStore.open(path);
    await populate(src);
    const out = join(tmp.dir, 'backup6.sqlite');
    await backupDatabase(path, out);
    const copy = SqliteStore.open(out);
    expect((await verifyCopy(src, copy, { now: NOW })).mismatch).toBeUndefined();
    expect(await dumpCounts(copy, NOW)).toMatchObject({ accordChain: 1, departed: 1, accordFork: 2, evaluationNote: 2 });
    expect(await copy.accordChain()).toEqual(await src.accordChain()); // the revision too: the file is the same
    await src.close();
    await copy.close();
  });

  it('copies an entry held both as mirrored and as received (mirrored first, then addressed to us)', async () => {
    const src = SqliteStore.open(join(tmp.dir, 'src4.sqlite'));
    const f = Frontier.empty();
    await src.appendBatch(buildBatch(f, [{ bytes: entryBytes(0, 'own'), meta: meta() }]));
    const bytes = entryBytes(7, 'cn');
    await src.mirror('CN', [{ index: 7, leafHash: leafHash(bytes), bytes }]);
    await src.ingest([{ party: 'CN', index: 7, leafHash: leafHash(bytes), bytes, meta: meta({ from: 'CN', to: ['US'] }), receivedAt: '2026-05-14T12:00:00Z' }]);
    const counts = await dumpCounts(src, NOW);
    expect(counts).toMatchObject({ batch: 1, received: 1, mirror: 1 });
    const { store: mid } = await pgStore();
    expect(await copyStore(src, mid, { now: NOW })).toEqual(counts);
    expect((await verifyCopy(src, mid, { now: NOW })).mismatch).toBeUndefined();
    const back = SqliteStore.open(join(tmp.dir, 'back4.sqlite'));
    expect(await copyStore(mid, back, { now: NOW })).toEqual(counts);
    expect((await verifyCopy(src, back, { now: NOW })).mismatch).toBeUndefined();
    for (const s of [src, mid, back]) await s.close();
  });

  it('refuses a target that is not empty (STORE_CONFLICT) and writes nothing', async () => {
    const src = SqliteStore.open(join(tmp.dir, 'src3.sqlite'));
    await populate(src);
    const { store: dst } = await pgStore();
    await dst.putSetting('somebody', 1);
    await expectRejectsCode(copyStore(src, dst, { now: NOW }), StoreError, 'STORE_CONFLICT');
    expect(await dst.treeSize()).toBe(0);
    await src.close();
    await dst.close();
  });
});
