/**
 * PUSH to one peer: our latest checkpoint to its witness, and our entries
 * as a signed core bundle (the format offline delivery uses) — to a peer of
 * this version our WHOLE log tail since its push cursor, entries not
 * addressed to it included (their bodies are sealed to their recipients):
 * its witness cosigns only a checkpoint whose every entry it then holds
 * (received or mirrored, receive.ts), so it can give us our log back after
 * a rollback (issue 9, "No rollback"). A longer tail than a bundle takes is
 * witnessed step by step at our earlier checkpoints (tailPush). A peer of
 * an earlier version answers the tail push's media type 415 and gets the
 * entries addressed to it, as below.
 *
 *     latest checkpoint (size L; the writer's, so proofs up to L exist)
 *     → entries i in [pushed, L) with the peer among `to`, ≤ pushBatch per
 *       bundle, each with its inclusion proof in the tree of size L, signed
 *       by our log key → POST /fed/v1/bundle; while L is not yet cosigned by
 *       the peer, as a witnessed push (witnessedPush.ts): the add-checkpoint
 *       request rides with the bundle, one request per hop —
 *         add-checkpoint: old = the size the peer last cosigned (remembered;
 *         learned from a 409 `<size>\n` answer, tlog-witness), RFC 6962
 *         consistency proof old → L; the cosignature that comes back must
 *         verify under the peer's key (accord) on exactly our checkpoint;
 *         the cosigned note is stored (federation/cosigned/<peer>)
 *         409 `<size>\n`: the peer's witness moved (its own pull witnessed
 *         another size of our log): witness again and re-send
 *     → no entries for the peer, or a peer that answers a witnessed push 415
 *       (an earlier version): POST /witness/add-checkpoint first
 *     → ---- the peer stored them (200): the push cursor moves (durable by
 *       the time pushTo returns; written behind the next request, see pushTo).
 *
 * A push's answer may carry the peer's push back to us (a reply, see
 * {@link replyPush}): its receipts for what we pushed, proven against its new
 * checkpoint, with the add-checkpoint request for our witness — so a FLASH
 * message's receipt comes back on the answer to the request that delivered
 * it, not on a second request the other way. `onReply` takes it through the
 * same two paths a witnessed push received over HTTP takes.
 *
 * Everything here is idempotent: a push repeated after a crash or a lost
 * answer is stored once (receiver: by (party, index, hash)).
 */
import {
  type BundleEntryInput,
  type NoteSignature,
  appendSignatures,
  decodeUtf8,
  formatAddCheckpointRequest,
  openWitnessedCheckpoint,
  parseCheckpoint,
  parseNote,
} from '@parley/core';
import type { LogStore } from '@parley/store';
import type { ParleyNode } from '../service.js';
import { checkpointVerifiers, witnessKeysOf } from '../epochs.js';
import { noteCosigned } from '../deadlines/cosigned.js';
import { PeerError, type PeerClient, type PushBundleResult } from './peer.js';
import { formatWitnessedPush } from './witnessedPush.js';
import { traceStep } from './trace.js';

/** What the pusher remembers per peer (durable copies in settings). */
export interface PushCursor {
  /** Our entries addressed to the peer are delivered below this size of our log. */
  pushed: number;
  /** Size of our checkpoint the peer's witness last cosigned (0: none known). */
  cosigned: number;
  /** Timestamp (POSIX seconds) of that cosignature. */
  cosignedAt?: number;
  /**
   * Size of our checkpoint offered to the peer's witness in a reply whose
   * fate we do not know: the old size of our next add-checkpoint request
   * (tlog-witness clients guess it; a wrong guess costs a 409 naming the size).
   */
  offered?: number;
}

/** Most entries a reply carries; a longer backlog goes by the push loop. */
export const MAX_REPLY_ENTRIES = 64;
/** Most bytes of a reply (base64 inside a JSON answer capped at 1 MiB). */
const MAX_REPLY_BYTES = 512 * 1024;

