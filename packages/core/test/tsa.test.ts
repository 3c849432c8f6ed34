/**
 * RFC 3161 time-stamp tokens from a real TSA (`openssl ts`, test/helpers/tsa.ts;
 * no mock): our requests are answered by openssl over real HTTP on
 * 127.0.0.1, its tokens verify, and each way a token can be wrong is its
 * own typed error (EVAL.md §7, §9).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type TimestampAuthority,
  makeTimestampRequest,
  parseTimestampResponse,
  parseTimestampTokens,
  readTimestampReply,
  formatTimestampToken,
  timestampImprint,
  verifyTimestampToken,
  verifyTimestamps,
} from '../src/tsa/index.js';
import { type ErrorCode, ParleyError, ParseError, VerificationError } from '../src/errors.js';
import { assertThrowsCode } from './helpers/assert.js';
import { type TestTsa, type TsaServer, makeTestTsa, startTsaServer } from './helpers/tsa.js';

const NOTE = 'parley.example/log/US\n42\nq6wSBzN9Hr4DU0rpGbn/Ka7gnJUfKQh9VY5yOcVmCvw=\n\n\u2014 parley.example/log/US Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n';
const OTHER_NOTE = NOTE.replace('\n42\n', '\n43\n');

async function expectCode(p: Promise<unknown>, cls: abstract new (...a: never[]) => ParleyError, code: ErrorCode): Promise<void> {
  const e = await p.then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e, `expected ${code}`).toBeInstanceOf(cls);
  expect((e as ParleyError).code).toBe(code);
}

/** POSTs our request to the server, as a node does (RFC 3161 §3.4), and reads the token. */
async function stampOverHttp(server: TsaServer, note: string, nonce: Uint8Array, policy?: string): Promise<Uint8Array> {
  const body = makeTimestampRequest({ imprint: timestampImprint(note), nonce, ...(policy === undefined ? {} : { policy }) });
  const res = await fetch(server.url, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body });
  return readTimestampReply({ status: res.status, contentType: res.headers.get('content-type'), body: new Uint8Array(await res.arrayBuffer()) });
}

const nonce = () => crypto.getRandomValues(new Uint8Array(16));

