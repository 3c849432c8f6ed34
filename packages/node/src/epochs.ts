/**
 * The accord chain as this node follows it (issue 11, GOV.md §2 and §4):
 * which key of which party governs what. Every verifier of another party's
 * (or our own) entry, checkpoint, bundle, fork proof, cosignature and
 * request asks this module, never `accord.party(p).logKey`:
 *
 *     entry of P at index i          epochs.keysFor(P, i)      → that epoch's version and member
 *     checkpoint of P at size s      epochs.checkpointKeys(P, s) (both keys at a rotation size R,
 *                                                                 only the new one beyond it)
 *     cosignature by P (as witness)  every witness key P has had in the chain (witnessKeys)
 *     request signed by P            P's member in the current version
 *
 * A checkpoint that a RETIRED key of P signed beyond its rotation size is
 * refused with `KEY_RETIRED` and kept as evidence (see {@link openPartyCheckpoint}).
 *
 * The chain comes from the genesis accord (`accord.json`) and the store's
 * accord chain (`LogStore.accordChain`, issue 14: the chain file of GOV.md §2,
 * versions ≥ 2 and the activations), see {@link loadChain} and {@link storedChain}.
 *
 * Core's verifiers that take a `VerifiedAccord` (bundles, fork proofs) see
 * the chain through {@link accordView}: an accord whose `party(p)` answers
 * the member valid at the position being judged.
 */
import {
  type AccordChain,
  type AccordEpochs,
  type AccordMember,
  type ChainFile,
  type PartyEpoch,
  type SignedAccord,
  type VerifiedAccord,
  type VerifierKey,
  VerificationError,
  VerifierSet,
  epochsOf,
  fail,
  formatKeyId,
  newVerifier,
  openCheckpoint,
  openNote,
  parseCheckpoint,
  parseEntry,
  parseNote,
  verifyAccordChain,
  verifyChainFile,
  verifyEntry,
  type VerifiedEntry,
  type VerifiedCheckpoint,
} from '@parley/core';
import * as core from '@parley/core';
import type { LogStore } from '@parley/store';

export type { AccordChain, AccordEpochs, ChainFile };

/** What the node follows: the verified chain and its epochs. */
export interface Governed {
  readonly chain: AccordChain;
  readonly epochs: AccordEpochs;
  /** The ends of the logs of parties the version in force no longer names (see {@link DepartedLog}). */
  readonly departed?: ReadonlyMap<string, DepartedLog>;
}

/**
 * The end of a departed party's log (removed, or withdrawn): core epochs
 * keep its last epoch open (`keysFor` answers its last key for any later
 * position), so the node records, when it adopts the version that no longer
 * names the party, how far the party's log reached as this node knew it
 * then: the larger of the size its witness last cosigned and one past the
 * highest index it holds. Entries at `end` or beyond are refused
 * (`PARTY_DEPARTED`), but for the party's own activation entry of that
 * version; checkpoints beyond `end` (`end + 1` once that activation entry
 * is held at `end`) are not cosigned. Stored insert-only in the store's
 * departed logs (`LogStore.addDepartedLogs`, issue 14).
 */
export interface DepartedLog {
  readonly party: string;
  /** The first version that no longer names the party, and its digest. */
  readonly version: number;
  readonly digest: string;
  /** Entries of the party at index ≥ end are refused. */
  readonly end: number;
}


/** True when `e` is its sender's activation entry of the version that removed it (`d`). */
export function isDepartureActivation(d: DepartedLog, e: core.SignedEntry): boolean {
  if (e.type !== core.ACTIVATION_ENTRY_TYPE || !('clear' in e.body)) return false;
  const b = e.body.clear as { version?: unknown; digest?: unknown } | null;
  return b !== null && typeof b === 'object' && b.version === d.version && b.digest === d.digest;
}

/**
 * Refuses an entry of a departed party at or beyond the end of its log.
 * @throws VerificationError `PARTY_DEPARTED`.
 */
