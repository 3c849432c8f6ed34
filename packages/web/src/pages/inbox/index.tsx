/**
 * Inbox and Outbox.
 *
 * Inbox: what other parties sent us that needs an officer — hotline messages
 * and incident reports — awaiting acknowledgement first, ordered FLASH →
 * ROUTINE then by deadline, each with a live countdown; overdue rows are red,
 * carry ⚠ and say "OVERDUE". Acknowledged entries follow. "All entries" adds
 * acknowledgements and receipts (heartbeats live on Link health).
 *
 * Outbox: what we sent, each recipient's receipt and acknowledgement — on
 * time, late (+N s, its own state) or overdue — with the reply, all from the
 * listing's own per-entry deliveries (GET /v1/outbox `deadlines`), however
 * many deliveries came after.
 *
 * Both refresh on live events of their side only, coalesced (live.ts).
 */
import { TAXONOMY_V1 } from '@parley/core';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, ApiError, query } from '../../api.js';
import { MarkingBadge, PrecedenceBadge, SeverityBadge, StateBadge } from '../../components/badges.js';
import { Empty, ErrorBox, Loading, PageHeader } from '../../components/feedback.js';
import { Countdown, Time, formatDuration, useNow } from '../../components/time.js';
import { compareInbox, deadlineFor, deliveryLabel, entryKey, isIncidentReport, needsAck, summaryOf } from '../../entries.js';
import { concernsBox, useLiveReload } from '../../live.js';
import { useParty } from '../../party.js';
import { useLabel } from '../../i18n.js';
import type { Deadline, EntryView, ListResponse } from '../../types.js';
import { currentLang } from '../../i18n.js';
import { LockIcon } from '../../components/icons.js';
import { PAGE, walkAll } from './paging.js';
import { mostRestrictive, usePrintMarking } from '../../components/print.js';

type Scope = 'action' | 'all';
const ACTION_TYPES = ['hotline.message', 'incident.report'] as const;
/** "All entries": everything but heartbeats (Link health's). */
const ALL_TYPES = ['hotline.message', 'incident.report', 'ack', 'receipt', 'accord.amendment'] as const;

/**
 * Loads a box (inbox/outbox) for the scope, refetching on live events
 * (debounced); `loadMore()` shows one page more of each listing (paging.ts).
 */
function useBox(box: 'inbox' | 'outbox', scope: Scope) {
  const [items, setItems] = useState<EntryView[] | undefined>(undefined);
  const [older, setOlder] = useState<Set<string>>(new Set());
  const [more, setMore] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const seq = useRef(0);
  const pages = useRef(1);
  const load = useCallback(async () => {
    const my = ++seq.current;
    try {
      const types: readonly (string | undefined)[] = scope === 'action' ? ACTION_TYPES : [undefined];
      // "All entries" lists receipts too, which the node leaves out of an inbox unless asked (all=1).
      const all = scope === 'all' && box === 'inbox' ? 1 : undefined;
      const listings = types.map((type) => (before: number | undefined) => api<ListResponse>(`/v1/${box}${query({ type, before, limit: PAGE, all })}`));
      const r = await walkAll(listings, pages.current, entryKey);
      if (my !== seq.current) return;
      setItems(r.items.filter((v) => v.entry.type !== 'heartbeat'));
      setOlder(r.older);
      setMore(r.more);
      setError(undefined);
    } catch (e) {
      if (my === seq.current) setError(e instanceof ApiError ? e : new ApiError({ status: 0, detail: String(e) }));
    }
  }, [box, scope]);
  useEffect(() => {
    setItems(undefined); // a new scope starts from its own first listing
    setMore(false);
    pages.current = 1;
    void load();
  }, [load]);
  const loadMore = useCallback(async () => {
    pages.current += 1;
    setLoadingMore(true);
    try {
      await load();
    } finally {
      setLoadingMore(false);
    }
  }, [load]);
  // Only events of this box's side, coalesced: a re-read at most every 300 ms, never starved by a stream.
  const us = useParty();
  useLiveReload((e) => concernsBox(e, box === 'inbox' ? 'in' : 'out', us, scope === 'action' ? ACTION_TYPES : ALL_TYPES), load);
  return { items, older, more, loadingMore, loadMore, error, reload: load };
}

