/**
 * Schema migration 9 (issue 14, disk bytes per entry): `entries` loses the
 * columns that repeat what the entry bytes and the stored hashes hold. A
 * schema-8 database — built here with migrations 1–8 and rows written as
 * release 8 wrote them — must come out with every entry reading back exactly
 * as before; a leaf hash that disagrees with the stored hashes stops the
 * migration (the column is not dropped on trust); and kill -9 at any moment
 * of a large migration leaves version 8 or version 9, whole.
 */
import { spawn } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeUtf8, Frontier, formatBase64, leafHash, StoreError, storedHashCount } from '@parley/core';
import { migrate, MIGRATIONS, SCHEMA_VERSION, schemaVersion } from '../src/sqlite/schema.js';
import { SqliteStore } from '../src/sqlite/store.js';
import type { EntryMeta } from '../src/types.js';
import { buildBatch, checkLog, expectRejectsCode, meta, signTestCheckpoint, tempDir } from './helpers.js';

const tmp = tempDir('parley-m9-');
afterAll(() => tmp.cleanup());
let n = 0;
const freshPath = () => join(tmp.dir, `m9-${n++}.sqlite`);
const CHILD = fileURLToPath(new URL('./fixtures/migrate-child.ts', import.meta.url));

/** The canonical-JSON envelope a node would log for `m` (keys sorted, as core's canonical JSON writes them). */
function envelope(i: number, m: EntryMeta): Uint8Array {
  return encodeUtf8(
    JSON.stringify({
      accord: 'a'.repeat(64),
      body: { clear: { text: `entry ${i} `.padEnd(700, 'x') } },
      from: { officer: m.officer, party: m.from },
      marking: m.marking,
      precedence: m.precedence,
      refs: m.refs.map((r) => ({ hash: r.hash, index: r.index, party: r.party })),
      seq: i,
      sig: 'c'.repeat(86),
      time: m.time,
      to: m.to,
      type: m.type,
      v: 1,
    }),
  );
}

const REF = { party: 'CN', index: 3, hash: formatBase64(leafHash(encodeUtf8('cn 3'))) };
/** Entry i of the test logs: mostly envelopes of every shape; every 7th is bytes that are not one. */
function item(i: number): { bytes: Uint8Array; meta: EntryMeta } {
  const time = new Date(Date.UTC(2026, 4, 14) + i * 1000).toISOString();
  const m =
    i % 5 === 1
      ? meta({ type: 'incident.report', incident: `INC-${i}`, to: ['CN', 'UK'], time })
      : i % 5 === 2
        ? meta({ type: 'receipt', officer: 'node', refs: [REF], time })
        : meta({ time });
  return { bytes: i % 7 === 3 ? encodeUtf8(`not an envelope ${i}`) : envelope(i, m), meta: m };
}

