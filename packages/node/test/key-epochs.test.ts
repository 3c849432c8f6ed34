/**
 * Issue 11: a node on a two-version accord chain (real SQLite files, real
 * HTTP on 127.0.0.1). Version 2 rotates US's log key at a recorded size R
 * (planned: US's old key approves, the new key consents) and names CN's own
 * witness key. CN's node, having adopted the chain:
 *
 *   - witnesses US's checkpoint at R signed by both keys, and later ones
 *     signed by the new key only, cosigning with its OWN witness key — which
 *     a verifier (rollback.ts verifyCosigned, via the chain) accepts;
 *   - refuses a checkpoint the old key signed beyond R (403 KEY_RETIRED) and
 *     keeps it as evidence, its witness state unchanged;
 *   - judges entries by the key in force at their index (old below R, new from R);
 *   - keeps the chain across a restart, and refuses to run with a witness key the accord does not name;
 *   - refuses a shorter chain (ACCORD_VERSION) and one with another version 2 (ACCORD_FORKED).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChainFile,
  type SignedAccord,
  type SignerKey,
  type VerifiedAccord,
  MemoryTree,
  SIG_TYPE_COSIGNATURE_V1,
  canonicalize,
  consistencyProofFromHashes,
  consistencyProofIndexes,
  cosignerKey,
  decodeUtf8,
  draftAmendment,
  encodeUtf8,
  formatAddCheckpointRequest,
  formatBase64,
  formatVerifierKey,
  generateSignerKey,
  getCrypto,
  inclusionProofFromHashes,
  inclusionProofIndexes,
  makeBundle,
  signRequest,
  newSigner,
  newVerifier,
  openWitnessedCheckpoint,
  parseAddCheckpointResponse,
  signAccordVersion,
  signCheckpoint,
  signEntry,
  appendSignatures,
  verifierKeyOf,
  verifyAccord,
  verifyAmendment,
  retiredKeyProof,
  verifyRetiredKeyProof,
  verifyChainFile,
  VerifierSet,
} from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import type { FastifyInstance } from 'fastify';
import { ParleyNode, VerifyPool, createServer, importBundle, linkHealth } from '../src/index.js';
import { openPartyCheckpoint } from '../src/epochs.js';
import { verifyCosigned } from '../src/rollback.js';
import { type TestParty, makeAccord, makeParty } from './helpers/channel.js';

const R = 3;
const ENTRY_CONTEXT = 'parley/entry/v1\n';

let dir: string;
let us: TestParty;
let cn: TestParty;
let usNew: SignerKey;
let cnWitness: SignerKey;
let genesis: SignedAccord;
let v1: VerifiedAccord;
let v2: SignedAccord;
let chainFile: ChainFile;
/** US's checkpoint of size R, signed by both keys (before the activation entry). */
let dualNote: Uint8Array;
/** US's log: R entries under the old key, the activation entry, then entries under the new key. */
const tree = new MemoryTree();
const usEntries: Uint8Array[] = [];
let usNode: ParleyNode;
let usStore: SqliteStore;

const time = (i: number) => new Date(Date.UTC(2026, 11, 1, 12, 0, i)).toISOString();

/** A hotline message of US at `seq`, to CN, signed by `key`. */
function usMessage(seq: number, key: SignerKey, text = `message ${seq}`): Uint8Array {
  const sign = getCrypto().ed25519Signer(key.seed);
  return signEntry(
    { v: 1, accord: v1.id, from: { party: 'US', officer: 'alice' }, to: ['CN'], seq, time: time(seq), type: 'hotline.message', precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [], body: { clear: { text } } },
    sign,
  ).bytes;
}

