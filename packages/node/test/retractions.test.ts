/**
 * Retractions (issue 13, retractions.ts): US withdraws or supersedes entries
 * of its own log; CN's node applies the retraction on ingest — or, when it
 * arrives before the entry it withdraws, once that entry is held. Hostile
 * retractions (another party's entry, twice, a receipt, wrong refs) are
 * refused on submission with their codes, and — written by a US node that
 * skips the checks (ParleyNode.submit directly) — kept by CN and answered
 * with a signed rejection carrying the same code. Real nodes on real SQLite
 * stores (files for the restart); entries move by ParleyNode.ingest.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EntryRef, formatBase64, parseEntry, receiptRejection } from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { commitClaims } from '@parley/core/node';
import { EvaluationIndex, ParleyNode, deadlineTracker, incidentIndex, retractionOf, submitCommitment, submitNotice, submitRetraction } from '../src/index.js';
import { openChannel, sampleReport } from './helpers/channel.js';

let dir: string;
let ch: Awaited<ReturnType<typeof openChannel>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-retract-'));
  ch = await openChannel(['CN', 'EU', 'US'], dir);
});
afterAll(async () => {
  await ch.close().catch(() => undefined); // CN was closed by the restart test
  rmSync(dir, { recursive: true, force: true });
});

const bytes = async (i: number) => (await ch.store('US').entry(i))!.bytes;
const ref = async (party: string, i: number): Promise<EntryRef> => {
  const e = party === 'US' ? await ch.store('US').entry(i) : await ch.store(party).entry(i);
  return { party, index: i, hash: formatBase64(e!.leafHash) };
};
/** CN's answers to US/index: the rejection code each carries (undefined = a plain receipt). */
async function answers(index: number) {
  const refs = await ch.store('CN').referencing('US', index);
  return refs.filter((e) => e.meta.type === 'receipt').map((e) => receiptRejection((parseEntry(e.bytes).body as { clear: unknown }).clear)?.code);
}
async function expectCode(p: Promise<unknown>, code: string) {
  await expect(p).rejects.toMatchObject({ code });
}

describe('US retracts a report it sent to CN', () => {
  it('CN shows it retracted (with the reason), no acknowledgement is due, and the incident is retracted', async () => {
    const us = ch.node('US');
    const cn = ch.node('CN');
    const report = await us.sendReport('alice', { to: ['CN'], marking: 'TLP:AMBER', precedence: 'FLASH', report: sampleReport({ incident: 'US:retract-1' }) });
    await cn.ingest([await bytes(report.index)]);
    const x = await submitRetraction(us, 'alice', { entry: { party: 'US', index: report.index }, action: 'retract', reason: 'sent to the wrong channel' });
    expect(x.entry.to).toEqual(['CN']); // the withdrawn entry's recipients
    expect(x.entry.marking).toBe('TLP:AMBER'); // and marking
    expect(x.entry.precedence).toBe('FLASH');
    await cn.ingest([await bytes(x.index)]);
    expect(await answers(x.index)).toEqual([undefined]); // a plain receipt

    const seen = await cn.read('US', report.index, 'officer');
    expect(seen?.retracted).toEqual({ by: { party: 'US', index: x.index, time: x.entry.time }, action: 'retract', reason: 'sent to the wrong channel' });
    // An auditor sees THAT it was withdrawn, not the sealed reason.
    const audited = await cn.read('US', report.index, 'auditor');
    expect(audited?.retracted).toEqual({ by: { party: 'US', index: x.index, time: x.entry.time }, action: 'retract' });
    // The sender's own node applies it too.
    expect((await us.read('US', report.index, 'officer'))?.retracted?.action).toBe('retract');
    expect((await cn.inbox({ limit: 10 }, 'officer')).find((v) => v.index === report.index)?.retracted?.reason).toBe('sent to the wrong channel');

    // Far past every deadline: the FLASH report is withdrawn, not overdue.
    const tracker = deadlineTracker(cn, ch.store('CN'));
    await tracker.refresh();
    const late = Date.now() + 365 * 86_400_000;
    const s = (await tracker.status('US', report.index, 'CN', late))!;
    expect(s.state).toBe('withdrawn');
    expect(s.overdue).toEqual([]);
    expect(s.settled).toBe(true);

    const index = incidentIndex(cn, ch.store('CN'));
    await index.refresh();
    expect(index.list('officer').find((i) => i.incident === 'US:retract-1')?.status).toBe('retracted');
    expect(index.timeline('US:retract-1')).toContainEqual({ party: 'US', index: x.index });
  });

  it('supersede: the replacement takes the withdrawn report\u2019s place in the incident', async () => {
    const us = ch.node('US');
    const cn = ch.node('CN');
    const r1 = await us.sendReport('alice', { to: ['CN'], marking: 'TLP:GREEN', report: sampleReport({ incident: 'US:supersede-1', title: 'Wrong title', severity: 5 }) });
    const r2 = await us.sendReport('alice', { to: ['CN'], marking: 'TLP:GREEN', report: sampleReport({ incident: 'US:supersede-1', kind: 'update', title: 'Right title', severity: 3 }) });
    const x = await submitRetraction(us, 'alice', { entry: { party: 'US', index: r1.index }, action: 'supersede', replacement: { party: 'US', index: r2.index }, reason: 'the severity was wrong' });
    await cn.ingest([await bytes(r1.index), await bytes(r2.index), await bytes(x.index)]);
    expect((await cn.read('US', r1.index, 'auditor'))?.retracted).toMatchObject({ action: 'supersede', replacement: { party: 'US', index: r2.index } });
    expect((await cn.read('US', r2.index, 'officer'))?.retracted).toBeUndefined();
    const index = incidentIndex(cn, ch.store('CN'));
    await index.refresh();
    expect(index.list('officer').find((i) => i.incident === 'US:supersede-1')).toMatchObject({ title: 'Right title', severity: 3, status: 'updated' });
  });

  it('a retraction that arrives before the entry it withdraws is applied once that entry is held', async () => {
    const us = ch.node('US');
    const cn = ch.node('CN');
    const m = await us.sendMessage('alice', { to: ['CN'], precedence: 'PRIORITY', marking: 'TLP:CLEAR', text: 'ignore this' });
    const x = await submitRetraction(us, 'alice', { entry: { party: 'US', index: m.index }, action: 'retract', reason: 'test message' });
    await cn.ingest([await bytes(x.index)]);
    expect(await answers(x.index)).toEqual([undefined]); // accepted: its target may still come
    expect(await retractionOf(cn, 'US', m.index)).toBeUndefined();
    await cn.ingest([await bytes(m.index)]);
    expect(await retractionOf(cn, 'US', m.index)).toMatchObject({ action: 'retract', reason: 'test message', by: { party: 'US', index: x.index } });
    const tracker = deadlineTracker(cn, ch.store('CN'));
    await tracker.refresh();
    expect((await tracker.status('US', m.index, 'CN', Date.now() + 86_400_000))?.state).toBe('withdrawn');
  });
});

