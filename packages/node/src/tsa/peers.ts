/**
 * Tokens of the other parties' checkpoints (issue 12): a node fetches the
 * tokens each counterpart holds for its own log, verifies them against the
 * accord (verify.ts: the note is that party's signed checkpoint; each token
 * chains to a listed authority, stamps that exact note, within validity)
 * and keeps those that verify beside its own, so deadlines and evaluation
 * timelines use them and the node can hand them on (bundles, fork proofs,
 * /v1/logs/{party}/timestamps).
 *
 * When: {@link TimestampFetcher} asks every counterpart once per interval
 * for its latest stamped checkpoint (only while the accord lists
 * authorities), and GET /v1/logs/{party}/timestamps asks lazily for a size
 * not held. A token that does not verify is refused with its typed code,
 * logged (parley.tsa.refused) and counted (parley_tsa_refused_total), and
 * never stored.
 */
import { isParleyError } from '@parley/core';
import type { LogStore } from '@parley/store';
import type { ParleyNode } from '../service.js';
import { SILENT, type StructuredLogger } from '../deadlines/clock.js';
import type { PeerClient, PeerTimestampSet } from '../federation/peer.js';
import { noteTimestamped } from './bounds.js';
import { DEFAULT_TSA_INTERVAL_MS } from './stamper.js';
import { tsaStats } from './stats.js';
import { type RefusedToken, timestampingOf, verifyCheckpointTokens } from './verify.js';

export interface FetchedTimestamps {
  /** The size the peer served tokens for (absent: it holds none). */
  readonly treeSize?: number;
  /** Tokens newly stored. */
  readonly stored: number;
  /** Tokens verified (stored now or before). */
  readonly verified: number;
  readonly refused: readonly RefusedToken[];
}

/**
 * Fetches, verifies and stores the tokens `peer` holds for the checkpoint of
 * `party`'s log of `size` (default: the latest it holds).
 * @throws PeerError when the peer cannot be asked or answers nonsense.
 */
export async function fetchPeerTimestamps(node: ParleyNode, store: LogStore, peer: PeerClient, party: string = peer.party, size?: number, logger: StructuredLogger = SILENT): Promise<FetchedTimestamps> {
  return storePeerTimestamps(node, store, peer, party, await peer.timestamps(party, size), size, logger);
}

/** Verifies and stores `set`, what `peer` served for `party`'s checkpoint (of `size`, when one was asked for). */
async function storePeerTimestamps(node: ParleyNode, store: LogStore, peer: PeerClient, party: string, set: PeerTimestampSet | undefined, size: number | undefined, logger: StructuredLogger): Promise<FetchedTimestamps> {
  if (set === undefined) return { stored: 0, verified: 0, refused: [] };
  const refuse = (refused: RefusedToken[]): FetchedTimestamps => {
    for (const r of refused) {
      tsaStats(node).countRefused(party, r.code);
      logger.warn({ event: 'parley.tsa.refused', peer: peer.party, party, treeSize: set.treeSize, authority: r.authority, code: r.code, error: r.message }, 'a time-stamp token served by a peer does not verify');
    }
    return { treeSize: set.treeSize, stored: 0, verified: 0, refused };
  };
  if (size !== undefined && set.treeSize !== size) return refuse([{ authority: '*', code: 'TSA_IMPRINT_MISMATCH', message: `asked for size ${size}, served ${set.treeSize}` }]);
  let checked;
  try {
    checked = await verifyCheckpointTokens(node, party, set.checkpoint, set.timestamps);
  } catch (e) {
    if (!isParleyError(e)) throw e;
    return refuse(set.timestamps.map((t) => ({ authority: t.authority, code: e.code, message: `the note stamped is not ${party}'s checkpoint: ${e.message}` })));
  }
  if (checked.treeSize !== set.treeSize) return refuse([{ authority: '*', code: 'TSA_IMPRINT_MISMATCH', message: `the note stamped is of size ${checked.treeSize}, not ${set.treeSize}` }]);
  const stored = checked.verified.length > 0 ? await store.addCheckpointTimestamps(checked.verified) : 0;
  for (const v of checked.verified) noteTimestamped(store, v);
  if (checked.refused.length > 0) refuse(checked.refused);
  return { treeSize: set.treeSize, stored, verified: checked.verified.length, refused: checked.refused };
}

/** Asks every counterpart for its latest stamped checkpoint once per interval (see the module doc). */
export class TimestampFetcher {
  readonly #node: ParleyNode;
  readonly #store: LogStore;
  readonly #peers: readonly PeerClient[];
  readonly #intervalMs: number;
  readonly #logger: StructuredLogger;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #stopped = false;

  constructor(o: { node: ParleyNode; store: LogStore; peers: readonly PeerClient[]; intervalMs?: number; logger?: StructuredLogger }) {
    this.#node = o.node;
    this.#store = o.store;
    this.#peers = o.peers;
    this.#intervalMs = o.intervalMs ?? DEFAULT_TSA_INTERVAL_MS;
    this.#logger = o.logger ?? SILENT;
  }

  start(): void {
    this.#arm(Math.min(1_000, this.#intervalMs));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    await this.#running;
  }

  /** One pass over every counterpart (tests call it directly). */
  async fetchAll(): Promise<void> {
    if (timestampingOf(this.#node.accord) === undefined) return;
    for (const peer of this.#peers) {
      if (this.#stopped) return;
      try {
        const held = await this.#store.latestTimestampedSize(peer.party);
        const latest = await peer.timestamps(peer.party);
        if (latest === undefined || latest.treeSize <= held) continue;
        // The set just served is the one to verify: no second request for it.
        await storePeerTimestamps(this.#node, this.#store, peer, peer.party, latest, undefined, this.#logger);
      } catch (e) {
        this.#logger.warn({ event: 'parley.tsa.fetch_failed', party: peer.party, error: e instanceof Error ? e.message : String(e) }, 'fetching time-stamp tokens failed');
      }
    }
  }

  #arm(ms: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => {
      this.#running = this.fetchAll().finally(() => {
        this.#running = undefined;
        this.#arm(this.#intervalMs);
      });
    }, ms);
    this.#timer.unref?.();
  }
}
