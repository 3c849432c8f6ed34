/**
 * C2SP tlog-tiles: paths, tile contents, entry bundles, and a reader that
 * verifies tiles against a checkpoint (size, root) before serving hashes.
 */
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  MemoryTree,
  TILE_WIDTH,
  TileReader,
  type Tile,
  checkEntryBundle,
  edgeTiles,
  formatEntryBundle,
  formatEntryBundlePath,
  formatTilePath,
  leafHash,
  parseEntryBundle,
  parseTileData,
  parseTilePath,
  proveConsistency,
  proveInclusion,
  readTileData,
  rootFromEdgeTiles,
  storedHashIndex,
  tilesToPublish,
  treeHash,
  verifyInclusion,
} from '../src/merkle/index.js';
import { ArgumentError, ParseError, StoreError, VerificationError } from '../src/errors.js';
import { formatHex } from '../src/encoding.js';
import { setCrypto } from '../src/crypto/provider.js';
import { nodeCrypto } from '../src/crypto/node.js';
import { assertThrowsCode } from './helpers/assert.js';

describe('tile paths (C2SP tlog-tiles "Merkle Tree")', () => {
  it('encodes the spec example index 1234067 as x001/x234/067', () => {
    expect(formatTilePath({ level: 0, index: 1234067, width: 256 })).toBe('tile/0/x001/x234/067');
    expect(formatTilePath({ level: 2, index: 1234067, width: 8 })).toBe('tile/2/x001/x234/067.p/8');
    expect(formatTilePath({ level: 63, index: 0, width: 255 })).toBe('tile/63/000.p/255');
    expect(formatEntryBundlePath(5, 256)).toBe('tile/entries/005');
    expect(formatEntryBundlePath(1000, 1)).toBe('tile/entries/x001/000.p/1');
  });

  it('parses what it formats, and formats what it parses (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 63 }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        fc.integer({ min: 1, max: 256 }),
        fc.boolean(),
        (level, index, width, entries) => {
          const path = entries ? formatEntryBundlePath(index, width) : formatTilePath({ level, index, width });
          const t = parseTilePath(path);
          expect(t).toEqual(entries ? { kind: 'entries', index, width } : { kind: 'hashes', level, index, width });
        },
      ),
    );
  });

  it('rejects every other spelling with TILE_PATH_MALFORMED', () => {
    const bad = [
      '', 'tile', 'tile/0', 'tiles/0/000', '/tile/0/000', 'tile/00/000', 'tile/64/000', 'tile/-1/000', 'tile/0/67',
      'tile/0/0067', 'tile/0/x000/067', 'tile/0/X001/067', 'tile/0/x01/067', 'tile/0/001/067', 'tile/0/x001/x067',
      'tile/0/000.p/256', 'tile/0/000.p/0', 'tile/0/000.p/08', 'tile/0/000.p/', 'tile/0/000.p', 'tile/0/000/', 'tile/0/000.q/8',
      'tile/entries/', 'tile/entries/00a', 'tile/0/000.p/8/9', 'tile/ 0/000', 'tile/0/x001/x002/x003/x004/x005/x006/007',
      'tile/0/x009/x007/x199/x254/x740/992', 'tile/0/０００',
    ];
    for (const p of bad) assertThrowsCode(() => parseTilePath(p), ParseError, 'TILE_PATH_MALFORMED');
  });
});

describe('tiles of a tree', () => {
  it('matches the spec example: a tree of 70,000 leaves', () => {
    const tiles = tilesToPublish(0, 70_000);
    const count = (level: number, full: boolean) => tiles.filter((t) => t.level === level && (t.width === 256) === full).length;
    expect(count(0, true)).toBe(273);
    expect(tiles.find((t) => t.level === 0 && t.width < 256)).toEqual({ level: 0, index: 273, width: 112 });
    expect(count(1, true)).toBe(1);
    expect(tiles.find((t) => t.level === 1 && t.width < 256)).toEqual({ level: 1, index: 1, width: 17 });
    expect(tiles.filter((t) => t.level === 2)).toEqual([{ level: 2, index: 0, width: 1 }]);
    expect(tiles.length).toBe(273 + 1 + 1 + 1 + 1);
    // "A tree of size 256 will be represented by a full level 0 tile and a partial level 1 tile of width 1."
    expect(tilesToPublish(0, 256)).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 1, index: 0, width: 1 },
    ]);
    expect(edgeTiles(0)).toEqual([]);
  });

  it('publishes only what changed between two sizes', () => {
    expect(tilesToPublish(300, 300)).toEqual([]);
    expect(tilesToPublish(300, 301)).toEqual([{ level: 0, index: 1, width: 45 }]);
    expect(tilesToPublish(511, 512)).toEqual([
      { level: 0, index: 1, width: 256 },
      { level: 1, index: 0, width: 2 },
    ]);
    assertThrowsCode(() => tilesToPublish(5, 4), ArgumentError, 'TREE_ARGUMENT_INVALID');
  });
});

