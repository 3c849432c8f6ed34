/**
 * Receiving another party's entries: the one verified path that pushed
 * bundles take (http/federation.ts, POST /fed/v1/bundle), and the evidence
 * kept when a party's log shows two histories.
 *
 *     openBundle (core): bundle signature by the sender's log key, addressed
 *       to us, each entry signed by the sender, addressed to us, seq = index,
 *       RFC 9162 inclusion proof against the bundle's checkpoint
 *     → the checkpoint must be the one this node's witness last cosigned for
 *       the sender's log (same size, same root): "in a checkpoint consistent
 *       with everything seen of that log" holds because the witness only
 *       ever cosigns consistent extensions (witness.ts)
 *         same size, other root → a same-size fork: the fork proof is stored
 *                                 (the fork_proofs table, forks.ts), PROOF_INVALID
 *         other size            → 409 with the size we cosigned: the sender
 *                                 adds its checkpoint to our witness first
 *                                 (tlog-witness, with a consistency proof)
 *                                 and pushes again
 *     → ParleyNode.ingestBundle (ingest without checking each entry's
 *       signature twice): stored idempotently by (party, index, hash) and
 *       answered with machine receipts in our log (one per new run);
 *       entries of the sender's log NOT addressed to us (a push carries the
 *       sender's whole tail, issue 9) are verified the same way and go to
 *       the mirror (mirror.ts): no receipt, never in the inbox.
 *
 * A witness holds every entry it cosigns (issue 9, "No rollback"): a
 * witnessed push is cosigned only when this node would then hold every
 * entry of the sender's log below the checkpoint — what it holds (its pull
 * cursor, then received ∪ mirror) plus the bundle's run up to the
 * checkpoint — else 422 PUSH_INCOMPLETE and our pull is poked to take the
 * tail (checkCovered). The anonymous tlog-witness route is not this path.
 *
 * Why the witness first and not a proof inside the bundle: the tlog-witness
 * request already carries exactly that proof and is the one place where
 * the consistency decision and its durable record are made (compare-and-set
 * before a cosignature leaves); a second path would be a second decider. A
 * witnessed push (witnessedPush.ts, {@link receiveWitnessedPush}) carries
 * that request beside the bundle in ONE HTTP request and runs both halves
 * through these same two paths, in this order.
 */
import { type AddCheckpointRequest, type VerifiedBundle, ParleyError, bytesEqual, decodeUtf8, detectFork, fail, formatNote, parseAddCheckpointRequest, parseBase64 } from '@parley/core';
import { accordView, openBundleAt, originOf } from '../epochs.js';
import type { LogStore, WitnessState } from '@parley/store';
import type { ParleyNode, Submitted } from '../service.js';
import type { AddCheckpointRefused } from '../witness.js';
import { recordFork } from './forks.js';
import { mirrorScanned } from './mirror.js';
import { mayHoldActivation } from '../governance/governance.js';
import { parseWitnessedPush } from './witnessedPush.js';
import { traceStep } from './trace.js';

/** The bundle's entries are stored and receipted. */
export interface Received {
  readonly status: 200;
  readonly from: string;
  /** Tree size of the sender's checkpoint the entries were proven against. */
  readonly checkpointSize: number;
  readonly accepted: number;
  readonly duplicates: number;
  readonly receipts: readonly Submitted[];
}

/** The bundle's checkpoint is not the one this node cosigned: nothing was stored. */
export interface NotWitnessed {
  readonly status: 409;
  /** The tree size this node's witness holds for the sender's log (0: none). */
  readonly size: number;
}

/**
 * Verifies and ingests a bundle pushed by `sender`.
 * @param node this node.
 * @param store its store (fork evidence is kept there).
 * @param bytes the core bundle file.
 * @param sender the authenticated party that sent the request.
 * @param witnessed the state this node's witness is writing for the
 *   sender's log (a witnessed push, {@link receiveWitnessedPush}); default:
 *   the state it holds.
 * @returns {@link Received}, or {@link NotWitnessed} when the sender must witness its checkpoint here first.
 * @throws ParseError `BUNDLE_MALFORMED`, `INPUT_TOO_LARGE`; VerificationError
 *   `BUNDLE_INVALID` (including a bundle of a party other than `sender`),
 *   `PROOF_INVALID` (a checkpoint that forks from the one we cosigned; the
 *   fork proof is stored first), and ingest's errors. Nothing is stored on a throw but evidence.
 */
export async function receiveBundle(node: ParleyNode, store: LogStore, bytes: Uint8Array, sender: string, witnessed?: WitnessState): Promise<Received | NotWitnessed> {
  await noteActivations(node, bytes);
  return receiveOpened(node, store, openPushed(node, bytes, sender), witnessed);
}

