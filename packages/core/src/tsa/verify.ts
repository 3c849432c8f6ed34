/**
 * Verifying RFC 3161 time-stamp tokens against the accord's authorities.
 *
 * A token is a CMS SignedData (RFC 5652 §5) whose encapsulated content is a
 * TSTInfo (RFC 3161 §2.4.2), signed by the TSA's certificate. A token counts
 * as trusted time for a checkpoint only when every check holds, in this
 * order (the first failure is the error):
 *
 *  1. it parses: ContentInfo → SignedData → id-ct-TSTInfo, one signer whose
 *     certificate is in the token                              TSA_MALFORMED
 *  2. messageImprint = SHA-256 of the exact note               TSA_IMPRINT_MISMATCH
 *  3. nonce equals the request's (when the caller has one)     TSA_NONCE_MISMATCH
 *  4. the CMS signature verifies under the signer certificate  TSA_SIGNATURE
 *  5. the signer certificate chains to a root the accord lists
 *     for the authority                                        TSA_UNTRUSTED
 *  6. its EKU is id-kp-timeStamping only, critical             TSA_EKU
 *  7. TSTInfo.policy is the authority's policy                 TSA_POLICY
 *  8. genTime within the certificate's validity and the
 *     authority's validFrom..validUntil                        TSA_EXPIRED
 *
 * Crypto is WebCrypto through pkijs's engine (globalThis.crypto: Node ≥ 20
 * and browsers), hence async.
 */
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import * as asn1js from 'asn1js';
import * as pkijs from 'pkijs';
import { ParleyError, fail } from '../errors.js';
import { bytesEqual, formatHex, parseBase64 } from '../encoding.js';
import type { AccordTimestamping, TimestampAuthority } from '../accord/accord.js';
import { MAX_TIMESTAMP_REPLY, OID_SHA256, parseAsn1, timestampImprint, unsignedInteger } from './request.js';
import type { TimestampTokenWire } from './wire.js';
import { timestampTime } from '../eval/timeline.js';
import { timestampTokenBytes } from './wire.js';

/** RFC 5652 §5.1 id-signedData. */
const OID_SIGNED_DATA = '1.2.840.113549.1.7.2';
/** RFC 3161 §2.4.2 id-ct-TSTInfo. */
const OID_TSTINFO = '1.2.840.113549.1.9.16.1.4';
/** RFC 5652 §11.1 id-contentType, §11.2 id-messageDigest. */
const OID_CONTENT_TYPE = '1.2.840.113549.1.9.3';
const OID_MESSAGE_DIGEST = '1.2.840.113549.1.9.4';
/** RFC 2634 §5.4 id-aa-signingCertificate (ESSCertID, SHA-1) and RFC 5035 §3 id-aa-signingCertificateV2. */
const OID_SIGNING_CERTIFICATE = '1.2.840.113549.1.9.16.2.12';
const OID_SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';
/** RFC 5280 §4.2.1.12 id-ce-extKeyUsage and id-kp-timeStamping. */
const OID_EXT_KEY_USAGE = '2.5.29.37';
const OID_KP_TIMESTAMPING = '1.3.6.1.5.5.7.3.8';
/** RFC 5280 §4.2.1.2 id-ce-subjectKeyIdentifier. */
const OID_SUBJECT_KEY_ID = '2.5.29.14';
/** RFC 8017 rsaEncryption: the hash then comes from the SignerInfo's digestAlgorithm. */
const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
/** Digest algorithms a signer may use (RFC 5754 §2); SHA-1 and MD5 are refused. */
const DIGESTS: Readonly<Record<string, { readonly name: string; readonly hash: (m: Uint8Array) => Uint8Array }>> = {
  [OID_SHA256]: { name: 'SHA-256', hash: sha256 },
  '2.16.840.1.101.3.4.2.2': { name: 'SHA-384', hash: sha384 },
  '2.16.840.1.101.3.4.2.3': { name: 'SHA-512', hash: sha512 },
};

