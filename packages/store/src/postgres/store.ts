/**
 * The LogStore on PostgreSQL (issue 14), through `pg` with a pool.
 *
 * Contracts, and how they hold here:
 * - Atomicity: every multi-row write is one transaction (BEGIN … COMMIT on
 *   one pooled connection); any error rolls it back.
 * - Durability on return: every connection runs with
 *   `synchronous_commit = on` (set per connection, whatever the server's
 *   default), so COMMIT returns after the WAL is flushed.
 * - Read-after-write: READ COMMITTED; a read issued after a write resolved
 *   runs after its COMMIT.
 * - Writes issued without awaiting each other apply in issue order: writes
 *   of one PgStore go through one queue (reads do not wait for it).
 * - Several processes on one database: `appendBatch` locks the one row of
 *   `append_head` FOR UPDATE, so appenders serialize, and under that lock
 *   checks the conditional append (first index = tree size, prevRoot = the
 *   root recomputed from the stored hashes): exactly one of two racing
 *   writers wins, the other gets STORE_CONFLICT having written nothing.
 *   Compare-and-set writes are single statements (INSERT … ON CONFLICT DO
 *   UPDATE … WHERE, UPDATE … WHERE), atomic across processes.
 * - Typed errors: errors.ts; connection refused → STORE_UNAVAILABLE.
 *
 * BIGINT columns are parsed to JS numbers (all sizes and indexes are below
 * 2^53); BYTEA comes back as Buffer and is handed out as plain Uint8Array.
 * Batched inserts use unnest() of arrays: one statement per table per batch.
 */
import pg from 'pg';
import { bytesEqual, fail, Frontier, frontierIndexes, type Hash, HASH_SIZE, type SignedAccord, storedHashCount, storedHashIndex } from '@parley/core';
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
  ListQuery,
  LogStore,
  MirroredEntry,
  NewEscalation,
  NewForkProof,
  Officer,
  OwnCosigned,
  OwnEntry,
  ReceivedEntry,
  ReceivedKey,
  ReceivedListing,
  Session,
  StoredForkProof,
  WebhookDelivery,
  WebhookUpdate,
  WitnessCosignature,
  WitnessState,
  EvaluationNote,
  HeldAccordChain,
  StoredAccordChain,
  StoredDepartedLog,
  IdempotencyRecord,
} from '../types.js';
import { checkChain, checkChainExtends, checkDeparted, checkEvaluationNote, checkWitnessCosignatures } from '../governanceRows.js';
import { checkIdempotencyRecords, idempotencyRecordOf } from '../idempotency.js';
import { type DeliveryRow, DELIVERY_COLUMNS, DELIVERY_JOINS, storedDeliveryOf } from '../deliveryRows.js';
import type { MigrationStep } from '../sqlite/store.js';
import type { DumpTables } from '../copy.js';
import { HashCache } from '../sqlite/hashCache.js';
import { rethrowPgError, toPgStoreError } from './errors.js';
import { migratePg, PG_SCHEMA_VERSION, pgSchemaVersion } from './schema.js';
import { bytes, type EntryRow, listingOf, metaColumns, officerOf, ownEntryOf, receivedOf, type ReceivedRow, settingOf } from './rows.js';

export interface PgStoreOptions {
  /** Told before each pending migration runs (and once more when all have). */
  readonly onMigrate?: (s: MigrationStep) => void;
  /** Pool size (default 10). */
  readonly max?: number;
  /** How long to wait for a connection before STORE_UNAVAILABLE (ms, default 10000). */
  readonly connectTimeoutMs?: number;
  /** Read only: no migrations (the schema must be current), every transaction READ ONLY; writes reject with STORE_UNAVAILABLE. */
  readonly readonly?: boolean;
}

/**
 * How long a connection may sit inside an open transaction without sending
 * anything before PostgreSQL ends it (idle_in_transaction_session_timeout),
 * rolling the transaction back. Our transactions send their statements back
 * to back; one that falls silent belongs to a process that hung (SIGSTOP, a
 * frozen VM) mid-append — its row locks would otherwise block the party's
 * next sequencer, which takes over after the same silence on the lock
 * session (sequencer.ts LOCK_IDLE_TIMEOUT_MS), forever.
 */
export const IDLE_IN_TRANSACTION_MS = 5_000;

const INT8_OID = 20;
/** BIGINT → number, checked: a value beyond 2^53 would be silently rounded. */
function parseInt8(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new RangeError(`BIGINT ${v} is not a safe integer`);
  return n;
}
const TYPES = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === INT8_OID && format !== 'binary') return parseInt8;
    return pg.types.getTypeParser(oid, format);
  },
} as pg.CustomTypesConfig;

const META = 'type, sender, officer, recipients, time, precedence, marking, incident, refs';
const ENTRY_COLUMNS = `idx, leaf_hash, bytes, ${META}`;
const RECEIVED_COLUMNS = `seq, party, idx, leaf_hash, bytes, ${META}, received_at`;
const META_TYPES = 'text[], text[], text[], text[], text[], text[], text[], text[], text[]';

/** Whether `spec` names a PostgreSQL database (`postgres://` or `postgresql://`). */
export function isPostgresUrl(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}

/** The URL with its password (if any) replaced, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

/** A queue of writes: the tail each new write starts after. */
interface WriteQueue {
  tail: Promise<unknown>;
}

export class PgStore implements LogStore {
  readonly url: string;
  /** The pool, for the node's sequencer election / LISTEN-NOTIFY. */
  readonly pool: pg.Pool;
  readonly #cache = new HashCache();
  /** The tail of the write queue: each write starts after the previous one settled. */
  readonly #writes: WriteQueue = { tail: Promise.resolve() };
  /**
   * The tail of the deadline bookkeeping's own write queue (the tracker's and
   * watcher's filings, judgements, escalations, webhook state): serialized
   * among themselves, not behind or ahead of the log's writes, which they
   * never depend on (they read committed rows). The trackers of two processes
   * file the same rows, so a filing may wait for the other process's row
   * locks: in the one queue every nonce, ingest and append of the process
   * waited behind it (issue 14's soak: EU's pushes timed out for minutes).
   */
  readonly #deadlineWrites: WriteQueue = { tail: Promise.resolve() };
  #closed = false;

  private constructor(url: string, pool: pg.Pool) {
    this.url = url;
    this.pool = pool;
  }

  /**
   * Connects to `url`, runs pending migrations (under an advisory lock), and
   * checks the log's layout.
   * @throws StoreError `STORE_UNAVAILABLE` (unreachable, newer schema),
   *   `STORE_CORRUPT` (entries, hashes and checkpoints disagree).
   */
  static async open(url: string, opts: PgStoreOptions = {}): Promise<PgStore> {
    if (!isPostgresUrl(url)) fail('STORE_UNAVAILABLE', `not a postgres:// URL: ${redactUrl(url)}`);
    const pool = new pg.Pool({
      connectionString: url,
      max: Math.max(1, Math.floor(opts.max ?? 10)),
      connectionTimeoutMillis: opts.connectTimeoutMs ?? 10_000,
      options: `-c synchronous_commit=on -c client_min_messages=warning -c idle_in_transaction_session_timeout=${IDLE_IN_TRANSACTION_MS}${opts.readonly === true ? ' -c default_transaction_read_only=on' : ''}`,
      types: TYPES,
    });
    // An idle connection that dies (server restart) must not crash the process: the next query reports it.
    pool.on('error', () => undefined);
    const store = new PgStore(url, pool);
    try {
      const c = await pool.connect();
      const swallow = () => undefined; // a connection lost mid-migration fails its next query, reported below
      c.on('error', swallow);
      try {
        if (opts.readonly === true) {
          const v = await pgSchemaVersion(c);
          if (v !== PG_SCHEMA_VERSION) fail('STORE_UNAVAILABLE', `read-only database has schema version ${v}, this code needs ${PG_SCHEMA_VERSION}`);
        } else {
          await migratePg(c, undefined, opts.onMigrate);
        }
      } finally {
        c.removeListener('error', swallow);
        c.release();
      }
      await store.#checkLayout();
      return store;
    } catch (e) {
      await pool.end().catch(() => undefined);
      return rethrowPgError(e, `open ${redactUrl(url)}`);
    }
  }

