/**
 * The reference rules between evaluation entries (EVAL.md §3), as pure
 * checks every holder applies the same way: the node on submission and on
 * ingest, the evidence verifier, the CLI and the dashboard.
 *
 *     deployment.notice  refs[0] = an evaluation.commitment (stage report) with that leaf hash;
 *                        deployedAt ≥ the commitment's time
 *     evaluation.reveal  refs[0] = an evaluation.commitment in the SENDER's own log with that
 *                        leaf hash; every disclosure opens against its `sd`
 *     evaluation.commitment refs[0]? = an evaluation.commitment, stage protocol, same sender
 *
 * A reference is resolved by the caller (it knows which entries it holds);
 * these functions are given what the caller found, `undefined` for nothing.
 *
 * @example
 *   checkNoticeCommitment(notice, held);   // throws EVAL_COMMITMENT_MISSING / EVAL_NOTICE_BEFORE_COMMITMENT
 *   const { claims } = checkRevealCommitment(reveal, revealBody, held);
 */
import { fail } from '../errors.js';
import { formatBase64 } from '../encoding.js';
import type { Hash } from '../merkle/hash.js';
import { type DeploymentNoticeBody, type EvaluationCommitmentBody, type EvaluationRevealBody, checkBody } from '../entry/bodies.js';
import type { SignedEntry } from '../entry/envelope.js';
import { type JsonObject, type RevealedClaim, openDisclosures } from './disclosure.js';

/** An entry the caller holds, with its leaf hash. */
export interface HeldEntry {
  readonly entry: SignedEntry;
  readonly leafHash: Hash;
}

/**
 * The commitment `ref` names, checked: `held` exists, its party and index
 * and leaf hash are the reference's, it is an evaluation.commitment with a
 * clear body.
 * @throws VerificationError `EVAL_COMMITMENT_MISSING`.
 */
export function referencedCommitment(ref: SignedEntry['refs'][number] | undefined, held: HeldEntry | undefined): EvaluationCommitmentBody {
  if (!ref || !held) return fail('EVAL_COMMITMENT_MISSING', 'the referenced commitment is not held');
  const e = held.entry;
  if (e.from.party !== ref.party || e.seq !== ref.index) fail('EVAL_COMMITMENT_MISSING', `held entry ${e.from.party}:${e.seq} is not ${ref.party}:${ref.index}`);
  if (formatBase64(held.leafHash) !== ref.hash) fail('EVAL_COMMITMENT_MISSING', `${ref.party}:${ref.index} has another leaf hash than the reference names`);
  if (e.type !== 'evaluation.commitment' || !('clear' in e.body)) fail('EVAL_COMMITMENT_MISSING', `${ref.party}:${ref.index} is not an evaluation commitment`);
  return checkBody('evaluation.commitment', e.body.clear);
}

/**
 * A deployment notice against the commitment it cites.
 * @param notice the notice entry (its body clear or opened: `body`).
 * @throws VerificationError `EVAL_COMMITMENT_MISSING` (not held, other hash, not a commitment,
 *   a protocol-stage commitment), `EVAL_NOTICE_BEFORE_COMMITMENT` (deployedAt earlier than the
 *   commitment's time); ParseError `ENTRY_MALFORMED` for a bad body.
 */
export function checkNoticeCommitment(notice: SignedEntry, body: unknown, held: HeldEntry | undefined): DeploymentNoticeBody {
  const b = checkBody('deployment.notice', body);
  const c = referencedCommitment(notice.refs[0], held);
  if (c.stage !== 'report') fail('EVAL_COMMITMENT_MISSING', 'a deployment notice cites a report-stage commitment, not a protocol');
  if (Date.parse(b.deployedAt) < Date.parse(held!.entry.time)) fail('EVAL_NOTICE_BEFORE_COMMITMENT', `deployedAt ${b.deployedAt} is before the commitment's time ${held!.entry.time}`);
  return b;
}

/**
 * An evaluation reveal against its commitment, which must be in the
 * reveal's sender's own log; every disclosure must open.
 * @throws VerificationError `EVAL_COMMITMENT_MISSING`, and openDisclosures' errors
 *   (`EVAL_DISCLOSURE_MISMATCH`, `EVAL_SALT_REUSED`, `EVAL_DISCLOSURE_DUPLICATE`, `EVAL_DISCLOSURE_MALFORMED`).
 */
export function checkRevealCommitment(reveal: SignedEntry, body: unknown, held: HeldEntry | undefined): { body: EvaluationRevealBody; claims: JsonObject; revealed: RevealedClaim[] } {
  const b = checkBody('evaluation.reveal', body);
  const ref = reveal.refs[0];
  if (ref && ref.party !== reveal.from.party) fail('EVAL_COMMITMENT_MISSING', `a reveal opens a commitment of its sender's own log, not ${ref.party}'s`);
  const c = referencedCommitment(ref, held);
  return { body: b, ...openDisclosures(c.sd, b.disclosures) };
}

/**
 * A commitment that follows a pre-registered protocol: the protocol is a
 * protocol-stage commitment of the same sender.
 * @throws VerificationError `EVAL_COMMITMENT_MISSING`.
 */
export function checkProtocolReference(commitment: SignedEntry, held: HeldEntry | undefined): void {
  const ref = commitment.refs[0];
  if (!ref) return;
  if (ref.party !== commitment.from.party) fail('EVAL_COMMITMENT_MISSING', 'a commitment follows a protocol of its own sender');
  if (referencedCommitment(ref, held).stage !== 'protocol') fail('EVAL_COMMITMENT_MISSING', 'the referenced commitment is not a protocol');
}

/**
 * Whether `party` may open `reveal`: its sender or one of its recipients
 * (a TLP:CLEAR reveal is public: everyone).
 * @throws VerificationError `EVAL_NOT_ADDRESSED`.
 */
export function checkAddressed(reveal: SignedEntry, party: string): void {
  if (reveal.marking === 'TLP:CLEAR') return;
  if (reveal.from.party !== party && !reveal.to.includes(party)) fail('EVAL_NOT_ADDRESSED', `${reveal.from.party}:${reveal.seq} is not addressed to ${party}`);
}
