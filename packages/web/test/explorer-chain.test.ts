/**
 * The log explorer's step runner across accord versions (verify.ts with
 * keys.ts): a channel whose US log key is rotated by version 2 at log
 * position R, built here with core. Entries before R are judged by version
 * 1 and the old key, entries from R by version 2 and the new key; the
 * checkpoint at R is valid under both keys, later ones under the new key
 * only (the old key there is KEY_RETIRED). A compromise recovery flags the
 * entries after the last witnessed checkpoint as suspect. A chain that
 * does not verify, or is older than the version this browser trusted,
 * fails the accord step. The Accord page's chainView renders the same chain.
 */
import {
  type SignedAccord,
  type SignerKey,
  MemoryTree,
  accordId,
  appendSignatures,
  canonicalize,
  cosign,
  draftAccord,
  draftAmendment,
  encodeUtf8,
  formatBase64,
  formatVerifierKey,
  generateSignerKey,
  getCrypto,
  leafHash,
  newSigner,
  proveInclusion,
  signAccord,
  signAccordVersion,
  signCheckpoint,
  signEntry,
  verifierKeyOf,
  verifyAccord,
  cosignerKey,
} from '@parley/core';
import { describe, expect, it } from 'vitest';
import { chainView } from '../src/pages/accord/chain.js';
import { type VerifyInput, verifyEntryInclusion } from '../src/pages/explorer/verify.js';
import { checkCheckpoint } from '../src/pages/links/checkpoint.js';
import { keysOfChainFile } from '../src/pages/explorer/keys.js';

const hpkeKey = formatBase64(new Uint8Array(32).fill(9));
const usOld = generateSignerKey('us.parley.test/log');
const usNew = generateSignerKey('us.parley.test/log');
const cnKey = generateSignerKey('cn.parley.test/log');
const party = (id: string, k: SignerKey) => ({ id, names: { en: id, 'zh-CN': id }, urls: [`http://127.0.0.1/${id}`], logKey: formatVerifierKey(verifierKeyOf(k)), hpkeKey });
let v1: SignedAccord = { accord: draftAccord({ name: 'web-chain-test', parties: [party('CN', cnKey), party('US', usOld)] }), signatures: [] };
v1 = signAccord(signAccord(v1, 'US', usOld), 'CN', cnKey);
const channel = accordId(v1.accord);
const V1 = verifyAccord(v1);

/** Version 2: US's log key rotated; `planned` = US approves with its old key (else a compromise recovery by CN's quorum). */
function version2(planned: boolean): SignedAccord {
  const accord = draftAmendment(V1, { ...v1.accord, parties: [party('CN', cnKey), party('US', usNew)] });
  let s: SignedAccord = { accord, signatures: [] };
  s = signAccordVersion(s, 'CN', cnKey, { prev: V1 });
  s = signAccordVersion(s, 'US', usNew, { prev: V1 });
  if (planned) s = signAccordVersion(s, 'US', usOld, { prior: true, prev: V1 });
  return s;
}

const R = 5;
const N = 9;
const time = (i: number) => `2026-11-26T10:00:0${i}.000Z`;
/** The activation entry of `v` in US's log at index R, signed by the new key. */
/** US's activation entry of version 2, signed by its new key; a recovery's suspectFrom is signed in its body (core epochs.ts). */
function activationEntry(v: SignedAccord, suspectFrom?: number): Uint8Array {
  const digest = accordId(v.accord);
  const env = { v: 1, accord: channel, from: { party: 'US', officer: 'node' }, to: ['CN'], seq: R, time: time(R), type: 'accord.activation', precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [], body: { clear: suspectFrom === undefined ? { version: 2, digest } : { version: 2, digest, suspectFrom } } };
  const sig = formatBase64(getCrypto().ed25519Signer(usNew.seed)(encodeUtf8(`parley/entry/v1\n${canonicalize(env)}`)));
  return encodeUtf8(canonicalize({ ...env, sig }));
}