/**
 * Issue 11: an accord.activation entry in a pushed bundle may change the key
 * its checkpoint and later entries are signed with; governance checks it
 * under its version's key and records it before the bundle is opened
 * (governance.ts noteActivations). The bundle is not trusted here: a bundle
 * that does not parse is left to openBundle's errors.
 */
async function noteActivations(node: ParleyNode, bytes: Uint8Array): Promise<void> {
  if (node.governance === undefined || !mayHoldActivation(bytes)) return;
  let entries: Uint8Array[];
  try {
    const v = JSON.parse(decodeUtf8(bytes)) as { entries?: { entry?: unknown }[] };
    entries = (Array.isArray(v.entries) ? v.entries : []).flatMap((e) => (typeof e?.entry === 'string' ? [parseBase64(e.entry)] : []));
  } catch {
    return;
  }
  if (entries.length > 0) await node.governance.noteActivations(entries);
}

/**
 * Opens a bundle pushed by `sender` (node to node): entries of its log not
 * addressed to us are accepted, verified as the rest, into `others` — a
 * push carries the sender's whole tail (issue 9, "No rollback").
 */
function openPushed(node: ParleyNode, bytes: Uint8Array, sender: string): VerifiedBundle {
  let b: VerifiedBundle;
  try {
    b = openBundleAt(node, bytes, node.party, { others: true });
  } catch (e) {
    // Issue 11: a bundle no key we know verifies may follow an accord version or activation we missed:
    // the pull of the sender's log runs now, and catches up with its chain file (bounded per peer: Governance.catchUp).
    if (e instanceof ParleyError) coverageMissing.get(node)?.(sender);
    throw e;
  }
  if (b.from !== sender) fail('BUNDLE_INVALID', `the bundle is from ${b.from}, but the request is signed by ${sender}`);
  return b;
}

/**
 * {@link receiveBundle} of an opened bundle: the entries addressed to us are
 * ingested (receipts), the others mirrored (no receipt, not in the inbox),
 * both issued together and durable before this returns.
 */
async function receiveOpened(node: ParleyNode, store: LogStore, b: VerifiedBundle, witnessed?: WitnessState): Promise<Received | NotWitnessed> {
  const cp = b.checkpoint.checkpoint;
  const heldSize = await checkWitnessed(node, store, b, witnessed);
  if (heldSize !== cp.treeSize) return { status: 409, size: heldSize };
  const mirrored = mirrorScanned(store, b.from, b.others);
  const [r] = await Promise.all([node.ingestBundle(b), mirrored]);
  return { status: 200, from: b.from, checkpointSize: cp.treeSize, ...r };
}

/**
 * Whether this node holds, or `b` carries, every entry of the sender's log
 * below `size` — what its witness must hold before cosigning a checkpoint
 * of that size on a push (issue 9: "a witness holds every entry it
 * cosigns", so it can give the sender its log back after a rollback).
 * The pull cursor is the held prefix (the pull stores every scanned entry,
 * received or mirrored, before moving it); above it, the held entries are
 * counted (normally the few since the last push).
 */
export async function covers(store: LogStore, party: string, b: VerifiedBundle, size: number): Promise<boolean> {
  const carried = new Set<number>();
  for (const e of b.entries) carried.add(e.index);
  for (const e of b.others) carried.add(e.index);
  // The bundle's contiguous run up to `size`: [from, size).
  let from = size;
  while (from > 0 && carried.has(from - 1)) from--;
  const pulled = (await store.cursor('pull', party))?.treeSize ?? 0;
  // Counted, not read: with pulls every few seconds and pushes many times a second, this range is the
  // entries pushed since the last pull, and a push must not re-read their bytes.
  const at = Math.min(pulled, from);
  return (await store.heldCount(party, at, from)) === from - at;
}

/** A witnessed push's entries are stored and receipted, and its checkpoint cosigned. */
export interface ReceivedWitnessed extends Received {
  /** The witness's cosignature line(s) on the pushed checkpoint (tlog-witness 200 body). */
  readonly cosignatures: Uint8Array;
}

/**
 * Handles a witnessed push (witnessedPush.ts) from `sender`: its
 * add-checkpoint request goes to this node's witness, then its bundle takes
 * {@link receiveBundle} — the two paths two separate requests would take,
 * in the same order, so every check and every durable step is theirs.
 * @returns {@link ReceivedWitnessed} (also when the witness answered 409
 *   because it already holds exactly this checkpoint: its stored
 *   cosignature answers); {@link NotWitnessed} when the witness answered 409
 *   otherwise (the sender's old size is stale) or the bundle's checkpoint is
 *   not the one now held; the witness's refusal (400/403/404/422) as is.
 * @throws ParseError `BUNDLE_MALFORMED` (framing), `WITNESS_REQUEST_MALFORMED`;
 *   VerificationError `BUNDLE_INVALID` for a checkpoint of another log than
 *   the sender's; receiveBundle's errors.
 */
