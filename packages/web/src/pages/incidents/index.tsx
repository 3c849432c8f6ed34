/**
 * Incidents: every incident any party reported on this channel, filtered by
 * party, category, severity, status and date and searched by text
 * (GET /v1/incidents); one incident's timeline across all parties' entries
 * (GET /v1/incidents/:id). Filters live in the URL (filters.ts) so a view can
 * be shared and the back button works; new reports arrive live.
 */
import { LIFECYCLE_STATES, SEVERITIES, TAXONOMY_V1 } from '@parley/core';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { SeverityBadge } from '../../components/badges.js';
import { LockIcon } from '../../components/icons.js';
import { Empty, ErrorBox, Loading, PageHeader } from '../../components/feedback.js';
import { Time } from '../../components/time.js';
import { useLiveReload } from '../../live.js';
import { useApi } from '../../hooks.js';
import { api, ApiError } from '../../api.js';
import { useLabel } from '../../i18n.js';
import { useAccord } from '../explorer/accord.js';
import { type IncidentFilters, apiQuery, formatFilters, hasFilters, parseFilters } from './filters.js';
import { CategoryLabel, StatusBadge } from './labels.js';
import './incidents.css';
import type { IncidentSummary, IncidentsResponse } from '@parley/node/api';

export { IncidentPage } from './IncidentPage.js';


const PAGE = 50;

