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
  const args = argv.slice(2);
  let program = new Command('parley');
  try {
    program = await buildProgram(args);
    groupsTakeJson(program);
    if (wantsJson(args)) {
      const answered = answerJsonHelp(program, args);
      if (answered !== undefined) return answered;
    }
    await program.parseAsync(argv as string[]);
    return takeExitCode();
  } catch (e) {
    takeExitCode();
    return failed(e, program, args); // output.ts: JSON on stdout with --json, the exit status of exit.ts
  }
}
