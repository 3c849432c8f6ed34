/**
 * Sealed bodies: a body marked other than TLP:CLEAR is encrypted end to end
 * to each recipient (and the sender) with HPKE (RFC 9180, base mode,
 * DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, AES-256-GCM or
 * ChaCha20-Poly1305), with a salted commitment so the plaintext can later be
 * disclosed to an auditor and checked against the signed entry.
 *
 *     payload     = JCS({"body": <body>, "salt": base64(salt)})
 *     commitment  = commit(JCS(body), salt)                      (commitment.ts)
 *     info        = "parley/body/v1\n" || accord id (hex, ASCII)
 *     aad         = from "\n" recipient "\n" commitment (base64)
 *     copy        = HPKE.Seal(recipient X25519 key, info, aad, payload)
 *
 * Binding the sender, the recipient and the commitment into the AAD means a
 * sealed copy cannot be moved to another entry, another recipient or another
 * channel without failing to open.
 */
import { fail } from '../errors.js';
import { encodeUtf8, formatBase64, parseBase64 } from '../encoding.js';
import { canonicalizeToBytes } from '../cjson.js';
import { type JsonValue, parseJson } from '../ijson.js';
import { hpkeOpen, hpkeSeal } from '../envelope/hpke.js';
import { checkCommitment, commit } from '../envelope/commitment.js';
import { obj, str } from '../shape.js';
import type { AeadName, SealedBody, SealedCopy } from './envelope.js';

export const BODY_CONTEXT = 'parley/body/v1\n';

const AEAD_IDS = { 'AES-256-GCM': 0x0002, 'ChaCha20-Poly1305': 0x0003 } as const;

export interface SealRecipient {
  readonly party: string;
  /** The party's X25519 public key (from the accord). */
  readonly publicKey: Uint8Array;
}

export interface SealInput {
  readonly accordId: string;
  readonly from: string;
  /** Every recipient and the sender. */
  readonly recipients: readonly SealRecipient[];
  readonly body: JsonValue;
  readonly aead?: AeadName;
}

function info(accordId: string): Uint8Array {
  return encodeUtf8(`${BODY_CONTEXT}${accordId}`);
}

function aad(from: string, party: string, commitment: string): Uint8Array {
  return encodeUtf8(`${from}\n${party}\n${commitment}`);
}

/**
 * Seals a body to each recipient.
 * @returns the `sealed` member of the entry body, recipients sorted by party.
 */
export function sealBody(input: SealInput): SealedBody {
  const aead = input.aead ?? 'AES-256-GCM';
  const plain = canonicalizeToBytes(input.body);
  const c = commit(plain);
  const commitment = formatBase64(c.commitment);
  const payload = canonicalizeToBytes({ body: input.body, salt: formatBase64(c.salt) });
  const recipients: SealedCopy[] = [...input.recipients]
    .sort((a, b) => (a.party < b.party ? -1 : 1))
    .map((r) => {
      const sealed = hpkeSeal({ recipientPublicKey: r.publicKey, info: info(input.accordId), aad: aad(input.from, r.party, commitment), plaintext: payload, aead: AEAD_IDS[aead] });
      return { party: r.party, enc: formatBase64(sealed.enc), ct: formatBase64(sealed.ciphertext) };
    });
  return { aead, commitment, recipients };
}

/** An opened body: the plaintext and the salt that discloses it. */
export interface OpenedBody {
  readonly body: JsonValue;
  readonly salt: Uint8Array;
}

/**
 * Opens `party`'s copy of a sealed body and checks it against the commitment.
 * @throws VerificationError `HPKE_OPEN_FAILED` when the copy does not open,
 *   `COMMITMENT_MISMATCH` when the plaintext is not the committed one;
 *   ParseError `ENTRY_MALFORMED` when there is no copy for `party`.
 */
export function openBody(sealed: SealedBody, ctx: { accordId: string; from: string; party: string; privateKey: Uint8Array }): OpenedBody {
  const copy = sealed.recipients.find((r) => r.party === ctx.party);
  if (!copy) fail('ENTRY_MALFORMED', `the body is not sealed to ${ctx.party}`);
  const payload = hpkeOpen({
    recipientPrivateKey: ctx.privateKey,
    enc: parseBase64(copy.enc),
    info: info(ctx.accordId),
    aad: aad(ctx.from, ctx.party, sealed.commitment),
    ciphertext: parseBase64(copy.ct),
    aead: AEAD_IDS[sealed.aead],
  });
  let o: Record<string, unknown>;
  try {
    o = obj(parseJson(payload), 'ENTRY_MALFORMED', 'sealed payload', ['body', 'salt']);
  } catch (e) {
    return fail('COMMITMENT_MISMATCH', 'sealed payload is not the expected JSON', e);
  }
  const salt = parseBase64(str(o['salt'], 'ENTRY_MALFORMED', 'sealed payload.salt', { max: 100 }));
  const body = o['body'] as JsonValue;
  if (!checkDisclosure(sealed, body, salt)) fail('COMMITMENT_MISMATCH', 'the opened body does not match the commitment');
  return { body, salt };
}

/**
 * An auditor's check of a disclosed body: does (body, salt) open the
 * entry's commitment? Needs no keys.
 */
export function checkDisclosure(sealed: SealedBody, body: JsonValue, salt: Uint8Array): boolean {
  return checkCommitment(parseBase64(sealed.commitment), salt, canonicalizeToBytes(body));
}
