/**
 * Evaluation evidence (src/eval/evidence.ts) over a real signed log
 * (test/helpers/evaluation.ts: channel-v1's US log, CN's cosignature): every
 * check holds on good evidence; each tampering fails its own check; the
 * bundle format is strict (EVIDENCE_MALFORMED); and the reference rules
 * (src/eval/references.ts) raise their typed errors.
 */
import { describe, expect, it } from 'vitest';
import {
  type EvaluationEvidence,
  assertEvidenceOk,
  canonicalize,
  checkAddressed,
  checkNoticeCommitment,
  checkProtocolReference,
  checkRevealCommitment,
  formatBase64,
  formatEvaluationEvidence,
  makeDisclosure,
  parseBase64,
  parseEvaluationEvidence,
  verifyEvaluationEvidence,
} from '../src/index.js';
import { ParseError, VerificationError } from '../src/errors.js';
import { assertThrowsCode } from './helpers/assert.js';
import { CLAIMS, accord, scenario, secs } from './helpers/evaluation.js';
import { buildLog } from './helpers/bundle.js';
import { keys } from './helpers/evaluation.js';

const COSIGNED = secs('2026-11-01T01:00:00Z');
const failed = (r: { checks: readonly { id: string; ok: boolean }[] }) => r.checks.filter((c) => !c.ok).map((c) => c.id);

