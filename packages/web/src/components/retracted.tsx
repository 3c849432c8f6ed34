/**
 * Retractions in the dashboard (issue 13): an entry its sender withdrew is
 * shown struck through, with a note saying so — retracted, or superseded by
 * a later entry (linked) — and the reason (when this role may read it). An
 * officer withdraws an entry of our own log with "Retract…": a native modal
 * dialog asks for the reason (required) and, to supersede, the later entry
 * that replaces it, then POSTs /v1/retractions; the node's refusal
 * (RETRACTION_ALREADY, …) is shown in the dialog.
 */
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ApiError } from '../api.js';
import { useApi } from '../hooks.js';
import { currentLang } from '../i18n.js';
import type { EntryView, Submitted } from '../types.js';
import { ReplyLanguage } from './ack-fields.js';
import { ErrorBox } from './feedback.js';
import { Time } from './time.js';

export type RetractedMark = NonNullable<EntryView['retracted']>;


/** The class that strikes a withdrawn entry's content through. */
export function retractedClass(v: { retracted?: unknown }): string {
  return v.retracted !== undefined ? ' is-retracted' : '';
}

/** "Retracted by US · time — reason" / "Superseded by US/9 · time — reason". */
export function RetractedNote({ r, compact = false }: { r: RetractedMark; compact?: boolean }) {
  const { t } = useTranslation('entry');
  const rep = r.replacement;
  return (
    <div className={`retracted-note${compact ? ' compact' : ''}`} role="note" data-testid="retracted-note" data-action={r.action}>
      <strong>
        <span aria-hidden="true">⊘ </span>
        {r.action === 'supersede' && rep !== undefined ? (
          <>
            {t('retracted.supersededBy')}{' '}
            <Link to={`/entries/${encodeURIComponent(rep.party)}/${rep.index}`} data-testid="replacement-link">
              {rep.party}/{rep.index}
            </Link>
          </>
        ) : (
          t('retracted.retracted')
        )}
      </strong>{' '}
      {!compact ? (
        <span className="muted">
          {t('retracted.by', { party: r.by.party })} <Time iso={r.by.time} /> ·{' '}
          <Link to={`/entries/${encodeURIComponent(r.by.party)}/${r.by.index}`}>{t('retracted.view')}</Link>
        </span>
      ) : null}
      {r.reason !== undefined ? (
        <span className="retracted-reason" lang={r.lang} data-testid="retracted-reason">
          {' — '}
          {r.reason}
        </span>
      ) : (
        <span className="muted"> — {t('retracted.reasonSealed')}</span>
      )}
    </div>
  );
}

/** "Retract…" and its confirm dialog, for an entry of our own log. */
export function RetractAction({ v, onDone }: { v: EntryView; onDone: () => void }) {
  const { t } = useTranslation('entry');
  const [open, setOpen] = useState(false);
  return (
    <>
      <button type="button" className="btn btn-danger" onClick={() => setOpen(true)} data-testid="retract-button">
        {t('retract.button')}
      </button>
      {open ? (
        <RetractDialog
          v={v}
          onClose={() => setOpen(false)}
          onDone={() => {
            setOpen(false);
            onDone();
          }}
        />
      ) : null}
    </>
  );
}