/** "Load more" under a box's list, while a listing has a page after those shown. */
function LoadMore({ more, busy, onClick, shown }: { more: boolean; busy: boolean; onClick: () => void; shown: number }) {
  const { t } = useTranslation('inbox');
  if (!more) return null;
  return (
    <p className="load-more">
      <button type="button" className="btn" onClick={onClick} disabled={busy} data-testid="load-more" aria-describedby="load-more-shown">
        {busy ? t('loadingMore') : t('loadMore')}
      </button>{' '}
      <span id="load-more-shown" className="muted small">
        {t('shown', { count: shown })}
      </span>
    </p>
  );
}

function ScopeSwitch({ scope, setScope }: { scope: Scope; setScope: (s: Scope) => void }) {
  const { t } = useTranslation('inbox');
  return (
    <div className="field">
      <label htmlFor="scope">{t('show')}</label>
      <select id="scope" value={scope} onChange={(e) => setScope(e.target.value as Scope)}>
        <option value="action">{t('scope.action')}</option>
        <option value="all">{t('scope.all')}</option>
      </select>
    </div>
  );
}

function EntryTitle({ v }: { v: EntryView }) {
  const { t } = useTranslation();
  const s = summaryOf(v);
  const to = `/entries/${encodeURIComponent(v.party)}/${v.index}`;
  if (s !== undefined) return <Link to={to}>{s}</Link>;
  if (v.sealed !== undefined)
    return (
      <Link to={to} className="sealed-title">
        <LockIcon /> {t(`sealed.${v.sealed}`)}
      </Link>
    );
  return <Link to={to}>{t(`entryType.${v.entry.type}`, { defaultValue: v.entry.type })}</Link>;
}

function ReportKindLabel({ kind }: { kind: string }) {
  const { l } = useLabel();
  const term = TAXONOMY_V1.reportKinds.find((k) => k.code === kind);
  return <strong className={`report-kind kind-${kind}`}>{term !== undefined ? l(term.label) : kind}</strong>;
}

function EntryMeta({ v, direction }: { v: EntryView; direction: 'in' | 'out' }) {
  const { t } = useTranslation();
  const { t: ti } = useTranslation('inbox');
  return (
    <div className="meta">
      <PrecedenceBadge p={v.entry.precedence} />
      <span>{t(`entryType.${v.entry.type}`, { defaultValue: v.entry.type })}</span>
      {isIncidentReport(v) ? (
        <>
          <ReportKindLabel kind={v.body.kind} />
          <SeverityBadge level={v.body.severity} />
          <Link to={`/incidents/${encodeURIComponent(v.body.incident)}`}>{v.body.incident}</Link>
        </>
      ) : null}
      <span>
        {direction === 'in' ? ti('from') : ti('by')} <strong>{v.entry.from.party}</strong> · {v.entry.from.officer}
      </span>
      {direction === 'out' ? (
        <span>
          {ti('to')} <strong>{v.entry.to.join(', ')}</strong>
        </span>
      ) : null}
      <Time iso={v.entry.time} short seconds />
      <MarkingBadge m={v.entry.marking} />
      <span className="mono" title={ti('logPosition')}>
        #{v.party}/{v.index}
      </span>
    </div>
  );
}

