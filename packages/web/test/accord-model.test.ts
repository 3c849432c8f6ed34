/**
 * The Accord page's view models (src/pages/accord/model.ts): an accord diff
 * rendered as readable changes (vectors in test/vectors/accord-diff.json),
 * a pending proposal (who approved, quorum need/have, consents missing,
 * whether this officer may approve), and each party's activations with the
 * suspect range of a compromise recovery.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type Accord, accordDiff, draftAccord, formatBase64, formatVerifierKey, generateSignerKey, verifierKeyOf } from '@parley/core';
import { type DiffItem, type ProposalItem, activationRows, describeDiff, proposalView, shortKey, signersOf, sortProposals } from '../src/pages/accord/model.js';

const vectors = JSON.parse(readFileSync(new URL('./vectors/accord-diff.json', import.meta.url), 'utf8')) as { cases: { name: string; diff: DiffItem[]; changes: unknown[] }[] };

const hpkeKey = formatBase64(new Uint8Array(32).fill(7));
const party = (id: string, key = generateSignerKey(`${id.toLowerCase()}.parley.test/log`)) => ({ id, names: { en: `${id} institute`, 'zh-CN': `${id} 研究所` }, urls: [`http://127.0.0.1/${id}`], logKey: formatVerifierKey(verifierKeyOf(key)), hpkeKey });
const v1: Accord = draftAccord({ name: 'model-test', parties: [party('CN'), party('US')] });

describe('describeDiff', () => {
  for (const c of vectors.cases) {
    it(c.name, () => {
      expect(describeDiff(c.diff)).toEqual(c.changes);
    });
  }

  it('reads officers\u2019 roles per action, from core accordDiff and from a whole roles member against the defaults', () => {
    const next: Accord = { ...v1, roles: { amend: ['admin', 'officer'], flash: ['admin'], report: ['admin', 'officer'] } };
    const expected = [
      { kind: 'roles', action: 'amend', from: ['admin'], to: ['admin', 'officer'] },
      { kind: 'roles', action: 'flash', from: ['admin', 'officer'], to: ['admin'] },
    ];
    expect(describeDiff(accordDiff(v1, next), v1, next)).toEqual(expected);
    expect(describeDiff([{ path: 'roles', to: next.roles as unknown as DiffItem['to'] }], v1, next)).toEqual(expected);
    // Roles sort after the quorum, before deadlines.
    const both = describeDiff([{ path: 'heartbeatSeconds', from: 3600, to: 60 }, ...accordDiff(v1, next), { path: 'amendmentQuorum', from: 2, to: 1 }]);
    expect(both.map((c) => c.kind)).toEqual(['quorum', 'roles', 'roles', 'heartbeat']);
  });

  it('resolves a party given by its index against the previous and next accords', () => {
    const us2 = party('US');
    const next: Accord = { ...v1, parties: [v1.parties[0]!, us2] };
    expect(describeDiff([{ path: 'parties.1.logKey', from: v1.parties[1]!.logKey, to: us2.logKey }], v1, next)).toEqual([{ kind: 'party.logKey', party: 'US', from: v1.parties[1]!.logKey, to: us2.logKey }]);
  });

  it('reads names and urls per language / per item as one change of the whole list', () => {
    const next: Accord = { ...v1, parties: [{ ...v1.parties[0]!, names: { en: 'CN new', 'zh-CN': '新' } }, v1.parties[1]!] };
    const changes = describeDiff(
      [
        { path: 'parties.CN.names.en', from: 'CN institute', to: 'CN new' },
        { path: 'parties.CN.names.zh-CN', from: 'CN 研究所', to: '新' },
      ],
      v1,
      next,
    );
    expect(changes).toEqual([{ kind: 'party.names', party: 'CN', from: v1.parties[0]!.names, to: { en: 'CN new', 'zh-CN': '新' } }]);
  });

  it('lists red lines added and removed from the accords, however the diff splits them', () => {
    const next: Accord = { ...v1, redLines: [{ category: 'CB', minSeverity: 2 }] };
    const prev: Accord = { ...v1, redLines: [{ category: 'WT', minSeverity: 5 }] };
    expect(describeDiff([{ path: 'redLines.0.category', from: 'WT', to: 'CB' }, { path: 'redLines.0.minSeverity', from: 5, to: 2 }], prev, next)).toEqual([
      { kind: 'redLines', added: [{ category: 'CB', minSeverity: 2 }], removed: [{ category: 'WT', minSeverity: 5 }] },
    ]);
  });

  it('lists nothing for an amendment that only moves version and previous', () => {
    expect(describeDiff([{ path: 'version', from: 2, to: 3 }, { path: 'previous', from: 'a', to: 'b' }])).toEqual([]);
  });

  it('shortens a verifier key to its name and key id', () => {
    expect(shortKey('us.parley.test/log+0a0b0c0d+AAAAbase64')).toBe('us.parley.test/log+0a0b0c0d');
    expect(shortKey(undefined)).toBe('—');
  });
});

const proposal = (over: Partial<ProposalItem> = {}): ProposalItem => ({
  digest: 'd'.repeat(64),
  version: 2,
  proposer: { party: 'US', index: 7 },
  accord: { ...v1, parties: [...v1.parties, party('EU')].sort((a, b) => a.id.localeCompare(b.id)) },
  rationale: 'EU joins',
  diff: [{ path: 'parties.EU', to: { id: 'EU' } }],
  approvals: [
    { party: 'US', prior: false, index: 8 },
    { party: 'US', prior: true, index: 9 },
  ],
  consents: { need: ['EU'], have: [] },
  quorum: { need: 2, have: 1 },
  status: 'pending',
  ...over,
});

describe('proposalView', () => {
  it('counts each approving party once, lists who the quorum waits on and the consents missing', () => {
    const v = proposalView(proposal(), v1, { party: 'CN', role: 'admin' });
    expect(v.approvedBy).toEqual([{ party: 'US', prior: true, index: 8 }]);
    expect(v.waitingOn).toEqual(['CN']);
    expect(v.quorum).toEqual({ need: 2, have: 1, met: false });
    expect(v.consents.missing).toEqual(['EU']);
    expect(v.changes.map((c) => c.kind)).toEqual(['party.added']);
    expect(v.canApprove).toBe(true);
    expect(v.blocked).toBeUndefined();
  });

  it('offers Approve only to an admin of a party the proposal still needs, while pending', () => {
    expect(proposalView(proposal(), v1, { party: 'CN', role: 'officer' })).toMatchObject({ canApprove: false, blocked: 'role' });
    expect(proposalView(proposal(), v1, { party: 'CN', role: 'auditor' })).toMatchObject({ canApprove: false, blocked: 'role' });
    // The accord in force may let officers amend (roles.amend); never auditors.
    const officersAmend: Accord = { ...v1, roles: { amend: ['admin', 'officer'], flash: ['admin', 'officer'], report: ['admin', 'officer'] } };
    expect(proposalView(proposal(), officersAmend, { party: 'CN', role: 'officer' })).toMatchObject({ canApprove: true });
    expect(proposalView(proposal(), officersAmend, { party: 'CN', role: 'auditor' })).toMatchObject({ canApprove: false, blocked: 'role' });
    expect(proposalView(proposal(), v1, { party: 'US', role: 'admin' })).toMatchObject({ canApprove: false, blocked: 'approved' });
    expect(proposalView(proposal({ status: 'active' }), v1, { party: 'CN', role: 'admin' })).toMatchObject({ canApprove: false, blocked: 'status' });
    expect(proposalView(proposal({ status: 'refused' }), v1, { party: 'CN', role: 'admin' })).toMatchObject({ canApprove: false, blocked: 'status' });
    expect(proposalView(proposal(), v1, { party: 'JP', role: 'admin' })).toMatchObject({ canApprove: false, blocked: 'not-party' });
    // A joining party's admin gives its consent with the same button.
    expect(proposalView(proposal(), v1, { party: 'EU', role: 'admin' })).toMatchObject({ canApprove: true });
    expect(proposalView(proposal({ consents: { need: ['EU'], have: ['EU'] } }), v1, { party: 'EU', role: 'admin' })).toMatchObject({ canApprove: false, blocked: 'approved' });
  });

  it('marks the quorum met at need = have and keeps rationale and recovery', () => {
    const v = proposalView(proposal({ quorum: { need: 1, have: 1 }, recovery: { party: 'CN', suspectFrom: 12 } }), v1, { party: 'US', role: 'admin' });
    expect(v.quorum.met).toBe(true);
    expect(v.recovery).toEqual({ party: 'CN', suspectFrom: 12 });
    expect(v.rationale).toBe('EU joins');
  });

  it('sorts pending proposals first, newest version first', () => {
    const vs = [proposal({ status: 'active', version: 2, digest: 'a'.repeat(64) }), proposal({ version: 3, digest: 'b'.repeat(64) }), proposal({ version: 4, digest: 'c'.repeat(64) })].map((p) => proposalView(p, v1, { party: 'CN', role: 'admin' }));
    expect(sortProposals(vs).map((v) => v.version)).toEqual([4, 3, 2]);
  });
});

describe('activationRows', () => {
  const v = (n: number) => ({ version: n });
  const epochs = [
    { party: 'US', version: v(2), from: 5, until: 11 },
    { party: 'EU', version: v(2), from: 0 },
    { party: 'CN', version: v(1), from: 0, until: 9, suspectFrom: 6 },
    { party: 'CN', version: v(3), from: 9 },
    { party: 'US', version: v(3), from: 11 },
    { party: 'US', version: v(1), from: 0, until: 5 },
  ];

  it('lists each party\'s epochs in order, with the suspect tail of a compromised key\'s epoch', () => {
    expect(activationRows(epochs)).toEqual([
      { party: 'CN', version: 1, from: 0, until: 9, suspect: { from: 6, to: 9 } },
      { party: 'CN', version: 3, from: 9 },
      { party: 'EU', version: 2, from: 0 },
      { party: 'US', version: 1, from: 0, until: 5 },
      { party: 'US', version: 2, from: 5, until: 11 },
      { party: 'US', version: 3, from: 11 },
    ]);
  });

  it('lists signers with approvals under the previous keys after consents', () => {
    expect(signersOf({ accord: v1, signatures: [{ party: 'US', sig: 'x', prior: true }, { party: 'CN', sig: 'y' }, { party: 'US', sig: 'z' }] })).toEqual([
      { party: 'CN', prior: false },
      { party: 'US', prior: false },
      { party: 'US', prior: true },
    ]);
  });
});
