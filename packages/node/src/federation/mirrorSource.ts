/**
 * MirrorClient: reads ANOTHER party's log from its static mirror (issue 14:
 * "verifiers and other nodes can read a log from such a mirror") — the
 * C2SP tlog-tiles directory its node publishes (../mirror.ts), served by any
 * web server at a base URL the operator names per peer (`parley serve
 * --peer-mirror CN=https://mirror.cn.example/`, or "peerMirrors" in config.json):
 *
 *     GET <base>/checkpoint                   the peer's signed checkpoint (unverified)
 *     GET <base>/tile/<L>/<N>[.p/<W>]         hash tiles
 *     GET <base>/tile/entries/<N>[.p/<W>]     entry bundles
 *
 * It answers the questions the pull (pull.ts) and gossip (gossip.ts) ask the
 * peer's node — checkpoint, entry bundles, hash tiles, consistency proofs —
 * so the pull verifies a mirror exactly as it verifies a node: the
 * checkpoint against the peer's log key, our witness cosigns only what a
 * consistency proof shows extends what it cosigned before, and every scanned
 * entry must fold into the cosigned root. A static mirror serves no proofs:
 * a consistency proof is built here from the mirror's hash tiles. When the
 * newer size is the checkpoint the mirror served last, the tiles are first
 * checked against that checkpoint's root (core TileReader: edge tiles fold
 * to the root, every other tile to its parent's hash), so a tampered tile is
 * refused as TILE_INVALID before anything is witnessed; other sizes (gossip)
 * give the proof unchecked — its caller verifies it against signed roots.
 *
 * Requests go out as the PeerClient's do: undici `request`, one timeout per
 * request (connection to last byte), responses size-capped before they are
 * read; failures are {@link PeerError}s with the same codes, so the
 * federator handles a mirror that is down like a node that is down. No
 * request signature: a mirror is public files.
 *
 * C2SP tlog-tiles lets a mirror delete a partial tile once its full tile is
 * out (ours does): an absent partial tile or bundle is read as the first W
 * hashes / entries of the full one (still checked like any other answer).
 */
import {
  type Hash,
  type Tile,
  MAX_CHECKPOINT_BYTES,
  TILE_WIDTH,
  TileReader,
  consistencyProofFromHashes,
  consistencyProofIndexes,
  formatEntryBundlePath,
  formatTilePath,
  fullTileCount,
  isParleyError,
  nodeHash,
  parseCheckpoint,
  parseEntryBundle,
  parseNote,
  partialTileWidth,
  proveConsistency,
  splitStoredHashIndex,
} from '@parley/core';
import { request as undiciRequest } from 'undici';
import { DEFAULT_PEER_TIMEOUT_MS, PeerError } from './peer.js';

/** Largest entry bundle read: 256 entries of at most 64 KiB + 2 (tlog-tiles uint16 lengths). */
const MAX_ENTRY_BUNDLE_BYTES = 256 * (65_535 + 2);

export interface MirrorClientOptions {
  /** Per-request timeout in ms (default {@link DEFAULT_PEER_TIMEOUT_MS}, as for peers). */
  readonly timeoutMs?: number;
}

/** Thrown by the synchronous tile fetch of a TileReader for a tile not fetched yet. */
class NeedTile {
  constructor(readonly tile: Tile) {}
}

export class MirrorClient {
  readonly party: string;
  /** The mirror's base URL (no trailing slash). */
  readonly url: string;
  /** Says where a pull read from (link health). */
  readonly kind = 'mirror' as const;
  readonly #timeoutMs: number;
  /** The last checkpoint served: size and root (unverified here; pull.ts verified these very bytes before it asks for a proof). */
  #last: { size: number; root: Hash } | undefined;

  /**
   * @param party the peer's party id whose log the mirror holds.
   * @param url the mirror's base URL: `<url>/checkpoint` is the checkpoint.
   * @throws RangeError for a URL that is not http(s).
   */
  constructor(party: string, url: string, o: MirrorClientOptions = {}) {
    if (!/^https?:\/\/\S+$/.test(url)) throw new RangeError(`the mirror URL of ${party} must be http(s): ${url}`);
    this.party = party;
    this.url = url.replace(/\/+$/, '');
    this.#timeoutMs = o.timeoutMs ?? DEFAULT_PEER_TIMEOUT_MS;
  }

