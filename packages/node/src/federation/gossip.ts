/**
 * GOSSIP: nodes compare the checkpoints they cosigned, so a party that shows
 * two parties two histories (a split view) is caught with a portable fork
 * proof (PRODUCT.md threat model; issue 4, "Witnessing and fork proofs").
 *
 * On every pull round with peer Q (federator.ts), for every party P ≠ Q —
 * our own log included (it cannot fork unless our key is stolen; still checked):
 *
 *     GET Q /fed/v1/forks          proofs Q holds → verifyForkProof → kept (a fork
 *                                  found anywhere raises the alarm everywhere)
 *     GET Q /fed/v1/witness/<P>    the checkpoint of P's log Q last cosigned, T
 *       → T must be signed by P's log key (accord); else ignored (Q's word only)
 *       → compare T with ours, H (what our witness cosigned of P; our latest
 *         checkpoint when P is us):
 *           same size, same root       fine
 *           same size, other root      detectFork → same-size fork proof
 *           sizes m < n                ask P's node (the log's own node, or our
 *                                      store for our log) for the RFC 9162
 *                                      consistency proof m → n:
 *             verifies                 one history: fine
 *             does not verify          only evidence when it authenticates: the
 *                                      proof as a prefix proof (m not a power of
 *                                      two), else [MTH(D[0:m]) from P's tiles] ‖ proof
 *                                      → prefixConflictProof; otherwise "unknown"
 *     GET Q /fed/v1/witness/<us>/cosignatures?after   (P = us only; issue 14) Q's signed
 *                                  cosignature history of our log since the last round:
 *                                  each that verifies goes to the deadline bounds
 *
 * Why this catches a split view within one poll interval: P shows CN view A
 * and EU view B. CN and EU each cosign what they are shown; at the next round
 * each asks the other what it cosigned of P. Same size: both find the fork at
 * once. Different sizes: the holder of the larger checkpoint gets a proof
 * from its view of P that authenticates under its root and yields a prefix
 * root other than the smaller one (the prefix conflict); the other holder,
 * whose view of P cannot prove anything about the larger tree, gets that
 * proof by the fork-proof gossip of the same or the next round.
 *
 * Nothing a peer says is trusted: checkpoints count only when signed by P's
 * log key, and a fork proof only when core verifies it; a peer that answers
 * junk or nothing makes a comparison "unknown", never a fork.
 */
import {
  type Hash,
  ArgumentError,
  ParseError,
  VerificationError,
  bytesEqual,
  decodeUtf8,
  detectFork,
  isParleyError,
  nodeHash,
  openWitnessedCheckpoint,
  parseCheckpoint,
  parseForkProof,
  parseNote,
  parseTileData,
  prefixConflictProof,
  storedHashIndex,
  verifyConsistency,
} from '@parley/core';
import type { LogStore } from '@parley/store';
import type { ParleyNode } from '../service.js';
import { dropUnverified, evidence, recordFork, unverifiedOf } from './forks.js';
import { MAX_COSIGNATURE_PAGE, PeerError, type PeerClient } from './peer.js';
import { type Governed, accordView, checkpointVerifiers, openPartyCheckpoint, verifyForkAt, witnessKeysOf } from '../epochs.js';
import { cosignedBoundsOf, noteCosigned } from '../deadlines/cosigned.js';

/** Where proofs about one party's log come from. Answers are unverified. */
export interface LogSource {
  /** RFC 9162 §2.1.4 consistency proof between two sizes of the log. */
  consistencyProof(oldSize: number, newSize: number): Promise<Uint8Array[]>;
  /** MTH of the first `size` (a power of two) leaves of the log's tree of `treeSize`; undefined if not served. */
  subtreeRoot(size: number, treeSize: number): Promise<Hash | undefined>;
}

/** P's log as its node serves it (consistency proofs and tlog-tiles hash tiles). */
export function peerLogSource(peer: Pick<PeerClient, 'consistencyProof' | 'tile'>): LogSource {
  return {
    consistencyProof: (o, n) => peer.consistencyProof(o, n),
    async subtreeRoot(size, treeSize) {
      const k = Math.log2(size);
      const level = Math.floor(k / 8);
      const count = 2 ** (k % 8);
      const span = 256 ** level;
      const width = treeSize >= span * 256 ? 256 : Math.floor(treeSize / span);
      // A partial tile is no longer served once the log grew past it: then the full one.
      const data = (await peer.tile(level, 0, width)) ?? (width < 256 ? await peer.tile(level, 0, 256) : undefined);
      if (data === undefined) return undefined;
      const hashes = parseTileData(data, data.length / 32);
      return hashes.length >= count ? mthPow2(hashes, 0, count) : undefined;
    },
  };
}

