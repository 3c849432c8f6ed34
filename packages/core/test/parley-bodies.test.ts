/**
 * Entry bodies (src/entry/bodies.ts): the one registry of body checks. Good
 * bodies pass unchanged; every required member removed, every unknown member
 * added and every member replaced by a value of the wrong type fails with
 * ParseError ENTRY_MALFORMED, never another kind of exception.
 */
import { describe, expect, it } from 'vitest';
import { BODY_CHECKS, bodyProblem, checkBody, receiptRejection } from '../src/entry/bodies.js';
import { ENTRY_TYPES, type EntryType } from '../src/entry/envelope.js';
import { ParseError } from '../src/errors.js';
import { assertThrowsCode, onlyParleyErrors } from './helpers/assert.js';

const REPORT = {
  incident: 'US:2026-0007',
  kind: 'initial',
  title: 'Model weights exfiltrated',
  summary: 'A copy of the weights left the lab.',
  category: 'CY',
  severity: 5,
  stage: 'incident',
  system: { name: 'Frontier-1', developer: 'Lab', version: '2' },
  actor: { type: 'insider', description: 'a contractor' },
  harm: { types: ['security', 'economic'], description: 'loss of control' },
  mitigations: ['keys rotated'],
  occurredAt: '2026-01-02T03:04:05Z',
  detectedAt: '2026-01-02T04:00:00.123Z',
  lang: 'en',
};

/** One good body of every type, with every optional member present. */
const GOOD: { [T in EntryType]: Record<string, unknown> } = {
  'hotline.message': { text: '你好', lang: 'zh-CN' },
  'incident.report': REPORT,
  ack: { reply: 'seen', lang: 'en' },
  receipt: { receivedAt: '2026-01-02T03:04:05.678Z' },
  heartbeat: { treeSize: 12 },
  'accord.amendment': { proposal: { redLines: [] }, rationale: 'tighter' },
};
const REQUIRED: { [T in EntryType]: readonly string[] } = {
  'hotline.message': ['text'],
  'incident.report': ['incident', 'kind', 'title', 'summary', 'category', 'severity', 'stage', 'system', 'actor', 'harm', 'mitigations'],
  ack: [],
  receipt: ['receivedAt'],
  heartbeat: ['treeSize'],
  'accord.amendment': ['proposal'],
};
const WRONG: readonly unknown[] = [null, true, -1, 1.5, '', 'x'.repeat(30_000), [], {}, [1], { a: 1 }];

describe('entry bodies', () => {
  it('has a check for every entry type', () => {
    expect(Object.keys(BODY_CHECKS).sort()).toEqual([...ENTRY_TYPES].sort());
  });

  it('accepts a good body of every type, unchanged', () => {
    for (const t of ENTRY_TYPES) expect(checkBody(t, GOOD[t])).toEqual(GOOD[t]);
    expect(checkBody('ack', {})).toEqual({});
  });

  it('refuses the body that killed the incident index: {incident, kind}', () => {
    const e = assertThrowsCode(() => checkBody('incident.report', { incident: 'US:2026-0007', kind: 'initial' }), ParseError, 'ENTRY_MALFORMED');
    expect(bodyProblem('incident.report', { incident: 'US:2026-0007', kind: 'initial' })?.code).toBe(e.code);
  });

  it('refuses every required member missing and every unknown member', () => {
    for (const t of ENTRY_TYPES) {
      for (const k of REQUIRED[t]) {
        const { [k]: _, ...rest } = GOOD[t];
        assertThrowsCode(() => checkBody(t, rest), ParseError, 'ENTRY_MALFORMED');
      }
      assertThrowsCode(() => checkBody(t, { ...GOOD[t], extra: 1 }), ParseError, 'ENTRY_MALFORMED');
    }
    for (const nested of ['system', 'actor', 'harm'] as const) {
      assertThrowsCode(() => checkBody('incident.report', { ...REPORT, [nested]: { ...REPORT[nested], extra: 'x' } }), ParseError, 'ENTRY_MALFORMED');
    }
  });

  it('fails only with ENTRY_MALFORMED when any member has a value of the wrong type', () => {
    for (const t of ENTRY_TYPES) {
      for (const w of WRONG) {
        const whole = onlyParleyErrors(() => checkBody(t, w));
        if (whole) expect(whole.code).toBe('ENTRY_MALFORMED');
        for (const k of Object.keys(GOOD[t])) {
          const e = onlyParleyErrors(() => checkBody(t, { ...GOOD[t], [k]: w }));
          if (e) expect(e.code).toBe('ENTRY_MALFORMED');
          // Any object is a proposal; no mitigations is a list of mitigations.
          else expect(['accord.amendment.proposal={}', 'accord.amendment.proposal={"a":1}', 'incident.report.mitigations=[]']).toContain(`${t}.${k}=${JSON.stringify(w)}`);
        }
      }
    }
  });

  it('checks codes, bounds and times', () => {
    const bad: Record<string, unknown>[] = [
      { category: 'no-such-category' },
      { severity: 8 },
      { severity: 2.5 },
      { kind: 'draft' },
      { incident: 'us:1' },
      { harm: { types: ['security', 'nope'] } },
      { mitigations: Array.from({ length: 51 }, () => 'm') },
      { occurredAt: '2026-02-30T00:00:00Z' },
      { occurredAt: '2026-01-02T03:04Z' },
      { occurredAt: '2026-01-02T03:04:05+01:00' },
      { title: 'x'.repeat(301) },
      { lang: 'english language' },
    ];
    for (const b of bad) assertThrowsCode(() => checkBody('incident.report', { ...REPORT, ...b }), ParseError, 'ENTRY_MALFORMED');
    expect(checkBody('incident.report', { ...REPORT, occurredAt: '2024-02-29T00:00:00.5Z' }).occurredAt).toBe('2024-02-29T00:00:00.5Z');
    assertThrowsCode(() => checkBody('heartbeat', { treeSize: 2 ** 53 }), ParseError, 'ENTRY_MALFORMED');
    assertThrowsCode(() => checkBody('hotline.message', { text: '' }), ParseError, 'ENTRY_MALFORMED');
  });

  it('reads a rejection from a receipt, all three members or none', () => {
    const rejection: Record<string, unknown> = { receivedAt: '2026-01-02T03:04:05.678Z', status: 'rejected', code: 'ENTRY_MALFORMED', reason: 'body.title: missing' };
    expect(checkBody('receipt', rejection)).toEqual(rejection);
    expect(receiptRejection(rejection)).toEqual({ code: 'ENTRY_MALFORMED', reason: 'body.title: missing' });
    expect(receiptRejection(GOOD.receipt)).toBeUndefined();
    expect(receiptRejection({ receivedAt: 'yesterday', status: 'rejected', code: 'X', reason: 'y' })).toBeUndefined();
    for (const k of ['status', 'code', 'reason']) {
      const { [k]: _, ...partial } = rejection;
      assertThrowsCode(() => checkBody('receipt', partial), ParseError, 'ENTRY_MALFORMED');
    }
    assertThrowsCode(() => checkBody('receipt', { ...rejection, status: 'accepted' }), ParseError, 'ENTRY_MALFORMED');
    assertThrowsCode(() => checkBody('receipt', { ...rejection, code: 'lower case' }), ParseError, 'ENTRY_MALFORMED');
  });

  it('refuses an unknown entry type', () => {
    assertThrowsCode(() => checkBody('nope' as EntryType, {}), ParseError, 'ENTRY_MALFORMED');
  });
});
