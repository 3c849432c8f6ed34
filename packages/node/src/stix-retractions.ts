/**
 * Which entry is withdrawn here, for the STIX export (stix.ts) — the
 * signature of the retract helper's `retractionOf` (retractions.ts, I13.md):
 * once that module is on this branch, this file becomes
 * `export { retractionOf } from './retractions.js'` and nothing else changes.
 *
 * Until then: a retraction is an entry of type `retraction` in the withdrawn
 * entry's own sender's log whose refs[0] is that entry; the first (lowest
 * index) wins. Own entries are found by the store's `referencing`, received
 * ones by the inbox's type filter.
 */
import type { ParleyNode } from './service.js';

export interface EntryPosition {
  readonly party: string;
  readonly index: number;
}
/** Why and by what an entry is withdrawn (the fields the export uses). */
export interface Retraction {
  readonly by: EntryPosition & { readonly time: string };
  readonly action: 'retract' | 'supersede';
  readonly replacement?: EntryPosition;
}

const PAGE = 500;

export async function retractionOf(node: ParleyNode, party: string, index: number): Promise<Retraction | undefined> {
  const store = node.store;
  const found: { index: number; time: string; refs: readonly EntryPosition[]; action: 'retract' | 'supersede' }[] = [];
  if (party === node.party) {
    for (const e of await store.referencing(party, index)) {
      if (e.meta.type !== 'retraction' || e.meta.refs[0]?.party !== party || e.meta.refs[0]?.index !== index) continue;
      found.push({ index: e.index, time: e.meta.time, refs: e.meta.refs, action: e.meta.refs.length > 1 ? 'supersede' : 'retract' });
    }
  } else {
    let before: number | undefined;
    for (;;) {
      const page = await store.inbox({ type: 'retraction', party, limit: PAGE, ...(before !== undefined ? { before } : {}) });
      for (const e of page) {
        if (e.party !== party || e.meta.refs[0]?.party !== party || e.meta.refs[0]?.index !== index || e.index <= index) continue;
        found.push({ index: e.index, time: e.meta.time, refs: e.meta.refs, action: e.meta.refs.length > 1 ? 'supersede' : 'retract' });
      }
      if (page.length < PAGE) break;
      before = page[page.length - 1]!.rowid;
    }
  }
  const first = found.sort((a, b) => a.index - b.index)[0];
  if (!first) return undefined;
  const r = first.refs[1];
  return { by: { party, index: first.index, time: first.time }, action: first.action, ...(r ? { replacement: { party: r.party, index: r.index } } : {}) };
}
