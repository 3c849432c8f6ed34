/**
 * RFC 9180 Hybrid Public Key Encryption, base mode (mode_base = 0x00), for
 * sealing an entry body to one recipient's X25519 key.
 *
 * Suite (RFC 9180 §7): KEM 0x0020 DHKEM(X25519, HKDF-SHA256), KDF 0x0001
 * HKDF-SHA256, and one AEAD of 0x0001 AES-128-GCM, 0x0002 AES-256-GCM
 * (our default) or 0x0003 ChaCha20-Poly1305. Sizes: Nsecret = Nenc = Npk =
 * Nsk = 32, Nh = 32, Nn = 12, Nt = 16, Nk = 16 (AES-128) or 32.
 *
 *     LabeledExtract(salt, label, ikm)      = Extract(salt, "HPKE-v1" || suite_id || label || ikm)            §4
 *     LabeledExpand(prk, label, info, L)    = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L)
 *     suite_id (KEM)                        = "KEM" || I2OSP(0x0020, 2)                                        §4.1
 *     suite_id (HPKE)                       = "HPKE" || I2OSP(kem, 2) || I2OSP(kdf, 2) || I2OSP(aead, 2)       §5.1
 *     DeriveKeyPair(ikm): sk = LabeledExpand(LabeledExtract("", "dkp_prk", ikm), "sk", "", 32)           §7.1.3
 *     Encap(pkR):  enc = pk(skE), dh = X25519(skE, pkR), kem_context = enc || pkR                         §4.1
 *     shared_secret = LabeledExpand(LabeledExtract("", "eae_prk", dh), "shared_secret", kem_context, 32)
 *     key_schedule_context = 0x00 || LabeledExtract("", "psk_id_hash", "") || LabeledExtract("", "info_hash", info)
 *     secret = LabeledExtract(shared_secret, "secret", "")                                                 §5.1
 *     key = LabeledExpand(secret, "key", ksc, Nk), base_nonce = …"base_nonce"…Nn, exporter_secret = …"exp"…Nh
 *     nonce(seq) = base_nonce XOR I2OSP(seq, Nn); ct = AEAD.Seal(key, nonce(seq), aad, pt)                  §5.2
 *     Export(exporter_context, L) = LabeledExpand(exporter_secret, "sec", exporter_context, L)            §5.3
 *
 * Wire form (RFC 9180 §10 leaves it to us): a sealed message is the pair
 * (enc, ciphertext) — enc the sender's 32-byte ephemeral public key,
 * ciphertext = AEAD output (plaintext length + 16). Both `info` and `aad` must
 * be the same on both sides; put the application label in `info` (for example
 * `"parley/envelope/v1"`) so keys are bound to their use.
 *
 * Example (RFC 9180 A.1.1, AES-128-GCM): ikmE 7268600d… ikmR 6db9df30…
 * info "Ode on a Grecian Urn" → enc 37fda356…, seq 0 ciphertext f938558b….
 *
 * Failures: a recipient key that is not 32 bytes, or a low-order one (all-zero
 * X25519 output, §7.1.4), is `KEY_MALFORMED` when sealing; anything wrong with
 * what is opened (enc, ciphertext, info, aad, key) is the single uninformative
 * `HPKE_OPEN_FAILED` (STYLE.md §7b).
 */
import { getSealingCrypto } from '../crypto/sealing.js';
import { concatBytes, encodeUtf8 } from '../encoding.js';
import { fail, isParleyError } from '../errors.js';
import { hkdfExpand, hkdfExtract } from './hkdf.js';

/** KEM 0x0020 DHKEM(X25519, HKDF-SHA256) (RFC 9180 §7.1). */
export const HPKE_KEM_X25519_SHA256 = 0x0020;
/** KDF 0x0001 HKDF-SHA256 (RFC 9180 §7.2). */
export const HPKE_KDF_SHA256 = 0x0001;
/** AEAD 0x0001 AES-128-GCM (RFC 9180 §7.3). */
export const HPKE_AEAD_AES128GCM = 0x0001;
/** AEAD 0x0002 AES-256-GCM (RFC 9180 §7.3); the default here. */
export const HPKE_AEAD_AES256GCM = 0x0002;
/** AEAD 0x0003 ChaCha20-Poly1305 (RFC 9180 §7.3). */
export const HPKE_AEAD_CHACHA20POLY1305 = 0x0003;

