/**
 * Node-to-node requests authenticated from their head (issue 9, "Federation
 * routes check the request signature before reading a large body").
 *
 * A request that carries `Content-Digest` (RFC 9530; core
 * federation/request.ts) has its `Parley-Signature` verified over that
 * digest in the upload hook, before a byte of the body is read
 * (hardening.ts): a bad signature is a 401 at once and the body is dropped
 * as it arrives, never held. The verified head is remembered here for the
 * handler, which checks the body against the digest and only then records
 * the nonce, durably ({@link authenticateSigned}). Routes without the hook
 * (bodiless GETs) verify the head in the handler: the same checks, in the
 * same order. A request without `Content-Digest` (an older peer) is
 * verified on its body, as before.
 */
import type { AuthenticatedRequest, VerifiedRequestHead } from '@parley/core';
import type { FastifyRequest } from 'fastify';
import type { ParleyNode } from '../service.js';

/** Heads verified before the body, by the raw request (the same object in every hook and the handler). */
const heads = new WeakMap<object, VerifiedRequestHead>();

function one(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h.join(', ') : h;
}

/** The request's `Content-Digest` value, when it has one (duplicates joined, so they fail to parse). */
export function contentDigestOf(req: FastifyRequest): string | undefined {
  return one(req.headers['content-digest']);
}

/**
 * Verifies the signature of a request with `Content-Digest` from its head and
 * remembers the result for {@link authenticateSigned}.
 * @throws VerificationError `REQUEST_UNAUTHENTICATED`; ParseError `REQUEST_SIGNATURE_MALFORMED`, `CONTENT_DIGEST_MALFORMED`.
 */
export function verifyHead(node: ParleyNode, req: FastifyRequest, contentDigest: string): VerifiedRequestHead {
  const head = node.authenticateRequestHead({ header: one(req.headers['parley-signature']), contentDigest, method: req.method, path: req.url });
  heads.set(req.raw, head);
  return head;
}

/**
 * Authenticates a request with `Content-Digest` once its body is in: the
 * head (verified before the body, or now), then the body against the
 * digest; resolves once the nonce is durable.
 * @throws as {@link verifyHead}; VerificationError `CONTENT_DIGEST_MISMATCH`, `REQUEST_UNAUTHENTICATED` (replay).
 */
export async function authenticateSigned(node: ParleyNode, req: FastifyRequest, contentDigest: string, body: Uint8Array): Promise<AuthenticatedRequest> {
  const head = heads.get(req.raw) ?? verifyHead(node, req, contentDigest);
  heads.delete(req.raw);
  return node.authenticateRequestBodyDurably(head, body);
}

/**
 * {@link authenticateSigned} without waiting for the nonce: `durable`
 * resolves once it is durable (ParleyNode.authenticateRequestBodyThen; for
 * idempotent routes only, which answer nothing before it).
 * @throws as {@link authenticateSigned}, but a replay recorded by another process rejects `durable`.
 */
export function authenticateSignedThen(node: ParleyNode, req: FastifyRequest, contentDigest: string, body: Uint8Array): { readonly request: AuthenticatedRequest; readonly durable: Promise<void> } {
  const head = heads.get(req.raw) ?? verifyHead(node, req, contentDigest);
  heads.delete(req.raw);
  return node.authenticateRequestBodyThen(head, body);
}
