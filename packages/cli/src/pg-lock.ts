/**
 * Offline commands on a PostgreSQL store (`parley recover`): the data
 * directory's lock keeps out a `parley serve` on THIS directory only, but
 * other serve processes of the party (other directories, other machines)
 * share the database (issue 14). Such a command takes the sequencer's
 * advisory lock for its whole run, as a sequencer would: it is refused while
 * a serve process holds it, and no serve process becomes sequencer (writes)
 * until it is done.
 */
import type { LogStore } from '@parley/store';
import { UsageError } from './exit.js';
import { storeLabel } from './datadir.js';

/** Takes the party's sequencer lock on a PostgreSQL store (a no-op on SQLite); returns its release. */
export async function holdSequencerLock(store: LogStore, origin: string, command: string): Promise<() => Promise<void>> {
  const [{ PgStore }, { LOCK_CLASS, sequencerLockKey }] = await Promise.all([import('@parley/store'), import('@parley/node')]);
  if (!(store instanceof PgStore)) return async () => {};
  const key = sequencerLockKey(origin);
  const c = await store.pool.connect();
  let got = false;
  try {
    got = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS ok', [LOCK_CLASS, key])).rows[0]?.ok === true;
  } finally {
    if (!got) c.release();
  }
  if (!got) {
    throw new UsageError(
      `a parley serve process of this party is running on ${storeLabel(store.url)} (it holds the sequencer lock): stop every serve process of the party before parley ${command} — a running node does this by itself (GET /v1/continuity)`,
      'DATA_DIR_LOCKED',
    );
  }
  return async () => {
    try {
      await c.query('SELECT pg_advisory_unlock($1, $2)', [LOCK_CLASS, key]);
    } finally {
      c.release();
    }
  };
}
