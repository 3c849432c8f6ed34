/**
 * A running node: everything `parley serve` (and the demo) starts around a
 * ParleyNode, in one place, stopped in the reverse order.
 *
 *     HTTP server (createServer)          officers' API, public log, witness, federation routes
 *     Federator                           push on append, pull every pollMs, per-peer backoff
 *     Heartbeat                           an entry to every party each heartbeatSeconds
 *     DeadlineTracker + DeadlineWatcher   overdue receipts/acks → log line + signed webhook,
 *                                         judged by cosigned times (CosignedBounds)
 *     TimestampStamper + TimestampFetcher  issue 12: RFC 3161 tokens of our checkpoints, and the
 *                                         counterparts' tokens of theirs (when the accord lists TSAs)
 *
 * Before anything else, the continuity guard (rollback.ts, issue 9) is put
 * in front of the node's log writer: nothing of our log is signed until a
 * peer confirmed that what it cosigned of it is not ahead of the data
 * directory (or the log was recovered from the peers' mirrors). Its first
 * round runs before the server listens, for at most {@link FIRST_ROUND_MS}.
 *
 * The watcher is woken after appends (ours: receipts, acks, beats) so an
 * answer or a miss is noticed within {@link WATCHER_WAKE_MS} rather than at
 * its next timer. Not after every append: a pass judges every open delivery,
 * and at hundreds of appends a second passes back to back would take the
 * event loop from the server and the federator (the FLASH round trip). For
 * the same reason the wake-ups are spaced by {@link WATCHER_WAKE_SHARE}⁻¹ ×
 * the last woken pass's duration when that is longer (at most
 * {@link WATCHER_WAKE_MAX_MS}): with thousands of deliveries open (FLASH
 * messages awaiting acks) a pass takes milliseconds, and woken every 50 ms
 * the watcher alone would take a fifth of the event loop. A miss is still
 * escalated on time — the watcher's own timer fires at the next due time —
 * only the wake-ups that look for news come less often.
 */
import type { HardeningOptions } from './http/hardening.js';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { LogStore } from '@parley/store';
import type { ParleyNode } from './service.js';
import { createServer } from './http/index.js';
import { Federator, type FederatorOptions } from './federation/federator.js';
import { PeerClient, peersOf } from './federation/peer.js';
import { Heartbeat } from './deadlines/heartbeat.js';
import { deadlineTracker } from './deadlines/tracker.js';
import { CosignedBounds } from './deadlines/cosigned.js';
import { DeadlineWatcher, type Escalation, type WebhookOptions } from './deadlines/watcher.js';
import { SILENT, type StructuredLogger } from './deadlines/clock.js';
import { startAlertWebhooks } from './deadlines/alerts.js';
import { ContinuityGuard } from './rollback.js';
import { loadPullCursor } from './federation/pull.js';
import { TimestampStamper } from './tsa/stamper.js';
import { TimestampFetcher } from './tsa/peers.js';
import { MirrorPublisher } from './mirror.js';

/** True when our witness cosigned more of `party`'s log than our pull has scanned into the mirror. */
async function mirrorBehind(node: ParleyNode, store: LogStore, party: string): Promise<boolean> {
  if (node.accord.party(party) === undefined) return false;
  const held = await node.witness.latest(party);
  return held !== undefined && held.treeSize > (await loadPullCursor(store, party)).size;
}

/**
 * Longest the start waits for the continuity guard's first round (ms); it
 * goes on in the background, and writes wait at the gate meanwhile. Short:
 * when every node of a channel starts at once, no peer can answer yet.
 */
export const FIRST_ROUND_MS = 1_000;
/** Least time between two mirror catch-up pulls of one peer after its pushes (ms). */
export const MIRROR_CATCH_UP_MS = 500;
/** Time allowed to one peer for the guard's question (ms). */
export const CONTINUITY_PEER_TIMEOUT_MS = 3_000;

