/**
 * Entry bodies (src/entry/bodies.ts): the one registry of body checks. Good
 * bodies pass unchanged; every required member removed, every unknown member
 * added and every member replaced by a value of the wrong type fails with
 * ParseError ENTRY_MALFORMED, never another kind of exception.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BODY_CHECKS, bodyProblem, checkBody, receiptRejection } from '../src/entry/bodies.js';
import type { EntryType } from '../src/entry/envelope.js';
import { ENTRY_REGISTRY, ENTRY_TYPES, entryTypeLabel, isKnownType, needsAck } from '../src/entry/registry.js';
import type { SignedAccord } from '../src/accord/accord.js';
import { OWN_VECTORS_DIR } from './helpers/vectors.js';
import { ParseError } from '../src/errors.js';
import { assertThrowsCode, onlyParleyErrors } from './helpers/assert.js';
import { commitClaims, makeDisclosure } from '../src/eval/disclosure.js';
import { type Envelope, parseEnvelope } from '../src/entry/envelope.js';

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
  techniques: ['AML.T0051', 'AML.T0054.000'],
  cves: ['CVE-2024-12345'],
  potential: true,
  source: { name: 'AIID', id: '23', url: 'https://incidentdatabase.ai/cite/23', license: 'CC BY-SA 4.0' },
};

/** A whole accord (the pinned channel vector's) as an amendment carries one. */
const ACCORD = (JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'parley/channel-v1.json'), 'utf8')) as { accord: SignedAccord }).accord;
const SIG = ACCORD.signatures[0]!.sig;
const DIGEST = 'ab'.repeat(32);
const EVAL = commitClaims({ evaluator: 'Example Institute', model: { name: 'Frontier-1', version: '2' } });

/** One good body of every type, with every optional member present. */
const GOOD: { [T in EntryType]: Record<string, unknown> } = {
  'hotline.message': { text: '你好', lang: 'zh-CN' },
  'incident.report': REPORT,
  ack: { reply: 'seen', lang: 'en' },
  receipt: { receivedAt: '2026-01-02T03:04:05.678Z' },
  heartbeat: { treeSize: 12 },
  'accord.amendment': { accord: ACCORD.accord, signatures: [{ party: 'CN', sig: SIG }, { party: 'US', sig: SIG }, { party: 'US', sig: SIG, prior: true }], rationale: 'tighter', recovery: { party: 'CN', suspectFrom: 7 } },
  'accord.approval': { version: 2, digest: DIGEST, signatures: [{ party: 'US', sig: SIG }, { party: 'US', sig: SIG, prior: true }] },
  'accord.activation': { version: 2, digest: DIGEST },
  'evaluation.commitment': { stage: 'report', domains: ['CBRN', 'cyber'], sdAlg: 'sha-256', sd: EVAL.sd },
  'deployment.notice': { model: { id: 'frontier-1', digest: `sha256:${DIGEST}` }, deployedAt: '2026-01-02T03:04:05Z', note: 'general availability' },
  'evaluation.reveal': { disclosures: EVAL.disclosures.map((d) => d.encoded) },
  retraction: { action: 'supersede', reason: 'wrong model version', lang: 'en' },
  'incident.link': { incidents: ['CN:2026-0003', 'US:2026-0007'], relation: 'same-event', note: 'same system, same hour', lang: 'en' },
};
const REQUIRED: { [T in EntryType]: readonly string[] } = {
  'hotline.message': ['text'],
  'incident.report': ['incident', 'kind', 'title', 'summary', 'category', 'severity', 'stage', 'system', 'actor', 'harm', 'mitigations'],
  ack: [],
  receipt: ['receivedAt'],
  heartbeat: ['treeSize'],
  'accord.amendment': ['accord', 'signatures'],
  'accord.approval': ['version', 'digest', 'signatures'],
  'accord.activation': ['version', 'digest'],
  'evaluation.commitment': ['stage', 'domains', 'sdAlg', 'sd'],
  'deployment.notice': ['model', 'deployedAt'],
  'evaluation.reveal': ['disclosures'],
  retraction: ['action', 'reason'],
  'incident.link': ['incidents', 'relation'],
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
          // No mitigations is a list of mitigations; a proposal may carry no consents yet; `potential` is only ever true.
          else expect(['incident.report.mitigations=[]', 'accord.amendment.signatures=[]', 'incident.report.potential=true']).toContain(`${t}.${k}=${JSON.stringify(w)}`);
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

  it('checks the governance bodies: the accord with parseAccord, signatures for shape and order', () => {
    const am = GOOD['accord.amendment'];
    const bad: [EntryType, Record<string, unknown>][] = [
      ['accord.amendment', { ...am, accord: { ...ACCORD.accord, parties: [] } }],
      ['accord.amendment', { ...am, accord: { ...ACCORD.accord, extra: 1 } }],
      ['accord.amendment', { ...am, signatures: [{ party: 'US', sig: SIG }, { party: 'CN', sig: SIG }] }],
      ['accord.amendment', { ...am, signatures: [{ party: 'US', sig: SIG, prior: true }, { party: 'US', sig: SIG }] }],
      ['accord.amendment', { ...am, signatures: [{ party: 'US', sig: SIG }, { party: 'US', sig: SIG }] }],
      ['accord.amendment', { ...am, signatures: [{ party: 'US', sig: SIG, prior: false }] }],
      ['accord.amendment', { ...am, signatures: [{ party: 'US', sig: 'AAAA' }] }],
      ['accord.amendment', { ...am, signatures: [{ party: 'us', sig: SIG }] }],
      ['accord.amendment', { ...am, recovery: { party: 'CN', suspectFrom: -1 } }],
      ['accord.amendment', { ...am, recovery: { party: 'CN' } }],
      ['accord.approval', { version: 2, digest: DIGEST, signatures: [] }],
      ['accord.approval', { version: 2, digest: DIGEST, signatures: [{ party: 'CN', sig: SIG }, { party: 'US', sig: SIG, prior: true }] }],
      ['accord.approval', { version: 1, digest: DIGEST, signatures: [{ party: 'US', sig: SIG }] }],
      ['accord.approval', { version: 2, digest: DIGEST.toUpperCase(), signatures: [{ party: 'US', sig: SIG }] }],
      ['accord.activation', { version: 1, digest: DIGEST }],
      ['accord.activation', { version: 2.5, digest: DIGEST }],
      ['accord.activation', { version: 2, digest: 'ab' }],
    ];
    for (const [t, b] of bad) assertThrowsCode(() => checkBody(t, b), ParseError, 'ENTRY_MALFORMED');
    expect(checkBody('accord.amendment', { accord: ACCORD.accord, signatures: [] })).toEqual({ accord: ACCORD.accord, signatures: [] });
  });
});

