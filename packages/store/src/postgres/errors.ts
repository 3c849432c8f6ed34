/**
 * Driver errors → StoreError for the PostgreSQL store. Nothing from `pg`
 * reaches a caller raw (STYLE.md §8):
 *
 *     SQLSTATE class 23 (integrity constraint: unique, check, foreign key,
 *     our insert-only triggers)                   → STORE_CONFLICT
 *     XX001 data_corrupted, XX002 index_corrupted → STORE_CORRUPT
 *     everything else from the server (08 connection, 53 resources, 57
 *     operator intervention, 40 rollback, …) and socket errors (ECONNREFUSED,
 *     ECONNRESET, ETIMEDOUT, "Connection terminated") → STORE_UNAVAILABLE
 *
 * Errors that are neither (a TypeError from our own code) are bugs and pass
 * through unchanged.
 */
import { fail, ParleyError } from '@parley/core';

function storeCode(sqlstate: string): 'STORE_CONFLICT' | 'STORE_CORRUPT' | 'STORE_UNAVAILABLE' {
  if (sqlstate.startsWith('23')) return 'STORE_CONFLICT';
  if (sqlstate === 'XX001' || sqlstate === 'XX002') return 'STORE_CORRUPT';
  return 'STORE_UNAVAILABLE';
}

/** A server error: pg's DatabaseError carries a 5-character SQLSTATE and a severity. */
function isServerError(e: unknown): e is Error & { code: string } {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string' && /^[0-9A-Z]{5}$/.test((e as unknown as { code: string }).code) && 'severity' in e;
}

/** A socket or connection error from the client side. */
function isConnectionError(e: unknown): boolean {
  if (!(e instanceof Error)) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && /^(E[A-Z]+)$/.test(code)) return true; // ECONNREFUSED, ECONNRESET, ETIMEDOUT, ENOTFOUND, EPIPE …
  return /Connection terminated|connection timeout|Client has encountered a connection error|Cannot use a pool after calling end|Client was closed|timeout exceeded when trying to connect/i.test(e.message);
}

/**
 * Rethrows `e` as a StoreError if it came from the driver or the connection.
 * @param what the operation, for the message.
 */
export function rethrowPgError(e: unknown, what: string): never {
  if (e instanceof ParleyError) throw e;
  if (e instanceof AggregateError && e.errors.some(isConnectionError)) fail('STORE_UNAVAILABLE', `${what}: PostgreSQL is not reachable`, e);
  if (isServerError(e)) fail(storeCode(e.code), `${what}: PostgreSQL ${e.code} ${e.message}`, e);
  if (isConnectionError(e)) fail('STORE_UNAVAILABLE', `${what}: PostgreSQL is not reachable (${e instanceof Error ? e.message : String(e)})`, e);
  throw e;
}

export function toPgStoreError(e: unknown, what: string): unknown {
  try {
    return rethrowPgError(e, what);
  } catch (mapped) {
    return mapped;
  }
}
