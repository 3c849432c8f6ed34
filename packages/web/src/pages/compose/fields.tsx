/**
 * Form plumbing for Compose: field-level errors in the UI language, from our
 * own checks or from the node's problem details (VALIDATION_FAILED issues
 * carry a path such as ["report", "title"], mapped onto the field of that
 * name; anything unmapped stays in the form-level error box).
 */
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { ApiError } from '../../api.js';
import { ErrorBox } from '../../components/feedback.js';
import type { Submitted } from '../../types.js';

/** field name → error message (already translated). */
export type FieldErrors = Record<string, string>;

/**
 * Map a node error onto fields. Every issue whose path (joined with '.')
 * names a known field, or whose path's prefix does, becomes that field's
 * error; returns the unmapped remainder too.
 */
export function mapProblem(err: ApiError, known: readonly string[], format: (message: string) => string): { fields: FieldErrors; unmapped: string[] } {
  const fields: FieldErrors = {};
  const unmapped: string[] = [];
  for (const issue of err.issues) {
    const path = issue.path.map(String);
    let hit: string | undefined;
    for (let n = path.length; n > 0 && hit === undefined; n--) {
      const key = path.slice(0, n).join('.');
      if (known.includes(key)) hit = key;
    }
    if (hit !== undefined) fields[hit] ??= format(issue.message);
    else unmapped.push(`${path.join('.') || issue.in}: ${issue.message}`);
  }
  return { fields, unmapped };
}

/** A labelled control with its hint and error wired by id (aria-describedby, aria-invalid); `after` sits beside the label, outside it (a glossary link). */
export function Field({ id, label, hint, error, after, children }: { id: string; label: ReactNode; hint?: ReactNode; error?: string | undefined; after?: ReactNode; children: (p: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode }) {
  const describedBy = [hint !== undefined ? `${id}-hint` : '', error !== undefined ? `${id}-error` : ''].filter((x) => x !== '').join(' ');
  return (
    <div className="field" data-field={id}>
      {after === undefined ? (
        <label htmlFor={id}>{label}</label>
      ) : (
        <span className="label-row">
          <label htmlFor={id}>{label}</label>
          {after}
        </span>
      )}
      {hint !== undefined ? (
        <span className="hint" id={`${id}-hint`}>
          {hint}
        </span>
      ) : null}
      {children({ id, ...(describedBy !== '' ? { 'aria-describedby': describedBy } : {}), ...(error !== undefined ? { 'aria-invalid': true } : {}) })}
      {error !== undefined ? (
        <p className="field-error" id={`${id}-error`}>
          <span aria-hidden="true">⚠ </span>
          {error}
        </p>
      ) : null}
    </div>
  );
}

export function FormErrors({ errors, extra }: { errors: FieldErrors; extra: readonly string[] }) {
  const { t } = useTranslation('compose');
  const n = Object.keys(errors).length;
  if (n === 0 && extra.length === 0) return null;
  return (
    <div className="error-box" role="alert" data-testid="form-errors">
      <strong>
        <span aria-hidden="true">⚠ </span>
        {t('validation.summary', { count: n + extra.length })}
      </strong>
      <ul>
        {Object.entries(errors).map(([k, v]) => (
          <li key={k}>
            <a href={`#${k.replaceAll('.', '-')}`}>{v}</a>
          </li>
        ))}
        {extra.map((x) => (
          <li key={x}>{x}</li>
        ))}
      </ul>
    </div>
  );
}

/** Field name (dotted, as the API's paths) → element id. */
export function fid(name: string): string {
  return name.replaceAll('.', '-');
}

/** What a compose form shows about its last send, and the send itself ({@link useSend}). */
export interface Send {
  readonly errors: FieldErrors;
  readonly extra: readonly string[];
  readonly failure: ApiError | undefined;
  readonly sent: Submitted | undefined;
  readonly busy: boolean;
  /**
   * Checks the form (focusing the first bad field), then posts; the node's
   * problem details land on their fields.
   * @returns the submitted entry, or undefined when nothing was sent.
   */
  send(ev: FormEvent, post: () => Promise<Submitted>): Promise<Submitted | undefined>;
}

/**
 * A compose form's send. Once a send was refused, every change of `values`
 * runs `validate` again, so a message goes as soon as its field is fixed.
 * @param known the form's field names (for mapping the node's issues).
 */
export function useSend(known: readonly string[], validate: () => FieldErrors, values: readonly unknown[]): Send {
  const { t } = useTranslation('compose');
  const [errors, setErrors] = useState<FieldErrors>({});
  const [extra, setExtra] = useState<string[]>([]);
  const [failure, setFailure] = useState<ApiError | undefined>(undefined);
  const [sent, setSent] = useState<Submitted | undefined>(undefined);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (Object.keys(errors).length > 0) setErrors(validate());
  }, values);

  async function send(ev: FormEvent, post: () => Promise<Submitted>): Promise<Submitted | undefined> {
    ev.preventDefault();
    setSent(undefined);
    setFailure(undefined);
    setExtra([]);
    const e = validate();
    setErrors(e);
    const first = Object.keys(e)[0];
    if (first !== undefined) {
      document.getElementById(fid(first))?.focus();
      return undefined;
    }
    setBusy(true);
    try {
      const r = await post();
      setSent(r);
      return r;
    } catch (err) {
      const ae = err instanceof ApiError ? err : new ApiError({ status: 0, detail: String(err) });
      const m = mapProblem(ae, known, (message) => t('validation.server', { message }));
      setErrors(m.fields);
      setExtra(m.unmapped);
      if (Object.keys(m.fields).length === 0 && m.unmapped.length === 0) setFailure(ae);
      return undefined;
    } finally {
      setBusy(false);
    }
  }

  return { errors, extra, failure, sent, busy, send };
}

/** The top of a compose form: its errors, a failure, or what was sent with a link to it. */
export function SendStatus({ state }: { state: Send }) {
  const { t } = useTranslation('compose');
  const { sent } = state;
  return (
    <>
      <FormErrors errors={state.errors} extra={state.extra} />
      <ErrorBox error={state.failure} />
      {sent !== undefined ? (
        <div className="success-box" role="status" data-testid="sent">
          <span aria-hidden="true">✓ </span>
          {t('sent', { party: sent.party, index: sent.index })}{' '}
          <Link to={`/entries/${encodeURIComponent(sent.party)}/${sent.index}`}>{t('viewSent')}</Link>
        </div>
      ) : null}
    </>
  );
}
