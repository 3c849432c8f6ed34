/**
 * Governance at the command line against real nodes (issue 11): three
 * parties (US, CN, EU; amendments need 2) run `parley serve` as real
 * processes with federation. US proposes a change (`parley accord propose
 * --set`), CN sees it pending (`accord status`) and approves it (`accord
 * approve`), every node activates it; `accord history` and `accord chain`
 * show and save the verified chain, `accord verify` walks it offline, and
 * `log verify --chain` audits a log across versions. Then EU rotates its log
 * key (`parley key rotate`: log.key.next, restart, approvals by US and CN)
 * and EU's whole log still passes the audit across the rotation.
 *
 * Asserted by exit status and JSON members, never by message text.
 */
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Node, type Party, PARTIES, stop, threeParties } from './helpers/parties.js';

const h = threeParties({ parleyTimeout: 60_000, httpTimeout: 15_000 });
const { nodes } = h;
const start = (n: Node) => h.start(n, { flags: ['--poll', '300'], peers: [] });
const as = (n: Node) => ['--url', n.url, '--token', n.token];

interface Item {
  digest: string;
  version: number;
  status: string;
  quorum: { need: number; have: number };
  approvals: { party: string }[];
  consents: { need: string[]; have: string[]; missing: string[] };
  diff: { path: string }[];
}

const statusOf = (n: Node, all = false) => h.json<{ current: { version: number; digest: string }; items: Item[] }>(['accord', 'status', ...as(n), ...(all ? ['--all'] : [])]);
/** The newest version of a node's chain (GET /v1/accord/chain): what its activations follow. */
const versionAt = async (n: Node) => ((await h.get(n, '/v1/accord/chain')) as { versions: { accord: { version?: number } }[] }).versions.at(-1)!.accord.version ?? 1;
const logKeyOf = async (n: Node, p: Party) => ((await h.get(n, '/v1/accord/chain')) as { versions: { accord: { parties: { id: string; logKey: string }[] } }[] }).versions.at(-1)!.accord.parties.find((x) => x.id === p)!.logKey;

beforeAll(async () => {
  await h.found('parley-gov-', 'gov-test', ['--quorum', '2', '--heartbeat', '60']);
  await h.startAll(start);
}, 180_000);

afterAll(async () => {
  await h.teardown([]);
});

