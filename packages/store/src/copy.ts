/**
 * Copying a whole store to another (issue 14, `parley migrate`), whatever
 * the two implementations: the source gives a LOGICAL dump — records of what
 * the party holds, in a fixed order ({@link DumpRecord}) — written by each
 * implementation's own SQL ({@link DumpableStore}); the target is filled
 * only through the LogStore write methods, so every contract check of the
 * target runs on the copy (the conditional append, the insert-only rules).
 * Then the copy is verified: the two dumps are compared record by record
 * (every entry byte-equal, every checkpoint, every received and mirrored
 * entry, every row of the rest), and the target's tree is recomputed from
 * its entries and compared with every checkpoint's root.
 *
 * Not copied: nothing. Sessions are copied too (a migrated node keeps its
 * officers logged in); nonces still live are copied (no replay window);
 * idempotency keys are copied (a client resending a write it sent before the
 * move gets the first answer from the new store, and nothing is logged
 * twice). The only write path of an idempotency record is the append of the
 * batch whose entries it names (LogStore.appendBatch), so each record rides
 * with the copy of that batch (the batch its indexes fall in); the dump
 * lists them whole, by (scope, key), for the verification. The witness's
 * cosignature history (issue 14) is copied after the witness states, each
 * row insert-only (`addWitnessCosignatures`): `advanceWitness` alone would
 * bring only each party's current note, and a log's node reading the
 * history from the new store would miss every earlier cosignature.
 */
import { bytesEqual, fail, Frontier, type Hash, leafHash, parseCheckpoint, parseNote, storedHashCount } from '@parley/core';
import type {
  CheckpointTimestamp,
  CosignedTime,
  Cursor,
  CursorKind,
  EvaluationNote,
  IdempotencyRecord,
  LogStore,
  MirroredEntry,
  Officer,
  OwnCosigned,
  OwnEntry,
  ReceivedEntry,
  ReceivedListing,
  Session,
  StoredAccordChain,
  StoredDepartedLog,
  WebhookDelivery,
  WitnessCosignature,
  WitnessState,
} from './types.js';

/** One record of a logical dump. Order of kinds: as listed; within a kind: by key (code-unit order for text). */
export type DumpRecord =
  /** One committed batch of the own log: entries (prevSize, treeSize], their stored hashes, its checkpoint. */
  | { readonly kind: 'batch'; readonly entries: readonly OwnEntry[]; readonly hashes: readonly (readonly [number, Hash])[]; readonly treeSize: number; readonly checkpoint: Uint8Array }
  /**
   * A mirrored entry of another party's log (party, index order). Before the
   * received entries: `mirror()` skips an entry already held as received,
   * `ingest()` does not skip one already mirrored — so an entry held both
   * ways (mirrored first, then addressed to us) is copied both ways.
   */
  | { readonly kind: 'mirror'; readonly party: string; readonly entry: MirroredEntry }
  /** A received entry, in receive order. */
  | { readonly kind: 'received'; readonly entry: ReceivedEntry }
  | { readonly kind: 'officer'; readonly officer: Officer }
  | { readonly kind: 'session'; readonly session: Session }
  | { readonly kind: 'nonce'; readonly key: string; readonly expiresAt: number }
  | { readonly kind: 'setting'; readonly key: string; readonly value: unknown }
  | { readonly kind: 'witness'; readonly state: WitnessState }
  /** A fork proof: the two canonical views (checkpoint bodies, sorted) and the proof. */
  | { readonly kind: 'forkProof'; readonly party: string; readonly viewLo: string; readonly viewHi: string; readonly proof: string; readonly recordedAt: string }
  | { readonly kind: 'unverified'; readonly party: string; readonly note: string; readonly keptAt: string; readonly comparedAt: string | null; readonly outcome: string | null }
  | { readonly kind: 'cursor'; readonly cursorKind: CursorKind; readonly party: string; readonly cursor: Cursor }
  | { readonly kind: 'ownCosigned'; readonly value: OwnCosigned }
  | { readonly kind: 'cosignedTime'; readonly value: CosignedTime }
  | { readonly kind: 'timestamp'; readonly value: CheckpointTimestamp }
  | {
      readonly kind: 'escalation';
      readonly id: string;
      readonly recordedAt: number;
      readonly webhook: { readonly body: string; readonly attempts: number; readonly nextAttemptAt: number; readonly state: WebhookDelivery } | undefined;
    }
  /** The accord chain beyond the genesis (its revision is the store's own count of writes: not copied). */
  | { readonly kind: 'accordChain'; readonly chain: StoredAccordChain }
  | { readonly kind: 'departed'; readonly value: StoredDepartedLog }
  /** An accord fork proof, in insertion order. */
  | { readonly kind: 'accordFork'; readonly proof: string; readonly recordedAt: string }
  | { readonly kind: 'evaluationNote'; readonly value: EvaluationNote }
  /** An idempotency record, by (scope, key); copied with the batch its indexes fall in. */
  | { readonly kind: 'idempotency'; readonly record: IdempotencyRecord }
  /** One note of the witness's cosignature history (issue 14), by (party code-unit, size); the current one is the `witness` state's note too. */
  | { readonly kind: 'witnessCosignature'; readonly value: WitnessCosignature };

