/**
 * The accord's optional `timestamping` member (issue 12): parsed strictly in
 * every version (closed member sets; ACCORD_MALFORMED names the member),
 * absent = the accord's bytes and id as before, and accordDiff reports its
 * changes with authorities matched by name.
 */
import { describe, expect, it } from 'vitest';
import { type Accord, type AccordTimestamping, type SignedAccord, accordDiff, accordId, canonicalize, draftAccord, draftAmendment, parseAccord, signAccord, verifyAccord } from '../src/index.js';
import { ParseError } from '../src/errors.js';
import { assertThrowsCode } from './helpers/assert.js';
import { logKey, party } from './fixtures/accord-chain.js';

/** A real DER certificate shape is all the accord checks (the tsa module parses it); this is a tiny SEQUENCE. */
const ROOT_A = 'MAYCAQECAQI='; // 30 06 02 01 01 02 01 02
const ROOT_B = 'MAYCAQMCAQQ='; // 30 06 02 01 03 02 01 04

const authority = (name: string, extra: Record<string, unknown> = {}) => ({
  name,
  url: `https://${name}.example/tsa`,
  roots: [ROOT_A],
  policy: '1.3.6.1.4.1.99999.3161.1',
  validFrom: '2026-01-01T00:00:00.000Z',
  validUntil: '2031-01-01T00:00:00.000Z',
  ...extra,
});
const TS: AccordTimestamping = { authorities: [authority('tsa-a'), authority('tsa-b', { roots: [ROOT_A, ROOT_B] })], required: 2 };
const created = new Date(Date.UTC(2026, 0, 1));
const base = (): Accord => draftAccord({ name: 'stamped', parties: [party('CN'), party('US')], created });

