/**
 * `parley report`: an incident report in the shared taxonomy — from a JSON
 * file, from flags, or by interactive prompts for whatever is missing (when a
 * person is at the terminal).
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { ACTOR_TYPES, HARM_TYPES, type Localized, MARKINGS, PRECEDENCES, REPORT_KINDS, STAGES, TAXONOMY_V1, bodyProblem } from '@parley/core/node';
import { EXIT_OK, NodeRefused, UsageError, act } from '../exit.js';
import { titleOf } from '../output.js';
import { makeOut } from '../io.js';
import { type ClientOpts, client, clientOptions } from '../client.js';
import { readJsonFile } from '../datadir.js';
import { interactive } from '../secrets.js';
import { type Channel, REPORT_DEFAULTS, type ReportFields, confirmReport, promptReport, summaryLines } from '../report-prompts.js';
import { type SubmittedView, submittedLines } from './send.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

type Opts = ClientOpts & ReportFields & { file?: string; actorDescription?: string; lang?: string; yes?: boolean; technique?: string[]; cve?: string[] };

/** Repeated ids as the body wants them: sorted, each once. */
const ids = (xs: readonly string[] | undefined) => [...new Set(xs ?? [])].sort();

const REQUIRED: (keyof ReportFields)[] = ['incident', 'title', 'summary', 'category', 'severity', 'system'];
/** Field → its flag, for messages. */
const FLAG: Partial<Record<keyof ReportFields, string>> = { systemVersion: '--system-version' };
const flagOf = (k: keyof ReportFields) => FLAG[k] ?? `--${k}`;

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
    kind: f.kind ?? REPORT_DEFAULTS.kind,
    title: f.title,
    summary: f.summary,
    category: f.category,
    severity,
    stage: f.stage ?? REPORT_DEFAULTS.stage,
    system: { name: f.system, ...(f.developer ? { developer: f.developer } : {}), ...(f.systemVersion ? { version: f.systemVersion } : {}) },
    actor: { type: f.actor ?? REPORT_DEFAULTS.actor, ...(o.actorDescription ? { description: o.actorDescription } : {}) },
    harm: { types: f.harm ?? [], ...(f.harmDescription ? { description: f.harmDescription } : {}) },
    mitigations: f.mitigation ?? [],
    ...(o.technique?.length ? { techniques: ids(o.technique) } : {}),
    ...(o.cve?.length ? { cves: ids(o.cve) } : {}),
    ...(o.lang ? { lang: o.lang } : {}),
  };
}

export function registerReport(program: Command): void {
  clientOptions(
    program
      .command('report')
      .description('send an incident report (taxonomy category, severity, system, actor, harm, mitigations): the node is checked first, missing fields are asked for at a terminal, and a summary is confirmed before sending')
      .option('--file <report.json>', 'the report body as JSON (IncidentReportBody); the flags below are then ignored except envelope flags (--marking, --to, --precedence)')
      .option('--incident <id>', 'incident id PARTY:local-id, the same for its initial report, updates and final report')
      .addOption(new Option('--kind <kind>', `report kind (default: ${REPORT_DEFAULTS.kind})`).choices(REPORT_KINDS))
      .option('--title <text>', 'short title')
      .option('--summary <text>', 'what happened, what is known and not known')
      .addOption(new Option('--category <code>', 'taxonomy category').choices(TAXONOMY_V1.categories.map((c) => c.code)))
      .option('--severity <0-7>', 'taxonomy severity level')
      .addOption(new Option('--stage <stage>', `hazard, near-miss or incident (default: ${REPORT_DEFAULTS.stage})`).choices(STAGES))
      .option('--system <name>', 'the AI system involved')
      .option('--developer <name>', "the system's developer")
      .option('--system-version <v>', "the system's version")
      .addOption(new Option('--actor <type>', `actor type (default: ${REPORT_DEFAULTS.actor})`).choices(ACTOR_TYPES))
      .option('--actor-description <text>', 'who the actor is')
      .option('--harm <type>', `harm type (repeatable): ${HARM_TYPES.join(', ')}`, collect)
      .option('--harm-description <text>', 'the harm')
      .option('--mitigation <text>', 'a mitigation taken (repeatable)', collect)
      .option('--technique <id>', 'a MITRE ATLAS technique id, e.g. AML.T0051 (repeatable; none: the category\'s, in the STIX export)', collect)
      .option('--cve <id>', 'a CVE id, e.g. CVE-2024-12345 (repeatable)', collect)
      .option('--lang <tag>', 'language of the texts, e.g. en or zh-CN')
      .addOption(new Option('--marking <tlp>', `FIRST TLP 2.0 marking (default: ${REPORT_DEFAULTS.marking}); anything but TLP:CLEAR is encrypted`).choices(MARKINGS))
      .option('--to <party>', 'recipient party (repeatable; default every other party; a red line goes to every party)', collect)
      .addOption(new Option('--precedence <p>', "how urgent (default: the taxonomy's for the severity; a red line forces FLASH)").choices(PRECEDENCES))
      .option('-y, --yes', 'send without the confirmation (a terminal shows a summary and asks before sending)'),
  )
    .addHelpText(
      'after',
      `
Before anything is asked, the node is checked: reachable, logged in with a
role that may send, and its log confirmed by a peer (else LOG_UNCONFIRMED or
LOG_ROLLED_BACK: nothing would be signed).
At a terminal, every field the flags leave out is asked for (defaults as the
flags'), then a summary is shown and the report is sent once confirmed
(--yes: without asking). Without a terminal nothing is asked: --incident,
--title, --summary, --category, --severity and --system are required (or
--file), and a missing one is a usage error (exit 2) that names it.

Example:
  $ parley report --incident US:2026-0007 --category WT --severity 5 --system Frontier-1 \\
      --title "Weights exfiltrated" --summary "…" --harm security --mitigation "Rotated credentials" --technique AML.T0051 --yes`,
    )
    .action(act(report));
}

