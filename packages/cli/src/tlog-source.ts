/**
 * Where `parley log verify` reads a C2SP tlog-tiles log from: a directory
 * (`checkpoint`, `tile/<L>/<N>`, `tile/entries/<N>`, as `parley demo --dir`
 * and `parley serve --mirror-dir` write) or an HTTP prefix: a node serves
 * its log under `<url>/log/`, a static mirror (any web server serving a
 * mirror directory, issue 14) at the prefix itself.
 *
 * Everything read here is untrusted: the caller verifies the checkpoint
 * signature, every tile against the checkpoint and every bundle against its
 * tile. A resource that is missing is reported as such (the log is
 * incomplete — a failed check), not as a usage error.
 */
import { readFile } from 'node:fs/promises';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Tile, TILE_WIDTH, formatEntryBundle, formatEntryBundlePath, formatTilePath, parseEntryBundle } from '@parley/core/node';
import { UsageError } from './exit.js';
import { networkCause } from './client.js';

/** A resource the log should have but does not serve. */
export class MissingResource extends Error {
  override name = 'MissingResource';
  /** True when the source answered "no such file" (HTTP 404, ENOENT), not a failure to read. */
  readonly absent: boolean;
  constructor(message: string, absent = false) {
    super(message);
    this.absent = absent;
  }
}

/**
 * C2SP tlog-tiles: a log may delete a partial tile once the full tile is
 * published (a static mirror does, mirror.ts in @parley/node); its first W
 * hashes — or first W entries of the bundle — are the partial one. So a
 * partial tile that is absent is read from its full tile. Whatever is read is
 * still checked against the checkpoint by the caller.
 */
function withFullTileFallback(src: LogSource): LogSource {
  const absent = (e: unknown) => e instanceof MissingResource && e.absent;
  return {
    ...src,
    tile: (t) =>
      src.tile(t).catch(async (e: unknown) => {
        if (t.width === TILE_WIDTH || !absent(e)) throw e;
        const full = await src.tile({ ...t, width: TILE_WIDTH }).catch(() => Promise.reject(e));
        return full.subarray(0, t.width * 32);
      }),
    bundle: (n, w) =>
      src.bundle(n, w).catch(async (e: unknown) => {
        if (w === TILE_WIDTH || !absent(e)) throw e;
        const full = await src.bundle(n, TILE_WIDTH).catch(() => Promise.reject(e));
        let entries: Uint8Array[];
        try {
          entries = parseEntryBundle(full, TILE_WIDTH);
        } catch {
          throw e;
        }
        return formatEntryBundle(entries.slice(0, w));
      }),
  };
}

export interface LogSource {
  /** Where it is, for messages. */
  readonly where: string;
  checkpoint(): Promise<Uint8Array>;
  tile(t: Tile): Promise<Uint8Array>;
  bundle(index: number, width: number): Promise<Uint8Array>;
  /**
   * Issue 12: the RFC 3161 tokens of a checkpoint of the log, as a node serves
   * them at /log/timestamps (a static mirror: `<prefix>/timestamps`; a
   * directory: `timestamps.json` or `timestamps`); undefined when the source has none.
   */
  timestamps(): Promise<Uint8Array | undefined>;
}

const MAX_RESOURCE = 17 * 1024 * 1024;

function dirSource(dir: string): LogSource {
  const read = async (p: string): Promise<Uint8Array> => {
    try {
      return new Uint8Array(await readFile(join(dir, p)));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new MissingResource(`${p}: ${code ?? e}`, code === 'ENOENT');
    }
  };
  const optional = async (p: string) => (existsSync(join(dir, p)) ? read(p) : undefined);
  // `parley log demo --dir` writes timestamps.json; a static mirror (`serve --mirror-dir`) `timestamps`, as served under /log/.
  const timestamps = async () => (await optional('timestamps.json')) ?? optional('timestamps');
  return { where: dir, checkpoint: () => read('checkpoint'), tile: (t) => read(formatTilePath(t)), bundle: (n, w) => read(formatEntryBundlePath(n, w)), timestamps };
}

async function get(url: string): Promise<Response> {
  try {
    return await fetch(url, { signal: AbortSignal.timeout(30_000), headers: { accept: 'application/octet-stream, text/plain' } });
  } catch (e) {
    const cause = networkCause(e);
    throw new MissingResource(`${url}: ${cause}`);
  }
}

function urlSource(prefix: string): LogSource {
  const read = async (p: string): Promise<Uint8Array> => {
    const res = await get(`${prefix}/${p}`);
    if (!res.ok) {
      await res.arrayBuffer().catch(() => undefined);
      throw new MissingResource(`${prefix}/${p}: HTTP ${res.status}`, res.status === 404);
    }
    const data = new Uint8Array(await res.arrayBuffer());
    if (data.length > MAX_RESOURCE) throw new MissingResource(`${prefix}/${p}: larger than ${MAX_RESOURCE} bytes`);
    return data;
  };
  const optional = async (p: string): Promise<Uint8Array | undefined> => {
    const res = await get(`${prefix}/${p}`);
    if (res.status === 404) {
      await res.arrayBuffer();
      return undefined;
    }
    if (!res.ok) throw new MissingResource(`${prefix}/${p}: HTTP ${res.status}`);
    const data = new Uint8Array(await res.arrayBuffer());
    if (data.length > MAX_RESOURCE) throw new MissingResource(`${prefix}/${p}: larger than ${MAX_RESOURCE} bytes`);
    return data;
  };
  return { where: prefix, checkpoint: () => read('checkpoint'), tile: (t) => read(formatTilePath(t)), bundle: (n, w) => read(formatEntryBundlePath(n, w)), timestamps: () => optional('timestamps') };
}

/**
 * Opens `--from`: a URL (a node's base URL, whose log is under `/log`, or a
 * tlog-tiles prefix that serves `checkpoint` directly) or a directory.
 * @throws UsageError when it is neither, or the host cannot be reached at all.
 */
export async function openLogSource(from: string): Promise<LogSource> {
  if (/^https?:\/\//.test(from)) {
    const base = from.replace(/\/+$/, '');
    for (const prefix of base.endsWith('/log') ? [base] : [`${base}/log`, base]) {
      let res: Response;
      try {
        res = await fetch(`${prefix}/checkpoint`, { method: 'GET', signal: AbortSignal.timeout(30_000) });
      } catch (e) {
        const cause = networkCause(e);
        throw new UsageError(`cannot reach ${base} (${cause}): check --from`, 'NODE_UNREACHABLE');
      }
      await res.arrayBuffer();
      if (res.ok) return withFullTileFallback(urlSource(prefix));
    }
    throw new UsageError(`${base} serves no checkpoint at ${base.endsWith('/log') ? '' : '/log/checkpoint or '}/checkpoint: is it a Parley node or a tlog-tiles log?`);
  }
  const dir = resolve(from);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UsageError(`--from "${from}" is neither an http(s) URL nor a directory`);
  return withFullTileFallback(dirSource(dir));
}

/** Runs `fn` over `items` with at most `limit` in flight; results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T, i: number) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
