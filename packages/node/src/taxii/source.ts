/**
 * What the TAXII server serves: the STIX 2.1 objects of every incident this
 * node holds, as the caller's role may read it, with every version each
 * object has had and the time THIS node added that version (TAXII's
 * `date_added`), and the collection it belongs to.
 *
 * Versions: an incident's objects are made by core's STIX export
 * (`incidentObjectSources`) from the entries held about it, gathered as the
 * STIX export endpoint gathers them (stix.ts `incidentStixInput`: reports,
 * acks, links and retractions the role may read). Replaying the
 * entries in the order this node added them — its own at their log time,
 * received ones at its receipt's time (those of one delivery in their log
 * order) — and exporting after each gives every version an object has had;
 * a version is added when the entry that made it arrived here. So a client polling with `added_after` never misses an entry
 * that travelled slowly: its date added is its arrival, not its writing.
 *
 * Collections: one per (party, TLP marking). An object attributed to a party
 * (`created_by_ref`) belongs to that party's collection of its marking.
 * Unattributed objects (marking definitions, ATLAS attack-patterns, the AI
 * system, party identities) are shared: each is put in every collection that
 * holds an attributed object of the same incident and whose marking is at
 * least as restrictive as its own — so each collection is self-contained,
 * and nothing ever lands in a less restrictive collection than its marking.
 */
import { MARKINGS, type Marking, ParleyError } from '@parley/core';
import { type StixEntrySource, type StixIncidentInput, type StixObject, incidentObjectSources, parleyStixId, uuidv5 } from '@parley/core/stix';
import type { Role } from '@parley/store';
import { linkIndex } from '../held.js';
import { incidentIndex } from '../incidents.js';
import type { ParleyNode } from '../service.js';
import { incidentStixInput } from '../stix.js';
import type { Context } from '../http/context.js';
import type { StixLike, TaxiiVersion } from './query.js';

/** A (party, marking) collection. */
export interface TaxiiCollection {
  readonly id: string;
  readonly party: string;
  readonly marking: Marking;
  readonly title: string;
  readonly alias: string;
  readonly description: string;
}

/** A version as the server holds it: with its collection's id. */
export interface HeldVersion extends TaxiiVersion {
  readonly collection: string;
}

/** The namespace of collection ids (UUIDv5 of `<accord name>/<party>/<marking>`): a fixed random UUID. */
const COLLECTION_NAMESPACE = 'c1b0a6e2-5f7d-4b8e-9a31-7d2f0e6c4a59';

/** How restrictive a marking is: CLEAR 0 … RED 4 (TLP 2.0 order). */
const RANK: Readonly<Record<Marking, number>> = Object.fromEntries(MARKINGS.map((m, i) => [m, i])) as Record<Marking, number>;

/** Every collection of the accord in force: its parties × the five TLP markings. */
export function taxiiCollections(node: ParleyNode): TaxiiCollection[] {
  const name = node.accord.accord.name;
  const out: TaxiiCollection[] = [];
  for (const p of node.accord.accord.parties) {
    for (const m of MARKINGS) {
      out.push({
        id: uuidv5(`${name}/${p.id}/${m}`, COLLECTION_NAMESPACE),
        party: p.id,
        marking: m,
        title: `${p.id} — ${m}`,
        alias: `${p.id.toLowerCase()}-${m.slice(4).toLowerCase().replace('+', '-')}`,
        description: `STIX 2.1 objects of the incidents ${p.id} reported and assessed at ${m}, as ${node.party}'s node holds them`,
      });
    }
  }
  return out;
}

/** When this node added entry (party, index): its own at its log time, a received one when it was stored here. */
async function addedAt(ctx: Context, e: StixEntrySource): Promise<number> {
  if (e.party === ctx.node.party) return Date.parse(e.time);
  const rec = await ctx.store.received(e.party, e.index);
  return Date.parse(rec?.receivedAt ?? e.time);
}

/** The part of `input` made of the entries in `keep` (keys `party/index`): the incident as it stood when they had arrived. */
function prefix(input: StixIncidentInput, keep: ReadonlySet<string>): StixIncidentInput {
  const has = (e: StixEntrySource) => keep.has(`${e.party}/${e.index}`);
  return { incident: input.incident, reports: input.reports.filter(has), acks: (input.acks ?? []).filter(has), retractions: (input.retractions ?? []).filter(has), links: (input.links ?? []).filter(has), ...(input.origins ? { origins: input.origins } : {}) };
}

/** Per node: what {@link taxiiVersions} made for each role, until the next append or ingest. */
const made = new WeakMap<ParleyNode, Map<Role, Promise<readonly HeldVersion[]>>>();

