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
 *
 * Only a process of THIS party may take a forwarded request, and only its
 * answer is handed back. The URL a follower forwards to can name another
 * server by the time the request arrives: the sequencer was killed and its
 * port reused — by another party's node on the same machine (the soak runs
 * three parties on one host), by any program — or `--advertise-url` names
 * the wrong host. Such a server used to authenticate the officer's token
 * against ITS sessions and answer `401 unknown or revoked token` (the
 * transient 401 seen around sequencer kills). Now:
 *
 *   receiver  a request carrying {@link FORWARDED_HEADER} whose MAC does not
 *             verify under this party's forwarding key was not forwarded by a
 *             process of this party: 503 SEQUENCER_UNAVAILABLE, nothing of it
 *             read or run (the time window only limits whose client address
 *             is believed, not this check, so clocks apart do not matter).
 *             A log key the party rotated away from is accepted only for
 *             RETIRED_FORWARD_KEY_MS after this process switched (a rotation
 *             reaching the processes one by one), and its vouch never sets
 *             the client address: after a rotation for compromise, the old
 *             key's holder cannot pass for one of the party's processes;
 *   follower  the answer counts only when it carries
 *             {@link FORWARD_ACK_HEADER}, the MAC of the request's vouch under
 *             the party's key: any other answer (another party's node,
 *             another program) is dropped, the cached sequencer URL
 *             forgotten, and the client gets 503 SEQUENCER_UNAVAILABLE with
 *             Retry-After — its retry reaches the real sequencer.
 */
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Agent, request } from 'undici';
import type { App } from './context.js';
import { HttpError, toProblem } from './problem.js';
import { ParleyError } from '@parley/core';
import type { SequencerStatus } from '../sequencer.js';
import type { ForwardKey } from '../service.js';

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
/** On the sequencer's answer to a forwarded request: MAC of the request's {@link FORWARD_MAC_HEADER}, under the party's key. */
export const FORWARD_ACK_HEADER = 'x-parley-forward-ack';

const ackInput = (vouch: string) => `forward-ack\n${vouch}`;
/**
 * Requests a process of this party forwarded (their MAC verified), with the
 * acknowledgement made when the vouch was checked, under the key that made
 * it: a rotation activated by this very request must not change the key the
 * answer is acknowledged under (the follower checks it under its own).
 */
const forwardedBy = new WeakMap<FastifyRequest, string>();

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
/** Hop-by-hop headers (RFC 9110 §7.6.1) and those fetch sets itself; the acknowledgement is between the party's processes. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length', FORWARD_ACK_HEADER]);

/** The party's forwarding keys (ParleyNode.forwardKey, forwardKeys). */
export interface ForwardKeys {
  /** The key in use: a follower vouches under it and checks the acknowledgement under the same key. */
  current(): ForwardKey;
  /**
   * Every key accepted from another process now: the current and next log
   * keys, and a retired one only shortly after the switch (a rotation
   * reaching the processes one by one) — its vouch is not believed for the
   * client address.
   */
  accepted(): ForwardKey[];
}

/** What the server needs of the election (SequencerElection implements it). */
export interface SequencerView {
  readonly isSequencer: boolean;
  status(): SequencerStatus;
  /** The sequencer's base URL now, undefined when no process holds the lock. */
  sequencerUrl(): Promise<string | undefined>;
  /** Forgets a cached sequencer URL that did not answer. */
  forget(): void;
}

/**
 * The sequencer's URL for a request target, or undefined when the target is
 * not a plain path: an absolute-form (`http://other/…`) or scheme-relative
 * (`//other/…`) target would otherwise resolve to ANOTHER host, and the
 * follower would send it the client's request and hand back its answer.
 */
export function forwardUrl(sequencer: string, target: string): URL | undefined {
  if (!target.startsWith('/') || target.startsWith('//')) return undefined;
  const base = new URL(sequencer);
  const url = new URL(base.origin + target);
  return url.origin === base.origin ? url : undefined;
}

function unavailable(reply: FastifyReply, detail: string): FastifyReply {
  const { problem } = toProblem(new ParleyError('SEQUENCER_UNAVAILABLE', detail));
  return reply.code(problem.status).header('retry-after', '1').header('cache-control', 'no-store').type('application/problem+json').send(JSON.stringify(problem));
}

