/**
 * Static mirror (issue 14): the node publishes its own log to a directory as
 * it grows, in the C2SP tlog-tiles layout it serves under /log/, so that any
 * web server or object store can serve the reads (`parley log verify --from
 * https://mirror.example/…`):
 *
 *     DIR/checkpoint                     C2SP tlog-checkpoint signed note (the node's latest)
 *     DIR/tile/<L>/<N>[.p/<W>]           hash tiles
 *     DIR/tile/entries/<N>[.p/<W>]       entry bundles
 *     DIR/timestamps                     issue 12: the RFC 3161 tokens of the latest stamped checkpoint
 *                                        the mirror covers, JSON as GET /log/timestamps (when any)
 *     DIR/.staging/                      temporary files (never served: serve no dotfiles)
 *     DIR/.parley-mirror.lock[.pid]      the publisher's lock (and its pid, advice for messages)
 *
 * Crash ordering — a reader never sees a checkpoint whose tiles are missing:
 *   1. every new tile and bundle is written to .staging, fsynced, renamed to
 *      its path (POSIX rename is atomic), and the directories that gained a
 *      name are fsynced — the files are durable;
 *   2. only then the checkpoint: staged, fsynced, renamed over DIR/checkpoint,
 *      DIR fsynced;
 *   3. then the time-stamp tokens, when the latest stamped checkpoint changed
 *      and is no larger than the published one (a verifier checks them
 *      against the checkpoint it verified);
 *   4. then partial tiles superseded by a full tile published in the same
 *      round are deleted (C2SP tlog-tiles lets a log delete them; readers
 *      fall back to the full tile, whose first W hashes are the partial
 *      tile's — tlog-source.ts does).
 * A kill -9 anywhere leaves the old checkpoint with all of its tiles, plus
 * files no checkpoint names yet (harmless; written again identically).
 *
 * Full tiles, full bundles and partial ones of a given width are final once
 * written ("a partial tile of width W is final for W"): nothing is ever
 * rewritten. On start the whole tree is checked by name (a `stat` per file)
 * and what is missing is written: a node started on an existing log fills an
 * empty directory, and a directory half-written by a crash is completed.
 *
 * One publisher per directory (with several processes of a party, give the
 * flag to one, or each its own directory): the publisher holds an exclusive
 * lock on DIR/.parley-mirror.lock for its life (store lock.ts: a POSIX
 * advisory lock the OS drops when the process dies, however it dies, so a
 * dead publisher's lock is simply taken over); a second one is refused with
 * MIRROR_LOCKED. Still, a checkpoint is never replaced by a smaller one found there.
 *
 * The directory is created without `mkdir -p` (Node's recursive mkdir never
 * returns for a path like /proc/x): one level at a time, so an impossible
 * directory fails at once with its errno.
 *
 * Off the write path: publishing runs after an append resolved, one round at
 * a time, at most every {@link MirrorOptions.intervalMs}; a burst of appends
 * makes one round. Its files are read from the store (hashes, entries), not
 * from the writer's memory. A round that fails (disk full) is logged and
 * retried at the next append or after {@link MIRROR_RETRY_MS}; the node goes
 * on appending meanwhile — the mirror lags, it never blocks the log.
 */
import { mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  type Checkpoint,
  type Tile,
  TILE_WIDTH,
  bytesEqual,
  fail,
  formatEntryBundle,
  formatEntryBundlePath,
  formatTilePath,
  fullTileCount,
  parseCheckpoint,
  parseNote,
  storedHashIndex,
  subtreeHash,
  subtreeIndexes,
  tilesToPublish,
} from '@parley/core';
import { type DirLock, type LogStore, lockDir } from '@parley/store';
import type { ParleyNode } from './service.js';
import { SILENT, type StructuredLogger } from './deadlines/clock.js';
import { heldTimestampSet } from './tsa/held.js';

/** Default least time between two publishing rounds (ms). */
export const MIRROR_INTERVAL_MS = 250;
/** How often a quiet log's mirror looks for new time-stamp tokens (ms). */
export const MIRROR_TOKENS_POLL_MS = 10_000;
/** Time before a failed round is tried again without a new append (ms). */
export const MIRROR_RETRY_MS = 5_000;

export interface MirrorOptions {
  /** The directory to publish to (created if missing). */
  readonly dir: string;
  readonly node: ParleyNode;
  /** The node's store: tiles and bundles are read from it. */
  readonly store: LogStore;
  readonly logger?: StructuredLogger;
  /** Least time between two rounds (default {@link MIRROR_INTERVAL_MS}); 0 publishes after every append. */
  readonly intervalMs?: number;
  /** Delete partial tiles once their full tile is published (default true). */
  readonly prunePartials?: boolean;
}

