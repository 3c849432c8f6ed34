/** `parley keygen`: a new Ed25519 signer key and its verifier key in note key format. */
import type { Command } from 'commander';
import {
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  formatSignerKey,
  formatVerifierKey,
  generateSignerKey,
  isValidKeyName,
  verifierKeyOf,
} from '@parley/core/node';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';

export function registerKeygen(program: Command): void {
  program
    .command('keygen')
    .description('generate an Ed25519 signing key and print it with its verifier key (C2SP signed-note key format)')
    .requiredOption('--name <name>', 'key name, usually the log origin (e.g. "parley.example/us"); no spaces or "+"')
    .option('--witness', 'make a witness key (cosignature/v1, type 0x04) instead of a log key (type 0x01)')
    .option('--json', 'print {"name","signer","verifier","type"} as JSON')
    .addHelpText(
      'after',
      `
The signer key (PRIVATE+KEY+...) is secret: store it encrypted and never share it.
The verifier key (name+keyid+base64) is public: give it to everyone who checks your log.

Examples:
  $ parley keygen --name parley.example/us
  $ parley keygen --name witness.example/cn --witness --json`,
    )
    .action(
act((opts: { name: string; witness?: boolean; json?: boolean }) => {
      if (!isValidKeyName(opts.name)) {
        throw new UsageError(`--name "${opts.name}" is not a valid key name: it must be non-empty, with no spaces and no "+"`);
      }
      const type = opts.witness ? SIG_TYPE_COSIGNATURE_V1 : SIG_TYPE_ED25519;
      const key = generateSignerKey(opts.name, type);
      const signer = formatSignerKey(key);
      const verifier = formatVerifierKey(verifierKeyOf(key));
      makeOut(opts.json === true).result(
        { name: opts.name, type: opts.witness ? 'cosignature/v1' : 'ed25519', signer, verifier },
        [signer, verifier],
      );
      return EXIT_OK;
    }));
}
