/**
 * Numbered migrations and old databases (STYLE.md §14): a new database gets
 * every migration; an existing one only the newer ones, each atomically; a
 * database newer than the code is refused; and every fixture database under
 * test/fixtures/db/<version>/, made by that release, opens with the current
 * code with every entry, checkpoint and proof intact.
 */
import { copyFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bytesEqual,
  consistencyProofFromHashes,
  consistencyProofIndexes,
  inclusionProofFromHashes,
  inclusionProofIndexes,
  leafHash,
  newVerifier,
  openCheckpoint,
  openWitnessedCheckpoint,
  parseBase64,
  StoreError,
  verifyConsistency,
  verifyInclusion,
  VerifierSet,
  formatBase64,
} from '@parley/core';
import { migrate, MIGRATIONS, type Migration, SCHEMA_VERSION, schemaVersion } from '../src/sqlite/schema.js';
import { SqliteStore } from '../src/sqlite/store.js';
import { LogWriter } from '../src/writer.js';
import { expectRejectsCode, tempDir } from './helpers.js';

const tmp = tempDir('parley-migrations-');
afterAll(() => tmp.cleanup());
let n = 0;
const freshPath = () => join(tmp.dir, `m-${n++}.sqlite`);

const tables = (db: Database.Database) =>
  (db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[]);

describe('migrations', () => {
  it('runs every migration on a new database, and none on reopening', () => {
    const db = new Database(freshPath());
    expect(schemaVersion(db)).toBe(0);
    expect(migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(tables(db)).toEqual([
      ...['accord_activations', 'accord_chain', 'accord_forks', 'accord_versions', 'checkpoint_timestamps', 'checkpoints', 'cosigned_times', 'cursors', 'deliveries', 'delivery_answers', 'delivery_cursor', 'delivery_withdrawals', 'departed_logs', 'entries', 'entry_refs', 'entry_to', 'entry_types'],
      ...['escalations', 'evaluation_notes', 'fork_proofs', 'hashes', 'idempotency_keys', 'mirror', 'officers', 'own_cosigned', 'received', 'request_nonces', 'sessions', 'settings', 'unverified_checkpoints', 'witness', 'witness_cosignatures'],
    ]);
    expect(migrate(db)).toEqual([]);
    db.close();
  });

  it('runs only the newer migrations on an existing database, keeping its data', async () => {
    const path = freshPath();
    const s = SqliteStore.open(path);
    await s.putSetting('kept', 1);
    await s.close();
    const ran: number[] = [];
    const next: Migration = { version: SCHEMA_VERSION + 1, description: 'test', sql: 'CREATE TABLE later (x INTEGER) STRICT;' };
    const db = new Database(path);
    const tracked = [...MIGRATIONS, next].map((m) => ({ ...m, get sql() { ran.push(m.version); return m.sql; } }));
    expect(migrate(db, tracked)).toEqual([SCHEMA_VERSION + 1]);
    expect(ran).toEqual([SCHEMA_VERSION + 1]);
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION + 1);
    expect(db.prepare("SELECT value FROM settings WHERE key = 'kept'").pluck().get()).toBe('1');
    db.close();
  });

  it('applies a migration atomically: a failure leaves the previous version and no partial schema', () => {
    const db = new Database(freshPath());
    migrate(db);
    const broken: Migration = { version: SCHEMA_VERSION + 1, description: 'broken', sql: 'CREATE TABLE half (x); SELECT * FROM no_such_table;' };
    expect(() => migrate(db, [...MIGRATIONS, broken])).toThrow();
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(tables(db)).not.toContain('half');
    db.close();
  });

  it('moves fork evidence out of settings (issue 9): one row per pair of views, either order; kept checkpoints; the settings rows gone', async () => {
    const path = freshPath();
    const db = new Database(path);
    const fork = MIGRATIONS.findIndex((m) => m.sql.includes('CREATE TABLE fork_proofs'));
    migrate(db, MIGRATIONS.slice(0, fork));
    const cp = (size: number, root: string, sig = 'sig') => `eu.parley.test/log\n${size}\n${root}=\n\n\u2014 eu.parley.test/log ${sig}\n`;
    const proof = (a: string, b: string) => JSON.stringify({ a: { checkpoint: a }, b: { checkpoint: b }, kind: 'same-size', party: 'EU' });
    const [a, b] = [cp(5, 'AAAA'), cp(5, 'BBBB')];
    const put = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)');
    put.run('federation/forks/EU', JSON.stringify([proof(a, b), proof(b, cp(5, 'AAAA', 'cosigned')), 'not json', 7]));
    put.run('federation/unverified/EU', JSON.stringify([cp(7, 'CCCC'), cp(8, 'DDDD')]));
    put.run('federation/pull/EU', JSON.stringify({ size: 3 }));
    db.close();

    const s = SqliteStore.open(path);
    expect(await s.forkProofs()).toEqual([{ party: 'EU', proof: proof(a, b), recordedAt: '1970-01-01T00:00:00.000Z' }]);
    expect(await s.unverifiedCheckpoints('EU')).toEqual([cp(7, 'CCCC'), cp(8, 'DDDD')]);
    expect(await s.getSetting('federation/forks/EU')).toBeUndefined();
    expect(await s.getSetting('federation/unverified/EU')).toBeUndefined();
    expect(await s.getSetting('federation/pull/EU')).toEqual({ size: 3 });
    expect(await s.addForkProof({ party: 'EU', views: [b, a], proof: proof(b, a), recordedAt: 'now' })).toBe(false);
    await s.close();
  });

  it('refuses misnumbered migrations (our bug) and a database newer than the code (STORE_UNAVAILABLE)', async () => {
    const db = new Database(freshPath());
    expect(() => migrate(db, [{ ...MIGRATIONS[0]!, version: 2 }])).toThrow(/internal/);
    db.close();
    const path = freshPath();
    const s = SqliteStore.open(path);
    await s.close();
    const raw = new Database(path);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    let err: unknown;
    try {
      SqliteStore.open(path);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('STORE_UNAVAILABLE');
    await expectRejectsCode(Promise.reject(err), StoreError, 'STORE_UNAVAILABLE');
  });
});

