/**
 * One log entry with its in-browser verification: fetches the entry bytes,
 * the proof, the checkpoint, the witnessed checkpoints and the consistency
 * proofs (fetchInput.ts), runs verify.ts on them against the accord and the
 * checkpoint this browser verified last (seen.ts), and shows the result,
 * each step and which witnesses cosigned. It runs once on opening and again
 * on "Verify again" (a fresh fetch); a pass is remembered for the next time.
 */
import { parseBase64, parseEntry } from '@parley/core';
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link, useSearchParams } from 'react-router';
import { ApiError } from '../../api.js';
import { ErrorBox, Loading } from '../../components/feedback.js';
import { useEvents } from '../../events.js';
import { MarkingBadge, PrecedenceBadge } from '../../components/badges.js';
import { Time } from '../../components/time.js';
import type { LogEntryProof } from '@parley/node/api';
import type { AccordState } from './accord.js';
import { NotYetWitnessed, fetchVerifyInput } from './fetchInput.js';
import { readSeen, rememberSeen } from './seen.js';
import { type Step, type VerifyResult, verifyEntryInclusion } from './verify.js';
import type { WitnessFacts } from './witnesses.js';
import { usePrintMarking } from '../../components/print.js';
import { typeName } from '../../entries.js';


type Run = { readonly proof: LogEntryProof; readonly result: VerifyResult; readonly at: string };

export function EntryVerifier({ party, index, accord }: { party: string; index: number; accord: AccordState }) {
  const { t } = useTranslation('explorer');
  const [run, setRun] = useState<Run | undefined>();
  const [error, setError] = useState<Error | undefined>();
  const [busy, setBusy] = useState(false);
  const answer = accord.answer;
  const [params, setParams] = useSearchParams();
  const sizeParam = params.get('size');
  const size = sizeParam !== null && /^[1-9][0-9]{0,15}$/.test(sizeParam) ? Number(sizeParam) : undefined;

  const verify = useCallback(async () => {
    if (answer === undefined) return;
    setBusy(true);
    setError(undefined);
    try {
      const { input, proof } = await fetchVerifyInput({ party, index, size, accord: answer, previous: readSeen(answer.id, party) });
      const result = verifyEntryInclusion(input);
      const at = new Date().toISOString();
      if (result.remember !== undefined) rememberSeen(answer.id, party, { ...result.remember, at });
      setRun({ proof, result, at });
    } catch (e) {
      setRun(undefined);
      setError(e instanceof Error ? e : new ApiError({ status: 0, detail: String(e) }));
    } finally {
      setBusy(false);
    }
  }, [answer, party, index, size]);

  useEffect(() => {
    void verify();
  }, [verify]);

  // An entry newer than the latest (witnessed) checkpoint cannot be proved yet; the next checkpoint of its log, or a witness's cosignature, retries.
  const notYet = (error instanceof ApiError && error.code === 'TREE_ARGUMENT_INVALID') || error instanceof NotYetWitnessed;
  useEvents((e) => {
    const d = e.data as { party?: string } | null;
    if (notYet && e.event === 'checkpoint' && d?.party === party) void verify();
  });

  return (
    <section aria-labelledby="entry-heading" className="entry-verifier">
      <div className="page-header">
        <h2 id="entry-heading">{t('entryOf', { party, index })}</h2>
        <div className="page-actions">
          <Link className="btn btn-quiet" to={`/logs/${party}`}>
            {t('backToLog')}
          </Link>
          {index > 0 ? (
            <Link className="btn btn-quiet" to={`/logs/${party}/${index - 1}`}>
              <span aria-hidden="true">← </span>
              <span className="visually-hidden">{t('prevEntry')} </span>
              {index - 1}
            </Link>
          ) : null}
          {run !== undefined && index + 1 < run.proof.treeSize ? (
            <Link className="btn btn-quiet" to={`/logs/${party}/${index + 1}`}>
              <span className="visually-hidden">{t('nextEntry')} </span>
              {index + 1}
              <span aria-hidden="true"> →</span>
            </Link>
          ) : null}
          <button type="button" className="btn btn-primary" onClick={() => void verify()} disabled={busy || answer === undefined} data-testid="verify-again">
            {busy ? t('verifying') : t('verifyAgain')}
          </button>
        </div>
      </div>
      <SizeForm size={size} index={index} onChange={(n) => setParams(n === undefined ? {} : { size: String(n) })} />
      {notYet ? (
        <p className="notice" role="status">
          {t('notYetInCheckpoint', { index })}
        </p>
      ) : (
        <ErrorBox error={error} />
      )}
      {busy && run === undefined ? <Loading /> : null}
      {run !== undefined ? (
        <div className="two-col verifier-cols">
          <div className="stack">
            <ResultBanner result={run.result} party={party} index={index} at={run.at} partyName={accord.partyName} />
            <StepList steps={run.result.steps} party={party} size={run.result.checkpoint?.treeSize} partyName={accord.partyName} />
          </div>
          <div className="stack">
            <EntryFacts proof={run.proof} />
            <RawData proof={run.proof} />
          </div>
        </div>
      ) : null}
    </section>
  );
}

