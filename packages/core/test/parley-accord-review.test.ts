/**
 * The accord chain as a hostile party attacks it (issue 11 security
 * review): quorum counting (one key once, removals and recoveries that
 * would shrink the quorum), epochs at their boundaries, and every parser
 * under hostile input — always a typed error code, never a plain Error.
 */
import { describe, expect, it } from 'vitest';
import {
  type ChainFile,
  type SignedAccord,
  activationSuspectFrom,
  checkBody,
  type VerifiedAccord,
  draftAccord,
  draftAmendment,
  encodeUtf8,
  epochsOf,
  formatBase64,
  formatChainFile,
  parseAccord,
  parseAccordForkProof,
  parseChainFile,
  parseRetiredKeyProof,
  parseSignedAccord,
  signAccord,
  verifyAccord,
  verifyAccordChain,
  verifyAmendment,
  verifyChainFile,
} from '../src/index.js';
import * as core from '../src/index.js';
import { ParleyError, ParseError, VerificationError } from '../src/errors.js';
import { assertThrowsCode } from './helpers/assert.js';
import { activationEntry, logKey, party, scenario, sign, withParty } from './fixtures/accord-chain.js';

/** Version 1 of `ids`, quorum `q`, signed by every party. */
function founding(ids: readonly string[], q: number, name: string): VerifiedAccord {
  const accord = draftAccord({ name, parties: ids.map((id) => party(id)), created: new Date(Date.UTC(2026, 0, 1)), amendmentQuorum: q });
  let s: SignedAccord = { accord, signatures: [] };
  for (const id of ids) s = signAccord(s, id, logKey(id));
  return verifyAccord(s);
}

const keys = (ids: readonly string[]) => Object.fromEntries(ids.map((id) => [id, logKey(id)]));
const FIVE = ['CN', 'EU', 'IN', 'JP', 'US'];

