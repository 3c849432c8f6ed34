/** Compose a hotline message: recipients, precedence, marking, language, text → POST /v1/messages. */
import type { Marking, Precedence } from '@parley/core';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ApiError } from '../../api.js';
import type { AccordInfo } from '../../accord.js';
import { ErrorBox } from '../../components/feedback.js';
import { currentLang } from '../../i18n.js';
import type { Submitted } from '../../types.js';
import { LangSelect, MarkingSelect, PrecedenceSelect, Recipients } from './common.js';
import { Field, FormErrors, fid, mapProblem, type FieldErrors } from './fields.js';

const FIELDS = ['to', 'precedence', 'marking', 'text', 'lang'] as const;

export function MessageForm({ accord, us }: { accord: AccordInfo | undefined; us: string | undefined }) {
  const { t } = useTranslation('compose');
  const [to, setTo] = useState<string[]>([]);
  const [precedence, setPrecedence] = useState<Precedence | ''>('IMMEDIATE');
  const [marking, setMarking] = useState<Marking>('TLP:AMBER');
  const [lang, setLang] = useState<string>(currentLang());
  const [text, setText] = useState('');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [extra, setExtra] = useState<string[]>([]);
  const [failure, setFailure] = useState<ApiError | undefined>(undefined);
  const [sent, setSent] = useState<Submitted | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (accord !== undefined && to.length === 0) setTo(accord.accord.parties.map((p) => p.id).filter((p) => p !== us));
    // only when the accord first arrives (the officer may then change it)
  }, [accord, us]);

  // Once a send was refused, every edit checks the form again, so a message goes as soon as its field is fixed.
  useEffect(() => {
    if (Object.keys(errors).length > 0) setErrors(validate());
  }, [to, precedence, marking, lang, text]);

  function validate(): FieldErrors {
    const e: FieldErrors = {};
    if (to.length === 0) e['to'] = t('validation.recipients');
    if (precedence === '') e['precedence'] = t('validation.required');
    if (text.trim() === '') e['text'] = t('validation.text');
    else if (text.length > 20000) e['text'] = t('validation.tooLong', { max: 20000 });
    return e;
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    setSent(undefined);
    setFailure(undefined);
    setExtra([]);
    const e = validate();
    setErrors(e);
    if (Object.keys(e).length > 0) {
      document.getElementById(fid(Object.keys(e)[0]!))?.focus();
      return;
    }
    setBusy(true);
    try {
      const r = await api<Submitted>('/v1/messages', { body: { to, precedence, marking, text, lang } });
      setSent(r);
      setText('');
    } catch (err) {
      const ae = err instanceof ApiError ? err : new ApiError({ status: 0, detail: String(err) });
      const m = mapProblem(ae, FIELDS, (message) => t('validation.server', { message }));
      setErrors(m.fields);
      setExtra(m.unmapped);
      if (Object.keys(m.fields).length === 0 && m.unmapped.length === 0) setFailure(ae);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={t('tabs.message')} data-testid="message-form">
      <FormErrors errors={errors} extra={extra} />
      <ErrorBox error={failure} />
      {sent !== undefined ? (
        <div className="success-box" role="status" data-testid="sent">
          <span aria-hidden="true">✓ </span>
          {t('sent', { party: sent.party, index: sent.index })}{' '}
          <Link to={`/entries/${encodeURIComponent(sent.party)}/${sent.index}`}>{t('viewSent')}</Link>
        </div>
      ) : null}
      <Recipients accord={accord} us={us} value={to} onChange={setTo} error={errors['to']} />
      <div className="grid-3">
        <PrecedenceSelect name="precedence" value={precedence} onChange={setPrecedence} accord={accord} error={errors['precedence']} />
        <MarkingSelect name="marking" value={marking} onChange={setMarking} error={errors['marking']} />
        <LangSelect name="lang" label={t('messageLang')} value={lang} onChange={setLang} />
      </div>
      <Field id="text" label={t('text')} hint={t('textHint')} error={errors['text']}>
        {(p) => <textarea {...p} value={text} onChange={(e) => setText(e.target.value)} lang={lang} rows={8} data-testid="message-text" />}
      </Field>
      <button type="submit" className={`btn ${precedence === 'FLASH' ? 'btn-danger' : 'btn-primary'}`} disabled={busy} data-testid="send-message">
        {busy ? t('sending') : precedence === 'FLASH' ? t('sendFlash') : t('send')}
      </button>
    </form>
  );
}
