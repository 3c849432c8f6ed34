/**
 * Governance under faults, over real HTTP on 127.0.0.1 with SQLite files
 * (issue 11): three runtimes CN, EU, US (quorum 2 of 3). Every push to CN
 * goes through a proxy that drops it (a lost push): CN learns only by pulling.
 *
 * - EU rotates its log key while CN's node is stopped: the rotation completes
 *   (it does not wait for CN's activation); CN, restarted, meets EU's
 *   checkpoint under a key it does not know, fetches EU's chain file
 *   (GET /v1/accord/chain), adopts it and catches up — by pull alone;
 * - GET /v1/accord answers the version in force with its digest;
 * - EU's witness (no witness.key) cosigns with its new key's 0x04 form at once;
 * - two different complete versions N+1 (a misbehaving US, its node driven
 *   with core signatures): CN keeps the accord fork proof, serves it at
 *   /v1/forks, and refuses the second version;
 * - a node whose chain holds a version its log has not activated addresses
 *   only the parties of the version governing its next entry.
 */
import { createServer as createHttpServer, request as httpRequest, type Server } from 'node:http';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Accord,
  type AccordSignature,
  type ChainFile,
  type SignedAccord,
  type SignerKey,
  type JsonValue,
  cosignerKey,
  getCrypto,
  signEntry,
  draftAmendment,
  formatVerifierKey,
  generateSignerKey,
  parseNote,
  signAccordVersion,
  verifierKeyOf,
  verifyAccordChain,
  verifyAccordFork,
  verifyChainFile,
} from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { type Runtime, ParleyNode, PeerClient, hashPassword, startRuntime } from '../src/index.js';
import { type TestParty, makeAccord, makeParty } from './helpers/channel.js';
import { freePort, httpCaller, putGovernanceOfficers, waitFor } from './helpers/governance.js';

const PASSWORD = 'correct horse battery staple';
const CLI = fileURLToPath(new URL('../../cli/bin/parley.js', import.meta.url));
const IDS = ['CN', 'EU', 'US'] as const;

let dir: string;
let parties: TestParty[];
let accord: SignedAccord;
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const runtimes = new Map<string, Runtime>();
const urls: Record<string, string> = {};
const ports = new Map<string, number>();
const tokens = new Map<string, string>();
let proxy: Server;
let proxyUrl: string;
let dropped = 0;
let euNextLog: SignerKey;
const errors = new Map<string, string[]>();
/** ERROR lines of each runtime's structured logger (the fork alarm). */
const logged: { node: string; event?: string; kind?: string }[] = [];

const call = httpCaller(urls, tokens, PASSWORD, { lenientJson: true });

const chainOf = async (id: string) => (await call(id, 'GET', '/v1/accord/chain', undefined, 'none')).body as ChainFile;

async function startNode(id: string, keys: TestParty['keys']): Promise<void> {
  const store = SqliteStore.open(join(dir, `${id}.sqlite`));
  stores.set(id, store);
  const node = await ParleyNode.open({ accord, party: id, keys, store });
  nodes.set(id, node);
  // Every other party reaches CN through the dropping proxy: its pushes are lost.
  const peerUrls = Object.fromEntries(IDS.filter((x) => x !== id).map((x) => [x, x === 'CN' ? proxyUrl : urls[x]!]));
  const events = { info() {}, warn() {}, error: (obj: object) => logged.push({ ...(obj as { event?: string; kind?: string }), node: id }) };
  runtimes.set(id, await startRuntime({ node, store, port: ports.get(id)!, peerUrls, heartbeatMs: 0, events, federation: { pollMs: 200, backoff: { baseMs: 40, maxMs: 300 }, onError: (_p, e) => errors.set(id, [...(errors.get(id) ?? []), (e as { code?: string }).code ?? String(e)]) } }));
  node.governance!.catchUpIntervalMs = 1_000;
  tokens.delete(`${id}/root`);
  tokens.delete(`${id}/alice`);
}

