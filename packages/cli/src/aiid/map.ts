/**
 * The AIID mapping: an editable data file (shipped: packages/cli/data/aiid-map.json;
 * `parley import aiid --map FILE` for another) that turns AIID classifications
 * — MIT risk (sub)domains, CSETv1 harm fields, GMF failures — into Parley
 * taxonomy v1 codes: category, severity, harm types, stage and `potential`
 * (a near miss or an issue). Its rules and how they combine are described in
 * the file itself (`description`); {@link parseMap} checks every code
 * against the taxonomy, so a typo is an error before anything is read.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HARM_TYPES, STAGES, TAXONOMY_V1 } from '@parley/core';
import { UsageError } from '../exit.js';
import type { Classification } from './snapshot.js';

type HarmType = (typeof HARM_TYPES)[number];
type Stage = (typeof STAGES)[number];

/** What a matched value contributes. */
export interface MapSet {
  readonly category?: string;
  readonly severity?: number;
  readonly harm?: readonly HarmType[];
  readonly potential?: boolean;
  readonly stage?: Stage;
}
export interface MapRule {
  readonly namespace: string;
  readonly field: string;
  /** Cell value (one item of a multi-value cell) → what it contributes. */
  readonly values?: Readonly<Record<string, MapSet>>;
  /** Values known and deliberately not mapped. */
  readonly ignore?: readonly string[];
  /** For a number cell: every threshold reached contributes its set. */
  readonly numbers?: readonly { readonly min: number; readonly set: MapSet }[];
}
export interface AiidMap {
  readonly version: 1;
  readonly defaults: { readonly category: string; readonly severity: number; readonly stage: Stage; readonly harm: readonly HarmType[] };
  readonly unknownValues: 'default' | 'skip';
  readonly rules: readonly MapRule[];
}

/** The map shipped with parley. */
export const DEFAULT_MAP_PATH = fileURLToPath(new URL('../../data/aiid-map.json', import.meta.url));

const CATEGORIES = new Set(TAXONOMY_V1.categories.map((c) => c.code));
const bad = (where: string, what: string): never => {
  throw new UsageError(`aiid map ${where}: ${what}`, 'AIID_MAP_INVALID');
};
const isObj = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function parseSet(x: unknown, where: string): MapSet {
  if (!isObj(x)) return bad(where, 'must be an object');
  for (const k of Object.keys(x)) if (!['category', 'severity', 'harm', 'potential', 'stage'].includes(k)) bad(where, `unknown member "${k}"`);
  if (x['category'] !== undefined && (typeof x['category'] !== 'string' || !CATEGORIES.has(x['category']))) bad(`${where}.category`, `"${String(x['category'])}" is not a taxonomy category (${[...CATEGORIES].join(', ')})`);
  if (x['severity'] !== undefined && (!Number.isInteger(x['severity']) || (x['severity'] as number) < 0 || (x['severity'] as number) > 7)) bad(`${where}.severity`, 'must be an integer 0–7');
  if (x['harm'] !== undefined && (!Array.isArray(x['harm']) || !x['harm'].every((h) => (HARM_TYPES as readonly unknown[]).includes(h)))) bad(`${where}.harm`, `must list harm types (${HARM_TYPES.join(', ')})`);
  if (x['potential'] !== undefined && typeof x['potential'] !== 'boolean') bad(`${where}.potential`, 'must be true or false');
  if (x['stage'] !== undefined && !(STAGES as readonly unknown[]).includes(x['stage'])) bad(`${where}.stage`, `must be one of ${STAGES.join(', ')}`);
  return x as MapSet;
}

/**
 * Checks a map document.
 * @throws UsageError `AIID_MAP_INVALID` naming the member.
 */
export function parseMap(doc: unknown): AiidMap {
  if (!isObj(doc) || doc['format'] !== 'parley-aiid-map' || doc['version'] !== 1) return bad('', 'not a parley-aiid-map version 1 document ({"format": "parley-aiid-map", "version": 1, …})');
  const d = doc['defaults'];
  if (!isObj(d)) return bad('defaults', 'missing');
  const defaults = parseSet(d, 'defaults');
  if (defaults.category === undefined || defaults.severity === undefined || defaults.stage === undefined) bad('defaults', 'needs category, severity and stage');
  if (doc['unknownValues'] !== 'default' && doc['unknownValues'] !== 'skip') bad('unknownValues', 'must be "default" or "skip"');
  if (!Array.isArray(doc['rules'])) return bad('rules', 'must be a list');
  const rules = doc['rules'].map((r: unknown, k: number): MapRule => {
    const w = `rules[${k}]`;
    if (!isObj(r) || typeof r['namespace'] !== 'string' || typeof r['field'] !== 'string') return bad(w, 'needs namespace and field');
    if (r['values'] !== undefined) {
      if (!isObj(r['values'])) bad(`${w}.values`, 'must be an object');
      for (const [v, s] of Object.entries(r['values'] as object)) parseSet(s, `${w}.values["${v}"]`);
    }
    if (r['ignore'] !== undefined && (!Array.isArray(r['ignore']) || !r['ignore'].every((x) => typeof x === 'string'))) bad(`${w}.ignore`, 'must list strings');
    if (r['numbers'] !== undefined) {
      if (!Array.isArray(r['numbers'])) bad(`${w}.numbers`, 'must be a list');
      (r['numbers'] as unknown[]).forEach((n, j) => {
        if (!isObj(n) || typeof n['min'] !== 'number') bad(`${w}.numbers[${j}]`, 'needs min and set');
        parseSet((n as Record<string, unknown>)['set'], `${w}.numbers[${j}].set`);
      });
    }
    if (r['values'] === undefined && r['numbers'] === undefined) bad(w, 'needs values or numbers');
    return r as unknown as MapRule;
  });
  return { version: 1, defaults: { category: defaults.category!, severity: defaults.severity!, stage: defaults.stage!, harm: defaults.harm ?? [] }, unknownValues: doc['unknownValues'] as 'default' | 'skip', rules };
}

