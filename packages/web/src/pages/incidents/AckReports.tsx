/**
 * Acknowledging an incident's reports from its page: each report addressed
 * to us that awaits our acknowledgement gets a checkbox and an Acknowledge
 * button on its timeline item; the panel acknowledges the selected ones at
 * once, with one optional reply, and lists what happened to each — some may
 * fail (ALREADY_ACKNOWLEDGED when another officer was quicker) while the
 * rest succeed.
 *
 * One request per report, in timeline order, through the node's own
 * POST /v1/entries/{party}/{index}/ack: each acknowledgement is its own
 * signed entry of our log and each can fail on its own, which is what the
 * per-report results show. (A batch endpoint would save a few round trips
 * for a handful of reports and add a second way to acknowledge.)
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError } from '../../api.js';
import { acknowledge } from '../../components/ack-dialog.js';
import { GlossaryHint } from '../../components/glossary.js';
import { entryKey } from '../../entries.js';
import { currentLang } from '../../i18n.js';
import { ReplyField, ReplyLanguage } from '../../components/ack-fields.js';
import type { EntryView, Submitted } from '../../types.js';

/** Reports of the timeline addressed to `us` from another party that no one here has acknowledged yet. */
export function awaitingAck(timeline: readonly EntryView[], us: string | undefined): EntryView[] {
  if (us === undefined) return [];
  return timeline.filter((v) => v.party !== us && v.entry.type === 'incident.report' && v.entry.to.includes(us) && v.state?.ack === undefined && v.retracted === undefined);
}

export type AckResult = { readonly key: string; readonly ok: true; readonly ack: Submitted } | { readonly key: string; readonly ok: false; readonly error: ApiError };

export interface AckBatch {
  readonly selected: ReadonlySet<string>;
  toggle(key: string, on: boolean): void;
  setAll(keys: readonly string[]): void;
  readonly reply: string;
  setReply(s: string): void;
  readonly lang: string;
  setLang(s: string): void;
  readonly results: readonly AckResult[];
  /** While acknowledging: how many are done of how many. */
  readonly progress: { readonly done: number; readonly of: number } | undefined;
  run(entries: readonly EntryView[]): Promise<void>;
}

/** Selection, reply and results of the page's acknowledgements; `onDone` after each run (re-read the timeline). */
export function useAckBatch(onDone: () => unknown): AckBatch {
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [reply, setReply] = useState('');
  const [lang, setLang] = useState<string>(currentLang());
  const [results, setResults] = useState<readonly AckResult[]>([]);
  const [progress, setProgress] = useState<{ done: number; of: number } | undefined>(undefined);
  return {
    selected,
    toggle: (key, on) =>
      setSelected((s) => {
        const n = new Set(s);
        if (on) n.add(key);
        else n.delete(key);
        return n;
      }),
    setAll: (keys) => setSelected(new Set(keys)),
    reply,
    setReply,
    lang,
    setLang,
    results,
    progress,
    async run(entries) {
      if (entries.length === 0 || progress !== undefined) return;
      const out: AckResult[] = [];
      setResults([]);
      setProgress({ done: 0, of: entries.length });
      for (const v of entries) {
        try {
          out.push({ key: entryKey(v), ok: true, ack: await acknowledge(v, reply, lang) });
        } catch (e) {
          out.push({ key: entryKey(v), ok: false, error: e instanceof ApiError ? e : new ApiError({ status: 0, detail: String(e) }) });
        }
        setProgress({ done: out.length, of: entries.length });
        setResults([...out]);
      }
      setSelected((s) => new Set([...s].filter((k) => !out.some((r) => r.ok && r.key === k))));
      setProgress(undefined);
      await onDone();
    },
  };
}

