/**
 * `parley key rotate | recover`: a party's log key changes by amendment
 * (issue 11, GOV.md §2 and §4).
 *
 *   rotate    planned: a new log key (same origin) is made and kept encrypted
 *             as DIR/log.key.next, with the passphrase of keys.enc; version
 *             N+1 naming it is proposed with the new key's consent signature.
 *             The node approves it with the old key; once the other parties'
 *             quorum approved, every node activates it: our checkpoint at the
 *             rotation size is signed by both keys, later ones by the new key.
 *   recover   compromise: the old key cannot be trusted to sign anything. P
 *             makes a fresh key (and a fresh HPKE key: the old one may be
 *             stolen too) and proposes version N+1 with `recovery: {party: P,
 *             suspectFrom}` — P's entries from suspectFrom (the largest size of
 *             P's log the other parties witnessed) up to the activation are
 *             flagged SUSPECT everywhere. The other parties' quorum approves it.
 *             Anyone may send a recovery P signed (--consent FILE).
 */
import { existsSync, readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import {
  type Accord,
  type AccordParty,
  type SignerKey,
  VerifierSet,
  formatBase64,
  formatVerifierKey,
  generateSignerKey,
  hpkeDeriveKeyPair,
  openWitnessedCheckpoint,
  parseVerifierKey,
  verifierKeyOf,
} from '@parley/core/node';
import { UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { type ClientOpts, client, clientOptions } from '../client.js';
import { dataDir, paths, readConfig, writeFileAtomic } from '../datadir.js';
import { type PartySecrets, openKeyFile, sealKeyFile } from '../keyfile.js';
import { getSecret } from '../secrets.js';
import { type Proposal, type Recovery, consentOf, nextOf, readProposalFile, versionOf, withSignature } from '../governance.js';
import { currentAccord, submitProposal } from './accord-gov.js';
import { parseIndexArg } from '../hashes.js';

interface KeyOpts extends ClientOpts {
  passphraseFile?: string;
  rationale?: string;
  yes?: boolean;
  out?: string;
}

/** The data directory's keys.enc and the passphrase that opens it (the next key is sealed with the same one). */
async function unlock(dir: string, passphraseFile: string | undefined): Promise<{ secrets: PartySecrets; passphrase: string }> {
  const file = paths(dir).keys;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`cannot read the key file "${file}": ${(e as NodeJS.ErrnoException).code ?? e} — is ${dir} this party's data directory? (--data DIR)`, 'KEY_FILE_UNREADABLE');
  }
  const passphrase = await getSecret({ file: passphraseFile, env: 'PARLEY_PASSPHRASE', what: 'passphrase', flag: '--passphrase-file' });
  return { secrets: await openKeyFile(text, passphrase, file), passphrase };
}

/** The pending next key of DIR (log.key.next), if any. */
async function pendingNextKey(dir: string, passphrase: string): Promise<PartySecrets | undefined> {
  const file = paths(dir).nextKey;
  if (!existsSync(file)) return undefined;
  return openKeyFile(readFileSync(file, 'utf8'), passphrase, file);
}

/** The party `id` of a version (a mutable reference into a draft). */
function partyIn(a: Accord, id: string): AccordParty {
  const p = a.parties.find((x) => x.id === id);
  if (!p) throw new UsageError(`${id} is not a party of the accord in force`);
  return p;
}

/** Sets a party's keys in a draft. */
function setKeys(draft: Accord, id: string, key: SignerKey, hpkeSeed: Uint8Array): void {
  const p = partyIn(draft, id) as { logKey: string; hpkeKey: string };
  p.logKey = formatVerifierKey(verifierKeyOf(key));
  p.hpkeKey = formatBase64(hpkeDeriveKeyPair(hpkeSeed).publicKey);
}

