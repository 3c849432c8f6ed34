/**
 * The log writer: the only appender of a {@link LogStore}, by group commit.
 *
 * Submissions queue. One loop takes up to `maxBatch` of them, assigns each
 * the next index and a time, lets it build its entry (`prepare`, where the
 * node signs the envelope that embeds its own index), appends the leaf hashes
 * to a copy of the frontier, signs ONE checkpoint for the batch, and hands
 * the whole batch to `store.appendBatch` — one transaction, one fsync. Only
 * when that resolves does any submission of the batch resolve: acknowledged
 * means durable. Submissions that arrive while a batch commits wait for the
 * next one, so throughput grows with concurrency instead of being capped at
 * the disk's fsync rate.
 *
 * Failure rules:
 * - `prepare` throws → that submission rejects; no index is used for it (the
 *   next submission gets the index), so the log has no gap.
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
import type { EntryMeta, LogStore, OwnEntry } from './types.js';

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

interface Submission {
  readonly prepare: (index: number, time: Date) => Prepared;
  resolve(a: Appended): void;
  reject(e: unknown): void;
}

interface State {
  readonly frontier: Frontier;
  readonly checkpoint: Uint8Array | undefined;
}

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
   * @param prepare builds the entry for its index and time; called once, in
   *   index order, from the writer's loop. It must be synchronous and should
   *   be fast (it runs while other submissions wait).
   * @throws whatever `prepare` throws; StoreError from the store; StoreError
   *   `STORE_UNAVAILABLE` after {@link close}.
   */
  append(prepare: (index: number, time: Date) => Prepared): Promise<Appended> {
    if (this.#closed) return Promise.reject(storeClosed());
    return new Promise<Appended>((resolve, reject) => {
      this.#queue.push({ prepare, resolve, reject });
      // Start on the next macrotask, so every submission made in this turn,
      // and any I/O callback already due, joins the first batch.
      this.#loop ??= new Promise<void>((r) => setImmediate(r)).then(() => this.#run());
    });
  }

  /** Stops taking submissions and waits until every queued one has settled. Does not close the store. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#loop !== undefined) await this.#loop;
  }

  async #run(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        await this.#commit(batch);
        // Yield to I/O between batches, so work that arrived meanwhile joins the next one.
        if (this.#queue.length > 0) await new Promise<void>((r) => setImmediate(r));
      }
    } finally {
      this.#loop = undefined;
    }
  }

  async #commit(subs: Submission[]): Promise<void> {
    if (this.#stale) {
      try {
        this.#state = await loadState(this.#store, this.#origin);
        this.#stale = false;
      } catch (e) {
        for (const s of subs) s.reject(e);
        return;
      }
    }
    const frontier = this.#state.frontier.clone();
    let stored = storedHashCount(frontier.size);
    const entries: OwnEntry[] = [];
    const hashes: [number, Hash][] = [];
    const accepted: Submission[] = [];
    for (const s of subs) {
      const index = frontier.size;
      let p: Prepared;
      try {
        p = s.prepare(index, this.#tick());
        if (!(p.bytes instanceof Uint8Array)) throw new TypeError('prepare must return bytes as a Uint8Array');
      } catch (e) {
        s.reject(e); // no index used: the next submission takes it
        continue;
      }
      const leaf = leafHash(p.bytes);
      for (const h of frontier.append(leaf)) hashes.push([stored++, h]);
      entries.push({ index, leafHash: leaf, bytes: p.bytes, meta: p.meta });
      accepted.push(s);
    }
    if (accepted.length === 0) return;

    const treeSize = frontier.size;
    let checkpoint: Uint8Array;
    try {
      checkpoint = this.#sign({ origin: this.#origin, treeSize, rootHash: frontier.root(), extensions: [] });
      await this.#store.appendBatch({ entries, hashes, treeSize, checkpoint });
    } catch (e) {
      // Not acknowledged, but possibly persisted: resynchronize before reusing any index.
      this.#stale = true;
      for (const s of accepted) s.reject(e);
      return;
    }
    // Durable: advance, then acknowledge.
    this.#state = { frontier, checkpoint };
    entries.forEach((e, k) => accepted[k]!.resolve({ index: e.index, leafHash: e.leafHash, treeSize, checkpoint }));
  }

  /** Entry times never go backwards within one writer, even if the clock does. */
  #tick(): Date {
    const t = Math.max(this.#now().getTime(), this.#lastTime);
    this.#lastTime = t;
    return new Date(t);
  }
}

/** Reads size, frontier and latest checkpoint, and checks that they agree. */
async function loadState(store: LogStore, origin: string): Promise<State> {
  const size = await store.treeSize();
  const frontier = Frontier.restore(size, size === 0 ? [] : await store.readHashes(frontierIndexes(size)));
  const note = await store.latestCheckpoint();
  if (note === undefined) {
    if (size !== 0) fail('STORE_CORRUPT', `log of size ${size} has no checkpoint`);
    return { frontier, checkpoint: undefined };
  }
  let cp: Checkpoint;
  try {
    cp = parseCheckpoint(parseNote(note).text);
  } catch (e) {
    return fail('STORE_CORRUPT', 'latest checkpoint does not parse', e);
  }
  if (cp.origin !== origin) fail('STORE_CONFLICT', `stored log has origin ${JSON.stringify(cp.origin)}, not ${JSON.stringify(origin)}`);
  if (cp.treeSize !== size) fail('STORE_CORRUPT', `latest checkpoint is at size ${cp.treeSize}, the log has ${size} entries`);
  if (!bytesEqual(cp.rootHash, frontier.root())) fail('STORE_CORRUPT', `latest checkpoint's root differs from the stored hashes at size ${size}`);
  return { frontier, checkpoint: note };
}

function storeClosed(): StoreError {
  return new StoreError('STORE_UNAVAILABLE', 'log writer is closed');
}
