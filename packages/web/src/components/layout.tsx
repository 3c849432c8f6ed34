/**
 * The app shell: a skip link, the header (party, officer, live status,
 * language switch, log out), the navigation and the page. Navigation is a
 * list of links (Tab/Enter), the current page marked `aria-current`.
 *
 * On a phone (styles.css, "phone") the header is one line — brand, live
 * status, a Menu button — and the navigation and the header's tools
 * collapse behind the button (a disclosure: aria-expanded, aria-controls).
 * Opening moves focus to the first link; Escape closes and gives focus back
 * to the button; following a link closes the menu and focuses the page; a
 * press outside closes it. The awaiting count shows on the button too.
 *
 * The page sits in a `PrintFrame`: printed, the marking its page declares
 * heads and foots every sheet (print.tsx).
 */
import { type ReactNode, useEffect, useMemo, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, Outlet, useLocation } from 'react-router';
import { ACK_TYPES } from '@parley/core';
import { query } from '../api.js';
import { useEventStatus, useEvents } from '../events.js';
import { useApi } from '../hooks.js';
import type { DeadlinesResponse } from '../types.js';
import { formatTime, timeOptions, useNow } from './time.js';
import { concernsBox, useLiveReload } from '../live.js';
import { AlertBanner, AlertSettings, useAlerts } from './alerts.js';
import { setLanguage, UI_LANGUAGES, type UiLang } from '../i18n.js';
import { useSession } from '../session.js';
import { useParty } from '../party.js';
import { CloseIcon, GlobeIcon, MenuIcon } from './icons.js';
import { PrintFrame } from './print.js';

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
 * live events; each badge judges them overdue against the clock as it ticks
 * (so only the badges re-render every second, not the shell).
 */
function useAwaiting(): readonly DeadlinesResponse['items'][number][] {
  const { data, reload } = useApi<DeadlinesResponse>(`/v1/deadlines${query({ direction: 'received', open: 'true', limit: 1000 })}`);
  const us = useParty();
  // Only what comes in to us and deliveries to us, coalesced (live.ts).
  useLiveReload((e) => concernsBox(e, 'in', us, ACK_TYPES), reload);
  return useMemo(() => (data?.items ?? []).filter((d) => d.ackDueAt !== undefined && d.ack === undefined), [data]);
}

function InboxBadge({ waiting, testId }: { waiting: ReturnType<typeof useAwaiting>; testId: string }) {
  const { t } = useTranslation();
  const now = useNow();
  const pending = waiting.length;
  const overdue = waiting.filter((d) => d.state === 'overdue-ack' || Date.parse(d.ackDueAt!) <= now).length;
  if (pending === 0) return null;
  return (
    <>
      {' '}
      <span className={`nav-count ${overdue > 0 ? 'nav-count-overdue' : ''}`} data-testid={testId} data-overdue={overdue}>
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
  { to: '/evaluations', key: 'nav.evaluations' },
  { to: '/accord', key: 'nav.accord' },
  { to: '/glossary', key: 'glossary:title' },
];

/**
 * The phone's menu: open/closed, with the focus moves and the ways to close
 * it (Escape, a followed link, a press outside the header and navigation).
 */
function useMenu() {
  const [open, setOpen] = useState(false);
  const button = useRef<HTMLButtonElement>(null);
  const nav = useRef<HTMLElement>(null);
  const header = useRef<HTMLElement>(null);
  const location = useLocation();
  const openRef = useRef(open);
  openRef.current = open;
  // A followed link: close, and put focus on the page (the link is hidden now).
  useEffect(() => {
    if (!openRef.current) return;
    setOpen(false);
    document.getElementById('main')?.focus();
  }, [location.pathname, location.search]);
  useEffect(() => {
    if (!open) return undefined;
    nav.current?.querySelector<HTMLElement>('a[href]')?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      setOpen(false);
      button.current?.focus();
    };
    const onPointer = (e: PointerEvent) => {
      const t = e.target as Node | null;
      if (t !== null && !nav.current?.contains(t) && !header.current?.contains(t)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('pointerdown', onPointer);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('pointerdown', onPointer);
    };
  }, [open]);
  return { open, toggle: () => setOpen((o) => !o), button, nav, header };
}

/** When the page is printed: updated as the browser prepares to print. */
function usePrintedAt(): string {
  const [at, setAt] = useState(() => new Date().toISOString());
  useEffect(() => {
    const update = () => setAt(new Date().toISOString());
    window.addEventListener('beforeprint', update);
    return () => window.removeEventListener('beforeprint', update);
  }, []);
  return at;
}

export function Layout({ children }: { children?: ReactNode }) {
  const { t, i18n } = useTranslation();
  const printedAt = usePrintedAt();
  const { officer, canAct, logout } = useSession();
  const party = useParty();
  const alerts = useAlerts();
  const awaiting = useAwaiting();
  const menu = useMenu();
  return (
    <div className="app" data-menu={menu.open ? 'open' : 'closed'}>
      <a href="#main" className="skip-link">
        {t('skipToContent')}
      </a>
      <header className="topbar" ref={menu.header}>
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
        <button type="button" className="menu-button" ref={menu.button} aria-expanded={menu.open} aria-controls="app-nav app-tools" onClick={menu.toggle} data-testid="menu-button">
          {menu.open ? <CloseIcon /> : <MenuIcon />}
          <span className="menu-label">{t('nav.menu')}</span>
          <InboxBadge waiting={awaiting} testId="menu-awaiting" />
        </button>
        <div className="topbar-right">
          <LiveStatus />
          <div className="topbar-tools" id="app-tools">
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
        </div>
      </header>
      <nav className="sidenav" id="app-nav" aria-label={t('nav.label')} ref={menu.nav}>
        <ul>
          {NAV.filter((n) => canAct || n.to !== '/compose').map((n) => (
            <li key={n.to}>
              <NavLink to={n.to} end={n.end ?? false}>
                {t(n.key)}
                {n.to === '/' ? <InboxBadge waiting={awaiting} testId="nav-awaiting" /> : null}
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        <PrintFrame source={t('printedFrom', { party: party ?? '', officer: officer?.name ?? '', time: formatTime(printedAt, i18n.language, timeOptions(false, true)) })}>
          <AlertBanner state={alerts} />
          {children ?? <Outlet />}
        </PrintFrame>
      </main>
    </div>
  );
}
