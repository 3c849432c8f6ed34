/** `parley init`: a new party's data directory — keys, configuration, public material, first admin. */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  type AccordParty,
  PARTY_ID,
  formatBase64,
  formatSignedAccord,
  formatVerifierKey,
  generateSignerKey,
  hpkeDeriveKeyPair,
  isValidKeyName,
  verifierKeyOf,
} from '@parley/core/node';
import { EXIT_INVALID, EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { parseIndexArg } from '../hashes.js';
import { DATA_FLAGS, DATA_HELP, dataDir, isPgSpec, makeDataDir, paths, storeLabel, writeConfig, writeFileAtomic } from '../datadir.js';
import { sealKeyFile } from '../keyfile.js';
import { getSecret } from '../secrets.js';
import { addOfficer, checkOfficerName, openStore } from '../officers.js';
import { lockDir } from '../lock.js';
import type { ChainFileJson } from '../governance.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

interface InitOpts {
  party: string;
  origin: string;
  data?: string;
  admin?: string;
  adminPasswordFile?: string;
  passphraseFile?: string;
  nameEn?: string;
  nameZh?: string;
  url?: string[];
  host: string;
  port: string;
  json?: boolean;
  chain?: string;
  store?: string;
}

function checkArgs(o: InitOpts): { port: number } {
  if (!PARTY_ID.test(o.party)) throw new UsageError(`--party "${o.party}" is not a party id: 2–16 of A–Z, 0–9 and "-", starting with a letter (e.g. US)`);
  if (!isValidKeyName(o.origin) || o.origin.startsWith('parley/')) {
    throw new UsageError(`--origin "${o.origin}" is not a log origin: no spaces or "+", not starting with "parley/" (e.g. us.parley.example/log)`);
  }
  if (o.admin !== undefined) checkOfficerName(o.admin, '--admin');
  for (const u of o.url ?? []) if (!/^https?:\/\/[^\s/?#]+(\/[^\s?#]*)?$/.test(u)) throw new UsageError(`--url "${u}" is not an http(s) URL without query or fragment`);
  const port = parseIndexArg(o.port, '--port');
  if (port > 65535) throw new UsageError('--port must be at most 65535');
  if (o.store !== undefined) checkStoreUrl(o.store);
  return { port };
}

/** `--store` (or migrate's `--to`): a postgres:// URL the driver can parse. */
export function checkStoreUrl(url: string, flag = '--store'): void {
  let ok = isPgSpec(url);
  try {
    if (ok) ok = new URL(url).hostname !== '' || new URL(url).searchParams.has('host');
  } catch {
    ok = false;
  }
  if (!ok) throw new UsageError(`${flag} "${storeLabel(url)}" is not a PostgreSQL URL: postgres://USER@HOST:PORT/DATABASE${flag === '--store' ? ' (omit --store for the SQLite file in the data directory)' : ''}`);
  // The URL is kept in config.json and shows in the process list: the password goes where the driver reads it.
  if (new URL(url).password !== '') throw new UsageError(`${flag} "${storeLabel(url)}" carries a password: leave it out of the URL (it would be kept in config.json and show in the process list) and give it in PGPASSWORD or ~/.pgpass`);
}

/**
 * A PostgreSQL database is shared infrastructure: init never takes over one
 * that already holds a party's data (checked before anything is written;
 * opening it creates the tables in an empty one).
 */
async function checkEmptyDatabase(dir: string, url: string): Promise<void> {
  const { isDumpable, isEmpty } = await import('@parley/store');
  const store = await openStore(dir, { spec: url });
  try {
    // The same test as parley migrate's target: any row of any table (log, received, mirror, officers, settings, witness state, …).
    if (!isDumpable(store)) throw new Error('internal: a PostgreSQL store without dumpTables');
    const held = !(await isEmpty(store, Math.floor(Date.now() / 1000)));
    if (held) throw new UsageError(`the database ${storeLabel(url)} already holds a party's data: give an empty database (createdb …), or copy a data directory into it with parley migrate`);
  } finally {
    await store.close();
  }
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description("create a party's data directory: log signing key, HPKE key pair (encrypted at rest), configuration, first admin")
    .requiredOption('--party <id>', 'party id, e.g. US')
    .requiredOption('--origin <origin>', "the log's origin (its key name), e.g. us.parley.example/log")
    .option(DATA_FLAGS, DATA_HELP)
    .option('--admin <name>', 'create this admin officer in the store now (else later: parley officer add)')
    .option('--admin-password-file <file>', "file holding the admin's password on its first line (else prompted)")
    .option('--passphrase-file <file>', 'file holding the key passphrase (else $PARLEY_PASSPHRASE, else prompted)')
    .option('--name-en <name>', "the party's name in English (default: the party id)")
    .option('--name-zh <name>', "the party's name in Simplified Chinese (default: the English name)")
    .option('--url <url>', "the node's public base URL for the accord (repeatable; default: http://HOST:PORT)", collect)
    .option('--host <host>', 'address `parley serve` listens on', '127.0.0.1')
    .option('--port <port>', 'port `parley serve` listens on', '8443')
    .option('--json', "print only the party's public accord material as JSON (a --party-file for parley accord init)")
    .option('--store <url>', 'keep the store in this PostgreSQL database (postgres://USER@HOST:PORT/DB; empty, created beforehand; password from PGPASSWORD or ~/.pgpass) instead of DIR/parley.sqlite')
    .option('--chain <file>', 'join a running channel: walk this accord chain file (parley accord chain --out FILE) and bind the data directory to it')
    .addHelpText(
      'after',
      `
Writes DIR/keys.enc (scrypt + AES-256-GCM), DIR/config.json, DIR/party.json and DIR/parley.sqlite
(or, with --store postgres://…, the tables in that empty PostgreSQL database; config.json keeps the URL).
Give DIR/party.json (or the --json output) to whoever runs \`parley accord init\`.

With --chain FILE (a party joining a running channel, or one whose keys were lost and are being recovered):
the chain is walked in full first (as parley accord verify; nothing is written when it fails, exit 1); its
version 1 becomes DIR/accord.json and its later versions and activations go to the store. Give DIR/party.json
to the parties, consent to the amendment that adds you (parley accord consent), and once it is in force start
\`parley serve\`: the node fetches the newer chain from the channel's nodes, verifies it from this version 1,
and starts when it names this party with this key.

Example:
  $ PARLEY_PASSPHRASE=… parley init --party US --origin us.parley.example/log --data us --admin alice --admin-password-file pw.txt
  $ createdb -h db.example parley_us && parley init --party US --origin us.parley.example/log --data us --store postgres://parley@db.example:5432/parley_us`,
    )
    .action(act(init));
}

async function init(o: InitOpts): Promise<number> {
  const { port } = checkArgs(o);
  // A chain to join is walked before anything is written: a bad one leaves no half-made directory.
  const chain = o.chain === undefined ? undefined : await walkedChain(o.chain, o.json === true);
  if (chain === 'invalid') return EXIT_INVALID;
  const dir = dataDir(o.data);
  const p = paths(dir);
  if (existsSync(p.keys) || existsSync(p.config)) throw new UsageError(`${dir} is already a data directory (it has keys.enc or config.json); choose another --data`);
  const passphrase = await getSecret({ file: o.passphraseFile, env: 'PARLEY_PASSPHRASE', what: 'passphrase', flag: '--passphrase-file', create: true });
  const adminPassword =
    o.admin === undefined ? undefined : await getSecret({ file: o.adminPasswordFile, what: `password for ${o.admin}`, flag: '--admin-password-file', create: true });

  const log = generateSignerKey(o.origin);
  const hpkeSeed = new Uint8Array(randomBytes(32));
  const hpke = hpkeDeriveKeyPair(hpkeSeed);
  const nameEn = o.nameEn ?? o.party;
  const party: AccordParty = {
    id: o.party,
    names: { en: nameEn, 'zh-CN': o.nameZh ?? nameEn },
    urls: o.url ?? [`http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`],
    logKey: formatVerifierKey(verifierKeyOf(log)),
    hpkeKey: formatBase64(hpke.publicKey),
  };
  if (o.store !== undefined) await checkEmptyDatabase(dir, o.store);
  makeDataDir(dir);
  const lock = lockDir(dir, 'parley init');
  try {
    // Checked again under the lock: another init may have raced us here.
    if (existsSync(p.keys) || existsSync(p.config)) throw new UsageError(`${dir} is already a data directory (it has keys.enc or config.json); choose another --data`);
    // keys first, config last: a directory with config.json is a complete one.
    writeFileAtomic(p.keys, await sealKeyFile({ log, hpkeSeed }, passphrase));
    writeFileAtomic(p.party, `${JSON.stringify(party, null, 2)}\n`, 0o644);
    const store = await openStore(dir, o.store !== undefined ? { spec: o.store } : {});
    try {
      if (chain !== undefined) {
        // As `parley accord install CHAINFILE`: version 1 (the channel id) as accord.json, the rest in the store.
        writeFileAtomic(join(dir, 'accord.json'), formatSignedAccord(chain.json.versions[0]!));
        await store.putAccordChain({ channel: chain.channel, versions: chain.json.versions.slice(1), activations: chain.json.activations });
      }
    } finally {
      await store.close();
    }
    if (o.admin !== undefined) await addOfficer(dir, { name: o.admin, role: 'admin', password: adminPassword!, ...(o.store !== undefined ? { spec: o.store } : {}) });
    writeConfig(dir, { party: o.party, origin: o.origin, listen: { host: o.host, port }, accord: 'accord.json', ...(o.store !== undefined ? { store: o.store } : {}) });
  } finally {
    lock.release();
  }

  makeOut(o.json === true).result({ ...party, ...(chain !== undefined ? { channel: chain.channel, chainVersion: chain.version } : {}) }, [
    `Initialised ${o.party} in ${dir}`,
    `  origin:    ${o.origin}`,
    `  log key:   ${party.logKey}`,
    `  HPKE key:  ${party.hpkeKey}`,
    `  urls:      ${party.urls.join(', ')}`,
    `  store:     ${storeLabel(o.store ?? p.store)}`,
    o.admin !== undefined ? `  admin:     ${o.admin}` : `  no officer yet: parley officer add NAME --role admin --data ${dir}`,
    '',
    `Public material for the accord: ${p.party}`,
    ...(chain === undefined
      ? ['Next: collect every party\'s party.json, then: parley accord init --name NAME --party-file us.json --party-file cn.json']
      : [
          `Bound to channel ${chain.channel} (chain verified up to version ${chain.version}).`,
          `Next: give ${p.party} to the parties; consent to the amendment that adds you (parley accord consent PROPOSAL --data ${dir}); once it is in force: parley serve --data ${dir}`,
        ]),
  ]);
  return EXIT_OK;
}

/** The chain file of `--chain`, walked in full (accord-gov.ts walkChain); 'invalid' after reporting a walk that fails. */
async function walkedChain(file: string, json: boolean): Promise<{ json: ChainFileJson; channel: string; version: number } | 'invalid'> {
  const { loadChain, reportWalk, walkChain } = await import('./accord-gov.js');
  const { json: chainJson } = await loadChain({ file });
  const walk = walkChain(chainJson);
  if (!walk.ok) {
    reportWalk(makeOut(json), walk, file);
    return 'invalid';
  }
  return { json: chainJson, channel: walk.chain.channel, version: walk.chain.current.version };
}
