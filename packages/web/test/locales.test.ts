/**
 * Every UI string exists in both languages: the en and zh-CN locale files
 * have the same namespaces and the same keys (plural forms compared by their
 * base key, since Chinese has only the "other" plural category), and no
 * value is empty.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const LOCALES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../src/locales');
const PLURAL = /_(zero|one|two|few|many|other)$/;

function keys(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null) return [prefix];
  return Object.entries(o).flatMap(([k, v]) => keys(v, prefix === '' ? k : `${prefix}.${k}`));
}
function values(o: unknown): unknown[] {
  return typeof o === 'object' && o !== null ? Object.values(o).flatMap(values) : [o];
}
const load = (lang: string, ns: string): unknown => JSON.parse(readFileSync(join(LOCALES, lang, `${ns}.json`), 'utf8'));

describe('locales', () => {
  const en = readdirSync(join(LOCALES, 'en')).filter((f) => f.endsWith('.json')).sort();
  const zh = readdirSync(join(LOCALES, 'zh-CN')).filter((f) => f.endsWith('.json')).sort();

  it('have the same namespaces in en and zh-CN', () => {
    expect(zh).toEqual(en);
    expect(en).toEqual(expect.arrayContaining(['common.json', 'login.json', 'inbox.json', 'entry.json', 'compose.json', 'accord.json']));
  });

  for (const file of en) {
    const ns = file.replace(/\.json$/, '');
    it(`${ns}: every key in both languages, no empty value`, () => {
      const base = (ks: string[]) => [...new Set(ks.map((k) => k.replace(PLURAL, '')))].sort();
      expect(base(keys(load('zh-CN', ns)))).toEqual(base(keys(load('en', ns))));
      for (const lang of ['en', 'zh-CN']) for (const v of values(load(lang, ns))) expect(typeof v === 'string' && v.trim() !== '').toBe(true);
    });
  }
});
