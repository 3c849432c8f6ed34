/**
 * Key epochs: which accord version (and so which keys) governs each
 * position of each party's log — the ONE lookup every verifier uses.
 *
 * A party's log adopts a version at a recorded position, an **activation**
 * `{party, version, size}`: entries at index ≥ size are judged by that
 * version until the party's next activation. Founding parties start under
 * version 1 at size 0 (implicit); a party added by version N starts its log
 * under N (its entry 0 is its activation entry, size 0).
 *
 *     epoch of P        [from, until)   from = activation size, until = next activation's size
 *     keysFor(P, i)     the epoch with from ≤ i < until (binary search, plus a one-entry
 *                       cache for sequential audits: O(1) amortised, O(log epochs) worst case)
 *     checkpointKeys    epochs with from ≤ size ≤ until: at a rotation size R both the old
 *                       and the new key sign the checkpoint; sizes > R only the new key
 *     retired(P, k, s)  k is one of P's log keys, not valid at size s, and s is beyond the
 *                       last size k was valid for: evidence (`KEY_RETIRED`)
 *     suspect(P, i)     i ≥ suspectFrom of a compromise recovery and below its activation
 *     frozen version    its epoch is [R, R + 1): only the activation entry itself
 *
 * The activation entry of version V in P's log is P's entry with `seq` =
 * size, type `accord.activation`, clear body `{version, digest,
 * suspectFrom?}` naming V,
 * signed by P's log key in V. For a planned rotation the node first signs
 * the checkpoint of size R with both keys, then appends the activation
 * entry with the new key. For a compromise recovery (the key changed with
 * no prior signature by the party) no old-key signature exists at R;
 * entries in [suspectFrom, R) are suspect, `suspectFrom` being the size of
 * the last checkpoint the others witnessed under the old key. The range may
 * reach back over every consecutive epoch the compromised key governed (the
 * party activated versions that kept its key), never before the first of
 * them; absent, everything that key governed (from the first of those
 * epochs to R) is suspect. `suspectFrom` is carried in the activation
 * entry's body, so the party's NEW key signs it (the thief of the old key
 * cannot, and whoever serves a chain file cannot narrow it); a chain file
 * repeats it beside the entry for readers, and {@link verifyChainFile}
 * refuses a copy that is not the signed value. It is accepted on any
 * activation that changes the party's log key, since whoever holds the
 * stolen old key can add its prior signature to the recovery, making it
 * look like a planned rotation (no default range then).
 *
 * A party that a version removes (or that withdraws) records no activation
 * of it (the version does not name it): its last epoch stays open here, so
 * `keysFor` keeps answering its last key for any later position — these
 * epochs cannot tell where a departed party's log ended. A verifier must
 * itself refuse NEW entries from a party that the version in force no longer
 * names; `keysFor` is for judging what that party wrote before.
 *
 * A **chain file** is what a verifier needs (`GET /v1/accord/chain`, `parley
 * accord verify`): `{"channel", "versions": [signed accords, version 1
 * first], "activations": [{"party", "version", "size", "entry": base64
 * entry bytes, "suspectFrom"?}]}`, formatted by {@link formatChainFile}
 * with members sorted (RFC 8785 order) and two-space indentation.
 */
import { fail, isParleyError } from '../errors.js';
import { decodeUtf8, encodeUtf8, formatBase64, parseBase64 } from '../encoding.js';
import { canonicalize } from '../cjson.js';
import { parseJson } from '../ijson.js';
import { type VerifierKey, formatVerifierKey } from '../note/key.js';
import { formatNote, parseNote } from '../note/note.js';
import { VerifierSet } from '../note/verifier.js';
import { type VerifiedCheckpoint, MAX_CHECKPOINT_BYTES, openCheckpoint, parseCheckpoint } from '../note/checkpoint.js';
import { arr, int, obj, str } from '../shape.js';
import { type AccordMember, type SignedAccord, type VerifiedAccord, PARTY_ID, parseAccord, parseSignatures } from './accord.js';
import { type AccordChain, type VerifyAccordChainOptions, verifyAccordChain } from './chain.js';

/** The entry type of an activation entry. */
export const ACTIVATION_ENTRY_TYPE = 'accord.activation';
/** Signing context of entries (entry/envelope.ts; repeated here so this module does not depend on the entry-type list). */
const ENTRY_CONTEXT = 'parley/entry/v1\n';
/** Largest chain file we parse. */
export const MAX_CHAIN_FILE_BYTES = 64 * 1024 * 1024;

/** Party `party`'s log adopts `version` at entry index `size`. */
export interface Activation {
  readonly party: string;
  readonly version: number;
  readonly size: number;
  /** Compromise recovery only: the first suspect index (see the module doc; signed in the activation entry's body). */
  readonly suspectFrom?: number;
}

