/**
 * The embedded LogStore: one SQLite file through better-sqlite3, in WAL mode
 * with `synchronous=FULL`, so a committed transaction has been fsynced to the
 * WAL before `COMMIT` returns — that is what makes "durable on return" true
 * across kill -9 and power loss.
 *
 * better-sqlite3 is synchronous: each method does its work in one go on the
 * calling thread and returns a settled promise. That serializes every call
 * (the contract's "reads concurrently with one writer" holds trivially) and
 * means a commit's fsync blocks the event loop for its duration; submissions
 * that arrive meanwhile queue up and form the writer's next batch.
 *
 * Tables are defined in schema.ts only. Stored hashes are immutable once
 * committed, so reads go through a small cache of the upper tree levels
 * (hashCache.ts): a proof on a large log then costs one query for its ~8
 * lowest hashes.
 */
import Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';
import { fail, type Hash, HASH_SIZE, storedHashCount, storedHashIndex } from '@parley/core';
import type {
  AppendBatch,
  ListQuery,
  LogStore,
  Officer,
  OwnEntry,
  ReceivedEntry,
  ReceivedListing,
  Session,
  WitnessState,
} from '../types.js';
import { rethrowStoreError } from './errors.js';
import { HashCache } from './hashCache.js';
import {
  bytesOf,
  type EntryRow,
  listingOf,
  metaParams,
  officerOf,
  type OfficerRow,
  ownEntryOf,
  receivedOf,
  type ReceivedRow,
  sessionOf,
  type SessionRow,
  settingOf,
  witnessOf,
  type WitnessRow,
} from './rows.js';
import { migrate, SCHEMA_VERSION, schemaVersion } from './schema.js';

export interface SqliteStoreOptions {
  /** Open an existing database for reading only (no migrations; writes fail with `STORE_UNAVAILABLE`). */
  readonly readonly?: boolean;
  /** How long a write waits for another connection's lock before `STORE_UNAVAILABLE` (ms, default 5000). */
  readonly busyTimeoutMs?: number;
}

const META = 'type, sender, officer, recipients, time, precedence, marking, incident, refs';
const META_PARAMS = '@type, @sender, @officer, @recipients, @time, @precedence, @marking, @incident, @refs';
const ENTRY_COLUMNS = `idx, leaf_hash, bytes, ${META}`;
const RECEIVED_COLUMNS = `seq, party, idx, leaf_hash, bytes, ${META}, received_at`;

export class SqliteStore implements LogStore {
  readonly #db: Database.Database;
  readonly #cache = new HashCache();
  readonly #stmts: ReturnType<typeof prepare>;
  readonly #lists = new Map<string, Statement>();

  private constructor(db: Database.Database) {
    this.#db = db;
    this.#stmts = prepare(db);
  }

  /**
   * Opens (creating if needed, unless read-only) the database at `path` and
   * runs pending migrations. `':memory:'` gives a private in-memory store.
   * @throws StoreError `STORE_UNAVAILABLE` (cannot open, newer schema, old
   *   schema opened read-only), `STORE_CORRUPT` (not a database, or its
   *   entries, hashes and checkpoints disagree).
   */
  static open(path: string, opts: SqliteStoreOptions = {}): SqliteStore {
    let db: Database.Database | undefined;
    try {
      const readonly = opts.readonly === true;
      try {
        db = new Database(path, { readonly, fileMustExist: readonly });
      } catch (e) {
        // The constructor reports a missing directory or file as a TypeError, not a SqliteError.
        if (e instanceof TypeError) fail('STORE_UNAVAILABLE', `cannot open ${path}`, e);
        throw e;
      }
      if (!readonly) db.pragma('journal_mode = WAL');
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
      if (readonly) {
        const v = schemaVersion(db);
        if (v !== SCHEMA_VERSION) fail('STORE_UNAVAILABLE', `read-only database has schema version ${v}, this code needs ${SCHEMA_VERSION}`);
      } else {
        migrate(db);
      }
      const store = new SqliteStore(db);
      store.#checkLayout();
      return store;
    } catch (e) {
      db?.close();
      return rethrowStoreError(e, `open ${path}`);
    }
  }

