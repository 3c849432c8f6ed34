/**
 * /fed/v1: node-to-node delivery (issue 4, "Delivery").
 *
 *     POST /fed/v1/bundle   a core bundle (federation/bundle.ts) of the sender's entries addressed to us,
 *                           with inclusion proofs against its checkpoint; body = the bundle bytes
 *                           (application/octet-stream or application/json, ≤ 16 MiB)
 *
 *          200 application/json      {from, checkpointSize, accepted, duplicates, receipts: [{index, leafHash}]}
 *          409 text/x.tlog.size      `<size>\n`: the checkpoint is not the one we cosigned for the sender's
 *                                    log; add it to our witness (POST /witness/add-checkpoint) and push again
 *
 *                           Entries of the sender's log not addressed to us may ride along (a push carries the
 *                           sender's whole tail, issue 9): verified as the rest and mirrored (no receipt, no inbox).
 *                           or a witnessed push (federation/witnessedPush.ts, application/x.parley.witnessed-push,
 *                           or application/x.parley.tail-push from a sender that pushes its whole tail):
 *                           the add-checkpoint request for the bundle's checkpoint, then the bundle, in one body;
 *                           run through our witness, then as above — one request per hop instead of two
 *          200 application/json      as above, and cosignatures: our cosignature line(s) on the checkpoint
 *          409 text/x.tlog.size      `<size>\n`: the size our witness holds for the sender's log (stale old size)
 *          400/403/404/422           the witness's refusal, as POST /witness/add-checkpoint answers it
 *          422 PUSH_INCOMPLETE       the bundle does not carry every entry we lack below the checkpoint: a
 *                                    witness cosigns on a push only what it holds (nothing stored or cosigned)
 *          401 REQUEST_UNAUTHENTICATED    no / bad / replayed / skewed Parley-Signature, or a key not in the accord
 *          400 REQUEST_SIGNATURE_MALFORMED  a header that does not parse
 *          400 CONTENT_DIGEST_MALFORMED     a Content-Digest that is not `sha-256=:<base64>:` (before the body)
 *          400 CONTENT_DIGEST_MISMATCH      a body other than the one its Content-Digest (so its signature) names
 *          400 BUNDLE_MALFORMED, 422 BUNDLE_INVALID (incl. a bundle of another party than the signer),
 *          422 PROOF_INVALID (the checkpoint forks from the one we cosigned; the fork proof is kept),
 *          413, 415                  problems, as everywhere
 *
 *     GET  /fed/v1/witness/{party}   gossip: the latest checkpoint of {party}'s log this node cosigned
 *                                    (the witness state note: the log's signature and our cosignature),
 *                                    text/plain; 404 when none (our own log is not witnessed here)
 *     GET  /fed/v1/witness/{party}/cosignatures?after=N&limit=M
 *                                    issue 14: this witness's signed cosignature history of {party}'s
 *                                    log — every note it cosigned (as the state above held it), sizes
 *                                    > N ascending, at most M ≤ 100 (default 100): application/json
 *                                    {cosignatures: [note …], next?: size to ask after}. The log's node
 *                                    reads here a cosignature whose answer it lost and that a newer one
 *                                    superseded before gossip read the state (deadline agreement,
 *                                    deadlines/state.ts); 404 for our own log or a non-party
 *     GET  /fed/v1/forks             gossip: every fork proof this node holds, {proofs: [text …]}
 *                                    (canonical core fork proofs; the caller verifies each)
 *     GET  /fed/v1/timestamps/{party}?size   issue 12: the RFC 3161 tokens this node holds for a
 *                                    checkpoint of {party}'s log (own or another's), with the note they
 *                                    stamp (tsa/held.ts TimestampSet); 404 when none (the caller verifies)
 *
 * Authentication comes first, on the exact body bytes (core verifyRequest
 * via ParleyNode.authenticateRequest: the sender's log key from the accord,
 * ±60 s, a nonce seen once per node); a rejected request reads nothing else
 * and stores nothing, and the rejection is logged. A request with a
 * `Content-Digest` header (RFC 9530) has its signature checked over that
 * digest before its body is read (signedHead.ts, hardening.ts), then its
 * body against the digest: 400 CONTENT_DIGEST_MALFORMED / CONTENT_DIGEST_MISMATCH. The bundle then takes
 * the same verified path as every delivery (federation/receive.ts →
 * ParleyNode.ingest), the path POST /v1/ingest (admin) and offline imports
 * end in too; the answer has the shape of the bundle import's.
 */