function RetractDialog({ v, onClose, onDone }: { v: EntryView; onClose: () => void; onDone: () => void }) {
  const { t } = useTranslation('entry');
  const ref = useRef<HTMLDialogElement>(null);
  const [reason, setReason] = useState('');
  const [replacement, setReplacement] = useState('');
  // The language the reason is written in (recipients' screen readers and translators rely on it): the UI's by default.
  const [lang, setLang] = useState<string>(currentLang());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  useEffect(() => {
    const d = ref.current;
    if (d !== null && !d.open) d.showModal();
  }, []);
  async function submit(e: FormEvent) {
    e.preventDefault();
    if (reason.trim() === '') return;
    setBusy(true);
    setError(undefined);
    try {
      const rep = replacement.trim();
      await api<Submitted>('/v1/retractions', {
        method: 'POST',
        body: { entry: { party: v.party, index: v.index }, reason: reason.trim(), lang, ...(rep !== '' ? { replacement: { party: v.party, index: Number(rep) } } : {}) },
      });
      ref.current?.close();
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError({ status: 0, detail: String(err) }));
    } finally {
      setBusy(false);
    }
  }
  const entry = `${v.party}/${v.index}`;
  return (
    <dialog ref={ref} className="ack-dialog retract-dialog" aria-labelledby="retract-dialog-title" data-testid="retract-dialog" onClose={onClose}>
      <form onSubmit={(e) => void submit(e)}>
        <h2 id="retract-dialog-title">{t('retract.title', { entry })}</h2>
        <p>{t('retract.explain', { recipients: v.entry.to.join(', ') })}</p>
        <div className="field">
          <label htmlFor="retract-reason">{t('retract.reason')}</label>
          <textarea id="retract-reason" required rows={3} maxLength={2000} value={reason} onChange={(e) => setReason(e.target.value)} lang={lang} autoFocus data-testid="retract-reason" />
        </div>
        <div className="field">
          <ReplyLanguage id="retract-lang" label={t('retract.lang')} value={lang} onChange={setLang} />
        </div>
        <div className="field">
          <label htmlFor="retract-replacement">{t('retract.replacement')}</label>
          <span className="hint" id="retract-replacement-hint">
            {t('retract.replacementHint')}
          </span>
          <input id="retract-replacement" inputMode="numeric" pattern="0|[1-9][0-9]*" value={replacement} onChange={(e) => setReplacement(e.target.value)} aria-describedby="retract-replacement-hint" data-testid="retract-replacement" />
        </div>
        <ErrorBox error={error} />
        <div className="ack-actions">
          <button type="submit" className="btn btn-danger" disabled={busy || reason.trim() === ''} data-testid="retract-confirm">
            {busy ? t('retract.sending') : replacement.trim() !== '' ? t('retract.confirmSupersede') : t('retract.confirm')}
          </button>
          <button type="button" className="btn" onClick={() => ref.current?.close()}>
            {t('retract.cancel')}
          </button>
        </div>
      </form>
    </dialog>
  );
}

/**
 * A retraction entry's own page: what it withdraws (and by what), why, and
 * whether this node applies it. The entry's refs are only its author's
 * claim — a party may write a retraction of an entry not its own, which
 * every node refuses — so the page does not take them at their word: it
 * reads the withdrawn entry and says "in force" only when the node marks
 * it withdrawn by this very retraction.
 */
export function RetractionBody({ v }: { v: EntryView }) {
  const { t } = useTranslation('entry');
  const [target, replacement] = v.entry.refs;
  const { data, error } = useApi<EntryView>(target !== undefined ? `/v1/entries/${encodeURIComponent(target.party)}/${target.index}` : null);
  const b = (typeof v.body === 'object' && v.body !== null ? v.body : {}) as { reason?: unknown; lang?: unknown };
  const entryLink = (r: { party: string; index: number }) => <Link to={`/entries/${encodeURIComponent(r.party)}/${r.index}`}>{`${r.party}/${r.index}`}</Link>;
  const by = data?.retracted?.by;
  const inForce = by !== undefined && by.party === v.party && by.index === v.index;
  const judged = data !== undefined || error !== undefined;
  return (
    <div data-testid="body">
      {target !== undefined ? (
        <p className="retraction-what">
          <strong>{t('retraction.withdraws')}</strong> {entryLink(target)}
          {replacement !== undefined ? (
            <>
              {' '}
              {t('retraction.replacedBy')} {entryLink(replacement)}
            </>
          ) : null}
        </p>
      ) : null}
      {typeof b.reason === 'string' ? (
        <div className="body-text" lang={typeof b.lang === 'string' ? b.lang : undefined} data-testid="retraction-reason">
          {b.reason}
        </div>
      ) : (
        <p className="muted">{t('retracted.reasonSealed')}</p>
      )}
      {target !== undefined && judged ? (
        inForce ? (
          <p className="ok-text" role="status" data-testid="retraction-in-force" data-in-force="true">
            {t('retraction.inForce', { entry: `${target.party}/${target.index}` })}
          </p>
        ) : (
          <p className="retraction-not-in-force" role="status" data-testid="retraction-in-force" data-in-force="false">
            <strong>{t('retraction.notInForce', { entry: `${target.party}/${target.index}` })}</strong>
          </p>
        )
      ) : null}
    </div>
  );
}
