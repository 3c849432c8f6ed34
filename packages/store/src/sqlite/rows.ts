/**
 * Rows ↔ values for the tables of schema.ts. Column names match schema.ts;
 * JSON columns (recipients, refs, settings) are parsed strictly on the way
 * out and a value that does not parse is corruption, never a crash.
 */
import { fail } from '@parley/core';
import { headerOf, type HeaderMeta } from './entryMeta.js';
import type { EntryMeta, EntryRefMeta, Officer, OwnEntry, ReceivedEntry, ReceivedListing, Role, Session, WitnessState } from '../types.js';

/** The meta columns shared by `entries` and `received`, in schema order. */
export const META_COLUMN_NAMES = ['type', 'sender', 'officer', 'recipients', 'time', 'precedence', 'marking', 'incident', 'refs'] as const;

export interface MetaRow {
  type: string;
  sender: string;
  officer: string;
  recipients: string;
  time: string;
  precedence: string;
  marking: string;
  incident: string | null;
  refs: string;
}

/**
 * An `entries` row (schema 9) with its leaf hash joined from `hashes` and
 * its type name from `entry_types`.
 */
export interface EntryRow {
  idx: number;
  leaf_hash: Uint8Array;
  bytes: Uint8Array;
  type: string;
  incident: string | null;
  /** NULL: the header fields are the envelope's in `bytes` (entryMeta.ts). */
  meta: string | null;
}

/** A `received` row (schema 9), its type name joined from `entry_types`. */
export interface ReceivedRow extends EntryRow {
  seq: number;
  party: string;
  received_at: string;
}

/** A plain Uint8Array view of a driver Buffer (no copy; Buffer's `slice` shares memory, Uint8Array's copies). */
export function bytesOf(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

export function metaParams(m: EntryMeta): MetaRow {
  return {
    type: m.type,
    sender: m.from,
    officer: m.officer,
    recipients: JSON.stringify(m.to),
    time: m.time,
    precedence: m.precedence,
    marking: m.marking,
    incident: m.incident ?? null,
    refs: JSON.stringify(m.refs.map((r) => ({ party: r.party, index: r.index, hash: r.hash }))),
  };
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail('STORE_CORRUPT', `stored ${what} is not JSON`, e);
  }
}

function isString(x: unknown): x is string {
  return typeof x === 'string';
}

function isRef(x: unknown): x is EntryRefMeta {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return isString(r['party']) && Number.isSafeInteger(r['index']) && isString(r['hash']);
}

export function metaOf(row: MetaRow): EntryMeta {
  const to = parseJson(row.recipients, 'recipients');
  const refs = parseJson(row.refs, 'refs');
  if (!Array.isArray(to) || !to.every(isString)) fail('STORE_CORRUPT', 'stored recipients are not a list of party ids');
  if (!Array.isArray(refs) || !refs.every(isRef)) fail('STORE_CORRUPT', 'stored refs are not a list of references');
  const meta: EntryMeta = {
    type: row.type,
    from: row.sender,
    officer: row.officer,
    to,
    time: row.time,
    precedence: row.precedence,
    marking: row.marking,
    refs: refs.map((r) => ({ party: r.party, index: r.index, hash: r.hash })),
  };
  return row.incident === null ? meta : { ...meta, incident: row.incident };
}

/** An entry's meta (own or received): the header from the `meta` column or, when that is NULL, from the bytes. */
function rowMetaOf(row: EntryRow, bytes: Uint8Array): EntryMeta {
  let h: HeaderMeta | undefined;
  if (row.meta === null) {
    h = headerOf(bytes);
    if (h === undefined) fail('STORE_CORRUPT', `entry ${row.idx} has no stored meta and its bytes are not an envelope`);
    if (row.type === null) fail('STORE_CORRUPT', `entry ${row.idx} has no type`);
  } else {
    const m = parseJson(row.meta, 'entry meta') as Record<string, unknown> | null;
    if (typeof m !== 'object' || m === null) return fail('STORE_CORRUPT', 'stored entry meta is not an object');
    const { from, officer, to, time, precedence, marking, refs } = m;
    if (!isString(from) || !isString(officer) || !isString(time) || !isString(precedence) || !isString(marking)) fail('STORE_CORRUPT', 'stored entry meta lacks a field');
    if (!Array.isArray(to) || !to.every(isString)) fail('STORE_CORRUPT', 'stored recipients are not a list of party ids');
    if (!Array.isArray(refs) || !refs.every(isRef)) fail('STORE_CORRUPT', 'stored refs are not a list of references');
    h = { from, officer, to, time, precedence, marking, refs: refs.map((r) => ({ party: r.party, index: r.index, hash: r.hash })) };
  }
  const meta: EntryMeta = { type: row.type, from: h.from, officer: h.officer, to: h.to, time: h.time, precedence: h.precedence, marking: h.marking, refs: h.refs };
  return row.incident === null ? meta : { ...meta, incident: row.incident };
}

export function ownEntryOf(row: EntryRow): OwnEntry {
  if (row.leaf_hash === null) fail('STORE_CORRUPT', `entry ${row.idx} has no stored leaf hash`);
  const bytes = bytesOf(row.bytes);
  return { index: row.idx, leafHash: bytesOf(row.leaf_hash), bytes, meta: rowMetaOf(row, bytes) };
}

export function receivedOf(row: ReceivedRow): ReceivedEntry {
  const bytes = bytesOf(row.bytes);
  return {
    party: row.party,
    index: row.idx,
    leafHash: bytesOf(row.leaf_hash),
    bytes,
    meta: rowMetaOf(row, bytes),
    receivedAt: row.received_at,
  };
}

export function listingOf(row: ReceivedRow): ReceivedListing {
  return { ...receivedOf(row), rowid: row.seq };
}

export interface OfficerRow {
  name: string;
  role: string;
  password_hash: string;
  created: string;
  disabled: number;
}

const ROLES: readonly string[] = ['officer', 'auditor', 'admin'] satisfies Role[];

export function officerOf(row: OfficerRow): Officer {
  if (!ROLES.includes(row.role)) fail('STORE_CORRUPT', 'stored officer has an unknown role');
  return { name: row.name, role: row.role as Role, passwordHash: row.password_hash, created: row.created, disabled: row.disabled === 1 };
}

export interface SessionRow {
  token_hash: string;
  officer: string;
  created: string;
  expires: string;
}

export function sessionOf(row: SessionRow): Session {
  return { tokenHash: row.token_hash, officer: row.officer, created: row.created, expires: row.expires };
}

export function settingOf(value: string): unknown {
  return parseJson(value, 'setting');
}

export interface WitnessRow {
  party: string;
  tree_size: number;
  root_hash: Uint8Array;
  note: Uint8Array;
}

export function witnessOf(row: WitnessRow): WitnessState {
  if (!Number.isSafeInteger(row.tree_size) || row.tree_size < 0) fail('STORE_CORRUPT', 'stored witness tree size is out of range');
  if (row.root_hash.length !== 32) fail('STORE_CORRUPT', 'stored witness root hash is not 32 bytes');
  return { party: row.party, treeSize: row.tree_size, rootHash: bytesOf(row.root_hash), note: bytesOf(row.note) };
}
