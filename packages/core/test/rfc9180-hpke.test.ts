/**
 * RFC 9180 HPKE base mode, DHKEM(X25519, HKDF-SHA256) + HKDF-SHA256, against
 * the RFC's own vectors (A.1.1 AES-128-GCM, A.2.1 ChaCha20-Poly1305) and an
 * AES-256-GCM vector made by an independent implementation — in both crypto
 * bindings. Where each file came from: test/vectors/rfc9180/README.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type CryptoProvider, setCrypto } from '../src/crypto/provider.js';
import { formatHex } from '../src/encoding.js';
import { ParseError, VerificationError } from '../src/errors.js';
import {
  type HpkeAeadId,
  HPKE_AEAD_AES128GCM,
  HPKE_AEAD_AES256GCM,
  HPKE_AEAD_CHACHA20POLY1305,
  hpkeDecap,
  hpkeDeriveKeyPair,
  hpkeEncap,
  hpkeGenerateKeyPair,
  hpkeKeySchedule,
  hpkeOpen,
  hpkeSeal,
  hpkeSetupBaseRecipient,
  hpkeSetupBaseSender,
} from '../src/envelope/hpke.js';
import { assertThrowsCode } from './helpers/assert.js';
import { providers, useProvider } from './helpers/providers.js';
import { OWN_VECTORS_DIR, hex } from './helpers/vectors.js';

interface Rfc9180Vector {
  source: string;
  mode: number;
  kem_id: number;
  kdf_id: number;
  aead_id: HpkeAeadId;
  info: string;
  ikmE: string;
  pkEm: string;
  skEm: string;
  ikmR: string;
  pkRm: string;
  skRm: string;
  enc: string;
  shared_secret?: string;
  key?: string;
  base_nonce?: string;
  exporter_secret?: string;
  encryptions: { seq: number; pt: string; aad: string; nonce?: string; ct: string }[];
  exports: { exporter_context: string; L: number; exported_value: string }[];
}

const FILES = [
  'x25519-sha256-aes128gcm-base.json',
  'x25519-sha256-chacha20poly1305-base.json',
  'x25519-sha256-aes256gcm-base.hpke-js.json',
];
const vectors = FILES.map((f) => ({
  file: f,
  v: JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'rfc9180', f), 'utf8')) as Rfc9180Vector,
}));

const AEADS: HpkeAeadId[] = [HPKE_AEAD_AES128GCM, HPKE_AEAD_AES256GCM, HPKE_AEAD_CHACHA20POLY1305];
const utf8 = (s: string) => new TextEncoder().encode(s);

// Low-order X25519 u-coordinates (RFC 7748 §6.1 "all-zero value"; the usual
// list from the curve's small subgroup): each makes the shared secret zero.
const LOW_ORDER = [
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800',
  '5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
];

for (const p of providers) {
  describe(`RFC 9180 vectors (${p.name})`, () => {
    useProvider(p);

    for (const { file, v } of vectors) {
      describe(file, () => {
        it('is base mode of the suite we implement', () => {
          expect([v.mode, v.kem_id, v.kdf_id]).toEqual([0, 32, 1]);
          expect(AEADS).toContain(v.aead_id);
        });

        it('derives both key pairs from ikmE and ikmR (§7.1.3)', () => {
          const e = hpkeDeriveKeyPair(hex(v.ikmE));
          const r = hpkeDeriveKeyPair(hex(v.ikmR));
          expect(formatHex(e.privateKey)).toBe(v.skEm);
          expect(formatHex(e.publicKey)).toBe(v.pkEm);
          expect(formatHex(r.privateKey)).toBe(v.skRm);
          expect(formatHex(r.publicKey)).toBe(v.pkRm);
        });

        it('reproduces enc and the shared secret (Encap/Decap, §4.1) and the key schedule (§5.1)', () => {
          const { enc, sharedSecret } = hpkeEncap(hex(v.pkRm), hex(v.ikmE));
          expect(formatHex(enc)).toBe(v.enc);
          expect(formatHex(hpkeDecap(enc, hex(v.skRm)))).toBe(formatHex(sharedSecret));
          if (v.shared_secret !== undefined) expect(formatHex(sharedSecret)).toBe(v.shared_secret);
          const ks = hpkeKeySchedule(sharedSecret, hex(v.info), v.aead_id);
          if (v.key !== undefined) expect(formatHex(ks.key)).toBe(v.key);
          if (v.base_nonce !== undefined) expect(formatHex(ks.baseNonce)).toBe(v.base_nonce);
          if (v.exporter_secret !== undefined) expect(formatHex(ks.exporterSecret)).toBe(v.exporter_secret);
        });

        it('seals every listed sequence number byte for byte and opens them in order (§5.2)', () => {
          const listed = new Map(v.encryptions.map((e) => [e.seq, e]));
          const last = Math.max(...listed.keys());
          const { enc, context: s } = hpkeSetupBaseSender({ recipientPublicKey: hex(v.pkRm), info: hex(v.info), aead: v.aead_id, ikmE: hex(v.ikmE) });
          const r = hpkeSetupBaseRecipient({ recipientPrivateKey: hex(v.skRm), enc, info: hex(v.info), aead: v.aead_id });
          let checked = 0;
          for (let seq = 0; seq <= last; seq++) {
            const e = listed.get(seq);
            // Unlisted numbers only move the counters; the vectors use aad "Count-<seq>".
            const aad = e ? hex(e.aad) : utf8(`Count-${seq}`);
            const pt = e ? hex(e.pt) : utf8('filler');
            expect(s.sequenceNumber).toBe(seq);
            const ct = s.seal(aad, pt);
            if (e) {
              expect(formatHex(ct), `seq ${seq}`).toBe(e.ct);
              checked++;
            }
            expect(formatHex(r.open(aad, ct))).toBe(formatHex(pt));
          }
          expect(checked).toBe(v.encryptions.length);
        });

        it('exports the listed secrets (§5.3)', () => {
          const { context } = hpkeSetupBaseSender({ recipientPublicKey: hex(v.pkRm), info: hex(v.info), aead: v.aead_id, ikmE: hex(v.ikmE) });
          const r = hpkeSetupBaseRecipient({ recipientPrivateKey: hex(v.skRm), enc: hex(v.enc), info: hex(v.info), aead: v.aead_id });
          for (const x of v.exports) {
            expect(formatHex(context.export(hex(x.exporter_context), x.L))).toBe(x.exported_value);
            expect(formatHex(r.export(hex(x.exporter_context), x.L))).toBe(x.exported_value);
          }
        });

        it('single-shot Seal/Open (§6.1) give the seq-0 ciphertext', () => {
          const e0 = v.encryptions.find((e) => e.seq === 0)!;
          const sealed = hpkeSeal({ recipientPublicKey: hex(v.pkRm), info: hex(v.info), aad: hex(e0.aad), plaintext: hex(e0.pt), aead: v.aead_id, ikmE: hex(v.ikmE) });
          expect(formatHex(sealed.enc)).toBe(v.enc);
          expect(formatHex(sealed.ciphertext)).toBe(e0.ct);
          const pt = hpkeOpen({ recipientPrivateKey: hex(v.skRm), enc: sealed.enc, info: hex(v.info), aad: hex(e0.aad), ciphertext: sealed.ciphertext, aead: v.aead_id });
          expect(formatHex(pt)).toBe(e0.pt);
        });

        it('refuses every single-bit change of enc or ciphertext, and a changed info, aad or AEAD', () => {
          const e0 = v.encryptions.find((e) => e.seq === 0)!;
          const base = { recipientPrivateKey: hex(v.skRm), enc: hex(v.enc), info: hex(v.info), aad: hex(e0.aad), ciphertext: hex(e0.ct), aead: v.aead_id };
          const flips = (b: Uint8Array) =>
            Array.from({ length: b.length * 8 }, (_, i) => {
              const c = Uint8Array.from(b);
              c[i >> 3]! ^= 1 << (i & 7);
              return c;
            });
          for (const ciphertext of flips(base.ciphertext)) assertThrowsCode(() => hpkeOpen({ ...base, ciphertext }), VerificationError, 'HPKE_OPEN_FAILED');
          for (const enc of flips(base.enc)) {
            // Bit 255 of a u-coordinate is ignored by X25519 (RFC 7748 §5), so that flip keeps the DH value
            // but still changes kem_context, and with it the key.
            assertThrowsCode(() => hpkeOpen({ ...base, enc }), VerificationError, 'HPKE_OPEN_FAILED');
          }
          assertThrowsCode(() => hpkeOpen({ ...base, info: utf8('other') }), VerificationError, 'HPKE_OPEN_FAILED');
          assertThrowsCode(() => hpkeOpen({ ...base, aad: utf8('other') }), VerificationError, 'HPKE_OPEN_FAILED');
          for (const aead of AEADS.filter((a) => a !== v.aead_id)) assertThrowsCode(() => hpkeOpen({ ...base, aead }), VerificationError, 'HPKE_OPEN_FAILED');
          for (const n of [0, 1, 15, 16, base.ciphertext.length - 1]) {
            assertThrowsCode(() => hpkeOpen({ ...base, ciphertext: base.ciphertext.subarray(0, n) }), VerificationError, 'HPKE_OPEN_FAILED');
          }
          assertThrowsCode(() => hpkeOpen({ ...base, ciphertext: new Uint8Array([...base.ciphertext, 0]) }), VerificationError, 'HPKE_OPEN_FAILED');
        });
      });
    }
  });

  describe(`HPKE keys and failures (${p.name})`, () => {
    useProvider(p);
    const info = utf8('parley/envelope/v1');
    const aad = new Uint8Array(0);

    it('refuses low-order recipient keys when sealing and low-order enc when opening (§7.1.4)', () => {
      const r = hpkeGenerateKeyPair();
      for (const u of LOW_ORDER) {
        assertThrowsCode(() => hpkeSeal({ recipientPublicKey: hex(u), info, aad, plaintext: utf8('x') }), ParseError, 'KEY_MALFORMED');
        assertThrowsCode(() => hpkeOpen({ recipientPrivateKey: r.privateKey, enc: hex(u), info, aad, ciphertext: new Uint8Array(32) }), VerificationError, 'HPKE_OPEN_FAILED');
      }
    });

    it('refuses keys, enc and ikm of the wrong length with typed errors', () => {
      const r = hpkeGenerateKeyPair();
      const sealed = hpkeSeal({ recipientPublicKey: r.publicKey, info, aad, plaintext: utf8('x') });
      for (const n of [0, 31, 33]) {
        assertThrowsCode(() => hpkeSeal({ recipientPublicKey: new Uint8Array(n).fill(9), info, aad, plaintext: utf8('x') }), ParseError, 'KEY_MALFORMED');
        assertThrowsCode(() => hpkeOpen({ recipientPrivateKey: new Uint8Array(n).fill(9), enc: sealed.enc, info, aad, ciphertext: sealed.ciphertext }), ParseError, 'KEY_MALFORMED');
        assertThrowsCode(() => hpkeOpen({ recipientPrivateKey: r.privateKey, enc: new Uint8Array(n).fill(9), info, aad, ciphertext: sealed.ciphertext }), VerificationError, 'HPKE_OPEN_FAILED');
      }
      assertThrowsCode(() => hpkeDeriveKeyPair(new Uint8Array(31)), ParseError, 'KEY_MALFORMED');
    });

    it('opens only with the right private key', () => {
      const r = hpkeGenerateKeyPair();
      const other = hpkeGenerateKeyPair();
      const sealed = hpkeSeal({ recipientPublicKey: r.publicKey, info, aad, plaintext: utf8('secret') });
      assertThrowsCode(() => hpkeOpen({ recipientPrivateKey: other.privateKey, info, aad, ...sealed }), VerificationError, 'HPKE_OPEN_FAILED');
    });

    it('a failed open does not advance the recipient sequence number', () => {
      const r = hpkeGenerateKeyPair();
      const { enc, context } = hpkeSetupBaseSender({ recipientPublicKey: r.publicKey, info });
      const c0 = context.seal(aad, utf8('zero'));
      const rc = hpkeSetupBaseRecipient({ recipientPrivateKey: r.privateKey, enc, info });
      assertThrowsCode(() => rc.open(utf8('wrong'), c0), VerificationError, 'HPKE_OPEN_FAILED');
      expect(rc.sequenceNumber).toBe(0);
      expect(new TextDecoder().decode(rc.open(aad, c0))).toBe('zero');
      expect(rc.sequenceNumber).toBe(1);
    });

    it('round-trips any plaintext, aad and info with every AEAD (property)', () => {
      const r = hpkeGenerateKeyPair();
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), fc.constantFrom(...AEADS), (plaintext, aad2, info2, aead) => {
          const sealed = hpkeSeal({ recipientPublicKey: r.publicKey, info: info2, aad: aad2, plaintext, aead });
          expect(sealed.enc.length).toBe(32);
          expect(sealed.ciphertext.length).toBe(plaintext.length + 16);
          const back = hpkeOpen({ recipientPrivateKey: r.privateKey, enc: sealed.enc, info: info2, aad: aad2, ciphertext: sealed.ciphertext, aead });
          expect(formatHex(back)).toBe(formatHex(plaintext));
        }),
        { numRuns: 60 },
      );
    });

    it('uses a fresh ephemeral key for every seal', () => {
      const r = hpkeGenerateKeyPair();
      const a = hpkeSeal({ recipientPublicKey: r.publicKey, info, aad, plaintext: utf8('same') });
      const b = hpkeSeal({ recipientPublicKey: r.publicKey, info, aad, plaintext: utf8('same') });
      expect(formatHex(a.enc)).not.toBe(formatHex(b.enc));
      expect(formatHex(a.ciphertext)).not.toBe(formatHex(b.ciphertext));
    });
  });
}

describe('the two bindings agree', () => {
  it('seal in one binding, open in the other, for every AEAD', () => {
    const [a, b] = providers;
    for (const aead of AEADS) {
      for (const [from, to] of [[a!, b!], [b!, a!]] as const) {
        const r = from.x25519PublicKey(new Uint8Array(32).fill(7));
        const sealed = withProvider(from, () => hpkeSeal({ recipientPublicKey: r, info: utf8('i'), aad: utf8('a'), plaintext: utf8('cross'), aead }));
        const pt = withProvider(to, () => hpkeOpen({ recipientPrivateKey: new Uint8Array(32).fill(7), info: utf8('i'), aad: utf8('a'), ...sealed, aead }));
        expect(new TextDecoder().decode(pt)).toBe('cross');
      }
    }
  });
});

function withProvider<T>(p: CryptoProvider, fn: () => T): T {
  const previous = setCrypto(p);
  try {
    return fn();
  } finally {
    setCrypto(previous);
  }
}