describe('writer and verifying reader', () => {
  const SIZE = 70_123;
  const tree = new MemoryTree();
  const entries: Uint8Array[] = [];
  const roots = new Map<number, Uint8Array>();
  const served = new Map<string, Uint8Array>();
  const CHECKPOINTS = [1, 255, 256, 257, 65_535, 65_536, 65_537, SIZE];

  beforeAll(() => {
    setCrypto(nodeCrypto);
    let published = 0;
    for (let i = 0; i < SIZE; i++) {
      const e = new TextEncoder().encode(`entry ${i}`);
      entries.push(e);
      tree.appendData(e);
      if (CHECKPOINTS.includes(tree.size)) {
        roots.set(tree.size, tree.root());
        for (const t of tilesToPublish(published, tree.size)) served.set(formatTilePath(t), readTileData(t, tree));
        published = tree.size;
      }
    }
  });

  const fetchFrom = (m: Map<string, Uint8Array>) => (t: Tile) => {
    const d = m.get(formatTilePath(t));
    if (!d) throw new Error(`test: tile ${formatTilePath(t)} not served`);
    return d;
  };

  it('the edge tiles of every checkpoint hash to its root', () => {
    for (const [size, root] of roots) {
      const data = edgeTiles(size).map(fetchFrom(served));
      expect(formatHex(rootFromEdgeTiles(size, data))).toBe(formatHex(root));
    }
  });

  it('serves the same root and proofs as the tree itself, from verified tiles', () => {
    for (const [size, root] of roots) {
      const r = new TileReader(size, root, fetchFrom(served));
      expect(formatHex(treeHash(size, r))).toBe(formatHex(root));
      for (const i of new Set([0, 1, size >> 1, size - 1].filter((x) => x < size))) {
        const p = proveInclusion(size, i, r);
        expect(p.map(formatHex)).toEqual(proveInclusion(size, i, tree).map(formatHex));
        expect(verifyInclusion(p, size, root, i, leafHash(entries[i]!))).toBe(true);
      }
      for (const old of CHECKPOINTS.filter((c) => c <= size)) {
        expect(proveConsistency(old, size, r).map(formatHex)).toEqual(proveConsistency(old, size, tree).map(formatHex));
      }
    }
  });

  it('rejects a root that does not match the edge tiles', () => {
    const bad = roots.get(SIZE)!.slice();
    bad[0]! ^= 1;
    assertThrowsCode(() => new TileReader(SIZE, bad, fetchFrom(served)), VerificationError, 'TILE_INVALID');
    assertThrowsCode(() => new TileReader(SIZE, roots.get(65_536)!, fetchFrom(served)), VerificationError, 'TILE_INVALID');
  });

  it('rejects a tampered full tile when a hash in it is first needed', () => {
    const evil = new Map(served);
    const path = formatTilePath({ level: 0, index: 3, width: 256 });
    const t = evil.get(path)!.slice();
    t[100]! ^= 0x40;
    evil.set(path, t);
    const r = new TileReader(SIZE, roots.get(SIZE)!, fetchFrom(evil));
    expect(() => proveInclusion(SIZE, 5, r)).not.toThrow(); // tile 0 is untouched
    assertThrowsCode(() => proveInclusion(SIZE, 3 * 256 + 7, r), VerificationError, 'TILE_INVALID');
  });

  it('rejects tiles of the wrong length', () => {
    const evil = new Map(served);
    const edge = edgeTiles(SIZE)[0]!;
    evil.set(formatTilePath(edge), evil.get(formatTilePath(edge))!.subarray(0, 31));
    assertThrowsCode(() => new TileReader(SIZE, roots.get(SIZE)!, fetchFrom(evil)), ParseError, 'TILE_MALFORMED');
    assertThrowsCode(() => parseTileData(new Uint8Array(8191), 256), ParseError, 'TILE_MALFORMED');
  });

  it('refuses hashes beyond the checkpoint', () => {
    const r = new TileReader(257, roots.get(257)!, fetchFrom(served));
    assertThrowsCode(() => r.readHashes([storedHashIndex(0, 257)]), ArgumentError, 'TREE_ARGUMENT_INVALID');
    assertThrowsCode(() => proveInclusion(300, 3, r), ArgumentError, 'TREE_ARGUMENT_INVALID');
    assertThrowsCode(() => r.tileHashes(0, 2), ArgumentError, 'TREE_ARGUMENT_INVALID');
  });
});

