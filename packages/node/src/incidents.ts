/**
 * IncidentIndex: every incident this node knows of, folded from the
 * `incident.report` entries it holds — its own and those received — with the
 * `ack` entries that answer them, for the dashboard (GET /v1/incidents).
 *
 * Like the DeadlineTracker it reads the store incrementally (`refresh()`:
 * own entries from the last tree size, received entries above the last
 * receive sequence), only the reports and acks among them (the store's type
 * indexes: a node holding millions of other entries does not read them), and
 * keeps what it read in memory, O(reports + acks). The
 * node can open every report it holds (it is a recipient of what it received
 * and seals its own reports to itself too); who may SEE a body is decided per
 * request: auditors see only TLP:CLEAR bodies (service.ts READS_SEALED), so
 * for them titles, categories and search over sealed reports do not exist.
 *
 * Search is a case-insensitive substring match over NFKC-normalised text
 * (title, summary, system, actor, harm, mitigations, incident id). That
 * works for Chinese, which has no spaces for a word tokenizer to split on,
 * and is why there is no store-side full-text index (SQLite FTS5's default
 * tokenizer would treat a run of Chinese as one token).
 *
 * Status of an incident: `retracted` once a report of kind `retraction` is
 * held or every report of it is withdrawn by a `retraction` entry (issue 13,
 * retractions.ts); else `final` once a final report is held, `updated` once
 * an update is, else `open` — from the reports the viewer can read that are
 * not withdrawn (a superseded report's replacement counts in its place).
 *
 * Every report's body is checked with core's registry (`checkBody`) before
 * it is filed: a report whose body fails (one received before bodies were
 * checked on ingest, say `{incident, kind}` alone), or that cannot be read at
 * all, is skipped and reported (skipped.ts) — one bad entry must not take
 * the index, and GET /v1/incidents with it, down for good.
 */
import type { LogStore, OwnEntry, ReceivedEntry, Role } from '@parley/store';
import { type IncidentReport, checkBody } from './bodies.js';
import type { ParleyNode } from './service.js';
import { skippedEntries } from './skipped.js';
import { type Retraction, retractionIndex } from './retractions.js';

const PAGE = 500;
/** The entry types the index files (#add): every other entry is not read. */
const FILED = ['incident.report', 'ack'] as const;

/** One report of an incident, as held. */
export interface HeldReport {
  readonly party: string;
  readonly index: number;
  readonly time: string;
  readonly incident: string;
  /** TLP:CLEAR: readable by every role. */
  readonly clear: boolean;
  /** The opened body (absent when it did not open or validate). */
  readonly body?: IncidentReport;
  /** Lower-cased NFKC text searched by `q`. */
  readonly text: string;
}

export type IncidentStatus = 'open' | 'updated' | 'final' | 'retracted';

/** An incident as a role may see it. */
export interface IncidentSummary {
  readonly incident: string;
  /** The reporting party (the first report's sender). */
  readonly party: string;
  readonly first: string;
  readonly last: string;
  /** Reports held, readable or not. */
  readonly entries: number;
  readonly latest: { readonly party: string; readonly index: number };
  readonly title?: string;
  readonly category?: string;
  readonly severity?: number;
  readonly status?: IncidentStatus;
  /** Every report of it is sealed from this role. */
  readonly sealed?: true;
}

export interface IncidentFilter {
  readonly party?: string;
  readonly category?: string;
  readonly severity?: number;
  readonly status?: IncidentStatus;
  /** ms: the incident's [first, last] must overlap [from, to]. */
  readonly from?: number;
  readonly to?: number;
  readonly q?: string;
}

/** Text normalised for search: NFKC (full-width → ASCII, compatibility forms) and lower case. */
export function searchText(s: string): string {
  return s.normalize('NFKC').toLowerCase();
}

function haystack(id: string, b: IncidentReport | undefined): string {
  if (!b) return searchText(id);
  const parts = [id, b.title, b.summary, b.system.name, b.system.developer, b.system.version, b.actor.type, b.actor.description, b.harm.description, ...b.harm.types, ...b.mitigations, b.category];
  return searchText(parts.filter((p): p is string => typeof p === 'string').join('\n'));
}

const readable = (r: HeldReport, role: Role) => r.body !== undefined && (r.clear || role !== 'auditor');

