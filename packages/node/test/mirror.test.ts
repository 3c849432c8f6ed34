/**
 * The static mirror publisher (issue 14, mirror.ts) on a real node over a
 * real SQLite file, publishing to a real directory:
 *
 *   1. A node started on an existing log (300 entries) fills an empty
 *      directory: the checkpoint, tiles and bundles are byte for byte what the
 *      node serves under /log/, and the directory verifies on its own
 *      (TileReader against the checkpoint, every bundle against its tile).
 *   2. It follows appends: crossing a tile boundary publishes the full tile,
 *      prunes the superseded partial tiles and bundles, and never rewrites a
 *      full tile (same inode, same mtime, many rounds later).
 *   3. Idempotent catch-up: files deleted from the directory (and a stale
 *      staged file) are restored on the next start, identical; the
 *      checkpoint is never ahead of its tiles.
 *   4. A storage failure in the middle of a round (injected: the store's
 *      hash read fails after some files are written) leaves the previous
 *      checkpoint, which still verifies; the next round completes without
 *      rewriting the files the failed one wrote; /metrics shows the
 *      mirror's size, its lag and the failure.
 *   5. Time-stamp tokens stored after their checkpoint (no append since)
 *      reach the mirror's `timestamps` on the next round; an unchanged set
 *      is not rewritten.
 *   6. One publisher per directory: a second one (in this process, or while
 *      another live process holds the lock) is refused with MIRROR_LOCKED and
 *      touches nothing; a dead holder's lock (kill -9) is taken over; a
 *      successor whose view lags never replaces the larger checkpoint there.
 *      An impossible directory (/proc/x) fails at once (ENOENT), not a hang.
 *   7. A directory of another log, or with a forged checkpoint of this log
 *      (another root at a size the node has), refuses the start with
 *      MIRROR_CONFLICT, and is left as it was.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  TileReader,
  VerifierSet,
  checkEntryBundle,
  edgeTiles,
  formatEntryBundle,
  formatEntryBundlePath,
  formatTilePath,
  fullTileCount,
  newSigner,
  openWitnessedCheckpoint,
  parseEntryBundle,
  parseVerifierKey,
  partialTileWidth,
  signCheckpoint,
  verifierKeyOf,
} from '@parley/core/node';
import { MirrorPublisher } from '../src/index.js';
import { Metrics } from '../src/http/metrics.js';
import { openChannel } from './helpers/channel.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function channel(ids: readonly string[] = ['US', 'CN']) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-mirror-'));
  const ch = await openChannel(ids, dir);
  cleanups.push(async () => {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { ...ch, dir };
}

async function grow(node: { heartbeat(): Promise<unknown>; treeSize: number }, to: number): Promise<void> {
  while (node.treeSize < to) {
    await Promise.all(Array.from({ length: Math.min(64, to - node.treeSize) }, () => node.heartbeat()));
  }
}

async function publisher(o: Parameters<typeof MirrorPublisher.start>[0]): Promise<MirrorPublisher> {
  const m = await MirrorPublisher.start({ intervalMs: 0, ...o });
  cleanups.push(() => m.stop());
  await m.caughtUp;
  return m;
}

const read = (dir: string, p: string) => new Uint8Array(readFileSync(join(dir, p)));

/** The whole audit `parley log verify` makes, from the directory alone. */
function verifyDir(dir: string, logKey: string): number {
  const key = parseVerifierKey(logKey);
  const cp = openWitnessedCheckpoint(read(dir, 'checkpoint'), new VerifierSet([key]), [], { origin: key.name }).checkpoint;
  const reader = new TileReader(cp.treeSize, cp.rootHash, (t) => read(dir, formatTilePath(t)));
  let entries = 0;
  const bundles = fullTileCount(cp.treeSize, 0) + (partialTileWidth(cp.treeSize, 0) > 0 ? 1 : 0);
  for (let n = 0; n < bundles; n++) {
    const hashes = reader.tileHashes(0, n);
    const bundle = parseEntryBundle(read(dir, formatEntryBundlePath(n, hashes.length)), hashes.length);
    checkEntryBundle(bundle, hashes);
    entries += bundle.length;
  }
  return entries;
}

