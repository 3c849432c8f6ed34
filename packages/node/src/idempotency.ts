/**
 * The idempotency key of the request being served (issue 14; IETF
 * httpapi-idempotency-key-header), carried from the HTTP layer
 * (http/idempotency.ts) to the log writer without threading it through
 * every ParleyNode method: an AsyncLocalStorage scope around the handler.
 *
 *     handler ─ withKey(scope) ─▶ ParleyNode.submit ─▶ LogWriter.append({ idempotency })
 *                                                       └─ record: key, digest, indexes, answer
 *                                                          in the batch's transaction
 *
 * The FIRST entry the officer named by the scope writes inside the scope
 * carries the key (machine entries — receipts, heartbeats — never do); the
 * answer stored with it is `answer(submitted)`, computed when the batch is
 * signed, before it commits, so a retry gets exactly the first answer.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IdempotencyRecord } from '@parley/store';
import type { Submitted } from './service.js';

/** An HTTP answer as stored with a key and replayed: status, headers, JSON body. */
export interface StoredAnswer {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: unknown;
}

/** The key of the request being served. */
export interface IdempotencyScope {
  /** The authenticated officer: keys are per officer. */
  readonly scope: string;
  readonly key: string;
  /** SHA-256 hex of method, path and body. */
  readonly digest: string;
  /** The answer to store for what the keyed write appended; set before the write. */
  answer: ((appended: readonly Submitted[]) => StoredAnswer) | undefined;
  /** Whether an append took the key already (one write per key). */
  taken: boolean;
}

const current = new AsyncLocalStorage<IdempotencyScope>();

/** Runs `fn` with `scope` as the key of every append it makes (the first one takes it). */
export function withIdempotencyKey<T>(scope: IdempotencyScope, fn: () => Promise<T>): Promise<T> {
  return current.run(scope, fn);
}

/** Sets the answer stored with the key of the request being served (no-op outside a keyed request). */
export function answerWith(answer: (appended: readonly Submitted[]) => StoredAnswer): void {
  const s = current.getStore();
  if (s !== undefined) s.answer = answer;
}

/**
 * The key an append by `officer` takes, if the request being served has
 * one not taken yet; marks it taken.
 * @param submitted what the append wrote, as the node answers it (called when the batch is signed).
 */
export function takeIdempotencyKey(officer: string, submitted: (a: readonly { index: number; leafHash: Uint8Array; treeSize: number }[]) => Submitted[]): { scope: string; key: string; record(a: readonly { index: number; leafHash: Uint8Array; treeSize: number }[]): IdempotencyRecord } | undefined {
  const s = current.getStore();
  if (s === undefined || s.taken || s.answer === undefined || s.scope !== officer) return undefined;
  s.taken = true;
  const answer = s.answer;
  return {
    scope: s.scope,
    key: s.key,
    record: (a) => ({ scope: s.scope, key: s.key, digest: s.digest, indexes: a.map((x) => x.index), response: JSON.stringify(answer(submitted(a))), createdAt: Date.now() }),
  };
}
