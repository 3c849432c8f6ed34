/**
 * Where `parley serve` and `parley demo` find the dashboard to serve: `--web
 * DIR`, else the built dist of the `@parley/web` package when it is
 * installed beside the CLI (the npm workspace links it into node_modules),
 * else none. The node itself never depends on the web package; the CLI only
 * looks for its files.
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from './exit.js';

/** The built `@parley/web` app (its dist/ with index.html), if installed and built. */
export function defaultWebRoot(from = dirname(fileURLToPath(import.meta.url))): string | undefined {
  for (let d = from; ; d = dirname(d)) {
    const pkg = join(d, 'node_modules', '@parley', 'web');
    if (existsSync(join(pkg, 'package.json'))) {
      const dist = join(pkg, 'dist');
      return existsSync(join(dist, 'index.html')) ? dist : undefined;
    }
    if (dirname(d) === d) return undefined;
  }
}

/**
 * The web root from the `--web DIR` / `--no-web` options (commander gives
 * `web: false` for --no-web, a string for --web DIR, undefined otherwise).
 * @throws UsageError for a --web directory without index.html.
 */
export function webRootOf(web: string | boolean | undefined): string | undefined {
  if (web === false) return undefined;
  if (typeof web === 'string') {
    const dir = resolve(web);
    if (!existsSync(join(dir, 'index.html'))) throw new UsageError(`--web ${web}: no index.html there (build the web app: npm run build -w @parley/web)`);
    return dir;
  }
  return defaultWebRoot();
}