  async #checkLayout(): Promise<void> {
    const r = await this.pool.query(`SELECT
      (SELECT coalesce(max(idx) + 1, 0) FROM entries) AS n,
      (SELECT coalesce(max(idx) + 1, 0) FROM hashes) AS hashes,
      (SELECT coalesce(max(tree_size), 0) FROM checkpoints) AS cp`);
    const { n, hashes, cp } = r.rows[0] as { n: number; hashes: number; cp: number };
    if (hashes !== storedHashCount(n) || cp !== n) fail('STORE_CORRUPT', `log layout inconsistent: entries up to ${n}, ${hashes} hashes, checkpoint at ${cp}`);
  }

  /** A read: runs at once on any pooled connection. */
  async #read<T>(what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) fail('STORE_UNAVAILABLE', `${what}: store is closed`);
    try {
      return await fn();
    } catch (e) {
      throw toPgStoreError(e, what);
    }
  }

  /** A write: queued behind the writes issued before it, so writes apply in issue order. */
  #write<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return this.#enqueue(this.#writes, what, fn);
  }

  /** A write of the deadline bookkeeping: in issue order among those only ({@link #deadlineWrites}). */
  #writeDeadlines<T>(what: string, fn: () => Promise<T>): Promise<T> {
    return this.#enqueue(this.#deadlineWrites, what, fn);
  }

  /** Runs `fn` on `queue` once every write issued on it before has settled. */
  #enqueue<T>(queue: WriteQueue, what: string, fn: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(toPgStoreError(new StoreClosed(), what));
    const run = queue.tail.then(async () => {
      try {
        return await fn();
      } catch (e) {
        throw toPgStoreError(e, what);
      }
    });
    queue.tail = run.catch(() => undefined);
    return run;
  }

  /** Runs `fn` in one transaction on one connection. */
  async #tx<T>(fn: (c: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
    const c = await this.pool.connect();
    // A connection killed while checked out but between queries (server restart, failover,
    // pg_terminate_backend) emits 'error' on the client: without a listener that is an
    // uncaught exception that ends the process. The next query on it fails, which we report.
    let lost: unknown;
    const onError = (e: unknown) => (lost = e);
    c.on('error', onError);
    let broken = false;
    try {
      // `begin` may add statements to the BEGIN (no parameters): one round trip for both.
      await c.query(begin);
      const out = await fn(c);
      await c.query('COMMIT');
      // ---- DURABLE from here: COMMIT returned with synchronous_commit=on.
      return out;
    } catch (e) {
      try {
        await c.query('ROLLBACK');
      } catch {
        broken = true;
      }
      throw e;
    } finally {
      c.removeListener('error', onError);
      c.release(broken || lost !== undefined ? true : undefined);
    }
  }

  treeSize(): Promise<number> {
    return this.#read('treeSize', async () => (await this.pool.query('SELECT coalesce(max(idx) + 1, 0) AS n FROM entries')).rows[0].n as number);
  }

  appendBatch(batch: AppendBatch): Promise<void> {
    return this.#write('appendBatch', async () => {
      checkBatchShape(batch);
      checkIdempotencyRecords(batch);
      const first = batch.entries[0]!.index;
      // Commit order — one transaction, four round trips (each one costs the batch a wait while
      // the previous commit's fsync is not the bottleneck; issue 14):
      //   1. BEGIN and lock append_head (appenders in every process wait here), one simple query;
      //   2. read the size, the stored hash count and the frontier hashes at the batch's first
      //      index, one query (taken after the lock: the snapshot sees every committed batch);
      //      the batch must start at the size (else STORE_CONFLICT), the hashes must end at
      //      storedHashCount(size) (else STORE_CORRUPT), and the root recomputed from the
      //      frontier hashes must equal batch.prevRoot (else STORE_CONFLICT);
      //   3. insert entries, recipients, refs, hashes and the checkpoint in ONE statement;
      //      then the received entries and the idempotency records, if any (a key already
      //      held: STORE_CONFLICT);
      //   4. COMMIT.
      await this.#tx(async (c) => {
        const r = await c.query(
          `SELECT (SELECT coalesce(max(idx) + 1, 0) FROM entries) AS n, (SELECT coalesce(max(idx) + 1, 0) FROM hashes) AS h,
             (SELECT array_agg(h.hash ORDER BY k.ord) FROM unnest($1::bigint[]) WITH ORDINALITY AS k(idx, ord) LEFT JOIN hashes h ON h.idx = k.idx) AS f`,
          [frontierIndexes(first)],
        );
        const { n, h, f } = r.rows[0] as { n: number; h: number; f: (Buffer | null)[] | null };
        if (first !== n) fail('STORE_CONFLICT', `batch starts at ${first} but the log has ${n} entries`);
        if (h !== storedHashCount(n)) fail('STORE_CORRUPT', `log of size ${n} has ${h} stored hashes`);
        const root = n === 0 ? Frontier.empty().root() : Frontier.restore(n, frontierHashes(frontierIndexes(n), f ?? [])).root();
        if (!bytesEqual(root, batch.prevRoot)) fail('STORE_CONFLICT', `batch expects another log: its previous root differs from the stored root at size ${n}`);
        await insertBatch(c, batch);
        if (batch.received !== undefined && batch.received.length > 0) await ingestOn(c, batch.received);
        for (const r of batch.idempotency ?? []) {
          const ins = await c.query('INSERT INTO idempotency_keys (scope, key, digest, indexes, response, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING', [r.scope, r.key, r.digest, JSON.stringify(r.indexes), r.response, r.createdAt]);
          if (ins.rowCount !== 1) fail('STORE_CONFLICT', `idempotency key ${JSON.stringify(r.key)} of ${r.scope} is already held: the write it names was logged before`);
        }
      }, 'BEGIN; SELECT one FROM append_head FOR UPDATE');
    });
  }

  idempotencyRecord(scope: string, key: string): Promise<IdempotencyRecord | undefined> {
    return this.#read('idempotencyRecord', async () => {
      const r = await this.pool.query('SELECT scope, key, digest, indexes, response, created_at FROM idempotency_keys WHERE scope = $1 AND key = $2', [scope, key]);
      return r.rows[0] && idempotencyRecordOf(r.rows[0]);
    });
  }

  pruneIdempotency(before: number): Promise<number> {
    return this.#write('pruneIdempotency', async () => (await this.pool.query('DELETE FROM idempotency_keys WHERE created_at < $1', [Math.floor(before)])).rowCount ?? 0);
  }

  readHashes(indexes: readonly number[]): Promise<Hash[]> {
    return this.#read('readHashes', async () => {
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
      const got = await readHashesOn(this.pool, missing.map((i) => indexes[i]!));
      missing.forEach((i, k) => {
        this.#cache.put(indexes[i]!, got[k]!);
        out[i] = got[k]!;
      });
      return out;
    });
  }

  entry(index: number): Promise<OwnEntry | undefined> {
    return this.#read('entry', async () => {
      if (!isIndex(index)) return undefined;
      const r = await this.pool.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE idx = $1`, [index]);
      return r.rows[0] && ownEntryOf(r.rows[0]);
    });
  }

  entries(from: number, to: number): Promise<OwnEntry[]> {
    return this.#read('entries', async () => {
      const range = indexRange(from, to);
      if (range === undefined) return [];
      return (await this.pool.query<EntryRow>(`SELECT ${ENTRY_COLUMNS} FROM entries WHERE idx >= $1 AND idx < $2 ORDER BY idx`, range)).rows.map(ownEntryOf);
    });
  }

  latestCheckpoint(): Promise<Uint8Array | undefined> {
    return this.#read('latestCheckpoint', async () => {
      const r = await this.pool.query('SELECT note FROM checkpoints ORDER BY tree_size DESC LIMIT 1');
      return r.rows[0] && bytes(r.rows[0].note);
    });
  }

  checkpointAt(treeSize: number): Promise<Uint8Array | undefined> {
    return this.#read('checkpointAt', async () => {
      if (!Number.isSafeInteger(treeSize)) return undefined;
      const r = await this.pool.query('SELECT note FROM checkpoints WHERE tree_size = $1', [treeSize]);
      return r.rows[0] && bytes(r.rows[0].note);
    });
  }

  outbox(q: ListQuery): Promise<OwnEntry[]> {
    return this.#read('outbox', async () => {
      const where: string[] = [];
      const params: unknown[] = [];
      const p = (v: unknown) => (params.push(v), `$${params.length}`);
      const from = q.party === undefined ? 'entries e' : 'entry_to t JOIN entries e ON e.idx = t.idx';
      if (q.party !== undefined) where.push(`t.party = ${p(q.party)}`);
      if (q.type !== undefined) where.push(`e.type = ${p(q.type)}`);
      if (q.excludeTypes !== undefined && q.excludeTypes.length > 0) where.push(`NOT (e.type = ANY(${p(q.excludeTypes)}::text[]))`);
      if (q.incident !== undefined) where.push(`e.incident = ${p(q.incident)}`);
      if (q.before !== undefined) where.push(`e.idx < ${p(q.before)}`);
      const sql = `SELECT e.* FROM ${from} ${whereClause(where)} ORDER BY e.idx DESC LIMIT ${p(limitOf(q))}`;
      return (await this.pool.query<EntryRow>(sql, params)).rows.map(ownEntryOf);
    });
  }

  ingest(entries: readonly ReceivedEntry[]): Promise<number> {
    if (entries.length === 0) return this.#read('ingest', async () => 0);
    return this.#write('ingest', () =>
      this.#tx(async (c) => {
        // Received rows are numbered (seq) and committed in one order across every process of the
        // party: an ingest holds the append lock, as appendBatch does before its received rows.
        // Readers that follow seq as a cursor (the deadline tracker, the incident index) would
        // otherwise skip for ever a row numbered below one that committed first (issue 14).
        await c.query('SELECT one FROM append_head FOR UPDATE');
        return ingestOn(c, entries);
      }),
    );
  }

  received(party: string, index: number): Promise<ReceivedEntry | undefined> {
    return this.#read('received', async () => {
      if (!isIndex(index)) return undefined;
      const r = await this.pool.query<ReceivedRow>(`SELECT ${RECEIVED_COLUMNS} FROM received WHERE party = $1 AND idx = $2`, [party, index]);
      return r.rows[0] && receivedOf(r.rows[0]);
    });
  }

  receivedMany(keys: readonly ReceivedKey[]): Promise<(ReceivedEntry | undefined)[]> {
    return this.#read('receivedMany', async () => {
      const asked = keys.filter((k) => isIndex(k.index));
      if (asked.length === 0) return keys.map(() => undefined);
      // One query: the keys go in as two arrays, joined on the (party, idx) key.
      const r = await this.pool.query<ReceivedRow>(
        `SELECT ${RECEIVED_COLUMNS} FROM received WHERE (party, idx) IN (SELECT * FROM unnest($1::text[], $2::bigint[]))`,
        [asked.map((k) => k.party), asked.map((k) => k.index)],
      );
      const held = new Map<string, ReceivedEntry>();
      for (const row of r.rows) {
        const e = receivedOf(row);
        held.set(`${e.party}\u0000${e.index}`, e);
      }
      return keys.map((k) => held.get(`${k.party}\u0000${k.index}`));
    });
  }

  inbox(q: ListQuery): Promise<ReceivedListing[]> {
    return this.#read('inbox', async () => {
      const where: string[] = [];
      const params: unknown[] = [];
      const p = (v: unknown) => (params.push(v), `$${params.length}`);
      if (q.party !== undefined) where.push(`party = ${p(q.party)}`);
      if (q.type !== undefined) where.push(`type = ${p(q.type)}`);
      if (q.excludeTypes !== undefined && q.excludeTypes.length > 0) where.push(`NOT (type = ANY(${p(q.excludeTypes)}::text[]))`);
      if (q.incident !== undefined) where.push(`incident = ${p(q.incident)}`);
      if (q.before !== undefined) where.push(`seq < ${p(q.before)}`);
      if (q.after !== undefined) where.push(`seq > ${p(q.after)}`);
      const sql = `SELECT ${RECEIVED_COLUMNS} FROM received ${whereClause(where)} ORDER BY seq ${q.after !== undefined ? 'ASC' : 'DESC'} LIMIT ${p(limitOf(q))}`;
      return (await this.pool.query<ReceivedRow>(sql, params)).rows.map(listingOf);
    });
  }

  referencing(party: string, index: number): Promise<OwnEntry[]> {
    return this.#read('referencing', async () =>
      !isIndex(index) ? [] : (await this.pool.query<EntryRow>(`SELECT e.* FROM entry_refs r JOIN entries e ON e.idx = r.idx WHERE r.party = $1 AND r.ref_idx = $2 ORDER BY e.idx`, [party, index])).rows.map(ownEntryOf),
    );
  }

  highestReceived(party: string): Promise<number> {
    return this.#read('highestReceived', async () => ((await this.pool.query('SELECT max(idx) AS m FROM received WHERE party = $1', [party])).rows[0].m as number | null) ?? -1);
  }

  mirror(party: string, entries: readonly MirroredEntry[]): Promise<number> {
    if (entries.length === 0) return this.#read('mirror', async () => 0);
    return this.#write('mirror', () =>
      this.#tx(async (c) => {
        const fresh = dedupe(entries.map((e) => ({ party, index: e.index, leafHash: e.leafHash, row: e })));
        const idx = fresh.map((e) => e.index);
        const held = await c.query<{ idx: number; leaf_hash: Buffer }>(
          `SELECT idx, leaf_hash FROM received WHERE party = $1 AND idx = ANY($2::bigint[])
           UNION ALL SELECT idx, leaf_hash FROM mirror WHERE party = $1 AND idx = ANY($2::bigint[])`,
          [party, idx],
        );
        const heldBy = new Map<number, Buffer>();
        for (const r of held.rows) heldBy.set(r.idx, r.leaf_hash);
        const add: MirroredEntry[] = [];
        for (const e of fresh) {
          const h = heldBy.get(e.index);
          if (h !== undefined) {
            if (!bytesEqual(h, e.leafHash)) fail('STORE_CONFLICT', `entry ${e.index} of ${party} is already held with a different hash`);
            continue;
          }
          add.push(e.row);
        }
        if (add.length === 0) return 0;
        const r = await c.query(
          `INSERT INTO mirror (party, idx, leaf_hash, bytes) SELECT $1, * FROM unnest($2::bigint[], $3::bytea[], $4::bytea[]) ON CONFLICT DO NOTHING RETURNING idx`,
          [party, add.map((e) => e.index), add.map((e) => e.leafHash), add.map((e) => e.bytes)],
        );
        if (r.rowCount === add.length) return add.length;
        // Stored by another process meanwhile (visible now): a duplicate if the hash is the same, else a fork.
        const inserted = new Set(r.rows.map((x: { idx: number }) => x.idx));
        const rest = add.filter((e) => !inserted.has(e.index));
        const now = await c.query<{ idx: number; leaf_hash: Buffer }>('SELECT idx, leaf_hash FROM mirror WHERE party = $1 AND idx = ANY($2::bigint[])', [party, rest.map((e) => e.index)]);
        const nowBy = new Map(now.rows.map((x) => [x.idx, x.leaf_hash]));
        for (const e of rest) {
          const h = nowBy.get(e.index);
          if (h === undefined || !bytesEqual(h, e.leafHash)) fail('STORE_CONFLICT', `entry ${e.index} of ${party} is already held with a different hash`);
        }
        return inserted.size;
      }),
    );
  }

  mirrored(party: string, from: number, to: number): Promise<MirroredEntry[]> {
    return this.#read('mirrored', async () => {
      const range = indexRange(from, to);
      if (range === undefined) return [];
      [from, to] = range;
      const r = await this.pool.query<{ idx: number; leaf_hash: Buffer; bytes: Buffer }>(
        `SELECT idx, leaf_hash, bytes FROM (
           SELECT idx, leaf_hash, bytes FROM received WHERE party = $1 AND idx >= $2 AND idx < $3
           UNION ALL
           SELECT idx, leaf_hash, bytes FROM mirror WHERE party = $1 AND idx >= $2 AND idx < $3
         ) u ORDER BY idx`,
        [party, from, to],
      );
      const out: MirroredEntry[] = [];
      for (const row of r.rows) {
        if (out.length > 0 && row.idx === out[out.length - 1]!.index) continue;
        if (row.idx !== from + out.length) break;
        out.push({ index: row.idx, leafHash: bytes(row.leaf_hash), bytes: bytes(row.bytes) });
      }
      return out;
    });
  }

  heldCount(party: string, from: number, to: number): Promise<number> {
    return this.#read('heldCount', async () => {
      const range = indexRange(from, to);
      if (range === undefined) return 0;
      [from, to] = range;
      const r = await this.pool.query(
        `SELECT count(*) AS n FROM (
           SELECT idx FROM received WHERE party = $1 AND idx >= $2 AND idx < $3
           UNION
           SELECT idx FROM mirror WHERE party = $1 AND idx >= $2 AND idx < $3) u`,
        [party, from, to],
      );
      return r.rows[0].n as number;
    });
  }

  putOfficer(o: Officer): Promise<void> {
    return this.#write('putOfficer', async () => {
      await this.pool.query(
        `INSERT INTO officers (name, role, password_hash, created, disabled) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash,
           created = excluded.created, disabled = excluded.disabled`,
        [o.name, o.role, o.passwordHash, o.created, o.disabled],
      );
    });
  }

  officer(name: string): Promise<Officer | undefined> {
    return this.#read('officer', async () => {
      const r = await this.pool.query('SELECT * FROM officers WHERE name = $1', [name]);
      return r.rows[0] && officerOf(r.rows[0]);
    });
  }

  officers(): Promise<Officer[]> {
    return this.#read('officers', async () => (await this.pool.query('SELECT * FROM officers ORDER BY name COLLATE "C"')).rows.map(officerOf));
  }

  putSession(s: Session): Promise<void> {
    return this.#write('putSession', async () => {
      await this.pool.query(
        `INSERT INTO sessions (token_hash, officer, created, expires) VALUES ($1, $2, $3, $4)
         ON CONFLICT (token_hash) DO UPDATE SET officer = excluded.officer, created = excluded.created, expires = excluded.expires`,
        [s.tokenHash, s.officer, s.created, s.expires],
      );
    });
  }

  session(tokenHash: string): Promise<Session | undefined> {
    return this.#read('session', async () => {
      const r = await this.pool.query('SELECT token_hash, officer, created, expires FROM sessions WHERE token_hash = $1', [tokenHash]);
      const row = r.rows[0];
      return row && { tokenHash: row.token_hash, officer: row.officer, created: row.created, expires: row.expires };
    });
  }

  deleteSession(tokenHash: string): Promise<void> {
    return this.#write('deleteSession', async () => {
      await this.pool.query('DELETE FROM sessions WHERE token_hash = $1', [tokenHash]);
    });
  }

  deleteOfficerSessions(officer: string, keepTokenHash?: string): Promise<number> {
    return this.#write('deleteOfficerSessions', async () => (await this.pool.query('DELETE FROM sessions WHERE officer = $1 AND token_hash IS DISTINCT FROM $2', [officer, keepTokenHash ?? null])).rowCount ?? 0);
  }

  rememberNonce(key: string, expiresAt: number, now: number): Promise<boolean> {
    return this.#write('rememberNonce', async () => {
      if (key.length === 0 || key.length > 64 || !Number.isSafeInteger(expiresAt) || expiresAt < 0) fail('STORE_CONFLICT', 'rememberNonce: bad key or expiry');
      const t = Math.floor(now);
      return this.#tx(async (c) => {
        await c.query('DELETE FROM request_nonces WHERE expires < $1', [t]);
        const r = await c.query(
          `INSERT INTO request_nonces (key, expires) VALUES ($1, $2)
           ON CONFLICT (key) DO UPDATE SET expires = excluded.expires WHERE request_nonces.expires < $3`,
          [key, expiresAt, t],
        );
        return r.rowCount === 1;
      });
    });
  }

  liveNonces(now: number): Promise<{ key: string; expiresAt: number }[]> {
    return this.#read('liveNonces', async () =>
      (await this.pool.query('SELECT key, expires FROM request_nonces WHERE expires >= $1 ORDER BY expires, key', [Math.floor(now)])).rows.map((r) => ({ key: r.key as string, expiresAt: r.expires as number })),
    );
  }

  getSetting(key: string): Promise<unknown> {
    return this.#read('getSetting', async () => {
      const r = await this.pool.query('SELECT value FROM settings WHERE key = $1', [key]);
      return r.rows[0] === undefined ? undefined : settingOf(r.rows[0].value);
    });
  }

  /** Stores `value` as JSON; `undefined` removes the setting. */
  putSetting(key: string, value: unknown): Promise<void> {
    return this.#write('putSetting', async () => {
      const json = JSON.stringify(value) as string | undefined;
      if (json === undefined) await this.pool.query('DELETE FROM settings WHERE key = $1', [key]);
      else await this.pool.query('INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, json]);
    });
  }

  witnessState(party: string): Promise<WitnessState | undefined> {
    return this.#read('witnessState', async () => {
      const r = await this.pool.query('SELECT party, tree_size, root_hash, note FROM witness WHERE party = $1', [party]);
      const row = r.rows[0];
      if (!row) return undefined;
      if (row.root_hash.length !== HASH_SIZE) fail('STORE_CORRUPT', 'stored witness root hash is not 32 bytes');
      return { party: row.party, treeSize: row.tree_size, rootHash: bytes(row.root_hash), note: bytes(row.note) };
    });
  }

  advanceWitness(party: string, expectOldSize: number, next: WitnessState): Promise<boolean> {
    return this.#write('advanceWitness', async () => {
      const bad = (why: string): never => fail('STORE_CONFLICT', `advanceWitness ${party}: ${why}`);
      if (party.length === 0 || next.party !== party) bad(`the state is ${next.party}'s, not ${party}'s`);
      if (!Number.isSafeInteger(expectOldSize) || expectOldSize < 0) bad(`expected size ${expectOldSize}`);
      if (!Number.isSafeInteger(next.treeSize) || next.treeSize < expectOldSize) bad(`size ${next.treeSize} would move back from ${expectOldSize}`);
      if (next.rootHash.length !== HASH_SIZE) bad('root hash is not 32 bytes');
      if (next.note.length === 0) bad('empty note');
      // Compare-and-set in ONE statement (atomic across processes): no row counts as size 0.
      // The history row (witnessCosignatures) is written by the same statement, so only with the state.
      const params = [party, next.treeSize, next.rootHash, next.note, expectOldSize];
      const cas =
        expectOldSize === 0
          ? `INSERT INTO witness (party, tree_size, root_hash, note) VALUES ($1, $2, $3, $4)
             ON CONFLICT (party) DO UPDATE SET tree_size = excluded.tree_size, root_hash = excluded.root_hash, note = excluded.note
             WHERE witness.tree_size = $5 RETURNING party`
          : 'UPDATE witness SET tree_size = $2, root_hash = $3, note = $4 WHERE party = $1 AND tree_size = $5 RETURNING party';
      const r = await this.pool.query(
        `WITH w AS (${cas}),
              h AS (INSERT INTO witness_cosignatures (party, tree_size, note) SELECT party, $2::bigint, $4::bytea FROM w ON CONFLICT DO NOTHING)
         SELECT count(*)::int AS n FROM w`,
        params,
      );
      // ---- DURABLE from here when written (autocommit, synchronous_commit=on).
      return r.rows[0].n === 1;
    });
  }

  witnessCosignatures(party: string, afterSize: number, limit: number): Promise<WitnessCosignature[]> {
    return this.#read('witnessCosignatures', async () => {
      if (!Number.isSafeInteger(afterSize) || afterSize < 0 || !Number.isSafeInteger(limit) || limit < 1 || limit > 1000) fail('STORE_CONFLICT', `witnessCosignatures ${party}: after ${afterSize}, limit ${limit}`);
      const r = await this.pool.query('SELECT tree_size, note FROM witness_cosignatures WHERE party = $1 AND tree_size > $2 ORDER BY tree_size LIMIT $3', [party, afterSize, limit]);
      return r.rows.map((x) => ({ party, treeSize: x.tree_size, note: bytes(x.note) }));
    });
  }

  addWitnessCosignatures(rows: readonly WitnessCosignature[]): Promise<number> {
    return this.#write('addWitnessCosignatures', async () => {
      checkWitnessCosignatures(rows);
      if (rows.length === 0) return 0;
      // One statement: atomic. Insert-only: a (party, size) held keeps its note.
      const values = rows.map((_, i) => `($${3 * i + 1}, $${3 * i + 2}::bigint, $${3 * i + 3}::bytea)`).join(', ');
      const r = await this.pool.query(`INSERT INTO witness_cosignatures (party, tree_size, note) VALUES ${values} ON CONFLICT DO NOTHING`, rows.flatMap((x) => [x.party, x.treeSize, x.note]));
      return r.rowCount ?? 0;
    });
  }

  addForkProof(p: NewForkProof): Promise<boolean> {
    return this.#write('addForkProof', async () => {
      const bad = (why: string): never => fail('STORE_CONFLICT', `addForkProof ${p.party}: ${why}`);
      const [a, b] = [viewOf(p.views[0]), viewOf(p.views[1])];
      if (p.party.length === 0 || p.proof.length === 0) bad('empty party or proof');
      if (a.length === 0 || b.length === 0) bad('a view is not a checkpoint note');
      if (a === b) bad('the two views are one checkpoint');
      // Sorted by code unit, as SQLite's BINARY collation (the CHECK compares with COLLATE "C").
      const [lo, hi] = a < b ? [a, b] : [b, a];
      const r = await this.pool.query(
        'INSERT INTO fork_proofs (party, view_lo, view_hi, proof, recorded_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING',
        [p.party, lo, hi, p.proof, p.recordedAt],
      );
      return r.rowCount === 1;
    });
  }

  forkProofs(party?: string): Promise<StoredForkProof[]> {
    return this.#read('forkProofs', async () => {
      const r =
        party === undefined
          ? await this.pool.query('SELECT party, proof, recorded_at FROM fork_proofs ORDER BY seq')
          : await this.pool.query('SELECT party, proof, recorded_at FROM fork_proofs WHERE party = $1 ORDER BY seq', [party]);
      return r.rows.map((x) => ({ party: x.party, proof: x.proof, recordedAt: x.recorded_at }));
    });
  }

  addUnverifiedCheckpoint(party: string, note: string, keptAt: string, maxPending: number): Promise<boolean> {
    return this.#write('addUnverifiedCheckpoint', async () => {
      if (party.length === 0 || note.length === 0) fail('STORE_CONFLICT', 'addUnverifiedCheckpoint: empty party or note');
      return this.#tx(async (c) => {
        // The cap is per party: serialize the count-then-insert of one party across processes.
        await c.query(`SELECT pg_advisory_xact_lock(hashtext('parley.unverified.' || $1))`, [party]);
        const n = (await c.query('SELECT count(*) AS n FROM unverified_checkpoints WHERE party = $1 AND compared_at IS NULL', [party])).rows[0].n as number;
        if (n >= maxPending) return false;
        const r = await c.query('INSERT INTO unverified_checkpoints (party, note, kept_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [party, note, keptAt]);
        return r.rowCount === 1;
      });
    });
  }

  unverifiedCheckpoints(party: string): Promise<string[]> {
    return this.#read('unverifiedCheckpoints', async () => (await this.pool.query('SELECT note FROM unverified_checkpoints WHERE party = $1 AND compared_at IS NULL ORDER BY seq', [party])).rows.map((r) => r.note as string));
  }

  markCheckpointsCompared(party: string, notes: readonly string[], outcome: string, at: string): Promise<void> {
    return this.#write('markCheckpointsCompared', async () => {
      if (notes.length === 0) return;
      await this.pool.query('UPDATE unverified_checkpoints SET compared_at = $1, outcome = $2 WHERE party = $3 AND note = ANY($4::text[]) AND compared_at IS NULL', [at, outcome, party, notes]);
    });
  }

  cursor(kind: CursorKind, party: string): Promise<Cursor | undefined> {
    return this.#read('cursor', async () => {
      const row = (await this.pool.query('SELECT tree_size, frontier FROM cursors WHERE kind = $1 AND party = $2', [kind, party])).rows[0];
      if (!row) return undefined;
      const f = bytes(row.frontier);
      const frontier: Hash[] = [];
      for (let i = 0; i < f.length; i += HASH_SIZE) frontier.push(f.slice(i, i + HASH_SIZE));
      return { treeSize: row.tree_size as number, frontier };
    });
  }

  advanceCursor(kind: CursorKind, party: string, next: Cursor): Promise<boolean> {
    return this.#write('advanceCursor', async () => {
      if (!Number.isSafeInteger(next.treeSize) || next.treeSize < 0) fail('STORE_CONFLICT', `advanceCursor ${kind}/${party}: size ${next.treeSize}`);
      if (next.frontier.some((h) => h.length !== HASH_SIZE)) fail('STORE_CONFLICT', `advanceCursor ${kind}/${party}: a frontier hash is not 32 bytes`);
      const frontier = new Uint8Array(HASH_SIZE * next.frontier.length);
      next.frontier.forEach((h, i) => frontier.set(h, HASH_SIZE * i));
      const r = await this.pool.query(
        `INSERT INTO cursors (kind, party, tree_size, frontier) VALUES ($1, $2, $3, $4)
         ON CONFLICT (kind, party) DO UPDATE SET tree_size = excluded.tree_size, frontier = excluded.frontier
         WHERE excluded.tree_size > cursors.tree_size`,
        [kind, party, next.treeSize, frontier],
      );
      return (r.rowCount ?? 0) > 0;
    });
  }

  ownCosigned(witness: string): Promise<OwnCosigned | undefined> {
    return this.#read('ownCosigned', async () => {
      const row = (await this.pool.query('SELECT tree_size, cosigned_at, note FROM own_cosigned WHERE witness = $1', [witness])).rows[0];
      return row && { witness, treeSize: row.tree_size, ...(row.cosigned_at !== null ? { cosignedAt: row.cosigned_at } : {}), note: row.note };
    });
  }

  advanceOwnCosigned(next: OwnCosigned): Promise<boolean> {
    return this.#write('advanceOwnCosigned', async () => {
      const bad = (why: string): never => fail('STORE_CONFLICT', `advanceOwnCosigned ${next.witness}: ${why}`);
      if (!Number.isSafeInteger(next.treeSize) || next.treeSize < 1) bad(`size ${next.treeSize}`);
      if (next.cosignedAt !== undefined && (!Number.isSafeInteger(next.cosignedAt) || next.cosignedAt < 0)) bad(`time ${next.cosignedAt}`);
      if (next.note === '') bad('empty note');
      const r = await this.pool.query(
        `INSERT INTO own_cosigned (witness, tree_size, cosigned_at, note) VALUES ($1, $2, $3, $4)
         ON CONFLICT (witness) DO UPDATE SET tree_size = excluded.tree_size, cosigned_at = excluded.cosigned_at, note = excluded.note
         WHERE excluded.tree_size > own_cosigned.tree_size
            OR (excluded.tree_size = own_cosigned.tree_size AND coalesce(excluded.cosigned_at, -1) > coalesce(own_cosigned.cosigned_at, -1))`,
        [next.witness, next.treeSize, next.cosignedAt ?? null, next.note],
      );
      return (r.rowCount ?? 0) > 0;
    });
  }

  addCosignedTimes(points: readonly CosignedTime[]): Promise<void> {
    return this.#write('addCosignedTimes', async () => {
      for (const p of points) {
        if (!Number.isSafeInteger(p.treeSize) || p.treeSize < 1 || !Number.isSafeInteger(p.cosignedAt) || p.cosignedAt < 0) {
          fail('STORE_CONFLICT', `addCosignedTimes ${p.party}/${p.cosigner}: size ${p.treeSize} at ${p.cosignedAt}`);
        }
      }
      if (points.length === 0) return;
      // One statement: atomic. Within the call, the first of two equal keys wins (as in SQLite's INSERT OR IGNORE loop).
      await this.pool.query(
        `INSERT INTO cosigned_times (party, cosigner, tree_size, cosigned_at)
         SELECT DISTINCT ON (party, cosigner, tree_size) party, cosigner, tree_size, cosigned_at
         FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[]) WITH ORDINALITY AS u(party, cosigner, tree_size, cosigned_at, ord)
         ORDER BY party, cosigner, tree_size, ord
         ON CONFLICT DO NOTHING`,
        [points.map((p) => p.party), points.map((p) => p.cosigner), points.map((p) => p.treeSize), points.map((p) => p.cosignedAt)],
      );
    });
  }

  cosignedTimes(party: string, limit?: number): Promise<CosignedTime[]> {
    return this.#read('cosignedTimes', async () => {
      const n = limit !== undefined && Number.isSafeInteger(limit) && limit >= 0 ? limit : -1;
      const r = await this.pool.query(
        `SELECT cosigner, tree_size, cosigned_at FROM (
           SELECT cosigner, tree_size, cosigned_at, row_number() OVER (PARTITION BY cosigner ORDER BY tree_size DESC) AS n
           FROM cosigned_times WHERE party = $1) t
         WHERE $2::bigint < 0 OR n <= $2::bigint ORDER BY cosigner COLLATE "C", tree_size`,
        [party, n],
      );
      return r.rows.map((x) => ({ party, cosigner: x.cosigner, treeSize: x.tree_size, cosignedAt: x.cosigned_at }));
    });
  }

  addCheckpointTimestamps(tokens: readonly CheckpointTimestamp[]): Promise<number> {
    return this.#write('addCheckpointTimestamps', async () => {
      for (const t of tokens) {
        if (t.party === '' || t.authority === '' || !Number.isSafeInteger(t.treeSize) || t.treeSize < 1 || t.token.length === 0 || t.note === '' || !Number.isSafeInteger(t.genTime) || t.genTime < 0) {
          fail('STORE_CONFLICT', `addCheckpointTimestamps ${t.party}/${t.treeSize}/${t.authority}: bad token row`);
        }
      }
      if (tokens.length === 0) return 0;
      const r = await this.pool.query(
        `INSERT INTO checkpoint_timestamps (party, tree_size, authority, token, gen_time, note)
         SELECT DISTINCT ON (party, tree_size, authority) party, tree_size, authority, token, gen_time, note
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[], $5::bigint[], $6::text[]) WITH ORDINALITY AS u(party, tree_size, authority, token, gen_time, note, ord)
         ORDER BY party, tree_size, authority, ord
         ON CONFLICT DO NOTHING`,
        [tokens.map((t) => t.party), tokens.map((t) => t.treeSize), tokens.map((t) => t.authority), tokens.map((t) => t.token), tokens.map((t) => t.genTime), tokens.map((t) => t.note)],
      );
      return r.rowCount ?? 0;
    });
  }

  checkpointTimestamps(party: string, q: { readonly treeSize?: number; readonly from?: number; readonly limit?: number } = {}): Promise<CheckpointTimestamp[]> {
    return this.#read('checkpointTimestamps', async () => {
      const lo = q.treeSize ?? q.from ?? 0;
      const hi = q.treeSize ?? Number.MAX_SAFE_INTEGER;
      const limit = q.limit !== undefined && Number.isSafeInteger(q.limit) && q.limit >= 0 ? q.limit : null;
      const r = await this.pool.query(
        `SELECT tree_size, authority, token, gen_time, note FROM checkpoint_timestamps
         WHERE party = $1 AND tree_size BETWEEN $2 AND $3 ORDER BY tree_size, authority COLLATE "C" LIMIT $4`,
        [party, lo, hi, limit],
      );
      return r.rows.map((x) => ({ party, treeSize: x.tree_size, authority: x.authority, token: bytes(x.token), genTime: x.gen_time, note: x.note }));
    });
  }

  latestTimestampedSize(party: string): Promise<number> {
    return this.#read('latestTimestampedSize', async () => ((await this.pool.query('SELECT max(tree_size) AS m FROM checkpoint_timestamps WHERE party = $1', [party])).rows[0].m as number | null) ?? 0);
  }

  recordEscalations(rows: readonly NewEscalation[]): Promise<string[]> {
    return this.#writeDeadlines('recordEscalations', () =>
      this.#tx(async (c) => {
        const fresh: string[] = [];
        for (const r of rows) {
          const w = r.webhook;
          const res = await c.query(
            `INSERT INTO escalations (id, recorded_at, webhook, attempts, next_attempt_at, webhook_state) VALUES ($1, $2, $3, 0, $4, $5) ON CONFLICT DO NOTHING`,
            [r.id, Math.max(0, Math.floor(r.recordedAt)), w ?? null, w === undefined ? 0 : Math.floor(r.recordedAt), w === undefined ? 'none' : 'pending'],
          );
          if (res.rowCount === 1) fresh.push(r.id);
        }
        return fresh;
      }),
    );
  }

  // issue 14: the deadline tracker's deliveries (types.ts LogStore.fileDeliveries)
  fileDeliveries(b: DeliveryBatch): Promise<boolean> {
    return this.#writeDeadlines('fileDeliveries', async () => {
      try {
        await this.#tx(async (c) => this.#fileDeliveries(c, b));
        return true;
      } catch (e) {
        if (e instanceof AnswersMoved) return false;
        throw e;
      }
    });
  }

  async #fileDeliveries(c: pg.PoolClient, b: DeliveryBatch): Promise<void> {
    const d = b.deliveries;
    if (d.length > 0) {
      await c.query(
        `INSERT INTO deliveries (party, idx, recipient, direction, leaf_hash, facts)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) ON CONFLICT DO NOTHING`,
        [d.map((r) => r.party), d.map((r) => r.index), d.map((r) => r.recipient), d.map((r) => r.direction), d.map((r) => r.leafHash), d.map((r) => r.facts)],
      );
    }
    // The rows this filing moves, locked first and in key order — the order judgeDeliveries locks them in, so a
    // filing and a judgement (or two filings) of the same rows wait for each other instead of deadlocking.
    if (b.answers.length > 0 || b.withdrawals.length > 0) {
      await c.query(
        `SELECT 1 FROM deliveries d
         WHERE (d.party, d.idx, d.recipient) IN (SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[]))
            OR (d.party, d.idx) IN (SELECT * FROM unnest($4::text[], $5::bigint[]))
         ORDER BY d.party, d.idx, d.recipient FOR UPDATE OF d`,
        [b.answers.map((r) => r.party), b.answers.map((r) => r.index), b.answers.map((r) => r.recipient), b.withdrawals.map((r) => r.party), b.withdrawals.map((r) => r.index)],
      );
    }
    // Answer rows in one order too (two filers of the same rows).
    const answers = [...b.answers].sort((x, y) => (x.party < y.party ? -1 : x.party > y.party ? 1 : x.index - y.index || (x.recipient < y.recipient ? -1 : x.recipient > y.recipient ? 1 : 0)));
    for (const r of answers) {
      const args = [r.party, r.index, r.recipient, r.hash, r.answers];
      if (r.held === undefined) {
        await c.query('INSERT INTO delivery_answers (party, idx, recipient, hash, answers) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (party, idx, recipient, hash) DO UPDATE SET answers = excluded.answers', args);
      } else {
        // Compare-and-set (READ COMMITTED: a concurrent filing of the row is waited for, then its answers compared):
        // none held → insert only if still none; else update only if still what was read. Else the whole batch rolls back.
        const q =
          r.held === null
            ? await c.query('INSERT INTO delivery_answers (party, idx, recipient, hash, answers) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (party, idx, recipient, hash) DO NOTHING', args)
            : await c.query('UPDATE delivery_answers SET answers = $5 WHERE party = $1 AND idx = $2 AND recipient = $3 AND hash = $4 AND answers = $6', [...args, r.held]);
        if (q.rowCount !== 1) throw new AnswersMoved();
      }
      // PG 5: what an answer touches is judged again (due at once), durably with the filing.
      await c.query('UPDATE deliveries SET due_at = 0 WHERE party = $1 AND idx = $2 AND recipient = $3', [r.party, r.index, r.recipient]);
    }
    for (const r of b.withdrawals) {
      await c.query('INSERT INTO delivery_withdrawals (party, idx, retraction) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [r.party, r.index, r.retraction]);
      await c.query('UPDATE deliveries SET due_at = 0 WHERE party = $1 AND idx = $2', [r.party, r.index]);
    }
    await c.query(
      `INSERT INTO delivery_cursor (id, own_size, last_seq) VALUES (1, $1, $2)
       ON CONFLICT (id) DO UPDATE SET own_size = greatest(delivery_cursor.own_size, excluded.own_size), last_seq = greatest(delivery_cursor.last_seq, excluded.last_seq)`,
      [b.cursor.ownSize, b.cursor.lastSeq],
    );
  }

  deliveryCursor(): Promise<DeliveryCursor> {
    return this.#read('deliveryCursor', async () => {
      const r = (await this.pool.query<{ own_size: number; last_seq: number }>('SELECT own_size, last_seq FROM delivery_cursor WHERE id = 1')).rows[0];
      return { ownSize: r?.own_size ?? 0, lastSeq: r?.last_seq ?? 0 };
    });
  }

  deliveryAnswers(keys: readonly DeliveryAnswerKey[]): Promise<DeliveryAnswerRow[]> {
    return this.#read('deliveryAnswers', async () => {
      if (keys.length === 0) return [];
      const r = await this.pool.query<{ party: string; idx: number; recipient: string; hash: string; answers: string }>(
        `SELECT a.party, a.idx, a.recipient, a.hash, a.answers FROM delivery_answers a
         JOIN unnest($1::text[], $2::bigint[], $3::text[], $4::text[]) AS k(party, idx, recipient, hash)
           ON a.party = k.party AND a.idx = k.idx AND a.recipient = k.recipient AND a.hash = k.hash`,
        [keys.map((k) => k.party), keys.map((k) => k.index), keys.map((k) => k.recipient), keys.map((k) => k.hash)],
      );
      return r.rows.map((x) => ({ party: x.party, index: x.idx, recipient: x.recipient, hash: x.hash, answers: x.answers }));
    });
  }

  deliveries(q: DeliveryQuery): Promise<StoredDelivery[]> {
    return this.#read('deliveries', async () => {
      const where: string[] = [];
      const params: unknown[] = [];
      const p = (v: unknown) => (params.push(v), `$${params.length}`);
      if (q.after !== undefined) where.push(`(d.party, d.idx, d.recipient) > (${p(q.after.party)}::text COLLATE "C", ${p(q.after.index)}::bigint, ${p(q.after.recipient)}::text COLLATE "C")`);
      if (q.party !== undefined) where.push(`d.party = ${p(q.party)}`);
      if (q.index !== undefined) where.push(`d.idx = ${p(q.index)}`);
      if (q.recipient !== undefined) where.push(`d.recipient = ${p(q.recipient)}`);
      if (q.direction !== undefined) where.push(`d.direction = ${p(q.direction)}`);
      // PG 5: the stale ones (an index range on due_at) or those judged after a time (on judged_at).
      let order = 'd.party, d.idx, d.recipient';
      if (q.staleBefore !== undefined || q.judgedAfter !== undefined) {
        if (q.after !== undefined) where.shift();
        const col = q.staleBefore !== undefined ? 'd.due_at' : 'd.judged_at';
        if (q.staleBefore !== undefined) where.push(`d.due_at < ${p(q.staleBefore)}::bigint`);
        else where.push(`d.judged_at > ${p(q.judgedAfter)}::bigint`, `(d.due_at IS NULL OR d.due_at >= ${p(q.judgedAfter)}::bigint)`);
        if (q.afterStale !== undefined) {
          const k = q.afterStale.key;
          where.push(`(${col}, d.party, d.idx, d.recipient) > (${p(q.afterStale.at)}::bigint, ${p(k.party)}::text COLLATE "C", ${p(k.index)}::bigint, ${p(k.recipient)}::text COLLATE "C")`);
        }
        order = `${col}, d.party, d.idx, d.recipient`;
      }
      const sql = `SELECT ${DELIVERY_COLUMNS}
        FROM deliveries d
        ${DELIVERY_JOINS}
        ${whereClause(where)} ORDER BY ${order} LIMIT ${p(Number.isSafeInteger(q.limit) && q.limit > 0 ? q.limit : 0)}`;
      const rows = (await this.pool.query<DeliveryRow>(sql, params)).rows;
      return rows.map(storedDeliveryOf);
    });
  }

  judgeDeliveries(j: readonly DeliveryJudgement[]): Promise<void> {
    return this.#writeDeadlines('judgeDeliveries', async () => {
      if (j.length === 0) return;
      const col = <T>(f: (x: DeliveryJudgement) => T) => j.map(f);
      const keys = [col((x) => x.party), col((x) => x.index), col((x) => x.recipient)];
      await this.#tx(async (c) => {
        // The rows first, locked in key order: a filing that set an answer (due_at 0) and is not yet
        // committed is waited for, and the UPDATE below (a new snapshot, READ COMMITTED) sees its answers.
        await c.query(
          `SELECT 1 FROM deliveries d JOIN unnest($1::text[], $2::bigint[], $3::text[]) AS k(party, idx, recipient)
             ON d.party = k.party AND d.idx = k.idx AND d.recipient = k.recipient
           ORDER BY d.party, d.idx, d.recipient FOR UPDATE OF d`,
          keys,
        );
        // A judgement with its basis is written only where the row's answers and withdrawal are still those it was made on.
        await c.query(
        `UPDATE deliveries d SET state = u.state, settled = u.settled, overdue = u.overdue, due_at = u.due_at, judged_at = u.judged_at, rank = u.rank, sort_due = u.sort_due,
           start_bound = u.start_bound, receipt_idx = u.receipt_idx, receipt_bound = u.receipt_bound, ack_idx = u.ack_idx, ack_bound = u.ack_bound
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::boolean[], $6::int[], $7::bigint[], $8::bigint[], $9::int[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::boolean[], $17::text[], $18::text[])
           AS u(party, idx, recipient, state, settled, overdue, due_at, judged_at, rank, sort_due, start_bound, receipt_idx, receipt_bound, ack_idx, ack_bound, conditional, answers, withdrawn)
         WHERE d.party = u.party AND d.idx = u.idx AND d.recipient = u.recipient
           AND (NOT u.conditional OR (
             (SELECT a.answers FROM delivery_answers a WHERE a.party = d.party AND a.idx = d.idx AND a.recipient = d.recipient AND a.hash = d.leaf_hash) IS NOT DISTINCT FROM u.answers
             AND (SELECT w.retraction FROM delivery_withdrawals w WHERE w.party = d.party AND w.idx = d.idx) IS NOT DISTINCT FROM u.withdrawn))`,
        [
          ...keys, col((x) => x.state), col((x) => x.settled), col((x) => x.overdue), col((x) => x.dueAt), col((x) => x.judgedAt),
          col((x) => x.rank), col((x) => x.sortDue), col((x) => x.startBound), col((x) => x.receiptIdx), col((x) => x.receiptBound), col((x) => x.ackIdx), col((x) => x.ackBound),
          col((x) => x.basis !== undefined), col((x) => x.basis?.answers ?? null), col((x) => x.basis?.withdrawn ?? null),
        ],
        );
      });
    });
  }

  rejudgeDeliveries(ranges: readonly { party: string; from: number; to: number }[], unbounded: readonly BoundsCoverage[] = []): Promise<void> {
    return this.#writeDeadlines('rejudgeDeliveries', () =>
      this.#tx(async (c) => {
        // Every row this moves, locked first and in key order (as judgeDeliveries and fileDeliveries lock them): the
        // updates below scan other indexes (receipt_idx, ack_idx), whose order would deadlock with a judgement.
        const params: unknown[] = [];
        const p = (v: unknown) => (params.push(v), `$${params.length}`);
        const cond: string[] = [];
        for (const r of ranges) {
          const [party, from, to] = [p(r.party), p(r.from), p(r.to)];
          cond.push(`(party = ${party} AND idx >= ${from} AND idx < ${to})`, `(recipient = ${party} AND receipt_idx >= ${from} AND receipt_idx < ${to})`, `(recipient = ${party} AND ack_idx >= ${from} AND ack_idx < ${to})`);
        }
        for (const u of unbounded) {
          const [party, to, by] = [p(u.party), p(u.to), p(u.by ?? null)];
          cond.push(
            `(party = ${party} AND idx < ${to} AND (${by}::text IS NULL OR recipient = ${by}::text) AND state IS NOT NULL AND start_bound IS NULL)`,
            `(recipient = ${party} AND receipt_idx < ${to} AND (${by}::text IS NULL OR party = ${by}::text) AND receipt_bound IS NULL)`,
            `(recipient = ${party} AND ack_idx < ${to} AND (${by}::text IS NULL OR party = ${by}::text) AND ack_bound IS NULL)`,
          );
        }
        if (cond.length === 0) return;
        await c.query(`SELECT 1 FROM deliveries WHERE due_at IS DISTINCT FROM 0 AND (${cond.join(' OR ')}) ORDER BY party, idx, recipient FOR UPDATE`, params);
        for (const r of ranges) {
          const args = [r.party, r.from, r.to];
          await c.query('UPDATE deliveries SET due_at = 0 WHERE party = $1 AND idx >= $2 AND idx < $3 AND due_at IS DISTINCT FROM 0', args);
          await c.query('UPDATE deliveries SET due_at = 0 WHERE recipient = $1 AND receipt_idx >= $2 AND receipt_idx < $3 AND due_at IS DISTINCT FROM 0', args);
          await c.query('UPDATE deliveries SET due_at = 0 WHERE recipient = $1 AND ack_idx >= $2 AND ack_idx < $3 AND due_at IS DISTINCT FROM 0', args);
        }
        // Judged without a bound the new provider knows (judged: state not null; unjudged ones are due already).
        for (const u of unbounded) {
          const args = [u.party, u.to, u.by ?? null];
          await c.query('UPDATE deliveries SET due_at = 0 WHERE party = $1 AND idx < $2 AND ($3::text IS NULL OR recipient = $3::text) AND state IS NOT NULL AND start_bound IS NULL AND due_at IS DISTINCT FROM 0', args);
          await c.query('UPDATE deliveries SET due_at = 0 WHERE recipient = $1 AND receipt_idx < $2 AND ($3::text IS NULL OR party = $3::text) AND receipt_bound IS NULL AND due_at IS DISTINCT FROM 0', args);
          await c.query('UPDATE deliveries SET due_at = 0 WHERE recipient = $1 AND ack_idx < $2 AND ($3::text IS NULL OR party = $3::text) AND ack_bound IS NULL AND due_at IS DISTINCT FROM 0', args);
        }
      }),
    );
  }

  nextDeliveryDue(): Promise<number | undefined> {
    return this.#read('nextDeliveryDue', async () => {
      const r = await this.pool.query<{ m: number | null }>('SELECT min(due_at) AS m FROM deliveries WHERE due_at IS NOT NULL');
      return r.rows[0]?.m ?? undefined;
    });
  }

  deliveryListing(q: DeliveryListingQuery): Promise<StoredDelivery[]> {
    return this.#read('deliveryListing', async () => {
      const params: unknown[] = [];
      const p = (v: unknown) => (params.push(v), `$${params.length}`);
      const where = [`d.judged_at <= ${p(q.at)}::bigint`, `(d.due_at IS NULL OR d.due_at >= ${p(q.at)}::bigint)`];
      if (q.after !== undefined) {
        const [r, due, i, party, recipient] = q.after;
        where.push(`(d.rank, d.sort_due, d.idx, d.party, d.recipient) > (${p(r)}::int, ${p(due)}::bigint, ${p(i)}::bigint, ${p(party)}::text COLLATE "C", ${p(recipient)}::text COLLATE "C")`);
      }
      if (q.party !== undefined) where.push(`d.party = ${p(q.party)}`);
      if (q.index !== undefined) where.push(`d.idx = ${p(q.index)}`);
      if (q.recipient !== undefined) where.push(`d.recipient = ${p(q.recipient)}`);
      if (q.direction !== undefined) where.push(`d.direction = ${p(q.direction)}`);
      if (q.state !== undefined) where.push(`d.state = ${p(q.state)}`);
      if (q.settled !== undefined) where.push(`d.settled = ${p(q.settled)}`);
      const sql = `SELECT ${DELIVERY_COLUMNS} FROM deliveries d ${DELIVERY_JOINS}
        WHERE ${where.join(' AND ')} ORDER BY d.rank, d.sort_due, d.idx, d.party, d.recipient LIMIT ${p(Number.isSafeInteger(q.limit) && q.limit > 0 ? q.limit : 0)}`;
      return (await this.pool.query<DeliveryRow>(sql, params)).rows.map(storedDeliveryOf);
    });
  }

  deliveryCounts(at: number): Promise<DeliveryCountRow[]> {
    return this.#read('deliveryCounts', async () => {
      const r = await this.pool.query<{ state: string; settled: boolean; overdue: number; n: number }>(
        'SELECT state, settled, overdue, count(*)::int AS n FROM deliveries WHERE state IS NOT NULL AND judged_at <= $1 AND (due_at IS NULL OR due_at >= $1) GROUP BY state, settled, overdue',
        [at],
      );
      return r.rows.map((x) => ({ state: x.state, settled: x.settled, overdue: x.overdue, n: x.n }));
    });
  }

  escalations(q: { readonly keepSettled?: string } = {}): Promise<EscalationRecord[]> {
    return this.#read('escalations', async () => {
      const r =
        q.keepSettled === undefined
          ? await this.pool.query('SELECT id, recorded_at, webhook, attempts, next_attempt_at, webhook_state FROM escalations ORDER BY seq')
          : await this.pool.query(`SELECT id, recorded_at, webhook, attempts, next_attempt_at, webhook_state FROM escalations WHERE left(id, length($1)) = $1 OR webhook_state = 'pending' ORDER BY seq`, [q.keepSettled]);
      return r.rows.map((x: { id: string; recorded_at: number; webhook: string | null; attempts: number; next_attempt_at: number; webhook_state: WebhookDelivery | 'none' }) => ({
        id: x.id,
        recordedAt: x.recorded_at,
        ...(x.webhook !== null && x.webhook_state !== 'none' ? { webhook: { body: x.webhook, attempts: x.attempts, nextAttemptAt: x.next_attempt_at, state: x.webhook_state } } : {}),
      }));
    });
  }

  knownEscalations(ids: readonly string[]): Promise<string[]> {
    return this.#read('knownEscalations', async () => {
      if (ids.length === 0) return [];
      const r = await this.pool.query<{ id: string }>('SELECT id FROM escalations WHERE id = ANY($1::text[])', [ids]);
      const known = new Set(r.rows.map((x) => x.id));
      return ids.filter((id) => known.has(id));
    });
  }

  updateWebhook(id: string, expectAttempts: number, next: WebhookUpdate): Promise<boolean> {
    return this.#writeDeadlines('updateWebhook', async () => {
      if (!Number.isSafeInteger(next.attempts) || next.attempts < expectAttempts) fail('STORE_CONFLICT', `updateWebhook ${id}: attempts ${next.attempts} after ${expectAttempts}`);
      const r = await this.pool.query(
        `UPDATE escalations SET attempts = $1, next_attempt_at = $2, webhook_state = $3 WHERE id = $4 AND attempts = $5 AND webhook_state = 'pending'`,
        [next.attempts, Math.floor(next.nextAttemptAt), next.state, id, expectAttempts],
      );
      return (r.rowCount ?? 0) > 0;
    });
  }

  // ---- Governance tables (migration 2, issue 14).

  accordChain(): Promise<HeldAccordChain | undefined> {
    return this.#read('accordChain', async () => {
      // One statement: one snapshot of the three tables (READ COMMITTED).
      const r = await this.pool.query(`SELECT h.channel, h.revision,
          (SELECT coalesce(json_agg(v.signed ORDER BY v.version), '[]') FROM accord_versions v) AS versions,
          (SELECT coalesce(json_agg(json_build_object('party', a.party, 'version', a.version, 'size', a.size, 'suspect_from', a.suspect_from, 'entry', a.entry) ORDER BY a.pos), '[]') FROM accord_activations a) AS activations
        FROM accord_chain h`);
      const row = r.rows[0];
      if (row === undefined) return undefined;
      return {
        channel: row.channel as string,
        versions: (row.versions as string[]).map((t) => JSON.parse(t) as SignedAccord),
        activations: (row.activations as { party: string; version: number; size: number; suspect_from: number | null; entry: string }[]).map((a) => ({
          party: a.party,
          version: a.version,
          size: a.size,
          ...(a.suspect_from !== null ? { suspectFrom: a.suspect_from } : {}),
          entry: a.entry,
        })),
        revision: row.revision as number,
      };
    });
  }

  accordChainRevision(): Promise<number> {
    return this.#read('accordChainRevision', async () => ((await this.pool.query('SELECT revision FROM accord_chain')).rows[0]?.revision as number | undefined) ?? 0);
  }

  putAccordChain(chain: StoredAccordChain): Promise<number> {
    return this.#write('putAccordChain', async () => {
      const next = checkChain(chain);
      return this.#tx(async (c) => {
        // Writers in several processes serialize here, so the extends-check reads what the rewrite replaces.
        await c.query(`SELECT pg_advisory_xact_lock(hashtext('parley.accord_chain'))`);
        const head = (await c.query('SELECT channel, revision FROM accord_chain')).rows[0] as { channel: string; revision: number } | undefined;
        const held = head && {
          channel: head.channel,
          versions: (await c.query('SELECT count(*)::int AS n FROM accord_versions')).rows[0].n as number,
          activations: (await c.query('SELECT party, version, size FROM accord_activations')).rows as { party: string; version: number; size: number }[],
        };
        checkChainExtends(held, next);
        const revision = (head?.revision ?? 0) + 1;
        await c.query('INSERT INTO accord_chain (one, channel, revision) VALUES (true, $1, $2) ON CONFLICT (one) DO UPDATE SET revision = excluded.revision', [next.channel, revision]);
        await c.query('DELETE FROM accord_versions');
        await c.query('DELETE FROM accord_activations');
        await c.query('INSERT INTO accord_versions (version, signed) SELECT * FROM unnest($1::bigint[], $2::text[])', [next.versions.map((v) => v.version), next.versions.map((v) => v.signed)]);
        const a = next.activations;
        await c.query('INSERT INTO accord_activations (party, version, pos, size, suspect_from, entry) SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::text[])', [
          a.map((x) => x.party),
          a.map((x) => x.version),
          a.map((_, i) => i),
          a.map((x) => x.size),
          a.map((x) => x.suspectFrom ?? null),
          a.map((x) => x.entry),
        ]);
        return revision;
      });
    });
  }

  departedLogs(): Promise<StoredDepartedLog[]> {
    return this.#read('departedLogs', async () =>
      (await this.pool.query('SELECT party, version, digest, end_size FROM departed_logs ORDER BY party COLLATE "C"')).rows.map((r) => ({ party: r.party, version: r.version, digest: r.digest, end: r.end_size })),
    );
  }

  addDepartedLogs(logs: readonly StoredDepartedLog[]): Promise<string[]> {
    return this.#write('addDepartedLogs', async () => {
      logs.forEach(checkDeparted);
      if (logs.length === 0) return [];
      // One statement: atomic; within the call the first of two rows of one party wins.
      const r = await this.pool.query(
        `INSERT INTO departed_logs (party, version, digest, end_size)
         SELECT DISTINCT ON (party) party, version, digest, end_size
         FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[]) WITH ORDINALITY AS u(party, version, digest, end_size, ord)
         ORDER BY party, ord
         ON CONFLICT DO NOTHING RETURNING party`,
        [logs.map((d) => d.party), logs.map((d) => d.version), logs.map((d) => d.digest), logs.map((d) => d.end)],
      );
      const fresh = new Set(r.rows.map((x) => x.party as string));
      return logs.map((d) => d.party).filter((p, i, all) => fresh.has(p) && all.indexOf(p) === i);
    });
  }

  addAccordForkProof(proof: string, recordedAt: string, maxKept: number): Promise<boolean> {
    return this.#write('addAccordForkProof', async () => {
      if (proof.length === 0) fail('STORE_CONFLICT', 'addAccordForkProof: empty proof');
      return this.#tx(async (c) => {
        // The cap is global: serialize the count-then-insert across processes.
        await c.query(`SELECT pg_advisory_xact_lock(hashtext('parley.accord_forks'))`);
        if (((await c.query('SELECT count(*)::int AS n FROM accord_forks')).rows[0].n as number) >= maxKept) return false;
        return (await c.query('INSERT INTO accord_forks (proof, recorded_at) VALUES ($1, $2) ON CONFLICT DO NOTHING', [proof, recordedAt])).rowCount === 1;
      });
    });
  }

  accordForkProofs(): Promise<string[]> {
    return this.#read('accordForkProofs', async () => (await this.pool.query('SELECT proof FROM accord_forks ORDER BY seq')).rows.map((r) => r.proof as string));
  }

  addEvaluationNote(n: EvaluationNote): Promise<boolean> {
    return this.#write('addEvaluationNote', async () => {
      checkEvaluationNote(n);
      const r = await this.pool.query('INSERT INTO evaluation_notes (party, idx, cosigner, tree_size, cosigned_at, note) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING', [
        n.party,
        n.index,
        n.cosigner,
        n.treeSize,
        n.cosignedAt,
        n.note,
      ]);
      return r.rowCount === 1;
    });
  }

  evaluationNotes(party: string, index: number): Promise<EvaluationNote[]> {
    return this.#read('evaluationNotes', async () =>
      (await this.pool.query('SELECT party, idx, cosigner, tree_size, cosigned_at, note FROM evaluation_notes WHERE party = $1 AND idx = $2 ORDER BY cosigner COLLATE "C"', [party, index])).rows.map(evaluationNoteOf),
    );
  }

  /** The raw listings of a logical dump (copy.ts, `parley migrate`). */
  dumpTables(): DumpTables {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const q = (sql: string, params: unknown[] = []): Promise<any[]> => this.#read('dump', async () => (await this.pool.query(sql, params)).rows);
    return {
      checkpointsAfter: async (size, limit) => (await q('SELECT tree_size, note FROM checkpoints WHERE tree_size > $1 ORDER BY tree_size LIMIT $2', [size, limit])).map((r) => ({ treeSize: r.tree_size, note: bytes(r.note) })),
      receivedAfter: async (seq, limit) => (await q(`SELECT ${RECEIVED_COLUMNS} FROM received WHERE seq > $1 ORDER BY seq LIMIT $2`, [seq, limit])).map(listingOf),
      mirrorAfter: async (party, index, limit) =>
        (await q('SELECT party, idx, leaf_hash, bytes FROM mirror WHERE party COLLATE "C" > $1 OR (party = $1 AND idx > $2) ORDER BY party COLLATE "C", idx LIMIT $3', [party, index, limit])).map((r) => ({
          party: r.party,
          entry: { index: r.idx, leafHash: bytes(r.leaf_hash), bytes: bytes(r.bytes) },
        })),
      countReceived: async () => (await q('SELECT count(*) AS n FROM received'))[0].n,
      countMirror: async () => (await q('SELECT count(*) AS n FROM mirror'))[0].n,
      witnessCosignaturesAfter: async (party, size, limit) =>
        (await q('SELECT party, tree_size, note FROM witness_cosignatures WHERE party COLLATE "C" > $1 OR (party = $1 AND tree_size > $2) ORDER BY party COLLATE "C", tree_size LIMIT $3', [party, size, limit])).map((r) => ({
          party: r.party,
          treeSize: r.tree_size,
          note: bytes(r.note),
        })),
      countWitnessCosignatures: async () => (await q('SELECT count(*) AS n FROM witness_cosignatures'))[0].n,
      sessions: async () => (await q('SELECT token_hash, officer, created, expires FROM sessions')).map((r) => ({ tokenHash: r.token_hash, officer: r.officer, created: r.created, expires: r.expires })),
      idempotencyAll: async () => (await q('SELECT scope, key, digest, indexes, response, created_at FROM idempotency_keys')).map(idempotencyRecordOf),
      settings: async () => (await q('SELECT key, value FROM settings')).map((r) => ({ key: r.key, value: settingOf(r.value) })),
      witnesses: async () => (await q('SELECT party, tree_size, root_hash, note FROM witness')).map((r) => ({ party: r.party, treeSize: r.tree_size, rootHash: bytes(r.root_hash), note: bytes(r.note) })),
      forkProofRows: async () =>
        (await q('SELECT party, view_lo, view_hi, proof, recorded_at FROM fork_proofs ORDER BY seq')).map((r) => ({ party: r.party, viewLo: r.view_lo, viewHi: r.view_hi, proof: r.proof, recordedAt: r.recorded_at })),
      unverifiedRows: async () =>
        (await q('SELECT party, note, kept_at, compared_at, outcome FROM unverified_checkpoints ORDER BY seq')).map((r) => ({ party: r.party, note: r.note, keptAt: r.kept_at, comparedAt: r.compared_at, outcome: r.outcome })),
      cursors: async () =>
        (await q('SELECT kind, party, tree_size, frontier FROM cursors')).map((r) => {
          const f = bytes(r.frontier);
          const frontier: Hash[] = [];
          for (let i = 0; i < f.length; i += HASH_SIZE) frontier.push(f.slice(i, i + HASH_SIZE));
          return { cursorKind: r.kind as CursorKind, party: r.party, cursor: { treeSize: r.tree_size, frontier } };
        }),
      ownCosignedAll: async () =>
        (await q('SELECT witness, tree_size, cosigned_at, note FROM own_cosigned')).map((r) => ({ witness: r.witness, treeSize: r.tree_size, ...(r.cosigned_at !== null ? { cosignedAt: r.cosigned_at } : {}), note: r.note })),
      cosignedTimesAll: async () => (await q('SELECT party, cosigner, tree_size, cosigned_at FROM cosigned_times')).map((r) => ({ party: r.party, cosigner: r.cosigner, treeSize: r.tree_size, cosignedAt: r.cosigned_at })),
      accordForkRows: async () => (await q('SELECT proof, recorded_at FROM accord_forks ORDER BY seq')).map((r) => ({ proof: r.proof, recordedAt: r.recorded_at })),
      evaluationNotesAll: async () => (await q('SELECT party, idx, cosigner, tree_size, cosigned_at, note FROM evaluation_notes')).map(evaluationNoteOf),
      timestampsAll: async () =>
        (await q('SELECT party, tree_size, authority, token, gen_time, note FROM checkpoint_timestamps')).map((r) => ({ party: r.party, treeSize: r.tree_size, authority: r.authority, token: bytes(r.token), genTime: r.gen_time, note: r.note })),
    };
  }

  /** Waits for queued writes, then ends the pool; later calls reject with STORE_UNAVAILABLE. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all([this.#writes.tail, this.#deadlineWrites.tail]);
    await this.pool.end().catch(() => undefined);
  }
}

class StoreClosed extends Error {
  constructor() {
    super('Cannot use a pool after calling end: store is closed');
  }
}

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/** Stored hashes by index, in the order asked (one query); STORE_CORRUPT if one is missing. */
async function readHashesOn(c: Queryable, indexes: readonly number[]): Promise<Hash[]> {
  const r = await c.query<{ hash: Buffer | null }>(
    'SELECT h.hash FROM unnest($1::bigint[]) WITH ORDINALITY AS k(idx, ord) LEFT JOIN hashes h ON h.idx = k.idx ORDER BY k.ord',
    [indexes],
  );
  return r.rows.map((row, k) => {
    if (row.hash === null) fail('STORE_CORRUPT', `stored hash ${indexes[k]} is missing`);
    if (row.hash.length !== HASH_SIZE) fail('STORE_CORRUPT', `stored hash ${indexes[k]} is not 32 bytes`);
    return bytes(row.hash);
  });
}

/** The frontier hashes read with the batch's check (`f`, in `indexes` order), checked as readHashesOn checks them. */
function frontierHashes(indexes: readonly number[], f: readonly (Buffer | null)[]): Hash[] {
  return indexes.map((idx, k) => {
    const h = f[k];
    if (h === undefined || h === null) fail('STORE_CORRUPT', `stored hash ${idx} is missing`);
    if (h.length !== HASH_SIZE) fail('STORE_CORRUPT', `stored hash ${idx} is not 32 bytes`);
    return bytes(h);
  });
}

/** `parts` back to back in one Buffer (sent as ONE binary parameter: no hex text per row), and where each ends. */
function packed(parts: readonly Uint8Array[]): [Buffer, number[]] {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = Buffer.allocUnsafe(n);
  const ends: number[] = [];
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
    ends.push(o);
  }
  return [out, ends];
}

/**
 * Inside appendBatch's transaction: the batch's entries, recipients, refs,
 * stored hashes and checkpoint in ONE statement (data-modifying CTEs; the
 * foreign keys of entry_to and entry_refs are checked at its end, when the
 * entries are in). Entry bytes, leaf hashes and stored hashes go as three
 * binary parameters, cut back into rows by offset on the server.
 */
async function insertBatch(c: pg.PoolClient, b: AppendBatch): Promise<void> {
  const es = b.entries;
  const [blob, ends] = packed(es.map((e) => e.bytes));
  const [leaves] = packed(es.map((e) => e.leafHash));
  const [hashes] = packed(b.hashes.map((x) => x[1]));
  const to: [string, number][] = [];
  const refs: [string, number, number][] = [];
  for (const e of es) {
    for (const party of new Set(e.meta.to)) to.push([party, e.index]);
    for (const r of e.meta.refs) refs.push([r.party, r.index, e.index]);
  }
  const meta = metaColumns(es.map((e) => e.meta));
  const M = 8; // $1..$8 below; the meta columns follow
  const metaCols = META_TYPES.split(', ').map((t, i) => `$${i + M + 1}::${t}`).join(', ');
  const refsAt = M + meta.length + 1;
  await c.query(
    `WITH x AS (
       SELECT k.idx, k.fin, k.ord, ${META.split(', ').map((m) => `k.${m}`).join(', ')}
       FROM unnest($1::bigint[], $2::int[], ${metaCols}) WITH ORDINALITY AS k(idx, fin, ${META}, ord)
     ),
     y AS (SELECT x.*, coalesce(lag(x.fin) OVER (ORDER BY x.ord), 0) AS start FROM x),
     e AS (
       INSERT INTO entries (${ENTRY_COLUMNS})
       SELECT y.idx, substring($4::bytea FROM 32 * (y.ord::int - 1) + 1 FOR 32), substring($3::bytea FROM y.start + 1 FOR y.fin - y.start),
              ${META.split(', ').map((m) => `y.${m}`).join(', ')}
       FROM y ORDER BY y.ord
     ),
     t AS (INSERT INTO entry_to (party, idx) SELECT * FROM unnest($5::text[], $6::bigint[])),
     r AS (INSERT INTO entry_refs (party, ref_idx, idx) SELECT * FROM unnest($${refsAt}::text[], $${refsAt + 1}::bigint[], $${refsAt + 2}::bigint[]) ON CONFLICT DO NOTHING),
     h AS (INSERT INTO hashes (idx, hash) SELECT $7::bigint + g - 1, substring($8::bytea FROM 32 * (g - 1) + 1 FOR 32) FROM generate_series(1, ${b.hashes.length}) AS g)
     INSERT INTO checkpoints (tree_size, note) VALUES ($${refsAt + 3}, $${refsAt + 4})`,
    [
      es.map((e) => e.index),
      ends,
      blob,
      leaves,
      to.map((x) => x[0]),
      to.map((x) => x[1]),
      b.hashes[0]?.[0] ?? 0,
      hashes,
      ...meta,
      refs.map((x) => x[0]),
      refs.map((x) => x[1]),
      refs.map((x) => x[2]),
      b.treeSize,
      Buffer.from(b.checkpoint.buffer, b.checkpoint.byteOffset, b.checkpoint.byteLength),
    ],
  );
}

/** One row per (party, index), the first kept; two different hashes for one key in the input is a conflict. */
function dedupe<T extends { party: string; index: number; leafHash: Hash }>(rows: readonly T[]): T[] {
  const seen = new Map<string, T>();
  for (const r of rows) {
    const k = `${r.index} ${r.party}`;
    const held = seen.get(k);
    if (held === undefined) seen.set(k, r);
    else if (!bytesEqual(held.leafHash, r.leafHash)) fail('STORE_CONFLICT', `entry ${r.index} of ${r.party} is given twice with different hashes`);
  }
  return [...seen.values()];
}

/** Inside a transaction: stores the received entries not yet held, in the order given; @returns how many were new. */
async function ingestOn(c: pg.PoolClient, entries: readonly ReceivedEntry[]): Promise<number> {
  const fresh = dedupe(entries);
  const held = await c.query<{ party: string; idx: number; leaf_hash: Buffer }>(
    'SELECT r.party, r.idx, r.leaf_hash FROM received r JOIN unnest($1::text[], $2::bigint[]) AS k(party, idx) ON r.party = k.party AND r.idx = k.idx',
    [fresh.map((e) => e.party), fresh.map((e) => e.index)],
  );
  const heldBy = new Map<string, Buffer>();
  for (const r of held.rows) heldBy.set(`${r.idx} ${r.party}`, r.leaf_hash);
  const add: ReceivedEntry[] = [];
  for (const e of fresh) {
    const h = heldBy.get(`${e.index} ${e.party}`);
    if (h !== undefined) {
      if (!bytesEqual(h, e.leafHash)) fail('STORE_CONFLICT', `entry ${e.index} of ${e.party} is already held with a different hash`);
      continue;
    }
    add.push(e);
  }
  if (add.length === 0) return 0;
  const cols = metaColumns(add.map((e) => e.meta));
  // WITH ORDINALITY … ORDER BY: seq follows the order given, as in SQLite.
  const r = await c.query(
    `INSERT INTO received (party, idx, leaf_hash, bytes, ${META}, received_at)
     SELECT party, idx, leaf_hash, bytes, ${META}, received_at FROM unnest($1::text[], $2::bigint[], $3::bytea[], $4::bytea[], ${META_TYPES.split(', ').map((t, i) => `$${i + 5}::${t}`).join(', ')}, $14::text[])
       WITH ORDINALITY AS u(party, idx, leaf_hash, bytes, ${META}, received_at, ord)
     ORDER BY ord
     ON CONFLICT (party, idx) DO NOTHING
     RETURNING party, idx`,
    [add.map((e) => e.party), add.map((e) => e.index), add.map((e) => e.leafHash), add.map((e) => e.bytes), ...cols, add.map((e) => e.receivedAt)],
  );
  if (r.rowCount === add.length) return add.length;
  // Another process stored some of them meanwhile (ON CONFLICT waited for its commit, so they are
  // visible now): the same hash is a duplicate, skipped; another hash is a fork, STORE_CONFLICT.
  const inserted = new Set(r.rows.map((x: { party: string; idx: number }) => `${x.idx} ${x.party}`));
  const rest = add.filter((e) => !inserted.has(`${e.index} ${e.party}`));
  const now = await c.query<{ party: string; idx: number; leaf_hash: Buffer }>(
    'SELECT r.party, r.idx, r.leaf_hash FROM received r JOIN unnest($1::text[], $2::bigint[]) AS k(party, idx) ON r.party = k.party AND r.idx = k.idx',
    [rest.map((e) => e.party), rest.map((e) => e.index)],
  );
  const nowBy = new Map(now.rows.map((x) => [`${x.idx} ${x.party}`, x.leaf_hash]));
  for (const e of rest) {
    const h = nowBy.get(`${e.index} ${e.party}`);
    if (h === undefined || !bytesEqual(h, e.leafHash)) fail('STORE_CONFLICT', `entry ${e.index} of ${e.party} is already held with a different hash`);
  }
  return inserted.size;
}

/** The batch must be internally consistent before it touches the database (the same rules as the SQLite store). */
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
    if (!bytesEqual(b.hashes[slot]![1], e.leafHash)) bad(`entry ${e.index} leaf hash differs from its stored hash`);
  }
  if (b.checkpoint.length === 0) bad('empty checkpoint');
  if (!(b.prevRoot instanceof Uint8Array) || b.prevRoot.length !== HASH_SIZE) bad('prevRoot is not a 32-byte hash');
}

/** Whether `n` can be an index of a log (what a BIGINT parameter accepts and a log can hold). */
function isIndex(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * The integer bounds of `from <= idx < to` as BIGINT parameters (what SQLite's
 * comparison of an integer column with any number selects), or undefined when
 * no index lies in it — so a fraction, a negative bound or one beyond 2^53
 * selects what it says instead of failing the query (PostgreSQL rejects such
 * a BIGINT parameter: 22P02/22003, which would read as STORE_UNAVAILABLE).
 */
function indexRange(from: number, to: number): [number, number] | undefined {
  if (Number.isNaN(from) || Number.isNaN(to)) return undefined;
  const lo = Math.max(0, Math.ceil(from));
  const hi = Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(to));
  return lo < hi ? [lo, hi] : undefined;
}

function viewOf(note: string): string {
  const i = note.indexOf('\n\n');
  return i < 0 ? '' : note.slice(0, i + 1);
}

function whereClause(where: readonly string[]): string {
  return where.length === 0 ? '' : `WHERE ${where.join(' AND ')}`;
}

function limitOf(q: ListQuery): number {
  return Number.isSafeInteger(q.limit) && q.limit > 0 ? q.limit : 0;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
function evaluationNoteOf(r: any): EvaluationNote {
  return { party: r.party, index: r.idx, cosigner: r.cosigner, treeSize: r.tree_size, cosignedAt: r.cosigned_at, note: r.note };
}


/** fileDeliveries: an answer row moved since the tracker read it (its compare-and-set failed); the batch rolls back. */
class AnswersMoved extends Error {}
