/**
 * In-browser verification of one log entry, step by step, with the same core
 * code the nodes run (@parley/core, @noble crypto binding in the browser).
 *
 * Trust comes from the accord alone: the party's keys are read from the
 * accord chain (GET /v1/accord/chain, verified here with core; keys.ts) —
 * or, from a node without one, the founding accord (GET /v1/accord) — never
 * from the response being checked. The node's answer for the entry (GET
 * /v1/logs/{party}/entries/{index}) is untrusted input; each step
 * recomputes what it claims:
 *
 *     accord     chain: verifyChainFile (every version signed by its quorum
 *                and consents, every activation entry by the party's key in
 *                its version; no rollback past the version this browser
 *                trusted before), its channel = the node's accord id; the
 *                version judging this entry (epochs.keysFor) and whether the
 *                entry is in a compromise recovery's suspect range.
 *                No chain: accord id = hex(SHA-256(JCS(accord))), and when the
 *                node sends the parties' signatures, each one verifies
 *     key        the party's log key in that version (epochs.keysFor(p, index).member)
 *     checkpoint openCheckpoint(note, keys valid at its size
 *                (epochs.checkpointKeys), origin = key name) — C2SP
 *                signed-note Ed25519 signature, tlog-checkpoint body; a
 *                signature by one of the party's retired keys is KEY_RETIRED
 *     witnesses  a quorum of the other parties' witnesses cosigned this
 *                checkpoint or a later one it is a prefix of (witnesses.ts;
 *                C2SP tlog-cosignature, RFC 9162 §2.1.4), so it is not a
 *                view of the log that only this node has shown
 *     consistency the checkpoint of this log this browser verified last
 *                (seen.ts, localStorage) and this one are one history: equal
 *                at equal sizes, else a consistency proof between them verifies
 *     leaf       RFC 6962 §2.1: leaf hash = SHA-256(0x00 || entry bytes), equal
 *                to the hash the node claims
 *     entry      the entry bytes are a canonical signed entry of this channel,
 *                sent by the party, signed with its log key in the version
 *                judging it (verifyEntry)
 *     inclusion  RFC 9162 §2.1.3.2: the proof folds the leaf hash at `index`
 *                up to the checkpoint's root hash for its tree size
 *
 * A step whose inputs failed is `skipped`, never passed. The result is
 * `verified` only when every step passed. Failed checks carry the error code
 * (STYLE.md §7: a failed proof says PROOF_INVALID, not which hash was wrong).
 */
import {
  type Accord,
  type AccordMember,
  type Checkpoint,
  type VerifiedAccord,
  type VerifierKey,
  VerifierSet,
  accordId,
  bytesEqual,
  cosignerKey,
  formatBase64,
  formatKeyId,
  getCrypto,
  isParleyError,
  leafHash,
  openCheckpoint,
  parseAccord,
  parseBase64,
  parseVerifierKey,
  rootFromInclusionProof,
  verifyAccord,
  verifyConsistency,
  verifyEntry,
} from '@parley/core';
import { type EntryKeys, type KeySource, keysOfAccord, keysOfChainFile } from './keys.js';
import { type WitnessFacts, type WitnessedNote, WitnessFailure, checkWitnesses, witnessPolicy } from './witnesses.js';

/** What the browser fetched: the accord (trusted anchor) and the node's answer for one entry. */
export interface VerifyInput {
  /** GET /v1/accord. */
  readonly accord: { readonly id: string; readonly accord: unknown; readonly signatures?: readonly { party: string; sig: string }[] | undefined };
  /** GET /v1/accord/chain, when the node serves it (unverified). */
  readonly chain?: unknown;
  /** Digest of the accord version this browser verified last for the channel (the chain must contain it). */
  readonly trusted?: string;
  readonly party: string;
  readonly index: number;
  /** Entry bytes, base64. */
  readonly entry: string;
  /** The leaf hash the node claims, base64. */
  readonly leafHash: string;
  /** Inclusion proof hashes, base64, RFC 9162 §2.1.3. */
  readonly proof: readonly string[];
  /** The checkpoint signed note, as text. */
  readonly checkpoint: string;
  /**
   * The witnessed checkpoints of this log the node holds (GET
   * /v1/logs/{party}/cosigned), each with the consistency proof from
   * `checkpoint`'s size to its own when that is larger. The entry's own
   * checkpoint note is looked at too (it may carry cosignatures).
   */
  readonly witnessed: readonly WitnessedNote[];
  /** The checkpoint of this log this browser verified last (seen.ts), with the proof between it and `checkpoint`. */
  readonly previous?: PreviousCheckpoint;
}