describe('readTileData', () => {
  // golang/mod sumdb/tlog ReadTileData: a reader that answers short is an error, never a zero-padded tile.
  const tree = new MemoryTree();
  for (let i = 0; i < 5; i++) tree.appendData(new Uint8Array([i]));
  const tile = { level: 0, index: 0, width: 5 };

  it('reads exactly width hashes', () => {
    const want = tree.readHashes([0, 1, 2, 3, 4].map((i) => storedHashIndex(0, i)));
    expect(parseTileData(readTileData(tile, tree), 5).map((h) => formatHex(h))).toEqual(want.map((h) => formatHex(h)));
  });

  it('refuses a reader that returns too few hashes', () => {
    const short = { readHashes: (ix: readonly number[]) => tree.readHashes(ix).slice(0, ix.length - 1) };
    assertThrowsCode(() => readTileData(tile, short), StoreError, 'STORE_CORRUPT');
  });

  it('refuses a reader that returns too many hashes', () => {
    const long = { readHashes: (ix: readonly number[]) => [...tree.readHashes(ix), new Uint8Array(32)] };
    assertThrowsCode(() => readTileData(tile, long), StoreError, 'STORE_CORRUPT');
  });

  it('refuses a reader that returns a short hash', () => {
    const bad = { readHashes: (ix: readonly number[]) => tree.readHashes(ix).map((h, i) => (i === 2 ? h.subarray(0, 31) : h)) };
    assertThrowsCode(() => readTileData(tile, bad), StoreError, 'STORE_CORRUPT');
  });
});

describe('entry bundles', () => {
  it('round-trips and checks against the level-0 tile', () => {
    setCrypto(nodeCrypto);
    const es = [new Uint8Array(0), new Uint8Array([1, 2, 3]), new Uint8Array(65_535).fill(7)];
    const b = formatEntryBundle(es);
    expect(b.length).toBe(2 + 0 + 2 + 3 + 2 + 65_535);
    expect(Array.from(b.subarray(0, 4))).toEqual([0, 0, 0, 3]);
    const back = parseEntryBundle(b, 3);
    expect(back.map((x) => formatHex(x))).toEqual(es.map((x) => formatHex(x)));
    const t = new MemoryTree();
    es.forEach((e) => t.appendData(e));
    const tile = parseTileData(readTileData({ level: 0, index: 0, width: 3 }, t), 3);
    expect(() => checkEntryBundle(back, tile)).not.toThrow();
    assertThrowsCode(() => checkEntryBundle([es[1]!, es[0]!, es[2]!], tile), VerificationError, 'TILE_INVALID');
  });

  it('rejects truncated, padded, miscounted and oversized bundles', () => {
    const b = formatEntryBundle([new Uint8Array([1]), new Uint8Array([2, 3])]);
    assertThrowsCode(() => parseEntryBundle(b.subarray(0, b.length - 1), 2), ParseError, 'TILE_MALFORMED');
    assertThrowsCode(() => parseEntryBundle(new Uint8Array([...b, 0]), 2), ParseError, 'TILE_MALFORMED');
    assertThrowsCode(() => parseEntryBundle(new Uint8Array([...b, 0, 0]), 2), ParseError, 'TILE_MALFORMED');
    assertThrowsCode(() => parseEntryBundle(b, 1), ParseError, 'TILE_MALFORMED');
    assertThrowsCode(() => parseEntryBundle(b, 3), ParseError, 'TILE_MALFORMED');
    assertThrowsCode(() => formatEntryBundle([new Uint8Array(65_536)]), ParseError, 'INPUT_TOO_LARGE');
    assertThrowsCode(() => formatEntryBundle(Array.from({ length: TILE_WIDTH + 1 }, () => new Uint8Array(1))), ParseError, 'INPUT_TOO_LARGE');
  });

  it('never throws anything but a ParleyError on random bytes (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.integer({ min: 1, max: 256 }), (bytes, width) => {
        try {
          parseEntryBundle(bytes, width);
        } catch (e) {
          expect(e).toBeInstanceOf(ParseError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
