/** `parley demo`: build, publish, witness and audit a signed log (see demo/logdemo.ts). */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { EXIT_INVALID, EXIT_OK, act } from '../exit.js';
import { makeOut } from '../io.js';
import { parseIndexArg } from '../hashes.js';
import { UsageError } from '../exit.js';
import { runLogDemo } from '../demo/logdemo.js';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('build a log of N signed entries, publish and witness checkpoints, then audit it from disk with proofs')
    .option('--entries <n>', 'number of signed entries', '10000')
    .option('--dir <dir>', 'where to publish the log (C2SP tlog-tiles layout); default: a new temporary directory')
    .option('--samples <k>', 'inclusion proofs to check, spread over the log', '100')
    .option('--json', 'print one JSON object instead of the report')
    .addHelpText(
      'after',
      `
The directory it leaves behind is a static tlog-tiles log anyone can check:
  checkpoint               the latest checkpoint, signed by the log and cosigned by the witness
  tile/<L>/<N>[.p/<W>]     Merkle tree tiles
  tile/entries/<N>         entry bundles (the signed entries themselves)

Exit status: 0 when every check held, 1 otherwise.`,
    )
    .action(
      act((opts: { entries: string; dir?: string; samples: string; json?: boolean }) => {
        const entries = parseIndexArg(opts.entries, '--entries');
        if (entries < 2 || entries > 5_000_000) throw new UsageError('--entries must be between 2 and 5000000');
        const samples = parseIndexArg(opts.samples, '--samples');
        const dir = opts.dir !== undefined ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), 'parley-demo-'));
        const out = makeOut(opts.json === true);
        const showBar = !out.json && process.stderr.isTTY === true;
        const bars = new cliProgress.MultiBar(
          { stream: process.stderr, format: ' {bar} {percentage}% | {value}/{total} | {phase}', hideCursor: true, clearOnComplete: false },
          cliProgress.Presets.shades_classic,
        );
        const active = new Map<string, cliProgress.SingleBar>();
        const result = runLogDemo({
          entries,
          dir,
          samples,
          progress: (phase, done, total) => {
            if (!showBar) return;
            let bar = active.get(phase);
            if (!bar) {
              bar = bars.create(total, 0, { phase });
              active.set(phase, bar);
            }
            bar.update(done, { phase });
          },
        });
        bars.stop();
        const human = [
          `Parley log demo — ${result.origin}`,
          `  log key:     ${result.logKey}`,
          `  witness key: ${result.witnessKey}`,
          `  published:   ${result.dir} (${result.tiles} tiles, ${result.bundles} entry bundles)`,
          ...result.checkpoints.map((c) => `  checkpoint:  size ${c.treeSize}, root ${c.rootHash}, cosigned ${c.cosignedAt}`),
          '',
          'Verified:',
          ...result.checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.name} — ${c.detail}`),
          '',
          result.ok ? `All ${result.checks.length} checks held (${result.seconds.toFixed(1)} s).` : 'SOME CHECKS FAILED.',
          `Check it yourself: npx parley log verify-checkpoint --key '${result.logKey}' --witness '${result.witnessKey}' ${join(result.dir, 'checkpoint')}`,
        ];
        out.result({ ...result }, human);
        return result.ok ? EXIT_OK : EXIT_INVALID;
      }),
    );
}
