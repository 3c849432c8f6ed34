/**
 * The HTTP client of the officer commands (login, send, report, inbox, ack,
 * show, bundle export/import): where the node is, which token to send, and
 * RFC 9457 problems turned into messages that say what to do. JSON both ways,
 * except bundles: a raw file out of export, a raw file into import.
 *
 *   URL:   --url, else $PARLEY_URL, else the URL `parley login` saved, else
 *          http://HOST:PORT from the data directory's config.json
 *   token: --token, else $PARLEY_TOKEN, else DIR/session.json (saved by
 *          `parley login` for that URL)
 */
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { NodeRefused, UsageError } from './exit.js';
import { DATA_FLAGS, DATA_HELP, dataDir, paths, readConfig } from './datadir.js';
import { type HttpResponse, type ResponseHeaders, httpRequest } from './http.js';

export interface ClientOpts {
  url?: string;
  token?: string;
  data?: string;
  json?: boolean;
}

/** What `parley login` saves (mode 0600). */
export interface SavedSession {
  readonly url: string;
  readonly officer: string;
  readonly role: string;
  readonly token: string;
  readonly expires: string;
}

/** Adds --url, --token, --data and --json to an officer command. */
export function clientOptions(c: Command): Command {
  return c
    .option('--url <url>', "the node's base URL (default: $PARLEY_URL, the URL you logged in to, or config.json's listen address)")
    .option('--token <token>', 'bearer token (default: $PARLEY_TOKEN, or the session saved by parley login)')
    .option(DATA_FLAGS, DATA_HELP)
    .option('--json', 'print the raw response as JSON');
}

function savedSession(dir: string): SavedSession | undefined {
  const file = paths(dir).session;
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as SavedSession;
  } catch {
    return undefined;
  }
}

const trim = (u: string) => u.replace(/\/+$/, '');

