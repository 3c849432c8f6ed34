/**
 * Time (src/eval/timeline.ts): provenBy takes the earliest trusted time over
 * covering checkpoints — other parties' cosignatures, k-of-n time stamps —
 * never the owner's; the timeline says "committed N days before deployment"
 * in both languages. And the provability text exists in both languages.
 */
import { describe, expect, it } from 'vitest';
import { EVALUATION_PROVABILITY, evaluationTimeline, provenBy, timestampTime } from '../src/index.js';
import { ParseError } from '../src/errors.js';
import { assertThrowsCode } from './helpers/assert.js';
import { scenario, secs } from './helpers/evaluation.js';

const T = (iso: string) => new Date(iso);

describe('provenBy', () => {
  it('takes the earliest trusted time over checkpoints covering the entry; never the owner, never a checkpoint too small', () => {
    const cps = [
      { treeSize: 3, cosignatures: [{ party: 'CN', timestamp: secs('2026-11-01T00:00:00Z') }] }, // does not cover index 3
      { treeSize: 4, cosignatures: [{ party: 'US', timestamp: secs('2026-11-01T00:10:00Z') }, { party: 'CN', timestamp: secs('2026-11-02T00:00:00Z') }] },
      { treeSize: 9, cosignatures: [{ party: 'EU', timestamp: secs('2026-11-01T12:00:00Z') }] },
    ];
    expect(provenBy(3, cps, 'US')).toEqual({ time: T('2026-11-01T12:00:00Z'), how: 'cosignature', treeSize: 9, by: ['EU'] });
    expect(provenBy(9, cps, 'US')).toBeUndefined();
    expect(provenBy(0, [{ treeSize: 1, cosignatures: [{ party: 'US', timestamp: 1 }] }], 'US')).toBeUndefined();
  });

  it("counts a checkpoint's time stamps only when k distinct authorities stamped it, at the k-th smallest time", () => {
    const ts = [
      { authority: 'a', genTime: T('2026-11-01T00:05:00Z') },
      { authority: 'a', genTime: T('2026-11-01T00:01:00Z') }, // the same authority twice counts once, at its earliest
      { authority: 'b', genTime: T('2026-11-01T00:03:00Z') },
      { authority: 'c', genTime: T('2026-11-01T00:09:00Z') },
    ];
    expect(timestampTime(ts, 1)).toEqual({ time: T('2026-11-01T00:01:00Z'), by: ['a'] });
    expect(timestampTime(ts, 2)).toEqual({ time: T('2026-11-01T00:03:00Z'), by: ['a', 'b'] });
    expect(timestampTime(ts, 3)!.time).toEqual(T('2026-11-01T00:09:00Z'));
    expect(timestampTime(ts, 4)).toBeUndefined();
    const cp = { treeSize: 5, timestamps: ts, required: 2, cosignatures: [{ party: 'CN', timestamp: secs('2026-11-01T00:04:00Z') }] };
    expect(provenBy(1, [cp], 'US')).toMatchObject({ how: 'timestamp', by: ['a', 'b'] });
    expect(provenBy(1, [{ ...cp, required: 3 }], 'US')).toMatchObject({ how: 'cosignature', by: ['CN'] });
  });
});

describe('evaluationTimeline', () => {
  const { log } = scenario();
  const [commitment, , notice] = log.entries;
  it('days, margin and statement in both languages', () => {
    const t = evaluationTimeline({ commitment: { entry: commitment!.entry, provenBy: T('2026-11-01T01:00:00Z') }, notice: { entry: notice!.entry } });
    expect(t).toMatchObject({ committedBefore: true, days: 18, marginSeconds: 18 * 86400 + 23 * 3600, deployedAt: '2026-11-20T00:00:00Z', provenBy: '2026-11-01T01:00:00.000Z' });
    expect(t.statement.en).toBe('Committed 18 days before deployment (proven by 2026-11-01T01:00:00.000Z).');
    expect(t.statement['zh-CN']).toContain('在部署前 18 天作出承诺');
    const hours = evaluationTimeline({ commitment: { entry: commitment!.entry, provenBy: T('2026-11-19T21:30:00Z') }, notice: { entry: notice!.entry } });
    expect(hours).toMatchObject({ committedBefore: true, days: 0 });
    expect(hours.statement.en).toContain('2 h 30 min before deployment');
    const after = evaluationTimeline({ commitment: { entry: commitment!.entry, provenBy: T('2026-11-20T00:00:00Z') }, notice: { entry: notice!.entry } });
    expect(after).toMatchObject({ committedBefore: false, days: 0, marginSeconds: 0 });
    const none = evaluationTimeline({ commitment: { entry: commitment!.entry }, notice: { entry: notice!.entry } });
    expect(none.committedBefore).toBe(false);
    expect(none.marginSeconds).toBeUndefined();
  });
  it('a sealed notice needs its opened body', () => {
    const sealed = { ...notice!.entry, body: { sealed: { aead: 'AES-256-GCM' as const, commitment: '', recipients: [] } } };
    assertThrowsCode(() => evaluationTimeline({ commitment: { entry: commitment!.entry }, notice: { entry: sealed } }), ParseError, 'ENTRY_MALFORMED');
    expect(evaluationTimeline({ commitment: { entry: commitment!.entry, provenBy: T('2026-11-10T00:00:00Z') }, notice: { entry: sealed, body: (notice!.entry.body as { clear: unknown }).clear } }).days).toBe(10);
  });
});

describe('EVALUATION_PROVABILITY', () => {
  it('says what is provable to whom, and what never is, in both languages', () => {
    expect(EVALUATION_PROVABILITY).toHaveLength(4);
    for (const p of EVALUATION_PROVABILITY) {
      expect(p.en.length).toBeGreaterThan(20);
      expect(p['zh-CN'].length).toBeGreaterThan(10);
    }
    expect(EVALUATION_PROVABILITY[3]!.en).toMatch(/not that the tests were adequate/);
  });
});
