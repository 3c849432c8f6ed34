/**
 * The Evaluations page's view model, with core's real disclosure code (no
 * mocks): the list's rows; the commitment read from signed entry bytes; a
 * reveal opened in the browser against the commitment's digests, each claim
 * marked — matching, differing from the node's account, or not proved — and
 * a tampered value, a reused salt, a missing parent or a foreign digest
 * failing with core's code; the "committed N days before deployment" line
 * from the verifier's result; and which live events refresh the page.
 */
import {
  commitClaims,
  formatBase64,
  generateSignerKey,
  getCrypto,
  makeDisclosure,
  parseBase64,
  parseEntry,
  parseDisclosure,
  selectDisclosures,
  signEntry,
} from '@parley/core';
import { describe, expect, it } from 'vitest';
import { type BrowserProof, type EvaluationView, checkReveal, commitmentOf, concernsEvaluations, evaluationRows, showValue, timelineVerdict } from '../src/pages/evaluations/model.js';
import { positionCheck } from '../src/pages/evaluations/proof.js';

/** The node's timeline sentence (its words are not what these rows test). */
const STATEMENT = { en: 'Committed before deployment.', 'zh-CN': '部署前已承诺。' };
const claims = {
  model: { name: 'Frontier-9', version: '2026-11' },
  developer: 'Example Lab',
  evaluator: 'US CAISI',
  redLines: { cbrn: { domain: 'CBRN', threshold: 'uplift ≥ expert baseline', outcome: 'below', score: 0.12 } },
  report: { sha256: 'ab'.repeat(32) },
};
const committed = commitClaims(claims);
const encodedOf = (paths: string[]) => selectDisclosures(committed.disclosures, paths).map((d) => d.encoded);

function view(over: Partial<EvaluationView['commitment']> = {}, rest: Partial<EvaluationView> = {}): EvaluationView {
  return {
    commitment: { party: 'US', index: 3, leafHash: 'x', time: '2026-11-01T10:00:00.000Z', stage: 'report', domains: ['CBRN', 'cyber'], sdCount: 16, ...over },
    notices: [],
    reveals: [],
    ...rest,
  };
}

describe('evaluation rows', () => {
  it('lists commitments newest first with their models, reveals (open to us) and the node\u2019s timeline', () => {
    const older = view({ index: 1, time: '2026-10-01T00:00:00.000Z', stage: 'protocol' });
    const newer = view(
      { index: 5, time: '2026-11-20T00:00:00.000Z' },
      {
        notices: [
          { party: 'US', index: 6, time: '2026-11-25T00:00:00.000Z', model: { id: 'frontier-9', digest: `sha256:${'0'.repeat(64)}` }, deployedAt: '2026-11-25T00:00:00.000Z' },
          { party: 'US', index: 7, time: '2026-11-26T00:00:00.000Z', model: { id: 'frontier-9', digest: `sha256:${'1'.repeat(64)}` }, deployedAt: '2026-11-26T00:00:00.000Z' },
        ],
        reveals: [
          { party: 'US', index: 8, time: '2026-11-27T00:00:00.000Z', to: ['CN'], marking: 'TLP:AMBER', addressed: true },
          { party: 'US', index: 9, time: '2026-11-27T00:00:00.000Z', to: ['EU'], marking: 'TLP:AMBER', addressed: false },
        ],
        timeline: { committedBefore: true, marginSeconds: 5 * 86400 + 7, days: 5, deployedAt: '2026-11-25T00:00:00.000Z', statement: STATEMENT },
      },
    );
    const late = view({ index: 2, time: '2026-10-15T00:00:00.000Z' }, { timeline: { committedBefore: false, marginSeconds: -60, days: 0, deployedAt: '2026-10-14T23:59:00.000Z', statement: STATEMENT } });
    // Not cosigned or stamped yet: the node gives no margin.
    const unproven = view({ index: 0, time: '2026-09-15T00:00:00.000Z' }, { timeline: { committedBefore: false, days: 0, deployedAt: '2026-09-16T00:00:00.000Z', statement: STATEMENT } });
    const rows = evaluationRows([older, unproven, newer, late]);
    expect(rows.map((r) => r.key)).toEqual(['US/5', 'US/2', 'US/1', 'US/0']);
    expect(rows[3]!.nodeTimeline).toBe('unproven');
    expect(rows[0]).toMatchObject({ models: ['frontier-9'], notices: 2, reveals: 2, openable: 1, nodeTimeline: 'before', days: 5, domains: ['CBRN', 'cyber'] });
    expect(rows[1]!.nodeTimeline).toBe('not-before');
    expect(rows[2]).toMatchObject({ stage: 'protocol', nodeTimeline: 'none', models: [] });
  });
});

