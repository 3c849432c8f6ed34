/**
 * The store interface: everything a Parley node keeps, behind one narrow,
 * asynchronous port (so PostgreSQL can implement it as well as SQLite).
 * Implementations share no code but pure helpers (tessera's rule); SQL lives
 * only in the implementation's module.
 *
 * Contracts every implementation keeps:
 * - **Atomicity.** `appendBatch` writes the batch's entries, their stored
 *   hashes, the batch's checkpoint (and the received entries it carries) in
 *   one transaction: after a crash at any instant, either all of it is there
 *   or none of it is.
 * - **Durability on return.** When a write's promise resolves, the data
 *   survives kill -9 and power loss (SQLite: WAL with synchronous=FULL).
 *   Callers acknowledge nothing before that.
 * - **Read-after-write.** A read issued after a write resolved sees it.
 * - **Concurrency.** Reads may run concurrently with each other and with one
 *   writer. `appendBatch` calls are serialized by the caller within one
 *   process (the {@link LogWriter} is the only one).
 * - **Conditional append (MUST, issue 14).** `appendBatch` is a
 *   compare-and-set on the log's previous size and root: it rejects with
 *   `STORE_CONFLICT`, writing nothing, a batch whose first index is not the
 *   current tree size or whose `prevRoot` is not the root of the stored tree
 *   at that size. So of two writers racing from one state (two processes on
 *   one database, a deposed sequencer that still has a batch in flight),
 *   exactly one wins and the log never forks.
 *   Writes issued without awaiting each other are applied in the order they
 *   were issued (two `putSetting`s of one key: the later value wins). The
 *   deadline bookkeeping (`fileDeliveries`, `judgeDeliveries`,
 *   `rejudgeDeliveries`, `recordEscalations`, `updateWebhook`) is ordered
 *   among itself only: a store may apply it apart from the other writes
 *   (PostgreSQL does, so a filing waiting on another process's row locks
 *   holds up no nonce, ingest or append; it reads only committed rows).
 * - **No silent loss.** Storage failures reject with {@link StoreError}
 *   (stable code); nothing is half-applied.
 * - **Witness state moves only by compare-and-set.** `advanceWitness` is the
 *   one write of the witness state; it may be called concurrently (several
 *   add-checkpoint requests for one log at once) and at most one call per
 *   expected old size succeeds. See {@link LogStore.advanceWitness}.
 */
import type { ChainFileActivation, Hash, SignedAccord } from '@parley/core';

/** Indexed facts about an entry, kept beside its bytes for queries. */
export interface EntryMeta {
  /** Entry type, e.g. `hotline.message`. */
  readonly type: string;
  /** Sender party id. */
  readonly from: string;
  /** Sender officer (user name), or `node` for machine entries. */
  readonly officer: string;
  /** Recipient party ids. */
  readonly to: readonly string[];
  /** Sender's time, RFC 3339 UTC. */
  readonly time: string;
  readonly precedence: string;
  readonly marking: string;
  /** Incident id, for `incident.report` entries. */
  readonly incident?: string;
  /** Entries this one refers to (receipts and acks point at what they answer). */
  readonly refs: readonly EntryRefMeta[];
}

/** A reference into some party's log. */
export interface EntryRefMeta {
  readonly party: string;
  readonly index: number;
  /** Base64 RFC 6962 leaf hash of the referenced entry. */
  readonly hash: string;
}

/** An entry of this party's own log. */
export interface OwnEntry {
  /** Position in this party's log (= the envelope's `seq`). */
  readonly index: number;
  readonly leafHash: Hash;
  /** The canonical signed entry: the leaf input. */
  readonly bytes: Uint8Array;
  readonly meta: EntryMeta;
}

/** An entry received from another party's log, already verified by the node. */
export interface ReceivedEntry {
  readonly party: string;
  readonly index: number;
  readonly leafHash: Hash;
  readonly bytes: Uint8Array;
  readonly meta: EntryMeta;
  /** When this node stored it (its own clock; cosigned times come later). */
  readonly receivedAt: string;
}

/** A received entry's key: its sender and its index in the sender's log. */
export interface ReceivedKey {
  readonly party: string;
  readonly index: number;
}

/** One group commit: entries `firstIndex …`, the hashes they add, and the new checkpoint. */
export interface AppendBatch {
  readonly entries: readonly OwnEntry[];
  /** Stored hashes added by the batch: `[storedIndex, hash]`, contiguous from storedHashCount(old size). */
  readonly hashes: readonly (readonly [number, Hash])[];
  /** Tree size after the batch. */
  readonly treeSize: number;
  /**
   * The RFC 6962 root of the log before the batch (size = the first entry's
   * index; SHA-256 of the empty string for an empty log): the batch applies
   * only on top of exactly that tree, else `STORE_CONFLICT`.
   */
  readonly prevRoot: Hash;
  /** The signed checkpoint note for `treeSize`. */
  readonly checkpoint: Uint8Array;
  /**
   * Entries received from other parties to store in the same transaction,
   * exactly as {@link LogStore.ingest} stores them (idempotent; a held
   * (party, index) with another hash rejects the whole batch with
   * `STORE_CONFLICT`): the receipts among the batch's entries and what they
   * answer become durable together, with one commit.
   */
  readonly received?: readonly ReceivedEntry[];
  /**
   * Idempotency keys of the writes whose entries this batch carries
   * (issue 14), stored in the same transaction: after a crash a key is held
   * iff its entries are. A (scope, key) already held rejects the whole
   * batch with `STORE_CONFLICT`, writing nothing (the write was logged
   * before: the caller answers from the held record instead).
   */
  readonly idempotency?: readonly IdempotencyRecord[];
}

