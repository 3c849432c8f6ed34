/**
 * deadlines/compliance.ts on hand-made delivery statuses: counts, hit rates,
 * latencies measured from the judged send time, nearest-rank percentiles,
 * non-cumulative buckets, the date range, heartbeats left out of receipts.
 */
import { describe, expect, it } from 'vitest';
import type { AccordDeadlines } from '@parley/core';
import { LATENCY_BUCKETS_MS, compliance, deliveryState, type DeliveryFacts } from '../src/index.js';

const DEADLINES: AccordDeadlines = {
  receiptSeconds: 60,
  ackSeconds: { FLASH: 600, IMMEDIATE: 1800, PRIORITY: 3600, ROUTINE: 86_400 },
  initialReportSeconds: { '0': 1, '1': 1, '2': 1, '3': 1, '4': 1, '5': 1, '6': 1, '7': 1 },
};
const T0 = Date.parse('2026-11-26T00:00:00Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
let n = 0;

function delivery(o: { type?: string; precedence?: DeliveryFacts['precedence']; sent?: number; receipt?: number; ack?: number; to?: string }) {
  const facts: DeliveryFacts = {
    direction: 'sent',
    party: 'US',
    index: n++,
    recipient: o.to ?? 'CN',
    type: o.type ?? 'hotline.message',
    precedence: o.precedence ?? 'FLASH',
    marking: 'TLP:GREEN',
    to: [o.to ?? 'CN'],
    sentAt: at(o.sent ?? 0),
    ...(o.receipt !== undefined ? { receipt: { index: 100 + n, at: at(o.receipt) } } : {}),
    ...(o.ack !== undefined ? { ack: { index: 200 + n, at: at(o.ack), officer: 'wang' } } : {}),
  };
  return deliveryState(facts, DEADLINES, T0 + 10_000_000);
}

describe('compliance figures', () => {
  it('counts on time, late and missing answers, and measures latency from the send time', () => {
    const items = [
      delivery({ receipt: 1, ack: 30 }), // ack 30 s: on time
      delivery({ receipt: 2, ack: 120 }), // ack 2 min: on time
      delivery({ receipt: 3, ack: 900 }), // ack 15 min: late (FLASH 10 min)
      delivery({ receipt: 90 }), // receipt late, no ack: overdue
      delivery({ type: 'heartbeat', precedence: 'ROUTINE', receipt: 1 }), // not in receipts, needs no ack
      delivery({ precedence: 'ROUTINE', sent: 9_999_000 }), // not due yet: pending
    ];
    const { receipts, acks } = compliance(items, DEADLINES);
    const flash = acks.find((r) => r.precedence === 'FLASH')!;
    expect(flash).toMatchObject({ party: 'CN', from: 'US', count: 4, onTime: 2, overdue: 2, pending: 0, hitRate: 0.5, p50Ms: 120_000, p90Ms: 900_000, maxMs: 900_000 });
    expect(flash.histogram.map((b) => b.count)).toEqual([0, 0, 0, 1, 0, 1, 1, 0, 0, 0, 0]);
    expect(flash.histogram.map((b) => b.leMs)).toEqual([...LATENCY_BUCKETS_MS, null]);
    expect(acks.find((r) => r.precedence === 'ROUTINE')).toMatchObject({ count: 1, pending: 1, hitRate: null, p50Ms: null });
    expect(receipts.find((r) => r.precedence === 'FLASH')).toMatchObject({ count: 4, onTime: 3, overdue: 1, p50Ms: 2000, maxMs: 90_000 });
    expect(receipts.find((r) => r.precedence === 'ROUTINE')).toMatchObject({ count: 1 }); // the heartbeat is left out
  });

  it('keeps only deliveries sent within the range', () => {
    const items = [delivery({ sent: 0, receipt: 1, ack: 2 }), delivery({ sent: 86_400, receipt: 86_401, ack: 86_402 })];
    expect(compliance(items, DEADLINES, { fromMs: T0 + 3600_000 }).acks[0]!.count).toBe(1);
    expect(compliance(items, DEADLINES, { toMs: T0 - 1 }).acks).toEqual([]);
  });
});