interface Manifest {
  schemaVersion: number;
  origin: string;
  verifierKey: string;
  treeSize: number;
  checkpointSizes: number[];
  entries: { index: number; leafHash: string; bytes: string; meta: unknown }[];
  received: { party: string; index: number; leafHash: string; bytes: string; meta: unknown; receivedAt: string }[];
  officers: unknown[];
  sessions: { tokenHash: string }[];
  settings: Record<string, unknown>;
  /** Schema ≥ 2: what the node had cosigned as a witness of other logs. */
  witness?: { origin: string; party: string; logKey: string; witnessKey: string; treeSize: number; rootHash: string; note: string }[];
  /** Schema ≥ 8 (issue 12): time-stamp tokens kept beside checkpoints (token: base64 bytes). */
  timestamps?: { party: string; treeSize: number; authority: string; token: string; genTime: number; note: string }[];
  /** Schema ≥ 10 (issue 14): the governance tables. */
  governance?: { accordChain: unknown; departed: unknown[]; accordForks: string[]; evaluationNotes: { party: string; index: number }[] };
}

const FIXTURES = fileURLToPath(new URL('./fixtures/db/', import.meta.url));
const versions = readdirSync(FIXTURES).filter((d) => /^\d+$/.test(d));

describe('fixture databases made by earlier releases open with the current code', () => {
  it('has a fixture for the current schema version', () => {
    expect(versions).toContain(String(SCHEMA_VERSION));
  });

  for (const v of versions) {
    it(`schema ${v}: every entry, checkpoint and proof verifies`, async () => {
      const manifest = JSON.parse(readFileSync(join(FIXTURES, v, 'manifest.json'), 'utf8')) as Manifest;
      // Work on a copy: opening migrates and writes WAL files beside the database.
      const path = join(tmp.dir, `fixture-${v}.sqlite`);
      copyFileSync(join(FIXTURES, v, 'parley.sqlite'), path);
      const store = SqliteStore.open(path);
      const verifiers = new VerifierSet([newVerifier(manifest.verifierKey)]);

      const size = await store.treeSize();
      expect(size).toBe(manifest.treeSize);
      const entries = await store.entries(0, size);
      expect(entries.map((e) => ({ index: e.index, leafHash: formatBase64(e.leafHash), bytes: formatBase64(e.bytes), meta: e.meta }))).toEqual(manifest.entries);
      for (const e of entries) expect(leafHash(e.bytes)).toEqual(e.leafHash);

      const cps = [];
      for (const ts of manifest.checkpointSizes) {
        const note = await store.checkpointAt(ts);
        expect(note, `checkpoint at ${ts}`).toBeDefined();
        cps.push(openCheckpoint(note!, verifiers, { origin: manifest.origin }).checkpoint);
      }
      const latest = openCheckpoint((await store.latestCheckpoint())!, verifiers, { origin: manifest.origin }).checkpoint;
      expect(latest.treeSize).toBe(size);
      for (const e of entries) {
        for (const cp of [...cps, latest].filter((c) => c.treeSize > e.index)) {
          const proof = inclusionProofFromHashes(cp.treeSize, e.index, await store.readHashes(inclusionProofIndexes(cp.treeSize, e.index)));
          expect(verifyInclusion(proof, cp.treeSize, cp.rootHash, e.index, e.leafHash)).toBe(true);
        }
      }
      for (const old of cps) {
        const proof = consistencyProofFromHashes(old.treeSize, size, await store.readHashes(consistencyProofIndexes(old.treeSize, size)));
        expect(verifyConsistency(proof, old.treeSize, size, old.rootHash, latest.rootHash)).toBe(true);
      }

      for (const r of manifest.received) {
        const got = await store.received(r.party, r.index);
        expect(got && { ...got, leafHash: formatBase64(got.leafHash), bytes: formatBase64(got.bytes) }).toEqual(r);
        expect(leafHash(parseBase64(r.bytes))).toEqual(parseBase64(r.leafHash));
      }
      expect(await store.officers()).toEqual(manifest.officers);
      for (const s of manifest.sessions) expect(await store.session(s.tokenHash)).toEqual(s);
      for (const [k, val] of Object.entries(manifest.settings)) expect(await store.getSetting(k)).toEqual(val);
      for (const w of manifest.witness ?? []) {
        const state = await store.witnessState(w.party); // keyed by party since schema 7
        expect(state && { party: state.party, treeSize: state.treeSize, rootHash: formatBase64(state.rootHash), note: formatBase64(state.note) }).toEqual({
          party: w.party,
          treeSize: w.treeSize,
          rootHash: w.rootHash,
          note: w.note,
        });
        const opened = openWitnessedCheckpoint(state!.note, new VerifierSet([newVerifier(w.logKey)]), [w.witnessKey], { origin: w.origin, quorum: 1 });
        expect(opened.checkpoint.treeSize).toBe(w.treeSize);
        expect(bytesEqual(opened.checkpoint.rootHash, state!.rootHash)).toBe(true);
        // issue 14: the held cosignature starts the witness's served history (migration 14 copies it).
        expect((await store.witnessCosignatures(w.party, 0, 10)).map((r) => [r.treeSize, formatBase64(r.note)])).toEqual([[w.treeSize, w.note]]);
      }

      // issue 12: the tokens kept beside checkpoints (schema ≥ 8); none before.
      const held = await store.checkpointTimestamps('US');
      expect(held.map((t) => ({ ...t, token: formatBase64(t.token) }))).toEqual(manifest.timestamps ?? []);

      // issue 14: the governance tables (schema ≥ 10); empty before (fixtures of those versions held none).
      const g = manifest.governance;
      expect(await store.accordChain()).toEqual(g === undefined ? undefined : { ...(g.accordChain as object), revision: 1 });
      expect(await store.departedLogs()).toEqual(g?.departed ?? []);
      expect(await store.accordForkProofs()).toEqual(g?.accordForks ?? []);
      for (const n of g?.evaluationNotes ?? []) expect(await store.evaluationNotes(n.party, n.index)).toEqual([n]);

      // And the current writer continues the old log.
      const writer = await LogWriter.open(store, { origin: manifest.origin, signCheckpoint: () => new TextEncoder().encode('unsigned test checkpoint\n') });
      expect((await writer.append((index) => ({ bytes: new TextEncoder().encode(`new ${index}`), meta: entries[0]!.meta }))).index).toBe(size);
      await writer.close();
      await store.close();
    });
  }
});

