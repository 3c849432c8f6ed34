/**
 * MITRE ATLAS as data: the technique list Parley ships (atlas/atlas-techniques.json,
 * ids, names and tactics of one ATLAS release; Apache-2.0, © MITRE — LICENSE
 * beside it) and the mapping of taxonomy categories to ATLAS
 * (taxonomy/atlas-map.json). Reports name techniques by id
 * (`techniques: ["AML.T0051"]`); the node refuses ids not in this list
 * ({@link checkAtlasTechniques}, ATLAS_TECHNIQUE_UNKNOWN), so every id it
 * exports resolves to a name and a tactic here.
 *
 * STIX ids are ATLAS's own: attack-pattern--UUIDv5(technique id, the 16
 * ASCII bytes `atlas.mitre.org.`) — the same object a consumer already holds
 * from ATLAS's STIX bundle, not a Parley copy of it.
 */
import atlasData from './atlas/atlas-techniques.json' with { type: 'json' };
import atlasMap from '../taxonomy/atlas-map.json' with { type: 'json' };
import { fail } from '../errors.js';
import { ATLAS_NAMESPACE, uuidv5 } from './uuid.js';

export interface AtlasTactic {
  readonly id: string;
  readonly name: string;
  /** The kill-chain phase name ATLAS's STIX uses (`defense-evasion`). */
  readonly shortname: string;
}
export interface AtlasTechnique {
  readonly id: string;
  readonly name: string;
  /** Tactic ids (a sub-technique's are its parent's). */
  readonly tactics: readonly string[];
  /** The parent technique of a sub-technique. */
  readonly parent?: string;
  /** ATLAS's created and modified dates (YYYY-MM-DD; its STIX uses them at 00:00:00.000Z). */
  readonly created: string;
  readonly modified: string;
}
/** One taxonomy category's ATLAS counterparts and STIX incident types. */
export interface CategoryAtlasMapping {
  readonly tactics: readonly string[];
  readonly techniques: readonly string[];
  readonly incidentTypes: readonly string[];
}

/** The ATLAS release shipped (`5.6.0`), its licence and where it came from. */
export const ATLAS_VERSION: string = atlasData.version;
export const ATLAS_LICENSE: string = atlasData.license;
export const ATLAS_SOURCE: string = atlasData.source;
export const ATLAS_TACTICS: readonly AtlasTactic[] = atlasData.tactics;
export const ATLAS_TECHNIQUES: readonly AtlasTechnique[] = atlasData.techniques;
/** Category code → its ATLAS mapping (taxonomy/atlas-map.json). */
export const CATEGORY_ATLAS: Readonly<Record<string, CategoryAtlasMapping>> = atlasMap.categories;

const techniques = new Map(ATLAS_TECHNIQUES.map((t) => [t.id, t]));
const tactics = new Map(ATLAS_TACTICS.map((t) => [t.id, t]));

/** The technique `id` in the shipped ATLAS release, or undefined. */
export function atlasTechnique(id: string): AtlasTechnique | undefined {
  return techniques.get(id);
}
/** The tactic `id` in the shipped ATLAS release, or undefined. */
export function atlasTactic(id: string): AtlasTactic | undefined {
  return tactics.get(id);
}

/**
 * Checks that every id is a technique of the shipped ATLAS release.
 * @throws ATLAS_TECHNIQUE_UNKNOWN naming the first unknown id.
 */
export function checkAtlasTechniques(ids: readonly string[]): void {
  for (const id of ids) if (!techniques.has(id)) fail('ATLAS_TECHNIQUE_UNKNOWN', `${id} is not a technique of MITRE ATLAS ${ATLAS_VERSION}`);
}

/** ATLAS's own STIX id of a technique: `attack-pattern--` UUIDv5(id, `atlas.mitre.org.`). */
export function atlasAttackPatternId(techniqueId: string): string {
  return `attack-pattern--${uuidv5(techniqueId, ATLAS_NAMESPACE)}`;
}

/** The web page of a technique (ATLAS's external_references url). */
export function atlasTechniqueUrl(techniqueId: string): string {
  return `https://atlas.mitre.org/techniques/${techniqueId}`;
}
