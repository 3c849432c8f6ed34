/**
 * A departed party's node reopens its own data directory (issue 11): three
 * parties run `parley serve` as real processes; US and CN remove EU by
 * amendment (`parley accord propose --remove-party EU`, `accord approve`).
 * EU's node halts. Restarted on the same data directory, EU's `parley
 * serve` starts (before: ACCORD_MALFORMED "EU is not a party of the
 * accord", exit 2), serves its log read-only (outbox, entries, checkpoint,
 * the chain), and refuses every write with CHANNEL_FROZEN (problem+json 4xx).
 *
 * Asserted by exit status, HTTP status and JSON members, never by message text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Node, PARTIES, sendRoutine, stop, threeParties } from './helpers/parties.js';

const h = threeParties({ parleyTimeout: 60_000, httpTimeout: 15_000 });
const { nodes } = h;
const start = (n: Node) => h.start(n, { flags: ['--poll', '300'], peers: [] });
const as = (n: Node) => ['--url', n.url, '--token', n.token];
const versionAt = async (n: Node) => ((await h.get(n, '/v1/accord/chain')) as { versions: { accord: { version?: number } }[] }).versions.at(-1)!.accord.version ?? 1;

beforeAll(async () => {
  await h.found('parley-departed-', 'departed-test', ['--quorum', '2', '--heartbeat', '60']);
  await h.startAll(start);
}, 180_000);

afterAll(async () => {
  await h.teardown([]);
});

describe('a removed party reopens its data directory read-only', { timeout: 240_000 }, () => {
  it('EU, removed by US and CN, restarts: it serves its log and refuses writes with CHANNEL_FROZEN', async () => {
    const before = await sendRoutine(h, nodes.EU, 'EU writes before its removal');
    const r = h.json<{ digest: string; version: number }>(['accord', 'propose', '--remove-party', 'EU', '--rationale', 'EU leaves', ...as(nodes.US), '--yes']);
    await h.until('the removal at CN', 30_000, async () => ((await h.get(nodes.CN, '/v1/accord/proposals')) as { items: { digest: string }[] }).items.find((i) => i.digest === r.digest));
    h.json(['accord', 'approve', r.digest, ...as(nodes.CN), '--yes']);
    for (const p of PARTIES) await h.until(`version 2 at ${p}`, 60_000, async () => ((await versionAt(nodes[p])) === 2 ? true : undefined));
    // EU's running node already refuses writes.
    await h.until('EU to halt', 30_000, async () => ((await h.http(nodes.EU, 'POST', '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'after' })).status === 409 ? true : undefined));

    await stop(nodes.EU);
    await start(nodes.EU); // rejects when serve exits early
    await h.login(nodes.EU);
    // Read-only: its own log, an entry, the chain it holds (version 2 without EU).
    const outbox = (await h.get(nodes.EU, '/v1/outbox?limit=100')) as { items: { index: number }[] };
    expect(outbox.items.some((e) => e.index === before.index)).toBe(true);
    expect(((await h.get(nodes.EU, `/v1/entries/EU/${before.index}`)) as { index: number }).index).toBe(before.index);
    expect(await versionAt(nodes.EU)).toBe(2);
    const chain = (await h.get(nodes.EU, '/v1/accord/chain')) as { versions: { accord: { parties: { id: string }[] } }[] };
    expect(chain.versions.at(-1)!.accord.parties.map((p) => p.id)).not.toContain('EU');
    expect((await h.http(nodes.EU, 'GET', '/log/checkpoint')).status).toBe(200);
    // Every write is refused with the typed code, nothing appended.
    const size = outbox.items.length;
    const refused = await h.http(nodes.EU, 'POST', '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'after my removal' });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('CHANNEL_FROZEN');
    expect(((await h.get(nodes.EU, '/v1/outbox?limit=100')) as { items: unknown[] }).items.length).toBe(size);
    // The others go on.
    await sendRoutine(h, nodes.US, 'US and CN go on', ['CN']);
  });
});
