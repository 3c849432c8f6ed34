/**
 * The accord as a chain of versions and the key epochs (issue 11): against
 * the pinned vectors of test/vectors/accord-chain/ (recipe in
 * test/fixtures/accord-chain.ts, written by make-accord-chain.ts), rebuilt
 * byte for byte with both crypto bindings; every invalid variant in those
 * files must fail with its recorded code; and the rules one by one.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type Accord,
  type AccordChain,
  type Activation,
  type ErrorCode,
  type SignedAccord,
  type VerifiedAccord,
  accordDiff,
  accordForkProof,
  checkpointSigner,
  cosignerKey,
  draftAccord,
  draftAmendment,
  epochsOf,
  extendAccordChain,
  departedIn,
  departureRace,
  formatAccordForkProof,
  formatChainFile,
  formatVerifierKey,
  parseAccord,
  parseAccordForkProof,
  parseChainFile,
  parseSignedAccord,
  signAccord,
  signAccordVersion,
  signerKeyFromSeed,
  verifierKeyOf,
  verifyAccord,
  verifyAccordChain,
  verifyAccordFork,
  verifyAmendment,
  verifyChainFile,
  formatRetiredKeyProof,
  newSigner,
  retiredKeyProof,
  signCheckpoint,
  verifyRetiredKeyProof,
  parseAnyForkProof,
  formatBase64,
} from '../src/index.js';
import { ArgumentError, ParleyError, ParseError, VerificationError } from '../src/errors.js';
import { providers, useProvider } from './helpers/providers.js';
import { assertThrowsCode } from './helpers/assert.js';
import { OWN_VECTORS_DIR } from './helpers/vectors.js';
import { activationEntry, frozenScenario, genesis, logKey, party, scenario, seed, sign, vectorFiles, withParty } from './fixtures/accord-chain.js';

const DIR = join(OWN_VECTORS_DIR, 'accord-chain');
const read = (f: string) => readFileSync(join(DIR, f), 'utf8');
const CLASS: Record<string, typeof ParseError | typeof VerificationError | typeof ArgumentError> = {
  ACCORD_MALFORMED: ParseError,
  CHANNEL_FROZEN: ArgumentError,
};
const classOf = (code: string) => CLASS[code] ?? VerificationError;

describe.each(providers)('accord chain vectors with $name', (provider) => {
  useProvider(provider);

  it('rebuilds every vector file byte for byte', () => {
    const files = vectorFiles();
    expect(readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()).toEqual(Object.keys(files).sort());
    for (const [name, text] of Object.entries(files)) expect(read(name), name).toBe(text);
  });

  it('verifies chain.json: five versions, epochs per party, a suspect range after the recovery', () => {
    const { chain, epochs } = verifyChainFile(read('chain.json'));
    expect(chain.versions.map((v) => v.version)).toEqual([1, 2, 3, 4, 5]);
    expect(chain.current.accord.parties.map((p) => p.id)).toEqual(['CN', 'IN', 'US']);
    expect(chain.versions.every((v) => v.id === chain.channel && v.channel === chain.channel)).toBe(true);
    expect(chain.versions[0]!.digest).toBe(chain.channel);
    const span = (p: string) => epochs.epochs(p).map((e) => [e.version.version, e.from, e.until ?? null]);
    expect(span('US')).toEqual([[1, 0, 5], [2, 5, 10], [3, 10, 12], [4, 12, 20], [5, 20, null]]);
    expect(span('CN')).toEqual([[1, 0, 3], [2, 3, 4], [3, 4, 9], [4, 9, 11], [5, 11, null]]);
    expect(span('EU')).toEqual([[1, 0, 2], [2, 2, 3], [3, 3, 4], [4, 4, null]]);
    expect(span('IN')).toEqual([[2, 0, 1], [3, 1, 2], [4, 2, 3], [5, 3, null]]);
    // US's rotation in v3 at 10: entries below use the old key, from 10 on the new one.
    const usOld = formatVerifierKey(verifierKeyOf(logKey('US')));
    const usNew = formatVerifierKey(verifierKeyOf(logKey('US', 1)));
    expect(formatVerifierKey(epochs.keysFor('US', 9)!.member.logKey)).toBe(usOld);
    expect(formatVerifierKey(epochs.keysFor('US', 10)!.member.logKey)).toBe(usNew);
    // CN's recovery in v4 at 9 with suspectFrom 6: entries 6..8 are suspect, nothing else.
    expect([...Array(14).keys()].filter((i) => epochs.suspect('CN', i))).toEqual([6, 7, 8]);
    expect(epochs.keysFor('CN', 7)!.suspectFrom).toBe(6);
    expect([...Array(30).keys()].some((i) => epochs.suspect('US', i))).toBe(false);
    // IN joined in v2: nothing governs a position before its log exists under v2 … and nothing for a stranger.
    expect(epochs.keysFor('IN', 0)!.version.version).toBe(2);
    expect(epochs.keysFor('FR', 0)).toBeUndefined();
    expect(epochs.keysFor('US', -1)).toBeUndefined();
  });

  it('refuses every invalid variant with its recorded code', () => {
    const bad = readdirSync(DIR).filter((f) => f.startsWith('bad-'));
    expect(bad.length).toBeGreaterThanOrEqual(20);
    for (const f of bad) {
      const v = JSON.parse(read(f)) as { code: ErrorCode; chain: unknown };
      let thrown: unknown;
      try {
        verifyChainFile(JSON.stringify(v.chain));
      } catch (e) {
        thrown = e;
      }
      expect(thrown, f).toBeInstanceOf(classOf(v.code));
      expect((thrown as ParleyError).code, f).toBe(v.code);
    }
  });

  it('verifies the accord fork proof of fork.json and refuses the second version 2 as ACCORD_FORKED', () => {
    const v = JSON.parse(read('fork.json')) as { versions: SignedAccord[]; proof: string };
    const upTo1 = verifyAccordChain(v.versions);
    const fork = verifyAccordFork(v.proof, upTo1);
    expect(fork.version).toBe(2);
    expect(fork.a.digest < fork.b.digest).toBe(true);
    expect(fork.text).toBe(v.proof);
    const proof = parseAccordForkProof(v.proof);
    expect(formatAccordForkProof(proof)).toBe(v.proof);
    expect(parseAnyForkProof(v.proof).kind).toBe('accord');
    // A node holding the chain with one version 2 refuses the other.
    const { chain } = verifyChainFile(read('chain.json'));
    const upTo2 = verifyAccordChain(chain.signed.slice(0, 2));
    const other = fork.a.digest === upTo2.current.digest ? proof.b : proof.a;
    assertThrowsCode(() => extendAccordChain(upTo2, other), VerificationError, 'ACCORD_FORKED');
    assertThrowsCode(() => extendAccordChain(chain, other), VerificationError, 'ACCORD_FORKED');
    // Not evidence: the same version twice, a side that does not verify, another channel, a chain too short.
    expect(accordForkProof(proof.a, proof.a, upTo1.current)).toBeUndefined();
    assertThrowsCode(() => verifyAccordFork({ ...proof, b: proof.a }, upTo1), VerificationError, 'FORK_PROOF_INVALID');
    assertThrowsCode(() => verifyAccordFork({ ...proof, b: { ...proof.b, signatures: proof.b.signatures.slice(1) } }, upTo1), VerificationError, 'FORK_PROOF_INVALID');
    assertThrowsCode(() => verifyAccordFork({ ...proof, a: proof.b, b: proof.a }, upTo1), VerificationError, 'FORK_PROOF_INVALID');
    assertThrowsCode(() => verifyAccordFork({ ...proof, accord: upTo2.current.digest }, upTo1), VerificationError, 'FORK_PROOF_INVALID');
    assertThrowsCode(() => verifyAccordFork({ ...proof, version: 3 }, upTo1), VerificationError, 'FORK_PROOF_INVALID');
    assertThrowsCode(() => parseAccordForkProof(`${v.proof} `), ParseError, 'FORK_PROOF_MALFORMED');
    assertThrowsCode(() => parseAccordForkProof(v.proof.replace('"kind":"accord"', '"kind":"same-size"')), ParseError, 'FORK_PROOF_MALFORMED');
  });
});

describe('accord versions: shape', () => {
  const sc = scenario();
  const [v1, v2] = sc.verified as [VerifiedAccord, VerifiedAccord];
  it('keeps version 1 as it was: no version, previous, witnessKey or prior signature, two parties at least', () => {
    expect(v1.version).toBe(1);
    expect(v1.digest).toBe(v1.id);
    expect(v1.frozen).toBe(false);
    expect('version' in v1.accord || 'previous' in v1.accord).toBe(false);
    const a = v1.accord;
    const bad: unknown[] = [
      { ...a, version: 1, previous: v1.digest },
      { ...a, version: 2 },
      { ...a, previous: v1.digest },
      { ...a, parties: [{ ...a.parties[0]!, witnessKey: formatVerifierKey(cosignerKey(verifierKeyOf(logKey('CN')))) }, ...a.parties.slice(1)] },
      { ...a, parties: [a.parties[0]] },
    ];
    for (const b of bad) assertThrowsCode(() => parseAccord(b), ParseError, 'ACCORD_MALFORMED');
    const withPrior = { accord: a, signatures: sc.versions[0]!.signatures.map((s) => ({ ...s, prior: true as const })) };
    assertThrowsCode(() => verifyAccord(withPrior), ParseError, 'ACCORD_MALFORMED');
    assertThrowsCode(() => verifyAccord(sc.versions[1]!), VerificationError, 'ACCORD_CHAIN');
  });

  it('checks later versions strictly: previous, witness key type, shared keys, signature order', () => {
    const a = v2.accord;
    const wk = formatVerifierKey(cosignerKey(verifierKeyOf(logKey('CN'))));
    expect(parseAccord({ ...a, parties: a.parties.map((p) => (p.id === 'CN' ? { ...p, witnessKey: wk } : p)) }).parties[0]!.witnessKey).toBe(wk);
    const bad: unknown[] = [
      { ...a, previous: 'ab' },
      { ...a, version: 1.5 },
      { ...a, parties: a.parties.map((p) => (p.id === 'CN' ? { ...p, witnessKey: p.logKey } : p)) },
      { ...a, parties: a.parties.map((p) => (p.id === 'CN' ? { ...p, logKey: signerKeyOf('CN', 'US') } : p)) },
      { ...a, parties: [] },
    ];
    for (const b of bad) assertThrowsCode(() => parseAccord(b), ParseError, 'ACCORD_MALFORMED');
    // One party is a valid later version (a frozen channel).
    expect(parseAccord({ ...a, parties: [a.parties[0]], amendmentQuorum: 1 }).parties).toHaveLength(1);
    const sigs = sc.versions[1]!.signatures;
    const text = JSON.stringify({ accord: a, signatures: [...sigs].reverse() });
    assertThrowsCode(() => parseSignedAccord(text), ParseError, 'ACCORD_MALFORMED');
    const twice = JSON.stringify({ accord: a, signatures: [sigs[0], sigs[0]] });
    assertThrowsCode(() => parseSignedAccord(twice), ParseError, 'ACCORD_MALFORMED');
    const priorFalse = JSON.stringify({ accord: a, signatures: [{ ...sigs[0], prior: false }] });
    assertThrowsCode(() => parseSignedAccord(priorFalse), ParseError, 'ACCORD_MALFORMED');
  });

  it('keeps the channel name and every kept party\u2019s log origin', () => {
    const renamed = draftAmendment(v1, { ...v1.accord, name: 'other-name' });
    assertThrowsCode(() => verifyAmendment(v1, sign(v1, renamed, { CN: logKey('CN'), EU: logKey('EU'), US: logKey('US') })), ParseError, 'ACCORD_MALFORMED');
    const k = signerKeyFromSeed('elsewhere.example/log', seed('US log 1'));
    const moved = draftAmendment(v1, withParty(v1.accord, { ...party('US'), logKey: formatVerifierKey(verifierKeyOf(k)) }));
    assertThrowsCode(() => verifyAmendment(v1, sign(v1, moved, { CN: logKey('CN'), EU: logKey('EU'), US: logKey('US') }, { US: k })), ParseError, 'ACCORD_MALFORMED');
  });
});

/** A log key string for party `id` named with `origin`'s origin (to make two parties share a public key). */
function signerKeyOf(id: string, origin: string): string {
  return formatVerifierKey(verifierKeyOf(signerKeyFromSeed(`${origin.toLowerCase()}.parley.example/log`, seed(`${id} log`))));
}

