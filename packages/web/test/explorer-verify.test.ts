/**
 * The log explorer's step runner on a log built here with core: every step
 * passes for each entry of a 7-entry log cosigned by the other party's
 * witness, and each kind of tampering fails the step it targets (and skips
 * what depends on it), never passes — including a view of the log no
 * witness vouches for (no cosignature, too few, a bad one, one by the log's
 * own party, a cosigned checkpoint it does not extend) and a checkpoint that
 * is not one history with the one this browser verified before.
 */
import {
  type SignedAccord,
  MemoryTree,
  accordId,
  appendSignatures,
  cosign,
  cosignerKey,
  proveConsistency,
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
import { witnessPolicy, witnessedSize } from '../src/pages/explorer/witnesses.js';

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
const T0 = 1_790_000_000;
/** `n` with cosignatures by `by` (their log keys as cosignature/v1 keys, as each node's witness signs). */
const cosigned = (n: string, by: readonly (typeof usKey)[], at = T0) => {
  const body = n.slice(0, n.indexOf('\n\n') + 1);
  return new TextDecoder().decode(appendSignatures(n, by.map((k) => cosign(body, cosignerKey(k), at))));
};
const cnCosigned = cosigned(note, [cnKey]);
/** The same log grown to 10 entries, and its checkpoint. */
const tree10 = new MemoryTree();
for (const e of entries) tree10.append(leafHash(e));
for (let i = 7; i < 10; i++) tree10.append(leafHash(new TextEncoder().encode(`later ${i}`)));
const note10 = new TextDecoder().decode(signCheckpoint({ origin: 'us.parley.test/log', treeSize: 10, rootHash: tree10.root(), extensions: [] }, newSigner(usKey)));
const proof7to10 = proveConsistency(7, 10, tree10).map(formatBase64);

function input(index: number, over: Partial<VerifyInput> = {}): VerifyInput {
  return {
    accord: { id, accord: signed.accord, signatures: signed.signatures },
    party: 'US',
    index,
    entry: formatBase64(entries[index]!),
    leafHash: formatBase64(leafOf(index)),
    proof: proveInclusion(tree.size, index, tree).map(formatBase64),
    checkpoint: note,
    witnessed: [{ note: cnCosigned }],
    ...over,
  };
}
const leafOf = (i: number) => leafHash(entries[i]!);
const status = (r: ReturnType<typeof verifyEntryInclusion>) => Object.fromEntries(r.steps.map((s) => [s.id, s.code ? `${s.status}:${s.code}` : s.status]));

describe('verifyEntryInclusion', () => {
  it('passes every step for every entry', () => {
    for (let i = 0; i < 7; i++) {
      const r = verifyEntryInclusion(input(i));
      expect(status(r)).toEqual({ accord: 'pass', key: 'pass', checkpoint: 'pass', witnesses: 'pass', consistency: 'pass', leaf: 'pass', entry: 'pass', inclusion: 'pass' });
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
    expect(r.steps.map((s) => s.status)).toEqual(['fail', 'skipped', 'skipped', 'skipped', 'skipped', 'pass', 'skipped', 'skipped']);
  });
});

describe('verifyEntryInclusion: witnesses', () => {
  const witnessesOf = (r: ReturnType<typeof verifyEntryInclusion>) => r.steps.find((x) => x.id === 'witnesses')!;

  it('lists the witness that cosigned the checkpoint and counts it against the quorum', () => {
    const r = verifyEntryInclusion(input(4));
    expect(r.verified).toBe(true);
    expect(witnessesOf(r).witnesses).toEqual({ cosigners: [{ party: 'CN', size: 7, timestamp: T0, counted: true }], count: 1, quorum: 1 });
    // The cosignature may come on the entry's own checkpoint note instead (another party's log as this node's witness holds it).
    expect(verifyEntryInclusion(input(4, { checkpoint: cnCosigned, witnessed: [] })).verified).toBe(true);
  });

  it('fails a checkpoint no witness cosigned: none offered, cosignature lines stripped, or only the log\u2019s own party', () => {
    for (const witnessed of [[], [{ note }], [{ note: cosigned(note, [usKey]) }]]) {
      const r = verifyEntryInclusion(input(2, { witnessed }));
      expect(r.verified).toBe(false);
      expect(status(r)).toMatchObject({ checkpoint: 'pass', witnesses: 'fail:QUORUM_NOT_MET', inclusion: 'pass' });
      expect(witnessesOf(r).witnesses).toMatchObject({ count: 0, quorum: 1 });
      expect(r.remember).toBeUndefined();
    }
  });

  it('ignores cosignatures by keys the accord does not name, and counts a witness once however often it appears', () => {
    const grease = generateSignerKey('grease.example/witness');
    expect(status(verifyEntryInclusion(input(2, { witnessed: [{ note: cosigned(note, [grease]) }] }))).witnesses).toBe('fail:QUORUM_NOT_MET');
    const r = verifyEntryInclusion(input(2, { checkpoint: cnCosigned, witnessed: [{ note: cosigned(note, [grease, cnKey]) }, { note: cosigned(note10, [cnKey], T0 + 5), proof: proof7to10 }] }));
    expect(r.verified).toBe(true);
    expect(witnessesOf(r).witnesses).toEqual({
      cosigners: [
        { party: 'CN', size: 7, timestamp: T0, counted: true },
        { party: 'CN', size: 10, timestamp: T0 + 5, counted: false },
      ],
      count: 1,
      quorum: 1,
    });
  });

  it('fails a cosignature that does not verify, naming the witness', () => {
    const lines = cnCosigned.split('\n');
    const i = lines.findIndex((l) => l.startsWith('\u2014 cn.parley.test/log '));
    const sig = lines[i]!.split(' ');
    const b = Uint8Array.from(atob(sig[2]!), (c) => c.charCodeAt(0));
    b[20]! ^= 1;
    lines[i] = `${sig[0]} ${sig[1]} ${formatBase64(b)}`;
    const r = verifyEntryInclusion(input(2, { witnessed: [{ note: lines.join('\n') }] }));
    expect(status(r).witnesses).toBe('fail:COSIGNATURE_INVALID');
    expect(witnessesOf(r).witness).toBe('CN');
    expect(r.verified).toBe(false);
  });

  it('counts a later cosigned checkpoint only through a consistency proof from this one', () => {
    const later = { note: cosigned(note10, [cnKey]) };
    expect(verifyEntryInclusion(input(3, { witnessed: [{ ...later, proof: proof7to10 }] })).verified).toBe(true);
    // No proof (the node did not give one): listed, not counted.
    const r = verifyEntryInclusion(input(3, { witnessed: [{ ...later, proofError: 'UPSTREAM_UNAVAILABLE' }] }));
    expect(status(r).witnesses).toBe('fail:QUORUM_NOT_MET');
    expect(witnessesOf(r).witnesses!.cosigners).toEqual([{ party: 'CN', size: 10, timestamp: T0, counted: false }]);
    // A proof that does not join the two (any flipped bit): the node showed two histories.
    proof7to10.forEach((h, k) => {
      const b = Uint8Array.from(atob(h), (c) => c.charCodeAt(0));
      b[k % 32]! ^= 1;
      const bad = verifyEntryInclusion(input(3, { witnessed: [{ ...later, proof: proof7to10.map((p, j) => (j === k ? formatBase64(b) : p)) }] }));
      expect(status(bad).witnesses).toBe('fail:CHECKPOINT_CONFLICT');
      expect(bad.steps.find((x) => x.id === 'witnesses')!.witness).toBe('CN');
    });
  });

  it('fails a cosigned checkpoint of the same size with another root (a fork), and does not count an earlier tree', () => {
    const other = new TextDecoder().decode(signCheckpoint({ origin: 'us.parley.test/log', treeSize: 7, rootHash: tree10.root(), extensions: [] }, newSigner(usKey)));
    expect(status(verifyEntryInclusion(input(1, { witnessed: [{ note: cosigned(other, [cnKey]) }] }))).witnesses).toBe('fail:CHECKPOINT_CONFLICT');
    const t5 = new MemoryTree();
    for (const e of entries.slice(0, 5)) t5.append(leafHash(e));
    const note5 = new TextDecoder().decode(signCheckpoint({ origin: 'us.parley.test/log', treeSize: 5, rootHash: t5.root(), extensions: [] }, newSigner(usKey)));
    const r = verifyEntryInclusion(input(1, { witnessed: [{ note: cosigned(note5, [cnKey]) }] }));
    expect(status(r).witnesses).toBe('fail:QUORUM_NOT_MET');
    expect(witnessesOf(r).witnesses!.cosigners).toEqual([{ party: 'CN', size: 5, timestamp: T0, counted: false }]);
  });

  it('fails a witnessed note not signed by the party\u2019s key', () => {
    const forged = new TextDecoder().decode(signCheckpoint({ origin: 'us.parley.test/log', treeSize: 7, rootHash: tree.root(), extensions: [] }, newSigner(generateSignerKey('us.parley.test/log'))));
    expect(status(verifyEntryInclusion(input(1, { witnessed: [{ note: cosigned(forged, [cnKey]) }] }))).witnesses).toBe('fail:WITNESSED_NOTE_INVALID');
  });
});

describe('verifyEntryInclusion: consistency with the checkpoint this browser verified before', () => {
  const tree4 = new MemoryTree();
  for (const e of entries.slice(0, 4)) tree4.append(leafHash(e));
  const root4 = formatBase64(tree4.root());
  const at = '2026-11-26T10:00:00.000Z';
  const consistencyOf = (r: ReturnType<typeof verifyEntryInclusion>) => status(r).consistency;

  it('passes the first time and remembers the checkpoint', () => {
    const r = verifyEntryInclusion(input(0));
    expect(consistencyOf(r)).toBe('pass');
    expect(r.steps.find((x) => x.id === 'consistency')!.facts).toEqual([['previous', 'none']]);
    expect(r.remember).toEqual({ size: 7, rootHash: formatBase64(tree.root()) });
  });

  it('passes an extension of the previous checkpoint, in either order, and remembers the larger', () => {
    const from4 = verifyEntryInclusion(input(0, { previous: { size: 4, rootHash: root4, at, proof: proveConsistency(4, 7, tree).map(formatBase64) } }));
    expect(from4.verified).toBe(true);
    expect(from4.remember).toEqual({ size: 7, rootHash: formatBase64(tree.root()) });
    const same = verifyEntryInclusion(input(0, { previous: { size: 7, rootHash: formatBase64(tree.root()), at } }));
    expect(same.verified).toBe(true);
    // Verifying against an older checkpoint than the one remembered: the proof runs from this one to it.
    const newer = verifyEntryInclusion(input(0, { previous: { size: 10, rootHash: formatBase64(tree10.root()), at, proof: proof7to10 } }));
    expect(newer.verified).toBe(true);
    expect(newer.remember).toEqual({ size: 10, rootHash: formatBase64(tree10.root()) });
  });

  it('fails another history: a different root at the same size, a proof that does not verify, or none', () => {
    expect(consistencyOf(verifyEntryInclusion(input(0, { previous: { size: 7, rootHash: formatBase64(tree10.root()), at } })))).toBe('fail:PROOF_INVALID');
    const good = proveConsistency(4, 7, tree).map(formatBase64);
    good.forEach((h, k) => {
      const b = Uint8Array.from(atob(h), (c) => c.charCodeAt(0));
      b[k % 32]! ^= 1;
      const r = verifyEntryInclusion(input(0, { previous: { size: 4, rootHash: root4, at, proof: good.map((p, j) => (j === k ? formatBase64(b) : p)) } }));
      expect(consistencyOf(r)).toBe('fail:PROOF_INVALID');
      expect(r.verified).toBe(false);
      expect(r.remember).toBeUndefined();
    });
    const forkedRoot = formatBase64(tree10.root());
    expect(consistencyOf(verifyEntryInclusion(input(0, { previous: { size: 4, rootHash: forkedRoot, at, proof: good } })))).toBe('fail:PROOF_INVALID');
    const refused = verifyEntryInclusion(input(0, { previous: { size: 12, rootHash: root4, at, proofError: 'TREE_ARGUMENT_INVALID' } }));
    expect(consistencyOf(refused)).toBe('fail:NOT_PROVED');
    expect(refused.steps.find((x) => x.id === 'consistency')!.facts).toContainEqual(['nodeAnswer', 'TREE_ARGUMENT_INVALID']);
  });
});

describe('witnessPolicy and witnessedSize', () => {
  it('makes every other party of the accord a witness with its cosignature/v1 key, quorum one', () => {
    const euKey = generateSignerKey('eu.parley.test/log');
    const three = draftAccord({ name: 'three', parties: [party('US', usKey), party('CN', cnKey), party('EU', euKey)] });
    const p = witnessPolicy(three, 'US');
    expect(p.witnesses.map((w) => w.party).sort()).toEqual(['CN', 'EU']);
    expect(p.witnesses.every((w) => w.key.type === 0x04)).toBe(true);
    expect(p.quorum).toBe(1);
  });

  it('picks the largest witnessed size that covers the entry', () => {
    expect(witnessedSize([], 3)).toBe('none');
    expect(witnessedSize([{ note: cnCosigned }, { note: note10 }], 3)).toBe(10);
    expect(witnessedSize([{ note: cnCosigned }], 7)).toBe('older');
  });
});