describe('accord review: the quorum cannot be shrunk by excluding parties', () => {
  const unanimous = founding(FIVE, 5, 'five');
  const three = founding(FIVE, 3, 'five-q3');
  const keep = (v: VerifiedAccord, ids: readonly string[], q: number) => draftAmendment(v, { ...v.accord, parties: v.accord.parties.filter((p) => ids.includes(p.id)), amendmentQuorum: q });

  it('refuses one party removing every other party (unanimity of five)', () => {
    assertThrowsCode(() => verifyAmendment(unanimous, sign(unanimous, keep(unanimous, ['US'], 1), keys(['US']))), VerificationError, 'ACCORD_QUORUM');
  });

  it('refuses two parties removing the three others when the quorum is three', () => {
    assertThrowsCode(() => verifyAmendment(three, sign(three, keep(three, ['IN', 'US'], 2), keys(['IN', 'US']))), VerificationError, 'ACCORD_QUORUM');
    // The real quorum may: three parties remove two.
    expect(verifyAmendment(three, sign(three, keep(three, ['EU', 'IN', 'US'], 3), keys(['EU', 'IN', 'US']))).accord.parties).toHaveLength(3);
  });

  it('refuses two parties "recovering" the three others\u2019 keys at once (quorum three)', () => {
    const a = draftAmendment(three, withParty(withParty(withParty(three.accord, party('CN', 1)), party('EU', 1)), party('JP', 1)));
    const s = sign(three, a, keys(['IN', 'US']), { CN: logKey('CN', 1), EU: logKey('EU', 1), JP: logKey('JP', 1) });
    assertThrowsCode(() => verifyAmendment(three, s), VerificationError, 'ACCORD_QUORUM');
    // Nor with unanimity.
    const b = draftAmendment(unanimous, withParty(withParty(withParty(unanimous.accord, party('CN', 1)), party('EU', 1)), party('JP', 1)));
    assertThrowsCode(() => verifyAmendment(unanimous, sign(unanimous, b, keys(['IN', 'US']), { CN: logKey('CN', 1), EU: logKey('EU', 1), JP: logKey('JP', 1) })), VerificationError, 'ACCORD_QUORUM');
  });

  it('still lets the others remove or recover a party: a strict majority of the old parties approves', () => {
    // Unanimity of five: three remove two (the others cannot sign their own removal).
    expect(verifyAmendment(unanimous, sign(unanimous, keep(unanimous, ['EU', 'IN', 'US'], 3), keys(['EU', 'IN', 'US']))).version).toBe(2);
    // Unanimity of three: two remove the third; one alone cannot remove two.
    const t = founding(['CN', 'EU', 'US'], 3, 'three');
    expect(verifyAmendment(t, sign(t, keep(t, ['EU', 'US'], 2), keys(['EU', 'US']))).version).toBe(2);
    assertThrowsCode(() => verifyAmendment(t, sign(t, keep(t, ['US'], 1), keys(['US']))), VerificationError, 'ACCORD_QUORUM');
    // Two parties: the other one recovers a lost key with the new key's consent (GOV.md §1).
    const two = founding(['CN', 'US'], 2, 'two');
    const r = draftAmendment(two, withParty(two.accord, party('CN', 1)));
    expect(verifyAmendment(two, sign(two, r, keys(['US']), { CN: logKey('CN', 1) })).version).toBe(2);
    // Five, quorum 3, three parties lost their keys: the two left cannot recover them (not a majority).
    // Recovering two with three approvals is fine.
    const r2 = draftAmendment(three, withParty(withParty(three.accord, party('CN', 1)), party('EU', 1)));
    expect(verifyAmendment(three, sign(three, r2, keys(['IN', 'JP', 'US']), { CN: logKey('CN', 1), EU: logKey('EU', 1) })).version).toBe(2);
  });

  it('counts a party once: prior and plain signatures of one party, an added party, a removed party', () => {
    const t = founding(['CN', 'EU', 'US'], 3, 'three-once');
    const hb = draftAmendment(t, { ...t.accord, heartbeatSeconds: 60 });
    // US signs twice (prior and plain, same key) and CN once: two of three.
    assertThrowsCode(() => verifyAmendment(t, sign(t, hb, keys(['CN', 'US']), keys(['US']))), VerificationError, 'ACCORD_QUORUM');
    // A party being added signs: its signature is consent, not an approval.
    const join = draftAmendment(t, { ...t.accord, parties: [...t.accord.parties, party('IN')] });
    assertThrowsCode(() => verifyAmendment(t, sign(t, join, keys(['CN', 'US']), { IN: logKey('IN') })), VerificationError, 'ACCORD_QUORUM');
    // A party signing with a prior signature while joining: not a party of the version before.
    assertThrowsCode(() => verifyAmendment(t, sign(t, join, { ...keys(['CN', 'EU', 'US']), IN: logKey('IN') }, { IN: logKey('IN') })), ParseError, 'ACCORD_MALFORMED');
    // The quorum lowered in the same amendment: judged by the old quorum.
    const lower = draftAmendment(t, { ...t.accord, amendmentQuorum: 1 });
    assertThrowsCode(() => verifyAmendment(t, sign(t, lower, keys(['US']))), VerificationError, 'ACCORD_QUORUM');
  });

  it('states the threshold: the quorum, lowered to the eligible parties, never below a strict majority (1 of 2)', () => {
    const { amendmentThreshold } = core;
    // [quorum, parties, eligible] → approvals needed
    const table: [number, number, number, number][] = [
      [2, 2, 2, 2], [2, 2, 1, 1], [2, 2, 0, 1],
      [3, 3, 3, 3], [3, 3, 2, 2], [3, 3, 1, 2],
      [4, 4, 2, 3], [5, 5, 3, 3], [5, 5, 1, 3], [3, 5, 2, 3], [2, 5, 1, 2], [1, 5, 1, 1], [3, 4, 3, 3],
    ];
    for (const [q, n, e, need] of table) expect(amendmentThreshold(q, n, e), `${q} of ${n}, ${e} eligible`).toBe(need);
  });

  it('refuses duplicate and reordered signatures as malformed', () => {
    const t = founding(['CN', 'EU', 'US'], 3, 'three-order');
    const s = sign(t, draftAmendment(t, { ...t.accord, heartbeatSeconds: 60 }), keys(['CN', 'EU', 'US']));
    expect(verifyAmendment(t, s).version).toBe(2);
    const [a, b, c] = s.signatures as [SignedAccord['signatures'][number], SignedAccord['signatures'][number], SignedAccord['signatures'][number]];
    assertThrowsCode(() => verifyAmendment(t, { ...s, signatures: [a, a, b, c] }), ParseError, 'ACCORD_MALFORMED');
    assertThrowsCode(() => verifyAmendment(t, { ...s, signatures: [b, a, c] }), ParseError, 'ACCORD_MALFORMED');
    // Prior before plain is the wrong order too.
    const both = sign(t, s.accord, keys(['CN', 'EU', 'US']), keys(['US']));
    const us = both.signatures.filter((x) => x.party === 'US');
    assertThrowsCode(() => verifyAmendment(t, { ...both, signatures: [...both.signatures.filter((x) => x.party !== 'US'), ...us.reverse()] }), ParseError, 'ACCORD_MALFORMED');
  });
});

