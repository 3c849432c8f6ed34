/**
 * `parley report`: an incident report in the shared taxonomy — from a JSON
 * file, from flags, or by interactive prompts for whatever is missing (when a
 * person is at the terminal).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { ACTOR_TYPES, HARM_TYPES, MARKINGS, PRECEDENCES, REPORT_KINDS, STAGES, TAXONOMY_V1, bodyProblem } from '@parley/core/node';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { type ClientOpts, client, clientOptions } from '../client.js';
import { readJsonFile } from '../datadir.js';
import { interactive } from '../secrets.js';
import { type ReportFields, promptReport } from '../report-prompts.js';
import { type SubmittedView, submittedLines } from './send.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

type Opts = ClientOpts &
  ReportFields & { file?: string; to?: string[]; precedence?: string; developer?: string; systemVersion?: string; actorDescription?: string; harmDescription?: string; lang?: string };

const REQUIRED: (keyof ReportFields)[] = ['incident', 'title', 'summary', 'category', 'severity', 'system'];

/** The report body (IncidentReportBody) from completed fields; the node validates it again. */
function body(f: ReportFields, o: Opts): Record<string, unknown> {
  const severity = Number(f.severity);
  if (!/^[0-7]$/.test(f.severity ?? '')) throw new UsageError(`--severity must be a level 0–7, got "${f.severity}"`);
  if (!TAXONOMY_V1.categories.some((c) => c.code === f.category)) {
    throw new UsageError(`--category "${f.category}" is not a taxonomy category: ${TAXONOMY_V1.categories.map((c) => c.code).join(' ')}`);
  }
  for (const h of f.harm ?? []) if (!(HARM_TYPES as readonly string[]).includes(h)) throw new UsageError(`--harm "${h}" is not a harm type: ${HARM_TYPES.join(', ')}`);
  return {
    incident: f.incident,
    kind: f.kind ?? 'initial',
    title: f.title,
    summary: f.summary,
    category: f.category,
    severity,
    stage: f.stage ?? 'incident',
    system: { name: f.system, ...(o.developer ? { developer: o.developer } : {}), ...(o.systemVersion ? { version: o.systemVersion } : {}) },
    actor: { type: f.actor ?? 'unknown', ...(o.actorDescription ? { description: o.actorDescription } : {}) },
    harm: { types: f.harm ?? [], ...(o.harmDescription ? { description: o.harmDescription } : {}) },
    mitigations: f.mitigation ?? [],
    ...(o.lang ? { lang: o.lang } : {}),
  };
}

export function registerReport(program: Command): void {
  clientOptions(
    program
      .command('report')
      .description('send an incident report (taxonomy category, severity, system, actor, harm, mitigations), prompting for what is missing')
      .option('--file <report.json>', 'the report body as JSON (IncidentReportBody); the flags below are then ignored except envelope flags')
      .option('--incident <id>', 'incident id PARTY:local-id, the same for its initial report, updates and final report')
      .addOption(new Option('--kind <kind>', 'report kind (default initial)').choices(REPORT_KINDS))
      .option('--title <text>', 'short title')
      .option('--summary <text>', 'what happened, what is known and not known')
      .addOption(new Option('--category <code>', 'taxonomy category').choices(TAXONOMY_V1.categories.map((c) => c.code)))
      .option('--severity <0-7>', 'taxonomy severity level')
      .addOption(new Option('--stage <stage>', 'hazard, near-miss or incident (default incident)').choices(STAGES))
      .option('--system <name>', 'the AI system involved')
      .option('--developer <name>', "the system's developer")
      .option('--system-version <v>', "the system's version")
      .addOption(new Option('--actor <type>', 'actor type (default unknown)').choices(ACTOR_TYPES))
      .option('--actor-description <text>', 'who the actor is')
      .option('--harm <type>', `harm type (repeatable): ${HARM_TYPES.join(', ')}`, collect)
      .option('--harm-description <text>', 'the harm')
      .option('--mitigation <text>', 'a mitigation taken (repeatable)', collect)
      .option('--lang <tag>', 'language of the texts, e.g. en or zh-CN')
      .addOption(new Option('--marking <tlp>', 'FIRST TLP 2.0 marking (default TLP:AMBER; anything but TLP:CLEAR is encrypted)').choices(MARKINGS))
      .option('--to <party>', 'recipient party (repeatable; default every other party; a red line goes to every party)', collect)
      .addOption(new Option('--precedence <p>', "default: the taxonomy's for the severity; a red line forces FLASH").choices(PRECEDENCES)),
  )
    .addHelpText(
      'after',
      `
Without --file, missing fields are asked for when a terminal is attached; otherwise
--incident, --title, --summary, --category, --severity and --system are required.

Example:
  $ parley report --incident US:2026-0007 --category WT --severity 5 --system Frontier-1 \\
      --title "Weights exfiltrated" --summary "…" --harm security --mitigation "Rotated credentials"`,
    )
    .action(act(report));
}

async function report(o: Opts): Promise<number> {
  const c = client(o); // not logged in: say so before asking anything
  let fields: ReportFields = o;
  let reportBody: unknown;
  if (o.file !== undefined) {
    reportBody = readJsonFile(o.file, 'report file');
  } else {
    const missing = REQUIRED.filter((k) => fields[k] === undefined);
    if (missing.length > 0 || o.marking === undefined) {
      if (interactive()) fields = await promptReport(fields);
      else if (missing.length > 0) throw new UsageError(`missing ${missing.map((k) => `--${k}`).join(', ')} (or use --file report.json, or run it at a terminal to be asked)`);
    }
    reportBody = body(fields, o);
  }
  // The same check (core's body registry) the node applies to what it sends and receives: fail here, before the network.
  const bad = bodyProblem('incident.report', reportBody);
  if (bad) throw new UsageError(`the report is not a valid incident report: ${bad.message}`);
  const s = (await c.post('/v1/reports', {
    report: reportBody,
    marking: fields.marking ?? 'TLP:AMBER',
    ...(o.to ? { to: o.to } : {}),
    ...(o.precedence ? { precedence: o.precedence } : {}),
  })) as SubmittedView;
  makeOut(o.json === true).result({ ...s }, submittedLines('Report', s));
  return EXIT_OK;
}