export async function loadPushCursor(store: LogStore, party: string): Promise<PushCursor> {
  // Typed, forward-only store rows (issue 9), not settings JSON.
  const p = await store.cursor('push', party);
  const c = await store.ownCosigned(party);
  return {
    pushed: p?.treeSize ?? 0,
    cosigned: c?.treeSize ?? 0,
    ...(c?.cosignedAt !== undefined ? { cosignedAt: c.cosignedAt } : {}),
  };
}

/** Rounds of witness-then-bundle before a push gives up until the next attempt. */
const ROUNDS = 3;
const PAGE = 1024;

export interface PushOptions {
  /** Takes the peer's push back from a witnessed push's answer (asked for when given). */
  readonly onReply?: (reply: Uint8Array) => void;
  /**
   * With nothing to push, leave a checkpoint we offered in a reply (cursor.offered)
   * to be witnessed later: the peer is taking it from the reply right now, and
   * its cosignature only tells us what the peer holds.
   */
  readonly deferOffered?: boolean;
  /**
   * Takes the cursor's durable writes (each a function that issues one)
   * instead of pushTo issuing them behind its requests and awaiting them
   * before it returns: the caller issues them when it likes — the federator
   * after the peer's reply has gone to the store, so that they never stand
   * between that reply and its commit — and need not hold the next push
   * until they are durable (losing one to a crash only repeats a push, which
   * the peer stores once, or costs a 409 that names the size).
   */
  readonly persist?: (write: () => Promise<unknown>) => void;
  /**
   * Told before each request of the push: the size of our log the request
   * asks the peer's witness to cosign when it is the push's last (a tail
   * push of everything up to our latest checkpoint), else undefined — the
   * base a second push in flight may be proven from ({@link pushAhead}).
   */
  readonly onSend?: (lastSize: number | undefined) => void;
}

/**
 * One push to `peer` (see the module doc); updates `cursor` in place.
 * @returns the number of entries the peer newly accepted.
 * @throws PeerError; ParleyError for a cosignature that does not verify; StoreError.
 */
export async function pushTo(node: ParleyNode, store: LogStore, peer: PeerClient, cursor: PushCursor, pushBatch: number, o: PushOptions = {}): Promise<number> {
  // The cursor's durable copies are written behind the requests and awaited
  // before returning: losing one to a crash only repeats a push (the peer
  // stores it once) or costs a 409 that names the size, so the next request
  // need not wait for the disk — the round trip of a FLASH message does not.
  // They are not chained: the store applies writes in the order they are
  // issued, each moves its row forward only (a stale one changes nothing), and writes in flight together share a commit.
  const writes: Promise<unknown>[] = [];
  const persist =
    o.persist ??
    ((write: () => Promise<unknown>) => {
      writes.push(write());
    });
  try {
    return await pushRounds(node, store, peer, cursor, pushBatch, persist, o);
  } finally {
    await Promise.all(writes);
  }
}

