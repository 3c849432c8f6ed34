/**
 * The log explorer's step runner on a log built here with core: every step
 * passes for each entry of a 7-entry log, and each kind of tampering fails
 * the step it targets (and skips what depends on it), never passes.
 */
import {
  type SignedAccord,
  MemoryTree,
  accordId,
  draftAccord,
  formatBase64,
  formatVerifierKey,
  generateSignerKey,
  getCrypto,
  leafHash,
  newSigner,
  proveInclusion,
  signAccord,
  signCheckpoint,
  signEntry,
  verifierKeyOf,
} from '@parley/core';
import { describe, expect, it } from 'vitest';
import { type VerifyInput, verifyEntryInclusion } from '../src/pages/explorer/verify.js';

const hpkeKey = formatBase64(new Uint8Array(32).fill(9));
const usKey = generateSignerKey('us.parley.test/log');
const cnKey = generateSignerKey('cn.parley.test/log');
const party = (id: string, k: typeof usKey) => ({ id, names: { en: id, 'zh-CN': id }, urls: [`http://127.0.0.1/${id}`], logKey: formatVerifierKey(verifierKeyOf(k)), hpkeKey });
let signed: SignedAccord = { accord: draftAccord({ name: 'web-test', parties: [party('US', usKey), party('CN', cnKey)] }), signatures: [] };
signed = signAccord(signAccord(signed, 'US', usKey), 'CN', cnKey);
const id = accordId(signed.accord);
const sign = getCrypto().ed25519Signer(usKey.seed);
const tree = new MemoryTree();
const entries: Uint8Array[] = [];
for (let i = 0; i < 7; i++) {
  const e = signEntry(
    { v: 1, accord: id, from: { party: 'US', officer: 'alice' }, to: ['CN'], seq: i, time: `2026-11-26T10:00:0${i}.000Z`, type: 'hotline.message', precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [], body: { clear: { text: `message ${i}` } } },
    sign,
  );
  entries.push(e.bytes);
  tree.append(e.leafHash);
}
const note = new TextDecoder().decode(signCheckpoint({ origin: 'us.parley.test/log', treeSize: tree.size, rootHash: tree.root(), extensions: [] }, newSigner(usKey)));

function input(index: number, over: Partial<VerifyInput> = {}): VerifyInput {
  return {
    accord: { id, accord: signed.accord, signatures: signed.signatures },
    party: 'US',
    index,
    entry: formatBase64(entries[index]!),
    leafHash: formatBase64(leafOf(index)),
    proof: proveInclusion(tree.size, index, tree).map(formatBase64),
    checkpoint: note,
    ...over,
  };
}
const leafOf = (i: number) => leafHash(entries[i]!);
const status = (r: ReturnType<typeof verifyEntryInclusion>) => Object.fromEntries(r.steps.map((s) => [s.id, s.code ? `${s.status}:${s.code}` : s.status]));

