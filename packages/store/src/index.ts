/** @parley/store — the LogStore interface, its SQLite implementation and the log writer. */
export * from './types.js';
export { type MigrationStep, SqliteStore, type SqliteStoreOptions } from './sqlite/store.js';
export { LogWriter, CONFLICT_RETRIES, type Adopted, type Appended, type AppendOptions, type IdempotentAppend, type Prepare, type Prepared, type WriteGate, type WriterOptions } from './writer.js';
export { withWriterThread } from './sqlite/threaded.js';
export { type DirLock, type DirLockOptions, LOCK_FILE, LOCK_PID_FILE, lockDataDir, lockDir, lockHolder } from './lock.js';
export { backupDatabase, databaseInUse, verifyStoreFile, type StoreSummary } from './sqlite/backup.js';
export { isPostgresUrl, PgStore, type PgStoreOptions, redactUrl, PG_SCHEMA_VERSION } from './postgres/index.js';
export { openStore, type OpenStoreOptions } from './factory.js';
export { copyStore, verifyCopy, dumpStore, dumpCounts, isDumpable, isEmpty, DUMP_KINDS, type CopyMismatch, type CopyProgress, type DumpKind, type DumpRecord, type DumpableStore, type DumpTables } from './copy.js';
export { MAX_IDEMPOTENCY_KEY } from './idempotency.js';
