/**
 * The log-core demo: one party's log, built, published and audited.
 *
 * 1. A party ("US") signs N hotline entries (RFC 8785 canonical JSON in a
 *    C2SP signed note) and appends them to its RFC 6962 tree.
 * 2. It publishes two checkpoints (at N/2 and N) as C2SP tlog-tiles on disk:
 *    `checkpoint`, `tile/<L>/<N>`, `tile/entries/<N>`.
 * 3. A counterpart ("CN") acts as witness over the C2SP tlog-witness wire
 *    format: it checks each checkpoint is consistent with the last one it
 *    cosigned and returns a timestamped cosignature/v1.
 * 4. An auditor with nothing but the directory and the two public keys
 *    verifies everything: the cosigned checkpoint, every tile against it,
 *    every entry bundle against its tile, every entry's signature, sampled
 *    inclusion proofs and the consistency proof between the checkpoints —
 *    and shows that a single flipped byte in a tile is caught.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  type Checkpoint,
  appendSignatures,
  MemoryTree,
  type SignerKey,
  TILE_WIDTH,
  TileReader,
  VerifierSet,
  canonicalizeToBytes,
  checkEntryBundle,
  cosign,
  decideAddCheckpoint,
  formatAddCheckpointRequest,
  formatAddCheckpointResponse,
  formatBase64,
  formatEntryBundle,
  formatEntryBundlePath,
  formatTilePath,
  fullTileCount,
  generateSignerKey,
  isParleyError,
  leafHash,
  newSigner,
  openNote,
  openWitnessedCheckpoint,
  parseAddCheckpointResponse,
  parseEntryBundle,
  partialTileWidth,
  proveConsistency,
  proveInclusion,
  readTileData,
  signCheckpoint,
  signNote,
  tilesToPublish,
  verifierKeyOf,
  verifyConsistency,
  verifyInclusion,
  SIG_TYPE_COSIGNATURE_V1,
  formatVerifierKey,
  type WitnessLogState,
} from '@parley/core/node';

export interface DemoOptions {
  readonly entries: number;
  readonly dir: string;
  /** Inclusion proofs to check, spread over the log. */
  readonly samples: number;
  /** Called as work advances (phase name, done, total). */
  readonly progress?: (phase: string, done: number, total: number) => void;
}

export interface DemoCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

export interface DemoResult {
  readonly dir: string;
  readonly origin: string;
  readonly logKey: string;
  readonly witnessKey: string;
  readonly checkpoints: { treeSize: number; rootHash: string; cosignedAt: string }[];
  readonly tiles: number;
  readonly bundles: number;
  readonly checks: DemoCheck[];
  readonly ok: boolean;
  readonly seconds: number;
}

const ORIGIN = 'parley.demo/us';

function entryFor(i: number, key: SignerKey): Uint8Array {
  const precedences = ['ROUTINE', 'PRIORITY', 'IMMEDIATE', 'FLASH'] as const;
  const body = {
    v: 1,
    type: 'hotline.message',
    from: 'US',
    to: ['CN'],
    seq: i,
    time: new Date(Date.UTC(2026, 10, 26, 3, 0, 0) + i * 1000).toISOString(),
    precedence: precedences[i % 4]!,
    marking: 'TLP:CLEAR',
    body: { lang: 'en', text: `Scheduled link test ${i}: acknowledge on receipt.` },
  };
  return signNote(`${new TextDecoder().decode(canonicalizeToBytes(body))}\n`, [newSigner(key)]);
}

function write(dir: string, path: string, data: Uint8Array | string): void {
  const file = join(dir, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, data);
}

/** The witness side: the last cosigned state, and add-checkpoint handling. */
class DemoWitness {
  readonly key: SignerKey;
  #latest: WitnessLogState | undefined;
  constructor(readonly logKeys: VerifierSet) {
    this.key = generateSignerKey('parley.demo/cn-witness', SIG_TYPE_COSIGNATURE_V1);
  }
  /** Handles one tlog-witness add-checkpoint request body; returns status and body. */
  addCheckpoint(body: Uint8Array, now: number): { status: number; body: Uint8Array } {
    const outcome = decideAddCheckpoint(body, {
      logKeys: (origin) => (origin === ORIGIN ? this.logKeys : undefined),
      latest: () => this.#latest,
      checkConsistency: (m, n, r1, r2, proof) => verifyConsistency(proof, m, n, r1, r2),
    });
    if (outcome.status !== 200) return { status: outcome.status, body: new Uint8Array() };
    this.#latest = { treeSize: outcome.checkpoint.treeSize, rootHash: outcome.checkpoint.rootHash };
    return { status: 200, body: formatAddCheckpointResponse([cosign(outcome.note.text, this.key, now)]) };
  }
}

