/**
 * Interactive incident report: one prompt per field the flags left out,
 * choices taken from the taxonomy with both languages (category labels,
 * severity with its definition, actor and harm types, TLP markings) and from
 * the channel (recipients, precedence); then a summary and a confirmation.
 * Every prompt has a flag (report.ts), and its default is the flag's
 * default. Prompts and the summary go to stderr so `--json` output on stdout
 * stays clean.
 */
import { confirm, isCancel, multiselect, select, text } from '@clack/prompts';
import { type Localized, PRECEDENCES, TAXONOMY_V1 } from '@parley/core/node';
import { UsageError } from './exit.js';

const out = process.stderr;
const both = (l: Localized) => `${l.en} · ${l['zh-CN']}`;

function done<T>(v: T): Exclude<T, symbol> {
  if (isCancel(v)) throw new UsageError('cancelled: nothing was sent', 'CANCELLED');
  return v as Exclude<T, symbol>;
}

async function ask(message: string, opts: { placeholder?: string; initial?: string; optional?: boolean } = {}): Promise<string> {
  return done(
    await text({
      message,
      output: out,
      ...(opts.placeholder !== undefined ? { placeholder: opts.placeholder } : {}),
      ...(opts.initial !== undefined ? { initialValue: opts.initial } : {}),
      validate: (v) => (opts.optional || (v ?? '').trim() !== '' ? undefined : 'required'),
    }),
  ).trim();
}

/** The fields a report needs, as flags gave them (strings) — missing ones are asked for. */
export interface ReportFields {
  incident?: string;
  kind?: string;
  title?: string;
  summary?: string;
  category?: string;
  severity?: string;
  stage?: string;
  system?: string;
  developer?: string;
  systemVersion?: string;
  actor?: string;
  harm?: string[];
  harmDescription?: string;
  mitigation?: string[];
  marking?: string;
  to?: string[];
  precedence?: string;
}

/** The defaults of the flags, which the prompts also start on. */
export const REPORT_DEFAULTS = { kind: 'initial', stage: 'incident', actor: 'unknown', marking: 'TLP:AMBER' } as const;

/** What the channel adds to the form: the other parties and the red lines (from the node's accord). */
export interface Channel {
  readonly me: string;
  readonly parties: readonly { readonly id: string; readonly names: Localized }[];
  readonly redLines: readonly { readonly category: string; readonly minSeverity: number }[];
  readonly ackSeconds: Readonly<Record<string, number>>;
}

/** The taxonomy's precedence for a severity level (the node's default when --precedence is not given). */
export function severityPrecedence(severity: number): string {
  return TAXONOMY_V1.severity.find((s) => s.level === severity)?.precedence ?? 'ROUTINE';
}

/** The red line a category and severity cross, if any: the report then goes FLASH to every party. */
export function redLineOf(c: Channel, category: string | undefined, severity: number): { category: string; minSeverity: number } | undefined {
  return c.redLines.find((l) => l.category === category && severity >= l.minSeverity);
}

/**
 * Fills every missing field by asking; returns the completed fields.
 * @throws UsageError `CANCELLED` when a prompt is cancelled.
 */