describe('accord review: witness keys count once', () => {
  it('refuses a later version where two parties\u2019 witness keys share a public key (one cosignature would count for both)', () => {
    const v2 = scenario().verified[1]!;
    const a = v2.accord;
    const usLog = a.parties.find((p) => p.id === 'US')!.logKey;
    // CN names, as its witness key, the 0x04 form of US's log key (US's default witness key), under another name.
    const { cosignerKey, parseVerifierKey, formatVerifierKey, signerKeyFromSeed, verifierKeyOf } = core;
    const stolen = formatVerifierKey(cosignerKey({ ...parseVerifierKey(usLog), name: 'cn-witness.parley.example' }));
    assertThrowsCode(() => parseAccord({ ...a, parties: a.parties.map((p) => (p.id === 'CN' ? { ...p, witnessKey: stolen } : p)) }), ParseError, 'ACCORD_MALFORMED');
    // Two explicit witness keys with one public key.
    const w = signerKeyFromSeed('w.parley.example', new Uint8Array(32).fill(7));
    const wk = (name: string) => formatVerifierKey(cosignerKey({ ...verifierKeyOf(w), name }));
    assertThrowsCode(() => parseAccord({ ...a, parties: a.parties.map((p) => (p.id === 'CN' ? { ...p, witnessKey: wk('a.example') } : p.id === 'EU' ? { ...p, witnessKey: wk('b.example') } : p)) }), ParseError, 'ACCORD_MALFORMED');
    // A witness key of one's own is fine.
    expect(parseAccord({ ...a, parties: a.parties.map((p) => (p.id === 'CN' ? { ...p, witnessKey: wk('a.example') } : p)) }).parties).toHaveLength(4);
  });
});