/** Runs the whole demo in `opts.dir`. Never throws for a failed check: it reports it. */
export function runLogDemo(opts: DemoOptions): DemoResult {
  const started = performance.now();
  const progress = opts.progress ?? (() => {});
  const logKey = generateSignerKey(ORIGIN);
  const logVerifiers = new VerifierSet([verifierKeyOf(logKey)]);
  const witness = new DemoWitness(logVerifiers);
  const tree = new MemoryTree();
  const checks: DemoCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const checkpoints: DemoResult['checkpoints'] = [];
  let published = 0;
  let tiles = 0;
  let bundles = 0;
  const entries: Uint8Array[] = [];
  let cosignedNote: Uint8Array = new Uint8Array();
  const sizes = [Math.max(1, Math.floor(opts.entries / 2)), opts.entries];

  // 1–3. Build, publish, get cosigned.
  for (let i = 0; i < opts.entries; i++) {
    const e = entryFor(i, logKey);
    entries.push(e);
    tree.append(leafHash(e));
    if (i % 1000 === 0 || i === opts.entries - 1) progress('signing and appending entries', i + 1, opts.entries);
    if (!sizes.includes(tree.size) || tree.size === published) continue;
    const cp: Checkpoint = { origin: ORIGIN, treeSize: tree.size, rootHash: tree.root(), extensions: [] };
    const note = signCheckpoint(cp, newSigner(logKey));
    for (const t of tilesToPublish(published, tree.size)) {
      write(opts.dir, formatTilePath(t), readTileData(t, tree));
      tiles++;
      if (t.level === 0) {
        const first = t.index * TILE_WIDTH;
        write(opts.dir, formatEntryBundlePath(t.index, t.width), formatEntryBundle(entries.slice(first, first + t.width)));
        bundles++;
      }
    }
    const request = formatAddCheckpointRequest({
      oldSize: published,
      proof: published === 0 ? [] : proveConsistency(published, tree.size, tree),
      checkpointNote: note,
    });
    const now = Math.floor(Date.now() / 1000);
    const reply = witness.addCheckpoint(request, now);
    check(`witness cosigns checkpoint ${tree.size}`, reply.status === 200, `tlog-witness add-checkpoint answered ${reply.status}`);
    cosignedNote = appendSignatures(note, parseAddCheckpointResponse(reply.body));
    write(opts.dir, 'checkpoint', cosignedNote);
    write(opts.dir, `checkpoints/${tree.size}`, cosignedNote);
    checkpoints.push({ treeSize: cp.treeSize, rootHash: formatBase64(cp.rootHash), cosignedAt: new Date(now * 1000).toISOString() });
    published = tree.size;
  }
  // A checkpoint that rewrites history must be refused by the witness.
  // (The log key signs a tree whose first entry was replaced, one entry longer.)
  const forked = new MemoryTree();
  for (let i = 0; i <= opts.entries; i++) forked.append(leafHash(i === 0 || i === opts.entries ? entryFor(1e9 + i, logKey) : entries[i]!));
  const forkNote = signCheckpoint({ origin: ORIGIN, treeSize: forked.size, rootHash: forked.root(), extensions: [] }, newSigner(logKey));
  const forkProof = proveConsistency(published, forked.size, forked);
  const forkReply = witness.addCheckpoint(formatAddCheckpointRequest({ oldSize: published, proof: forkProof, checkpointNote: forkNote }), 0);
  check('witness refuses a checkpoint that is not consistent with what it cosigned', forkReply.status === 422, `answered ${forkReply.status}`);

  // 4. Audit from the directory alone.
  auditDirectory(opts, formatVerifierKey(verifierKeyOf(logKey)), formatVerifierKey(verifierKeyOf(witness.key)), sizes, check, progress);

  return {
    dir: opts.dir,
    origin: ORIGIN,
    logKey: formatVerifierKey(verifierKeyOf(logKey)),
    witnessKey: formatVerifierKey(verifierKeyOf(witness.key)),
    checkpoints,
    tiles,
    bundles,
    checks,
    ok: checks.every((c) => c.ok),
    seconds: (performance.now() - started) / 1000,
  };
}