/** A token that passed every check. */
export interface VerifiedTimestamp {
  /** The accord authority whose root the signer certificate chains to. */
  readonly authority: string;
  /** TSTInfo.genTime (RFC 3161 §2.4.2): when the TSA saw the imprint. */
  readonly genTime: Date;
  /** TSTInfo.policy (dotted OID). */
  readonly policy: string;
  /** TSTInfo.serialNumber, lowercase hex. */
  readonly serial: string;
}

/** What {@link verifyTimestampToken} checks the token against. */
export interface VerifyTimestampOptions {
  /** 32 bytes: {@link timestampImprint} of the note the token is attached to. */
  readonly imprint: Uint8Array;
  /** The request's nonce, when the caller made the request (a stored token is checked without). */
  readonly nonce?: Uint8Array;
  /** The authorities that may have made it (the accord's, or just the one the wire form names). */
  readonly authorities: readonly TimestampAuthority[];
  /** The verifier's clock: a genTime more than 5 minutes after it is refused (TSA_EXPIRED). */
  readonly at?: Date;
}

/** Clock skew allowed between a TSA and a verifier given `at`. */
const MAX_FUTURE_MS = 5 * 60 * 1000;

interface ParsedToken {
  readonly signed: pkijs.SignedData;
  readonly tst: pkijs.TSTInfo;
  readonly eContent: Uint8Array;
  readonly signer: pkijs.SignerInfo;
  readonly cert: pkijs.Certificate;
  /** DER of {@link cert}, encoded once (ESS check, pinned-root match, chain leaf). */
  readonly certDer: Uint8Array;
  /** The token's other certificates (candidate intermediates), without the signer's. */
  readonly others: pkijs.Certificate[];
}

function derOf(c: pkijs.Certificate): Uint8Array {
  return new Uint8Array(c.toSchema().toBER(false));
}

function bytesOf(v: ArrayBuffer | ArrayBufferView): Uint8Array {
  return v instanceof Uint8Array ? v : ArrayBuffer.isView(v) ? new Uint8Array(v.buffer, v.byteOffset, v.byteLength) : new Uint8Array(v);
}

/** RFC 5652 §5.3: a SignerInfo names its certificate by issuer and serial, or by subject key identifier. */
function signerCertificate(signer: pkijs.SignerInfo, certs: readonly pkijs.Certificate[]): pkijs.Certificate | undefined {
  const sid = signer.sid as pkijs.IssuerAndSerialNumber | asn1js.Constructed | asn1js.Primitive;
  if (sid instanceof pkijs.IssuerAndSerialNumber) return certs.find((c) => c.issuer.isEqual(sid.issuer) && c.serialNumber.isEqual(sid.serialNumber));
  // [0] IMPLICIT SubjectKeyIdentifier: compared with the certificate's SKI extension.
  const inner = sid.idBlock.isConstructed ? (sid as asn1js.Constructed).valueBlock.value[0] : sid;
  const keyId = bytesOf((inner as asn1js.Primitive | undefined)?.valueBlock.valueHexView ?? new Uint8Array(0));
  return certs.find((c) => {
    const ski = c.extensions?.find((e) => e.extnID === OID_SUBJECT_KEY_ID);
    return ski !== undefined && bytesEqual(bytesOf((ski.parsedValue as asn1js.OctetString).valueBlock.valueHexView), keyId);
  });
}