describe('evaluation bodies and their envelope rules', () => {
  it('checks ATLAS techniques, CVEs, the potential flag and a source, and the retraction and link bodies', () => {
    const bad = (type: EntryType, body: unknown) => expect(bodyProblem(type, body)?.code).toBe('ENTRY_MALFORMED');
    const ok = (type: EntryType, body: unknown) => expect(bodyProblem(type, body)).toBeUndefined();
    ok('incident.report', { ...REPORT, techniques: ['AML.T0051'] });
    bad('incident.report', { ...REPORT, techniques: [] });
    bad('incident.report', { ...REPORT, techniques: ['AML.T51'] });
    bad('incident.report', { ...REPORT, techniques: ['AML.T0054', 'AML.T0051'] });
    bad('incident.report', { ...REPORT, techniques: ['AML.T0051', 'AML.T0051'] });
    bad('incident.report', { ...REPORT, cves: ['CVE-24-1'] });
    bad('incident.report', { ...REPORT, potential: false });
    bad('incident.report', { ...REPORT, source: { name: 'AIID', id: '23' } });
    bad('incident.report', { ...REPORT, source: { name: 'AIID', id: '23', license: 'CC BY-SA 4.0', url: 'http://x' } });
    bad('retraction', { action: 'delete', reason: 'x' });
    bad('retraction', { action: 'retract', reason: '' });
    bad('incident.link', { incidents: ['US:2026-0007'], relation: 'same-event' });
    bad('incident.link', { incidents: ['US:2026-0007', 'CN:2026-0003'], relation: 'same-event' });
    bad('incident.link', { incidents: ['CN:2026-0003', 'US:2026-0007'], relation: 'duplicate' });
  });

  it('checks commitments: stage, unique domains, sha-256, sorted unique digests', () => {
    const c = GOOD['evaluation.commitment'];
    const sd = c['sd'] as string[];
    for (const bad of [
      { ...c, stage: 'draft' },
      { ...c, domains: [] },
      { ...c, domains: ['CBRN', 'CBRN'] },
      { ...c, domains: ['x'.repeat(41)] },
      { ...c, domains: Array.from({ length: 17 }, (_, i) => `d${i}`) },
      { ...c, sdAlg: 'sha-512' },
      { ...c, sd: [] },
      { ...c, sd: [...sd].reverse() },
      { ...c, sd: [sd[0], sd[0]] },
      { ...c, sd: [`${sd[0]}=`] },
      { ...c, sd: [sd[0]!.slice(1)] },
    ]) {
      assertThrowsCode(() => checkBody('evaluation.commitment', bad), ParseError, 'ENTRY_MALFORMED');
    }
  });

  it('checks notices (sha256:hex digest, RFC 3339 time) and reveals (each a disclosure)', () => {
    const n = GOOD['deployment.notice'];
    for (const bad of [{ ...n, model: { id: 'm', digest: DIGEST } }, { ...n, model: { id: 'm', digest: `sha256:${DIGEST.toUpperCase()}` } }, { ...n, model: { id: '', digest: `sha256:${DIGEST}` } }, { ...n, deployedAt: '2026-01-02' }, { ...n, note: '' }]) {
      assertThrowsCode(() => checkBody('deployment.notice', bad), ParseError, 'ENTRY_MALFORMED');
    }
    for (const bad of [{ disclosures: [] }, { disclosures: ['WyJhIiwiYiIsMV0'] }, { disclosures: [1] }, { disclosures: [EVAL.sd[0]] }]) {
      assertThrowsCode(() => checkBody('evaluation.reveal', bad), ParseError, 'ENTRY_MALFORMED');
    }
    expect(checkBody('evaluation.reveal', { disclosures: [makeDisclosure('a', { x: [1] }).encoded] }).disclosures).toHaveLength(1);
  });

  const ref = (index: number) => ({ party: 'US', index, hash: 'A'.repeat(43) + '=' });
  const env = (type: string, marking: Envelope['marking'], refs: Envelope['refs']): Envelope => ({
    v: 1,
    accord: DIGEST,
    from: { party: 'US', officer: 'alice' },
    to: ['CN'],
    seq: 3,
    time: '2026-01-02T03:04:05.678Z',
    type,
    precedence: 'ROUTINE',
    marking,
    refs,
    body: marking === 'TLP:CLEAR' ? { clear: {} } : { sealed: { aead: 'AES-256-GCM', commitment: 'A'.repeat(43) + '=', recipients: ['CN', 'US'].map((party) => ({ party, enc: 'AAAA', ct: 'AAAA' })) } },
  });

  it('a commitment is TLP:CLEAR with 0..1 refs; a notice and a reveal carry exactly one ref', () => {
    expect(parseEnvelope(env('evaluation.commitment', 'TLP:CLEAR', [])).type).toBe('evaluation.commitment');
    expect(parseEnvelope(env('evaluation.commitment', 'TLP:CLEAR', [ref(0)])).refs).toHaveLength(1);
    assertThrowsCode(() => parseEnvelope(env('evaluation.commitment', 'TLP:GREEN', [])), ParseError, 'ENTRY_MALFORMED');
    assertThrowsCode(() => parseEnvelope(env('evaluation.commitment', 'TLP:CLEAR', [ref(0), ref(1)])), ParseError, 'ENTRY_MALFORMED');
    for (const t of ['deployment.notice', 'evaluation.reveal']) {
      expect(parseEnvelope(env(t, 'TLP:CLEAR', [ref(0)])).refs).toHaveLength(1);
      expect(parseEnvelope(env(t, 'TLP:AMBER', [ref(0)])).marking).toBe('TLP:AMBER');
      assertThrowsCode(() => parseEnvelope(env(t, 'TLP:CLEAR', [])), ParseError, 'ENTRY_MALFORMED');
      assertThrowsCode(() => parseEnvelope(env(t, 'TLP:AMBER', [ref(0), ref(1)])), ParseError, 'ENTRY_MALFORMED');
    }
  });

  it('a retraction cites 1..2 entries (the withdrawn one [, its replacement]); a link one report of each of its 2..16 incidents', () => {
    for (const m of ['TLP:CLEAR', 'TLP:AMBER'] as const) {
      expect(parseEnvelope(env('retraction', m, [ref(0)])).refs).toHaveLength(1);
      expect(parseEnvelope(env('retraction', m, [ref(0), ref(1)])).refs).toHaveLength(2);
      assertThrowsCode(() => parseEnvelope(env('retraction', m, [])), ParseError, 'ENTRY_MALFORMED');
      assertThrowsCode(() => parseEnvelope(env('retraction', m, [ref(0), ref(1), ref(2)])), ParseError, 'ENTRY_MALFORMED');
      // incident.link: incidents are 2..16, and refs are one report of each — so 2..16 as well.
      expect(parseEnvelope(env('incident.link', m, [ref(0), ref(1)])).refs).toHaveLength(2);
      expect(parseEnvelope(env('incident.link', m, Array.from({ length: 16 }, (_, i) => ref(i)))).refs).toHaveLength(16);
      assertThrowsCode(() => parseEnvelope(env('incident.link', m, [])), ParseError, 'ENTRY_MALFORMED');
      assertThrowsCode(() => parseEnvelope(env('incident.link', m, [ref(0)])), ParseError, 'ENTRY_MALFORMED');
    }
  });
});