export async function receiveWitnessedPush(node: ParleyNode, store: LogStore, body: Uint8Array, sender: string): Promise<ReceivedWitnessed | NotWitnessed | AddCheckpointRefused> {
  const push = parseWitnessedPush(body);
  await noteActivations(node, push.bundle);
  const request = parseAddCheckpointRequest(push.witness);
  // Only the sender's own log is witnessed on its push (a plain add-checkpoint request may carry any).
  if (request.checkpoint.origin !== originOf(node, sender)) fail('BUNDLE_INVALID', `the pushed checkpoint is not of ${sender}'s log`);
  const bundle = openPushed(node, push.bundle, sender);
  traceStep('push.verified', sender, request.checkpoint.treeSize);
  // A sender may have two pushes in flight (federator.ts): the second, proven from the size the first
  // asks us to cosign, waits for the pushes from that sender that arrived before it.
  const turn = takeTurn(node, sender);
  try {
    await turn.inOrder();
    return await witnessAndReceive(node, store, sender, bundle, request);
  } finally {
    turn.done();
  }
}

/** Longest wait of a witnessed push for the pushes from its sender that arrived before it (ms). */
export const IN_ORDER_WAIT_MS = 5_000;

/** Per node and sender: the witnessed pushes being received, in arrival order. */
const receiving = new WeakMap<ParleyNode, Map<string, Promise<void>[]>>();

/**
 * A witnessed push's place in its sender's queue. `inOrder()` waits,
 * at most {@link IN_ORDER_WAIT_MS}, for the pushes from the same sender
 * that arrived before this one to finish — one of them may be the push that
 * takes our witness to `oldSize`, and its entries below `oldSize` must be
 * stored before this push's coverage is checked — and returns at once when
 * none is still being received (the usual push, proven from what we
 * cosigned). Holding `oldSize` is not enough: the witness state is durable
 * before the earlier push's bundle is ingested, and a push checked in that
 * window would find the entries below `oldSize` missing (PUSH_INCOMPLETE, a
 * spurious link error). Then the push goes its usual way: if the earlier
 * push failed, the witness still holds less than `oldSize` and this one is
 * answered 409 with that size (never cosigned or acknowledged out of
 * order). Only earlier arrivals are waited for, so no two pushes wait for
 * each other.
 */
function takeTurn(node: ParleyNode, sender: string): { inOrder: () => Promise<void>; done: () => void } {
  let bySender = receiving.get(node);
  if (bySender === undefined) receiving.set(node, (bySender = new Map()));
  const queue = bySender.get(sender) ?? [];
  bySender.set(sender, queue);
  const before = [...queue];
  let done!: () => void;
  const mine = new Promise<void>((r) => (done = r));
  queue.push(mine);
  return {
    async inOrder(): Promise<void> {
      const until = Date.now() + IN_ORDER_WAIT_MS;
      let waiting = before;
      for (;;) {
        waiting = waiting.filter((p) => queue.includes(p));
        const left = until - Date.now();
        if (waiting.length === 0 || left <= 0) return;
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([Promise.race(waiting), new Promise<void>((r) => (timer = setTimeout(r, left)))]);
        clearTimeout(timer);
      }
    },
    done(): void {
      const at = queue.indexOf(mine);
      if (at >= 0) queue.splice(at, 1);
      if (queue.length === 0 && bySender.get(sender) === queue) bySender.delete(sender);
      done();
    },
  };
}

/** {@link receiveWitnessedPush} once in order: coverage, witness, bundle. */
async function witnessAndReceive(node: ParleyNode, store: LogStore, sender: string, bundle: VerifiedBundle, request: AddCheckpointRequest): Promise<ReceivedWitnessed | NotWitnessed | AddCheckpointRefused> {
  const stale = await checkCovered(node, store, sender, bundle, request);
  if (stale !== undefined) return stale;
  const w = await node.witness.begin(request);
  if (w.status === 200) {
    // The witness's new state is being written; meanwhile the bundle is
    // checked against it and its entries go to the store (received or
    // mirrored), where they land after that state (writes reach the store
    // in the order they are issued), and nothing — no cosignature — is
    // answered before both are durable.
    const received = receiveOpened(node, store, bundle, w.state);
    const [answer, r] = await Promise.allSettled([w.durable, received]);
    if (answer.status === 'rejected') throw answer.reason;
    if (r.status === 'rejected') throw r.reason;
    // A state moved by another process on the same store (never by this node: the witness holds a lock).
    if (answer.value.status === 409) return { status: 409, size: answer.value.latestSize };
    // ---- our cosignature is durable; it leaves with the answer.
    if (r.value.status === 409) return r.value;
    return { ...r.value, cosignatures: answer.value.body };
  }
  if (w.status !== 409) return w;
  // A stale old size — unless our own pull (or an earlier push) already cosigned exactly this
  // checkpoint: then the bundle is good as it is, and our stored cosignature answers.
  const held = await node.witness.heldCosignature(request);
  if (held === undefined) return { status: 409, size: w.latestSize };
  const r = await receiveOpened(node, store, bundle);
  if (r.status === 409) return r;
  return { ...r, cosignatures: held };
}