/** Which checkpoint to verify against: the latest held (default) or one of a given tree size (?size=N). */
function SizeForm({ size, index, onChange }: { size: number | undefined; index: number; onChange: (n: number | undefined) => void }) {
  const { t } = useTranslation('explorer');
  const [value, setValue] = useState(size !== undefined ? String(size) : '');
  const n = /^[1-9][0-9]{0,15}$/.test(value) ? Number(value) : undefined;
  const invalid = value !== '' && (n === undefined || n <= index);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value === '') onChange(undefined);
    else if (!invalid) onChange(n);
  };
  return (
    <form className="filters size-form" onSubmit={submit}>
      <div className="field">
        <label htmlFor="verify-size">{t('size.label')}</label>
        <input id="verify-size" inputMode="numeric" size={10} value={value} placeholder={t('size.latest')} onChange={(e) => setValue(e.target.value.trim())} aria-invalid={invalid} aria-describedby="verify-size-hint" />
        <span id="verify-size-hint" className={invalid ? 'field-error' : 'hint'}>
          {invalid ? t('size.invalid', { min: index + 1 }) : t('size.hint')}
        </span>
      </div>
      <button type="submit" className="btn" disabled={invalid}>
        {t('size.apply')}
      </button>
    </form>
  );
}

/** Why the check failed, when it is one a reader must not shrug off: too few witnesses, a bad cosignature, another history. */
function failureReason(result: VerifyResult, partyName: (id: string) => string, t: ReturnType<typeof useTranslation>['t']): string | undefined {
  const s = result.steps.find((x) => x.status === 'fail' && (x.id === 'witnesses' || x.id === 'consistency'));
  if (s === undefined || s.code === undefined) return undefined;
  const size = s.facts.find(([k]) => k === 'previousSize')?.[1];
  return t([`result.why.${s.id}.${s.code}`, `result.why.${s.id}.other`], {
    count: s.witnesses?.count ?? 0,
    quorum: s.witnesses?.quorum ?? 0,
    witness: s.witness !== undefined ? partyName(s.witness) : '',
    size,
  });
}

function ResultBanner({ result, party, index, at, partyName }: { result: VerifyResult; party: string; index: number; at: string; partyName: (id: string) => string }) {
  const { t } = useTranslation('explorer');
  const cp = result.checkpoint;
  const reason = result.verified ? undefined : failureReason(result, partyName, t);
  const counted = result.steps.find((s) => s.id === 'witnesses')?.witnesses?.cosigners.filter((c) => c.counted) ?? [];
  return (
    <div
      className={`verify-result ${result.verified ? 'verify-ok' : 'verify-bad'}`}
      role={result.verified ? 'status' : 'alert'}
      data-testid="verify-result"
      data-verified={result.verified ? 'true' : 'false'}
    >
      <span className="verify-icon" aria-hidden="true">
        {result.verified ? '✓' : '✗'}
      </span>
      <div>
        <strong>{result.verified ? t('result.verified') : t('result.failed')}</strong>
        <div>
          {result.verified && cp !== undefined
            ? t('result.verifiedDetail', { party, index, size: cp.treeSize })
            : t('result.failedDetail', { party, index })}
        </div>
        {result.verified && counted.length > 0 ? <div data-testid="verified-witnesses">{t('result.witnessedBy', { witnesses: counted.map((c) => partyName(c.party)).join(', ') })}</div> : null}
        {reason !== undefined ? (
          <p className="verify-reason" data-testid="verify-reason">
            {reason}
          </p>
        ) : null}
        <div className="muted small">
          {t('result.checkedAt')} <Time iso={at} />
        </div>
      </div>
    </div>
  );
}

function StepList({ steps, party, size, partyName }: { steps: readonly Step[]; party: string; size: number | undefined; partyName: (id: string) => string }) {
  const { t } = useTranslation('explorer');
  return (
    <ol className="verify-steps" aria-label={t('stepsLabel')} data-testid="verify-steps">
      {steps.map((s) => (
        <li key={s.id} className={`verify-step step-${s.status}`} data-step={s.id} data-status={s.status}>
          <div className="step-head">
            <span className="step-icon" aria-hidden="true">
              {s.status === 'pass' ? '✓' : s.status === 'fail' ? '✗' : '–'}
            </span>
            <span className="step-title">{t(`step.${s.id}.title`, { party })}</span>
            <span className={`step-status status-${s.status}`}>{t(`status.${s.status}`)}</span>
          </div>
          <p className="step-what">{t(`step.${s.id}.what`, { party })}</p>
          {s.code !== undefined ? (
            <p className="step-code">
              {t([`stepCode.${s.id}.${s.code}`, `code.${s.code}`, 'code.other'], { witness: s.witness !== undefined ? partyName(s.witness) : '' })} <code>{s.code}</code>
            </p>
          ) : null}
          {s.witnesses !== undefined ? <WitnessList w={s.witnesses} size={size} partyName={partyName} /> : null}
          {s.status === 'skipped' ? <p className="muted small">{t('skippedWhy')}</p> : null}
          {s.facts.length > 0 ? (
            <dl className="kv step-facts">
              {s.facts.map(([k, v]) => (
                <div key={k} className="kv-row">
                  <dt>{t(`fact.${k}`, { defaultValue: k })}</dt>
                  <dd>
                    {k === 'time' || k === 'previousAt' ? (
                      <Time iso={v} />
                    ) : k === 'accordSignatures' ? (
                      <span className="muted">{t('signaturesNotSent')}</span>
                    ) : k === 'previous' ? (
                      <span className="muted">{t('firstSeen')}</span>
                    ) : (
                      <code>{v}</code>
                    )}
                  </dd>
                </div>
              ))}
            </dl>
          ) : null}
        </li>
      ))}
    </ol>
  );
}

