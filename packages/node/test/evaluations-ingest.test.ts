/**
 * Received evaluation entries whose commitment is not held yet (issue 12,
 * evaluations/refs.ts): logs arrive in no fixed order and a rejection is
 * final, so a reveal that comes before its commitment is accepted with a
 * plain receipt, and judged by the views once the commitment is held.
 * Real nodes on real (in-memory) SQLite stores; entries move by ParleyNode.ingest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitClaims, parseEntry, receiptRejection, selectDisclosures } from '@parley/core/node';
import { EvaluationCapture, EvaluationIndex, capturedNotes, noteCosigned, submitCommitment, submitReveal } from '../src/index.js';
import { openChannel } from './helpers/channel.js';

let ch: Awaited<ReturnType<typeof openChannel>>;
const claims = commitClaims({ model: { name: 'Frontier-3' }, developer: 'US lab' });

beforeAll(async () => {
  ch = await openChannel(['CN', 'US']);
});
afterAll(async () => ch.close());

/** CN's answers to US/index: the rejection each carries (undefined = a plain receipt). */
async function answers(index: number) {
  const refs = await ch.store('CN').referencing('US', index);
  return refs.filter((e) => e.meta.type === 'receipt').map((e) => receiptRejection((parseEntry(e.bytes).body as { clear: unknown }).clear));
}

describe('a reveal received before its commitment', () => {
  it('is accepted, then opened by the view once the commitment arrives', async () => {
    const us = ch.node('US');
    const c = await submitCommitment(us, 'alice', { stage: 'report', domains: ['CBRN'], sd: claims.sd });
    const r = await submitReveal(us, 'alice', { commitment: { party: 'US', index: c.index }, disclosures: selectDisclosures(claims.disclosures, ['developer']).map((d) => d.encoded), to: ['CN'], marking: 'TLP:AMBER' });
    const bytes = async (i: number) => (await ch.store('US').entry(i))!.bytes;
    const cn = ch.node('CN');
    await cn.ingest([await bytes(r.index)]);
    expect(await answers(r.index)).toEqual([undefined]); // a receipt, not a rejection
    const index = new EvaluationIndex(cn);
    expect(await index.evaluation('US', c.index, 'officer')).toBeUndefined(); // no commitment held: no evaluation yet
    await cn.ingest([await bytes(c.index)]);
    const ev = await index.evaluation('US', c.index, 'officer');
    expect(ev).toBeDefined();
    const view = await index.view(ev!);
    expect(view.reveals).toEqual([expect.objectContaining({ index: r.index, addressed: true, claims: { developer: 'US lab' } })]);
    expect(view.commitment.provenBy).toBeUndefined(); // nothing cosigned here: no trusted time
  });
});

describe('the first cosigned note of each commitment is kept', () => {
  it('per cosigner, write-once: a later cosignature does not replace it; a commitment written after a cosignature gets the next one', async () => {
    const us = ch.node('US');
    const capture = new EvaluationCapture(us);
    try {
      const first = await submitCommitment(us, 'alice', { stage: 'report', domains: ['cyber'], sd: claims.sd });
      noteCosigned(ch.store('US'), { party: 'US', cosigner: 'CN', size: us.treeSize, timestamp: 1_000, note: 'note A' });
      await capture.idle();
      const second = await submitCommitment(us, 'alice', { stage: 'report', domains: ['cyber'], sd: claims.sd });
      noteCosigned(ch.store('US'), { party: 'US', cosigner: 'CN', size: us.treeSize, timestamp: 2_000, note: 'note B' });
      await capture.idle();
      expect((await capturedNotes(us, 'US', first.index)).map((n) => n.note)).toEqual(['note A']);
      expect((await capturedNotes(us, 'US', second.index)).map((n) => n.note)).toEqual(['note B']);
      // The log's own witness line is no counterpart's proof.
      noteCosigned(ch.store('US'), { party: 'US', cosigner: 'US', size: us.treeSize, timestamp: 3_000, note: 'note C' });
      await capture.idle();
      expect((await capturedNotes(us, 'US', second.index)).map((n) => n.note)).toEqual(['note B']);
    } finally {
      capture.stop();
    }
  });
});
