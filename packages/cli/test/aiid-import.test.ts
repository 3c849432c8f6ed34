/**
 * `parley import aiid` with the real binary against a real node process (US
 * of a US–CN channel), on the sample snapshot in fixtures/aiid (made with
 * AIID's own export scripts, README there): a dry run logs nothing; the
 * import maps classifications (MIT, CSETv1, GMF) through the shipped map,
 * keeps the AIID ids and attribution, skips the duplicate, lists the value
 * the map does not know; a second import logs nothing new; a malformed CSV
 * or map is a typed error and logs nothing; a malformed row is skipped with
 * its line; kill -9 of the node during a large import leaves all of it or
 * none of it.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, cleanEnv, parleyIn } from './helpers/channel.js';
import { type Served, serve } from './helpers/serve.js';

const FIXTURE = resolve(fileURLToPath(new URL('.', import.meta.url)), 'fixtures/aiid');
let tmp = '';
let us: Served | undefined;
const run = (args: readonly string[]) => parleyIn(tmp, args, { timeout: 120_000 });
function ok(args: readonly string[]): Record<string, unknown> {
  const r = run([...args, '--json']);
  if (r.code !== 0) throw new Error(`parley ${args.join(' ')} exited ${r.code}: ${r.stdout}${r.stderr}`);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}
function refused(args: readonly string[], exit: number, code: string) {
  const r = run([...args, '--json']);
  expect(r.code, r.stdout + r.stderr).toBe(exit);
  const out = JSON.parse(r.stdout) as { ok: boolean; error: { code: string; detail: string } };
  expect(out.error.code).toBe(code);
  return out.error;
}
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}
const logSize = async () => {
  const r = await fetch(`${us!.url}/log/checkpoint`);
  if (r.status === 404) return 0; // an empty log has no checkpoint yet
  const n = Number((await r.text()).split('\n')[1]);
  expect(Number.isSafeInteger(n)).toBe(true);
  return n;
};
const startUs = async () => {
  us = await serve('us', { cwd: tmp, env: cleanEnv(), extra: ['--no-federation', '--no-heartbeat', '--no-web'] });
  ok(['login', '--name', 'alice', '--password-file', 'pw', '--url', us.url, '--data', 'us']);
};

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'parley-aiid-'));
  writeFileSync(join(tmp, 'pw'), `${ADMIN_PASSWORD}\n`);
  for (const p of ['US', 'CN']) {
    ok(['init', '--party', p, '--origin', `${p.toLowerCase()}.parley.test/log`, '--data', p.toLowerCase(), '--port', String(await closedPort()), '--admin', 'alice', '--admin-password-file', 'pw']);
  }
  ok(['accord', 'init', '--name', 'aiid-test', '--party-file', 'us/party.json', '--party-file', 'cn/party.json', '--out', 'accord.json']);
  for (const p of ['us', 'cn']) ok(['accord', 'sign', 'accord.json', '--data', p]);
  ok(['accord', 'install', 'accord.json', '--data', 'us']);
  await startUs();
}, 180_000);

afterAll(() => {
  if (us?.child.exitCode === null) us.child.kill('SIGKILL');
  rmSync(tmp, { recursive: true, force: true });
});

interface Result {
  party: string;
  dryRun: boolean;
  imported: { aiid: string; incident: string; index?: number }[];
  skipped: { aiid?: string; code: string; reason: string; from?: string }[];
  unmapped: { aiid: string; namespace: string; field: string; value: string; from: string }[];
  defaulted: string[];
  treeSize: number;
}

describe('parley import aiid', () => {
  let first: Result;
  it('a dry run reports what would be imported and logs nothing', async () => {
    const before = await logSize();
    const r = ok(['import', 'aiid', FIXTURE, '--dry-run', '--data', 'us']) as unknown as Result;
    expect(r.dryRun).toBe(true);
    expect(r.imported.map((i) => i.incident)).toEqual(['US:aiid-1', 'US:aiid-23', 'US:aiid-101', 'US:aiid-202', 'US:aiid-404', 'US:aiid-505']);
    expect(await logSize()).toBe(before);
  });

  it('imports six incidents with the map’s codes, AIID ids and attribution; skips the duplicate; lists the unknown value', async () => {
    first = ok(['import', 'aiid', FIXTURE, '--data', 'us']) as unknown as Result;
    expect(first.dryRun).toBe(false);
    expect(first.imported).toHaveLength(6);
    expect(first.skipped).toEqual([expect.objectContaining({ aiid: '303', code: 'AIID_DUPLICATE', from: 'incidents.csv:7' })]);
    expect(first.unmapped).toEqual([expect.objectContaining({ aiid: '404', namespace: 'MIT', field: 'Risk Subdomain', value: '3.9. A subdomain this map does not know', from: 'classifications_MIT.csv:4' })]);
    expect(first.defaulted).toEqual(['23', '101']);
    const body = (aiid: string) => {
      const i = first.imported.find((x) => x.aiid === aiid)!;
      const v = ok(['show', 'US', String(i.index), '--data', 'us']) as { entry: { marking: string; type: string; to: string[] }; body: Record<string, unknown> };
      expect(v.entry).toMatchObject({ type: 'incident.report', marking: 'TLP:CLEAR', to: ['CN'] });
      return v.body;
    };
    const b1 = body('1');
    expect(b1).toMatchObject({
      incident: 'US:aiid-1',
      kind: 'initial',
      title: 'Google’s YouTube Kids App Presents Inappropriate Content',
      category: 'HS', // MIT 1.2
      severity: 2,
      stage: 'incident',
      system: { name: 'Youtube', developer: 'Youtube' },
      harm: { types: ['psychological', 'security'], description: 'Alleged harmed or nearly harmed parties: Children' },
      occurredAt: '2015-05-19T00:00:00Z',
      source: { name: 'AIID', id: '1', url: 'https://incidentdatabase.ai/cite/1', license: 'CC BY-SA 4.0' },
    });
    expect(b1['potential']).toBeUndefined();
    // reports.csv: titles and URLs of the incident's reports, the escaped backslash read back as one.
    expect(String(b1['summary'])).toContain('- Advocates file complaint over YouTube Kids (example.net, 2015-05-20) https://example.net/complaint');
    expect(body('101')).toMatchObject({ potential: true, stage: 'near-miss', severity: 1, category: 'UB', system: { name: 'City Transit', developer: 'Roadsense' } });
    expect(body('202')).toMatchObject({ potential: true, stage: 'hazard', severity: 1, category: 'SB', harm: { types: ['security'] } });
    expect(body('505')).toMatchObject({ category: 'HS', severity: 4, harm: { types: ['physical', 'infrastructure'] } });
    expect(body('404')).toMatchObject({ category: 'IO' }); // MIT domain 3, after the unknown subdomain
    expect(String(body('23')['summary'])).toContain('A self-driving public shuttle by Keolis North America');
    expect(String(body('101')['summary'])).toContain('at a crossing;\nthe safety driver'); // a multi-line cell
  });

  it('importing the same snapshot again logs nothing new', async () => {
    const before = await logSize();
    const r = ok(['import', 'aiid', join(FIXTURE, 'incidents.csv'), join(FIXTURE, 'duplicates.csv'), '--data', 'us']) as unknown as Result;
    expect(r.imported).toEqual([]);
    expect(r.skipped.filter((s) => s.code === 'IMPORT_DUPLICATE').map((s) => s.aiid)).toEqual(['1', '23', '101', '202', '404', '505']);
    expect(await logSize()).toBe(before);
  });

  it('a malformed CSV file is a typed error naming file and line, and logs nothing', async () => {
    const dir = join(tmp, 'broken');
    cpSync(FIXTURE, dir, { recursive: true });
    const text = readFileSync(join(dir, 'incidents.csv'), 'utf8');
    writeFileSync(join(dir, 'incidents.csv'), text.replace('2099', '') + 'ObjectId(ff),900,2024-01-01,[1],"[""x""]","[""y""]","[""z""]","an unclosed quote,Title\n');
    const before = await logSize();
    const e = refused(['import', 'aiid', dir, '--data', 'us'], 2, 'AIID_CSV_MALFORMED');
    expect(e.detail).toMatch(/^incidents\.csv:\d+: /);
    // A header without the columns the import needs.
    writeFileSync(join(dir, 'incidents.csv'), 'id,name\n1,x\n');
    expect(refused(['import', 'aiid', dir, '--data', 'us'], 2, 'AIID_CSV_MALFORMED').detail).toContain('no "incident_id" column');
    expect(await logSize()).toBe(before);
  });

  it('a malformed row is skipped with its line; the rest is imported', async () => {
    const dir = join(tmp, 'row');
    cpSync(FIXTURE, dir, { recursive: true });
    writeFileSync(join(dir, 'incidents.csv'), readFileSync(join(FIXTURE, 'incidents.csv'), 'utf8') + 'ObjectId(ff),901,2024-13-45,[1],"[""x""]","[""y""]","[""z""]",d,t\nObjectId(ff),902,2024-01-02,[1],"[""x""]","[""y""]","[""z""]",A new incident,Nine hundred and two\nObjectId(ff),903,too,few\n');
    const r = ok(['import', 'aiid', dir, '--data', 'us']) as unknown as Result;
    expect(r.imported.map((i) => i.aiid)).toEqual(['902']);
    expect(r.skipped.filter((s) => s.code === 'AIID_ROW_MALFORMED')).toEqual([
      expect.objectContaining({ aiid: '901', from: 'incidents.csv:10', reason: 'date "2024-13-45" is not YYYY-MM-DD' }),
      expect.objectContaining({ aiid: '903', from: 'incidents.csv:12' }),
    ]);
  });

  it('a bad map is AIID_MAP_INVALID; a map that skips unknown values skips AIID 404', async () => {
    const map = JSON.parse(readFileSync(resolve(FIXTURE, '../../../data/aiid-map.json'), 'utf8')) as { rules: { values?: Record<string, { category?: string }> }[]; unknownValues: string };
    map.rules[0]!.values!['1.2. Exposure to toxic content']!.category = 'XX';
    writeFileSync(join(tmp, 'bad-map.json'), JSON.stringify(map));
    expect(refused(['import', 'aiid', FIXTURE, '--map', 'bad-map.json', '--dry-run', '--data', 'us'], 2, 'AIID_MAP_INVALID').detail).toContain('"XX" is not a taxonomy category');
    const skip = JSON.parse(readFileSync(resolve(FIXTURE, '../../../data/aiid-map.json'), 'utf8')) as { unknownValues: string };
    skip.unknownValues = 'skip';
    writeFileSync(join(tmp, 'skip-map.json'), JSON.stringify(skip));
    // US holds AIID 404 already: the same incident under a fresh number (4040) shows what the map does.
    const dir = join(tmp, 'fresh');
    cpSync(FIXTURE, dir, { recursive: true });
    writeFileSync(join(dir, 'incidents.csv'), readFileSync(join(FIXTURE, 'incidents.csv'), 'utf8').replace(',404,', ',4040,'));
    writeFileSync(join(dir, 'classifications_MIT.csv'), readFileSync(join(FIXTURE, 'classifications_MIT.csv'), 'utf8').replace('MIT,404,', 'MIT,4040,'));
    const r = ok(['import', 'aiid', dir, '--map', 'skip-map.json', '--dry-run', '--data', 'us']) as unknown as Result;
    expect(r.skipped.find((s) => s.aiid === '4040')).toMatchObject({ code: 'AIID_UNMAPPED_VALUE', reason: expect.stringContaining('3.9. A subdomain this map does not know') });
    expect(r.imported).toEqual([]);
    const printed = run(['import', 'aiid', '--print-map']);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout)).toMatchObject({ format: 'parley-aiid-map', version: 1 });
  });

  it('--limit imports a snapshot in parts: each run takes the next incidents not imported yet', async () => {
    const dir = join(tmp, 'parts');
    const lines = ['_id,incident_id,date,reports,Alleged deployer of AI system,Alleged developer of AI system,Alleged harmed or nearly harmed parties,description,title'];
    for (let k = 0; k < 5; k++) lines.push(`ObjectId(${(k + 1).toString(16).padStart(24, '0')}),${9000 + k},2025-02-01,[],"[""d-${k}""]","[""v-${k}""]","[""people""]",Part ${k},Part ${k}`);
    cpSync(FIXTURE, dir, { recursive: true });
    writeFileSync(join(dir, 'incidents.csv'), `${lines.join('\n')}\n`);
    const a = ok(['import', 'aiid', dir, '--limit', '2', '--data', 'us']) as unknown as Result & { deferred: number };
    expect(a.imported.map((i) => i.aiid)).toEqual(['9000', '9001']);
    expect(a.deferred).toBe(3);
    const b = ok(['import', 'aiid', dir, '--limit', '2', '--data', 'us']) as unknown as Result & { deferred: number };
    expect(b.imported.map((i) => i.aiid)).toEqual(['9002', '9003']);
    expect(b.skipped.filter((s) => s.code === 'IMPORT_DUPLICATE').map((s) => s.aiid)).toEqual(['9000', '9001']);
    const c = ok(['import', 'aiid', dir, '--limit', '2', '--data', 'us']) as unknown as Result & { deferred: number };
    expect(c.imported.map((i) => i.aiid)).toEqual(['9004']);
    expect(c.deferred).toBe(0);
  });

  it('parley export aiid writes TLP:CLEAR incidents in AIID submission shape, never a non-CLEAR one', async () => {
    const send = (marking: string, id: string, title: string) =>
      ok(['report', '--incident', id, '--title', title, '--summary', `${title}: what happened, what is known and what is not known yet, in enough words for AIID.`, '--category', 'SB', '--severity', '3', '--system', 'FooChat', '--developer', 'Acme AI', '--harm', 'security', '--mitigation', 'Filter patched', '--marking', marking, '--yes', '--data', 'us']);
    send('TLP:CLEAR', 'US:2026-0300', 'FooChat jailbreak published');
    send('TLP:AMBER', 'US:2026-0301', 'SECRET amber incident');
    const r = run(['export', 'aiid', '--out', 'aiid-out.json', '--json', '--data', 'us']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ exported: 1, leftOut: { notClear: 1, withdrawn: 0 } });
    const doc = readFileSync(join(tmp, 'aiid-out.json'), 'utf8');
    expect(doc).not.toContain('SECRET');
    const subs = JSON.parse(doc) as Record<string, unknown>[];
    expect(subs).toHaveLength(1);
    expect(Object.keys(subs[0]!).sort()).toEqual(
      ['authors', 'date_downloaded', 'date_published', 'deployers', 'description', 'developers', 'harmed_parties', 'image_url', 'implicated_systems', 'incident_date', 'incident_title', 'language', 'source_domain', 'submitters', 'tags', 'text', 'title', 'url'].sort(),
    );
    expect(subs[0]).toMatchObject({ title: 'FooChat jailbreak published', developers: ['Acme AI'], implicated_systems: ['FooChat'], language: 'en' });
    // No public source: url and source_domain empty, never the node's own (non-public) address.
    expect(subs[0]).toMatchObject({ url: '', source_domain: '' });
    expect(doc).not.toMatch(/127\.0\.0\.1|\/v1\/entries/);
    expect(String(subs[0]!['text']).length).toBeGreaterThanOrEqual(80);
    expect(String(subs[0]!['date_published'])).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    // The imported AIID records go back only when asked for.
    const all = run(['export', 'aiid', '--include-imported', '--data', 'us']);
    expect(all.code, all.stderr).toBe(0);
    const withImported = JSON.parse(all.stdout) as { text: string; url: string; source_domain: string }[];
    expect(withImported.filter((x) => !/US:aiid-\d+/.test(x.text))).toHaveLength(1);
    // An imported record's submission cites AIID's own page for it (its report's source.url).
    const cited = withImported.find((x) => /US:aiid-23\b/.test(x.text))!;
    expect(cited).toMatchObject({ url: 'https://incidentdatabase.ai/cite/23', source_domain: 'incidentdatabase.ai' });
    expect(withImported.map((x) => x.text).join('\n')).not.toContain('SECRET');
  });

  it('parley export aiid leaves out an incident whose report was retracted, and never exports a withdrawn report', async () => {
    const send = (id: string, title: string, kind?: string) =>
      ok(['report', '--incident', id, ...(kind !== undefined ? ['--kind', kind] : []), '--title', title, '--summary', `${title}: what happened, what is known and what is not known yet, in enough words for AIID.`, '--category', 'SB', '--severity', '3', '--system', 'FooChat', '--developer', 'Acme AI', '--harm', 'security', '--mitigation', 'Filter patched', '--marking', 'TLP:CLEAR', '--yes', '--data', 'us']) as { index: number };
    const gone = send('US:2026-0310', 'WITHDRAWN wrong channel');
    ok(['retract', String(gone.index), '--reason', 'sent by mistake', '--data', 'us']);
    send('US:2026-0311', 'FooChat second incident');
    const wrong = send('US:2026-0311', 'WRONG update of the second incident', 'update');
    ok(['retract', String(wrong.index), '--reason', 'the update was wrong', '--data', 'us']);
    const r = run(['export', 'aiid', '--json', '--out', 'aiid-retracted.json', '--data', 'us']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ leftOut: { withdrawn: 1 } });
    const doc = readFileSync(join(tmp, 'aiid-retracted.json'), 'utf8');
    expect(doc).not.toContain('WITHDRAWN');
    expect(doc).not.toContain('WRONG');
    expect((JSON.parse(doc) as { title: string }[]).map((x) => x.title)).toContain('FooChat second incident');
  });

  it('kill -9 of the node during a large import leaves all of the import or none of it', async () => {
    // 3,000 generated incidents in AIID's incidents.csv shape.
    const dir = join(tmp, 'large');
    const lines = ['_id,incident_id,date,reports,Alleged deployer of AI system,Alleged developer of AI system,Alleged harmed or nearly harmed parties,description,title'];
    for (let k = 0; k < 3000; k++) lines.push(`ObjectId(${(k + 1).toString(16).padStart(24, '0')}),${5000 + k},2025-01-01,[],"[""deployer-${k}""]","[""developer-${k}""]","[""people""]","Generated incident ${k}, for the crash test.",Generated ${k}`);
    cpSync(FIXTURE, dir, { recursive: true });
    writeFileSync(join(dir, 'incidents.csv'), `${lines.join('\n')}\n`);
    rmSync(join(dir, 'duplicates.csv'));
    const before = await logSize();
    const { spawn } = await import('node:child_process');
    const { BIN } = await import('./helpers/serve.js');
    const child = spawn(process.execPath, [BIN, 'import', 'aiid', dir, '--data', 'us'], { cwd: tmp, env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    // The command says "3000 incidents to import" just before it sends them: kill the node outright while it checks and signs.
    await new Promise<void>((r) => child.stderr!.on('data', (d: Buffer) => d.toString().includes('incidents to import') && r()));
    await new Promise((r) => setTimeout(r, 150));
    us!.child.kill('SIGKILL');
    await us!.exited;
    await new Promise((r) => child.on('exit', r));
    await startUs();
    const after = await logSize();
    expect([before, before + 3000]).toContain(after);
    process.stderr.write(`kill -9 during a 3000-record import: ${after === before ? 'none' : 'all'} of it was stored\n`);
    const held = ok(['import', 'aiid', dir, '--dry-run', '--data', 'us']) as unknown as Result;
    // Whatever survived is whole: every record imported, or none.
    expect([0, 3000]).toContain(held.skipped.filter((s) => s.code === 'IMPORT_DUPLICATE').length);
    expect(held.imported.length + held.skipped.filter((s) => s.code === 'IMPORT_DUPLICATE').length).toBe(3000);
    if (held.imported.length === 3000) {
      // The import the crash interrupted, run to the end: one request, one store batch.
      const t0 = Date.now();
      const done = ok(['import', 'aiid', dir, '--data', 'us']) as unknown as Result;
      process.stderr.write(`imported 3000 generated AIID incidents in ${Date.now() - t0} ms (parley import aiid, end to end)\n`);
      expect(done.imported).toHaveLength(3000);
      expect(await logSize()).toBe(after + 3000);
    }
  }, 180_000);
});
