/**
 * A departed party cannot keep writing (issue 11, security review): core
 * epochs keep a removed party's last epoch open, so the node records the
 * END of its log when it adopts the version without it (the larger of what
 * its witness cosigned and one past the highest index it holds), durably
 * (the store's departed logs). Over real HTTP on 127.0.0.1 with SQLite files:
 * AA and BB remove CC. CC runs no runtime (it hears nothing of its removal)
 * and is driven directly: a hostile CC whose node never halts. Its new
 * message to AA is refused (PARTY_DEPARTED): not held, not in AA's inbox,
 * no receipt, no deadline; AA's witness refuses to cosign CC's checkpoint
 * beyond the end; an entry CC wrote before the removal that AA had not yet
 * received (below the end) is still accepted and listed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { draftAmendment, formatAddCheckpointRequest } from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { type Runtime, ParleyNode, deadlineTracker, hashPassword, startRuntime } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { allocatePorts, httpCaller, putGovernanceOfficers, waitFor } from './helpers/governance.js';

const PASSWORD = 'correct horse battery staple';
const IDS = ['AA', 'BB', 'CC'] as const;
let dir: string;
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const runtimes = new Map<string, Runtime>();
const urls: Record<string, string> = {};
const tokens = new Map<string, string>();

const call = httpCaller(urls, tokens, PASSWORD);

let parties: ReturnType<typeof makeParty>[];
let accord: ReturnType<typeof makeAccord>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-departed-'));
  parties = IDS.map((id) => makeParty(id));
  accord = makeAccord(parties);
  const passwordHash = await hashPassword(PASSWORD);
  const ports = await allocatePorts(IDS, urls);
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    stores.set(p.id, store);
    await putGovernanceOfficers(store, passwordHash);
    nodes.set(p.id, await ParleyNode.open({ accord, party: p.id, keys: p.keys, store }));
  }
  // CC runs no runtime: it is driven directly, as a hostile node that never learns (or ignores) its removal.
  for (const id of ['AA', 'BB']) {
    const peerUrls = Object.fromEntries(IDS.filter((x) => x !== id).map((x) => [x, urls[x]!]));
    runtimes.set(id, await startRuntime({ node: nodes.get(id)!, store: stores.get(id)!, port: ports.get(id)!, peerUrls, heartbeatMs: 0, federation: { pollMs: 200, backoff: { baseMs: 40, maxMs: 300 } } }));
  }
}, 30_000);

afterAll(async () => {
  for (const r of runtimes.values()) await r.stop();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a departed party writes no more', () => {
  it('after AA and BB remove CC, CC\u2019s new entry is refused PARTY_DEPARTED everywhere; its older entry AA had not received is still accepted', async () => {
    const aa = nodes.get('AA')!;
    const cc = nodes.get('CC')!;
    const msg = (text: string) => ({ precedence: 'FLASH' as const, marking: 'TLP:CLEAR' as const, text });
    // Before the removal CC writes two messages to AA and BB; AA receives only the second (out of order, as a pull may).
    const late = await cc.sendMessage('alice', msg('written before the removal, delivered late'));
    const early = await cc.sendMessage('alice', msg('written before the removal, delivered at once'));
    const bytesOf = async (i: number) => (await stores.get('CC')!.entry(i))!.bytes;
    expect((await aa.ingest([await bytesOf(early.index)])).accepted).toBe(1);

    const cur = aa.chain.current;
    const removal = draftAmendment(cur, { ...cur.accord, parties: cur.accord.parties.filter((p) => p.id !== 'CC'), amendmentQuorum: 2 });
    const r = await call('AA', 'POST', '/v1/accord/proposals', { accord: removal, rationale: 'CC is removed' });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    await waitFor('BB to list it', async () => (await call('BB', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.length === 1);
    expect((await call('BB', 'POST', `/v1/accord/proposals/${r.body.digest}/approve`)).status).toBe(201);
    for (const id of ['AA', 'BB']) await waitFor(`${id} to run on version 2`, () => nodes.get(id)!.chain.current.version === 2);
    // AA recorded the end of CC's log: one past the highest index it held (its witness cosigned nothing of CC's), durably.
    const end = early.index + 1;
    await waitFor('AA to record CC\u2019s end', () => aa.departed.get('CC') !== undefined);
    expect(aa.departed.get('CC')).toMatchObject({ party: 'CC', version: 2, digest: aa.chain.current.digest, end });
    expect(await stores.get('AA')!.departedLogs()).toMatchObject([{ party: 'CC', end, version: 2 }]);

    // The hostile CC (never halted: it runs on version 1) writes on, addressed to AA and BB.
    expect(cc.halted).toBeUndefined();
    const after = await cc.sendMessage('alice', msg('still here after my removal'));
    expect(after.index).toBe(end);
    expect([...after.entry.to].sort()).toEqual(['AA', 'BB']);
    await expect(aa.ingest([await bytesOf(after.index)])).rejects.toMatchObject({ code: 'PARTY_DEPARTED' });
    // A batch with it is refused whole (nothing of it stored).
    await expect(aa.ingest([await bytesOf(late.index), await bytesOf(after.index)])).rejects.toMatchObject({ code: 'PARTY_DEPARTED' });
    expect(await stores.get('AA')!.received('CC', late.index)).toBeUndefined();
    // AA's witness cosigns no checkpoint of CC beyond the end (directly, and over HTTP).
    const note = (await cc.latestCheckpoint())!;
    const request = formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpointNote: note });
    expect(await aa.witness.addCheckpoint(request)).toMatchObject({ status: 403, reason: 'party-departed', error: { code: 'PARTY_DEPARTED' } });
    const overHttp = await fetch(`${urls['AA']}/witness/add-checkpoint`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: request });
    expect(overHttp.status).toBe(403);
    expect(((await overHttp.json()) as { code: string }).code).toBe('PARTY_DEPARTED');
    // Up to the end it is still witnessed (a late catch-up of what CC wrote before).
    const atEnd = (await stores.get('CC')!.checkpointAt(end))!;
    expect(atEnd).toBeDefined();
    expect(await aa.witness.addCheckpoint(formatAddCheckpointRequest({ oldSize: 0, proof: [], checkpointNote: atEnd }))).toMatchObject({ status: 200 });

    // Not held, not listed, no receipt, no deadline.
    expect(await stores.get('AA')!.received('CC', after.index)).toBeUndefined();
    const inbox = await call('AA', 'GET', '/v1/inbox?party=CC', undefined, 'alice');
    expect(inbox.status).toBe(200);
    expect((inbox.body.items as { index: number }[]).map((v) => v.index)).toEqual([early.index]);
    expect(await stores.get('AA')!.referencing('CC', after.index)).toEqual([]);
    const t = deadlineTracker(aa, stores.get('AA')!);
    await t.refresh();
    expect((await t.status('CC', after.index, 'AA', Date.now()))).toBeUndefined();

    // CC's entry from before the removal, below the end, still arrives late: accepted, receipted.
    expect((await aa.ingest([await bytesOf(late.index)])).accepted).toBe(1);
    expect((await stores.get('AA')!.received('CC', late.index))?.meta.type).toBe('hotline.message');
    // (No receipt: AA's log is governed by version 2 now, which names no CC to address one to.)
    const listed = await call('AA', 'GET', '/v1/inbox?party=CC', undefined, 'alice');
    expect((listed.body.items as { index: number }[]).map((v) => v.index).sort((x, y) => x - y)).toEqual([late.index, early.index]);
    expect(aa.halted).toBeUndefined();

    // The end survives a restart of AA (the store's departed logs).
    await runtimes.get('AA')!.stop();
    runtimes.delete('AA');
    await aa.close();
    const reopened = await ParleyNode.open({ accord, party: 'AA', keys: parties.find((p) => p.id === 'AA')!.keys, store: stores.get('AA')! });
    nodes.set('AA', reopened);
    expect(reopened.departed.get('CC')).toMatchObject({ end, version: 2 });
    await expect(reopened.ingest([await bytesOf(after.index)])).rejects.toMatchObject({ code: 'PARTY_DEPARTED' });
    expect(await stores.get('AA')!.received('CC', after.index)).toBeUndefined();
  });
});
