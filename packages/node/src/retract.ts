/**
 * Officers' retractions (issue 13): a request to withdraw an entry of this
 * party's own log — or to supersede it with a later one — becomes a
 * `retraction` entry once the rules of retractions.ts hold (a typed 4xx
 * otherwise, nothing written).
 *
 *     recipients  the withdrawn entry's (always: a retraction reaches whoever got the entry)
 *     precedence  the withdrawn entry's (a FLASH retraction needs the flash role, like the FLASH it withdraws)
 *     marking     the withdrawn entry's unless given; a given one must be at least as restrictive
 *
 * Submissions are serialized per node, so two racing retractions of one
 * entry yield one retraction and one `RETRACTION_ALREADY`.
 */
import { type Marking, type Precedence, type RetractionAction, formatBase64 } from '@parley/core';
import { type EntryPosition, type MetaLookup, metaLookup, retractionIndex, retractionProblem } from './retractions.js';
import type { ParleyNode, Submitted } from './service.js';

export interface RetractRequest {
  /** The entry withdrawn: must be of this party's own log. */
  readonly entry: EntryPosition;
  readonly action: RetractionAction;
  /** `supersede`: the later entry of this party's log that takes its place. */
  readonly replacement?: EntryPosition;
  readonly reason: string;
  readonly lang?: string;
  /** Default: the withdrawn entry's marking. */
  readonly marking?: Marking;
}

const tails = new WeakMap<ParleyNode, Promise<unknown>>();

/**
 * The withdrawn entry's type and precedence, for the caller's role checks
 * (the same rules as sending that type); undefined when it is not held.
 */
export async function retractTarget(node: ParleyNode, at: EntryPosition): Promise<{ type: string; precedence: Precedence } | undefined> {
  const held = await metaLookup(node.store, node.party)(at.party, at.index);
  return held ? { type: held.meta.type, precedence: held.meta.precedence as Precedence } : undefined;
}

/**
 * Writes a retraction of one of our own entries (module doc).
 * @throws ParleyError `RETRACTION_*` (retractions.ts) when a rule fails; nothing is written then.
 */
export function submitRetraction(node: ParleyNode, officer: string, r: RetractRequest): Promise<Submitted> {
  const run = (tails.get(node) ?? Promise.resolve()).then(async () => {
    const lookup: MetaLookup = metaLookup(node.store, node.party);
    const index = retractionIndex(node);
    await index.refresh();
    const target = await lookup(r.entry.party, r.entry.index);
    const repl = r.replacement ? await lookup(r.replacement.party, r.replacement.index) : undefined;
    // Refs carry the leaf hashes as held; a position not held gets an empty hash and fails the rules below.
    const refOf = (at: EntryPosition, h: typeof target) => ({ party: at.party, index: at.index, hash: h ? formatBase64(h.leafHash) : '' });
    const refs = [refOf(r.entry, target), ...(r.replacement ? [refOf(r.replacement, repl)] : [])];
    const marking = r.marking ?? ((target?.meta.marking ?? 'TLP:CLEAR') as Marking);
    const to = target ? [...target.meta.to] : [];
    const body = { action: r.action, reason: r.reason, ...(r.lang !== undefined ? { lang: r.lang } : {}) };
    const p = await retractionProblem({ from: node.party, to, marking, refs, body }, lookup, 'submit', async (at) => (await index.of(at.party, at.index)) !== undefined);
    if (p) throw p;
    return node.submit(officer, { type: 'retraction', to, precedence: (target!.meta.precedence as Precedence) ?? 'ROUTINE', marking, refs, body });
  });
  tails.set(node, run.catch(() => undefined));
  return run;
}
