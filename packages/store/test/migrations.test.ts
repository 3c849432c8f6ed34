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
    expect(tables(db)).toEqual(['checkpoints', 'entries', 'entry_refs', 'entry_to', 'hashes', 'officers', 'received', 'request_nonces', 'sessions', 'settings', 'witness']);
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
        const state = await store.witnessState(w.origin);
        expect(state && { party: state.party, treeSize: state.treeSize, rootHash: formatBase64(state.rootHash), note: formatBase64(state.note) }).toEqual({
          party: w.party,
          treeSize: w.treeSize,
          rootHash: w.rootHash,
          note: w.note,
        });
        const opened = openWitnessedCheckpoint(state!.note, new VerifierSet([newVerifier(w.logKey)]), [w.witnessKey], { origin: w.origin, quorum: 1 });
        expect(opened.checkpoint.treeSize).toBe(w.treeSize);
        expect(bytesEqual(opened.checkpoint.rootHash, state!.rootHash)).toBe(true);
      }

      // And the current writer continues the old log.
      const writer = await LogWriter.open(store, { origin: manifest.origin, signCheckpoint: () => new TextEncoder().encode('unsigned test checkpoint\n') });
      expect((await writer.append((index) => ({ bytes: new TextEncoder().encode(`new ${index}`), meta: entries[0]!.meta }))).index).toBe(size);
      await writer.close();
      await store.close();
    });
  }
});

describe('the schema-1 fixture migrates to the current version', () => {
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
    expect(await store.witnessState('fixture.parley.test/CN')).toBeUndefined();
    const state = { party: 'CN', treeSize: 2, rootHash: new Uint8Array(32).fill(1), note: new TextEncoder().encode('note\n') };
    expect(await store.advanceWitness('fixture.parley.test/CN', 0, state)).toBe(true);
    await store.close();

    const after = new Database(path, { readonly: true });
    expect(schemaVersion(after)).toBe(SCHEMA_VERSION);
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    expect(tables(after)).toContain('witness');
    after.close();
    const reopened = SqliteStore.open(path);
    expect(await reopened.witnessState('fixture.parley.test/CN')).toEqual(state);
    expect(await reopened.treeSize()).toBe(manifest.treeSize);
    await reopened.close();
  });
});
