/**
 * Node-to-node request signatures (src/federation/request.ts): the pinned
 * base string and header of test/vectors/parley/fork-v1.json (the base was
 * assembled by hand from the documented layout), every rejection the module
 * doc lists, mutation of every byte, and the nonce cache's fail-closed bound.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AccordParty,
  type SignedAccord,
  type VerifiedAccord,
  MemoryNonceCache,
  ParseError,
  VerificationError,
  draftAccord,
  encodeUtf8,
  formatBase64,
  formatRequestSignature,
  formatVerifierKey,
  getCrypto,
  parseBase64,
  parseHex,
  parseRequestSignature,
  requestSigningBase,
  signAccord,
  signRequest,
  signerKeyFromSeed,
  verifierKeyOf,
  verifyAccord,
  verifyRequest,
} from '../src/index.js';
import { providers, useProvider } from './helpers/providers.js';
import { assertThrowsCode, onlyParleyErrors } from './helpers/assert.js';
import { OWN_VECTORS_DIR } from './helpers/vectors.js';
import { FORK_V1, channelAccord, logKey } from './helpers/fork.js';

interface RequestVector {
  request: { bodyHex: string; base: string; header: string };
}

const vec = JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'parley/fork-v1.json'), 'utf8')) as RequestVector;
const R = FORK_V1.request;
const body = parseHex(vec.request.bodyHex);

/** A three-party accord (US, CN, EU) from fixed seeds, so a request can be meant for someone else. */
function threeParties(): { accord: VerifiedAccord; sign: (id: string) => (m: Uint8Array) => Uint8Array } {
  const ids = ['CN', 'EU', 'US'];
  const keys = new Map(ids.map((id) => [id, signerKeyFromSeed(`${id.toLowerCase()}.three.example/log`, getCrypto().sha256(encodeUtf8(`request test seed ${id}`)))]));
  const party = (id: string): AccordParty => ({
    id,
    names: { en: id, 'zh-CN': id },
    urls: [`https://${id.toLowerCase()}.three.example`],
    logKey: formatVerifierKey(verifierKeyOf(keys.get(id)!)),
    hpkeKey: formatBase64(new Uint8Array(32).fill(9)),
  });
  let s: SignedAccord = { accord: draftAccord({ name: 'three', parties: ids.map(party), created: new Date(Date.UTC(2026, 10, 1)) }), signatures: [] };
  for (const id of ids) s = signAccord(s, id, keys.get(id)!);
  return { accord: verifyAccord(s), sign: (id) => getCrypto().ed25519Signer(keys.get(id)!.seed) };
}