/**
 * Refuses a witnessed push whose cosignature would cover entries this node
 * would not hold (see {@link covers}): its bundle must carry the sender's
 * log from what we hold up to the checkpoint it asks us to cosign — unless
 * our witness cosigned exactly that checkpoint already (our pull did, and
 * scans it). An earlier sender pushes only the entries addressed to us: its
 * push is refused until our pull has mirrored the rest, which it is poked
 * to do now. The anonymous tlog-witness route (POST /witness/add-checkpoint)
 * is not this path: it cosigns by consistency proof alone, as C2SP
 * tlog-witness specifies.
 * @returns {@link NotWitnessed} when the witness would answer 409 anyway
 *   (the sender's old size is stale: it learns the size first); undefined to go on.
 * @throws VerificationError `BUNDLE_INVALID` (the bundle's checkpoint is not
 *   the request's), `PUSH_INCOMPLETE`.
 */
async function checkCovered(node: ParleyNode, store: LogStore, sender: string, b: VerifiedBundle, request: AddCheckpointRequest): Promise<NotWitnessed | undefined> {
  const cp = request.checkpoint;
  const bcp = b.checkpoint.checkpoint;
  if (bcp.treeSize !== cp.treeSize || !bytesEqual(bcp.rootHash, cp.rootHash)) fail('BUNDLE_INVALID', 'the bundle is not proven against the checkpoint the push asks to cosign');
  if (await covers(store, sender, b, cp.treeSize)) return undefined;
  if ((await node.witness.heldCosignature(request)) !== undefined) return undefined;
  const heldSize = (await node.witness.latest(sender))?.treeSize ?? 0;
  if (heldSize !== request.oldSize) return { status: 409, size: heldSize };
  coverageMissing.get(node)?.(sender, cp.treeSize);
  fail('PUSH_INCOMPLETE', `the push does not carry every entry of ${sender}'s log up to ${cp.treeSize} that this node lacks`);
}

/**
 * Per node: what to do when a push was refused as incomplete (the federator pulls the sender's log soon),
 * with the size of the pushed checkpoint when it verified under the sender's key (how far its log reached).
 */
const coverageMissing = new WeakMap<ParleyNode, (party: string, size?: number) => void>();

/** Sets the hook {@link checkCovered} calls for a refused incomplete push (the federator's poke). */
export function onPushIncomplete(node: ParleyNode, hook: ((party: string, size?: number) => void) | undefined): void {
  if (hook === undefined) coverageMissing.delete(node);
  else coverageMissing.set(node, hook);
}

/**
 * Compares a verified bundle's checkpoint with the one this node's witness
 * holds for the sender's log (network push and offline import alike).
 * @returns the size held (0: none); equal to the bundle's only when the roots are equal too.
 * @throws VerificationError `PROOF_INVALID` for a same-size checkpoint with
 *   another root, after storing the fork proof.
 */
export async function checkWitnessed(node: ParleyNode, store: LogStore, b: VerifiedBundle, witnessed?: WitnessState): Promise<number> {
  const cp = b.checkpoint.checkpoint;
  const held = witnessed ?? (await node.witness.latest(b.from));
  if (held !== undefined && held.treeSize === cp.treeSize && !bytesEqual(held.rootHash, cp.rootHash)) {
    const proof = detectFork(accordView(node, b.from, cp.treeSize), b.from, held.note, bundleCheckpointNote(b));
    if (proof) await recordFork(store, b.from, proof);
    fail('PROOF_INVALID', 'the checkpoint conflicts with the one this node cosigned');
  }
  return held?.treeSize ?? 0;
}

/** The bundle's checkpoint note with the signatures that verified (log and known cosignatures). */
export function bundleCheckpointNote(b: VerifiedBundle): string {
  const n = b.checkpoint.note;
  return decodeUtf8(formatNote({ text: n.text, signatures: n.verified }));
}

/** Fork evidence lives in forks.ts; re-exported here for the existing API. */
export { recordFork, forksOf } from './forks.js';