/**
 * What one write sent with an `Idempotency-Key` appended and answered
 * (issue 14; IETF httpapi-idempotency-key-header): a retry of it with the
 * same key and the same request gets `response` again, on any process of
 * the party, and appends nothing.
 */
export interface IdempotencyRecord {
  /** Whose key it is: the authenticated officer (keys of two officers never meet). */
  readonly scope: string;
  /** The client's key, 1–255 characters. */
  readonly key: string;
  /** SHA-256 (64 lowercase hex digits) of the request: method, path and body. */
  readonly digest: string;
  /** The own-log indexes the write appended, in order (all within the batch that stores the record). */
  readonly indexes: readonly number[];
  /** The answer given, as the node layer serialises it (JSON text). */
  readonly response: string;
  /** When the record was made, ms since the epoch: records older than the retention are pruned. */
  readonly createdAt: number;
}

/** Filters for inbox and outbox listings, newest first. */
export interface ListQuery {
  readonly type?: string;
  /** Leave out entries of these types (the inbox hides receipts and heartbeats from officers by default). */
  readonly excludeTypes?: readonly string[];
  readonly party?: string;
  readonly incident?: string;
  /** Only entries with index (own) / receipt order (received) below this cursor. */
  readonly before?: number;
  /** Received only: entries with receive order above this cursor, OLDEST first (issue 14: a reader catching up pages forward). */
  readonly after?: number;
  readonly limit: number;
}

/** A received entry as listed, with its position in this node's receive order. */
export interface ReceivedListing extends ReceivedEntry {
  /** Monotonic receive sequence, the cursor for paging. */
  readonly rowid: number;
}

export type Role = 'officer' | 'auditor' | 'admin';

export interface Officer {
  readonly name: string;
  readonly role: Role;
  /** Encoded password hash (the node's own format, e.g. `scrypt$N$r$p$salt$hash`). */
  readonly passwordHash: string;
  readonly created: string;
  readonly disabled: boolean;
}

export interface Session {
  /** SHA-256 of the bearer token, hex: the token itself is never stored. */
  readonly tokenHash: string;
  readonly officer: string;
  readonly created: string;
  readonly expires: string;
}

/**
 * What this node, as a C2SP tlog-witness, last cosigned for another party's
 * log: the checkpoint's size and root hash, and the checkpoint note carrying
 * the log's signature and this node's cosignature (gossip and fork proofs
 * use the note; the witness decisions use size and root).
 */
export interface WitnessState {
  /** The party whose log this is: the key of the state. */
  readonly party: string;
  /** Tree size of the latest cosigned checkpoint, 0 … 2^53 − 1. */
  readonly treeSize: number;
  /** Its 32-byte RFC 6962 root hash. */
  readonly rootHash: Hash;
  /** The signed checkpoint note, including this node's cosignature. */
  readonly note: Uint8Array;
}

/** One note of a witness's cosignature history ({@link LogStore.witnessCosignatures}). */
export interface WitnessCosignature {
  readonly party: string;
  readonly treeSize: number;
  /** The signed checkpoint note with this node's cosignature, as `advanceWitness` stored it. */
  readonly note: Uint8Array;
}

/** A fork proof to keep: the canonical proof text and the two checkpoint notes it sets against each other. */
export interface NewForkProof {
  /** The party whose log forked. */
  readonly party: string;
  /** The proof's two checkpoint notes (signed note text); only their bodies (up to the blank line) identify the pair. */
  readonly views: readonly [string, string];
  /** The canonical fork proof text (core `formatForkProof`). */
  readonly proof: string;
  /** When this node found it (ISO 8601). */
  readonly recordedAt: string;
}

/** A fork proof as held. */
export interface StoredForkProof {
  readonly party: string;
  readonly proof: string;
  readonly recordedAt: string;
}

/**
 * An entry of another party's log as this node mirrors it (issue 9): the
 * leaf input exactly as that party logged it, and its RFC 6962 leaf hash.
 */
export interface MirroredEntry {
  readonly index: number;
  readonly leafHash: Hash;
  readonly bytes: Uint8Array;
}

