/**
 * DeadlineWatcher: notices deliveries that go overdue and escalates each
 * overdue deadline once — a structured log line and a signed webhook
 * (webhook.ts). It appends nothing to the log: the log already proves what
 * was sent and answered when; the overdue state is derived from it (state.ts)
 * and shown by GET /v1/deadlines.
 *
 * Scheduling: one timer, set to the earliest of (the next deadline of an
 * open delivery, the next webhook retry, now + `maxSleepMs`). The cap bounds
 * how late an overdue of a delivery that appeared while asleep is noticed;
 * `notify()` wakes the watcher at once (call it after writes or ingest).
 *
 * Durability (the store's `escalations` table, issue 9): before an
 * escalation is logged or sent, its id and its webhook are inserted, in one
 * durable write (`recordEscalations`, insert-only: an id is recorded once).
 * Each webhook's delivery state then moves by compare-and-set on its
 * attempts (`updateWebhook`), never by rewriting the whole list. After a
 * restart the watcher neither repeats an escalation nor forgets an unsent
 * webhook. A crash after a POST succeeded but before its state was updated
 * repeats that POST: delivery is at least once, with a stable id (webhook.ts).
 *
 * Forks: the same pass escalates every fork proof the node holds
 * (federation/forks.ts) once — an ERROR log line `parley.fork.detected`
 * and a `parley.fork.detected` webhook (webhook.ts, {@link ForkEvent}), under
 * the proof's stable id in the same durable lists. Keeping a new proof wakes
 * the watcher at once.
 *
 * Retries: exponential backoff (`baseDelayMs` · 2^(attempt − 1), at most
 * `maxDelayMs`) for any failure (network, timeout, non-2xx), at most
 * `maxAttempts` attempts; then the webhook is dropped with an error line
 * (the overdue state itself stays visible in the API and the metrics).
 */
import { type SignerKey, formatBase64 } from '@parley/core';
import { FORK_ID_PREFIX, accordForkMessage, accordForks, forkId, forksOf, heldAccordForks, heldForks, onForkRecorded } from '../federation/forks.js';
import type { LogStore } from '@parley/store';
import { type Clock, type StructuredLogger, MAX_TIMER_MS, systemClock } from './clock.js';
import type { DeadlineKind, DeliveryStatus } from './state.js';
import type { DeadlineTracker } from './tracker.js';
import { type ForkEvent, FORK_WEBHOOK_EVENT, WEBHOOK_ID_HEADER, WEBHOOK_SIGNATURE_HEADER, overdueEvent, overdueId, signWebhook } from './webhook.js';

/** Settings key of the watcher's durable state up to schema 2 (store migration 3 moves it into the `escalations` table). */
export const ESCALATIONS_SETTING = 'deadlines.escalations';

export interface WebhookOptions {
  /** Where to POST (http or https). */
  readonly url: string;
  /** The node's log signing key (the accord's key for this party). */
  readonly key: SignerKey;
  /** Most attempts per webhook (default 8). */
  readonly maxAttempts?: number;
  /** First retry delay (default 1 000 ms); doubles per attempt. */
  readonly baseDelayMs?: number;
  /** Longest retry delay (default 300 000 ms). */
  readonly maxDelayMs?: number;
  /** Per-request timeout (default 10 000 ms). */
  readonly timeoutMs?: number;
}

export interface DeadlineWatcherOptions {
  readonly tracker: DeadlineTracker;
  readonly store: LogStore;
  readonly logger: StructuredLogger;
  readonly webhook?: WebhookOptions;
  readonly clock?: Clock;
  /** Longest sleep between checks (default 60 000 ms). */
  readonly maxSleepMs?: number;
  /**
   * Which overdue deliveries escalate (default {@link escalateByDefault}:
   * all but heartbeats, whose missed receipts are link health's alarm).
   */
  readonly escalate?: (s: DeliveryStatus, kind: DeadlineKind) => boolean;
  /** Called with each escalation after it is recorded (metrics, tests). */
  readonly onEscalation?: (e: Escalation) => void;
}

/** One overdue deadline, escalated. */
export interface Escalation {
  readonly id: string;
  readonly kind: DeadlineKind;
  readonly status: DeliveryStatus;
}

