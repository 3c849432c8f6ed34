/**
 * Taxonomy v1: the shipped data file validates, is fully bilingual, carries
 * the defaults of TAXONOMY.md's severity table, and hashes to the value pinned
 * in vectors/parley/taxonomy-v1.sha256.
 *
 * The pinned hash was computed independently of our code, with Python:
 *   json.dumps(json.load(f), sort_keys=True, separators=(',', ':'), ensure_ascii=False)
 * then hashlib.sha256 — the same bytes as RFC 8785 for this file (ASCII keys,
 * integers, no control characters). A deliberate change to v1.json must
 * update that file: the hash is what every accord names.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ParseError } from '../src/errors.js';
import { parseJson } from '../src/ijson.js';
import {
  ACTOR_TYPES, HARM_TYPES, LIFECYCLE_STATES, MARKINGS, PRECEDENCES, REPORT_KINDS, STAGES, TAXONOMY_V1, type Taxonomy,
  category, defaultDeadlines, isMarking, isPrecedence, label, severity, taxonomyHash, validateTaxonomy,
} from '../src/taxonomy/taxonomy.js';
import { assertThrowsCode } from './helpers/assert.js';
import { providers, useProvider } from './helpers/providers.js';

const fileBytes = readFileSync(fileURLToPath(new URL('../src/taxonomy/v1.json', import.meta.url)));
const pinned = readFileSync(fileURLToPath(new URL('./vectors/parley/taxonomy-v1.sha256', import.meta.url)), 'utf8').trim();

const CJK = /[\u4e00-\u9fff]/;
const TEXT_FIELDS = new Set(['title', 'description', 'label', 'definition', 'name', 'text']);

/** Every value under a bilingual field name, with its path. */
function texts(v: unknown, path = ''): [string, unknown][] {
  if (Array.isArray(v)) return v.flatMap((x, i) => texts(x, `${path}[${i}]`));
  if (typeof v !== 'object' || v === null) return [];
  return Object.entries(v).flatMap(([k, x]) => (TEXT_FIELDS.has(k) ? [[`${path}.${k}`, x] as [string, unknown]] : texts(x, `${path}.${k}`)));
}

/** A writable deep copy to mutate. */
function copy(): any {
  return structuredClone(TAXONOMY_V1);
}

describe('taxonomy v1 data file', () => {
  it('validates, and TAXONOMY_V1 is exactly the file', () => {
    const parsed = parseJson(fileBytes);
    expect(validateTaxonomy(parsed)).toBe(parsed);
    expect(TAXONOMY_V1).toEqual(parsed);
    expect(TAXONOMY_V1.id).toBe('parley-taxonomy');
    expect(TAXONOMY_V1.version).toBe('1');
  });

  it('has every label and definition in both languages: Chinese text in zh-CN, none in en', () => {
    const all = texts(TAXONOMY_V1);
    expect(all.length).toBe(140); // 2 + 11 sources + 3 notes + 2 × (16 + 8 + 4 + 5 + 3 + 10 + 8 + 4 + 4)
    for (const [path, v] of all) {
      expect(Object.keys(v as object).sort(), path).toEqual(['en', 'zh-CN']);
      const { en, 'zh-CN': zh } = v as { en: unknown; 'zh-CN': unknown };
      expect(typeof en === 'string' && en.trim() !== '', `${path}.en`).toBe(true);
      expect(typeof zh === 'string' && zh.trim() !== '', `${path}.zh-CN`).toBe(true);
      expect(en as string, `${path}.en`).not.toMatch(CJK);
      expect(zh as string, `${path}.zh-CN`).toMatch(CJK);
    }
  });

  it('has the 16 categories of TAXONOMY.md, catastrophic exactly where SB 53 / RAISE put them', () => {
    const codes = TAXONOMY_V1.categories.map((c) => c.code);
    expect(codes).toEqual(['UB', 'EV', 'AR', 'WT', 'SC', 'CY', 'CB', 'MU', 'SB', 'MI', 'CI', 'IO', 'HS', 'RV', 'DC', 'CF']);
    const catastrophic = TAXONOMY_V1.categories.filter((c) => c.catastrophic).map((c) => c.code);
    expect(catastrophic.sort()).toEqual(['AR', 'CB', 'CY', 'EV', 'UB', 'WT']);
    for (const c of TAXONOMY_V1.categories) expect(c.mapsTo.length, c.code).toBeGreaterThan(0);
    expect(category(TAXONOMY_V1, 'WT')!.mapsTo).toContain('ATLAS AML.T0024');
  });

  it('lists its sources, the ones TAXONOMY.md draws on among them', () => {
    const ids = TAXONOMY_V1.sources.map((s) => s.id);
    for (const id of ['eu-ai-act', 'ca-sb-53', 'ny-raise', 'iaea-ines', 'first-tlp-2', 'mitre-atlas']) expect(ids).toContain(id);
    expect(TAXONOMY_V1.sources.find((s) => s.id === 'eu-ai-act')!.reference).toMatch(/Art\. 3\(49\).*Art\. 73/);
  });

  it('has the closed code sets in their order', () => {
    expect(PRECEDENCES).toEqual(['FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE']);
    expect(MARKINGS).toEqual(['TLP:CLEAR', 'TLP:GREEN', 'TLP:AMBER', 'TLP:AMBER+STRICT', 'TLP:RED']);
    expect(TAXONOMY_V1.precedences.map((p) => p.code)).toEqual(PRECEDENCES);
    expect(TAXONOMY_V1.markings.map((m) => m.code)).toEqual(MARKINGS);
    expect(TAXONOMY_V1.stages.map((s) => s.code)).toEqual(STAGES);
    expect(TAXONOMY_V1.actorTypes.map((a) => a.code)).toEqual(ACTOR_TYPES);
    expect(TAXONOMY_V1.harmTypes.map((h) => h.code)).toEqual(HARM_TYPES);
    expect(TAXONOMY_V1.reportKinds.map((r) => r.code)).toEqual(REPORT_KINDS);
    expect(TAXONOMY_V1.lifecycleStates.map((s) => [s.code, s.enteredBy])).toEqual(
      LIFECYCLE_STATES.map((s, i) => [s, REPORT_KINDS[i]]),
    );
    for (const a of ['developer', 'deployer', 'affected-party', 'state-actor', 'non-state-actor', 'unknown']) expect(ACTOR_TYPES).toContain(a);
  });

  it('is frozen, so what its hash stands for cannot change at run time', () => {
    expect(() => {
      (TAXONOMY_V1 as any).version = '2';
    }).toThrow(TypeError);
    expect(() => {
      (TAXONOMY_V1.categories[0]!.label as any).en = 'x';
    }).toThrow(TypeError);
  });
});

