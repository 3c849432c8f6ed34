/**
 * "Possibly the same event" (issue 13): incidents reported by other parties
 * that the node scores as likely the same event as this one (GET
 * /v1/incidents/:id/similar: same system, close in time, similar text in
 * either language), each with its reasons and a Confirm button that logs an
 * `incident.link` (POST /v1/incidents/links); and the confirmed links that
 * name this incident (the incident view's `links`), from either side.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import type { IncidentLink, SimilarResponse } from '@parley/node/api';
import { ApiError, api } from '../../api.js';
import { ErrorBox } from '../../components/feedback.js';
import { Time } from '../../components/time.js';
import { useApi } from '../../hooks.js';
import { isResync, useLiveReload } from '../../live.js';
import { useAccord } from '../explorer/accord.js';

/** Entry types whose arrival can change the suggestions or the confirmed links. */
const SIMILAR_TYPES: readonly string[] = ['incident.report', 'incident.link', 'retraction'];

export function SimilarPanel({ id, links, canAct, onLinked }: { id: string; links: readonly IncidentLink[]; canAct: boolean; onLinked: () => void }) {
  const { t } = useTranslation('incidents');
  const { partyName } = useAccord();
  const { data, error, reload } = useApi<SimilarResponse>(`/v1/incidents/${encodeURIComponent(id)}/similar`);
  // Live: another party's report (a new suggestion), link (confirmed on either side) or retraction (a suggestion withdrawn) arriving.
  useLiveReload(
    (e) => isResync(e) || (e.event === 'entry' && SIMILAR_TYPES.includes((e.data as { type?: string } | null)?.type ?? '')),
    () => {
      reload();
      onLinked();
    },
  );
  const [busy, setBusy] = useState<string | undefined>(undefined);
  const [failed, setFailed] = useState<ApiError | undefined>(undefined);
  const [done, setDone] = useState<{ other: string; entry: string } | undefined>(undefined);
  const confirm = (other: string) => {
    setBusy(other);
    setFailed(undefined);
    void api<{ party: string; index: number }>('/v1/incidents/links', { body: { incidents: [id, other], relation: 'same-event' } }).then(
      (s) => {
        setBusy(undefined);
        setDone({ other, entry: `${s.party}/${s.index}` });
        reload();
        onLinked();
      },
      (e: unknown) => {
        setBusy(undefined);
        setFailed(e instanceof ApiError ? e : new ApiError({ status: 0, detail: String(e) }));
      },
    );
  };
  const items = data?.items ?? [];
  return (
    <section className="card similar-panel" aria-labelledby="similar-heading" data-testid="similar-panel">
      <h2 id="similar-heading">{t('similar.title')}</h2>
      {links.length > 0 ? (
        <div data-testid="incident-links">
          <h3>{t('similar.linked')}</h3>
          <ul className="incident-links">
            {links.map((l) => (
              <li key={`${l.party}/${l.index}`}>
                {l.incidents
                  .filter((x) => x !== id)
                  .map((x) => (
                    <Link key={x} to={`/incidents/${encodeURIComponent(x)}`} className="incident-link-id">
                      {x}
                    </Link>
                  ))}{' '}
                <span className="muted">
                  {t(`similar.relation.${l.relation}`)} · {t('similar.by', { party: partyName(l.party), officer: l.officer })} · <Time iso={l.time} /> ·{' '}
                  <Link to={`/entries/${encodeURIComponent(l.party)}/${l.index}`} data-testid="link-entry">
                    {t('similar.entry', { entry: `${l.party}/${l.index}` })}
                  </Link>
                </span>
                {l.note !== undefined ? (
                  <p className="body-text" lang={l.lang}>
                    {l.note}
                  </p>
                ) : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {/* Every report sealed from this role (an auditor): nothing to compare, which is not an error. */}
      {error?.status === 403 ? <p className="muted">{t('similar.sealed')}</p> : <ErrorBox error={error ?? failed} />}
      {done !== undefined ? (
        <p role="status" className="ok-text">
          {t('similar.confirmed', done)}
        </p>
      ) : null}
      {data !== undefined && items.length === 0 ? <p className="muted">{t('similar.none')}</p> : null}
      {items.length > 0 ? (
        <ul className="similar-list">
          {items.map((s, i) => (
            <li key={s.incident} data-testid="similar-item" data-incident={s.incident}>
              {/* The party named is the signed sender of the report compared, not the incident id's prefix (any party may write any id). */}
              <div id={`similar-${i}`}>
                <span className="similar-score" title={t('similar.scoreHint')}>
                  {t('similar.score', { score: Math.round(s.score * 100) })}
                </span>{' '}
                <Link to={`/incidents/${encodeURIComponent(s.incident)}`}>{s.incident}</Link> · <span data-testid="similar-party">{partyName(s.latest.party)}</span> · <span lang={s.lang}>{s.title}</span>
              </div>
              <ul className="similar-reasons" aria-label={t('similar.reasons')}>
                {s.reasons.map((r) => (
                  <li key={r.code} title={r.text}>
                    {/* "system" is the same system (weight 0.35) or a similar one, one name containing the other (0.25): docs/interop.md. */}
                    {t(r.code === 'system' && r.weight < 0.35 ? 'similar.reason.systemSimilar' : `similar.reason.${r.code}`)}
                  </li>
                ))}
              </ul>
              {s.linked ? (
                <span className="badge">{t('similar.alreadyLinked')}</span>
              ) : canAct ? (
                <button type="button" className="btn" disabled={busy !== undefined} onClick={() => confirm(s.incident)} aria-describedby={`similar-${i}`} data-testid="confirm-link">
                  {busy === s.incident ? t('similar.confirming') : t('similar.confirm')}
                </button>
              ) : null}
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

/**
 * An `incident.link` entry's own page: the incidents it joins (links to
 * their pages), the relation, and the note in its language.
 */
export function IncidentLinkBody({ body }: { body: unknown }) {
  const { t } = useTranslation('incidents');
  const b = (typeof body === 'object' && body !== null ? body : {}) as { incidents?: unknown; relation?: unknown; note?: unknown; lang?: unknown };
  const incidents = Array.isArray(b.incidents) ? b.incidents.filter((x): x is string => typeof x === 'string') : [];
  return (
    <div data-testid="body">
      <p>
        <strong>{b.relation === 'same-event' || b.relation === 'related' ? t(`similar.relation.${b.relation}`) : String(b.relation)}</strong>
        {': '}
        {incidents.map((x, i) => (
          <span key={x}>
            {i > 0 ? ', ' : null}
            <Link to={`/incidents/${encodeURIComponent(x)}`}>{x}</Link>
          </span>
        ))}
      </p>
      {typeof b.note === 'string' ? (
        <div className="body-text" lang={typeof b.lang === 'string' ? b.lang : undefined}>
          {b.note}
        </div>
      ) : null}
    </div>
  );
}
