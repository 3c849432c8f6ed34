/**
 * The files of `parley eval` read in-process (the real-process round trip is
 * eval.test.ts): evaluation documents in JSON and YAML (YAML 1.2 core schema:
 * no implicit dates, no .inf, no duplicate keys, aliases bounded), the report
 * file's digest, the disclosures file (0600, never replaced without force,
 * altered disclosures refused), times and positions on the command line, and
 * the merge of DSSE envelopes.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { commitClaims, disclosureDigest, evaluationClaims } from '@parley/core/node';
import { UsageError } from '../src/exit.js';
import {
  type DisclosuresFile,
  createDisclosuresFile,
  parsePosition,
  parseTimeArg,
  readDisclosuresFile,
  readEvaluationDocument,
  updateDisclosuresFile,
  withReportDigest,
} from '../src/eval-doc.js';
import { mergeEnvelopes } from '../src/eval-commands.js';

const dir = mkdtempSync(join(tmpdir(), 'parley-eval-doc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const at = (f: string) => join(dir, f);

const DOC = {
  stage: 'report',
  model: { name: 'M', version: '2026-12-01' },
  developer: 'Lab',
  evaluator: 'AISI',
  domains: ['CBRN'],
  suites: [{ name: 's', version: '1' }],
  redLines: { cbrn: { domain: 'CBRN', threshold: 't', outcome: 'below' } },
  report: { file: 'report.bin' },
};

async function usage(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  let e: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (x) {
    e = x;
  }
  expect(e).toBeInstanceOf(UsageError);
  expect((e as UsageError).code).toBe(code);
}

describe('evaluation documents', () => {
  it('reads JSON and YAML to the same value; YAML dates stay text (core schema)', async () => {
    writeFileSync(at('d.json'), JSON.stringify(DOC));
    writeFileSync(at('d.yaml'), 'stage: report\nmodel: {name: M, version: 2026-12-01}\ndeveloper: Lab\nevaluator: AISI\ndomains: [CBRN]\nsuites: [{name: s, version: "1"}]\nredLines:\n  cbrn: {domain: CBRN, threshold: t, outcome: below}\nreport: {file: report.bin}\n');
    writeFileSync(at('d.txt'), JSON.stringify(DOC)); // no telling extension: JSON by content
    const j = await readEvaluationDocument(at('d.json'));
    expect(await readEvaluationDocument(at('d.yaml'))).toEqual(j);
    expect(await readEvaluationDocument(at('d.txt'))).toEqual(j);
    expect((j['model'] as { version: unknown }).version).toBe('2026-12-01');
  });

  it('refuses what is not one JSON value: .inf, duplicate keys, alias bombs, a list, bad syntax', async () => {
    writeFileSync(at('inf.yaml'), 'model: {name: M, version: "1"}\nscore: .inf\n');
    await usage(readEvaluationDocument(at('inf.yaml')), 'FILE_UNREADABLE');
    writeFileSync(at('dup.yaml'), 'a: 1\na: 2\n');
    await usage(readEvaluationDocument(at('dup.yaml')), 'FILE_UNREADABLE');
    const bomb = ['a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    writeFileSync(at('bomb.yaml'), `${bomb}\n`);
    await usage(readEvaluationDocument(at('bomb.yaml')), 'FILE_UNREADABLE');
    writeFileSync(at('list.yaml'), '- a\n- b\n');
    await usage(readEvaluationDocument(at('list.yaml')), 'FILE_UNREADABLE');
    writeFileSync(at('bad.json'), '{"a": ');
    await usage(readEvaluationDocument(at('bad.json')), 'FILE_UNREADABLE');
    await usage(readEvaluationDocument(at('missing.yaml')), 'FILE_UNREADABLE');
  });

  it('report.file becomes report.sha256 (the path left out); a sha256 that disagrees is refused', async () => {
    writeFileSync(at('report.bin'), Buffer.from([0, 1, 2, 3]));
    const hex = createHash('sha256').update(Buffer.from([0, 1, 2, 3])).digest('hex');
    const { doc, hashed } = await withReportDigest({ ...DOC }, at('d.json'));
    expect(doc['report']).toEqual({ sha256: hex });
    expect(hashed?.sha256).toBe(hex);
    expect(evaluationClaims(doc)['report']).toEqual({ sha256: hex });
    await usage(withReportDigest({ ...DOC, report: { file: 'report.bin', sha256: '0'.repeat(64) } }, at('d.json')), 'EVAL_DOCUMENT_INVALID');
    await usage(withReportDigest({ ...DOC, report: { file: 'nope.bin' } }, at('d.json')), 'FILE_UNREADABLE');
  });
});

describe('the disclosures file', () => {
  const kept = (): DisclosuresFile => {
    const { sd, disclosures } = commitClaims({ a: 1, b: { c: 'x' } });
    return { type: 'parley/evaluation-disclosures', v: 1, document: 'd.json', created: new Date().toISOString(), stage: 'report', domains: ['CBRN'], sd, disclosures: disclosures.map((d) => ({ path: d.path, encoded: d.encoded, digest: d.digest })) };
  };

  it('is created 0600, never replaced without force, read back with every digest checked', async () => {
    const f = at('k.json');
    const k = kept();
    createDisclosuresFile(f, k, false);
    expect(statSync(f).mode & 0o777).toBe(0o600);
    const before = readFileSync(f, 'utf8');
    await usage(() => createDisclosuresFile(f, kept(), false), 'FILE_EXISTS');
    expect(readFileSync(f, 'utf8')).toBe(before);
    updateDisclosuresFile(f, { ...k, commitment: { party: 'US', index: 7, leafHash: 'x' } });
    expect(readDisclosuresFile(f, disclosureDigest).commitment).toEqual({ party: 'US', index: 7, leafHash: 'x' });
    expect(statSync(f).mode & 0o777).toBe(0o600);
    // A disclosure altered in the file: refused.
    const altered = JSON.parse(readFileSync(f, 'utf8')) as DisclosuresFile;
    const d0 = altered.disclosures[0]!;
    const [salt, name] = JSON.parse(Buffer.from(d0.encoded, 'base64url').toString()) as [string, string];
    (altered.disclosures as unknown as { encoded: string }[])[0]!.encoded = Buffer.from(JSON.stringify([salt, name, 2])).toString('base64url');
    writeFileSync(at('altered.json'), JSON.stringify(altered));
    await usage(() => readDisclosuresFile(at('altered.json'), disclosureDigest), 'FILE_UNREADABLE');
    writeFileSync(at('other.json'), '{"a":1}');
    await usage(() => readDisclosuresFile(at('other.json'), disclosureDigest), 'FILE_UNREADABLE');
    // --force replaces (and keeps it 0600 even if it was not).
    writeFileSync(at('loose.json'), '{}', { mode: 0o644 });
    createDisclosuresFile(at('loose.json'), k, true);
    expect(statSync(at('loose.json')).mode & 0o777).toBe(0o600);
  });
});

describe('command-line values', () => {
  it('times: RFC 3339 (normalised to UTC), a date, now; anything else refused', async () => {
    expect(parseTimeArg('2026-12-01T09:00:00+08:00', 't')).toBe('2026-12-01T01:00:00.000Z');
    expect(parseTimeArg('2026-12-01', 't')).toBe('2026-12-01T00:00:00.000Z');
    expect(Math.abs(Date.parse(parseTimeArg('now', 't')) - Date.now())).toBeLessThan(5_000);
    for (const bad of ['yesterday', '2026-13-01', '2026-12-01T25:00:00Z', '1733300000', '2026-12-01T09:00']) await usage(() => parseTimeArg(bad, 't'), 'USAGE');
  });

  it('positions: PARTY:INDEX (or PARTY/INDEX)', async () => {
    expect(parsePosition('US:12', 'x')).toEqual({ party: 'US', index: 12 });
    expect(parsePosition('CN/0', 'x')).toEqual({ party: 'CN', index: 0 });
    for (const bad of ['US', 'us:1', 'US:-1', 'US:01', ':3', 'US:1.5']) await usage(() => parsePosition(bad, 'x'), 'USAGE');
  });

  it('DSSE merge: signatures of one payload united once each; another payload, or a second signature by one key, refused', async () => {
    const base = { payloadType: 'application/vnd.in-toto+json', payload: 'cGF5bG9hZA==', signatures: [{ keyid: 'US:k+1', sig: 'AA==' }] };
    const cn = { ...base, signatures: [{ keyid: 'CN:k+2', sig: 'AQ==' }, { keyid: 'US:k+1', sig: 'AA==' }] };
    const m = mergeEnvelopes(base, [{ file: 'cn', env: cn }]);
    expect(m.env.signatures.map((s) => s.keyid)).toEqual(['US:k+1', 'CN:k+2']);
    expect(m.added).toEqual(['CN:k+2']);
    await usage(() => mergeEnvelopes(base, [{ file: 'x', env: { ...base, payload: 'b3RoZXI=' } }]), 'DSSE_PAYLOAD_MISMATCH');
    await usage(() => mergeEnvelopes(base, [{ file: 'x', env: { ...base, signatures: [{ keyid: 'US:k+1', sig: 'Ag==' }] } }]), 'DSSE_PAYLOAD_MISMATCH');
  });
});
