/**
 * A running node: everything `parley serve` (and the demo) starts around a
 * ParleyNode, in one place, stopped in the reverse order.
 *
 *     HTTP server (createServer)          officers' API, public log, witness, federation routes
 *     Federator                           push on append, pull every pollMs, per-peer backoff
 *     Heartbeat                           an entry to every party each heartbeatSeconds
 *     DeadlineTracker + DeadlineWatcher   overdue receipts/acks → log line + signed webhook,
 *                                         judged by cosigned times (CosignedBounds)
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
import { peersOf } from './federation/peer.js';
import { Heartbeat } from './deadlines/heartbeat.js';
import { deadlineTracker } from './deadlines/tracker.js';
import { CosignedBounds } from './deadlines/cosigned.js';
import { DeadlineWatcher, type Escalation, type WebhookOptions } from './deadlines/watcher.js';
import { SILENT, type StructuredLogger } from './deadlines/clock.js';

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
  /** A built web app to serve on the node's origin (the dashboard; ServerOptions.webRoot). */
  readonly webRoot?: string;
  /** Security headers, /metrics and /docs access, upload caps (ServerOptions.hardening). */
  readonly hardening?: HardeningOptions;
}

export interface Runtime {
  readonly app: FastifyInstance;
  readonly url: string;
  readonly federator: Federator | undefined;
  readonly heartbeat: Heartbeat | undefined;
  readonly watcher: DeadlineWatcher;
  /** Stops everything this started (the node and store stay the caller's to close). */
  stop(): Promise<void>;
}

/** Starts the server, federation, heartbeats and the deadline watcher for a node. */
export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const events = o.events ?? SILENT;
  const app = await createServer({
    node: o.node,
    store: o.store,
    ...(o.logger !== undefined ? { logger: o.logger } : {}),
    ...(o.webRoot !== undefined ? { webRoot: o.webRoot } : {}),
    ...(o.peerUrls !== undefined ? { peerUrls: o.peerUrls } : {}),
    ...(o.hardening !== undefined ? { hardening: o.hardening } : {}),
  });
  const host = o.host ?? '127.0.0.1';
  await app.listen({ host, port: o.port ?? 0 });
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

  let heartbeat: Heartbeat | undefined;
  if (o.heartbeatMs !== 0) {
    heartbeat = new Heartbeat({ node: o.node, logger: events, ...(o.heartbeatMs !== undefined ? { intervalMs: o.heartbeatMs } : {}) });
    await heartbeat.start();
  }

  return {
    app,
    url,
    federator,
    heartbeat,
    watcher,
    async stop() {
      unsubscribe();
      await heartbeat?.stop();
      await federator?.stop();
      await watcher.stop();
      await bounds.close();
      await app.close();
    },
  };
}
