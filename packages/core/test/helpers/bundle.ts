/**
 * Builds offline bundles for tests and for the pinned vector
 * (test/vectors/parley/make-bundle-v1.ts): a party's log in memory (signed
 * entries in a MemoryTree), its checkpoint note with optional cosignatures,
 * and the bundle input for chosen indexes.
 */
import {
  type BundleInput,
  type Envelope,
  type NoteSignature,
  type Precedence,
  type SignedAccord,
  type SignerKey,
  MemoryTree,
  appendSignatures,
  bundleSigningMessage,
  cosign,
  cosignerKey,
  decodeUtf8,
  getCrypto,
  makeBundle,
  newSigner,
  parseBase64,
  proveInclusion,
  signCheckpoint,
  signEntry,
  signerKeyFromSeed,
  verifyAccord,
} from '../../src/index.js';
import type { VerifiedEntry } from '../../src/entry/envelope.js';

/** One party's log held in memory. */
export interface TestLog {
  readonly party: string;
  readonly key: SignerKey;
  readonly tree: MemoryTree;
  readonly entries: VerifiedEntry[];
}

/** Appends `envelopes` (their `seq` is set to the next index) to a new log of `party`. */
export function buildLog(party: string, key: SignerKey, envelopes: readonly Envelope[]): TestLog {
  const tree = new MemoryTree();
  const entries: VerifiedEntry[] = [];
  const sign = getCrypto().ed25519Signer(key.seed);
  for (const env of envelopes) {
    const e = signEntry({ ...env, seq: tree.size }, sign);
    tree.append(e.leafHash);
    entries.push(e);
  }
  return { party, key, tree, entries };
}

/** The log's checkpoint at its current size (origin = key name), with extra signatures appended. */
export function checkpointNote(log: TestLog, extra: readonly NoteSignature[] = [], size = log.tree.size): string {
  const root = size === log.tree.size ? log.tree.root() : undefined;
  if (root === undefined) throw new Error('test helper: only the current size');
  const note = signCheckpoint({ origin: log.key.name, treeSize: size, rootHash: root, extensions: [] }, newSigner(log.key));
  return decodeUtf8(extra.length > 0 ? appendSignatures(note, extra) : note);
}

/** A cosignature of `checkpoint` (note text) by `witness`'s log key as a cosignature/v1 key. */
export function cosignNote(checkpoint: string, witness: SignerKey, timestamp: number): NoteSignature {
  const body = checkpoint.slice(0, checkpoint.indexOf('\n\n') + 1);
  return cosign(body, cosignerKey(witness), timestamp);
}

/** Bundle input of the entries at `include`, with proofs against the current tree. */
export function bundleInput(log: TestLog, accordId: string, to: string, created: string, checkpoint: string, include: readonly number[]): BundleInput {
  return {
    accordId,
    from: log.party,
    to,
    created,
    checkpoint,
    entries: include.map((i) => ({ index: i, bytes: log.entries[i]!.bytes, proof: proveInclusion(log.tree.size, i, log.tree) })),
  };
}

/** What make-bundle-v1.ts varies. */
export interface BundleVectorInput {
  readonly created: string;
  readonly cosignedAt: number;
  readonly messages: readonly { readonly time: string; readonly text: string; readonly precedence: Precedence }[];
  readonly include: readonly number[];
}

/** The channel-v1.json fields used here. */
export interface ChannelVectorLike {
  readonly accord: SignedAccord;
  readonly seeds: Record<string, { log: string; hpke: string }>;
}

/** The channel-v1 keys: US and CN log signer keys from their fixed seeds. */
export function channelKeys(channel: ChannelVectorLike): { US: SignerKey; CN: SignerKey } {
  return {
    US: signerKeyFromSeed('us.parley.example/log', parseBase64(channel.seeds['US']!.log)),
    CN: signerKeyFromSeed('cn.parley.example/log', parseBase64(channel.seeds['CN']!.log)),
  };
}

/** Builds the bundle-v1 vector: US's log, CN's cosignature on its checkpoint, the bundle to CN. */
export function buildBundleVector(channel: ChannelVectorLike, input: BundleVectorInput) {
  const accord = verifyAccord(channel.accord);
  const keys = channelKeys(channel);
  const envelopes: Envelope[] = input.messages.map((m) => ({
    v: 1,
    accord: accord.id,
    from: { party: 'US', officer: 'alice' },
    to: ['CN'],
    seq: 0,
    time: m.time,
    type: 'hotline.message',
    precedence: m.precedence,
    marking: 'TLP:CLEAR',
    refs: [],
    body: { clear: { text: m.text, lang: 'en' } },
  }));
  const log = buildLog('US', keys.US, envelopes);
  const plain = checkpointNote(log);
  const checkpoint = checkpointNote(log, [cosignNote(plain, keys.CN, input.cosignedAt)]);
  const bi = bundleInput(log, accord.id, 'CN', input.created, checkpoint, input.include);
  return {
    accord,
    keys,
    log,
    checkpoint,
    input: bi,
    signingMessage: bundleSigningMessage(bi),
    bundle: makeBundle(bi, getCrypto().ed25519Signer(keys.US.seed)),
  };
}
