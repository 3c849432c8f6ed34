/**
 * `parley accord propose | approve | status | history | chain | consent`, and
 * the chain half of `parley accord verify`: amending a running channel
 * (issue 11, GOV.md §1–§2, §5).
 *
 *   propose   version N+1 from the node's current version (GET /v1/accord) and
 *             --set / --add-party / --remove-party, or a proposal FILE; the
 *             diff is shown and confirmed, then POST /v1/accord/proposals
 *             (the node appends the proposal and its own approval entry)
 *   approve   a pending proposal of another party: its diff, a confirmation,
 *             POST /v1/accord/proposals/{digest}/approve
 *   status    pending proposals: who approved, quorum need/have, consents missing
 *   history   the node's chain, verified here: every version, its diff, the
 *             log position where each party adopted it
 *   chain     save the node's chain file (GET /v1/accord/chain, public)
 *   consent   a NEW party (or a party's new key) signs a proposal file offline
 *   verify    (accord.ts) a chain file walked version by version, offline
 */
import type { Command } from 'commander';
import {
  type Accord,
  type AccordChain,
  type AccordEpochs,
  type ChainFile,
  type VerifiedAccord,
  isParleyError,
  parseChainFile,
  verifyAccordChain,
  verifyAmendment,
  verifyChainFile,
} from '@parley/core/node';
import { EXIT_INVALID, EXIT_OK, UsageError, act } from '../exit.js';
import { type Out, makeOut } from '../io.js';
import { type ClientOpts, client, clientOptions, nodeUrl, request } from '../client.js';
import { readJsonFile, writeFileAtomic } from '../datadir.js';
import {
  type ChainFileJson,
  type CurrentAccord,
  type Proposal,
  type ProposalItem,
  addParty,
  applySet,
  confirmOrYes,
  consentOf,
  diffLines,
  diffOf,
  digestOf,
  findProposal,
  isChainFile,
  nextOf,
  proposalBody,
  readChainFile,
  readProposalFile,
  removeParty,
  short,
  versionOf,
  withSignature,
  writeProposalFile,
} from '../governance.js';
import { loadSigningKey } from '../signing-key.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

// ─── verify: a chain walked version by version ──────────────────────────────

/** One check `parley accord verify` prints. */
export interface ChainCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly code?: string;
}

export type ChainWalk =
  | { readonly ok: true; readonly checks: ChainCheck[]; readonly chain: AccordChain; readonly epochs: AccordEpochs }
  | { readonly ok: false; readonly checks: ChainCheck[]; readonly code: string; readonly error: string };

const prior = (s: { prior?: boolean }) => s.prior === true;

/** Who signed a version, as a person reads it: `US (old key), CN, NEW (consent)`. */
function signersOf(v: VerifiedAccord): string {
  return v.signatures.map((s) => `${s.party}${prior(s as { prior?: boolean }) ? ' (prior key)' : ''}`).join(', ') || 'nobody';
}

/**
 * Walks a chain file the way a verifier must: version 1 fully signed (or the
 * `trusted` version), each next version by {@link verifyAmendment} against the
 * one before it, then every activation entry ({@link verifyChainFile}).
 * Never throws a ParleyError: the first failed check ends the walk, with its code.
 */
