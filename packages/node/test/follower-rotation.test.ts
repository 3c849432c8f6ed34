/**
 * Several processes of one party and a rotation of its log key (issue 14
 * leftovers): US runs three runtimes on one PostgreSQL database, A (the
 * sequencer) and B holding the next key (log.key.next), C only the old one;
 * CN runs one node on SQLite. CN proposes US's planned rotation, US approves
 * with its old and new keys, A activates it (checkpoint R signed by both
 * keys, entry R and after by the new key). The followers switch to the
 * adopted chain at their next poll — and B to the new key with it, without
 * a restart. A stops; the process that takes over signs with the key in
 * force: B does; C, which does not hold it, gives the lock up (KEY_RETIRED)
 * instead of signing with the retired key; and once the retired key's grace
 * (RETIRED_FORWARD_KEY_MS) is over, B refuses what C forwards under it: after
 * a rotation for compromise, the old key's holder is not one of the party's
 * processes. Once B goes too, C gives the lock up once more and withdraws:
 * it competes no more until restarted with the key.
 *
 * Real parts: four runtimes with their HTTP servers on 127.0.0.1, federation
 * between US and CN over real HTTP, PostgreSQL on 127.0.0.1:5432
 * (store/test/pg.ts: started if down, FAILS when unreachable).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { VerifierSet, draftAmendment, formatVerifierKey, generateSignerKey, openCheckpoint, parseNote, verifierKeyOf, verifyEntry } from '@parley/core/node';
import { PgStore, SqliteStore } from '@parley/store';
import { ParleyNode, RETIRED_FORWARD_KEY_MS, type Runtime, SequencerElection, hashPassword, startRuntime } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { freePort, httpCaller, waitFor } from './helpers/governance.js';
import { freshPgUrl } from '../../store/test/pg.js';

const PASSWORD = 'correct horse battery staple';

describe('a follower that becomes sequencer after a rotation of its party\u2019s log key', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    while (cleanup.length > 0) await cleanup.pop()!().catch(() => undefined);
  });

  it('signs with the rotated key it followed (no restart); one without the next key gives the lock up (KEY_RETIRED)', async () => {
    const us = makeParty('US');
    const cn = makeParty('CN');
    const accord = makeAccord([us, cn]);
    const usNext = generateSignerKey(us.keys.log.name);
    const newKey = formatVerifierKey(verifierKeyOf(usNext));
    const passwordHash = await hashPassword(PASSWORD);
    const officers = async (s: { putOfficer: SqliteStore['putOfficer'] }) => {
      for (const [name, role] of [['root', 'admin'], ['alice', 'officer']] as const) await s.putOfficer({ name, role, passwordHash, created: new Date().toISOString(), disabled: false });
    };
    const urls: Record<string, string> = {};
    for (const id of ['CN', 'A', 'B', 'C']) urls[id] = `http://127.0.0.1:${await freePort()}`;
    const port = (id: string) => Number(new URL(urls[id]!).port);
    const federation = { pollMs: 200, backoff: { baseMs: 40, maxMs: 300 } };

    const dir = mkdtempSync(join(tmpdir(), 'parley-follow-rotation-'));
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }));
    const cnStore = SqliteStore.open(join(dir, 'cn.sqlite'));
    await officers(cnStore);
    const cnNode = await ParleyNode.open({ accord, party: 'CN', keys: cn.keys, store: cnStore });
    const cnRt = await startRuntime({ node: cnNode, store: cnStore, port: port('CN'), peerUrls: { US: urls['A']! }, heartbeatMs: 0, federation });
    cleanup.push(async () => {
      await cnRt.stop();
      await cnNode.close();
      await cnStore.close();
    });

    const db = await freshPgUrl();
    cleanup.push(() => db.drop());
    const procs = new Map<string, { rt: Runtime; node: ParleyNode; store: PgStore }>();
    // B's clock, which the test moves past the retired key's grace (no waiting).
    let bAhead = 0;
    const start = async (id: 'A' | 'B' | 'C') => {
      const store = await PgStore.open(db.url, { max: 4 });
      const keys = id === 'C' ? us.keys : { ...us.keys, next: { log: usNext } };
      const node = await ParleyNode.open({ accord, party: 'US', keys, store, ...(id === 'B' ? { now: () => new Date(Date.now() + bAhead) } : {}) });
      const sequencer = new SequencerElection({ pool: store.pool, origin: node.origin, retryMs: 100, checkMs: 200 });
      const rt = await startRuntime({ node, store, sequencer, port: port(id), peerUrls: { CN: urls['CN']! }, heartbeatMs: 0, federation, followMs: 100 });
      const p = { rt, node, store };
      procs.set(id, p);
      let stopped = false;
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        await rt.stop();
        await node.close();
        await store.close();
      };
      cleanup.push(stop);
      return { ...p, stop };
    };
    {
      const s = await PgStore.open(db.url, { max: 1 });
      await officers(s);
      await s.close();
    }
    const a = await start('A');
    await waitFor('A to be the sequencer', () => a.rt.sequencer!.isSequencer);
    const b = await start('B');
    const c = await start('C');
    expect(b.rt.sequencer!.isSequencer || c.rt.sequencer!.isSequencer).toBe(false);

    // CN proposes US's rotation; US approves (its consent by the new key, which A holds); both activate.
    const call = httpCaller({ CN: urls['CN']!, US: urls['A']! }, new Map(), PASSWORD);
    const cur = cnNode.chain.current;
    const v2 = draftAmendment(cur, { ...cur.accord, parties: cur.accord.parties.map((p) => (p.id === 'US' ? { ...p, logKey: newKey } : p)) });
    const proposed = await call('CN', 'POST', '/v1/accord/proposals', { accord: v2, rationale: 'US rotates its log key' });
    expect(proposed.status, JSON.stringify(proposed.body)).toBe(201);
    const digest = proposed.body.digest as string;
    await waitFor('US to list the proposal', async () => (await call('US', 'GET', '/v1/accord/proposals', undefined, 'alice')).body.items.some((x: { digest: string }) => x.digest === digest));
    const approved = await call('US', 'POST', `/v1/accord/proposals/${digest}/approve`);
    expect(approved.status, JSON.stringify(approved.body)).toBe(201);
    await waitFor("US's activation of version 2 recorded", async () => ((await a.store.accordChain())?.activations ?? []).some((x) => x.party === 'US' && x.version === 2), 40_000);
    const R = (await a.store.accordChain())!.activations.find((x) => x.party === 'US' && x.version === 2)!.size;
    expect(a.node.logKey).toBe(newKey);
    // B follows the rotation at its next poll, without a restart; C cannot (no next key) and keeps the old one.
    await waitFor('B to run on the new key', () => b.node.logKey === newKey, 10_000);
    await waitFor('C to run on version 2', () => c.node.chain.current.version === 2, 10_000);
    expect(c.node.logKey).not.toBe(newKey);
    await expect(c.node.checkSigningKey()).rejects.toMatchObject({ code: 'KEY_RETIRED' });

    // A goes; whoever takes the lock, only B signs: C gives it up.
    await a.stop();
    await waitFor('B to be the sequencer', () => b.node.isSequencer && b.rt.sequencer!.isSequencer, 20_000);
    expect(c.rt.sequencer!.isSequencer).toBe(false);
    const tokens = new Map<string, string>();
    const call2 = httpCaller({ B: urls['B']!, C: urls['C']! }, tokens, PASSWORD);
    expect((await call2('B', 'GET', '/v1/me', undefined, 'alice')).status).toBe(200);
    tokens.set('C/alice', tokens.get('B/alice')!);
    // C still vouches under the old key; past its grace on B's clock, B does not take C's write.
    bAhead = RETIRED_FORWARD_KEY_MS + 1_000;
    const refused = await call2('C', 'POST', '/v1/messages', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'under the retired key' }, 'alice');
    expect(refused.status, JSON.stringify(refused.body)).toBe(503);
    expect(refused.body).toMatchObject({ code: 'SEQUENCER_UNAVAILABLE' });
    const sent = await call2('B', 'POST', '/v1/messages', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'after the takeover' }, 'alice');
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const index = sent.body.index as number;
    expect(index).toBeGreaterThan(R);
    // Signed by the key in force at its index (the new one), and so is its checkpoint — the old key alone never.
    const v2verified = cnNode.chain.version(2) ?? c.node.chain.current;
    const bytes = (await b.store.entry(index))!.bytes;
    expect(() => verifyEntry(bytes, v2verified, v2verified.party('US'))).not.toThrow();
    const note = (await b.store.checkpointAt(index + 1)) ?? (await b.store.latestCheckpoint());
    expect(parseNote(note!).signatures).toHaveLength(1);
    expect(() => openCheckpoint(note!, new VerifierSet([verifierKeyOf(usNext)]), { origin: us.keys.log.name })).not.toThrow();
    // CN, which follows the chain, takes it as US's.
    await waitFor('CN to hold the message', async () => (await cnStore.received('US', index)) !== undefined, 30_000);

    // B goes too: C, alone, does not hold the key in force. It wins the lock at most once more, gives it
    // up (KEY_RETIRED) and competes no more until restarted — not a failed takeover every retryMs.
    await b.stop();
    await waitFor('C to withdraw from the election', () => c.rt.sequencer!.withdrawn, 20_000);
    const elected = c.rt.sequencer!.status().elected;
    // Ten of C's retry periods (100 ms) with the lock free: C never takes it again.
    const end = Date.now() + 1_000;
    while (Date.now() < end) {
      expect(c.rt.sequencer!.status().elected).toBe(elected);
      expect(c.rt.sequencer!.isSequencer).toBe(false);
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 120_000);
});