export function refuseDeparted(g: Governed, e: core.SignedEntry): void {
  const d = g.departed?.get(e.from.party);
  if (d === undefined || e.seq < d.end || g.chain.current.party(e.from.party) !== undefined) return;
  if (isDepartureActivation(d, e)) return;
  fail('PARTY_DEPARTED', `${e.from.party} left the channel with accord version ${d.version}: its log ends at ${d.end} here, entry ${e.seq} is refused`);
}

/** The parties some version of the chain named and the current one does not, with the first version without each. */
export function departedParties(chain: AccordChain): { party: string; version: VerifiedAccord }[] {
  const out: { party: string; version: VerifiedAccord }[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < chain.versions.length; i++) {
    for (const p of chain.versions[i]!.accord.parties) {
      if (seen.has(p.id) || chain.current.party(p.id) !== undefined) continue;
      seen.add(p.id);
      const gone = chain.versions.slice(i + 1).find((v) => v.party(p.id) === undefined);
      if (gone !== undefined) out.push({ party: p.id, version: gone });
    }
  }
  return out;
}

/**
 * The settings key where releases before issue 14 kept the chain file. The
 * store migration moves it into the accord chain tables; a value still there
 * is one the migration could not read, and the node refuses to open rather
 * than run on the genesis alone (service.ts).
 */
export const LEGACY_CHAIN_SETTING = 'accord.chain';

/** The chain file the store holds (without the store's revision), or undefined when only the genesis is in force. */
export async function storedChain(store: Pick<LogStore, 'accordChain'>): Promise<ChainFile | undefined> {
  const held = await store.accordChain();
  return held && { channel: held.channel, versions: held.versions, activations: held.activations };
}

/** The chain of the genesis accord alone: every party's version-1 key from size 0. */
export function genesisGoverned(signed: SignedAccord): Governed {
  const chain = verifyAccordChain([signed]);
  return { chain, epochs: epochsOf(chain, []) };
}

/**
 * The chain the node runs on: the genesis accord, extended by the stored
 * chain file when there is one (core `verifyChainFile`, from the genesis).
 * @param file the stored chain file ({@link storedChain}): versions ≥ 2 (a
 *   version 1 at its head is accepted when it is the genesis) and activations.
 * @throws ParseError `ACCORD_MALFORMED`; VerificationError `ACCORD_CHAIN`
 *   for a chain that does not start at this node's genesis; core's chain
 *   errors (`ACCORD_VERSION`, `ACCORD_QUORUM`, `ACCORD_CONSENT`, `SIGNATURE_INVALID`, …).
 */
export function loadChain(genesis: SignedAccord, verifiedGenesis: VerifiedAccord, file: unknown): Governed {
  if (file === undefined || file === null) return genesisGoverned(genesis);
  const g = verifyChainFile(file as ChainFile, { genesis });
  if (g.chain.channel !== verifiedGenesis.id || g.chain.versions[0]!.digest !== verifiedGenesis.digest) fail('ACCORD_CHAIN', 'the chain does not start at this node\u2019s genesis accord');
  return g;
}

/** The chain file to store: versions ≥ 2 only (genesis stays accord.json). */
export function storedChainFile(file: ChainFile): ChainFile {
  return { channel: file.channel, versions: file.versions.filter((v) => v.accord.version !== undefined), activations: file.activations };
}

// ---------------------------------------------------------------------------
// Lookups

/**
 * The epoch governing entry `index` of `party`'s log.
 * @throws VerificationError `ENTRY_INVALID` when no version of the chain names the party there.
 */
export function epochAt(g: Governed, party: string, index: number): PartyEpoch {
  const e = g.epochs.keysFor(party, index);
  if (e === undefined) fail('ENTRY_INVALID', `${party} is not a party of the accord at entry ${index}`);
  return e;
}