/** Everything a node stores. All methods are asynchronous; see the module doc for the contracts. */
export interface LogStore {
  /** Current size of this party's own log (0 when empty). */
  treeSize(): Promise<number>;
  /**
   * Atomically and durably appends a batch (see {@link AppendBatch}), only
   * if the stored log is still the one the batch was built on.
   * @throws StoreError `STORE_CONFLICT`, writing nothing, when the batch's
   *   first index is not the tree size, its `prevRoot` is not the stored
   *   root at that size, or it is malformed.
   */
  appendBatch(batch: AppendBatch): Promise<void>;
  /** The idempotency record of `key` in `scope`, stored by an {@link appendBatch}, or undefined (never stored, or pruned). */
  idempotencyRecord(scope: string, key: string): Promise<IdempotencyRecord | undefined>;
  /** Deletes idempotency records made before `before` (ms since the epoch). @returns how many. */
  pruneIdempotency(before: number): Promise<number>;
  /** Stored hashes by stored index, in the order asked; rejects if any is missing. */
  readHashes(indexes: readonly number[]): Promise<Hash[]>;
  /** An own entry by index, or undefined beyond the tree. */
  entry(index: number): Promise<OwnEntry | undefined>;
  /** Own entries [from, to) in order (to is capped at the tree size). */
  entries(from: number, to: number): Promise<OwnEntry[]>;
  /** The latest checkpoint note, or undefined for an empty log. */
  latestCheckpoint(): Promise<Uint8Array | undefined>;
  /** The checkpoint note published at exactly `treeSize`, if one was. */
  checkpointAt(treeSize: number): Promise<Uint8Array | undefined>;
  /** Own entries, newest first, filtered. */
  outbox(q: ListQuery): Promise<OwnEntry[]>;

  /**
   * Stores verified entries from other parties. Idempotent: an entry already
   * held (same party, index and leaf hash) is skipped; the same (party,
   * index) with a different hash rejects with `STORE_CONFLICT` (evidence of
   * a fork, for the caller to keep). Atomic per call.
   * @returns how many entries were new.
   */
  ingest(entries: readonly ReceivedEntry[]): Promise<number>;
  /** A received entry by its sender's (party, index). */
  received(party: string, index: number): Promise<ReceivedEntry | undefined>;
  /**
   * {@link received} for many (party, index) keys in one read (ingest asks
   * whether a whole batch is held with one query, not one per entry).
   * @returns one item per key, in the order asked: the entry, or undefined
   *   when it is not held (or the index is not a log index).
   */
  receivedMany(keys: readonly ReceivedKey[]): Promise<(ReceivedEntry | undefined)[]>;
  /** Received entries addressed to this party, newest first. */
  inbox(q: ListQuery): Promise<ReceivedListing[]>;
  /** Own entries whose refs point at (party, index): receipts and acks of it. */
  referencing(party: string, index: number): Promise<OwnEntry[]>;
  /** The highest index held from `party`, or -1. */
  highestReceived(party: string): Promise<number>;

  /**
   * Mirrors entries of `party`'s log that the caller checked against a
   * checkpoint of it (the pull's scan). Idempotent; an entry already held
   * (mirrored, or received) with the same leaf hash is skipped; the same
   * (party, index) with another hash rejects the whole call with
   * `STORE_CONFLICT`. Atomic per call.
   * @returns how many entries were new.
   */
  mirror(party: string, entries: readonly MirroredEntry[]): Promise<number>;
  /**
   * The entries of `party`'s log this node holds (mirrored or received),
   * indexes [from, to) in order, stopping before the first one it lacks.
   */
  mirrored(party: string, from: number, to: number): Promise<MirroredEntry[]>;
  /**
   * How many distinct indexes in [from, to) of `party`'s log this node holds
   * (mirrored or received), reading no entry bytes: whether a range is held
   * whole is `heldCount(p, from, to) === to - from`.
   */
  heldCount(party: string, from: number, to: number): Promise<number>;

  putOfficer(o: Officer): Promise<void>;
  officer(name: string): Promise<Officer | undefined>;
  officers(): Promise<Officer[]>;
  putSession(s: Session): Promise<void>;
  session(tokenHash: string): Promise<Session | undefined>;
  deleteSession(tokenHash: string): Promise<void>;
  /** Revokes every session of `officer` but `keepTokenHash` (disabled officer, new password). @returns how many. */
  deleteOfficerSessions(officer: string, keepTokenHash?: string): Promise<number>;

  /**
   * Remembers the nonce `key` of a verified node-to-node request until
   * `expiresAt` (POSIX seconds), durably, and drops the ones expired before
   * `now` (issue 9: a request replayed after a restart is refused).
   * @returns false when `key` is already remembered and live (a replay).
   */
  rememberNonce(key: string, expiresAt: number, now: number): Promise<boolean>;
  /** Every remembered nonce still live at `now`, oldest expiry first. */
  liveNonces(now: number): Promise<{ key: string; expiresAt: number }[]>;