import { MAX_BUNDLE_ENTRIES, TLOG_SIZE_CONTENT_TYPE, decodeUtf8, formatTreeSizeBody, isParleyError } from '@parley/core';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { heldForks } from '../federation/forks.js';
import { heldTimestampSet } from '../tsa/held.js';
import { peerContacted, pushReplierOf } from '../federation/federator.js';
import { traceStep } from '../federation/trace.js';
import { MAX_COSIGNATURE_PAGE, PUSH_REPLY_HEADER } from '../federation/peer.js';
import { type NotWitnessed, type Received, type ReceivedWitnessed, receiveBundle, receiveWitnessedPush } from '../federation/receive.js';
import { TAIL_PUSH_CONTENT_TYPE, WITNESSED_PUSH_CONTENT_TYPE } from '../federation/witnessedPush.js';
import type { App, Context } from './context.js';
import { HttpError } from './problem.js';
import { authenticateSigned, authenticateSignedThen, contentDigestOf } from './signedHead.js';
import * as S from './schemas.js';
import { CheckpointTimestamps, LogTimestampsQuery } from './logs.js';
import { refuse } from './witness.js';
import type { AddCheckpointRefused } from '../witness.js';

/** Largest pushed bundle: the Federator pushes at most a few hundred entries at a time. */
export const MAX_PUSH_BYTES = 16 * 1024 * 1024;
const ACCEPTED_TYPES: readonly string[] = ['application/octet-stream', 'application/json', WITNESSED_PUSH_CONTENT_TYPE, TAIL_PUSH_CONTENT_TYPE];

export const PushResponse = z.object({
  from: z.string().describe('The sending party'),
  checkpointSize: z.number().int().describe('Tree size of the sender\u2019s checkpoint the entries were proven against'),
  accepted: z.number().int().describe('Entries new to this node'),
  duplicates: z.number().int().describe('Entries already held'),
  receipts: z.array(z.object({ index: z.number().int(), leafHash: z.string() })).describe('Receipt entries written to our own log'),
  cosignatures: z.string().optional().describe('Witnessed push only: this node\u2019s cosignature line(s) on the pushed checkpoint (C2SP tlog-witness 200 body)'),
  reply: z
    .string()
    .optional()
    .describe(
      'Witnessed push with `Parley-Push-Reply: 1` only: this node\u2019s push back to the sender (base64 of a witnessed push body: the add-checkpoint request for its witness and the signed bundle of our entries addressed to it, e.g. the receipts for this push), when one was ready',
    ),
});

function mediaType(req: FastifyRequest): string | undefined {
  const raw = req.headers['content-type'];
  return raw === undefined ? undefined : raw.split(';')[0]!.trim().toLowerCase();
}

/**
 * Authenticates a node-to-node request on its exact body; resolves once its
 * nonce is durable, so the request is never acted on twice, across restarts
 * too (issue 9). A peer authenticated here is up: its links' backoff ends
 * (federator.ts {@link peerContacted}).
 * @returns the sending party.
 * @throws VerificationError `REQUEST_UNAUTHENTICATED`, ParseError `REQUEST_SIGNATURE_MALFORMED` (logged).
 */
