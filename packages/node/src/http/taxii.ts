/**
 * A read-only TAXII 2.1 server (OASIS TAXII 2.1, 10 June 2021) over what
 * this node holds: CTI tools (MISP, OpenCTI, any TAXII client) poll the
 * incidents as STIX 2.1 (core `@parley/core/stix`).
 *
 *     GET /taxii2/                                             discovery (§4.1)
 *     GET /taxii2/{root}/                                      API root (§4.2): one per accord
 *     GET /taxii2/{root}/collections/                          collections (§5.1)
 *     GET /taxii2/{root}/collections/{id}/                     one collection (§5.2)
 *     GET /taxii2/{root}/collections/{id}/manifest/            manifest (§5.3)
 *     GET /taxii2/{root}/collections/{id}/objects/             objects (§5.4)
 *     GET /taxii2/{root}/collections/{id}/objects/{object}/    one object's versions' content (§5.6)
 *     GET /taxii2/{root}/collections/{id}/objects/{object}/versions/   its versions (§5.8)
 *
 * Filters (§3.4): `added_after`, `limit`, `next`, `match[id]`,
 * `match[type]`, `match[version]` (`last` by default, `first`, `all`, or
 * timestamps), `match[spec_version]`; pages carry `more` and `next`, and the
 * headers `X-TAXII-Date-Added-First` / `-Last`. Every answer is
 * `application/taxii+json;version=2.1`; a request whose Accept admits
 * neither that nor any JSON is refused with 406.
 *
 * Collections: one per (sending party, TLP marking) of the accord —
 * `US — TLP:AMBER` holds the STIX objects made from US's reports marked
 * TLP:AMBER, as this node can read them. Ids are UUIDv5 of
 * `<accord name>/<party>/<marking>`, so they are the same on every node
 * and across restarts. Who reads what (authenticated with officers' bearer
 * tokens): officers and admins every collection (what a collection holds is
 * only what this party may open: its own entries and those sealed to it);
 * auditors the TLP:CLEAR collections only — they never see sealed bodies —
 * and a 403 for the others. Write endpoints (POST objects, DELETE, status)
 * are not offered: 405.
 *
 * Errors: the node's RFC 9457 problem, sent as `application/taxii+json`
 * with TAXII's error members (`title`, `description`, `error_code`,
 * `http_status`) added, so TAXII clients and Parley's own tools both read it
 * (server.ts).
 */
import { z } from 'zod';
import type { Marking } from '@parley/core';
import type { Role } from '@parley/store';
import { type App, type Context, BEARER, READERS } from './context.js';
import { HttpError, type Problem } from './problem.js';
import { STIX_MEDIA_TYPE } from './stix.js';
import { type TaxiiQuery, type TaxiiVersion, type VersionMatch, decodeNext, encodeNext, selectVersions, taxiiTime, versionOf } from '../taxii/query.js';
import { type TaxiiCollection, taxiiCollections, taxiiVersions } from '../taxii/source.js';

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';
/** The most objects one page carries (a client's larger `limit` is lowered to it, §3.6). */
export const TAXII_MAX_PAGE = 1000;
export const TAXII_DEFAULT_PAGE = 100;

/**
 * The TAXII error resource (§3.6.1) for a problem: the RFC 9457 members
 * stay, TAXII's are added (`title` is shared; `http_status` is a string).
 */
export function taxiiError(p: Problem): Problem & { description: string; error_code: string; http_status: string } {
  return { ...p, description: p.detail, error_code: p.code, http_status: String(p.status) };
}

/**
 * A TAXII body as bytes: sent as a Buffer, the media type stays exactly as
 * TAXII writes it (for a string, fastify would quote the version and add a
 * charset parameter TAXII does not define).
 */
export function taxiiBytes(body: unknown): Buffer {
  return Buffer.from(JSON.stringify(body), 'utf8');
}

