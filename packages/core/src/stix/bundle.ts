/**
 * STIX 2.1 §8 bundles with deterministic ids: the same objects (by id and
 * version) always make the same bundle, byte for byte.
 *
 *     bundle id = bundle--uuidv5("bundle/" + sorted "<id>|<modified>" lines, Parley's namespace)
 */
import type { StixBundle, StixObject } from './types.js';
import { parleyStixId } from './uuid.js';

const version = (o: StixObject) => (typeof o.modified === 'string' ? o.modified : typeof o.created === 'string' ? o.created : '');

/**
 * A bundle of `objects`: one version per id (the latest `modified`; the first
 * given on a tie), in the order first given — so the marking definitions a
 * producer puts first stay first.
 */
export function stixBundle(objects: readonly StixObject[]): StixBundle {
  const kept = new Map<string, StixObject>();
  for (const o of objects) {
    const had = kept.get(o.id);
    if (!had || version(o) > version(had)) kept.set(o.id, o);
  }
  const list = [...kept.values()];
  const key = list.map((o) => `${o.id}|${version(o)}`).sort().join('\n');
  return { type: 'bundle', id: parleyStixId('bundle', key), objects: list };
}
