/**
 * Compliance figures for the dashboard: per sender, recipient and
 * precedence, how many deliveries were answered on time, late or not yet,
 * and the distribution of answer latencies — for machine receipts and for
 * officers' acknowledgements. Pure functions over the tracker's
 * {@link DeliveryStatus}es, so the figures are judged exactly as the
 * deadlines are (state.ts: cosigned times when known).
 *
 *     latency = answer's judged time − the entry's judged send time
 *     start   = receiptDueAt − receiptSeconds (the judged send time, state.ts)
 *     hitRate = onTime / (onTime + overdue), null while nothing is judged
 *
 * Percentiles are nearest-rank (p50 of [1, 2, 3, 4] is 2). Histogram buckets
 * are not cumulative: bucket i counts latencies in (le[i−1], le[i]]; the last,
 * `leMs: null`, those above the last bound. Heartbeats are left out of the
 * receipt figures: they are link health's business and would drown the rest.
 * An acknowledgement of an entry its sender withdrew (issue 13) is no longer
 * due: such a delivery, unacknowledged, counts as `withdrawn` — neither
 * pending nor overdue, and not in the hit rate.
 */
import type { AccordDeadlines, Precedence } from '@parley/core';
import type { DeliveryStatus } from './state.js';

/** Upper bounds of the latency buckets (ms): 1 s, 5 s, 15 s, 30 s, 1 min, 5 min, 15 min, 1 h, 4 h, 1 day. */
export const LATENCY_BUCKETS_MS = [1_000, 5_000, 15_000, 30_000, 60_000, 300_000, 900_000, 3_600_000, 14_400_000, 86_400_000] as const;

export interface ComplianceRow {
  /** The party whose answer is measured (the recipient). */
  readonly party: string;
  /** The sender. */
  readonly from: string;
  readonly precedence: Precedence;
  readonly count: number;
  readonly onTime: number;
  readonly overdue: number;
  readonly pending: number;
  /** Withdrawn by the sender before an answer came: no answer due (issue 13). */
  readonly withdrawn: number;
  readonly hitRate: number | null;
  readonly p50Ms: number | null;
  readonly p90Ms: number | null;
  readonly p99Ms: number | null;
  readonly maxMs: number | null;
  readonly histogram: readonly { readonly leMs: number | null; readonly count: number }[];
}

/** Nearest-rank percentile of ascending `sorted` (p in (0, 1]). */
export function percentile(sorted: readonly number[], p: number): number | null {
  if (sorted.length === 0) return null;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!;
}

interface Acc {
  party: string;
  from: string;
  precedence: Precedence;
  count: number;
  onTime: number;
  overdue: number;
  pending: number;
  withdrawn: number;
  latencies: number[];
}

function row(a: Acc): ComplianceRow {
  const sorted = [...a.latencies].sort((x, y) => x - y);
  const histogram = [...LATENCY_BUCKETS_MS, null].map((leMs) => ({ leMs, count: 0 }));
  for (const l of sorted) {
    const i = LATENCY_BUCKETS_MS.findIndex((b) => l <= b);
    histogram[i === -1 ? LATENCY_BUCKETS_MS.length : i]!.count++;
  }
  const judged = a.onTime + a.overdue;
  return {
    party: a.party,
    from: a.from,
    precedence: a.precedence,
    count: a.count,
    onTime: a.onTime,
    overdue: a.overdue,
    pending: a.pending,
    withdrawn: a.withdrawn,
    hitRate: judged === 0 ? null : a.onTime / judged,
    p50Ms: percentile(sorted, 0.5),
    p90Ms: percentile(sorted, 0.9),
    p99Ms: percentile(sorted, 0.99),
    maxMs: sorted.length === 0 ? null : sorted[sorted.length - 1]!,
    histogram,
  };
}

/**
 * Receipt and acknowledgement figures over the deliveries sent in [fromMs, toMs].
 * @param items the tracker's statuses (any order).
 * @param deadlines the accord's deadlines (for the judged send time).
 */
