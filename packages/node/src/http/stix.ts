/**
 * STIX 2.1 export of one incident (issue 13; stix.ts):
 *
 *     GET /v1/incidents/{id}/stix     application/stix+json;version=2.1 — a bundle
 *
 * Officers, auditors and admins, each reading what GET /v1/incidents/{id}
 * shows them. 404 NOT_FOUND for an incident not held; 403 STIX_SEALED when
 * no report of it is readable by the caller (nothing is exported then).
 */
import { z } from 'zod';
import { IncidentId } from '../bodies.js';
import { incidentStixBundle } from '../stix.js';
import { type App, type Context, BEARER, READERS } from './context.js';
import { HttpError } from './problem.js';

/** STIX 2.1 §1.6 / TAXII 2.1 media type of a STIX bundle. */
export const STIX_MEDIA_TYPE = 'application/stix+json;version=2.1';

const Params = z.object({ id: IncidentId }).strict();
const StixBundleSchema = z
  .object({ type: z.literal('bundle'), id: z.string(), objects: z.array(z.record(z.string(), z.unknown())).readonly() })
  .describe('A STIX 2.1 bundle (OASIS STIX 2.1 §8): the TLP 2.0 marking definitions, then the incident and everything it names')
  .meta({ id: 'StixBundle' });

export function registerStix(app: App, ctx: Context): void {
  const { node, store, sessions } = ctx;
  app.get('/v1/incidents/:id/stix', {
    onRequest: sessions.require(READERS),
    schema: {
      tags: ['incidents'],
      summary: 'One incident as a STIX 2.1 bundle (what this role may read; deterministic ids, TLP 2.0 markings)',
      security: BEARER,
      params: Params,
      response: { 200: { description: STIX_MEDIA_TYPE, content: { [STIX_MEDIA_TYPE]: { schema: StixBundleSchema } } } },
    },
    handler: async (req, reply) => {
      const bundle = await incidentStixBundle(node, store, req.params.id, sessions.principal(req).role);
      if (!bundle) throw new HttpError('NOT_FOUND', `no report of incident ${req.params.id} is held here`);
      // A Buffer keeps the media type exactly as TAXII 2.1 §1.6.8 spells it (fastify would re-spell a JSON
      // type's parameters and add a charset); the bytes are the bundle's JSON, UTF-8.
      return reply
        .header('content-type', STIX_MEDIA_TYPE)
        .header('cache-control', 'no-store')
        .header('content-disposition', `attachment; filename="${req.params.id.replace(/[^A-Za-z0-9._-]/g, '_')}.stix.json"`)
        .send(Buffer.from(JSON.stringify(bundle), 'utf8') as unknown as z.infer<typeof StixBundleSchema>);
    },
  });
}
