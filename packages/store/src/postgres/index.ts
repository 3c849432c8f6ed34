export { isPostgresUrl, PgStore, type PgStoreOptions, redactUrl } from './store.js';
export { PG_MIGRATIONS, PG_SCHEMA_VERSION } from './schema.js';
