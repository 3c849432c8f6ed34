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
import { type ChainFileActivation, fail, Frontier, frontierIndexes, type Hash, HASH_SIZE, type SignedAccord, storedHashCount, storedHashIndex } from '@parley/core';
import type { DumpTables } from '../copy.js';
import { checkIdempotencyRecords, idempotencyRecordOf } from '../idempotency.js';
import { type DeliveryRow, DELIVERY_COLUMNS, DELIVERY_JOINS, judgementParams, storedDeliveryOf } from '../deliveryRows.js';
import type {
  AppendBatch,
  CheckpointTimestamp,
  CosignedTime,
  Cursor,
  CursorKind,
  DeliveryAnswerKey,
  DeliveryAnswerRow,
  DeliveryBatch,
  BoundsCoverage,
  DeliveryCountRow,
  DeliveryCursor,
  DeliveryJudgement,
  DeliveryListingQuery,
  DeliveryQuery,
  EscalationRecord,
  StoredDelivery,
  NewEscalation,
  OwnCosigned,
  WebhookDelivery,
  WebhookUpdate,
  ListQuery,
  MirroredEntry,
  LogStore,
  NewForkProof,
  StoredForkProof,
  Officer,
  OwnEntry,
  ReceivedEntry,
  ReceivedKey,
  ReceivedListing,
  Session,
  WitnessCosignature,
  WitnessState,
  EvaluationNote,
  HeldAccordChain,
  StoredAccordChain,
  StoredDepartedLog,
  IdempotencyRecord,
} from '../types.js';
import { checkChain, checkChainExtends, checkDeparted, checkEvaluationNote, checkWitnessCosignatures } from '../governanceRows.js';
import { metaColumn } from './entryMeta.js';
import { rethrowStoreError } from './errors.js';
import { HashCache } from './hashCache.js';
import {
  bytesOf,
  type EntryRow,
  listingOf,
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
  /**
   * Told before each pending migration runs (and once more when all have,
   * with `done === total`), for a progress bar: `from` is the schema version
   * the file had (0: a new database). Called synchronously, inside open.
   */
  readonly onMigrate?: (step: MigrationStep) => void;
}

/** Where the migrations at open are: `done` of `total` ran, the next is `version`. */
export interface MigrationStep {
  readonly from: number;
  readonly done: number;
  readonly total: number;
  readonly version: number;
}

/**
 * An own entry's columns (schema 9): its leaf hash joined from `hashes` (the
 * level-0 stored hash) and its type name from `entry_types`. LEFT JOINs keep
 * `entries` the outer loop of every plan (newest first by idx, no sort).
 */
const OWN_ENTRY = 'e.idx, h.hash AS leaf_hash, e.bytes, et.name AS type, e.incident, e.meta';
const WITH_LEAF = 'LEFT JOIN hashes h ON h.idx = leaf_slot(e.idx) LEFT JOIN entry_types et ON et.code = e.type';
/**
 * Page size of a new database. An entry row is ~1.1 KiB: a 4 KiB page holds
 * three and leaves a fifth of itself empty; 16 KiB pages waste ~4 %.
 * Existing databases keep theirs (it changes only by a VACUUM outside WAL).
 */
const NEW_PAGE_SIZE = 16384;
/** A received entry's columns (schema 9), as {@link OWN_ENTRY}: `FROM received r` {@link WITH_TYPE}. */
/** A received entry's key in a Map (no party id holds a NUL). */
const heldKey = (party: string, index: number) => `${party}\u0000${index}`;

