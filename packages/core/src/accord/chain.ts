/**
 * The accord as a chain of versions (issue 11, after TUF's root rotation).
 *
 * Version 1 is the founding accord (accord.ts); its digest is the channel id
 * forever. Version N+1 carries the whole new accord with `version = N+1` and
 * `previous` = hex SHA-256 of version N's canonical accord, and is signed
 * over the same message as version 1 (`"parley/accord/v1\n" ||
 * SHA-256(JCS(version N+1))`) by:
 *
 *     prior signatures  {"party", "sig", "prior": true}: the party's log key IN VERSION N
 *                       (an approval under the old accord)
 *     plain signatures  {"party", "sig"}: the party's log key IN VERSION N+1
 *                       (consent of a joining party, proof of possession of a new key)
 *
 * {@link verifyAmendment} accepts N+1 after N when (in this order, each with its code):
 * 1. `version` is N+1 (`ACCORD_VERSION`: skipped, repeated or rolled back),
 *    `previous` is N's digest (`ACCORD_CHAIN`), N is not frozen
 *    (`CHANNEL_FROZEN`), the channel name and every kept party's log origin
 *    are unchanged (`ACCORD_MALFORMED`);
 * 2. every signature verifies under its designated key (`SIGNATURE_INVALID`;
 *    a prior signature by a party not in N, or a plain one by a party not in
 *    N+1, is `ACCORD_MALFORMED`);
 * 3. quorum (`ACCORD_QUORUM`): n = |parties of N|, Q = N.amendmentQuorum;
 *    K = parties of N kept in N+1; X = parties of K whose log key changes
 *    without their prior signature (compromise recovery); Eligible = K \ X;
 *    q = max(min(Q, |Eligible|), min(Q, n − 1, ⌊n/2⌋ + 1)) — the quorum,
 *    lowered when removed or recovered parties cannot approve, but never
 *    below a strict majority of N's parties (1 in a two-party channel), so
 *    excluding parties never shrinks the quorum further ({@link amendmentThreshold});
 *    approvals = eligible parties with a valid signature under their
 *    version-N key (prior, or plain when the key is unchanged), each key
 *    counted once (a party's prior and plain signatures, or two parties of
 *    version 1 sharing a key, are one approval); need approvals ≥ q.
 *    Signatures of removed, recovered (new key) and added parties never
 *    count, so a party cannot block its own removal. A pure **withdrawal**
 *    (N+1 only removes a set W: everything else byte-equal apart from
 *    `version`, `previous`, `created`, and `amendmentQuorum` = min(Q, new
 *    party count)) is also valid with the prior signatures of every party in W alone;
 * 4. consent (`ACCORD_CONSENT`): every added party, and every kept party
 *    whose log, witness or HPKE key changes, signed N+1 under its N+1 log key
 *    (a prior signature counts when that key did not change: it is the same key).
 *
 * A version with one party (only possible from version 2 on) is **frozen**:
 * no log accepts entries once it is in force, and nothing amends it.
 *
 * Two different valid versions N+1 after one N are an accord fork: an
 * {@link AccordForkProof} (`kind: "accord"`) that anyone holding the chain
 * up to N checks with {@link verifyAccordFork}. It is a separate document
 * type from fork.ts's checkpoint proofs (same `type`, its own `kind`): it
 * needs the chain, not one accord, to verify.
 *
 * @example
 *   const v2 = draftAmendment(chain.current, { ...chain.current.accord, heartbeatSeconds: 1800 });
 *   let s = { accord: v2, signatures: [] };
 *   s = signAccordVersion(s, 'US', usKey, { prior: true, prev: chain.current });
 *   s = signAccordVersion(s, 'CN', cnKey, { prior: true, prev: chain.current });
 *   extendAccordChain(chain, s).current.version; // 2
 */
import { type ErrorCode, fail, isParleyError } from '../errors.js';
import { concatBytes, encodeUtf8, formatBase64, formatHex, parseBase64 } from '../encoding.js';
import { canonicalize } from '../cjson.js';
import { parseJson } from '../ijson.js';
import { getCrypto } from '../crypto/provider.js';
import { type SignerKey, formatVerifierKey, parseVerifierKey, verifierKeyOf } from '../note/key.js';
import { int, obj, str } from '../shape.js';
import {
  type Accord,
  type AccordMember,
  type AccordSignature,
  type SignedAccord,
  type VerifiedAccord,
  ACCORD_CONTEXT,
  accordDigest,
  accordMember,
  accordSigningMessage,
  accordVersion,
  parseAccord,
  parseSignatures,
  sortAccordSignatures,
  verifiedAccord,
  verifyAccord,
} from './accord.js';