export function walkChain(input: ChainFileJson, trusted?: string): ChainWalk {
  const checks: ChainCheck[] = [];
  const failed = (name: string, e: unknown): ChainWalk => {
    if (!isParleyError(e)) throw e;
    checks.push({ name, ok: false, detail: `${e.message} (${e.code})`, code: e.code });
    return { ok: false, checks, code: e.code, error: e.message };
  };
  let file: ChainFile;
  try {
    file = parseChainFile(input);
  } catch (e) {
    return failed('chain file', e);
  }
  const versions = file.versions;
  let prev: VerifiedAccord;
  try {
    prev = verifyAccordChain(versions.slice(0, 1)).current;
  } catch (e) {
    return failed('version 1', e);
  }
  checks.push({ name: 'version 1', ok: true, detail: `${short(prev.digest)} the founding accord, signed by every party (${signersOf(prev)}); channel ${short(prev.channel)}` });
  for (let i = 1; i < versions.length; i++) {
    const name = `version ${prev.version + 1}`;
    try {
      const next = verifyAmendment(prev, versions[i]!);
      const changes = diffOf(prev.accord, next.accord).length;
      checks.push({ name: `version ${next.version}`, ok: true, detail: `${short(next.digest)} follows ${short(prev.digest)}: signed by ${signersOf(next)} — quorum and consents hold; ${changes} change${changes === 1 ? '' : 's'}${next.frozen ? '; FROZEN (one party left)' : ''}` });
      prev = next;
    } catch (e) {
      return failed(name, e);
    }
  }
  let result: { chain: AccordChain; epochs: AccordEpochs };
  try {
    result = verifyChainFile(file, trusted !== undefined ? { trusted } : {});
  } catch (e) {
    return failed(trusted !== undefined && !versions.some((v) => digestOf(v.accord) === trusted) ? 'trusted version' : 'activations', e);
  }
  if (trusted !== undefined) checks.push({ name: 'trusted version', ok: true, detail: `${short(trusted)} is version ${result.chain.versions.find((v) => v.digest === trusted)?.version ?? '?'} of this chain: nothing you trusted was rolled back or forked away` });
  for (const a of file.activations) {
    checks.push({
      name: `activation ${a.party} v${a.version}`,
      ok: true,
      detail: `${a.party}'s log adopts version ${a.version} at entry ${a.size} (its activation entry, signed by ${a.party}'s key in version ${a.version})${a.suspectFrom !== undefined ? `; entries ${a.suspectFrom}–${a.size - 1} are SUSPECT (key compromise)` : ''}`,
    });
  }
  if (file.activations.length === 0) checks.push({ name: 'activations', ok: true, detail: versions.length === 1 ? 'none: every log runs on version 1' : 'none recorded yet' });
  return { ok: true, checks, ...result };
}

/** Reads the chain `verify` and `history` check: a file, or a node's GET /v1/accord/chain. */
export async function loadChain(o: { file?: string | undefined; node?: string | undefined }): Promise<{ json: ChainFileJson; where: string }> {
  if (o.file !== undefined && o.node !== undefined) throw new UsageError('give a chain file or --node URL, not both');
  if (o.file !== undefined) return { json: readChainFile(o.file), where: o.file };
  if (o.node === undefined) throw new UsageError('which chain? give a chain file (parley accord chain --out FILE) or --node URL');
  const url = nodeUrl({ url: o.node });
  const v = await request('GET', url, '/v1/accord/chain');
  if (!isChainFile(v)) throw new UsageError(`${url}/v1/accord/chain did not answer a chain file (is it a Parley node of issue 11 or later?)`, 'FILE_UNREADABLE');
  return { json: v, where: `${url}/v1/accord/chain` };
}

/** Prints a walk and returns the exit status: 0 when every check holds, 1 otherwise. */
export function reportWalk(out: Out, walk: ChainWalk, where: string): number {
  const line = (c: ChainCheck) => `  ${c.ok ? '✓' : '✗'} ${c.name} — ${c.detail}`;
  if (!walk.ok) {
    out.failure({ valid: false, from: where, code: walk.code, error: walk.error, checks: walk.checks }, [`chain NOT valid: ${where}`, ...walk.checks.map(line)].join('\n'));
    return EXIT_INVALID;
  }
  const cur = walk.chain.current;
  out.result(
    { valid: true, from: where, channel: walk.chain.channel, versions: walk.chain.versions.length, current: { version: cur.version, digest: cur.digest, frozen: cur.frozen }, checks: walk.checks },
    [`Verified ${where}`, ...walk.checks.map(line), `The chain holds: channel ${walk.chain.channel}, current version ${cur.version} (${cur.digest})${cur.frozen ? ' — FROZEN' : ''}.`],
  );
  return EXIT_OK;
}

// ─── propose ─────────────────────────────────────────────────────────────────

interface ProposeOpts extends ClientOpts {
  set?: string[];
  addParty?: string[];
  removeParty?: string[];
  rationale?: string;
  out?: string;
  yes?: boolean;
}

/** The node's current version (GET /v1/accord). */
export async function currentAccord(c: ReturnType<typeof client>): Promise<CurrentAccord> {
  const cur = (await c.get('/v1/accord')) as CurrentAccord;
  if (typeof cur !== 'object' || cur === null || typeof cur.accord !== 'object') throw new UsageError(`${c.url} did not answer its accord`, 'FILE_UNREADABLE');
  // The chain's newest version, when the node's answer lags behind it (the chain is what every verifier follows).
  const chain = (await request('GET', c.url, '/v1/accord/chain').catch(() => undefined)) as ChainFileJson | undefined;
  const last = isChainFile(chain) ? chain.versions.at(-1) : undefined;
  if (last !== undefined && versionOf(last.accord) > versionOf(cur.accord)) return { ...cur, accord: last.accord, version: versionOf(last.accord), digest: digestOf(last.accord) };
  return cur;
}