/** Who cosigned the checkpoint (or a later one it is a prefix of): name, tree size, time, and whether it counts. */
function WitnessList({ w, size, partyName }: { w: WitnessFacts; size: number | undefined; partyName: (id: string) => string }) {
  const { t } = useTranslation('explorer');
  return (
    <div className="witness-facts">
      <p className="witness-count" data-testid="witness-count">
        {t('witnesses.count', { count: w.count, quorum: w.quorum })}
      </p>
      {w.cosigners.length === 0 ? (
        <p className="muted small">{t('witnesses.none')}</p>
      ) : (
        <ul className="witness-list" data-testid="cosigners">
          {w.cosigners.map((c) => (
            <li key={`${c.party}/${c.size}`} data-party={c.party} data-size={c.size} data-counted={c.counted ? 'true' : 'false'}>
              <span className="step-icon" aria-hidden="true">
                {c.counted ? '✓' : '–'}
              </span>{' '}
              <strong>{partyName(c.party)}</strong> · {t('witnesses.size', { size: c.size })} · <Time iso={new Date(c.timestamp * 1000).toISOString()} />
              {c.counted ? null : <span className="muted"> · {size !== undefined && c.size < size ? t('witnesses.earlier') : t('witnesses.unproved')}</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function EntryFacts({ proof }: { proof: LogEntryProof }) {
  const { t } = useTranslation('explorer');
  const tc = useTranslation().t;
  let entry: ReturnType<typeof parseEntry> | undefined;
  try {
    entry = parseEntry(parseBase64(proof.entry));
  } catch {
    entry = undefined;
  }
  usePrintMarking(entry?.marking);
  if (entry === undefined) return <p className="notice">{t('entryUnreadable')}</p>;
  const body = entry.body;
  return (
    <div className="card">
      <h3>{t('entryFacts')}</h3>
      <dl className="kv">
        <dt>{t('col.type')}</dt>
        <dd>{typeName(tc, entry.type)}</dd>
        <dt>{t('col.time')}</dt>
        <dd>
          <Time iso={entry.time} />
        </dd>
        <dt>{t('from')}</dt>
        <dd>
          {entry.from.party} / {entry.from.officer}
        </dd>
        <dt>{t('col.to')}</dt>
        <dd>{entry.to.join(', ') || '—'}</dd>
        <dt>{t('precedence')}</dt>
        <dd>
          <PrecedenceBadge p={entry.precedence} /> <MarkingBadge m={entry.marking} />
        </dd>
        <dt>{t('refs')}</dt>
        <dd>
          {entry.refs.length === 0
            ? '—'
            : entry.refs.map((r) => (
                <Link key={`${r.party}/${r.index}`} to={`/logs/${r.party}/${r.index}`} className="ref-link">
                  {r.party}/{r.index}
                </Link>
              ))}
        </dd>
        <dt>{t('body')}</dt>
        <dd>{'sealed' in body ? t('sealedBody', { recipients: body.sealed.recipients.map((r) => r.party).join(', ') }) : t('clearBody')}</dd>
      </dl>
    </div>
  );
}

function RawData({ proof }: { proof: LogEntryProof }) {
  const { t } = useTranslation('explorer');
  let text: string;
  try {
    text = JSON.stringify(JSON.parse(new TextDecoder().decode(parseBase64(proof.entry))), null, 2);
  } catch {
    text = proof.entry;
  }
  return (
    <div className="card raw-data">
      <details>
        <summary>{t('raw.entry')}</summary>
        <pre className="mono">{text}</pre>
      </details>
      <details>
        <summary>{t('raw.checkpoint', { size: proof.treeSize })}</summary>
        <pre className="mono">{proof.checkpoint}</pre>
      </details>
      <details>
        <summary>{t('raw.proof', { count: proof.proof.length })}</summary>
        <ol className="mono proof-hashes">
          {proof.proof.map((h, i) => (
            <li key={i}>{h}</li>
          ))}
        </ol>
      </details>
    </div>
  );
}
