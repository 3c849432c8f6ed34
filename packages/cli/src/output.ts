/**
 * What a failed command prints: with `--json`, one JSON object on standard
 * output, whatever failed — a usage error, an unreachable node, a refusal,
 * a store that cannot be opened, a check that did not pass — and a line on
 * standard error otherwise. The exit status is exit.ts's.
 *
 *     {"ok": false, "code": "LOG_ROLLED_BACK",
 *      "error": {"code": "LOG_ROLLED_BACK", "type": "urn:parley:error:log-rolled-back",
 *                "title": "This node’s log is behind what its peers cosigned",
 *                "detail": "…", "status": 409, "hint": "…"}}
 *
 * `error` is the RFC 9457 problem the node answered (type, title, status,
 * detail, code; `issues` and `limit` when it had them) or the same members
 * for a failure on this side (no `status`: nothing answered over HTTP);
 * `hint` says what to do when parley knows. `code` is repeated at the top
 * level, next to whatever else the command reports (a check that failed
 * keeps its `valid: false` and its `checks`). Success prints the command's
 * own object, without `ok` (like the Stripe CLI: the resource, or an
 * `error`), so `parley init --json` stays a party file.
 *
 * `--help --json` prints the command's description as JSON (name, usage,
 * arguments, options, subcommands): every command and group takes both.
 */
import { CommanderError, type Command } from 'commander';
import { ERROR_CATALOG, ParleyError } from '@parley/core/errors';
import { CLI_ERRORS, EXIT_INTERNAL, EXIT_OK, EXIT_USAGE, NodeRefused, UsageError, exitStatusOf } from './exit.js';

/** The problem members of a failure (`error` in the JSON). */
export interface ErrorBody {
  readonly code: string;
  readonly type: string;
  readonly title: string;
  readonly detail: string;
  /** The HTTP status the node answered with (absent for failures on this side). */
  readonly status?: number;
  readonly hint?: string;
  readonly issues?: unknown;
  readonly limit?: number;
}

/** A failure classified: its exit status, its problem, and the line a person reads. */
export interface Failure {
  readonly exit: number;
  readonly error: ErrorBody;
  readonly human: string;
}

/** RFC 9457 §3.1.1 `type`, the node's scheme (urn:parley:error:<code in lowercase with dashes>). */
export const problemTypeOf = (code: string): string => `urn:parley:error:${code.toLowerCase().replaceAll('_', '-')}`;

/** The title of a code from whichever table has it. */
export function titleOf(code: string): string {
  return (
    (CLI_ERRORS as Record<string, { title: string } | undefined>)[code]?.title ??
    (ERROR_CATALOG as Record<string, { title: string } | undefined>)[code]?.title ??
    code
  );
}

function body(code: string, detail: string, extra: Partial<ErrorBody> = {}): ErrorBody {
  return { code, type: problemTypeOf(code), title: titleOf(code), detail, ...extra };
}

/** Commander's message without its "error: " prefix. */
const commanderDetail = (e: CommanderError) => e.message.replace(/^error:\s*/, '');

/**
 * Classifies anything a command threw.
 * @param group the command whose subcommand was missing (commander's help-as-error), if any.
 */
export function describeFailure(e: unknown, group?: Command): Failure {
  if (e instanceof NodeRefused) {
    const p = e.problem;
    const error = body(e.code, p.detail ?? e.message, {
      ...(p.type !== undefined ? { type: p.type } : {}),
      ...(p.title !== undefined ? { title: p.title } : {}),
      status: e.status,
      ...(e.hint !== undefined ? { hint: e.hint } : {}),
      ...(p.issues !== undefined ? { issues: p.issues } : {}),
      ...(p.limit !== undefined ? { limit: p.limit } : {}),
    });
    return { exit: exitStatusOf({ from: 'node', status: e.status }), error, human: e.message };
  }
  if (e instanceof UsageError) return { exit: exitStatusOf({ from: 'usage', code: e.code }), error: body(e.code, e.message), human: e.message };
  if (e instanceof ParleyError) return { exit: exitStatusOf({ from: 'core', code: e.code }), error: body(e.code, e.message), human: `${e.message} (${e.code})` };
  if (e instanceof CommanderError) {
    if (group !== undefined) {
      const names = group.commands.map((c) => c.name());
      const detail = `${path(group)} needs a subcommand: ${names.join(', ')} (see ${path(group)} --help)`;
      return { exit: EXIT_USAGE, error: body('USAGE', detail), human: detail };
    }
    return { exit: EXIT_USAGE, error: body('USAGE', commanderDetail(e)), human: commanderDetail(e) };
  }
  const err = e as Error;
  return { exit: EXIT_INTERNAL, error: body('INTERNAL_ERROR', `internal error: ${err?.message ?? String(e)}`), human: `internal error: ${err?.stack ?? String(e)}` };
}

/** True when the command line asks for JSON (`--json` before any `--`). */
export function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).includes('--json');
}