function InboxRow({ v, us, fresh }: { v: EntryView; us: string | undefined; fresh: boolean }) {
  const { t } = useTranslation('inbox');
  const now = useNow();
  const d = deadlineFor(v, us);
  const pending = needsAck(v);
  const overdue = pending && d !== undefined && (d.overdue.length > 0 || Date.parse(d.dueAt) <= now);
  const cls = ['entry-row', `p-${v.entry.precedence.toLowerCase()}`, overdue ? 'overdue' : '', pending ? '' : 'done'].join(' ');
  return (
    <li className={cls} data-testid="inbox-row" data-key={entryKey(v)} data-overdue={overdue ? 'true' : 'false'} data-acked={v.state?.ack !== undefined ? 'true' : 'false'}>
      <div>
        <EntryMeta v={v} direction="in" />
        <div className="title">
          {fresh ? <span className="badge new-badge">{t('new')}</span> : null} <EntryTitle v={v} />
        </div>
      </div>
      <div className="side">
        {pending && d !== undefined ? (
          <>
            <span className="muted small">{t('ackDeadline')}</span>
            <Countdown dueAt={d.dueAt} overdue={overdue} label={t('ackDeadline')} />
          </>
        ) : null}
        {pending && d === undefined ? <StateBadge state="received" /> : null}
        {v.state?.ack !== undefined ? (
          <span>
            <StateBadge state="acknowledged" />{' '}
            <span className="muted small">
              {v.state.ack.officer} · <Time iso={v.state.ack.time} short seconds />
            </span>
          </span>
        ) : null}
        {!pending && v.state?.ack === undefined && d !== undefined ? <StateBadge state={d.state} /> : null}
      </div>
    </li>
  );
}

export function InboxPage() {
  const { t } = useTranslation('inbox');
  const us = useParty();
  const [scope, setScope] = useState<Scope>('action');
  const { items, older, more, loadingMore, loadMore, error } = useBox('inbox', scope);
  const now = useNow();
  const seen = useRef<Set<string> | undefined>(undefined);
  const seenScope = useRef<Scope>(scope);
  const sorted = useMemo(() => (items === undefined ? undefined : [...items].sort(compareInbox(us))), [items, us]);
  usePrintMarking(mostRestrictive((items ?? []).map((v) => v.entry.marking)));
  const fresh = useMemo(() => {
    const f = new Set<string>();
    if (items === undefined) return f;
    if (seen.current === undefined || seenScope.current !== scope) {
      // The first listing of a scope is what was there, not what arrived.
      seen.current = new Set(items.map(entryKey));
      seenScope.current = scope;
      return f;
    }
    // Older pages shown by "Load more" did not arrive: they were there.
    for (const v of items) if (!seen.current.has(entryKey(v)) && !older.has(entryKey(v))) f.add(entryKey(v));
    return f;
  }, [items, older, scope]);
  const pending = sorted?.filter(needsAck) ?? [];
  const overdue = pending.filter((v) => {
    const d = deadlineFor(v, us);
    return d !== undefined && (d.overdue.length > 0 || Date.parse(d.dueAt) <= now);
  });
  const flash = pending.filter((v) => v.entry.precedence === 'FLASH');
  const announce = fresh.size > 0 ? t('arrived', { count: fresh.size }) : '';
  return (
    <>
      <PageHeader title={t('inboxTitle')}>
        <ScopeSwitch scope={scope} setScope={setScope} />
      </PageHeader>
      <div className="visually-hidden" aria-live="polite">
        {announce}
      </div>
      <ErrorBox error={error} />
      {sorted === undefined && error === undefined ? <Loading /> : null}
      {sorted !== undefined ? (
        <>
          <div className="counts" data-testid="inbox-counts">
            <span className={`count ${overdue.length > 0 ? 'alarm' : ''}`} data-testid="count-overdue">
              {overdue.length > 0 ? <span aria-hidden="true">⚠ </span> : null}
              <strong>{overdue.length}</strong>
              {t('counts.overdue')}
            </span>
            <span className="count">
              <strong>{pending.length}</strong>
              {t('counts.awaiting')}
            </span>
            <span className="count">
              <strong>{flash.length}</strong>
              {t('counts.flash')}
            </span>
          </div>
          {sorted.length === 0 ? <Empty>{t('emptyInbox')}</Empty> : null}
          <ul className="entry-list" aria-label={t('inboxTitle')}>
            {sorted.map((v) => (
              <InboxRow key={entryKey(v)} v={v} us={us} fresh={fresh.has(entryKey(v))} />
            ))}
          </ul>
          <LoadMore more={more} busy={loadingMore} onClick={() => void loadMore()} shown={sorted.length} />
        </>
      ) : null}
    </>
  );
}

