/**
 * Form plumbing for Compose: field-level errors in the UI language, from our
 * own checks or from the node's problem details (VALIDATION_FAILED issues
 * carry a path such as ["report", "title"], mapped onto the field of that
 * name; anything unmapped stays in the form-level error box).
 */
import type { ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiError } from '../../api.js';

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

/** A labelled control with its hint and error wired by id (aria-describedby, aria-invalid). */
export function Field({ id, label, hint, error, children }: { id: string; label: ReactNode; hint?: ReactNode; error?: string | undefined; children: (p: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode }) {
  const describedBy = [hint !== undefined ? `${id}-hint` : '', error !== undefined ? `${id}-error` : ''].filter((x) => x !== '').join(' ');
  return (
    <div className="field" data-field={id}>
      <label htmlFor={id}>{label}</label>
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