describe('the schema-1 fixture migrates to the current version', () => {
  it('tells onMigrate each step for a progress bar: from 1, every pending migration in order, then done; nothing on reopening', async () => {
    const path = join(tmp.dir, 'fixture-1-progress.sqlite');
    copyFileSync(join(FIXTURES, '1', 'parley.sqlite'), path);
    const steps: { from: number; done: number; total: number; version: number }[] = [];
    await SqliteStore.open(path, { onMigrate: (s) => steps.push(s) }).close();
    const total = SCHEMA_VERSION - 1;
    expect(steps).toEqual([
      ...Array.from({ length: total }, (_, i) => ({ from: 1, done: i, total, version: i + 2 })),
      { from: 1, done: total, total, version: SCHEMA_VERSION },
    ]);
    const again: unknown[] = [];
    await SqliteStore.open(path, { onMigrate: (s) => again.push(s) }).close();
    expect(again).toEqual([]);
  });

  it('opens at version 1, migrates to 2 (witness table, empty) and keeps every entry, then witnesses', async () => {
    const path = join(tmp.dir, 'fixture-1-migrated.sqlite');
    copyFileSync(join(FIXTURES, '1', 'parley.sqlite'), path);
    const raw = new Database(path, { readonly: true });
    expect(schemaVersion(raw)).toBe(1);
    expect(tables(raw)).not.toContain('witness');
    raw.close();

    const manifest = JSON.parse(readFileSync(join(FIXTURES, '1', 'manifest.json'), 'utf8')) as Manifest;
    const store = SqliteStore.open(path);
    const entries = await store.entries(0, await store.treeSize());
    expect(entries.map((e) => ({ index: e.index, leafHash: formatBase64(e.leafHash), bytes: formatBase64(e.bytes), meta: e.meta }))).toEqual(manifest.entries);
    for (const r of manifest.received) expect((await store.received(r.party, r.index))?.leafHash).toEqual(parseBase64(r.leafHash));
    expect(await store.witnessState('CN')).toBeUndefined();
    const state = { party: 'CN', treeSize: 2, rootHash: new Uint8Array(32).fill(1), note: new TextEncoder().encode('note\n') };
    expect(await store.advanceWitness('CN', 0, state)).toBe(true);
    await store.close();

    const after = new Database(path, { readonly: true });
    expect(schemaVersion(after)).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    expect(tables(after)).toContain('witness');
    after.close();
    const reopened = SqliteStore.open(path);
    expect(await reopened.witnessState('CN')).toEqual(state);
    expect(await reopened.treeSize()).toBe(manifest.treeSize);
    await reopened.close();
  });
});

