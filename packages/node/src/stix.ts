/**
 * The STIX 2.1 export of one incident as a role may read it (issue 13):
 * GET /v1/incidents/{id}/stix, `parley export stix`, the dashboard's STIX
 * button. This module gathers the entries — the same ones the incident view
 * (GET /v1/incidents/{id}) shows the role — and core's `@parley/core/stix`
 * makes the bundle.
 *
 * Visibility (I13.md): a report, ack or link goes in only when its body is
 * readable by the role (node.read gives it a body): an auditor gets the
 * TLP:CLEAR ones, an officer what was sealed to this party. A retraction goes
 * in whatever its body: only its metadata is used (which entry it withdraws,
 * when, its leaf hash and marking), which every role sees. An incident none
 * of whose reports the role can read is refused whole with STIX_SEALED
 * (403) — never a partial bundle of metadata.
 */
import { type IncidentReportBody, type JsonValue, checkBody, fail, formatHex, parseBase64 } from '@parley/core';
import { type StixAckInput, type StixBundle, type StixIncidentInput, type StixLinkInput, type StixObjectSource, type StixReportInput, type StixRetractionInput, incidentBundle, incidentObjectSources } from '@parley/core/stix';
import type { LogStore, Role } from '@parley/store';
import type { Marking } from '@parley/core';
import { type LinkIndex, linkIndex } from './held.js';
import { incidentIndex } from './incidents.js';
import type { EntryView, ParleyNode } from './service.js';
import { retractionOf } from './retractions.js';
import { originOf } from './epochs.js';

const hex = (b64: string) => formatHex(parseBase64(b64, 'leaf hash'));
const source = (v: EntryView) => ({ party: v.party, index: v.index, leafHash: hex(v.leafHash), time: v.entry.time, marking: v.entry.marking as Marking });

/** The incident's links this node holds: own and received `incident.link` entries citing one of its `reports`, each once. */
async function linkViews(node: ParleyNode, links: LinkIndex, reports: readonly { party: string; index: number }[], role: Role): Promise<EntryView[]> {
  const seen = new Set<string>();
  const out: EntryView[] = [];
  for (const r of reports) {
    for (const l of links.get(`${r.party}/${r.index}`) ?? []) {
      const k = `${l.party}/${l.index}`;
      if (seen.has(k)) continue;
      seen.add(k);
      const v = await node.read(l.party, l.index, role);
      if (v) out.push(v);
    }
  }
  return out;
}

/**
 * What a caller gathering many incidents (the TAXII server) makes once for
 * all of them: having refreshed the incident index, the links held. Made per
 * incident, each would cost a pass over every report and every link.
 */
export interface Gathered {
  readonly links: LinkIndex;
}

/**
 * The export's input for incident `id` as `role` reads it; `gathered` when
 * the caller refreshed the incident index and read the links (else done here).
 * @throws HttpError-free ParleyErrors: undefined when the incident is not held; STIX_SEALED when no report is readable.
 */
export async function incidentStixInput(node: ParleyNode, store: LogStore, id: string, role: Role, gathered?: Gathered): Promise<StixIncidentInput | undefined> {
  const index = incidentIndex(node, store);
  if (!gathered) await index.refresh();
  const refs = index.timeline(id);
  if (!refs) return undefined;
  const reports: StixReportInput[] = [];
  const acks: StixAckInput[] = [];
  const withdrawable: { party: string; index: number }[] = [];
  for (const ref of refs) {
    const v = await node.read(ref.party, ref.index, role);
    if (!v || v.body === undefined) continue;
    if (v.entry.type === 'incident.report') {
      reports.push({ ...source(v), body: checkBody('incident.report', v.body) as IncidentReportBody });
      withdrawable.push(ref);
    } else if (v.entry.type === 'ack') {
      const body = checkBody('ack', v.body);
      acks.push({ ...source(v), answers: v.entry.refs.map((r) => ({ party: r.party, index: r.index })), ...(body.reply !== undefined ? { reply: body.reply } : {}), ...(body.lang !== undefined ? { lang: body.lang } : {}) });
      withdrawable.push(ref);
    }
  }
  if (reports.length === 0) fail('STIX_SEALED', `no report of incident ${id} is readable by the ${role} role here`);
  const links: StixLinkInput[] = [];
  for (const v of await linkViews(node, gathered?.links ?? (await linkIndex(store, node.party)), refs.filter((r) => reports.some((x) => x.party === r.party && x.index === r.index)), role)) {
    if (v.body === undefined) continue;
    const b = checkBody('incident.link', v.body as JsonValue);
    links.push({ ...source(v), incidents: b.incidents, relation: b.relation, ...(b.note !== undefined ? { note: b.note } : {}) });
    withdrawable.push(v);
  }
  const retractions: StixRetractionInput[] = [];
  for (const w of withdrawable) {
    const r = await retractionOf(node, w.party, w.index);
    if (!r) continue;
    const v = await node.read(r.by.party, r.by.index, role);
    if (!v) continue;
    retractions.push({ ...source(v), target: { party: w.party, index: w.index }, action: r.action, ...(r.replacement ? { replacement: r.replacement } : {}) });
  }
  // Each log's origin, so a consumer knows which log to check a cited leaf hash against.
  const origins: Record<string, string> = {};
  for (const e of [...reports, ...acks, ...retractions, ...links]) {
    const o = origins[e.party] ?? originOf(node, e.party);
    if (o !== undefined) origins[e.party] = o;
  }
  return { incident: id, reports, acks, retractions, links, origins };
}

/** The incident's STIX 2.1 bundle as `role` may read it; undefined when it is not held. @throws STIX_SEALED */
export async function incidentStixBundle(node: ParleyNode, store: LogStore, id: string, role: Role): Promise<StixBundle | undefined> {
  const input = await incidentStixInput(node, store, id, role);
  return input && incidentBundle(input);
}

/**
 * The incident's STIX objects as `role` may read them, each with the time of
 * the entry that made its version and its marking — what a TAXII server
 * files by (collection per sending party and marking, `date_added`).
 * Undefined when the incident is not held. @throws STIX_SEALED
 */
export async function incidentStixSources(node: ParleyNode, store: LogStore, id: string, role: Role): Promise<StixObjectSource[] | undefined> {
  const input = await incidentStixInput(node, store, id, role);
  return input && incidentObjectSources(input);
}
