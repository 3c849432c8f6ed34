/**
 * The accord: the founding document of a Parley channel.
 *
 * An accord is RFC 8785 canonical JSON listing the parties (id, bilingual
 * names, node URLs, log verifier key, HPKE public key), the taxonomy it uses
 * (by hash), deadlines, heartbeat interval, red lines and the amendment
 * quorum. Its **id** is the lowercase hex SHA-256 of its canonical bytes; the
 * id names the channel and is bound into every entry.
 *
 *     accord id  = hex(SHA-256(JCS(accord)))
 *     signature  = Ed25519(party log key, "parley/accord/v1\n" || SHA-256(JCS(accord)))
 *
 * A signed accord file is `{"accord": {…}, "signatures": [{"party", "sig"}]}`
 * (signatures sorted by party; a party signs with the key its own entry
 * names, so the accord certifies each party's keys to the others). A node
 * runs only on an accord signed by every party.
 *
 * Log origins (key names) must not start with `parley/`, the prefix of every
 * Parley signing context, so no Parley signature can be replayed as a
 * checkpoint signature or the reverse.
 *
 * @example
 *   const draft = draftAccord({ name: 'us-cn-hotline', parties: [us, cn] });
 *   let signed = { accord: draft, signatures: [] };
 *   signed = signAccord(signed, 'US', usKey); signed = signAccord(signed, 'CN', cnKey);
 *   verifyAccord(signed).id; // the channel id
 */
import { fail } from '../errors.js';
import { bytesEqual, concatBytes, encodeUtf8, formatBase64, formatHex, parseBase64 } from '../encoding.js';
import { canonicalize, canonicalizeToBytes } from '../cjson.js';
import { type JsonValue, parseJson } from '../ijson.js';
import { type Ed25519Verify, type SigningCrypto, getCrypto } from '../crypto/provider.js';
import { SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519, type SignerKey, type VerifierKey, cosignerKey, parseVerifierKey, verifierKeyOf, formatVerifierKey } from '../note/key.js';
import { arr, int, obj, sortedUnique, str, time } from '../shape.js';
import { type Localized, type Precedence, PRECEDENCES, TAXONOMY_V1, type Taxonomy, defaultDeadlines, taxonomyHash } from '../taxonomy/taxonomy.js';
import { type AccordRoles, DEFAULT_ROLES, parseRoles } from './roles.js';
import { TSA_NAME_RE } from '../tsa/wire.js';

/** Accord format version. */
export const ACCORD_VERSION = 1;
/** Signing context of accord signatures. */
export const ACCORD_CONTEXT = 'parley/accord/v1\n';

export interface AccordParty {
  /** Party id, e.g. `US`: ^[A-Z][A-Z0-9-]{1,15}$. */
  readonly id: string;
  readonly names: Localized;
  /** Base URLs of the party's node (http or https). */
  readonly urls: readonly string[];
  /** Log verifier key (C2SP note key, Ed25519); its name is the log origin. */
  readonly logKey: string;
  /** X25519 public key for HPKE-sealed bodies, base64. */
  readonly hpkeKey: string;
  /**
   * C2SP note verifier key of type 0x04 (cosignature/v1) of the party's
   * witness. Absent (always in version 1) = the 0x04 form of `logKey`
   * ({@link cosignerKey}), what every node used before issue 11.
   */
  readonly witnessKey?: string;
}

export interface AccordDeadlines {
  /** Machine receipt deadline, for every entry. */
  readonly receiptSeconds: number;
  /** Human acknowledgement deadline by precedence. */
  readonly ackSeconds: Readonly<Record<Precedence, number>>;
  /** Initial incident report deadline by severity level "0".."7". */
  readonly initialReportSeconds: Readonly<Record<string, number>>;
}

/** A red line: an incident in `category` at or above `minSeverity` forces FLASH and notifies every party. */
export interface RedLine {
  readonly category: string;
  readonly minSeverity: number;
}

export interface Accord {
  readonly v: 1;
  /** Accord version: absent in version 1 (the founding accord); when present an integer ≥ 2. */
  readonly version?: number;
  /** Hex SHA-256 of the canonical accord of the version before; present iff `version` is. */
  readonly previous?: string;
  /** Short machine name, e.g. `us-cn-ai-hotline`. */
  readonly name: string;
  readonly title: Localized;
  readonly created: string;
  /** Sorted by id. */
  readonly parties: readonly AccordParty[];
  readonly taxonomy: { readonly id: string; readonly version: string; readonly sha256: string };
  readonly deadlines: AccordDeadlines;
  readonly heartbeatSeconds: number;
  readonly redLines: readonly RedLine[];
  /**
   * How many approvals (distinct version-N keys of kept parties) an
   * amendment needs; when parties are removed or recovered it is lowered to
   * the parties able to approve, never below a strict majority of the
   * version's parties (chain.ts {@link amendmentThreshold}). Default: every party.
   */
  readonly amendmentQuorum: number;
  /**
   * RFC 3161 time-stamping authorities whose tokens on checkpoints count as
   * trusted time (issue 12; `@parley/core/tsa` verifies them). Absent = no
   * time stamping; allowed in every version (an absent member leaves the
   * accord's bytes, and so its id, as they were).
   */
  readonly timestamping?: AccordTimestamping;
  /** Which officer roles may send FLASH, send reports and amend the accord (roles.ts); absent = {@link DEFAULT_ROLES}. */
  readonly roles?: AccordRoles;
}