export class IncidentIndex {
  readonly #node: ParleyNode;
  readonly #store: LogStore;
  readonly #reports = new Map<string, HeldReport[]>();
  /** Report key "party/index" → incident id. */
  readonly #reportKeys = new Map<string, string>();
  /** Report "party/index" → the retraction that withdrew it (issue 13). */
  readonly #retracted = new Map<string, Retraction>();
  /** Answered entry "party/index" → acks answering it (party/index). */
  readonly #acks = new Map<string, { party: string; index: number; time: string }[]>();
  #ownSize = 0;
  #lastSeq = 0;
  #chain: Promise<void> = Promise.resolve();

  constructor(node: ParleyNode, store: LogStore) {
    this.#node = node;
    this.#store = store;
  }

  /** Reads what is new in the store. Calls are serialized. */
  refresh(): Promise<void> {
    const run = this.#chain.then(() => this.#refresh());
    this.#chain = run.catch(() => {});
    return run;
  }

  async #refresh(): Promise<void> {
    // Only reports and acks are filed: read by type (the store's type indexes), never every entry with its
    // bytes (issue 14: a first view on a node holding 10,000,000 hotline messages read them all).
    const size = await this.#store.treeSize();
    if (size > this.#ownSize) {
      for (const type of FILED) {
        // Newest first below `size`, down to the last tree size read (the order of filing does not matter: reports are kept sorted, timelines sort).
        for (let before = size; ; ) {
          const page = await this.#store.outbox({ type, before, limit: PAGE });
          for (const e of page) if (e.index >= this.#ownSize) await this.#addOrSkip(this.#node.party, e);
          const last = page[page.length - 1];
          if (page.length < PAGE || !last || last.index <= this.#ownSize) break;
          before = last.index;
        }
      }
      this.#ownSize = size;
    }
    // Nothing received since the last pass (the usual case: every incident view and export refreshes):
    // one row read, not a page of PAGE entries with their bytes.
    const top = (await this.#store.inbox({ limit: 1 }))[0]?.rowid ?? 0;
    if (top > this.#lastSeq) {
      // Oldest first, a page at a time, up to `top` (issue 14: a node catching up on 10,000,000 received
      // entries held them all, with their bytes, before filing the first).
      for (const type of FILED) {
        for (let after = this.#lastSeq; ; ) {
          const page = await this.#store.inbox({ type, after, limit: PAGE });
          for (const r of page) if (r.rowid <= top) await this.#addOrSkip(r.party, r);
          const last = page[page.length - 1];
          if (page.length < PAGE || !last || last.rowid >= top) break;
          after = last.rowid;
        }
      }
      this.#lastSeq = top;
    }
    // Issue 13: reports withdrawn since (a retraction may come before or after its report).
    const retractions = retractionIndex(this.#node);
    await retractions.refresh();
    for (const key of this.#reportKeys.keys()) {
      if (this.#retracted.has(key)) continue;
      const cut = key.lastIndexOf('/');
      const [party, index] = [key.slice(0, cut), Number(key.slice(cut + 1))];
      if (retractions.citing(party, index).length === 0) continue; // the usual case: nothing cites it, no await
      const r = await retractions.of(party, index);
      if (r) this.#retracted.set(key, r);
    }
  }

  /** {@link #add}, skipping and reporting an entry that cannot be filed. */
  async #addOrSkip(party: string, e: OwnEntry | ReceivedEntry): Promise<void> {
    try {
      await this.#add(party, e);
    } catch (err) {
      skippedEntries(this.#node).note('incidents', party, e.index, err);
    }
  }

  async #add(party: string, e: OwnEntry | ReceivedEntry): Promise<void> {
    const m = e.meta;
    // Filing is idempotent: a refresh that failed part-way (the store) reads some entries again.
    if (m.type === 'ack') {
      for (const ref of m.refs) {
        const key = `${ref.party}/${ref.index}`;
        const held = this.#acks.get(key) ?? [];
        if (!held.some((a) => a.party === party && a.index === e.index)) this.#acks.set(key, [...held, { party, index: e.index, time: m.time }]);
      }
      return;
    }
    if (m.type !== 'incident.report' || this.#reportKeys.has(`${party}/${e.index}`)) return;
    const v = await this.#node.read(party, e.index, 'admin');
    // Throws ENTRY_MALFORMED for a body that is not a report: skipped by #addOrSkip, not filed.
    const body = v?.body !== undefined ? (checkBody('incident.report', v.body) as IncidentReport) : undefined;
    const incident = body?.incident ?? m.incident;
    if (incident === undefined) return;
    const r: HeldReport = { party, index: e.index, time: m.time, incident, clear: m.marking === 'TLP:CLEAR', ...(body ? { body } : {}), text: haystack(incident, body) };
    const list = this.#reports.get(incident) ?? [];
    list.push(r);
    list.sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || a.party.localeCompare(b.party) || a.index - b.index);
    this.#reports.set(incident, list);
    this.#reportKeys.set(`${party}/${e.index}`, incident);
  }

  /** Every incident as `role` sees it, filtered, newest `last` first (ties by id). Call {@link refresh} first. */
  list(role: Role, f: IncidentFilter = {}): IncidentSummary[] {
    const q = f.q !== undefined ? searchText(f.q) : undefined;
    const out: IncidentSummary[] = [];
    for (const [id, reports] of this.#reports) {
      const s = summarize(id, reports, role, this.#retracted);
      if (f.party !== undefined && s.party !== f.party) continue;
      if (f.category !== undefined && s.category !== f.category) continue;
      if (f.severity !== undefined && s.severity !== f.severity) continue;
      if (f.status !== undefined && s.status !== f.status) continue;
      if (f.from !== undefined && Date.parse(s.last) < f.from) continue;
      if (f.to !== undefined && Date.parse(s.first) > f.to) continue;
      if (q !== undefined && q !== '' && !reports.some((r) => (readable(r, role) ? r.text : searchText(r.incident)).includes(q))) continue;
      out.push(s);
    }
    return out.sort((a, b) => Date.parse(b.last) - Date.parse(a.last) || (a.incident < b.incident ? -1 : a.incident > b.incident ? 1 : 0));
  }

  /** The reports held of one incident (any party, readable or not), oldest first; undefined when none is held. */
  reportsOf(id: string): readonly HeldReport[] | undefined {
    return this.#reports.get(id);
  }

  /** Every incident id held. */
  ids(): IterableIterator<string> {
    return this.#reports.keys();
  }

  /**
   * The entries of one incident, oldest first: its reports (any party) and
   * the acks answering them; undefined for an incident not held.
   */
  timeline(id: string): { party: string; index: number }[] | undefined {
    const reports = this.#reports.get(id);
    if (!reports) return undefined;
    const items = reports.map((r) => ({ party: r.party, index: r.index, time: r.time }));
    for (const r of reports) items.push(...(this.#acks.get(`${r.party}/${r.index}`) ?? []));
    // The retractions of its reports (issue 13): exports and the dashboard show them in the timeline.
    for (const r of reports) {
      const by = this.#retracted.get(`${r.party}/${r.index}`)?.by;
      if (by) items.push(by);
    }
    return items.sort((a, b) => Date.parse(a.time) - Date.parse(b.time) || a.party.localeCompare(b.party) || a.index - b.index).map(({ party, index }) => ({ party, index }));
  }
}

/**
 * Who reported an incident: the party its id names (PARTY:local-id) when a
 * report of that party is held — an id is only a claim, and another party may
 * use any prefix — else the first report's sender.
 */
export function incidentReporter(id: string, reports: readonly { readonly party: string }[]): string {
  const named = /^[A-Z][A-Z0-9-]{1,15}(?=:)/.exec(id)?.[0];
  return named !== undefined && reports.some((r) => r.party === named) ? named : reports[0]!.party;
}

function summarize(id: string, reports: readonly HeldReport[], role: Role, retracted: ReadonlyMap<string, Retraction>): IncidentSummary {
  const first = reports[0]!;
  const last = reports[reports.length - 1]!;
  const live = reports.filter((r) => !retracted.has(`${r.party}/${r.index}`));
  const all = reports.filter((r) => readable(r, role));
  const seen = live.filter((r) => readable(r, role));
  // Every report withdrawn: the incident is retracted; its title is still the latest readable report's.
  const latest = (seen.length > 0 ? seen : all)[(seen.length > 0 ? seen : all).length - 1]?.body;
  const kinds = new Set(seen.map((r) => r.body!.kind));
  const status: IncidentStatus =
    live.length === 0 || kinds.has('retraction') ? 'retracted' : kinds.has('final') ? 'final' : kinds.has('update') ? 'updated' : 'open';
  return {
    incident: id,
    party: incidentReporter(id, reports),
    first: first.time,
    last: last.time,
    entries: reports.length,
    latest: { party: last.party, index: last.index },
    ...(latest ? { title: latest.title, category: latest.category, severity: latest.severity, status } : { sealed: true as const }),
  };
}

const indexes = new WeakMap<ParleyNode, IncidentIndex>();

/** The one incident index of a node (made on first use). */
export function incidentIndex(node: ParleyNode, store: LogStore): IncidentIndex {
  let i = indexes.get(node);
  if (!i) indexes.set(node, (i = new IncidentIndex(node, store)));
  return i;
}