/** Least time between two append-driven wake-ups of the deadline watcher (ms). */
export const WATCHER_WAKE_MS = 50;
/** Largest share of the event loop that append-driven watcher passes may take. */
export const WATCHER_WAKE_SHARE = 0.1;
/** Longest spacing of append-driven wake-ups (ms). */
export const WATCHER_WAKE_MAX_MS = 1000;

export interface RuntimeOptions {
  readonly node: ParleyNode;
  readonly store: LogStore;
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Peer base URLs by party (default: the first URL the accord names). */
  readonly peerUrls?: Readonly<Record<string, string>>;
  readonly logger?: FastifyServerOptions['logger'];
  /** Structured log for escalations and federation errors. */
  readonly events?: StructuredLogger;
  readonly federation?: FederatorOptions & { readonly enabled?: boolean };
  /** Heartbeat interval (default: the accord's); 0 disables heartbeats. */
  readonly heartbeatMs?: number;
  /** Where overdue deadlines are POSTed (signed with the log key). */
  readonly webhook?: Omit<WebhookOptions, 'key'>;
  /** The node's log signing key, needed for the webhook signature. */
  readonly webhookKey?: WebhookOptions['key'];
  readonly onEscalation?: (e: Escalation) => void;
  /** How often link health is polled for link down/up webhooks (default 5 000 ms; deadlines/alerts.ts). */
  readonly alertPollMs?: number;
  /** A built web app to serve on the node's origin (the dashboard; ServerOptions.webRoot). */
  readonly webRoot?: string;
  /**
   * The rollback guard (rollback.ts). On by default when federation is;
   * `trustLocalLog` is the operator's override (`parley serve
   * --trust-local-log`): writes are allowed without any peer's confirmation.
   */
  readonly continuity?: { readonly enabled?: boolean; readonly trustLocalLog?: boolean; readonly waitMs?: number; readonly retryMs?: number };
  /** Security headers, /metrics and /docs access, upload caps (ServerOptions.hardening). */
  readonly hardening?: HardeningOptions;
  /**
   * RFC 3161 time stamping (issue 12; on whenever the accord lists authorities):
   * least time between two stamping rounds of our checkpoints and between two
   * fetches of the counterparts' tokens (default 60 000 ms; `parley serve --tsa-interval`).
   */
  readonly tsa?: { readonly intervalMs?: number; readonly timeoutMs?: number };
  /**
   * Issue 14: publish our log to this directory as a static C2SP tlog-tiles
   * mirror (mirror.ts; `parley serve --mirror-dir`), at most every `intervalMs`.
   */
  readonly mirror?: { readonly dir: string; readonly intervalMs?: number };
}

export interface Runtime {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly federator: Federator | undefined;
  readonly heartbeat: Heartbeat | undefined;
  readonly watcher: DeadlineWatcher;
  /** The rollback guard, unless federation or the guard is off. */
  readonly continuity: ContinuityGuard | undefined;
  /** Stamps our checkpoints (issue 12): idle while the accord lists no authority. */
  readonly stamper: TimestampStamper;
  /** Fetches and verifies the counterparts' tokens (issue 12), unless federation is off. */
  readonly timestampFetcher: TimestampFetcher | undefined;
  /** The static mirror publisher (issue 14), when a mirror directory was given. */
  readonly mirror: MirrorPublisher | undefined;
  /** Stops everything this started (the node and store stay the caller's to close). */
  stop(): Promise<void>;
}

