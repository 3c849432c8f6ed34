/**
 * Officers' roles by accord (accord/roles.ts): the optional `roles` member,
 * its defaults (absent = the behaviour before it existed), an amendment that
 * changes it, and the diff every interface shows.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_ROLES, accordDiff, accordId, draftAmendment, parseAccord, parseRoles, permits, rolesOf, verifyAccordChain, verifyAmendment } from '../src/index.js';
import { ParseError } from '../src/errors.js';
import { assertThrowsCode } from './helpers/assert.js';
import { logKey, scenario, sign } from './fixtures/accord-chain.js';

const sc = scenario();
const [v1] = sc.verified;

describe('officers\u2019 roles in the accord', () => {
  it('means today\u2019s behaviour when absent: FLASH and reports by admins and officers, amendments by admins, nothing by auditors', () => {
    const a = v1!.accord;
    expect(a.roles).toBeUndefined();
    expect(rolesOf(a)).toEqual(DEFAULT_ROLES);
    for (const role of ['admin', 'officer']) {
      expect(permits(a, role, 'flash')).toBe(true);
      expect(permits(a, role, 'report')).toBe(true);
    }
    expect(permits(a, 'admin', 'amend')).toBe(true);
    expect(permits(a, 'officer', 'amend')).toBe(false);
    for (const action of ['flash', 'report', 'amend'] as const) expect(permits(a, 'auditor', action)).toBe(false);
    // An accord without the member keeps its bytes, so its id (the channel) does not move.
    expect(accordId(parseAccord(JSON.parse(JSON.stringify(a))))).toBe(v1!.id);
  });

  it('is changed by an amendment signed by the quorum; every verifier reads the version in force', () => {
    const roles = { amend: ['admin', 'officer'], flash: ['admin'], report: ['admin', 'officer'] } as const;
    const next = draftAmendment(v1!, { ...v1!.accord, roles });
    const s2 = sign(v1!, next, { CN: logKey('CN'), EU: logKey('EU'), US: logKey('US') });
    const v2 = verifyAmendment(v1!, s2);
    expect(v2.accord.roles).toEqual(roles);
    expect(permits(v2.accord, 'officer', 'flash')).toBe(false);
    expect(permits(v2.accord, 'officer', 'amend')).toBe(true);
    expect(verifyAccordChain([sc.versions[0]!, s2]).current.accord.roles).toEqual(roles);
    // The diff lists each changed action against the defaults, not one opaque member.
    expect(accordDiff(v1!.accord, v2.accord)).toEqual([
      { path: 'roles.amend', from: ['admin'], to: ['admin', 'officer'] },
      { path: 'roles.flash', from: ['admin', 'officer'], to: ['admin'] },
    ]);
    // Back to the defaults by dropping the member again: the reverse change.
    const back = draftAmendment(v2, { ...v2.accord, roles: DEFAULT_ROLES });
    expect(accordDiff(v2.accord, back)).toEqual([
      { path: 'roles.amend', from: ['admin', 'officer'], to: ['admin'] },
      { path: 'roles.flash', from: ['admin'], to: ['admin', 'officer'] },
    ]);
    const { roles: _r, ...without } = back;
    expect(accordDiff(back, parseAccord(without))).toEqual([]);
    // An amendment that changes the roles without the quorum is refused like any other.
    expect(() => verifyAmendment(v1!, sign(v1!, next, { US: logKey('US') }))).toThrow();
  });

  it('refuses a malformed roles member with ACCORD_MALFORMED', () => {
    const bad: unknown[] = [
      null,
      [],
      { flash: ['admin'], report: ['admin'] },
      { amend: ['admin'], flash: ['admin'], report: ['admin'], extra: ['admin'] },
      { amend: [], flash: ['admin'], report: ['admin'] },
      { amend: ['admin'], flash: ['auditor'], report: ['admin'] },
      { amend: ['admin'], flash: ['officer', 'admin'], report: ['admin'] },
      { amend: ['admin'], flash: ['admin', 'admin'], report: ['admin'] },
      { amend: ['root'], flash: ['admin'], report: ['admin'] },
      { amend: 'admin', flash: ['admin'], report: ['admin'] },
    ];
    for (const r of bad) {
      assertThrowsCode(() => parseRoles(r), ParseError, 'ACCORD_MALFORMED');
      assertThrowsCode(() => parseAccord({ ...v1!.accord, roles: r }), ParseError, 'ACCORD_MALFORMED');
    }
    expect(parseRoles({ amend: ['admin'], flash: ['admin', 'officer'], report: ['officer'] })).toEqual({ amend: ['admin'], flash: ['admin', 'officer'], report: ['officer'] });
  });
});
