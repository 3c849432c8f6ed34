/**
 * One incident's timeline across every party's entries (GET /v1/incidents/:id):
 * its reports (initial, updates, final, retraction) from whichever party
 * sent them and the acknowledgements answering them, oldest first, each
 * with its delivery state per recipient and a link to verify it in the log.
 * Reports addressed to us that await our acknowledgement can be acknowledged
 * here, one or several at once (AckReports.tsx).
 *
 * Printed ("Print / Save as PDF", the browser's own dialog), every sheet is
 * marked with the most restrictive marking of the timeline's entries
 * (components/print.tsx); the exports (export.ts) download it as files.
 */
import { type Marking, type Precedence, TAXONOMY_V1 } from '@parley/core';
import { type ReactNode, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { LockIcon, PrinterIcon } from '../../components/icons.js';
import { MarkingBadge, PrecedenceBadge, SeverityBadge, StateBadge } from '../../components/badges.js';
import { ErrorBox, Loading, PageHeader } from '../../components/feedback.js';
import { mostRestrictive, usePrintMarking } from '../../components/print.js';
import { ApiError } from '../../api.js';
import { saveFile } from '../../download.js';
import { INCIDENT_EXPORTS } from './export.js';
import { Countdown, Time } from '../../components/time.js';
import { useLiveReload } from '../../live.js';
import { useApi } from '../../hooks.js';
import { useLabel } from '../../i18n.js';
import { useParty } from '../../party.js';
import { useSession } from '../../session.js';
import { entryKey, typeName } from '../../entries.js';
import type { IncidentResponse } from '@parley/node/api';
import type { EntryView, IncidentReportBody } from '../../types.js';
import { useAccord } from '../explorer/accord.js';
import { CategoryLabel, StatusBadge } from './labels.js';
import { RetractedNote, retractedClass } from '../../components/retracted.js';
import { type AckBatch, AckControls, AckReportsPanel, awaitingAck, useAckBatch } from './AckReports.js';
import { SimilarPanel } from './SimilarPanel.js';


function isReport(b: unknown): b is IncidentReportBody {
  return typeof b === 'object' && b !== null && 'kind' in b && 'incident' in b;
}

/** Latest readable report's facts (the summary card): of the reports in force, else (all withdrawn) of any. */
function latestReport(timeline: readonly EntryView[]): IncidentReportBody | undefined {
  for (const live of [true, false]) {
    for (let i = timeline.length - 1; i >= 0; i--) {
      const b = timeline[i]!.body;
      if (timeline[i]!.entry.type === 'incident.report' && isReport(b) && (!live || timeline[i]!.retracted === undefined)) return b;
    }
  }
  return undefined;
}

/** Every report of the incident withdrawn by its sender (issue 13). */
function allRetracted(timeline: readonly EntryView[]): boolean {
  const reports = timeline.filter((v) => v.entry.type === 'incident.report');
  return reports.length > 0 && reports.every((v) => v.retracted !== undefined);
}

function statusOf(timeline: readonly EntryView[]): string | undefined {
  // Withdrawn reports do not count (a superseded report's replacement does, as a report of its own).
  const kinds = timeline.filter((v) => v.entry.type === 'incident.report' && isReport(v.body) && v.retracted === undefined).map((v) => (v.body as IncidentReportBody).kind);
  if (kinds.includes('retraction') || allRetracted(timeline)) return 'retracted';
  if (kinds.includes('final')) return 'final';
  if (kinds.includes('update')) return 'updated';
  return kinds.length > 0 ? 'open' : undefined;
}

/** "Print / Save as PDF" and one button per export format. */
function IncidentActions({ id, onError }: { id: string; onError: (e: ApiError | undefined) => void }) {
  const { t } = useTranslation('incidents');
  const run = (x: (typeof INCIDENT_EXPORTS)[number]) =>
    void x.file(id).then(
      (f) => {
        saveFile(f.name, f.blob);
        onError(undefined);
      },
      (e: unknown) => onError(e instanceof ApiError ? e : new ApiError({ status: 0, detail: String(e) })),
    );
  return (
    <>
      <button type="button" className="btn" onClick={() => window.print()} data-testid="print-incident">
        <PrinterIcon />
        {t('print')}
      </button>
      {INCIDENT_EXPORTS.map((x) => (
        <button key={x.id} type="button" className="btn" onClick={() => run(x)} data-testid={`export-${x.id}`}>
          <span aria-hidden="true">⬇ </span>
          {t(`export.${x.id}`)}
        </button>
      ))}
    </>
  );
}

export function IncidentPage() {
  const { t } = useTranslation('incidents');
  const { id = '' } = useParams();
  const { data, error, loading, reload } = useApi<IncidentResponse>(`/v1/incidents/${encodeURIComponent(id)}`);
  const [exportError, setExportError] = useState<ApiError | undefined>(undefined);
  usePrintMarking(data !== undefined ? mostRestrictive(data.timeline.map((v) => v.entry.marking as Marking)) : undefined);
  useLiveReload((e) => {
    const d = e.data as { incident?: string; type?: string } | null;
    return e.event === 'reconnected' || e.event === 'reset' || e.event === 'deadline' || (e.event === 'entry' && (d?.incident === id || d?.type === 'ack'));
  }, reload);
  const latest = data !== undefined ? latestReport(data.timeline) : undefined;
  const status = data !== undefined ? statusOf(data.timeline) : undefined;
  const us = useParty();
  const { canAct } = useSession();
  const batch = useAckBatch(reload);
  const awaiting = data !== undefined ? awaitingAck(data.timeline, us) : [];
  const awaitingKeys = new Set(awaiting.map(entryKey));
  return (
    <>
      <PageHeader title={latest !== undefined ? `${id} · ${latest.title}` : t('incidentTitle', { id })}>
        {data !== undefined ? <IncidentActions id={id} onError={setExportError} /> : null}
        <Link to="/incidents" className="btn btn-quiet">
          {t('backToList')}
        </Link>
      </PageHeader>
      <ErrorBox error={error ?? exportError} />
      {loading && data === undefined ? <Loading /> : null}
      {status === 'retracted' ? (
        <div className="retracted-banner" role="alert" data-testid="retracted-banner">
          <strong>
            <span aria-hidden="true">⊘ </span>
            {t('retractedBanner.title')}
          </strong>{' '}
          {t('retractedBanner.help')}
        </div>
      ) : null}
      {data !== undefined ? (
        <div className="two-col incident-page">
          <div className="stack">
            <AckReportsPanel awaiting={awaiting} batch={batch} us={us} canAct={canAct} />
            <section aria-labelledby="timeline-heading">
              <h2 id="timeline-heading">{t('timeline', { count: data.timeline.length })}</h2>
              <ol className="timeline" data-testid="incident-timeline">
                {data.timeline.map((v) => (
                  <TimelineItem key={`${v.party}/${v.index}`} v={v} ack={canAct && awaitingKeys.has(entryKey(v)) ? { batch } : undefined} />
                ))}
              </ol>
            </section>
            <SimilarPanel id={id} links={data.links ?? []} canAct={canAct} onLinked={reload} />
          </div>
          <aside className="card" aria-labelledby="summary-heading">
            <h2 id="summary-heading">{t('summaryCard')}</h2>
            {latest !== undefined ? (
              <dl className="kv">
                <dt>{t('status')}</dt>
                <dd>{status !== undefined ? <StatusBadge status={status} /> : '—'}</dd>
                <dt>{t('category')}</dt>
                <dd>
                  <CategoryLabel code={latest.category} />
                </dd>
                <dt>{t('severity')}</dt>
                <dd>
                  <SeverityBadge level={latest.severity} />
                </dd>
                <dt>{t('stage')}</dt>
                <dd>
                  <TermLabel list="stages" code={latest.stage} />
                </dd>
                <dt>{t('system')}</dt>
                <dd>{[latest.system.name, latest.system.developer, latest.system.version].filter(Boolean).join(' · ')}</dd>
                <dt>{t('actor')}</dt>
                <dd>
                  <TermLabel list="actorTypes" code={latest.actor.type} />
                </dd>
                <dt>{t('harm')}</dt>
                <dd>{latest.harm.types.length > 0 ? latest.harm.types.map((h) => <TermLabel key={h} list="harmTypes" code={h} />).reduce<ReactNode[]>((a, x, i) => (i === 0 ? [x] : [...a, ', ', x]), []) : '—'}</dd>
              </dl>
            ) : (
              <p className="muted">{t('allSealed')}</p>
            )}
          </aside>
        </div>
      ) : null}
    </>
  );
}

function TermLabel({ list, code }: { list: 'stages' | 'actorTypes' | 'harmTypes' | 'reportKinds'; code: string }) {
  const { l } = useLabel();
  const term = (TAXONOMY_V1[list] as readonly { code: string; label: { en: string; 'zh-CN': string }; definition: { en: string; 'zh-CN': string } }[]).find((x) => x.code === code);
  return <span title={term !== undefined ? l(term.definition) : ''}>{term !== undefined ? l(term.label) : code}</span>;
}

function TimelineItem({ v, ack }: { v: EntryView; ack?: { batch: AckBatch } | undefined }) {
  const { t } = useTranslation('incidents');
  const tc = useTranslation().t;
  const { partyName } = useAccord();
  const e = v.entry;
  const report = e.type === 'incident.report' && isReport(v.body) ? v.body : undefined;
  const ackReply = e.type === 'ack' && typeof v.body === 'object' && v.body !== null && 'reply' in v.body ? String((v.body as { reply: unknown }).reply) : undefined;
  const kind = report?.kind;
  return (
    <li className={`timeline-item t-${e.type.replace('.', '-')}${kind !== undefined ? ` k-${kind}` : ''}${ack !== undefined ? ' awaiting-ack' : ''}${retractedClass(v)}`} data-testid="timeline-item" data-key={`${v.party}/${v.index}`}>
      <div className="timeline-meta">
        <Time iso={e.time} />
        <span className="party-chip">{partyName(e.from.party)}</span>
        <span className="muted">
          {e.from.officer} → {e.to.join(', ')}
        </span>
        <PrecedenceBadge p={e.precedence as Precedence} />
        <MarkingBadge m={e.marking as Marking} />
      </div>
      <div className="timeline-title">
        <strong>{kind !== undefined ? <TermLabel list="reportKinds" code={kind} /> : typeName(tc, e.type)}</strong>
        {report !== undefined ? <> · {report.title}</> : null}
        {e.type === 'retraction' ? <RetractionLine v={v} /> : null}
      </div>
      {v.retracted !== undefined ? <RetractedNote r={v.retracted} compact /> : null}
      {report !== undefined ? (
        <>
          <div className="timeline-tags">
            <CategoryLabel code={report.category} /> <SeverityBadge level={report.severity} />
          </div>
          <p className="body-text">{report.summary}</p>
          {report.mitigations.length > 0 ? (
            <div>
              <span className="label">{t('mitigations')}</span>
              <ul className="mitigations">
                {report.mitigations.map((m, i) => (
                  <li key={i}>{m}</li>
                ))}
              </ul>
            </div>
          ) : null}
        </>
      ) : null}
      {ackReply !== undefined ? <p className="body-text">{ackReply}</p> : null}
      {v.sealed !== undefined ? (
        <p className="sealed-box">
          <LockIcon />{' '}
          {tc(`sealed.${v.sealed}`)}
        </p>
      ) : null}
      {v.deadlines !== undefined && v.deadlines.length > 0 ? (
        <ul className="recipients" aria-label={t('deliveries')}>
          {v.deadlines.map((d) => (
            <li key={d.recipient} className="recipient">
              <span>{d.recipient}</span>
              <StateBadge state={d.state} />
              {!d.settled ? <Countdown dueAt={d.dueAt} label={d.recipient} /> : null}
            </li>
          ))}
        </ul>
      ) : null}
      {ack !== undefined ? <AckControls v={v} batch={ack.batch} /> : null}
      <div className="timeline-links">
        <Link to={`/logs/${v.party}/${v.index}`}>{t('verifyInLog', { party: v.party, index: v.index })}</Link>
      </div>
    </li>
  );
}

/** A retraction entry in the timeline: what it withdraws (and by what), and why. */
function RetractionLine({ v }: { v: EntryView }) {
  const { t } = useTranslation('entry');
  const [withdrawn, replacement] = v.entry.refs;
  const b = (typeof v.body === 'object' && v.body !== null ? v.body : {}) as { reason?: unknown; lang?: unknown };
  return (
    <span data-testid="retraction-line">
      {' · '}
      {replacement !== undefined ? t('retracted.supersedes', { entry: `${withdrawn?.party}/${withdrawn?.index}`, by: `${replacement.party}/${replacement.index}` }) : t('retracted.retracts', { entry: `${withdrawn?.party}/${withdrawn?.index}` })}
      {typeof b.reason === 'string' ? (
        <>
          {' — '}
          <span lang={typeof b.lang === 'string' ? b.lang : undefined}>{b.reason}</span>
        </>
      ) : null}
    </span>
  );
}