export type DumpKind = DumpRecord['kind'];

/** The kinds, in dump order. */
export const DUMP_KINDS: readonly DumpKind[] = ['batch', 'mirror', 'received', 'officer', 'session', 'nonce', 'setting', 'witness', 'forkProof', 'unverified', 'cursor', 'ownCosigned', 'cosignedTime', 'timestamp', 'escalation', 'accordChain', 'departed', 'accordFork', 'evaluationNote', 'idempotency', 'witnessCosignature'];

/**
 * The raw listings a logical dump needs beyond the LogStore reads, each
 * implementation's own SQL. Small tables are listed whole (any order: the
 * dump sorts them); the large ones are paged by key.
 */
export interface DumpTables {
  /** Checkpoints with tree size > `size`, ascending. */
  checkpointsAfter(size: number, limit: number): Promise<{ treeSize: number; note: Uint8Array }[]>;
  /** Received entries with receive sequence > `seq`, ascending. */
  receivedAfter(seq: number, limit: number): Promise<ReceivedListing[]>;
  /** Mirrored entries with (party, index) > the given pair, in (party code-unit, index) order. */
  mirrorAfter(party: string, index: number, limit: number): Promise<{ party: string; entry: MirroredEntry }[]>;
  countReceived(): Promise<number>;
  countMirror(): Promise<number>;
  sessions(): Promise<Session[]>;
  settings(): Promise<{ key: string; value: unknown }[]>;
  witnesses(): Promise<WitnessState[]>;
  /** In insertion order. */
  forkProofRows(): Promise<{ party: string; viewLo: string; viewHi: string; proof: string; recordedAt: string }[]>;
  /** In insertion order. */
  unverifiedRows(): Promise<{ party: string; note: string; keptAt: string; comparedAt: string | null; outcome: string | null }[]>;
  cursors(): Promise<{ cursorKind: CursorKind; party: string; cursor: Cursor }[]>;
  ownCosignedAll(): Promise<OwnCosigned[]>;
  cosignedTimesAll(): Promise<CosignedTime[]>;
  timestampsAll(): Promise<CheckpointTimestamp[]>;
  /** In insertion order. */
  accordForkRows(): Promise<{ proof: string; recordedAt: string }[]>;
  evaluationNotesAll(): Promise<EvaluationNote[]>;
  /** Every idempotency record (kept 24 hours: a day of keyed writes). */
  idempotencyAll(): Promise<IdempotencyRecord[]>;
  /** Witness cosignature history rows with (party, size) > the given pair, in (party code-unit, size) order. */
  witnessCosignaturesAfter(party: string, treeSize: number, limit: number): Promise<WitnessCosignature[]>;
  countWitnessCosignatures(): Promise<number>;
}

/** A store that lists its tables for a logical dump (SqliteStore, PgStore). */
export interface DumpableStore extends LogStore {
  dumpTables(): DumpTables;
}

export function isDumpable(s: LogStore): s is DumpableStore {
  return typeof (s as Partial<DumpableStore>).dumpTables === 'function';
}

const PAGE = 512;