/**
 * Shows a proposal's diff, confirms it, and posts it (or writes it to --out).
 * @param o.onConfirmed runs once the person said yes (or --yes, or --out),
 *   before anything is sent: `parley key` writes log.key.next there.
 */
export async function submitProposal(
  c: ReturnType<typeof client> | undefined,
  out: Out,
  current: Accord,
  p: Proposal,
  o: { yes?: boolean | undefined; out?: string | undefined; json?: boolean | undefined; onConfirmed?: () => void },
): Promise<number> {
  const diff = diffOf(current, p.accord);
  const digest = digestOf(p.accord);
  const head = [
    `Version ${versionOf(p.accord)} of ${current.name} (${short(digest)}), after version ${versionOf(current)} (${short(digestOf(current))}):`,
    ...diffLines(diff),
    ...(p.recovery ? [`  recovery of ${p.recovery.party}'s key: its entries from ${p.recovery.suspectFrom} up to the activation will be flagged SUSPECT`] : []),
    ...(p.rationale !== undefined ? [`  rationale: ${p.rationale}`] : []),
    `  signatures so far: ${p.signatures.map((s) => `${s.party}${(s as { prior?: boolean }).prior ? ' (prior key)' : ''}`).join(', ') || 'none'}`,
  ];
  if (o.out !== undefined) {
    o.onConfirmed?.();
    writeProposalFile(o.out, p);
    out.result({ written: o.out, version: versionOf(p.accord), digest, diff, signatures: p.signatures }, [...head, '', `Draft written to ${o.out} (not proposed). A new party or key signs it with: parley accord consent ${o.out}; then: parley accord propose ${o.out}`]);
    return EXIT_OK;
  }
  if (!o.json) for (const l of head) process.stdout.write(`${l}\n`);
  await confirmOrYes('Propose this amendment (your node signs it and its approval)?', [], o.yes, 'propose the amendment');
  o.onConfirmed?.();
  const r = (await c!.post('/v1/accord/proposals', proposalBody(p))) as { digest: string; index: number };
  out.result({ proposed: true, version: versionOf(p.accord), digest: r.digest, index: r.index, diff }, [
    `Proposed version ${versionOf(p.accord)}: ${r.digest} (entry ${r.index} of our log, with our approval)`,
    `Others approve with: parley accord approve ${r.digest.slice(0, 16)}; follow it with: parley accord status`,
  ]);
  return EXIT_OK;
}

function registerPropose(accord: Command): void {
  clientOptions(
    accord
      .command('propose')
      .description("propose the next accord version: from the node's current one with --set/--add-party/--remove-party, or a proposal FILE; shows the diff and asks before sending")
      .argument('[file]', 'a proposal file (parley accord propose --out, with consents added by parley accord consent) or a whole accord')
      .option('--set <path=value>', 'change one member (repeatable): heartbeatSeconds=600, deadlines.ackSeconds.FLASH=300, amendmentQuorum=2, parties.US.urls=\'["https://…"]\'', collect)
      .option('--add-party <file>', "add a party: its party.json from parley init (repeatable; it must consent: parley accord consent)", collect)
      .option('--remove-party <id>', 'remove a party (repeatable); its signature is not needed', collect)
      .option('--rationale <text>', 'why, for the other parties (logged with the proposal)')
      .option('--out <file>', 'write the draft proposal to FILE instead of sending it (to collect consents offline)')
      .option('-y, --yes', 'send without the confirmation (required without a terminal)'),
  )
    .addHelpText(
      'after',
      `
The node signs the proposal entry and its own approval with its log key. Added
parties and changed keys must consent (sign the draft with their new key) before
the amendment can take effect: write a draft with --out, have them run
\`parley accord consent FILE\`, then propose the file.

Examples:
  $ parley accord propose --set heartbeatSeconds=600 --rationale "fewer heartbeats"
  $ parley accord propose --set 'roles.flash=["admin"]' --rationale "only admins send FLASH"
  $ parley accord propose --add-party jp/party.json --out join-jp.json
  $ parley accord propose join-jp.json --yes`,
    )
    .action(
      act(async (file: string | undefined, o: ProposeOpts) => {
        const out = makeOut(o.json === true);
        const edits = (o.set?.length ?? 0) + (o.addParty?.length ?? 0) + (o.removeParty?.length ?? 0);
        if (file !== undefined && edits > 0) throw new UsageError('give a proposal FILE or --set/--add-party/--remove-party, not both (a file may carry signatures that a change would void)');
        if (file === undefined && edits === 0) throw new UsageError('nothing to propose: give --set path=value, --add-party FILE, --remove-party ID, or a proposal FILE');
        const c = client(o);
        const cur = await currentAccord(c);
        let p: Proposal;
        if (file !== undefined) {
          p = readProposalFile(file);
          if (o.rationale !== undefined) p = { ...p, rationale: o.rationale };
        } else {
          const next = nextOf(cur.accord);
          for (const s of o.set ?? []) applySet(next, s);
          for (const f of o.addParty ?? []) addParty(next, readJsonFile(f, 'party file') as never);
          for (const id of o.removeParty ?? []) removeParty(next, id);
          p = { accord: next, signatures: [], ...(o.rationale !== undefined ? { rationale: o.rationale } : {}) };
        }
        if (versionOf(p.accord) !== versionOf(cur.accord) + 1) {
          throw new UsageError(`the proposal is version ${versionOf(p.accord)}, but the node runs version ${versionOf(cur.accord)}: a proposal is version ${versionOf(cur.accord) + 1} (draft it again from the current version)`, 'ACCORD_VERSION');
        }
        return submitProposal(o.out !== undefined ? undefined : c, out, cur.accord, p, o);
      }),
    );
}

