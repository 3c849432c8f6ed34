/**
 * RFC 9457 problem details: the one shape every HTTP error of the node takes.
 *
 *     HTTP/1.1 404 Not Found
 *     Content-Type: application/problem+json
 *
 *     {"type": "urn:parley:error:not-found", "title": "No such resource",
 *      "status": 404, "detail": "no entry US/7 is held here", "code": "NOT_FOUND"}
 *
 * Codes come from two tables. Errors of Parley's logic are core's
 * {@link ERROR_CATALOG} (a ParleyError's code, status and title pass through
 * unchanged). Failures that exist only at the HTTP boundary — no or bad
 * token, wrong role, unknown route, wrong media type, a request that does not
 * match its schema, our own bug — are {@link HTTP_ERRORS} below. Both are
 * documented in `docs/errors.md` (the HTTP table is its own section) and
 * `test/http-errors.test.ts` keeps the three in step.
 *
 * Every thrown thing reaching the boundary becomes a problem through
 * {@link toProblem}; nothing else writes an error response (STYLE.md §8–§9).
 * Bad input is never a 5xx; an unexpected error is a 500 that says nothing
 * about its cause (the cause goes to the node's log, STYLE.md §7d). The
 * other 5xx codes here are not the request's fault either: another party's
 * node failing to answer (502/504, log explorer) and back-pressure on event
 * streams (503 with Retry-After).
 */
import { ERROR_CATALOG, type ErrorCode, ParleyError } from '@parley/core';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';