async function pushRounds(node: ParleyNode, store: LogStore, peer: PeerClient, cursor: PushCursor, pushBatch: number, persist: (write: () => Promise<unknown>) => void, o: PushOptions): Promise<number> {
  let accepted = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const latest = await latestSized(node);
    if (latest === undefined) return accepted;
    const { note, size } = latest;
    let moved = false;
    while (cursor.pushed < size) {
      // A peer of this version takes our whole tail (its witness then holds all it cosigns); an earlier one what is addressed to it.
      const tail = peer.tailPush;
      const { note: at, size: atSize } = tail ? await tailTarget(store, cursor, pushBatch, note, size) : { note, size };
      const entries = tail ? await ownTail(node, store, cursor.pushed, atSize, pushBatch) : await addressed(node, store, peer.party, cursor.pushed, size, pushBatch);
      const next = tail ? cursor.pushed + entries.length : entries.length === pushBatch ? entries[entries.length - 1]!.index + 1 : size;
      if (entries.length > 0) {
        const bundle = bundleFor(node, peer, at, entries);
        // Not yet witnessed there: the add-checkpoint request rides with the bundle (one request).
        let r: PushBundleResult | undefined;
        if (cursor.cosigned !== atSize && peer.witnessedPush) {
          let w;
          try {
            const request = await addRequest(node, peer, cursor, at, atSize);
            o.onSend?.(tail && atSize === size && next === size ? size : undefined);
            traceStep('push.send', node.party, atSize, { from: cursor.pushed, bytes: request.length + bundle.length });
            w = await peer.pushWitnessed(request, bundle, o.onReply !== undefined, tail);
            traceStep('push.answer', node.party, atSize, { bytes: w?.status === 200 ? (w.reply?.length ?? 0) : 0 });
          } catch (e) {
            // The peer holds less of our log than our cursor says (it lost it, or a reply did not arrive): from what it cosigned.
            if (!(tail && isIncomplete(e) && cursor.pushed > cursor.cosigned)) throw e;
            cursor.pushed = cursor.cosigned;
            moved = true;
            break;
          }
          // An earlier version refused our tail (415): push again what is addressed to it.
          if (w === undefined && tail) continue;
          if (w?.status === 200) {
            accept(node, peer, cursor, at, atSize, w.cosignatures, persist);
            if (w.reply !== undefined) o.onReply?.(w.reply);
          }
          r = w;
        }
        if (r === undefined) {
          o.onSend?.(undefined);
          // A peer that takes no witnessed push: witness first, then the bundle.
          if (cursor.cosigned !== atSize) await witnessAt(node, peer, cursor, at, atSize, persist);
          r = await peer.pushBundle(bundle);
        }
        if (r.status === 409) {
          cursor.cosigned = r.size;
          delete cursor.offered;
          moved = true;
          break;
        }
        accepted += r.accepted;
      }
      cursor.pushed = next;
      persist(() => store.advanceCursor('push', peer.party, { treeSize: next, frontier: [] }));
    }
    // Nothing (more) for the peer, but our checkpoint still goes to its witness.
    if (!moved && cursor.cosigned !== size && !(o.deferOffered === true && cursor.offered === size)) {
      o.onSend?.(undefined);
      if (peer.tailPush) moved = await witnessTail(node, peer, cursor, note, size, persist, o);
      else await witnessAt(node, peer, cursor, note, size, persist);
    }
    if (!moved) return accepted;
  }
  throw new PeerError('PEER_REFUSED', peer.party, `${peer.party} kept refusing our checkpoint as not witnessed`, { status: 409 });
}

function isIncomplete(e: unknown): boolean {
  return e instanceof PeerError && e.problemCode === 'PUSH_INCOMPLETE';
}

/**
 * A tail push with nothing left to carry (everything below our checkpoint
 * was pushed): an empty tail bundle with the add-checkpoint request, so the
 * peer's witness cosigns only once it holds what it cosigns (a reply that
 * never arrived is answered PUSH_INCOMPLETE: the tail goes again, from what
 * the peer last cosigned).
 * @returns true when the cursor moved (push again).
 */
async function witnessTail(node: ParleyNode, peer: PeerClient, cursor: PushCursor, note: Uint8Array, size: number, persist: (write: () => Promise<unknown>) => void, o: PushOptions): Promise<boolean> {
  let w;
  try {
    w = await peer.pushWitnessed(await addRequest(node, peer, cursor, note, size), bundleFor(node, peer, note, []), o.onReply !== undefined, true);
  } catch (e) {
    if (!(isIncomplete(e) && cursor.pushed > cursor.cosigned)) throw e;
    cursor.pushed = cursor.cosigned;
    return true;
  }
  if (w === undefined) return true; // an earlier version: push again as one
  if (w.status === 409) {
    cursor.cosigned = w.size;
    delete cursor.offered;
    return true;
  }
  accept(node, peer, cursor, note, size, w.cosignatures, persist);
  if (w.reply !== undefined) o.onReply?.(w.reply);
  return false;
}

