/**
 * `parley accord propose --set` on officers' roles (issue 11, core
 * accord/roles.ts): one action is set alone on an accord that has no
 * `roles` member yet (the defaults fill the rest), the draft parses, and
 * core's accordDiff shows just that action.
 */
import { describe, expect, it } from 'vitest';
import { type Accord, DEFAULT_ROLES, accordDiff, draftAccord, formatBase64, formatVerifierKey, generateSignerKey, parseAccord, verifierKeyOf } from '@parley/core/node';
import { applySet } from '../dist/governance.js';

const party = (id: string) => ({ id, names: { en: id, 'zh-CN': id }, urls: [`https://${id.toLowerCase()}.example`], logKey: formatVerifierKey(verifierKeyOf(generateSignerKey(`${id.toLowerCase()}.example/log`))), hpkeKey: formatBase64(new Uint8Array(32).fill(1)) });
const v1 = draftAccord({ name: 'set-test', parties: [party('CN'), party('US')] });

describe('--set roles.ACTION', () => {
  it('sets one action on an accord without roles; the rest are the defaults; the diff names only that action', () => {
    const draft = JSON.parse(JSON.stringify(v1)) as Accord;
    applySet(draft, 'roles.flash=["admin"]');
    const next = parseAccord(draft);
    expect(next.roles).toEqual({ ...DEFAULT_ROLES, flash: ['admin'] });
    expect(accordDiff(v1, next)).toEqual([{ path: 'roles.flash', from: ['admin', 'officer'], to: ['admin'] }]);
  });
  it('a role that cannot be granted is refused when the draft is parsed (ACCORD_MALFORMED)', () => {
    const draft = JSON.parse(JSON.stringify(v1)) as Accord;
    applySet(draft, 'roles.amend=["auditor"]');
    expect(() => parseAccord(draft)).toThrow(expect.objectContaining({ code: 'ACCORD_MALFORMED' }));
  });
});