/** Writes a failure: JSON on stdout (with `extra` members of the command), or `parley: …` on stderr. */
export function printFailure(f: Failure, json: boolean, extra: Record<string, unknown> = {}): void {
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, ...extra, code: f.error.code, error: f.error })}\n`);
  else process.stderr.write(`parley: ${f.human}\n`);
}

/**
 * The JSON of a failure a command reports itself (a check that failed): its
 * own members, plus `ok: false`, `code` and `error`. A string `error` or
 * `message` member becomes `error.detail`.
 */
export function failureJson(data: Record<string, unknown> & { code: string }, human: string): Record<string, unknown> {
  const { error, message, ...rest } = data;
  const detail = typeof error === 'string' ? error : typeof message === 'string' ? message : human;
  return { ok: false, ...rest, code: data.code, error: body(data.code, detail) };
}

/** `parley accord init` for the command `init` under `accord`. */
function path(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x; x = x.parent) names.unshift(x.name());
  return names.join(' ');
}

/** The command `args` name (subcommands matched by name or alias; options skipped). */
export function commandOf(program: Command, args: readonly string[]): Command {
  let c = program;
  for (const a of args) {
    if (a === '--') break;
    if (a.startsWith('-')) continue;
    const sub = c.commands.find((s) => s.name() === a || s.aliases().includes(a));
    if (!sub) break;
    c = sub;
  }
  return c;
}

/** A command described as data: what `--help --json` prints. */
export function describeCommand(c: Command) {
  const help = c.createHelp();
  return {
    command: path(c),
    description: c.description(),
    usage: `${path(c)} ${c.usage()}`.trim(),
    arguments: c.registeredArguments.map((a) => ({ name: a.name(), required: a.required, variadic: a.variadic, description: a.description, ...(a.defaultValue !== undefined ? { default: a.defaultValue as unknown } : {}) })),
    options: help.visibleOptions(c).map((o) => ({
      flags: o.flags,
      name: o.attributeName(),
      description: o.description,
      required: o.mandatory || o.required,
      ...(o.defaultValue !== undefined ? { default: o.defaultValue as unknown } : {}),
      ...(o.argChoices ? { choices: o.argChoices } : {}),
    })).concat(c.commands.length > 0 ? [{ flags: '--json', name: 'json', description: GROUP_JSON, required: false }] : []),
    subcommands: help.visibleCommands(c).filter((s) => s.name() !== 'help').map((s) => ({ name: s.name(), command: path(s), description: s.description() })),
  };
}

const GROUP_JSON = 'print JSON: without a subcommand, a usage error that lists them';

/**
 * Says in every group's help (`parley`, `parley accord`, …) that it takes
 * `--json` as its subcommands do. Not a commander option: a parent's option
 * would take `--json` away from the subcommand it is meant for. A group run
 * without a subcommand is a usage error (exit 2), as JSON that lists the
 * subcommands when asked ({@link failed}).
 */
export function groupsTakeJson(program: Command): void {
  const walk = (c: Command) => {
    if (c.commands.length === 0) return;
    if (isGroup(c)) c.addHelpText('after', `\nWith --json: ${GROUP_JSON}; --help --json: this help as JSON.`);
    c.commands.forEach(walk);
  };
  walk(program);
}

/**
 * A group: subcommands and no action of its own. A command that does its own
 * work and also has subcommands (`parley export`, with `export aiid`) is
 * a command with --json of its own, not a group.
 */
export const isGroup = (c: Command): boolean => c.commands.length > 0 && (c as unknown as { _actionHandler?: unknown })._actionHandler == null;

/** True for commander's refusal of `--json` on a group (it has no such option, see {@link groupsTakeJson}). */
const jsonOnGroup = (e: CommanderError, c: Command) => e.code === 'commander.unknownOption' && isGroup(c) && /'--json'/.test(e.message);

/**
 * `--help` or `--version` with `--json`: the description or the version as
 * JSON, before commander prints its text.
 * @returns the exit status, or undefined when `args` asks for neither.
 */
export function answerJsonHelp(program: Command, args: readonly string[]): number | undefined {
  const end = args.indexOf('--');
  const opts = end < 0 ? args : args.slice(0, end);
  if (opts.includes('--help') || opts.includes('-h')) {
    process.stdout.write(`${JSON.stringify(describeCommand(commandOf(program, args)))}\n`);
    return EXIT_OK;
  }
  if (commandOf(program, args) === program && (opts.includes('--version') || opts.includes('-V'))) {
    process.stdout.write(`${JSON.stringify({ version: program.version() })}\n`);
    return EXIT_OK;
  }
  return undefined;
}

/**
 * run()'s error path: prints what failed (JSON with `--json`) and returns the exit status.
 * @param args the command line after `node parley`.
 */
export function failed(e: unknown, program: Command, args: readonly string[]): number {
  if (e instanceof CommanderError && e.exitCode === 0) return EXIT_OK; // --help, --version
  const json = wantsJson(args);
  // Without --json commander has already printed its own message on stderr (with --json run() silences it: the JSON says it).
  const target = commandOf(program, args);
  const group = e instanceof CommanderError && (e.code === 'commander.help' || jsonOnGroup(e, target)) ? target : undefined;
  const f = describeFailure(e, group);
  if (e instanceof CommanderError) {
    if (json) printFailure(f, true, group ? { subcommands: group.commands.map((s) => s.name()) } : {});
  } else {
    printFailure(f, json);
  }
  return f.exit;
}