/** A verified chain of accord versions, 1..current. */
export interface AccordChain {
  /** Channel id: hex SHA-256 of version 1. */
  readonly channel: string;
  /** Every version, oldest first (`versions[n - 1]` is version n). */
  readonly versions: readonly VerifiedAccord[];
  /** The latest version. */
  readonly current: VerifiedAccord;
  /** Version n, or undefined. */
  version(n: number): VerifiedAccord | undefined;
  /** The signed documents, as verified (what a chain file carries). */
  readonly signed: readonly SignedAccord[];
}

/** Options for {@link verifyAccordChain}. */
export interface VerifyAccordChainOptions {
  /**
   * Digest of a version the caller already trusts (e.g. the current version
   * it last saw). The chain must contain it, or it is refused
   * (`ACCORD_CHAIN`: rolled back past it or forked). The whole chain is still
   * verified from version 1, which must be signed by every party.
   */
  readonly trusted?: string;
}

function hexDigest(accord: Accord): string {
  return formatHex(accordDigest(accord));
}

function samePublicKey(a: AccordMember, b: AccordMember): boolean {
  return formatVerifierKey(a.logKey) === formatVerifierKey(b.logKey);
}

/** The accord N+1 must equal, apart from `created`, for a pure withdrawal of the parties missing from it. */
function isWithdrawal(prev: Accord, next: Accord): boolean {
  const kept = new Set(next.parties.map((p) => p.id));
  if (kept.size === prev.parties.length) return false;
  if (next.amendmentQuorum !== Math.min(prev.amendmentQuorum, next.parties.length)) return false;
  const strip = (a: Accord, parties: Accord['parties']) => {
    const { version: _v, previous: _p, created: _c, amendmentQuorum: _q, parties: _ps, ...rest } = a;
    return canonicalize({ ...rest, parties });
  };
  return strip(prev, prev.parties.filter((p) => kept.has(p.id))) === strip(next, next.parties);
}

/**
 * The parties version `next` drops when it only drops parties (the quorum
 * following them down, `created` aside, nothing else changing) — the shape
 * of a withdrawal, and of a removal that changes nothing else — else
 * undefined. Says nothing of signatures (that is {@link verifyAmendment}'s job).
 * @example departedIn(v1.accord, v2.accord) // ['EU'] when v2 only lets EU go
 */
export function departedIn(prev: Accord, next: Accord): string[] | undefined {
  if (!isWithdrawal(prev, next)) return undefined;
  const kept = new Set(next.parties.map((p) => p.id));
  return prev.parties.filter((p) => !kept.has(p.id)).map((p) => p.id);
}

/**
 * A **departure race**: both sides of an accord fork after version `prev`
 * only drop parties (two parties withdrew at the same time, or a party's
 * withdrawal crossed its removal). Still a fork — two validly signed
 * histories, and nodes may hold different ones — but an honest race, not
 * a quorum signing two futures: the alarm says so, and what to do
 * (docs/operations.md). Undefined when either side changes anything else.
 * @returns the parties each side drops.
 */
export function departureRace(prev: Accord, a: Accord, b: Accord): { readonly a: string[]; readonly b: string[] } | undefined {
  const x = departedIn(prev, a);
  const y = departedIn(prev, b);
  return x !== undefined && y !== undefined ? { a: x, b: y } : undefined;
}

/**
 * How many approvals of version N's keys an amendment needs (rule 3 of the
 * module doc): the quorum Q, lowered to the number of eligible parties when
 * parties are removed or recovered (they cannot approve: a party cannot
 * block its own removal) — but never below a strict majority of version N's
 * parties (one party of a two-party channel), nor above Q. Without that
 * floor, excluding parties would shrink the quorum: one party of five could
 * remove, or "recover" the keys of, the four others.
 * @param quorum version N's amendmentQuorum.
 * @param parties version N's party count.
 * @param eligible kept parties that can approve (not recovered).
 */
export function amendmentThreshold(quorum: number, parties: number, eligible: number): number {
  const floor = Math.min(quorum, parties - 1, Math.floor(parties / 2) + 1);
  return Math.max(Math.min(quorum, eligible), floor);
}

