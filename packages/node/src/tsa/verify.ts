/**
 * Verifying RFC 3161 tokens of a checkpoint before anything is stored or
 * counted (issue 12): the node-side wrapper around core `@parley/core/tsa`.
 *
 * A token counts for the checkpoint of `party`'s log of size n when:
 *
 *     the note is that party's checkpoint, signed by its log key at n (epochs)
 *     the authority is one the accord lists (timestamping.authorities)
 *     verifyTimestampToken holds with imprint = SHA-256(note) against that
 *       authority alone: chain to its roots, EKU timeStamping, policy,
 *       genTime within the certificate's and the authority's validity
 *
 * Each refused token keeps its typed code (TSA_IMPRINT_MISMATCH,
 * TSA_UNTRUSTED, …); the others are kept. The trusted time of a checkpoint
 * is the k-th smallest genTime over distinct authorities, k = `required`
 * ({@link trustedTime}): k authorities agree the checkpoint existed by then.
 */
import { type AccordTimestamping, type VerifiedAccord, decodeUtf8, fail, isParleyError, openCheckpoint, parseCheckpoint, parseNote, timestampTime } from '@parley/core';
import { timestampImprint, verifyTimestampToken } from '@parley/core/tsa';
import type { CheckpointTimestamp } from '@parley/store';
import { type Governed, checkpointVerifiers } from '../epochs.js';

/** The accord's time-stamping member, if it lists any authority. */
export function timestampingOf(accord: VerifiedAccord): AccordTimestamping | undefined {
  return accord.accord.timestamping;
}

/** A token as it travels: the authority's accord name and the DER token. */
export interface TokenInput {
  readonly authority: string;
  readonly token: Uint8Array;
  /** The nonce our request carried (our own stamping): the token must echo it. */
  readonly nonce?: Uint8Array;
}

export interface RefusedToken {
  readonly authority: string;
  readonly code: string;
  readonly message: string;
  /** The typed error (a ParleyError with `code`), for a caller that wraps it. */
  readonly error?: unknown;
}

export interface CheckedTokens {
  readonly treeSize: number;
  /** Rows ready for the store (verified). */
  readonly verified: CheckpointTimestamp[];
  readonly refused: RefusedToken[];
}

/** Who verifies tokens for what is kept on a store: the node running on it (fork proofs, federation/forks.ts). */
const verifiers = new WeakMap<object, Governed & { readonly accord: VerifiedAccord }>();

/** Registers the node running on `store` (ParleyNode.open). */
export function bindTimestampVerifier(store: object, g: Governed & { readonly accord: VerifiedAccord }): void {
  verifiers.set(store, g);
}

/** The node registered for `store`, if any. */
export function timestampVerifierOf(store: object): (Governed & { readonly accord: VerifiedAccord }) | undefined {
  return verifiers.get(store);
}

/** The tree size of a checkpoint note (unverified). */
export function noteSize(note: string | Uint8Array): number {
  return parseCheckpoint(parseNote(note).text).treeSize;
}

/**
 * Verifies `tokens` for `note`, the checkpoint of `party`'s log.
 * @throws the note's own error (NOTE_*, CHECKPOINT_*, …) when it is not
 *   `party`'s signed checkpoint: no token of it is looked at.
 */
export async function verifyCheckpointTokens(g: Governed & { readonly accord: VerifiedAccord }, party: string, note: string | Uint8Array, tokens: readonly TokenInput[]): Promise<CheckedTokens> {
  const text = typeof note === 'string' ? note : decodeUtf8(note, 'checkpoint');
  const treeSize = noteSize(text);
  if (treeSize < 1) fail('TREE_ARGUMENT_INVALID', 'an empty tree has no checkpoint to time-stamp');
  openCheckpoint(text, checkpointVerifiers(g, party, treeSize));
  const ts = timestampingOf(g.accord);
  const imprint = timestampImprint(text);
  const verified: CheckpointTimestamp[] = [];
  const refused: RefusedToken[] = [];
  const seen = new Set<string>();
  for (const t of tokens) {
    if (seen.has(t.authority)) continue; // one token per authority counts
    const authority = ts?.authorities.find((a) => a.name === t.authority);
    if (authority === undefined) {
      refused.push({ authority: t.authority, code: 'TSA_UNTRUSTED', message: `${t.authority} is not a time-stamping authority of the accord` });
      continue;
    }
    try {
      const v = await verifyTimestampToken(t.token, { imprint, authorities: [authority], ...(t.nonce !== undefined ? { nonce: t.nonce } : {}) });
      seen.add(t.authority);
      verified.push({ party, treeSize, authority: t.authority, token: t.token, genTime: v.genTime.getTime(), note: text });
    } catch (e) {
      if (!isParleyError(e)) throw e;
      refused.push({ authority: t.authority, code: e.code, message: e.message, error: e });
    }
  }
  return { treeSize, verified, refused };
}

/**
 * The trusted time of one checkpoint from its verified tokens: the k-th
 * smallest genTime (ms) over distinct authorities, or undefined with fewer
 * than k.
 */
export function trustedTime(rows: readonly { readonly authority: string; readonly genTime: number }[], required: number): number | undefined {
  if (required < 1) return undefined;
  // Core's k-of-n rule (eval/timeline.ts timestampTime), on the store's millisecond times.
  return timestampTime(rows.map((r) => ({ authority: r.authority, genTime: new Date(r.genTime) })), required)?.time.getTime();
}
