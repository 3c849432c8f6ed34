/**
 * PULL from one peer: witness its latest checkpoint here, then scan its log
 * from a durable cursor and ingest the entries addressed to us. Heals lost
 * pushes and partitions; detects gaps by construction (every index is seen).
 *
 *     GET /log/checkpoint → verify with the peer's log key (accord), origin
 *     → witness it locally (node.witness.addCheckpoint, tlog-witness rules):
 *         newer than cosigned: with GET /log/proof/consistency?old=<cosigned>&new=<size>
 *         same size, other root: same-size fork → fork proof stored, throw
 *         refused as inconsistent: the witness keeps the prefix-conflict proof when the
 *           proof authenticates (old size not a power of two); else the peer's tiles
 *           may give it (gossip.ts compareCheckpoints); stored, throw
 *         refused as forked (LOG_FORKED: a proof is held): throw
 *     → target T = what our witness now holds (size, root) — never more than cosigned
 *     → scan entry bundles (C2SP tlog-tiles) for [cursor, m), m = min(T, cursor + MAX_SCAN):
 *         every leaf hash is appended to the cursor's compact range, which must
 *         then fold to root(T) (m = T), or prove consistent with it
 *         (RFC 9162 §2.1.4.2, GET /log/proof/consistency?old=m&new=T)
 *       so every scanned entry — addressed to us or not — is the one the
 *       peer's signed, witnessed checkpoint commits to: a peer cannot hide an
 *       entry addressed to us by serving another in its place
 *     → ingest the entries addressed to us not yet held (ParleyNode.ingest:
 *       signatures, addressing, receipts); an entry the peer logged that does
 *       not verify is skipped and reported, not retried forever
 *     → ---- only now the cursor {m, compact range} is written (durable). A
 *       crash before it re-scans and re-ingests: idempotent by (party, index, hash);
 *       an entry held without our receipt is passed to ingest again, which receipts it.
 *
 * The source is the peer's node (PeerClient) or its static mirror (issue 14,
 * MirrorClient in mirrorSource.ts: the same GETs as files, consistency
 * proofs built from its hash tiles): every check above is the same. A
 * mirror's checkpoint older than what we cosigned is refused (stale or
 * replayed: it cannot prove itself a prefix, nor serve entries beyond it).
 *
 * A peer whose log we hold a fork proof against is quarantined (forks.ts):
 * nothing is fetched or ingested, and the pull fails with ForkDetected.
 */
import {
  type Hash,
  ParleyError,
  ArgumentError,
  ParseError,
  VerificationError,
  bytesEqual,
  detectFork,
  fail,
  formatAddCheckpointRequest,
  leafHash,
  nodeHash,
  parseEntry,
  prefixConflictProof,
  emptyRoot,
  verifyConsistency,
} from '@parley/core';
import type { LogStore, WitnessState } from '@parley/store';
import type { ParleyNode } from '../service.js';
import { accordView, noteSize, openPartyCheckpoint, retiredSigners } from '../epochs.js';
import { keepRetired } from '../witness.js';
import { PeerError } from './peer.js';
import { isQuarantined, recordFork } from './forks.js';
import { compareCheckpoints, peerLogSource } from './gossip.js';
import { mirrorScanned } from './mirror.js';

/**
 * Where a pull reads the peer's log: its node (PeerClient) or its static
 * mirror (MirrorClient, mirrorSource.ts) — the same questions, the same checks.
 */
export interface PullSource {
  readonly party: string;
  /** `mirror` for a static mirror (no chain file, no proofs of its own). */
  readonly kind?: 'node' | 'mirror';
  checkpoint(): Promise<Uint8Array | undefined>;
  consistencyProof(oldSize: number, newSize: number): Promise<Uint8Array[]>;
  entryBundle(index: number, width: number): Promise<Uint8Array[]>;
  tile(level: number, index: number, width: number): Promise<Uint8Array | undefined>;
  /** The peer's chain file (a node only: a checkpoint under an accord version we missed). */
  chainFile?(): Promise<Uint8Array>;
}

