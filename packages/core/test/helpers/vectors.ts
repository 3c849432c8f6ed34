/**
 * Loads the shared, published test vectors (../shared/vectors beside the
 * repository; override with PARLEY_VECTORS). See that directory's README for
 * where each file came from.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';

export const VECTORS_DIR =
  process.env['PARLEY_VECTORS'] ?? resolve(fileURLToPath(new URL('.', import.meta.url)), '../../../../../shared/vectors');

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