  /**
   * Small durable key/value settings (the node's accord id binding), JSON
   * values. State with a shape of its own has a typed table instead
   * (issue 14: the accord chain, departed logs, accord forks, evaluation notes).
   */
  getSetting(key: string): Promise<unknown>;
  putSetting(key: string, value: unknown): Promise<void>;

  /**
   * The latest checkpoint this node cosigned for `party`'s log, or
   * undefined if it never cosigned one (tlog-witness: size 0). Keyed by
   * party (schema 7, issue 11): a rotated log key keeps the party's state.
   * Reads see every `advanceWitness` that resolved before they were issued.
   */
  witnessState(party: string): Promise<WitnessState | undefined>;
  /**
   * Compare-and-set of the witness state of `party`'s log: replaces it with
   * `next` only if its stored tree size (0 when there is none) is still
   * `expectOldSize`. Atomic, and durable on return when it resolves true —
   * the caller hands out the cosignature in `next.note` only after that.
   * Concurrent calls are safe: of several with the same `expectOldSize`, at
   * most one returns true unless `next.treeSize` equals `expectOldSize`
   * (a re-cosignature of the same tree, which leaves the size unchanged).
   * @returns true when written; false, having written nothing, when the
   *   stored size is no longer `expectOldSize` (a concurrent add-checkpoint won).
   * @throws StoreError `STORE_CONFLICT` for a `next` that would move the
   *   witness backwards (`next.treeSize < expectOldSize`), a root hash that
   *   is not 32 bytes, an empty note, or `next.party` ≠ `party` — our
   *   caller's bug; nothing is written.
   */
  advanceWitness(party: string, expectOldSize: number, next: WitnessState): Promise<boolean>;
  /**
   * The witness's signed cosignature history of `party`'s log (issue 14,
   * deadline agreement): every note a successful `advanceWitness` stored
   * (checkpoint, log signature, this node's cosignature), one per tree size,
   * written in the same transaction as the state it came with, insert-only.
   * A log's node whose answer to add-checkpoint was lost reads here the
   * cosignature that bounds its entries, though a newer one superseded it.
   * @param afterSize only sizes greater than this.
   * @param limit at most this many (1 … 1000), smallest sizes first.
   */
  witnessCosignatures(party: string, afterSize: number, limit: number): Promise<WitnessCosignature[]>;
  /**
   * Adds notes to the cosignature history without touching the witness
   * state (a copy of the history, `parley migrate`): insert-only, a
   * (party, size) held already keeps its note. Atomic and durable on return.
   * @returns how many were new.
   * @throws StoreError `STORE_CONFLICT` for more than 1000 rows, an empty
   *   party or note, or a size that is not a safe integer ≥ 1 (our caller's
   *   bug); nothing is written.
   */
  addWitnessCosignatures(rows: readonly WitnessCosignature[]): Promise<number>;

  /**
   * Keeps a fork proof against `proof.party`'s log (issue 9: evidence in a
   * typed, insert-only table). One fork is one proof: the pair of views is
   * canonicalised here (the two checkpoint bodies sorted), so the same pair
   * offered in either order — or as a proof of another kind — is stored
   * once. Never updated or deleted. Durable when it resolves.
   * @returns true when stored; false when a proof of the same pair is held.
   * @throws StoreError `STORE_CONFLICT` for an empty party, proof or view,
   *   or two equal views — our caller's bug; nothing is written.
   */
  addForkProof(proof: NewForkProof): Promise<boolean>;
  /** Fork proofs held, oldest first; only those against `party`'s log when given. */
  forkProofs(party?: string): Promise<StoredForkProof[]>;

  /**
   * Keeps a checkpoint note of `party`'s log that could not be compared
   * with what this node cosigned when it arrived (offline import, a
   * witness request at another size), for comparison at the next contact.
   * Insert-only; a note already held is not stored twice.
   * @param maxPending most uncompared notes kept per party: beyond it, the new one is not stored.
   * @returns true when stored.
   */
  addUnverifiedCheckpoint(party: string, note: string, keptAt: string, maxPending: number): Promise<boolean>;
  /** `party`'s checkpoints kept by {@link addUnverifiedCheckpoint} and not yet compared, oldest first. */
  unverifiedCheckpoints(party: string): Promise<string[]>;
  /**
   * Records the outcome of comparing kept checkpoints (compare-and-set:
   * only a note not yet compared is marked; the row stays as evidence).
   */
  markCheckpointsCompared(party: string, notes: readonly string[], outcome: string, at: string): Promise<void>;
  // ---- Evidence of federation and deadlines (issue 9): typed, never
  // read-modify-write. Each write is atomic and durable on return; writes
  // issued without awaiting each other apply in issue order, and none of
  // them can move its value backwards, so a late write of an older value
  // loses instead of erasing a newer one.

