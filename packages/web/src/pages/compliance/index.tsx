/**
 * Compliance (GET /v1/compliance): per sender, recipient and precedence, how
 * fast acknowledgements and machine receipts came and how often they met
 * their deadlines; incidents by category and severity over time. Every chart
 * (recharts) is a <figure> whose numbers are also in the table under it and
 * in a CSV download of that table.
 */
import { TAXONOMY_V1, category as categoryOf, severity as severityOf } from '@parley/core';
import { type ReactNode, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { Bar, BarChart, CartesianGrid, LabelList, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { PrecedenceBadge } from '../../components/badges.js';
import { Empty, ErrorBox, Loading, PageHeader } from '../../components/feedback.js';
import { Time } from '../../components/time.js';
import { useLiveReload } from '../../live.js';
import { useApi } from '../../hooks.js';
import { useLabel } from '../../i18n.js';
import { apiQuery, parseFilters } from '../incidents/filters.js';
import { downloadCsv, toCsv } from './csv.js';
import {
  type ComplianceResponse,
  type ComplianceRow,
  type IncidentCount,
  INCIDENT_COLUMNS,
  LATENCY_COLUMNS,
  formatLatency,
  formatMs,
  histogramData,
  latencyCsvRows,
  percent,
  pivotByDay,
  rowKey,
  sortIncidents,
  sortRows,
} from './data.js';
import './compliance.css';

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#8c6d1f', '#6a3d9a', '#b15928', '#1f78b4', '#33a02c'];
const SEVERITY_COLORS = ['#9fb3c8', '#7193b5', '#4d7aa3', '#e6a23c', '#d97a1e', '#c2410c', '#9f1239', '#5f0a1f'];
const PCT_COLORS = { p50Ms: '#0072B2', p90Ms: '#E69F00', p99Ms: '#D55E00' } as const;

/** Legend entries in body text colour: the swatch carries the series colour, the words stay readable (contrast). */
const legendText = (value: unknown) => <span className="legend-text">{String(value)}</span>;

function Figure({ id, title, summary, children }: { id: string; title: string; summary: string; children: ReactNode }) {
  return (
    <figure className="chart card" aria-labelledby={`${id}-cap`}>
      <figcaption id={`${id}-cap`}>
        <strong>{title}</strong>
        <span className="muted small"> — {summary}</span>
      </figcaption>
      <div className="chart-box" role="img" aria-label={`${title}. ${summary}`}>
        {children}
      </div>
    </figure>
  );
}

function CsvButton({ name, header, rows }: { name: string; header: readonly string[]; rows: readonly (readonly (string | number | null | undefined)[])[] }) {
  const { t } = useTranslation('compliance');
  return (
    <button type="button" className="btn" onClick={() => downloadCsv(name, toCsv(header, rows))} data-testid={`csv-${name}`}>
      <span aria-hidden="true">⬇ </span>
      {t('csv', { name })}
    </button>
  );
}

function LatencySection({ kind, rows: raw }: { kind: 'acks' | 'receipts'; rows: readonly ComplianceRow[] }) {
  const { t, i18n } = useTranslation('compliance');
  const { l } = useLabel();
  const uid = useId();
  const rows = sortRows(raw);
  const [selected, setSelected] = useState(0);
  const sel = rows[Math.min(selected, rows.length - 1)];
  const hist = sel !== undefined ? histogramData(sel, i18n.language) : [];
  const prec = (p: string) => {
    const term = TAXONOMY_V1.precedences.find((x) => x.code === p);
    return term !== undefined ? l(term.label) : p;
  };
  const label = (r: ComplianceRow) => `${r.from}→${r.party} · ${prec(r.precedence)}`;
  const chartData = rows.map((r) => ({ key: label(r), hit: percent(r.hitRate), p50Ms: r.p50Ms, p90Ms: r.p90Ms, p99Ms: r.p99Ms }));
  const judged = rows.reduce((n, r) => n + r.onTime + r.overdue, 0);
  const onTime = rows.reduce((n, r) => n + r.onTime, 0);
  return (
    <section aria-labelledby={`${uid}-h`} className="compliance-section" data-testid={`section-${kind}`}>
      <div className="page-header">
        <h2 id={`${uid}-h`}>{t(`${kind}.title`)}</h2>
        <CsvButton name={`${kind}.csv`} header={LATENCY_COLUMNS} rows={latencyCsvRows(rows)} />
      </div>
      <p className="muted">{t(`${kind}.explain`)}</p>
      {rows.length === 0 ? (
        <Empty>{t('noData')}</Empty>
      ) : (
        <>
          <div className="counts">
            <span className={`count ${judged > onTime ? 'alarm' : ''}`}>
              <strong>{judged === 0 ? '—' : `${percent(onTime / judged)}%`}</strong>
              {t('overallHit', { onTime, judged })}
            </span>
          </div>
          <div className="chart-grid">
            <Figure id={`${uid}-hit`} title={t('hitRateChart')} summary={t('hitRateSummary')}>
              <ResponsiveContainer width="100%" height={260}>
                <BarChart data={chartData} margin={{ top: 22, right: 12, bottom: 8, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="key" tick={{ fontSize: 11 }} interval={0} angle={-20} textAnchor="end" height={60} />
                  <YAxis domain={[0, 100]} unit="%" width={48} />
                  <Tooltip formatter={(v) => (v === null || v === undefined ? '—' : `${String(v)}%`)} />
                  <Bar dataKey="hit" name={t('col.hitRate')} fill="#0c6b3a" isAnimationActive={false}>
                    <LabelList dataKey="hit" position="top" fill="#15202b" fontSize={11} formatter={(v: unknown) => (typeof v === 'number' ? `${v}%` : '—')} />
                  </Bar>
                </BarChart>
              </ResponsiveContainer>
            </Figure>
            <Figure id={`${uid}-lat`} title={t('latencyChart')} summary={t('latencySummary')}>
              <ResponsiveContainer width="100%" height={260}>
                <BarChart data={chartData} margin={{ top: 8, right: 12, bottom: 8, left: 8 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="key" tick={{ fontSize: 11 }} interval={0} angle={-20} textAnchor="end" height={60} />
                  <YAxis tickFormatter={(v: number) => formatMs(v, i18n.language)} width={64} />
                  <Tooltip formatter={(v) => formatLatency(typeof v === 'number' ? v : null, i18n.language)} />
                  <Legend formatter={legendText} />
                  {(['p50Ms', 'p90Ms', 'p99Ms'] as const).map((k) => (
                    <Bar key={k} dataKey={k} name={t(`col.${k}`)} fill={PCT_COLORS[k]} isAnimationActive={false} />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </Figure>
          </div>
          {sel !== undefined ? (
            <div className="card distribution">
              <div className="field inline-field">
                <label htmlFor={`${uid}-sel`}>{t('distributionFor')}</label>
                <select id={`${uid}-sel`} value={Math.min(selected, rows.length - 1)} onChange={(e) => setSelected(Number(e.target.value))}>
                  {rows.map((r, i) => (
                    <option key={rowKey(r)} value={i}>
                      {label(r)}
                    </option>
                  ))}
                </select>
              </div>
              <Figure id={`${uid}-hist`} title={t('histogramChart', { row: label(sel) })} summary={t('histogramSummary')}>
                <ResponsiveContainer width="100%" height={220}>
                  <BarChart data={hist} margin={{ top: 8, right: 12, bottom: 8, left: 0 }}>
                    <CartesianGrid strokeDasharray="3 3" />
                    <XAxis dataKey="bucket" tick={{ fontSize: 11 }} />
                    <YAxis allowDecimals={false} width={40} />
                    <Tooltip />
                    <Bar dataKey="count" name={t('col.count')} fill="#0072B2" isAnimationActive={false} />
                  </BarChart>
                </ResponsiveContainer>
              </Figure>
              <table className="data cards compact histogram-table">
                <caption>{t('histogramTable', { row: label(sel) })}</caption>
                <thead>
                  <tr>
                    {hist.map((b) => (
                      <th key={b.bucket} scope="col">
                        {b.bucket}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  <tr>
                    {hist.map((b) => (
                      <td key={b.bucket} className="num" data-label={b.bucket}>
                        {b.count}
                      </td>
                    ))}
                  </tr>
                </tbody>
              </table>
            </div>
          ) : null}
          <div className="table-wrap">
            <table className="data cards compact compliance-table" data-testid={`table-${kind}`}>
              <caption>{t(`${kind}.table`)}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('col.from')}</th>
                  <th scope="col">{t('col.party')}</th>
                  <th scope="col">{t('col.precedence')}</th>
                  <th scope="col">{t('col.count')}</th>
                  <th scope="col">{t('col.onTime')}</th>
                  <th scope="col">{t('col.overdue')}</th>
                  <th scope="col">{t('col.pending')}</th>
                  <th scope="col">{t('col.hitRate')}</th>
                  <th scope="col">{t('col.p50Ms')}</th>
                  <th scope="col">{t('col.p90Ms')}</th>
                  <th scope="col">{t('col.p99Ms')}</th>
                  <th scope="col">{t('col.maxMs')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={rowKey(r)}>
                    <th scope="row" data-label={t('col.from')}>{r.from}</th>
                    <td data-label={t('col.party')}>{r.party}</td>
                    <td className="card-wide" data-label={t('col.precedence')}>{(['FLASH', 'IMMEDIATE', 'PRIORITY', 'ROUTINE'] as const).includes(r.precedence as 'FLASH') ? <PrecedenceBadge p={r.precedence as 'FLASH'} /> : r.precedence}</td>
                    <td className="num" data-label={t('col.count')}>{r.count}</td>
                    <td className="num" data-label={t('col.onTime')}>{r.onTime}</td>
                    <td className={`num ${r.overdue > 0 ? 'bad' : ''}`} data-label={t('col.overdue')}>
                      {r.overdue > 0 ? <span aria-hidden="true">⚠ </span> : null}
                      {r.overdue}
                    </td>
                    <td className="num" data-label={t('col.pending')}>{r.pending}</td>
                    <td className="num" data-label={t('col.hitRate')}>{r.hitRate === null ? '—' : `${percent(r.hitRate)}%`}</td>
                    <td className="num" data-label={t('col.p50Ms')}>{formatLatency(r.p50Ms, i18n.language)}</td>
                    <td className="num" data-label={t('col.p90Ms')}>{formatLatency(r.p90Ms, i18n.language)}</td>
                    <td className="num" data-label={t('col.p99Ms')}>{formatLatency(r.p99Ms, i18n.language)}</td>
                    <td className="num" data-label={t('col.maxMs')}>{formatLatency(r.maxMs, i18n.language)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

function IncidentsSection({ rows: raw }: { rows: readonly IncidentCount[] }) {
  const { t } = useTranslation('compliance');
  const { l } = useLabel();
  const uid = useId();
  const rows = sortIncidents(raw);
  const byCat = pivotByDay(rows, 'category');
  const bySev = pivotByDay(rows, 'severity');
  const catName = (code: string) => {
    const c = categoryOf(TAXONOMY_V1, code);
    return c !== undefined ? `${code} · ${l(c.label)}` : code;
  };
  const sevName = (s: string) => {
    const lv = Number(s.slice(1));
    const d = severityOf(TAXONOMY_V1, lv);
    return `${lv} · ${d !== undefined ? l(d.name) : ''}`;
  };
  const total = rows.reduce((n, r) => n + r.count, 0);
  return (
    <section aria-labelledby={`${uid}-h`} className="compliance-section" data-testid="section-incidents">
      <div className="page-header">
        <h2 id={`${uid}-h`}>{t('incidents.title')}</h2>
        <CsvButton name="incidents.csv" header={[...INCIDENT_COLUMNS, 'categoryLabel']} rows={rows.map((r) => [r.day, r.category, r.severity, r.count, categoryOf(TAXONOMY_V1, r.category) !== undefined ? l(categoryOf(TAXONOMY_V1, r.category)!.label) : ''])} />
      </div>
      <p className="muted">{t('incidents.explain')}</p>
      {rows.length === 0 ? (
        <Empty>{t('noIncidents')}</Empty>
      ) : (
        <>
          <div className="chart-grid">
            <Figure id={`${uid}-cat`} title={t('incidents.byCategory')} summary={t('incidents.summary', { total, days: byCat.days.length })}>
              <ResponsiveContainer width="100%" height={280}>
                <BarChart data={byCat.days} margin={{ top: 8, right: 12, bottom: 8, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="day" tick={{ fontSize: 11 }} />
                  <YAxis allowDecimals={false} width={36} />
                  <Tooltip />
                  <Legend formatter={legendText} />
                  {byCat.series.map((s, i) => (
                    <Bar key={s} dataKey={s} name={catName(s)} stackId="c" fill={PALETTE[i % PALETTE.length]!} isAnimationActive={false} />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </Figure>
            <Figure id={`${uid}-sev`} title={t('incidents.bySeverity')} summary={t('incidents.summary', { total, days: bySev.days.length })}>
              <ResponsiveContainer width="100%" height={280}>
                <BarChart data={bySev.days} margin={{ top: 8, right: 12, bottom: 8, left: 0 }}>
                  <CartesianGrid strokeDasharray="3 3" />
                  <XAxis dataKey="day" tick={{ fontSize: 11 }} />
                  <YAxis allowDecimals={false} width={36} />
                  <Tooltip />
                  <Legend formatter={legendText} />
                  {bySev.series.map((s) => (
                    <Bar key={s} dataKey={s} name={sevName(s)} stackId="s" fill={SEVERITY_COLORS[Number(s.slice(1))] ?? '#444'} isAnimationActive={false} />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </Figure>
          </div>
          <div className="table-wrap">
            <table className="data cards compliance-table" data-testid="table-incidents">
              <caption>{t('incidents.table')}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('col.day')}</th>
                  <th scope="col">{t('col.category')}</th>
                  <th scope="col">{t('col.severity')}</th>
                  <th scope="col">{t('col.incidents')}</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={`${r.day}-${r.category}-${r.severity}`}>
                    <th scope="row" data-label={t('col.day')}>{r.day}</th>
                    <td data-label={t('col.category')}>{catName(r.category)}</td>
                    <td data-label={t('col.severity')}>{sevName(`s${r.severity}`)}</td>
                    <td className="num" data-label={t('col.incidents')}>{r.count}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

export function CompliancePage() {
  const { t } = useTranslation('compliance');
  const [params, setParams] = useSearchParams();
  const range = parseFilters(params);
  const { data, error, loading, reload } = useApi<ComplianceResponse>(`/v1/compliance${apiQuery({ ...(range.from !== undefined ? { from: range.from } : {}), ...(range.to !== undefined ? { to: range.to } : {}) })}`);
  useLiveReload((e) => e.event === 'deadline' || e.event === 'reconnected' || e.event === 'reset', reload, 1000);
  const setRange = (k: 'from' | 'to', v: string) => {
    const p = new URLSearchParams(params);
    if (v === '') p.delete(k);
    else p.set(k, v);
    setParams(p, { replace: true });
  };
  return (
    <>
      <PageHeader title={t('title')} />
      <form className="filters" aria-label={t('range')} onSubmit={(e) => e.preventDefault()}>
        <div className="field">
          <label htmlFor="c-from">{t('from')}</label>
          <input id="c-from" type="date" value={range.from ?? ''} max={range.to} onChange={(e) => setRange('from', e.target.value)} />
        </div>
        <div className="field">
          <label htmlFor="c-to">{t('to')}</label>
          <input id="c-to" type="date" value={range.to ?? ''} min={range.from} onChange={(e) => setRange('to', e.target.value)} />
        </div>
        {data !== undefined ? (
          <p className="muted small generated">
            {t('generated')} <Time iso={data.generated} />
          </p>
        ) : null}
      </form>
      <ErrorBox error={error} />
      {loading && data === undefined ? <Loading /> : null}
      {data !== undefined ? (
        <div className="stack">
          <LatencySection kind="acks" rows={data.acks} />
          <LatencySection kind="receipts" rows={data.receipts} />
          <IncidentsSection rows={data.incidents} />
        </div>
      ) : null}
    </>
  );
}
