/**
 * Note verifiers and signers (the Go `note.Verifier` / `note.Signer` pair)
 * and {@link VerifierSet}, the trusted-key lookup used by `openNote`.
 *
 * A verifier is identified by (key name, key ID) — C2SP signed-note
 * §Signatures: "The tuple of key name and key ID uniquely identifies the key".
 * What it checks depends on the key's signature type:
 *
 *     0x01 Ed25519:        Ed25519(publicKey).verify(note text, sig[64])
 *     0x04 cosignature/v1: sig = timestamp(8) || ed25519(64) over
 *                          "cosignature/v1\ntime <ts>\n" || note text
 *
 * A VerifierSet refuses two different keys with the same name and key ID
 * (`KEY_AMBIGUOUS`, as Go `VerifierList` reports "ambiguous key"); adding the
 * same key twice is harmless.
 */
import { fail } from '../errors.js';
import { bytesEqual } from '../encoding.js';
import { getCrypto } from '../crypto/provider.js';
import type { Ed25519Sign, Ed25519Verify, SigningCrypto } from '../crypto/provider.js';
import { SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519, formatKeyId, parseSignerKey, parseVerifierKey } from './key.js';
import type { SignerKey, VerifierKey } from './key.js';
import { signCosignature, verifyCosignature } from './cosignature.js';

/** Checks note signatures made by one key. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** The key, when the verifier was built from one (used to detect duplicates). */
  readonly key?: VerifierKey;
  /** True when `signature` (without the 4-byte key ID) is valid for `text`. Never throws on bad signatures. */
  verify(text: Uint8Array, signature: Uint8Array): boolean;
}

/** Produces note signatures with one key. */
export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  /** Signature bytes (without the 4-byte key ID) over the note text. */
  sign(text: Uint8Array): Uint8Array;
}

/** Options for {@link newSigner}. */
export interface SignerOptions {
  /** Clock for cosignature/v1 timestamps, in POSIX seconds. Default: `Date.now()`. */
  readonly now?: () => number;
}

// Binds an Ed25519 function to the provider active when it is called, so a
// verifier made before `setCrypto` still uses the chosen binding.
function bound<F>(make: (p: SigningCrypto) => F): () => F {
  let cache: { p: SigningCrypto; f: F } | undefined;
  return () => {
    const p = getCrypto();
    if (cache === undefined || cache.p !== p) cache = { p, f: make(p) };
    return cache.f;
  };
}

/**
 * Builds a verifier for a 0x01 or 0x04 key.
 * @param key a parsed key or a vkey string.
 * @returns a {@link NoteVerifier}.
 * @throws ParseError from {@link parseVerifierKey} when given a bad vkey string.
 * @example newVerifier('PeterNeumann+c74f20a3+ARpc…').verify(text, sig)
 */
export function newVerifier(key: VerifierKey | string): NoteVerifier {
  const k = typeof key === 'string' ? parseVerifierKey(key) : key;
  if (k.type === SIG_TYPE_COSIGNATURE_V1) {
    return { name: k.name, keyId: k.keyId, key: k, verify: (text, sig) => verifyCosignature(text, k, sig) !== undefined };
  }
  const ed = bound<Ed25519Verify>((p) => p.ed25519Verifier(k.publicKey));
  return { name: k.name, keyId: k.keyId, key: k, verify: (text, sig) => sig.length === 64 && ed()(text, sig) };
}

/**
 * Builds a signer. A 0x01 key signs the note text with Ed25519; a 0x04 key
 * makes cosignature/v1 signatures timestamped by `options.now`.
 * @param key a parsed key or a `PRIVATE+KEY+…` string.
 * @throws ParseError from {@link parseSignerKey} when given a bad skey string.
 * @example signNote('hello\n', [newSigner(skey)])
 */
export function newSigner(key: SignerKey | string, options: SignerOptions = {}): NoteSigner {
  const k = typeof key === 'string' ? parseSignerKey(key) : key;
  if (k.type === SIG_TYPE_COSIGNATURE_V1) {
    const now = options.now ?? (() => Math.floor(Date.now() / 1000));
    return { name: k.name, keyId: k.keyId, sign: (text) => signCosignature(text, k, now()) };
  }
  if (k.type !== SIG_TYPE_ED25519) fail('KEY_UNSUPPORTED', 'unsupported signer key type');
  const ed = bound<Ed25519Sign>((p) => p.ed25519Signer(k.seed));
  return { name: k.name, keyId: k.keyId, sign: (text) => ed()(text) };
}

function sameKey(a: NoteVerifier, b: NoteVerifier): boolean {
  if (a === b) return true;
  return a.key !== undefined && b.key !== undefined && a.key.type === b.key.type && bytesEqual(a.key.publicKey, b.key.publicKey);
}

/** Trusted keys, looked up by (name, key ID). */
export class VerifierSet implements Iterable<NoteVerifier> {
  readonly #byId = new Map<string, NoteVerifier>();

  /**
   * @param verifiers verifiers, parsed keys or vkey strings.
   * @throws ParseError for a bad vkey string; ArgumentError `KEY_AMBIGUOUS`
   *   for two different keys with the same name and key ID.
   * @example new VerifierSet(['sum.golang.org+033de0ae+Ac4z…'])
   */
  constructor(verifiers: Iterable<NoteVerifier | VerifierKey | string> = []) {
    for (const v of verifiers) this.add(v);
  }

  /**
   * Adds a verifier (or key, or vkey string).
   * @throws ArgumentError `KEY_AMBIGUOUS` if a different key has the same name and key ID.
   */
  add(v: NoteVerifier | VerifierKey | string): this {
    const verifier = typeof v === 'string' || !('verify' in v) ? newVerifier(v) : v;
    const id = `${verifier.name}+${formatKeyId(verifier.keyId)}`;
    const old = this.#byId.get(id);
    if (old !== undefined && !sameKey(old, verifier)) fail('KEY_AMBIGUOUS', `two keys named ${id}`);
    if (old === undefined) this.#byId.set(id, verifier);
    return this;
  }

  /** The verifier for (name, key ID), or undefined when unknown. Both must match. */
  get(name: string, keyId: number): NoteVerifier | undefined {
    return this.#byId.get(`${name}+${formatKeyId(keyId)}`);
  }

  /** Number of distinct (name, key ID) entries. */
  get size(): number {
    return this.#byId.size;
  }

  [Symbol.iterator](): Iterator<NoteVerifier> {
    return this.#byId.values();
  }
}
