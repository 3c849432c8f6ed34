/**
 * Pinned RFC 3161 tokens made by OpenSSL's TSA (vectors/tsa/tsa-v1.json;
 * `make-tsa-v1.ts` says how): the verifier gives exactly what `openssl ts
 * -reply -text` printed for each, without openssl at test time, and every
 * one-byte change of the token's TSTInfo fails.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type TimestampAuthority, parseTimestampResponse, timestampImprint, verifyTimestampToken, verifyTimestamps } from '../src/tsa/index.js';
import { parseAccordTimestamping } from '../src/index.js';
import { ParleyError } from '../src/errors.js';

interface Vector {
  id: string;
  note: string;
  authority: TimestampAuthority;
  reply_b64: string;
  token_b64: string;
  expected: { authority: string; genTime: string; policy: string; serial: string };
}
const { vectors } = JSON.parse(readFileSync(new URL('./vectors/tsa/tsa-v1.json', import.meta.url), 'utf8')) as { vectors: Vector[] };
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

describe('pinned openssl RFC 3161 tokens (tsa-v1.json)', () => {
  it('has the vectors it promises', () => {
    expect(vectors.map((v) => v.id)).toEqual(['openssl-ec-direct', 'openssl-rsa-intermediate-ess-v1']);
  });
  it('parseTimestampResponse answers every mutated or truncated reply with a token or a TSA_* ParleyError', () => {
    const reply = b64(vectors[0]!.reply_b64);
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let i = 0; i < 300; i++) {
      const r = i % 4 === 3 ? reply.slice(0, rand(reply.length)) : reply.slice();
      if (i % 4 !== 3) {
        const at = rand(r.length);
        r[at] = r[at]! ^ (1 << rand(8));
      }
      try {
        parseTimestampResponse(r);
      } catch (e) {
        expect(e).toBeInstanceOf(ParleyError);
        expect((e as ParleyError).code).toMatch(/^TSA_(MALFORMED|REJECTED)$/);
      }
    }
  });
  for (const v of vectors) {
    it(`${v.id}: the reply holds the token, which verifies to what openssl printed`, async () => {
      const token = parseTimestampResponse(b64(v.reply_b64));
      expect(Buffer.from(token).toString('base64')).toBe(v.token_b64);
      const got = await verifyTimestampToken(token, { imprint: timestampImprint(v.note), authorities: [v.authority] });
      expect({ ...got, genTime: got.genTime.toISOString() }).toEqual(v.expected);
      // The accord member is a valid accord `timestamping` authority.
      const ts = parseAccordTimestamping({ authorities: [v.authority], required: 1 });
      const r = await verifyTimestamps(v.note, [{ authority: v.authority.name, token: v.token_b64 }], ts);
      expect(r.trustedTime?.toISOString()).toBe(v.expected.genTime);
    });
    it(`${v.id}: each byte of the encapsulated TSTInfo changed fails with a TSA_* code`, async () => {
      const token = b64(v.token_b64);
      // id-ct-TSTInfo OID, then [0] { OCTET STRING { TSTInfo } }: find the OCTET STRING after it.
      const oid = Buffer.from([0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04]);
      const at = Buffer.from(token).indexOf(oid) + oid.length;
      expect(at).toBeGreaterThan(oid.length);
      expect([token[at], token[at + 2]]).toEqual([0xa0, 0x04]); // [0] EXPLICIT, OCTET STRING, both short-form lengths
      const start = at + 4;
      const len = token[at + 3]!;
      for (let i = start; i < start + len; i++) {
        const t = token.slice();
        t[i] = t[i]! ^ 0x01;
        const e = await verifyTimestampToken(t, { imprint: timestampImprint(v.note), authorities: [v.authority] }).then(() => undefined, (x: unknown) => x);
        expect(e, `byte ${i}`).toBeInstanceOf(ParleyError);
        expect((e as ParleyError).code).toMatch(/^TSA_/);
      }
    }, 60_000);
  }
});