export async function authenticateNode(req: FastifyRequest, body: Uint8Array, { node }: Context): Promise<string> {
  const raw = req.headers['parley-signature'];
  const digest = contentDigestOf(req);
  try {
    // With Content-Digest the signature was checked before the body (signedHead.ts); now the body against the digest.
    const party = digest !== undefined ? (await authenticateSigned(node, req, digest, body)).party : (await node.authenticateRequestDurably({ header: Array.isArray(raw) ? raw.join(', ') : raw, method: req.method, path: req.url, body })).party;
    // The peer is up: our links to it stop waiting out a backoff (federator.ts "contact").
    peerContacted(node, party);
    return party;
  } catch (e) {
    if (isParleyError(e)) req.log.warn({ code: e.code, url: req.url, ip: req.ip }, `federation request rejected: ${e.message}`);
    throw e;
  }
}

/**
 * {@link authenticateNode} for the push route, whose every effect is
 * idempotent (entries stored once by (party, index, hash), a checkpoint
 * cosigned once): the sender is known now and the push's work may start
 * while its nonce is being written — one commit fewer on a FLASH message's
 * way — but nothing is answered before `durable` resolved (a replay
 * recorded by another process of this party rejects it: 401, and what the
 * replay did was nothing new). A request without Content-Digest (an older
 * peer) waits for its nonce here, as before.
 */
async function authenticatePush(req: FastifyRequest, body: Uint8Array, ctx: Context): Promise<{ readonly sender: string; readonly durable: Promise<void> }> {
  const digest = contentDigestOf(req);
  if (digest === undefined) return { sender: await authenticateNode(req, body, ctx), durable: Promise.resolve() };
  try {
    const { request, durable } = authenticateSignedThen(ctx.node, req, digest, body);
    // A peer that pushes is up: our link to it leaves its backoff — once its nonce is durable (a replay is no contact).
    durable.then(
      () => peerContacted(ctx.node, request.party),
      () => undefined,
    );
    return { sender: request.party, durable };
  } catch (e) {
    if (isParleyError(e)) req.log.warn({ code: e.code, url: req.url, ip: req.ip }, `federation request rejected: ${e.message}`);
    throw e;
  }
}

