/**
 * RFC 8785 JSON Canonicalization Scheme and the strict I-JSON (RFC 7493)
 * parser, against the RFC's own examples and Appendix B table and against the
 * reference implementation's test data (cyberphone/json-canonicalization
 * testdata/), both kept as files in ./vectors/rfc8785 — see its README for
 * where each file came from.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { OWN_VECTORS_DIR } from './helpers/vectors.js';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { canonicalize, canonicalizeMember, canonicalizeToBytes, isCanonical } from '../src/cjson.js';
import { JSON_MAX_DEPTH, parseJson, type JsonValue } from '../src/ijson.js';
import { ParseError } from '../src/errors.js';
import { encodeUtf8, formatHex } from '../src/encoding.js';
import { assertThrowsCode, onlyParleyErrors } from './helpers/assert.js';

const DIR = join(OWN_VECTORS_DIR, 'rfc8785');
const bytesOf = (path: string): Uint8Array => new Uint8Array(readFileSync(join(DIR, path)));
const textOf = (path: string): string => readFileSync(join(DIR, path), 'utf8');
const hexFile = (path: string): string => textOf(path).split(/\s+/).filter(Boolean).join('').toLowerCase();

function doubleFromHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

const notCanonicalizable = (value: unknown): void => {
  assertThrowsCode(() => canonicalize(value), ParseError, 'JSON_NOT_CANONICALIZABLE');
};
const malformed = (input: string | Uint8Array): void => {
  assertThrowsCode(() => parseJson(input), ParseError, 'JSON_MALFORMED');
};
const nested = (depth: number, open: string, close: string): string => open.repeat(depth) + close.repeat(depth);

describe('RFC 8785 §3.2.2–§3.2.4 sample', () => {
  const input = bytesOf('rfc/sample-3.2.2.input.json');

  it('canonicalizes to the §3.2.3 text and the §3.2.4 bytes', () => {
    const value = parseJson(input);
    expect(canonicalize(value)).toBe(textOf('rfc/sample-3.2.3.output.json'));
    expect(formatHex(canonicalizeToBytes(value))).toBe(hexFile('rfc/sample-3.2.4.outhex.txt'));
  });

  it('the §3.2.3 output is canonical and the input is not', () => {
    expect(isCanonical(bytesOf('rfc/sample-3.2.3.output.json'))).toBe(true);
    expect(isCanonical(input)).toBe(false);
  });
});

describe('RFC 8785 §3.2.3 sorting of object properties', () => {
  it('orders the sample by UTF-16 code units', () => {
    const canonical = canonicalize(parseJson(bytesOf('rfc/sorting-3.2.3.input.json')));
    const names = Object.keys(JSON.parse(canonical) as object);
    // JSON.parse keeps insertion order for non-index keys; "1" is an index key
    // and moves first, so compare the order as it appears in the text instead.
    const expected = textOf('rfc/sorting-3.2.3.order.txt')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as string);
    const positions = expected.map((name) => canonical.indexOf(JSON.stringify(name) + ':'));
    expect(positions.every((p) => p > 0)).toBe(true);
    expect([...positions].sort((a, b) => a - b)).toEqual(positions);
    expect(new Set(names)).toEqual(new Set(expected));
  });

  it('compares code units, not code points and not locale', () => {
    // U+FB33 (one unit) sorts after U+1F600 (surrogates D83D DE00).
    expect(canonicalize({ '\ufb33': 1, '\u{1f600}': 2 })).toBe('{"\u{1f600}":2,"\ufb33":1}');
    expect(canonicalize({ b: 1, B: 2, a: 3, '10': 4, '9': 5, '': 6 })).toBe('{"":6,"10":4,"9":5,"B":2,"a":3,"b":1}');
  });
});

describe('RFC 8785 Appendix B number serialization', () => {
  const table = JSON.parse(textOf('rfc/appendix-b-numbers.json')) as {
    rows: { ieee754: string; expected: string | null; comment: string }[];
  };

  it('has every row of the table', () => {
    expect(table.rows).toHaveLength(26);
  });

  for (const { ieee754, expected, comment } of table.rows) {
    it(`${ieee754} → ${expected ?? 'error'} ${comment}`, () => {
      const value = doubleFromHex(ieee754);
      if (expected === null) {
        notCanonicalizable(value);
        notCanonicalizable([value]);
        return;
      }
      expect(canonicalize(value)).toBe(expected);
      // The canonical text reads back as the same double (−0 excepted: it is "0").
      const back = parseJson(expected);
      expect(back).toBe(value === 0 ? 0 : value);
      expect(isCanonical(encodeUtf8(expected))).toBe(true);
    });
  }

  it('rejects -Infinity too', () => {
    notCanonicalizable(-Infinity);
  });
});

describe('cyberphone/json-canonicalization testdata', () => {
  const names = readdirSync(join(DIR, 'cyberphone/input')).sort();

  it('found the test files', () => {
    expect(names).toEqual(['arrays.json', 'french.json', 'simpleString.json', 'structures.json', 'unicode.json', 'values.json', 'weird.json']);
  });

  for (const name of names.filter((n) => n !== 'arrays.json')) {
    it(`${name}: input canonicalizes to output byte for byte`, () => {
      const output = bytesOf(`cyberphone/output/${name}`);
      const got = canonicalizeToBytes(parseJson(bytesOf(`cyberphone/input/${name}`)));
      expect(formatHex(got)).toBe(formatHex(output));
      expect(isCanonical(output)).toBe(true);
    });
  }

  it('simpleString: outhex bytes', () => {
    const got = canonicalizeToBytes(parseJson(bytesOf('cyberphone/input/simpleString.json')));
    expect(formatHex(got)).toBe(hexFile('cyberphone/outhex/simpleString.txt'));
  });

  it('arrays.json (CRLF input; expected output is ours, upstream output not stored)', () => {
    const got = canonicalize(parseJson(bytesOf('cyberphone/input/arrays.json')));
    expect(got).toBe('[56,{"1":[],"10":null,"d":true}]');
  });
});

describe('RFC 8785 §3.2.2.2 strings', () => {
  it('escapes exactly U+0000–U+001F, " and \\', () => {
    const short: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
    for (let c = 0; c < 0x80; c++) {
      const s = String.fromCharCode(c);
      let want: string;
      if (c === 0x22) want = '\\"';
      else if (c === 0x5c) want = '\\\\';
      else if (c < 0x20) want = short[c] ?? `\\u00${c.toString(16).padStart(2, '0')}`;
      else want = s;
      expect(canonicalize(s)).toBe(`"${want}"`);
    }
    expect(canonicalize('\u001f\u007f\u0080/\u2028')).toBe('"\\u001f\u007f\u0080/\u2028"');
  });

  it('writes non-ASCII and astral characters as UTF-8, unescaped', () => {
    expect(formatHex(canonicalizeToBytes('é€\u{1f600}'))).toBe('22c3a9e282acf09f988022');
  });

  it('does not normalize Unicode', () => {
    expect(canonicalize('e\u0301')).toBe('"e\u0301"');
    expect(canonicalize({ 'e\u0301': 1, '\u00e9': 2 })).toBe('{"e\u0301":1,"\u00e9":2}');
  });

  it('rejects lone surrogates in values and in names', () => {
    for (const s of ['\ud800', '\udfff', 'a\ud83d', '\ude00b', '\ude00\ud83d', '\ud83d\ud83d\ude00']) {
      notCanonicalizable(s);
      notCanonicalizable({ [s]: 1 });
      notCanonicalizable([s]);
    }
  });
});

describe('canonicalize: what is accepted', () => {
  it('literals and -0', () => {
    expect(canonicalize(null)).toBe('null');
    expect(canonicalize(true)).toBe('true');
    expect(canonicalize(false)).toBe('false');
    expect(canonicalize(-0)).toBe('0');
    expect(canonicalize([-0, 1.5e300, 1e-7])).toBe('[0,1.5e+300,1e-7]');
  });

  it('null-prototype objects, shared (non-cyclic) references, an own "__proto__"', () => {
    const bare = Object.create(null) as Record<string, unknown>;
    bare['z'] = 1;
    bare['a'] = 2;
    expect(canonicalize(bare)).toBe('{"a":2,"z":1}');
    const shared = { x: 1 };
    expect(canonicalize([shared, { s: shared }])).toBe('[{"x":1},{"s":{"x":1}}]');
    const proto = JSON.parse('{"__proto__":{"a":1},"b":2}') as unknown;
    expect(canonicalize(proto)).toBe('{"__proto__":{"a":1},"b":2}');
  });

  it('nesting up to the depth limit', () => {
    expect(canonicalize(JSON.parse(nested(JSON_MAX_DEPTH, '[', ']')))).toBe(nested(JSON_MAX_DEPTH, '[', ']'));
    notCanonicalizable(JSON.parse(nested(JSON_MAX_DEPTH + 1, '[', ']')));
    expect(canonicalize([[1]], { maxDepth: 2 })).toBe('[[1]]');
    assertThrowsCode(() => canonicalize([[1]], { maxDepth: 1 }), ParseError, 'JSON_NOT_CANONICALIZABLE');
    expect(() => canonicalize(1, { maxDepth: 0 })).toThrow(RangeError);
  });
});

describe('canonicalize: what is rejected (JSON_NOT_CANONICALIZABLE)', () => {
  class Point {
    x = 1;
  }
  class MyArray extends Array<number> {}
  const cyclicObject: Record<string, unknown> = { a: 1 };
  cyclicObject['self'] = cyclicObject;
  const cyclicArray: unknown[] = [1];
  cyclicArray.push([cyclicArray]);
  const table: [string, unknown][] = [
    ['NaN', NaN],
    ['Infinity', Infinity],
    ['undefined', undefined],
    ['function', () => 1],
    ['symbol', Symbol('s')],
    ['bigint', 1n],
    ['Date', new Date(0)],
    ['Map', new Map()],
    ['Set', new Set()],
    ['RegExp', /x/],
    ['class instance', new Point()],
    ['boxed string', new String('x')],
    ['boxed number', new Number(1)],
    ['Uint8Array', new Uint8Array(1)],
    ['array subclass', MyArray.from([1])],
    ['sparse array', [1, , 3]],
    ['undefined member', { a: undefined }],
    ['undefined element', [undefined]],
    ['nested NaN', { a: [{ b: NaN }] }],
    ['symbol key', { [Symbol('k')]: 1 }],
    ['toJSON is not called', { toJSON: () => 'x' }],
    ['cyclic object', cyclicObject],
    ['cyclic array', cyclicArray],
  ];
  for (const [what, value] of table) it(what, () => notCanonicalizable(value));
});

describe('canonicalizeMember: one canonicalization, and where a top-level member lies', () => {
  const cut = (m: { text: string; start: number; end: number }) => m.text.slice(0, m.start) + m.text.slice(m.end);
  it('the documented example; a first member takes the comma after it, an only member none', () => {
    expect(canonicalizeMember({ b: 1, a: 2, c: 3 }, 'b')).toEqual({ text: '{"a":2,"b":1,"c":3}', start: 6, end: 12 });
    const first = canonicalizeMember({ b: 1, a: 2 }, 'a');
    expect(first.text.slice(first.start, first.end)).toBe('"a":2,');
    expect(cut(first)).toBe('{"b":1}');
    const last = canonicalizeMember({ b: 1, a: 2 }, 'b');
    expect(last.text.slice(last.start, last.end)).toBe(',"b":1');
    const only = canonicalizeMember({ a: [1, { a: 2 }] }, 'a');
    expect(only.text.slice(only.start, only.end)).toBe('"a":[1,{"a":2}]');
    expect(cut(only)).toBe('{}');
  });

  it('finds the top-level member, not a namesake deeper down or inside a string', () => {
    const v = { a: { sig: 1, time: { sig: 2 } }, sig: 'x,"sig":"y"', time: ',"sig":', z: [{ sig: 3 }] };
    const m = canonicalizeMember(v, 'sig');
    expect(m.text.slice(m.start, m.end)).toBe(',"sig":"x,\\"sig\\":\\"y\\""');
    const { sig: _, ...rest } = v;
    expect(cut(m)).toBe(canonicalize(rest));
  });

  it('text is canonicalize(value); cutting the member is canonicalize(value without it) (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }), { minKeys: 1 }), fc.nat(), (o, i) => {
        const value = JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
        const keys = Object.keys(value);
        if (keys.length === 0) return;
        const key = keys[i % keys.length]!;
        const m = canonicalizeMember(value, key);
        expect(m.text).toBe(canonicalize(value));
        const { [key]: _, ...rest } = value;
        expect(cut(m)).toBe(canonicalize(rest));
      }),
      { numRuns: 300 },
    );
  });

  it('an absent member: where it goes, first, last, in the middle or into {}', () => {
    const insert = (m: { text: string; start: number; end: number }, member: string) => {
      expect(m.end).toBe(m.start);
      const comma = m.text === '{}' ? member : m.start === 1 ? `${member},` : `,${member}`;
      return m.text.slice(0, m.start) + comma + m.text.slice(m.start);
    };
    expect(canonicalizeMember({ a: 2, c: 3 }, 'b')).toEqual({ text: '{"a":2,"c":3}', start: 6, end: 6 });
    expect(insert(canonicalizeMember({ b: 1, c: [{ a: 1 }] }, 'a'), '"a":0')).toBe('{"a":0,"b":1,"c":[{"a":1}]}');
    expect(insert(canonicalizeMember({ a: 1, b: { z: 1 } }, 'z'), '"z":0')).toBe('{"a":1,"b":{"z":1},"z":0}');
    expect(insert(canonicalizeMember({}, 'a'), '"a":0')).toBe('{"a":0}');
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 })), fc.string(), (o, key) => {
        const value = JSON.parse(JSON.stringify(o)) as Record<string, unknown>;
        delete value[key];
        const m = canonicalizeMember(value, key);
        expect(m.text).toBe(canonicalize(value));
        expect(insert(m, `${JSON.stringify(key)}:"v"`)).toBe(canonicalize({ ...value, [key]: 'v' }));
      }),
      { numRuns: 300 },
    );
  });

  it('JSON_NOT_CANONICALIZABLE for a non-object, or what canonicalize rejects', () => {
    for (const [v, k] of [[[1], '0'], ['s', 'length'], [null, 'a'], [{ a: NaN }, 'a'], [new Map([['a', 1]]), 'a'], [Object.create({ a: 1 }) as object, 'a'], [{ a: { b: NaN } }, 'c']] as [unknown, string][]) {
      assertThrowsCode(() => canonicalizeMember(v, k), ParseError, 'JSON_NOT_CANONICALIZABLE');
    }
    let deep: unknown = 1;
    for (let i = 0; i < JSON_MAX_DEPTH; i++) deep = { a: deep };
    expect(canonicalizeMember(deep, 'a').text).toBe(canonicalize(deep));
    deep = { a: deep };
    assertThrowsCode(() => canonicalize(deep), ParseError, 'JSON_NOT_CANONICALIZABLE');
    assertThrowsCode(() => canonicalizeMember(deep, 'a'), ParseError, 'JSON_NOT_CANONICALIZABLE');
    expect(() => canonicalizeMember({ a: { a: 1 } }, 'a', { maxDepth: 2 })).not.toThrow();
    assertThrowsCode(() => canonicalizeMember({ a: { a: 1 } }, 'a', { maxDepth: 1 }), ParseError, 'JSON_NOT_CANONICALIZABLE');
  });
});

describe('parseJson: RFC 8259 grammar with I-JSON (RFC 7493) restrictions', () => {
  it('accepts every JSON value at the top level, with JSON whitespace', () => {
    expect(parseJson(' \t\r\n{"a" : [ 1 , -0.5e-3 , true , false , null , "x" ] }\n')).toEqual({
      a: [1, -0.0005, true, false, null, 'x'],
    });
    expect(parseJson('0')).toBe(0);
    expect(Object.is(parseJson('-0'), -0)).toBe(true);
    expect(parseJson('"\\u00e9\\uD83D\\uDE00\\/\\b\\f\\n\\r\\t"')).toBe('é\u{1f600}/\b\f\n\r\t');
    expect(parseJson('1E2')).toBe(100);
    expect(parseJson('1e-400')).toBe(0);
    expect(parseJson('[]')).toEqual([]);
    expect(parseJson('{}')).toEqual({});
  });

  it('keeps "__proto__" as an own member, like JSON.parse', () => {
    const v = parseJson('{"__proto__":{"polluted":1}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.keys(v)).toEqual(['__proto__']);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  const malformedTable: [string, string | Uint8Array][] = [
    ['empty', ''],
    ['only whitespace', ' \n'],
    ['trailing value', '1 2'],
    ['trailing comma in array', '[1,]'],
    ['trailing comma in object', '{"a":1,}'],
    ['leading zero', '01'],
    ['leading plus', '+1'],
    ['bare minus', '-'],
    ['dot without digits', '1.'],
    ['leading dot', '.5'],
    ['exponent without digits', '1e'],
    ['hex number', '0x10'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['overflow to Infinity', '1e400'],
    ['overflow to -Infinity', '[-1e400]'],
    ['single quotes', "'a'"],
    ['unquoted name', '{a:1}'],
    ['missing colon', '{"a" 1}'],
    ['unterminated string', '"abc'],
    ['unterminated array', '[1'],
    ['unterminated object', '{"a":1'],
    ['raw control character in string', '"a\u0001b"'],
    ['raw newline in string', '"a\nb"'],
    ['bad escape', '"\\x"'],
    ['short \\u escape', '"\\u12"'],
    ['non-hex \\u escape', '"\\u12g4"'],
    ['escaped lone high surrogate', '"\\ud800"'],
    ['escaped lone low surrogate', '"\\udc00"'],
    ['escaped reversed pair', '"\\ude00\\ud83d"'],
    ['raw lone surrogate in string input', '"\ud800"'],
    ['lone surrogate in a name', '{"\\ud800":1}'],
    ['duplicate name', '{"a":1,"a":2}'],
    ['duplicate name after unescaping', '{"a":1,"\\u0061":2}'],
    ['duplicate "__proto__"', '{"__proto__":1,"__proto__":2}'],
    ['nested duplicate', '[{"x":{"k":1,"k":1}}]'],
    ['bad literal', 'tru'],
    ['capitalized literal', 'True'],
    ['comment', '[1 /* c */]'],
    ['non-JSON whitespace', '\u00a01'],
    ['BOM in string input', '\ufeff1'],
    ['UTF-8 BOM', new Uint8Array([0xef, 0xbb, 0xbf, 0x31])],
    ['invalid UTF-8', new Uint8Array([0x22, 0xff, 0x22])],
    ['overlong UTF-8', new Uint8Array([0x22, 0xc0, 0xaf, 0x22])],
    ['UTF-8 encoded surrogate', new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22])],
    ['truncated UTF-8', new Uint8Array([0x22, 0xe2, 0x82, 0x22])],
  ];
  for (const [what, input] of malformedTable) it(`JSON_MALFORMED: ${what}`, () => malformed(input));

  it('INPUT_TOO_LARGE past maxBytes, counted in UTF-8', () => {
    expect(parseJson('"éé"', { maxBytes: 6 })).toBe('éé');
    assertThrowsCode(() => parseJson('"éé"', { maxBytes: 5 }), ParseError, 'INPUT_TOO_LARGE');
    assertThrowsCode(() => parseJson(encodeUtf8('"éé"'), { maxBytes: 5 }), ParseError, 'INPUT_TOO_LARGE');
    assertThrowsCode(() => parseJson(' '.repeat(2 * 1024 * 1024) + '1'), ParseError, 'INPUT_TOO_LARGE');
  });

  it('INPUT_TOO_LARGE past maxDepth', () => {
    expect(parseJson(nested(JSON_MAX_DEPTH, '[', ']'))).toBeDefined();
    assertThrowsCode(() => parseJson(nested(JSON_MAX_DEPTH + 1, '[', ']')), ParseError, 'INPUT_TOO_LARGE');
    assertThrowsCode(() => parseJson('{"a":{"b":{}}}', { maxDepth: 2 }), ParseError, 'INPUT_TOO_LARGE');
    // Far deeper than the JS stack allows: still a typed error, not a RangeError.
    assertThrowsCode(() => parseJson(nested(100_000, '[', ']'), { maxDepth: 1000 }), ParseError, 'INPUT_TOO_LARGE');
    expect(() => parseJson('1', { maxDepth: 1001 })).toThrow(RangeError);
  });
});

