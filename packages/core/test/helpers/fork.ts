/**
 * Builds forked logs for tests and for the pinned vector
 * (test/vectors/parley/make-fork-v1.ts), on the channel of channel-v1.json
 * (same accord, same fixed-seed keys).
 *
 * US keeps an honest log H of leaves `fork-v1 US entry <i>` and a forked log
 * F that agrees with H below `forkAt` and holds `… (rewritten)` leaves from
 * there on. Checkpoints are signed with US's log key; CN cosigns with its log
 * key as a cosignature/v1 witness key, at fixed timestamps.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type NoteSignature,
  type SignedAccord,
  type SignerKey,
  type VerifiedAccord,
  MemoryTree,
  appendSignatures,
  cosign,
  cosignerKey,
  decodeUtf8,
  encodeUtf8,
  formatCheckpoint,
  leafHash,
  newSigner,
  parseBase64,
  signCheckpoint,
  signerKeyFromSeed,
  treeHash,
  verifyAccord,
} from '../../src/index.js';
import { OWN_VECTORS_DIR } from './vectors.js';

/** channel-v1.json, as the fork and request tests use it. */
export interface ChannelVector {
  readonly accord: SignedAccord;
  readonly accordId: string;
  readonly seeds: Record<string, { log: string; hpke: string }>;
  readonly entry: { bytesHex: string };
}

export const channel = JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'parley/channel-v1.json'), 'utf8')) as ChannelVector;

/** The log signer key of `id` ('US' or 'CN') from the channel seeds (call under the active provider). */
export function logKey(id: 'US' | 'CN'): SignerKey {
  return signerKeyFromSeed(`${id.toLowerCase()}.parley.example/log`, parseBase64(channel.seeds[id]!.log));
}

export function channelAccord(): VerifiedAccord {
  return verifyAccord(channel.accord);
}

/** Leaf i of the honest (`rewritten` false) or forked log. */
export function forkLeaf(i: number, rewritten: boolean): Uint8Array {
  return leafHash(encodeUtf8(`fork-v1 US entry ${i}${rewritten ? ' (rewritten)' : ''}`));
}

/** A tree of `size` leaves that is honest below `forkAt` and rewritten from there (forkAt ≥ size: honest). */
export function forkTree(size: number, forkAt = Number.POSITIVE_INFINITY): MemoryTree {
  const t = new MemoryTree();
  for (let i = 0; i < size; i++) t.append(forkLeaf(i, i >= forkAt));
  return t;
}

/** US's checkpoint note of the first `size` leaves of `tree`, cosigned by CN at each of `cosignedAt` (none if empty). */
export function usCheckpoint(tree: MemoryTree, size: number, cosignedAt?: number, extra: readonly NoteSignature[] = []): string {
  const us = logKey('US');
  const cp = { origin: us.name, treeSize: size, rootHash: treeHash(size, tree), extensions: [] };
  const sigs = [...(cosignedAt === undefined ? [] : [cosign(formatCheckpoint(cp), cosignerKey(logKey('CN')), cosignedAt)]), ...extra];
  const note = signCheckpoint(cp, newSigner(us));
  return decodeUtf8(sigs.length > 0 ? appendSignatures(note, sigs) : note);
}

/** The inputs of fork-v1.json. */
export const FORK_V1 = {
  /** Where F departs from H. */
  forkAt: 5,
  /** The older (cosigned) size and the newer size. */
  older: 8,
  newer: 13,
  /** CN's cosignature time on the honest checkpoints: 2026-11-27T00:00:00Z. */
  cosignedAt: 1795766400,
  request: {
    from: 'US',
    to: 'CN',
    method: 'POST',
    path: '/v1/federation/entries?since=7',
    /** 2026-11-27T08:00:00Z */
    created: 1795795200,
    nonceHex: '000102030405060708090a0b0c0d0e0f',
  },
} as const;
