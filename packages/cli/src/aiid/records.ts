/**
 * AIID incidents → `incident.report` bodies (issue 13): one TLP:CLEAR initial
 * report per AIID incident, attributed to AIID under CC BY-SA 4.0, with the
 * permanent AIID id in the incident id (`<PARTY>:aiid-<id>`) and in
 * `source` — the key that makes a re-import log nothing new.
 *
 *     title        the incident's title
 *     summary      its description, then its reports: "- title (source, date) url"
 *     occurredAt   its date (00:00:00Z)
 *     system       name: the alleged deployer(s) (else developer(s)); developer: the alleged developer(s)
 *     actor        deployer, described with deployer and developer
 *     harm         the map's harm types; description: the alleged harmed or nearly harmed parties
 *     category, severity, stage, potential   the map applied to its published classifications
 *
 * An incident listed as a duplicate in duplicates.csv is not imported (its
 * true incident is); one whose row was malformed is skipped with its line.
 */
import type { IncidentReportBody as IncidentReport } from '@parley/core';
import { type AiidMap, type Unmapped, applyMap } from './map.js';
import type { AiidIncident, Snapshot } from './snapshot.js';

export const AIID_LICENSE = 'CC BY-SA 4.0';
export const AIID_CITE = 'https://incidentdatabase.ai/cite/';

/** An incident not imported, and why (stable codes, docs/interop.md). */
export interface Skip {
  readonly aiid?: string;
  readonly code: 'AIID_ROW_MALFORMED' | 'AIID_DUPLICATE' | 'AIID_UNMAPPED_VALUE' | 'IMPORT_DUPLICATE';
  readonly reason: string;
  readonly from?: string;
}

export interface Built {
  readonly records: { readonly from: string; readonly report: IncidentReport }[];
  readonly skipped: Skip[];
  /** Values the map does not know (imported with the other rules' or the default codes). */
  readonly unmapped: readonly (Unmapped & { readonly aiid: string })[];
  /** Incidents whose category is the map's default. */
  readonly defaulted: readonly string[];
  /** Incidents left for a later run by `limit`. */
  readonly deferred: number;
}

/** Cuts text to `max` UTF-16 units (the body's bound), ending with "…" when cut. */
export function clip(s: string, max: number): string {
  const t = s.trim();
  if (t.length <= max) return t;
  let cut = t.slice(0, max - 1);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return `${cut}…`;
}

/** An AIID entity slug as a name: "keolis-north-america" → "Keolis North America". */
export const entityName = (slug: string): string =>
  slug
    .split('-')
    .filter((w) => w !== '')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');

const names = (xs: readonly string[]) => xs.map(entityName).join(', ');

function summaryOf(i: AiidIncident, s: Snapshot): string {
  const lines = i.reports
    .map((n) => s.reports.get(n))
    .filter((r) => r !== undefined)
    .map((r) => `- ${r.title.replace(/\s+/g, ' ').trim()} (${[r.sourceDomain, r.datePublished.slice(0, 10)].filter((x) => x !== '').join(', ')}) ${r.url}`);
  const head = i.description.trim() !== '' ? i.description.trim() : i.title.trim();
  return clip(lines.length > 0 ? `${head}\n\nReports (AI Incident Database):\n${lines.join('\n')}` : head, 20_000);
}

/**
 * Builds the records to import from a snapshot.
 * @param party this node's party id (the incident ids' prefix).
 * @param limit import at most this many incidents not imported yet (the lowest AIID ids first).
 * @param already AIID ids this node already logged → where (skipped as IMPORT_DUPLICATE, not counted
 *   against `limit`, so repeated `--limit` runs import a large snapshot in parts).
 */
export function buildRecords(s: Snapshot, map: AiidMap, party: string, limit = Number.POSITIVE_INFINITY, already: ReadonlyMap<string, string> = new Map()): Built {
  const skipped: Skip[] = [];
  const unmapped: (Unmapped & { aiid: string })[] = [];
  const defaulted: string[] = [];
  const records: { from: string; report: IncidentReport }[] = [];
  let deferred = 0;
  for (const p of s.problems) skipped.push({ ...(p.incident !== undefined ? { aiid: String(p.incident) } : {}), code: 'AIID_ROW_MALFORMED', reason: p.reason, from: `${p.file}:${p.line}` });
  const seen = new Set<number>();
  for (const i of [...s.incidents].sort((a, b) => a.id - b.id)) {
    const aiid = String(i.id);
    if (seen.has(i.id)) {
      skipped.push({ aiid, code: 'AIID_DUPLICATE', reason: `incident ${i.id} appears twice in incidents.csv`, from: i.from });
      continue;
    }
    seen.add(i.id);
    const truth = s.duplicates.get(i.id);
    if (truth !== undefined) {
      skipped.push({ aiid, code: 'AIID_DUPLICATE', reason: `duplicates.csv: a duplicate of incident ${truth}`, from: i.from });
      continue;
    }
    const held = already.get(aiid);
    if (held !== undefined) {
      skipped.push({ aiid, code: 'IMPORT_DUPLICATE', reason: `already imported: entry ${held}`, from: i.from });
      continue;
    }
    if (records.length >= limit) {
      deferred++;
      continue;
    }
    const m = applyMap(map, s.classifications.get(i.id) ?? []);
    if (m.unmapped.length > 0 && map.unknownValues === 'skip') {
      const u = m.unmapped[0]!;
      skipped.push({ aiid, code: 'AIID_UNMAPPED_VALUE', reason: `${u.namespace} "${u.field}": "${u.value}" is not in the map (${u.from})`, from: i.from });
      continue;
    }
    unmapped.push(...m.unmapped.map((u) => ({ ...u, aiid })));
    if (m.defaulted) defaulted.push(aiid);
    const deployers = names(i.deployers);
    const developers = names(i.developers);
    const title = i.title.trim() !== '' ? i.title : i.description;
    if (title.trim() === '') {
      skipped.push({ aiid, code: 'AIID_ROW_MALFORMED', reason: 'neither a title nor a description', from: i.from });
      continue;
    }
    const report: IncidentReport = {
      incident: `${party}:aiid-${i.id}`,
      kind: 'initial',
      title: clip(title.replace(/\s+/g, ' '), 300),
      summary: summaryOf(i, s),
      category: m.category,
      severity: m.severity,
      stage: m.stage,
      system: {
        name: clip(deployers || developers || 'Unnamed AI system', 200),
        ...(developers !== '' ? { developer: clip(developers, 200) } : {}),
      },
      actor: {
        type: 'deployer',
        ...(deployers || developers ? { description: clip([deployers && `Alleged deployer: ${deployers}`, developers && `alleged developer: ${developers}`].filter((x) => x).join('; '), 2000) } : {}),
      },
      harm: { types: [...m.harm], ...(i.harmed.length > 0 ? { description: clip(`Alleged harmed or nearly harmed parties: ${names(i.harmed)}`, 5000) } : {}) },
      mitigations: [],
      occurredAt: `${i.date}T00:00:00Z`,
      lang: 'en',
      ...(m.potential ? { potential: true as const } : {}),
      source: { name: 'AIID', id: aiid, url: `${AIID_CITE}${i.id}`, license: AIID_LICENSE },
    };
    records.push({ from: i.from, report });
  }
  return { records, skipped, unmapped, defaulted, deferred };
}