describe('isCanonical', () => {
  const yes = ['{"a":1,"b":[true,null,"x"]}', '0', '-1.5', '1e+21', '"\\u001f"', '[]', '{}', '9007199254740992'];
  const no = [
    '{"b":1,"a":2}', // order
    '{"a": 1}', // whitespace
    ' 0',
    '1.0',
    '1E+21',
    '-0',
    '"\\u0041"', // needless escape
    '"\\/"',
    '"\\u001F"', // uppercase hex
    '9007199254740993', // not exact as a double: reads back as ...992
    '{"a":1,"a":1}', // duplicate
    '[1,', // malformed
    '',
  ];
  for (const s of yes) it(`canonical: ${s}`, () => expect(isCanonical(encodeUtf8(s))).toBe(true));
  for (const s of no) it(`not canonical: ${JSON.stringify(s)}`, () => expect(isCanonical(encodeUtf8(s))).toBe(false));
  it('not canonical: invalid UTF-8', () => expect(isCanonical(new Uint8Array([0x22, 0xff, 0x22]))).toBe(false));
});

describe('properties', () => {
  const jsonValue = fc.oneof(fc.jsonValue(), fc.jsonValue({ stringUnit: 'binary' }));

  it('canonicalize is idempotent through JSON.parse', () => {
    fc.assert(
      fc.property(jsonValue, (v) => {
        const c = canonicalize(v);
        expect(canonicalize(JSON.parse(c))).toBe(c);
        expect(canonicalize(parseJson(c))).toBe(c);
        expect(isCanonical(canonicalizeToBytes(v))).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('canonicalize does not depend on member insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'binary' }), fc.jsonValue()), (o) => {
        const reversed = Object.fromEntries(Object.entries(o).reverse());
        expect(canonicalize(reversed)).toBe(canonicalize(o));
      }),
    );
  });

  it('parseJson agrees with JSON.parse on valid JSON without duplicate names', () => {
    fc.assert(
      fc.property(jsonValue, fc.boolean(), (v, pretty) => {
        const text = pretty ? JSON.stringify(v, null, 2) : JSON.stringify(v);
        expect(parseJson(text)).toStrictEqual(JSON.parse(text));
        expect(parseJson(encodeUtf8(text))).toStrictEqual(JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  const mutated = fc
    .tuple(jsonValue, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 2 })), { minLength: 1, maxLength: 4 }))
    .map(([v, edits]) => {
      const bytes = [...canonicalizeToBytes(v)];
      for (const [at, byte, op] of edits) {
        const i = bytes.length === 0 ? 0 : at % bytes.length;
        if (op === 0) bytes[i] = byte; // flip
        else if (op === 1) bytes.splice(i, 0, byte); // insert
        else bytes.splice(i, 1); // delete
      }
      return new Uint8Array(bytes);
    });

  it('mutated and random inputs only ever throw ParleyError, and accept nothing JSON.parse rejects', () => {
    const checkBytes = (bytes: Uint8Array): void => {
      onlyParleyErrors(() => isCanonical(bytes));
      const err = onlyParleyErrors(() => {
        const v = parseJson(bytes);
        // Whatever we accept is JSON: JSON.parse reads it to the same value.
        expect(v).toStrictEqual(JSON.parse(new TextDecoder().decode(bytes)));
      });
      if (err !== undefined) expect(['JSON_MALFORMED', 'INPUT_TOO_LARGE']).toContain(err.code);
    };
    fc.assert(fc.property(mutated, checkBytes), { numRuns: 2000 });
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), checkBytes), { numRuns: 1000 });
    // Strings with arbitrary UTF-16 code units, lone surrogates included.
    const codeUnits = fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 32 }).map((a) => String.fromCharCode(...a));
    fc.assert(
      fc.property(codeUnits, (s) => {
        onlyParleyErrors(() => parseJson(s));
        onlyParleyErrors(() => parseJson(`"${s}"`));
        onlyParleyErrors(() => canonicalize(s));
        onlyParleyErrors(() => canonicalize({ [s]: s }));
      }),
      { numRuns: 1000 },
    );
  });
});

// Keep the exported type in use so the test fails to compile if it drifts.
const _typed: JsonValue = parseJson('[1,{"a":null}]');
void _typed;
