/**
 * Witnessed checkpoints: one log signature plus a quorum of witness
 * cosignatures (C2SP tlog-checkpoint §Signatures, tlog-cosignature).
 *
 *     checkpoint note = body "\n" (log signature | cosignature | other)+
 *     accepted        ⇔ ≥1 valid log signature
 *                       ∧ every known signature valid
 *                       ∧ |{distinct witness public keys with a valid cosignature}| ≥ quorum
 *
 * Quorums count DISTINCT public keys, never signature lines: two configured
 * witness entries with the same key count once, and repeated lines are
 * already refused by the note parser. Unknown signatures are ignored.
 *
 * Witness keys may be 0x04 (cosignature/v1) vkeys or 0x01 vkeys, which are
 * converted to 0x04 with a recomputed key ID (transparency-dev/formats
 * behaviour).
 */
import { fail } from '../errors.js';
import { formatHex } from '../encoding.js';
import { cosignerKey, parseVerifierKey } from './key.js';
import type { VerifierKey } from './key.js';
import { parseCosignature } from './cosignature.js';
import { openNote } from './note.js';
import { parseCheckpoint } from './checkpoint.js';
import type { OpenCheckpointOptions, VerifiedCheckpoint } from './checkpoint.js';
import { VerifierSet, newVerifier } from './verifier.js';

/** A valid witness cosignature found on a checkpoint. */
export interface WitnessCosignature {
  readonly name: string;
  readonly keyId: number;
  /** POSIX seconds from the cosignature. */
  readonly timestamp: number;
  /** The witness key (type 0x04) that verified it. */
  readonly key: VerifierKey;
}

/** A checkpoint verified by its log and cosigned by witnesses. */
export interface WitnessedCheckpoint extends VerifiedCheckpoint {
  /** Valid cosignatures from configured witnesses, in note order. */
  readonly cosignatures: readonly WitnessCosignature[];
  /** Number of distinct witness public keys among {@link cosignatures}. */
  readonly distinctWitnesses: number;
}

/** Options for {@link openWitnessedCheckpoint}. */
export interface OpenWitnessedOptions extends OpenCheckpointOptions {
  /** Minimum number of distinct witness keys (default 0: report only). */
  readonly quorum?: number;
}

/**
 * Verifies a checkpoint note against its log's keys and a list of witness
 * keys, and reports which witnesses cosigned it and when.
 * @param note checkpoint note bytes or string.
 * @param logVerifiers the log's trusted keys.
 * @param witnesses witness keys (vkey strings or parsed; 0x01 keys are converted to 0x04).
 * @param options `origin` to check, `quorum` to require.
 * @returns checkpoint, log signers and witness cosignatures.
 * @throws ParseError note/checkpoint/key errors; VerificationError
 *   `NOTE_UNVERIFIED` (no log signature), `SIGNATURE_INVALID` (a known log or
 *   witness signature fails), `ORIGIN_MISMATCH`, `QUORUM_NOT_MET`.
 * @example openWitnessedCheckpoint(bytes, logKeys, witnessVkeys, { quorum: 2 }).cosignatures
 */
export function openWitnessedCheckpoint(
  note: Uint8Array | string,
  logVerifiers: VerifierSet,
  witnesses: readonly (VerifierKey | string)[],
  options: OpenWitnessedOptions = {},
): WitnessedCheckpoint {
  const witnessKeys = witnesses.map((w) => cosignerKey(typeof w === 'string' ? parseVerifierKey(w) : w));
  const all = new VerifierSet(logVerifiers);
  for (const k of witnessKeys) all.add(newVerifier(k));
  const opened = openNote(note, all);
  const signers = opened.verified.filter((s) => logVerifiers.get(s.name, s.keyId) !== undefined);
  if (signers.length === 0) fail('NOTE_UNVERIFIED', 'checkpoint has no valid signature from a log key');
  const checkpoint = parseCheckpoint(opened.text);
  if (options.origin !== undefined && checkpoint.origin !== options.origin) fail('ORIGIN_MISMATCH', 'checkpoint origin is not the expected one');

  const cosignatures: WitnessCosignature[] = [];
  const distinct = new Set<string>();
  for (const s of opened.verified) {
    const key = s.verifier.key;
    if (logVerifiers.get(s.name, s.keyId) !== undefined || key === undefined) continue;
    cosignatures.push({ name: s.name, keyId: s.keyId, timestamp: parseCosignature(s.signature).timestamp, key });
    distinct.add(formatHex(key.publicKey));
  }
  const quorum = options.quorum ?? 0;
  if (distinct.size < quorum) fail('QUORUM_NOT_MET', `${distinct.size} of ${quorum} required witnesses cosigned`);
  return { checkpoint, note: opened, signers, cosignatures, distinctWitnesses: distinct.size };
}