  /**
   * GET <base>/checkpoint: the peer's latest signed checkpoint note (unverified).
   * A 404 is a mirror that is not there (a wrong URL, an unmounted or not yet
   * published directory), not "the peer's log is empty": it fails like any
   * other refusal, so the pull reads the node instead and link health says
   * why the mirror was not read.
   * @throws PeerError `PEER_REFUSED` (404 and every status but 200), and as every request.
   */
  async checkpoint(): Promise<Uint8Array> {
    const a = await this.#get('checkpoint', MAX_CHECKPOINT_BYTES);
    const note = this.#ok(a, 'checkpoint');
    try {
      const cp = parseCheckpoint(parseNote(note).text);
      this.#last = { size: cp.treeSize, root: cp.rootHash };
    } catch {
      this.#last = undefined; // the pull's verification refuses it
    }
    return note;
  }

  /**
   * An RFC 9162 consistency proof from the mirror's hash tiles. For the size
   * of the checkpoint last served, every tile used is checked against its root.
   * @throws VerificationError TILE_INVALID for tiles that do not match that checkpoint; PeerError.
   */
  async consistencyProof(oldSize: number, newSize: number): Promise<Uint8Array[]> {
    if (oldSize === newSize) return [];
    const last = this.#last;
    if (last !== undefined && last.size === newSize) {
      return this.#withTiles((fetch) => proveConsistency(oldSize, newSize, new TileReader(newSize, last.root, fetch)));
    }
    // Unchecked: the caller verifies the proof against the two signed roots.
    return this.#withTiles((fetch) => {
      const need = consistencyProofIndexes(oldSize, newSize);
      const hashes = need.map((i) => storedHash(newSize, i, fetch));
      return consistencyProofFromHashes(oldSize, newSize, hashes);
    });
  }

  /** GET entry bundle `index` of `width` entries: the entries' bytes (unverified). */
  async entryBundle(index: number, width: number): Promise<Uint8Array[]> {
    let a = await this.#get(formatEntryBundlePath(index, width), MAX_ENTRY_BUNDLE_BYTES);
    let read = width;
    if (a.status === 404 && width < TILE_WIDTH) {
      a = await this.#get(formatEntryBundlePath(index, TILE_WIDTH), MAX_ENTRY_BUNDLE_BYTES);
      read = TILE_WIDTH;
    }
    const body = this.#ok(a, 'entry bundle');
    try {
      return parseEntryBundle(body, read).slice(0, width);
    } catch (e) {
      if (!isParleyError(e)) throw e;
      throw new PeerError('PEER_RESPONSE_MALFORMED', this.party, `${this.party}'s mirror: malformed entry bundle ${index}`, { cause: e });
    }
  }

  /** GET hash tile (level, index, width): its bytes (unverified); undefined when the mirror has neither it nor its full tile (404). */
  async tile(level: number, index: number, width: number): Promise<Uint8Array | undefined> {
    let a = await this.#get(formatTilePath({ level, index, width }), width * 32);
    if (a.status === 404 && width < TILE_WIDTH) {
      a = await this.#get(formatTilePath({ level, index, width: TILE_WIDTH }), TILE_WIDTH * 32);
      if (a.status === 200) return this.#ok(a, 'tile').subarray(0, width * 32);
    }
    if (a.status === 404) return undefined;
    return this.#ok(a, 'tile');
  }

  /**
   * Runs the synchronous `fn` over tiles fetched on demand: a tile it lacks
   * is fetched and `fn` runs again (a proof reads at most a few tiles per level).
   */
  async #withTiles<T>(fn: (fetch: (t: Tile) => Uint8Array) => T): Promise<T> {
    const tiles = new Map<string, Uint8Array>();
    const fetch = (t: Tile): Uint8Array => {
      const data = tiles.get(formatTilePath(t));
      if (data === undefined) throw new NeedTile(t);
      return data;
    };
    for (let round = 0; ; round++) {
      try {
        return fn(fetch);
      } catch (e) {
        if (!(e instanceof NeedTile) || round > 64) throw e;
        const data = await this.tile(e.tile.level, e.tile.index, e.tile.width);
        if (data === undefined) throw new PeerError('PEER_REFUSED', this.party, `${this.party}'s mirror has no ${formatTilePath(e.tile)}`, { status: 404 });
        if (data.length !== e.tile.width * 32) throw new PeerError('PEER_RESPONSE_MALFORMED', this.party, `${this.party}'s mirror: ${formatTilePath(e.tile)} is ${data.length} bytes, not ${e.tile.width * 32}`);
        tiles.set(formatTilePath(e.tile), data);
      }
    }
  }

  #ok(a: { status: number; body: Uint8Array }, what: string): Uint8Array {
    if (a.status === 200) return a.body;
    throw new PeerError('PEER_REFUSED', this.party, `${this.party}'s mirror answered ${a.status} for its ${what}`, { status: a.status });
  }

  async #get(path: string, maxBytes: number): Promise<{ status: number; body: Uint8Array }> {
    const url = `${this.url}/${path}`;
    const signal = AbortSignal.timeout(this.#timeoutMs);
    try {
      const res = await undiciRequest(url, { method: 'GET', signal });
      const length = res.headers['content-length'];
      const declared = Number((Array.isArray(length) ? length[0] : length) ?? '0');
      if (declared > maxBytes) {
        res.body.destroy();
        throw new PeerError('PEER_RESPONSE_MALFORMED', this.party, `${this.party}'s mirror: ${path} is ${declared} bytes, more than ${maxBytes}`);
      }
      const chunks: Buffer[] = [];
      let n = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        n += chunk.length;
        if (n > maxBytes) {
          res.body.destroy();
          throw new PeerError('PEER_RESPONSE_MALFORMED', this.party, `${this.party}'s mirror: ${path} exceeds ${maxBytes} bytes`);
        }
        chunks.push(chunk);
      }
      const bytes = Buffer.concat(chunks, n);
      return { status: res.statusCode, body: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) };
    } catch (e) {
      if (e instanceof PeerError) throw e;
      const name = (e as { name?: unknown }).name;
      if (signal.aborted || name === 'TimeoutError' || name === 'AbortError') throw new PeerError('PEER_TIMEOUT', this.party, `${this.party}'s mirror: no answer within ${this.#timeoutMs} ms`, { cause: e });
      throw new PeerError('PEER_UNREACHABLE', this.party, `${this.party}'s mirror: GET ${url} failed`, { cause: e });
    }
  }
}

/**
 * Stored hash `i` of the tree of `size` from its tiles (unchecked): the node
 * covers 2^(level mod 8) hashes of one tile — a full tile when it lies below
 * the tree's full tiles, else the tree's partial tile of that level.
 */
function storedHash(size: number, i: number, fetch: (t: Tile) => Uint8Array): Hash {
  const [level, n] = splitStoredHashIndex(i);
  const tileLevel = Math.floor(level / 8);
  const count = 2 ** (level % 8);
  const first = n * count;
  const index = Math.floor(first / TILE_WIDTH);
  const width = index < fullTileCount(size, tileLevel) ? TILE_WIDTH : partialTileWidth(size, tileLevel);
  const data = fetch({ level: tileLevel, index, width });
  const at = first % TILE_WIDTH;
  const hashes: Hash[] = [];
  for (let k = 0; k < count; k++) hashes.push(data.subarray((at + k) * 32, (at + k + 1) * 32));
  return mth(hashes);
}

function mth(hashes: readonly Hash[]): Hash {
  if (hashes.length === 1) return hashes[0]!;
  const half = hashes.length / 2;
  return nodeHash(mth(hashes.slice(0, half)), mth(hashes.slice(half)));
}