/** An activation as a chain file carries it: with the activation entry. */
export interface ChainFileActivation extends Activation {
  /** Base64 canonical bytes of the activation entry (P's entry at index `size`). */
  readonly entry: string;
}

/** A chain file (see the module doc). */
export interface ChainFile {
  readonly channel: string;
  readonly versions: readonly SignedAccord[];
  readonly activations: readonly ChainFileActivation[];
}

/** The version (and keys) governing a range of one party's log. */
export interface PartyEpoch {
  readonly party: string;
  readonly version: VerifiedAccord;
  /** The party as `version` names it (its log key, witness key, HPKE key). */
  readonly member: AccordMember;
  /** First entry index governed. */
  readonly from: number;
  /** First index NOT governed (the next activation's size); absent for the open epoch. */
  readonly until?: number;
  /** Set on each epoch of a compromised key a recovery made suspect (wholly or its tail): indexes ≥ suspectFrom (and < until) are suspect. */
  readonly suspectFrom?: number;
}

/** A witness key of a party and the accord versions that named it. */
export interface WitnessKeyEpoch {
  readonly key: VerifierKey;
  /** First version naming it. */
  readonly from: number;
  /** First later version not naming it (rotated, or the party left); absent while current. */
  readonly until?: number;
}

/** The key lookup of a channel (built by {@link epochsOf}). */
export interface AccordEpochs {
  readonly chain: AccordChain;
  /** The explicit activations, by party then version. */
  readonly activations: readonly Activation[];
  /** A party's epochs, oldest first ([] for a party never in the accord). */
  epochs(party: string): readonly PartyEpoch[];
  /** The epoch governing entry `position` of `party`'s log, or undefined (not a party there, or beyond a frozen end). */
  keysFor(party: string, position: number): PartyEpoch | undefined;
  /** The members whose log key may sign `party`'s checkpoint of tree size `size` (one per distinct key, oldest first). */
  checkpointKeys(party: string, size: number): AccordMember[];
  /** True when a checkpoint of `size` signed by `key` is beyond that key's rotation size (evidence, `KEY_RETIRED`). */
  retired(party: string, key: VerifierKey | string, size: number): boolean;
  /** The party's witness keys, oldest first; the last is current unless it has `until`. */
  witnessKeys(party: string): readonly WitnessKeyEpoch[];
  /** True when entry `index` of `party`'s log is suspect (after the last witnessed checkpoint under a compromised key). */
  suspect(party: string, index: number): boolean;
}

interface Lookup {
  readonly epochs: readonly PartyEpoch[];
  last: number;
}

function keyString(k: VerifierKey | string): string {
  return typeof k === 'string' ? k : formatVerifierKey(k);
}

/** True when version `v` changed `party`'s log key without the party's prior signature (a compromise recovery). */
export function isRecovery(chain: AccordChain, party: string, v: VerifiedAccord): boolean {
  const before = chain.version(v.version - 1)?.party(party);
  const now = v.party(party);
  if (!before || !now) return false;
  if (formatVerifierKey(before.logKey) === formatVerifierKey(now.logKey)) return false;
  return !v.signatures.some((s) => s.party === party && s.prior === true);
}

/**
 * Builds the key epochs of a verified chain from the recorded activations.
 * @param chain the verified chain.
 * @param activations explicit activations (any order; the implicit
 *   version-1 activations of the founding parties are added).
 * @throws ParseError `ACCORD_MALFORMED` for a bad party id or number;
 *   VerificationError `ACCORD_CHAIN` for an activation that does not fit
 *   the chain: unknown version, a party not in it, version 1, a repeated
 *   version, versions out of order with sizes, a joining party not starting
 *   at size 0 under the version that added it, `suspectFrom` on an
 *   activation that keeps the party's log key or outside the range the old
 *   key governed, or an activation after a frozen version.
 * @example epochsOf(chain, file.activations).keysFor('US', 1234)?.member.logKey
 */
