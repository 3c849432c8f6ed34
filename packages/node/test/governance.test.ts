/**
 * Governance over real HTTP on 127.0.0.1 (issue 11, GOV.md §4): three
 * runtimes (CN, EU, US) on SQLite files, federating with each other.
 *
 * - an amendment of the heartbeat interval reaches quorum (2 of 3) and
 *   every node activates it (chain file: version 2, an activation per party);
 * - a proposal without quorum stays pending and never activates;
 * - every bad proposal at the HTTP boundary is a problem+json 4xx with its
 *   code, and stores nothing (no entry, no proposal);
 * - a planned rotation of EU's log key: EU's checkpoint at R carries both
 *   signatures, its entry R is signed by the new key, and its later entries
 *   still reach the others;
 * - a rotation replayed after a later version is refused (ACCORD_VERSION).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Accord,
  type SignerKey,
  type HpkeKeyPair,
  draftAmendment,
  accordSigningMessage,
  getCrypto,
  signAccordVersion,
  formatBase64,
  formatVerifierKey,
  generateSignerKey,
  hpkeGenerateKeyPair,
  parseChainFile,
  parseEntry,
  parseNote,
  verifierKeyOf,
  verifyAccord,
  verifyEntry,
  VerifierSet,
  openCheckpoint,
  parseVerifierKey,
} from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { type Runtime, Heartbeat, ParleyNode, hashPassword, startRuntime } from '../src/index.js';
import { type TestParty, makeAccord, makeParty } from './helpers/channel.js';
import { type Reply, allocatePorts, freePort, httpCaller, putGovernanceOfficers, waitFor } from './helpers/governance.js';

const PASSWORD = 'correct horse battery staple';
const IDS = ['CN', 'EU', 'US'] as const;

let dir: string;
let parties: TestParty[];
let accord: ReturnType<typeof makeAccord>;
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const runtimes = new Map<string, Runtime>();
const urls: Record<string, string> = {};
const tokens = new Map<string, string>();
/** EU's pending next keys (log.key.next): same origin, new key. */
let euNextLog: SignerKey;
let euNextHpke: HpkeKeyPair;
/** US's fresh key for a compromise recovery (its node holds it as log.key.next). */
let usNextLog: SignerKey;

const call = httpCaller(urls, tokens, PASSWORD);

function expectProblem(r: Reply, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.type).toMatch(/^application\/problem\+json/);
  expect(r.body.code).toBe(code);
}

const chainOf = async (id: string) => (await call(id, 'GET', '/v1/accord/chain', undefined, 'none')).body as { versions: { accord: Accord }[]; activations: { party: string; version: number; size: number }[] };
const currentVersion = async (id: string) => (await chainOf(id)).versions.length;
const verified = (id: string) => nodes.get(id)!.governance!.chain.current;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-gov-'));
  parties = IDS.map((id) => makeParty(id));
  accord = makeAccord(parties, { amendmentQuorum: 2 });
  const eu = parties.find((p) => p.id === 'EU')!;
  euNextLog = generateSignerKey(eu.keys.log.name);
  euNextHpke = hpkeGenerateKeyPair();
  usNextLog = generateSignerKey(parties.find((p) => p.id === 'US')!.keys.log.name);
  const passwordHash = await hashPassword(PASSWORD);
  const ports = await allocatePorts(IDS, urls);
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    stores.set(p.id, store);
    await putGovernanceOfficers(store, passwordHash);
    const keys = p.id === 'EU' ? { ...p.keys, next: { log: euNextLog, hpke: euNextHpke } } : p.id === 'US' ? { ...p.keys, next: { log: usNextLog } } : p.keys;
    nodes.set(p.id, await ParleyNode.open({ accord, party: p.id, keys, store }));
  }
  for (const id of IDS) {
    const peerUrls = Object.fromEntries(IDS.filter((x) => x !== id).map((x) => [x, urls[x]!]));
    runtimes.set(id, await startRuntime({ node: nodes.get(id)!, store: stores.get(id)!, port: ports.get(id)!, peerUrls, heartbeatMs: 0, federation: { pollMs: 200, backoff: { baseMs: 40, maxMs: 300 }, onError: (party, e) => process.env.GOV_DEBUG && console.log(Date.now() % 100000, `${id} -> ${party}:`, (e as { code?: string }).code, (e as Error).message) } }));
  }
}, 30_000);

