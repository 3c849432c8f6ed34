/**
 * `parley accord init | sign | verify | install`: founding a channel.
 *
 *   init     every party's public material → an unsigned draft (accord.json)
 *   sign     each party adds its signature with its log key (passphrase)
 *   verify   anyone: channel id, parties, signatures, deadlines; 0 when complete
 *   install  each party copies the complete accord into its data directory
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type SignedAccord, type VerifiedAccord, formatSignedAccord, isParleyError, parseVerifierKey, signAccord, verifyAccord } from '@parley/core/node';
import { EXIT_INVALID, EXIT_OK, UsageError, act } from '../exit.js';
import { type Out, makeOut } from '../io.js';
import { DATA_FLAGS, DATA_HELP, dataDir, paths, readAccordFile, readConfig, readPartyFile, writeFileAtomic } from '../datadir.js';
import { migrationProgress } from '../progress.js';
import { unlockKeys } from '../secrets.js';
import { openStore } from '../officers.js';
import { lockDir } from '../lock.js';
import { registerAccordInit } from './accord-init.js';

/** What `verify` prints, as data. */
export function describeAccord(v: VerifiedAccord) {
  const a = v.accord;
  const missing = a.parties.map((p) => p.id).filter((id) => !v.signedBy.includes(id));
  return {
    valid: true,
    complete: v.complete,
    id: v.id,
    name: a.name,
    title: a.title,
    created: a.created,
    parties: a.parties.map((p) => ({ ...p, origin: parseVerifierKey(p.logKey).name, signed: v.signedBy.includes(p.id) })),
    signedBy: v.signedBy,
    missing,
    taxonomy: a.taxonomy,
    deadlines: a.deadlines,
    heartbeatSeconds: a.heartbeatSeconds,
    redLines: a.redLines,
    amendmentQuorum: a.amendmentQuorum,
  };
}

function humanAccord(d: ReturnType<typeof describeAccord>): string[] {
  const ack = Object.entries(d.deadlines.ackSeconds).map(([p, s]) => `${p} ${s}s`).join(', ');
  return [
    `channel:    ${d.id}`,
    `name:       ${d.name} — ${d.title.en} / ${d.title['zh-CN']}`,
    `taxonomy:   ${d.taxonomy.id} v${d.taxonomy.version}`,
    'parties:',
    ...d.parties.map((p) => `  ${p.signed ? '✓' : '✗'} ${p.id.padEnd(8)} ${p.names.en} / ${p.names['zh-CN']} — origin ${p.origin}, ${p.urls.join(' ')}`),
    `deadlines:  receipt ${d.deadlines.receiptSeconds}s; acknowledgement ${ack}`,
    `heartbeat:  every ${d.heartbeatSeconds}s`,
    `red lines:  ${d.redLines.map((r) => `${r.category}≥${r.minSeverity}`).join(', ') || 'none'}`,
    `amendments: ${d.amendmentQuorum} of ${d.parties.length} parties`,
    d.complete ? `signed by every party (${d.signedBy.join(', ')}): complete` : `NOT COMPLETE — missing signatures: ${d.missing.join(', ')}`,
  ];
}

/** Verifies a file's accord without requiring every signature; a failure is printed and returned as undefined. */
function check(file: string, out: Out): VerifiedAccord | undefined {
  const signed = readAccordFileOr(file, out);
  if (!signed) return undefined;
  try {
    return verifyAccord(signed, { requireAll: false });
  } catch (e) {
    if (!isParleyError(e)) throw e;
    out.failure({ valid: false, code: e.code, error: e.message }, `accord not valid: ${e.message} (${e.code})`);
    return undefined;
  }
}

function readAccordFileOr(file: string, out: Out): SignedAccord | undefined {
  try {
    return readAccordFile(file);
  } catch (e) {
    if (!isParleyError(e)) throw e;
    out.failure({ valid: false, code: e.code, error: e.message }, `${file} is not a signed accord: ${e.message} (${e.code})`);
    return undefined;
  }
}

