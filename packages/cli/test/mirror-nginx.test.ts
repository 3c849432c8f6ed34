/**
 * The static mirror through nginx (issue 14, "Static mirror"): a real
 * `parley serve --mirror-dir` process, nginx (Debian package) serving the
 * directory on 127.0.0.1 with the configuration docs/operations.md shows.
 *
 *   1. After 300 messages (crossing a tile boundary), `parley log verify
 *      --from <nginx> --accord` audits the log through nginx alone; the
 *      checkpoint, every hash tile and every entry bundle nginx serves are
 *      byte for byte the node's own /log/; headers: the checkpoint is
 *      text/plain and no-cache, tiles are immutable; the staging directory
 *      is not served.
 *      A verifier holding an older checkpoint, whose partial tiles the mirror
 *      has since pruned, still audits (the full tiles' prefixes).
 *   2. `parley serve` refuses, at once with exit 2: a mirror directory another
 *      live process publishes to (MIRROR_LOCKED, naming its pid), one of
 *      another log (MIRROR_CONFLICT), one it cannot create (FILE_UNWRITABLE),
 *      and /proc/x (which hung: Node's recursive mkdir never returned).
 *   3. kill -9 of the node during a burst of appends, three times: each time
 *      the mirror left behind verifies (its checkpoint is never ahead of its
 *      tiles), through nginx and as a directory; after a restart the mirror
 *      catches up to the node's log, which is never behind it.
 *   4. `parley serve --data cn --peer-mirror US=<nginx>` with US's node URL
 *      unreachable: CN cosigns US's log read from the mirror, its inbox holds
 *      US's messages, and GET /v1/links says the pull reads the mirror; bad
 *      --peer-mirror / --prefer-mirror flags exit 2.
 */
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Tile, TILE_WIDTH, formatEntryBundlePath, formatTilePath, fullTileCount, partialTileWidth } from '@parley/core/node';
import { ADMIN_PASSWORD, cleanEnv, foundChannel, parleyIn } from './helpers/channel.js';
import { type Served, serve } from './helpers/serve.js';
import { freePort } from './helpers/parties.js';
import { type Nginx, startNginx } from './helpers/nginx.js';

let tmp = '';
let node: Served | undefined;
let nginx: Nginx | undefined;
const mirror = () => join(tmp, 'mirror-us');
const logKey = () => (JSON.parse(readFileSync(join(tmp, 'us', 'party.json'), 'utf8')) as { logKey: string }).logKey;

const start = () => serve('us', { cwd: tmp, env: cleanEnv(), extra: ['--no-federation', '--no-heartbeat', '--no-web', '--mirror-dir', 'mirror-us'] });

