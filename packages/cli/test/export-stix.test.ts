/**
 * `parley export stix` with the real binary against a real node process
 * (US, served; CN founded with it): one incident to a file (atomic, the
 * node's bytes, the same bytes twice), every readable incident in one
 * bundle on stdout, an auditor's --all leaving the sealed incident out, and
 * the exit statuses a script meets — 2 for a usage error or a refusal
 * (NOT_FOUND, STIX_SEALED), 3 for a node that is down. Every bundle is
 * checked against the OASIS STIX 2.1 schemas (core/test/helpers/stix-schemas.ts).
 */
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_PASSWORD, cleanEnv, foundChannel, parleyIn } from './helpers/channel.js';
import { type Served, serve } from './helpers/serve.js';
import { stixValidators } from '../../core/test/helpers/stix-schemas.js';

let tmp = '';
let us: Served | undefined;
const schemas = stixValidators();
const run = (args: readonly string[], env: Record<string, string> = {}) => parleyIn(tmp, args, { env });
type Bundle = { type: string; id: string; objects: { type: string; id: string; name?: string; object_marking_refs?: string[] }[] };
const incidentsOf = (b: Bundle) => b.objects.filter((o) => o.type === 'incident').map((o) => o.name);

const report = (incident: string, title: string, extra: Record<string, unknown> = {}) => ({
  incident,
  kind: 'initial',
  title,
  summary: 'Injected instructions in a retrieved page made the agent copy weights.',
  category: 'SB',
  severity: 4,
  stage: 'incident',
  system: { name: 'Frontier-1', developer: 'Lab A' },
  actor: { type: 'unknown' },
  harm: { types: ['security'] },
  mitigations: ['Disabled browsing for the agent.'],
  techniques: ['AML.T0051.001'],
  ...extra,
});