describe('accord amendments: the rules', () => {
  const sc = scenario();
  const [v1, v2, v3, v4] = sc.verified as [VerifiedAccord, VerifiedAccord, VerifiedAccord, VerifiedAccord];
  const all1 = { CN: logKey('CN'), EU: logKey('EU'), US: logKey('US') };

  it('lets the others\u2019 quorum remove a party, who cannot block it', () => {
    const a = draftAmendment(v1, { ...v1.accord, parties: v1.accord.parties.filter((p) => p.id !== 'EU'), amendmentQuorum: 2 });
    const v = verifyAmendment(v1, sign(v1, a, { CN: logKey('CN'), US: logKey('US') }));
    expect(v.accord.parties.map((p) => p.id)).toEqual(['CN', 'US']);
    // One of the others alone is not enough; EU's signature never counts toward its removal with other changes.
    assertThrowsCode(() => verifyAmendment(v1, sign(v1, a, { US: logKey('US') })), VerificationError, 'ACCORD_QUORUM');
    const more = draftAmendment(v1, { ...a, heartbeatSeconds: 60 });
    assertThrowsCode(() => verifyAmendment(v1, sign(v1, more, { EU: logKey('EU'), US: logKey('US') })), VerificationError, 'ACCORD_QUORUM');
    // EU alone may withdraw (the same document, signed by EU only).
    expect(verifyAmendment(v1, sign(v1, a, { EU: logKey('EU') })).version).toBe(2);
  });

  it('accepts a withdrawal signed by the withdrawing party alone (chain.json v5) and freezes a two-party channel', () => {
    expect(sc.verified[4]!.accord.parties.map((p) => p.id)).toEqual(['CN', 'IN', 'US']);
    expect(sc.verified[4]!.frozen).toBe(false);
    const fz = frozenScenario();
    const { chain, epochs } = verifyChainFile(formatChainFile(fz.file));
    expect(chain.current.frozen).toBe(true);
    expect(chain.current.accord.parties.map((p) => p.id)).toEqual(['US']);
    // US's log ends with its activation entry of the frozen version.
    expect(epochs.keysFor('US', 6)!.version.version).toBe(1);
    expect(epochs.keysFor('US', 7)!.version.version).toBe(2);
    expect(epochs.keysFor('US', 8)).toBeUndefined();
    expect(epochs.checkpointKeys('US', 8)).toHaveLength(1);
    expect(epochs.checkpointKeys('US', 9)).toHaveLength(0);
    assertThrowsCode(() => checkpointSigner(epochs, 'US', verifierKeyOf(logKey('US')), 9), ArgumentError, 'CHANNEL_FROZEN');
    expect(checkpointSigner(epochs, 'US', verifierKeyOf(logKey('US')), 8).party.id).toBe('US');
    // A withdrawal whose quorum is not clamped to the new party count is not a withdrawal.
    const v1f = fz.verified[0]!;
    assertThrowsCode(() => draftAmendment(v1f, { ...v1f.accord, parties: v1f.accord.parties.filter((p) => p.id !== 'CN') }), ParseError, 'ACCORD_MALFORMED');
    const three = verifyAccord(genesis(['US', 'CN', 'EU'], 'three'));
    const notClamped = draftAmendment(three, { ...three.accord, parties: three.accord.parties.filter((p) => p.id !== 'EU'), amendmentQuorum: 1 });
    assertThrowsCode(() => verifyAmendment(three, sign(three, notClamped, { EU: logKey('EU') })), VerificationError, 'ACCORD_QUORUM');
  });

  it('recovers a compromised key with the others\u2019 quorum and the new key (chain.json v4), never with the new key alone', () => {
    expect(formatVerifierKey(v4.party('CN')!.logKey)).toBe(formatVerifierKey(verifierKeyOf(logKey('CN', 1))));
    assertThrowsCode(() => verifyAmendment(v3, sign(v3, v4.accord, {}, { CN: logKey('CN', 1) })), VerificationError, 'ACCORD_QUORUM');
    // Both parties of a two-party channel "recovered" at once: nobody is left to approve.
    const two = verifyAccord(genesis(['US', 'CN'], 'two'));
    const both = draftAmendment(two, withParty(withParty(two.accord, party('US', 1)), party('CN', 1)));
    assertThrowsCode(() => verifyAmendment(two, sign(two, both, {}, { CN: logKey('CN', 1), US: logKey('US', 1) })), VerificationError, 'ACCORD_QUORUM');
  });

  it('counts each key once', () => {
    // US and CN share one Ed25519 key under two names (version 1 does not forbid it): their two approvals are one.
    const shared = draftAccord({ name: 'shared', parties: [party('US'), { ...party('CN'), logKey: signerKeyOf('US', 'CN') }, party('EU')], created: new Date(Date.UTC(2026, 0, 1)) });
    let s: SignedAccord = { accord: shared, signatures: [] };
    s = signAccord(s, 'US', logKey('US'));
    s = signAccord(s, 'CN', signerKeyFromSeed('cn.parley.example/log', seed('US log')));
    s = signAccord(s, 'EU', logKey('EU'));
    const v = verifyAccord(s);
    // CN moves to a key of its own (later versions forbid shared keys); US, CN and EU sign, but that is two keys of three.
    const a = draftAmendment(v, withParty(v.accord, party('CN', 1)));
    const signed = sign(v, a, { CN: signerKeyFromSeed('cn.parley.example/log', seed('US log')), EU: logKey('EU'), US: logKey('US') }, { CN: logKey('CN', 1) });
    assertThrowsCode(() => verifyAmendment(v, signed), VerificationError, 'ACCORD_QUORUM');
  });

  it('needs consent for a changed HPKE or witness key, and takes a prior signature as consent when the log key stays', () => {
    const hp = draftAmendment(v1, withParty(v1.accord, { ...party('EU'), hpkeKey: party('US').hpkeKey }));
    assertThrowsCode(() => verifyAmendment(v1, sign(v1, hp, { CN: logKey('CN'), US: logKey('US') }, {})), VerificationError, 'ACCORD_QUORUM');
    // Quorum of the others is 3 = everyone: EU's approval is needed anyway, and with its key unchanged it is also its consent.
    expect(verifyAmendment(v1, sign(v1, hp, all1)).version).toBe(2);
    const removeEu = { ...v1.accord, amendmentQuorum: 2, parties: v1.accord.parties.filter((p) => p.id !== 'EU') };
    const v2b = verifyAmendment(v1, sign(v1, draftAmendment(v1, removeEu), { CN: logKey('CN'), US: logKey('US') }));
    const wk = formatVerifierKey(cosignerKey(verifierKeyOf(signerKeyFromSeed('us-witness.example', seed('US witness')))));
    const w = draftAmendment(v2b, withParty(v2b.accord, { ...v2b.party('US')!.party, witnessKey: wk }));
    assertThrowsCode(() => verifyAmendment(v2b, sign(v2b, w, { CN: logKey('CN') })), VerificationError, 'ACCORD_QUORUM');
    const q1 = verifyAmendment(v2b, sign(v2b, draftAmendment(v2b, { ...v2b.accord, amendmentQuorum: 1 }), { CN: logKey('CN'), US: logKey('US') }));
    const w3 = draftAmendment(q1, withParty(q1.accord, { ...q1.party('US')!.party, witnessKey: wk }));
    assertThrowsCode(() => verifyAmendment(q1, sign(q1, w3, { CN: logKey('CN') })), VerificationError, 'ACCORD_CONSENT');
    const v3w = verifyAmendment(q1, sign(q1, w3, { CN: logKey('CN'), US: logKey('US') }));
    expect(formatVerifierKey(v3w.party('US')!.witnessKey)).toBe(wk);
    const chain = verifyAccordChain([sc.versions[0]!, ...[v2b, q1, v3w].map((v) => ({ accord: v.accord, signatures: v.signatures }))]);
    const ep = epochsOf(chain, []);
    const ws = ep.witnessKeys('US');
    expect(ws.map((x) => [formatVerifierKey(x.key), x.from, x.until ?? null])).toEqual([
      [formatVerifierKey(cosignerKey(verifierKeyOf(logKey('US')))), 1, 4],
      [wk, 4, null],
    ]);
    expect(ep.witnessKeys('EU').map((x) => [x.from, x.until ?? null])).toEqual([[1, 2]]);
  });

  it('refuses replays when extending a chain: the same version, an older one', () => {
    const upTo4 = verifyAccordChain(sc.versions.slice(0, 4));
    assertThrowsCode(() => extendAccordChain(upTo4, sc.versions[3]!), VerificationError, 'ACCORD_VERSION');
    assertThrowsCode(() => extendAccordChain(upTo4, sc.versions[2]!), VerificationError, 'ACCORD_VERSION');
    assertThrowsCode(() => extendAccordChain(upTo4, sc.versions[0]!), VerificationError, 'ACCORD_VERSION');
    expect(extendAccordChain(upTo4, sc.versions[4]!).current.version).toBe(5);
  });

  it('walks from a trusted version: the chain must contain it', () => {
    expect(verifyAccordChain(sc.versions, { trusted: v3.digest }).current.version).toBe(5);
    assertThrowsCode(() => verifyAccordChain(sc.versions.slice(0, 2), { trusted: v3.digest }), VerificationError, 'ACCORD_CHAIN');
    assertThrowsCode(() => verifyAccordChain([]), ParseError, 'ACCORD_MALFORMED');
    // A stored chain keeps version 1 apart: verifyChainFile takes it as the genesis.
    const file = { ...sc.file, versions: sc.versions.slice(1) };
    expect(verifyChainFile(formatChainFile(file), { genesis: sc.versions[0]! }).chain.current.version).toBe(5);
    expect(verifyChainFile(formatChainFile({ ...sc.file, versions: [], activations: [] }), { genesis: sc.versions[0]! }).chain.current.version).toBe(1);
    expect(verifyChainFile(formatChainFile(sc.file), { genesis: sc.versions[0]! }).chain.current.version).toBe(5);
    assertThrowsCode(() => verifyChainFile(formatChainFile(sc.file), { genesis: genesis(['US', 'CN'], 'another') }), VerificationError, 'ACCORD_CHAIN');
  });

  it('signs versions only with the right keys', () => {
    assertThrowsCode(() => signAccordVersion({ accord: v2.accord, signatures: [] }, 'US', logKey('CN')), ParseError, 'ACCORD_MALFORMED');
    assertThrowsCode(() => signAccordVersion({ accord: v2.accord, signatures: [] }, 'US', logKey('CN'), { prior: true, prev: v1 }), ParseError, 'ACCORD_MALFORMED');
    assertThrowsCode(() => signAccordVersion({ accord: v2.accord, signatures: [] }, 'IN', logKey('IN'), { prior: true, prev: v1 }), ParseError, 'ACCORD_MALFORMED');
    assertThrowsCode(() => signAccordVersion({ accord: v3.accord, signatures: [] }, 'US', logKey('US'), { prior: true, prev: v1 }), VerificationError, 'ACCORD_CHAIN');
    assertThrowsCode(() => signAccordVersion(sc.versions[0]!, 'US', logKey('US')), ParseError, 'ACCORD_MALFORMED');
    assertThrowsCode(() => signAccord({ accord: v2.accord, signatures: [] }, 'US', logKey('US')), ParseError, 'ACCORD_MALFORMED');
    // Signing twice replaces, never duplicates.
    const once = signAccordVersion({ accord: v2.accord, signatures: [] }, 'US', logKey('US'), { prior: true, prev: v1 });
    expect(signAccordVersion(once, 'US', logKey('US'), { prior: true, prev: v1 }).signatures).toEqual(once.signatures);
  });
});

