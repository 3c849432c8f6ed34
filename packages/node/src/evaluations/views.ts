/**
 * The evaluations index (issue 12, EVAL.md §10): each commitment this node
 * holds, with its protocol, the deployment notices and the reveals that refer
 * to it, each reveal opened when it is addressed to us (and the viewer's role
 * may read sealed bodies), and the timeline "committed before deployment".
 *
 * Where the referring entries are found:
 *   the committing party's log after the commitment   own log, or received ∪ mirrored
 *                                                     (a reveal not addressed to us is mirrored:
 *                                                     shown with addressed: false, no claims)
 *   other parties' logs                               our own log, and received notices
 *
 * Nothing here is trusted from the entries' own claims but the order of a
 * log: every reveal addressed to us is opened and checked against the
 * commitment again (core openDisclosures), and a notice or reveal whose
 * references break a rule (refs.ts) carries its error code.
 */
import { type JsonObject, type JsonValue, type Localized, type SignedEntry, ParleyError, evaluationTimeline, formatBase64, openDisclosures, parseEntry } from '@parley/core';
import type { ReceivedListing, Role } from '@parley/store';
import type { ParleyNode } from '../service.js';
import { rejectionInEntry } from '../received.js';
import { COMMITMENT, type CommitmentBody, type HeldEntry, NOTICE, type NoticeBody, REVEAL, type RevealBody, evaluationProblem, lookupWith, refersTo, storeLookup } from './refs.js';
import { evaluationProvenBy } from './times.js';
import { retractionOf } from '../retractions.js';

/** An evaluation entry its sender withdrew (issue 13; the reason is in the entry's own view, GET /v1/entries/…). */
export interface WithdrawnMark {
  readonly by: { readonly party: string; readonly index: number; readonly time: string };
  readonly action: 'retract' | 'supersede';
  readonly replacement?: { readonly party: string; readonly index: number };
}

/** Roles that may read sealed bodies addressed to this party (as ParleyNode.read). */
const READS_SEALED: readonly Role[] = ['officer', 'admin'];

export interface RevealView {
  readonly party: string;
  readonly index: number;
  readonly time: string;
  readonly to: readonly string[];
  readonly marking: string;
  /** TLP:CLEAR, or sealed to this party (or sent by it). */
  readonly addressed: boolean;
  readonly claims?: JsonObject;
  readonly revealed?: readonly { path: string; value: JsonValue; digest: string }[];
  /** Why it did not open against the commitment (a stable error code), or why it is not shown (EVAL_NOT_ADDRESSED for a role that may not read sealed bodies). */
  readonly error?: string;
  readonly retracted?: WithdrawnMark;
}

export interface NoticeView {
  readonly party: string;
  readonly index: number;
  readonly time: string;
  readonly model: { readonly id: string; readonly digest: string };
  readonly deployedAt: string;
  readonly note?: string;
  readonly error?: string;
  /** Withdrawn: does not count for the timeline. */
  readonly retracted?: WithdrawnMark;
}

export interface EvaluationView {
  readonly commitment: {
    readonly party: string;
    readonly index: number;
    readonly leafHash: string;
    readonly time: string;
    readonly stage: string;
    readonly domains: readonly string[];
    readonly sdCount: number;
    readonly provenBy?: string;
    readonly provenHow?: 'cosignature' | 'timestamp';
    readonly retracted?: WithdrawnMark;
  };
  readonly protocol?: { readonly party: string; readonly index: number; readonly time: string; readonly provenBy?: string };
  readonly notices: readonly NoticeView[];
  readonly reveals: readonly RevealView[];
  readonly timeline?: { readonly committedBefore: boolean; readonly marginSeconds?: number; readonly days: number; readonly deployedAt: string; readonly statement: Localized };
}