/**
 * The checkpoint a tail push from the cursor proves its entries against:
 * our latest when the tail fits in one bundle (`pushBatch` entries);
 * otherwise an earlier checkpoint of ours that a bundle can cover — the
 * peer's witness cosigns only checkpoints whose every entry it holds, so a
 * longer tail is witnessed step by step (the largest published size within
 * the batch, not below what the peer cosigned). Without one (a single
 * commit larger than a batch), the latest: its first bundle is refused as
 * incomplete and the peer's pull takes the tail.
 */
async function tailTarget(store: LogStore, cursor: PushCursor, pushBatch: number, note: Uint8Array, size: number): Promise<{ note: Uint8Array; size: number }> {
  const from = cursor.pushed;
  if (size - from <= pushBatch) return { note, size };
  // The peer's witness already holds a size beyond this batch: prove against that one (it cosigned it).
  if (cursor.cosigned > from + pushBatch && cursor.cosigned <= size) {
    const held = await store.checkpointAt(cursor.cosigned);
    if (held !== undefined) return { note: held, size: cursor.cosigned };
  }
  for (let c = from + pushBatch; c > from && c >= cursor.cosigned; c--) {
    const cp = await store.checkpointAt(c);
    if (cp !== undefined) return { note: cp, size: c };
  }
  return { note, size };
}

/** Our own entries [from, to), at most `max`, with inclusion proofs in the tree of size `to` (a tail push). */
async function ownTail(node: ParleyNode, store: LogStore, from: number, to: number, max: number): Promise<BundleEntryInput[]> {
  const out: BundleEntryInput[] = [];
  for (const e of await store.entries(from, Math.min(to, from + max))) out.push({ index: e.index, bytes: e.bytes, proof: await node.inclusionProof(e.index, to) });
  return out;
}

/** Our latest checkpoint and its tree size (the writer's: proofs up to it exist); undefined while the log is empty. */
async function latestSized(node: ParleyNode): Promise<{ note: Uint8Array; size: number } | undefined> {
  const note = await node.latestCheckpoint();
  return note === undefined ? undefined : { note, size: parseCheckpoint(parseNote(note).text).treeSize };
}

/** Our signed bundle for `peer` of `entries`, proven against the checkpoint `note`. */
function bundleFor(node: ParleyNode, peer: PeerClient, note: Uint8Array, entries: BundleEntryInput[]): Uint8Array {
  return node.signBundle({ accordId: node.accord.id, from: node.party, to: peer.party, created: new Date().toISOString(), checkpoint: decodeUtf8(note), entries });
}

/** Our own entries in [from, to) addressed to `party`, at most `max`, with inclusion proofs in the tree of size `to`. */
async function addressed(node: ParleyNode, store: LogStore, party: string, from: number, to: number, max: number): Promise<BundleEntryInput[]> {
  const out: BundleEntryInput[] = [];
  for (let at = from; at < to && out.length < max; at += PAGE) {
    for (const e of await store.entries(at, Math.min(at + PAGE, to))) {
      if (!e.meta.to.includes(party)) continue;
      out.push({ index: e.index, bytes: e.bytes, proof: await node.inclusionProof(e.index, to) });
      if (out.length === max) break;
    }
  }
  return out;
}

/** Our add-checkpoint request for the checkpoint `note` of `size`, from the size the peer last cosigned. */
async function addRequest(node: ParleyNode, peer: PeerClient, cursor: PushCursor, note: Uint8Array, size: number): Promise<Uint8Array> {
  const old = cursor.offered !== undefined && cursor.offered <= size ? cursor.offered : cursor.cosigned;
  if (old > size) throw new PeerError('PEER_REFUSED', peer.party, `${peer.party} holds a cosigned size ${old} beyond our log (${size})`, { status: 409 });
  const proof = old > 0 && old < size ? await node.consistencyProof(old, size) : [];
  return formatAddCheckpointRequest({ oldSize: old, proof, checkpointNote: note });
}

