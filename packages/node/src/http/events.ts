/**
 * GET /v1/events: live events for the dashboard, as Server-Sent Events
 * (WHATWG HTML §9.2, `text/event-stream`). Authenticated like every /v1
 * route, by the bearer token in the Authorization header (browsers read the
 * stream with fetch, not EventSource, which cannot send that header).
 *
 *     id: 42
 *     event: entry
 *     data: {"party":"US","index":7,"type":"hotline.message","direction":"out"}
 *
 *     : keepalive                     (a comment every keepaliveMs, default 15 s)
 *
 * Events (schemas below; `types.ts` exports them for the web):
 *
 *     entry       {party, index, type, precedence, direction: in|out, incident?}   appended to our log / received
 *     deadline    {party, index, recipient, state}                     a delivery changed state (overdue too)
 *     link        {party, state: up|down|degraded}                     link health changed (GET /v1/links)
 *     fork        {party}                                              a new fork proof is held
 *     checkpoint  {party, size, witness?}                              our new checkpoint, one we cosigned, or a
 *                                                                      peer's (`witness`) cosignature of ours
 *     reset       {}                                                   events were missed: refetch
 *
 * Ids increase by one per event. A client that reconnects with
 * `Last-Event-ID` (header, or `lastEventId` in the query) gets the events
 * after it replayed from a ring of the last {@link RING} events; when they are
 * no longer there (or were never produced because nobody listened) it gets
 * `reset` first.
 *
 * Cost. The hub works only while at least one stream is open: entry events
 * read the appended entries' metadata, deadline events re-judge every
 * delivery the tracker holds (O(deliveries) in time, a page at a time, and
 * remembering only the deliveries still expecting an answer; at most every
 * {@link DEADLINE_DEBOUNCE_MS} after a write, and when the next deadline
 * passes), link events poll link health every {@link LINK_POLL_MS}. With no
 * stream open, listeners return at once and an id is burnt so that a later
 * `Last-Event-ID` is answered with `reset`.
 *
 * Streams are bounded per node (`maxStreams`, default 64: a 503
 * TOO_MANY_STREAMS with Retry-After beyond it), end when the session
 * expires, at the first keepalive after it is revoked (logout) or its
 * officer disabled, and are closed before the server closes.
 */
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import type { LogStore, ReceivedEntry } from '@parley/store';
import type { ParleyNode } from '../service.js';
import { deadlineTracker } from '../deadlines/tracker.js';
import { onCosigned } from '../deadlines/cosigned.js';
import { linkHealth, linkSourceOf } from '../deadlines/heartbeat.js';
import { DELIVERY_STATES } from '../deadlines/state.js';
import { onForkRecorded } from '../federation/forks.js';
import { type App, type Context, BEARER, READERS } from './context.js';
import { HttpError } from './problem.js';
import * as S from './schemas.js';

/** Events kept for replay after a reconnect. */
export const RING = 512;
export const DEFAULT_KEEPALIVE_MS = 15_000;
export const DEFAULT_MAX_STREAMS = 64;
const DEADLINE_DEBOUNCE_MS = 200;
export const LINK_POLL_MS = 5_000;
/** Longest wait before deadlines are re-judged with no write in between. */
const DEADLINE_MAX_SLEEP_MS = 15_000;

export const EntryEvent = z.object({ party: z.string(), index: z.number().int(), type: S.EntryTypeName, precedence: S.Precedence.optional().describe('For alerts: a FLASH arriving is announced on every page'), direction: z.enum(['in', 'out']), incident: z.string().optional() }).meta({ id: 'EntryEvent' });
export const DeadlineEvent = z.object({ party: z.string(), index: z.number().int(), recipient: z.string(), state: z.enum(DELIVERY_STATES as [string, ...string[]]) }).meta({ id: 'DeadlineEvent' });
export const LinkEvent = z.object({ party: z.string(), state: z.enum(['up', 'down', 'degraded']) }).meta({ id: 'LinkEvent' });
export const ForkEvent = z.object({ party: z.string() }).meta({ id: 'ForkEvent' });
export const CheckpointEvent = z
  .object({ party: z.string(), size: z.number().int(), witness: z.string().optional().describe('Set when a peer\u2019s witness cosigned our log at this size') })
  .meta({ id: 'CheckpointEvent' });
export const ResetEvent = z.object({}).meta({ id: 'ResetEvent' });