/** A reveal as held here, opened when it can be: what the views, the evidence and DSSE use. */
export interface OpenedReveal {
  readonly held: HeldEntry;
  readonly addressed: boolean;
  readonly body?: RevealBody;
  readonly claims?: JsonObject;
  readonly revealed?: readonly { path: string; name: string; value: JsonValue; digest: string }[];
  readonly error?: string;
}

/** Everything this node holds about one commitment. */
export interface Evaluation {
  readonly commitment: HeldEntry;
  readonly body: CommitmentBody;
  readonly protocol?: HeldEntry;
  readonly notices: readonly { readonly held: HeldEntry; readonly body: NoticeBody; readonly error?: string }[];
  readonly reveals: readonly OpenedReveal[];
}

const REFERRING = new TextEncoder().encode('"refs":[{');

/** Cheap pre-filter: canonical entry bytes with a non-empty refs array. */
function mayRefer(bytes: Uint8Array): boolean {
  outer: for (let i = 0; i + REFERRING.length <= bytes.length; i++) {
    for (let j = 0; j < REFERRING.length; j++) if (bytes[i + j] !== REFERRING[j]) continue outer;
    return true;
  }
  return false;
}

/** The body of `e` as this node can read it: clear, or opened for us; undefined when sealed and not ours. */
function readable(node: ParleyNode, e: SignedEntry): JsonValue | undefined {
  if ('clear' in e.body) return e.body.clear;
  if (!e.body.sealed.recipients.some((r) => r.party === node.party)) return undefined;
  return node.openSealed(e);
}

export class EvaluationIndex {
  readonly #node: ParleyNode;

  constructor(node: ParleyNode) {
    this.#node = node;
  }

  /** The received notices and reveals (read once per {@link list}, not once per commitment). */
  async #receivedReferring(): Promise<ReceivedListing[]> {
    const out: ReceivedListing[] = [];
    for (const type of [NOTICE, REVEAL]) out.push(...(await this.#node.store.inbox({ type, limit: 1000 })));
    return out;
  }

  /** Entries that may refer to (party, index): the committing party's log after it, our log, received notices and reveals. */
  async #candidates(party: string, index: number, received: readonly ReceivedListing[]): Promise<HeldEntry[]> {
    const node = this.#node;
    const store = node.store;
    const out = new Map<string, HeldEntry>();
    const add = (p: string, i: number, leafHash: Uint8Array, bytes: Uint8Array) => {
      if (!mayRefer(bytes)) return;
      try {
        const entry = parseEntry(bytes);
        if (entry.type === NOTICE || entry.type === REVEAL) out.set(`${p}/${i}`, { party: p, index: i, leafHash, bytes, entry });
      } catch {
        // damaged bytes refer to nothing
      }
    };
    if (party === node.party) {
      for (const e of await store.referencing(party, index)) add(party, e.index, e.leafHash, e.bytes);
    } else {
      const end = Math.max((await node.witness.latest(party))?.treeSize ?? 0, (await store.highestReceived(party)) + 1);
      for (let from = index + 1; from < end; ) {
        const page = await store.mirrored(party, from, Math.min(end, from + 256));
        if (page.length === 0) break;
        for (const e of page) add(party, e.index, e.leafHash, e.bytes);
        from = page[page.length - 1]!.index + 1;
      }
      for (const e of await store.referencing(party, index)) add(node.party, e.index, e.leafHash, e.bytes);
    }
    for (const r of received) if (r.meta.refs.some((x) => x.party === party && x.index === index)) add(r.party, r.index, r.leafHash, r.bytes);
    return [...out.values()];
  }

