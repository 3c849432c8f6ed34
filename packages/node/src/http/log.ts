/**
 * /log: the party's log as anyone with read access fetches it (no token for
 * now; federation will add node authentication).
 *
 *     GET /log/checkpoint                  C2SP tlog-checkpoint signed note, text/plain
 *     GET /log/tile/<L>/<N>[.p/<W>]        C2SP tlog-tiles hash tile
 *     GET /log/tile/entries/<N>[.p/<W>]    C2SP tlog-tiles entry bundle
 *     GET /log/entries/{index}             the canonical entry bytes (the leaf input)
 *     GET /log/proof/inclusion?index&size  RFC 9162 §2.1.3 inclusion proof
 *     GET /log/proof/consistency?old&new   RFC 9162 §2.1.4 consistency proof
 *     GET /log/timestamps[?size]           issue 12: RFC 3161 tokens of a checkpoint of this log
 *                                          (default the latest stamped) with the note they stamp,
 *                                          JSON (tsa/held.ts); 404 when none. Public like the
 *                                          checkpoint: `parley log verify` checks them
 *
 * Tiles, full or partial, and entries never change once served (tlog-tiles:
 * a partial tile of width W is final for W), so they are cached as
 * immutable; the checkpoint moves and is never cached.
 */
import { formatBase64, formatEntryBundle, parseTilePath } from '@parley/core';
import { z } from 'zod';
import type { App, Context } from './context.js';
import { HttpError } from './problem.js';
import { heldTimestampSet } from '../tsa/held.js';
import { CheckpointTimestamps, LogTimestampsQuery } from './logs.js';
import * as S from './schemas.js';

const IMMUTABLE = 'public, max-age=31536000, immutable';
const bytes = (type: string, description: string) => ({ 200: { description, content: { [type]: { schema: S.Bytes } } } });

export function registerLog(app: App, { node, store }: Context): void {
  app.get('/log/timestamps', {
    schema: {
      tags: ['log'],
      summary: 'RFC 3161 time-stamp tokens of a checkpoint of this log, verified before they were kept (issue 12)',
      querystring: LogTimestampsQuery,
      response: { 200: CheckpointTimestamps },
    },
    handler: async (req, reply) => {
      const set = await heldTimestampSet(store, node.party, req.query.size);
      if (!set) throw new HttpError('NOT_FOUND', req.query.size === undefined ? 'no checkpoint of this log is time-stamped' : `no token of the checkpoint at size ${req.query.size} is held`);
      return reply.header('cache-control', 'no-store').send(set);
    },
  });

  app.get('/log/checkpoint', {
    schema: { tags: ['log'], summary: 'Latest signed checkpoint (C2SP tlog-checkpoint)', response: bytes('text/plain', 'C2SP signed note') },
    handler: async (_req, reply) => {
      const cp = await node.latestCheckpoint();
      if (!cp) throw new HttpError('NOT_FOUND', 'the log has no checkpoint yet');
      return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(Buffer.from(cp));
    },
  });

  app.get('/log/tile/*', {
    schema: {
      tags: ['log'],
      summary: 'Hash tile or entry bundle (C2SP tlog-tiles)',
      params: z.object({ '*': z.string().describe('<L>/<N>[.p/<W>] or entries/<N>[.p/<W>]') }),
      response: bytes('application/octet-stream', 'Tile bytes'),
    },
    handler: async (req, reply) => {
      const ref = parseTilePath(`tile/${req.params['*']}`);
      let data: Uint8Array | undefined;
      if (ref.kind === 'hashes') data = await node.tile(ref.level, ref.index, ref.width);
      else {
        const entries = await node.entryBundle(ref.index, ref.width);
        data = entries && formatEntryBundle(entries.map((e) => e.bytes));
      }
      if (!data) throw new HttpError('NOT_FOUND', `${req.params['*']} is not in the tree`);
      return reply.type('application/octet-stream').header('cache-control', IMMUTABLE).send(Buffer.from(data));
    },
  });

  app.get('/log/entries/:index', {
    schema: { tags: ['log'], summary: 'Canonical bytes of own entry {index}', params: S.IndexParams, response: bytes('application/json', 'RFC 8785 canonical JSON of the signed entry') },
    handler: async (req, reply) => {
      const b = await node.entryBytes(req.params.index);
      if (!b) throw new HttpError('NOT_FOUND', `entry ${req.params.index} is not in the log`);
      return reply.type('application/json').header('cache-control', IMMUTABLE).send(Buffer.from(b));
    },
  });

  app.get('/log/proof/inclusion', {
    schema: { tags: ['log'], summary: 'Inclusion proof of entry `index` in the tree of `size`', querystring: S.InclusionQuery, response: { 200: S.InclusionResponse } },
    handler: async (req) => {
      const { index, size } = req.query;
      const proof = await node.inclusionProof(index, size);
      return { index, treeSize: size, proof: proof.map(formatBase64) };
    },
  });

  app.get('/log/proof/consistency', {
    schema: { tags: ['log'], summary: 'Consistency proof between tree sizes `old` and `new`', querystring: S.ConsistencyQuery, response: { 200: S.ConsistencyResponse } },
    handler: async (req) => ({ proof: (await node.consistencyProof(req.query.old, req.query.new)).map(formatBase64) }),
  });
}