/** Our own log, from our store. */
export function ownLogSource(node: ParleyNode, store: LogStore): LogSource {
  return {
    consistencyProof: (o, n) => node.consistencyProof(o, n),
    async subtreeRoot(size, treeSize) {
      if (treeSize > node.treeSize) return undefined;
      return (await store.readHashes([storedHashIndex(Math.log2(size), 0)]))[0];
    },
  };
}

function mthPow2(hashes: readonly Hash[], lo: number, count: number): Hash {
  if (count === 1) return hashes[lo]!;
  const half = count / 2;
  return nodeHash(mthPow2(hashes, lo, half), mthPow2(hashes, lo + half, half));
}

/** What comparing two signed checkpoints of one log showed. */
export type Comparison = 'same' | 'consistent' | 'fork' | 'unknown';

const isPow2 = (n: number) => n >= 1 && 2 ** Math.round(Math.log2(n)) === n;

/**
 * Compares two checkpoint notes of `party`'s log, both signed by its log key
 * (see the module doc); stores the fork proof when they conflict.
 * @param source where a consistency proof or tiles come from (undefined: none reachable).
 * @throws StoreError; never for what a peer answered.
 */
export async function compareCheckpoints(node: ParleyNode, store: LogStore, party: string, ours: Uint8Array | string, theirs: Uint8Array | string, source: LogSource | undefined): Promise<Comparison> {
  const a = checkpointOf(ours);
  const b = checkpointOf(theirs);
  if (a === undefined || b === undefined) return 'unknown';
  if (a.treeSize === b.treeSize) {
    if (bytesEqual(a.rootHash, b.rootHash)) return 'same';
    const proof = evidence(() => detectFork(accordView(node, party, a.treeSize), party, ours, theirs));
    if (proof === undefined) return 'unknown';
    await recordFork(store, party, proof);
    return 'fork';
  }
  const [older, newer, olderNote, newerNote] = a.treeSize < b.treeSize ? [a, b, ours, theirs] : [b, a, theirs, ours];
  const m = older.treeSize;
  const n = newer.treeSize;
  // A checkpoint of size 0 commits to nothing but the empty root: no history to disagree with.
  if (m === 0) return 'consistent';
  if (source === undefined) return 'unknown';
  const proof = await answer(() => source.consistencyProof(m, n));
  if (proof === undefined) return 'unknown';
  if (verifyConsistency(proof, m, n, older.rootHash, newer.rootHash)) return 'consistent';
  // The proof failed: a fork, or a peer's bad answer. Only an authenticating prefix proof is evidence.
  const view = accordView(node, party, n);
  let fork = evidence(() => prefixConflictProof(view, party, olderNote, newerNote, proof));
  if (fork === undefined && isPow2(m)) {
    const head = await answer(() => source.subtreeRoot(m, n));
    if (head !== undefined) fork = evidence(() => prefixConflictProof(view, party, olderNote, newerNote, [head, ...proof]));
  }
  if (fork === undefined) return 'unknown';
  await recordFork(store, party, fork);
  return 'fork';
}

function checkpointOf(note: Uint8Array | string) {
  try {
    return parseCheckpoint(parseNote(note).text);
  } catch (e) {
    if (isParleyError(e)) return undefined;
    throw e;
  }
}

/** Awaits a peer's (or our store's) answer; a refusal or a bad answer is undefined. */
async function answer<T>(f: () => Promise<T>): Promise<T | undefined> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof PeerError || e instanceof ParseError || e instanceof VerificationError || e instanceof ArgumentError) return undefined;
    throw e;
  }
}

/** What one gossip round with a peer did. */
export interface GossipResult {
  /** Comparisons by party (the peer's view of each log against ours). */
  readonly compared: Readonly<Record<string, Comparison>>;
  /** Verified fork proofs the peer holds (kept here too). */
  readonly received: number;
}

/**
 * One gossip round with `peer` (see the module doc).
 * @param sources where proofs about each party's log come from: the log's own node.
 * @throws PeerError when the peer cannot be reached; StoreError.
 */
export async function gossipWith(node: ParleyNode, store: LogStore, peer: PeerClient, sources: (party: string) => LogSource | undefined): Promise<GossipResult> {
  let received = 0;
  for (const text of await peer.forkProofs()) {
    const ok = evidence(() => verifyForkAt(node, text));
    if (ok === undefined) continue;
    await recordFork(store, ok.party, parseForkProof(text));
    received++;
  }
  const compared: Record<string, Comparison> = {};
  for (const { id: party } of node.accord.accord.parties) {
    if (party === peer.party) continue;
    const theirs = await peer.witnessed(party);
    if (theirs === undefined || !signedBy(node, party, theirs)) continue;
    if (party === node.party) {
      noteOwnCosigned(node, store, peer.party, theirs);
      await readCosignatureHistory(node, store, peer);
    }
    const ours = party === node.party ? await node.latestCheckpoint() : (await node.witness.latest(party))?.note;
    if (ours === undefined) continue;
    compared[party] = await compareCheckpoints(node, store, party, ours, theirs, sources(party));
  }
  // Checkpoints of the peer's own log accepted offline: its node can now say whether they are one history.
  const pending = await unverifiedOf(store, peer.party);
  const held = pending.length > 0 ? await node.witness.latest(peer.party) : undefined;
  if (held !== undefined) {
    for (const note of pending) {
      const c = await compareCheckpoints(node, store, peer.party, held.note, note, sources(peer.party));
      if (c !== 'unknown') await dropUnverified(store, peer.party, [note], c);
    }
  }
  return { compared, received };
}

