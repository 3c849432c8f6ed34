/**
 * Every top-level `parley` command: its name, its line in `parley --help`, and
 * how to load it.
 *
 * main.ts loads only the module of the command the command line names, so
 * `parley --help`, `parley inbox` or `parley log verify-inclusion` start
 * without the node (fastify, zod: ~0.3 s), the store (better-sqlite3) or the
 * prompts; `parley --help` lists the commands from this table alone.
 * test/manifest.test.ts loads every module and fails when a line here
 * disagrees with what the module registers (name, term, summary), or when a
 * module registers a top-level command that has no line here.
 */
import type { Command } from 'commander';

/** Registers a command (and any sibling its module defines with it) on the program. */
export type Register = (program: Command) => void;

export interface CommandEntry {
  /** The command's name, as typed. */
  readonly name: string;
  /** Its term in `parley --help`: the name, "[options]" when it has options, its arguments (commander's Help.subcommandTerm). */
  readonly term: string;
  /** Its description, exactly as its module registers it. */
  readonly summary: string;
  /** Imports the command's module and returns its register function. */
  readonly load: () => Promise<Register>;
}

/** In the order `parley --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'keygen', term: 'keygen [options]', summary: 'generate an Ed25519 signing key and print it with its verifier key (C2SP signed-note key format)', load: async () => (await import('./commands/keygen.js')).registerKeygen },
  { name: 'log', term: 'log', summary: 'audit a log, or check its checkpoints and proofs offline', load: async () => (await import('./commands/log.js')).registerLog },
  { name: 'demo', term: 'demo [options]', summary: "run a hotline on this machine: three parties' nodes, federation, an incident, FLASH and overdue messages, a fourth party joining by amendment, a key rotation, an evaluation committed before deployment and revealed to one party, a forked log caught, every log audited", load: async () => (await import('./commands/demo.js')).registerDemo },
  { name: 'init', term: 'init [options]', summary: "create a party's data directory: log signing key, HPKE key pair (encrypted at rest), configuration, first admin", load: async () => (await import('./commands/init.js')).registerInit },
  { name: 'accord', term: 'accord', summary: 'found a channel and govern it: draft, sign, verify and install the accord; propose, approve and follow amendments; walk its chain of versions', load: async () => (await import('./commands/accord.js')).registerAccord },
  { name: 'key', term: 'key', summary: "change a party's log key by amendment: planned rotation, or recovery after a compromise", load: async () => (await import('./commands/key.js')).registerKey },
  { name: 'officer', term: 'officer', summary: "manage the node's officers (add: written to the store directly, with the node stopped; list works while it runs)", load: async () => (await import('./commands/officer.js')).registerOfficer },
  { name: 'login', term: 'login [options]', summary: 'log in to a node as an officer; the token is saved in DIR/session.json for the other commands', load: async () => (await import('./commands/login.js')).registerLogin },
  { name: 'logout', term: 'logout [options]', summary: 'end the session on the node and delete DIR/session.json', load: async () => (await import('./commands/login.js')).registerLogout },
  { name: 'passwd', term: 'passwd [options]', summary: 'change your own password on the node (your other sessions end)', load: async () => (await import('./commands/officer.js')).registerPasswd },
  { name: 'send', term: 'send [options] <text>', summary: 'send a hotline message: signed, logged, sealed to the recipients unless TLP:CLEAR', load: async () => (await import('./commands/send.js')).registerSend },
  { name: 'report', term: 'report [options]', summary: 'send an incident report (taxonomy category, severity, system, actor, harm, mitigations): the node is checked first, missing fields are asked for at a terminal, and a summary is confirmed before sending', load: async () => (await import('./commands/report.js')).registerReport },
  { name: 'eval', term: 'eval', summary: 'evaluation commitments: commit to a pre-release evaluation before deployment, announce the deployment, reveal chosen claims to chosen parties, verify it offline, export it as in-toto/DSSE', load: async () => (await import('./commands/eval.js')).registerEval },
  // inbox.ts registers inbox, show and ack together.
  { name: 'inbox', term: 'inbox [options]', summary: 'entries other parties sent us, most urgent first (awaiting acknowledgement: overdue, then FLASH → ROUTINE, then by deadline; then the rest newest first), the limit applied after that order: precedence, sender, index, type, time, receipt/ack state, first line', load: async () => (await import('./commands/inbox.js')).registerInboxCommands },
  { name: 'show', term: 'show [options] <party> <index>', summary: 'one entry in full, with its body opened for officers (sealed bodies stay closed for auditors)', load: async () => (await import('./commands/inbox.js')).registerInboxCommands },
  { name: 'ack', term: 'ack [options] <party> <index>', summary: "acknowledge a received entry as the duty officer (a signed 'ack' entry in our log)", load: async () => (await import('./commands/inbox.js')).registerInboxCommands },
  { name: 'outbox', term: 'outbox [options]', summary: 'entries we sent, newest first, and how each recipient answered: receipt and acknowledgement (times, on time, late or OVERDUE) and the reply', load: async () => (await import('./commands/outbox.js')).registerOutbox },
  { name: 'watch', term: 'watch [options]', summary: 'follow the node live: arrivals (FLASH rings the bell), deadlines going overdue, receipts, acknowledgements, link changes and forks, one line each; reconnects by itself; Ctrl-C stops', load: async () => (await import('./commands/watch.js')).registerWatch },
  { name: 'status', term: 'status [options]', summary: "the node at a glance, for a person or for monitoring: log and checkpoint, witnesses' cosignatures, links, forks, continuity, deliveries awaiting an answer — exit 1 when something needs attention", load: async () => (await import('./commands/status.js')).registerStatus },
  { name: 'serve', term: 'serve [options]', summary: "run the party's node: the officers' API under /v1, the public log under /log and the dashboard at /", load: async () => (await import('./commands/serve.js')).registerServe },
  { name: 'verify-fork', term: 'verify-fork [options] <file>', summary: 'verify a fork proof offline: two checkpoints signed by one party that cannot both be honest', load: async () => (await import('./commands/verify-fork.js')).registerVerifyFork },
  { name: 'export', term: 'export [options]', summary: "write the party's own log entries as JSON lines {index, leafHash, entry}, read from the data directory", load: async () => (await import('./commands/export.js')).registerExport },
  { name: 'bundle', term: 'bundle', summary: 'offline bundles: carry signed entries, their checkpoint and inclusion proofs to another party across an air gap', load: async () => (await import('./commands/bundle.js')).registerBundle },
  // backup.ts registers backup and restore together.
  { name: 'backup', term: 'backup [options]', summary: "copy the node's store to a file, online and consistent, and verify the copy", load: async () => (await import('./commands/backup.js')).registerBackup },
  { name: 'restore', term: 'restore [options] <file>', summary: "replace the node's store by a backup (the node must be stopped)", load: async () => (await import('./commands/backup.js')).registerBackup },
  { name: 'migrate', term: 'migrate [options]', summary: "copy a party's store to PostgreSQL (or to a new SQLite data directory) and verify the copy: every entry, every checkpoint, the tree, every row of the rest", load: async () => (await import('./commands/migrate.js')).registerMigrate },
  { name: 'recover', term: 'recover [options]', summary: "check this node's log against what its peers cosigned, and recover missing entries from their mirrors (node stopped)", load: async () => (await import('./commands/recover.js')).registerRecover },
];

/** The commands this build has. */
export function availableCommands(): CommandEntry[] {
  return [...COMMANDS];
}

/**
 * The command `args` (argv after node and script) name: the first argument,
 * or the one after `help` (`parley help inbox`). The program itself takes
 * only flags without values, which commander handles before any command
 * (`parley -h inbox` is the program's help), so a flag first names none.
 */
export function commandOf(args: readonly string[]): string | undefined {
  const [first, second] = args;
  const name = first === 'help' ? second : first;
  return name === undefined || name.startsWith('-') ? undefined : name;
}
