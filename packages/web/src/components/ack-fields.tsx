/**
 * The parts of every acknowledgement form (the entry page, the inbox's
 * acknowledge dialog, an incident's "acknowledge selected"): the optional
 * reply with its hint, and the language the reply is written in.
 */
import { UI_LANGUAGES } from '../i18n.js';

/** The reply: a labelled text area with its hint (`${id}-hint`). */
export function ReplyField(p: { id: string; label: string; hint: string; value: string; onChange: (v: string) => void; lang: string; rows: number; autoFocus?: boolean }) {
  return (
    <div className="field">
      <label htmlFor={p.id}>{p.label}</label>
      <span className="hint" id={`${p.id}-hint`}>
        {p.hint}
      </span>
      <textarea id={p.id} aria-describedby={`${p.id}-hint`} value={p.value} onChange={(e) => p.onChange(e.target.value)} maxLength={20000} lang={p.lang} rows={p.rows} className="short" autoFocus={p.autoFocus} />
    </div>
  );
}

/** The reply's language: a labelled select of the dashboard's languages. */
export function ReplyLanguage(p: { id: string; label: string; value: string; onChange: (v: string) => void }) {
  return (
    <>
      <label htmlFor={p.id}>{p.label}</label>
      <select id={p.id} value={p.value} onChange={(e) => p.onChange(e.target.value)}>
        {UI_LANGUAGES.map((l) => (
          <option key={l} value={l}>
            {l === 'en' ? 'English' : '简体中文'}
          </option>
        ))}
      </select>
    </>
  );
}
