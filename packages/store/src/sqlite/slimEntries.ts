/**
 * Schema migration 9's data step (schema.ts): copies every `entries` and
 * `received` row of schema 8 into `entries_v9` / `received_v9` without the
 * columns that repeat what is stored elsewhere, then puts the new tables in
 * the old ones' place. Runs inside the
 * migration's transaction (foreign keys off): all of it or none.
 *
 * Before a column is dropped, what replaces it is checked: each row's
 * `leaf_hash` must be the level-0 stored hash at its index (else
 * STORE_CORRUPT, and the database stays at version 8), and its header
 * fields are kept as JSON whenever the bytes do not say the same
 * (entryMeta.ts), so every entry reads back exactly as before.
 */
import type { Database } from 'better-sqlite3';
import { fail, storedHashIndex } from '@parley/core';
import { metaColumn } from './entryMeta.js';
import { bytesOf, metaOf, type MetaRow } from './rows.js';

interface V8Row extends MetaRow {
  idx: number;
  leaf_hash: Uint8Array;
  bytes: Uint8Array;
}

/** Rows per read: bounds memory on a large log (each step is one range scan). */
const CHUNK = 4096;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

export function slimEntries(db: Database): void {
  const read = db.prepare('SELECT * FROM entries WHERE idx >= ? ORDER BY idx LIMIT ?');
  const leaf = db.prepare('SELECT hash FROM hashes WHERE idx = ?').pluck();
  const insert = db.prepare('INSERT INTO entries_v9 (idx, bytes, type, incident, meta) VALUES (?, ?, (SELECT code FROM entry_types WHERE name = ?), ?, ?)');
  for (let from = 0; ; ) {
    const rows = read.all(from, CHUNK) as V8Row[];
    for (const r of rows) {
      const stored = leaf.get(storedHashIndex(0, r.idx)) as Uint8Array | undefined;
      if (stored === undefined || !sameBytes(stored, r.leaf_hash)) fail('STORE_CORRUPT', `entry ${r.idx}: its leaf hash is not the stored hash; not migrating`);
      insert.run(r.idx, r.bytes, r.type, r.incident, metaColumn(bytesOf(r.bytes), metaOf(r)));
    }
    if (rows.length < CHUNK) break;
    from = rows[rows.length - 1]!.idx + 1;
  }
  // Received entries keep their seq (the inbox cursor) and the leaf hash (no tree of ours holds it).
  const lastSeq = (db.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'received'").pluck().get() as number | undefined) ?? 0;
  const readReceived = db.prepare('SELECT * FROM received WHERE seq > ? ORDER BY seq LIMIT ?');
  const insertReceived = db.prepare(
    'INSERT INTO received_v9 (seq, party, idx, leaf_hash, bytes, type, incident, meta, received_at) VALUES (?, ?, ?, ?, ?, (SELECT code FROM entry_types WHERE name = ?), ?, ?, ?)',
  );
  for (let after = -1; ; ) {
    const rows = readReceived.all(after, CHUNK) as (V8Row & { seq: number; party: string; received_at: string })[];
    for (const r of rows) insertReceived.run(r.seq, r.party, r.idx, r.leaf_hash, r.bytes, r.type, r.incident, metaColumn(bytesOf(r.bytes), metaOf(r)), r.received_at);
    if (rows.length < CHUNK) break;
    after = rows[rows.length - 1]!.seq;
  }
  db.exec(`
    DROP TABLE received;
    ALTER TABLE received_v9 RENAME TO received;
    CREATE INDEX received_by_type ON received (type, seq);
    CREATE INDEX received_by_party ON received (party, seq);
    CREATE INDEX received_by_incident ON received (incident, seq) WHERE incident IS NOT NULL;
  `);
  // A seq once given is never given again (AUTOINCREMENT), also across the rebuild.
  const kept = db.prepare("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'received'").run(lastSeq);
  if (kept.changes === 0 && lastSeq > 0) db.prepare("INSERT INTO sqlite_sequence (name, seq) VALUES ('received', ?)").run(lastSeq);
  db.exec(`
    DROP TABLE entries;
    ALTER TABLE entries_v9 RENAME TO entries;
    CREATE INDEX entries_by_type ON entries (type, idx);
    CREATE INDEX entries_by_incident ON entries (incident, idx) WHERE incident IS NOT NULL;
  `);
}
