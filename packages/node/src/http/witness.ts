/**
 * /witness: this node as a C2SP tlog-witness for every other party's log.
 *
 *     POST /witness/add-checkpoint    tlog-witness §add-checkpoint
 *
 * Request: the add-checkpoint body (`old <size>`, proof lines, empty line,
 * signed checkpoint), at most 1 MiB + 8 KiB. The spec names no request
 * Content-Type and real clients send `text/plain` or none, so those are
 * accepted, and `application/octet-stream`; anything else is a 415.
 *
 * Responses — status / Content-Type / body:
 *
 *     200  text/plain; charset=utf-8   the cosignature line(s), as the spec requires
 *     409  text/x.tlog.size            `<latest cosigned size>\n`, as the spec requires
 *     400  application/problem+json    WITNESS_REQUEST_MALFORMED (or the note's own parse code),
 *                                      TREE_ARGUMENT_INVALID for old size > checkpoint size
 *     403  application/problem+json    NOTE_UNVERIFIED / SIGNATURE_INVALID: not validly signed by the log's key
 *     404  application/problem+json    NOT_FOUND: not a log this node witnesses (its own included)
 *     422  application/problem+json    PROOF_INVALID: not consistent with what was cosigned (a fork
 *                                      proof, when the request makes one, is kept first);
 *                                      LOG_FORKED: this node holds a fork proof against the log
 *     413, 415, 5xx                    problems, as everywhere in the API
 *
 * Why problems for the errors: tlog-witness fixes the status codes and the
 * 409 body but not the body of any other error, so the node keeps its one
 * error format (RFC 9457, problem.ts) — clients that key on the status, as
 * the spec's do, are unaffected. The 409 is the one exception because the
 * spec prescribes its body and Content-Type (clients parse it to retry).
 *
 * The handler is thin (STYLE.md §9): it authenticates the peer, calls
 * {@link WitnessService.addCheckpoint} and writes its answer.
 */