function auditDirectory(
  opts: DemoOptions,
  logVkey: string,
  witnessVkey: string,
  sizes: number[],
  check: (name: string, ok: boolean, detail: string) => void,
  progress: (phase: string, done: number, total: number) => void,
): void {
  const read = (p: string) => new Uint8Array(readFileSync(join(opts.dir, p)));
  const logKeys = new VerifierSet([logVkey]);
  let v;
  try {
    v = openWitnessedCheckpoint(read('checkpoint'), logKeys, [witnessVkey], { origin: ORIGIN, quorum: 1 });
    check('checkpoint signed by the log and cosigned by the witness', true, `${v.checkpoint.origin} size ${v.checkpoint.treeSize}, cosigned at ${new Date(v.cosignatures[0]!.timestamp * 1000).toISOString()}`);
  } catch (e) {
    check('checkpoint signed by the log and cosigned by the witness', false, isParleyError(e) ? e.code : String(e));
    return;
  }
  const size = v.checkpoint.treeSize;
  const root = v.checkpoint.rootHash;
  const fetch = (dir: string) => (t: { level: number; index: number; width: number }) => new Uint8Array(readFileSync(join(dir, formatTilePath(t))));
  try {
    const reader = new TileReader(size, root, fetch(opts.dir));
    // Every level-0 tile and its entry bundle, every entry's own signature.
    const full = fullTileCount(size, 0);
    const tileCount = full + (partialTileWidth(size, 0) > 0 ? 1 : 0);
    let entriesChecked = 0;
    for (let n = 0; n < tileCount; n++) {
      const hashes = reader.tileHashes(0, n);
      const bundle = parseEntryBundle(read(formatEntryBundlePath(n, hashes.length)), hashes.length);
      checkEntryBundle(bundle, hashes);
      for (const e of bundle) openNote(e, logKeys);
      entriesChecked += bundle.length;
      progress('auditing tiles, bundles and entry signatures', n + 1, tileCount);
    }
    check('every tile matches the checkpoint, every entry its tile, every entry signature verifies', entriesChecked === size, `${entriesChecked} entries in ${tileCount} bundles`);
    // Sampled inclusion proofs, built from verified tiles and checked against the root.
    let proofsOk = 0;
    const samples = Math.min(opts.samples, size);
    for (let s = 0; s < samples; s++) {
      const i = Math.floor((s * (size - 1)) / Math.max(1, samples - 1));
      const bundleIndex = Math.floor(i / TILE_WIDTH);
      const width = bundleIndex < full ? TILE_WIDTH : partialTileWidth(size, 0);
      const entry = parseEntryBundle(read(formatEntryBundlePath(bundleIndex, width)), width)[i % TILE_WIDTH]!;
      if (verifyInclusion(proveInclusion(size, i, reader), size, root, i, leafHash(entry))) proofsOk++;
    }
    check('inclusion proofs verify (RFC 9162 §2.1.3.2)', proofsOk === samples, `${proofsOk}/${samples} sampled entries`);
    // Consistency between the two published checkpoints.
    const older = openWitnessedCheckpoint(read(`checkpoints/${sizes[0]}`), logKeys, [witnessVkey], { origin: ORIGIN, quorum: 1 }).checkpoint;
    const proof = proveConsistency(older.treeSize, size, reader);
    check(
      'consistency proof between the two checkpoints verifies (RFC 9162 §2.1.4.2)',
      verifyConsistency(proof, older.treeSize, size, older.rootHash, root),
      `${older.treeSize} → ${size}, ${proof.length} hashes`,
    );
    // A flipped byte in a tile is caught.
    const victim = { level: 0, index: 0, width: full > 0 ? TILE_WIDTH : partialTileWidth(size, 0) };
    const evil = (t: { level: number; index: number; width: number }) => {
      const d = fetch(opts.dir)(t);
      if (t.level === victim.level && t.index === victim.index) d[7]! ^= 1;
      return d;
    };
    let caught = false;
    try {
      const r2 = new TileReader(size, root, evil);
      proveInclusion(size, 0, r2);
    } catch (e) {
      caught = isParleyError(e, 'TILE_INVALID');
    }
    check('a tampered tile is rejected (TILE_INVALID)', caught, `flipped one bit of ${formatTilePath(victim)}`);
  } catch (e) {
    check('audit of the published log', false, isParleyError(e) ? `${e.code}: ${e.message}` : String(e));
  }
}
