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
 * judged: a reference into the sender's own log below the entry is accepted
 * (it may be in flight, or addressed elsewhere) — the views show such an
 * entry with `error: EVAL_COMMITMENT_MISSING` until it arrives; a reference
 * that cannot be right (another party's log for a reveal, an index not below
 * the entry's own in the same log) is rejected at once.
 */
import { type EntryRef, type JsonValue, type SignedEntry, ParleyError, formatBase64, openDisclosures, parseEntry } from '@parley/core';
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

/**
 * The referenced commitment, checked against the reference: held, same leaf hash, a commitment.
 * @returns the entry, or a problem; `undefined` entry when not held and `lenient` (ingest: cannot judge).
 */
async function referenced(ref: EntryRef, lookup: Lookup, lenient: boolean): Promise<{ held?: HeldEntry; problem?: ParleyError }> {
  const held = await lookup(ref.party, ref.index);
  if (held === undefined) return lenient ? {} : { problem: missing(`${ref.party}/${ref.index} is not held by this node`) };
  if (formatBase64(held.leafHash) !== ref.hash) return { problem: missing(`${ref.party}/${ref.index} held here has another leaf hash than the reference`) };
  if (held.entry.type !== COMMITMENT) return { problem: missing(`${ref.party}/${ref.index} is a ${held.entry.type}, not an evaluation.commitment`) };
  return { held };
}

/**
 * The first broken reference rule of an evaluation entry (see the module doc), or undefined.
 * @param mode `submit`: every referenced entry must be held; `ingest`: one that is
 *   not held but may be (in the sender's log, below the entry) is not judged.
 */
export async function evaluationProblem(c: Candidate, lookup: Lookup, mode: 'submit' | 'ingest'): Promise<ParleyError | undefined> {
  const lenientFor = (ref: EntryRef) => mode === 'ingest' && ref.party === c.from && (c.seq === undefined || ref.index < c.seq);
  if (c.type === COMMITMENT) {
    if (c.refs.length === 0) return undefined;
    const ref = c.refs[0]!;
    if (c.refs.length > 1) return missing('a commitment refers to at most one protocol commitment');
    if (ref.party !== c.from) return missing('a commitment follows a protocol commitment of its own sender only');
    const r = await referenced(ref, lookup, lenientFor(ref));
    if (r.problem) return r.problem;
    if (r.held && commitmentBody(r.held.entry)?.stage !== 'protocol') return missing(`${ref.party}/${ref.index} is not a stage-protocol commitment`);
    return undefined;
  }
  if (c.type !== NOTICE && c.type !== REVEAL) return undefined;
  if (c.refs.length !== 1) return missing(`a ${c.type} refers to exactly one evaluation.commitment`);
  const ref = c.refs[0]!;
  if (c.type === REVEAL && ref.party !== c.from) return missing('a reveal opens a commitment of its sender\u2019s own log only');
  if (ref.party === c.from && c.seq !== undefined && ref.index >= c.seq) return missing(`${ref.party}/${ref.index} is not below the entry itself`);
  const r = await referenced(ref, lookup, lenientFor(ref));
  if (r.problem || r.held === undefined) return r.problem;
  const commitment = commitmentBody(r.held.entry);
  if (commitment === undefined) return missing(`${ref.party}/${ref.index} has no clear body`);
  if (c.type === NOTICE) {
    if (commitment.stage !== 'report') return missing(`${ref.party}/${ref.index} is a protocol commitment: a deployment notice cites the report's`);
    const body = c.body as unknown as NoticeBody | undefined;
    if (body !== undefined && Date.parse(body.deployedAt) < Date.parse(r.held.entry.time)) {
      return new ParleyError('EVAL_NOTICE_BEFORE_COMMITMENT', `deployedAt ${body.deployedAt} is earlier than the commitment (${r.held.entry.time})`);
    }
    return undefined;
  }
  const body = c.body as unknown as RevealBody | undefined;
  if (body === undefined) return undefined; // sealed, not for us: nothing to open
  try {
    openDisclosures(commitment.sd, body.disclosures);
    return undefined;
  } catch (e) {
    if (e instanceof ParleyError) return e;
    throw e;
  }
}

/** A reference to a held entry. */
export function refTo(h: HeldEntry): EntryRef {
  return { party: h.party, index: h.index, hash: formatBase64(h.leafHash) };
}

/** True when `ref` names `h` (same position and leaf hash). */
export function refersTo(ref: EntryRef, h: { party: string; index: number; leafHash: Uint8Array }): boolean {
  return ref.party === h.party && ref.index === h.index && ref.hash === formatBase64(h.leafHash);
}
