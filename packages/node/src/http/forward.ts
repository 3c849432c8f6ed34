/**
 * Writes on a follower (issue 14, sequencer.ts): several processes of one
 * party share its PostgreSQL database and only the sequencer signs, so a
 * follower hands every request that may write — any method but GET, HEAD
 * and OPTIONS — to the sequencer as it came (method, path, headers, body
 * bytes: a peer's signature over the body stays valid) and answers with the
 * sequencer's answer.
 *
 *     follower onRequest ──(x-parley-forwarded: <self>)──▶ sequencer ──▶ ParleyNode
 *
 * Before any other hook: nothing of the request is read or checked here;
 * the sequencer authenticates it as if it had come to it directly. A
 * request that arrives forwarded at a process that is not the sequencer (it
 * stepped down meanwhile) is refused, never forwarded again (no loops).
 * Without a sequencer, or when it does not answer: 503 SEQUENCER_UNAVAILABLE
 * with Retry-After — the client retries, and within a few seconds another
 * process holds the lock. A sequencer that died after it committed a write
 * but before it answered leaves the client without an answer, exactly as a
 * single process would.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Agent, request } from 'undici';
import type { App } from './context.js';
import { toProblem } from './problem.js';
import { ParleyError } from '@parley/core';
import type { SequencerStatus } from '../sequencer.js';

/** The header a forwarded request carries: the follower's URL. */
export const FORWARDED_HEADER = 'x-parley-forwarded';
/**
 * The client's address as the follower saw it, and `<unix seconds> <MAC>`
 * over method, URL, address and time (ParleyNode.forwardMac): the sequencer
 * throttles logins and caps uploads by the client's address, not by the
 * follower's. Believed within {@link FORWARD_MAC_SKEW_S}.
 */
export const FORWARDED_FOR_HEADER = 'x-parley-client';
export const FORWARD_MAC_HEADER = 'x-parley-client-mac';
export const FORWARD_MAC_SKEW_S = 60;

const clientOf = new WeakMap<FastifyRequest, string>();

/** The client's address: the one a follower of the party vouched for (forwarded request), else the connection's. */
export function clientAddress(req: FastifyRequest): string {
  return clientOf.get(req) ?? req.ip;
}

const macInput = (method: string, url: string, address: string, at: string) => `${method}\n${url}\n${address}\n${at}`;
/** Longest wait for the sequencer's answer to a forwarded request (ms). */
export const FORWARD_TIMEOUT_MS = 30_000;
/** Methods a follower answers itself. */
const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);
/** Hop-by-hop headers (RFC 9110 §7.6.1) and those fetch sets itself. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length']);

/** What the server needs of the election (SequencerElection implements it). */
export interface SequencerView {
  readonly isSequencer: boolean;
  status(): SequencerStatus;
  /** The sequencer's base URL now, undefined when no process holds the lock. */
  sequencerUrl(): Promise<string | undefined>;
  /** Forgets a cached sequencer URL that did not answer. */
  forget(): void;
}

function unavailable(reply: FastifyReply, detail: string): FastifyReply {
  const { problem } = toProblem(new ParleyError('SEQUENCER_UNAVAILABLE', detail));
  return reply.code(problem.status).header('retry-after', '1').header('cache-control', 'no-store').type('application/problem+json').send(JSON.stringify(problem));
}

/**
 * Registers the forwarding hook: call it before every other onRequest hook.
 * @param mac the party's forwarding MAC (ParleyNode.forwardMac).
 */
export function registerForward(app: App, seq: SequencerView, mac: (message: string) => string): void {
  // A request a follower of the party forwarded: believe the client address it vouches for.
  app.addHook('onRequest', async (req: FastifyRequest) => {
    const address = req.headers[FORWARDED_FOR_HEADER];
    const vouch = req.headers[FORWARD_MAC_HEADER];
    if (typeof address !== 'string' || typeof vouch !== 'string') return;
    const [at, given] = vouch.split(' ');
    if (at === undefined || given === undefined || !(Math.abs(Date.now() / 1000 - Number(at)) <= FORWARD_MAC_SKEW_S)) return;
    const want = Buffer.from(mac(macInput(req.method, req.url, address, at)));
    const got = Buffer.from(given);
    if (got.length === want.length && timingSafeEqual(got, want)) clientOf.set(req, address);
  });
  const agent = new Agent({ connect: { timeout: 2_000 }, keepAliveTimeout: 10_000 });
  app.addHook('onClose', async () => {
    await agent.close();
  });
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (SAFE.has(req.method) || seq.isSequencer) return;
    if (req.headers[FORWARDED_HEADER] !== undefined) return unavailable(reply, 'this process was the sequencer when the request was forwarded to it and no longer is: retry');
    let target: string | undefined;
    try {
      target = await seq.sequencerUrl();
    } catch (e) {
      return unavailable(reply, `the database does not say who the sequencer is: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (target === undefined) return unavailable(reply, 'no process of this party is its sequencer at this instant (one is taking over): retry');
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    headers[FORWARDED_HEADER] = seq.status().self ?? 'unknown';
    const client = clientAddress(req);
    const at = String(Math.floor(Date.now() / 1000));
    headers[FORWARDED_FOR_HEADER] = client;
    headers[FORWARD_MAC_HEADER] = `${at} ${mac(macInput(req.method, req.url, client, at))}`;
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    let status: number;
    let resHeaders: Record<string, string | string[] | undefined>;
    let body: Buffer;
    try {
      const res = await request(new URL(req.url, target), {
        method: req.method as 'POST',
        headers,
        ...(hasBody ? { body: req.raw } : {}),
        dispatcher: agent,
        headersTimeout: FORWARD_TIMEOUT_MS,
        bodyTimeout: FORWARD_TIMEOUT_MS,
      });
      status = res.statusCode;
      resHeaders = res.headers;
      body = Buffer.from(await res.body.arrayBuffer());
    } catch (e) {
      seq.forget();
      return unavailable(reply, `the sequencer (${target}) did not answer: ${(e as { code?: string }).code ?? (e instanceof Error ? e.message : String(e))}`);
    }
    reply.code(status);
    for (const [k, v] of Object.entries(resHeaders)) if (v !== undefined && !HOP.has(k)) reply.header(k, v);
    return reply.send(body);
  });
}