  /** The `kind` cursor of `party` (see {@link Cursor}), or undefined when none was written. */
  cursor(kind: CursorKind, party: string): Promise<Cursor | undefined>;
  /**
   * Moves a cursor forward: writes `next` only if no cursor is stored or
   * `next.treeSize` is larger than the stored size.
   * @returns true when written; false, writing nothing, for a size at or
   *   below the stored one (a stale or repeated write).
   * @throws StoreError `STORE_CONFLICT` for a size that is not a safe
   *   integer ≥ 0 or a frontier hash that is not 32 bytes (our caller's bug).
   */
  advanceCursor(kind: CursorKind, party: string, next: Cursor): Promise<boolean>;

  /** The latest checkpoint of our log that `witness` (a peer) cosigned, or undefined. */
  ownCosigned(witness: string): Promise<OwnCosigned | undefined>;
  /**
   * Keeps `next` as the latest cosignature of our log by `next.witness`, if
   * it is newer than the stored one: a larger tree size, or the same size
   * cosigned later.
   * @returns true when written; false when the stored one is as new or newer.
   * @throws StoreError `STORE_CONFLICT` for a size < 1, a negative time or an empty note.
   */
  advanceOwnCosigned(next: OwnCosigned): Promise<boolean>;

  /**
   * Records cosigned times. Insert-only: a (party, cosigner, treeSize) already
   * held keeps its first time. Atomic per call.
   * @throws StoreError `STORE_CONFLICT` for a size < 1 or a time that is not a safe integer ≥ 0.
   */
  addCosignedTimes(points: readonly CosignedTime[]): Promise<void>;
  /** The cosigned times of `party`'s log: per cosigner the `limit` largest sizes (default all), ordered by cosigner then size. */
  cosignedTimes(party: string, limit?: number): Promise<CosignedTime[]>;

  // issue 12 (trusted time): RFC 3161 tokens of checkpoints.

  /**
   * Keeps RFC 3161 time-stamp tokens of checkpoints (the caller verified
   * them: the store checks only their shape). Insert-only: a token for a
   * (party, treeSize, authority) already held is left as it is (the first
   * one stays). Atomic per call.
   * @returns how many of `tokens` were newly stored.
   * @throws StoreError `STORE_CONFLICT` for an empty party or authority, a
   *   size that is not a safe integer ≥ 1, an empty token or note, or a genTime
   *   that is not a safe integer ≥ 0 (our caller's bug); nothing of the call is written.
   */
  addCheckpointTimestamps(tokens: readonly CheckpointTimestamp[]): Promise<number>;
  /**
   * The tokens held for `party`'s log, ordered by tree size then authority.
   * @param q.treeSize only the checkpoint of this size.
   * @param q.from only sizes ≥ from.
   * @param q.limit at most this many rows (default all).
   */
  checkpointTimestamps(party: string, q?: { readonly treeSize?: number; readonly from?: number; readonly limit?: number }): Promise<CheckpointTimestamp[]>;
  /** The largest tree size of `party`'s log with a token held, or 0. */
  latestTimestampedSize(party: string): Promise<number>;

  /**
   * Records escalations (an overdue deadline, a fork: whatever was announced
   * once and must never be announced again), each with the webhook to send
   * for it if any. Insert-only: an id already recorded is left as it is.
   * Atomic per call.
   * @returns the ids newly recorded.
   */
  recordEscalations(rows: readonly NewEscalation[]): Promise<string[]>;
  /**
   * Every escalation recorded, oldest first.
   * @param q.keepSettled leave out every escalation whose webhook is not
   *   pending (delivered, abandoned, or none), but those whose id starts with
   *   this prefix (issue 14: a node that escalated millions of overdue
   *   deliveries and announced millions of arrivals loads only what it must
   *   still send, and its fork ids).
   */
  escalations(q?: { readonly keepSettled?: string }): Promise<EscalationRecord[]>;
  /** Of `ids`, those recorded as escalations (issue 14: asked per page, not held in memory). */
  knownEscalations(ids: readonly string[]): Promise<string[]>;
  /**
   * Compare-and-set of one escalation's webhook delivery state: writes only
   * if the stored `attempts` is still `expectAttempts` and the webhook is
   * still pending.
   * @returns true when written; false when no pending webhook with those attempts exists.
   */
  updateWebhook(id: string, expectAttempts: number, next: WebhookUpdate): Promise<boolean>;

  // ---- Governance (issue 14: typed tables instead of the settings
  // accord.chain, accord.departed, accord.forks, evaluation.cosigned/…).

  /**
   * The accord chain this node adopted (GOV.md §2: versions ≥ 2 and the
   * activations; the genesis stays `accord.json`), with its revision, or
   * undefined when only the genesis is in force.
   */
  accordChain(): Promise<HeldAccordChain | undefined>;
  /**
   * The revision of the stored chain: 0 when none, +1 at every
   * {@link putAccordChain}. One indexed read: processes sharing a database
   * poll it to notice a chain another process adopted.
   */
  accordChainRevision(): Promise<number>;
  /**
   * Stores `chain` as the chain in force, atomically, only if it extends the
   * one held: same channel, at least as many versions (a held version may be
   * replaced by the same number with other signatures: the caller checked the
   * digests), every held activation kept with its size. The chain never moves
   * backwards, whichever process writes.
   * @returns the new revision.
   * @throws StoreError `STORE_CONFLICT`, writing nothing, for a chain that
   *   does not extend the held one, versions not numbered 2, 3, … in order,
   *   or a malformed activation (two for one party and version, a size or
   *   version that is not a safe integer).
   */
  putAccordChain(chain: StoredAccordChain): Promise<number>;