export function nodeUrl(o: ClientOpts): string {
  const flag = o.url ?? process.env['PARLEY_URL'];
  if (flag !== undefined && flag !== '') {
    if (!/^https?:\/\/[^\s/?#]+/.test(flag)) throw new UsageError(`--url "${flag}" is not an http(s) URL`);
    return trim(flag);
  }
  const dir = dataDir(o.data);
  const s = savedSession(dir);
  if (s) return trim(s.url);
  if (existsSync(paths(dir).config)) {
    const { host, port } = readConfig(dir).listen;
    return `http://${host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;
  }
  throw new UsageError('which node? pass --url URL or set PARLEY_URL (or --data DIR of a node)');
}

function token(o: ClientOpts, url: string): string {
  const t = o.token ?? process.env['PARLEY_TOKEN'];
  if (t !== undefined && t !== '') return t;
  const s = savedSession(dataDir(o.data));
  if (s && trim(s.url) === url) return s.token;
  throw new UsageError(`not logged in to ${url}: run parley login --name NAME --url ${url} (or pass --token / set PARLEY_TOKEN)`, 'NOT_LOGGED_IN');
}

/** The errno-style reason of a failed request, by fetch or node:http (ECONNREFUSED, ENOTFOUND, TimeoutError…). */
export function networkCause(e: unknown): string {
  const c = (e as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
  const d = e as { code?: unknown; errors?: { code?: string }[] };
  return c?.code ?? c?.errors?.[0]?.code ?? c?.message ?? (typeof d.code === 'string' ? d.code : undefined) ?? d.errors?.[0]?.code ?? (e as Error).name;
}

export { NodeRefused } from './exit.js';

const HINTS: Record<number, string> = {
  401: 'log in again: parley login --name NAME',
  403: 'your role may not do this; ask an admin',
};

/** What to do about a node state a write ran into (issue 9: the rollback guard, node rollback.ts). */
const CODE_HINTS: Record<string, string> = {
  LOG_ROLLED_BACK:
    "this node's data directory is older than the log its peers cosigned (restored backup, lost WAL or copied directory); nothing was signed. The node recovers the missing entries from its peers' mirrors by itself when a peer has them; otherwise stop it and run: parley recover --data DIR (it says what is missing)",
  ENTRY_WITHDRAWN: 'its sender withdrew it, so no acknowledgement is due; parley show PARTY INDEX shows the retraction and its reason',
  LOG_UNCONFIRMED: "no peer has confirmed this node's log size yet; nothing was signed. Make a peer reachable and retry (parley serve --trust-local-log overrides, if you are sure the local log is the latest)",
};

/** What one exchange with the node sends. */
interface Exchange {
  readonly token?: string;
  /** A JSON body. */
  readonly body?: unknown;
  /** A raw body, sent as application/octet-stream. */
  readonly bytes?: Uint8Array;
  readonly accept?: string;
  readonly timeoutMs?: number;
  /** Bytes of `bytes` handed to the connection so far (a progress bar): the body is then written in slices. */
  readonly onUpload?: (sent: number, total: number) => void;
  /** Bytes of the answer received so far, of its Content-Length if it has one. */
  readonly onDownload?: (received: number, total: number | undefined) => void;
  /**
   * An Idempotency-Key (issue 14): sent with the request, and the request is
   * resent with the same key and body when no answer came (connection reset,
   * timeout: not a refused connection) or the node said 503
   * SEQUENCER_UNAVAILABLE (a failover) or 409 IDEMPOTENCY_KEY_IN_FLIGHT — the node answers a resend of a write
   * it logged with the first answer, so a retry never logs it twice.
   */
  readonly idempotencyKey?: string;
}

/** How long a write with an Idempotency-Key is resent for (a sequencer failover takes a few seconds). */
export const RETRY_BUDGET_MS = 20_000;
/** Longest pause between two resends, whatever Retry-After says. */
const MAX_RETRY_PAUSE_MS = 5_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Answers that mean "not now, resend": no sequencer at this instant (a failover), the same key still being served. */
const RESEND_CODES = new Set(['SEQUENCER_UNAVAILABLE', 'IDEMPOTENCY_KEY_IN_FLIGHT']);
/** Network errors that mean nobody listens there: not worth a resend. */
const NOT_THERE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);
/** The writes that append an entry: they take an Idempotency-Key (node http/idempotency.ts). */
const APPENDS = /^\/v1\/(messages|reports|retractions|incidents\/links|imports\/aiid|evaluations\/(commitments|notices|reveals)|entries\/[^/]+\/\d+\/ack)$/;

/** A fresh key for one user action (the CLI's writing commands: one per command run). */
export function newIdempotencyKey(): string {
  return randomUUID();
}

/**
 * {@link exchange}, resent with the same Idempotency-Key while the answer is
 * "not now" (see {@link Exchange.idempotencyKey}), for up to {@link RETRY_BUDGET_MS}.
 */
async function exchangeWithRetry(method: 'GET' | 'POST' | 'DELETE', url: string, path: string, opts: Exchange): Promise<{ bytes: Uint8Array; headers: ResponseHeaders }> {
  const until = Date.now() + RETRY_BUDGET_MS;
  for (let attempt = 0; ; attempt++) {
    let pause: number;
    try {
      return await exchange(method, url, path, opts);
    } catch (e) {
      // A node that refuses connections is down, not failing over: say so at once. A reset or a timeout may be a sequencer dying mid-request.
      const again = e instanceof NodeRefused ? RESEND_CODES.has(e.code) : e instanceof UsageError && e.code === 'NODE_UNREACHABLE' && !NOT_THERE.has((e as { networkCause?: string }).networkCause ?? '');
      if (!again || Date.now() >= until) throw e;
      const after = e instanceof NodeRefused ? e.retryAfterMs : undefined;
      pause = Math.min(after ?? 250 * 2 ** Math.min(attempt, 4), MAX_RETRY_PAUSE_MS, Math.max(0, until - Date.now()));
    }
    await sleep(pause);
  }
}

/**
 * One HTTP exchange with the node: the successful response's bytes and headers.
 * @throws UsageError when the node cannot be reached; NodeRefused for an error response.
 */
async function exchange(method: 'GET' | 'POST' | 'DELETE', url: string, path: string, opts: Exchange = {}): Promise<{ bytes: Uint8Array; headers: ResponseHeaders }> {
  const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
  if (opts.token !== undefined) headers['authorization'] = `Bearer ${opts.token}`;
  if (opts.idempotencyKey !== undefined) headers['idempotency-key'] = `"${opts.idempotencyKey}"`;
  let body: string | Uint8Array | undefined;
  if (opts.bytes !== undefined) {
    headers['content-type'] = 'application/octet-stream';
    body = opts.bytes;
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let res: HttpResponse;
  try {
    res = await httpRequest(method, `${url}${path}`, {
      headers,
      ...(body !== undefined ? { body } : {}),
      timeoutMs: opts.timeoutMs ?? 30_000,
      onUpload: body instanceof Uint8Array ? opts.onUpload : undefined,
      onDownload: opts.onDownload,
    });
  } catch (e) {
    const cause = networkCause(e);
    // A node answers a body over its limit with 413 and drops the rest; an
    // older node (or a proxy) closes instead, and a large upload breaks.
    const size = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
    if (size > 1024 * 1024 && ['EPIPE', 'ECONNRESET', 'UND_ERR_SOCKET'].includes(cause)) {
      throw new UsageError(`the node at ${url} closed the connection while receiving ${size} bytes (${cause}): the body is probably over its size limit (HTTP 413; 1 MiB by default) — send less`, 'INPUT_TOO_LARGE');
    }
    throw Object.assign(new UsageError(`cannot reach the node at ${url} (${cause}): is it running? start it with: parley serve`, 'NODE_UNREACHABLE'), { networkCause: cause });
  }
  const { bytes } = res;
  if (!res.ok) {
    let p: { code?: string; detail?: string; title?: string; type?: string; issues?: unknown; limit?: number } = {};
    try {
      p = (JSON.parse(new TextDecoder().decode(bytes)) ?? {}) as typeof p;
    } catch {
      // not a problem document: the status says it all
    }
    const code = typeof p.code === 'string' ? p.code : `HTTP_${res.status}`;
    const hint = CODE_HINTS[code] ?? HINTS[res.status];
    const problem = {
      ...(typeof p.title === 'string' ? { title: p.title } : {}),
      detail: typeof p.detail === 'string' ? p.detail : (p.title ?? res.statusText),
      ...(typeof p.type === 'string' ? { type: p.type } : {}),
      ...(p.issues !== undefined ? { issues: p.issues } : {}),
      ...(typeof p.limit === 'number' ? { limit: p.limit } : {}),
    };
    const refused = new NodeRefused(res.status, code, `the node refused ${method} ${path}: ${problem.detail} (${code}, HTTP ${res.status})${hint ? ` — ${hint}` : ''}`, problem, hint);
    const retryAfter = Number(res.headers.get('retry-after') ?? '');
    if (Number.isFinite(retryAfter) && retryAfter >= 0 && res.headers.get('retry-after') !== null) refused.retryAfterMs = retryAfter * 1000;
    throw refused;
  }
  return { bytes, headers: res.headers };
}

/**
 * Calls the node and returns the parsed JSON response.
 * @throws UsageError when the node cannot be reached; NodeRefused for an error response.
 */
export async function request(method: 'GET' | 'POST' | 'DELETE', url: string, path: string, opts: Exchange = {}): Promise<unknown> {
  const { bytes } = opts.idempotencyKey !== undefined ? await exchangeWithRetry(method, url, path, opts) : await exchange(method, url, path, opts);
  const text = new TextDecoder().decode(bytes);
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

/** Time allowed for a bundle (up to 64 MiB) to be made or checked by the node. */
const BUNDLE_TIMEOUT_MS = 300_000;

/** A client bound to the node URL and token that the options resolve to. */
export function client(o: ClientOpts) {
  const url = nodeUrl(o);
  const t = token(o, url);
  return {
    url,
    /** The bearer token, for a request the helpers below do not make (the event stream of `parley watch`). */
    token: t,
    get: (path: string) => request('GET', url, path, { token: t }),
    /**
     * POSTs JSON. A write that appends ({@link APPENDS}) sends a fresh
     * Idempotency-Key (one per call: one per user action) and is resent with
     * it while the node cannot answer (a sequencer failover), never logged twice.
     */
    post: (path: string, body: unknown) => request('POST', url, path, { token: t, body, ...(APPENDS.test(path) ? { idempotencyKey: newIdempotencyKey() } : {}) }),
    /** POSTs a large JSON document (an import) with the long timeout of bundles, with an Idempotency-Key as {@link post}. */
    postLarge: (path: string, body: unknown) => request('POST', url, path, { token: t, body, timeoutMs: BUNDLE_TIMEOUT_MS, ...(APPENDS.test(path) ? { idempotencyKey: newIdempotencyKey() } : {}) }),
    del: (path: string) => request('DELETE', url, path, { token: t }),
    /** GETs a document as the node wrote it (its exact bytes: an evidence bundle), with its headers. */
    getBytes: (path: string) => exchange('GET', url, path, { token: t, accept: 'application/json, application/problem+json' }),
    /** POSTs a raw file (application/octet-stream) and returns the JSON answer. */
    postBytes: (path: string, bytes: Uint8Array, onUpload?: Exchange['onUpload']) => request('POST', url, path, { token: t, bytes, timeoutMs: BUNDLE_TIMEOUT_MS, ...(onUpload ? { onUpload } : {}) }),
    /** POSTs JSON and returns the raw answer (a file) with its headers. */
    download: (path: string, body: unknown, onDownload?: Exchange['onDownload']) =>
      exchange('POST', url, path, { token: t, body, accept: 'application/octet-stream, application/problem+json', timeoutMs: BUNDLE_TIMEOUT_MS, ...(onDownload ? { onDownload } : {}) }),
  };
}