/** On a timeline item awaiting our acknowledgement (its deadline is in the item's deliveries): a checkbox for the batch, and Acknowledge for this one. */
export function AckControls({ v, batch }: { v: EntryView; batch: AckBatch }) {
  const { t } = useTranslation('incidents');
  const key = entryKey(v);
  const id = `ack-sel-${v.party}-${v.index}`;
  return (
    <div className="ack-controls" data-testid="ack-controls" data-key={key}>
      <label htmlFor={id} className="ack-select">
        <input id={id} type="checkbox" checked={batch.selected.has(key)} onChange={(e) => batch.toggle(key, e.target.checked)} data-testid="ack-select" />
        {t('ack.select', { entry: key })}
      </label>
      <button type="button" className="btn btn-small" disabled={batch.progress !== undefined} onClick={() => void batch.run([v])} data-testid="ack-one">
        <span aria-hidden="true">✓ </span>
        {t('ack.one')}
        <span className="visually-hidden"> {key}</span>
      </button>
    </div>
  );
}

/** The panel: how many await us, select all, one reply for all, Acknowledge selected, and each report's result. */
export function AckReportsPanel({ awaiting, batch, us, canAct }: { awaiting: readonly EntryView[]; batch: AckBatch; us: string | undefined; canAct: boolean }) {
  const { t } = useTranslation('incidents');
  const { t: tc } = useTranslation();
  const { t: te } = useTranslation('entry');
  const chosen = awaiting.filter((v) => batch.selected.has(entryKey(v)));
  if (awaiting.length === 0 && batch.results.length === 0) return null;
  return (
    <section className="card ack-reports" aria-labelledby="ack-reports-h" data-testid="ack-reports">
      <h2 id="ack-reports-h">
        {awaiting.length > 0 ? t('ack.title', { count: awaiting.length }) : t('ack.titleDone')}
        <GlossaryHint term="acknowledgement" />
      </h2>
      {!canAct ? (
        <p className="notice">{te('ack.auditorCannot')}</p>
      ) : awaiting.length > 0 ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void batch.run(chosen);
          }}
        >
          <div className="ack-select-all">
            <button type="button" className="btn btn-small" onClick={() => batch.setAll(awaiting.map(entryKey))} data-testid="ack-select-all">
              {t('ack.selectAll', { count: awaiting.length })}
            </button>
            {batch.selected.size > 0 ? (
              <button type="button" className="btn btn-small btn-quiet" onClick={() => batch.setAll([])}>
                {t('ack.selectNone')}
              </button>
            ) : null}
          </div>
          <ReplyField id="ack-batch-reply" label={te('ack.reply')} hint={t('ack.replyHint')} value={batch.reply} onChange={batch.setReply} lang={batch.lang} rows={2} />
          <div className="ack-actions">
            <button type="submit" className="btn btn-primary" disabled={chosen.length === 0 || batch.progress !== undefined} data-testid="ack-selected">
              <span aria-hidden="true">✓ </span>
              {batch.progress !== undefined ? t('ack.progress', { done: batch.progress.done, of: batch.progress.of }) : t('ack.selected', { count: chosen.length })}
            </button>
            <ReplyLanguage id="ack-batch-lang" label={te('ack.lang')} value={batch.lang} onChange={batch.setLang} />
          </div>
        </form>
      ) : (
        <p className="muted">{t('ack.noneLeft')}</p>
      )}
      <div aria-live="polite">
        {batch.results.length > 0 ? (
          <>
            <h3>{t('ack.results', { ok: batch.results.filter((r) => r.ok).length, failed: batch.results.filter((r) => !r.ok).length })}</h3>
            <ul className="ack-results" data-testid="ack-results">
              {batch.results.map((r) => (
                <li key={r.key} data-key={r.key} data-ok={r.ok ? 'true' : 'false'} data-code={r.ok ? '' : r.error.code} className={r.ok ? 'ack-ok' : 'ack-failed'}>
                  {r.ok ? (
                    <>
                      <span aria-hidden="true">✓ </span>
                      {t('ack.ok', { entry: r.key })}{' '}
                      {us !== undefined ? <Link to={`/entries/${encodeURIComponent(us)}/${r.ack.index}`}>{t('ack.viewAck', { entry: `${us}/${r.ack.index}` })}</Link> : null}
                    </>
                  ) : (
                    <>
                      <span aria-hidden="true">✗ </span>
                      {t('ack.failed', { entry: r.key })} {tc(`errors.${r.error.code}`, { defaultValue: r.error.message })} <code className="error-code">{r.error.code}</code>
                    </>
                  )}
                </li>
              ))}
            </ul>
          </>
        ) : null}
      </div>
    </section>
  );
}
