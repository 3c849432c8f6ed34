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
import { ParleyError } from '@parley/core';
import type { ParleyNode } from './service.js';
import { createServer } from './http/index.js';
import { Federator, type FederatorOptions } from './federation/federator.js';
import { PeerClient, peersOf } from './federation/peer.js';
import { MirrorClient } from './federation/mirrorSource.js';
import { Heartbeat } from './deadlines/heartbeat.js';
import { deadlineTracker } from './deadlines/tracker.js';
import { CosignedBounds, MAX_POINTS } from './deadlines/cosigned.js';
import { DeadlineWatcher, type Escalation, type WebhookOptions } from './deadlines/watcher.js';
import { SILENT, type StructuredLogger } from './deadlines/clock.js';
import { startAlertWebhooks } from './deadlines/alerts.js';
import { ContinuityGuard } from './rollback.js';
import { loadPullCursor } from './federation/pull.js';
import { TimestampStamper } from './tsa/stamper.js';
import { TimestampFetcher } from './tsa/peers.js';
import type { SequencerElection } from './sequencer.js';
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

/** How often a follower reads the store's size, to serve what the sequencer appended (ms). */
export const FOLLOW_MS = 200;

/** How often a follower reads the cosigned times the sequencer persisted (ms; they are persisted about once a second). */
export const ABSORB_MS = 1_000;

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
  /**
   * Issue 14: base URLs of peers' static mirrors by party (`parley serve
   * --peer-mirror`): the pull reads one when the peer's node fails
   * (federation/mirrorSource.ts), or first for the parties in `preferMirror`.
   */
  readonly peerMirrors?: Readonly<Record<string, string>>;
  readonly preferMirror?: readonly string[];
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
   * Several processes for one party on one PostgreSQL database (issue 14):
   * this process's side of the sequencer election. Absent: the party's only
   * process (SQLite, or PostgreSQL with one process), which always signs.
   */
  readonly sequencer?: SequencerElection;
  /** The base URL the other processes forward writes to (default: the URL this server listens on). */
  readonly advertiseUrl?: string;
  /** How often a follower looks for entries the sequencer appended (default {@link FOLLOW_MS}). */
  readonly followMs?: number;
  /**
   * Issue 14: publish our log to this directory as a static C2SP tlog-tiles
   * mirror (mirror.ts; `parley serve --mirror-dir`), at most every `intervalMs`.
   */
  readonly mirror?: { readonly dir: string; readonly intervalMs?: number };
}

export interface Runtime {
  readonly app: FastifyInstance;
  readonly url: string;
  /** The duties below run on the party's sequencer only: undefined on a follower (issue 14). */
  readonly federator: Federator | undefined;
  readonly heartbeat: Heartbeat | undefined;
  readonly watcher: DeadlineWatcher | undefined;
  /** The rollback guard, unless federation or the guard is off. */
  readonly continuity: ContinuityGuard | undefined;
  /** Stamps our checkpoints (issue 12): idle while the accord lists no authority. */
  readonly stamper: TimestampStamper | undefined;
  /** Fetches and verifies the counterparts' tokens (issue 12), unless federation is off. */
  readonly timestampFetcher: TimestampFetcher | undefined;
  /** The election, when several processes serve the party (RuntimeOptions.sequencer). */
  readonly sequencer: SequencerElection | undefined;
  /** The static mirror publisher (issue 14), when a mirror directory was given. */
  readonly mirror: MirrorPublisher | undefined;
  /** Stops everything this started (the node and store stay the caller's to close). */
  stop(): Promise<void>;
}

/** What runs once per party: on the only process, or on the sequencer of several. */
interface Duties {
  readonly federator: Federator | undefined;
  readonly heartbeat: Heartbeat | undefined;
  readonly watcher: DeadlineWatcher;
  readonly stamper: TimestampStamper;
  readonly timestampFetcher: TimestampFetcher | undefined;
  stop(): Promise<void>;
}

