import { describe, expect, it } from 'vitest';
import { apiQuery, formatFilters, hasFilters, parseFilters } from '../src/pages/incidents/filters.js';

describe('incident filters', () => {
  it('round-trips through the page URL, dropping empties and bad values', () => {
    const f = parseFilters(new URLSearchParams('party=CN&category=UB&severity=5&status=open&from=2026-11-01&to=2026-11-26&q=%E6%A8%A1%E5%9E%8B&x=1'));
    expect(f).toEqual({ party: 'CN', category: 'UB', severity: 5, status: 'open', from: '2026-11-01', to: '2026-11-26', q: '模型' });
    expect(parseFilters(formatFilters(f))).toEqual(f);
    expect(parseFilters(new URLSearchParams('severity=9&from=yesterday&to=2026-02-30&q=%20%20&party='))).toEqual({});
    expect(formatFilters({}).toString()).toBe('');
    expect(hasFilters({})).toBe(false);
    expect(hasFilters({ severity: 0 })).toBe(true);
  });

  it('sends days as the UTC instants that bound the local days', () => {
    const q = new URLSearchParams(apiQuery({ from: '2026-11-01', to: '2026-11-01', severity: 0 }, { limit: 50, before: undefined }).slice(1));
    const from = new Date(q.get('from')!);
    const to = new Date(q.get('to')!);
    expect([from.getFullYear(), from.getMonth(), from.getDate(), from.getHours(), from.getMinutes()]).toEqual([2026, 10, 1, 0, 0]);
    expect([to.getFullYear(), to.getMonth(), to.getDate(), to.getHours()]).toEqual([2026, 10, 2, 0]);
    expect(q.get('severity')).toBe('0');
    expect(q.get('limit')).toBe('50');
    expect(q.has('before')).toBe(false);
    expect(apiQuery({})).toBe('');
  });
});
