/**
 * `parley log verify`: a full audit of one log from nothing but its public
 * files and its verifier key.
 *
 * 1. The checkpoint verifies under --key, with origin = the key's name.
 * 2. Every hash tile at every level, fetched first (tiles are small; a URL's
 *    are fetched concurrently, since TileReader reads synchronously), is
 *    checked against the checkpoint: edge tiles hash to the root, every full
 *    tile to its entry in the tile above (C2SP tlog-tiles; RFC 9162 §2.1.1).
 * 3. Every entry bundle matches its level-0 tile, leaf by leaf
 *    (RFC 6962 §2.1: leaf hash = SHA-256(0x00 || entry)).
 * 4. With --accord, every entry is a Parley entry of that channel, signed by
 *    the party whose log this is, at the index it claims (seq). Without it
 *    only the tree and the checkpoint are verified, and the result says so.
 * 5. Issue 12: RFC 3161 tokens, when the source has any (a node's
 *    /log/timestamps, a directory's timestamps.json, or --timestamps FILE):
 *    the note they stamp is a checkpoint of this log signed by its key (no
 *    larger than the one verified; at that size, the same root), and with
 *    --accord/--chain every token verifies against the accord's authorities
 *    (core tsa verifyTimestamps: imprint, chain to a listed root, EKU,
 *    policy, validity). One that does not fails the audit with its TSA_*
 *    code; the tokens, their times and the trusted time are printed.
 */