/**
 * Verifies version N+1 of an accord against verified version N (the rules
 * in the module doc).
 * @param prev the verified version N.
 * @param next the signed version N+1.
 * @returns the verified version N+1 (`id`/`channel` = the channel id).
 * @throws ParseError `ACCORD_MALFORMED`; VerificationError `ACCORD_VERSION`,
 *   `ACCORD_CHAIN`, `SIGNATURE_INVALID`, `ACCORD_QUORUM`, `ACCORD_CONSENT`;
 *   ArgumentError `CHANNEL_FROZEN` after a frozen version.
 * @example verifyAmendment(v1, signedV2).version // 2
 */
export function verifyAmendment(prev: VerifiedAccord, next: SignedAccord): VerifiedAccord {
  const so = obj(next, 'ACCORD_MALFORMED', 'signed accord', ['accord', 'signatures']);
  const accord = parseAccord(so['accord']);
  const sigs = parseSignatures(so['signatures']);
  const n = accordVersion(accord);
  if (n !== prev.version + 1) {
    const what = n > prev.version + 1 ? 'skipped' : n === prev.version ? 'repeated' : 'rolled back';
    fail('ACCORD_VERSION', `accord version ${n} after version ${prev.version}: ${what}`);
  }
  if (accord.previous !== prev.digest) fail('ACCORD_CHAIN', `accord version ${n} does not name version ${prev.version}'s digest as previous`);
  if (prev.frozen) fail('CHANNEL_FROZEN', `version ${prev.version} is frozen (one party left): nothing amends it`);
  if (accord.name !== prev.accord.name) fail('ACCORD_MALFORMED', 'accord.name: the channel name never changes');
  const nextMembers = new Map<string, AccordMember>(accord.parties.map((p) => [p.id, accordMember(p, undefined, prev.party(p.id))]));
  for (const [id, m] of nextMembers) {
    const old = prev.party(id);
    if (old && old.logKey.name !== m.logKey.name) fail('ACCORD_MALFORMED', `parties.${id}.logKey: a rotated key keeps its name (the log origin)`);
  }

  // 2. Every signature under its designated key.
  const d = accordDigest(accord);
  const msg = concatBytes(encodeUtf8(ACCORD_CONTEXT), d);
  const priorOk = new Set<string>();
  const plainOk = new Set<string>();
  for (const s of sigs) {
    const m = s.prior ? prev.party(s.party) : nextMembers.get(s.party);
    if (!m) {
      if (!prev.party(s.party) && !nextMembers.has(s.party)) fail('ACCORD_MALFORMED', `signature by ${s.party}, a party of neither version ${prev.version} nor ${n}`);
      fail('ACCORD_MALFORMED', s.prior ? `prior signature by ${s.party}, not a party of version ${prev.version}` : `signature by ${s.party}, not a party of version ${n}`);
    }
    let sig: Uint8Array;
    try {
      sig = parseBase64(s.sig);
    } catch (e) {
      return fail('ACCORD_MALFORMED', `signature of ${s.party} is not base64`, e);
    }
    if (!m.verify(msg, sig)) fail('SIGNATURE_INVALID', `accord version ${n}: ${s.prior ? 'prior ' : ''}signature of ${s.party} does not verify`);
    (s.prior ? priorOk : plainOk).add(s.party);
  }

  // 3. Quorum of version N.
  const kept = prev.accord.parties.filter((p) => nextMembers.has(p.id)).map((p) => p.id);
  const keyChanged = (id: string) => !samePublicKey(prev.party(id)!, nextMembers.get(id)!);
  const eligible = kept.filter((id) => !(keyChanged(id) && !priorOk.has(id)));
  const approvals = new Set(eligible.filter((id) => priorOk.has(id) || (!keyChanged(id) && plainOk.has(id))).map((id) => formatHex(prev.party(id)!.logKey.publicKey)));
  const q = amendmentThreshold(prev.accord.amendmentQuorum, prev.accord.parties.length, eligible.length);
  let ok = q >= 1 && approvals.size >= q;
  if (!ok) {
    const withdrawn = prev.accord.parties.filter((p) => !nextMembers.has(p.id)).map((p) => p.id);
    ok = withdrawn.length > 0 && withdrawn.every((id) => priorOk.has(id)) && isWithdrawal(prev.accord, accord);
  }
  if (!ok) fail('ACCORD_QUORUM', `accord version ${n}: ${approvals.size} approval(s) of version ${prev.version}'s keys, need ${Math.max(q, 1)}`);

  // 4. Consent of new members and of changed keys.
  for (const p of accord.parties) {
    const old = prev.party(p.id)?.party;
    const changes = !old || old.logKey !== p.logKey || old.witnessKey !== p.witnessKey || old.hpkeKey !== p.hpkeKey;
    if (!changes) continue;
    const consented = plainOk.has(p.id) || (old !== undefined && old.logKey === p.logKey && priorOk.has(p.id));
    if (!consented) fail('ACCORD_CONSENT', old ? `accord version ${n} changes ${p.id}'s keys without ${p.id}'s signature under its new log key` : `accord version ${n} adds ${p.id} without ${p.id}'s signature`);
  }
  const signedBy = [...new Set(sigs.map((s) => s.party))];
  return verifiedAccord(accord, prev.channel, formatHex(d), signedBy, sigs, true, nextMembers);
}

