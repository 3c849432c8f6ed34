/**
 * The post-build step that readies `dist/` for the node to serve
 * (node/src/http/web.ts):
 *
 *   - Source maps are written by Vite as "hidden" maps (no sourceMappingURL
 *     comment) and moved out of `dist/` to `sourcemaps/`, beside it: kept for
 *     debugging a stack trace, never served publicly.
 *   - Text files get precompressed siblings, `<file>.br` (brotli, quality
 *     11) and `<file>.gz` (gzip, level 9), each only when it is smaller than
 *     the file. The node serves them with @fastify/static's `preCompressed`,
 *     which picks one from Accept-Encoding and sends Content-Encoding and
 *     Vary: Accept-Encoding; compressing once at build time costs no CPU per
 *     request and allows the slowest, smallest settings.
 */
import { mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/** Extensions worth compressing (images other than SVG and fonts are compressed already). */
export const COMPRESSIBLE = /\.(html|js|mjs|css|svg|json|txt|webmanifest)$/;

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath, d.name));
}

/**
 * Writes `<file>.br` and `<file>.gz` for every compressible file under `dir`.
 * @returns the files compressed, with their sizes.
 */
export function precompress(dir: string): { file: string; raw: number; br?: number; gz?: number }[] {
  const done: { file: string; raw: number; br?: number; gz?: number }[] = [];
  for (const file of filesUnder(dir)) {
    if (!COMPRESSIBLE.test(file)) continue;
    const raw = readFileSync(file);
    const br = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length } });
    const gz = gzipSync(raw, { level: 9 });
    const row: { file: string; raw: number; br?: number; gz?: number } = { file: relative(dir, file), raw: raw.length };
    if (br.length < raw.length) {
      writeFileSync(`${file}.br`, br);
      row.br = br.length;
    }
    if (gz.length < raw.length) {
      writeFileSync(`${file}.gz`, gz);
      row.gz = gz.length;
    }
    done.push(row);
  }
  return done;
}

/** Moves every `*.map` under `dir` to the same relative path under `to` (emptied first). */
export function moveSourceMaps(dir: string, to: string): number {
  rmSync(to, { recursive: true, force: true });
  let n = 0;
  for (const file of filesUnder(dir)) {
    if (!file.endsWith('.map')) continue;
    const target = join(to, relative(dir, file));
    mkdirSync(dirname(target), { recursive: true });
    renameSync(file, target);
    n++;
  }
  return n;
}

/** The Vite plugin: after the bundle is written, moves the maps to `mapsDir` and precompresses the rest. */
export function serveReady(o: { mapsDir: string }): Plugin {
  let outDir = '';
  return {
    name: 'parley:serve-ready',
    apply: 'build',
    configResolved(c) {
      outDir = resolve(c.root, c.build.outDir);
    },
    closeBundle() {
      moveSourceMaps(outDir, o.mapsDir);
      precompress(outDir);
    },
  };
}
