/**
 * Entries of one type this node holds — its own and those it received — and
 * the index of `incident.link` entries by the entries they cite.
 *
 * The links of an incident are the link entries citing one of its reports.
 * Finding them per incident (a `referencing` call per report and a pass over
 * every received link) made the TAXII server's rebuild, which gathers every
 * incident, cost incidents × links: 31 s of CPU for 3,000 incidents and
 * 1,500 links, 7 s with the index (bench/taxii-links.ts). {@link linkIndex}
 * reads every link once; a caller gathering many incidents makes it once and
 * passes it on.
 */
import type { LogStore, OwnEntry, ReceivedEntry } from '@parley/store';

const PAGE = 500;

/** Every entry of one type, own (as `party`'s, this node's) and received, paged through the store's listings. */
export async function allOfType(store: LogStore, party: string, type: string): Promise<{ party: string; e: OwnEntry | ReceivedEntry }[]> {
  const out: { party: string; e: OwnEntry | ReceivedEntry }[] = [];
  for (let before: number | undefined; ; ) {
    const page = await store.outbox({ type, limit: PAGE, ...(before !== undefined ? { before } : {}) });
    out.push(...page.map((e) => ({ party, e })));
    if (page.length < PAGE) break;
    before = page[page.length - 1]!.index;
  }
  for (let before: number | undefined; ; ) {
    const page = await store.inbox({ type, limit: PAGE, ...(before !== undefined ? { before } : {}) });
    out.push(...page.map((e) => ({ party: e.party, e })));
    if (page.length < PAGE) break;
    before = page[page.length - 1]!.rowid;
  }
  return out;
}

/** Where an entry sits. */
export interface Position {
  readonly party: string;
  readonly index: number;
}

/** "party/index" of a cited entry → the `incident.link` entries held (own and received) that cite it. */
export type LinkIndex = ReadonlyMap<string, readonly Position[]>;

/** Reads every `incident.link` entry this node holds once and files it under each entry it cites. */
export async function linkIndex(store: LogStore, party: string): Promise<LinkIndex> {
  const out = new Map<string, Position[]>();
  for (const { party: p, e } of await allOfType(store, party, 'incident.link')) {
    for (const ref of e.meta.refs) {
      const k = `${ref.party}/${ref.index}`;
      const list = out.get(k);
      if (list) list.push({ party: p, index: e.index });
      else out.set(k, [{ party: p, index: e.index }]);
    }
  }
  return out;
}
