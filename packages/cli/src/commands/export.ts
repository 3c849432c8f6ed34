/**
 * `parley export`: the party's own log as JSON lines, read from the data
 * directory directly (read-only; no passphrase, works while the node runs
 * and when it is down — the entries are signed, so the file needs no trust).
 *
 *     {"index": 0, "leafHash": "<base64 SHA-256(0x00 || entry)>", "entry": {…the signed entry…}}
 *
 * Entries are RFC 8785 canonical JSON, so the canonical form of `entry` is
 * exactly the logged bytes; base64 of those is what POST /v1/ingest takes.
 */
import { closeSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { formatBase64, parseEntry } from '@parley/core/node';
import { openStore } from '@parley/store';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { parseIndexArg } from '../hashes.js';
import { DATA_FLAGS, DATA_HELP, dataDir, readConfig, storeSpec } from '../datadir.js';
import { type StixExportOpts, exportStix } from './export-stix.js';
import { clientOptions } from '../client.js';

const CHUNK = 256;

export function registerExport(program: Command): void {
  const exp = program
    .command('export')
    .description("write the party's own log entries as JSON lines {index, leafHash, entry}, read from the data directory; `export stix` and `export aiid`: incidents for other tools, from the node")
    .option('--from <n>', 'first index', '0')
    .option('--to <n>', 'stop before this index (default: the tree size)')
    .option('--out <file>', 'write to this file (atomically) instead of standard output')
    .option(DATA_FLAGS, DATA_HELP)
    .option('--json', 'accepted for uniformity: the output is always JSON (with stix or aiid and --out: a JSON summary on stdout)')
    .addHelpText(
      'after',
      `
Reads the store (DIR/parley.sqlite or its PostgreSQL database) read-only: no passphrase, and the node may be running.
The canonical JSON (RFC 8785) of each "entry" is the exact logged entry; the
leaf hash proves it.

Examples:
  $ parley export --data us --from 100 --out us-entries.jsonl
  $ parley export stix --data us --incident US:2026-0007 --out US-2026-0007.stix.json
  $ parley export aiid --data us --out us-aiid.json`,
    );
  clientOptions(
    exp
      .command('stix')
      .description('incidents as a STIX 2.1 bundle, from the node: what your role may read, TLP 2.0 markings, MITRE ATLAS techniques, deterministic ids')
      .option('--incident <id>', 'the incident to export (e.g. US:2026-0007)')
      .option('--all', 'every incident your role may read, in one bundle')
      .option('--out <file>', 'write to this file (atomically) instead of standard output; with --json, a summary on standard output'),
  )
    .addHelpText(
      'after',
      `
Asks the node (log in first) for incidents as STIX 2.1 bundles
(docs/interop.md). Exit 2 when
the node refuses (an incident sealed from your role: STIX_SEALED; unknown:
NOT_FOUND), 3 when it is down.

Examples:
  $ parley export stix --data us --incident US:2026-0007 --out US-2026-0007.stix.json
  $ parley export stix --data cn --all > incidents.stix.json`,
    )
    // `export` itself has --out, --data and --json: commander gives them to it, so read both levels.
    .action(act(async (_o: unknown, cmd: Command) => exportStix(cmd.optsWithGlobals<StixExportOpts>())));
  exp
    .action(
      act(async (o: { from: string; to?: string; out?: string; data?: string }) => {
        const dir = dataDir(o.data);
        readConfig(dir);
        const from = parseIndexArg(o.from, '--from');
        const store = await openStore(storeSpec(dir), { readonly: true });
        const target = o.out === undefined ? undefined : resolve(o.out);
        const tmp = target && join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
        let fd = 1;
        try {
          const size = await store.treeSize();
          const to = o.to === undefined ? size : Math.min(parseIndexArg(o.to, '--to'), size);
          if (from > to) throw new UsageError(`--from ${from} is beyond --to ${to} (the log has ${size} entries)`);
          if (tmp) fd = openSync(tmp, 'w', 0o644);
          let n = 0;
          for (let i = from; i < to; i += CHUNK) {
            const lines = (await store.entries(i, Math.min(i + CHUNK, to))).map((e) =>
              JSON.stringify({ index: e.index, leafHash: formatBase64(e.leafHash), entry: parseEntry(e.bytes) }),
            );
            writeSync(fd, lines.length ? `${lines.join('\n')}\n` : '');
            n += lines.length;
          }
          if (tmp) {
            closeSync(fd);
            fd = 1;
            renameSync(tmp, target!);
            process.stderr.write(`exported ${n} entries [${from}, ${to}) to ${target}\n`);
          }
        } catch (e) {
          if (tmp) {
            if (fd !== 1) closeSync(fd);
            rmSync(tmp, { force: true });
          }
          throw e;
        } finally {
          await store.close();
        }
        return EXIT_OK;
      }),
    );
}
