/**
 * The departure race (issue 11): AA and BB each withdraw from a three-party
 * channel at the same moment, so two different validly signed versions 2
 * exist — one without AA, one without BB. That IS an accord fork (two
 * histories; nodes may hold different ones), but an honest race must not
 * read like an attack: CC keeps the proof, serves it at GET /v1/forks as a
 * departure race naming who left on each side with what to do, counts it in
 * parley_forks_detected{party="accord"}, and its fork alarm's ERROR line
 * says the same. Deterministic: AA and BB run no runtime (neither hears the
 * other before withdrawing); CC ingests both logs, AA's first, over its own
 * node and answers over real HTTP on 127.0.0.1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftAmendment } from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { type Runtime, ParleyNode, hashPassword, startRuntime } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { allocatePorts, freePort, httpCaller, putGovernanceOfficers, waitFor } from './helpers/governance.js';

const PASSWORD = 'correct horse battery staple';
const IDS = ['AA', 'BB', 'CC'] as const;
let dir: string;
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
let runtime: Runtime | undefined;
const urls: Record<string, string> = {};
const tokens = new Map<string, string>();
const call = httpCaller(urls, tokens, PASSWORD);
/** CC's ERROR log lines (the watcher's fork alarm). */
const logged: { obj: Record<string, unknown>; msg: string }[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-race-'));
  const parties = IDS.map((id) => makeParty(id));
  const accord = makeAccord(parties);
  const passwordHash = await hashPassword(PASSWORD);
  const ports = await allocatePorts(['CC'], urls);
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    stores.set(p.id, store);
    await putGovernanceOfficers(store, passwordHash);
    nodes.set(p.id, await ParleyNode.open({ accord, party: p.id, keys: p.keys, store }));
  }
  // AA and BB are not listening: CC's federation finds them down and backs off.
  const closed = `http://127.0.0.1:${await freePort()}`;
  runtime = await startRuntime({ node: nodes.get('CC')!, store: stores.get('CC')!, port: ports.get('CC')!, peerUrls: { AA: closed, BB: closed }, heartbeatMs: 0, continuity: { enabled: false }, events: { info() {}, warn() {}, error: (obj: object, msg: string) => logged.push({ obj: obj as Record<string, unknown>, msg }) }, federation: { pollMs: 60_000, backoff: { baseMs: 60_000, maxMs: 60_000 } } });
}, 30_000);

afterAll(async () => {
  await runtime?.stop();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

const logOf = async (id: string) => {
  const out: Uint8Array[] = [];
  for (let i = 0; i < nodes.get(id)!.treeSize; i++) out.push((await stores.get(id)!.entry(i))!.bytes);
  return out;
};

describe('two parties withdraw at the same time', () => {
  it('is kept as an accord fork, but named a departure race with what to do — in GET /v1/forks, the metric and the error', async () => {
    const withdraw = async (id: 'AA' | 'BB') => {
      const cur = nodes.get(id)!.chain.current;
      const next = draftAmendment(cur, { ...cur.accord, parties: cur.accord.parties.filter((p) => p.id !== id), amendmentQuorum: 2 });
      return nodes.get(id)!.governance!.propose('root', { accord: next, rationale: `${id} withdraws` });
    };
    const [a, b] = await Promise.all([withdraw('AA'), withdraw('BB')]);
    expect(a.digest).not.toBe(b.digest);
    for (const id of ['AA', 'BB']) await waitFor(`${id} to run on its own version 2`, () => nodes.get(id)!.chain.current.version === 2);

    const cc = nodes.get('CC')!;
    await cc.ingest(await logOf('AA'));
    await waitFor('CC to adopt AA\u2019s withdrawal', () => cc.chain.current.version === 2);
    expect(cc.chain.current.digest).toBe(a.digest);
    await cc.ingest(await logOf('BB'));
    await waitFor('CC to list the accord fork', async () => ((await call('CC', 'GET', '/v1/forks', undefined, 'alice')).body.forks as unknown[]).length === 1);

    const f = (await call('CC', 'GET', '/v1/forks', undefined, 'alice')).body.forks[0] as { kind: string; party: string; race?: { kind: string; a: string[]; b: string[] }; message: string; a: { version: number }; b: { version: number } };
    expect(f).toMatchObject({ kind: 'accord', party: 'accord', a: { version: 2 }, b: { version: 2 } });
    // Sides are ordered by digest: whichever is a, it lets AA or BB go, and the other the other.
    expect(f.race?.kind).toBe('departure');
    expect([...f.race!.a, ...f.race!.b].sort()).toEqual(['AA', 'BB']);
    expect(f.message).toMatch(/departure race/);
    expect(f.message).toMatch(/withdraws again/);
    // The version in force stays AA's withdrawal; BB's is refused; BB is still a party here.
    expect(cc.chain.current.digest).toBe(a.digest);
    expect(cc.chain.current.party('BB')).toBeDefined();
    // The metric counts it in the accord series.
    const metrics = await (await fetch(`${urls['CC']}/metrics`)).text();
    expect(metrics).toMatch(/^parley_forks_detected\{party="accord"\} 1$/m);
    // And the ERROR line of the fork alarm says what happened rather than "two valid versions".
    await waitFor('CC to raise the fork alarm', () => logged.some((l) => l.obj['event'] === 'parley.fork.detected'), 20_000);
    const line = logged.find((l) => l.obj['event'] === 'parley.fork.detected')!;
    expect(line.obj).toMatchObject({ kind: 'accord', race: 'departure' });
    expect(line.msg).toMatch(/ACCORD FORK \(a departure race\).*AA.*BB|ACCORD FORK \(a departure race\).*BB.*AA/);
  }, 40_000);
});