/** US's activation entry of version 2 at R, signed by the new key (made as core's checkActivationEntry reads it). */
function activationEntry(digest: string): Uint8Array {
  const env = { v: 1, accord: v1.id, from: { party: 'US', officer: 'node' }, to: ['CN'], seq: R, time: time(R), type: 'accord.activation', precedence: 'ROUTINE', marking: 'TLP:CLEAR', refs: [], body: { clear: { version: 2, digest } } };
  const sig = formatBase64(getCrypto().ed25519Signer(usNew.seed)(encodeUtf8(`${ENTRY_CONTEXT}${canonicalize(env)}`)));
  return encodeUtf8(canonicalize({ ...env, sig }));
}

function checkpoint(size: number, keys: readonly SignerKey[]): Uint8Array {
  if (size !== tree.size) throw new Error(`test: tree is at ${tree.size}`);
  return signCheckpoint({ origin: us.keys.log.name, treeSize: size, rootHash: tree.root(), extensions: [] }, keys.map((k) => newSigner(k)));
}

function append(bytes: Uint8Array): void {
  usEntries.push(bytes);
  tree.appendData(bytes);
}

function proof(oldSize: number, newSize: number): Uint8Array[] {
  return consistencyProofFromHashes(oldSize, newSize, tree.readHashes(consistencyProofIndexes(oldSize, newSize)));
}

async function openCn(witness?: SignerKey): Promise<{ node: ParleyNode; store: SqliteStore }> {
  const store = SqliteStore.open(join(dir, 'CN.sqlite'));
  try {
    const node = await ParleyNode.open({ accord: genesis, party: 'CN', keys: { ...cn.keys, ...(witness ? { witness } : {}) }, store });
    return { node, store };
  } catch (e) {
    await store.close();
    throw e;
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-epochs-'));
  us = makeParty('US');
  cn = makeParty('CN');
  usNew = generateSignerKey(us.keys.log.name); // a rotated key keeps its name: the origin never changes
  cnWitness = generateSignerKey('cn.parley.test/witness', SIG_TYPE_COSIGNATURE_V1);
  genesis = makeAccord([us, cn]);
  v1 = verifyAccord(genesis);

  // US's log under version 1: R messages to CN, signed by the old key (US's real node).
  usStore = SqliteStore.open(join(dir, 'US.sqlite'));
  usNode = await ParleyNode.open({ accord: genesis, party: 'US', keys: us.keys, store: usStore });
  for (let i = 0; i < R; i++) await usNode.sendMessage('alice', { to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `before the rotation ${i}` });
  for (let i = 0; i < R; i++) append((await usNode.entryBytes(i))!);

  // Version 2: US's new log key (US's old key approves, its new key consents), CN's own witness key (CN consents).
  const accord2 = draftAmendment(v1, {
    ...v1.accord,
    parties: v1.accord.parties.map((p) =>
      p.id === 'US' ? { ...p, logKey: formatVerifierKey(verifierKeyOf(usNew)) } : { ...p, witnessKey: formatVerifierKey(verifierKeyOf(cnWitness)) },
    ),
  });
  let s: SignedAccord = { accord: accord2, signatures: [] };
  s = signAccordVersion(s, 'US', us.keys.log, { prior: true });
  s = signAccordVersion(s, 'US', usNew);
  s = signAccordVersion(s, 'CN', cn.keys.log);
  v2 = s;
  const digest = verifyAmendment(v1, v2).digest;
  const activation = activationEntry(digest);
  dualNote = checkpoint(R, [us.keys.log, usNew]);
  append(activation);
  chainFile = { channel: v1.id, versions: [v2], activations: [{ party: 'US', version: 2, size: R, entry: formatBase64(activation) }] };
});

