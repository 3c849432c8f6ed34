/**
 * Received bodies are checked as strictly as the ones we send (issue 9).
 *
 * Every entry received from another party — by push, pull, gossip or bundle
 * import, all through ParleyNode's ingest — has its body (clear, or sealed
 * once opened for us) checked against its type's check in core's registry
 * (core entry/bodies.ts, `checkBody`) before it is stored. (An entry of a
 * type this node does not know has no check: it is stored and receipted
 * like any other, core entry/registry.ts.) An entry whose body fails is:
 *
 * - still STORED, as the sender signed it: it is part of the sender's log
 *   (refusing it would stall the pull cursor at that index forever and lose
 *   the evidence that the sender signed a malformed entry). Its store
 *   metadata carries nothing read from the body (no `incident`), so no index
 *   files it as a valid report; the indexes also check every body they read
 *   (incidents.ts, deadlines/tracker.ts) and skip and report a bad one.
 * - ANSWERED with a signed rejection instead of a receipt: a machine
 *   `receipt` entry in OUR log referencing that one entry, whose clear body is
 *
 *       {"receivedAt": …, "status": "rejected", "code": "ENTRY_MALFORMED",
 *        "reason": "body.title: missing"}
 *
 *   written in the same transaction as the entry (like every receipt), so it
 *   is delivered back to the sender by the ordinary federation paths. It is
 *   a receipt, not a new entry type, because it is one: proof the entry
 *   arrived (the receipt deadline is met) — plus proof of why it will never
 *   be acknowledged. Older nodes read it as a plain receipt.
 * - SURFACED at the sender: its deadline tracker files the rejection as the
 *   delivery's answer (state `rejected`, settled, no acknowledgement due —
 *   deadlines/state.ts), so the outbox, GET /v1/deadlines and the `deadline`
 *   event stream show it, and the same happens on the receiver's side.
 *
 * The reason is the check's message: the path of the offending member and
 * what was wanted (core shape.ts), never a value from the body — a sealed
 * body's content does not leak into the clear rejection.
 *
 * Records carry their rejection from the check to the receipt writer through
 * a WeakMap, so the store's record type is unchanged.
 */
import { type EntryRef, type EntryType, type JsonValue, type Marking, type Precedence, type ReceiptBody, type SignedEntry, bodyProblem, formatBase64, isKnownType, parseEntry, receiptRejection } from '@parley/core';
import type { LogStore, ReceivedEntry } from '@parley/store';
import { type HeldEntry, evaluationProblem, isEvaluationType, storeLookup } from './evaluations/refs.js';

/** Why a received entry was refused. */
export interface Rejection {
  /** Stable error code (docs/errors.md). */
  readonly code: string;
  readonly reason: string;
}

const rejections = new WeakMap<ReceivedEntry, Rejection>();
/** Longest reason carried (the receipt check allows 2,000). */
const MAX_REASON = 500;

/**
 * The rejection of a received entry's body, or undefined when it is good —
 * or of a type this node does not know: such a body cannot be checked, and
 * the entry is stored and receipted like any other (core entry/registry.ts,
 * the unknown-type rule), never rejected for being new.
 * @param body the clear body, or the sealed one as opened for us.
 */
export function judgeReceivedBody(e: SignedEntry, body: JsonValue): Rejection | undefined {
  if (!isKnownType(e.type)) return undefined;
  const p = bodyProblem(e.type, body);
  return p ? { code: p.code, reason: p.message.slice(0, MAX_REASON) } : undefined;
}

/** Received evaluation entries with their parsed envelope and (clear or opened) body, for {@link judgeReferences}. */
const opened = new WeakMap<ReceivedEntry, { entry: SignedEntry; body: JsonValue }>();

/** Keeps `r`'s parsed entry and body when its references must be judged (evaluation types, retractions); returns `r`. */
export function withOpened(r: ReceivedEntry, entry: SignedEntry, body: JsonValue): ReceivedEntry {
  if (isEvaluationType(entry.type) || entry.type === 'retraction') opened.set(r, { entry, body });
  return r;
}

/** The parsed entry and body kept by {@link withOpened}. */
export function openedOf(r: ReceivedEntry): { readonly entry: SignedEntry; readonly body: JsonValue } | undefined {
  return opened.get(r);
}

/**
 * Judges the references of the received evaluation entries of one ingest
 * (evaluations/refs.ts: the rules submissions follow) and files a rejection
 * for each that breaks one. A referenced entry may be held already or come
 * in the same batch (a pull brings a commitment and its reveal together).
 * Entries whose body already failed are left as they are.
 */
export async function judgeReferences(store: LogStore, self: string, records: readonly ReceivedEntry[]): Promise<void> {
  if (!records.some((r) => opened.has(r) && isEvaluationType(r.meta.type))) return;
  const held = storeLookup(store, self);
  const batch = new Map<string, HeldEntry>();
  for (const r of records) {
    const o = opened.get(r);
    if (o) batch.set(`${r.party}/${r.index}`, { party: r.party, index: r.index, leafHash: r.leafHash, bytes: r.bytes, entry: o.entry });
  }
  const lookup = async (party: string, index: number) => batch.get(`${party}/${index}`) ?? (await held(party, index));
  for (const r of records) {
    const o = opened.get(r);
    if (o === undefined || rejections.has(r) || !isEvaluationType(o.entry.type)) continue;
    const p = await evaluationProblem({ type: o.entry.type, from: o.entry.from.party, seq: o.entry.seq, refs: o.entry.refs, body: o.body }, lookup, 'ingest');
    if (p) rejections.set(r, { code: p.code, reason: p.message.slice(0, MAX_REASON) });
  }
}

/** Files `r`'s rejection (if any) for the receipt writer; returns `r`. */
export function withRejection(r: ReceivedEntry, rejection: Rejection | undefined): ReceivedEntry {
  if (rejection) rejections.set(r, rejection);
  return r;
}

/** The rejection filed for `r` by {@link withRejection}. */
export function rejectionOf(r: ReceivedEntry): Rejection | undefined {
  return rejections.get(r);
}

/** True when `r` must be answered: every entry but a receipt, and a rejected receipt too. */
export function needsAnswer(r: ReceivedEntry): boolean {
  return r.meta.type !== 'receipt' || rejections.has(r);
}

/** The draft of the signed rejection of `r`: a machine receipt referencing it alone. */
export function rejectionDraft(r: ReceivedEntry, rejection: Rejection, receivedAt: string): { type: EntryType; to: string[]; precedence: Precedence; marking: Marking; refs: EntryRef[]; body: ReceiptBody } {
  return {
    type: 'receipt',
    to: [r.party],
    precedence: r.meta.precedence as Precedence,
    marking: 'TLP:CLEAR',
    refs: [{ party: r.party, index: r.index, hash: formatBase64(r.leafHash) }],
    body: { receivedAt, status: 'rejected', code: rejection.code, reason: rejection.reason },
  };
}

const MARK = new TextEncoder().encode('"status":"rejected"');

/**
 * The rejection a receipt entry's bytes carry, if any. Cheap for plain
 * receipts: the canonical JSON of a rejection has the member spelled exactly
 * so (inside a string its quotes would be escaped), so bytes without it are
 * not parsed.
 */
export function rejectionInEntry(bytes: Uint8Array): Rejection | undefined {
  if (!contains(bytes, MARK)) return undefined;
  try {
    const e = parseEntry(bytes);
    return e.type === 'receipt' && 'clear' in e.body ? receiptRejection(e.body.clear) : undefined;
  } catch {
    return undefined;
  }
}

function contains(hay: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}