/** Most entries scanned in one pull (16 full tiles); a longer backlog continues at the next. */
export const MAX_SCAN = 16 * 256;
const INGEST_BATCH = 256;

/**
 * RFC 6962 compact range [0, size): the roots of the complete subtrees,
 * largest first — enough to extend the tree leaf by leaf and fold its root.
 * (Core's Frontier does the same for the writer but does not expose its
 * hashes, which the cursor must persist.)
 */
export class CompactRange {
  constructor(
    public size: number,
    readonly hashes: Hash[],
  ) {}

  append(leaf: Hash): void {
    let h = leaf;
    // Each trailing 1-bit of the old size completes a subtree (RFC 6962 §2.1 split).
    for (let m = this.size; m % 2 === 1; m = (m - 1) / 2) h = nodeHash(this.hashes.pop()!, h);
    this.hashes.push(h);
    this.size++;
  }

  root(): Hash {
    const f = this.hashes;
    if (f.length === 0) return emptyRoot();
    let h = f[f.length - 1]!;
    for (let i = f.length - 2; i >= 0; i--) h = nodeHash(f[i]!, h);
    return h;
  }

  clone(): CompactRange {
    return new CompactRange(this.size, this.hashes.slice());
  }
}

/** Reads the pull cursor of `party` (size 0 when none). */
export async function loadPullCursor(store: LogStore, party: string): Promise<CompactRange> {
  const v = await store.cursor('pull', party);
  return v === undefined ? new CompactRange(0, []) : new CompactRange(v.treeSize, [...v.frontier]);
}

/** What one pull saw and did. */
export interface PullResult {
  /** The peer's checkpoint size as served (verified). */
  readonly checkpointSize: number;
  /** The size our witness holds for the peer's log after the pull. */
  readonly witnessedSize: number;
  /** The scan cursor after the pull. */
  readonly scannedTo: number;
  readonly accepted: number;
  /** Entries addressed to us that the peer logged but that do not verify (skipped). */
  readonly rejected: readonly { readonly index: number; readonly code: string }[];
  /** A fork of the peer's log was detected (and its proof stored when portable). */
  readonly fork?: true;
}

/** Thrown after storing the evidence, so the link reports a failure. */
export class ForkDetected extends Error {
  readonly party: string;
  constructor(party: string) {
    super(`${party}'s log is forked: it signed checkpoints no single history explains`);
    this.name = 'ForkDetected';
    this.party = party;
  }
}

/**
 * One pull from `peer` (see the module doc).
 * @throws PeerError (network, refusals), ParleyError (a checkpoint that does
 *   not verify, entries that do not match it), ForkDetected; StoreError.
 */
