/** Parsing hashes typed by people: 64 hex digits or 44 base64 characters. */
import { decodeUtf8, parseBase64, parseHexLoose } from '@parley/core/node';
import { UsageError } from './exit.js';

/**
 * A 32-byte hash written as hex (64 digits, any case) or standard base64.
 * @throws UsageError when it is neither.
 */
export function parseHashArg(s: string, what: string): Uint8Array {
  const t = s.trim();
  try {
    const bytes = /^[0-9a-fA-F]{64}$/.test(t) ? parseHexLoose(t) : parseBase64(t);
    if (bytes.length === 32) return bytes;
  } catch {
    // fall through to the usage error below
  }
  throw new UsageError(`${what} must be a 32-byte hash in hex (64 digits) or base64 (44 characters), got "${s.slice(0, 80)}"`);
}

/** A proof file: one hash per line (hex or base64); blank lines ignored. */
export function parseProofFile(bytes: Uint8Array, what: string): Uint8Array[] {
  let text: string;
  try {
    text = decodeUtf8(bytes, what);
  } catch {
    throw new UsageError(`${what} is not UTF-8 text`);
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l !== '');
  if (lines.length > 64) throw new UsageError(`${what} has ${lines.length} hashes; a proof has at most 64`);
  return lines.map((l, i) => parseHashArg(l, `${what} line ${i + 1}`));
}

/** A non-negative integer argument (tree size or index). */
export function parseIndexArg(s: string, what: string): number {
  if (!/^(0|[1-9][0-9]*)$/.test(s) || !Number.isSafeInteger(Number(s))) {
    throw new UsageError(`${what} must be a non-negative integer below 2^53, got "${s}"`);
  }
  return Number(s);
}