function build(planned: boolean, suspectFrom?: number) {
  const v2 = version2(planned);
  const tree = new MemoryTree();
  const entries: Uint8Array[] = [];
  for (let i = 0; i < N; i++) {
    let bytes: Uint8Array;
    if (i === R) bytes = activationEntry(v2, suspectFrom);
    else {
      const key = i < R ? usOld : usNew;
      bytes = signEntry(
        { v: 1, accord: channel, from: { party: 'US', officer: 'alice' }, to: ['CN'], seq: i, time: time(i), type: 'hotline.message', precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [], body: { clear: { text: `message ${i}` } } },
        getCrypto().ed25519Signer(key.seed),
      ).bytes;
    }
    entries.push(bytes);
    tree.append(leafHash(bytes));
  }
  const chain = {
    channel,
    versions: [v1, v2],
    activations: [{ party: 'US', version: 2, size: R, entry: formatBase64(entries[R]!), ...(suspectFrom !== undefined ? { suspectFrom } : {}) }],
  };
  return { v2, tree, entries, chain, leaves: entries.map((e) => leafHash(e)) };
}

const note = (b: { leaves: readonly Uint8Array[] }, size: number, by: SignerKey) => {
  const t = new MemoryTree();
  for (let i = 0; i < size; i++) t.append(b.leaves[i]!);
  return new TextDecoder().decode(signCheckpoint({ origin: 'us.parley.test/log', treeSize: size, rootHash: t.root(), extensions: [] }, newSigner(by)));
};
const cnCosigned = (n: string) => new TextDecoder().decode(appendSignatures(n, [cosign(n.slice(0, n.indexOf('\n\n') + 1), cosignerKey(cnKey), 1_790_000_000)]));

function input(b: ReturnType<typeof build>, index: number, checkpoint: string, over: Partial<VerifyInput> = {}): VerifyInput {
  return {
    accord: { id: channel, accord: b.v2.accord },
    chain: b.chain,
    party: 'US',
    index,
    entry: formatBase64(b.entries[index]!),
    leafHash: formatBase64(b.leaves[index]!),
    proof: proveInclusion(N, index, b.tree).map(formatBase64),
    checkpoint,
    witnessed: [{ note: cnCosigned(checkpoint) }],
    ...over,
  };
}
const status = (r: ReturnType<typeof verifyEntryInclusion>) => Object.fromEntries(r.steps.map((s) => [s.id, s.code ? `${s.status}:${s.code}` : s.status]));
const fact = (r: ReturnType<typeof verifyEntryInclusion>, k: string) => r.steps.find((s) => s.id === 'accord')!.facts.find(([x]) => x === k)?.[1];