beforeAll(async () => {
  tmp = foundChannel('parley-export-stix-');
  us = await serve('us', { cwd: tmp, env: cleanEnv(), extra: ['--no-federation', '--no-heartbeat', '--no-web'] });
  const login = run(['login', '--name', 'alice', '--password-file', 'pw', '--url', us.url, '--data', 'us', '--json']);
  expect(login.code, login.stderr).toBe(0);
  writeFileSync(join(tmp, 'amber.json'), JSON.stringify(report('US:2026-0001', 'Agent prompt injection')));
  writeFileSync(join(tmp, 'clear.json'), JSON.stringify(report('US:2026-0002', 'Public jailbreak', { category: 'MU', techniques: ['AML.T0054'] })));
  for (const [file, marking] of [['amber.json', 'TLP:AMBER'], ['clear.json', 'TLP:CLEAR']] as const) {
    const r = run(['report', '--data', 'us', '--file', file, '--marking', marking, '--json']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
}, 180_000);
afterAll(async () => {
  if (us && us.child.exitCode === null) {
    us.child.kill('SIGTERM');
    await us.exited;
  }
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe('parley export stix', () => {
  it('writes one incident to a file atomically: the node’s bundle, valid STIX 2.1, the same bytes each time', async () => {
    const r = run(['export', 'stix', '--data', 'us', '--incident', 'US:2026-0001', '--out', 'one.stix.json', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const summary = JSON.parse(r.stdout) as { ok: boolean; file: string; incidents: string[]; objects: number; bundle: string };
    expect(summary).toMatchObject({ ok: true, incidents: ['US:2026-0001'] });
    const bytes = readFileSync(join(tmp, 'one.stix.json'), 'utf8');
    const bundle = JSON.parse(bytes) as Bundle;
    expect(bundle.id).toBe(summary.bundle);
    expect(bundle.objects.length).toBe(summary.objects);
    expect(schemas.bundleErrors(bundle)).toEqual([]);
    expect(incidentsOf(bundle)).toEqual(['Agent prompt injection']);
    const res = await fetch(`${us!.url}/v1/incidents/US:2026-0001/stix`, { headers: { authorization: `Bearer ${(JSON.parse(readFileSync(join(tmp, 'us', 'session.json'), 'utf8')) as { token: string }).token}` } });
    expect(await res.text()).toBe(bytes);
    expect(run(['export', 'stix', '--data', 'us', '--incident', 'US:2026-0001', '--out', 'two.stix.json']).code).toBe(0);
    expect(readFileSync(join(tmp, 'two.stix.json'), 'utf8')).toBe(bytes);
    expect(readdirSync(tmp).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('--all writes every incident the role may read as one valid bundle on stdout', () => {
    const r = run(['export', 'stix', '--data', 'us', '--all']);
    expect(r.code, r.stderr).toBe(0);
    const bundle = JSON.parse(r.stdout) as Bundle;
    expect(schemas.bundleErrors(bundle)).toEqual([]);
    expect(incidentsOf(bundle).sort()).toEqual(['Agent prompt injection', 'Public jailbreak']);
    expect(new Set(bundle.objects.map((o) => o.id)).size).toBe(bundle.objects.length); // one version per id
  });

  it('an auditor’s --all leaves the sealed incident out and says so; asking for it alone is STIX_SEALED, exit 2', async () => {
    const admin = (JSON.parse(readFileSync(join(tmp, 'us', 'session.json'), 'utf8')) as { token: string }).token;
    const created = await fetch(`${us!.url}/v1/officers`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'audrey', role: 'auditor', password: ADMIN_PASSWORD }) });
    expect(created.status).toBe(201);
    const s = await fetch(`${us!.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'audrey', password: ADMIN_PASSWORD }) });
    const token = ((await s.json()) as { token: string }).token;
    const all = run(['export', 'stix', '--url', us!.url, '--token', token, '--all', '--out', 'audit.stix.json', '--json']);
    expect(all.code, all.stderr).toBe(0);
    expect(JSON.parse(all.stdout)).toMatchObject({ incidents: ['US:2026-0002'], sealed: ['US:2026-0001'] });
    const bundle = JSON.parse(readFileSync(join(tmp, 'audit.stix.json'), 'utf8')) as Bundle;
    expect(incidentsOf(bundle)).toEqual(['Public jailbreak']);
    for (const o of bundle.objects) if (o.object_marking_refs) expect(o.object_marking_refs).toEqual(['marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487']);
    const one = run(['export', 'stix', '--url', us!.url, '--token', token, '--incident', 'US:2026-0001', '--json']);
    expect(one.code).toBe(2);
    expect(JSON.parse(one.stdout)).toMatchObject({ ok: false, code: 'STIX_SEALED' });
  });

  it('usage errors and refusals exit 2 with their code; nothing is written', () => {
    for (const [args, code] of [
      [['export', 'stix', '--data', 'us'], 'USAGE'],
      [['export', 'stix', '--data', 'us', '--incident', 'US:2026-0001', '--all'], 'USAGE'],
      [['export', 'stix', '--data', 'us', '--incident', 'not an id'], 'USAGE'],
      [['export', 'csv', '--data', 'us'], 'USAGE'],
      [['export', 'stix', '--data', 'us', '--incident', 'US:2099-0001', '--out', 'none.json'], 'NOT_FOUND'],
    ] as const) {
      const r = run([...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(JSON.parse(r.stdout), args.join(' ')).toMatchObject({ ok: false, code });
    }
    expect(existsSync(join(tmp, 'none.json'))).toBe(false);
    // A failed export leaves an existing file as it was (the bundle is written whole, then renamed over it).
    writeFileSync(join(tmp, 'keep.json'), 'previous export\n');
    expect(run(['export', 'stix', '--data', 'us', '--incident', 'US:2099-0001', '--out', 'keep.json']).code).toBe(2);
    expect(readFileSync(join(tmp, 'keep.json'), 'utf8')).toBe('previous export\n');
  });

  it('--help shows an example', () => {
    const h = run(['export', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout).toContain('parley export stix --data us --incident US:2026-0007');
  });

  it('a node that is down is exit 3 NODE_UNREACHABLE', async () => {
    us!.child.kill('SIGKILL');
    await us!.exited;
    const r = run(['export', 'stix', '--data', 'us', '--incident', 'US:2026-0001', '--out', 'keep.json', '--json']);
    expect(r.code).toBe(3);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, code: 'NODE_UNREACHABLE' });
    expect(readFileSync(join(tmp, 'keep.json'), 'utf8')).toBe('previous export\n');
  });
});
