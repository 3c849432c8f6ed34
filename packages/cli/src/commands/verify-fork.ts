/**
 * `parley verify-fork FILE --accord accord.json`: checks a fork proof offline
 * with nothing but the accord — two checkpoints signed by one party's log key
 * that cannot both be honest (core federation/fork.ts).
 * Exit 0: the proof holds (the party forked its log); 1: it does not verify;
 * 2: unusable arguments.
 */
import type { Command } from 'commander';
import { ParleyError, decodeUtf8, formatBase64, verifyAccord, verifyAccordChain, verifyAccordFork, verifyChainFile, verifyForkProof } from '@parley/core/node';
import { readFileSync } from 'node:fs';
import { EXIT_INVALID, EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut, readInput } from '../io.js';
import { readAccordFile } from '../datadir.js';

export function registerVerifyFork(program: Command): void {
  program
    .command('verify-fork')
    .description('verify a fork proof offline: two checkpoints signed by one party that cannot both be honest')
    .argument('<file>', 'the fork proof (RFC 8785 JSON, as a node stored it), or - for standard input')
    .requiredOption('--accord <file>', 'the signed accord of the channel: it names every party’s log key')
    .option('--chain <file>', 'an accord fork of a version after 2: the chain file (GET /v1/accord/chain) that reaches the version both sides follow')
    .option('--json', 'print the verdict as one JSON object')
    .addHelpText(
      'after',
      `
A fork proof is evidence, not an opinion: it holds exactly when the party's own
log key signed two checkpoints that no single history could produce (same size
with different roots, two different entries at one index, or a newer tree whose
prefix is not the older one). Cosignatures show who else saw each view.

An accord fork proof (kind "accord", issue 11) holds when two different accord
versions N+1, each validly signed by a quorum, follow the same version N. The
accord alone checks a fork of version 2; a later version needs --chain.

Exit status: 0 the proof holds, 1 it does not verify, 2 unusable arguments.`,
    )
    .action(
      act((file: string, o: { accord: string; chain?: string; json?: boolean }) => {
        const out = makeOut(o.json === true);
        let accord;
        try {
          accord = verifyAccord(readAccordFile(o.accord), { requireAll: false });
        } catch (e) {
          if (!(e instanceof ParleyError)) throw e;
          throw new UsageError(`--accord ${o.accord} does not verify: ${e.message} (${e.code})`);
        }
        const bytes = readInput(file, 'fork proof');
        if (kindOf(bytes) === 'accord') {
          let chain;
          try {
            chain = o.chain !== undefined ? verifyChainFile(readFileSync(o.chain), { genesis: { accord: accord.accord, signatures: accord.signatures } }).chain : verifyAccordChain([{ accord: accord.accord, signatures: accord.signatures }]);
          } catch (e) {
            if (!(e instanceof ParleyError)) throw e;
            throw new UsageError(`${o.chain !== undefined ? `--chain ${o.chain}` : `--accord ${o.accord}`} does not verify as the channel's chain: ${e.message} (${e.code})`);
          }
          try {
            const v = verifyAccordFork(bytes, chain);
            const side = (x: typeof v.a) => ({ version: x.version, digest: x.digest, signedBy: [...x.signedBy] });
            const both = v.a.signedBy.filter((p) => v.b.signedBy.includes(p));
            out.result({ valid: true, kind: 'accord', channel: v.channel, version: v.version, a: side(v.a), b: side(v.b), signers: both }, [
              `ACCORD FORK PROVEN: two different valid accord versions ${v.version} follow version ${v.version - 1}${both.length ? ` (signed both: ${both.join(', ')})` : ''}`,
              `  version A: ${v.a.digest}, signed by ${v.a.signedBy.join(', ')}`,
              `  version B: ${v.b.digest}, signed by ${v.b.signedBy.join(', ')}`,
            ]);
            return EXIT_OK;
          } catch (e) {
            if (!(e instanceof ParleyError)) throw e;
            out.failure({ valid: false, code: e.code, error: e.message }, `not a valid fork proof: ${e.message} (${e.code})`);
            return EXIT_INVALID;
          }
        }
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

/** The proof's `kind`, read loosely (the verifier checks it strictly). */
function kindOf(bytes: Uint8Array): string | undefined {
  try {
    const v = JSON.parse(decodeUtf8(bytes)) as { kind?: unknown };
    return typeof v.kind === 'string' ? v.kind : undefined;
  } catch {
    return undefined;
  }
}
