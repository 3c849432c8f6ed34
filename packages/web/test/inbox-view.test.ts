/** The inbox's view in the URL (src/pages/inbox/view.ts): show=all&type=…, the listings it reads, and the text filter. */
import { describe, expect, it } from 'vitest';
import { ALL_TYPES, formatBoxView, listingsOf, matchesText, parseBoxView, typesOf } from '../src/pages/inbox/view.js';
import type { EntryView } from '../src/types.js';

const p = (s: string) => new URLSearchParams(s);

describe('inbox view', () => {
  it('reads the view from the URL, ignoring what it does not know', () => {
    expect(parseBoxView(p(''))).toEqual({ scope: 'action' });
    expect(parseBoxView(p('show=all'))).toEqual({ scope: 'all' });
    expect(parseBoxView(p('show=all&type=ack'))).toEqual({ scope: 'all', type: 'ack' });
    expect(parseBoxView(p('show=all&type=heartbeat'))).toEqual({ scope: 'all' }); // Link health's, not the inbox's
    expect(parseBoxView(p('show=all&type=nonsense'))).toEqual({ scope: 'all' });
    expect(parseBoxView(p('type=ack'))).toEqual({ scope: 'action' }); // a type only narrows "all entries"
    expect(parseBoxView(p('show=everything'))).toEqual({ scope: 'action' });
  });

  it('writes it back, keeping the page\'s other parameters', () => {
    expect(formatBoxView({ scope: 'all', type: 'receipt' }).toString()).toBe('show=all&type=receipt');
    expect(formatBoxView({ scope: 'action' }, p('show=all&type=ack&x=1')).toString()).toBe('x=1');
    for (const type of ALL_TYPES) expect(parseBoxView(formatBoxView({ scope: 'all', type }))).toEqual({ scope: 'all', type });
  });

  it('reads one listing per view, asking the node for the type', () => {
    // Deployment notices are acknowledged too (issue 12, core's entry-type registry).
    expect(listingsOf({ scope: 'action' }, 'inbox')).toEqual([{ type: 'hotline.message' }, { type: 'incident.report' }, { type: 'deployment.notice' }]);
    expect(listingsOf({ scope: 'all' }, 'inbox')).toEqual([{ all: 1 }]);
    expect(listingsOf({ scope: 'all' }, 'outbox')).toEqual([{}]);
    expect(listingsOf({ scope: 'all', type: 'receipt' }, 'inbox')).toEqual([{ type: 'receipt' }]);
    expect(typesOf({ scope: 'all', type: 'ack' })).toEqual(['ack']);
    expect(typesOf({ scope: 'all' })).toEqual(ALL_TYPES);
  });

  it('filters by every word, across summary, sender, type, incident and position', () => {
    const v = {
      party: 'CN',
      index: 12,
      entry: { type: 'incident.report', precedence: 'FLASH', marking: 'TLP:AMBER', from: { party: 'CN', officer: 'wang' } },
      body: { kind: 'initial', incident: 'CN:2026-0042', title: 'Weights copied to an unknown host' },
    } as unknown as EntryView;
    expect(matchesText(v, '', 'Incident report')).toBe(true);
    expect(matchesText(v, 'weights HOST', 'Incident report')).toBe(true);
    expect(matchesText(v, 'cn/12', '事件报告')).toBe(true);
    expect(matchesText(v, '0042 flash', 'Incident report')).toBe(true);
    expect(matchesText(v, '事件', '事件报告')).toBe(true);
    expect(matchesText(v, 'weights routine', 'Incident report')).toBe(false);
    expect(matchesText(v, 'wang amber', 'x')).toBe(true);
  });
});
