/**
 * Officers' submissions of evaluation entries (issue 12, EVAL.md §3, §10):
 * each request becomes a draft, its references are checked by the same rules
 * as received entries (refs.ts: a typed 4xx, nothing written), then the
 * node signs and appends it (ParleyNode.submit: body check, sealing to the
 * recipients unless TLP:CLEAR).
 *
 *     commitment  TLP:CLEAR, to every other party, ROUTINE unless given
 *     notice      to every other party unless `to`, PRIORITY, TLP:CLEAR unless given
 *     reveal      to `to` ("all": every other party); TLP:CLEAR = public,
 *                 any other marking = sealed to `to` (and the sender)
 */
import { type Marking, type Precedence, ParleyError, fail } from '@parley/core';
import type { ParleyNode, Submitted } from '../service.js';
import { COMMITMENT, type HeldEntry, NOTICE, REVEAL, type Lookup, evaluationProblem, lookupWith, refTo, storeLookup } from './refs.js';

export interface CommitmentRequest {
  readonly stage: 'report' | 'protocol';
  readonly domains: readonly string[];
  readonly sd: readonly string[];
  readonly protocol?: { readonly party: string; readonly index: number };
  readonly precedence?: Precedence;
}

export interface NoticeRequest {
  readonly commitment: { readonly party: string; readonly index: number };
  readonly model: { readonly id: string; readonly digest: string };
  readonly deployedAt: string;
  readonly note?: string;
  readonly to?: readonly string[];
  readonly precedence?: Precedence;
  readonly marking?: Marking;
}

export interface RevealRequest {
  readonly commitment: { readonly party: string; readonly index: number };
  readonly disclosures: readonly string[];
  readonly to: readonly string[] | 'all';
  readonly marking: Marking;
  readonly precedence?: Precedence;
}

/** The held commitment at `at`, or EVAL_COMMITMENT_MISSING. */
async function heldCommitment(lookup: Lookup, at: { party: string; index: number }) {
  const held = await lookup(at.party, at.index);
  if (held === undefined) fail('EVAL_COMMITMENT_MISSING', `${at.party}/${at.index} is not held by this node`);
  if (held.entry.type !== COMMITMENT) fail('EVAL_COMMITMENT_MISSING', `${at.party}/${at.index} is a ${held.entry.type}, not an evaluation.commitment`);
  return held;
}

/** Refuses `c` when it breaks a reference rule; `held`: the commitment it refers to, looked up already. */
async function checked(lookup: Lookup, held: HeldEntry | undefined, c: Parameters<typeof evaluationProblem>[0]): Promise<void> {
  const p = await evaluationProblem(c, held ? lookupWith(lookup, held) : lookup, 'submit');
  if (p) throw p;
}

/** Commits to an evaluation (or its protocol): salted digests only, in the clear. */
export async function submitCommitment(node: ParleyNode, officer: string, r: CommitmentRequest): Promise<Submitted> {
  const lookup = storeLookup(node.store, node.party);
  const protocol = r.protocol ? await heldCommitment(lookup, r.protocol) : undefined;
  const refs = protocol ? [refTo(protocol)] : [];
  const body = { stage: r.stage, domains: [...r.domains], sdAlg: 'sha-256', sd: [...r.sd] };
  await checked(lookup, protocol, { type: COMMITMENT, from: node.party, refs, body });
  return node.submit(officer, { type: COMMITMENT, precedence: r.precedence ?? 'ROUTINE', marking: 'TLP:CLEAR', refs, body });
}

/** Announces a deployment of the model an evaluation commitment covers. */
export async function submitNotice(node: ParleyNode, officer: string, r: NoticeRequest): Promise<Submitted> {
  const lookup = storeLookup(node.store, node.party);
  const commitment = await heldCommitment(lookup, r.commitment);
  const refs = [refTo(commitment)];
  const body = { model: { id: r.model.id, digest: r.model.digest }, deployedAt: r.deployedAt, ...(r.note !== undefined ? { note: r.note } : {}) };
  await checked(lookup, commitment, { type: NOTICE, from: node.party, refs, body });
  return node.submit(officer, { type: NOTICE, ...(r.to ? { to: r.to } : {}), precedence: r.precedence ?? 'PRIORITY', marking: r.marking ?? 'TLP:CLEAR', refs, body });
}

/** Opens chosen disclosures of one of our own commitments to `to` (or publicly at TLP:CLEAR). */
export async function submitReveal(node: ParleyNode, officer: string, r: RevealRequest): Promise<Submitted> {
  if (r.commitment.party !== node.party) throw new ParleyError('EVAL_COMMITMENT_MISSING', 'a reveal opens a commitment of this party\u2019s own log only');
  const lookup = storeLookup(node.store, node.party);
  const commitment = await heldCommitment(lookup, r.commitment);
  const refs = [refTo(commitment)];
  const body = { disclosures: [...r.disclosures] };
  await checked(lookup, commitment, { type: REVEAL, from: node.party, refs, body });
  return node.submit(officer, {
    type: REVEAL,
    ...(r.to === 'all' ? {} : { to: r.to }),
    precedence: r.precedence ?? 'ROUTINE',
    marking: r.marking,
    refs,
    body,
  });
}
