/**
 * Exit statuses and the command line's own error codes — a contract scripts
 * and auditors rely on (keep them stable; the README's table and
 * docs/errors.md "Command-line codes" say the same, and cli-errors.test.ts
 * keeps the three in step):
 *
 *   0   the command did what it said / the check passed
 *   1   the check ran and failed: a bad signature, an invalid proof, an accord
 *       not signed by every party, a bundle, backup or fork proof that does
 *       not verify, a log that is not intact or misses entries
 *   2   the command could not run as asked — fix the command or its setting:
 *       unknown option, missing or bad value, an unreadable file, no data
 *       directory, a locked data directory, a missing or wrong passphrase,
 *       not logged in, or the node refused the request (HTTP 4xx)
 *   3   the node is unavailable — the same command may work later: it cannot
 *       be reached, or it answered 5xx or 429 (busy, throttled, its log not
 *       yet confirmed by a peer)
 *   4   the data directory's store cannot be used: corrupt, not a database,
 *       busy beyond its timeout, a disk error, a newer schema
 *   70  an internal error: a bug in parley (EX_SOFTWARE), please report it
 *
 * An error's stable code (with `--json`: `error.code`) tells the cases of
 * one status apart: core's catalog codes (docs/errors.md), the node's
 * problem codes (HTTP API codes), and {@link CLI_ERRORS} below.
 */
import { ERROR_CATALOG, type ErrorCode } from '@parley/core/errors';

export const EXIT_OK = 0;
export const EXIT_INVALID = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNAVAILABLE = 3;
export const EXIT_STORE = 4;
export const EXIT_INTERNAL = 70;

/** Failures that exist only at the command line: code → exit status and title (RFC 9457 §3.1.3 style: the same for every occurrence). */
export const CLI_ERRORS = {
  RESOURCE_MISSING: { exit: EXIT_INVALID, title: 'A file of the audited log is missing or unreadable' },
  USAGE: { exit: EXIT_USAGE, title: 'The command line cannot be used as given' },
  FILE_UNREADABLE: { exit: EXIT_USAGE, title: 'An input file cannot be read or is not in its format' },
  FILE_UNWRITABLE: { exit: EXIT_USAGE, title: 'An output file or directory cannot be written' },
  FILE_EXISTS: { exit: EXIT_USAGE, title: 'The output file exists and --force was not given' },
  DSSE_PAYLOAD_MISMATCH: { exit: EXIT_USAGE, title: 'The DSSE envelopes to merge sign different statements' },
  DATA_DIR_MISSING: { exit: EXIT_USAGE, title: 'No Parley data directory at that path' },
  KEY_FILE_UNREADABLE: { exit: EXIT_USAGE, title: 'The data directory\u2019s key file cannot be read' },
  PASSPHRASE_MISSING: { exit: EXIT_USAGE, title: 'No passphrase or password given, and no terminal to ask on' },
  PASSPHRASE_WRONG: { exit: EXIT_USAGE, title: 'The passphrase does not open the key file' },
  NOT_LOGGED_IN: { exit: EXIT_USAGE, title: 'No session for that node' },
  CANCELLED: { exit: EXIT_USAGE, title: 'Cancelled at the prompt: nothing was done' },
  STORE_NOT_SQLITE: { exit: EXIT_USAGE, title: 'The command works on a SQLite store file; this data directory\u2019s store is PostgreSQL' },
  MIGRATE_TARGET_NOT_EMPTY: { exit: EXIT_USAGE, title: 'The migration target already holds a party\u2019s data' },
  MIGRATE_VERIFY_FAILED: { exit: EXIT_INVALID, title: 'The migrated copy does not hold exactly what the source holds' },
  NODE_UNREACHABLE: { exit: EXIT_UNAVAILABLE, title: 'The node cannot be reached' },
  INTERNAL_ERROR: { exit: EXIT_INTERNAL, title: 'Internal error in parley' },
} as const satisfies Record<string, { exit: number; title: string }>;

export type CliErrorCode = keyof typeof CLI_ERRORS;

/** Thrown for arguments or settings the command cannot use; its code picks the exit status (2 unless {@link CLI_ERRORS} says otherwise). */
export class UsageError extends Error {
  override name = 'UsageError';
  /** A {@link CLI_ERRORS} code, a core catalog code (DATA_DIR_LOCKED …), or — for NodeRefused — the node's problem code. */
  readonly code: string;
  constructor(message: string, code: CliErrorCode | ErrorCode | (string & {}) = 'USAGE') {
    super(message);
    this.code = code;
  }
}

/**
 * An HTTP failure of the node (client.ts): its RFC 9457 problem (code,
 * title, detail, HTTP status) and what to do about it. Exit 2 for a 4xx,
 * 3 for 5xx and 429.
 */
export class NodeRefused extends UsageError {
  override name = 'NodeRefused';
  constructor(
    readonly status: number,
    code: string,
    message: string,
    readonly problem: { readonly title?: string; readonly detail?: string; readonly type?: string; readonly issues?: unknown; readonly limit?: number } = {},
    readonly hint?: string,
  ) {
    super(message, code);
  }
  /** The answer's Retry-After, in ms, when it had one. */
  retryAfterMs?: number;
}

/**
 * The exit status for a failure, as the table above says.
 * @param f where the code comes from: `node` (the node answered with an
 *   HTTP `status`), `usage` (a {@link UsageError} of this command line), or
 *   `core` (a ParleyError thrown by core or the store: its catalog kind decides).
 */
export function exitStatusOf(f: { readonly from: 'node'; readonly status: number } | { readonly from: 'usage' | 'core'; readonly code: string }): number {
  if (f.from === 'node') return f.status === 429 || f.status >= 500 ? EXIT_UNAVAILABLE : EXIT_USAGE;
  if (f.code in CLI_ERRORS) return CLI_ERRORS[f.code as CliErrorCode].exit;
  // Store-kind codes that a setting fixes (another process holds the directory; --mirror-dir names another log's mirror,
  // or a directory another publisher holds).
  if (f.code === 'DATA_DIR_LOCKED' || f.code === 'MIRROR_CONFLICT' || f.code === 'MIRROR_LOCKED') return EXIT_USAGE;
  const kind = (ERROR_CATALOG as Record<string, { kind: string } | undefined>)[f.code]?.kind;
  if (kind === 'store') return EXIT_STORE;
  if (f.from === 'usage') return EXIT_USAGE;
  return kind === 'parse' || kind === 'verification' ? EXIT_INVALID : EXIT_USAGE;
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
