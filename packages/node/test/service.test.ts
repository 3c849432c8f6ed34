/**
 * ParleyNode end to end without HTTP: two and three parties on real SQLite,
 * entries delivered by handing the sender's bytes to the recipient's ingest
 * (federation is the transport's job; this is what it calls).
 */
import { afterEach, describe, expect, it } from 'vitest';
import {
  ParseError,
  StoreError,
  VerificationError,
  VerifierSet,
  leafHash,
  openCheckpoint,
  parseBase64,
  verifyConsistency,
  verifyInclusion,
} from '@parley/core/node';
import { ParleyNode, VerifyPool } from '../src/index.js';
import { makeParty, openChannel, sampleReport as report } from './helpers/channel.js';
import { SqliteStore } from '@parley/store';


let close: (() => Promise<void>) | undefined;
afterEach(async () => {
  await close?.();
  close = undefined;
});

/** US and CN, and 12 IMMEDIATE messages US sent CN (not yet delivered). */
async function twelveSent() {
  const ch = await openChannel(['US', 'CN']);
  close = ch.close;
  const us = ch.node('US');
  const sent = [];
  for (let i = 0; i < 12; i++) sent.push(await us.sendMessage('alice', { precedence: 'IMMEDIATE', marking: 'TLP:CLEAR', text: `m${i}` }));
  return { us, cn: ch.node('CN'), sent };
}

