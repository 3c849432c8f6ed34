/**
 * Strict shape checks for Parley's own JSON documents (entries, accords).
 *
 * These are protocol parsers, not general validation: every document is
 * RFC 8785 canonical JSON with a closed set of members, so a check either
 * returns the typed value or throws a ParseError with the caller's code and a
 * path to the offending member (`entry.to[2]`). Unknown members are errors —
 * a new field is a new version (STYLE.md §6).
 */
import { type ErrorCode, fail } from './errors.js';

export type Code = ErrorCode;

/** A plain JSON object with exactly the `required` members plus any of `optional`. */
export function obj(v: unknown, code: Code, path: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(code, `${path}: want an object`);
  const o = v as Record<string, unknown>;
  for (const k of required) if (!(k in o)) fail(code, `${path}.${k}: missing`);
  for (const k of Object.keys(o)) {
    if (!required.includes(k) && !optional.includes(k)) fail(code, `${path}.${k}: unknown member`);
  }
  return o;
}

/** A string, optionally matching `pattern`, with length limits (in UTF-16 units). */
export function str(v: unknown, code: Code, path: string, opts: { pattern?: RegExp; min?: number; max: number }): string {
  if (typeof v !== 'string') fail(code, `${path}: want a string`);
  if (v.length < (opts.min ?? 0) || v.length > opts.max) fail(code, `${path}: length ${v.length} out of range`);
  if (opts.pattern && !opts.pattern.test(v)) fail(code, `${path}: does not match ${opts.pattern}`);
  return v;
}

/** A safe integer in [min, max]. */
export function int(v: unknown, code: Code, path: string, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(code, `${path}: want an integer in [${min}, ${max}]`);
  return v;
}

/** One of a fixed set of strings. */
export function oneOf<T extends string>(v: unknown, code: Code, path: string, values: readonly T[]): T {
  if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) fail(code, `${path}: want one of ${values.join(', ')}`);
  return v as T;
}

/** An array of at most `max` items, each checked by `item`. */
export function arr<T>(v: unknown, code: Code, path: string, max: number, item: (x: unknown, path: string) => T, min = 0): T[] {
  if (!Array.isArray(v)) fail(code, `${path}: want an array`);
  if (v.length < min || v.length > max) fail(code, `${path}: ${v.length} items, want ${min}..${max}`);
  return v.map((x, i) => item(x, `${path}[${i}]`));
}

/** Sorted strictly ascending (so no duplicates and one canonical order). */
export function sortedUnique(values: readonly string[], code: Code, path: string): void {
  for (let i = 1; i < values.length; i++) if (!(values[i - 1]! < values[i]!)) fail(code, `${path}: must be sorted and unique`);
}

const TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;

/** An RFC 3339 UTC time in `Date#toISOString` form (milliseconds, `Z`), that is a real date. */
export function time(v: unknown, code: Code, path: string): string {
  const s = str(v, code, path, { pattern: TIME, max: 24 });
  const d = new Date(s);
  if (Number.isNaN(d.getTime()) || d.toISOString() !== s) fail(code, `${path}: not a valid time`);
  return s;
}
