/**
 * Rows ↔ values for the PostgreSQL tables (postgres/schema.ts). Pure; the
 * JSON columns (recipients, refs, settings) parse strictly, and a value that
 * does not parse is corruption (STORE_CORRUPT), never a crash.
 */
import { fail } from '@parley/core';
import type { EntryMeta, EntryRefMeta, Officer, OwnEntry, ReceivedEntry, ReceivedListing, Role } from '../types.js';

export interface EntryRow {
  idx: number;
  leaf_hash: Uint8Array;
  bytes: Uint8Array;
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

export interface ReceivedRow extends EntryRow {
  seq: number;
  party: string;
  received_at: string;
}

/** A plain Uint8Array view of a driver Buffer (no copy). */
export function bytes(b: Uint8Array): Uint8Array {
  return b.constructor === Uint8Array ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** The nine meta columns of many entries, column by column (for unnest), in schema order. */
export function metaColumns(ms: readonly EntryMeta[]): (string | null)[][] {
  return [
    ms.map((m) => m.type),
    ms.map((m) => m.from),
    ms.map((m) => m.officer),
    ms.map((m) => JSON.stringify(m.to)),
    ms.map((m) => m.time),
    ms.map((m) => m.precedence),
    ms.map((m) => m.marking),
    ms.map((m) => m.incident ?? null),
    ms.map((m) => JSON.stringify(m.refs.map((r) => ({ party: r.party, index: r.index, hash: r.hash })))),
  ];
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    return fail('STORE_CORRUPT', `stored ${what} is not JSON`, e);
  }
}

const isString = (x: unknown): x is string => typeof x === 'string';

function isRef(x: unknown): x is EntryRefMeta {
  if (typeof x !== 'object' || x === null) return false;
  const r = x as Record<string, unknown>;
  return isString(r['party']) && Number.isSafeInteger(r['index']) && isString(r['hash']);
}

export function metaOf(row: EntryRow): EntryMeta {
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

export function ownEntryOf(row: EntryRow): OwnEntry {
  return { index: row.idx, leafHash: bytes(row.leaf_hash), bytes: bytes(row.bytes), meta: metaOf(row) };
}

export function receivedOf(row: ReceivedRow): ReceivedEntry {
  return { party: row.party, index: row.idx, leafHash: bytes(row.leaf_hash), bytes: bytes(row.bytes), meta: metaOf(row), receivedAt: row.received_at };
}

export function listingOf(row: ReceivedRow): ReceivedListing {
  return { ...receivedOf(row), rowid: row.seq };
}

const ROLES: readonly string[] = ['officer', 'auditor', 'admin'] satisfies Role[];

export function officerOf(row: { name: string; role: string; password_hash: string; created: string; disabled: boolean }): Officer {
  if (!ROLES.includes(row.role)) fail('STORE_CORRUPT', 'stored officer has an unknown role');
  return { name: row.name, role: row.role as Role, passwordHash: row.password_hash, created: row.created, disabled: row.disabled };
}

export function settingOf(value: string): unknown {
  return parseJson(value, 'setting');
}
