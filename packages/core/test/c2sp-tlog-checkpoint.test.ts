/**
 * C2SP tlog-checkpoint: real checkpoints from sum.golang.org, Sigstore Rekor v2
 * and the arche2025h1 staging CT log (shared/vectors/checkpoints.json; see its
 * README for provenance), tampered copies, and every single-byte tamper of the
 * signed text. Run against both crypto bindings. (The Rekor inclusion proofs
 * in the same file are tested with the Merkle code, not here.)
 */
import { describe, expect, it } from 'vitest';
import { ParleyError, ParseError, VerificationError } from '../src/errors.js';
import { formatBase64 } from '../src/encoding.js';
import { generateSignerKey, verifierKeyOf } from '../src/note/key.js';
import { parseNote, signNote } from '../src/note/note.js';
import { checkpointsEqual, formatCheckpoint, openCheckpoint, parseCheckpoint, signCheckpoint } from '../src/note/checkpoint.js';
import type { Checkpoint } from '../src/note/checkpoint.js';
import { VerifierSet, newSigner } from '../src/note/verifier.js';
import { assertThrowsCode } from './helpers/assert.js';
import { providers, useProvider } from './helpers/providers.js';
import { b64, loadVectors } from './helpers/vectors.js';

interface CheckpointVector {
  id: string;
  note_b64: string;
  parsed?: { origin: string; tree_size: number; root_hash_b64: string; extension_lines: string[] };
  signed_text_utf8?: string;
  signatures?: { key_name: string; key_id_hex: string; vkey: string | null; type: string; expect_valid: boolean | string }[];
  expect: { valid_with?: string[]; valid?: boolean };
}

const V = loadVectors<{ checkpoints: CheckpointVector[] }>('checkpoints.json');
const real = V.checkpoints.filter((c) => c.parsed !== undefined);
const tampered = V.checkpoints.filter((c) => c.expect.valid === false);
const byId = (id: string) => V.checkpoints.find((c) => c.id === id)!;

/** The log key for a tampered copy: the one that signed the original. */
const TAMPERED_KEYS: Record<string, string> = {
  'sumdb-6476701-tampered-size': byId('sumdb-6476701').expect.valid_with![0]!,
  'arche2025h1-clobbered-size': byId('arche2025h1-staging-ct-witnessed').expect.valid_with![0]!,
};

/** Every key that made a verifiable signature on a checkpoint: the log key and, for arche2025h1, the four witnesses. */
function signingKeys(c: CheckpointVector): string[] {
  return (c.signatures ?? []).filter((s) => s.expect_valid === true && s.vkey !== null).map((s) => s.vkey!);
}

function asCheckpoint(p: NonNullable<CheckpointVector['parsed']>): Checkpoint {
  return { origin: p.origin, treeSize: p.tree_size, rootHash: b64(p.root_hash_b64), extensions: p.extension_lines };
}

