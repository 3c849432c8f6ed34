/**
 * Sequencer election (issue 14): several `parley serve` processes of ONE
 * party on ONE PostgreSQL database; exactly one of them — the sequencer —
 * signs and appends the party's log and runs the once-per-party duties
 * (heartbeats, deadline escalations and webhooks, federation push/pull,
 * time stamping). The others serve reads and hand every write to it.
 *
 *     lock     pg_try_advisory_lock(LOCK_CLASS, key(origin)) on ONE dedicated
 *              session. A session lock is released by PostgreSQL when the
 *              session ends: the holder's process exits, is killed (kill -9:
 *              the kernel closes its socket, the backend ends at once), or
 *              stops talking (idle_session_timeout on the lock session, so a
 *              hung or partitioned holder loses the lock after
 *              {@link LOCK_IDLE_TIMEOUT_MS}).
 *     holder   pings its session every checkMs; an error, a closed session or
 *              no answer within 2 × checkMs = it stops being the sequencer at
 *              once (the node refuses writes before anything else runs).
 *     others   try the lock every retryMs.
 *     who      the holder's session carries `application_name = parley:<url>`:
 *              pg_locks ⋈ pg_stat_activity names the sequencer's URL, for
 *              followers to forward writes to — always the process that holds
 *              the lock at the time of the question, never a stale record.
 *
 * Fencing (why two writers cannot fork the log): a holder that lost its
 * session may still have a batch in flight. The store's append is
 * conditional on the previous size and root (LogStore.appendBatch): of two
 * batches built on one tree, one commits and the other fails with
 * STORE_CONFLICT, and the new sequencer re-reads its frontier from the store
 * before it signs (LogWriter.resync). An index is never signed twice into
 * the stored log.
 */
import { createHash } from 'node:crypto';
import type { Pool, PoolClient } from 'pg';
import { SILENT, type StructuredLogger } from './deadlines/clock.js';

/** First key of every Parley advisory lock: 'Prly'. */
export const LOCK_CLASS = 0x50726c79;
/** How long the lock session may stay silent before PostgreSQL ends it (and frees the lock). */
export const LOCK_IDLE_TIMEOUT_MS = 5_000;
/** Longest `application_name` PostgreSQL keeps (NAMEDATALEN − 1 bytes). */
const APP_NAME_MAX = 63;
const APP_PREFIX = 'parley:';

export type SequencerRole = 'sequencer' | 'follower';

/** What `GET /v1/sequencer` and /metrics report. */
export interface SequencerStatus {
  readonly role: SequencerRole;
  /** This process's base URL as advertised to the others. */
  readonly self: string | undefined;
  /** The sequencer's base URL, when known. */
  readonly sequencer: string | undefined;
  /** When this process took its current role (ms since the epoch). */
  readonly since: number;
  /** How many times this process became the sequencer. */
  readonly elected: number;
}

/** The second key of the lock: the first 4 bytes of SHA-256(origin), signed (pg int4). */
export function sequencerLockKey(origin: string): number {
  return createHash('sha256').update(`parley sequencer\n${origin}`).digest().readInt32BE(0);
}

export interface SequencerOptions {
  /** Where lock sessions come from: the PgStore's pool (one client is held for as long as this process is sequencer). */
  readonly pool: Pick<Pool, 'connect'>;
  /** The log origin: one lock per party log. */
  readonly origin: string;
  /** Least time between two tries of the lock by a follower (default 500 ms). */
  readonly retryMs?: number;
  /** How often the sequencer checks its lock session (default 1 000 ms). */
  readonly checkMs?: number;
  readonly logger?: StructuredLogger;
}

/**
 * One process's side of the election. Roles change only through the
 * listeners: `follower → sequencer` once the lock is held, `sequencer →
 * follower` the moment the lock session is in doubt.
 */
export class SequencerElection {
  readonly #pool: Pick<Pool, 'connect'>;
  readonly #key: number;
  readonly #retryMs: number;
  readonly #checkMs: number;
  readonly #log: StructuredLogger;
  readonly #listeners = new Set<(role: SequencerRole) => void>();
  #role: SequencerRole = 'follower';
  #since = Date.now();
  #elected = 0;
  #self: string | undefined;
  #client: PoolClient | undefined;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #cached: { url: string | undefined; at: number } | undefined;
  /** While set, this process does not try the lock (its last role's duties are still stopping): see {@link holdWhile}. */
  #held: Promise<unknown> | undefined;
  /** The running try or check, awaited by stop(). */
  #busy: Promise<void> = Promise.resolve();

