/**
 * Retractions (issue 13): a `retraction` entry withdraws an entry of its
 * sender's own log — `retract` — or replaces it with a later one —
 * `supersede`. The withdrawn entry stays in the log (append-only: it is
 * evidence); every node that holds both treats it as withdrawn.
 *
 *     retraction {action: "retract",   reason, lang?}  refs [E]
 *     retraction {action: "supersede", reason, lang?}  refs [E, R]
 *
 * Rules (checked on submission — a typed 4xx, nothing written — and on
 * ingest — the entry is kept as evidence and answered with a signed
 * rejection, received.ts — with the same code):
 *
 *     refs: 1 for retract, 2 for supersede                           RETRACTION_REFS
 *     E (and R) in the SENDER's own log, below the retraction        RETRACTION_NOT_OWN
 *     E held here with the cited leaf hash                           RETRACTION_TARGET_MISSING
 *     E officer traffic: hotline.message, incident.report,           RETRACTION_NOT_RETRACTABLE
 *       evaluation.*, deployment.notice, incident.link
 *       (not receipts, acks, heartbeats, governance, retractions)
 *     E not retracted or superseded already                          RETRACTION_ALREADY
 *     R after E, same type; for reports the same incident; held      RETRACTION_REPLACEMENT_INVALID
 *       with the cited hash; not itself withdrawn
 *     recipients = E's recipients                                    RETRACTION_RECIPIENTS
 *     marking at least as restrictive as E's (CLEAR < GREEN <        RETRACTION_MARKING
 *       AMBER < AMBER+STRICT < RED): the reason may say as much
 *       as E did, never to more eyes
 *
 * Order. Entries of one log arrive in order by pull, but a push, a gossip
 * or a bundle may bring the retraction first (or the withdrawn entry may
 * not be addressed to this node at all). On ingest a retraction whose
 * target is not held cannot be judged — a rejection is final — so it is
 * accepted; it is applied once its target is held, and only if the rules
 * hold then (an invalid one is never applied). When two retractions cite
 * one entry, the first (lower index) that holds wins.
 *
 * Lookups: {@link retractionOf}(node, party, index) answers whether entry
 * (party, index) is withdrawn here, by which retraction, why, and by what.
 * The {@link RetractionIndex} behind it reads retraction entries from the
 * store incrementally (own log by index, received ones by receive order,
 * each by the store's type filter) and re-reads only after an append or an
 * ingest; a positive answer is final (entries are never removed), so it is
 * cached.
 */
import { type EntryRef, type Marking, type RetractionAction, type RetractionBody, MARKINGS, ParleyError, RETRACTABLE_TYPES, bodyProblem, formatBase64, isRetractable, parseEntry } from '@parley/core';
import type { EntryMeta, LogStore, OwnEntry, ReceivedEntry } from '@parley/store';
import { openedOf, rejectionInEntry, rejectionOf, withRejection } from './received.js';
import type { ParleyNode } from './service.js';

/** Entry types an officer may retract: core's list (registry.ts), shared with the dashboard. */
export { RETRACTABLE_TYPES, isRetractable } from '@parley/core';

/** How restrictive a marking is: TLP:CLEAR 0 … TLP:RED 4 (TLP 2.0 order). */
export function markingRank(m: string): number {
  return MARKINGS.indexOf(m as Marking);
}

/** Where an entry sits. */
export interface EntryPosition {
  readonly party: string;
  readonly index: number;
}

/** Why and by what an entry is withdrawn. */
export interface Retraction {
  /** The retraction entry (in the withdrawn entry's sender's log) and its time. */
  readonly by: EntryPosition & { readonly time: string };
  readonly action: RetractionAction;
  readonly reason: string;
  readonly lang?: string;
  /** `supersede`: the entry that takes the withdrawn one's place. */
  readonly replacement?: EntryPosition;
  /** The retraction's marking (a view for a role that may not read sealed bodies leaves `reason` out). */
  readonly marking: string;
}

/** An entry as the rules need it. */
export interface HeldMeta {
  readonly party: string;
  readonly index: number;
  readonly leafHash: Uint8Array;
  readonly meta: EntryMeta;
}

export type MetaLookup = (party: string, index: number) => Promise<HeldMeta | undefined>;

/** Own or received entries (their meta: type, recipients, marking, incident); mirrored ones carry none and count as not held. */
export function metaLookup(store: LogStore, self: string): MetaLookup {
  return async (party, index) => {
    if (!Number.isSafeInteger(index) || index < 0) return undefined;
    const rec = party === self ? await store.entry(index) : await store.received(party, index);
    return rec && rec.index === index ? { party, index, leafHash: rec.leafHash, meta: rec.meta } : undefined;
  };
}

