/**
 * Migration 10's data step (schema.ts, issue 14): moves the governance state
 * that schema ≤ 9 kept as JSON in `settings` into the typed tables of
 * migration 10 and deletes the old keys, in the migration's transaction — an
 * old data directory opens with every value in its table, or is not
 * migrated at all. Which keys, and what a value must look like to move:
 * governanceRows.ts ({@link legacyRows}); a value that does not is left in
 * `settings`.
 */
import type { Database } from 'better-sqlite3';
import { LEGACY_SETTING_PATTERNS, legacyRows, MIGRATED_AT } from '../governanceRows.js';

/** Moves the old settings values into migration 10's tables (see the module doc). */
export function importGovernanceSettings(db: Database): void {
  const where = LEGACY_SETTING_PATTERNS.map(() => 'key LIKE ?').join(' OR ');
  const rows = db.prepare(`SELECT key, value FROM settings WHERE ${where} ORDER BY key`).all(...LEGACY_SETTING_PATTERNS) as { key: string; value: string }[];
  const done = db.prepare('DELETE FROM settings WHERE key = ?');
  const head = db.prepare('INSERT INTO accord_chain (one, channel, revision) VALUES (1, ?, 1)');
  const version = db.prepare('INSERT INTO accord_versions (version, signed) VALUES (?, ?)');
  const activation = db.prepare('INSERT INTO accord_activations (party, version, pos, size, suspect_from, entry) VALUES (?, ?, ?, ?, ?, ?)');
  const departed = db.prepare('INSERT OR IGNORE INTO departed_logs (party, version, digest, end_size) VALUES (?, ?, ?, ?)');
  const fork = db.prepare('INSERT OR IGNORE INTO accord_forks (proof, recorded_at) VALUES (?, ?)');
  const note = db.prepare('INSERT OR IGNORE INTO evaluation_notes (party, idx, cosigner, tree_size, cosigned_at, note) VALUES (?, ?, ?, ?, ?, ?)');
  for (const { key, value } of rows) {
    const r = legacyRows(key, value);
    if (r === undefined) continue;
    switch (r.kind) {
      case 'chain':
        head.run(r.chain.channel);
        for (const v of r.chain.versions) version.run(v.version, v.signed);
        r.chain.activations.forEach((a, i) => activation.run(a.party, a.version, i, a.size, a.suspectFrom ?? null, a.entry));
        break;
      case 'departed':
        for (const d of r.logs) departed.run(d.party, d.version, d.digest, d.end);
        break;
      case 'forks':
        for (const p of r.proofs) fork.run(p, MIGRATED_AT);
        break;
      case 'evaluation':
        note.run(r.note.party, r.note.index, r.note.cosigner, r.note.treeSize, r.note.cosignedAt, r.note.note);
        break;
    }
    done.run(key);
  }
}
