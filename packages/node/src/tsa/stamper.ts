/**
 * Stamping our own checkpoints with the accord's RFC 3161 authorities
 * (issue 12, "Trusted time").
 *
 * When the accord in force lists `timestamping` authorities, the node sends
 * the latest checkpoint note of its log — the exact note /log/checkpoint
 * serves — to every listed authority and keeps each token that verifies
 * (verify.ts) in the store beside the checkpoint (`checkpoint_timestamps`).
 *
 *     after appends        at most one stamping round per intervalMs (default 60 s,
 *                          `parley serve --tsa-interval`)
 *     after an evaluation.commitment or deployment.notice is written:
 *                          a round within {@link PROMPT_MS}, whatever the interval
 *     a failure            logged (parley.tsa.failed), counted (parley_tsa_failures_total),
 *                          retried after {@link RETRY_MS} doubling up to the interval
 *
 * Never in the way of a write: rounds run beside the log writer on their own
 * timers, read only the committed checkpoint, and swallow their errors.
 * One round at a time; an authority that already stamped the latest size is
 * not asked again.
 */
import { randomBytes } from 'node:crypto';
import { decodeUtf8, isParleyError } from '@parley/core';
import { makeTimestampRequest, parseTimestampResponse, timestampImprint } from '@parley/core/tsa';
import type { LogStore } from '@parley/store';
import type { ParleyNode } from '../service.js';
import { SILENT, type StructuredLogger } from '../deadlines/clock.js';
import { postTimestampQuery } from './client.js';
import { tsaStats } from './stats.js';
import { noteSize, timestampingOf, verifyCheckpointTokens } from './verify.js';
import { noteTimestamped } from './bounds.js';

/** Default least time between two stamping rounds (ms). */
export const DEFAULT_TSA_INTERVAL_MS = 60_000;
/** How soon a round follows an evaluation commitment or deployment notice (ms). */
export const PROMPT_MS = 200;
/** First retry delay after a failed round (ms); doubles up to the interval. */
export const RETRY_MS = 2_000;
/** Entry types whose checkpoint is stamped promptly: their time is what issue 12 proves. */
export const PROMPT_TYPES: ReadonlySet<string> = new Set(['evaluation.commitment', 'deployment.notice']);

export interface StamperOptions {
  readonly node: ParleyNode;
  readonly store: LogStore;
  readonly intervalMs?: number;
  readonly logger?: StructuredLogger;
  /** Per request to an authority (ms; client.ts default otherwise). */
  readonly timeoutMs?: number;
  /** Entry types stamped promptly (default {@link PROMPT_TYPES}). */
  readonly promptTypes?: ReadonlySet<string>;
}

export class TimestampStamper {
  readonly #node: ParleyNode;
  readonly #store: LogStore;
  readonly #intervalMs: number;
  readonly #logger: StructuredLogger;
  readonly #timeoutMs: number | undefined;
  readonly #promptTypes: ReadonlySet<string>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;
  #lastRound = 0;
  #running: Promise<void> | undefined;
  #again = false;
  #retryMs = RETRY_MS;
  #scanned = 0;
  #stopped = false;
  #unsubscribe: (() => void) | undefined;

  constructor(o: StamperOptions) {
    this.#node = o.node;
    this.#store = o.store;
    this.#intervalMs = o.intervalMs ?? DEFAULT_TSA_INTERVAL_MS;
    this.#logger = o.logger ?? SILENT;
    this.#timeoutMs = o.timeoutMs;
    this.#promptTypes = o.promptTypes ?? PROMPT_TYPES;
  }

  /** Starts listening to appends and schedules a first round (the latest checkpoint may be unstamped). */
  start(): void {
    this.#scanned = this.#node.treeSize;
    this.#unsubscribe = this.#node.onAppend((size) => this.#appended(size));
    this.#schedule(0);
  }

