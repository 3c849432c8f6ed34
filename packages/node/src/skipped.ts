/**
 * Entries an index skipped (issue 9): an index built from what the node holds
 * (incidents.ts, deadlines/tracker.ts) must not fail as a whole because one
 * entry is bad — a body that fails its check (received before bodies were
 * checked on ingest, or from a sender we rejected), or a record that does not
 * parse or open. It skips that entry and reports it here: one process
 * warning per entry and index (code PARLEY_INDEX_SKIPPED, on stderr), the
 * `parley_index_skipped_entries{index}` gauge, and the `skipped` listings of
 * GET /v1/incidents and GET /v1/deadlines.
 *
 * In memory, rebuilt as the indexes are (they re-read the store at start), so
 * nothing here needs a table: the entries themselves are the evidence.
 */
import { ParleyError } from '@parley/core';
import type { ParleyNode } from './service.js';

/** Which index skipped an entry. */
export type IndexName = 'incidents' | 'deadlines';

export interface SkippedEntry {
  readonly index: IndexName;
  /** The entry: whose log, which index. */
  readonly party: string;
  readonly entry: number;
  /** Stable error code (docs/errors.md); `INTERNAL` for a fault that is not the entry's. */
  readonly code: string;
  readonly reason: string;
}

/** Most entries listed (the count keeps going). */
const MAX_LISTED = 1000;

export class SkippedEntries {
  readonly #items = new Map<string, SkippedEntry>();
  readonly #counts = new Map<IndexName, number>();
  readonly #warn: (line: string) => void;

  constructor(warn: (line: string) => void = (line) => process.emitWarning(line, { code: 'PARLEY_INDEX_SKIPPED' })) {
    this.#warn = warn;
  }

  /** Reports that `index` skipped entry `entry` of `party`'s log because of `error`; once per entry and index. */
  note(index: IndexName, party: string, entry: number, error: unknown): void {
    const key = `${index}:${party}/${entry}`;
    if (this.#items.has(key)) return;
    const code = error instanceof ParleyError ? error.code : 'INTERNAL';
    const reason = error instanceof Error ? error.message : String(error);
    const s: SkippedEntry = { index, party, entry, code, reason };
    if (this.#items.size < MAX_LISTED) this.#items.set(key, s);
    this.#counts.set(index, (this.#counts.get(index) ?? 0) + 1);
    this.#warn(`${index} index skipped entry ${party}/${entry}: ${code}: ${reason}`);
  }

  /** The skipped entries (at most {@link MAX_LISTED}), optionally of one index, in the order skipped. */
  list(index?: IndexName): SkippedEntry[] {
    return [...this.#items.values()].filter((s) => index === undefined || s.index === index);
  }

  /** How many entries `index` skipped. */
  count(index: IndexName): number {
    return this.#counts.get(index) ?? 0;
  }
}

const registries = new WeakMap<ParleyNode, SkippedEntries>();

/** The one registry of a node's skipped entries (made on first use). */
export function skippedEntries(node: ParleyNode): SkippedEntries {
  let s = registries.get(node);
  if (!s) registries.set(node, (s = new SkippedEntries()));
  return s;
}
