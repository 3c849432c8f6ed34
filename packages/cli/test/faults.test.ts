/**
 * FAULT TESTS WITH REAL PROCESSES (issue 4, "Faults"): three parties (US, CN,
 * EU) founded with the real binary (init, accord init/sign/install) and served
 * as three separate `node packages/cli/bin/parley.js serve` processes on
 * 127.0.0.1 with federation (--poll 300) and heartbeats (2 s).
 *
 * Every node reaches every peer through a TCP proxy per directed link that
 * this test owns (`--peer CN=http://127.0.0.1:<proxy>`), so a partition is
 * made without stopping a process: a blocked proxy destroys every open
 * connection and every new one.
 *
 *   1. Partition and heal: every link into and out of CN is blocked; US sends
 *      5 messages to CN and EU; EU receives them; the partition is held until
 *      link health shows it (two heartbeat intervals); the links heal; CN then
 *      holds each message — and every heartbeat US and EU logged for it
 *      meanwhile — exactly once, wrote exactly one receipt per entry, US sees
 *      CN's receipts (its /v1/deadlines and outbox), and the links are up again.
 *   2. kill -9 of the sender during a burst: 200 concurrent POST /v1/messages
 *      at US (20 at a time), US SIGKILLed once 60 are acknowledged, restarted
 *      on the same data directory and port. Every acknowledged (201) entry is
 *      in US's log with its leaf hash, no index was acknowledged twice, the
 *      whole log audits (`parley log verify --accord`), CN and EU hold every
 *      acknowledged entry once with one receipt naming its hash, and both
 *      witnesses accept US's next checkpoint (their cosigned size moves past a
 *      new message, and a plain tlog-witness add-checkpoint is cosigned); no
 *      fork proof anywhere.
 *   3. The same burst with a recipient (CN) SIGKILLed mid-ingest: after its
 *      restart CN holds every entry once with one receipt each, its own log
 *      audits, and US's and EU's witnesses accept its next checkpoint.
 *
 * Slow by nature (~25–60 s): real processes, real ports, real backoff. Waits
 * poll with generous deadlines (a noisy 2-core machine); no fixed sleeps
 * decide an outcome. Every process and proxy is stopped in afterAll.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { formatAddCheckpointRequest } from '@parley/core/node';
import { type Node, type Party, PARTIES, Proxy, bytesOf, dataOf, threeParties, witnessedSize } from './helpers/parties.js';

const POLL_MS = 300;

const h = threeParties({ parleyTimeout: 30_000, httpTimeout: 15_000 });
const { nodes, at, parley, http, get, login, until } = h;

// ---------------------------------------------------------------- proxies

const proxies = new Map<string, Proxy>(); // "US>CN": US's way to CN
const link = (from: Party, to: Party) => proxies.get(`${from}>${to}`)!;

// ---------------------------------------------------------------- nodes

/** Starts `parley serve` for `n` on its fixed port, every peer through its link's proxy, and waits for its JSON line. */
const start = (n: Node): Promise<void> =>
  h.start(n, { flags: ['--poll', String(POLL_MS)], peers: PARTIES.filter((p) => p !== n.party).flatMap((p) => ['--peer', `${p}=${link(n.party, p).url}`]), checkUrl: true });

async function stopAll(signal: NodeJS.Signals): Promise<void> {
  const running = PARTIES.map((p) => nodes[p]).filter((n) => n?.child && n.child.exitCode === null && n.child.signalCode === null);
  for (const n of running) n.child!.kill(signal);
  await Promise.all(running.map((n) => Promise.race([n.exited, new Promise((r) => setTimeout(r, 5000))])));
}

// ---------------------------------------------------------------- HTTP

interface Sent {
  index: number;
  leafHash: string;
}

async function send(n: Node, text: string, marking = 'TLP:AMBER'): Promise<Sent> {
  const r = await http(n, 'POST', '/v1/messages', { precedence: 'FLASH', marking, text });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
  return { index: r.body.index as number, leafHash: r.body.leafHash as string };
}