/** Step 1: the structure (RFC 5652 §3, §5.1, §5.2; RFC 3161 §2.4.2). */
function parseToken(token: Uint8Array): ParsedToken {
  if (token.length > MAX_TIMESTAMP_REPLY) fail('TSA_MALFORMED', `token: ${token.length} bytes, more than ${MAX_TIMESTAMP_REPLY}`);
  const asn = parseAsn1(token, 'token');
  try {
    const ci = new pkijs.ContentInfo({ schema: asn });
    if (ci.contentType !== OID_SIGNED_DATA) fail('TSA_MALFORMED', 'token: not a SignedData (RFC 5652 §5)');
    const signed = new pkijs.SignedData({ schema: ci.content });
    const encap = signed.encapContentInfo;
    if (encap.eContentType !== OID_TSTINFO || !encap.eContent) fail('TSA_MALFORMED', 'token: content is not a TSTInfo (RFC 3161 §2.4.2)');
    // RFC 3161 §2.4.2: the token MUST NOT contain any signature other than the TSA's.
    if (signed.signerInfos.length !== 1) fail('TSA_MALFORMED', `token: ${signed.signerInfos.length} signers, want 1`);
    const eContent = bytesOf(encap.eContent.getValue());
    const tst = new pkijs.TSTInfo({ schema: parseAsn1(eContent, 'TSTInfo') });
    // RFC 3161 §2.4.2: TSTInfo version v1(1).
    if (tst.version !== 1) fail('TSA_MALFORMED', `token: TSTInfo version ${tst.version}, want 1`);
    const certs = (signed.certificates ?? []).filter((c): c is pkijs.Certificate => c instanceof pkijs.Certificate);
    const signer = signed.signerInfos[0]!;
    const cert = signerCertificate(signer, certs);
    // We ask for certReq TRUE (RFC 3161 §2.4.1), so the signer's certificate must be in the token.
    if (!cert) fail('TSA_MALFORMED', 'token: the signer certificate is not in the token');
    const certDer = derOf(cert);
    const others = certs.filter((c) => c !== cert && !bytesEqual(derOf(c), certDer));
    return { signed, tst, eContent, signer, cert, certDer, others };
  } catch (e) {
    if (e instanceof ParleyError) throw e;
    return fail('TSA_MALFORMED', 'token: not an RFC 3161 time-stamp token', e);
  }
}

/**
 * Step 4, RFC 3161 §2.4.1 (and RFC 5816 §2.2.1): the signed attributes MUST
 * carry ESS SigningCertificate (v1, RFC 2634 §5.4) or SigningCertificateV2
 * (RFC 5035 §3) whose FIRST ESSCertID is the hash of the certificate that
 * verifies the signature — so the signature binds which certificate (and so
 * which EKU and validity) the TSA signed under.
 */
function checkSigningCertificate(p: ParsedToken, v2: unknown, v1: unknown): void {
  const attr = v2 ?? v1;
  if (!(attr instanceof asn1js.Sequence)) fail('TSA_SIGNATURE', 'token: no ESS signing-certificate attribute (RFC 3161 §2.4.1)');
  const certs = attr.valueBlock.value[0];
  const first = certs instanceof asn1js.Sequence ? certs.valueBlock.value[0] : undefined;
  if (!(first instanceof asn1js.Sequence)) fail('TSA_SIGNATURE', 'token: empty ESS signing-certificate attribute');
  let hash: (m: Uint8Array) => Uint8Array = sha1;
  let i = 0;
  if (v2 !== undefined) {
    // ESSCertIDv2.hashAlgorithm DEFAULT id-sha256 (RFC 5035 §3).
    hash = sha256;
    const head = first.valueBlock.value[0];
    if (head instanceof asn1js.Sequence) {
      const alg = new pkijs.AlgorithmIdentifier({ schema: head });
      const d = DIGESTS[alg.algorithmId];
      if (d === undefined) fail('TSA_SIGNATURE', `token: ESS certificate hash ${alg.algorithmId} is not SHA-256/384/512`);
      hash = d.hash;
      i = 1;
    }
  }
  const certHash = first.valueBlock.value[i];
  if (!(certHash instanceof asn1js.OctetString) || !bytesEqual(bytesOf(certHash.valueBlock.valueHexView), hash(p.certDer))) fail('TSA_SIGNATURE', 'token: ESS signing-certificate does not name the signer certificate');
}

