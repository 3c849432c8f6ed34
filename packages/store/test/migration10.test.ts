/**
 * Schema migration 10 (SQLite) and 2 (PostgreSQL), issue 14: the governance
 * state earlier releases kept as JSON settings — the accord chain, the ends
 * of departed parties' logs, accord fork proofs, evaluation notes — moves
 * into typed tables in the migration's transaction. A data directory of
 * schema 9 (fixture db/9-settings, made by the fixture maker at that
 * release) and a PostgreSQL database of schema 1 holding the same settings
 * open with every value in its table and the old keys gone; a value without
 * its documented shape stays in settings; and a migration that fails after
 * moving the rows leaves the old version with every setting in place.
 */
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate, MIGRATIONS, schemaVersion, SCHEMA_VERSION } from '../src/sqlite/schema.js';
import { SqliteStore } from '../src/sqlite/store.js';
import { migratePg, PG_MIGRATIONS, PG_SCHEMA_VERSION, pgSchemaVersion } from '../src/postgres/schema.js';
import { PgStore } from '../src/postgres/store.js';
import type { ChainFileActivation } from '@parley/core';
import type { LogStore, StoredAccordChain } from '../src/types.js';
import { tempDir } from './helpers.js';
import { freshPgUrl } from './pg.js';

const tmp = tempDir('parley-m10-');
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  await Promise.all(drops.map((d) => d()));
  tmp.cleanup();
}, 120_000);

const FIXTURE = fileURLToPath(new URL('./fixtures/db/9-settings/', import.meta.url));
const manifest = JSON.parse(readFileSync(join(FIXTURE, 'manifest.json'), 'utf8')) as { schemaVersion: number; treeSize: number; settings: Record<string, unknown>; legacySettings: Record<string, unknown> };
const legacy = manifest.legacySettings;
/** Values a migration must leave where they are: not in their documented shape. */
const MALFORMED: Record<string, unknown> = {
  'evaluation.cosigned/CN/7/UK': { cosigner: 'UK', size: 7, timestamp: 1, note: 'n' }, // size ≤ index
  'evaluation.cosigned/CN/8/UK': { cosigner: 'JP', size: 9, timestamp: 1, note: 'n' }, // cosigner ≠ key
};

/** Checks that `store` holds every legacy value in the typed tables and none of the moved keys. */
async function expectMoved(store: LogStore): Promise<void> {
  const chain = legacy['accord.chain'] as { channel: string; versions: unknown[]; activations: unknown[] };
  expect(await store.accordChain()).toEqual({ ...chain, revision: 1 });
  expect(await store.accordChainRevision()).toBe(1);
  expect(await store.departedLogs()).toEqual(Object.values(legacy['accord.departed'] as object));
  expect(await store.accordForkProofs()).toEqual(legacy['accord.forks']);
  for (const [key, v] of Object.entries(legacy)) {
    const m = /^evaluation\.cosigned\/(\w+)\/(\d+)\/(\w+)$/.exec(key);
    if (m === null) continue;
    const c = v as { cosigner: string; size: number; timestamp: number; note: string };
    expect(await store.evaluationNotes(m[1]!, Number(m[2]))).toEqual([{ party: m[1], index: Number(m[2]), cosigner: c.cosigner, treeSize: c.size, cosignedAt: c.timestamp, note: c.note }]);
  }
  for (const k of Object.keys(legacy)) expect(await store.getSetting(k), k).toBeUndefined();
  for (const [k, v] of Object.entries(MALFORMED)) expect(await store.getSetting(k), k).toEqual(v);
  expect(await store.evaluationNotes('CN', 7)).toEqual([]);
  expect(await store.getSetting('accord')).toEqual(manifest.settings['accord']); // the id binding stays a setting
  // And the chain goes on from the moved one.
  expect(await store.putAccordChain({ ...(chain as unknown as StoredAccordChain), activations: [...(chain.activations as ChainFileActivation[]), { party: 'CN', version: 3, size: 2, entry: 'e' }] })).toBe(2);
}

