/**
 * How long a long-running command (`parley serve`, `parley demo`) lives.
 *
 * It stops cleanly ({@link untilStopped}) on SIGINT (Ctrl-C), SIGTERM, and
 * SIGHUP when it has a terminal (its window was closed). Besides:
 *
 * - **Started by npm** (`npx parley serve`, `npm run …`; npm sets
 *   `npm_command`): npm runs the command as npm → `sh -c` → node, forwards
 *   SIGINT and SIGTERM to the shell only and nothing at all on SIGHUP or
 *   SIGKILL, so killing npx left the node running, orphaned, with the data
 *   directory's lock. {@link superviseLifetime} watches the process that
 *   started us — and npm above it when that is the shell npm ran — and when
 *   one is gone sends this process SIGTERM, as if npm had forwarded it: a
 *   clean stop once the command waits in {@link untilStopped}, the default
 *   (immediate) end before that, exactly as a direct SIGTERM.
 * - **Started any other way** the parent is never watched: `nohup parley
 *   serve &` outlives the shell it was started from. Without a terminal
 *   (nohup, a service manager, output to files) SIGHUP is ignored: that is
 *   what nohup asks for, and Node resets nohup's "ignore" to the default
 *   (terminate) when it starts, so it is restored here.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { isatty } from 'node:tty';

/** How often the starter is checked (a few syscalls; Linux reads /proc, no process is spawned). */
const POLL_MS = 500;

/** Shells npm may run a command through (`script-shell`; `sh` by default, `cmd` on Windows). */
const SHELLS = new Set(['sh', 'bash', 'dash', 'zsh', 'ksh', 'mksh', 'ash', 'busybox', 'cmd.exe', 'cmd']);

/** Parent pid and command name of `pid`, from /proc (Linux) or ps(1); undefined when neither answers. */
function processInfo(pid: number, o: { ps: boolean }): { ppid: number; name: string } | undefined {
  try {
    // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses, so split at the last ')'.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const close = stat.lastIndexOf(')');
    return { ppid: Number(stat.slice(close + 2).split(' ')[1]), name: stat.slice(stat.indexOf('(') + 1, close) };
  } catch {
    // not Linux, or the process is gone
  }
  if (!o.ps) return undefined;
  try {
    const out = execFileSync('ps', ['-o', 'ppid=,comm=', '-p', String(pid)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim();
    const m = /^(\d+)\s+(.+)$/.exec(out);
    return m ? { ppid: Number(m[1]), name: basename(m[2]!) } : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `pid` exists (signal 0 only asks; EPERM: it exists, as another user's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Starter {
  /** Our parent when the command was loaded. */
  readonly parent: number;
  /** npm, when our parent is the shell npm ran the command through. */
  readonly npm?: number;
}

/**
 * Who started us, when it was npm — read when this module loads, which is as
 * soon as the command is chosen, before its slow start (keys, store, port).
 */
const starter: Starter | undefined = (() => {
  if (process.env['npm_command'] === undefined) return undefined;
  const parent = process.ppid;
  const p = processInfo(parent, { ps: true });
  return p !== undefined && SHELLS.has(p.name) ? { parent, npm: p.ppid } : { parent };
})();

/** True once the process that started us (or npm above its shell) has ended. */
function starterGone(s: Starter): boolean {
  // Our parent ended: the system handed us to init or a subreaper (POSIX), or it no longer exists (Windows).
  if (process.ppid !== s.parent || !alive(s.parent)) return true;
  if (s.npm === undefined) return false;
  // npm ended (SIGHUP, SIGKILL) while its shell still waits for us: the shell was handed on.
  // The shell's parent is read rather than npm probed, so an npm nobody has reaped yet counts as gone.
  const shell = processInfo(s.parent, { ps: false });
  return shell !== undefined ? shell.ppid !== s.npm : !alive(s.npm);
}

let supervised = false;
/** Set once a stop was asked for: the command is stopping and must be let finish. */
let stopping = false;

/**
 * Call first thing in a long-running command: with no terminal SIGHUP is
 * ignored from now on, and when npm started us, npm's end becomes a SIGTERM to
 * this process (see the module comment). Idempotent.
 */
export function superviseLifetime(): void {
  if (supervised) return;
  supervised = true;
  if (!hasTerminal()) process.on('SIGHUP', () => {});
  const s = starter;
  if (s === undefined) return;
  const timer = setInterval(() => {
    // Once stopping (a Ctrl-C reaches npm, its shell and us alike, and they end first), a SIGTERM would cut the clean stop short.
    if (stopping) return clearInterval(timer);
    if (!starterGone(s)) return;
    clearInterval(timer);
    process.kill(process.pid, 'SIGTERM');
  }, POLL_MS);
  timer.unref();
}

/** Whether a person's terminal is attached (standard input, output or error). */
function hasTerminal(): boolean {
  // isatty, not process.stdin.isTTY: reading that property opens standard input.
  return isatty(0) || isatty(1) || isatty(2);
}

/**
 * Resolves with the signal that asks the command to stop: SIGINT, SIGTERM (also
 * sent when npm, having started us, is gone), or SIGHUP with a terminal. A
 * second signal after that ends the process at once (the default action).
 */
export function untilStopped(): Promise<NodeJS.Signals> {
  const signals: NodeJS.Signals[] = hasTerminal() ? ['SIGINT', 'SIGTERM', 'SIGHUP'] : ['SIGINT', 'SIGTERM'];
  return new Promise((done) => {
    const stop = (signal: NodeJS.Signals) => {
      stopping = true;
      for (const s of signals) process.removeListener(s, stop);
      done(signal);
    };
    for (const s of signals) process.on(s, stop);
  });
}
