/**
 * The keys `parley serve` gives the node (issue 11): keys.enc, the pending
 * next key of a rotation or recovery (log.key.next, written by `parley key
 * rotate | recover`, sealed with the same passphrase), and the HPKE keys of
 * earlier key files (keys.retired-*.enc) so bodies sealed to them still open,
 * and the witness's own key (witness.key) when there is one.
 *
 * Once our log activated the version naming the next key (the store's chain
 * records that activation), the next key IS the key: at start-up log.key.next becomes keys.enc
 * and the old keys.enc is kept as keys.retired-<time>.enc (its HPKE key stays
 * usable for old bodies; its log key signs nothing any more).
 */
import { existsSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { formatVerifierKey, hpkeDeriveKeyPair, verifierKeyOf } from '@parley/core/node';
import type { NodeKeys } from '@parley/node';
import type { LogStore } from '@parley/store';
import { UsageError } from './exit.js';
import { paths } from './datadir.js';
import { type PartySecrets, openKeyFile, openWitnessKeyFile } from './keyfile.js';
import { getSecret } from './secrets.js';

const RETIRED = /^keys\.retired-[0-9TZ-]+\.enc$/;

function readKeyText(file: string, dir: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the key file "${file}": ${(e as NodeJS.ErrnoException).code ?? e} — create a data directory with: parley init --data ${dir}`, 'KEY_FILE_UNREADABLE');
  }
}

/**
 * True when the stored chain (the store's accord chain, GOV.md §4) records this
 * party's activation of a version naming `logKey` for it: the rotation is done
 * in our own log, so that key is now THE key. Unverified: it only picks which
 * of two key files is current (the node verifies the chain and the keys).
 */
async function activated(store: Pick<LogStore, 'accordChain'>, party: string, logKey: string): Promise<boolean> {
  const chain = await store.accordChain();
  const naming = (chain?.versions ?? []).filter((v) => v.accord.parties.some((p) => p.id === party && p.logKey === logKey)).map((v) => v.accord.version);
  return (chain?.activations ?? []).some((a) => a.party === party && naming.includes(a.version));
}

/**
 * Decrypts the node's keys with the passphrase from --passphrase-file,
 * PARLEY_PASSPHRASE or a prompt.
 * @throws UsageError KEY_FILE_UNREADABLE, PASSPHRASE_MISSING, PASSPHRASE_WRONG.
 */
export async function loadNodeKeys(dir: string, passphraseFile: string | undefined, party: string, store: Pick<LogStore, 'accordChain'>): Promise<NodeKeys> {
  const p = paths(dir);
  const text = readKeyText(p.keys, dir);
  const passphrase = await getSecret({ file: passphraseFile, env: 'PARLEY_PASSPHRASE', what: 'passphrase', flag: '--passphrase-file' });
  let current: PartySecrets = await openKeyFile(text, passphrase, p.keys);
  let next: PartySecrets | undefined = existsSync(p.nextKey) ? await openKeyFile(readKeyText(p.nextKey, dir), passphrase, p.nextKey) : undefined;
  if (next !== undefined) {
    if (await activated(store, party, formatVerifierKey(verifierKeyOf(next.log)))) {
      // The rotation is in force: the next key becomes the key; the old file is kept for its HPKE key.
      const retired = join(dir, `keys.retired-${new Date().toISOString().replace(/[:.]/g, '-')}.enc`);
      renameSync(p.keys, retired);
      renameSync(p.nextKey, p.keys);
      current = next;
      next = undefined;
    }
  }
  const retiredHpke = [];
  for (const f of readdirSync(dir).filter((n) => RETIRED.test(n)).sort().reverse()) {
    const s = await openKeyFile(readKeyText(join(dir, f), dir), passphrase, join(dir, f));
    if (Buffer.compare(Buffer.from(s.hpkeSeed), Buffer.from(current.hpkeSeed)) !== 0) retiredHpke.push(hpkeDeriveKeyPair(s.hpkeSeed));
  }
  // The witness's own key (witness.key, same passphrase), when the data directory has one.
  const witness = existsSync(p.witnessKey) ? await openWitnessKeyFile(readKeyText(p.witnessKey, dir), passphrase, p.witnessKey) : undefined;
  const hpke = hpkeDeriveKeyPair(current.hpkeSeed);
  const nextHpke = next !== undefined && Buffer.compare(Buffer.from(next.hpkeSeed), Buffer.from(current.hpkeSeed)) !== 0 ? hpkeDeriveKeyPair(next.hpkeSeed) : undefined;
  return {
    log: current.log,
    hpke,
    ...(witness !== undefined ? { witness } : {}),
    ...(next !== undefined ? { next: { log: next.log, ...(nextHpke ? { hpke: nextHpke } : {}) } } : {}),
    ...(retiredHpke.length > 0 ? { retiredHpke } : {}),
  };
}
