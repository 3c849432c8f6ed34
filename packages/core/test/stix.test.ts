/**
 * `@parley/core/stix`: UUIDv5 (RFC 9562 vector, ATLAS's own ids for every
 * technique — vectors/stix/atlas-stix-ids.json, from ATLAS's STIX bundle),
 * the TLP 2.0 objects, the ATLAS data and mapping, and the bundle of a rich
 * incident (vectors/stix/incident-rich.json) against the OASIS STIX 2.1 JSON
 * schemas: every object, every marking, determinism, versions, revocation.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { build } from 'esbuild';
import { REPO_ROOT } from './helpers/vectors.js';
import { describe, expect, it } from 'vitest';
import {
  ATLAS_TACTICS,
  ATLAS_TECHNIQUES,
  ATLAS_VERSION,
  CATEGORY_ATLAS,
  INCIDENT_CORE_EXTENSION_ID,
  PARLEY_NAMESPACE_UUID,
  TLP2_EXTENSION_ID,
  TLP2_MARKING_IDS,
  type StixEntrySource,
  type StixIncidentInput,
  type StixObject,
  atlasAttackPatternId,
  checkAtlasTechniques,
  incidentBundle,
  incidentObjectSources,
  incidentObjects,
  parleyStixId,
  stixBundle,
  tlpObjects,
  uuidv5,
} from '../src/stix/index.js';
import { checkBody } from '../src/entry/bodies.js';
import { TAXONOMY_V1 } from '../src/taxonomy/taxonomy.js';
import { MARKINGS } from '../src/taxonomy/types.js';
import { ParleyError } from '../src/errors.js';
import { stixValidators } from './helpers/stix-schemas.js';

const vec = <T>(name: string): T => JSON.parse(readFileSync(new URL(`./vectors/stix/${name}`, import.meta.url), 'utf8')) as T;
const rich = vec<{ input: StixIncidentInput }>('incident-rich.json').input;
const schemas = stixValidators();
const byId = (objs: readonly StixObject[], id: string) => objs.find((o) => o.id === id);
const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof ParleyError) return e.code;
    throw e;
  }
  return undefined;
};

describe('uuidv5', () => {
  it('gives the RFC 9562 Appendix A.4 example', () => {
    expect(uuidv5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
  });
  it("gives ATLAS's own STIX id of every technique (atlas-stix-ids.json, from ATLAS's bundle)", () => {
    const { vectors } = vec<{ vectors: { technique: string; id: string }[] }>('atlas-stix-ids.json');
    expect(vectors.length).toBe(170);
    expect(atlasAttackPatternId('AML.T0051')).toBe('attack-pattern--6ff098e9-2864-579e-bebb-a0f1c92ec772');
    for (const v of vectors) expect(atlasAttackPatternId(v.technique), v.technique).toBe(v.id);
  });
  it('refuses a namespace that is not a UUID', () => {
    expect(code(() => uuidv5('x', 'not-a-uuid'))).toBe('STIX_INPUT_INVALID');
  });
});

describe('ATLAS data and the taxonomy mapping', () => {
  it('ships a versioned technique list whose tactics all exist', () => {
    expect(ATLAS_VERSION).toMatch(/^\d+\.\d+\.\d+$/);
    const tactics = new Set(ATLAS_TACTICS.map((t) => t.id));
    for (const t of ATLAS_TECHNIQUES) {
      expect(t.tactics.length, t.id).toBeGreaterThan(0);
      for (const x of t.tactics) expect(tactics.has(x), `${t.id} ${x}`).toBe(true);
    }
    expect(readFileSync(new URL('../src/stix/atlas/LICENSE', import.meta.url), 'utf8')).toContain('Apache License, Version 2.0');
  });
  it('maps every category of taxonomy v1 to ids that exist in the shipped list', () => {
    const techniques = new Set(ATLAS_TECHNIQUES.map((t) => t.id));
    const tactics = new Set(ATLAS_TACTICS.map((t) => t.id));
    expect(Object.keys(CATEGORY_ATLAS).sort()).toEqual(TAXONOMY_V1.categories.map((c) => c.code).sort());
    for (const [cat, m] of Object.entries(CATEGORY_ATLAS)) {
      for (const t of m.techniques) expect(techniques.has(t), `${cat} ${t}`).toBe(true);
      for (const t of m.tactics) expect(tactics.has(t), `${cat} ${t}`).toBe(true);
      expect(m.incidentTypes.length, cat).toBeGreaterThan(0);
      for (const t of m.incidentTypes) expect(t).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);
    }
  });
  it('every "ATLAS …" reference in the taxonomy categories is in the shipped list', () => {
    for (const c of TAXONOMY_V1.categories) for (const ref of c.mapsTo) {
      const m = /^ATLAS (AML\.T\d{4}(?:\.\d{3})?)/.exec(ref);
      if (m) expect(() => checkAtlasTechniques([m[1]!]), `${c.code} ${ref}`).not.toThrow();
    }
  });
  it('docs/interop.md shows the mapping as the data file has it', () => {
    const doc = readFileSync(join(REPO_ROOT, 'docs/interop.md'), 'utf8');
    for (const [cat, m] of Object.entries(CATEGORY_ATLAS)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${cat}\` `));
      expect(row, cat).toBeDefined();
      const cells = row!.split(' | ');
      for (const t of m.tactics) expect(cells[1], `${cat} ${t}`).toContain(t);
      for (const t of m.techniques) expect(cells[2], `${cat} ${t}`).toContain(t);
      expect(cells[3]!.replace(/ \|$/, ''), cat).toBe(m.incidentTypes.join(', '));
    }
  });
  it('refuses a technique id that is not in the list with ATLAS_TECHNIQUE_UNKNOWN', () => {
    expect(code(() => checkAtlasTechniques(['AML.T0051', 'AML.T9999']))).toBe('ATLAS_TECHNIQUE_UNKNOWN');
    expect(code(() => checkAtlasTechniques(['AML.T0051', 'AML.T0051.000']))).toBeUndefined();
  });
});

describe('TLP 2.0 objects', () => {
  it('are the OASIS objects with the official ids, and validate', () => {
    const objs = tlpObjects();
    expect(objs.map((o) => o.id)).toEqual([TLP2_EXTENSION_ID, ...Object.values(TLP2_MARKING_IDS)]);
    expect(TLP2_MARKING_IDS['TLP:CLEAR']).toBe('marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487');
    expect(TLP2_MARKING_IDS['TLP:AMBER']).toBe('marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421');
    for (const o of objs) {
      const v = schemas.forType(o.type);
      expect(v(o), `${o.id} ${JSON.stringify(v.errors)}`).toBe(true);
    }
  });
});

describe('incident bundle', () => {
  it('the vector input is made of bodies that pass the entry registry', () => {
    for (const r of rich.reports) expect(() => checkBody('incident.report', r.body)).not.toThrow();
  });
  const bundle = incidentBundle(rich);
  const objs = bundle.objects;

  it('validates against the OASIS STIX 2.1 schemas: the bundle and every object', () => {
    expect(schemas.bundleErrors(bundle)).toEqual([]);
    // The types bundle.json's oneOf does not list are checked by their own schemas only (stix-schemas.ts):
    // if a newer bundle.json lists them, this notices and the workaround can go.
    expect([...new Set(objs.map((o) => o.type))].filter((t) => !schemas.bundleTypes.has(t)).sort()).toEqual(['extension-definition', 'incident', 'note', 'opinion']);
  });
  it('the Incident Core extension of every incident version validates against the OASIS extension schema (excerpt)', () => {
    const check = schemas.compile(vec<object>('incident-core-extension.schema.json'));
    const versions = [objs, incidentObjects({ ...rich, reports: rich.reports.slice(0, 1), acks: [], retractions: [], links: [] })];
    for (const list of versions) {
      const ext = (list.find((o) => o.type === 'incident')!.extensions as Record<string, unknown>)[INCIDENT_CORE_EXTENSION_ID];
      expect(check(ext), JSON.stringify(check.errors)).toBe(true);
    }
    expect(check({ extension_type: 'property-extension', determination: 'confirmed', investigation_status: 'open' })).toBe(false);
  });
  it('the schemas catch what they should: a bad object fails', () => {
    const inc = objs.find((o) => o.type === 'incident')!;
    expect(schemas.bundleErrors({ ...bundle, objects: [{ ...inc, created: '2026-03-01T10:00:00Z' }] }).length).toBeGreaterThan(0); // no milliseconds
    expect(schemas.bundleErrors({ ...bundle, objects: [{ ...inc, name: undefined }] }).length).toBeGreaterThan(0);
    const rel = objs.find((o) => o.type === 'relationship')!;
    expect(schemas.bundleErrors({ ...bundle, objects: [{ ...rel, id: 'relationship--not-a-uuid' }] }).length).toBeGreaterThan(0);
  });
  it('has every kind of object the export makes', () => {
    const types = new Set(objs.map((o) => o.type));
    for (const t of ['extension-definition', 'marking-definition', 'identity', 'incident', 'software', 'attack-pattern', 'course-of-action', 'vulnerability', 'note', 'opinion', 'relationship']) expect(types.has(t), t).toBe(true);
  });
  it('marks every object with a TLP 2.0 marking shipped in the bundle, and uses every marking of the input', () => {
    const markings = new Set(objs.filter((o) => o.type === 'marking-definition').map((o) => o.id));
    expect(markings).toEqual(new Set(Object.values(TLP2_MARKING_IDS)));
    const used = new Set<string>();
    for (const o of objs) {
      if (o.type === 'marking-definition' || o.type === 'extension-definition') continue;
      const refs = o.object_marking_refs as string[];
      expect(refs?.length, o.id).toBe(1);
      expect(markings.has(refs[0]!), o.id).toBe(true);
      used.add(refs[0]!);
    }
    expect(used).toEqual(new Set(Object.values(TLP2_MARKING_IDS)));
  });
  it('no object is marked less restrictively than an entry it cites or draws on (TLP: an AMBER object never tells what a RED entry said)', () => {
    const markingOf = new Map<string, number>();
    for (const e of [...rich.reports, ...(rich.acks ?? []), ...(rich.retractions ?? []), ...(rich.links ?? [])]) markingOf.set(`${e.party}/${e.index}`, MARKINGS.indexOf(e.marking));
    const rankOf = Object.fromEntries(MARKINGS.map((m, i) => [TLP2_MARKING_IDS[m], i]));
    for (const o of objs) {
      const cited = ((o.external_references as { source_name: string; external_id: string }[] | undefined) ?? []).filter((r) => r.source_name === 'parley');
      if (cited.length === 0) continue;
      const own = rankOf[(o.object_marking_refs as string[])[0]!]!;
      for (const r of cited) expect(markingOf.get(r.external_id)!, `${o.type} ${o.id} cites ${r.external_id}`).toBeLessThanOrEqual(own);
    }
    // GB's TLP:CLEAR opinion is not compared with US's AMBER+STRICT update (severity 6): US's reports of that
    // time are all more restrictive than GB's, so there is nothing it may compare with.
    const gb = objs.find((o) => o.type === 'opinion' && (o.authors as string[])[0] === 'GB')!;
    expect(gb.object_marking_refs).toEqual([TLP2_MARKING_IDS['TLP:CLEAR']]);
    expect(gb).toMatchObject({ opinion: 'neutral', explanation: 'GB assesses category WT, severity 6.' });
    // A technique a TLP:GREEN report brings by its category and a later TLP:RED one names: the GREEN `uses`
    // still says it came from the mapping (that the RED report names it is RED).
    const t = CATEGORY_ATLAS[rich.reports[0]!.body.category]!.techniques[0]!;
    const green = { ...rich.reports[0]!, marking: 'TLP:GREEN' as const, body: { ...rich.reports[0]!.body, techniques: [] } };
    const red = { ...rich.reports[0]!, index: 40, time: '2026-03-09T00:00:00Z', marking: 'TLP:RED' as const, body: { ...rich.reports[0]!.body, kind: 'update' as const, techniques: [t] } };
    const uses = incidentObjects({ incident: rich.incident, reports: [green, red] }).find((o) => o.type === 'relationship' && o.target_ref === atlasAttackPatternId(t))!;
    expect(uses).toMatchObject({ object_marking_refs: [TLP2_MARKING_IDS['TLP:GREEN']], description: 'from the taxonomy mapping of the report\u2019s category' });
    // Had US's first report been TLP:CLEAR too, GB's opinion would compare with it.
    const usClear = { ...rich.reports[0]!, marking: 'TLP:CLEAR' as const };
    const gbReport = rich.reports.find((r) => r.party === 'GB')!;
    const same = { ...gbReport, body: { ...gbReport.body, category: usClear.body.category, severity: usClear.body.severity } };
    expect(incidentObjects({ incident: rich.incident, reports: [usClear, same] }).find((o) => o.type === 'opinion')).toMatchObject({ opinion: 'agree', explanation: `GB assesses category WT, severity ${usClear.body.severity}; US reported category WT, severity ${usClear.body.severity}.` });
    // The GREEN final's incident cites only US's GREEN-or-less reports, and is closed by the GREEN final itself.
    const inc = objs.find((o) => o.type === 'incident')!;
    expect((inc.external_references as { source_name: string; external_id?: string }[]).filter((r) => r.source_name === 'parley').map((r) => r.external_id)).toEqual(['US/20']);
  });
  it('names the log of every entry it cites when given the parties’ log origins; refuses a bad origin', () => {
    const origins = { US: 'us.example/log', CN: 'cn.example/log', GB: 'gb.example/log' };
    const withOrigins = incidentObjects({ ...rich, origins });
    let n = 0;
    for (const o of withOrigins) {
      for (const r of (o.external_references as { source_name: string; external_id: string; description?: string }[] | undefined) ?? []) {
        if (r.source_name !== 'parley') continue;
        const [party, index] = r.external_id.split('/') as [keyof typeof origins, string];
        expect(r.description, `${o.id} ${r.external_id}`).toMatch(new RegExp(`; entry ${index} of the log ${origins[party].replace('.', '\\.')}$`));
        n++;
      }
    }
    expect(n).toBeGreaterThan(20);
    // Without origins, as before: the object's content is otherwise the same.
    const strip = (objs: readonly StixObject[]) => JSON.stringify(objs).replace(/; entry \d+ of the log [a-z.]+\/log/g, '');
    expect(strip(withOrigins)).toBe(JSON.stringify(objs));
    expect(code(() => incidentObjects({ ...rich, origins: { US: 'has space/log' } }))).toBe('STIX_INPUT_INVALID');
    expect(code(() => incidentObjects({ ...rich, origins: { US: '' } }))).toBe('STIX_INPUT_INVALID');
  });
  it('refers only to objects in the bundle, or to another incident of a link', () => {
    const ids = new Set(objs.map((o) => o.id));
    for (const o of objs) {
      if (o.type === 'extension-definition') continue; // OASIS's, created by the OASIS TC's identity
      for (const k of ['created_by_ref', 'source_ref', 'target_ref']) if (typeof o[k] === 'string' && !(o[k] as string).startsWith('incident--')) expect(ids.has(o[k] as string), `${o.id} ${k}`).toBe(true);
      for (const r of (o.object_refs as string[] | undefined) ?? []) expect(ids.has(r), o.id).toBe(true);
    }
  });
  it('is deterministic: the same input gives the same bytes, whatever the order of the input', () => {
    const again = incidentBundle(JSON.parse(JSON.stringify(rich)) as StixIncidentInput);
    expect(JSON.stringify(again)).toBe(JSON.stringify(bundle));
    const shuffled = { ...rich, reports: [...rich.reports].reverse(), acks: [...(rich.acks ?? [])].reverse() };
    expect(JSON.stringify(incidentBundle(shuffled))).toBe(JSON.stringify(bundle));
    expect(JSON.stringify(bundle, null, 1) + '\n').toBe(readFileSync(new URL('./vectors/stix/incident-rich.bundle.json', import.meta.url), 'utf8'));
  });
  it('the incident: versions follow the reporting party’s reports; Incident Core extension', () => {
    const inc = objs.find((o) => o.type === 'incident')!;
    expect(PARLEY_NAMESPACE_UUID).toBe('5823b792-f7f5-58f9-bc85-c512423256a4');
    expect(inc.id).toBe(`incident--${uuidv5('incident/US:2026-0007', PARLEY_NAMESPACE_UUID)}`);
    expect(inc.created).toBe('2026-03-01T10:00:00.000Z');
    expect(inc.modified).toBe('2026-03-05T08:00:00.000Z');
    expect(inc.name).toBe('Prompt injection exfiltrates model weights');
    expect(inc.object_marking_refs).toEqual([TLP2_MARKING_IDS['TLP:GREEN']]);
    expect(inc.revoked).toBeUndefined();
    const ext = (inc.extensions as Record<string, Record<string, unknown>>)[INCIDENT_CORE_EXTENSION_ID]!;
    expect(ext).toEqual({ extension_type: 'property-extension', determination: 'successful-attempt', investigation_status: 'closed', criticality: 86, incident_types: ['model-weight-theft', 'exfiltration'] });
    const refs = inc.external_references as { source_name: string; external_id?: string; hashes?: Record<string, string> }[];
    // Marked TLP:GREEN like its current version (the final report US/20), it cites no more restrictive report.
    expect(refs.filter((r) => r.source_name === 'parley').map((r) => r.external_id)).toEqual(['US/20']);
    expect(refs.find((r) => r.external_id === 'US/20')!.hashes).toEqual({ 'SHA-256': rich.reports.find((r) => r.index === 20)!.leafHash });
  });
  it('an update changes `modified`, not the id; re-export of fewer entries gives an earlier version of the same object', () => {
    const first = incidentObjects({ ...rich, reports: rich.reports.slice(0, 1), acks: [], retractions: [], links: [] });
    const inc1 = first.find((o) => o.type === 'incident')!;
    const inc = objs.find((o) => o.type === 'incident')!;
    expect(inc1.id).toBe(inc.id);
    expect(inc1.modified).toBe('2026-03-01T10:00:00.000Z');
    expect((inc1.extensions as Record<string, Record<string, unknown>>)[INCIDENT_CORE_EXTENSION_ID]!.investigation_status).toBe('new');
  });
  it('when the parties’ entries arrive out of time order (each log in its own order): an object never changes its creator or creation time, and one (id, modified) has one content', () => {
    const all: StixEntrySource[] = [...rich.reports, ...(rich.acks ?? []), ...(rich.retractions ?? []), ...(rich.links ?? [])];
    const logOrder = (party: string) => all.filter((e) => e.party === party).sort((a, b) => a.index - b.index);
    for (const parties of [['CN', 'GB', 'US'], ['GB', 'CN', 'US'], ['US', 'GB', 'CN']]) {
      const arrival = parties.flatMap(logOrder);
      expect(arrival.length).toBe(all.length);
      const versions = new Map<string, string>();
      const creation = new Map<string, string>();
      for (let n = 1; n <= arrival.length; n++) {
        const keep = new Set<StixEntrySource>(arrival.slice(0, n));
        const has = (e: StixEntrySource) => keep.has(e);
        const input = { incident: rich.incident, reports: rich.reports.filter(has), acks: (rich.acks ?? []).filter(has), retractions: (rich.retractions ?? []).filter(has), links: (rich.links ?? []).filter(has) };
        if (input.reports.length === 0) continue;
        for (const o of incidentObjects(input)) {
          const at = `${parties.join(',')} after ${n}: ${o.id}`;
          const made = JSON.stringify([o.created_by_ref, o.created]);
          if (!creation.has(o.id)) creation.set(o.id, made);
          else expect(made, at).toBe(creation.get(o.id));
          // Not checked here (docs/interop.md): an opinion compares with the reporter's version held when it is made;
          // the AI system's software SCO (no versions) takes the marking of the earliest report held that names it.
          if (o.type === 'opinion' || o.type === 'software') continue;
          const key = `${o.id}|${String(o.modified ?? o.created ?? '')}`;
          if (!versions.has(key)) versions.set(key, JSON.stringify(o));
          else expect(JSON.stringify(o), at).toBe(versions.get(key));
        }
      }
    }
  });
  it('a changed object is a new version: exporting the entries as they arrive never gives one (id, modified) two contents (STIX 2.1 §3.6)', () => {
    const all: StixEntrySource[] = [...rich.reports, ...(rich.acks ?? []), ...(rich.retractions ?? []), ...(rich.links ?? [])].sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    const seen = new Map<string, string>();
    let versions = 0;
    for (let n = 1; n <= all.length; n++) {
      const keep = new Set<StixEntrySource>(all.slice(0, n));
      const has = (e: StixEntrySource) => keep.has(e);
      const input = { incident: rich.incident, reports: rich.reports.filter(has), acks: (rich.acks ?? []).filter(has), retractions: (rich.retractions ?? []).filter(has), links: (rich.links ?? []).filter(has) };
      if (input.reports.length === 0) continue;
      for (const o of incidentObjects(input)) {
        const key = `${o.id}|${String(o.modified ?? o.created ?? '')}`;
        const had = seen.get(key);
        if (had === undefined) {
          seen.set(key, JSON.stringify(o));
          versions++;
        } else expect(JSON.stringify(o), key).toBe(had);
      }
    }
    // US's course-of-action that US/12 (AMBER), US/15 (AMBER+STRICT) and US/20 (GREEN) name (CN/7's is CN's own):
    // marked like US/12, it cites the two that are no more restrictive — a version for each.
    const coa = objs.find((o) => o.type === 'course-of-action' && o.name === "Revoked the agent's storage credentials." && o.created_by_ref === parleyStixId('identity', 'party/US'))!;
    expect(coa.created).toBe('2026-03-01T10:00:00.000Z');
    expect(coa.modified).toBe('2026-03-05T08:00:00.000Z');
    expect([...seen.keys()].filter((k) => k.startsWith(`${coa.id}|`)).length).toBe(2);
    expect(versions).toBeGreaterThan(objs.length);
  });
  it('a retraction revokes what only the retracted report produced, at the retraction’s time; another party cannot retract', () => {
    const t10 = byId(objs, atlasAttackPatternId('AML.T0010.001'))!;
    expect(t10.revoked).toBeUndefined(); // ATLAS's object is reference data
    const uses = objs.find((o) => o.type === 'relationship' && o.relationship_type === 'uses' && o.target_ref === t10.id)!;
    expect(uses.revoked).toBe(true);
    expect(uses.modified).toBe('2026-03-02T12:00:00.000Z');
    const coa = objs.find((o) => o.type === 'course-of-action' && o.name === 'Shut down the cluster.')!;
    expect(coa.revoked).toBe(true);
    // CN's "retraction" of US/12 is not in CN's own log: ignored.
    const t24 = objs.find((o) => o.type === 'relationship' && o.target_ref === atlasAttackPatternId('AML.T0024'))!;
    expect(t24.revoked).toBeUndefined();
  });
  it('the reporter withdrawing every report revokes the incident', () => {
    const only = rich.reports[0]!;
    const r = { party: 'US', index: 30, leafHash: 'ab'.repeat(32), time: '2026-03-09T00:00:00Z', marking: 'TLP:AMBER' as const, target: { party: 'US', index: 12 }, action: 'retract' as const };
    const inc = incidentObjects({ incident: rich.incident, reports: [only], retractions: [r] }).find((o) => o.type === 'incident')!;
    expect(inc.revoked).toBe(true);
    expect(inc.modified).toBe('2026-03-09T00:00:00.000Z');
  });
  it('revocation is final: a report after the incident was withdrawn does not bring it back', () => {
    const first = rich.reports[0]!;
    const r = { party: 'US', index: 30, leafHash: 'ab'.repeat(32), time: '2026-03-09T00:00:00Z', marking: 'TLP:AMBER' as const, target: { party: 'US', index: 12 }, action: 'retract' as const };
    const later = { ...first, index: 31, time: '2026-03-10T00:00:00Z', body: { ...first.body, kind: 'update' as const, title: 'Back again' } };
    const objs2 = incidentObjects({ incident: rich.incident, reports: [first, later], retractions: [r] });
    const inc = objs2.find((o) => o.type === 'incident')!;
    expect(inc).toMatchObject({ revoked: true, modified: '2026-03-09T00:00:00.000Z', name: first.body.title });
    const uses = objs2.find((o) => o.type === 'relationship' && o.target_ref === atlasAttackPatternId('AML.T0024'))!;
    expect(uses).toMatchObject({ revoked: true, modified: '2026-03-09T00:00:00.000Z' });
    expect((uses.external_references as unknown[]).length).toBe(1); // the later mention does not change a revoked object
    // A retraction report (kind "retraction") revokes the incident too.
    const withdrawn = { ...first, index: 32, time: '2026-03-11T00:00:00Z', body: { ...first.body, kind: 'retraction' as const } };
    const inc2 = incidentObjects({ incident: rich.incident, reports: [first, withdrawn] }).find((o) => o.type === 'incident')!;
    expect(inc2).toMatchObject({ revoked: true, modified: '2026-03-11T00:00:00.000Z' });
    expect((inc2.extensions as Record<string, Record<string, unknown>>)[INCIDENT_CORE_EXTENSION_ID]).toMatchObject({ determination: 'false-positive', investigation_status: 'closed' });
  });
  it('counter-assessments become a note and an opinion by their party; acks become notes', () => {
    const cn = rich.reports.find((r) => r.party === 'CN')!;
    const notes = objs.filter((o) => o.type === 'note');
    const note = notes.find((o) => (o.external_references as { external_id: string }[])[0]!.external_id === 'CN/7')!;
    expect(note.abstract).toBe(cn.body.title);
    expect(note.lang).toBe('zh-CN');
    const op = objs.find((o) => o.type === 'opinion' && (o.authors as string[])[0] === 'CN')!;
    expect(op.opinion).toBe('disagree');
    const gb = objs.find((o) => o.type === 'opinion' && (o.authors as string[])[0] === 'GB')!;
    expect(gb.opinion).toBe('neutral'); // GB's is TLP:CLEAR: no report of US's it may compare with (below)
    const ack = notes.find((o) => (o.external_references as { external_id: string }[])[0]!.external_id === 'GB/2')!;
    expect(ack.content).toBe('Acknowledged.');
  });
  it('techniques are ATLAS attack-patterns with ATLAS references; a report naming none brings its category’s', () => {
    const ap = byId(objs, 'attack-pattern--6ff098e9-2864-579e-bebb-a0f1c92ec772');
    expect(ap).toBeUndefined(); // AML.T0051 itself is not named; its sub-technique .001 is
    const sub = byId(objs, atlasAttackPatternId('AML.T0051.001'))!;
    expect(sub.external_references).toEqual([{ source_name: 'mitre-atlas', url: 'https://atlas.mitre.org/techniques/AML.T0051.001', external_id: 'AML.T0051.001' }]);
    expect(sub.kill_chain_phases).toEqual([{ kill_chain_name: 'mitre-atlas', phase_name: 'execution' }]);
    // CN names none, category SC → SC's mapped techniques, related with CN's marking.
    for (const t of CATEGORY_ATLAS['SC']!.techniques) expect(byId(objs, atlasAttackPatternId(t)), t).toBeDefined();
  });
  it('AIID-sourced records carry their attribution and licence', () => {
    const gb = objs.find((o) => o.type === 'note' && o.abstract === 'AIID 1234: agent copies model weights')!;
    const refs = gb.external_references as { source_name: string; external_id?: string; description?: string }[];
    expect(refs.find((r) => r.source_name === 'AIID')).toMatchObject({ external_id: '1234', url: 'https://incidentdatabase.ai/cite/1234' });
    expect(refs.find((r) => r.source_name === 'AIID')!.description).toContain('CC BY-SA 4.0');
  });
  it('a link becomes a related-to relationship to the other incident', () => {
    const rel = objs.find((o) => o.type === 'relationship' && (o.description as string | undefined)?.startsWith('same-event'))!;
    expect(rel.relationship_type).toBe('related-to');
    expect(rel.object_marking_refs).toEqual([TLP2_MARKING_IDS['TLP:GREEN']]);
  });
  it('object sources give each object its entry time and marking', () => {
    const src = incidentObjectSources(rich);
    expect(src.map((s) => s.object)).toEqual(objs);
    for (const s of src) {
      if (s.object.type === 'marking-definition' || s.object.type === 'extension-definition') continue;
      expect([TLP2_MARKING_IDS[s.marking]]).toEqual(s.object.object_marking_refs);
      expect(s.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });
  it('a technique outside the shipped list (a peer on a newer ATLAS) still exports, under ATLAS’s id', () => {
    const r = { ...rich.reports[0]!, body: { ...rich.reports[0]!.body, techniques: ['AML.T9999'] } };
    const b = incidentBundle({ incident: rich.incident, reports: [r] });
    expect(schemas.bundleErrors(b)).toEqual([]);
    expect(byId(b.objects, atlasAttackPatternId('AML.T9999'))).toMatchObject({ name: 'AML.T9999', external_references: [{ source_name: 'mitre-atlas', external_id: 'AML.T9999' }] });
  });
  it('refuses input that is not one incident’s entries with STIX_INPUT_INVALID', () => {
    expect(code(() => incidentBundle({ ...rich, reports: [] }))).toBe('STIX_INPUT_INVALID');
    expect(code(() => incidentBundle({ ...rich, incident: 'US:other-1' }))).toBe('STIX_INPUT_INVALID');
    expect(code(() => incidentBundle({ ...rich, reports: [{ ...rich.reports[0]!, leafHash: 'AB'.repeat(32) }] }))).toBe('STIX_INPUT_INVALID');
  });
  it('stixBundle merges incidents: one version per id, the latest', () => {
    const merged = stixBundle([...incidentObjects({ ...rich, reports: rich.reports.slice(0, 1), acks: [], retractions: [], links: [] }), ...objs]);
    const incs = merged.objects.filter((o) => o.type === 'incident');
    expect(incs.length).toBe(1);
    expect(incs[0]!.modified).toBe('2026-03-05T08:00:00.000Z');
    expect(schemas.bundleErrors(merged)).toEqual([]);
  });
});

describe('@parley/core/stix in a browser-like context', () => {
  it('bundles for the browser (no Node built-ins) and makes the same bundle there, byte for byte', async () => {
    const out = await build({ entryPoints: [join(REPO_ROOT, 'packages/core/src/stix/index.ts')], bundle: true, platform: 'browser', format: 'iife', globalName: 'parleyStix', write: false, logLevel: 'silent' });
    const code = out.outputFiles[0]!.text;
    expect(code).not.toMatch(/require\(["']node:/);
    const sandbox = { TextEncoder, TextDecoder, input: JSON.stringify(rich), result: '' };
    runInNewContext(`${code}; result = JSON.stringify(parleyStix.incidentBundle(JSON.parse(input)), null, 1) + '\\n'; if (typeof process !== 'undefined' || typeof Buffer !== 'undefined') result = 'node globals';`, sandbox);
    expect(sandbox.result).toBe(readFileSync(new URL('./vectors/stix/incident-rich.bundle.json', import.meta.url), 'utf8'));
  });
});