/** Every item of a paged /v1 list (inbox, outbox). */
async function listAll(n: Node, path: string, query: string): Promise<any[]> {
  const items: any[] = [];
  let before: number | undefined;
  for (;;) {
    const page = await get(n, `${path}?${[query, 'limit=200', ...(before !== undefined ? [`before=${before}`] : [])].filter((q) => q !== '').join('&')}`);
    items.push(...page.items);
    if (page.next === undefined) return items;
    before = page.next as number;
  }
}

/** How many times each entry of `from` shows in `n`'s inbox (hotline messages, or every type with 'all'). */
async function inboxCounts(n: Node, from: Party, type: 'hotline.message' | 'all' = 'hotline.message'): Promise<Map<number, number>> {
  const counts = new Map<number, number>();
  for (const it of await listAll(n, '/v1/inbox', `party=${from}${type === 'all' ? '&all=1' : `&type=${type}`}`)) counts.set(it.index, (counts.get(it.index) ?? 0) + 1);
  return counts;
}

/** How many receipts in `n`'s own log reference each entry of `from` (with the hash they name). */
async function receiptCounts(n: Node, from: Party): Promise<Map<number, { count: number; hashes: Set<string> }>> {
  const counts = new Map<number, { count: number; hashes: Set<string> }>();
  for (const it of await listAll(n, '/v1/outbox', 'type=receipt')) {
    for (const ref of it.entry.refs as { party: string; index: number; hash: string }[]) {
      if (ref.party !== from) continue;
      const c = counts.get(ref.index) ?? { count: 0, hashes: new Set<string>() };
      c.count++;
      c.hashes.add(ref.hash);
      counts.set(ref.index, c);
    }
  }
  return counts;
}

const leafHashOf = (bytes: Uint8Array) => createHash('sha256').update(Buffer.from([0])).update(bytes).digest('base64');

// ---------------------------------------------------------------- setup

beforeAll(async () => {
  await h.found('parley-faults-', 'faults-test', ['--heartbeat', '2', '--receipt', '5', '--ack-flash', '30']);
  for (const from of PARTIES) for (const to of PARTIES) if (from !== to) proxies.set(`${from}>${to}`, await new Proxy(`${from}>${to}`, nodes[to].port).listen());
  await Promise.all(PARTIES.map((p) => start(nodes[p])));
  for (const p of PARTIES) await login(nodes[p]);
  // Federation is up: every node has cosigned every other's log (heartbeats start at once).
  await until('every witness to cosign every log', 30_000, async () => {
    for (const w of PARTIES) for (const o of PARTIES) if (w !== o && (await witnessedSize(nodes[w], nodes[o])) === 0) return undefined;
    return true;
  });
  // Three inits (scrypt) and three starts take most of a minute on a busy 2-core machine.
}, 120_000);

afterAll(async () => {
  await stopAll('SIGTERM');
  await stopAll('SIGKILL');
  await Promise.all([...proxies.values()].map((p) => p.close()));
  h.remove();
});