/** Codes that exist only at the HTTP boundary: code → status and RFC 9457 title. */
export const HTTP_ERRORS = {
  VALIDATION_FAILED: { status: 400, title: 'Request does not match its schema' },
  REQUEST_MALFORMED: { status: 400, title: 'Malformed HTTP request' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required' },
  FORBIDDEN: { status: 403, title: 'Not allowed for this role' },
  NOT_FOUND: { status: 404, title: 'No such resource' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed on this resource' },
  NOT_ACCEPTABLE: { status: 406, title: 'No acceptable media type (see the Accept header)' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported Content-Type' },
  INTERNAL_ERROR: { status: 500, title: 'Internal error' },
  UPSTREAM_UNAVAILABLE: { status: 502, title: 'Another party\u2019s node did not answer usably' },
  TOO_MANY_STREAMS: { status: 503, title: 'Too many open event streams' },
  TOO_MANY_UPLOADS: { status: 429, title: 'Too many uploads in flight from this peer' },
  UPLOADS_BUSY: { status: 503, title: 'The node is receiving as many uploads as it takes' },
  LOGIN_THROTTLED: { status: 429, title: 'Too many failed logins: wait before trying again' },
  PASSWORD_WRONG: { status: 403, title: 'The current password is wrong' },
  UPSTREAM_TIMEOUT: { status: 504, title: 'Another party\u2019s node did not answer in time' },
} as const satisfies Record<string, { status: number; title: string }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;
/** HTTP-only codes that are 5xx: never an answer to bad input (http-errors.test.ts checks the rest are 4xx). */
export const SERVER_SIDE_HTTP_ERRORS: readonly HttpErrorCode[] = ['INTERNAL_ERROR', 'UPSTREAM_UNAVAILABLE', 'TOO_MANY_STREAMS', 'UPSTREAM_TIMEOUT', 'UPLOADS_BUSY'];
/** Every code the API can answer with. */
export type ApiErrorCode = ErrorCode | HttpErrorCode;

/** RFC 9457 §3.1.1 `type`: the same URN scheme as core's `problemType`. */
export function apiProblemType(code: ApiErrorCode): string {
  return `urn:parley:error:${code.toLowerCase().replaceAll('_', '-')}`;
}

function rowOf(code: ApiErrorCode): { status: number; title: string } {
  return code in HTTP_ERRORS ? HTTP_ERRORS[code as HttpErrorCode] : ERROR_CATALOG[code as ErrorCode];
}

/** The one HTTP error type handlers throw for boundary failures (logic errors stay ParleyErrors). */
export class HttpError extends Error {
  readonly code: HttpErrorCode;
  /** Extra response headers (WWW-Authenticate, Allow). */
  readonly headers: Readonly<Record<string, string>>;
  constructor(code: HttpErrorCode, message: string, headers: Readonly<Record<string, string>> = {}) {
    super(message);
    this.name = 'HttpError';
    this.code = code;
    this.headers = headers;
  }
  get status(): number {
    return HTTP_ERRORS[this.code].status;
  }
}

/** One schema violation: where (`body`, `querystring`, `params`) and the zod issue path. */
export const ProblemIssue = z.object({
  in: z.string(),
  path: z.array(z.union([z.string(), z.number()])),
  message: z.string(),
});

/** RFC 9457 problem details with Parley's `code` extension member. */
export const Problem = z
  .object({
    type: z.string().describe('urn:parley:error:<code>'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().describe('Stable error code (docs/errors.md)'),
    issues: z.array(ProblemIssue).optional().describe('For VALIDATION_FAILED: every schema violation'),
    limit: z.number().int().optional().describe('For INPUT_TOO_LARGE: the largest body this route takes, in bytes'),
  })
  .meta({ id: 'Problem' });
export type Problem = z.infer<typeof Problem>;

export interface ProblemReply {
  readonly problem: Problem;
  readonly headers: Readonly<Record<string, string>>;
  /** True for our own failures, to be logged with their cause. */
  readonly internal: boolean;
}

function make(code: ApiErrorCode, detail: string, extra: Partial<Problem> = {}): Problem {
  const row = rowOf(code);
  return { type: apiProblemType(code), title: row.title, status: row.status, detail, code, ...extra };
}

/** Fastify's own request errors (content-type parser, router) by code. */
const FASTIFY_CODES: Readonly<Record<string, ApiErrorCode>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'INPUT_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'JSON_MALFORMED',
  FST_ERR_CTP_INVALID_JSON_BODY: 'JSON_MALFORMED',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'REQUEST_MALFORMED',
  FST_ERR_BAD_URL: 'REQUEST_MALFORMED',
  FST_ERR_MAX_PARAM_LENGTH: 'REQUEST_MALFORMED',
};

interface ValidationItem {
  readonly instancePath?: string;
  readonly message?: string;
}

/**
 * Maps anything thrown while handling a request to a problem.
 * @param err what was thrown (ParleyError, HttpError, a fastify request error, or anything else).
 */
export function toProblem(err: unknown): ProblemReply {
  if (err instanceof HttpError) return { problem: make(err.code, err.message), headers: err.headers, internal: false };
  if (err instanceof ParleyError && err.code in ERROR_CATALOG) {
    const status = ERROR_CATALOG[err.code].status;
    // LOG_UNCONFIRMED is a state of the node the caller must see (whom it waits for), not a failure to hide.
    const opaque = status >= 500 && err.code !== 'LOG_UNCONFIRMED';
    return { problem: make(err.code, opaque ? 'the node could not complete the request' : err.message), headers: status === 503 ? { 'retry-after': '5' } : {}, internal: opaque };
  }
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; statusCode?: unknown; validation?: unknown; validationContext?: unknown; message?: unknown };
  if (hasZodFastifySchemaValidationErrors(err) || Array.isArray(e.validation)) {
    const where = typeof e.validationContext === 'string' ? e.validationContext : 'request';
    const items = (e.validation as ValidationItem[]).slice(0, 20);
    const issues = items.map((v) => ({
      in: where,
      path: (v.instancePath ?? '').split('/').filter((s) => s !== '').map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s)),
      message: v.message ?? 'invalid',
    }));
    const detail = issues.map((i) => `${[i.in, ...i.path].join('.')}: ${i.message}`).join('; ');
    return { problem: make('VALIDATION_FAILED', detail, { issues }), headers: {}, internal: false };
  }
  const mapped = typeof e.code === 'string' ? FASTIFY_CODES[e.code] : undefined;
  if (mapped) return { problem: make(mapped, typeof e.message === 'string' ? e.message : mapped), headers: {}, internal: false };
  // The JSON body parser throws a SyntaxError with statusCode 400 (also for __proto__ poisoning).
  if (err instanceof SyntaxError || (typeof e.statusCode === 'number' && e.statusCode === 400 && /JSON|proto/i.test(String(e.message)))) {
    return { problem: make('JSON_MALFORMED', 'the body is not valid JSON'), headers: {}, internal: false };
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return { problem: make('REQUEST_MALFORMED', typeof e.message === 'string' ? e.message : 'bad request'), headers: {}, internal: false };
  }
  return { problem: make('INTERNAL_ERROR', 'the node could not complete the request'), headers: {}, internal: true };
}