/** The accord's `timestamping` member: which TSAs count, and how many must agree (k of n). */
export interface AccordTimestamping {
  /** 1..8 authorities, sorted by name, names unique. */
  readonly authorities: readonly TimestampAuthority[];
  /** k: how many distinct authorities must stamp a checkpoint before its time counts (1..authorities.length). */
  readonly required: number;
}

/** One RFC 3161 time-stamping authority as the accord lists it. */
export interface TimestampAuthority {
  /** ^[a-z0-9][a-z0-9-]{0,31}$; the `authority` of a token's wire form. */
  readonly name: string;
  /** http(s) URL where nodes POST `application/timestamp-query` (RFC 3161 §3.4). */
  readonly url: string;
  /** 1..4 trust anchors: standard base64 of DER X.509 certificates; the TSA's certificate must chain to one. */
  readonly roots: readonly string[];
  /** The TSA policy OID (dotted) its tokens must carry (RFC 3161 §2.4.2 `policy`). */
  readonly policy: string;
  /** Tokens count only when genTime is within validFrom..validUntil (inclusive). */
  readonly validFrom: string;
  readonly validUntil: string;
}

export interface AccordSignature {
  readonly party: string;
  /** Base64 Ed25519 signature over ACCORD_CONTEXT || SHA-256(JCS(accord)). */
  readonly sig: string;
  /**
   * Versions ≥ 2 only: made with the party's log key of the version BEFORE
   * (an approval under the old accord). Absent: made with the key this
   * version names for the party (consent, proof of possession).
   */
  readonly prior?: true;
}

export interface SignedAccord {
  readonly accord: Accord;
  readonly signatures: readonly AccordSignature[];
}

/** An accord whose signatures were checked (see {@link verifyAccord}). */
export interface VerifiedAccord {
  readonly accord: Accord;
  /** Channel id: hex SHA-256 of the canonical accord of VERSION 1, for every version (= `channel`). */
  readonly id: string;
  /** Same as `id`: the channel id. */
  readonly channel: string;
  /** Accord version (1 for the founding accord). */
  readonly version: number;
  /** Hex SHA-256 of THIS version's canonical accord (= `id` for version 1). */
  readonly digest: string;
  /** True for a version ≥ 2 with one party left: no log accepts new entries once it is in force. */
  readonly frozen: boolean;
  /** Parties whose signature verified. */
  readonly signedBy: readonly string[];
  /** The verified signatures, sorted by party (so a reader can check them again itself). */
  readonly signatures: readonly AccordSignature[];
  /** True when every party signed (version 1); for a later version, true: it met the amendment rules. */
  readonly complete: boolean;
  /** A party and its parsed log key, or undefined. */
  party(id: string): AccordMember | undefined;
}