  /** Stops the timers and waits for a round under way. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** Resolves once no round runs or is due within the prompt delay (tests). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  /** Runs a round now (tests; `parley serve` never needs it). */
  async stampNow(): Promise<void> {
    await this.idle();
    await this.#round();
  }

  #appended(size: number): void {
    if (this.#stopped || timestampingOf(this.#node.accord) === undefined) return;
    const from = this.#scanned;
    this.#scanned = Math.max(this.#scanned, size);
    // Promptly for the entries whose time matters (checked from the store, beside the writer).
    void this.#store.entries(Math.max(from, size - 256), size).then(
      (es) => this.#schedule(es.some((e) => this.#promptTypes.has(e.meta.type)) ? PROMPT_MS : Math.max(0, this.#lastRound + this.#intervalMs - Date.now())),
      () => this.#schedule(Math.max(0, this.#lastRound + this.#intervalMs - Date.now())),
    );
  }

  /** Arms the timer for `delayMs` from now unless it fires sooner already. */
  #schedule(delayMs: number): void {
    if (this.#stopped) return;
    const at = Date.now() + delayMs;
    if (this.#timer !== undefined && this.#timerAt <= at) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Infinity;
      if (this.#running) {
        this.#again = true;
        return;
      }
      this.#running = this.#round().finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.#schedule(0);
        }
      });
    }, delayMs);
    this.#timer.unref?.();
  }

  async #round(): Promise<void> {
    this.#lastRound = Date.now();
    const ts = timestampingOf(this.#node.accord);
    if (ts === undefined) return;
    let failed = false;
    try {
      const bytes = await this.#node.latestCheckpoint();
      if (bytes === undefined) return;
      const note = decodeUtf8(bytes, 'checkpoint');
      const size = noteSize(note);
      const held = new Set((await this.#store.checkpointTimestamps(this.#node.party, { treeSize: size })).map((t) => t.authority));
      const imprint = timestampImprint(note);
      for (const authority of ts.authorities) {
        if (held.has(authority.name) || this.#stopped) continue;
        try {
          const nonce = new Uint8Array(randomBytes(8));
          const query = makeTimestampRequest({ imprint, nonce, policy: authority.policy });
          const token = parseTimestampResponse(await postTimestampQuery(authority.url, query, this.#timeoutMs !== undefined ? { timeoutMs: this.#timeoutMs } : {}));
          // Verified before it is kept: chain, EKU, policy, validity, imprint — and our nonce.
          const checked = await verifyCheckpointTokens(this.#node, this.#node.party, note, [{ authority: authority.name, token, nonce }]);
          const bad = checked.refused[0];
          if (bad !== undefined) throw Object.assign(new Error(bad.message), { code: bad.code });
          await this.#store.addCheckpointTimestamps(checked.verified);
          tsaStats(this.#node).countStamped(authority.name);
          for (const v of checked.verified) noteTimestamped(this.#store, v);
          this.#logger.info({ event: 'parley.tsa.stamped', authority: authority.name, treeSize: size }, 'checkpoint time-stamped');
        } catch (e) {
          failed = true;
          const code = isParleyError(e) ? e.code : typeof (e as { code?: unknown }).code === 'string' ? String((e as { code: string }).code) : 'TSA_UNAVAILABLE';
          tsaStats(this.#node).countFailure(authority.name, code);
          this.#logger.warn({ event: 'parley.tsa.failed', authority: authority.name, url: authority.url, treeSize: size, code, error: e instanceof Error ? e.message : String(e) }, 'time stamping failed');
        }
      }
    } catch (e) {
      failed = true;
      this.#logger.warn({ event: 'parley.tsa.failed', error: e instanceof Error ? e.message : String(e) }, 'time stamping round failed');
    }
    if (failed) {
      this.#schedule(this.#retryMs);
      this.#retryMs = Math.min(this.#intervalMs, this.#retryMs * 2);
    } else this.#retryMs = RETRY_MS;
  }
}
