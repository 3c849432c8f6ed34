/**
 * Reference rules of the evaluation entries (issue 12, EVAL.md §3): what a
 * `deployment.notice`, an `evaluation.reveal` and a follow-up
 * `evaluation.commitment` must point at. Bodies are checked by core's
 * registry (structural, sync); these rules need the log, so they live here
 * and run in two places with the same code:
 *
 *     submission  (POST /v1/evaluations/…)   a violation is a typed 4xx, nothing is written
 *     ingest      (ParleyNode.ingest)        a violation keeps the entry as evidence and
 *                                            answers it with a signed rejection (received.ts)
 *
 * Rules:
 *   commitment  refs [] or [a stage-protocol commitment of the same sender]   EVAL_COMMITMENT_MISSING
 *   notice      refs exactly [a stage-report commitment held here, leaf hash equal]
 *                                                                               EVAL_COMMITMENT_MISSING
 *               body.deployedAt ≥ the commitment entry's time                   EVAL_NOTICE_BEFORE_COMMITMENT
 *   reveal      refs exactly [a commitment in the SENDER's own log, leaf hash equal]
 *                                                                               EVAL_COMMITMENT_MISSING
 *               every disclosure opens against its `sd` (core openDisclosures)  EVAL_DISCLOSURE_MISMATCH,
 *                                                                               EVAL_SALT_REUSED, …
 *
 * "Held here" = our own log, received, or mirrored (federation/mirror.ts).
 * On ingest a referenced commitment that is not (yet) held here cannot be
 * judged — entries of different logs arrive in no fixed order, and a
 * rejection is final — so the entry is accepted, and the views judge it
 * again once the commitment is held; a reference that cannot be right
 * (another party's log for a reveal, an index not below the entry's own in
 * the same log) is rejected at once.
 */
import { type EntryRef, type JsonValue, type SignedEntry, ParleyError, checkNoticeCommitment, checkProtocolReference, checkRevealCommitment, formatBase64, parseEntry, referencedCommitment } from '@parley/core';
import type { LogStore } from '@parley/store';

export const COMMITMENT = 'evaluation.commitment';
export const NOTICE = 'deployment.notice';
export const REVEAL = 'evaluation.reveal';
/** The entry types whose references this module checks. */
export const EVALUATION_TYPES: readonly string[] = [COMMITMENT, NOTICE, REVEAL];

export function isEvaluationType(t: string): boolean {
  return EVALUATION_TYPES.includes(t);
}

/** Body of an `evaluation.commitment` (core entry/bodies.ts checked it). */
export interface CommitmentBody {
  readonly stage: 'report' | 'protocol';
  readonly domains: readonly string[];
  readonly sdAlg: 'sha-256';
  readonly sd: readonly string[];
}
/** Body of a `deployment.notice`. */
export interface NoticeBody {
  readonly model: { readonly id: string; readonly digest: string };
  readonly deployedAt: string;
  readonly note?: string;
}
/** Body of an `evaluation.reveal`. */
export interface RevealBody {
  readonly disclosures: readonly string[];
}

/** An entry this node holds, of any party's log. */
export interface HeldEntry {
  readonly party: string;
  readonly index: number;
  readonly leafHash: Uint8Array;
  readonly bytes: Uint8Array;
  readonly entry: SignedEntry;
}

/** Looks an entry up by position; undefined when not held. */
export type Lookup = (party: string, index: number) => Promise<HeldEntry | undefined>;

/** The entry at (party, index) as this node holds it: own log, received, or mirrored. */
export function storeLookup(store: LogStore, self: string): Lookup {
  return async (party, index) => {
    if (!Number.isSafeInteger(index) || index < 0) return undefined;
    const rec = party === self ? await store.entry(index) : ((await store.received(party, index)) ?? (await store.mirrored(party, index, index + 1))[0]);
    if (rec === undefined || rec.index !== index) return undefined;
    try {
      return { party, index, leafHash: rec.leafHash, bytes: rec.bytes, entry: parseEntry(rec.bytes) };
    } catch {
      return undefined; // damaged bytes prove nothing
    }
  };
}