function makeChain(versions: readonly VerifiedAccord[], signed: readonly SignedAccord[]): AccordChain {
  const current = versions[versions.length - 1]!;
  return {
    channel: versions[0]!.channel,
    versions,
    current,
    signed,
    version: (n) => (Number.isSafeInteger(n) && n >= 1 ? versions[n - 1] : undefined),
  };
}

/**
 * Walks a chain of signed versions from version 1 (signed by every party)
 * with {@link verifyAmendment}.
 * @param versions version 1, 2, … in order.
 * @param o `trusted`: a digest the chain must contain.
 * @returns the verified {@link AccordChain}.
 * @throws as {@link verifyAccord} for version 1 (`ACCORD_CHAIN` when it is a
 *   later version) and {@link verifyAmendment} for the rest; `ACCORD_CHAIN`
 *   when the trusted digest is missing; `ACCORD_MALFORMED` for an empty list.
 * @example verifyAccordChain(file.versions).current.version
 */
export function verifyAccordChain(versions: readonly SignedAccord[], o: VerifyAccordChainOptions = {}): AccordChain {
  if (versions.length === 0) fail('ACCORD_MALFORMED', 'an accord chain has at least version 1');
  const out: VerifiedAccord[] = [verifyAccord(versions[0]!)];
  for (let i = 1; i < versions.length; i++) out.push(verifyAmendment(out[i - 1]!, versions[i]!));
  if (o.trusted !== undefined && !out.some((v) => v.digest === o.trusted)) fail('ACCORD_CHAIN', 'the chain does not contain the trusted version (rolled back or forked)');
  return makeChain(out, versions.map((_, i) => ({ accord: out[i]!.accord, signatures: out[i]!.signatures })));
}

/**
 * Appends a signed version to a verified chain — what a node does when it
 * learns of a new version. Replays are refused: a version the chain already
 * has is `ACCORD_VERSION` (repeated), an older one `ACCORD_VERSION` (rolled
 * back), and a DIFFERENT valid version of a number the chain already has is
 * `ACCORD_FORKED` (build the evidence with {@link accordForkProof}).
 * @throws as {@link verifyAmendment}; `ACCORD_FORKED`.
 */
export function extendAccordChain(chain: AccordChain, next: SignedAccord): AccordChain {
  const accord = parseAccord(obj(next, 'ACCORD_MALFORMED', 'signed accord', ['accord', 'signatures'])['accord']);
  const n = accordVersion(accord);
  if (n <= chain.current.version) {
    const have = chain.version(n)!;
    if (have.digest === hexDigest(accord)) fail('ACCORD_VERSION', `accord version ${n} is already in force or superseded: repeated`);
    const before = chain.version(n - 1);
    if (before) {
      let valid = false;
      try {
        verifyAmendment(before, next);
        valid = true;
      } catch (e) {
        if (!isParleyError(e)) throw e;
      }
      if (valid) fail('ACCORD_FORKED', `a second valid accord version ${n} after version ${n - 1}: the accord is forked`);
    }
    fail('ACCORD_VERSION', `accord version ${n} after version ${chain.current.version}: ${n === chain.current.version ? 'repeated' : 'rolled back'}`);
  }
  const v = verifyAmendment(chain.current, next);
  return makeChain([...chain.versions, v], [...chain.signed, { accord: v.accord, signatures: v.signatures }]);
}

