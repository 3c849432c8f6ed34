/**
 * Counters of a node's time stamping (issue 12), read by the metrics of
 * every server of the node (http/metrics.ts):
 *
 *     parley_tsa_tokens_total{authority}             tokens of our checkpoints obtained and stored
 *     parley_tsa_failures_total{authority,code}      stamping attempts that failed (TSA down,
 *                                                    refused, a token that does not verify)
 *     parley_tsa_refused_total{party,code}           tokens of another party's checkpoints a peer
 *                                                    served that did not verify (not stored)
 */
import type { ParleyNode } from '../service.js';

export class TsaStats {
  readonly stamped = new Map<string, number>();
  /** `authority code` → count. */
  readonly failures = new Map<string, number>();
  /** `party code` → count. */
  readonly refused = new Map<string, number>();

  static #bump(m: Map<string, number>, key: string): void {
    m.set(key, (m.get(key) ?? 0) + 1);
  }
  countStamped(authority: string): void {
    TsaStats.#bump(this.stamped, authority);
  }
  countFailure(authority: string, code: string): void {
    TsaStats.#bump(this.failures, `${authority} ${code}`);
  }
  countRefused(party: string, code: string): void {
    TsaStats.#bump(this.refused, `${party} ${code}`);
  }
  /** Total failures (every authority, every code). */
  get failureCount(): number {
    let n = 0;
    for (const v of this.failures.values()) n += v;
    return n;
  }
}

const registries = new WeakMap<ParleyNode, TsaStats>();

/** The one set of time-stamping counters of a node (made on first use). */
export function tsaStats(node: ParleyNode): TsaStats {
  let s = registries.get(node);
  if (!s) registries.set(node, (s = new TsaStats()));
  return s;
}