afterAll(async () => {
  for (const r of runtimes.values()) await r.stop();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Version N+1 of the accord in force at `id`, with `change` applied. */
const amend = (id: string, change: (a: Accord) => Accord) => draftAmendment(verified(id), change(verified(id).accord));

describe('accord amendments by quorum over real HTTP', () => {
  let v2digest: string;

  it('three parties amend the heartbeat interval by quorum (2 of 3): every node activates it', async () => {
    const v2 = amend('US', (a) => ({ ...a, heartbeatSeconds: 1800 }));
    const r = await call('US', 'POST', '/v1/accord/proposals', { accord: v2, rationale: 'Beat every half hour' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    v2digest = r.body.digest;
    // CN sees it, pending with one approval of two.
    await waitFor('CN to list the proposal', async () => (await call('CN', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.length === 1);
    const listed = (await call('CN', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items[0];
    expect(listed).toMatchObject({ digest: v2digest, version: 2, proposer: { party: 'US' }, status: 'pending', quorum: { need: 2, have: 1 }, rationale: 'Beat every half hour' });
    expect(listed.diff).toEqual([{ path: 'heartbeatSeconds', from: 3600, to: 1800 }]);
    expect(listed.approvals).toEqual([expect.objectContaining({ party: 'US', prior: true })]);
    // CN approves: quorum.
    const a = await call('CN', 'POST', `/v1/accord/proposals/${v2digest}/approve`);
    expect(a.status, JSON.stringify(a.body)).toBe(201);
    for (const id of IDS) {
      await waitFor(`${id} to hold version 2 with every activation`, async () => {
        const c = await chainOf(id);
        return c.versions.length === 2 && IDS.every((p) => c.activations.some((x) => x.party === p && x.version === 2));
      });
      const c = await chainOf(id);
      expect(c.versions[1]!.accord.heartbeatSeconds).toBe(1800);
      const listedThere = (await call(id, 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.find((x: { digest: string }) => x.digest === v2digest);
      expect(listedThere.status).toBe('active');
    }
    // Each activation entry is the party's own, at its recorded size, signed under version 2.
    const c = await chainOf('CN');
    for (const act of c.activations) {
      const bytes = act.party === 'CN' ? (await stores.get('CN')!.entry(act.size))!.bytes : (await stores.get('CN')!.received(act.party, act.size))!.bytes;
      const e = parseEntry(bytes);
      expect(e).toMatchObject({ type: 'accord.activation', seq: act.size, from: { party: act.party } });
      expect((e.body as { clear: unknown }).clear).toEqual({ version: 2, digest: v2digest });
    }
  });

  it('a heartbeat follows the amended interval', () => {
    const beat = new Heartbeat({ node: nodes.get('CN')! });
    expect(beat.intervalMs).toBe(1800_000);
    const fixed = new Heartbeat({ node: nodes.get('CN')!, intervalMs: 5000 });
    fixed.retime();
    expect(fixed.intervalMs).toBe(5000);
  });

  it('GET /v1/accord answers the version in force', async () => {
    for (const id of IDS) {
      await waitFor(`${id}'s node to run on version 2`, async () => (await call(id, 'GET', '/v1/accord', undefined, 'alice')).body.version === 2, 5_000);
      const r = await call(id, 'GET', '/v1/accord', undefined, 'alice');
      expect(r.body.accord.heartbeatSeconds).toBe(1800);
    }
  });

  let pendingDigest: string;
  it('a proposal without quorum stays pending and never activates', async () => {
    const v3 = amend('US', (a) => ({ ...a, heartbeatSeconds: 900 }));
    const r = await call('US', 'POST', '/v1/accord/proposals', { accord: v3 });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    pendingDigest = r.body.digest;
    for (const id of IDS) await waitFor(`${id} to list it`, async () => (await call(id, 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.some((x: { digest: string }) => x.digest === pendingDigest));
    // Every node has processed the proposer's approval (have = 1) — everything there is to count — and still does not activate.
    for (const id of IDS) {
      await waitFor(`${id} to count US's approval`, async () => (await call(id, 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.find((x: { digest: string }) => x.digest === pendingDigest)?.quorum.have === 1);
    }
    for (const id of IDS) {
      const p = (await call(id, 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.find((x: { digest: string }) => x.digest === pendingDigest);
      expect(p).toMatchObject({ status: 'pending', quorum: { need: 2, have: 1 } });
      expect(await currentVersion(id)).toBe(2);
    }
  });

  describe('bad proposals are typed 4xx problems and store nothing', () => {
    const snapshot = async () => ({ size: nodes.get('CN')!.treeSize, proposals: (await call('CN', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.length });
    const refused = async (body: unknown, status: number, code: string, who = 'root') => {
      const before = await snapshot();
      expectProblem(await call('CN', 'POST', '/v1/accord/proposals', body, who), status, code);
      expect(await snapshot()).toEqual(before);
    };

    it('a skipped version (N+2)', async () => {
      const v = amend('CN', (a) => ({ ...a, heartbeatSeconds: 600 }));
      await refused({ accord: { ...v, version: 4 } }, 409, 'ACCORD_VERSION');
    });

    it('a repeated version (N again)', async () => {
      const cur = verified('CN');
      await refused({ accord: { ...cur.accord, heartbeatSeconds: 700 } }, 409, 'ACCORD_VERSION');
    });

    it('an old accord version replayed (version 1)', async () => {
      await refused({ accord: accord.accord, signatures: accord.signatures }, 409, 'ACCORD_VERSION');
    });

    it('a version that does not follow the one in force (previous)', async () => {
      const v = amend('CN', (a) => ({ ...a, heartbeatSeconds: 600 }));
      await refused({ accord: { ...v, previous: 'ab'.repeat(32) } }, 409, 'ACCORD_CHAIN');
    });

    it('a proposal carrying a signature of a party not in the accord', async () => {
      const v = amend('CN', (a) => ({ ...a, heartbeatSeconds: 600 }));
      await refused({ accord: v, signatures: [{ party: 'ZZ', sig: formatBase64(new Uint8Array(64)), prior: true }] }, 400, 'ACCORD_MALFORMED');
    });

    it('an amendment signed (as consent) by a party it removes', async () => {
      const v = amend('CN', (a) => ({ ...a, parties: a.parties.filter((p) => p.id !== 'US'), amendmentQuorum: 2 }));
      const us = parties.find((p) => p.id === 'US')!;
      const sig = formatBase64(getCrypto().ed25519Signer(us.keys.log.seed)(accordSigningMessage(v)));
      await refused({ accord: v, signatures: [{ party: 'US', sig }] }, 400, 'ACCORD_MALFORMED');
    });

    it('a proposal carrying a signature that does not verify', async () => {
      const v = amend('CN', (a) => ({ ...a, heartbeatSeconds: 600 }));
      await refused({ accord: v, signatures: [{ party: 'US', sig: formatBase64(new Uint8Array(64)), prior: true }] }, 403, 'SIGNATURE_INVALID');
    });

    it('a proposal that renames the channel', async () => {
      const v = amend('CN', (a) => ({ ...a, name: 'another-channel' }));
      await refused({ accord: v }, 400, 'ACCORD_MALFORMED');
    });

    it('a proposal that is not an accord', async () => {
      await refused({ accord: { v: 1 } }, 400, 'ACCORD_MALFORMED');
      await refused({ rationale: 'no accord' }, 400, 'VALIDATION_FAILED');
    });

    it('an officer may not propose (admin only)', async () => {
      await refused({ accord: amend('CN', (a) => ({ ...a, heartbeatSeconds: 600 })) }, 403, 'FORBIDDEN', 'alice');
    });

    it('a second proposal of a version this party approved (signing a fork)', async () => {
      const before = nodes.get('US')!.treeSize;
      const v3b = amend('US', (a) => ({ ...a, heartbeatSeconds: 1200 }));
      expectProblem(await call('US', 'POST', '/v1/accord/proposals', { accord: v3b }), 409, 'ACCORD_FORKED');
      expect(nodes.get('US')!.treeSize).toBe(before);
    });

    it('approving an unknown proposal, a version already in force, or twice', async () => {
      const before = await snapshot();
      expectProblem(await call('CN', 'POST', `/v1/accord/proposals/${'cd'.repeat(32)}/approve`), 404, 'NOT_FOUND');
      expectProblem(await call('CN', 'POST', `/v1/accord/proposals/${v2digest}/approve`), 409, 'ACCORD_VERSION');
      expectProblem(await call('US', 'POST', `/v1/accord/proposals/${pendingDigest}/approve`), 409, 'STORE_CONFLICT');
      expect(await snapshot()).toEqual(before);
    });
  });

  let rotation: Accord;
  let earlyIndex = -1;
  describe('a planned rotation of EU\u2019s log key', () => {
    it('CN proposes, EU approves with its old and new keys; EU dual-signs the checkpoint at R and signs entry R with the new key', async () => {
      const base = await currentVersion('CN');
      // A body sealed to EU's current HPKE key, before the rotation: it must still open after it.
      const early = await call('US', 'POST', '/v1/messages', { to: ['EU'], precedence: 'ROUTINE', marking: 'TLP:AMBER', text: 'sealed to the old key' }, 'alice');
      expect(early.status).toBe(201);
      earlyIndex = early.body.index;
      await waitFor('EU to receive it', async () => (await stores.get('EU')!.received('US', earlyIndex)) !== undefined);
      const newLogKey = formatVerifierKey(verifierKeyOf(euNextLog));
      rotation = amend('CN', (a) => ({ ...a, parties: a.parties.map((p) => (p.id === 'EU' ? { ...p, logKey: newLogKey, hpkeKey: formatBase64(euNextHpke.publicKey) } : p)) }));
      const r = await call('CN', 'POST', '/v1/accord/proposals', { accord: rotation, rationale: 'EU rotates its log key' });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const digest = r.body.digest as string;
      await waitFor('EU to list it', async () => (await call('EU', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.some((x: { digest: string }) => x.digest === digest));
      const p = (await call('EU', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.find((x: { digest: string }) => x.digest === digest);
      expect(p).toMatchObject({ status: 'pending', consents: { need: ['EU'], have: [] } });
      const a = await call('EU', 'POST', `/v1/accord/proposals/${digest}/approve`);
      expect(a.status, JSON.stringify(a.body)).toBe(201);
      for (const id of IDS) {
        await waitFor(`${id} to hold version ${base + 1} with EU's activation`, async () => {
          const c = await chainOf(id);
          return c.versions.length === base + 1 && c.activations.some((x) => x.party === 'EU' && x.version === base + 1);
        }, 40_000);
      }
      const act = (await chainOf('EU')).activations.find((x) => x.party === 'EU' && x.version === base + 1)!;
      const R = act.size;
      const note = await stores.get('EU')!.checkpointAt(R);
      expect(note).toBeDefined();
      const oldKey = parseVerifierKey(parties.find((p) => p.id === 'EU')!.party.logKey);
      const newKey = verifierKeyOf(euNextLog);
      expect(parseNote(note!).signatures).toHaveLength(2);
      openCheckpoint(note!, new VerifierSet([oldKey]), { origin: oldKey.name });
      openCheckpoint(note!, new VerifierSet([newKey]), { origin: oldKey.name });
      // Entry R: the activation entry, signed by the new key only.
      const bytes = (await stores.get('EU')!.entry(R))!.bytes;
      const v3 = verified('EU');
      expect(v3.version).toBe(base + 1);
      expect(() => verifyEntry(bytes, v3, v3.party('EU'))).not.toThrow();
      expect(() => verifyEntry(bytes, verified('US'), verifyAccord(accord).party('EU'))).toThrow();
      // Checkpoints after R: the new key only.
      const later = await stores.get('EU')!.latestCheckpoint();
      expect(parseNote(later!).signatures).toHaveLength(1);
      openCheckpoint(later!, new VerifierSet([newKey]), { origin: oldKey.name });
    });

    it('EU\u2019s entries after R verify under the new key at its peers, which still receive them', async () => {
      const sent = await call('EU', 'POST', '/v1/messages', { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'after the rotation' }, 'alice');
      expect(sent.status, JSON.stringify(sent.body)).toBe(201);
      const index = sent.body.index as number;
      for (const id of ['CN', 'US']) {
        await waitFor(`${id} to receive EU/${index}`, async () => (await stores.get(id)!.received('EU', index)) !== undefined);
        const got = await call(id, 'GET', `/v1/entries/EU/${index}`, undefined, 'alice');
        expect(got.status).toBe(200);
        expect(got.body.body).toEqual({ text: 'after the rotation' });
      }
      // And EU still receives: a sealed message to EU opens with EU's new HPKE key.
      const toEu = await call('US', 'POST', '/v1/messages', { to: ['EU'], precedence: 'IMMEDIATE', marking: 'TLP:AMBER', text: 'to the rotated EU' }, 'alice');
      expect(toEu.status).toBe(201);
      await waitFor('EU to receive it', async () => (await stores.get('EU')!.received('US', toEu.body.index)) !== undefined);
      expect((await call('EU', 'GET', `/v1/entries/US/${toEu.body.index}`, undefined, 'alice')).body.body).toEqual({ text: 'to the rotated EU' });
      // The body sealed to EU's old HPKE key still opens (the retired key is kept).
      expect((await call('EU', 'GET', `/v1/entries/US/${earlyIndex}`, undefined, 'alice')).body.body).toEqual({ text: 'sealed to the old key' });
    });

  });

  describe('a restart after the rotation', () => {
    it('EU restarts on its key files (log.key and log.key.next): it runs on the new key; its governance state is rebuilt from the logs', async () => {
      const listed = (await call('EU', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items;
      const chainBefore = await chainOf('EU');
      await runtimes.get('EU')!.stop();
      await nodes.get('EU')!.close();
      const eu = parties.find((p) => p.id === 'EU')!;
      const node = await ParleyNode.open({ accord, party: 'EU', keys: { ...eu.keys, next: { log: euNextLog, hpke: euNextHpke } }, store: stores.get('EU')! });
      nodes.set('EU', node);
      expect(node.logKey).toBe(formatVerifierKey(verifierKeyOf(euNextLog)));
      const port = Number(new URL(urls['EU']!).port);
      const peerUrls = Object.fromEntries(IDS.filter((x) => x !== 'EU').map((x) => [x, urls[x]!]));
      runtimes.set('EU', await startRuntime({ node, store: stores.get('EU')!, port, peerUrls, heartbeatMs: 0, federation: { pollMs: 200, backoff: { baseMs: 40, maxMs: 300 } } }));
      tokens.delete('EU/alice');
      tokens.delete('EU/root');
      expect((await call('EU', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items).toEqual(listed);
      expect(await chainOf('EU')).toEqual(chainBefore);
      const sent = await call('EU', 'POST', '/v1/messages', { precedence: 'IMMEDIATE', marking: 'TLP:AMBER', text: 'after a restart' }, 'alice');
      expect(sent.status, JSON.stringify(sent.body)).toBe(201);
      for (const id of ['CN', 'US']) await waitFor(`${id} to receive it`, async () => (await stores.get(id)!.received('EU', sent.body.index)) !== undefined);
      expect((await call('EU', 'GET', `/v1/entries/US/${earlyIndex}`, undefined, 'alice')).body.body).toEqual({ text: 'sealed to the old key' });
    });
  });

  describe('a fourth party joins by amendment', () => {
    it('JP\u2019s node starts from the chain file, activates at its entry 0, receives a FLASH from US and acknowledges it', async () => {
      const port = await freePort();
      urls['JP'] = `http://127.0.0.1:${port}`;
      const jp = makeParty('JP');
      const jpParty = { ...jp.party, urls: [urls['JP']!] };
      const base = await currentVersion('US');
      const joined = amend('US', (a) => ({ ...a, parties: [...a.parties, jpParty] }));
      // JP's consent: a plain signature with its own key over the version that adds it.
      const consent = signAccordVersion({ accord: joined, signatures: [] }, 'JP', jp.keys.log).signatures;
      const r = await call('US', 'POST', '/v1/accord/proposals', { accord: joined, signatures: consent, rationale: 'JP joins' });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      await waitFor('CN to list it', async () => (await call('CN', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.some((x: { digest: string }) => x.digest === r.body.digest));
      expect((await call('CN', 'POST', `/v1/accord/proposals/${r.body.digest}/approve`)).status).toBe(201);
      for (const id of IDS) await waitFor(`${id} to hold the version adding JP`, async () => (await chainOf(id)).versions.length === base + 1);
      // JP's node: genesis accord.json + the chain file (what `parley init` passes), a fresh store.
      const file = await chainOf('US');
      const store = SqliteStore.open(join(dir, 'JP.sqlite'));
      stores.set('JP', store);
      const passwordHash = await hashPassword(PASSWORD);
      await putGovernanceOfficers(store, passwordHash);
      await store.putAccordChain(parseChainFile(JSON.stringify({ ...file, versions: file.versions.slice(1) })));
      const node = await ParleyNode.open({ accord, party: 'JP', keys: jp.keys, store });
      nodes.set('JP', node);
      // Its first entry is its activation entry.
      const first = parseEntry((await store.entry(0))!.bytes);
      expect(first).toMatchObject({ type: 'accord.activation', seq: 0, from: { party: 'JP' } });
      const peerUrls = Object.fromEntries(IDS.map((x) => [x, urls[x]!]));
      runtimes.set('JP', await startRuntime({ node, store, port, peerUrls, heartbeatMs: 0, federation: { pollMs: 200, backoff: { baseMs: 40, maxMs: 300 } } }));
      for (const id of IDS) await waitFor(`${id} to record JP's activation`, async () => (await chainOf(id)).activations.some((a) => a.party === 'JP' && a.version === base + 1 && a.size === 0));
      // A FLASH from US to JP, sealed to JP's key; JP acknowledges it; US holds the ack.
      const flash = await call('US', 'POST', '/v1/messages', { to: ['JP'], precedence: 'FLASH', marking: 'TLP:AMBER', text: 'welcome, JP' }, 'alice');
      expect(flash.status, JSON.stringify(flash.body)).toBe(201);
      const index = flash.body.index as number;
      await waitFor('JP to receive the FLASH', async () => (await store.received('US', index)) !== undefined);
      expect((await call('JP', 'GET', `/v1/entries/US/${index}`, undefined, 'alice')).body.body).toEqual({ text: 'welcome, JP' });
      const ack = await call('JP', 'POST', `/v1/entries/US/${index}/ack`, { reply: 'received' }, 'alice');
      expect(ack.status, JSON.stringify(ack.body)).toBe(201);
      await waitFor('US to hold JP\u2019s ack', async () => (await stores.get('US')!.received('JP', ack.body.index)) !== undefined);
    }, 60_000);
  });

  describe('compromise recovery of US\u2019s log key', () => {
    it('the others\u2019 quorum and US\u2019s new key replace US\u2019s key without its old one; US activates with the new key; its entries from suspectFrom are flagged suspect', async () => {
      const base = await currentVersion('CN');
      const before = await call('US', 'POST', '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'before the compromise' }, 'alice');
      expect(before.status).toBe(201);
      const suspectFrom = nodes.get('US')!.treeSize;
      const stolen = await call('US', 'POST', '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'written with the stolen key' }, 'alice');
      expect(stolen.status).toBe(201);
      await waitFor('CN to receive both', async () => (await stores.get('CN')!.received('US', stolen.body.index)) !== undefined);
      const newKey = formatVerifierKey(verifierKeyOf(usNextLog));
      const recovered = amend('CN', (a) => ({ ...a, parties: a.parties.map((p) => (p.id === 'US' ? { ...p, logKey: newKey } : p)) }));
      // US cannot propose its own recovery with its old key.
      expectProblem(await call('US', 'POST', '/v1/accord/proposals', { accord: recovered, recovery: { party: 'US', suspectFrom } }), 400, 'ACCORD_MALFORMED');
      const r = await call('CN', 'POST', '/v1/accord/proposals', { accord: recovered, recovery: { party: 'US', suspectFrom }, rationale: 'US key compromised' });
      expect(r.status, JSON.stringify(r.body)).toBe(201);
      const digest = r.body.digest as string;
      for (const id of ['EU', 'US']) await waitFor(`${id} to list it`, async () => (await call(id, 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.some((x: { digest: string }) => x.digest === digest));
      expect((await call('EU', 'POST', `/v1/accord/proposals/${digest}/approve`)).status).toBe(201);
      // US consents with its new key only (no prior signature: the old key is the stolen one).
      expect((await call('US', 'POST', `/v1/accord/proposals/${digest}/approve`)).status).toBe(201);
      for (const id of [...IDS, 'JP']) {
        await waitFor(`${id} to record US's recovery`, async () => {
          const c = await chainOf(id);
          return c.versions.length === base + 1 && c.activations.some((a) => a.party === 'US' && a.version === base + 1);
        }, 40_000);
      }
      const act = (await chainOf('CN')).activations.find((a) => a.party === 'US' && a.version === base + 1)! as unknown as { size: number; entry: string; suspectFrom?: number };
      expect(act.suspectFrom).toBe(suspectFrom);
      // The range is signed: US's activation entry (its new key) carries it in its body, and CN read it from there.
      expect((JSON.parse(Buffer.from(act.entry, 'base64').toString('utf8')) as { body: { clear: { suspectFrom?: number } } }).body.clear.suspectFrom).toBe(suspectFrom);
      const v = nodes.get('CN')!.chain.current;
      expect(v.signatures.some((x) => x.party === 'US' && x.prior === true)).toBe(false);
      // Views at CN: the entry from suspectFrom is suspect, the one before it is not.
      expect((await call('CN', 'GET', `/v1/entries/US/${stolen.body.index}`, undefined, 'alice')).body.suspect).toBe(true);
      expect((await call('CN', 'GET', `/v1/entries/US/${before.body.index}`, undefined, 'alice')).body.suspect).toBeUndefined();
      const inbox = (await call('CN', 'GET', '/v1/inbox?party=US&all=1&limit=200', undefined, 'alice')).body.items as { index: number; suspect?: true }[];
      expect(inbox.find((e) => e.index === stolen.body.index)?.suspect).toBe(true);
      const listing = (await call('CN', 'GET', '/v1/logs/US?limit=200', undefined, 'alice')).body.items as { index: number; suspect?: true }[];
      expect(listing.find((e) => e.index === stolen.body.index)?.suspect).toBe(true);
      // US's entries after the recovery verify under the new key at the others.
      const after = await call('US', 'POST', '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'with the recovered key' }, 'alice');
      expect(after.status).toBe(201);
      await waitFor('CN to receive it', async () => (await stores.get('CN')!.received('US', after.body.index)) !== undefined);
      expect((await call('CN', 'GET', `/v1/entries/US/${after.body.index}`, undefined, 'alice')).body.suspect).toBeUndefined();
    }, 60_000);
  });

  describe('replays', () => {
    it('EU\u2019s rotation replayed after a later version (the join) is refused: ACCORD_VERSION, nothing stored', async () => {
      const before = nodes.get('CN')!.treeSize;
      expectProblem(await call('CN', 'POST', '/v1/accord/proposals', { accord: rotation }), 409, 'ACCORD_VERSION');
      expect(nodes.get('CN')!.treeSize).toBe(before);
    });
  });
});
