/**
 * Disclosures (src/eval/disclosure.ts): the SD-JWT specification's own
 * example disclosures (test/vectors/eval/sd-jwt-rfc9901.json, copied from
 * RFC 9901) and Parley's vectors (parley-disclosures.json, made by
 * test/fixtures/make-eval-vectors.py with Python, not with this code), byte
 * for byte in both crypto bindings; every typed error; and the
 * commit → select → open round trip as a property.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type JsonObject,
  type PathedDisclosure,
  MIN_DECOYS,
  SD_PAD,
  commitClaims,
  disclosureDigest,
  makeDisclosure,
  openDisclosures,
  parseDisclosure,
  selectDisclosures,
} from '../src/eval/disclosure.js';
import { encodeUtf8, formatBase64url } from '../src/encoding.js';
import { sha256 } from '../src/crypto/provider.js';
import { ArgumentError, ParseError, VerificationError } from '../src/errors.js';
import type { JsonValue } from '../src/ijson.js';
import { assertThrowsCode, onlyParleyErrors } from './helpers/assert.js';
import { providers, useProvider } from './helpers/providers.js';
import { OWN_VECTORS_DIR } from './helpers/vectors.js';

interface SpecVectors {
  disclosures: { id: string; salt: string; name: string; value: JsonValue; encoded: string; digest: string }[];
  alternative_spellings: { id: string; salt: string; name: string; value: JsonValue; encoded: string }[];
  array_element_digests: { id: string; encoded: string; digest: string }[];
}
interface OwnVectors {
  single: { salt: string; name: string; value: JsonValue; encoded: string; digest: string }[];
  tree: { claims: JsonObject; leafPaths: string[]; sd: string[]; disclosures: (PathedDisclosure & { value: JsonValue })[] };
}
const spec = JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'eval/sd-jwt-rfc9901.json'), 'utf8')) as SpecVectors;
const own = JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'eval/parley-disclosures.json'), 'utf8')) as OwnVectors;

const b64uJson = (v: unknown) => formatBase64url(encodeUtf8(JSON.stringify(v)));
/** The decoy rule of the vector generator: i-th decoy = digest form of SHA-256(bytes([i]) * 32). */
function vectorDecoys(): () => string {
  let i = 0;
  return () => formatBase64url(sha256(new Uint8Array(32).fill(i++)));
}
const vectorSalt = (path: string) => formatBase64url(sha256(encodeUtf8(`salt:${path}`)).slice(0, 16));

for (const p of providers) {
  describe(`disclosure vectors (${p.name})`, () => {
    useProvider(p);

    for (const v of spec.disclosures) {
      it(`RFC 9901: ${v.id} parses and digests as published`, () => {
        const d = parseDisclosure(v.encoded);
        expect([d.salt, d.name, d.value]).toEqual([v.salt, v.name, v.value]);
        expect(d.digest).toBe(v.digest);
        expect(disclosureDigest(v.encoded)).toBe(v.digest);
        // It opens against a commitment holding its digest.
        expect(openDisclosures([v.digest], [v.encoded]).claims).toEqual({ [v.name]: v.value });
      });
    }

    it('RFC 9901: other JSON spellings of the same array are other disclosures (the digest is over the text)', () => {
      const digests = new Set(spec.disclosures.map((d) => d.digest));
      for (const v of spec.alternative_spellings) {
        const d = parseDisclosure(v.encoded);
        expect([d.salt, d.name, d.value]).toEqual([v.salt, v.name, v.value]);
        expect(digests.has(d.digest)).toBe(false);
        digests.add(d.digest);
        // The specification's committed digest does not open with another spelling.
        assertThrowsCode(() => openDisclosures([spec.disclosures[0]!.digest], [v.encoded]), VerificationError, 'EVAL_DISCLOSURE_MISMATCH');
      }
    });

    it('RFC 9901: the array-element digest (same rule); Parley refuses array-element disclosures', () => {
      for (const v of spec.array_element_digests) {
        expect(disclosureDigest(v.encoded)).toBe(v.digest);
        assertThrowsCode(() => parseDisclosure(v.encoded), ParseError, 'EVAL_DISCLOSURE_MALFORMED');
      }
    });

    for (const v of own.single) {
      it(`Parley: makeDisclosure ${v.name} byte for byte`, () => {
        const d = makeDisclosure(v.name, v.value, v.salt);
        expect(d.encoded).toBe(v.encoded);
        expect(d.digest).toBe(v.digest);
        expect(parseDisclosure(v.encoded)).toEqual(d);
      });
    }

    it('Parley: commitClaims of a nested tree byte for byte (salts, decoys, order, sd)', () => {
      const { sd, disclosures } = commitClaims(own.tree.claims, { leafPaths: own.tree.leafPaths, salt: vectorSalt, decoy: vectorDecoys() });
      expect(sd).toEqual(own.tree.sd);
      expect(disclosures.map((d) => ({ path: d.path, salt: d.salt, name: d.name, value: d.value, encoded: d.encoded, digest: d.digest }))).toEqual(own.tree.disclosures);
      const opened = openDisclosures(own.tree.sd, own.tree.disclosures.map((d) => d.encoded));
      expect(opened.claims).toEqual(own.tree.claims);
    });
  });
}

