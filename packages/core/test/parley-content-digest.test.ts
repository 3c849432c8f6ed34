/**
 * Content-Digest (RFC 9530 §2) on node-to-node requests (src/federation/request.ts,
 * issue 9 "Federation routes check the request signature before reading a
 * large body"): the header's strict grammar, verifying a signature from the
 * head alone (no body, no nonce recorded), and the body check that follows.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MemoryNonceCache,
  ParseError,
  VerificationError,
  contentDigestOf,
  formatContentDigest,
  getCrypto,
  parseContentDigest,
  signRequest,
  signRequestWithDigest,
  verifyRequest,
  verifyRequestBody,
  verifyRequestHead,
} from '../src/index.js';
import { providers, useProvider } from './helpers/providers.js';
import { assertThrowsCode } from './helpers/assert.js';
import { FORK_V1, channelAccord, logKey } from './helpers/fork.js';

const R = FORK_V1.request;
const body = new TextEncoder().encode('a bundle of entries, in place of the real thing\n'.repeat(100));

describe('Content-Digest header grammar', () => {
  const digest = createHash('sha256').update(body).digest();
  const b64 = digest.toString('base64');

  it('round-trips, and matches an independent SHA-256 (RFC 9530 §2 example shape)', () => {
    expect(formatContentDigest(digest)).toBe(`sha-256=:${b64}:`);
    expect(contentDigestOf(body)).toBe(`sha-256=:${b64}:`);
    expect(Buffer.from(parseContentDigest(`sha-256=:${b64}:`))).toEqual(digest);
    // RFC 9530 Appendix B.1's empty body digest.
    expect(contentDigestOf(new Uint8Array())).toBe('sha-256=:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=:');
  });

  it('refuses every other spelling with CONTENT_DIGEST_MALFORMED', () => {
    const other = createHash('sha512').update(body).digest('base64');
    for (const h of [
      '',
      b64,
      `sha-256=${b64}`, // a token, not a byte sequence
      `sha-256=:${b64}`,
      `sha-256=:${b64}:;x=1`, // a parameter
      ` sha-256=:${b64}:`,
      `sha-256=:${b64}: `,
      `SHA-256=:${b64}:`,
      `sha-256 =:${b64}:`,
      `sha-512=:${other}:`, // another algorithm only
      `sha-256=:${b64}:, sha-512=:${other}:`, // two members
      `sha-256=:${b64.replace(/=$/, '')}:`, // unpadded
      `sha-256=:${b64.slice(0, 42)}B=:`, // non-canonical last character (unused bits set)
      `sha-256=:${Buffer.alloc(31).toString('base64')}:`, // 31 bytes
      `sha-256=:${Buffer.alloc(33).toString('base64')}:`,
      `sha-256=:-${b64.slice(1)}:`, // a base64url character
      `sha-256=:${b64}:`.padEnd(200, ' '),
    ]) {
      assertThrowsCode(() => parseContentDigest(h), ParseError, 'CONTENT_DIGEST_MALFORMED');
    }
    assertThrowsCode(() => formatContentDigest(new Uint8Array(31)), ParseError, 'CONTENT_DIGEST_MALFORMED');
  });
});

describe.each(providers)('verifying a request from its head with $name', (provider) => {
  useProvider(provider);
  const accord = () => channelAccord();
  const sign = (over: Partial<Parameters<typeof signRequest>[0]> = {}) =>
    signRequest({ accordId: accord().id, from: 'US', to: 'CN', method: 'POST', path: '/fed/v1/bundle', body, signer: getCrypto().ed25519Signer(logKey('US').seed), now: R.created, ...over });
  const head = (header: string | undefined, contentDigest: string, over: Partial<Parameters<typeof verifyRequestHead>[0]> = {}) =>
    verifyRequestHead({ header, contentDigest, accord: accord(), to: 'CN', method: 'POST', path: '/fed/v1/bundle', now: R.created, ...over });

  it('verifies the signature without the body, records no nonce, then checks the body and records it', () => {
    const seen = new MemoryNonceCache();
    const h = sign();
    const verified = head(h, contentDigestOf(body), { seen });
    expect(verified.party).toBe('US');
    expect(seen.size).toBe(0);
    // The head may be verified again (a retry of the same head): still nothing recorded.
    head(h, contentDigestOf(body), { seen });
    expect(seen.size).toBe(0);
    expect(verifyRequestBody({ head: verified, body, now: R.created, seen })).toEqual({ party: 'US', created: verified.created, nonce: verified.nonce });
    expect(seen.size).toBe(1);
    // Now a replay is refused from the head alone, and at the body.
    assertThrowsCode(() => head(h, contentDigestOf(body), { seen }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => verifyRequestBody({ head: verified, body, now: R.created, seen }), VerificationError, 'REQUEST_UNAUTHENTICATED');
  });

  it('signRequestWithDigest gives the signRequest header and the body\'s Content-Digest', () => {
    const nonce = new Uint8Array(16).fill(7);
    const both = signRequestWithDigest({ accordId: accord().id, from: 'US', to: 'CN', method: 'POST', path: '/fed/v1/bundle', body, signer: getCrypto().ed25519Signer(logKey('US').seed), now: R.created, nonce });
    expect(both).toEqual({ signature: sign({ nonce }), contentDigest: contentDigestOf(body) });
    expect(head(both.signature, both.contentDigest).party).toBe('US');
  });

  it('refuses a body other than the digest names, without burning the nonce', () => {
    const seen = new MemoryNonceCache();
    const h = sign();
    const verified = head(h, contentDigestOf(body));
    const other = body.slice();
    other[100]! ^= 1;
    assertThrowsCode(() => verifyRequestBody({ head: verified, body: other, now: R.created, seen }), VerificationError, 'CONTENT_DIGEST_MISMATCH');
    assertThrowsCode(() => verifyRequestBody({ head: verified, body: body.subarray(0, body.length - 1), now: R.created, seen }), VerificationError, 'CONTENT_DIGEST_MISMATCH');
    expect(seen.size).toBe(0);
    expect(verifyRequestBody({ head: verified, body, now: R.created, seen }).party).toBe('US');
  });

  it('refuses a header naming another digest than the signed one: the signature is over the digest', () => {
    const other = new TextEncoder().encode('another body');
    // Signed over `body`, sent with the digest of `other` (and `other` as the body): a bad signature, from the head.
    assertThrowsCode(() => head(sign(), contentDigestOf(other)), VerificationError, 'REQUEST_UNAUTHENTICATED');
    // Signed over `other`: valid with other's digest only.
    expect(head(sign({ body: other }), contentDigestOf(other)).party).toBe('US');
    assertThrowsCode(() => head(sign({ body: other }), contentDigestOf(body)), VerificationError, 'REQUEST_UNAUTHENTICATED');
  });

  it('checks the rest of the head as verifyRequest does: party, skew, target, key; malformed headers are parse errors', () => {
    const d = contentDigestOf(body);
    assertThrowsCode(() => head(undefined, d), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => head(sign(), d, { now: R.created + 61 }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => head(sign(), d, { path: '/fed/v1/bundle?x' }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => head(sign(), d, { to: 'US' }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => head(sign({ signer: getCrypto().ed25519Signer(logKey('CN').seed) }), d), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => head('party=US, nonsense', d), ParseError, 'REQUEST_SIGNATURE_MALFORMED');
    assertThrowsCode(() => head(sign(), 'sha-256=:nope:'), ParseError, 'CONTENT_DIGEST_MALFORMED');
    expect(() => head(sign(), d, { maxSkewSeconds: 0 })).toThrow(RangeError);
  });

  it('verifyRequest with a contentDigest checks the header against the body too', () => {
    const h = sign();
    const v = (over: Partial<Parameters<typeof verifyRequest>[0]>) =>
      verifyRequest({ header: h, accord: accord(), to: 'CN', method: 'POST', path: '/fed/v1/bundle', body, now: R.created, seen: new MemoryNonceCache(), ...over });
    expect(v({ contentDigest: contentDigestOf(body) }).party).toBe('US');
    expect(v({}).party).toBe('US'); // an older sender: no header
    assertThrowsCode(() => v({ contentDigest: contentDigestOf(body), body: body.subarray(1) }), VerificationError, 'CONTENT_DIGEST_MISMATCH');
    assertThrowsCode(() => v({ contentDigest: 'sha-256=:x:' }), ParseError, 'CONTENT_DIGEST_MALFORMED');
  });
});