/** tlog-witness client loop: add-checkpoint with our best guess of the peer's size, once more with the size a 409 names. */
async function witnessAt(node: ParleyNode, peer: PeerClient, cursor: PushCursor, note: Uint8Array, size: number, persist: (write: () => Promise<unknown>) => void): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const r = await peer.addCheckpoint(await addRequest(node, peer, cursor, note, size));
    if (r.status === 409) {
      cursor.cosigned = r.size;
      delete cursor.offered;
      continue;
    }
    return accept(node, peer, cursor, note, size, r.cosignatures, persist);
  }
  throw new PeerError('PEER_REFUSED', peer.party, `${peer.party}'s witness kept answering 409`, { status: 409 });
}

/**
 * Keeps the peer's cosignature of our checkpoint `note` (of `size`).
 * @throws ParleyError when it is not the peer's (its log key as a
 *   cosignature/v1 key) on exactly this checkpoint.
 */
function accept(node: ParleyNode, peer: PeerClient, cursor: PushCursor, note: Uint8Array, size: number, cosignatures: readonly NoteSignature[], persist: (write: () => Promise<unknown>) => void): void {
  keepCosigned(node, peer, cursor, verifiedCosigned(node, peer, note, size, cosignatures), persist);
}

/** The peer's cosignature of our checkpoint, verified (see {@link accept}). */
interface Cosigned {
  readonly size: number;
  /** POSIX seconds. */
  readonly at: number;
  /** The cosigned note. */
  readonly text: string;
}

function verifiedCosigned(node: ParleyNode, peer: PeerClient, note: Uint8Array, size: number, cosignatures: readonly NoteSignature[]): Cosigned {
  const cosigned = appendSignatures(note, cosignatures);
  // Our keys at this size (epochs); the peer's witness key(s), its own or its log key's 0x04 form.
  const w = openWitnessedCheckpoint(cosigned, checkpointVerifiers(node, node.party, size), witnessKeysOf(node, peer.party), { quorum: 1 });
  return { size, at: Math.max(...w.cosignatures.map((c) => c.timestamp)), text: decodeUtf8(cosigned) };
}

function keepCosigned(node: ParleyNode, peer: PeerClient, cursor: PushCursor, c: Cosigned, persist: (write: () => Promise<unknown>) => void): void {
  cursor.cosigned = c.size;
  cursor.cosignedAt = c.at;
  delete cursor.offered;
  persist(() => node.store.advanceOwnCosigned({ witness: peer.party, treeSize: c.size, cosignedAt: c.at, note: c.text }));
  noteCosigned(node.store, { party: node.party, cosigner: peer.party, size: c.size, timestamp: c.at, note: c.text });
}

/** What a push sent ahead ({@link pushAhead}) came back with. */
export type AheadResult =
  | { readonly status: 200; readonly cosigned: Cosigned; readonly accepted: number; readonly reply?: Uint8Array }
  /** Not taken (a 409, or a peer of an earlier version): the push loop pushes again from the cursor. */
  | { readonly status: 'again' };

/**
 * A second push in flight (federator.ts): while a push to size `base` is
 * out, our tail [base, latest) as one witnessed tail push proven from
 * `base` — the size the push in flight asks the peer's witness to cosign.
 * The peer takes the two in arrival order (receive.ts waits for the first);
 * if the first fails, the peer's witness holds less than `base` and this
 * one is answered 409 and changes nothing. Nothing here touches the cursor:
 * the caller applies the result AFTER the first push's own
 * ({@link applyAhead}), so the cursor only ever moves forward in order.
 * @returns undefined when there is nothing beyond `base`, or more than one bundle (`pushBatch`) takes.
 * @throws PeerError; ParleyError for a cosignature that does not verify; StoreError.
 */
