/**
 * Driver errors → StoreError. Nothing from better-sqlite3 reaches a caller
 * raw: every `SqliteError` becomes a {@link StoreError} with a stable code and
 * the driver's error as `cause` (STYLE.md §8).
 *
 *     SQLITE_CONSTRAINT*                         → STORE_CONFLICT   (a write that contradicts what is stored)
 *     SQLITE_CORRUPT*, SQLITE_NOTADB, FORMAT     → STORE_CORRUPT
 *     everything else (BUSY, LOCKED, FULL, IOERR*, CANTOPEN, READONLY*,
 *     NOMEM, PROTOCOL, …)                         → STORE_UNAVAILABLE (retry later / fix the disk)
 *
 * Errors that are not the driver's (a TypeError from our own code) are bugs
 * and pass through unchanged (STYLE.md §7 d).
 */
import { fail, ParleyError } from '@parley/core';

/** SQLite's result code family of a driver error (`SQLITE_IOERR_WRITE` → `SQLITE_IOERR`). */
function family(code: string): string {
  const m = /^SQLITE_[A-Z]+/.exec(code);
  return m ? m[0] : code;
}

function storeCode(code: string): 'STORE_CONFLICT' | 'STORE_CORRUPT' | 'STORE_UNAVAILABLE' {
  switch (family(code)) {
    case 'SQLITE_CONSTRAINT':
      return 'STORE_CONFLICT';
    case 'SQLITE_CORRUPT':
    case 'SQLITE_NOTADB':
    case 'SQLITE_FORMAT':
      return 'STORE_CORRUPT';
    default:
      return 'STORE_UNAVAILABLE';
  }
}

function isDriverError(e: unknown): e is Error & { code: string } {
  return e instanceof Error && e.name === 'SqliteError' && typeof (e as { code?: unknown }).code === 'string';
}

/**
 * Rethrows `e` as a StoreError if it came from the driver.
 * @param what the operation, for the message.
 * @throws StoreError always for driver errors; `e` itself otherwise.
 */
export function rethrowStoreError(e: unknown, what: string): never {
  if (e instanceof ParleyError) throw e;
  if (isDriverError(e)) {
    fail(storeCode(e.code), `${what}: ${e.code}`, e);
  }
  // better-sqlite3 throws a TypeError once the connection is closed.
  if (e instanceof TypeError && /database connection is not open/.test(e.message)) fail('STORE_UNAVAILABLE', `${what}: store is closed`, e);
  throw e;
}
