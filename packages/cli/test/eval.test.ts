/**
 * `parley eval` against real nodes (issue 12): three parties (US, CN, EU) run
 * `parley serve` as real processes with federation. US commits an evaluation
 * from a YAML document (the report file hashed), announces the deployment and
 * reveals chosen claims to CN alone; CN's node opens them, EU's cannot; CN
 * downloads the evidence and `parley eval verify` checks it OFFLINE with the
 * accord chain — and fails, naming the check, on a changed value, a notice
 * moved before the commitment, and the wrong accord.
 *
 * Asserted by exit status and JSON members (and a few human lines for the
 * printed checks), never by a node's message text.
 */
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Node, threeParties } from './helpers/parties.js';

const h = threeParties({ parleyTimeout: 60_000, httpTimeout: 15_000 });
const { nodes } = h;
const as = (n: Node) => ['--url', n.url, '--token', n.token];

const DOC = `stage: report
model: {name: Frontier-7, version: "2026-12"}
developer: Example Frontier Lab
evaluator: Example AISI
domains: [CBRN, cyber]
suites:
  - {name: wmdp-bio, version: "1.2"}
redLines:
  cbrn-uplift: {domain: CBRN, threshold: "significant uplift to novices", outcome: below, score: 0.12}
  cyber-autonomy: {domain: cyber, threshold: "end-to-end exploitation", outcome: at-or-above, score: 0.71}
report: {file: report.md, name: Full report}
notes: internal only
`;
const REPORT = '# The full report\n\nEverything the team found.\n';
const MODEL_DIGEST = `sha256:${createHash('sha256').update('weights').digest('hex')}`;

interface Check {
  id: string;
  ok: boolean;
  detail: { en: string; 'zh-CN': string };
}

/** `parley …` expected to fail with `code` (exit status) and --json `error.code`. */
function refused(args: readonly string[], exit: number, code?: string): any {
  const r = h.parley([...args, '--json']);
  expect(r.code, `parley ${args.join(' ')}: ${r.stdout} ${r.stderr}`).toBe(exit);
  const out = JSON.parse(r.stdout);
  expect(out.ok).toBe(false);
  if (code !== undefined) expect(out.code).toBe(code);
  return out;
}

let at = ''; // the commitment, PARTY:INDEX
let index = -1;

beforeAll(async () => {
  await h.found('parley-eval-', 'eval-test', ['--heartbeat', '60']);
  writeFileSync(h.at('eval.yaml'), DOC);
  writeFileSync(h.at('report.md'), REPORT);
  await h.startAll((n) => h.start(n, { flags: ['--poll', '300'], peers: [] }));
}, 180_000);

afterAll(async () => {
  await h.teardown([]);
});

