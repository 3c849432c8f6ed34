/**
 * Strict structural check of a taxonomy (see `taxonomy.ts` for the format).
 * It accepts exactly the v1 shape: unknown fields are rejected, because a
 * field a verifier ignores would still change the hash an accord pins.
 */
import { fail } from '../errors.js';
import {
  ACTOR_TYPES, HARM_TYPES, LANGUAGES, LIFECYCLE_STATES, MARKINGS, PRECEDENCES, REPORT_KINDS, SEVERITIES, STAGES,
  type Precedence, type Taxonomy,
} from './types.js';

type Path = string;

function invalid(path: Path, why: string): never {
  return fail('TAXONOMY_INVALID', `taxonomy${path}: ${why}`);
}

/** A plain object with exactly `keys` (no more, no fewer). */
function record(v: unknown, path: Path, keys: readonly string[]): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) invalid(path, 'must be an object');
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) invalid(path, 'must be a plain object');
  const have = Object.keys(v);
  for (const k of keys) if (!Object.hasOwn(v, k)) invalid(path, `missing "${k}"`);
  for (const k of have) if (!keys.includes(k)) invalid(path, `unknown field "${k}"`);
  return v as Record<string, unknown>;
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Non-empty, no surrounding white space, no control characters. */
function text(v: unknown, path: Path): string {
  if (typeof v !== 'string' || v.trim() === '') invalid(path, 'must be a non-empty string');
  if (v !== v.trim() || CONTROL.test(v)) invalid(path, 'has surrounding white space or control characters');
  return v;
}

function localized(v: unknown, path: Path): void {
  const o = record(v, path, LANGUAGES);
  for (const lang of LANGUAGES) text(o[lang], `${path}.${lang}`);
}

function seconds(v: unknown, path: Path): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) invalid(path, 'must be a positive whole number of seconds');
  return v;
}

function bool(v: unknown, path: Path): boolean {
  if (typeof v !== 'boolean') invalid(path, 'must be true or false');
  return v;
}

function array(v: unknown, path: Path): readonly unknown[] {
  if (!Array.isArray(v) || Object.getPrototypeOf(v) !== Array.prototype) invalid(path, 'must be an array');
  return v;
}

function oneOf<C extends string | number>(v: unknown, path: Path, codes: readonly C[]): C {
  if (!codes.includes(v as C)) invalid(path, `must be one of ${codes.join(', ')}`);
  return v as C;
}

/** Items with distinct `id`s of the form `^[a-z0-9-]+$`. */
function ids(items: readonly Record<string, unknown>[], path: Path): void {
  const seen = new Set<string>();
  items.forEach((o, i) => {
    const id = text(o['id'], `${path}[${i}].id`);
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(id)) invalid(`${path}[${i}].id`, 'must be lowercase letters, digits and dashes');
    if (seen.has(id)) invalid(`${path}[${i}].id`, `duplicate "${id}"`);
    seen.add(id);
  });
}

const TERM_KEYS = ['code', 'label', 'definition'] as const;

/**
 * A closed code set: exactly `codes`, in that order, each an object with
 * `keys` (a {@link Term} by default); `rest` checks the fields beyond
 * code, label, definition and description.
 */
function terms<C extends string>(
  v: unknown,
  path: Path,
  codes: readonly C[],
  keys: readonly string[] = TERM_KEYS,
  rest?: (o: Record<string, unknown>, at: Path) => void,
): void {
  const items = array(v, path);
  if (items.length !== codes.length) invalid(path, `must list exactly ${codes.join(', ')}`);
  items.forEach((item, i) => {
    const at = `${path}[${i}]`;
    const o = record(item, at, keys);
    if (o['code'] !== codes[i]) invalid(`${at}.code`, `must be ${String(codes[i])} (codes in order ${codes.join(', ')})`);
    localized(o['label'], `${at}.label`);
    for (const k of ['definition', 'description']) if (keys.includes(k)) localized(o[k], `${at}.${k}`);
    rest?.(o, at);
  });
}

function validateCategories(v: unknown): void {
  const items = array(v, '.categories');
  if (items.length === 0) invalid('.categories', 'must not be empty');
  const seen = new Set<string>();
  items.forEach((item, i) => {
    const at = `.categories[${i}]`;
    const o = record(item, at, ['code', 'label', 'definition', 'catastrophic', 'mapsTo']);
    const code = text(o['code'], `${at}.code`);
    if (!/^[A-Z]{2}$/.test(code)) invalid(`${at}.code`, 'must be two capital letters A–Z');
    if (seen.has(code)) invalid(`${at}.code`, `duplicate "${code}"`);
    seen.add(code);
    localized(o['label'], `${at}.label`);
    localized(o['definition'], `${at}.definition`);
    bool(o['catastrophic'], `${at}.catastrophic`);
    array(o['mapsTo'], `${at}.mapsTo`).forEach((m, j) => text(m, `${at}.mapsTo[${j}]`));
  });
}

/**
 * Levels 0…7 in order; each level's ack deadline is its precedence's; a
 * higher level is never less urgent (precedence, initial-report deadline).
 */
