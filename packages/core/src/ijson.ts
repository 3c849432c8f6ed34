/**
 * Strict I-JSON parsing (RFC 8259 grammar with the RFC 7493 restrictions),
 * the input side of RFC 8785 canonical JSON (`cjson.ts`).
 *
 * What {@link parseJson} accepts: exactly RFC 8259 JSON text, further limited
 * by I-JSON (RFC 7493): strict UTF-8 with no BOM (§2.1), no lone surrogates,
 * escaped or not (§2.1), no duplicate member names after unescaping (§2.3),
 * numbers whose double value is finite (§2.2: `1e400` is rejected; integers
 * beyond 2^53 are accepted and round, as in every JCS implementation, but
 * such text is never canonical, so {@link isCanonical} rejects it), and size
 * and depth caps. A name `"__proto__"` becomes an own data property, as with
 * `JSON.parse`.
 */
import { fail } from './errors.js';
import { decodeUtf8 } from './encoding.js';

/** A JSON value as {@link parseJson} returns it. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [name: string]: JsonValue };

/** Default nesting limit (arrays and objects) for canonicalizing and parsing. */
export const JSON_MAX_DEPTH = 100;
/** Default size limit of {@link parseJson}: 1 MiB of UTF-8. */
export const JSON_MAX_BYTES = 1024 * 1024;
/**
 * Largest `maxDepth` a caller may ask for; both walks are recursive, and this
 * keeps them far from the JS engine's stack limit.
 */
const DEPTH_CEILING = 1000;

/** Limits for {@link parseJson}. */
export interface ParseJsonOptions {
  /** Largest input in UTF-8 bytes; default {@link JSON_MAX_BYTES}. */
  readonly maxBytes?: number;
  /** Deepest nesting of arrays and objects; default {@link JSON_MAX_DEPTH}, at most 1000. */
  readonly maxDepth?: number;
}

/** Limits for {@link canonicalize}. */
export interface CanonicalizeOptions {
  /** Deepest nesting of arrays and objects; default {@link JSON_MAX_DEPTH}, at most 1000. */
  readonly maxDepth?: number;
}

/** @internal Validates a `maxDepth` option (shared with cjson.ts). */
export function checkDepthOption(maxDepth: number): number {
  // A caller's mistake, not bad input: a RangeError, not a catalog code.
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1 || maxDepth > DEPTH_CEILING) {
    throw new RangeError(`maxDepth must be an integer in 1 … ${DEPTH_CEILING}`);
  }
  return maxDepth;
}

// ---------------------------------------------------------------------------
// Parsing (RFC 8259 grammar, RFC 7493 restrictions)

function malformed(message: string, at: number): never {
  return fail('JSON_MALFORMED', `JSON: ${message} at offset ${at}`);
}

/** UTF-8 length of a string; lone surrogates count 3 (as U+FFFD), they are rejected later. */
function utf8Length(s: string, stopAbove: number): number {
  let n = 0;
  for (let i = 0; i < s.length && n <= stopAbove; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n += 4;
        i++;
      } else n += 3;
    } else n += 3;
  }
  return n;
}

/** RFC 8259 §6: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;

/** Recursive-descent parser over a decoded string; `pos` indexes UTF-16 code units. */
class Parser {
  pos = 0;
  constructor(
    private readonly text: string,
    private readonly maxDepth: number,
  ) {}