const RECEIVED_COLUMNS = 'r.seq, r.party, r.idx, r.leaf_hash, r.bytes, et.name AS type, r.incident, r.meta, r.received_at';
const WITH_TYPE = 'LEFT JOIN entry_types et ON et.code = r.type';

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
      if (!readonly && (db.pragma('page_count', { simple: true }) as number) === 0) db.pragma(`page_size = ${NEW_PAGE_SIZE}`);
      if (!readonly) db.pragma('journal_mode = WAL');
      // storedHashIndex(0, idx): where an own entry's leaf hash is stored (schema 9).
      db.function('leaf_slot', { deterministic: true }, (idx: unknown) => (typeof idx === 'number' || typeof idx === 'bigint' ? storedHashIndex(0, Number(idx)) : null));
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = ON');
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 5000))}`);
      if (readonly) {
        const v = schemaVersion(db);
        if (v !== SCHEMA_VERSION) fail('STORE_UNAVAILABLE', `read-only database has schema version ${v}, this code needs ${SCHEMA_VERSION}`);
      } else {
        migrate(db, undefined, opts.onMigrate);
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
    // One read transaction, so one snapshot: another process (a running node beside `parley export`)
    // may commit a batch between two of these reads, which would look like a corrupt log.
    const { n, hashes, cp, count } = this.#db.transaction(() => ({
      n: s.size.pluck().get() as number,
      hashes: s.hashCount.pluck().get() as number,
      cp: s.maxCheckpoint.pluck().get() as number,
      count: s.entryCount.pluck().get() as number,
    }))();
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
      checkIdempotencyRecords(batch);
      const s = this.#stmts;
      // Commit order — one IMMEDIATE transaction (takes the write lock first,
      // so the size read below cannot go stale):
      //   1. read the current size; the batch must start there (else STORE_CONFLICT)
      //      and the hashes table must end at storedHashCount(size) (else STORE_CORRUPT);
      //      the root recomputed from the stored frontier hashes must be
      //      batch.prevRoot (else STORE_CONFLICT);
      //   2. insert entries, then their recipient and ref rows;
      //   3. insert the stored hashes;
      //   4. insert the checkpoint;
      //   5. store the received entries the batch carries (as ingest does);
      //   6. insert the idempotency records (a key already held: STORE_CONFLICT);
      //   7. COMMIT.
      // A failure anywhere in 1–7 rolls all of it back: nothing is half-applied.
      this.#db
        .transaction(() => {
          const first = batch.entries[0]!.index;
          const size = s.size.pluck().get() as number;
          if (first !== size) fail('STORE_CONFLICT', `batch starts at ${first} but the log has ${size} entries`);
          const stored = s.hashCount.pluck().get() as number;
          if (stored !== storedHashCount(size)) fail('STORE_CORRUPT', `log of size ${size} has ${stored} stored hashes`);
          // The conditional append (issue 14): the batch applies only on top of the tree it was built on.
          const root = size === 0 ? Frontier.empty().root() : Frontier.restore(size, this.#readHashes(frontierIndexes(size))).root();
          if (!sameBytes(root, batch.prevRoot)) fail('STORE_CONFLICT', `batch expects another log: its previous root differs from the stored root at size ${size}`);
          const types = new Set<string>();
          for (const e of batch.entries) {
            // One INSERT OR IGNORE per type of the batch, not per entry (a batch is mostly one type).
            if (!types.has(e.meta.type)) {
              s.insertType.run(e.meta.type);
              types.add(e.meta.type);
            }
            s.insertEntry.run(e.index, e.bytes, e.meta.type, e.meta.incident ?? null, metaColumn(e.bytes, e.meta));
            for (const party of new Set(e.meta.to)) s.insertTo.run(party, e.index);
            for (const r of e.meta.refs) s.insertRef.run(r.party, r.index, e.index);
          }
          for (const [idx, hash] of batch.hashes) s.insertHash.run(idx, hash);
          s.insertCheckpoint.run(batch.treeSize, batch.checkpoint);
          if (batch.received !== undefined) this.#ingestRows(batch.received);
          for (const r of batch.idempotency ?? []) {
            if (s.insertIdempotency.run(r.scope, r.key, r.digest, JSON.stringify(r.indexes), r.response, r.createdAt).changes !== 1) {
              fail('STORE_CONFLICT', `idempotency key ${JSON.stringify(r.key)} of ${r.scope} is already held: the write it names was logged before`);
            }
          }
        })
        .immediate();
      // ---- DURABLE from here: COMMIT returned, so the WAL frames are fsynced
      // (synchronous=FULL). A crash after this line keeps the whole batch.
    });
  }

  idempotencyRecord(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    return this.#run('idempotencyRecord', () => {
      const row = this.#stmts.idempotencyRecord.get(scope, key) as Parameters<typeof idempotencyRecordOf>[0] | undefined;
      return row && idempotencyRecordOf(row);
    });
  }

  pruneIdempotency(before: number): Promise<number> {
    return this.#run('pruneIdempotency', () => this.#stmts.pruneIdempotency.run(Math.floor(before)).changes);
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
      if (q.type !== undefined) where.push('e.type = (SELECT code FROM entry_types WHERE name = ?)'), params.push(q.type);
      if (q.excludeTypes !== undefined && q.excludeTypes.length > 0) where.push(`e.type NOT IN (SELECT code FROM entry_types WHERE name IN (${q.excludeTypes.map(() => '?').join(', ')}))`), params.push(...q.excludeTypes);
      if (q.incident !== undefined) where.push('e.incident = ?'), params.push(q.incident);
      // By party, order by entry_to's idx (equal to e.idx): its key order, so no sort of every delivery to that party.
      const idx = q.party === undefined ? 'e.idx' : 't.idx';
      if (q.before !== undefined) where.push(`${idx} < ?`), params.push(q.before);
      const sql = `SELECT ${OWN_ENTRY} FROM ${from} ${WITH_LEAF} ${whereClause(where)} ORDER BY ${idx} DESC LIMIT ?`;
      return (this.#list(sql).all(...params, limitOf(q)) as EntryRow[]).map(ownEntryOf);
    });
  }

  ingest(entries: readonly ReceivedEntry[]): Promise<number> {
    return this.#run('ingest', () => this.#db.transaction(() => this.#ingestRows(entries)).immediate());
  }

  /** Inside a transaction: stores the entries not yet held; @returns how many were new. */
  #ingestRows(entries: readonly ReceivedEntry[]): number {
    const s = this.#stmts;
    const held = s.receivedHash.pluck();
    const types = new Set<string>();
    let added = 0;
    for (const e of entries) {
      // One INSERT OR IGNORE per type of the call, not per entry (an ingest is mostly one type).
      if (!types.has(e.meta.type)) {
        s.insertType.run(e.meta.type);
        types.add(e.meta.type);
      }
      // Insert first (one statement for a new entry, the usual case); only an entry already held is read back.
      if (s.insertReceived.run(e.party, e.index, e.leafHash, e.bytes, e.meta.type, e.meta.incident ?? null, metaColumn(e.bytes, e.meta), e.receivedAt).changes === 1) {
        added++;
        continue;
      }
      if (!sameBytes(held.get(e.party, e.index) as Uint8Array, e.leafHash)) fail('STORE_CONFLICT', `entry ${e.index} of ${e.party} is already held with a different hash`);
    }
    return added;
  }

  received(party: string, index: number): Promise<ReceivedEntry | undefined> {
    return this.#run('received', () => {
      const row = this.#stmts.received.get(party, index) as ReceivedRow | undefined;
      return row && receivedOf(row);
    });
  }

  receivedMany(keys: readonly ReceivedKey[]): Promise<(ReceivedEntry | undefined)[]> {
    return this.#run('receivedMany', () => {
      if (keys.length === 0) return [];
      // One query: the keys go in as one JSON array of [party, index] pairs, each probed in UNIQUE (party, idx).
      const rows = this.#stmts.receivedMany.all(JSON.stringify(keys.map((k) => [k.party, k.index]))) as ReceivedRow[];
      const held = new Map<string, ReceivedRow>();
      for (const row of rows) held.set(heldKey(row.party, row.idx), row);
      return keys.map((k) => {
        const row = held.get(heldKey(k.party, k.index));
        return row && receivedOf(row);
      });
    });
  }

  inbox(q: ListQuery): Promise<ReceivedListing[]> {
    return this.#run('inbox', () => {
      // Every ingested entry is in the inbox (the node ingests what is
      // addressed to it); `party` selects the sending party's log.
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (q.party !== undefined) where.push('r.party = ?'), params.push(q.party);
      if (q.type !== undefined) where.push('r.type = (SELECT code FROM entry_types WHERE name = ?)'), params.push(q.type);
      if (q.excludeTypes !== undefined && q.excludeTypes.length > 0) where.push(`r.type NOT IN (SELECT code FROM entry_types WHERE name IN (${q.excludeTypes.map(() => '?').join(', ')}))`), params.push(...q.excludeTypes);
      if (q.incident !== undefined) where.push('r.incident = ?'), params.push(q.incident);
      if (q.before !== undefined) where.push('r.seq < ?'), params.push(q.before);
      if (q.after !== undefined) where.push('r.seq > ?'), params.push(q.after);
      const sql = `SELECT ${RECEIVED_COLUMNS} FROM received r ${WITH_TYPE} ${whereClause(where)} ORDER BY r.seq ${q.after !== undefined ? 'ASC' : 'DESC'} LIMIT ?`;
      return (this.#list(sql).all(...params, limitOf(q)) as ReceivedRow[]).map(listingOf);
    });
  }

  referencing(party: string, index: number): Promise<OwnEntry[]> {
    return this.#run('referencing', () => (this.#stmts.referencing.all(party, index) as EntryRow[]).map(ownEntryOf));
  }

  highestReceived(party: string): Promise<number> {
    return this.#run('highestReceived', () => (this.#stmts.highestReceived.pluck().get(party) as number | null) ?? -1);
  }

  mirror(party: string, entries: readonly MirroredEntry[]): Promise<number> {
    return this.#run('mirror', () =>
      this.#db
        .transaction(() => {
          const s = this.#stmts;
          let added = 0;
          for (const e of entries) {
            const held = (s.receivedHash.pluck().get(party, e.index) ?? s.mirrorHash.pluck().get(party, e.index)) as Uint8Array | undefined;
            if (held !== undefined) {
              if (!sameBytes(held, e.leafHash)) fail('STORE_CONFLICT', `entry ${e.index} of ${party} is already held with a different hash`);
              continue;
            }
            s.insertMirror.run(party, e.index, e.leafHash, e.bytes);
            added++;
          }
          return added;
        })
        .immediate(),
    );
  }

  mirrored(party: string, from: number, to: number): Promise<MirroredEntry[]> {
    return this.#run('mirrored', () => {
      const rows = this.#stmts.mirrored.raw().all({ party, from, to }) as [number, Uint8Array, Uint8Array][];
      const out: MirroredEntry[] = [];
      for (const [idx, leaf, bytes] of rows) {
        if (out.length > 0 && idx === out[out.length - 1]!.index) continue; // held twice (received after mirrored): one
        if (idx !== from + out.length) break; // a gap: the run ends here
        out.push({ index: idx, leafHash: bytesOf(leaf), bytes: bytesOf(bytes) });
      }
      return out;
    });
  }

  heldCount(party: string, from: number, to: number): Promise<number> {
    return this.#run('heldCount', () => (to <= from ? 0 : (this.#stmts.heldCount.pluck().get({ party, from, to }) as number)));
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

  witnessState(party: string): Promise<WitnessState | undefined> {
    return this.#run('witnessState', () => {
      const row = this.#stmts.witness.get(party) as WitnessRow | undefined;
      return row && witnessOf(row);
    });
  }

  advanceWitness(party: string, expectOldSize: number, next: WitnessState): Promise<boolean> {
    return this.#run('advanceWitness', () => {
      const bad = (why: string): never => fail('STORE_CONFLICT', `advanceWitness ${party}: ${why}`);
      if (party.length === 0 || next.party !== party) bad(`the state is ${next.party}'s, not ${party}'s`);
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
          const stored = (s.witnessSize.pluck().get(party) as number | undefined) ?? 0;
          if (stored !== expectOldSize) return false;
          s.putWitness.run({ party, tree_size: next.treeSize, root_hash: next.rootHash, note: next.note });
          // The history row in the same transaction: a cosignature held is a cosignature served (witnessCosignatures).
          s.addWitnessCosignature.run(party, next.treeSize, next.note);
          return true;
        })
        .immediate();
      // ---- DURABLE from here when written: COMMIT returned with synchronous=FULL.
      // The caller may now release the cosignature in `next.note`.
      return written;
    });
  }

  witnessCosignatures(party: string, afterSize: number, limit: number): Promise<WitnessCosignature[]> {
    return this.#run('witnessCosignatures', () => {
      if (!Number.isSafeInteger(afterSize) || afterSize < 0 || !Number.isSafeInteger(limit) || limit < 1 || limit > 1000) fail('STORE_CONFLICT', `witnessCosignatures ${party}: after ${afterSize}, limit ${limit}`);
      const rows = this.#stmts.witnessCosignatures.all(party, afterSize, limit) as { tree_size: number; note: Uint8Array }[];
      return rows.map((r) => ({ party, treeSize: r.tree_size, note: new Uint8Array(r.note) }));
    });
  }

  addWitnessCosignatures(rows: readonly WitnessCosignature[]): Promise<number> {
    return this.#run('addWitnessCosignatures', () => {
      checkWitnessCosignatures(rows);
      return this.#db.transaction(() => {
        let n = 0;
        for (const r of rows) n += this.#stmts.addWitnessCosignature.run(r.party, r.treeSize, r.note).changes;
        return n;
      })();
    });
  }

  addForkProof(p: NewForkProof): Promise<boolean> {
    return this.#run('addForkProof', () => {
      const bad = (why: string): never => fail('STORE_CONFLICT', `addForkProof ${p.party}: ${why}`);
      const [a, b] = [viewOf(p.views[0]), viewOf(p.views[1])];
      if (p.party.length === 0 || p.proof.length === 0) bad('empty party or proof');
      if (a.length === 0 || b.length === 0) bad('a view is not a checkpoint note');
      if (a === b) bad('the two views are one checkpoint');
      // The canonical pair: the two bodies sorted, so either order is one row (UNIQUE).
      const [lo, hi] = a < b ? [a, b] : [b, a];
      return this.#stmts.addForkProof.run(p.party, lo, hi, p.proof, p.recordedAt).changes === 1;
    });
  }

  forkProofs(party?: string): Promise<StoredForkProof[]> {
    return this.#run('forkProofs', () => {
      const rows = (party === undefined ? this.#stmts.forkProofs.all() : this.#stmts.forkProofsOf.all(party)) as { party: string; proof: string; recorded_at: string }[];
      return rows.map((r) => ({ party: r.party, proof: r.proof, recordedAt: r.recorded_at }));
    });
  }

  addUnverifiedCheckpoint(party: string, note: string, keptAt: string, maxPending: number): Promise<boolean> {
    return this.#run('addUnverifiedCheckpoint', () => {
      if (party.length === 0 || note.length === 0) fail('STORE_CONFLICT', 'addUnverifiedCheckpoint: empty party or note');
      return this.#db
        .transaction(() => {
          if ((this.#stmts.pendingCount.pluck().get(party) as number) >= maxPending) return false;
          return this.#stmts.addUnverified.run(party, note, keptAt).changes === 1;
        })
        .immediate();
    });
  }

  unverifiedCheckpoints(party: string): Promise<string[]> {
    return this.#run('unverifiedCheckpoints', () => this.#stmts.pending.pluck().all(party) as string[]);
  }

  markCheckpointsCompared(party: string, notes: readonly string[], outcome: string, at: string): Promise<void> {
    return this.#run('markCheckpointsCompared', () => {
      this.#db.transaction(() => {
        for (const n of notes) this.#stmts.markCompared.run(at, outcome, party, n);
      })();
    });
  }

  // ---- Evidence tables (migration 4). Each write is one statement or one
  // transaction; the forward-only checks are in the SQL, so a stale write
  // issued after a newer one (writes in flight together) changes nothing.

  cursor(kind: CursorKind, party: string): Promise<Cursor | undefined> {
    return this.#run('cursor', () => {
      const row = this.#stmts.cursor.get(kind, party) as { tree_size: number; frontier: Uint8Array } | undefined;
      if (!row) return undefined;
      const f = bytesOf(row.frontier);
      const frontier: Hash[] = [];
      for (let i = 0; i < f.length; i += HASH_SIZE) frontier.push(f.slice(i, i + HASH_SIZE));
      return { treeSize: row.tree_size, frontier };
    });
  }

  advanceCursor(kind: CursorKind, party: string, next: Cursor): Promise<boolean> {
    return this.#run('advanceCursor', () => {
      if (!Number.isSafeInteger(next.treeSize) || next.treeSize < 0) fail('STORE_CONFLICT', `advanceCursor ${kind}/${party}: size ${next.treeSize}`);
      if (next.frontier.some((h) => h.length !== HASH_SIZE)) fail('STORE_CONFLICT', `advanceCursor ${kind}/${party}: a frontier hash is not 32 bytes`);
      const frontier = new Uint8Array(HASH_SIZE * next.frontier.length);
      next.frontier.forEach((h, i) => frontier.set(h, HASH_SIZE * i));
      return this.#stmts.advanceCursor.run(kind, party, next.treeSize, frontier).changes > 0;
    });
  }

  ownCosigned(witness: string): Promise<OwnCosigned | undefined> {
    return this.#run('ownCosigned', () => {
      const row = this.#stmts.ownCosigned.get(witness) as { tree_size: number; cosigned_at: number | null; note: string } | undefined;
      return row && { witness, treeSize: row.tree_size, ...(row.cosigned_at !== null ? { cosignedAt: row.cosigned_at } : {}), note: row.note };
    });
  }

  advanceOwnCosigned(next: OwnCosigned): Promise<boolean> {
    return this.#run('advanceOwnCosigned', () => {
      const bad = (why: string): never => fail('STORE_CONFLICT', `advanceOwnCosigned ${next.witness}: ${why}`);
      if (!Number.isSafeInteger(next.treeSize) || next.treeSize < 1) bad(`size ${next.treeSize}`);
      if (next.cosignedAt !== undefined && (!Number.isSafeInteger(next.cosignedAt) || next.cosignedAt < 0)) bad(`time ${next.cosignedAt}`);
      if (next.note === '') bad('empty note');
      return this.#stmts.advanceOwnCosigned.run(next.witness, next.treeSize, next.cosignedAt ?? null, next.note).changes > 0;
    });
  }

  addCosignedTimes(points: readonly CosignedTime[]): Promise<void> {
    return this.#run('addCosignedTimes', () => {
      for (const p of points) {
        if (!Number.isSafeInteger(p.treeSize) || p.treeSize < 1 || !Number.isSafeInteger(p.cosignedAt) || p.cosignedAt < 0) {
          fail('STORE_CONFLICT', `addCosignedTimes ${p.party}/${p.cosigner}: size ${p.treeSize} at ${p.cosignedAt}`);
        }
      }
      this.#db.transaction(() => {
        for (const p of points) this.#stmts.addCosignedTime.run(p.party, p.cosigner, p.treeSize, p.cosignedAt);
      })();
    });
  }

  cosignedTimes(party: string, limit?: number): Promise<CosignedTime[]> {
    return this.#run('cosignedTimes', () => {
      const n = limit !== undefined && Number.isSafeInteger(limit) && limit >= 0 ? limit : -1;
      const rows = this.#stmts.cosignedTimes.all({ party, limit: n }) as { cosigner: string; tree_size: number; cosigned_at: number }[];
      return rows.map((r) => ({ party, cosigner: r.cosigner, treeSize: r.tree_size, cosignedAt: r.cosigned_at }));
    });
  }

  addCheckpointTimestamps(tokens: readonly CheckpointTimestamp[]): Promise<number> {
    return this.#run('addCheckpointTimestamps', () => {
      for (const t of tokens) {
        if (t.party === '' || t.authority === '' || !Number.isSafeInteger(t.treeSize) || t.treeSize < 1 || t.token.length === 0 || t.note === '' || !Number.isSafeInteger(t.genTime) || t.genTime < 0) {
          fail('STORE_CONFLICT', `addCheckpointTimestamps ${t.party}/${t.treeSize}/${t.authority}: bad token row`);
        }
      }
      let n = 0;
      this.#db.transaction(() => {
        for (const t of tokens) n += this.#stmts.addTimestamp.run(t.party, t.treeSize, t.authority, t.token, t.genTime, t.note).changes;
      })();
      return n;
    });
  }

  checkpointTimestamps(party: string, q: { readonly treeSize?: number; readonly from?: number; readonly limit?: number } = {}): Promise<CheckpointTimestamp[]> {
    return this.#run('checkpointTimestamps', () => {
      const lo = q.treeSize ?? q.from ?? 0;
      const hi = q.treeSize ?? Number.MAX_SAFE_INTEGER;
      const limit = q.limit !== undefined && Number.isSafeInteger(q.limit) && q.limit >= 0 ? q.limit : -1;
      const rows = this.#stmts.timestamps.all({ party, lo, hi, limit }) as { tree_size: number; authority: string; token: Uint8Array; gen_time: number; note: string }[];
      return rows.map((r) => ({ party, treeSize: r.tree_size, authority: r.authority, token: new Uint8Array(r.token), genTime: r.gen_time, note: r.note }));
    });
  }

  latestTimestampedSize(party: string): Promise<number> {
    return this.#run('latestTimestampedSize', () => (this.#stmts.latestTimestamped.pluck().get(party) as number | null) ?? 0);
  }

  recordEscalations(rows: readonly NewEscalation[]): Promise<string[]> {
    return this.#run('recordEscalations', () =>
      this.#db.transaction(() => {
        const fresh: string[] = [];
        for (const r of rows) {
          const w = r.webhook;
          const info = this.#stmts.recordEscalation.run(r.id, Math.max(0, Math.floor(r.recordedAt)), w ?? null, w === undefined ? 0 : Math.floor(r.recordedAt), w === undefined ? 'none' : 'pending');
          if (info.changes > 0) fresh.push(r.id);
        }
        return fresh;
      })(),
    );
  }

  // issue 14: the deadline tracker's deliveries (types.ts LogStore.fileDeliveries)
  fileDeliveries(b: DeliveryBatch): Promise<boolean> {
    return this.#run('fileDeliveries', () =>
      this.#db.transaction(() => {
        // Compare-and-set of the answer rows read with `held`: one moved since, nothing is filed (the transaction writes nothing yet).
        const cur = this.#db.prepare('SELECT answers FROM delivery_answers WHERE party = ? AND idx = ? AND recipient = ? AND hash = ?').pluck();
        for (const r of b.answers) if (r.held !== undefined && ((cur.get(r.party, r.index, r.recipient, r.hash) as string | undefined) ?? null) !== r.held) return false;
        const d = this.#db.prepare('INSERT OR IGNORE INTO deliveries (party, idx, recipient, direction, leaf_hash, facts) VALUES (?, ?, ?, ?, ?, ?)');
        for (const r of b.deliveries) d.run(r.party, r.index, r.recipient, r.direction, r.leafHash, r.facts);
        const a = this.#db.prepare('INSERT INTO delivery_answers (party, idx, recipient, hash, answers) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET answers = excluded.answers');
        // schema 13: what an answer or withdrawal touches is judged again (due at once), durably with the filing.
        const due = this.#db.prepare('UPDATE deliveries SET due_at = 0 WHERE party = ? AND idx = ? AND recipient = ?');
        for (const r of b.answers) a.run(r.party, r.index, r.recipient, r.hash, r.answers), due.run(r.party, r.index, r.recipient);
        const w = this.#db.prepare('INSERT OR IGNORE INTO delivery_withdrawals (party, idx, retraction) VALUES (?, ?, ?)');
        const dueAll = this.#db.prepare('UPDATE deliveries SET due_at = 0 WHERE party = ? AND idx = ?');
        for (const r of b.withdrawals) w.run(r.party, r.index, r.retraction), dueAll.run(r.party, r.index);
        this.#db
          .prepare('INSERT INTO delivery_cursor (id, own_size, last_seq) VALUES (1, ?, ?) ON CONFLICT DO UPDATE SET own_size = max(own_size, excluded.own_size), last_seq = max(last_seq, excluded.last_seq)')
          .run(b.cursor.ownSize, b.cursor.lastSeq);
        return true;
      })(),
    );
  }

  deliveryCursor(): Promise<DeliveryCursor> {
    return this.#run('deliveryCursor', () => {
      const r = this.#db.prepare('SELECT own_size, last_seq FROM delivery_cursor WHERE id = 1').get() as { own_size: number; last_seq: number } | undefined;
      return { ownSize: r?.own_size ?? 0, lastSeq: r?.last_seq ?? 0 };
    });
  }

  deliveryAnswers(keys: readonly DeliveryAnswerKey[]): Promise<DeliveryAnswerRow[]> {
    return this.#run('deliveryAnswers', () => {
      const q = this.#db.prepare('SELECT answers FROM delivery_answers WHERE party = ? AND idx = ? AND recipient = ? AND hash = ?').pluck();
      const out: DeliveryAnswerRow[] = [];
      for (const k of keys) {
        const answers = q.get(k.party, k.index, k.recipient, k.hash) as string | undefined;
        if (answers !== undefined) out.push({ party: k.party, index: k.index, recipient: k.recipient, hash: k.hash, answers });
      }
      return out;
    });
  }

  deliveries(q: DeliveryQuery): Promise<StoredDelivery[]> {
    return this.#run('deliveries', () => {
      const where: string[] = [];
      const params: (string | number)[] = [];
      if (q.after !== undefined) where.push('(d.party, d.idx, d.recipient) > (?, ?, ?)'), params.push(q.after.party, q.after.index, q.after.recipient);
      if (q.party !== undefined) where.push('d.party = ?'), params.push(q.party);
      if (q.index !== undefined) where.push('d.idx = ?'), params.push(q.index);
      if (q.recipient !== undefined) where.push('d.recipient = ?'), params.push(q.recipient);
      if (q.direction !== undefined) where.push('d.direction = ?'), params.push(q.direction);
      // schema 13: the stale ones (an index range on due_at) or those judged after a time (on judged_at).
      let order = 'd.party, d.idx, d.recipient';
      if (q.staleBefore !== undefined || q.judgedAfter !== undefined) {
        where.splice(0, q.after !== undefined ? 1 : 0), params.splice(0, q.after !== undefined ? 3 : 0);
        const col = q.staleBefore !== undefined ? 'd.due_at' : 'd.judged_at';
        if (q.staleBefore !== undefined) where.push('d.due_at < ?'), params.push(q.staleBefore);
        else where.push('d.judged_at > ?', '(d.due_at IS NULL OR d.due_at >= ?)'), params.push(q.judgedAfter!, q.judgedAfter!);
        if (q.afterStale !== undefined) where.push(`(${col}, d.party, d.idx, d.recipient) > (?, ?, ?, ?)`), params.push(q.afterStale.at, q.afterStale.key.party, q.afterStale.key.index, q.afterStale.key.recipient);
        order = `${col}, d.party, d.idx, d.recipient`;
      }
      const sql = `SELECT ${DELIVERY_COLUMNS}
        FROM deliveries d
        ${DELIVERY_JOINS}
        ${whereClause(where)} ORDER BY ${order} LIMIT ?`;
      const rows = this.#list(sql).all(...params, Number.isSafeInteger(q.limit) && q.limit > 0 ? q.limit : 0) as DeliveryRow[];
      return rows.map(storedDeliveryOf);
    });
  }

  judgeDeliveries(j: readonly DeliveryJudgement[]): Promise<void> {
    return this.#run('judgeDeliveries', () =>
      this.#db.transaction(() => {
        const u = this.#db.prepare(
          'UPDATE deliveries SET state = ?, settled = ?, overdue = ?, due_at = ?, judged_at = ?, rank = ?, sort_due = ?, start_bound = ?, receipt_idx = ?, receipt_bound = ?, ack_idx = ?, ack_bound = ? WHERE party = ? AND idx = ? AND recipient = ?',
        );
        // A judgement with its basis: written only where the row's answers and withdrawal are still those it was made on.
        const c = this.#db.prepare(
          `UPDATE deliveries AS d SET state = ?, settled = ?, overdue = ?, due_at = ?, judged_at = ?, rank = ?, sort_due = ?, start_bound = ?, receipt_idx = ?, receipt_bound = ?, ack_idx = ?, ack_bound = ? WHERE party = ? AND idx = ? AND recipient = ?
             AND (SELECT a.answers FROM delivery_answers a WHERE a.party = d.party AND a.idx = d.idx AND a.recipient = d.recipient AND a.hash = d.leaf_hash) IS ?
             AND (SELECT w.retraction FROM delivery_withdrawals w WHERE w.party = d.party AND w.idx = d.idx) IS ?`,
        );
        for (const x of j) x.basis ? c.run(...judgementParams(x), x.basis.answers, x.basis.withdrawn) : u.run(...judgementParams(x));
      })(),
    );
  }

  rejudgeDeliveries(ranges: readonly { party: string; from: number; to: number }[], unbounded: readonly BoundsCoverage[] = []): Promise<void> {
    return this.#run('rejudgeDeliveries', () =>
      this.#db.transaction(() => {
        const own = this.#db.prepare('UPDATE deliveries SET due_at = 0 WHERE party = ? AND idx >= ? AND idx < ? AND due_at IS NOT 0');
        const receipt = this.#db.prepare('UPDATE deliveries SET due_at = 0 WHERE recipient = ? AND receipt_idx >= ? AND receipt_idx < ? AND due_at IS NOT 0');
        const ack = this.#db.prepare('UPDATE deliveries SET due_at = 0 WHERE recipient = ? AND ack_idx >= ? AND ack_idx < ? AND due_at IS NOT 0');
        for (const r of ranges) for (const st of [own, receipt, ack]) st.run(r.party, r.from, r.to);
        // Judged without a bound the new provider knows (judged: state not null; unjudged ones are due already).
        const ownU = this.#db.prepare('UPDATE deliveries SET due_at = 0 WHERE party = @party AND idx < @to AND (@by IS NULL OR recipient = @by) AND state IS NOT NULL AND start_bound IS NULL AND due_at IS NOT 0');
        const receiptU = this.#db.prepare('UPDATE deliveries SET due_at = 0 WHERE recipient = @party AND receipt_idx < @to AND (@by IS NULL OR party = @by) AND receipt_bound IS NULL AND due_at IS NOT 0');
        const ackU = this.#db.prepare('UPDATE deliveries SET due_at = 0 WHERE recipient = @party AND ack_idx < @to AND (@by IS NULL OR party = @by) AND ack_bound IS NULL AND due_at IS NOT 0');
        for (const c of unbounded) for (const st of [ownU, receiptU, ackU]) st.run({ party: c.party, to: Math.min(c.to, Number.MAX_SAFE_INTEGER), by: c.by ?? null });
      })(),
    );
  }

  nextDeliveryDue(): Promise<number | undefined> {
    return this.#run('nextDeliveryDue', () => {
      const v = this.#db.prepare('SELECT min(due_at) FROM deliveries WHERE due_at IS NOT NULL').pluck().get() as number | null;
      return v ?? undefined;
    });
  }

  deliveryListing(q: DeliveryListingQuery): Promise<StoredDelivery[]> {
    return this.#run('deliveryListing', () => {
      const where = ['d.judged_at <= ?', '(d.due_at IS NULL OR d.due_at >= ?)'];
      const params: (string | number)[] = [q.at, q.at];
      if (q.after !== undefined) where.push('(d.rank, d.sort_due, d.idx, d.party, d.recipient) > (?, ?, ?, ?, ?)'), params.push(...q.after);
      if (q.party !== undefined) where.push('d.party = ?'), params.push(q.party);
      if (q.index !== undefined) where.push('d.idx = ?'), params.push(q.index);
      if (q.recipient !== undefined) where.push('d.recipient = ?'), params.push(q.recipient);
      if (q.direction !== undefined) where.push('d.direction = ?'), params.push(q.direction);
      if (q.state !== undefined) where.push('d.state = ?'), params.push(q.state);
      if (q.settled !== undefined) where.push('d.settled = ?'), params.push(q.settled ? 1 : 0);
      const sql = `SELECT ${DELIVERY_COLUMNS} FROM deliveries d INDEXED BY deliveries_by_listing ${DELIVERY_JOINS}
        WHERE ${where.join(' AND ')} ORDER BY d.rank, d.sort_due, d.idx, d.party, d.recipient LIMIT ?`;
      return (this.#list(sql).all(...params, Number.isSafeInteger(q.limit) && q.limit > 0 ? q.limit : 0) as DeliveryRow[]).map(storedDeliveryOf);
    });
  }

  deliveryCounts(at: number): Promise<DeliveryCountRow[]> {
    return this.#run('deliveryCounts', () => {
      const rows = this.#db
        .prepare('SELECT state, settled, overdue, count(*) AS n FROM deliveries INDEXED BY deliveries_by_count WHERE state IS NOT NULL AND judged_at <= ? AND (due_at IS NULL OR due_at >= ?) GROUP BY state, settled, overdue')
        .all(at, at) as { state: string; settled: number; overdue: number; n: number }[];
      return rows.map((r) => ({ state: r.state, settled: r.settled === 1, overdue: r.overdue, n: r.n }));
    });
  }

  escalations(q: { readonly keepSettled?: string } = {}): Promise<EscalationRecord[]> {
    return this.#run('escalations', () => {
      const p = q.keepSettled;
      const rows = (
        p === undefined
          ? this.#stmts.escalations.all()
          : this.#list(`SELECT id, recorded_at, webhook, attempts, next_attempt_at, webhook_state FROM escalations WHERE substr(id, 1, length(?)) = ? OR webhook_state = 'pending' ORDER BY rowid`).all(p, p)
      ) as { id: string; recorded_at: number; webhook: string | null; attempts: number; next_attempt_at: number; webhook_state: WebhookDelivery | 'none' }[];
      return rows.map((r) => ({
        id: r.id,
        recordedAt: r.recorded_at,
        ...(r.webhook !== null && r.webhook_state !== 'none' ? { webhook: { body: r.webhook, attempts: r.attempts, nextAttemptAt: r.next_attempt_at, state: r.webhook_state } } : {}),
      }));
    });
  }

  knownEscalations(ids: readonly string[]): Promise<string[]> {
    return this.#run('knownEscalations', () => {
      const q = this.#list('SELECT 1 FROM escalations WHERE id = ?').pluck();
      return ids.filter((id) => q.get(id) !== undefined);
    });
  }

  updateWebhook(id: string, expectAttempts: number, next: WebhookUpdate): Promise<boolean> {
    return this.#run('updateWebhook', () => {
      if (!Number.isSafeInteger(next.attempts) || next.attempts < expectAttempts) fail('STORE_CONFLICT', `updateWebhook ${id}: attempts ${next.attempts} after ${expectAttempts}`);
      return this.#stmts.updateWebhook.run(next.attempts, Math.floor(next.nextAttemptAt), next.state, id, expectAttempts).changes > 0;
    });
  }

  // ---- Governance tables (migration 10, issue 14).

  accordChain(): Promise<HeldAccordChain | undefined> {
    return this.#run('accordChain', () =>
      this.#db.transaction(() => {
        const head = this.#list('SELECT channel, revision FROM accord_chain WHERE one = 1').get() as { channel: string; revision: number } | undefined;
        if (head === undefined) return undefined;
        const versions = (this.#list('SELECT signed FROM accord_versions ORDER BY version').pluck().all() as string[]).map((t) => JSON.parse(t) as SignedAccord);
        const activations = (this.#list('SELECT party, version, size, suspect_from, entry FROM accord_activations ORDER BY pos').all() as ActivationRow[]).map(activationOf);
        return { channel: head.channel, versions, activations, revision: head.revision };
      })(),
    );
  }

  accordChainRevision(): Promise<number> {
    return this.#run('accordChainRevision', () => (this.#list('SELECT revision FROM accord_chain WHERE one = 1').pluck().get() as number | undefined) ?? 0);
  }

  putAccordChain(chain: StoredAccordChain): Promise<number> {
    return this.#run('putAccordChain', () => {
      const next = checkChain(chain);
      // One IMMEDIATE transaction: the held chain is read under the write lock, so the
      // extends-check and the rewrite cannot interleave with another process's write.
      return this.#db
        .transaction(() => {
          const head = this.#list('SELECT channel, revision FROM accord_chain WHERE one = 1').get() as { channel: string; revision: number } | undefined;
          const held = head && {
            channel: head.channel,
            versions: this.#list('SELECT count(*) FROM accord_versions').pluck().get() as number,
            activations: this.#list('SELECT party, version, size FROM accord_activations').all() as { party: string; version: number; size: number }[],
          };
          checkChainExtends(held, next);
          const revision = (head?.revision ?? 0) + 1;
          this.#list('INSERT INTO accord_chain (one, channel, revision) VALUES (1, ?, ?) ON CONFLICT (one) DO UPDATE SET revision = excluded.revision').run(next.channel, revision);
          this.#list('DELETE FROM accord_versions').run();
          this.#list('DELETE FROM accord_activations').run();
          const version = this.#list('INSERT INTO accord_versions (version, signed) VALUES (?, ?)');
          for (const v of next.versions) version.run(v.version, v.signed);
          const act = this.#list('INSERT INTO accord_activations (party, version, pos, size, suspect_from, entry) VALUES (?, ?, ?, ?, ?, ?)');
          next.activations.forEach((a, i) => act.run(a.party, a.version, i, a.size, a.suspectFrom ?? null, a.entry));
          return revision;
        })
        .immediate();
      // ---- DURABLE from here: COMMIT returned with synchronous=FULL.
    });
  }

  departedLogs(): Promise<StoredDepartedLog[]> {
    return this.#run('departedLogs', () =>
      (this.#list('SELECT party, version, digest, end_size FROM departed_logs ORDER BY party').all() as { party: string; version: number; digest: string; end_size: number }[]).map((r) => ({
        party: r.party,
        version: r.version,
        digest: r.digest,
        end: r.end_size,
      })),
    );
  }

  addDepartedLogs(logs: readonly StoredDepartedLog[]): Promise<string[]> {
    return this.#run('addDepartedLogs', () => {
      logs.forEach(checkDeparted);
      const st = this.#list('INSERT OR IGNORE INTO departed_logs (party, version, digest, end_size) VALUES (?, ?, ?, ?)');
      return this.#db.transaction(() => logs.filter((d) => st.run(d.party, d.version, d.digest, d.end).changes === 1).map((d) => d.party))();
    });
  }

  addAccordForkProof(proof: string, recordedAt: string, maxKept: number): Promise<boolean> {
    return this.#run('addAccordForkProof', () => {
      if (proof.length === 0) fail('STORE_CONFLICT', 'addAccordForkProof: empty proof');
      return this.#db
        .transaction(() => {
          if ((this.#list('SELECT count(*) FROM accord_forks').pluck().get() as number) >= maxKept) return false;
          return this.#list('INSERT OR IGNORE INTO accord_forks (proof, recorded_at) VALUES (?, ?)').run(proof, recordedAt).changes === 1;
        })
        .immediate();
    });
  }

  accordForkProofs(): Promise<string[]> {
    return this.#run('accordForkProofs', () => this.#list('SELECT proof FROM accord_forks ORDER BY seq').pluck().all() as string[]);
  }

  addEvaluationNote(n: EvaluationNote): Promise<boolean> {
    return this.#run('addEvaluationNote', () => {
      checkEvaluationNote(n);
      return (
        this.#list('INSERT OR IGNORE INTO evaluation_notes (party, idx, cosigner, tree_size, cosigned_at, note) VALUES (?, ?, ?, ?, ?, ?)').run(n.party, n.index, n.cosigner, n.treeSize, n.cosignedAt, n.note)
          .changes === 1
      );
    });
  }

  evaluationNotes(party: string, index: number): Promise<EvaluationNote[]> {
    return this.#run('evaluationNotes', () => (this.#list(`${EVALUATION_NOTES} WHERE party = ? AND idx = ? ORDER BY cosigner`).all(party, index) as EvaluationNoteRow[]).map(evaluationNoteOf));
  }

  /** The raw listings of a logical dump (copy.ts, `parley migrate`). */
  dumpTables(): DumpTables {
    const q = <T>(what: string, sql: string, ...params: unknown[]): Promise<T[]> => this.#run(what, () => this.#list(sql).all(...params) as T[]);
    const one = (what: string, sql: string): Promise<number> => this.#run(what, () => this.#list(sql).pluck().get() as number);
    return {
      checkpointsAfter: async (size, limit) =>
        (await q<{ tree_size: number; note: Uint8Array }>('dump', 'SELECT tree_size, note FROM checkpoints WHERE tree_size > ? ORDER BY tree_size LIMIT ?', size, limit)).map((r) => ({ treeSize: r.tree_size, note: bytesOf(r.note) })),
      receivedAfter: async (seq, limit) => (await q<ReceivedRow>('dump', `SELECT ${RECEIVED_COLUMNS} FROM received r ${WITH_TYPE} WHERE r.seq > ? ORDER BY r.seq LIMIT ?`, seq, limit)).map(listingOf),
      mirrorAfter: async (party, index, limit) =>
        (await q<{ party: string; idx: number; leaf_hash: Uint8Array; bytes: Uint8Array }>('dump', 'SELECT party, idx, leaf_hash, bytes FROM mirror WHERE (party, idx) > (?, ?) ORDER BY party, idx LIMIT ?', party, index, limit)).map((r) => ({
          party: r.party,
          entry: { index: r.idx, leafHash: bytesOf(r.leaf_hash), bytes: bytesOf(r.bytes) },
        })),
      countReceived: () => one('dump', 'SELECT count(*) FROM received'),
      countMirror: () => one('dump', 'SELECT count(*) FROM mirror'),
      witnessCosignaturesAfter: async (party, size, limit) =>
        (await q<{ party: string; tree_size: number; note: Uint8Array }>('dump', 'SELECT party, tree_size, note FROM witness_cosignatures WHERE (party, tree_size) > (?, ?) ORDER BY party, tree_size LIMIT ?', party, size, limit)).map((r) => ({
          party: r.party,
          treeSize: r.tree_size,
          note: bytesOf(r.note),
        })),
      countWitnessCosignatures: () => one('dump', 'SELECT count(*) FROM witness_cosignatures'),
      sessions: async () => (await q<SessionRow>('dump', 'SELECT * FROM sessions')).map(sessionOf),
      idempotencyAll: async () => (await q<Parameters<typeof idempotencyRecordOf>[0]>('dump', 'SELECT scope, key, digest, indexes, response, created_at FROM idempotency_keys')).map(idempotencyRecordOf),
      settings: async () => (await q<{ key: string; value: string }>('dump', 'SELECT key, value FROM settings')).map((r) => ({ key: r.key, value: settingOf(r.value) })),
      witnesses: async () => (await q<WitnessRow>('dump', 'SELECT party, tree_size, root_hash, note FROM witness')).map(witnessOf),
      forkProofRows: async () =>
        (await q<{ party: string; view_lo: string; view_hi: string; proof: string; recorded_at: string }>('dump', 'SELECT party, view_lo, view_hi, proof, recorded_at FROM fork_proofs ORDER BY seq')).map((r) => ({
          party: r.party,
          viewLo: r.view_lo,
          viewHi: r.view_hi,
          proof: r.proof,
          recordedAt: r.recorded_at,
        })),
      unverifiedRows: async () =>
        (await q<{ party: string; note: string; kept_at: string; compared_at: string | null; outcome: string | null }>('dump', 'SELECT party, note, kept_at, compared_at, outcome FROM unverified_checkpoints ORDER BY seq')).map((r) => ({
          party: r.party,
          note: r.note,
          keptAt: r.kept_at,
          comparedAt: r.compared_at,
          outcome: r.outcome,
        })),
      cursors: async () =>
        (await q<{ kind: CursorKind; party: string; tree_size: number; frontier: Uint8Array }>('dump', 'SELECT kind, party, tree_size, frontier FROM cursors')).map((r) => {
          const f = bytesOf(r.frontier);
          const frontier: Hash[] = [];
          for (let i = 0; i < f.length; i += HASH_SIZE) frontier.push(f.slice(i, i + HASH_SIZE));
          return { cursorKind: r.kind, party: r.party, cursor: { treeSize: r.tree_size, frontier } };
        }),
      ownCosignedAll: async () =>
        (await q<{ witness: string; tree_size: number; cosigned_at: number | null; note: string }>('dump', 'SELECT witness, tree_size, cosigned_at, note FROM own_cosigned')).map((r) => ({
          witness: r.witness,
          treeSize: r.tree_size,
          ...(r.cosigned_at !== null ? { cosignedAt: r.cosigned_at } : {}),
          note: r.note,
        })),
      cosignedTimesAll: async () =>
        (await q<{ party: string; cosigner: string; tree_size: number; cosigned_at: number }>('dump', 'SELECT party, cosigner, tree_size, cosigned_at FROM cosigned_times')).map((r) => ({
          party: r.party,
          cosigner: r.cosigner,
          treeSize: r.tree_size,
          cosignedAt: r.cosigned_at,
        })),
      accordForkRows: async () => (await q<{ proof: string; recorded_at: string }>('dump', 'SELECT proof, recorded_at FROM accord_forks ORDER BY seq')).map((r) => ({ proof: r.proof, recordedAt: r.recorded_at })),
      evaluationNotesAll: async () => (await q<EvaluationNoteRow>('dump', EVALUATION_NOTES)).map(evaluationNoteOf),
      timestampsAll: async () =>
        (await q<{ party: string; tree_size: number; authority: string; token: Uint8Array; gen_time: number; note: string }>('dump', 'SELECT party, tree_size, authority, token, gen_time, note FROM checkpoint_timestamps')).map((r) => ({
          party: r.party,
          treeSize: r.tree_size,
          authority: r.authority,
          token: new Uint8Array(r.token),
          genTime: r.gen_time,
          note: r.note,
        })),
    };
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

/**
 * The body of a checkpoint note — its text up to and including the line
 * before the blank line — which identifies one view of a log whatever
 * signatures ride with it (the same rule as migration 3's SQL). Empty when
 * the note has no blank line.
 */
function viewOf(note: string): string {
  const i = note.indexOf('\n\n');
  return i < 0 ? '' : note.slice(0, i + 1);
}

const EVALUATION_NOTES = 'SELECT party, idx, cosigner, tree_size, cosigned_at, note FROM evaluation_notes';
type EvaluationNoteRow = { party: string; idx: number; cosigner: string; tree_size: number; cosigned_at: number; note: string };
function evaluationNoteOf(r: EvaluationNoteRow): EvaluationNote {
  return { party: r.party, index: r.idx, cosigner: r.cosigner, treeSize: r.tree_size, cosignedAt: r.cosigned_at, note: r.note };
}
type ActivationRow = { party: string; version: number; size: number; suspect_from: number | null; entry: string };
function activationOf(r: ActivationRow): ChainFileActivation {
  return { party: r.party, version: r.version, size: r.size, ...(r.suspect_from !== null ? { suspectFrom: r.suspect_from } : {}), entry: r.entry };
}

function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    size: p('SELECT coalesce(max(idx) + 1, 0) FROM entries'),
    entryCount: p('SELECT count(*) FROM entries'),
    hashCount: p('SELECT coalesce(max(idx) + 1, 0) FROM hashes'),
    maxCheckpoint: p('SELECT coalesce(max(tree_size), 0) FROM checkpoints'),
    // A type's code is made by its first entry, in that entry's transaction (insert-only table).
    insertType: p('INSERT OR IGNORE INTO entry_types (name) VALUES (?)'),
    insertEntry: p('INSERT INTO entries (idx, bytes, type, incident, meta) VALUES (?, ?, (SELECT code FROM entry_types WHERE name = ?), ?, ?)'),
    insertTo: p('INSERT INTO entry_to (party, idx) VALUES (?, ?)'),
    insertRef: p('INSERT OR IGNORE INTO entry_refs (party, ref_idx, idx) VALUES (?, ?, ?)'),
    insertHash: p('INSERT INTO hashes (idx, hash) VALUES (?, ?)'),
    insertCheckpoint: p('INSERT INTO checkpoints (tree_size, note) VALUES (?, ?)'),
    readHashes: p('SELECT j.value, (SELECT h.hash FROM hashes h WHERE h.idx = j.value) FROM json_each(?) j ORDER BY j.key'),
    entry: p(`SELECT ${OWN_ENTRY} FROM entries e ${WITH_LEAF} WHERE e.idx = ?`),
    entries: p(`SELECT ${OWN_ENTRY} FROM entries e ${WITH_LEAF} WHERE e.idx >= ? AND e.idx < ? ORDER BY e.idx`),
    latestCheckpoint: p('SELECT note FROM checkpoints ORDER BY tree_size DESC LIMIT 1'),
    checkpointAt: p('SELECT note FROM checkpoints WHERE tree_size = ?'),
    receivedHash: p('SELECT leaf_hash FROM received WHERE party = ? AND idx = ?'),
    insertReceived: p(
      // An entry already held (same party and index) is not inserted: its caller compares the hashes (ingest).
      'INSERT INTO received (party, idx, leaf_hash, bytes, type, incident, meta, received_at) VALUES (?, ?, ?, ?, (SELECT code FROM entry_types WHERE name = ?), ?, ?, ?) ON CONFLICT (party, idx) DO NOTHING',
    ),
    received: p(`SELECT ${RECEIVED_COLUMNS} FROM received r ${WITH_TYPE} WHERE r.party = ? AND r.idx = ?`),
    // CROSS JOIN keeps the keys outermost: one probe of UNIQUE (party, idx) per key.
    receivedMany: p(
      `SELECT ${RECEIVED_COLUMNS} FROM json_each(?) k CROSS JOIN received r ${WITH_TYPE} WHERE r.party = json_extract(k.value, '$[0]') AND r.idx = json_extract(k.value, '$[1]')`,
    ),
    referencing: p(`SELECT ${OWN_ENTRY} FROM entry_refs r JOIN entries e ON e.idx = r.idx ${WITH_LEAF} WHERE r.party = ? AND r.ref_idx = ? ORDER BY e.idx`),
    highestReceived: p('SELECT max(idx) FROM received WHERE party = ?'),
    mirrorHash: p('SELECT leaf_hash FROM mirror WHERE party = ? AND idx = ?'),
    insertMirror: p('INSERT INTO mirror (party, idx, leaf_hash, bytes) VALUES (?, ?, ?, ?)'),
    // Received and mirrored entries are disjoint by construction (mirror() skips what is received); UNION ALL, in index order.
    mirrored: p(
      `SELECT idx, leaf_hash, bytes FROM (
         SELECT idx, leaf_hash, bytes FROM received WHERE party = @party AND idx >= @from AND idx < @to
         UNION ALL
         SELECT idx, leaf_hash, bytes FROM mirror WHERE party = @party AND idx >= @from AND idx < @to
       ) ORDER BY idx`,
    ),
    // Distinct indexes held in a range (UNION, not UNION ALL: an index held in both counts once); index-only reads.
    heldCount: p(
      `SELECT count(*) FROM (
         SELECT idx FROM received WHERE party = @party AND idx >= @from AND idx < @to
         UNION
         SELECT idx FROM mirror WHERE party = @party AND idx >= @from AND idx < @to
       )`,
    ),
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
    insertIdempotency: p('INSERT OR IGNORE INTO idempotency_keys (scope, key, digest, indexes, response, created_at) VALUES (?, ?, ?, ?, ?, ?)'),
    idempotencyRecord: p('SELECT scope, key, digest, indexes, response, created_at FROM idempotency_keys WHERE scope = ? AND key = ?'),
    pruneIdempotency: p('DELETE FROM idempotency_keys WHERE created_at < ?'),
    putNonce: p(
      `INSERT INTO request_nonces (key, expires) VALUES (?, ?)
       ON CONFLICT (key) DO UPDATE SET expires = excluded.expires WHERE request_nonces.expires < ?`,
    ),
    liveNonces: p('SELECT key, expires FROM request_nonces WHERE expires >= ? ORDER BY expires'),
    getSetting: p('SELECT value FROM settings WHERE key = ?'),
    putSetting: p('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value'),
    deleteSetting: p('DELETE FROM settings WHERE key = ?'),
    cursor: p('SELECT tree_size, frontier FROM cursors WHERE kind = ? AND party = ?'),
    // Forward only: a row is replaced by a strictly larger size (the WHERE of the upsert).
    advanceCursor: p(
      `INSERT INTO cursors (kind, party, tree_size, frontier) VALUES (?, ?, ?, ?)
       ON CONFLICT (kind, party) DO UPDATE SET tree_size = excluded.tree_size, frontier = excluded.frontier
       WHERE excluded.tree_size > cursors.tree_size`,
    ),
    ownCosigned: p('SELECT tree_size, cosigned_at, note FROM own_cosigned WHERE witness = ?'),
    // Newer only: a larger size, or the same size cosigned later (an unknown time is older than any).
    advanceOwnCosigned: p(
      `INSERT INTO own_cosigned (witness, tree_size, cosigned_at, note) VALUES (?, ?, ?, ?)
       ON CONFLICT (witness) DO UPDATE SET tree_size = excluded.tree_size, cosigned_at = excluded.cosigned_at, note = excluded.note
       WHERE excluded.tree_size > own_cosigned.tree_size
          OR (excluded.tree_size = own_cosigned.tree_size AND coalesce(excluded.cosigned_at, -1) > coalesce(own_cosigned.cosigned_at, -1))`,
    ),
    addCosignedTime: p('INSERT OR IGNORE INTO cosigned_times (party, cosigner, tree_size, cosigned_at) VALUES (?, ?, ?, ?)'),
    // Per cosigner the `limit` largest sizes (-1: all), ascending.
    cosignedTimes: p(
      `SELECT cosigner, tree_size, cosigned_at FROM (
         SELECT cosigner, tree_size, cosigned_at, row_number() OVER (PARTITION BY cosigner ORDER BY tree_size DESC) AS n
         FROM cosigned_times WHERE party = @party)
       WHERE @limit < 0 OR n <= @limit ORDER BY cosigner, tree_size`,
    ),
    addTimestamp: p('INSERT OR IGNORE INTO checkpoint_timestamps (party, tree_size, authority, token, gen_time, note) VALUES (?, ?, ?, ?, ?, ?)'),
    timestamps: p(
      `SELECT tree_size, authority, token, gen_time, note FROM checkpoint_timestamps
       WHERE party = @party AND tree_size BETWEEN @lo AND @hi ORDER BY tree_size, authority LIMIT @limit`,
    ),
    latestTimestamped: p('SELECT max(tree_size) FROM checkpoint_timestamps WHERE party = ?'),
    recordEscalation: p(
      `INSERT OR IGNORE INTO escalations (id, recorded_at, webhook, attempts, next_attempt_at, webhook_state) VALUES (?, ?, ?, 0, ?, ?)`,
    ),
    escalations: p('SELECT id, recorded_at, webhook, attempts, next_attempt_at, webhook_state FROM escalations ORDER BY rowid'),
    updateWebhook: p(
      `UPDATE escalations SET attempts = ?, next_attempt_at = ?, webhook_state = ?
       WHERE id = ? AND attempts = ? AND webhook_state = 'pending'`,
    ),
    witness: p('SELECT party, tree_size, root_hash, note FROM witness WHERE party = ?'),
    addForkProof: p('INSERT OR IGNORE INTO fork_proofs (party, view_lo, view_hi, proof, recorded_at) VALUES (?, ?, ?, ?, ?)'),
    forkProofs: p('SELECT party, proof, recorded_at FROM fork_proofs ORDER BY seq'),
    forkProofsOf: p('SELECT party, proof, recorded_at FROM fork_proofs WHERE party = ? ORDER BY seq'),
    pendingCount: p('SELECT count(*) FROM unverified_checkpoints WHERE party = ? AND compared_at IS NULL'),
    addUnverified: p('INSERT OR IGNORE INTO unverified_checkpoints (party, note, kept_at) VALUES (?, ?, ?)'),
    pending: p('SELECT note FROM unverified_checkpoints WHERE party = ? AND compared_at IS NULL ORDER BY seq'),
    markCompared: p('UPDATE unverified_checkpoints SET compared_at = ?, outcome = ? WHERE party = ? AND note = ? AND compared_at IS NULL'),
    witnessSize: p('SELECT tree_size FROM witness WHERE party = ?'),
    addWitnessCosignature: p('INSERT OR IGNORE INTO witness_cosignatures (party, tree_size, note) VALUES (?, ?, ?)'),
    witnessCosignatures: p('SELECT tree_size, note FROM witness_cosignatures WHERE party = ? AND tree_size > ? ORDER BY tree_size LIMIT ?'),
    putWitness: p(
      `INSERT INTO witness (party, tree_size, root_hash, note) VALUES (@party, @tree_size, @root_hash, @note)
       ON CONFLICT (party) DO UPDATE SET tree_size = excluded.tree_size,
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
  if (!(b.prevRoot instanceof Uint8Array) || b.prevRoot.length !== HASH_SIZE) bad('prevRoot is not a 32-byte hash');
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

