/**
 * Offline bundles (src/federation/bundle.ts): the pinned vector
 * test/vectors/parley/bundle-v1.json (made by make-bundle-v1.ts, rebuilt here
 * byte for byte with both crypto bindings), the documented signing layout
 * checked independently of our encoder, every single-byte mutation, and one
 * typed error per check.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AccordParty,
  type BundleInput,
  type Envelope,
  type SignedAccord,
  type SignerKey,
  BUNDLE_CONTEXT,
  MAX_BUNDLE_BYTES,
  MAX_BUNDLE_ENTRIES,
  MemoryTree,
  canonicalize,
  decodeUtf8,
  draftAccord,
  encodeUtf8,
  formatBase64,
  formatHex,
  formatVerifierKey,
  getCrypto,
  makeBundle,
  openBundle,
  parseBase64,
  signAccord,
  signCheckpoint,
  signEntry,
  signerKeyFromSeed,
  verifierKeyOf,
  verifyAccord,
  newSigner,
} from '../src/index.js';
import { ParleyError, ParseError, VerificationError } from '../src/errors.js';
import { hpkeDeriveKeyPair } from '../src/envelope/hpke.js';
import { providers, useProvider } from './helpers/providers.js';
import { assertThrowsCode, onlyParleyErrors } from './helpers/assert.js';
import { OWN_VECTORS_DIR } from './helpers/vectors.js';
import { type BundleVectorInput, type ChannelVectorLike, buildBundleVector, buildLog, bundleInput, checkpointNote, cosignNote } from './helpers/bundle.js';

interface BundleVector {
  input: BundleVectorInput;
  checkpoint: string;
  signingMessageSha256: string;
  bundleSha256: string;
  bundle: string;
}

const channel = JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'parley/channel-v1.json'), 'utf8')) as ChannelVectorLike & { entry: { bytesHex: string } };
const vec = JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'parley/bundle-v1.json'), 'utf8')) as BundleVector;
const CREATED = '2026-11-27T08:00:00.000Z';

/** A three-party channel (CN, EU, US) from fixed seeds, for addressing cases a two-party accord cannot express. */
function threeParties() {
  const seed = (label: string) => getCrypto().sha256(encodeUtf8(`parley bundle test seed: ${label}`));
  const keys = new Map<string, SignerKey>();
  const parties: AccordParty[] = ['CN', 'EU', 'US'].map((id) => {
    const log = signerKeyFromSeed(`${id.toLowerCase()}.parley.example/log`, seed(`${id} log`));
    keys.set(id, log);
    return {
      id,
      names: { en: `${id} institute`, 'zh-CN': `${id} 研究所` },
      urls: [`https://${id.toLowerCase()}.parley.example`],
      logKey: formatVerifierKey(verifierKeyOf(log)),
      hpkeKey: formatBase64(hpkeDeriveKeyPair(seed(`${id} hpke`)).publicKey),
    };
  });
  let signed: SignedAccord = { accord: draftAccord({ name: 'three-party', parties, created: new Date(Date.UTC(2026, 10, 1)) }), signatures: [] };
  for (const id of ['CN', 'EU', 'US']) signed = signAccord(signed, id, keys.get(id)!);
  const accord = verifyAccord(signed);
  const message = (from: string, to: string[], text: string): Envelope => ({
    v: 1,
    accord: accord.id,
    from: { party: from, officer: 'alice' },
    to,
    seq: 0,
    time: '2026-11-26T03:00:00.000Z',
    type: 'hotline.message',
    precedence: 'ROUTINE',
    marking: 'TLP:CLEAR',
    refs: [],
    body: { clear: { text } },
  });
  return { accord, key: (id: string) => keys.get(id)!, message };
}

const signerOf = (k: SignerKey) => getCrypto().ed25519Signer(k.seed);

