/** Controls shared by both compose forms: recipients, precedence, marking, language. */
import { MARKINGS, PRECEDENCES, TAXONOMY_V1, type Marking, type Precedence } from '@parley/core';
import { useTranslation } from 'react-i18next';
import { GlossaryHint } from '../../components/glossary.js';
import type { AccordInfo } from '../../accord.js';
import { formatDuration } from '../../components/time.js';
import { UI_LANGUAGES, useLabel } from '../../i18n.js';
import { Field, fid } from './fields.js';
import { useApi } from '../../hooks.js';
import { isResync, useLiveReload } from '../../live.js';

/** Sentences join with a space in English and with nothing in Chinese. */
function sep(lang: string): string {
  return lang === 'zh-CN' ? '' : ' ';
}

export function Recipients({ accord, us, value, onChange, error, disabled }: { accord: AccordInfo | undefined; us: string | undefined; value: readonly string[]; onChange: (v: string[]) => void; error?: string | undefined; disabled?: boolean }) {
  const { t } = useTranslation('compose');
  const { l } = useLabel();
  const others = (accord?.accord.parties ?? []).filter((p) => p.id !== us);
  return (
    <fieldset aria-describedby={error !== undefined ? 'to-error' : undefined} id="to" data-field="to">
      <legend>{t('recipients')}</legend>
      <div className="checks">
        {others.map((p) => (
          <label key={p.id}>
            <input
              type="checkbox"
              checked={value.includes(p.id)}
              disabled={disabled === true}
              onChange={(e) => onChange(e.target.checked ? [...value, p.id] : value.filter((x) => x !== p.id))}
              data-testid={`to-${p.id}`}
            />
            <strong>{p.id}</strong> <span className="muted">{l(p.names)}</span>
          </label>
        ))}
      </div>
      {disabled === true ? <p className="hint">{t('redLineAll')}</p> : null}
      {error !== undefined ? (
        <p className="field-error" id="to-error">
          <span aria-hidden="true">⚠ </span>
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

export function PrecedenceSelect({ name, value, onChange, accord, allowDefault, defaultLabel, error }: { name: string; value: Precedence | ''; onChange: (p: Precedence | '') => void; accord: AccordInfo | undefined; allowDefault?: boolean; defaultLabel?: string; error?: string | undefined }) {
  const { t, i18n } = useTranslation('compose');
  const { l } = useLabel();
  const term = value === '' ? undefined : TAXONOMY_V1.precedences.find((p) => p.code === value);
  const secs = value === '' ? undefined : (accord?.accord.deadlines.ackSeconds[value] ?? term?.ackSeconds);
  return (
    <Field id={fid(name)} label={t('precedence')} after={<GlossaryHint term="precedence" />} hint={term !== undefined ? [l(term.description), secs !== undefined ? t('ackWithin', { d: formatDuration(secs * 1000, i18n.language) }) : ''].join(sep(i18n.language)).trim() : defaultLabel} error={error}>
      {(p) => (
        <select {...p} value={value} onChange={(e) => onChange(e.target.value as Precedence | '')} data-testid="precedence">
          {allowDefault === true ? <option value="">{t('precedenceDefault')}</option> : null}
          {PRECEDENCES.map((c) => {
            const x = TAXONOMY_V1.precedences.find((q) => q.code === c);
            return (
              <option key={c} value={c}>
                {c}
                {x !== undefined && l(x.label) !== c ? ` — ${l(x.label)}` : ''}
              </option>
            );
          })}
        </select>
      )}
    </Field>
  );
}

export function MarkingSelect({ name, value, onChange, error }: { name: string; value: Marking; onChange: (m: Marking) => void; error?: string | undefined }) {
  const { t, i18n } = useTranslation('compose');
  const { l } = useLabel();
  const term = TAXONOMY_V1.markings.find((m) => m.code === value);
  return (
    <Field id={fid(name)} label={t('marking')} after={<GlossaryHint term="tlp" />} hint={term !== undefined ? [l(term.definition), value === 'TLP:CLEAR' ? t('clearWarning') : t('sealedNote')].join(sep(i18n.language)) : undefined} error={error}>
      {(p) => (
        <select {...p} value={value} onChange={(e) => onChange(e.target.value as Marking)} data-testid="marking">
          {MARKINGS.map((m) => (
            <option key={m} value={m}>
              {m}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

export function LangSelect({ name, label, value, onChange }: { name: string; label: string; value: string; onChange: (l: string) => void }) {
  return (
    <Field id={fid(name)} label={label}>
      {(p) => (
        <select {...p} value={value} onChange={(e) => onChange(e.target.value)}>
          {UI_LANGUAGES.map((x) => (
            <option key={x} value={x}>
              {x === 'en' ? 'English' : '简体中文'}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/** Parties whose link is down now (GET /v1/links), kept current by link events. */
export function useDownLinks(): readonly string[] {
  const { data, reload } = useApi<{ links: readonly { party: string; state: string }[] }>('/v1/links');
  useLiveReload((e) => e.event === 'link' || e.event === 'fork' || isResync(e), reload);
  return data?.links.filter((l) => l.state === 'down').map((l) => l.party) ?? [];
}

/**
 * Warns, before sending, that recipients' links are down (issue 9): the
 * entry is logged now and delivered when the link is back, so a FLASH may
 * need a telephone call too. Sending needs the officer's "send anyway".
 */
export function LinkDownWarning({ parties, confirmed, onConfirm }: { parties: readonly string[]; confirmed: boolean; onConfirm: (v: boolean) => void }) {
  const { t } = useTranslation('compose');
  if (parties.length === 0) return null;
  return (
    <div className="warning-box" role="alert" data-testid="link-down-warning" data-parties={parties.join(',')}>
      <strong>
        <span aria-hidden="true">⚠ </span>
        {t('linkDown.title', { parties: parties.join(', '), count: parties.length })}
      </strong>
      <p>{t('linkDown.help')}</p>
      <label>
        <input type="checkbox" checked={confirmed} onChange={(e) => onConfirm(e.target.checked)} data-testid="send-anyway" /> {t('linkDown.confirm')}
      </label>
    </div>
  );
}