describe('RFC 3161 tokens from a real openssl TSA', () => {
  let a: TsaServer; // EC P-256
  let b: TsaServer; // RSA 2048, its own CA
  let tokenA: Uint8Array;
  let nonceA: Uint8Array;
  const imprint = timestampImprint(NOTE);

  beforeAll(async () => {
    [a, b] = await Promise.all([startTsaServer({ name: 'tsa-a' }), startTsaServer({ name: 'tsa-b', keyType: 'rsa', policy: '1.3.6.1.4.1.99999.3161.2' })]);
    nonceA = nonce();
    tokenA = await stampOverHttp(a, NOTE, nonceA, a.authority.policy);
  }, 60_000);
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
  });

  it('verifies a token openssl made for our request (EC P-256): authority, genTime, policy, serial', async () => {
    const before = Date.now();
    const v = await verifyTimestampToken(tokenA, { imprint, nonce: nonceA, authorities: [a.authority], at: new Date() });
    expect(v.authority).toBe('tsa-a');
    expect(v.policy).toBe(a.authority.policy);
    expect(v.serial).toMatch(/^[0-9a-f]+$/);
    expect(Math.abs(v.genTime.getTime() - before)).toBeLessThan(60_000);
    expect(a.requests()).toBeGreaterThanOrEqual(1);
  });

  it('verifies an RSA TSA\u2019s token, and picks the authority whose root the signer chains to', async () => {
    const n = nonce();
    const token = await stampOverHttp(b, NOTE, n);
    const v = await verifyTimestampToken(token, { imprint, nonce: n, authorities: [a.authority, b.authority] });
    expect(v.authority).toBe('tsa-b');
    expect(v.policy).toBe('1.3.6.1.4.1.99999.3161.2');
  });

  it('echoes nonces whose top bit is set or that start with zero bytes (DER INTEGER, X.690 §8.3)', async () => {
    for (const n of [new Uint8Array([0xff, 1, 2, 3, 4, 5, 6, 7]), new Uint8Array([0, 0, 0x80, 1, 2, 3, 4, 5, 6])]) {
      const token = await stampOverHttp(a, NOTE, n);
      await expect(verifyTimestampToken(token, { imprint, nonce: n, authorities: [a.authority] })).resolves.toMatchObject({ authority: 'tsa-a' });
    }
  });

  it('verifies a token without the nonce when the caller has none (a stored token)', async () => {
    await expect(verifyTimestampToken(tokenA, { imprint, authorities: [a.authority] })).resolves.toMatchObject({ authority: 'tsa-a' });
  });

  it('TSA_IMPRINT_MISMATCH: a token for another note (another size, or other signature lines)', async () => {
    await expectCode(verifyTimestampToken(tokenA, { imprint: timestampImprint(OTHER_NOTE), authorities: [a.authority] }), VerificationError, 'TSA_IMPRINT_MISMATCH');
    await expectCode(verifyTimestampToken(tokenA, { imprint: timestampImprint(`${NOTE}\u2014 w Ab==\n`), authorities: [a.authority] }), VerificationError, 'TSA_IMPRINT_MISMATCH');
  });

  it('TSA_NONCE_MISMATCH: another nonce, or a token made without one', async () => {
    await expectCode(verifyTimestampToken(tokenA, { imprint, nonce: nonce(), authorities: [a.authority] }), VerificationError, 'TSA_NONCE_MISMATCH');
    const { token } = await a.tsa.stampData(NOTE); // openssl's own query (with its own nonce)
    await expectCode(verifyTimestampToken(token, { imprint, nonce: nonceA, authorities: [a.authority] }), VerificationError, 'TSA_NONCE_MISMATCH');
  });

  it('TSA_UNTRUSTED: the signer does not chain to a root the accord lists for the authority', async () => {
    // tsa-b's root for tsa-a's token (both real CAs, neither issued the other's TSA).
    await expectCode(verifyTimestampToken(tokenA, { imprint, authorities: [{ ...a.authority, roots: b.authority.roots }] }), VerificationError, 'TSA_UNTRUSTED');
    await expectCode(verifyTimestampToken(tokenA, { imprint, authorities: [] }), VerificationError, 'TSA_UNTRUSTED');
    // A root that is DER but no certificate (the accord checks only the shape) anchors nothing, and spoils nothing.
    const junk: TimestampAuthority = { ...b.authority, name: 'junk', roots: ['MAYCAQECAQI='] };
    await expectCode(verifyTimestampToken(tokenA, { imprint, authorities: [junk] }), VerificationError, 'TSA_UNTRUSTED');
    await expect(verifyTimestampToken(tokenA, { imprint, authorities: [junk, a.authority] })).resolves.toMatchObject({ authority: 'tsa-a' });
  });

  it('trusts a TSA certificate the accord pins as its root (RFC 5280 §6.1 trust anchor)', async () => {
    const pinned = { ...a.authority, roots: [Buffer.from(a.tsa.tsaCertificate).toString('base64')] };
    await expect(verifyTimestampToken(tokenA, { imprint, authorities: [pinned] })).resolves.toMatchObject({ authority: 'tsa-a' });
    await expectCode(verifyTimestampToken(tokenA, { imprint, authorities: [{ ...pinned, roots: [Buffer.from(b.tsa.tsaCertificate).toString('base64')] }] }), VerificationError, 'TSA_UNTRUSTED');
  });

  it('TSA_POLICY: the token\u2019s policy is not the one the accord lists for the authority', async () => {
    await expectCode(verifyTimestampToken(tokenA, { imprint, authorities: [{ ...a.authority, policy: '1.3.6.1.4.1.99999.3161.9' }] }), VerificationError, 'TSA_POLICY');
  });

  it('TSA_EXPIRED: genTime outside the authority\u2019s window, or in the verifier\u2019s future', async () => {
    const past: TimestampAuthority = { ...a.authority, validFrom: '2020-01-01T00:00:00.000Z', validUntil: '2021-01-01T00:00:00.000Z' };
    await expectCode(verifyTimestampToken(tokenA, { imprint, authorities: [past] }), VerificationError, 'TSA_EXPIRED');
    const future: TimestampAuthority = { ...a.authority, validFrom: '2090-01-01T00:00:00.000Z', validUntil: '2091-01-01T00:00:00.000Z' };
    await expectCode(verifyTimestampToken(tokenA, { imprint, authorities: [future] }), VerificationError, 'TSA_EXPIRED');
    await expectCode(verifyTimestampToken(tokenA, { imprint, authorities: [a.authority], at: new Date(Date.now() - 3600_000) }), VerificationError, 'TSA_EXPIRED');
  });

  it('TSA_SIGNATURE: a flipped signature bit, or a TSTInfo changed under the signature', async () => {
    const sig = tokenA.slice();
    sig[sig.length - 1]! ^= 0x01; // the last octet of the SignerInfo's signature (RFC 5652 §5.3)
    await expectCode(verifyTimestampToken(sig, { imprint, authorities: [a.authority] }), VerificationError, 'TSA_SIGNATURE');
    // A digit of genTime inside the eContent: the TSTInfo still parses, the message-digest attribute no longer matches.
    const text = new TextDecoder('latin1').decode(tokenA);
    const at = text.search(/20[0-9]{12}(\.[0-9]+)?Z/);
    expect(at).toBeGreaterThan(0);
    const body = tokenA.slice();
    body[at + 2] = body[at + 2] === 0x31 ? 0x32 : 0x31; // 2026 → 2016 / 2126-ish: another valid year
    await expectCode(verifyTimestampToken(body, { imprint, authorities: [a.authority] }), VerificationError, 'TSA_SIGNATURE');
  });

  it('TSA_MALFORMED: garbage, truncated, trailing bytes, and DER that is no token', async () => {
    const cases = [new Uint8Array([1, 2, 3]), tokenA.subarray(0, tokenA.length - 10), new Uint8Array([...tokenA, 0]), b.tsa.caCertificate, new Uint8Array([0x30, 0x00]), new Uint8Array(70_000)];
    for (const t of cases) await expectCode(verifyTimestampToken(t, { imprint, authorities: [a.authority] }), ParseError, 'TSA_MALFORMED');
    assertThrowsCode(() => parseTimestampResponse(new Uint8Array([0x30, 0x03, 0x02, 0x01])), ParseError, 'TSA_MALFORMED');
    assertThrowsCode(() => parseTimestampResponse(tokenA), ParseError, 'TSA_MALFORMED');
  });

  it('TSA_REJECTED: openssl refuses a policy it does not accept (status rejection, RFC 3161 §2.4.2)', async () => {
    const reply = await a.tsa.stamp(makeTimestampRequest({ imprint, nonce: nonce(), policy: '1.2.3.4.5' }));
    assertThrowsCode(() => parseTimestampResponse(reply), VerificationError, 'TSA_REJECTED');
  });

  it('TSA_UNAVAILABLE: an HTTP error or a reply that is not application/timestamp-reply', async () => {
    b.failWith(503);
    try {
      await expectCode(stampOverHttp(b, NOTE, nonce()), ParseError, 'TSA_UNAVAILABLE');
    } finally {
      b.failWith(undefined);
    }
    assertThrowsCode(() => readTimestampReply({ status: 200, contentType: 'text/html', body: new Uint8Array([0x30, 0]) }), ParseError, 'TSA_UNAVAILABLE');
    // The server itself refuses a query of another media type (415), which the client sees as unavailable.
    const res = await fetch(a.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(415);
  });

  it('refuses requests it cannot make: imprint not 32 bytes, nonce outside 8..16 bytes, bad policy OID', () => {
    assertThrowsCode(() => makeTimestampRequest({ imprint: new Uint8Array(31), nonce: nonce() }), ParseError, 'TSA_MALFORMED');
    assertThrowsCode(() => makeTimestampRequest({ imprint, nonce: new Uint8Array(7) }), ParseError, 'TSA_MALFORMED');
    assertThrowsCode(() => makeTimestampRequest({ imprint, nonce: new Uint8Array(17) }), ParseError, 'TSA_MALFORMED');
    assertThrowsCode(() => makeTimestampRequest({ imprint, nonce: nonce(), policy: 'tsa' }), ParseError, 'TSA_MALFORMED');
  });

  it('verifyTimestamps: k of n distinct authorities; trustedTime is the k-th smallest genTime', async () => {
    const ta = await stampOverHttp(a, NOTE, nonce());
    await new Promise((r) => setTimeout(r, 1100)); // genTime has one-second resolution: make b's later
    const tb = await stampOverHttp(b, NOTE, nonce());
    const ga = (await verifyTimestampToken(ta, { imprint, authorities: [a.authority] })).genTime;
    const gb = (await verifyTimestampToken(tb, { imprint, authorities: [b.authority] })).genTime;
    expect(gb.getTime()).toBeGreaterThan(ga.getTime());
    const tokens = [formatTimestampToken('tsa-a', ta), formatTimestampToken('tsa-b', tb)];
    const ts = (required: number) => ({ authorities: [a.authority, b.authority], required });

    const two = await verifyTimestamps(NOTE, tokens, ts(2));
    expect(two).toMatchObject({ satisfied: true, failed: [] });
    expect(two.verified.map((v) => v.authority)).toEqual(['tsa-a', 'tsa-b']);
    expect(two.trustedTime).toEqual(gb);
    const one = await verifyTimestamps(NOTE, tokens, ts(1));
    expect(one.trustedTime).toEqual(ga);

    // Another note: every token fails with its code, nothing is trusted.
    const wrong = await verifyTimestamps(OTHER_NOTE, tokens, ts(1));
    expect(wrong).toEqual({ verified: [], failed: [{ authority: 'tsa-a', code: 'TSA_IMPRINT_MISMATCH' }, { authority: 'tsa-b', code: 'TSA_IMPRINT_MISMATCH' }], satisfied: false });

    // One authority twice counts once; a token under another authority's name fails (checked against that name only).
    const dup = await verifyTimestamps(NOTE, [{ authority: 'tsa-a', token: ta }, { authority: 'tsa-a', token: tokenA }], ts(2));
    expect(dup.satisfied).toBe(false);
    expect(dup.trustedTime).toBeUndefined();
    expect(dup.verified).toHaveLength(2);
    const swapped = await verifyTimestamps(NOTE, [{ authority: 'tsa-b', token: ta }, { authority: 'tsa-x', token: tb }], ts(1));
    expect(swapped).toEqual({ verified: [], failed: [{ authority: 'tsa-b', code: 'TSA_UNTRUSTED' }, { authority: 'tsa-x', code: 'TSA_UNTRUSTED' }], satisfied: false });
    const garbage = await verifyTimestamps(NOTE, [{ authority: 'tsa-a', token: 'not base64!' }], ts(1));
    expect(garbage.failed).toEqual([{ authority: 'tsa-a', code: 'TSA_MALFORMED' }]);
  }, 30_000);

  it('answers every single-byte mutation and truncation of a token with success or a TSA_* ParleyError, never another error', async () => {
    const good = await verifyTimestampToken(tokenA, { imprint, authorities: [a.authority] });
    let seed = 12345;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    const codes = new Set<string>();
    for (let i = 0; i < 120; i++) {
      const t = i % 10 === 9 ? tokenA.slice(0, rand(tokenA.length)) : tokenA.slice();
      if (i % 10 !== 9) {
        const at = rand(t.length);
        t[at] = t[at]! ^ (1 << rand(8));
      }
      try {
        // A flip outside what is signed and used (e.g. the CA copy the token carries) may still verify: same time, same serial.
        const v = await verifyTimestampToken(t, { imprint, authorities: [a.authority] });
        expect([v.genTime, v.serial]).toEqual([good.genTime, good.serial]);
      } catch (e) {
        expect(e).toBeInstanceOf(ParleyError);
        expect((e as ParleyError).code).toMatch(/^TSA_/);
        codes.add((e as ParleyError).code);
      }
    }
    expect(codes.has('TSA_MALFORMED') && codes.has('TSA_SIGNATURE')).toBe(true);
  }, 60_000);

  it('parses the wire form strictly: sorted by authority, one each, canonical base64', () => {
    const w = formatTimestampToken('tsa-a', tokenA);
    expect(parseTimestampTokens([w, formatTimestampToken('tsa-b', tokenA)])).toHaveLength(2);
    for (const bad of [[w, w], [formatTimestampToken('tsa-b', tokenA), w], [{ ...w, token: 'AA' }], [{ ...w, authority: 'TSA' }], [{ ...w, extra: 1 }], w]) {
      assertThrowsCode(() => parseTimestampTokens(bad), ParseError, 'TSA_MALFORMED');
    }
  });
});

