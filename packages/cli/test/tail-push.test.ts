/**
 * A WITNESS HOLDS EVERY ENTRY IT COSIGNS (issue 9, "No rollback"), with real
 * processes: three `parley serve` (US, CN, EU) on 127.0.0.1, founded with the
 * real binary. EU reaches US through a proxy that refuses every GET, so EU
 * cannot pull, scan or gossip US's log: all EU holds of US's log is what
 * US's pushes carry.
 *
 *   1. US sends 3 messages to everyone; CN and EU cosign them; `parley
 *      backup` copies US's store (size B).
 *   2. CN stops. US sends one message addressed to CN ONLY. EU's witness
 *      cosigns US's checkpoint covering it — and the moment it has, EU's
 *      mirror serves that entry byte for byte (a push carries US's whole
 *      tail; a witnessed push is cosigned only once the witness holds it).
 *      Before: the push carried only entries addressed to EU, EU cosigned
 *      index B by consistency proof alone and held no copy of it.
 *   3. US stops, `parley restore` puts the backup (size B) back, US starts
 *      with CN still down: it is rolled back (EU cosigned B+1) and recovers
 *      entry B from EU alone, byte for byte; it resumes, and EU's entry is
 *      not in EU's inbox and got no receipt from EU.
 *   4. CN starts: it gets the message, and no node holds a fork proof.
 *
 * Waits poll with deadlines; no fixed sleep decides an outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCrypto, signRequest, verifyAccord } from '@parley/core/node';
import { readAccordFile } from '../src/datadir.js';
import { unlockKeys } from '../src/secrets.js';
import { nodeKeys } from '../src/keyfile.js';
import { MirrorGate, type Node, type Party, forksAgainst as forksOf, leafHashes as leafHashesOf, receiptsOf as receiptsIn, sendRoutine, stop, threeParties, witnessedSize } from './helpers/parties.js';

const h = threeParties({ parleyTimeout: 60_000, httpTimeout: 20_000 });
const { nodes, at, json, http, login, until } = h;
const send = (n: Node, text: string, to?: Party[]) => sendRoutine(h, n, text, to);
const leafHashes = (n: Node) => leafHashesOf(h, n);
const receiptsOf = (n: Node, from: Party) => receiptsIn(h, n, from);
const forksAgainst = (witness: Node, party: Party) => forksOf(h, witness, party);

const gates = {} as Record<'CN' | 'EU' | 'US', MirrorGate>;

/** US reaches its peers through gates; EU reaches US through one that refuses EU's pulls of US. --poll 300, no heartbeats. */
const start = (n: Node): Promise<void> =>
  h.start(n, {
    flags: ['--poll', '300', '--no-heartbeat'],
    peers: n.party === 'US' ? (['CN', 'EU'] as const).flatMap((p) => ['--peer', `${p}=${gates[p].url}`]) : n.party === 'EU' ? ['--peer', `US=${gates.US.url}`, '--peer', `CN=${nodes.CN.url}`] : [],
  });

beforeAll(async () => {
  await h.found('parley-tail-', 'tail-push-test', ['--heartbeat', '60']);
  gates.CN = await new MirrorGate(nodes.CN.port).listen();
  gates.EU = await new MirrorGate(nodes.EU.port).listen();
  gates.US = await new MirrorGate(nodes.US.port).listen();
  gates.US.refuseGets = true;
  await h.startAll(start);
}, 120_000);

afterAll(() => h.teardown(Object.values(gates)));

/** EU's mirror of US's log [from, to), asked with a request signed by CN's log key (as CN would ask). */
async function euMirror(from: number, to: number): Promise<{ status: number; entries: string[] }> {
  const accord = verifyAccord(readAccordFile(at('accord.json')), { requireAll: false });
  const cnKeys = nodeKeys(await unlockKeys(at('cn'), at('pass.txt')));
  const signer = getCrypto().ed25519Signer(cnKeys.log.seed);
  const path = `/fed/v1/mirror/US/entries?from=${from}&to=${to}`;
  const header = signRequest({ accordId: accord.id, from: 'CN', to: 'EU', method: 'GET', path, body: new Uint8Array(), signer, now: Date.now() / 1000 });
  const r = await fetch(`${nodes.EU.url}${path}`, { headers: { 'parley-signature': header } });
  const v = (await r.json()) as { entries?: string[] };
  return { status: r.status, entries: v.entries ?? [] };
}