  /** Entries, hashes and checkpoints must describe one tree of size n (schema.ts invariants). */
  #checkLayout(): void {
    const s = this.#stmts;
    const n = s.size.pluck().get() as number;
    const hashes = s.hashCount.pluck().get() as number;
    const cp = s.maxCheckpoint.pluck().get() as number;
    const count = s.entryCount.pluck().get() as number;
    if (count !== n || hashes !== storedHashCount(n) || cp !== n) {
      fail('STORE_CORRUPT', `log layout inconsistent: ${count} entries up to ${n}, ${hashes} hashes, checkpoint at ${cp}`);
    }
  }

  /** Runs `fn` and turns driver errors into StoreErrors. */
  #run<T>(what: string, fn: () => T): Promise<T> {
    try {
      return Promise.resolve(fn());
    } catch (e) {
      return Promise.reject(toStoreError(e, what));
    }
  }

  /**
   * Runs `fn`, which calls this store's write methods, in ONE IMMEDIATE
   * transaction: each method's own transaction becomes a savepoint (one
   * that fails is rolled back alone, and its promise rejects), and one
   * COMMIT — one fsync — makes all the others durable. Their promises
   * settle while `fn` runs, but the writes are durable only once this
   * returns: callers (the writer thread) answer none of them before.
   * @throws the COMMIT's error (nothing of `fn` persisted, or, for a failed
   *   fsync, maybe persisted); `fn` must not throw.
   */
  commitTogether(fn: () => void): void {
    try {
      this.#db.transaction(fn).immediate();
    } catch (e) {
      throw toStoreError(e, 'commit');
    }
    // ---- DURABLE from here: COMMIT returned with synchronous=FULL.
  }

  treeSize(): Promise<number> {
    return this.#run('treeSize', () => this.#stmts.size.pluck().get() as number);
  }

  appendBatch(batch: AppendBatch): Promise<void> {
    return this.#run('appendBatch', () => {
      checkBatchShape(batch);
      const s = this.#stmts;
      // Commit order — one IMMEDIATE transaction (takes the write lock first,
      // so the size read below cannot go stale):
      //   1. read the current size; the batch must start there (else STORE_CONFLICT)
      //      and the hashes table must end at storedHashCount(size) (else STORE_CORRUPT);
      //   2. insert entries, then their recipient and ref rows;
      //   3. insert the stored hashes;
      //   4. insert the checkpoint;
      //   5. store the received entries the batch carries (as ingest does);
      //   6. COMMIT.
      // A failure anywhere in 1–6 rolls all of it back: nothing is half-applied.
      this.#db
        .transaction(() => {
          const first = batch.entries[0]!.index;
          const size = s.size.pluck().get() as number;
          if (first !== size) fail('STORE_CONFLICT', `batch starts at ${first} but the log has ${size} entries`);
          const stored = s.hashCount.pluck().get() as number;
          if (stored !== storedHashCount(size)) fail('STORE_CORRUPT', `log of size ${size} has ${stored} stored hashes`);
          for (const e of batch.entries) {
            s.insertEntry.run({ idx: e.index, leaf_hash: e.leafHash, bytes: e.bytes, ...metaParams(e.meta) });
            for (const party of new Set(e.meta.to)) s.insertTo.run(party, e.index);
            for (const r of e.meta.refs) s.insertRef.run(r.party, r.index, e.index);
          }
          for (const [idx, hash] of batch.hashes) s.insertHash.run(idx, hash);
          s.insertCheckpoint.run(batch.treeSize, batch.checkpoint);
          if (batch.received !== undefined) this.#ingestRows(batch.received);
        })
        .immediate();
      // ---- DURABLE from here: COMMIT returned, so the WAL frames are fsynced
      // (synchronous=FULL). A crash after this line keeps the whole batch.
    });
  }

  readHashes(indexes: readonly number[]): Promise<Hash[]> {
    return this.#run('readHashes', () => this.#readHashes(indexes));
  }

  #readHashes(indexes: readonly number[]): Hash[] {
    const out = new Array<Hash>(indexes.length);
    const missing: number[] = [];
    for (let i = 0; i < indexes.length; i++) {
      const idx = indexes[i]!;
      if (!Number.isSafeInteger(idx) || idx < 0) fail('STORE_CORRUPT', `stored hash ${idx} requested`);
      const h = this.#cache.get(idx);
      if (h === undefined) missing.push(i);
      else out[i] = h;
    }
    if (missing.length === 0) return out;
    // One query for every miss: json_each walks the list in order, and the
    // correlated lookup yields NULL for an index that is not stored.
    const rows = this.#stmts.readHashes.raw().all(JSON.stringify(missing.map((i) => indexes[i]!))) as [number, Uint8Array | null][];
    for (let k = 0; k < missing.length; k++) {
      const row = rows[k];
      const idx = indexes[missing[k]!]!;
      if (row === undefined || row[1] === null) fail('STORE_CORRUPT', `stored hash ${idx} is missing`);
      if (row[1].length !== HASH_SIZE) fail('STORE_CORRUPT', `stored hash ${idx} is not 32 bytes`);
      const h = bytesOf(row[1]);
      this.#cache.put(idx, h);
      out[missing[k]!] = h;
    }
    return out;
  }

  entry(index: number): Promise<OwnEntry | undefined> {
    return this.#run('entry', () => {
      const row = this.#stmts.entry.get(index) as EntryRow | undefined;
      return row && ownEntryOf(row);
    });
  }

  entries(from: number, to: number): Promise<OwnEntry[]> {
    return this.#run('entries', () => (this.#stmts.entries.all(from, to) as EntryRow[]).map(ownEntryOf));
  }

  latestCheckpoint(): Promise<Uint8Array | undefined> {
    return this.#run('latestCheckpoint', () => {
      const note = this.#stmts.latestCheckpoint.pluck().get() as Uint8Array | undefined;
      return note && bytesOf(note);
    });
  }

  checkpointAt(treeSize: number): Promise<Uint8Array | undefined> {
    return this.#run('checkpointAt', () => {
      const note = this.#stmts.checkpointAt.pluck().get(treeSize) as Uint8Array | undefined;
      return note && bytesOf(note);
    });
  }

  outbox(q: ListQuery): Promise<OwnEntry[]> {
    return this.#run('outbox', () => {
      // `party` selects entries addressed to that party (one entry_to row each).
      const where: string[] = [];
      const params: (string | number)[] = [];
      const from = q.party === undefined ? 'entries e' : 'entry_to t JOIN entries e ON e.idx = t.idx';
      if (q.party !== undefined) where.push('t.party = ?'), params.push(q.party);
      if (q.type !== undefined) where.push('e.type = ?'), params.push(q.type);
      if (q.incident !== undefined) where.push('e.incident = ?'), params.push(q.incident);
      if (q.before !== undefined) where.push('e.idx < ?'), params.push(q.before);
      const sql = `SELECT e.* FROM ${from} ${whereClause(where)} ORDER BY e.idx DESC LIMIT ?`;
      return (this.#list(sql).all(...params, limitOf(q)) as EntryRow[]).map(ownEntryOf);
    });
  }

  ingest(entries: readonly ReceivedEntry[]): Promise<number> {
    return this.#run('ingest', () => this.#db.transaction(() => this.#ingestRows(entries)).immediate());
  }

  /** Inside a transaction: stores the entries not yet held; @returns how many were new. */
  #ingestRows(entries: readonly ReceivedEntry[]): number {
    const s = this.#stmts;
    let added = 0;
    for (const e of entries) {
      const held = s.receivedHash.pluck().get(e.party, e.index) as Uint8Array | undefined;
      if (held !== undefined) {
        if (!sameBytes(held, e.leafHash)) fail('STORE_CONFLICT', `entry ${e.index} of ${e.party} is already held with a different hash`);
        continue;
      }
      s.insertReceived.run({
        party: e.party,
        idx: e.index,
        leaf_hash: e.leafHash,
        bytes: e.bytes,
        received_at: e.receivedAt,
        ...metaParams(e.meta),
      });
      added++;
    }
    return added;
  }

  received(party: string, index: number): Promise<ReceivedEntry | undefined> {
    return this.#run('received', () => {
      const row = this.#stmts.received.get(party, index) as ReceivedRow | undefined;
      return row && receivedOf(row);
    });
  }

  inbox(q: ListQuery): Promise<ReceivedListing[]> {
    return this.#run('inbox', () => {
      // Every ingested entry is in the inbox (the node ingests what is
      // addressed to it); `party` selects the sending party's log.
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (q.party !== undefined) where.push('party = ?'), params.push(q.party);
      if (q.type !== undefined) where.push('type = ?'), params.push(q.type);
      if (q.incident !== undefined) where.push('incident = ?'), params.push(q.incident);
      if (q.before !== undefined) where.push('seq < ?'), params.push(q.before);
      const sql = `SELECT ${RECEIVED_COLUMNS} FROM received ${whereClause(where)} ORDER BY seq DESC LIMIT ?`;
      return (this.#list(sql).all(...params, limitOf(q)) as ReceivedRow[]).map(listingOf);
    });
  }

  referencing(party: string, index: number): Promise<OwnEntry[]> {
    return this.#run('referencing', () => (this.#stmts.referencing.all(party, index) as EntryRow[]).map(ownEntryOf));
  }

  highestReceived(party: string): Promise<number> {
    return this.#run('highestReceived', () => (this.#stmts.highestReceived.pluck().get(party) as number | null) ?? -1);
  }

  putOfficer(o: Officer): Promise<void> {
    return this.#run('putOfficer', () => {
      this.#stmts.putOfficer.run(o.name, o.role, o.passwordHash, o.created, o.disabled ? 1 : 0);
    });
  }

  officer(name: string): Promise<Officer | undefined> {
    return this.#run('officer', () => {
      const row = this.#stmts.officer.get(name) as OfficerRow | undefined;
      return row && officerOf(row);
    });
  }

  officers(): Promise<Officer[]> {
    return this.#run('officers', () => (this.#stmts.officers.all() as OfficerRow[]).map(officerOf));
  }

  putSession(x: Session): Promise<void> {
    return this.#run('putSession', () => {
      this.#stmts.putSession.run(x.tokenHash, x.officer, x.created, x.expires);
    });
  }

  session(tokenHash: string): Promise<Session | undefined> {
    return this.#run('session', () => {
      const row = this.#stmts.session.get(tokenHash) as SessionRow | undefined;
      return row && sessionOf(row);
    });
  }

  deleteSession(tokenHash: string): Promise<void> {
    return this.#run('deleteSession', () => {
      this.#stmts.deleteSession.run(tokenHash);
    });
  }

  deleteOfficerSessions(officer: string, keepTokenHash?: string): Promise<number> {
    return this.#run('deleteOfficerSessions', () => this.#stmts.deleteOfficerSessions.run(officer, keepTokenHash ?? null).changes);
  }

  rememberNonce(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.#run('rememberNonce', () => {
      if (key.length === 0 || key.length > 64 || !Number.isSafeInteger(expiresAt) || expiresAt < 0) fail('STORE_CONFLICT', `rememberNonce: bad key or expiry`);
      const s = this.#stmts;
      return this.#db.transaction(() => {
        s.pruneNonces.run(Math.floor(now));
        return s.putNonce.run(key, expiresAt, Math.floor(now)).changes === 1;
      })();
    });
  }

  liveNonces(now: number): Promise<{ key: string; expiresAt: number }[]> {
    return this.#run('liveNonces', () => (this.#stmts.liveNonces.all(Math.floor(now)) as { key: string; expires: number }[]).map((r) => ({ key: r.key, expiresAt: r.expires })));
  }

  getSetting(key: string): Promise<unknown> {
    return this.#run('getSetting', () => {
      const v = this.#stmts.getSetting.pluck().get(key) as string | undefined;
      return v === undefined ? undefined : settingOf(v);
    });
  }

  /** Stores `value` as JSON; `undefined` removes the setting (so getSetting returns undefined again). */
  putSetting(key: string, value: unknown): Promise<void> {
    return this.#run('putSetting', () => {
      const json = JSON.stringify(value) as string | undefined;
      if (json === undefined) this.#stmts.deleteSetting.run(key);
      else this.#stmts.putSetting.run(key, json);
    });
  }

  witnessState(origin: string): Promise<WitnessState | undefined> {
    return this.#run('witnessState', () => {
      const row = this.#stmts.witness.get(origin) as WitnessRow | undefined;
      return row && witnessOf(row);
    });
  }

  advanceWitness(origin: string, expectOldSize: number, next: WitnessState): Promise<boolean> {
    return this.#run('advanceWitness', () => {
      const bad = (why: string): never => fail('STORE_CONFLICT', `advanceWitness ${origin}: ${why}`);
      if (!Number.isSafeInteger(expectOldSize) || expectOldSize < 0) bad(`expected size ${expectOldSize}`);
      if (!Number.isSafeInteger(next.treeSize) || next.treeSize < expectOldSize) bad(`size ${next.treeSize} would move back from ${expectOldSize}`);
      if (next.rootHash.length !== HASH_SIZE) bad('root hash is not 32 bytes');
      if (next.note.length === 0) bad('empty note');
      const s = this.#stmts;
      // Compare-and-set in one IMMEDIATE transaction: the write lock is taken
      // before the size is read, so no other connection can change it between
      // the comparison and the write (within this connection better-sqlite3
      // is synchronous, so calls cannot interleave at all).
      //   1. read the stored size (0 when there is no row); ≠ expectOldSize → false;
      //   2. upsert the row;
      //   3. COMMIT.
      const written = this.#db
        .transaction(() => {
          const stored = (s.witnessSize.pluck().get(origin) as number | undefined) ?? 0;
          if (stored !== expectOldSize) return false;
          s.putWitness.run({ origin, party: next.party, tree_size: next.treeSize, root_hash: next.rootHash, note: next.note });
          return true;
        })
        .immediate();
      // ---- DURABLE from here when written: COMMIT returned with synchronous=FULL.
      // The caller may now release the cosignature in `next.note`.
      return written;
    });
  }

  /** Closes the connection (checkpointing the WAL); later calls reject with `STORE_UNAVAILABLE`. Idempotent. */
  close(): Promise<void> {
    return this.#run('close', () => {
      if (this.#db.open) this.#db.close();
    });
  }

  #list(sql: string): Statement {
    let st = this.#lists.get(sql);
    if (st === undefined) {
      st = this.#db.prepare(sql);
      this.#lists.set(sql, st);
    }
    return st;
  }
}