/** Step 4: RFC 5652 §5.4 (message digest over the signed attributes) and §5.6 (signature). */
async function checkSignature(p: ParsedToken): Promise<void> {
  const crypto = pkijs.getCrypto(true);
  const alg = DIGESTS[p.signer.digestAlgorithm.algorithmId];
  if (alg === undefined) fail('TSA_SIGNATURE', `token: digest algorithm ${p.signer.digestAlgorithm.algorithmId} is not SHA-256/384/512`);
  // RFC 5652 §5.3: signedAttrs MUST be present when the content type is not id-data.
  const attrs = p.signer.signedAttrs;
  if (!attrs) fail('TSA_SIGNATURE', 'token: no signed attributes');
  const one = (oid: string) => {
    const found = attrs.attributes.filter((a) => a.type === oid);
    return found.length === 1 && found[0]!.values.length === 1 ? found[0]!.values[0] : undefined;
  };
  // RFC 5652 §11.1: content-type attribute = eContentType.
  const ct = one(OID_CONTENT_TYPE);
  if (!(ct instanceof asn1js.ObjectIdentifier) || ct.valueBlock.toString() !== OID_TSTINFO) fail('TSA_SIGNATURE', 'token: content-type attribute is not id-ct-TSTInfo');
  // RFC 5652 §11.2: message-digest attribute = digest of the eContent octets.
  const md = one(OID_MESSAGE_DIGEST);
  const digest = alg.hash(p.eContent);
  if (!(md instanceof asn1js.OctetString) || !bytesEqual(bytesOf(md.valueBlock.valueHexView), digest)) fail('TSA_SIGNATURE', 'token: message-digest attribute does not match the TSTInfo');
  checkSigningCertificate(p, one(OID_SIGNING_CERTIFICATE_V2), one(OID_SIGNING_CERTIFICATE));
  // RFC 5652 §5.4: the signature is over the DER of the signed attributes with an EXPLICIT SET OF tag.
  let ok = false;
  try {
    ok = p.signer.signatureAlgorithm.algorithmId === OID_RSA_ENCRYPTION
      ? await crypto.verifyWithPublicKey(attrs.encodedValue, p.signer.signature, p.cert.subjectPublicKeyInfo, p.signer.signatureAlgorithm, alg.name)
      : await crypto.verifyWithPublicKey(attrs.encodedValue, p.signer.signature, p.cert.subjectPublicKeyInfo, p.signer.signatureAlgorithm);
  } catch (e) {
    fail('TSA_SIGNATURE', 'token: signature does not verify', e);
  }
  if (!ok) fail('TSA_SIGNATURE', 'token: signature does not verify');
}

/** An accord root that parses as a certificate, with its DER as pkijs encodes it. */
interface Root {
  readonly cert: pkijs.Certificate;
  readonly der: Uint8Array;
}

/**
 * Parsed roots by authority object: an accord's authorities live as long as
 * the accord, and every token of every checkpoint is checked against the same
 * few roots, so each is decoded and parsed once (pkijs only caches derived
 * values on the certificate, so sharing it between verifications is safe).
 */
const rootsCache = new WeakMap<TimestampAuthority, readonly Root[]>();

/**
 * The authority's roots that parse as certificates. The accord checks only
 * their DER shape; a root that is no certificate anchors nothing (it makes
 * no token of another authority fail).
 */
function parseRoots(a: TimestampAuthority): readonly Root[] {
  let roots = rootsCache.get(a);
  if (roots === undefined) {
    roots = a.roots.flatMap((r) => {
      try {
        const cert = pkijs.Certificate.fromBER(parseBase64(r));
        return [{ cert, der: derOf(cert) }];
      } catch {
        return [];
      }
    });
    rootsCache.set(a, roots);
  }
  return roots;
}