/** A webhook not yet delivered. */
export interface PendingWebhook {
  readonly id: string;
  /** The exact body to send (and sign) on every attempt. */
  readonly body: string;
  readonly attempts: number;
  /** Milliseconds since the epoch. */
  readonly nextAttemptAt: number;
}


/** Heartbeats do not escalate: a missed one is link health's alarm. */
export function escalateByDefault(s: DeliveryStatus): boolean {
  return s.type !== 'heartbeat';
}

export class DeadlineWatcher {
  readonly #o: DeadlineWatcherOptions;
  readonly #clock: Clock;
  readonly #maxSleep: number;
  #escalated = new Set<string>();
  #pending: PendingWebhook[] = [];
  /** What the store holds: id → its pending webhook as last written (null: none pending). */
  readonly #durable = new Map<string, PendingWebhook | null>();
  /** How webhooks that left `#pending` ended, for the store (delivered or abandoned, after how many attempts). */
  readonly #outcomes = new Map<string, { attempts: number; state: 'delivered' | 'abandoned' }>();
  #timer: unknown;
  #wakeAt: number | undefined;
  #running = false;
  #run: Promise<void> = Promise.resolve();
  #again = false;
  #unwatchForks: () => void = () => undefined;

  constructor(o: DeadlineWatcherOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
    this.#maxSleep = o.maxSleepMs ?? 60_000;
  }