/** Starts the server, federation, heartbeats and the deadline watcher for a node. */
export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const events = o.events ?? SILENT;
  // issue 9: the gate goes up before anything could sign (heartbeats, receipts of pushes, officers' sends).
  let continuity: ContinuityGuard | undefined;
  if (o.federation?.enabled !== false && o.continuity?.enabled !== false) {
    continuity = new ContinuityGuard({
      node: o.node,
      store: o.store,
      peers: peersOf(o.node, { ...(o.peerUrls ? { urls: o.peerUrls } : {}), timeoutMs: CONTINUITY_PEER_TIMEOUT_MS }),
      logger: events,
      ...(o.continuity?.waitMs !== undefined ? { waitMs: o.continuity.waitMs } : {}),
      ...(o.continuity?.retryMs !== undefined ? { retryMs: o.continuity.retryMs } : {}),
    });
    o.node.setContinuity(continuity);
    if (o.continuity?.trustLocalLog === true) continuity.trustLocal();
    let bound: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([continuity.start(), new Promise<void>((r) => (bound = setTimeout(r, FIRST_ROUND_MS)))]);
    clearTimeout(bound);
  }
  // issue 14: checked before the server listens (a directory holding another log refuses the start).
  const mirror =
    o.mirror === undefined
      ? undefined
      : await MirrorPublisher.start({ node: o.node, store: o.store, dir: o.mirror.dir, logger: events, ...(o.mirror.intervalMs !== undefined ? { intervalMs: o.mirror.intervalMs } : {}) }).catch((e: unknown) => {
          continuity?.stop();
          throw e;
        });
  const app = await createServer({
    node: o.node,
    store: o.store,
    ...(o.logger !== undefined ? { logger: o.logger } : {}),
    ...(o.webRoot !== undefined ? { webRoot: o.webRoot } : {}),
    ...(o.peerUrls !== undefined ? { peerUrls: o.peerUrls } : {}),
    ...(o.hardening !== undefined ? { hardening: o.hardening } : {}),
  });
  const host = o.host ?? '127.0.0.1';
  await app.listen({ host, port: o.port ?? 0 }).catch(async (e: unknown) => {
    await mirror?.stop();
    throw e;
  });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : (o.port ?? 0);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const tracker = deadlineTracker(o.node, o.store);
  // Deadlines are judged by what counterparts cosigned, not by a party's own clock (deadlines/cosigned.ts).
  const bounds = await CosignedBounds.open(o.node, o.store);
  tracker.setBounds(bounds);
  const watcher = new DeadlineWatcher({
    tracker,
    store: o.store,
    logger: events,
    ...(o.webhook && o.webhookKey ? { webhook: { ...o.webhook, key: o.webhookKey } } : {}),
    ...(o.onEscalation ? { onEscalation: o.onEscalation } : {}),
  });
  await watcher.start();
  // FLASH/IMMEDIATE arrivals and link down/up: signed webhooks through the watcher's queue (issue 9).
  const stopAlerts = startAlertWebhooks({ node: o.node, store: o.store, watcher, logger: events, ...(o.alertPollMs !== undefined ? { pollMs: o.alertPollMs } : {}) });
  let lastWake = 0;
  let spacing = WATCHER_WAKE_MS;
  let wakeTimer: ReturnType<typeof setTimeout> | undefined;
  const wake = () => {
    wakeTimer = undefined;
    lastWake = Date.now();
    const started = performance.now();
    watcher.notify();
    void watcher.idle().then(() => {
      spacing = Math.min(WATCHER_WAKE_MAX_MS, Math.max(WATCHER_WAKE_MS, (performance.now() - started) / WATCHER_WAKE_SHARE));
    });
  };
  const unsubscribeAppend = o.node.onAppend(() => {
    if (wakeTimer === undefined) wakeTimer = setTimeout(wake, Math.max(0, lastWake + spacing - Date.now()));
  });
  const unsubscribe = () => {
    unsubscribeAppend();
    if (wakeTimer !== undefined) clearTimeout(wakeTimer);
  };

  let federator: Federator | undefined;
  if (o.federation?.enabled !== false) {
    federator = await Federator.start(o.node, o.store, peersOf(o.node, o.peerUrls ? { urls: o.peerUrls } : {}), {
      ...o.federation,
      onError: (party, e) => {
        events.warn({ event: 'parley.federation.error', party, error: e instanceof Error ? e.message : String(e) }, 'federation attempt failed');
        o.federation?.onError?.(party, e);
      },
    });
  }

  // issue 9: a witness should hold what it cosigned. A push from P brings only P's entries
  // addressed to us; the rest of what our witness just cosigned reaches the mirror by the
  // pull's scan — so scan now (at most every MIRROR_CATCH_UP_MS per peer), not at the next poll.
  const catchUp = new Map<string, ReturnType<typeof setTimeout>>();
  const unsubscribeIngest =
    federator === undefined
      ? () => undefined
      : o.node.onIngest((entries) => {
          for (const party of new Set(entries.map((e) => e.party))) {
            if (catchUp.has(party)) continue;
            catchUp.set(
              party,
              setTimeout(() => {
                catchUp.delete(party);
                void mirrorBehind(o.node, o.store, party).then(
                  (behind) => behind && federator?.poke(party),
                  () => undefined,
                );
              }, MIRROR_CATCH_UP_MS),
            );
          }
        });

  let heartbeat: Heartbeat | undefined;
  // issue 11: on each new accord version, the heartbeat follows its interval, and a party that joins
  // by it gets a link (its URL from peerUrls, else the accord's).
  const unsubscribeChain =
    o.node.governance === undefined
      ? () => undefined
      : o.node.governance.onChain((chain) => {
          heartbeat?.retime();
          if (federator === undefined) return;
          for (const p of chain.current.accord.parties) {
            if (p.id === o.node.party) continue;
            const url = o.peerUrls?.[p.id];
            void federator!.addPeer(new PeerClient(o.node, p.id, url !== undefined ? { url } : {})).catch((e: unknown) => events.warn({ event: 'parley.federation.error', party: p.id, error: e instanceof Error ? e.message : String(e) }, 'adding a peer failed'));
          }
        });

  // issue 12: trusted time. Beside the writer, never in its way (tsa/stamper.ts).
  const stamper = new TimestampStamper({ node: o.node, store: o.store, logger: events, ...(o.tsa?.intervalMs !== undefined ? { intervalMs: o.tsa.intervalMs } : {}), ...(o.tsa?.timeoutMs !== undefined ? { timeoutMs: o.tsa.timeoutMs } : {}) });
  stamper.start();
  let timestampFetcher: TimestampFetcher | undefined;
  if (o.federation?.enabled !== false) {
    timestampFetcher = new TimestampFetcher({ node: o.node, store: o.store, peers: peersOf(o.node, o.peerUrls ? { urls: o.peerUrls } : {}), logger: events, ...(o.tsa?.intervalMs !== undefined ? { intervalMs: o.tsa.intervalMs } : {}) });
    timestampFetcher.start();
  }

  if (o.heartbeatMs !== 0) {
    heartbeat = new Heartbeat({ node: o.node, logger: events, ...(o.heartbeatMs !== undefined ? { intervalMs: o.heartbeatMs } : {}) });
    // A node that may not sign yet does not hold its start for its first beat (it waits at the gate, or fails loudly).
    if (continuity === undefined || continuity.ok) await heartbeat.start();
    else void heartbeat.start();
  }

  return {
    app,
    url,
    federator,
    heartbeat,
    watcher,
    continuity,
    stamper,
    timestampFetcher,
    mirror,
    async stop() {
      continuity?.stop();
      await stamper.stop();
      await timestampFetcher?.stop();
      unsubscribeChain();
      unsubscribeIngest();
      for (const t of catchUp.values()) clearTimeout(t);
      unsubscribe();
      await heartbeat?.stop();
      await federator?.stop();
      await stopAlerts();
      await watcher.stop();
      await bounds.close();
      await app.close();
      // After the server: the last appends it acknowledged are published before the process ends.
      await mirror?.sync().catch(() => undefined);
      await mirror?.stop();
    },
  };
}