/** The small tables as records, in dump order (sorted here, so both stores give one order). */
async function smallRecords(s: DumpableStore, now: number): Promise<DumpRecord[]> {
  const t = s.dumpTables();
  const out: DumpRecord[] = [];
  for (const officer of byKeys(await s.officers(), (o) => o.name)) out.push({ kind: 'officer', officer });
  for (const session of byKeys(await t.sessions(), (x) => x.tokenHash)) out.push({ kind: 'session', session });
  for (const n of byKeys(await s.liveNonces(now), (x) => x.key)) out.push({ kind: 'nonce', key: n.key, expiresAt: n.expiresAt });
  for (const x of byKeys(await t.settings(), (y) => y.key)) out.push({ kind: 'setting', key: x.key, value: x.value });
  for (const state of byKeys(await t.witnesses(), (x) => x.party)) out.push({ kind: 'witness', state });
  for (const f of await t.forkProofRows()) out.push({ kind: 'forkProof', ...f });
  for (const u of await t.unverifiedRows()) out.push({ kind: 'unverified', ...u });
  for (const c of byKeys(await t.cursors(), (x) => x.cursorKind, (x) => x.party)) out.push({ kind: 'cursor', ...c });
  for (const value of byKeys(await t.ownCosignedAll(), (x) => x.witness)) out.push({ kind: 'ownCosigned', value });
  for (const value of byKeys(await t.cosignedTimesAll(), (x) => x.party, (x) => x.cosigner, (x) => x.treeSize)) out.push({ kind: 'cosignedTime', value });
  for (const value of byKeys(await t.timestampsAll(), (x) => x.party, (x) => x.treeSize, (x) => x.authority)) out.push({ kind: 'timestamp', value });
  for (const e of await s.escalations()) out.push({ kind: 'escalation', id: e.id, recordedAt: e.recordedAt, webhook: e.webhook });
  const chain = await s.accordChain();
  if (chain !== undefined) out.push({ kind: 'accordChain', chain: { channel: chain.channel, versions: chain.versions, activations: chain.activations } });
  for (const value of byKeys(await s.departedLogs(), (x) => x.party)) out.push({ kind: 'departed', value });
  for (const f of await t.accordForkRows()) out.push({ kind: 'accordFork', ...f });
  for (const value of byKeys(await t.evaluationNotesAll(), (x) => x.party, (x) => x.index, (x) => x.cosigner)) out.push({ kind: 'evaluationNote', value });
  for (const record of byKeys(await t.idempotencyAll(), (x) => x.scope, (x) => x.key)) out.push({ kind: 'idempotency', record });
  return out;
}

/**
 * Everything `s` holds, as {@link DumpRecord}s in dump order, read in pages
 * (bounded memory but for the small tables). Not a snapshot: dump a store
 * nobody writes (the data directory's lock held).
 * @param now POSIX seconds: nonces expired before it are left out.
 */
export async function* dumpStore(s: DumpableStore, now: number): AsyncGenerator<DumpRecord> {
  const t = s.dumpTables();
  let prev = 0;
  for (;;) {
    const cps = await t.checkpointsAfter(prev, 64);
    if (cps.length === 0) break;
    for (const cp of cps) {
      const entries = await s.entries(prev, cp.treeSize);
      if (entries.length !== cp.treeSize - prev) fail('STORE_CORRUPT', `entries ${prev}…${cp.treeSize - 1} are not all stored`);
      const lo = storedHashCount(prev);
      const idx = Array.from({ length: storedHashCount(cp.treeSize) - lo }, (_, k) => lo + k);
      const hs = await s.readHashes(idx);
      yield { kind: 'batch', entries, hashes: idx.map((i, k) => [i, hs[k]!] as const), treeSize: cp.treeSize, checkpoint: cp.note };
      prev = cp.treeSize;
    }
  }
  for (let [party, index] = ['', -1]; ; ) {
    const page = await t.mirrorAfter(party, index, PAGE);
    if (page.length === 0) break;
    for (const m of page) yield { kind: 'mirror', party: m.party, entry: m.entry };
    [party, index] = [page[page.length - 1]!.party, page[page.length - 1]!.entry.index];
  }
  for (let seq = -1; ; ) {
    const page = await t.receivedAfter(seq, PAGE);
    if (page.length === 0) break;
    for (const { rowid, ...entry } of page) yield { kind: 'received', entry };
    seq = page[page.length - 1]!.rowid;
  }
  yield* await smallRecords(s, now);
  // After the witness states: the copy writes each state first (its note a history row too), then the history insert-only.
  for (let [party, size] = ['', 0]; ; ) {
    const page = await t.witnessCosignaturesAfter(party, size, PAGE);
    if (page.length === 0) break;
    for (const value of page) yield { kind: 'witnessCosignature', value };
    [party, size] = [page[page.length - 1]!.party, page[page.length - 1]!.treeSize];
  }
}