describe('the commitment, from the signed entry bytes', () => {
  const key = generateSignerKey('us.parley.test/log');
  const entry = (type: string, marking = 'TLP:CLEAR', body: unknown = { stage: 'report', domains: ['CBRN'], sdAlg: 'sha-256', sd: committed.sd }) =>
    formatBase64(
      signEntry(
        {
          v: 1,
          accord: 'a'.repeat(64),
          from: { party: 'US', officer: 'alice' },
          to: ['CN'],
          seq: 0,
          time: '2026-11-01T10:00:00.000Z',
          type,
          precedence: 'ROUTINE',
          marking,
          refs: [],
          body: { clear: body },
        } as never,
        getCrypto().ed25519Signer(key.seed),
      ).bytes,
    );

  it('reads stage, domains and the digests from the entry the evidence carries', () => {
    expect(commitmentOf({ commitment: { entry: entry('evaluation.commitment') } })).toEqual({ stage: 'report', domains: ['CBRN'], sd: committed.sd });
  });

  it('ties the evidence to the entry shown: a bundle of another position (or none) fails, naming both, and the timeline line says failed', () => {
    const verified = { entry: parseEntry(parseBase64(entry('evaluation.commitment'))) };
    expect(positionCheck('commitment', verified, { party: 'US', index: 0 })).toMatchObject({ id: 'commitment.position', ok: true });
    const other = positionCheck('commitment', verified, { party: 'US', index: 3 });
    expect(other).toMatchObject({ id: 'commitment.position', ok: false });
    expect(other.detail.en).toMatch(/US:0, not US:3/);
    expect(other.detail['zh-CN']).toMatch(/US:0.*US:3/);
    expect(positionCheck('reveal', undefined, { party: 'US', index: 5 })).toMatchObject({ id: 'reveal.position', ok: false });
    const proof: BrowserProof = { ok: false, checks: [{ id: 'timeline', ok: true, detail: { en: 'ok', 'zh-CN': 'ok' } }, other], timeline: { committedBefore: true, marginSeconds: 9e5, days: 10 } };
    expect(timelineVerdict(true, proof)).toMatchObject({ kind: 'failed', reason: 'commitment.position' });
  });

  it('refuses another entry type, a body without digests, and a bundle without the entry', () => {
    expect(() => commitmentOf({ commitment: { entry: entry('hotline.message', 'TLP:CLEAR', { text: 'hi' }) } })).toThrow(/hotline\.message/);
    expect(() => commitmentOf({ commitment: { entry: entry('evaluation.commitment', 'TLP:CLEAR', { stage: 'report', domains: [] }) } })).toThrow(/digest/);
    expect(() => commitmentOf({})).toThrow(/no commitment/);
  });
});

