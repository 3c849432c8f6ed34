/**
 * /v1/bundles: offline bundles over the officers' API, so that the CLI can
 * make and take them while `parley serve` owns the store (the format and
 * every check are core's `federation/bundle.ts`; the node side is
 * `../bundle.ts`).
 *
 *     POST /v1/bundles/export   officer, admin   {to, since?, until?} (JSON)
 *          200 application/octet-stream: the bundle file, byte for byte
 *              Content-Disposition: attachment; filename="parley-<from>-to-<to>-<treeSize>.bundle"
 *              Repr-Digest: sha-256=:<base64>:            RFC 9530 §3 (no content coding: the file's SHA-256)
 *     POST /v1/bundles/import   admin            the bundle file (application/octet-stream, ≤ 64 MiB)
 *          200 {from, checkpointSize, accepted, duplicates, receipts: [{index, leafHash}]}
 *
 * Errors are problems as everywhere (problem.ts): BUNDLE_MALFORMED 400,
 * BUNDLE_INVALID 422 (nothing stored), INPUT_TOO_LARGE 413, another
 * Content-Type 415, no token 401, a role that may not 403; for export
 * TREE_ARGUMENT_INVALID 400 (empty log, until < since) and BUNDLE_MALFORMED
 * 400 for a `to` that is not another party.
 *
 * Import is admin only, as POST /v1/ingest: it stores other parties'
 * entries and writes receipts, exactly as network delivery does.
 */
import { MAX_BUNDLE_BYTES } from '@parley/core';
import { createHash } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { SwaggerTransform } from '@fastify/swagger';
import { type ZodTypeProvider, jsonSchemaTransform } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { exportBundleFile, importBundle } from '../bundle.js';
import { type App, type Context, ADMINS, BEARER, WRITERS } from './context.js';
import { HttpError } from './problem.js';
import { Bytes, PartyId } from './schemas.js';

// Schemas of these routes (strict requests, as in schemas.ts).
const Index = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
export const BundleExportRequest = z
  .object({
    to: PartyId.describe('Recipient party: only entries addressed to it are exported'),
    since: Index.optional().describe('First index of the own log (default 0)'),
    until: Index.optional().describe('End of the range, exclusive (default and cap: the latest checkpoint\u2019s tree size)'),
  })
  .strict();
export const BundleImportResponse = z.object({
  from: z.string().describe('The sending party'),
  checkpointSize: z.number().int().describe('Tree size of the sender\u2019s checkpoint the entries were proven against'),
  accepted: z.number().int().describe('Entries new to this node'),
  duplicates: z.number().int().describe('Entries already held'),
  receipts: z.array(z.object({ index: z.number().int(), leafHash: z.string() })).describe('Receipt entries written to our own log for the new entries'),
});

/** The one request media type of the import route. */
export const BUNDLE_CONTENT_TYPE = 'application/octet-stream';

function mediaType(req: FastifyRequest): string | undefined {
  const raw = req.headers['content-type'];
  return raw === undefined ? undefined : raw.split(';')[0]!.trim().toLowerCase();
}

/** Response headers of the export, for the OpenAPI document. */
const EXPORT_HEADERS = {
  'content-disposition': { description: 'attachment; filename="parley-<from>-to-<to>-<treeSize>.bundle"', schema: { type: 'string' } },
  'repr-digest': { description: 'sha-256=:<base64 SHA-256 of the file>: (RFC 9530)', schema: { type: 'string' } },
};

/**
 * The zod transform of the OpenAPI document keeps a content response's
 * description and content only: this route-level transform (fastify-swagger's
 * `config.swaggerTransform`) runs it and puts the response headers back.
 */
function withHeaders(status: number, headers: Record<string, unknown>): SwaggerTransform {
  return (doc) => {
    const out = jsonSchemaTransform(doc as Parameters<typeof jsonSchemaTransform>[0]) as { schema: { response?: Record<string, Record<string, unknown>> }; url: string };
    const r = out.schema.response?.[String(status)];
    if (r) r['headers'] = headers;
    return out;
  };
}