/**
 * Drafts version N+1 from version N: sets `version` and `previous`, sorts
 * the parties and checks the shape. Signatures are added with {@link signAccordVersion}.
 * @param prev the verified version N.
 * @param accord the whole new accord (its own `version`/`previous`, if any, are replaced).
 * @throws ParseError `ACCORD_MALFORMED`.
 */
export function draftAmendment(prev: VerifiedAccord, accord: Accord): Accord {
  const { version: _v, previous: _p, ...rest } = accord;
  const parties = [...accord.parties].sort((a, b) => (a.id < b.id ? -1 : 1));
  return parseAccord({ ...rest, parties, version: prev.version + 1, previous: prev.digest });
}

/** Options for {@link signAccordVersion}. */
export interface SignAccordVersionOptions {
  /** Sign as an approval with the party's key of the version before (`prior: true`). */
  readonly prior?: boolean;
  /** The version before; when given, the key is checked against it (prior) and the link is checked. */
  readonly prev?: VerifiedAccord;
}

/**
 * Adds (or replaces) one signature of `partyId` to a version ≥ 2: a plain
 * one with the key this version names for the party (consent, proof of
 * possession), or with `prior` an approval with the party's key of the
 * version before.
 * @throws ParseError `ACCORD_MALFORMED` for version 1 (use signAccord), an
 *   unknown party or a key that is not the party's; `ACCORD_CHAIN` when
 *   `prev` is not the version before.
 * @example signAccordVersion(proposal, 'CN', cnKey, { prior: true, prev: chain.current })
 */
export function signAccordVersion(signed: SignedAccord, partyId: string, key: SignerKey, o: SignAccordVersionOptions = {}): SignedAccord {
  const accord = parseAccord(signed.accord);
  const sigs = parseSignatures(signed.signatures);
  if (accord.version === undefined) fail('ACCORD_MALFORMED', 'version 1 is signed with signAccord');
  const mine = formatVerifierKey(verifierKeyOf(key));
  if (o.prev && (o.prev.version !== accord.version - 1 || o.prev.digest !== accord.previous)) fail('ACCORD_CHAIN', `prev is not version ${accord.version - 1} of this accord`);
  if (o.prior) {
    if (o.prev) {
      const p = o.prev.party(partyId);
      if (!p) fail('ACCORD_MALFORMED', `no party ${partyId} in version ${o.prev.version}`);
      if (formatVerifierKey(p.logKey) !== mine) fail('ACCORD_MALFORMED', `that key is not ${partyId}'s log key in version ${o.prev.version}`);
    }
  } else {
    const p = accord.parties.find((x) => x.id === partyId);
    if (!p) fail('ACCORD_MALFORMED', `no party ${partyId} in version ${accord.version}`);
    if (formatVerifierKey(parseVerifierKey(p.logKey)) !== mine) fail('ACCORD_MALFORMED', `that key is not ${partyId}'s log key in version ${accord.version}`);
  }
  const sig = formatBase64(getCrypto().ed25519Signer(key.seed)(accordSigningMessage(accord)));
  const prior = o.prior === true;
  const s: AccordSignature = prior ? { party: partyId, sig, prior: true } : { party: partyId, sig };
  return { accord, signatures: sortAccordSignatures([...sigs.filter((x) => !(x.party === partyId && (x.prior === true) === prior)), s]) };
}

/** Evidence that two different valid versions N+1 follow one version N. */
export interface AccordForkProof {
  readonly v: 1;
  readonly type: 'parley/fork-proof';
  /** Channel id. */
  readonly accord: string;
  readonly kind: 'accord';
  /** N+1: the version number both sides claim. */
  readonly version: number;
  /** The two signed versions, ordered by digest (one spelling per proof). */
  readonly a: SignedAccord;
  readonly b: SignedAccord;
}

/** An accord fork that verified. */
export interface VerifiedAccordFork {
  readonly channel: string;
  readonly version: number;
  readonly a: VerifiedAccord;
  readonly b: VerifiedAccord;
  /** The proof as canonical JSON (RFC 8785): what to store and forward. */
  readonly text: string;
}

function as<T>(code: ErrorCode, what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (!isParleyError(e)) throw e;
    return fail(code, `${what}: ${e.message}`, e);
  }
}

