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
 * Parsing lives in `ijson.ts` ({@link parseJson}); {@link isCanonical} uses it.
 */
import { fail, ParleyError } from './errors.js';
import { bytesEqual, encodeUtf8 } from './encoding.js';
import { type CanonicalizeOptions, JSON_MAX_DEPTH, checkDepthOption, parseJson } from './ijson.js';

// ---------------------------------------------------------------------------
// Serialization (RFC 8785 §3.2)


function notCanonicalizable(message: string): never {
  return fail('JSON_NOT_CANONICALIZABLE', message);
}

/**
 * RFC 8785 §3.2.2.2 string serialization; throws on a lone surrogate, which
 * has no UTF-8 encoding (§3.2.4) and is not I-JSON (RFC 7493 §2.1).
 *
 * For a well-formed string the RFC's rules are exactly ECMAScript's
 * QuoteJSONString (ECMA-262 §25.5.2.3): `\"`, `\\`, the short escapes
 * \b \t \n \f \r, other controls as lowercase `\u00xx`, everything else
 * as is — JCS is defined in terms of it — so the engine's JSON.stringify,
 * several times faster than a JS loop, is used once the string is known to
 * be well formed.
 */
function serializeString(s: string): string {
  if (!isWellFormed(s)) notCanonicalizable('string has a lone surrogate');
  return JSON.stringify(s);
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const nativeWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;

/** ES2024 String#isWellFormed where the engine has it, else a regular expression. */
function isWellFormed(s: string): boolean {
  return nativeWellFormed !== undefined ? nativeWellFormed.call(s) : !LONE_SURROGATE.test(s);
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

/** A canonical text and where one top-level member sits, or would sit, in it (see {@link canonicalizeMember}). */
export interface CanonicalMember {
  /** The canonical JSON text of the whole value, as {@link canonicalize} returns it. */
  readonly text: string;
  /** Start (inclusive, UTF-16 index into `text`) of the member together with its comma; for an absent member, where it goes. */
  readonly start: number;
  /** End (exclusive) of the member together with its comma; `start` for an absent member. */
  readonly end: number;
}

/**
 * Serializes a plain object in RFC 8785 canonical form, as
 * {@link canonicalize}, and says where its top-level member `key` lies in the
 * text: `text.slice(start, end)` is the member with its separating comma —
 * the comma BEFORE it (`,"key":value`) unless it is the first member, then
 * the comma AFTER it (`"key":value,`), none when it is the only one. So
 * `text.slice(0, start) + text.slice(end)` is exactly the canonical text of
 * the object without `key`.
 *
 * When the object has no member `key`, `start === end` is where it goes in
 * code-unit order: inserting `,"key":value` there gives the canonical text of
 * the object with the member — or, when `start === 1` (it would come first),
 * inserting `"key":value,` (`"key":value` into `{}`).
 *
 * One canonicalization thus gives both spellings of a signed document (with
 * and without its signature member), with no text search that a member of
 * the same name deeper down, or inside a string, could fool.
 * @param value a plain object (see {@link canonicalize}).
 * @param key the top-level member to locate.
 * @param options as for {@link canonicalize}.
 * @returns the text and the member's [start, end).
 * @throws ParseError `JSON_NOT_CANONICALIZABLE` as {@link canonicalize}, and
 *   when `value` is not a plain object.
 * @example canonicalizeMember({ b: 1, a: 2, c: 3 }, 'b') // { text: '{"a":2,"b":1,"c":3}', start: 6, end: 12 }
 * @example canonicalizeMember({ a: 2, c: 3 }, 'b') // { text: '{"a":2,"c":3}', start: 6, end: 6 }
 */
export function canonicalizeMember(value: unknown, key: string, options: CanonicalizeOptions = {}): CanonicalMember {
  const maxDepth = checkDepthOption(options.maxDepth ?? JSON_MAX_DEPTH);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return notCanonicalizable('canonicalizeMember: want an object');
  if (!isPlainObject(value)) notCanonicalizable('not a plain object');
  if (Object.getOwnPropertySymbols(value).length > 0) notCanonicalizable('object has symbol keys');
  const walk: Walk = { maxDepth, path: new Set([value]) };
  const record = value as Record<string, unknown>;
  // serializeObject's loop, noting where `key` is or would be. Joined once,
  // like serializeObject, so the text is one flat string (slicing it copies nothing).
  const names = Object.keys(record).sort();
  const parts: string[] = [];
  let at = 1; // length of '{' + the parts so far + their commas
  let start = -1;
  let end = -1;
  for (let i = 0; i < names.length; i++) {
    const name = names[i]!;
    if (start < 0 && name > key) start = end = i === 0 ? at : at - 1; // absent: it goes before this member (and its comma)
    const member = serializeString(name) + ':' + serializeValue(record[name], walk, 1);
    if (name === key) {
      // The comma before it, or (first member) the comma after it when another member follows.
      start = i === 0 ? at : at - 1;
      end = at + member.length + (i === 0 && names.length > 1 ? 1 : 0);
    }
    parts.push(member);
    at += member.length + 1;
  }
  if (start < 0) start = end = names.length === 0 ? 1 : at - 1; // absent: it goes last
  return { text: '{' + parts.join(',') + '}', start, end };
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