export function epochsOf(chain: AccordChain, activations: readonly Activation[]): AccordEpochs {
  const byParty = new Map<string, Activation[]>();
  for (const a of activations) {
    str(a.party, 'ACCORD_MALFORMED', 'activation.party', { pattern: PARTY_ID, max: 16 });
    int(a.version, 'ACCORD_MALFORMED', 'activation.version', 1, Number.MAX_SAFE_INTEGER);
    int(a.size, 'ACCORD_MALFORMED', 'activation.size', 0, Number.MAX_SAFE_INTEGER);
    if (a.suspectFrom !== undefined) int(a.suspectFrom, 'ACCORD_MALFORMED', 'activation.suspectFrom', 0, Number.MAX_SAFE_INTEGER);
    const v = chain.version(a.version);
    if (!v) fail('ACCORD_CHAIN', `activation of version ${a.version}, which the chain does not have`);
    if (a.version === 1) fail('ACCORD_CHAIN', 'version 1 is activated implicitly at size 0');
    if (!v.party(a.party)) fail('ACCORD_CHAIN', `${a.party} activates version ${a.version}, which does not name it`);
    const list = byParty.get(a.party) ?? [];
    list.push(a);
    byParty.set(a.party, list);
  }
  const v1 = chain.versions[0]!;
  const parties = new Set<string>([...v1.accord.parties.map((p) => p.id), ...byParty.keys()]);
  const all = new Map<string, Lookup>();
  const sorted: Activation[] = [];
  for (const party of [...parties].sort()) {
    const acts = [...(byParty.get(party) ?? [])].sort((a, b) => a.version - b.version);
    const epochs: { -readonly [K in keyof PartyEpoch]: PartyEpoch[K] }[] = [];
    const founding = v1.party(party);
    if (founding) epochs.push({ party, version: v1, member: founding, from: 0 });
    for (const a of acts) {
      const v = chain.version(a.version)!;
      const prev = epochs[epochs.length - 1];
      if (!prev) {
        const joined = chain.versions.find((x) => x.party(party) !== undefined)!;
        if (a.version !== joined.version || a.size !== 0) fail('ACCORD_CHAIN', `${party} joined in version ${joined.version}: its log starts with that version's activation at size 0`);
      } else {
        if (a.version <= prev.version.version) fail('ACCORD_CHAIN', `${party} activates version ${a.version} twice`);
        if (prev.version.frozen) fail('ACCORD_CHAIN', `${party} activates version ${a.version} after frozen version ${prev.version.version}`);
        const implicit = prev.version.version === 1 && prev.from === 0;
        if (!(a.size > prev.from || (implicit && a.size === 0))) fail('ACCORD_CHAIN', `${party}'s activation of version ${a.version} at size ${a.size} is not after its activation of version ${prev.version.version} at ${prev.from}`);
        prev.until = a.size;
        const recovery = isRecovery(chain, party, v);
        if (a.suspectFrom !== undefined || recovery) {
          // A declared range is kept on any change of the party's log key: whoever holds a stolen old key
          // can add its prior signature to the recovery, which then no longer LOOKS like one.
          if (!recovery && formatVerifierKey(prev.member.logKey) === formatVerifierKey(v.party(party)!.logKey)) fail('ACCORD_CHAIN', `suspectFrom on ${party}'s activation of version ${a.version}, which does not change ${party}'s log key`);
          // The compromised key may have governed several epochs in a row (versions that kept it):
          // the suspect range may reach back to the first of them, and by default covers them all.
          const oldKey = formatVerifierKey(prev.member.logKey);
          let first = epochs.length - 1;
          while (first > 0 && formatVerifierKey(epochs[first - 1]!.member.logKey) === oldKey) first--;
          const start = epochs[first]!.from;
          const s = a.suspectFrom ?? start;
          if (s < start || s > a.size) fail('ACCORD_CHAIN', `suspectFrom ${s} outside the range ${party}'s compromised key governed [${start}, ${a.size}]`);
          for (let j = first; j < epochs.length; j++) {
            const e = epochs[j]!;
            if (s < e.until!) e.suspectFrom = Math.max(s, e.from);
          }
        }
      }
      epochs.push({ party, version: v, member: v.party(party)!, from: a.size, ...(v.frozen ? { until: a.size + 1 } : {}) });
      sorted.push(a.suspectFrom === undefined ? { party, version: a.version, size: a.size } : { party, version: a.version, size: a.size, suspectFrom: a.suspectFrom });
    }
    // An empty implicit version-1 epoch [0, 0) stays: the binary search finds the later epoch at 0.
    all.set(party, { epochs, last: 0 });
  }

  const lookup = (party: string): Lookup | undefined => all.get(party);

  const find = (l: Lookup, position: number): number => {
    const es = l.epochs;
    const c = es[l.last];
    if (c && c.from <= position && (c.until === undefined || position < c.until) && c.until !== c.from) return l.last;
    // Last epoch with from ≤ position (an empty epoch [x, x) never governs an index).
    let lo = 0;
    let hi = es.length - 1;
    let at = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (es[mid]!.from <= position) {
        at = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    return at;
  };

  const keysFor = (party: string, position: number): PartyEpoch | undefined => {
    const l = lookup(party);
    if (!l || !Number.isSafeInteger(position) || position < 0) return undefined;
    const i = find(l, position);
    if (i < 0) return undefined;
    const e = l.epochs[i]!;
    if (e.until !== undefined && position >= e.until) return undefined;
    l.last = i;
    return e;
  };

  const checkpointKeys = (party: string, size: number): AccordMember[] => {
    const l = lookup(party);
    if (!l || !Number.isSafeInteger(size) || size < 0) return [];
    const i = find(l, size);
    if (i < 0) return [];
    const out: AccordMember[] = [];
    const seen = new Set<string>();
    // Walk back over epochs ending exactly at `size` (the rotation size is valid for both sides).
    let j = i;
    while (j > 0 && l.epochs[j - 1]!.until === size) j--;
    for (; j <= i; j++) {
      const e = l.epochs[j]!;
      if (e.until !== undefined && size > e.until) continue;
      const k = formatVerifierKey(e.member.logKey);
      if (seen.has(k)) continue;
      seen.add(k);
      out.push(e.member);
    }
    return out;
  };

  const retired = (party: string, key: VerifierKey | string, size: number): boolean => {
    const l = lookup(party);
    if (!l) return false;
    const k = keyString(key);
    const mine = l.epochs.filter((e) => formatVerifierKey(e.member.logKey) === k);
    if (mine.length === 0) return false;
    if (checkpointKeys(party, size).some((m) => formatVerifierKey(m.logKey) === k)) return false;
    const lastValid = mine.reduce((m, e) => Math.max(m, e.until === undefined ? Number.POSITIVE_INFINITY : e.until), 0);
    return size > lastValid;
  };

  const witnessCache = new Map<string, readonly WitnessKeyEpoch[]>();
  const witnessKeys = (party: string): readonly WitnessKeyEpoch[] => {
    const hit = witnessCache.get(party);
    if (hit) return hit;
    const out: { key: VerifierKey; from: number; until?: number }[] = [];
    for (const v of chain.versions) {
      const m = v.party(party);
      const cur = out[out.length - 1];
      const open = cur !== undefined && cur.until === undefined;
      if (!m) {
        if (open) cur.until = v.version;
        continue;
      }
      if (open && formatVerifierKey(cur.key) === formatVerifierKey(m.witnessKey)) continue;
      if (open) cur.until = v.version;
      out.push({ key: m.witnessKey, from: v.version });
    }
    witnessCache.set(party, out);
    return out;
  };

  const suspect = (party: string, index: number): boolean => {
    const e = keysFor(party, index);
    return e?.suspectFrom !== undefined && index >= e.suspectFrom;
  };

  return {
    chain,
    activations: sorted,
    epochs: (party) => lookup(party)?.epochs ?? [],
    keysFor,
    checkpointKeys,
    retired,
    witnessKeys,
    suspect,
  };
}

/**
 * Parses a chain file strictly (I-JSON, closed members, accord shapes).
 * Nothing is verified.
 * @throws ParseError `ACCORD_MALFORMED`; `INPUT_TOO_LARGE`.
 */
export function parseChainFile(input: string | Uint8Array | ChainFile): ChainFile {
  let v: unknown = input;
  if (typeof input === 'string' || input instanceof Uint8Array) {
    if ((typeof input === 'string' ? input.length : input.length) > MAX_CHAIN_FILE_BYTES) fail('INPUT_TOO_LARGE', 'chain file larger than 64 MiB');
    try {
      v = parseJson(input, { maxBytes: MAX_CHAIN_FILE_BYTES });
    } catch (e) {
      return fail('ACCORD_MALFORMED', 'chain file is not valid JSON', e);
    }
  }
  const o = obj(v, 'ACCORD_MALFORMED', 'chain', ['channel', 'versions', 'activations']);
  const versions = arr(o['versions'], 'ACCORD_MALFORMED', 'chain.versions', 1_000_000, (x, p) => {
    const s = obj(x, 'ACCORD_MALFORMED', p, ['accord', 'signatures']);
    return { accord: parseAccord(s['accord']), signatures: parseSignatures(s['signatures']) };
  });
  const activations = arr(o['activations'], 'ACCORD_MALFORMED', 'chain.activations', 10_000_000, (x, p) => {
    const a = obj(x, 'ACCORD_MALFORMED', p, ['party', 'version', 'size', 'entry'], ['suspectFrom']);
    const out: ChainFileActivation = {
      party: str(a['party'], 'ACCORD_MALFORMED', `${p}.party`, { pattern: PARTY_ID, max: 16 }),
      version: int(a['version'], 'ACCORD_MALFORMED', `${p}.version`, 2, Number.MAX_SAFE_INTEGER),
      size: int(a['size'], 'ACCORD_MALFORMED', `${p}.size`, 0, Number.MAX_SAFE_INTEGER),
      entry: str(a['entry'], 'ACCORD_MALFORMED', `${p}.entry`, { min: 4, max: 400 * 1024 }),
    };
    return 'suspectFrom' in a ? { ...out, suspectFrom: int(a['suspectFrom'], 'ACCORD_MALFORMED', `${p}.suspectFrom`, 0, Number.MAX_SAFE_INTEGER) } : out;
  });
  return { channel: str(o['channel'], 'ACCORD_MALFORMED', 'chain.channel', { pattern: /^[0-9a-f]{64}$/, max: 64 }), versions, activations };
}

/**
 * A chain file as text: members sorted (RFC 8785 order), two-space
 * indentation, final newline. Deterministic, so a file can be compared byte for byte.
 */
export function formatChainFile(file: ChainFile): string {
  return `${JSON.stringify(JSON.parse(canonicalize(file)), null, 2)}\n`;
}

/** Builds the chain file of a verified chain and its activation records. */
export function chainFileOf(chain: AccordChain, activations: readonly ChainFileActivation[]): ChainFile {
  return { channel: chain.channel, versions: chain.signed, activations };
}

/**
 * Checks an activation entry: `party`'s entry at index `size` of type
 * `accord.activation`, on this channel, whose clear body names the version
 * and its digest, signed by the party's log key in that version.
 * @returns the body's `suspectFrom` (signed by that key), or undefined.
 * @throws VerificationError `ACCORD_CHAIN` (`SIGNATURE_INVALID` for a bad
 *   signature), also for a body `suspectFrom` that is not a log size.
 */
export function checkActivationEntry(chain: AccordChain, a: ChainFileActivation): number | undefined {
  const bad = (why: string): never => fail('ACCORD_CHAIN', `${a.party}'s activation entry of version ${a.version}: ${why}`);
  const v = chain.version(a.version);
  const m = v?.party(a.party);
  if (!v || !m) return bad('no such version or party');
  let text: string;
  let e: Record<string, unknown>;
  try {
    text = decodeUtf8(parseBase64(a.entry), 'entry');
    e = JSON.parse(text) as Record<string, unknown>;
  } catch (err) {
    return fail('ACCORD_CHAIN', `${a.party}'s activation entry of version ${a.version} is not base64 JSON`, err);
  }
  if (typeof e !== 'object' || e === null || Array.isArray(e)) return bad('not an object');
  let canonical: string;
  try {
    canonical = canonicalize(e);
  } catch (err) {
    return fail('ACCORD_CHAIN', `${a.party}'s activation entry of version ${a.version} is not canonical JSON`, err);
  }
  if (canonical !== text) bad('not canonical JSON (RFC 8785)');
  const from = e['from'] as Record<string, unknown> | undefined;
  const body = (e['body'] as Record<string, unknown> | undefined)?.['clear'] as Record<string, unknown> | undefined;
  if (e['v'] !== 1 || e['accord'] !== chain.channel) bad('not an entry of this channel');
  if (typeof from !== 'object' || from === null || from['party'] !== a.party) bad(`not ${a.party}'s entry`);
  if (e['seq'] !== a.size) bad(`seq is not ${a.size}`);
  if (e['type'] !== ACTIVATION_ENTRY_TYPE) bad(`type is not ${ACTIVATION_ENTRY_TYPE}`);
  if (e['marking'] !== 'TLP:CLEAR') bad('marking is not TLP:CLEAR');
  if (typeof body !== 'object' || body === null || body['version'] !== a.version || body['digest'] !== v.digest) bad("body does not name the version's digest");
  if (typeof e['sig'] !== 'string') bad('no signature');
  let sig: Uint8Array;
  try {
    sig = parseBase64(e['sig'] as string);
  } catch (err) {
    return fail('ACCORD_CHAIN', `${a.party}'s activation entry signature is not base64`, err);
  }
  const { sig: _s, ...env } = e;
  if (!m.verify(encodeUtf8(`${ENTRY_CONTEXT}${canonicalize(env)}`), sig)) fail('SIGNATURE_INVALID', `${a.party}'s activation entry of version ${a.version} is not signed by its key in that version`);
  const s = body!['suspectFrom'];
  if (s === undefined) return undefined;
  if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0) return bad('body suspectFrom is not a log size');
  return s;
}

