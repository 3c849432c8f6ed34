/**
 * The delivery state of a withdrawn entry (issue 13, deadlines/state.ts) and
 * its compliance figures (deadlines/compliance.ts): pure functions, judged
 * at chosen clocks. A withdrawn entry needs no acknowledgement — whether the
 * retraction came before or after the ack deadline passed — is settled, and
 * counts as `withdrawn` in the ack figures (not pending, not overdue, not in
 * the hit rate); an acknowledgement given before the withdrawal stays
 * counted as given; a late receipt stays evidence; a rejection still wins.
 */
import { describe, expect, it } from 'vitest';
import type { AccordDeadlines } from '@parley/core/node';
import { type DeliveryFacts, compliance, deliveryState } from '../src/index.js';

const deadlines = { receiptSeconds: 60, ackSeconds: { FLASH: 300, IMMEDIATE: 600, PRIORITY: 3600, ROUTINE: 86400 }, initialReportSeconds: {} } as unknown as AccordDeadlines;
const t0 = Date.parse('2026-12-01T10:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000).toISOString();
const facts = (over: Partial<DeliveryFacts> = {}): DeliveryFacts => ({
  direction: 'received',
  party: 'US',
  index: 7,
  recipient: 'CN',
  type: 'hotline.message',
  precedence: 'FLASH',
  marking: 'TLP:AMBER',
  to: ['CN'],
  sentAt: at(0),
  receipt: { index: 3, at: at(1) },
  ...over,
});

describe('a withdrawn delivery', () => {
  it('is settled and never overdue, however late it is judged', () => {
    const open = deliveryState(facts(), deadlines, t0 + 3_600_000);
    expect(open.state).toBe('overdue-ack');
    const s = deliveryState(facts({ withdrawn: { index: 8, at: at(30) } }), deadlines, t0 + 365 * 86_400_000);
    expect(s).toMatchObject({ state: 'withdrawn', overdue: [], settled: true, withdrawn: { index: 8 } });
    expect(s.nextDueAt).toBeUndefined(); // nothing the clock can change
    expect(s.ackDueAt).toBeDefined(); // kept on record for the compliance figures
  });

  it('withdrawn after its ack deadline passed: no longer overdue', () => {
    const s = deliveryState(facts({ withdrawn: { index: 9, at: at(900) } }), deadlines, t0 + 1_000_000);
    expect(s).toMatchObject({ state: 'withdrawn', overdue: [], settled: true });
  });

  it('a late receipt stays evidence; a rejection still wins', () => {
    const late = deliveryState(facts({ receipt: { index: 3, at: at(120) }, withdrawn: { index: 8, at: at(10) } }), deadlines, t0 + 200_000);
    expect(late).toMatchObject({ state: 'withdrawn', overdue: ['receipt'] });
    const rejected = deliveryState(facts({ rejection: { index: 3, at: at(1), code: 'ENTRY_MALFORMED', reason: 'x' }, withdrawn: { index: 8, at: at(10) } }), deadlines, t0 + 200_000);
    expect(rejected.state).toBe('rejected');
  });

  it('counts as withdrawn in the ack figures; an ack given before the withdrawal counts as given', () => {
    const now = t0 + 86_400_000;
    const items = [
      deliveryState(facts({ index: 1, withdrawn: { index: 20, at: at(10) } }), deadlines, now),
      deliveryState(facts({ index: 2, withdrawn: { index: 21, at: at(10) }, ack: { index: 5, at: at(20), officer: 'wang' } }), deadlines, now),
      deliveryState(facts({ index: 3 }), deadlines, now),
    ];
    const { acks } = compliance(items, deadlines);
    expect(acks).toEqual([expect.objectContaining({ from: 'US', party: 'CN', precedence: 'FLASH', count: 3, withdrawn: 1, onTime: 1, overdue: 1, pending: 0, hitRate: 0.5 })]);
  });
});
