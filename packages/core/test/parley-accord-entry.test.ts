/**
 * Accords and entries: the channel document, the signed envelope, and sealed
 * bodies — against our own pinned vectors (test/vectors/parley/channel-v1.json,
 * regenerated only on purpose by test/vectors/parley/make-channel-v1.ts) and
 * by mutation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Accord,
  type Envelope,
  type SignedAccord,
  type VerifiedAccord,
  accordId,
  checkDisclosure,
  draftAccord,
  formatSignedAccord,
  openBody,
  parseEntry,
  parseSignedAccord,
  sealBody,
  signAccord,
  signEntry,
  verifyAccord,
  verifyEntry,
} from '../src/index.js';
import { ParleyError, ParseError, VerificationError } from '../src/errors.js';
import { encodeUtf8, formatHex, parseBase64 } from '../src/encoding.js';
import { canonicalize, canonicalizeToBytes } from '../src/cjson.js';
import { ENTRY_CONTEXT, type SignedEntry } from '../src/entry/envelope.js';
import { getCrypto } from '../src/crypto/provider.js';
import { signerKeyFromSeed } from '../src/note/key.js';
import { hpkeDeriveKeyPair } from '../src/envelope/hpke.js';
import { providers, useProvider } from './helpers/providers.js';
import { assertThrowsCode, onlyParleyErrors } from './helpers/assert.js';
import { OWN_VECTORS_DIR } from './helpers/vectors.js';

interface ChannelVector {
  description: string;
  accord: SignedAccord;
  accordId: string;
  entry: { envelope: Envelope; bytesHex: string; leafHashHex: string };
  seeds: Record<string, { log: string; hpke: string }>;
}

const vec = JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'parley/channel-v1.json'), 'utf8')) as ChannelVector;

function partyKeys(id: string, origin: string) {
  const s = vec.seeds[id]!;
  const log = signerKeyFromSeed(origin, parseBase64(s.log));
  const hpke = hpkeDeriveKeyPair(parseBase64(s.hpke));
  return { log, hpke };
}

describe.each(providers)('accord and entries with $name', (provider) => {
  useProvider(provider);
  const us = partyKeys('US', 'us.parley.example/log');
  const cn = partyKeys('CN', 'cn.parley.example/log');

  it('reproduces the pinned accord, its id and both signatures', () => {
    const accord = vec.accord.accord;
    expect(accordId(accord)).toBe(vec.accordId);
    let signed: SignedAccord = { accord, signatures: [] };
    signed = signAccord(signed, 'US', us.log);
    signed = signAccord(signed, 'CN', cn.log);
    expect(signed.signatures).toEqual(vec.accord.signatures);
    const v = verifyAccord(parseSignedAccord(formatSignedAccord(signed)));
    expect(v.id).toBe(vec.accordId);
    expect(v.complete).toBe(true);
    expect(v.signedBy).toEqual(['CN', 'US']);
    // The verified signatures travel with the accord, so a reader can check them again.
    expect(v.signatures).toEqual(vec.accord.signatures);
  });

  it('refuses an accord that a party has not signed, or whose text changed after signing', () => {
    const accord = vec.accord.accord;
    const half = signAccord({ accord, signatures: [] }, 'US', us.log);
    assertThrowsCode(() => verifyAccord(half), VerificationError, 'ACCORD_UNSIGNED');
    expect(verifyAccord(half, { requireAll: false }).signedBy).toEqual(['US']);
    const changed: Accord = { ...accord, heartbeatSeconds: accord.heartbeatSeconds + 1 };
    assertThrowsCode(() => verifyAccord({ accord: changed, signatures: vec.accord.signatures }), VerificationError, 'SIGNATURE_INVALID');
    assertThrowsCode(() => signAccord({ accord, signatures: [] }, 'US', cn.log), ParseError, 'ACCORD_MALFORMED');
    assertThrowsCode(() => signAccord({ accord, signatures: [] }, 'FR', us.log), ParseError, 'ACCORD_MALFORMED');
  });

  it('reproduces the pinned entry byte for byte and verifies it', () => {
    const accord = verifyAccord(vec.accord);
    const signed = signEntry(vec.entry.envelope, getCrypto().ed25519Signer(us.log.seed));
    expect(formatHex(signed.bytes)).toBe(vec.entry.bytesHex);
    expect(formatHex(signed.leafHash)).toBe(vec.entry.leafHashHex);
    const v = verifyEntry(signed.bytes, accord);
    expect(v.entry.from.party).toBe('US');
  });
});

describe('accord shape', () => {
  const accord = vec.accord.accord;
  it('rejects unknown or missing members, unsorted parties and out-of-range values', () => {
    const bad: unknown[] = [
      { ...accord, extra: 1 },
      { ...accord, v: 2 },
      { ...accord, parties: [...accord.parties].reverse() },
      { ...accord, parties: [accord.parties[0]] },
      { ...accord, amendmentQuorum: 3 },
      { ...accord, amendmentQuorum: 0 },
      { ...accord, heartbeatSeconds: 0 },
      { ...accord, name: 'Has Spaces' },
      { ...accord, created: '2026-13-01T00:00:00.000Z' },
      { ...accord, taxonomy: { ...accord.taxonomy, sha256: 'ABC' } },
      { ...accord, parties: [{ ...accord.parties[0]!, hpkeKey: 'AAAA' }, accord.parties[1]] },
      { ...accord, parties: [{ ...accord.parties[0]!, logKey: accord.parties[1]!.logKey }, accord.parties[1]] },
      { ...accord, parties: [{ ...accord.parties[0]!, id: 'c' }, accord.parties[1]] },
    ];
    for (const b of bad) assertThrowsCode(() => verifyAccord({ accord: b as Accord, signatures: [] }, { requireAll: false }), ParseError, 'ACCORD_MALFORMED');
  });
  it('parses accord files strictly and never crashes on garbage (property)', () => {
    const text = formatSignedAccord(vec.accord);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: text.length - 1 }), fc.string({ maxLength: 3 }), (at, ins) => {
        const mutated = text.slice(0, at) + ins + text.slice(at + 1);
        const e = onlyParleyErrors(() => verifyAccord(parseSignedAccord(mutated)));
        if (mutated !== text && e === undefined) {
          // Whitespace-only changes keep the same accord; anything else must fail.
          expect(accordId(parseSignedAccord(mutated).accord)).toBe(vec.accordId);
        }
      }),
      { numRuns: 400 },
    );
  });
  it('drafts with the taxonomy defaults', () => {
    const a = draftAccord({ name: 'x-y', parties: accord.parties, created: new Date(Date.UTC(2026, 0, 1)) });
    expect(a.deadlines.ackSeconds).toEqual({ FLASH: 600, IMMEDIATE: 1800, PRIORITY: 10800, ROUTINE: 21600 });
    expect(a.deadlines.receiptSeconds).toBe(60);
    expect(a.amendmentQuorum).toBe(2);
    expect(a.redLines.length).toBeGreaterThan(0);
  });
});

describe('entries', () => {
  let accord: VerifiedAccord;
  const us = partyKeys('US', 'us.parley.example/log');
  const cn = partyKeys('CN', 'cn.parley.example/log');
  const env = (): Envelope => vec.entry.envelope;
  const signUs = () => getCrypto().ed25519Signer(us.log.seed);

  it('rejects every single-byte change of a signed entry with a ParleyError', () => {
    accord = verifyAccord(vec.accord);
    const { bytes } = signEntry(env(), signUs());
    let rejected = 0;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes.slice();
      b[i] = b[i]! ^ 0x01;
      const e = onlyParleyErrors(() => verifyEntry(b, accord));
      expect(e, `byte ${i}`).toBeDefined();
      rejected++;
    }
    expect(rejected).toBe(bytes.length);
  });

  it('signs into exactly the canonical bytes of the signed entry, whatever the body holds', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.string(), (clear, text) => {
        const body = { clear: { text, time: 'x,"time":"y"', nested: { time: 1, seq: 2, sig: 3 }, extra: clear } };
        const e = signEntry({ ...env(), body } as Envelope, signUs());
        expect(formatHex(e.bytes)).toBe(formatHex(canonicalizeToBytes(e.entry)));
      }),
      { numRuns: 200 },
    );
  });

  it('signs and verifies bodies with members named time, sig, to and v at every depth; signs exactly JCS(envelope); same bytes as the former text search', () => {
    accord = verifyAccord(vec.accord);
    const usMember = accord.party('US')!;
    const namesake = fc.constantFrom('time', 'sig', 'to', 'v', 'type', 'seq', ',"time":', ',"sig":"');
    const tricky = fc.letrec((tie) => ({
      node: fc.oneof({ depthSize: 'small' }, fc.jsonValue({ maxDepth: 1 }), fc.dictionary(namesake, tie('node')), fc.array(tie('node'), { maxLength: 3 })),
    })).node;
    /** Today's signEntry before the change: sig inserted before the last ',"time":' of JCS(envelope). */
    const former = (e: Envelope, sig: string) => {
      const text = canonicalize(e);
      const at = text.lastIndexOf(',"time":');
      return `${text.slice(0, at)},"sig":"${sig}"${text.slice(at)}`;
    };
    fc.assert(
      fc.property(tricky, fc.dictionary(namesake, tricky), (deep, top) => {
        const body = { clear: { ...top, time: 'x,"time":"y"', sig: { sig: { time: deep } }, to: [{ v: 1, to: ['US'] }], v: deep, nested: { time: 1, seq: 2, sig: 3, to: 4, v: 5 } } };
        const envelope = { ...env(), body } as Envelope;
        const e = signEntry(envelope, signUs());
        expect(formatHex(e.bytes)).toBe(formatHex(canonicalizeToBytes(e.entry)));
        expect(new TextDecoder().decode(e.bytes)).toBe(former(envelope, e.entry.sig));
        const back = verifyEntry(e.bytes, accord);
        // The same entry (canonically: a body's -0 is written 0, RFC 8785 §3.2.2.3, and parses back as 0).
        expect(canonicalize(back.entry)).toBe(canonicalize(e.entry));
        expect(formatHex(back.leafHash)).toBe(formatHex(e.leafHash));
        // The signature covers ENTRY_CONTEXT || JCS(entry without sig), checked independently of verifyEntry.
        const { sig, ...unsigned } = e.entry as SignedEntry;
        expect(usMember.verify(encodeUtf8(ENTRY_CONTEXT + canonicalize(unsigned)), parseBase64(sig))).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  it('accepts any type name of the open syntax and refuses other names; governance is clear, an approval references its proposal', () => {
    accord = verifyAccord(vec.accord);
    for (const type of ['future.thing', 'a', 'a-1.b-2.c.d', `${'x'.repeat(32)}.${'y'.repeat(32)}`]) {
      const e = signEntry({ ...env(), type }, signUs());
      expect(verifyEntry(e.bytes, accord).entry.type).toBe(type);
    }
    for (const type of ['', 'Future', '1thing', 'a..b', 'a.b.c.d.e', '.a', 'a.', 'x'.repeat(33), 'a_b', 'a.-b', 'a b']) {
      assertThrowsCode(() => signEntry({ ...env(), type }, signUs()), ParseError, 'ENTRY_MALFORMED');
    }
    const ref = { party: 'CN', index: 0, hash: 'A'.repeat(43) + '=' };
    assertThrowsCode(() => signEntry({ ...env(), type: 'accord.approval', refs: [] }, signUs()), ParseError, 'ENTRY_MALFORMED');
    expect(signEntry({ ...env(), type: 'accord.approval', refs: [ref] }, signUs()).entry.type).toBe('accord.approval');
    for (const type of ['accord.amendment', 'accord.approval', 'accord.activation']) {
      const sealed = { aead: 'AES-256-GCM', commitment: 'A'.repeat(43) + '=', recipients: [{ party: 'CN', enc: 'AAAA', ct: 'AAAA' }, { party: 'US', enc: 'AAAA', ct: 'AAAA' }] } as const;
      assertThrowsCode(() => signEntry({ ...env(), type, refs: [ref], marking: 'TLP:AMBER', body: { sealed } }, signUs()), ParseError, 'ENTRY_MALFORMED');
    }
  });

  it('verifies with the member it is given (the key of the entry\'s epoch), only the sender\'s', () => {
    accord = verifyAccord(vec.accord);
    const usMember = accord.party('US')!;
    const cnMember = accord.party('CN')!;
    const good = signEntry(env(), signUs());
    expect(verifyEntry(good.bytes, accord, usMember).entry).toEqual(good.entry);
    // US under a rotated key: signed by another key, verified by a member carrying that key.
    const rotated = signEntry(env(), getCrypto().ed25519Signer(cn.log.seed));
    assertThrowsCode(() => verifyEntry(rotated.bytes, accord), VerificationError, 'SIGNATURE_INVALID');
    const usRotated = { ...usMember, verify: (m: Uint8Array, s: Uint8Array) => cnMember.verify(m, s) };
    expect(verifyEntry(rotated.bytes, accord, usRotated).entry.from.party).toBe('US');
    assertThrowsCode(() => verifyEntry(good.bytes, accord, usRotated), VerificationError, 'SIGNATURE_INVALID');
    // Another party's member is refused, whatever its key.
    assertThrowsCode(() => verifyEntry(good.bytes, accord, cnMember), VerificationError, 'ENTRY_INVALID');
  });

  it('rejects non-canonical spellings of a valid entry', () => {
    const { entry } = signEntry(env(), signUs());
    const pretty = encodeUtf8(JSON.stringify(entry, null, 1));
    assertThrowsCode(() => parseEntry(pretty), ParseError, 'ENTRY_MALFORMED');
  });

  it('rejects an entry for another channel, from or to a stranger, or signed by another party', () => {
    accord = verifyAccord(vec.accord);
    const other = { ...env(), accord: '0'.repeat(64) };
    assertThrowsCode(() => verifyEntry(signEntry(other, signUs()).bytes, accord), VerificationError, 'ENTRY_INVALID');
    const stranger = { ...env(), to: ['FR'] };
    assertThrowsCode(() => verifyEntry(signEntry(stranger, signUs()).bytes, accord), VerificationError, 'ENTRY_INVALID');
    const forged = signEntry(env(), getCrypto().ed25519Signer(cn.log.seed));
    assertThrowsCode(() => verifyEntry(forged.bytes, accord), VerificationError, 'SIGNATURE_INVALID');
  });

  it('enforces the envelope rules', () => {
    const bad: Envelope[] = [
      { ...env(), to: [] },
      { ...env(), to: ['US'] },
      { ...env(), to: ['CN', 'CN'] },
      { ...env(), marking: 'TLP:AMBER' },
      { ...env(), type: 'ack', refs: [] },
      { ...env(), from: { party: 'US', officer: 'Alice Smith' } },
      { ...env(), time: '2026-11-26T03:00:00Z' },
      { ...env(), seq: -1 },
    ];
    for (const b of bad) assertThrowsCode(() => signEntry(b, signUs()), ParseError, 'ENTRY_MALFORMED');
  });

  it('seals a body to every recipient and the sender; each opens it, an auditor checks a disclosure', () => {
    accord = verifyAccord(vec.accord);
    const body = { kind: 'initial', incident: 'US-2026-0007', title: '模型权重外泄', severity: 5 };
    const sealed = sealBody({
      accordId: accord.id,
      from: 'US',
      recipients: [
        { party: 'US', publicKey: us.hpke.publicKey },
        { party: 'CN', publicKey: cn.hpke.publicKey },
      ],
      body,
    });
    const e = signEntry({ ...env(), marking: 'TLP:AMBER', body: { sealed } }, signUs());
    const back = verifyEntry(e.bytes, accord).entry;
    if (!('sealed' in back.body)) throw new Error('want sealed');
    const sealedBack = back.body.sealed;
    // The log shows no plaintext.
    expect(new TextDecoder().decode(e.bytes)).not.toContain('US-2026-0007');
    for (const [p, k] of [['US', us], ['CN', cn]] as const) {
      const opened = openBody(back.body.sealed, { accordId: accord.id, from: 'US', party: p, privateKey: k.hpke.privateKey });
      expect(opened.body).toEqual(body);
      expect(checkDisclosure(back.body.sealed, body, opened.salt)).toBe(true);
      expect(checkDisclosure(back.body.sealed, { ...body, severity: 4 }, opened.salt)).toBe(false);
    }
    // CN's key does not open US's copy; a copy bound to another sender or channel does not open.
    assertThrowsCode(() => openBody(sealedBack, { accordId: accord.id, from: 'US', party: 'US', privateKey: cn.hpke.privateKey }), VerificationError, 'HPKE_OPEN_FAILED');
    assertThrowsCode(() => openBody(sealedBack, { accordId: accord.id, from: 'CN', party: 'CN', privateKey: cn.hpke.privateKey }), VerificationError, 'HPKE_OPEN_FAILED');
    assertThrowsCode(() => openBody(sealedBack, { accordId: '1'.repeat(64), from: 'US', party: 'CN', privateKey: cn.hpke.privateKey }), VerificationError, 'HPKE_OPEN_FAILED');
    assertThrowsCode(() => openBody(sealedBack, { accordId: accord.id, from: 'US', party: 'FR', privateKey: cn.hpke.privateKey }), ParseError, 'ENTRY_MALFORMED');
    // A sealed entry whose recipients are not exactly to + sender is malformed.
    const onlyCn = { ...sealed, recipients: sealed.recipients.filter((r) => r.party === 'CN') };
    assertThrowsCode(() => signEntry({ ...env(), marking: 'TLP:AMBER', body: { sealed: onlyCn } }, signUs()), ParseError, 'ENTRY_MALFORMED');
  });

  it('never throws anything but ParleyError on random input (property)', () => {
    accord = verifyAccord(vec.accord);
    const good = signEntry(env(), signUs()).bytes;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), fc.integer({ min: 0, max: good.length }), (junk, at) => {
        onlyParleyErrors(() => verifyEntry(junk, accord));
        const spliced = new Uint8Array([...good.subarray(0, at), ...junk.subarray(0, 3), ...good.subarray(at + 3)]);
        const err = onlyParleyErrors(() => verifyEntry(spliced, accord));
        if (err === undefined) expect(formatHex(canonicalizeToBytes(parseEntry(spliced)))).toBe(formatHex(spliced));
      }),
      { numRuns: 500 },
    );
    expect(ParleyError).toBeDefined();
  });
});

void draftAccord;