describe('verifyEntryInclusion', () => {
  it('passes every step for every entry', () => {
    for (let i = 0; i < 7; i++) {
      const r = verifyEntryInclusion(input(i));
      expect(status(r)).toEqual({ accord: 'pass', key: 'pass', checkpoint: 'pass', leaf: 'pass', entry: 'pass', inclusion: 'pass' });
      expect(r.verified).toBe(true);
    }
  });

  it('passes without accord signatures (accord id still recomputed)', () => {
    const r = verifyEntryInclusion(input(2, { accord: { id, accord: signed.accord } }));
    expect(r.verified).toBe(true);
    expect(r.steps[0]!.facts).toContainEqual(['accordSignatures', 'absent']);
    expect(verifyEntryInclusion(input(2)).steps[0]!.facts).toContainEqual(['accordSignedBy', 'CN, US']);
  });

  it('fails a flipped bit in any proof hash', () => {
    const good = input(3);
    good.proof.forEach((h, k) => {
      const b = Uint8Array.from(atob(h), (c) => c.charCodeAt(0));
      b[k % 32]! ^= 1;
      const proof = good.proof.map((p, j) => (j === k ? formatBase64(b) : p));
      const r = verifyEntryInclusion({ ...good, proof });
      expect(r.verified).toBe(false);
      expect(status(r).inclusion).toBe('fail:PROOF_INVALID');
      expect(status(r).checkpoint).toBe('pass');
    });
  });

  it('fails a proof for another index, a short proof and a wrong size', () => {
    expect(status(verifyEntryInclusion(input(3, { index: 4 }))).inclusion).toBe('fail:PROOF_INVALID');
    expect(status(verifyEntryInclusion(input(3, { proof: input(3).proof.slice(1) }))).inclusion).toBe('fail:PROOF_INVALID');
    expect(status(verifyEntryInclusion(input(3, { proof: [...input(3).proof, input(3).proof[0]!] }))).inclusion).toBe('fail:PROOF_INVALID');
    expect(status(verifyEntryInclusion(input(3, { proof: ['not base64!'] }))).inclusion).toBe('fail:PROOF_INVALID');
  });

  it('fails tampered entry bytes at the leaf step and skips what needs it', () => {
    const b = Uint8Array.from(entries[1]!);
    b[b.length - 5]! ^= 1;
    const r = verifyEntryInclusion(input(1, { entry: formatBase64(b) }));
    expect(status(r)).toMatchObject({ checkpoint: 'pass', leaf: 'fail:LEAF_HASH_MISMATCH', entry: 'skipped', inclusion: 'skipped' });
  });

  it('fails a checkpoint signed by another key, or with its text changed', () => {
    const forged = new TextDecoder().decode(signCheckpoint({ origin: 'us.parley.test/log', treeSize: tree.size, rootHash: tree.root(), extensions: [] }, newSigner(generateSignerKey('us.parley.test/log'))));
    expect(status(verifyEntryInclusion(input(0, { checkpoint: forged }))).checkpoint).toMatch(/^fail:/);
    expect(status(verifyEntryInclusion(input(0, { checkpoint: forged }))).inclusion).toBe('skipped');
    const edited = note.replace(`\n${tree.size}\n`, `\n${tree.size + 1}\n`);
    expect(status(verifyEntryInclusion(input(0, { checkpoint: edited }))).checkpoint).toMatch(/^fail:/);
  });

  it('fails an accord whose id does not match, a party not in it, and an entry from another sender', () => {
    expect(status(verifyEntryInclusion(input(0, { accord: { id: '0'.repeat(64), accord: signed.accord } }))).accord).toBe('fail:ACCORD_ID_MISMATCH');
    expect(status(verifyEntryInclusion(input(0, { party: 'EU' }))).key).toBe('fail:PARTY_UNKNOWN');
    const r = verifyEntryInclusion(input(0, { party: 'CN' }));
    expect(r.verified).toBe(false);
    expect(status(r).checkpoint).toMatch(/^fail:/);
    expect(status(r).entry).toBe('fail:ENTRY_INVALID');
  });

  it('fails a leaf hash claim that differs from the bytes', () => {
    expect(status(verifyEntryInclusion(input(0, { leafHash: formatBase64(leafOf(1)) }))).leaf).toBe('fail:LEAF_HASH_MISMATCH');
  });
});

describe('verifyEntryInclusion with the accord signatures', () => {
  it('fails an accord signature that does not verify', () => {
    const bad = signed.signatures.map((x) => (x.party === 'US' ? { ...x, sig: formatBase64(new Uint8Array(64)) } : x));
    const r = verifyEntryInclusion(input(0, { accord: { id, accord: signed.accord, signatures: bad } }));
    expect(r.verified).toBe(false);
    expect(r.steps.map((s) => s.status)).toEqual(['fail', 'skipped', 'skipped', 'pass', 'skipped', 'skipped']);
  });
});
