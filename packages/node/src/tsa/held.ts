/** The tokens a node holds for one checkpoint, in their wire form (issue 12; served by http/logs.ts and http/federation.ts). */
import { formatBase64 } from '@parley/core';
import type { LogStore } from '@parley/store';
import { trustedTime } from './verify.js';

/** What GET /v1/logs/{party}/timestamps and GET /fed/v1/timestamps/{party} answer. */
export interface TimestampSet {
  readonly party: string;
  readonly treeSize: number;
  /** The exact checkpoint note the tokens stamp (imprint = SHA-256 of it). */
  readonly checkpoint: string;
  readonly timestamps: { readonly authority: string; readonly token: string; readonly genTime: string }[];
}

/** The tokens held for `party`'s checkpoint of `size` (default: the largest size with any), or undefined. */
export async function heldTimestampSet(store: LogStore, party: string, size?: number): Promise<TimestampSet | undefined> {
  const treeSize = size ?? (await store.latestTimestampedSize(party));
  if (treeSize < 1) return undefined;
  const rows = await store.checkpointTimestamps(party, { treeSize });
  if (rows.length === 0) return undefined;
  return {
    party,
    treeSize,
    checkpoint: rows[0]!.note,
    timestamps: rows.map((r) => ({ authority: r.authority, token: formatBase64(r.token), genTime: new Date(r.genTime).toISOString() })),
  };
}

/** Rows read at most when looking for the earliest stamped checkpoint covering an entry. */
const MAX_EARLIEST_ROWS = 4096;

/** The stamped checkpoint of a log with the earliest trusted time covering an entry (issue 12: evaluation views and evidence). */
export interface EarliestStamp {
  readonly treeSize: number;
  /** The stamped note (the log's own signature only). */
  readonly note: string;
  /** Trusted time (k-th smallest genTime over distinct authorities), ms since the epoch. */
  readonly time: number;
  /** The tokens of that checkpoint, wire form. */
  readonly tokens: { readonly authority: string; readonly token: string }[];
}

/**
 * The checkpoint of `party`'s log with size > `index` whose held tokens
 * (verified before they were stored) give the earliest trusted time with
 * `required` distinct authorities (accord timestamping.required); undefined
 * when none does. Ties go to the smaller size.
 */
export async function earliestTimestamped(store: LogStore, party: string, index: number, required: number): Promise<EarliestStamp | undefined> {
  const rows = await store.checkpointTimestamps(party, { from: index + 1, limit: MAX_EARLIEST_ROWS });
  const bySize = new Map<number, typeof rows>();
  for (const r of rows) {
    if (r.treeSize <= index) continue;
    let g = bySize.get(r.treeSize);
    if (!g) bySize.set(r.treeSize, (g = []));
    g.push(r);
  }
  let best: EarliestStamp | undefined;
  for (const [treeSize, g] of bySize) {
    const time = trustedTime(g, required);
    if (time === undefined || (best !== undefined && time >= best.time)) continue;
    best = { treeSize, note: g[0]!.note, time, tokens: g.map((r) => ({ authority: r.authority, token: formatBase64(r.token) })) };
  }
  return best;
}