describe('commitClaims', () => {
  it('pads every _sd list with at least 3 decoys to a multiple of 8, sorted', () => {
    for (let n = 0; n < 20; n++) {
      const claims: JsonObject = {};
      for (let i = 0; i < n; i++) claims[`c${i}`] = i;
      claims['nested'] = { a: 1, b: 2 };
      const { sd, disclosures } = commitClaims(claims);
      for (const list of [sd, (disclosures.find((d) => d.path === 'nested')!.value as { _sd: string[] })._sd]) {
        expect(list.length % SD_PAD).toBe(0);
        expect([...list].sort()).toEqual(list);
        expect(new Set(list).size).toBe(list.length);
      }
      expect(sd.length - (n + 1)).toBeGreaterThanOrEqual(MIN_DECOYS);
      // 16-byte fresh salts, all different.
      expect(new Set(disclosures.map((d) => d.salt)).size).toBe(disclosures.length);
      for (const d of disclosures) expect(d.salt).toMatch(/^[A-Za-z0-9_-]{22}$/);
    }
  });

  it('refuses a claim name with "." or outside the syntax, and a leaf object holding _sd (EVAL_DOCUMENT_INVALID)', () => {
    assertThrowsCode(() => commitClaims({ 'a.b': 1 }), ParseError, 'EVAL_DOCUMENT_INVALID');
    assertThrowsCode(() => commitClaims({ _sd: 1 }), ParseError, 'EVAL_DOCUMENT_INVALID');
    assertThrowsCode(() => commitClaims({ x: { '1bad': 1 } }), ParseError, 'EVAL_DOCUMENT_INVALID');
    assertThrowsCode(() => commitClaims({ r: { _sd: [] } }, { leafPaths: ['r'] }), ParseError, 'EVAL_DOCUMENT_INVALID');
    const many: JsonObject = {};
    for (let i = 0; i < 510; i++) many[`c${i}`] = i;
    assertThrowsCode(() => commitClaims(many), ParseError, 'EVAL_DOCUMENT_INVALID');
  });
});

describe('selectDisclosures', () => {
  const { disclosures } = commitClaims({ model: { name: 'M', version: '1' }, redLines: { cbrn: { outcome: 'below', threshold: 't' } }, evaluator: 'E' });
  it('adds every ancestor, and every descendant of a nested claim selected whole', () => {
    expect(selectDisclosures(disclosures, ['redLines.cbrn.outcome']).map((d) => d.path).sort()).toEqual(['redLines', 'redLines.cbrn', 'redLines.cbrn.outcome']);
    expect(selectDisclosures(disclosures, ['model']).map((d) => d.path).sort()).toEqual(['model', 'model.name', 'model.version']);
  });
  it('refuses an unknown path (EVAL_CLAIM_UNKNOWN)', () => {
    assertThrowsCode(() => selectDisclosures(disclosures, ['redLines.bio']), ArgumentError, 'EVAL_CLAIM_UNKNOWN');
    assertThrowsCode(() => selectDisclosures(disclosures, ['nope']), ArgumentError, 'EVAL_CLAIM_UNKNOWN');
    // An ancestor missing from the salts file makes the path unknown too.
    const orphan = disclosures.filter((d) => d.path !== 'redLines.cbrn');
    assertThrowsCode(() => selectDisclosures(orphan, ['redLines.cbrn.outcome']), ArgumentError, 'EVAL_CLAIM_UNKNOWN');
  });
});

