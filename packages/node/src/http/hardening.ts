/**
 * Hostile input and load at the HTTP boundary (issue 9, "Hostile input and
 * load"): what every response carries, who may read the operator pages, and
 * how much memory a stranger's upload may take.
 *
 * 1. Security headers on every response (API, log, errors, dashboard):
 *      X-Content-Type-Options: nosniff, Referrer-Policy: no-referrer,
 *      X-Frame-Options: DENY (and CSP `frame-ancestors 'none'` where no CSP
 *      is set; the dashboard keeps its own, web.ts), Cross-Origin-Resource-
 *      Policy: same-origin, Strict-Transport-Security when {@link
 *      HardeningOptions.hsts} (behind a TLS reverse proxy), and
 *      Cache-Control: no-store on every response that set no caching of its
 *      own (the public log's immutable tiles and the app's assets keep theirs).
 *
 * 2. /metrics and /docs (with /openapi.json): `metrics` is 'public', 'off'
 *    (404) or a bearer token (401 without it, compared in constant time);
 *    `publicDocs: false` answers 404 for the API description. The library
 *    defaults are open (tests, embedding); `parley serve` closes both unless
 *    given --metrics-token-file / --public-docs.
 *
 * 3. Uploads (POST /fed/v1/bundle, POST /witness/add-checkpoint, POST
 *    /v1/bundles/import). A node-to-node signature covers the body's digest;
 *    everything else is checked BEFORE a byte of the body is read, in onRequest:
 *      - /fed/v1/bundle needs a `Parley-Signature` that parses, names another
 *        party of the accord and is within the clock skew; with a
 *        `Content-Digest` header (RFC 9530, sent by current nodes) the
 *        signature itself is verified here over that digest (signedHead.ts),
 *        without it (older peers) on the body (federation.ts); else 401/400,
 *        and the body is dropped as it arrives (see 4), never held;
 *      - a slot: at most {@link UploadLimits.perPeer} bodies in flight per
 *        peer (the party the header names; the address for anonymous witness
 *        requests and officers' imports) — else 429 TOO_MANY_UPLOADS — and at
 *        most {@link UploadLimits.total} in all — else 503 UPLOADS_BUSY (witness
 *        requests, ≤ 1 MiB, have a pool of their own with larger limits), both
 *        with Retry-After (RFC 6585 §4, RFC 9110 §10.2.3), the body dropped.
 *        The slots bound what bodies can hold in memory: total × the route's
 *        body limit;
 *      - a body that is not complete {@link UploadLimits.bodyTimeoutMs} after
 *        its headers (a stalled or trickling sender) has its connection
 *        destroyed and its slot freed.
 *    The peer named by an unverified header is a claim: a stranger can use
 *    the slots of the party it names, never more than `total` in all, and
 *    never for longer than the body timeout.
 *
 * 4. A body over its route's limit is answered 413 INPUT_TOO_LARGE with the
 *    limit in the problem (`limit`, bytes). The rest of that body, and of
 *    every upload refused before its body (3), is read and dropped (at most
 *    {@link DRAIN_MAX_BYTES}, {@link DRAIN_MS}, then the connection is
 *    destroyed) instead of closing at once: a client still sending then
 *    reads the answer, not a broken pipe (`parley send` said "node
 *    unreachable"), and nothing of the body is kept.
 */
import { timingSafeEqual } from 'node:crypto';
import { DEFAULT_MAX_SKEW_SECONDS, fail, parseRequestSignature } from '@parley/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ParleyNode } from '../service.js';
import type { App } from './context.js';
import { HttpError } from './problem.js';
import type { ThrottleOptions } from './throttle.js';
import { contentDigestOf, verifyHead } from './signedHead.js';
import { clientAddress } from './forward.js';

export interface UploadLimits {
  /** Large bodies (pushes ≤ 16 MiB, bundle imports ≤ 64 MiB) in flight per peer (default 2). */
  readonly perPeer?: number;
  /** Large bodies in flight in all (default 4): with 16 MiB pushes, at most 64 MiB held by bodies. */
  readonly total?: number;
  /** Witness requests (≤ 1 MiB + 8 KiB) in flight per peer (default 16: tlog-witness clients may send in parallel). */
  readonly witnessPerPeer?: number;
  /** Witness requests in flight in all (default 48: at most ~49 MiB). */
  readonly witnessTotal?: number;
  /** Time from the request's headers to its whole body (default 30 000 ms). */
  readonly bodyTimeoutMs?: number;
  /** Seconds in the Retry-After of a refused upload (default 5). */
  readonly retryAfterSeconds?: number;
}