describe('evaluation evidence: verification over a real signed log', () => {
  const s = scenario({ cosignedAt: COSIGNED });

  it('passes every check on good evidence; proves the commitment 18 days before deployment; opens the claims', async () => {
    const text = formatEvaluationEvidence(s.evidence);
    const r = await verifyEvaluationEvidence(text);
    expect(failed(r)).toEqual([]);
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => c.id)).toEqual(expect.arrayContaining(['chain', 'commitment.signature', 'commitment.checkpoint', 'commitment.inclusion', 'commitment.body', 'notice.refs', 'reveal.refs', 'timeline', 'salts', 'disclosures', 'reveal.disclosures']));
    for (const c of r.checks) expect(c.detail['zh-CN'].length).toBeGreaterThan(0);
    expect(r.provenBy).toMatchObject({ how: 'cosignature', by: ['CN'], treeSize: 4 });
    expect(r.provenBy!.time.toISOString()).toBe('2026-11-01T01:00:00.000Z');
    expect(r.timeline).toMatchObject({ committedBefore: true, days: 18 });
    expect(r.timeline!.statement.en).toContain('18 days before deployment');
    expect(r.claims).toEqual({ evaluator: CLAIMS.evaluator, redLines: { cbrn: { outcome: 'below' } } });
    expect(() => assertEvidenceOk(r)).not.toThrow();
    // The verifier's own chain gives the same result; the reveal's clear disclosures stand in when none are forwarded.
    const { disclosures: _d, ...bare } = s.evidence;
    const r2 = await verifyEvaluationEvidence(bare as EvaluationEvidence, JSON.parse(s.evidence.chain) as never);
    expect(r2.ok).toBe(true);
    expect(r2.claims).toEqual(r.claims);
  });

  it('a commitment only cosigned after deployment is not committed before it', async () => {
    const late = scenario({ cosignedAt: secs('2026-11-21T00:00:00Z') });
    const r = await verifyEvaluationEvidence(late.evidence);
    expect(failed(r)).toEqual(['timeline']);
    expect(r.timeline).toMatchObject({ committedBefore: false, days: 0 });
    assertThrowsCode(() => assertEvidenceOk(r), VerificationError, 'EVIDENCE_INVALID');
  });

  it("without another party's cosignature nothing proves the time (the owner's clock does not count)", async () => {
    const r = await verifyEvaluationEvidence(scenario().evidence);
    expect(failed(r)).toEqual(['timeline']);
    expect(r.provenBy).toBeUndefined();
    expect(r.timeline!.statement.en).toMatch(/^Not proven/);
  });

  it('each tampering fails its own check', async () => {
    const e = s.evidence;
    const flip = (b64: string, at: number) => {
      const b = parseBase64(b64);
      b[at]! ^= 1;
      return formatBase64(b);
    };
    const sigAt = (b64: string) => atob(b64).indexOf('"sig":"') + 10;
    const cases: [string, EvaluationEvidence, string[]][] = [
      ['entry signature', { ...e, commitment: { ...e.commitment, entry: flip(e.commitment.entry, sigAt(e.commitment.entry)) } }, ['commitment.signature']],
      ['inclusion proof', { ...e, notice: { ...e.notice!, proof: [flip(e.notice!.proof[0]!, 0), ...e.notice!.proof.slice(1)] } }, ['notice.inclusion']],
      ['index', { ...e, reveal: { ...e.reveal!, index: 1 } }, ['reveal.signature']],
      ['checkpoint signature', { ...e, commitment: { ...e.commitment, checkpoint: e.commitment.checkpoint.replace(/\n— (\S+) (\S)/, (_m, n: string, c: string) => `\n— ${n} ${c === 'A' ? 'B' : 'A'}`) } }, ['commitment.checkpoint', 'timeline']],
      ['forwarded disclosure changed', { ...e, disclosures: [makeDisclosure('evaluator', 'Another Institute').encoded] }, ['reveal.disclosures', 'disclosures']],
      ['other accord', { ...e, accord: 'ab'.repeat(32) }, ['chain']],
    ];
    for (const [what, ev, want] of cases) {
      const r = await verifyEvaluationEvidence(ev);
      expect({ what, failed: failed(r) }).toEqual({ what, failed: want });
      expect(r.ok).toBe(false);
    }
  });

  it('checks a protocol commitment the report follows: its stage and the reference', async () => {
    const ps = scenario({ cosignedAt: COSIGNED, protocol: true });
    const r = await verifyEvaluationEvidence(ps.evidence);
    expect(failed(r)).toEqual([]);
    expect(r.checks.map((c) => c.id)).toEqual(expect.arrayContaining(['protocol.signature', 'protocol.inclusion', 'protocol.body', 'commitment.refs']));
    // The report commitment as its own "protocol": wrong stage, and it does not reference itself.
    const bad = await verifyEvaluationEvidence({ ...ps.evidence, protocol: ps.evidence.commitment });
    expect(failed(bad)).toEqual(['commitment.refs', 'protocol.body']);
    // A protocol presented as the commitment a notice stands on: a notice cites a report.
    const { protocol: _p, ...rest } = ps.evidence;
    const asCommitment = await verifyEvaluationEvidence({ ...rest, commitment: ps.evidence.protocol! });
    expect(failed(asCommitment)).toEqual(expect.arrayContaining(['notice.refs', 'notice.stage']));
    const [protocol, commitment] = ps.log.entries;
    expect(() => checkProtocolReference(commitment!.entry, protocol)).not.toThrow();
  });

  it('a notice citing another entry than the commitment fails notice.refs', async () => {
    const r = await verifyEvaluationEvidence(scenario({ cosignedAt: COSIGNED, noticeRef: 1 }).evidence);
    expect(failed(r)).toEqual(['notice.refs']);
  });

  it('reused salts in forwarded disclosures fail the salt check (and the opening)', async () => {
    const a = makeDisclosure('x', 1);
    const b = makeDisclosure('y', 2, a.salt);
    const r = await verifyEvaluationEvidence({ ...s.evidence, reveal: undefined, disclosures: [a.encoded, b.encoded] } as unknown as EvaluationEvidence);
    expect(failed(r)).toEqual(['salts', 'disclosures']);
  });

  it('uses an injected RFC 3161 verifier: its trusted time counts when earlier, its failures fail the check', async () => {
    const withTokens = (ev: EvaluationEvidence): EvaluationEvidence => ({ ...ev, commitment: { ...ev.commitment, timestamps: [{ authority: 'tsa-a', token: 'AAAA' }] } });
    const early = new Date('2026-11-01T00:30:00Z');
    let seen = '';
    const r = await verifyEvaluationEvidence(withTokens(s.evidence), undefined, {
      verifyTokens: async (note, tokens) => {
        seen = note;
        return { verified: tokens.map((t) => ({ authority: t.authority, genTime: early })), failed: [], trustedTime: early, satisfied: true };
      },
    });
    // The verifier is given the note as the log signed it (a node stamps that one), without CN's cosignature.
    expect(seen).toBe(s.evidence.commitment.checkpoint.replace(/\n— cn\.parley\.example\/log [^\n]*\n/, '\n'));
    expect(seen).not.toBe(s.evidence.commitment.checkpoint);
    expect(r.ok).toBe(true);
    expect(r.provenBy).toMatchObject({ how: 'timestamp', by: ['tsa-a'] });
    expect(r.provenBy!.time).toEqual(early);
    const bad = await verifyEvaluationEvidence(withTokens(s.evidence), undefined, { verifyTokens: async () => ({ verified: [], failed: [{ authority: 'tsa-a', code: 'TSA_IMPRINT_MISMATCH' }], satisfied: false }) });
    expect(failed(bad)).toEqual(['commitment.timestamps']);
    // Still proven by CN's cosignature.
    expect(bad.provenBy?.how).toBe('cosignature');
    const unchecked = await verifyEvaluationEvidence(withTokens(s.evidence));
    expect(failed(unchecked)).toEqual(['commitment.timestamps']);
  });
});