/** A party as a verifier sees it: its accord entry, parsed keys and a cached signature check. */
export interface AccordMember {
  readonly party: AccordParty;
  readonly logKey: VerifierKey;
  /** The party's witness key (cosignature/v1, 0x04): `witnessKey` if the accord names one, else the 0x04 form of the log key. */
  readonly witnessKey: VerifierKey;
  readonly hpkeKey: Uint8Array;
  /** Ed25519 check under the party's log key (the native key object is made once per crypto provider). */
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

export const PARTY_ID = /^[A-Z][A-Z0-9-]{1,15}$/;
const NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;
const URL_RE = /^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/;
const HEX64 = /^[0-9a-f]{64}$/;
const MAX_PARTIES = 64;
/** A dotted OID (X.680 §32.3): first arc 0..2, no leading zeros. */
export const OID_RE = /^[0-2](\.(0|[1-9][0-9]{0,15})){1,30}$/;
const MAX_AUTHORITIES = 8;
const MAX_ROOTS = 4;
/** A root certificate is at most 16 KiB of DER (base64 text ≤ 21848 characters). */
const MAX_ROOT_BASE64 = 21848;
const MAX_SECONDS = 366 * 24 * 3600;

function localized(v: unknown, path: string): Localized {
  const o = obj(v, 'ACCORD_MALFORMED', path, ['en', 'zh-CN']);
  return { en: str(o['en'], 'ACCORD_MALFORMED', `${path}.en`, { min: 1, max: 200 }), 'zh-CN': str(o['zh-CN'], 'ACCORD_MALFORMED', `${path}.zh-CN`, { min: 1, max: 200 }) };
}

function seconds(v: unknown, path: string): number {
  return int(v, 'ACCORD_MALFORMED', path, 1, MAX_SECONDS);
}

function party(v: unknown, path: string, later: boolean): AccordParty {
  const o = obj(v, 'ACCORD_MALFORMED', path, ['id', 'names', 'urls', 'logKey', 'hpkeKey'], later ? ['witnessKey'] : []);
  const logKey = str(o['logKey'], 'ACCORD_MALFORMED', `${path}.logKey`, { min: 1, max: 400 });
  let k: VerifierKey;
  try {
    k = parseVerifierKey(logKey);
  } catch (e) {
    return fail('ACCORD_MALFORMED', `${path}.logKey: not a note verifier key`, e);
  }
  if (k.type !== SIG_TYPE_ED25519) fail('ACCORD_MALFORMED', `${path}.logKey: must be an Ed25519 (0x01) key`);
  if (k.name.startsWith('parley/')) fail('ACCORD_MALFORMED', `${path}.logKey: origins must not start with "parley/"`);
  const hpkeKey = str(o['hpkeKey'], 'ACCORD_MALFORMED', `${path}.hpkeKey`, { min: 44, max: 44 });
  try {
    if (parseBase64(hpkeKey).length !== 32) throw new Error('length');
  } catch (e) {
    fail('ACCORD_MALFORMED', `${path}.hpkeKey: want 32 bytes of base64`, e);
  }
  const out: AccordParty = {
    id: str(o['id'], 'ACCORD_MALFORMED', `${path}.id`, { pattern: PARTY_ID, max: 16 }),
    names: localized(o['names'], `${path}.names`),
    urls: arr(o['urls'], 'ACCORD_MALFORMED', `${path}.urls`, 8, (u, p) => str(u, 'ACCORD_MALFORMED', p, { pattern: URL_RE, max: 300 })),
    logKey,
    hpkeKey,
  };
  if (!('witnessKey' in o)) return out;
  const witnessKey = str(o['witnessKey'], 'ACCORD_MALFORMED', `${path}.witnessKey`, { min: 1, max: 400 });
  let w: VerifierKey;
  try {
    w = parseVerifierKey(witnessKey);
  } catch (e) {
    return fail('ACCORD_MALFORMED', `${path}.witnessKey: not a note verifier key`, e);
  }
  if (w.type !== SIG_TYPE_COSIGNATURE_V1) fail('ACCORD_MALFORMED', `${path}.witnessKey: must be a cosignature/v1 (0x04) key`);
  if (w.name.startsWith('parley/')) fail('ACCORD_MALFORMED', `${path}.witnessKey: key names must not start with "parley/"`);
  return { ...out, witnessKey };
}

/**
 * A DER SEQUENCE whose definite length spans exactly `der` (X.690 §8.1.3,
 * §10.1): the shape of an X.509 certificate, checked without a certificate
 * parser (core's main entry stays free of pkijs; `@parley/core/tsa` parses it
 * when it verifies a token).
 */
function isDerSequence(der: Uint8Array): boolean {
  if (der.length < 4 || der[0] !== 0x30) return false;
  const first = der[1]!;
  if (first < 0x80) return 2 + first === der.length;
  const n = first & 0x7f;
  if (n === 0 || n > 3 || der[2] === 0) return false;
  let len = 0;
  for (let i = 0; i < n; i++) len = len * 256 + der[2 + i]!;
  return len >= 0x80 && 2 + n + len === der.length;
}

function timestampAuthority(v: unknown, path: string): TimestampAuthority {
  const o = obj(v, 'ACCORD_MALFORMED', path, ['name', 'url', 'roots', 'policy', 'validFrom', 'validUntil']);
  const roots = arr(o['roots'], 'ACCORD_MALFORMED', `${path}.roots`, MAX_ROOTS, (r, p) => {
    const b64 = str(r, 'ACCORD_MALFORMED', p, { min: 4, max: MAX_ROOT_BASE64 });
    let der: Uint8Array;
    try {
      der = parseBase64(b64);
    } catch (e) {
      return fail('ACCORD_MALFORMED', `${p}: not standard base64`, e);
    }
    if (!isDerSequence(der)) fail('ACCORD_MALFORMED', `${p}: not a DER certificate`);
    return b64;
  }, 1);
  if (new Set(roots).size !== roots.length) fail('ACCORD_MALFORMED', `${path}.roots: a root is listed twice`);
  const validFrom = time(o['validFrom'], 'ACCORD_MALFORMED', `${path}.validFrom`);
  const validUntil = time(o['validUntil'], 'ACCORD_MALFORMED', `${path}.validUntil`);
  // Same-format ISO times compare as strings.
  if (!(validFrom < validUntil)) fail('ACCORD_MALFORMED', `${path}.validUntil: must be after validFrom`);
  return {
    name: str(o['name'], 'ACCORD_MALFORMED', `${path}.name`, { pattern: TSA_NAME_RE, max: 32 }),
    url: str(o['url'], 'ACCORD_MALFORMED', `${path}.url`, { pattern: URL_RE, max: 300 }),
    roots,
    policy: str(o['policy'], 'ACCORD_MALFORMED', `${path}.policy`, { pattern: OID_RE, max: 200 }),
    validFrom,
    validUntil,
  };
}

/**
 * Checks an accord's `timestamping` member (closed member sets; authorities
 * sorted by name and unique; `required` within 1..authorities).
 * @throws ParseError `ACCORD_MALFORMED` naming the member path.
 */
export function parseAccordTimestamping(v: unknown, path = 'accord.timestamping'): AccordTimestamping {
  const o = obj(v, 'ACCORD_MALFORMED', path, ['authorities', 'required']);
  const authorities = arr(o['authorities'], 'ACCORD_MALFORMED', `${path}.authorities`, MAX_AUTHORITIES, timestampAuthority, 1);
  sortedUnique(authorities.map((a) => a.name), 'ACCORD_MALFORMED', `${path}.authorities[].name`);
  return { authorities, required: int(o['required'], 'ACCORD_MALFORMED', `${path}.required`, 1, authorities.length) };
}

/**
 * Checks an accord's shape strictly (closed member sets, sorted parties,
 * valid keys, deadlines within a year, quorum within the party count).
 *
 * Version 1 (no `version` member) is the founding format, unchanged: at
 * least two parties, no `previous`, no `witnessKey`. A later version carries
 * `version` (an integer ≥ 2) and `previous` (hex SHA-256 of the version
 * before), may name witness keys, may have a single party (a frozen
 * channel), and no two of its parties may share a log public key or a
 * witness public key (a party's witness key is its `witnessKey`, else its
 * log key): each key counts once. Whether it follows its previous version is {@link verifyAmendment}'s job.
 * @throws ParseError `ACCORD_MALFORMED`.
 */
export function parseAccord(v: unknown): Accord {
  const o = obj(v, 'ACCORD_MALFORMED', 'accord', ['v', 'name', 'title', 'created', 'parties', 'taxonomy', 'deadlines', 'heartbeatSeconds', 'redLines', 'amendmentQuorum'], ['version', 'previous', 'roles', 'timestamping']);
  if (o['v'] !== ACCORD_VERSION) fail('ACCORD_MALFORMED', 'accord.v: unsupported version');
  if (('version' in o) !== ('previous' in o)) fail('ACCORD_MALFORMED', 'accord.previous: present exactly when accord.version is');
  const later = 'version' in o;
  const version = later ? int(o['version'], 'ACCORD_MALFORMED', 'accord.version', 2, Number.MAX_SAFE_INTEGER) : 1;
  const previous = later ? str(o['previous'], 'ACCORD_MALFORMED', 'accord.previous', { pattern: HEX64, max: 64 }) : undefined;
  const parties = arr(o['parties'], 'ACCORD_MALFORMED', 'accord.parties', MAX_PARTIES, (x, p) => party(x, p, later), later ? 1 : 2);
  sortedUnique(parties.map((p) => p.id), 'ACCORD_MALFORMED', 'accord.parties[].id');
  const origins = new Set(parties.map((p) => parseVerifierKey(p.logKey).name));
  if (origins.size !== parties.length) fail('ACCORD_MALFORMED', 'accord.parties: two parties share a log origin');
  if (later && new Set(parties.map((p) => formatHex(parseVerifierKey(p.logKey).publicKey))).size !== parties.length) fail('ACCORD_MALFORMED', 'accord.parties: two parties share a log public key');
  // Witness keys too (the default one has the log key's public key): a cosignature/v1 signature does not
  // cover the key name, so one public key under two names would make one cosignature count for two parties.
  if (later && new Set(parties.map((p) => formatHex(parseVerifierKey(p.witnessKey ?? p.logKey).publicKey))).size !== parties.length) fail('ACCORD_MALFORMED', 'accord.parties: two parties share a witness public key');
  const t = obj(o['taxonomy'], 'ACCORD_MALFORMED', 'accord.taxonomy', ['id', 'version', 'sha256']);
  const d = obj(o['deadlines'], 'ACCORD_MALFORMED', 'accord.deadlines', ['receiptSeconds', 'ackSeconds', 'initialReportSeconds']);
  const ack = obj(d['ackSeconds'], 'ACCORD_MALFORMED', 'accord.deadlines.ackSeconds', PRECEDENCES);
  const initial = obj(d['initialReportSeconds'], 'ACCORD_MALFORMED', 'accord.deadlines.initialReportSeconds', ['0', '1', '2', '3', '4', '5', '6', '7']);
  const accord: Accord = {
    v: 1,
    name: str(o['name'], 'ACCORD_MALFORMED', 'accord.name', { pattern: NAME, max: 63 }),
    title: localized(o['title'], 'accord.title'),
    created: time(o['created'], 'ACCORD_MALFORMED', 'accord.created'),
    parties,
    taxonomy: {
      id: str(t['id'], 'ACCORD_MALFORMED', 'accord.taxonomy.id', { min: 1, max: 64 }),
      version: str(t['version'], 'ACCORD_MALFORMED', 'accord.taxonomy.version', { min: 1, max: 16 }),
      sha256: str(t['sha256'], 'ACCORD_MALFORMED', 'accord.taxonomy.sha256', { pattern: HEX64, max: 64 }),
    },
    deadlines: {
      receiptSeconds: seconds(d['receiptSeconds'], 'accord.deadlines.receiptSeconds'),
      ackSeconds: Object.fromEntries(PRECEDENCES.map((p) => [p, seconds(ack[p], `accord.deadlines.ackSeconds.${p}`)])) as Record<Precedence, number>,
      initialReportSeconds: Object.fromEntries(['0', '1', '2', '3', '4', '5', '6', '7'].map((s) => [s, int(initial[s], 'ACCORD_MALFORMED', `accord.deadlines.initialReportSeconds.${s}`, 0, MAX_SECONDS)])),
    },
    heartbeatSeconds: seconds(o['heartbeatSeconds'], 'accord.heartbeatSeconds'),
    redLines: arr(o['redLines'], 'ACCORD_MALFORMED', 'accord.redLines', 64, (r, p) => {
      const ro = obj(r, 'ACCORD_MALFORMED', p, ['category', 'minSeverity']);
      return { category: str(ro['category'], 'ACCORD_MALFORMED', `${p}.category`, { pattern: /^[A-Z]{2}$/, max: 2 }), minSeverity: int(ro['minSeverity'], 'ACCORD_MALFORMED', `${p}.minSeverity`, 0, 7) };
    }),
    amendmentQuorum: int(o['amendmentQuorum'], 'ACCORD_MALFORMED', 'accord.amendmentQuorum', 1, parties.length),
  };
  const withRoles = 'roles' in o ? { ...accord, roles: parseRoles(o['roles']) } : accord;
  const stamped = 'timestamping' in o ? { ...withRoles, timestamping: parseAccordTimestamping(o['timestamping']) } : withRoles;
  return later ? { ...stamped, version, previous: previous! } : stamped;
}

/** An accord's version number (1 when the `version` member is absent). */
export function accordVersion(accord: Accord): number {
  return accord.version ?? 1;
}

/** SHA-256 of the canonical accord (32 bytes). */
export function accordDigest(accord: Accord): Uint8Array {
  return getCrypto().sha256(canonicalizeToBytes(accord));
}

/** The channel id: lowercase hex SHA-256 of the canonical accord. */
export function accordId(accord: Accord): string {
  return formatHex(accordDigest(accord));
}

/** @internal The bytes every accord signature covers: ACCORD_CONTEXT || SHA-256(JCS(accord)). */
export function accordSigningMessage(accord: Accord): Uint8Array {
  return signingMessage(accord);
}

function signingMessage(accord: Accord): Uint8Array {
  return concatBytes(encodeUtf8(ACCORD_CONTEXT), accordDigest(accord));
}

/**
 * Adds (or replaces) `partyId`'s signature.
 * @param key the party's log signer key; it must be the key the accord names for the party.
 * @throws ParseError `ACCORD_MALFORMED` for an unknown party or a key that is not the party's.
 */
export function signAccord(signed: SignedAccord, partyId: string, key: SignerKey): SignedAccord {
  const accord = parseAccord(signed.accord);
  if (accord.version !== undefined) fail('ACCORD_MALFORMED', 'a later accord version is signed with signAccordVersion');
  const p = accord.parties.find((x) => x.id === partyId);
  if (!p) fail('ACCORD_MALFORMED', `no party ${partyId} in the accord`);
  if (p.logKey !== formatVerifierKey(verifierKeyOf(key))) fail('ACCORD_MALFORMED', `that key is not ${partyId}'s log key in the accord`);
  const sig = formatBase64(getCrypto().ed25519Signer(key.seed)(signingMessage(accord)));
  const signatures = [...signed.signatures.filter((s) => s.party !== partyId), { party: partyId, sig }].sort((a, b) => (a.party < b.party ? -1 : 1));
  return { accord, signatures };
}

/** Options for {@link verifyAccord}. */
export interface VerifyAccordOptions {
  /** Require every party's signature (default true: what a node runs on). */
  readonly requireAll?: boolean;
}

/**
 * Checks a signed accord: shape, then every signature present against the
 * key the accord names for that party.
 * @throws ParseError `ACCORD_MALFORMED`; VerificationError `SIGNATURE_INVALID`
 *   for a bad signature, `ACCORD_UNSIGNED` when a party has not signed and
 *   `requireAll` is set.
 */
export function verifyAccord(signed: SignedAccord, options: VerifyAccordOptions = {}): VerifiedAccord {
  const so = obj(signed, 'ACCORD_MALFORMED', 'signed accord', ['accord', 'signatures']);
  const accord = parseAccord(so['accord']);
  const sigs = parseSignatures(so['signatures']);
  if (accord.version !== undefined) fail('ACCORD_CHAIN', `accord version ${accord.version} verifies only after the version before it: use verifyAccordChain`);
  if (sigs.some((s) => s.prior)) fail('ACCORD_MALFORMED', 'version 1 has no prior signatures');
  const msg = signingMessage(accord);
  const keys = new Map(accord.parties.map((p) => [p.id, parseVerifierKey(p.logKey)]));
  for (const s of sigs) {
    const k = keys.get(s.party);
    if (!k) fail('ACCORD_MALFORMED', `signature by ${s.party}, who is not a party`);
    let sig: Uint8Array;
    try {
      sig = parseBase64(s.sig);
    } catch (e) {
      return fail('ACCORD_MALFORMED', `signature of ${s.party} is not base64`, e);
    }
    if (!getCrypto().ed25519Verifier(k.publicKey)(msg, sig)) fail('SIGNATURE_INVALID', `accord signature of ${s.party} does not verify`);
  }
  const signedBy = sigs.map((s) => s.party);
  const complete = accord.parties.every((p) => signedBy.includes(p.id));
  if ((options.requireAll ?? true) && !complete) {
    const missing = accord.parties.filter((p) => !signedBy.includes(p.id)).map((p) => p.id);
    fail('ACCORD_UNSIGNED', `accord not signed by ${missing.join(', ')}`);
  }
  const id = accordId(accord);
  return verifiedAccord(accord, id, id, signedBy, sigs, complete);
}

/**
 * @internal Assembles a {@link VerifiedAccord} (after its signatures were checked).
 */
export function verifiedAccord(accord: Accord, channel: string, digest: string, signedBy: readonly string[], signatures: readonly AccordSignature[], complete: boolean, built?: ReadonlyMap<string, AccordMember>): VerifiedAccord {
  const members = built ?? new Map<string, AccordMember>(accord.parties.map((p) => [p.id, accordMember(p)]));
  const version = accordVersion(accord);
  return {
    accord,
    id: channel,
    channel,
    version,
    digest,
    frozen: version >= 2 && accord.parties.length === 1,
    signedBy,
    signatures,
    complete,
    party: (pid) => members.get(pid),
  };
}

/**
 * Checks a signature list's shape: sorted by party, then the plain signature
 * before the prior one; at most one of each per party.
 * @internal (chain.ts)
 * @throws ParseError `ACCORD_MALFORMED`.
 */
export function parseSignatures(v: unknown): AccordSignature[] {
  const sigs = arr(v, 'ACCORD_MALFORMED', 'signatures', 2 * MAX_PARTIES, (s, p): AccordSignature => {
    const o = obj(s, 'ACCORD_MALFORMED', p, ['party', 'sig'], ['prior']);
    const out = { party: str(o['party'], 'ACCORD_MALFORMED', `${p}.party`, { pattern: PARTY_ID, max: 16 }), sig: str(o['sig'], 'ACCORD_MALFORMED', `${p}.sig`, { max: 100 }) };
    if (!('prior' in o)) return out;
    if (o['prior'] !== true) fail('ACCORD_MALFORMED', `${p}.prior: want true or absent`);
    return { ...out, prior: true as const };
  });
  sortedUnique(sigs.map((s) => `${s.party}${s.prior ? '\u0001' : '\u0000'}`), 'ACCORD_MALFORMED', 'signatures[]: sorted by party, plain before prior, one of each');
  return sigs;
}

/** Sorts signatures the one way files carry them (party, then plain before prior). */
export function sortAccordSignatures(sigs: readonly AccordSignature[]): AccordSignature[] {
  const k = (s: AccordSignature) => `${s.party}${s.prior ? '\u0001' : '\u0000'}`;
  return [...sigs].sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0));
}

