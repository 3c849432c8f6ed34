/**
 * `parley eval`: pre-release evaluations made checkable without disclosing
 * them (issue 12, EVAL.md).
 *
 *   commit    an evaluation document (JSON or YAML) → salted per-claim digests
 *             with decoys, committed in the party's log; the salts are kept in
 *             a disclosures file (0600) that alone can open the commitment
 *   notice    a deployment notice citing the commitment: model id, digest, date
 *   reveal    chosen claims (their parents added) sealed to chosen parties, or public
 *   list      the evaluations the node holds; show: one, with its opened reveals and timeline
 *   evidence  download the evidence bundle of one evaluation from the node
 *   verify    check an evidence bundle OFFLINE with the accord or its chain:
 *             signatures, inclusion, cosignatures, RFC 3161 time stamps, the
 *             notice's reference, committed-before-deployment, each disclosure
 *   export    an in-toto Statement v1 in a DSSE envelope signed by the node;
 *             --add merges other parties' signatures over the same statement
 */
import type { Command } from 'commander';
import { Option } from 'commander';
import { MARKINGS, PRECEDENCES } from '@parley/core/node';
import { act } from '../exit.js';
import { type ClientOpts, clientOptions } from '../client.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

export const EVAL_SUMMARY =
  'evaluation commitments: commit to a pre-release evaluation before deployment, announce the deployment, reveal chosen claims to chosen parties, verify it offline, export it as in-toto/DSSE';

export type CommitOpts = ClientOpts & { out?: string; force?: boolean; protocol?: boolean; follows?: string; dryRun?: boolean };
export type NoticeOpts = ClientOpts & { commitment: string; modelId: string; modelDigest: string; deployedAt: string; note?: string; to?: string[]; precedence?: string; marking?: string };
export type RevealOpts = ClientOpts & { commitment?: string; disclosures: string; claim?: string[]; allClaims?: boolean; to?: string[]; public?: boolean; marking?: string };
export type ShowOpts = ClientOpts & { lang?: string };
export type EvidenceOpts = ClientOpts & { out: string; reveal?: string; force?: boolean };
export type VerifyOpts = { accord?: string; chain?: string; json?: boolean; lang?: string };
export type ExportOpts = ClientOpts & { out: string; dsse?: boolean; add?: string[]; reveal?: string; force?: boolean };

