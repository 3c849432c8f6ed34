/**
 * What is in the built dashboard: for each JavaScript chunk in dist/assets,
 * its raw, gzip and brotli sizes (the .gz/.br files the build wrote), and
 * the bytes each package or source directory contributes, attributed with
 * the chunk's source map (kept in sourcemaps/, never served). Run after
 * `npm run build -w @parley/web`:
 *
 *     node packages/web/scripts/bundle-report.mjs [top=20]
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const web = new URL('..', import.meta.url).pathname;
const { SourceMapConsumer } = createRequire(import.meta.url)('source-map-js');
const top = Number(process.argv[2] ?? 20);
const size = (f) => (existsSync(f) ? statSync(f).size : NaN);

/** node_modules/<pkg> (scoped too), packages/<name>, or the web app's own src/<dir>. */
function owner(source) {
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (nm) return nm[1];
  const pkg = /(?:^|\/)(core|store|node)\/(?:dist|src)\//.exec(source);
  if (pkg) return `@parley/${pkg[1]}`;
  const src = /src\/((?:pages\/)?[^/]+)/.exec(source);
  return src ? `web/${src[1]}` : source;
}

for (const f of readdirSync(join(web, 'dist/assets')).filter((x) => x.endsWith('.js')).sort()) {
  const file = join(web, 'dist/assets', f);
  console.log(`\n${f}: raw ${size(file)}, gzip ${size(`${file}.gz`)}, brotli ${size(`${file}.br`)} bytes`);
  const mapFile = join(web, 'sourcemaps/assets', `${f}.map`);
  if (!existsSync(mapFile)) continue;
  const lines = readFileSync(file, 'utf8').split('\n');
  const per = new Map();
  let prev;
  new SourceMapConsumer(JSON.parse(readFileSync(mapFile, 'utf8'))).eachMapping((m) => {
    if (prev?.source) {
      const end = m.generatedLine === prev.generatedLine ? m.generatedColumn : lines[prev.generatedLine - 1].length;
      per.set(owner(prev.source), (per.get(owner(prev.source)) ?? 0) + end - prev.generatedColumn);
    }
    prev = m;
  });
  for (const [k, v] of [...per].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${String(v).padStart(9)}  ${k}`);
}