/** Whether an Accept header admits the TAXII 2.1 media type (§1.6.8.1): absent, any, JSON-ish, or taxii+json at version 2.1. */
export function acceptsTaxii(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return true;
  return accept.split(',').some((part) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (params.some((p) => /^q=0(\.0*)?$/.test(p))) return false;
    if (type === '*/*' || type === 'application/*' || type === 'application/json') return true;
    if (type !== 'application/taxii+json') return false;
    const version = params.find((p) => p.startsWith('version='));
    return version === undefined || version === 'version=2.1';
  });
}

const Timestamp = z.iso.datetime().describe('RFC 3339 UTC timestamp, e.g. 2026-12-04T10:00:00.000Z');
const List = (item: z.ZodString, max: number) =>
  z
    .string()
    .max(4000)
    .transform((s, ctx) => {
      const xs = s.split(',');
      if (xs.length > max) ctx.addIssue({ code: 'custom', message: `at most ${max} values` });
      for (const x of xs) if (!item.safeParse(x).success) ctx.addIssue({ code: 'custom', message: `not a valid value: ${x.slice(0, 80)}` });
      return xs;
    });
const StixId = z.string().regex(/^[a-z][a-z0-9-]{0,62}--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a STIX identifier: <type>--<UUID>');
const StixType = z.string().regex(/^[a-z][a-z0-9-]{0,62}$/, 'a STIX type');
const VersionValue = z.string().refine((v) => v === 'last' || v === 'first' || v === 'all' || Timestamp.safeParse(v).success, 'last, first, all or an RFC 3339 UTC timestamp');
const SpecVersion = z.string().regex(/^\d\.\d{1,2}$/, 'a STIX spec version such as 2.1');
const Limit = z.string().regex(/^[1-9][0-9]{0,9}$/, 'a positive integer').transform(Number);

const ObjectsQuery = z
  .object({
    added_after: Timestamp.optional(),
    limit: Limit.optional(),
    next: z.string().max(700).optional(),
    'match[id]': List(StixId, 100).optional(),
    'match[type]': List(StixType, 50).optional(),
    'match[version]': List(VersionValue, 50).optional(),
    'match[spec_version]': List(SpecVersion, 10).optional(),
  })
  .strict();
const ObjectQuery = ObjectsQuery.omit({ 'match[id]': true, 'match[type]': true });
const VersionsQuery = ObjectsQuery.omit({ 'match[id]': true, 'match[type]': true, 'match[version]': true });
const RootParams = z.object({ root: z.string().max(100) }).strict();
const CollectionParams = RootParams.extend({ collection: z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, 'a collection id (UUID)') }).strict();
const ObjectParams = CollectionParams.extend({ object: StixId }).strict();

type ObjectsQ = z.infer<typeof ObjectsQuery>;

function versionMatch(values: readonly string[] | undefined): VersionMatch {
  const vs = values ?? ['last'];
  return { first: vs.includes('first'), last: vs.includes('last'), all: vs.includes('all'), exact: vs.filter((v) => /^\d/.test(v)).map((v) => Date.parse(v)) };
}

function toQuery(q: Partial<ObjectsQ>, extra: { ids?: readonly string[]; allVersions?: boolean } = {}): TaxiiQuery {
  let after;
  if (q.next !== undefined) {
    after = decodeNext(q.next);
    if (!after) throw new HttpError('VALIDATION_FAILED', 'next: not a value this server sent (use the `next` of the previous page as it is)');
  }
  const ids = extra.ids ?? q['match[id]'];
  return {
    ...(q.added_after !== undefined ? { addedAfter: Date.parse(q.added_after) } : {}),
    ...(ids !== undefined ? { ids } : {}),
    ...(q['match[type]'] !== undefined ? { types: q['match[type]'] } : {}),
    versions: extra.allVersions ? { first: false, last: false, all: true, exact: [] } : versionMatch(q['match[version]']),
    ...(q['match[spec_version]'] !== undefined ? { specVersions: q['match[spec_version]'] } : {}),
    limit: Math.min(q.limit ?? TAXII_DEFAULT_PAGE, TAXII_MAX_PAGE),
    ...(after ? { after } : {}),
  };
}