function registerRotate(key: Command): void {
  clientOptions(
    key
      .command('rotate')
      .description("planned rotation of this party's log key: a new key kept encrypted as DIR/log.key.next, and the amendment naming it proposed with its consent")
      .option('--passphrase-file <file>', 'file holding the key passphrase (else $PARLEY_PASSPHRASE, else prompted); the new key is sealed with it too')
      .option('--hpke', 'rotate the HPKE key as well (old bodies stay readable: the node keeps every old private key)')
      .option('--rationale <text>', 'why, for the other parties (default: "planned rotation of PARTY\'s log key")')
      .option('-y, --yes', 'propose without the confirmation (required without a terminal)'),
  )
    .addHelpText(
      'after',
      `
Run it on the node's machine, with its data directory, then restart the node:
\`parley serve\` loads DIR/log.key.next (same passphrase as keys.enc) and the
node switches to it when the amendment activates (keys.enc is then replaced by
it; the old file stays as keys.retired-TIME.enc for its HPKE key). Running it
again before then proposes the same next key again.

Exit status: 0 proposed, 2 refused or unusable arguments, 3 node unavailable.`,
    )
    .action(
      act(async (o: KeyOpts & { hpke?: boolean }) => {
        const out = makeOut(o.json === true);
        const dir = dataDir(o.data);
        const config = readConfig(dir);
        const c = client(o);
        const cur = await currentAccord(c);
        const me = partyIn(cur.accord, config.party);
        const { secrets, passphrase } = await unlock(dir, o.passphraseFile);
        let next = await pendingNextKey(dir, passphrase);
        const reused = next !== undefined;
        if (next && formatVerifierKey(verifierKeyOf(next.log)) === me.logKey) {
          throw new UsageError(`${paths(dir).nextKey} already holds the key in force for ${config.party}: the rotation is done (the node should have taken it; remove the file if the node runs on it)`);
        }
        if (!next) {
          const origin = parseVerifierKey(me.logKey).name;
          next = { log: generateSignerKey(origin), hpkeSeed: o.hpke === true ? new Uint8Array(randomBytes(32)) : secrets.hpkeSeed };
        }
        const draft = nextOf(cur.accord);
        setKeys(draft, config.party, next.log, next.hpkeSeed);
        const consent = consentOf(draft, next.log);
        const p: Proposal = { accord: draft, signatures: withSignature([], consent.signature), rationale: o.rationale ?? `planned rotation of ${config.party}'s log key` };
        const sealed = reused ? undefined : await sealKeyFile(next, passphrase);
        if (!o.json) process.stdout.write(`${reused ? 'Reusing' : 'New'} log key for ${config.party}: ${formatVerifierKey(verifierKeyOf(next.log))}\n`);
        const code = await submitProposal(o.out !== undefined ? undefined : c, out, cur.accord, p, {
          ...o,
          onConfirmed: () => {
            if (sealed !== undefined) writeFileAtomic(paths(dir).nextKey, sealed);
          },
        });
        if (!o.json) process.stdout.write(`The new key is in ${paths(dir).nextKey}. Restart the node (parley serve --data ${dir}) so it holds it: it switches to it when the version is activated.\n`);
        return code;
      }),
    );
}

/**
 * The largest size of `party`'s log that the other parties witnessed, from
 * the cosigned checkpoints the node holds (GET /v1/logs/{party}/cosigned),
 * each verified here under the party's key in force and the witness's key.
 */
export async function witnessedSize(c: ReturnType<typeof client>, accord: Accord, party: string): Promise<number> {
  const p = partyIn(accord, party);
  const held = (await c.get(`/v1/logs/${party}/cosigned`)) as { notes?: { witness: string; treeSize: number; note: string }[] };
  let size = 0;
  for (const n of held.notes ?? []) {
    if (n.witness === party) continue;
    const w = accord.parties.find((x) => x.id === n.witness);
    if (!w) continue;
    try {
      const opened = openWitnessedCheckpoint(n.note, new VerifierSet([p.logKey]), [(w as { witnessKey?: string }).witnessKey ?? w.logKey], { quorum: 1 });
      size = Math.max(size, opened.checkpoint.treeSize);
    } catch {
      // a note that does not verify proves nothing
    }
  }
  return size;
}

