/**
 * `parley accord init | sign | verify | install`: founding a channel.
 *
 *   init     every party's public material → an unsigned draft (accord.json)
 *   sign     each party adds its signature with its log key (passphrase)
 *   verify   anyone: channel id, parties, signatures, deadlines; 0 when complete
 *   install  each party copies the complete accord into its data directory
 *
 * Governance (issue 11: propose, approve, status, history, chain, consent) is
 * accord-gov.ts; `verify` also walks a chain file.
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { type SignedAccord, type VerifiedAccord, formatSignedAccord, isParleyError, parseVerifierKey, signAccord, verifyAccord } from '@parley/core/node';
import { EXIT_INVALID, EXIT_OK, UsageError, act } from '../exit.js';
import { type Out, makeOut } from '../io.js';
import { type Config, DATA_FLAGS, DATA_HELP, dataDir, readAccordFile, readConfig, readPartyFile, storeLabel, storeSpec, writeFileAtomic } from '../datadir.js';
import { migrationProgress } from '../progress.js';
import { unlockKeys } from '../secrets.js';
import { openStore } from '../officers.js';
import { lockDir } from '../lock.js';
import { registerAccordInit } from './accord-init.js';
import { loadChain, registerAccordGov, reportWalk, walkChain } from './accord-gov.js';
import { isChainFile } from '../governance.js';

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
    .description("check an accord file (shape, every signature; the channel id, parties, signers, deadlines) or a chain file, offline: every version against the one before it, and every activation")
    .argument('[file]', 'a signed accord file, or a chain file (parley accord chain --out FILE)')
    .option('--node <url>', "walk the chain a node serves (GET URL/v1/accord/chain) instead of a file")
    .option('--trusted <digest>', 'the digest of a version you already trust: the chain must contain it (refuses a chain rolled back or forked away from it)')
    .option('--json', 'print the summary as JSON')
    .addHelpText(
      'after',
      `
A chain is walked as a verifier must: version 1 signed by every party, then
each version N+1 approved by the quorum version N
names and consented to by every party or key it adds, with no version skipped,
repeated or forked, then every activation entry. With --trusted the chain must
also contain that version. Each check is printed.

Exit status: 0 valid (an accord: signed by every party), 1 a check failed (its
typed code with --json), 2 unusable input (unreadable, not JSON, not an accord
or chain file).`,
    )
    .action(
      act(async (file: string | undefined, o: { node?: string; trusted?: string; json?: boolean }) => {
        const out = makeOut(o.json === true);
        if (o.trusted !== undefined && !/^[0-9a-f]{64}$/.test(o.trusted)) throw new UsageError(`--trusted "${o.trusted}" is not a version digest (64 lower-case hex digits; see parley accord history)`);
        const chainFile = o.node !== undefined || (file !== undefined && looksLikeChain(file));
        if (chainFile) {
          const { json, where } = await loadChain({ file, node: o.node });
          return reportWalk(out, walkChain(json, o.trusted), where);
        }
        if (file === undefined) throw new UsageError('which accord? give an accord or chain file, or --node URL');
        if (o.trusted !== undefined) throw new UsageError('--trusted applies to a chain file; this is a single accord');
        const v = check(file, out);
        if (!v) return EXIT_INVALID;
        const d = describeAccord(v);
        out.result(d, humanAccord(d));
        return d.complete ? EXIT_OK : EXIT_INVALID;
      }),
    );
}

/** True when the file parses as JSON with a `versions` list (a chain file); anything else is read as an accord. */
function looksLikeChain(file: string): boolean {
  try {
    return isChainFile(JSON.parse(readFileSync(file === '-' ? 0 : file, 'utf8')));
  } catch {
    return false;
  }
}