  /** The ends of departed parties' logs recorded so far, by party. */
  departedLogs(): Promise<StoredDepartedLog[]>;
  /**
   * Records the end of departed parties' logs. Insert-only: a party already
   * recorded keeps its first end (the end is fixed when the version that no
   * longer names it is adopted). Atomic per call.
   * @returns the parties newly recorded.
   * @throws StoreError `STORE_CONFLICT` for an empty party or digest, or a
   *   version < 2 or end < 0 that is not a safe integer.
   */
  addDepartedLogs(logs: readonly StoredDepartedLog[]): Promise<string[]>;

  /**
   * Keeps an accord fork proof (canonical core AccordForkProof text).
   * Insert-only, once per text, at most `maxKept` in all.
   * @returns true when stored; false when held already or `maxKept` are held.
   * @throws StoreError `STORE_CONFLICT` for an empty proof.
   */
  addAccordForkProof(proof: string, recordedAt: string, maxKept: number): Promise<boolean>;
  /** The accord fork proofs held, oldest first. */
  accordForkProofs(): Promise<string[]>;

  /**
   * Keeps the first cosigned note covering an evaluation entry, per
   * cosigner (issue 12, EVAL.md §4). Write-once per (party, index, cosigner).
   * @returns true when stored; false when one is held (the first stays).
   * @throws StoreError `STORE_CONFLICT` for an empty party, cosigner or note,
   *   an index < 0, a size ≤ index, or a time that is not a safe integer ≥ 0.
   */
  addEvaluationNote(n: EvaluationNote): Promise<boolean>;
  /** The notes kept for entry `index` of `party`'s log, by cosigner. */
  evaluationNotes(party: string, index: number): Promise<EvaluationNote[]>;
  // issue 14 (RSS of a 10,000,000-entry node): the deadline tracker's deliveries, durable
  /**
   * Files what the deadline tracker (node deadlines/tracker.ts) read from a
   * page of entries, with the tracker's cursor, in ONE transaction: a crash
   * leaves the page wholly filed or not at all, and the tracker re-reads
   * from the cursor. Deliveries and withdrawals are insert-only (a key held
   * is left as it is); answers replace the row of their key (the tracker
   * merges them: the earliest of each kind). The cursor only moves forward.
   * The JSON columns are the tracker's own shapes: the store keeps them, it
   * does not read them. An answer row with `held` is a compare-and-set: when
   * the row's answers are no longer `held` (another process or tracker filed
   * since they were read), nothing of the batch is filed and the result is
   * false — the tracker reads the rows again, merges and files again (a
   * merge never drops another filing's answer). True: filed.
   */
  fileDeliveries(b: DeliveryBatch): Promise<boolean>;
  /** The tracker's cursor: own entries filed below `ownSize`, received ones up to receive sequence `lastSeq` (0, 0 at first). */
  deliveryCursor(): Promise<DeliveryCursor>;
  /** The answer rows held for these (delivery, hash) keys (absent keys: no row). */
  deliveryAnswers(keys: readonly DeliveryAnswerKey[]): Promise<DeliveryAnswerRow[]>;
  /**
   * Deliveries in key order (party, index, recipient), each with the answers
   * filed under ITS leaf hash and its sender's withdrawal, if any: at most
   * `limit`, strictly after `after` (the key cursor), filtered by `party`,
   * `index`, `recipient`, `direction` when given.
   */
  deliveries(q: DeliveryQuery): Promise<StoredDelivery[]>;
  /**
   * Writes the tracker's judgement of each delivery (its indexed columns,
   * schema 13 / PG 5): state, due time, listing place and bound floors. A
   * key not held is skipped. The next filing of an answer or withdrawal of
   * the delivery makes it due again (due_at 0).
   */
  judgeDeliveries(j: readonly DeliveryJudgement[]): Promise<void>;
  /**
   * Makes due at once (due_at 0) the deliveries of entries [from, to) of
   * `party`'s log and those answered (receipt or ack) by such an entry: their
   * time bounds moved. `unbounded` (a new bounds provider and what it
   * covers): also the judged deliveries judged without a bound it now knows —
   * of an entry of `party`'s log below `to` (to recipient `by`, when given),
   * or answered by such an entry (to sender `by`).
   */
  rejudgeDeliveries(ranges: readonly { party: string; from: number; to: number }[], unbounded?: readonly BoundsCoverage[]): Promise<void>;
  /** The earliest due time of a judged delivery (due_at not null), if any: an index read. */
  nextDeliveryDue(): Promise<number | undefined>;
  /**
   * Deliveries whose stored judgement holds at `at` (judged at or before
   * `at`, due at or after it, or never by the clock) in listing order (rank,
   * sortDue, index, party, recipient), strictly after `after`, filtered: an
   * index range, one page.
   */
  deliveryListing(q: DeliveryListingQuery): Promise<StoredDelivery[]>;
  /** Counts of the deliveries whose stored judgement holds at `at`, by state, settled and overdue bits: an SQL aggregate. */
  deliveryCounts(at: number): Promise<DeliveryCountRow[]>;

