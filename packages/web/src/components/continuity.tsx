/**
 * The continuity banner (issue 9, "No rollback"): on every page, while this
 * node may not sign — its log is behind what its peers cosigned (restored
 * backup, lost WAL), is being recovered from their mirrors, or no peer has
 * confirmed it yet — a banner says so and what to do, from GET
 * /v1/continuity (polled: the state changes without an entry event).
 */
import { useEffect } from 'react';
import { useTranslation } from 'react-i18next';
import { useApi } from '../hooks.js';

interface Continuity {
  readonly state: 'unchecked' | 'unconfirmed' | 'confirmed' | 'rolled-back' | 'recovering';
  readonly localSize: number;
  readonly cosignedSize: number;
  readonly cosignedBy: readonly string[];
  readonly detail: string;
}

/** How often the state is read again (ms). */
const POLL_MS = 5_000;

export function ContinuityBanner() {
  const { t } = useTranslation('continuity');
  const { data, reload } = useApi<Continuity>('/v1/continuity');
  useEffect(() => {
    const id = setInterval(reload, POLL_MS);
    return () => clearInterval(id);
  }, [reload]);
  if (data === undefined || data.state === 'confirmed' || data.state === 'unchecked') return null;
  const rolledBack = data.state !== 'unconfirmed';
  const title = rolledBack
    ? t('rolledBack', {
        local: data.localSize,
        cosigned: data.cosignedSize,
        by: data.cosignedBy.join(', '),
      })
    : t('unconfirmed');
  return (
    <div className={rolledBack ? 'error-box continuity-banner' : 'notice continuity-banner'} role="alert" data-state={data.state}>
      <strong>
        <span aria-hidden="true">⚠ </span>
        {title}
      </strong>
      <div className="error-detail">
        {data.detail}
        <code className="error-code"> {rolledBack ? 'LOG_ROLLED_BACK' : 'LOG_UNCONFIRMED'}</code>
      </div>
    </div>
  );
}