describe.each(providers)('request signatures with $name', (provider) => {
  useProvider(provider);
  const accord = () => channelAccord();
  const usSigner = () => getCrypto().ed25519Signer(logKey('US').seed);
  const sign = (over: Partial<Parameters<typeof signRequest>[0]> = {}) =>
    signRequest({ accordId: accord().id, from: 'US', to: 'CN', method: R.method, path: R.path, body, signer: usSigner(), now: R.created, ...over });
  const verify = (header: string | undefined, over: Partial<Parameters<typeof verifyRequest>[0]> = {}) =>
    verifyRequest({ header, accord: accord(), to: 'CN', method: R.method, path: R.path, body, now: R.created, seen: new MemoryNonceCache(), ...over });

  it('reproduces the pinned signing base and header, and the signature checks under the raw US key', () => {
    const nonce = Buffer.from(R.nonceHex, 'hex').toString('base64url');
    const digest = createHash('sha256').update(body).digest('base64');
    const handmade = `parley/request/v1\n${accord().id}\nUS\nCN\n${R.method}\n${R.path}\n${R.created}\n${nonce}\n${digest}`;
    expect(vec.request.base).toBe(handmade);
    expect(requestSigningBase({ accordId: accord().id, from: 'US', to: 'CN', method: R.method, path: R.path, created: R.created, nonce, body })).toBe(handmade);
    expect(sign({ nonce: parseHex(R.nonceHex) })).toBe(vec.request.header);
    const sig = parseRequestSignature(vec.request.header).sig;
    expect(getCrypto().ed25519Verifier(logKey('US').publicKey)(encodeUtf8(handmade), parseBase64(sig))).toBe(true);
    expect(verify(vec.request.header)).toEqual({ party: 'US', created: R.created, nonce });
  });

  it('accepts created within ± the skew and rejects it outside', () => {
    const h = vec.request.header;
    for (const d of [-60, -1, 0, 1, 60]) expect(verify(h, { now: R.created + d }).party).toBe('US');
    for (const d of [-61, 61, 1e6]) assertThrowsCode(() => verify(h, { now: R.created + d }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    expect(verify(h, { now: R.created + 300, maxSkewSeconds: 300 }).party).toBe('US');
    expect(() => verify(h, { maxSkewSeconds: 0 })).toThrow(RangeError);
  });

  it('rejects a replayed nonce, but not a fresh one', () => {
    const seen = new MemoryNonceCache();
    const h = sign();
    expect(verify(h, { seen }).party).toBe('US');
    assertThrowsCode(() => verify(h, { seen, now: R.created + 30 }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    expect(verify(sign(), { seen }).party).toBe('US');
    // A forged request does not burn the nonce it carries.
    const s = parseRequestSignature(sign({ nonce: new Uint8Array(16).fill(1) }));
    const forged = formatRequestSignature({ ...s, sig: formatBase64(new Uint8Array(64)) });
    assertThrowsCode(() => verify(forged, { seen }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    expect(verify(formatRequestSignature(s), { seen }).party).toBe('US');
  });

  it('rejects what the signature does not cover as signed: body, method, target, recipient, channel', () => {
    const h = vec.request.header;
    const other = body.slice();
    other[0]! ^= 1;
    assertThrowsCode(() => verify(h, { body: other }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => verify(h, { body: new Uint8Array() }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => verify(h, { method: 'PUT' }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => verify(h, { method: 'post' }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => verify(h, { path: '/v1/federation/entries?since=8' }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => verify(h, { path: '/v1/federation/entries?since=7\n' }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => verify(h, { to: 'US' }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    let other2: SignedAccord = { accord: { ...accord().accord, name: 'another-channel' }, signatures: [] };
    other2 = signAccord(signAccord(other2, 'US', logKey('US')), 'CN', logKey('CN'));
    assertThrowsCode(() => verify(h, { accord: verifyAccord(other2) }), VerificationError, 'REQUEST_UNAUTHENTICATED');
  });

  it('rejects a request meant for another party, a party not in the accord, and a key not in the accord', () => {
    const three = threeParties();
    const h = signRequest({ accordId: three.accord.id, from: 'US', to: 'CN', method: 'GET', path: '/v1/checkpoint', body: new Uint8Array(), signer: three.sign('US'), now: R.created });
    const at = (to: string) => verifyRequest({ header: h, accord: three.accord, to, method: 'GET', path: '/v1/checkpoint', body: new Uint8Array(), now: R.created, seen: new MemoryNonceCache() });
    expect(at('CN').party).toBe('US');
    assertThrowsCode(() => at('EU'), VerificationError, 'REQUEST_UNAUTHENTICATED');
    const stranger = signerKeyFromSeed('fr.example/log', new Uint8Array(32).fill(3));
    const fr = sign({ from: 'FR', signer: getCrypto().ed25519Signer(stranger.seed) });
    assertThrowsCode(() => verify(fr), VerificationError, 'REQUEST_UNAUTHENTICATED');
    const impostor = sign({ signer: getCrypto().ed25519Signer(stranger.seed) });
    assertThrowsCode(() => verify(impostor), VerificationError, 'REQUEST_UNAUTHENTICATED');
    const byCN = sign({ signer: getCrypto().ed25519Signer(logKey('CN').seed) });
    assertThrowsCode(() => verify(byCN), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => verify(undefined), VerificationError, 'REQUEST_UNAUTHENTICATED');
    assertThrowsCode(() => verify(''), VerificationError, 'REQUEST_UNAUTHENTICATED');
  });

  it('fails under every single-byte change of the header, target or body', () => {
    const h = vec.request.header;
    for (let i = 0; i < h.length; i++) {
      for (const flip of [0x01, 0x02, 0x20, 0x40]) {
        const m = h.slice(0, i) + String.fromCharCode(h.charCodeAt(i) ^ flip) + h.slice(i + 1);
        const e = onlyParleyErrors(() => verify(m));
        expect(e?.code, `header byte ${i} ^ ${flip}`).toMatch(/^REQUEST_(SIGNATURE_MALFORMED|UNAUTHENTICATED)$/);
      }
      expect(onlyParleyErrors(() => verify(h.slice(0, i) + h.slice(i + 1)))).toBeDefined();
    }
    for (let i = 0; i < R.path.length; i++) {
      const m = R.path.slice(0, i) + String.fromCharCode(R.path.charCodeAt(i) ^ 1) + R.path.slice(i + 1);
      assertThrowsCode(() => verify(h, { path: m }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    }
    const step = provider.name === 'node:crypto' ? 1 : 7;
    for (let i = 0; i < body.length; i += step) {
      const m = body.slice();
      m[i]! ^= 0x80;
      assertThrowsCode(() => verify(h, { body: m }), VerificationError, 'REQUEST_UNAUTHENTICATED');
    }
  });
});

describe('Parley-Signature header grammar', () => {
  const h = vec.request.header;
  const s = parseRequestSignature(h);

  it('accepts exactly one spelling', () => {
    const bad = [
      h.replace('party=US', 'party=us'),
      h.replace('party=US', 'party=U'),
      h.replace(', created', ',created'),
      h.replace(', created', ',  created'),
      h.replace(`created=${s.created}`, `created=0${s.created}`),
      h.replace(`created=${s.created}`, `created=+${s.created}`),
      h.replace(`created=${s.created}`, 'created=99999999999999999'),
      h.replace(`nonce=${s.nonce}`, `nonce=${s.nonce}A`),
      h.replace(`nonce=${s.nonce}`, `nonce=${s.nonce.slice(0, -1)}x`), // stray bits in the last character
      h.replace(`nonce=${s.nonce}`, `nonce=${s.nonce}==`),
      h.replace(`nonce=${s.nonce}`, `nonce=${s.nonce.replace('A', '+')}`),
      h.replace(`sig=${s.sig}`, `sig=${s.sig.slice(0, -2)}`),
      h.replace(`sig=${s.sig}`, `sig=${s.sig.slice(0, -3)}B==`),
      `${h} `,
      ` ${h}`,
      `${h}, extra=1`,
      `created=${s.created}, party=US, nonce=${s.nonce}, sig=${s.sig}`,
      h.replaceAll(', ', ',\t'),
      h.toLowerCase(),
      'x'.repeat(300),
      'party=US',
    ];
    for (const b of bad) assertThrowsCode(() => parseRequestSignature(b), ParseError, 'REQUEST_SIGNATURE_MALFORMED');
    expect(formatRequestSignature(s)).toBe(h);
    assertThrowsCode(() => formatRequestSignature({ ...s, created: 1.5 }), ParseError, 'REQUEST_SIGNATURE_MALFORMED');
    assertThrowsCode(() => formatRequestSignature({ ...s, created: -1 }), ParseError, 'REQUEST_SIGNATURE_MALFORMED');
  });

  it('refuses to sign what has no signing base', () => {
    const ok = { accordId: channelAccord().id, from: 'US', to: 'CN', method: 'GET', path: '/x', body: new Uint8Array(), signer: () => new Uint8Array(64), now: 1 };
    expect(signRequest(ok)).toMatch(/^party=US, created=1, nonce=[A-Za-z0-9_-]{22}, sig=A{86}==$/);
    for (const over of [{ method: 'get' }, { path: 'x' }, { path: '/a b' }, { path: '/é' }, { from: 'us' }, { accordId: 'AB' }, { nonce: new Uint8Array(15) }, { now: -5 }]) {
      assertThrowsCode(() => signRequest({ ...ok, ...over }), ParseError, 'REQUEST_SIGNATURE_MALFORMED');
    }
  });

  it('round-trips every header it formats (property)', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[A-Z][A-Z0-9-]{1,15}$/),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 16, maxLength: 16 }),
        fc.uint8Array({ minLength: 64, maxLength: 64 }),
        (party, created, nonce, sig) => {
          const text = formatRequestSignature({ party, created, nonce: Buffer.from(nonce).toString('base64url'), sig: formatBase64(sig) });
          expect(formatRequestSignature(parseRequestSignature(text))).toBe(text);
        },
      ),
    );
  });
});

describe('MemoryNonceCache', () => {
  it('remembers nonces until they expire, then forgets them', () => {
    const c = new MemoryNonceCache(10);
    c.add('US a', 160, 100);
    expect(c.has('US a', 160, 100)).toBe(true);
    expect(c.has('US a', 160, 160)).toBe(true);
    expect(c.has('US a', 160, 161)).toBe(false);
    expect(c.has('US b', 160, 100)).toBe(false);
    c.add('US b', 300, 200);
    expect(c.size).toBe(1);
  });

  it('stays bounded and fails closed: a nonce evicted while live still reads as seen', () => {
    const c = new MemoryNonceCache(3);
    for (let i = 0; i < 5; i++) c.add(`US n${i}`, 160 + i, 100);
    expect(c.size).toBe(3);
    // n0 and n1 were evicted while live: anything expiring at or before 161 is refused.
    expect(c.has('US n0', 160, 100)).toBe(true);
    expect(c.has('US never', 161, 100)).toBe(true);
    expect(c.has('US fresh', 162, 100)).toBe(false);
    expect(c.has('US n4', 164, 100)).toBe(true);
    // Expired entries are dropped without raising the floor.
    const d = new MemoryNonceCache(2);
    d.add('a', 10, 0);
    d.add('b', 11, 0);
    d.add('c', 100, 50);
    d.add('e', 101, 50);
    expect(d.has('z', 12, 50)).toBe(false);
    expect(() => new MemoryNonceCache(0)).toThrow(RangeError);
  });
});