  constructor(o: SequencerOptions) {
    this.#pool = o.pool;
    this.#key = sequencerLockKey(o.origin);
    this.#retryMs = o.retryMs ?? 500;
    this.#checkMs = o.checkMs ?? 1_000;
    this.#log = o.logger ?? SILENT;
  }

  get role(): SequencerRole {
    return this.#role;
  }

  get isSequencer(): boolean {
    return this.#role === 'sequencer';
  }

  /** Calls `l` on every change of role (synchronously, before anything else runs). */
  onChange(l: (role: SequencerRole) => void): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }

  /**
   * Sets the URL advertised to the other processes (the one they forward
   * writes to), and starts competing for the lock (the first try has run
   * when this resolves).
   * @throws Error for a URL longer than PostgreSQL keeps in application_name.
   */
  async start(self: string): Promise<void> {
    if (Buffer.byteLength(APP_PREFIX + self) > APP_NAME_MAX) throw new Error(`the advertised URL ${self} is longer than ${APP_NAME_MAX - APP_PREFIX.length} bytes (PostgreSQL application_name)`);
    this.#self = self;
    await this.#run(() => this.#try());
  }

  /** Stops competing; a sequencer releases the lock (another process takes over at its next try). */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#busy;
    const c = this.#client;
    this.#client = undefined;
    if (c !== undefined) {
      await c.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, this.#key]).catch(() => undefined);
      c.release(true);
    }
    this.#become('follower', 'stopped');
  }

  status(): SequencerStatus {
    return { role: this.#role, self: this.#self, sequencer: this.#role === 'sequencer' ? this.#self : this.#cached?.url, since: this.#since, elected: this.#elected };
  }

  /**
   * The base URL of the process holding the lock now (this one's when it
   * does), undefined when none does — in THIS database: pg_locks lists every
   * database's advisory locks, and another database on the same server may
   * hold a party's log of the same origin (a staging copy, another
   * installation). Cached for `maxAgeMs`.
   */
  async sequencerUrl(maxAgeMs = 250): Promise<string | undefined> {
    if (this.#role === 'sequencer') return this.#self;
    const now = Date.now();
    if (this.#cached !== undefined && now - this.#cached.at < maxAgeMs) return this.#cached.url;
    const c = await this.#pool.connect();
    try {
      const r = await c.query<{ name: string }>(
        `SELECT a.application_name AS name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::int4::oid AND l.objid = $2::int4::oid AND l.objsubid = 2
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
        [LOCK_CLASS, this.#key],
      );
      const name = r.rows[0]?.name;
      const url = name?.startsWith(APP_PREFIX) === true ? name.slice(APP_PREFIX.length) : undefined;
      this.#cached = { url, at: now };
      return url;
    } finally {
      c.release();
    }
  }

  /**
   * Gives the lock up (a takeover that could not complete: the store did not
   * answer): this process becomes a follower and competes again after
   * retryMs, so another process may take over meanwhile.
   */
  resign(why: string): void {
    if (this.#client !== undefined) this.#lost(new Error(why));
  }

  /**
   * Gives the lock up and competes no more until this process restarts
   * (a takeover that can never complete: the log key in force is not in
   * this data directory, KEY_RETIRED). Each win would only be a failed
   * takeover and writes answered 503 meanwhile. Said once.
   */
  withdraw(why: string): void {
    if (!this.#withdrawn) this.#log.error({ event: 'parley.sequencer.withdrawn', self: this.#self, why }, 'this process no longer competes for the sequencer lock until it is restarted');
    this.#withdrawn = true;
    if (this.#timer !== undefined && this.#client === undefined) clearTimeout(this.#timer);
    if (this.#client !== undefined) this.#lost(new Error(why));
  }

  /** True once {@link withdraw} was called: this process stays a follower until it restarts. */
  get withdrawn(): boolean {
    return this.#withdrawn;
  }

  #withdrawn = false;

  /**
   * Does not try the lock until `p` settles: a process whose duties of its
   * last term are still stopping (in-flight pushes and pulls to a peer that
   * does not answer, a slow store) must not take the lock back meanwhile —
   * it would hold it as "sequencer" while refusing every write until they
   * stopped, and no other process could take over (issue 14, the soak's
   * stall after a peer's kill -9 on a loaded machine).
   */
  holdWhile(p: Promise<unknown>): void {
    const held = p.then(
      () => undefined,
      () => undefined,
    );
    this.#held = held;
    void held.then(() => {
      if (this.#held === held) this.#held = undefined;
    });
  }

  /** Forgets the cached sequencer URL (it did not answer). */
  forget(): void {
    this.#cached = undefined;
  }

  #run(step: () => Promise<void>): Promise<void> {
    const run = this.#busy.then(step).catch((e: unknown) => this.#lost(e));
    this.#busy = run;
    return run;
  }

  #schedule(ms: number): void {
    // A withdrawn process tries the lock no more (a holder's checks go on until #lost).
    if (this.#stopped || (this.#withdrawn && this.#client === undefined)) return;
    this.#timer = setTimeout(() => void this.#run(() => (this.#client === undefined ? this.#try() : this.#check())), ms);
  }

  /** A follower's try: one session, one pg_try_advisory_lock; kept when it is granted. */
  async #try(): Promise<void> {
    if (this.#stopped || this.#withdrawn) return;
    if (this.#held !== undefined) return this.#schedule(this.#retryMs);
    let c: PoolClient | undefined;
    try {
      c = await this.#pool.connect();
      const got = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_CLASS, this.#key])).rows[0]?.ok === true;
      if (!got || this.#stopped || this.#withdrawn) {
        if (got) await c.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, this.#key]);
        c.release();
        c = undefined;
        return this.#schedule(this.#retryMs);
      }
      // Held: the session now names us, and PostgreSQL ends it if we fall silent.
      await c.query(`SELECT set_config('application_name', $1, false), set_config('idle_session_timeout', $2, false)`, [APP_PREFIX + this.#self!, `${LOCK_IDLE_TIMEOUT_MS}ms`]);
      const held = c;
      held.on('error', (e: Error) => {
        if (this.#client === held) this.#lost(e);
      });
      this.#client = held;
      c = undefined;
      this.#become('sequencer', 'lock acquired');
      this.#schedule(this.#checkMs);
    } catch (e) {
      c?.release(true);
      this.#log.warn({ event: 'parley.sequencer.try_failed', error: e instanceof Error ? e.message : String(e) }, 'could not try the sequencer lock');
      this.#schedule(this.#retryMs);
    }
  }

  /** The sequencer's check: its lock session answers within 2 × checkMs, else it steps down. */
  async #check(): Promise<void> {
    const c = this.#client;
    if (c === undefined || this.#stopped) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the lock session did not answer within ${2 * this.#checkMs} ms`)), 2 * this.#checkMs)));
    try {
      await Promise.race([c.query('SELECT 1'), late]);
    } finally {
      clearTimeout(timer);
    }
    this.#schedule(this.#checkMs);
  }

  /** The lock session is in doubt: step down now, drop the session, and compete again. */
  #lost(e: unknown): void {
    const c = this.#client;
    this.#client = undefined;
    if (c !== undefined) c.release(true);
    if (this.#role === 'sequencer') this.#log.error({ event: 'parley.sequencer.lost', error: e instanceof Error ? e.message : String(e) }, 'lost the sequencer lock session: stepping down');
    this.#become('follower', 'lock session lost');
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#schedule(this.#retryMs);
  }

  #become(role: SequencerRole, why: string): void {
    if (this.#role === role) return;
    this.#role = role;
    this.#since = Date.now();
    this.#cached = undefined;
    if (role === 'sequencer') this.#elected++;
    this.#log.info({ event: 'parley.sequencer.role', role, self: this.#self, why }, role === 'sequencer' ? 'this process is now the sequencer' : 'this process is now a follower');
    for (const l of this.#listeners) l(role);
  }
}