/** What one round published, for logs and tests. */
export interface MirrorRound {
  readonly fromSize: number;
  readonly treeSize: number;
  /** Tiles and bundles written (files that already existed are not counted). */
  readonly files: number;
  readonly pruned: number;
  readonly ms: number;
}

const STAGING = '.staging';
/** The publisher's lock file and its pid file, in the directory (dotfiles: never served). */
export const MIRROR_LOCK_FILE = '.parley-mirror.lock';
export const MIRROR_LOCK_PID_FILE = '.parley-mirror.lock.pid';

/** The publishers following each node, for its metrics (http/metrics.ts). */
const publishers = new WeakMap<ParleyNode, Set<MirrorPublisher>>();

/** The mirror publishers running for `node` (usually none or one). */
export function mirrorsOf(node: ParleyNode): readonly MirrorPublisher[] {
  return [...(publishers.get(node) ?? [])];
}
/** Files written concurrently in one round. */
const WRITERS = 8;

/** The checkpoint body of a signed note (trusted: our own, or our own mirror's). */
function checkpointOf(note: Uint8Array): Checkpoint {
  return parseCheckpoint(parseNote(note).text);
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
}

/**
 * Creates `path` and its missing parents one level at a time (not `mkdir
 * -p`: Node's recursive mkdir loops forever on a path it cannot create under
 * an existing parent, such as /proc/x).
 * @throws the errno error (ENOENT, EACCES, ENOTDIR, EROFS …) of the first level that cannot be made.
 */
