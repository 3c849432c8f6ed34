/**
 * `parley backup` and `parley restore` (issue 9, "No rollback").
 *
 *     parley backup --data DIR --out FILE     online: works while `parley serve` runs on DIR
 *                                             (SQLite online backup on a read-only connection;
 *                                             no writer lock), consistent, verified after writing
 *     parley restore --data DIR FILE          replaces DIR's store with a backup (refused while a
 *                                             node has it open); the node's next start checks the
 *                                             restored log against what the peers cosigned and
 *                                             recovers the missing tail from their mirrors
 *
 * The backup is the store only (own log, received and mirrored entries,
 * officers, settings, witness state): keys.enc, config.json and accord.json
 * do not change after setup and are saved once, with the passphrase kept apart.
 */
import { copyFileSync, existsSync, fsyncSync, openSync, closeSync, renameSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { isParleyError } from '@parley/core/node';
import { backupDatabase, databaseInUse, verifyStoreFile } from '@parley/store';
import { lockDir } from '../lock.js';
import { EXIT_INVALID, EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { DATA_FLAGS, DATA_HELP, type Config, dataDir, paths, readConfig, storeLabel } from '../datadir.js';

export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description("copy the node's store to a file, online and consistent, and verify the copy")
    .option(DATA_FLAGS, DATA_HELP)
    .requiredOption('--out <file>', 'where to write the backup (replaced atomically)')
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
Runs while \`parley serve\` uses the data directory: the copy is one consistent
snapshot (SQLite online backup), verified after writing (every entry's hash and
every checkpoint's root against the stored tree). A restored backup is older
than the published log: the node then signs nothing until it has recovered
the missing entries from its peers (see parley restore, parley recover).

Example:
  $ parley backup --data us --out us-$(date +%F).sqlite`,
    )
    .action(
      act(async (o: { data?: string; out: string; json?: boolean }) => {
        const dir = dataDir(o.data);
        sqliteOnly(readConfig(dir), 'backup');
        const out = resolve(o.out);
        try {
          const s = await backupDatabase(paths(dir).store, out);
          makeOut(o.json === true).result({ file: out, ...s }, [
            `backup written to ${out} and verified: log size ${s.treeSize}, ${s.checkpoints} checkpoints checked, ${s.othersEntries} entries of other parties`,
          ]);
          return EXIT_OK;
        } catch (e) {
          // The store cannot be read (no store, a newer schema, busy, a disk error): exit 4 like every command; a copy that does not verify is a failed check (1).
          if (!isParleyError(e) || e.code === 'STORE_UNAVAILABLE') throw e;
          makeOut(o.json === true).failure({ error: e.message, code: e.code }, `backup failed: ${e.message} (${e.code})`);
          return EXIT_INVALID;
        }
      }),
    );

  program
    .command('restore')
    .description("replace the node's store by a backup (the node must be stopped)")
    .argument('<file>', 'a backup written by parley backup')
    .option(DATA_FLAGS, DATA_HELP)
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
Refuses while a node has the data directory's store open. The backup is
verified before it replaces anything. At its next start the node asks its
peers what they cosigned of its log and, if the backup is older, signs nothing
until it has recovered the missing entries from their mirrors (or run
parley recover --data DIR to do it now).`,
    )
    .action(
      act(async (file: string, o: { data?: string; json?: boolean }) => {
        const dir = dataDir(o.data);
        sqliteOnly(readConfig(dir), 'restore');
        const src = resolve(file);
        if (!existsSync(src)) throw new UsageError(`no backup file "${src}"`);
        const target = paths(dir).store;
        // One process per data directory: held until this command exits (released by the OS even on a crash).
        lockDir(dir, 'parley restore');
        if (databaseInUse(target)) throw new UsageError(`the store of ${dir} is in use (is parley serve running on it?): stop the node first`);
        let s;
        try {
          s = await verifyStoreFile(src);
        } catch (e) {
          if (!isParleyError(e)) throw e;
          makeOut(o.json === true).failure({ error: e.message, code: e.code }, `not a usable backup: ${e.message} (${e.code})`);
          return EXIT_INVALID;
        }
        const tmp = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
        copyFileSync(src, tmp);
        const fd = openSync(tmp, 'r');
        fsyncSync(fd);
        closeSync(fd);
        // The old WAL and shared memory belong to the old database: a WAL left beside the restored file would be replayed into it.
        for (const side of ['-wal', '-shm']) rmSync(`${target}${side}`, { force: true });
        renameSync(tmp, target);
        makeOut(o.json === true).result({ file: src, store: target, ...s }, [
          `restored ${src} into ${dir}: log size ${s.treeSize}`,
          'at its next start the node checks this log against what its peers cosigned, and recovers any missing entries from their mirrors before it signs anything',
        ]);
        return EXIT_OK;
      }),
    );
}

/** backup and restore copy the SQLite file; a PostgreSQL store is backed up with its own tools (typed refusal, exit 2). */
export function sqliteOnly(config: Config, command: string): void {
  if (config.store === undefined) return;
  throw new UsageError(
    `parley ${command} works on the SQLite file DIR/parley.sqlite; this data directory's store is PostgreSQL (${storeLabel(config.store)}): use pg_dump -Fc / pg_restore (or continuous archiving), or parley migrate --from DIR --to NEWDIR for a verified SQLite copy`,
    'STORE_NOT_SQLITE',
  );
}