/**
 * Every version of every object of every incident `role` may read, with its
 * collection, oldest first. Incidents with no report readable by `role`
 * contribute nothing.
 *
 * Made from every entry held, so kept per (node, role) until the node
 * appends or ingests (the only ways what is held, opened or withdrawn
 * changes — a follower's node hears the sequencer's through the same
 * listeners): a client paging through a collection does not make the whole
 * of it again for every page.
 */
export function taxiiVersions(ctx: Context, role: Role): Promise<readonly HeldVersion[]> {
  let byRole = made.get(ctx.node);
  if (byRole === undefined) {
    const m = new Map<Role, Promise<readonly HeldVersion[]>>();
    ctx.node.onAppend(() => m.clear());
    ctx.node.onIngest(() => m.clear());
    made.set(ctx.node, (byRole = m));
  }
  const had = byRole.get(role);
  if (had !== undefined) return had;
  const run = makeVersions(ctx, role);
  byRole.set(role, run);
  const m = byRole;
  run.catch(() => {
    if (m.get(role) === run) m.delete(role);
  });
  return run;
}

async function makeVersions(ctx: Context, role: Role): Promise<HeldVersion[]> {
  const { node, store } = ctx;
  const index = incidentIndex(node, store);
  await index.refresh();
  const collections = taxiiCollections(node);
  const collectionOf = new Map(collections.map((c) => [`${c.party}|${c.marking}`, c.id]));
  const partyOfIdentity = new Map(node.accord.accord.parties.map((p) => [parleyStixId('identity', `party/${p.id}`), p.id]));
  // (collection, id, version) → the version, kept at its earliest date added (shared objects recur across incidents).
  const out = new Map<string, HeldVersion>();
  // The index refreshed and every link read once for all incidents, not per incident.
  const gathered = { links: await linkIndex(store, node.party) };
  for (const summary of index.list(role)) {
    let whole: StixIncidentInput | undefined;
    try {
      whole = await incidentStixInput(node, store, summary.incident, role, gathered);
    } catch (e) {
      // An incident none of whose reports this role can read is simply not in its collections.
      if (e instanceof ParleyError && e.code === 'STIX_SEALED') continue;
      throw e;
    }
    if (!whole) continue;
    const entries: { e: StixEntrySource; at: number }[] = [];
    for (const e of [...whole.reports, ...(whole.acks ?? []), ...(whole.retractions ?? []), ...(whole.links ?? [])]) entries.push({ e, at: await addedAt(ctx, e) });
    // Arrival order; entries that arrived together (one delivery) in their own order, so each still makes its version.
    entries.sort((a, b) => a.at - b.at || Date.parse(a.e.time) - Date.parse(b.e.time) || (a.e.party < b.e.party ? -1 : a.e.party > b.e.party ? 1 : a.e.index - b.e.index));
    const origin = summary.incident.slice(0, summary.incident.indexOf(':'));
    const keep = new Set<string>();
    for (const { e, at } of entries) {
      keep.add(`${e.party}/${e.index}`);
      const inp = prefix(whole, keep);
      if (inp.reports.length === 0) continue;
      const sources = incidentObjectSources(inp);
      const attributed = new Set<string>();
      const placed: { object: StixObject; collection: string }[] = [];
      const shared: { object: StixObject; marking: Marking }[] = [];
      for (const s of sources) {
        const by = typeof s.object['created_by_ref'] === 'string' ? partyOfIdentity.get(s.object['created_by_ref']) : undefined;
        if (by === undefined) shared.push({ object: s.object, marking: s.marking });
        else {
          const c = collectionOf.get(`${by}|${s.marking}`);
          if (c) {
            placed.push({ object: s.object, collection: c });
            attributed.add(`${by}|${s.marking}`);
          }
        }
      }
      for (const s of shared) {
        const targets = [...attributed].filter((key) => RANK[key.slice(key.indexOf('|') + 1) as Marking] >= RANK[s.marking]);
        if (targets.length === 0) targets.push(`${origin}|${s.marking}`);
        for (const t of targets) {
          const c = collectionOf.get(t);
          if (c) placed.push({ object: s.object, collection: c });
        }
      }
      for (const p of placed) {
        const o = p.object as unknown as StixLike;
        const key = `${p.collection}|${o.id}|${o.modified ?? o.created ?? ''}`;
        const had = out.get(key);
        if (!had || had.dateAdded > at) out.set(key, { object: o, dateAdded: at, collection: p.collection });
      }
    }
  }
  return [...out.values()];
}
