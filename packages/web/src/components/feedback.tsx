/**
 * Page furniture shared by every page: a titled page header, an error box
 * for an ApiError (localized by code where we have words for it, the node's
 * own detail underneath), and a loading line.
 */
import { useEffect, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiError } from '../api.js';

export function PageHeader({ title, children }: { title: string; children?: ReactNode }) {
  const { t } = useTranslation();
  useEffect(() => {
    document.title = `${title} — ${t('appName')}`;
  }, [title, t]);
  return (
    <div className="page-header">
      <h1>{title}</h1>
      {children !== undefined ? <div className="page-actions">{children}</div> : null}
    </div>
  );
}

export function ErrorBox({ error }: { error: ApiError | Error | undefined }) {
  const { t } = useTranslation();
  if (error === undefined) return null;
  const code = 'code' in error ? String(error.code) : '';
  const known = code !== '' && t(`errors.${code}`, { defaultValue: '' }) !== '';
  return (
    <div className="error-box" role="alert">
      <strong>
        <span aria-hidden="true">⚠ </span>
        {known ? t(`errors.${code}`) : t('errors.generic')}
      </strong>
      <div className="error-detail">
        {error.message}
        {code !== '' ? <code className="error-code"> {code}</code> : null}
      </div>
    </div>
  );
}

export function Loading() {
  const { t } = useTranslation();
  return (
    <p className="loading" role="status">
      {t('loading')}
    </p>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <p className="empty">{children}</p>;
}
