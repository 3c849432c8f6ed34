/**
 * The dashboard, served by the node from a built web app directory
 * (`webRoot`, e.g. packages/web/dist) on the API's own origin, so the app
 * needs no CORS and its token never leaves the origin. The node does not
 * depend on the web package: the caller (parley serve) passes the directory.
 *
 *     GET /                 index.html
 *     GET /assets/<hash>.*  Vite's content-hashed assets: cached for a year, immutable
 *     GET /<other file>     the file (favicon, …): revalidated (no-cache)
 *     GET <any other path>  index.html when the client accepts text/html and the path
 *                           is not the API's (/v1, /log, /witness, /fed, /docs, …):
 *                           the app's client-side routes (SPA fallback)
 *     GET …/*.map           404: source maps are never served, even if the directory has some
 *
 * Compression: the build writes `<file>.br` and `<file>.gz` beside each text
 * file (packages/web/build/serveReady.ts); `preCompressed` sends the one the
 * client's Accept-Encoding prefers (br, then gzip), else the file itself,
 * with Content-Encoding and `Vary: Accept-Encoding` either way. The
 * compressed siblings are not routes of their own.
 *
 * Files are routed at start-up (`wildcard: false`): the directory is a build
 * output; rebuilding it needs a restart of the node. Every response of the
 * app carries a strict Content-Security-Policy: scripts and connections
 * only from this origin, no inline script, no eval, no framing. Styles allow
 * 'unsafe-inline' because React and the charting library set `style`
 * attributes; nothing else is relaxed.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from './context.js';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/** Files in the web root that are never served by their own URL: maps, and the compressed siblings `preCompressed` picks. */
const NOT_ROUTED = ['**/*.map', '**/*.br', '**/*.gz'];

/** Path prefixes that belong to the node, never to the app. */
export const API_PREFIXES = ['/v1', '/log', '/witness', '/fed', '/docs', '/openapi.json', '/metrics', '/healthz'] as const;

const IMMUTABLE = 'public, max-age=31536000, immutable';

function appHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
}

/**
 * Checks that `dir` is a built app (a directory with index.html).
 * @returns its absolute path.
 * @throws Error naming what is missing.
 */
export function checkWebRoot(dir: string): string {
  const root = resolve(dir);
  if (!existsSync(root) || !statSync(root).isDirectory()) throw new Error(`web root ${root} is not a directory`);
  if (!existsSync(join(root, 'index.html'))) throw new Error(`web root ${root} has no index.html (build the web app first)`);
  return root;
}

/** Serves the app in `root`; returns the SPA fallback for the not-found handler. */
export async function registerWeb(app: App, root: string): Promise<(req: FastifyRequest, reply: FastifyReply) => Promise<boolean>> {
  await app.register(fastifyStatic, {
    root,
    prefix: '/',
    wildcard: false,
    globIgnore: NOT_ROUTED,
    preCompressed: true,
    index: 'index.html',
    cacheControl: false,
    dotfiles: 'ignore',
    schemaHide: true,
    setHeaders: (reply: FastifyReply, path: string) => {
      appHeaders(reply);
      const rel = path.slice(root.length).replaceAll('\\', '/');
      reply.header('cache-control', rel.startsWith('/assets/') ? IMMUTABLE : 'no-cache');
    },
  } as Parameters<typeof fastifyStatic>[1]);

  return async (req, reply) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const path = req.url.split('?')[0]!;
    if (API_PREFIXES.some((p) => path === p || path.startsWith(`${p}/`) || path.startsWith(`${p}.`))) return false;
    if (path.startsWith('/assets/') || path.endsWith('.map')) return false;
    if (!/\btext\/html\b/.test(req.headers.accept ?? '')) return false;
    appHeaders(reply);
    await reply.header('cache-control', 'no-cache').sendFile('index.html', root);
    return true;
  };
}
