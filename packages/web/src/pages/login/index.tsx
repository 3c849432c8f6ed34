/**
 * Login with one of the node's officer accounts (POST /v1/sessions). The
 * language switch is here too, so an officer can read the form in their
 * language before signing in.
 */
import { useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { Navigate, useLocation, useNavigate } from 'react-router';
import { ApiError } from '../../api.js';
import { LanguageSwitch } from '../../components/layout.js';
import { useSession } from '../../session.js';
import { useParty } from '../../party.js';

export function LoginPage() {
  const { t } = useTranslation('login');
  const { session, login } = useSession();
  const navigate = useNavigate();
  const location = useLocation();
  const party = useParty();
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const state = location.state as { expired?: boolean; from?: string } | null;
  const expired = state?.expired === true;
  // Back to the page that needed the session (a deep link), never off-site.
  const back = typeof state?.from === 'string' && state.from.startsWith('/') && !state.from.startsWith('//') && state.from !== '/login' ? state.from : '/';

  if (session !== undefined) return <Navigate to={back} replace />;

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (name.trim() === '' || password === '') {
      setError(t('missing'));
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await login(name.trim(), password);
      navigate(back, { replace: true });
    } catch (err) {
      if (err instanceof ApiError && (err.status === 401 || err.status === 400)) setError(t('invalid'));
      else if (err instanceof ApiError && err.status === 429) setError(t('tooMany'));
      else setError(t('unreachable'));
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="login-page">
      <div className="login-lang">
        <LanguageSwitch />
      </div>
      <form className="login-card card" onSubmit={(e) => void submit(e)} noValidate aria-labelledby="login-title">
        <h1 id="login-title">
          <span aria-hidden="true">⇄ </span>
          {t('title')}
        </h1>
        <p className="muted">{party !== undefined ? t('subtitleParty', { party }) : t('subtitle')}</p>
        {expired ? (
          <p className="notice" role="status">
            {t('expired')}
          </p>
        ) : null}
        <div className="field">
          <label htmlFor="login-name">{t('name')}</label>
          <input id="login-name" name="username" autoComplete="username" value={name} onChange={(e) => setName(e.target.value)} autoFocus required />
        </div>
        <div className="field">
          <label htmlFor="login-password">{t('password')}</label>
          <input id="login-password" name="password" type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} required />
        </div>
        {error !== undefined ? (
          <p className="field-error" role="alert" id="login-error">
            <span aria-hidden="true">⚠ </span>
            {error}
          </p>
        ) : null}
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? t('signingIn') : t('signIn')}
        </button>
      </form>
    </div>
  );
}
