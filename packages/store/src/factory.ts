/**
 * One store factory for every caller (issue 14): a data directory's store is
 * either a SQLite file path (the zero-set-up default) or a `postgres://` /
 * `postgresql://` URL.
 *
 * @example
 *   const store = await openStore(process.env.PARLEY_STORE ?? 'data/parley.sqlite', { writerThread: true });
 */
import type { LogStore } from './types.js';
import { type MigrationStep, SqliteStore } from './sqlite/store.js';
import { withWriterThread } from './sqlite/threaded.js';
import { isPostgresUrl, PgStore } from './postgres/store.js';

export interface OpenStoreOptions {
  /** Open for reading only: no migrations; writes reject with STORE_UNAVAILABLE. */
  readonly readonly?: boolean;
  /** Told before each pending migration runs (and once when all have). */
  readonly onMigrate?: (s: MigrationStep) => void;
  /** SQLite only: run commits on a writer thread, as `parley serve` does (ignored for PostgreSQL, whose server does the I/O). */
  readonly writerThread?: boolean;
  /** PostgreSQL only: connection pool size (default 10). */
  readonly max?: number;
}

/**
 * Opens the store `spec` names: a postgres:// URL → {@link PgStore}, anything
 * else → the SQLite file at that path (created unless read-only).
 * @throws StoreError `STORE_UNAVAILABLE` (cannot open or reach it, newer
 *   schema), `STORE_CORRUPT` (inconsistent log).
 */
export async function openStore(spec: string, opts: OpenStoreOptions = {}): Promise<LogStore> {
  if (isPostgresUrl(spec)) {
    return PgStore.open(spec, {
      ...(opts.onMigrate ? { onMigrate: opts.onMigrate } : {}),
      ...(opts.max !== undefined ? { max: opts.max } : {}),
      ...(opts.readonly ? { readonly: true } : {}),
    });
  }
  const s = SqliteStore.open(spec, opts.readonly ? { readonly: true } : opts.onMigrate ? { onMigrate: opts.onMigrate } : {});
  return opts.writerThread === true && opts.readonly !== true ? withWriterThread(s, spec) : s;
}

export { isPostgresUrl };
