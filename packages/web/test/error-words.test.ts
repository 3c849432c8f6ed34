/**
 * The governance refusals a dashboard can meet have words of their own in
 * both languages (common `errors.<code>`, what ErrorBox shows; the Accord
 * page's `problem.<code>`), and each is a code of core's ERROR_CATALOG:
 * a departed party's writes (PARTY_DEPARTED), a halted node's own writes
 * (CHANNEL_FROZEN), an accord fork (ACCORD_FORKED). Without them the
 * dashboard said only "The request failed".
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CATALOG } from '@parley/core';

const LOCALES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../src/locales');
const load = (lang: string, ns: string) => JSON.parse(readFileSync(join(LOCALES, lang, `${ns}.json`), 'utf8')) as Record<string, Record<string, string>>;

describe('words for governance refusals', () => {
  for (const code of ['PARTY_DEPARTED', 'CHANNEL_FROZEN', 'ACCORD_FORKED']) {
    it(`${code}: a catalogued code with its own words in en and zh-CN`, () => {
      expect(Object.keys(ERROR_CATALOG)).toContain(code);
      const en = load('en', 'common')['errors']![code];
      const zh = load('zh-CN', 'common')['errors']![code];
      expect(en).toBeTruthy();
      expect(zh).toBeTruthy();
      expect(zh).not.toBe(en);
    });
  }
  it('the Accord page words a departed party (PARTY_DEPARTED) in both languages', () => {
    for (const lang of ['en', 'zh-CN']) {
      const a = load(lang, 'accord') as unknown as { problem: Record<string, string>; departed: string };
      expect(a.problem['PARTY_DEPARTED']).toBeTruthy();
      expect(a.departed).toContain('{{party}}');
      expect(a.departed).toContain('{{version}}');
    }
  });
});