describe('faults with three real node processes (US, CN, EU)', () => {
  it('partition and heal: entries sent while CN is cut off arrive exactly once, with one receipt each, and the receipts reach US', async () => {
    const [us, cn, eu] = [nodes.US, nodes.CN, nodes.EU];
    const cut = [link('US', 'CN'), link('EU', 'CN'), link('CN', 'US'), link('CN', 'EU')];
    for (const p of cut) p.block();
    onTestFinished(() => cut.forEach((p) => p.unblock())); // a failure here must not leave CN cut off for the next tests

    const sent: Sent[] = [];
    for (let i = 0; i < 5; i++) sent.push(await send(us, `partition message ${i}`));

    // EU, not cut off, gets them (push, or its next pull).
    await until('EU to receive the 5 messages', 20_000, async () => {
      const inbox = await inboxCounts(eu, 'US');
      return sent.every((s) => inbox.get(s.index) === 1) ? true : undefined;
    });
    // The partition is real on both sides: federation sees the links to and from CN fail.
    const transport = async (n: Node, peer: Party) => (await get(n, '/v1/links')).links.find((l: { party: string }) => l.party === peer).transport?.state as string | undefined;
    await until('US and EU to see CN unreachable, and CN to see them unreachable', 20_000, async () =>
      (await transport(us, 'CN')) === 'down' && (await transport(eu, 'CN')) === 'down' && (await transport(cn, 'US')) === 'down' && (await transport(cn, 'EU')) === 'down' ? true : undefined,
    );
    // Held for two heartbeat intervals: CN's link health shows US and EU down (no fresh contact), and US's shows CN down.
    const health = async (n: Node, peer: Party) => (await get(n, '/v1/links')).links.find((l: { party: string }) => l.party === peer) as { state: string; reason?: string };
    await until('link health to mark the partition down', 20_000, async () =>
      (await health(cn, 'US')).reason === 'heartbeat' && (await health(cn, 'EU')).reason === 'heartbeat' && (await health(us, 'CN')).reason === 'heartbeat' ? true : undefined,
    );
    // CN really was cut off: none of them arrived.
    const during = await inboxCounts(cn, 'US');
    expect(sent.filter((s) => during.has(s.index))).toEqual([]);
    // Everything US and EU logged for CN so far (messages, heartbeats) must arrive once after heal.
    const owed = new Map<Party, number[]>();
    for (const from of ['US', 'EU'] as const) {
      const out = await listAll(nodes[from], '/v1/outbox', '');
      owed.set(from, out.filter((x) => x.entry.to.includes('CN') && x.entry.type !== 'receipt').map((x) => x.index as number));
    }
    expect(owed.get('EU')!.length).toBeGreaterThan(0);

    for (const p of cut) p.unblock();
    const healedAt = Date.now();
    await until('CN to receive the 5 messages after heal', 30_000, async () => {
      const inbox = await inboxCounts(cn, 'US');
      return sent.every((s) => inbox.has(s.index)) ? true : undefined;
    });
    const healMs = Date.now() - healedAt;

    // Exactly once: one inbox row per index, and the entry is US's (same leaf hash).
    const inbox = await inboxCounts(cn, 'US');
    for (const s of sent) {
      expect(inbox.get(s.index), `CN inbox rows for US/${s.index}`).toBe(1);
      expect((await get(cn, `/v1/entries/US/${s.index}`)).leafHash).toBe(s.leafHash);
    }
    // One receipt per entry in CN's log, naming the right hash — also after more pulls have run.
    await until('CN to receipt every message', 10_000, async () => {
      const r = await receiptCounts(cn, 'US');
      return sent.every((s) => r.has(s.index)) ? true : undefined;
    });
    await until('a few more pull rounds on CN', 10_000, async () => ((await witnessedSize(cn, us)) > sent[4]!.index + 2 ? true : undefined));
    const receipts = await receiptCounts(cn, 'US');
    for (const s of sent) {
      expect(receipts.get(s.index)?.count, `CN receipts for US/${s.index}`).toBe(1);
      expect([...receipts.get(s.index)!.hashes]).toEqual([s.leafHash]);
    }
    // The receipts reach US: its deadlines show CN's receipt for each (and EU's).
    await until("US to hold CN's and EU's receipts", 20_000, async () => {
      for (const s of sent) {
        const d = await get(us, `/v1/deadlines?direction=sent&index=${s.index}`);
        const by = new Map((d.items as { recipient: string; receipt?: unknown }[]).map((x) => [x.recipient, x]));
        if (!by.get('CN')?.receipt || !by.get('EU')?.receipt) return undefined;
      }
      return true;
    });
    const outbox = await listAll(us, '/v1/outbox', 'type=hotline.message');
    for (const s of sent) {
      const item = outbox.find((x) => x.index === s.index);
      expect(item.deadlines.map((d: { recipient: string }) => d.recipient).sort()).toEqual(['CN', 'EU']);
      // Received (answered, ack pending) — or answered after the 5 s receipt deadline on a slow machine.
      for (const d of item.deadlines) expect(['received', 'overdue-receipt'], `${d.recipient} state of US/${s.index}`).toContain(d.state);
    }
    // Every entry owed to CN (heartbeats too) is held once with one receipt; no receipt of CN's names any entry twice.
    for (const [from, indexes] of owed) {
      await until(`CN to hold and receipt everything ${from} logged for it`, 20_000, async () => {
        const [inbox, r] = [await inboxCounts(cn, from, 'all'), await receiptCounts(cn, from)];
        const missing = indexes.filter((i) => inbox.get(i) !== 1 || !r.has(i));
        if (missing.length > 0) throw new Error(`missing ${missing.map((i) => `${i}(inbox ${inbox.get(i) ?? 0}, receipt ${r.has(i)})`).join(' ')}`);
        return true;
      });
      const r = await receiptCounts(cn, from);
      expect([...r].filter(([, x]) => x.count !== 1 || x.hashes.size !== 1).map(([i]) => i), `CN's duplicate receipts of ${from}`).toEqual([]);
    }
    // The links are up again on both sides.
    await until('link health to come back up', 20_000, async () =>
      (await health(cn, 'US')).state === 'up' && (await health(cn, 'EU')).state === 'up' && (await health(us, 'CN')).state === 'up' ? true : undefined,
    );
    // No fork anywhere; heal took at most a few backoff periods.
    for (const p of PARTIES) expect((await get(nodes[p], '/v1/forks')).forks).toEqual([]);
    expect(healMs).toBeLessThan(30_000);
  });

  it('kill -9 of the sender during a burst: no acknowledged entry lost or changed, no duplicate, no fork; the witnesses accept its next checkpoint', async () => {
    await killDuringBurst('US');
  });

  it('kill -9 of a recipient during a burst: after restart every entry is held once with one receipt, and its own log still witnesses', async () => {
    await killDuringBurst('CN');
  });
});

