import { describe, expect, it } from 'vitest';
import type { Precedence } from '@parley/core';
import { type ComplianceRow, formatLatency, formatMs, histogramData, latencyCsvRows, percent, pivotByDay, rowKey, sortRows } from '../src/pages/compliance/data.js';
import { toCsv } from '../src/pages/compliance/csv.js';

const row = (from: string, party: string, precedence: Precedence, over: Partial<ComplianceRow> = {}): ComplianceRow => ({
  party, from, precedence, count: 4, onTime: 3, overdue: 1, pending: 0, hitRate: 0.75, p50Ms: 1200, p90Ms: 5000, p99Ms: 9000, maxMs: 9500,
  histogram: [{ leMs: 1000, count: 1 }, { leMs: 10000, count: 3 }, { leMs: null, count: 0 }], ...over,
});

describe('compliance data', () => {
  it('orders rows by sender, recipient, then precedence from FLASH down', () => {
    const rows = sortRows([row('US', 'CN', 'ROUTINE'), row('CN', 'US', 'PRIORITY'), row('US', 'CN', 'FLASH'), row('CN', 'EU', 'ROUTINE')]);
    expect(rows.map(rowKey)).toEqual(['CN→EU ROUTINE', 'CN→US PRIORITY', 'US→CN FLASH', 'US→CN ROUTINE']);
  });

  it('writes the server CSV columns, empty for nothing judged yet', () => {
    const csv = toCsv(['from', 'party', 'precedence', 'count', 'onTime', 'overdue', 'pending', 'hitRate', 'p50Ms', 'p90Ms', 'p99Ms', 'maxMs'], latencyCsvRows([row('US', 'CN', 'FLASH', { hitRate: null, p50Ms: null })]));
    expect(csv).toBe('from,party,precedence,count,onTime,overdue,pending,hitRate,p50Ms,p90Ms,p99Ms,maxMs\r\nUS,CN,FLASH,4,3,1,0,,,5000,9000,9500\r\n');
  });

  it('pivots incident counts by day with every series on every day', () => {
    const { days, series } = pivotByDay(
      [
        { day: '2026-11-25', category: 'UB', severity: 5, count: 1 },
        { day: '2026-11-24', category: 'WT', severity: 2, count: 2 },
        { day: '2026-11-25', category: 'WT', severity: 5, count: 1 },
      ],
      'category',
    );
    expect(series).toEqual(['UB', 'WT']);
    expect(days).toEqual([{ day: '2026-11-24', UB: 0, WT: 2 }, { day: '2026-11-25', UB: 1, WT: 1 }]);
    const sev = pivotByDay([{ day: 'd', category: 'UB', severity: 10 % 8, count: 1 }, { day: 'd', category: 'WT', severity: 2, count: 3 }, { day: 'd', category: 'UB', severity: 0, count: 1 }], 'severity');
    expect(sev.series).toEqual(['s0', 's2']);
    expect(sev.days).toEqual([{ day: 'd', s0: 1, s2: 4 }]);
  });

  it('formats latencies and percentages for people', () => {
    expect(formatMs(850, 'en')).toBe('850 ms');
    expect(formatMs(4200, 'en')).toBe('4.2 s');
    expect(formatMs(210_000, 'zh-CN')).toBe('3.5 分钟');
    expect(formatMs(null, 'en')).toBe('—');
    // Latencies are judged by whole-second cosignature times: under a second is not "0 ms".
    expect(formatLatency(0, 'en')).toBe('< 1 s');
    expect(formatLatency(999, 'zh-CN')).toBe('不足 1 秒');
    expect(formatLatency(4200, 'en')).toBe('4.2 s');
    expect(formatLatency(null, 'en')).toBe('—');
    expect(percent(0.75)).toBe(75);
    expect(percent(2 / 3)).toBe(66.7);
    expect(percent(null)).toBe(null);
    expect(histogramData(row('US', 'CN', 'FLASH'), 'en').map((b) => b.bucket)).toEqual(['≤ 1 s', '≤ 10 s', '> 10 s']);
  });
});