/**
 * @internal A party as verifiers see it (chain.ts builds these for later
 * versions). `reuse`: the same party's member in the version before; when
 * its log key is unchanged, its parsed key and native verifier are shared
 * (a chain of a thousand versions makes three key objects, not three thousand).
 */
export function accordMember(party: AccordParty, logKey?: VerifierKey, reuse?: AccordMember): AccordMember {
  const same = reuse !== undefined && reuse.party.logKey === party.logKey;
  const key = logKey ?? (same ? reuse.logKey : parseVerifierKey(party.logKey));
  const witnessKey = party.witnessKey === undefined ? (same && reuse.party.witnessKey === undefined ? reuse.witnessKey : cosignerKey(key)) : parseVerifierKey(party.witnessKey);
  if (same) return { party, logKey: key, witnessKey, hpkeKey: reuse.party.hpkeKey === party.hpkeKey ? reuse.hpkeKey : parseBase64(party.hpkeKey), verify: reuse.verify };
  let cache: { provider: SigningCrypto; verify: Ed25519Verify } | undefined;
  return {
    party,
    logKey: key,
    witnessKey,
    hpkeKey: parseBase64(party.hpkeKey),
    verify(message, signature) {
      const provider = getCrypto();
      if (cache?.provider !== provider) cache = { provider, verify: provider.ed25519Verifier(key.publicKey) };
      return cache.verify(message, signature);
    },
  };
}