describe.each(providers)('C2SP tlog-checkpoint with $name', (provider) => {
  useProvider(provider);

  describe('real checkpoints', () => {
    it.each(real)('$id parses, re-formats and verifies with its log key', (c) => {
      const cp = parseCheckpoint(c.signed_text_utf8!);
      expect(checkpointsEqual(cp, asCheckpoint(c.parsed!))).toBe(true);
      expect(formatCheckpoint(cp)).toBe(c.signed_text_utf8);
      const opened = openCheckpoint(b64(c.note_b64), new VerifierSet(c.expect.valid_with!), { origin: c.parsed!.origin });
      expect(checkpointsEqual(opened.checkpoint, cp)).toBe(true);
      expect(opened.signers.map((s) => s.name)).toEqual(c.expect.valid_with!.map((k) => k.split('+')[0]));
    });

    it.each(real)('$id: each listed signature verifies alone with its own key', (c) => {
      for (const vkey of signingKeys(c)) {
        const opened = openCheckpoint(b64(c.note_b64), new VerifierSet([vkey]));
        expect(opened.signers).toHaveLength(1);
      }
    });

    it('sum.golang.org: origin is checked separately from the key name', () => {
      const c = byId('sumdb-6476701');
      const keys = new VerifierSet(c.expect.valid_with!);
      expect(openCheckpoint(b64(c.note_b64), keys, { origin: 'go.sum database tree' }).checkpoint.treeSize).toBe(6476701);
      assertThrowsCode(() => openCheckpoint(b64(c.note_b64), keys, { origin: 'sum.golang.org' }), VerificationError, 'ORIGIN_MISMATCH');
    });

    it('arche2025h1: the unverifiable RFC 6962 (0x05) signature line is ignored', () => {
      const c = byId('arche2025h1-staging-ct-witnessed');
      const opened = openCheckpoint(b64(c.note_b64), new VerifierSet(c.expect.valid_with!));
      expect(opened.note.unknown.map((s) => s.name)).toContain('arche2025h1.staging.ct.transparency.dev');
      expect(opened.note.unknown).toHaveLength(5);
    });
  });

  describe('tampered copies', () => {
    it.each(tampered)('$id fails', (c) => {
      assertThrowsCode(() => openCheckpoint(b64(c.note_b64), new VerifierSet([TAMPERED_KEYS[c.id]!])), VerificationError, 'SIGNATURE_INVALID');
    });

    it('arche2025h1-clobbered-size: every cosignature fails too', () => {
      const c = byId('arche2025h1-clobbered-size');
      for (const vkey of signingKeys(byId('arche2025h1-staging-ct-witnessed'))) {
        assertThrowsCode(() => openCheckpoint(b64(c.note_b64), new VerifierSet([vkey])), VerificationError, 'SIGNATURE_INVALID');
      }
    });

    it.each(real)('$id: changing any single byte of the signed text fails under every key', (c) => {
      const note = b64(c.note_b64);
      const textLength = Buffer.byteLength(c.signed_text_utf8!, 'utf8');
      const keySets = signingKeys(c).map((k) => new VerifierSet([k]));
      let checked = 0;
      for (let i = 0; i < textLength; i++) {
        for (const replacement of [note[i]! ^ 0x01, note[i] === 0x41 ? 0x42 : 0x41]) {
          const bad = Uint8Array.from(note);
          bad[i] = replacement;
          let structurallyValid = true;
          try {
            parseNote(bad);
          } catch {
            structurallyValid = false;
          }
          for (const keys of keySets) {
            let err: unknown;
            try {
              openCheckpoint(bad, keys);
            } catch (e) {
              err = e;
            }
            expect(err, `byte ${i} -> ${replacement}`).toBeInstanceOf(ParleyError);
            if (structurallyValid) expect((err as ParleyError).code).toBe('SIGNATURE_INVALID');
            checked++;
          }
        }
      }
      expect(checked).toBe(textLength * 2 * keySets.length);
    });
  });

  describe('sign and open', () => {
    it('round-trips a checkpoint with extension lines', () => {
      const sk = generateSignerKey('example.com/log42');
      const cp: Checkpoint = { origin: 'example.com/log42', treeSize: 9007199254740991, rootHash: new Uint8Array(32).fill(5), extensions: ['ext one', 'ext-2'] };
      const note = signCheckpoint(cp, newSigner(sk));
      const opened = openCheckpoint(note, new VerifierSet([verifierKeyOf(sk)]), { origin: cp.origin });
      expect(checkpointsEqual(opened.checkpoint, cp)).toBe(true);
      expect(signCheckpoint(cp, [newSigner(sk)])).toEqual(note);
    });

    it('a checkpoint signed by an unknown key is NOTE_UNVERIFIED', () => {
      const cp: Checkpoint = { origin: 'o', treeSize: 0, rootHash: new Uint8Array(32), extensions: [] };
      const note = signCheckpoint(cp, newSigner(generateSignerKey('o')));
      assertThrowsCode(() => openCheckpoint(note, new VerifierSet([verifierKeyOf(generateSignerKey('o'))])), VerificationError, 'NOTE_UNVERIFIED');
    });

    it('a verified note whose body is not a checkpoint is CHECKPOINT_MALFORMED', () => {
      const sk = generateSignerKey('o');
      const bad = signNote('o\n01\n' + formatBase64(new Uint8Array(32)) + '\n', [newSigner(sk)]);
      assertThrowsCode(() => openCheckpoint(bad, new VerifierSet([verifierKeyOf(sk)])), ParseError, 'CHECKPOINT_MALFORMED');
    });
  });

  describe('strict body parsing', () => {
    const root = formatBase64(new Uint8Array(32).fill(1));
    it.each([
      ['empty origin', `\n1\n${root}\n`],
      ['leading zero', `o\n01\n${root}\n`],
      ['plus sign', `o\n+1\n${root}\n`],
      ['negative', `o\n-1\n${root}\n`],
      ['above 2^53-1', `o\n9007199254740992\n${root}\n`],
      ['hex size', `o\n0x10\n${root}\n`],
      ['space in size', `o\n 1\n${root}\n`],
      ['31-byte root', `o\n1\n${formatBase64(new Uint8Array(31))}\n`],
      ['33-byte root', `o\n1\n${formatBase64(new Uint8Array(33))}\n`],
      ['unpadded root', `o\n1\n${root.slice(0, -1)}\n`],
      ['non-canonical root', `o\n1\n${root.slice(0, -2)}B=\n`],
      ['url-safe root', `o\n1\n${formatBase64(new Uint8Array(32).fill(0xfb)).replaceAll('+', '-')}\n`],
      ['missing final newline', `o\n1\n${root}`],
      ['only two lines', `o\n1\n`],
      ['empty extension line', `o\n1\n${root}\n\next\n`],
      ['trailing empty line', `o\n1\n${root}\n\n`],
      ['carriage return', `o\r\n1\n${root}\n`],
      ['tab', `o\t\n1\n${root}\n`],
    ])('rejects %s', (_what, text) => {
      assertThrowsCode(() => parseCheckpoint(text), ParseError, 'CHECKPOINT_MALFORMED');
    });

    it('accepts size 0 and origins with spaces (sum.golang.org)', () => {
      expect(parseCheckpoint(`go.sum database tree\n0\n${root}\n`).treeSize).toBe(0);
    });

    it('caps the body size', () => {
      assertThrowsCode(() => parseCheckpoint('o'.repeat(70000) + `\n1\n${root}\n`), ParseError, 'INPUT_TOO_LARGE');
    });

    it('formatCheckpoint refuses values that would not parse back', () => {
      const ok: Checkpoint = { origin: 'o', treeSize: 1, rootHash: new Uint8Array(32), extensions: [] };
      for (const bad of [
        { ...ok, origin: '' },
        { ...ok, origin: 'a\nb' },
        { ...ok, treeSize: -1 },
        { ...ok, treeSize: 1.5 },
        { ...ok, treeSize: 2 ** 53 },
        { ...ok, rootHash: new Uint8Array(31) },
        { ...ok, extensions: [''] },
      ]) {
        assertThrowsCode(() => formatCheckpoint(bad), ParseError, 'CHECKPOINT_MALFORMED');
      }
    });
  });
});