export function compliance(items: Iterable<DeliveryStatus>, deadlines: AccordDeadlines, range: { fromMs?: number; toMs?: number } = {}): { receipts: ComplianceRow[]; acks: ComplianceRow[] } {
  const f = figures(deadlines, range);
  for (const s of items) f.add(s);
  return f.rows();
}

/** {@link compliance} over statuses streamed from the store (issue 14: one page in memory, not every status). */
export async function complianceOf(items: AsyncIterable<DeliveryStatus>, deadlines: AccordDeadlines, range: { fromMs?: number; toMs?: number } = {}): Promise<{ receipts: ComplianceRow[]; acks: ComplianceRow[] }> {
  const f = figures(deadlines, range);
  for await (const s of items) f.add(s);
  return f.rows();
}

function figures(deadlines: AccordDeadlines, range: { fromMs?: number; toMs?: number }) {
  const receipts = new Map<string, Acc>();
  const acks = new Map<string, Acc>();
  const acc = (m: Map<string, Acc>, s: DeliveryStatus): Acc => {
    const key = `${s.party}>${s.recipient}#${s.precedence}`;
    let a = m.get(key);
    if (!a) m.set(key, (a = { party: s.recipient, from: s.party, precedence: s.precedence, count: 0, onTime: 0, overdue: 0, pending: 0, withdrawn: 0, latencies: [] }));
    return a;
  };
  const add = (s: DeliveryStatus): void => {
    const sent = Date.parse(s.sentAt);
    if ((range.fromMs !== undefined && sent < range.fromMs) || (range.toMs !== undefined && sent > range.toMs)) return;
    const start = Date.parse(s.receiptDueAt) - deadlines.receiptSeconds * 1000;
    if (s.type !== 'heartbeat') {
      const a = acc(receipts, s);
      a.count++;
      if (s.receipt) {
        a.latencies.push(Math.max(0, Date.parse(s.receipt.judgedAt) - start));
        if (s.receipt.onTime) a.onTime++;
        else a.overdue++;
      } else if (s.overdue.includes('receipt')) a.overdue++;
      else a.pending++;
    }
    if (s.ackDueAt !== undefined) {
      const a = acc(acks, s);
      a.count++;
      if (s.ack) {
        a.latencies.push(Math.max(0, Date.parse(s.ack.judgedAt) - start));
        if (s.ack.onTime) a.onTime++;
        else a.overdue++;
      } else if (s.withdrawn) a.withdrawn++;
      else if (s.overdue.includes('ack')) a.overdue++;
      else a.pending++;
    }
  };
  const order = (a: ComplianceRow, b: ComplianceRow) => cmp(a.from, b.from) || cmp(a.party, b.party) || cmp(a.precedence, b.precedence);
  return { add, rows: () => ({ receipts: [...receipts.values()].map(row).sort(order), acks: [...acks.values()].map(row).sort(order) }) };
}

/**
 * The columns of the receipt and acknowledgement CSV (GET /v1/compliance.csv),
 * in order: a {@link ComplianceRow}'s scalar fields. `withdrawn` (issue 13)
 * stands beside `pending` and `overdue`: count = onTime + overdue + pending +
 * withdrawn.
 */
export const COMPLIANCE_CSV_COLUMNS = ['from', 'party', 'precedence', 'count', 'onTime', 'overdue', 'pending', 'withdrawn', 'hitRate', 'p50Ms', 'p90Ms', 'p99Ms', 'maxMs'] as const satisfies readonly (keyof ComplianceRow)[];

/** The CSV of receipt or acknowledgement rows, {@link COMPLIANCE_CSV_COLUMNS} in order. */
export function complianceCsv(rows: readonly ComplianceRow[]): string {
  return formatCsv(COMPLIANCE_CSV_COLUMNS, rows.map((r) => COMPLIANCE_CSV_COLUMNS.map((c) => r[c])));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** RFC 4180 CSV: CRLF line ends; a field with a comma, quote or line break is quoted, quotes doubled. */
export function formatCsv(header: readonly string[], rows: readonly (readonly (string | number | null)[])[]): string {
  const field = (v: string | number | null) => {
    const s = v === null ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  return [header, ...rows].map((r) => r.map(field).join(',')).join('\r\n') + '\r\n';
}