export async function pushAhead(node: ParleyNode, store: LogStore, peer: PeerClient, base: number, pushBatch: number): Promise<AheadResult | undefined> {
  if (!peer.witnessedPush || !peer.tailPush) return undefined;
  const latest = await latestSized(node);
  if (latest === undefined || latest.size <= base || latest.size - base > pushBatch) return undefined;
  const { note, size } = latest;
  const entries = await ownTail(node, store, base, size, pushBatch);
  const request = formatAddCheckpointRequest({ oldSize: base, proof: base > 0 ? await node.consistencyProof(base, size) : [], checkpointNote: note });
  const bundle = bundleFor(node, peer, note, entries);
  traceStep('push.send', node.party, size, { from: base, bytes: request.length + bundle.length });
  const w = await peer.pushWitnessed(request, bundle, true, true);
  traceStep('push.answer', node.party, size, { bytes: w?.status === 200 ? (w.reply?.length ?? 0) : 0 });
  if (w === undefined || w.status === 409) return { status: 'again' };
  return { status: 200, cosigned: verifiedCosigned(node, peer, note, size, w.cosignatures), accepted: w.accepted, ...(w.reply !== undefined ? { reply: w.reply } : {}) };
}

/**
 * Applies a push sent ahead that was taken, once the push before it
 * returned: the peer's witness cosigned `size` and so holds every entry
 * below it (receive.ts covers), so the cursor moves there — forward only.
 */
export function applyAhead(node: ParleyNode, store: LogStore, peer: PeerClient, cursor: PushCursor, c: Cosigned, persist: (write: () => Promise<unknown>) => void): void {
  if (c.size <= cursor.cosigned) return;
  if (cursor.pushed < c.size) {
    cursor.pushed = c.size;
    persist(() => store.advanceCursor('push', peer.party, { treeSize: c.size, frontier: [] }));
  }
  keepCosigned(node, peer, cursor, c, persist);
}

/**
 * The push back to `peer` that rides on our answer to its witnessed push (a
 * reply): our entries addressed to it (with `tail`, for a peer that sent a
 * tail push: our whole tail, as a push would carry it) from the push cursor up to our latest
 * checkpoint — after ingesting its push, our receipts for it — as a
 * witnessed push body (witnessedPush.ts), whose add-checkpoint request
 * offers that checkpoint to its witness. The cursor moves as if the push
 * had been answered: a reply that is lost is healed by the peer's pull, and
 * the next add-checkpoint request guesses the offered size.
 * @returns undefined when there is nothing to send, or more than a reply
 *   carries (the push loop sends it).
 */
export async function replyPush(node: ParleyNode, store: LogStore, peer: PeerClient, cursor: PushCursor, tail = false): Promise<Uint8Array | undefined> {
  const latest = await latestSized(node);
  if (latest === undefined) return undefined;
  const { note, size } = latest;
  if (cursor.pushed >= size || size - cursor.pushed > (tail ? 1 : 4) * MAX_REPLY_ENTRIES) return undefined;
  const entries = tail ? await ownTail(node, store, cursor.pushed, size, MAX_REPLY_ENTRIES) : await addressed(node, store, peer.party, cursor.pushed, size, MAX_REPLY_ENTRIES + 1);
  if (entries.length === 0 || entries.length > MAX_REPLY_ENTRIES) return undefined;
  const bundle = bundleFor(node, peer, note, entries);
  if (bundle.length > MAX_REPLY_BYTES) return undefined;
  const body = formatWitnessedPush({ witness: await addRequest(node, peer, cursor, note, size), bundle });
  cursor.pushed = size;
  cursor.offered = size;
  // Written behind the answer: losing it to a crash only repeats a push, which the peer stores once.
  store.advanceCursor('push', peer.party, { treeSize: size, frontier: [] }).catch(() => undefined);
  return body;
}
