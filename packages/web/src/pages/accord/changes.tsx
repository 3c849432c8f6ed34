/**
 * An amendment's changes as sentences (model.ts `Change`, i18n
 * `accord:change.*`): parties joining and leaving, keys rotated (shown by
 * name and key id, the whole key on hover and for screen readers in the
 * `title`), deadlines, quorum and officers' roles old → new.
 */
import type { Localized } from '@parley/core';
import { useTranslation } from 'react-i18next';
import { formatDuration } from '../../components/time.js';
import { useLabel } from '../../i18n.js';
import { type Change, type RedLineText, shortKey } from './model.js';

function Key({ value }: { value: unknown }) {
  if (value === undefined) return <span className="muted">—</span>;
  return (
    <code className="mono key-short" title={typeof value === 'string' ? value : undefined}>
      {shortKey(value)}
    </code>
  );
}

const isLocalized = (v: unknown): v is Localized => typeof v === 'object' && v !== null && 'en' in v;

export function ChangeText({ c }: { c: Change }) {
  const { t, i18n } = useTranslation('accord');
  const { l } = useLabel();
  const dur = (s: number | undefined) => (s === undefined ? '—' : formatDuration(s * 1000, i18n.language));
  const text = (v: unknown): string => (v === undefined ? '—' : isLocalized(v) ? l(v) : Array.isArray(v) ? v.join(' ') : typeof v === 'string' || typeof v === 'number' ? String(v) : JSON.stringify(v));
  const lines = (rs: readonly RedLineText[]) => (rs.length === 0 ? '—' : rs.map((r) => `${r.category} ≥ ${r.minSeverity}`).join(', '));
  switch (c.kind) {
    case 'party.added':
      return (
        <>
          <span className="badge state-acknowledged">+</span> {t('change.partyAdded', { party: c.party, name: c.to?.names !== undefined ? l(c.to.names) : c.party })}
        </>
      );
    case 'party.removed':
      return (
        <>
          <span className="badge state-overdue-ack">−</span> {t('change.partyRemoved', { party: c.party })}
        </>
      );
    case 'party.logKey':
    case 'party.witnessKey':
    case 'party.hpkeKey':
      return (
        <>
          <span className="badge">⟳</span> {t(`change.${c.kind === 'party.logKey' ? 'logKey' : c.kind === 'party.witnessKey' ? 'witnessKey' : 'hpkeKey'}`, { party: c.party })}{' '}
          <span className="change-values">
            <Key value={c.from} /> → <Key value={c.to} />
          </span>
        </>
      );
    case 'party.urls':
    case 'party.names':
      return (
        <>
          {t(c.kind === 'party.urls' ? 'change.urls' : 'change.names', { party: c.party })}{' '}
          <span className="change-values">
            {text(c.from)} → {text(c.to)}
          </span>
        </>
      );
    case 'party.other':
      return <>{t('change.partyOther', { party: c.party, field: c.field === '' ? '—' : c.field })}</>;
    case 'deadline': {
      const [group, key] = c.field.split('.');
      const what =
        group === 'ackSeconds' ? t('change.deadlineAck', { p: key }) : group === 'initialReportSeconds' ? t('change.deadlineInitial', { s: key }) : group === 'receiptSeconds' ? t('change.deadlineReceipt') : c.field;
      return (
        <>
          {what}: {dur(c.from)} → {dur(c.to)}
        </>
      );
    }
    case 'heartbeat':
      return <>{t('change.heartbeat', { from: dur(c.from), to: dur(c.to) })}</>;
    case 'quorum':
      return <>{t('change.quorum', { from: c.from ?? '—', to: c.to ?? '—' })}</>;
    case 'redLines':
      return <>{t('change.redLines', { added: lines(c.added), removed: lines(c.removed) })}</>;
    case 'taxonomy': {
      const tx = (v: unknown) => (typeof v === 'object' && v !== null && 'id' in v ? `${String((v as { id: unknown }).id)} v${String((v as { version?: unknown }).version ?? '')}` : text(v));
      return <>{t('change.taxonomy', { from: tx(c.from), to: tx(c.to) })}</>;
    }
    case 'title':
    case 'name':
    case 'created':
      return <>{t(`change.${c.kind}`, { from: text(c.from), to: text(c.to) })}</>;
    case 'roles': {
      const who = (v: readonly string[] | undefined) => (v === undefined ? '—' : v.map((r) => t(`common:role.${r}`)).join(t('change.rolesSeparator')));
      return <>{t('change.roles', { action: t(`change.roleAction.${c.action}`, { defaultValue: c.action }), from: who(c.from), to: who(c.to) })}</>;
    }
    case 'other':
      return <>{t('change.other', { path: c.path, from: text(c.from), to: text(c.to) })}</>;
  }
}

/** The list of an amendment's changes (or a line saying there are none). */
export function ChangeList({ changes, testId }: { changes: readonly Change[]; testId?: string }) {
  const { t } = useTranslation('accord');
  if (changes.length === 0) return <p className="muted">{t('change.none')}</p>;
  return (
    <ul className="change-list" data-testid={testId}>
      {changes.map((c, i) => (
        <li key={i} data-kind={c.kind}>
          <ChangeText c={c} />
        </li>
      ))}
    </ul>
  );
}