describe('openDisclosures: typed errors', () => {
  const { sd, disclosures } = commitClaims({ model: { name: 'M', version: '1' }, redLines: { cbrn: { outcome: 'below', threshold: 't' } }, evaluator: 'E' });
  const enc = (paths: string[]) => selectDisclosures(disclosures, paths).map((d) => d.encoded);
  const byPath = (p: string) => disclosures.find((d) => d.path === p)!;

  it('opens a nested reveal, hidden siblings absent, revealed sorted by path', () => {
    const { claims, revealed } = openDisclosures(sd, enc(['redLines.cbrn.outcome', 'evaluator']));
    expect(claims).toEqual({ redLines: { cbrn: { outcome: 'below' } }, evaluator: 'E' });
    expect(revealed.map((r) => r.path)).toEqual(['evaluator', 'redLines', 'redLines.cbrn', 'redLines.cbrn.outcome']);
    expect(revealed.find((r) => r.path === 'redLines.cbrn.outcome')).toMatchObject({ name: 'outcome', value: 'below', digest: byPath('redLines.cbrn.outcome').digest });
  });

  it('a changed value (same salt, other value) is EVAL_DISCLOSURE_MISMATCH', () => {
    const e = byPath('evaluator');
    const forged = makeDisclosure('evaluator', 'Someone else', e.salt).encoded;
    assertThrowsCode(() => openDisclosures(sd, [forged]), VerificationError, 'EVAL_DISCLOSURE_MISMATCH');
    const lowered = makeDisclosure('outcome', 'at-or-above', byPath('redLines.cbrn.outcome').salt).encoded;
    assertThrowsCode(() => openDisclosures(sd, [byPath('redLines').encoded, byPath('redLines.cbrn').encoded, lowered]), VerificationError, 'EVAL_DISCLOSURE_MISMATCH');
  });

  it('a child without its parent is EVAL_DISCLOSURE_MISMATCH', () => {
    assertThrowsCode(() => openDisclosures(sd, [byPath('redLines').encoded, byPath('redLines.cbrn.outcome').encoded]), VerificationError, 'EVAL_DISCLOSURE_MISMATCH');
    assertThrowsCode(() => openDisclosures(sd, [byPath('model.name').encoded]), VerificationError, 'EVAL_DISCLOSURE_MISMATCH');
  });

  it('a disclosure given twice, or listed under two parents, is EVAL_DISCLOSURE_DUPLICATE', () => {
    const e = byPath('evaluator').encoded;
    assertThrowsCode(() => openDisclosures(sd, [e, e]), VerificationError, 'EVAL_DISCLOSURE_DUPLICATE');
    // A commitment listing one digest twice.
    assertThrowsCode(() => openDisclosures([...sd, byPath('evaluator').digest], [e]), VerificationError, 'EVAL_DISCLOSURE_DUPLICATE');
    // A nested claim whose _sd also lists a top-level claim: the claim sits under two parents.
    const parent = makeDisclosure('extra', { _sd: [byPath('evaluator').digest] });
    assertThrowsCode(() => openDisclosures([...sd, parent.digest].sort(), [parent.encoded, e]), VerificationError, 'EVAL_DISCLOSURE_DUPLICATE');
    // Two claims of one name under one parent.
    const twin = makeDisclosure('evaluator', 'E2');
    assertThrowsCode(() => openDisclosures([...sd, twin.digest].sort(), [e, twin.encoded]), VerificationError, 'EVAL_DISCLOSURE_DUPLICATE');
  });

  it('two disclosures sharing a salt are EVAL_SALT_REUSED', () => {
    const a = makeDisclosure('a', 1, byPath('evaluator').salt);
    const b = makeDisclosure('b', 2, byPath('evaluator').salt);
    assertThrowsCode(() => openDisclosures([a.digest, b.digest].sort(), [a.encoded, b.encoded]), VerificationError, 'EVAL_SALT_REUSED');
  });

  it('malformed disclosures are EVAL_DISCLOSURE_MALFORMED', () => {
    const salt = byPath('evaluator').salt;
    const bad = [
      '',
      'not base64url!',
      `${byPath('evaluator').encoded}=`,
      b64uJson('text'),
      b64uJson([salt, 'a']),
      b64uJson([salt, 'a', 1, 2]),
      b64uJson(['c2hvcnQ', 'a', 1]), // 5-byte salt
      b64uJson([salt, '_sd', 1]),
      b64uJson([salt, '1a', 1]),
      b64uJson([salt, 7, 1]),
      b64uJson([salt, 'a', { _sd: ['x'] }]),
      b64uJson([salt, 'a', { _sd: [byPath('model').digest], other: 1 }]),
      b64uJson([salt, 'a', { _sd: [byPath('model').digest, byPath('model').digest] }]),
      formatBase64url(new Uint8Array([0x5b, 0xff, 0x5d])),
      formatBase64url(encodeUtf8(`["${salt}","a",1,]`)),
    ];
    for (const b of bad) assertThrowsCode(() => parseDisclosure(b), ParseError, 'EVAL_DISCLOSURE_MALFORMED');
    for (const b of bad) assertThrowsCode(() => openDisclosures(sd, [b]), ParseError, 'EVAL_DISCLOSURE_MALFORMED');
    assertThrowsCode(() => makeDisclosure('a', 1, 'short'), ParseError, 'EVAL_DISCLOSURE_MALFORMED');
    assertThrowsCode(() => makeDisclosure('-a', 1), ParseError, 'EVAL_DISCLOSURE_MALFORMED');
  });
});