function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    size: p('SELECT coalesce(max(idx) + 1, 0) FROM entries'),
    entryCount: p('SELECT count(*) FROM entries'),
    hashCount: p('SELECT coalesce(max(idx) + 1, 0) FROM hashes'),
    maxCheckpoint: p('SELECT coalesce(max(tree_size), 0) FROM checkpoints'),
    insertEntry: p(`INSERT INTO entries (${ENTRY_COLUMNS}) VALUES (@idx, @leaf_hash, @bytes, ${META_PARAMS})`),
    insertTo: p('INSERT INTO entry_to (party, idx) VALUES (?, ?)'),
    insertRef: p('INSERT OR IGNORE INTO entry_refs (party, ref_idx, idx) VALUES (?, ?, ?)'),
    insertHash: p('INSERT INTO hashes (idx, hash) VALUES (?, ?)'),
    insertCheckpoint: p('INSERT INTO checkpoints (tree_size, note) VALUES (?, ?)'),
    readHashes: p('SELECT j.value, (SELECT h.hash FROM hashes h WHERE h.idx = j.value) FROM json_each(?) j ORDER BY j.key'),
    entry: p(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE idx = ?`),
    entries: p(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE idx >= ? AND idx < ? ORDER BY idx`),
    latestCheckpoint: p('SELECT note FROM checkpoints ORDER BY tree_size DESC LIMIT 1'),
    checkpointAt: p('SELECT note FROM checkpoints WHERE tree_size = ?'),
    receivedHash: p('SELECT leaf_hash FROM received WHERE party = ? AND idx = ?'),
    insertReceived: p(
      `INSERT INTO received (party, idx, leaf_hash, bytes, ${META}, received_at) VALUES (@party, @idx, @leaf_hash, @bytes, ${META_PARAMS}, @received_at)`,
    ),
    received: p(`SELECT ${RECEIVED_COLUMNS} FROM received WHERE party = ? AND idx = ?`),
    referencing: p(`SELECT e.* FROM entry_refs r JOIN entries e ON e.idx = r.idx WHERE r.party = ? AND r.ref_idx = ? ORDER BY e.idx`),
    highestReceived: p('SELECT max(idx) FROM received WHERE party = ?'),
    putOfficer: p(
      `INSERT INTO officers (name, role, password_hash, created, disabled) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash,
         created = excluded.created, disabled = excluded.disabled`,
    ),
    officer: p('SELECT * FROM officers WHERE name = ?'),
    officers: p('SELECT * FROM officers ORDER BY name'),
    putSession: p(
      `INSERT INTO sessions (token_hash, officer, created, expires) VALUES (?, ?, ?, ?)
       ON CONFLICT (token_hash) DO UPDATE SET officer = excluded.officer, created = excluded.created, expires = excluded.expires`,
    ),
    session: p('SELECT * FROM sessions WHERE token_hash = ?'),
    deleteSession: p('DELETE FROM sessions WHERE token_hash = ?'),
    deleteOfficerSessions: p('DELETE FROM sessions WHERE officer = ? AND token_hash IS NOT ?'),
    pruneNonces: p('DELETE FROM request_nonces WHERE expires < ?'),
    putNonce: p(
      `INSERT INTO request_nonces (key, expires) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires = excluded.expires WHERE request_nonces.expires < ?`,
    ),
    liveNonces: p('SELECT key, expires FROM request_nonces WHERE expires >= ? ORDER BY expires'),
    getSetting: p('SELECT value FROM settings WHERE key = ?'),
    putSetting: p('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    deleteSetting: p('DELETE FROM settings WHERE key = ?'),
    witness: p('SELECT origin, party, tree_size, root_hash, note FROM witness WHERE origin = ?'),
    witnessSize: p('SELECT tree_size FROM witness WHERE origin = ?'),
    putWitness: p(
      `INSERT INTO witness (origin, party, tree_size, root_hash, note) VALUES (@origin, @party, @tree_size, @root_hash, @note)
       ON CONFLICT (origin) DO UPDATE SET party = excluded.party, tree_size = excluded.tree_size,
         root_hash = excluded.root_hash, note = excluded.note`,
    ),
  };
}

