/**
 * keys.enc: the party's secrets at rest, encrypted with a passphrase.
 *
 *     {"v": 1,
 *      "kdf": {"name": "scrypt", "N": 131072, "r": 8, "p": 1},     RFC 7914
 *      "cipher": "AES-256-GCM",
 *      "salt": b64(16 random bytes), "nonce": b64(12 random bytes),
 *      "ciphertext": b64(AES-256-GCM ciphertext || 16-byte tag)}
 *
 *     key        = scrypt(NFC(passphrase), salt, N, r, p, dkLen = 32)
 *     aad        = "parley/keys/v1\n" || JSON.stringify([v, kdf, cipher, salt, nonce])
 *     plaintext  = JSON {"v": 1, "logKey": "PRIVATE+KEY+<origin>+…", "hpkeSeed": b64(32 bytes)}
 *
 * The header is bound as associated data, so lowering N or swapping the salt
 * makes decryption fail instead of weakening the file. The HPKE key pair is
 * `hpkeDeriveKeyPair(hpkeSeed)` (RFC 9180 §7.1.3), so one 32-byte seed is
 * all there is to keep. A wrong passphrase and a tampered file are the same
 * failure: the tag does not verify.
 */
import { createCipheriv, createDecipheriv, randomBytes, scrypt as scryptCb } from 'node:crypto';
import { promisify } from 'node:util';
import { type HpkeKeyPair, type SignerKey, SIG_TYPE_COSIGNATURE_V1, formatSignerKey, hpkeDeriveKeyPair, parseSignerKey } from '@parley/core/node';
import type { NodeKeys } from '@parley/node';
import { UsageError } from './exit.js';

const scrypt = promisify(scryptCb) as (pw: string, salt: Buffer, len: number, o: { N: number; r: number; p: number; maxmem: number }) => Promise<Buffer>;

const AAD_CONTEXT = 'parley/keys/v1\n';
/** Default cost: 2^17 (128 MiB, about half a second here); files record their own. */
export const KDF_N = 2 ** 17;
const MAX_N = 2 ** 20;
const MAXMEM = 1100 * 1024 * 1024;

interface KeyFile {
  readonly v: 1;
  readonly kdf: { readonly name: 'scrypt'; readonly N: number; readonly r: number; readonly p: number };
  readonly cipher: 'AES-256-GCM';
  readonly salt: string;
  readonly nonce: string;
  readonly ciphertext: string;
}

/** The decrypted secrets: the log signer key and the seed of the HPKE key pair. */
export interface PartySecrets {
  readonly log: SignerKey;
  readonly hpkeSeed: Uint8Array;
  /** The witness's own cosigning key (witness.key, issue 11), when the data directory has one. */
  readonly witness?: SignerKey;
}

export function nodeKeys(s: PartySecrets): NodeKeys & { hpke: HpkeKeyPair } {
  return { log: s.log, hpke: hpkeDeriveKeyPair(s.hpkeSeed), ...(s.witness !== undefined ? { witness: s.witness } : {}) };
}

function aad(f: Omit<KeyFile, 'ciphertext'>): Buffer {
  return Buffer.from(AAD_CONTEXT + JSON.stringify([f.v, f.kdf, f.cipher, f.salt, f.nonce]), 'utf8');
}

async function deriveKey(passphrase: string, salt: Buffer, kdf: KeyFile['kdf']): Promise<Buffer> {
  return scrypt(passphrase.normalize('NFC'), salt, 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: MAXMEM });
}

/** Encrypts the secrets; returns the file's text. */
export async function sealKeyFile(secrets: PartySecrets, passphrase: string, n = KDF_N): Promise<string> {
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const header = { v: 1, kdf: { name: 'scrypt', N: n, r: 8, p: 1 }, cipher: 'AES-256-GCM', salt: salt.toString('base64'), nonce: nonce.toString('base64') } as const;
  const key = await deriveKey(passphrase, salt, header.kdf);
  const plain = Buffer.from(JSON.stringify({ v: 1, logKey: formatSignerKey(secrets.log), hpkeSeed: Buffer.from(secrets.hpkeSeed).toString('base64') }), 'utf8');
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad(header));
  const ct = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  plain.fill(0);
  key.fill(0);
  return `${JSON.stringify({ ...header, ciphertext: ct.toString('base64') }, null, 2)}\n`;
}

function parseKeyFile(text: string, file: string): KeyFile {
  let v: Partial<KeyFile>;
  try {
    v = JSON.parse(text) as Partial<KeyFile>;
  } catch {
    throw new UsageError(`${file} is not a Parley key file (not JSON)`, 'KEY_FILE_UNREADABLE');
  }
  const k = v.kdf;
  const ok =
    v.v === 1 && v.cipher === 'AES-256-GCM' && k?.name === 'scrypt' &&
    [k.N, k.r, k.p].every((x) => Number.isSafeInteger(x) && x > 0) && k.N <= MAX_N && Number.isInteger(Math.log2(k.N)) && k.p <= 16 &&
    128 * k.N * k.r <= MAXMEM / 2 && // scrypt's memory: 128·N·r bytes; a file must not make us allocate more
    typeof v.salt === 'string' && typeof v.nonce === 'string' && typeof v.ciphertext === 'string' &&
    Buffer.from(v.salt, 'base64').length >= 16 && Buffer.from(v.nonce, 'base64').length === 12;
  if (!ok) throw new UsageError(`${file} is not a Parley key file (version 1, scrypt, AES-256-GCM)`, 'KEY_FILE_UNREADABLE');
  return v as KeyFile;
}

