/**
 * The one way the dashboard talks to its node: same-origin JSON over fetch,
 * with the session's bearer token, and RFC 9457 problem details turned into
 * a typed {@link ApiError}. A 401 clears the session and sends the officer
 * back to the login page (see `session.tsx`, which registers the handler).
 *
 *     const inbox = await api<ListResponse>('/v1/inbox?limit=200');
 *     await api('/v1/messages', { method: 'POST', body: { precedence: 'FLASH', … } });
 *
 * Errors: `ApiError` with `status`, `type`, `title`, `detail`, `code` (the
 * node's stable code, docs/errors.md) and `issues` (schema violations with
 * their paths, for mapping onto form fields). A network failure is an
 * `ApiError` with status 0 and code `NETWORK`.
 *
 * Writes that append an entry (messages, reports, acks, retractions, links,
 * evaluations, imports: {@link APPENDS}) carry a fresh `Idempotency-Key` per
 * call — one user action — and are resent with the same key while the node
 * cannot answer yet (network failure, 503 SEQUENCER_UNAVAILABLE during a
 * sequencer failover, 409 IDEMPOTENCY_KEY_IN_FLIGHT), for up to {@link RETRY_BUDGET_MS}: the node
 * answers a resend of a write it logged with the first answer (issue 14),
 * so a retry never logs the action twice.
 */

/** One schema violation, as the node reports it for VALIDATION_FAILED. */
export interface ProblemIssue {
  readonly in: string;
  readonly path: readonly (string | number)[];
  readonly message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  readonly code: string;
  readonly issues: readonly ProblemIssue[];
  /** The answer's Retry-After in ms, when it had one. */
  retryAfterMs: number | undefined;
  constructor(p: { status: number; type?: string; title?: string; detail?: string; code?: string; issues?: readonly ProblemIssue[] }) {
    super(p.detail ?? p.title ?? `HTTP ${p.status}`);
    this.name = 'ApiError';
    this.status = p.status;
    this.type = p.type ?? 'about:blank';
    this.title = p.title ?? '';
    this.detail = p.detail ?? '';
    this.code = p.code ?? (p.status === 0 ? 'NETWORK' : `HTTP_${p.status}`);
    this.issues = p.issues ?? [];
    this.retryAfterMs = undefined;
  }
}

let currentToken: string | undefined;
let onUnauthorized: (() => void) | undefined;

/** Set by the session provider; `undefined` when logged out. */
export function setToken(token: string | undefined): void {
  currentToken = token;
}
export function getToken(): string | undefined {
  return currentToken;
}
/** Called once per 401 answer (the session provider logs out and routes to /login). */
export function setUnauthorizedHandler(fn: (() => void) | undefined): void {
  onUnauthorized = fn;
}

export interface ApiOptions {
  readonly method?: 'GET' | 'POST' | 'PUT' | 'DELETE';
  readonly body?: unknown;
  readonly signal?: AbortSignal;
  /** Do not treat a 401 as "session over" (the login request itself). */
  readonly anonymous?: boolean;
  /** The action's Idempotency-Key (default: a fresh one for each POST to {@link APPENDS}). */
  readonly idempotencyKey?: string;
}

/** The writes that append an entry: they take an Idempotency-Key (node http/idempotency.ts). */
export const APPENDS = /^\/v1\/(messages|reports|retractions|incidents\/links|imports\/aiid|evaluations\/(commitments|notices|reveals)|entries\/[^/]+\/\d+\/ack)$/;
/** How long a keyed write is resent for (a sequencer failover takes a few seconds). */
export const RETRY_BUDGET_MS = 15_000;

/** A fresh key for one user action: a random UUID. */
export function newIdempotencyKey(): string {
  if (typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

const pause = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), reject(signal.reason)), { once: true });
  });

/** Report a 401 seen outside `api()` (the event stream): logs out like any other 401. */
export function notifyUnauthorized(): void {
  onUnauthorized?.();
}

/** Authorization header for the current session (for fetches that are not JSON, such as the event stream). */
export function authHeaders(): Record<string, string> {
  return currentToken === undefined ? {} : { authorization: `Bearer ${currentToken}` };
}

/**
 * @param path - an absolute API path such as `/v1/inbox`
 * @returns the parsed JSON body (undefined for 204)
 * @throws ApiError for any non-2xx answer or network failure
 */
export async function api<T = unknown>(path: string, opts: ApiOptions = {}): Promise<T> {
  const method = opts.method ?? (opts.body === undefined ? 'GET' : 'POST');
  const key = opts.idempotencyKey ?? (method === 'POST' && APPENDS.test(path.split('?')[0]!) ? newIdempotencyKey() : undefined);
  if (key === undefined) return once<T>(path, opts);
  const until = Date.now() + RETRY_BUDGET_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await once<T>(path, { ...opts, idempotencyKey: key });
    } catch (e) {
      const again = e instanceof ApiError && (e.status === 0 || e.code === 'SEQUENCER_UNAVAILABLE' || e.code === 'IDEMPOTENCY_KEY_IN_FLIGHT');
      if (!again || Date.now() >= until) throw e;
      const after = e.retryAfterMs ?? 250 * 2 ** Math.min(attempt, 4);
      await pause(Math.min(after, 5_000, Math.max(0, until - Date.now())), opts.signal);
    }
  }
}

/** One request, no resend. */
async function once<T>(path: string, opts: ApiOptions): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json', ...(opts.anonymous ? {} : authHeaders()) };
  if (opts.idempotencyKey !== undefined) headers['idempotency-key'] = `"${opts.idempotencyKey}"`;
  const init: RequestInit = { method: opts.method ?? (opts.body === undefined ? 'GET' : 'POST'), headers };
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(opts.body);
  }
  if (opts.signal !== undefined) init.signal = opts.signal;
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e;
    throw new ApiError({ status: 0, title: 'Network error', detail: e instanceof Error ? e.message : String(e) });
  }
  if (res.ok) {
    if (res.status === 204) return undefined as T;
    const type = res.headers.get('content-type') ?? '';
    return (type.includes('json') ? await res.json() : await res.text()) as T;
  }
  let problem: Record<string, unknown> = {};
  try {
    problem = (await res.json()) as Record<string, unknown>;
  } catch {
    // not JSON: keep the status alone
  }
  const err = new ApiError({
    status: res.status,
    ...(typeof problem['type'] === 'string' ? { type: problem['type'] } : {}),
    title: typeof problem['title'] === 'string' ? problem['title'] : res.statusText,
    ...(typeof problem['detail'] === 'string' ? { detail: problem['detail'] } : {}),
    ...(typeof problem['code'] === 'string' ? { code: problem['code'] } : {}),
    ...(Array.isArray(problem['issues']) ? { issues: problem['issues'] as ProblemIssue[] } : {}),
  });
  const retryAfter = res.headers.get('retry-after');
  if (retryAfter !== null && /^\d+$/.test(retryAfter)) err.retryAfterMs = Number(retryAfter) * 1000;
  if (res.status === 401 && !opts.anonymous) onUnauthorized?.();
  throw err;
}

/** Query string from the defined members of `q` (`?a=1&b=x`, or '' when empty). */
export function query(q: Record<string, string | number | undefined>): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== undefined && v !== '') p.set(k, String(v));
  const s = p.toString();
  return s === '' ? '' : `?${s}`;
}