async function token(url: string): Promise<string> {
  const r = await fetch(`${url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'alice', password: ADMIN_PASSWORD }) });
  expect(r.status).toBe(201);
  return ((await r.json()) as { token: string }).token;
}

/** Sends `n` messages, `concurrency` at a time; resolves with the acknowledged indexes (failures are counted, not thrown: the node may be killed). */
async function burst(url: string, auth: string, n: number, concurrency = 16): Promise<number[]> {
  const acked: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < n) {
      next++;
      try {
        const r = await fetch(`${url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${auth}` }, body: JSON.stringify({ precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `mirror test ${next}` }) });
        const body = (await r.json()) as { index?: number };
        if (r.status === 201 && typeof body.index === 'number') acked.push(body.index);
      } catch {
        return;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return acked;
}

async function bytes(url: string): Promise<{ status: number; data: Uint8Array; headers: Headers }> {
  const r = await fetch(url);
  return { status: r.status, data: new Uint8Array(await r.arrayBuffer()), headers: r.headers };
}

const sizeOf = (note: Uint8Array) => Number(new TextDecoder().decode(note).split('\n')[1]);

async function until(what: string, cond: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function allTiles(size: number): Tile[] {
  const out: Tile[] = [];
  for (let level = 0; TILE_WIDTH ** level <= size; level++) {
    for (let n = 0; n < fullTileCount(size, level); n++) out.push({ level, index: n, width: TILE_WIDTH });
    const w = partialTileWidth(size, level);
    if (w > 0) out.push({ level, index: fullTileCount(size, level), width: w });
  }
  return out;
}

function verify(from: string): { code: number | null; out: Record<string, unknown>; stderr: string } {
  const r = parleyIn(tmp, ['log', 'verify', '--from', from, '--key', logKey(), '--accord', 'accord.json', '--json'], { timeout: 60_000 });
  return { code: r.code, out: r.stdout ? (JSON.parse(r.stdout) as Record<string, unknown>) : {}, stderr: r.stderr };
}

beforeAll(async () => {
  tmp = foundChannel('parley-mirror-nginx-');
  node = await start();
  nginx = await startNginx(mirror(), await freePort());
}, 180_000); // eight CLI runs and a serve: minutes on a loaded machine

afterAll(async () => {
  if (node && node.child.exitCode === null) {
    node.child.kill('SIGTERM');
    await node.exited;
  }
  await nginx?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

describe('static mirror served by nginx', () => {
  it('audits through nginx alone, byte for byte the node\'s /log/, with the right headers', async () => {
    const auth = await token(node!.url);
    expect(await burst(node!.url, auth, 100)).toHaveLength(100);
    await until('the mirror at 100', async () => sizeOf((await bytes(`${nginx!.url}/checkpoint`)).data) >= 100);
    const early = (await bytes(`${nginx!.url}/checkpoint`)).data;
    const acked = await burst(node!.url, auth, 200);
    expect(acked).toHaveLength(200);
    const cp = await bytes(`${node!.url}/log/checkpoint`);
    const size = sizeOf(cp.data);
    expect(size).toBeGreaterThanOrEqual(300);
    await until('the mirror to publish the latest checkpoint', async () => (await bytes(`${nginx!.url}/checkpoint`)).status === 200 && sizeOf((await bytes(`${nginx!.url}/checkpoint`)).data) === size);

    const v = verify(`${nginx!.url}/`);
    expect(v.code, v.stderr).toBe(0);
    expect(v.out).toMatchObject({ valid: true, treeSize: size, entries: size, signaturesChecked: true });

    const served = await bytes(`${nginx!.url}/checkpoint`);
    expect(served.data).toEqual(cp.data);
    expect(served.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(served.headers.get('cache-control')).toBe('no-cache');
    for (const t of allTiles(size)) {
      const a = await bytes(`${nginx!.url}/${formatTilePath(t)}`);
      const b = await bytes(`${node!.url}/log/${formatTilePath(t)}`);
      expect([a.status, formatTilePath(t)]).toEqual([200, formatTilePath(t)]);
      expect(a.data).toEqual(b.data);
      expect(a.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      if (t.level === 0) {
        const e = await bytes(`${nginx!.url}/${formatEntryBundlePath(t.index, t.width)}`);
        const f = await bytes(`${node!.url}/log/${formatEntryBundlePath(t.index, t.width)}`);
        expect(e.status).toBe(200);
        expect(e.data).toEqual(f.data);
        expect(e.headers.get('content-type')).toBe('application/octet-stream');
      }
    }
    // The partial tiles of the first 256 entries were pruned once the full tile was out.
    const earlyWidth = sizeOf(early) % 256;
    expect(sizeOf(early)).toBeLessThan(256);
    expect((await bytes(`${nginx!.url}/tile/0/000.p/${earlyWidth}`)).status).toBe(404);
    expect((await bytes(`${nginx!.url}/tile/entries/000.p/${earlyWidth}`)).status).toBe(404);
    expect((await bytes(`${nginx!.url}/.staging/`)).status).toBe(404);

    // A verifier that fetched the early checkpoint before the prune still audits: the partial
    // tile and bundle it asks for are read from the full ones (the node is idle: no heartbeats).
    const current = readFileSync(join(mirror(), 'checkpoint'));
    writeFileSync(join(mirror(), 'checkpoint'), early);
    try {
      const old = verify(`${nginx!.url}/`);
      expect(old.code, old.stderr).toBe(0);
      expect(old.out).toMatchObject({ valid: true, treeSize: sizeOf(early), entries: sizeOf(early) });
    } finally {
      writeFileSync(join(mirror(), 'checkpoint'), current);
    }
  }, 120_000);

  it('serve refuses a mirror directory another live process publishes to (MIRROR_LOCKED), one of another log (MIRROR_CONFLICT), and an impossible one, each at once with exit 2', () => {
    const before = readFileSync(join(mirror(), 'checkpoint'));
    // US's node publishes to mirror-us right now: a second publisher is refused, naming it.
    const locked = parleyIn(tmp, ['serve', '--data', 'cn', '--port', '0', '--no-federation', '--no-heartbeat', '--no-web', '--mirror-dir', 'mirror-us', '--json'], { timeout: 30_000 });
    expect(locked.code, locked.stderr).toBe(2);
    expect(JSON.parse(locked.stdout)).toMatchObject({ error: { code: 'MIRROR_LOCKED', detail: expect.stringContaining(`pid ${node!.child.pid}`) } });
    expect(readFileSync(join(mirror(), 'checkpoint'))).toEqual(before);
    // A copy of US's mirror no one publishes to: CN's node refuses it as another log's.
    cpSync(mirror(), join(tmp, 'mirror-copy'), { recursive: true });
    const r = parleyIn(tmp, ['serve', '--data', 'cn', '--port', '0', '--no-federation', '--no-heartbeat', '--no-web', '--mirror-dir', 'mirror-copy', '--json'], { timeout: 30_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(`${r.stdout}${r.stderr}`).toContain('MIRROR_CONFLICT');
    expect(readFileSync(join(tmp, 'mirror-copy', 'checkpoint'))).toEqual(before);
    // A directory it cannot create (its parent is a file) is a setting to fix, said as such.
    const denied = parleyIn(tmp, ['serve', '--data', 'cn', '--port', '0', '--no-federation', '--no-heartbeat', '--no-web', '--mirror-dir', 'pw/mirror', '--json'], { timeout: 30_000 });
    expect(denied.code, denied.stderr).toBe(2);
    expect(JSON.parse(denied.stdout)).toMatchObject({ error: { code: 'FILE_UNWRITABLE' } });
    // One no process can create (Node's mkdir -p never returned for it): at once, not a hang.
    const t0 = Date.now();
    const impossible = parleyIn(tmp, ['serve', '--data', 'cn', '--port', '0', '--no-web', '--mirror-dir', '/proc/parley-x', '--json'], { timeout: 30_000 });
    expect(impossible.code, impossible.stderr).toBe(2);
    expect(JSON.parse(impossible.stdout)).toMatchObject({ error: { code: 'FILE_UNWRITABLE', detail: expect.stringContaining('/proc/parley-x: ENOENT') } });
    expect(Date.now() - t0).toBeLessThan(20_000);
  });

  it('a kill -9 mid-burst leaves a mirror that verifies; after a restart it catches up', async () => {
    for (let round = 0; round < 3; round++) {
      const auth = await token(node!.url);
      const sending = burst(node!.url, auth, 400);
      // Kill once some of this burst is in, while appends and mirror rounds are in flight.
      const before = sizeOf((await bytes(`${node!.url}/log/checkpoint`)).data);
      await until('part of the burst', async () => sizeOf((await bytes(`${node!.url}/log/checkpoint`)).data) >= before + 60 + 40 * round);
      node!.child.kill('SIGKILL');
      await node!.exited;
      await sending;

      const dir = verify(mirror());
      expect(dir.code, `${dir.stderr} ${JSON.stringify(dir.out)}`).toBe(0);
      const through = verify(`${nginx!.url}/`);
      expect(through.code, through.stderr).toBe(0);
      const published = through.out['treeSize'] as number;

      node = await start();
      const restarted = sizeOf((await bytes(`${node.url}/log/checkpoint`)).data);
      // The mirror never shows more than the node durably holds.
      expect(restarted).toBeGreaterThanOrEqual(published);
      await until('the mirror to catch up after the restart', async () => sizeOf((await bytes(`${nginx!.url}/checkpoint`)).data) === restarted);
      expect((await bytes(`${nginx!.url}/checkpoint`)).data).toEqual((await bytes(`${node.url}/log/checkpoint`)).data);
    }
    const last = verify(`${nginx!.url}/`);
    expect(last.code, last.stderr).toBe(0);
  }, 240_000);
  it("another node reads US's log from the mirror while US's node is unreachable (serve --peer-mirror); bad mirror flags exit 2", async () => {
    const bad = parleyIn(tmp, ['serve', '--data', 'cn', '--port', '0', '--no-web', '--peer-mirror', 'US:somewhere', '--json'], { timeout: 30_000 });
    expect(bad.code, bad.stderr).toBe(2);
    expect(JSON.parse(bad.stdout)).toMatchObject({ error: { code: 'USAGE', detail: expect.stringContaining('is not PARTY=URL') } });
    const unnamed = parleyIn(tmp, ['serve', '--data', 'cn', '--port', '0', '--no-web', '--prefer-mirror', 'US', '--json'], { timeout: 30_000 });
    expect(unnamed.code, unnamed.stderr).toBe(2);
    expect(JSON.parse(unnamed.stdout)).toMatchObject({ error: { detail: expect.stringContaining('no mirror is configured for US') } });
    const size = sizeOf((await bytes(`${nginx!.url}/checkpoint`)).data);
    // US's node URL for CN: a port nothing listens on; its mirror: nginx. No peer can confirm CN's own log: --trust-local-log.
    const cn = await serve('cn', { cwd: tmp, env: cleanEnv(), extra: ['--no-heartbeat', '--no-web', '--trust-local-log', '--poll', '200', '--peer', `US=http://127.0.0.1:${await freePort()}`, '--peer-mirror', `US=${nginx!.url}/`] });
    try {
      const r = await fetch(`${cn.url}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'root', password: ADMIN_PASSWORD }) });
      const auth = { authorization: `Bearer ${((await r.json()) as { token: string }).token}` };
      type Links = { links: { party: string; lastCosigned?: { size: number }; transport?: { pullSource?: string; mirrorUrl?: string; detail?: string } }[] };
      const us = async () => ((await (await fetch(`${cn.url}/v1/links`, { headers: auth })).json()) as Links).links.find((l) => l.party === 'US')!;
      await until("CN cosigned US's log read from the mirror", async () => ((await us()).lastCosigned?.size ?? 0) >= size && (await us()).transport?.pullSource === 'mirror', 60_000);
      // (The link itself is down: pushes to US's node fail. The pull reads the mirror.)
      expect((await us()).transport).toMatchObject({ pullSource: 'mirror', mirrorUrl: nginx!.url });
      // The messages US sent (to every party) are in CN's inbox.
      await until("US's messages in CN's inbox", async () => {
        const inbox = (await (await fetch(`${cn.url}/v1/inbox?party=US&limit=200`, { headers: auth })).json()) as { items?: unknown[] } | unknown[];
        return (Array.isArray(inbox) ? inbox : (inbox.items ?? [])).length >= 100;
      }, 60_000);
    } finally {
      cn.child.kill('SIGTERM');
      await cn.exited;
    }
  }, 180_000);
});
