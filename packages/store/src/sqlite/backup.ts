/**
 * Online backup of a node's SQLite store, and the checks around it (issue 9:
 * `parley backup` / `parley restore`).
 *
 * {@link backupDatabase} copies a store while its node runs: SQLite's online
 * backup API (better-sqlite3 `db.backup`) on a READ-ONLY connection, which
 * takes no write lock — the node keeps committing meanwhile — and copies
 * pages until it has one consistent snapshot (the backup restarts by itself
 * when a page it copied changes under it, per the SQLite backup API). The
 * copy is written to a temporary file beside the target, fsynced, verified
 * ({@link verifyStoreFile}) and renamed over it, so a failed or interrupted
 * backup leaves no file that looks like a backup.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { type Hash, HASH_SIZE, bytesEqual, fail, leafHash, parseCheckpoint, parseNote, storedHashIndex, subtreeHash, subtreeIndexes } from '@parley/core';
import { SqliteStore } from './store.js';

/** What a store file holds, as a verification found it. */
export interface StoreSummary {
  /** Size of the own log. */
  readonly treeSize: number;
  /** How many checkpoints were checked against the stored hashes. */
  readonly checkpoints: number;
  /** The origin of the latest checkpoint (undefined for an empty log). */
  readonly origin?: string;
  /** Entries of other parties held (received + mirrored). */
  readonly othersEntries: number;
}

/**
 * Verifies a store file on a read-only connection: schema and layout (as
 * SqliteStore.open checks them), every entry's leaf hash = the hash of its
 * bytes = the stored level-0 hash, and every checkpoint's root = the root
 * the stored hashes give at its size (RFC 6962 §2.1 MTH). Signatures are not
 * checked here (the store holds no keys); the node checks its own at open.
 * @throws StoreError `STORE_CORRUPT` / `STORE_UNAVAILABLE`.
 */
export async function verifyStoreFile(path: string): Promise<StoreSummary> {
  const store = SqliteStore.open(path, { readonly: true });
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const n = await store.treeSize();
    for (let from = 0; from < n; from += 1024) {
      const entries = await store.entries(from, Math.min(n, from + 1024));
      const stored = await store.readHashes(entries.map((e) => storedHashIndex(0, e.index)));
      entries.forEach((e, k) => {
        const h = leafHash(e.bytes);
        if (!bytesEqual(h, e.leafHash) || !bytesEqual(h, stored[k]!)) fail('STORE_CORRUPT', `entry ${e.index}: its hash does not match the stored hashes`);
      });
    }
    let origin: string | undefined;
    let checked = 0;
    for (const row of db.prepare('SELECT tree_size, note FROM checkpoints ORDER BY tree_size').iterate() as IterableIterator<{ tree_size: number; note: Uint8Array }>) {
      let cp;
      try {
        cp = parseCheckpoint(parseNote(row.note).text);
      } catch (e) {
        return fail('STORE_CORRUPT', `checkpoint at ${row.tree_size} does not parse`, e);
      }
      if (cp.treeSize !== row.tree_size) fail('STORE_CORRUPT', `checkpoint stored at ${row.tree_size} is of size ${cp.treeSize}`);
      if (origin !== undefined && cp.origin !== origin) fail('STORE_CORRUPT', `checkpoints of two origins`);
      origin = cp.origin;
      const root = await rootAt(store, cp.treeSize);
      if (!bytesEqual(root, cp.rootHash)) fail('STORE_CORRUPT', `checkpoint at ${cp.treeSize}: its root differs from the stored hashes`);
      checked++;
    }
    const others = (db.prepare('SELECT (SELECT count(*) FROM received) + (SELECT count(*) FROM mirror)').pluck().get() as number) ?? 0;
    return { treeSize: n, checkpoints: checked, ...(origin !== undefined ? { origin } : {}), othersEntries: others };
  } finally {
    db.close();
    await store.close();
  }
}

async function rootAt(store: SqliteStore, size: number): Promise<Hash> {
  const hashes = await store.readHashes(subtreeIndexes(0, size));
  const [h] = subtreeHash(0, size, hashes, 0);
  if (h.length !== HASH_SIZE) fail('STORE_CORRUPT', 'bad hash');
  return h;
}

/**
 * Copies the store at `source` to `target` online (see the module doc) and verifies the copy.
 * @returns what the copy holds.
 * @throws StoreError `STORE_UNAVAILABLE` (no store at `source`, cannot write), `STORE_CORRUPT` (the copy does not verify).
 */
export async function backupDatabase(source: string, target: string): Promise<StoreSummary> {
  if (!existsSync(source)) fail('STORE_UNAVAILABLE', `no store at ${source}`);
  const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
  const db = new Database(source, { readonly: true, fileMustExist: true });
  try {
    await db.backup(tmp);
  } catch (e) {
    rmSync(tmp, { force: true });
    return fail('STORE_UNAVAILABLE', `backup of ${source} failed: ${(e as Error).message}`, e);
  } finally {
    db.close();
  }
  try {
    // The copy is a database of its own: no WAL beside it, so one file is the whole backup.
    const copy = new Database(tmp);
    copy.pragma('journal_mode = DELETE');
    copy.close();
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    const summary = await verifyStoreFile(tmp);
    renameSync(tmp, target);
    return summary;
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * True when another connection (a running node) has the database open: an
 * exclusive lock cannot be had (in WAL mode every open connection holds a
 * shared lock on the database for its life). Missing file: false.
 */
export function databaseInUse(path: string): boolean {
  if (!existsSync(path)) return false;
  const db = new Database(path, { fileMustExist: true, timeout: 200 });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('COMMIT');
    return false;
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY' || (e as { code?: string }).code === 'SQLITE_LOCKED') return true;
    throw e;
  } finally {
    db.close();
  }
}