function Filters({ filters, onChange, onSearch }: { filters: IncidentFilters; onChange: (f: IncidentFilters) => void; onSearch: (q: string) => void }) {
  const { t } = useTranslation('incidents');
  const { l } = useLabel();
  const { parties, partyName } = useAccord();
  const [q, setQ] = useState(filters.q ?? '');
  useEffect(() => setQ(filters.q ?? ''), [filters.q]);
  // Search as the officer types, once they pause. The search joins the
  // filters in force when the timer fires, not those of the render that saw
  // the keystroke: a filter change may still be rendering (a transition).
  useEffect(() => {
    if (q === (filters.q ?? '')) return undefined;
    const timer = setTimeout(() => onSearch(q), 300);
    return () => clearTimeout(timer);
  }, [q]); // eslint-disable-line react-hooks/exhaustive-deps
  const set = <K extends keyof IncidentFilters>(k: K, v: IncidentFilters[K] | '') => {
    const next: Record<string, unknown> = { ...filters };
    if (v === '' || v === undefined) delete next[k];
    else next[k] = v;
    onChange(next as IncidentFilters);
  };
  return (
    <form className="filters incident-filters" role="search" aria-label={t('filters')} onSubmit={(e) => e.preventDefault()}>
      <div className="field search-field">
        <label htmlFor="f-q">{t('search')}</label>
        <input id="f-q" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder={t('searchPlaceholder')} />
      </div>
      <div className="field">
        <label htmlFor="f-party">{t('party')}</label>
        <select id="f-party" value={filters.party ?? ''} onChange={(e) => set('party', e.target.value)}>
          <option value="">{t('any')}</option>
          {parties.map((p) => (
            <option key={p.id} value={p.id}>
              {partyName(p.id)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-category">{t('category')}</label>
        <select id="f-category" value={filters.category ?? ''} onChange={(e) => set('category', e.target.value)}>
          <option value="">{t('any')}</option>
          {TAXONOMY_V1.categories.map((c) => (
            <option key={c.code} value={c.code}>
              {c.code} · {l(c.label)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-severity">{t('severity')}</label>
        <select id="f-severity" value={filters.severity ?? ''} onChange={(e) => set('severity', e.target.value === '' ? '' : Number(e.target.value))}>
          <option value="">{t('any')}</option>
          {SEVERITIES.map((s) => (
            <option key={s} value={s}>
              {s} · {l(TAXONOMY_V1.severity[s]!.name)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-status">{t('status')}</label>
        <select id="f-status" value={filters.status ?? ''} onChange={(e) => set('status', e.target.value)}>
          <option value="">{t('any')}</option>
          {LIFECYCLE_STATES.map((s) => (
            <option key={s} value={s}>
              {l(TAXONOMY_V1.lifecycleStates.find((x) => x.code === s)!.label)}
            </option>
          ))}
        </select>
      </div>
      <div className="field">
        <label htmlFor="f-from">{t('from')}</label>
        <input id="f-from" type="date" value={filters.from ?? ''} max={filters.to} onChange={(e) => set('from', e.target.value)} />
      </div>
      <div className="field">
        <label htmlFor="f-to">{t('to')}</label>
        <input id="f-to" type="date" value={filters.to ?? ''} min={filters.from} onChange={(e) => set('to', e.target.value)} />
      </div>
      {hasFilters(filters) ? (
        <button
          type="button"
          className="btn btn-quiet"
          onClick={() => {
            setQ('');
            onChange({});
          }}
        >
          {t('clear')}
        </button>
      ) : null}
    </form>
  );
}

export function IncidentsPage() {
  const { t } = useTranslation('incidents');
  const tc = useTranslation().t;
  const [params, setParams] = useSearchParams();
  const filters = parseFilters(params);
  const path = `/v1/incidents${apiQuery(filters, { limit: PAGE })}`;
  const { data, error, loading, reload } = useApi<IncidentsResponse>(path);
  const [more, setMore] = useState<{ path: string; items: IncidentSummary[]; next?: string | undefined }>({ path, items: [] });
  const [moreError, setMoreError] = useState<ApiError | undefined>();
  if (more.path !== path) setMore({ path, items: [] });
  const { partyName } = useAccord();
  useLiveReload((e) => {
    const d = e.data as { type?: string; incident?: string } | null;
    return e.event === 'reconnected' || e.event === 'reset' || (e.event === 'entry' && (d?.type === 'incident.report' || d?.incident !== undefined));
  }, reload);
  const items = [...(data?.items ?? []), ...more.items];
  const next = more.items.length > 0 ? more.next : data?.next;
  const loadMore = async () => {
    if (next === undefined) return;
    try {
      const r = await api<IncidentsResponse>(`/v1/incidents${apiQuery(filters, { limit: PAGE, before: next })}`);
      setMore({ path, items: [...more.items, ...r.items], next: r.next });
      setMoreError(undefined);
    } catch (e) {
      setMoreError(e instanceof ApiError ? e : new ApiError({ status: 0, detail: String(e) }));
    }
  };
  return (
    <>
      <PageHeader title={t('title')} />
      <Filters
        filters={filters}
        onChange={(f) => setParams(formatFilters(f), { replace: true })}
        // The URL is the filters' source of truth; history is updated at once,
        // the render that follows may lag behind.
        onSearch={(q) => setParams(formatFilters({ ...parseFilters(new URLSearchParams(window.location.search)), q }), { replace: true })}
      />
      <ErrorBox error={error ?? moreError} />
      <p className="muted result-count" role="status" aria-live="polite">
        {data !== undefined ? t('count', { count: items.length, more: next !== undefined ? '+' : '' }) : ''}
      </p>
      {loading && data === undefined ? <Loading /> : null}
      {data !== undefined && items.length === 0 ? <Empty>{hasFilters(filters) ? t('noneMatch') : t('none')}</Empty> : null}
      {items.length > 0 ? (
        <div className="table-wrap">
          <table className="data cards incidents-table" data-testid="incidents-table">
            <caption className="visually-hidden">{t('title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('col.incident')}</th>
                <th scope="col">{t('col.title')}</th>
                <th scope="col">{t('party')}</th>
                <th scope="col">{t('category')}</th>
                <th scope="col">{t('severity')}</th>
                <th scope="col">{t('status')}</th>
                <th scope="col">{t('col.when')}</th>
                <th scope="col" className="col-entries">{t('col.entries')}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((it) => (
                <tr key={it.incident} className={it.severity !== undefined && it.severity >= 5 ? 'sev-high' : ''}>
                  <th scope="row" data-label={t('col.incident')}>
                    <Link to={`/incidents/${encodeURIComponent(it.incident)}`}>{it.incident}</Link>
                  </th>
                  <td className="title-cell card-title" data-label={t('col.title')}>{it.title ?? (it.sealed === true ? <span className="muted">
                        <LockIcon /> {tc('sealed.not-entitled')}
                      </span> : '—')}</td>
                  <td data-label={t('party')}>
                    <abbr title={partyName(it.party)}>{it.party}</abbr>
                  </td>
                  <td data-label={t('category')}>{it.category !== undefined ? <CategoryLabel code={it.category} /> : '—'}</td>
                  <td data-label={t('severity')}>{it.severity !== undefined ? <SeverityBadge level={it.severity} /> : '—'}</td>
                  <td data-label={t('status')}>{it.status !== undefined ? <StatusBadge status={it.status} /> : '—'}</td>
                  <td className="when" data-label={t('col.when')}>
                    <Time iso={it.first} short />
                    {it.last !== it.first ? (
                      <>
                        <br />
                        <Time iso={it.last} short />
                      </>
                    ) : null}
                  </td>
                  <td className="num col-entries" data-label={t('col.entries')}>{it.entries}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {next !== undefined ? (
        <p>
          <button type="button" className="btn" onClick={() => void loadMore()}>
            {t('loadMore')}
          </button>
        </p>
      ) : null}
    </>
  );
}