// issue 9 (evidence tables): a data directory of schema 2 kept its federation cursors, the
// cosignatures of its log, cosigned times and escalations as JSON settings; opened with
// this code, they are in the typed tables of migration 4 and the old keys are gone.
describe('the schema-2 fixture keeps its evidence when migrating to typed tables', () => {
  const b64 = (n: number) => formatBase64(new Uint8Array(32).fill(n));
  /** What a schema-2 node wrote (federation/keys.ts and deadlines/watcher.ts of that release). */
  const LEGACY: Record<string, unknown> = {
    'federation/push/CN': { size: 7 },
    'federation/pull/CN': { size: 3, frontier: [b64(1), b64(2)] },
    'federation/cosigned/CN': { size: 6, at: 1_778_760_000, note: 'fixture.parley.test/US\n6\nroot\n\n— sig\n' },
    'federation/cosigned/UK': { size: 2, note: 'fixture.parley.test/US\n2\nroot\n\n— sig\n' },
    'federation/times/US': { CN: [[2, 1_778_759_000], [6, 1_778_760_000]] },
    'federation/times/CN': { US: [[2, 1_778_759_500]] },
    'deadlines.escalations': { v: 1, escalated: ['overdue:ack:US/0>CN', 'fork:CN:abc'], pending: [{ id: 'fork:CN:abc', body: '{"type":"parley.fork.detected"}', attempts: 2, nextAttemptAt: 1_778_760_123_456 }] },
    'federation/other/CN': ['not a migration\'s'],
    'federation/pull/UK': { size: 'garbage' },
  };

  it('moves every old value into its table and keeps the rest of the database', async () => {
    const path = join(tmp.dir, 'fixture-2-evidence.sqlite');
    copyFileSync(join(FIXTURES, '2', 'parley.sqlite'), path);
    const raw = new Database(path);
    expect(schemaVersion(raw)).toBe(2);
    const put = raw.prepare('INSERT INTO settings (key, value) VALUES (?, ?)');
    for (const [k, v] of Object.entries(LEGACY)) put.run(k, JSON.stringify(v));
    raw.close();

    const store = SqliteStore.open(path);
    expect(await store.cursor('push', 'CN')).toEqual({ treeSize: 7, frontier: [] });
    expect(await store.cursor('pull', 'CN')).toEqual({ treeSize: 3, frontier: [parseBase64(b64(1)), parseBase64(b64(2))] });
    expect(await store.ownCosigned('CN')).toEqual({ witness: 'CN', treeSize: 6, cosignedAt: 1_778_760_000, note: 'fixture.parley.test/US\n6\nroot\n\n— sig\n' });
    expect(await store.ownCosigned('UK')).toEqual({ witness: 'UK', treeSize: 2, note: 'fixture.parley.test/US\n2\nroot\n\n— sig\n' });
    expect(await store.cosignedTimes('US')).toEqual([
      { party: 'US', cosigner: 'CN', treeSize: 2, cosignedAt: 1_778_759_000 },
      { party: 'US', cosigner: 'CN', treeSize: 6, cosignedAt: 1_778_760_000 },
    ]);
    expect(await store.cosignedTimes('CN')).toEqual([{ party: 'CN', cosigner: 'US', treeSize: 2, cosignedAt: 1_778_759_500 }]);
    expect(await store.escalations()).toEqual([
      { id: 'overdue:ack:US/0>CN', recordedAt: 0 },
      { id: 'fork:CN:abc', recordedAt: 0, webhook: { body: '{"type":"parley.fork.detected"}', attempts: 2, nextAttemptAt: 1_778_760_123_456, state: 'pending' } },
    ]);
    // Moved values leave settings; what is not this migration's (or not in its documented shape) stays.
    for (const k of ['federation/push/CN', 'federation/pull/CN', 'federation/cosigned/CN', 'federation/cosigned/UK', 'federation/times/US', 'federation/times/CN', 'deadlines.escalations']) {
      expect(await store.getSetting(k), k).toBeUndefined();
    }
    expect(await store.getSetting('federation/other/CN')).toEqual(LEGACY['federation/other/CN']);
    expect(await store.getSetting('federation/pull/UK')).toEqual({ size: 'garbage' });
    expect(await store.cursor('pull', 'UK')).toBeUndefined();
    // The rest of the schema-2 data is intact.
    const manifest = JSON.parse(readFileSync(join(FIXTURES, '2', 'manifest.json'), 'utf8')) as Manifest;
    expect(await store.treeSize()).toBe(manifest.treeSize);
    expect(await store.getSetting('accord')).toEqual(manifest.settings['accord']);
    expect((await store.witnessState(manifest.witness![0]!.party))?.treeSize).toBe(manifest.witness![0]!.treeSize);
    await store.close();
    expect(schemaVersion(new Database(path, { readonly: true }))).toBe(SCHEMA_VERSION);
  });
});