import type { Command } from 'commander';
import {
  type AccordEpochs,
  type SignedAccord,
  type VerifierKey,
  SIG_TYPE_ED25519,
  parseChainFile,
  verifyChainFile,
  type Tile,
  TileReader,
  type VerifiedAccord,
  VerifierSet,
  checkEntryBundle,
  fail as coreFail,
  formatBase64,
  formatTilePath,
  formatVerifierKey,
  fullTileCount,
  isParleyError,
  openWitnessedCheckpoint,
  parseEntryBundle,
  parseVerifierKey,
  partialTileWidth,
  verifyAccord,
  verifyEntry,
  TILE_WIDTH,
} from '@parley/core/node';
import type { AccordTimestamping } from '@parley/core/tsa';
import { EXIT_INVALID, EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { readAccordFile } from '../datadir.js';
import { readInput } from '../io.js';
import type { VerifyPool } from '@parley/node';
import { type LogSource, MissingResource, mapLimit, openLogSource } from '../tlog-source.js';
import { type Progress, progressBar } from '../progress.js';

interface Opts {
  from: string;
  key: string;
  accord?: string;
  chain?: string;
  timestamps?: string;
  json?: boolean;
}

/** The accord chain a log is judged by (`--chain`): which party's log it is, and its key epochs. */
interface ChainContext {
  readonly party: string;
  readonly epochs: AccordEpochs;
  readonly channel: string;
  /** The party's activation entries: log index → base64 entry bytes the chain file records. */
  readonly activations: ReadonlyMap<number, string>;
}

/**
 * Reads and verifies `--chain FILE` (core verifyChainFile: every version and
 * activation) and finds the party whose log key, in some version, is `vkey`'s
 * origin (a rotated key keeps its name).
 * @throws UsageError for an unreadable file or a key of no party; the
 *   chain's own ParleyError when it does not verify.
 */
function loadChain(file: string, vkey: VerifierKey): ChainContext {
  const { chain, epochs } = verifyChainFile(readInput(file, 'chain file'));
  const party = chain.versions.flatMap((v) => v.accord.parties).find((p) => parseVerifierKey(p.logKey).name === vkey.name)?.id;
  if (party === undefined) throw new UsageError(`--key's origin ${vkey.name} is not the log of any party in the chain ${file}`);
  const mine = chain.versions.some((v) => v.party(party)?.party.logKey === formatVerifierKey(vkey));
  if (!mine) throw new UsageError(`--key is not a log key ${party} ever had in the chain ${file}`);
  const activations = new Map<number, string>();
  for (const a of parseChainFile(readInput(file, 'chain file')).activations) if (a.party === party) activations.set(a.size, a.entry);
  return { party, epochs, channel: chain.channel, activations };
}

/** The tree size a checkpoint note claims (its second line), read before its signature is checked to pick the keys valid at that size. */
function claimedSize(note: Uint8Array): number {
  const lines = new TextDecoder().decode(note.subarray(0, Math.min(note.length, 1024))).split('\n');
  const n = Number(lines[1]);
  return Number.isSafeInteger(n) && n >= 0 ? n : 0;
}

/** What the time-stamp check found (issue 12), for the JSON result. */
interface TimestampReport {
  readonly treeSize: number;
  readonly checked: boolean;
  readonly satisfied?: boolean;
  readonly required?: number;
  readonly trustedTime?: string;
  readonly tokens: { authority: string; genTime?: string; policy?: string; serial?: string }[];
}

/**
 * Checks the tokens of `raw` (see the module doc, 5).
 * @returns undefined without tokens; else the check line and the report.
 * @throws ParleyError: TSA_MALFORMED for a file that is not a token set, the
 *   note's own error (not this log's checkpoint), TREE_ARGUMENT_INVALID for a
 *   size beyond the verified checkpoint or another root at its size, the
 *   first token's TSA_* error.
 */
export async function checkTimestamps(
  raw: Uint8Array | undefined,
  origin: string,
  keysAt: (size: number) => VerifierSet,
  verified: { treeSize: number; rootHash: Uint8Array },
  timestamping: AccordTimestamping | undefined,
  accordGiven: boolean,
): Promise<{ check: { name: string; ok: boolean; skipped?: true; detail: string }; report: TimestampReport } | undefined> {
  if (raw === undefined) return undefined;
  let set: { checkpoint: string; timestamps: { authority: string; token: string }[] };
  try {
    const v = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as Record<string, unknown>;
    if (typeof v['checkpoint'] !== 'string' || !Array.isArray(v['timestamps'])) throw new TypeError('want {checkpoint, timestamps: [{authority, token}]}');
    const timestamps = (v['timestamps'] as unknown[]).map((t) => {
      const o = t as Record<string, unknown> | null;
      if (typeof o !== 'object' || o === null || typeof o['authority'] !== 'string' || typeof o['token'] !== 'string') throw new TypeError('want {authority, token}');
      return { authority: o['authority'], token: o['token'] };
    });
    set = { checkpoint: v['checkpoint'], timestamps };
  } catch (e) {
    return coreFail('TSA_MALFORMED', `the time-stamp tokens are not {checkpoint, timestamps: [{authority, token}]}: ${(e as Error).message}`, e);
  }
  const size = claimedSize(new TextEncoder().encode(set.checkpoint));
  const cp = openWitnessedCheckpoint(set.checkpoint, keysAt(size), [], { origin }).checkpoint;
  if (cp.treeSize > verified.treeSize) coreFail('TREE_ARGUMENT_INVALID', `the stamped checkpoint has size ${cp.treeSize}, beyond the verified ${verified.treeSize}`);
  if (cp.treeSize === verified.treeSize && formatBase64(cp.rootHash) !== formatBase64(verified.rootHash)) coreFail('TREE_ARGUMENT_INVALID', `the stamped checkpoint of size ${cp.treeSize} has another root than the verified one (a fork)`);
  if (timestamping === undefined) {
    const why = accordGiven ? 'the accord lists no time-stamping authority' : 'pass --accord FILE or --chain FILE to check them';
    return {
      check: { name: 'time stamps', ok: true, skipped: true, detail: `${set.timestamps.length} token(s) of tree size ${cp.treeSize} (${set.timestamps.map((t) => t.authority).join(', ')}) not checked: ${why}` },
      report: { treeSize: cp.treeSize, checked: false, tokens: set.timestamps.map((t) => ({ authority: t.authority })) },
    };
  }
  const { verifyTimestamps } = await import('@parley/core/tsa'); // pkijs loads only when tokens are checked
  const r = await verifyTimestamps(set.checkpoint, set.timestamps, timestamping);
  const bad = r.failed[0];
  if (bad !== undefined) coreFail(bad.code as Parameters<typeof coreFail>[0], `the token of ${bad.authority} for tree size ${cp.treeSize} does not verify (${bad.code})`);
  const tokens = r.verified.map((v) => ({ authority: v.authority, genTime: v.genTime.toISOString(), policy: v.policy, serial: v.serial }));
  const when = r.trustedTime !== undefined ? `entries below ${cp.treeSize} existed by ${r.trustedTime.toISOString()}` : `${tokens.length} of the ${timestamping.required} authorities required`;
  return {
    check: { name: 'time stamps', ok: true, detail: `${tokens.map((t) => `${t.authority} at ${t.genTime}`).join(', ')} stamped tree size ${cp.treeSize}: ${when}` },
    report: { treeSize: cp.treeSize, checked: true, satisfied: r.satisfied, required: timestamping.required, ...(r.trustedTime !== undefined ? { trustedTime: r.trustedTime.toISOString() } : {}), tokens },
  };
}

/** The tokens to check: --timestamps FILE, else the source's own. */
async function timestampsInput(o: Opts, src: LogSource): Promise<Uint8Array | undefined> {
  if (o.timestamps !== undefined) return readInput(o.timestamps, 'time-stamp file');
  return src.timestamps();
}

/** Every hash tile of a tree of `size` leaves, lowest level first. */
export function allTiles(size: number): Tile[] {
  const tiles: Tile[] = [];
  for (let level = 0; Math.floor(size / TILE_WIDTH ** level) > 0; level++) {
    const full = fullTileCount(size, level);
    for (let index = 0; index < full; index++) tiles.push({ level, index, width: TILE_WIDTH });
    const partial = partialTileWidth(size, level);
    if (partial > 0) tiles.push({ level, index: full, width: partial });
  }
  return tiles;
}

function loadAccord(file: string | undefined, vkey: string): { accord: VerifiedAccord; signed: SignedAccord } | undefined {
  if (file === undefined) return undefined;
  let accord: VerifiedAccord;
  const signed = readAccordFile(file);
  try {
    accord = verifyAccord(signed, { requireAll: false });
  } catch (e) {
    if (!isParleyError(e)) throw e;
    throw new UsageError(`--accord ${file} does not verify: ${e.message} (${e.code})`);
  }
  if (!accord.accord.parties.some((p) => p.logKey === vkey)) throw new UsageError(`--key is not the log key of any party of the accord in ${file}`);
  return { accord, signed };
}

export function registerLogVerify(log: Command): void {
  log
    .command('verify')
    .description('audit a whole log: checkpoint, every tile, every entry bundle, and (with --accord) every entry signature')
    .requiredOption('--from <url|dir>', "a node's URL (its log is under /log), a tlog-tiles URL prefix, or a directory (parley demo --dir)")
    .requiredOption('--key <vkey>', "the log's verifier key; its name is the origin the checkpoint must have")
    .option('--accord <file>', 'the signed accord: also verify every entry (channel, sender, signature, index)')
    .option('--chain <file>', 'the accord chain file (parley accord chain --out FILE): verify every entry and checkpoint with the keys of the version in force at its position, across rotations')
    .option('--timestamps <file>', "RFC 3161 tokens of a checkpoint of the log, as GET /log/timestamps or /v1/logs/PARTY/timestamps answers (default: the source's own, when it has any)")
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
With --chain, --key may be any log key the party ever had (its name is the origin);
the checkpoint must be signed by a key valid at its size, every entry by the key
of the version in force at its index, the activation entries must be the ones the
chain records, and entries a compromise recovery flagged are counted as suspect.

Exit status: 0 everything verified, 1 something did not (what is printed), 2 unusable arguments.

Examples:
  $ parley log verify --from http://127.0.0.1:8443 --key "$(jq -r .logKey us/party.json)" --accord accord.json
  $ parley log verify --from ./demo-log --key 'parley.demo/us+…'`,
    )
    .action(act(verify));
}

async function verify(o: Opts): Promise<number> {
  const out = makeOut(o.json === true);
  let key;
  try {
    key = parseVerifierKey(o.key);
  } catch (e) {
    throw new UsageError(`--key is not a verifier key (name+keyid+base64): ${(e as Error).message}`);
  }
  if (key.type !== SIG_TYPE_ED25519) throw new UsageError('--key must be an Ed25519 log key (type 0x01)');
  if (o.chain !== undefined && o.accord !== undefined) throw new UsageError('give --accord FILE or --chain FILE, not both (a chain file holds the accord)');
  const out0 = makeOut(o.json === true);
  let chainCtx: ChainContext | undefined;
  if (o.chain !== undefined) {
    try {
      chainCtx = loadChain(o.chain, key);
    } catch (e) {
      if (!isParleyError(e)) throw e;
      out0.failure({ valid: false, code: e.code, error: e.message, checks: [{ name: 'chain', ok: false, detail: `${e.message} (${e.code})` }] }, `log not verified — the chain ${o.chain} does not verify: ${e.message} (${e.code})`);
      return EXIT_INVALID;
    }
    return verifyWithChain(o, key, chainCtx);
  }
  const loaded = loadAccord(o.accord, formatVerifierKey(key));
  const accord = loaded?.accord;
  // Entry signatures are checked on every core: the audit is bound by Ed25519 verification.
  // The node package (the worker pool) and the progress bar load only when used: start-up stays fast.
  const pool = loaded ? new (await import('@parley/node')).VerifyPool(loaded.signed) : undefined;
  const src = await openLogSource(o.from);
  const progress = await progressBar(out.json);
  const checks: { name: string; ok: boolean; skipped?: true; detail: string }[] = [];
  const fail = (name: string, e: unknown): number => {
    progress.stop();
    const code = isParleyError(e) ? e.code : e instanceof MissingResource ? 'RESOURCE_MISSING' : undefined;
    if (code === undefined) throw e;
    const detail = `${(e as Error).message} (${code})`;
    checks.push({ name, ok: false, detail });
    out.failure({ valid: false, from: src.where, code, error: (e as Error).message, checks }, `log not verified — ${name}: ${detail}`);
    return EXIT_INVALID;
  };

  let cp;
  try {
    cp = openWitnessedCheckpoint(await src.checkpoint(), new VerifierSet([key]), [], { origin: key.name }).checkpoint;
  } catch (e) {
    return fail('checkpoint', e);
  }
  checks.push({ name: 'checkpoint', ok: true, detail: `signed by ${key.name}, tree size ${cp.treeSize}, root ${formatBase64(cp.rootHash)}` });

  const tiles = allTiles(cp.treeSize);
  let reader: TileReader;
  try {
    reader = await fetchTiles(src, tiles, cp.treeSize, cp.rootHash, progress);
  } catch (e) {
    return fail('tiles', e);
  }
  checks.push({ name: 'tiles', ok: true, detail: `${tiles.length} tiles at ${new Set(tiles.map((t) => t.level)).size} levels match the checkpoint` });

  const entries = await verifyBundles(src, reader, cp.treeSize, accord, pool, key.name, progress)
    .catch((e: unknown) => e)
    .finally(() => pool?.close());
  if (typeof entries !== 'number') return fail('entries', entries);
  checks.push({ name: 'entry bundles', ok: true, detail: `${entries} entries in ${tiles.filter((t) => t.level === 0).length} bundles match their tiles` });
  checks.push(
    accord
      ? { name: 'entry signatures', ok: true, detail: `${entries} entries signed by ${key.name}'s party for channel ${accord.id.slice(0, 16)}…, each at its own index` }
      : { name: 'entry signatures', ok: true, skipped: true, detail: 'not checked: pass --accord FILE to verify every entry (only the tree and the checkpoint were verified)' },
  );
  let stamps: Awaited<ReturnType<typeof checkTimestamps>>;
  try {
    stamps = await checkTimestamps(await timestampsInput(o, src), key.name, () => new VerifierSet([key]), cp, accord?.accord.timestamping, accord !== undefined);
  } catch (e) {
    return fail('time stamps', e);
  }
  if (stamps) checks.push(stamps.check);
  out.result(
    { valid: true, from: src.where, origin: cp.origin, treeSize: cp.treeSize, rootHash: formatBase64(cp.rootHash), tiles: tiles.length, entries, signaturesChecked: accord !== undefined, ...(stamps ? { timestamps: stamps.report } : {}), checks },
    [`Verified ${src.where}`, ...checks.map((c) => `  ${c.skipped ? '–' : '✓'} ${c.name} — ${c.detail}`), accord ? 'The log is intact.' : 'The tree is intact (entry signatures not checked).'],
  );
  return EXIT_OK;
}

