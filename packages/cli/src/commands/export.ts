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

const CHUNK = 256;

export function registerExport(program: Command): void {
  program
    .command('export')
    .description("write the party's own log entries as JSON lines {index, leafHash, entry}, read from the data directory")
    .option('--from <n>', 'first index', '0')
    .option('--to <n>', 'stop before this index (default: the tree size)')
    .option('--out <file>', 'write to this file (atomically) instead of standard output')
    .option(DATA_FLAGS, DATA_HELP)
    .option('--json', 'accepted for uniformity: the output is always JSON lines')
    .addHelpText(
      'after',
      `
Reads the store (DIR/parley.sqlite or its PostgreSQL database) read-only: no passphrase, and the node may be running.
The canonical JSON (RFC 8785) of each "entry" is the exact logged entry; the
leaf hash proves it.

Example:
  $ parley export --data us --from 100 --out us-entries.jsonl`,
    )
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
