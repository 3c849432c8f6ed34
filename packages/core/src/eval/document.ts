/**
 * The evaluation document: what an evaluation team writes (JSON, or YAML the
 * CLI turns into JSON) and `parley eval commit` commits to.
 *
 *     stage       "report" | "protocol"                  in the clear (not a claim)
 *     model       {name: text≤200, version: text≤100}
 *     developer   text≤200
 *     evaluator   text≤200
 *     domains     [text≤40]1..16 unique                  in the clear (not a claim)
 *     suites      [{name: text≤200, version: text≤100}]0..64      one leaf claim
 *     redLines    {id: {domain: text≤40 (one of domains), threshold: text≤2000,
 *                       outcome: below | at-or-above | inconclusive | not-tested,
 *                       score?: finite number}}1..64   (protocol stage: no outcome, no score)
 *     report      {sha256: hex64, name?: text≤200}       required at stage report
 *     notes?      text≤5000
 *
 * Every object (model, redLines, each red line, report) becomes a nested
 * claim, so each member is revealed on its own (`redLines.cbrn.outcome`);
 * `suites` is an array, so one leaf. A red line id matches {@link RED_LINE_ID}
 * (no `.`: paths stay unambiguous).
 *
 * @example
 *   const { stage, domains, claims } = parseEvaluationDocument(JSON.parse(text));
 *   const { sd, disclosures } = commitClaims(claims);
 */
import { type ErrorCode, fail } from '../errors.js';
import type { JsonValue } from '../ijson.js';
import { arr, obj, oneOf, str } from '../shape.js';
import { EVALUATION_STAGES, type EvaluationStage } from '../entry/bodies.js';
import type { JsonObject } from './disclosure.js';

const CODE = 'EVAL_DOCUMENT_INVALID' satisfies ErrorCode;
/** Outcomes of one red-line test. */
export const RED_LINE_OUTCOMES = ['below', 'at-or-above', 'inconclusive', 'not-tested'] as const;
export type RedLineOutcome = (typeof RED_LINE_OUTCOMES)[number];
/** A red line's id in the document (a claim name without `.`). */
export const RED_LINE_ID = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;
const HEX64 = /^[0-9a-f]{64}$/;

const text = (v: unknown, path: string, max: number) => str(v, CODE, path, { min: 1, max });

/** A parsed evaluation document: what goes in the clear, and the claims to commit. */
export interface EvaluationDocument {
  readonly stage: EvaluationStage;
  readonly domains: readonly string[];
  readonly claims: JsonObject;
}

/**
 * Validates an evaluation document (module doc) and splits it.
 * @throws ParseError `EVAL_DOCUMENT_INVALID` naming the offending member (`doc.redLines.cbrn.outcome: missing`).
 */
export function parseEvaluationDocument(doc: unknown): EvaluationDocument {
  const p = 'doc';
  const o = obj(doc, CODE, p, ['stage', 'model', 'developer', 'evaluator', 'domains', 'suites', 'redLines'], ['report', 'notes']);
  const stage = oneOf(o['stage'], CODE, `${p}.stage`, EVALUATION_STAGES);
  const domains = arr(o['domains'], CODE, `${p}.domains`, 16, (x, q) => text(x, q, 40), 1);
  if (new Set(domains).size !== domains.length) fail(CODE, `${p}.domains: must be unique`);
  const model = obj(o['model'], CODE, `${p}.model`, ['name', 'version']);
  const suites = arr(o['suites'], CODE, `${p}.suites`, 64, (x, q) => {
    const s = obj(x, CODE, q, ['name', 'version']);
    return { name: text(s['name'], `${q}.name`, 200), version: text(s['version'], `${q}.version`, 100) };
  });
  const rlv = o['redLines'];
  if (typeof rlv !== 'object' || rlv === null || Array.isArray(rlv)) fail(CODE, `${p}.redLines: want an object`);
  const rl = rlv as Record<string, unknown>;
  const ids = Object.keys(rl);
  if (ids.length < 1 || ids.length > 64) fail(CODE, `${p}.redLines: ${ids.length} red lines, want 1..64`);
  const redLines: JsonObject = {};
  for (const id of ids) {
    const q = `${p}.redLines.${id}`;
    if (!RED_LINE_ID.test(id)) fail(CODE, `${q}: a red line id matches ${RED_LINE_ID}`);
    const r = stage === 'report' ? obj(rl[id], CODE, q, ['domain', 'threshold', 'outcome'], ['score']) : obj(rl[id], CODE, q, ['domain', 'threshold']);
    const domain = text(r['domain'], `${q}.domain`, 40);
    if (!domains.includes(domain)) fail(CODE, `${q}.domain: ${domain} is not one of doc.domains`);
    const line: JsonObject = { domain, threshold: text(r['threshold'], `${q}.threshold`, 2000) };
    if (stage === 'report') {
      line['outcome'] = oneOf(r['outcome'], CODE, `${q}.outcome`, RED_LINE_OUTCOMES);
      if (r['score'] !== undefined) {
        if (typeof r['score'] !== 'number' || !Number.isFinite(r['score'])) fail(CODE, `${q}.score: want a finite number`);
        line['score'] = r['score'];
      }
    }
    redLines[id] = line;
  }
  const claims: JsonObject = {
    model: { name: text(model['name'], `${p}.model.name`, 200), version: text(model['version'], `${p}.model.version`, 100) },
    developer: text(o['developer'], `${p}.developer`, 200),
    evaluator: text(o['evaluator'], `${p}.evaluator`, 200),
    suites: suites as JsonValue,
    redLines,
  };
  if (o['report'] !== undefined) {
    const r = obj(o['report'], CODE, `${p}.report`, ['sha256'], ['name']);
    const report: JsonObject = { sha256: str(r['sha256'], CODE, `${p}.report.sha256`, { pattern: HEX64, max: 64 }) };
    if (r['name'] !== undefined) report['name'] = text(r['name'], `${p}.report.name`, 200);
    claims['report'] = report;
  } else if (stage === 'report') fail(CODE, `${p}.report: missing (a report-stage commitment commits to the report file's SHA-256)`);
  if (o['notes'] !== undefined) claims['notes'] = text(o['notes'], `${p}.notes`, 5000);
  return { stage, domains, claims };
}

/**
 * The claims of an evaluation document (`stage` and `domains` are not
 * claims: they go in the clear in the commitment).
 * @throws ParseError `EVAL_DOCUMENT_INVALID` naming the member.
 */
export function evaluationClaims(doc: unknown): JsonObject {
  return parseEvaluationDocument(doc).claims;
}
