/**
 * Alerts that are heard (issue 9): signed webhooks, beyond overdue deadlines
 * and forks (watcher.ts), for what a duty officer must hear about at once:
 *
 *     parley.entry.arrived   a FLASH or IMMEDIATE hotline message or incident
 *                            report from another party is durably held here
 *                            (id `arrival/<party>/<index>`)
 *     parley.link.down       link health (heartbeat.ts) turned `down`
 *                            (id `link/<party>/down/<downAt | never | fork>`)
 *     parley.link.up         a link seen down turned `up` again
 *                            (id `link/<party>/up/<the down's id tail>`)
 *
 * Bodies are signed and sent exactly as the deadline webhooks (webhook.ts:
 * `Parley-Webhook-Signature` over "parley/webhook/v1\n" || body), through the
 * watcher's durable queue and retries ({@link DeadlineWatcher.announce}):
 * each id once per node, at least once, the same bytes on every retry.
 *
 * Link state is polled every `pollMs` (default 5 s, the event stream's
 * cadence). A link already down when the node starts is announced (its id
 * is stable, so a restart does not repeat an announced outage); `up` is
 * announced only after a `down` seen by this process. `degraded` is not a
 * webhook (the dashboard shows it).
 */
import { needsAck } from '@parley/core';
import type { ReceivedEntry, LogStore } from '@parley/store';
import type { ParleyNode } from '../service.js';
import { type LinkHealth, linkHealth, linkSourceOf } from './heartbeat.js';
import type { StructuredLogger } from './clock.js';
import type { DeadlineWatcher } from './watcher.js';

export const ARRIVAL_WEBHOOK_EVENT = 'parley.entry.arrived';
export const LINK_DOWN_WEBHOOK_EVENT = 'parley.link.down';
export const LINK_UP_WEBHOOK_EVENT = 'parley.link.up';

/** Precedences whose arrival is announced. */
export const ANNOUNCED_PRECEDENCES: readonly string[] = ['FLASH', 'IMMEDIATE'];

export interface ArrivalWebhookEvent {
  readonly type: typeof ARRIVAL_WEBHOOK_EVENT;
  readonly id: string;
  readonly accord: string;
  readonly node: string;
  readonly party: string;
  readonly index: number;
  readonly receivedAt: string;
  readonly entry: { readonly from: string; readonly to: readonly string[]; readonly type: string; readonly precedence: string; readonly marking: string; readonly time: string; readonly incident?: string };
}

export interface LinkWebhookEvent {
  readonly type: typeof LINK_DOWN_WEBHOOK_EVENT | typeof LINK_UP_WEBHOOK_EVENT;
  readonly id: string;
  readonly accord: string;
  readonly node: string;
  readonly party: string;
  readonly state: LinkHealth['state'];
  readonly reason?: LinkHealth['reason'];
  readonly lastGoodContactAt?: string;
  readonly downAt?: string;
}

/** The arrival event of a received entry, or undefined when its arrival is not announced. */
export function arrivalEvent(accord: string, node: string, r: ReceivedEntry): ArrivalWebhookEvent | undefined {
  const m = r.meta;
  // Announced: what an officer must acknowledge (core's entry-type registry).
  if (!needsAck(m.type) || !ANNOUNCED_PRECEDENCES.includes(m.precedence)) return undefined;
  return {
    type: ARRIVAL_WEBHOOK_EVENT,
    id: `arrival/${r.party}/${r.index}`,
    accord,
    node,
    party: r.party,
    index: r.index,
    receivedAt: r.receivedAt,
    entry: { from: m.from, to: m.to, type: m.type, precedence: m.precedence, marking: m.marking, time: m.time, ...(m.incident !== undefined ? { incident: m.incident } : {}) },
  };
}

export interface AlertWebhooksOptions {
  readonly node: ParleyNode;
  readonly store: LogStore;
  readonly watcher: DeadlineWatcher;
  readonly logger: StructuredLogger;
  /** Link health poll interval (default 5 000 ms). */
  readonly pollMs?: number;
}

/** Starts announcing arrivals and link changes; @returns the function that stops it. */
export function startAlertWebhooks(o: AlertWebhooksOptions): () => Promise<void> {
  const { node, store, watcher, logger } = o;
  const accord = node.accord.id;
  /** The id tail of the outage each party is in, as last seen (undefined: up or unknown). */
  const outage = new Map<string, string>();
  let chain: Promise<unknown> = Promise.resolve();
  const announce = (events: readonly (ArrivalWebhookEvent | LinkWebhookEvent)[]) => {
    if (events.length === 0) return;
    chain = chain
      .then(async () => {
        const fresh = new Set(await watcher.announce(events.map((e) => ({ id: e.id, body: JSON.stringify(e) }))));
        for (const e of events) {
          if (!fresh.has(e.id)) continue;
          const level = e.type === LINK_UP_WEBHOOK_EVENT ? 'info' : 'warn';
          logger[level]({ event: e.type, id: e.id, party: e.party }, e.type === ARRIVAL_WEBHOOK_EVENT ? `${(e as ArrivalWebhookEvent).entry.precedence} from ${e.party}: ${e.party}/${(e as ArrivalWebhookEvent).index} awaits acknowledgement` : `link to ${e.party} is ${(e as LinkWebhookEvent).state}`);
        }
      })
      .catch((err: unknown) => logger.error({ err }, 'alert webhooks: could not queue'));
  };
  const unhook = node.onIngest((entries) => announce(entries.flatMap((r) => arrivalEvent(accord, node.party, r) ?? [])));

  let stopped = false;
  const poll = async () => {
    const source = linkSourceOf(node);
    const links = await linkHealth({ node, store, now: Date.now(), ...(source ? { source } : {}) });
    const events: LinkWebhookEvent[] = [];
    for (const l of links) {
      const base = { accord, node: node.party, party: l.party, state: l.state, ...(l.reason ? { reason: l.reason } : {}), ...(l.lastGoodContactAt ? { lastGoodContactAt: l.lastGoodContactAt } : {}), ...(l.downAt ? { downAt: l.downAt } : {}) };
      const was = outage.get(l.party);
      if (l.state === 'down') {
        const tail = l.downAt ?? (l.reason === 'fork' ? 'fork' : 'never');
        if (was !== tail) events.push({ ...base, type: LINK_DOWN_WEBHOOK_EVENT, id: `link/${l.party}/down/${tail}` });
        outage.set(l.party, tail);
      } else if (l.state === 'up') {
        if (was !== undefined) events.push({ ...base, type: LINK_UP_WEBHOOK_EVENT, id: `link/${l.party}/up/${was}` });
        outage.delete(l.party);
      }
    }
    announce(events);
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  const loop = () => {
    timer = setTimeout(() => {
      void poll()
        .catch((err: unknown) => logger.error({ err }, 'alert webhooks: link poll failed'))
        .finally(() => {
          if (!stopped) loop();
        });
    }, o.pollMs ?? 5000);
    timer.unref?.();
  };
  void poll().catch((err: unknown) => logger.error({ err }, 'alert webhooks: link poll failed'));
  loop();
  return async () => {
    stopped = true;
    unhook();
    if (timer !== undefined) clearTimeout(timer);
    await chain;
  };
}