describe('accordDiff', () => {
  const sc = scenario();
  const [v1, v2, v3, v4, v5] = sc.verified.map((v) => v.accord) as [Accord, Accord, Accord, Accord, Accord];
  it('lists what changes, parties by id, in a stable order', () => {
    expect(accordDiff(v1, v2).map((c) => c.path)).toEqual(['parties.IN']);
    expect(accordDiff(v1, v2)[0]!.to).toEqual(v2.parties.find((p) => p.id === 'IN'));
    expect(accordDiff(v2, v3)).toEqual([
      { path: 'heartbeatSeconds', from: 3600, to: 1800 },
      { path: 'parties.US.logKey', from: party('US').logKey, to: party('US', 1).logKey },
    ]);
    expect(accordDiff(v3, v4).map((c) => c.path)).toEqual(['parties.CN.logKey']);
    expect(accordDiff(v4, v5)).toEqual([{ path: 'parties.EU', from: JSON.parse(JSON.stringify(v4.parties.find((p) => p.id === 'EU'))) }]);
    expect(accordDiff(v5, v5)).toEqual([]);
    const deep = { ...v1, deadlines: { ...v1.deadlines, ackSeconds: { ...v1.deadlines.ackSeconds, FLASH: 60 } } };
    expect(accordDiff(v1, deep)).toEqual([{ path: 'deadlines.ackSeconds.FLASH', from: v1.deadlines.ackSeconds.FLASH, to: 60 }]);
    expect(accordDiff(v1, { ...v1, redLines: [] }).map((c) => c.path)).toEqual(['redLines']);
  });
});

