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
import { SqliteStore } from '@parley/store';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { parseIndexArg } from '../hashes.js';
import { DATA_FLAGS, DATA_HELP, dataDir, paths, readConfig } from '../datadir.js';
import { type StixExportOpts, exportStix } from './export-stix.js';

const CHUNK = 256;

export function registerExport(program: Command): void {
  program
    .command('export')
    .description("write the party's own log entries as JSON lines {index, leafHash, entry}, read from the data directory; `export stix`: incidents as STIX 2.1 bundles, from the node")
    .argument('[format]', 'log (default): our log as JSON lines; stix: incidents as a STIX 2.1 bundle (export-stix.ts)')
    .option('--from <n>', 'first index', '0')
    .option('--to <n>', 'stop before this index (default: the tree size)')
    .option('--out <file>', 'write to this file (atomically) instead of standard output')
    .option(DATA_FLAGS, DATA_HELP)
    .option('--json', 'accepted for uniformity: the output is always JSON (with stix --out: a JSON summary on stdout)')
    .option('--incident <id>', 'stix: the incident to export (e.g. US:2026-0007)')
    .option('--all', 'stix: every incident your role may read, in one bundle')
    .option('--url <url>', "stix: the node's base URL (default: $PARLEY_URL, the URL you logged in to, or config.json's listen address)")
    .option('--token <token>', 'stix: bearer token (default: $PARLEY_TOKEN, or the session saved by parley login)')
    .addHelpText(
      'after',
      `
Reads DIR/parley.sqlite read-only: no passphrase, and the node may be running.
The canonical JSON (RFC 8785) of each "entry" is the exact logged entry; the
leaf hash proves it.

\`parley export stix\` asks the node (log in first) for incidents as STIX 2.1
bundles: what your role may read, TLP 2.0 markings, deterministic ids, MITRE
ATLAS techniques (docs/interop.md). Exit 2 when the node refuses (an incident
sealed from your role: STIX_SEALED; unknown: NOT_FOUND), 3 when it is down.

Examples:
  $ parley export --data us --from 100 --out us-entries.jsonl
  $ parley export stix --data us --incident US:2026-0007 --out US-2026-0007.stix.json
  $ parley export stix --data cn --all > incidents.stix.json`,
    )
    .action(
      act(async (format: string | undefined, o: { from: string; to?: string; out?: string; data?: string } & StixExportOpts) => {
        if (format === 'stix') return exportStix(o);
        if (format !== undefined && format !== 'log') throw new UsageError(`unknown export format "${format}": log (default) or stix`);
        if (o.incident !== undefined || o.all === true) throw new UsageError('--incident and --all are options of: parley export stix');
        const dir = dataDir(o.data);
        readConfig(dir);
        const from = parseIndexArg(o.from, '--from');
        const store = SqliteStore.open(paths(dir).store, { readonly: true });
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
