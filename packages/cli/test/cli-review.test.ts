/**
 * Refusals of the issue-13/14 commands found in review, with the real
 * binary: each must exit 2 with a message that names the flag at fault,
 * never 70 (an internal error) and never start work on bad input.
 */
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { PgStore } from '@parley/store';
import { LOCK_CLASS, sequencerLockKey } from '@parley/node';
import { foundChannel, parleyIn } from './helpers/channel.js';
import { freshPgUrl } from '../../store/test/pg.js';

let tmp = '';
beforeAll(() => {
  tmp = foundChannel('parley-cli-review-');
}, 120_000);
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = (args: readonly string[]) => parleyIn(tmp, args, { timeout: 60_000 });

describe('parley migrate: bad targets', () => {
  it('--to an existing file: exit 2 MIGRATE_TARGET_NOT_EMPTY, not an internal error', () => {
    writeFileSync(join(tmp, 'a-file'), 'x');
    const r = run(['migrate', '--from', 'us', '--to', 'a-file', '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('MIGRATE_TARGET_NOT_EMPTY');
  });
  it('--to an unusable postgres URL names --to, not --store', () => {
    const r = run(['migrate', '--from', 'us', '--to', 'postgres://']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--to "postgres:\/\/" is not a PostgreSQL URL/);
    expect(r.stderr).not.toMatch(/--store/);
  });
});

describe('a PostgreSQL URL with a password is refused (config.json and the process list would keep it)', () => {
  it.each([
    [['init', '--party', 'EU', '--origin', 'eu.parley.test/log', '--data', 'eu-pw', '--store', 'postgres://parley:s3cret@127.0.0.1:5432/x']],
    [['migrate', '--from', 'us', '--to', 'postgres://parley:s3cret@127.0.0.1:5432/x']],
    [['serve', '--data', 'us', '--store', 'postgres://parley:s3cret@127.0.0.1:5432/x']],
  ])('%j', (args) => {
    const r = run([...args, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    const out = JSON.parse(r.stdout) as { error: { detail: string } };
    expect(out.error.detail).toMatch(/carries a password.*PGPASSWORD/);
    expect(r.stdout + r.stderr).not.toContain('s3cret');
    expect(existsSync(join(tmp, 'eu-pw'))).toBe(false);
  });
});

describe('parley serve --advertise-url', () => {
  it('not an http(s) URL: exit 2 before anything opens', () => {
    const r = run(['serve', '--data', 'us', '--advertise-url', 'us-2:8444', '--store', 'postgres://postgres@127.0.0.1:5432/nope', '--json']);
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error.detail ?? JSON.parse(r.stdout).error.message ?? r.stdout).toMatch(/--advertise-url/);
  });
  it('longer than PostgreSQL application_name allows: exit 2, says so', () => {
    const r = run(['serve', '--data', 'us', '--advertise-url', `https://${'a'.repeat(60)}.example:8444`, '--store', 'postgres://postgres@127.0.0.1:5432/nope']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/--advertise-url .* longer than 56 bytes/);
  });
});

describe('parley import aiid: input checked before the node is asked', () => {
  // Nothing listens on port 9: an import that reached the node would exit 3 (NODE_UNREACHABLE).
  const offline = ['--url', 'http://127.0.0.1:9', '--token', 'x'.repeat(43), '--data', 'us', '--json'];
  it('a missing snapshot directory is FILE_UNREADABLE (exit 2), not "node unreachable"', () => {
    const r = run(['import', 'aiid', join(tmp, 'no-such-snapshot'), ...offline]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('FILE_UNREADABLE');
  });
  it('a malformed incidents.csv is AIID_CSV_MALFORMED (exit 2) with the node down', () => {
    writeFileSync(join(tmp, 'incidents.csv'), 'incident_id,date\n"1,2024-01-01\n');
    const r = run(['import', 'aiid', join(tmp, 'incidents.csv'), ...offline]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe('AIID_CSV_MALFORMED');
  });
  it('--limit 0 is refused', () => {
    const r = run(['import', 'aiid', join(tmp, 'incidents.csv'), '--limit', '0', ...offline]);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error.detail).toMatch(/--limit must be at least 1/);
  });
});

describe('parley init --store: a database that holds anything is refused', () => {
  it('one setting row (say, another node\'s witness state) is enough; nothing is written', async () => {
    const db = await freshPgUrl();
    try {
      const s = await PgStore.open(db.url);
      await s.putSetting('leftover', { from: 'another party' });
      await s.close();
      const r = run(['init', '--party', 'EU', '--origin', 'eu.parley.test/log', '--data', 'eu', '--store', db.url, '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(JSON.parse(r.stdout).error.detail).toMatch(/already holds/);
      expect(existsSync(join(tmp, 'eu', 'config.json'))).toBe(false);
    } finally {
      await db.drop();
    }
  });
});

describe('parley recover and migrate on a PostgreSQL store shared with running serve processes', () => {
  it('is refused while another process holds the sequencer lock, and holds it itself while it runs', async () => {
    const db = await freshPgUrl();
    try {
      const m = run(['migrate', '--from', 'cn', '--to', db.url, '--switch', '--json']);
      expect(m.code, m.stdout + m.stderr).toBe(0);
      // Another serve process of CN (another data directory, another machine) is the sequencer.
      const other = new pg.Client({ connectionString: db.url });
      await other.connect();
      const key = sequencerLockKey('cn.parley.test/log');
      expect((await other.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_CLASS, key])).rows[0].ok).toBe(true);
      const r = run(['recover', '--data', 'cn', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(JSON.parse(r.stdout).error.code).toBe('DATA_DIR_LOCKED');
      // Nor is the shared database copied away while another process writes it.
      const m2 = run(['migrate', '--from', 'cn', '--to', 'cn-copy', '--json']);
      expect(m2.code, m2.stdout + m2.stderr).toBe(2);
      expect(JSON.parse(m2.stdout).error.code).toBe('DATA_DIR_LOCKED');
      expect(existsSync(join(tmp, 'cn-copy'))).toBe(false);
      await other.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, key]);
      await other.end();
      // Nobody holds it: recover runs (no peer answers here: "unconfirmed", exit 1), and lets it go after.
      const r2 = run(['recover', '--data', 'cn', '--json']);
      expect(r2.code, r2.stdout + r2.stderr).toBe(1);
      expect(JSON.parse(r2.stdout).code).toBe('LOG_UNCONFIRMED');
      const after = new pg.Client({ connectionString: db.url });
      await after.connect();
      expect((await after.query('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_CLASS, key])).rows[0].ok).toBe(true);
      await after.end();
    } finally {
      await db.drop();
    }
  }, 120_000);
});

describe('parley serve --store on an empty database', () => {
  it('is refused (a wrong URL would start the party log anew from 0), and writes nothing there', async () => {
    const db = await freshPgUrl();
    try {
      const r = run(['serve', '--data', 'us', '--store', db.url, '--no-federation', '--no-web', '--json']);
      expect(r.code, r.stdout + r.stderr).toBe(2);
      expect(JSON.parse(r.stdout).error.detail).toMatch(/holds no party's data.*parley migrate/);
      const s = await PgStore.open(db.url);
      expect(await s.treeSize()).toBe(0);
      await s.close();
    } finally {
      await db.drop();
    }
  }, 60_000);
});
