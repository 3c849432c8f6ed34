/**
 * C2SP tlog-cosignature, cosignature/v1 (type 0x04): the four real witness
 * cosignatures on the arche2025h1 checkpoint, the spec's timestamp examples,
 * transparency-dev/formats cases (shared/vectors/cosignature.json and
 * checkpoints.json), and witness quorums. Run against both crypto bindings.
 */
import { describe, expect, it } from 'vitest';
import { ParseError, VerificationError } from '../src/errors.js';
import { concatBytes, decodeUtf8, formatBase64 } from '../src/encoding.js';
import {
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  cosignerKey,
  formatKeyId,
  formatVerifierKey,
  generateSignerKey,
  keyId,
  parseVerifierKey,
  signerKeyFromSeed,
  verifierKeyOf,
} from '../src/note/key.js';
import {
  cosign,
  cosignatureMessage,
  cosignatureTimestamp,
  formatCosignature,
  parseCosignature,
  signCosignature,
  verifyCosignature,
} from '../src/note/cosignature.js';
import { formatNote, formatSignatureLine, parseNote } from '../src/note/note.js';
import { formatCheckpoint, signCheckpoint } from '../src/note/checkpoint.js';
import { openWitnessedCheckpoint } from '../src/note/witnessed.js';
import { VerifierSet, newSigner, newVerifier } from '../src/note/verifier.js';
import { assertThrowsCode } from './helpers/assert.js';
import { providers, useProvider } from './helpers/providers.js';
import { b64, loadVectors } from './helpers/vectors.js';

interface CosigVectors {
  checkpoint_text_utf8: string;
  real_cosignatures: {
    witness: string;
    vkey: string;
    key_id_hex: string;
    timestamp: number;
    signed_message_utf8: string;
    signed_message_b64: string;
  }[];
  timestamp_extraction: { sig_b64: string; expect: { key_id_hex?: string; timestamp?: number; length?: number; error?: string } }[];
  other_published_cosigner_vkeys: { vkey: string }[];
}
interface CheckpointVectors {
  checkpoints: { id: string; note_b64: string; expect: { valid_with?: string[] } }[];
}

const V = loadVectors<CosigVectors>('cosignature.json');
const CP = loadVectors<CheckpointVectors>('checkpoints.json');
const arche = CP.checkpoints.find((c) => c.id === 'arche2025h1-staging-ct-witnessed')!;
const clobbered = CP.checkpoints.find((c) => c.id === 'arche2025h1-clobbered-size')!;
const archeLogKey = arche.expect.valid_with![0]!;
const witnessVkeys = V.real_cosignatures.map((c) => c.vkey);
const body = V.checkpoint_text_utf8;

/** The signature bytes (after the key ID) of `name`'s line in the arche2025h1 note. */
function archeSignature(name: string): Uint8Array {
  return parseNote(b64(arche.note_b64)).signatures.find((s) => s.name === name)!.signature;
}

