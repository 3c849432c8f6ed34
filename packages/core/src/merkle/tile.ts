/**
 * C2SP tlog-tiles: the Merkle tree served as static "tiles".
 *
 * A tile at level L, index N holds up to 256 consecutive hashes at tree
 * height 8·L; hash i is MTH(D[(N·256 + i)·256^L : (N·256 + i + 1)·256^L]).
 * A full tile has 256 hashes (8,192 bytes); the rightmost tile of a level is
 * partial, with ⌊s / 256^L⌋ mod 256 hashes for a tree of size s, and is never
 * hashed into the level above. Paths (C2SP tlog-tiles, "Merkle Tree"):
 *
 *     tile/<L>/<N>[.p/<W>]          e.g. tile/0/x001/x234/067.p/8
 *     tile/entries/<N>[.p/<W>]      entry bundles (level-0 entries)
 *
 * `<N>` is split into 3-digit groups, all but the last prefixed with `x`
 * (1234067 → x001/x234/067); `<L>` is 0..63 and `<W>` 1..255, both without
 * leading zeros. We accept exactly that spelling and nothing else.
 *
 * An entry bundle is a sequence of big-endian uint16 length-prefixed entries
 * whose leaf hashes are the corresponding level-0 tile's hashes.
 *
 * {@link TileReader} verifies tiles against a checkpoint's size and root: the
 * rightmost (partial) tiles of every level together must hash to the root,
 * and each full tile must hash to its entry in the tile above. Only then are
 * its hashes served, so proofs built from tiles are as good as the checkpoint.
 */
import { fail } from '../errors.js';
import { bytesEqual } from '../encoding.js';
import { type Hash, HASH_SIZE, isTreeSize, leafHash, nodeHash } from './hash.js';
import { type HashReader } from './tree.js';
import { splitStoredHashIndex, storedHashIndex } from './storedIndex.js';

/** Hashes per full tile (tile height 8). */
export const TILE_WIDTH = 256;
/** Tree levels spanned by one tile. */
export const TILE_HEIGHT = 8;
/** Largest entry an entry bundle can carry (uint16 length prefix). */
export const MAX_BUNDLE_ENTRY = 65_535;

/** One tile: `level` (0..63), `index` N, `width` 1..256 (256 = full). */
export interface Tile {
  readonly level: number;
  readonly index: number;
  readonly width: number;
}

/** A tile or an entry bundle, as named by a path. */
export type TileRef = (Tile & { readonly kind: 'hashes' }) | { readonly kind: 'entries'; readonly index: number; readonly width: number };

function formatIndex(n: number): string {
  // 1234067 → x001/x234/067: groups of three digits, most significant first.
  let s = String(n % 1000).padStart(3, '0');
  for (n = Math.floor(n / 1000); n > 0; n = Math.floor(n / 1000)) {
    s = `x${String(n % 1000).padStart(3, '0')}/${s}`;
  }
  return s;
}

function checkTile(level: number, index: number, width: number): void {
  if (!Number.isInteger(level) || level < 0 || level > 63 || !isTreeSize(index) || !Number.isInteger(width) || width < 1 || width > TILE_WIDTH) {
    fail('TREE_ARGUMENT_INVALID', `tile level ${level} index ${index} width ${width}`);
  }
}

/**
 * C2SP tlog-tiles path of a hash tile.
 * @example formatTilePath({ level: 0, index: 1234067, width: 8 }) // 'tile/0/x001/x234/067.p/8'
 */
export function formatTilePath(t: Tile): string {
  checkTile(t.level, t.index, t.width);
  return `tile/${t.level}/${formatIndex(t.index)}${t.width < TILE_WIDTH ? `.p/${t.width}` : ''}`;
}

/** C2SP tlog-tiles path of an entry bundle: `tile/entries/<N>[.p/<W>]`. */
export function formatEntryBundlePath(index: number, width: number): string {
  checkTile(0, index, width);
  return `tile/entries/${formatIndex(index)}${width < TILE_WIDTH ? `.p/${width}` : ''}`;
}

const GROUP = /^x[0-9]{3}$/;
const LAST = /^[0-9]{3}$/;
const SMALL = /^(0|[1-9][0-9]{0,2})$/;

/**
 * Parses a tile or entry-bundle path (relative to the log prefix, no leading
 * slash) in its one canonical spelling.
 * @throws ParseError `TILE_PATH_MALFORMED`.
 */