describe.each(providers)('offline bundles with $name', (provider) => {
  useProvider(provider);

  it('rebuilds the pinned bundle byte for byte and opens it', () => {
    const v = buildBundleVector(channel, vec.input);
    expect(v.checkpoint).toBe(vec.checkpoint);
    expect(formatHex(getCrypto().sha256(v.signingMessage))).toBe(vec.signingMessageSha256);
    expect(decodeUtf8(v.bundle)).toBe(vec.bundle);
    expect(formatHex(getCrypto().sha256(v.bundle))).toBe(vec.bundleSha256);
    // Entry 0 is the pinned entry of channel-v1.json.
    expect(formatHex(v.log.entries[0]!.bytes)).toBe(channel.entry.bytesHex);

    const opened = openBundle(encodeUtf8(vec.bundle), v.accord, 'CN');
    expect(opened).toMatchObject({ accordId: v.accord.id, from: 'US', to: 'CN', created: vec.input.created });
    expect(opened.entries.map((e) => e.index)).toEqual([0, 2]);
    expect(opened.entries.map((e) => formatHex(e.leafHash))).toEqual([0, 2].map((i) => formatHex(v.log.entries[i]!.leafHash)));
    expect(opened.checkpoint.checkpoint.treeSize).toBe(3);
    expect(opened.checkpoint.checkpoint.origin).toBe('us.parley.example/log');
    // CN's cosignature is kept, with its time.
    expect(opened.checkpoint.cosignatures.map((c) => [c.name, c.timestamp])).toEqual([['cn.parley.example/log', vec.input.cosignedAt]]);
  });

  it('signs exactly "parley/bundle/v1\\n" || JCS(bundle without sig) — checked without our encoder', () => {
    const parsed = JSON.parse(vec.bundle) as Record<string, unknown>;
    const sig = parseBase64(parsed['sig'] as string);
    delete parsed['sig'];
    // Hand-rolled JCS for this document: only strings, small integers, arrays and objects.
    const jcs = (x: unknown): string =>
      Array.isArray(x) ? `[${x.map(jcs).join(',')}]`
      : typeof x === 'object' && x !== null ? `{${Object.keys(x).sort().map((k) => `${JSON.stringify(k)}:${jcs((x as Record<string, unknown>)[k])}`).join(',')}}`
      : JSON.stringify(x);
    const message = encodeUtf8(`parley/bundle/v1\n${jcs(parsed)}`);
    expect(BUNDLE_CONTEXT).toBe('parley/bundle/v1\n');
    expect(formatHex(getCrypto().sha256(message))).toBe(vec.signingMessageSha256);
    const us = channel.accord.accord.parties.find((p) => p.id === 'US')!;
    const publicKey = parseBase64(us.logKey.split('+')[2]!).subarray(1);
    expect(getCrypto().ed25519Verifier(publicKey)(message, sig)).toBe(true);
    // And the whole file is JCS of itself.
    expect(canonicalize(JSON.parse(vec.bundle))).toBe(vec.bundle);
  });

  it('rejects every single-byte change of a valid bundle with a ParleyError', () => {
    const accord = verifyAccord(channel.accord);
    const bytes = encodeUtf8(vec.bundle);
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes.slice();
      b[i] = b[i]! ^ 0x01;
      expect(onlyParleyErrors(() => openBundle(b, accord, 'CN')), `byte ${i}`).toBeDefined();
    }
  });
});

