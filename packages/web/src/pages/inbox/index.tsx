/**
 * Inbox and Outbox.
 *
 * Inbox: what other parties sent us that needs an officer — hotline messages
 * and incident reports — awaiting acknowledgement first, ordered FLASH →
 * ROUTINE then by deadline, each with a live countdown; overdue rows are red,
 * carry ⚠ and say "OVERDUE". Acknowledged entries follow. "All entries" adds
 * acknowledgements and receipts (heartbeats live on Link health), and can be
 * narrowed to one entry type; the view lives in the URL (view.ts). A filter
 * field narrows the rows shown by their words.
 *
 * Keyboard (keyboard.tsx): j/k select the next/previous row (the row's link
 * takes focus, the row is marked and its position announced), Enter or o
 * opens it, a acknowledges it in a dialog with an optional reply, / filters.
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
import { Link, useSearchParams } from 'react-router';
import { api, ApiError, query } from '../../api.js';
import { MarkingBadge, PrecedenceBadge, SeverityBadge, StateBadge } from '../../components/badges.js';
import { Empty, ErrorBox, Loading, PageHeader } from '../../components/feedback.js';
import { GlossaryHint } from '../../components/glossary.js';
import { useShortcutHelp } from '../../components/shortcuts.js';
import { Countdown, Time, formatDuration, useNow } from '../../components/time.js';
import { RetractedNote } from '../../components/retracted.js';
import { compareInbox, deadlineFor, deliveryLabel, entryKey, isIncidentReport, needsAck, summaryOf, typeName } from '../../entries.js';
import { concernsBox, useLiveReload } from '../../live.js';
import { useParty } from '../../party.js';
import { useLabel } from '../../i18n.js';
import type { Deadline, EntryView, ListResponse } from '../../types.js';
import { currentLang } from '../../i18n.js';
import { LockIcon } from '../../components/icons.js';
import { PAGE, walkAll } from './paging.js';
import { FilterField, isOverdue, useInboxKeyboard } from './keyboard.js';
import { ALL_TYPES, type BoxView, formatBoxView, listingsOf, matchesText, parseBoxView, typesOf } from './view.js';
import { mostRestrictive, usePrintMarking } from '../../components/print.js';

/**
 * Loads a box (inbox/outbox) for the view, refetching on live events
 * (debounced); `loadMore()` shows one page more of each listing (paging.ts).
 */
