/**
 * Which witnesses vouch for the checkpoint the browser verifies an entry
 * against (C2SP tlog-cosignature, tlog-witness), checked with core and the
 * accord alone — so a node cannot pass off a view of its log that no other
 * party has seen.
 *
 * Policy (from the accord chain, keys.ts). Every party witnesses every
 * other party's log with its witness key (the accord's `witnessKey`, by
 * default its log key as a cosignature/v1 key; node/src/witness.ts); so the
 * witnesses of P's log are the other parties of the version in force, each
 * with its current witness key. The quorum is {@link witnessPolicy}'s: one,
 * since what a lone node cannot forge is another party's cosignature, and
 * one is all a node can always show — for another party's log it holds only
 * its own witness's.
 *
 * Across a log key rotation each note is opened with the keys that may sign
 * a checkpoint of ITS size (epochs.checkpointKeys): a later witnessed
 * checkpoint may be signed by the new key only.
 *
 * A witness counts for checkpoint C (size S, root R) when it cosigned a
 * checkpoint of the same log, signed by P's key, of size T ≥ S that C is a
 * prefix of:
 *
 *     T = S   the cosigned root equals R
 *     T > S   an RFC 9162 §2.1.4 consistency proof S → T verifies from R to its root
 *     T < S   it vouches only for an earlier tree: listed, not counted
 *
 * Quorums count distinct witness keys, never signature lines (STYLE.md §13).
 * A known witness's cosignature that does not verify, or a cosigned
 * checkpoint that conflicts with C (same size, other root; or a consistency
 * proof that fails), fails the check outright: the node showed this browser
 * two views, which is worse than too few witnesses.
 */
import {
  type Accord,
  type Checkpoint,
  type VerifierKey,
  VerifierSet,
  bytesEqual,
  cosignerKey,
  formatHex,
  isParleyError,
  openCheckpoint,
  openWitnessedCheckpoint,
  parseBase64,
  parseVerifierKey,
  verifyConsistency,
} from '@parley/core';
import type { KeySource } from './keys.js';

/** The witnesses of one party's log and how many must cosign. */
export interface WitnessPolicy {
  readonly witnesses: readonly { readonly party: string; readonly key: VerifierKey }[];
  readonly quorum: number;
}

/** A checkpoint note offered as witnessed, with the consistency proof from the verified checkpoint's size to its own. */
export interface WitnessedNote {
  /** The note: the log's signature and the witnesses' cosignatures. */
  readonly note: string;
  /** Base64 hashes, RFC 9162 §2.1.4, from the verified checkpoint's size to this note's (needed when larger). */
  readonly proof?: readonly string[];
  /** Why the node gave no proof (its problem code), when it was asked for one. */
  readonly proofError?: string;
}

/** One witness's cosignature as the page shows it. */
export interface Cosigner {
  readonly party: string;
  /** Tree size it cosigned. */
  readonly size: number;
  /** POSIX seconds (the cosignature's timestamp, the witness's clock). */
  readonly timestamp: number;
  /** Counted towards the quorum (false: an earlier tree, or no proof that it extends the checkpoint). */
  readonly counted: boolean;
}

export interface WitnessFacts {
  readonly cosigners: readonly Cosigner[];
  /** Distinct witness keys counted. */
  readonly count: number;
  readonly quorum: number;
}

/** Why the witness check failed: a UI-level code plus what was found so far. */
export class WitnessFailure extends Error {
  constructor(
    readonly code: 'QUORUM_NOT_MET' | 'COSIGNATURE_INVALID' | 'CHECKPOINT_CONFLICT' | 'WITNESSED_NOTE_INVALID',
    readonly facts: WitnessFacts,
    /** The witness whose cosignature failed, or whose checkpoint conflicts. */
    readonly witness?: string,
  ) {
    super(code);
  }
}

/**
 * The witnesses of `party`'s log and the quorum (see the module doc) — the
 * one place the quorum is decided.
 * @param keys the key source (keys.ts), or an accord alone (version 1: every other party, its log key as cosignature/v1 key).
 * @returns every other party in force with its current witness key, and the quorum.
 */
export function witnessPolicy(keys: KeySource | Accord, party: string): WitnessPolicy {
  const witnesses = 'parties' in keys ? keys.parties.filter((p) => p.id !== party).map((p) => ({ party: p.id, key: cosignerKey(parseVerifierKey(p.logKey)) })) : [...keys.witnesses(party)];
  return { witnesses, quorum: Math.min(1, witnesses.length) };
}

/** The log keys that may sign a checkpoint of a given size (one key: every size). */
export type LogKeysAt = VerifierKey | ((size: number) => readonly VerifierKey[]);
const keysAt = (k: LogKeysAt, size: number): readonly VerifierKey[] => (typeof k === 'function' ? k(size) : [k]);

const claimedSize = (note: string): number => Number(/^[^\n]*\n(0|[1-9][0-9]{0,15})\n/.exec(note)?.[1] ?? 0);

