/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), and the strict I-JSON (RFC 7493)
 * parser that feeds it.
 *
 * Canonical form (RFC 8785 §3.2):
 *
 *     value   = null | true | false | number | string | array | object
 *     no whitespace between tokens                              (§3.2.1)
 *     number  = ECMAScript Number::toString of the IEEE-754 double; -0 → "0"
 *                                                               (§3.2.2.3)
 *     string  = '"' chars '"'; only '"' '\' and U+0000–U+001F are escaped:
 *               \b \t \n \f \r in short form, other controls as \u00xx
 *               (lowercase hex); everything else, '/' and DEL included,
 *               is written as is                                (§3.2.2.2)
 *     object  = members sorted by the UTF-16 code units of their names,
 *               compared as unsigned integers, names unnormalized (§3.2.3)
 *     bytes   = UTF-8 of the result                             (§3.2.4)
 *
 * Example (RFC 8785 §3.2.2 → §3.2.3):
 *
 *     { "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
 *       "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
 *       "literals": [null, true, false] }
 *   →
 *     {"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}
 *
 * What {@link canonicalize} accepts (everything else is
 * `JSON_NOT_CANONICALIZABLE`): `null`, booleans, finite numbers, strings of
 * well-formed UTF-16 (no lone surrogates: §3.2.2.2 and RFC 7493 §2.1), arrays
 * whose prototype is `Array.prototype` (elements 0 … length − 1 only; holes
 * are `undefined` and rejected),
 * and plain objects — prototype `Object.prototype` or `null` — whose own
 * enumerable string keys are serialized and which have no symbol keys. Dates,
 * Maps, boxed primitives, typed arrays, class instances and objects from other
 * realms are rejected rather than silently turned into `{}` or a string, and
 * `toJSON` is never called: what is signed is exactly the data given. Cycles
 * and nesting deeper than {@link JSON_MAX_DEPTH} (default) are rejected; a
 * value shared twice without a cycle is fine.
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
import { fail, ParleyError } from './errors.js';
import { bytesEqual, decodeUtf8, encodeUtf8 } from './encoding.js';

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

function checkDepthOption(maxDepth: number): number {
  // A caller's mistake, not bad input: a RangeError, not a catalog code.
  if (!Number.isSafeInteger(maxDepth) || maxDepth < 1 || maxDepth > DEPTH_CEILING) {
    throw new RangeError(`maxDepth must be an integer in 1 … ${DEPTH_CEILING}`);
  }
  return maxDepth;
}

// ---------------------------------------------------------------------------
// Serialization (RFC 8785 §3.2)

/**
 * RFC 8785 §3.2.2.2: the short escapes of ECMAScript JSON.stringify
 * (ECMA-262 QuoteJSONString); other code units below U+0020 become \u00xx.
 */
const SHORT_ESCAPES: Readonly<Record<number, string>> = {
  0x08: '\\b',
  0x09: '\\t',
  0x0a: '\\n',
  0x0c: '\\f',
  0x0d: '\\r',
  0x22: '\\"',
  0x5c: '\\\\',
};

function notCanonicalizable(message: string): never {
  return fail('JSON_NOT_CANONICALIZABLE', message);
}

/**
 * RFC 8785 §3.2.2.2 string serialization; throws on a lone surrogate, which
 * has no UTF-8 encoding (§3.2.4) and is not I-JSON (RFC 7493 §2.1).
 */
function serializeString(s: string): string {
  let out = '"';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) {
      const next = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c >= 0xdc00 || next < 0xdc00 || next > 0xdfff) notCanonicalizable('string has a lone surrogate');
      i++; // a well-formed pair is written as is
      continue;
    }
    if (c >= 0x20 && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(start, i) + (SHORT_ESCAPES[c] ?? '\\u00' + (c < 0x10 ? '0' : '') + c.toString(16));
    start = i + 1;
  }
  return out + s.slice(start) + '"';
}

/**
 * RFC 8785 §3.2.2.3: numbers are serialized by ECMAScript Number::toString
 * (ECMA-262 §6.1.6.1.20), which `String(n)` is — shortest round-trip digits,
 * exponent form below 1e-6 and from 1e21, "0" for -0. NaN and ±Infinity
 * are not JSON and are errors (§3.2.2.3).
 */
function serializeNumber(n: number): string {
  if (!Number.isFinite(n)) notCanonicalizable('number is NaN or infinite');
  return String(n);
}

function isPlainObject(v: object): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

interface Walk {
  readonly maxDepth: number;
  /** Containers on the path from the root: a repeat is a cycle. */
  readonly path: Set<object>;
}