export function parseTilePath(path: string): TileRef {
  const bad = (): never => fail('TILE_PATH_MALFORMED', `not a tile path: ${JSON.stringify(path.slice(0, 100))}`);
  if (path.length > 200) bad();
  const parts = path.split('/');
  if (parts[0] !== 'tile' || parts.length < 3) bad();
  const kind = parts[1] === 'entries' ? 'entries' : 'hashes';
  let level = 0;
  if (kind === 'hashes') {
    if (!SMALL.test(parts[1]!)) bad();
    level = Number(parts[1]);
    if (level > 63) bad();
  }
  let rest = parts.slice(2);
  let width = TILE_WIDTH;
  const last = rest[rest.length - 1]!;
  if (rest.length >= 2 && rest[rest.length - 2]!.endsWith('.p')) {
    if (!SMALL.test(last)) bad();
    width = Number(last);
    if (width < 1 || width >= TILE_WIDTH) bad();
    rest = rest.slice(0, -1);
    rest[rest.length - 1] = rest[rest.length - 1]!.slice(0, -2);
  }
  if (rest.length === 0 || rest.length > 6 || !LAST.test(rest[rest.length - 1]!)) bad();
  let index = 0;
  for (let i = 0; i < rest.length; i++) {
    const g = rest[i]!;
    if (i < rest.length - 1 && !GROUP.test(g)) bad();
    index = index * 1000 + Number(i < rest.length - 1 ? g.slice(1) : g);
  }
  // Canonical: no leading all-zero groups (x000/067 is 067).
  if (rest.length > 1 && rest[0] === 'x000') bad();
  if (!Number.isSafeInteger(index)) bad();
  return kind === 'entries' ? { kind, index, width } : { kind, level, index, width };
}

/** Width of the partial tile at `level` for a tree of `treeSize` leaves (0 if none). */
export function partialTileWidth(treeSize: number, level: number): number {
  return Math.floor(treeSize / TILE_WIDTH ** level) % TILE_WIDTH;
}

/** Number of full tiles at `level` for a tree of `treeSize` leaves. */
export function fullTileCount(treeSize: number, level: number): number {
  return Math.floor(treeSize / TILE_WIDTH ** (level + 1));
}

/**
 * The rightmost partial tile of every level that has one, top level first.
 * Together they hash to the tree's root ({@link rootFromEdgeTiles}).
 */
export function edgeTiles(treeSize: number): Tile[] {
  if (!isTreeSize(treeSize)) fail('TREE_ARGUMENT_INVALID', `tree size ${treeSize}`);
  const out: Tile[] = [];
  for (let level = 0; TILE_WIDTH ** level <= treeSize; level++) {
    const width = partialTileWidth(treeSize, level);
    if (width > 0) out.unshift({ level, index: fullTileCount(treeSize, level), width });
  }
  return out;
}

/**
 * Every tile (full or partial) that a log must serve for `newSize` but did
 * not for `oldSize`, lowest level first: what a writer publishes after a
 * checkpoint.
 */
export function tilesToPublish(oldSize: number, newSize: number): Tile[] {
  if (!isTreeSize(oldSize) || !isTreeSize(newSize) || oldSize > newSize) {
    fail('TREE_ARGUMENT_INVALID', `sizes ${oldSize} → ${newSize}`);
  }
  const out: Tile[] = [];
  for (let level = 0; TILE_WIDTH ** level <= newSize; level++) {
    const first = fullTileCount(oldSize, level);
    const end = fullTileCount(newSize, level);
    for (let n = first; n < end; n++) out.push({ level, index: n, width: TILE_WIDTH });
    const w = partialTileWidth(newSize, level);
    if (w > 0 && (end !== fullTileCount(oldSize, level) || w !== partialTileWidth(oldSize, level))) {
      out.push({ level, index: end, width: w });
    }
  }
  return out;
}

/**
 * Writer: the bytes of `tile` (width × 32), read from stored hashes.
 * Hash i is the stored node at tree level 8·L, index N·256 + i.
 *
 * The reader must return exactly one 32-byte hash per index asked, as
 * golang/mod `sumdb/tlog.ReadTileData` requires ("ReadHashes(%d indexes) =
 * %d hashes"): a short answer would otherwise leave zero bytes in the tile,
 * which would be published and signed over as if they were hashes.
 * @throws StoreError `STORE_CORRUPT` when the reader returns too few or too
 *   many hashes, or a hash that is not 32 bytes.
 * @throws ArgumentError `TREE_ARGUMENT_INVALID` for a tile out of range.
 */