// issue 11 (key epochs): schema 7 keys the witness state by party, not by the
// log origin (a rotated key keeps the party). A schema-6 data directory keeps
// what it cosigned, now found under the party, and the witness goes on from it.
describe('the schema-6 fixture migrates its witness state to party keys (schema 7)', () => {
  it('moves each origin row to its party, drops the origin column, and advances from the kept size', async () => {
    const path = join(tmp.dir, 'fixture-6-witness.sqlite');
    copyFileSync(join(FIXTURES, '6', 'parley.sqlite'), path);
    const raw = new Database(path);
    expect(schemaVersion(raw)).toBe(6);
    const before = raw.prepare('SELECT origin, party, tree_size FROM witness ORDER BY origin').all();
    expect(before).toEqual([{ origin: 'fixture.parley.test/CN', party: 'CN', tree_size: 2 }]);
    // A second (stale) row of the same party under another origin: the larger size is kept.
    raw.prepare('INSERT INTO witness (origin, party, tree_size, root_hash, note) VALUES (?, ?, ?, ?, ?)').run('fixture.parley.test/CN-old', 'CN', 1, new Uint8Array(32).fill(9), new TextEncoder().encode('stale\n'));
    raw.close();

    const manifest = JSON.parse(readFileSync(join(FIXTURES, '6', 'manifest.json'), 'utf8')) as Manifest;
    const w = manifest.witness![0]!;
    const store = SqliteStore.open(path);
    const state = await store.witnessState('CN');
    expect(state && { party: state.party, treeSize: state.treeSize, rootHash: formatBase64(state.rootHash), note: formatBase64(state.note) }).toEqual({ party: 'CN', treeSize: w.treeSize, rootHash: w.rootHash, note: w.note });
    expect(await store.witnessState(w.origin)).toBeUndefined(); // no longer keyed by origin
    // The cosigned note still opens under CN's log key and US's witness key.
    const opened = openWitnessedCheckpoint(state!.note, new VerifierSet([newVerifier(w.logKey)]), [w.witnessKey], { origin: w.origin, quorum: 1 });
    expect(opened.checkpoint.treeSize).toBe(w.treeSize);
    // The compare-and-set continues from the migrated size.
    const next = { party: 'CN', treeSize: w.treeSize + 3, rootHash: new Uint8Array(32).fill(3), note: new TextEncoder().encode('next\n') };
    expect(await store.advanceWitness('CN', 0, next)).toBe(false);
    expect(await store.advanceWitness('CN', w.treeSize, next)).toBe(true);
    await store.close();

    const after = new Database(path, { readonly: true });
    expect(schemaVersion(after)).toBe(SCHEMA_VERSION);
    const cols = after.prepare("SELECT name FROM pragma_table_info('witness') ORDER BY cid").pluck().all();
    expect(cols).toEqual(['party', 'tree_size', 'root_hash', 'note']);
    expect(after.prepare('SELECT party, tree_size FROM witness').all()).toEqual([{ party: 'CN', tree_size: w.treeSize + 3 }]);
    after.close();
  });
});

