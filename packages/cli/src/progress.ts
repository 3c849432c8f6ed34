/**
 * Progress bars for long work (`log verify`, `bundle export | import`, store
 * migrations at open): on standard error, and only when it is a terminal and
 * the output is not `--json` — piped or scripted, nothing is drawn (no
 * control characters). cli-progress is imported only when a bar is drawn:
 * commands start without it.
 */

import type { MigrationStep } from '@parley/store';

/** One bar: a total, a count, and what is being done. */
export interface Progress {
  /** Starts (or restarts) the bar at 0 of `total`. */
  start(total: number, phase: string): void;
  /** Counts `n` more done. */
  tick(n?: number, phase?: string): void;
  /** Sets the count. */
  update(value: number, phase?: string): void;
  /** Removes the bar (the line is cleared). */
  stop(): void;
}

const NONE: Progress = { start() {}, tick() {}, update() {}, stop() {} };

/** cli-progress (CommonJS): its exports, however Node's ESM loader presents them. */
export async function loadCliProgress(): Promise<typeof import('cli-progress')> {
  const m = await import('cli-progress');
  return (m as { default?: typeof m }).default ?? m;
}

/** True when a bar may be drawn: stderr is a terminal and the command prints no JSON. */
export const showsProgress = (json: boolean): boolean => !json && process.stderr.isTTY === true;

/**
 * A progress bar on stderr, or one that draws nothing (piped, or `--json`).
 * @param unit what is counted, after the numbers ("tiles", "bytes").
 */
export async function progressBar(json: boolean, unit = ''): Promise<Progress> {
  if (!showsProgress(json)) return NONE;
  const cliProgress = await loadCliProgress();
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: ` {bar} {percentage}% | {value}/{total}${unit ? ` ${unit}` : ''} | {phase}`,
      hideCursor: true,
      clearOnComplete: true,
      // Some work (migrations, a big bundle's parse) blocks the event loop: draw on update, not only on a timer.
      synchronousUpdate: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let running = false;
  return {
    start(total, phase) {
      if (running) bar.stop();
      bar.start(Math.max(total, 1), 0, { phase });
      running = true;
    },
    tick(n = 1, phase) {
      if (running) bar.increment(n, phase === undefined ? {} : { phase });
    },
    update(value, phase) {
      if (running) bar.update(value, phase === undefined ? {} : { phase });
    },
    stop() {
      if (running) bar.stop();
      running = false;
    },
  };
}

/**
 * A progress bar for the store's migrations at open (SqliteStore.open's
 * `onMigrate`), drawn only when an existing store is upgraded, with a line
 * saying so once done; undefined when nothing is drawn (piped, `--json`).
 */
export async function migrationProgress(json: boolean, file: string): Promise<((s: MigrationStep) => void) | undefined> {
  if (!showsProgress(json)) return undefined;
  const bar = await progressBar(json, 'migrations');
  return (s) => {
    if (s.from === 0) return; // a new store: created, not upgraded
    if (s.done === 0) bar.start(s.total, `upgrading the store from schema ${s.from}`);
    bar.update(s.done, s.done < s.total ? `migration ${s.version}` : 'done');
    if (s.done === s.total) {
      bar.stop();
      process.stderr.write(`parley: upgraded ${file} from schema ${s.from} to ${s.version} (${s.total} migration${s.total === 1 ? '' : 's'})\n`);
    }
  };
}
