/**
 * Our incidents in the AI Incident Database's submission shape (issue 13),
 * for `parley export aiid`: one object per incident, with the members of
 * AIID's `Submission` (responsible-ai-collaborative/aiid 638678f,
 * site/gatsby-site/server/types/submission.ts; the submit form's checks in
 * src/components/submissions/schemas.js: title 6–500 characters, text
 * 80–50,000, dates YYYY-MM-DD, description ≤ 500):
 *
 *     title, text, url, source_domain, date_published, date_downloaded, incident_date,
 *     incident_title, description, authors[], submitters[], deployers[], developers[],
 *     harmed_parties[], implicated_systems[], language, tags[], image_url
 *
 * Only TLP:CLEAR incidents are ever exported (the caller checks every report
 * of the incident, not just the latest).
 *
 * `url` and `source_domain` name the report's public source: AIID files a
 * submission under the article or record it came from. That is the
 * report's `source.url` when it carries one (a record imported from AIID, or
 * one citing a public page) — never this node's own API address, which is
 * neither public nor readable without a session. A report with no source URL
 * leaves both empty strings: AIID's `Submission` keeps them (non-null
 * strings, like `image_url`) and its submit form asks the editor for a URL.
 * Where the report is logged (party, entry, leaf hash) is in `text`.
 */
import type { IncidentReportBody as IncidentReport } from '@parley/core';

export interface AiidSubmission {
  readonly title: string;
  readonly text: string;
  readonly url: string;
  readonly source_domain: string;
  readonly date_published: string;
  readonly date_downloaded: string;
  readonly incident_date: string;
  readonly incident_title: string;
  readonly description: string;
  readonly authors: readonly string[];
  readonly submitters: readonly string[];
  readonly deployers: readonly string[];
  readonly developers: readonly string[];
  readonly harmed_parties: readonly string[];
  readonly implicated_systems: readonly string[];
  readonly language: string;
  readonly tags: readonly string[];
  readonly image_url: string;
}

/** What the export knows of one incident: its latest report, its first report's time, where it is held. */
export interface ExportedIncident {
  readonly report: IncidentReport;
  readonly party: string;
  readonly partyName: string;
  readonly index: number;
  readonly leafHash: string;
  readonly firstTime: string;
}

const day = (t: string) => t.slice(0, 10);
const cut = (s: string, max: number) => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** One incident as an AIID submission. */
export function toSubmission(x: ExportedIncident, today: string): AiidSubmission {
  const r = x.report;
  const provenance = `Reported by ${x.partyName} (${x.party}) on a Parley channel as incident ${r.incident}: entry ${x.party}/${x.index}, leaf hash ${x.leafHash} (verifiable against ${x.party}'s log). Category ${r.category}, severity ${r.severity}, stage ${r.stage}${r.potential === true ? ', potential (no harm yet)' : ''}.`;
  const text = [r.summary, r.harm.description ?? '', r.mitigations.length > 0 ? `Mitigations:\n${r.mitigations.map((m) => `- ${m}`).join('\n')}` : '', provenance].filter((s) => s !== '').join('\n\n');
  const url = r.source?.url ?? '';
  return {
    title: r.title.length >= 6 ? cut(r.title, 500) : `${r.title} (${r.incident})`,
    text: cut(text, 50_000),
    url,
    source_domain: url === '' ? '' : new URL(url).hostname,
    date_published: day(x.firstTime),
    date_downloaded: today,
    incident_date: day(r.occurredAt ?? r.detectedAt ?? x.firstTime),
    incident_title: cut(r.title, 500),
    description: cut(r.summary.replace(/\s+/g, ' ').trim(), 500),
    authors: [x.partyName],
    submitters: [`Parley ${x.party}`],
    deployers: r.actor.type === 'deployer' && r.actor.description !== undefined ? [cut(r.actor.description, 200)] : [],
    developers: r.system.developer !== undefined ? [r.system.developer] : [],
    harmed_parties: [],
    implicated_systems: [r.system.version !== undefined ? `${r.system.name} ${r.system.version}` : r.system.name],
    language: (r.lang ?? 'en').split('-')[0]!.toLowerCase(),
    tags: ['parley', `parley:category:${r.category}`, `parley:severity:${r.severity}`, ...(r.potential === true ? ['parley:potential'] : []), ...r.harm.types.map((h) => `parley:harm:${h}`), ...(r.techniques ?? []), ...(r.cves ?? [])],
    image_url: '',
  };
}
