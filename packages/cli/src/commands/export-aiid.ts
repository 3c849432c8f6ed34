/**
 * `parley export aiid [--out FILE]`: this node's TLP:CLEAR incidents in the AI
 * Incident Database's submission shape (aiid/submission.ts), read over the
 * officers' API (GET /v1/incidents, /v1/incidents/{id}) so it sees exactly
 * what the login may read. An incident is exported only when EVERY report of
 * it held here is TLP:CLEAR and readable — never a non-CLEAR incident, not
 * even its title; a withdrawn one (a retraction report, or every report
 * withdrawn by `parley retract`) is left out, a report withdrawn by a
 * retraction entry is never the one exported, and
 * records imported from AIID are left out unless --include-imported.
 */
import type { Command } from 'commander';
import type { IncidentReportBody as IncidentReport } from '@parley/core';
import { EXIT_OK, act } from '../exit.js';
import { makeOut } from '../io.js';
import { type ClientOpts, client, clientOptions } from '../client.js';
import { writeFileAtomic } from '../datadir.js';
import { type AiidSubmission, toSubmission } from '../aiid/submission.js';
import { incidentIds } from './export-stix.js';

interface View {
  party: string;
  index: number;
  leafHash: string;
  entry: { type: string; marking: string; time: string };
  body?: unknown;
  /** Set when the entry was withdrawn by a `retraction` entry (issue 13). */
  retracted?: unknown;
}

export function registerExportAiid(program: Command): void {
  const exp = program.commands.find((c) => c.name() === 'export');
  if (!exp) throw new Error('internal: the export command is registered first');
  clientOptions(
    exp
      .command('aiid')
      .description('our TLP:CLEAR incidents as AI Incident Database submissions (JSON array): never a non-CLEAR incident')
      .option('--out <file>', 'write to this file (atomically) instead of standard output')
      .option('--include-imported', 'also records that came from AIID (source.name "AIID")'),
  )
    .addHelpText(
      'after',
      `
Each incident whose every report is TLP:CLEAR becomes one object with AIID's
submission members (title, text, url, source_domain, date_published,
date_downloaded, incident_date, incident_title, description, authors,
submitters, deployers, developers, harmed_parties, implicated_systems,
language, tags, image_url), from its latest report; "url" and
"source_domain" are the report's public source URL when it names one (an
imported AIID record's), else empty: never this node's address. Incidents with any non-CLEAR or unreadable report are counted,
never shown.

Example:
  $ parley export aiid --data us --out us-aiid.json`,
    )
    .action(
      act(async (_o: unknown, cmd: Command) => {
        // `export` itself has --out, --data and --json: commander gives them to it, so read both levels.
        const o = cmd.optsWithGlobals<ClientOpts & { out?: string; includeImported?: boolean }>();
        const c = client(o);
        const accord = (await c.get('/v1/accord')) as { accord: { parties: { id: string; names: { en: string } }[] } };
        const names = new Map(accord.accord.parties.map((p) => [p.id, p.names.en]));
        const ids = await incidentIds(c);
        const out: AiidSubmission[] = [];
        let notClear = 0;
        let withdrawn = 0;
        let imported = 0;
        const today = new Date().toISOString().slice(0, 10);
        for (const id of ids.sort()) {
          const v = (await c.get(`/v1/incidents/${encodeURIComponent(id)}`)) as { timeline: View[] };
          const reports = v.timeline.filter((e) => e.entry.type === 'incident.report');
          if (reports.length === 0) continue;
          if (reports.some((e) => e.entry.marking !== 'TLP:CLEAR' || e.body === undefined)) {
            notClear++;
            continue;
          }
          // Reports withdrawn by a `retraction` entry do not count (issue 13): the latest live one speaks for the incident.
          const live = reports.filter((e) => e.retracted === undefined);
          const bodies = live.map((e) => e.body as IncidentReport);
          if (live.length === 0 || bodies.some((b) => b.kind === 'retraction')) {
            withdrawn++;
            continue;
          }
          const last = live[live.length - 1]!;
          const body = bodies[bodies.length - 1]!;
          if (body.source?.name === 'AIID' && o.includeImported !== true) {
            imported++;
            continue;
          }
          out.push(
            toSubmission(
              { report: body, party: last.party, partyName: names.get(last.party) ?? last.party, index: last.index, leafHash: last.leafHash, firstTime: live[0]!.entry.time },
              today,
            ),
          );
        }
        const doc = `${JSON.stringify(out, null, 2)}\n`;
        const summary = { exported: out.length, leftOut: { notClear, withdrawn, importedFromAiid: imported }, ...(o.out !== undefined ? { out: o.out } : {}) };
        if (o.out === undefined) {
          process.stdout.write(doc);
          process.stderr.write(`parley: ${out.length} incidents exported; left out: ${notClear} not TLP:CLEAR, ${withdrawn} withdrawn, ${imported} imported from AIID\n`);
          return EXIT_OK;
        }
        writeFileAtomic(o.out, doc, 0o644);
        makeOut(o.json === true).result(summary, [`wrote ${out.length} AIID submissions to ${o.out}; left out: ${notClear} not TLP:CLEAR, ${withdrawn} withdrawn, ${imported} imported from AIID`]);
        return EXIT_OK;
      }),
    );
}