describe('a reveal opened in the browser', () => {
  it('marks every revealed claim as matching its committed digest (nested claims reveal their parents)', () => {
    const encoded = encodedOf(['redLines.cbrn.outcome', 'model.version', 'evaluator']);
    const c = checkReveal(committed.sd, encoded, []);
    expect(c.ok).toBe(true);
    expect(c.error).toBeUndefined();
    const byPath = Object.fromEntries(c.claims.map((x) => [x.path, x]));
    expect(Object.keys(byPath).sort()).toEqual(['evaluator', 'model', 'model.version', 'redLines', 'redLines.cbrn', 'redLines.cbrn.outcome']);
    expect(byPath['redLines.cbrn.outcome']).toMatchObject({ value: 'below', status: 'match', parent: false });
    expect(byPath['redLines']).toMatchObject({ parent: true, status: 'match' });
    expect(c.claims.filter((x) => !x.parent).map((x) => x.path)).toEqual(['evaluator', 'model.version', 'redLines.cbrn.outcome']);
  });

  it('compares the node\u2019s account with what it opened: the same claims match, another value is a mismatch, a claim it cannot open is unverified', () => {
    const encoded = encodedOf(['evaluator', 'model.version']);
    const opened = checkReveal(committed.sd, encoded).claims;
    const evaluator = opened.find((x) => x.path === 'evaluator')!;
    const version = opened.find((x) => x.path === 'model.version')!;
    expect(checkReveal(committed.sd, encoded, [{ path: 'evaluator', value: 'US CAISI', digest: evaluator.digest }]).ok).toBe(true);
    const lie = checkReveal(committed.sd, encoded, [{ path: 'model.version', value: '2027-01', digest: version.digest }]);
    expect(lie.ok).toBe(false);
    expect(lie.claims.find((x) => x.path === 'model.version')!.status).toBe('mismatch');
    const extra = checkReveal(committed.sd, encoded, [{ path: 'developer', value: 'Example Lab', digest: 'A'.repeat(43) }]);
    expect(extra.ok).toBe(false);
    expect(extra.claims.find((x) => x.path === 'developer')).toMatchObject({ status: 'unverified', value: 'Example Lab' });
  });

  it('fails with core\u2019s code for a tampered value, a reused salt, a missing parent and digests of another commitment', () => {
    const [d] = selectDisclosures(committed.disclosures, ['evaluator']);
    // Same salt and name, another value: its digest is not in the commitment.
    const forged = makeDisclosure('evaluator', 'Someone Else', parseDisclosure(d!.encoded).salt).encoded;
    const tampered = checkReveal(committed.sd, [forged], [{ path: 'evaluator', value: 'Someone Else', digest: 'x' }]);
    expect(tampered).toMatchObject({ ok: false, error: 'EVAL_DISCLOSURE_MISMATCH' });
    expect(tampered.claims).toEqual([{ path: 'evaluator', value: 'Someone Else', digest: 'x', status: 'unverified', parent: false }]);
    // The node's nested claims, none proved: the parent is marked so only leaves are shown.
    const nested = checkReveal(committed.sd, [forged], [
      { path: 'model', value: { version: '2026-11' }, digest: 'p' },
      { path: 'model.version', value: '2026-11', digest: 'c' },
    ]);
    expect(nested.claims.map((x) => [x.path, x.status, x.parent])).toEqual([
      ['model', 'unverified', true],
      ['model.version', 'unverified', false],
    ]);
    // A child without its parent: its digest is only in the parent's _sd.
    const child = committed.disclosures.find((x) => x.path === 'model.version')!;
    expect(checkReveal(committed.sd, [child.encoded]).error).toBe('EVAL_DISCLOSURE_MISMATCH');
    // Two disclosures under one salt.
    const [a] = selectDisclosures(committed.disclosures, ['developer']);
    const reused = makeDisclosure('evaluator', 'US CAISI', parseDisclosure(a!.encoded).salt).encoded;
    expect(checkReveal(committed.sd, [a!.encoded, reused]).error).toBe('EVAL_SALT_REUSED');
    // Disclosures of another commitment.
    const other = commitClaims(claims);
    expect(checkReveal(committed.sd, selectDisclosures(other.disclosures, ['evaluator']).map((x) => x.encoded)).error).toBe('EVAL_DISCLOSURE_MISMATCH');
    // Nothing to open, or not text.
    expect(checkReveal(committed.sd, []).ok).toBe(false);
    expect(checkReveal(committed.sd, [42]).error).toBe('EVAL_DISCLOSURE_MALFORMED');
    expect(checkReveal(committed.sd, ['not base64url!']).error).toBe('EVAL_DISCLOSURE_MALFORMED');
  });

  it('shows values as text: strings bare, the rest as JSON', () => {
    expect(showValue('below')).toBe('below');
    expect(showValue(0.12)).toBe('0.12');
    expect(showValue({ a: [1] })).toBe('{"a":[1]}');
  });
});