// ─── approve ─────────────────────────────────────────────────────────────────

async function proposals(c: ReturnType<typeof client>): Promise<ProposalItem[]> {
  const r = (await c.get('/v1/accord/proposals')) as { items?: ProposalItem[] };
  if (!Array.isArray(r?.items)) throw new UsageError(`${c.url} did not answer a list of proposals (is it a Parley node of issue 11 or later?)`, 'FILE_UNREADABLE');
  return r.items;
}

function registerApprove(accord: Command): void {
  clientOptions(
    accord
      .command('approve')
      .description("approve a pending amendment: shows what it changes, asks, then the node signs the approval with this party's log key")
      .argument('<digest>', 'the proposal (its digest, or a unique prefix of 8+ hex digits: see parley accord status)')
      .option('-y, --yes', 'approve without the confirmation (required without a terminal)'),
  ).action(
    act(async (digest: string, o: ClientOpts & { yes?: boolean }) => {
      const out = makeOut(o.json === true);
      const c = client(o);
      const item = findProposal(await proposals(c), digest);
      if (item.status === 'refused') throw new UsageError(`proposal ${short(item.digest)} was refused by the node: there is nothing to approve`, 'ACCORD_CHAIN');
      if (item.status === 'active') throw new UsageError(`version ${item.version} (${short(item.digest)}) is already in force`, 'ACCORD_VERSION');
      const lines = [
        `Version ${item.version} (${item.digest}), proposed by ${item.proposer.party} (its entry ${item.proposer.index}):`,
        ...diffLines(item.diff),
        ...(item.recovery ? [`  recovery of ${item.recovery.party}'s key: its entries from ${item.recovery.suspectFrom} on will be flagged SUSPECT`] : []),
        ...(item.rationale !== undefined ? [`  rationale: ${item.rationale}`] : []),
        `  approvals: ${item.approvals.map((a) => a.party).join(', ') || 'none'} (${item.quorum.have} of ${item.quorum.need} needed)`,
      ];
      if (!o.json) for (const l of lines) process.stdout.write(`${l}\n`);
      await confirmOrYes('Approve this amendment with your log key?', [], o.yes, 'approve the amendment');
      const r = (await c.post(`/v1/accord/proposals/${item.digest}/approve`, {})) as { index: number };
      out.result({ approved: true, digest: item.digest, version: item.version, index: r.index }, [`Approved version ${item.version} (${short(item.digest)}): entry ${r.index} of our log`, 'See who else has: parley accord status']);
      return EXIT_OK;
    }),
  );
}

// ─── status ──────────────────────────────────────────────────────────────────