/**
 * The signed `suspectFrom` of an activation entry's clear body (base64
 * entry bytes as a chain file carries them), or undefined. Reads only: the
 * entry's signature is {@link checkActivationEntry}'s business.
 */
export function activationSuspectFrom(entry: string): number | undefined {
  try {
    const e = JSON.parse(decodeUtf8(parseBase64(entry), 'entry')) as { body?: { clear?: { suspectFrom?: unknown } } };
    const s = e.body?.clear?.suspectFrom;
    return typeof s === 'number' && Number.isSafeInteger(s) && s >= 0 ? s : undefined;
  } catch {
    return undefined;
  }
}

/** Options for {@link verifyChainFile}. */
export interface VerifyChainFileOptions extends VerifyAccordChainOptions {
  /** Version 1, when the file starts at version 2 or has no versions (a node's stored chain keeps the genesis apart); a file that starts at version 1 must start at this one. */
  readonly genesis?: SignedAccord;
}

/**
 * Verifies a chain file: the versions as {@link verifyAccordChain}, the
 * channel id, every activation entry ({@link checkActivationEntry}), and
 * the activations against the chain ({@link epochsOf}). Each suspect
 * range is taken from the signed activation entry, never from the file's
 * own `suspectFrom` member, which must repeat it exactly when present.
 * @param input the file (text, bytes or parsed).
 * @returns the verified chain and its epochs.
 * @throws ParseError `ACCORD_MALFORMED`; the codes of verifyAccordChain,
 *   checkActivationEntry and epochsOf; `ACCORD_CHAIN` for a channel id that
 *   is not version 1's digest.
 * @example const { chain, epochs } = verifyChainFile(readFileSync('chain.json'));
 */
