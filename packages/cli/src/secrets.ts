/**
 * Passphrases and passwords: from a file, an environment variable or an
 * interactive prompt — never from a command-line flag, which other users
 * of the machine can read in the process list and shells keep in history.
 */
import { existsSync, readFileSync } from 'node:fs';
import { UsageError } from './exit.js';
import { type PartySecrets, openKeyFile, openWitnessKeyFile } from './keyfile.js';
import { paths } from './datadir.js';

/** Reads a secret from a file: its first line, without the line ending. */
export function readSecretFile(file: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read ${what} file "${file}": ${(e as NodeJS.ErrnoException).code ?? e}`, 'FILE_UNREADABLE');
  }
  const line = text.split(/\r?\n/)[0] ?? '';
  if (line === '') throw new UsageError(`${what} file "${file}" is empty`, 'FILE_UNREADABLE');
  return line;
}

/** True when a person is at the terminal to answer prompts. */
export const interactive = (): boolean => process.stdin.isTTY === true && process.stderr.isTTY === true;

async function prompt(message: string): Promise<string> {
  const { isCancel, password } = await import('@clack/prompts'); // only with a person at the terminal
  const v = await password({ message, output: process.stderr });
  if (isCancel(v)) throw new UsageError('cancelled', 'CANCELLED');
  return v;
}

export interface SecretSource {
  /** File holding the secret on its first line. */
  readonly file?: string | undefined;
  /** Environment variable to read it from. */
  readonly env?: string;
  /** What it is, for prompts and messages ("passphrase", "password for alice"). */
  readonly what: string;
  /** The flag that names the file, for the error message. */
  readonly flag: string;
  /** Ask twice and require a minimum length (choosing a new secret). */
  readonly create?: boolean;
}

/**
 * Gets a secret from `--…-file`, then the environment variable, then a
 * prompt on the terminal.
 * @throws UsageError when none is available or a new one is too short.
 */
export async function getSecret(s: SecretSource): Promise<string> {
  let v: string | undefined;
  if (s.file !== undefined) v = readSecretFile(s.file, s.what);
  else if (s.env !== undefined && process.env[s.env]) v = process.env[s.env];
  else if (interactive()) {
    v = await prompt(s.create ? `Choose a ${s.what}` : `${s.what[0]!.toUpperCase()}${s.what.slice(1)}`);
    if (s.create && (await prompt(`Repeat the ${s.what}`)) !== v) throw new UsageError(`the two ${s.what}s differ`);
  } else {
    throw new UsageError(`no ${s.what}: pass ${s.flag} FILE${s.env !== undefined ? ` or set ${s.env}` : ''} (no terminal to ask on)`, 'PASSPHRASE_MISSING');
  }
  if (s.create) {
    const { MIN_PASSWORD } = await import('@parley/node'); // the node's rule; that package is slow to load, so only when choosing a secret
    if (v!.length < MIN_PASSWORD) throw new UsageError(`the ${s.what} must have at least ${MIN_PASSWORD} characters`);
  }
  return v!;
}

/** Decrypts the data directory's keys.enc with the passphrase from `--passphrase-file`, PARLEY_PASSPHRASE or a prompt. */
export async function unlockKeys(dir: string, passphraseFile: string | undefined): Promise<PartySecrets> {
  const file = paths(dir).keys;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the key file "${file}": ${(e as NodeJS.ErrnoException).code ?? e} — create a data directory with: parley init --data ${dir}`, 'KEY_FILE_UNREADABLE');
  }
  const pass = await getSecret({ file: passphraseFile, env: 'PARLEY_PASSPHRASE', what: 'passphrase', flag: '--passphrase-file' });
  const secrets = await openKeyFile(text, pass, file);
  // issue 11: the witness's own key, when the data directory has one (same passphrase).
  const wfile = paths(dir).witnessKey;
  if (!existsSync(wfile)) return secrets;
  return { ...secrets, witness: await openWitnessKeyFile(readFileSync(wfile, 'utf8'), pass, wfile) };
}