/**
 * Fetches `tiles` (a few in flight) and checks every one against the
 * checkpoint's tree of `size` and `rootHash`.
 * @throws ParleyError or MissingResource when a tile is missing or does not match.
 */
async function fetchTiles(src: LogSource, tiles: ReturnType<typeof allTiles>, size: number, rootHash: Uint8Array, progress: Progress): Promise<TileReader> {
  const data = new Map<string, Uint8Array>();
  progress.start(tiles.length, `fetching ${tiles.length} tiles`);
  await mapLimit(tiles, 16, async (t) => {
    data.set(formatTilePath(t), await src.tile(t));
    progress.tick();
  });
  progress.stop();
  const reader = new TileReader(size, rootHash, (t) => {
    const d = data.get(formatTilePath(t));
    if (!d) throw new Error(`internal: tile ${formatTilePath(t)} was not fetched`);
    return d;
  });
  for (const t of tiles) reader.tileHashes(t.level, t.index);
  return reader;
}

/** Fetches every entry bundle (a few in flight), checks it against its verified tile, and each entry's signature. */
async function verifyBundles(
  src: LogSource,
  reader: TileReader,
  size: number,
  accord: VerifiedAccord | undefined,
  pool: VerifyPool | undefined,
  origin: string,
  progress: Progress,
): Promise<number> {
  const count = fullTileCount(size, 0) + (partialTileWidth(size, 0) > 0 ? 1 : 0);
  const indexes = Array.from({ length: count }, (_, i) => i);
  const party = accord?.accord.parties.find((p) => parseVerifierKey(p.logKey).name === origin)?.id;
  let entries = 0;
  progress.start(count, `verifying ${size} entries in ${count} bundles${accord ? ', signatures included' : ''}`);
  await mapLimit(indexes, 8, async (n) => {
    const hashes = reader.tileHashes(0, n);
    const bundle = parseEntryBundle(await src.bundle(n, hashes.length), hashes.length);
    checkEntryBundle(bundle, hashes);
    if (accord && pool) {
      const { throwVerdict } = await import('@parley/node'); // loaded with the pool
      const verdicts = await pool.verify(bundle, 64);
      verdicts.forEach((v, i) => {
        if (!v.ok) return throwVerdict(v);
        const e = v.entry ?? verifyEntry(bundle[i]!, accord).entry;
        const index = n * TILE_WIDTH + i;
        if (e.from.party !== party || e.seq !== index) {
          coreFail('ENTRY_INVALID', `entry ${index} claims to be ${e.from.party}/${e.seq}, in ${party}'s log at ${index}`);
        }
      });
    }
    entries += bundle.length;
    progress.tick();
  });
  progress.stop();
  return entries;
}

