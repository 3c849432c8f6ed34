/**
 * A running node: everything `parley serve` (and the demo) starts around a
 * ParleyNode, in one place, stopped in the reverse order.
 *
 *     HTTP server (createServer)          officers' API, public log, witness, federation routes
 *     Federator                           push on append, pull every pollMs, per-peer backoff
 *     Heartbeat                           an entry to every party each heartbeatSeconds
 *     DeadlineTracker + DeadlineWatcher   overdue receipts/acks → log line + signed webhook
 *
 * The watcher is woken after every append (ours: receipts, acks, beats) so an
 * answer or a miss is noticed at once rather than at its next timer.
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import type { LogStore } from '@parley/store';
import type { ParleyNode } from './service.js';
import { createServer } from './http/index.js';
import { Federator, type FederatorOptions } from './federation/federator.js';
import { peersOf } from './federation/peer.js';
import { Heartbeat } from './deadlines/heartbeat.js';
import { deadlineTracker } from './deadlines/tracker.js';
import { DeadlineWatcher, type Escalation, type WebhookOptions } from './deadlines/watcher.js';
import { SILENT, type StructuredLogger } from './deadlines/clock.js';

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
  const app = await createServer({ node: o.node, store: o.store, ...(o.logger !== undefined ? { logger: o.logger } : {}) });
  const host = o.host ?? '127.0.0.1';
  await app.listen({ host, port: o.port ?? 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : (o.port ?? 0);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  const tracker = deadlineTracker(o.node, o.store);
  const watcher = new DeadlineWatcher({
    tracker,
    store: o.store,
    logger: events,
    ...(o.webhook && o.webhookKey ? { webhook: { ...o.webhook, key: o.webhookKey } } : {}),
    ...(o.onEscalation ? { onEscalation: o.onEscalation } : {}),
  });
  await watcher.start();
  const unsubscribe = o.node.onAppend(() => watcher.notify());

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
      await app.close();
    },
  };
}