export function readTileData(tile: Tile, r: HashReader): Uint8Array {
  checkTile(tile.level, tile.index, tile.width);
  const indexes: number[] = [];
  for (let i = 0; i < tile.width; i++) indexes.push(storedHashIndex(TILE_HEIGHT * tile.level, tile.index * TILE_WIDTH + i));
  const hashes = r.readHashes(indexes);
  if (hashes.length !== indexes.length) fail('STORE_CORRUPT', `readHashes(${indexes.length} indexes) returned ${hashes.length} hashes`);
  const out = new Uint8Array(tile.width * HASH_SIZE);
  hashes.forEach((h, i) => {
    if (h.length !== HASH_SIZE) fail('STORE_CORRUPT', `readHashes returned a ${h.length}-byte hash for stored index ${indexes[i]}`);
    out.set(h, i * HASH_SIZE);
  });
  return out;
}

/** Splits tile bytes into hashes; the length must be exactly width × 32. */
export function parseTileData(data: Uint8Array, width: number): Hash[] {
  if (data.length !== width * HASH_SIZE) fail('TILE_MALFORMED', `tile is ${data.length} bytes, want ${width * HASH_SIZE}`);
  const out: Hash[] = [];
  for (let i = 0; i < width; i++) out.push(data.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE));
  return out;
}

/** RFC 6962 MTH over a run of complete-subtree hashes whose count is a power of two. */
function mthPow2(hashes: readonly Hash[], lo: number, count: number): Hash {
  if (count === 1) return hashes[lo]!;
  const half = count / 2;
  return nodeHash(mthPow2(hashes, lo, half), mthPow2(hashes, lo + half, half));
}

/**
 * Root of a tree from its edge tiles ({@link edgeTiles} order, top first):
 * their hashes are complete subtrees of decreasing size, left to right, so a
 * stack that merges equal sizes rebuilds RFC 6962's split.
 */
export function rootFromEdgeTiles(treeSize: number, tiles: readonly Uint8Array[]): Hash {
  const edges = edgeTiles(treeSize);
  if (tiles.length !== edges.length) fail('TILE_MALFORMED', `want ${edges.length} edge tiles, got ${tiles.length}`);
  const stack: { size: number; hash: Hash }[] = [];
  edges.forEach((t, i) => {
    const size = TILE_WIDTH ** t.level;
    for (const h of parseTileData(tiles[i]!, t.width)) {
      let node = { size, hash: h };
      while (stack.length > 0 && stack[stack.length - 1]!.size === node.size) {
        const left = stack.pop()!;
        node = { size: node.size * 2, hash: nodeHash(left.hash, node.hash) };
      }
      stack.push(node);
    }
  });
  if (stack.length === 0) fail('TREE_ARGUMENT_INVALID', 'the empty tree has no tiles');
  let h = stack[stack.length - 1]!.hash;
  for (let i = stack.length - 2; i >= 0; i--) h = nodeHash(stack[i]!.hash, h);
  return h;
}

/**
 * A {@link HashReader} over tiles fetched from an untrusted source, verified
 * against a trusted checkpoint (size and root) before any hash is served.
 *
 * @example
 *   const r = new TileReader(cp.treeSize, cp.rootHash, (t) => fetchSync(formatTilePath(t)));
 *   const proof = proveInclusion(cp.treeSize, 42, r); // hashes from verified tiles only
 */
export class TileReader implements HashReader {
  readonly #size: number;
  readonly #fetch: (t: Tile) => Uint8Array;
  readonly #verified = new Map<string, Hash[]>();

