/**
 * The signing key a command names with `--key FILE`: a Parley key file
 * (keys.enc, log.key.next: scrypt + AES-256-GCM, opened with the passphrase
 * from --passphrase-file, $PARLEY_PASSPHRASE or a prompt) or a file holding a
 * bare `PRIVATE+KEY+…` signer key (parley keygen). Without `--key`, the data
 * directory's keys.enc.
 */
import { readFileSync } from 'node:fs';
import { type SignerKey, parseSignerKey } from '@parley/core/node';
import { UsageError } from './exit.js';
import { dataDir } from './datadir.js';
import { openKeyFile } from './keyfile.js';
import { getSecret, unlockKeys } from './secrets.js';

/**
 * Loads a signer key.
 * @throws UsageError `KEY_FILE_UNREADABLE` for a file that is neither form; `PASSPHRASE_WRONG` / `PASSPHRASE_MISSING`.
 */
export async function loadSigningKey(o: { key?: string | undefined; data?: string | undefined; passphraseFile?: string | undefined }): Promise<SignerKey> {
  if (o.key === undefined) return (await unlockKeys(dataDir(o.data), o.passphraseFile)).log;
  let text: string;
  try {
    text = readFileSync(o.key, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the key file "${o.key}": ${(e as NodeJS.ErrnoException).code ?? e}`, 'KEY_FILE_UNREADABLE');
  }
  const first = text.trim().split(/\r?\n/)[0] ?? '';
  if (first.startsWith('PRIVATE+KEY+')) {
    try {
      return parseSignerKey(first);
    } catch (e) {
      throw new UsageError(`${o.key} holds no valid signer key: ${(e as Error).message}`, 'KEY_FILE_UNREADABLE');
    }
  }
  const pass = await getSecret({ file: o.passphraseFile, env: 'PARLEY_PASSPHRASE', what: 'passphrase', flag: '--passphrase-file' });
  return (await openKeyFile(text, pass, o.key)).log;
}
