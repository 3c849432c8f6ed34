/**
 * `parley log verify-checkpoint | verify-inclusion | verify-consistency`:
 * offline checks of a log's signed checkpoint and RFC 6962 proofs.
 * Exit 0 valid, 1 invalid, 2 unusable arguments (see exit.ts).
 */
import { type Command, Option } from 'commander';
import {
  ParleyError,
  SIG_TYPE_ED25519,
  VerifierSet,
  formatBase64,
  formatHex,
  formatKeyId,
  openWitnessedCheckpoint,
  parseVerifierKey,
  verifyConsistency,
  verifyInclusion,
} from '@parley/core/node';
import { EXIT_INVALID, EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut, readInput } from '../io.js';
import { parseHashArg, parseIndexArg, parseProofFile } from '../hashes.js';
import { registerLogVerify } from './log-verify.js';
import { registerLogDemo } from './demo.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Parses vkeys given on the command line; a bad one is a usage error. */
function parseKeys(vkeys: readonly string[], flag: string) {
  return vkeys.map((k) => {
    try {
      return parseVerifierKey(k);
    } catch (e) {
      throw new UsageError(`${flag} "${k.slice(0, 80)}" is not a verifier key (name+keyid+base64): ${(e as Error).message}`);
    }
  });
}

function registerVerifyCheckpoint(log: Command): void {
  log
    .command('verify-checkpoint')
    .description("verify a checkpoint's signatures (C2SP signed-note + tlog-checkpoint) against the log's verifier keys")
    .argument('<file>', 'checkpoint note file, or - for standard input')
    .requiredOption('--key <vkey>', "the log's verifier key (repeatable; at least one must have signed)", collect)
    .option('--witness <vkey>', 'a witness verifier key whose cosignature to check and report (repeatable)', collect)
    .addOption(new Option('--quorum <k>', 'require cosignatures from at least k distinct witness keys').default('0'))
    .option('--origin <origin>', 'require this exact origin line (checked separately from the key name)')
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
Unknown signatures are ignored; a signature by a known key that fails rejects the checkpoint.
Exit status: 0 verified, 1 not verified (the reason is printed), 2 unusable arguments.

Example:
  $ parley log verify-checkpoint --key 'sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8' checkpoint.txt`,
    )
    .action(
      act((file: string, opts: { key: string[]; witness?: string[]; quorum: string; origin?: string; json?: boolean }) => {
        const out = makeOut(opts.json === true);
        const logKeys = parseKeys(opts.key, '--key');
        for (const k of logKeys) {
          if (k.type !== SIG_TYPE_ED25519) {
            throw new UsageError(`--key ${k.name}: a log key must be an Ed25519 (type 0x01) key; pass witness (cosignature/v1) keys with --witness`);
          }
        }
        const witnesses = parseKeys(opts.witness ?? [], '--witness');
        const quorum = parseIndexArg(opts.quorum, '--quorum');
        const note = readInput(file, 'checkpoint');
        try {
          const v = openWitnessedCheckpoint(note, new VerifierSet(logKeys), witnesses, {
            quorum,
            ...(opts.origin !== undefined ? { origin: opts.origin } : {}),
          });
          const cp = v.checkpoint;
          const signers = v.signers.map((s) => `${s.name}+${formatKeyId(s.keyId)}`);
          const cosigs = v.cosignatures.map((c) => ({
            witness: `${c.name}+${formatKeyId(c.keyId)}`,
            timestamp: c.timestamp,
            time: new Date(c.timestamp * 1000).toISOString(),
          }));
          out.result(
            {
              valid: true,
              origin: cp.origin,
              treeSize: cp.treeSize,
              rootHash: formatBase64(cp.rootHash),
              rootHashHex: formatHex(cp.rootHash),
              extensions: cp.extensions,
              signers,
              cosignatures: cosigs,
            },
            [
              `origin:    ${cp.origin}`,
              `tree size: ${cp.treeSize}`,
              `root hash: ${formatBase64(cp.rootHash)}`,
              ...cp.extensions.map((e) => `extension: ${e}`),
              `signed by: ${signers.join(', ')}`,
              ...cosigs.map((c) => `cosigned:  ${c.witness} at ${c.time}`),
            ],
          );
          return EXIT_OK;
        } catch (e) {
          if (!(e instanceof ParleyError)) throw e;
          out.failure({ valid: false, code: e.code, error: e.message }, `checkpoint not verified: ${e.message} (${e.code})`);
          return EXIT_INVALID;
        }
      }),
    );
}

function registerVerifyInclusion(log: Command): void {
  log
    .command('verify-inclusion')
    .description('verify an RFC 6962 / RFC 9162 inclusion proof: leaf hash at index I in the tree of size N with root R')
    .requiredOption('--leaf-hash <hash>', 'leaf hash SHA-256(0x00 || entry), hex or base64')
    .requiredOption('--index <i>', 'leaf index, from 0')
    .requiredOption('--size <n>', 'tree size')
    .requiredOption('--root <hash>', 'root hash of the tree of size n, hex or base64')
    .requiredOption('--proof <file>', 'proof file: one hash per line, hex or base64 (- for standard input)')
    .option('--json', 'print the result as one JSON object')
    .addHelpText('after', '\nExit status: 0 valid, 1 invalid, 2 unusable arguments.')
    .action(
act((opts: { leafHash: string; index: string; size: string; root: string; proof: string; json?: boolean }) => {
      const out = makeOut(opts.json === true);
      const leaf = parseHashArg(opts.leafHash, '--leaf-hash');
      const index = parseIndexArg(opts.index, '--index');
      const size = parseIndexArg(opts.size, '--size');
      const root = parseHashArg(opts.root, '--root');
      const proof = parseProofFile(readInput(opts.proof, 'proof'), 'proof');
      if (index >= size) throw new UsageError(`--index ${index} is not below --size ${size}`);
      const valid = verifyInclusion(proof, size, root, index, leaf);
      const data = { valid, index, treeSize: size, rootHash: formatBase64(root), proofLength: proof.length };
      if (valid) {
        out.result(data, [`valid: leaf ${index} is in the tree of size ${size} with root ${formatBase64(root)}`]);
        return EXIT_OK;
      }
      out.failure({ ...data, code: 'PROOF_INVALID' }, `invalid: the proof does not show leaf ${index} in the tree of size ${size} with that root (PROOF_INVALID)`);
      return EXIT_INVALID;
    }));
}

function registerVerifyConsistency(log: Command): void {
  log
    .command('verify-consistency')
    .description('verify an RFC 6962 / RFC 9162 consistency proof: the tree of size N extends the tree of size M')
    .requiredOption('--old-size <m>', 'size of the older tree (≥ 1)')
    .requiredOption('--old-root <hash>', 'root hash of the older tree, hex or base64')
    .requiredOption('--new-size <n>', 'size of the newer tree (≥ m)')
    .requiredOption('--new-root <hash>', 'root hash of the newer tree, hex or base64')
    .requiredOption('--proof <file>', 'proof file: one hash per line, hex or base64 (- for standard input); empty when sizes are equal')
    .option('--json', 'print the result as one JSON object')
    .addHelpText('after', '\nExit status: 0 valid, 1 invalid, 2 unusable arguments.')
    .action(
act((opts: { oldSize: string; oldRoot: string; newSize: string; newRoot: string; proof: string; json?: boolean }) => {
      const out = makeOut(opts.json === true);
      const m = parseIndexArg(opts.oldSize, '--old-size');
      const n = parseIndexArg(opts.newSize, '--new-size');
      const r1 = parseHashArg(opts.oldRoot, '--old-root');
      const r2 = parseHashArg(opts.newRoot, '--new-root');
      const proof = parseProofFile(readInput(opts.proof, 'proof'), 'proof');
      if (m === 0) throw new UsageError('--old-size must be at least 1: every tree extends the empty tree, so there is nothing to prove');
      if (m > n) throw new UsageError(`--old-size ${m} is larger than --new-size ${n}`);
      const valid = verifyConsistency(proof, m, n, r1, r2);
      const data = { valid, oldSize: m, newSize: n, oldRoot: formatBase64(r1), newRoot: formatBase64(r2), proofLength: proof.length };
      if (valid) {
        out.result(data, [`valid: the tree of size ${n} extends the tree of size ${m}`]);
        return EXIT_OK;
      }
      out.failure({ ...data, code: 'PROOF_INVALID' }, `invalid: the proof does not show that tree ${n} extends tree ${m} with those roots (PROOF_INVALID)`);
      return EXIT_INVALID;
    }));
}

export function registerLog(program: Command): void {
  const log = program.command('log').description("audit a log, or check its checkpoints and proofs offline");
  registerLogVerify(log);
  registerLogDemo(log);
  registerVerifyCheckpoint(log);
  registerVerifyInclusion(log);
  registerVerifyConsistency(log);
}