/** How many records of each kind {@link dumpStore} gives (batch: entries). */
export async function dumpCounts(s: DumpableStore, now: number): Promise<Record<DumpKind, number>> {
  const t = s.dumpTables();
  const c = emptyCounts();
  c.batch = await s.treeSize();
  c.received = await t.countReceived();
  c.mirror = await t.countMirror();
  for (const r of await smallRecords(s, now)) c[r.kind]++;
  c.witnessCosignature = await t.countWitnessCosignatures();
  return c;
}

/** Progress of a copy or a verification: records done of the total. */
export type CopyProgress = (phase: 'copy' | 'verify', done: number, total: number) => void;

const CHUNK = 512;

/**
 * Copies every record of `from` into the EMPTY store `to` through its write
 * methods (each batch with the conditional append; received and mirrored
 * entries in chunks, in order).
 * @returns the number of records of each kind copied.
 * @throws StoreError STORE_CONFLICT when `to` is not empty (nothing written) or a write is refused.
 */
export async function copyStore(from: DumpableStore, to: DumpableStore, o: { now: number; progress?: CopyProgress }): Promise<Record<DumpKind, number>> {
  if (!(await isEmpty(to, o.now))) fail('STORE_CONFLICT', 'the target store is not empty');
  const counts = await dumpCounts(from, o.now);
  const total = Object.values(counts).reduce((a, b) => a + b, 0);
  const done = emptyCounts();
  let n = 0;
  let frontier = Frontier.empty();
  // Idempotency records by the batch that must carry them: the one holding their first index.
  const keyed = byKeys(await from.dumpTables().idempotencyAll(), (x) => x.indexes[0] ?? -1, (x) => x.scope, (x) => x.key);
  let nextKeyed = 0;
  const carried = new Set<string>();
  const keyId = (k: IdempotencyRecord) => `${k.scope}\u0000${k.key}`;
  let received: ReceivedEntry[] = [];
  let mirror: { party: string; entries: MirroredEntry[] } | undefined;
  let history: WitnessCosignature[] = [];
  const flush = async () => {
    if (received.length > 0) await to.ingest(received);
    received = [];
    if (history.length > 0) await to.addWitnessCosignatures(history);
    history = [];
    if (mirror !== undefined && mirror.entries.length > 0) await to.mirror(mirror.party, mirror.entries);
    mirror = undefined;
  };
  for await (const r of dumpStore(from, o.now)) {
    if (r.kind !== 'received' && received.length > 0) await flush();
    if (r.kind !== 'mirror' && mirror !== undefined) await flush();
    if (r.kind !== 'witnessCosignature' && history.length > 0) await flush();
    switch (r.kind) {
      case 'batch': {
        const prevRoot = frontier.root();
        const f = frontier.clone();
        for (const e of r.entries) f.append(e.leafHash);
        const idempotency: IdempotencyRecord[] = [];
        while (nextKeyed < keyed.length && (keyed[nextKeyed]!.indexes[0] ?? -1) < r.treeSize) idempotency.push(keyed[nextKeyed++]!);
        for (const k of idempotency) carried.add(keyId(k));
        // The target checks each record names indexes of this batch only (STORE_CONFLICT otherwise: nothing written).
        await to.appendBatch({ entries: r.entries, hashes: r.hashes, treeSize: r.treeSize, checkpoint: r.checkpoint, prevRoot, ...(idempotency.length > 0 ? { idempotency } : {}) });
        frontier = f;
        break;
      }
      case 'received':
        received.push(r.entry);
        if (received.length >= CHUNK) await flush();
        break;
      case 'mirror':
        if (mirror !== undefined && (mirror.party !== r.party || mirror.entries.length >= CHUNK)) await flush();
        mirror ??= { party: r.party, entries: [] };
        mirror.entries.push(r.entry);
        break;
      case 'officer':
        await to.putOfficer(r.officer);
        break;
      case 'session':
        await to.putSession(r.session);
        break;
      case 'nonce':
        await to.rememberNonce(r.key, r.expiresAt, o.now);
        break;
      case 'setting':
        await to.putSetting(r.key, r.value);
        break;
      case 'witness':
        await to.advanceWitness(r.state.party, 0, r.state);
        break;
      case 'forkProof':
        // addForkProof canonicalises the views from notes: a body followed by the blank line gives the body back.
        await to.addForkProof({ party: r.party, views: [`${r.viewLo}\n`, `${r.viewHi}\n`], proof: r.proof, recordedAt: r.recordedAt });
        break;
      case 'unverified':
        await to.addUnverifiedCheckpoint(r.party, r.note, r.keptAt, Number.MAX_SAFE_INTEGER);
        if (r.comparedAt !== null) await to.markCheckpointsCompared(r.party, [r.note], r.outcome ?? '', r.comparedAt);
        break;
      case 'cursor':
        await to.advanceCursor(r.cursorKind, r.party, r.cursor);
        break;
      case 'ownCosigned':
        await to.advanceOwnCosigned(r.value);
        break;
      case 'cosignedTime':
        await to.addCosignedTimes([r.value]);
        break;
      case 'timestamp':
        await to.addCheckpointTimestamps([r.value]);
        break;
      case 'escalation': {
        await to.recordEscalations([{ id: r.id, recordedAt: r.recordedAt, ...(r.webhook ? { webhook: r.webhook.body } : {}) }]);
        const w = r.webhook;
        if (w && (w.attempts !== 0 || w.state !== 'pending' || w.nextAttemptAt !== r.recordedAt)) {
          await to.updateWebhook(r.id, 0, { attempts: w.attempts, nextAttemptAt: w.nextAttemptAt, state: w.state });
        }
        break;
      }
      case 'accordChain':
        await to.putAccordChain(r.chain);
        break;
      case 'departed':
        await to.addDepartedLogs([r.value]);
        break;
      case 'accordFork':
        await to.addAccordForkProof(r.proof, r.recordedAt, Number.MAX_SAFE_INTEGER);
        break;
      case 'evaluationNote':
        await to.addEvaluationNote(r.value);
        break;
      case 'witnessCosignature':
        // Insert-only: the current note of each party is held already (advanceWitness above wrote it).
        history.push(r.value);
        if (history.length >= CHUNK) await flush();
        break;
      case 'idempotency':
        // Written with its batch above; one no batch carried names no index of the log.
        if (!carried.has(keyId(r.record))) {
          fail('STORE_CORRUPT', `idempotency key ${JSON.stringify(r.record.key)} of ${r.record.scope} names indexes ${JSON.stringify(r.record.indexes)}, beyond the log`);
        }
        break;
    }
    const w = r.kind === 'batch' ? r.entries.length : 1;
    done[r.kind] += w;
    if (Math.floor((n + w) / 256) !== Math.floor(n / 256)) o.progress?.('copy', n + w, total);
    n += w;
  }
  await flush();
  o.progress?.('copy', total, total);
  return done;
}

