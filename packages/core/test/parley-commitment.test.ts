/**
 * Salted commitments (envelope/commitment.ts): the exact bytes are pinned by
 * our own vector file (test/vectors/parley/commitment.json, computed with
 * Python hashlib, not with this code), in both bindings, plus properties.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { COMMITMENT_LABEL, checkCommitment, commit } from '../src/envelope/commitment.js';
import { encodeUtf8, formatHex } from '../src/encoding.js';
import { ParseError } from '../src/errors.js';
import { assertThrowsCode } from './helpers/assert.js';
import { providers, useProvider } from './helpers/providers.js';
import { OWN_VECTORS_DIR, hex } from './helpers/vectors.js';

interface CommitmentVectors {
  label_hex: string;
  vectors: { id: string; salt_hex: string; plaintext_hex?: string; plaintext_utf8?: string; commitment_hex: string }[];
}
const file = JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'parley/commitment.json'), 'utf8')) as CommitmentVectors;

for (const p of providers) {
  describe(`parley commitment v1 (${p.name})`, () => {
    useProvider(p);

    it('uses the documented label', () => {
      expect(formatHex(encodeUtf8(COMMITMENT_LABEL))).toBe(file.label_hex);
    });

    for (const v of file.vectors) {
      it(`pins the bytes: ${v.id}`, () => {
        const pt = v.plaintext_hex !== undefined ? hex(v.plaintext_hex) : encodeUtf8(v.plaintext_utf8!);
        const c = commit(pt, hex(v.salt_hex));
        expect(formatHex(c.salt)).toBe(v.salt_hex);
        expect(formatHex(c.commitment)).toBe(v.commitment_hex);
        expect(checkCommitment(hex(v.commitment_hex), hex(v.salt_hex), pt)).toBe(true);
      });
    }

    it('draws a fresh 32-byte salt when none is given', () => {
      const a = commit(encodeUtf8('same'));
      const b = commit(encodeUtf8('same'));
      expect(a.salt.length).toBe(32);
      expect(formatHex(a.salt)).not.toBe(formatHex(b.salt));
      expect(formatHex(a.commitment)).not.toBe(formatHex(b.commitment));
    });

    it('refuses a salt that is not 32 bytes', () => {
      for (const n of [0, 16, 31, 33]) assertThrowsCode(() => commit(encodeUtf8('x'), new Uint8Array(n)), ParseError, 'COMMITMENT_SALT_INVALID');
    });

    it('opens with its own salt and plaintext, and with nothing else (property)', () => {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat(), (pt, salt, pick) => {
          const { commitment } = commit(pt, salt);
          expect(checkCommitment(commitment, salt, pt)).toBe(true);
          // Flip one bit of the plaintext (or append a byte to an empty one), of the salt, and of the commitment.
          const pt2 = pt.length === 0 ? Uint8Array.of(0) : Uint8Array.from(pt);
          if (pt.length > 0) pt2[pick % pt.length]! ^= 1 << (pick % 8);
          const salt2 = Uint8Array.from(salt);
          salt2[pick % 32]! ^= 1 << (pick % 8);
          const c2 = Uint8Array.from(commitment);
          c2[pick % 32]! ^= 1 << (pick % 8);
          expect(checkCommitment(commitment, salt, pt2)).toBe(false);
          expect(checkCommitment(commitment, salt2, pt)).toBe(false);
          expect(checkCommitment(c2, salt, pt)).toBe(false);
          // Moving a byte between salt and plaintext changes the commitment (fixed-length salt).
          expect(checkCommitment(commitment, salt.subarray(0, 31), new Uint8Array([salt[31]!, ...pt]))).toBe(false);
        }),
        { numRuns: 200 },
      );
    });

    it('never throws on malformed inputs to checkCommitment', () => {
      expect(checkCommitment(new Uint8Array(31), new Uint8Array(32), new Uint8Array())).toBe(false);
      expect(checkCommitment(new Uint8Array(32), new Uint8Array(0), new Uint8Array())).toBe(false);
    });
  });
}