/** A retraction to judge: the envelope facts and the (opened) body. */
export interface RetractionCandidate {
  readonly from: string;
  /** Its index in the sender's log (absent on submission: not yet written). */
  readonly seq?: number;
  readonly to: readonly string[];
  readonly marking: string;
  readonly refs: readonly EntryRef[];
  readonly body: RetractionBody;
}

const problem = (code: 'RETRACTION_REFS' | 'RETRACTION_NOT_OWN' | 'RETRACTION_TARGET_MISSING' | 'RETRACTION_NOT_RETRACTABLE' | 'RETRACTION_ALREADY' | 'RETRACTION_REPLACEMENT_INVALID' | 'RETRACTION_RECIPIENTS' | 'RETRACTION_MARKING', msg: string) =>
  new ParleyError(code, msg);

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join(',') === [...b].sort().join(',');

/**
 * The first rule (module doc) a retraction breaks, or undefined.
 * @param mode `submit`: target and replacement must be held; `ingest`: one
 *   not (yet) held is not judged; `apply`: the target must be held, a
 *   replacement not held is not judged.
 * @param withdrawn whether an entry is withdrawn already (by another retraction than this one).
 */
export async function retractionProblem(c: RetractionCandidate, lookup: MetaLookup, mode: 'submit' | 'ingest' | 'apply', withdrawn: (p: EntryPosition) => Promise<boolean>): Promise<ParleyError | undefined> {
  const want = c.body.action === 'supersede' ? 2 : 1;
  if (c.refs.length !== want) return problem('RETRACTION_REFS', `a ${c.body.action} cites ${want === 1 ? 'exactly one entry (the withdrawn one)' : 'exactly two entries (the withdrawn one, then its replacement)'}, not ${c.refs.length}`);
  const [e, r] = [c.refs[0]!, c.refs[1]];
  for (const ref of c.refs) if (ref.party !== c.from) return problem('RETRACTION_NOT_OWN', `${ref.party}/${ref.index} is not an entry of ${c.from}'s own log: a party retracts only what it sent`);
  if (c.seq !== undefined && e.index >= c.seq) return problem('RETRACTION_TARGET_MISSING', `${e.party}/${e.index} is not below the retraction itself`);
  if (r !== undefined && (r.index <= e.index || (c.seq !== undefined && r.index >= c.seq))) return problem('RETRACTION_REPLACEMENT_INVALID', `the replacement ${r.party}/${r.index} must come after ${e.party}/${e.index} and before the retraction`);
  const target = await lookup(e.party, e.index);
  if (target === undefined) return mode === 'ingest' ? undefined : problem('RETRACTION_TARGET_MISSING', `no entry ${e.party}/${e.index} is held here`);
  if (formatBase64(target.leafHash) !== e.hash) return problem('RETRACTION_TARGET_MISSING', `${e.party}/${e.index} is held with another leaf hash than the one cited`);
  if (!isRetractable(target.meta.type)) return problem('RETRACTION_NOT_RETRACTABLE', `${e.party}/${e.index} is a ${target.meta.type}: only officer traffic (${RETRACTABLE_TYPES.join(', ')}) is retracted`);
  if (!sameSet(c.to, target.meta.to)) return problem('RETRACTION_RECIPIENTS', `a retraction goes to the withdrawn entry's recipients (${[...target.meta.to].sort().join(', ')}), not ${[...c.to].sort().join(', ') || 'nobody'}`);
  if (markingRank(c.marking) < markingRank(target.meta.marking)) return problem('RETRACTION_MARKING', `${e.party}/${e.index} is ${target.meta.marking}: its retraction must be at least as restrictive, not ${c.marking}`);
  if (mode !== 'apply' && (await withdrawn(e))) return problem('RETRACTION_ALREADY', `${e.party}/${e.index} is already retracted or superseded`);
  if (r === undefined) return undefined;
  const repl = await lookup(r.party, r.index);
  if (repl === undefined) return mode === 'submit' ? problem('RETRACTION_REPLACEMENT_INVALID', `no entry ${r.party}/${r.index} is held here`) : undefined;
  if (formatBase64(repl.leafHash) !== r.hash) return problem('RETRACTION_REPLACEMENT_INVALID', `${r.party}/${r.index} is held with another leaf hash than the one cited`);
  if (repl.meta.type !== target.meta.type) return problem('RETRACTION_REPLACEMENT_INVALID', `the replacement is a ${repl.meta.type}, the withdrawn entry a ${target.meta.type}: a replacement has the same type`);
  if (target.meta.type === 'incident.report' && repl.meta.incident !== target.meta.incident) return problem('RETRACTION_REPLACEMENT_INVALID', `the replacement reports incident ${repl.meta.incident ?? '(unknown)'}, the withdrawn report ${target.meta.incident ?? '(unknown)'}`);
  if (mode !== 'apply' && (await withdrawn(r))) return problem('RETRACTION_REPLACEMENT_INVALID', `the replacement ${r.party}/${r.index} is itself withdrawn`);
  return undefined;
}