export function registerEval(program: Command): void {
  const g = program.command('eval').description(EVAL_SUMMARY);
  g.addHelpText(
    'after',
    `
A lab or an institute commits to its evaluation before deployment (only
salted digests go in the log, with decoys; the domains stay in the clear),
announces the deployment, and reveals chosen claims later — to chosen parties
(sealed) or to everyone. Anyone with the logs can check that the commitment
was made, unchanged, before the deployment; a recipient can check that what
was revealed is what was committed; a third party learns only what a
recipient forwards — and nothing here says the evaluation itself was sound.

  $ parley eval commit eval.yaml                      # → eval.yaml.disclosures.json (keep it)
  $ parley eval notice --commitment US:12 --model-id frontier-1 --model-digest sha256:… --deployed-at now
  $ parley eval reveal --disclosures eval.yaml.disclosures.json --claim redLines --to CN
  $ parley eval evidence US:12 -o us-12.evidence.json  # on CN's node: what CN holds
  $ parley eval verify us-12.evidence.json --chain chain.json`,
  );

  clientOptions(
    g
      .command('commit')
      .description('commit to an evaluation: its claims as salted digests with decoys in our log; writes the disclosures file (the salts) to keep')
      .argument('<file>', 'the evaluation document, JSON or YAML (- for standard input)')
      .option('-o, --out <file>', 'where to write the disclosures file (default: FILE.disclosures.json)')
      .option('--force', 'replace an existing disclosures file (its salts are lost for good)')
      .option('--protocol', 'the document is a pre-registered protocol (stage protocol: thresholds without outcomes), committed before the evaluation')
      .option('--follows <party:index>', 'the protocol commitment this report follows (our own, stage protocol)')
      .option('--dry-run', 'build and print the commitment and write nothing, send nothing'),
  )
    .addHelpText(
      'after',
      `
The document (EVAL.md §2):
  stage: report                # or protocol (or pass --protocol)
  model: {name: Frontier-1, version: "2026-11"}
  developer: Example Lab
  evaluator: Example AISI
  domains: [CBRN, cyber]       # in the clear in the commitment
  suites: [{name: wmdp, version: "1.0"}]
  redLines:
    cbrn-uplift: {domain: CBRN, threshold: "…", outcome: below, score: 0.12}
  report: {file: report.pdf, name: "Full report"}   # file → its SHA-256 is committed

Every claim at every depth gets a random salt; object claims are nested
(revealing redLines.cbrn-uplift.outcome reveals its parents, not its siblings).
The disclosures file is written (mode 0600) before the commitment is sent and
never overwritten without --force: it alone can open the commitment.

Example:
  $ parley eval commit eval.yaml
  $ parley eval commit protocol.yaml --protocol
  $ parley eval commit eval.yaml --follows US:7`,
    )
    .action(act(async (file: string, o: CommitOpts) => (await import('../eval-commands.js')).commit(file, o)));

  clientOptions(
    g
      .command('notice')
      .description('announce a deployment: a signed notice citing the evaluation commitment, with the model\'s public identifier, its digest and the deployment time')
      .requiredOption('--commitment <party:index>', 'the evaluation commitment (stage report) the deployment follows')
      .requiredOption('--model-id <id>', "the model's public identifier")
      .requiredOption('--model-digest <sha256:hex>', "the model's digest: sha256: and 64 hex digits")
      .requiredOption('--deployed-at <time>', 'when it is deployed: RFC 3339, a date, or now')
      .option('--note <text>', 'a note (≤ 2000 characters)')
      .option('--to <party>', 'recipient party (repeatable; default every other party)', collect)
      .addOption(new Option('--precedence <p>', 'how urgent (default PRIORITY)').choices(PRECEDENCES))
      .addOption(new Option('--marking <tlp>', 'FIRST TLP 2.0 marking (default TLP:CLEAR)').choices(MARKINGS)),
  )
    .addHelpText(
      'after',
      `
The node refuses a notice earlier than its commitment (EVAL_NOTICE_BEFORE_COMMITMENT)
or citing no commitment it holds (EVAL_COMMITMENT_MISSING). It proves
"committed before deployment" only once the commitment is cosigned by another
party's witness or time-stamped before the deployment time: this command warns
when the node does not yet show that.

Example:
  $ parley eval notice --commitment US:12 --model-id frontier-1-2026-12 --model-digest sha256:$(sha256sum weights.safetensors | cut -c1-64) --deployed-at 2026-12-15`,
    )
    .action(act(async (o: NoticeOpts) => (await import('../eval-commands.js')).notice(o)));

  clientOptions(
    g
      .command('reveal')
      .description('reveal chosen claims of our commitment (their parents added) to chosen parties, sealed, or to everyone at TLP:CLEAR')
      .requiredOption('--disclosures <file>', 'the disclosures file parley eval commit wrote')
      .option('--commitment <party:index>', 'the commitment (default: the one the disclosures file records)')
      .option('--claim <path>', 'a claim to reveal, e.g. redLines.cbrn-uplift.outcome (repeatable; a parent reveals its children)', collect)
      .option('--all-claims', 'reveal every claim')
      .option('--to <party>', 'a party to reveal to, sealed (repeatable)', collect)
      .option('--public', 'reveal to everyone: TLP:CLEAR, readable by any party and any auditor')
      .addOption(new Option('--marking <tlp>', 'marking of a sealed reveal (default TLP:AMBER)').choices(MARKINGS.filter((m) => m !== 'TLP:CLEAR'))),
  )
    .addHelpText(
      'after',
      `
Each recipient's node opens the reveal against the commitment in our log and
shows whether every value matches its committed digest (parley eval show).

Example:
  $ parley eval reveal --disclosures eval.yaml.disclosures.json --claim model --claim redLines.cbrn-uplift.outcome --to CN
  $ parley eval reveal --disclosures eval.yaml.disclosures.json --all-claims --public`,
    )
    .action(act(async (o: RevealOpts) => (await import('../eval-commands.js')).reveal(o)));

  clientOptions(g.command('list').description('the evaluations the node holds, newest first: commitment, notices, reveals, and whether it was committed before deployment'))
    .action(act(async (o: ClientOpts) => (await import('../eval-commands.js')).list(o)));

  clientOptions(
    g
      .command('show')
      .description('one evaluation as the node sees it: the commitment and when it was proven, its protocol, the deployment notices, each reveal opened (or not addressed to us), the timeline')
      .argument('<party:index>', 'the commitment'),
  ).action(act(async (at: string, o: ShowOpts) => (await import('../eval-commands.js')).show(at, o)));

  clientOptions(
    g
      .command('evidence')
      .description('download the evidence bundle of an evaluation from the node: entries, inclusion proofs, cosigned checkpoints, time stamps, and the disclosures this node opened')
      .argument('<party:index>', 'the commitment')
      .requiredOption('-o, --out <file>', 'where to write the bundle')
      .option('--reveal <party:index>', 'which reveal to include (default: the node picks one it opened)')
      .option('--force', 'replace an existing file'),
  )
    .addHelpText('after', '\nThe bundle is checked offline with parley eval verify FILE --chain CHAIN (or --accord ACCORD).\n\nExample:\n  $ parley eval evidence US:12 -o us-12.evidence.json')
    .action(act(async (at: string, o: EvidenceOpts) => (await import('../eval-commands.js')).evidence(at, o)));

  g.command('verify')
    .description('check an evaluation evidence bundle offline with the accord (or its chain): every check printed; exit 0 only when every check holds')
    .argument('<evidence>', 'the evidence bundle (parley eval evidence) or a DSSE envelope (parley eval export --dsse), or - for standard input')
    .option('--accord <file>', 'the signed accord the evidence must be of')
    .option('--chain <file>', 'the accord chain file (parley accord chain --out FILE): keys by version, across rotations')
    .addOption(new Option('--lang <tag>', 'language of the details (default en)').choices(['en', 'zh-CN']))
    .option('--json', 'print one JSON object: {valid, checks, timeline, claims, provability}')
    .addHelpText(
      'after',
      `
Checks: the accord or chain; each entry's signature by its party's key at its
position; its inclusion in its checkpoint; the checkpoint's signature and the
other parties' cosignatures; RFC 3161 time stamps (imprint, chain to an
accord-listed authority, EKU, validity); the notice cites the commitment;
committed before deployment (the earliest trusted time the commitment existed,
from other parties' cosignatures and time stamps, before the deployment time);
each revealed disclosure matches its committed digest; salts unique.

Given a DSSE envelope instead, each signature is checked against the log keys
of the accord's parties (every version of the chain) and the statement shown.

Exit status: 0 when every check holds, 1 when one fails (it is named), 2 when
the command cannot run (no --accord or --chain, an unreadable file).

Example:
  $ parley eval verify us-12.evidence.json --chain chain.json`,
    )
    .action(act(async (file: string, o: VerifyOpts) => (await import('../eval-verify.js')).verify(file, o)));

  clientOptions(
    g
      .command('export')
      .description('export an evaluation as an in-toto Statement v1 (the opened claims, the commitment, the timeline); with --dsse in a DSSE envelope signed by the node; --add merges other parties\' signatures over the same statement')
      .argument('<party:index>', 'the commitment')
      .requiredOption('-o, --out <file>', 'where to write the statement or envelope')
      .option('--dsse', 'write the DSSE envelope signed by the node (else the bare statement)')
      .option('--add <file>', 'a DSSE envelope of another party over the same statement whose signatures to merge in (repeatable)', collect)
      .option('--reveal <party:index>', 'which reveal the statement opens (default: the node picks one it opened)')
      .option('--force', 'replace an existing file'),
  )
    .addHelpText(
      'after',
      `
The node builds the statement from what it holds and signs it with its log
key (keyid PARTY:KEYNAME+KEYHASH of that key). With --add, the node instead
co-signs the statement of the added envelope — only when every fact of the
logs it names agrees with what this node holds (else DSSE_INVALID) — and the
signatures are merged into one envelope over one payload; envelopes over
different payloads are refused (DSSE_PAYLOAD_MISMATCH). The committing party
exports first; each recipient that verified the reveal adds its signature.

Example:
  $ parley eval export US:12 --dsse --out us-12.dsse.json                               # on US's node
  $ parley eval export US:12 --dsse --out us-12.both.dsse.json --add us-12.dsse.json    # on CN's node`,
    )
    .action(act(async (at: string, o: ExportOpts) => (await import('../eval-commands.js')).exportStatement(at, o)));

}
