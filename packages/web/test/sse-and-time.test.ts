/**
 * The event-stream parser (HTML Living Standard §9.2.6, "Interpreting an
 * event stream") and the countdown's duration format.
 */
import { describe, expect, it } from 'vitest';
import { parseSse, type ServerEvent } from '../src/events.js';
import { formatDuration } from '../src/components/time.js';
import { compareInbox } from '../src/entries.js';
import type { EntryView } from '../src/types.js';

function feed(chunks: readonly string[]): ServerEvent[] {
  const out: ServerEvent[] = [];
  const state: { event: string; data: string[]; id?: string } = { event: 'message', data: [] };
  let buf = '';
  for (const c of chunks) buf = parseSse(buf + c, (e) => out.push(e), state);
  return out;
}

describe('parseSse', () => {
  it('dispatches on a blank line, with event, id and JSON data', () => {
    expect(feed(['id: 7\nevent: entry\ndata: {"party":"CN","index":3}\n\n'])).toEqual([{ event: 'entry', data: { party: 'CN', index: 3 }, id: '7' }]);
  });
  it('joins data lines with LF, keeps non-JSON as text, ignores comments', () => {
    expect(feed([': keepalive\n\ndata: a\ndata: b\n\n'])).toEqual([{ event: 'message', data: 'a\nb' }]);
  });
  it('reassembles events split across chunks and CRLF line ends', () => {
    expect(feed(['event: dead', 'line\r\ndata: {"state":"ov', 'erdue-ack"}\r\n', '\r\n'])).toEqual([{ event: 'deadline', data: { state: 'overdue-ack' } }]);
  });
  it('resets the event name after each dispatch; an event without data is not dispatched', () => {
    expect(feed(['event: reset\n\nevent: x\ndata: 1\n\ndata: 2\n\n'])).toEqual([
      { event: 'x', data: 1 },
      { event: 'message', data: 2 },
    ]);
  });
});

describe('formatDuration', () => {
  it('shows seconds under an hour and drops them above', () => {
    expect(formatDuration(299_400, 'en')).toBe('4 m 59 s');
    expect(formatDuration(12_300, 'en')).toBe('12 s');
    expect(formatDuration(3_723_000, 'en')).toBe('1 h 02 m');
    expect(formatDuration(-65_000, 'en')).toBe('1 m 05 s');
  });
  it('writes whole configured deadlines plainly, in either language', () => {
    expect(formatDuration(600_000, 'en')).toBe('10 m');
    expect(formatDuration(7_200_000, 'en')).toBe('2 h');
    expect(formatDuration(86_400_000, 'zh-CN')).toBe('1天');
    expect(formatDuration(1_800_000, 'zh-CN')).toBe('30分');
  });
});

describe('inbox order', () => {
  const view = (index: number, precedence: EntryView['entry']['precedence'], dueAt: string, acked = false): EntryView =>
    ({
      party: 'CN',
      index,
      leafHash: '',
      entry: { type: 'hotline.message', precedence, time: '2026-01-01T00:00:00Z' },
      deadlines: [{ recipient: 'US', state: 'received', dueAt, overdue: [], settled: false }],
      ...(acked ? { state: { ack: { index: 1, time: '2026-01-01T00:00:01Z', officer: 'x' } } } : {}),
    }) as unknown as EntryView;
  it('puts unacknowledged first, FLASH before IMMEDIATE before ROUTINE, then the nearest deadline', () => {
    const items = [
      view(1, 'ROUTINE', '2026-01-01T00:01:00Z'),
      view(2, 'FLASH', '2026-01-01T00:10:00Z', true),
      view(3, 'IMMEDIATE', '2026-01-01T00:05:00Z'),
      view(4, 'FLASH', '2026-01-01T00:09:00Z'),
      view(5, 'FLASH', '2026-01-01T00:08:00Z'),
    ];
    expect([...items].sort(compareInbox('US')).map((v) => v.index)).toEqual([5, 4, 3, 1, 2]);
  });
});