describe('evaluation evidence: the format', () => {
  const s = scenario({ cosignedAt: COSIGNED });
  const text = formatEvaluationEvidence(s.evidence);

  it('round-trips byte for byte', () => {
    expect(formatEvaluationEvidence(parseEvaluationEvidence(text))).toBe(text);
  });

  it('refuses anything else with EVIDENCE_MALFORMED', () => {
    const v = JSON.parse(text) as Record<string, unknown>;
    const bad: string[] = [
      'not json',
      JSON.stringify(v, null, 1),
      canonicalize({ ...v, extra: 1 }),
      canonicalize({ ...v, type: 'parley/bundle' }),
      canonicalize({ ...v, v: 2 }),
      canonicalize({ ...v, accord: 'AB' }),
      canonicalize({ ...v, created: '2026-11-22' }),
      canonicalize({ ...v, commitment: { ...(v['commitment'] as object), proof: ['AAAA'] } }),
      canonicalize({ ...v, commitment: { ...(v['commitment'] as object), entry: 'not base64' } }),
      canonicalize({ ...v, commitment: { ...(v['commitment'] as object), timestamps: [{ authority: 'Bad Name', token: 'AAAA' }] } }),
      canonicalize({ ...v, commitment: { ...(v['commitment'] as object), extra: 1 } }),
      canonicalize({ ...v, disclosures: ['x'] }),
      canonicalize(Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'commitment'))),
    ];
    for (const b of bad) assertThrowsCode(() => parseEvaluationEvidence(b), ParseError, 'EVIDENCE_MALFORMED');
  });

  it('carries a time-stamp token of up to 64 KiB (the size a node accepts and stores), not larger', () => {
    const v = JSON.parse(text) as Record<string, unknown>;
    const withToken = (bytes: number) => canonicalize({ ...v, commitment: { ...(v['commitment'] as object), timestamps: [{ authority: 'tsa-a', token: formatBase64(new Uint8Array(bytes)) }] } });
    expect(parseEvaluationEvidence(withToken(60 * 1024)).commitment.timestamps[0]!.token).toHaveLength(4 * Math.ceil((60 * 1024) / 3));
    assertThrowsCode(() => parseEvaluationEvidence(withToken(64 * 1024 + 3)), ParseError, 'EVIDENCE_MALFORMED');
  });
});

