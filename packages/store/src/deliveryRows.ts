/**
 * The deliveries row as both stores read it (issue 14: the deadline tracker's
 * deliveries on disk), and the record it becomes.
 */
import type { StoredDelivery } from './types.js';

/** A `deliveries` row joined with its answers and withdrawal (column names as in both schemas). */
export interface DeliveryRow {
  party: string;
  idx: number;
  recipient: string;
  direction: 'sent' | 'received';
  leaf_hash: string;
  facts: string;
  answers: string | null;
  retraction: string | null;
}

/** The stored delivery of a row: absent answers and withdrawal are left out, not null. */
export function storedDeliveryOf(r: DeliveryRow): StoredDelivery {
  return {
    party: r.party,
    index: r.idx,
    recipient: r.recipient,
    direction: r.direction,
    leafHash: r.leaf_hash,
    facts: r.facts,
    ...(r.answers !== null ? { answers: r.answers } : {}),
    ...(r.retraction !== null ? { withdrawn: r.retraction } : {}),
  };
}