  close(): Promise<void>;
}

/** The chain file as stored: the versions after the genesis and the activations (core ChainFile). */
export interface StoredAccordChain {
  readonly channel: string;
  /** Versions 2, 3, … in order. */
  readonly versions: readonly SignedAccord[];
  readonly activations: readonly ChainFileActivation[];
}

/** The stored chain and its revision (see {@link LogStore.accordChainRevision}). */
export interface HeldAccordChain extends StoredAccordChain {
  readonly revision: number;
}

/** The end of a departed party's log (node epochs.ts DepartedLog). */
export interface StoredDepartedLog {
  readonly party: string;
  /** The first version that no longer names the party, and its digest. */
  readonly version: number;
  readonly digest: string;
  /** Entries of the party at index ≥ end are refused. */
  readonly end: number;
}

/** The first cosigned note covering entry `index` of `party`'s log kept for `cosigner`. */
export interface EvaluationNote {
  readonly party: string;
  readonly index: number;
  readonly cosigner: string;
  /** The size of the cosigned checkpoint (> index). */
  readonly treeSize: number;
  /** The cosignature's time, POSIX seconds. */
  readonly cosignedAt: number;
  /** The cosigned checkpoint note (text). */
  readonly note: string;
}

/**
 * Which federation cursor: how far we pushed our entries to a peer, or
 * scanned and verified its log. A 'push' cursor under `cosignatures/<peer>`
 * (no party id has a '/') is how far that peer's witness history of our log
 * was read (node federation/gossip.ts): the same shape, a size of our log.
 */
export type CursorKind = 'push' | 'pull';

export interface Cursor {
  /** push: our entries for the peer are pushed below this size of our log; pull: the peer's log is scanned up to it. */
  readonly treeSize: number;
  /** pull: the RFC 6962 compact range of [0, treeSize), largest subtree first; push: empty. */
  readonly frontier: readonly Hash[];
}

/** Our log's checkpoint as cosigned by a peer's witness. */
export interface OwnCosigned {
  readonly witness: string;
  readonly treeSize: number;
  /** The cosignature's timestamp (POSIX seconds); absent when unknown (migrated from a value without it). */
  readonly cosignedAt?: number;
  /** The checkpoint note: our signature and the peer's cosignature (text). */
  readonly note: string;
}

/** `cosigner` cosigned a checkpoint of `party`'s log of `treeSize` at `cosignedAt` (POSIX seconds). */
export interface CosignedTime {
  readonly party: string;
  readonly cosigner: string;
  readonly treeSize: number;
  readonly cosignedAt: number;
}

/**
 * An RFC 3161 time-stamp token (DER TimeStampToken) from the accord
 * authority `authority` for the checkpoint of `party`'s log of `treeSize`;
 * its imprint is SHA-256 of that signed checkpoint note (core tsa).
 */
export interface CheckpointTimestamp {
  readonly party: string;
  readonly treeSize: number;
  readonly authority: string;
  readonly token: Uint8Array;
  /** The token's genTime, milliseconds since the epoch. */
  readonly genTime: number;
  /**
   * The exact checkpoint note stamped (text): the log's own signed note of
   * `treeSize`, as its node serves it, without cosignatures. The token's
   * imprint is SHA-256 of it, so each row verifies on its own.
   */
  readonly note: string;
}

export interface NewEscalation {
  /** Stable id (the webhook's id). */
  readonly id: string;
  /** Milliseconds since the epoch. */
  readonly recordedAt: number;
  /** The exact webhook body to send and sign on every attempt; absent: no webhook. */
  readonly webhook?: string;
}

export type WebhookDelivery = 'pending' | 'delivered' | 'abandoned';

export interface EscalationRecord {
  readonly id: string;
  /** Milliseconds since the epoch; 0 for escalations migrated from settings. */
  readonly recordedAt: number;
  readonly webhook?: {
    readonly body: string;
    readonly attempts: number;
    /** Milliseconds since the epoch. */
    readonly nextAttemptAt: number;
    readonly state: WebhookDelivery;
  };
}

export interface WebhookUpdate {
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly state: WebhookDelivery;
}

/** Storage failures reject with core's `StoreError` (codes STORE_CONFLICT, STORE_CORRUPT, STORE_UNAVAILABLE). */
export { StoreError } from '@parley/core';