import { ERROR_CATALOG, type ErrorCode, TLOG_SIZE_CONTENT_TYPE, MAX_WITNESS_REQUEST_BYTES, fail } from '@parley/core';
import type { FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { AddCheckpointRefused } from '../witness.js';
import type { App, Context } from './context.js';
import { authenticateNode } from './federation.js';
import { HTTP_ERRORS, type HttpErrorCode, HttpError } from './problem.js';
import * as S from './schemas.js';

/** Request media types accepted (besides none at all). */
const ACCEPTED_TYPES: readonly string[] = ['text/plain', 'application/octet-stream'];

/** The peer a request comes from, once node authentication exists. */
export interface PeerIdentity {
  /** Party id from the accord. */
  readonly party: string;
}

/**
 * Node-to-node authentication for witness requests (issue 4): a request
 * that carries a `Parley-Signature` must verify (core `verifyRequest` via
 * ParleyNode.authenticateRequest: another party's log key, ±60 s, a nonce
 * seen once) or it is refused — 401 `REQUEST_UNAUTHENTICATED`, 400
 * `REQUEST_SIGNATURE_MALFORMED` — and logged. Parley nodes always sign.
 *
 * A request WITHOUT the header is still served, anonymously: a checkpoint
 * is self-authenticating (it must verify under the log key the accord
 * names, or it is a 403), and plain C2SP tlog-witness clients, which know
 * no Parley header, must keep working (PRODUCT.md "Interoperate"). The cost
 * an anonymous caller can impose is signature and proof checks only.
 */
export async function authenticatePeer(req: FastifyRequest, body: Uint8Array, ctx: Context): Promise<PeerIdentity | undefined> {
  if (req.headers['parley-signature'] === undefined) return undefined;
  return { party: await authenticateNode(req, body, ctx) };
}

/** Problem code for each refusal; a refusal's own error wins when its status matches (e.g. SIGNATURE_INVALID). */
const REFUSAL_CODES: Readonly<Record<AddCheckpointRefused['reason'], ErrorCode | HttpErrorCode>> = {
  malformed: 'WITNESS_REQUEST_MALFORMED',
  'unknown-origin': 'NOT_FOUND',
  unverified: 'NOTE_UNVERIFIED',
  'old-size-too-large': 'TREE_ARGUMENT_INVALID',
  'old-size-mismatch': 'STORE_CONFLICT', // never used: a mismatch is the spec's 409 answer
  'proof-with-old-size-zero': 'PROOF_INVALID',
  'empty-tree-root': 'PROOF_INVALID',
  'root-mismatch': 'PROOF_INVALID',
  inconsistent: 'PROOF_INVALID',
  'log-forked': 'LOG_FORKED',
  'party-departed': 'PARTY_DEPARTED',
};

function statusOf(code: ErrorCode | HttpErrorCode): number {
  return code in HTTP_ERRORS ? HTTP_ERRORS[code as HttpErrorCode].status : ERROR_CATALOG[code as ErrorCode].status;
}

/** Throws the error the problem handler turns into this refusal's status (here and for a witnessed push). */
export function refuse(r: AddCheckpointRefused): never {
  const own = r.error?.code;
  const code = own !== undefined && statusOf(own) === r.status ? own : REFUSAL_CODES[r.reason];
  // A code whose status is not the witness's would answer the wrong status: our bug (STYLE.md §7d).
  if (statusOf(code) !== r.status) throw new Error(`internal: ${code} is not a ${r.status}`);
  if (code in HTTP_ERRORS) throw new HttpError(code as HttpErrorCode, r.detail);
  return fail(code as ErrorCode, r.detail, r.error);
}

function mediaType(req: FastifyRequest): string | undefined {
  const raw = req.headers['content-type'];
  return raw === undefined ? undefined : raw.split(';')[0]!.trim().toLowerCase();
}

export function registerWitness(app: App, ctx: Context): void {
  const { node } = ctx;
  // Own plugin scope: the body parser below applies to this route only (the
  // rest of the API takes JSON and nothing else).
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers(); // the API's JSON parser too: one parser decides for this route
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_WITNESS_REQUEST_BYTES }, (req, body, done) => {
      const type = mediaType(req);
      if (type !== undefined && !ACCEPTED_TYPES.includes(type)) done(new HttpError('UNSUPPORTED_MEDIA_TYPE', `send the request as text/plain, not ${type}`));
      else done(null, body);
    });

    scope.withTypeProvider<ZodTypeProvider>().post('/witness/add-checkpoint', {
      bodyLimit: MAX_WITNESS_REQUEST_BYTES,
      onRequest: ctx.uploads.hook('witness'), // hardening.ts: an upload slot, and a header (when sent) checked before the body
      schema: {
        tags: ['federation'],
        summary: 'Cosign a checkpoint of another party\u2019s log (C2SP tlog-witness add-checkpoint)',
        description:
          'Body: `old <size>`, consistency proof lines, an empty line, the signed checkpoint. 200: cosignature line(s), text/plain. ' +
          'Parley nodes sign with Parley-Signature and send Content-Digest (RFC 9530), which lets the signature be checked before the body is read. ' +
          '409: `<latest cosigned size>\\n`, text/x.tlog.size. Other errors: RFC 9457 problems (403 bad signature, 404 unknown log, 422 inconsistent).',
        consumes: ['text/plain'],
        body: S.Bytes,
        response: {
          200: { description: 'Cosignature line(s) (C2SP tlog-cosignature)', content: { 'text/plain': { schema: S.Bytes } } },
          409: { description: 'Latest cosigned tree size and a newline', content: { [TLOG_SIZE_CONTENT_TYPE]: { schema: S.Bytes } } },
        },
      },
      handler: async (req, reply) => {
        const body = new Uint8Array(req.body.buffer, req.body.byteOffset, req.body.byteLength);
        await authenticatePeer(req, body, ctx);
        const answer = await node.witness.addCheckpoint(body);
        if (answer.status !== 200 && answer.status !== 409) refuse(answer);
        return reply.code(answer.status).type(answer.contentType).header('cache-control', 'no-store').send(Buffer.from(answer.body));
      },
    });
  });
}