/** Opens a witnessed note; a failure names the witness whose cosignature is bad, when it is one. */
function openNoteOf(n: WitnessedNote, logKeysAt: LogKeysAt, policy: WitnessPolicy, facts: () => WitnessFacts) {
  const keys = keysAt(logKeysAt, claimedSize(n.note));
  if (keys.length === 0) throw new WitnessFailure('WITNESSED_NOTE_INVALID', facts());
  const origin = keys[0]!.name;
  try {
    return openWitnessedCheckpoint(n.note, new VerifierSet([...keys]), policy.witnesses.map((w) => w.key), { origin });
  } catch (e) {
    const code = isParleyError(e) ? e.code : 'INTERNAL';
    let logSigned = true;
    try {
      openCheckpoint(n.note, new VerifierSet([...keys]), { origin });
    } catch {
      logSigned = false;
    }
    if (code !== 'SIGNATURE_INVALID' || !logSigned) throw new WitnessFailure('WITNESSED_NOTE_INVALID', facts());
    const bad = policy.witnesses.find((w) => {
      try {
        openWitnessedCheckpoint(n.note, new VerifierSet([...keys]), [w.key]);
        return false;
      } catch {
        return true;
      }
    });
    throw new WitnessFailure('COSIGNATURE_INVALID', facts(), bad?.party);
  }
}

/**
 * Counts the witnesses that vouch for the verified checkpoint `cp`.
 * @param cp the checkpoint the entry is proved against (its log signature already verified).
 * @param logKeys the party's log key, or the keys valid at a tree size (keys.ts checkpointKeys), to open each note with.
 * @param policy {@link witnessPolicy} of the party.
 * @param notes the witnessed notes the node offered (the entry's checkpoint note among them).
 * @returns the cosigners found and the count, when the quorum is met.
 * @throws WitnessFailure QUORUM_NOT_MET, COSIGNATURE_INVALID (a known
 *   witness's cosignature does not verify), CHECKPOINT_CONFLICT (a cosigned
 *   checkpoint that `cp` is not a prefix of), WITNESSED_NOTE_INVALID (a note
 *   not signed by the log's key, or malformed).
 */
export function checkWitnesses(cp: Checkpoint, logKeys: LogKeysAt, policy: WitnessPolicy, notes: readonly WitnessedNote[]): WitnessFacts {
  const cosigners: Cosigner[] = [];
  const counted = new Set<string>();
  const facts = (): WitnessFacts => ({ cosigners: [...cosigners], count: counted.size, quorum: policy.quorum });
  const partyOf = (key: VerifierKey) => policy.witnesses.find((w) => bytesEqual(w.key.publicKey, key.publicKey))?.party ?? key.name;

  for (const n of notes) {
    const w = openNoteOf(n, logKeys, policy, facts);
    if (w.cosignatures.length === 0) continue;
    const { treeSize: size, rootHash } = w.checkpoint;
    let extends_ = false;
    if (size === cp.treeSize) {
      if (!bytesEqual(rootHash, cp.rootHash)) throw new WitnessFailure('CHECKPOINT_CONFLICT', facts(), partyOf(w.cosignatures[0]!.key));
      extends_ = true;
    } else if (size > cp.treeSize && n.proof !== undefined) {
      let proof: Uint8Array[];
      try {
        proof = n.proof.map((h) => parseBase64(h, 'proof hash'));
      } catch {
        throw new WitnessFailure('CHECKPOINT_CONFLICT', facts(), partyOf(w.cosignatures[0]!.key));
      }
      if (!verifyConsistency(proof, cp.treeSize, size, cp.rootHash, rootHash)) throw new WitnessFailure('CHECKPOINT_CONFLICT', facts(), partyOf(w.cosignatures[0]!.key));
      extends_ = true;
    }
    for (const c of w.cosignatures) {
      const hex = formatHex(c.key.publicKey);
      const counts = extends_ && !counted.has(hex);
      if (extends_) counted.add(hex);
      // One line per witness and size: the same cosignature may come in the entry's note and in the held ones.
      if (!cosigners.some((x) => x.party === partyOf(c.key) && x.size === size)) cosigners.push({ party: partyOf(c.key), size, timestamp: c.timestamp, counted: counts });
    }
  }
  if (counted.size < policy.quorum) throw new WitnessFailure('QUORUM_NOT_MET', facts());
  return facts();
}

/**
 * The tree size to verify against when the reader chose none: the largest
 * that the witnessed notes claim (unverified: only a choice; the check
 * verifies), if it covers `index`.
 * @returns the size, `'none'` when no note is offered, or `'older'` when
 *   every witnessed checkpoint is older than the entry.
 */
export function witnessedSize(notes: readonly { readonly note: string }[], index: number): number | 'none' | 'older' {
  const sizes = notes.map((n) => claimedSize(n.note)).filter((s) => s > 0);
  if (sizes.length === 0) return 'none';
  const best = Math.max(...sizes);
  return best > index ? best : 'older';
}
