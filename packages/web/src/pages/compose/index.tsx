/**
 * Compose: a hotline message or an incident report, as two tabs (arrow keys
 * move between them, WAI-ARIA Authoring Practices "Tabs"). `?tab=report&incident=ID`
 * opens the report tab threading onto that incident. Auditors cannot send.
 */
import { useRef, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { useSearchParams } from 'react-router';
import { useAccord } from '../../accord.js';
import { ErrorBox, PageHeader } from '../../components/feedback.js';
import { useParty } from '../../party.js';
import { useSession } from '../../session.js';
import { MessageForm } from './message.js';
import { ReportForm } from './report.js';

const TABS = ['message', 'report'] as const;
type Tab = (typeof TABS)[number];

export function ComposePage() {
  const { t } = useTranslation('compose');
  const { canAct } = useSession();
  const us = useParty();
  const { accord, error } = useAccord();
  const [params, setParams] = useSearchParams();
  const tab: Tab = params.get('tab') === 'report' ? 'report' : 'message';
  const incident = params.get('incident') ?? undefined;
  const refs = useRef<Record<Tab, HTMLButtonElement | null>>({ message: null, report: null });
  const select = (next: Tab) => {
    const p = new URLSearchParams(params);
    p.set('tab', next);
    setParams(p, { replace: true });
  };
  const onKey = (e: KeyboardEvent) => {
    if (e.key !== 'ArrowRight' && e.key !== 'ArrowLeft') return;
    const next = TABS[(TABS.indexOf(tab) + 1) % TABS.length]!;
    select(next);
    refs.current[next]?.focus();
  };
  if (!canAct) {
    return (
      <>
        <PageHeader title={t('title')} />
        <p className="notice">{t('auditorCannot')}</p>
      </>
    );
  }
  return (
    <>
      <PageHeader title={t('title')} />
      <ErrorBox error={error} />
      <div className="tabs" role="tablist" aria-label={t('title')} onKeyDown={onKey}>
        {TABS.map((x) => (
          <button
            key={x}
            ref={(el) => {
              refs.current[x] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${x}`}
            aria-selected={tab === x}
            aria-controls={`panel-${x}`}
            tabIndex={tab === x ? 0 : -1}
            onClick={() => select(x)}
            data-testid={`tab-${x}`}
          >
            {t(`tabs.${x}`)}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${tab}`} aria-labelledby={`tab-${tab}`} className="card">
        {tab === 'message' ? <MessageForm accord={accord} us={us} /> : <ReportForm key={incident ?? ''} accord={accord} us={us} initialIncident={incident} />}
      </div>
    </>
  );
}
