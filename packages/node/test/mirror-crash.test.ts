/**
 * kill -9 at a chosen point of a static mirror round (issue 14), with a real
 * process: a child `node` opens the party's node on a SQLite file and
 * publishes to a directory (mirror.ts, the built package as `parley serve`
 * runs it); its store is wrapped so that the k-th entry-bundle read SIGKILLs
 * the process itself — in the middle of a catch-up round, after some tiles
 * and bundles are renamed into place and others are staged, before the
 * checkpoint. Then:
 *
 *   - the directory still verifies alone (checkpoint, every tile against it,
 *     every bundle against its tile) at the size published before the crash,
 *     and files of the interrupted round are there (the crash was mid-round);
 *   - a restart (no crash) completes the directory, which verifies at the
 *     new size, and clears the staging directory.
 *
 * Needs the built packages (`npm run build`, as `npm test` does first).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  TileReader,
  VerifierSet,
  checkEntryBundle,
  formatBase64,
  formatEntryBundlePath,
  formatSignedAccord,
  formatSignerKey,
  formatTilePath,
  fullTileCount,
  openWitnessedCheckpoint,
  parseEntryBundle,
  parseVerifierKey,
  partialTileWidth,
} from '@parley/core/node';
import { makeAccord, makeParty } from './helpers/channel.js';

const repo = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../..');
const dist = (p: string) => pathToFileURL(join(repo, 'packages', p)).href;

/** The child: open US's node, optionally grow its log, publish, and exit (or die at the k-th bundle read). */
const CHILD = `
import { readFileSync } from 'node:fs';
const core = await import(${JSON.stringify(dist('core/dist/node.js'))});
const { SqliteStore } = await import(${JSON.stringify(dist('store/dist/index.js'))});
const { ParleyNode, MirrorPublisher } = await import(${JSON.stringify(dist('node/dist/index.js'))});
const [cfgFile, growTo, crashAt] = process.argv.slice(2);
const cfg = JSON.parse(readFileSync(cfgFile, 'utf8'));
const keys = { log: core.parseSignerKey(cfg.log), hpke: { privateKey: core.parseBase64(cfg.hpkePrivate), publicKey: core.parseBase64(cfg.hpkePublic) } };
const store = SqliteStore.open(cfg.db);
const node = await ParleyNode.open({ accord: core.parseSignedAccord(cfg.accord), party: 'US', keys, store });
while (node.treeSize < Number(growTo)) await Promise.all(Array.from({ length: Math.min(64, Number(growTo) - node.treeSize) }, () => node.heartbeat()));
let reads = 0;
const crashing = {
  readHashes: (ix) => store.readHashes(ix),
  entries: (a, b) => {
    if (++reads === Number(crashAt)) process.kill(process.pid, 'SIGKILL');
    return store.entries(a, b);
  },
  checkpointAt: (n) => store.checkpointAt(n),
  latestTimestampedSize: (p) => store.latestTimestampedSize(p),
};
const m = await MirrorPublisher.start({ node, store: crashAt ? crashing : store, dir: cfg.mirror, intervalMs: 0 });
await m.caughtUp;
await m.sync();
await m.stop();
await node.close();
await store.close();
console.log(JSON.stringify({ published: m.publishedSize }));
`;

const tmp = mkdtempSync(join(tmpdir(), 'parley-mirror-crash-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function child(growTo: number, crashAt?: number): { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(tmp, 'child.mjs'), join(tmp, 'cfg.json'), String(growTo), ...(crashAt !== undefined ? [String(crashAt)] : [])], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

const read = (dir: string, p: string) => new Uint8Array(readFileSync(join(dir, p)));

/** The audit `parley log verify` makes, from the directory alone: the size it verified. */
function verifyDir(dir: string, logKey: string): number {
  const key = parseVerifierKey(logKey);
  const cp = openWitnessedCheckpoint(read(dir, 'checkpoint'), new VerifierSet([key]), [], { origin: key.name }).checkpoint;
  const reader = new TileReader(cp.treeSize, cp.rootHash, (t) => read(dir, formatTilePath(t)));
  for (let l = 0; 256 ** l <= cp.treeSize; l++) for (let n = 0; n < fullTileCount(cp.treeSize, l); n++) reader.tileHashes(l, n);
  const bundles = fullTileCount(cp.treeSize, 0) + (partialTileWidth(cp.treeSize, 0) > 0 ? 1 : 0);
  for (let n = 0; n < bundles; n++) {
    const hashes = reader.tileHashes(0, n);
    checkEntryBundle(parseEntryBundle(read(dir, formatEntryBundlePath(n, hashes.length)), hashes.length), hashes);
  }
  return cp.treeSize;
}

describe('kill -9 in the middle of a mirror round', () => {
  it('leaves the previous checkpoint with all of its tiles; a restart completes the directory', () => {
    const us = makeParty('US');
    const accord = makeAccord([us, makeParty('CN')]);
    const mirror = join(tmp, 'mirror');
    writeFileSync(join(tmp, 'child.mjs'), CHILD);
    writeFileSync(
      join(tmp, 'cfg.json'),
      JSON.stringify({ db: join(tmp, 'us.sqlite'), mirror, accord: formatSignedAccord(accord), log: formatSignerKey(us.keys.log), hpkePrivate: formatBase64(us.keys.hpke.privateKey), hpkePublic: formatBase64(us.keys.hpke.publicKey) }),
    );

    const first = child(300);
    expect(first.status, first.stderr).toBe(0);
    expect(verifyDir(mirror, us.party.logKey)).toBe(300);

    // The log grows to 1,100 while no publisher runs; the next start's catch-up round has
    // tiles 1–3 (full), 4 (partial), level 1, and their bundles to write: killed at the 3rd bundle.
    const crashed = child(1100, 3);
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL');
    expect(verifyDir(mirror, us.party.logKey)).toBe(300);
    // It died mid-round: some of the round's files are in place, beyond what the checkpoint covers.
    // Eight writers run at once, so which of the round's files landed first depends on the machine.
    const round = ['tile/0/001', 'tile/0/002', 'tile/0/003', 'tile/0/004.p/76', 'tile/entries/001', 'tile/entries/002', 'tile/entries/003', 'tile/entries/004.p/76'];
    expect(round.filter((p) => existsSync(join(mirror, p))).length).toBeGreaterThan(0);

    const restarted = child(1100);
    expect(restarted.status, restarted.stderr).toBe(0);
    expect(JSON.parse(restarted.stdout)).toEqual({ published: 1100 });
    expect(verifyDir(mirror, us.party.logKey)).toBe(1100);
    expect(readdirSync(join(mirror, '.staging'))).toEqual([]);
  }, 240_000);
});
