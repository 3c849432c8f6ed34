/** `parley send`: a hotline message with a precedence, signed and logged by the node. */
import type { Command } from 'commander';
import { Option } from 'commander';
import { MARKINGS, PRECEDENCES } from '@parley/core/node';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut, readInput } from '../io.js';
import { type ClientOpts, client, clientOptions } from '../client.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** What the node answers for every write. */
export interface SubmittedView {
  party: string;
  index: number;
  leafHash: string;
  treeSize: number;
  entry: { to: string[]; precedence: string; marking: string; type: string; time: string };
}

export function submittedLines(what: string, s: SubmittedView): string[] {
  return [
    `${what} logged as ${s.party}/${s.index} (${s.entry.precedence}, ${s.entry.marking}) to ${s.entry.to.join(', ')} at ${s.entry.time}`,
    `  leaf hash: ${s.leafHash}   tree size: ${s.treeSize}`,
  ];
}

export function registerSend(program: Command): void {
  clientOptions(
    program
      .command('send')
      .description('send a hotline message: signed, logged, sealed to the recipients unless TLP:CLEAR')
      .argument('<text>', 'the message, or - to read it from standard input')
      .addOption(new Option('--precedence <p>', 'how urgent: sets the acknowledgement deadline').choices(PRECEDENCES).makeOptionMandatory())
      .option('--to <party>', 'recipient party (repeatable; default: every other party)', collect)
      .addOption(new Option('--marking <tlp>', 'FIRST TLP 2.0 marking; anything but TLP:CLEAR is end-to-end encrypted').choices(MARKINGS).default('TLP:AMBER'))
      .option('--lang <tag>', 'language of the text, e.g. en or zh-CN'),
  )
    .addHelpText('after', '\nExample:\n  $ parley send --precedence FLASH --to CN "Unexpected model behaviour in deployment; call on the hotline."')
    .action(
      act(async (text: string, o: ClientOpts & { precedence: string; to?: string[]; marking: string; lang?: string }) => {
        const body = text === '-' ? new TextDecoder().decode(readInput('-', 'message')).replace(/\n$/, '') : text;
        if (body.trim() === '') throw new UsageError('the message is empty');
        const c = client(o);
        const s = (await c.post('/v1/messages', {
          precedence: o.precedence,
          marking: o.marking,
          text: body,
          ...(o.to ? { to: o.to } : {}),
          ...(o.lang ? { lang: o.lang } : {}),
        })) as SubmittedView;
        makeOut(o.json === true).result({ ...s }, submittedLines('Message', s));
        return EXIT_OK;
      }),
    );
}