describe('accord timestamping member', () => {
  it('is optional: an accord without it keeps its bytes, and one with it parses back equal', () => {
    const plain = base();
    expect(Object.keys(plain)).not.toContain('timestamping');
    expect(canonicalize(parseAccord(JSON.parse(canonicalize(plain))))).toBe(canonicalize(plain));
    const stamped = draftAccord({ name: 'stamped', parties: [party('CN'), party('US')], created, timestamping: TS });
    expect(stamped.timestamping).toEqual(TS);
    expect(parseAccord(JSON.parse(canonicalize(stamped)))).toEqual(stamped);
    expect(accordId(stamped)).not.toBe(accordId(plain));
  });

  it('is allowed in version 1 (signed by every party) and in a later version', () => {
    const v1 = { ...base(), timestamping: TS };
    let s: SignedAccord = { accord: v1, signatures: [] };
    for (const id of ['CN', 'US']) s = signAccord(s, id, logKey(id));
    const verified = verifyAccord(s);
    expect(verified.accord.timestamping?.required).toBe(2);
    const plain = base();
    let p: SignedAccord = { accord: plain, signatures: [] };
    for (const id of ['CN', 'US']) p = signAccord(p, id, logKey(id));
    const v2 = draftAmendment(verifyAccord(p), { ...plain, timestamping: TS });
    expect(v2.version).toBe(2);
    expect(v2.timestamping).toEqual(TS);
  });

  const bad: [string, unknown][] = [
    ['accord.timestamping: want an object', []],
    ['accord.timestamping.authorities: missing', { required: 1 }],
    ['accord.timestamping.required: missing', { authorities: [authority('a')] }],
    ['accord.timestamping.extra: unknown member', { authorities: [authority('a')], required: 1, extra: 1 }],
    ['accord.timestamping.authorities: 0 items', { authorities: [], required: 1 }],
    ['accord.timestamping.authorities: 9 items', { authorities: 'abcdefghi'.split('').map((n) => authority(n)), required: 1 }],
    ['accord.timestamping.authorities[].name: must be sorted and unique', { authorities: [authority('b'), authority('a')], required: 1 }],
    ['accord.timestamping.authorities[].name: must be sorted and unique', { authorities: [authority('a'), authority('a')], required: 1 }],
    ['accord.timestamping.required', { authorities: [authority('a')], required: 0 }],
    ['accord.timestamping.required', { authorities: [authority('a')], required: 2 }],
    ['accord.timestamping.required', { authorities: [authority('a')], required: '1' }],
    ['accord.timestamping.authorities[0].name', { authorities: [authority('Bad_Name')], required: 1 }],
    ['accord.timestamping.authorities[0].name', { authorities: [authority('a'.repeat(33))], required: 1 }],
    ['accord.timestamping.authorities[0].url', { authorities: [authority('a', { url: 'ftp://x/tsa' })], required: 1 }],
    ['accord.timestamping.authorities[0].roots: 0 items', { authorities: [authority('a', { roots: [] })], required: 1 }],
    ['accord.timestamping.authorities[0].roots: 5 items', { authorities: [authority('a', { roots: [ROOT_A, ROOT_B, ROOT_A, ROOT_B, ROOT_A] })], required: 1 }],
    ['accord.timestamping.authorities[0].roots[0]: not standard base64', { authorities: [authority('a', { roots: ['MAYCAQECAQI'] })], required: 1 }],
    ['accord.timestamping.authorities[0].roots[0]: not a DER certificate', { authorities: [authority('a', { roots: ['AAECAw=='] })], required: 1 }],
    ['accord.timestamping.authorities[0].roots[0]: not a DER certificate', { authorities: [authority('a', { roots: ['MAcCAQECAQI='] })], required: 1 }],
    ['accord.timestamping.authorities[0].roots: a root is listed twice', { authorities: [authority('a', { roots: [ROOT_A, ROOT_A] })], required: 1 }],
    ['accord.timestamping.authorities[0].policy', { authorities: [authority('a', { policy: '3.1.2' })], required: 1 }],
    ['accord.timestamping.authorities[0].policy', { authorities: [authority('a', { policy: '1.02.3' })], required: 1 }],
    ['accord.timestamping.authorities[0].policy', { authorities: [authority('a', { policy: '1' })], required: 1 }],
    ['accord.timestamping.authorities[0].validFrom', { authorities: [authority('a', { validFrom: '2026-01-01' })], required: 1 }],
    ['accord.timestamping.authorities[0].validUntil', { authorities: [authority('a', { validUntil: '2026-02-30T00:00:00.000Z' })], required: 1 }],
    ['accord.timestamping.authorities[0].validUntil: must be after validFrom', { authorities: [authority('a', { validUntil: '2026-01-01T00:00:00.000Z' })], required: 1 }],
    ['accord.timestamping.authorities[0].extra: unknown member', { authorities: [authority('a', { extra: true })], required: 1 }],
    ['accord.timestamping.authorities[0].policy: missing', { authorities: [Object.fromEntries(Object.entries(authority('a')).filter(([k]) => k !== 'policy'))], required: 1 }],
  ];
  for (const [path, ts] of bad) {
    it(`refuses ${path}`, () => {
      const e = assertThrowsCode(() => parseAccord({ ...base(), timestamping: ts }), ParseError, 'ACCORD_MALFORMED');
      // The member path is the contract of ACCORD_MALFORMED (the operator fixes that member).
      expect(e.message.startsWith(path)).toBe(true);
    });
  }

  it('accordDiff reports adding, changing and removing it, authorities matched by name', () => {
    const plain = base();
    const withTs = { ...plain, timestamping: TS };
    expect(accordDiff(plain, withTs)).toEqual([{ path: 'timestamping', to: JSON.parse(canonicalize(TS)) }]);
    expect(accordDiff(withTs, plain)).toEqual([{ path: 'timestamping', from: JSON.parse(canonicalize(TS)) }]);
    const changed: Accord = {
      ...plain,
      timestamping: { authorities: [authority('tsa-b', { roots: [ROOT_A, ROOT_B], url: 'https://b2.example/tsa' }), authority('tsa-c')], required: 1 },
    };
    expect(accordDiff(withTs, changed)).toEqual([
      { path: 'timestamping.authorities.tsa-a', from: JSON.parse(canonicalize(authority('tsa-a'))) },
      { path: 'timestamping.authorities.tsa-b.url', from: 'https://tsa-b.example/tsa', to: 'https://b2.example/tsa' },
      { path: 'timestamping.authorities.tsa-c', to: JSON.parse(canonicalize(authority('tsa-c'))) },
      { path: 'timestamping.required', from: 2, to: 1 },
    ]);
    expect(accordDiff(withTs, { ...withTs })).toEqual([]);
  });
});