describe('evaluation entries', () => {
  it('a withdrawn deployment notice is marked on CN and no longer makes the timeline', async () => {
    const us = ch.node('US');
    const cn = ch.node('CN');
    const claims = commitClaims({ model: { name: 'Frontier-9' } });
    const c = await submitCommitment(us, 'alice', { stage: 'report', domains: ['CBRN'], sd: claims.sd });
    const n = await submitNotice(us, 'alice', { commitment: { party: 'US', index: c.index }, model: { id: 'frontier-9', digest: `sha256:${'a'.repeat(64)}` }, deployedAt: new Date(Date.now() + 60_000).toISOString() });
    const x = await submitRetraction(us, 'alice', { entry: { party: 'US', index: n.index }, action: 'retract', reason: 'deployment postponed' });
    await cn.ingest([await bytes(c.index), await bytes(n.index), await bytes(x.index)]);
    const index = new EvaluationIndex(cn);
    const view = await index.view((await index.evaluation('US', c.index, 'officer'))!);
    expect(view.notices).toEqual([expect.objectContaining({ index: n.index, retracted: { by: { party: 'US', index: x.index, time: x.entry.time }, action: 'retract' } })]);
    expect(view.timeline).toBeUndefined();
    expect(view.commitment.retracted).toBeUndefined();
  });
});