describe('the timeline line', () => {
  const pass = (timeline: BrowserProof['timeline']): BrowserProof => ({ ok: true, checks: [{ id: 'entry', ok: true, detail: { en: 'ok', 'zh-CN': 'ok' } }], timeline });

  it('says "committed N days before deployment" only from a passing browser proof', () => {
    expect(timelineVerdict(true, pass({ committedBefore: true, marginSeconds: 3 * 86400 + 5, days: 3 }))).toEqual({ kind: 'before', days: 3, marginSeconds: 3 * 86400 + 5 });
    expect(timelineVerdict(true, pass({ committedBefore: true, marginSeconds: 7200, days: 0 }))).toMatchObject({ kind: 'before', days: 0 });
    expect(timelineVerdict(true, pass({ committedBefore: false, marginSeconds: -10, days: 0 }))).toEqual({ kind: 'not-before' });
    // core's verifier fails its `timeline` check then: every other check holding, that is "not before", not a broken proof.
    const late: BrowserProof = { ok: false, checks: [{ id: 'entry', ok: true, detail: { en: 'ok', 'zh-CN': 'ok' } }, { id: 'timeline', ok: false, detail: { en: 'late', 'zh-CN': 'late' } }], timeline: { committedBefore: false, marginSeconds: -10, days: 0 } };
    expect(timelineVerdict(true, late)).toEqual({ kind: 'not-before' });
    // A timeline check passing while another fails: failed, naming the other.
    const broken: BrowserProof = { ...late, checks: [{ id: 'commitment.signature', ok: false, detail: { en: 'bad', 'zh-CN': 'bad' } }, { id: 'timeline', ok: true, detail: { en: 'ok', 'zh-CN': 'ok' } }], timeline: { committedBefore: true, marginSeconds: 9e5, days: 10 } };
    expect(timelineVerdict(true, broken)).toMatchObject({ kind: 'failed', reason: 'commitment.signature' });
  });

  it('names the failed check, or the error, when the browser check fails', () => {
    const failed: BrowserProof = { ok: false, checks: [{ id: 'entry', ok: true, detail: { en: 'ok', 'zh-CN': 'ok' } }, { id: 'inclusion', ok: false, detail: { en: 'PROOF_INVALID', 'zh-CN': 'PROOF_INVALID' } }], timeline: { committedBefore: true, days: 3, marginSeconds: 3 * 86400 } };
    expect(timelineVerdict(true, failed)).toMatchObject({ kind: 'failed', reason: 'inclusion' });
    expect(timelineVerdict(true, { ok: false, checks: [], error: { code: 'EVIDENCE_MALFORMED', message: 'bad' } })).toEqual({ kind: 'failed', reason: 'EVIDENCE_MALFORMED', detail: 'bad' });
    expect(timelineVerdict(true, { ok: false, checks: [] })).toMatchObject({ kind: 'failed', reason: 'EVIDENCE_INVALID' });
  });

  it('waits while checking, and says when there is no notice', () => {
    expect(timelineVerdict(true, undefined)).toEqual({ kind: 'pending' });
    expect(timelineVerdict(false, undefined)).toEqual({ kind: 'no-notice' });
    expect(timelineVerdict(false, pass(undefined))).toEqual({ kind: 'no-notice' });
  });
});

describe('live refresh', () => {
  it('re-reads on an entry of the three evaluation types and on a resync, not on other entries', () => {
    for (const type of ['evaluation.commitment', 'deployment.notice', 'evaluation.reveal']) expect(concernsEvaluations({ event: 'entry', data: { type, party: 'US', index: 1 } }), type).toBe(true);
    expect(concernsEvaluations({ event: 'entry', data: { type: 'hotline.message' } })).toBe(false);
    expect(concernsEvaluations({ event: 'deadline', data: { type: 'deployment.notice' } })).toBe(false);
    expect(concernsEvaluations({ event: 'reconnected', data: null })).toBe(true);
    expect(concernsEvaluations({ event: 'reset', data: null })).toBe(true);
  });
});