export function verifyChainFile(input: string | Uint8Array | ChainFile, o: VerifyChainFileOptions = {}): { chain: AccordChain; epochs: AccordEpochs } {
  const file = parseChainFile(input);
  const head = file.versions[0];
  let versions = file.versions;
  if (o.genesis !== undefined) {
    if (head === undefined || head.accord.version !== undefined) versions = [o.genesis, ...file.versions];
    else if (canonicalize(head.accord) !== canonicalize(o.genesis.accord)) fail('ACCORD_CHAIN', 'the chain file starts at another version 1 than the genesis');
  }
  const chain = verifyAccordChain(versions, o.trusted === undefined ? {} : { trusted: o.trusted });
  if (chain.channel !== file.channel) fail('ACCORD_CHAIN', 'the chain file names another channel than its version 1');
  const signed = file.activations.map((a): Activation => {
    const s = checkActivationEntry(chain, a);
    if (a.suspectFrom !== s) fail('ACCORD_CHAIN', `${a.party}'s activation of version ${a.version}: the chain file says suspectFrom ${a.suspectFrom ?? 'none'}, its signed activation entry ${s ?? 'none'}`);
    return s === undefined ? { party: a.party, version: a.version, size: a.size } : { party: a.party, version: a.version, size: a.size, suspectFrom: s };
  });
  const epochs = epochsOf(chain, signed);
  return { chain, epochs };
}

