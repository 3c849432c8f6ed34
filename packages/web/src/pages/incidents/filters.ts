/**
 * Incident list filters: one shape for the page URL (shareable, back button)
 * and the API query (GET /v1/incidents). Empty values are left out so the
 * URL stays short and the server sees only real filters.
 *
 *     party=CN&category=UB&severity=5&status=open&from=2026-11-01&to=2026-11-26&q=robot
 *
 * Dates are calendar days in the viewer's zone (what an <input type=date>
 * gives); the API gets the instants that bound them: `from` at 00:00 and `to`
 * at 24:00 local time, as ISO 8601 UTC.
 */

export interface IncidentFilters {
  readonly party?: string;
  readonly category?: string;
  readonly severity?: number;
  readonly status?: string;
  /** YYYY-MM-DD, inclusive, viewer's zone. */
  readonly from?: string;
  /** YYYY-MM-DD, inclusive, viewer's zone. */
  readonly to?: string;
  readonly q?: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const FIELDS = ['party', 'category', 'severity', 'status', 'from', 'to', 'q'] as const;

/** Filters from the page's search params; values that do not parse are dropped. */
export function parseFilters(params: URLSearchParams): IncidentFilters {
  const out: Record<string, string | number> = {};
  for (const f of FIELDS) {
    const v = params.get(f)?.trim();
    if (!v) continue;
    if (f === 'severity') {
      if (/^[0-7]$/.test(v)) out[f] = Number(v);
    } else if (f === 'from' || f === 'to') {
      if (isDay(v)) out[f] = v;
    } else out[f] = v;
  }
  return out as IncidentFilters;
}

/** The page's search params for these filters (empty ones left out, stable order). */
export function formatFilters(f: IncidentFilters): URLSearchParams {
  const p = new URLSearchParams();
  for (const k of FIELDS) {
    const v = f[k];
    if (v !== undefined && v !== '') p.set(k, String(v));
  }
  return p;
}

/** True for a real calendar day YYYY-MM-DD (not 2026-02-30). */
function isDay(s: string): boolean {
  if (!DAY.test(s)) return false;
  const [y, m, d] = s.split('-').map(Number) as [number, number, number];
  const t = new Date(y, m - 1, d);
  return t.getFullYear() === y && t.getMonth() === m - 1 && t.getDate() === d;
}

/** Milliseconds of local midnight of `day` plus `addDays` (DST-safe: calendar arithmetic, not 24 h). */
function localDay(day: string, addDays: number): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d + addDays).getTime();
}

/** The API query string for GET /v1/incidents: days become UTC instants bounding the local days. */
export function apiQuery(f: IncidentFilters, extra: Readonly<Record<string, string | number | undefined>> = {}): string {
  const p = new URLSearchParams();
  if (f.party) p.set('party', f.party);
  if (f.category) p.set('category', f.category);
  if (f.severity !== undefined) p.set('severity', String(f.severity));
  if (f.status) p.set('status', f.status);
  if (f.from) p.set('from', new Date(localDay(f.from, 0)).toISOString());
  if (f.to) p.set('to', new Date(localDay(f.to, 1)).toISOString());
  if (f.q) p.set('q', f.q);
  for (const [k, v] of Object.entries(extra)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** True when any filter is set. */
export function hasFilters(f: IncidentFilters): boolean {
  return FIELDS.some((k) => f[k] !== undefined && f[k] !== '');
}