describe('severity, precedence and deadline defaults (TAXONOMY.md table)', () => {
  const H = 3600;
  const D = 86400;
  // level → [precedence, ack, first report, "immediately"]
  const table = [
    ['ROUTINE', 6 * H, 15 * D, false],
    ['ROUTINE', 6 * H, 15 * D, false],
    ['PRIORITY', 3 * H, 72 * H, false],
    ['PRIORITY', 3 * H, 72 * H, false],
    ['IMMEDIATE', 30 * 60, 24 * H, false],
    ['IMMEDIATE', 30 * 60, 24 * H, false],
    ['FLASH', 10 * 60, 10 * 60, true],
    ['FLASH', 10 * 60, 10 * 60, true],
  ] as const;

  it('matches the table level by level', () => {
    expect(TAXONOMY_V1.severity.map((s) => s.level)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    table.forEach(([precedence, ack, report, immediate], level) => {
      const s = severity(TAXONOMY_V1, level)!;
      expect([s.precedence, s.ackSeconds, s.initialReportSeconds, s.initialReportImmediate], `level ${level}`).toEqual([precedence, ack, report, immediate]);
    });
  });

  it('defaultDeadlines reads them from the data', () => {
    expect(defaultDeadlines(TAXONOMY_V1)).toEqual({
      ackSeconds: { FLASH: 600, IMMEDIATE: 1800, PRIORITY: 10800, ROUTINE: 21600 },
      initialReportSeconds: { 0: 1296000, 1: 1296000, 2: 259200, 3: 259200, 4: 86400, 5: 86400, 6: 600, 7: 600 },
      receiptSeconds: 60,
    });
    const t = copy();
    t.receiptSeconds = 30;
    t.precedences[0].ackSeconds = 300;
    t.severity[6].ackSeconds = 300;
    t.severity[7].ackSeconds = 300;
    const d = defaultDeadlines(validateTaxonomy(t));
    expect([d.receiptSeconds, d.ackSeconds.FLASH]).toEqual([30, 300]);
  });
});

describe('taxonomyHash', () => {
  for (const p of providers) {
    describe(p.name, () => {
      useProvider(p);
      it('equals the pinned vector, for the object and for the file parsed afresh', () => {
        expect(pinned).toMatch(/^[0-9a-f]{64}$/);
        expect(taxonomyHash(TAXONOMY_V1)).toBe(pinned);
        expect(taxonomyHash(validateTaxonomy(parseJson(fileBytes)))).toBe(pinned);
      });
    });
  }

  it('changes with any word, in either language', () => {
    const t = copy();
    t.categories[0].definition['zh-CN'] += '。';
    expect(taxonomyHash(validateTaxonomy(t))).not.toBe(pinned);
  });
});

describe('lookups', () => {
  it('finds categories and levels, undefined for anything else', () => {
    expect(label(category(TAXONOMY_V1, 'CB')!.label, 'zh-CN')).toBe('化生放核武器能力提升');
    expect(label(category(TAXONOMY_V1, 'CB')!.label, 'en')).toBe('CBRN weapons uplift');
    expect(category(TAXONOMY_V1, 'XX')).toBeUndefined();
    expect(category(TAXONOMY_V1, 'cb')).toBeUndefined();
    expect(severity(TAXONOMY_V1, 6)!.precedence).toBe('FLASH');
    for (const bad of [-1, 8, 2.5, Number.NaN]) expect(severity(TAXONOMY_V1, bad)).toBeUndefined();
  });

  it('recognises precedences and markings exactly', () => {
    expect(PRECEDENCES.every(isPrecedence)).toBe(true);
    expect(MARKINGS.every(isMarking)).toBe(true);
    for (const bad of ['flash', 'URGENT', 'TLP:WHITE', 'TLP:AMBER+', '', 0, null]) {
      expect(isPrecedence(bad) || isMarking(bad), String(bad)).toBe(false);
    }
  });
});

describe('validateTaxonomy rejects', () => {
  const mutations: [string, (t: any) => void][] = [
    ['a missing zh-CN label', (t) => delete t.categories[0].label['zh-CN']],
    ['a missing en definition', (t) => delete t.severity[3].definition.en],
    ['an empty label', (t) => (t.stages[1].label.en = '')],
    ['a blank zh-CN label', (t) => (t.markings[4].label['zh-CN'] = '   ')],
    ['text with surrounding white space', (t) => (t.harmTypes[0].definition.en += ' ')],
    ['text with a control character', (t) => (t.reportKinds[0].label.en = 'Initial\nreport')],
    ['a label that is not a string', (t) => (t.actorTypes[0].label.en = 1)],
    ['a third language', (t) => (t.categories[0].label['zh-TW'] = '模型行為失控')],
    ['a duplicate category code', (t) => (t.categories[1].code = t.categories[0].code)],
    ['a lowercase category code', (t) => (t.categories[0].code = 'ub')],
    ['a three-letter category code', (t) => (t.categories[0].code = 'UBX')],
    ['no categories', (t) => (t.categories = [])],
    ['an empty mapsTo string', (t) => t.categories[0].mapsTo.push('')],
    ['a non-boolean catastrophic flag', (t) => (t.categories[0].catastrophic = 'yes')],
    ['severity 8', (t) => (t.severity[7].level = 8)],
    ['a ninth severity level', (t) => t.severity.push({ ...t.severity[7], level: 8 })],
    ['a missing severity level', (t) => t.severity.splice(3, 1)],
    ['severity levels out of order', (t) => ([t.severity[0], t.severity[1]] = [t.severity[1], t.severity[0]])],
    ['an unknown precedence', (t) => (t.severity[0].precedence = 'URGENT')],
    ['an ack deadline that disagrees with the precedence', (t) => (t.severity[0].ackSeconds = 3600)],
    ['a level less urgent than the one below', (t) => (t.severity[3].initialReportSeconds = 15 * 86400)],
    ['a zero deadline', (t) => (t.severity[6].initialReportSeconds = 0)],
    ['a fractional deadline', (t) => (t.receiptSeconds = 1.5)],
    ['precedences out of order', (t) => t.precedences.reverse()],
    ['a slower FLASH than IMMEDIATE', (t) => (t.precedences[0].ackSeconds = 7200)],
    ['a missing TLP marking', (t) => t.markings.splice(3, 1)],
    ['TLP:WHITE', (t) => (t.markings[0].code = 'TLP:WHITE')],
    ['an unknown stage', (t) => (t.stages[0].code = 'risk')],
    ['a lifecycle state entered by an unknown report kind', (t) => (t.lifecycleStates[0].enteredBy = 'draft')],
    ['an unknown field', (t) => (t.severity[0].color = 'green')],
    ['an unknown top-level field', (t) => (t.extra = {})],
    ['a missing top-level field', (t) => delete t.harmTypes],
    ['a duplicate source id', (t) => (t.sources[1].id = t.sources[0].id)],
    ['a non-https source url', (t) => (t.sources[0].url = 'http://example.com/')],
    ['a version with a leading zero', (t) => (t.version = '01')],
    ['an array where an object belongs', (t) => (t.title = ['x', 'y'])],
  ];

  for (const [name, mutate] of mutations) {
    it(name, () => {
      const t = copy();
      mutate(t);
      assertThrowsCode(() => validateTaxonomy(t), ParseError, 'TAXONOMY_INVALID');
    });
  }

  it('anything that is not a plain object', () => {
    for (const v of [null, undefined, 'taxonomy', 1, [], new Map(), Object.create({})]) {
      assertThrowsCode(() => validateTaxonomy(v), ParseError, 'TAXONOMY_INVALID');
    }
  });

  it('but accepts a copy unchanged (the mutations above are what fails)', () => {
    const t: Taxonomy = validateTaxonomy(copy());
    expect(taxonomyHash(t)).toBe(pinned);
  });
});
