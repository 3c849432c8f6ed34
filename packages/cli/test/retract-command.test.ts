/**
 * `parley retract` end to end with the real binary and two real `parley
 * serve` processes (issue 13): US sends CN a FLASH message and two reports,
 * retracts the message and supersedes the first report by the second; the
 * entries reach CN by export → admin ingest (as node-commands.test.ts does);
 * CN's `inbox` and `show` say RETRACTED (reason) / superseded by US/N, US's
 * `outbox` says so and that no acknowledgement is due; CN's `ack` of a
 * withdrawn entry is refused (ENTRY_WITHDRAWN). Refusals exit 2 with
 * the node's RETRACTION_* code as JSON. Asserted by exit codes and JSON
 * fields, and by the marks in the human tables (they are the feature).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalizeToBytes } from '@parley/core/node';
import { ADMIN_PASSWORD, cleanEnv, foundChannel, parleyIn } from './helpers/channel.js';
import { type Served, serve } from './helpers/serve.js';

let tmp = '';
const servers: Served[] = [];
let us: Served;
let cn: Served;
const run = (args: readonly string[]) => parleyIn(tmp, args);
function json<T = Record<string, unknown>>(args: readonly string[]): T {
  const r = run([...args, '--json']);
  expect(r.code, `parley ${args.join(' ')}: ${r.stderr}`).toBe(0);
  return JSON.parse(r.stdout) as T;
}

beforeAll(async () => {
  tmp = foundChannel('parley-retract-cli-');
  const start = (d: string) => serve(d, { cwd: tmp, env: cleanEnv(), extra: ['--no-federation', '--no-heartbeat', '--no-web'] });
  [us, cn] = await Promise.all([start('us'), start('cn')]);
  servers.push(us, cn);
  expect(run(['login', '--name', 'alice', '--password-file', 'pw', '--url', us.url, '--data', 'us']).code).toBe(0);
  expect(run(['login', '--name', 'root', '--password-file', 'pw', '--url', cn.url, '--data', 'cn']).code).toBe(0);
}, 60_000);

afterAll(() => {
  for (const s of servers) if (s.child.exitCode === null) s.child.kill('SIGKILL');
});

describe('parley retract', () => {
  let msg = -1;
  let r1 = -1;
  let r2 = -1;

  it('withdraws a message and supersedes a report; refusals exit 2 with their codes', () => {
    msg = json<{ index: number }>(['send', '--precedence', 'FLASH', '--to', 'CN', '--marking', 'TLP:AMBER', 'Test message, ignore', '--data', 'us']).index;
    const report = (title: string, kind: string) =>
      json<{ index: number }>(['report', '--incident', 'US:2026-0042', '--kind', kind, '--category', 'WT', '--severity', '4', '--system', 'Frontier-1', '--title', title, '--summary', 'Weights were copied.', '--harm', 'security', '--mitigation', 'Rotated credentials', '--to', 'CN', '--data', 'us']).index;
    r1 = report('Weights copied (draft)', 'initial');
    r2 = report('Weights copied', 'update');

    const x = json<{ party: string; index: number; entry: { type: string; to: string[]; marking: string; precedence: string } }>(['retract', String(msg), '--reason', 'Sent by mistake', '--data', 'us']);
    expect(x).toMatchObject({ party: 'US', entry: { type: 'retraction', to: ['CN'], marking: 'TLP:AMBER', precedence: 'FLASH' } });
    const s = run(['retract', String(r1), '--with', String(r2), '--reason', 'Title corrected', '--data', 'us']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout).toContain(`Supersession of US/${r1} by US/${r2}`);

    const again = run(['retract', String(msg), '--reason', 'twice', '--data', 'us', '--json']);
    expect(again.code).toBe(2);
    expect(JSON.parse(again.stdout)).toMatchObject({ error: { code: 'RETRACTION_ALREADY' } });
    const missing = run(['retract', '9999', '--reason', 'nothing', '--data', 'us', '--json']);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({ error: { code: 'RETRACTION_TARGET_MISSING' } });
    // Usage errors, before the node is asked.
    expect(run(['retract', String(msg), '--data', 'us']).code).toBe(2); // no --reason
    expect(run(['retract', '01', '--reason', 'x', '--data', 'us']).code).toBe(2);
    expect(run(['retract', String(r2), '--with', String(r1), '--reason', 'x', '--data', 'us']).code).toBe(2);
    const help = run(['retract', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('$ parley retract 7 --with 9');
  });

  it('CN\u2019s inbox and show mark them; US\u2019s outbox says no acknowledgement is due', async () => {
    const r = run(['export', '--data', 'us']);
    expect(r.code, r.stderr).toBe(0);
    const entries = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { entry: unknown })
      .map((l) => Buffer.from(canonicalizeToBytes(l.entry as never)).toString('base64'));
    const login = await fetch(`${cn.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'root', password: ADMIN_PASSWORD }) });
    const token = ((await login.json()) as { token: string }).token;
    const ingest = await fetch(`${cn.url}/v1/ingest`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ entries }) });
    expect(ingest.status).toBe(200);

    const table = run(['inbox', '--data', 'cn']);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`US\\s+${msg}\\s+hotline\\.message.*RETRACTED \\(Sent by mistake\\)`));
    expect(table.stdout).toMatch(new RegExp(`US\\s+${r1}\\s+incident\\.report.*superseded by US/${r2} \\(Title corrected\\)`));
    const shown = json<{ retracted?: { action: string; reason: string } }>(['show', 'US', String(msg), '--data', 'cn']);
    expect(shown.retracted).toMatchObject({ action: 'retract', reason: 'Sent by mistake' });
    expect(run(['show', 'US', String(r1), '--data', 'cn']).stdout).toContain(`withdrawn: superseded by US/${r2}`);
    // Acknowledging a withdrawn entry is refused: exit 2, ENTRY_WITHDRAWN, a message saying what to do instead.
    const ack = run(['ack', 'US', String(msg), '--data', 'cn', '--json']);
    expect(ack.code).toBe(2);
    expect(JSON.parse(ack.stdout)).toMatchObject({ error: { code: 'ENTRY_WITHDRAWN', status: 409 } });
    const superseded = run(['ack', 'US', String(r1), '--data', 'cn']);
    expect(superseded.code).toBe(2);
    expect(superseded.stderr).toContain(`acknowledge US/${r2} instead`);

    // US's outbox, once CN's receipts are back (ingested the same way): the FLASH awaits no ack.
    const back = run(['export', '--data', 'cn']);
    const cnEntries = back.stdout
      .trim()
      .split('\n')
      .map((l) => Buffer.from(canonicalizeToBytes((JSON.parse(l) as { entry: unknown }).entry as never)).toString('base64'));
    const usLogin = await fetch(`${us.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alice', password: ADMIN_PASSWORD }) });
    const usToken = ((await usLogin.json()) as { token: string }).token;
    expect((await fetch(`${us.url}/v1/ingest`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${usToken}` }, body: JSON.stringify({ entries: cnEntries }) })).status).toBe(200);
    const out = run(['outbox', '--data', 'us']);
    expect(out.code, out.stderr).toBe(0);
    expect(out.stdout).toMatch(new RegExp(`US/${msg}\\s+FLASH\\s+hotline\\.message.*RETRACTED \\(Sent by mistake\\)`));
    expect(out.stdout).toContain('withdrawn (we retracted it: no acknowledgement due)');
  });

  it('kill -9 and a restart of CN’s node keep the entries withdrawn', async () => {
    cn.child.kill('SIGKILL');
    await cn.exited;
    cn = await serve('cn', { cwd: tmp, env: cleanEnv(), extra: ['--no-federation', '--no-heartbeat', '--no-web'] });
    servers.push(cn);
    expect(run(['login', '--name', 'root', '--password-file', 'pw', '--url', cn.url, '--data', 'cn']).code).toBe(0);
    expect(json<{ retracted?: { action: string; reason: string } }>(['show', 'US', String(msg), '--data', 'cn']).retracted).toMatchObject({ action: 'retract', reason: 'Sent by mistake' });
    expect(json<{ retracted?: { action: string; replacement: { index: number } } }>(['show', 'US', String(r1), '--data', 'cn']).retracted).toMatchObject({ action: 'supersede', replacement: { index: r2 } });
  });
});