function validateSeverity(v: unknown, ack: ReadonlyMap<Precedence, number>): void {
  const items = array(v, '.severity');
  if (items.length !== SEVERITIES.length) invalid('.severity', 'must list levels 0 to 7');
  let prev: { rank: number; report: number } | undefined;
  items.forEach((item, i) => {
    const at = `.severity[${i}]`;
    const keys = ['level', 'name', 'definition', 'precedence', 'ackSeconds', 'initialReportSeconds', 'initialReportImmediate'];
    const o = record(item, at, keys);
    if (o['level'] !== i) invalid(`${at}.level`, `must be ${i} (levels 0 to 7 in order)`);
    localized(o['name'], `${at}.name`);
    localized(o['definition'], `${at}.definition`);
    const p = oneOf(o['precedence'], `${at}.precedence`, PRECEDENCES);
    if (seconds(o['ackSeconds'], `${at}.ackSeconds`) !== ack.get(p)) invalid(`${at}.ackSeconds`, `must equal the ${p} ack deadline`);
    const report = seconds(o['initialReportSeconds'], `${at}.initialReportSeconds`);
    bool(o['initialReportImmediate'], `${at}.initialReportImmediate`);
    const rank = PRECEDENCES.length - PRECEDENCES.indexOf(p);
    if (prev && (rank < prev.rank || report > prev.report)) invalid(at, 'is less urgent than the level below it');
    prev = { rank, report };
  });
}

/**
 * Checks that `t` has exactly the shape of a {@link Taxonomy} and returns it
 * typed (the same object, not a copy).
 *
 * @param t - parsed JSON, e.g. from `parseJson` or a JSON import
 * @returns `t` as a {@link Taxonomy}
 * @throws ParseError `TAXONOMY_INVALID` naming the first offending path:
 *   a missing or unknown field, an empty or untrimmed text in either
 *   language, a category code not `^[A-Z]{2}$` or repeated, severity levels
 *   other than 0…7 in order, a precedence, marking, stage, actor, harm, report
 *   kind or state outside its closed set or out of order, a deadline that is
 *   not a positive whole number of seconds or less urgent than the level below
 * @example
 *   const t = validateTaxonomy(parseJson(bytes));
 *   taxonomyHash(t); // what the accord pins
 */
export function validateTaxonomy(t: unknown): Taxonomy {
  const keys = [
    'id', 'version', 'title', 'description', 'sources', 'notes', 'receiptSeconds', 'categories', 'severity',
    'precedences', 'markings', 'stages', 'actorTypes', 'harmTypes', 'reportKinds', 'lifecycleStates',
  ];
  const o = record(t, '', keys);
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(text(o['id'], '.id'))) invalid('.id', 'must be lowercase letters, digits and dashes');
  if (!/^[1-9][0-9]*$/.test(text(o['version'], '.version'))) invalid('.version', 'must be a decimal number without leading zeros');
  localized(o['title'], '.title');
  localized(o['description'], '.description');

  const sources = array(o['sources'], '.sources').map((s, i) => record(s, `.sources[${i}]`, ['id', 'title', 'reference', 'url']));
  if (sources.length === 0) invalid('.sources', 'must not be empty');
  ids(sources, '.sources');
  sources.forEach((s, i) => {
    localized(s['title'], `.sources[${i}].title`);
    text(s['reference'], `.sources[${i}].reference`);
    if (!/^https:\/\/\S+$/.test(text(s['url'], `.sources[${i}].url`))) invalid(`.sources[${i}].url`, 'must be an https URL');
  });
  const notes = array(o['notes'], '.notes').map((n, i) => record(n, `.notes[${i}]`, ['id', 'text']));
  ids(notes, '.notes');
  notes.forEach((n, i) => localized(n['text'], `.notes[${i}].text`));
  seconds(o['receiptSeconds'], '.receiptSeconds');

  const ack = new Map<Precedence, number>();
  terms(o['precedences'], '.precedences', PRECEDENCES, ['code', 'label', 'description', 'ackSeconds'], (p, at) => {
    const s = seconds(p['ackSeconds'], `${at}.ackSeconds`);
    if ([...ack.values()].some((faster) => faster >= s)) invalid(`${at}.ackSeconds`, 'must be longer than every more urgent precedence');
    ack.set(p['code'] as Precedence, s);
  });
  validateCategories(o['categories']);
  validateSeverity(o['severity'], ack);
  terms(o['markings'], '.markings', MARKINGS);
  terms(o['stages'], '.stages', STAGES);
  terms(o['actorTypes'], '.actorTypes', ACTOR_TYPES);
  terms(o['harmTypes'], '.harmTypes', HARM_TYPES);
  terms(o['reportKinds'], '.reportKinds', REPORT_KINDS);
  terms(o['lifecycleStates'], '.lifecycleStates', LIFECYCLE_STATES, [...TERM_KEYS, 'enteredBy'], (s, at) => {
    oneOf(s['enteredBy'], `${at}.enteredBy`, REPORT_KINDS);
  });
  return t as Taxonomy;
}