describe('the entry-type registry', () => {
  it('carries every known type with its check, flags and both labels', () => {
    expect([...ENTRY_TYPES]).toEqual(['hotline.message', 'incident.report', 'ack', 'receipt', 'heartbeat', 'accord.amendment', 'accord.approval', 'accord.activation', 'evaluation.commitment', 'deployment.notice', 'evaluation.reveal', 'retraction', 'incident.link']);
    for (const t of ENTRY_TYPES) {
      expect(ENTRY_REGISTRY[t].check(GOOD[t])).toEqual(GOOD[t]);
      expect(ENTRY_REGISTRY[t].label.en.length).toBeGreaterThan(0);
      expect(ENTRY_REGISTRY[t].label['zh-CN'].length).toBeGreaterThan(0);
      expect(isKnownType(t)).toBe(true);
    }
    expect(ENTRY_TYPES.filter((t) => ENTRY_REGISTRY[t].ack)).toEqual(['hotline.message', 'incident.report', 'deployment.notice']);
    expect(ENTRY_TYPES.filter((t) => ENTRY_REGISTRY[t].officer)).toEqual(['hotline.message', 'incident.report', 'ack', 'evaluation.commitment', 'deployment.notice', 'evaluation.reveal', 'retraction', 'incident.link']);
    expect(ENTRY_TYPES.filter((t) => ENTRY_REGISTRY[t].clear)).toEqual(['evaluation.commitment']);
    expect(entryTypeLabel('evaluation.commitment', 'zh-CN')).toBe('评估承诺');
    expect(entryTypeLabel('deployment.notice', 'zh-CN')).toBe('部署通知');
    expect(entryTypeLabel('evaluation.reveal', 'zh-CN')).toBe('评估披露');
    expect(ENTRY_TYPES.filter((t) => ENTRY_REGISTRY[t].governance)).toEqual(['accord.amendment', 'accord.approval', 'accord.activation']);
    const e = assertThrowsCode(() => ENTRY_REGISTRY.heartbeat.check({}, 'entry.body'), ParseError, 'ENTRY_MALFORMED');
    expect(e.message.startsWith('entry.body.treeSize')).toBe(true);
  });

  it('knows no other type: an unknown type needs no ack and has the unknown label', () => {
    for (const t of ['future.thing', 'toString', 'constructor', '__proto__', 'hasOwnProperty', 'accord', 'accord.amendment.x', '']) {
      expect(isKnownType(t)).toBe(false);
      expect(needsAck(t)).toBe(false);
      expect(entryTypeLabel(t, 'en')).toBe('Unknown type — needs a newer Parley');
      expect(entryTypeLabel(t, 'zh-CN')).toBe('未知类型——需要更新版本的 Parley');
    }
    expect(needsAck('hotline.message')).toBe(true);
    expect(entryTypeLabel('ack', 'zh-CN')).toBe('确认');
    expect(bodyProblem('future.thing', {})?.code).toBe('ENTRY_MALFORMED');
  });
});