/** Parses a signed accord file (JSON text or bytes; strict I-JSON). Signatures are not checked. */
export function parseSignedAccord(input: string | Uint8Array): SignedAccord {
  let v: unknown;
  try {
    v = parseJson(input, { maxBytes: 1024 * 1024 });
  } catch (e) {
    return fail('ACCORD_MALFORMED', 'accord file is not valid JSON', e);
  }
  const o = obj(v, 'ACCORD_MALFORMED', 'signed accord', ['accord', 'signatures']);
  return { accord: parseAccord(o['accord']), signatures: parseSignatures(o['signatures']) };
}

/** A signed accord as a human-readable JSON file (the id is computed canonically, so layout does not matter). */
export function formatSignedAccord(signed: SignedAccord): string {
  return `${JSON.stringify(signed, null, 2)}\n`;
}

/** What {@link draftAccord} needs; everything else has a default. */
export interface AccordDraftInput {
  readonly name: string;
  readonly title?: Localized;
  readonly parties: readonly AccordParty[];
  readonly taxonomy?: Taxonomy;
  readonly created?: Date;
  readonly deadlines?: Partial<AccordDeadlines>;
  readonly heartbeatSeconds?: number;
  readonly redLines?: readonly RedLine[];
  readonly amendmentQuorum?: number;
  /** RFC 3161 authorities (absent: no time stamping). */
  readonly timestamping?: AccordTimestamping;
}