/** Base64 of entry bytes, as chain files carry activation entries. */
export function activationEntryField(bytes: Uint8Array): string {
  return formatBase64(bytes);
}

/**
 * The member whose log key may sign `party`'s checkpoint of tree size
 * `size` with `key` — what a verifier calls before trusting a checkpoint
 * signature made by `key`.
 * @returns the member (its `logKey` is `key`).
 * @throws ArgumentError `CHANNEL_FROZEN` for a size beyond the end of a
 *   frozen log; VerificationError `KEY_RETIRED` when `key` is one of the party's
 *   keys but `size` is beyond its rotation size (keep the checkpoint: it is
 *   evidence against the old key); `NOTE_UNVERIFIED` when `key` is not a
 *   key of the party valid at `size` otherwise.
 * @example checkpointSigner(epochs, 'US', usOldKey, 120) // throws KEY_RETIRED after a rotation at 100
 */
export function checkpointSigner(epochs: AccordEpochs, party: string, key: VerifierKey | string, size: number): AccordMember {
  const k = keyString(key);
  const m = epochs.checkpointKeys(party, size).find((x) => formatVerifierKey(x.logKey) === k);
  if (m) return m;
  const all = epochs.epochs(party);
  const last = all[all.length - 1];
  if (last?.version.frozen && last.until !== undefined && size > last.until) fail('CHANNEL_FROZEN', `${party}'s log ended at size ${last.until} when version ${last.version.version} froze the channel`);
  if (epochs.retired(party, key, size)) fail('KEY_RETIRED', `${party}'s key ${k.split('+').slice(0, 2).join('+')} was retired before tree size ${size}`);
  return fail('NOTE_UNVERIFIED', `not a log key of ${party} valid at tree size ${size}`);
}