/**
 * Verifies an entry (core `verifyEntry`) under the version and key in force
 * at its position in its sender's log: `keysFor(from, seq)`.
 * @throws core verifyEntry's errors; VerificationError `ENTRY_INVALID` for a
 *   sender no version names at that position.
 */
export function verifyEntryAt(g: Governed, bytes: Uint8Array): VerifiedEntry {
  if (g.chain.versions.length === 1) return verifyEntry(bytes, g.chain.current);
  const e = parseEntry(bytes);
  const epoch = epochAt(g, e.from.party, e.seq);
  // The version in force there (its recipients, its parties) and the sender's key at that position;
  // core's optional `member` (GOV.md §3) is passed as well where this build of core takes it.
  return (verifyEntry as (b: Uint8Array, a: VerifiedAccord, m?: AccordMember) => VerifiedEntry)(bytes, epoch.version, epoch.member);
}

/** The party's log origin (its key name: a rotated key keeps it). */
export function originOf(g: Governed, party: string): string | undefined {
  for (let i = g.chain.versions.length - 1; i >= 0; i--) {
    const m = g.chain.versions[i]!.party(party);
    if (m !== undefined) return m.logKey.name;
  }
  return undefined;
}

/** Keys whose checkpoint signatures are valid for `party` at `size`, as a verifier set. */
export function checkpointVerifiers(g: Governed, party: string, size: number): VerifierSet {
  return new VerifierSet(g.epochs.checkpointKeys(party, size).map((m) => newVerifier(m.logKey)));
}

/** Every log key `party` has had in the chain (distinct), oldest first. */
export function logKeysEver(g: Governed, party: string): VerifierKey[] {
  const seen = new Map<string, VerifierKey>();
  for (const v of g.chain.versions) {
    const m = v.party(party);
    if (m !== undefined) seen.set(`${m.logKey.name}+${formatKeyId(m.logKey.keyId)}`, m.logKey);
  }
  return [...seen.values()];
}

/** The witness key (cosignature/v1, 0x04) a version names for a party: `witnessKey`, else its log key's 0x04 form. */
export function witnessKeyIn(v: VerifiedAccord, party: string): VerifierKey | undefined {
  return v.party(party)?.witnessKey;
}

/**
 * Every witness key `party` has had in the chain (epochs.witnessKeys),
 * current first: a cosignature by any of them is the party's (a
 * cosignature made before its witness key rotated stays what it was).
 */
export function witnessKeysOf(g: Governed, party: string): VerifierKey[] {
  return [...g.epochs.witnessKeys(party)].reverse().map((w) => w.key);
}

/** A checkpoint of `party` signed only by keys that are retired at its size (evidence). */
export interface RetiredCheckpoint {
  readonly party: string;
  readonly size: number;
  /** The retired keys whose signatures verified. */
  readonly keys: readonly VerifierKey[];
}

/**
 * When `note` is not validly signed for `party` at its size: was it signed
 * by a key of the party retired at that size? (Read only; nothing stored.)
 */