/** The AEAD identifiers this module implements. */
export type HpkeAeadId = typeof HPKE_AEAD_AES128GCM | typeof HPKE_AEAD_AES256GCM | typeof HPKE_AEAD_CHACHA20POLY1305;

/** An X25519 key pair: 32-byte private key (unclamped, as serialized) and public key. */
export interface HpkeKeyPair {
  readonly privateKey: Uint8Array;
  readonly publicKey: Uint8Array;
}

/** KEM output (RFC 9180 §4.1 Encap). */
export interface HpkeEncapsulation {
  readonly sharedSecret: Uint8Array;
  /** The encapsulated key: the ephemeral public key, 32 bytes. */
  readonly enc: Uint8Array;
}

/** The secrets KeySchedule derives (RFC 9180 §5.1). Secret material: never log or store it. */
export interface HpkeKeySchedule {
  readonly aead: HpkeAeadId;
  readonly key: Uint8Array;
  readonly baseNonce: Uint8Array;
  readonly exporterSecret: Uint8Array;
}

const NSK = 32; // Nsk = Npk = Nenc = Nsecret = Nh for this KEM and KDF
const NN = 12;
const MODE_BASE = 0x00;
const HPKE_V1 = encodeUtf8('HPKE-v1');
const EMPTY = new Uint8Array(0);

function i2osp2(n: number): Uint8Array {
  return Uint8Array.of(Math.floor(n / 256), n % 256);
}

/** "KEM" || I2OSP(kem_id, 2) (RFC 9180 §4.1). */
const KEM_SUITE_ID = concatBytes(encodeUtf8('KEM'), i2osp2(HPKE_KEM_X25519_SHA256));

/** "HPKE" || I2OSP(kem_id, 2) || I2OSP(kdf_id, 2) || I2OSP(aead_id, 2) (RFC 9180 §5.1). */
function hpkeSuiteId(aead: HpkeAeadId): Uint8Array {
  return concatBytes(encodeUtf8('HPKE'), i2osp2(HPKE_KEM_X25519_SHA256), i2osp2(HPKE_KDF_SHA256), i2osp2(aead));
}

// RFC 9180 §4: LabeledExtract(salt, label, ikm) = Extract(salt, "HPKE-v1" || suite_id || label || ikm).
function labeledExtract(suiteId: Uint8Array, salt: Uint8Array, label: string, ikm: Uint8Array): Uint8Array {
  return hkdfExtract(salt, concatBytes(HPKE_V1, suiteId, encodeUtf8(label), ikm));
}

// RFC 9180 §4: LabeledExpand(prk, label, info, L) = Expand(prk, I2OSP(L, 2) || "HPKE-v1" || suite_id || label || info, L).
function labeledExpand(suiteId: Uint8Array, prk: Uint8Array, label: string, info: Uint8Array, length: number): Uint8Array {
  return hkdfExpand(prk, concatBytes(i2osp2(length), HPKE_V1, suiteId, encodeUtf8(label), info), length);
}

interface Aead {
  readonly nk: number;
  seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Uint8Array;
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, ct: Uint8Array): Uint8Array | undefined;
}

// The provider is looked up at each call, so setCrypto() applies to existing contexts too.
const AEADS: Readonly<Record<HpkeAeadId, Aead>> = {
  [HPKE_AEAD_AES128GCM]: { nk: 16, seal: (...a) => getSealingCrypto().aesGcmSeal(...a), open: (...a) => getSealingCrypto().aesGcmOpen(...a) },
  [HPKE_AEAD_AES256GCM]: { nk: 32, seal: (...a) => getSealingCrypto().aesGcmSeal(...a), open: (...a) => getSealingCrypto().aesGcmOpen(...a) },
  [HPKE_AEAD_CHACHA20POLY1305]: {
    nk: 32,
    seal: (...a) => getSealingCrypto().chacha20Poly1305Seal(...a),
    open: (...a) => getSealingCrypto().chacha20Poly1305Open(...a),
  },
};