/** A checkpoint verified here before, and what the node gave to join it to the new one. */
export interface PreviousCheckpoint {
  readonly size: number;
  /** Base64 root hash. */
  readonly rootHash: string;
  /** When this browser verified it (ISO time). */
  readonly at: string;
  /** Base64 hashes, RFC 9162 §2.1.4, from the smaller of the two sizes to the larger (none at equal sizes). */
  readonly proof?: readonly string[];
  /** The node's problem code when it gave no proof. */
  readonly proofError?: string;
}

export const STEP_IDS = ['accord', 'key', 'checkpoint', 'witnesses', 'consistency', 'leaf', 'entry', 'inclusion'] as const;
export type StepId = (typeof STEP_IDS)[number];
export type StepStatus = 'pass' | 'fail' | 'skipped';

/** One step's outcome; `facts` are values to show (labels are i18n keys under explorer:fact.*). */
export interface Step {
  readonly id: StepId;
  readonly status: StepStatus;
  /** Error code from core (e.g. SIGNATURE_INVALID, PROOF_INVALID) when failed. */
  readonly code?: string;
  readonly facts: readonly (readonly [fact: string, value: string])[];
  /** The witnesses step: who cosigned, and the count against the quorum (also when it failed). */
  readonly witnesses?: WitnessFacts;
  /** The witness a failure is about (a bad cosignature, a conflicting checkpoint). */
  readonly witness?: string;
}

export interface VerifyResult {
  readonly verified: boolean;
  readonly steps: readonly Step[];
  /** The verified checkpoint's tree size and root, when its signature verified. */
  readonly checkpoint?: Checkpoint;
  /** When verified: the checkpoint for this browser to remember for the log (the larger of the previous one and this). */
  readonly remember?: { readonly size: number; readonly rootHash: string };
  /** The accord version that judged the entry (its keys), when the accord step passed. */
  readonly judgedBy?: { readonly version: number; readonly digest: string; readonly from: number; readonly until?: number };
  /** The entry lies in a compromise recovery's suspect range: written after the last checkpoint witnessed under a key later found compromised. */
  readonly suspect?: boolean;
  /** The version in force in the verified chain (for this browser to trust next time). */
  readonly accordDigest?: string;
}

class StepFailure extends Error {
  constructor(
    readonly code: string,
    readonly facts: readonly (readonly [string, string])[] = [],
  ) {
    super(code);
  }
}

function codeOf(e: unknown): string {
  if (e instanceof StepFailure || e instanceof WitnessFailure) return e.code;
  if (isParleyError(e)) return e.code;
  return 'INTERNAL';
}

/** An accord view for verifyEntry when the node sent no signatures: the keys as the accord lists them. */
function unsignedView(accord: Accord, id: string): VerifiedAccord {
  const members = new Map<string, AccordMember>();
  for (const p of accord.parties) {
    const logKey = parseVerifierKey(p.logKey);
    const verify = getCrypto().ed25519Verifier(logKey.publicKey);
    members.set(p.id, { party: p, logKey, witnessKey: cosignerKey(logKey), hpkeKey: parseBase64(p.hpkeKey), verify });
  }
  return { accord, id, channel: id, version: 1, digest: id, frozen: false, signedBy: [], signatures: [], complete: false, party: (pid) => members.get(pid) };
}

const claimedSize = (note: string): number => Number(/^[^\n]*\n(0|[1-9][0-9]{0,15})\n/.exec(note)?.[1] ?? 0);

/**
 * Runs every step on the fetched data. Pure and synchronous: no I/O, so a
 * test can feed it recorded or tampered responses.
 * @param input the accord and the node's answer for one entry.
 * @returns each step and whether the entry is verified.
 */