describe('reference rules', () => {
  const s = scenario({ cosignedAt: COSIGNED });
  const [commitment, message, notice, reveal] = s.log.entries as [typeof s.log.entries[0], typeof s.log.entries[0], typeof s.log.entries[0], typeof s.log.entries[0]];
  const clear = (e: typeof commitment) => (e.entry.body as { clear: unknown }).clear;

  it('accepts the notice and the reveal against the held commitment', () => {
    expect(checkNoticeCommitment(notice.entry, clear(notice), commitment).deployedAt).toBe('2026-11-20T00:00:00Z');
    expect(checkRevealCommitment(reveal.entry, clear(reveal), commitment).claims).toEqual({ evaluator: CLAIMS.evaluator, redLines: { cbrn: { outcome: 'below' } } });
    expect(() => checkProtocolReference(commitment.entry, undefined)).not.toThrow();
  });

  it('a missing commitment, another leaf hash or another type is EVAL_COMMITMENT_MISSING', () => {
    assertThrowsCode(() => checkNoticeCommitment(notice.entry, clear(notice), undefined), VerificationError, 'EVAL_COMMITMENT_MISSING');
    assertThrowsCode(() => checkNoticeCommitment(notice.entry, clear(notice), { entry: commitment.entry, leafHash: message.leafHash }), VerificationError, 'EVAL_COMMITMENT_MISSING');
    assertThrowsCode(() => checkNoticeCommitment(notice.entry, clear(notice), message), VerificationError, 'EVAL_COMMITMENT_MISSING');
    // A reveal of another party's commitment.
    assertThrowsCode(() => checkRevealCommitment({ ...reveal.entry, from: { party: 'CN', officer: 'bob' } }, clear(reveal), commitment), VerificationError, 'EVAL_COMMITMENT_MISSING');
    // A commitment following a "protocol" that is a report.
    assertThrowsCode(() => checkProtocolReference({ ...commitment.entry, refs: notice.entry.refs }, commitment), VerificationError, 'EVAL_COMMITMENT_MISSING');
  });

  it('a notice deployed before its commitment is EVAL_NOTICE_BEFORE_COMMITMENT', () => {
    const early = scenario({ cosignedAt: COSIGNED, deployedAt: '2026-10-31T23:59:59Z' });
    const [c, , n] = early.log.entries;
    assertThrowsCode(() => checkNoticeCommitment(n!.entry, (n!.entry.body as { clear: unknown }).clear, c), VerificationError, 'EVAL_NOTICE_BEFORE_COMMITMENT');
  });

  it('a reveal with a changed value is EVAL_DISCLOSURE_MISMATCH', () => {
    const forged = { disclosures: [makeDisclosure('evaluator', 'Someone', s.shown.find((d) => d.path === 'evaluator')!.salt).encoded] };
    assertThrowsCode(() => checkRevealCommitment(reveal.entry, forged, commitment), VerificationError, 'EVAL_DISCLOSURE_MISMATCH');
  });

  it('a sealed reveal opens only for its sender and recipients (EVAL_NOT_ADDRESSED)', () => {
    const sealed = { ...reveal.entry, marking: 'TLP:AMBER' as const, to: ['CN'] };
    expect(() => checkAddressed(sealed, 'CN')).not.toThrow();
    expect(() => checkAddressed(sealed, 'US')).not.toThrow();
    assertThrowsCode(() => checkAddressed(sealed, 'EU'), VerificationError, 'EVAL_NOT_ADDRESSED');
    expect(() => checkAddressed(reveal.entry, 'EU')).not.toThrow();
  });

  it('builds from the same accord as the log', () => {
    expect(buildLog('US', keys.US, []).entries).toEqual([]);
    expect(commitment.entry.accord).toBe(accord.id);
  });
});