/**
 * Registers the forwarding hooks: call it before every other onRequest hook,
 * on every server (a single process too: a forwarded request that reaches
 * it — a reused port — must be refused, not run).
 * @param seq this process's side of the election; without it (one process)
 *   nothing is forwarded, but forwarded requests are still checked.
 * @param keys the party's forwarding key in use (ParleyNode.forwardKey) and the
 *   keys it accepts (ParleyNode.forwardKeys: the log keys either side of a rotation).
 */
export function registerForward(app: App, seq: SequencerView | undefined, keys: ForwardKeys): void {
  /** The key among `candidates` that made `given` over `m`, if any. */
  const madeBy = (candidates: readonly ForwardKey[], m: string, given: string): ForwardKey | undefined => {
    const got = Buffer.from(given);
    return candidates.find((k) => {
      const want = Buffer.from(k.mac(m));
      return got.length === want.length && timingSafeEqual(got, want);
    });
  };
  // A request a follower of the party forwarded: believe the client address it vouches for (within the skew,
  // under a key in force: not a retired one, whose holder may be whoever compromised it);
  // one that says it was forwarded and is not vouched for by this party's key is not ours to run.
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    const address = req.headers[FORWARDED_FOR_HEADER];
    const vouch = req.headers[FORWARD_MAC_HEADER];
    const forwarded = req.headers[FORWARDED_HEADER] !== undefined;
    const [at, given] = typeof vouch === 'string' ? vouch.split(' ') : [];
    const by = typeof address === 'string' && at !== undefined && given !== undefined ? madeBy(keys.accepted(), macInput(req.method, req.url, address, at), given) : undefined;
    if (forwarded && by === undefined) return unavailable(reply, 'this request was forwarded by a process of another party, or to the wrong server (a sequencer URL now served by another program): retry, your party\u2019s sequencer will take it');
    if (by === undefined) return;
    // Under the key the follower used: one that has not followed a rotation (or is ahead of us) can check it.
    if (forwarded) forwardedBy.set(req, by.mac(ackInput(vouch as string)));
    if (!by.retired && Math.abs(Date.now() / 1000 - Number(at)) <= FORWARD_MAC_SKEW_S) clientOf.set(req, address as string);
  });
  // The answer to a forwarded request says it is this party's (the follower checks it).
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply) => {
    const ack = forwardedBy.get(req);
    if (ack !== undefined) reply.header(FORWARD_ACK_HEADER, ack);
  });
  if (seq === undefined) return;
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
    const dest = forwardUrl(target, req.url);
    if (dest === undefined) {
      const { problem } = toProblem(new HttpError('VALIDATION_FAILED', 'the request target must be a path on this server (origin form, RFC 9112 §3.2.1), not an absolute or scheme-relative URL'));
      return reply.code(problem.status).header('cache-control', 'no-store').type('application/problem+json').send(JSON.stringify(problem));
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k)) headers[k] = Array.isArray(v) ? v.join(', ') : v;
    headers[FORWARDED_HEADER] = seq.status().self ?? 'unknown';
    const client = clientAddress(req);
    const at = String(Math.floor(Date.now() / 1000));
    headers[FORWARDED_FOR_HEADER] = client;
    // Over the target as sent (the URL parser may have normalised it: a backslash to a slash), which is what the sequencer sees.
    // The acknowledgement is checked under the key that made the vouch, even if this process switches keys meanwhile.
    const key = keys.current();
    const vouch = `${at} ${key.mac(macInput(req.method, dest.pathname + dest.search, client, at))}`;
    headers[FORWARD_MAC_HEADER] = vouch;
    const hasBody = req.headers['content-length'] !== undefined ? req.headers['content-length'] !== '0' : req.headers['transfer-encoding'] !== undefined;
    let status: number;
    let resHeaders: Record<string, string | string[] | undefined>;
    let body: Buffer;
    try {
      const res = await request(dest, {
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
    // Only our party's sequencer can make the acknowledgement: any other answer is not the answer to this write.
    const ack = resHeaders[FORWARD_ACK_HEADER];
    if (typeof ack !== 'string' || madeBy([key], ackInput(vouch), ack) === undefined) {
      seq.forget();
      return unavailable(reply, `${target} answered ${status}, but not as this party's sequencer (its port is another server's now, or the sequencer moved): retry`);
    }
    reply.code(status);
    for (const [k, v] of Object.entries(resHeaders)) if (v !== undefined && !HOP.has(k)) reply.header(k, v);
    return reply.send(body);
  });
}