function registerInstall(accord: Command): void {
  accord
    .command('install')
    .description('copy a verified accord, signed by every party, into the data directory (what `parley serve` runs on)')
    .argument('<file>', 'accord file, or a chain file (a party that joins a running channel: parley accord chain --out FILE)')
    .option(DATA_FLAGS, DATA_HELP)
    .option('--json', 'print the accord summary as JSON')
    .addHelpText('after', '\nA chain file is walked in full (parley accord verify) and must name this party in its current version: its founding accord becomes DIR/accord.json, the later versions and activations go to the store.\n\nExit status: 0 installed, 1 invalid or not signed by every party, 2 unusable arguments.')
    .action(
      act(async (file: string, o: { data?: string; json?: boolean }) => {
        const out = makeOut(o.json === true);
        const dir = dataDir(o.data);
        const config = readConfig(dir);
        if (looksLikeChain(file)) return installChain(file, dir, config, out, o.json === true);
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
        const onMigrate = await migrationProgress(o.json === true, storeLabel(storeSpec(dir)));
        const lock = lockDir(dir, 'parley accord install');
        try {
          const store = await openStore(dir, { onMigrate });
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

/**
 * Installs a chain file: version 1 as DIR/accord.json (the channel's genesis,
 * byte for byte), versions ≥ 2 and the activations as the store's accord
 * chain (GOV.md §4) — what a joining party's node starts from. A store that
 * holds a longer chain, or other activations, keeps it (the chain only grows).
 */
async function installChain(file: string, dir: string, config: Config, out: Out, json: boolean): Promise<number> {
  const { json: chainJson } = await loadChain({ file });
  const walk = walkChain(chainJson);
  if (!walk.ok) return reportWalk(out, walk, file);
  const { chain } = walk;
  const cur = chain.current;
  const me = cur.party(config.party);
  const mine = readPartyFile(dir);
  if (!me || me.party.logKey !== mine.logKey) {
    throw new UsageError(`version ${cur.version} of the chain does not name ${config.party} with this data directory's log key (${dir}/party.json): a joining party installs the chain once the amendment that adds it is in force`);
  }
  const genesis = chainJson.versions[0]!;
  const target = resolve(dir, config.accord);
  const onMigrate = await migrationProgress(json, storeLabel(storeSpec(dir)));
  const lock = lockDir(dir, 'parley accord install');
  try {
    const store = await openStore(dir, { onMigrate });
    try {
      const bound = (await store.getSetting('accord')) as { id?: string } | undefined;
      if (bound?.id !== undefined && bound.id !== chain.channel) throw new UsageError(`${dir} already holds channel ${bound.id}; a data directory serves one accord — use a new --data`);
      await store.putAccordChain({ channel: chain.channel, versions: chainJson.versions.slice(1), activations: chainJson.activations }).catch((e: unknown) => {
        if (isParleyError(e) && e.code === 'STORE_CONFLICT') {
          throw new UsageError(`${dir} already holds a longer accord chain, or activations this chain file lacks (${e.message}); install the channel's current chain (GET /v1/accord/chain from any node)`);
        }
        throw e;
      });
      writeFileAtomic(target, formatSignedAccord(genesis));
    } finally {
      await store.close();
    }
  } finally {
    lock.release();
  }
  out.result(
    { installed: target, channel: chain.channel, version: cur.version, digest: cur.digest, versions: chain.versions.length, party: config.party },
    [`Installed ${target} (channel ${chain.channel}) and ${chain.versions.length - 1} later version(s) in the store: ${config.party} runs on version ${cur.version} (${cur.digest})`, '', `Start the node: parley serve --data ${dir}`],
  );
  return EXIT_OK;
}

const ACCORD_SUMMARY = 'found a channel and govern it: draft, sign, verify and install the accord; propose, approve and follow amendments; walk its chain of versions';

export function registerAccord(program: Command): void {
  const accord = program.command('accord').description(ACCORD_SUMMARY);
  registerAccordInit(accord);
  registerSign(accord);
  registerVerify(accord);
  registerInstall(accord);
  registerAccordGov(accord);
}
