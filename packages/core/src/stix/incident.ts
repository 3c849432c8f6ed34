/**
 * One incident → STIX 2.1 objects (OASIS STIX 2.1 CS03; Incident Core
 * extension 1.1.0, extension-definition--ef765651-…).
 *
 * What becomes what (I13 semantics; docs/interop.md "STIX 2.1 export"):
 *
 *     reporting party's reports  → one `incident`, versioned: created = its first report, modified = its
 *                                  latest (or the retraction that changed it); Incident Core extension:
 *                                  severity 0–7 → criticality round(100·s/7); category → incident_types
 *                                  (taxonomy/atlas-map.json); state → investigation_status (initial only
 *                                  "new", updated "open", final/retraction "closed"); stage → determination
 *                                  (incident "successful-attempt", near-miss "failed-attempt", hazard or
 *                                  potential "suspected", a retraction report "false-positive")
 *     every party                → `identity` (organization, name = party id)
 *     system                     → `software` SCO (STIX §6.14 id: UUIDv5 of {name, vendor, version});
 *                                  system.developer → `identity` (organization); both related-to the incident
 *     techniques                 → ATLAS's own `attack-pattern` (ATLAS id, name, tactics, dates) + `uses`;
 *                                  a report naming none gets its category's techniques (atlas-map.json)
 *     cves                       → `vulnerability` (external_references source "cve") + related-to
 *     mitigations                → `course-of-action` + `mitigates` → the incident
 *     another party's report     → its counter-assessment: `note` (title, summary) + `opinion` (agree: same
 *                                  category and severity as the reporter's version at that time; neutral:
 *                                  same category; else disagree)
 *     ack                        → `note` (the reply, or "Acknowledged.")
 *     incident.link              → `relationship` related-to the other incident (description: relation, note)
 *     retraction of entry E      → every object only E produced: `revoked: true`, modified = the retraction's
 *                                  time (a supersede's replacement is an ordinary later entry). Revocation
 *                                  is final (STIX 2.1 §3.6): an object is revoked at the first retraction
 *                                  that leaves none of its entries so far live, and later entries do not
 *                                  change it; a reporter's retraction report revokes the incident
 *
 * Every object made from entries carries the marking of the entry that made
 * it (object_marking_refs, TLP 2.0 official ids) and external_references to
 * those entries no more restrictive than that marking (an object never says
 * what a more restrictive entry said; the incident likewise cites only the
 * reports no more restrictive than its current version, and an opinion
 * compares with such a version only): `{source_name: "parley", external_id: "US/12", hashes:
 * {"SHA-256": leaf hash}}` — created by the first of them, modified by the
 * latest, so each entry that adds a reference makes a new version and one
 * (id, modified) never carries two contents. Public reference objects (parties' identities,
 * ATLAS attack-patterns, CVE vulnerabilities) are TLP:CLEAR with constant
 * content, so the same id never carries two contents; whether an incident
 * involves them is told by relationships marked like their entries.
 *
 * Ids are UUIDv5 (uuid.ts): `<type>--uuidv5("<type>/<key>", PARLEY_NAMESPACE_UUID)`
 * with key = the incident id (incident), `party/<P>` (party identity),
 * `developer/<incident>/<name>`, `<incident>/<text>` (course-of-action), the
 * entry "P/i" (note, opinion), the CVE id (vulnerability),
 * `<source>|<type>|<target>` or `link/<P/i>/<incident>` (relationship); what
 * several parties name (course-of-action, developer, `uses`/`related-to`) is one
 * object per party, another party's key prefixed `by:<party>|` — so the same
 * entries always give the same objects, byte for byte, and an object's creator
 * never changes with the order in which the parties' entries arrive.
 */