interface Me {
  name: string;
  role: string;
}
interface Continuity {
  state: string;
  detail: string;
}
interface AccordView {
  accord: { parties: { id: string; names: Localized }[]; redLines: { category: string; minSeverity: number }[]; deadlines: { ackSeconds: Record<string, number> } };
}
interface Links {
  links: { party: string; state: string; reason?: string }[];
}

/**
 * The node, checked before the form: reachable (NODE_UNREACHABLE), logged in
 * (UNAUTHENTICATED), a role that may send (FORBIDDEN), and a log whose size
 * a peer confirmed — else nothing would be signed (LOG_UNCONFIRMED → 3,
 * LOG_ROLLED_BACK → 2, as the node itself would answer the send).
 */
async function checkNode(c: ReturnType<typeof client>): Promise<{ channel: Channel; links: Links['links'] }> {
  const me = (await c.get('/v1/me')) as Me;
  if (me.role === 'auditor') throw new NodeRefused(403, 'FORBIDDEN', `${me.name} is an auditor at ${c.url}: auditors read, they do not send — log in as an officer`, { title: 'Not allowed for this role' });
  let cont = (await c.get('/v1/continuity')) as Continuity;
  // Just started, a node waits for a peer's answer; its own writes wait up to 5 s for it too (node rollback.ts).
  for (const end = Date.now() + 5_000; cont.state === 'unconfirmed' && Date.now() < end; ) {
    await new Promise((r) => setTimeout(r, 500));
    cont = (await c.get('/v1/continuity')) as Continuity;
  }
  if (cont.state === 'unconfirmed') {
    throw new NodeRefused(503, 'LOG_UNCONFIRMED', `the node at ${c.url} cannot send yet: ${cont.detail}`, { title: titleOf('LOG_UNCONFIRMED'), detail: cont.detail }, 'make a peer reachable and retry');
  }
  if (cont.state === 'rolled-back' || cont.state === 'recovering') {
    throw new NodeRefused(409, 'LOG_ROLLED_BACK', `the node at ${c.url} cannot send: ${cont.detail}`, { title: titleOf('LOG_ROLLED_BACK'), detail: cont.detail }, 'the node recovers from its peers by itself; otherwise stop it and run: parley recover --data DIR');
  }
  const [a, l] = await Promise.all([c.get('/v1/accord') as Promise<AccordView>, (c.get('/v1/links') as Promise<Links>).catch(() => ({ links: [] }))]);
  // Links are kept per other party: ours is the party of the accord that has none.
  const linked = new Set(l.links.map((x) => x.party));
  const ours = a.accord.parties.filter((p) => !linked.has(p.id));
  return { channel: { me: ours.length === 1 ? ours[0]!.id : '', parties: a.accord.parties, redLines: a.accord.redLines, ackSeconds: a.accord.deadlines.ackSeconds }, links: l.links };
}

async function report(o: Opts): Promise<number> {
  const c = client(o); // not logged in: say so before asking anything
  const { channel, links } = await checkNode(c);
  let fields: ReportFields = o;
  let reportBody: Record<string, unknown>;
  const tty = interactive();
  if (o.file !== undefined) {
    reportBody = readJsonFile(o.file, 'report file') as Record<string, unknown>;
  } else {
    const missing = REQUIRED.filter((k) => fields[k] === undefined);
    if (missing.length > 0) {
      if (tty) fields = await promptReport(fields, channel);
      else throw new UsageError(`missing ${missing.map(flagOf).join(', ')} (no terminal to ask on: pass them as flags, or use --file report.json)`);
    }
    reportBody = body(fields, o);
  }
  // The same check (core's body registry) the node applies to what it sends and receives: fail here, before the network.
  const bad = bodyProblem('incident.report', reportBody);
  if (bad) throw new UsageError(`the report is not a valid incident report: ${bad.message}`);
  const marking = fields.marking ?? REPORT_DEFAULTS.marking;
  if (tty && o.yes !== true) {
    await confirmReport(summaryLines({ body: reportBody, marking, to: fields.to, precedence: fields.precedence }, channel, links, process.stderr.columns ?? 80));
  }
  const s = (await c.post('/v1/reports', {
    report: reportBody,
    marking,
    ...(fields.to ? { to: fields.to } : {}),
    ...(fields.precedence ? { precedence: fields.precedence } : {}),
  })) as SubmittedView;
  makeOut(o.json === true).result({ ...s }, submittedLines('Report', s));
  return EXIT_OK;
}
