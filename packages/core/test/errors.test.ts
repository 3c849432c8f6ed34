/**
 * The error catalog, docs/errors.md and the code agree (STYLE.md §8): every
 * code has a doc row with the same HTTP status, every doc row is a code, and
 * every code is raised somewhere in core — a catalog entry nobody throws is a
 * promise to clients that nothing keeps.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ArgumentError, ERROR_CATALOG, type ErrorCode, ParleyError, ParseError, StoreError, VerificationError, fail, problemType } from '../src/errors.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const repo = resolve(here, '../../..');
const src = resolve(here, '../src');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const codes = Object.keys(ERROR_CATALOG) as ErrorCode[];

describe('error catalog', () => {
  const doc = readFileSync(join(repo, 'docs/errors.md'), 'utf8');
  const rows = new Map(
    [...doc.matchAll(/^\| `([A-Z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1]!, Number(m[2])] as const),
  );

  it('has a docs/errors.md row, with the same status, for every code — and no other rows', () => {
    for (const c of codes) expect(rows.get(c), c).toBe(ERROR_CATALOG[c].status);
    expect([...rows.keys()].sort()).toEqual([...codes].sort());
  });

  it('uses every code somewhere in the packages', () => {
    const text = readdirSync(join(repo, 'packages'))
      .flatMap((p) => (statSync(join(repo, 'packages', p, 'src')).isDirectory() ? sources(join(repo, 'packages', p, 'src')) : []))
      .filter((f) => f !== join(src, 'errors.ts'))
      .map((f) => readFileSync(f, 'utf8'))
      .join('\n');
    for (const c of codes) expect(text.includes(`'${c}'`), `${c} is never raised`).toBe(true);
  });

  it('maps every input or verification error to 4xx (502 for a bad upstream reply); only storage failures are 5xx', () => {
    for (const c of codes) {
      const { status, kind } = ERROR_CATALOG[c];
      if (kind === 'store') expect(status === 409 || status >= 500, c).toBe(true);
      else expect(status === 502 || (status >= 400 && status < 500), c).toBe(true);
    }
  });

  it('fail() throws the class the catalog assigns, with code and status', () => {
    const classes = { parse: ParseError, verification: VerificationError, argument: ArgumentError, store: StoreError } as const;
    for (const c of codes) {
      try {
        fail(c, 'x');
      } catch (e) {
        expect(e).toBeInstanceOf(classes[ERROR_CATALOG[c].kind]);
        expect(e).toBeInstanceOf(ParleyError);
        expect((e as ParleyError).code).toBe(c);
        expect((e as ParleyError).status).toBe(ERROR_CATALOG[c].status);
        expect((e as ParleyError).name).toBe(classes[ERROR_CATALOG[c].kind].name);
      }
    }
  });

  it('gives every code a distinct RFC 9457 problem type URI', () => {
    const types = codes.map(problemType);
    expect(new Set(types).size).toBe(codes.length);
    for (const t of types) expect(t).toMatch(/^urn:parley:error:[a-z0-9-]+$/);
  });
});

describe('core stays pure (runs in a browser)', () => {
  it('imports nothing from Node and uses no Node globals outside the node:crypto binding', () => {
    const allowed = new Set([join(src, 'crypto/node.ts'), join(src, 'node.ts')]);
    for (const f of sources(src)) {
      if (allowed.has(f)) continue;
      const text = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(text, f).not.toMatch(/from\s+['"](node:|fs|path|crypto|os|url|buffer)['"/]/);
      expect(text, f).not.toMatch(/\b(Buffer|process|require|__dirname)\b/);
      const local = [...text.matchAll(/from\s+['"]([^'"]+)['"]/g)].map((m) => m[1]!);
      // pkijs/asn1js (pure, WebCrypto) only in the `@parley/core/tsa` subpath, so the main entry stays without them.
      const tsa = f.startsWith(join(src, 'tsa') + '/');
      for (const spec of local) expect(spec.startsWith('.') || spec.startsWith('@noble/') || (tsa && (spec === 'pkijs' || spec === 'asn1js')), `${f} imports ${spec}`).toBe(true);
    }
  });
});