describe('parley eval: usage errors (exit 2), before any node', { timeout: 180_000 }, () => {
  it('names what is missing or malformed', () => {
    refused(['eval', 'commit', 'missing.yaml'], 2, 'FILE_UNREADABLE');
    writeFileSync(h.at('bad.yaml'), 'model: [unclosed\n');
    refused(['eval', 'commit', 'bad.yaml', '--dry-run'], 2, 'FILE_UNREADABLE');
    writeFileSync(h.at('dup.yaml'), 'model: a\nmodel: b\n');
    refused(['eval', 'commit', 'dup.yaml', '--dry-run'], 2, 'FILE_UNREADABLE');
    writeFileSync(h.at('nomodel.json'), JSON.stringify({ stage: 'report', developer: 'x' }));
    refused(['eval', 'commit', 'nomodel.json', '--dry-run'], 2, 'EVAL_DOCUMENT_INVALID');
    refused(['eval', 'commit', 'eval.yaml', '--protocol', '--dry-run'], 2, 'USAGE'); // the document says report
    refused(['eval', 'notice', '--commitment', 'US:1', '--model-id', 'm', '--model-digest', 'sha256:abc', '--deployed-at', 'now', ...as(nodes.US)], 2, 'USAGE');
    refused(['eval', 'notice', '--commitment', 'US', '--model-id', 'm', '--model-digest', MODEL_DIGEST, '--deployed-at', 'now', ...as(nodes.US)], 2, 'USAGE');
    refused(['eval', 'notice', '--commitment', 'US:1', '--model-id', 'm', '--model-digest', MODEL_DIGEST, '--deployed-at', 'yesterday', ...as(nodes.US)], 2, 'USAGE');
    refused(['eval', 'reveal', '--disclosures', 'x.json', '--to', 'CN'], 2, 'USAGE'); // no --claim
    refused(['eval', 'reveal', '--disclosures', 'x.json', '--all-claims'], 2, 'USAGE'); // to whom?
    refused(['eval', 'reveal', '--disclosures', 'x.json', '--all-claims', '--to', 'CN', '--public'], 2, 'USAGE');
    refused(['eval', 'verify', 'x.json'], 2, 'USAGE'); // no --accord or --chain
    refused(['eval', 'verify', 'x.json', '--accord', 'accord.json', '--chain', 'c.json'], 2, 'USAGE');
    refused(['eval', 'verify', 'missing.json', '--accord', 'accord.json'], 2, 'FILE_UNREADABLE');
    refused(['eval', 'show', 'nonsense', ...as(nodes.US)], 2, 'USAGE');
    refused(['eval'], 2, 'USAGE'); // a group without its subcommand
  });

  it('--dry-run builds the commitment and writes nothing', () => {
    const d = h.json<{ dryRun: boolean; claims: string[]; sd: string[]; digests: { top: number; topDecoys: number; total: number; claims: number; decoys: number }; reportFile: { sha256: string } }>(['eval', 'commit', 'eval.yaml', '--dry-run']);
    expect(d.dryRun).toBe(true);
    expect(d.claims).toContain('redLines.cbrn-uplift.outcome');
    expect(d.claims).toContain('report.sha256');
    expect(d.claims).not.toContain('report.file');
    expect(d.reportFile.sha256).toBe(createHash('sha256').update(REPORT).digest('hex'));
    expect(d.sd.length % 8).toBe(0);
    expect(d.digests.topDecoys).toBeGreaterThanOrEqual(3);
    expect(d.digests.total).toBe(d.digests.claims + d.digests.decoys);
    expect([...d.sd].sort()).toEqual(d.sd);
    expect(() => statSync(h.at('eval.yaml.disclosures.json'))).toThrow();
  });
});

