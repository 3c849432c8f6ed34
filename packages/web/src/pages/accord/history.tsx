/**
 * The accord's version history (newest first: number, digest, who signed —
 * approvals with the previous version's keys, consents with this version's
 * — and what changed against the version before) and each party's
 * activations: from which position of its log each version governs, with
 * the suspect range a compromise recovery leaves flagged.
 */
import { useTranslation } from 'react-i18next';
import { ChangeList } from './changes.js';
import type { ChainView } from './chain.js';

export function VersionHistory({ chain }: { chain: ChainView }) {
  const { t } = useTranslation('accord');
  return (
    <section className="card" aria-labelledby="acc-history" data-testid="accord-history">
      <h2 id="acc-history">{t('history')}</h2>
      <ol className="version-list" reversed>
        {chain.versions.map((v) => (
          <li key={v.digest} data-testid="accord-version" data-version={v.version}>
            <details open={v.version === chain.current.version}>
              <summary>
                <strong>{t('versionN', { n: v.version })}</strong> {v.version === chain.current.version ? <span className="badge state-acknowledged">{t('inForce')}</span> : null}
                {v.frozen ? <span className="badge state-overdue-ack">{t('frozen')}</span> : null}
              </summary>
              <dl className="kv">
                <dt>{t('digest')}</dt>
                <dd className="mono digest">{v.digest}</dd>
                <dt>{t('signedBy')}</dt>
                <dd>
                  {v.signers.length === 0
                    ? '—'
                    : v.signers.map((s, i) => (
                        <span key={`${s.party}-${s.prior ? 'p' : 'c'}`}>
                          {i > 0 ? ', ' : ''}
                          {s.party}
                          {v.version > 1 ? <span className="muted"> ({s.prior ? t('signedPrior') : t('signedOwn')})</span> : null}
                        </span>
                      ))}
                </dd>
              </dl>
              {v.version === 1 ? <p className="muted">{t('founding')}</p> : <ChangeList changes={v.changes} testId="version-changes" />}
            </details>
          </li>
        ))}
      </ol>
    </section>
  );
}

export function Activations({ chain, partyName }: { chain: ChainView; partyName: (id: string) => string }) {
  const { t } = useTranslation('accord');
  return (
    <section className="card" aria-labelledby="acc-activations" data-testid="accord-activations">
      <h2 id="acc-activations">{t('activations')}</h2>
      <p className="muted">{t('activationsHelp')}</p>
      <div className="table-wrap">
        <table className="data cards">
          <thead>
            <tr>
              <th scope="col">{t('party')}</th>
              <th scope="col">{t('version')}</th>
              <th scope="col">{t('positions')}</th>
              <th scope="col">{t('suspect')}</th>
            </tr>
          </thead>
          <tbody>
            {chain.activations.map((a) => (
              <tr key={`${a.party}-${a.version}`} data-testid="activation" data-party={a.party} data-version={a.version}>
                <th scope="row" data-label={t('party')}>
                  {partyName(a.party)}
                </th>
                <td data-label={t('version')}>{t('versionN', { n: a.version })}</td>
                <td data-label={t('positions')} className="mono">
                  {a.until === undefined ? t('fromOn', { from: a.from }) : t('fromTo', { from: a.from, to: a.until - 1 })}
                </td>
                <td data-label={t('suspect')}>
                  {a.suspect === undefined ? (
                    '—'
                  ) : (
                    <span className="badge state-overdue-ack" data-testid="suspect-range">
                      ⚠ {t('suspectRange', { from: a.suspect.from, to: a.suspect.to - 1 })}
                    </span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