const claimName = fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,6}$/);
const leaf: fc.Arbitrary<JsonValue> = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.integer(), { maxLength: 3 }));
const tree: fc.Arbitrary<JsonObject> = fc.letrec<{ obj: JsonObject; value: JsonValue }>((t) => ({
  obj: fc.dictionary(claimName, t('value'), { maxKeys: 4 }) as fc.Arbitrary<JsonObject>,
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, t('obj')),
})).obj;

/** The part of `claims` at `paths` (and their ancestors), as openDisclosures should show it. */
function expected(claims: JsonObject, all: readonly PathedDisclosure[], shown: readonly PathedDisclosure[]): JsonObject {
  const keep = new Set(shown.map((d) => d.path));
  const walk = (o: JsonObject, prefix: string): JsonObject => {
    const out: JsonObject = {};
    for (const [k, v] of Object.entries(o)) {
      const p = prefix ? `${prefix}.${k}` : k;
      if (!keep.has(p)) continue;
      const nested = all.find((d) => d.path === p)!.value;
      out[k] = typeof nested === 'object' && nested !== null && !Array.isArray(nested) && '_sd' in nested ? walk(v as JsonObject, p) : v;
    }
    return out;
  };
  return walk(claims, '');
}

describe('commit → select → open (property)', () => {
  it('opens exactly the selected claims and their ancestors, for any tree and any selection', () => {
    fc.assert(
      fc.property(tree, fc.array(fc.nat(), { maxLength: 5 }), (claims, picks) => {
        const { sd, disclosures } = commitClaims(claims);
        const paths = disclosures.length === 0 ? [] : picks.map((i) => disclosures[i % disclosures.length]!.path);
        const shown = selectDisclosures(disclosures, paths);
        const { claims: opened, revealed } = openDisclosures(sd, shown.map((d) => d.encoded));
        expect(opened).toEqual(expected(claims, disclosures, shown));
        expect(revealed.map((r) => r.path).sort()).toEqual(shown.map((d) => d.path).sort());
        // Revealing everything gives the whole tree back.
        expect(openDisclosures(sd, disclosures.map((d) => d.encoded)).claims).toEqual(claims);
      }),
      { numRuns: 150 },
    );
  });
});

describe('openDisclosures on hostile input (property)', () => {
  it('fails only with ParleyErrors, whatever the disclosures and digests', () => {
    const { sd, disclosures } = commitClaims({ a: { b: 1 }, c: 'x' });
    const json = fc.jsonValue({ maxDepth: 3 });
    const encodedJson = json.map((v) => formatBase64url(encodeUtf8(JSON.stringify(v))));
    const triple = fc.tuple(fc.oneof(fc.constant(disclosures[0]!.salt), fc.string()), fc.oneof(claimName, fc.string()), json).map((t) => formatBase64url(encodeUtf8(JSON.stringify(t))));
    const item = fc.oneof(encodedJson, triple, fc.string(), fc.constantFrom(...disclosures.map((d) => d.encoded)));
    fc.assert(
      fc.property(fc.array(item, { maxLength: 6 }), fc.array(fc.oneof(fc.constantFrom(...sd), fc.string()), { maxLength: 4 }), (enc, extra) => {
        onlyParleyErrors(() => openDisclosures([...sd, ...extra], enc));
      }),
      { numRuns: 300 },
    );
  });
});
