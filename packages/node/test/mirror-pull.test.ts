/**
 * Other nodes read a peer's log from its static mirror (issue 14): US
 * publishes its log with MirrorPublisher to a real directory, nginx (Debian
 * package, the docs/operations.md configuration) serves it on 127.0.0.1,
 * and CN pulls US's log through a MirrorClient — real SQLite stores, real
 * HTTP, no mocks.
 *
 *   1. US's node API is unreachable (nothing listens on its URL): CN's
 *      federator falls back to US's mirror, receives and receipts the
 *      entries addressed to it, mirrors the one addressed to EU only, and
 *      link state says the pull reads the mirror because the node failed.
 *      When US's node is back, CN's receipt reaches it by push, and the pull
 *      reads the node again.
 *      With the mirror preferred and down, the pull reads the node, and
 *      GET /v1/links says so (transport.pullSource, the mirror's failure).
 *      A preferred mirror answering 404 for its checkpoint is a failed pull
 *      (PEER_REFUSED), not an empty log: the node is read. A preferred mirror
 *      lagging what the peer's node showed (the checkpoint of its push, refused
 *      as incomplete) by more than mirrorMaxLag is refused: the node is read —
 *      unless the node is down too: then what the mirror has is read.
 *   2. A tampered entry bundle in the mirror: refused (TILE_INVALID), nothing
 *      ingested or mirrored, the cursor stays; the untampered bundle then pulls.
 *   3. A tampered hash tile (one the consistency proof from what CN cosigned
 *      reads): refused (TILE_INVALID) before CN's witness cosigns; restored, it pulls.
 *   4. A mirror serving another history signed with US's key (a forged
 *      directory), at a larger size and at the size CN cosigned: a fork
 *      proof is stored and the pull fails with ForkDetected; nothing of it is ingested.
 *   5. A stale checkpoint replayed (the mirror's checkpoint older than what
 *      CN cosigned): refused (PEER_REFUSED), the witness state and cursor unchanged.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { formatEntryBundlePath, formatTilePath, verifyForkProof } from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { Federator, ForkDetected, MirrorClient, MirrorPublisher, ParleyNode, PeerError, forksOf, loadPullCursor, peersOf, pullFrom } from '../src/index.js';
import { login, openHttpChannel } from './helpers/http.js';
import { freePort } from '../../cli/test/helpers/parties.js';
import { type Nginx, startNginx } from '../../cli/test/helpers/nginx.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'parley-mirror-pull-'));
  const ch = await openHttpChannel(['CN', 'EU', 'US'], { dir });
  cleanups.push(async () => {
    await ch.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { ch, dir };
}

async function publish(node: ParleyNode, store: SqliteStore, dir: string): Promise<MirrorPublisher> {
  const m = await MirrorPublisher.start({ dir, node, store, intervalMs: 0 });
  cleanups.push(() => m.stop());
  await m.caughtUp;
  return m;
}

async function nginxOn(dir: string): Promise<Nginx> {
  const n = await startNginx(dir, await freePort());
  cleanups.push(() => n.stop());
  return n;
}

async function grow(node: ParleyNode, to: number): Promise<void> {
  while (node.treeSize < to) await Promise.all(Array.from({ length: Math.min(32, to - node.treeSize) }, () => node.heartbeat()));
}

async function waitFor(what: string, cond: () => Promise<boolean> | boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const flip = (file: string, at: number) => {
  const b = readFileSync(file);
  b[at] = b[at]! ^ 0x01;
  writeFileSync(file, b);
};

/** `who` (CN by default) pulls US's log from `mirror` once, with its durable cursor. */
async function pullOnce(ch: Awaited<ReturnType<typeof setup>>['ch'], mirror: MirrorClient, who = 'CN') {
  return pullFrom(ch.node(who), ch.store(who), mirror, await loadPullCursor(ch.store(who), 'US'));
}

