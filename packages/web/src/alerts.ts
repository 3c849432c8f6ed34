/**
 * Alerts that are heard (issue 9): what every page announces — a FLASH
 * arriving, a link going down, a fork — as pure functions over the event
 * stream, and the officer's preference for sound and desktop notifications
 * (kept in localStorage, per browser). The banner, tab title, sound and
 * notification are in components/alerts.tsx.
 */
import { needsAck } from '@parley/core';
import type { ServerEvent } from './events.js';

export type AlertKind = 'flash' | 'link-down' | 'fork';

export interface Alert {
  /** Stable per thing announced: one banner line per FLASH, per party's outage, per forked party. */
  readonly key: string;
  readonly kind: AlertKind;
  readonly party: string;
  /** For a FLASH: its index in the sender's log. */
  readonly index?: number;
}

/** What an event does to the alerts: one to add, a party whose outage is over, or an alert answered (a FLASH acknowledged). */
export type AlertChange = { readonly add: Alert } | { readonly linkUp: string } | { readonly clear: string } | undefined;


/** The alert an event raises (or clears), if any. */
export function alertOf(e: ServerEvent): AlertChange {
  const d = (typeof e.data === 'object' && e.data !== null ? e.data : {}) as { party?: string; index?: number; type?: string; precedence?: string; direction?: string; state?: string };
  if (d.party === undefined) return undefined;
  if (e.event === 'entry' && d.direction === 'in' && d.precedence === 'FLASH' && d.type !== undefined && needsAck(d.type) && d.index !== undefined) {
    return { add: { key: `flash/${d.party}/${d.index}`, kind: 'flash', party: d.party, index: d.index } };
  }
  if (e.event === 'link' && d.state === 'down') return { add: { key: `link-down/${d.party}`, kind: 'link-down', party: d.party } };
  if (e.event === 'link' && d.state === 'up') return { linkUp: d.party };
  if (e.event === 'deadline' && d.state === 'acknowledged' && d.index !== undefined) return { clear: `flash/${d.party}/${d.index}` };
  if (e.event === 'fork') return { add: { key: `fork/${d.party}`, kind: 'fork', party: d.party } };
  return undefined;
}

/** Applies a change to the list (newest first; a key already there is not repeated). */
export function applyAlert(list: readonly Alert[], c: AlertChange): readonly Alert[] {
  if (c === undefined) return list;
  if ('linkUp' in c) return list.filter((a) => !(a.kind === 'link-down' && a.party === c.linkUp));
  if ('clear' in c) return list.filter((a) => a.key !== c.clear);
  return list.some((a) => a.key === c.add.key) ? list : [c.add, ...list];
}

/** The tab title while alerts are open: "⚠ 2 · Inbox — Parley", else the page's own. */
export function alertTitle(base: string, open: number): string {
  const plain = base.replace(/^⚠ \d+ · /, '');
  return open > 0 ? `⚠ ${open} · ${plain}` : plain;
}

export interface AlertPrefs {
  readonly sound: boolean;
  readonly desktop: boolean;
}

export const PREFS_KEY = 'parley.alerts';

/** The stored preference (both off until the officer turns them on). */
export function loadPrefs(storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage): AlertPrefs {
  try {
    const p = JSON.parse(storage?.getItem(PREFS_KEY) ?? '{}') as Partial<AlertPrefs>;
    return { sound: p.sound === true, desktop: p.desktop === true };
  } catch {
    return { sound: false, desktop: false };
  }
}

export function savePrefs(p: AlertPrefs, storage: Pick<Storage, 'setItem'> | undefined = globalThis.localStorage): void {
  storage?.setItem(PREFS_KEY, JSON.stringify(p));
}