/** A schema-8 database holding `count` entries in batches of 100, written as release 8 wrote them. */
function schema8(path: string, count: number): { bytes: Uint8Array; meta: EntryMeta; leaf: Uint8Array }[] {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  migrate(db, MIGRATIONS.slice(0, 8));
  const insEntry = db.prepare(
    'INSERT INTO entries (idx, leaf_hash, bytes, type, sender, officer, recipients, time, precedence, marking, incident, refs) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const insTo = db.prepare('INSERT INTO entry_to (party, idx) VALUES (?, ?)');
  const insRef = db.prepare('INSERT OR IGNORE INTO entry_refs (party, ref_idx, idx) VALUES (?, ?, ?)');
  const insHash = db.prepare('INSERT INTO hashes (idx, hash) VALUES (?, ?)');
  const insCp = db.prepare('INSERT INTO checkpoints (tree_size, note) VALUES (?, ?)');
  const insReceived = db.prepare(
    'INSERT INTO received (party, idx, leaf_hash, bytes, type, sender, officer, recipients, time, precedence, marking, incident, refs, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const f = Frontier.empty();
  const out: { bytes: Uint8Array; meta: EntryMeta; leaf: Uint8Array }[] = [];
  for (let base = 0; base < count; base += 100) {
    db.transaction(() => {
      for (let i = base; i < Math.min(count, base + 100); i++) {
        const { bytes, meta: m } = item(i);
        const leaf = leafHash(bytes);
        let stored = storedHashCount(f.size);
        for (const h of f.append(leaf)) insHash.run(stored++, h);
        insEntry.run(i, leaf, bytes, m.type, m.from, m.officer, JSON.stringify(m.to), m.time, m.precedence, m.marking, m.incident ?? null, JSON.stringify(m.refs));
        for (const p of m.to) insTo.run(p, i);
        for (const r of m.refs) insRef.run(r.party, r.index, i);
        out.push({ bytes, meta: m, leaf });
        // The same entry as CN would hold it from US's log: received entries are slimmed the same way.
        if (i % 2 === 0) insReceived.run('US', i, leaf, bytes, m.type, m.from, m.officer, JSON.stringify(m.to), m.time, m.precedence, m.marking, m.incident ?? null, JSON.stringify(m.refs), `2026-05-15T00:00:${String(i % 60).padStart(2, '0')}.000Z`);
      }
      insCp.run(f.size, signTestCheckpoint({ origin: 'parley.test/US', treeSize: f.size, rootHash: f.root(), extensions: [] }));
    })();
  }
  db.close();
  return out;
}

const columns = (db: Database.Database) => (db.prepare("SELECT name FROM pragma_table_info('entries')").pluck().all() as string[]);

describe('schema migration 9: entries without repeated columns', () => {
  it('is a version this code runs', () => {
    expect(SCHEMA_VERSION).toBeGreaterThanOrEqual(9);
  });

  it('keeps every entry exactly (meta, leaf hash, bytes, outbox filters, references) and stores the header only when the bytes do not carry it', async () => {
    const path = freshPath();
    const written = schema8(path, 250);
    const store = SqliteStore.open(path);
    const got = await store.entries(0, 250);
    expect(got.length).toBe(250);
    got.forEach((e, i) => {
      expect(e.meta).toEqual(written[i]!.meta);
      expect(e.bytes).toEqual(written[i]!.bytes);
      expect(e.leafHash).toEqual(written[i]!.leaf);
    });
    expect((await store.outbox({ type: 'incident.report', party: 'UK', limit: 3 })).map((e) => e.index)).toEqual([246, 241, 236]);
    expect((await store.outbox({ incident: 'INC-121', limit: 3 })).map((e) => e.meta.incident)).toEqual(['INC-121']);
    expect((await store.referencing('CN', 3)).length).toBe(50);
    await checkLog(store, []);
    // Received entries: the same, with their receive order (the inbox cursor) kept.
    for (const i of [0, 2, 4, 6, 124]) {
      const r = (await store.received('US', i))!;
      expect({ meta: r.meta, bytes: r.bytes, leafHash: r.leafHash }).toEqual({ meta: written[i]!.meta, bytes: written[i]!.bytes, leafHash: written[i]!.leaf });
    }
    const inbox = await store.inbox({ limit: 3 });
    expect(inbox.map((r) => [r.rowid, r.index])).toEqual([[125, 248], [124, 246], [123, 244]]);
    expect((await store.inbox({ type: 'incident.report', limit: 2 })).map((r) => r.index)).toEqual([246, 236]);
    expect((await store.inbox({ excludeTypes: ['hotline.message', 'incident.report'], limit: 2 })).map((r) => r.meta.type)).toEqual(['receipt', 'receipt']);
    // A new received entry gets the next seq.
    const next = { party: 'US', index: 1001, leafHash: leafHash(written[0]!.bytes), bytes: written[0]!.bytes, meta: written[0]!.meta, receivedAt: '2026-05-16T00:00:00.000Z' };
    expect(await store.ingest([next])).toBe(1);
    expect((await store.inbox({ limit: 1 }))[0]!.rowid).toBe(126);
    await store.close();

    const db = new Database(path, { readonly: true });
    expect(schemaVersion(db)).toBe(SCHEMA_VERSION);
    expect(columns(db)).toEqual(['idx', 'bytes', 'type', 'incident', 'meta']);
    expect(db.prepare("SELECT name FROM pragma_table_info('received')").pluck().all()).toEqual(['seq', 'party', 'idx', 'leaf_hash', 'bytes', 'type', 'incident', 'meta', 'received_at']);
    expect(db.prepare('SELECT count(*) FROM received WHERE meta IS NOT NULL').pluck().get()).toBe(written.filter((_, i) => i % 2 === 0 && i % 7 === 3).length);
    const kept = db.prepare('SELECT idx FROM entries WHERE meta IS NOT NULL ORDER BY idx').pluck().all() as number[];
    expect(kept).toEqual(written.map((_, i) => i).filter((i) => i % 7 === 3));
    expect(db.pragma('foreign_key_check')).toEqual([]);
    // Types by a small code (insert-only: a code never changes meaning).
    expect(db.prepare('SELECT name FROM entry_types ORDER BY code').pluck().all()).toEqual(['hotline.message', 'incident.report', 'receipt']);
    expect(db.prepare('SELECT DISTINCT typeof(type) FROM entries').pluck().all()).toEqual(['integer']);
    db.close();
    const rw = new Database(path);
    expect(() => rw.prepare("UPDATE entry_types SET name = 'x' WHERE code = 1").run()).toThrow(/insert-only/);
    expect(() => rw.prepare('DELETE FROM entry_types').run()).toThrow(/insert-only/);
    rw.close();
  });

  it('gives a new type its code with its first entry, and filters the outbox by type and by types left out', async () => {
    const path = freshPath();
    schema8(path, 10);
    const store = SqliteStore.open(path);
    const f = Frontier.empty();
    for (const e of await store.entries(0, 10)) f.append(e.leafHash);
    const m = meta({ type: 'heartbeat', time: '2026-05-14T13:00:00.000Z' });
    const batch = buildBatch(f, [{ bytes: envelope(10, m), meta: m }]);
    await store.appendBatch(batch);
    expect((await store.outbox({ type: 'heartbeat', limit: 5 })).map((e) => [e.index, e.meta.type])).toEqual([[10, 'heartbeat']]);
    expect((await store.outbox({ excludeTypes: ['heartbeat', 'receipt', 'hotline.message'], limit: 20 })).map((e) => e.index)).toEqual([6, 1]);
    expect((await store.outbox({ type: 'no.such.type', limit: 5 })).length).toBe(0);
    await store.close();
  });

  it('refuses to drop a leaf hash that is not the stored one: STORE_CORRUPT, the database stays at version 8', async () => {
    const path = freshPath();
    schema8(path, 20);
    const db = new Database(path);
    db.prepare('UPDATE entries SET leaf_hash = ? WHERE idx = 11').run(new Uint8Array(32));
    db.close();
    let err: unknown;
    try {
      SqliteStore.open(path);
    } catch (e) {
      err = e;
    }
    await expectRejectsCode(Promise.reject(err), StoreError, 'STORE_CORRUPT');
    const after = new Database(path);
    expect(schemaVersion(after)).toBe(8);
    expect(columns(after)).toContain('leaf_hash');
    expect(after.prepare("SELECT count(*) FROM sqlite_schema WHERE name = 'entries_v9'").pluck().get()).toBe(0);
    after.close();
  });

  it('survives kill -9 at any moment of a large migration: version 8 or 9, every entry intact, then migrates', { timeout: 180_000 }, async () => {
    const master = freshPath();
    const written = schema8(master, 20_000);
    const outcomes: string[] = [];
    for (let round = 0; round < 6; round++) {
      const path = freshPath();
      copyFileSync(master, path);
      const delay = [5, 60, 200, 500, 1000, 5000][round]!; // into the copy loop … after the commit
      const out = await new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', CHILD, path], { stdio: ['ignore', 'pipe', 'pipe'] });
        let text = '';
        let err = '';
        let timer: NodeJS.Timeout | undefined;
        child.stdout.setEncoding('utf8').on('data', (d: string) => {
          text += d;
          // Kill `delay` ms after migration 9 started (or at once, had it finished).
          if (timer === undefined && text.includes('\n')) timer = setTimeout(() => child.kill('SIGKILL'), delay);
        });
        child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
        child.on('error', reject);
        child.on('close', (code, signal) => (signal === 'SIGKILL' || code === 0 ? resolve(text) : reject(new Error(`child ${code}/${signal}: ${err}`))));
      });
      expect(out.startsWith('migrating 9\n'), out).toBe(true);
      const raw = new Database(path, { readonly: true });
      const version = schemaVersion(raw);
      raw.close();
      // 8, or 9 and whatever later migrations (each its own transaction) ran before the kill.
      expect(version).toBeGreaterThanOrEqual(8);
      expect(version).toBeLessThanOrEqual(SCHEMA_VERSION);
      outcomes.push(`${version}${out.includes('open') ? ' (opened)' : ''}`);
      const store = SqliteStore.open(path);
      expect(await store.treeSize()).toBe(20_000);
      for (const i of [0, 3, 1, 9_999, 19_999]) {
        const e = (await store.entry(i))!;
        expect(e.meta).toEqual(written[i]!.meta);
        expect(e.leafHash).toEqual(written[i]!.leaf);
      }
      await store.close();
    }
    console.log(`migration 9 killed at: ${outcomes.join(', ')}`);
    // The kills landed inside the migration at least once (else the test proves nothing).
    expect(outcomes.some((o) => o === '8')).toBe(true);
  });
});
