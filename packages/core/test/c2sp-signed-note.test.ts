/**
 * C2SP signed-note and Go sumdb/note: every vector in
 * shared/vectors/signed-note.json (C2SP/C2SP signed-note.md, golang/mod
 * sumdb/note tests), run against both crypto bindings, plus our own limits,
 * grease and round-trip cases.
 */
import { describe, expect, it } from 'vitest';
import { ArgumentError, ParseError, VerificationError } from '../src/errors.js';
import type { ErrorCode } from '../src/errors.js';
import { concatBytes, encodeUtf8, formatBase64, formatHex as hex } from '../src/encoding.js';
import { getCrypto } from '../src/crypto/provider.js';
import {
  SIG_TYPE_MLDSA44_SUBTREE_V1,
  formatKeyId,
  formatSignerKey,
  formatVerifierKey,
  generateSignerKey,
  isValidKeyName,
  keyId,
  parseSignerKey,
  parseVerifierKey,
  signerKeyFromSeed,
  splitVerifierKey,
  verifierKeyOf,
} from '../src/note/key.js';
import {
  MAX_NOTE_BYTES,
  UnverifiedNote,
  VerifiedNote,
  formatNote,
  formatSignatureLine,
  openNote,
  parseNote,
  signNote,
} from '../src/note/note.js';
import { VerifierSet, newSigner, newVerifier } from '../src/note/verifier.js';
import { assertThrowsCode } from './helpers/assert.js';
import { providers, useProvider } from './helpers/providers.js';
import { b64, loadVectors } from './helpers/vectors.js';

interface KeyVector {
  name: string;
  vkey: string;
  skey: string | null;
  key_id_hex: string;
  sig_type: number;
  public_key_hex: string;
}
interface NoteVector {
  id: string;
  note_b64: string;
  verifier_keys: string[];
  expect: {
    valid?: boolean;
    text?: string;
    verified_signers?: string[];
    unverified_signers?: string[];
    parse?: { text: string; signatures: { name: string; key_id_hex: string; signature_bytes: number }[] };
  };
}
interface SignedNoteVectors {
  keys: KeyVector[];
  vkey_parsing: { vkey: string; expect: { reject?: boolean; name?: string; key_id_hex?: string; sig_type?: number; public_key_hex?: string } }[];
  notes: NoteVector[];
}

const V = loadVectors<SignedNoteVectors>('signed-note.json');

/** Expected error per failing note vector: class and code (the vectors give Go's message only). */
const NOTE_FAILURES: Record<string, [typeof ParseError | typeof VerificationError, ErrorCode]> = {
  'go-no-known-keys': [VerificationError, 'NOTE_UNVERIFIED'],
  'go-wrong-key-only': [VerificationError, 'NOTE_UNVERIFIED'],
  'go-corrupted-signature': [VerificationError, 'SIGNATURE_INVALID'],
  'c2sp-tampered-text': [VerificationError, 'SIGNATURE_INVALID'],
  'go-too-many-sigs': [ParseError, 'NOTE_TOO_MANY_SIGNATURES'],
  'go-malformed-1': [ParseError, 'NOTE_MALFORMED'],
  'go-malformed-2': [ParseError, 'NOTE_MALFORMED'],
  'go-malformed-3': [ParseError, 'NOTE_MALFORMED'],
  'go-malformed-4': [ParseError, 'NOTE_MALFORMED'],
  'go-malformed-5': [ParseError, 'NOTE_MALFORMED'],
  'go-malformed-6': [ParseError, 'NOTE_MALFORMED'],
  'go-malformed-invalid-utf8': [ParseError, 'NOTE_MALFORMED'],
};

/** Expected code per rejected vkey vector. */
const VKEY_FAILURES: Record<string, ErrorCode> = {
  'example.com/foo+00000000+++++++++++++++++++++++++++++++++++++++++++++': 'KEY_UNSUPPORTED',
  'PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==': 'KEY_MALFORMED',
  'PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW': 'KEY_UNSUPPORTED',
  'PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW': 'KEY_ID_MISMATCH',
  'bananas.sigstore.dev+12344556': 'KEY_MALFORMED',
  'rekor.sigstore.dev+12345678+THIS_IS_NOT_BASE64!': 'KEY_MALFORMED',
};

const peter = V.keys.find((k) => k.name === 'PeterNeumann')!;
const peterNote = V.notes.find((n) => n.id === 'go-peter')!;