export async function pullFrom(node: ParleyNode, store: LogStore, peer: PullSource, cursor: CompactRange): Promise<PullResult & { cursor: CompactRange }> {
  // Quarantine (forks.ts): a log we hold a fork proof against is not scanned; the cursor stays.
  if (await isQuarantined(store, peer.party)) throw new ForkDetected(peer.party);
  const note = await peer.checkpoint();
  if (note === undefined) return { checkpointSize: 0, witnessedSize: 0, scannedTo: cursor.size, accepted: 0, rejected: [], cursor };
  // Under the keys the epochs name for its size; one signed by a retired key is kept as evidence, then refused (KEY_RETIRED).
  // A checkpoint no key we know verifies may follow an accord version or activation we missed (a lost push):
  // the peer's chain file is fetched, verified and adopted (at most once per peer per interval), then it is tried again.
  let cp;
  try {
    cp = openPartyCheckpoint(node, peer.party, note).checkpoint;
  } catch (e) {
    if (retiredSigners(node, peer.party, note) !== undefined) {
      await keepRetired(store, peer.party, note);
      throw e;
    }
    const chainFile = peer.chainFile?.bind(peer);
    if (!(e instanceof ParleyError) || node.governance === undefined || chainFile === undefined || !(await node.governance.catchUp({ party: peer.party, chainFile }))) throw e;
    cp = openPartyCheckpoint(node, peer.party, note).checkpoint;
  }
  let held = await node.witness.latest(peer.party);
  const heldSize = held?.treeSize ?? 0;

  if (held !== undefined && cp.treeSize === heldSize && !bytesEqual(cp.rootHash, held.rootHash)) {
    const proof = detectFork(accordView(node, peer.party, cp.treeSize), peer.party, held.note, note);
    if (proof) await recordFork(store, peer.party, proof);
    throw new ForkDetected(peer.party);
  }
  if (held === undefined || cp.treeSize > heldSize) {
    const proof = heldSize > 0 ? await peer.consistencyProof(heldSize, cp.treeSize) : [];
    const answer = await node.witness.addCheckpoint(formatAddCheckpointRequest({ oldSize: heldSize, proof, checkpointNote: note }));
    // The witness kept the fork proof (witness.ts) and cosigns the log no more.
    if (answer.status === 422 && answer.reason === 'log-forked') throw new ForkDetected(peer.party);
    if (answer.status === 422 && held !== undefined) {
      // Not provable from the proof alone (old size a power of two): the peer's tiles may prove it (gossip.ts).
      if ((await compareCheckpoints(node, store, peer.party, held.note, note, peerLogSource(peer))) === 'fork') throw new ForkDetected(peer.party);
    }
    // 409: a push witnessed a checkpoint of this log meanwhile; scan to what is held.
    if (answer.status !== 200 && answer.status !== 409) fail(answer.error?.code ?? 'PROOF_INVALID', `witnessing ${peer.party}'s checkpoint: ${answer.detail}`, answer.error);
    held = await node.witness.latest(peer.party);
  } else if (held !== undefined && cp.treeSize < heldSize) {
    // An older checkpoint than one we cosigned: stale, or a rollback. It must be a prefix of the held one.
    // A static mirror holds no tiles of the larger tree: it cannot prove that, nor serve the entries beyond its checkpoint.
    const proof = await peer.consistencyProof(cp.treeSize, heldSize).catch((e: unknown) => {
      if (peer.kind === 'mirror' && e instanceof PeerError) throw staleMirror(peer.party, cp.treeSize, heldSize, e);
      throw e;
    });
    if (cp.treeSize > 0 && !verifyConsistency(proof, cp.treeSize, heldSize, cp.rootHash, held.rootHash)) {
      await keepPrefixConflict(node, store, peer.party, note, held.note, proof);
      fail('PROOF_INVALID', `${peer.party} served a checkpoint that is not a prefix of the one we cosigned`);
    }
    if (peer.kind === 'mirror') throw staleMirror(peer.party, cp.treeSize, heldSize);
  }
  if (held === undefined) fail('STORE_CORRUPT', `no witness state for ${peer.party} after cosigning`);

  const scanned = await scan(node, peer, cursor, held);
  const r = await ingestAddressed(node, store, peer.party, scanned.addressed);
  // issue 9: the rest of the verified scan (and what did not ingest) goes to the mirror, the peer's off-site backup.
  const rejected = new Set(r.rejected.map((x) => x.index));
  await mirrorScanned(store, peer.party, [...scanned.others, ...scanned.addressed.filter((e) => rejected.has(e.index))]);
  // ---- ingest is durable: the cursor may move past these entries.
  await store.advanceCursor('pull', peer.party, { treeSize: scanned.range.size, frontier: scanned.range.hashes });
  return { checkpointSize: cp.treeSize, witnessedSize: held.treeSize, scannedTo: scanned.range.size, accepted: r.accepted, rejected: r.rejected, cursor: scanned.range };
}

/** A mirror whose checkpoint is older than what our witness cosigned: refused (stale, or replayed), nothing read from it. */
function staleMirror(party: string, size: number, held: number, cause?: unknown): PeerError {
  return new PeerError('PEER_REFUSED', party, `${party}'s mirror serves a checkpoint of size ${size}, older than the ${held} we cosigned (stale or replayed): nothing read from it`, cause === undefined ? {} : { cause });
}