/**
 * Decrypts a key file.
 * @throws UsageError for a wrong passphrase (or a tampered file) and for a malformed file.
 */
export async function openKeyFile(text: string, passphrase: string, file: string): Promise<PartySecrets> {
  const f = parseKeyFile(text, file);
  const key = await deriveKey(passphrase, Buffer.from(f.salt, 'base64'), f.kdf);
  const ct = Buffer.from(f.ciphertext, 'base64');
  if (ct.length < 17) throw new UsageError(`${file} is truncated`, 'KEY_FILE_UNREADABLE');
  let plain: Buffer;
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(f.nonce, 'base64'));
    d.setAAD(aad(f));
    d.setAuthTag(ct.subarray(ct.length - 16));
    plain = Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
  } catch {
    throw new UsageError(`wrong passphrase for ${file} (or the file was altered): try again, or check --passphrase-file / PARLEY_PASSPHRASE`, 'PASSPHRASE_WRONG');
  } finally {
    key.fill(0);
  }
  try {
    const o = JSON.parse(plain.toString('utf8')) as { logKey: string; hpkeSeed: string };
    const hpkeSeed = new Uint8Array(Buffer.from(o.hpkeSeed, 'base64'));
    if (hpkeSeed.length !== 32) throw new Error('hpkeSeed');
    return { log: parseSignerKey(o.logKey), hpkeSeed };
  } catch {
    throw new UsageError(`${file} decrypted but does not hold a log key and an HPKE seed`, 'KEY_FILE_UNREADABLE');
  } finally {
    plain.fill(0);
  }
}

// ---------------------------------------------------------------------------
// witness.key (issue 11): the witness's own cosigning key, in the same
// container as keys.enc (scrypt + AES-256-GCM, header bound as associated
// data, same passphrase); plaintext {"v": 1, "witnessKey": "PRIVATE+KEY+<name>+…"},
// a cosignature/v1 (0x04) signer key. Absent: the witness cosigns with the
// log key's 0x04 form. The node checks it is the accord's witnessKey for the party.

/** Encrypts a witness signer key; returns witness.key's text. */
export async function sealWitnessKeyFile(key: SignerKey, passphrase: string, n = KDF_N): Promise<string> {
  const salt = randomBytes(16);
  const nonce = randomBytes(12);
  const header = { v: 1, kdf: { name: 'scrypt', N: n, r: 8, p: 1 }, cipher: 'AES-256-GCM', salt: salt.toString('base64'), nonce: nonce.toString('base64') } as const;
  const dk = await deriveKey(passphrase, salt, header.kdf);
  const plain = Buffer.from(JSON.stringify({ v: 1, witnessKey: formatSignerKey(key) }), 'utf8');
  const c = createCipheriv('aes-256-gcm', dk, nonce);
  c.setAAD(aad(header));
  const ct = Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
  plain.fill(0);
  dk.fill(0);
  return `${JSON.stringify({ ...header, ciphertext: ct.toString('base64') }, null, 2)}\n`;
}

/**
 * Decrypts witness.key.
 * @throws UsageError `PASSPHRASE_WRONG` (or a tampered file), `KEY_FILE_UNREADABLE` for a malformed file or one without a cosignature/v1 key.
 */
export async function openWitnessKeyFile(text: string, passphrase: string, file: string): Promise<SignerKey> {
  const f = parseKeyFile(text, file);
  const dk = await deriveKey(passphrase, Buffer.from(f.salt, 'base64'), f.kdf);
  const ct = Buffer.from(f.ciphertext, 'base64');
  if (ct.length < 17) throw new UsageError(`${file} is truncated`, 'KEY_FILE_UNREADABLE');
  let plain: Buffer;
  try {
    const d = createDecipheriv('aes-256-gcm', dk, Buffer.from(f.nonce, 'base64'));
    d.setAAD(aad(f));
    d.setAuthTag(ct.subarray(ct.length - 16));
    plain = Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
  } catch {
    throw new UsageError(`wrong passphrase for ${file} (or the file was altered)`, 'PASSPHRASE_WRONG');
  } finally {
    dk.fill(0);
  }
  try {
    const o = JSON.parse(plain.toString('utf8')) as { witnessKey: string };
    const key = parseSignerKey(o.witnessKey);
    if (key.type !== SIG_TYPE_COSIGNATURE_V1) throw new Error('type');
    return key;
  } catch {
    throw new UsageError(`${file} decrypted but does not hold a cosignature/v1 witness key`, 'KEY_FILE_UNREADABLE');
  } finally {
    plain.fill(0);
  }
}
