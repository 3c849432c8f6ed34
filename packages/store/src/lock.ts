/**
 * One process per data directory (issue 9): an exclusive lock on
 * `DIR/parley.lock`, held for the life of the process that writes the
 * directory (`parley serve`, `init`, `officer add`, `accord install`, …) and
 * released by the operating system when that process ends, however it ends
 * (kill -9 included).
 *
 * Node has no flock(2). SQLite's own POSIX advisory locks (fcntl F_SETLK on
 * the lock bytes at offset 2^30, sqlite.org/lockingv3.html) do the job without
 * a new native dependency: a separate SQLite file is opened with
 * `locking_mode=EXCLUSIVE` and `BEGIN EXCLUSIVE` with a busy timeout of 0, and
 * the transaction is never committed. A second process's `BEGIN EXCLUSIVE`
 * fails at once with SQLITE_BUSY. fcntl locks belong to the process, not the
 * descriptor; SQLite's unix VFS tracks them per inode within the process, so a
 * second connection in the same process is refused too, and closing one does
 * not drop another's lock.
 *
 * The holder's pid is written beside it to `DIR/parley.lock.pid` — advice for
 * the message only: the lock, not that file, decides who holds the directory.
 * Readers (HTTP clients, a read-only store, a backup) never take this lock.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { fail } from '@parley/core';

export const LOCK_FILE = 'parley.lock';
export const LOCK_PID_FILE = 'parley.lock.pid';

/** A held data-directory lock. */
export interface DirLock {
  readonly dir: string;
  /** Releases the lock (the OS releases it anyway when the process ends). */
  release(): void;
}

/** The lock files this process holds, so a repeat in-process call is refused too. */
const held = new Map<string, Database.Database>();

/** The pid recorded by the holder, when it is readable and that process is alive. */
export function lockHolder(dir: string): number | undefined {
  return pidOf(dir, LOCK_PID_FILE);
}

function pidOf(dir: string, name: string): number | undefined {
  let pid: number;
  try {
    pid = Number.parseInt(readFileSync(join(dir, name), 'utf8'), 10);
  } catch {
    return undefined;
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return undefined;
  try {
    process.kill(pid, 0); // signal 0: only asks whether the process exists
    return pid;
  } catch (e) {
    // EPERM: it exists but belongs to another user — still the holder.
    return (e as NodeJS.ErrnoException).code === 'EPERM' ? pid : undefined;
  }
}

/**
 * Takes the exclusive lock of data directory `dir` (which must exist) for
 * `command`, or fails at once.
 * @throws ParleyError `DATA_DIR_LOCKED` when another process (or this one)
 *   holds it, naming the directory and the holder's pid when known;
 *   `STORE_UNAVAILABLE` when the lock file cannot be opened.
 */
export function lockDataDir(dir: string, command = 'parley'): DirLock {
  return lockDir(dir, {
    file: LOCK_FILE,
    pidFile: LOCK_PID_FILE,
    command,
    code: 'DATA_DIR_LOCKED',
    busy: (pid) => `the data directory ${dir} is in use by another process${pid !== undefined ? ` (pid ${pid})` : ''}: one process per data directory — stop it first, or use its HTTP API`,
    self: `the data directory ${dir} is already in use by this process (pid ${process.pid})`,
  });
}

/** How {@link lockDir} names and reports one kind of directory lock. */
export interface DirLockOptions {
  /** The lock file's name in the directory. */
  readonly file: string;
  /** The holder's pid file's name (advice for messages). */
  readonly pidFile: string;
  readonly command: string;
  /** The error code when the lock is held (DATA_DIR_LOCKED, MIRROR_LOCKED). */
  readonly code: 'DATA_DIR_LOCKED' | 'MIRROR_LOCKED';
  /** The message when another process holds it (its pid when known). */
  busy(pid: number | undefined): string;
  /** The message when this process holds it already. */
  readonly self: string;
}

/**
 * The same exclusive lock (see the module doc) on any directory, under its
 * own file names: the data directory's, and the static mirror's (one
 * publisher per mirror directory, node mirror.ts). The operating system
 * releases it when its holder dies, so a stale lock of a dead process is
 * simply taken (its pid file is overwritten).
 * @throws ParleyError `o.code` when held; `STORE_UNAVAILABLE` when the lock file cannot be opened.
 */
export function lockDir(dir: string, o: DirLockOptions): DirLock {
  const file = join(dir, o.file);
  if (held.has(file)) fail(o.code, o.self);
  let db: Database.Database;
  try {
    db = new Database(file, { timeout: 0 });
  } catch (e) {
    fail('STORE_UNAVAILABLE', `cannot open the lock file ${file}: ${(e as Error).message}`, e);
  }
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    db.exec('BEGIN EXCLUSIVE');
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code !== 'SQLITE_BUSY') fail('STORE_UNAVAILABLE', `cannot lock ${file}: ${(e as Error).message}`, e);
    fail(o.code, o.busy(pidOf(dir, o.pidFile)));
  }
  held.set(file, db);
  const pidFile = join(dir, o.pidFile);
  try {
    const tmp = `${pidFile}.${process.pid}.tmp`;
    writeFileSync(tmp, `${process.pid}\n${o.command}\n`, { mode: 0o644 });
    renameSync(tmp, pidFile);
  } catch {
    // advice only: the lock is held whether or not the pid is recorded
  }
  let released = false;
  return {
    dir,
    release() {
      if (released) return;
      released = true;
      held.delete(file);
      if (pidOf(dir, o.pidFile) === process.pid) rmSync(pidFile, { force: true });
      db.close();
    },
  };
}
