/**
 * Idempotent writes (issue 14; IETF draft-ietf-httpapi-idempotency-key-header):
 * a POST that appends to the log may carry `Idempotency-Key: "<key>"`; a
 * retry of it with the same key and the same request gets the first answer
 * again — same index, same entry — and appends nothing, on ANY process of
 * the party: the key is stored by the sequencer in the transaction of the
 * entry it names (store AppendBatch.idempotency), so after a crash it is
 * held iff the entry is, and every process reads the one database.
 *
 *     no key                         → the write, as before
 *     key held, same request          → the stored answer (Idempotency-Replayed: true)
 *     key held, another request       → 422 IDEMPOTENCY_KEY_REUSED
 *     key being served (this process) → 409 IDEMPOTENCY_KEY_IN_FLIGHT + Retry-After
 *     key new                        → the write; the key is stored with its entry
 *
 * Keys are per officer (the authenticated one: two officers' keys never
 * meet), 1–255 visible ASCII characters, sent as a Structured Field string
 * (RFC 8941: `"…"`) or bare. The request's fingerprint is SHA-256 of the
 * method, the path (with query) and the body as RFC 8785 canonical JSON —
 * the same JSON sent with other spacing is the same request.
 *
 * Requests that fail before they append store nothing: a retry runs them
 * again. A write whose batch lost the conditional append to another
 * process (a deposed sequencer's batch, or a retry that raced it) is looked
 * up once more: if its key is now held, the answer is the held one. One
 * that lost the race every time the writer staged it again is a 503
 * SEQUENCER_UNAVAILABLE with Retry-After (store writer.ts): nothing of it was
 * written, and the client resends it with the same key.
 *
 * Keys are kept {@link IDEMPOTENCY_RETENTION_MS} (24 hours) and pruned by
 * the sequencer every {@link IDEMPOTENCY_PRUNE_MS}.
 */
import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { canonicalize, ParleyError } from '@parley/core';
import { MAX_IDEMPOTENCY_KEY, type LogStore } from '@parley/store';
import { type IdempotencyScope, type StoredAnswer, withIdempotencyKey } from '../idempotency.js';
import type { Submitted } from '../service.js';
import { HttpError, toProblem } from './problem.js';

/** The request header (lower case, as Node.js gives it). */
export const IDEMPOTENCY_HEADER = 'idempotency-key';
/** Set on an answer replayed from a stored key. */
export const REPLAYED_HEADER = 'idempotency-replayed';
/** How long a key is kept: a client retries within minutes; a day covers a long outage. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;
/** How often the sequencer prunes expired keys. */
export const IDEMPOTENCY_PRUNE_MS = 10 * 60 * 1000;

/** The key of a request, or undefined without the header. @throws HttpError VALIDATION_FAILED for a malformed one. */
export function idempotencyKeyOf(req: FastifyRequest): string | undefined {
  const raw = req.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return undefined;
  const v = (Array.isArray(raw) ? raw.join(', ') : raw).trim();
  const key = v.length >= 2 && v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
  if (key.length === 0 || key.length > MAX_IDEMPOTENCY_KEY || !/^[\x20-\x7e]+$/.test(key) || /["\\]/.test(key)) {
    throw new HttpError('VALIDATION_FAILED', `the Idempotency-Key header must be a string of 1 to ${MAX_IDEMPOTENCY_KEY} visible ASCII characters (no quote or backslash), e.g. "${'8e03978e-40d5-43e8-bc93-6894a57f9324'}"`);
  }
  return key;
}

/** SHA-256 hex of method, path and canonical JSON body: what makes two requests "the same". */
export function requestDigest(req: FastifyRequest): string {
  let body: string;
  try {
    body = canonicalize(req.body ?? null);
  } catch {
    body = JSON.stringify(req.body ?? null);
  }
  return createHash('sha256').update(`${req.method}\n${req.url}\n${body}`).digest('hex');
}

function send(reply: FastifyReply, a: StoredAnswer, replayed: boolean): FastifyReply {
  reply.code(a.status);
  for (const [k, v] of Object.entries(a.headers)) reply.header(k, v);
  if (replayed) reply.header(REPLAYED_HEADER, 'true');
  return reply.send(a.body);
}

function refuse(reply: FastifyReply, e: ParleyError, headers: Record<string, string> = {}): FastifyReply {
  const { problem } = toProblem(e);
  reply.code(problem.status).header('cache-control', 'no-store').type('application/problem+json');
  for (const [k, v] of Object.entries(headers)) reply.header(k, v);
  return reply.send(JSON.stringify(problem));
}

/**
 * The keys being served by this process. A party's writes all reach its
 * sequencer (followers forward them, forward.ts), so one process sees every
 * concurrent use of a key; across a failover the store's primary key and the
 * conditional append keep one write per key.
 */
export class IdempotencyKeys {
  readonly #store: LogStore;
  readonly #inFlight = new Set<string>();

  constructor(store: LogStore) {
    this.#store = store;
  }

  /**
   * Serves a write that may carry an Idempotency-Key.
   * @param officer the authenticated officer (the key's scope).
   * @param answer the answer to a write that appended `submitted`: stored
   *   with the key, and sent. `run` may replace it (answerWith, idempotency.ts)
   *   when the answer depends on what it found before appending.
   * @param run does the write; returns the answer to send.
   */
  async serve(req: FastifyRequest, reply: FastifyReply, officer: string, answer: (submitted: readonly Submitted[]) => StoredAnswer, run: () => Promise<StoredAnswer>): Promise<FastifyReply> {
    const key = idempotencyKeyOf(req);
    if (key === undefined) return send(reply, await run(), false);
    const digest = requestDigest(req);
    const held = await this.#held(officer, key, digest, reply);
    if (held !== undefined) return held;
    const id = `${officer}\u0000${key}`;
    if (this.#inFlight.has(id)) {
      return refuse(reply, new ParleyError('IDEMPOTENCY_KEY_IN_FLIGHT', `a request with Idempotency-Key "${key}" is still being processed: retry after a second with the same key for its answer`), { 'retry-after': '1' });
    }
    this.#inFlight.add(id);
    try {
      const scope: IdempotencyScope = { scope: officer, key, digest, answer, taken: false };
      let out: StoredAnswer;
      try {
        out = await withIdempotencyKey(scope, run);
      } catch (e) {
        // Lost to another process that logged this very key (a deposed sequencer's batch landed): answer with what it logged.
        if (e instanceof ParleyError && e.code === 'STORE_CONFLICT') {
          const after = await this.#held(officer, key, digest, reply);
          if (after !== undefined) return after;
        }
        throw e;
      }
      return send(reply, out, false);
    } finally {
      this.#inFlight.delete(id);
    }
  }

  /** The reply for a key already held (replayed answer, or 422 for another request), or undefined. */
  async #held(officer: string, key: string, digest: string, reply: FastifyReply): Promise<FastifyReply | undefined> {
    const r = await this.#store.idempotencyRecord(officer, key);
    if (r === undefined) return undefined;
    if (r.digest !== digest) {
      return refuse(reply, new ParleyError('IDEMPOTENCY_KEY_REUSED', `Idempotency-Key "${key}" was used for another request (method, path or body differ), which logged entry ${r.indexes.join(', ')}: send a new key for a new request`));
    }
    return send(reply, JSON.parse(r.response) as StoredAnswer, true);
  }

  /** Deletes keys older than the retention. @returns how many. */
  prune(now = Date.now()): Promise<number> {
    return this.#store.pruneIdempotency(now - IDEMPOTENCY_RETENTION_MS);
  }
}