describe('accord propose, status, approve, history, chain, verify against real nodes', { timeout: 240_000 }, () => {
  let digest = '';

  it('refuses what cannot be proposed (exit 2, typed code), without a terminal needs --yes', () => {
    const fixed = h.parley(['accord', 'propose', '--set', 'version=5', ...as(nodes.US), '--yes', '--json']);
    expect(fixed.code).toBe(2);
    expect(JSON.parse(fixed.stdout).code).toBe('USAGE');
    const nothing = h.parley(['accord', 'propose', ...as(nodes.US), '--json']);
    expect(nothing.code).toBe(2);
    const noYes = h.parley(['accord', 'propose', '--set', 'heartbeatSeconds=120', ...as(nodes.US), '--json']);
    expect(noYes.code).toBe(2);
    expect(JSON.parse(noYes.stdout).code).toBe('USAGE');
    const noParty = h.parley(['accord', 'propose', '--remove-party', 'XX', ...as(nodes.US), '--yes', '--json']);
    expect(noParty.code).toBe(2);
  });

  it('US proposes version 2: the diff, the digest, its entry', () => {
    const r = h.json<{ proposed: boolean; version: number; digest: string; index: number; diff: { path: string; from: unknown; to: unknown }[] }>([
      'accord', 'propose', '--set', 'heartbeatSeconds=120', '--rationale', 'more frequent heartbeats', ...as(nodes.US), '--yes',
    ]);
    expect(r).toMatchObject({ proposed: true, version: 2 });
    expect(r.diff).toContainEqual({ path: 'heartbeatSeconds', from: 60, to: 120 });
    expect(r.digest).toMatch(/^[0-9a-f]{64}$/);
    digest = r.digest;
  });

  it("CN sees it pending: quorum 1 of 2, approved by US; approves it by a digest prefix", async () => {
    const item = await h.until('the proposal at CN', 30_000, async () => statusOf(nodes.CN).items.find((i) => i.digest === digest));
    expect(item).toMatchObject({ version: 2, status: 'pending', quorum: { need: 2, have: 1 } });
    expect(item.approvals.map((a) => a.party)).toEqual(['US']);
    expect(item.consents.missing).toEqual([]);
    const bad = h.parley(['accord', 'approve', 'ffffffffff', ...as(nodes.CN), '--yes', '--json']);
    expect(bad.code).toBe(2);
    const r = h.json<{ approved: boolean; version: number; index: number; digest: string }>(['accord', 'approve', digest.slice(0, 12), ...as(nodes.CN), '--yes']);
    expect(r).toMatchObject({ approved: true, version: 2, digest });
  });

  it('every node activates version 2; status --all shows it active', async () => {
    for (const p of PARTIES) await h.until(`version 2 at ${p}`, 60_000, async () => ((await versionAt(nodes[p])) === 2 ? true : undefined));
    const s = statusOf(nodes.US, true);
    expect(s.current.version).toBe(2);
    expect(s.items.find((i) => i.digest === digest)?.status).toBe('active');
    expect(statusOf(nodes.US).items).toEqual([]);
  });

  it('history verifies the chain and shows each version, its diff and activations; chain --out saves it; verify walks it (0)', async () => {
    // Wait until every party's activation of v2 is in US's chain.
    await h.until('three activations in the chain', 60_000, async () => (((await h.get(nodes.US, '/v1/accord/chain')) as { activations: unknown[] }).activations.length >= 3 ? true : undefined));
    const hist = h.json<{ valid: boolean; current: { version: number }; versions: { version: number; diff: { path: string }[]; activations: { party: string; size: number }[] }[] }>(['accord', 'history', ...as(nodes.US)]);
    expect(hist).toMatchObject({ valid: true, current: { version: 2 } });
    expect(hist.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(hist.versions[1]!.diff.map((d) => d.path)).toEqual(['heartbeatSeconds']);
    expect(hist.versions[1]!.activations.map((a) => a.party).sort()).toEqual(['CN', 'EU', 'US']);
    const saved = h.json<{ written: string; valid: boolean }>(['accord', 'chain', '--out', 'chain.json', '--url', nodes.US.url]);
    expect(saved.valid).toBe(true);
    const v = h.json<{ valid: boolean; versions: number; checks: { name: string; ok: boolean }[] }>(['accord', 'verify', 'chain.json']);
    expect(v).toMatchObject({ valid: true, versions: 2 });
    expect(v.checks.filter((c) => c.name.startsWith('activation ')).length).toBe(3);
    const online = h.json<{ valid: boolean }>(['accord', 'verify', '--node', nodes.CN.url]);
    expect(online.valid).toBe(true);
  });

  it('log verify --chain audits a log across versions 1 and 2', async () => {
    const key = await logKeyOf(nodes.US, 'US');
    const r = h.json<{ valid: boolean; party: string; entries: number; checks: { name: string }[] }>(['log', 'verify', '--from', nodes.US.url, '--key', key, '--chain', 'chain.json']);
    expect(r).toMatchObject({ valid: true, party: 'US' });
    expect(r.entries).toBeGreaterThan(2);
  });
});

describe('key rotate (planned) against real nodes; the log still passes a full audit across the rotation', { timeout: 300_000 }, () => {
  it('EU rotates: log.key.next (0600), a proposal with the new key consent; after a restart and the quorum EU runs on the new key, and its log passes the audit with either key', async () => {
    const before = await logKeyOf(nodes.EU, 'EU');
    const v = (await versionAt(nodes.US)) + 1;
    const run = h.parley(['key', 'rotate', '--data', 'eu', ...as(nodes.EU), '--yes', '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as { proposed: boolean; version: number; digest: string; diff: { path: string; to: unknown }[] };
    expect(r).toMatchObject({ proposed: true, version: v });
    expect(r.diff.some((d) => d.path.includes('EU') && d.path.endsWith('logKey'))).toBe(true);
    const next = h.at('eu', 'log.key.next');
    expect(existsSync(next)).toBe(true);
    expect(statSync(next).mode & 0o777).toBe(0o600);
    for (const p of ['US', 'CN'] as const) await h.until(`the rotation at ${p}`, 30_000, async () => statusOf(nodes[p]).items.find((i) => i.digest === r.digest));
    // The node loads the next key at start.
    await stop(nodes.EU);
    await start(nodes.EU);
    await h.login(nodes.EU);
    // EU's own approval and US's make the quorum of 2.
    h.json(['accord', 'approve', r.digest, ...as(nodes.US), '--yes']);
    for (const p of PARTIES) await h.until(`version ${v} at ${p}`, 60_000, async () => ((await versionAt(nodes[p])) === v ? true : undefined));
    await h.until('the rotation active at CN', 30_000, async () => (statusOf(nodes.CN, true).items.find((i) => i.digest === r.digest)?.status === 'active' ? true : undefined));
    const late = h.parley(['accord', 'approve', r.digest, ...as(nodes.CN), '--yes', '--json']);
    expect(late.code).toBe(2);
    expect(JSON.parse(late.stdout).code).toBe('ACCORD_VERSION');
    const after = await logKeyOf(nodes.US, 'EU');
    expect(after).not.toBe(before);
    expect(after.split('+')[0]).toBe(before.split('+')[0]);
    // EU's activation entry of version 3 is in the chain: then the audit.
    await h.until("EU's activation", 60_000, async () =>  (((await h.get(nodes.US, '/v1/accord/chain')) as { activations: { party: string; version: number }[] }).activations.some((a) => a.party === 'EU' && a.version === v) ? true : undefined));
    h.json(['accord', 'chain', '--out', 'chain3.json', '--url', nodes.US.url]);

    // Something signed by the new key after the rotation.
    await h.http(nodes.EU, 'POST', '/v1/messages', { text: 'after the rotation', precedence: 'ROUTINE', marking: 'TLP:CLEAR', to: ['US'] });
    await h.until("EU's checkpoint past the activation", 30_000, async () => {
      const v = h.parley(['log', 'verify', '--from', nodes.EU.url, '--key', after, '--chain', 'chain3.json', '--json']);
      return v.code === 0 ? JSON.parse(v.stdout) : undefined;
    });
    for (const key of [before, after]) {
      const audit = h.json<{ valid: boolean; party: string; entries: number; checks: { name: string; detail: string }[] }>(['log', 'verify', '--from', nodes.EU.url, '--key', key, '--chain', 'chain3.json']);
      expect(audit).toMatchObject({ valid: true, party: 'EU' });
      expect(audit.checks.find((c) => c.name === 'activations')).toBeDefined();
    }
    // A restart after the activation: log.key.next becomes keys.enc, the old file is kept (its HPKE key), the node runs on.
    await stop(nodes.EU);
    await start(nodes.EU);
    await h.login(nodes.EU);
    expect(existsSync(next)).toBe(false);
    expect(readdirSync(h.at('eu')).filter((f) => /^keys\.retired-.*\.enc$/.test(f))).toHaveLength(1);
    expect((await h.get(nodes.EU, '/v1/me')) as unknown).toBeDefined();
    // Without the chain, the old key alone no longer opens EU's checkpoint.
    expect(h.parley(['log', 'verify', '--from', nodes.EU.url, '--key', before, '--json']).code).toBe(1);
    void readFileSync;
  });

  it('key recover refuses to make another party\'s key (exit 2) and a consent file that is not a recovery', () => {
    const other = h.parley(['key', 'recover', '--party', 'US', '--data', 'eu', ...as(nodes.EU), '--yes', '--json']);
    expect(other.code).toBe(2);
    expect(JSON.parse(other.stdout).code).toBe('USAGE');
    const notRecovery = h.parley(['key', 'recover', '--party', 'US', '--consent', 'chain3.json', ...as(nodes.EU), '--yes', '--json']);
    expect(notRecovery.code).toBe(2);
  });
});

describe('key recover (compromise) against real nodes', { timeout: 300_000 }, () => {
  it("CN recovers its key: a fresh key, suspectFrom from what the others witnessed, approved by US and EU; CN's log still passes the audit, its suspect entries counted", async () => {
    const before = await logKeyOf(nodes.US, 'CN');
    const v = (await versionAt(nodes.US)) + 1;
    // CN cannot propose its own recovery (its node's key is the compromised one): 2, nothing written.
    const own = h.parley(['key', 'recover', '--party', 'CN', '--data', 'cn', ...as(nodes.CN), '--yes', '--json']);
    expect(own.code).toBe(2);
    expect(existsSync(h.at('cn', 'log.key.next'))).toBe(false);
    // CN writes it with its fresh key's consent; US's officer sends it.
    const written = h.json<{ written: string; version: number }>(['key', 'recover', '--party', 'CN', '--data', 'cn', ...as(nodes.CN), '--out', 'recover-cn.json']);
    expect(written.version).toBe(v);
    expect(statSync(h.at('cn', 'log.key.next')).mode & 0o777).toBe(0o600);
    const run = h.parley(['key', 'recover', '--party', 'CN', '--consent', 'recover-cn.json', ...as(nodes.US), '--yes', '--json']);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    const r = JSON.parse(run.stdout) as { proposed: boolean; version: number; digest: string };
    expect(r).toMatchObject({ proposed: true, version: v });
    for (const p of ['EU'] as const) await h.until(`the recovery at ${p}`, 30_000, async () => statusOf(nodes[p]).items.find((i) => i.digest === r.digest));
    const item = statusOf(nodes.US).items.find((i) => i.digest === r.digest)! as Item & { recovery?: { party: string; suspectFrom: number } };
    expect(item.recovery?.party).toBe('CN');
    expect(item.recovery!.suspectFrom).toBeGreaterThan(0);
    await stop(nodes.CN);
    await start(nodes.CN);
    await h.login(nodes.CN);
    // US proposed it (its approval comes with it); EU's approval makes the others' quorum of 2.
    h.json(['accord', 'approve', r.digest, ...as(nodes.EU), '--yes']);
    await h.until("CN's activation of the recovery", 90_000, async () => (((await h.get(nodes.US, '/v1/accord/chain')) as { activations: { party: string; version: number }[] }).activations.some((a) => a.party === 'CN' && a.version === v) ? true : undefined));
    const after = await logKeyOf(nodes.US, 'CN');
    expect(after).not.toBe(before);
    h.json(['accord', 'chain', '--out', 'chain-rec.json', '--url', nodes.US.url]);
    const audit = await h.until("CN's audit across the recovery", 30_000, async () => {
      const a = h.parley(['log', 'verify', '--from', nodes.CN.url, '--key', after, '--chain', 'chain-rec.json', '--json']);
      return a.code === 0 ? (JSON.parse(a.stdout) as { valid: boolean; party: string; suspect: number }) : undefined;
    });
    expect(audit).toMatchObject({ valid: true, party: 'CN' });
    expect(audit.suspect).toBeGreaterThanOrEqual(0);
  });
});

