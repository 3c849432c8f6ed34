/**
 * Interactive incident report: one prompt per missing field, choices taken
 * from the taxonomy with both languages (category labels, severity with its
 * definition, actor and harm types, TLP markings). Prompts go to stderr so
 * `--json` output on stdout stays clean.
 */
import { isCancel, multiselect, select, text } from '@clack/prompts';
import { type Localized, TAXONOMY_V1 } from '@parley/core/node';
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
  actor?: string;
  harm?: string[];
  mitigation?: string[];
  marking?: string;
}

/** Fills every missing field by asking; returns the completed fields. */
export async function promptReport(f: ReportFields): Promise<ReportFields> {
  const t = TAXONOMY_V1;
  const r: ReportFields = { ...f };
  r.incident ??= await ask('Incident id (PARTY:local-id)', { placeholder: 'US:2026-0007' });
  r.kind ??= done(await select({ message: 'Report kind', output: out, options: t.reportKinds.map((k) => ({ value: k.code, label: both(k.label), hint: k.definition.en })) }));
  r.category ??= done(
    await select({
      message: 'Category · 类别',
      output: out,
      maxItems: 10,
      options: t.categories.map((c) => ({ value: c.code, label: `${c.code}  ${both(c.label)}`, hint: c.catastrophic ? 'catastrophic-risk category' : c.definition.en.slice(0, 90) })),
    }),
  );
  if (r.severity === undefined) {
    const levels = t.severity.map((s) => ({ value: String(s.level), label: `${s.level}  ${both(s.name)}  → ${s.precedence}`, hint: s.definition.en }));
    r.severity = done(await select({ message: 'Severity · 严重程度 (the definition of the highlighted level is shown)', output: out, options: levels }));
  }
  r.stage ??= done(await select({ message: 'Stage', output: out, options: t.stages.map((s) => ({ value: s.code, label: both(s.label), hint: s.definition.en.slice(0, 90) })) }));
  r.title ??= await ask('Title');
  r.summary ??= await ask('Summary: what happened, what is known and not known');
  r.system ??= await ask('AI system involved (name)');
  r.actor ??= done(await select({ message: 'Actor', output: out, options: t.actorTypes.map((a) => ({ value: a.code, label: both(a.label), hint: a.definition.en.slice(0, 90) })) }));
  r.harm ??= done(await multiselect({ message: 'Harm types (space to choose)', output: out, required: false, options: t.harmTypes.map((h) => ({ value: h.code as string, label: both(h.label) })) }));
  if (r.mitigation === undefined) {
    const m = await ask('Mitigations taken (separate with ";", or leave empty)', { optional: true });
    r.mitigation = m === '' ? [] : m.split(';').map((s) => s.trim()).filter((s) => s !== '');
  }
  r.marking ??= done(await select({ message: 'Marking (FIRST TLP 2.0)', output: out, initialValue: 'TLP:AMBER', options: t.markings.map((m) => ({ value: m.code as string, label: both(m.label), hint: m.definition.en.slice(0, 90) })) }));
  return r;
}
