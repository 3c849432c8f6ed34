/**
 * RFC 3161 time stamps as the proof of time of evaluations (issue 12, EVAL.md
 * §4–5, §8), with a real TSA (`openssl ts`, core test/helpers/tsa.ts) behind
 * real HTTP on 127.0.0.1.
 *
 * Two nodes (US, CN) run as `parley serve` runs them (startRuntime, SQLite
 * files, real federation) on an accord listing one authority, k = 1. After
 * US's first write CN stops, so nothing cosigns US's log further: US
 * commits to an evaluation, its node stamps the checkpoint covering the
 * commitment promptly (an evaluation commitment does not wait for the
 * interval), and US's view says the commitment is proven by the time stamp.
 * CN starts more than a second later and cosigns: the token's time is still
 * the earliest, so the view keeps `provenHow: "timestamp"`, and the evidence
 * bundle carries the stamped checkpoint with its token, which core's offline
 * verifier checks against the accord's timestamping (every check holds).
 * The token of another checkpoint in its place fails `commitment.timestamps`.
 * CN, which fetches and verifies US's tokens of that checkpoint (by size, over
 * the signed federation route), proves the same time.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type JsonObject, canonicalize, commitClaims, parseCheckpoint, parseNote, stampedNote, verifyAccord, verifyEvaluationEvidence } from '@parley/core/node';
import { verifyTimestamps } from '@parley/core/tsa';
import { SqliteStore } from '@parley/store';
import { ParleyNode, PeerClient, type Runtime, fetchPeerTimestamps, hashPassword, startRuntime } from '../src/index.js';
import { startTsaServer, type TsaServer } from '../../core/test/helpers/tsa.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { allocatePorts, httpCaller, putGovernanceOfficers, waitFor } from './helpers/governance.js';

const PASSWORD = 'correct horse battery staple';
const IDS = ['CN', 'US'] as const;
let dir: string;
let tsa: TsaServer;
let accord: ReturnType<typeof makeAccord>;
let ports: Map<string, number>;
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const runtimes = new Map<string, Runtime>();
const urls: Record<string, string> = {};
const tokens = new Map<string, string>();
const call = httpCaller(urls, tokens, PASSWORD, { lenientJson: true });

const CLAIMS: JsonObject = {
  model: { name: 'Frontier-3', version: '2026-12' },
  evaluator: 'US AISI',
  redLines: { cbrn: { domain: 'CBRN', threshold: 'uplift over baseline', outcome: 'below' } },
  report: { sha256: 'c'.repeat(64) },
};
const committed = commitClaims(CLAIMS, { leafPaths: ['report'] });
const MODEL = { id: 'us-lab/frontier-3', digest: `sha256:${'d'.repeat(64)}` };

async function start(id: string): Promise<void> {
  const other = IDS.find((x) => x !== id)!;
  runtimes.set(
    id,
    await startRuntime({
      node: nodes.get(id)!,
      store: stores.get(id)!,
      port: ports.get(id)!,
      peerUrls: { [other]: urls[other]! },
      heartbeatMs: 0,
      federation: { pollMs: 200, backoff: { baseMs: 40, maxMs: 300 } },
      // A long interval: only the prompt path (evaluation commitments, deployment notices) stamps within the test.
      tsa: { intervalMs: 600_000, timeoutMs: 5_000 },
    }),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-eval-tsa-'));
  tsa = await startTsaServer({ name: 'tsa-a' });
  const parties = IDS.map(makeParty);
  accord = makeAccord(parties, { timestamping: { authorities: [tsa.authority], required: 1 } });
  const passwordHash = await hashPassword(PASSWORD);
  ports = await allocatePorts(IDS, urls);
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    stores.set(p.id, store);
    await putGovernanceOfficers(store, passwordHash);
    nodes.set(p.id, await ParleyNode.open({ accord, party: p.id, keys: p.keys, store }));
  }
  for (const id of IDS) await start(id);
  // US's first write waits until a peer confirms its log size (rollback guard); then CN goes away for a while.
  await nodes.get('US')!.sendMessage('alice', { precedence: 'ROUTINE', marking: 'TLP:CLEAR', text: 'before the evaluation' });
  await runtimes.get('CN')!.stop();
  runtimes.delete('CN');
}, 60_000);

afterAll(async () => {
  for (const r of runtimes.values()) await r.stop();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
  await tsa?.close();
  rmSync(dir, { recursive: true, force: true });
});

const timestamping = () => verifyAccord(accord).accord.timestamping!;
const verifyTokens = (note: string, t: readonly { authority: string; token: string | Uint8Array }[]) => verifyTimestamps(note, t, timestamping());

/** US's commitment and notice, and the trusted time of the commitment's token. */
const us = { commitment: -1, notice: -1, tokenTime: '', stampedSize: 0 };