async function stopNode(id: string): Promise<void> {
  await runtimes.get(id)!.stop();
  await nodes.get(id)!.close();
  await stores.get(id)!.close();
  runtimes.delete(id);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-gov-faults-'));
  parties = IDS.map((id) => makeParty(id));
  accord = makeAccord(parties, { amendmentQuorum: 2 });
  euNextLog = generateSignerKey(parties.find((p) => p.id === 'EU')!.keys.log.name);
  const passwordHash = await hashPassword(PASSWORD);
  for (const id of IDS) {
    ports.set(id, await freePort());
    urls[id] = `http://127.0.0.1:${ports.get(id)}`;
    const store = SqliteStore.open(join(dir, `${id}.sqlite`));
    await putGovernanceOfficers(store, passwordHash);
    await store.close();
  }
  // The lossy link into CN: pushes (POST /fed/v1/bundle) are dropped (503); everything else is forwarded.
  proxy = createHttpServer((req, res) => {
    if (req.method === 'POST' && req.url?.startsWith('/fed/v1/bundle')) {
      dropped++;
      req.resume();
      res.writeHead(503).end();
      return;
    }
    const up = httpRequest({ host: '127.0.0.1', port: ports.get('CN'), method: req.method, path: req.url, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => {
      if (!res.headersSent) res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  await new Promise<void>((done) => proxy.listen(0, '127.0.0.1', () => done()));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  for (const p of parties) await startNode(p.id, p.id === 'EU' ? { ...p.keys, next: { log: euNextLog } } : p.keys);
}, 30_000);

afterAll(async () => {
  for (const id of [...runtimes.keys()]) await stopNode(id);
  await new Promise<void>((done) => proxy.close(() => done()));
  rmSync(dir, { recursive: true, force: true });
});

describe('a rotation while a peer is stopped, and a lost activation push', () => {
  let v2: string;
  let message = -1;

  it('EU rotates its log key while CN is stopped: the rotation completes without CN', async () => {
    await stopNode('CN');
    const cur = nodes.get('EU')!.chain.current;
    const rotation = draftAmendment(cur, { ...cur.accord, parties: cur.accord.parties.map((p) => (p.id === 'EU' ? { ...p, logKey: formatVerifierKey(verifierKeyOf(euNextLog)) } : p)) });
    const r = await call('EU', 'POST', '/v1/accord/proposals', { accord: rotation, rationale: 'EU rotates while CN is down' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    v2 = r.body.digest;
    await waitFor('US to list it', async () => (await call('US', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.some((x: { digest: string }) => x.digest === v2));
    expect((await call('US', 'POST', `/v1/accord/proposals/${v2}/approve`)).status).toBe(201);
    for (const id of ['EU', 'US']) {
      await waitFor(`${id} to record EU's activation of version 2`, async () => (await chainOf(id)).activations.some((a) => a.party === 'EU' && a.version === 2), 15_000);
    }
    expect(nodes.get('EU')!.logKey).toBe(formatVerifierKey(verifierKeyOf(euNextLog)));
    const sent = await call('EU', 'POST', '/v1/messages', { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'after the rotation, CN away' }, 'alice');
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    message = sent.body.index;
    await waitFor('US to receive it', async () => (await stores.get('US')!.received('EU', message)) !== undefined);
  }, 40_000);

  it('EU\u2019s witness (no witness.key) cosigns with its new key at once, without a restart', async () => {
    const before = nodes.get('EU')!.witness.cosigner;
    expect(formatVerifierKey(verifierKeyOf(before))).toBe(formatVerifierKey(verifierKeyOf(cosignerKey(euNextLog))));
    const sent = await call('US', 'POST', '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'for EU to witness' }, 'alice');
    expect(sent.status).toBe(201);
    const want = cosignerKey(euNextLog);
    await waitFor('EU to cosign US\u2019s checkpoint with its new witness key', async () => {
      const held = await stores.get('EU')!.witnessState('US');
      return held !== undefined && held.treeSize > sent.body.index && parseNote(held.note).signatures.some((s) => s.name === want.name && s.keyId === want.keyId);
    });
  });

  it('CN restarts; its pushes are lost; it catches up by pull (EU\u2019s chain file) and receives EU\u2019s entries after the rotation', async () => {
    const cn = parties.find((p) => p.id === 'CN')!;
    const droppedBefore = dropped;
    await startNode('CN', cn.keys);
    await waitFor('CN to hold version 2 with EU\u2019s and its own activation', async () => {
      const c = await chainOf('CN');
      return c.versions.length === 2 && ['EU', 'US', 'CN'].every((p) => c.activations.some((a) => a.party === p && a.version === 2));
    });
    await waitFor('CN to receive EU\u2019s message after the rotation', async () => (await stores.get('CN')!.received('EU', message)) !== undefined);
    const got = await call('CN', 'GET', `/v1/entries/EU/${message}`, undefined, 'alice');
    expect(got.body.body).toEqual({ text: 'after the rotation, CN away' });
    // The pushes into CN were lost all along: the pull did it.
    expect(dropped).toBeGreaterThan(droppedBefore);
    // What CN adopted verifies on its own.
    const { chain } = verifyChainFile(await chainOf('CN'));
    expect(chain.current.digest).toBe(v2);
  }, 40_000);

  it('a catch-up is bounded: one chain fetch per peer per interval, none when nothing is new', async () => {
    const g = nodes.get('CN')!.governance!;
    g.catchUpIntervalMs = 60_000;
    // US: CN's pull of US never needed a catch-up (EU's did, within this interval: it is not fetched again).
    const real = new PeerClient(nodes.get('CN')!, 'US', { url: urls['US']! });
    let fetched = 0;
    const peer = { party: 'US', chainFile: () => (fetched++, real.chainFile()) };
    const before = await chainOf('CN');
    expect(await Promise.all([g.catchUp(peer), g.catchUp(peer), g.catchUp(peer)])).toEqual([false, false, false]);
    expect(await g.catchUp(peer)).toBe(false);
    expect(fetched).toBe(1);
    let eu = 0;
    const euPeer = new PeerClient(nodes.get('CN')!, 'EU', { url: urls['EU']! });
    expect(await g.catchUp({ party: 'EU', chainFile: () => (eu++, euPeer.chainFile()) })).toBe(false);
    expect(eu).toBe(0);
    expect(await chainOf('CN')).toEqual(before);
    g.catchUpIntervalMs = 1_000;
  });

  it('GET /v1/accord answers the version in force with its digest', async () => {
    for (const id of IDS) {
      const r = await call(id, 'GET', '/v1/accord', undefined, 'alice');
      expect(r.status).toBe(200);
      expect(r.body).toMatchObject({ id: nodes.get(id)!.chain.channel, version: 2, digest: v2, previous: nodes.get(id)!.chain.versions[0]!.digest, frozen: false });
      expect(r.body.accord.version).toBe(2);
      expect(r.body.accord.parties.find((p: { id: string }) => p.id === 'EU').logKey).toBe(formatVerifierKey(verifierKeyOf(euNextLog)));
      expect(r.body.signatures.some((s: { party: string; prior?: boolean }) => s.party === 'EU' && s.prior === true)).toBe(true);
    }
  });
});

describe('an accord fork: two different complete versions N+1', () => {
  it('a misbehaving US sends two conflicting complete versions 3: CN keeps the proof, serves it at /v1/forks, and refuses the second', async () => {
    const cur = nodes.get('US')!.chain.current;
    expect(cur.version).toBe(2);
    const us = parties.find((p) => p.id === 'US')!;
    // Each version carries the prior signatures of US and EU: quorum (2) — both are complete.
    const complete = (a: Accord): SignedAccord => {
      let s: SignedAccord = { accord: a, signatures: [] };
      s = signAccordVersion(s, 'US', us.keys.log, { prior: true });
      s = signAccordVersion(s, 'EU', euNextLog, { prior: true });
      return s;
    };
    const a = complete(draftAmendment(cur, { ...cur.accord, heartbeatSeconds: 1800 }));
    const b = complete(draftAmendment(cur, { ...cur.accord, heartbeatSeconds: 600 }));
    const send = (s: SignedAccord) =>
      nodes.get('US')!.submit('mallory', { type: 'accord.amendment', to: ['CN', 'EU'], precedence: 'PRIORITY', marking: 'TLP:CLEAR', body: { accord: s.accord, signatures: s.signatures } as unknown as JsonValue });
    await send(a);
    await waitFor('CN to adopt version 3 (the first)', async () => (await chainOf('CN')).versions.length === 3, 20_000);
    expect(nodes.get('CN')!.chain.current.accord.heartbeatSeconds).toBe(1800);
    const second = await send(b);
    await waitFor('CN to hold the second amendment', async () => (await stores.get('CN')!.received('US', second.index)) !== undefined);
    await waitFor('CN to list the accord fork', async () => ((await call('CN', 'GET', '/v1/forks', undefined, 'alice')).body.forks as { kind: string }[]).some((f) => f.kind === 'accord'));
    const forks = (await call('CN', 'GET', '/v1/forks', undefined, 'alice')).body.forks as { kind: string; party: string; href: string; signers: string[]; a: { version: number }; b: { version: number } }[];
    const f = forks.find((x) => x.kind === 'accord')!;
    expect(f).toMatchObject({ party: 'EU', signers: ['EU', 'US'], a: { version: 3 }, b: { version: 3 } });
    // The proof text verifies against the chain up to version 2 alone.
    const text = (await call('CN', 'GET', f.href, undefined, 'alice')).body;
    const chain2 = verifyAccordChain(((await chainOf('CN')).versions as SignedAccord[]).slice(0, 2));
    const verified = verifyAccordFork(JSON.stringify(text), chain2);
    expect(new Set([verified.a.accord.heartbeatSeconds, verified.b.accord.heartbeatSeconds])).toEqual(new Set([1800, 600]));
    // `parley verify-fork` (a real process) checks the downloaded proof with the accord and CN's chain file.
    const proofFile = join(dir, 'accord.fork');
    writeFileSync(proofFile, JSON.stringify(text));
    writeFileSync(join(dir, 'accord.json'), JSON.stringify(accord));
    writeFileSync(join(dir, 'chain.json'), JSON.stringify(await chainOf('CN')));
    const cli = spawnSync(process.execPath, [CLI, 'verify-fork', proofFile, '--accord', join(dir, 'accord.json'), '--chain', join(dir, 'chain.json'), '--json'], { encoding: 'utf8' });
    expect(cli.status, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ valid: true, kind: 'accord', version: 3 });
    // The second is refused: CN stays on the first version 3, its proposal view says so; durably kept (store setting).
    expect(nodes.get('CN')!.chain.current.accord.heartbeatSeconds).toBe(1800);
    const listed = (await call('CN', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items as { version: number; status: string; accord: Accord }[];
    expect(listed.find((p) => p.version === 3 && p.accord.heartbeatSeconds === 600)?.status).toBe('refused');
    expect((await stores.get('CN')!.accordForkProofs()).length).toBe(1);
    // Counted by the fork metric, in a series of its own (no party's log forked).
    const metrics = await (await fetch(`${urls['CN']}/metrics`)).text();
    expect(metrics).toMatch(/^parley_forks_detected\{party="accord"\} 1$/m);
    expect(metrics).toMatch(/^parley_forks_detected\{party="US"\} 0$/m);
    // The same alarm as a log fork: the watcher's ERROR line parley.fork.detected.
    await waitFor('CN to raise the fork alarm', () => logged.some((l) => l.node === 'CN' && l.event === 'parley.fork.detected' && l.kind === 'accord'));
  }, 40_000);
});

describe('addressing by the version governing the next entry', () => {
  it('a node whose chain holds a version its log has not activated addresses only the parties of the version its next entry is under', async () => {
    const node = nodes.get('CN')!;
    const cur = node.chain.current;
    const jp = makeParty('JP');
    const next = draftAmendment(cur, { ...cur.accord, parties: [...cur.accord.parties, jp.party] });
    let s: SignedAccord = { accord: next, signatures: [] };
    s = signAccordVersion(s, 'JP', jp.keys.log);
    s = signAccordVersion(s, 'US', parties.find((p) => p.id === 'US')!.keys.log, { prior: true });
    s = signAccordVersion(s, 'EU', euNextLog, { prior: true });
    const file = await chainOf('CN');
    await node.adoptChain({ ...file, versions: [...file.versions, { accord: s.accord, signatures: s.signatures as AccordSignature[] }] });
    expect(node.chain.current.party('JP')).toBeDefined();
    // CN's log has not activated the version adding JP: JP is no recipient of its next entry.
    expect(node.counterparts.sort()).toEqual(['EU', 'US']);
    await expect(node.submit('alice', { type: 'hotline.message', to: ['JP'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', body: { text: 'too early' } })).rejects.toMatchObject({ code: 'ENTRY_INVALID' });
    const sent = await node.submit('alice', { type: 'hotline.message', precedence: 'ROUTINE', marking: 'TLP:CLEAR', body: { text: 'to the parties of my version' } });
    expect([...sent.entry.to].sort()).toEqual(['EU', 'US']);
    // And CN accepts no entry of US addressed to JP at a position US's log has not moved to the version adding JP.
    const us = parties.find((p) => p.id === 'US')!;
    const seq = nodes.get('US')!.treeSize;
    const { bytes } = signEntry(
      { v: 1, accord: node.chain.channel, from: { party: 'US', officer: 'mallory' }, to: ['JP'], seq, time: new Date().toISOString(), type: 'hotline.message', precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [], body: { clear: { text: 'to JP too early' } } },
      getCrypto().ed25519Signer(us.keys.log.seed),
    );
    await expect(node.ingest([bytes])).rejects.toMatchObject({ code: 'ENTRY_INVALID' });
  });
});
