/**
 * What a box (inbox/outbox) shows, kept in the URL so a reload, a shared
 * link and the back button keep it: `?show=all&type=ack`.
 *
 *   show   `all` for every entry but heartbeats; absent: messages and reports
 *   type   with show=all only: one entry type (the API's `type` filter)
 *
 * An unknown or misplaced value is ignored (the default view), never an error:
 * a URL typed by hand still opens the inbox. Pure, unit-tested.
 */
import { ACK_TYPES, ENTRY_TYPES, type KnownEntryType } from '@parley/core';
import type { EntryView } from '../../types.js';
import { summaryOf } from '../../entries.js';

export type Scope = 'action' | 'all';
/** Messages and reports: what an officer answers (core's entry-type registry: the types needing an acknowledgement). */
export const ACTION_TYPES: readonly KnownEntryType[] = ACK_TYPES;
/**
 * The type filter of "all entries": every known type but heartbeats (Link
 * health's). Entries of a type this version does not know are listed under
 * "all entries" (labelled as unknown), not filterable by type.
 */
export const ALL_TYPES: readonly KnownEntryType[] = ENTRY_TYPES.filter((t) => t !== 'heartbeat');
export type BoxType = KnownEntryType;

export interface BoxView {
  readonly scope: Scope;
  /** One entry type of "all entries", or every type. */
  readonly type?: BoxType | undefined;
}

export function parseBoxView(p: URLSearchParams): BoxView {
  if (p.get('show') !== 'all') return { scope: 'action' };
  const type = p.get('type');
  return (ALL_TYPES as readonly string[]).includes(type ?? '') ? { scope: 'all', type: type as BoxType } : { scope: 'all' };
}

/** `p` with the view's members set (and others kept: the page's own parameters). */
export function formatBoxView(v: BoxView, p: URLSearchParams = new URLSearchParams()): URLSearchParams {
  const q = new URLSearchParams(p);
  q.delete('show');
  q.delete('type');
  if (v.scope === 'all') {
    q.set('show', 'all');
    if (v.type !== undefined) q.set('type', v.type);
  }
  return q;
}

/**
 * The listings a view reads: one per entry type for the action view, one of
 * the chosen type, or one of everything (`all=1`: the inbox leaves receipts
 * out unless asked; a `type` asks by itself).
 */
export function listingsOf(v: BoxView, box: 'inbox' | 'outbox'): { type?: string; all?: 1 }[] {
  if (v.scope === 'action') return ACTION_TYPES.map((type) => ({ type }));
  if (v.type !== undefined) return [{ type: v.type }];
  return [box === 'inbox' ? { all: 1 } : {}];
}

/** The entry types whose live events concern the view. */
export function typesOf(v: BoxView): readonly string[] {
  return v.scope === 'action' ? ACTION_TYPES : v.type !== undefined ? [v.type] : ALL_TYPES;
}

/**
 * Whether `v` matches the filter text: every word (case-insensitive) in its
 * summary, sender, officer, type (code and shown name), incident, marking,
 * precedence or log position ("CN/12").
 */
export function matchesText(v: EntryView, text: string, typeName: string): boolean {
  const words = text.toLowerCase().split(/\s+/).filter((w) => w !== '');
  if (words.length === 0) return true;
  const body = v.body as { incident?: unknown } | undefined;
  const hay = [
    summaryOf(v, 100_000) ?? '',
    v.entry.from.party,
    v.entry.from.officer,
    v.entry.type,
    typeName,
    typeof body?.incident === 'string' ? body.incident : '',
    v.entry.marking,
    v.entry.precedence,
    `${v.party}/${v.index}`,
  ]
    .join('\n')
    .toLowerCase();
  return words.every((w) => hay.includes(w));
}
