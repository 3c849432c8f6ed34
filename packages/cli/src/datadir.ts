/**
 * The node's data directory — one per party, default `./parley-data`,
 * chosen by `--data DIR` or the PARLEY_DATA environment variable:
 *
 *     config.json     {"party", "origin", "listen": {"host", "port"}, "accord": "accord.json"[, "mirrorDir"]
 *                     [, "peerMirrors": {PARTY: URL}][, "preferMirror": [PARTY]]}  0600
 *     party.json      the party's public accord material {id, names, urls, logKey, hpkeKey}  0644
 *     keys.enc        the party's secrets, encrypted with a passphrase (see keyfile.ts)      0600
 *     log.key.next    the next log key (parley key rotate | recover), keys.enc's format     0600
 *     witness.key     optional: the witness's own cosigning key, encrypted likewise          0600
 *     accord.json     the signed accord the node runs on (`parley accord install`)           0600
 *     parley.sqlite   the store: own log, received entries, officers, sessions
 *                     (unless config.json's "store" names a postgres:// URL: issue 14)
 *     session.json    the bearer token saved by `parley login`                               0600
 *
 * Every file is written atomically (temporary file in the same directory,
 * fsync, rename), so a crash leaves the old file or the new one, never half.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join, resolve } from 'node:path';
import { type AccordParty, type SignedAccord, parseSignedAccord } from '@parley/core/node';
import { UsageError } from './exit.js';

export const DEFAULT_DATA = './parley-data';

/** `--data DIR` as commander option arguments (every node command has it). */
export const DATA_FLAGS = '--data <dir>';
export const DATA_HELP = `data directory (default: $PARLEY_DATA or ${DEFAULT_DATA})`;

export interface Config {
  readonly party: string;
  readonly origin: string;
  readonly listen: { readonly host: string; readonly port: number };
  /** File name of the signed accord, relative to the data directory. */
  readonly accord: string;
  /**
   * Where the store is (issue 14): a postgres:// URL (`parley init --store`),
   * or absent for the SQLite file DIR/parley.sqlite. Keep passwords out of
   * it: PGPASSWORD or ~/.pgpass are read by the driver.
   */
  readonly store?: string;
  /** Issue 14: publish the log as a static C2SP tlog-tiles mirror here (`parley serve --mirror-dir`); relative to the data directory. */
  readonly mirrorDir?: string;
  /** Issue 14: peers' static mirrors by party (`parley serve --peer-mirror`): the pull reads one when the peer's node fails. */
  readonly peerMirrors?: Readonly<Record<string, string>>;
  /** Parties whose mirror is read first, their node only when it fails (`parley serve --prefer-mirror`). */
  readonly preferMirror?: readonly string[];
}

/** Resolves the data directory: flag, then PARLEY_DATA, then the default. */
export function dataDir(flag: string | undefined): string {
  return resolve(flag ?? process.env['PARLEY_DATA'] ?? DEFAULT_DATA);
}

export const paths = (dir: string) => ({
  dir,
  config: join(dir, 'config.json'),
  party: join(dir, 'party.json'),
  keys: join(dir, 'keys.enc'),
  /** The next log key of a planned rotation or a recovery (`parley key rotate | recover`), encrypted like keys.enc; the node takes it at activation. */
  nextKey: join(dir, 'log.key.next'),
  /** The witness's own cosigning key (optional, issue 11; keyfile.ts). */
  witnessKey: join(dir, 'witness.key'),
  store: join(dir, 'parley.sqlite'),
  session: join(dir, 'session.json'),
});

/**
 * Writes `data` to `file` atomically with `mode`: temporary file beside it,
 * fsync, rename over the target (POSIX rename is atomic within a directory).
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o600): void {
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fd = openSync(tmp, 'wx', mode);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new UsageError(`cannot write "${file}": ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 'FILE_UNWRITABLE');
  }
}

/** Creates the data directory (mode 0700) if it does not exist. */
export function makeDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    throw new UsageError(`cannot create the data directory "${dir}": ${(e as NodeJS.ErrnoException).code ?? e}`, 'FILE_UNWRITABLE');
  }
}

