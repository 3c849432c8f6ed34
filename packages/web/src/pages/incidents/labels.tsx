/** Taxonomy labels for incidents: lifecycle status (icon + word) and category (code + label), in the UI language. */
import { type Category, TAXONOMY_V1, category as categoryOf } from '@parley/core';
import { useLabel } from '../../i18n.js';

export function StatusBadge({ status }: { status: string }) {
  const { l } = useLabel();
  const term = TAXONOMY_V1.lifecycleStates.find((s) => s.code === status);
  const icon = status === 'final' ? '■' : status === 'retracted' ? '⊘' : status === 'updated' ? '↻' : '●';
  return (
    <span className={`badge lifecycle lifecycle-${status}`} title={term !== undefined ? l(term.definition) : status}>
      <span aria-hidden="true">{icon} </span>
      {term !== undefined ? l(term.label) : status}
    </span>
  );
}

export function CategoryLabel({ code }: { code: string }) {
  const { l } = useLabel();
  const c: Category | undefined = categoryOf(TAXONOMY_V1, code);
  return (
    <span title={c !== undefined ? l(c.definition) : code}>
      <code className="cat-code">{code}</code> <span className="cat-label">{c !== undefined ? l(c.label) : ''}</span>
    </span>
  );
}

