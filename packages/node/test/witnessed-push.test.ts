/**
 * The witnessed-push frame (federation/witnessedPush.ts): format and parse
 * are inverse, and every malformed header or length is BUNDLE_MALFORMED.
 */
import { describe, expect, it } from 'vitest';
import { MAX_WITNESS_REQUEST_BYTES, ParseError, encodeUtf8 } from '@parley/core';
import { formatWitnessedPush, parseWitnessedPush } from '../src/federation/witnessedPush.js';

const expectMalformed = (body: Uint8Array) => {
  let err: unknown;
  try {
    parseWitnessedPush(body);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(ParseError);
  expect(err).toMatchObject({ code: 'BUNDLE_MALFORMED' });
};

describe('witnessed push frame', () => {
  it('round-trips the two halves, empty ones included', () => {
    for (const [w, b] of [['old 0\n\nnote\n', '{"bundle":1}'], ['', '{}'], ['x', '']]) {
      const body = formatWitnessedPush({ witness: encodeUtf8(w!), bundle: encodeUtf8(b!) });
      expect(new TextDecoder().decode(body.subarray(0, 15))).toBe('parley-push/v1 ');
      const p = parseWitnessedPush(body);
      expect(p.witness).toEqual(encodeUtf8(w!));
      expect(p.bundle).toEqual(encodeUtf8(b!));
    }
  });

  it('refuses a missing or wrong header, a non-canonical or oversized length, a length beyond the body', () => {
    for (const head of ['', 'parley-push/v1 5', 'parley-push/v2 1\nx', 'parley-push/v1 01\nx', 'parley-push/v1 -1\nx', 'parley-push/v1  1\nx', 'parley-push/v1 1 \nx', `parley-push/v1 ${MAX_WITNESS_REQUEST_BYTES + 1}\n`, 'parley-push/v1 10\nshort']) {
      expectMalformed(encodeUtf8(head));
    }
  });
});
