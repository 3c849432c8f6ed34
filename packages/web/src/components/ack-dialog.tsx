/**
 * The acknowledge dialog the inbox opens on "a": the entry in one line, an
 * optional reply (and its language), Acknowledge / Cancel. A native modal
 * dialog: focus starts in the reply, stays inside, and Escape cancels. The
 * node's refusal (ALREADY_ACKNOWLEDGED, FORBIDDEN, …) is shown in the dialog.
 */
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, ApiError } from '../api.js';
import { summaryOf, typeName } from '../entries.js';
import { currentLang } from '../i18n.js';
import { ReplyField, ReplyLanguage } from './ack-fields.js';
import type { EntryView, Submitted } from '../types.js';
import { PrecedenceBadge } from './badges.js';
import { ErrorBox } from './feedback.js';

/** Acknowledges `v` (POST /v1/entries/{party}/{index}/ack), with a reply when one is given. */
export function acknowledge(v: { party: string; index: number }, reply: string, lang: string): Promise<Submitted> {
  const text = reply.trim();
  return api<Submitted>(`/v1/entries/${encodeURIComponent(v.party)}/${v.index}/ack`, { method: 'POST', body: text === '' ? {} : { reply: text, lang } });
}

export function AckDialog({ v, onClose, onDone }: { v: EntryView; onClose: () => void; onDone: (s: Submitted) => void }) {
  const { t } = useTranslation('shortcuts');
  const { t: te } = useTranslation('entry');
  const { t: tc } = useTranslation();
  const { t: ti } = useTranslation('inbox');
  const ref = useRef<HTMLDialogElement>(null);
  const [reply, setReply] = useState('');
  const [lang, setLang] = useState<string>(currentLang());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  useEffect(() => {
    const d = ref.current;
    if (d !== null && !d.open) d.showModal();
  }, []);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const s = await acknowledge(v, reply, lang);
      onDone(s);
      ref.current?.close();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError({ status: 0, detail: String(err) }));
    } finally {
      setBusy(false);
    }
  }
  const entry = `${v.party}/${v.index}`;
  return (
    <dialog ref={ref} className="ack-dialog" aria-labelledby="ack-dialog-title" data-testid="ack-dialog" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <h2 id="ack-dialog-title">{t('ackDialog.title', { entry })}</h2>
        <p className="ack-dialog-entry">
          <PrecedenceBadge p={v.entry.precedence} /> {typeName(tc, v.entry.type)} {ti('from')} <strong>{v.entry.from.party}</strong>: <span>{summaryOf(v) ?? tc(`sealed.${v.sealed ?? 'not-entitled'}`)}</span>
        </p>
        <ReplyField id="ack-dialog-reply" label={te('ack.reply')} hint={te('ack.replyHint')} value={reply} onChange={setReply} lang={lang} rows={3} autoFocus />
        <ErrorBox error={error} />
        <div className="ack-actions">
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="ack-dialog-submit">
            <span aria-hidden="true">✓ </span>
            {busy ? te('ack.sending') : te('ack.button')}
          </button>
          <button type="button" className="btn" onClick={() => ref.current?.close()}>
            {t('ackDialog.cancel')}
          </button>
          <ReplyLanguage id="ack-dialog-lang" label={te('ack.lang')} value={lang} onChange={setLang} />
        </div>
      </form>
    </dialog>
  );
}
