/**
 * Heartbeats and link health.
 *
 * {@link Heartbeat} appends `node.heartbeat()` (a clear `heartbeat` entry to
 * every other party, carrying our tree size) at start and then every
 * `accord.heartbeatSeconds`, on a fixed rate (beat k is due at
 * start + k · interval, so slow appends do not drift the schedule; beats
 * missed while the process was busy are skipped, not bunched). Delivering
 * the beats is federation's job.
 *
 * {@link linkHealth} judges each other party from what we HOLD of it: the
 * newest entry of its log we received (its highest index: any entry is
 * contact, heartbeats just guarantee there is one per interval). Its time
 * is the earlier of the sender's envelope time and our receive time — so a
 * sender's fast clock cannot keep a dead link looking alive, and a backlog
 * delivered late does not count as fresh.
 *
 *     up    now − lastHeardAt ≤ 2 · heartbeatSeconds
 *     down  otherwise, or nothing ever received
 *
 * A {@link LinkSource} (federation's per-peer transport state) is folded in
 * when given: a party whose heartbeats are fresh but whose transport reports
 * `down` is `degraded` (one direction works, or it reached us another way,
 * e.g. a bundle).
 *
 * With federation running (a LinkSource that witnesses, or `cosigned: true`) the
 * party's checkpoints count too: a party whose log has no checkpoint that
 * OUR witness cosigned within the last two intervals is `down` with reason
 * `checkpoint`, however fresh its entries — they are not in a checkpoint we
 * could check against everything seen of its log (heartbeats make its log
 * grow every interval, and each new checkpoint reaches our witness by push
 * or pull). The time of that cosignature is ours (our witness's timestamp).
 *
 *     checkpoint up    now − our latest cosignature of its checkpoint ≤ 2 · heartbeatSeconds
 *
 * `lastGoodContactAt` is the last time both were fresh: the earlier of
 * `lastHeardAt` and that cosignature (`lastHeardAt` alone when checkpoints
 * are not judged); `downAt` is then two intervals after it.
 *
 * Above all: a party whose log we hold a fork proof against is `down` with
 * reason `fork` however fresh its heartbeats (its new entries are refused,
 * federation/forks.ts). `reason` says why a link is not up: `fork`,
 * `heartbeat` (no fresh contact), `checkpoint` (no fresh cosigned
 * checkpoint) or `transport` (degraded).
 */
import { openWitnessedCheckpoint } from '@parley/core';
import type { LogStore } from '@parley/store';
import { forksOf } from '../federation/forks.js';
import type { ParleyNode, Submitted } from '../service.js';
import { checkpointVerifiers, witnessKeysOf } from '../epochs.js';
import { type Clock, type StructuredLogger, SILENT, systemClock } from './clock.js';

/** Intervals without fresh contact before a link is down. */
export const MISSED_BEATS_DOWN = 2;

export interface HeartbeatOptions {
  readonly node: ParleyNode;
  /** Default: the accord's heartbeatSeconds. */
  readonly intervalMs?: number;
  readonly clock?: Clock;
  readonly logger?: StructuredLogger;
  /** Called after each beat is durable (federation can push it). */
  readonly onBeat?: (s: Submitted) => void;
}

export class Heartbeat {
  readonly #o: HeartbeatOptions;
  readonly #clock: Clock;
  #interval: number;
  #timer: unknown;
  #startedAt = 0;
  #beat = 0;
  #running = false;
  #current: Promise<unknown> = Promise.resolve();

