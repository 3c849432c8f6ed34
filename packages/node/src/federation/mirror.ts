/**
 * The mirror (issue 9, "No rollback"): every node keeps every other party's
 * WHOLE log, so each party is the others' off-site backup and a party whose
 * data directory went back in time recovers its log from its peers
 * (rollback.ts). Entries addressed to us are already held (`received`); the
 * pull's scan (pull.ts) checks every other entry of the peer's log against
 * the checkpoint our witness cosigned, and hands those here, to the store's
 * mirror table (store migration 3). A push carries the sender's whole tail
 * (push.ts): its entries not addressed to us, verified as the rest
 * (signature, seq = index, inclusion in the pushed checkpoint), come here
 * too, durable before our witness's cosignature leaves (receive.ts) — on a
 * push our witness cosigns only what we then hold. Bytes only: sealed
 * bodies stay sealed.
 *
 * Served by GET /fed/v1/mirror/{party}/entries (http/continuity.ts).
 */
import { leafHash } from '@parley/core';
import type { LogStore } from '@parley/store';

/**
 * Mirrors entries of `party`'s log that a scan (or a push) verified against its
 * checkpoint (those not held as received; the store skips those anyway).
 * @returns how many were new.
 * @throws StoreError `STORE_CONFLICT` for an index held with another hash (a fork; the pull's checks come first).
 */
export function mirrorScanned(store: LogStore, party: string, entries: readonly { readonly index: number; readonly bytes: Uint8Array }[]): Promise<number> {
  if (entries.length === 0) return Promise.resolve(0);
  return store.mirror(
    party,
    entries.map((e) => ({ index: e.index, leafHash: leafHash(e.bytes), bytes: e.bytes })),
  );
}
