/**
 * Link health's checkpoint check (links/checkpoint.ts) on checkpoints made
 * here with core: the log signature under the party's accord key, and
 * cosignatures mapped to the parties whose witness key (their log key as a
 * cosignature/v1 key) made them; anything else verifies nothing.
 */
import {
  type SignerKey,
  appendSignatures,
  cosign,
  cosignerKey,
  draftAccord,
  formatBase64,
  formatCheckpoint,
  formatVerifierKey,
  generateSignerKey,
  newSigner,
  signCheckpoint,
  verifierKeyOf,
} from '@parley/core';
import { describe, expect, it } from 'vitest';
import { checkCheckpoint, cosignaturesOf } from '../src/pages/links/checkpoint.js';

const keys: Record<string, SignerKey> = { CN: generateSignerKey('cn.test/log'), EU: generateSignerKey('eu.test/log'), US: generateSignerKey('us.test/log') };
const accord = draftAccord({
  name: 'links-test',
  parties: Object.entries(keys).map(([id, k]) => ({ id, names: { en: id, 'zh-CN': id }, urls: [`http://127.0.0.1/${id}`], logKey: formatVerifierKey(verifierKeyOf(k)), hpkeKey: formatBase64(new Uint8Array(32).fill(7)) })),
});
const cp = { origin: 'cn.test/log', treeSize: 42, rootHash: new Uint8Array(32).fill(3), extensions: [] };
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('checkCheckpoint', () => {
  it('verifies the log signature and names each party whose witness cosigned', () => {
    const signed = signCheckpoint(cp, newSigner(keys['CN']!));
    expect(checkCheckpoint(text(signed), accord, 'CN')).toEqual({ size: 42, verified: true, cosigned: [] });
    const body = formatCheckpoint(cp);
    const witnessed = appendSignatures(signed, [cosign(body, cosignerKey(keys['US']!), 1_795_000_000), cosign(body, cosignerKey(keys['EU']!), 1_795_000_100)]);
    expect(checkCheckpoint(text(witnessed), accord, 'CN')).toEqual({
      size: 42,
      verified: true,
      cosigned: [
        { party: 'US', timestamp: 1_795_000_000 },
        { party: 'EU', timestamp: 1_795_000_100 },
      ],
    });
  });

  it('refuses a checkpoint signed by another key, for an unknown party, or with its text changed', () => {
    const forged = text(signCheckpoint(cp, newSigner(generateSignerKey('cn.test/log'))));
    expect(checkCheckpoint(forged, accord, 'CN')).toMatchObject({ verified: false, size: 42, cosigned: [] });
    expect(checkCheckpoint(text(signCheckpoint(cp, newSigner(keys['CN']!))), accord, 'XX')).toMatchObject({ verified: false, code: 'PARTY_UNKNOWN' });
    const edited = text(signCheckpoint(cp, newSigner(keys['CN']!))).replace('\n42\n', '\n43\n');
    expect(checkCheckpoint(edited, accord, 'CN')).toMatchObject({ verified: false, size: 43 });
    // US's log key cannot pass for CN's checkpoint.
    expect(checkCheckpoint(text(signCheckpoint(cp, newSigner(keys['US']!))), accord, 'CN').verified).toBe(false);
  });
});

describe('cosignaturesOf (our own log: each peer\u2019s latest cosignature the node holds)', () => {
  it('keeps only valid cosignatures by the witness each note names, with the size they cover', () => {
    const older = { ...cp, treeSize: 40 };
    const byUs = appendSignatures(signCheckpoint(older, newSigner(keys['CN']!)), [cosign(formatCheckpoint(older), cosignerKey(keys['US']!), 1_795_000_000)]);
    const byEu = appendSignatures(signCheckpoint(cp, newSigner(keys['CN']!)), [cosign(formatCheckpoint(cp), cosignerKey(keys['EU']!), 1_795_000_200)]);
    const answer = {
      party: 'CN',
      notes: [
        { witness: 'US', treeSize: 40, note: text(byUs) },
        { witness: 'EU', treeSize: 42, note: text(byEu) },
        // A note claiming US's witness but carrying EU's cosignature proves nothing about US.
        { witness: 'US', treeSize: 42, note: text(byEu) },
        // A note whose log signature is not CN's is ignored whole.
        { witness: 'EU', treeSize: 42, note: text(appendSignatures(signCheckpoint(cp, newSigner(generateSignerKey('cn.test/log'))), [cosign(formatCheckpoint(cp), cosignerKey(keys['EU']!), 1)])) },
      ],
    };
    expect(cosignaturesOf(answer, accord, 'CN')).toEqual([
      { party: 'US', timestamp: 1_795_000_000, size: 40 },
      { party: 'EU', timestamp: 1_795_000_200, size: 42 },
    ]);
  });
});
