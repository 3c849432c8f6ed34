/**
 * The demo's evaluation (issue 12): US's institute commits to its
 * pre-release evaluation of a model (`parley eval commit`, a YAML document
 * and the report file it hashes), announces the deployment once its node
 * shows the commitment proven by another party's cosignature (`parley eval
 * notice`), and reveals the red-line outcomes, the model and the report's
 * digest to CN alone (`parley eval reveal --to CN`, sealed).
 *
 * The demo checks nothing itself: it reads what CN's node says (GET
 * /v1/evaluations/US/i as CN's duty officer sees it — the reveal opened
 * against the commitment in US's log, every value matching, committed before
 * the deployment) and what EU's node says (the reveal is not addressed to
 * it), then has CN download the evidence and `parley eval verify` it
 * offline with the accord chain, as any third party CN forwards it to would.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the demo's JSON reports about the evaluation. */
export interface DemoEvaluation {
  readonly commitment?: string;
  readonly notice?: string;
  readonly reveal?: string;
  readonly recipient: string;
  /** As CN's node shows it. */
  readonly claimsMatch: boolean;
  readonly revealed: readonly { readonly path: string; readonly value: unknown }[];
  readonly committedBefore: boolean;
  readonly marginSeconds?: number;
  readonly provenBy?: string;
  readonly provenHow?: string;
  readonly deployedAt?: string;
  /** EU's node: the reveal is there, sealed to CN, not readable by EU. */
  readonly notAddressedToEU: boolean;
  /** `parley eval verify` of the evidence CN's node gives, offline with the chain. */
  readonly evidenceVerified: boolean;
  readonly evidenceFile?: string;
  readonly detail: string;
}

interface Ctx {
  readonly dir: string;
  /** base URL of a party's node */
  readonly url: (party: string) => string;
  /** `--url URL --token T` for a party's duty officer. */
  readonly auth: (party: string) => Promise<string[]>;
  readonly cli: (args: readonly string[]) => Promise<{ ok: boolean; out: any; text: string }>;
  readonly until: (ok: () => Promise<boolean> | boolean, ms: number, step?: number) => Promise<boolean>;
  readonly check: (name: string, ok: boolean, detail: string) => void;
  /** Writes the accord chain file (parley accord chain) and returns its path. */
  readonly chainFile: () => Promise<string | undefined>;
}

export const EVALUATION_CHECK = "an evaluation committed before deployment, announced, and revealed to CN alone: CN's node opens it, every value matches its digest; EU's cannot; the evidence verifies offline";

const DOCUMENT = `# A pre-release evaluation (parley eval commit reads JSON or YAML)
stage: report
model: {name: Frontier-7, version: "2026-12"}
developer: Example Frontier Lab
evaluator: US Center for AI Standards and Innovation
domains: [CBRN, cyber, autonomy]
suites:
  - {name: wmdp-bio, version: "1.2"}
  - {name: cybench, version: "2.0"}
  - {name: re-bench, version: "1.1"}
redLines:
  cbrn-uplift: {domain: CBRN, threshold: "significant uplift to novices in acquiring a biological agent", outcome: below, score: 0.12}
  cyber-autonomy: {domain: cyber, threshold: "end-to-end exploitation of hardened targets", outcome: below, score: 0.31}
  self-exfiltration: {domain: autonomy, threshold: "copies its own weights out of a monitored sandbox", outcome: inconclusive}
report: {file: frontier-7-report.md, name: "Frontier-7 pre-deployment evaluation report"}
notes: "Safeguards evaluated on the release candidate; see the report."
`;

const REPORT = `# Frontier-7 pre-deployment evaluation report (demo)

Suites: wmdp-bio 1.2, cybench 2.0, re-bench 1.1. Red lines: CBRN uplift below,
cyber autonomy below, self-exfiltration inconclusive (sandbox escapes were not
reproduced; monitoring recommended).
`;