/** A difference found by {@link verifyCopy}. */
export interface CopyMismatch {
  readonly kind: DumpKind | 'tree';
  readonly detail: string;
}

/**
 * Verifies that `to` holds exactly what `from` holds: the two dumps compared
 * record by record (received entries: all but the local receive sequence),
 * and the target's own log recomputed: every entry's leaf hash is the hash
 * of its bytes, and every checkpoint's size and root are those of the tree
 * of the entries before it.
 * @returns the first mismatch, or undefined when the copy is exact; and the record counts of the target.
 */
export async function verifyCopy(from: DumpableStore, to: DumpableStore, o: { now: number; progress?: CopyProgress }): Promise<{ mismatch: CopyMismatch | undefined; counts: Record<DumpKind, number>; treeSize: number; checkpoints: number }> {
  const counts = emptyCounts();
  const total = Object.values(await dumpCounts(from, o.now)).reduce((a, b) => a + b, 0);
  const a = dumpStore(from, o.now);
  const b = dumpStore(to, o.now);
  const frontier = Frontier.empty();
  let checkpoints = 0;
  let n = 0;
  const result = (mismatch: CopyMismatch | undefined) => ({ mismatch, counts, treeSize: frontier.size, checkpoints });
  for (;;) {
    const [x, y] = await Promise.all([a.next(), b.next()]);
    if (x.done && y.done) break;
    if (x.done || y.done) return result({ kind: (x.done ? y.value : x.value).kind, detail: x.done ? 'the copy holds a record the source does not' : 'the copy lacks a record of the source' });
    const [s, t] = [x.value, y.value];
    if (s.kind !== t.kind) return result({ kind: s.kind, detail: `record ${n}: the source has a ${s.kind}, the copy a ${t.kind}` });
    if (!sameRecord(s, t)) return result({ kind: s.kind, detail: `record ${n} (${describe(s)}) differs in the copy` });
    if (t.kind === 'batch') {
      for (const e of t.entries) {
        if (e.index !== frontier.size) return result({ kind: 'tree', detail: `entry ${e.index} where ${frontier.size} was due` });
        if (!bytesEqual(leafHash(e.bytes), e.leafHash)) return result({ kind: 'tree', detail: `entry ${e.index}: its leaf hash is not the hash of its bytes` });
        frontier.append(e.leafHash);
      }
      let cp;
      try {
        cp = parseCheckpoint(parseNote(t.checkpoint).text);
      } catch {
        return result({ kind: 'tree', detail: `the checkpoint at ${t.treeSize} does not parse` });
      }
      if (cp.treeSize !== frontier.size || !bytesEqual(cp.rootHash, frontier.root())) return result({ kind: 'tree', detail: `the checkpoint at ${t.treeSize} is not the root of the copied entries` });
      checkpoints++;
    }
    const w = t.kind === 'batch' ? t.entries.length : 1;
    counts[t.kind] += w;
    if (Math.floor((n + w) / 256) !== Math.floor(n / 256)) o.progress?.('verify', n + w, total);
    n += w;
  }
  const size = await to.treeSize();
  if (size !== frontier.size) return result({ kind: 'tree', detail: `the copy's tree size is ${size}, its entries make ${frontier.size}` });
  if (size > 0) {
    const latest = await to.latestCheckpoint();
    if (latest === undefined || parseCheckpoint(parseNote(latest).text).treeSize !== size) return result({ kind: 'tree', detail: 'the copy\u2019s latest checkpoint is not at its tree size' });
  }
  o.progress?.('verify', total, total);
  return result(undefined);
}

