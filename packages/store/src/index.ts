/** @parley/store — the LogStore interface and its SQLite implementation. */
export * from './types.js';