describe('parley eval against real nodes: commit, notice, reveal, show, evidence, verify', { timeout: 240_000 }, () => {
  it('commits: prints the claims, the digest count with decoys, the position; writes the disclosures file 0600', async () => {
    const before = h.json<{ evaluations: unknown[] }>(['eval', 'list', ...as(nodes.US)]).evaluations.length;
    const c = h.json<{ party: string; index: number; claims: string[]; digests: { top: number; total: number; decoys: number }; disclosuresFile: string; domains: string[] }>(['eval', 'commit', 'eval.yaml', ...as(nodes.US)]);
    expect(c.party).toBe('US');
    expect(c.domains).toEqual(['CBRN', 'cyber']);
    expect(c.digests.decoys).toBeGreaterThan(0);
    index = c.index;
    at = `US:${index}`;
    const file = h.at('eval.yaml.disclosures.json');
    expect(c.disclosuresFile).toBe('eval.yaml.disclosures.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const kept = JSON.parse(readFileSync(file, 'utf8'));
    expect(kept.commitment).toMatchObject({ party: 'US', index });
    expect(kept.disclosures.length).toBe(c.claims.length);
    // Not overwritten: a second commit of the same document refuses (exit 2) and commits nothing.
    const text = readFileSync(file, 'utf8');
    refused(['eval', 'commit', 'eval.yaml', ...as(nodes.US)], 2, 'FILE_EXISTS');
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(h.json<{ evaluations: unknown[] }>(['eval', 'list', ...as(nodes.US)]).evaluations.length).toBe(before + 1);
    // The commitment carries digests only: no claim value is in the logged entry.
    const shown = h.json<{ body?: unknown; entry?: unknown }>(['show', 'US', String(index), ...as(nodes.US)]);
    expect(JSON.stringify(shown)).not.toContain('Frontier-7');
    expect(JSON.stringify(shown)).not.toContain('cbrn-uplift');
  });

  it('a notice dated before its commitment is refused (exit 2, EVAL_NOTICE_BEFORE_COMMITMENT); a missing commitment too', () => {
    refused(['eval', 'notice', '--commitment', at, '--model-id', 'example/frontier-7', '--model-digest', MODEL_DIGEST, '--deployed-at', '2020-01-01', ...as(nodes.US)], 2, 'EVAL_NOTICE_BEFORE_COMMITMENT');
    refused(['eval', 'notice', '--commitment', 'US:999999', '--model-id', 'example/frontier-7', '--model-digest', MODEL_DIGEST, '--deployed-at', 'now', ...as(nodes.US)], 2, 'EVAL_COMMITMENT_MISSING');
  });

  it('announces the deployment once the commitment is proven by another party', async () => {
    await h.until('US shows the commitment proven', 30_000, async () => ((await h.get(nodes.US, `/v1/evaluations/US/${index}`)) as { commitment: { provenBy?: string } }).commitment.provenBy);
    await new Promise((r) => setTimeout(r, 1100)); // strictly after the second the cosignature names
    const n = h.json<{ party: string; index: number; deployedAt: string; warnings?: string[] }>(['eval', 'notice', '--commitment', at, '--model-id', 'example/frontier-7', '--model-digest', MODEL_DIGEST, '--deployed-at', 'now', '--note', 'GA', ...as(nodes.US)]);
    expect(n.party).toBe('US');
    expect(n.warnings).toBeUndefined();
  });

  it('reveals chosen claims to CN (parents added); CN opens them, EU cannot', async () => {
    const r = h.json<{ index: number; revealed: { path: string; value: unknown }[] }>(['eval', 'reveal', '--disclosures', 'eval.yaml.disclosures.json', '--claim', 'redLines.cbrn-uplift.outcome', '--claim', 'model', '--to', 'CN', ...as(nodes.US)]);
    const paths = r.revealed.map((x) => x.path);
    expect(paths).toEqual(expect.arrayContaining(['redLines', 'redLines.cbrn-uplift', 'redLines.cbrn-uplift.outcome', 'model', 'model.name', 'model.version']));
    expect(paths).not.toContain('redLines.cbrn-uplift.score');
    expect(paths).not.toContain('redLines.cyber-autonomy');
    // A claim that was never committed: refused before the network (exit 2).
    refused(['eval', 'reveal', '--disclosures', 'eval.yaml.disclosures.json', '--claim', 'redLines.nope', '--to', 'CN', ...as(nodes.US)], 2, 'EVAL_CLAIM_UNKNOWN');
    // The disclosures file of another commitment: refused.
    refused(['eval', 'reveal', '--disclosures', 'eval.yaml.disclosures.json', '--commitment', 'US:0', '--all-claims', '--to', 'CN', ...as(nodes.US)], 2, 'USAGE');

    const view = await h.until('CN opens the reveal', 30_000, async () => {
      const v = (await h.get(nodes.CN, `/v1/evaluations/US/${index}`)) as any;
      const rv = v.reveals.find((x: any) => x.index === r.index);
      return rv?.revealed !== undefined && v.notices.length === 1 && v.timeline !== undefined ? v : undefined;
    });
    const cnShow = h.json<any>(['eval', 'show', at, ...as(nodes.CN)]);
    expect(cnShow.commitment).toMatchObject({ party: 'US', index, stage: 'report' });
    const opened = cnShow.reveals.find((x: any) => x.index === r.index);
    expect(opened).toMatchObject({ addressed: true });
    expect(opened.error).toBeUndefined();
    expect(opened.revealed).toContainEqual(expect.objectContaining({ path: 'redLines.cbrn-uplift.outcome', value: 'below' }));
    expect(cnShow.timeline.committedBefore).toBe(true);
    expect(view.timeline.committedBefore).toBe(true);
    const human = h.parley(['eval', 'show', at, ...as(nodes.CN)]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/redLines\.cbrn-uplift\.outcome = "below"/);
    expect(human.stdout).toMatch(/committed .* before deployment/);

    const euView = await h.until('EU holds the reveal', 30_000, async () => ((await h.get(nodes.EU, `/v1/evaluations/US/${index}`)) as any).reveals.find((x: any) => x.index === r.index));
    expect(euView.addressed).toBe(false);
    expect(euView.revealed).toBeUndefined();
    expect(h.json<any>(['eval', 'list', ...as(nodes.EU)]).evaluations.some((e: any) => e.commitment.index === index)).toBe(true);
  });

  it('CN downloads the evidence; parley eval verify holds offline with the chain (exit 0), every check printed', async () => {
    h.json(['accord', 'chain', '--out', 'chain.json', '--url', nodes.CN.url]);
    // Until CN's node holds a cosigned checkpoint covering the reveal, it answers 422 EVIDENCE_INVALID ("not held yet").
    const e = await h.until('CN gives the evidence', 30_000, async () => {
      const r = await h.parleyAsync(['eval', 'evidence', at, '--out', 'us.evidence.json', ...as(nodes.CN), '--json']);
      if (r.code !== 0) throw new Error(r.stdout);
      return JSON.parse(r.stdout) as { file: string; disclosures: number };
    });
    expect(e.disclosures).toBeGreaterThan(0);
    refused(['eval', 'evidence', at, '--out', 'us.evidence.json', ...as(nodes.CN)], 2, 'FILE_EXISTS');
    const v = h.json<{ valid: boolean; checks: Check[]; timeline: { committedBefore: boolean; days: number }; claims: any; provability: unknown[] }>(['eval', 'verify', 'us.evidence.json', '--chain', 'chain.json']);
    expect(v.valid).toBe(true);
    expect(v.checks.length).toBeGreaterThan(3);
    expect(v.checks.every((c) => c.ok)).toBe(true);
    expect(v.timeline.committedBefore).toBe(true);
    expect(v.claims.redLines['cbrn-uplift'].outcome).toBe('below');
    expect(v.provability.length).toBeGreaterThanOrEqual(3);
    const human = h.parley(['eval', 'verify', 'us.evidence.json', '--chain', 'chain.json']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/✓/);
    expect(human.stdout).not.toMatch(/✗/);
    expect(human.stdout).toMatch(/before deployment/);
    const zh = h.parley(['eval', 'verify', 'us.evidence.json', '--chain', 'chain.json', '--lang', 'zh-CN']);
    expect(zh.code).toBe(0);
    expect(zh.stdout).toMatch(/[\u4e00-\u9fff]/);
    // The signed accord works too (no rotation in this channel).
    expect(h.parley(['eval', 'verify', 'us.evidence.json', '--accord', 'accord.json']).code).toBe(0);
  });

  /** The evidence with `change` applied, written to `name`; its verify (exit 1) and the failed checks. */
  function tampered(name: string, change: (ev: any) => void, trust = ['--chain', 'chain.json']): { failed: Check[]; human: string } {
    const ev = JSON.parse(readFileSync(h.at('us.evidence.json'), 'utf8'));
    change(ev);
    writeFileSync(h.at(name), JSON.stringify(ev));
    const out = refused(['eval', 'verify', name, ...trust], 1);
    const human = h.parley(['eval', 'verify', name, ...trust]);
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/✗/);
    return { failed: (out.checks as Check[]).filter((c) => !c.ok), human: human.stdout };
  }

  it('fails (exit 1) on a revealed value changed, naming the disclosure check', () => {
    const { failed } = tampered('value.evidence.json', (ev) => {
      const i = ev.disclosures.findIndex((d: string) => JSON.parse(Buffer.from(d, 'base64url').toString())[1] === 'outcome');
      const [salt, name] = JSON.parse(Buffer.from(ev.disclosures[i], 'base64url').toString());
      ev.disclosures[i] = Buffer.from(JSON.stringify([salt, name, 'at-or-above'])).toString('base64url');
    });
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.map((c) => c.id).join(' ')).toMatch(/disclos/i);
  });

  it('fails (exit 1) on a notice moved before the commitment, naming the check', () => {
    const { failed } = tampered('early.evidence.json', (ev) => {
      const text = Buffer.from(ev.notice.entry, 'base64').toString('utf8');
      const moved = text.replace(/"deployedAt":"\d{4}/, '"deployedAt":"2001');
      expect(moved).not.toBe(text);
      ev.notice.entry = Buffer.from(moved, 'utf8').toString('base64');
    });
    expect(failed.some((c) => /notice|before|deploy/i.test(c.id))).toBe(true);
  });

  it('fails (exit 1) with the wrong accord, naming the accord check', () => {
    // Another channel of the same three parties, signed by all: not the evidence's.
    h.json(['accord', 'init', '--name', 'another-channel', '--party-file', 'us/party.json', '--party-file', 'cn/party.json', '--party-file', 'eu/party.json', '--out', 'other.json']);
    for (const p of ['us', 'cn', 'eu']) h.json(['accord', 'sign', 'other.json', '--data', p]);
    const { failed } = tampered('same.evidence.json', () => {}, ['--accord', 'other.json']);
    expect(failed.some((c) => /accord|chain|channel/i.test(c.id))).toBe(true);
  });

  it('a file that is not an evidence bundle fails (exit 1, EVIDENCE_MALFORMED)', () => {
    writeFileSync(h.at('junk.evidence.json'), JSON.stringify({ type: 'something-else' }));
    refused(['eval', 'verify', 'junk.evidence.json', '--chain', 'chain.json'], 1, 'EVIDENCE_MALFORMED');
  });

  it('a pre-registered protocol first, then the report that follows it; a refused commitment leaves no disclosures file', () => {
    writeFileSync(h.at('protocol.yaml'), DOC.replace('stage: report', 'stage: protocol').replace(/, outcome: [a-z-]+, score: [0-9.]+/g, '').replace(/^report:.*$/m, ''));
    const p = h.json<{ index: number; stage: string }>(['eval', 'commit', 'protocol.yaml', ...as(nodes.US)]);
    expect(p.stage).toBe('protocol');
    const r = h.json<{ index: number }>(['eval', 'commit', 'eval.yaml', '--follows', `US:${p.index}`, '--out', 'eval-2.disclosures.json', ...as(nodes.US)]);
    expect(JSON.parse(readFileSync(h.at('eval-2.disclosures.json'), 'utf8')).protocol).toEqual({ party: 'US', index: p.index });
    const v = h.json<any>(['eval', 'show', `US:${r.index}`, ...as(nodes.US)]);
    expect(v.protocol).toMatchObject({ party: 'US', index: p.index });
    // Following a report-stage commitment is refused by the node (exit 2): the disclosures file written first is removed.
    refused(['eval', 'commit', 'eval.yaml', '--follows', at, '--out', 'eval-3.disclosures.json', ...as(nodes.US)], 2);
    expect(() => statSync(h.at('eval-3.disclosures.json'))).toThrow();
  });

  it('exports the opened evaluation as an in-toto Statement in DSSE: US signs, CN co-signs the same payload, verify checks both offline', () => {
    const us = h.json<{ envelope: { payloadType: string; payload: string; signatures: { keyid: string; sig: string }[] }; statement: any }>(['eval', 'export', at, '--dsse', '--out', 'us.dsse.json', ...as(nodes.US)]);
    expect(us.envelope.payloadType).toBe('application/vnd.in-toto+json');
    expect(us.statement._type).toBe('https://in-toto.io/Statement/v1');
    expect(us.statement.subject[0].digest.sha256).toBe(MODEL_DIGEST.slice('sha256:'.length));
    expect(us.envelope.signatures).toHaveLength(1);
    expect(statSync(h.at('us.dsse.json')).isFile()).toBe(true);
    // CN co-signs US's statement (its node agrees on every fact of the logs): one payload, two signatures.
    const both = h.json<{ envelope: { payload: string; signatures: { keyid: string }[] }; added: string[] }>(['eval', 'export', at, '--dsse', '--out', 'both.dsse.json', '--add', 'us.dsse.json', ...as(nodes.CN)]);
    expect(both.envelope.payload).toBe(us.envelope.payload);
    expect(both.envelope.signatures.map((s) => s.keyid.split(':')[0]).sort()).toEqual(['CN', 'US']);
    const v = h.json<{ valid: boolean; signedBy: string[]; checks: Check[] }>(['eval', 'verify', 'both.dsse.json', '--chain', 'chain.json']);
    expect(v.valid).toBe(true);
    expect(v.signedBy.map((k) => k.split(':')[0]).sort()).toEqual(['CN', 'US']);
    // A signature altered: exit 1, that signature named.
    const bad = JSON.parse(readFileSync(h.at('both.dsse.json'), 'utf8'));
    const sig = Buffer.from(bad.signatures[0].sig, 'base64');
    sig[0] = sig[0]! ^ 1;
    bad.signatures[0].sig = sig.toString('base64');
    writeFileSync(h.at('bad.dsse.json'), JSON.stringify(bad));
    const f = refused(['eval', 'verify', 'bad.dsse.json', '--chain', 'chain.json'], 1, 'DSSE_INVALID');
    expect((f.checks as Check[]).filter((c) => !c.ok).map((c) => c.id)).toEqual([`signature ${bad.signatures[0].keyid}`]);
    // An envelope over another payload is refused (exit 2), nothing written.
    const other = { ...us.envelope, payload: Buffer.from('{"other":true}').toString('base64') };
    writeFileSync(h.at('other.dsse.json'), JSON.stringify(other));
    refused(['eval', 'export', at, '--dsse', '--out', 'merged.dsse.json', '--add', 'us.dsse.json', '--add', 'other.dsse.json', ...as(nodes.CN)], 2, 'DSSE_PAYLOAD_MISMATCH');
    expect(() => statSync(h.at('merged.dsse.json'))).toThrow();
  });
});