describe('evaluations proven by RFC 3161 time stamps (issue 12)', () => {
  it('a commitment is stamped within ~2 s; with no cosignature yet, the view proves it by the time stamp', async () => {
    const usStore = stores.get('US')!;
    expect((await call('US', 'GET', '/v1/evaluations', undefined, 'alice')).status).toBe(200); // signed in (password hashing is not the stamping)
    const r = await call('US', 'POST', '/v1/evaluations/commitments', { stage: 'report', domains: ['CBRN'], sd: committed.sd }, 'alice');
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    const started = Date.now();
    us.commitment = r.body.index;
    await waitFor('a token covering the commitment', async () => (await usStore.latestTimestampedSize('US')) > us.commitment, 5_000);
    expect(Date.now() - started).toBeLessThan(3_000); // the prompt path (~200 ms + the TSA round trip; slack for a loaded machine), not the 10-minute interval
    expect((await usStore.ownCosigned('CN'))?.treeSize ?? 0).toBeLessThanOrEqual(us.commitment); // CN is not running: nothing cosigned covers it

    const rows = (await usStore.checkpointTimestamps('US', { from: us.commitment + 1 })).filter((t) => t.authority === 'tsa-a');
    const first = rows.reduce((a, b) => (b.genTime < a.genTime ? b : a));
    // The token verifies on its own against the stamped note (the log's own checkpoint of that size).
    expect(first.note).toBe(stampedNote(first.note));
    expect(parseCheckpoint(parseNote(first.note).text).treeSize).toBe(first.treeSize);
    us.stampedSize = first.treeSize;
    us.tokenTime = new Date(first.genTime).toISOString();

    const v = await call('US', 'GET', `/v1/evaluations/US/${us.commitment}`);
    expect(v.status, JSON.stringify(v.body)).toBe(200);
    expect(v.body.commitment).toMatchObject({ party: 'US', index: us.commitment, provenHow: 'timestamp', provenBy: us.tokenTime });
  }, 30_000);

  it('after a later cosignature the time stamp stays the earliest proof; the evidence bundle carries the token and verifies', async () => {
    const usStore = stores.get('US')!;
    // Cosignature times are whole seconds: start CN more than a second after the token's time.
    const wait = Date.parse(us.tokenTime) + 1_100 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await start('CN');
    await waitFor('CN cosigns US\u2019s checkpoint covering the commitment', async () => ((await usStore.ownCosigned('CN'))?.treeSize ?? 0) > us.commitment);
    const cosigned = (await usStore.ownCosigned('CN'))!;
    expect(cosigned.cosignedAt! * 1000).toBeGreaterThan(Date.parse(us.tokenTime));

    const view = await call('US', 'GET', `/v1/evaluations/US/${us.commitment}`);
    expect(view.body.commitment).toMatchObject({ provenHow: 'timestamp', provenBy: us.tokenTime });

    // The deployment notice: stamped promptly too.
    const n = await call('US', 'POST', '/v1/evaluations/notices', { commitment: { party: 'US', index: us.commitment }, model: MODEL, deployedAt: new Date().toISOString() }, 'alice');
    expect(n.status, JSON.stringify(n.body)).toBe(201);
    us.notice = n.body.index;
    await waitFor('a token covering the notice', async () => (await usStore.latestTimestampedSize('US')) > us.notice, 5_000);
    const withNotice = await call('US', 'GET', `/v1/evaluations/US/${us.commitment}`);
    expect(withNotice.body.timeline).toMatchObject({ committedBefore: true });

    const r = await call('US', 'GET', `/v1/evaluations/US/${us.commitment}/evidence`);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    const ev = r.body;
    // The commitment's checkpoint is the stamped note (earlier than CN's cosignature), with its token.
    const cSize = parseCheckpoint(parseNote(ev.commitment.checkpoint).text).treeSize;
    const held = await usStore.checkpointTimestamps('US', { treeSize: cSize });
    expect(ev.commitment.checkpoint).toBe(held[0]!.note);
    expect(ev.commitment.timestamps.map((t: { authority: string }) => t.authority)).toEqual(['tsa-a']);
    expect(ev.notice.timestamps.length).toBeGreaterThan(0);

    const result = await verifyEvaluationEvidence(canonicalize(ev), canonicalize(accord), { verifyTokens });
    expect(result.checks.filter((c) => !c.ok)).toEqual([]);
    expect(result.ok).toBe(true);
    const ids = result.checks.map((c) => c.id);
    expect(ids).toContain('commitment.timestamps');
    expect(ids).toContain('notice.timestamps');
    expect(result.provenBy).toMatchObject({ how: 'timestamp', treeSize: cSize });
    expect(result.provenBy!.time.toISOString()).toBe(us.tokenTime);
    expect(result.timeline).toMatchObject({ committedBefore: true });

    // Tokens present but no RFC 3161 verifier given: that check cannot pass.
    const unchecked = await verifyEvaluationEvidence(canonicalize(ev), canonicalize(accord));
    expect(unchecked.checks.find((c) => c.id === 'commitment.timestamps')?.ok).toBe(false);

    // Another checkpoint's token in place of the commitment's: its imprint is not this note's.
    const nSize = parseCheckpoint(parseNote(ev.notice.checkpoint).text).treeSize;
    expect(nSize).not.toBe(cSize);
    const swapped = { ...ev, commitment: { ...ev.commitment, timestamps: ev.notice.timestamps } };
    const bad = await verifyEvaluationEvidence(canonicalize(swapped), canonicalize(accord), { verifyTokens });
    expect(bad.ok).toBe(false);
    // …and with it the only proof of the commitment's time goes: the timeline is no longer proven either.
    expect(bad.checks.filter((c) => !c.ok).map((c) => c.id)).toEqual(['commitment.timestamps', 'timeline']);
    expect(bad.checks.find((c) => c.id === 'commitment.timestamps')!.detail.en).toMatch(/TSA_IMPRINT/);
    expect(bad.provenBy?.how).not.toBe('timestamp');
  }, 60_000);

  it('CN, which fetches and verifies US\u2019s tokens of that checkpoint, proves the commitment by the same time stamp', async () => {
    // The background fetcher takes the latest stamped size; the commitment's own checkpoint is asked for by size.
    const got = await fetchPeerTimestamps(nodes.get('CN')!, stores.get('CN')!, new PeerClient(nodes.get('CN')!, 'US', { url: urls['US']! }), 'US', us.stampedSize);
    expect(got).toMatchObject({ treeSize: us.stampedSize, verified: 1, refused: [] });
    await waitFor('CN\u2019s view proven by the time stamp', async () => {
      const v = await call('CN', 'GET', `/v1/evaluations/US/${us.commitment}`);
      return v.status === 200 && v.body.commitment.provenHow === 'timestamp';
    });
    const v = await call('CN', 'GET', `/v1/evaluations/US/${us.commitment}`);
    expect(v.body.commitment.provenBy).toBe(us.tokenTime);
  }, 30_000);
});
