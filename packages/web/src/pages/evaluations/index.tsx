/**
 * Evaluations (issue 12): pre-release evaluation commitments, the deployment
 * notices that cite them and the reveals that open them.
 *
 *     /evaluations                 every commitment this node holds (GET /v1/evaluations), newest first
 *     /evaluations/:party/:index   one commitment (GET /v1/evaluations/:party/:index): its stage,
 *                                  domains and number of digests, the protocol it follows, its
 *                                  deployment notices, its reveals with each claim marked as
 *                                  matching its committed digest, and the timeline PROVED IN THIS
 *                                  BROWSER from the evidence bundle (proof.ts) — "Committed N days
 *                                  before deployment", or why not — with what is provable, to whom
 *                                  (core EVALUATION_PROVABILITY).
 *
 * Both refresh live on entry events of the three evaluation types.
 */
import { EVALUATION_PROVABILITY } from '@parley/core';
import { useEffect, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { MarkingBadge } from '../../components/badges.js';
import { Empty, ErrorBox, Loading, PageHeader } from '../../components/feedback.js';
import { GlossaryHint } from '../../components/glossary.js';
import { LockIcon, PrinterIcon } from '../../components/icons.js';
import { mostRestrictive, usePrintMarking } from '../../components/print.js';
import { Time } from '../../components/time.js';
import { useApi } from '../../hooks.js';
import { useLabel } from '../../i18n.js';
import { useLiveReload } from '../../live.js';
import type { Marking } from '@parley/core';
import { useAccord } from '../explorer/accord.js';
import { type EvaluationView, type EvaluationsResponse, type RevealView, type TimelineVerdict, concernsEvaluations, evaluationRows, keyOf, showValue, timelineVerdict } from './model.js';
import { type EvaluationProof, proveEvaluation } from './proof.js';
import './evaluations.css';

function Stage({ stage }: { stage: string }) {
  const { t } = useTranslation('evaluations');
  return <span className={`badge stage stage-${stage}`}>{t(`stage.${stage}`, { defaultValue: stage })}</span>;
}

function Domains({ domains }: { domains: readonly string[] }) {
  if (domains.length === 0) return <>—</>;
  return (
    <span className="domains">
      {domains.map((d) => (
        <span key={d} className="domain-chip">
          {d}
        </span>
      ))}
    </span>
  );
}

export function EvaluationsPage() {
  const { t } = useTranslation('evaluations');
  const { data, error, loading, reload } = useApi<EvaluationsResponse>('/v1/evaluations');
  useLiveReload(concernsEvaluations, reload);
  const rows = useMemo(() => evaluationRows(data?.evaluations ?? []), [data]);
  const { partyName } = useAccord();
  return (
    <>
      <PageHeader title={t('title')} />
      <p className="muted page-intro">
        {t('intro')} <GlossaryHint term="commitment" />
      </p>
      <ErrorBox error={error} />
      {loading && data === undefined ? <Loading /> : null}
      {data !== undefined && rows.length === 0 ? <Empty>{t('none')}</Empty> : null}
      {rows.length > 0 ? (
        <div className="table-wrap">
          <table className="data cards evaluations-table" data-testid="evaluations-table">
            <caption className="visually-hidden">{t('title')}</caption>
            <thead>
              <tr>
                <th scope="col">{t('col.commitment')}</th>
                <th scope="col">{t('col.party')}</th>
                <th scope="col">{t('col.stage')}</th>
                <th scope="col">{t('col.domains')}</th>
                <th scope="col">{t('col.models')}</th>
                <th scope="col">{t('col.reveals')}</th>
                <th scope="col">{t('col.timeline')}</th>
                <th scope="col">{t('col.when')}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.key} data-testid="evaluation-row" data-key={r.key}>
                  <th scope="row" data-label={t('col.commitment')}>
                    <Link to={`/evaluations/${r.key}`}>{t('commitmentAt', { party: r.party, index: r.index })}</Link>
                  </th>
                  <td data-label={t('col.party')}>
                    <abbr title={partyName(r.party)}>{r.party}</abbr>
                  </td>
                  <td data-label={t('col.stage')}>
                    <Stage stage={r.stage} />
                  </td>
                  <td data-label={t('col.domains')}>
                    <Domains domains={r.domains} />
                  </td>
                  <td className="mono-ish" data-label={t('col.models')}>
                    {r.models.length > 0 ? r.models.join(', ') : <span className="muted">{t('noNotice')}</span>}
                  </td>
                  <td data-label={t('col.reveals')}>{t('revealCount', { count: r.reveals, openable: r.openable })}</td>
                  <td data-label={t('col.timeline')}>
                    {r.nodeTimeline === 'before' ? (
                      <span className="ok-text">{t('nodeBefore', { count: r.days ?? 0 })}</span>
                    ) : r.nodeTimeline === 'unproven' ? (
                      <span className="muted">{t('nodeUnproven')}</span>
                    ) : r.nodeTimeline === 'not-before' ? (
                      <span className="warn-text">
                        <span aria-hidden="true">⚠ </span>
                        {t('nodeNotBefore')}
                      </span>
                    ) : (
                      <span className="muted">—</span>
                    )}
                  </td>
                  <td className="when" data-label={t('col.when')}>
                    <Time iso={r.time} short />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </>
  );
}

/** Runs the browser proof for the view shown; again when its notices or reveals change, or on `again()`. */
function useProof(view: EvaluationView | undefined): { proof: EvaluationProof | undefined; running: boolean; again: () => void } {
  const [state, setState] = useState<{ key: string; proof: EvaluationProof | undefined }>({ key: '', proof: undefined });
  const [round, setRound] = useState(0);
  const key = view === undefined ? '' : JSON.stringify([round, keyOf(view.commitment), view.notices.map(keyOf), view.reveals.map((r) => [keyOf(r), r.addressed])]);
  useEffect(() => {
    if (view === undefined) return undefined;
    const ctl = new AbortController();
    void proveEvaluation(view, ctl.signal).then(
      (proof) => ctl.signal.aborted || setState({ key, proof }),
      () => undefined,
    );
    return () => ctl.abort();
  }, [key]); // eslint-disable-line react-hooks/exhaustive-deps
  return { proof: state.key === key ? state.proof : undefined, running: view !== undefined && state.key !== key, again: () => setRound((r) => r + 1) };
}

function Verdict({ verdict, again }: { verdict: TimelineVerdict; again: () => void }) {
  const { t } = useTranslation('evaluations');
  const { l } = useLabel();
  const cls = verdict.kind === 'before' ? 'verdict-ok' : verdict.kind === 'failed' || verdict.kind === 'not-before' ? 'verdict-bad' : 'verdict-neutral';
  return (
    <div className={`verdict ${cls}`} role="status" data-testid="eval-verdict" data-kind={verdict.kind}>
      <p className="verdict-line">
        <span aria-hidden="true">{verdict.kind === 'before' ? '✓ ' : verdict.kind === 'failed' || verdict.kind === 'not-before' ? '⚠ ' : ''}</span>
        {verdict.kind === 'before'
          ? verdict.days >= 1
            ? t('verdict.before', { count: verdict.days })
            : t('verdict.beforeHours', { hours: Math.floor(verdict.marginSeconds / 3600), minutes: Math.floor((verdict.marginSeconds % 3600) / 60) })
          : verdict.kind === 'not-before'
            ? t('verdict.notBefore')
            : verdict.kind === 'failed'
              ? t('verdict.failed')
              : verdict.kind === 'no-notice'
                ? t('verdict.noNotice')
                : t('verdict.pending')}
      </p>
      {verdict.kind === 'failed' ? (
        <p className="verdict-reason" data-testid="eval-failure-reason">
          {t('verdict.reason')} <code>{verdict.reason}</code>
          {verdict.detail !== undefined ? <> — {typeof verdict.detail === 'string' ? verdict.detail : l(verdict.detail)}</> : null}
        </p>
      ) : null}
      {verdict.kind === 'failed' || verdict.kind === 'not-before' ? (
        <p>
          <button type="button" className="btn btn-small" onClick={again} data-testid="eval-check-again">
            {t('verdict.again')}
          </button>
        </p>
      ) : null}
      {verdict.kind === 'before' || verdict.kind === 'not-before' ? (
        <p className="verdict-reason muted">
          {t('verdict.how')} <GlossaryHint term="timestamp" />
        </p>
      ) : null}
    </div>
  );
}

function Checks({ proof }: { proof: EvaluationProof }) {
  const { t } = useTranslation('evaluations');
  const { l } = useLabel();
  return (
    <section className="card" aria-labelledby="checks-h">
      <h2 id="checks-h">{t('checks.title')}</h2>
      <p className="muted small">{t('checks.intro')}</p>
      {proof.proof.error !== undefined ? (
        <p className="check-error" data-testid="eval-check-error">
          <span aria-hidden="true">⚠ </span>
          {t('checks.error')} <code>{proof.proof.error.code}</code> — {proof.proof.error.message}
        </p>
      ) : null}
      <ul className="checks" data-testid="eval-checks">
        {proof.proof.checks.map((c, i) => (
          <li key={`${c.id}-${i}`} className={c.ok ? 'check-pass' : 'check-fail'} data-check={c.id} data-status={c.ok ? 'pass' : 'fail'}>
            <span className="check-mark" aria-hidden="true">
              {c.ok ? '✓' : '✗'}
            </span>
            <span className="visually-hidden">{c.ok ? t('checks.pass') : t('checks.fail')}: </span>
            <span>{l(c.detail)}</span>
          </li>
        ))}
      </ul>
    </section>
  );
}

function RevealItem({ r, proof }: { r: RevealView; proof: EvaluationProof | undefined }) {
  const { t } = useTranslation('evaluations');
  const tc = useTranslation().t;
  const { partyName } = useAccord();
  const check = proof?.reveals.find((x) => x.reveal === keyOf(r))?.check;
  const leaves = check?.claims.filter((c) => !c.parent) ?? [];
  return (
    <li className="reveal card" data-testid="reveal" data-key={keyOf(r)} data-verified={r.error !== undefined && r.error !== 'EVAL_NOT_ADDRESSED' ? 'false' : check === undefined ? 'pending' : check.ok ? 'true' : 'false'}>
      <div className="timeline-meta">
        <strong>{t('revealBy', { party: partyName(r.party) })}</strong>
        <Time iso={r.time} short />
        <MarkingBadge m={r.marking as Marking} />
        <Link to={`/logs/${r.party}/${r.index}`}>{t('inLog', { party: r.party, index: r.index })}</Link>
      </div>
      <p className="small">
        {r.marking === 'TLP:CLEAR' ? t('revealPublic') : t('revealTo', { parties: r.to.join(', ') })}
      </p>
      {!r.addressed || r.error === 'EVAL_NOT_ADDRESSED' ? (
        <p className="sealed-box">
          <LockIcon /> {r.addressed ? tc('sealed.not-entitled') : t('notAddressed')}
        </p>
      ) : r.error !== undefined ? (
        <p className="warn-text" data-testid="reveal-result">
          <span aria-hidden="true">⚠ </span>
          {t('revealNodeError')} <code>{r.error}</code>
        </p>
      ) : check === undefined ? (
        <Loading />
      ) : (
        <>
          <p className={check.ok ? 'ok-text' : 'warn-text'} data-testid="reveal-result">
            <span aria-hidden="true">{check.ok ? '✓ ' : '⚠ '}</span>
            {check.ok ? t('revealOk', { count: check.claims.length }) : t('revealBad')}
            {check.error !== undefined ? (
              <>
                {' '}
                <code>{check.error}</code> — {check.message}
              </>
            ) : null}
          </p>
          {leaves.length > 0 ? (
            <table className="data cards claims-table" data-testid="claims-table">
              <caption className="visually-hidden">{t('claims.caption', { party: r.party, index: r.index })}</caption>
              <thead>
                <tr>
                  <th scope="col">{t('claims.claim')}</th>
                  <th scope="col">{t('claims.value')}</th>
                  <th scope="col">{t('claims.check')}</th>
                </tr>
              </thead>
              <tbody>
                {leaves.map((c) => (
                  <tr key={c.path} data-testid="claim" data-path={c.path} data-status={c.status}>
                    <th scope="row" className="mono" data-label={t('claims.claim')}>
                      {c.path}
                    </th>
                    <td className="claim-value" data-label={t('claims.value')}>
                      {showValue(c.value)}
                    </td>
                    <td data-label={t('claims.check')} title={c.digest}>
                      <span className={c.status === 'match' ? 'ok-text' : 'warn-text'}>
                        <span aria-hidden="true">{c.status === 'match' ? '✓ ' : '✗ '}</span>
                        {t(`claims.${c.status}`)}
                      </span>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          ) : null}
        </>
      )}
    </li>
  );
}

function Provability() {
  const { t } = useTranslation('evaluations');
  const { l } = useLabel();
  return (
    <section className="card provability" aria-labelledby="provable-h" data-testid="eval-provability">
      <h2 id="provable-h">{t('provable')}</h2>
      <ul>
        {EVALUATION_PROVABILITY.map((p, i) => (
          <li key={i}>{l(p)}</li>
        ))}
      </ul>
    </section>
  );
}

export function EvaluationPage() {
  const { t } = useTranslation('evaluations');
  const { party = '', index = '' } = useParams();
  const { data, error, loading, reload } = useApi<EvaluationView>(`/v1/evaluations/${encodeURIComponent(party)}/${encodeURIComponent(index)}`);
  useLiveReload(concernsEvaluations, reload);
  const { proof, running, again } = useProof(data);
  const { partyName } = useAccord();
  // Printed, every sheet carries the most restrictive marking shown: commitments are TLP:CLEAR, reveals this party opened may be sealed.
  usePrintMarking(data !== undefined ? mostRestrictive(['TLP:CLEAR', ...data.reveals.filter((r) => r.addressed).map((r) => r.marking as Marking)]) : undefined);
  const verdict = data === undefined ? undefined : timelineVerdict(data.notices.length > 0, running ? undefined : proof?.proof);
  const c = data?.commitment;
  return (
    <>
      <PageHeader title={t('detailTitle', { party, index })}>
        {data !== undefined ? (
          <button type="button" className="btn" onClick={() => window.print()}>
            <PrinterIcon />
            {t('print')}
          </button>
        ) : null}
        <Link to="/evaluations" className="btn btn-quiet">
          {t('backToList')}
        </Link>
      </PageHeader>
      <ErrorBox error={error} />
      {loading && data === undefined ? <Loading /> : null}
      {data !== undefined && c !== undefined && verdict !== undefined ? (
        <div className="evaluation-page stack">
          <Verdict verdict={verdict} again={again} />
          <div className="two-col">
            <section className="card" aria-labelledby="commitment-h" data-testid="eval-commitment">
              <h2 id="commitment-h">
                {t('commitment')} <GlossaryHint term="commitment" />
              </h2>
              <dl className="kv">
                <dt>{t('committedBy')}</dt>
                <dd>{partyName(c.party)}</dd>
                <dt>{t('col.stage')}</dt>
                <dd>
                  <Stage stage={c.stage} />
                </dd>
                <dt>{t('col.domains')}</dt>
                <dd>
                  <Domains domains={c.domains} />
                </dd>
                <dt>{t('digests')}</dt>
                <dd data-testid="sd-count">{t('digestCount', { count: proof?.sdCount ?? c.sdCount })}</dd>
                <dt>{t('loggedAt')}</dt>
                <dd>
                  <Time iso={c.time} />
                </dd>
                <dt>{t('provenBy')}</dt>
                <dd>
                  {c.provenBy !== undefined ? (
                    <>
                      <Time iso={c.provenBy} /> {c.provenHow !== undefined ? <span className="muted">({t(`provenHow.${c.provenHow}`)})</span> : null}
                    </>
                  ) : (
                    <span className="muted">{t('notYetProven')}</span>
                  )}
                </dd>
                <dt>{t('position')}</dt>
                <dd>
                  <Link to={`/logs/${c.party}/${c.index}`}>{t('inLog', { party: c.party, index: c.index })}</Link>
                </dd>
              </dl>
              <p className="muted small">{t('digestsHelp')}</p>
            </section>
            <section className="card" aria-labelledby="protocol-h" data-testid="eval-protocol">
              <h2 id="protocol-h">{t('protocol')}</h2>
              {data.protocol !== undefined ? (
                <p>
                  <Link to={`/evaluations/${keyOf(data.protocol)}`}>{t('commitmentAt', { party: data.protocol.party, index: data.protocol.index })}</Link>{' '}
                  <span className="muted">
                    · <Time iso={data.protocol.time} short />
                  </span>
                </p>
              ) : (
                <p className="muted">{c.stage === 'protocol' ? t('isProtocol') : t('noProtocol')}</p>
              )}
            </section>
          </div>
          <section aria-labelledby="notices-h" data-testid="eval-notices">
            <h2 id="notices-h">{t('notices', { count: data.notices.length })}</h2>
            {data.notices.length === 0 ? (
              <Empty>{t('noNotices')}</Empty>
            ) : (
              <ul className="notice-list">
                {data.notices.map((n) => (
                  <li key={keyOf(n)} className="card eval-notice" data-testid="notice" data-key={keyOf(n)}>
                    {n.error !== undefined ? (
                      <p className="warn-text" data-testid="notice-error">
                        <span aria-hidden="true">⚠ </span>
                        {t('noticeError')} <code>{n.error}</code>
                      </p>
                    ) : null}
                    <dl className="kv">
                      <dt>{t('modelId')}</dt>
                      <dd className="mono">{n.model.id}</dd>
                      <dt>{t('modelDigest')}</dt>
                      <dd className="mono digest">{n.model.digest}</dd>
                      <dt>{t('deployedAt')}</dt>
                      <dd>
                        <Time iso={n.deployedAt} />
                      </dd>
                      {n.note !== undefined ? (
                        <>
                          <dt>{t('note')}</dt>
                          <dd>{n.note}</dd>
                        </>
                      ) : null}
                      <dt>{t('position')}</dt>
                      <dd>
                        <Link to={`/logs/${n.party}/${n.index}`}>{t('inLog', { party: n.party, index: n.index })}</Link>
                      </dd>
                    </dl>
                  </li>
                ))}
              </ul>
            )}
          </section>
          <section aria-labelledby="reveals-h" data-testid="eval-reveals">
            <h2 id="reveals-h">
              {t('reveals', { count: data.reveals.length })} <GlossaryHint term="reveal" />
            </h2>
            {data.reveals.length === 0 ? (
              <Empty>{t('noReveals')}</Empty>
            ) : (
              <ul className="reveal-list">
                {data.reveals.map((r) => (
                  <RevealItem key={keyOf(r)} r={r} proof={running ? undefined : proof} />
                ))}
              </ul>
            )}
          </section>
          {proof !== undefined && !running ? <Checks proof={proof} /> : <Loading />}
          <Provability />
        </div>
      ) : null}
    </>
  );
}
