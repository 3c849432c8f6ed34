/**
 * NO ROLLBACK, WITH REAL PROCESSES (issue 9): three parties (US, CN, EU)
 * founded with the real binary and served as three `parley serve` processes
 * on 127.0.0.1 (--poll 300, no heartbeats, so the log sizes are exactly what
 * the test sends). US reaches CN and EU through an HTTP proxy per link that
 * this test owns and that can refuse the mirror route (GET /fed/v1/mirror/…)
 * while passing everything else.
 *
 *   1. US sends 4 messages; CN and EU cosign them. `parley backup` copies
 *      US's store while US runs (online); `parley restore` on it is refused
 *      while US runs.
 *   2. US sends 6 more (3 to CN only: EU holds those in its mirror, not its
 *      inbox), CN sends US 2 messages (US's receipts join its log); CN and
 *      EU cosign US's size S, and EU's mirror serves all of US's log (asked
 *      as CN would, with a signed request).
 *   3. Every node stops; `parley restore` puts the old backup (size 4) back
 *      into US's data directory; `parley recover` with every peer down exits
 *      1 and says no peer answered.
 *   4. CN and EU start; both proxies refuse the mirror; US starts. Today's
 *      code signs at index 4 (201) and is later convicted of forking. Now:
 *      /healthz 503 "rolled-back", GET /v1/continuity shows S and who
 *      cosigned it, POST /v1/messages 409 LOG_ROLLED_BACK, and `parley send`
 *      exits 2 saying to run parley recover. Nothing was signed (size 4).
 *   5. EU's mirror is let through (CN's stays refused): US recovers by itself
 *      from EU's mirror — entries 4…S−1 byte for byte the ones it signed
 *      before — and resumes; CN's messages come back by pull with no second
 *      receipt; its next messages are cosigned past S by both, and no fork
 *      proof against US exists anywhere.
 *
 * Waits poll with deadlines; no fixed sleep decides an outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCrypto, signRequest, verifyAccord } from '@parley/core/node';
import { readAccordFile } from '../src/datadir.js';
import { unlockKeys } from '../src/secrets.js';
import { nodeKeys } from '../src/keyfile.js';
import { MirrorGate, type Node, type Party, PARTIES, forksAgainst as forksOf, leafHashes as leafHashesOf, receiptsOf as receiptsIn, sendRoutine, stop, threeParties, witnessedSize } from './helpers/parties.js';

const h = threeParties({ parleyTimeout: 60_000, httpTimeout: 20_000 });
const { nodes, at, parley, parleyAsync, json, http, login, until } = h;
const send = (n: Node, text: string, to?: Party[]) => sendRoutine(h, n, text, to);
const leafHashes = (n: Node) => leafHashesOf(h, n);
const receiptsOf = (n: Node, from: Party) => receiptsIn(h, n, from);
const forksAgainst = (witness: Node, party: Party) => forksOf(h, witness, party);

const gates = {} as Record<'CN' | 'EU', MirrorGate>;

/** US reaches CN and EU through the gates; --poll 300, no heartbeats. */
const start = (n: Node): Promise<void> =>
  h.start(n, { flags: ['--poll', '300', '--no-heartbeat'], peers: n.party === 'US' ? (['CN', 'EU'] as const).flatMap((p) => ['--peer', `${p}=${gates[p].url}`]) : [] });

beforeAll(async () => {
  await h.found('parley-rollback-', 'rollback-test', ['--heartbeat', '60']);
  gates.CN = await new MirrorGate(nodes.CN.port).listen();
  gates.EU = await new MirrorGate(nodes.EU.port).listen();
  await h.startAll(start);
}, 120_000);

afterAll(() => h.teardown(Object.values(gates)));