function registerStatus(accord: Command): void {
  clientOptions(
    accord
      .command('status')
      .description('amendments on this node: pending proposals, who approved, quorum need/have, consents still missing')
      .option('--all', 'also list proposals already in force or refused'),
  ).action(
    act(async (o: ClientOpts & { all?: boolean }) => {
      const out = makeOut(o.json === true);
      const c = client(o);
      const cur = await currentAccord(c);
      const all = await proposals(c);
      const items = o.all === true ? all : all.filter((i) => i.status === 'pending' || i.status === 'complete');
      const human = [`In force: version ${versionOf(cur.accord)} (${digestOf(cur.accord)})`];
      if (items.length === 0) human.push(o.all === true ? 'No proposals.' : 'No pending proposals.');
      for (const i of items) {
        const missing = i.consents.need.filter((p) => !i.consents.have.includes(p));
        human.push(
          '',
          `${i.status.toUpperCase().padEnd(8)} version ${i.version} ${i.digest}`,
          `  proposed by ${i.proposer.party} (entry ${i.proposer.index})${i.rationale !== undefined ? `: ${i.rationale}` : ''}`,
          ...diffLines(i.diff, '    '),
          `  quorum:    ${i.quorum.have} of ${i.quorum.need} — approved by ${i.approvals.map((a) => `${a.party}${a.prior ? '' : ' (new key)'}`).join(', ') || 'nobody yet'}`,
          `  consents:  ${i.consents.need.length === 0 ? 'none needed' : missing.length === 0 ? `all in (${i.consents.have.join(', ')})` : `missing ${missing.join(', ')}${i.consents.have.length > 0 ? `; have ${i.consents.have.join(', ')}` : ''}`}`,
          ...(i.recovery ? [`  recovery:  ${i.recovery.party}'s entries from ${i.recovery.suspectFrom} on will be SUSPECT`] : []),
        );
      }
      out.result(
        { current: { version: versionOf(cur.accord), digest: digestOf(cur.accord) }, items: items.map((i) => ({ ...i, consents: { ...i.consents, missing: i.consents.need.filter((p) => !i.consents.have.includes(p)) } })) },
        human,
      );
      return EXIT_OK;
    }),
  );
}

// ─── history ─────────────────────────────────────────────────────────────────

function registerHistory(accord: Command): void {
  clientOptions(
    accord
      .command('history')
      .description("every version of the node's accord, verified here: its diff, its signers, and where each party's log adopted it"),
  )
    .addHelpText('after', '\nExit status: 0 the chain verified, 1 it did not (the failed check is printed), 2 unusable arguments, 3 node unavailable.')
    .action(
      act(async (o: ClientOpts) => {
        const out = makeOut(o.json === true);
        const { json, where } = await loadChain({ node: nodeUrl(o) });
        const walk = walkChain(json);
        if (!walk.ok) return reportWalk(out, walk, where);
        const { chain, epochs } = walk;
        void epochs;
        const versions = chain.versions.map((v, i) => {
          const prev = i > 0 ? chain.versions[i - 1] : undefined;
          const activations =
            v.version === 1
              ? v.accord.parties.map((p) => ({ party: p.id, size: 0, implicit: true as const }))
              : json.activations.filter((a) => a.version === v.version).map((a) => ({ party: a.party, size: a.size, ...(a.suspectFrom !== undefined ? { suspectFrom: a.suspectFrom } : {}) }));
          return {
            version: v.version,
            digest: v.digest,
            frozen: v.frozen,
            parties: v.accord.parties.map((p) => p.id),
            signatures: v.signatures.map((s) => ({ party: s.party, prior: prior(s as { prior?: boolean }) })),
            diff: prev ? diffOf(prev.accord, v.accord) : [],
            activations,
          };
        });
        const human = [`Channel ${chain.channel} — ${chain.versions.length} version${chain.versions.length === 1 ? '' : 's'}, verified from ${where}`];
        for (const v of versions) {
          human.push(
            '',
            `version ${v.version}  ${v.digest}${v.frozen ? '  FROZEN' : ''}${v.version === chain.current.version ? '  (in force)' : ''}`,
            `  parties:     ${v.parties.join(', ')}`,
            `  signed by:   ${v.signatures.map((s) => `${s.party}${s.prior ? ' (prior key)' : ''}`).join(', ')}`,
            ...(v.version === 1 ? ['  founding accord'] : diffLines(v.diff, '    ')),
            `  activations: ${v.activations.map((a) => `${a.party} at entry ${a.size}${'implicit' in a ? '' : ''}${'suspectFrom' in a && a.suspectFrom !== undefined ? ` (suspect from ${a.suspectFrom})` : ''}`).join(', ') || 'none yet'}`,
          );
        }
        out.result({ valid: true, channel: chain.channel, current: { version: chain.current.version, digest: chain.current.digest }, versions }, human);
        return EXIT_OK;
      }),
    );
}

