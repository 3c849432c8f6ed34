/**
 * Time for the schedulers (deadline watcher, heartbeats), injectable so
 * tests drive them with a manual clock instead of waiting.
 */

/** A wall clock and one-shot timers. */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Runs `fn` once after `ms`; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Longest single wait Node's timers take (2^31 − 1 ms); longer waits are chained. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The system clock. Timers are unref'd: a scheduler alone never keeps the process alive. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const t = setTimeout(fn, Math.min(Math.max(0, ms), MAX_TIMER_MS));
    t.unref();
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** A structured logger: what pino (and fastify's `app.log`) provide. */
export interface StructuredLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Discards everything. */
export const SILENT: StructuredLogger = { info() {}, warn() {}, error() {} };