function registerSign(accord: Command): void {
  accord
    .command('sign')
    .description("add this party's signature (its log key, from keys.enc) to an accord file and write it back")
    .argument('[file]', 'accord file', 'accord.json')
    .option(DATA_FLAGS, DATA_HELP)
    .option('--passphrase-file <file>', 'file holding the key passphrase (else $PARLEY_PASSPHRASE, else prompted)')
    .option('--json', 'print the accord summary as JSON')
    .action(
      act(async (file: string, o: { data?: string; passphraseFile?: string; json?: boolean }) => {
        const out = makeOut(o.json === true);
        const dir = dataDir(o.data);
        const config = readConfig(dir);
        const v = check(file, out);
        if (!v) return EXIT_INVALID;
        const me = v.party(config.party);
        if (!me) throw new UsageError(`${config.party} is not a party of the accord in ${file}`);
        if (me.party.logKey !== readPartyFile(dir).logKey) throw new UsageError(`the accord names another log key for ${config.party} than the one in ${dir}`);
        const secrets = await unlockKeys(dir, o.passphraseFile);
        const signed = signAccord(readAccordFile(file), config.party, secrets.log);
        writeFileAtomic(resolve(file), formatSignedAccord(signed), 0o644);
        const d = describeAccord(verifyAccord(signed, { requireAll: false }));
        out.result(d, [`${config.party} signed ${file}`, ...humanAccord(d)]);
        return EXIT_OK;
      }),
    );
}

function registerVerify(accord: Command): void {
  accord
    .command('verify')
    .description('check an accord file: shape, every signature; print the channel id, parties, signers and deadlines')
    .argument('<file>', 'accord file')
    .option('--json', 'print the summary as JSON')
    .addHelpText('after', '\nExit status: 0 valid and signed by every party, 1 invalid or not yet signed by all, 2 unusable arguments.')
    .action(
      act((file: string, o: { json?: boolean }) => {
        const out = makeOut(o.json === true);
        const v = check(file, out);
        if (!v) return EXIT_INVALID;
        const d = describeAccord(v);
        out.result(d, humanAccord(d));
        return d.complete ? EXIT_OK : EXIT_INVALID;
      }),
    );
}

function registerInstall(accord: Command): void {
  accord
    .command('install')
    .description('copy a verified accord, signed by every party, into the data directory (what `parley serve` runs on)')
    .argument('<file>', 'accord file')
    .option(DATA_FLAGS, DATA_HELP)
    .option('--json', 'print the accord summary as JSON')
    .addHelpText('after', '\nExit status: 0 installed, 1 invalid or not signed by every party, 2 unusable arguments.')
    .action(
      act(async (file: string, o: { data?: string; json?: boolean }) => {
        const out = makeOut(o.json === true);
        const dir = dataDir(o.data);
        const config = readConfig(dir);
        const v = check(file, out);
        if (!v) return EXIT_INVALID;
        const d = describeAccord(v);
        if (!v.complete) {
          out.failure({ ...d, valid: false, code: 'ACCORD_UNSIGNED' }, `not installed: ${file} is not signed by ${d.missing.join(', ')} yet (ACCORD_UNSIGNED)`);
          return EXIT_INVALID;
        }
        const me = v.party(config.party);
        const mine = readPartyFile(dir);
        if (!me || me.party.logKey !== mine.logKey || me.party.hpkeKey !== mine.hpkeKey) {
          throw new UsageError(`the accord does not name ${config.party} with this data directory's keys (${dir}/party.json)`);
        }
        const target = resolve(dir, config.accord);
        const replacing = existsSync(target);
        const onMigrate = await migrationProgress(o.json === true, paths(dir).store);
        const lock = lockDir(dir, 'parley accord install');
        try {
          const store = openStore(dir, { onMigrate });
          try {
            const bound = (await store.getSetting('accord')) as { id?: string } | undefined;
            if (bound?.id !== undefined && bound.id !== v.id) throw new UsageError(`${dir} already holds channel ${bound.id}; a data directory serves one accord — use a new --data`);
          } finally {
            await store.close();
          }
          writeFileAtomic(target, formatSignedAccord(readAccordFile(file)));
        } finally {
          lock.release();
        }
        out.result({ ...d, installed: target }, [`${replacing ? 'Replaced' : 'Installed'} ${target}`, ...humanAccord(d), '', `Start the node: parley serve --data ${dir}`]);
        return EXIT_OK;
      }),
    );
}

export function registerAccord(program: Command): void {
  const accord = program.command('accord').description("found a channel: draft the accord, sign it, verify it, install it");
  registerAccordInit(accord);
  registerSign(accord);
  registerVerify(accord);
  registerInstall(accord);
}