async function viewOf(url: string, auth: string[], at: string): Promise<any> {
  const token = auth[auth.indexOf('--token') + 1]!;
  const [party, index] = at.split(':');
  const res = await fetch(`${url}/v1/evaluations/${party}/${index}`, { headers: { authorization: `Bearer ${token}` } });
  return res.status === 200 ? await res.json() : undefined;
}

export async function evaluationStep(c: Ctx): Promise<DemoEvaluation> {
  const dir = join(c.dir, 'evaluation');
  mkdirSync(dir, { recursive: true });
  const docFile = join(dir, 'frontier-7.yaml');
  writeFileSync(docFile, DOCUMENT);
  writeFileSync(join(dir, 'frontier-7-report.md'), REPORT);
  const base: DemoEvaluation = { recipient: 'CN', claimsMatch: false, revealed: [], committedBefore: false, notAddressedToEU: false, evidenceVerified: false, detail: '' };
  const fail = (detail: string, more: Partial<DemoEvaluation> = {}): DemoEvaluation => {
    c.check(EVALUATION_CHECK, false, detail);
    return { ...base, ...more, detail };
  };
  const us = await c.auth('US');
  const commit = await c.cli(['eval', 'commit', docFile, ...us]);
  if (!commit.ok) return fail(commit.text);
  const at = `${commit.out.party}:${commit.out.index}`;
  // Announce the deployment only once US's node holds another party's cosignature of the commitment:
  // from then on the log proves it existed before any later deployment time.
  let proven: any;
  await c.until(async () => {
    proven = await viewOf(c.url('US'), us, at);
    return typeof proven?.commitment?.provenBy === 'string';
  }, 20_000, 250);
  if (typeof proven?.commitment?.provenBy !== 'string') return fail(`US's node never showed ${at} proven by a cosignature`, { commitment: at });
  // The deployment strictly after the second the cosignature names (cosignature times are whole seconds).
  const after = Date.parse(proven.commitment.provenBy) + 1000 - Date.now();
  if (after > 0) await new Promise((r) => setTimeout(r, after));
  const weights = createHash('sha256').update('Frontier-7 weights (demo)').digest('hex');
  const notice = await c.cli(['eval', 'notice', '--commitment', at, '--model-id', 'example-lab/frontier-7-2026-12', '--model-digest', `sha256:${weights}`, '--deployed-at', 'now', '--note', 'General availability via API.', ...us]);
  if (!notice.ok) return fail(notice.text, { commitment: at });
  const noticeAt = `${notice.out.party}:${notice.out.index}`;
  const reveal = await c.cli(['eval', 'reveal', '--disclosures', commit.out.disclosuresFile, '--claim', 'model', '--claim', 'redLines', '--claim', 'report.sha256', '--to', 'CN', ...us]);
  if (!reveal.ok) return fail(reveal.text, { commitment: at, notice: noticeAt });
  const revealAt = `${reveal.out.party}:${reveal.out.index}`;

  const chainSaved = c.chainFile(); // meanwhile: the public chain file the offline check below needs
  // CN's node, as CN's duty officer sees it.
  const cn = await c.auth('CN');
  let view: any;
  let opened: any;
  await c.until(async () => {
    view = await viewOf(c.url('CN'), cn, at);
    opened = view?.reveals?.find((r: any) => `${r.party}:${r.index}` === revealAt);
    return opened !== undefined && view.notices?.length > 0 && view.timeline !== undefined && (opened.revealed !== undefined || opened.error !== undefined);
  }, 20_000, 250);
  if (opened === undefined) return fail(`CN's node never showed the reveal ${revealAt} of ${at}${view ? ` (it shows ${view.reveals?.length ?? 0} reveals, ${view.notices?.length ?? 0} notices)` : ''}`, { commitment: at, notice: noticeAt, reveal: revealAt });
  const claimsMatch = opened.addressed === true && opened.error === undefined && Array.isArray(opened.revealed) && opened.revealed.length > 0;
  const revealed = ((opened.revealed ?? []) as { path: string; value: unknown }[]).filter((r) => typeof r.value !== 'object' || r.value === null).map((r) => ({ path: r.path, value: r.value }));
  const committedBefore = view.timeline?.committedBefore === true;

  // EU's node holds the same reveal, sealed to CN: not addressed to EU.
  const eu = await c.auth('EU');
  let euReveal: any;
  await c.until(async () => {
    euReveal = (await viewOf(c.url('EU'), eu, at))?.reveals?.find((r: any) => `${r.party}:${r.index}` === revealAt);
    return euReveal !== undefined;
  }, 15_000, 250);
  const notAddressedToEU = euReveal !== undefined && euReveal.addressed === false && euReveal.revealed === undefined;

  // CN takes the evidence away and checks it offline, as anyone CN forwards it to would.
  const evidenceFile = join(dir, `cn-${at.replace(':', '-')}.evidence.json`);
  const chain = await chainSaved;
  // The reveal's inclusion is proven by a checkpoint CN cosigned: until CN's node holds one, it says so (422).
  let got!: Awaited<ReturnType<Ctx['cli']>>;
  await c.until(async () => {
    got = await c.cli(['eval', 'evidence', at, '--out', evidenceFile, '--force', ...cn]);
    return got.ok || got.out?.code !== 'EVIDENCE_INVALID';
  }, 20_000, 500);
  const verified = got.ok && chain !== undefined ? await c.cli(['eval', 'verify', evidenceFile, '--chain', chain]) : undefined;
  const evidenceVerified = verified?.ok === true && verified.out.valid === true;

  const outcome = (id: string) => revealed.find((r) => r.path === `redLines.${id}.outcome`)?.value;
  const detail = [
    `US committed ${at} (${commit.out.digests?.total ?? '?'} digests for ${commit.out.claims?.length ?? '?'} claims, decoys included), proven by ${view.commitment.provenBy ?? 'NOTHING'} (${view.commitment.provenHow ?? '—'})`,
    `notice ${noticeAt}: deployed ${notice.out.deployedAt}`,
    `reveal ${revealAt} sealed to CN: CN's node ${claimsMatch ? `opens ${opened.revealed.length} claims, every value matching (cbrn-uplift ${String(outcome('cbrn-uplift'))}, self-exfiltration ${String(outcome('self-exfiltration'))})` : `does NOT open it (${opened.error ?? (opened.addressed ? 'no claims' : 'not addressed')})`}`,
    `timeline on CN's node: ${committedBefore ? `committed ${view.timeline.marginSeconds} s before deployment` : 'NOT committed before deployment'}`,
    `EU's node: ${notAddressedToEU ? 'holds the reveal, not addressed to EU' : `UNEXPECTED: ${JSON.stringify(euReveal)?.slice(0, 120)}`}`,
    `parley eval verify of CN's evidence: ${evidenceVerified ? `${verified!.out.checks.length} checks hold` : `FAILED: ${got.ok ? (verified?.text ?? 'no chain file') : got.text}`}`,
  ].join('; ');
  const ok = claimsMatch && committedBefore && notAddressedToEU && evidenceVerified;
  c.check(EVALUATION_CHECK, ok, detail);
  return {
    commitment: at,
    notice: noticeAt,
    reveal: revealAt,
    recipient: 'CN',
    claimsMatch,
    revealed,
    committedBefore,
    ...(typeof view.timeline?.marginSeconds === 'number' ? { marginSeconds: view.timeline.marginSeconds } : {}),
    ...(view.commitment.provenBy ? { provenBy: view.commitment.provenBy, provenHow: view.commitment.provenHow } : {}),
    deployedAt: notice.out.deployedAt,
    notAddressedToEU,
    evidenceVerified,
    evidenceFile,
    detail,
  };
}
