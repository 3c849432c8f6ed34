/**
 * Federator: delivery between this node and every other party's node, by
 * push and by pull, each link retried on its own with exponential backoff
 * and jitter (issue 4, "Delivery").
 *
 *     two loops per peer ("link"), each running one operation at a time:
 *       push   when our log grew (ParleyNode.onAppend) — push.ts
 *       pull   every pollMs — pull.ts, then gossip
 *       failure → that loop retries after min(maxMs, baseMs · 2^(failures−1)) · (1 − jitter·U[0,1));
 *                 its first success resets its count; the link reports the worse of the two
 *       contact → a signed request FROM the peer (its push, its add-checkpoint) proves it is up:
 *                 a loop backing off because the peer could not be reached at all
 *                 (PEER_UNREACHABLE: refused, reset) retries now ({@link Federator.contact},
 *                 at most once per {@link CONTACT_RETRY_MS} per loop), rather than at the end
 *                 of a wait that grew while the peer was down. Not after a timeout or a
 *                 refusal: a peer that is up but overloaded gets the whole wait.
 *
 * Why contact counts (issue 14, the soak's "witnessing lag after restart
 * 10–20 s"): a peer down for T seconds leaves our loops waiting up to about
 * T more (the doubling wait), long after it is back — and the witnessing of
 * our log by it, which dates our entries and its answers (deadlines), waits
 * with them. The restarted peer's own loops start fresh and push to us at
 * once: that push is the news that it is back. The longest wait is
 * {@link DEFAULT_MAX_BACKOFF_MS} (was 30 s): a partition that heals while
 * both sides wait is retried by the first side whose wait ends, and its
 * push is the other side's contact.
 *
 * Why push has its own loop: a FLASH message and the receipt that answers
 * it travel by push, and a push waiting behind a pull-and-gossip round (six
 * requests or more) would add that round to every round trip. The two share
 * nothing but the peer: push moves our log at the peer's witness (push
 * cursor), pull moves the peer's log at ours (pull cursor), and every
 * receive is idempotent, so running them side by side changes no outcome.
 *
 * After each pull round the link gossips (gossip.ts): it asks the peer what
 * it cosigned of every other party's log and which fork proofs it holds, and
 * compares with what we hold, so a split view is caught within one poll
 * interval. A gossip failure is reported (onError) but does not fail the link.
 * A peer we hold a fork proof against is quarantined: its pull fails with
 * ForkDetected (nothing fetched or ingested) and its link is down.
 *
 * A push's answer carries the peer's push back when it has one ready
 * (push.ts replyPush): a witnessed push asks for it, the peer's federator
 * builds it under that link's push lock ({@link pushReplierOf}, called by
 * the HTTP handler), and it is received here in arrival order, through the
 * same witness-then-bundle path as a push over HTTP. A reply that does not
 * take (lost, or a witness that moved) wakes the pull, which heals it.
 *
 * A peer may also publish its log as a static mirror (issue 14; the
 * operator names it: `parley serve --peer-mirror CN=URL`, mirrorSource.ts).
 * The pull then has two sources: the peer's node first, and its mirror when
 * the node fails (down, timing out, refusing, or answering what does not
 * verify) — or the other way round when the mirror is preferred. Both are
 * checked the same way (pull.ts); a fork proof from either stops the round
 * (no fallback past evidence). The link reports which source the last pull
 * read ({@link LinkState.pullSource}) and why the other failed. Push and
 * gossip need the node: a mirror is read-only files.
 *
 * A preferred mirror must be fresh: the peer's node tells us how far its log
 * reached — the checkpoint of a push our witness refused as incomplete
 * (verified under the peer's key, receive.ts), the checkpoints our pulls
 * read from the node — and what our witness cosigned. A mirror whose
 * checkpoint lags the largest of these by more than
 * {@link FederatorOptions.mirrorMaxLag} entries is refused before anything
 * is read from it (PEER_REFUSED), and the pull reads the node; link health
 * says so (pullSource `node`, fallbackFrom the mirror's refusal).
 *
 * A lost push is healed by the next pull (the peer scans our log from its
 * cursor); a partition heals exactly once on both sides (every receive is
 * idempotent by (party, index, hash), and ingest writes one receipt per
 * new entry). Cursors are durable (keys.ts); link state is in memory and
 * exposed by {@link Federator.links} for link health.
 *
 * @example
 *   const fed = await Federator.start(node, store, peersOf(node), { pollMs: 2000 });
 *   …
 *   await fed.stop();
 */