/** Loads and checks a map file (default: the shipped one). */
export function loadMap(path = DEFAULT_MAP_PATH): AiidMap {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the map ${path}: ${(e as Error).message}`, 'FILE_UNREADABLE');
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`aiid map ${path}: not JSON: ${(e as Error).message}`, 'AIID_MAP_INVALID');
  }
  return parseMap(doc);
}

/** The namespaces a map reads. */
export const namespacesOf = (m: AiidMap): Set<string> => new Set(m.rules.map((r) => r.namespace));

/**
 * The items of a cell: the whole cell when the rule knows it (MIT values
 * hold commas), else the known values it lists (AIID joins a list with
 * ", "), and what is left split at ", ".
 */
export function cellItems(cell: string, known: readonly string[]): string[] {
  const c = cell.trim();
  if (c === '') return [];
  if (known.includes(c)) return [c];
  const items: string[] = [];
  let rest = `, ${c}, `;
  for (const k of [...known].filter((k) => k !== '').sort((a, b) => b.length - a.length)) {
    const at = rest.indexOf(`, ${k}, `);
    if (at >= 0) {
      items.push(k);
      rest = `${rest.slice(0, at)}, ${rest.slice(at + k.length + 4)}`;
    }
  }
  for (const p of rest.split(', ')) if (p.trim() !== '') items.push(p.trim());
  return items;
}

/** A cell value no rule maps or ignores. */
export interface Unmapped {
  readonly namespace: string;
  readonly field: string;
  readonly value: string;
  readonly from: string;
}

export interface Mapped {
  readonly category: string;
  readonly severity: number;
  readonly harm: readonly HarmType[];
  readonly stage: Stage;
  readonly potential: boolean;
  /** The category is the map's default: no rule set one. */
  readonly defaulted: boolean;
  readonly unmapped: readonly Unmapped[];
}

/** Applies the map to an incident's published classifications. */
export function applyMap(m: AiidMap, cls: readonly Classification[]): Mapped {
  let category: string | undefined;
  let severity: number | undefined;
  const harm = new Set<HarmType>(m.defaults.harm);
  let potential = false;
  let stage: Stage | undefined;
  const unmapped: Unmapped[] = [];
  const apply = (s: MapSet) => {
    category ??= s.category;
    if (s.severity !== undefined) severity = Math.max(severity ?? 0, s.severity);
    for (const h of s.harm ?? []) harm.add(h);
    if (s.potential === true) {
      potential = true;
      stage ??= s.stage;
    }
  };
  for (const rule of m.rules) {
    for (const c of cls.filter((x) => x.namespace === rule.namespace)) {
      const cell = c.values.get(rule.field);
      if (cell === undefined || cell.trim() === '') continue;
      if (rule.numbers) {
        const n = Number(cell.replaceAll(',', '').trim());
        if (!Number.isFinite(n)) unmapped.push({ namespace: rule.namespace, field: rule.field, value: cell, from: c.from });
        else for (const t of rule.numbers) if (n >= t.min) apply(t.set);
        continue;
      }
      const values = rule.values ?? {};
      const ignore = rule.ignore ?? [];
      for (const item of cellItems(cell, [...Object.keys(values), ...ignore])) {
        const s = Object.hasOwn(values, item) ? values[item] : undefined;
        if (s) apply(s);
        else if (!ignore.includes(item)) unmapped.push({ namespace: rule.namespace, field: rule.field, value: item, from: c.from });
      }
    }
  }
  const order = HARM_TYPES as readonly HarmType[];
  return {
    category: category ?? m.defaults.category,
    severity: severity ?? m.defaults.severity,
    harm: [...harm].sort((a, b) => order.indexOf(a) - order.indexOf(b)),
    stage: potential ? (stage ?? 'near-miss') : m.defaults.stage,
    potential,
    defaulted: category === undefined,
    unmapped,
  };
}
