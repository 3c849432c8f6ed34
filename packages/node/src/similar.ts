/**
 * Cross-party link suggestions (issue 13): how likely two incident reports,
 * by different parties, describe the same event. Pure functions, no I/O, no
 * external service; the node's link routes (http/links.ts) call them.
 *
 * Evidence, each with its weight (total 1):
 *
 *     system   0.35  the AI system's name, normalised (NFKC, lower case, no
 *                    punctuation or spaces, version suffixes dropped): equal,
 *                    or one contains the other (≥ 4 characters) — 0.25
 *     developer 0.10 the developer's name, normalised the same way
 *     time     0.25  the two events' times (occurredAt, else detectedAt, else
 *                    the first report's time): ≤ 1 day apart 0.25, ≤ 3 days
 *                    0.18, ≤ 7 days 0.12, ≤ 30 days 0.05
 *     text     0.25  Dice coefficient of the two reports' text features ×
 *                    0.25 (scaled so that 0.5 already gives the full weight)
 *     category 0.05  the same taxonomy category
 *     source   0.5   both taken from the same record of a public database
 *                    (`source` name and id: two parties' imports of AIID 23)
 *
 * Text features work for Chinese and English alike: runs of Han, kana or
 * Hangul become character bigrams (Chinese has no spaces to split words on,
 * and bigrams are the standard unit of CJK retrieval), Latin words become
 * lower-cased tokens (stop words and one-letter words dropped), digit runs
 * stay whole. A Chinese and an English report of one event share the Latin
 * names and numbers the Chinese text carries (system names, CVE ids,
 * versions, figures), which is what the text score sees across languages;
 * the system and time evidence carry the rest.
 */
import type { IncidentReport } from './bodies.js';

export interface Reason {
  /** `source` | `system` | `developer` | `time` | `text` | `category`. */
  readonly code: 'source' | 'system' | 'developer' | 'time' | 'text' | 'category';
  /** What matched, in words (English; the dashboard words it from code and value). */
  readonly text: string;
  /** Its contribution to the score. */
  readonly weight: number;
}

export interface Similarity {
  /** 0–1, rounded to 3 decimals. */
  readonly score: number;
  readonly reasons: readonly Reason[];
}

/** The facts of one incident the comparison uses: its latest readable report and its first report's time. */
export interface Comparable {
  readonly report: IncidentReport;
  /** RFC 3339 time of the incident's first report. */
  readonly firstTime: string;
}

const DAY = 86_400_000;
const STOP = new Set(
  'a an and are as at be been but by for from had has have in into is it its of on or that the their this to was were which with will not no via after before over under about than then also'.split(' '),
);

/** A name for comparison: NFKC, lower case, letters and digits only, a trailing version (`v2`, `2.1`, `-4o`) kept. */
export function normalizeName(s: string): string {
  return s
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, '');
}

// Han, kana, Hangul, and the marks that live inside their words (ー U+30FC, 々 U+3005: Script=Common).
const CJK_CLASS = String.raw`[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u30FC\u3005]`;
const CJK = new RegExp(CJK_CLASS, 'u');
/** A run of CJK characters, or a word of other letters and digits (never swallowing CJK). */
const RUNS = new RegExp(String.raw`${CJK_CLASS}+|(?:(?!${CJK_CLASS})[\p{L}\p{N}])(?:(?!${CJK_CLASS})[\p{L}\p{N}'._-])*`, 'gu');

/** The text features of a string: CJK character bigrams, Latin word tokens, digit runs (a set). */
export function textFeatures(s: string): Set<string> {
  const out = new Set<string>();
  const t = s.normalize('NFKC').toLowerCase();
  // Split into runs of CJK characters and runs of other letters/digits.
  for (const m of t.matchAll(RUNS)) {
    const run = m[0];
    if (CJK.test(run[0]!)) {
      const chars = [...run];
      if (chars.length === 1) out.add(chars[0]!);
      for (let i = 0; i + 1 < chars.length; i++) out.add(chars[i]! + chars[i + 1]!);
    } else {
      const w = run.replace(/['._-]+$/u, '');
      if (w.length < 2 && !/^\d$/.test(w)) continue;
      if (STOP.has(w)) continue;
      out.add(w);
    }
  }
  return out;
}

/** Dice coefficient of two sets: 2|A∩B| / (|A|+|B|), 0 for two empty sets. */
export function dice(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 || b.size === 0) return 0;
  let common = 0;
  const [small, big] = a.size <= b.size ? [a, b] : [b, a];
  for (const x of small) if (big.has(x)) common++;
  return (2 * common) / (a.size + b.size);
}

/** The text of a report the comparison reads. */
export function reportText(r: IncidentReport): string {
  return [r.title, r.summary, r.system.name, r.system.developer ?? '', r.harm.description ?? '', r.actor.description ?? ''].join('\n');
}

/** When the event happened, as well as the report says: occurredAt, else detectedAt, else the first report's time (ms). */
export function eventTime(c: Comparable): number {
  return Date.parse(c.report.occurredAt ?? c.report.detectedAt ?? c.firstTime);
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * How likely `a` and `b` describe one event, and why.
 * @example
 *   compare({report: usReport, firstTime}, {report: cnReport, firstTime}).score // 0.83
 */
export function compare(a: Comparable, b: Comparable): Similarity {
  const reasons: Reason[] = [];
  const sa = a.report.source;
  const sb = b.report.source;
  if (sa !== undefined && sb !== undefined && sa.name === sb.name && sa.id === sb.id) reasons.push({ code: 'source', text: `same ${sa.name} record ${sa.id}`, weight: 0.5 });
  const na = normalizeName(a.report.system.name);
  const nb = normalizeName(b.report.system.name);
  if (na !== '' && na === nb) reasons.push({ code: 'system', text: `same system: ${a.report.system.name}`, weight: 0.35 });
  else if (Math.min(na.length, nb.length) >= 4 && (na.includes(nb) || nb.includes(na))) reasons.push({ code: 'system', text: `similar system: ${a.report.system.name} / ${b.report.system.name}`, weight: 0.25 });
  const da = a.report.system.developer !== undefined ? normalizeName(a.report.system.developer) : '';
  const db = b.report.system.developer !== undefined ? normalizeName(b.report.system.developer) : '';
  if (da !== '' && da === db) reasons.push({ code: 'developer', text: `same developer: ${a.report.system.developer}`, weight: 0.1 });
  const gap = Math.abs(eventTime(a) - eventTime(b));
  if (Number.isFinite(gap)) {
    const w = gap <= DAY ? 0.25 : gap <= 3 * DAY ? 0.18 : gap <= 7 * DAY ? 0.12 : gap <= 30 * DAY ? 0.05 : 0;
    if (w > 0) reasons.push({ code: 'time', text: `events ${gap <= DAY ? 'within a day' : `${Math.ceil(gap / DAY)} days apart`}`, weight: w });
  }
  const d = dice(textFeatures(reportText(a.report)), textFeatures(reportText(b.report)));
  const tw = round(Math.min(1, d * 2) * 0.25);
  if (tw >= 0.01) reasons.push({ code: 'text', text: `text similarity ${round(d)}`, weight: tw });
  if (a.report.category === b.report.category) reasons.push({ code: 'category', text: `same category ${a.report.category}`, weight: 0.05 });
  return { score: round(Math.min(1, reasons.reduce((s, r) => s + r.weight, 0))), reasons };
}

/** Default lowest score a suggestion needs. */
export const MIN_SCORE = 0.4;
