/**
 * An incident report's body, with every coded term shown by its taxonomy
 * label in the UI language (code in the tooltip) and free text tagged with
 * the language it was written in; its MITRE ATLAS techniques and CVEs link to
 * their public pages, and a record taken from a public database (AIID) is
 * shown with the attribution its licence asks for.
 */
import { TAXONOMY_V1, category as categoryOf } from '@parley/core';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { useLabel } from '../i18n.js';
import type { IncidentReportBody } from '../types.js';
import { SeverityBadge } from './badges.js';
import { Time } from './time.js';

function term<C extends string>(list: readonly { code: C; label: { en: string; 'zh-CN': string } }[], code: string, l: (x: { en: string; 'zh-CN': string }) => string): string {
  const x = list.find((t) => t.code === code);
  return x === undefined ? code : l(x.label);
}

export function ReportBody({ r }: { r: IncidentReportBody }) {
  const { t } = useTranslation('entry');
  const { l } = useLabel();
  const cat = categoryOf(TAXONOMY_V1, r.category);
  const lang = r.lang;
  return (
    <div className="report">
      <h2 lang={lang}>{r.title}</h2>
      <dl className="kv">
        <dt>{t('report.incident')}</dt>
        <dd>
          <Link to={`/incidents/${encodeURIComponent(r.incident)}`}>{r.incident}</Link>
        </dd>
        <dt>{t('report.kind')}</dt>
        <dd>{term(TAXONOMY_V1.reportKinds, r.kind, l)}</dd>
        <dt>{t('report.category')}</dt>
        <dd title={cat !== undefined ? l(cat.definition) : ''}>
          {cat !== undefined ? `${l(cat.label)} (${cat.code})` : r.category}
          {cat?.catastrophic === true ? <span className="badge sev sev-7"> {t('report.catastrophic')}</span> : null}
        </dd>
        <dt>{t('report.severity')}</dt>
        <dd>
          <SeverityBadge level={r.severity} />
        </dd>
        <dt>{t('report.stage')}</dt>
        <dd>{term(TAXONOMY_V1.stages, r.stage, l)}</dd>
        <dt>{t('report.system')}</dt>
        <dd lang={lang}>{[r.system.name, r.system.developer, r.system.version].filter((x) => x !== undefined).join(' · ')}</dd>
        <dt>{t('report.actor')}</dt>
        <dd>
          {term(TAXONOMY_V1.actorTypes, r.actor.type, l)}
          {r.actor.description !== undefined ? <span lang={lang}> — {r.actor.description}</span> : null}
        </dd>
        <dt>{t('report.harm')}</dt>
        <dd>
          {r.harm.types.length > 0 ? r.harm.types.map((h) => term(TAXONOMY_V1.harmTypes, h, l)).join(t('report.listSep')) : '—'}
          {r.harm.description !== undefined ? <div lang={lang}>{r.harm.description}</div> : null}
        </dd>
        {r.potential === true ? (
          <>
            <dt>{t('report.potential')}</dt>
            <dd data-testid="report-potential">{t('report.potentialYes')}</dd>
          </>
        ) : null}
        {(r.techniques ?? []).length > 0 ? (
          <>
            <dt>{t('report.techniques')}</dt>
            <dd data-testid="report-techniques">
              {(r.techniques ?? []).map((id, i) => (
                <span key={id}>
                  {i > 0 ? t('report.listSep') : null}
                  <a href={`https://atlas.mitre.org/techniques/${encodeURIComponent(id)}`} target="_blank" rel="noopener noreferrer">
                    {id}
                  </a>
                </span>
              ))}
            </dd>
          </>
        ) : null}
        {(r.cves ?? []).length > 0 ? (
          <>
            <dt>{t('report.cves')}</dt>
            <dd data-testid="report-cves">
              {(r.cves ?? []).map((id, i) => (
                <span key={id}>
                  {i > 0 ? t('report.listSep') : null}
                  <a href={`https://www.cve.org/CVERecord?id=${encodeURIComponent(id)}`} target="_blank" rel="noopener noreferrer">
                    {id}
                  </a>
                </span>
              ))}
            </dd>
          </>
        ) : null}
        {r.source !== undefined ? (
          <>
            <dt>{t('report.source')}</dt>
            <dd data-testid="report-source">
              {t('report.sourceText', { name: r.source.name, id: r.source.id, license: r.source.license })}
              {r.source.url !== undefined && /^https?:\/\//.test(r.source.url) ? (
                <>
                  {' '}
                  <a href={r.source.url} target="_blank" rel="noopener noreferrer">
                    {r.source.url}
                  </a>
                </>
              ) : null}
            </dd>
          </>
        ) : null}
        {r.occurredAt !== undefined ? (
          <>
            <dt>{t('report.occurredAt')}</dt>
            <dd>
              <Time iso={r.occurredAt} />
            </dd>
          </>
        ) : null}
        {r.detectedAt !== undefined ? (
          <>
            <dt>{t('report.detectedAt')}</dt>
            <dd>
              <Time iso={r.detectedAt} />
            </dd>
          </>
        ) : null}
      </dl>
      <h3>{t('report.summary')}</h3>
      <div className="body-text" lang={lang}>
        {r.summary}
      </div>
      <h3>{t('report.mitigations')}</h3>
      {r.mitigations.length === 0 ? (
        <p className="muted">—</p>
      ) : (
        <ul lang={lang}>
          {r.mitigations.map((m, i) => (
            <li key={i}>{m}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
