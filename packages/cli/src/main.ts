/**
 * `parley`: the command-line tool. {@link run} parses argv, runs one command
 * and returns its exit code (see exit.ts) instead of exiting, so tests can
 * call it in-process and the bin script stays one line.
 *
 * Start-up: only the module of the command argv names is loaded (the table
 * is manifest.ts); without one (`parley --help`, a typo) every command is a
 * stand-in with its name and summary, which is all the program's help and
 * commander's "did you mean" need.
 */
import { Command, Help } from 'commander';
import { takeExitCode } from './exit.js';
import { answerJsonHelp, failed, groupsTakeJson, wantsJson } from './output.js';
import { type CommandEntry, availableCommands, commandOf } from './manifest.js';

export const VERSION = '0.1.0';

/**
 * Builds the command tree; each action returns its exit code.
 * @param args argv after node and script: the command they name is loaded
 *   in full and nothing else; `'all'` loads every command (for tests).
 */
export async function buildProgram(args: readonly string[] | 'all'): Promise<Command> {
  const program = new Command('parley')
    .description('Parley: a verifiable hotline and AI-incident exchange — found a channel, run a node, send and acknowledge, audit logs and proofs')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  const commands = availableCommands();
  const name = args === 'all' ? undefined : commandOf(args);
  const named = commands.find((e) => e.name === name);
  if (args === 'all') {
    for (const e of commands) if (!program.commands.some((c) => c.name() === e.name)) (await e.load())(program);
  } else if (named !== undefined) {
    (await named.load())(program);
  } else {
    addStandIns(program, commands);
  }
  program.addHelpText('after', '\nExit status: 0 ok/valid, 1 check failed, 2 unusable arguments or refused, 3 node unavailable, 4 store unusable, 70 internal error.\nWith --json every command prints one JSON object on stdout, errors included: {"ok":false,"code","error":{…}}.\n');
  // Every subcommand: usage errors throw instead of exiting.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

/** Every command as a stand-in: listed by `parley --help` as the loaded command would be, never run. */
function addStandIns(program: Command, commands: readonly CommandEntry[]): void {
  const terms = new Map<Command, string>();
  program.configureHelp({
    subcommandTerm(this: Help, c: Command): string {
      return terms.get(c) ?? Help.prototype.subcommandTerm.call(this, c);
    },
  });
  for (const e of commands) {
    const c = program.command(e.name).description(e.summary).action(() => {
      throw new Error(`internal: command ${e.name} ran without being loaded`);
    });
    terms.set(c, e.term);
  }
}

/**
 * Runs the CLI on `argv` (as in process.argv: node, script, args…).
 * @returns the exit code.
 */
export async function run(argv: readonly string[]): Promise<number> {
  takeExitCode();
  const args = jsonArgs(argv.slice(2));
  let program = new Command('parley');
  try {
    program = await buildProgram(args);
    groupsTakeJson(program);
    if (wantsJson(args)) {
      // The JSON on stdout says what failed: commander's own text on stderr would only repeat it (or, for a group's --json, contradict it).
      const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
      for (const c of all(program)) c.configureOutput({ writeErr: () => undefined, outputError: () => undefined });
      const answered = answerJsonHelp(program, args);
      if (answered !== undefined) return answered;
    }
    await program.parseAsync([...argv.slice(0, 2), ...args]);
    return takeExitCode();
  } catch (e) {
    takeExitCode();
    return failed(e, program, args); // output.ts: JSON on stdout with --json, the exit status of exit.ts
  }
}

/**
 * The command line with `--json` where commander takes it. Every command
 * takes `--json`, so it is also understood where a user may write it:
 * before the command (`parley --json status`: moved to the end, before any
 * `--`) and with the help command (`parley help inbox --json` is `parley
 * inbox --help --json`). Without `--json` the arguments are unchanged.
 */
export function jsonArgs(args: readonly string[]): string[] {
  if (!wantsJson(args)) return [...args];
  let a = [...args];
  let lead = 0;
  while (a[lead] === '--json') lead++;
  if (lead > 0 && lead < a.length && !a[lead]!.startsWith('-')) {
    a = a.slice(lead);
    const end = a.indexOf('--');
    if (end < 0) a.push('--json');
    else a.splice(end, 0, '--json');
  }
  if (a[0] === 'help') {
    a = a.slice(1);
    const end = a.indexOf('--');
    a.splice(end < 0 ? a.length : end, 0, '--help');
  }
  return a;
}
