/**
 * POST /v1/imports/aiid on a real node (SQLite store, HTTP in process): every
 * record is checked before anything is signed — one bad record refuses the
 * whole import with a typed 4xx and logs nothing; too many records is a
 * typed 413; a re-import skips what is held; a dry run logs nothing; an
 * auditor may not import.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHttpChannel, login, expectProblem } from './helpers/http.js';
import { sampleReport } from './helpers/channel.js';
import { MAX_IMPORT_RECORDS } from '../src/http/imports.js';

let ch: Awaited<ReturnType<typeof openHttpChannel>>;
let alice: { authorization: string };
const rec = (id: number, over: Record<string, unknown> = {}) => ({
  from: `incidents.csv:${id + 1}`,
  report: sampleReport({
    incident: `US:aiid-${id}`,
    title: `AIID incident ${id}`,
    category: 'UB',
    severity: 2,
    source: { name: 'AIID', id: String(id), url: `https://incidentdatabase.ai/cite/${id}`, license: 'CC BY-SA 4.0' },
    ...over,
  }),
});
const post = (payload: unknown, h = alice) => ch.app('US').inject({ method: 'POST', url: '/v1/imports/aiid', payload: payload as object, headers: h });

beforeAll(async () => {
  ch = await openHttpChannel(['CN', 'US']);
  alice = await login(ch.app('US'), 'alice');
});
afterAll(async () => ch?.close());

describe('POST /v1/imports/aiid', () => {
  it('refuses the whole import when one record is bad, and logs nothing', async () => {
    const before = ch.node('US').treeSize;
    const bad = [
      [rec(1), rec(2, { title: '' })],
      [rec(1), rec(2, { source: { name: 'OECD', id: '2', license: 'CC BY-SA 4.0' } })],
      [rec(1), rec(2, { incident: 'US:aiid-3' })],
      [rec(1), rec(2, { kind: 'update' })],
      [rec(1), rec(1)],
      [rec(1), { report: { incident: 'US:aiid-2' } }],
    ];
    for (const records of bad) {
      const p = expectProblem(await post({ records }), 422, 'IMPORT_RECORD_INVALID');
      expect(String(p['detail'])).toMatch(/^records\[1\]/);
    }
    expect(ch.node('US').treeSize).toBe(before);
  });

  it('answers 413 IMPORT_TOO_LARGE beyond the record limit', async () => {
    const records = Array.from({ length: MAX_IMPORT_RECORDS + 1 }, () => ({ report: {} }));
    expectProblem(await post({ records }), 413, 'IMPORT_TOO_LARGE');
  });

  it('a dry run logs nothing; the import logs every record in one checkpoint; a re-import skips them', async () => {
    const before = ch.node('US').treeSize;
    const dry = await post({ records: [rec(1), rec(2)], dryRun: true });
    expect(dry.statusCode, dry.body).toBe(200);
    expect(dry.json()).toMatchObject({ dryRun: true, imported: [{ aiid: '1' }, { aiid: '2' }], skipped: [] });
    expect(ch.node('US').treeSize).toBe(before);
    const r = await post({ records: [rec(1), rec(2), rec(3)] });
    expect(r.statusCode, r.body).toBe(200);
    const a = r.json<{ imported: { aiid: string; index: number }[]; treeSize: number }>();
    expect(a.imported.map((i) => i.index)).toEqual([before, before + 1, before + 2]);
    // One batch: the three entries share the checkpoint that first includes them.
    expect(ch.node('US').treeSize).toBe(before + 3);
    const again = (await post({ records: [rec(2), rec(4)] })).json<{ imported: { aiid: string }[]; skipped: { aiid: string; code: string }[] }>();
    expect(again.imported.map((i) => i.aiid)).toEqual(['4']);
    expect(again.skipped).toEqual([expect.objectContaining({ aiid: '2', code: 'IMPORT_DUPLICATE' })]);
    const listed = (await ch.app('US').inject({ method: 'GET', url: '/v1/imports/aiid', headers: alice })).json<{ party: string; imported: { aiid: string }[] }>();
    expect(listed).toMatchObject({ party: 'US' });
    expect(listed.imported.map((i) => i.aiid)).toEqual(['1', '2', '3', '4']);
  });

  it('answers 413 INPUT_TOO_LARGE for a body beyond the route’s limit, and logs nothing', async () => {
    const before = ch.node('US').treeSize;
    const r = await ch.app('US').inject({ method: 'POST', url: '/v1/imports/aiid', headers: { ...alice, 'content-type': 'application/json' }, payload: `{"records":[{"report":"${'x'.repeat(49 * 1024 * 1024)}"}]}` });
    expectProblem(r, 413, 'INPUT_TOO_LARGE');
    expect(ch.node('US').treeSize).toBe(before);
  });

  it('an auditor may not import', async () => {
    expectProblem(await post({ records: [rec(9)] }, await login(ch.app('US'), 'audrey')), 403, 'FORBIDDEN');
  });
});