/** Step 5: RFC 5280 §6 path validation to one of the authority's roots, at a time the signer certificate is valid. */
async function chainsTo(p: ParsedToken, a: TimestampAuthority): Promise<boolean> {
  const roots = parseRoots(a);
  // RFC 5280 §6.1: a trust anchor may be the TSA certificate itself (an accord that pins it).
  if (roots.some((r) => bytesEqual(r.der, p.certDer))) return true;
  const notBefore = p.cert.notBefore.value.getTime();
  const notAfter = p.cert.notAfter.value.getTime();
  // The chain is checked at genTime clamped into the signer's validity: an expired certificate is
  // TSA_EXPIRED (step 8), not untrusted, when it does chain.
  const checkDate = new Date(Math.min(Math.max(p.tst.genTime.getTime(), notBefore), notAfter));
  // pkijs validates the LAST of its certificates as the end entity: the signer goes last, the
  // token's other certificates (candidate intermediates) before it.
  const engine = new pkijs.CertificateChainValidationEngine({ trustedCerts: roots.map((r) => r.cert), certs: [...p.others, p.cert], checkDate });
  try {
    const r = await engine.verify({}, pkijs.getCrypto(true));
    const leaf = r.certificatePath?.[0];
    // The validated path must start at the signer (never another certificate the token carries).
    return r.result && leaf !== undefined && (leaf === p.cert || bytesEqual(derOf(leaf), p.certDer));
  } catch {
    return false;
  }
}

/** Step 6: RFC 3161 §2.3 — the TSA certificate MUST have exactly one EKU, id-kp-timeStamping, and it MUST be critical. */
function checkEku(cert: pkijs.Certificate): void {
  const ekus = (cert.extensions ?? []).filter((e) => e.extnID === OID_EXT_KEY_USAGE);
  if (ekus.length !== 1) fail('TSA_EKU', 'TSA certificate has no extended key usage extension');
  const eku = ekus[0]!;
  if (!eku.critical) fail('TSA_EKU', 'TSA certificate: extended key usage is not critical (RFC 3161 §2.3)');
  const purposes = (eku.parsedValue as pkijs.ExtKeyUsage | undefined)?.keyPurposes ?? [];
  if (purposes.length !== 1 || purposes[0] !== OID_KP_TIMESTAMPING) fail('TSA_EKU', `TSA certificate: extended key usage is ${purposes.join(', ') || 'empty'}, want only id-kp-timeStamping (RFC 3161 §2.3)`);
}

/**
 * Verifies an RFC 3161 time-stamp token for `imprint` against the accord's
 * authorities (module comment: the eight checks and their order).
 * @param token DER ContentInfo (what {@link parseTimestampResponse} returns).
 * @throws ParseError `TSA_MALFORMED`; VerificationError `TSA_IMPRINT_MISMATCH`,
 *   `TSA_NONCE_MISMATCH`, `TSA_SIGNATURE`, `TSA_UNTRUSTED`, `TSA_EKU`, `TSA_POLICY`, `TSA_EXPIRED`.
 */