  /** RFC 8259 §2: ws = *( %x20 / %x09 / %x0A / %x0D ) */
  skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      this.pos++;
    }
  }

  parseValue(depth: number): JsonValue {
    this.skipWhitespace();
    const c = this.text.charCodeAt(this.pos);
    switch (c) {
      case 0x7b: // {
        return this.parseObject(depth + 1);
      case 0x5b: // [
        return this.parseArray(depth + 1);
      case 0x22: // "
        return this.parseString();
      case 0x74: // t
        return this.literal('true', true);
      case 0x66: // f
        return this.literal('false', false);
      case 0x6e: // n
        return this.literal('null', null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
        return malformed(Number.isNaN(c) ? 'unexpected end' : 'unexpected character', this.pos);
    }
  }

  literal<T extends JsonValue>(word: string, value: T): T {
    if (!this.text.startsWith(word, this.pos)) malformed('bad literal', this.pos);
    this.pos += word.length;
    return value;
  }

  parseNumber(): number {
    NUMBER.lastIndex = this.pos;
    const m = NUMBER.exec(this.text);
    if (m === null) return malformed('bad number', this.pos);
    const n = Number(m[0]);
    // RFC 7493 §2.2: a number must fit an IEEE-754 double; 1e400 does not.
    if (!Number.isFinite(n)) malformed('number out of double range', this.pos);
    this.pos += m[0].length;
    return n;
  }

  /** RFC 8259 §7 strings; the result must be well-formed UTF-16 (RFC 7493 §2.1). */
  parseString(): string {
    const t = this.text;
    const begin = this.pos;
    let i = ++this.pos;
    let out = '';
    let start = i;
    for (;;) {
      if (i >= t.length) malformed('unterminated string', begin);
      const c = t.charCodeAt(i);
      if (c === 0x22) break;
      if (c < 0x20) malformed('unescaped control character', i);
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += t.slice(start, i);
      const e = t.charCodeAt(i + 1);
      if (e === 0x75) {
        // \uXXXX, either case of hex digit (RFC 8259 §7).
        const hex = t.slice(i + 2, i + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) malformed('bad \\u escape', i);
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else {
        const ch = ESCAPED[e];
        if (ch === undefined) malformed('bad escape', i);
        out += ch;
        i += 2;
      }
      start = i;
    }
    out += t.slice(start, i);
    this.pos = i + 1;
    if (!isWellFormed(out)) malformed('lone surrogate in string', begin);
    return out;
  }

  parseArray(depth: number): JsonValue[] {
    if (depth > this.maxDepth) fail('INPUT_TOO_LARGE', `JSON: nesting deeper than ${this.maxDepth}`);
    this.pos++;
    const out: JsonValue[] = [];
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x5d) {
      this.pos++;
      return out;
    }
    for (;;) {
      out.push(this.parseValue(depth));
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x5d) return out;
      if (c !== 0x2c) malformed("expected ',' or ']'", this.pos - 1);
    }
  }

  parseObject(depth: number): { [name: string]: JsonValue } {
    if (depth > this.maxDepth) fail('INPUT_TOO_LARGE', `JSON: nesting deeper than ${this.maxDepth}`);
    this.pos++;
    const out: { [name: string]: JsonValue } = {};
    this.skipWhitespace();
    if (this.text.charCodeAt(this.pos) === 0x7d) {
      this.pos++;
      return out;
    }
    for (;;) {
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos) !== 0x22) malformed('expected a member name', this.pos);
      const at = this.pos;
      const name = this.parseString();
      // RFC 7493 §2.3: member names MUST be unique, compared after unescaping.
      if (Object.hasOwn(out, name)) malformed('duplicate member name', at);
      this.skipWhitespace();
      if (this.text.charCodeAt(this.pos++) !== 0x3a) malformed("expected ':'", this.pos - 1);
      const value = this.parseValue(depth);
      // defineProperty, not assignment: "__proto__" must stay an own property.
      Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
      this.skipWhitespace();
      const c = this.text.charCodeAt(this.pos++);
      if (c === 0x7d) return out;
      if (c !== 0x2c) malformed("expected ',' or '}'", this.pos - 1);
    }
  }
}

/** RFC 8259 §7: the two-character escapes other than \u. */
const ESCAPED: Readonly<Record<number, string>> = {
  0x22: '"',
  0x5c: '\\',
  0x2f: '/',
  0x62: '\b',
  0x66: '\f',
  0x6e: '\n',
  0x72: '\r',
  0x74: '\t',
};

function isWellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff) continue;
    const next = s.charCodeAt(i + 1); // NaN past the end
    if (c >= 0xdc00 || !(next >= 0xdc00 && next <= 0xdfff)) return false;
    i++;
  }
  return true;
}

/**
 * Parses strict I-JSON (RFC 7493) text: one JSON value (RFC 8259), with
 * optional surrounding whitespace and nothing else.
 * @param input UTF-8 bytes (decoded strictly: no overlongs, surrogates or
 *   BOM) or an already decoded string.
 * @param options `maxBytes` (UTF-8 length, default {@link JSON_MAX_BYTES})
 *   and `maxDepth` (default {@link JSON_MAX_DEPTH}).
 * @returns the value; objects are plain objects with `Object.prototype`.
 * @throws ParseError `JSON_MALFORMED` for bad syntax, invalid UTF-8, lone
 *   surrogates, duplicate member names or numbers beyond the double range;
 *   `INPUT_TOO_LARGE` when the input exceeds `maxBytes` or nesting exceeds
 *   `maxDepth`.
 * @throws RangeError for options out of range.
 * @example parseJson('{"a":[1,2.5e1]}') // { a: [1, 25] }
 * @example parseJson('{"a":1,"a":2}') // throws ParseError JSON_MALFORMED
 */
export function parseJson(input: string | Uint8Array, options: ParseJsonOptions = {}): JsonValue {
  const maxBytes = options.maxBytes ?? JSON_MAX_BYTES;
  if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new RangeError('maxBytes must be a non-negative integer');
  const maxDepth = checkDepthOption(options.maxDepth ?? JSON_MAX_DEPTH);
  let text: string;
  if (typeof input === 'string') {
    if (utf8Length(input, maxBytes) > maxBytes) fail('INPUT_TOO_LARGE', `JSON: larger than ${maxBytes} bytes`);
    text = input;
  } else {
    if (input.length > maxBytes) fail('INPUT_TOO_LARGE', `JSON: larger than ${maxBytes} bytes`);
    try {
      text = decodeUtf8(input, 'JSON');
    } catch (e) {
      return fail('JSON_MALFORMED', 'JSON: invalid UTF-8', e);
    }
  }
  const parser = new Parser(text, maxDepth);
  const value = parser.parseValue(0);
  parser.skipWhitespace();
  if (parser.pos !== text.length) malformed('trailing characters', parser.pos);
  return value;
}