export function verifyEntryInclusion(input: VerifyInput): VerifyResult {
  const steps: Step[] = [];
  const run = <T>(id: StepId, needs: readonly StepId[], body: () => { value: T; facts: readonly (readonly [string, string])[]; witnesses?: WitnessFacts }): T | undefined => {
    if (needs.some((n) => steps.find((s) => s.id === n)?.status !== 'pass')) {
      steps.push({ id, status: 'skipped', facts: [] });
      return undefined;
    }
    try {
      const { value, facts, witnesses } = body();
      steps.push({ id, status: 'pass', facts, ...(witnesses !== undefined ? { witnesses } : {}) });
      return value;
    } catch (e) {
      const extra = e instanceof WitnessFailure ? { witnesses: e.facts, ...(e.witness !== undefined ? { witness: e.witness } : {}) } : {};
      steps.push({ id, status: 'fail', code: codeOf(e), facts: e instanceof StepFailure ? e.facts : [], ...extra });
      return undefined;
    }
  };

  const accord = run('accord', [], (): { value: { keys: KeySource; epoch: EntryKeys | undefined }; facts: [string, string][] } => {
    let keys: KeySource;
    const facts: [string, string][] = [];
    if (input.chain !== undefined) {
      keys = keysOfChainFile(input.chain, input.trusted);
      if (keys.channel !== input.accord.id) throw new StepFailure('ACCORD_ID_MISMATCH', [['accordId', keys.channel]]);
      facts.push(['accordId', keys.channel], ['accordVersions', String(keys.versions)]);
    } else {
      const a = parseAccord(input.accord.accord);
      const id = accordId(a);
      if (id !== input.accord.id) throw new StepFailure('ACCORD_ID_MISMATCH', [['accordId', id]]);
      const sigs = input.accord.signatures;
      const view = sigs ? verifyAccord({ accord: a, signatures: sigs }, { requireAll: true }) : unsignedView(a, id);
      // Without the signatures the id still binds the accord we use to the channel the node names; the UI says which.
      keys = keysOfAccord(view);
      facts.push(['accordId', id], sigs ? ['accordSignedBy', view.signedBy.join(', ')] : ['accordSignatures', 'absent']);
    }
    const epoch = keys.entryKeys(input.party, input.index);
    if (epoch !== undefined) {
      facts.push(['judgedBy', String(epoch.version.version)], ['judgedDigest', epoch.version.digest], ['epoch', epoch.until === undefined ? `${epoch.from} –` : `${epoch.from} – ${epoch.until - 1}`]);
      if (epoch.suspect) facts.push(['suspect', 'yes']);
    }
    return { value: { keys, epoch }, facts };
  });

  const key = run('key', ['accord'], () => {
    const epoch = accord!.epoch;
    if (!epoch) throw new StepFailure('PARTY_UNKNOWN');
    const k: VerifierKey = epoch.member.logKey;
    return { value: k, facts: [['keyName', k.name], ['keyId', formatKeyId(k.keyId)], ['publicKey', formatBase64(k.publicKey)]] };
  });

  const keysAt = (size: number) => accord!.keys.checkpointKeys(input.party, size);
  const cp = run('checkpoint', ['key'], () => {
    const valid = keysAt(claimedSize(input.checkpoint));
    const open = (ks: readonly VerifierKey[]) => openCheckpoint(input.checkpoint, new VerifierSet([...ks]), { origin: key!.name });
    let v: ReturnType<typeof openCheckpoint>;
    try {
      if (valid.length === 0) throw new StepFailure('KEY_RETIRED');
      v = open(valid);
    } catch (e) {
      // Signed by one of the party's keys, but not one valid at this size: a retired key used after its rotation.
      const retired = accord!.keys.allLogKeys(input.party).filter((k) => !valid.some((x) => formatKeyId(x.keyId) === formatKeyId(k.keyId)));
      if (
        retired.some((k) => {
          try {
            open([k]);
            return true;
          } catch {
            return false;
          }
        })
      )
        throw new StepFailure('KEY_RETIRED');
      throw e;
    }
    const c = v.checkpoint;
    return { value: c, facts: [['origin', c.origin], ['treeSize', String(c.treeSize)], ['rootHash', formatBase64(c.rootHash)]] };
  });

  run('witnesses', ['checkpoint'], () => {
    const policy = witnessPolicy(accord!.keys, input.party);
    const w = checkWitnesses(cp!, keysAt, policy, [{ note: input.checkpoint }, ...input.witnessed]);
    return { value: w, facts: [], witnesses: w };
  });

  const previous = input.previous;
  run('consistency', ['checkpoint'], () => {
    if (previous === undefined) return { value: undefined, facts: [['previous', 'none']] };
    const facts: [string, string][] = [['previousSize', String(previous.size)], ['previousAt', previous.at], ['treeSize', String(cp!.treeSize)]];
    let prevRoot: Uint8Array;
    try {
      prevRoot = parseBase64(previous.rootHash, 'root hash');
    } catch {
      throw new StepFailure('PROOF_INVALID', facts);
    }
    if (previous.size === cp!.treeSize) {
      if (!bytesEqual(prevRoot, cp!.rootHash)) throw new StepFailure('PROOF_INVALID', facts);
      return { value: undefined, facts };
    }
    if (previous.proof === undefined) throw new StepFailure('NOT_PROVED', previous.proofError !== undefined ? [...facts, ['nodeAnswer', previous.proofError]] : facts);
    let proof: Uint8Array[];
    try {
      proof = previous.proof.map((h) => parseBase64(h, 'proof hash'));
    } catch {
      throw new StepFailure('PROOF_INVALID', facts);
    }
    const [lo, hi] = previous.size < cp!.treeSize ? [{ size: previous.size, root: prevRoot }, { size: cp!.treeSize, root: cp!.rootHash }] : [{ size: cp!.treeSize, root: cp!.rootHash }, { size: previous.size, root: prevRoot }];
    if (!verifyConsistency(proof, lo.size, hi.size, lo.root, hi.root)) throw new StepFailure('PROOF_INVALID', facts);
    return { value: undefined, facts };
  });

  const bytes = (() => {
    try {
      return parseBase64(input.entry, 'entry');
    } catch {
      return undefined;
    }
  })();

  const leaf = run('leaf', [], () => {
    if (!bytes) throw new StepFailure('ENTRY_MALFORMED');
    const h = leafHash(bytes);
    const facts: [string, string][] = [['entryBytes', String(bytes.length)], ['leafHash', formatBase64(h)], ['claimedLeafHash', input.leafHash]];
    if (formatBase64(h) !== input.leafHash) throw new StepFailure('LEAF_HASH_MISMATCH', facts);
    return { value: h, facts };
  });

  run('entry', ['key', 'leaf'], () => {
    // The version judging this position and the party's key in it (GOV.md §3: verifyEntry's member).
    const v = verifyEntry(bytes!, accord!.epoch!.version, accord!.epoch!.member);
    if (v.entry.from.party !== input.party) throw new StepFailure('ENTRY_INVALID', [['sender', v.entry.from.party]]);
    return { value: v, facts: [['sender', `${v.entry.from.party} / ${v.entry.from.officer}`], ['type', v.entry.type], ['time', v.entry.time]] };
  });

  run('inclusion', ['checkpoint', 'leaf'], () => {
    const facts: [string, string][] = [['index', String(input.index)], ['treeSize', String(cp!.treeSize)], ['proofLength', String(input.proof.length)]];
    let proof: Uint8Array[];
    try {
      proof = input.proof.map((p) => parseBase64(p, 'proof hash'));
    } catch {
      throw new StepFailure('PROOF_INVALID', facts);
    }
    const root = rootFromInclusionProof(proof, cp!.treeSize, input.index, leaf!);
    if (!root || !bytesEqual(root, cp!.rootHash)) throw new StepFailure('PROOF_INVALID', facts);
    return { value: root, facts: [...facts, ['computedRoot', formatBase64(root)]] };
  });

  const verified = steps.every((s) => s.status === 'pass');
  const remember =
    verified && cp ? (previous !== undefined && previous.size > cp.treeSize ? { size: previous.size, rootHash: previous.rootHash } : { size: cp.treeSize, rootHash: formatBase64(cp.rootHash) }) : undefined;
  const epoch = accord?.epoch;
  const judgedBy = epoch !== undefined ? { version: epoch.version.version, digest: epoch.version.digest, from: epoch.from, ...(epoch.until !== undefined ? { until: epoch.until } : {}) } : undefined;
  return {
    verified,
    steps,
    ...(cp ? { checkpoint: cp } : {}),
    ...(remember ? { remember } : {}),
    ...(judgedBy ? { judgedBy } : {}),
    ...(epoch?.suspect === true ? { suspect: true } : {}),
    ...(accord !== undefined && input.chain !== undefined ? { accordDigest: accord.keys.current.digest } : {}),
  };
}