/**
 * A new accord with the defaults of the taxonomy (ack deadlines by
 * precedence, initial-report deadlines by severity, 60 s machine receipts),
 * an hourly heartbeat, the catastrophic categories at severity ≥ 6 as red
 * lines, and unanimity for amendments.
 */
export function draftAccord(input: AccordDraftInput): Accord {
  const taxonomy = input.taxonomy ?? TAXONOMY_V1;
  const d = defaultDeadlines(taxonomy);
  const parties = [...input.parties].sort((a, b) => (a.id < b.id ? -1 : 1));
  return parseAccord({
    v: 1,
    name: input.name,
    title: input.title ?? { en: 'AI incident hotline', 'zh-CN': '人工智能事件热线' },
    created: (input.created ?? new Date()).toISOString(),
    parties,
    taxonomy: { id: taxonomy.id, version: taxonomy.version, sha256: taxonomyHash(taxonomy) },
    deadlines: {
      receiptSeconds: input.deadlines?.receiptSeconds ?? d.receiptSeconds,
      ackSeconds: input.deadlines?.ackSeconds ?? d.ackSeconds,
      initialReportSeconds: input.deadlines?.initialReportSeconds ?? d.initialReportSeconds,
    },
    heartbeatSeconds: input.heartbeatSeconds ?? 3600,
    redLines: input.redLines ?? taxonomy.categories.filter((c) => c.catastrophic).map((c) => ({ category: c.code, minSeverity: 6 })),
    amendmentQuorum: input.amendmentQuorum ?? parties.length,
    ...(input.timestamping === undefined ? {} : { timestamping: input.timestamping }),
  });
}