/** Every event as the stream carries it: `event:` name and `data:` JSON. */
export const ParleyEvent = z.discriminatedUnion('event', [
  z.object({ id: z.number().int(), event: z.literal('entry'), data: EntryEvent }),
  z.object({ id: z.number().int(), event: z.literal('deadline'), data: DeadlineEvent }),
  z.object({ id: z.number().int(), event: z.literal('link'), data: LinkEvent }),
  z.object({ id: z.number().int(), event: z.literal('fork'), data: ForkEvent }),
  z.object({ id: z.number().int(), event: z.literal('checkpoint'), data: CheckpointEvent }),
  z.object({ id: z.number().int(), event: z.literal('reset'), data: ResetEvent }),
]);
export type ParleyEvent = z.output<typeof ParleyEvent>;

export const EventsQuery = z.object({ lastEventId: S.Decimal.optional().describe('Same as the Last-Event-ID header') }).strict();

interface Stream {
  readonly res: ServerResponse;
  readonly keepalive: ReturnType<typeof setInterval>;
  readonly expiry: ReturnType<typeof setTimeout>;
}

export interface EventHubOptions {
  readonly keepaliveMs?: number;
  readonly maxStreams?: number;
  /** How often link health is polled while a stream is open (default {@link LINK_POLL_MS}). */
  readonly linkPollMs?: number;
}

/** One node's event source: hooks on the node and store, fan-out to the open streams. */
export class EventHub {
  readonly #node: ParleyNode;
  readonly #store: LogStore;
  readonly keepaliveMs: number;
  readonly maxStreams: number;
  readonly #linkPollMs: number;
  readonly #streams = new Set<Stream>();
  readonly #ring: { id: number; frame: string }[] = [];
  /**
   * Starts at the clock in µs, so a client holding an id of an earlier run of
   * the node (always smaller) is told to reset rather than replayed wrongly.
   */
  #nextId = Date.now() * 1000;
  /** Something happened while nobody listened after this id: a Last-Event-ID at or below it gets `reset`. */
  #lostUpTo = 0;
  #ownSize: number;
  #ownChain: Promise<void> = Promise.resolve();
  readonly #seenIn = new Set<string>();
  #deadlines = new Map<string, string>();
  #deadlineTimer: ReturnType<typeof setTimeout> | undefined;
  #deadlineAt = Number.POSITIVE_INFINITY;
  #deadlineRun: Promise<void> = Promise.resolve();
  #links = new Map<string, string>();
  #linkTimer: ReturnType<typeof setInterval> | undefined;
  readonly #unhook: (() => void)[] = [];

