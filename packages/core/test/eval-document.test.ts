/**
 * The evaluation document (src/eval/document.ts): a good document of each
 * stage splits into clear members and claims; every bad member is
 * EVAL_DOCUMENT_INVALID; the claims commit and open whole.
 */
import { describe, expect, it } from 'vitest';
import { evaluationClaims, parseEvaluationDocument } from '../src/eval/document.js';
import { commitClaims, openDisclosures } from '../src/eval/disclosure.js';
import { ParseError } from '../src/errors.js';
import { assertThrowsCode } from './helpers/assert.js';

const REPORT = {
  stage: 'report',
  model: { name: 'Frontier-1', version: '2026-11' },
  developer: 'Example Lab',
  evaluator: 'Example Institute',
  domains: ['CBRN', 'cyber'],
  suites: [{ name: 'cbrn-uplift', version: '3' }],
  redLines: { cbrn: { domain: 'CBRN', threshold: 'novice uplift', outcome: 'below', score: 0.12 }, cyber: { domain: 'cyber', threshold: 'autonomous exploit', outcome: 'inconclusive' } },
  report: { sha256: 'ab'.repeat(32), name: 'report.pdf' },
  notes: '中文注释',
};
const PROTOCOL = { ...REPORT, stage: 'protocol', redLines: { cbrn: { domain: 'CBRN', threshold: 'novice uplift' } } } as Record<string, unknown>;
delete PROTOCOL['report'];

describe('evaluation document', () => {
  it('splits a report: stage and domains in the clear, the rest claims that commit and open', () => {
    const d = parseEvaluationDocument(REPORT);
    expect(d.stage).toBe('report');
    expect(d.domains).toEqual(['CBRN', 'cyber']);
    expect(Object.keys(d.claims).sort()).toEqual(['developer', 'evaluator', 'model', 'notes', 'redLines', 'report', 'suites']);
    const { sd, disclosures } = commitClaims(d.claims);
    expect(openDisclosures(sd, disclosures.map((x) => x.encoded)).claims).toEqual(d.claims);
    expect(disclosures.map((x) => x.path)).toContain('redLines.cbrn.outcome');
  });

  it('takes a protocol without outcomes and without a report digest', () => {
    expect((evaluationClaims(PROTOCOL)['redLines'] as Record<string, unknown>)['cbrn']).toEqual({ domain: 'CBRN', threshold: 'novice uplift' });
  });

  it('refuses every bad member with EVAL_DOCUMENT_INVALID', () => {
    const bad: unknown[] = [
      null,
      [],
      { ...REPORT, stage: 'draft' },
      { ...REPORT, extra: 1 },
      { ...REPORT, model: { name: 'M' } },
      { ...REPORT, developer: '' },
      { ...REPORT, evaluator: 7 },
      { ...REPORT, domains: [] },
      { ...REPORT, domains: ['CBRN', 'CBRN'] },
      { ...REPORT, suites: [{ name: 'x' }] },
      { ...REPORT, redLines: {} },
      { ...REPORT, redLines: { 'a.b': { domain: 'CBRN', threshold: 't', outcome: 'below' } } },
      { ...REPORT, redLines: { cbrn: { domain: 'bio', threshold: 't', outcome: 'below' } } },
      { ...REPORT, redLines: { cbrn: { domain: 'CBRN', threshold: 't' } } },
      { ...REPORT, redLines: { cbrn: { domain: 'CBRN', threshold: 't', outcome: 'fine' } } },
      { ...REPORT, redLines: { cbrn: { domain: 'CBRN', threshold: 't', outcome: 'below', score: '1' } } },
      { ...PROTOCOL, redLines: { cbrn: { domain: 'CBRN', threshold: 't', outcome: 'below' } } },
      { ...REPORT, report: { sha256: 'AB'.repeat(32) } },
      { ...REPORT, report: undefined },
      { ...REPORT, notes: '' },
    ];
    for (const b of bad) assertThrowsCode(() => parseEvaluationDocument(JSON.parse(JSON.stringify(b)) as unknown), ParseError, 'EVAL_DOCUMENT_INVALID');
  });
});
