/**
 * `parley demo`: the whole hotline — three nodes, federation, deadlines, a
 * fork caught — in under a minute (demo/channel.ts); and `parley log demo`:
 * one signed log built, published, witnessed and audited (demo/logdemo.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { EXIT_INVALID, EXIT_OK, act } from '../exit.js';
import { makeOut } from '../io.js';
import { parseIndexArg } from '../hashes.js';
import { UsageError } from '../exit.js';
import { webRootOf } from '../web.js';
import { superviseLifetime, untilStopped } from '../lifetime.js';
import { loadCliProgress, showsProgress } from '../progress.js';

/** `parley log demo`: the log core on its own. */
export function registerLogDemo(log: Command): void {
  log
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
      act(async (opts: { entries: string; dir?: string; samples: string; json?: boolean }) => {
        const entries = parseIndexArg(opts.entries, '--entries');
        if (entries < 2 || entries > 5_000_000) throw new UsageError('--entries must be between 2 and 5000000');
        const samples = parseIndexArg(opts.samples, '--samples');
        const dir = opts.dir !== undefined ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), 'parley-demo-'));
        const out = makeOut(opts.json === true);
        // Imported only for a terminal: the demo's output is a report, the bars are company.
        const [cliProgress, { runLogDemo }] = await Promise.all([showsProgress(out.json) ? loadCliProgress() : Promise.resolve(undefined), import('../demo/logdemo.js')]);
        const bars = cliProgress && new cliProgress.MultiBar(
          { stream: process.stderr, format: ' {bar} {percentage}% | {value}/{total} | {phase}', hideCursor: true, clearOnComplete: false },
          cliProgress.Presets.shades_classic,
        );
        const active = new Map<string, { update(v: number, p: object): void }>();
        const result = runLogDemo({
          entries,
          dir,
          samples,
          progress: (phase, done, total) => {
            if (!bars) return;
            const bar = active.get(phase) ?? bars.create(total, 0, { phase });
            active.set(phase, bar);
            bar.update(done, { phase });
          },
        });
        bars?.stop();
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
          `Check it yourself: parley log verify-checkpoint --key '${result.logKey}' --witness '${result.witnessKey}' ${join(result.dir, 'checkpoint')}`,
        ];
        out.result({ ...result }, human);
        return result.ok ? EXIT_OK : EXIT_INVALID;
      }),
    );
}