/** A retraction entry as held (own or received). */
interface HeldRetraction {
  readonly party: string;
  readonly index: number;
  readonly bytes: Uint8Array;
  readonly meta: EntryMeta;
  readonly received: boolean;
}

const PAGE = 200;
const key = (party: string, index: number) => `${party}/${index}`;

/** Every retraction entry a node holds, by the entry it cites, and the verdicts on them (module doc). */
export class RetractionIndex {
  readonly #node: ParleyNode;
  readonly #store: LogStore;
  /** "party/index" of a cited entry → retractions citing it first, by index. */
  readonly #byTarget = new Map<string, HeldRetraction[]>();
  readonly #seen = new Set<string>();
  /** Final answers (a withdrawal, once it holds, holds for good). */
  readonly #known = new Map<string, Retraction>();
  #ownSize = 0;
  #lastSeq = 0;
  #dirty = true;
  #chain: Promise<void> = Promise.resolve();

  constructor(node: ParleyNode, store: LogStore) {
    this.#node = node;
    this.#store = store;
    // Listeners run before an append or an ingest resolves: a read issued after a write sees its retractions.
    node.onAppend(() => (this.#dirty = true));
    node.onIngest(() => (this.#dirty = true));
  }

  /** Reads retraction entries new in the store (only after an append or ingest). Calls are serialized. */
  refresh(): Promise<void> {
    if (!this.#dirty) return this.#chain;
    const run = this.#chain.then(() => this.#refresh());
    this.#chain = run.catch(() => {});
    return run;
  }

  async #refresh(): Promise<void> {
    if (!this.#dirty) return;
    this.#dirty = false;
    try {
      const size = await this.#store.treeSize();
      for (let before: number | undefined; ; ) {
        const page = await this.#store.outbox({ type: 'retraction', limit: PAGE, ...(before !== undefined ? { before } : {}) });
        const newer = page.filter((e) => e.index >= this.#ownSize);
        for (const e of newer) this.#file({ party: this.#node.party, index: e.index, bytes: e.bytes, meta: e.meta, received: false });
        if (page.length < PAGE || newer.length < page.length) break;
        before = page[page.length - 1]!.index;
      }
      this.#ownSize = size;
      let top = this.#lastSeq;
      for (let before: number | undefined; ; ) {
        const page = await this.#store.inbox({ type: 'retraction', limit: PAGE, ...(before !== undefined ? { before } : {}) });
        const newer = page.filter((r) => r.rowid > this.#lastSeq);
        for (const r of newer) {
          top = Math.max(top, r.rowid);
          this.#file({ party: r.party, index: r.index, bytes: r.bytes, meta: r.meta, received: true });
        }
        if (page.length < PAGE || newer.length < page.length) break;
        before = page[page.length - 1]!.rowid;
      }
      this.#lastSeq = top;
    } catch (e) {
      this.#dirty = true;
      throw e;
    }
  }

  #file(h: HeldRetraction): void {
    const k = key(h.party, h.index);
    if (this.#seen.has(k)) return;
    this.#seen.add(k);
    const e = h.meta.refs[0];
    if (e === undefined) return;
    const list = this.#byTarget.get(key(e.party, e.index)) ?? [];
    list.push(h);
    list.sort((a, b) => a.index - b.index);
    this.#byTarget.set(key(e.party, e.index), list);
  }

  /** The retraction entries citing (party, index) first, valid or not: (party, index) of each. */
  citing(party: string, index: number): EntryPosition[] {
    return (this.#byTarget.get(key(party, index)) ?? []).map((h) => ({ party: h.party, index: h.index }));
  }

  /** Whether (party, index) is withdrawn, from what was read at the last {@link refresh}. */
  async of(party: string, index: number): Promise<Retraction | undefined> {
    const k = key(party, index);
    const known = this.#known.get(k);
    if (known) return known;
    const lookup = metaLookup(this.#store, this.#node.party);
    for (const h of this.#byTarget.get(k) ?? []) {
      if (h.party !== party) continue;
      const r = await this.#judge(h, lookup);
      if (r) {
        this.#known.set(k, r);
        return r;
      }
    }
    return undefined;
  }

  /** The retraction `h` as applied, or undefined when it does not hold (yet). */
  async #judge(h: HeldRetraction, lookup: MetaLookup): Promise<Retraction | undefined> {
    // A retraction this node refused on ingest (signed rejection in our log) is never applied.
    if (h.received && (await this.#store.referencing(h.party, h.index)).some((e: OwnEntry) => e.meta.type === 'receipt' && rejectionInEntry(e.bytes) !== undefined)) return undefined;
    let body: RetractionBody;
    try {
      const entry = parseEntry(h.bytes);
      const opened = this.#node.openSealed(entry);
      if (bodyProblem('retraction', opened)) return undefined;
      body = opened as unknown as RetractionBody;
    } catch {
      return undefined; // a body that does not open withdraws nothing
    }
    const c: RetractionCandidate = { from: h.party, seq: h.index, to: h.meta.to, marking: h.meta.marking, refs: h.meta.refs, body };
    if (await retractionProblem(c, lookup, 'apply', async () => false)) return undefined;
    const r = h.meta.refs[1];
    return {
      by: { party: h.party, index: h.index, time: h.meta.time },
      action: body.action,
      reason: body.reason,
      ...(body.lang !== undefined ? { lang: body.lang } : {}),
      ...(r !== undefined ? { replacement: { party: r.party, index: r.index } } : {}),
      marking: h.meta.marking,
    };
  }
}

const indexes = new WeakMap<ParleyNode, RetractionIndex>();

/** The one retraction index of a node (made on first use). */
export function retractionIndex(node: ParleyNode): RetractionIndex {
  let i = indexes.get(node);
  if (!i) indexes.set(node, (i = new RetractionIndex(node, node.store)));
  return i;
}

/**
 * Whether entry (party, index) is withdrawn on this node: by which retraction
 * (in `party`'s own log), retract or supersede, why, and its replacement.
 * @returns undefined when it is not (or the retraction citing it does not hold: module doc).
 * @example await retractionOf(node, 'US', 7) // {by: {party: 'US', index: 9, time}, action: 'retract', reason: 'sent in error', marking: 'TLP:AMBER'}
 */
export async function retractionOf(node: ParleyNode, party: string, index: number): Promise<Retraction | undefined> {
  const i = retractionIndex(node);
  await i.refresh();
  return i.of(party, index);
}

/** The mark an entry view carries (service.ts EntryView `retracted`): `reason` left out for a role that may not read a sealed retraction. */
export interface RetractedMark {
  readonly by: EntryPosition & { readonly time: string };
  readonly action: RetractionAction;
  readonly reason?: string;
  readonly lang?: string;
  readonly replacement?: EntryPosition;
}

/** {@link Retraction} as `readsSealed` may see it. */
export function retractedMark(r: Retraction, readsSealed: boolean): RetractedMark {
  const open = readsSealed || r.marking === 'TLP:CLEAR';
  return {
    by: r.by,
    action: r.action,
    ...(open ? { reason: r.reason, ...(r.lang !== undefined ? { lang: r.lang } : {}) } : {}),
    ...(r.replacement ? { replacement: r.replacement } : {}),
  };
}

/**
 * Judges the received retractions of one ingest by the rules (mode
 * `ingest`: a target or replacement not held yet is not judged) and files a
 * rejection for each that breaks one (received.ts: the entry is stored as
 * evidence and answered with a signed rejection). A cited entry may come in
 * the same batch.
 */
export async function judgeRetractions(node: ParleyNode, records: readonly ReceivedEntry[]): Promise<void> {
  const list = records.filter((r) => r.meta.type === 'retraction' && openedOf(r) !== undefined && rejectionOf(r) === undefined);
  if (list.length === 0) return;
  const batch = new Map<string, HeldMeta>(records.map((r) => [key(r.party, r.index), { party: r.party, index: r.index, leafHash: r.leafHash, meta: r.meta }]));
  const held = metaLookup(node.store, node.party);
  const lookup: MetaLookup = async (p, i) => batch.get(key(p, i)) ?? (await held(p, i));
  const index = retractionIndex(node);
  await index.refresh();
  for (const r of list) {
    const o = openedOf(r)!;
    const withdrawn = async (at: EntryPosition) => {
      const w = await index.of(at.party, at.index);
      return w !== undefined && !(w.by.party === r.party && w.by.index === r.index);
    };
    const c: RetractionCandidate = { from: o.entry.from.party, seq: o.entry.seq, to: o.entry.to, marking: o.entry.marking, refs: o.entry.refs, body: o.body as unknown as RetractionBody };
    const p = await retractionProblem(c, lookup, 'ingest', withdrawn);
    if (p) withRejection(r, { code: p.code, reason: p.message.slice(0, 500) });
  }
}
