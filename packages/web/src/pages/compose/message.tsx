/** Compose a hotline message: recipients, precedence, marking, language, text → POST /v1/messages. */
import type { Marking, Precedence } from '@parley/core';
import { useEffect, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api } from '../../api.js';
import type { AccordInfo } from '../../accord.js';
import { currentLang } from '../../i18n.js';
import type { Submitted } from '../../types.js';
import { LangSelect, LinkDownWarning, MarkingSelect, PrecedenceSelect, Recipients, useDownLinks } from './common.js';
import { Field, SendStatus, useSend, type FieldErrors } from './fields.js';

const FIELDS = ['to', 'precedence', 'marking', 'text', 'lang'] as const;

export function MessageForm({ accord, us }: { accord: AccordInfo | undefined; us: string | undefined }) {
  const { t } = useTranslation('compose');
  const [to, setTo] = useState<string[]>([]);
  const [precedence, setPrecedence] = useState<Precedence | ''>('IMMEDIATE');
  const [marking, setMarking] = useState<Marking>('TLP:AMBER');
  const [lang, setLang] = useState<string>(currentLang());
  const [text, setText] = useState('');
  const downLinks = useDownLinks();
  const downTo = to.filter((p) => downLinks.includes(p));
  const [anyway, setAnyway] = useState(false);

  useEffect(() => {
    if (accord !== undefined && to.length === 0) setTo(accord.accord.parties.map((p) => p.id).filter((p) => p !== us));
    // only when the accord first arrives (the officer may then change it)
  }, [accord, us]);

  function validate(): FieldErrors {
    const e: FieldErrors = {};
    if (to.length === 0) e['to'] = t('validation.recipients');
    else if (downTo.length > 0 && !anyway) e['to'] = t('linkDown.required');
    if (precedence === '') e['precedence'] = t('validation.required');
    if (text.trim() === '') e['text'] = t('validation.text');
    else if (text.length > 20000) e['text'] = t('validation.tooLong', { max: 20000 });
    return e;
  }

  const form = useSend(FIELDS, validate, [to, precedence, marking, lang, text, anyway, downTo.join()]);
  const { errors, busy } = form;

  async function submit(ev: FormEvent) {
    if (await form.send(ev, () => api<Submitted>('/v1/messages', { body: { to, precedence, marking, text, lang } }))) setText('');
  }

  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={t('tabs.message')} data-testid="message-form">
      <SendStatus state={form} />
      <Recipients accord={accord} us={us} value={to} onChange={setTo} error={errors['to']} />
      <LinkDownWarning parties={downTo} confirmed={anyway} onConfirm={setAnyway} />
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
