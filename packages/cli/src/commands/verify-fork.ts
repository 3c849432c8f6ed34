/**
 * `parley verify-fork FILE --accord accord.json`: checks a fork proof offline
 * with nothing but the accord — two checkpoints signed by one party's log key
 * that cannot both be honest (core federation/fork.ts).
 * Exit 0: the proof holds (the party forked its log); 1: it does not verify;
 * 2: unusable arguments.
 */
import type { Command } from 'commander';
import { ParleyError, formatBase64, verifyAccord, verifyForkProof } from '@parley/core/node';
import { EXIT_INVALID, EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut, readInput } from '../io.js';
import { readAccordFile } from '../datadir.js';

export function registerVerifyFork(program: Command): void {
  program
    .command('verify-fork')
    .description('verify a fork proof offline: two checkpoints signed by one party that cannot both be honest')
    .argument('<file>', 'the fork proof (RFC 8785 JSON, as a node stored it), or - for standard input')
    .requiredOption('--accord <file>', 'the signed accord of the channel: it names every party’s log key')
    .option('--json', 'print the verdict as one JSON object')
    .addHelpText(
      'after',
      `
A fork proof is evidence, not an opinion: it holds exactly when the party's own
log key signed two checkpoints that no single history could produce (same size
with different roots, two different entries at one index, or a newer tree whose
prefix is not the older one). Cosignatures show who else saw each view.

Exit status: 0 the proof holds, 1 it does not verify, 2 unusable arguments.`,
    )
    .action(
      act((file: string, o: { accord: string; json?: boolean }) => {
        const out = makeOut(o.json === true);
        let accord;
        try {
          accord = verifyAccord(readAccordFile(o.accord), { requireAll: false });
        } catch (e) {
          if (!(e instanceof ParleyError)) throw e;
          throw new UsageError(`--accord ${o.accord} does not verify: ${e.message} (${e.code})`);
        }
        const bytes = readInput(file, 'fork proof');
        try {
          const v = verifyForkProof(bytes, accord);
          const side = (s: { checkpoint: { treeSize: number; rootHash: Uint8Array }; cosignatures: readonly { party: string; timestamp: number }[] }) => ({
            treeSize: s.checkpoint.treeSize,
            rootHash: formatBase64(s.checkpoint.rootHash),
            cosignedBy: s.cosignatures.map((c) => ({ party: c.party, time: new Date(c.timestamp * 1000).toISOString() })),
          });
          const a = side(v.a);
          const b = side(v.b);
          out.result({ valid: true, party: v.party, kind: v.kind, channel: accord.id, a, b }, [
            `FORK PROVEN: party ${v.party} signed two incompatible views of its log (${v.kind})`,
            `  view A: size ${a.treeSize}, root ${a.rootHash}${a.cosignedBy.length ? `, cosigned by ${a.cosignedBy.map((c) => `${c.party} at ${c.time}`).join(', ')}` : ''}`,
            `  view B: size ${b.treeSize}, root ${b.rootHash}${b.cosignedBy.length ? `, cosigned by ${b.cosignedBy.map((c) => `${c.party} at ${c.time}`).join(', ')}` : ''}`,
          ]);
          return EXIT_OK;
        } catch (e) {
          if (!(e instanceof ParleyError)) throw e;
          out.failure({ valid: false, code: e.code, error: e.message }, `not a valid fork proof: ${e.message} (${e.code})`);
          return EXIT_INVALID;
        }
      }),
    );
}
