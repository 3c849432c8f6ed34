/**
 * Compose an incident report from the bilingual taxonomy → POST /v1/reports.
 *
 * An initial report opens an incident (this party's id + a local id); an
 * update, final report or retraction threads onto an existing incident: the
 * officer picks it, the form starts from its latest readable report, and the
 * entry references (refs) the incident's first and latest report entries so
 * every party's timeline links them.
 *
 * The severity's definition, default precedence and acknowledgement deadline
 * are shown as it is chosen; a category and severity on one of the accord's
 * red lines is flagged (the node then sends FLASH to every party).
 */
import { ACTOR_TYPES, HARM_TYPES, REPORT_KINDS, STAGES, TAXONOMY_V1, category as categoryOf, severity as severityOf, type ActorType, type HarmType, type Marking, type Precedence, type Stage } from '@parley/core';
import { useEffect, useMemo, useState, type FormEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { api, query } from '../../api.js';
import type { AccordInfo } from '../../accord.js';
import { formatDuration } from '../../components/time.js';
import { currentLang, useLabel } from '../../i18n.js';
import type { EntryRef, EntryView, IncidentReportBody, ListResponse, ReportKind, Submitted } from '../../types.js';
import { LangSelect, LinkDownWarning, MarkingSelect, PrecedenceSelect, Recipients, useDownLinks } from './common.js';
import { Field, SendStatus, fid, useSend, type FieldErrors } from './fields.js';

const INCIDENT_ID = /^[A-Z][A-Z0-9-]{1,15}:[A-Za-z0-9._-]{4,40}$/;
const FIELDS = [
  'to', 'precedence', 'marking', 'refs',
  'report.incident', 'report.kind', 'report.title', 'report.summary', 'report.category', 'report.severity', 'report.stage',
  'report.system.name', 'report.system.developer', 'report.system.version', 'report.system',
  'report.actor.type', 'report.actor.description', 'report.harm.types', 'report.harm.description', 'report.harm',
  'report.mitigations', 'report.occurredAt', 'report.detectedAt', 'report.lang',
] as const;

/** A known incident: its id and its report entries, oldest first. */
interface KnownIncident {
  id: string;
  reports: EntryView[];
}

function newIncidentId(us: string | undefined): string {
  const d = new Date();
  const p = (n: number) => String(n).padStart(2, '0');
  return `${us ?? 'XX'}:${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}-${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}`;
}

/** datetime-local value (viewer's zone) → RFC 3339 UTC; '' → undefined. */
function toIso(local: string): string | undefined {
  if (local === '') return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
function toLocal(iso: string | undefined): string {
  if (iso === undefined) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
}

/** Every incident with a report we sent or received, from the outbox and inbox (?type=incident.report). */
async function loadIncidents(): Promise<KnownIncident[]> {
  const [inb, outb] = await Promise.all([
    api<ListResponse>(`/v1/inbox${query({ type: 'incident.report', limit: 200 })}`),
    api<ListResponse>(`/v1/outbox${query({ type: 'incident.report', limit: 200 })}`),
  ]);
  const byId = new Map<string, EntryView[]>();
  for (const v of [...inb.items, ...outb.items]) {
    const id = (v.body as { incident?: unknown } | undefined)?.incident;
    if (typeof id !== 'string') continue;
    const list = byId.get(id) ?? [];
    list.push(v);
    byId.set(id, list);
  }
  return [...byId.entries()]
    .map(([id, reports]) => ({ id, reports: reports.sort((a, b) => Date.parse(a.entry.time) - Date.parse(b.entry.time)) }))
    .sort((a, b) => Date.parse(b.reports[b.reports.length - 1]!.entry.time) - Date.parse(a.reports[a.reports.length - 1]!.entry.time));
}

export interface ReportFormProps {
  accord: AccordInfo | undefined;
  us: string | undefined;
  /** Preselected incident (from an entry page's "send an update"). */
  initialIncident?: string | undefined;
}

export function ReportForm({ accord, us, initialIncident }: ReportFormProps) {
  const { t, i18n } = useTranslation('compose');
  const { l } = useLabel();
  const [kind, setKind] = useState<ReportKind>(initialIncident !== undefined ? 'update' : 'initial');
  const [incidentId, setIncidentId] = useState(() => newIncidentId(us));
  const [threadId, setThreadId] = useState(initialIncident ?? '');
  const [known, setKnown] = useState<KnownIncident[]>([]);
  const [title, setTitle] = useState('');
  const [summary, setSummary] = useState('');
  const [cat, setCat] = useState('');
  const [sev, setSev] = useState<number | undefined>(undefined);
  const [stage, setStage] = useState<Stage>('incident');
  const [sysName, setSysName] = useState('');
  const [sysDev, setSysDev] = useState('');
  const [sysVer, setSysVer] = useState('');
  const [actorType, setActorType] = useState<ActorType>('unknown');
  const [actorDesc, setActorDesc] = useState('');
  const [harmTypes, setHarmTypes] = useState<HarmType[]>([]);
  const [harmDesc, setHarmDesc] = useState('');
  const [mitigations, setMitigations] = useState<string[]>(['']);
  const [occurredAt, setOccurredAt] = useState('');
  const [detectedAt, setDetectedAt] = useState('');
  const [lang, setLang] = useState<string>(currentLang());
  const [marking, setMarking] = useState<Marking>('TLP:AMBER');
  const [precedence, setPrecedence] = useState<Precedence | ''>('');
  const [to, setTo] = useState<string[]>([]);
  const downLinks = useDownLinks();
  const [anyway, setAnyway] = useState(false);
  // validate() is hoisted; it reads the consts below only when it runs (after render).
  const form = useSend(FIELDS, validate, [kind, incidentId, threadId, title, summary, cat, sev, stage, sysName, actorType, harmTypes, mitigations, occurredAt, detectedAt, precedence, to, anyway, downLinks.join()]);
  const { errors, busy, sent } = form;

  useEffect(() => {
    if (accord !== undefined && to.length === 0) setTo(accord.accord.parties.map((p) => p.id).filter((p) => p !== us));
  }, [accord, us]); // only when the accord first arrives (the officer may then change it)
  useEffect(() => {
    if (us !== undefined && incidentId.startsWith('XX:')) setIncidentId(newIncidentId(us));
  }, [us, incidentId]);
  useEffect(() => {
    void loadIncidents().then(setKnown, () => undefined);
  }, [sent]);

  const thread = known.find((k) => k.id === threadId);
  // Start an update from the incident's latest readable report.
  useEffect(() => {
    if (kind === 'initial' || thread === undefined) return;
    const latest = [...thread.reports].reverse().find((r) => typeof r.body === 'object' && r.body !== null);
    if (latest === undefined) return;
    const b = latest.body as IncidentReportBody;
    setTitle(b.title);
    setCat(b.category);
    setSev(b.severity);
    setStage(b.stage);
    setSysName(b.system.name);
    setSysDev(b.system.developer ?? '');
    setSysVer(b.system.version ?? '');
    setActorType(b.actor.type);
    setActorDesc(b.actor.description ?? '');
    setHarmTypes([...b.harm.types]);
    setHarmDesc(b.harm.description ?? '');
    setMitigations(b.mitigations.length > 0 ? [...b.mitigations] : ['']);
    setOccurredAt(toLocal(b.occurredAt));
    setDetectedAt(toLocal(b.detectedAt));
    setMarking(latest.entry.marking);
    setSummary('');
  }, [kind, thread]);

  const category = cat === '' ? undefined : categoryOf(TAXONOMY_V1, cat);
  const level = sev === undefined ? undefined : severityOf(TAXONOMY_V1, sev);
  const redLine = useMemo(() => (accord !== undefined && sev !== undefined ? accord.accord.redLines.some((r) => r.category === cat && sev >= r.minSeverity) : false), [accord, cat, sev]);
  // A red line goes to every party; either way, warn about recipients whose link is down.
  const downTo = (redLine ? (accord?.accord.parties.map((p) => p.id).filter((p) => p !== us) ?? []) : to).filter((p) => downLinks.includes(p));
  const refs: EntryRef[] = useMemo(() => {
    if (kind === 'initial' || thread === undefined) return [];
    const first = thread.reports[0]!;
    const last = thread.reports[thread.reports.length - 1]!;
    const list = [first, last].map((v) => ({ party: v.party, index: v.index, hash: v.leafHash }));
    return list.filter((r, i) => list.findIndex((x) => x.party === r.party && x.index === r.index) === i);
  }, [kind, thread]);

  function validate(): FieldErrors {
    const e: FieldErrors = {};
    const id = kind === 'initial' ? incidentId : threadId;
    if (kind !== 'initial' && threadId === '') e['report.incident'] = t('validation.pickIncident');
    else if (!INCIDENT_ID.test(id)) e['report.incident'] = t('validation.incidentId');
    if (title.trim() === '') e['report.title'] = t('validation.title');
    if (summary.trim() === '') e['report.summary'] = t('validation.summary_field');
    if (cat === '') e['report.category'] = t('validation.category');
    if (sev === undefined) e['report.severity'] = t('validation.severity');
    if (sysName.trim() === '') e['report.system.name'] = t('validation.systemName');
    if (!redLine && to.length === 0) e['to'] = t('validation.recipients');
    else if (downTo.length > 0 && !anyway) e['to'] = t('linkDown.required');
    const occ = toIso(occurredAt);
    const det = toIso(detectedAt);
    if (occ !== undefined && det !== undefined && Date.parse(det) < Date.parse(occ)) e['report.detectedAt'] = t('validation.detectedBeforeOccurred');
    if (det !== undefined && Date.parse(det) > Date.now() + 60_000) e['report.detectedAt'] = t('validation.future');
    if (occ !== undefined && Date.parse(occ) > Date.now() + 60_000) e['report.occurredAt'] = t('validation.future');
    return e;
  }

  async function submit(ev: FormEvent) {
    const occ = toIso(occurredAt);
    const det = toIso(detectedAt);
    const report: IncidentReportBody = {
      incident: kind === 'initial' ? incidentId : threadId,
      kind,
      title: title.trim(),
      summary: summary.trim(),
      category: cat,
      severity: sev!,
      stage,
      system: { name: sysName.trim(), ...(sysDev.trim() !== '' ? { developer: sysDev.trim() } : {}), ...(sysVer.trim() !== '' ? { version: sysVer.trim() } : {}) },
      actor: { type: actorType, ...(actorDesc.trim() !== '' ? { description: actorDesc.trim() } : {}) },
      harm: { types: harmTypes, ...(harmDesc.trim() !== '' ? { description: harmDesc.trim() } : {}) },
      mitigations: mitigations.map((m) => m.trim()).filter((m) => m !== ''),
      ...(occ !== undefined ? { occurredAt: occ } : {}),
      ...(det !== undefined ? { detectedAt: det } : {}),
      lang,
    };
    const r = await form.send(ev, () =>
      api<Submitted>('/v1/reports', {
        body: { ...(redLine ? {} : { to }), ...(precedence !== '' ? { precedence } : {}), marking, report, ...(refs.length > 0 ? { refs } : {}) },
      }),
    );
    if (r === undefined) return;
    if (kind === 'initial') {
      setThreadId(incidentId);
      setIncidentId(newIncidentId(us));
    }
    setSummary('');
  }

  const kindTerm = TAXONOMY_V1.reportKinds.find((k) => k.code === kind);
  const defaultPrec = level !== undefined ? t('precedenceFromSeverity', { p: level.precedence }) : t('precedenceDefaultHint');

  return (
    <form onSubmit={(e) => void submit(e)} noValidate aria-label={t('tabs.report')} data-testid="report-form">
      <SendStatus state={form} />

      <fieldset>
        <legend>{t('report.kind')}</legend>
        <div className="checks" role="radiogroup" aria-describedby="kind-hint">
          {REPORT_KINDS.map((k) => {
            const term = TAXONOMY_V1.reportKinds.find((x) => x.code === k);
            return (
              <label key={k}>
                <input type="radio" name="kind" value={k} checked={kind === k} onChange={() => setKind(k)} data-testid={`kind-${k}`} />
                {term !== undefined ? l(term.label) : k}
              </label>
            );
          })}
        </div>
        <p className="hint" id="kind-hint">
          {kindTerm !== undefined ? l(kindTerm.definition) : ''}
        </p>
        {kind === 'initial' ? (
          <Field id={fid('report.incident')} label={t('report.incidentNew')} hint={t('report.incidentNewHint')} error={errors['report.incident']}>
            {(p) => <input {...p} value={incidentId} onChange={(e) => setIncidentId(e.target.value)} className="mono" data-testid="incident-id" />}
          </Field>
        ) : (
          <Field id={fid('report.incident')} label={t('report.incidentExisting')} hint={refs.length > 0 ? t('report.threadsOnto', { refs: refs.map((r) => `${r.party}/${r.index}`).join(', ') }) : t('report.incidentExistingHint')} error={errors['report.incident']}>
            {(p) => (
              <select {...p} value={threadId} onChange={(e) => setThreadId(e.target.value)} data-testid="incident-select">
                <option value="">{t('report.pickIncident')}</option>
                {threadId !== '' && thread === undefined ? <option value={threadId}>{threadId}</option> : null}
                {known.map((k) => {
                  const b = [...k.reports].reverse().find((r) => typeof r.body === 'object' && r.body !== null)?.body as IncidentReportBody | undefined;
                  return (
                    <option key={k.id} value={k.id}>
                      {k.id}
                      {b !== undefined ? ` — ${b.title}` : ''}
                    </option>
                  );
                })}
              </select>
            )}
          </Field>
        )}
      </fieldset>

      <fieldset>
        <legend>{t('report.what')}</legend>
        <Field id={fid('report.title')} label={t('report.title')} error={errors['report.title']}>
          {(p) => <input {...p} value={title} onChange={(e) => setTitle(e.target.value)} maxLength={300} lang={lang} data-testid="report-title" />}
        </Field>
        <Field id={fid('report.summary')} label={t('report.summary')} hint={t('report.summaryHint')} error={errors['report.summary']}>
          {(p) => <textarea {...p} value={summary} onChange={(e) => setSummary(e.target.value)} rows={5} lang={lang} data-testid="report-summary" />}
        </Field>
        <div className="grid-2">
          <Field id={fid('report.category')} label={t('report.category')} hint={category !== undefined ? l(category.definition) : t('report.categoryHint')} error={errors['report.category']}>
            {(p) => (
              <select {...p} value={cat} onChange={(e) => setCat(e.target.value)} data-testid="report-category">
                <option value="">{t('choose')}</option>
                {TAXONOMY_V1.categories.map((c) => (
                  <option key={c.code} value={c.code}>
                    {c.code} — {l(c.label)}
                    {c.catastrophic ? ' ⚠' : ''}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id={fid('report.stage')} label={t('report.stage')} hint={l(TAXONOMY_V1.stages.find((s) => s.code === stage)?.definition ?? { en: '', 'zh-CN': '' })} error={errors['report.stage']}>
            {(p) => (
              <select {...p} value={stage} onChange={(e) => setStage(e.target.value as Stage)}>
                {STAGES.map((s) => (
                  <option key={s} value={s}>
                    {l(TAXONOMY_V1.stages.find((x) => x.code === s)!.label)}
                  </option>
                ))}
              </select>
            )}
          </Field>
        </div>
        <Field
          id={fid('report.severity')}
          label={t('report.severity')}
          hint={
            level !== undefined
              ? `${l(level.definition)} — ${t('report.severityDefaults', {
                  p: level.precedence,
                  ack: formatDuration((accord?.accord.deadlines.ackSeconds[level.precedence] ?? level.ackSeconds) * 1000, i18n.language),
                  initial: formatDuration((accord?.accord.deadlines.initialReportSeconds[String(level.level)] ?? level.initialReportSeconds) * 1000, i18n.language),
                })}`
              : t('report.severityHint')
          }
          error={errors['report.severity']}
        >
          {(p) => (
            <select {...p} value={sev === undefined ? '' : String(sev)} onChange={(e) => setSev(e.target.value === '' ? undefined : Number(e.target.value))} data-testid="report-severity">
              <option value="">{t('choose')}</option>
              {TAXONOMY_V1.severity.map((s) => (
                <option key={s.level} value={s.level}>
                  {s.level} — {l(s.name)}
                </option>
              ))}
            </select>
          )}
        </Field>
        {category?.catastrophic === true ? <p className="notice">{t('report.catastrophicNote')}</p> : null}
        {redLine ? (
          <p className="error-box" role="status" data-testid="red-line">
            <span aria-hidden="true">⚡ </span>
            {t('report.redLine')}
          </p>
        ) : null}
      </fieldset>

      <fieldset>
        <legend>{t('report.systemLegend')}</legend>
        <div className="grid-3">
          <Field id={fid('report.system.name')} label={t('report.systemName')} error={errors['report.system.name'] ?? errors['report.system']}>
            {(p) => <input {...p} value={sysName} onChange={(e) => setSysName(e.target.value)} maxLength={200} data-testid="system-name" />}
          </Field>
          <Field id={fid('report.system.developer')} label={t('report.systemDeveloper')} error={errors['report.system.developer']}>
            {(p) => <input {...p} value={sysDev} onChange={(e) => setSysDev(e.target.value)} maxLength={200} />}
          </Field>
          <Field id={fid('report.system.version')} label={t('report.systemVersion')} error={errors['report.system.version']}>
            {(p) => <input {...p} value={sysVer} onChange={(e) => setSysVer(e.target.value)} maxLength={100} />}
          </Field>
        </div>
        <div className="grid-2">
          <Field id={fid('report.actor.type')} label={t('report.actor')} hint={l(TAXONOMY_V1.actorTypes.find((a) => a.code === actorType)?.definition ?? { en: '', 'zh-CN': '' })} error={errors['report.actor.type']}>
            {(p) => (
              <select {...p} value={actorType} onChange={(e) => setActorType(e.target.value as ActorType)}>
                {ACTOR_TYPES.map((a) => (
                  <option key={a} value={a}>
                    {l(TAXONOMY_V1.actorTypes.find((x) => x.code === a)!.label)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field id={fid('report.actor.description')} label={t('report.actorDescription')} error={errors['report.actor.description']}>
            {(p) => <input {...p} value={actorDesc} onChange={(e) => setActorDesc(e.target.value)} maxLength={2000} lang={lang} />}
          </Field>
        </div>
      </fieldset>

      <fieldset id={fid('report.harm.types')}>
        <legend>{t('report.harm')}</legend>
        <div className="checks">
          {HARM_TYPES.map((h) => {
            const term = TAXONOMY_V1.harmTypes.find((x) => x.code === h)!;
            return (
              <label key={h} title={l(term.definition)}>
                <input type="checkbox" checked={harmTypes.includes(h)} onChange={(e) => setHarmTypes(e.target.checked ? [...harmTypes, h] : harmTypes.filter((x) => x !== h))} />
                {l(term.label)}
              </label>
            );
          })}
        </div>
        <Field id={fid('report.harm.description')} label={t('report.harmDescription')} error={errors['report.harm.description']}>
          {(p) => <textarea {...p} value={harmDesc} onChange={(e) => setHarmDesc(e.target.value)} rows={3} maxLength={5000} lang={lang} />}
        </Field>
      </fieldset>

      <fieldset id={fid('report.mitigations')}>
        <legend>{t('report.mitigations')}</legend>
        {mitigations.map((m, i) => (
          <div className="field mitigation" key={i}>
            <label htmlFor={`mitigation-${i}`} className="visually-hidden">
              {t('report.mitigationN', { n: i + 1 })}
            </label>
            <div className="row">
              <input id={`mitigation-${i}`} value={m} onChange={(e) => setMitigations(mitigations.map((x, j) => (j === i ? e.target.value : x)))} maxLength={2000} lang={lang} placeholder={t('report.mitigationN', { n: i + 1 })} />
              {mitigations.length > 1 ? (
                <button type="button" className="btn btn-quiet" onClick={() => setMitigations(mitigations.filter((_, j) => j !== i))} aria-label={t('report.removeMitigation', { n: i + 1 })}>
                  ✕
                </button>
              ) : null}
            </div>
          </div>
        ))}
        {errors['report.mitigations'] !== undefined ? <p className="field-error">⚠ {errors['report.mitigations']}</p> : null}
        <button type="button" className="btn" onClick={() => setMitigations([...mitigations, ''])} disabled={mitigations.length >= 50}>
          + {t('report.addMitigation')}
        </button>
      </fieldset>

      <fieldset>
        <legend>{t('report.whenLegend')}</legend>
        <div className="grid-3">
          <Field id={fid('report.occurredAt')} label={t('report.occurredAt')} hint={t('report.localTime')} error={errors['report.occurredAt']}>
            {(p) => <input {...p} type="datetime-local" value={occurredAt} onChange={(e) => setOccurredAt(e.target.value)} />}
          </Field>
          <Field id={fid('report.detectedAt')} label={t('report.detectedAt')} hint={t('report.localTime')} error={errors['report.detectedAt']}>
            {(p) => <input {...p} type="datetime-local" value={detectedAt} onChange={(e) => setDetectedAt(e.target.value)} />}
          </Field>
          <LangSelect name="report.lang" label={t('report.lang')} value={lang} onChange={setLang} />
        </div>
      </fieldset>

      <fieldset>
        <legend>{t('report.sendingLegend')}</legend>
        <Recipients accord={accord} us={us} value={redLine ? (accord?.accord.parties.map((p) => p.id).filter((p) => p !== us) ?? []) : to} onChange={setTo} error={errors['to']} disabled={redLine} />
        <LinkDownWarning parties={downTo} confirmed={anyway} onConfirm={setAnyway} />
        <div className="grid-2">
          <PrecedenceSelect name="precedence" value={redLine ? 'FLASH' : precedence} onChange={setPrecedence} accord={accord} allowDefault defaultLabel={defaultPrec} error={errors['precedence']} />
          <MarkingSelect name="marking" value={marking} onChange={setMarking} error={errors['marking']} />
        </div>
      </fieldset>
      <button type="submit" className={`btn ${redLine || precedence === 'FLASH' ? 'btn-danger' : 'btn-primary'}`} disabled={busy} data-testid="send-report">
        {busy ? t('sending') : t('sendReport', { kind: kindTerm !== undefined ? l(kindTerm.label) : kind })}
      </button>
    </form>
  );
}