/** True when two accords are the same document (same id). */
export function sameAccord(a: Accord, b: Accord): boolean {
  return bytesEqual(accordDigest(a), accordDigest(b));
}


/** One difference between two accord versions (see {@link accordDiff}). */
export interface AccordChange {
  /**
   * Dotted path: `heartbeatSeconds`, `deadlines.ackSeconds.FLASH`,
   * `parties.CN` (a party added or removed), `parties.CN.logKey` (a field of a kept party).
   */
  readonly path: string;
  /** The value before; absent when the member is added. */
  readonly from?: JsonValue;
  /** The value after; absent when the member is removed. */
  readonly to?: JsonValue;
}

function isPlainObject(v: unknown): v is Record<string, JsonValue> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function diffValues(path: string, a: JsonValue | undefined, b: JsonValue | undefined, out: AccordChange[]): void {
  if (a === undefined && b === undefined) return;
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    for (const k of keys) diffValues(path === '' ? k : `${path}.${k}`, a[k], b[k], out);
    return;
  }
  if (a !== undefined && b !== undefined && canonicalize(a) === canonicalize(b)) return;
  const c: { path: string; from?: JsonValue; to?: JsonValue } = { path };
  if (a !== undefined) c.from = a;
  if (b !== undefined) c.to = b;
  out.push(c);
}

