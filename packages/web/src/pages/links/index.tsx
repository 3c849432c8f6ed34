/**
 * Link health: one card per party of the accord — link up, degraded or down
 * (with why and since when), last heartbeat and last contact, the party's
 * log size and latest checkpoint with the witnesses that cosigned it, and
 * fork alarms, which are made impossible to miss (a banner on top, the card
 * turned red, the proofs listed for download).
 *
 * Sources: GET /v1/links (heartbeats, transport, forks count), GET /v1/forks,
 * GET /v1/logs/:party/checkpoint per party (verified here with core: the
 * party's log key and every other party's witness key come from the accord,
 * see checkpoint.ts). Live: link, fork, checkpoint and entry events refetch.
 */
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ApiError } from '../../api.js';
import { ErrorBox, Loading, PageHeader } from '../../components/feedback.js';
import { GlossaryHint } from '../../components/glossary.js';
import { Time, formatDuration, useNow } from '../../components/time.js';
import { useEvents } from '../../events.js';
import { useLiveReload } from '../../live.js';
import { useApi } from '../../hooks.js';
import { useParty } from '../../party.js';
import { saveFile } from '../../download.js';
import { typeName } from '../../entries.js';
import { type AccordState, useAccord } from '../explorer/accord.js';
import { type CheckpointView, useCheckpoint } from './checkpoint.js';
import './links.css';
import type { Link as LinkItem, LinksResponse } from '@parley/node/api';

interface View {
  readonly treeSize: number;
  readonly rootHash: string;
  readonly cosignedBy: readonly { party: string; timestamp: number }[];
}
/** One side of an accord fork: a validly signed accord version N+1. */
interface AccordSide {
  readonly version: number;
  readonly digest: string;
  readonly signedBy: readonly string[];
}
/** A log fork (two checkpoints of one party's log that cannot both be true). */
export interface LogForkItem {
  readonly id: string;
  readonly party: string;
  readonly n: number;
  readonly kind: 'same-size' | 'leaf-conflict' | 'prefix-conflict';
  readonly a: View;
  readonly b: View;
  readonly index?: number;
  readonly href: string;
}
/** An accord fork (issue 11): two different valid accord versions N+1 after one version N; `party` is a signer of both (or `accord`). */
export interface AccordForkItem {
  readonly id: string;
  readonly party: string;
  readonly n: number;
  readonly kind: 'accord';
  readonly a: AccordSide;
  readonly b: AccordSide;
  readonly signers?: readonly string[];
  /** A departure race: both versions only let parties go (who leaves in each). */
  readonly race?: { readonly kind: 'departure'; readonly a: readonly string[]; readonly b: readonly string[] };
  readonly href: string;
}
export type ForkItem = LogForkItem | AccordForkItem;

/** True for a fork of the accord (no party's log forked: it belongs on no party's card). */
export const isAccordFork = (f: ForkItem): f is AccordForkItem => f.kind === 'accord';

function ForkSide({ f, side }: { f: ForkItem; side: 'a' | 'b' }) {
  const { t } = useTranslation('links');
  if (isAccordFork(f)) {
    const v = f[side];
    return (
      <>
        {t('fork.accordVersion', { version: v.version })}
        <br />
        <code title={v.digest}>{v.digest.slice(0, 16)}…</code>
        <br />
        <span className="muted">{v.signedBy.length > 0 ? t('fork.signedBy', { parties: v.signedBy.join(', ') }) : t('fork.notCosigned')}</span>
      </>
    );
  }
  const v = f[side];
  return (
    <>
      {t('fork.size', { size: v.treeSize })}
      <br />
      <code>{v.rootHash}</code>
      <br />
      <span className="muted">{v.cosignedBy.length > 0 ? t('fork.cosignedBy', { parties: v.cosignedBy.map((c) => c.party).join(', ') }) : t('fork.notCosigned')}</span>
    </>
  );
}

const STATE_ICON = { up: '✓', degraded: '⚠', down: '✗' } as const;

function Ago({ iso }: { iso: string }) {
  const { t, i18n } = useTranslation('links');
  const now = useNow();
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return null;
  return <span className="muted"> ({t('ago', { d: formatDuration(Math.max(0, ms), i18n.language) })})</span>;
}

function When({ iso }: { iso: string | undefined }) {
  const { t } = useTranslation('links');
  if (iso === undefined) return <span className="muted">{t('never')}</span>;
  return (
    <>
      <Time iso={iso} />
      <Ago iso={iso} />
    </>
  );
}

