/**
 * The accord: the version in force (its number and digest), pending
 * amendments with who approved and an Approve button for admins
 * (proposals.tsx), the version history with each version's changes and each
 * party's activations (history.tsx; the chain is verified here with core,
 * chain.ts), then the version in force read-only: channel id and
 * signatures, parties and their keys, deadlines, red lines, and the taxonomy
 * it pins (checked here against the taxonomy this dashboard was built with:
 * same SHA-256 or a warning).
 *
 * A node without the governance API (404 on /v1/accord/chain) shows version 1
 * alone, as before.
 */
import { type Accord, PRECEDENCES, ROLE_ACTIONS, TAXONOMY_V1, category as categoryOf, rolesOf, taxonomyHash } from '@parley/core';
import { useMemo } from 'react';
import { useTranslation } from 'react-i18next';
import { ApiError } from '../../api.js';
import { PrecedenceBadge, SeverityBadge } from '../../components/badges.js';
import { ErrorBox, Loading, PageHeader } from '../../components/feedback.js';
import { formatDuration, Time } from '../../components/time.js';
import { useApi } from '../../hooks.js';
import { useLabel } from '../../i18n.js';
import { useLiveReload } from '../../live.js';
import { useParty } from '../../party.js';
import { useSession } from '../../session.js';
import type { AccordResponse } from '../../types.js';
import { ChainRefused, chainView } from './chain.js';
import { Activations, VersionHistory } from './history.js';
import { type ProposalsAnswer, proposalView, sortProposals } from './model.js';
import { Proposals } from './proposals.js';
import './accord.css';