describe('hostile retractions', () => {
  it('are refused on submission with their codes, nothing written', async () => {
    const us = ch.node('US');
    const cn = ch.node('CN');
    const size = us.treeSize;
    const own = await us.sendMessage('alice', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:AMBER', text: 'hello' });
    const theirs = await cn.sendMessage('alice', { to: ['US'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'from CN' });
    const [receipt] = (await us.ingest([(await ch.store('CN').entry(theirs.index))!.bytes])).receipts;
    const before = us.treeSize;
    const retract = (entry: { party: string; index: number }, o: object = {}) => submitRetraction(us, 'alice', { entry, action: 'retract', reason: 'because', ...o });
    await expectCode(retract({ party: 'CN', index: theirs.index }), 'RETRACTION_NOT_OWN');
    await expectCode(retract({ party: 'US', index: receipt!.index }), 'RETRACTION_NOT_RETRACTABLE');
    await expectCode(retract({ party: 'US', index: 10_000 }), 'RETRACTION_TARGET_MISSING');
    await expectCode(retract({ party: 'US', index: own.index }, { marking: 'TLP:GREEN' }), 'RETRACTION_MARKING');
    const x = await retract({ party: 'US', index: own.index }, { marking: 'TLP:RED' }); // more restrictive: fine
    await expectCode(retract({ party: 'US', index: own.index }), 'RETRACTION_ALREADY');
    await expectCode(retract({ party: 'US', index: x.index }), 'RETRACTION_NOT_RETRACTABLE');
    // Two racing retractions of one entry: one is written.
    const m = await us.sendMessage('alice', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'race' });
    const race = await Promise.allSettled([retract({ party: 'US', index: m.index }), retract({ party: 'US', index: m.index })]);
    expect(race.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    // Supersede: the replacement must be later, of the same type, and for reports of the same incident.
    const a = await us.sendReport('alice', { to: ['CN'], marking: 'TLP:CLEAR', report: sampleReport({ incident: 'US:hostile-a' }) });
    const b = await us.sendReport('alice', { to: ['CN'], marking: 'TLP:CLEAR', report: sampleReport({ incident: 'US:hostile-b' }) });
    const supersede = (e: number, r: number) => submitRetraction(us, 'alice', { entry: { party: 'US', index: e }, action: 'supersede', replacement: { party: 'US', index: r }, reason: 'x' });
    await expectCode(supersede(a.index, b.index), 'RETRACTION_REPLACEMENT_INVALID');
    await expectCode(supersede(b.index, a.index), 'RETRACTION_REPLACEMENT_INVALID');
    await expectCode(supersede(a.index, m.index + 1_000), 'RETRACTION_REPLACEMENT_INVALID');
    expect(us.treeSize).toBe(before + 1 + 1 + 1 + 2); // x, m, its one retraction, a, b
    expect(size).toBeLessThan(before);
  });

  it('written by a node that skips the checks, are kept by CN and answered with signed rejections', async () => {
    const us = ch.node('US');
    const cn = ch.node('CN');
    const theirs = await cn.sendMessage('alice', { to: ['US'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'CN speaking' });
    const [receipt] = (await us.ingest([(await ch.store('CN').entry(theirs.index))!.bytes])).receipts;
    const m = await us.sendMessage('alice', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'to withdraw' });
    const draft = (refs: EntryRef[], action = 'retract') => us.submit('mallory', { type: 'retraction', to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs, body: { action, reason: 'hostile' } });
    const notOwn = await draft([await ref('CN', theirs.index)]);
    const ofReceipt = await draft([await ref('US', receipt!.index)]);
    const first = await draft([await ref('US', m.index)]);
    const twice = await draft([await ref('US', m.index)]);
    const wrongRefs = await draft([await ref('US', m.index)], 'supersede');
    // CN holds the receipt (addressed to it) before the retraction citing it: judged, refused.
    await cn.ingest([await bytes(receipt!.index), await bytes(m.index), await bytes(notOwn.index), await bytes(ofReceipt.index), await bytes(first.index)]);
    await cn.ingest([await bytes(twice.index), await bytes(wrongRefs.index)]);
    expect(await answers(notOwn.index)).toEqual(['RETRACTION_NOT_OWN']);
    expect(await answers(ofReceipt.index)).toEqual(['RETRACTION_NOT_RETRACTABLE']);
    expect(await answers(first.index)).toEqual([undefined]);
    expect(await answers(twice.index)).toEqual(['RETRACTION_ALREADY']);
    expect(await answers(wrongRefs.index)).toEqual(['RETRACTION_REFS']);
    // Kept as evidence: held and listed.
    expect(await ch.store('CN').received('US', notOwn.index)).toBeDefined();
    // CN's own entry is not withdrawn by US's say-so; the message is, by the first retraction.
    expect(await retractionOf(cn, 'CN', theirs.index)).toBeUndefined();
    expect((await retractionOf(cn, 'US', m.index))?.by.index).toBe(first.index);
  });
});

describe('a restart', () => {
  it('keeps what is withdrawn: the state is read from the logs again', async () => {
    const us = ch.node('US');
    const cn = ch.node('CN');
    const m = await us.sendMessage('alice', { to: ['CN'], precedence: 'FLASH', marking: 'TLP:AMBER', text: 'before restart' });
    const x = await submitRetraction(us, 'alice', { entry: { party: 'US', index: m.index }, action: 'retract', reason: 'restart test' });
    await cn.ingest([await bytes(m.index), await bytes(x.index)]);
    await cn.close();
    await ch.store('CN').close();
    const store = SqliteStore.open(join(dir, 'CN.sqlite'));
    const party = ch.parties.find((p) => p.id === 'CN')!;
    const again = await ParleyNode.open({ accord: ch.accord, party: 'CN', keys: party.keys, store });
    try {
      expect((await again.read('US', m.index, 'officer'))?.retracted).toMatchObject({ action: 'retract', reason: 'restart test', by: { index: x.index } });
      const tracker = deadlineTracker(again, store);
      await tracker.refresh();
      expect((await tracker.status('US', m.index, 'CN', Date.now() + 86_400_000))?.state).toBe('withdrawn');
    } finally {
      await again.close();
      await store.close();
    }
  });
});