export async function makeDir(path: string, depth = 0): Promise<void> {
  try {
    await mkdir(path);
    return;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      if ((await stat(path)).isDirectory()) return;
      throw Object.assign(new Error(`ENOTDIR: ${path} is not a directory`), { code: 'ENOTDIR', syscall: 'mkdir', path });
    }
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path || depth > 256) throw e;
  }
  await makeDir(dirname(path), depth + 1);
  try {
    await mkdir(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/**
 * Takes the mirror directory's publisher lock (see the module doc).
 * @throws ParleyError `MIRROR_LOCKED` while another publisher (process, or
 *   one of this process) holds it; `STORE_UNAVAILABLE` when it cannot be opened.
 */
export function lockMirrorDir(dir: string): DirLock {
  return lockDir(dir, {
    file: MIRROR_LOCK_FILE,
    pidFile: MIRROR_LOCK_PID_FILE,
    command: 'parley serve --mirror-dir',
    code: 'MIRROR_LOCKED',
    busy: (pid) => `the mirror directory ${dir} is being published to by another process${pid !== undefined ? ` (pid ${pid})` : ''}: one publisher per directory — stop it, or give this one its own directory`,
    self: `the mirror directory ${dir} already has a publisher in this process (pid ${process.pid})`,
  });
}

async function fsyncDir(path: string): Promise<void> {
  const fd = await open(path, 'r');
  try {
    await fd.sync();
  } finally {
    await fd.close();
  }
}

/**
 * Publishes a node's log to a static C2SP tlog-tiles directory (see the
 * module doc for the layout and the crash ordering).
 *
 * @example
 *   const mirror = await MirrorPublisher.start({ dir: '/srv/parley-mirror', node, store });
 *   // … appends are published as they happen …
 *   await mirror.stop();
 */
export class MirrorPublisher {
  readonly dir: string;
  readonly #o: MirrorOptions;
  readonly #log: StructuredLogger;
  readonly #interval: number;
  #published: Checkpoint | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #lastRound = 0;
  #stopped = false;
  #unsubscribe: () => void = () => undefined;
  #poll: ReturnType<typeof setInterval> | undefined;
  /** Directories known to exist (mkdir once). */
  readonly #dirs = new Set<string>();
  /** A conflict stops publishing for good (MIRROR_CONFLICT is logged once). */
  #conflict: Error | undefined;
  #warnedAhead = false;
  /** The `timestamps` file last written (its JSON), to write it only when it changes. */
  #timestamps: string | undefined;
  /** The published checkpoint is known to be of this node's tree (checked once, or written by us). */
  #checked = false;
  /** A round failed part-way: the next one checks by name what it may already have written. */
  #dirty = false;
  readonly #roundListeners = new Set<(r: MirrorRound) => void>();
  /** The directory's publisher lock, held from the start to {@link stop}. */
  #lock: DirLock | undefined;
  /** Resolves when the start's catch-up round ended (published, or failed and logged). */
  caughtUp: Promise<void> = Promise.resolve();
  /** Rounds that failed (disk full, a store error), since the start. */
  failures = 0;
  /** When the directory's checkpoint was last replaced (ms since the epoch; 0: not by this publisher). */
  publishedAt = 0;

  private constructor(o: MirrorOptions) {
    this.#o = o;
    this.dir = o.dir;
    this.#log = o.logger ?? SILENT;
    this.#interval = o.intervalMs ?? MIRROR_INTERVAL_MS;
  }

  /**
   * Opens the directory, checks that what it holds is this log, publishes
   * everything the node's latest checkpoint covers that is missing, and
   * follows the node's appends from then on.
   * @throws StoreError `MIRROR_CONFLICT` when the directory holds another
   *   log's checkpoint, or this log's at a size with another root;
   *   `MIRROR_LOCKED` while another publisher holds the directory; the
   *   errno error when the directory cannot be created.
   */
  static async start(o: MirrorOptions): Promise<MirrorPublisher> {
    const m = new MirrorPublisher(o);
    await makeDir(o.dir);
    // Before anything is touched: the staging area below is the live publisher's.
    m.#lock = lockMirrorDir(o.dir);
    try {
      // Leftovers of a crash: staged files no rename took.
      await rm(join(o.dir, STAGING), { recursive: true, force: true });
      await mkdir(join(o.dir, STAGING));
      await m.#readPublished();
      const published = m.#published;
      if (published !== undefined && published.treeSize <= o.node.treeSize) {
        if (!(await m.#sameTree(published))) fail('MIRROR_CONFLICT', `${o.dir} holds a checkpoint of size ${published.treeSize} whose root is not this log's at that size`);
        m.#checked = true;
      }
    } catch (e) {
      m.#lock.release();
      throw e;
    }
    // The catch-up (every file checked by name) runs in the background: a large log's does not hold the start.
    m.caughtUp = m.#round(true);
    m.#unsubscribe = o.node.onAppend(() => m.#schedule());
    m.#poll = setInterval(() => m.#schedule(), MIRROR_TOKENS_POLL_MS);
    m.#poll.unref();
    const set = publishers.get(o.node) ?? new Set<MirrorPublisher>();
    set.add(m);
    publishers.set(o.node, set);
    return m;
  }

  /** Size of the checkpoint the directory holds (0 when none). */
  get publishedSize(): number {
    return this.#published?.treeSize ?? 0;
  }

  /** Calls `listener` after each round that published a checkpoint. */
  onRound(listener: (r: MirrorRound) => void): () => void {
    this.#roundListeners.add(listener);
    return () => this.#roundListeners.delete(listener);
  }

  /** Publishes up to the node's latest checkpoint now, and resolves when that is durable. */
  async sync(): Promise<void> {
    if (this.#conflict) throw this.#conflict;
    while (this.#running) await this.#running;
    await this.#round(false);
    if (this.#conflict) throw this.#conflict;
  }

  /** Stops following appends and waits for a round in flight. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe();
    clearInterval(this.#poll);
    publishers.get(this.#o.node)?.delete(this);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    while (this.#running) await this.#running;
    this.#lock?.release();
  }

  /** The checkpoint the directory holds now, if it parses. */
  async #currentCheckpoint(): Promise<Checkpoint | undefined> {
    try {
      return checkpointOf(new Uint8Array(await readFile(join(this.dir, 'checkpoint'))));
    } catch {
      return undefined;
    }
  }

  async #readPublished(): Promise<void> {
    let note: Uint8Array;
    try {
      note = new Uint8Array(await readFile(join(this.dir, 'checkpoint')));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw e;
    }
    let cp: Checkpoint;
    try {
      cp = checkpointOf(note);
    } catch (e) {
      fail('MIRROR_CONFLICT', `${join(this.dir, 'checkpoint')} is not a checkpoint note`, e);
    }
    if (cp.origin !== this.#o.node.origin) fail('MIRROR_CONFLICT', `${this.dir} mirrors the log ${cp.origin}, not ${this.#o.node.origin}`);
    this.#published = cp;
  }

  #schedule(): void {
    if (this.#stopped || this.#conflict) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    if (this.#timer !== undefined) return;
    const wait = Math.max(0, this.#lastRound + this.#interval - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      // sync() may have started a round meanwhile: one at a time.
      if (this.#running) this.#again = true;
      else void this.#round(false);
    }, wait);
  }

  /** One round; never rejects (errors are logged and retried), except through #conflict. */
  #round(full: boolean): Promise<void> {
    const run = (async () => {
      try {
        await this.#publish(full);
      } catch (e) {
        if (e instanceof Error && (e as { code?: string }).code === 'MIRROR_CONFLICT') {
          this.#conflict = e;
          this.#log.error({ event: 'parley.mirror.conflict', dir: this.dir, error: e.message }, 'mirror directory conflicts with the log: publishing stopped');
        } else {
          this.#dirty = true;
          this.failures++;
          this.#log.warn({ event: 'parley.mirror.error', dir: this.dir, error: e instanceof Error ? e.message : String(e) }, 'publishing to the mirror failed; retrying');
          if (!this.#stopped && this.#timer === undefined) {
            this.#timer = setTimeout(() => {
              this.#timer = undefined;
              this.#schedule();
            }, MIRROR_RETRY_MS);
          }
        }
      }
    })();
    this.#running = run;
    return run.finally(() => {
      this.#running = undefined;
      this.#lastRound = Date.now();
      if (this.#again) {
        this.#again = false;
        this.#schedule();
      }
    });
  }

  async #publish(full: boolean): Promise<void> {
    const t0 = performance.now();
    const note = await this.#o.node.latestCheckpoint();
    if (note === undefined) return;
    const cp = checkpointOf(note);
    const old = this.#published;
    if (old !== undefined && cp.treeSize < old.treeSize) {
      // The data directory is behind what was published (a restored backup): the continuity
      // guard recovers the log from the peers; publishing a smaller checkpoint would show
      // readers a rollback. Wait until the node is past it.
      if (!this.#warnedAhead) this.#log.warn({ event: 'parley.mirror.behind', dir: this.dir, published: old.treeSize, treeSize: cp.treeSize }, 'the mirror is ahead of the node; waiting for the node to catch up');
      this.#warnedAhead = true;
      return;
    }
    if (old !== undefined && !this.#checked) {
      if (!(await this.#sameTree(old))) fail('MIRROR_CONFLICT', `${this.dir} holds a checkpoint of size ${old.treeSize} whose root is not this log's at that size`);
      this.#checked = true;
    }
    if (old !== undefined && cp.treeSize === old.treeSize && !full) {
      // Nothing appended; tokens of the published checkpoint may have come in since (the stamper is not on the write path).
      await this.#writeTimestamps(old.treeSize);
      return;
    }
    const fromSize = full ? 0 : (old?.treeSize ?? 0);
    const check = full || this.#dirty;
    const tiles = tilesToPublish(fromSize, cp.treeSize);
    const touched = new Set<string>();
    let files = 0;
    // A few files in flight: each write waits for its fsync, which a catch-up of thousands would serialise.
    let next = 0;
    let failure: { e: unknown } | undefined;
    const worker = async () => {
      while (next < tiles.length && !this.#stopped && failure === undefined) {
        const t = tiles[next++]!;
        try {
          files += await this.#writeTile(t, check, touched);
          if (t.level === 0) files += await this.#writeBundle(t, check, touched);
        } catch (e) {
          failure ??= { e };
        }
      }
    };
    // Every writer ends before the round does: none may write behind the next round's back.
    await Promise.all(Array.from({ length: Math.min(WRITERS, tiles.length) }, worker));
    if (failure !== undefined) throw failure.e;
    if (this.#stopped && next < tiles.length) return;
    for (const d of touched) await fsyncDir(d);
    // Another publisher of the same log on this directory (a second process of the party,
    // a shared volume) may have gone further: never replace its checkpoint with a smaller one.
    const there = await this.#currentCheckpoint();
    if (there !== undefined && there.origin === cp.origin && there.treeSize > cp.treeSize) {
      this.#published = there;
      this.#checked = false;
      return;
    }
    await this.#writeFile('checkpoint', note);
    await fsyncDir(this.dir);
    this.#published = cp;
    this.publishedAt = Date.now();
    this.#checked = true;
    this.#warnedAhead = false;
    this.#dirty = false;
    await this.#writeTimestamps(cp.treeSize);
    let pruned = 0;
    if (this.#o.prunePartials !== false) pruned = await this.#prune(full ? 0 : (old?.treeSize ?? 0), cp.treeSize);
    const round: MirrorRound = { fromSize: old?.treeSize ?? 0, treeSize: cp.treeSize, files, pruned, ms: performance.now() - t0 };
    for (const l of this.#roundListeners) l(round);
  }

  /**
   * Issue 12: the tokens of the latest stamped checkpoint of our log, as
   * GET /log/timestamps serves them, if it is no larger than `size` (the
   * checkpoint just published) and changed since the last write.
   */
  async #writeTimestamps(size: number): Promise<void> {
    const stamped = await this.#o.store.latestTimestampedSize(this.#o.node.party);
    if (stamped < 1 || stamped > size) return;
    const set = await heldTimestampSet(this.#o.store, this.#o.node.party, stamped);
    if (set === undefined) return;
    const json = JSON.stringify(set);
    if (json === this.#timestamps) return;
    await this.#writeFile('timestamps', new TextEncoder().encode(json));
    await fsyncDir(this.dir);
    this.#timestamps = json;
  }

  /** True when the node's tree at `cp.treeSize` has `cp`'s root (stored hashes, RFC 6962 §2.1). */
  async #sameTree(cp: Checkpoint): Promise<boolean> {
    if (cp.treeSize === 0) return true;
    const mine = await this.#o.store.checkpointAt(cp.treeSize);
    if (mine !== undefined) return bytesEqual(checkpointOf(mine).rootHash, cp.rootHash);
    const hashes = await this.#o.store.readHashes(subtreeIndexes(0, cp.treeSize));
    return bytesEqual(subtreeHash(0, cp.treeSize, hashes, 0)[0], cp.rootHash);
  }

  /** Writes hash tile `t` unless (on a full check) it is already there; returns 1 when written. */
  async #writeTile(t: Tile, check: boolean, touched: Set<string>): Promise<number> {
    const path = formatTilePath(t);
    if (check && (await exists(join(this.dir, path)))) return 0;
    const indexes: number[] = [];
    for (let i = 0; i < t.width; i++) indexes.push(storedHashIndex(8 * t.level, t.index * TILE_WIDTH + i));
    const hashes = await this.#o.store.readHashes(indexes);
    if (hashes.length !== t.width) fail('STORE_CORRUPT', `${hashes.length} hashes for ${path}`);
    const data = new Uint8Array(t.width * 32);
    hashes.forEach((h, i) => data.set(h, i * 32));
    await this.#writeFile(path, data, touched);
    return 1;
  }

  /** Writes the entry bundle of level-0 tile `t`; returns 1 when written. */
  async #writeBundle(t: Tile, check: boolean, touched: Set<string>): Promise<number> {
    const path = formatEntryBundlePath(t.index, t.width);
    if (check && (await exists(join(this.dir, path)))) return 0;
    const first = t.index * TILE_WIDTH;
    const entries = await this.#o.store.entries(first, first + t.width);
    if (entries.length !== t.width) fail('STORE_CORRUPT', `${entries.length} entries for ${path}`);
    await this.#writeFile(path, formatEntryBundle(entries.map((e) => e.bytes)), touched);
    return 1;
  }

  /** Stage, fsync, rename: the file at `rel` is the whole of `data` or absent. */
  async #writeFile(rel: string, data: Uint8Array, touched?: Set<string>): Promise<void> {
    const target = join(this.dir, rel);
    const parent = dirname(target);
    if (!this.#dirs.has(parent)) {
      const created = await mkdir(parent, { recursive: true });
      // A new directory's name lives in its parent: fsync those too (up to the one that existed).
      if (created !== undefined && touched) for (let d = parent; d.length >= created.length; d = dirname(d)) touched.add(dirname(d));
      this.#dirs.add(parent);
    }
    const tmp = join(this.dir, STAGING, `${randomBytes(8).toString('hex')}.tmp`);
    const fd = await open(tmp, 'wx', 0o644);
    try {
      await fd.writeFile(data);
      await fd.sync();
    } finally {
      await fd.close();
    }
    await rename(tmp, target);
    touched?.add(parent);
  }

  /**
   * Deletes the partial tiles and bundles whose full tile the round that
   * took the tree from `oldSize` to `newSize` published (`<N>.p/` directories).
   */
  async #prune(oldSize: number, newSize: number): Promise<number> {
    let n = 0;
    for (let level = 0; TILE_WIDTH ** level <= newSize; level++) {
      for (let i = fullTileCount(oldSize, level); i < fullTileCount(newSize, level); i++) {
        const partials = [`${formatTilePath({ level, index: i, width: 1 })}`];
        if (level === 0) partials.push(formatEntryBundlePath(i, 1));
        for (const p of partials) {
          const dir = join(this.dir, dirname(p)); // tile/<L>/<N>.p
          if (await exists(dir)) {
            await rm(dir, { recursive: true, force: true });
            n++;
          }
        }
      }
    }
    return n;
  }
}
