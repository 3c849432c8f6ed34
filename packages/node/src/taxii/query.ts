/**
 * TAXII 2.1 (OASIS, 10 June 2021) read semantics over an in-memory list of
 * object versions: the filters of §3.4 (`added_after`, `match[id]`,
 * `match[type]`, `match[version]`, `match[spec_version]`), the ordering by
 * date added (§3.4.1), and pagination with `limit`, `more` and `next`
 * (§3.6). No HTTP here: routes (http/taxii.ts) parse the query into
 * {@link TaxiiQuery} and render the page.
 *
 * Every object version has the time this server added it (`dateAdded`, ms):
 * the time the Parley entry that produced it was logged (our own) or stored
 * here (received). A page is ordered by (dateAdded, id, version) — the
 * order is total, so `next` is a key (the last item's), not an offset: an
 * object added while a client pages never shifts what it has not seen yet.
 */

/** One version of one STIX object as a collection holds it. */
export interface TaxiiVersion {
  /** The STIX object (`id`, `type`, `spec_version`, `created`, `modified`?, …). */
  readonly object: StixLike;
  /** When this server added this version (ms since the epoch). */
  readonly dateAdded: number;
}

export interface StixLike {
  readonly id: string;
  readonly type: string;
  readonly spec_version: string;
  readonly created?: string;
  readonly modified?: string;
  readonly [k: string]: unknown;
}

/** The `version` of an object (§3.4.2: `modified`, else `created`, else the spec's fallback: none → its id is its only version). */
export function versionOf(o: StixLike): string {
  return o.modified ?? o.created ?? '1970-01-01T00:00:00.000Z';
}

/** `match[version]`: `last` (the default), `first`, `all`, or exact version timestamps. */
export type VersionMatch = { readonly first: boolean; readonly last: boolean; readonly all: boolean; readonly exact: readonly number[] };

export interface TaxiiQuery {
  /** `added_after` (ms): only versions added strictly after it. */
  readonly addedAfter?: number;
  readonly ids?: readonly string[];
  readonly types?: readonly string[];
  readonly versions: VersionMatch;
  readonly specVersions?: readonly string[];
  readonly limit: number;
  /** The `next` of the previous page (decoded). */
  readonly after?: PageKey;
}

export interface PageKey {
  readonly dateAdded: number;
  readonly id: string;
  readonly version: string;
}

/** A page of versions, in order, and whether more follow. */
export interface TaxiiPage {
  readonly items: readonly TaxiiVersion[];
  readonly more: boolean;
  /** The key of the last item when {@link more}: the `next` to send back. */
  readonly next?: PageKey;
}

const keyOf = (v: TaxiiVersion): PageKey => ({ dateAdded: v.dateAdded, id: v.object.id, version: versionOf(v.object) });

/** Total order of versions: date added, then object id, then version. */
export function compareKeys(a: PageKey, b: PageKey): number {
  if (a.dateAdded !== b.dateAdded) return a.dateAdded - b.dateAdded;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return a.version < b.version ? -1 : a.version > b.version ? 1 : 0;
}

/**
 * Applies `match[version]` per object (§3.4.2: `first` and `last` are the
 * object's earliest and latest versions among all it has; exact timestamps
 * name versions), then the other filters, and returns the page.
 */
export function selectVersions(all: readonly TaxiiVersion[], q: TaxiiQuery): TaxiiPage {
  const byId = new Map<string, TaxiiVersion[]>();
  for (const v of all) {
    if (q.ids && !q.ids.includes(v.object.id)) continue;
    if (q.types && !q.types.includes(v.object.type)) continue;
    if (q.specVersions && !q.specVersions.includes(v.object.spec_version)) continue;
    const list = byId.get(v.object.id) ?? [];
    list.push(v);
    byId.set(v.object.id, list);
  }
  const chosen: TaxiiVersion[] = [];
  for (const list of byId.values()) {
    list.sort((a, b) => (versionOf(a.object) < versionOf(b.object) ? -1 : versionOf(a.object) > versionOf(b.object) ? 1 : a.dateAdded - b.dateAdded));
    list.forEach((v, i) => {
      const t = Date.parse(versionOf(v.object));
      if (q.versions.all || (q.versions.first && i === 0) || (q.versions.last && i === list.length - 1) || q.versions.exact.includes(t)) chosen.push(v);
    });
  }
  const after = q.after;
  const filtered = chosen
    .filter((v) => (q.addedAfter === undefined || v.dateAdded > q.addedAfter) && (after === undefined || compareKeys(keyOf(v), after) > 0))
    .sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
  const items = filtered.slice(0, q.limit);
  const more = filtered.length > q.limit;
  return { items, more, ...(more ? { next: keyOf(items[items.length - 1]!) } : {}) };
}

/** Encodes a page key as the opaque `next` value (base64url of JSON). */
export function encodeNext(k: PageKey): string {
  return Buffer.from(JSON.stringify([k.dateAdded, k.id, k.version]), 'utf8').toString('base64url');
}

/** Decodes a `next` value; undefined when it is not one this server wrote. */
export function decodeNext(s: string): PageKey | undefined {
  if (!/^[A-Za-z0-9_-]{1,700}$/.test(s)) return undefined;
  try {
    const v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== 3) return undefined;
    const [d, id, version] = v as unknown[];
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0 || typeof id !== 'string' || typeof version !== 'string' || id.length > 200 || version.length > 40) return undefined;
    return { dateAdded: d, id, version };
  } catch {
    return undefined;
  }
}

/** RFC 3339 / STIX timestamp with milliseconds, as TAXII dates are written. */
export function taxiiTime(ms: number): string {
  return new Date(ms).toISOString();
}