describe('SQLite migration 10', () => {
  it('opens the schema-9 fixture with its accord chain, departed ends, accord forks and evaluation notes in typed tables', async () => {
    expect(manifest.schemaVersion).toBe(9);
    const path = join(tmp.dir, 'fixture-9.sqlite');
    copyFileSync(join(FIXTURE, 'parley.sqlite'), path);
    const raw = new Database(path);
    expect(schemaVersion(raw)).toBe(9);
    const put = raw.prepare('INSERT INTO settings (key, value) VALUES (?, ?)');
    for (const [k, v] of Object.entries(MALFORMED)) put.run(k, JSON.stringify(v));
    raw.close();
    const store = SqliteStore.open(path);
    expect(await store.treeSize()).toBe(manifest.treeSize);
    await expectMoved(store);
    await store.close();
    expect(schemaVersion(new Database(path, { readonly: true }))).toBe(SCHEMA_VERSION);
  });

  it('is one transaction: a failure after the rows moved leaves schema 9 with every setting, and a retry moves them', async () => {
    const path = join(tmp.dir, 'fixture-9-fail.sqlite');
    copyFileSync(join(FIXTURE, 'parley.sqlite'), path);
    const db = new Database(path);
    const put = db.prepare('INSERT INTO settings (key, value) VALUES (?, ?)');
    for (const [k, v] of Object.entries(MALFORMED)) put.run(k, JSON.stringify(v));
    const m10 = MIGRATIONS[9]!;
    expect(m10.version).toBe(10);
    const failing = [
      ...MIGRATIONS.slice(0, 9),
      {
        ...m10,
        after: (d: Database.Database) => {
          m10.after!(d);
          expect(d.prepare(`SELECT count(*) FROM settings WHERE key LIKE 'accord.%'`).pluck().get()).toBe(0); // moved, not yet committed
          fail();
        },
      },
    ];
    expect(() => migrate(db, failing)).toThrow(/injected/);
    expect(schemaVersion(db)).toBe(9);
    expect(db.prepare(`SELECT count(*) FROM sqlite_master WHERE name = 'accord_chain'`).pluck().get()).toBe(0);
    const held = Object.fromEntries((db.prepare('SELECT key, value FROM settings').all() as { key: string; value: string }[]).map((r) => [r.key, JSON.parse(r.value)]));
    expect(held).toEqual({ ...manifest.settings, ...legacy, ...MALFORMED });
    db.close();
    const store = SqliteStore.open(path);
    try {
      await expectMoved(store);
    } finally {
      await store.close();
    }
  });
});

function fail(): never {
  throw new Error('injected: the process dies before COMMIT');
}

describe('PostgreSQL migration 2', () => {
  async function schema1(): Promise<string> {
    const db = await freshPgUrl();
    drops.push(db.drop);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    await migratePg(c, PG_MIGRATIONS.slice(0, 1));
    for (const [k, v] of Object.entries({ ...manifest.settings, ...legacy, ...MALFORMED })) await c.query('INSERT INTO settings (key, value) VALUES ($1, $2)', [k, JSON.stringify(v)]);
    await c.end();
    return db.url;
  }

  it('opens a schema-1 database holding the settings with every value in the typed tables', async () => {
    expect(PG_SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    const store = await PgStore.open(await schema1(), { max: 2 });
    await expectMoved(store);
    await store.close();
  });

  it('is one transaction: a failure after the rows moved leaves schema 1 with every setting', async () => {
    const url = await schema1();
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const m2 = PG_MIGRATIONS[1]!;
    await expect(migratePg(c, [PG_MIGRATIONS[0]!, { ...m2, after: async (x) => (await m2.after!(x), fail()) }])).rejects.toThrow(/injected/);
    expect(await pgSchemaVersion(c)).toBe(1);
    expect((await c.query(`SELECT to_regclass('accord_chain') IS NULL AS gone`)).rows[0].gone).toBe(true);
    expect((await c.query('SELECT count(*)::int AS n FROM settings')).rows[0].n).toBe(Object.keys({ ...manifest.settings, ...legacy, ...MALFORMED }).length);
    await c.end();
    const store = await PgStore.open(url, { max: 2 });
    await expectMoved(store);
    await store.close();
  });
});