/** `parley demo`: the channel demo (demo/channel.ts). */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description("run a hotline on this machine: three parties' nodes, federation, an incident, FLASH and overdue messages, a fourth party joining by amendment, a key rotation, an evaluation committed before deployment and revealed to one party, a forked log caught, every log audited")
    .option('--once', 'run the exercise, print the result, stop the nodes and exit (default: keep them up until Ctrl-C)')
    .option('--dir <dir>', 'where the nodes keep their data (default: a new temporary directory)')
    .option('--json', 'print one JSON object (with --once: per party log size, entries, receipts and acks on time/overdue, links, forks, audit)')
    .option('--web <dir>', 'serve the dashboard from this built web app directory (default: the @parley/web package\'s dist, when installed and built)')
    .option('--no-web', 'do not serve the dashboard')
    .addHelpText(
      'after',
      `
Three parties (CN, EU, US) found a channel whose deadlines and heartbeat are a
few seconds, start a node each on 127.0.0.1 (SQLite in the directory), and
run a scripted exercise: heartbeats; an incident report with an update and a
final report (sealed, TLP:AMBER); a FLASH message acknowledged in time; a
PRIORITY message left overdue (escalated); a fourth party (JP) joining by
amendment (parley accord propose/consent/approve; the nodes activate it) and
acknowledging a FLASH; CN rotating its log key (parley key rotate); US
committing to a pre-release evaluation (parley eval commit), announcing the
deployment (parley eval notice) and revealing the red-line outcomes to CN
alone (parley eval reveal --to CN), checked by CN's node; EU's
operator forking its log, caught by CN's witness with a fork proof. Every log
is then audited over HTTP with parley log verify --chain, across the rotation.

Exit status: 0 when everything that should hold held, 1 otherwise.`,
    )
    .action(
      act(async (opts: { once?: boolean; dir?: string; json?: boolean; web?: string | boolean }) => {
        superviseLifetime();
        const webRoot = webRootOf(opts.web);
        const dir = opts.dir !== undefined ? resolve(opts.dir) : mkdtempSync(join(tmpdir(), 'parley-demo-'));
        const out = makeOut(opts.json === true);
        const { runChannelDemo } = await import('../demo/channel.js');
        const demo = await runChannelDemo({ dir, once: opts.once === true, progress: (l) => (out.json ? undefined : process.stderr.write(`  ${l}\n`)), ...(webRoot !== undefined ? { webRoot } : {}) });
        const r = demo.result;
        const human = [
          '',
          `Parley demo — channel ${r.channel} (${r.seconds.toFixed(1)} s)`,
          '',
          'party  log  sent  recv  receipts on time/late/overdue  acks on time/late/overdue/pending  escalations  links                 forks  audit',
          ...r.summary.map(
            (s) =>
              `${s.party.padEnd(5)}  ${String(s.logSize).padStart(3)}  ${String(s.entriesSent).padStart(4)}  ${String(s.entriesReceived).padStart(4)}  ${`${s.receipts.onTime}/${s.receipts.late}/${s.receipts.overdue}`.padEnd(29)}  ${`${s.acks.onTime}/${s.acks.late}/${s.acks.overdue}/${s.acks.pending}`.padEnd(33)}  ${String(s.escalations).padStart(11)}  ${Object.entries(s.links).map(([p, st]) => `${p}:${st}`).join(' ').padEnd(20)}  ${String(s.forks.length).padStart(5)}  ${s.audit.passed ? 'passed' : 'FAILED'}`,
          ),
          '',
          `Evaluation ${r.evaluation.commitment ?? '(not committed)'} (US): ${r.evaluation.committedBefore ? `committed ${r.evaluation.marginSeconds ?? '?'} s before deployment` : 'NOT shown committed before deployment'}; revealed to ${r.evaluation.recipient}: ${r.evaluation.claimsMatch ? `${r.evaluation.revealed.length} claims match their digests on CN's node` : 'NOT opened by CN\'s node'}; evidence ${r.evaluation.evidenceVerified ? `verified offline (${r.evaluation.evidenceFile})` : 'NOT verified'}`,
          ...r.evaluation.revealed.filter((x) => /^(model\.|redLines\.[^.]+\.outcome$|report\.sha256$)/.test(x.path)).map((x) => `  ${x.path} = ${JSON.stringify(x.value)}`),
          ...r.summary.flatMap((s) => s.forks.map((f) => `fork proof held by ${s.party} against ${f.party}: ${f.file}  (check: parley verify-fork ${f.file} --accord ${join(r.dir, 'accord.json')})`)),
          '',
          r.ok ? `Everything held (${r.checks.length} checks).` : `SOME CHECKS FAILED: ${r.checks.filter((c) => !c.ok).map((c) => c.name).join('; ')}`,
        ];
        if (!opts.once) {
          human.push(
            '',
            'The nodes stay up until Ctrl-C:',
            ...r.parties.map((p) => `  ${p.id}  ${p.url}  (API docs ${p.url}/docs)  login ${p.login.officer} / ${p.login.password}`),
            ...(webRoot !== undefined
              ? ['', 'Dashboards (log in with the officer above):', ...r.parties.map((p) => `  ${p.id}  ${p.dashboard ?? `${p.url}/`}  — ${p.login.officer} / ${p.login.password}`)]
              : ['', 'No dashboard: build it (npm run build -w @parley/web) or pass --web DIR.']),
            `  e.g. PARLEY_URL=${r.parties[0]?.url} parley login --name ${r.parties[0]?.login.officer}`,
          );
        }
        const stopped = opts.once ? undefined : untilStopped(); // before the URLs are out: whoever reads them may signal at once
        out.result({ ...r }, human);
        if (stopped) {
          await stopped;
          await demo.stop();
        }
        return r.ok ? EXIT_OK : EXIT_INVALID;
      }),
    );
}
