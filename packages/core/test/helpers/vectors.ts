/**
 * Loads the shared, published test vectors (../shared/vectors beside the
 * repository; override with PARLEY_VECTORS). See that directory's README for
 * where each file came from.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

/** The repository root (this file is packages/core/test/helpers/vectors.ts). */
export const REPO_ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../..');

/**
 * PARLEY_VECTORS, else the nearest `shared/vectors` beside the repository or
 * one of its parents. Missing vectors fail the tests loudly: they are the
 * point of the tests, never something to skip.
 */
function findVectorsDir(): string {
  const env = process.env['PARLEY_VECTORS'];
  if (env) return resolve(env);
  for (let dir = dirname(REPO_ROOT); ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'vectors');
    if (existsSync(join(candidate, 'rfc6962.json'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`shared test vectors not found beside ${REPO_ROOT}; set PARLEY_VECTORS to the vectors directory`);
}

export const VECTORS_DIR = findVectorsDir();

/** Parses one vector file, e.g. `loadVectors('rfc6962.json')`. */
export function loadVectors<T = any>(name: string): T {
  return JSON.parse(readFileSync(join(VECTORS_DIR, name), 'utf8')) as T;
}

/** Our own vectors, kept as data beside the tests. */
export const OWN_VECTORS_DIR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../vectors');

export function b64(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'base64'));
}

export function hex(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'hex'));
}

/** One inclusion probe of rfc6962.json (transparency-dev/merkle testdata). */
export interface InclusionProbe {
  id: string;
  leaf_index: number;
  tree_size: number;
  leaf_hash_b64: string;
  root_b64: string;
  proof_b64: string[] | null;
  expect_valid: boolean;
}

/** One consistency probe of rfc6962.json. */
export interface ConsistencyProbe {
  id: string;
  size1: number;
  size2: number;
  root1_b64: string;
  root2_b64: string;
  proof_b64: string[] | null;
  expect_valid: boolean;
}

/** The shape of rfc6962.json that the tests use. */
export interface Rfc6962Vectors {
  leaves: { index: number; input_hex: string; leaf_hash_hex: string }[];
  node_hashes: { level: number; index: number; covers_leaves: [number, number]; hash_hex: string }[];
  roots: { tree_size: number; root_hex: string }[];
  inclusion_proofs: InclusionProbe[];
  consistency_proofs: ConsistencyProbe[];
}
