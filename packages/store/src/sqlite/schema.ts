/**
 * The SQLite storage layout: the ONLY place tables, columns and indexes are
 * defined (STYLE.md §14). Everything else in `sqlite/` names these columns but
 * never creates or alters a table.
 *
 * Layout (migration 1):
 *
 *     entries      idx INTEGER PRIMARY KEY        own log entry `idx` (the envelope's seq)
 *                  leaf_hash BLOB(32), bytes BLOB  RFC 6962 leaf hash and leaf input
 *                  type, sender, officer, recipients (JSON array), time,
 *                  precedence, marking, incident (NULL unless a report), refs (JSON array)
 *     entry_to     (party, idx)                    one row per recipient: outbox by party
 *     entry_refs   (party, ref_idx, idx)           one row per ref: referencing(party, ref_idx)
 *     hashes       idx INTEGER PRIMARY KEY → hash  stored hash index (core storedIndex.ts) → 32 bytes
 *     checkpoints  tree_size PRIMARY KEY → note   every signed checkpoint note, one per batch
 *     received     seq INTEGER PRIMARY KEY AUTOINCREMENT (the inbox cursor),
 *                  party, idx UNIQUE together, leaf_hash, bytes, the same meta
 *                  columns as entries, received_at
 *     officers     name PRIMARY KEY, role, password_hash, created, disabled
 *     sessions     token_hash PRIMARY KEY, officer, created, expires
 *     settings     key PRIMARY KEY → value (JSON text)
 *
 * Added by migration 2 (witnessing, C2SP tlog-witness):
 *
 *     witness      origin TEXT PRIMARY KEY         another party's log origin (its key name)
 *                  party, tree_size ≥ 0,           whose log, and the latest checkpoint this
 *                  root_hash BLOB(32), note BLOB   node cosigned for it: size, root, and the
 *                                                  checkpoint note with that cosignature
 *
 * Added by migration 3 (issue 9, evidence of forks):
 *
 *     fork_proofs   seq PK, party, view_lo < view_hi   a fork proof against party's log, insert-only;
 *                   (the two checkpoint bodies, sorted) UNIQUE (party, view_lo, view_hi): one fork,
 *                   proof (canonical text), recorded_at  one proof, whatever the order seen
 *     unverified_checkpoints  seq PK, party, note,      a checkpoint kept for comparison at the next
 *                   kept_at, compared_at?, outcome?      contact; UNIQUE (party, note); compared_at and
 *                                                        outcome set once (NULL → value)
 *
 * Migration 3 moves the settings rows `federation/forks/<P>` and
 * `federation/unverified/<P>` (JSON arrays of text, the earlier layout)
 * into these tables and deletes them.
 * Added by migration 5 (issue 9, no rollback: every node is the others' off-site backup):
 *
 *     mirror       (party, idx) PRIMARY KEY         another party's log entry `idx`: its RFC 6962
 *                  leaf_hash BLOB(32), bytes BLOB    leaf hash and leaf input, exactly as that party
 *                                                    logged it (sealed bodies stay sealed)
 *
 * The mirror holds the entries of other parties' logs that `received` does
 * not (those not addressed to us); together they are each other log as far
 * as the pull scanned it, every entry checked against a cosigned checkpoint
 * (federation/pull.ts). Insert-only: a held (party, idx) with another hash is
 * a STORE_CONFLICT, never an overwrite.
 *
 * One row per witnessed log, replaced only by a compare-and-set on
 * tree_size (store.ts `advanceWitness`); no row means "never cosigned"
 * (size 0 for tlog-witness). Independent of the own-log invariants below.
 *
 * Added by migration 4 (issue 9: evidence gets typed tables, not
 * read-modify-write JSON in `settings`; values are moved out of the old
 * settings keys in the same transaction, settingsImport.ts):
 *
 *     cursors         (kind 'push'|'pull', party) → tree_size, frontier BLOB (32·k bytes:
 *                     pull: RFC 6962 compact range [0, size), largest subtree first;
 *                     push: empty). Moves only forward (`advanceCursor`). A 'push'
 *                     row under 'cosignatures/<peer>' (no party id has a '/') is how far
 *                     that peer's witness history of our log was read (gossip.ts).
 *     own_cosigned    witness (the peer) → tree_size, cosigned_at (POSIX s; NULL: not
 *                     known, migrated from a value without it), note: our checkpoint
 *                     with that peer's cosignature. Moves only forward (`advanceOwnCosigned`).
 *     cosigned_times  (party, cosigner, tree_size) → cosigned_at (POSIX s): cosigner
 *                     cosigned party's log at that size then. Insert-only.
 *     escalations     id → recorded_at (ms; 0: migrated), webhook (exact body; NULL:
 *                     none), attempts, next_attempt_at (ms), webhook_state. The row is
 *                     insert-only; its webhook's delivery state moves by compare-and-set
 *                     on attempts (`updateWebhook`).
 *
 * Added by migration 6 (issue 9, replay protection across restarts):
 *
 *     request_nonces  key TEXT PRIMARY KEY      `<party> <nonce>` of a verified federation
 *                     expires INTEGER           request (core federation/request.ts), and the
 *                                               POSIX second after which no request carrying
 *                                               it is accepted anyway; pruned past that
 *
 * Insert-only while live: a key is written once per request, replaced only
 * once expired (store.ts `rememberNonce`).
 *
 * Migration 7 (issue 11, key epochs) rekeys `witness` by PARTY: a party's log
 * keeps its origin across key rotations, but the party, not a key name, is
 * what the accord chain names, so the witness state follows the party:
 *
 *     witness      party TEXT PRIMARY KEY          another party of the accord
 *                  tree_size ≥ 0, root_hash BLOB(32), note BLOB   as in migration 2
 *
 * Each row of the earlier table moves to its `party` (were there two rows for
 * one party, the larger tree size is kept); the `origin` column is gone (the
 * origin is in the note's first line).
 *
 * Added by migration 8 (issue 12, trusted time):
 *
 *     checkpoint_timestamps  (party, tree_size, authority) PRIMARY KEY      an RFC 3161 time-stamp token
 *                  token BLOB (DER TimeStampToken), gen_time INTEGER      (core tsa) for the checkpoint of
 *                  (its genTime, ms since the epoch),                     party's log at tree_size, from the
 *                  note TEXT (the exact checkpoint note stamped:          accord authority named; insert-only
 *                  the imprint is SHA-256 of it, as its log signed it)
 *
 * Tokens are verified before they are stored (node tsa/); the table only
 * keeps them beside the checkpoints they stamp, as evidence: never updated,
 * never deleted (triggers).
 *
 * Migration 9 (issue 14, disk bytes per entry) slims `entries` to what is not
 * stored elsewhere:
 *
 *     entries      idx INTEGER PRIMARY KEY, bytes BLOB   the leaf input, as before
 *                  type → entry_types.code, incident     the two indexed facts (the type by its code)
 *                  meta TEXT NULL                        NULL: the other EntryMeta fields are the
 *                                                        envelope's in `bytes` (entryMeta.ts); else
 *                                                        them as JSON (bytes that say otherwise)
 *     entry_types  code INTEGER PRIMARY KEY → name UNIQUE   an entry type's small code (insert-only:
 *                                                        a code never changes meaning)
 *     received     seq (kept: the inbox cursor), party, idx, leaf_hash, bytes, received_at as before;
 *                  type → entry_types.code, incident, meta NULL as in `entries`
 *
 * The leaf hash is the level-0 stored hash `hashes[storedHashIndex(0, idx)]`
 * (read with the SQL function `leaf_slot`, store.ts), no longer a column;
 * the migration checks every old `leaf_hash` against it before dropping it.
 * Together with 16 KiB pages for new databases (a ~1.1 KiB row wastes a
 * fifth of a 4 KiB page) this is ~1,500 → ~1,210 B per 1 KiB entry. The
 * rebuild runs in the migration's one transaction with foreign keys off
 * ({@link Migration.foreignKeysOff}, checked by `foreign_key_check` before
 * COMMIT), so a crash leaves version 8 or version 9, whole.
 *
 * Added by migration 10 (issue 14: governance state gets typed tables, not
 * JSON in `settings`; values moved out of the old keys in the same
 * transaction, governanceImport.ts):
 *
 *     accord_chain        one row (one = 1): channel, revision   the chain in force beyond the genesis;
 *                                                                revision +1 at every write (polled by
 *                                                                processes sharing a database)
 *     accord_versions     version ≥ 2 PRIMARY KEY → signed (JSON)  each adopted version, as signed
 *     accord_activations  (party, version) PRIMARY KEY, pos (the   party's log adopts version at entry
 *                         chain file's order), size, suspect_from, `size` (GOV.md §2), with the
 *                         entry (base64)                            activation entry
 *     departed_logs       party PRIMARY KEY → version, digest,     the end of a departed party's log
 *                         end_size                                  (node epochs.ts); insert-only
 *     accord_forks        seq PK, proof UNIQUE, recorded_at         accord fork proofs; insert-only
 *     evaluation_notes    (party, idx, cosigner) PRIMARY KEY →      the first cosigned note covering an
 *                         tree_size > idx, cosigned_at, note        evaluation entry; insert-only
 *
 * The chain moves only forward (store.ts `putAccordChain`: the three chain
 * tables are rewritten in one transaction, only with a chain that extends
 * the held one).
 * Added by migration 11 (issue 14, idempotent retries across failover;
 * version 10 is another branch's):
 *
 *     idempotency_keys  (scope, key) PRIMARY KEY   the officer and the client's Idempotency-Key
 *                  digest TEXT (SHA-256 hex of the request), indexes TEXT (JSON array of
 *                  the own-log indexes it appended), response TEXT (the answer given),
 *                  created_at INTEGER (ms; pruned after the retention)
 *
 * Written only by `appendBatch`, in the transaction of the entries it names:
 * a key is held iff its entries are.
 *
 * Added by migration 14 (issue 14, deadline agreement):
 *
 *     witness_cosignatures  (party, tree_size) PRIMARY KEY → note BLOB   every checkpoint this
 *                  node's witness cosigned, as `witness.note` held it; insert-only, written in
 *                  `advanceWitness`'s transaction; served paged to the log's node
 *
 * Invariants the store keeps (checked at open, see store.ts): entries hold
 * exactly indexes [0, n); hashes hold exactly [0, storedHashCount(n)); the
 * largest checkpoint is at tree size n. All three change only together, in
 * one transaction per batch.
 *
 * Migrations are numbered from 1 and never edited once released: a change is a
 * new migration appended to {@link MIGRATIONS}. The schema version is SQLite's
 * `PRAGMA user_version` (0 = empty database). {@link migrate} runs every
 * migration above the current version in order, each in its own transaction
 * together with the version bump, so a crash leaves the database at some
 * whole version. Every release adds a database it made under
 * `test/fixtures/db/<version>/` and a test opens it with the current code.
 */