/** US's own entry bytes at `index` (base64), from its public entry bundle. */
async function usEntry(index: number, size: number): Promise<string> {
  const tile = Math.floor(index / 256);
  const width = Math.min(256, size - tile * 256);
  const path = `/log/tile/entries/${tileIndexPath(tile)}${width < 256 ? `.p/${width}` : ''}`;
  const res = await fetch(`${nodes.US.url}${path}`);
  expect(res.status, path).toBe(200);
  const bytes = new Uint8Array(await res.arrayBuffer());
  // C2SP tlog-tiles entry bundle: big-endian uint16 length, then the entry.
  let at = 0;
  for (let i = 0; ; i++) {
    const n = (bytes[at]! << 8) | bytes[at + 1]!;
    if (i === index - tile * 256) return Buffer.from(bytes.subarray(at + 2, at + 2 + n)).toString('base64');
    at += 2 + n;
  }
}

function tileIndexPath(n: number): string {
  const parts: string[] = [];
  let s = String(n).padStart(3, '0');
  // C2SP tlog-tiles: groups of three digits, all but the last prefixed with "x".
  while (s.length % 3 !== 0) s = '0' + s;
  for (let i = 0; i < s.length; i += 3) parts.push(s.slice(i, i + 3));
  return parts.map((p, i) => (i < parts.length - 1 ? `x${p}` : p)).join('/');
}

describe('a witness holds every entry it cosigns: a push carries the whole tail (real processes)', () => {
  let backupSize = 0;
  let toCnOnly = { index: -1, leafHash: '' };
  let entryBytes = '';

  it('backs up US after three messages to everyone', async () => {
    const us = nodes.US;
    for (let i = 0; i < 3; i++) await send(us, `to everyone ${i}`);
    await until('CN and EU to cosign US at 3', 30_000, async () => ((await witnessedSize(nodes.CN, us)) >= 3 && (await witnessedSize(nodes.EU, us)) >= 3 ? true : undefined));
    backupSize = json<{ treeSize: number }>(['backup', '--data', 'us', '--out', 'us-old.sqlite']).treeSize;
    expect(backupSize).toBe(3);
  }, 60_000);

  it('EU holds an entry addressed to CN only as soon as it has cosigned it, though it cannot pull US', async () => {
    await stop(nodes.CN);
    const us = nodes.US;
    toCnOnly = await send(us, 'to CN only, while CN is down', ['CN']);
    expect(toCnOnly.index).toBe(backupSize);
    await until('EU to cosign US past the CN-only entry', 30_000, async () => ((await witnessedSize(nodes.EU, us)) > toCnOnly.index ? true : undefined));
    // No waiting here: what EU cosigned, EU holds.
    const m = await euMirror(0, toCnOnly.index + 1);
    expect(m.status).toBe(200);
    expect(m.entries.length, "EU's mirror of US's log up to the entry it cosigned").toBe(toCnOnly.index + 1);
    entryBytes = await usEntry(toCnOnly.index, toCnOnly.index + 1);
    expect(m.entries[toCnOnly.index]).toBe(entryBytes);
    // Mirrored, not received: not in EU's inbox, no receipt by EU.
    const inbox = await http(nodes.EU, 'GET', '/v1/inbox?party=US&limit=200');
    expect(inbox.status).toBe(200);
    expect((inbox.body.items as { index: number }[]).map((i) => i.index)).not.toContain(toCnOnly.index);
    expect((await receiptsOf(nodes.EU, 'US')).get(toCnOnly.index)).toBeUndefined();
  }, 60_000);

  it('US restored from the old backup recovers the entry from EU alone (CN still down), byte for byte', async () => {
    const us = nodes.US;
    await stop(us);
    expect(json<{ treeSize: number }>(['restore', '--data', 'us', 'us-old.sqlite']).treeSize).toBe(backupSize);
    await start(us);
    await until('US to recover from EU and report ok', 60_000, async () => ((await http(us, 'GET', '/healthz')).status === 200 ? true : undefined));
    await login(us);
    const c = await http(us, 'GET', '/v1/continuity');
    expect(c.body.state).toBe('confirmed');
    expect(c.body.localSize).toBeGreaterThan(toCnOnly.index);
    expect((await leafHashes(us)).get(toCnOnly.index)).toBe(toCnOnly.leafHash);
    const next = await send(us, 'resumed');
    expect(next.index).toBeGreaterThan(toCnOnly.index);
    await until('EU to cosign US past the resumed entry', 30_000, async () => ((await witnessedSize(nodes.EU, us)) > next.index ? true : undefined));
  }, 120_000);

  it('CN, back, gets the message; no node holds a fork proof against US', async () => {
    await start(nodes.CN);
    await login(nodes.CN);
    await until('CN to hold the CN-only message', 60_000, async () => {
      const inbox = await http(nodes.CN, 'GET', '/v1/inbox?party=US&limit=200');
      return (inbox.body.items as { index: number }[]).some((i) => i.index === toCnOnly.index) ? true : undefined;
    });
    expect(await forksAgainst(nodes.CN, 'US')).toBe(0);
    expect(await forksAgainst(nodes.EU, 'US')).toBe(0);
  }, 90_000);
});
