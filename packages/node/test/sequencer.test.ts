/**
 * The sequencer election (sequencer.ts, issue 14) on a real PostgreSQL
 * (127.0.0.1:5432, store/test/pg.ts: started if down, FAILS when it cannot be
 * reached): one holder per log origin, the holder named to the others by its
 * session, and a holder whose session is killed by the server steps down at
 * once while another takes over — never two sequencers at one instant.
 */
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { LOCK_CLASS, SequencerElection, sequencerLockKey } from '../src/sequencer.js';
import { freshPgUrl } from '../../store/test/pg.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 5_000): Promise<number> {
  const t0 = performance.now();
  while (!(await cond())) {
    if (performance.now() - t0 > ms) throw new Error(`not within ${ms} ms: ${what}`);
    await sleep(10);
  }
  return performance.now() - t0;
}

describe('sequencer election on a PostgreSQL advisory lock', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()!();
  });

  async function setup(n: number, origins: string[] = []) {
    const db = await freshPgUrl();
    const pools = Array.from({ length: n }, () => new pg.Pool({ connectionString: db.url, max: 3 }));
    for (const p of pools) p.on('error', () => undefined);
    const elections = pools.map((pool, i) => new SequencerElection({ pool, origin: origins[i] ?? 'us.parley.test/log', retryMs: 100, checkMs: 200 }));
    cleanup.push(async () => {
      for (const e of elections) await e.stop();
      for (const p of pools) await p.end();
      await db.drop();
    });
    for (const [i, e] of elections.entries()) await e.start(`http://127.0.0.1:${9000 + i}`);
    return { db, pools, elections };
  }

  it('elects one holder per log, and followers learn its URL from the database', async () => {
    const { elections } = await setup(3);
    await until('one sequencer', () => elections.some((e) => e.isSequencer));
    await sleep(300); // several retry rounds: nobody else gets it
    const holders = elections.filter((e) => e.isSequencer);
    expect(holders).toHaveLength(1);
    const url = holders[0]!.status().self;
    for (const e of elections.filter((x) => !x.isSequencer)) {
      expect(e.role).toBe('follower');
      expect(await e.sequencerUrl(0)).toBe(url);
    }
  });

  it('names only the holder in its own database: the same origin\u2019s lock in another database on the server is not its sequencer', async () => {
    // Another database on the same server (a staging copy, another installation) with a sequencer of the same origin.
    const other = await freshPgUrl();
    const holder = new pg.Client({ connectionString: other.url, application_name: 'parley:http://127.0.0.1:1/elsewhere' });
    await holder.connect();
    cleanup.push(async () => {
      await holder.end();
      await other.drop();
    });
    await holder.query('SELECT pg_advisory_lock($1, $2)', [LOCK_CLASS, sequencerLockKey('us.parley.test/log')]);
    // Here nobody holds it (not started: a follower that has not competed yet).
    const db = await freshPgUrl();
    const pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const e = new SequencerElection({ pool, origin: 'us.parley.test/log', retryMs: 100, checkMs: 200 });
    cleanup.push(async () => {
      await e.stop();
      await pool.end();
      await db.drop();
    });
    expect(await e.sequencerUrl(0)).toBeUndefined();
  });

  it('keeps the logs of two parties apart (one lock each)', async () => {
    const { elections } = await setup(2, ['us.parley.test/log', 'cn.parley.test/log']);
    await until('both sequencers', () => elections.every((e) => e.isSequencer));
    expect(sequencerLockKey('us.parley.test/log')).not.toBe(sequencerLockKey('cn.parley.test/log'));
  });

  it('steps down at once when the server ends its session, and another takes over; never two at once', async () => {
    const { db, elections } = await setup(2);
    await until('one sequencer', () => elections.some((e) => e.isSequencer));
    const changes: string[] = [];
    let both = false;
    for (const [i, e] of elections.entries())
      e.onChange((role) => {
        changes.push(`${i}:${role}`);
        if (elections.every((x) => x.isSequencer)) both = true;
      });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    cleanup.push(() => admin.end());
    for (let round = 0; round < 3; round++) {
      const holder = elections.findIndex((e) => e.isSequencer);
      const other = elections[1 - holder]!;
      // The holder's lock session, as PostgreSQL sees it.
      const r = await admin.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::int4::oid AND objid = $2::int4::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, [LOCK_CLASS, sequencerLockKey('us.parley.test/log')]);
      expect(r.rows).toHaveLength(1);
      await admin.query('SELECT pg_terminate_backend($1)', [r.rows[0]!.pid]);
      const down = await until('the holder steps down', () => !elections[holder]!.isSequencer, 3_000);
      const up = await until('the other takes over', () => other.isSequencer, 3_000);
      expect(down).toBeLessThan(1_000);
      expect(up).toBeLessThan(2_000);
      expect(await elections[holder]!.sequencerUrl(0)).toBe(other.status().self);
    }
    expect(both).toBe(false);
    expect(changes.filter((c) => c.endsWith('sequencer')).length).toBe(3);
  });

  it('does not take the lock back while holdWhile waits (its last term is still stopping); tries again once it settles', async () => {
    const { db, elections } = await setup(1);
    const e = elections[0]!;
    await until('the sequencer', () => e.isSequencer);
    let finish!: () => void;
    const stopping = new Promise<void>((r) => (finish = r));
    e.onChange((role) => {
      if (role === 'follower') e.holdWhile(stopping);
    });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    cleanup.push(() => admin.end());
    const holders = async () => (await admin.query(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = $1::int4::oid AND objid = $2::int4::oid AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`, [LOCK_CLASS, sequencerLockKey('us.parley.test/log')])).rows as { pid: number }[];
    await admin.query('SELECT pg_terminate_backend($1)', [(await holders())[0]!.pid]);
    await until('it steps down', () => !e.isSequencer, 3_000);
    // retryMs is 100: ten tries' worth of time, and the free lock is left alone.
    await sleep(1_000);
    expect(e.isSequencer).toBe(false);
    expect(await holders()).toHaveLength(0);
    finish();
    expect(await until('it takes the lock once the hold settled', () => e.isSequencer, 2_000)).toBeLessThan(2_000);
  });

  it('hands the lock over on stop', async () => {
    const { elections } = await setup(2);
    await until('one sequencer', () => elections.some((e) => e.isSequencer));
    const holder = elections.find((e) => e.isSequencer)!;
    const other = elections.find((e) => e !== holder)!;
    await holder.stop();
    expect(holder.isSequencer).toBe(false);
    await until('the other takes over', () => other.isSequencer, 2_000);
  });
});