/**
 * Builds an accord fork proof from two signed versions N+1 after `prev`.
 * @returns the proof; undefined when both are the same version (no fork).
 * @throws as {@link verifyAmendment} when either side is not a valid N+1 (no evidence).
 */
export function accordForkProof(a: SignedAccord, b: SignedAccord, prev: VerifiedAccord): AccordForkProof | undefined {
  const va = verifyAmendment(prev, a);
  const vb = verifyAmendment(prev, b);
  if (va.digest === vb.digest) return undefined;
  const [x, y] = va.digest < vb.digest ? [va, vb] : [vb, va];
  const side = (v: VerifiedAccord): SignedAccord => ({ accord: v.accord, signatures: v.signatures });
  return { v: 1, type: 'parley/fork-proof', accord: prev.channel, kind: 'accord', version: va.version, a: side(x), b: side(y) };
}

function forkShape(v: unknown): AccordForkProof {
  const M = 'FORK_PROOF_MALFORMED';
  const o = obj(v, M, 'fork', ['v', 'type', 'accord', 'kind', 'version', 'a', 'b']);
  if (o['v'] !== 1) fail(M, 'fork.v: unsupported version');
  if (o['type'] !== 'parley/fork-proof') fail(M, 'fork.type: want parley/fork-proof');
  if (o['kind'] !== 'accord') fail(M, 'fork.kind: want accord');
  const side = (x: unknown, path: string): SignedAccord =>
    as(M, path, () => {
      const s = obj(x, M, path, ['accord', 'signatures']);
      return { accord: parseAccord(s['accord']), signatures: parseSignatures(s['signatures']) };
    });
  return {
    v: 1,
    type: 'parley/fork-proof',
    accord: str(o['accord'], M, 'fork.accord', { pattern: /^[0-9a-f]{64}$/, max: 64 }),
    kind: 'accord',
    version: int(o['version'], M, 'fork.version', 2, Number.MAX_SAFE_INTEGER),
    a: side(o['a'], 'fork.a'),
    b: side(o['b'], 'fork.b'),
  };
}

/**
 * Parses an accord fork proof: canonical JSON (RFC 8785), closed members. Nothing is verified.
 * @throws ParseError `FORK_PROOF_MALFORMED`.
 */
export function parseAccordForkProof(input: string | Uint8Array): AccordForkProof {
  const v = as('FORK_PROOF_MALFORMED', 'fork proof is not JSON', () => parseJson(input, { maxBytes: 1024 * 1024 }));
  const text = typeof input === 'string' ? input : new TextDecoder().decode(input);
  if (as('FORK_PROOF_MALFORMED', 'fork proof', () => canonicalize(v)) !== text) fail('FORK_PROOF_MALFORMED', 'fork proof is not canonical JSON (RFC 8785)');
  return forkShape(v);
}

/** The proof's canonical text (RFC 8785). */
export function formatAccordForkProof(proof: AccordForkProof): string {
  return canonicalize(forkShape(proof));
}

/**
 * Verifies an accord fork proof against a chain that reaches version N
 * (the version both sides follow): both sides are valid versions N+1 of
 * this channel, and they differ.
 * @throws ParseError `FORK_PROOF_MALFORMED`; VerificationError `FORK_PROOF_INVALID`.
 */
export function verifyAccordFork(proof: AccordForkProof | string | Uint8Array, chain: AccordChain): VerifiedAccordFork {
  const p = typeof proof === 'string' || proof instanceof Uint8Array ? parseAccordForkProof(proof) : forkShape(proof);
  if (p.accord !== chain.channel) fail('FORK_PROOF_INVALID', 'fork proof is for another channel');
  const prev = chain.version(p.version - 1);
  if (!prev) fail('FORK_PROOF_INVALID', `the chain does not reach version ${p.version - 1}`);
  const a = as('FORK_PROOF_INVALID', 'version a', () => verifyAmendment(prev, p.a));
  const b = as('FORK_PROOF_INVALID', 'version b', () => verifyAmendment(prev, p.b));
  if (a.digest === b.digest) fail('FORK_PROOF_INVALID', 'the two versions are the same');
  if (!(a.digest < b.digest)) fail('FORK_PROOF_INVALID', 'sides not ordered by digest');
  return { channel: chain.channel, version: p.version, a, b, text: canonicalize(p) };
}