export async function verifyTimestampToken(token: Uint8Array, opts: VerifyTimestampOptions): Promise<VerifiedTimestamp> {
  const p = parseToken(token);
  const mi = p.tst.messageImprint;
  // Step 2, RFC 3161 §2.4.2: messageImprint MUST have the same value as in the request.
  if (mi.hashAlgorithm.algorithmId !== OID_SHA256) fail('TSA_IMPRINT_MISMATCH', `token: imprint hash ${mi.hashAlgorithm.algorithmId} is not SHA-256`);
  if (!bytesEqual(bytesOf(mi.hashedMessage.valueBlock.valueHexView), opts.imprint)) fail('TSA_IMPRINT_MISMATCH', 'token: message imprint is not the SHA-256 of this note');
  // Step 3, RFC 3161 §2.4.2: nonce MUST be present and equal when the request had one (INTEGER values compared).
  if (opts.nonce !== undefined) {
    const n = p.tst.nonce;
    if (!n || !bytesEqual(unsignedInteger(bytesOf(n.valueBlock.valueHexView)), unsignedInteger(opts.nonce))) fail('TSA_NONCE_MISMATCH', 'token: nonce is not the request\u2019s');
  }
  await checkSignature(p);
  let authority: TimestampAuthority | undefined;
  for (const a of opts.authorities) {
    if (!(await chainsTo(p, a))) continue;
    // Two authorities may share a root: prefer the one whose policy the token carries.
    if (authority === undefined || a.policy === p.tst.policy) authority = a;
    if (a.policy === p.tst.policy) break;
  }
  if (authority === undefined) fail('TSA_UNTRUSTED', 'TSA certificate does not chain to a root of an accord authority');
  checkEku(p.cert);
  // Step 7, RFC 3161 §2.4.2 `policy`: the TSA's policy under which the token was made.
  if (p.tst.policy !== authority.policy) fail('TSA_POLICY', `token policy ${p.tst.policy} is not ${authority.name}'s ${authority.policy}`);
  // Step 8: genTime within the signer certificate's validity (RFC 5280 §4.1.2.5) and the accord's window.
  const t = p.tst.genTime.getTime();
  if (Number.isNaN(t)) fail('TSA_MALFORMED', 'token: genTime is not a time');
  if (t < p.cert.notBefore.value.getTime() || t > p.cert.notAfter.value.getTime()) fail('TSA_EXPIRED', `genTime ${p.tst.genTime.toISOString()} is outside the TSA certificate's validity`);
  if (t < Date.parse(authority.validFrom) || t > Date.parse(authority.validUntil)) fail('TSA_EXPIRED', `genTime ${p.tst.genTime.toISOString()} is outside ${authority.name}'s ${authority.validFrom}..${authority.validUntil}`);
  if (opts.at !== undefined && t > opts.at.getTime() + MAX_FUTURE_MS) fail('TSA_EXPIRED', `genTime ${p.tst.genTime.toISOString()} is in the future`);
  return { authority: authority.name, genTime: new Date(t), policy: p.tst.policy, serial: formatHex(bytesOf(p.tst.serialNumber.valueBlock.valueHexView)) };
}

/** What {@link verifyTimestamps} found for one checkpoint. */
export interface TimestampsResult {
  /** Tokens that verified, in the order given. */
  readonly verified: readonly VerifiedTimestamp[];
  /** Tokens that did not, with the error code. */
  readonly failed: readonly { readonly authority: string; readonly code: string }[];
  /**
   * When at least `required` distinct authorities verified: the k-th smallest
   * of their (earliest) genTimes, k = required — the time by which k
   * authorities agree the note existed.
   */
  readonly trustedTime?: Date;
  /** True when `required` distinct authorities verified. */
  readonly satisfied: boolean;
}

/**
 * Verifies every token of one checkpoint note against the accord's
 * `timestamping` and applies its k-of-n rule. A token naming an authority
 * the accord does not list fails with `TSA_UNTRUSTED`; each token is checked
 * against the authority it names only.
 */
export async function verifyTimestamps(note: string | Uint8Array, tokens: readonly TimestampTokenWire[] | readonly { readonly authority: string; readonly token: string | Uint8Array }[], timestamping: AccordTimestamping, opts: { readonly at?: Date } = {}): Promise<TimestampsResult> {
  const imprint = timestampImprint(note);
  const verified: VerifiedTimestamp[] = [];
  const failed: { authority: string; code: string }[] = [];
  for (const t of tokens) {
    const a = timestamping.authorities.find((x) => x.name === t.authority);
    try {
      if (!a) fail('TSA_UNTRUSTED', `authority ${t.authority} is not in the accord`);
      const bytes = typeof t.token === 'string' ? timestampTokenBytes({ authority: t.authority, token: t.token }) : t.token;
      verified.push(await verifyTimestampToken(bytes, { imprint, authorities: [a], ...(opts.at === undefined ? {} : { at: opts.at }) }));
    } catch (e) {
      if (!(e instanceof ParleyError)) throw e;
      failed.push({ authority: t.authority, code: e.code });
    }
  }
  // k of n: the k-th smallest of the authorities' earliest genTimes (eval/timeline.ts, as provenBy applies it).
  const t = timestampTime(verified, timestamping.required);
  return t ? { verified, failed, trustedTime: t.time, satisfied: true } : { verified, failed, satisfied: false };
}
