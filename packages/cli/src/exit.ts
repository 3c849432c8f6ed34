/**
 * Exit codes — a contract auditors script against (keep them stable):
 *
 *   0  the check passed / the command did what it said
 *   1  the check ran and failed: a bad signature, an invalid proof, a
 *      malformed or untrusted checkpoint
 *   2  the command could not run as asked: unknown option, missing or
 *      unreadable argument, a value that is not a hash or a number
 */
export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;

/** Thrown for arguments the command cannot use; becomes exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

let lastExitCode = EXIT_OK;

/**
 * Wraps a command action that returns its exit code, so {@link run} can
 * return it (commander ignores action return values).
 */
export function act<A extends unknown[]>(fn: (...args: A) => number | Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    lastExitCode = await fn(...args);
  };
}

/** Resets and reads the exit code set by the last {@link act} action. */
export function takeExitCode(): number {
  const c = lastExitCode;
  lastExitCode = EXIT_OK;
  return c;
}
