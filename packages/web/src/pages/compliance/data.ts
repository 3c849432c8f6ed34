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

/** CSV columns of the latency tables (the same as GET /v1/compliance.csv; a test checks). */
export const LATENCY_COLUMNS = ['from', 'party', 'precedence', 'count', 'onTime', 'overdue', 'pending', 'withdrawn', 'hitRate', 'p50Ms', 'p90Ms', 'p99Ms', 'maxMs'] as const;

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

// --- what the charts show (issue 10: labelled zeros, units that fit, axes that fit, a default with data) ---

/** Units a latency axis reads in. Answers are timed by whole-second cosignature timestamps, so never milliseconds. */
export type LatencyUnit = 's' | 'min' | 'h';
export const UNIT_MS: Readonly<Record<LatencyUnit, number>> = { s: 1000, min: 60_000, h: 3_600_000 };

/**
 * The unit for an axis whose largest value is `maxMs`: seconds up to two
 * minutes, minutes up to two hours, hours beyond — so ticks read "0 30 60 90"
 * rather than "0.5 1 1.5 2" hours or "7200" seconds.
 */
export function latencyUnit(maxMs: number | null | undefined): LatencyUnit {
  if (maxMs === null || maxMs === undefined || !Number.isFinite(maxMs) || maxMs < 120_000) return 's';
  return maxMs < 7_200_000 ? 'min' : 'h';
}

/** `ms` in `unit`, to one decimal. */
export function inUnit(ms: number, unit: LatencyUnit): number {
  return Math.round((ms / UNIT_MS[unit]) * 10) / 10;
}

/** The largest percentile any row shows (null when no row has an answer yet). */
export function maxPercentile(rows: readonly ComplianceRow[]): number | null {
  let max: number | null = null;
  for (const r of rows) for (const v of [r.p50Ms, r.p90Ms, r.p99Ms]) if (v !== null && (max === null || v > max)) max = v;
  return max;
}

/** How many answers a row's histogram counts. */
export function histogramTotal(r: ComplianceRow): number {
  return r.histogram.reduce((n, b) => n + b.count, 0);
}

/** The row a distribution starts on: the first with answers to show, else the first (-1 when there are no rows). */
export function defaultRow(rows: readonly ComplianceRow[]): number {
  const i = rows.findIndex((r) => histogramTotal(r) > 0);
  return i >= 0 ? i : rows.length > 0 ? 0 : -1;
}

/** Whether a character takes a full em (CJK ideographs, kana, hangul, full-width forms) or about 0.6 em (Latin, digits). */
function charEm(c: string): number {
  const cp = c.codePointAt(0) ?? 0;
  if ((cp >= 0x2e80 && cp <= 0x9fff) || (cp >= 0xac00 && cp <= 0xd7af) || (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0xff00 && cp <= 0xffef)) return 1;
  if (cp === 0x2192 || cp === 0x2264 || cp === 0x2265) return 1; // → ≤ ≥ in the fallback fonts
  return 0.62;
}

/**
 * Pixels the longest of `labels` needs at `fontPx` (an estimate from
 * character classes, generous rather than tight: a category axis sized by it
 * never clips its labels), plus `pad`.
 */
export function textWidth(labels: readonly string[], fontPx: number, pad = 12): number {
  let max = 0;
  for (const s of labels) {
    let w = 0;
    for (const c of s) w += charEm(c);
    max = Math.max(max, w);
  }
  return Math.ceil(max * fontPx) + pad;
}

/** How the distribution chart writes its bucket labels under the bars. */
export interface BucketTicks {
  /** Degrees the labels are turned (0: level). */
  readonly angle: number;
  readonly textAnchor: 'middle' | 'end';
  /** Pixels the axis needs below the plot for its labels. */
  readonly height: number;
}

/**
 * Every bucket keeps its label: level when each fits under its bar, turned
 * 45° when the chart is too narrow for that (a phone), instead of recharts
 * dropping every other label — the bar with the answers among them.
 * @param chartWidth the chart's width in pixels (0 before it is measured: level).
 * @param axisWidth pixels left of the plot (the value axis) and right of it (margins).
 */
export function bucketTicks(labels: readonly string[], fontPx: number, chartWidth: number, axisWidth: number): BucketTicks {
  const longest = textWidth(labels, fontPx, 0);
  const slot = labels.length > 0 ? (chartWidth - axisWidth) / labels.length : Infinity;
  if (chartWidth <= 0 || longest + 6 <= slot) return { angle: 0, textAnchor: 'middle', height: 30 };
  return { angle: -45, textAnchor: 'end', height: Math.ceil(longest * Math.SQRT1_2 + fontPx) + 8 };
}

/** One bar of the hit-rate chart: the value drawn (0 when nothing is judged yet) and the words at its end. */
export interface HitBar {
  readonly key: string;
  readonly hit: number;
  readonly text: string;
  readonly judged: boolean;
}

/**
 * The hit-rate chart's bars. A 0 % bar is drawn (the chart gives it a
 * minimum width) and labelled "0%"; a row nothing judged yet is labelled
 * with `notJudged` and drawn empty — it is not 0 %.
 */
export function hitBars(rows: readonly ComplianceRow[], label: (r: ComplianceRow) => string, notJudged: string): HitBar[] {
  return rows.map((r) => {
    const p = percent(r.hitRate);
    return { key: label(r), hit: p ?? 0, text: p === null ? notJudged : `${p}%`, judged: p !== null };
  });
}

/** One row of the latency chart, in `unit`, with the words at each bar's end. */
export interface LatencyBar {
  readonly key: string;
  readonly answered: boolean;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly p50Text: string;
  readonly p90Text: string;
  readonly p99Text: string;
}

/**
 * The latency chart's rows in one unit for the whole axis (see
 * {@link latencyUnit}); each bar says its value in words fit for it ("< 1 s",
 * "4.2 s", "3.5 min"). A row with no answer yet is drawn empty and says
 * `noAnswers` once.
 */
export function latencyBars(rows: readonly ComplianceRow[], label: (r: ComplianceRow) => string, unit: LatencyUnit, lang: string, noAnswers: string): LatencyBar[] {
  return rows.map((r) => {
    const answered = r.p50Ms !== null;
    const v = (ms: number | null) => (ms === null ? 0 : inUnit(ms, unit));
    const w = (ms: number | null) => (ms === null ? '' : formatLatency(ms, lang));
    return { key: label(r), answered, p50: v(r.p50Ms), p90: v(r.p90Ms), p99: v(r.p99Ms), p50Text: answered ? w(r.p50Ms) : noAnswers, p90Text: w(r.p90Ms), p99Text: w(r.p99Ms) };
  });
}