export async function promptReport(f: ReportFields, channel: Channel): Promise<ReportFields> {
  const t = TAXONOMY_V1;
  const r: ReportFields = { ...f };
  r.incident ??= await ask('Incident id (PARTY:local-id)', { placeholder: `${channel.me}:2026-0007` });
  r.kind ??= done(await select({ message: 'Report kind', output: out, initialValue: REPORT_DEFAULTS.kind, options: t.reportKinds.map((k) => ({ value: k.code, label: both(k.label), hint: k.definition.en })) }));
  r.category ??= done(
    await select({
      message: 'Category · 类别',
      output: out,
      maxItems: 10,
      options: t.categories.map((c) => ({ value: c.code, label: `${c.code}  ${both(c.label)}`, hint: `${c.catastrophic ? 'catastrophic-risk category: ' : ''}${c.definition.en}` })),
    }),
  );
  if (r.severity === undefined) {
    const levels = t.severity.map((s) => ({ value: String(s.level), label: `${s.level}  ${both(s.name)}  → ${s.precedence}`, hint: s.definition.en }));
    r.severity = done(await select({ message: 'Severity · 严重程度 (the definition of the highlighted level is shown)', output: out, options: levels }));
  }
  r.stage ??= done(await select({ message: 'Stage', output: out, initialValue: REPORT_DEFAULTS.stage, options: t.stages.map((s) => ({ value: s.code, label: both(s.label), hint: s.definition.en })) }));
  r.title ??= await ask('Title');
  r.summary ??= await ask('Summary: what happened, what is known and not known');
  r.system ??= await ask('AI system involved (name)');
  r.developer ??= await ask("The system's developer (optional)", { optional: true });
  r.systemVersion ??= await ask("The system's version (optional)", { optional: true });
  r.actor ??= done(await select({ message: 'Actor', output: out, initialValue: REPORT_DEFAULTS.actor, options: t.actorTypes.map((a) => ({ value: a.code, label: both(a.label), hint: a.definition.en })) }));
  r.harm ??= done(await multiselect({ message: 'Harm types (space to choose)', output: out, required: false, options: t.harmTypes.map((h) => ({ value: h.code as string, label: both(h.label), hint: h.definition.en })) }));
  if (r.harmDescription === undefined && r.harm.length > 0) r.harmDescription = await ask('The harm, in a sentence (optional)', { optional: true });
  if (r.mitigation === undefined) {
    const m = await ask('Mitigations taken (separate with ";", or leave empty)', { optional: true });
    r.mitigation = m === '' ? [] : m.split(';').map((s) => s.trim()).filter((s) => s !== '');
  }
  r.marking ??= done(await select({ message: 'Marking (FIRST TLP 2.0)', output: out, initialValue: REPORT_DEFAULTS.marking, options: t.markings.map((m) => ({ value: m.code as string, label: both(m.label), hint: m.definition.en })) }));
  const severity = Number(r.severity);
  const red = redLineOf(channel, r.category, severity);
  const others = channel.parties.filter((p) => p.id !== channel.me);
  if (red) {
    // A red line decides both: FLASH, to every party (the node enforces it).
    out.write(`│\n◇  Red line ${red.category}≥${red.minSeverity} crossed: sent FLASH to every party (${others.map((p) => p.id).join(', ')})\n`);
  } else {
    if (r.to === undefined && others.length > 1) {
      r.to = done(
        await multiselect({ message: 'Recipients (space to choose)', output: out, required: true, initialValues: others.map((p) => p.id), options: others.map((p) => ({ value: p.id, label: `${p.id}  ${both(p.names)}` })) }),
      );
    }
    if (r.precedence === undefined) {
      const byTaxonomy = severityPrecedence(severity);
      r.precedence = done(
        await select({
          message: 'Precedence (sets the acknowledgement deadline)',
          output: out,
          initialValue: byTaxonomy,
          options: PRECEDENCES.map((p) => ({ value: p as string, label: p, hint: `acknowledge within ${span(channel.ackSeconds[p] ?? 0)}${p === byTaxonomy ? ` — the taxonomy's for severity ${severity}` : ''}` })),
        }),
      );
    }
  }
  return r;
}

/** "4 h", "15 min", "90 s". */
export function span(seconds: number): string {
  if (seconds % 3600 === 0 && seconds >= 3600) return `${seconds / 3600} h`;
  if (seconds % 60 === 0 && seconds >= 60) return `${seconds / 60} min`;
  return `${seconds} s`;
}

/**
 * Wraps `text` at word boundaries to lines of at most `width` columns (a
 * word longer than the line is split, as nothing else fits).
 */
export function wrapWords(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (let word of para.split(/\s+/).filter((w) => w !== '')) {
      while (word.length > width) {
        if (line !== '') lines.push(line);
        lines.push(word.slice(0, width));
        word = word.slice(width);
        line = '';
      }
      if (line === '') line = word;
      else if (line.length + 1 + word.length <= width) line += ` ${word}`;
      else {
        lines.push(line);
        line = word;
      }
    }
    lines.push(line);
  }
  return lines;
}

/** What will be sent, as the officer checks it before confirming. */
export interface ReportSummary {
  readonly body: Record<string, unknown>;
  readonly marking: string;
  /** Recipients, or undefined for every other party. */
  readonly to: readonly string[] | undefined;
  readonly precedence: string | undefined;
}

/** The summary lines (for a terminal `columns` wide). */
export function summaryLines(s: ReportSummary, channel: Channel, links: readonly { party: string; state: string; reason?: string }[], columns: number): string[] {
  const b = s.body as {
    incident?: string; kind?: string; title?: string; summary?: string; category?: string; severity?: number; stage?: string;
    system?: { name?: string; developer?: string; version?: string }; actor?: { type?: string; description?: string };
    harm?: { types?: string[]; description?: string }; mitigations?: string[]; lang?: string;
  };
  const t = TAXONOMY_V1;
  const severity = b.severity ?? 0;
  const red = redLineOf(channel, b.category, severity);
  const others = channel.parties.filter((p) => p.id !== channel.me).map((p) => p.id);
  const to = red ? others : (s.to ?? others);
  const precedence = red ? 'FLASH' : (s.precedence ?? severityPrecedence(severity));
  const cat = t.categories.find((c) => c.code === b.category);
  const sev = t.severity.find((x) => x.level === severity);
  const width = Math.max(30, columns - 16);
  const row = (name: string, value: string): string[] => wrapWords(value, width).map((l, i) => `${i === 0 ? name.padEnd(13) : ' '.repeat(13)}${l}`);
  const system = [b.system?.name, b.system?.developer ? `by ${b.system.developer}` : '', b.system?.version ? `version ${b.system.version}` : ''].filter((x) => x).join(', ');
  const down = links.filter((l) => to.includes(l.party) && l.state !== 'up');
  return [
    'Incident report — check before sending (it is signed into your log and cannot be withdrawn, only retracted):',
    ...row('incident', `${b.incident ?? ''} (${b.kind ?? ''})`),
    ...row('category', cat ? `${cat.code} ${both(cat.label)}` : String(b.category)),
    ...row('severity', sev ? `${severity} ${both(sev.name)}` : String(severity)),
    ...row('stage', String(b.stage ?? '')),
    ...row('title', String(b.title ?? '')),
    ...row('summary', String(b.summary ?? '')),
    ...row('system', system),
    ...row('actor', `${b.actor?.type ?? ''}${b.actor?.description ? ` — ${b.actor.description}` : ''}`),
    ...row('harm', `${(b.harm?.types ?? []).join(', ') || 'none given'}${b.harm?.description ? ` — ${b.harm.description}` : ''}`),
    ...row('mitigations', (b.mitigations ?? []).join('; ') || 'none given'),
    ...row('marking', `${s.marking}${s.marking === 'TLP:CLEAR' ? ' (not encrypted)' : ' (sealed to the recipients)'}`),
    ...row('to', to.join(', ') + (red ? ` — red line ${red.category}≥${red.minSeverity}: every party` : '')),
    ...row('precedence', `${precedence} — acknowledge within ${span(channel.ackSeconds[precedence] ?? 0)}${red ? ' (red line)' : s.precedence === undefined ? ` (the taxonomy's for severity ${severity})` : ''}`),
    ...down.map((l) => `warning: the link to ${l.party} is ${l.state}${l.reason ? ` (${l.reason})` : ''}: the report is logged now and delivered when it comes back`),
  ];
}

/**
 * Shows the summary and asks to send.
 * @throws UsageError `CANCELLED` unless the officer confirms.
 */
export async function confirmReport(lines: readonly string[]): Promise<void> {
  out.write(`│\n${lines.map((l) => `│  ${l}`).join('\n')}\n`);
  const yes = done(await confirm({ message: 'Send this report?', output: out, initialValue: true }));
  if (!yes) throw new UsageError('not sent: the report was not confirmed', 'CANCELLED');
}