describe('offline bundle checks', () => {
  const v = buildBundleVector(channel, vec.input);
  const accord = v.accord;
  const good = encodeUtf8(vec.bundle);
  const usSign = signerOf(v.keys.US);

  it('refuses a bundle for another recipient, another accord or from a stranger', () => {
    assertThrowsCode(() => openBundle(good, accord, 'US'), VerificationError, 'BUNDLE_INVALID');
    assertThrowsCode(() => openBundle(good, accord, 'EU'), VerificationError, 'BUNDLE_INVALID');
    assertThrowsCode(() => openBundle(good, threeParties().accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
    // From a party id the accord does not know, signed by US's key.
    const stranger = makeBundle({ ...v.input, from: 'FR' }, usSign);
    assertThrowsCode(() => openBundle(stranger, accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
  });

  it('refuses a bundle signed by another party than its sender', () => {
    const forged = makeBundle(v.input, signerOf(v.keys.CN));
    const e = assertThrowsCode(() => openBundle(forged, accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
    expect(e.cause).toBeUndefined();
  });

  it('refuses a checkpoint that is not the sender\'s, has another origin, or carries a bad cosignature', () => {
    // CN's log checkpoint in US's bundle.
    const cnLog = buildLog('CN', v.keys.CN, []);
    const notSenders = makeBundle({ ...v.input, checkpoint: checkpointNote(cnLog), entries: [] }, usSign);
    const e1 = assertThrowsCode(() => openBundle(notSenders, accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
    expect((e1.cause as ParleyError).code).toBe('NOTE_UNVERIFIED');
    // US's key, but another origin line.
    const other = signCheckpoint({ origin: 'elsewhere.example/log', treeSize: 3, rootHash: v.log.tree.root(), extensions: [] }, newSigner(v.keys.US));
    const e2 = assertThrowsCode(() => openBundle(makeBundle({ ...v.input, checkpoint: other }, usSign), accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
    expect((e2.cause as ParleyError).code).toBe('ORIGIN_MISMATCH');
    // A cosignature by CN's witness key over another checkpoint is a bad signature from a known key.
    const plain = checkpointNote(v.log);
    const wrongBody = cosignNote(plain.replace('\n3\n', '\n4\n'), v.keys.CN, 1);
    const bad = makeBundle({ ...v.input, checkpoint: checkpointNote(v.log, [wrongBody]) }, usSign);
    assertThrowsCode(() => openBundle(bad, accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
  });

  // issue 12: the optional `timestamps` member (tokens are verified by the importer, core tsa).
  it('carries the sender\u2019s stamped checkpoints: absent keeps the bytes; shapes, origin, sizes and order are checked', () => {
    const plain = checkpointNote(v.log);
    const token = formatBase64(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]));
    // None given (or an empty list): the pinned bytes.
    expect(decodeUtf8(makeBundle({ ...v.input, timestamps: [] }, usSign))).toBe(vec.bundle);
    const withTs = makeBundle({ ...v.input, timestamps: [{ checkpoint: plain, tokens: [{ authority: 'tsa-a', token }] }] }, usSign);
    const opened = openBundle(withTs, accord, 'CN');
    expect(opened.timestamps).toEqual([{ checkpoint: plain, tokens: [{ authority: 'tsa-a', token }], treeSize: 3 }]);
    expect(openBundle(good, accord, 'CN').timestamps).toBeUndefined();
    // Covered by the bundle signature like every member.
    const text = decodeUtf8(withTs).replace('"authority":"tsa-a"', '"authority":"tsa-b"');
    assertThrowsCode(() => openBundle(encodeUtf8(text), accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
    // Shapes: tokens sorted and unique, names, base64, closed members.
    for (const bad of [
      [{ checkpoint: plain, tokens: [{ authority: 'tsa-b', token }, { authority: 'tsa-a', token }] }],
      [{ checkpoint: plain, tokens: [{ authority: 'TSA A', token }] }],
      [{ checkpoint: plain, tokens: [{ authority: 'tsa-a', token: 'not base64!' }] }],
    ]) {
      assertThrowsCode(() => makeBundle({ ...v.input, timestamps: bad }, usSign), ParseError, 'BUNDLE_MALFORMED');
    }
    // Another party's checkpoint, a size beyond the bundle's, sizes out of order.
    const cnNote = checkpointNote(buildLog('CN', v.keys.CN, []));
    assertThrowsCode(() => openBundle(makeBundle({ ...v.input, timestamps: [{ checkpoint: cnNote, tokens: [{ authority: 'tsa-a', token }] }] }, usSign), accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
    const bigger = decodeUtf8(signCheckpoint({ origin: 'us.parley.example/log', treeSize: 9, rootHash: v.log.tree.root(), extensions: [] }, newSigner(v.keys.US)));
    assertThrowsCode(() => openBundle(makeBundle({ ...v.input, timestamps: [{ checkpoint: bigger, tokens: [{ authority: 'tsa-a', token }] }] }, usSign), accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
    const twice = { checkpoint: plain, tokens: [{ authority: 'tsa-a', token }] };
    assertThrowsCode(() => openBundle(makeBundle({ ...v.input, timestamps: [twice, twice] }, usSign), accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
  });

  it('ignores signatures from unknown keys on the checkpoint (grease)', () => {
    const grease = signerKeyFromSeed('grease.example/witness', new Uint8Array(32).fill(7));
    const plain = checkpointNote(v.log);
    const cp = checkpointNote(v.log, [cosignNote(plain, grease, 5), cosignNote(plain, v.keys.CN, 6)]);
    const opened = openBundle(makeBundle({ ...v.input, checkpoint: cp }, usSign), accord, 'CN');
    expect(opened.checkpoint.cosignatures.map((c) => c.name)).toEqual(['cn.parley.example/log']);
  });

  it('refuses an entry whose inclusion proof does not match, or beyond the checkpoint', () => {
    const swapped: BundleInput = { ...v.input, entries: [{ ...v.input.entries[0]!, proof: v.input.entries[1]!.proof }] };
    const e = assertThrowsCode(() => openBundle(makeBundle(swapped, usSign), accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
    expect((e.cause as ParleyError).code).toBe('PROOF_INVALID');
    const flipped = v.input.entries[1]!.proof.map((h) => h.slice());
    flipped[0]![0]! ^= 1;
    const e2 = assertThrowsCode(() => openBundle(makeBundle({ ...v.input, entries: [{ ...v.input.entries[1]!, proof: flipped }] }, usSign), accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
    expect((e2.cause as ParleyError).code).toBe('PROOF_INVALID');
    const beyond: BundleInput = { ...v.input, entries: [{ ...v.input.entries[1]!, index: 3 }] };
    assertThrowsCode(() => openBundle(makeBundle(beyond, usSign), accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
  });

  it('refuses an entry whose seq is not its index, even with a valid proof', () => {
    // A "log" whose leaf 0 is an entry saying seq 5.
    const { sig: _sig, ...env } = v.log.entries[0]!.entry;
    void _sig;
    const e = signEntry({ ...env, seq: 5 }, usSign);
    const tree = new MemoryTree();
    tree.append(e.leafHash);
    const log = { party: 'US', key: v.keys.US, tree, entries: [e] };
    const input = bundleInput(log, accord.id, 'CN', CREATED, checkpointNote(log), [0]);
    assertThrowsCode(() => openBundle(makeBundle(input, usSign), accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
  });

  it('refuses an entry not addressed to the recipient, or not from the sender', () => {
    const t = threeParties();
    const us = t.key('US');
    const log = buildLog('US', us, [t.message('US', ['CN'], 'for CN'), t.message('US', ['EU'], 'for EU only'), t.message('US', ['CN', 'EU'], 'for both')]);
    const cp = checkpointNote(log);
    // The right selection opens.
    expect(openBundle(makeBundle(bundleInput(log, t.accord.id, 'CN', CREATED, cp, [0, 2]), signerOf(us)), t.accord, 'CN').entries).toHaveLength(2);
    expect(openBundle(makeBundle(bundleInput(log, t.accord.id, 'EU', CREATED, cp, [1, 2]), signerOf(us)), t.accord, 'EU').entries).toHaveLength(2);
    // EU's entry in a bundle to CN.
    const misaddressed = makeBundle(bundleInput(log, t.accord.id, 'CN', CREATED, cp, [0, 1]), signerOf(us));
    assertThrowsCode(() => openBundle(misaddressed, t.accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
    // An entry EU signed, placed in a tree US signs.
    const euEntry = signEntry(t.message('EU', ['CN'], 'from EU'), signerOf(t.key('EU')));
    const tree = new MemoryTree();
    tree.append(euEntry.leafHash);
    const mixed = { party: 'US', key: us, tree, entries: [euEntry] };
    const e = makeBundle(bundleInput(mixed, t.accord.id, 'CN', CREATED, checkpointNote(mixed), [0]), signerOf(us));
    assertThrowsCode(() => openBundle(e, t.accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
  });

  it('refuses entries that do not verify as entries (wrapped, with the entry error as cause)', () => {
    const t = threeParties();
    // A US-signed entry of another channel, in a valid tree of this one.
    const foreign = signEntry({ ...t.message('US', ['CN'], 'x'), accord: '0'.repeat(64) }, signerOf(t.key('US')));
    const tree = new MemoryTree();
    tree.append(foreign.leafHash);
    const log = { party: 'US', key: t.key('US'), tree, entries: [foreign] };
    const e = assertThrowsCode(() => openBundle(makeBundle(bundleInput(log, t.accord.id, 'CN', CREATED, checkpointNote(log), [0]), signerOf(t.key('US'))), t.accord, 'CN'), VerificationError, 'BUNDLE_INVALID');
    expect((e.cause as ParleyError).code).toBe('ENTRY_INVALID');
  });

  it('accepts an empty bundle: the checkpoint alone', () => {
    const opened = openBundle(makeBundle({ ...v.input, entries: [] }, usSign), accord, 'CN');
    expect(opened.entries).toEqual([]);
    expect(opened.checkpoint.checkpoint.treeSize).toBe(3);
  });

  it('parses strictly: canonical form only, closed members, ordered indexes, sizes capped', () => {
    const parsed = JSON.parse(vec.bundle) as Record<string, unknown>;
    assertThrowsCode(() => openBundle(encodeUtf8(JSON.stringify(parsed, null, 1)), accord, 'CN'), ParseError, 'BUNDLE_MALFORMED');
    assertThrowsCode(() => openBundle(encodeUtf8(`${vec.bundle}\n`), accord, 'CN'), ParseError, 'BUNDLE_MALFORMED');
    assertThrowsCode(() => openBundle(encodeUtf8(`\ufeff${vec.bundle}`), accord, 'CN'), ParseError, 'BUNDLE_MALFORMED');
    const resign = (o: Record<string, unknown>) => {
      const { sig: _sig, ...rest } = o;
      void _sig;
      const sig = formatBase64(usSign(encodeUtf8(`${BUNDLE_CONTEXT}${canonicalize(rest)}`)));
      return encodeUtf8(canonicalize({ ...rest, sig }));
    };
    expect(openBundle(resign(parsed), accord, 'CN').entries).toHaveLength(2);
    const bad: Record<string, unknown>[] = [
      { ...parsed, extra: 1 },
      { ...parsed, v: 2 },
      { ...parsed, type: 'parley/other' },
      { ...parsed, created: '2026-11-27T08:00:00Z' },
      { ...parsed, to: 'US' },
      { ...parsed, entries: [...(parsed['entries'] as unknown[])].reverse() },
      { ...parsed, entries: [(parsed['entries'] as unknown[])[0], (parsed['entries'] as unknown[])[0]] },
      { ...parsed, entries: [{ ...((parsed['entries'] as unknown[])[0] as object), extra: 1 }] },
      { ...parsed, entries: [{ ...((parsed['entries'] as unknown[])[0] as object), proof: ['AAAA'] }] },
      { ...parsed, entries: [{ ...((parsed['entries'] as unknown[])[0] as object), index: -1 }] },
      { ...parsed, accord: (parsed['accord'] as string).toUpperCase() },
    ];
    for (const b of bad) assertThrowsCode(() => openBundle(resign(b), accord, 'CN'), ParseError, 'BUNDLE_MALFORMED');
    // Sizes: the byte cap before anything else, and the entry count.
    assertThrowsCode(() => openBundle(new Uint8Array(MAX_BUNDLE_BYTES + 1), accord, 'CN'), ParseError, 'INPUT_TOO_LARGE');
    const many = Array.from({ length: MAX_BUNDLE_ENTRIES + 1 }, (_, i) => ({ entry: 'AAAA', index: i, proof: [] }));
    assertThrowsCode(() => openBundle(resign({ ...parsed, entries: many }), accord, 'CN'), ParseError, 'INPUT_TOO_LARGE');
  });

  it('makes only well-formed bundles', () => {
    assertThrowsCode(() => makeBundle({ ...v.input, to: 'US' }, usSign), ParseError, 'BUNDLE_MALFORMED');
    assertThrowsCode(() => makeBundle({ ...v.input, entries: [...v.input.entries].reverse() }, usSign), ParseError, 'BUNDLE_MALFORMED');
    assertThrowsCode(() => makeBundle({ ...v.input, created: 'yesterday' }, usSign), ParseError, 'BUNDLE_MALFORMED');
    assertThrowsCode(() => makeBundle({ ...v.input, entries: [{ ...v.input.entries[0]!, proof: [new Uint8Array(31)] }] }, usSign), ParseError, 'BUNDLE_MALFORMED');
    assertThrowsCode(() => makeBundle({ ...v.input, checkpoint: new Uint8Array([0xff]) }, usSign), ParseError, 'BUNDLE_MALFORMED');
  });

  it('never throws anything but ParleyError on spliced or random input (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: good.length }), fc.integer({ min: 0, max: 8 }), (junk, at, cut) => {
        onlyParleyErrors(() => openBundle(junk, accord, 'CN'));
        const spliced = new Uint8Array([...good.subarray(0, at), ...junk, ...good.subarray(Math.min(good.length, at + cut))]);
        const err = onlyParleyErrors(() => openBundle(spliced, accord, 'CN'));
        if (err === undefined) expect(decodeUtf8(spliced)).toBe(vec.bundle);
      }),
      { numRuns: 300 },
    );
  });
});

