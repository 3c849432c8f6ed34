/**
 * The log writer: the only appender of a {@link LogStore}, by group commit.
 *
 * Submissions queue. One loop takes up to `maxBatch` of them, assigns each
 * the next index and a time, lets it build its entry (`prepare`, where the
 * node signs the envelope that embeds its own index — synchronously, or
 * returning a promise: the node signs a batch's entries on its signing
 * threads, all at once, issue 14), appends the leaf hashes
 * to a copy of the frontier, signs ONE checkpoint for the batch, and hands
 * the whole batch to `store.appendBatch` — one transaction, one fsync. Only
 * when that resolves does any submission of the batch resolve: acknowledged
 * means durable. Submissions that arrive while a batch commits wait for the
 * next one, so throughput grows with concurrency instead of being capped at
 * the disk's fsync rate.
 *
 * Failure rules:
 * - `prepare` throws (or its promise rejects) → that submission rejects; no
 *   index is used for it (the next submission gets the index), so the log has
 *   no gap. Submissions of the batch after it had been prepared with indexes
 *   one too high: they go back to the queue and are prepared again.
 * - signing or `appendBatch` fails → every submission of the batch rejects
 *   with that error and the frontier is not advanced. The batch may still
 *   have committed ("failed but persisted": the process lost the answer, or
 *   the disk acknowledged late), so before the next batch the writer reads
 *   the store's size again and restores its frontier from what is stored; an
 *   index is never handed out twice for stored data.
 * - A rejected entry's bytes were signed with an index that a later entry may
 *   take: callers must not publish an entry before its append resolved.
 *
 * @example
 *   const w = await LogWriter.open(store, { origin, signCheckpoint: (cp) => signCheckpoint(cp, signer) });
 *   const { index, checkpoint } = await w.append((index, time) => ({ bytes: sign(index, time), meta }));
 */
import {
  type Checkpoint,
  bytesEqual,
  fail,
  Frontier,
  frontierIndexes,
  type Hash,
  leafHash,
  parseCheckpoint,
  parseNote,
  storedHashCount,
  StoreError,
} from '@parley/core';
import type { EntryMeta, IdempotencyRecord, LogStore, OwnEntry, ReceivedEntry } from './types.js';

export interface WriterOptions {
  /** The log's origin line, e.g. `parley.example/US`. */
  readonly origin: string;
  /** Signs the batch's checkpoint as a note (e.g. `cp => signCheckpoint(cp, signer)`). */
  signCheckpoint(cp: Checkpoint): Uint8Array;
  /** Most entries per batch (default 1024). */
  readonly maxBatch?: number;
  /** Clock for entry times (default `new Date()`). */
  readonly now?: () => Date;
}

/**
 * Decides whether the writer may sign now (issue 9, no rollback: the node's
 * continuity guard). Called before every submission is queued: `undefined`
 * means yes at once; a promise that resolves means yes once it does; one
 * that rejects refuses the submission with its error (nothing is signed).
 */
export type WriteGate = () => Promise<void> | undefined;

/** A run of entries signed earlier (recovered from peers), to store as they are: see {@link LogWriter.adopt}. */
export interface Adopted {
  readonly entries: readonly Prepared[];
  /**
   * The checkpoint note for the size after them, already signed, whose root
   * must equal the recomputed one; undefined to sign a new one.
   */
  readonly checkpoint?: Uint8Array;
}

/**
 * Builds the entry of one submission for its index and time: synchronously,
 * or as a promise (signed elsewhere). Called from the writer's loop, in index
 * order, at least once; again, with the same or another index, when what it
 * returned could not be used (see {@link LogWriter}).
 */
export type Prepare = (index: number, time: Date) => Prepared | Promise<Prepared>;

/** What `prepare` returns: the leaf input and its indexed facts. */
export interface Prepared {
  readonly bytes: Uint8Array;
  readonly meta: EntryMeta;
}

