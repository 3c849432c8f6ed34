/** The tokens a node holds for one checkpoint, in their wire form (issue 12; served by http/logs.ts and http/federation.ts). */
import { formatBase64 } from '@parley/core';
import type { LogStore } from '@parley/store';

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
