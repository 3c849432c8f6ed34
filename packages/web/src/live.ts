/**
 * Live refresh that concerns the page, coalesced (issue 9). An entry page
 * used to re-read on every event of every party — 72 requests in 14 s — and
 * a debounce that restarts on each event never fires under a steady stream,
 * so a FLASH's acknowledgement panel showed "Loading…" past its deadline.
 *
 *   - {@link coalesce}: at most one re-read in flight; events during one
 *     make exactly one more after it; events within `ms` of the first make
 *     one re-read (a throttle, not a debounce: it fires under a stream).
 *   - `concerns…`: which events a page needs (an entry: its own deadline and
 *     entry events; a box: its direction; the inbox badge: deliveries to us).
 *   - {@link useLiveReload}: both, for a component; the last data stays on
 *     screen while re-reading (hooks.ts `useApi`).
 */
import { useEffect, useRef } from 'react';
import { useEvents, type ServerEvent } from './events.js';

/** Events after which anything may have been missed: every page re-reads. */
export function isResync(e: ServerEvent): boolean {
  return e.event === 'reset' || e.event === 'reconnected';
}

interface EntryData {
  readonly party?: string;
  readonly index?: number;
  readonly recipient?: string;
  readonly direction?: string;
  readonly type?: string;
}
const dataOf = (e: ServerEvent): EntryData => (typeof e.data === 'object' && e.data !== null ? (e.data as EntryData) : {});

/** An entry page (party/index): its delivery states changing, or the entry itself arriving. */
export function concernsEntry(e: ServerEvent, party: string, index: number): boolean {
  if (isResync(e)) return true;
  const d = dataOf(e);
  return (e.event === 'deadline' || e.event === 'entry') && d.party === party && d.index === index;
}

/**
 * The inbox (`in`: entries to us) or the outbox (`out`: our entries):
 * entries of its direction (of `types` when given) and deliveries of its side.
 */
export function concernsBox(e: ServerEvent, box: 'in' | 'out', us: string | undefined, types?: readonly string[]): boolean {
  if (isResync(e)) return true;
  const d = dataOf(e);
  if (e.event === 'entry') return d.direction === box && (types === undefined || (d.type !== undefined && types.includes(d.type)));
  if (e.event === 'deadline') return us === undefined || (box === 'in' ? d.recipient === us : d.party === us);
  return false;
}

/**
 * Coalesces triggers of `run` (see the module doc).
 * @returns `trigger()` and `cancel()`.
 */
export function coalesce(run: () => Promise<unknown> | unknown, ms: number): { trigger(): void; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let again = false;
  let cancelled = false;
  const fire = async () => {
    timer = undefined;
    running = true;
    try {
      await run();
    } catch {
      // the page shows its own error state
    } finally {
      running = false;
      if (again && !cancelled) {
        again = false;
        timer = setTimeout(() => void fire(), ms);
      }
    }
  };
  return {
    trigger() {
      if (cancelled) return;
      if (running) again = true;
      else if (timer === undefined) timer = setTimeout(() => void fire(), ms);
    },
    cancel() {
      cancelled = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}

/** Re-runs `reload` (coalesced, every `ms` at most) after each event `relevant` accepts. */
export function useLiveReload(relevant: (e: ServerEvent) => boolean, reload: () => Promise<unknown> | unknown, ms = 300): void {
  const latest = useRef({ relevant, reload });
  latest.current = { relevant, reload };
  const c = useRef<ReturnType<typeof coalesce> | undefined>(undefined);
  if (c.current === undefined) c.current = coalesce(() => latest.current.reload(), ms);
  useEffect(() => () => c.current?.cancel(), []);
  useEvents((e) => {
    if (latest.current.relevant(e)) c.current?.trigger();
  });
}