describe('verifyEntryInclusion across a planned key rotation', () => {
  const b = build(true);
  const latest = note(b, N, usNew);

  it('judges entries before the rotation by version 1 and the old key, later ones by version 2', () => {
    for (const i of [0, R - 1, R, N - 1]) {
      const r = verifyEntryInclusion(input(b, i, latest));
      expect(status(r)).toEqual({ accord: 'pass', key: 'pass', checkpoint: 'pass', witnesses: 'pass', consistency: 'pass', leaf: 'pass', entry: i === R ? status(r).entry : 'pass', inclusion: 'pass' });
      const v = i < R ? 1 : 2;
      expect(r.judgedBy?.version).toBe(v);
      expect(fact(r, 'judgedBy')).toBe(String(v));
      expect(fact(r, 'accordVersions')).toBe('2');
      expect(r.suspect).toBeUndefined();
      expect(r.accordDigest).toBe(accordId(b.v2.accord));
      const keyId = r.steps.find((s) => s.id === 'key')!.facts.find(([k]) => k === 'publicKey')![1];
      expect(keyId).toBe(formatBase64(verifierKeyOf(i < R ? usOld : usNew).publicKey));
    }
  });

  it('accepts the checkpoint at the rotation size under either key, and refuses the old key beyond it (KEY_RETIRED)', () => {
    const t = new MemoryTree();
    for (let i = 0; i < R; i++) t.append(b.leaves[i]!);
    const at = (k: SignerKey) => ({ ...input(b, 2, note(b, R, k)), proof: proveInclusion(R, 2, t).map(formatBase64) });
    expect(verifyEntryInclusion(at(usOld)).verified).toBe(true);
    expect(verifyEntryInclusion(at(usNew)).verified).toBe(true);
    const r = verifyEntryInclusion(input(b, 2, note(b, N, usOld)));
    expect(status(r).checkpoint).toBe('fail:KEY_RETIRED');
    expect(r.verified).toBe(false);
    expect(checkCheckpoint(note(b, N, usOld), keysOfChainFile(b.chain), 'US')).toMatchObject({ verified: false });
    expect(checkCheckpoint(note(b, N, usNew), keysOfChainFile(b.chain), 'US')).toMatchObject({ verified: true, size: N });
  });

  it('refuses an entry signed with the new key before the rotation (judged by version 1)', () => {
    const forged = signEntry(
      { v: 1, accord: channel, from: { party: 'US', officer: 'alice' }, to: ['CN'], seq: 1, time: time(1), type: 'hotline.message', precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [], body: { clear: { text: 'message 1' } } },
      getCrypto().ed25519Signer(usNew.seed),
    ).bytes;
    const r = verifyEntryInclusion(input(b, 1, latest, { entry: formatBase64(forged), leafHash: formatBase64(leafHash(forged)) }));
    expect(status(r).entry).toMatch(/^fail:/);
  });

  it('fails the accord step for a chain that does not verify, of another channel, or older than the version trusted here', () => {
    const unsigned = { ...b.chain, versions: [v1, { ...b.v2, signatures: b.v2.signatures.filter((s) => s.party !== 'CN') }] };
    expect(status(verifyEntryInclusion(input(b, 1, latest, { chain: unsigned }))).accord).toMatch(/^fail:ACCORD_/);
    expect(status(verifyEntryInclusion(input(b, 1, latest, { accord: { id: '0'.repeat(64), accord: b.v2.accord } }))).accord).toBe('fail:ACCORD_ID_MISMATCH');
    const rolledBack = { channel, versions: [v1], activations: [] };
    expect(status(verifyEntryInclusion(input(b, 1, latest, { chain: rolledBack, trusted: accordId(b.v2.accord) }))).accord).toBe('fail:ACCORD_CHAIN');
    expect(verifyEntryInclusion(input(b, 1, latest, { trusted: accordId(b.v2.accord) })).verified).toBe(true);
  });

  it('renders the chain on the Accord page: two versions, the key rotation, US\'s activation at R', () => {
    const view = chainView(b.chain, channel);
    expect(view.current.version).toBe(2);
    expect(view.versions.map((v) => v.version)).toEqual([2, 1]);
    expect(view.versions[0]!.changes).toEqual([{ kind: 'party.logKey', party: 'US', from: formatVerifierKey(verifierKeyOf(usOld)), to: formatVerifierKey(verifierKeyOf(usNew)) }]);
    expect(view.versions[0]!.signers).toEqual([
      { party: 'CN', prior: false },
      { party: 'US', prior: false },
      { party: 'US', prior: true },
    ]);
    expect(view.activations).toEqual([
      { party: 'CN', version: 1, from: 0 },
      { party: 'US', version: 1, from: 0, until: R },
      { party: 'US', version: 2, from: R },
    ]);
    expect(() => chainView(b.chain, '0'.repeat(64))).toThrow(expect.objectContaining({ code: 'CHANNEL_MISMATCH' }));
    expect(() => chainView({ ...b.chain, versions: [v1, { ...b.v2, signatures: [] }] }, channel)).toThrow(expect.objectContaining({ code: expect.stringMatching(/^ACCORD_/) }));
  });
});

describe('verifyEntryInclusion after a compromise recovery', () => {
  const b = build(false, 3);
  const latest = note(b, N, usNew);

  it('warns on entries in the suspect range and not on the others', () => {
    const at = (i: number) => verifyEntryInclusion(input(b, i, latest));
    expect(at(2).suspect).toBeUndefined();
    expect(at(3).suspect).toBe(true);
    expect(at(4).suspect).toBe(true);
    expect(fact(at(4), 'suspect')).toBe('yes');
    expect(at(R + 1).suspect).toBeUndefined();
    expect(at(R + 1).verified).toBe(true);
    const view = chainView(b.chain, channel);
    expect(view.activations.find((a) => a.party === 'US' && a.version === 1)).toEqual({ party: 'US', version: 1, from: 0, until: R, suspect: { from: 3, to: R } });
  });
});