/** Reads and parses a JSON file; a missing or malformed file is a usage error naming `what`. */
export function readJsonFile(file: string, what: string, hint = '', missing = 'FILE_UNREADABLE'): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${what} "${file}": ${code ?? e}${code === 'ENOENT' && hint ? ` — ${hint}` : ''}`, code === 'ENOENT' ? missing : 'FILE_UNREADABLE');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${what} "${file}" is not valid JSON`, 'FILE_UNREADABLE');
  }
}

/** The data directory's config.json, checked. */
export function readConfig(dir: string): Config {
  const v = readJsonFile(paths(dir).config, 'node configuration', `is "${dir}" a data directory? create one with: parley init --data ${dir}`, 'DATA_DIR_MISSING') as Partial<Config>;
  const ok =
    typeof v === 'object' && v !== null &&
    typeof v.party === 'string' && typeof v.origin === 'string' && typeof v.accord === 'string' &&
    typeof v.listen?.host === 'string' && Number.isInteger(v.listen?.port) &&
    (v.store === undefined || (typeof v.store === 'string' && /^postgres(ql)?:\/\//i.test(v.store))) &&
    (v.mirrorDir === undefined || typeof v.mirrorDir === 'string') &&
    (v.peerMirrors === undefined || (typeof v.peerMirrors === 'object' && v.peerMirrors !== null && !Array.isArray(v.peerMirrors) && Object.values(v.peerMirrors).every((u) => typeof u === 'string' && /^https?:\/\/\S+$/.test(u)))) &&
    (v.preferMirror === undefined || (Array.isArray(v.preferMirror) && v.preferMirror.every((p) => typeof p === 'string')));
  if (!ok) throw new UsageError(`${paths(dir).config} is not a Parley node configuration (party, origin, listen, accord, and optionally store: a postgres:// URL, mirrorDir, peerMirrors: {PARTY: http(s) URL}, preferMirror: [PARTY])`, 'FILE_UNREADABLE');
  return v as Config;
}

/**
 * The store spec of a data directory: config.json's "store" (a postgres://
 * URL), else the SQLite file DIR/parley.sqlite. Before config.json exists
 * (during init) the SQLite file.
 */
export function storeSpec(dir: string, c?: Config): string {
  const config = c ?? (existsSync(paths(dir).config) ? readConfig(dir) : undefined);
  return config?.store ?? paths(dir).store;
}

/** A store spec fit for messages: a URL without its password. */
export function storeLabel(spec: string): string {
  if (!/^postgres(ql)?:\/\//i.test(spec)) return spec;
  try {
    const u = new URL(spec);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return 'postgres://(unparsable URL)';
  }
}

/** Whether a store spec is a PostgreSQL URL. */
export function isPgSpec(spec: string): boolean {
  return /^postgres(ql)?:\/\//i.test(spec);
}

export function writeConfig(dir: string, c: Config): void {
  writeFileAtomic(paths(dir).config, `${JSON.stringify(c, null, 2)}\n`);
}

/** The party's own public accord material, as `parley init` wrote it. */
export function readPartyFile(dir: string): AccordParty {
  return readJsonFile(paths(dir).party, 'public party material') as AccordParty;
}

/** The installed accord file of a data directory (signatures not yet checked). */
export function readInstalledAccord(dir: string, c: Config): SignedAccord {
  const file = resolve(dir, c.accord);
  if (!existsSync(file)) {
    throw new UsageError(`no accord installed in ${dir}: sign one with the other parties, then run: parley accord install accord.json --data ${dir}`);
  }
  return readAccordFile(file);
}

/** Reads a signed accord file; a file that does not parse as one is a usage error. */
export function readAccordFile(file: string): SignedAccord {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new UsageError(`cannot read accord file "${file}": ${(e as NodeJS.ErrnoException).code ?? e}`, 'FILE_UNREADABLE');
  }
  return parseSignedAccord(new Uint8Array(bytes));
}
