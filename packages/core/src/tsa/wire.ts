/**
 * The wire form of a time-stamp token, everywhere Parley carries one
 * (node API, bundles, fork proofs, evidence files):
 *
 *     {"authority": "<accord authority name>", "token": "<standard base64 of the DER ContentInfo>"}
 *
 * A list of them (the tokens of one checkpoint) is sorted by authority, one
 * token per authority. This module has no pkijs dependency, so core's main
 * entry may use it.
 */
import { fail } from '../errors.js';
import { formatBase64, parseBase64 } from '../encoding.js';
import { arr, obj, sortedUnique, str } from '../shape.js';

/** One token as carried on the wire. */
export interface TimestampTokenWire {
  /** Name of the accord authority that made it (`timestamping.authorities[].name`). */
  readonly authority: string;
  /** Standard padded base64 of the DER ContentInfo (RFC 3161 §2.4.2 TimeStampToken). */
  readonly token: string;
}

/** ^[a-z0-9][a-z0-9-]{0,31}$, as the accord's authority names. */
export const TSA_NAME_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;
/** At most 8 authorities in an accord, so at most 8 tokens per checkpoint. */
export const MAX_TOKENS_PER_CHECKPOINT = 8;
/** Base64 of a 64 KiB token. */
const MAX_TOKEN_BASE64 = 87384;

/** The wire form of `token` by `authority`. */
export function formatTimestampToken(authority: string, token: Uint8Array): TimestampTokenWire {
  return { authority, token: formatBase64(token) };
}

/**
 * Checks one wire token's shape (closed members, name pattern, canonical base64).
 * @throws ParseError `TSA_MALFORMED` naming `path`.
 */
export function parseTimestampToken(v: unknown, path = 'timestamp'): TimestampTokenWire {
  const o = obj(v, 'TSA_MALFORMED', path, ['authority', 'token']);
  const authority = str(o['authority'], 'TSA_MALFORMED', `${path}.authority`, { pattern: TSA_NAME_RE, max: 32 });
  const token = str(o['token'], 'TSA_MALFORMED', `${path}.token`, { min: 4, max: MAX_TOKEN_BASE64 });
  try {
    parseBase64(token);
  } catch (e) {
    return fail('TSA_MALFORMED', `${path}.token: not standard base64`, e);
  }
  return { authority, token };
}

/**
 * Checks a checkpoint's token list: at most 8, sorted by authority, one per authority.
 * @throws ParseError `TSA_MALFORMED` naming `path`.
 */
export function parseTimestampTokens(v: unknown, path = 'timestamps'): TimestampTokenWire[] {
  const list = arr(v, 'TSA_MALFORMED', path, MAX_TOKENS_PER_CHECKPOINT, (x, p) => parseTimestampToken(x, p));
  sortedUnique(list.map((t) => t.authority), 'TSA_MALFORMED', `${path}[].authority`);
  return list;
}

/** The DER bytes of a wire token. */
export function timestampTokenBytes(t: TimestampTokenWire): Uint8Array {
  try {
    return parseBase64(t.token);
  } catch (e) {
    return fail('TSA_MALFORMED', 'token: not standard base64', e);
  }
}