export function registerBundles(app: App, ctx: Context): void {
  const { node, store, sessions, metrics } = ctx;

  app.post('/v1/bundles/export', {
    onRequest: sessions.require(WRITERS),
    config: { swaggerTransform: withHeaders(200, EXPORT_HEADERS) },
    schema: {
      tags: ['federation'],
      summary: 'Export an offline bundle of this party\u2019s entries for one party',
      description:
        'Entries of the own log addressed to `to` with index in [since, until), with inclusion proofs against the latest checkpoint, signed by the log key. ' +
        'The answer is the file itself; `Repr-Digest` (RFC 9530) carries its SHA-256.',
      security: BEARER,
      body: BundleExportRequest,
      response: {
        200: {
          description: 'The bundle file (RFC 8785 canonical JSON, to be carried byte for byte)',
          content: { [BUNDLE_CONTENT_TYPE]: { schema: Bytes } },
        },
      },
    },
    handler: async (req, reply) => {
      const b = req.body;
      const file = await exportBundleFile(node, store, { to: b.to, ...(b.since !== undefined ? { since: b.since } : {}), ...(b.until !== undefined ? { until: b.until } : {}) });
      const digest = createHash('sha256').update(file.bytes).digest('base64');
      return reply
        .type(BUNDLE_CONTENT_TYPE)
        .header('content-disposition', `attachment; filename="parley-${file.from}-to-${file.to}-${file.treeSize}.bundle"`)
        .header('repr-digest', `sha-256=:${digest}:`)
        .header('cache-control', 'no-store')
        .send(Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength));
    },
  });

  // Own plugin scope: the raw-body parser applies to this route only (the
  // rest of the API takes JSON and nothing else).
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser(BUNDLE_CONTENT_TYPE, { parseAs: 'buffer', bodyLimit: MAX_BUNDLE_BYTES }, (_req, body, done) => done(null, body));

    scope.withTypeProvider<ZodTypeProvider>().post('/v1/bundles/import', {
      bodyLimit: MAX_BUNDLE_BYTES,
      onRequest: [sessions.require(ADMINS), ctx.uploads.hook('import')],
      // No body and no Content-Type never reaches a parser: the same 415 as any other type.
      preValidation: async (req) => {
        if (mediaType(req) !== BUNDLE_CONTENT_TYPE) throw new HttpError('UNSUPPORTED_MEDIA_TYPE', `send the bundle file as ${BUNDLE_CONTENT_TYPE}`);
      },
      schema: {
        tags: ['federation'],
        summary: 'Import an offline bundle from another party (admin)',
        description:
          'Verifies the bundle with the accord (signature, checkpoint, every entry and its inclusion proof) and ingests its entries as network delivery does, ' +
          'writing receipts for the new ones. A bundle that fails any check stores nothing (400 BUNDLE_MALFORMED, 422 BUNDLE_INVALID); a repeat is all duplicates. ' +
          'Its checkpoint is checked against the one this node cosigned for the sender: the same size with another root is a fork (422 PROOF_INVALID; the fork proof is kept, GET /v1/forks), ' +
          'and while a fork proof is held against the sender its new entries are refused (422 ENTRY_INVALID).',
        security: BEARER,
        consumes: [BUNDLE_CONTENT_TYPE],
        body: Bytes,
        response: { 200: BundleImportResponse },
      },
      handler: async (req) => {
        const bytes = new Uint8Array(req.body.buffer, req.body.byteOffset, req.body.byteLength);
        const r = await importBundle(node, bytes);
        metrics.ingested.inc(r.accepted);
        for (const s of r.receipts) metrics.appended.inc({ type: s.entry.type });
        return {
          from: r.from,
          checkpointSize: r.checkpoint.checkpoint.treeSize,
          accepted: r.accepted,
          duplicates: r.duplicates,
          receipts: r.receipts.map((s) => ({ index: s.index, leafHash: s.leafHash })),
        };
      },
    });
  });
}