function registerRecover(key: Command): void {
  clientOptions(
    key
      .command('recover')
      .description("compromise recovery: a fresh log key for a party whose key was stolen, proposed as an amendment the other parties' quorum approves without the old key")
      .requiredOption('--party <id>', 'the party whose key is compromised')
      .option('--suspect-from <size>', "first entry of the party's log to flag SUSPECT (default: the largest size of its log the other parties witnessed, read from the node)")
      .option('--consent <file>', "send a recovery the party signed with its fresh key (a proposal file it wrote with --out), when you are another party's officer")
      .option('--passphrase-file <file>', 'file holding the key passphrase (else $PARLEY_PASSPHRASE, else prompted); the fresh key is sealed with it')
      .option('--rationale <text>', 'why, for the other parties')
      .option('--out <file>', 'write the proposal to FILE instead of sending it (to hand it to another party: parley key recover --consent FILE)')
      .option('-y, --yes', 'propose without the confirmation (required without a terminal)'),
  )
    .addHelpText(
      'after',
      `
Run by the party itself (its data directory) with --out FILE: a fresh log key
and HPKE key are made and kept as DIR/log.key.next, and the recovery, with
their consent, is written to FILE. Another party's officer sends it with
--consent FILE (a party never proposes its own recovery: its node's key is the
compromised one). Restart the party's node so it holds the fresh key. The party's entries from --suspect-from up to the activation are
flagged SUSPECT in every view.

Exit status: 0 proposed (or written), 2 refused or unusable arguments, 3 node unavailable.`,
    )
    .action(
      act(async (o: KeyOpts & { party: string; suspectFrom?: string; consent?: string }) => {
        const out = makeOut(o.json === true);
        const c = client(o);
        const cur = await currentAccord(c);
        partyIn(cur.accord, o.party);
        if (o.consent !== undefined) {
          if (o.suspectFrom !== undefined) throw new UsageError('--suspect-from is set by the party in its consent file; it cannot be changed without voiding its signature');
          const p = readProposalFile(o.consent);
          if (p.recovery?.party !== o.party) throw new UsageError(`${o.consent} is not a recovery of ${o.party} (its "recovery" member names ${p.recovery?.party ?? 'nobody'})`, 'FILE_UNREADABLE');
          if (!p.signatures.some((s) => s.party === o.party && (s as { prior?: boolean }).prior !== true)) throw new UsageError(`${o.consent} has no consent signature of ${o.party} with its fresh key: it signs it with parley accord consent`, 'ACCORD_CONSENT');
          if (versionOf(p.accord) !== versionOf(cur.accord) + 1) throw new UsageError(`${o.consent} is version ${versionOf(p.accord)}, but the node runs version ${versionOf(cur.accord)}`, 'ACCORD_VERSION');
          return submitProposal(o.out !== undefined ? undefined : c, out, cur.accord, o.rationale !== undefined ? { ...p, rationale: o.rationale } : p, o);
        }
        const dir = dataDir(o.data);
        const config = readConfig(dir);
        if (config.party !== o.party) {
          throw new UsageError(`${dir} is ${config.party}'s data directory: only ${o.party} can make its fresh key — it runs parley key recover --party ${o.party} --out FILE, and you send it with --consent FILE`);
        }
        if (o.out === undefined) {
          throw new UsageError(`a party does not propose its own recovery (its node signs with the compromised key): write it with --out FILE and hand the file to another party's officer, who sends it with: parley key recover --party ${o.party} --consent FILE`);
        }
        const suspectFrom = o.suspectFrom !== undefined ? parseIndexArg(o.suspectFrom, '--suspect-from') : await witnessedSize(c, cur.accord, o.party);
        const passphrase = await getSecret({ file: o.passphraseFile, env: 'PARLEY_PASSPHRASE', what: 'passphrase', flag: '--passphrase-file' });
        const fresh: PartySecrets = { log: generateSignerKey(parseVerifierKey(partyIn(cur.accord, o.party).logKey).name), hpkeSeed: new Uint8Array(randomBytes(32)) };
        const draft = nextOf(cur.accord);
        setKeys(draft, o.party, fresh.log, fresh.hpkeSeed);
        const recovery: Recovery = { party: o.party, suspectFrom };
        const consent = consentOf(draft, fresh.log);
        const p: Proposal = { accord: draft, signatures: [consent.signature], rationale: o.rationale ?? `recovery of ${o.party}'s compromised log key`, recovery };
        const sealed = await sealKeyFile(fresh, passphrase);
        if (!o.json) process.stdout.write(`Fresh log key for ${o.party}: ${formatVerifierKey(verifierKeyOf(fresh.log))}\n`);
        const code = await submitProposal(o.out !== undefined ? undefined : c, out, cur.accord, p, {
          ...o,
          onConfirmed: () => writeFileAtomic(paths(dir).nextKey, sealed),
        });
        if (!o.json) process.stdout.write(`The fresh key is in ${paths(dir).nextKey}. Restart the node (parley serve --data ${dir}) so it holds it: it switches to it when the other parties' quorum approved.\n`);
        return code;
      }),
    );
}

export function registerKey(program: Command): void {
  const key = program.command('key').description("change a party's log key by amendment: planned rotation, or recovery after a compromise");
  registerRotate(key);
  registerRecover(key);
}
