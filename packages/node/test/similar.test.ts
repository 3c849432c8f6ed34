/**
 * Link-suggestion scoring (similar.ts) against the vectors in
 * vectors/similarity.json: CJK bigrams and Latin tokens, name normalisation,
 * and pairs of reports — the same event in English and Chinese, two Chinese
 * wordings, an unrelated pair — with the score range and evidence each must get.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compare, normalizeName, textFeatures } from '../src/similar.js';
import { sampleReport } from './helpers/channel.js';

interface Facts {
  title: string;
  summary: string;
  system: { name: string; developer?: string };
  category: string;
  occurredAt: string;
  source?: { name: string; id: string; url?: string; license: string };
}
const V = JSON.parse(readFileSync(new URL('./vectors/similarity.json', import.meta.url), 'utf8')) as {
  features: { text: string; includes: string[]; excludes: string[] }[];
  names: { a: string; b: string; equal: boolean }[];
  pairs: { name: string; a: Facts; b: Facts; min: number; max: number; codes: string[] }[];
};
const report = (f: Facts) => ({ report: sampleReport({ ...f, system: f.system }), firstTime: f.occurredAt });

describe('similarity vectors', () => {
  for (const f of V.features) {
    it(`features of ${JSON.stringify(f.text)}`, () => {
      const got = textFeatures(f.text);
      for (const x of f.includes) expect(got.has(x), x).toBe(true);
      for (const x of f.excludes) expect(got.has(x), x).toBe(false);
    });
  }
  for (const n of V.names) {
    it(`names ${n.a} / ${n.b}`, () => expect(normalizeName(n.a) === normalizeName(n.b)).toBe(n.equal));
  }
  for (const p of V.pairs) {
    it(p.name, () => {
      const s = compare(report(p.a), report(p.b));
      expect(s.score).toBeGreaterThanOrEqual(p.min);
      expect(s.score).toBeLessThanOrEqual(p.max);
      expect(s.reasons.map((r) => r.code)).toEqual(p.codes);
      // Symmetric: the same score whichever side asks.
      expect(compare(report(p.b), report(p.a)).score).toBe(s.score);
    });
  }
});
