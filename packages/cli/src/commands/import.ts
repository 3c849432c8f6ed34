/**
 * `parley import aiid <snapshot-dir-or-files…>`: AI Incident Database
 * records into this party's log (issue 13).
 *
 * The snapshot's CSVs are read and mapped here (aiid/snapshot.ts, map.ts,
 * records.ts); the node checks every record and appends them all in one
 * store batch, or none (POST /v1/imports/aiid). The report lists what was
 * imported, what was skipped and why — a malformed row (file:line), a
 * duplicate (duplicates.csv, or already imported), a value the map does
 * not know — and which incidents got the map's default category.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { type ClientOpts, client, clientOptions } from '../client.js';
import { progressBar } from '../progress.js';
import { parseIndexArg } from '../hashes.js';
import { DEFAULT_MAP_PATH, loadMap, namespacesOf } from '../aiid/map.js';
import { readSnapshot, snapshotFiles } from '../aiid/snapshot.js';
import { type Skip, buildRecords } from '../aiid/records.js';

/** What the node's import route answers (node http/imports.ts). */
interface ImportAnswer {
  dryRun: boolean;
  imported: { aiid: string; incident: string; index?: number; from?: string }[];
  skipped: { aiid: string; incident: string; code: string; reason: string; from?: string }[];
  treeSize: number;
}

interface ImportOpts extends ClientOpts {
  map?: string;
  dryRun?: boolean;
  limit?: string;
  to?: string[];
  printMap?: boolean;
}

const collect = (v: string, prev: string[] = []) => [...prev, v];
/** The node's limit per import (node http/imports.ts MAX_IMPORT_RECORDS). */
const MAX_IMPORT_RECORDS = 5000;

