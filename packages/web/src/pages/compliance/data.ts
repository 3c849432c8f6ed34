/**
 * Compliance data as the page shows it: GET /v1/compliance's rows (contract
 * §3), reshaped for charts (one object per x value) and flattened for the
 * tables and CSV files. Pure functions, unit-tested.
 */
import { PRECEDENCES } from '@parley/core';
import type { ComplianceRow, IncidentDay } from '@parley/node/api';
import type { Cell } from './csv.js';

/** One (sender, recipient, precedence) row: latencies of the recipient's answers (`party` answers, `from` sent). */
export type { ComplianceResponse, ComplianceRow } from '@parley/node/api';
/** Distinct incidents per UTC day, category and severity. */
export type IncidentCount = IncidentDay;

/** Stable order: sender, recipient, then precedence from FLASH down. */
export function sortRows(rows: readonly ComplianceRow[]): ComplianceRow[] {
  const rank = (p: string) => {
    const i = (PRECEDENCES as readonly string[]).indexOf(p);
    return i < 0 ? PRECEDENCES.length : i;
  };
  return [...rows].sort((a, b) => a.from.localeCompare(b.from) || a.party.localeCompare(b.party) || rank(a.precedence) - rank(b.precedence));
}

/** The x-axis key of a row: "US→CN FLASH". */
export function rowKey(r: Pick<ComplianceRow, 'from' | 'party' | 'precedence'>): string {
  return `${r.from}→${r.party} ${r.precedence}`;
}

/** Hit rate as a percentage with one decimal, or null. */
export function percent(rate: number | null): number | null {
  return rate === null ? null : Math.round(rate * 1000) / 10;
}

/** "850 ms", "4.2 s", "3.5 min", "2.1 h" — short enough for axis ticks. */
export function formatMs(ms: number | null, lang: string): string {
  if (ms === null || !Number.isFinite(ms)) return '—';
  const zh = lang === 'zh-CN';
  const one = (n: number) => (Math.round(n * 10) / 10).toString();
  if (ms < 1000) return `${Math.round(ms)} ${zh ? '毫秒' : 'ms'}`;
  if (ms < 60_000) return `${one(ms / 1000)} ${zh ? '秒' : 's'}`;
  if (ms < 3_600_000) return `${one(ms / 60_000)} ${zh ? '分钟' : 'min'}`;
  return `${one(ms / 3_600_000)} ${zh ? '小时' : 'h'}`;
}

/**
 * A judged latency for tables and tooltips. Answers are timed by cosignature
 * timestamps, which have whole-second resolution, so anything under a second
 * reads "< 1 s" rather than a precise-looking "0 ms".
 */
export function formatLatency(ms: number | null, lang: string): string {
  if (ms !== null && Number.isFinite(ms) && ms < 1000) return lang === 'zh-CN' ? '不足 1 秒' : '< 1 s';
  return formatMs(ms, lang);
}

/** CSV columns of the latency tables (the same as GET /v1/compliance.csv). */
export const LATENCY_COLUMNS = ['from', 'party', 'precedence', 'count', 'onTime', 'overdue', 'pending', 'hitRate', 'p50Ms', 'p90Ms', 'p99Ms', 'maxMs'] as const;

export function latencyCsvRows(rows: readonly ComplianceRow[]): Cell[][] {
  return sortRows(rows).map((r) => LATENCY_COLUMNS.map((c) => r[c]));
}

/** CSV columns of the incidents table (the server's, plus the category's label in the UI language). */
export const INCIDENT_COLUMNS = ['day', 'category', 'severity', 'count'] as const;

/** Incident counts sorted by day, category, severity. */
export function sortIncidents(rows: readonly IncidentCount[]): IncidentCount[] {
  return [...rows].sort((a, b) => a.day.localeCompare(b.day) || a.category.localeCompare(b.category) || a.severity - b.severity);
}

/**
 * One object per day with a count per series (category code, or "s<level>"
 * for severity), every series present on every day (0 when none), days in
 * order — the shape a stacked bar chart needs.
 */
export function pivotByDay(rows: readonly IncidentCount[], by: 'category' | 'severity'): { days: Record<string, number | string>[]; series: string[] } {
  const seriesOf = (r: IncidentCount) => (by === 'category' ? r.category : `s${r.severity}`);
  const series = [...new Set(rows.map(seriesOf))].sort((a, b) => (by === 'severity' ? Number(a.slice(1)) - Number(b.slice(1)) : a.localeCompare(b)));
  const byDay = new Map<string, Record<string, number | string>>();
  for (const r of rows) {
    let d = byDay.get(r.day);
    if (d === undefined) {
      d = { day: r.day };
      for (const s of series) d[s] = 0;
      byDay.set(r.day, d);
    }
    d[seriesOf(r)] = (d[seriesOf(r)] as number) + r.count;
  }
  return { days: [...byDay.values()].sort((a, b) => String(a['day']).localeCompare(String(b['day']))), series };
}

/** Histogram buckets labelled by their upper bound: "≤ 1 s", …, "> 1 h". */
export function histogramData(r: ComplianceRow, lang: string): { bucket: string; count: number }[] {
  let prev: number | null = null;
  return r.histogram.map((b) => {
    const label = b.leMs === null ? `> ${formatMs(prev, lang)}` : `≤ ${formatMs(b.leMs, lang)}`;
    if (b.leMs !== null) prev = b.leMs;
    return { bucket: label, count: b.count };
  });
}