/**
 * The audit of {@link verify} judged by an accord chain: the checkpoint under
 * the keys valid at its size (epochs.checkpointKeys; a key retired before it
 * is KEY_RETIRED), every entry under the version in force at its index
 * (epochs.keysFor), the chain's activation entries byte for byte, and the
 * suspect entries of a compromise recovery counted.
 */
async function verifyWithChain(o: Opts, key: VerifierKey, ctx: ChainContext): Promise<number> {
  const out = makeOut(o.json === true);
  const { party, epochs } = ctx;
  const src = await openLogSource(o.from);
  const progress = await progressBar(out.json);
  const checks: { name: string; ok: boolean; skipped?: true; detail: string }[] = [];
  const fail = (name: string, e: unknown): number => {
    progress.stop();
    const code = isParleyError(e) ? e.code : e instanceof MissingResource ? 'RESOURCE_MISSING' : undefined;
    if (code === undefined) throw e;
    const detail = `${(e as Error).message} (${code})`;
    checks.push({ name, ok: false, detail });
    out.failure({ valid: false, from: src.where, party, code, error: (e as Error).message, checks }, `log not verified — ${name}: ${detail}`);
    return EXIT_INVALID;
  };
  checks.push({ name: 'chain', ok: true, detail: `${ctx.channel.slice(0, 16)}…: ${epochs.chain.versions.length} version(s) and their activations verify; this is ${party}'s log (${epochs.epochs(party).length} key epoch(s))` });

  let cp;
  try {
    const note = await src.checkpoint();
    const size = claimedSize(note);
    const valid = epochs.checkpointKeys(party, size);
    try {
      cp = openWitnessedCheckpoint(note, new VerifierSet(valid.map((m) => m.logKey)), [], { origin: key.name }).checkpoint;
    } catch (e) {
      // Signed by a key of the party that was valid once? Then it is a retired key's signature: evidence.
      const ever = [...new Map(epochs.epochs(party).map((ep) => [formatVerifierKey(ep.member.logKey), ep.member.logKey])).values()];
      let signer;
      try {
        signer = openWitnessedCheckpoint(note, new VerifierSet(ever), [], { origin: key.name }).signers[0];
      } catch {
        throw e;
      }
      const k = ever.find((x) => x.name === signer?.name && x.keyId === signer?.keyId);
      coreFail('KEY_RETIRED', `the checkpoint of size ${size} is signed by ${party}'s key ${k ? formatVerifierKey(k) : '?'}, retired before that size`);
    }
  } catch (e) {
    return fail('checkpoint', e);
  }
  const signers = epochs.checkpointKeys(party, cp.treeSize).length;
  checks.push({ name: 'checkpoint', ok: true, detail: `signed by ${key.name} with a key valid at tree size ${cp.treeSize}${signers > 1 ? ' (the rotation size: old and new key)' : ''}, root ${formatBase64(cp.rootHash)}` });

  const tiles = allTiles(cp.treeSize);
  let reader: TileReader;
  try {
    reader = await fetchTiles(src, tiles, cp.treeSize, cp.rootHash, progress);
  } catch (e) {
    return fail('tiles', e);
  }
  checks.push({ name: 'tiles', ok: true, detail: `${tiles.length} tiles at ${new Set(tiles.map((t) => t.level)).size} levels match the checkpoint` });

  const count = fullTileCount(cp.treeSize, 0) + (partialTileWidth(cp.treeSize, 0) > 0 ? 1 : 0);
  let entries = 0;
  let suspect = 0;
  const versionsSeen = new Set<number>();
  let activationsSeen = 0;
  try {
    progress.start(count, `verifying ${cp.treeSize} entries in ${count} bundles against the chain`);
    await mapLimit(Array.from({ length: count }, (_, i) => i), 8, async (n) => {
      const hashes = reader.tileHashes(0, n);
      const bundle = parseEntryBundle(await src.bundle(n, hashes.length), hashes.length);
      checkEntryBundle(bundle, hashes);
      bundle.forEach((bytes, i) => {
        const index = n * TILE_WIDTH + i;
        const epoch = epochs.keysFor(party, index);
        if (!epoch) coreFail('CHANNEL_FROZEN', `entry ${index} of ${party}'s log is beyond the end of its last accord version`);
        const recorded = ctx.activations.get(index);
        if (recorded !== undefined) {
          if (formatBase64(bytes) !== recorded) coreFail('ACCORD_CHAIN', `entry ${index} of ${party}'s log is not the activation entry the chain records at that position`);
          activationsSeen++;
        }
        const e = verifyEntry(bytes, epoch.version).entry;
        if (e.from.party !== party || e.seq !== index) coreFail('ENTRY_INVALID', `entry ${index} claims to be ${e.from.party}/${e.seq}, in ${party}'s log at ${index}`);
        versionsSeen.add(epoch.version.version);
        if (epochs.suspect(party, index)) suspect++;
      });
      entries += bundle.length;
      progress.tick();
    });
    progress.stop();
  } catch (e) {
    return fail('entries', e);
  }
  const missing = [...ctx.activations.keys()].filter((s) => s < cp.treeSize).length - activationsSeen;
  try {
    if (missing > 0) coreFail('ACCORD_CHAIN', `${missing} activation entr${missing === 1 ? 'y' : 'ies'} the chain records ${missing === 1 ? 'is' : 'are'} not in the log`);
  } catch (e) {
    return fail('activations', e);
  }
  checks.push({ name: 'entry bundles', ok: true, detail: `${entries} entries in ${count} bundles match their tiles` });
  checks.push({ name: 'entry signatures', ok: true, detail: `${entries} entries signed by ${party} with the key of the accord version in force at each index (versions ${[...versionsSeen].sort((a, b) => a - b).join(', ') || 'none'}), each at its own index` });
  checks.push({ name: 'activations', ok: true, detail: `${activationsSeen} activation entr${activationsSeen === 1 ? 'y' : 'ies'} in the log, byte for byte as the chain records` });
  if (suspect > 0) checks.push({ name: 'suspect', ok: true, detail: `${suspect} entr${suspect === 1 ? 'y is' : 'ies are'} SUSPECT: written after the last checkpoint the others witnessed under a compromised key` });
  let stamps: Awaited<ReturnType<typeof checkTimestamps>>;
  try {
    stamps = await checkTimestamps(await timestampsInput(o, src), key.name, (size) => new VerifierSet(epochs.checkpointKeys(party, size).map((m) => m.logKey)), cp, epochs.chain.current.accord.timestamping, true);
  } catch (e) {
    return fail('time stamps', e);
  }
  if (stamps) checks.push(stamps.check);
  out.result(
    { valid: true, from: src.where, party, origin: cp.origin, treeSize: cp.treeSize, rootHash: formatBase64(cp.rootHash), tiles: tiles.length, entries, signaturesChecked: true, chain: { channel: ctx.channel, versions: epochs.chain.versions.length }, suspect, ...(stamps ? { timestamps: stamps.report } : {}), checks },
    [`Verified ${src.where}`, ...checks.map((c) => `  ${'skipped' in c && c.skipped ? '–' : '✓'} ${c.name} — ${c.detail}`), suspect > 0 ? `The log is intact; ${suspect} entries are suspect.` : 'The log is intact across every key epoch.'],
  );
  return EXIT_OK;
}