  constructor(o: HeartbeatOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#interval = o.intervalMs ?? o.node.accord.accord.heartbeatSeconds * 1000;
    if (!(this.#interval > 0)) throw new RangeError('heartbeat interval must be positive');
  }

  get intervalMs(): number {
    return this.#interval;
  }

  /**
   * Follows an amended `heartbeatSeconds` (issue 11: called when the accord
   * version in force changes). Without an explicit interval, a new one
   * restarts the schedule: the next beat is due one new interval from now.
   */
  retime(): void {
    if (this.#o.intervalMs !== undefined) return;
    const interval = this.#o.node.accord.accord.heartbeatSeconds * 1000;
    if (interval === this.#interval || !(interval > 0)) return;
    this.#interval = interval;
    if (!this.#running) return;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#startedAt = this.#clock.now();
    this.#beat = 1;
    this.#timer = this.#clock.setTimeout(() => void this.#tick(), interval);
  }

  /** Appends the first beat and schedules the rest. @returns the first beat. */
  async start(): Promise<Submitted | undefined> {
    if (this.#running) return undefined;
    this.#running = true;
    this.#startedAt = this.#clock.now();
    this.#beat = 0;
    return this.#tick();
  }

  /** Stops the schedule and waits for a beat being appended. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#current.catch(() => {});
  }

  async #tick(): Promise<Submitted | undefined> {
    if (!this.#running) return undefined;
    const run = this.#o.node.heartbeat();
    this.#current = run;
    let s: Submitted | undefined;
    try {
      s = await run;
      this.#o.onBeat?.(s);
    } catch (err) {
      (this.#o.logger ?? SILENT).error({ err }, 'heartbeat: append failed');
    }
    if (this.#running) {
      const now = this.#clock.now();
      this.#beat = Math.max(this.#beat + 1, Math.floor((now - this.#startedAt) / this.#interval) + 1);
      const due = this.#startedAt + this.#beat * this.#interval;
      this.#timer = this.#clock.setTimeout(() => void this.#tick(), Math.max(0, due - now));
    }
    return s;
  }
}

/** One peer link as federation's transport sees it. */
export interface PeerLink {
  readonly party: string;
  readonly state: 'up' | 'down' | 'unknown';
  /** Last successful exchange with the peer (RFC 3339), if any. */
  readonly lastContactAt?: string;
  /** Free text: the last error, a retry time, … */
  readonly detail?: string;
  /** Where the last pull read the party's log: its node, or its static mirror (issue 14) when the node failed. */
  readonly pullSource?: 'node' | 'mirror';
  /** The party's static mirror, when one is configured. */
  readonly mirrorUrl?: string;
}

/**
 * Per-peer transport state (federation's `federator.links()` through an
 * adapter). Link health works without one.
 */
export interface LinkSource {
  links(): readonly PeerLink[] | Promise<readonly PeerLink[]>;
  /** True when this transport brings the parties' checkpoints to our witness (federation): link health then judges their freshness. */
  readonly witnesses?: boolean;
}

/** The health of the link to one other party. */
export interface LinkHealth {
  readonly party: string;
  readonly state: 'up' | 'down' | 'degraded';
  /** Why the link is not up: a fork proof held against the party's log, no fresh contact, no fresh cosigned checkpoint, or the transport failing. */
  readonly reason?: 'fork' | 'heartbeat' | 'checkpoint' | 'transport';
  /** Fork proofs held against the party's log (present only when there are any). */
  readonly forks?: number;
  /** From heartbeats (and all entries) received: up / down. */
  readonly heartbeat: 'up' | 'down';
  /** From the checkpoints of its log our witness cosigned: up / down (present when judged, see the module doc). */
  readonly checkpoint?: 'up' | 'down';
  /** The newest checkpoint of its log our witness cosigned: its tree size and our cosignature's time. */
  readonly lastCosigned?: { readonly size: number; readonly at: string };
  /** Our last contact: min(sender's time, our receive time) of its newest entry we hold. */
  readonly lastHeardAt?: string;
  /** The last time contact was good: fresh entries and, when judged, a fresh cosigned checkpoint. */
  readonly lastGoodContactAt?: string;
  /** The newest entry of its log we hold. */
  readonly lastEntry?: { readonly index: number; readonly type: string; readonly time: string; readonly receivedAt: string };
  /** Its newest heartbeat we hold (by receive order). */
  readonly lastHeartbeat?: { readonly index: number; readonly time: string; readonly receivedAt: string };
  /** When the link is (or went) down without fresh contact (or, when judged, a fresh cosigned checkpoint). */
  readonly downAt?: string;
  /** Federation's view, when a LinkSource is attached. */
  readonly transport?: PeerLink;
}

export interface LinkHealthInput {
  readonly node: ParleyNode;
  readonly store: LogStore;
  /** Milliseconds since the epoch. */
  readonly now: number;
  /** Default: the accord's heartbeatSeconds. */
  readonly intervalMs?: number;
  readonly source?: LinkSource;
  /** Judge the party's cosigned checkpoints too (default: when the source witnesses, i.e. federation runs). */
  readonly cosigned?: boolean;
}

/** Our witness's latest cosignature of `party`'s log: size and time (ms); undefined when none verifies. */
async function lastCosigned(node: ParleyNode, party: string): Promise<{ size: number; at: number } | undefined> {
  const held = await node.witness.latest(party);
  if (held === undefined) return undefined;
  try {
    // The party's keys at that size (epochs), our witness key(s).
    const w = openWitnessedCheckpoint(held.note, checkpointVerifiers(node, party, held.treeSize), witnessKeysOf(node, node.party), { quorum: 1 });
    return { size: held.treeSize, at: Math.max(...w.cosignatures.map((c) => c.timestamp)) * 1000 };
  } catch {
    // A stored state that does not verify proves no contact.
    return undefined;
  }
}

/** Link health for every other party (see the module doc). */
export async function linkHealth(i: LinkHealthInput): Promise<LinkHealth[]> {
  const interval = i.intervalMs ?? i.node.accord.accord.heartbeatSeconds * 1000;
  const transport = new Map((i.source ? await i.source.links() : []).map((l) => [l.party, l]));
  const judgeCheckpoints = i.cosigned ?? i.source?.witnesses === true;
  const out: LinkHealth[] = [];
  const iso = (t: number) => new Date(t).toISOString();
  for (const party of i.node.counterparts) {
    const top = await i.store.highestReceived(party);
    const newest = top >= 0 ? await i.store.received(party, top) : undefined;
    const [beat] = await i.store.inbox({ party, type: 'heartbeat', limit: 1 });
    const heard = newest ? Math.min(Date.parse(newest.meta.time), Date.parse(newest.receivedAt)) : undefined;
    const heartbeat = heard !== undefined && i.now <= heard + MISSED_BEATS_DOWN * interval ? 'up' : 'down';
    const cosigned = await lastCosigned(i.node, party);
    const checkpoint = cosigned !== undefined && i.now <= cosigned.at + MISSED_BEATS_DOWN * interval ? 'up' : 'down';
    // Good contact needs every judged kind fresh: its time is the oldest of them (none: never).
    const good = judgeCheckpoints ? (heard !== undefined && cosigned !== undefined ? Math.min(heard, cosigned.at) : undefined) : heard;
    const downAt = good === undefined ? undefined : good + MISSED_BEATS_DOWN * interval;
    const t = transport.get(party);
    const forks = (await forksOf(i.store, party)).length;
    const reason = forks > 0 ? 'fork' : heartbeat === 'down' ? 'heartbeat' : judgeCheckpoints && checkpoint === 'down' ? 'checkpoint' : t?.state === 'down' ? 'transport' : undefined;
    const down = reason === 'fork' || reason === 'heartbeat' || reason === 'checkpoint';
    out.push({
      party,
      state: down ? 'down' : reason === 'transport' ? 'degraded' : 'up',
      ...(reason !== undefined ? { reason } : {}),
      ...(forks > 0 ? { forks } : {}),
      heartbeat,
      ...(judgeCheckpoints ? { checkpoint } : {}),
      ...(cosigned !== undefined ? { lastCosigned: { size: cosigned.size, at: iso(cosigned.at) } } : {}),
      ...(heard !== undefined ? { lastHeardAt: iso(heard) } : {}),
      ...(good !== undefined ? { lastGoodContactAt: iso(good) } : {}),
      ...(newest ? { lastEntry: { index: newest.index, type: newest.meta.type, time: newest.meta.time, receivedAt: newest.receivedAt } } : {}),
      ...(beat ? { lastHeartbeat: { index: beat.index, time: beat.meta.time, receivedAt: beat.receivedAt } } : {}),
      ...(downAt !== undefined && (reason === 'heartbeat' || reason === 'checkpoint') ? { downAt: iso(downAt) } : {}),
      ...(t ? { transport: t } : {}),
    });
  }
  return out;
}

/**
 * What link health reads of federation's per-peer state — the members of
 * its `Federator.links()` items it uses, typed structurally so this module
 * does not depend on the transport.
 */
export interface TransportLinkState {
  readonly party: string;
  readonly lastContact?: string;
  readonly consecutiveFailures: number;
  readonly lastError?: { readonly code: string; readonly message: string };
  readonly retryAt?: string;
  readonly forks: number;
  readonly mirrorUrl?: string;
  readonly pullSource?: 'node' | 'mirror';
  readonly fallbackFrom?: { readonly source: 'node' | 'mirror'; readonly code: string; readonly message: string };
}

/**
 * A {@link LinkSource} over federation's link states: `down` while attempts
 * fail or once a fork proof is held against the peer's log (its new entries
 * are no longer trusted), `up` after a completed exchange, else `unknown`.
 * @example attachLinkSource(node, federatorLinkSource(federator))
 */
export function federatorLinkSource(f: { links(): readonly TransportLinkState[] }): LinkSource {
  return {
    witnesses: true,
    links: () =>
      f.links().map((l): PeerLink => {
        const detail =
          l.forks > 0
            ? `fork proofs held: ${l.forks}`
            : l.consecutiveFailures > 0 && l.lastError
              ? `${l.lastError.code}: ${l.lastError.message}${l.retryAt ? ` (retry at ${l.retryAt})` : ''}`
              : l.pullSource === 'mirror' && l.fallbackFrom
                ? `reading its mirror: its node failed (${l.fallbackFrom.code}: ${l.fallbackFrom.message})`
                : l.pullSource === 'node' && l.fallbackFrom
                  ? `reading its node: its mirror failed (${l.fallbackFrom.code}: ${l.fallbackFrom.message})`
                  : l.lastError
                    ? `${l.lastError.code}: ${l.lastError.message}${l.retryAt ? ` (retry at ${l.retryAt})` : ''}`
                    : undefined;
        return {
          party: l.party,
          state: l.forks > 0 || l.consecutiveFailures > 0 ? 'down' : l.lastContact !== undefined ? 'up' : 'unknown',
          ...(l.lastContact !== undefined ? { lastContactAt: l.lastContact } : {}),
          ...(detail !== undefined ? { detail } : {}),
          ...(l.pullSource !== undefined ? { pullSource: l.pullSource } : {}),
          ...(l.mirrorUrl !== undefined ? { mirrorUrl: l.mirrorUrl } : {}),
        };
      }),
  };
}

const sources = new WeakMap<ParleyNode, LinkSource>();

/** Attaches federation's link state to a node's link health (GET /v1/links). */
export function attachLinkSource(node: ParleyNode, source: LinkSource | undefined): void {
  if (source) sources.set(node, source);
  else sources.delete(node);
}

/** The LinkSource attached to `node`, if any. */
export function linkSourceOf(node: ParleyNode): LinkSource | undefined {
  return sources.get(node);
}