describe('ParleyNode', () => {
  it('acknowledges different entries together (one batch, one commit), the same entry once even when asked twice at once', async () => {
    // Issue 14's soak stall: one queue per node made every acknowledgement wait a commit of its own behind all
    // the others; after a fault the line grew faster than it drained and every client timed out, for good.
    const { us, cn, sent } = await twelveSent();
    const N = sent.length;
    await cn.ingest(await Promise.all(sent.map(async (s) => (await us.entryBytes(s.index))!)));
    const acks = await Promise.allSettled([...sent.map((s) => cn.acknowledge('wang', 'US', s.index)), cn.acknowledge('li', 'US', sent[0]!.index)]);
    const made = acks.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
    expect(made).toHaveLength(N);
    expect(acks.filter((a) => a.status === 'rejected').map((a) => (a as PromiseRejectedResult).reason.code)).toEqual(['ALREADY_ACKNOWLEDGED']);
    // One queue per node committed them one by one: N checkpoints. Together they share a few batches.
    const batches = new Set(made.map((a) => a.treeSize));
    expect(batches.size).toBeLessThanOrEqual(3);
  });

  it('ingests different entries together (one batch, one commit), the same entry once even when it arrives twice at once', async () => {
    // Issue 14: ingest had the one queue per node acknowledgements stalled in — every push and pull waited a
    // commit of its own behind all the others, so a backlog and the senders' resends grew faster than it drained.
    const { us, cn, sent } = await twelveSent();
    const N = sent.length;
    const bytes = await Promise.all(sent.map(async (s) => (await us.entryBytes(s.index))!));
    const runs = await Promise.all([...bytes.map((b) => cn.ingest([b])), cn.ingest([bytes[0]!]), cn.ingest([bytes[1]!, bytes[0]!])]);
    expect(runs.reduce((a, r) => a + r.accepted, 0)).toBe(N);
    const receipts = runs.flatMap((r) => r.receipts);
    expect(receipts).toHaveLength(N);
    // Each entry receipted exactly once (the duplicates waited for the ingest holding their entry, then found it held).
    expect(receipts.flatMap((r) => r.entry.refs.map((ref) => ref.index)).sort((a, b) => a - b)).toEqual(sent.map((m) => m.index));
    // One queue per node committed them one by one: N checkpoints. Together they share a few batches.
    expect(new Set(receipts.map((r) => r.treeSize)).size).toBeLessThanOrEqual(3);
  });

  it('sends a FLASH message that the recipient stores, receipts and acknowledges', async () => {
    const ch = await openChannel(['US', 'CN']);
    close = ch.close;
    const us = ch.node('US');
    const cn = ch.node('CN');
    const sent = await us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'Link test 1' });
    expect(sent.index).toBe(0);
    expect(sent.entry.to).toEqual(['CN']);

    const bytes = (await us.entryBytes(sent.index))!;
    const r = await cn.ingest([bytes]);
    expect(r.accepted).toBe(1);
    expect(r.receipts).toHaveLength(1);
    expect(r.receipts[0]!.entry.refs).toEqual([{ party: 'US', index: 0, hash: sent.leafHash }]);
    // Idempotent: the same entry again is a duplicate and gets no second receipt.
    const again = await cn.ingest([bytes]);
    expect(again).toMatchObject({ accepted: 0, duplicates: 1, receipts: [] });

    const inbox = await cn.inbox({ limit: 10 }, 'officer');
    expect(inbox.map((v) => [v.party, v.index, v.body])).toEqual([['US', 0, { text: 'Link test 1' }]]);
    expect(inbox[0]!.state?.receipt?.index).toBe(r.receipts[0]!.index);
    expect(inbox[0]!.state?.ack).toBeUndefined();

    const ack = await cn.acknowledge('wang', 'US', 0, { text: '收到', lang: 'zh-CN' });
    expect(ack.entry.type).toBe('ack');
    expect(ack.entry.precedence).toBe('FLASH');
    expect((await cn.state('US', 0)).ack).toMatchObject({ index: ack.index, officer: 'wang' });
    await expect(cn.acknowledge('wang', 'US', 99)).rejects.toMatchObject({ code: 'TREE_ARGUMENT_INVALID' });

    // The sender learns of the receipt and the ack by ingesting CN's entries.
    const back = await us.ingest([(await cn.entryBytes(r.receipts[0]!.index))!, (await cn.entryBytes(ack.index))!]);
    expect(back.accepted).toBe(2);
    expect(back.receipts).toHaveLength(1); // an ack gets a receipt, a receipt does not
  });

  it('stores a received entry and its receipt in one transaction: a failed commit leaves neither, a retry both', async () => {
    const ch = await openChannel(['US', 'CN']);
    const real = ch.store('CN');
    let failNext = true;
    let ingests = 0;
    // CN's store: one failed commit ("failed, not persisted"); counts separate ingest transactions.
    const store = new Proxy(real, {
      get(target, prop) {
        if (prop === 'appendBatch') {
          return async (b: Parameters<typeof real.appendBatch>[0]) => {
            if (failNext) {
              failNext = false;
              throw new StoreError('STORE_UNAVAILABLE', 'injected: commit failed');
            }
            return target.appendBatch(b);
          };
        }
        if (prop === 'ingest') return (e: Parameters<typeof real.ingest>[0]) => (ingests++, target.ingest(e));
        const v: unknown = Reflect.get(target, prop, target);
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const cnKeys = ch.parties.find((p) => p.id === 'CN')!.keys;
    const cn = await ParleyNode.open({ accord: ch.accord, party: 'CN', keys: cnKeys, store });
    close = async () => {
      await cn.close();
      await ch.close();
    };
    const sent = await ch.node('US').sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'all or nothing' });
    const bytes = (await ch.node('US').entryBytes(sent.index))!;
    await expect(cn.ingest([bytes])).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    expect(await real.received('US', sent.index)).toBeUndefined();
    expect(await real.treeSize()).toBe(0);
    const r = await cn.ingest([bytes]);
    expect(r).toMatchObject({ accepted: 1, duplicates: 0, receipts: [{ entry: { type: 'receipt' } }] });
    expect(await real.received('US', sent.index)).toBeDefined();
    expect((await real.referencing('US', sent.index)).map((e) => e.index)).toEqual([r.receipts[0]!.index]);
    expect(ingests).toBe(0); // no separate ingest transaction: the entry rode with its receipt
  });

  it('refuses an entry held (or given twice) with another hash at the same index: STORE_CONFLICT, nothing stored', async () => {
    const ch = await openChannel(['US', 'CN']);
    // A second US log with the same key: a fork, entry 0 with other content.
    const forkStore = SqliteStore.open(':memory:');
    const fork = await ParleyNode.open({ accord: ch.accord, party: 'US', keys: ch.parties.find((p) => p.id === 'US')!.keys, store: forkStore });
    close = async () => {
      await fork.close();
      await forkStore.close();
      await ch.close();
    };
    const real = (await ch.node('US').entryBytes((await ch.node('US').sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'real' })).index))!;
    const forked = (await fork.entryBytes((await fork.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'forked' })).index))!;
    await expect(ch.node('CN').ingest([real, forked])).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    expect(await ch.store('CN').received('US', 0)).toBeUndefined();
    await ch.node('CN').ingest([real]);
    await expect(ch.node('CN').ingest([forked])).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
    expect((await ch.store('CN').received('US', 0))!.leafHash).toEqual(leafHash(real));
  });

  it('seals an AMBER report to the recipients and itself; auditors see metadata only', async () => {
    const ch = await openChannel(['CN', 'EU', 'US']);
    close = ch.close;
    const us = ch.node('US');
    const sent = await us.sendReport('alice', { to: ['CN'], marking: 'TLP:AMBER', report: report({ severity: 3 }) });
    expect(sent.entry.precedence).toBe('PRIORITY'); // the taxonomy's default for severity 3
    expect(sent.entry.to).toEqual(['CN']);
    const bytes = (await us.entryBytes(sent.index))!;
    expect(new TextDecoder().decode(bytes)).not.toContain('exfiltrated');

    await ch.node('CN').ingest([bytes]);
    const asOfficer = await ch.node('CN').read('US', sent.index, 'officer');
    expect(asOfficer?.body).toMatchObject({ incident: 'US:2026-0007', severity: 3 });
    const asAuditor = await ch.node('CN').read('US', sent.index, 'auditor');
    expect(asAuditor?.body).toBeUndefined();
    expect(asAuditor?.sealed).toBe('not-entitled');
    // The sender's officers can read their own sealed report.
    expect((await us.read('US', sent.index, 'officer'))?.body).toMatchObject({ title: 'Model weights exfiltrated' });
    // EU was not addressed: it cannot ingest it.
    await expect(ch.node('EU').ingest([bytes])).rejects.toMatchObject({ code: 'ENTRY_INVALID' });
    const found = await ch.node('CN').inbox({ limit: 10, incident: 'US:2026-0007' }, 'officer');
    expect(found).toHaveLength(1);
  });

  it('forces FLASH to every party when a report crosses a red line', async () => {
    const ch = await openChannel(['CN', 'EU', 'US']);
    close = ch.close;
    const us = ch.node('US');
    expect(us.redLine('CB', 6)).toBe(true);
    const sent = await us.sendReport('alice', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:RED', report: report({ category: 'CB', severity: 6 }) });
    expect(sent.entry.precedence).toBe('FLASH');
    expect(sent.entry.to).toEqual(['CN', 'EU']);
  });

  it('rejects bad bodies and addressing with typed errors and writes nothing', async () => {
    const ch = await openChannel(['CN', 'US']);
    close = ch.close;
    const us = ch.node('US');
    await expect(us.submit('alice', { type: 'hotline.message', precedence: 'FLASH', marking: 'TLP:CLEAR', body: { text: '' } })).rejects.toBeInstanceOf(ParseError);
    await expect(us.submit('alice', { type: 'hotline.message', precedence: 'FLASH', marking: 'TLP:CLEAR', body: { text: 'x', extra: 1 } })).rejects.toMatchObject({ code: 'ENTRY_MALFORMED' });
    await expect(us.sendReport('alice', { marking: 'TLP:CLEAR', report: report({ severity: 9 }) })).rejects.toMatchObject({ code: 'ENTRY_MALFORMED' });
    await expect(us.sendMessage('alice', { to: ['FR'], precedence: 'FLASH', marking: 'TLP:CLEAR', text: 'x' })).rejects.toBeInstanceOf(VerificationError);
    expect(us.treeSize).toBe(0);
  });

  it('refuses a tampered or misaddressed entry and stores nothing of the batch', async () => {
    const ch = await openChannel(['CN', 'US']);
    close = ch.close;
    const a = await ch.node('US').sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'one' });
    const b = await ch.node('US').sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'two' });
    const good = (await ch.node('US').entryBytes(a.index))!;
    const bad = (await ch.node('US').entryBytes(b.index))!.slice();
    bad[bad.length - 5]! ^= 1;
    await expect(ch.node('CN').ingest([good, bad])).rejects.toBeInstanceOf(Error);
    expect(await ch.node('CN').inbox({ limit: 10 }, 'officer')).toHaveLength(0);
    await expect(ch.node('US').ingest([good])).rejects.toMatchObject({ code: 'ENTRY_INVALID' });
  });

  it('publishes checkpoints, tiles and proofs that verify against its log key', async () => {
    const ch = await openChannel(['CN', 'US']);
    close = ch.close;
    const us = ch.node('US');
    const burst = (from: number, n: number) => Promise.all(Array.from({ length: n }, (_, i) => us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `m${from + i}` })));
    const sent = [...(await burst(0, 100)), ...(await burst(100, 200))];
    expect(us.treeSize).toBe(300);
    const keys = new VerifierSet([ch.parties.find((p) => p.id === 'US')!.party.logKey]);
    const cp = openCheckpoint((await us.latestCheckpoint())!, keys, { origin: us.origin }).checkpoint;
    expect(cp.treeSize).toBe(300);
    for (const i of [0, 1, 150, 299]) {
      const proof = await us.inclusionProof(i, 300);
      expect(verifyInclusion(proof, 300, cp.rootHash, i, leafHash((await us.entryBytes(i))!))).toBe(true);
    }
    expect(sent.map((s) => s.index).sort((x, y) => x - y)).toEqual(Array.from({ length: 300 }, (_, i) => i));
    const tile = await us.tile(0, 0, 256);
    expect(tile?.length).toBe(256 * 32);
    expect(await us.tile(0, 1, 44)).toHaveLength(44 * 32);
    expect(await us.tile(0, 1, 45)).toBeUndefined();
    await expect(us.inclusionProof(0, 301)).rejects.toMatchObject({ code: 'TREE_ARGUMENT_INVALID' });
    const proof = await us.consistencyProof(100, 300);
    const store = ch.store('US');
    const old = openCheckpoint((await store.checkpointAt(100))!, keys).checkpoint;
    expect(old.treeSize).toBe(100);
    expect(verifyConsistency(proof, 100, 300, old.rootHash, cp.rootHash)).toBe(true);
    expect(parseBase64(sent[0]!.leafHash)).toHaveLength(32);
  });

  it('verifies ingested entries on worker threads with the same outcome, errors included', async () => {
    const ch = await openChannel(['CN', 'US']);
    const pool = new VerifyPool(ch.accord, 2);
    const store = SqliteStore.open(':memory:');
    const cnKeys = ch.parties.find((p) => p.id === 'CN')!.keys;
    const cn2 = await ParleyNode.open({ accord: ch.accord, party: 'CN', keys: cnKeys, store, verifyPool: pool });
    close = async () => {
      await cn2.close();
      await store.close();
      await pool.close();
      await ch.close();
    };
    const us = ch.node('US');
    await Promise.all(Array.from({ length: 40 }, (_, i) => us.sendMessage('alice', { precedence: 'ROUTINE', marking: i % 2 ? 'TLP:AMBER' : 'TLP:CLEAR', text: `m${i}` })));
    const bytes = await Promise.all(Array.from({ length: 40 }, async (_, i) => (await us.entryBytes(i))!));
    const r = await cn2.ingest(bytes);
    expect(r.accepted).toBe(40);
    expect(r.receipts.flatMap((x) => x.entry.refs)).toHaveLength(40);
    const inbox = await cn2.inbox({ limit: 50 }, 'officer');
    expect(inbox.map((v) => (v.body as { text: string }).text).sort()).toEqual(Array.from({ length: 40 }, (_, i) => `m${i}`).sort());
    const bad = bytes.map((b) => b.slice());
    bad[17]![bad[17]!.length - 3]! ^= 1;
    // Without parsed entries (an audit): leaf hashes come back packed, failures by position.
    const verdicts = await pool.verify(bad, 8, false);
    expect(verdicts.filter((v) => !v.ok).map((_, i) => i)).toHaveLength(1);
    expect(verdicts[17]).toMatchObject({ ok: false });
    verdicts.forEach((v, i) => {
      if (i !== 17) expect(v.ok && Buffer.from(v.leafHash).equals(Buffer.from(leafHash(bytes[i]!)))).toBe(true);
    });
    await expect(cn2.ingest(bad.slice(0, 20).concat(bad.slice(17, 18)))).rejects.toBeInstanceOf(ParseError);
    const forged = bytes.slice(0, 16).concat([(await us.entryBytes(0))!.slice()]);
    const f = forged[16]!;
    const at = new TextDecoder().decode(f).indexOf('"sig":"') + 10;
    f[at] = f[at] === 65 ? 66 : 65;
    await expect(cn2.ingest(forged)).rejects.toMatchObject({ code: expect.stringMatching(/SIGNATURE_INVALID|ENTRY_MALFORMED/) });
  });

  it('runs only on a fully signed accord with its own keys, on its own data', async () => {
    const us = makeParty('US');
    const cn = makeParty('CN');
    const { makeAccord } = await import('./helpers/channel.js');
    const accord = makeAccord([us, cn]);
    const store = SqliteStore.open(':memory:');
    close = () => store.close();
    await expect(ParleyNode.open({ accord: { accord: accord.accord, signatures: accord.signatures.slice(0, 1) }, party: 'US', keys: us.keys, store })).rejects.toMatchObject({ code: 'ACCORD_UNSIGNED' });
    await expect(ParleyNode.open({ accord, party: 'US', keys: cn.keys, store })).rejects.toMatchObject({ code: 'ACCORD_MALFORMED' });
    const n = await ParleyNode.open({ accord, party: 'US', keys: us.keys, store });
    await n.close();
    const other = makeAccord([us, cn], { name: 'another-channel' });
    await expect(ParleyNode.open({ accord: other, party: 'US', keys: us.keys, store })).rejects.toMatchObject({ code: 'STORE_CONFLICT' });
  });
});