  /**
   * Everything held about the commitment (party, index); undefined when no commitment is held there.
   * @param received the received notices and reveals, when the caller read them already (list)
   */
  async evaluation(party: string, index: number, role: Role, received?: readonly ReceivedListing[]): Promise<Evaluation | undefined> {
    const node = this.#node;
    const held = storeLookup(node.store, node.party);
    const commitment = await held(party, index);
    if (commitment === undefined || commitment.entry.type !== COMMITMENT || !('clear' in commitment.entry.body)) return undefined;
    const body = commitment.entry.body.clear as unknown as CommitmentBody;
    const lookup = lookupWith(held, commitment); // the notices' rule checks look the commitment up again
    const pref = commitment.entry.refs[0];
    const protocol = pref ? await lookup(pref.party, pref.index) : undefined;
    const notices: { held: HeldEntry; body: NoticeBody; error?: string }[] = [];
    const reveals: OpenedReveal[] = [];
    for (const h of await this.#candidates(party, index, received ?? (await this.#receivedReferring()))) {
      const e = h.entry;
      if (e.refs.length !== 1 || !refersTo(e.refs[0]!, commitment)) continue;
      const rejected = await this.#rejection(h);
      if (e.type === NOTICE) {
        let nb: NoticeBody | undefined;
        try {
          nb = readable(node, e) as unknown as NoticeBody | undefined;
        } catch {
          nb = undefined; // sealed to us but does not open: its ingest refused it already
        }
        if (nb === undefined) continue;
        const p = await evaluationProblem({ type: NOTICE, from: e.from.party, seq: e.seq, refs: e.refs, body: nb as unknown as JsonValue }, lookup, 'ingest');
        const error = p?.code ?? rejected;
        notices.push({ held: h, body: nb, ...(error ? { error } : {}) });
      } else reveals.push(this.#openReveal(h, body, role, rejected));
    }
    notices.sort((a, b) => a.held.entry.time.localeCompare(b.held.entry.time));
    reveals.sort((a, b) => a.held.entry.time.localeCompare(b.held.entry.time));
    return { commitment, body, ...(protocol && protocol.entry.type === COMMITMENT ? { protocol } : {}), notices, reveals };
  }

  /** The rejection code our own log holds for a received entry, if any. */
  async #rejection(h: HeldEntry): Promise<string | undefined> {
    if (h.party === this.#node.party) return undefined;
    for (const r of await this.#node.store.referencing(h.party, h.index)) {
      if (r.meta.type !== 'receipt') continue;
      const rej = rejectionInEntry(r.bytes);
      if (rej) return rej.code;
    }
    return undefined;
  }

  #openReveal(h: HeldEntry, commitment: CommitmentBody, role: Role, rejected: string | undefined): OpenedReveal {
    const e = h.entry;
    const clear = 'clear' in e.body;
    const addressed = clear || e.from.party === this.#node.party || e.to.includes(this.#node.party);
    if (!addressed) return { held: h, addressed };
    if (!clear && !READS_SEALED.includes(role)) return { held: h, addressed, error: 'EVAL_NOT_ADDRESSED' };
    if (e.from.party !== h.party || e.refs[0]?.party !== e.from.party) return { held: h, addressed, error: 'EVAL_COMMITMENT_MISSING' };
    let body: RevealBody | undefined;
    try {
      body = readable(this.#node, e) as unknown as RevealBody | undefined;
      if (body === undefined) return { held: h, addressed, error: 'EVAL_NOT_ADDRESSED' };
      const o = openDisclosures(commitment.sd, body.disclosures);
      return { held: h, addressed, body, claims: o.claims, revealed: o.revealed, ...(rejected ? { error: rejected } : {}) };
    } catch (err) {
      if (!(err instanceof ParleyError)) throw err;
      return { held: h, addressed, ...(body ? { body } : {}), error: err.code };
    }
  }

  /** The view of §10 of an evaluation. */
  async view(ev: Evaluation): Promise<EvaluationView> {
    const node = this.#node;
    const c = ev.commitment;
    const proven = await evaluationProvenBy(node, c.party, c.index);
    const protocolProven = ev.protocol ? await evaluationProvenBy(node, ev.protocol.party, ev.protocol.index) : undefined;
    // Issue 13: what the sender withdrew is marked; a withdrawn notice does not count for the timeline.
    const mark = async (h: HeldEntry): Promise<{ retracted?: WithdrawnMark }> => {
      const r = await retractionOf(node, h.party, h.index);
      return r ? { retracted: { by: r.by, action: r.action, ...(r.replacement ? { replacement: r.replacement } : {}) } } : {};
    };
    const marks = new Map<HeldEntry, { retracted?: WithdrawnMark }>();
    for (const h of [c, ...ev.notices.map((n) => n.held), ...ev.reveals.map((r) => r.held)]) marks.set(h, await mark(h));
    const valid = ev.notices.filter((n) => n.error === undefined && marks.get(n.held)?.retracted === undefined);
    const first = valid.reduce<(typeof valid)[number] | undefined>((a, n) => (a === undefined || Date.parse(n.body.deployedAt) < Date.parse(a.body.deployedAt) ? n : a), undefined);
    return {
      commitment: {
        party: c.party,
        index: c.index,
        leafHash: formatBase64(c.leafHash),
        time: c.entry.time,
        stage: ev.body.stage,
        domains: ev.body.domains,
        sdCount: ev.body.sd.length,
        ...(proven ? { provenBy: proven.time, provenHow: proven.how } : {}),
        ...marks.get(c),
      },
      ...(ev.protocol ? { protocol: { party: ev.protocol.party, index: ev.protocol.index, time: ev.protocol.entry.time, ...(protocolProven ? { provenBy: protocolProven.time } : {}) } } : {}),
      notices: ev.notices.map((n) => ({
        party: n.held.party,
        index: n.held.index,
        time: n.held.entry.time,
        model: n.body.model,
        deployedAt: n.body.deployedAt,
        ...(n.body.note !== undefined ? { note: n.body.note } : {}),
        ...(n.error ? { error: n.error } : {}),
        ...marks.get(n.held),
      })),
      reveals: ev.reveals.map((r) => ({
        party: r.held.party,
        index: r.held.index,
        time: r.held.entry.time,
        to: r.held.entry.to,
        marking: r.held.entry.marking,
        addressed: r.addressed,
        ...(r.claims ? { claims: r.claims } : {}),
        ...(r.revealed ? { revealed: r.revealed.map((x) => ({ path: x.path, value: x.value, digest: x.digest })) } : {}),
        ...(r.error ? { error: r.error } : {}),
        ...marks.get(r.held),
      })),
      ...(first ? { timeline: timelineOf(c, proven?.time, first) } : {}),
    };
  }

  /** Every commitment held here (own and received), newest first. */
  async list(role: Role, limit = 200): Promise<EvaluationView[]> {
    const store = this.#node.store;
    const own = await store.outbox({ type: COMMITMENT, limit });
    const received = await store.inbox({ type: COMMITMENT, limit });
    const all = [...own.map((e) => ({ party: this.#node.party, index: e.index, time: e.meta.time })), ...received.map((e) => ({ party: e.party, index: e.index, time: e.meta.time }))];
    all.sort((a, b) => b.time.localeCompare(a.time));
    const referring = await this.#receivedReferring();
    const out: EvaluationView[] = [];
    for (const c of all.slice(0, limit)) {
      const ev = await this.evaluation(c.party, c.index, role, referring);
      if (ev) out.push(await this.view(ev));
    }
    return out;
  }
}

/** The timeline of §4 (core evaluationTimeline): committedBefore iff provenBy < deployedAt. */
function timelineOf(c: HeldEntry, provenBy: string | undefined, notice: { held: HeldEntry; body: NoticeBody }): NonNullable<EvaluationView['timeline']> {
  const t = evaluationTimeline({ commitment: { entry: c.entry, ...(provenBy ? { provenBy: new Date(provenBy) } : {}) }, notice: { entry: notice.held.entry, body: notice.body } });
  return { committedBefore: t.committedBefore, ...(t.marginSeconds !== undefined ? { marginSeconds: t.marginSeconds } : {}), days: t.days, deployedAt: t.deployedAt, statement: t.statement };
}
