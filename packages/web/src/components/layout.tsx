/**
 * The app shell: a skip link, the header (party, officer, live status,
 * language switch, log out), the navigation and the page. Navigation is a
 * list of links (Tab/Enter), the current page marked `aria-current`.
 */
import { type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, Outlet } from 'react-router';
import { query } from '../api.js';
import { useEventStatus, useEvents } from '../events.js';
import { useApi } from '../hooks.js';
import type { DeadlinesResponse } from '../types.js';
import { useNow } from './time.js';
import { concernsBox, useLiveReload } from '../live.js';
import { AlertBanner, AlertSettings, useAlerts } from './alerts.js';
import { setLanguage, UI_LANGUAGES, type UiLang } from '../i18n.js';
import { useSession } from '../session.js';
import { useParty } from '../party.js';
import { GlobeIcon } from './icons.js';

export function LanguageSwitch() {
  const { t, i18n } = useTranslation();
  return (
    <label className="lang-switch">
      <span className="visually-hidden">{t('language')}</span>
      <GlobeIcon />
      <select
        value={i18n.language}
        onChange={(e) => setLanguage(e.target.value as UiLang)}
        aria-label={t('language')}
        data-testid="language-switch"
      >
        {UI_LANGUAGES.map((l) => (
          <option key={l} value={l} lang={l}>
            {l === 'en' ? 'English' : '简体中文'}
          </option>
        ))}
      </select>
    </label>
  );
}

function LiveStatus() {
  const { t } = useTranslation();
  useEvents(() => undefined);
  const status = useEventStatus();
  return (
    <span className={`live live-${status}`} role="status" data-testid="live-status" data-status={status}>
      <span aria-hidden="true" className="dot" />
      {t(`live.${status}`)}
    </span>
  );
}

/**
 * What awaits this party's acknowledgement, for the nav badge: open received
 * deliveries (GET /v1/deadlines?direction=received&open=true), refreshed on
 * live events and judged overdue against the clock as it ticks.
 */
function useAwaiting(): { pending: number; overdue: number } {
  const { data, reload } = useApi<DeadlinesResponse>(`/v1/deadlines${query({ direction: 'received', open: 'true', limit: 1000 })}`);
  const us = useParty();
  // Only what comes in to us and deliveries to us, coalesced (live.ts).
  useLiveReload((e) => concernsBox(e, 'in', us, ['hotline.message', 'incident.report']), reload);
  const now = useNow();
  const waiting = (data?.items ?? []).filter((d) => d.ackDueAt !== undefined && d.ack === undefined);
  return { pending: waiting.length, overdue: waiting.filter((d) => d.state === 'overdue-ack' || Date.parse(d.ackDueAt!) <= now).length };
}

function InboxBadge() {
  const { t } = useTranslation();
  const { pending, overdue } = useAwaiting();
  if (pending === 0) return null;
  return (
    <>
      {' '}
      <span className={`nav-count ${overdue > 0 ? 'nav-count-overdue' : ''}`} data-testid="nav-awaiting" data-overdue={overdue}>
        {overdue > 0 ? <span aria-hidden="true">⚠ </span> : null}
        {pending}
        <span className="visually-hidden"> {overdue > 0 ? t('nav.awaitingOverdue', { count: pending, overdue }) : t('nav.awaiting', { count: pending })}</span>
      </span>
    </>
  );
}

const NAV: readonly { to: string; key: string; end?: boolean }[] = [
  { to: '/', key: 'nav.inbox', end: true },
  { to: '/outbox', key: 'nav.outbox' },
  { to: '/compose', key: 'nav.compose' },
  { to: '/incidents', key: 'nav.incidents' },
  { to: '/links', key: 'nav.links' },
  { to: '/logs', key: 'nav.log' },
  { to: '/compliance', key: 'nav.compliance' },
  { to: '/accord', key: 'nav.accord' },
  { to: '/glossary', key: 'glossary:title' },
];

export function Layout({ children }: { children?: ReactNode }) {
  const { t } = useTranslation();
  const { officer, canAct, logout } = useSession();
  const party = useParty();
  const alerts = useAlerts();
  return (
    <div className="app">
      <a href="#main" className="skip-link">
        {t('skipToContent')}
      </a>
      <header className="topbar">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ⇄
          </span>
          <span>{t('appName')}</span>
          {party !== undefined ? (
            <span className="party" data-testid="our-party" title={t('ourParty')}>
              {party}
            </span>
          ) : null}
        </div>
        <div className="topbar-right">
          <LiveStatus />
          <AlertSettings prefs={alerts.prefs} onChange={alerts.setPrefs} />
          <LanguageSwitch />
          {officer !== undefined ? (
            <span className="officer" data-testid="officer">
              {officer.name} · <span className={`role role-${officer.role}`}>{t(`role.${officer.role}`)}</span>
            </span>
          ) : null}
          <button type="button" className="btn btn-quiet" onClick={logout}>
            {t('logout')}
          </button>
        </div>
      </header>
      <nav className="sidenav" aria-label={t('nav.label')}>
        <ul>
          {NAV.filter((n) => canAct || n.to !== '/compose').map((n) => (
            <li key={n.to}>
              <NavLink to={n.to} end={n.end ?? false}>
                {t(n.key)}
                {n.to === '/' ? <InboxBadge /> : null}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <AlertBanner state={alerts} />
        {children ?? <Outlet />}
      </main>
    </div>
  );
}
