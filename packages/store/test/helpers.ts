/**
 * Shared test helpers for the store: temp files, a deterministic log key,
 * entry factories, batch building, and the tree checks every crash and
 * fault test runs after reopening a store.
 */
import '@parley/core/node'; // node:crypto binding, as the application would pick it
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import {
  bytesEqual,
  type Checkpoint,
  consistencyProofFromHashes,
  consistencyProofIndexes,
  Frontier,
  type Hash,
  inclusionProofFromHashes,
  inclusionProofIndexes,
  leafHash,
  newSigner,
  ParleyError,
  type ErrorCode,
  parseCheckpoint,
  parseNote,
  signCheckpoint,
  signerKeyFromSeed,
  storedHashCount,
  verifierKeyOf,
  verifyConsistency,
  verifyInclusion,
  VerifierSet,
  newVerifier,
  openCheckpoint,
} from '@parley/core';
import type { AppendBatch, EntryMeta, LogStore, OwnEntry } from '../src/types.js';

export const ORIGIN = 'parley.test/US';
export const LOG_KEY = signerKeyFromSeed(ORIGIN, new Uint8Array(32).fill(42));
export const LOG_SIGNER = newSigner(LOG_KEY);
export const LOG_VERIFIERS = new VerifierSet([newVerifier(verifierKeyOf(LOG_KEY))]);

/** Signs a checkpoint with the test log key. */
export function signTestCheckpoint(cp: Checkpoint): Uint8Array {
  return signCheckpoint(cp, LOG_SIGNER);
}

/** A fresh temp directory, removed by the returned cleanup. */
export function tempDir(prefix = 'parley-store-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Metadata for test entries; override any field. */
export function meta(over: Partial<EntryMeta> = {}): EntryMeta {
  return {
    type: 'hotline.message',
    from: 'US',
    officer: 'alice',
    to: ['CN'],
    time: '2026-05-14T12:00:00Z',
    precedence: 'ROUTINE',
    marking: 'TLP:AMBER',
    refs: [],
    ...over,
  };
}

/** Deterministic entry bytes for index `i` (the leaf input), tagged so different runs differ. */
export function entryBytes(i: number, tag = 'e', size = 64): Uint8Array {
  const head = new TextEncoder().encode(`${tag}:${i}:`);
  const out = new Uint8Array(Math.max(size, head.length));
  out.set(head);
  return out;
}

/**
 * Builds a valid batch appending `items` to a log whose frontier is `f`
 * (advanced in place), with a checkpoint signed by the test key.
 */
export function buildBatch(f: Frontier, items: readonly { bytes: Uint8Array; meta: EntryMeta }[]): AppendBatch {
  const prevRoot = f.root();
  let stored = storedHashCount(f.size);
  const entries: OwnEntry[] = [];
  const hashes: [number, Hash][] = [];
  for (const it of items) {
    const index = f.size;
    const leaf = leafHash(it.bytes);
    for (const h of f.append(leaf)) hashes.push([stored++, h]);
    entries.push({ index, leafHash: leaf, bytes: it.bytes, meta: it.meta });
  }
  const checkpoint = signTestCheckpoint({ origin: ORIGIN, treeSize: f.size, rootHash: f.root(), extensions: [] });
  return { entries, hashes, treeSize: f.size, checkpoint, prevRoot };
}

/** Parses a stored checkpoint note without checking its signature (the tests check it separately). */
export function checkpointOf(note: Uint8Array): Checkpoint {
  return parseCheckpoint(parseNote(note).text);
}

/** Verifies a checkpoint note with the test key. */
export function openTestCheckpoint(note: Uint8Array): Checkpoint {
  return openCheckpoint(note, LOG_VERIFIERS, { origin: ORIGIN }).checkpoint;
}

/** Awaits `p` and asserts it rejects with a ParleyError of `cls` and `code` (never message text). */
export async function expectRejectsCode(
  p: Promise<unknown>,
  cls: abstract new (...args: never[]) => ParleyError,
  code: ErrorCode,
): Promise<ParleyError> {
  let thrown: unknown;
  try {
    await p;
  } catch (e) {
    thrown = e;
  }
  expect(thrown, `expected ${cls.name} ${code}`).toBeInstanceOf(cls);
  expect((thrown as ParleyError).code).toBe(code);
  return thrown as ParleyError;
}

/**
 * The checks after any crash or fault: every entry's leaf hash is the hash of
 * its bytes and sits at its leaf slot; the latest checkpoint verifies and its
 * root equals the root recomputed from ALL stored entries; inclusion proofs of
 * a sample verify; consistency proofs from each of `earlier` checkpoints to
 * the latest verify.
 * @returns the latest checkpoint and every leaf hash, for prefix checks.
 */
export async function checkLog(store: LogStore, earlier: readonly Uint8Array[] = []): Promise<{ cp: Checkpoint | undefined; leaves: Hash[] }> {
  const size = await store.treeSize();
  const entries = await store.entries(0, size);
  expect(entries.length).toBe(size);
  const f = Frontier.empty();
  // Plain comparisons per entry (an expect() per entry dominates on long logs).
  entries.forEach((e, i) => {
    if (e.index !== i) expect.fail(`entry at position ${i} has index ${e.index}`);
    if (!bytesEqual(leafHash(e.bytes), e.leafHash)) expect.fail(`entry ${i}: leaf hash is not the hash of its bytes`);
    f.append(e.leafHash);
  });
  const note = await store.latestCheckpoint();
  if (size === 0) {
    expect(note).toBeUndefined();
    return { cp: undefined, leaves: [] };
  }
  expect(note).toBeDefined();
  const cp = openTestCheckpoint(note!);
  expect(cp.treeSize).toBe(size);
  expect(cp.rootHash).toEqual(f.root());
  for (const i of sample(size, 16)) {
    const proof = inclusionProofFromHashes(size, i, await store.readHashes(inclusionProofIndexes(size, i)));
    expect(verifyInclusion(proof, size, cp.rootHash, i, entries[i]!.leafHash), `inclusion of ${i} in ${size}`).toBe(true);
  }
  for (const old of earlier) {
    const o = openTestCheckpoint(old);
    expect(o.treeSize).toBeLessThanOrEqual(size);
    if (o.treeSize === 0) continue;
    const proof = consistencyProofFromHashes(o.treeSize, size, await store.readHashes(consistencyProofIndexes(o.treeSize, size)));
    expect(verifyConsistency(proof, o.treeSize, size, o.rootHash, cp.rootHash), `consistency ${o.treeSize} → ${size}`).toBe(true);
  }
  return { cp, leaves: entries.map((e) => e.leafHash) };
}

/** Up to `k` indexes in [0, n): both ends and evenly spread between. */
export function sample(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  const out = new Set<number>([0, n - 1]);
  for (let j = 1; out.size < k && j < k; j++) out.add(Math.floor((j * n) / k));
  return [...out];
}