/** One recipient's delivery of a sent entry, from the listing itself: state, receipt, acknowledgement (late or not) and reply. */
function RecipientState({ d }: { d: Deadline }) {
  // Judged at each re-read, not every second: the node sends a deadline event when a delivery goes
  // overdue, and the countdown below ticks on its own (200 rows re-rendered every second were slow).
  const now = Date.now();
  const { t } = useTranslation('inbox');
  const { t: tc } = useTranslation();
  const { label, lateSeconds } = deliveryLabel(d, now);
  const overdue = label === 'overdue-receipt' || label === 'overdue-ack';
  const icon = label.startsWith('acknowledged') ? '✓' : overdue ? '⚠' : label.startsWith('received') ? '↓' : '→';
  return (
    <span className="recipient" data-testid="recipient" data-recipient={d.recipient} data-state={d.state} data-label={label}>
      <strong>{d.recipient}</strong>
      <span className={`badge state state-${label}`}>
        <span aria-hidden="true">{icon} </span>
        {tc(`state.${label}`)}
        {lateSeconds !== undefined ? ` (+${formatDuration(lateSeconds * 1000, currentLang())})` : ''}
      </span>
      {d.receipt !== undefined ? (
        <span className="muted small">
          {t('receiptAt')} <Time iso={d.receipt.at} short seconds />
        </span>
      ) : null}
      {d.ack !== undefined ? (
        <span className="muted small">
          {t('ackAt')} <Time iso={d.ack.at} short seconds /> · {d.ack.officer} ·{' '}
          <Link to={`/entries/${encodeURIComponent(d.recipient)}/${d.ack.index}`} aria-label={t('viewAckOf', { party: d.recipient })}>
            {t('viewAck')}
          </Link>
        </span>
      ) : null}
      {d.ack?.reply !== undefined ? (
        <q className="reply" lang={d.ack.lang} data-testid="reply">
          {d.ack.reply}
        </q>
      ) : null}
      {!d.settled ? (
        <span className="muted small">
          {d.receipt === undefined ? t('receiptDue') : t('ackDue')} <Countdown dueAt={d.dueAt} overdue={overdue} />
        </span>
      ) : null}
    </span>
  );
}

export function OutboxPage() {
  const { t } = useTranslation('inbox');
  const [scope, setScope] = useState<Scope>('action');
  const { items, more, loadingMore, loadMore, error } = useBox('outbox', scope);
  // Judged at each re-read (live events), not every second: the rows' own states tick.
  const now = Date.now();
  const sorted = useMemo(() => (items === undefined ? undefined : [...items].sort((a, b) => b.index - a.index)), [items]);
  usePrintMarking(mostRestrictive((items ?? []).map((v) => v.entry.marking)));
  return (
    <>
      <PageHeader title={t('outboxTitle')}>
        <ScopeSwitch scope={scope} setScope={setScope} />
      </PageHeader>
      <ErrorBox error={error} />
      {sorted === undefined && error === undefined ? <Loading /> : null}
      {sorted !== undefined && sorted.length === 0 ? <Empty>{t('emptyOutbox')}</Empty> : null}
      <ul className="entry-list" aria-label={t('outboxTitle')}>
        {(sorted ?? []).map((v) => {
          const anyOverdue = v.deadlines?.some((d) => deliveryLabel(d, now).label.startsWith('overdue')) ?? false;
          return (
            <li key={entryKey(v)} className={`entry-row p-${v.entry.precedence.toLowerCase()} ${anyOverdue ? 'overdue' : ''}`} data-testid="outbox-row" data-key={entryKey(v)}>
              <div>
                <EntryMeta v={v} direction="out" />
                <div className="title">
                  <EntryTitle v={v} />
                </div>
                {v.deadlines !== undefined && v.deadlines.length > 0 ? (
                  <div className="recipients">
                    {v.deadlines.map((d) => (
                      <RecipientState key={d.recipient} d={d} />
                    ))}
                  </div>
                ) : null}
              </div>
            </li>
          );
        })}
      </ul>
      {sorted !== undefined ? <LoadMore more={more} busy={loadingMore} onClick={() => void loadMore()} shown={sorted.length} /> : null}
    </>
  );
}
