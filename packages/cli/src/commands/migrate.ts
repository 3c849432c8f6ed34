/**
 * `parley migrate --from DIR --to postgres://… | NEWDIR` (issue 14): copy
 * everything a party's store holds into another store — a PostgreSQL
 * database, or a new data directory with a SQLite file — and verify the
 * copy before saying it is done: every entry byte-equal, every checkpoint,
 * every received and mirrored entry, every row of the rest, and the tree
 * recomputed from the copied entries against every checkpoint's root
 * (store copy.ts).
 *
 * Holds DIR's lock for the whole run (a running `parley serve` refuses it:
 * stop the node first), refuses a target that holds anything, and writes
 * DIR/config.json only with --switch, after the verification passed.
 */
import { copyFileSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { EXIT_INVALID, EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { type Config, dataDir, isPgSpec, makeDataDir, paths, readConfig, storeLabel, storeSpec, writeConfig } from '../datadir.js';
import { lockDir } from '../lock.js';
import { progressBar } from '../progress.js';
import { checkStoreUrl } from './init.js';
import { holdSequencerLock } from '../pg-lock.js';

interface MigrateOpts {
  from?: string;
  to: string;
  switch?: boolean;
  json?: boolean;
}

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description("copy a party's store to PostgreSQL (or to a new SQLite data directory) and verify the copy: every entry, every checkpoint, the tree, every row of the rest")
    .requiredOption('--from <dir>', 'the data directory to copy (its node stopped)')
    .requiredOption('--to <target>', 'a postgres://USER@HOST:PORT/DB URL of an empty database, or a new data directory (SQLite)')
    .option('--switch', 'once the copy is verified, point DIR/config.json at the PostgreSQL database (the next parley serve uses it)')
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
The node must be stopped (the data directory's lock is held for the whole run).
The target must be empty: an empty PostgreSQL database (createdb), or a
directory that does not exist yet — it becomes a complete data directory
(keys, party, accord and configuration copied, the store as DIR/parley.sqlite).
Nothing of the source is changed, except config.json with --switch after the
copy verified. The password of the database comes from PGPASSWORD or ~/.pgpass.

Exit status: 0 copied and verified, 1 the copy does not verify (the first
difference is printed), 2 unusable arguments, a target that is not empty or
a running node, 4 a store cannot be opened or written.

Example:
  $ createdb -h db.example parley_us
  $ parley migrate --from us --to postgres://parley@db.example:5432/parley_us --switch
  $ parley serve --data us`,
    )
    .action(act(migrate));
}

/** The data directory's files besides the store, copied as they are to a new directory target. */
const DIR_FILES = ['keys.enc', 'party.json', 'log.key.next', 'witness.key'];

async function migrate(o: MigrateOpts): Promise<number> {
  const dir = dataDir(o.from);
  const config = readConfig(dir);
  const fromSpec = storeSpec(dir, config);
  const toPg = isPgSpec(o.to);
  let toDir: string | undefined;
  let toSpec: string;
  if (toPg) {
    checkStoreUrl(o.to, '--to');
    toSpec = o.to;
    if (toSpec === fromSpec) throw new UsageError(`--to is the store of ${dir} itself`);
  } else {
    if (o.switch) throw new UsageError('--switch is for a PostgreSQL target: a new data directory is complete by itself (parley serve --data NEWDIR)');
    toDir = resolve(o.to);
    if (toDir === resolve(dir)) throw new UsageError('--to is the data directory being copied');
    if (existsSync(toDir) && !statSync(toDir).isDirectory()) throw new UsageError(`--to ${toDir} is a file: give a new directory, or a postgres:// URL`, 'MIGRATE_TARGET_NOT_EMPTY');
    if (existsSync(toDir) && readdirSync(toDir).length > 0) throw new UsageError(`${toDir} is not empty: give a new directory`, 'MIGRATE_TARGET_NOT_EMPTY');
    toSpec = paths(toDir).store;
  }
  const lock = lockDir(dir, 'parley migrate');
  const madeDir = toDir !== undefined && !existsSync(toDir);
  let ok = false;
  try {
    const [{ openStore, copyStore, verifyCopy, isDumpable, isEmpty }] = await Promise.all([import('@parley/store')]);
    const out = makeOut(o.json === true);
    const source = await openStore(fromSpec, {});
    // A PostgreSQL source may be shared by serve processes of other data directories: none may write while it is copied.
    let releaseSource = async () => {};
    try {
      releaseSource = await holdSequencerLock(source, config.origin, 'migrate');
      if (toDir !== undefined) makeDataDir(toDir);
      const target = await openStore(toSpec, {});
      try {
        if (!isDumpable(source) || !isDumpable(target)) throw new Error('internal: store without dumpTables');
        const now = Math.floor(Date.now() / 1000);
        if (!(await isEmpty(target, now))) {
          throw new UsageError(`the target ${storeLabel(toSpec)} already holds data: give an empty database (createdb NAME) or a new directory`, 'MIGRATE_TARGET_NOT_EMPTY');
        }
        const bar = await progressBar(o.json === true, 'records');
        let phase = '';
        const progress = (p: 'copy' | 'verify', done: number, total: number) => {
          if (p !== phase) {
            phase = p;
            bar.start(total, p === 'copy' ? `copying to ${storeLabel(toSpec)}` : 'verifying the copy');
          }
          bar.update(done);
        };
        const t0 = Date.now();
        await copyStore(source, target, { now, progress });
        const v = await verifyCopy(source, target, { now, progress });
        bar.stop();
        const seconds = (Date.now() - t0) / 1000;
        const data = { from: storeLabel(fromSpec), to: storeLabel(toSpec), treeSize: v.treeSize, checkpoints: v.checkpoints, counts: v.counts, seconds, verified: v.mismatch === undefined };
        if (v.mismatch !== undefined) {
          out.failure({ ...data, code: 'MIGRATE_VERIFY_FAILED', mismatch: v.mismatch }, `the copy does not verify: ${v.mismatch.kind}: ${v.mismatch.detail} — the target is not usable; drop it and run parley migrate again`);
          return EXIT_INVALID;
        }
        ok = true;
        if (toDir !== undefined) {
          // The rest of the data directory, config.json last (a directory with config.json is complete).
          for (const f of [...DIR_FILES, config.accord]) {
            const src = join(dir, f);
            if (existsSync(src)) copyFileSync(src, join(toDir, f));
          }
          const { store: _drop, ...rest } = config;
          void _drop;
          writeConfig(toDir, rest as Config);
        }
        let switched = false;
        if (toPg && o.switch) {
          writeConfig(dir, { ...config, store: toSpec });
          switched = true;
        }
        const c = v.counts;
        out.result({ ...data, switched }, [
          `copied ${storeLabel(fromSpec)} to ${storeLabel(toSpec)} and verified it in ${seconds.toFixed(1)} s:`,
          `  own log: ${v.treeSize} entries, ${v.checkpoints} checkpoints (tree recomputed, every root matches)`,
          `  received ${c.received}, mirrored ${c.mirror}, officers ${c.officer}, sessions ${c.session}, settings ${c.setting}, witness states ${c.witness}, witness history ${c.witnessCosignature},`,
          `  fork proofs ${c.forkProof}, kept checkpoints ${c.unverified}, cursors ${c.cursor}, cosignatures ${c.ownCosigned}, cosigned times ${c.cosignedTime},`,
          `  time stamps ${c.timestamp}, escalations ${c.escalation}, live nonces ${c.nonce},`,
          `  accord chain ${c.accordChain}, departed logs ${c.departed}, accord fork proofs ${c.accordFork}, evaluation notes ${c.evaluationNote}, idempotency keys ${c.idempotency}`,
          switched
            ? `${paths(dir).config} now names the database: start the node with parley serve --data ${dir}`
            : toDir !== undefined
              ? `${toDir} is a complete data directory: parley serve --data ${toDir}`
              : `Next: parley migrate … --switch, or set "store" in ${paths(dir).config}, or run parley serve --data ${dir} --store URL`,
        ]);
        return EXIT_OK;
      } finally {
        await target.close();
      }
    } finally {
      await releaseSource();
      await source.close();
    }
  } finally {
    if (!ok && madeDir && toDir !== undefined) rmSync(toDir, { recursive: true, force: true });
    lock.release();
  }
}
