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
 */
import { MemoryNonceCache, type NonceCache } from '@parley/core';
import type { LogStore } from '@parley/store';

export class PersistentNonceCache implements NonceCache {
  readonly #store: LogStore;
  readonly #memory = new MemoryNonceCache();
  readonly #pending = new Set<Promise<unknown>>();
  /** A write that failed: every later request fails closed until the node restarts. */
  #failed: unknown;

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
    const p = this.#store.rememberNonce(key, expiresAt, now).then(
      () => undefined,
      (e: unknown) => {
        this.#failed ??= e;
      },
    );
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  /**
   * Resolves when every nonce added so far is durable.
   * @throws the store's error (STORE_UNAVAILABLE) when a nonce could not be written.
   */
  async durable(): Promise<void> {
    await Promise.all([...this.#pending]);
    if (this.#failed !== undefined) throw this.#failed;
  }
}
