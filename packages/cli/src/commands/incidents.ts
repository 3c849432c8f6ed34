/**
 * `parley incidents similar ID` and `parley incidents link ID ID…` (issue 13):
 * reports by OTHER parties that may describe the same event, with a score
 * and the reasons (GET /v1/incidents/{id}/similar), and an officer's
 * confirmation that they do — an `incident.link` entry in our log, sent to
 * the parties that hold every linked report (POST /v1/incidents/links).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { INCIDENT_ID } from '@parley/core';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { type ClientOpts, client, clientOptions } from '../client.js';
import { columns } from '../human.js';

interface SimilarAnswer {
  incident: string;
  items: { incident: string; party: string; title: string; category: string; severity: number; score: number; reasons: { code: string; text: string; weight: number }[]; linked: boolean }[];
}

const checkId = (id: string) => {
  if (!INCIDENT_ID.test(id)) throw new UsageError(`"${id}" is not an incident id (PARTY:local-id, e.g. US:2026-0007)`);
};

export function registerIncidents(program: Command): void {
  const inc = program.command('incidents').description('incidents across parties: reports of other parties that may be the same event, and confirmed links between them');

  clientOptions(
    inc
      .command('similar')
      .description('incidents reported by other parties that may be the same event as ID: score (0–1) and reasons (same system, close in time, similar text in either language)')
      .argument('<id>', 'the incident (PARTY:local-id)')
      .option('--limit <n>', 'at most n suggestions (1–50)', '10')
      .option('--min <score>', 'lowest score shown (0–1)', '0.4'),
  )
    .addHelpText(
      'after',
      `
Only incidents of other parties, and only reports this login may read, are
compared; withdrawn (retracted) reports are left out. "linked" marks those a
confirmed link already names. Confirm one with: parley incidents link ID OTHER

Example:
  $ parley incidents similar CN:2026-0042 --data cn`,
    )
    .action(
      act(async (id: string, o: ClientOpts & { limit: string; min: string }) => {
        checkId(id);
        if (!/^(0|[1-9][0-9]?)$/.test(o.limit) || Number(o.limit) < 1 || Number(o.limit) > 50) throw new UsageError('--limit must be between 1 and 50');
        if (!/^(0(\.\d{1,3})?|1(\.0{1,3})?)$/.test(o.min)) throw new UsageError('--min must be a score between 0 and 1 (at most 3 decimals)');
        const c = client(o);
        const r = (await c.get(`/v1/incidents/${encodeURIComponent(id)}/similar?limit=${o.limit}&min=${o.min}`)) as SimilarAnswer;
        const lines =
          r.items.length === 0
            ? [`no incident of another party looks like ${id} (score ≥ ${o.min})`]
            : [
                ...columns(
                  r.items.map((i) => [i.score.toFixed(2), i.incident, `${i.category}/${i.severity}`, i.linked ? 'linked' : '', i.title.length > 60 ? `${i.title.slice(0, 59)}…` : i.title]),
                  ['SCORE', 'INCIDENT', 'CAT/SEV', 'LINK', 'TITLE'],
                ),
                '',
                ...r.items.map((i) => `${i.incident}: ${i.reasons.map((x) => x.text).join('; ')}`),
              ];
        makeOut(o.json === true).result({ ...r }, lines);
        return EXIT_OK;
      }),
    );

  clientOptions(
    inc
      .command('link')
      .description('confirm that incidents reported by different parties are one event (or related): an incident.link entry, sent to the parties that hold every linked report')
      .argument('<ids...>', 'two to sixteen incidents (PARTY:local-id)')
      .addOption(new Option('--relation <relation>', 'same-event or related').choices(['same-event', 'related']).default('same-event'))
      .option('--note <text>', 'why they are linked')
      .option('--lang <tag>', 'language of the note (BCP 47, e.g. en, zh-CN)'),
  )
    .addHelpText(
      'after',
      `
The link is marked as the most restrictive of the linked reports and is
addressed only to parties that received (or sent) every one of them. Both
incidents' views then list it (GET /v1/incidents/{id} "links").

Example:
  $ parley incidents link CN:2026-0042 US:2026-0101 --note "same jailbreak, same day" --data cn`,
    )
    .action(
      act(async (ids: string[], o: ClientOpts & { relation: string; note?: string; lang?: string }) => {
        for (const id of ids) checkId(id);
        if (new Set(ids).size < 2) throw new UsageError('name at least two different incidents');
        if (ids.length > 16) throw new UsageError('at most 16 incidents per link');
        const c = client(o);
        const s = (await c.post('/v1/incidents/links', { incidents: ids, relation: o.relation, ...(o.note !== undefined ? { note: o.note } : {}), ...(o.lang !== undefined ? { lang: o.lang } : {}) })) as {
          party: string;
          index: number;
          entry: { to: string[]; marking: string; body: { clear?: { incidents: string[] } } };
        };
        makeOut(o.json === true).result({ ...s }, [`linked ${[...new Set(ids)].sort().join(' ↔ ')} (${o.relation}): entry ${s.party}/${s.index}, ${s.entry.marking}, sent to ${s.entry.to.join(', ')}`]);
        return EXIT_OK;
      }),
    );
}