export function retiredSigners(g: Governed, party: string, note: Uint8Array | string): RetiredCheckpoint | undefined {
  try {
    const ever = new VerifierSet(logKeysEver(g, party).map((k) => newVerifier(k)));
    const opened = openNote(note, ever);
    const cp = parseCheckpoint(opened.text);
    if (cp.origin !== originOf(g, party)) return undefined;
    const keys = opened.verified.map((s) => s.verifier.key).filter((k): k is VerifierKey => k !== undefined && g.epochs.retired(party, k, cp.treeSize));
    return keys.length > 0 ? { party, size: cp.treeSize, keys } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Opens a checkpoint note of `party`'s log under the keys valid at its size
 * (core `openCheckpoint`, origin = the party's).
 * @throws VerificationError `KEY_RETIRED` when it is signed only by a key
 *   retired at that size (the caller keeps the evidence: {@link retiredSigners});
 *   core openCheckpoint's errors otherwise.
 */
export function openPartyCheckpoint(g: Governed, party: string, note: Uint8Array | string): VerifiedCheckpoint {
  const origin = originOf(g, party);
  if (origin === undefined) fail('NOTE_UNVERIFIED', `${party} is not a party of the accord`);
  let size: number;
  try {
    size = parseCheckpoint(parseNote(note).text).treeSize;
  } catch {
    size = -1;
  }
  try {
    // Not a checkpoint: openCheckpoint reports it (no key is valid at no size).
    if (size < 0) return openCheckpoint(note, new VerifierSet([]), { origin });
    return openCheckpoint(note, checkpointVerifiers(g, party, size), { origin });
  } catch (e) {
    const retired = e instanceof VerificationError ? retiredSigners(g, party, note) : undefined;
    if (retired !== undefined) throwRetired(retired);
    throw e;
  }
}

/** Throws the typed refusal of a checkpoint signed by a retired key. */
export function throwRetired(r: RetiredCheckpoint): never {
  return fail('KEY_RETIRED', `${r.party}'s checkpoint of size ${r.size} is signed by a key retired before that size`);
}

// ---------------------------------------------------------------------------
// Core verifiers that take one VerifiedAccord

/**
 * The current accord as core's single-accord verifiers (openBundle, fork
 * proofs) should see it when judging `subject`'s log at `size`: the
 * subject's member is the one valid at that size, and every other party's
 * member carries its current WITNESS key (0x04) as its key, so the
 * cosignatures core checks are those of the parties' witness keys.
 */
export function accordView(g: Governed, subject: string, size: number, subjectMember?: AccordMember): VerifiedAccord {
  const base = g.chain.current;
  if (g.chain.versions.length === 1 && !hasOwnWitnessKeys(g)) return base;
  const epoch = g.epochs.keysFor(subject, Math.max(0, size));
  const subjectM = subjectMember ?? epoch?.member;
  const members = new Map<string, AccordMember | undefined>();
  const party = (id: string): AccordMember | undefined => {
    if (members.has(id)) return members.get(id);
    let m: AccordMember | undefined;
    if (id === subject) m = subjectM;
    else {
      const cur = base.party(id);
      const wk = cur === undefined ? undefined : witnessKeyIn(base, id);
      m = cur === undefined || wk === undefined ? cur : { ...cur, party: cur.party, hpkeKey: cur.hpkeKey, logKey: wk, verify: cur.verify.bind(cur) };
    }
    members.set(id, m);
    return m;
  };
  const parties = base.accord.parties.some((p) => p.id === subject) || epoch === undefined ? base.accord.parties : [...base.accord.parties, epoch.member.party].sort((a, b) => (a.id < b.id ? -1 : 1));
  return { ...base, accord: { ...base.accord, parties }, party };
}

function hasOwnWitnessKeys(g: Governed): boolean {
  return g.chain.versions.some((v) => v.accord.parties.some((p) => p.witnessKey !== undefined));
}

/** A member of `party` whose signature check accepts any of `members` (bundle signatures across a rotation). */
export function anyOf(members: readonly AccordMember[]): AccordMember | undefined {
  if (members.length <= 1) return members[0];
  const [first] = members;
  return { ...first!, verify: (m: Uint8Array, s: Uint8Array) => members.some((x) => x.verify(m, s)) };
}

/** Every member `party` has had in the chain, one per distinct log key, oldest first. */
export function membersEver(g: Governed, party: string): AccordMember[] {
  const seen = new Map<string, AccordMember>();
  for (const v of g.chain.versions) {
    const m = v.party(party);
    if (m !== undefined && !seen.has(`${m.logKey.name}+${formatKeyId(m.logKey.keyId)}`)) seen.set(`${m.logKey.name}+${formatKeyId(m.logKey.keyId)}`, m);
  }
  return [...seen.values()];
}

/**
 * core `openBundle` under the chain: the bundle signature and its
 * checkpoint by a key of the sender valid at the checkpoint's size, each
 * entry by the key in force at its index, cosignatures by the other
 * parties' witness keys.
 * @throws as core openBundle (`BUNDLE_MALFORMED`, `BUNDLE_INVALID`, …).
 */
export function openBundleAt(g: Governed, bytes: Uint8Array, me: string, o: core.OpenBundleOptions = {}): core.VerifiedBundle {
  if (g.chain.versions.length === 1 && !hasOwnWitnessKeys(g)) return core.openBundle(bytes, g.chain.current, me, o);
  let from: string | undefined;
  let size = 0;
  let sig = '';
  let unsigned: Record<string, unknown> = {};
  try {
    const v = JSON.parse(core.decodeUtf8(bytes)) as Record<string, unknown>;
    from = typeof v['from'] === 'string' ? v['from'] : undefined;
    sig = typeof v['sig'] === 'string' ? v['sig'] : '';
    const { sig: _drop, ...rest } = v;
    unsigned = rest;
    size = parseCheckpoint(parseNote(String(v['checkpoint'])).text).treeSize;
  } catch {
    // core's parse reports it with its own code.
    return core.openBundle(bytes, g.chain.current, me, o);
  }
  if (from === undefined) return core.openBundle(bytes, g.chain.current, me, o);
  const ever = membersEver(g, from);
  const atSize = g.epochs.keysFor(from, size)?.member;
  if (ever.length <= 1 || atSize === undefined) return core.openBundle(bytes, accordView(g, from, size), me, o);
  const sender = { ...anyOf(ever)!, logKey: atSize.logKey, party: atSize.party };
  const b = core.openBundle(bytes, accordView(g, from, size, sender), me, o);
  // The bundle signature: by a key valid at the checkpoint's size, not any key the sender ever had.
  const message = core.encodeUtf8(`${core.BUNDLE_CONTEXT}${core.canonicalize(unsigned as core.JsonValue)}`);
  const signature = core.parseBase64(sig);
  if (!g.epochs.checkpointKeys(from, size).some((m) => m.verify(message, signature))) fail('BUNDLE_INVALID', `bundle signature of ${from} is not by its key at size ${size}`);
  // Each entry: by the key in force at its index.
  for (const e of [...b.entries, ...b.others]) {
    try {
      verifyEntryAt(g, e.bytes);
    } catch (err) {
      if (err instanceof core.ParleyError) fail('BUNDLE_INVALID', `bundle entry ${e.index}: ${err.message}`, err);
      throw err;
    }
  }
  return b;
}

/** Tree size of a checkpoint note, unverified (−1 when it is not one). */
export function noteSize(note: Uint8Array | string): number {
  try {
    return parseCheckpoint(parseNote(note).text).treeSize;
  } catch {
    return -1;
  }
}

/**
 * core `verifyForkProof` under the chain: the accused party's key valid at
 * a side's size (the larger first), cosignatures by witness keys.
 * @throws as core verifyForkProof (`FORK_PROOF_MALFORMED`, `FORK_PROOF_INVALID`).
 */
export function verifyForkAt(g: Governed, proof: core.ForkProof | string | Uint8Array): core.VerifiedFork {
  if (g.chain.versions.length === 1 && !hasOwnWitnessKeys(g)) return core.verifyForkProof(proof, g.chain.current);
  const p = typeof proof === 'string' || proof instanceof Uint8Array ? core.parseForkProof(proof) : proof;
  const sizes = [...new Set([noteSize(p.a.checkpoint), noteSize(p.b.checkpoint)])].sort((x, y) => y - x);
  let last: unknown;
  for (const size of sizes) {
    try {
      return core.verifyForkProof(p, accordView(g, p.party, size));
    } catch (e) {
      last = e;
    }
  }
  // A proof kept portable (federation/forks.ts: cosignatures by genesis witness keys only) verifies under the genesis.
  try {
    return core.verifyForkProof(p, g.chain.versions[0]!);
  } catch {
    throw last;
  }
}