  constructor(node: ParleyNode, store: LogStore, o: EventHubOptions = {}) {
    this.#node = node;
    this.#store = store;
    this.keepaliveMs = o.keepaliveMs ?? DEFAULT_KEEPALIVE_MS;
    this.maxStreams = o.maxStreams ?? DEFAULT_MAX_STREAMS;
    this.#linkPollMs = o.linkPollMs ?? LINK_POLL_MS;
    this.#ownSize = node.treeSize;
    this.#unhook.push(
      node.onAppend((size) => this.#appended(size)),
      node.onIngest((entries) => this.#ingested(entries)),
      onForkRecorded(store, (party) => {
        if (!this.#idle()) {
          this.#emit('fork', { party });
          void this.#pollLinks();
        }
      }),
      onCosigned(store, (p) => {
        if (this.#idle()) return;
        // We cosigned another party's checkpoint: we now hold it.
        if (p.cosigner === node.party && p.party !== node.party) this.#emit('checkpoint', { party: p.party, size: p.size });
        // A peer's witness cosigned ours: the dashboard's in-browser check can now count it.
        else if (p.party === node.party && p.cosigner !== node.party) this.#emit('checkpoint', { party: p.party, size: p.size, witness: p.cosigner });
      }),
    );
  }

  /** Open streams. */
  get size(): number {
    return this.#streams.size;
  }

  /** Deliveries whose state the hub remembers between passes (those still expecting an answer). */
  get heldDeadlines(): number {
    return this.#deadlines.size;
  }

  #idle(): boolean {
    if (this.#streams.size > 0) return false;
    // Something happened that nobody heard: a client reconnecting later must refetch.
    this.#lostUpTo = this.#nextId - 1;
    return true;
  }

  #emit(event: string, data: object): void {
    const id = this.#nextId++;
    const frame = `id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    this.#ring.push({ id, frame });
    if (this.#ring.length > RING) this.#ring.shift();
    for (const s of this.#streams) s.res.write(frame);
  }

  #appended(size: number): void {
    if (this.#idle()) {
      this.#ownSize = size;
      return;
    }
    this.#ownChain = this.#ownChain
      .then(async () => {
        if (size <= this.#ownSize) return;
        const from = this.#ownSize;
        this.#ownSize = size;
        for (const e of await this.#store.entries(from, size)) {
          this.#emit('entry', { party: this.#node.party, index: e.index, type: e.meta.type, precedence: e.meta.precedence, direction: 'out', ...(e.meta.incident !== undefined ? { incident: e.meta.incident } : {}) });
        }
        this.#emit('checkpoint', { party: this.#node.party, size });
      })
      .catch(() => undefined);
    this.#scheduleDeadlines(DEADLINE_DEBOUNCE_MS);
  }

  #ingested(entries: readonly ReceivedEntry[]): void {
    if (this.#idle()) return;
    for (const r of entries) {
      const key = `${r.party}/${r.index}`;
      // onIngest reports entries already held too (a re-push): announce each once.
      if (this.#seenIn.has(key)) continue;
      this.#seenIn.add(key);
      if (this.#seenIn.size > 8192) this.#seenIn.delete(this.#seenIn.values().next().value!);
      this.#emit('entry', { party: r.party, index: r.index, type: r.meta.type, precedence: r.meta.precedence, direction: 'in', ...(r.meta.incident !== undefined ? { incident: r.meta.incident } : {}) });
    }
    this.#scheduleDeadlines(DEADLINE_DEBOUNCE_MS);
  }

  #scheduleDeadlines(ms: number): void {
    if (this.#streams.size === 0) return;
    const at = Date.now() + ms;
    // Keep the earlier of two wake-ups.
    if (this.#deadlineTimer !== undefined && this.#deadlineAt <= at) return;
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    this.#deadlineAt = at;
    this.#deadlineTimer = setTimeout(() => {
      this.#deadlineTimer = undefined;
      this.#deadlineAt = Number.POSITIVE_INFINITY;
      this.#deadlineRun = this.#deadlineRun.then(() => this.#judge(true)).catch(() => undefined);
    }, ms);
    this.#deadlineTimer.unref?.();
  }

  /**
   * Re-judges every delivery; emits the ones whose state changed (all silently on the first pass). Only the
   * deliveries still expecting an answer are remembered (issue 14: not one per delivery of a 10,000,000-entry
   * log while a dashboard is open): a settled one does not change again, and one settled before any pass saw it
   * open (a heartbeat receipted on arrival) has no deadline to announce — its entry event said it came.
   */
  async #judge(announce: boolean): Promise<void> {
    if (this.#streams.size === 0) return;
    const tracker = deadlineTracker(this.#node, this.#store);
    await tracker.refresh();
    const now = Date.now();
    let next = now + DEADLINE_MAX_SLEEP_MS;
    const open = new Map<string, string>();
    for await (const s of tracker.statuses(now)) {
      const key = `${s.party}/${s.index}>${s.recipient}`;
      const was = this.#deadlines.get(key);
      if (!s.settled) open.set(key, s.state);
      if (announce && was !== s.state && (was !== undefined || !s.settled)) this.#emit('deadline', { party: s.party, index: s.index, recipient: s.recipient, state: s.state });
      if (s.nextDueAt !== undefined) next = Math.min(next, Date.parse(s.nextDueAt) + 1);
    }
    this.#deadlines = open;
    this.#scheduleDeadlines(Math.max(0, next - Date.now()));
  }

  async #pollLinks(announce = true): Promise<void> {
    if (this.#streams.size === 0) return;
    const source = linkSourceOf(this.#node);
    const links = await linkHealth({ node: this.#node, store: this.#store, now: Date.now(), ...(source ? { source } : {}) });
    for (const l of links) {
      if (announce && this.#links.get(l.party) !== l.state) this.#emit('link', { party: l.party, state: l.state });
      this.#links.set(l.party, l.state);
    }
  }

  /**
   * Opens a stream on `res` (headers not yet sent): replays what the client
   * missed after `lastEventId`, or tells it to reset.
   * @param expires when the session ends (ms): the stream ends then.
   * @param live checked at every keepalive: false (the officer logged out, or was disabled) ends the stream.
   */
  open(res: ServerResponse, lastEventId: number | undefined, expires: number, live: () => Promise<boolean> = async () => true): void {
    const first = this.#streams.size === 0;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 3000\n\n`);
    if (lastEventId !== undefined) {
      const oldest = this.#ring[0]?.id ?? this.#nextId;
      if (lastEventId <= this.#lostUpTo || lastEventId + 1 < oldest || lastEventId >= this.#nextId) res.write(`id: ${this.#nextId - 1}\nevent: reset\ndata: {}\n\n`);
      else for (const e of this.#ring) if (e.id > lastEventId) res.write(e.frame);
    }
    const keepalive = setInterval(() => {
      res.write(': keepalive\n\n');
      void live().then(
        (ok) => ok || res.end(),
        () => undefined,
      );
    }, this.keepaliveMs);
    keepalive.unref?.();
    const expiry = setTimeout(() => res.end(), Math.max(0, Math.min(expires - Date.now(), 2 ** 31 - 1)));
    expiry.unref?.();
    const stream: Stream = { res, keepalive, expiry };
    this.#streams.add(stream);
    const drop = () => {
      clearInterval(keepalive);
      clearTimeout(expiry);
      this.#streams.delete(stream);
      if (this.#streams.size === 0) this.#stop();
    };
    res.on('close', drop);
    res.on('error', drop);
    if (first) this.#start();
  }

  #start(): void {
    this.#ownSize = this.#node.treeSize;
    // First pass silent: only changes from now on are events.
    this.#deadlineRun = this.#deadlineRun.then(() => this.#judge(false)).catch(() => undefined);
    void this.#pollLinks(false).catch(() => undefined);
    this.#linkTimer = setInterval(() => void this.#pollLinks().catch(() => undefined), this.#linkPollMs);
    this.#linkTimer.unref?.();
  }

  #stop(): void {
    if (this.#linkTimer !== undefined) clearInterval(this.#linkTimer);
    if (this.#deadlineTimer !== undefined) clearTimeout(this.#deadlineTimer);
    this.#linkTimer = undefined;
    this.#deadlineTimer = undefined;
    this.#deadlineAt = Number.POSITIVE_INFINITY;
    this.#deadlines = new Map();
    this.#links = new Map();
  }

  /** Ends every stream and unhooks from the node (server shutdown). */
  close(): void {
    for (const s of [...this.#streams]) s.res.end();
    this.#stop();
    for (const u of this.#unhook) u();
  }
}

export function registerEvents(app: App, ctx: Context, o: EventHubOptions = {}): EventHub {
  const { sessions } = ctx;
  const hub = new EventHub(ctx.node, ctx.store, o);
  app.addHook('preClose', async () => hub.close());

  app.get('/v1/events', {
    onRequest: sessions.require(READERS),
    schema: {
      tags: ['channel'],
      summary: 'Live events (Server-Sent Events): entry, deadline, link, fork, checkpoint, reset',
      description: 'Read with fetch streaming and the bearer token. Last-Event-ID (header or `lastEventId`) replays missed events, or sends `reset`. A `: keepalive` comment every 15 s. See ParleyEvent for the data of each event.',
      security: BEARER,
      querystring: EventsQuery,
      response: { 200: { description: 'text/event-stream: `id`, `event` and JSON `data` per event', content: { 'text/event-stream': { schema: z.string() } } } },
    },
    handler: async (req, reply) => {
      const header = req.headers['last-event-id'];
      let last = req.query.lastEventId;
      if (typeof header === 'string' && header !== '') {
        const parsed = S.Decimal.safeParse(header);
        if (!parsed.success) throw new HttpError('VALIDATION_FAILED', 'headers.last-event-id: a decimal without sign or leading zeros');
        last = parsed.data;
      }
      if (hub.size >= hub.maxStreams) throw new HttpError('TOO_MANY_STREAMS', `this node serves at most ${hub.maxStreams} event streams`, { 'retry-after': '10' });
      const p = sessions.principal(req);
      reply.hijack();
      hub.open(reply.raw, last, Date.parse(p.expires), async () => {
        const s = await ctx.store.session(p.tokenHash);
        const o = s && (await ctx.store.officer(s.officer));
        return o !== undefined && !o.disabled;
      });
    },
  });
  return hub;
}