import type { Database } from 'better-sqlite3';
import { fail } from '@parley/core';
import { importEvidenceSettings } from './settingsImport.js';
import { slimEntries } from './slimEntries.js';
import { importGovernanceSettings } from './governanceImport.js';

/** One numbered schema change. */
export interface Migration {
  /** 1, 2, 3, …: the `user_version` after it ran. */
  readonly version: number;
  readonly description: string;
  /** SQL run inside the migration's transaction. */
  readonly sql: string;
  /** Data conversion run after `sql`, in the same transaction (e.g. moving values out of `settings`). */
  readonly after?: (db: Database) => void;
  /**
   * Run with `PRAGMA foreign_keys = OFF` (a table others reference is
   * rebuilt); `foreign_key_check` must come back empty before the COMMIT.
   */
  readonly foreignKeysOff?: boolean;
}

const META_COLUMNS = `
  type        TEXT NOT NULL,
  sender      TEXT NOT NULL,
  officer     TEXT NOT NULL,
  recipients  TEXT NOT NULL,
  time        TEXT NOT NULL,
  precedence  TEXT NOT NULL,
  marking     TEXT NOT NULL,
  incident    TEXT,
  refs        TEXT NOT NULL`;

/** Every migration, in order. Append only. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'own log, stored hashes, checkpoints, received entries, officers, sessions, settings',
    sql: `
      CREATE TABLE entries (
        idx        INTEGER PRIMARY KEY CHECK (idx >= 0),
        leaf_hash  BLOB NOT NULL CHECK (length(leaf_hash) = 32),
        bytes      BLOB NOT NULL,${META_COLUMNS}
      ) STRICT;
      CREATE INDEX entries_by_type ON entries (type, idx);
      CREATE INDEX entries_by_incident ON entries (incident, idx) WHERE incident IS NOT NULL;

      CREATE TABLE entry_to (
        party  TEXT NOT NULL,
        idx    INTEGER NOT NULL REFERENCES entries (idx),
        PRIMARY KEY (party, idx)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE entry_refs (
        party    TEXT NOT NULL,
        ref_idx  INTEGER NOT NULL,
        idx      INTEGER NOT NULL REFERENCES entries (idx),
        PRIMARY KEY (party, ref_idx, idx)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE hashes (
        idx   INTEGER PRIMARY KEY CHECK (idx >= 0),
        hash  BLOB NOT NULL CHECK (length(hash) = 32)
      ) STRICT;

      CREATE TABLE checkpoints (
        tree_size  INTEGER PRIMARY KEY CHECK (tree_size > 0),
        note       BLOB NOT NULL
      ) STRICT;

      CREATE TABLE received (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        party        TEXT NOT NULL,
        idx          INTEGER NOT NULL CHECK (idx >= 0),
        leaf_hash    BLOB NOT NULL CHECK (length(leaf_hash) = 32),
        bytes        BLOB NOT NULL,${META_COLUMNS},
        received_at  TEXT NOT NULL,
        UNIQUE (party, idx)
      ) STRICT;
      CREATE INDEX received_by_type ON received (type, seq);
      CREATE INDEX received_by_party ON received (party, seq);
      CREATE INDEX received_by_incident ON received (incident, seq) WHERE incident IS NOT NULL;

      CREATE TABLE officers (
        name           TEXT PRIMARY KEY,
        role           TEXT NOT NULL CHECK (role IN ('officer', 'auditor', 'admin')),
        password_hash  TEXT NOT NULL,
        created        TEXT NOT NULL,
        disabled       INTEGER NOT NULL CHECK (disabled IN (0, 1))
      ) STRICT;

      CREATE TABLE sessions (
        token_hash  TEXT PRIMARY KEY,
        officer     TEXT NOT NULL,
        created     TEXT NOT NULL,
        expires     TEXT NOT NULL
      ) STRICT;
      CREATE INDEX sessions_by_officer ON sessions (officer);

      CREATE TABLE settings (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 2,
    description: 'witness: the latest checkpoint this node cosigned for each other party log',
    sql: `
      CREATE TABLE witness (
        origin     TEXT PRIMARY KEY,
        party      TEXT NOT NULL,
        tree_size  INTEGER NOT NULL CHECK (tree_size >= 0),
        root_hash  BLOB NOT NULL CHECK (length(root_hash) = 32),
        note       BLOB NOT NULL CHECK (length(note) > 0)
      ) STRICT;
    `,
  },
  // issue 9 (evidence of forks, wherever a second history shows up)
  {
    version: 3,
    description: 'fork evidence: fork proofs (insert-only, one per pair of views) and checkpoints kept for comparison, moved out of settings',
    sql: `
      CREATE TABLE fork_proofs (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        party        TEXT NOT NULL CHECK (length(party) > 0),
        view_lo      TEXT NOT NULL CHECK (length(view_lo) > 0),
        view_hi      TEXT NOT NULL CHECK (view_hi > view_lo),
        proof        TEXT NOT NULL CHECK (length(proof) > 0),
        recorded_at  TEXT NOT NULL,
        UNIQUE (party, view_lo, view_hi)
      ) STRICT;
      CREATE TRIGGER fork_proofs_insert_only_u BEFORE UPDATE ON fork_proofs BEGIN SELECT RAISE(ABORT, 'fork proofs are insert-only'); END;
      CREATE TRIGGER fork_proofs_insert_only_d BEFORE DELETE ON fork_proofs BEGIN SELECT RAISE(ABORT, 'fork proofs are insert-only'); END;
      CREATE TABLE unverified_checkpoints (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        party        TEXT NOT NULL CHECK (length(party) > 0),
        note         TEXT NOT NULL CHECK (length(note) > 0),
        kept_at      TEXT NOT NULL,
        compared_at  TEXT,
        outcome      TEXT,
        UNIQUE (party, note)
      ) STRICT;
      CREATE TRIGGER unverified_checkpoints_once BEFORE UPDATE ON unverified_checkpoints
        WHEN OLD.compared_at IS NOT NULL OR NEW.party IS NOT OLD.party OR NEW.note IS NOT OLD.note OR NEW.kept_at IS NOT OLD.kept_at
        BEGIN SELECT RAISE(ABORT, 'a kept checkpoint is compared once'); END;
      CREATE TRIGGER unverified_checkpoints_kept BEFORE DELETE ON unverified_checkpoints BEGIN SELECT RAISE(ABORT, 'kept checkpoints are evidence'); END;

      -- The earlier layout: settings rows holding JSON arrays of text (federation/forks.ts).
      -- A view is a checkpoint note's body: its text up to and including the line before the blank line.
      INSERT OR IGNORE INTO fork_proofs (party, view_lo, view_hi, proof, recorded_at)
        SELECT party, min(va, vb), max(va, vb), proof, '1970-01-01T00:00:00.000Z' FROM (
          SELECT substr(s.key, 18) AS party, j.value AS proof, s.key AS k, j.key AS i,
                 substr(json_extract(j.value, '$.a.checkpoint'), 1, instr(json_extract(j.value, '$.a.checkpoint'), char(10) || char(10))) AS va,
                 substr(json_extract(j.value, '$.b.checkpoint'), 1, instr(json_extract(j.value, '$.b.checkpoint'), char(10) || char(10))) AS vb
          FROM settings s, json_each(s.value) j
          WHERE substr(s.key, 1, 17) = 'federation/forks/' AND json_valid(s.value) AND json_type(s.value) = 'array'
            AND j.type = 'text' AND json_valid(j.value)
        )
        WHERE length(va) > 0 AND length(vb) > 0 AND va <> vb
        ORDER BY k, i;
      INSERT OR IGNORE INTO unverified_checkpoints (party, note, kept_at)
        SELECT substr(s.key, 23), j.value, '1970-01-01T00:00:00.000Z'
        FROM settings s, json_each(s.value) j
        WHERE substr(s.key, 1, 22) = 'federation/unverified/' AND json_valid(s.value) AND json_type(s.value) = 'array'
          AND j.type = 'text' AND length(j.value) > 0;
      DELETE FROM settings WHERE substr(key, 1, 17) = 'federation/forks/' OR substr(key, 1, 22) = 'federation/unverified/';
    `,
  },
  // issue 9 (evidence tables: cursors, cosigned times, escalations)
  {
    version: 4,
    description: 'federation cursors, cosignatures of our log, cosigned times, escalations: typed tables instead of settings JSON',
    sql: `
      CREATE TABLE cursors (
        kind       TEXT NOT NULL CHECK (kind IN ('push', 'pull')),
        party      TEXT NOT NULL,
        tree_size  INTEGER NOT NULL CHECK (tree_size >= 0),
        frontier   BLOB NOT NULL CHECK (length(frontier) % 32 = 0),
        PRIMARY KEY (kind, party)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE own_cosigned (
        witness      TEXT PRIMARY KEY,
        tree_size    INTEGER NOT NULL CHECK (tree_size > 0),
        cosigned_at  INTEGER CHECK (cosigned_at >= 0),
        note         TEXT NOT NULL CHECK (length(note) > 0)
      ) STRICT;

      CREATE TABLE cosigned_times (
        party        TEXT NOT NULL,
        cosigner     TEXT NOT NULL,
        tree_size    INTEGER NOT NULL CHECK (tree_size > 0),
        cosigned_at  INTEGER NOT NULL CHECK (cosigned_at >= 0),
        PRIMARY KEY (party, cosigner, tree_size)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE escalations (
        id               TEXT PRIMARY KEY,
        recorded_at      INTEGER NOT NULL CHECK (recorded_at >= 0),
        webhook          TEXT,
        attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at  INTEGER NOT NULL DEFAULT 0,
        webhook_state    TEXT NOT NULL CHECK (webhook_state IN ('none', 'pending', 'delivered', 'abandoned')),
        CHECK ((webhook IS NULL) = (webhook_state = 'none'))
      ) STRICT;
    `,
    after: importEvidenceSettings,
  },
  // issue 9 (no rollback): the mirror of every other party's whole log.
  {
    version: 5,
    description: 'mirror: the entries of other parties\u2019 logs not addressed to us, for their recovery',
    sql: `
      CREATE TABLE mirror (
        party      TEXT NOT NULL,
        idx        INTEGER NOT NULL CHECK (idx >= 0),
        leaf_hash  BLOB NOT NULL CHECK (length(leaf_hash) = 32),
        bytes      BLOB NOT NULL,
        PRIMARY KEY (party, idx)
      ) STRICT;
    `,
  },
  // issue 9 (hostile input: nonces of signed node requests survive a restart)
  {
    version: 6,
    description: 'request_nonces: nonces of verified node-to-node requests until they expire (no replay after a restart)',
    sql: `
      CREATE TABLE request_nonces (
        key      TEXT PRIMARY KEY CHECK (length(key) BETWEEN 1 AND 64),
        expires  INTEGER NOT NULL CHECK (expires >= 0)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX request_nonces_by_expiry ON request_nonces (expires);
    `,
  },
  // issue 11 (key epochs): the witness state follows the party, whatever key signs its log
  {
    version: 7,
    description: 'witness: keyed by party instead of log origin (a rotated key keeps the party)',
    sql: `
      CREATE TABLE witness_by_party (
        party      TEXT PRIMARY KEY CHECK (length(party) > 0),
        tree_size  INTEGER NOT NULL CHECK (tree_size >= 0),
        root_hash  BLOB NOT NULL CHECK (length(root_hash) = 32),
        note       BLOB NOT NULL CHECK (length(note) > 0)
      ) STRICT;
      INSERT OR IGNORE INTO witness_by_party (party, tree_size, root_hash, note)
        SELECT party, tree_size, root_hash, note FROM witness WHERE length(party) > 0 ORDER BY tree_size DESC, origin;
      DROP TABLE witness;
      ALTER TABLE witness_by_party RENAME TO witness;
    `,
  },
  // issue 12 (trusted time): RFC 3161 tokens of checkpoints, beside them
  {
    version: 8,
    description: 'checkpoint_timestamps: RFC 3161 time-stamp tokens of checkpoints (insert-only evidence)',
    sql: `
      CREATE TABLE checkpoint_timestamps (
        party      TEXT NOT NULL CHECK (length(party) > 0),
        tree_size  INTEGER NOT NULL CHECK (tree_size > 0),
        authority  TEXT NOT NULL CHECK (length(authority) > 0),
        token      BLOB NOT NULL CHECK (length(token) > 0),
        gen_time   INTEGER NOT NULL CHECK (gen_time >= 0),
        note       TEXT NOT NULL CHECK (length(note) > 0),
        PRIMARY KEY (party, tree_size, authority)
      ) STRICT, WITHOUT ROWID;
      CREATE TRIGGER checkpoint_timestamps_insert_only_u BEFORE UPDATE ON checkpoint_timestamps BEGIN SELECT RAISE(ABORT, 'time-stamp tokens are insert-only'); END;
      CREATE TRIGGER checkpoint_timestamps_insert_only_d BEFORE DELETE ON checkpoint_timestamps BEGIN SELECT RAISE(ABORT, 'time-stamp tokens are evidence'); END;
    `,
  },
  // issue 14 (disk bytes per entry): no column repeats what the bytes or the hashes hold
  {
    version: 9,
    description: 'entries: header fields read from the entry bytes and the leaf hash from hashes, not kept twice',
    foreignKeysOff: true,
    sql: `
      CREATE TABLE entry_types (
        code  INTEGER PRIMARY KEY,
        name  TEXT NOT NULL UNIQUE
      ) STRICT;
      CREATE TRIGGER entry_types_insert_only_u BEFORE UPDATE ON entry_types BEGIN SELECT RAISE(ABORT, 'entry type codes are insert-only'); END;
      CREATE TRIGGER entry_types_insert_only_d BEFORE DELETE ON entry_types BEGIN SELECT RAISE(ABORT, 'entry type codes are insert-only'); END;
      INSERT INTO entry_types (name) SELECT DISTINCT type FROM entries ORDER BY type;
      CREATE TABLE entries_v9 (
        idx       INTEGER PRIMARY KEY CHECK (idx >= 0),
        bytes     BLOB NOT NULL,
        type      INTEGER NOT NULL REFERENCES entry_types (code),
        incident  TEXT,
        meta      TEXT CHECK (meta IS NULL OR json_valid(meta))
      ) STRICT;
      INSERT OR IGNORE INTO entry_types (name) SELECT DISTINCT type FROM received ORDER BY type;
      CREATE TABLE received_v9 (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        party        TEXT NOT NULL,
        idx          INTEGER NOT NULL CHECK (idx >= 0),
        leaf_hash    BLOB NOT NULL CHECK (length(leaf_hash) = 32),
        bytes        BLOB NOT NULL,
        type         INTEGER NOT NULL REFERENCES entry_types (code),
        incident     TEXT,
        meta         TEXT CHECK (meta IS NULL OR json_valid(meta)),
        received_at  TEXT NOT NULL,
        UNIQUE (party, idx)
      ) STRICT;
    `,
    after: slimEntries,
  },
  // issue 14 (typed tables for what lived in settings): the accord chain, departed logs, accord forks, evaluation notes
  {
    version: 10,
    description: 'accord chain, departed logs, accord fork proofs and evaluation notes: typed tables instead of settings JSON',
    sql: `
      CREATE TABLE accord_chain (
        one       INTEGER PRIMARY KEY CHECK (one = 1),
        channel   TEXT NOT NULL CHECK (length(channel) > 0),
        revision  INTEGER NOT NULL CHECK (revision > 0)
      ) STRICT;
      CREATE TABLE accord_versions (
        version  INTEGER PRIMARY KEY CHECK (version >= 2),
        signed   TEXT NOT NULL CHECK (json_valid(signed))
      ) STRICT;
      CREATE TABLE accord_activations (
        party         TEXT NOT NULL CHECK (length(party) > 0),
        version       INTEGER NOT NULL CHECK (version >= 1),
        pos           INTEGER NOT NULL CHECK (pos >= 0),
        size          INTEGER NOT NULL CHECK (size >= 0),
        suspect_from  INTEGER CHECK (suspect_from >= 0),
        entry         TEXT NOT NULL,
        PRIMARY KEY (party, version)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE departed_logs (
        party     TEXT PRIMARY KEY CHECK (length(party) > 0),
        version   INTEGER NOT NULL CHECK (version >= 2),
        digest    TEXT NOT NULL CHECK (length(digest) > 0),
        end_size  INTEGER NOT NULL CHECK (end_size >= 0)
      ) STRICT;
      CREATE TRIGGER departed_logs_insert_only_u BEFORE UPDATE ON departed_logs BEGIN SELECT RAISE(ABORT, 'a departed log keeps its end'); END;
      CREATE TRIGGER departed_logs_insert_only_d BEFORE DELETE ON departed_logs BEGIN SELECT RAISE(ABORT, 'a departed log keeps its end'); END;
      CREATE TABLE accord_forks (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        proof        TEXT NOT NULL UNIQUE CHECK (length(proof) > 0),
        recorded_at  TEXT NOT NULL
      ) STRICT;
      CREATE TRIGGER accord_forks_insert_only_u BEFORE UPDATE ON accord_forks BEGIN SELECT RAISE(ABORT, 'accord fork proofs are insert-only'); END;
      CREATE TRIGGER accord_forks_insert_only_d BEFORE DELETE ON accord_forks BEGIN SELECT RAISE(ABORT, 'accord fork proofs are insert-only'); END;
      CREATE TABLE evaluation_notes (
        party        TEXT NOT NULL CHECK (length(party) > 0),
        idx          INTEGER NOT NULL CHECK (idx >= 0),
        cosigner     TEXT NOT NULL CHECK (length(cosigner) > 0),
        tree_size    INTEGER NOT NULL CHECK (tree_size > idx),
        cosigned_at  INTEGER NOT NULL CHECK (cosigned_at >= 0),
        note         TEXT NOT NULL CHECK (length(note) > 0),
        PRIMARY KEY (party, idx, cosigner)
      ) STRICT, WITHOUT ROWID;
      CREATE TRIGGER evaluation_notes_insert_only_u BEFORE UPDATE ON evaluation_notes BEGIN SELECT RAISE(ABORT, 'evaluation notes are write-once'); END;
      CREATE TRIGGER evaluation_notes_insert_only_d BEFORE DELETE ON evaluation_notes BEGIN SELECT RAISE(ABORT, 'evaluation notes are write-once'); END;
    `,
    after: importGovernanceSettings,
  },
  // issue 14 (idempotent retries across failover)
  {
    version: 11,
    description: 'idempotency_keys: the Idempotency-Key of a write, stored in its entries\' transaction, with the answer it got',
    sql: `
      CREATE TABLE idempotency_keys (
        scope       TEXT NOT NULL CHECK (length(scope) > 0),
        key         TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
        digest      TEXT NOT NULL CHECK (length(digest) = 64),
        indexes     TEXT NOT NULL CHECK (json_valid(indexes)),
        response    TEXT NOT NULL,
        created_at  INTEGER NOT NULL CHECK (created_at >= 0),
        PRIMARY KEY (scope, key)
      ) STRICT, WITHOUT ROWID;
      CREATE INDEX idempotency_keys_by_age ON idempotency_keys (created_at);
    `,
  },
  // issue 14 (RSS of a 10,000,000-entry node): the deadline tracker's deliveries on disk, not in memory
  {
    version: 12,
    description: "deliveries: the deadline tracker's facts, answers, withdrawals and cursor",
    sql: `
      CREATE TABLE deliveries (
        party      TEXT NOT NULL,
        idx        INTEGER NOT NULL CHECK (idx >= 0),
        recipient  TEXT NOT NULL,
        direction  TEXT NOT NULL CHECK (direction IN ('sent', 'received')),
        leaf_hash  TEXT NOT NULL,
        facts      TEXT NOT NULL,
        PRIMARY KEY (party, idx, recipient)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE delivery_answers (
        party      TEXT NOT NULL,
        idx        INTEGER NOT NULL,
        recipient  TEXT NOT NULL,
        hash       TEXT NOT NULL,
        answers    TEXT NOT NULL,
        PRIMARY KEY (party, idx, recipient, hash)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE delivery_withdrawals (
        party       TEXT NOT NULL,
        idx         INTEGER NOT NULL,
        retraction  TEXT NOT NULL,
        PRIMARY KEY (party, idx)
      ) STRICT, WITHOUT ROWID;
      CREATE TABLE delivery_cursor (
        id        INTEGER PRIMARY KEY CHECK (id = 1),
        own_size  INTEGER NOT NULL CHECK (own_size >= 0),
        last_seq  INTEGER NOT NULL CHECK (last_seq >= 0)
      ) STRICT;
    `,
  },
  // issue 14: the tracker's judgement in indexed columns, so counts, listings and due scans are SQL aggregates and index ranges
  {
    version: 13,
    description: 'deliveries: judged state, due time, listing place and bound floors, indexed',
    sql: `
      ALTER TABLE deliveries ADD COLUMN state TEXT;
      ALTER TABLE deliveries ADD COLUMN settled INTEGER;
      ALTER TABLE deliveries ADD COLUMN overdue INTEGER;
      ALTER TABLE deliveries ADD COLUMN due_at INTEGER DEFAULT 0;
      ALTER TABLE deliveries ADD COLUMN judged_at INTEGER;
      ALTER TABLE deliveries ADD COLUMN rank INTEGER;
      ALTER TABLE deliveries ADD COLUMN sort_due INTEGER;
      ALTER TABLE deliveries ADD COLUMN start_bound INTEGER;
      ALTER TABLE deliveries ADD COLUMN receipt_idx INTEGER;
      ALTER TABLE deliveries ADD COLUMN receipt_bound INTEGER;
      ALTER TABLE deliveries ADD COLUMN ack_idx INTEGER;
      ALTER TABLE deliveries ADD COLUMN ack_bound INTEGER;
      CREATE INDEX deliveries_by_due ON deliveries (due_at, party, idx, recipient) WHERE due_at IS NOT NULL;
      CREATE INDEX deliveries_by_judged ON deliveries (judged_at, party, idx, recipient);
      CREATE INDEX deliveries_by_listing ON deliveries (rank, sort_due, idx, party, recipient);
      CREATE INDEX deliveries_by_count ON deliveries (state, settled, overdue, judged_at, due_at);
      CREATE INDEX deliveries_by_receipt ON deliveries (recipient, receipt_idx) WHERE receipt_idx IS NOT NULL;
      CREATE INDEX deliveries_by_ack ON deliveries (recipient, ack_idx) WHERE ack_idx IS NOT NULL;
    `,
  },
  // issue 14 (deadline agreement): the witness serves its signed cosignature history
  {
    version: 14,
    description: 'witness_cosignatures: every checkpoint note the witness cosigned, by party and size (insert-only)',
    sql: `
      CREATE TABLE witness_cosignatures (
        party      TEXT NOT NULL CHECK (length(party) > 0),
        tree_size  INTEGER NOT NULL CHECK (tree_size >= 0),
        note       BLOB NOT NULL CHECK (length(note) > 0),
        PRIMARY KEY (party, tree_size)
      ) STRICT, WITHOUT ROWID;
      CREATE TRIGGER witness_cosignatures_insert_only_u BEFORE UPDATE ON witness_cosignatures BEGIN SELECT RAISE(ABORT, 'cosignatures are insert-only'); END;
      CREATE TRIGGER witness_cosignatures_insert_only_d BEFORE DELETE ON witness_cosignatures BEGIN SELECT RAISE(ABORT, 'cosignatures are insert-only'); END;
      INSERT INTO witness_cosignatures (party, tree_size, note) SELECT party, tree_size, note FROM witness;
    `,
  },
];

/** The schema version this code writes: the last migration's number. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]!.version;

/** The database's schema version (`PRAGMA user_version`). */
export function schemaVersion(db: Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Brings `db` to the last version of `migrations`, running only those above
 * its current `user_version`, in order, each in one transaction with its
 * version bump.
 * @returns the versions that ran.
 * @throws StoreError `STORE_UNAVAILABLE` for a database newer than this code
 *   (written by a later release: refuse rather than misread it).
 */
export function migrate(db: Database, migrations: readonly Migration[] = MIGRATIONS, onStep?: (s: { from: number; done: number; total: number; version: number }) => void): number[] {
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) throw new Error(`internal: migration ${i} is numbered ${m.version}`);
  });
  const current = schemaVersion(db);
  const latest = migrations.length;
  if (current > latest) fail('STORE_UNAVAILABLE', `database schema version ${current} is newer than this code (${latest})`);
  const ran: number[] = [];
  const pending = migrations.slice(current);
  for (const [i, m] of pending.entries()) {
    onStep?.({ from: current, done: i, total: pending.length, version: m.version });
    // BEGIN IMMEDIATE: two processes opening one new file cannot both migrate.
    // PRAGMA foreign_keys is a no-op inside a transaction: set it around.
    const fkWasOn = m.foreignKeysOff === true && (db.pragma('foreign_keys', { simple: true }) as number) === 1;
    if (fkWasOn) db.pragma('foreign_keys = OFF');
    try {
      db.transaction(() => {
        if (schemaVersion(db) !== m.version - 1) return; // another connection got here first
        db.exec(m.sql);
        m.after?.(db);
        if (m.foreignKeysOff === true && (db.pragma('foreign_key_check') as unknown[]).length > 0) fail('STORE_CORRUPT', `migration ${m.version} would break a foreign key`);
        db.pragma(`user_version = ${m.version}`);
        ran.push(m.version);
      }).immediate();
    } finally {
      if (fkWasOn) db.pragma('foreign_keys = ON');
    }
  }
  if (pending.length > 0) onStep?.({ from: current, done: pending.length, total: pending.length, version: latest });
  return ran;
}