import { isParleyError, parseCheckpoint, parseNote } from '@parley/core';
import type { LogStore } from '@parley/store';
import { type LinkSource, attachLinkSource, federatorLinkSource, linkSourceOf } from '../deadlines/heartbeat.js';
import type { ParleyNode } from '../service.js';
import { PeerError, type PeerClient } from './peer.js';
import { type CompactRange, type PullSource, ForkDetected, loadPullCursor, pullFrom } from './pull.js';
import type { MirrorClient } from './mirrorSource.js';
import { type AheadResult, type PushCursor, applyAhead, loadPushCursor, pushAhead, pushTo, replyPush } from './push.js';
import { onPushIncomplete, receiveWitnessedPush } from './receive.js';
import { forksOf, onForkRecorded } from './forks.js';
import { type LogSource, gossipWith, ownLogSource, peerLogSource } from './gossip.js';

/** Default longest retry delay (ms; see the module doc). */
export const DEFAULT_MAX_BACKOFF_MS = 10_000;
/** Least time between two retries of one loop brought forward by the peer's contact (ms). */
export const CONTACT_RETRY_MS = 1_000;

export interface BackoffOptions {
  /** First retry delay (default 250 ms). */
  readonly baseMs: number;
  /** Longest delay (default {@link DEFAULT_MAX_BACKOFF_MS}). */
  readonly maxMs: number;
  /** Fraction of the delay drawn at random, 0 … 1 (default 0.5). */
  readonly jitter: number;
}

export interface FederatorOptions {
  /** Pull interval per peer (default 5 s). */
  readonly pollMs?: number;
  /** Most entries per pushed bundle (default 256). */
  readonly pushBatch?: number;
  readonly backoff?: Partial<BackoffOptions>;
  /** Called on every failed attempt (for the node's log); must not throw. */
  readonly onError?: (party: string, error: unknown) => void;
  /** Random source for jitter (tests: deterministic). */
  readonly random?: () => number;
  /** Static mirrors of peers' logs, by party (mirrorSource.ts): the pull reads one when the node fails. */
  readonly mirrors?: Readonly<Record<string, MirrorClient>>;
  /** Parties whose mirror is read first, their node only when the mirror fails. */
  readonly preferMirror?: readonly string[];
  /**
   * Most entries a preferred mirror's checkpoint may lag what the peer's node
   * showed us of its log (default {@link DEFAULT_MIRROR_MAX_LAG}); beyond it
   * the node is read (see the module doc).
   */
  readonly mirrorMaxLag?: number;
}

/** Default {@link FederatorOptions.mirrorMaxLag}: one full tile of entries. */
export const DEFAULT_MIRROR_MAX_LAG = 256;

/** The state of one link, for link health (times are this node's clock, ISO 8601). */
export interface LinkState {
  readonly party: string;
  readonly url: string;
  /** Last push or pull that completed. */
  readonly lastContact?: string;
  /** The peer's latest verified checkpoint size, and when it was fetched. */
  readonly lastCheckpoint?: { readonly size: number; readonly at: string };
  /** Size of the peer's log this node has cosigned and scanned. */
  readonly witnessedSize: number;
  readonly scannedSize: number;
  /** Size of our log the peer last cosigned, and the cosignature time (POSIX seconds). */
  readonly cosignedByPeer?: { readonly size: number; readonly timestamp?: number };
  /** Our log is pushed up to this size. */
  readonly pushedSize: number;
  readonly consecutiveFailures: number;
  readonly lastError?: { readonly code: string; readonly message: string; readonly at: string };
  /** When the next attempt may run after failures. */
  readonly retryAt?: string;
  /** Fork proofs held against the peer's log. */
  readonly forks: number;
  /** Entries the peer logged for us that do not verify (index and code), most recent 16. */
  readonly rejected: readonly { readonly index: number; readonly code: string }[];
  /** The peer's static mirror, when one is configured. */
  readonly mirrorUrl?: string;
  /** Where the last successful pull read the peer's log: its node or its mirror. */
  readonly pullSource?: 'node' | 'mirror';
  /** Why the last pull did not read the other source (the node when it read the mirror, and the reverse). */
  readonly fallbackFrom?: { readonly source: 'node' | 'mirror'; readonly code: string; readonly message: string; readonly at: string };
}