/**
 * Evidence that a party's log key signed a checkpoint beyond its rotation
 * size (kind `retired-key`; a document of its own beside fork.ts's
 * checkpoint proofs, same `type`, because it verifies against the accord
 * chain rather than one accord):
 *
 *     v, type "parley/fork-proof", accord (channel id), party, kind "retired-key",
 *     checkpoint   the note, carrying ONLY the retired key's signature
 *     activation   the party's activation {party, version, size, entry} of a version V
 *                  whose key differs: its entry, signed by the party's key in V, shows
 *                  the log moved to V at `size`
 *
 * Sound: after the activation of V at R only V's key (and later ones) sign
 * the party's checkpoints of sizes > R; the proof requires that the
 * signing key is the party's key in some version before V and in NO version
 * from V on, and that the checkpoint's size is > R.
 */
export interface RetiredKeyProof {
  readonly v: 1;
  readonly type: 'parley/fork-proof';
  readonly accord: string;
  readonly party: string;
  readonly kind: 'retired-key';
  readonly checkpoint: string;
  readonly activation: ChainFileActivation;
}

/** A retired-key proof that verified. */
export interface VerifiedRetiredKey {
  readonly channel: string;
  readonly party: string;
  /** The retired key. */
  readonly key: VerifierKey;
  /** The checkpoint's tree size (> rotatedAt). */
  readonly size: number;
  /** The activation that retired the key: version and size. */
  readonly version: number;
  readonly rotatedAt: number;
  /** Canonical JSON (RFC 8785) of the proof. */
  readonly text: string;
}

function retiredShape(v: unknown): RetiredKeyProof {
  const M = 'FORK_PROOF_MALFORMED';
  const o = obj(v, M, 'fork', ['v', 'type', 'accord', 'party', 'kind', 'checkpoint', 'activation']);
  if (o['v'] !== 1 || o['type'] !== 'parley/fork-proof' || o['kind'] !== 'retired-key') fail(M, 'fork: want v 1, type parley/fork-proof, kind retired-key');
  const a = obj(o['activation'], M, 'fork.activation', ['party', 'version', 'size', 'entry'], ['suspectFrom']);
  const activation: ChainFileActivation = {
    party: str(a['party'], M, 'fork.activation.party', { pattern: PARTY_ID, max: 16 }),
    version: int(a['version'], M, 'fork.activation.version', 2, Number.MAX_SAFE_INTEGER),
    size: int(a['size'], M, 'fork.activation.size', 0, Number.MAX_SAFE_INTEGER),
    entry: str(a['entry'], M, 'fork.activation.entry', { min: 4, max: 400 * 1024 }),
  };
  return {
    v: 1,
    type: 'parley/fork-proof',
    accord: str(o['accord'], M, 'fork.accord', { pattern: /^[0-9a-f]{64}$/, max: 64 }),
    party: str(o['party'], M, 'fork.party', { pattern: PARTY_ID, max: 16 }),
    kind: 'retired-key',
    checkpoint: str(o['checkpoint'], M, 'fork.checkpoint', { min: 1, max: MAX_CHECKPOINT_BYTES }),
    activation: 'suspectFrom' in a ? { ...activation, suspectFrom: int(a['suspectFrom'], M, 'fork.activation.suspectFrom', 0, Number.MAX_SAFE_INTEGER) } : activation,
  };
}

/**
 * Parses a retired-key proof: canonical JSON (RFC 8785), closed members. Nothing is verified.
 * @throws ParseError `FORK_PROOF_MALFORMED`.
 */
export function parseRetiredKeyProof(input: string | Uint8Array): RetiredKeyProof {
  let v: unknown;
  try {
    v = parseJson(input, { maxBytes: 1024 * 1024 });
  } catch (e) {
    return fail('FORK_PROOF_MALFORMED', 'fork proof is not JSON', e);
  }
  let text: string;
  try {
    text = canonicalize(v);
  } catch (e) {
    return fail('FORK_PROOF_MALFORMED', 'fork proof is not canonical JSON (RFC 8785)', e);
  }
  if (text !== (typeof input === 'string' ? input : decodeUtf8(input))) fail('FORK_PROOF_MALFORMED', 'fork proof is not canonical JSON (RFC 8785)');
  return retiredShape(v);
}

/** The party's log keys (as strings) in versions [from, to] of the chain. */
function partyKeys(chain: AccordChain, party: string, from: number, to: number): Map<string, VerifierKey> {
  const out = new Map<string, VerifierKey>();
  for (const v of chain.versions) {
    if (v.version < from || v.version > to) continue;
    const m = v.party(party);
    if (m) out.set(formatVerifierKey(m.logKey), m.logKey);
  }
  return out;
}