async function downloadFork(f: ForkItem): Promise<void> {
  const text = await api<unknown>(f.href);
  const body = typeof text === 'string' ? text : JSON.stringify(text);
  saveFile(isAccordFork(f) ? `fork-accord-${f.n}.json` : `fork-${f.party}-${f.n}.json`, new Blob([body], { type: 'application/json' }));
}

function ForkAlarm({ forks, accord }: { forks: readonly ForkItem[]; accord: AccordState }) {
  const { t } = useTranslation('links');
  const [error, setError] = useState<ApiError | undefined>();
  if (forks.length === 0) return null;
  const parties = [...new Set(forks.filter((f) => !isAccordFork(f)).map((f) => f.party))];
  const accordForks = forks.filter(isAccordFork);
  return (
    <section className="fork-alarm" role="alert" aria-labelledby="fork-heading" data-testid="fork-alarm">
      <h2 id="fork-heading">
        <span aria-hidden="true">⚠ </span>
        {parties.length > 0 ? t('fork.title', { parties: parties.map(accord.partyName).join(', ') }) : null}
        {parties.length > 0 && accordForks.length > 0 ? ' · ' : null}
        {accordForks.length > 0 ? t('fork.accordTitle', { version: accordForks[0]!.a.version }) : null}
        <GlossaryHint term="fork" />
      </h2>
      {parties.length > 0 ? <p>{t('fork.explain')}</p> : null}
      {accordForks.length > 0 ? <p data-testid="accord-fork-explain">{t('fork.accordExplain')}</p> : null}
      {accordForks.map((f) =>
        f.race !== undefined ? (
          <p key={f.id} data-testid="accord-fork-race">
            {f.race.a.join(', ') === f.race.b.join(', ')
              ? t('fork.raceSame', { version: f.a.version, parties: f.race.a.map(accord.partyName).join(', ') })
              : t('fork.race', { version: f.a.version, a: f.race.a.map(accord.partyName).join(', '), b: f.race.b.map(accord.partyName).join(', ') })}
          </p>
        ) : null,
      )}
      <ErrorBox error={error} />
      <div className="table-wrap">
        <table className="data cards">
          <caption className="visually-hidden">{t('fork.tableCaption')}</caption>
          <thead>
            <tr>
              <th scope="col">{t('fork.party')}</th>
              <th scope="col">{t('fork.kind')}</th>
              <th scope="col">{t('fork.viewA')}</th>
              <th scope="col">{t('fork.viewB')}</th>
              <th scope="col">{t('fork.proof')}</th>
            </tr>
          </thead>
          <tbody>
            {forks.map((f) => (
              <tr key={f.id}>
                <th scope="row" data-label={t('fork.party')}>{isAccordFork(f) ? t('fork.accordParty') : accord.partyName(f.party)}</th>
                <td data-label={t('fork.kind')} data-kind={f.kind}>
                  {isAccordFork(f) && f.race !== undefined ? t('fork.kinds.departure') : t(`fork.kinds.${f.kind}`)}
                  {!isAccordFork(f) && f.index !== undefined ? ` (${t('fork.atIndex', { index: f.index })})` : ''}
                </td>
                {(['a', 'b'] as const).map((side, i) => (
                  <td key={side} data-label={t(i === 0 ? 'fork.viewA' : 'fork.viewB')}>
                    <ForkSide f={f} side={side} />
                  </td>
                ))}
                <td className="card-action">
                  <button
                    type="button"
                    className="btn btn-small"
                    onClick={() => void downloadFork(f).then(() => setError(undefined), (e: unknown) => setError(e instanceof ApiError ? e : new ApiError({ status: 0, detail: String(e) })))}
                  >
                    {t('fork.download')}
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

function CheckpointFacts({ cp, accord, own }: { cp: CheckpointView; accord: AccordState; own: boolean }) {
  const { t } = useTranslation('links');
  if (cp.error !== undefined) {
    return (
      <>
        <dt>{t('log')}</dt>
        <dd className="muted">{t('checkpointUnavailable', { code: cp.error })}</dd>
      </>
    );
  }
  if (cp.size === undefined) {
    return (
      <>
        <dt>{t('log')}</dt>
        <dd className="muted">{t('loadingCheckpoint')}</dd>
      </>
    );
  }
  const others = accord.parties.length - 1;
  return (
    <>
      <dt>
        {t('logSize')}
        <GlossaryHint term="checkpoint" />
      </dt>
      <dd>
        <strong>{t('entries', { count: cp.size })}</strong>{' '}
        {cp.verified ? (
          <span className="ok-text">
            <span aria-hidden="true">✓ </span>
            {t('signatureOk')}
          </span>
        ) : (
          <span className="bad-text">
            <span aria-hidden="true">✗ </span>
            {t('signatureBad', { code: cp.code ?? '' })}
          </span>
        )}
      </dd>
      <dt>
        {t('witnesses')}
        <GlossaryHint term="witness" />
      </dt>
      <dd>
        {cp.cosigned.length === 0 ? (
          <span className="muted">{own ? t('ownCosignaturesNotShown') : t('noCosignature')}</span>
        ) : (
          <>
            <span>{t('witnessCount', { n: new Set(cp.cosigned.map((c) => c.party)).size, of: others })}</span>
            <ul className="cosigners">
              {cp.cosigned.map((c) => (
                <li key={`${c.party}-${c.timestamp}`}>
                  <strong>{c.party}</strong> · <When iso={new Date(c.timestamp * 1000).toISOString()} />
                  {c.size !== undefined && c.size !== cp.size ? <span className="muted"> · {t('cosignedSize', { count: c.size })}</span> : null}
                </li>
              ))}
            </ul>
          </>
        )}
      </dd>
    </>
  );
}

function PartyCard({ party, link, forks, us, accord, heartbeatSeconds, tick }: { party: string; link: LinkItem | undefined; forks: readonly ForkItem[]; us: boolean; accord: AccordState; heartbeatSeconds: number | undefined; tick: number }) {
  const { t } = useTranslation('links');
  const tc = useTranslation().t;
  const cp = useCheckpoint(party, accord, tick, us);
  const forked = forks.length > 0 || (link?.forks ?? 0) > 0;
  const state = us ? undefined : link?.state;
  return (
    <article className={`link-card ${forked ? 'link-forked' : state !== undefined ? `link-${state}` : 'link-self'}`} aria-labelledby={`lc-${party}`} data-testid={`link-${party}`} data-state={forked ? 'fork' : (state ?? 'self')}>
      <header className="link-head">
        <h2 id={`lc-${party}`}>{accord.partyName(party)}</h2>
        {us ? (
          <span className="badge link-badge self">{t('thisNode')}</span>
        ) : state !== undefined ? (
          <span className={`badge link-badge state-${state}`}>
            <span aria-hidden="true">{STATE_ICON[state]} </span>
            {t(`state.${state}`)}
          </span>
        ) : (
          <span className="badge link-badge">{t('state.unknown')}</span>
        )}
      </header>
      {forked ? (
        <p className="fork-line">
          <span aria-hidden="true">⚠ </span>
          {t('fork.card', { count: Math.max(forks.length, link?.forks ?? 0) })}
        </p>
      ) : null}
      {!us && link !== undefined && link.reason !== undefined && link.reason !== 'fork' ? <p className="reason">{t(`reason.${link.reason}`, { n: heartbeatSeconds !== undefined ? heartbeatSeconds * 2 : '' })}</p> : null}
      <dl className="kv">
        {!us && link !== undefined ? (
          <>
            {link.downAt !== undefined && link.state !== 'up' ? (
              <>
                <dt>{t('downSince')}</dt>
                <dd>
                  <When iso={link.downAt} />
                </dd>
              </>
            ) : null}
            <dt>{t('lastGoodContact')}</dt>
            <dd>
              <When iso={link.lastGoodContactAt ?? link.lastHeardAt} />
            </dd>
            {link.checkpoint !== undefined ? (
              <>
                <dt>
                  {t('lastCosigned')}
                  <GlossaryHint term="cosignature" />
                </dt>
                <dd>
                  {link.lastCosigned !== undefined ? (
                    <>
                      {t('entries', { count: link.lastCosigned.size })} · <When iso={link.lastCosigned.at} />
                    </>
                  ) : (
                    <span className="muted">{t('never')}</span>
                  )}
                  <span className={`hb hb-${link.checkpoint}`}>
                    {' '}
                    · {link.checkpoint === 'up' ? t('heartbeatFresh') : t('heartbeatStale')}
                  </span>
                </dd>
              </>
            ) : null}
            <dt>
              {t('lastHeartbeat')}
              <GlossaryHint term="heartbeat" />
            </dt>
            <dd>
              {link.lastHeartbeat !== undefined ? (
                <>
                  <When iso={link.lastHeartbeat.time} />{' '}
                  <Link to={`/logs/${party}/${link.lastHeartbeat.index}`} className="muted">
                    #{link.lastHeartbeat.index}
                  </Link>
                </>
              ) : (
                <span className="muted">{t('never')}</span>
              )}
              <span className={`hb hb-${link.heartbeat}`}>
                {' '}
                · {link.heartbeat === 'up' ? t('heartbeatFresh') : t('heartbeatStale')}
              </span>
            </dd>
            {link.lastEntry !== undefined ? (
              <>
                <dt>{t('lastEntry')}</dt>
                <dd>
                  <Link to={`/logs/${party}/${link.lastEntry.index}`}>#{link.lastEntry.index}</Link> · {typeName(tc, link.lastEntry.type)} · <Time iso={link.lastEntry.receivedAt} short />
                </dd>
              </>
            ) : null}
            <dt>{t('transport')}</dt>
            <dd>
              {link.transport !== undefined ? (
                <>
                  {t(`transportState.${link.transport.state}`)}
                  {link.transport.lastContactAt !== undefined ? (
                    <>
                      {' · '}
                      <When iso={link.transport.lastContactAt} />
                    </>
                  ) : null}
                  {link.transport.detail !== undefined ? <div className="muted small">{link.transport.detail}</div> : null}
                </>
              ) : (
                <span className="muted">{t('transportNone')}</span>
              )}
            </dd>
          </>
        ) : null}
        <CheckpointFacts cp={cp} accord={accord} own={us} />
      </dl>
      <p className="card-links">
        <Link to={`/logs/${party}`}>{t('browseLog')}</Link>
      </p>
    </article>
  );
}

export function LinksPage() {
  const { t } = useTranslation('links');
  const accord = useAccord();
  const us = useParty();
  const links = useApi<LinksResponse>('/v1/links');
  const forks = useApi<{ forks: readonly ForkItem[] }>('/v1/forks');
  const [tick, setTick] = useState(0);
  useLiveReload(
    (e) => e.event === 'link' || e.event === 'fork' || e.event === 'reconnected' || e.event === 'reset' || (e.event === 'entry' && (e.data as { type?: string } | null)?.type === 'heartbeat'),
    () => Promise.all([links.reload(), forks.reload()]),
  );
  useEvents((e) => {
    if (e.event === 'checkpoint' || e.event === 'fork' || e.event === 'reconnected' || e.event === 'reset') setTick((n) => n + 1);
  });
  const allForks = forks.data?.forks ?? [];
  const up = links.data?.links.filter((l) => l.state === 'up').length ?? 0;
  const total = links.data?.links.length ?? 0;
  return (
    <>
      <PageHeader title={t('title')}>
        <button
          type="button"
          className="btn"
          onClick={() => {
            links.reload();
            forks.reload();
            setTick((n) => n + 1);
          }}
        >
          {t('refresh')}
        </button>
      </PageHeader>
      <ForkAlarm forks={allForks} accord={accord} />
      <ErrorBox error={links.error ?? forks.error ?? accord.error} />
      {links.data !== undefined ? (
        <div className="counts" role="status" aria-live="polite">
          <span className={`count ${up < total ? 'alarm' : ''}`}>
            <strong>
              {up}/{total}
            </strong>
            {t('linksUp')}
          </span>
          <span className="count">{t('heartbeatEvery', { d: links.data.heartbeatSeconds })}</span>
          {allForks.length > 0 ? (
            <span className="count alarm">
              <strong>{allForks.length}</strong>
              {t('forkProofs', { count: allForks.length })}
            </span>
          ) : null}
        </div>
      ) : null}
      {links.loading && links.data === undefined ? <Loading /> : null}
      <div className="link-grid">
        {accord.parties.map((p) => (
          <PartyCard
            key={p.id}
            party={p.id}
            us={p.id === us}
            link={links.data?.links.find((l) => l.party === p.id)}
            forks={allForks.filter((f) => !isAccordFork(f) && f.party === p.id)}
            accord={accord}
            heartbeatSeconds={links.data?.heartbeatSeconds}
            tick={tick}
          />
        ))}
      </div>
    </>
  );
}