/**
 * The batch must be internally consistent before it touches the database:
 * entries contiguous, tree size = first + count, hashes exactly
 * [storedHashCount(first), storedHashCount(treeSize)), each entry's leaf hash
 * at its leaf slot. (That the leaf hash is the hash of the bytes is the
 * writer's job; the store does not re-hash.)
 * @throws StoreError `STORE_CONFLICT`.
 */
function checkBatchShape(b: AppendBatch): void {
  const bad = (why: string): never => fail('STORE_CONFLICT', `malformed batch: ${why}`);
  if (b.entries.length === 0) bad('no entries');
  const first = b.entries[0]!.index;
  if (!Number.isSafeInteger(first) || first < 0) bad(`first index ${first}`);
  b.entries.forEach((e, k) => {
    if (e.index !== first + k) bad(`entry ${k} has index ${e.index}`);
    if (e.leafHash.length !== HASH_SIZE) bad(`entry ${e.index} leaf hash length`);
  });
  if (b.treeSize !== first + b.entries.length) bad(`tree size ${b.treeSize} after ${b.entries.length} entries from ${first}`);
  const lo = storedHashCount(first);
  if (b.hashes.length !== storedHashCount(b.treeSize) - lo) bad(`${b.hashes.length} hashes`);
  b.hashes.forEach(([idx, h], j) => {
    if (idx !== lo + j) bad(`hash ${j} at stored index ${idx}, want ${lo + j}`);
    if (h.length !== HASH_SIZE) bad(`hash at ${idx} length`);
  });
  for (const e of b.entries) {
    const slot = storedHashIndex(0, e.index) - lo;
    if (!sameBytes(b.hashes[slot]![1], e.leafHash)) bad(`entry ${e.index} leaf hash differs from its stored hash`);
  }
  if (b.checkpoint.length === 0) bad('empty checkpoint');
}

function toStoreError(e: unknown, what: string): unknown {
  try {
    return rethrowStoreError(e, what);
  } catch (mapped) {
    return mapped;
  }
}

function whereClause(where: readonly string[]): string {
  return where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
}

function limitOf(q: ListQuery): number {
  return Number.isSafeInteger(q.limit) && q.limit > 0 ? q.limit : 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
