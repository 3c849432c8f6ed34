/**
 * Every code the HTTP API can answer with is documented (STYLE.md §8): core's
 * catalog codes in docs/errors.md's main table (core's errors.test.ts checks
 * those), the HTTP-only codes in its "HTTP API codes" table, with the same
 * status; no code is in both; problem types are distinct; and every
 * HTTP-only code is raised somewhere in src/http.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG, problemType } from '@parley/core';
import { HTTP_ERRORS, SERVER_SIDE_HTTP_ERRORS, type HttpErrorCode, apiProblemType } from '../src/index.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const doc = readFileSync(resolve(here, '../../../docs/errors.md'), 'utf8');
const httpCodes = Object.keys(HTTP_ERRORS) as HttpErrorCode[];

describe('HTTP error codes', () => {
  const section = doc.slice(doc.indexOf('## HTTP API codes'));
  const rows = new Map([...section.matchAll(/^\| (\d{3}) \| `([A-Z_]+)` \|/gm)].map((m) => [m[2]!, Number(m[1])] as const));

  it('has a row in docs/errors.md, with the same status, for every HTTP-only code — and no other rows', () => {
    expect(doc.indexOf('## HTTP API codes')).toBeGreaterThan(0);
    for (const c of httpCodes) expect(rows.get(c), c).toBe(HTTP_ERRORS[c].status);
    expect([...rows.keys()].sort()).toEqual([...httpCodes].sort());
  });

  it('documents every core catalog code the API passes through', () => {
    for (const c of Object.keys(ERROR_CATALOG)) expect(doc, c).toMatch(new RegExp(`^\\| \`${c}\` \\| ${ERROR_CATALOG[c as keyof typeof ERROR_CATALOG].status} \\|`, 'm'));
  });

  it('never reuses a core code, and every problem type is distinct and follows core’s scheme', () => {
    for (const c of httpCodes) expect(c in ERROR_CATALOG, c).toBe(false);
    const types = [...Object.keys(ERROR_CATALOG).map((c) => problemType(c as keyof typeof ERROR_CATALOG)), ...httpCodes.map(apiProblemType)];
    expect(new Set(types).size).toBe(types.length);
    for (const c of Object.keys(ERROR_CATALOG)) expect(apiProblemType(c as keyof typeof ERROR_CATALOG)).toBe(problemType(c as keyof typeof ERROR_CATALOG));
  });

  it('raises every HTTP-only code somewhere in src/http, and never answers bad input with a 5xx', () => {
    const dir = resolve(here, '../src/http');
    const text = readdirSync(dir)
      .filter((f) => f.endsWith('.ts') && f !== 'problem.ts')
      .map((f) => readFileSync(join(dir, f), 'utf8'))
      .join('\n');
    const problem = readFileSync(join(dir, 'problem.ts'), 'utf8').split('export const HTTP_ERRORS')[1]!.split('} as const')[1]!;
    for (const c of httpCodes) expect(text.includes(`'${c}'`) || problem.includes(`'${c}'`), `${c} is never raised`).toBe(true);
    for (const c of httpCodes) if (!SERVER_SIDE_HTTP_ERRORS.includes(c)) expect(HTTP_ERRORS[c].status, c).toBeLessThan(500);
    expect([...SERVER_SIDE_HTTP_ERRORS].sort()).toEqual(['INTERNAL_ERROR', 'TOO_MANY_STREAMS', 'UPLOADS_BUSY', 'UPSTREAM_TIMEOUT', 'UPSTREAM_UNAVAILABLE']);
  });
});
