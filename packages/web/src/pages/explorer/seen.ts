/**
 * The last checkpoint of each log this browser verified, kept in
 * localStorage so the next verification must prove it extends it (RFC 9162
 * §2.1.4 consistency): a node that later shows this browser another history,
 * or a shorter one, fails instead of passing.
 *
 *     key    parley.verified.<accord id>.<party>
 *     value  {"size": 12, "rootHash": "<base64>", "at": "<ISO time>"}
 *
 * Only the largest verified tree is kept (an older size verified on request
 * does not replace it). A value that does not parse is treated as absent,
 * since the store is this browser's own; storage that is unavailable (private
 * mode, quota) only loses the memory.
 */

/** A checkpoint this browser verified. */
export interface Seen {
  readonly size: number;
  /** Base64 of the 32-byte root hash. */
  readonly rootHash: string;
  /** When it was verified (ISO time). */
  readonly at: string;
}

const keyOf = (accordId: string, party: string) => `parley.verified.${accordId}.${party}`;

/** The checkpoint of `party`'s log last verified here, if any. */
export function readSeen(accordId: string, party: string): Seen | undefined {
  try {
    const raw = globalThis.localStorage?.getItem(keyOf(accordId, party));
    if (raw == null) return undefined;
    const v = JSON.parse(raw) as Partial<Seen>;
    if (!Number.isSafeInteger(v.size) || (v.size as number) < 1) return undefined;
    if (typeof v.rootHash !== 'string' || !/^[A-Za-z0-9+/]{43}=$/.test(v.rootHash)) return undefined;
    if (typeof v.at !== 'string') return undefined;
    return { size: v.size as number, rootHash: v.rootHash, at: v.at };
  } catch {
    return undefined;
  }
}

/** Keeps `seen` as the last verified checkpoint of `party`'s log, unless a larger one is kept already. */
export function rememberSeen(accordId: string, party: string, seen: Seen): void {
  const kept = readSeen(accordId, party);
  if (kept !== undefined && kept.size > seen.size) return;
  try {
    globalThis.localStorage?.setItem(keyOf(accordId, party), JSON.stringify(seen));
  } catch {
    // No storage: the next visit starts without a memory.
  }
}

/*
 * The accord version this browser verified last for a channel, so a node
 * that later serves an older chain (a rollback past it, or a fork) fails the
 * accord step (core verifyChainFile's `trusted`).
 *
 *     key    parley.accord.<channel id>
 *     value  hex digest of the version in force when last verified
 */
const accordKeyOf = (channel: string) => `parley.accord.${channel}`;

/** The digest of the accord version last verified here for `channel`, if any. */
export function readTrustedAccord(channel: string): string | undefined {
  try {
    const raw = globalThis.localStorage?.getItem(accordKeyOf(channel));
    return raw != null && /^[0-9a-f]{64}$/.test(raw) ? raw : undefined;
  } catch {
    return undefined;
  }
}

/** Keeps `digest` as the accord version last verified for `channel`. */
export function rememberTrustedAccord(channel: string, digest: string): void {
  try {
    globalThis.localStorage?.setItem(accordKeyOf(channel), digest);
  } catch {
    // No storage: the next visit trusts version 1 (the channel id) alone.
  }
}