/**
 * A list whose items are matched by a key (parties by id, time-stamping
 * authorities by name): an item added or removed is one change at
 * `PATH.KEY` carrying the whole item; a kept item's changed fields are
 * `PATH.KEY.FIELD`.
 */
function diffKeyed<T extends object>(path: string, prev: readonly T[], next: readonly T[], key: (x: T) => string, out: AccordChange[]): void {
  const pa = new Map(prev.map((x) => [key(x), JSON.parse(canonicalize(x)) as JsonValue]));
  const pb = new Map(next.map((x) => [key(x), JSON.parse(canonicalize(x)) as JsonValue]));
  for (const k of [...new Set([...pa.keys(), ...pb.keys()])].sort()) {
    const x = pa.get(k);
    const y = pb.get(k);
    if (x !== undefined && y !== undefined) {
      diffValues(`${path}.${k}`, x, y, out);
      continue;
    }
    const c: { path: string; from?: JsonValue; to?: JsonValue } = { path: `${path}.${k}` };
    if (x !== undefined) c.from = x;
    if (y !== undefined) c.to = y;
    out.push(c);
  }
}

/**
 * What changes from one accord version to another: pure, in a stable order
 * (members in code unit order, as RFC 8785 sorts them; parties by id), so
 * the node, the CLI and the web app show the same list. Parties are
 * matched by id: a party added or removed is one change at `parties.ID`
 * (with `to` or `from` the whole party); a kept party's changed fields are
 * `parties.ID.FIELD`. Time-stamping authorities are matched by name the
 * same way (`timestamping.authorities.NAME[.FIELD]`, then
 * `timestamping.required`); adding or removing the whole member is one
 * change at `timestamping`. Other arrays (urls, red lines) change as a whole. `version` and `previous` (chain bookkeeping, different in
 * every amendment) are left out.
 * @example accordDiff(v1, v2) // [{ path: 'heartbeatSeconds', from: 3600, to: 1800 }]
 */
export function accordDiff(prev: Accord, next: Accord): AccordChange[] {
  const strip = (a: Accord): Record<string, JsonValue> => {
    const { version: _v, previous: _p, parties: _parties, ...rest } = JSON.parse(canonicalize(a)) as Accord & Record<string, JsonValue>;
    return rest as Record<string, JsonValue>;
  };
  const a = strip(prev);
  const b = strip(next);
  // An absent `roles` means the defaults (roles.ts): a first `roles` member lists each changed action, not the whole member.
  if ((a['roles'] === undefined) !== (b['roles'] === undefined)) {
    const defaults = JSON.parse(canonicalize(DEFAULT_ROLES)) as JsonValue;
    a['roles'] ??= defaults;
    b['roles'] ??= defaults;
  }
  const out: AccordChange[] = [];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b), 'parties'])].sort();
  for (const k of keys) {
    if (k === 'parties') diffKeyed('parties', prev.parties, next.parties, (p) => p.id, out);
    else if (k === 'timestamping' && prev.timestamping !== undefined && next.timestamping !== undefined) {
      diffKeyed('timestamping.authorities', prev.timestamping.authorities, next.timestamping.authorities, (t) => t.name, out);
      diffValues('timestamping.required', prev.timestamping.required, next.timestamping.required, out);
    } else diffValues(k, a[k], b[k], out);
  }
  return out;
}
