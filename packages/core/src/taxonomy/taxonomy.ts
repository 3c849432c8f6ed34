/**
 * Taxonomy: the shared, versioned, bilingual incident vocabulary an accord
 * names by hash. The vocabulary itself is data — `v1.json` beside this file —
 * and this module gives it types, a strict validator, lookups and its hash.
 *
 * Shape (every `Localized` is `{ "en": …, "zh-CN": … }`, both non-empty):
 *
 *     id, version                   "parley-taxonomy", "1"
 *     title, description            Localized
 *     sources[]                     { id, title: Localized, reference, url }
 *     notes[]                       { id, text: Localized }   decisions behind the numbers
 *     receiptSeconds                machine-receipt deadline (60)
 *     categories[]                  { code: /^[A-Z]{2}$/, label, definition, catastrophic, mapsTo[] }
 *     severity[]                    levels 0…7 in order: { level, name, definition, precedence,
 *                                   ackSeconds, initialReportSeconds, initialReportImmediate }
 *     precedences[]                 FLASH, IMMEDIATE, PRIORITY, ROUTINE: { code, label, description, ackSeconds }
 *     markings[]                    TLP:CLEAR … TLP:RED (FIRST TLP 2.0): { code, label, definition }
 *     stages[], actorTypes[], harmTypes[], reportKinds[]     { code, label, definition }
 *     lifecycleStates[]             { code, label, definition, enteredBy: report kind }
 *
 * Example (one category):
 *
 *     { "code": "WT", "label": { "en": "Model-weight theft or exfiltration", "zh-CN": "模型权重窃取或外泄" },
 *       "definition": { … }, "catastrophic": true, "mapsTo": ["SB 53 CSI (1)", "RAISE", …] }
 *
 * Identity: {@link taxonomyHash} is lowercase hex SHA-256 of the RFC 8785
 * canonical bytes of the whole object, labels, sources and notes included, so
 * changing any word changes the hash an accord pins. Compatibility rule: the
 * validator accepts exactly the fields above; a new field, code set or
 * meaning is a new `version` (a new file), never an edit of `v1.json`.
 *
 * All durations are seconds. Levels 6–7 report "immediately" (TAXONOMY.md);
 * a zero deadline could never be met, so the data records the FLASH
 * acknowledgement deadline (600 s) and sets `initialReportImmediate`.
 */
import { canonicalizeToBytes } from '../cjson.js';
import { formatHex } from '../encoding.js';
import { sha256 } from '../crypto/provider.js';
import type { Category, Deadlines, Lang, Localized, Marking, Precedence, Severity, SeverityLevel, Taxonomy } from './types.js';
import { MARKINGS, PRECEDENCES } from './types.js';
import { validateTaxonomy } from './validate.js';
import data from './v1.json' with { type: 'json' };

export * from './types.js';
export { validateTaxonomy } from './validate.js';

// ---------------------------------------------------------------------------
// Identity, lookups, defaults

/**
 * The taxonomy's identity as pinned in an accord.
 *
 * hash = lowercase hex( SHA-256( RFC 8785 canonical UTF-8 bytes of `t` ) )
 *
 * @param t - a validated taxonomy
 * @returns 64 lowercase hex characters
 * @throws ParseError `JSON_NOT_CANONICALIZABLE` if `t` holds a value RFC 8785 cannot encode
 * @example taxonomyHash(TAXONOMY_V1) // the value in test/vectors/parley/taxonomy-v1.sha256
 */
export function taxonomyHash(t: Taxonomy): string {
  return formatHex(sha256(canonicalizeToBytes(t)));
}

/**
 * @param code - a category code such as "CB"
 * @returns the category, or `undefined` if `t` has no such code
 * @example category(TAXONOMY_V1, 'WT')?.catastrophic // true
 */
export function category(t: Taxonomy, code: string): Category | undefined {
  return t.categories.find((c) => c.code === code);
}

/**
 * @param level - a severity level, 0…7
 * @returns the level's entry, or `undefined` for anything else
 * @example severity(TAXONOMY_V1, 6)?.precedence // 'FLASH'
 */
export function severity(t: Taxonomy, level: number): SeverityLevel | undefined {
  return t.severity.find((s) => s.level === level);
}

/**
 * @returns the text in `lang`
 * @example label(category(TAXONOMY_V1, 'CB')!.label, 'zh-CN') // '化生放核武器能力提升'
 */
export function label(text: Localized, lang: Lang): string {
  return text[lang];
}

/** True for one of {@link PRECEDENCES}. */
export function isPrecedence(v: unknown): v is Precedence {
  return (PRECEDENCES as readonly unknown[]).includes(v);
}

/** True for one of {@link MARKINGS}. */
export function isMarking(v: unknown): v is Marking {
  return (MARKINGS as readonly unknown[]).includes(v);
}

/**
 * The default deadlines an accord starts from, read from the data.
 *
 * @returns ack deadline per precedence, initial-report deadline per severity
 *   level, and the machine-receipt deadline, in seconds
 * @example defaultDeadlines(TAXONOMY_V1).ackSeconds.FLASH // 600
 */
export function defaultDeadlines(t: Taxonomy): Deadlines {
  return {
    ackSeconds: Object.fromEntries(t.precedences.map((p) => [p.code, p.ackSeconds])) as Record<Precedence, number>,
    initialReportSeconds: Object.fromEntries(t.severity.map((s) => [s.level, s.initialReportSeconds])) as Record<Severity, number>,
    receiptSeconds: t.receiptSeconds,
  };
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/**
 * Taxonomy v1, validated when this module loads and frozen so that no caller
 * can change what its hash stands for.
 */
export const TAXONOMY_V1: Taxonomy = deepFreeze(validateTaxonomy(data));

/** Every taxonomy this build of Parley knows (an accord may name only these to be checked here). */
export const KNOWN_TAXONOMIES: readonly Taxonomy[] = [TAXONOMY_V1];

/**
 * The taxonomy an accord's `taxonomy` member names, when this build knows it
 * (same id, version and SHA-256 of its canonical form), else undefined.
 * @example knownTaxonomy(accord.taxonomy) === TAXONOMY_V1
 */
export function knownTaxonomy(ref: { readonly id: string; readonly version: string; readonly sha256: string }): Taxonomy | undefined {
  return KNOWN_TAXONOMIES.find((t) => t.id === ref.id && t.version === ref.version && taxonomyHash(t) === ref.sha256);
}