/**
 * The peer's cosignature of our checkpoint, as its witness holds it, goes
 * to the deadline bounds (deadlines/cosigned.ts) when it verifies under the
 * peer's witness key: a checkpoint its own pull cosigned reaches us no other
 * way, and deadlines on both sides are judged by the same cosignatures
 * (deadlines/state.ts "Whose cosignatures"). Not kept as `ownCosigned` (the
 * push cursor's, push.ts). A note that does not verify is ignored; nothing
 * here throws.
 */
function noteOwnCosigned(node: ParleyNode, store: LogStore, witness: string, note: Uint8Array): number | undefined {
  try {
    const size = parseCheckpoint(parseNote(note).text).treeSize;
    const w = openWitnessedCheckpoint(note, checkpointVerifiers(node, node.party, size), witnessKeysOf(node, witness), { quorum: 1 });
    noteCosigned(store, { party: node.party, cosigner: witness, size, timestamp: Math.max(...w.cosignatures.map((c) => c.timestamp)), note: decodeUtf8(note) });
    return size;
  } catch {
    // Whatever fails here only leaves a bound unrecorded: it must not cut the round's fork checks short.
    return undefined;
  }
}

/**
 * Where the read position of `peer`'s cosignature history is kept: a 'push'
 * row of the cursors table (the same shape: a size of OUR log, no frontier)
 * under a key no party id can take (ids are `[A-Z][A-Z0-9-]`, no '/'). Kept
 * in the store so that a restart or a takeover resumes where the last round
 * stopped, and `parley migrate` copies it with the other cursors.
 */
export const historyCursorKey = (peer: string): string => `cosignatures/${peer}`;
/** Most history pages read from one peer in one round (the rest waits for the next round). */
const MAX_HISTORY_PAGES = 10;

/**
 * Reads the peer's witness's cosignature history of our log (GET
 * /fed/v1/witness/<us>/cosignatures, issue 14) from where the last round
 * stopped, and passes every cosignature that verifies to the deadline
 * bounds. This is how a cosignature whose answer was lost on the way back,
 * and that the peer superseded before the state above was read, still
 * reaches us: the recipient and the sender then judge a delivery on the same
 * cosignature (deadlines/state.ts "Whose cosignatures"). The read position
 * is kept in the store ({@link historyCursorKey}), advanced after each page,
 * so a cosignature lost before a restart is still read after it. With no
 * position stored (the first round ever, or the first after an upgrade) the
 * history is read from size 0, not from the latest cosignature a push
 * brought back (`ownCosigned`): a cosignature lost and superseded before
 * that is the same fault, and pages are bounded (MAX_HISTORY_PAGES of
 * MAX_COSIGNATURE_PAGE per round), so a long history costs a few rounds,
 * not one large one; a point already known changes no bound.
 * A peer that serves no history (404), cannot be reached or answers junk
 * leaves the bounds as they were; a note that does not verify ends the
 * round's reading there (the next round asks again from it).
 * @throws StoreError.
 */
async function readCosignatureHistory(node: ParleyNode, store: LogStore, peer: PeerClient): Promise<void> {
  const key = historyCursorKey(peer.party);
  const start = (await store.cursor('push', key))?.treeSize ?? 0;
  let after = start;
  const save = async () => {
    const bounds = cosignedBoundsOf(store);
    // None runs: nothing kept what was read, so the position stays for a process that keeps it.
    if (after <= start || bounds === undefined) return;
    await bounds.flush(); // the points read are durable before the position passes them
    await store.advanceCursor('push', key, { treeSize: after, frontier: [] });
  };
  for (let page = 0; page < MAX_HISTORY_PAGES; page++) {
    const got = await answer(() => peer.cosignatureHistory(node.party, after, MAX_COSIGNATURE_PAGE));
    if (got === undefined) break;
    for (const note of got.notes) {
      const size = noteOwnCosigned(node, store, peer.party, note);
      if (size === undefined || size <= after) return save();
      after = size;
    }
    await save();
    if (got.next === undefined || got.notes.length === 0) break;
  }
}

/** True when `note` is a checkpoint of `party`'s log signed by a key the epochs name for its size. */
function signedBy(g: Governed, party: string, note: Uint8Array): boolean {
  try {
    openPartyCheckpoint(g, party, note);
    return true;
  } catch (e) {
    if (isParleyError(e)) return false;
    throw e;
  }
}