export function registerFederation(app: App, ctx: Context): void {
  const { node, store, metrics } = ctx;
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_PUSH_BYTES }, (req, body, done) => {
      const type = mediaType(req);
      if (type === undefined || !ACCEPTED_TYPES.includes(type)) done(new HttpError('UNSUPPORTED_MEDIA_TYPE', 'send the bundle as application/octet-stream'));
      else done(null, body);
    });

    scope.withTypeProvider<ZodTypeProvider>().get('/fed/v1/witness/:party', {
      schema: {
        tags: ['federation'],
        summary: 'Gossip: the latest checkpoint of a party\u2019s log this node cosigned (Parley-Signature required)',
        params: z.object({ party: S.PartyId }),
        response: { 200: { description: 'C2SP signed note: the checkpoint, the log\u2019s signature and this node\u2019s cosignature', content: { 'text/plain': { schema: S.Bytes } } } },
      },
      handler: async (req, reply) => {
        await authenticateNode(req, new Uint8Array(), ctx);
        const member = req.params.party === node.party ? undefined : node.accord.party(req.params.party);
        const held = member ? await node.witness.latest(req.params.party) : undefined;
        if (!held) throw new HttpError('NOT_FOUND', `this node has cosigned no checkpoint of ${req.params.party}'s log`);
        return reply.type('text/plain; charset=utf-8').header('cache-control', 'no-store').send(Buffer.from(held.note));
      },
    });

    scope.withTypeProvider<ZodTypeProvider>().get('/fed/v1/witness/:party/cosignatures', {
      schema: {
        tags: ['federation'],
        summary: 'Gossip: this witness\u2019s signed cosignature history of a party\u2019s log, paged by size (Parley-Signature required; issue 14)',
        params: z.object({ party: S.PartyId }),
        querystring: z
          .object({
            after: S.Decimal.optional().describe('Only sizes greater than this (default 0)'),
            limit: S.Decimal.pipe(z.number().int().min(1).max(MAX_COSIGNATURE_PAGE)).optional().describe(`1–${MAX_COSIGNATURE_PAGE}, default ${MAX_COSIGNATURE_PAGE}`),
          })
          .strict(),
        response: {
          200: z.object({
            cosignatures: z.array(z.string()).describe('C2SP signed notes, smallest size first: the checkpoint, the log\u2019s signature and this node\u2019s cosignature'),
            next: z.number().int().optional().describe('The `after` of the next page; absent on the last'),
          }),
        },
      },
      handler: async (req, reply) => {
        await authenticateNode(req, new Uint8Array(), ctx);
        const party = req.params.party;
        if (party === node.party || node.accord.party(party) === undefined) throw new HttpError('NOT_FOUND', `this node witnesses no log of ${party}`);
        const limit = req.query.limit ?? MAX_COSIGNATURE_PAGE;
        const rows = await store.witnessCosignatures(party, req.query.after ?? 0, limit);
        const last = rows[rows.length - 1];
        return reply
          .header('cache-control', 'no-store')
          .send({ cosignatures: rows.map((r) => decodeUtf8(r.note)), ...(rows.length === limit && last !== undefined ? { next: last.treeSize } : {}) });
      },
    });

    scope.withTypeProvider<ZodTypeProvider>().get('/fed/v1/forks', {
      schema: {
        tags: ['federation'],
        summary: 'Gossip: the fork proofs this node holds (Parley-Signature required)',
        response: { 200: z.object({ proofs: z.array(z.string()).describe('Canonical fork proofs (core fork.ts), to verify with the accord') }) },
      },
      handler: async (req, reply) => {
        await authenticateNode(req, new Uint8Array(), ctx);
        return reply.header('cache-control', 'no-store').send({ proofs: (await heldForks(store, node)).map((f) => f.text) });
      },
    });

    scope.withTypeProvider<ZodTypeProvider>().get('/fed/v1/timestamps/:party', {
      schema: {
        tags: ['federation'],
        summary: 'Gossip: RFC 3161 tokens held for a checkpoint of a party\u2019s log (Parley-Signature required; issue 12)',
        params: z.object({ party: S.PartyId }),
        querystring: LogTimestampsQuery,
        response: { 200: CheckpointTimestamps },
      },
      handler: async (req, reply) => {
        await authenticateNode(req, new Uint8Array(), ctx);
        if (node.accord.party(req.params.party) === undefined) throw new HttpError('NOT_FOUND', `${req.params.party} is not a party of the accord`);
        const set = await heldTimestampSet(store, req.params.party, req.query.size);
        if (!set) throw new HttpError('NOT_FOUND', `this node holds no time-stamp token of ${req.params.party}'s log${req.query.size !== undefined ? ` at size ${req.query.size}` : ''}`);
        return reply.header('cache-control', 'no-store').send(set);
      },
    });

    scope.withTypeProvider<ZodTypeProvider>().post('/fed/v1/bundle', {
      bodyLimit: MAX_PUSH_BYTES,
      // Before the body: a plausible signature header and an upload slot (hardening.ts).
      onRequest: ctx.uploads.hook('push'),
      schema: {
        tags: ['federation'],
        summary: 'Push entries of the sending party addressed to this node (a signed core bundle; Parley-Signature required)',
        description:
          `Body: the bundle file (at most ${MAX_BUNDLE_ENTRIES} entries, ${MAX_PUSH_BYTES} bytes). 409 \`<size>\\n\` (text/x.tlog.size): ` +
          'witness the checkpoint at POST /witness/add-checkpoint first. 401: not signed by another party of the accord. ' +
          'Send `Content-Digest: sha-256=:<base64 SHA-256 of the body>:` (RFC 9530) with the Parley-Signature: the signature is then checked before the body is read ' +
          '(a bad one is answered 401 at once), and a body that does not match it is 400 CONTENT_DIGEST_MISMATCH. ' +
          `A witnessed push (${WITNESSED_PUSH_CONTENT_TYPE}) sent with \`Parley-Push-Reply: 1\` may be answered with \`reply\`: this node\u2019s push back to the sender.`,
        consumes: ['application/octet-stream', WITNESSED_PUSH_CONTENT_TYPE, TAIL_PUSH_CONTENT_TYPE],
        body: S.Bytes,
        response: {
          200: PushResponse,
          409: { description: 'Tree size this node cosigned for the sender\u2019s log, and a newline', content: { [TLOG_SIZE_CONTENT_TYPE]: { schema: S.Bytes } } },
        },
      },
      handler: async (req, reply) => {
        const body = new Uint8Array(req.body.buffer, req.body.byteOffset, req.body.byteLength);
        // Step timestamps (federation/trace.ts): the size is the pushed checkpoint's, known once the push is opened.
        traceStep('push.received', '', 0, { bytes: body.length });
        const { sender, durable } = await authenticatePush(req, body, ctx);
        traceStep('push.authenticated', sender, 0);
        // A tail push is a witnessed push whose sender takes our whole tail back on a reply (issue 9).
        const tail = mediaType(req) === TAIL_PUSH_CONTENT_TYPE;
        const witnessed = tail || mediaType(req) === WITNESSED_PUSH_CONTENT_TYPE;
        // The push's work runs while its nonce is being written; it is done — and only then may a reply
        // be built on it or anything be answered — once both are: a replay's refusal comes first.
        const receive = async (): Promise<ReceivedWitnessed | Received | NotWitnessed | AddCheckpointRefused> => {
          const [nonce, out] = await Promise.allSettled([durable, witnessed ? receiveWitnessedPush(node, store, body, sender) : receiveBundle(node, store, body, sender)]);
          if (nonce.status === 'rejected') {
            if (isParleyError(nonce.reason)) req.log.warn({ code: nonce.reason.code, url: req.url, ip: req.ip }, `federation request rejected: ${nonce.reason.message}`);
            throw nonce.reason;
          }
          if (out.status === 'rejected') throw out.reason;
          if (out.value.status === 200) traceStep('push.durable', sender, out.value.checkpointSize);
          return out.value;
        };
        // A sender that takes our push back gets it on this answer (our receipts for these entries).
        const replier = witnessed && req.headers[PUSH_REPLY_HEADER] === '1' ? pushReplierOf(node) : undefined;
        const { r, back } = replier ? await replier(sender, receive, (x) => x.status === 200, tail) : { r: await receive(), back: undefined };
        if (back !== undefined && r.status === 200) traceStep('reply.built', sender, r.checkpointSize, { bytes: back.length });
        if (r.status !== 200 && r.status !== 409) refuse(r);
        if (r.status === 409) return reply.code(409).type(TLOG_SIZE_CONTENT_TYPE).header('cache-control', 'no-store').send(Buffer.from(formatTreeSizeBody(r.size)));
        const cosignatures = (r as Partial<ReceivedWitnessed>).cosignatures;
        metrics.ingested.inc(r.accepted);
        for (const s of r.receipts) metrics.appended.inc({ type: s.entry.type });
        return reply
          .code(200)
          .header('cache-control', 'no-store')
          .send({
            from: r.from,
            checkpointSize: r.checkpointSize,
            accepted: r.accepted,
            duplicates: r.duplicates,
            receipts: r.receipts.map((s) => ({ index: s.index, leafHash: s.leafHash })),
            ...(cosignatures !== undefined ? { cosignatures: decodeUtf8(cosignatures) } : {}),
            ...(back !== undefined ? { reply: Buffer.from(back).toString('base64') } : {}),
          });
      },
    });
  });
}