export function registerImport(program: Command): void {
  const imp = program.command('import').description('bring public incident records into this party\u2019s log: the AI Incident Database (AIID) snapshot CSVs');
  clientOptions(
    imp
      .command('aiid')
      .description('import an AIID snapshot as TLP:CLEAR incident reports attributed to AIID (CC BY-SA 4.0): all or nothing, a re-import logs nothing new')
      .argument('[inputs...]', 'the snapshot directory (mongodump_full_snapshot or its parent) and/or its CSV files')
      .option('--map <file>', 'the mapping of AIID classifications to our taxonomy (default: the shipped packages/cli/data/aiid-map.json)')
      .option('--dry-run', 'check everything and report what would be imported; log nothing')
      .option('--limit <n>', 'import at most n incidents (the lowest AIID ids first)')
      .option('--to <party>', 'recipient party (repeatable; default every other party — each must acknowledge every report)', collect)
      .option('--print-map', 'print the shipped mapping file (a start for your own --map) and exit'),
  )
    .addHelpText(
      'after',
      `
Reads incidents.csv (required), reports.csv, duplicates.csv and the
classifications_<namespace>.csv files the map names, from AIID's weekly
snapshot (https://incidentdatabase.ai/research/snapshots/). Each incident
becomes one initial report <PARTY>:aiid-<id> with source {name: "AIID", id,
url: https://incidentdatabase.ai/cite/<id>, license: "CC BY-SA 4.0"}.

A malformed CSV file stops the import (nothing is logged); a malformed row,
a duplicate incident (duplicates.csv, or one this node already imported)
and, with the map's "unknownValues": "skip", a classification value the map
does not know are skipped and listed. Exit 0 when the import ran (even with
skips), 2 for bad input or a refused import, 3 when the node is unavailable.

Examples:
  $ parley import aiid ~/aiid/mongodump_full_snapshot --dry-run
  $ parley import aiid ~/aiid/mongodump_full_snapshot --map my-aiid-map.json --json
  $ parley import aiid --print-map > my-aiid-map.json`,
    )
    .action(
      act(async (inputs: string[], o: ImportOpts) => {
        if (o.printMap === true) {
          process.stdout.write(readFileSync(DEFAULT_MAP_PATH, 'utf8'));
          return EXIT_OK;
        }
        if (inputs.length === 0) throw new UsageError('give the snapshot directory or its CSV files (parley import aiid --help)');
        const limit = o.limit !== undefined ? parseIndexArg(o.limit, '--limit') : undefined;
        if (limit === 0) throw new UsageError('--limit must be at least 1');
        const json = o.json === true;
        const out = makeOut(json);
        const map = loadMap(o.map);
        // The snapshot is read (and a missing or malformed file refused) before the node is asked anything.
        const bar = await progressBar(json, 'files');
        let snap;
        try {
          const files = snapshotFiles(inputs).length;
          bar.start(files, 'reading the snapshot');
          snap = readSnapshot(inputs, namespacesOf(map), (f) => bar.tick(1, `reading ${f}`));
          bar.update(files, 'mapping');
        } finally {
          bar.stop();
        }
        const c = client(o);
        const held = (await c.get('/v1/imports/aiid')) as { party: string; imported: { aiid: string; index: number }[] };
        const party = held.party;
        const already = new Map(held.imported.map((i) => [i.aiid, `${party}/${i.index}`]));
        const built = buildRecords(snap, map, party, limit, already);
        if (built.records.length > MAX_IMPORT_RECORDS) {
          throw new UsageError(`${built.records.length} incidents to import: at most ${MAX_IMPORT_RECORDS} per import — run with --limit ${MAX_IMPORT_RECORDS} and repeat until nothing is left (what is imported is skipped the next time)`, 'IMPORT_TOO_LARGE');
        }
        if (!json) process.stderr.write(`parley: ${built.records.length} incidents to ${o.dryRun === true ? 'check' : 'import'} on ${c.url}${o.dryRun === true ? ' (dry run)' : ''}…\n`);
        const answer = (await c.postLarge('/v1/imports/aiid', {
          records: built.records,
          ...(o.to !== undefined ? { to: o.to } : {}),
          ...(o.dryRun === true ? { dryRun: true } : {}),
        })) as ImportAnswer;
        const skipped: Skip[] = [...built.skipped, ...answer.skipped.map((s) => ({ aiid: s.aiid, code: 'IMPORT_DUPLICATE' as const, reason: s.reason, ...(s.from !== undefined ? { from: s.from } : {}) }))];
        const result = {
          party,
          dryRun: answer.dryRun,
          files: snap.files,
          imported: answer.imported,
          skipped,
          unmapped: built.unmapped,
          defaulted: built.defaulted,
          deferred: built.deferred,
          treeSize: answer.treeSize,
        };
        const human = [
          `${answer.dryRun ? 'would import' : 'imported'} ${answer.imported.length} AIID incident${answer.imported.length === 1 ? '' : 's'} as ${party}:aiid-<id> (TLP:CLEAR, CC BY-SA 4.0)${answer.dryRun ? '' : `; log size ${answer.treeSize}`}`,
          ...answer.imported.slice(0, 20).map((i) => `  + ${i.incident}${i.index !== undefined ? `  entry ${party}/${i.index}` : ''}`),
          ...(answer.imported.length > 20 ? [`  … ${answer.imported.length - 20} more (--json lists all)`] : []),
          ...(skipped.length > 0 ? [`skipped ${skipped.length}:`, ...skipped.map((s) => `  - ${s.aiid !== undefined ? `AIID ${s.aiid}` : 'a row'}${s.from !== undefined ? ` (${s.from})` : ''}: ${s.code} ${s.reason}`)] : []),
          ...(built.unmapped.length > 0 ? [`values the map does not know (imported with the other rules' codes; edit the map, --map FILE):`, ...built.unmapped.map((u) => `  ? AIID ${u.aiid} ${u.namespace} "${u.field}": "${u.value}" (${u.from})`)] : []),
          ...(built.defaulted.length > 0 ? [`category defaulted (no rule gave one) for AIID ${built.defaulted.join(', ')}`] : []),
          ...(built.deferred > 0 ? [`${built.deferred} more left by --limit: run the same command again`] : []),
        ];
        out.result(result, human);
        return EXIT_OK;
      }),
    );
}