function serializeValue(v: unknown, walk: Walk, depth: number): string {
  switch (typeof v) {
    case 'string':
      return serializeString(v);
    case 'number':
      return serializeNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'object':
      if (v === null) return 'null';
      break;
    default:
      // undefined, bigint, symbol, function: no JSON value (RFC 8259 §3).
      return notCanonicalizable(`a ${typeof v} is not a JSON value`);
  }
  if (depth >= walk.maxDepth) notCanonicalizable('nesting too deep');
  if (walk.path.has(v)) notCanonicalizable('cyclic structure');
  walk.path.add(v);
  const out = Array.isArray(v) ? serializeArray(v, walk, depth + 1) : serializeObject(v, walk, depth + 1);
  walk.path.delete(v);
  return out;
}

function serializeArray(a: unknown[], walk: Walk, depth: number): string {
  if (Object.getPrototypeOf(a) !== Array.prototype) notCanonicalizable('array subclass');
  const parts: string[] = [];
  // Index by index, so that a hole reads as undefined and is rejected.
  for (let i = 0; i < a.length; i++) parts.push(serializeValue(a[i], walk, depth));
  return '[' + parts.join(',') + ']';
}

function serializeObject(o: object, walk: Walk, depth: number): string {
  if (!isPlainObject(o)) notCanonicalizable('not a plain object');
  if (Object.getOwnPropertySymbols(o).length > 0) notCanonicalizable('object has symbol keys');
  const record = o as Record<string, unknown>;
  // RFC 8785 §3.2.3: sort names by UTF-16 code units. Array#sort without a
  // comparator compares strings code unit by code unit (ECMA-262
  // IsLessThan on Strings), which is exactly that order, locale-free.
  const names = Object.keys(record).sort();
  const parts: string[] = [];
  for (const name of names) parts.push(serializeString(name) + ':' + serializeValue(record[name], walk, depth));
  return '{' + parts.join(',') + '}';
}

/**
 * Serializes a value in RFC 8785 canonical form.
 * @param value `null`, a boolean, a finite number, a well-formed string, or
 *   a plain array or object of those (see the module doc).
 * @param options `maxDepth`, default {@link JSON_MAX_DEPTH}.
 * @returns the canonical JSON text; its UTF-8 is what gets hashed or signed.
 * @throws ParseError `JSON_NOT_CANONICALIZABLE` for NaN, ±Infinity,
 *   undefined, functions, symbols, bigints, non-plain objects, symbol keys,
 *   lone surrogates, cycles and nesting deeper than `maxDepth`.
 * @throws RangeError if `maxDepth` is not an integer in 1 … 1000.
 * @example canonicalize({ b: [1.50, -0], a: '€\n' }) // '{"a":"€\\n","b":[1.5,0]}'
 */
export function canonicalize(value: unknown, options: CanonicalizeOptions = {}): string {
  const maxDepth = checkDepthOption(options.maxDepth ?? JSON_MAX_DEPTH);
  return serializeValue(value, { maxDepth, path: new Set() }, 0);
}

/**
 * RFC 8785 §3.2.4: the UTF-8 bytes of {@link canonicalize}. Exact, since a
 * canonicalizable string has no lone surrogate.
 * @param value as for {@link canonicalize}.
 * @param options as for {@link canonicalize}.
 * @returns the canonical bytes.
 * @throws ParseError `JSON_NOT_CANONICALIZABLE` as {@link canonicalize}.
 * @example canonicalizeToBytes({ a: 'é' }) // Uint8Array [0x7b,0x22,0x61,0x22,0x3a,0x22,0xc3,0xa9,0x22,0x7d]
 */
export function canonicalizeToBytes(value: unknown, options: CanonicalizeOptions = {}): Uint8Array {
  return encodeUtf8(canonicalize(value, options));
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

/**
 * True when `bytes` are exactly the RFC 8785 canonical form of the value
 * they encode: parsed with {@link parseJson}'s default limits, re-serialized
 * with {@link canonicalizeToBytes}, compared byte for byte. Text that does
 * not parse, or that holds an integer a double cannot represent exactly, is
 * not canonical.
 * @param bytes candidate canonical JSON (UTF-8).
 * @returns whether the bytes are canonical.
 * @example isCanonical(encodeUtf8('{"a":1,"b":2}')) // true
 * @example isCanonical(encodeUtf8('{"b":2,"a":1}')) // false
 */
export function isCanonical(bytes: Uint8Array): boolean {
  let canonical: Uint8Array;
  try {
    canonical = canonicalizeToBytes(parseJson(bytes));
  } catch (e) {
    if (e instanceof ParleyError) return false;
    throw e;
  }
  return bytesEqual(canonical, bytes);
}
