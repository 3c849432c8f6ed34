/**
 * One entry: who sent it to whom and when, its body (opened by the node) or
 * "sealed — not entitled", its place in the log, its references, and —
 * for an entry addressed to us — the acknowledgement deadline and the
 * Acknowledge action (optional reply). For our own entries, each recipient's
 * receipt and acknowledgement. Refreshes on live events about it.
 */
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { entryTypeInfo, isKnownType, isRetractable } from '@parley/core';
import { api, ApiError, query } from '../../api.js';
import { MarkingBadge, PrecedenceBadge, StateBadge } from '../../components/badges.js';
import { ErrorBox, Loading, PageHeader } from '../../components/feedback.js';
import { GlossaryHint } from '../../components/glossary.js';
import { ReportBody } from '../../components/report.js';
import { Countdown, Time } from '../../components/time.js';
import { deadlineFor, isAnswerable, isHotlineMessage, isIncidentReport, typeName } from '../../entries.js';
import { concernsEntry, useLiveReload } from '../../live.js';
import { useApi } from '../../hooks.js';
import { currentLang } from '../../i18n.js';
import { ReplyField, ReplyLanguage } from '../../components/ack-fields.js';
import { useParty } from '../../party.js';
import { useSession } from '../../session.js';
import type { DeadlineItem, DeliveryState, EntryView, Submitted } from '../../types.js';
import { LockIcon } from '../../components/icons.js';
import { usePrintMarking } from '../../components/print.js';
import { RetractAction, RetractedNote, RetractionBody, retractedClass } from '../../components/retracted.js';
import { IncidentLinkBody } from '../incidents/SimilarPanel.js';

type DeliveryDetail = DeadlineItem;

function SealedBox({ v }: { v: EntryView }) {
  const { t } = useTranslation();
  const { t: te } = useTranslation('entry');
  const commitment = 'sealed' in v.entry.body ? v.entry.body.sealed.commitment : undefined;
  return (
    <div className="sealed-box" data-testid="sealed">
      <strong>
        <LockIcon /> {t(`sealed.${v.sealed ?? 'not-entitled'}`)}
      </strong>
      <GlossaryHint term="sealed" />
      <p>{t(`sealed.${v.sealed ?? 'not-entitled'}-help`)}</p>
      {commitment !== undefined ? (
        <dl className="kv">
          <dt>{te('commitment')}</dt>
          <dd className="mono">{commitment}</dd>
        </dl>
      ) : null}
    </div>
  );
}

function AckPanel({ v, onDone }: { v: EntryView; onDone: () => void }) {
  const { t } = useTranslation('entry');
  const { canAct } = useSession();
  const us = useParty();
  const [reply, setReply] = useState('');
  const [lang, setLang] = useState<string>(currentLang());
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const { data: dl, reload } = useApi<{ items: DeliveryDetail[] }>(us === undefined ? null : `/v1/deadlines${query({ party: v.party, index: v.index, recipient: us })}`);
  useLiveReload((e) => concernsEntry(e, v.party, v.index), reload);
  const mine = dl?.items[0];
  const listed = deadlineFor(v, us);
  const d = mine?.ackDueAt !== undefined ? { dueAt: mine.ackDueAt, overdue: mine.state === 'overdue-ack' || (mine.ack === undefined && Date.parse(mine.ackDueAt) <= Date.now()) } : listed !== undefined ? { dueAt: listed.dueAt, overdue: listed.overdue.length > 0 } : undefined;
  const acked = v.state?.ack;
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api<Submitted>(`/v1/entries/${encodeURIComponent(v.party)}/${v.index}/ack`, { body: reply.trim() === '' ? {} : { reply: reply.trim(), lang } });
      onDone();
    } catch (err) {
      setError(err instanceof ApiError ? err : new ApiError({ status: 0, detail: String(err) }));
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="card" aria-labelledby="ack-title" data-testid="ack-panel">
      <h2 id="ack-title">
        {t('ack.title')}
        <GlossaryHint term="acknowledgement" />
      </h2>
      {v.state?.receipt !== undefined ? (
        <p>
          {t('ack.receivedAt')} <Time iso={v.state.receipt.time} />
        </p>
      ) : null}
      {acked !== undefined ? (
        <div className="success-box" role="status" data-testid="acked">
          <span aria-hidden="true">✓ </span>
          {t('ack.done', { officer: acked.officer })} <Time iso={acked.time} />{' '}
          {us !== undefined ? <Link to={`/entries/${encodeURIComponent(us)}/${acked.index}`}>{t('ack.viewAck')}</Link> : null}
        </div>
      ) : (
        <>
          {d !== undefined ? (
            <p>
              {t('ack.deadline')} <Countdown dueAt={d.dueAt} overdue={d.overdue} label={t('ack.deadline')} /> <span className="muted">(<Time iso={d.dueAt} />)</span>
            </p>
          ) : null}
          {canAct ? (
            <form onSubmit={(e) => void submit(e)}>
              <ReplyField id="ack-reply" label={t('ack.reply')} hint={t('ack.replyHint')} value={reply} onChange={setReply} lang={lang} rows={2} />
              <ErrorBox error={error} />
              <div className="ack-actions">
                <button type="submit" className="btn btn-primary btn-big" disabled={busy} data-testid="ack-button">
                  <span aria-hidden="true">✓ </span>
                  {busy ? t('ack.sending') : t('ack.button')}
                </button>
                <ReplyLanguage id="ack-lang" label={t('ack.lang')} value={lang} onChange={setLang} />
              </div>
            </form>
          ) : (
            <p className="notice">{t('ack.auditorCannot')}</p>
          )}
        </>
      )}
    </section>
  );
}

