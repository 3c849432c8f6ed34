/**
 * Badges for precedence, severity, marking and delivery state. Each carries
 * its text (never colour alone) and a tooltip with the taxonomy's definition
 * in the UI language.
 */
import { type Marking, type Precedence, TAXONOMY_V1, severity as severityOf } from '@parley/core';
import { useTranslation } from 'react-i18next';
import { useLabel } from '../i18n.js';
import type { DeliveryState } from '../types.js';
import { markingClass } from './print.js';

export function PrecedenceBadge({ p }: { p: Precedence }) {
  const { l } = useLabel();
  const term = TAXONOMY_V1.precedences.find((x) => x.code === p);
  return (
    <span className={`badge prec prec-${p.toLowerCase()}`} title={term !== undefined ? l(term.description) : p}>
      {p === 'FLASH' ? <span aria-hidden="true">⚡ </span> : null}
      {term !== undefined ? l(term.label) : p}
    </span>
  );
}

export function SeverityBadge({ level }: { level: number }) {
  const { l } = useLabel();
  const { t } = useTranslation();
  const s = severityOf(TAXONOMY_V1, level);
  return (
    <span className={`badge sev sev-${Math.min(level, 7)}`} title={s !== undefined ? l(s.definition) : ''}>
      {t('severity', { level })}
      {s !== undefined ? ` · ${l(s.name)}` : ''}
    </span>
  );
}

export function MarkingBadge({ m }: { m: Marking }) {
  const { l } = useLabel();
  const term = TAXONOMY_V1.markings.find((x) => x.code === m);
  return (
    <span className={`badge tlp ${markingClass(m)}`} title={term !== undefined ? l(term.definition) : m}>
      {m}
    </span>
  );
}

export function StateBadge({ state }: { state: DeliveryState }) {
  const { t } = useTranslation();
  const icon = state === 'acknowledged' ? '✓' : state.startsWith('overdue') ? '⚠' : state === 'received' ? '↓' : '→';
  return (
    <span className={`badge state state-${state}`}>
      <span aria-hidden="true">{icon} </span>
      {t(`state.${state}`)}
    </span>
  );
}
