/**
 * Fork evidence held by this node (STYLE.md §7c: a fork is a value, stored
 * and reported) and the rule it triggers: quarantine.
 *
 *     federation/forks/<P>       [fork proof text …]   proofs against P's log (canonical core
 *                                                     fork proofs, newest last, ≤ MAX_FORKS_KEPT)
 *     federation/unverified/<P>  [checkpoint note …]   P's checkpoints accepted offline (bundle
 *                                                     import) at a size other than the one we
 *                                                     cosigned: compared with P's log by the
 *                                                     federator at its next contact (gossip.ts)
 *
 * Quarantine: while a proof is held against P, P's NEW entries are refused
 * at ingest (ParleyNode.ingest, `ENTRY_INVALID`); entries already held stay
 * readable. Link health shows P `down` with reason `fork`; the deadline
 * watcher escalates each proof once (error log line, `parley.fork.detected`
 * webhook); GET /v1/forks lists the proofs.
 *
 * Everything that records a proof goes through {@link recordFork}, which
 * notifies listeners on the same store ({@link onForkRecorded}): the
 * watcher wakes at once, the federator refreshes its link states.
 */
import { type ForkProof, type VerifiedAccord, type VerifiedFork, encodeUtf8, formatForkProof, formatHex, sha256, verifyForkProof } from '@parley/core';
import type { LogStore } from '@parley/store';
import { MAX_FORKS_KEPT, forksKey } from './keys.js';

/** Settings key of P's checkpoints accepted offline and not yet compared with P's log. */
export const unverifiedKey = (party: string): string => `federation/unverified/${party}`;
/** Most unverified checkpoints kept per party (oldest dropped). */
const MAX_UNVERIFIED = 8;

const listeners = new WeakMap<LogStore, Set<(party: string) => void>>();

/**
 * Calls `listener` with the party after a NEW fork proof against it is stored on `store`.
 * @returns a function that removes the listener.
 */
export function onForkRecorded(store: LogStore, listener: (party: string) => void): () => void {
  let set = listeners.get(store);
  if (!set) listeners.set(store, (set = new Set()));
  set.add(listener);
  return () => set.delete(listener);
}

/**
 * Keeps a fork proof of `party`'s log. At most {@link MAX_FORKS_KEPT} per
 * party, oldest dropped; a proof already held is not stored twice.
 * @returns true when the proof is new.
 */
export async function recordFork(store: LogStore, party: string, proof: ForkProof): Promise<boolean> {
  const text = formatForkProof(proof);
  const held = await forksOf(store, party);
  if (held.includes(text)) return false;
  await store.putSetting(forksKey(party), [...held, text].slice(-MAX_FORKS_KEPT));
  for (const l of listeners.get(store) ?? []) {
    try {
      l(party);
    } catch {
      // A listener must not undo the evidence being kept.
    }
  }
  return true;
}

/** Fork proofs held against `party`'s log (formatted core fork proofs, oldest first). */
export async function forksOf(store: LogStore, party: string): Promise<string[]> {
  const v = await store.getSetting(forksKey(party));
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** True while a fork proof is held against `party`'s log: its new entries are refused. */
export async function isQuarantined(store: LogStore, party: string): Promise<boolean> {
  return (await forksOf(store, party)).length > 0;
}

/** The stable id of one fork proof: `fork/<party>/<first 16 hex digits of SHA-256 of its text>`. */
export function forkId(party: string, text: string): string {
  return `fork/${party}/${formatHex(sha256(encodeUtf8(text))).slice(0, 16)}`;
}

/** One held fork proof, verified. */
export interface HeldFork {
  readonly id: string;
  readonly party: string;
  /** Position in the party's list (GET /v1/forks/{party}/{n}). */
  readonly n: number;
  readonly text: string;
  readonly fork: VerifiedFork;
}

/**
 * Every fork proof held, for every party of the accord (our own log
 * included), re-verified; a stored proof that no longer verifies (it never
 * should: only verified proofs are stored) is skipped.
 */
export async function heldForks(store: LogStore, accord: VerifiedAccord): Promise<HeldFork[]> {
  const out: HeldFork[] = [];
  for (const { id: party } of accord.accord.parties) {
    const texts = await forksOf(store, party);
    texts.forEach((text, n) => {
      let fork: VerifiedFork;
      try {
        fork = verifyForkProof(text, accord);
      } catch {
        return;
      }
      out.push({ id: forkId(party, text), party, n, text, fork });
    });
  }
  return out;
}

/** Keeps a checkpoint note of `party` for comparison with its log at the next contact. */
export async function keepUnverified(store: LogStore, party: string, note: string): Promise<void> {
  const held = await unverifiedOf(store, party);
  if (held.includes(note)) return;
  await store.putSetting(unverifiedKey(party), [...held, note].slice(-MAX_UNVERIFIED));
}

/** Checkpoints of `party` accepted offline and not yet compared. */
export async function unverifiedOf(store: LogStore, party: string): Promise<string[]> {
  const v = await store.getSetting(unverifiedKey(party));
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Drops compared checkpoints from the list. */
export async function dropUnverified(store: LogStore, party: string, done: readonly string[]): Promise<void> {
  if (done.length === 0) return;
  const held = await unverifiedOf(store, party);
  await store.putSetting(unverifiedKey(party), held.filter((n) => !done.includes(n)));
}
