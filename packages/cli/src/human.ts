/**
 * Times, durations and columns as a person at a terminal reads them (outbox,
 * status, watch). Times are UTC with whole seconds and a Z, so officers of
 * parties in different time zones read the same figure.
 */

/** "4m 10s" for a duration in ms (sign dropped). */
export function span(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86_400)}d ${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`;
}

/** "2025-06-01T10:00:00Z": an RFC 3339 time without its fraction. */
export function stamp(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}

/** "10:00:09Z" when `iso` falls on the same UTC day as `day` (an RFC 3339 time), else the whole {@link stamp}. */
export function clock(iso: string, day: string): string {
  const s = stamp(iso);
  return s.slice(0, 10) === day.slice(0, 10) ? s.slice(11) : s;
}

/** "12s ago" / "in 12s" for a time relative to `now` (ms). */
export function ago(iso: string, now: number): string {
  const d = now - Date.parse(iso);
  return d >= 0 ? `${span(d)} ago` : `in ${span(d)}`;
}

/**
 * Left-aligned columns two spaces apart; the last column is not padded.
 * @param rows cells as strings, every row as long as `head` (when given).
 */
export function columns(rows: readonly (readonly string[])[], head?: readonly string[]): string[] {
  const all = head ? [head, ...rows] : rows;
  const n = Math.max(0, ...all.map((r) => r.length));
  const widths = Array.from({ length: n }, (_, i) => Math.max(0, ...all.map((r) => (r[i] ?? '').length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd());
}
