/**
 * The command line's error codes and exit statuses are documented (STYLE.md
 * §8): every code of CLI_ERRORS has a row in docs/errors.md's "Command-line
 * codes" table with the same exit status, and no other rows; no code is
 * also core's; every exit status the code can return is a row of the
 * README's exit-status table.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '@parley/core/node';
import { CLI_ERRORS, EXIT_INTERNAL, EXIT_INVALID, EXIT_OK, EXIT_STORE, EXIT_UNAVAILABLE, EXIT_USAGE, exitStatusOf } from '../src/exit.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const doc = readFileSync(resolve(repo, 'docs/errors.md'), 'utf8');
const readme = readFileSync(resolve(repo, 'README.md'), 'utf8');

describe('command-line error codes', () => {
  it('docs/errors.md has a row, with the same exit status, for every CLI code — and no other rows', () => {
    const section = doc.slice(doc.indexOf('## Command-line codes'));
    expect(doc.indexOf('## Command-line codes')).toBeGreaterThan(0);
    const rows = new Map([...section.matchAll(/^\| `([A-Z_]+)` \| (\d+) \|/gm)].map((m) => [m[1]!, Number(m[2])] as const));
    for (const [c, row] of Object.entries(CLI_ERRORS)) expect(rows.get(c), c).toBe(row.exit);
    expect([...rows.keys()].sort()).toEqual(Object.keys(CLI_ERRORS).sort());
    for (const c of Object.keys(CLI_ERRORS)) expect(c in ERROR_CATALOG, c).toBe(false);
  });

  it('the README\u2019s exit-status table lists every status the command can return', () => {
    const statuses = [EXIT_OK, EXIT_INVALID, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_STORE, EXIT_INTERNAL];
    const table = readme.slice(readme.indexOf('| exit status | meaning |'));
    expect(readme.indexOf('| exit status | meaning |')).toBeGreaterThan(0);
    const rows = [...table.split('\n\n')[0]!.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
    expect(rows).toEqual(statuses);
    // Every catalog code maps onto one of them.
    for (const c of Object.keys(ERROR_CATALOG)) expect(statuses).toContain(exitStatusOf({ from: 'core', code: c }));
    for (const status of [400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503, 504]) expect(statuses).toContain(exitStatusOf({ from: 'node', status }));
  });

  it('maps the classes the README names: refused 4xx → 2, 5xx and 429 → 3, store → 4, a locked directory → 2, a failed check → 1', () => {
    expect(exitStatusOf({ from: 'node', status: 409 })).toBe(EXIT_USAGE);
    expect(exitStatusOf({ from: 'node', status: 503 })).toBe(EXIT_UNAVAILABLE);
    expect(exitStatusOf({ from: 'node', status: 429 })).toBe(EXIT_UNAVAILABLE);
    expect(exitStatusOf({ from: 'core', code: 'STORE_CORRUPT' })).toBe(EXIT_STORE);
    expect(exitStatusOf({ from: 'core', code: 'STORE_UNAVAILABLE' })).toBe(EXIT_STORE);
    expect(exitStatusOf({ from: 'usage', code: 'STORE_UNAVAILABLE' })).toBe(EXIT_STORE);
    expect(exitStatusOf({ from: 'core', code: 'DATA_DIR_LOCKED' })).toBe(EXIT_USAGE);
    expect(exitStatusOf({ from: 'core', code: 'PROOF_INVALID' })).toBe(EXIT_INVALID);
    expect(exitStatusOf({ from: 'usage', code: 'INPUT_TOO_LARGE' })).toBe(EXIT_USAGE);
    expect(exitStatusOf({ from: 'usage', code: 'NODE_UNREACHABLE' })).toBe(EXIT_UNAVAILABLE);
  });
});