// issue 12 (trusted time): schema 8 adds checkpoint_timestamps; a schema-7 data
// directory gets the empty table and keeps everything else; the table is insert-only.
describe('the schema-7 fixture migrates to schema 8 (checkpoint time-stamp tokens)', () => {
  it('adds an empty insert-only token table and keeps the witness state', async () => {
    const path = join(tmp.dir, 'fixture-7-timestamps.sqlite');
    copyFileSync(join(FIXTURES, '7', 'parley.sqlite'), path);
    const raw = new Database(path);
    expect(schemaVersion(raw)).toBe(7);
    expect(tables(raw)).not.toContain('checkpoint_timestamps');
    raw.close();

    const manifest = JSON.parse(readFileSync(join(FIXTURES, '7', 'manifest.json'), 'utf8')) as Manifest;
    const store = SqliteStore.open(path);
    expect(await store.checkpointTimestamps('US')).toEqual([]);
    expect((await store.witnessState('CN'))?.treeSize).toBe(manifest.witness![0]!.treeSize);
    const token = { party: 'US', treeSize: 9, authority: 'tsa-a', token: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), genTime: Date.parse('2026-05-14T12:00:10Z'), note: 'fixture.parley.test/US\n9\n…\n' };
    expect(await store.addCheckpointTimestamps([token])).toBe(1);
    expect(await store.checkpointTimestamps('US', { treeSize: 9 })).toEqual([token]);
    await store.close();

    const after = new Database(path);
    expect(schemaVersion(after)).toBe(SCHEMA_VERSION);
    expect(tables(after)).toContain('checkpoint_timestamps');
    expect(() => after.prepare('UPDATE checkpoint_timestamps SET gen_time = 0').run()).toThrow(/insert-only/);
    expect(() => after.prepare('DELETE FROM checkpoint_timestamps').run()).toThrow(/evidence/);
    after.close();
  });
});

