/**
 * The header fields of an own entry, read back from its bytes (schema
 * migration 9): a node's entry bytes are the canonical JSON of the signed
 * envelope (core entry/envelope.ts), which already carries every
 * {@link EntryMeta} field but the incident id (that one may be inside a
 * sealed body). Keeping them in columns as well cost ~85 B per entry, so the
 * `entries` row keeps `meta` only when the bytes do not say the same thing
 * (bytes that are not an envelope, or a caller whose meta differs): what is
 * read back is always exactly what was written.
 *
 * Pure; no I/O.
 */
import { decodeUtf8 } from '@parley/core';
import type { EntryMeta, EntryRefMeta } from '../types.js';

/** EntryMeta without the two fields that have columns of their own. */
export type HeaderMeta = Omit<EntryMeta, 'type' | 'incident'>;

const isString = (x: unknown): x is string => typeof x === 'string';

function isRef(x: unknown): x is EntryRefMeta {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return isString(r['party']) && Number.isSafeInteger(r['index']) && isString(r['hash']);
}

/**
 * The header fields the envelope in `bytes` carries, with its `type`; or
 * undefined when `bytes` is not a JSON object with them all, well typed.
 * Checks shapes only: the node verified the entry before it was stored.
 */
export function headerOf(bytes: Uint8Array): (HeaderMeta & { readonly type: string }) | undefined {
  // An envelope is a JSON object: skip the parse (and a thrown decode error) for anything else.
  if (bytes.length < 2 || bytes[0] !== 0x7b || bytes[bytes.length - 1] !== 0x7d) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(decodeUtf8(bytes));
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const o = v as Record<string, unknown>;
  const from = o['from'] as Record<string, unknown> | null | undefined;
  const { type, to, time, precedence, marking, refs } = o;
  if (typeof from !== 'object' || from === null || !isString(from['party']) || !isString(from['officer'])) return undefined;
  if (!isString(type) || !isString(time) || !isString(precedence) || !isString(marking)) return undefined;
  if (!Array.isArray(to) || !to.every(isString) || !Array.isArray(refs) || !refs.every(isRef)) return undefined;
  return {
    type,
    from: from['party'],
    officer: from['officer'],
    to,
    time,
    precedence,
    marking,
    refs: refs.map((r) => ({ party: r.party, index: r.index, hash: r.hash })),
  };
}

function sameList<T>(a: readonly T[], b: readonly T[], eq: (x: T, y: T) => boolean): boolean {
  return a.length === b.length && a.every((x, i) => eq(x, b[i]!));
}

/** True when `h` (from the bytes) says exactly what `m` says, field for field (incident aside). */
export function sameHeader(h: HeaderMeta & { readonly type: string }, m: EntryMeta): boolean {
  return (
    h.type === m.type &&
    h.from === m.from &&
    h.officer === m.officer &&
    h.time === m.time &&
    h.precedence === m.precedence &&
    h.marking === m.marking &&
    sameList(h.to, m.to, (x, y) => x === y) &&
    sameList(h.refs, m.refs, (x, y) => x.party === y.party && x.index === y.index && x.hash === y.hash)
  );
}

/** The `meta` column for an entry: NULL when its bytes carry the same header, else the header as JSON. */
export function metaColumn(bytes: Uint8Array, m: EntryMeta): string | null {
  const h = headerOf(bytes);
  if (h !== undefined && sameHeader(h, m)) return null;
  const kept: HeaderMeta = { from: m.from, officer: m.officer, to: m.to, time: m.time, precedence: m.precedence, marking: m.marking, refs: m.refs.map((r) => ({ party: r.party, index: r.index, hash: r.hash })) };
  return JSON.stringify(kept);
}