describe('key epochs', () => {
  const sc = scenario();

  it('accepts both keys at the rotation size, only the new one beyond it: the old key there is KEY_RETIRED', () => {
    const { epochs } = verifyChainFile(formatChainFile(sc.file));
    const old = verifierKeyOf(logKey('US'));
    const neu = verifierKeyOf(logKey('US', 1));
    expect(epochs.checkpointKeys('US', 10).map((m) => formatVerifierKey(m.logKey))).toEqual([formatVerifierKey(old), formatVerifierKey(neu)]);
    expect(epochs.checkpointKeys('US', 9).map((m) => formatVerifierKey(m.logKey))).toEqual([formatVerifierKey(old)]);
    expect(epochs.checkpointKeys('US', 11).map((m) => formatVerifierKey(m.logKey))).toEqual([formatVerifierKey(neu)]);
    expect(epochs.retired('US', old, 10)).toBe(false);
    expect(epochs.retired('US', old, 11)).toBe(true);
    expect(epochs.retired('US', formatVerifierKey(old), 1000)).toBe(true);
    expect(epochs.retired('US', neu, 5)).toBe(false); // too early for the new key: invalid, but no evidence of a retired key
    expect(epochs.retired('CN', old, 11)).toBe(false);
    expect(checkpointSigner(epochs, 'US', old, 10).party.id).toBe('US');
    assertThrowsCode(() => checkpointSigner(epochs, 'US', old, 11), VerificationError, 'KEY_RETIRED');
    assertThrowsCode(() => checkpointSigner(epochs, 'US', neu, 9), VerificationError, 'NOTE_UNVERIFIED');
    assertThrowsCode(() => checkpointSigner(epochs, 'US', verifierKeyOf(logKey('CN')), 9), VerificationError, 'NOTE_UNVERIFIED');
  });

  it('finds the keys for any position across 10 rotations (binary search and cache agree with a linear scan)', () => {
    let signed: SignedAccord[] = [genesis(['US', 'CN'], 'ten-rotations')];
    let chain: AccordChain = verifyAccordChain(signed);
    for (let g = 1; g <= 10; g++) {
      const prev = chain.current;
      const a = draftAmendment(prev, withParty(prev.accord, party('US', g)));
      const s = sign(prev, a, { CN: logKey('CN'), US: logKey('US', g - 1) }, { US: logKey('US', g) });
      chain = extendAccordChain(chain, s);
      signed = [...signed, s];
    }
    expect(chain.current.version).toBe(11);
    const activations: Activation[] = [];
    for (let n = 2; n <= 11; n++) activations.push({ party: 'US', version: n, size: (n - 1) * 1000 + n });
    const epochs = epochsOf(chain, activations);
    const keyAt = (i: number) => {
      let g = 0;
      for (const a of activations) if (i >= a.size) g = a.version - 1;
      return formatVerifierKey(verifierKeyOf(logKey('US', g)));
    };
    const positions = [0, 1, 1001, 1002, 1003, 5005, 5006, 9999, 10010, 10011, 10_000_000];
    for (let i = 0; i < 12_000; i += 7) positions.push(i);
    for (let r = 0; r < 2000; r++) positions.push((r * 7919) % 12_000); // out of order
    for (const i of positions) expect(formatVerifierKey(epochs.keysFor('US', i)!.member.logKey), `position ${i}`).toBe(keyAt(i));
    expect(epochs.keysFor('CN', 123_456)!.version.version).toBe(1);
    // Every retired key is caught beyond its own rotation size and only there.
    for (const a of activations) {
      const old = verifierKeyOf(logKey('US', a.version - 2));
      expect(epochs.retired('US', old, a.size)).toBe(false);
      expect(epochs.retired('US', old, a.size + 1)).toBe(true);
    }
    // The epochs of an activation list that does not fit the chain are refused.
    assertThrowsCode(() => epochsOf(chain, [...activations, { party: 'US', version: 12, size: 99_999 }]), VerificationError, 'ACCORD_CHAIN');
    assertThrowsCode(() => epochsOf(chain, [...activations, { party: 'US', version: 5, size: 99_999 }]), VerificationError, 'ACCORD_CHAIN');
    assertThrowsCode(() => epochsOf(chain, [{ party: 'US', version: 1, size: 3 }]), VerificationError, 'ACCORD_CHAIN');
    assertThrowsCode(() => epochsOf(chain, [{ party: 'FR', version: 2, size: 0 }]), VerificationError, 'ACCORD_CHAIN');
    assertThrowsCode(() => epochsOf(chain, [{ party: 'US', version: 2, size: -1 }]), ParseError, 'ACCORD_MALFORMED');
  });

  it('round-trips chain files and refuses malformed ones', () => {
    const text = formatChainFile(sc.file);
    expect(formatChainFile(parseChainFile(text))).toBe(text);
    const bad = [
      '{',
      JSON.stringify({ ...sc.file, extra: 1 }),
      JSON.stringify({ ...sc.file, channel: 'x' }),
      JSON.stringify({ ...sc.file, activations: [{ ...sc.file.activations[0], size: -1 }] }),
      JSON.stringify({ ...sc.file, activations: [{ ...sc.file.activations[0], version: 1 }] }),
    ];
    for (const b of bad) assertThrowsCode(() => parseChainFile(b), ParseError, 'ACCORD_MALFORMED');
    // A recovery activation without suspectFrom flags everything the compromised key governed (CN: v1..v3, from 0).
    const unsigned = formatBase64(activationEntry(sc.file.channel, 'CN', logKey('CN', 1), sc.verified[3]!, 9, ['CN', 'EU', 'IN', 'US']));
    const noSuspect = { ...sc.file, activations: sc.file.activations.map((a) => (a.suspectFrom === undefined ? a : { party: a.party, version: a.version, size: a.size, entry: unsigned })) };
    const { epochs } = verifyChainFile(formatChainFile(noSuspect));
    expect([...Array(12).keys()].filter((i) => epochs.suspect('CN', i))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('turns a checkpoint signed by a retired key beyond its rotation size into a retired-key proof', () => {
    const { chain } = verifyChainFile(formatChainFile(sc.file));
    const root = new Uint8Array(32).fill(7);
    const note = (size: number, gens: number[]) => signCheckpoint({ origin: 'us.parley.example/log', treeSize: size, rootHash: root, extensions: [] }, gens.map((g) => newSigner(logKey('US', g))));
    // US rotated at size 10 (v3): the old key at 11 is evidence, at 10 (the dual-signed rotation checkpoint) it is not.
    const proof = retiredKeyProof(chain, sc.file.activations, 'US', note(11, [0, 1]))!;
    expect(proof.kind).toBe('retired-key');
    expect(proof.activation.version).toBe(3);
    const v = verifyRetiredKeyProof(formatRetiredKeyProof(proof), chain);
    expect(parseAnyForkProof(formatRetiredKeyProof(proof)).kind).toBe('retired-key');
    const checkpointFork = readFileSync(join(OWN_VECTORS_DIR, 'parley/fork-v1.json'), 'utf8');
    const forks = (JSON.parse(checkpointFork) as { forks: Record<string, string> }).forks;
    expect(Object.keys(forks)).toHaveLength(3);
    for (const text of Object.values(forks)) expect(['same-size', 'leaf-conflict', 'prefix-conflict']).toContain(parseAnyForkProof(text).kind);
    assertThrowsCode(() => parseAnyForkProof('{"kind":"accord"}'), ParseError, 'FORK_PROOF_MALFORMED');
    expect([v.party, v.size, v.rotatedAt, v.version]).toEqual(['US', 11, 10, 3]);
    expect(formatVerifierKey(v.key)).toBe(formatVerifierKey(verifierKeyOf(logKey('US'))));
    expect(retiredKeyProof(chain, sc.file.activations, 'US', note(10, [0, 1]))).toBeUndefined();
    expect(retiredKeyProof(chain, sc.file.activations, 'US', note(500, [1]))).toBeUndefined();
    // Not evidence: an activation that retired nothing, a size not beyond it, another signature riding along, another channel.
    const v2act = sc.file.activations.find((a) => a.party === 'US' && a.version === 2)!;
    assertThrowsCode(() => verifyRetiredKeyProof({ ...proof, activation: v2act }, chain), VerificationError, 'FORK_PROOF_INVALID');
    const v5act = sc.file.activations.find((a) => a.party === 'US' && a.version === 5)!;
    assertThrowsCode(() => verifyRetiredKeyProof({ ...proof, activation: v5act }, chain), VerificationError, 'FORK_PROOF_INVALID');
    assertThrowsCode(() => verifyRetiredKeyProof({ ...proof, checkpoint: new TextDecoder().decode(note(11, [0, 1])) }, chain), VerificationError, 'FORK_PROOF_INVALID');
    assertThrowsCode(() => verifyRetiredKeyProof({ ...proof, activation: { ...proof.activation, size: 11 } }, chain), VerificationError, 'FORK_PROOF_INVALID');
    assertThrowsCode(() => verifyRetiredKeyProof({ ...proof, accord: sc.verified[1]!.digest }, chain), VerificationError, 'FORK_PROOF_INVALID');
    assertThrowsCode(() => verifyRetiredKeyProof(`${formatRetiredKeyProof(proof)} `, chain), ParseError, 'FORK_PROOF_MALFORMED');
  });
});

describe('departure races (two versions N+1 that only let parties go)', () => {
  const sc = scenario();
  const [v1, , , v4] = sc.verified as VerifiedAccord[];
  it('names what a pure withdrawal or removal drops, and nothing for any other change', () => {
    // v5 of the scenario: EU withdraws (quorum follows).
    expect(departedIn(v4!.accord, sc.verified[4]!.accord)).toEqual(['EU']);
    expect(departedIn(v1!.accord, sc.verified[1]!.accord)).toBeUndefined(); // a join
    const both = draftAmendment(v4!, { ...v4!.accord, parties: v4!.accord.parties.filter((p) => p.id !== 'IN'), heartbeatSeconds: 60 });
    expect(departedIn(v4!.accord, both)).toBeUndefined(); // a removal that also changes the heartbeat
  });
  it('calls two withdrawals of one version a departure race, and a withdrawal beside any other change not one', () => {
    const leave = (id: string) => draftAmendment(v4!, { ...v4!.accord, parties: v4!.accord.parties.filter((p) => p.id !== id), amendmentQuorum: 3 });
    expect(departureRace(v4!.accord, leave('EU'), leave('IN'))).toEqual({ a: ['EU'], b: ['IN'] });
    expect(departureRace(v4!.accord, leave('EU'), { ...leave('EU'), created: '2027-01-01T00:00:00.000Z' })).toEqual({ a: ['EU'], b: ['EU'] });
    expect(departureRace(v4!.accord, leave('EU'), draftAmendment(v4!, { ...v4!.accord, heartbeatSeconds: 60 }))).toBeUndefined();
  });
});