/** One loop's retry state (push or pull). */
/** A preferred mirror refused for lagging what the peer's node showed (#freshMirror): read anyway when the node fails too. */
class MirrorLagging extends PeerError {}

class Lane {
  retryAt = 0;
  failures = 0;
  /** When the peer's contact last brought a retry forward (ms). */
  contactRetry = 0;
  /** The last failure found the peer unreachable (no connection), not slow or refusing. */
  unreachable = false;
  wake: () => void = () => undefined;
  done: Promise<void> = Promise.resolve();
}

class Link {
  readonly peer: PeerClient;
  /** The peer's static mirror (a second pull source), if configured. */
  mirror: MirrorClient | undefined;
  preferMirror = false;
  pullSource: 'node' | 'mirror' | undefined;
  fallbackFrom: { source: 'node' | 'mirror'; code: string; message: string; at: number } | undefined;
  /** The largest size of the peer's log its node showed us (a verified checkpoint: an incomplete push, a pull from the node). */
  nodeSize = 0;
  push: PushCursor;
  pull: CompactRange;
  pushWanted = true;
  /** Called on the next append of our log (a push in flight waits for it to send a second, {@link Federator}). */
  appended: (() => void) | undefined;
  nextPull = 0;
  /** When to witness a checkpoint offered in a reply that the peer has not cosigned back (0: none due). */
  cosignAt = 0;
  /** A push to the peer is being made (the loop's); no reply is built meanwhile. */
  pushing = false;
  /** Pushes from the peer being received, each with its reply; the loop waits for them. */
  readonly holds = new Set<Promise<unknown>>();
  /** A reply is being built (one at a time: they move the push cursor). */
  replying = false;
  /** Replies received from the peer, taken one after another. */
  replies: Promise<void> = Promise.resolve();
  /** The push cursor's durable writes in flight (issued behind the replies; stop() waits for them). */
  readonly writes = new Set<Promise<void>>();
  readonly pushLane = new Lane();
  readonly pullLane = new Lane();
  witnessedSize = 0;
  forks = 0;
  lastContact: number | undefined;
  lastCheckpoint: { size: number; at: number } | undefined;
  lastError: { code: string; message: string; at: number } | undefined;
  rejected: { index: number; code: string }[] = [];

  constructor(peer: PeerClient, push: PushCursor, pull: CompactRange) {
    this.peer = peer;
    this.push = push;
    this.pull = pull;
  }

  /** The worse of the two loops. */
  get failures(): number {
    return Math.max(this.pushLane.failures, this.pullLane.failures);
  }

  get retryAt(): number {
    return Math.max(this.pushLane.failures > 0 ? this.pushLane.retryAt : 0, this.pullLane.failures > 0 ? this.pullLane.retryAt : 0);
  }

  wake(): void {
    this.pushLane.wake();
    this.pullLane.wake();
  }
}

const iso = (t: number) => new Date(t).toISOString();

/**
 * Runs `receive` (a witnessed push from `party`) and then builds this node's
 * push back to it for the answer, if one is ready (`back`), while that
 * link's push loop waits: the receipts that the push produced go on its answer.
 */
export type PushReplier = <R>(party: string, receive: () => Promise<R>, took: (r: R) => boolean, tail?: boolean) => Promise<{ r: R; back?: Uint8Array }>;
const repliers = new WeakMap<ParleyNode, PushReplier>();
const federators = new WeakMap<ParleyNode, Federator>();

/**
 * Tells the node's running federator, if any, that `party`'s node reached
 * us with a signed request (http/federation.ts authenticateNode): its links'
 * backoff ends ({@link Federator.contact}). Never throws.
 */
export function peerContacted(node: ParleyNode, party: string): void {
  federators.get(node)?.contact(party);
}

/** The running federator's {@link PushReplier} for this node, if any (the HTTP push handler asks it). */
export function pushReplierOf(node: ParleyNode): PushReplier | undefined {
  return repliers.get(node);
}

