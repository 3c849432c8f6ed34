import { describe, expect, it } from 'vitest';
import type { Precedence } from '@parley/core';
import { COMPLIANCE_CSV_COLUMNS } from '@parley/node';
import {
  type ComplianceRow,
  defaultRow,
  formatLatency,
  formatMs,
  histogramData,
  histogramTotal,
  hitBars,
  inUnit,
  latencyBars,
  LATENCY_COLUMNS,
  latencyCsvRows,
  latencyUnit,
  maxPercentile,
  percent,
  pivotByDay,
  rowKey,
  sortRows,
  textWidth,
  bucketTicks,
} from '../src/pages/compliance/data.js';
import { toCsv } from '../src/pages/compliance/csv.js';

const row = (from: string, party: string, precedence: Precedence, over: Partial<ComplianceRow> = {}): ComplianceRow => ({
  party, from, precedence, count: 4, onTime: 3, overdue: 1, pending: 0, withdrawn: 0, hitRate: 0.75, p50Ms: 1200, p90Ms: 5000, p99Ms: 9000, maxMs: 9500,
  histogram: [{ leMs: 1000, count: 1 }, { leMs: 10000, count: 3 }, { leMs: null, count: 0 }], ...over,
});

describe('compliance data', () => {
  it('orders rows by sender, recipient, then precedence from FLASH down', () => {
    const rows = sortRows([row('US', 'CN', 'ROUTINE'), row('CN', 'US', 'PRIORITY'), row('US', 'CN', 'FLASH'), row('CN', 'EU', 'ROUTINE')]);
    expect(rows.map(rowKey)).toEqual(['CN→EU ROUTINE', 'CN→US PRIORITY', 'US→CN FLASH', 'US→CN ROUTINE']);
  });

  it('writes the server CSV columns, withdrawn among them, empty for nothing judged yet', () => {
    expect(LATENCY_COLUMNS).toEqual(COMPLIANCE_CSV_COLUMNS);
    const csv = toCsv(LATENCY_COLUMNS, latencyCsvRows([row('US', 'CN', 'FLASH', { count: 5, withdrawn: 1, hitRate: null, p50Ms: null })]));
    expect(csv).toBe('from,party,precedence,count,onTime,overdue,pending,withdrawn,hitRate,p50Ms,p90Ms,p99Ms,maxMs\r\nUS,CN,FLASH,5,3,1,0,1,,,5000,9000,9500\r\n');
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

describe('what the compliance charts show', () => {
  it('picks a latency unit that fits the largest value (never milliseconds: answers are timed to the second)', () => {
    expect(latencyUnit(null)).toBe('s');
    expect(latencyUnit(0)).toBe('s');
    expect(latencyUnit(119_999)).toBe('s');
    expect(latencyUnit(120_000)).toBe('min');
    expect(latencyUnit(7_199_999)).toBe('min');
    expect(latencyUnit(7_200_000)).toBe('h');
    expect(inUnit(90_000, 's')).toBe(90);
    expect(inUnit(210_000, 'min')).toBe(3.5);
    expect(inUnit(5_400_000, 'h')).toBe(1.5);
    expect(maxPercentile([row('US', 'CN', 'FLASH'), row('CN', 'US', 'ROUTINE', { p99Ms: 12_000 })])).toBe(12_000);
    expect(maxPercentile([row('US', 'CN', 'FLASH', { p50Ms: null, p90Ms: null, p99Ms: null })])).toBe(null);
  });

  it('labels a 0 % bar "0%" and draws it; a row nothing judged says so, not 0 %', () => {
    const bars = hitBars([row('US', 'CN', 'FLASH', { hitRate: 0 }), row('US', 'CN', 'ROUTINE', { hitRate: null }), row('CN', 'US', 'PRIORITY')], rowKey, 'not judged yet');
    expect(bars).toEqual([
      { key: 'US→CN FLASH', hit: 0, text: '0%', judged: true },
      { key: 'US→CN ROUTINE', hit: 0, text: 'not judged yet', judged: false },
      { key: 'CN→US PRIORITY', hit: 75, text: '75%', judged: true },
    ]);
  });

  it('puts every latency bar in the axis unit, each labelled in words that fit it', () => {
    const rows = [row('US', 'CN', 'FLASH', { p50Ms: 400, p90Ms: 4200, p99Ms: 150_000 }), row('US', 'CN', 'ROUTINE', { p50Ms: null, p90Ms: null, p99Ms: null })];
    const unit = latencyUnit(maxPercentile(rows));
    expect(unit).toBe('min');
    expect(latencyBars(rows, rowKey, unit, 'en', 'no answers yet')).toEqual([
      { key: 'US→CN FLASH', answered: true, p50: 0, p90: 0.1, p99: 2.5, p50Text: '< 1 s', p90Text: '4.2 s', p99Text: '2.5 min' },
      { key: 'US→CN ROUTINE', answered: false, p50: 0, p90: 0, p99: 0, p50Text: 'no answers yet', p90Text: '', p99Text: '' },
    ]);
    expect(latencyBars([rows[0]!], rowKey, 's', 'zh-CN', '尚无答复')[0]!.p50Text).toBe('不足 1 秒');
  });

  it('starts the distribution on a row with answers', () => {
    const empty = { histogram: [{ leMs: 1000, count: 0 }, { leMs: null, count: 0 }], p50Ms: null, p90Ms: null, p99Ms: null, hitRate: null };
    expect(defaultRow([row('CN', 'US', 'FLASH', empty), row('CN', 'US', 'IMMEDIATE', empty), row('CN', 'US', 'ROUTINE')])).toBe(2);
    expect(defaultRow([row('CN', 'US', 'FLASH'), row('CN', 'US', 'ROUTINE')])).toBe(0);
    expect(defaultRow([row('CN', 'US', 'FLASH', empty)])).toBe(0); // none has answers: the page says so
    expect(defaultRow([])).toBe(-1);
    expect(histogramTotal(row('CN', 'US', 'FLASH'))).toBe(4);
  });

  it('keeps every bucket label of the distribution: level on a desktop, turned on a phone', () => {
    // The node's buckets (GET /v1/compliance): ≤ 1 s … ≤ 24 h, then > 24 h.
    const histogram: ComplianceRow['histogram'] = [...[1, 5, 15, 30, 60, 300, 900, 3600, 14_400, 86_400].map((s) => ({ leMs: s * 1000, count: 0 })), { leMs: null, count: 1 }];
    const en = histogramData(row('CN', 'US', 'FLASH', { histogram }), 'en').map((h) => h.bucket);
    const zh = histogramData(row('CN', 'US', 'FLASH', { histogram }), 'zh-CN').map((h) => h.bucket);
    expect(en).toContain('≤ 15 min');
    expect(en.length).toBe(11);
    // 1280×800: the card is about 900 px wide, every label fits level.
    expect(bucketTicks(en, 11, 900, 60)).toMatchObject({ angle: 0, textAnchor: 'middle' });
    expect(bucketTicks(zh, 11, 900, 60)).toMatchObject({ angle: 0 });
    // 390×844: about 330 px for 11 buckets; recharts would drop every other label, so they turn, and the axis grows to hold them.
    const phone = bucketTicks(en, 11, 330, 60);
    expect(phone).toMatchObject({ angle: -45, textAnchor: 'end' });
    expect(phone.height).toBeGreaterThanOrEqual(Math.ceil(textWidth(en, 11, 0) * Math.SQRT1_2));
    expect(bucketTicks(zh, 11, 330, 60).angle).toBe(-45);
    // Not measured yet: level (the first render, before ResponsiveContainer knows its width).
    expect(bucketTicks(en, 11, 0, 60).angle).toBe(0);
  });

  it('sizes a category axis for its longest label, wider for Chinese', () => {
    const en = textWidth(['CN→US · Flash', 'CN→US · Immediate'], 12, 0);
    expect(en).toBeGreaterThanOrEqual(Math.ceil('CN→US · Immediate'.length * 0.6 * 12));
    expect(textWidth(['CN→US · 特急'], 12, 0)).toBeGreaterThan(textWidth(['CN→US · FL'], 12, 0));
    expect(textWidth(['特急特急'], 10, 0)).toBe(40);
    expect(textWidth([], 12, 8)).toBe(8);
  });
});