/** One delivery as the deadline tracker files it: one entry × one recipient (issue 14). */
export interface DeliveryRecord {
  /** The sender: the log holding the entry. */
  readonly party: string;
  readonly index: number;
  readonly recipient: string;
  readonly direction: 'sent' | 'received';
  /** The entry's leaf hash, base64 (answers are matched by it). */
  readonly leafHash: string;
  /** The rest of the tracker's facts, JSON. */
  readonly facts: string;
}

/** Which answers: those to (party, index) by `recipient` whose ref names `hash`. */
export interface DeliveryAnswerKey {
  readonly party: string;
  readonly index: number;
  readonly recipient: string;
  readonly hash: string;
}

export interface DeliveryAnswerRow extends DeliveryAnswerKey {
  /** The tracker's merged answers (receipt, ack, rejection), JSON. */
  readonly answers: string;
  /**
   * The row's answers the merge started from (null: no row held). Given,
   * the row is written only if it still holds them ({@link LogStore.fileDeliveries}).
   */
  readonly held?: string | null;
}

/** A sender's withdrawal of its entry (issue 13), JSON of the retraction. */
export interface DeliveryWithdrawal {
  readonly party: string;
  readonly index: number;
  readonly retraction: string;
}

export interface DeliveryCursor {
  readonly ownSize: number;
  readonly lastSeq: number;
}

export interface DeliveryBatch {
  readonly deliveries: readonly DeliveryRecord[];
  readonly answers: readonly DeliveryAnswerRow[];
  readonly withdrawals: readonly DeliveryWithdrawal[];
  readonly cursor: DeliveryCursor;
}

export interface DeliveryKey {
  readonly party: string;
  readonly index: number;
  readonly recipient: string;
}

export interface DeliveryQuery {
  readonly after?: DeliveryKey;
  readonly limit: number;
  readonly party?: string;
  readonly index?: number;
  readonly recipient?: string;
  readonly direction?: 'sent' | 'received';
  /**
   * Only deliveries whose judgement is stale before this time (due_at <
   * staleBefore; never judged or touched: due_at 0), ordered by (due_at,
   * key), paged by `afterStale`; `after` is then ignored.
   */
  readonly staleBefore?: number;
  /** Only deliveries judged after this time (judged_at >) and not stale before it, ordered by (judged_at, key), paged by `afterStale`. */
  readonly judgedAfter?: number;
  readonly afterStale?: { readonly at: number; readonly key: DeliveryKey };
}

/** Entries [0, to) of `party`'s log have a time bound (by cosigner `by`'s cosignatures; absent: by any, e.g. time-stamp tokens). */
export interface BoundsCoverage {
  readonly party: string;
  readonly to: number;
  readonly by?: string;
}

/** The tracker's judgement of one delivery at `judgedAt`, kept in indexed columns (schema 13 / PG 5). */
export interface DeliveryJudgement extends DeliveryKey {
  readonly state: string;
  readonly settled: boolean;
  /** Bits of the deadlines missed: 1 receipt, 2 ack. */
  readonly overdue: number;
  /** Until when (ms) the judgement holds by the clock: the next due time; null: it never changes by the clock alone. */
  readonly dueAt: number | null;
  /** The `now` (ms) of the judgement. */
  readonly judgedAt: number;
  /** Listing order: 0 open and overdue, 1 open, 2 settled; then the due time that orders it. */
  readonly rank: number;
  readonly sortDue: number;
  /** Floors (ms) of the time bounds used: the entry's, and its receipt's and ack's (with their indexes). */
  readonly startBound: number | null;
  readonly receiptIdx: number | null;
  readonly receiptBound: number | null;
  readonly ackIdx: number | null;
  readonly ackBound: number | null;
  /**
   * The facts the judgement was made on, as read (the row's answers and
   * withdrawal JSON, null: none). Given, the judgement is written only where
   * the row still holds them: an answer or withdrawal filed since the row was
   * read (by this process or another) is not overwritten by a verdict made
   * without it — the row stays due (due_at 0) and is judged again. Absent:
   * written unconditionally.
   */
  readonly basis?: { readonly answers: string | null; readonly withdrawn: string | null };
}

export interface DeliveryListingQuery {
  readonly at: number;
  readonly limit: number;
  readonly after?: readonly [rank: number, sortDue: number, index: number, party: string, recipient: string];
  readonly party?: string;
  readonly index?: number;
  readonly recipient?: string;
  readonly direction?: 'sent' | 'received';
  readonly state?: string;
  readonly settled?: boolean;
}

export interface DeliveryCountRow {
  readonly state: string;
  readonly settled: boolean;
  readonly overdue: number;
  readonly n: number;
}

export interface StoredDelivery extends DeliveryRecord {
  /** The answers filed under this delivery's leaf hash, JSON. */
  readonly answers?: string;
  /** The sender's withdrawal, JSON. */
  readonly withdrawn?: string;
  /** The tracker's last judgement (absent: never judged); `dueAt` 0: due again (touched). */
  readonly judged?: Omit<DeliveryJudgement, keyof DeliveryKey>;
}