/** Whether a store holds nothing at all. */
export async function isEmpty(s: DumpableStore, now: number): Promise<boolean> {
  const c = await dumpCounts(s, now);
  return Object.values(c).every((v) => v === 0);
}

/** Code-unit order of strings (SQLite BINARY, PostgreSQL COLLATE "C" for ASCII ids), for small tables sorted after loading. */
export function byKeys<T>(rows: T[], ...keys: ((r: T) => string | number)[]): T[] {
  return rows.sort((x, y) => {
    for (const k of keys) {
      const [a, b] = [k(x), k(y)];
      if (a < b) return -1;
      if (a > b) return 1;
    }
    return 0;
  });
}

export function emptyCounts(): Record<DumpKind, number> {
  return Object.fromEntries(DUMP_KINDS.map((k) => [k, 0])) as Record<DumpKind, number>;
}

function describe(r: DumpRecord): string {
  switch (r.kind) {
    case 'batch':
      return `batch up to ${r.treeSize}`;
    case 'received':
      return `received ${r.entry.party}/${r.entry.index}`;
    case 'mirror':
      return `mirrored ${r.party}/${r.entry.index}`;
    case 'witnessCosignature':
      return `witness cosignature ${r.value.party}/${r.value.treeSize}`;
    default:
      return r.kind;
  }
}

/** Deep equality of two records (bytes by value; the receive sequence is local and not compared). */
function sameRecord(a: DumpRecord, b: DumpRecord): boolean {
  return deepEqual(a, b);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Uint8Array || b instanceof Uint8Array) return a instanceof Uint8Array && b instanceof Uint8Array && bytesEqual(a, b);
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined && k !== 'rowid');
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined && k !== 'rowid');
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