function useBox(box: 'inbox' | 'outbox', view: BoxView) {
  // The items with the view they were read for: until the new view's first listing arrives, the
  // old view's rows are not shown as the new one's (nor taken for what was already there).
  const [loaded, setLoaded] = useState<{ view: string; items: EntryView[] } | undefined>(undefined);
  const [older, setOlder] = useState<Set<string>>(new Set());
  const [more, setMore] = useState(false);
  const [loadingMore, setLoadingMore] = useState(false);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const seq = useRef(0);
  const pages = useRef(1);
  const { scope, type } = view;
  const load = useCallback(async () => {
    const my = ++seq.current;
    try {
      const listings = listingsOf({ scope, type }, box).map((l) => (before: number | undefined) => api<ListResponse>(`/v1/${box}${query({ ...l, before, limit: PAGE })}`));
      const r = await walkAll(listings, pages.current, entryKey);
      if (my !== seq.current) return;
      setLoaded({ view: `${scope}/${type ?? ''}`, items: r.items.filter((v) => v.entry.type !== 'heartbeat') });
      setOlder(r.older);
      setMore(r.more);
      setError(undefined);
    } catch (e) {
      if (my === seq.current) setError(e instanceof ApiError ? e : new ApiError({ status: 0, detail: String(e) }));
    }
  }, [box, scope, type]);
  useEffect(() => {
    setLoaded(undefined); // a new view starts from its own first listing
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
  useLiveReload((e) => concernsBox(e, box === 'inbox' ? 'in' : 'out', us, typesOf({ scope, type })), load);
  const items = loaded !== undefined && loaded.view === `${scope}/${type ?? ''}` ? loaded.items : undefined;
  return { items, older, more, loadingMore, loadMore, error, reload: load };
}

/** The box's view from the URL, and a setter that writes it back (replacing the history entry). */
function useBoxView(): [BoxView, (v: BoxView) => void] {
  const [params, setParams] = useSearchParams();
  const view = parseBoxView(params);
  return [view, (v) => setParams(formatBoxView(v, params), { replace: true })];
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

function ScopeSwitch({ view, setView }: { view: BoxView; setView: (v: BoxView) => void }) {
  const { t } = useTranslation('inbox');
  const { t: tc } = useTranslation();
  return (
    <>
      <div className="field">
        <label htmlFor="scope">{t('show')}</label>
        <select id="scope" value={view.scope} onChange={(e) => setView({ scope: e.target.value === 'all' ? 'all' : 'action' })}>
          <option value="action">{t('scope.action')}</option>
          <option value="all">{t('scope.all')}</option>
        </select>
      </div>
      {view.scope === 'all' ? (
        <div className="field">
          <label htmlFor="type-filter">{t('typeFilter')}</label>
          <select id="type-filter" data-testid="type-filter" value={view.type ?? ''} onChange={(e) => setView({ scope: 'all', type: (ALL_TYPES as readonly string[]).includes(e.target.value) ? (e.target.value as BoxView['type']) : undefined })}>
            <option value="">{t('anyType')}</option>
            {ALL_TYPES.map((ty) => (
              <option key={ty} value={ty}>
                {tc(`entryType.${ty}`)}
              </option>
            ))}
          </select>
        </div>
      ) : null}
    </>
  );
}

function EntryTitle({ v }: { v: EntryView }) {
  // Withdrawn by its sender (issue 13): struck through, the note says why and links the replacement.
  if (v.retracted !== undefined)
    return (
      <>
        <s className="retracted-title">
          <PlainTitle v={v} />
        </s>
        <RetractedNote r={v.retracted} compact />
      </>
    );
  return <PlainTitle v={v} />;
}

function PlainTitle({ v }: { v: EntryView }) {
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
  return <Link to={to}>{typeName(t, v.entry.type)}</Link>;
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
      <span>{typeName(t, v.entry.type)}</span>
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

function InboxRow({ v, us, fresh, selected, onSelect }: { v: EntryView; us: string | undefined; fresh: boolean; selected: boolean; onSelect: () => void }) {
  const { t } = useTranslation('inbox');
  const now = useNow();
  const d = deadlineFor(v, us);
  const pending = needsAck(v);
  const overdue = isOverdue(v, us, now);
  const cls = ['entry-row', `p-${v.entry.precedence.toLowerCase()}`, overdue ? 'overdue' : '', pending ? '' : 'done', selected ? 'kb-selected' : ''].join(' ');
  return (
    <li
      className={cls}
      data-testid="inbox-row"
      data-key={entryKey(v)}
      data-type={v.entry.type}
      data-overdue={overdue ? 'true' : 'false'}
      data-acked={v.state?.ack !== undefined ? 'true' : 'false'}
      aria-current={selected ? 'true' : undefined}
      onFocus={onSelect}
    >
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
  const { t: tk } = useTranslation('shortcuts');
  const { t: tc } = useTranslation();
  const us = useParty();
  const openHelp = useShortcutHelp();
  const [view, setView] = useBoxView();
  const { items, older, more, loadingMore, loadMore, error, reload } = useBox('inbox', view);
  const now = useNow();
  const seen = useRef<Set<string> | undefined>(undefined);
  const seenView = useRef<string>('');
  const viewKey = `${view.scope}/${view.type ?? ''}`;
  const [text, setText] = useState('');
  const sorted = useMemo(() => (items === undefined ? undefined : [...items].sort(compareInbox(us))), [items, us]);
  const shown = useMemo(() => sorted?.filter((v) => matchesText(v, text, typeName(tc, v.entry.type))), [sorted, text, tc]);
  usePrintMarking(mostRestrictive((items ?? []).map((v) => v.entry.marking)));
  const fresh = useMemo(() => {
    const f = new Set<string>();
    if (items === undefined) return f;
    if (seen.current === undefined || seenView.current !== viewKey) {
      // The first listing of a view is what was there, not what arrived.
      seen.current = new Set(items.map(entryKey));
      seenView.current = viewKey;
      return f;
    }
    // Older pages shown by "Load more" did not arrive: they were there.
    for (const v of items) if (!seen.current.has(entryKey(v)) && !older.has(entryKey(v))) f.add(entryKey(v));
    return f;
  }, [items, older, viewKey]);
  const pending = sorted?.filter(needsAck) ?? [];
  const overdue = pending.filter((v) => isOverdue(v, us, now));
  const flash = pending.filter((v) => v.entry.precedence === 'FLASH');
  const announce = fresh.size > 0 ? t('arrived', { count: fresh.size }) : '';
  const list = shown ?? [];
  const keys = useInboxKeyboard(list, us, reload);

  return (
    <>
      <PageHeader title={t('inboxTitle')}>
        <ScopeSwitch view={view} setView={setView} />
        <button type="button" className="btn btn-quiet shortcut-button" onClick={openHelp} data-testid="shortcut-button">
          <kbd aria-hidden="true">?</kbd> {tk('button')}
        </button>
      </PageHeader>
      <div className="visually-hidden" aria-live="polite">
        {announce}
      </div>
      <div className="visually-hidden" aria-live="polite" data-testid="inbox-announce">
        {keys.said}
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
              <GlossaryHint term="acknowledgement" />
            </span>
            <span className="count">
              <strong>{flash.length}</strong>
              {t('counts.flash')}
            </span>
          </div>
          <FilterField value={text} onChange={setText} onLeave={keys.backToList} />
          {sorted.length === 0 ? <Empty>{t('emptyInbox')}</Empty> : null}
          {sorted.length > 0 && list.length === 0 ? <Empty>{t('noMatch')}</Empty> : null}
          <ul className="entry-list" aria-label={t('inboxTitle')} aria-describedby="inbox-keys-hint">
            {list.map((v) => (
              <InboxRow key={entryKey(v)} v={v} us={us} fresh={fresh.has(entryKey(v))} selected={entryKey(v) === keys.selectedKey} onSelect={() => keys.setSelectedKey(entryKey(v))} />
            ))}
          </ul>
          <p id="inbox-keys-hint" className="visually-hidden">
            {t('keysHint')}
          </p>
          <LoadMore more={more} busy={loadingMore} onClick={() => void loadMore()} shown={sorted.length} />
        </>
      ) : null}
      {keys.dialog}
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
  const [view, setView] = useBoxView();
  const { items, more, loadingMore, loadMore, error } = useBox('outbox', view);
  // Judged at each re-read (live events), not every second: the rows' own states tick.
  const now = Date.now();
  const sorted = useMemo(() => (items === undefined ? undefined : [...items].sort((a, b) => b.index - a.index)), [items]);
  usePrintMarking(mostRestrictive((items ?? []).map((v) => v.entry.marking)));
  return (
    <>
      <PageHeader title={t('outboxTitle')}>
        <ScopeSwitch view={view} setView={setView} />
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