/** Whether `role` may read the collection of `marking`: auditors only TLP:CLEAR. */
export function roleReads(role: Role, marking: Marking): boolean {
  return role === 'auditor' ? marking === 'TLP:CLEAR' : true;
}

export function registerTaxii(app: App, ctx: Context): void {
  const { node, sessions } = ctx;
  const rootName = () => node.accord.accord.name;
  const auth = sessions.require(READERS);

  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/taxii2/')) return;
    if (!acceptsTaxii(req.headers.accept)) throw new HttpError('NOT_ACCEPTABLE', `this TAXII server answers ${TAXII_MEDIA_TYPE}; the Accept header admits neither it nor JSON`);
  });

  const taxii = <T>(reply: { header(k: string, v: string): { header(k: string, v: string): { send(b: Buffer): unknown } } }, body: T) => reply.header('content-type', TAXII_MEDIA_TYPE).header('cache-control', 'no-store').send(taxiiBytes(body));
  const base = (req: { protocol: string; host: string }) => `${req.protocol}://${req.host}/taxii2/`;

  function root(name: string): void {
    if (name !== rootName()) throw new HttpError('NOT_FOUND', `no API root ${name.slice(0, 100)} here; the discovery resource /taxii2/ lists it`);
  }

  async function collection(role: Role, id: string): Promise<TaxiiCollection> {
    const c = taxiiCollections(node).find((x) => x.id === id);
    if (!c) throw new HttpError('NOT_FOUND', `no collection ${id} in this API root`);
    if (!roleReads(role, c.marking)) throw new HttpError('FORBIDDEN', `an auditor reads only the TLP:CLEAR collections; ${c.title} is ${c.marking}`);
    return c;
  }

  const describe = (c: TaxiiCollection) => ({ id: c.id, title: c.title, description: c.description, alias: c.alias, can_read: true, can_write: false, media_types: [STIX_MEDIA_TYPE] });

  function dateHeaders(items: readonly TaxiiVersion[]): Record<string, string> {
    if (items.length === 0) return {};
    return { 'x-taxii-date-added-first': taxiiTime(items[0]!.dateAdded), 'x-taxii-date-added-last': taxiiTime(items[items.length - 1]!.dateAdded) };
  }

  const tag = { tags: ['taxii'], security: BEARER };

  app.get('/taxii2/', {
    onRequest: auth,
    schema: { ...tag, summary: 'TAXII 2.1 discovery (§4.1)' },
    handler: async (req, reply) =>
      taxii(reply, {
        title: `Parley TAXII 2.1 — ${node.party}`,
        description: `Incidents held by ${node.party}'s Parley node, as STIX 2.1, one API root per accord (read-only).`,
        default: `${base(req)}${rootName()}/`,
        api_roots: [`${base(req)}${rootName()}/`],
      }),
  });

  app.get('/taxii2/:root/', {
    onRequest: auth,
    schema: { ...tag, summary: 'TAXII 2.1 API root (§4.2): one per accord', params: RootParams },
    handler: async (req, reply) => {
      root(req.params.root);
      const a = node.accord.accord;
      return taxii(reply, { title: a.title.en, description: `Accord ${a.name}, version ${node.accord.version}: ${a.parties.map((p) => p.id).join(', ')}`, versions: [TAXII_MEDIA_TYPE], max_content_length: 0 });
    },
  });

  app.get('/taxii2/:root/collections/', {
    onRequest: auth,
    schema: { ...tag, summary: 'TAXII 2.1 collections readable by the caller (§5.1)', params: RootParams },
    handler: async (req, reply) => {
      root(req.params.root);
      const role = sessions.principal(req).role;
      const cs = taxiiCollections(node).filter((c) => roleReads(role, c.marking));
      return taxii(reply, cs.length === 0 ? {} : { collections: cs.map(describe) });
    },
  });

  app.get('/taxii2/:root/collections/:collection/', {
    onRequest: auth,
    schema: { ...tag, summary: 'One TAXII 2.1 collection (§5.2)', params: CollectionParams },
    handler: async (req, reply) => {
      root(req.params.root);
      return taxii(reply, describe(await collection(sessions.principal(req).role, req.params.collection)));
    },
  });

  async function versionsOf(req: { params: { root: string; collection: string } }, role: Role): Promise<TaxiiVersion[]> {
    root(req.params.root);
    const c = await collection(role, req.params.collection);
    return (await taxiiVersions(ctx, role)).filter((v) => v.collection === c.id);
  }

  app.get('/taxii2/:root/collections/:collection/manifest/', {
    onRequest: auth,
    schema: { ...tag, summary: 'TAXII 2.1 manifest (§5.3)', params: CollectionParams, querystring: ObjectsQuery },
    handler: async (req, reply) => {
      const page = selectVersions(await versionsOf(req, sessions.principal(req).role), toQuery(req.query));
      reply.headers(dateHeaders(page.items));
      if (page.items.length === 0) return taxii(reply, {});
      return taxii(reply, {
        more: page.more,
        ...(page.next ? { next: encodeNext(page.next) } : {}),
        objects: page.items.map((v) => ({ id: v.object.id, date_added: taxiiTime(v.dateAdded), version: versionOf(v.object), media_type: STIX_MEDIA_TYPE })),
      });
    },
  });

  app.get('/taxii2/:root/collections/:collection/objects/', {
    onRequest: auth,
    schema: { ...tag, summary: 'TAXII 2.1 objects (§5.4), as an envelope', params: CollectionParams, querystring: ObjectsQuery },
    handler: async (req, reply) => {
      const page = selectVersions(await versionsOf(req, sessions.principal(req).role), toQuery(req.query));
      reply.headers(dateHeaders(page.items));
      if (page.items.length === 0) return taxii(reply, {});
      return taxii(reply, { more: page.more, ...(page.next ? { next: encodeNext(page.next) } : {}), objects: page.items.map((v) => v.object) });
    },
  });

  app.get('/taxii2/:root/collections/:collection/objects/:object/', {
    onRequest: auth,
    schema: { ...tag, summary: 'One object of a TAXII 2.1 collection (§5.6): the versions asked for (default the latest)', params: ObjectParams, querystring: ObjectQuery },
    handler: async (req, reply) => {
      const all = (await versionsOf(req, sessions.principal(req).role)).filter((v) => v.object.id === req.params.object);
      if (all.length === 0) throw new HttpError('NOT_FOUND', `no object ${req.params.object} in this collection`);
      const page = selectVersions(all, toQuery(req.query, { ids: [req.params.object] }));
      reply.headers(dateHeaders(page.items));
      if (page.items.length === 0) return taxii(reply, {});
      return taxii(reply, { more: page.more, ...(page.next ? { next: encodeNext(page.next) } : {}), objects: page.items.map((v) => v.object) });
    },
  });

  app.get('/taxii2/:root/collections/:collection/objects/:object/versions/', {
    onRequest: auth,
    schema: { ...tag, summary: 'The versions of one object (§5.8)', params: ObjectParams, querystring: VersionsQuery },
    handler: async (req, reply) => {
      const all = (await versionsOf(req, sessions.principal(req).role)).filter((v) => v.object.id === req.params.object);
      if (all.length === 0) throw new HttpError('NOT_FOUND', `no object ${req.params.object} in this collection`);
      const page = selectVersions(all, toQuery(req.query, { ids: [req.params.object], allVersions: true }));
      reply.headers(dateHeaders(page.items));
      if (page.items.length === 0) return taxii(reply, {});
      return taxii(reply, { more: page.more, ...(page.next ? { next: encodeNext(page.next) } : {}), versions: page.items.map((v) => versionOf(v.object)) });
    },
  });
}