function aeadOf(id: HpkeAeadId): Aead {
  const a = (AEADS as Partial<Record<number, Aead>>)[id];
  if (a === undefined) throw new RangeError(`internal: unsupported HPKE AEAD ${String(id)}`);
  return a;
}

/**
 * DeriveKeyPair for DHKEM(X25519, HKDF-SHA256) (RFC 9180 §7.1.3).
 * @param ikm input keying material with at least 32 bytes of entropy; never reuse it elsewhere (§9.2.3).
 * @returns the key pair; the same ikm always gives the same pair.
 * @throws ParseError `KEY_MALFORMED` if `ikm` is shorter than 32 bytes.
 * @example hpkeDeriveKeyPair(ikmR).publicKey // RFC 9180 A.1.1: 3948cfe0…
 */
export function hpkeDeriveKeyPair(ikm: Uint8Array): HpkeKeyPair {
  if (ikm.length < NSK) fail('KEY_MALFORMED', 'HPKE DeriveKeyPair: ikm must be at least 32 bytes');
  const dkpPrk = labeledExtract(KEM_SUITE_ID, EMPTY, 'dkp_prk', ikm);
  const privateKey = labeledExpand(KEM_SUITE_ID, dkpPrk, 'sk', EMPTY, NSK);
  return { privateKey, publicKey: getSealingCrypto().x25519PublicKey(privateKey) };
}

/**
 * GenerateKeyPair (RFC 9180 §4): a fresh X25519 key pair from 32 random bytes.
 * @returns the key pair; publish `publicKey`, keep `privateKey` secret.
 * @example const { privateKey, publicKey } = hpkeGenerateKeyPair();
 */
export function hpkeGenerateKeyPair(): HpkeKeyPair {
  const privateKey = getSealingCrypto().randomBytes(NSK);
  return { privateKey, publicKey: getSealingCrypto().x25519PublicKey(privateKey) };
}

// RFC 9180 §4.1 ExtractAndExpand(dh, kem_context).
function extractAndExpand(dh: Uint8Array, kemContext: Uint8Array): Uint8Array {
  const eaePrk = labeledExtract(KEM_SUITE_ID, EMPTY, 'eae_prk', dh);
  return labeledExpand(KEM_SUITE_ID, eaePrk, 'shared_secret', kemContext, NSK);
}

/**
 * Encap(pkR) of DHKEM(X25519, HKDF-SHA256) (RFC 9180 §4.1).
 * @param recipientPublicKey the recipient's 32-byte X25519 public key.
 * @param ikmE tests only: derive the ephemeral key from this ikm (§7.1.3)
 *   instead of randomly, to reproduce published vectors. Reusing it reuses key
 *   and nonce and destroys confidentiality (§9.7.5).
 * @returns the KEM shared secret and `enc`.
 * @throws ParseError `KEY_MALFORMED` for a recipient key that is not 32 bytes or is low-order.
 */
export function hpkeEncap(recipientPublicKey: Uint8Array, ikmE?: Uint8Array): HpkeEncapsulation {
  const ephemeral = ikmE === undefined ? hpkeGenerateKeyPair() : hpkeDeriveKeyPair(ikmE);
  const dh = getSealingCrypto().x25519(ephemeral.privateKey, recipientPublicKey);
  const enc = ephemeral.publicKey;
  return { sharedSecret: extractAndExpand(dh, concatBytes(enc, recipientPublicKey)), enc };
}

/**
 * Decap(enc, skR) of DHKEM(X25519, HKDF-SHA256) (RFC 9180 §4.1).
 * @param enc the 32-byte encapsulated key.
 * @param recipientPrivateKey the recipient's 32-byte X25519 private key.
 * @returns the KEM shared secret.
 * @throws ParseError `KEY_MALFORMED` for a key of the wrong length or a low-order `enc`.
 */
export function hpkeDecap(enc: Uint8Array, recipientPrivateKey: Uint8Array): Uint8Array {
  const dh = getSealingCrypto().x25519(recipientPrivateKey, enc);
  const pkRm = getSealingCrypto().x25519PublicKey(recipientPrivateKey);
  return extractAndExpand(dh, concatBytes(enc, pkRm));
}

