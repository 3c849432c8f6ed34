/**
 * i18next set-up: English and Simplified Chinese, one JSON file per
 * namespace and language at `locales/<lang>/<ns>.json` (found by Vite's
 * `import.meta.glob`, so a new namespace needs no code here). Every key must
 * exist in both languages; `test/locales.test.ts` checks that.
 *
 * Namespaces: common, login, inbox, entry, compose, accord (the shell and
 * hotline pages); incidents, links, explorer, compliance (their own pages).
 * Taxonomy terms are not here: they come bilingual from core's taxonomy data
 * (`useLabel()` picks the current language).
 *
 * The choice is persisted in localStorage and mirrored on `<html lang>`;
 * the first visit follows the browser's language.
 */
import i18next from 'i18next';
import { initReactI18next, useTranslation } from 'react-i18next';
import type { Lang, Localized } from '@parley/core';

export const UI_LANGUAGES = ['en', 'zh-CN'] as const satisfies readonly Lang[];
export type UiLang = (typeof UI_LANGUAGES)[number];
const STORAGE_KEY = 'parley.lang';

const files = import.meta.glob<Record<string, unknown>>('./locales/*/*.json', { eager: true, import: 'default' });
const resources: Record<string, Record<string, Record<string, unknown>>> = {};
for (const [path, data] of Object.entries(files)) {
  const m = /\.\/locales\/([^/]+)\/([^/]+)\.json$/.exec(path);
  if (m === null) continue;
  const [, lang, ns] = m as unknown as [string, string, string];
  (resources[lang] ??= {})[ns] = data;
}
export const NAMESPACES = Object.keys(resources['en'] ?? {});

function initialLang(): UiLang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved === 'en' || saved === 'zh-CN') return saved;
  } catch {
    // storage unavailable: fall through
  }
  return navigator.language.toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

void i18next.use(initReactI18next).init({
  resources,
  lng: initialLang(),
  fallbackLng: 'en',
  supportedLngs: [...UI_LANGUAGES],
  ns: NAMESPACES,
  defaultNS: 'common',
  interpolation: { escapeValue: false },
  returnNull: false,
  initAsync: false,
});

function reflect(lang: string): void {
  document.documentElement.lang = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // storage unavailable: the choice lasts for this page
  }
}
reflect(i18next.language);
i18next.on('languageChanged', reflect);

export function setLanguage(lang: UiLang): void {
  void i18next.changeLanguage(lang);
}

export function currentLang(): UiLang {
  return i18next.language === 'zh-CN' ? 'zh-CN' : 'en';
}

/** The current UI language and a picker for core's bilingual `Localized` texts. */
export function useLabel(): { lang: UiLang; l: (text: Localized) => string } {
  const { i18n } = useTranslation();
  const lang: UiLang = i18n.language === 'zh-CN' ? 'zh-CN' : 'en';
  return { lang, l: (text) => text[lang] };
}

export default i18next;
