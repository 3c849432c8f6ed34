/**
 * Migration 4's data step (schema.ts): moves the evidence that versions up to
 * 2 kept as JSON in `settings` into the typed tables of migration 4, and
 * deletes the old keys — in the migration's transaction, so an old data
 * directory opens with its state intact or not migrated at all.
 *
 *     federation/push/<P>      {size}                      → cursors ('push', P)
 *     federation/pull/<P>      {size, frontier: [b64 …]}   → cursors ('pull', P)
 *     federation/cosigned/<P>  {size, at?, note}           → own_cosigned (P)
 *     federation/times/<P>     {<cosigner>: [[size, t] …]} → cosigned_times (P, cosigner, size)
 *     deadlines.escalations    {v: 1, escalated: [id …], pending: [{id, body, attempts, nextAttemptAt}]}
 *                                                          → escalations
 *
 * A value that does not have its documented shape is left in `settings`
 * untouched (nothing reads it any more; it stays for an operator to inspect)
 * rather than failing the upgrade. Fork proofs and unverified checkpoints
 * (federation/forks/, federation/unverified/) are not this migration's.
 */
import type { Database } from 'better-sqlite3';
import { parseBase64 } from '@parley/core';

const isSize = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

function frontierBytes(v: unknown): Uint8Array | undefined {
  if (!Array.isArray(v)) return undefined;
  try {
    const hashes = v.map((h) => (typeof h === 'string' ? parseBase64(h, 'frontier') : new Uint8Array(1)));
    if (hashes.some((h) => h.length !== 32)) return undefined;
    const out = new Uint8Array(32 * hashes.length);
    hashes.forEach((h, i) => out.set(h, 32 * i));
    return out;
  } catch {
    return undefined;
  }
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Moves the old settings values into migration 4's tables (see the module doc). */
export function importEvidenceSettings(db: Database): void {
  const rows = db.prepare("SELECT key, value FROM settings WHERE key LIKE 'federation/%' OR key = 'deadlines.escalations'").all() as { key: string; value: string }[];
  const done = db.prepare('DELETE FROM settings WHERE key = ?');
  const cursor = db.prepare('INSERT OR REPLACE INTO cursors (kind, party, tree_size, frontier) VALUES (?, ?, ?, ?)');
  const cosigned = db.prepare('INSERT OR REPLACE INTO own_cosigned (witness, tree_size, cosigned_at, note) VALUES (?, ?, ?, ?)');
  const time = db.prepare('INSERT OR IGNORE INTO cosigned_times (party, cosigner, tree_size, cosigned_at) VALUES (?, ?, ?, ?)');
  const escalation = db.prepare(
    'INSERT OR IGNORE INTO escalations (id, recorded_at, webhook, attempts, next_attempt_at, webhook_state) VALUES (?, 0, ?, ?, ?, ?)',
  );
  for (const { key, value } of rows) {
    const v = parse(value) as Record<string, unknown> | undefined;
    if (typeof v !== 'object' || v === null) continue;
    const [, kind, party] = /^federation\/(push|pull|cosigned|times)\/(.+)$/.exec(key) ?? [];
    if (kind === 'push' && isSize(v['size'])) {
      cursor.run('push', party, v['size'], new Uint8Array(0));
    } else if (kind === 'pull' && isSize(v['size'])) {
      const f = frontierBytes(v['frontier']);
      if (!f) continue;
      cursor.run('pull', party, v['size'], f);
    } else if (kind === 'cosigned' && isSize(v['size']) && v['size'] > 0 && typeof v['note'] === 'string' && v['note'] !== '') {
      cosigned.run(party, v['size'], isSize(v['at']) ? v['at'] : null, v['note']);
    } else if (kind === 'times') {
      for (const [cosigner, points] of Object.entries(v)) {
        if (!Array.isArray(points)) continue;
        for (const p of points) if (Array.isArray(p) && isSize(p[0]) && p[0] > 0 && isSize(p[1])) time.run(party, cosigner, p[0], p[1]);
      }
    } else if (key === 'deadlines.escalations' && Array.isArray(v['escalated'])) {
      const pending = new Map<string, { body: string; attempts: number; nextAttemptAt: number }>();
      for (const p of Array.isArray(v['pending']) ? (v['pending'] as Record<string, unknown>[]) : []) {
        if (typeof p?.['id'] === 'string' && typeof p['body'] === 'string' && isSize(p['attempts']) && typeof p['nextAttemptAt'] === 'number') {
          pending.set(p['id'], { body: p['body'], attempts: p['attempts'], nextAttemptAt: Math.floor(p['nextAttemptAt']) });
        }
      }
      for (const id of v['escalated']) {
        if (typeof id !== 'string') continue;
        const w = pending.get(id);
        if (w) escalation.run(id, w.body, w.attempts, w.nextAttemptAt, 'pending');
        else escalation.run(id, null, 0, 0, 'none');
      }
    } else continue;
    done.run(key);
  }
}
