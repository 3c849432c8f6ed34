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
import { Bar, BarChart, CartesianGrid, Cell, LabelList, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { PrecedenceBadge } from '../../components/badges.js';
import { GlossaryHint } from '../../components/glossary.js';
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
  type HitBar,
  type IncidentCount,
  type LatencyBar,
  INCIDENT_COLUMNS,
  bucketTicks,
  LATENCY_COLUMNS,
  defaultRow,
  formatLatency,
  histogramData,
  histogramTotal,
  hitBars,
  latencyBars,
  latencyCsvRows,
  latencyUnit,
  maxPercentile,
  percent,
  pivotByDay,
  rowKey,
  sortIncidents,
  sortRows,
  textWidth,
} from './data.js';
import './compliance.css';

/** Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#8c6d1f', '#6a3d9a', '#b15928', '#1f78b4', '#33a02c'];
const SEVERITY_COLORS = ['#9fb3c8', '#7193b5', '#4d7aa3', '#e6a23c', '#d97a1e', '#c2410c', '#9f1239', '#5f0a1f'];
const PCT_COLORS = { p50Ms: '#0072B2', p90Ms: '#E69F00', p99Ms: '#D55E00' } as const;
const HIT_COLOR = '#0c6b3a';

/** Legend entries in body text colour: the swatch carries the series colour, the words stay readable (contrast). */
const legendText = (value: unknown) => <span className="legend-text">{String(value)}</span>;