  /**
   * Fetches the edge tiles and checks they hash to `root`.
   * @throws VerificationError `TILE_INVALID` if they do not; ParseError `TILE_MALFORMED` for bad lengths.
   */
  constructor(treeSize: number, root: Hash, fetch: (t: Tile) => Uint8Array) {
    this.#size = treeSize;
    this.#fetch = fetch;
    if (treeSize === 0) return;
    const edges = edgeTiles(treeSize);
    const data = edges.map((t) => fetch(t));
    if (!bytesEqual(rootFromEdgeTiles(treeSize, data), root)) fail('TILE_INVALID', 'edge tiles do not match the checkpoint root');
    edges.forEach((t, i) => this.#verified.set(key(t), parseTileData(data[i]!, t.width)));
  }

  /** The verified hashes of the tile at (level, index), fetching and checking it if needed. */
  tileHashes(level: number, index: number): Hash[] {
    const full = index < fullTileCount(this.#size, level);
    const width = full ? TILE_WIDTH : partialTileWidth(this.#size, level);
    if (width === 0 || index > fullTileCount(this.#size, level)) {
      fail('TREE_ARGUMENT_INVALID', `tile ${level}/${index} is beyond tree size ${this.#size}`);
    }
    const t: Tile = { level, index, width };
    const cached = this.#verified.get(key(t));
    if (cached) return cached;
    // Not an edge tile, so it is full: its MTH must be entry (index mod 256)
    // of the tile above, which is verified the same way, up to an edge tile.
    const hashes = parseTileData(this.#fetch(t), width);
    const parent = this.tileHashes(level + 1, Math.floor(index / TILE_WIDTH));
    if (!bytesEqual(mthPow2(hashes, 0, TILE_WIDTH), parent[index % TILE_WIDTH]!)) {
      fail('TILE_INVALID', `tile ${formatTilePath(t)} does not match its parent`);
    }
    this.#verified.set(key(t), hashes);
    return hashes;
  }

  readHashes(indexes: readonly number[]): Hash[] {
    return indexes.map((i) => {
      const [level, n] = splitStoredHashIndex(i);
      // The node covers 2^sub hashes of its tile's level, all in one tile.
      const tileLevel = Math.floor(level / TILE_HEIGHT);
      const count = 2 ** (level % TILE_HEIGHT);
      const first = n * count;
      if ((n + 1) * 2 ** level > this.#size) fail('TREE_ARGUMENT_INVALID', `stored hash ${i} is beyond tree size ${this.#size}`);
      const hashes = this.tileHashes(tileLevel, Math.floor(first / TILE_WIDTH));
      return mthPow2(hashes, first % TILE_WIDTH, count);
    });
  }
}

function key(t: Tile): string {
  return `${t.level}/${t.index}/${t.width}`;
}

/**
 * C2SP tlog-tiles entry bundle: each entry as a big-endian uint16 length
 * followed by its bytes.
 * @throws ParseError `INPUT_TOO_LARGE` for an entry over 65,535 bytes or more than 256 entries.
 */
export function formatEntryBundle(entries: readonly Uint8Array[]): Uint8Array {
  if (entries.length > TILE_WIDTH) fail('INPUT_TOO_LARGE', `${entries.length} entries in one bundle`);
  let n = 0;
  for (const e of entries) {
    if (e.length > MAX_BUNDLE_ENTRY) fail('INPUT_TOO_LARGE', `entry of ${e.length} bytes`);
    n += 2 + e.length;
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const e of entries) {
    out[o] = Math.floor(e.length / 256);
    out[o + 1] = e.length % 256;
    out.set(e, o + 2);
    o += 2 + e.length;
  }
  return out;
}

/**
 * Parses an entry bundle that must hold exactly `width` entries.
 * @throws ParseError `TILE_MALFORMED` for truncation, trailing bytes or a wrong count.
 */
export function parseEntryBundle(data: Uint8Array, width: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let o = 0;
  while (o < data.length) {
    if (o + 2 > data.length || out.length === width) fail('TILE_MALFORMED', 'entry bundle has trailing bytes');
    const len = data[o]! * 256 + data[o + 1]!;
    if (o + 2 + len > data.length) fail('TILE_MALFORMED', 'entry bundle is truncated');
    out.push(data.subarray(o + 2, o + 2 + len));
    o += 2 + len;
  }
  if (out.length !== width) fail('TILE_MALFORMED', `entry bundle has ${out.length} entries, want ${width}`);
  return out;
}

/**
 * Checks an entry bundle against its (verified) level-0 tile: entry i's leaf
 * hash must be hash i of the tile.
 * @throws VerificationError `TILE_INVALID`.
 */
export function checkEntryBundle(entries: readonly Uint8Array[], tileHashes: readonly Hash[]): void {
  if (entries.length !== tileHashes.length) fail('TILE_INVALID', 'entry bundle and tile differ in width');
  entries.forEach((e, i) => {
    if (!bytesEqual(leafHash(e), tileHashes[i]!)) fail('TILE_INVALID', `entry ${i} does not match its tile`);
  });
}