import { fail } from '../errors.js';
import { INCIDENT_ID, type IncidentSource } from '../entry/bodies.js';
import type { Marking, Stage } from '../taxonomy/types.js';
import { MARKINGS } from '../taxonomy/types.js';
import { CATEGORY_ATLAS, atlasAttackPatternId, atlasTactic, atlasTechnique, atlasTechniqueUrl } from './atlas.js';
import { TLP2_MARKING_IDS, tlpObjects } from './tlp.js';
import type { StixEntryKey, StixEntrySource, StixIncidentInput, StixObject, StixObjectSource, StixReportInput, StixRetractionInput } from './types.js';
import { parleyStixId, uuidv5 } from './uuid.js';
import { stixBundle } from './bundle.js';
import type { StixBundle } from './types.js';

/** The Incident Core extension definition's id. */
export const INCIDENT_CORE_EXTENSION_ID = 'extension-definition--ef765651-680c-498d-9894-99799f2fa126';
/** created = modified of the constant public objects (party identities, vulnerabilities). */
export const PARLEY_STIX_EPOCH = '2025-01-01T00:00:00.000Z';
/** STIX 2.1 §2.9 namespace of SCO ids. */
const SCO_NAMESPACE = '00abedb4-aa42-466c-9c01-fed23315a9b7';
const HEX64 = /^[0-9a-f]{64}$/;
const DETERMINATION: Readonly<Record<Stage, string>> = { incident: 'successful-attempt', 'near-miss': 'failed-attempt', hazard: 'suspected' };

/** STIX timestamps are milliseconds (STIX 2.1 §3.2, core.json `timestamp_millis`). */
const ts = (t: string): string => new Date(Date.parse(t)).toISOString();
const keyOf = (e: StixEntryKey): string => `${e.party}/${e.index}`;
const byTime = (a: StixEntrySource, b: StixEntrySource) => Date.parse(a.time) - Date.parse(b.time) || (a.party < b.party ? -1 : a.party > b.party ? 1 : a.index - b.index);
const partyIdentity = (party: string) => parleyStixId('identity', `party/${party}`);
const markingRefs = (m: Marking) => [TLP2_MARKING_IDS[m]];
/** How restrictive a marking is: CLEAR 0 … RED 4 (TLP 2.0 order). */
const rank = (m: Marking) => MARKINGS.indexOf(m);
/**
 * The entries an object made from `sources` (time order) may cite: the first's marking is the object's, and
 * no entry more restrictive than it — else an object marked, say, TLP:AMBER would say what a TLP:RED entry said.
 */
const citable = (sources: readonly StixEntrySource[]) => sources.filter((s) => rank(s.marking) <= rank(sources[0]!.marking));
/** The reference to the entry a consumer verifies: party/index, its leaf hash, and (when known) its log's origin. */
const entryRef = (e: StixEntrySource, what: string, origins: Readonly<Record<string, string>> | undefined) => {
  const origin = origins?.[e.party];
  return { source_name: 'parley', external_id: keyOf(e), description: origin !== undefined ? `${what}; entry ${e.index} of the log ${origin}` : what, hashes: { 'SHA-256': e.leafHash } };
};

function checkInput(input: StixIncidentInput): void {
  if (!INCIDENT_ID.test(input.incident)) fail('STIX_INPUT_INVALID', `not an incident id: ${input.incident}`);
  if (input.reports.length === 0) fail('STIX_INPUT_INVALID', `no readable report of ${input.incident}`);
  const all: StixEntrySource[] = [...input.reports, ...(input.acks ?? []), ...(input.retractions ?? []), ...(input.links ?? [])];
  for (const e of all) {
    if (!HEX64.test(e.leafHash)) fail('STIX_INPUT_INVALID', `${keyOf(e)}: leafHash is not 64 lowercase hex digits`);
    if (Number.isNaN(Date.parse(e.time))) fail('STIX_INPUT_INVALID', `${keyOf(e)}: time is not RFC 3339`);
    if (!MARKINGS.includes(e.marking)) fail('STIX_INPUT_INVALID', `${keyOf(e)}: unknown marking ${String(e.marking)}`);
  }
  for (const r of input.reports) if (r.body.incident !== input.incident) fail('STIX_INPUT_INVALID', `${keyOf(r)} reports ${r.body.incident}, not ${input.incident}`);
  for (const [party, origin] of Object.entries(input.origins ?? {})) if (typeof origin !== 'string' || origin.length === 0 || origin.length > 400 || /[\s\u0000-\u001f]/.test(origin)) fail('STIX_INPUT_INVALID', `origins.${party}: not a log origin`);
}

