/**
 * Log explorer: browse any party's log by index, and verify one entry's
 * inclusion IN THIS BROWSER with @parley/core (verify.ts) — the checkpoint
 * signature against the party's key from the accord, the leaf hash of the
 * entry bytes, the inclusion proof against the checkpoint's root.
 *
 *     /logs                  choose a party's log
 *     /logs/:party           its entries, newest first (?before= pages back)
 *     /logs/:party/:index    one entry, fetched with its proof and verified
 *
 * (Not /log: that prefix is the node's public log, so a reload there would
 * reach the node's API instead of the app.)
 */
import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import { Empty, ErrorBox, Loading, PageHeader } from '../../components/feedback.js';
import { Time } from '../../components/time.js';
import { useLiveReload } from '../../live.js';
import { useApi } from '../../hooks.js';
import { useParty } from '../../party.js';
import { typeName } from '../../entries.js';
import { useAccord } from './accord.js';
import { EntryVerifier } from './EntryVerifier.js';
import './explorer.css';
import type { LogListing } from '@parley/node/api';


const PAGE = 50;

export function ExplorerPage() {
  const { t } = useTranslation('explorer');
  const { party, index } = useParams();
  const accord = useAccord();
  const idx = index !== undefined && /^(0|[1-9][0-9]{0,15})$/.test(index) ? Number(index) : undefined;
  return (
    <>
      <PageHeader title={t('title')} />
      <p className="muted explorer-intro">{t('intro')}</p>
      <ErrorBox error={accord.error} />
      <PartyPicker current={party} />
      {party === undefined ? null : index === undefined ? (
        <LogListingView party={party} />
      ) : idx === undefined ? (
        <ErrorBox error={new Error(t('badIndex', { index }))} />
      ) : (
        <EntryVerifier key={`${party}/${idx}`} party={party} index={idx} accord={accord} />
      )}
    </>
  );
}

function PartyPicker({ current }: { current: string | undefined }) {
  const { t } = useTranslation('explorer');
  const { parties, partyName } = useAccord();
  const us = useParty();
  if (parties.length === 0) return null;
  return (
    <nav aria-label={t('parties')} className="party-picker">
      <span className="label">{t('chooseLog')}</span>
      <ul>
        {parties.map((p) => (
          <li key={p.id}>
            <Link to={`/logs/${p.id}`} aria-current={p.id === current ? 'page' : undefined} className="btn" data-testid={`log-party-${p.id}`}>
              {partyName(p.id)}
              {p.id === us ? <span className="muted"> ({t('ours')})</span> : null}
            </Link>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function GoToIndex({ party, treeSize }: { party: string; treeSize: number | undefined }) {
  const { t } = useTranslation('explorer');
  const navigate = useNavigate();
  const [value, setValue] = useState('');
  const n = /^(0|[1-9][0-9]{0,15})$/.test(value) ? Number(value) : undefined;
  const tooBig = n !== undefined && treeSize !== undefined && n >= treeSize;
  const invalid = value !== '' && (n === undefined || tooBig);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (n !== undefined && !tooBig) navigate(`/logs/${party}/${n}`);
  };
  return (
    <form className="filters" onSubmit={submit} aria-label={t('goTo')}>
      <div className="field">
        <label htmlFor="log-index">{t('indexLabel')}</label>
        <input
          id="log-index"
          inputMode="numeric"
          value={value}
          onChange={(e) => setValue(e.target.value.trim())}
          aria-invalid={invalid}
          aria-describedby="log-index-hint"
          size={10}
        />
        <span id="log-index-hint" className={invalid ? 'field-error' : 'hint'}>
          {invalid ? t('indexInvalid', { max: (treeSize ?? 1) - 1 }) : treeSize !== undefined && treeSize > 0 ? t('indexHint', { max: treeSize - 1 }) : ''}
        </span>
      </div>
      <button type="submit" className="btn btn-primary" disabled={n === undefined || tooBig}>
        {t('openAndVerify')}
      </button>
    </form>
  );
}

function LogListingView({ party }: { party: string }) {
  const { t } = useTranslation('explorer');
  const tc = useTranslation().t;
  const [params, setParams] = useSearchParams();
  const before = params.get('before') ?? undefined;
  const path = `/v1/logs/${encodeURIComponent(party)}?limit=${PAGE}${before !== undefined ? `&before=${encodeURIComponent(before)}` : ''}`;
  const { data, error, loading, reload } = useApi<LogListing>(path);
  useLiveReload((e) => {
    if (before !== undefined) return false;
    const d = e.data as { party?: string } | null;
    return e.event === 'reconnected' || e.event === 'reset' || ((e.event === 'entry' || e.event === 'checkpoint') && d?.party === party);
  }, reload);
  return (
    <section aria-labelledby="log-heading">
      <h2 id="log-heading">
        {t('logOf', { party })}
        {data !== undefined ? <span className="muted"> · {t('treeSize', { count: data.treeSize })}</span> : null}
      </h2>
      <GoToIndex party={party} treeSize={data?.treeSize} />
      <ErrorBox error={error} />
      {loading && data === undefined ? <Loading /> : null}
      {data !== undefined && data.items.length === 0 ? <Empty>{t('empty')}</Empty> : null}
      {data !== undefined && data.items.length > 0 ? (
        <div className="table-wrap">
          <table className="data cards compact log-table" data-testid="log-table">
            <caption className="visually-hidden">{t('logOf', { party })}</caption>
            <thead>
              <tr>
                <th scope="col">{t('col.index')}</th>
                <th scope="col">{t('col.type')}</th>
                <th scope="col">{t('col.time')}</th>
                <th scope="col">{t('col.officer')}</th>
                <th scope="col">{t('col.to')}</th>
                <th scope="col">{t('col.incident')}</th>
                <th scope="col">{t('col.verify')}</th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((it) => (
                <tr key={it.index}>
                  <td className="num" data-label={t('col.index')}>
                    <Link to={`/logs/${party}/${it.index}`}>{it.index}</Link>
                  </td>
                  <td data-label={t('col.type')}>{it.type !== undefined ? typeName(tc, it.type) : <span className="muted">{t('notHeld')}</span>}</td>
                  <td className="card-wide" data-label={t('col.time')}>{it.time !== undefined ? <Time iso={it.time} short /> : '—'}</td>
                  <td data-label={t('col.officer')}>{it.officer ?? '—'}</td>
                  <td data-label={t('col.to')}>{it.to !== undefined ? it.to.join(', ') : '—'}</td>
                  <td className="card-wide" data-label={t('col.incident')}>{it.incident !== undefined ? <Link to={`/incidents/${encodeURIComponent(it.incident)}`}>{it.incident}</Link> : '—'}</td>
                  <td className="card-action card-wide">
                    <Link to={`/logs/${party}/${it.index}`} className="btn btn-quiet btn-small" aria-label={t('verifyEntry', { index: it.index })}>
                      {t('verify')}
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      <div className="pager">
        {before !== undefined ? (
          <button type="button" className="btn" onClick={() => setParams({})}>
            {t('newest')}
          </button>
        ) : null}
        {data?.next !== undefined ? (
          <button type="button" className="btn" onClick={() => setParams({ before: String(data.next) })}>
            {t('older')}
          </button>
        ) : null}
      </div>
    </section>
  );
}