/**
 * KeySchedule for mode_base (RFC 9180 §5.1): no PSK, so psk = psk_id = "".
 * @param sharedSecret the KEM shared secret.
 * @param info application info, bound into every key.
 * @param aead the AEAD identifier (part of suite_id, so it changes every output).
 * @returns key, base_nonce and exporter_secret.
 */
export function hpkeKeySchedule(sharedSecret: Uint8Array, info: Uint8Array, aead: HpkeAeadId): HpkeKeySchedule {
  const suiteId = hpkeSuiteId(aead);
  const pskIdHash = labeledExtract(suiteId, EMPTY, 'psk_id_hash', EMPTY);
  const infoHash = labeledExtract(suiteId, EMPTY, 'info_hash', info);
  const context = concatBytes(Uint8Array.of(MODE_BASE), pskIdHash, infoHash);
  const secret = labeledExtract(suiteId, sharedSecret, 'secret', EMPTY);
  return {
    aead,
    key: labeledExpand(suiteId, secret, 'key', context, aeadOf(aead).nk),
    baseNonce: labeledExpand(suiteId, secret, 'base_nonce', context, NN),
    exporterSecret: labeledExpand(suiteId, secret, 'exp', context, NSK),
  };
}

/** The encryption context of RFC 9180 §5.2, shared by sender and recipient. */
abstract class HpkeContext {
  protected seq = 0;
  protected readonly aead: Aead;
  constructor(protected readonly schedule: HpkeKeySchedule) {
    this.aead = aeadOf(schedule.aead);
  }

  /** The sequence number the next Seal/Open uses (starts at 0). */
  get sequenceNumber(): number {
    return this.seq;
  }

  /**
   * Secret export (RFC 9180 §5.3): LabeledExpand(exporter_secret, "sec", exporterContext, length).
   * @param exporterContext what the exported secret is for.
   * @param length output length, 0 … 255 · 32.
   */
  export(exporterContext: Uint8Array, length: number): Uint8Array {
    return labeledExpand(hpkeSuiteId(this.schedule.aead), this.schedule.exporterSecret, 'sec', exporterContext, length);
  }

  // RFC 9180 §5.2 ComputeNonce: base_nonce XOR I2OSP(seq, Nn). seq stays below 2^53.
  protected nonce(): Uint8Array {
    const nonce = Uint8Array.from(this.schedule.baseNonce);
    for (let i = NN - 1, s = this.seq; s > 0; i--, s = Math.floor(s / 256)) nonce[i]! ^= s % 256;
    return nonce;
  }

  // RFC 9180 §5.2 IncrementSeq; the RFC's limit is 2^96 − 1, ours 2^53 − 1, far beyond any use.
  protected increment(): void {
    if (this.seq >= Number.MAX_SAFE_INTEGER) throw new RangeError('internal: HPKE message limit reached');
    this.seq++;
  }
}

/** ContextS (RFC 9180 §5.2): seals messages in order. */
export class HpkeSenderContext extends HpkeContext {
  /**
   * ContextS.Seal: encrypts with nonce(seq), then advances seq.
   * @returns ciphertext || 16-byte tag.
   */
  seal(aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const ct = this.aead.seal(this.schedule.key, this.nonce(), aad, plaintext);
    this.increment();
    return ct;
  }
}

/** ContextR (RFC 9180 §5.2): opens messages in the order they were sealed. */
export class HpkeRecipientContext extends HpkeContext {
  /**
   * ContextR.Open: decrypts with nonce(seq); seq advances only on success.
   * @throws VerificationError `HPKE_OPEN_FAILED` if the ciphertext does not authenticate.
   */
  open(aad: Uint8Array, ciphertext: Uint8Array): Uint8Array {
    const pt = this.aead.open(this.schedule.key, this.nonce(), aad, ciphertext);
    if (pt === undefined) fail('HPKE_OPEN_FAILED', 'HPKE: ciphertext does not open');
    this.increment();
    return pt;
  }
}

/** Options of {@link hpkeSetupBaseSender} and {@link hpkeSeal}. */
export interface HpkeSenderOptions {
  readonly recipientPublicKey: Uint8Array;
  readonly info: Uint8Array;
  /** Default {@link HPKE_AEAD_AES256GCM}. */
  readonly aead?: HpkeAeadId;
  /** Tests only (reproducing vectors): see {@link hpkeEncap}. */
  readonly ikmE?: Uint8Array;
}

