/**
 * How an {@link AppendBatch} crosses to the SQLite writer thread (threaded.ts,
 * writerWorker.ts) — issue 14, durable appends per party.
 *
 * Posting the batch as it is makes the structured clone copy every entry's
 * bytes, leaf hash and stored hash into an ArrayBuffer of its own, on both
 * threads (~16 µs per entry of a 1 KiB batch, measured, a tenth of the
 * append's whole CPU budget). Here every entry's bytes and leaf hash, then
 * every stored hash, are written back to back into ONE buffer, which is
 * transferred (moved, not copied); the writer thread cuts it back into
 * views. Indexes travel as Float64 (any JS number survives, so the store's
 * own shape checks see exactly what the caller gave); the metas, the
 * checkpoint, prevRoot and idempotency records are cloned as they are. The
 * received entries a batch of receipts carries (ingest) put their bytes and
 * leaf hashes in the same buffer, after the stored hashes; only their other
 * fields are cloned.
 *
 * Pure; no I/O.
 */
import type { AppendBatch, OwnEntry, ReceivedEntry } from '../types.js';

/** An AppendBatch on the wire: `buf` and the typed arrays are transferable. */
export interface WireBatch {
  readonly wire: 1;
  /** Entry i: bytes then its 32-byte leaf hash; after the last entry, the stored hashes, 32 bytes each. */
  readonly buf: Uint8Array;
  /** Where entry i's bytes end in `buf` (its leaf hash follows). */
  readonly ends: Float64Array;
  readonly indexes: Float64Array;
  /** Stored index of each stored hash. */
  readonly hashIndexes: Float64Array;
  /** Length of each leaf hash and stored hash (32 unless the caller erred: the store checks it). */
  readonly hashLengths: Float64Array;
  /**
   * Received entry j (the batch's `received`, issue 14 ingest): its bytes
   * then its leaf hash follow the stored hashes in `buf`; their lengths are
   * `receivedLengths[2j]` and `[2j + 1]`.
   */
  readonly receivedLengths: Float64Array;
  readonly rest: Omit<AppendBatch, 'entries' | 'hashes' | 'received'> & {
    readonly metas: readonly OwnEntry['meta'][];
    /** The received entries without their bytes and leaf hashes; absent when the batch has no `received`. */
    readonly received?: readonly Omit<ReceivedEntry, 'bytes' | 'leafHash'>[];
  };
}

/**
 * Packs `b` for the writer thread.
 * @returns the message and what to transfer with it.
 * @throws TypeError when a byte field is not a Uint8Array: packing would turn
 *   it into other bytes; the caller sends such a batch as it is instead (the
 *   store then sees exactly what was given).
 */
export function toWire(b: AppendBatch): [WireBatch, ArrayBuffer[]] {
  const { entries, hashes, received, ...rest } = b;
  const bin = (x: unknown) => x instanceof Uint8Array;
  const incoming = received ?? [];
  if (!Array.isArray(incoming)) throw new TypeError('not packable: received is not an array');
  if (!entries.every((e) => bin(e.bytes) && bin(e.leafHash)) || !hashes.every((h) => bin(h[1])) || !incoming.every((r) => bin(r.bytes) && bin(r.leafHash))) {
    throw new TypeError('not packable: a byte field is not a Uint8Array');
  }
  let n = 0;
  for (const e of entries) n += e.bytes.length + e.leafHash.length;
  for (const [, h] of hashes) n += h.length;
  for (const r of incoming) n += r.bytes.length + r.leafHash.length;
  const buf = new Uint8Array(n);
  const ends = new Float64Array(entries.length);
  const indexes = new Float64Array(entries.length);
  const hashIndexes = new Float64Array(hashes.length);
  const hashLengths = new Float64Array(entries.length + hashes.length);
  let o = 0;
  entries.forEach((e, i) => {
    buf.set(e.bytes, o);
    o += e.bytes.length;
    ends[i] = o;
    buf.set(e.leafHash, o);
    o += e.leafHash.length;
    hashLengths[i] = e.leafHash.length;
    indexes[i] = e.index;
  });
  hashes.forEach(([idx, h], j) => {
    buf.set(h, o);
    o += h.length;
    hashIndexes[j] = idx;
    hashLengths[entries.length + j] = h.length;
  });
  const receivedLengths = new Float64Array(2 * incoming.length);
  incoming.forEach((r, j) => {
    buf.set(r.bytes, o);
    o += r.bytes.length;
    buf.set(r.leafHash, o);
    o += r.leafHash.length;
    receivedLengths[2 * j] = r.bytes.length;
    receivedLengths[2 * j + 1] = r.leafHash.length;
  });
  const heads = received === undefined ? {} : { received: incoming.map((r) => ({ party: r.party, index: r.index, meta: r.meta, receivedAt: r.receivedAt })) };
  const wire: WireBatch = { wire: 1, buf, ends, indexes, hashIndexes, hashLengths, receivedLengths, rest: { ...rest, metas: entries.map((e) => e.meta), ...heads } };
  const transfer = [buf.buffer, ends.buffer, indexes.buffer, hashIndexes.buffer, hashLengths.buffer, receivedLengths.buffer] as ArrayBuffer[];
  return [wire, transfer];
}

/** True for a message made by {@link toWire}. */
export function isWire(x: unknown): x is WireBatch {
  return typeof x === 'object' && x !== null && (x as { wire?: unknown }).wire === 1;
}

/** The AppendBatch `toWire` packed: entries' bytes and hashes are views into `w.buf`. */
export function fromWire(w: WireBatch): AppendBatch {
  const { metas, received: heads, ...rest } = w.rest;
  const entries: OwnEntry[] = new Array(w.indexes.length);
  let o = 0;
  for (let i = 0; i < entries.length; i++) {
    const end = w.ends[i]!;
    const leafEnd = end + w.hashLengths[i]!;
    entries[i] = { index: w.indexes[i]!, bytes: w.buf.subarray(o, end), leafHash: w.buf.subarray(end, leafEnd), meta: metas[i]! };
    o = leafEnd;
  }
  const hashes: [number, Uint8Array][] = new Array(w.hashIndexes.length);
  for (let j = 0; j < hashes.length; j++) {
    const end = o + w.hashLengths[entries.length + j]!;
    hashes[j] = [w.hashIndexes[j]!, w.buf.subarray(o, end)];
    o = end;
  }
  if (heads === undefined) return { ...rest, entries, hashes };
  const received: ReceivedEntry[] = new Array(heads.length);
  for (let j = 0; j < heads.length; j++) {
    const end = o + w.receivedLengths[2 * j]!;
    const leafEnd = end + w.receivedLengths[2 * j + 1]!;
    const h = heads[j]!;
    received[j] = { party: h.party, index: h.index, leafHash: w.buf.subarray(end, leafEnd), bytes: w.buf.subarray(o, end), meta: h.meta, receivedAt: h.receivedAt };
    o = leafEnd;
  }
  return { ...rest, entries, hashes, received };
}
