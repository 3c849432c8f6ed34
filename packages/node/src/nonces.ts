/**
 * Nonces of verified node-to-node requests that outlive the process (issue 9,
 * "Nonces of signed node requests survive a restart").
 *
 * core's verifyRequest asks a synchronous {@link NonceCache}; this one keeps
 * the live nonces in memory (core {@link MemoryNonceCache}, loaded from the
 * store when the node opens) and writes each new one to the store's
 * `request_nonces` table. {@link PersistentNonceCache.durable} resolves once
 * every nonce added so far is committed: the node acts on a request only
 * after its nonce is durable (ParleyNode.authenticateRequestDurably), so a
 * request replayed after a crash or restart — within its ±60 s window — is
 * refused as a replay, not served twice.
 *
 * Several processes of one party on one database (issue 14): the memory of
 * one process does not hold the nonces another one recorded, so the store's
 * answer is the real check — `rememberNonce` returns false for a nonce held
 * and live, and {@link PersistentNonceCache.durable} then refuses the request
 * as a replay.
 */
import { MemoryNonceCache, type NonceCache, fail } from '@parley/core';
import type { LogStore } from '@parley/store';

export class PersistentNonceCache implements NonceCache {
  readonly #store: LogStore;
  readonly #memory = new MemoryNonceCache();
  readonly #pending = new Set<Promise<unknown>>();
  /**
   * The store's answer for the nonce added last: true = new, false = held
   * already (a replay); rejected with the store's error when its write
   * failed. A failed write fails closed the request whose nonce it was, not
   * every later one: a store that is back (a PostgreSQL restart, issue 14's
   * soak) serves requests again without a restart of the node. A request
   * refused was not answered; a push's ingest may have begun before its nonce
   * was durable and may still commit, but ingest is idempotent (an entry
   * held is not stored or receipted again), so nothing is served twice.
   */
  #last: Promise<boolean> | undefined;

  constructor(store: LogStore) {
    this.#store = store;
  }

  /** Loads the nonces still live at `now` (POSIX seconds) from the store. */
  async load(now: number): Promise<void> {
    for (const n of await this.#store.liveNonces(now)) this.#memory.add(n.key, n.expiresAt, now);
  }

  has(key: string, expiresAt: number, now: number): boolean {
    return this.#memory.has(key, expiresAt, now);
  }

  add(key: string, expiresAt: number, now: number): void {
    this.#memory.add(key, expiresAt, now);
    const p = this.#store.rememberNonce(key, expiresAt, now);
    this.#last = p;
    const settled = p.then(
      () => undefined,
      () => undefined, // reported to the request whose nonce it was (durable), never unhandled
    );
    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
  }

  /**
   * The store's answer for the nonce {@link add}ed last: take it synchronously
   * after the verification that added it, and hand it to {@link durable}.
   */
  takeLast(): Promise<boolean> | undefined {
    const p = this.#last;
    this.#last = undefined;
    return p;
  }

  /**
   * Resolves when every nonce added so far is settled and the request's own is durable.
   * @param fresh the answer {@link takeLast} gave for the request's nonce.
   * @throws the store's error (STORE_UNAVAILABLE) when the request's nonce could not be written;
   *   VerificationError `REQUEST_UNAUTHENTICATED` when the store already held
   *   `fresh`'s nonce (recorded by another process of the party: a replay).
   */
  async durable(fresh?: Promise<boolean>): Promise<void> {
    await Promise.all([...this.#pending]);
    if (fresh !== undefined && !(await fresh)) fail('REQUEST_UNAUTHENTICATED', 'nonce seen before (replay, recorded by another process of this party)');
  }
}