/** The result of a durable append. */
export interface Appended {
  readonly index: number;
  readonly leafHash: Hash;
  /** Tree size of the batch's checkpoint (> index). */
  readonly treeSize: number;
  /** The signed checkpoint note that first includes the entry. */
  readonly checkpoint: Uint8Array;
}

/** One submission: one entry, or a group of entries that are staged, committed and answered together (appendAll). */
/**
 * The idempotency key of a submission (issue 14): `record` makes the record
 * stored in the batch's transaction from what the submission appended (its
 * indexes, tree size and checkpoint are known once the batch is signed,
 * before it commits). It must not throw.
 */
export interface IdempotentAppend {
  readonly scope: string;
  readonly key: string;
  record(a: readonly Appended[]): IdempotencyRecord;
}

/** Options of {@link LogWriter.append} and {@link LogWriter.appendAll}. */
export interface AppendOptions {
  /**
   * Entries received from other parties to store in the same transaction as
   * the entry (a receipt and what it answers): durable together or not at
   * all. A conflict among them (STORE_CONFLICT) fails the whole batch.
   */
  readonly received?: readonly ReceivedEntry[];
  /** The write's idempotency key, stored with its entries (see {@link IdempotentAppend}). */
  readonly idempotency?: IdempotentAppend;
  /**
   * The caller holds the gate itself (a key rotation's own entries, which the
   * gate lets through while it holds every other write back): the submission
   * is not staged again after a lost conditional append — it fails with the
   * conflict, which its caller handles (a retry through the gate would wait
   * for the caller itself).
   */
  readonly ungated?: boolean;
}

/**
 * How many times a submission whose batch lost the conditional append
 * (STORE_CONFLICT: another process of the party appended first — a deposed
 * sequencer's batch in flight, or the new sequencer's) is staged again on
 * the re-read log before its caller sees the conflict.
 */
export const CONFLICT_RETRIES = 2;

interface Submission {
  readonly prepares: readonly Prepare[];
  readonly received: readonly ReceivedEntry[] | undefined;
  readonly idempotency: IdempotentAppend | undefined;
  /** See {@link AppendOptions.ungated}. */
  readonly ungated: boolean;
  /** Batches of it that lost the conditional append so far. */
  conflicts: number;
  resolve(a: readonly Appended[]): void;
  reject(e: unknown): void;
}

interface State {
  readonly frontier: Frontier;
  readonly checkpoint: Uint8Array | undefined;
}

/** A batch staged for commit: what the store gets, and whom to answer. */
interface Staged {
  readonly accepted: Submission[];
  readonly entries: OwnEntry[];
  readonly hashes: [number, Hash][];
  readonly treeSize: number;
  readonly checkpoint: Uint8Array;
  /** The root of the tree the batch was built on (AppendBatch.prevRoot). */
  readonly prevRoot: Hash;
  /** Received entries the accepted submissions carry (AppendBatch.received). */
  readonly received: ReceivedEntry[];
  /** Idempotency records of the accepted submissions (AppendBatch.idempotency). */
  readonly idempotency: IdempotencyRecord[];
  /** The frontier after the batch. */
  readonly frontier: Frontier;
}

/**
 * Below twice this many waiting submissions, an idle writer takes them all in
 * one batch (one fsync serves them best); from there on it takes half (see
 * LogWriter #run).
 */
const SPLIT_AT = 32;

export class LogWriter {
  readonly #store: LogStore;
  readonly #origin: string;
  readonly #sign: (cp: Checkpoint) => Uint8Array;
  readonly #maxBatch: number;
  readonly #now: () => Date;
  #state: State;
  /** Set after a failed batch: re-read the store before the next one. */
  #stale = false;
  #queue: Submission[] = [];
  #loop: Promise<void> | undefined;
  #closed = false;
  #lastTime = 0;
  #gate: WriteGate | undefined;
  /** Submissions of a batch that lost the conditional append, to stage again after the re-read. */
  #retry: Submission[] = [];
  /** The size the batch that lost the conditional append was built on, and its error: the retries go only if the log moved. */
  #conflictAt: { readonly size: number; readonly error: unknown } | undefined;