describe('RFC 3161 tokens from TSAs with bad certificates (real openssl)', () => {
  const imprint = timestampImprint(NOTE);
  const made: TestTsa[] = [];
  afterAll(async () => {
    await Promise.all(made.map((t) => t.close()));
  });
  const cases: [string, Parameters<typeof makeTestTsa>[0], ErrorCode][] = [
    ['TSA_EXPIRED: a TSA certificate that expired (valid only in 2020)', { certificate: 'expired' }, 'TSA_EXPIRED'],
    ['TSA_EKU: a TSA certificate without extended key usage', { certificate: 'no-eku' }, 'TSA_EKU'],
    ['TSA_EKU: timeStamping not marked critical', { certificate: 'eku-not-critical' }, 'TSA_EKU'],
    ['TSA_EKU: timeStamping plus another purpose', { certificate: 'eku-extra' }, 'TSA_EKU'],
    ['TSA_UNTRUSTED: a TSA of another CA than the accord lists', { untrusted: true }, 'TSA_UNTRUSTED'],
    ['TSA_UNTRUSTED: a TSA certificate issued by a certificate that is no CA (RFC 5280 §6.1.4 (k))', { chain: 'leaf-issued' }, 'TSA_UNTRUSTED'],
    ['TSA_POLICY: a TSA stamping under another policy than the accord lists', { authorityPolicy: '1.3.6.1.4.1.99999.3161.7' }, 'TSA_POLICY'],
    ['TSA_SIGNATURE: signed attributes without the ESS signing-certificate (RFC 3161 §2.4.1)', { noEss: true }, 'TSA_SIGNATURE'],
  ];
  it('verifies an ESS SigningCertificate v1 (SHA-1 ESSCertID, RFC 2634) token, openssl\u2019s older default', async () => {
    const tsa = await makeTestTsa({ essCertIdAlg: 'sha1', keyType: 'rsa' });
    made.push(tsa);
    const { token } = await tsa.stampData(NOTE);
    await expect(verifyTimestampToken(token, { imprint, authorities: [tsa.authority] })).resolves.toMatchObject({ authority: 'test-tsa' });
  }, 30_000);
  it('verifies a TSA certificate issued by an intermediate CA the token carries (root → CA → TSA)', async () => {
    const tsa = await makeTestTsa({ chain: 'intermediate' });
    made.push(tsa);
    const { token } = await tsa.stampData(NOTE);
    await expect(verifyTimestampToken(token, { imprint, authorities: [tsa.authority] })).resolves.toMatchObject({ authority: 'test-tsa' });
  }, 30_000);
  for (const [title, opts, code] of cases) {
    it(title, async () => {
      const tsa = await makeTestTsa(opts);
      made.push(tsa);
      const { token } = await tsa.stampData(NOTE);
      await expectCode(verifyTimestampToken(token, { imprint, authorities: [tsa.authority] }), VerificationError, code);
    }, 30_000);
  }
});
