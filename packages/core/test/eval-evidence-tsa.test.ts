/**
 * Evaluation evidence with REAL RFC 3161 time stamps: a throwaway CA and TSA
 * made with openssl (test/helpers/tsa.ts), tokens over the exact checkpoint
 * note, verified through `@parley/core/tsa`'s verifyTimestamps injected into
 * verifyEvaluationEvidence (as the CLI and the dashboard do). A token for
 * another imprint, or from an authority the accord does not trust, fails the
 * time-stamp check; a valid one proves the commitment's time on its own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EvaluationEvidence, type TimestampToken, formatBase64, verifyEvaluationEvidence } from '../src/index.js';
import { type AccordTimestamping, verifyTimestamps } from '../src/tsa/index.js';
import { type TestTsa, makeTestTsa } from './helpers/tsa.js';
import { scenario } from './helpers/evaluation.js';

let tsa: TestTsa;
let stranger: TestTsa;
let timestamping: AccordTimestamping;

beforeAll(async () => {
  tsa = await makeTestTsa({ name: 'eval-tsa' });
  stranger = await makeTestTsa({ name: 'eval-tsa', untrusted: true });
  timestamping = { authorities: [tsa.authority], required: 1 };
}, 60_000);
afterAll(async () => {
  await tsa?.close();
  await stranger?.close();
});

const verifyTokens = (note: string, tokens: readonly TimestampToken[]) => verifyTimestamps(note, tokens, timestamping);
const stamped = (ev: EvaluationEvidence, tokens: TimestampToken[]): EvaluationEvidence => ({ ...ev, commitment: { ...ev.commitment, timestamps: tokens } });

describe('evaluation evidence with real RFC 3161 tokens', () => {
  // No cosignature: only the time stamp can prove the commitment's time. Deployment far ahead of the token's genTime (now).
  const s = scenario({ deployedAt: '2099-01-01T00:00:00Z' });

  it('a token over the exact checkpoint note proves the commitment before deployment', async () => {
    const { token } = await tsa.stampData(s.evidence.commitment.checkpoint);
    const r = await verifyEvaluationEvidence(stamped(s.evidence, [{ authority: 'eval-tsa', token: formatBase64(token) }]), undefined, { verifyTokens });
    expect(r.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual([]);
    expect(r.provenBy).toMatchObject({ how: 'timestamp', by: ['eval-tsa'] });
    expect(Math.abs(r.provenBy!.time.getTime() - Date.now())).toBeLessThan(10 * 60_000);
    expect(r.timeline?.committedBefore).toBe(true);
  }, 60_000);

  it("with a counterpart's cosignature on the note, a token over the log's own signed note still verifies", async () => {
    const cosigned = scenario({ deployedAt: '2099-01-01T00:00:00Z', cosignedAt: 1 });
    const plain = cosigned.evidence.commitment.checkpoint.replace(/\n— cn\.parley\.example\/log [^\n]*\n/, '\n');
    expect(plain).not.toBe(cosigned.evidence.commitment.checkpoint);
    const { token } = await tsa.stampData(plain);
    let seen: string[] = [];
    const r = await verifyEvaluationEvidence(stamped(cosigned.evidence, [{ authority: 'eval-tsa', token: formatBase64(token) }]), undefined, {
      verifyTokens: (note, t) => {
        seen = [...seen, note];
        return verifyTokens(note, t);
      },
    });
    expect(seen).toEqual([plain]);
    expect(r.checks.find((c) => c.id === 'commitment.timestamps')?.ok).toBe(true);
    // The cosignature (at POSIX 1) is earlier than the token: it proves the time.
    expect(r.provenBy?.how).toBe('cosignature');
    // And a token over the note with its cosignatures verifies too.
    const full = await tsa.stampData(cosigned.evidence.commitment.checkpoint);
    const r2 = await verifyEvaluationEvidence(stamped(cosigned.evidence, [{ authority: 'eval-tsa', token: formatBase64(full.token) }]), undefined, { verifyTokens });
    expect(r2.checks.find((c) => c.id === 'commitment.timestamps')?.ok).toBe(true);
  }, 60_000);

  it('a token for another imprint fails with TSA_IMPRINT_MISMATCH, and proves nothing', async () => {
    const { token } = await tsa.stampData(`${s.evidence.commitment.checkpoint}x`);
    const r = await verifyEvaluationEvidence(stamped(s.evidence, [{ authority: 'eval-tsa', token: formatBase64(token) }]), undefined, { verifyTokens });
    expect(r.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['commitment.timestamps', 'timeline']);
    expect(r.checks.find((c) => c.id === 'commitment.timestamps')!.detail.en).toContain('TSA_IMPRINT_MISMATCH');
    expect(r.provenBy).toBeUndefined();
  }, 60_000);

  it('a token from a TSA not chained to the accord root fails with TSA_UNTRUSTED', async () => {
    const { token } = await stranger.stampData(s.evidence.commitment.checkpoint);
    const r = await verifyEvaluationEvidence(stamped(s.evidence, [{ authority: 'eval-tsa', token: formatBase64(token) }]), undefined, { verifyTokens });
    expect(r.ok).toBe(false);
    expect(r.checks.find((c) => c.id === 'commitment.timestamps')!.detail.en).toContain('TSA_UNTRUSTED');
  }, 60_000);
});
