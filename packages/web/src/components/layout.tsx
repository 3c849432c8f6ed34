/**
 * The app shell: a skip link, the header (party, officer, live status,
 * language switch, log out), the navigation and the page. Navigation is a
 * list of links (Tab/Enter), the current page marked `aria-current`.
 */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { NavLink, Outlet } from 'react-router';
import { useEventStatus, useEvents } from '../events.js';
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

const NAV: readonly { to: string; key: string; end?: boolean }[] = [
  { to: '/', key: 'nav.inbox', end: true },
  { to: '/outbox', key: 'nav.outbox' },
  { to: '/compose', key: 'nav.compose' },
  { to: '/incidents', key: 'nav.incidents' },
  { to: '/links', key: 'nav.links' },
  { to: '/log', key: 'nav.log' },
  { to: '/compliance', key: 'nav.compliance' },
  { to: '/accord', key: 'nav.accord' },
];

export function Layout({ children }: { children?: ReactNode }) {
  const { t } = useTranslation();
  const { officer, canAct, logout } = useSession();
  const party = useParty();
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
              </NavLink>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {children ?? <Outlet />}
      </main>
    </div>
  );
}