// ─── chain ───────────────────────────────────────────────────────────────────

function registerChain(accord: Command): void {
  accord
    .command('chain')
    .description("save the node's accord chain file (GET /v1/accord/chain: every version and activation), verified here first")
    .requiredOption('--out <file>', 'where to write the chain file')
    .option('--url <url>', "the node's base URL (default: $PARLEY_URL, the URL you logged in to, or config.json's listen address)")
    .option('--data <dir>', 'data directory (default: $PARLEY_DATA or ./parley-data), for the node URL')
    .option('--json', 'print the result as JSON')
    .addHelpText('after', '\nThe chain is public: no login needed. The file is written even when it does not verify (it is evidence), and the exit status is then 1.')
    .action(
      act(async (o: { out: string; url?: string; data?: string; json?: boolean }) => {
        const out = makeOut(o.json === true);
        const url = nodeUrl(o);
        const { json, where } = await loadChain({ node: url });
        writeFileAtomic(o.out, `${JSON.stringify(json, null, 2)}\n`, 0o644);
        const walk = walkChain(json);
        if (!walk.ok) return reportWalk(out, walk, where);
        out.result({ written: o.out, valid: true, channel: walk.chain.channel, versions: walk.chain.versions.length, current: { version: walk.chain.current.version, digest: walk.chain.current.digest } }, [
          `Wrote ${o.out}: channel ${walk.chain.channel}, ${walk.chain.versions.length} version(s), current ${walk.chain.current.version} (${walk.chain.current.digest}) — verified`,
          `Check it anywhere, offline: parley accord verify ${o.out}`,
        ]);
        return EXIT_OK;
      }),
    );
}

// ─── consent ─────────────────────────────────────────────────────────────────

function registerConsent(accord: Command): void {
  accord
    .command('consent')
    .description("sign a proposal file offline with the key it names for you: a new party's consent, or proof that you hold a new key")
    .argument('<file>', 'the proposal file (parley accord propose --out); the signature is added to it')
    .option('--key <keyfile>', "the key: a Parley key file (keys.enc, log.key.next) or a file holding a PRIVATE+KEY+… signer key (default: the data directory's keys.enc)")
    .option('--data <dir>', 'data directory whose keys.enc to use (default: $PARLEY_DATA or ./parley-data)')
    .option('--passphrase-file <file>', 'file holding the key passphrase (else $PARLEY_PASSPHRASE, else prompted)')
    .option('--out <file>', 'write the signed proposal here instead of back to FILE')
    .option('--json', 'print the result as JSON')
    .addHelpText(
      'after',
      `
The signature is the plain one GOV.md calls a consent: Ed25519 over the version's
digest with the key the version names for the signer. Hand the file back to the
party that proposes it (parley accord propose FILE).`,
    )
    .action(
      act(async (file: string, o: { key?: string; data?: string; passphraseFile?: string; out?: string; json?: boolean }) => {
        const out = makeOut(o.json === true);
        const p = readProposalFile(file);
        const key = await loadSigningKey({ key: o.key, data: o.data, passphraseFile: o.passphraseFile });
        const { party, signature } = consentOf(p.accord, key);
        const signed: Proposal = { ...p, signatures: withSignature(p.signatures, signature) };
        const target = o.out ?? file;
        writeProposalFile(target, signed);
        const digest = digestOf(p.accord);
        out.result({ party, version: versionOf(p.accord), digest, written: target, signatures: signed.signatures }, [
          `${party} consented to version ${versionOf(p.accord)} of ${p.accord.name} (${digest}) with its key in that version`,
          `  parties: ${p.accord.parties.map((x) => x.id).join(', ')}; amendment quorum ${p.accord.amendmentQuorum}`,
          `Wrote ${target}. The proposing party sends it with: parley accord propose ${target}`,
        ]);
        return EXIT_OK;
      }),
    );
}

/** Registers the governance subcommands on `parley accord`. */
export function registerAccordGov(accord: Command): void {
  registerPropose(accord);
  registerApprove(accord);
  registerStatus(accord);
  registerHistory(accord);
  registerChain(accord);
  registerConsent(accord);
}