  /** Loads the durable state and runs the first check (which schedules the next). */
  async start(): Promise<void> {
    if (this.#running) return;
    // Escalations and announcements settled long ago stay in the store (issue 14: one per overdue delivery and per
    // FLASH/IMMEDIATE arrival, millions on a big log): only pending webhooks are loaded, and the fork ids (a handful).
    const held = await this.#o.store.escalations({ keepSettled: FORK_ID_PREFIX });
    this.#escalated = new Set(held.map((e) => e.id));
    this.#pending = [];
    this.#durable.clear();
    for (const e of held) {
      const w = e.webhook?.state === 'pending' ? { id: e.id, body: e.webhook.body, attempts: e.webhook.attempts, nextAttemptAt: e.webhook.nextAttemptAt } : null;
      if (w) this.#pending.push(w);
      this.#durable.set(e.id, w);
    }
    this.#running = true;
    this.#unwatchForks = onForkRecorded(this.#o.store, () => this.notify());
    await this.check();
  }

  /**
   * Queues signed webhooks for alerts that are not deadlines (alerts.ts: a
   * FLASH/IMMEDIATE arrival, a link down or up; issue 9): each id once, in the
   * same durable lists and with the same retries as escalations.
   * @returns the ids newly queued (ids already announced are skipped).
   */
  async announce(events: readonly { readonly id: string; readonly body: string }[]): Promise<string[]> {
    // Which were announced before is the store's to say (issue 14: not a set in memory, one id per FLASH arrival since start).
    let fresh = events.filter((e) => !this.#durable.has(e.id));
    if (fresh.length > 0) {
      const known = new Set(await this.#o.store.knownEscalations(fresh.map((e) => e.id)));
      fresh = fresh.filter((e) => !known.has(e.id));
    }
    if (fresh.length === 0) return [];
    const now = this.#clock.now();
    const webhook = this.#o.webhook !== undefined;
    // Insert-only: an id another call (or process) recorded first is not announced again.
    const recorded = new Set(await this.#o.store.recordEscalations(fresh.map((e) => ({ id: e.id, recordedAt: now, ...(webhook ? { webhook: e.body } : {}) }))));
    const queued = fresh.filter((e) => recorded.has(e.id));
    if (webhook) {
      for (const e of queued) {
        const p = { id: e.id, body: e.body, attempts: 0, nextAttemptAt: now };
        this.#pending.push(p);
        this.#durable.set(e.id, p);
      }
      this.notify();
    }
    return queued.map((e) => e.id);
  }

  /** Stops the timer and waits for a check in progress. */
  async stop(): Promise<void> {
    this.#running = false;
    this.#unwatchForks();
    this.#clear();
    await this.#run;
  }

  /** Wakes the watcher now (new entries may have arrived). */
  notify(): void {
    if (this.#running) void this.check();
  }

  /** When the timer fires next (ms), or undefined when stopped. */
  get nextWakeAt(): number | undefined {
    return this.#wakeAt;
  }

  /** Settles when the current pass (if any) is done. */
  idle(): Promise<void> {
    return this.#run;
  }

  /** How many webhook states the watcher holds in memory: its pending webhooks and fork ids (bounded; not one per overdue delivery or announced arrival). */
  get held(): number {
    return this.#durable.size;
  }

  /** Webhooks not yet delivered. */
  get pending(): readonly PendingWebhook[] {
    return this.#pending;
  }

  /**
   * One pass: refresh the tracker, escalate what went overdue, send due
   * webhooks, schedule the next pass. Passes never overlap: a call during a
   * pass makes the pass run once more.
   */
  check(): Promise<void> {
    if (this.#busy) {
      this.#again = true;
      return this.#run;
    }
    this.#busy = true;
    this.#run = (async () => {
      try {
        do {
          this.#again = false;
          await this.#pass();
        } while (this.#again);
      } finally {
        this.#busy = false;
      }
    })();
    return this.#run;
  }

  #busy = false;

  async #pass(): Promise<void> {
    this.#clear();
    const { tracker, logger } = this.#o;
    let next = Number.POSITIVE_INFINITY;
    try {
      await tracker.refresh();
      const now = this.#clock.now();
      let fresh: Escalation[] = [];
      const changes = await tracker.changes(now);
      for (const s of changes) {
        // +1 ms: a deadline is overdue only once now > dueAt.
        if (s.nextDueAt !== undefined) next = Math.min(next, Date.parse(s.nextDueAt) + 1);
        for (const kind of s.overdue) {
          if (!(this.#o.escalate ?? escalateByDefault)(s, kind)) continue;
          fresh.push({ id: overdueId(kind, s), kind, status: s });
        }
      }
      // Which were escalated before is the store's to say (not a set in memory: one id per overdue delivery).
      if (fresh.length > 0) {
        const known = new Set(await this.#o.store.knownEscalations(fresh.map((e) => e.id)));
        fresh = fresh.filter((e) => !known.has(e.id));
      }
      if (fresh.length > 0) await this.#record(fresh, now);
      // Only now, with its escalations durable, are the judgements written (a crash before: judged and reported again).
      await tracker.done(changes);
      // More stale deliveries than a page: pass again at once until none is left.
      if (tracker.scanning) this.#again = true;
      // Every judged delivery wakes us at its due time (the store's index).
      const quietDue = tracker.nextDueAt();
      if (quietDue !== undefined) next = Math.min(next, quietDue + 1);
      await this.#forks(now);
      await this.#deliver();
    } catch (err) {
      logger.error({ err }, 'deadline watcher: check failed');
      next = Math.min(next, this.#clock.now() + 1000);
    }
    if (!this.#running) return;
    for (const p of this.#pending) next = Math.min(next, p.nextAttemptAt);
    const now = this.#clock.now();
    const at = Math.min(next, now + this.#maxSleep);
    this.#wakeAt = at;
    this.#timer = this.#clock.setTimeout(() => void this.check(), Math.min(MAX_TIMER_MS, Math.max(0, at - now)));
  }

  /** Durably records new escalations (and their webhooks), then logs them. */
  async #record(candidates: readonly Escalation[], now: number): Promise<void> {
    const { tracker, webhook, store } = this.#o;
    const rows = candidates.map((e) => ({ id: e.id, recordedAt: now, ...(webhook ? { webhook: JSON.stringify(overdueEvent(tracker.accordId, tracker.party, e.kind, e.status)) } : {}) }));
    // Insert-only: an id another pass (or process) recorded first is not escalated again.
    const recorded = new Set(await store.recordEscalations(rows));
    for (const r of rows) {
      if (!recorded.has(r.id) || r.webhook === undefined) continue;
      const p = { id: r.id, body: r.webhook, attempts: 0, nextAttemptAt: now };
      this.#pending.push(p);
      this.#durable.set(r.id, p);
    }
    const fresh = candidates.filter((e) => recorded.has(e.id));
    for (const e of fresh) {
      const s = e.status;
      this.#o.logger.warn(
        {
          event: 'parley.deadline.overdue',
          id: e.id,
          kind: e.kind,
          direction: s.direction,
          party: s.party,
          index: s.index,
          recipient: s.recipient,
          type: s.type,
          precedence: s.precedence,
          dueAt: e.kind === 'ack' ? s.ackDueAt : s.receiptDueAt,
          state: s.state,
        },
        `deadline missed: ${e.kind} of ${s.party}/${s.index} by ${s.recipient}`,
      );
      this.#o.onEscalation?.(e);
    }
  }

  /** Escalates each fork proof held and not yet escalated: durably recorded first, then logged. */
  async #forks(now: number): Promise<void> {
    const { tracker, webhook, logger } = this.#o;
    // Cheap on every pass: ids first; only proofs not yet escalated are verified (heldForks).
    let unseen = false;
    for (const { id: party } of tracker.accord.accord.parties) {
      if ((await forksOf(this.#o.store, party)).some((t) => !this.#escalated.has(forkId(party, t)))) unseen = true;
    }
    await this.#accordForks(now);
    if (!unseen) return;
    const fresh = (await heldForks(this.#o.store, tracker.governed)).filter((f) => !this.#escalated.has(f.id));
    if (fresh.length === 0) return;
    for (const f of fresh) {
      this.#escalated.add(f.id);
      if (!webhook) continue;
      const view = (v: typeof f.fork.a) => ({ treeSize: v.checkpoint.treeSize, rootHash: formatBase64(v.checkpoint.rootHash) });
      const event: ForkEvent = { type: FORK_WEBHOOK_EVENT, id: f.id, accord: tracker.accordId, node: tracker.party, party: f.party, kind: f.fork.kind, a: view(f.fork.a), b: view(f.fork.b), proof: f.text };
      this.#pending.push({ id: f.id, body: JSON.stringify(event), attempts: 0, nextAttemptAt: now });
    }
    await this.#persist();
    for (const f of fresh) {
      logger.error(
        { event: FORK_WEBHOOK_EVENT, id: f.id, party: f.party, kind: f.fork.kind, a: f.fork.a.checkpoint.treeSize, b: f.fork.b.checkpoint.treeSize, href: `/v1/forks/${f.party}/${f.n}` },
        `FORK: ${f.party}'s log signed two checkpoints no single history explains; its new entries are refused`,
      );
    }
  }

  /** Escalates each accord fork proof (issue 11: two valid versions N+1) not yet escalated, as a log fork is. */
  async #accordForks(now: number): Promise<void> {
    const { tracker, webhook, logger } = this.#o;
    if (!(await accordForks(this.#o.store)).some((t) => !this.#escalated.has(forkId('accord', t)))) return;
    const fresh = (await heldAccordForks(this.#o.store, tracker.governed)).filter((f) => !this.#escalated.has(f.id));
    if (fresh.length === 0) return;
    for (const f of fresh) {
      this.#escalated.add(f.id);
      if (!webhook) continue;
      const view = (v: typeof f.fork.a) => ({ version: v.version, digest: v.digest });
      const event: ForkEvent = { type: FORK_WEBHOOK_EVENT, id: f.id, accord: tracker.accordId, node: tracker.party, party: f.signers[0] ?? 'accord', kind: 'accord', a: view(f.fork.a), b: view(f.fork.b), proof: f.text };
      this.#pending.push({ id: f.id, body: JSON.stringify(event), attempts: 0, nextAttemptAt: now });
    }
    await this.#persist();
    for (const f of fresh) {
      logger.error(
        { event: FORK_WEBHOOK_EVENT, id: f.id, party: f.signers[0] ?? 'accord', kind: 'accord', version: f.fork.version, a: f.fork.a.digest, b: f.fork.b.digest, href: `/v1/forks/accord/${f.n}`, ...(f.race !== undefined ? { race: 'departure', departedA: f.race.a, departedB: f.race.b } : {}) },
        accordForkMessage(f),
      );
    }
  }

  /** Sends every pending webhook whose time has come, one at a time. */
  async #deliver(): Promise<void> {
    const w = this.#o.webhook;
    if (!w) return;
    for (const p of [...this.#pending]) {
      if (!this.#running || p.nextAttemptAt > this.#clock.now()) continue;
      const attempts = p.attempts + 1;
      const error = await this.#post(w, p);
      if (error === undefined) {
        this.#outcomes.set(p.id, { attempts, state: 'delivered' });
        this.#pending = this.#pending.filter((x) => x.id !== p.id);
        this.#o.logger.info({ id: p.id, attempts }, 'deadline webhook delivered');
      } else if (attempts >= (w.maxAttempts ?? 8)) {
        this.#outcomes.set(p.id, { attempts, state: 'abandoned' });
        this.#pending = this.#pending.filter((x) => x.id !== p.id);
        this.#o.logger.error({ id: p.id, attempts, error }, 'deadline webhook abandoned');
      } else {
        const delay = Math.min((w.baseDelayMs ?? 1000) * 2 ** (attempts - 1), w.maxDelayMs ?? 300_000);
        this.#pending = this.#pending.map((x) => (x.id === p.id ? { ...p, attempts, nextAttemptAt: this.#clock.now() + delay } : x));
        this.#o.logger.warn({ id: p.id, attempts, error, retryInMs: delay }, 'deadline webhook failed');
      }
      await this.#persist();
    }
  }

  /** One POST; undefined on a 2xx, else what went wrong. */
  async #post(w: WebhookOptions, p: PendingWebhook): Promise<string | undefined> {
    const body = new TextEncoder().encode(p.body);
    try {
      const r = await fetch(w.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_ID_HEADER]: p.id,
          [WEBHOOK_SIGNATURE_HEADER]: signWebhook(this.#o.tracker.party, w.key, body),
        },
        body,
        signal: AbortSignal.timeout(w.timeoutMs ?? 10_000),
      });
      await r.body?.cancel();
      return r.ok ? undefined : `HTTP ${r.status}`;
    } catch (err) {
      return err instanceof Error ? err.message : String(err);
    }
  }

  /**
   * Makes the store match `#escalated` and `#pending`: new ids (with their
   * webhooks) inserted in one durable write first, then each webhook whose
   * state moved updated by compare-and-set on the attempts last written.
   */
  async #persist(): Promise<void> {
    const store = this.#o.store;
    const pending = new Map(this.#pending.map((p) => [p.id, p]));
    const fresh = [...new Set([...this.#escalated, ...pending.keys()])].filter((id) => !this.#durable.has(id));
    if (fresh.length > 0) {
      const now = this.#clock.now();
      await store.recordEscalations(fresh.map((id) => ({ id, recordedAt: now, ...(pending.has(id) ? { webhook: pending.get(id)!.body } : {}) })));
      for (const id of fresh) {
        const p = pending.get(id);
        this.#durable.set(id, p ? { ...p, attempts: 0, nextAttemptAt: now } : null);
      }
    }
    for (const [id, was] of this.#durable) {
      if (was === null) continue;
      const now = pending.get(id);
      if (now && now.attempts === was.attempts && now.nextAttemptAt === was.nextAttemptAt) continue;
      const outcome = this.#outcomes.get(id);
      const next = now ? { attempts: now.attempts, nextAttemptAt: now.nextAttemptAt, state: 'pending' as const } : { attempts: outcome?.attempts ?? was.attempts + 1, nextAttemptAt: was.nextAttemptAt, state: outcome?.state ?? ('delivered' as const) };
      // A lost compare-and-set means another writer moved it: what the store holds stands.
      await store.updateWebhook(id, was.attempts, next);
      // A settled deadline webhook leaves memory (its row stays; the store answers knownEscalations): the
      // map holds pending webhooks and the ids of #escalated only, not one row per overdue delivery since start.
      if (now === undefined && !this.#escalated.has(id)) this.#durable.delete(id);
      else this.#durable.set(id, now ?? null);
      this.#outcomes.delete(id);
    }
  }

  #clear(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#wakeAt = undefined;
  }
}