/** The rollback guard (issue 9): goes up before anything could sign (heartbeats, receipts of pushes, officers' sends). */
async function startGuard(o: RuntimeOptions, events: StructuredLogger): Promise<ContinuityGuard | undefined> {
  if (o.federation?.enabled === false || o.continuity?.enabled === false) return undefined;
  const continuity = new ContinuityGuard({
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
  return continuity;
}

/**
 * Milliseconds until the next heartbeat is due after the last one in our
 * log (0: at once). A new sequencer keeps the party's rhythm instead of
 * beating at its takeover: once per interval per party, not per process.
 */
async function nextBeatIn(o: RuntimeOptions, intervalMs: number): Promise<number> {
  const last = (await o.store.outbox({ type: 'heartbeat', limit: 1 }))[0];
  if (last === undefined) return 0;
  return Math.max(0, Math.min(intervalMs, Date.parse(last.meta.time) + intervalMs - Date.now()));
}

/** Starts the once-per-party duties: deadline watcher, alerts, federation, time stamping, heartbeats. */
async function startDuties(o: RuntimeOptions, events: StructuredLogger, continuity: ContinuityGuard | undefined, shared?: CosignedBounds): Promise<Duties> {
  const tracker = deadlineTracker(o.node, o.store);
  // Deadlines are judged by what counterparts cosigned, not by a party's own clock (deadlines/cosigned.ts).
  // With several processes the process's bounds outlive its duties (they serve a follower's reads too).
  const bounds = shared ?? (await CosignedBounds.open(o.node, o.store));
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
    const mirrors = Object.fromEntries(Object.entries(o.peerMirrors ?? {}).map(([party, url]) => [party, new MirrorClient(party, url)]));
    federator = await Federator.start(o.node, o.store, peersOf(o.node, o.peerUrls ? { urls: o.peerUrls } : {}), {
      ...o.federation,
      mirrors,
      ...(o.preferMirror !== undefined ? { preferMirror: o.preferMirror } : {}),
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

  let firstBeat: ReturnType<typeof setTimeout> | undefined;
  if (o.heartbeatMs !== 0) {
    const hb = new Heartbeat({ node: o.node, logger: events, ...(o.heartbeatMs !== undefined ? { intervalMs: o.heartbeatMs } : {}) });
    heartbeat = hb;
    // Several processes: a new sequencer beats when the party's next beat is due, not at its takeover.
    const delay = o.sequencer !== undefined ? await nextBeatIn(o, hb.intervalMs) : 0;
    if (delay > 0) firstBeat = setTimeout(() => void hb.start(), delay);
    // A node that may not sign yet does not hold its start for its first beat (it waits at the gate, or fails loudly).
    else if (continuity === undefined || continuity.ok) await hb.start();
    else void hb.start();
  }

  return {
    federator,
    heartbeat,
    watcher,
    stamper,
    timestampFetcher,
    async stop() {
      // How long each duty took to stop (ms), logged: a slow stop delays the next takeover (issue 14).
      const took: Record<string, number> = {};
      const timed = async (name: string, p: Promise<unknown> | undefined) => {
        const t0 = performance.now();
        await p;
        took[name] = Math.round(performance.now() - t0);
      };
      if (firstBeat !== undefined) clearTimeout(firstBeat);
      await timed('stamper', stamper.stop());
      await timed('timestampFetcher', timestampFetcher?.stop());
      unsubscribeChain();
      unsubscribeIngest();
      for (const t of catchUp.values()) clearTimeout(t);
      unsubscribe();
      await timed('heartbeat', heartbeat?.stop());
      await timed('federator', federator?.stop());
      await timed('alerts', stopAlerts());
      await timed('watcher', watcher.stop());
      if (shared === undefined) await bounds.close();
      events.info({ event: 'parley.duties.stopped', ms: took }, 'once-per-party duties stopped');
    },
  };
}

/**
 * Starts the server, federation, heartbeats and the deadline watcher for a node.
 *
 * With `o.sequencer` (several processes for one party on one PostgreSQL
 * database, issue 14) the server starts at once and this process begins as
 * a follower: it signs nothing, forwards writes to the sequencer
 * (http/forward.ts) and follows the log as it grows in the store (every
 * {@link FOLLOW_MS}). When the election makes it the sequencer it re-reads
 * its frontier from the store, puts up the rollback guard and starts the
 * once-per-party duties; when it loses the lock it refuses writes at once
 * and stops them.
 */
export async function startRuntime(o: RuntimeOptions): Promise<Runtime> {
  const events = o.events ?? SILENT;
  const election = o.sequencer;
  if (election !== undefined) o.node.setSequencer(false);
  let continuity = election === undefined ? await startGuard(o, events) : undefined;
  // issue 14: checked before the server listens (a directory holding another log refuses the start).
  // Any process of the party may publish — a follower reads the log from the shared store — but ONE per
  // directory (docs/operations.md): a starting publisher clears the directory's .staging/ (mirror.ts).
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
    ...(election !== undefined ? { sequencer: election } : {}),
  });
  const host = o.host ?? '127.0.0.1';
  await app.listen({ host, port: o.port ?? 0 }).catch(async (e: unknown) => {
    await mirror?.stop();
    throw e;
  });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : (o.port ?? 0);
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  // Several processes (issue 14): every process judges deadlines on cosigned bounds — a follower
  // answers /v1/deadlines and the inbox too (it judged by the parties' own clocks). Cosignatures are
  // made and received on the sequencer (witness requests and pushes are forwarded to it; it pushes
  // and gossips), which persists them (cosigned_times); a follower reads the latest from the store
  // every ABSORB_MS, and a new sequencer reads them all as it takes over.
  const shared = election === undefined ? undefined : await CosignedBounds.open(o.node, o.store);
  if (shared !== undefined) deadlineTracker(o.node, o.store).setBounds(shared);
  let absorbing = false;
  const absorb =
    shared === undefined
      ? undefined
      : setInterval(() => {
          if (absorbing || o.node.isSequencer) return;
          absorbing = true;
          void shared
            .absorbStored()
            .catch(() => undefined) // a store hiccup only delays a bound; the next tick reads again
            .finally(() => (absorbing = false));
        }, Math.max(o.followMs ?? FOLLOW_MS, ABSORB_MS));
  absorb?.unref?.();
  let duties: Duties | undefined = election === undefined ? await startDuties(o, events, continuity) : undefined;
  let follow: ReturnType<typeof setInterval> | undefined;
  let unsubscribeElection = (): unknown => undefined;
  let settled = (): Promise<void> => Promise.resolve();
  if (election !== undefined) {
    // Role changes run one after another; the node refuses writes the instant the lock is in doubt.
    let transitions: Promise<void> = Promise.resolve();
    const takeOver = async () => {
      const size = await o.node.resync();
      // Sign under the chain the last sequencer adopted, never a stale one this process opened with,
      // and with the log key in force: a rotation the last sequencer activated is followed (or, without
      // the next key in this data directory, the takeover fails: KEY_RETIRED, the lock is given up).
      await o.node.followChain();
      await o.node.checkSigningKey();
      if (!election.isSequencer) return;
      continuity = await startGuard(o, events);
      if (!election.isSequencer) return;
      o.node.setSequencer(true);
      events.info({ event: 'parley.sequencer.takeover', treeSize: size, self: election.status().self, afterMs: Date.now() - election.status().since }, 'sequencer: signing from the stored log');
      // Every point the last sequencer persisted (it may have recorded some since our last read).
      await shared?.absorbStored(MAX_POINTS);
      duties = await startDuties(o, events, continuity, shared);
    };
    const stepDown = async () => {
      o.node.setSequencer(false);
      continuity?.stop();
      continuity = undefined;
      o.node.setContinuity(undefined);
      const d = duties;
      duties = undefined;
      await d?.stop();
    };
    unsubscribeElection = election.onChange((role) => {
      if (role === 'follower') o.node.setSequencer(false);
      transitions = transitions
        .then(() => (role === 'sequencer' ? takeOver() : stepDown()))
        .catch((e: unknown) => {
          events.error({ event: 'parley.sequencer.transition_failed', role, error: e instanceof Error ? e.message : String(e) }, 'sequencer role change failed: stepping down');
          // A sequencer that cannot sign must not keep the lock from the others. Without the log key in
          // force it never will (until restarted with it): it stops competing, not wins the lock again and again.
          if (e instanceof ParleyError && e.code === 'KEY_RETIRED') election.withdraw(`the log key in force is not in this data directory: ${e.message}`);
          else election.resign('the takeover failed');
          return stepDown();
        });
      // Not the sequencer again before the last term's duties have stopped (SequencerElection.holdWhile).
      if (role === 'follower') election.holdWhile(transitions);
    });
    settled = () => transitions;
    // A follower serves the log the sequencer appends: it follows the store's size.
    let following = false;
    let refused: string | undefined;
    follow = setInterval(() => {
      if (following || o.node.isSequencer) return;
      following = true;
      void o.store
        .treeSize()
        .then((size) => (size > o.node.treeSize ? o.node.resync() : undefined))
        .then(() => o.node.followIngest())
        // A version the sequencer adopted: switch to it as the sequencer did (issue 14).
        .then(() => o.node.followChain())
        .then((chain) => {
          if (chain !== undefined) events.info({ event: 'parley.accord.followed', version: chain.current.version }, `follower: runs on accord version ${chain.current.version} adopted by the sequencer`);
        })
        .catch((e: unknown) => {
          // Said once per distinct refusal, not at every poll.
          if (!(e instanceof ParleyError) || e.message === refused) return;
          refused = e.message;
          events.error({ event: 'parley.accord.follow_failed', code: e.code, error: e.message }, 'follower: the stored accord chain was refused');
        })
        .finally(() => (following = false));
    }, o.followMs ?? FOLLOW_MS);
    await election.start(o.advertiseUrl ?? url);
  }

  return {
    app,
    url,
    get federator() {
      return duties?.federator;
    },
    get heartbeat() {
      return duties?.heartbeat;
    },
    get watcher() {
      return duties?.watcher;
    },
    get continuity() {
      return continuity;
    },
    get stamper() {
      return duties?.stamper;
    },
    get timestampFetcher() {
      return duties?.timestampFetcher;
    },
    sequencer: election,
    mirror,
    async stop() {
      if (follow !== undefined) clearInterval(follow);
      unsubscribeElection();
      // The lock goes first: another process takes over while this one drains.
      o.node.setSequencer(election === undefined);
      await election?.stop();
      await settled();
      continuity?.stop();
      await duties?.stop();
      duties = undefined;
      if (absorb !== undefined) clearInterval(absorb);
      await shared?.close();
      await app.close();
      // After the server: the last appends it acknowledged are published before the process ends.
      await mirror?.sync().catch(() => undefined);
      await mirror?.stop();
    },
  };
}