export function AccordPage() {
  const { t, i18n } = useTranslation('accord');
  const { l } = useLabel();
  const { data: info, error, reload: reloadAccord } = useApi<AccordResponse & { version?: number }>('/v1/accord');
  const chainFile = useApi<unknown>('/v1/accord/chain');
  const proposals = useApi<ProposalsAnswer>('/v1/accord/proposals');
  const { officer } = useSession();
  const me = useParty();
  const ourTaxonomy = useMemo(() => taxonomyHash(TAXONOMY_V1), []);
  const reloadAll = () => Promise.all([reloadAccord(), chainFile.reload(), proposals.reload()]);
  // Amendments, approvals and activations arrive as entries: re-read on any new entry.
  useLiveReload((e) => e.event === 'entry' || e.event === 'reset' || e.event === 'reconnected', reloadAll, 800);
  const chain = useMemo(() => {
    if (info === undefined || chainFile.data === undefined) return undefined;
    try {
      return chainView(chainFile.data, info.id);
    } catch (e) {
      return e instanceof ChainRefused ? e : new ChainRefused('INTERNAL');
    }
  }, [chainFile.data, info]);
  if (error !== undefined) return <ErrorBox error={error} />;
  if (info === undefined) return <Loading />;
  // The sections below show the version in force as verified here (the chain), else the node's answer.
  const current = chain instanceof ChainRefused || chain === undefined ? undefined : chain.current;
  const a = current?.accord ?? (info.accord as unknown as Accord);
  const dur = (s: number) => formatDuration(s * 1000, i18n.language);
  const taxonomyOk = a.taxonomy.sha256 === ourTaxonomy;
  const partyName = (id: string) => {
    const versions = chain instanceof ChainRefused || chain === undefined ? [a] : [a, ...chain.versions.map((v) => v.accord)];
    const p = versions.flatMap((x) => x.parties).find((x) => x.id === id);
    return p === undefined ? id : `${id} · ${l(p.names)}`;
  };
  const version = current?.version ?? info.version ?? 1;
  const views =
    proposals.data === undefined || me === undefined || officer === undefined
      ? undefined
      : sortProposals(proposals.data.items.map((p) => proposalView(p, current?.accord ?? a, { party: me, role: officer.role })));
  const chainMissing = chainFile.error !== undefined && chainFile.error.status === 404;
  return (
    <>
      <PageHeader title={`${t('title')} · ${l(a.title)}`} />
      <div className="stack">
        <section className="card" aria-labelledby="acc-version" data-testid="accord-current">
          <h2 id="acc-version">{t('inForceHeading')}</h2>
          <dl className="kv">
            <dt>{t('version')}</dt>
            <dd data-testid="accord-version-number">
              <strong>{t('versionN', { n: version })}</strong>
              {current?.frozen === true ? <span className="badge state-overdue-ack"> {t('frozen')}</span> : null}
            </dd>
            {current !== undefined ? (
              <>
                <dt>{t('digest')}</dt>
                <dd className="mono digest">{current.digest}</dd>
                <dt>{t('chainCheck')}</dt>
                <dd>
                  <span className="badge state-acknowledged" data-testid="chain-verified">
                    ✓ {t('chainVerified', { count: chain instanceof ChainRefused || chain === undefined ? 0 : chain.versions.length })}
                  </span>
                </dd>
              </>
            ) : null}
          </dl>
          {me !== undefined && !a.parties.some((p) => p.id === me) ? (
            <div className="error-box" role="status" data-testid="party-departed">
              <strong>⚠ {t('departed', { party: me, version })}</strong> <code className="error-code">PARTY_DEPARTED</code>
            </div>
          ) : null}
          {chain instanceof ChainRefused ? (
            <div className="error-box" role="alert" data-testid="chain-refused">
              <strong>⚠ {t('chainRefused')}</strong> <code className="error-code">{chain.code}</code>
            </div>
          ) : null}
          {chainFile.error !== undefined && !chainMissing ? <ErrorBox error={chainFile.error} /> : null}
          {chainMissing ? <p className="muted">{t('noGovernance')}</p> : null}
        </section>

        <Proposals items={views} error={proposals.error instanceof ApiError ? proposals.error : undefined} partyName={partyName} onApproved={() => void reloadAll()} />

        {current !== undefined && chain !== undefined && !(chain instanceof ChainRefused) ? (
          <>
            <VersionHistory chain={chain} />
            <Activations chain={chain} partyName={partyName} />
          </>
        ) : null}

        <section className="card" aria-labelledby="acc-id">
          <h2 id="acc-id">{t('channel')}</h2>
          <dl className="kv">
            <dt>{t('name')}</dt>
            <dd className="mono">{a.name}</dd>
            <dt>{t('id')}</dt>
            <dd className="mono" data-testid="accord-id">
              {info.id}
            </dd>
            <dt>{t('created')}</dt>
            <dd>
              <Time iso={a.created} />
            </dd>
            <dt>{t('signedBy')}</dt>
            <dd>
              {current !== undefined && current.version > 1 ? (
                <>
                  {[...new Set(current.signers.map((x) => x.party))].join(', ')} <span className="badge state-acknowledged">✓ {t('amendmentSigned')}</span>
                </>
              ) : (
                <>
                  {info.signedBy.join(', ')}{' '}
                  {a.parties.every((p) => info.signedBy.includes(p.id)) ? (
                    <span className="badge state-acknowledged">✓ {t('allSigned')}</span>
                  ) : (
                    <span className="badge state-overdue-ack">⚠ {t('notAllSigned')}</span>
                  )}
                </>
              )}
            </dd>
            <dt>{t('heartbeat')}</dt>
            <dd>{dur(a.heartbeatSeconds)}</dd>
            <dt>{t('quorum')}</dt>
            <dd>{t('quorumValue', { n: a.amendmentQuorum, of: a.parties.length })}</dd>
            <dt>{t('roles')}</dt>
            <dd data-testid="accord-roles">
              {ROLE_ACTIONS.map((action) => (
                <div key={action} data-action={action}>
                  {t('rolesValue', { action: t(`change.roleAction.${action}`), who: rolesOf(a)[action].map((r) => t(`common:role.${r}`)).join(t('change.rolesSeparator')) })}
                </div>
              ))}
            </dd>
          </dl>
        </section>

        <section className="card" aria-labelledby="acc-parties">
          <h2 id="acc-parties">{t('parties')}</h2>
          <div className="table-wrap">
            <table className="data cards" data-testid="accord-parties">
              <thead>
                <tr>
                  <th scope="col">{t('party')}</th>
                  <th scope="col">{t('partyName')}</th>
                  <th scope="col">{t('urls')}</th>
                  <th scope="col">{t('logKey')}</th>
                  <th scope="col">{t('hpkeKey')}</th>
                </tr>
              </thead>
              <tbody>
                {a.parties.map((p) => (
                  <tr key={p.id}>
                    <th scope="row" data-label={t('party')}>{p.id}</th>
                    <td data-label={t('partyName')}>{l(p.names)}</td>
                    <td className="mono" data-label={t('urls')}>{p.urls.join(' ')}</td>
                    <td className="mono" data-label={t('logKey')}>{p.logKey}</td>
                    <td className="mono" data-label={t('hpkeKey')}>{p.hpkeKey}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </section>

        <section className="card" aria-labelledby="acc-deadlines">
          <h2 id="acc-deadlines">{t('deadlines')}</h2>
          <p>{t('receiptDeadline', { d: dur(a.deadlines.receiptSeconds) })}</p>
          <div className="grid-2">
            <div className="table-wrap">
              <table className="data">
                <caption className="visually-hidden">{t('ackByPrecedence')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('precedence')}</th>
                    <th scope="col">{t('ackWithin')}</th>
                  </tr>
                </thead>
                <tbody>
                  {PRECEDENCES.map((p) => (
                    <tr key={p}>
                      <th scope="row">
                        <PrecedenceBadge p={p} />
                      </th>
                      <td>{dur(a.deadlines.ackSeconds[p])}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="table-wrap">
              <table className="data">
                <caption className="visually-hidden">{t('initialBySeverity')}</caption>
                <thead>
                  <tr>
                    <th scope="col">{t('severity')}</th>
                    <th scope="col">{t('initialWithin')}</th>
                  </tr>
                </thead>
                <tbody>
                  {Object.entries(a.deadlines.initialReportSeconds).map(([lvl, s]) => (
                    <tr key={lvl}>
                      <th scope="row">
                        <SeverityBadge level={Number(lvl)} />
                      </th>
                      <td>{dur(s)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </div>
        </section>

        <section className="card" aria-labelledby="acc-red">
          <h2 id="acc-red">{t('redLines')}</h2>
          <p className="muted">{t('redLinesHelp')}</p>
          {a.redLines.length === 0 ? (
            <p>—</p>
          ) : (
            <ul data-testid="red-lines">
              {a.redLines.map((r) => {
                const c = categoryOf(TAXONOMY_V1, r.category);
                return (
                  <li key={`${r.category}-${r.minSeverity}`}>
                    <strong>
                      {r.category} — {c !== undefined ? l(c.label) : ''}
                    </strong>{' '}
                    {t('atOrAbove')} <SeverityBadge level={r.minSeverity} />
                  </li>
                );
              })}
            </ul>
          )}
        </section>

        <section className="card" aria-labelledby="acc-tax">
          <h2 id="acc-tax">{t('taxonomy')}</h2>
          <dl className="kv">
            <dt>{t('taxonomyId')}</dt>
            <dd className="mono">
              {a.taxonomy.id} v{a.taxonomy.version}
            </dd>
            <dt>SHA-256</dt>
            <dd className="mono">
              {a.taxonomy.sha256}{' '}
              {taxonomyOk ? <span className="badge state-acknowledged">✓ {t('taxonomyMatches')}</span> : <span className="badge state-overdue-ack">⚠ {t('taxonomyDiffers')}</span>}
            </dd>
          </dl>
          <details>
            <summary>{t('categories', { n: TAXONOMY_V1.categories.length })}</summary>
            <div className="table-wrap">
              <table className="data cards">
                <thead>
                  <tr>
                    <th scope="col">{t('code')}</th>
                    <th scope="col">{t('label')}</th>
                    <th scope="col">{t('definition')}</th>
                    <th scope="col">{t('mapsTo')}</th>
                  </tr>
                </thead>
                <tbody>
                  {TAXONOMY_V1.categories.map((c) => (
                    <tr key={c.code}>
                      <th scope="row" data-label={t('code')}>{c.code}</th>
                      <td data-label={t('label')}>
                        {l(c.label)}
                        {c.catastrophic ? <div className="badge sev sev-7">⚠ {t('catastrophic')}</div> : null}
                      </td>
                      <td data-label={t('definition')}>{l(c.definition)}</td>
                      <td data-label={t('mapsTo')}>{c.mapsTo.join('; ')}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
          <details>
            <summary>{t('severityLevels')}</summary>
            <div className="table-wrap">
              <table className="data cards">
                <thead>
                  <tr>
                    <th scope="col">{t('severity')}</th>
                    <th scope="col">{t('definition')}</th>
                    <th scope="col">{t('precedence')}</th>
                  </tr>
                </thead>
                <tbody>
                  {TAXONOMY_V1.severity.map((s) => (
                    <tr key={s.level}>
                      <th scope="row" data-label={t('severity')}>
                        <SeverityBadge level={s.level} />
                      </th>
                      <td data-label={t('definition')}>{l(s.definition)}</td>
                      <td data-label={t('precedence')}>
                        <PrecedenceBadge p={s.precedence} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </section>
      </div>
    </>
  );
}