  private constructor(store: LogStore, opts: WriterOptions, state: State) {
    this.#store = store;
    this.#origin = opts.origin;
    this.#sign = opts.signCheckpoint;
    this.#maxBatch = Math.max(1, Math.floor(opts.maxBatch ?? 1024));
    this.#now = opts.now ?? (() => new Date());
    this.#state = state;
  }

  /**
   * Restores the frontier from `store.readHashes(frontierIndexes(size))` and
   * checks it against the latest checkpoint.
   * @throws StoreError `STORE_CORRUPT` when the stored hashes and the latest
   *   checkpoint disagree (size or root); `STORE_CONFLICT` when the stored log
   *   has another origin; store errors from the reads.
   */
  static async open(store: LogStore, opts: WriterOptions): Promise<LogWriter> {
    return new LogWriter(store, opts, await loadState(store, opts.origin));
  }

  /** Tree size as far as this writer knows (everything acknowledged). */
  get size(): number {
    return this.#state.frontier.size;
  }

  /** The latest checkpoint note this writer knows of (undefined for an empty log). */
  latestCheckpoint(): Uint8Array | undefined {
    return this.#state.checkpoint;
  }

  /**
   * Appends one entry; resolves once it is durable.
   * @param prepare builds the entry for its index and time, from the writer's
   *   loop, in index order (see {@link Prepare}). Its synchronous part should
   *   be fast (it runs while other submissions wait); what takes long (the
   *   signature) belongs in the promise it returns, which runs beside the
   *   other entries of the batch and the previous batch's commit.
   * @param o see {@link AppendOptions}. A batch that loses the conditional
   *   append (STORE_CONFLICT) is not the end of its submissions: each is
   *   staged again, through the gate, on the re-read log, up to
   *   {@link CONFLICT_RETRIES} times (`prepare` is then called again, with
   *   the new index); one whose idempotency key the store now holds is
   *   rejected with STORE_CONFLICT instead (the write was logged: its caller
   *   answers from the held record).
   * @throws whatever `prepare` throws; StoreError from the store; StoreError
   *   `STORE_UNAVAILABLE` after {@link close}.
   */
  append(prepare: Prepare, o: AppendOptions = {}): Promise<Appended> {
    if (this.#closed) return Promise.reject(storeClosed());
    // The gate sits here, before anything is signed: every entry and checkpoint of the log passes this line.
    const wait = this.#gate?.();
    if (wait !== undefined) return wait.then(() => this.append(prepare, o));
    return new Promise<readonly Appended[]>((resolve, reject) => {
      this.#queue.push({ prepares: [prepare], received: o.received, idempotency: o.idempotency, ungated: o.ungated === true, conflicts: 0, resolve, reject });
      // Start on the next macrotask, so every submission made in this turn,
      // and any I/O callback already due, joins the first batch.
      this.#loop ??= new Promise<void>((r) => setImmediate(r)).then(() => this.#run());
    }).then((a) => a[0]!);
  }

  /**
   * Appends several entries as one unit: they take consecutive indexes, are
   * committed in ONE `appendBatch` (one transaction, one checkpoint covering
   * all of them, possibly with other submissions' entries) and resolve
   * together — all durable, or none stored (an import is all or nothing).
   * @param prepares one per entry, called in order with consecutive indexes
   *   and one time; if any throws, the whole group rejects with that error
   *   and uses no index.
   * @throws as {@link append}; `prepares` empty → resolves to [].
   */
  appendAll(prepares: readonly Prepare[], o: Pick<AppendOptions, 'idempotency'> = {}): Promise<readonly Appended[]> {
    if (prepares.length === 0) return Promise.resolve([]);
    if (this.#closed) return Promise.reject(storeClosed());
    const wait = this.#gate?.();
    if (wait !== undefined) return wait.then(() => this.appendAll(prepares, o));
    return new Promise<readonly Appended[]>((resolve, reject) => {
      this.#queue.push({ prepares, received: undefined, idempotency: o.idempotency, ungated: false, conflicts: 0, resolve, reject });
      this.#loop ??= new Promise<void>((r) => setImmediate(r)).then(() => this.#run());
    });
  }

  /**
   * Re-reads size, frontier and checkpoint from the store, for a writer that
   * did not write what the store now holds: another process of the party
   * appended (several `parley serve` on one PostgreSQL database — node
   * sequencer.ts). A follower calls it to serve the grown log; a process
   * that becomes the sequencer calls it before it signs anything, so it
   * never signs an index the store already holds. While submissions are
   * queued or committing, the re-read happens before the next batch instead.
   * Never moves the frontier backwards.
   * @returns the tree size this writer now knows.
   */
  async resync(): Promise<number> {
    if (this.#loop !== undefined || this.#queue.length > 0) {
      this.#stale = true;
      return this.size;
    }
    const state = await loadState(this.#store, this.#origin);
    if (state.frontier.size >= this.#state.frontier.size) this.#state = state;
    return this.size;
  }

  /** Sets (or, with undefined, removes) the {@link WriteGate} every later submission passes. */
  setGate(gate: WriteGate | undefined): void {
    this.#gate = gate;
  }

  /**
   * Stores entries that were signed earlier — the tail of this log recovered
   * from peers' mirrors — at the end of the log, in one transaction with
   * their stored hashes and a checkpoint. Nothing of the entries is signed
   * again; the caller has verified each (our signature, seq = its index).
   * The writer must be idle (the caller holds the gate shut).
   * @returns the new tree size.
   * @throws StoreError `STORE_CONFLICT` when `checkpoint` is not of this log,
   *   of the new size, or its root differs from the recomputed one (the
   *   entries are not the history it commits to) — nothing is stored; store errors.
   */
  async adopt(a: Adopted): Promise<number> {
    if (this.#loop !== undefined || this.#queue.length > 0) throw new Error('internal: adopt while the writer is busy');
    if (a.entries.length === 0) return this.size;
    this.#state = await loadState(this.#store, this.#origin);
    const prevRoot = this.#state.frontier.root();
    const frontier = this.#state.frontier.clone();
    let stored = storedHashCount(frontier.size);
    const entries: OwnEntry[] = [];
    const hashes: [number, Hash][] = [];
    for (const p of a.entries) {
      const leaf = leafHash(p.bytes);
      const index = frontier.size;
      for (const h of frontier.append(leaf)) hashes.push([stored++, h]);
      entries.push({ index, leafHash: leaf, bytes: p.bytes, meta: p.meta });
    }
    const cp: Checkpoint = { origin: this.#origin, treeSize: frontier.size, rootHash: frontier.root(), extensions: [] };
    let note = a.checkpoint;
    if (note !== undefined) {
      let given: Checkpoint;
      try {
        given = parseCheckpoint(parseNote(note).text);
      } catch (e) {
        return fail('STORE_CONFLICT', 'the recovered checkpoint does not parse', e);
      }
      if (given.origin !== cp.origin || given.treeSize !== cp.treeSize || !bytesEqual(given.rootHash, cp.rootHash)) {
        fail('STORE_CONFLICT', `the recovered entries do not make the checkpoint of size ${given.treeSize}: this log differs from the cosigned history`);
      }
    } else {
      note = this.#sign(cp);
    }
    await this.#store.appendBatch({ entries, hashes, treeSize: cp.treeSize, checkpoint: note, prevRoot });
    // ---- durable: the recovered tail is part of the log.
    this.#state = { frontier, checkpoint: note };
    return cp.treeSize;
  }

  /** Stops taking submissions and waits until every queued one has settled. Does not close the store. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#loop !== undefined) await this.#loop;
  }

  /**
   * The loop, pipelined: while batch k commits (on a writer thread, with a
   * store that has one), batch k+1 is staged — indexes assigned, entries
   * prepared (signed, on the signing threads when `prepare` returns a
   * promise), hashes and checkpoint computed — on top of batch k's frontier,
   * so signing overlaps the commit's fsync. Commits stay strictly one after
   * another, and batch k+1 is handed to the store only after batch k is
   * durable. If batch k fails, batch k+1 was built on a tree that does not
   * exist: its submissions go back to the front of the queue and are
   * prepared again (with the same or new indexes) after the writer re-reads
   * the store. Nothing staged is ever acknowledged or published.
   *
   * When nothing commits and many submissions wait (a burst, or many
   * submitters that all waited on the last batch), the loop takes only half
   * of them: the first half commits while the second is staged, so staging
   * and committing overlap from then on instead of taking turns.
   */
  async #run(): Promise<void> {
    let inflight: { readonly staged: Staged; readonly done: Promise<boolean> } | undefined;
    try {
      while (this.#queue.length > 0 || inflight !== undefined) {
        let staging: Promise<Staged | undefined> | undefined;
        if (this.#queue.length > 0 && !this.#stale) {
          const base = inflight !== undefined ? inflight.staged.frontier : this.#state.frontier;
          const waiting = this.#queue.length;
          const take = inflight === undefined && waiting >= 2 * SPLIT_AT ? Math.ceil(waiting / 2) : waiting;
          staging = this.#stage(this.#queue.splice(0, Math.min(take, this.#maxBatch)), base);
        }
        const [ok, staged0] = await Promise.all([inflight?.done, staging]);
        let staged = staged0;
        if (inflight !== undefined) {
          inflight = undefined;
          if (ok === false && staged !== undefined) {
            this.#queue.unshift(...staged.accepted);
            staged = undefined;
          }
          // Those of a batch that lost the conditional append come first, after the re-read.
          if (!ok && this.#retry.length > 0) this.#queue.unshift(...this.#retry.splice(0));
        }
        if (staged === undefined) {
          if (this.#stale && this.#queue.length > 0) await this.#reload(this.#queue.splice(0, this.#maxBatch));
          continue;
        }
        inflight = { staged, done: this.#commit(staged) };
        // Yield to I/O, so work that arrived meanwhile joins the next batch.
        await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.#loop = undefined;
    }
  }

  /**
   * After a failed batch: re-read size, frontier and checkpoint; if that
   * fails, the waiting submissions fail with it. A submission staged again
   * after a conflict passes the gate again (a process that stopped being
   * the sequencer meanwhile signs nothing more), and one whose idempotency
   * key the store now holds is rejected: its write is logged.
   */
  async #reload(waiting: Submission[]): Promise<void> {
    try {
      this.#state = await loadState(this.#store, this.#origin);
      this.#stale = false;
      // A conflict with a log that did not move was not a lost race (a received entry held with
      // another hash, a constraint): staging it again would fail the same way.
      const conflict = this.#conflictAt;
      this.#conflictAt = undefined;
      const moved = conflict === undefined || this.#state.frontier.size !== conflict.size;
      // Submissions whose idempotency key the store now holds: their writes were logged (by another
      // batch, another process). One of them alone fails a whole batch, on a log that did not move:
      // the others in that batch go again without it, never rejected with its conflict.
      const held = new Set<Submission>();
      for (const s of waiting) {
        const k = s.idempotency;
        if (s.conflicts > 0 && k !== undefined && (await this.#store.idempotencyRecord(k.scope, k.key)) !== undefined) held.add(s);
      }
      const go: Submission[] = [];
      const checked: Submission[] = [];
      for (const s of waiting) {
        if (s.conflicts === 0) {
          go.push(s);
          continue;
        }
        if (held.has(s)) {
          s.reject(new StoreError('STORE_CONFLICT', `idempotency key ${JSON.stringify(s.idempotency!.key)} is held: the write was logged by another batch`));
          continue;
        }
        if (!moved && held.size === 0) {
          s.reject(conflict!.error);
          continue;
        }
        checked.push(s);
      }
      // Only now, when nothing above can throw (and reject them all), are any handed to the gate.
      for (const s of checked) {
        const wait = this.#gate?.();
        if (wait === undefined) go.push(s);
        else
          wait.then(
            () => this.#enqueue(s),
            (e: unknown) => s.reject(e),
          );
      }
      this.#queue.unshift(...go);
    } catch (e) {
      for (const s of waiting) s.reject(e);
    }
  }

  /** Queues a submission that passed the gate late, and makes sure the loop runs. */
  #enqueue(s: Submission): void {
    if (this.#closed) return s.reject(storeClosed());
    this.#queue.push(s);
    this.#loop ??= new Promise<void>((r) => setImmediate(r)).then(() => this.#run());
  }

  /**
   * Assigns indexes, prepares entries (all of them started before any is
   * awaited, so a pool signs them in parallel), computes hashes and signs the
   * checkpoint, on top of `base`. A submission whose prepare fails rejects;
   * those after it in the batch return to the front of the queue.
   */
  async #stage(subs: Submission[], base: Frontier): Promise<Staged | undefined> {
    const started: { readonly s: Submission; readonly results: (Prepared | Promise<Prepared>)[] }[] = [];
    let next = base.size;
    for (const s of subs) {
      const time = this.#tick();
      const results: (Prepared | Promise<Prepared>)[] = [];
      try {
        for (const [k, prepare] of s.prepares.entries()) results.push(prepare(next + k, time));
      } catch (e) {
        for (const r of results) if (r instanceof Promise) r.catch(() => {}); // abandoned with the group
        s.reject(e); // no index used: the next submission takes it
        continue;
      }
      started.push({ s, results });
      next += s.prepares.length;
    }
    const settled = await Promise.all(started.map((x) => Promise.allSettled(x.results)));
    const frontier = base.clone();
    const prevRoot = base.root();
    let stored = storedHashCount(frontier.size);
    const entries: OwnEntry[] = [];
    const hashes: [number, Hash][] = [];
    const accepted: Submission[] = [];
    const received: ReceivedEntry[] = [];
    const groups: number[] = [];
    for (let i = 0; i < started.length; i++) {
      const { s } = started[i]!;
      // A group is used whole or not at all: one failure leaves no index used.
      const failed = settled[i]!.find((r) => r.status === 'rejected');
      const group = settled[i]!.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
      const bad = failed !== undefined ? (failed as PromiseRejectedResult).reason : group.some((p) => !(p?.bytes instanceof Uint8Array)) ? new TypeError('prepare must return bytes as a Uint8Array') : undefined;
      if (bad !== undefined) {
        s.reject(bad);
        // Everything after was prepared for indexes one group too high: prepare it again.
        this.#queue.unshift(...started.slice(i + 1).map((x) => x.s));
        break;
      }
      for (const p of group as Prepared[]) {
        const index = frontier.size;
        const leaf = leafHash(p.bytes);
        for (const h of frontier.append(leaf)) hashes.push([stored++, h]);
        entries.push({ index, leafHash: leaf, bytes: p.bytes, meta: p.meta });
      }
      accepted.push(s);
      groups.push(group.length);
      if (s.received !== undefined) received.push(...s.received);
    }
    if (accepted.length === 0) return undefined;
    const treeSize = frontier.size;
    let checkpoint: Uint8Array;
    try {
      checkpoint = this.#sign({ origin: this.#origin, treeSize, rootHash: frontier.root(), extensions: [] });
    } catch (e) {
      for (const s of accepted) s.reject(e);
      return undefined;
    }
    // Idempotency records: what each keyed submission appended, known now, committed with it.
    const idempotency: IdempotencyRecord[] = [];
    let k = 0;
    try {
      accepted.forEach((s, j) => {
        const mine = entries.slice(k, k + groups[j]!);
        k += groups[j]!;
        if (s.idempotency !== undefined) idempotency.push(s.idempotency.record(mine.map((e) => ({ index: e.index, leafHash: e.leafHash, treeSize, checkpoint }))));
      });
    } catch (e) {
      // "Must not throw": if one does, the batch is not committed (no index used) and fails whole.
      for (const s of accepted) s.reject(e);
      return undefined;
    }
    return { accepted, entries, hashes, treeSize, checkpoint, prevRoot, received, idempotency, frontier };
  }

  /** Commits a staged batch; true when it is durable (and acknowledged), false when it failed (and rejected). */
  async #commit(b: Staged): Promise<boolean> {
    try {
      await this.#store.appendBatch({
        entries: b.entries,
        hashes: b.hashes,
        treeSize: b.treeSize,
        checkpoint: b.checkpoint,
        prevRoot: b.prevRoot,
        ...(b.received.length > 0 ? { received: b.received } : {}),
        ...(b.idempotency.length > 0 ? { idempotency: b.idempotency } : {}),
      });
    } catch (e) {
      // Not acknowledged, but possibly persisted: resynchronize before reusing any index.
      this.#stale = true;
      // A lost conditional append wrote nothing (the store's contract): its submissions may go again.
      const conflict = e instanceof StoreError && e.code === 'STORE_CONFLICT';
      if (conflict) this.#conflictAt = { size: b.treeSize - b.entries.length, error: e };
      for (const s of b.accepted) {
        if (conflict && s.conflicts < CONFLICT_RETRIES && !s.ungated && !this.#closed) {
          s.conflicts++;
          this.#retry.push(s);
        } else s.reject(e);
      }
      return false;
    }
    // Durable: advance, then acknowledge.
    this.#state = { frontier: b.frontier, checkpoint: b.checkpoint };
    let k = 0;
    for (const s of b.accepted) {
      const mine = b.entries.slice(k, k + s.prepares.length);
      k += s.prepares.length;
      s.resolve(mine.map((e) => ({ index: e.index, leafHash: e.leafHash, treeSize: b.treeSize, checkpoint: b.checkpoint })));
    }
    return true;
  }

  /** Entry times never go backwards within one writer, even if the clock does. */
  #tick(): Date {
    const t = Math.max(this.#now().getTime(), this.#lastTime);
    this.#lastTime = t;
    return new Date(t);
  }
}

/**
 * Reads size, frontier and latest checkpoint, and checks that they agree.
 *
 * Safe while another process appends (issue 14): the reads are not one
 * snapshot, so the state is anchored on the latest checkpoint, read AFTER
 * the size — its tree size S is ≥ the size read unless the store is
 * corrupt — and the frontier is read at S (stored hashes never change once
 * committed). A log that grew past S meanwhile makes the next batch fail
 * the conditional append, and the writer reloads.
 */
async function loadState(store: LogStore, origin: string): Promise<State> {
  const size = await store.treeSize();
  const note = await store.latestCheckpoint();
  if (note === undefined) {
    if (size !== 0) fail('STORE_CORRUPT', `log of size ${size} has no checkpoint`);
    return { frontier: Frontier.empty(), checkpoint: undefined };
  }
  let cp: Checkpoint;
  try {
    cp = parseCheckpoint(parseNote(note).text);
  } catch (e) {
    return fail('STORE_CORRUPT', 'latest checkpoint does not parse', e);
  }
  if (cp.origin !== origin) fail('STORE_CONFLICT', `stored log has origin ${JSON.stringify(cp.origin)}, not ${JSON.stringify(origin)}`);
  if (cp.treeSize < size) fail('STORE_CORRUPT', `latest checkpoint is at size ${cp.treeSize}, the log has ${size} entries`);
  const frontier = Frontier.restore(cp.treeSize, await store.readHashes(frontierIndexes(cp.treeSize)));
  if (!bytesEqual(cp.rootHash, frontier.root())) fail('STORE_CORRUPT', `latest checkpoint's root differs from the stored hashes at size ${cp.treeSize}`);
  return { frontier, checkpoint: note };
}

function storeClosed(): StoreError {
  return new StoreError('STORE_UNAVAILABLE', 'log writer is closed');
}
