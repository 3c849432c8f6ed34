/**
 * Glossary (/glossary): the dashboard's terms in plain words for a duty
 * officer, in the UI language with the other language's name beside each
 * (officers of both parties talk about the same thing). Each term is a
 * section whose id is its anchor (/glossary#witness); arriving on one, the
 * page scrolls to it, marks it and moves focus to its heading, so a screen
 * reader starts there. Precedences and TLP markings list their levels from
 * core's bilingual taxonomy, not a second copy.
 */
import { TAXONOMY_V1 } from '@parley/core';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useLocation } from 'react-router';
import { PageHeader } from '../../components/feedback.js';
import { GLOSSARY_GROUPS, type GlossaryTerm } from '../../components/glossary.js';
import { useLabel } from '../../i18n.js';
import './glossary.css';

/** Terms a reader of one usually needs next. */
const RELATED: Readonly<Record<GlossaryTerm, readonly GlossaryTerm[]>> = {
  accord: ['precedence', 'heartbeat'],
  precedence: ['acknowledgement'],
  tlp: ['sealed'],
  receipt: ['acknowledgement'],
  acknowledgement: ['receipt', 'precedence'],
  heartbeat: [],
  sealed: ['tlp'],
  log: ['checkpoint'],
  checkpoint: ['log', 'witness'],
  witness: ['cosignature', 'checkpoint'],
  cosignature: ['witness', 'checkpoint'],
  'inclusion-proof': ['checkpoint', 'log'],
  fork: ['checkpoint', 'witness'],
  commitment: ['reveal', 'timestamp'],
  reveal: ['commitment', 'sealed'],
  timestamp: ['cosignature', 'checkpoint'],
};

function Levels({ term }: { term: GlossaryTerm }) {
  const { t } = useTranslation('glossary');
  const { l } = useLabel();
  const rows =
    term === 'tlp'
      ? TAXONOMY_V1.markings.map((m) => ({ code: m.code, text: l(m.definition) }))
      : term === 'precedence'
        ? TAXONOMY_V1.precedences.map((p) => ({ code: `${p.code} · ${l(p.label)}`, text: l(p.description) }))
        : [];
  if (rows.length === 0) return null;
  return (
    <>
      <p className="glossary-levels-title">{t('levels')}</p>
      <dl className="glossary-levels">
        {rows.map((r) => (
          <div key={r.code}>
            <dt>{r.code}</dt>
            <dd>{r.text}</dd>
          </div>
        ))}
      </dl>
    </>
  );
}

function Term({ term, target }: { term: GlossaryTerm; target: boolean }) {
  const { t, i18n } = useTranslation('glossary');
  const other = i18n.language === 'zh-CN' ? 'en' : 'zh-CN';
  const otherName = i18n.getFixedT(other, 'glossary')(`terms.${term}.name`);
  return (
    <section id={term} className={`glossary-term${target ? ' glossary-target' : ''}`} aria-labelledby={`${term}-h`} data-testid={`term-${term}`} data-target={target ? 'true' : 'false'}>
      <h3 id={`${term}-h`} tabIndex={-1}>
        {t(`terms.${term}.name`)}{' '}
        <span className="glossary-other">
          · <span lang={other}>{otherName}</span>
        </span>
      </h3>
      <p>{t(`terms.${term}.body`)}</p>
      <Levels term={term} />
      <p className="muted small">
        <strong>{t('seeOn')}</strong> {t(`terms.${term}.seeOn`)}
      </p>
      {RELATED[term].length > 0 ? (
        <p className="small">
          <strong>{t('seeAlso')}</strong>{' '}
          {RELATED[term].map((r, i) => (
            <span key={r}>
              {i > 0 ? t('listSep') : null}
              <Link to={{ hash: r }}>{t(`terms.${r}.name`)}</Link>
            </span>
          ))}
        </p>
      ) : null}
    </section>
  );
}

export function GlossaryPage() {
  const { t } = useTranslation('glossary');
  const { hash } = useLocation();
  const [target, setTarget] = useState<string | undefined>(undefined);
  useEffect(() => {
    const id = decodeURIComponent(hash.replace(/^#/, ''));
    setTarget(id === '' ? undefined : id);
    if (id === '') return;
    // After the render that marks it: scroll the term to the top and give its heading focus.
    const timer = setTimeout(() => {
      const h = document.getElementById(`${id}-h`);
      if (h === null) return;
      h.focus({ preventScroll: true });
      document.getElementById(id)?.scrollIntoView({ block: 'start' });
    }, 0);
    return () => clearTimeout(timer);
  }, [hash]);
  return (
    <>
      <PageHeader title={t('title')} />
      <p className="glossary-intro">{t('intro')}</p>
      <nav className="glossary-contents card" aria-labelledby="glossary-contents-h">
        <h2 id="glossary-contents-h">{t('contents')}</h2>
        <ul>
          {GLOSSARY_GROUPS.flatMap((g) => g.terms).map((term) => (
            <li key={term}>
              <Link to={{ hash: term }}>{t(`terms.${term}.name`)}</Link>
            </li>
          ))}
        </ul>
      </nav>
      {GLOSSARY_GROUPS.map((g) => (
        <section key={g.group} className="glossary-group" aria-labelledby={`glossary-${g.group}`}>
          <h2 id={`glossary-${g.group}`}>{t(`groups.${g.group}`)}</h2>
          {g.terms.map((term) => (
            <Term key={term} term={term} target={term === target} />
          ))}
        </section>
      ))}
    </>
  );
}
