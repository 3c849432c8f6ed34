/**
 * Entry types in the dashboard come from core's entry-type registry: the
 * locale labels (common `entryType.*`) are the registry's, in both languages,
 * for every known type and no other; a type this version does not know is
 * named "Unknown type — needs a newer Parley"; the inbox filters and "needs
 * acknowledgement" follow the registry.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENTRY_REGISTRY, ENTRY_TYPES, UNKNOWN_TYPE_LABEL } from '@parley/core';
import { isAnswerable, needsAck, typeName } from '../src/entries.js';
import { ACTION_TYPES, ALL_TYPES } from '../src/pages/inbox/view.js';
import type { EntryView } from '../src/types.js';

const LOCALES = resolve(fileURLToPath(new URL('.', import.meta.url)), '../src/locales');
const labels = (lang: string) => (JSON.parse(readFileSync(join(LOCALES, lang, 'common.json'), 'utf8')) as { entryType: Record<string, string> }).entryType;

describe('entry types in the dashboard', () => {
  it('labels every known type as the registry does, in en and zh-CN, and the unknown type', () => {
    for (const lang of ['en', 'zh-CN'] as const) {
      const l = labels(lang);
      expect(Object.keys(l).sort()).toEqual([...ENTRY_TYPES, 'unknown'].sort());
      for (const t of ENTRY_TYPES) expect(l[t], `${lang} ${t}`).toBe(ENTRY_REGISTRY[t].label[lang]);
      expect(l['unknown']).toBe(UNKNOWN_TYPE_LABEL[lang]);
      const t = (key: string) => l[key.replace(/^entryType\./, '')] ?? key;
      expect(typeName(t, 'hotline.message')).toBe(ENTRY_REGISTRY['hotline.message'].label[lang]);
      expect(typeName(t, 'future.thing')).toBe(UNKNOWN_TYPE_LABEL[lang]);
      expect(typeName(t, 'toString')).toBe(UNKNOWN_TYPE_LABEL[lang]);
    }
  });

  it('filters and asks for acknowledgements by the registry: never for an unknown or governance type', () => {
    // A deployment notice is acknowledged (issue 12): the other parties confirm they saw the announcement.
    expect([...ACTION_TYPES]).toEqual(['hotline.message', 'incident.report', 'deployment.notice']);
    expect([...ALL_TYPES]).toEqual(ENTRY_TYPES.filter((t) => t !== 'heartbeat'));
    const view = (type: string) => ({ entry: { type } }) as unknown as EntryView;
    expect(needsAck(view('incident.report'))).toBe(true);
    for (const type of ['future.thing', 'accord.amendment', 'accord.approval', 'accord.activation', 'ack', 'receipt']) {
      expect(needsAck(view(type)), type).toBe(false);
      expect(isAnswerable(type), type).toBe(false);
    }
  });
});

describe('retractable types (issue 13)', () => {
  it('the dashboard\u2019s Retract… and the node\u2019s check use one list, core\u2019s: officer traffic but answers and retractions', async () => {
    const core = await import('@parley/core');
    const node = await import('@parley/node');
    expect(node.RETRACTABLE_TYPES).toBe(core.RETRACTABLE_TYPES);
    expect(node.isRetractable).toBe(core.isRetractable);
    expect([...core.RETRACTABLE_TYPES].sort()).toEqual(['deployment.notice', 'evaluation.commitment', 'evaluation.reveal', 'hotline.message', 'incident.link', 'incident.report']);
    for (const t of ['ack', 'retraction', 'receipt', 'heartbeat', 'accord.amendment', 'future.thing']) expect(core.isRetractable(t), t).toBe(false);
    // The entry page asks core, and keeps no list of its own.
    const src = (p: string) => readFileSync(resolve(fileURLToPath(new URL('.', import.meta.url)), '../src', p), 'utf8');
    expect(src('pages/entry/index.tsx')).toMatch(/isRetractable\(v\.entry\.type\)/);
    expect(src('components/retracted.tsx')).not.toMatch(/RETRACTABLE_TYPES/);
  });
});