describe.each(providers)('C2SP signed-note with $name', (provider) => {
  useProvider(provider);

  describe('verifier keys (vectors.keys)', () => {
    it.each(V.keys)('parses and re-formats $name', (k) => {
      const key = parseVerifierKey(k.vkey);
      expect(key.name).toBe(k.name);
      expect(formatKeyId(key.keyId)).toBe(k.key_id_hex);
      expect(key.type).toBe(k.sig_type);
      expect(hex(key.publicKey)).toBe(k.public_key_hex);
      expect(formatKeyId(keyId(k.name, k.sig_type, key.publicKey))).toBe(k.key_id_hex);
      expect(formatVerifierKey(key)).toBe(k.vkey);
    });

    it('splits on the first two "+" only (sum.golang.org key has "+" in its base64)', () => {
      const k = parseVerifierKey('sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8');
      expect(k.name).toBe('sum.golang.org');
    });
  });

  describe('vkey parsing (vectors.vkey_parsing)', () => {
    it.each(V.vkey_parsing)('$vkey', (c) => {
      const code = VKEY_FAILURES[c.vkey];
      expect(code, 'every vkey vector has an expected code').toBeDefined();
      if (c.expect.reject !== true) {
        const parts = splitVerifierKey(c.vkey);
        expect(parts.name).toBe(c.expect.name);
        expect(formatKeyId(parts.keyId)).toBe(c.expect.key_id_hex);
        expect(parts.type).toBe(c.expect.sig_type);
        expect(hex(parts.publicKey)).toBe(c.expect.public_key_hex);
      }
      assertThrowsCode(() => parseVerifierKey(c.vkey), ParseError, code!);
    });

    it('recognises ML-DSA-44 (0x06) but reports it unsupported', () => {
      const pub = new Uint8Array(1312).fill(7);
      const vkey = `mldsa.example+${formatKeyId(keyId('mldsa.example', SIG_TYPE_MLDSA44_SUBTREE_V1, pub))}+${formatBase64(concatBytes(Uint8Array.of(6), pub))}`;
      assertThrowsCode(() => parseVerifierKey(vkey), ParseError, 'KEY_UNSUPPORTED');
    });

    it('rejects uppercase key IDs, non-canonical base64 and bad names', () => {
      assertThrowsCode(() => parseVerifierKey('PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), ParseError, 'KEY_MALFORMED');
      assertThrowsCode(() => parseVerifierKey('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW\n'), ParseError, 'KEY_MALFORMED');
      assertThrowsCode(() => parseVerifierKey('PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TX'), ParseError, 'KEY_ID_MISMATCH');
      assertThrowsCode(() => parseVerifierKey('+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), ParseError, 'KEY_MALFORMED');
      assertThrowsCode(() => parseVerifierKey('Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW'), ParseError, 'KEY_MALFORMED');
    });

    it('names: Go isValidName (no Unicode White_Space, no "+", non-empty)', () => {
      for (const bad of ['', 'a b', 'a+b', 'a\u00a0b', 'a\u3000b', 'a\u2028b', 'a\tb', 'a\u0085b', '\ud800']) expect(isValidKeyName(bad)).toBe(false);
      for (const good of ['example.com/foo', 'sum.golang.org', 'transparency.dev/DEV:witness-little-garden', 'é']) expect(isValidKeyName(good)).toBe(true);
    });
  });

  describe('signer keys', () => {
    it('PeterNeumann skey derives the published vkey and re-signs byte for byte', () => {
      const sk = parseSignerKey(peter.skey!);
      expect(formatVerifierKey(verifierKeyOf(sk))).toBe(peter.vkey);
      expect(formatSignerKey(sk)).toBe(peter.skey);
      const opened = openNote(b64(peterNote.note_b64), new VerifierSet([peter.vkey]));
      const resigned = signNote(opened.text, [newSigner(peter.skey!)]);
      expect(formatBase64(resigned)).toBe(peterNote.note_b64);
    });

    it('rejects a skey whose key ID does not match the seed', () => {
      const bad = peter.skey!.replace('c74f20a3', 'c74f20a4');
      assertThrowsCode(() => parseSignerKey(bad), ParseError, 'KEY_ID_MISMATCH');
      assertThrowsCode(() => parseSignerKey(peter.skey!.replace('PRIVATE+KEY+', 'PRIVATE+KEX+')), ParseError, 'KEY_MALFORMED');
      assertThrowsCode(() => parseSignerKey('PRIVATE+KEY+x+00000000+AQ=='), ParseError, 'KEY_MALFORMED');
    });

    it('generateSignerKey round-trips and signs notes that open', () => {
      const sk = generateSignerKey('example.com/log');
      expect(parseSignerKey(formatSignerKey(sk))).toEqual(sk);
      const vk = formatVerifierKey(verifierKeyOf(sk));
      const note = signNote('hello\n', [newSigner(sk)]);
      const opened = openNote(note, new VerifierSet([vk]));
      expect(opened).toBeInstanceOf(VerifiedNote);
      expect(opened.text).toBe('hello\n');
      assertThrowsCode(() => generateSignerKey('bad name'), ParseError, 'KEY_MALFORMED');
    });
  });

  describe('notes (vectors.notes)', () => {
    const cases = V.notes.filter((n) => n.expect.valid !== undefined);
    it.each(cases)('$id', (n) => {
      const verifiers = new VerifierSet(n.verifier_keys);
      const bytes = b64(n.note_b64);
      if (n.expect.valid === true) {
        const opened = openNote(bytes, verifiers);
        expect(opened.text).toBe(n.expect.text);
        expect(opened.verified.map((s) => s.name)).toEqual(n.expect.verified_signers);
        expect(opened.unknown.map((s) => s.name)).toEqual(n.expect.unverified_signers ?? []);
        expect(formatNote(parseNote(bytes))).toEqual(bytes);
      } else {
        const [cls, code] = NOTE_FAILURES[n.id]!;
        assertThrowsCode(() => openNote(bytes, verifiers), cls, code);
      }
    });

    it('c2sp-quasimodo-parse: text ends at the LAST blank line', () => {
      const n = V.notes.find((x) => x.id === 'c2sp-quasimodo-parse')!;
      const parsed = parseNote(b64(n.note_b64));
      expect(parsed).toBeInstanceOf(UnverifiedNote);
      expect(parsed.text).toBe(n.expect.parse!.text);
      expect(parsed.signatures.map((s) => [s.name, formatKeyId(s.keyId), 4 + s.signature.length])).toEqual(
        n.expect.parse!.signatures.map((s) => [s.name, s.key_id_hex, s.signature_bytes]),
      );
      assertThrowsCode(() => openNote(b64(n.note_b64), new VerifierSet()), VerificationError, 'NOTE_UNVERIFIED');
    });

    it('string input gives the same result as bytes', () => {
      const text = Buffer.from(peterNote.note_b64, 'base64').toString('utf8');
      expect(openNote(text, new VerifierSet([peter.vkey])).text).toBe(peterNote.expect.text);
    });
  });

  describe('grease and duplicates', () => {
    const sk = signerKeyFromSeed('example.com/log', new Uint8Array(32).fill(1));
    const vks = new VerifierSet([verifierKeyOf(sk)]);

    it('ignores unknown signatures, including ones sharing the name or the key ID (not both)', () => {
      const note = parseNote(signNote('grease\n', [newSigner(sk)]));
      const rnd = getCrypto().randomBytes(64);
      const grease = [
        { name: 'grease.example/a', keyId: 12345, signature: rnd },
        { name: sk.name, keyId: (sk.keyId + 1) % 4294967296, signature: rnd },
        { name: 'other.example', keyId: sk.keyId, signature: rnd },
        { name: 'pq.example', keyId: 1, signature: new Uint8Array(2420 + 8) },
      ];
      for (const order of [[...grease, ...note.signatures], [...note.signatures, ...grease]]) {
        const opened = openNote(formatNote({ text: note.text, signatures: order }), vks);
        expect(opened.verified.map((s) => s.name)).toEqual([sk.name]);
        expect(opened.unknown).toHaveLength(grease.length);
      }
    });

    it('rejects two signatures from the same name and key ID', () => {
      const bytes = signNote('dup\n', [newSigner(sk)]);
      const line = Buffer.from(bytes).toString('utf8').split('\n\n')[1]!;
      assertThrowsCode(() => parseNote(Buffer.from(bytes).toString('utf8') + line), ParseError, 'NOTE_DUPLICATE_SIGNATURE');
      assertThrowsCode(() => signNote('dup\n', [newSigner(sk), newSigner(sk)]), ParseError, 'NOTE_DUPLICATE_SIGNATURE');
    });

    it('signNote replaces an existing signature from the same key (Go Sign)', () => {
      const other = signerKeyFromSeed('example.com/other', new Uint8Array(32).fill(2));
      const first = parseNote(signNote('x\n', [newSigner(sk), newSigner(other)]));
      const again = parseNote(signNote('x\n', [newSigner(sk)], first.signatures));
      expect(again.signatures.map((s) => s.name)).toEqual([other.name, sk.name]);
    });

    it('a known key with a bad signature rejects the whole note even if another verifies', () => {
      const other = signerKeyFromSeed('example.com/other', new Uint8Array(32).fill(2));
      const good = parseNote(signNote('x\n', [newSigner(sk)]));
      const bad = { name: other.name, keyId: other.keyId, signature: new Uint8Array(64) };
      const both = new VerifierSet([verifierKeyOf(sk), verifierKeyOf(other)]);
      assertThrowsCode(() => openNote(formatNote({ text: good.text, signatures: [...good.signatures, bad] }), both), VerificationError, 'SIGNATURE_INVALID');
    });

    it('VerifierSet refuses two different keys with one name and key ID, tolerates the same key twice', () => {
      const v = verifierKeyOf(sk);
      const twin = { ...v, publicKey: new Uint8Array(32).fill(9) };
      expect(new VerifierSet([v, formatVerifierKey(v)]).size).toBe(1);
      assertThrowsCode(() => new VerifierSet([v, newVerifier(twin)]), ArgumentError, 'KEY_AMBIGUOUS');
    });
  });

  describe('limits and strictness', () => {
    const sk = signerKeyFromSeed('example.com/log', new Uint8Array(32).fill(3));
    const signed = Buffer.from(signNote('limits\n', [newSigner(sk)])).toString('utf8');
    const sigPart = signed.slice('limits\n\n'.length);

    it('caps the size at 1 MiB', () => {
      const big = 'a'.repeat(MAX_NOTE_BYTES) + '\n\n' + sigPart;
      assertThrowsCode(() => parseNote(big), ParseError, 'NOTE_TOO_LARGE');
      assertThrowsCode(() => parseNote(encodeUtf8(big)), ParseError, 'NOTE_TOO_LARGE');
    });

    it('accepts 100 distinct signatures, rejects 101', () => {
      const sigs = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `k${i}`, keyId: i, signature: Uint8Array.of(1) }));
      expect(parseNote(formatNote({ text: 't\n', signatures: sigs(100) })).signatures).toHaveLength(100);
      const text = 't\n\n' + sigs(101).map(formatSignatureLine).join('');
      assertThrowsCode(() => parseNote(text), ParseError, 'NOTE_TOO_MANY_SIGNATURES');
    });

    it.each([
      ['control character', 'lim\u0000its\n\n' + sigPart],
      ['carriage return', 'limits\r\n\n' + sigPart],
      ['lone surrogate', 'lim\ud800its\n\n' + sigPart],
      ['missing final newline', signed.slice(0, -1)],
      ['no blank line', 'limits\n' + sigPart],
      ['empty signature block', 'limits\n\n'],
      ['hyphen instead of em dash', 'limits\n\n- ' + sigPart.slice(2)],
      ['no space after em dash', 'limits\n\n\u2014' + sigPart.slice(2)],
      ['two spaces', 'limits\n\n\u2014 ' + sigPart.slice(2).replace(' ', '  ')],
      ['non-canonical base64', signed.replace(/=\n$/, '\n')],
      ['signature shorter than 5 bytes', 'limits\n\n\u2014 a AAAAAA==\n'],
      ['trailing junk after signatures', signed + 'junk\n'],
    ])('rejects %s', (_what, input) => {
      assertThrowsCode(() => parseNote(input), ParseError, 'NOTE_MALFORMED');
    });

    it('formatNote refuses what parseNote would refuse', () => {
      const sig = { name: 'a', keyId: 1, signature: Uint8Array.of(1) };
      assertThrowsCode(() => formatNote({ text: 'no newline', signatures: [sig] }), ParseError, 'NOTE_MALFORMED');
      assertThrowsCode(() => formatNote({ text: 'x\n', signatures: [] }), ParseError, 'NOTE_MALFORMED');
      assertThrowsCode(() => formatNote({ text: 'x\n', signatures: [{ ...sig, name: 'a b' }] }), ParseError, 'NOTE_MALFORMED');
    });

    it('text may contain blank lines; signatures split at the last one', () => {
      const note = signNote('a\n\nb\n\n', [newSigner(sk)]);
      expect(openNote(note, new VerifierSet([verifierKeyOf(sk)])).text).toBe('a\n\nb\n\n');
    });
  });
});