describe('static mirror publisher', () => {
  it('fills an empty directory from an existing log, byte for byte what /log/ serves, and the directory verifies alone', async () => {
    const ch = await channel();
    const us = ch.node('US');
    await grow(us, 300);
    const mirror = join(ch.dir, 'mirror');
    const m = await publisher({ dir: mirror, node: us, store: ch.store('US') });
    expect(m.publishedSize).toBe(us.treeSize);
    expect(read(mirror, 'checkpoint')).toEqual(await us.latestCheckpoint());
    const size = us.treeSize;
    expect(read(mirror, 'tile/0/000')).toEqual(await us.tile(0, 0, 256));
    for (const t of edgeTiles(size)) {
      expect(read(mirror, formatTilePath(t))).toEqual(await us.tile(t.level, t.index, t.width));
    }
    const w = partialTileWidth(size, 0);
    expect(read(mirror, formatEntryBundlePath(1, w))).toEqual(formatEntryBundle((await us.entryBundle(1, w))!.map((e) => e.bytes)));
    expect(verifyDir(mirror, ch.accord.accord.parties.find((p) => p.id === 'US')!.logKey)).toBe(size);
    expect(existsSync(join(mirror, '.staging'))).toBe(true);
  });

  it('follows appends, prunes superseded partial tiles, and never rewrites a full tile', async () => {
    const ch = await channel();
    const us = ch.node('US');
    await grow(us, 270);
    const mirror = join(ch.dir, 'mirror');
    const m = await publisher({ dir: mirror, node: us, store: ch.store('US') });
    const full = statSync(join(mirror, 'tile/0/000'));
    const rounds: number[] = [];
    m.onRound((r) => rounds.push(r.treeSize));
    await grow(us, 520);
    await m.sync();
    expect(m.publishedSize).toBe(us.treeSize);
    expect(rounds.length).toBeGreaterThan(0);
    // tile 1 of level 0 became full: its partials (tiles and bundles) are gone, the full ones are there.
    expect(existsSync(join(mirror, 'tile/0/001'))).toBe(true);
    expect(existsSync(join(mirror, 'tile/entries/001'))).toBe(true);
    expect(existsSync(join(mirror, 'tile/0/001.p'))).toBe(false);
    expect(existsSync(join(mirror, 'tile/entries/001.p'))).toBe(false);
    // the current partial tile keeps the widths published since the boundary.
    expect(existsSync(join(mirror, formatTilePath({ level: 0, index: 2, width: partialTileWidth(us.treeSize, 0) })))).toBe(true);
    const again = statSync(join(mirror, 'tile/0/000'));
    expect([again.ino, again.mtimeMs]).toEqual([full.ino, full.mtimeMs]);
    expect(read(mirror, 'checkpoint')).toEqual(await us.latestCheckpoint());
    expect(verifyDir(mirror, ch.accord.accord.parties.find((p) => p.id === 'US')!.logKey)).toBe(us.treeSize);
  });

  it('catches up idempotently on restart: deleted files come back identical, stale staged files are cleared', async () => {
    const ch = await channel();
    const us = ch.node('US');
    await grow(us, 600);
    const mirror = join(ch.dir, 'mirror');
    const m = await publisher({ dir: mirror, node: us, store: ch.store('US') });
    await m.stop();
    const tile = read(mirror, 'tile/0/001');
    const bundle = read(mirror, 'tile/entries/002.p/88');
    unlinkSync(join(mirror, 'tile/0/001'));
    unlinkSync(join(mirror, 'tile/entries/002.p/88'));
    writeFileSync(join(mirror, '.staging', 'dead.tmp'), 'half a tile');
    await publisher({ dir: mirror, node: us, store: ch.store('US') });
    expect(read(mirror, 'tile/0/001')).toEqual(tile);
    expect(read(mirror, 'tile/entries/002.p/88')).toEqual(bundle);
    expect(existsSync(join(mirror, '.staging', 'dead.tmp'))).toBe(false);
    expect(verifyDir(mirror, ch.accord.accord.parties.find((p) => p.id === 'US')!.logKey)).toBe(600);
  });

  it('a store failure mid-round leaves the previous checkpoint, which verifies; the next round completes', async () => {
    const ch = await channel();
    const us = ch.node('US');
    const real = ch.store('US');
    await grow(us, 300);
    let reads = 0;
    let failAfter = Infinity;
    const faulty = {
      readHashes: (ix: readonly number[]) => (++reads > failAfter ? Promise.reject(new Error('EIO: injected')) : real.readHashes(ix)),
      entries: (a: number, b: number) => real.entries(a, b),
      checkpointAt: (n: number) => real.checkpointAt(n),
      latestTimestampedSize: (p: string) => real.latestTimestampedSize(p),
    } as unknown as typeof real;
    const mirror = join(ch.dir, 'mirror');
    const warnings: string[] = [];
    const m = await publisher({ dir: mirror, node: us, store: faulty, intervalMs: 3_600_000, logger: { info() {}, warn: (o: object) => warnings.push(JSON.stringify(o)), error() {} } });
    const held = read(mirror, 'checkpoint');
    await grow(us, 800);
    reads = 0;
    failAfter = 2; // tile/0/001 and tile/0/002 (and their bundles) are written, then level 1 fails
    await m.sync();
    expect(warnings.some((w) => w.includes('parley.mirror.error'))).toBe(true);
    expect(read(mirror, 'checkpoint')).toEqual(held);
    expect(m.publishedSize).toBe(300);
    const logKey = ch.accord.accord.parties.find((p) => p.id === 'US')!.logKey;
    expect(verifyDir(mirror, logKey)).toBe(300);
    // The operator sees it: the mirror's size, its lag behind the log, the failed round.
    const metrics = await new Metrics(us, real).registry.metrics();
    expect(metrics).toContain(`parley_mirror_tree_size{dir="${mirror}"} 300`);
    expect(metrics).toContain(`parley_mirror_lag_entries{dir="${mirror}"} 500`);
    expect(metrics).toContain(`parley_mirror_failures_total{dir="${mirror}"} 1`);
    const written = statSync(join(mirror, 'tile/0/001'));
    failAfter = Infinity;
    await m.sync();
    expect(m.publishedSize).toBe(800);
    expect(verifyDir(mirror, logKey)).toBe(800);
    const after = statSync(join(mirror, 'tile/0/001'));
    expect([after.ino, after.mtimeMs]).toEqual([written.ino, written.mtimeMs]);
  });

  it('publishes time-stamp tokens that arrive after their checkpoint, with no append, and only when they change', async () => {
    const ch = await channel();
    const us = ch.node('US');
    const store = ch.store('US');
    await grow(us, 40);
    const mirror = join(ch.dir, 'mirror');
    const m = await publisher({ dir: mirror, node: us, store });
    expect(existsSync(join(mirror, 'timestamps'))).toBe(false);
    // As the stamper stores a verified token (the store does not check it; a verifier does).
    const note = new TextDecoder().decode((await store.checkpointAt(40))!);
    await store.addCheckpointTimestamps([{ party: 'US', treeSize: 40, authority: 'tsa-a', token: new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), genTime: Date.UTC(2026, 11, 4), note }]);
    await m.sync();
    const held = JSON.parse(readFileSync(join(mirror, 'timestamps'), 'utf8')) as { party: string; treeSize: number; checkpoint: string; timestamps: { authority: string }[] };
    expect(held).toMatchObject({ party: 'US', treeSize: 40, checkpoint: note, timestamps: [{ authority: 'tsa-a' }] });
    const first = statSync(join(mirror, 'timestamps'));
    await grow(us, 45);
    await m.sync();
    const again = statSync(join(mirror, 'timestamps'));
    expect([again.ino, again.mtimeMs]).toEqual([first.ino, first.mtimeMs]);
  });

  it('one publisher per directory: a second is refused (MIRROR_LOCKED); a successor whose view lags never replaces the larger checkpoint', async () => {
    const ch = await channel();
    const us = ch.node('US');
    const store = ch.store('US');
    await grow(us, 300);
    const mirror = join(ch.dir, 'mirror');
    const ahead = await MirrorPublisher.start({ dir: mirror, node: us, store, intervalMs: 3_600_000 });
    await ahead.caughtUp;
    // A second process of the party whose view of the log lags (its latest checkpoint is older).
    let view = (await store.checkpointAt(300))!;
    const lagging = { origin: us.origin, party: us.party, get treeSize() { return Number(new TextDecoder().decode(view).split('\n')[1]); }, latestCheckpoint: () => Promise.resolve(view), onAppend: () => () => undefined } as unknown as typeof us;
    // While the first publishes, a second is refused, and touches nothing (the staging area is the first's).
    writeFileSync(join(mirror, '.staging', 'in-flight.tmp'), 'x');
    await expect(MirrorPublisher.start({ dir: mirror, node: lagging, store, intervalMs: 3_600_000 })).rejects.toMatchObject({ code: 'MIRROR_LOCKED' });
    expect(existsSync(join(mirror, '.staging', 'in-flight.tmp'))).toBe(true);
    await grow(us, 310);
    const at310 = (await us.latestCheckpoint())!;
    await grow(us, 320);
    await ahead.sync();
    await ahead.stop();
    // The first stopped: its successor takes the directory, but its view (310) is behind what is there (320).
    view = at310;
    expect(lagging.treeSize).toBeLessThan(us.treeSize);
    const behind = await publisher({ dir: mirror, node: lagging, store, intervalMs: 3_600_000 });
    await behind.sync();
    expect(read(mirror, 'checkpoint')).toEqual(await us.latestCheckpoint());
    expect(behind.publishedSize).toBe(us.treeSize);
    expect(verifyDir(mirror, ch.accord.accord.parties.find((p) => p.id === 'US')!.logKey)).toBe(us.treeSize);
  });

  it('the lock is held across processes: refused while a live process holds it, taken over once that process is killed -9', async () => {
    const ch = await channel();
    const us = ch.node('US');
    await grow(us, 10);
    const mirror = join(ch.dir, 'mirror');
    mkdirSync(mirror);
    // Another process takes the directory's lock through the built package (packages/node/dist) and keeps it.
    const dist = new URL('../dist/mirror.js', import.meta.url).href;
    const child = spawn(process.execPath, ['--input-type=module', '-e', `import { lockMirrorDir } from ${JSON.stringify(dist)}; lockMirrorDir(${JSON.stringify(mirror)}); process.stdout.write('locked\\n'); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const exited = new Promise((r) => child.on('exit', r));
    cleanups.push(async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
      child.on('exit', (c) => reject(new Error(`the lock holder exited ${c}`)));
    });
    const refused = await MirrorPublisher.start({ dir: mirror, node: us, store: ch.store('US'), intervalMs: 0 }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'MIRROR_LOCKED', message: expect.stringContaining(`pid ${child.pid}`) });
    expect(existsSync(join(mirror, 'checkpoint'))).toBe(false);
    child.kill('SIGKILL');
    await exited;
    // The stale lock of the dead process (its pid file is still there) is taken over.
    expect(existsSync(join(mirror, '.parley-mirror.lock.pid'))).toBe(true);
    const m = await publisher({ dir: mirror, node: us, store: ch.store('US') });
    expect(m.publishedSize).toBe(10);
    expect(readFileSync(join(mirror, '.parley-mirror.lock.pid'), 'utf8')).toContain(String(process.pid));
  });

  it('an impossible directory (/proc/x) fails at once with its errno, not a hang', async () => {
    const ch = await channel();
    const t0 = Date.now();
    const e = await MirrorPublisher.start({ dir: '/proc/parley-mirror-test/x', node: ch.node('US'), store: ch.store('US') }).catch((err: unknown) => err);
    expect(e).toMatchObject({ code: 'ENOENT', syscall: 'mkdir' });
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('refuses a directory of another log, or a forged checkpoint of this one, with MIRROR_CONFLICT', async () => {
    const ch = await channel();
    const us = ch.node('US');
    const cn = ch.node('CN');
    await grow(us, 10);
    await grow(cn, 10);
    const mirror = join(ch.dir, 'mirror');
    const m = await publisher({ dir: mirror, node: us, store: ch.store('US') });
    await m.stop();
    const held = read(mirror, 'checkpoint');
    await expect(MirrorPublisher.start({ dir: mirror, node: cn, store: ch.store('CN') })).rejects.toMatchObject({ code: 'MIRROR_CONFLICT' });
    expect(read(mirror, 'checkpoint')).toEqual(held);

    // The same origin and a size the node has, another root, signed with the log key.
    const key = ch.parties.find((p) => p.id === 'US')!.keys.log;
    const forged = signCheckpoint({ origin: us.origin, treeSize: 5, rootHash: new Uint8Array(32).fill(7), extensions: [] }, newSigner(key));
    writeFileSync(join(mirror, 'checkpoint'), forged);
    await expect(MirrorPublisher.start({ dir: mirror, node: us, store: ch.store('US') })).rejects.toMatchObject({ code: 'MIRROR_CONFLICT' });
    expect(read(mirror, 'checkpoint')).toEqual(forged);
    expect(verifierKeyOf(key).name).toBe(us.origin);
  });
});