describe.each(providers)('C2SP tlog-cosignature with $name', (provider) => {
  useProvider(provider);

  describe('real cosignatures (vectors.real_cosignatures)', () => {
    it.each(V.real_cosignatures)('$witness: key, exact signed message, timestamp, signature', (c) => {
      const key = parseVerifierKey(c.vkey);
      expect(key.type).toBe(SIG_TYPE_COSIGNATURE_V1);
      expect(formatKeyId(key.keyId)).toBe(c.key_id_hex);
      const msg = cosignatureMessage(body, c.timestamp);
      expect(formatBase64(msg)).toBe(c.signed_message_b64);
      expect(decodeUtf8(msg)).toBe(c.signed_message_utf8);
      const sig = archeSignature(c.witness);
      expect(parseCosignature(sig).timestamp).toBe(c.timestamp);
      expect(formatCosignature(parseCosignature(sig))).toEqual(sig);
      expect(verifyCosignature(body, key, sig)).toBe(c.timestamp);
      expect(newVerifier(key).verify(new TextEncoder().encode(body), sig)).toBe(true);
    });
  });

  describe('negative cases (vectors.negative)', () => {
    it.each(V.real_cosignatures)('cosig-wrong-time: $witness with time+1 fails', (c) => {
      const sig = archeSignature(c.witness);
      const cs = parseCosignature(sig);
      const moved = formatCosignature({ timestamp: cs.timestamp + 1, signature: cs.signature });
      expect(verifyCosignature(body, parseVerifierKey(c.vkey), moved)).toBeUndefined();
    });

    it.each(V.real_cosignatures)('cosig-as-plain-ed25519: $witness as a 0x01 signature fails, and its key ID differs', (c) => {
      const key = parseVerifierKey(c.vkey);
      const asPlain = { ...key, type: SIG_TYPE_ED25519 as typeof SIG_TYPE_ED25519, keyId: keyId(key.name, SIG_TYPE_ED25519, key.publicKey) };
      expect(asPlain.keyId).not.toBe(key.keyId);
      const ed = parseCosignature(archeSignature(c.witness)).signature;
      expect(newVerifier(asPlain).verify(new TextEncoder().encode(body), ed)).toBe(false);
    });

    it('cosig-clobbered-size: all four cosignatures fail', () => {
      const text = parseNote(b64(clobbered.note_b64)).text;
      for (const c of V.real_cosignatures) expect(verifyCosignature(text, parseVerifierKey(c.vkey), archeSignature(c.witness))).toBeUndefined();
      assertThrowsCode(() => openWitnessedCheckpoint(b64(clobbered.note_b64), new VerifierSet([archeLogKey]), witnessVkeys), VerificationError, 'SIGNATURE_INVALID');
    });
  });

  describe('timestamp extraction (vectors.timestamp_extraction)', () => {
    it.each(V.timestamp_extraction)('$sig_b64', (c) => {
      if (c.expect.error !== undefined) {
        assertThrowsCode(() => cosignatureTimestamp(c.sig_b64), ParseError, 'COSIGNATURE_MALFORMED');
        return;
      }
      const t = cosignatureTimestamp(c.sig_b64);
      expect(t.timestamp).toBe(c.expect.timestamp);
      if (c.expect.key_id_hex !== undefined) expect(formatKeyId(t.keyId)).toBe(c.expect.key_id_hex);
      if (c.expect.length !== undefined) expect(b64(c.sig_b64)).toHaveLength(c.expect.length);
    });

    it('rejects timestamps above 2^63-1 and above 2^53-1; accepts 2^53-1', () => {
      const sig = new Uint8Array(64);
      const at = (ts: number[]) => concatBytes(Uint8Array.from(ts), sig);
      assertThrowsCode(() => parseCosignature(at([0x80, 0, 0, 0, 0, 0, 0, 0])), ParseError, 'COSIGNATURE_MALFORMED');
      assertThrowsCode(() => parseCosignature(at([0, 0x20, 0, 0, 0, 0, 0, 0])), ParseError, 'COSIGNATURE_MALFORMED');
      expect(parseCosignature(at([0, 0x1f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])).timestamp).toBe(Number.MAX_SAFE_INTEGER);
      assertThrowsCode(() => formatCosignature({ timestamp: 2 ** 53, signature: sig }), ParseError, 'COSIGNATURE_MALFORMED');
      assertThrowsCode(() => formatCosignature({ timestamp: -1, signature: sig }), ParseError, 'COSIGNATURE_MALFORMED');
      assertThrowsCode(() => parseCosignature(sig), ParseError, 'COSIGNATURE_MALFORMED');
    });
  });

  describe('signed message', () => {
    it('pins the C2SP tlog-cosignature example message', () => {
      const cpText = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';
      expect(decodeUtf8(cosignatureMessage(cpText, 1679315147))).toBe(`cosignature/v1\ntime 1679315147\n${cpText}`);
      expect(decodeUtf8(cosignatureMessage(cpText + 'ext\n', 0))).toBe(`cosignature/v1\ntime 0\n${cpText}ext\n`);
      assertThrowsCode(() => cosignatureMessage('no newline', 1), ParseError, 'CHECKPOINT_MALFORMED');
    });
  });

  describe('cosigner keys', () => {
    it('accepts a 0x01 vkey as a cosigner key by re-typing it to 0x04 (other_published_cosigner_vkeys)', () => {
      for (const { vkey } of V.other_published_cosigner_vkeys) {
        const k = parseVerifierKey(vkey);
        expect(k.type).toBe(SIG_TYPE_ED25519);
        const c = cosignerKey(k);
        expect(c.type).toBe(SIG_TYPE_COSIGNATURE_V1);
        expect(c.keyId).toBe(keyId(k.name, SIG_TYPE_COSIGNATURE_V1, k.publicKey));
        expect(c.keyId).not.toBe(k.keyId);
        expect(parseVerifierKey(formatVerifierKey(c))).toEqual(c);
      }
      const w = parseVerifierKey(witnessVkeys[0]!);
      expect(cosignerKey(w)).toBe(w);
    });

    it('refuses to make or check cosignatures with a 0x01 key', () => {
      const sk = generateSignerKey('w');
      assertThrowsCode(() => signCosignature(body, sk, 1), ParseError, 'KEY_UNSUPPORTED');
      assertThrowsCode(() => verifyCosignature(body, verifierKeyOf(sk), new Uint8Array(72)), ParseError, 'KEY_UNSUPPORTED');
    });
  });

  describe('witnessed checkpoints and quorums', () => {
    it('arche2025h1: log signature plus four witnesses with their timestamps', () => {
      const w = openWitnessedCheckpoint(b64(arche.note_b64), new VerifierSet([archeLogKey]), witnessVkeys, { quorum: 4, origin: 'arche2025h1.staging.ct.transparency.dev' });
      expect(w.checkpoint.treeSize).toBe(1432088532);
      expect(w.signers.map((s) => s.name)).toEqual(['arche2025h1.staging.ct.transparency.dev']);
      expect(w.cosignatures.map((c) => [c.name, c.timestamp])).toEqual(V.real_cosignatures.map((c) => [c.witness, c.timestamp]));
      expect(w.distinctWitnesses).toBe(4);
      assertThrowsCode(
        () => openWitnessedCheckpoint(b64(arche.note_b64), new VerifierSet([archeLogKey]), witnessVkeys, { quorum: 5 }),
        VerificationError,
        'QUORUM_NOT_MET',
      );
    });

    it('witness signatures alone do not make a checkpoint valid', () => {
      assertThrowsCode(() => openWitnessedCheckpoint(b64(arche.note_b64), new VerifierSet(), witnessVkeys), VerificationError, 'NOTE_UNVERIFIED');
    });

    it('quorum counts distinct public keys, not names or lines', () => {
      const log = generateSignerKey('example.com/log');
      const seed = new Uint8Array(32).fill(4);
      const w1 = signerKeyFromSeed('w.example/one', seed, SIG_TYPE_COSIGNATURE_V1);
      const w1b = signerKeyFromSeed('w.example/one-again', seed, SIG_TYPE_COSIGNATURE_V1);
      const w2 = generateSignerKey('w.example/two', SIG_TYPE_COSIGNATURE_V1);
      const cp = { origin: 'example.com/log', treeSize: 3, rootHash: new Uint8Array(32).fill(3), extensions: [] };
      const text = formatCheckpoint(cp);
      const logged = parseNote(signCheckpoint(cp, newSigner(log)));
      const sigs = [...logged.signatures, cosign(text, w1, 100), cosign(text, w1b, 101)];
      const note = formatNote({ text, signatures: sigs });
      const keys = new VerifierSet([verifierKeyOf(log)]);
      const all = [w1, w1b, w2].map((k) => formatVerifierKey(verifierKeyOf(k)));
      const w = openWitnessedCheckpoint(note, keys, all);
      expect(w.cosignatures).toHaveLength(2);
      expect(w.distinctWitnesses).toBe(1);
      assertThrowsCode(() => openWitnessedCheckpoint(note, keys, all, { quorum: 2 }), VerificationError, 'QUORUM_NOT_MET');
      const more = formatNote({ text, signatures: [...sigs, cosign(text, w2, 102)] });
      expect(openWitnessedCheckpoint(more, keys, all, { quorum: 2 }).distinctWitnesses).toBe(2);
    });

    it('newSigner with a 0x04 key makes timestamped cosignatures from its clock', () => {
      const log = generateSignerKey('example.com/log');
      const wk = generateSignerKey('w.example', SIG_TYPE_COSIGNATURE_V1);
      const cp = { origin: 'example.com/log', treeSize: 1, rootHash: new Uint8Array(32), extensions: ['x'] };
      const note = signCheckpoint(cp, [newSigner(log), newSigner(wk, { now: () => 1700000000 })]);
      const w = openWitnessedCheckpoint(note, new VerifierSet([verifierKeyOf(log)]), [verifierKeyOf(wk)], { quorum: 1 });
      expect(w.cosignatures[0]!.timestamp).toBe(1700000000);
      const line = formatSignatureLine(cosign(formatCheckpoint(cp), wk, 5));
      expect(cosignatureTimestamp(line.split(' ')[2]!.trim()).timestamp).toBe(5);
    });
  });
});