// issue 14: schema 13 keeps the tracker's judgement in indexed columns; deliveries filed by schema 12 are due at once (judged again, then indexed).
describe('migration 13 (judged deliveries)', () => {
  it('keeps the deliveries of schema 12, each due at once (due_at 0, never judged), and indexes the new columns', async () => {
    const path = freshPath();
    const db = new Database(path);
    migrate(db, MIGRATIONS.filter((m) => m.version <= 12));
    db.prepare("INSERT INTO deliveries (party, idx, recipient, direction, leaf_hash, facts) VALUES ('US', 4, 'CN', 'sent', 'h4', '{}')").run();
    db.close();
    const s = SqliteStore.open(path);
    try {
      const [r] = await s.deliveries({ limit: 10, staleBefore: 1 });
      expect(r).toEqual({ party: 'US', index: 4, recipient: 'CN', direction: 'sent', leafHash: 'h4', facts: '{}' });
      await s.judgeDeliveries([{ party: 'US', index: 4, recipient: 'CN', state: 'sent', settled: false, overdue: 0, dueAt: 5000, judgedAt: 1000, rank: 1, sortDue: 5000, startBound: null, receiptIdx: null, receiptBound: null, ackIdx: null, ackBound: null }]);
      expect(await s.deliveries({ limit: 10, staleBefore: 5000 })).toEqual([]);
      expect(await s.nextDeliveryDue()).toBe(5000);
      expect(await s.deliveryCounts(2000)).toEqual([{ state: 'sent', settled: false, overdue: 0, n: 1 }]);
      expect(await s.deliveryCounts(5001)).toEqual([]); // stale at 5001: the caller judges it
    } finally {
      await s.close();
    }
    const check = new Database(path, { readonly: true });
    const idx = check.prepare("SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'deliveries' AND name LIKE 'deliveries_by_%' ORDER BY name").pluck().all();
    check.close();
    expect(idx).toEqual(['deliveries_by_ack', 'deliveries_by_count', 'deliveries_by_due', 'deliveries_by_judged', 'deliveries_by_listing', 'deliveries_by_receipt']);
  });
});