/** Collects, per object key, the entries that produced it (first one decides created, marking and author). */
class Sources {
  readonly #map = new Map<string, StixEntrySource[]>();
  add(key: string, e: StixEntrySource): void {
    const list = this.#map.get(key) ?? [];
    if (!list.includes(e)) list.push(e);
    this.#map.set(key, list);
  }
  entries(): [string, StixEntrySource[]][] {
    return [...this.#map.entries()].map(([k, v]) => [k, [...v].sort(byTime)]);
  }
}

/**
 * The STIX 2.1 objects of one incident, each with the time of the entry that
 * made its version and its marking (a TAXII server's `date_added` and
 * collection). The TLP 2.0 extension definition and marking definitions come
 * first; then objects sorted by type and id.
 * @throws STIX_INPUT_INVALID for input that is not one incident's entries.
 */
export function incidentObjectSources(input: StixIncidentInput): StixObjectSource[] {
  checkInput(input);
  const incident = input.incident;
  const incidentId = parleyStixId('incident', incident);
  const origin = incident.slice(0, incident.indexOf(':'));
  const reports = [...input.reports].sort(byTime);
  const earliest = ts(reports[0]!.time);

  // Retractions count only for an entry of the retraction sender's own log.
  const retracted = new Map<string, StixRetractionInput>();
  for (const r of [...(input.retractions ?? [])].sort(byTime)) if (r.target.party === r.party && !retracted.has(keyOf(r.target))) retracted.set(keyOf(r.target), r);
  const isLive = (e: StixEntrySource) => !retracted.has(keyOf(e));
  const revocation = (sources: readonly StixEntrySource[]) => firstRevocation(sources, retracted);

  const out: StixObjectSource[] = tlpObjects().map((object) => ({ object, time: earliest, marking: 'TLP:CLEAR' as Marking }));
  const parties = new Set<string>();
  const push = (object: StixObject, time: string, marking: Marking) => out.push({ object, time: ts(time), marking });

  /** Common properties of an SDO/SRO made from `sources` (first = earliest decides author, created and marking; the latest, modified). */
  const made = (all: readonly StixEntrySource[], what: string) => {
    let sources = citable(all);
    const gone = revocation(sources);
    // A revoked object is final (STIX 2.1 §3.6): entries after its revocation do not change it.
    if (gone) sources = sources.filter((x) => Date.parse(x.time) <= Date.parse(gone.time));
    const first = sources[0]!;
    // Each entry that names the object adds its reference: a new content, so a new version (STIX 2.1 §3.6),
    // made by the latest of them — else one (id, modified) would carry two contents as entries arrive.
    const latest = gone ? gone.time : sources.at(-1)!.time;
    parties.add(first.party);
    return {
      props: {
        spec_version: '2.1',
        created_by_ref: partyIdentity(first.party),
        created: ts(first.time),
        modified: ts(latest),
        ...(gone ? { revoked: true } : {}),
        external_references: sources.map((s) => entryRef(s, what, input.origins)),
        object_marking_refs: markingRefs(first.marking),
      },
      time: latest,
      marking: first.marking,
    };
  };
  const relate = (type: string, source: string, target: string, sources: readonly StixEntrySource[], description?: string, key?: string) => {
    const m = made(sources, 'incident.report');
    push({ type: 'relationship', id: parleyStixId('relationship', key ?? `${source}|${type}|${target}`), ...m.props, relationship_type: type, source_ref: source, target_ref: target, ...(description !== undefined ? { description } : {}) }, m.time, m.marking);
  };

  // The incident: versions from the reporting party's reports.
  // Revoked (final) at the first moment every report of the reporting party seen so far is withdrawn, or at
  // its retraction report (kind "retraction": the reporter withdraws the whole incident); later reports are ignored.
  const allOwn = reports.filter((r) => r.party === origin);
  const revokedAt = [firstRevocation(allOwn, retracted)?.time, allOwn.find((r) => r.body.kind === 'retraction' && isLive(r))?.time]
    .filter((t): t is string => t !== undefined)
    .sort((a, b) => Date.parse(a) - Date.parse(b))[0];
  const own = revokedAt === undefined ? allOwn : allOwn.filter((r) => Date.parse(r.time) <= Date.parse(revokedAt));
  const at = revokedAt === undefined ? retracted : new Map([...retracted].filter(([, r]) => Date.parse(r.time) <= Date.parse(revokedAt)));
  const inc = incidentObject(incident, incidentId, own, reports, at, parties, revokedAt, input.origins);
  if (inc) push(inc.object, inc.time, inc.marking);

  // Things the reports name, from every report (the reporting party's and the others').
  const techniques = new Sources();
  /** Per technique, the reports that name it themselves (the others bring it by their category's mapping). */
  const named = new Map<string, Set<StixEntrySource>>();
  const cves = new Sources();
  const mitigations = new Sources();
  const systems = new Sources();
  const developers = new Sources();
  for (const r of reports) {
    const b = r.body;
    for (const t of b.techniques ?? []) {
      techniques.add(t, r);
      named.set(t, (named.get(t) ?? new Set()).add(r));
    }
    if ((b.techniques ?? []).length === 0) for (const t of CATEGORY_ATLAS[b.category]?.techniques ?? []) techniques.add(t, r);
    for (const c of b.cves ?? []) cves.add(c, r);
    for (const m of b.mitigations) mitigations.add(m.trim(), r);
    systems.add(JSON.stringify([b.system.name, b.system.developer ?? null, b.system.version ?? null]), r);
    if (b.system.developer !== undefined) developers.add(b.system.developer, r);
  }
  // What several reports name is one object (and one relationship) per party that names it: the reporting
  // party's under the plain key, another party's under `by:<party>|<key>` (no incident id starts so). A party's
  // entries reach every node in its log's order, so each such object is created by the same entry everywhere
  // and only gains versions as they arrive; one shared across parties would change its creator whenever an
  // earlier entry of another party arrived late.
  const scoped = (party: string, key: string) => (party === origin ? key : `by:${party}|${key}`);
  const perParty = (sources: readonly StixEntrySource[]) => {
    const m = new Map<string, StixEntrySource[]>();
    for (const s of sources) m.set(s.party, [...(m.get(s.party) ?? []), s]);
    return [...m.entries()];
  };
  for (const [t, sources] of techniques.entries()) {
    const id = atlasAttackPatternId(t);
    push(attackPattern(t, id), sources[0]!.time, 'TLP:CLEAR');
    const naming = named.get(t);
    for (const [party, own] of perParty(sources)) {
      relate('uses', incidentId, id, own, citable(own).some((s) => naming?.has(s)) ? undefined : 'from the taxonomy mapping of the report\u2019s category', scoped(party, `${incidentId}|uses|${id}`));
    }
  }
  for (const [cve, sources] of cves.entries()) {
    const id = parleyStixId('vulnerability', cve);
    push({ type: 'vulnerability', spec_version: '2.1', id, created: PARLEY_STIX_EPOCH, modified: PARLEY_STIX_EPOCH, name: cve, external_references: [{ source_name: 'cve', external_id: cve, url: `https://www.cve.org/CVERecord?id=${cve}` }], object_marking_refs: markingRefs('TLP:CLEAR') }, sources[0]!.time, 'TLP:CLEAR');
    for (const [party, own] of perParty(sources)) relate('related-to', incidentId, id, own, undefined, scoped(party, `${incidentId}|related-to|${id}`));
  }
  for (const [text, sources] of mitigations.entries()) {
    for (const [party, own] of perParty(sources)) {
      const id = parleyStixId('course-of-action', scoped(party, `${incident}/${text}`));
      const m = made(own, 'incident.report');
      const line = text.split('\n')[0]!;
      const name = line.length > 120 ? `${line.slice(0, 119)}\u2026` : line;
      push({ type: 'course-of-action', id, ...m.props, name, ...(name !== text ? { description: text } : {}) }, m.time, m.marking);
      relate('mitigates', id, incidentId, own);
    }
  }
  for (const [json, sources] of systems.entries()) {
    const [name, vendor, version] = JSON.parse(json) as [string, string | null, string | null];
    // STIX 2.1 §6.14: a software SCO's id contributing properties are name, cpe, swid, vendor, version.
    const contributing = { name, ...(vendor !== null ? { vendor } : {}), ...(version !== null ? { version } : {}) };
    const id = `software--${uuidv5(canonicalStrings(contributing), SCO_NAMESPACE)}`;
    const first = sources[0]!;
    push({ type: 'software', spec_version: '2.1', id, ...contributing, object_marking_refs: markingRefs(first.marking) }, first.time, first.marking);
    for (const [party, own] of perParty(sources)) relate('related-to', incidentId, id, own, 'the AI system involved', scoped(party, `${incidentId}|related-to|${id}`));
  }
  for (const [name, all] of developers.entries()) for (const [party, sources] of perParty(all)) {
    const id = parleyStixId('identity', scoped(party, `developer/${incident}/${name}`));
    const m = made(sources, 'incident.report');
    push({ type: 'identity', id, ...m.props, name, identity_class: 'organization', roles: ['developer'] }, m.time, m.marking);
    relate('related-to', incidentId, id, sources, 'developer of the AI system');
  }

  // Counter-assessments: the other parties' reports.
  for (const r of reports.filter((x) => x.party !== origin)) {
    const m = made([r], `incident.report ${r.body.kind}`);
    const lang = r.body.lang !== undefined ? { lang: r.body.lang } : {};
    const src = r.body.source;
    const props = src ? { ...m.props, external_references: [...m.props.external_references, sourceRef(src)] } : m.props;
    push({ type: 'note', id: parleyStixId('note', keyOf(r)), ...props, ...lang, abstract: r.body.title, content: r.body.summary, authors: [r.party], object_refs: [incidentId], labels: labels(r) }, m.time, m.marking);
    // Compared with the reporter's version at that time that is no more restrictive than this report: the opinion,
    // marked like this report, must not tell what a more restrictive report of the reporter said.
    const base = own.filter((o) => isLive(o) && Date.parse(o.time) <= Date.parse(r.time) && rank(o.marking) <= rank(r.marking)).at(-1);
    const opinion = !base ? 'neutral' : base.body.category === r.body.category && base.body.severity === r.body.severity ? 'agree' : base.body.category === r.body.category ? 'neutral' : 'disagree';
    const explanation = `${r.party} assesses category ${r.body.category}, severity ${r.body.severity}` + (base ? `; ${origin} reported category ${base.body.category}, severity ${base.body.severity}.` : '.');
    push({ type: 'opinion', id: parleyStixId('opinion', keyOf(r)), ...m.props, explanation, authors: [r.party], opinion, object_refs: [incidentId] }, m.time, m.marking);
  }
  for (const a of [...(input.acks ?? [])].sort(byTime)) {
    const m = made([a], 'ack');
    push({ type: 'note', id: parleyStixId('note', keyOf(a)), ...m.props, ...(a.lang !== undefined ? { lang: a.lang } : {}), abstract: `Acknowledgement of ${a.answers.map(keyOf).join(', ')}`, content: a.reply ?? 'Acknowledged.', authors: [a.party], object_refs: [incidentId] }, m.time, m.marking);
  }
  for (const l of [...(input.links ?? [])].sort(byTime)) {
    for (const other of l.incidents.filter((i) => i !== incident)) {
      const m = made([l], 'incident.link');
      const description = l.note !== undefined ? `${l.relation}: ${l.note}` : l.relation;
      push({ type: 'relationship', id: parleyStixId('relationship', `link/${keyOf(l)}/${other}`), ...m.props, relationship_type: 'related-to', source_ref: incidentId, target_ref: parleyStixId('incident', other), description }, m.time, m.marking);
    }
  }
  for (const p of [...parties].sort()) {
    push({ type: 'identity', spec_version: '2.1', id: partyIdentity(p), created: PARLEY_STIX_EPOCH, modified: PARLEY_STIX_EPOCH, name: p, identity_class: 'organization', external_references: [{ source_name: 'parley-party', external_id: p }], object_marking_refs: markingRefs('TLP:CLEAR') }, earliest, 'TLP:CLEAR');
  }
  const head = out.slice(0, 6);
  const rest = out.slice(6).sort((a, b) => (a.object.id < b.object.id ? -1 : a.object.id > b.object.id ? 1 : 0));
  return [...head, ...rest];
}

/** The STIX objects of one incident (see {@link incidentObjectSources}). */
export function incidentObjects(input: StixIncidentInput): StixObject[] {
  return incidentObjectSources(input).map((s) => s.object);
}

/** One incident as a STIX 2.1 bundle (deterministic id: see bundle.ts). */
export function incidentBundle(input: StixIncidentInput): StixBundle {
  return stixBundle(incidentObjects(input));
}

/** Attribution of a record taken from a public database (AIID), with its licence. */
function sourceRef(src: IncidentSource) {
  return { source_name: src.name, external_id: src.id, ...(src.url !== undefined ? { url: src.url } : {}), description: `Record taken from ${src.name}, licensed under ${src.license}; attribution required.` };
}

function labels(r: StixReportInput): string[] {
  const b = r.body;
  return [`parley:category:${b.category}`, `parley:severity:${b.severity}`, `parley:stage:${b.stage}`, `parley:actor:${b.actor.type}`, ...b.harm.types.map((h) => `parley:harm:${h}`), ...(b.potential ? ['parley:potential'] : [])];
}

/** When the incident object's current version was made: its latest live report, or the retraction after it. */
function incidentTime(own: readonly StixReportInput[], reports: readonly StixReportInput[], retracted: ReadonlyMap<string, StixRetractionInput>): string {
  const times = own.map((r) => r.time).concat(own.flatMap((r) => (retracted.has(keyOf(r)) ? [retracted.get(keyOf(r))!.time] : [])));
  return times.length === 0 ? reports[0]!.time : times.sort((a, b) => Date.parse(a) - Date.parse(b)).at(-1)!;
}

/**
 * The first retraction after which none of `sources` that came before it is live (STIX revocation is final,
 * so a later source does not bring the object back); undefined when that never happens.
 */
function firstRevocation(sources: readonly StixEntrySource[], retracted: ReadonlyMap<string, StixRetractionInput>): StixRetractionInput | undefined {
  const events = sources.flatMap((s) => {
    const r = retracted.get(keyOf(s));
    return [{ t: Date.parse(s.time), add: 1, r: undefined }, ...(r ? [{ t: Date.parse(r.time), add: -1, r }] : [])];
  });
  events.sort((a, b) => a.t - b.t || b.add - a.add);
  let live = 0;
  for (const e of events) {
    live += e.add;
    if (e.r && live === 0) return e.r;
  }
  return undefined;
}

/** The incident object (the reporting party's reports `own`, up to its revocation `revokedAt`), its time and marking. */
function incidentObject(
  incident: string,
  id: string,
  own: readonly StixReportInput[],
  reports: readonly StixReportInput[],
  retracted: ReadonlyMap<string, StixRetractionInput>,
  parties: Set<string>,
  revokedAt: string | undefined,
  origins: Readonly<Record<string, string>> | undefined,
): { object: StixObject; time: string; marking: Marking } | undefined {
  const live = own.filter((r) => !retracted.has(keyOf(r)));
  const current = live.at(-1) ?? own.at(-1);
  const first = own[0] ?? reports[0]!;
  const withdrawn = revokedAt !== undefined;
  const time = revokedAt ?? incidentTime(own, reports, retracted);
  const modified = ts(time);
  // Marked like its current version, the incident cites (and takes its status from) no more restrictive report.
  const citedOwn = current ? own.filter((r) => rank(r.marking) <= rank(current.marking)) : own;
  const refs: object[] = [{ source_name: 'parley-incident', external_id: incident }, ...citedOwn.map((r) => entryRef(r, `incident.report ${r.body.kind}`, origins))];
  // No report of the reporting party is held or readable here (sealed from the caller, or not arrived yet): no
  // incident object — the others' objects refer to it by its id; the reporting party's export makes it. (One made
  // of the others' reports would change its creator and creation time when the reporter's first report arrived.)
  if (!current) return undefined;
  parties.add(current.party);
  const b = current.body;
  const src = b.source;
  if (src) refs.push(sourceRef(src));
  const kinds = new Set(live.filter((r) => citedOwn.includes(r)).map((r) => r.body.kind));
  const status = kinds.has('final') || kinds.has('retraction') || withdrawn ? 'closed' : kinds.has('update') ? 'open' : 'new';
  const determination = b.kind === 'retraction' ? 'false-positive' : b.potential ? 'suspected' : DETERMINATION[b.stage];
  const map = CATEGORY_ATLAS[b.category];
  const object: StixObject = {
    type: 'incident',
    spec_version: '2.1',
    id,
    created_by_ref: partyIdentity(current.party),
    created: ts(first.time),
    modified,
    ...(withdrawn ? { revoked: true } : {}),
    name: b.title,
    description: b.summary,
    ...(b.lang !== undefined ? { lang: b.lang } : {}),
    labels: labels(current),
    external_references: refs,
    object_marking_refs: markingRefs(current.marking),
    extensions: {
      [INCIDENT_CORE_EXTENSION_ID]: {
        extension_type: 'property-extension',
        determination,
        investigation_status: status,
        criticality: Math.round((100 * b.severity) / 7),
        incident_types: [...new Set(map?.incidentTypes ?? [`parley-${b.category.toLowerCase()}`])],
      },
    },
  };
  return { object, time, marking: current.marking };
}

/** ATLAS's technique as ATLAS's own STIX has it (id, name, tactics, dates, reference), without its description. */
function attackPattern(technique: string, id: string): StixObject {
  const t = atlasTechnique(technique);
  const day = (d: string | undefined) => (d !== undefined ? `${d}T00:00:00.000Z` : PARLEY_STIX_EPOCH);
  const phases = (t?.tactics ?? []).map((x) => atlasTactic(x)).filter((x) => x !== undefined);
  return {
    type: 'attack-pattern',
    spec_version: '2.1',
    id,
    created: day(t?.created),
    modified: day(t?.modified),
    name: t?.name ?? technique,
    ...(phases.length > 0 ? { kill_chain_phases: phases.map((p) => ({ kill_chain_name: 'mitre-atlas', phase_name: p.shortname })) } : {}),
    external_references: [{ source_name: 'mitre-atlas', url: atlasTechniqueUrl(technique), external_id: technique }],
    object_marking_refs: markingRefs('TLP:CLEAR'),
  };
}

/** JSON of an object of strings with sorted keys (STIX 2.1 §2.9 SCO id: the id contributing properties, canonicalized). */
function canonicalStrings(o: Readonly<Record<string, string>>): string {
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(o[k])}`).join(',')}}`;
}