function Figure({ id, title, summary, testid, children }: { id: string; title: string; summary: string; testid?: string; children: ReactNode }) {
  return (
    <figure className="chart card" aria-labelledby={`${id}-cap`} data-testid={testid}>
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

/** Text in the page's body colour at a bar's end (the words, not the colour, carry the value). */
const BAR_LABEL = { fill: '#15202b', fontSize: 12 } as const;
const TICK = { fontSize: 12, fill: '#15202b' } as const;
const AXIS_LABEL = { fill: '#4a5866', fontSize: 12 } as const;
const HIST_MARGIN = { top: 18, right: 12, bottom: 24, left: 4 } as const;
const HIST_Y_WIDTH = 44;

function LatencySection({ kind, rows: raw }: { kind: 'acks' | 'receipts'; rows: readonly ComplianceRow[] }) {
  const { t, i18n } = useTranslation('compliance');
  const { l } = useLabel();
  const uid = useId();
  const rows = sortRows(raw);
  // The distribution starts on a row with answers to show; the officer's choice is kept by its key.
  const [selectedKey, setSelectedKey] = useState<string | undefined>(undefined);
  const picked = rows.findIndex((r) => rowKey(r) === selectedKey);
  const selIndex = picked >= 0 ? picked : defaultRow(rows);
  const sel = rows[selIndex];
  const hist = sel !== undefined ? histogramData(sel, i18n.language) : [];
  // The distribution's width, as recharts measures it: its bucket labels turn when they would not fit level (a phone).
  const [histWidth, setHistWidth] = useState(0);
  const ticks = bucketTicks(hist.map((h) => h.bucket), 11, histWidth, HIST_MARGIN.left + HIST_MARGIN.right + HIST_Y_WIDTH);
  const selAnswers = sel !== undefined ? histogramTotal(sel) : 0;
  const prec = (p: string) => {
    const term = TAXONOMY_V1.precedences.find((x) => x.code === p);
    return term !== undefined ? l(term.label) : p;
  };
  const label = (r: ComplianceRow) => `${r.from}→${r.party} · ${prec(r.precedence)}`;
  const hits = hitBars(rows, label, t('notJudged'));
  const unit = latencyUnit(maxPercentile(rows));
  const lat = latencyBars(rows, label, unit, i18n.language, t('noAnswers'));
  const latMax = Math.max(1, ...lat.flatMap((b) => [b.p50, b.p90, b.p99]));
  const catWidth = textWidth(rows.map(label), TICK.fontSize, 24);
  const hitRight = textWidth([...hits.map((b) => b.text), '100%'], BAR_LABEL.fontSize, 16);
  const latRight = textWidth(lat.flatMap((b) => [b.p50Text, b.p90Text, b.p99Text]), BAR_LABEL.fontSize, 16);
  const judged = rows.reduce((n, r) => n + r.onTime + r.overdue, 0);
  const onTime = rows.reduce((n, r) => n + r.onTime, 0);
  return (
    <section aria-labelledby={`${uid}-h`} className="compliance-section" data-testid={`section-${kind}`}>
      <div className="page-header">
        <h2 id={`${uid}-h`}>
          {t(`${kind}.title`)}
          <GlossaryHint term={kind === 'acks' ? 'acknowledgement' : 'receipt'} />
        </h2>
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
            <Figure id={`${uid}-hit`} title={t('hitRateChart')} summary={t('hitRateSummary')} testid={`chart-hit-${kind}`}>
              <ResponsiveContainer width="100%" height={rows.length * 34 + 64}>
                <BarChart layout="vertical" data={hits} margin={{ top: 4, right: hitRight, bottom: 24, left: 4 }} barCategoryGap={8}>
                  <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                  <XAxis type="number" domain={[0, 100]} ticks={[0, 25, 50, 75, 100]} unit="%" tick={TICK} label={{ value: t('axis.hitRate'), position: 'insideBottom', offset: -16, ...AXIS_LABEL }} />
                  <YAxis type="category" dataKey="key" width={catWidth} tick={TICK} interval={0} />
                  <Tooltip formatter={(_v, _n, item) => (item.payload as HitBar).text} />
                  <Bar dataKey="hit" name={t('col.hitRate')} isAnimationActive={false} minPointSize={3} barSize={18}>
                    {hits.map((b) => (
                      <Cell key={b.key} fill={b.judged ? HIT_COLOR : 'transparent'} />
                    ))}
                    <LabelList dataKey="text" position="right" {...BAR_LABEL} />
                  </Bar>
                </BarChart>
              </ResponsiveContainer>
            </Figure>
            <Figure id={`${uid}-lat`} title={t('latencyChart')} summary={t('latencySummary', { unit: t(`unit.${unit}`) })} testid={`chart-latency-${kind}`}>
              <ResponsiveContainer width="100%" height={rows.length * 46 + 96}>
                <BarChart layout="vertical" data={lat} margin={{ top: 4, right: latRight, bottom: 24, left: 4 }} barCategoryGap={6} barGap={1}>
                  <CartesianGrid strokeDasharray="3 3" horizontal={false} />
                  <XAxis type="number" domain={[0, latMax]} allowDecimals={unit !== 's' || latMax > 4} tick={TICK} label={{ value: t('axis.latency', { unit: t(`unit.${unit}`) }), position: 'insideBottom', offset: -16, ...AXIS_LABEL }} />
                  <YAxis type="category" dataKey="key" width={catWidth} tick={TICK} interval={0} />
                  <Tooltip formatter={(_v, _n, item) => (item.payload as LatencyBar)[`${String(item.dataKey)}Text` as 'p50Text']} />
                  <Legend formatter={legendText} verticalAlign="top" height={28} />
                  {(['p50', 'p90', 'p99'] as const).map((k) => (
                    <Bar key={k} dataKey={k} name={t(`col.${k}Ms`)} fill={PCT_COLORS[`${k}Ms`]} isAnimationActive={false} minPointSize={3} barSize={10}>
                      {lat.map((b) => (
                        <Cell key={b.key} fill={b.answered ? PCT_COLORS[`${k}Ms`] : 'transparent'} />
                      ))}
                      <LabelList dataKey={`${k}Text`} position="right" {...BAR_LABEL} fontSize={11} />
                    </Bar>
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </Figure>
          </div>
          {sel !== undefined ? (
            <div className="card distribution">
              <div className="field inline-field">
                <label htmlFor={`${uid}-sel`}>{t('distributionFor')}</label>
                <select id={`${uid}-sel`} value={rowKey(sel)} onChange={(e) => setSelectedKey(e.target.value)} data-testid={`dist-select-${kind}`}>
                  {rows.map((r) => (
                    <option key={rowKey(r)} value={rowKey(r)}>
                      {label(r)} ({t('answers', { count: histogramTotal(r) })})
                    </option>
                  ))}
                </select>
              </div>
              {selAnswers === 0 ? (
                <p className="empty" data-testid={`dist-empty-${kind}`}>
                  {t('noAnswersFor', { row: label(sel) })}
                </p>
              ) : (
                <Figure id={`${uid}-hist`} title={t('histogramChart', { row: label(sel) })} summary={t('histogramSummary', { count: selAnswers })} testid={`chart-hist-${kind}`}>
                  <ResponsiveContainer width="100%" height={210 + ticks.height} onResize={(w) => setHistWidth(w)}>
                    <BarChart data={hist} margin={HIST_MARGIN}>
                      <CartesianGrid strokeDasharray="3 3" vertical={false} />
                      <XAxis dataKey="bucket" interval={0} angle={ticks.angle} textAnchor={ticks.textAnchor} height={ticks.height} tick={{ ...TICK, fontSize: 11 }} label={{ value: t('axis.bucket'), position: 'insideBottom', offset: -16, ...AXIS_LABEL }} />
                      <YAxis allowDecimals={false} width={HIST_Y_WIDTH} tick={TICK} label={{ value: t('axis.answers'), angle: -90, position: 'insideLeft', offset: 10, ...AXIS_LABEL }} />
                      <Tooltip />
                      <Bar dataKey="count" name={t('col.count')} fill="#0072B2" isAnimationActive={false}>
                        <LabelList dataKey="count" position="top" {...BAR_LABEL} fontSize={11} />
                      </Bar>
                    </BarChart>
                  </ResponsiveContainer>
                </Figure>
              )}
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
          {/* Wider than a tablet since the withdrawn column: a keyboard user must be able to scroll it. */}
          <div className="table-wrap" tabIndex={0} role="region" aria-label={t(`${kind}.table`)}>
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
                  <th scope="col">{t('col.withdrawn')}</th>
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
                    <td className="num" data-label={t('col.withdrawn')}>{r.withdrawn ?? 0}</td>
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
          {rows.some((r) => (r.withdrawn ?? 0) > 0) ? (
            <p className="muted" data-testid={`withdrawn-${kind}`}>
              {t('withdrawnNote', { count: rows.reduce((n, r) => n + (r.withdrawn ?? 0), 0) })}
            </p>
          ) : null}
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
            <Figure id={`${uid}-cat`} testid="chart-incidents-category" title={t('incidents.byCategory')} summary={t('incidents.summary', { total, days: byCat.days.length })}>
              <ResponsiveContainer width="100%" height={280}>
                <BarChart data={byCat.days} margin={{ top: 8, right: 12, bottom: 24, left: 4 }}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} />
                  <XAxis dataKey="day" tick={{ ...TICK, fontSize: 11 }} label={{ value: t('axis.day'), position: 'insideBottom', offset: -16, ...AXIS_LABEL }} />
                  <YAxis allowDecimals={false} width={44} tick={TICK} label={{ value: t('axis.incidents'), angle: -90, position: 'insideLeft', offset: 10, ...AXIS_LABEL }} />
                  <Tooltip />
                  <Legend formatter={legendText} verticalAlign="top" />
                  {byCat.series.map((s, i) => (
                    <Bar key={s} dataKey={s} name={catName(s)} stackId="c" fill={PALETTE[i % PALETTE.length]!} isAnimationActive={false} />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </Figure>
            <Figure id={`${uid}-sev`} testid="chart-incidents-severity" title={t('incidents.bySeverity')} summary={t('incidents.summary', { total, days: bySev.days.length })}>
              <ResponsiveContainer width="100%" height={280}>
                <BarChart data={bySev.days} margin={{ top: 8, right: 12, bottom: 24, left: 4 }}>
                  <CartesianGrid strokeDasharray="3 3" vertical={false} />
                  <XAxis dataKey="day" tick={{ ...TICK, fontSize: 11 }} label={{ value: t('axis.day'), position: 'insideBottom', offset: -16, ...AXIS_LABEL }} />
                  <YAxis allowDecimals={false} width={44} tick={TICK} label={{ value: t('axis.incidents'), angle: -90, position: 'insideLeft', offset: 10, ...AXIS_LABEL }} />
                  <Tooltip />
                  <Legend formatter={legendText} verticalAlign="top" />
                  {bySev.series.map((s) => (
                    <Bar key={s} dataKey={s} name={sevName(s)} stackId="s" fill={SEVERITY_COLORS[Number(s.slice(1))] ?? '#444'} isAnimationActive={false} />
                  ))}
                </BarChart>
              </ResponsiveContainer>
            </Figure>
          </div>
          <div className="table-wrap" tabIndex={0} role="region" aria-label={t('incidents.table')}>
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
