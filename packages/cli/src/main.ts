/**
 * `parley`: the command-line tool. {@link run} parses argv, runs one command
 * and returns its exit code (see exit.ts) instead of exiting, so tests can
 * call it in-process and the bin script stays one line.
 */
import { Command, CommanderError } from 'commander';
import { ParleyError } from '@parley/core/node';
import { EXIT_INVALID, EXIT_OK, EXIT_USAGE, UsageError, takeExitCode } from './exit.js';
import { registerKeygen } from './commands/keygen.js';
import { registerLog } from './commands/log.js';
import { registerDemo } from './commands/demo.js';
import { registerInit } from './commands/init.js';
import { registerAccord } from './commands/accord.js';
import { registerOfficer, registerPasswd } from './commands/officer.js';
import { registerLogin, registerLogout } from './commands/login.js';
import { registerSend } from './commands/send.js';
import { registerReport } from './commands/report.js';
import { registerInboxCommands } from './commands/inbox.js';
import { registerOutbox } from './commands/outbox.js';
import { registerStatus } from './commands/status.js';
import { registerWatch } from './commands/watch.js';
import { registerExport } from './commands/export.js';
import { registerBundle } from './commands/bundle.js';
import { registerServe } from './commands/serve.js';
import { registerVerifyFork } from './commands/verify-fork.js';
import { registerBackup } from './commands/backup.js';
import { registerRecover } from './commands/recover.js';

export const VERSION = '0.1.0';

/** Builds the command tree; each action returns its exit code. */
export function buildProgram(): Command {
  const program = new Command('parley')
    .description('Parley: a verifiable hotline and AI-incident exchange — found a channel, run a node, send and acknowledge, audit logs and proofs')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  registerKeygen(program);
  registerLog(program);
  registerDemo(program);
  registerInit(program);
  registerAccord(program);
  registerOfficer(program);
  registerLogin(program);
  registerLogout(program);
  registerPasswd(program);
  registerSend(program);
  registerReport(program);
  registerInboxCommands(program);
  registerOutbox(program);
  registerStatus(program);
  registerWatch(program);
  registerServe(program);
  registerVerifyFork(program);
  registerExport(program);
  registerBundle(program);
  registerBackup(program);
  registerRecover(program);
  program.addHelpText('after', '\nExit status: 0 ok/valid, 1 check failed, 2 unusable arguments.\n');
  // Every subcommand: usage errors throw instead of exiting.
  const all = (c: Command): Command[] => [c, ...c.commands.flatMap(all)];
  for (const c of all(program)) c.exitOverride().showHelpAfterError('(run with --help for usage)');
  return program;
}

/**
 * Runs the CLI on `argv` (as in process.argv: node, script, args…).
 * @returns the exit code.
 */
export async function run(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  takeExitCode();
  try {
    await program.parseAsync(argv as string[]);
    return takeExitCode();
  } catch (e) {
    takeExitCode();
    if (e instanceof CommanderError) {
      // --help and --version "fail" with exit code 0; everything else is usage.
      return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      process.stderr.write(`parley: ${e.message}\n`);
      return EXIT_USAGE;
    }
    if (e instanceof ParleyError) {
      process.stderr.write(`parley: ${e.message} (${e.code})\n`);
      return EXIT_INVALID;
    }
    process.stderr.write(`parley: internal error: ${(e as Error).stack ?? String(e)}\n`);
    return 70; // EX_SOFTWARE: our bug, not the user's
  }
}