async function heldCount(ch: Awaited<ReturnType<typeof setup>>['ch'], size: number) {
  return ch.store('CN').heldCount('US', 0, size);
}

describe("a node reads a peer's log from the peer's static mirror (nginx)", () => {
  it("falls back to the mirror while the peer's node is down: receives, receipts and mirrors; the receipt reaches the peer when it is back", async () => {
    const { ch, dir } = await setup();
    const us = ch.node('US');
    const sent = await us.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:AMBER', to: ['CN'], text: 'read me from the mirror' });
    const toEu = await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:AMBER', to: ['EU'], text: 'for EU only' });
    await grow(us, 40);
    const mirrorDir = join(dir, 'mirror-us');
    await publish(us, ch.store('US'), mirrorDir);
    const nginx = await nginxOn(mirrorDir);
    // US's node URL: a port nothing listens on (yet).
    const usPort = await freePort();
    const urls = { US: `http://127.0.0.1:${usPort}`, EU: 'http://127.0.0.1:1' };
    const fed = await Federator.start(ch.node('CN'), ch.store('CN'), peersOf(ch.node('CN'), { urls, timeoutMs: 2000 }), {
      pollMs: 100,
      backoff: { baseMs: 40, maxMs: 200 },
      mirrors: { US: new MirrorClient('US', `${nginx.url}/`) },
    });
    cleanups.push(() => fed.stop());

    await waitFor('CN holds the FLASH message from the mirror', async () => (await ch.store('CN').received('US', sent.index)) !== undefined);
    const view = await ch.node('CN').read('US', sent.index, 'officer');
    expect(view?.body).toMatchObject({ text: 'read me from the mirror' });
    // Receipted once, in CN's own log.
    const receipts = async () => (await ch.store('CN').referencing('US', sent.index)).filter((e) => e.meta.type === 'receipt');
    await waitFor('CN receipted it', async () => (await receipts()).length === 1);
    // The rest of US's log (the message to EU only) is in CN's mirror table, verified like the rest.
    await waitFor('the whole log held', async () => (await heldCount(ch, us.treeSize)) === us.treeSize);
    expect((await ch.store('CN').mirrored('US', toEu.index, toEu.index + 1))[0]?.index).toBe(toEu.index);
    expect((await ch.node('CN').witness.latest('US'))?.treeSize).toBe(us.treeSize);
    const link = fed.links().find((l) => l.party === 'US')!;
    expect(link.pullSource).toBe('mirror');
    expect(link.mirrorUrl).toBe(nginx.url);
    expect(link.fallbackFrom).toMatchObject({ source: 'node', code: 'PEER_UNREACHABLE' });
    expect(link.scannedSize).toBe(us.treeSize);

    // US's node comes back on its URL: CN's push brings it the receipt; the pull reads the node again.
    const app = ch.app('US');
    await app.listen({ port: usPort, host: '127.0.0.1' });
    const receipt = (await receipts())[0]!;
    await waitFor("US holds CN's receipt", async () => (await ch.store('US').received('CN', receipt.index)) !== undefined, 30_000);
    fed.poke('US');
    await waitFor('the pull reads the node again', () => fed.links().find((l) => l.party === 'US')!.pullSource === 'node', 30_000);
  });

  it("prefers the mirror when told, and reads the node when the mirror is down; GET /v1/links says which source", async () => {
    const { ch } = await setup();
    const us = ch.node('US');
    const sent = await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:AMBER', to: ['CN'], text: 'through the node' });
    const usUrl = await ch.app('US').listen({ port: 0, host: '127.0.0.1' });
    // A mirror URL nothing serves.
    const deadMirror = `http://127.0.0.1:${await freePort()}`;
    const fed = await Federator.start(ch.node('CN'), ch.store('CN'), peersOf(ch.node('CN'), { urls: { US: usUrl, EU: 'http://127.0.0.1:1' }, timeoutMs: 2000 }), {
      pollMs: 100,
      backoff: { baseMs: 40, maxMs: 200 },
      mirrors: { US: new MirrorClient('US', deadMirror) },
      preferMirror: ['US'],
    });
    cleanups.push(() => fed.stop());
    await waitFor('CN holds the message', async () => (await ch.store('CN').received('US', sent.index)) !== undefined);
    await waitFor('a pull completed', () => fed.links().find((l) => l.party === 'US')!.pullSource !== undefined);
    const link = fed.links().find((l) => l.party === 'US')!;
    expect(link.pullSource).toBe('node');
    expect(link.fallbackFrom).toMatchObject({ source: 'mirror', code: 'PEER_UNREACHABLE' });
    const r = await ch.app('CN').inject({ method: 'GET', url: '/v1/links', headers: await login(ch.app('CN'), 'alice') });
    expect(r.statusCode, r.body).toBe(200);
    const transport = r.json<{ links: { party: string; transport?: Record<string, unknown> }[] }>().links.find((l) => l.party === 'US')!.transport;
    expect(transport).toMatchObject({ pullSource: 'node', mirrorUrl: deadMirror, detail: expect.stringContaining('its mirror failed (PEER_UNREACHABLE') });
  });

  it('a preferred mirror answering 404 for its checkpoint is a failed pull: the node is read, link health says why', async () => {
    const { ch, dir } = await setup();
    const us = ch.node('US');
    const sent = await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:AMBER', to: ['CN'], text: 'the mirror has nothing' });
    const usUrl = await ch.app('US').listen({ port: 0, host: '127.0.0.1' });
    // nginx serving an empty directory: every file, the checkpoint first, is 404.
    const empty = join(dir, 'mirror-empty');
    mkdirSync(empty);
    const nginx = await nginxOn(empty);
    const mirror = new MirrorClient('US', nginx.url);
    await expect(pullOnce(ch, mirror)).rejects.toMatchObject({ code: 'PEER_REFUSED', status: 404 });
    const fed = await Federator.start(ch.node('CN'), ch.store('CN'), peersOf(ch.node('CN'), { urls: { US: usUrl, EU: 'http://127.0.0.1:1' }, timeoutMs: 2000 }), {
      pollMs: 100,
      backoff: { baseMs: 40, maxMs: 200 },
      mirrors: { US: mirror },
      preferMirror: ['US'],
    });
    cleanups.push(() => fed.stop());
    await waitFor('a pull completed', () => fed.links().find((l) => l.party === 'US')!.pullSource !== undefined);
    const link = fed.links().find((l) => l.party === 'US')!;
    expect(link.pullSource).toBe('node');
    expect(link.fallbackFrom).toMatchObject({ source: 'mirror', code: 'PEER_REFUSED', message: expect.stringContaining('404') });
    expect(link.witnessedSize).toBe(us.treeSize);
    await waitFor('CN holds the message', async () => (await ch.store('CN').received('US', sent.index)) !== undefined);
  });

  it("a preferred mirror lagging what the peer's node showed (an incomplete push) by more than the bound is not read: the node is", async () => {
    const { ch, dir } = await setup();
    const us = ch.node('US');
    await Promise.all(Array.from({ length: 5 }, () => us.heartbeat()));
    // US's mirror stops at 5 (its publisher stopped); CN reads it there.
    const mirrorDir = join(dir, 'mirror-us');
    const pub = await publish(us, ch.store('US'), mirrorDir);
    await pub.stop();
    const nginx = await nginxOn(mirrorDir);
    const mirror = new MirrorClient('US', nginx.url);
    expect((await pullOnce(ch, mirror)).witnessedSize).toBe(5);
    // One commit of 95 entries: US's checkpoints are 5 and 100 only, so its push of 16 entries proven
    // against 100 is refused by CN as incomplete — which tells CN (a checkpoint signed by US) that US's log is at 100.
    await Promise.all(Array.from({ length: 95 }, () => us.heartbeat()));
    expect(us.treeSize).toBe(100);
    expect(await ch.store('US').checkpointAt(20)).toBeUndefined();
    const usUrl = await ch.app('US').listen({ port: 0, host: '127.0.0.1' });
    const cnUrl = await ch.app('CN').listen({ port: 0, host: '127.0.0.1' });
    const fed = await Federator.start(ch.node('CN'), ch.store('CN'), peersOf(ch.node('CN'), { urls: { US: usUrl, EU: 'http://127.0.0.1:1' }, timeoutMs: 2000 }), {
      pollMs: 60_000,
      backoff: { baseMs: 40, maxMs: 200 },
      mirrors: { US: mirror },
      preferMirror: ['US'],
      mirrorMaxLag: 16,
    });
    cleanups.push(() => fed.stop());
    await waitFor('the first pull (from the mirror, still fresh) completed', () => fed.links().find((l) => l.party === 'US')!.pullSource !== undefined);
    expect(fed.links().find((l) => l.party === 'US')!.pullSource).toBe('mirror');
    const usFed = await Federator.start(us, ch.store('US'), peersOf(us, { urls: { CN: cnUrl, EU: 'http://127.0.0.1:1' }, timeoutMs: 2000 }), { pollMs: 60_000, pushBatch: 16, backoff: { baseMs: 40, maxMs: 200 } });
    cleanups.push(() => usFed.stop());
    await waitFor('CN cosigned US at 100', async () => (await ch.node('CN').witness.latest('US'))?.treeSize === 100);
    await waitFor('CN scanned US to 100', () => fed.links().find((l) => l.party === 'US')!.scannedSize === 100);
    const link = fed.links().find((l) => l.party === 'US')!;
    expect(link.pullSource).toBe('node');
    expect(link.fallbackFrom).toMatchObject({ source: 'mirror', code: 'PEER_REFUSED', message: expect.stringContaining('95 entries behind the 100') });
  });

  it("a preferred mirror lagging beyond the bound is still read when the peer's node is down too: what it has is progress", async () => {
    const { ch, dir } = await setup();
    const us = ch.node('US');
    await grow(us, 20);
    // Addressed to EU only, amid entries US's pushes cannot bring CN whole: CN can hold it (mirrored) from a pull only.
    const toEu = await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:AMBER', to: ['EU'], text: 'in the lagging mirror' });
    await grow(us, 40);
    const mirrorDir = join(dir, 'mirror-us');
    const pub = await publish(us, ch.store('US'), mirrorDir);
    await pub.stop();
    // One commit of 60: US's checkpoints are 40 and 100 only, so its pushes of 16 entries are refused as incomplete.
    await Promise.all(Array.from({ length: 60 }, () => us.heartbeat()));
    expect(us.treeSize).toBe(100);
    const cnUrl = await ch.app('CN').listen({ port: 0, host: '127.0.0.1' });
    // US's node: nothing listens on its URL (it pushes, it cannot be read); its mirror: not served yet.
    const mirrorPort = await freePort();
    const fed = await Federator.start(ch.node('CN'), ch.store('CN'), peersOf(ch.node('CN'), { urls: { US: `http://127.0.0.1:${await freePort()}`, EU: 'http://127.0.0.1:1' }, timeoutMs: 2000 }), {
      pollMs: 100,
      backoff: { baseMs: 40, maxMs: 200 },
      mirrors: { US: new MirrorClient('US', `http://127.0.0.1:${mirrorPort}`) },
      preferMirror: ['US'],
      mirrorMaxLag: 16,
    });
    cleanups.push(() => fed.stop());
    const usFed = await Federator.start(us, ch.store('US'), peersOf(us, { urls: { CN: cnUrl, EU: 'http://127.0.0.1:1' }, timeoutMs: 2000 }), { pollMs: 60_000, pushBatch: 16, backoff: { baseMs: 40, maxMs: 200 } });
    cleanups.push(() => usFed.stop());
    // US's push, refused as incomplete, showed CN a checkpoint of 100: the mirror, once served, lags it by 60.
    await waitFor("US's push refused as incomplete", () => (usFed.links().find((l) => l.party === 'CN')?.consecutiveFailures ?? 0) > 0);
    const mirrored = async () => (await ch.store('CN').mirrored('US', toEu.index, toEu.index + 1)).length === 1;
    expect(await mirrored()).toBe(false);
    const nginx = await startNginx(mirrorDir, mirrorPort);
    cleanups.push(() => nginx.stop());
    await waitFor('CN holds the message to EU from the lagging mirror', mirrored);
    await waitFor('CN scanned what the mirror has', () => fed.links().find((l) => l.party === 'US')!.scannedSize === 40);
    const link = fed.links().find((l) => l.party === 'US')!;
    expect(link.pullSource).toBe('mirror');
    expect(link.fallbackFrom).toMatchObject({ source: 'node', code: 'PEER_UNREACHABLE' });
    expect(await heldCount(ch, 40)).toBe(40);
  });

  it('refuses a tampered entry bundle in the mirror (TILE_INVALID): nothing ingested, the cursor stays', async () => {
    const { ch, dir } = await setup();
    const us = ch.node('US');
    const sent = await us.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:AMBER', to: ['CN'], text: 'genuine' });
    await grow(us, 20);
    const mirrorDir = join(dir, 'mirror-us');
    await publish(us, ch.store('US'), mirrorDir);
    const nginx = await nginxOn(mirrorDir);
    const bundle = join(mirrorDir, formatEntryBundlePath(0, 20));
    const original = readFileSync(bundle);
    flip(bundle, original.length - 20); // inside the last entry: its leaf hash changes
    const mirror = new MirrorClient('US', nginx.url);
    await expect(pullOnce(ch, mirror)).rejects.toMatchObject({ code: 'TILE_INVALID' });
    expect(await heldCount(ch, 20)).toBe(0);
    expect((await loadPullCursor(ch.store('CN'), 'US')).size).toBe(0);
    expect(await ch.store('CN').received('US', sent.index)).toBeUndefined();
    // The genuine bundle pulls (the refusal was the tamper's).
    writeFileSync(bundle, original);
    const r = await pullOnce(ch, mirror);
    expect(r.scannedTo).toBe(20);
    expect(await ch.store('CN').received('US', sent.index)).toBeDefined();
  });

  it('refuses a tampered hash tile (TILE_INVALID) before cosigning, and pulls once it is restored', async () => {
    const { ch, dir } = await setup();
    const us = ch.node('US');
    await grow(us, 5);
    const mirrorDir = join(dir, 'mirror-us');
    const pub = await publish(us, ch.store('US'), mirrorDir);
    const nginx = await nginxOn(mirrorDir);
    const mirror = new MirrorClient('US', nginx.url);
    expect((await pullOnce(ch, mirror)).witnessedSize).toBe(5);
    await grow(us, 300);
    await pub.sync();
    // The proof 5 → 300 reads level-0 tile 0 (full now), checked against its parent's hash.
    const tile = join(mirrorDir, formatTilePath({ level: 0, index: 0, width: 256 }));
    const original = readFileSync(tile);
    flip(tile, 7 * 32 + 3);
    await expect(pullOnce(ch, mirror)).rejects.toMatchObject({ code: 'TILE_INVALID' });
    expect((await ch.node('CN').witness.latest('US'))?.treeSize).toBe(5);
    expect(await heldCount(ch, 300)).toBe(5);
    writeFileSync(tile, original);
    const r = await pullOnce(ch, mirror);
    expect(r.witnessedSize).toBe(300);
    expect(r.scannedTo).toBe(300);
    expect(await forksOf(ch.store('CN'), 'US')).toHaveLength(0);
  });

  it("a mirror serving another history signed with the peer's key yields a fork proof (at a larger size, and at the size cosigned)", async () => {
    const { ch, dir } = await setup();
    const us = ch.node('US');
    await grow(us, 5);
    const realDir = join(dir, 'mirror-us');
    const pub = await publish(us, ch.store('US'), realDir);
    const real = await nginxOn(realDir);
    // CN cosigns and scans the real log at 5, EU at 9.
    expect((await pullOnce(ch, new MirrorClient('US', real.url))).witnessedSize).toBe(5);
    await grow(us, 9);
    await pub.sync();
    expect((await pullOnce(ch, new MirrorClient('US', real.url), 'EU')).witnessedSize).toBe(9);
    // Another history under US's key: a second node of US's keys on another store, its own mirror.
    const keys = ch.parties.find((p) => p.id === 'US')!.keys;
    const forgedStore = SqliteStore.open(join(dir, 'forged.sqlite'));
    const forged = await ParleyNode.open({ accord: ch.accord, party: 'US', keys, store: forgedStore });
    cleanups.push(async () => {
      await forged.close();
      await forgedStore.close();
    });
    const other = await forged.sendMessage('alice', { precedence: 'FLASH', marking: 'TLP:AMBER', to: ['CN', 'EU'], text: 'the other history' });
    await grow(forged, 9);
    const forgedDir = join(dir, 'mirror-forged');
    await publish(forged, forgedStore, forgedDir);
    const fake = new MirrorClient('US', (await nginxOn(forgedDir)).url);

    for (const [who, size, kind] of [['CN', 5, 'prefix-conflict'], ['EU', 9, 'same-size']] as const) {
      // CN: 9 against its 5 (the proof from the forged tiles does not reach its root); EU: 9 against its 9.
      const err = await pullOnce(ch, fake, who).catch((e: unknown) => e);
      expect(err, who).toBeInstanceOf(ForkDetected);
      const proofs = await forksOf(ch.store(who), 'US');
      expect(proofs, who).toHaveLength(1);
      expect(verifyForkProof(proofs[0]!, ch.node(who).accord), who).toMatchObject({ party: 'US', kind });
      expect((await ch.node(who).witness.latest('US'))?.treeSize).toBe(size);
      // What is held at that index is the real history's (a heartbeat), not the forged message.
      expect(other.index).toBe(0);
      expect((await ch.store(who).received('US', other.index))?.meta.type, who).toBe('heartbeat');
      expect(await ch.store(who).heldCount('US', 0, 9)).toBe(size);
      // Quarantined: the real mirror is not read either.
      await expect(pullOnce(ch, new MirrorClient('US', real.url), who)).rejects.toBeInstanceOf(ForkDetected);
    }
  });

  it('refuses a stale checkpoint replayed by the mirror (older than what was cosigned): nothing changes', async () => {
    const { ch, dir } = await setup();
    const us = ch.node('US');
    await grow(us, 5);
    const mirrorDir = join(dir, 'mirror-us');
    const pub = await publish(us, ch.store('US'), mirrorDir);
    const old = join(dir, 'checkpoint-5');
    copyFileSync(join(mirrorDir, 'checkpoint'), old);
    await grow(us, 300);
    await pub.sync();
    await pub.stop();
    const nginx = await nginxOn(mirrorDir);
    const mirror = new MirrorClient('US', nginx.url);
    expect((await pullOnce(ch, mirror)).witnessedSize).toBe(300);
    copyFileSync(old, join(mirrorDir, 'checkpoint'));
    const err = await pullOnce(ch, mirror).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PeerError);
    expect(err).toMatchObject({ code: 'PEER_REFUSED', message: expect.stringContaining('older than the 300 we cosigned') });
    expect((await ch.node('CN').witness.latest('US'))?.treeSize).toBe(300);
    expect((await loadPullCursor(ch.store('CN'), 'US')).size).toBe(300);
    expect(await forksOf(ch.store('CN'), 'US')).toHaveLength(0);
  });
});