/**
 * Stores a prefix-conflict fork proof when `proof` authenticates under the
 * newer checkpoint (core: only then is it evidence), and throws ForkDetected;
 * returns when the proof proves nothing (only the peer's word).
 */
async function keepPrefixConflict(node: ParleyNode, store: LogStore, party: string, older: Uint8Array, newer: Uint8Array, proof: readonly Uint8Array[]): Promise<void> {
  let fork;
  try {
    fork = prefixConflictProof(accordView(node, party, noteSize(newer)), party, older, newer, proof);
  } catch (e) {
    if (e instanceof ParseError || e instanceof VerificationError || e instanceof ArgumentError) return;
    throw e;
  }
  if (fork === undefined) return;
  await recordFork(store, party, fork);
  throw new ForkDetected(party);
}

/** Scans [cursor, m) and checks it against the held checkpoint (see the module doc). */
async function scan(node: ParleyNode, peer: PullSource, cursor: CompactRange, held: WitnessState): Promise<{ range: CompactRange; addressed: { index: number; bytes: Uint8Array }[]; others: { index: number; bytes: Uint8Array }[] }> {
  const T = held.treeSize;
  if (cursor.size >= T) return { range: cursor, addressed: [], others: [] };
  const range = cursor.clone();
  const end = Math.min(T, cursor.size + MAX_SCAN);
  const addressed: { index: number; bytes: Uint8Array }[] = [];
  const others: { index: number; bytes: Uint8Array }[] = [];
  while (range.size < end) {
    const tile = Math.floor(range.size / 256);
    const width = Math.min(256, T - tile * 256);
    const entries = await peer.entryBundle(tile, width);
    for (let j = range.size - tile * 256; j < width && range.size < end; j++) {
      const bytes = entries[j]!;
      const index = range.size;
      range.append(leafHash(bytes));
      if (addressedTo(bytes, node.party)) addressed.push({ index, bytes });
      else others.push({ index, bytes });
    }
  }
  const ok =
    end === T ? bytesEqual(range.root(), held.rootHash) : verifyConsistency(await peer.consistencyProof(end, T), end, T, range.root(), held.rootHash);
  // The peer served entries its signed checkpoint does not commit to: ingest none of them.
  if (!ok) fail('TILE_INVALID', `${peer.party}'s entries ${cursor.size}…${end} do not match its cosigned checkpoint`);
  return { range, addressed, others };
}

function addressedTo(bytes: Uint8Array, party: string): boolean {
  try {
    return parseEntry(bytes).to.includes(party);
  } catch {
    // Logged but not an entry: nothing to receive; a full audit reports it.
    return false;
  }
}

async function ingestAddressed(node: ParleyNode, store: LogStore, party: string, list: readonly { index: number; bytes: Uint8Array }[]) {
  const fresh: { index: number; bytes: Uint8Array }[] = [];
  for (const e of list) {
    const held = await store.received(party, e.index);
    // Held but never receipted (a crash between storing and receipting): ingest writes the receipt.
    if (!held || (held.meta.type !== 'receipt' && !(await store.referencing(party, e.index)).some((r) => r.meta.type === 'receipt'))) fresh.push(e);
  }
  let accepted = 0;
  const rejected: { index: number; code: string }[] = [];
  for (let i = 0; i < fresh.length; i += INGEST_BATCH) {
    const batch = fresh.slice(i, i + INGEST_BATCH);
    try {
      accepted += (await node.ingest(batch.map((e) => e.bytes))).accepted;
    } catch (e) {
      if (!isBadEntry(e)) throw e;
      // One bad entry fails its batch: take the rest one by one.
      for (const one of batch) {
        try {
          accepted += (await node.ingest([one.bytes])).accepted;
        } catch (err) {
          if (!isBadEntry(err)) throw err;
          rejected.push({ index: one.index, code: err.code });
        }
      }
    }
  }
  return { accepted, rejected };
}

function isBadEntry(e: unknown): e is ParleyError {
  return e instanceof ParseError || e instanceof VerificationError;
}