/**
 * 200 concurrent messages at US (20 at a time; TLP:CLEAR to spare the CPU),
 * `victim` SIGKILLed once 60 are acknowledged, restarted on the same data
 * directory and port; then every check of the module doc.
 */
async function killDuringBurst(victimParty: Party): Promise<void> {
  const us = nodes.US;
  const victim = nodes[victimParty];
  const witnesses = PARTIES.filter((p) => p !== victimParty).map((p) => nodes[p]);
  const recipients = [nodes.CN, nodes.EU];
  const sizeOf = async (n: Node) => ((await get(n, '/v1/outbox?limit=1')).items[0].index as number) + 1;
  const victimSizeBefore = await sizeOf(victim);
  const witnessedBefore = new Map(await Promise.all(witnesses.map(async (w) => [w.party, await witnessedSize(w, victim)] as const)));

  const TOTAL = 200;
  const CONCURRENCY = 20;
  const KILL_AFTER = 60;
  const acked = new Map<number, string>();
  const twice: number[] = [];
  let next = 0;
  let failed = 0;
  let killed = false;
  const worker = async () => {
    while (next < TOTAL) {
      const k = next++;
      try {
        const r = await http(us, 'POST', '/v1/messages', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: `burst ${victimParty} ${k}` });
        if (r.status !== 201) throw new Error(`status ${r.status}`);
        // Two acknowledgements of one index would be a fork in the making.
        if (acked.has(r.body.index as number)) twice.push(r.body.index as number);
        acked.set(r.body.index as number, r.body.leafHash as string);
        if (acked.size >= KILL_AFTER && !killed) {
          killed = true;
          victim.child!.kill('SIGKILL');
        }
      } catch {
        failed++; // refused or cut by the kill: outcome unknown, not acknowledged
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  expect(killed).toBe(true);
  expect(twice, 'indexes acknowledged twice').toEqual([]);
  await victim.exited;
  expect(victim.child!.signalCode).toBe('SIGKILL');
  if (victimParty === 'US') expect(failed, 'requests cut by the kill').toBeGreaterThan(0);
  else expect(acked.size).toBe(TOTAL);

  // Restart on the same data directory and port.
  await start(victim);
  await login(victim);
  expect(await sizeOf(victim)).toBeGreaterThanOrEqual(victimSizeBefore);
  expect(await sizeOf(us)).toBeGreaterThan(Math.max(...acked.keys()));

  // Every acknowledged entry is in US's log, byte for byte the one acknowledged.
  for (const [index, hash] of acked) expect(leafHashOf(await bytesOf(`${us.url}/log/entries/${index}`)), `US/${index}`).toBe(hash);

  // The victim's next checkpoint: after one more entry in its log, every witness cosigns past it.
  const after = await send(victim, `after the restart of ${victimParty}`);
  for (const w of witnesses) {
    await until(`${w.party}'s witness to cosign ${victimParty} past ${after.index}`, 30_000, async () => ((await witnessedSize(w, victim)) > after.index ? true : undefined));
    expect(await witnessedSize(w, victim)).toBeGreaterThan(witnessedBefore.get(w.party)!);
    // And a plain tlog-witness client gets a cosignature for the latest checkpoint from the size the witness holds.
    await until(`${w.party} to cosign ${victimParty}'s latest checkpoint for a plain client`, 10_000, async () => {
      const held = await witnessedSize(w, victim);
      const note = await bytesOf(`${victim.url}/log/checkpoint`);
      const newSize = Number(new TextDecoder().decode(note).split('\n')[1]);
      if (newSize < held) return undefined;
      const proof = newSize > held ? ((await get(victim, `/log/proof/consistency?old=${held}&new=${newSize}`)) as { proof: string[] }).proof : [];
      const res = await fetch(`${w.url}/witness/add-checkpoint`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: formatAddCheckpointRequest({ oldSize: held, proof: proof.map((p) => new Uint8Array(Buffer.from(p, 'base64'))), checkpointNote: note }),
      });
      const text = await res.text();
      if (res.status === 409) return undefined; // the node's own push moved it meanwhile: again
      expect(res.status, text).toBe(200);
      return true;
    });
  }

  // CN and EU hold every acknowledged entry (and US's new one) exactly once, each with exactly one receipt naming its hash.
  const want = [...acked.keys(), ...(victimParty === 'US' ? [after.index] : [])];
  for (const r of recipients) {
    await until(`${r.party} to receive every acknowledged entry and receipt it`, 30_000, async () => {
      const [inbox, receipts] = [await inboxCounts(r, 'US'), await receiptCounts(r, 'US')];
      return want.every((i) => inbox.has(i) && receipts.has(i)) ? true : undefined;
    });
    const inbox = await inboxCounts(r, 'US');
    const receipts = await receiptCounts(r, 'US');
    expect([...inbox].filter(([, c]) => c !== 1).map(([i]) => i), `${r.party} inbox duplicates`).toEqual([]);
    expect([...receipts].filter(([, x]) => x.count !== 1 || x.hashes.size !== 1).map(([i]) => i), `${r.party} duplicate receipts`).toEqual([]);
    for (const [i, hash] of acked) expect([...receipts.get(i)!.hashes], `${r.party}'s receipt of US/${i}`).toEqual([hash]);
  }

  // Both restarted and sending logs audit in full: checkpoint, tiles, every entry signed for its index.
  for (const n of new Set([us, victim])) {
    const key = (JSON.parse(readFileSync(at(dataOf(n.party), 'party.json'), 'utf8')) as { logKey: string }).logKey;
    const audit = parley(['log', 'verify', '--from', n.url, '--key', key, '--accord', 'accord.json', '--json']);
    expect(audit.code, audit.stdout + audit.stderr).toBe(0);
    expect(JSON.parse(audit.stdout)).toMatchObject({ valid: true, signaturesChecked: true });
  }

  // No fork proof on any node; no link to the victim is marked forked.
  for (const p of PARTIES) expect((await get(nodes[p], '/v1/forks')).forks, `${p} fork proofs`).toEqual([]);
  for (const w of witnesses) {
    const l = (await get(w, '/v1/links')).links.find((x: { party: string }) => x.party === victimParty);
    expect(l.reason).not.toBe('fork');
  }
}