describe('a node never signs a second history of its own log (real processes)', () => {
  let backupSize = 0;
  let cosigned = 0;
  let before = new Map<number, string>();
  const cnMessages: number[] = [];

  it('backs up online, and restore refuses a store in use', async () => {
    const us = nodes.US;
    for (let i = 0; i < 4; i++) await send(us, `before backup ${i}`);
    await until('CN and EU to cosign US at 4', 30_000, async () => ((await witnessedSize(nodes.CN, us)) >= 4 && (await witnessedSize(nodes.EU, us)) >= 4 ? true : undefined));
    const b = json<{ treeSize: number; checkpoints: number }>(['backup', '--data', 'us', '--out', 'us-old.sqlite']);
    backupSize = b.treeSize;
    expect(backupSize).toBe(4);
    expect(b.checkpoints).toBeGreaterThan(0);
    const refused = parley(['restore', '--data', 'us', 'us-old.sqlite']);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toMatch(/DATA_DIR_LOCKED/);
  }, 60_000);

  it('every peer mirrors the whole log: EU serves US entries addressed to CN only', async () => {
    const us = nodes.US;
    for (let i = 0; i < 3; i++) await send(us, `to CN only ${i}`, ['CN']);
    for (let i = 0; i < 3; i++) await send(us, `after backup ${i}`);
    // CN writes to US: US's receipts of these are in the tail the backup lacks.
    for (let i = 0; i < 2; i++) cnMessages.push((await send(nodes.CN, `from CN ${i}`, ['US'])).index);
    cosigned = await until('US to receipt CN\u2019s messages, and CN and EU to cosign all of US\u2019s log', 30_000, async () => {
      if ((await receiptsOf(us, 'CN')).size < cnMessages.length) return undefined;
      const size = Number((await http(us, 'GET', '/log/checkpoint')).body.split('\n')[1]);
      return (await witnessedSize(nodes.CN, us)) >= size && (await witnessedSize(nodes.EU, us)) >= size ? size : undefined;
    });
    expect(cosigned).toBeGreaterThan(10);
    before = await leafHashes(us);
    expect(before.size).toBe(cosigned);
    // Ask EU's mirror as CN would: a request signed with CN's log key.
    const accord = verifyAccord(readAccordFile(at('accord.json')), { requireAll: false });
    const cnKeys = nodeKeys(await unlockKeys(at('cn'), at('pass.txt')));
    const signer = getCrypto().ed25519Signer(cnKeys.log.seed);
    const path = `/fed/v1/mirror/US/entries?from=0&to=${cosigned}`;
    await until("EU's mirror to hold all of US's log", 30_000, async () => {
      const header = signRequest({ accordId: accord.id, from: 'CN', to: 'EU', method: 'GET', path, body: new Uint8Array(), signer, now: Date.now() / 1000 });
      const r = await fetch(`${nodes.EU.url}${path}`, { headers: { 'parley-signature': header } });
      const v = (await r.json()) as { entries?: string[] };
      return r.status === 200 && v.entries?.length === cosigned ? true : undefined;
    });
  }, 90_000);

  it('restores the old backup; recover with every peer down says what it cannot know (exit 1)', async () => {
    for (const p of PARTIES) await stop(nodes[p]);
    const r = json<{ treeSize: number }>(['restore', '--data', 'us', 'us-old.sqlite']);
    expect(r.treeSize).toBe(backupSize);
    const rec = parley(['recover', '--data', 'us', '--peer', `CN=${gates.CN.url}`, '--peer', `EU=${gates.EU.url}`, '--passphrase-file', 'pass.txt', '--json']);
    expect(rec.code, rec.stderr).toBe(1);
    const out = JSON.parse(rec.stdout) as { state: string; before: number; after: number; peers: { party: string; status: string }[] };
    expect(out.state).toBe('unconfirmed');
    expect(out.after).toBe(backupSize);
    expect(out.peers.map((p) => p.status)).toEqual(['asking', 'asking']);
    const human = parley(['recover', '--data', 'us', '--peer', `CN=${gates.CN.url}`, '--peer', `EU=${gates.EU.url}`, '--passphrase-file', 'pass.txt']);
    expect(human.code).toBe(1);
    expect(human.stderr).toMatch(/no peer answered/);
    expect(human.stderr).toMatch(/CN: did not answer/);
  }, 90_000);

  it('the restored node refuses to sign (409 LOG_ROLLED_BACK, /healthz 503) while no peer can give the missing entries', async () => {
    await Promise.all([start(nodes.CN), start(nodes.EU)]);
    gates.CN.refuseMirror = true;
    gates.EU.refuseMirror = true;
    const us = nodes.US;
    await start(us);
    const health = await until('US to report rolled-back', 30_000, async () => {
      const h = await http(us, 'GET', '/healthz');
      return h.body?.status === 'rolled-back' || h.body?.status === 'recovering' ? h : undefined;
    });
    expect(health.status).toBe(503);
    await login(us);
    // Today's code answered 201 here, at index 4, and was later convicted of forking.
    const r = await http(us, 'POST', '/v1/messages', { precedence: 'FLASH', marking: 'TLP:AMBER', text: 'after the restore' });
    expect(r.status, JSON.stringify(r.body)).toBe(409);
    expect(r.body.code).toBe('LOG_ROLLED_BACK');
    expect(r.body.type).toBe('urn:parley:error:log-rolled-back');
    // One peer's answer is enough to stop the node; wait for both to have answered (a busy machine).
    const c = await until('both peers to have answered US', 30_000, async () => {
      const c = await http(us, 'GET', '/v1/continuity');
      return c.body?.cosignedBy?.length === 2 ? c : undefined;
    });
    // While it retries the (refused) mirrors the guard reads 'recovering' for a moment: both refuse writes.
    expect(c.body).toMatchObject({ state: expect.stringMatching(/^(rolled-back|recovering)$/), localSize: backupSize, cosignedSize: cosigned });
    expect(c.body.cosignedBy).toEqual(['CN', 'EU']);
    const cli = parley(['send', '--url', us.url, '--token', us.token, '--precedence', 'ROUTINE', 'from the CLI']);
    expect(cli.code).toBe(2);
    expect(cli.stderr).toMatch(/LOG_ROLLED_BACK/);
    expect(cli.stderr).toMatch(/parley recover --data/);
    expect((await http(us, 'GET', '/log/checkpoint')).body).toMatch(new RegExp(`\\n${backupSize}\\n`));
    // On demand, with the node stopped: parley recover says which peer cosigned what, and what is missing.
    await stop(us);
    const peers = ['--peer', `CN=${gates.CN.url}`, '--peer', `EU=${gates.EU.url}`, '--passphrase-file', 'pass.txt'];
    const rec = await parleyAsync(['recover', '--data', 'us', ...peers, '--json']);
    expect(rec.code, rec.stderr).toBe(1);
    expect(JSON.parse(rec.stdout).state, rec.stdout).toBe('rolled-back');
    const out = JSON.parse(rec.stdout) as { state: string; after: number; cosignedSize: number; cosignedBy: string[]; peers: { party: string; status: string; size?: number }[] };
    expect(out).toMatchObject({ state: 'rolled-back', after: backupSize, cosignedSize: cosigned, cosignedBy: ['CN', 'EU'] });
    expect(out.peers).toEqual([expect.objectContaining({ party: 'CN', status: 'cosigned', size: cosigned }), expect.objectContaining({ party: 'EU', status: 'cosigned', size: cosigned })]);
    const human = await parleyAsync(['recover', '--data', 'us', ...peers]);
    expect(human.code).toBe(1);
    expect(human.stderr).toContain(`entries ${backupSize}…${cosigned - 1} are missing`);
    expect(human.stderr).toContain(`CN: cosigned size ${cosigned}`);
    await start(us);
  }, 150_000);

  it('recovers by itself from EU\u2019s mirror, byte for byte, and resumes without any fork proof', async () => {
    const us = nodes.US;
    gates.EU.refuseMirror = false;
    await until('US to recover and report ok', 60_000, async () => ((await http(us, 'GET', '/healthz')).status === 200 ? true : undefined));
    const c = await http(us, 'GET', '/v1/continuity');
    expect(c.body.state).toBe('confirmed');
    expect(c.body.localSize).toBeGreaterThanOrEqual(cosigned);
    const after = await leafHashes(us);
    for (const [i, h] of before) expect(after.get(i), `entry ${i}`).toBe(h);
    const next = await send(us, 'resumed');
    expect(next.index).toBeGreaterThanOrEqual(cosigned);
    await until('CN and EU to cosign US past the cosigned size', 30_000, async () =>
      (await witnessedSize(nodes.CN, us)) > cosigned && (await witnessedSize(nodes.EU, us)) > cosigned ? true : undefined,
    );
    // CN's messages come back to US by pull; the receipts in the recovered tail stand: one receipt each.
    await until('US to hold CN\u2019s messages again', 30_000, async () => {
      const inbox = await http(us, 'GET', '/v1/inbox?party=CN&limit=200');
      const held = new Set((inbox.body.items as { index: number }[]).map((i) => i.index));
      return cnMessages.every((i) => held.has(i)) ? true : undefined;
    });
    const receipts = await receiptsOf(us, 'CN');
    for (const i of cnMessages) expect(receipts.get(i), `receipts of CN/${i}`).toBe(1);
    expect(await forksAgainst(nodes.CN, 'US')).toBe(0);
    expect(await forksAgainst(nodes.EU, 'US')).toBe(0);
  }, 120_000);
});