/**
 * Verifies a retired-key proof against the channel's verified chain.
 * @throws ParseError `FORK_PROOF_MALFORMED`; VerificationError `FORK_PROOF_INVALID`.
 * @example verifyRetiredKeyProof(text, chain).rotatedAt
 */
export function verifyRetiredKeyProof(proof: RetiredKeyProof | string | Uint8Array, chain: AccordChain): VerifiedRetiredKey {
  const p = typeof proof === 'string' || proof instanceof Uint8Array ? parseRetiredKeyProof(proof) : retiredShape(proof);
  const invalid = (why: string, cause?: unknown): never => fail('FORK_PROOF_INVALID', why, cause);
  if (p.accord !== chain.channel) invalid('fork proof is for another channel');
  if (p.activation.party !== p.party) invalid('the activation is not of the accused party');
  try {
    checkActivationEntry(chain, p.activation);
  } catch (e) {
    if (!isParleyError(e)) throw e;
    invalid(`activation: ${e.message}`, e);
  }
  const later = partyKeys(chain, p.party, p.activation.version, Number.MAX_SAFE_INTEGER);
  const earlier = [...partyKeys(chain, p.party, 1, p.activation.version - 1)].filter(([k]) => !later.has(k)).map(([, k]) => k);
  if (earlier.length === 0) invalid(`version ${p.activation.version} retired no key of ${p.party}`);
  let opened: VerifiedCheckpoint;
  try {
    opened = openCheckpoint(p.checkpoint, new VerifierSet(earlier), { origin: earlier[0]!.name });
  } catch (e) {
    if (!isParleyError(e)) throw e;
    return invalid(`checkpoint: ${e.message}`, e);
  }
  const note = parseNote(p.checkpoint);
  if (note.signatures.length !== 1 || decodeUtf8(formatNote(note)) !== p.checkpoint) invalid('the checkpoint must carry only the retired key\u2019s signature, in canonical form');
  const size = opened.checkpoint.treeSize;
  if (!(size > p.activation.size)) invalid(`tree size ${size} is not beyond the rotation size ${p.activation.size}`);
  const signer = opened.signers[0]!;
  const key = earlier.find((k) => k.keyId === signer.keyId)!;
  return { channel: chain.channel, party: p.party, key, size, version: p.activation.version, rotatedAt: p.activation.size, text: canonicalize(p) };
}

/**
 * Builds a retired-key proof when `note` (a checkpoint of `party`'s log) is
 * signed by one of the party's keys beyond that key's rotation size.
 * @param file the verified chain and its activations with their entries (a chain file's).
 * @returns the proof; undefined when no signature on the note is by a retired key.
 * @throws note and checkpoint parse errors for a malformed note.
 */
export function retiredKeyProof(chain: AccordChain, activations: readonly ChainFileActivation[], party: string, note: string | Uint8Array): RetiredKeyProof | undefined {
  const parsed = parseNote(note);
  const cp = parseCheckpoint(parsed.text);
  const keys = partyKeys(chain, party, 1, Number.MAX_SAFE_INTEGER);
  const mine = [...activations].filter((a) => a.party === party).sort((a, b) => a.version - b.version);
  for (const [, key] of keys) {
    const id = `${key.name}+${key.keyId}`;
    const sig = parsed.signatures.find((s) => `${s.name}+${s.keyId}` === id);
    if (!sig) continue;
    const clean = decodeUtf8(formatNote({ text: parsed.text, signatures: [sig] }));
    try {
      openCheckpoint(clean, new VerifierSet([key]), { origin: key.name });
    } catch (e) {
      if (!isParleyError(e)) throw e;
      continue;
    }
    // The first activation at a size below the checkpoint's, of a version from which on the key is gone.
    for (const a of mine) {
      if (!(cp.treeSize > a.size)) continue;
      if (partyKeys(chain, party, a.version, Number.MAX_SAFE_INTEGER).has(formatVerifierKey(key))) continue;
      if (!partyKeys(chain, party, 1, a.version - 1).has(formatVerifierKey(key))) continue;
      const proof: RetiredKeyProof = { v: 1, type: 'parley/fork-proof', accord: chain.channel, party, kind: 'retired-key', checkpoint: clean, activation: { party: a.party, version: a.version, size: a.size, entry: a.entry } };
      verifyRetiredKeyProof(proof, chain); // a builder never hands out a proof that does not verify
      return proof;
    }
  }
  return undefined;
}

/** The proof's canonical text (RFC 8785). */
export function formatRetiredKeyProof(proof: RetiredKeyProof): string {
  return canonicalize(retiredShape(proof));
}
