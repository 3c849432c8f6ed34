/**
 * `parley`: the command-line tool. {@link run} parses argv, runs one command
 * and returns its exit code (see exit.ts) instead of exiting, so tests can
 * call it in-process and the bin script stays one line.
 */
import { Command } from 'commander';
import { takeExitCode } from './exit.js';
import { answerJsonHelp, failed, groupsTakeJson, wantsJson } from './output.js';
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
  registerServe(program);
  registerVerifyFork(program);
  registerExport(program);
  registerBundle(program);
  registerBackup(program);
  registerRecover(program);
  program.addHelpText('after', '\nExit status: 0 ok/valid, 1 check failed, 2 unusable arguments or refused, 3 node unavailable, 4 store unusable, 70 internal error.\nWith --json every command prints one JSON object on stdout, errors included: {"ok":false,"code","error":{…}}.\n');
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
  const args = argv.slice(2);
  groupsTakeJson(program);
  try {
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
