/**
 * The OASIS STIX 2.1 JSON schemas (oasis-open/cti-stix2-json-schemas, BSD-3;
 * shared/vectors/stix2.1/schemas) loaded into ajv's draft 2020-12 validator,
 * every file under its own `$id` so their relative `$ref`s resolve. Used by
 * every test that checks an exported bundle (core, node, cli).
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { VECTORS_DIR } from './vectors.js';

export const STIX_SCHEMAS_DIR = join(VECTORS_DIR, 'stix2.1', 'schemas');
const BASE = 'http://raw.githubusercontent.com/oasis-open/cti-stix2-json-schemas/stix2.1/schemas/';

/** A validator for each schema file, keyed `sdos/incident`, `common/bundle`, …; throws when the schemas are missing. */
export function stixValidators() {
  // CommonJS modules: the class / plugin is the default export or its `.default`, depending on the loader.
  const Ajv = ((Ajv2020 as unknown as { default?: typeof Ajv2020 }).default ?? Ajv2020) as unknown as typeof Ajv2020.default;
  const formats = ((addFormats as unknown as { default?: typeof addFormats }).default ?? addFormats) as unknown as typeof addFormats.default;
  // The schemas' patterns are ECMA-262 without the u flag (`\\-`).
  const ajv = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false });
  formats(ajv);
  const names: string[] = [];
  for (const dir of ['common', 'sdos', 'sros', 'observables']) {
    for (const f of readdirSync(join(STIX_SCHEMAS_DIR, dir))) {
      if (!f.endsWith('.json')) continue;
      const schema = JSON.parse(readFileSync(join(STIX_SCHEMAS_DIR, dir, f), 'utf8')) as { $id: string };
      if (schema.$id !== `${BASE}${dir}/${f}`) throw new Error(`unexpected $id in ${dir}/${f}: ${schema.$id}`);
      ajv.addSchema(schema);
      names.push(`${dir}/${f.slice(0, -5)}`);
    }
  }
  if (names.length < 50) throw new Error(`only ${names.length} STIX schemas in ${STIX_SCHEMAS_DIR}`);
  const get = (name: string) => {
    const v = ajv.getSchema(`${BASE}${name}.json`);
    if (!v) throw new Error(`no STIX schema ${name}`);
    return v;
  };
  /** Schema of one object by its type. */
  const forType = (type: string) => {
    if (type === 'relationship' || type === 'sighting') return get(`sros/${type}`);
    if (['marking-definition', 'extension-definition', 'language-content', 'bundle'].includes(type)) return get(`common/${type}`);
    if (names.includes(`observables/${type}`)) return get(`observables/${type}`);
    return get(`sdos/${type}`);
  };
  // bundle.json lists the object schemas it accepts in a oneOf that predates some STIX 2.1 types (incident,
  // note, opinion, grouping, location, extension-definition; cf. oasis-open/cti-stix2-json-schemas#147),
  // and its custom-object branch rejects them too (they match both core.json and cyber-observable-core.json).
  const bundleSchema = JSON.parse(readFileSync(join(STIX_SCHEMAS_DIR, 'common', 'bundle.json'), 'utf8')) as {
    properties: { objects: { items: { anyOf: [{ oneOf: { $ref: string }[] }] } } };
  };
  /** The object types bundle.json's oneOf accepts. */
  const bundleTypes = new Set(bundleSchema.properties.objects.items.anyOf[0].oneOf.map((r) => r.$ref.replace(/^.*\//, '').replace(/\.json$/, '')));
  /**
   * Errors of a bundle; [] when valid: every object against its own type's schema, and the bundle
   * against bundle.json with the objects of the types bundle.json does not list (checked by their own
   * schema above) left out of that one check.
   */
  const bundleErrors = (bundle: unknown): string[] => {
    const errs: string[] = [];
    const objects = (bundle as { objects: { type: string; id: string }[] }).objects;
    for (const o of objects) {
      const v = forType(o.type);
      if (!v(o)) errs.push(`${o.id}: ${ajv.errorsText(v.errors)}`);
    }
    const b = get('common/bundle');
    const shell = { ...(bundle as object), objects: objects.filter((o) => bundleTypes.has(o.type)) };
    if (!b(shell)) errs.push(`bundle: ${ajv.errorsText(b.errors)}`);
    return errs;
  };
  /** A validator for another schema (an extension's), in the same ajv instance. */
  const compile = (schema: object) => ajv.compile(schema);
  return { get, forType, bundleErrors, bundleTypes, compile };
}