/** `lookup`, answering (h.party, h.index) with `h` already in hand instead of reading and parsing it again. */
export function lookupWith(lookup: Lookup, h: HeldEntry): Lookup {
  return async (party, index) => (party === h.party && index === h.index ? h : lookup(party, index));
}

/** The clear body of a commitment entry (commitments are TLP:CLEAR, enforced by core). */
export function commitmentBody(e: SignedEntry): CommitmentBody | undefined {
  return e.type === COMMITMENT && 'clear' in e.body ? (e.body.clear as unknown as CommitmentBody) : undefined;
}

/** What the rules look at: the envelope facts and the body (undefined: sealed and not opened here). */
export interface Candidate {
  readonly type: string;
  readonly from: string;
  /** The entry's index in its sender's log (absent on submission: not yet written). */
  readonly seq?: number;
  readonly refs: readonly EntryRef[];
  readonly body: JsonValue | undefined;
}

const missing = (msg: string) => new ParleyError('EVAL_COMMITMENT_MISSING', msg);

/** Runs one of core's reference checks (eval/references.ts), turning its ParleyError into the answer. */
function problemOf(check: () => unknown): ParleyError | undefined {
  try {
    check();
    return undefined;
  } catch (e) {
    if (e instanceof ParleyError) return e;
    throw e;
  }
}

/**
 * The first broken reference rule of an evaluation entry (see the module doc), or undefined.
 * The rules themselves are core's (eval/references.ts); this finds what they are applied to.
 * @param mode `submit`: every referenced entry must be held; `ingest`: one that is
 *   not held but may be (in the sender's log, below the entry) is not judged.
 */
export async function evaluationProblem(c: Candidate, lookup: Lookup, mode: 'submit' | 'ingest'): Promise<ParleyError | undefined> {
  if (!isEvaluationType(c.type)) return undefined;
  const ref = c.refs[0];
  if (ref === undefined) return c.type === COMMITMENT ? undefined : missing(`a ${c.type} refers to exactly one evaluation.commitment`);
  if (ref.party === c.from && c.seq !== undefined && ref.index >= c.seq) return missing(`${ref.party}/${ref.index} is not below the entry itself`);
  if (c.type === REVEAL && ref.party !== c.from) return missing('a reveal opens a commitment of its sender\u2019s own log only');
  const held = await lookup(ref.party, ref.index);
  // Ingest: a commitment not (yet) held here cannot be judged (entries of different logs arrive in no fixed order).
  if (held === undefined && mode === 'ingest') return undefined;
  // Core's checks read the referring entry's sender and references only: on submission it is not signed yet.
  const referring = { type: c.type, from: { party: c.from, officer: '' }, seq: c.seq ?? -1, refs: c.refs } as unknown as SignedEntry;
  if (c.type === COMMITMENT) return problemOf(() => checkProtocolReference(referring, held));
  if (c.type === NOTICE) return c.body === undefined ? problemOf(() => referencedCommitment(ref, held)) : problemOf(() => checkNoticeCommitment(referring, c.body, held));
  // A reveal sealed to others: its references are still checked, its disclosures cannot be.
  if (c.body === undefined) return problemOf(() => referencedCommitment(ref, held));
  return problemOf(() => checkRevealCommitment(referring, c.body, held));
}

/** A reference to a held entry. */
export function refTo(h: HeldEntry): EntryRef {
  return { party: h.party, index: h.index, hash: formatBase64(h.leafHash) };
}

/** True when `ref` names `h` (same position and leaf hash). */
export function refersTo(ref: EntryRef, h: { party: string; index: number; leafHash: Uint8Array }): boolean {
  return ref.party === h.party && ref.index === h.index && ref.hash === formatBase64(h.leafHash);
}
