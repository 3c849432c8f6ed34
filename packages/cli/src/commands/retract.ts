/**
 * `parley retract`: withdraw an entry of our own log, or supersede it with a
 * later one (issue 13). The node writes a signed `retraction` entry to the
 * withdrawn entry's recipients; every recipient's node then lists the entry
 * as RETRACTED (or "superseded by …") and no acknowledgement of it is due.
 * The entry itself stays in the log: it is evidence.
 *
 *     parley retract 7 --reason "sent to the wrong channel"
 *     parley retract 7 --with 9 --reason "severity corrected"      (supersede)
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { MARKINGS } from '@parley/core/node';
import type { RetractionRequest } from '@parley/node/api';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { parseIndexArg } from '../hashes.js';
import { type ClientOpts, client, clientOptions } from '../client.js';
import { type SubmittedView, submittedLines } from './send.js';

export function registerRetract(program: Command): void {
  clientOptions(
    program
      .command('retract')
      .description("withdraw an entry of our own log (or, with --with, supersede it by a later one): every recipient's node marks it retracted and stops expecting its acknowledgement")
      .argument('<index>', 'the index of the entry in our own log (parley outbox)')
      .requiredOption('--reason <text>', 'why it is withdrawn: every recipient sees it')
      .option('--with <index>', 'supersede: the later entry of our log that replaces it (same type; for a report, the same incident)')
      .addOption(new Option('--marking <tlp>', "default: the withdrawn entry's; a given one must be at least as restrictive").choices(MARKINGS))
      .option('--lang <tag>', 'language of the reason, e.g. en or zh-CN'),
  )
    .addHelpText(
      'after',
      '\nExamples:\n  $ parley retract 7 --reason "Sent to the wrong channel"\n  $ parley retract 7 --with 9 --reason "Severity corrected from 5 to 3"\n\nThe entry stays in the log (append-only); retract it only once. Exit 2 with the\nnode\'s code when it refuses (RETRACTION_ALREADY, RETRACTION_NOT_RETRACTABLE, …).',
    )
    .action(
      act(async (index: string, o: ClientOpts & { reason: string; with?: string; marking?: string; lang?: string }) => {
        const entry = parseIndexArg(index, 'INDEX');
        const replacement = o.with !== undefined ? parseIndexArg(o.with, '--with') : undefined;
        if (o.reason.trim() === '') throw new UsageError('--reason is empty: say why the entry is withdrawn');
        if (replacement !== undefined && replacement <= entry) throw new UsageError(`--with ${replacement} must be a later entry than ${entry}`);
        const req: RetractionRequest = {
          entry: { index: entry },
          reason: o.reason,
          ...(replacement !== undefined ? { replacement: { index: replacement } } : {}),
          ...(o.marking !== undefined ? { marking: o.marking as NonNullable<RetractionRequest['marking']> } : {}),
          ...(o.lang !== undefined ? { lang: o.lang } : {}),
        };
        const s = (await client(o).post('/v1/retractions', req)) as SubmittedView;
        const what = replacement !== undefined ? `Supersession of ${s.party}/${entry} by ${s.party}/${replacement}` : `Retraction of ${s.party}/${entry}`;
        makeOut(o.json === true).result({ ...s }, submittedLines(what, s));
        return EXIT_OK;
      }),
    );
}