/** Options of {@link hpkeSetupBaseRecipient} and {@link hpkeOpen}. */
export interface HpkeRecipientOptions {
  readonly recipientPrivateKey: Uint8Array;
  readonly enc: Uint8Array;
  readonly info: Uint8Array;
  /** Default {@link HPKE_AEAD_AES256GCM}; must match the sender's. */
  readonly aead?: HpkeAeadId;
}

/**
 * SetupBaseS (RFC 9180 §5.1.1): encapsulates to the recipient and returns a sender context.
 * @returns `enc` to send along, and the context to seal one or more messages with.
 * @throws ParseError `KEY_MALFORMED` for a recipient key that is not 32 bytes or is low-order.
 */
export function hpkeSetupBaseSender(o: HpkeSenderOptions): { enc: Uint8Array; context: HpkeSenderContext } {
  const { sharedSecret, enc } = hpkeEncap(o.recipientPublicKey, o.ikmE);
  return { enc, context: new HpkeSenderContext(hpkeKeySchedule(sharedSecret, o.info, o.aead ?? HPKE_AEAD_AES256GCM)) };
}

/**
 * SetupBaseR (RFC 9180 §5.1.1): decapsulates `enc` and returns a recipient context.
 * @throws ParseError `KEY_MALFORMED` if the private key is not 32 bytes.
 * @throws VerificationError `HPKE_OPEN_FAILED` if `enc` is not 32 bytes or is low-order.
 */
export function hpkeSetupBaseRecipient(o: HpkeRecipientOptions): HpkeRecipientContext {
  if (o.recipientPrivateKey.length !== NSK) fail('KEY_MALFORMED', 'HPKE: recipient private key must be 32 bytes');
  let sharedSecret: Uint8Array;
  try {
    sharedSecret = hpkeDecap(o.enc, o.recipientPrivateKey);
  } catch (e) {
    // A bad enc comes from the sender or the wire: report it as a failed open, nothing more.
    if (isParleyError(e, 'KEY_MALFORMED')) fail('HPKE_OPEN_FAILED', 'HPKE: encapsulated key rejected', e);
    throw e;
  }
  return new HpkeRecipientContext(hpkeKeySchedule(sharedSecret, o.info, o.aead ?? HPKE_AEAD_AES256GCM));
}

/**
 * Single-shot Seal (RFC 9180 §6.1): SetupBaseS then one ContextS.Seal.
 * @param o recipient public key, info, aad, plaintext and optional AEAD.
 * @returns `enc` (32 bytes) and `ciphertext` (plaintext length + 16).
 * @throws ParseError `KEY_MALFORMED` for a recipient key that is not 32 bytes or is low-order.
 * @example
 * const { publicKey, privateKey } = hpkeGenerateKeyPair();
 * const info = encodeUtf8('parley/envelope/v1');
 * const sealed = hpkeSeal({ recipientPublicKey: publicKey, info, aad: new Uint8Array(), plaintext });
 * hpkeOpen({ recipientPrivateKey: privateKey, info, aad: new Uint8Array(), ...sealed }); // plaintext
 */
export function hpkeSeal(o: HpkeSenderOptions & { readonly aad: Uint8Array; readonly plaintext: Uint8Array }): {
  enc: Uint8Array;
  ciphertext: Uint8Array;
} {
  const { enc, context } = hpkeSetupBaseSender(o);
  return { enc, ciphertext: context.seal(o.aad, o.plaintext) };
}

/**
 * Single-shot Open (RFC 9180 §6.1): SetupBaseR then one ContextR.Open.
 * @param o recipient private key, enc, info, aad, ciphertext and optional AEAD.
 * @returns the plaintext.
 * @throws ParseError `KEY_MALFORMED` if the private key is not 32 bytes.
 * @throws VerificationError `HPKE_OPEN_FAILED` if anything else is wrong (enc, ciphertext, info, aad, key).
 */
export function hpkeOpen(o: HpkeRecipientOptions & { readonly aad: Uint8Array; readonly ciphertext: Uint8Array }): Uint8Array {
  return hpkeSetupBaseRecipient(o).open(o.aad, o.ciphertext);
}
