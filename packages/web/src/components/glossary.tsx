/**
 * Links into the glossary (/glossary#term) from where its words appear:
 *
 *   <GlossaryHint term="witness" />         a small "?" after a label; its words
 *                                           ("What does “Witness” mean?") are
 *                                           visually hidden, the short definition
 *                                           is its tooltip
 *   <TermLink term="receipt">receipt</TermLink>   the word itself, dotted underline
 *
 * The terms and their order are here; their words are in locales/<lang>/glossary.json.
 */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';

/** The glossary's terms by group, in reading order; each id is its anchor on /glossary. */
export const GLOSSARY_GROUPS = [
  { group: 'hotline', terms: ['accord', 'precedence', 'tlp', 'receipt', 'acknowledgement', 'heartbeat', 'sealed'] },
  { group: 'log', terms: ['log', 'checkpoint', 'witness', 'cosignature', 'inclusion-proof', 'fork'] },
  { group: 'evaluation', terms: ['commitment', 'reveal', 'timestamp'] },
] as const;

export type GlossaryTerm = (typeof GLOSSARY_GROUPS)[number]['terms'][number];

export function glossaryHref(term: GlossaryTerm): string {
  return `/glossary#${term}`;
}

export function GlossaryHint({ term }: { term: GlossaryTerm }) {
  const { t } = useTranslation('glossary');
  return (
    <Link to={glossaryHref(term)} className="glossary-hint" title={t(`terms.${term}.short`)} data-glossary={term}>
      <span aria-hidden="true">?</span>
      <span className="visually-hidden">{t('hint', { term: t(`terms.${term}.name`) })}</span>
    </Link>
  );
}

export function TermLink({ term, children }: { term: GlossaryTerm; children: ReactNode }) {
  const { t } = useTranslation('glossary');
  return (
    <Link to={glossaryHref(term)} className="term-link" title={t(`terms.${term}.short`)} data-glossary={term}>
      {children}
    </Link>
  );
}
