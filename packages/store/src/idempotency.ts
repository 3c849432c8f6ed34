/**
 * Pure checks of the idempotency records an {@link AppendBatch} carries
 * (issue 14), shared by both stores: a record that could not have been
 * made by the node's HTTP layer is our caller's bug, refused before the
 * transaction starts (`STORE_CONFLICT`, nothing written).
 */
import { fail } from '@parley/core';
import type { AppendBatch, IdempotencyRecord } from './types.js';

/** Longest `Idempotency-Key` kept (the header's value; the node refuses longer ones with a 400). */
export const MAX_IDEMPOTENCY_KEY = 255;

/** Throws STORE_CONFLICT for a malformed record, one naming an index outside the batch, or a (scope, key) twice in the batch. */
export function checkIdempotencyRecords(b: AppendBatch): void {
  const records = b.idempotency ?? [];
  if (records.length === 0) return;
  const first = b.entries[0]?.index ?? 0;
  const seen = new Set<string>();
  for (const r of records) {
    const bad = (why: string): never => fail('STORE_CONFLICT', `malformed idempotency record ${JSON.stringify(r.key)}: ${why}`);
    if (typeof r.scope !== 'string' || r.scope.length === 0) bad('empty scope');
    if (typeof r.key !== 'string' || r.key.length === 0 || r.key.length > MAX_IDEMPOTENCY_KEY) bad('key length');
    if (!/^[0-9a-f]{64}$/.test(r.digest)) bad('digest is not 64 hex digits');
    if (r.indexes.length === 0) bad('no index');
    for (const i of r.indexes) if (!Number.isSafeInteger(i) || i < first || i >= b.treeSize) bad(`index ${i} is not in the batch [${first}, ${b.treeSize})`);
    if (!Number.isSafeInteger(r.createdAt) || r.createdAt < 0) bad('createdAt');
    const id = `${r.scope}\u0000${r.key}`;
    if (seen.has(id)) bad('the same scope and key twice in one batch');
    seen.add(id);
  }
}

/** A record from its stored columns. */
export function idempotencyRecordOf(row: { scope: string; key: string; digest: string; indexes: string; response: string; created_at: number | string }): IdempotencyRecord {
  return { scope: row.scope, key: row.key, digest: row.digest, indexes: JSON.parse(row.indexes) as number[], response: row.response, createdAt: Number(row.created_at) };
}