function Deliveries({ v }: { v: EntryView }) {
  const { t } = useTranslation('entry');
  const { t: tc } = useTranslation();
  const { data, reload } = useApi<{ items: DeliveryDetail[] }>(`/v1/deadlines${query({ party: v.party, index: v.index, limit: 100 })}`);
  useLiveReload((e) => concernsEntry(e, v.party, v.index), reload);
  const items = data?.items ?? [];
  return (
    <section className="card" aria-labelledby="deliv-title">
      <h2 id="deliv-title">{t('deliveries.title')}</h2>
      {items.length === 0 ? (
        <p className="muted">{t('deliveries.none')}</p>
      ) : (
        <div className="table-wrap">
          <table className="data cards" data-testid="deliveries">
            <thead>
              <tr>
                <th scope="col">{t('deliveries.recipient')}</th>
                <th scope="col">{t('deliveries.state')}</th>
                <th scope="col">
                  {t('deliveries.receipt')}
                  <GlossaryHint term="receipt" />
                </th>
                <th scope="col">{t('deliveries.ack')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((d) => (
                <tr key={d.recipient} data-recipient={d.recipient} data-state={d.state}>
                  <th scope="row" data-label={t('deliveries.recipient')}>{d.recipient}</th>
                  <td data-label={t('deliveries.state')}>
                    <StateBadge state={d.state as DeliveryState} />
                    {!d.settled && d.nextDueAt !== undefined ? (
                      <div>
                        <Countdown dueAt={d.nextDueAt} overdue={d.state.startsWith('overdue')} />
                      </div>
                    ) : null}
                  </td>
                  <td data-label={t('deliveries.receipt')}>
                    {d.receipt !== undefined ? (
                      <>
                        <Time iso={d.receipt.at} /> {d.receipt.onTime ? '' : `⚠ ${t('deliveries.late')}`}
                      </>
                    ) : (
                      <span className="muted">
                        {t('deliveries.dueBy')} <Time iso={d.receiptDueAt} short seconds />
                      </span>
                    )}
                  </td>
                  <td data-label={t('deliveries.ack')}>
                    {d.ack !== undefined ? (
                      <>
                        <Time iso={d.ack.at} /> · {d.ack.officer} {d.ack.onTime ? '' : `⚠ ${t('deliveries.late')}`}
                      </>
                    ) : d.ackDueAt !== undefined ? (
                      <span className="muted">
                        {t('deliveries.dueBy')} <Time iso={d.ackDueAt} short seconds />
                      </span>
                    ) : (
                      <span className="muted">{tc('notApplicable')}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

export function EntryPage() {
  const { t } = useTranslation('entry');
  const { t: tc } = useTranslation();
  const { party = '', index = '' } = useParams();
  const us = useParty();
  const { canAct } = useSession();
  const { data: v, error, reload } = useApi<EntryView>(`/v1/entries/${encodeURIComponent(party)}/${encodeURIComponent(index)}`);
  // Only events about this entry (its deliveries changing state, the entry arriving), coalesced.
  useLiveReload((e) => concernsEntry(e, party, Number(index)), reload);
  usePrintMarking(v?.entry.marking);
  if (error !== undefined) return <ErrorBox error={error} />;
  if (v === undefined) return <Loading />;
  const received = us !== undefined && v.party !== us;
  const answerable = isAnswerable(v.entry.type);
  return (
    <>
      <PageHeader title={`${typeName(tc, v.entry.type)} ${v.party}/${v.index}`}>
        <PrecedenceBadge p={v.entry.precedence} />
        <GlossaryHint term="precedence" />
        <MarkingBadge m={v.entry.marking} />
        <GlossaryHint term="tlp" />
        {!received && canAct && v.retracted === undefined && isRetractable(v.entry.type) ? <RetractAction v={v} onDone={reload} /> : null}
      </PageHeader>
      {v.retracted !== undefined ? <RetractedNote r={v.retracted} /> : null}
      <div className="two-col">
        <div className="stack">
          {received && answerable && v.state?.ack === undefined && v.retracted === undefined ? <AckPanel v={v} onDone={reload} /> : null}
          <section className={`card${retractedClass(v)}`} aria-labelledby="body-title">
            <h2 id="body-title" className="visually-hidden">
              {t('body')}
            </h2>
            {isHotlineMessage(v) ? (
              <div className="body-text" lang={v.body.lang} data-testid="body">
                {v.body.text}
              </div>
            ) : isIncidentReport(v) ? (
              <div data-testid="body">
                <ReportBody r={v.body} />
              </div>
            ) : v.entry.type === 'ack' && typeof (v.body as { reply?: unknown } | undefined)?.reply === 'string' ? (
              <div className="body-text" lang={(v.body as { lang?: string }).lang} data-testid="body">
                {(v.body as { reply: string }).reply}
              </div>
            ) : !isKnownType(v.entry.type) ? (
              <UnknownTypeBody v={v} />
            ) : v.entry.type === 'incident.link' && v.body !== undefined ? (
              <IncidentLinkBody body={v.body} />
            ) : v.entry.type === 'retraction' ? (
              <RetractionBody v={v} />
            ) : entryTypeInfo(v.entry.type)?.governance === true && v.body !== undefined ? (
              <GovernanceBody v={v} />
            ) : v.sealed !== undefined ? (
              <SealedBox v={v} />
            ) : v.body !== undefined ? (
              <pre className="body-text mono">{JSON.stringify(v.body, null, 2)}</pre>
            ) : (
              <SealedBox v={v} />
            )}
            {v.entry.type === 'evaluation.commitment' || ((v.entry.type === 'deployment.notice' || v.entry.type === 'evaluation.reveal') && v.entry.refs[0] !== undefined) ? (
              <p>
                <Link to={v.entry.type === 'evaluation.commitment' ? `/evaluations/${v.party}/${v.index}` : `/evaluations/${v.entry.refs[0]!.party}/${v.entry.refs[0]!.index}`} data-testid="to-evaluation">
                  {t('evaluations:open')}
                </Link>
              </p>
            ) : null}
            {isIncidentReport(v) && canAct ? (
              <p>
                <Link className="btn" to={`/compose?${new URLSearchParams({ tab: 'report', incident: v.body.incident, ref: `${v.party}/${v.index}` }).toString()}`}>
                  {t('thread')}
                </Link>
              </p>
            ) : null}
          </section>
          {received && answerable && v.state?.ack !== undefined ? <AckPanel v={v} onDone={reload} /> : null}
          {!received && answerable ? <Deliveries v={v} /> : null}
        </div>
        <section className="card" aria-labelledby="meta-title">
          <h2 id="meta-title">{t('meta.title')}</h2>
          <dl className="kv">
            <dt>{t('meta.from')}</dt>
            <dd>
              {v.entry.from.party} · {v.entry.from.officer}
            </dd>
            <dt>{t('meta.to')}</dt>
            <dd>{v.entry.to.join(', ')}</dd>
            <dt>{t('meta.time')}</dt>
            <dd>
              <Time iso={v.entry.time} />
            </dd>
            <dt>{t('meta.type')}</dt>
            <dd>{typeName(tc, v.entry.type)}</dd>
            <dt>{t('meta.seq')}</dt>
            <dd>{v.entry.seq}</dd>
            <dt>{t('meta.position')}</dt>
            <dd>
              <Link to={`/logs/${encodeURIComponent(v.party)}/${v.index}`}>
                {v.party}/{v.index}
              </Link>
            </dd>
            <dt>{t('meta.leafHash')}</dt>
            <dd className="mono">{v.leafHash}</dd>
            <dt>
              {t('meta.proof')}
              <GlossaryHint term="inclusion-proof" />
            </dt>
            <dd>
              <Link to={`/logs/${encodeURIComponent(v.party)}/${v.index}`} data-testid="verify-link">
                {t('meta.verify')}
              </Link>
            </dd>
            <dt>{t('meta.refs')}</dt>
            <dd>
              {v.entry.refs.length === 0
                ? '—'
                : v.entry.refs.map((r) => (
                    <div key={`${r.party}/${r.index}`}>
                      <Link to={`/entries/${encodeURIComponent(r.party)}/${r.index}`}>
                        {r.party}/{r.index}
                      </Link>
                    </div>
                  ))}
            </dd>
          </dl>
        </section>
      </div>
    </>
  );
}

/**
 * An entry of a type this version does not know (core's entry-type registry):
 * said so, with its body as signed (or sealed), never hidden.
 */
function UnknownTypeBody({ v }: { v: EntryView }) {
  const { t } = useTranslation('entry');
  return (
    <div data-testid="unknown-type">
      <p className="notice" role="note">
        <strong>{t('unknownType.title')}</strong> {t('unknownType.help', { type: v.entry.type })}
      </p>
      {v.body !== undefined ? <pre className="body-text mono">{JSON.stringify(v.body, null, 2)}</pre> : <SealedBox v={v} />}
    </div>
  );
}

/** A governance entry (accord.amendment / approval / activation) in words, its body below for the record. */
function GovernanceBody({ v }: { v: EntryView }) {
  const { t } = useTranslation('entry');
  const b = (typeof v.body === 'object' && v.body !== null ? v.body : {}) as {
    accord?: { version?: unknown };
    version?: unknown;
    digest?: unknown;
    rationale?: unknown;
    recovery?: { party?: unknown; suspectFrom?: unknown };
    signatures?: unknown[];
  };
  const version = String(v.entry.type === 'accord.amendment' ? (b.accord?.version ?? 1) : b.version);
  const what = v.entry.type === 'accord.amendment' ? 'proposes' : v.entry.type === 'accord.approval' ? 'approves' : 'activates';
  return (
    <div data-testid="governance-body">
      <p>
        <strong>{t(`governance.${what}`, { version, party: v.entry.from.party })}</strong>
      </p>
      <dl className="kv">
        {typeof b.digest === 'string' ? (
          <>
            <dt>{t('governance.digest')}</dt>
            <dd className="mono">{b.digest}</dd>
          </>
        ) : null}
        {typeof b.rationale === 'string' ? (
          <>
            <dt>{t('governance.rationale')}</dt>
            <dd className="body-text">{b.rationale}</dd>
          </>
        ) : null}
      </dl>
      {b.recovery !== undefined ? <p className="notice">{t('governance.recovery', { party: String(b.recovery.party), from: String(b.recovery.suspectFrom) })}</p> : null}
      {Array.isArray(b.signatures) ? <p className="muted">{t('governance.signatures', { count: b.signatures.length })}</p> : null}
      <p>
        <Link to="/accord">{t('governance.seeAccord')}</Link>
      </p>
      <details>
        <summary>{t('body')}</summary>
        <pre className="body-text mono">{JSON.stringify(v.body, null, 2)}</pre>
      </details>
    </div>
  );
}