afterAll(async () => {
  await usNode?.close();
  await usStore?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a node on a two-version chain (US rotates its log key at R, CN has its own witness key)', () => {
  let node: ParleyNode;
  let store: SqliteStore;
  let app: FastifyInstance;
  let base: string;
  const addCheckpoint = (oldSize: number, note: Uint8Array, p: readonly Uint8Array[] = []) =>
    fetch(`${base}/witness/add-checkpoint`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: formatAddCheckpointRequest({ oldSize, proof: [...p], checkpointNote: note }) });

  beforeAll(async () => {
    // CN adopts the chain, then restarts with its witness key (the accord in force names it).
    const first = await openCn();
    expect(first.node.chain.current.version).toBe(1);
    const adopted = await first.node.adoptChain(chainFile);
    expect(adopted.current.version).toBe(2);
    expect(first.node.accord.version).toBe(2);
    expect(first.node.accord.id).toBe(v1.id); // the channel id never changes
    await first.node.close();
    await first.store.close();
    ({ node, store } = await openCn(cnWitness));
    app = await createServer({ node, store });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });

  afterAll(async () => {
    await app?.close();
    await node?.close();
    await store?.close();
  });

  it('keeps the adopted chain across a restart: version 2 in force, epochs from the stored activations', () => {
    expect(node.chain.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(node.epochs.keysFor('US', R - 1)?.member.party.logKey).toBe(us.party.logKey);
    expect(node.epochs.keysFor('US', R)?.member.party.logKey).toBe(formatVerifierKey(verifierKeyOf(usNew)));
    expect(node.epochs.checkpointKeys('US', R)).toHaveLength(2);
  });

  it('serves the chain file it runs on (genesis first), which verifies on its own', async () => {
    const file = await node.chainFile();
    expect(file.versions).toHaveLength(2);
    expect(file.activations).toEqual(chainFile.activations);
    expect(verifyChainFile(file).chain.current.digest).toBe(node.accord.digest);
  });

  it('refuses to run with a witness key the accord does not name for it (ACCORD_MALFORMED)', async () => {
    await expect(openCn(generateSignerKey('cn.parley.test/witness', SIG_TYPE_COSIGNATURE_V1))).rejects.toMatchObject({ code: 'ACCORD_MALFORMED' });
    await expect(openCn(generateSignerKey(cn.keys.log.name))).rejects.toMatchObject({ code: 'ACCORD_MALFORMED' });
  });

  it('witnesses the checkpoint at R signed by both keys, cosigning with its own witness key, which a verifier accepts', async () => {
    const note = dualNote;
    const r = await addCheckpoint(0, note);
    expect(r.status, await r.clone().text()).toBe(200);
    const sigs = parseAddCheckpointResponse(new Uint8Array(await r.arrayBuffer()));
    const cosigned = appendSignatures(note, sigs);
    // The cosignature is by CN's witness key, not its log key's 0x04 form.
    const w = openWitnessedCheckpoint(cosigned, new VerifierSet([newVerifier(verifierKeyOf(usNew))]), [verifierKeyOf(cnWitness)], { quorum: 1 });
    expect(w.cosignatures.map((c) => c.keyId)).toEqual([verifierKeyOf(cnWitness).keyId]);
    expect(() => openWitnessedCheckpoint(cosigned, new VerifierSet([newVerifier(verifierKeyOf(usNew))]), [cosignerKey(verifierKeyOf(cn.keys.log))], { quorum: 1 })).toThrow();
    // A verifier following the chain (rollback.ts, as US's node checks a cosigned checkpoint of its log).
    expect(verifyCosigned(node, 'US', 'CN', cosigned)).toMatchObject({ party: 'CN', size: R });
    expect((await node.witness.latest('US'))?.treeSize).toBe(R);
  });

  it('witnesses a later checkpoint signed by the new key only', async () => {
    append(usMessage(R + 1, usNew));
    append(usMessage(R + 2, usNew));
    const r = await addCheckpoint(R, checkpoint(R + 3, [usNew]), proof(R, R + 3));
    expect(r.status, await r.clone().text()).toBe(200);
    expect((await node.witness.latest('US'))?.treeSize).toBe(R + 3);
    // Link health checks the held state's cosignature under CN's own witness key and US's key at that size.
    const health = await linkHealth({ node, store, now: Date.now() });
    expect(health.find((h) => h.party === 'US')?.lastCosigned?.size).toBe(R + 3);
  });

  it('refuses a checkpoint the old key signed beyond R (403 KEY_RETIRED) and keeps it as evidence', async () => {
    append(usMessage(R + 3, usNew));
    const retired = checkpoint(R + 4, [us.keys.log]);
    const r = await addCheckpoint(R + 3, retired, proof(R + 3, R + 4));
    expect(r.status).toBe(403);
    expect((await r.json()) as unknown).toMatchObject({ code: 'KEY_RETIRED' });
    expect((await node.witness.latest('US'))?.treeSize).toBe(R + 3); // nothing cosigned
    const kept = [...(await store.unverifiedCheckpoints('US')), ...(await store.forkProofs('US')).map((f) => f.proof)];
    expect(kept.some((k) => k.includes(decodeUtf8(retired).split('\n\n')[0]!))).toBe(true);
    // Kept without quarantining US (a leaked old key must not freeze US's new log); the portable
    // proof (kind retired-key) is built from the kept note and the chain, and verifies.
    expect(await store.forkProofs('US')).toEqual([]);
    const evidence = retiredKeyProof(node.chain, (await node.chainFile()).activations, 'US', (await store.unverifiedCheckpoints('US'))[0]!);
    expect(evidence?.kind).toBe('retired-key');
    expect(() => verifyRetiredKeyProof(evidence!, node.chain)).not.toThrow();
    // The same judgement on every path that opens a checkpoint of US (pull, gossip).
    expect(() => openPartyCheckpoint(node, 'US', retired)).toThrow(expect.objectContaining({ code: 'KEY_RETIRED' }));
    // Signed by the new key as well, the stray old-key signature is ignored (C2SP: unknown signatures).
    expect(openPartyCheckpoint(node, 'US', checkpoint(R + 4, [us.keys.log, usNew])).checkpoint.treeSize).toBe(R + 4);
  });

  it('opens a bundle across the rotation: signed by the key at its checkpoint size, each entry by the key at its index', async () => {
    const size = tree.size; // R + 4: US's checkpoint CN cosigned last is R + 3
    const note = checkpoint(size, [usNew]);
    const entries = [0, 1, R + 2].map((index) => ({ index, bytes: usEntries[index]!, proof: inclusionProofFromHashes(size, index, tree.readHashes(inclusionProofIndexes(size, index))) }));
    const input = { accordId: v1.id, from: 'US', to: 'CN', created: time(50), checkpoint: decodeUtf8(note), entries };
    const sign = (k: SignerKey) => getCrypto().ed25519Signer(k.seed);
    // The old key no longer speaks for US at this size.
    await expect(importBundle(node, makeBundle(input, sign(us.keys.log)))).rejects.toMatchObject({ code: 'BUNDLE_INVALID' });
    // An entry past R signed by the old key, in a tree and bundle the new key signed: refused for that entry.
    const other = new MemoryTree();
    for (const b of usEntries.slice(0, R + 1)) other.appendData(b);
    const stray = usMessage(R + 1, us.keys.log, 'old key after the rotation');
    other.appendData(stray);
    const otherNote = signCheckpoint({ origin: us.keys.log.name, treeSize: R + 2, rootHash: other.root(), extensions: [] }, [newSigner(usNew)]);
    const forged = { accordId: v1.id, from: 'US', to: 'CN', created: time(51), checkpoint: decodeUtf8(otherNote), entries: [{ index: R + 1, bytes: stray, proof: inclusionProofFromHashes(R + 2, R + 1, other.readHashes(inclusionProofIndexes(R + 2, R + 1))) }] };
    await expect(importBundle(node, makeBundle(forged, sign(usNew)))).rejects.toMatchObject({ code: 'BUNDLE_INVALID', cause: { code: 'SIGNATURE_INVALID' } });
    expect(await store.received('US', R + 1)).toBeUndefined();
    const r = await importBundle(node, makeBundle(input, sign(usNew)));
    expect(r).toMatchObject({ from: 'US', accepted: 3 });
    expect((await store.received('US', R + 2))?.meta.type).toBe('hotline.message');
  });

  it('authenticates requests by the sender\u2019s key in the version in force: US\u2019s old key no longer signs for it', () => {
    const req = (k: SignerKey) => {
      const body = encodeUtf8('{}');
      const header = signRequest({ accordId: v1.id, from: 'US', to: 'CN', method: 'POST', path: '/fed/v1/push', body, signer: getCrypto().ed25519Signer(k.seed), now: Date.now() / 1000 });
      return { header, method: 'POST', path: '/fed/v1/push', body };
    };
    expect(node.authenticateRequest(req(usNew)).party).toBe('US');
    expect(() => node.authenticateRequest(req(us.keys.log))).toThrow(expect.objectContaining({ code: 'REQUEST_UNAUTHENTICATED' }));
  });

  it('judges entries by the key in force at their index: old below R, new from R', async () => {
    const before = await node.ingest(usEntries.slice(0, R));
    expect(before.accepted + before.duplicates).toBe(R);
    expect((await node.ingest([usEntries[R + 1]!])).accepted).toBe(1);
    // The old key beyond R, and the new key below R, are not US's key there.
    await expect(node.ingest([usMessage(R + 5, us.keys.log)])).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    await expect(node.ingest([usMessage(0, usNew, 'rewritten')])).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
    expect(await store.received('US', R + 5)).toBeUndefined();
  });

  it('verifies on the worker pool by the chain too: at open from the stored chain, and entries by the key at their index', async () => {
    const pool = new VerifyPool(genesis, 1);
    const pstore = SqliteStore.open(join(dir, 'CN-pool.sqlite'));
    try {
      const first = await ParleyNode.open({ accord: genesis, party: 'CN', keys: cn.keys, store: pstore });
      await first.adoptChain(chainFile);
      await first.close();
      const pnode = await ParleyNode.open({ accord: genesis, party: 'CN', keys: { ...cn.keys, witness: cnWitness }, store: pstore, verifyPool: pool });
      const late = Array.from({ length: 14 }, (_, k) => usMessage(R + 20 + k, usNew));
      // 16 entries: two under the old key below R, fourteen under the new key (the pool takes batches of 16 or more).
      expect((await pnode.ingest([...usEntries.slice(0, 2), ...late])).accepted).toBe(16);
      const stray = [...late.slice(0, 15 - 1).map((_, k) => usMessage(R + 40 + k, usNew)), usMessage(R + 60, us.keys.log), usMessage(R + 61, usNew)];
      await expect(pnode.ingest(stray)).rejects.toMatchObject({ code: 'SIGNATURE_INVALID' });
      expect(await pstore.received('US', R + 40)).toBeUndefined();
      await pnode.close();
    } finally {
      await pool.close();
      await pstore.close();
    }
  });

  it('refuses a shorter chain (ACCORD_VERSION) and another version 2 (ACCORD_FORKED); the chain in force stays', async () => {
    await expect(node.adoptChain({ channel: v1.id, versions: [genesis], activations: [] })).rejects.toMatchObject({ code: 'ACCORD_VERSION' });
    // Another valid version 2: CN names no witness key (both parties sign it).
    const other = draftAmendment(v1, { ...v1.accord, heartbeatSeconds: v1.accord.heartbeatSeconds + 60 });
    let s: SignedAccord = { accord: other, signatures: [] };
    s = signAccordVersion(s, 'US', us.keys.log);
    s = signAccordVersion(s, 'CN', cn.keys.log);
    await expect(node.adoptChain({ channel: v1.id, versions: [s], activations: [] })).rejects.toMatchObject({ code: 'ACCORD_FORKED' });
    // Dropping US's activation is a rollback of its epochs.
    await expect(node.adoptChain({ ...chainFile, activations: [] })).rejects.toMatchObject({ code: 'ACCORD_VERSION' });
    expect(node.chain.current.digest).toBe(verifyAmendment(v1, v2).digest);
    expect(node.epochs.keysFor('US', R)?.version.version).toBe(2);
  });
});