export interface HardeningOptions {
  /** GET /metrics: 'public' (default), 'off' (404), or `{ token }` (Authorization: Bearer <token>). */
  readonly metrics?: 'public' | 'off' | { readonly token: string };
  /** GET /docs and /openapi.json (default true; false answers 404). */
  readonly publicDocs?: boolean;
  /** Send Strict-Transport-Security (the node is reached over HTTPS through a reverse proxy). */
  readonly hsts?: boolean;
  /**
   * Addresses of reverse proxies whose X-Forwarded-For is believed (fastify
   * `trustProxy`: an address, CIDR or list), so that login throttling and
   * upload slots see the client's address, not the proxy's. Default: none.
   */
  readonly trustProxy?: string;
  readonly uploads?: UploadLimits;
  /** Failed-login throttling (throttle.ts). */
  readonly login?: ThrottleOptions;
}

/** Most bytes of a too-large body read and dropped so that the client sees the 413. */
export const DRAIN_MAX_BYTES = 64 * 1024 * 1024;
/** Longest time spent draining a too-large body before the connection is closed. */
export const DRAIN_MS = 10_000;
const HSTS = 'max-age=31536000; includeSubDomains';

const DOCS = /^\/(docs(\/|$|\?)|openapi\.json($|\?))/;

/** Security headers, /metrics and /docs gating: hooks on the root app. */
export function registerHardening(app: App, o: HardeningOptions): void {
  app.addHook('onRequest', async (req, reply) => {
    // On the raw response: streams that write their own head (GET /v1/events) carry them too.
    const raw = reply.raw;
    raw.setHeader('x-content-type-options', 'nosniff');
    raw.setHeader('referrer-policy', 'no-referrer');
    raw.setHeader('x-frame-options', 'DENY');
    raw.setHeader('cross-origin-resource-policy', 'same-origin');
    if (o.hsts === true) raw.setHeader('strict-transport-security', HSTS);
    const path = req.url;
    if (o.publicDocs === false && DOCS.test(path)) throw new HttpError('NOT_FOUND', `no route ${req.method} ${path.split('?')[0]} (the API description is not public on this node: parley serve --public-docs)`);
    if (path === '/metrics' || path.startsWith('/metrics?')) checkMetricsAccess(req, o.metrics ?? 'public');
  });
  app.addHook('onSend', async (req, reply, payload) => {
    if (!reply.hasHeader('content-security-policy') && !DOCS.test(req.url)) reply.header('content-security-policy', "frame-ancestors 'none'");
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
}

function checkMetricsAccess(req: FastifyRequest, m: NonNullable<HardeningOptions['metrics']>): void {
  if (m === 'public') return;
  if (m === 'off') throw new HttpError('NOT_FOUND', 'metrics are off on this node (parley serve --metrics-token-file FILE turns them on)');
  const h = req.headers.authorization ?? '';
  const got = Buffer.from(h.startsWith('Bearer ') ? h.slice(7) : '', 'utf8');
  const want = Buffer.from(m.token, 'utf8');
  if (got.length !== want.length || !timingSafeEqual(got, want)) {
    throw new HttpError('UNAUTHENTICATED', 'GET /metrics needs Authorization: Bearer <the metrics token>', { 'www-authenticate': 'Bearer realm="parley-metrics"' });
  }
}

/**
 * Arms the drain of a too-large body (see the module doc, 4): called by the
 * error handler for INPUT_TOO_LARGE before it answers.
 */
export function drainTooLarge(req: FastifyRequest, reply: FastifyReply): void {
  // fastify asks for Connection: close after a parser error; dropping the
  // rest of the body instead lets the client read the answer.
  if (req.raw.complete || req.raw.destroyed) return;
  reply.removeHeader('connection');
  dropBody(req);
}

/**
 * Reads and drops the rest of a refused request's body, so that a client
 * still sending reads the answer instead of a reset connection; past
 * {@link DRAIN_MAX_BYTES} or {@link DRAIN_MS} the connection is destroyed.
 * Nothing is kept: the memory a refused upload costs is one socket buffer.
 */
export function dropBody(req: FastifyRequest): void {
  const raw = req.raw;
  if (raw.complete || raw.destroyed) return;
  let read = 0;
  const timer = setTimeout(() => cutOff(req), DRAIN_MS);
  timer.unref();
  raw.on('data', (c: Buffer) => {
    read += c.length;
    if (read > DRAIN_MAX_BYTES) cutOff(req);
  });
  raw.once('end', () => clearTimeout(timer));
  raw.once('close', () => clearTimeout(timer));
  raw.resume();
}

/** Which upload route a gate guards. */
export type UploadKind = 'push' | 'witness' | 'import';

/** The in-flight upload slots of one server (module doc, 3). */
export class UploadGate {
  readonly #node: ParleyNode;
  readonly #bodyTimeoutMs: number;
  readonly #retryAfter: string;
  /** Two pools: large bodies (push, import) and witness requests, each with its own limits and counts. */
  readonly #pools: Record<'large' | 'witness', { perPeer: number; total: number; count: number; inFlight: Map<string, number> }>;
  /** Uploads refused for want of a slot, and bodies cut off by the timeout (for metrics and tests). */
  refused = 0;
  timedOut = 0;

  constructor(node: ParleyNode, o: UploadLimits = {}) {
    this.#node = node;
    this.#pools = {
      large: { perPeer: o.perPeer ?? 2, total: o.total ?? 4, count: 0, inFlight: new Map() },
      witness: { perPeer: o.witnessPerPeer ?? 16, total: o.witnessTotal ?? 48, count: 0, inFlight: new Map() },
    };
    this.#bodyTimeoutMs = o.bodyTimeoutMs ?? 30_000;
    this.#retryAfter = String(o.retryAfterSeconds ?? 5);
  }

  /** Bodies in flight now. */
  get inFlight(): number {
    return this.#pools.large.count + this.#pools.witness.count;
  }

  /** An onRequest hook for `kind`: the checks before the body, a slot, and the body timeout. */
  hook(kind: UploadKind): (req: FastifyRequest, reply: FastifyReply) => Promise<void> {
    return async (req, reply) => {
      if (!hasBody(req)) return;
      let peer: string;
      try {
        peer = this.#claimedPeer(kind, req);
      } catch (e) {
        // A stranger's upload is never held: its body is dropped as it comes.
        dropBody(req);
        req.log.warn({ url: req.url, ip: req.ip }, `upload refused before its body: ${(e as Error).message}`);
        throw e;
      }
      const pool = this.#pools[kind === 'witness' ? 'witness' : 'large'];
      if (pool.count >= pool.total) this.#refuse(req, 'UPLOADS_BUSY', `the node is receiving ${pool.count} uploads of this kind, its most; retry later`);
      const n = pool.inFlight.get(peer) ?? 0;
      if (n >= pool.perPeer) this.#refuse(req, 'TOO_MANY_UPLOADS', `${peer} has ${n} uploads of this kind in flight, the most per peer; retry later`);
      pool.inFlight.set(peer, n + 1);
      pool.count++;
      let held = true;
      const release = () => {
        if (!held) return;
        held = false;
        clearTimeout(timer);
        pool.count--;
        const left = (pool.inFlight.get(peer) ?? 1) - 1;
        if (left === 0) pool.inFlight.delete(peer);
        else pool.inFlight.set(peer, left);
      };
      const timer = setTimeout(() => {
        if (req.raw.complete) return;
        this.timedOut++;
        req.log.warn({ url: req.url, ip: req.ip, peer }, `upload body not complete after ${this.#bodyTimeoutMs} ms: connection closed`);
        cutOff(req);
        release();
      }, this.#bodyTimeoutMs);
      timer.unref();
      // The slot is held while the body is read and the request handled.
      reply.raw.once('close', release);
      req.raw.once('close', () => {
        if (!req.raw.complete) release();
      });
    };
  }

  #refuse(req: FastifyRequest, code: 'UPLOADS_BUSY' | 'TOO_MANY_UPLOADS', detail: string): never {
    this.refused++;
    dropBody(req);
    throw new HttpError(code, detail, { 'retry-after': this.#retryAfter });
  }

  /**
   * The peer a request claims to come from, checked as far as it can be
   * without the body: header syntax, a party of the accord other than us,
   * `created` within the skew — and, when it sends `Content-Digest`, the
   * signature itself (then the peer is authenticated, not claimed).
   * @throws ParleyError REQUEST_UNAUTHENTICATED / REQUEST_SIGNATURE_MALFORMED / CONTENT_DIGEST_MALFORMED (push, or a witness request with a header).
   */
  #claimedPeer(kind: UploadKind, req: FastifyRequest): string {
    const raw = req.headers['parley-signature'];
    if (kind === 'import' || (kind === 'witness' && raw === undefined)) return `address ${clientAddress(req)}`;
    // With Content-Digest the whole signature is checked now, before the body (signedHead.ts).
    const digest = contentDigestOf(req);
    if (digest !== undefined) return `party ${verifyHead(this.#node, req, digest).party}`;
    const header = Array.isArray(raw) ? raw.join(', ') : raw;
    if (header === undefined || header === '') fail('REQUEST_UNAUTHENTICATED', 'no Parley-Signature header: a push must be signed by another party of the accord');
    const s = parseRequestSignature(header);
    if (s.party === this.#node.party || !this.#node.accord.party(s.party)) fail('REQUEST_UNAUTHENTICATED', 'sender is not another party of the accord');
    if (!(Math.abs(Date.now() / 1000 - s.created) <= DEFAULT_MAX_SKEW_SECONDS)) fail('REQUEST_UNAUTHENTICATED', 'created is outside the allowed clock skew');
    return `party ${s.party}`;
  }
}

/** Destroys the request's connection (or the request itself, where there is no socket: light-my-request's inject). */
function cutOff(req: FastifyRequest): void {
  const socket = req.raw.socket as { destroy?: () => void } | undefined;
  if (typeof socket?.destroy === 'function') socket.destroy();
  else req.raw.destroy();
}

function hasBody(req: FastifyRequest): boolean {
  const len = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (len !== undefined && len !== '0');
}