export class Federator {
  readonly #node: ParleyNode;
  readonly #store: LogStore;
  readonly #links: Link[];
  readonly #pollMs: number;
  readonly #pushBatch: number;
  readonly #backoff: BackoffOptions;
  readonly #onError: (party: string, error: unknown) => void;
  readonly #random: () => number;
  readonly #mirrors: Readonly<Record<string, MirrorClient>>;
  readonly #preferMirror: readonly string[];
  readonly #mirrorMaxLag: number;
  #stopped = false;
  #unsubscribe: () => void = () => undefined;
  #unwatchForks: () => void = () => undefined;
  readonly #source: LinkSource = federatorLinkSource(this);

  private constructor(node: ParleyNode, store: LogStore, links: Link[], o: FederatorOptions) {
    this.#node = node;
    this.#store = store;
    this.#links = links;
    this.#pollMs = o.pollMs ?? 5_000;
    this.#pushBatch = o.pushBatch ?? 256;
    this.#backoff = { baseMs: 250, maxMs: DEFAULT_MAX_BACKOFF_MS, jitter: 0.5, ...o.backoff };
    this.#onError = o.onError ?? (() => undefined);
    this.#random = o.random ?? Math.random;
    this.#mirrors = o.mirrors ?? {};
    this.#preferMirror = o.preferMirror ?? [];
    this.#mirrorMaxLag = o.mirrorMaxLag ?? DEFAULT_MIRROR_MAX_LAG;
    if (!Number.isSafeInteger(this.#mirrorMaxLag) || this.#mirrorMaxLag < 0) throw new RangeError('mirrorMaxLag must be a non-negative integer');
    if (!(this.#pollMs > 0) || !Number.isSafeInteger(this.#pushBatch) || this.#pushBatch < 1) throw new RangeError('pollMs must be > 0 and pushBatch a positive integer');
  }

  /**
   * Loads the durable cursors and starts one loop per peer (first push and pull at once).
   * @param peers one client per other party (peersOf).
   */
  static async start(node: ParleyNode, store: LogStore, peers: readonly PeerClient[], o: FederatorOptions = {}): Promise<Federator> {
    const links: Link[] = [];
    for (const p of peers) {
      const link = new Link(p, await loadPushCursor(store, p.party), await loadPullCursor(store, p.party));
      link.forks = (await forksOf(store, p.party)).length;
      link.mirror = o.mirrors?.[p.party];
      link.preferMirror = link.mirror !== undefined && (o.preferMirror ?? []).includes(p.party);
      links.push(link);
    }
    const f = new Federator(node, store, links, o);
    f.#unsubscribe = node.onAppend(() => {
      for (const l of f.#links) {
        l.pushWanted = true;
        l.appended?.();
        l.wake();
      }
    });
    // A proof kept anywhere on this node (push, pull, gossip, import) marks its link at once.
    f.#unwatchForks = onForkRecorded(store, (party) => {
      const l = f.#links.find((x) => x.peer.party === party);
      if (l) void forksOf(store, party).then((p) => (l.forks = p.length), () => undefined);
    });
    for (const l of links) {
      l.pushLane.done = f.#runPush(l);
      l.pullLane.done = f.#runPull(l);
    }
    // Link health (GET /v1/links) folds the transport state in (down on failures or a held fork proof).
    attachLinkSource(node, f.#source);
    // A push refused as incomplete (receive.ts): our pull takes the sender's tail into the mirror soon.
    onPushIncomplete(node, (party, size) => {
      if (size !== undefined) f.#nodeShowed(party, size);
      f.poke(party);
    });
    repliers.set(node, f.#replier);
    federators.set(node, f);
    return f;
  }

  /**
   * Adds a link to a party that joined the channel (issue 11: an accord
   * version adding it was activated here) and starts its loops; a party
   * already linked is left as it is.
   */
  async addPeer(peer: PeerClient): Promise<void> {
    if (this.#stopped || this.#links.some((l) => l.peer.party === peer.party)) return;
    const link = new Link(peer, await loadPushCursor(this.#store, peer.party), await loadPullCursor(this.#store, peer.party));
    link.forks = (await forksOf(this.#store, peer.party)).length;
    link.mirror = this.#mirrors[peer.party];
    link.preferMirror = link.mirror !== undefined && this.#preferMirror.includes(peer.party);
    if (this.#stopped || this.#links.some((l) => l.peer.party === peer.party)) return;
    this.#links.push(link);
    link.pushWanted = true;
    link.pushLane.done = this.#runPush(link);
    link.pullLane.done = this.#runPull(link);
  }

  /** Stops the loops after their current request; resolves when they have ended. Cursors are durable already. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe();
    this.#unwatchForks();
    if (linkSourceOf(this.#node) === this.#source) attachLinkSource(this.#node, undefined);
    if (repliers.get(this.#node) === this.#replier) repliers.delete(this.#node);
    if (federators.get(this.#node) === this) federators.delete(this.#node);
    onPushIncomplete(this.#node, undefined);
    for (const l of this.#links) l.wake();
    await Promise.all(this.#links.flatMap((l) => [l.pushLane.done, l.pullLane.done, l.replies, ...[...l.holds].map((h) => h.catch(() => undefined))]));
    await Promise.all(this.#links.flatMap((l) => [...l.writes]));
  }

  /** The peer's node showed us a verified checkpoint of its log of `size`. */
  #nodeShowed(party: string, size: number): void {
    const l = this.#links.find((x) => x.peer.party === party);
    if (l !== undefined && size > l.nodeSize) l.nodeSize = size;
  }

  /** Asks every link to pull now (and push if needed), skipping the wait — but not a backoff. */
  poke(party?: string): void {
    for (const l of this.#links) {
      if (party !== undefined && l.peer.party !== party) continue;
      l.nextPull = 0;
      l.wake();
    }
  }

  /**
   * `party`'s node reached us (a signed request it made): it is up, so each
   * of its link's loops that is waiting out a backoff after finding it
   * unreachable (PEER_UNREACHABLE; not a timeout or a refusal: an overloaded
   * peer is not hurried) retries now — at most
   * once per {@link CONTACT_RETRY_MS} per loop, so a peer that can reach us
   * while we cannot reach it (a one-way cut) costs one attempt a second. The
   * failure count stays until an attempt succeeds.
   */
  contact(party: string): void {
    const l = this.#links.find((x) => x.peer.party === party);
    if (l === undefined || this.#stopped) return;
    const now = Date.now();
    for (const lane of [l.pushLane, l.pullLane]) {
      if (lane.failures === 0 || !lane.unreachable || lane.retryAt <= now || now - lane.contactRetry < CONTACT_RETRY_MS) continue;
      lane.contactRetry = now;
      lane.retryAt = now;
      if (lane === l.pullLane) l.nextPull = 0;
      lane.wake();
    }
  }

  /** The state of every link. */
  links(): LinkState[] {
    return this.#links.map((l) => ({
      party: l.peer.party,
      url: l.peer.url,
      ...(l.lastContact !== undefined ? { lastContact: iso(l.lastContact) } : {}),
      ...(l.lastCheckpoint ? { lastCheckpoint: { size: l.lastCheckpoint.size, at: iso(l.lastCheckpoint.at) } } : {}),
      witnessedSize: l.witnessedSize,
      scannedSize: l.pull.size,
      ...(l.push.cosigned > 0 ? { cosignedByPeer: { size: l.push.cosigned, ...(l.push.cosignedAt !== undefined ? { timestamp: l.push.cosignedAt } : {}) } } : {}),
      pushedSize: l.push.pushed,
      consecutiveFailures: l.failures,
      ...(l.lastError ? { lastError: { code: l.lastError.code, message: l.lastError.message, at: iso(l.lastError.at) } } : {}),
      ...(l.failures > 0 ? { retryAt: iso(l.retryAt) } : {}),
      forks: l.forks,
      rejected: [...l.rejected],
      ...(l.mirror !== undefined ? { mirrorUrl: l.mirror.url } : {}),
      ...(l.pullSource !== undefined ? { pullSource: l.pullSource } : {}),
      ...(l.fallbackFrom !== undefined ? { fallbackFrom: { ...l.fallbackFrom, at: iso(l.fallbackFrom.at) } } : {}),
    }));
  }

  async #runPush(l: Link): Promise<void> {
    const lane = l.pushLane;
    while (!this.#stopped) {
      const cosignDue = l.cosignAt > 0 && Date.now() >= l.cosignAt;
      if (Date.now() >= lane.retryAt && (l.pushWanted || cosignDue)) await this.#push(l, cosignDue);
      if (this.#stopped) break;
      const until = lane.failures > 0 ? lane.retryAt : l.pushWanted ? Date.now() : l.cosignAt > 0 ? l.cosignAt : Number.POSITIVE_INFINITY;
      await this.#sleep(lane, until - Date.now());
    }
  }

  async #runPull(l: Link): Promise<void> {
    const lane = l.pullLane;
    while (!this.#stopped) {
      const now = Date.now();
      if (now >= lane.retryAt && now >= l.nextPull) await this.#pull(l);
      if (this.#stopped) break;
      await this.#sleep(lane, (lane.failures > 0 ? lane.retryAt : l.nextPull) - Date.now());
    }
  }

  async #push(l: Link, cosignDue = false): Promise<void> {
    // A push from the peer being received answers with our push back: wait for it. The
    // check and the take are one synchronous step, so no reply starts in between.
    while (l.holds.size > 0) await Promise.allSettled([...l.holds]);
    l.pushing = true;
    l.pushWanted = false;
    l.cosignAt = 0;
    const writes: (() => Promise<unknown>)[] = [];
    const persist = (w: () => Promise<unknown>) => void writes.push(w);
    let failure: { e: unknown } | undefined;
    try {
      /** The size the first push's last request asks the peer to cosign, while it is out. */
      let base: number | undefined;
      const first = pushTo(this.#node, this.#store, l.peer, l.push, this.#pushBatch, { onReply: (reply) => this.#takeReply(l, reply), deferOffered: !cosignDue, persist, onSend: (size) => (base = size) });
      const ahead = this.#sendAhead(l, first, () => base);
      try {
        await first;
      } catch (e) {
        failure = { e };
      }
      // The second push's result goes to the cursor only after the first's (forward, in order).
      const second = await ahead;
      if (second?.status === 200) {
        applyAhead(this.#node, this.#store, l.peer, l.push, second.cosigned, persist);
        if (second.reply !== undefined) this.#takeReply(l, second.reply);
      } else if (second !== undefined) l.pushWanted = true;
      // A checkpoint offered in a reply is witnessed here later, unless a push brings its cosignature back first.
      if (failure === undefined && l.push.offered !== undefined) l.cosignAt = Date.now() + Math.min(this.#pollMs, 1_000);
    } finally {
      l.pushing = false;
      this.#persist(l, writes);
    }
    if (failure !== undefined) {
      l.pushWanted = true;
      return this.#failed(l, l.pushLane, failure.e);
    }
    this.#succeeded(l, l.pushLane);
  }

  /**
   * Two pushes in flight per link: while `first` is out, an append of our
   * log sends the new tail at once as a second push, proven from the size
   * the first's last request asks the peer to cosign (push.ts pushAhead),
   * instead of waiting a whole round trip for the first to come back. The
   * peer takes them in arrival order (receive.ts); nothing of the second
   * reaches the cursor before the first returned. Only when the first is on
   * its last request (a tail push up to our latest checkpoint) and the peer
   * takes witnessed tail pushes; never a third. Its failure is reported
   * and the loop pushes again (a failed first push makes it fail too).
   * @returns undefined when none was sent.
   */
  async #sendAhead(l: Link, first: Promise<unknown>, base: () => number | undefined): Promise<AheadResult | { status: 'failed' } | undefined> {
    let settled = false;
    const over = first.then(
      () => void (settled = true),
      () => void (settled = true),
    );
    for (;;) {
      await Promise.race([over, new Promise<void>((r) => (l.appended = r))]);
      l.appended = undefined;
      if (settled || this.#stopped) return undefined;
      const from = base();
      // The first is not on its last request yet (it may take this append itself): wait for the next.
      if (from === undefined) continue;
      // What is appended from here on is for the loop's next push (the second may not carry it).
      l.pushWanted = false;
      try {
        const r = await pushAhead(this.#node, this.#store, l.peer, from, this.#pushBatch);
        if (r !== undefined) return r;
        l.pushWanted = true;
      } catch (e) {
        this.#report(l.peer.party, e);
        return { status: 'failed' };
      }
    }
  }

  /**
   * Issues a push's cursor writes behind the peer's replies taken so far,
   * and does not hold the next push for them: a FLASH message appended
   * while a push was out goes at once, and the reply that carries its
   * receipt is not queued behind a cursor commit on the store's writer.
   * Losing them to a crash only repeats a push (the peer stores it once)
   * or costs a 409 that names the size; each moves its row forward only,
   * so their order does not matter. A failed write is reported.
   */
  #persist(l: Link, writes: readonly (() => Promise<unknown>)[]): void {
    if (writes.length === 0) return;
    const p = l.replies.then(() => Promise.all(writes.map((w) => w()))).then(
      () => undefined,
      (e: unknown) => this.#report(l.peer.party, e),
    );
    l.writes.add(p);
    void p.finally(() => l.writes.delete(p));
  }

  readonly #replier: PushReplier = <R>(party: string, receive: () => Promise<R>, took: (r: R) => boolean, tail = false) => {
    const l = this.#links.find((x) => x.peer.party === party);
    if (l === undefined || this.#stopped) return receive().then((r) => ({ r }));
    const run = (async () => {
      const r = await receive();
      // Only from an idle, healthy loop: a failing link's backlog goes by the loop, with backoff.
      if (!took(r) || l.pushing || l.replying || l.pushLane.failures > 0 || this.#stopped) return { r };
      l.replying = true;
      try {
        const back = await replyPush(this.#node, this.#store, l.peer, l.push, tail).catch((e: unknown) => void this.#report(party, e));
        return back === undefined ? { r } : { r, back };
      } finally {
        l.replying = false;
      }
    })();
    l.holds.add(run);
    void run.finally(() => l.holds.delete(run)).catch(() => undefined);
    return run;
  };

  /** Receives the peer's push back, after the ones before it; one that does not take wakes the pull. */
  #takeReply(l: Link, reply: Uint8Array): void {
    l.replies = l.replies
      .then(() => receiveWitnessedPush(this.#node, this.#store, reply, l.peer.party))
      .then(
        (r) => {
          if (r.status !== 200) this.poke(l.peer.party);
        },
        (e: unknown) => {
          this.#report(l.peer.party, e);
          this.poke(l.peer.party);
        },
      );
  }

  async #pull(l: Link): Promise<void> {
    // The node, then its mirror (or the reverse when the mirror is preferred): the first that completes a verified pull.
    const node: { kind: 'node' | 'mirror'; src: PullSource } = { kind: 'node', src: l.peer };
    const order = l.mirror === undefined ? [node] : l.preferMirror ? [{ kind: 'mirror' as const, src: this.#freshMirror(l, l.mirror) }, node] : [node, { kind: 'mirror' as const, src: l.mirror }];
    const failures: { kind: 'node' | 'mirror'; e: unknown }[] = [];
    let nodeDown = false;
    for (const { kind, src } of order) {
      // A preferred mirror refused for its lag: queued again after the node, without the freshness bound, and read only
      // if the node fails too — what it has verifies like the rest and is progress (link health says the node failed).
      if (kind === 'node' && l.mirror !== undefined && failures.some((f) => f.e instanceof MirrorLagging)) order.push({ kind: 'mirror', src: l.mirror });
      try {
        const r = await pullFrom(this.#node, this.#store, src, l.pull);
        l.pull = r.cursor;
        l.witnessedSize = r.witnessedSize;
        if (kind === 'node') this.#nodeShowed(l.peer.party, r.checkpointSize);
        if (r.checkpointSize > 0) l.lastCheckpoint = { size: r.checkpointSize, at: Date.now() };
        if (r.rejected.length > 0) l.rejected = [...l.rejected, ...r.rejected].slice(-16);
        // A long backlog: continue at once rather than after pollMs.
        l.nextPull = r.scannedTo < r.witnessedSize ? 0 : Date.now() + this.#pollMs;
        l.pullSource = kind;
        const before = kind === 'mirror' ? (failures.find((f) => f.kind === 'node') ?? failures[0]) : failures[0];
        l.fallbackFrom = before === undefined ? undefined : { source: before.kind, code: errorCode(before.e), message: before.e instanceof Error ? before.e.message : String(before.e), at: Date.now() };
        for (const f of failures) this.#report(l.peer.party, f.e);
        // Gossip asks the node: not when it just failed to answer.
        if (!nodeDown) await this.#gossip(l);
        this.#succeeded(l, l.pullLane);
        return;
      } catch (e) {
        failures.push({ kind, e });
        if (kind === 'node' && e instanceof PeerError && (e.code === 'PEER_UNREACHABLE' || e.code === 'PEER_TIMEOUT')) nodeDown = true;
        // Evidence of a fork ends the round: no other source can make it go away.
        if (e instanceof ForkDetected) break;
      }
    }
    // Reported: a verification failure or fork (a source that lied) before a source that was merely down.
    const lied = failures.find((f) => !(f.e instanceof PeerError));
    const worst = (lied ?? failures[0]!).e;
    for (const f of failures) if (f.e !== worst) this.#report(l.peer.party, f.e);
    if (failures.some((f) => f.e instanceof ForkDetected)) l.forks = (await forksOf(this.#store, l.peer.party)).length;
    // A peer that cannot be reached cannot gossip either; any other failure leaves gossip worth a try.
    if (!nodeDown) await this.#gossip(l);
    return this.#failed(l, l.pullLane, worst);
  }

  /**
   * A preferred mirror as a pull source that refuses (PEER_REFUSED) a
   * checkpoint lagging what the peer's node showed us, or what our witness
   * cosigned, by more than the bound — before anything else is read from it.
   * The size is read unverified: a mirror claiming more than it has fails the
   * pull's verification of that very note.
   */
  #freshMirror(l: Link, m: MirrorClient): PullSource {
    const bound = this.#mirrorMaxLag;
    return {
      party: m.party,
      kind: 'mirror',
      checkpoint: async () => {
        const note = await m.checkpoint();
        let size: number;
        try {
          size = parseCheckpoint(parseNote(note).text).treeSize;
        } catch {
          return note; // the pull refuses it with its own code
        }
        const known = Math.max(l.nodeSize, (await this.#node.witness.latest(m.party))?.treeSize ?? 0);
        if (known - size > bound) {
          throw new MirrorLagging('PEER_REFUSED', m.party, `${m.party}'s mirror serves a checkpoint of size ${size}, ${known - size} entries behind the ${known} its node showed us (more than ${bound}): its node is read instead`);
        }
        return note;
      },
      consistencyProof: (a, b) => m.consistencyProof(a, b),
      entryBundle: (i, w) => m.entryBundle(i, w),
      tile: (lv, i, w) => m.tile(lv, i, w),
    };
  }

  #succeeded(l: Link, lane: Lane): void {
    lane.failures = 0;
    lane.retryAt = 0;
    l.lastContact = Date.now();
  }

  /** One gossip round with the link's peer (gossip.ts); failures are reported, not counted. */
  async #gossip(l: Link): Promise<void> {
    const sources = (party: string): LogSource | undefined => {
      if (party === this.#node.party) return ownLogSource(this.#node, this.#store);
      const log = this.#links.find((x) => x.peer.party === party);
      return log ? peerLogSource(log.peer) : undefined;
    };
    try {
      const r = await gossipWith(this.#node, this.#store, l.peer, sources);
      for (const [party, c] of Object.entries(r.compared)) if (c === 'fork') this.#report(party, new ForkDetected(party));
    } catch (e) {
      this.#report(l.peer.party, e);
    }
  }

  #report(party: string, e: unknown): void {
    try {
      this.#onError(party, e);
    } catch {
      // A logging hook must not stop delivery.
    }
  }

  #failed(l: Link, lane: Lane, e: unknown): void {
    lane.failures++;
    lane.unreachable = e instanceof PeerError && e.code === 'PEER_UNREACHABLE';
    // A retry the peer's contact brought forward has ended: the peer's next contact (after it
    // healed, say) may bring the next one forward at once — one retry per contact, never two in flight.
    lane.contactRetry = 0;
    const b = this.#backoff;
    const delay = Math.min(b.maxMs, b.baseMs * 2 ** Math.min(lane.failures - 1, 30)) * (1 - b.jitter * this.#random());
    lane.retryAt = Date.now() + delay;
    const code = errorCode(e);
    l.lastError = { code, message: e instanceof Error ? e.message : String(e), at: Date.now() };
    this.#report(l.peer.party, e);
  }

  #sleep(lane: Lane, ms: number): Promise<void> {
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      // setTimeout takes at most 2^31 − 1 ms; a push loop with nothing to do sleeps until woken.
      const timer = Number.isFinite(ms) ? setTimeout(done, Math.min(ms, 2 ** 31 - 1)) : undefined;
      timer?.unref?.();
      function done() {
        if (timer !== undefined) clearTimeout(timer);
        lane.wake = () => undefined;
        resolve();
      }
      lane.wake = done;
    });
  }
}

/** The stable code of a failed attempt, for link state. */
function errorCode(e: unknown): string {
  return e instanceof PeerError || isParleyError(e) ? e.code : e instanceof ForkDetected ? 'FORK_DETECTED' : 'INTERNAL_ERROR';
}
