/**
 * The data-directory lock for the commands that write a data directory
 * themselves (`serve`, `init`, `officer add`, `accord install`): one process
 * per directory (issue 9). The lock lives in @parley/store (store/src/lock.ts);
 * here its refusal becomes a usage error (exit 2) that keeps the code.
 * Commands that talk to a running node over HTTP (send, report, ack, inbox,
 * bundle import, login) do not take it: the node they talk to holds it.
 */
import { type DirLock, lockDataDir } from '@parley/store';
import { isParleyError } from '@parley/core/node';
import { UsageError } from './exit.js';

/**
 * Takes the exclusive lock of `dir` for the life of this process (or until
 * released), or throws a UsageError naming the directory and the holder's pid.
 */
export function lockDir(dir: string, command: string): DirLock {
  try {
    return lockDataDir(dir, command);
  } catch (e) {
    // DATA_DIR_LOCKED is the operator's to sort out (exit 2); a lock file that cannot be opened is the store's (4).
    if (isParleyError(e, 'DATA_DIR_LOCKED')) throw new UsageError(`${e.message} (${e.code})`, e.code);
    throw e;
  }
}

/** Runs `fn` holding the lock of `dir`, then releases it. */
export async function withDirLock<T>(dir: string, command: string, fn: () => Promise<T>): Promise<T> {
  const lock = lockDir(dir, command);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