describe('accord review: epochs at their boundaries', () => {
  const sc = scenario();
  const { epochs } = verifyChainFile(formatChainFile(sc.file));

  it('answers the right epoch at R-1, R, R+1 and 0, and both keys only at R', () => {
    // US: v2@5 v3@10 (rotation), CN: v4@9 (recovery).
    expect(epochs.keysFor('US', 9)!.version.version).toBe(2);
    expect(epochs.keysFor('US', 10)!.version.version).toBe(3);
    expect(epochs.keysFor('US', 11)!.version.version).toBe(3);
    expect(epochs.keysFor('US', 0)!.version.version).toBe(1);
    expect(epochs.keysFor('IN', 0)!.version.version).toBe(2);
    expect(epochs.checkpointKeys('US', 10)).toHaveLength(2);
    expect(epochs.checkpointKeys('US', 9)).toHaveLength(1);
    expect(epochs.checkpointKeys('US', 11)).toHaveLength(1);
    expect(epochs.retired('US', sc.verified[1]!.party('US')!.logKey, 11)).toBe(true);
    expect(epochs.retired('US', sc.verified[1]!.party('US')!.logKey, 10)).toBe(false);
    // Not positions: negative, fractional, beyond 2^53.
    for (const p of [-1, 0.5, Number.NaN, 2 ** 53, Number.POSITIVE_INFINITY]) {
      expect(epochs.keysFor('US', p)).toBeUndefined();
      expect(epochs.checkpointKeys('US', p)).toEqual([]);
    }
  });

  it('lets a recovery\u2019s suspect range reach back over earlier epochs of the same compromised key', () => {
    // CN's key of v1..v3 was compromised; CN activated v2 at 3 and v3 at 4 under it; recovered in v4 at 9.
    // The last checkpoint witnessed under the old key may be older than CN's last activation: 2 here.
    // suspectFrom is signed in CN's activation entry (its new key), so each range is a re-signed entry.
    const v4 = sc.verified[3]!;
    const reSigned = (s?: number) => formatBase64(activationEntry(sc.file.channel, 'CN', logKey('CN', 1), v4, 9, ['CN', 'EU', 'IN', 'US'], s));
    const at = (suspectFrom?: number) => ({ ...sc.file, activations: sc.file.activations.map(({ suspectFrom: _s, ...a }) => (a.party === 'CN' && a.version === 4 ? (suspectFrom !== undefined ? { ...a, entry: reSigned(suspectFrom), suspectFrom } : { ...a, entry: reSigned() }) : a)) });
    const s2 = verifyChainFile(formatChainFile(at(2))).epochs;
    expect([...Array(14).keys()].filter((i) => s2.suspect('CN', i))).toEqual([2, 3, 4, 5, 6, 7, 8]);
    // No suspectFrom: everything the compromised key governed is suspect, from its first use.
    const all = verifyChainFile(formatChainFile(at())).epochs;
    expect([...Array(14).keys()].filter((i) => all.suspect('CN', i))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // Never before the old key governed, never beyond the recovery's activation.
    const { chain } = verifyChainFile(formatChainFile(sc.file));
    const acts = (s: number) => sc.activations.map(({ entry: _e, suspectFrom: _s, ...a }) => (a.party === 'CN' && a.version === 4 ? { ...a, suspectFrom: s } : a));
    assertThrowsCode(() => epochsOf(chain, acts(10)), VerificationError, 'ACCORD_CHAIN');
    expect([...Array(14).keys()].filter((i) => epochsOf(chain, acts(0)).suspect('CN', i))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    // US's planned rotation (v3) ends the range of a later recovery of US's NEW key: a key it did not govern is not suspect.
  });

  it('keeps a recovery\u2019s suspect range when the thief of the old key co-signs the recovery', () => {
    // v4 recovers CN's key; whoever holds CN's OLD key adds CN's prior signature, so the version no longer
    // looks like a recovery (a key change WITH a prior signature). The declared suspectFrom must still count.
    const s4 = sc.versions[3]!;
    const cosigned = sign(sc.verified[2]!, s4.accord, { CN: logKey('CN'), EU: logKey('EU'), IN: logKey('IN'), US: logKey('US', 1) }, { CN: logKey('CN', 1) });
    const file = { ...sc.file, versions: sc.versions.map((v, i) => (i === 3 ? cosigned : v)) };
    const { epochs: e } = verifyChainFile(formatChainFile(file));
    expect([...Array(14).keys()].filter((i) => e.suspect('CN', i))).toEqual([6, 7, 8]);
    // suspectFrom where the party's log key does not change is still refused.
    const usEntry = formatBase64(activationEntry(sc.file.channel, 'US', logKey('US', 1), sc.verified[3]!, 12, ['CN', 'EU', 'IN', 'US'], 11));
    const noChange = { ...sc.file, activations: sc.file.activations.map((a) => (a.party === 'US' && a.version === 4 ? { ...a, entry: usEntry, suspectFrom: 11 } : a)) };
    assertThrowsCode(() => verifyChainFile(formatChainFile(noChange)), VerificationError, 'ACCORD_CHAIN');
  });

  it('takes a recovery\u2019s suspect range from the signed activation entry, never from the chain file alone', () => {
    // Whoever serves a chain file must not narrow (or drop) CN's suspect range: it is signed by CN's new key in the entry body.
    const cn = (f: (a: (typeof sc.file.activations)[number]) => (typeof sc.file.activations)[number]) => ({ ...sc.file, activations: sc.file.activations.map((a) => (a.party === 'CN' && a.version === 4 ? f(a) : a)) });
    assertThrowsCode(() => verifyChainFile(formatChainFile(cn((a) => ({ ...a, suspectFrom: 8 })))), VerificationError, 'ACCORD_CHAIN');
    assertThrowsCode(() => verifyChainFile(formatChainFile(cn(({ suspectFrom: _s, ...a }) => a))), VerificationError, 'ACCORD_CHAIN');
    // An unsigned number where the entry signs none is refused too.
    assertThrowsCode(() => verifyChainFile(formatChainFile({ ...sc.file, activations: sc.file.activations.map((a) => (a.party === 'US' && a.version === 3 ? { ...a, suspectFrom: 9 } : a)) })), VerificationError, 'ACCORD_CHAIN');
    // The epochs follow the signed value.
    const { epochs } = verifyChainFile(formatChainFile(sc.file));
    expect([...Array(14).keys()].filter((i) => epochs.suspect('CN', i))).toEqual([6, 7, 8]);
    expect(activationSuspectFrom(sc.file.activations.find((a) => a.party === 'CN' && a.version === 4)!.entry)).toBe(6);
    // A body suspectFrom that is not a log size is refused (bodies.ts), and the check names the activation entry.
    assertThrowsCode(() => checkBody('accord.activation', { version: 4, digest: sc.verified[3]!.digest, suspectFrom: -1 }), ParseError, 'ENTRY_MALFORMED');
  });

  it('keeps answering a departed party\u2019s last epoch (the epochs cannot tell where its log ended; verifiers refuse its new entries)', () => {
    // EU withdrew in v5; its last activation is v4 at 4.
    expect(epochs.keysFor('EU', 1_000_000)!.version.version).toBe(4);
    expect(epochs.epochs('EU').at(-1)!.until).toBeUndefined();
  });

  it('refuses two activations of one version, sizes going backwards, a join not at 0, and an activation at 2^53', () => {
    const { chain } = verifyChainFile(formatChainFile(sc.file));
    const base = sc.activations.map(({ party: p, version, size, suspectFrom }) => (suspectFrom === undefined ? { party: p, version, size } : { party: p, version, size, suspectFrom }));
    assertThrowsCode(() => epochsOf(chain, [...base, { party: 'US', version: 3, size: 11 }]), VerificationError, 'ACCORD_CHAIN');
    assertThrowsCode(() => epochsOf(chain, base.map((a) => (a.party === 'US' && a.version === 5 ? { ...a, size: 11 } : a))), VerificationError, 'ACCORD_CHAIN');
    assertThrowsCode(() => epochsOf(chain, base.map((a) => (a.party === 'US' && a.version === 5 ? { ...a, size: 12 } : a))), VerificationError, 'ACCORD_CHAIN');
    assertThrowsCode(() => epochsOf(chain, base.map((a) => (a.party === 'IN' && a.version === 2 ? { ...a, size: 1 } : a))), VerificationError, 'ACCORD_CHAIN');
    assertThrowsCode(() => epochsOf(chain, [...base, { party: 'US', version: 2 ** 53, size: 30 }]), ParseError, 'ACCORD_MALFORMED');
    assertThrowsCode(() => epochsOf(chain, [...base, { party: 'US', version: 6, size: 2 ** 53 }]), ParseError, 'ACCORD_MALFORMED');
  });
});

describe('accord review: hostile input to every parser', () => {
  const sc = scenario();
  const text = formatChainFile(sc.file);
  const deep = (n: number) => `${'['.repeat(n)}${']'.repeat(n)}`;
  const parsers: [string, (s: string) => unknown][] = [
    ['parseChainFile', parseChainFile],
    ['verifyChainFile', (s) => verifyChainFile(s)],
    ['parseSignedAccord', parseSignedAccord],
    ['parseAccordForkProof', parseAccordForkProof],
    ['parseRetiredKeyProof', parseRetiredKeyProof],
  ];

  it('answers deep, truncated, non-JSON and oversized-number input with a typed error', () => {
    const inputs = [deep(100_000), `{"channel":${deep(5000)}}`, '{"a":1e400}', '{"a":9007199254740993}', '\u0000', '', '{"channel":"\ud800"}', '[]'.repeat(1000), '{'.repeat(200_000)];
    for (const [name, parse] of parsers) {
      for (const input of inputs) {
        let thrown: unknown;
        try {
          parse(input);
        } catch (e) {
          thrown = e;
        }
        expect(thrown, `${name} ${input.slice(0, 20)}`).toBeInstanceOf(ParleyError);
      }
    }
  });

  it('refuses a version or a size beyond 2^53, and version 2^53-1 as a skip', () => {
    const file = JSON.parse(text) as ChainFile & { versions: { accord: Record<string, unknown> }[] };
    const big = text.replace('"version": 2\n', '"version": 9007199254740993\n');
    expect(big).not.toBe(text);
    assertThrowsCode(() => parseChainFile(big), ParseError, 'ACCORD_MALFORMED');
    const sizeBig = JSON.stringify({ ...file, activations: [{ ...file.activations[0], size: 2 ** 53 }] });
    assertThrowsCode(() => parseChainFile(sizeBig), ParseError, 'ACCORD_MALFORMED');
    const v1 = sc.verified[0]!;
    const max = { ...draftAmendment(v1, { ...v1.accord, heartbeatSeconds: 60 }), version: Number.MAX_SAFE_INTEGER };
    assertThrowsCode(() => verifyAmendment(v1, sign(v1, max, keys(['CN', 'EU', 'US']))), VerificationError, 'ACCORD_VERSION');
    assertThrowsCode(() => verifyAccordChain([sc.versions[0]!, { accord: { ...max, version: 2 ** 53 }, signatures: [] }]), ParseError, 'ACCORD_MALFORMED');
  });

  it('refuses a huge signature array and a hostile activation entry with a typed error', () => {
    const s2 = sc.versions[1]!;
    const many = { ...s2, signatures: Array.from({ length: 100_000 }, () => s2.signatures[0]!) };
    assertThrowsCode(() => verifyAmendment(sc.verified[0]!, many), ParseError, 'ACCORD_MALFORMED');
    const file = JSON.parse(text) as ChainFile;
    const hostile = [deep(50_000), '{"v":1e400}', '"x"', 'null', '{"v":1,"v":2}', JSON.stringify({ v: 1, accord: sc.file.channel, from: { party: 'US' }, seq: 5, type: 'accord.activation', marking: 'TLP:CLEAR', body: { clear: { version: 2, digest: deep(40) } }, sig: '!!!' })];
    for (const h of hostile) {
      const bad = { ...file, activations: file.activations.map((a, i) => (i === 0 ? { ...a, entry: formatBase64(encodeUtf8(h)) } : a)) };
      let thrown: unknown;
      try {
        verifyChainFile(JSON.stringify(bad));
      } catch (e) {
        thrown = e;
      }
      expect(thrown, h.slice(0, 20)).toBeInstanceOf(ParleyError);
    }
    // An entry field that is not base64.
    assertThrowsCode(() => verifyChainFile(JSON.stringify({ ...file, activations: [{ ...file.activations[0]!, entry: '%%%%' }] })), VerificationError, 'ACCORD_CHAIN');
  });
});

describe('accord review: mutation fuzz of chain files and accord fork proofs', () => {
  it('answers every mutation with success or a ParleyError, never another error', async () => {
    const { readFileSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { OWN_VECTORS_DIR } = await import('./helpers/vectors.js');
    const { parseAnyForkProof, verifyAccordFork } = await import('../src/index.js');
    const dir = join(OWN_VECTORS_DIR, 'accord-chain');
    const chainText = readFileSync(join(dir, 'chain.json'), 'utf8');
    const fork = JSON.parse(readFileSync(join(dir, 'fork.json'), 'utf8')) as { versions: SignedAccord[]; proof: string };
    const upTo1 = verifyAccordChain(fork.versions);
    let x = 0x2545f491;
    const rnd = (n: number) => {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      return (x >>> 0) % n;
    };
    const pieces = ['{', '}', '[', ']', '"', ',', ':', '0', '-1', '1e400', '9007199254740993', 'null', 'true', '"prior":true', '\\u0000', 'A'];
    const mutate = (t: string): string => {
      const at = rnd(t.length);
      switch (rnd(4)) {
        case 0:
          return t.slice(0, at) + t.slice(at + 1 + rnd(8));
        case 1:
          return t.slice(0, at) + pieces[rnd(pieces.length)]! + t.slice(at);
        case 2:
          return t.slice(0, at) + String.fromCharCode(t.charCodeAt(at) ^ (1 << rnd(7))) + t.slice(at + 1);
        default:
          return t.slice(0, at) + t.slice(at, at + 40) + t.slice(at);
      }
    };
    const only = (f: () => unknown, what: string) => {
      try {
        f();
      } catch (e) {
        expect(e, what).toBeInstanceOf(ParleyError);
      }
    };
    for (let i = 0; i < 150; i++) {
      const c = mutate(chainText);
      only(() => verifyChainFile(c), `chain mutation ${i}`);
      const p = mutate(fork.proof);
      only(() => parseAnyForkProof(p), `proof mutation ${i}`);
      only(() => verifyAccordFork(p, upTo1), `proof mutation ${i}`);
    }
  });
});
