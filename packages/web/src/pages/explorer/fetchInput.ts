/**
 * Fetches what verify.ts checks for one entry, in this order:
 *
 *     GET /v1/accord/chain                         the accord chain (public; 404 from a node
 *                                                  without governance: the founding accord alone)
 *     GET /v1/logs/{party}/cosigned                the witnessed checkpoints the node holds
 *     GET /v1/logs/{party}/entries/{index}?size=S  entry, inclusion proof, checkpoint of size S
 *     GET /v1/logs/{party}/consistency?old&new     S → each witnessed size above S, and
 *                                                  between S and the size this browser verified last
 *
 * S is the reader's choice (?size=), else the largest witnessed size (so a
 * checkpoint a witness has not cosigned yet is not the one used), else —
 * when the node offers no witnessed checkpoint at all — the latest it holds,
 * which then fails the witnesses step. Another party's log has only its
 * latest witnessed checkpoint at hand on this node, so a cosignature landing
 * between the first two requests makes the chosen size unavailable (404):
 * then the three start again (at most {@link ATTEMPTS} times). Everything
 * fetched is unverified; a
 * proof the node refuses is passed on as its problem code (a consistency
 * proof it cannot give the browser's previous checkpoint is a failure, not
 * a fetch error).
 */
import { api, ApiError } from '../../api.js';
import type { CosignedNotes, LogConsistencyProof, LogEntryProof } from '@parley/node/api';
import type { AccordAnswer } from './accord.js';
import type { Seen } from './seen.js';
import type { PreviousCheckpoint, VerifyInput } from './verify.js';
import { type WitnessedNote, witnessedSize } from './witnesses.js';

/** The entry is newer than every checkpoint a witness has cosigned: nothing to verify it against yet. */
export class NotYetWitnessed extends Error {
  constructor() {
    super('NOT_YET_WITNESSED');
    this.name = 'NotYetWitnessed';
  }
}

/** Tries of the cosigned → entries pair when the witnessed size moved on in between. */
export const ATTEMPTS = 3;

export interface FetchedInput {
  readonly input: VerifyInput;
  readonly proof: LogEntryProof;
}

/** The consistency proof old → new, or the node's problem code. */
async function consistency(path: string, oldSize: number, newSize: number, signal: AbortSignal | undefined): Promise<{ proof: string[] } | { proofError: string }> {
  try {
    const r = await api<LogConsistencyProof>(`${path}/consistency?old=${oldSize}&new=${newSize}`, signal ? { signal } : {});
    return { proof: r.proof };
  } catch (e) {
    if (e instanceof ApiError) return { proofError: e.code };
    throw e;
  }
}

/**
 * GET /v1/accord/chain, or undefined when the node has none (404: an older
 * node; the founding accord is then the only version).
 * @throws ApiError for any other failure.
 */
export async function fetchChain(signal?: AbortSignal): Promise<unknown> {
  try {
    return await api<unknown>('/v1/accord/chain', signal ? { signal } : {});
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return undefined;
    throw e;
  }
}

/**
 * @param o the entry, the reader's size (if any), the accord answer, the checkpoint verified here before.
 * @returns the input for verifyEntryInclusion and the node's entry answer.
 * @throws NotYetWitnessed when the entry is newer than the witnessed checkpoints; ApiError when the entry cannot be fetched.
 */
export async function fetchVerifyInput(o: {
  party: string;
  index: number;
  size?: number | undefined;
  accord: AccordAnswer;
  previous?: Seen | undefined;
  /** Digest of the accord version this browser trusted last (seen.ts readTrustedAccord). */
  trusted?: string | undefined;
  signal?: AbortSignal;
}): Promise<FetchedInput> {
  const path = `/v1/logs/${encodeURIComponent(o.party)}`;
  const opts = o.signal ? { signal: o.signal } : {};
  const chain = await fetchChain(o.signal);
  let cosigned: CosignedNotes;
  let proof: LogEntryProof;
  for (let attempt = 1; ; attempt++) {
    cosigned = await api<CosignedNotes>(`${path}/cosigned`, opts);
    let size = o.size;
    if (size === undefined) {
      const best = witnessedSize(cosigned.notes, o.index);
      if (best === 'older') throw new NotYetWitnessed();
      if (best !== 'none') size = best;
    }
    try {
      proof = await api<LogEntryProof>(`${path}/entries/${o.index}${size !== undefined ? `?size=${size}` : ''}`, opts);
      break;
    } catch (e) {
      const moved = o.size === undefined && size !== undefined && e instanceof ApiError && e.status === 404;
      if (!moved || attempt >= ATTEMPTS) throw e;
    }
  }
  const s = proof.treeSize;
  const witnessed = Promise.all(
    cosigned.notes.map(async (n): Promise<WitnessedNote> => (n.treeSize > s ? { note: n.note, ...(await consistency(path, s, n.treeSize, o.signal)) } : { note: n.note })),
  );
  const prev = o.previous;
  const previous: Promise<PreviousCheckpoint | undefined> =
    prev === undefined ? Promise.resolve(undefined) : prev.size === s ? Promise.resolve({ ...prev }) : consistency(path, Math.min(prev.size, s), Math.max(prev.size, s), o.signal).then((c) => ({ ...prev, ...c }));
  const [w, p] = await Promise.all([witnessed, previous]);
  return {
    proof,
    input: {
      accord: o.accord,
      ...(chain !== undefined ? { chain } : {}),
      ...(o.trusted !== undefined ? { trusted: o.trusted } : {}),
      party: o.party,
      index: o.index,
      entry: proof.entry,
      leafHash: proof.leafHash,
      proof: proof.proof,
      checkpoint: proof.checkpoint,
      witnessed: w,
      ...(p !== undefined ? { previous: p } : {}),
    },
  };
}
