/**
 * Compose maps the node's problem details onto form fields: a
 * VALIDATION_FAILED issue at ["report", "system", "name"] lands on the
 * "report.system.name" field; a path with no field of its own lands on its
 * nearest named ancestor; anything else stays a form-level message.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/api.js';
import { mapProblem } from '../src/pages/compose/fields.js';

const FIELDS = ['to', 'report.title', 'report.system', 'report.system.name', 'report.mitigations'];
const problem = (issues: { in: string; path: (string | number)[]; message: string }[]) => new ApiError({ status: 400, code: 'VALIDATION_FAILED', issues });

describe('mapProblem', () => {
  it('puts each issue on the field its path names', () => {
    const { fields, unmapped } = mapProblem(problem([{ in: 'body', path: ['report', 'system', 'name'], message: 'Too big' }, { in: 'body', path: ['to', 0], message: 'a party id' }]), FIELDS, (m) => `! ${m}`);
    expect(fields).toEqual({ 'report.system.name': '! Too big', to: '! a party id' });
    expect(unmapped).toEqual([]);
  });
  it('falls back to the nearest named ancestor, and keeps the first message per field', () => {
    const { fields } = mapProblem(problem([{ in: 'body', path: ['report', 'mitigations', 3], message: 'empty' }, { in: 'body', path: ['report', 'mitigations', 4], message: 'also' }]), FIELDS, (m) => m);
    expect(fields).toEqual({ 'report.mitigations': 'empty' });
  });
  it('leaves what no field owns as a form-level message', () => {
    const { fields, unmapped } = mapProblem(problem([{ in: 'body', path: ['refs', 0, 'hash'], message: 'bad hash' }, { in: 'querystring', path: [], message: 'odd' }]), FIELDS, (m) => m);
    expect(fields).toEqual({});
    expect(unmapped).toEqual(['refs.0.hash: bad hash', 'querystring: odd']);
  });
});
