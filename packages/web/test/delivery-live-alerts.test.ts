/**
 * The dashboard's logic for issue 9, without a browser:
 *
 *   - the outbox's reading of each recipient's delivery (deliveryLabel):
 *     acknowledged late (+N s) is its own state, not "overdue"; every listed
 *     entry is read from its own deliveries, however many came after
 *   - live refresh: only events that concern a page, coalesced — a steady
 *     stream still gets re-reads through, a burst makes one
 *   - alerts: what raises and clears one, the tab title, the stored preference
 *   - times carry their zone, and seconds when asked
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { deliveryLabel } from '../src/entries.js';
import { coalesce, concernsBox, concernsEntry } from '../src/live.js';
import { alertOf, alertTitle, applyAlert, loadPrefs, savePrefs, type Alert } from '../src/alerts.js';
import { formatTime, timeOptions } from '../src/components/time.js';
import type { Deadline } from '../src/types.js';
import type { ServerEvent } from '../src/events.js';

const T0 = Date.parse('2026-05-14T08:00:00Z');
const iso = (ms: number) => new Date(T0 + ms).toISOString();

function delivery(over: Partial<Deadline> = {}): Deadline {
  return { recipient: 'CN', state: 'sent', dueAt: iso(300_000), overdue: [], settled: false, receiptDueAt: iso(30_000), ackDueAt: iso(300_000), ...over } as Deadline;
}
const receipt = (at: number, onTime = true) => ({ index: 3, at: iso(at), judgedAt: iso(at), onTime });
const ack = (at: number, onTime: boolean) => ({ index: 4, at: iso(at), judgedAt: iso(at), onTime, officer: 'wang', reply: '收到' });

describe('deliveryLabel (outbox)', () => {
  it('reads sent, received, acknowledged, and overdue while no answer came', () => {
    expect(deliveryLabel(delivery(), T0 + 1000)).toEqual({ label: 'sent' });
    expect(deliveryLabel(delivery(), T0 + 31_000)).toEqual({ label: 'overdue-receipt' }); // by this clock, before the node says so
    expect(deliveryLabel(delivery({ state: 'received', receipt: receipt(2000) }), T0 + 5000)).toEqual({ label: 'received' });
    expect(deliveryLabel(delivery({ state: 'overdue-ack', overdue: ['ack'], receipt: receipt(2000) }), T0 + 400_000)).toEqual({ label: 'overdue-ack' });
    expect(deliveryLabel(delivery({ state: 'acknowledged', settled: true, receipt: receipt(2000), ack: ack(60_000, true) }), T0 + 9e9)).toEqual({ label: 'acknowledged' });
  });

  it('reads an acknowledgement after its deadline as "acknowledged late (+N s)", not overdue, at any later time', () => {
    const late = delivery({ state: 'overdue-ack', overdue: ['ack'], settled: true, dueAt: iso(300_000), receipt: receipt(2000), ack: ack(312_400, false) });
    for (const now of [T0 + 320_000, T0 + 20 * 60_000, T0 + 86_400_000]) expect(deliveryLabel(late, now)).toEqual({ label: 'acknowledged-late', lateSeconds: 13 });
  });

  it('reads each of 1,100 listed entries from its own deliveries: the oldest acknowledged FLASH stays acknowledged', () => {
    // The old outbox matched rows against the newest 1,000 deliveries of GET /v1/deadlines; the listing now carries each entry's own.
    const listed = Array.from({ length: 1100 }, (_, i) => ({ index: 1100 - i, deadlines: [i === 1099 ? delivery({ state: 'acknowledged', settled: true, receipt: receipt(1000), ack: ack(5000, true) }) : delivery()] }));
    const labels = listed.map((v) => deliveryLabel(v.deadlines[0]!, T0 + 20 * 60_000).label);
    expect(labels.at(-1)).toBe('acknowledged');
    expect(labels.slice(0, -1).every((l) => l === 'overdue-receipt')).toBe(true);
  });
});

const ev = (event: string, data: Record<string, unknown>): ServerEvent => ({ event, data });

describe('which events concern a page', () => {
  it('an entry page: its own entry and deliveries only, and resyncs', () => {
    expect(concernsEntry(ev('deadline', { party: 'US', index: 7, recipient: 'CN', state: 'acknowledged' }), 'US', 7)).toBe(true);
    expect(concernsEntry(ev('deadline', { party: 'US', index: 8, recipient: 'CN', state: 'sent' }), 'US', 7)).toBe(false);
    expect(concernsEntry(ev('entry', { party: 'CN', index: 7, type: 'heartbeat', direction: 'in' }), 'US', 7)).toBe(false);
    expect(concernsEntry(ev('checkpoint', { party: 'US', size: 9 }), 'US', 7)).toBe(false);
    expect(concernsEntry({ event: 'reconnected', data: null }, 'US', 7)).toBe(true);
  });
  it('a box: its direction and types, and deliveries of its side', () => {
    const types = ['hotline.message', 'incident.report'];
    expect(concernsBox(ev('entry', { party: 'CN', index: 1, type: 'hotline.message', direction: 'in' }), 'in', 'US', types)).toBe(true);
    expect(concernsBox(ev('entry', { party: 'CN', index: 2, type: 'heartbeat', direction: 'in' }), 'in', 'US', types)).toBe(false);
    expect(concernsBox(ev('entry', { party: 'US', index: 2, type: 'receipt', direction: 'out' }), 'in', 'US', types)).toBe(false);
    expect(concernsBox(ev('deadline', { party: 'CN', index: 1, recipient: 'US', state: 'overdue-ack' }), 'in', 'US')).toBe(true);
    expect(concernsBox(ev('deadline', { party: 'US', index: 1, recipient: 'CN', state: 'received' }), 'in', 'US')).toBe(false);
    expect(concernsBox(ev('deadline', { party: 'US', index: 1, recipient: 'CN', state: 'received' }), 'out', 'US')).toBe(true);
  });
});

describe('coalesce', () => {
  afterEach(() => vi.useRealTimers());

  it('makes one re-read of a burst, and one more for triggers during a re-read', async () => {
    vi.useFakeTimers();
    let runs = 0;
    let release: () => void = () => undefined;
    const c = coalesce(() => {
      runs++;
      return new Promise<void>((r) => (release = r));
    }, 100);
    for (let i = 0; i < 72; i++) c.trigger();
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(1);
    for (let i = 0; i < 10; i++) c.trigger(); // during the read: not aborted, one more after it
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(1);
    release();
    await vi.advanceTimersByTimeAsync(100);
    expect(runs).toBe(2);
    release();
    await vi.advanceTimersByTimeAsync(1000);
    expect(runs).toBe(2);
  });

  it('still re-reads under a steady stream of events (a restarting debounce never would)', async () => {
    vi.useFakeTimers();
    let runs = 0;
    const c = coalesce(() => void runs++, 300);
    for (let t = 0; t < 14_000; t += 200) {
      c.trigger();
      await vi.advanceTimersByTimeAsync(200);
    }
    // 70 events in 14 s: a re-read every 300–400 ms, not 70 and not 0.
    expect(runs).toBeGreaterThanOrEqual(30);
    expect(runs).toBeLessThanOrEqual(47);
  });
});

describe('alerts', () => {
  it('raise on a FLASH arriving, a link down and a fork; clear on the FLASH acknowledged and the link up', () => {
    let list: readonly Alert[] = [];
    for (const e of [
      ev('entry', { party: 'CN', index: 4, type: 'hotline.message', precedence: 'FLASH', direction: 'in' }),
      ev('entry', { party: 'CN', index: 5, type: 'hotline.message', precedence: 'ROUTINE', direction: 'in' }),
      ev('entry', { party: 'US', index: 9, type: 'hotline.message', precedence: 'FLASH', direction: 'out' }),
      ev('entry', { party: 'CN', index: 6, type: 'receipt', precedence: 'FLASH', direction: 'in' }),
      ev('link', { party: 'EU', state: 'down' }),
      ev('link', { party: 'EU', state: 'down' }),
      ev('fork', { party: 'EU' }),
    ])
      list = applyAlert(list, alertOf(e));
    expect(list.map((a) => a.key)).toEqual(['fork/EU', 'link-down/EU', 'flash/CN/4']);
    list = applyAlert(list, alertOf(ev('link', { party: 'EU', state: 'up' })));
    list = applyAlert(list, alertOf(ev('deadline', { party: 'CN', index: 4, recipient: 'US', state: 'acknowledged' })));
    expect(list.map((a) => a.key)).toEqual(['fork/EU']);
  });

  it('count in the tab title, whatever the page set it to', () => {
    expect(alertTitle('Inbox — Parley', 2)).toBe('⚠ 2 · Inbox — Parley');
    expect(alertTitle('⚠ 2 · Inbox — Parley', 3)).toBe('⚠ 3 · Inbox — Parley');
    expect(alertTitle('⚠ 2 · Inbox — Parley', 0)).toBe('Inbox — Parley');
  });

  it('keep the sound and desktop preference', () => {
    const m = new Map<string, string>();
    const storage = { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v) };
    expect(loadPrefs(storage)).toEqual({ sound: false, desktop: false });
    savePrefs({ sound: true, desktop: false }, storage);
    expect(loadPrefs(storage)).toEqual({ sound: true, desktop: false });
    m.set('parley.alerts', '{broken');
    expect(loadPrefs(storage)).toEqual({ sound: false, desktop: false });
  });
});

describe('times', () => {
  it('name their zone, with seconds where deadlines are seconds', () => {
    const at = '2026-05-14T08:00:07Z';
    const short = formatTime(at, 'en', { ...timeOptions(true, true), timeZone: 'Asia/Shanghai' });
    expect(short).toMatch(/16:00:07|04:00:07/);
    expect(short).toContain('GMT+8');
    expect(formatTime(at, 'en', { ...timeOptions(false, false), timeZone: 'UTC' })).toMatch(/8:00:07.*UTC/);
    expect(formatTime(at, 'zh-CN', { ...timeOptions(true, false), timeZone: 'Asia/Shanghai' })).toMatch(/GMT\+8|UTC\+8/);
  });
});
