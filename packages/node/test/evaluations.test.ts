/**
 * Evaluation commitments, deployment notices and reveals over real HTTP
 * (issue 12, EVAL.md §3, §10).
 *
 * Three real nodes — US (the lab), CN (the institute it reveals to), UK —
 * on SQLite files, serving on 127.0.0.1 and federating (push, pull, witness,
 * mirror). US commits to an evaluation (salted claim digests made by core's
 * commitClaims), announces the deployment, and reveals chosen claims sealed
 * to CN only. UK, before the nodes start, wrote (around its node's checks, as
 * a hostile node would) a reveal sealed to CN whose value does not match its
 * commitment and a notice that predates its commitment.
 *
 * Proves: CN's view shows the revealed claims, checked against the
 * commitment, and the timeline "committed before deployment" from the
 * counterparts' cosignatures; UK (not addressed) holds the reveal in its
 * mirror and sees addressed:false and no claims; CN's auditor sees no
 * claims; each reference rule is a typed 4xx problem on submission; CN
 * keeps UK's bad entries as evidence and answers each with a signed
 * rejection naming the rule; CN's evidence bundle and DSSE envelope verify
 * with core's verifiers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Envelope,
  type JsonObject,
  type JsonValue,
  commitClaims,
  canonicalize,
  cosignatureTimestamp,
  dsseKeysOf,
  mergeDsse,
  verifyDsse,
  verifyEvaluationEvidence,
  encodeUtf8,
  formatBase64,
  getCrypto,
  isCanonical,
  leafHash,
  makeDisclosure,
  parseBase64,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  verifyInclusion,
  newSigner,
  parseEntry,
  receiptRejection,
  sealBody,
  selectDisclosures,
  signCheckpoint,
  signEntry,
} from '@parley/core/node';
import { LogWriter, SqliteStore } from '@parley/store';
import type { FastifyInstance } from 'fastify';
import { Federator, ParleyNode, createServer, hashPassword, metaOf, peersOf, submitCommitment } from '../src/index.js';
import { makeAccord, makeParty } from './helpers/channel.js';
import { PASSWORD, expectProblem } from './helpers/http.js';
import { waitFor } from './helpers/governance.js';

const parties = [makeParty('CN'), makeParty('UK'), makeParty('US')];
const accord = makeAccord(parties);
const keysOf = (id: string) => parties.find((p) => p.id === id)!.keys;
let dir: string;
const stores = new Map<string, SqliteStore>();
const nodes = new Map<string, ParleyNode>();
const apps = new Map<string, FastifyInstance>();
const feds: Federator[] = [];
const urls: Record<string, string> = {};
const tokens = new Map<string, string>();

/** The evaluation US commits to. */
const CLAIMS: JsonObject = {
  model: { name: 'Frontier-2', version: '2026-11' },
  developer: 'US lab',
  evaluator: 'US AISI',
  suites: [{ name: 'wmdp', version: '1.0' }],
  redLines: { cbrn: { domain: 'CBRN', threshold: 'uplift over baseline', outcome: 'below', score: 0.12 }, cyber: { domain: 'cyber', threshold: 'CTF hard', outcome: 'below' } },
  report: { sha256: 'a'.repeat(64) },
};
const committed = commitClaims(CLAIMS, { leafPaths: ['report'] });
const MODEL = { id: 'us-lab/frontier-2', digest: `sha256:${'b'.repeat(64)}` };

/** UK's hostile entries: its commitment, a reveal with a changed value, a notice before the commitment. */
const uk = { commitment: -1, badReveal: -1, earlyNotice: -1 };

async function call(id: string, method: string, path: string, body?: unknown, who = 'alice'): Promise<{ statusCode: number; headers: Record<string, unknown>; body: string; json: any }> {
  let token = tokens.get(`${id}/${who}`);
  if (!token) {
    const r = await fetch(`${urls[id]}/v1/sessions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: who, password: PASSWORD }) });
    expect(r.status).toBe(201);
    token = ((await r.json()) as { token: string }).token;
    tokens.set(`${id}/${who}`, token);
  }
  const res = await fetch(`${urls[id]}${path}`, { method, headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) }, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { statusCode: res.status, headers: Object.fromEntries(res.headers.entries()), body: text, json };
}

/** Appends entries signed with UK's key straight through a LogWriter, around ParleyNode's checks (a hostile node). */
async function appendAsUk(drafts: { type: Envelope['type']; to: string[]; marking: Envelope['marking']; refs: Envelope['refs']; body: JsonValue }[]): Promise<number[]> {
  const log = keysOf('UK').log;
  const signer = newSigner(log);
  const writer = await LogWriter.open(stores.get('UK')!, { origin: log.name, signCheckpoint: (cp) => signCheckpoint(cp, signer) });
  const sign = getCrypto().ed25519Signer(log.seed);
  const out: number[] = [];
  for (const d of drafts) {
    const body =
      d.marking === 'TLP:CLEAR'
        ? { clear: d.body }
        : { sealed: sealBody({ accordId: nodes.get('CN')!.accord.id, from: 'UK', recipients: [...d.to, 'UK'].sort().map((p) => ({ party: p, publicKey: keysOf(p).hpke.publicKey })), body: d.body }) };
    const r = await writer.append((index, time) => {
      const env: Envelope = { v: 1, accord: nodes.get('CN')!.accord.id, from: { party: 'UK', officer: 'mallory' }, to: d.to, seq: index, time: time.toISOString(), type: d.type, precedence: 'ROUTINE', marking: d.marking, refs: d.refs, body };
      const e = signEntry(env, sign);
      return { bytes: e.bytes, meta: metaOf(e.entry, d.body) };
    });
    out.push(r.index);
  }
  await writer.close();
  return out;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'parley-eval-'));
  const passwordHash = await hashPassword(PASSWORD);
  for (const p of parties) {
    const store = SqliteStore.open(join(dir, `${p.id}.sqlite`));
    stores.set(p.id, store);
    for (const [name, role] of [['alice', 'officer'], ['audrey', 'auditor']] as const) await store.putOfficer({ name, role, passwordHash, created: new Date().toISOString(), disabled: false });
  }
  nodes.set('CN', await ParleyNode.open({ accord, party: 'CN', keys: keysOf('CN'), store: stores.get('CN')! }));
  // UK commits through its node, then (node closed) writes a bad reveal and an early notice around it.
  let ukNode = await ParleyNode.open({ accord, party: 'UK', keys: keysOf('UK'), store: stores.get('UK')! });
  const ukClaims = commitClaims({ model: { name: 'UK-1' }, redLines: { cbrn: { domain: 'CBRN', outcome: 'at-or-above' } } });
  const c = await submitCommitment(ukNode, 'mallory', { stage: 'report', domains: ['CBRN'], sd: ukClaims.sd });
  uk.commitment = c.index;
  await ukNode.close();
  const outcome = ukClaims.disclosures.find((d) => d.path === 'redLines.cbrn.outcome')!;
  const forged = makeDisclosure('outcome', 'below', outcome.salt); // same salt and name, another value
  const ref = [{ party: 'UK', index: c.index, hash: c.leafHash }];
  const parents = ukClaims.disclosures.filter((d) => d.path === 'redLines' || d.path === 'redLines.cbrn').map((d) => d.encoded);
  const [badReveal, earlyNotice] = await appendAsUk([
    { type: 'evaluation.reveal', to: ['CN'], marking: 'TLP:AMBER', refs: ref, body: { disclosures: [...parents, forged.encoded] } },
    { type: 'deployment.notice', to: ['CN', 'US'], marking: 'TLP:CLEAR', refs: ref, body: { model: MODEL, deployedAt: '2020-01-01T00:00:00.000Z' } },
  ]);
  uk.badReveal = badReveal!;
  uk.earlyNotice = earlyNotice!;
  ukNode = await ParleyNode.open({ accord, party: 'UK', keys: keysOf('UK'), store: stores.get('UK')! });
  nodes.set('UK', ukNode);
  nodes.set('US', await ParleyNode.open({ accord, party: 'US', keys: keysOf('US'), store: stores.get('US')! }));
  for (const p of parties) {
    const app = await createServer({ node: nodes.get(p.id)!, store: stores.get(p.id)! });
    apps.set(p.id, app);
    urls[p.id] = await app.listen({ port: 0, host: '127.0.0.1' });
  }
  for (const p of parties) feds.push(await Federator.start(nodes.get(p.id)!, stores.get(p.id)!, peersOf(nodes.get(p.id)!, { urls, timeoutMs: 2000 }), { pollMs: 150, backoff: { baseMs: 40, maxMs: 300 } }));
}, 60_000);

afterAll(async () => {
  for (const f of feds) await f.stop();
  for (const a of apps.values()) await a.close();
  for (const n of nodes.values()) await n.close();
  for (const s of stores.values()) await s.close();
  rmSync(dir, { recursive: true, force: true });
});

/** US's entries of the main flow. */
const us = { protocol: -1, commitment: -1, notice: -1, reveal: -1, leafHash: '' };

describe('an evaluation committed, announced and revealed to one party', () => {
  it('commits a protocol, then the report that follows it', async () => {
    const protocolClaims = commitClaims({ redLines: { cbrn: { domain: 'CBRN', threshold: 'uplift over baseline' } } });
    const p = await call('US', 'POST', '/v1/evaluations/commitments', { stage: 'protocol', domains: ['CBRN'], sd: protocolClaims.sd });
    expect(p.statusCode, p.body).toBe(201);
    us.protocol = p.json.index;
    const r = await call('US', 'POST', '/v1/evaluations/commitments', { stage: 'report', domains: ['CBRN', 'cyber'], sd: committed.sd, protocol: { party: 'US', index: us.protocol } });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.headers['location']).toBe(`/v1/entries/US/${r.json.index}`);
    expect(r.json.entry).toMatchObject({ type: 'evaluation.commitment', marking: 'TLP:CLEAR', to: ['CN', 'UK'], precedence: 'ROUTINE' });
    expect(r.json.entry.body.clear).toEqual({ stage: 'report', domains: ['CBRN', 'cyber'], sdAlg: 'sha-256', sd: committed.sd });
    us.commitment = r.json.index;
    us.leafHash = r.json.leafHash;
  });

  it('proves the commitment by a counterpart\u2019s cosignature, then announces the deployment', async () => {
    // Each node proves by the cosignatures it holds (US: every peer's of its log; CN: its own witness's): deploy after both.
    for (const id of ['US', 'CN']) await waitFor(`${id} to hold a counterpart\u2019s cosignature of the commitment`, async () => (await call(id, 'GET', `/v1/evaluations/US/${us.commitment}`)).json?.commitment?.provenBy !== undefined);
    const v = (await call('US', 'GET', `/v1/evaluations/US/${us.commitment}`)).json;
    expect(v.commitment).toMatchObject({ party: 'US', index: us.commitment, leafHash: us.leafHash, stage: 'report', domains: ['CBRN', 'cyber'], sdCount: committed.sd.length, provenHow: 'cosignature' });
    expect(v.protocol).toMatchObject({ party: 'US', index: us.protocol });
    expect(Date.parse(v.commitment.provenBy)).toBeGreaterThanOrEqual(Date.parse(v.commitment.time) - 1000);
    await new Promise((r) => setTimeout(r, 1100)); // cosignature times are whole seconds: deploy strictly after
    const n = await call('US', 'POST', '/v1/evaluations/notices', { commitment: { party: 'US', index: us.commitment }, model: MODEL, deployedAt: new Date().toISOString(), note: 'General availability' });
    expect(n.statusCode, n.body).toBe(201);
    expect(n.json.entry).toMatchObject({ type: 'deployment.notice', precedence: 'PRIORITY', marking: 'TLP:CLEAR', refs: [{ party: 'US', index: us.commitment, hash: us.leafHash }] });
    us.notice = n.json.index;
  });

  it('reveals the red-line outcome to CN only, sealed', async () => {
    const picked = selectDisclosures(committed.disclosures, ['model', 'redLines.cbrn.outcome', 'report']);
    const r = await call('US', 'POST', '/v1/evaluations/reveals', { commitment: { party: 'US', index: us.commitment }, disclosures: picked.map((d) => d.encoded), to: ['CN'], marking: 'TLP:AMBER' });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json.entry).toMatchObject({ type: 'evaluation.reveal', to: ['CN'], marking: 'TLP:AMBER' });
    expect('sealed' in r.json.entry.body).toBe(true);
    us.reveal = r.json.index;
  });

  it('shows CN the revealed claims, matching the commitment, and the timeline', async () => {
    await waitFor('CN to hold the reveal', async () => (await stores.get('CN')!.received('US', us.reveal)) !== undefined);
    const v = (await call('CN', 'GET', `/v1/evaluations/US/${us.commitment}`)).json;
    expect(v.notices).toEqual([expect.objectContaining({ party: 'US', index: us.notice, model: MODEL, note: 'General availability' })]);
    expect(v.reveals).toHaveLength(1);
    const rv = v.reveals[0];
    expect(rv).toMatchObject({ party: 'US', index: us.reveal, to: ['CN'], marking: 'TLP:AMBER', addressed: true });
    expect(rv.error).toBeUndefined();
    expect(rv.claims).toEqual({ model: { name: 'Frontier-2', version: '2026-11' }, redLines: { cbrn: { outcome: 'below' } }, report: { sha256: 'a'.repeat(64) } });
    expect(rv.revealed.map((x: { path: string }) => x.path).sort()).toEqual(['model', 'model.name', 'model.version', 'redLines', 'redLines.cbrn', 'redLines.cbrn.outcome', 'report']);
    expect(v.commitment.provenBy).toBeDefined();
    expect(v.timeline).toMatchObject({ committedBefore: true, days: 0 });
    expect(v.timeline.marginSeconds).toBeGreaterThan(0);
    // The index lists it, newest first, with UK's.
    const list = (await call('CN', 'GET', '/v1/evaluations')).json.evaluations;
    expect(list.map((e: { commitment: { party: string; index: number } }) => `${e.commitment.party}/${e.commitment.index}`)).toEqual(expect.arrayContaining([`US/${us.commitment}`, `US/${us.protocol}`, `UK/${uk.commitment}`]));
  });

  it('shows UK, not addressed, the reveal from its mirror with addressed:false and no claims', async () => {
    await waitFor('UK to mirror the reveal', async () => (await stores.get('UK')!.mirrored('US', us.reveal, us.reveal + 1)).length === 1);
    const v = (await call('UK', 'GET', `/v1/evaluations/US/${us.commitment}`)).json;
    const rv = v.reveals.find((r: { index: number }) => r.index === us.reveal);
    expect(rv).toMatchObject({ party: 'US', addressed: false });
    expect(rv.claims).toBeUndefined();
    expect(rv.revealed).toBeUndefined();
    // Asking for it by name is refused: UK cannot open it.
    expectProblem(await call('UK', 'GET', `/v1/evaluations/US/${us.commitment}/evidence?reveal=US:${us.reveal}`), 403, 'EVAL_NOT_ADDRESSED');
    expectProblem(await call('UK', 'POST', `/v1/evaluations/US/${us.commitment}/dsse`, {}), 403, 'EVAL_NOT_ADDRESSED');
  });

  it('a public reveal (TLP:CLEAR, to all) opens for every party, auditors included', async () => {
    const d = selectDisclosures(committed.disclosures, ['developer', 'evaluator']);
    const r = await call('US', 'POST', '/v1/evaluations/reveals', { commitment: { party: 'US', index: us.commitment }, disclosures: d.map((x) => x.encoded), to: 'all', marking: 'TLP:CLEAR' });
    expect(r.statusCode, r.body).toBe(201);
    expect(r.json.entry).toMatchObject({ to: ['CN', 'UK'], marking: 'TLP:CLEAR' });
    await waitFor('UK to hold the public reveal', async () => (await stores.get('UK')!.received('US', r.json.index)) !== undefined);
    const v = (await call('UK', 'GET', `/v1/evaluations/US/${us.commitment}`, undefined, 'audrey')).json;
    expect(v.reveals.find((x: { index: number }) => x.index === r.json.index)).toMatchObject({ addressed: true, claims: { developer: 'US lab', evaluator: 'US AISI' } });
    // The sealed one stays closed to UK.
    expect(v.reveals.find((x: { index: number }) => x.index === us.reveal)).toMatchObject({ addressed: false });
  });

  it('shows CN\u2019s auditor the reveal without its sealed claims', async () => {
    const v = (await call('CN', 'GET', `/v1/evaluations/US/${us.commitment}`, undefined, 'audrey')).json;
    const sealed = v.reveals.find((x: { index: number }) => x.index === us.reveal);
    expect(sealed).toMatchObject({ addressed: true, error: 'EVAL_NOT_ADDRESSED' });
    expect(sealed.claims).toBeUndefined();
    expectProblem(await call('CN', 'POST', '/v1/evaluations/commitments', { stage: 'report', domains: ['CBRN'], sd: committed.sd }, 'audrey'), 403, 'FORBIDDEN');
  });
});

describe('reference rules on submission: typed 4xx problems', () => {
  const at = () => ({ party: 'US', index: us.commitment });

  it('a notice citing a commitment not held, or an entry that is not a commitment', async () => {
    expectProblem(await call('US', 'POST', '/v1/evaluations/notices', { commitment: { party: 'US', index: 100_000 }, model: MODEL, deployedAt: new Date().toISOString() }), 422, 'EVAL_COMMITMENT_MISSING');
    expectProblem(await call('US', 'POST', '/v1/evaluations/notices', { commitment: { party: 'US', index: us.notice }, model: MODEL, deployedAt: new Date().toISOString() }), 422, 'EVAL_COMMITMENT_MISSING');
    // A protocol commitment is not what a deployment cites.
    expectProblem(await call('US', 'POST', '/v1/evaluations/notices', { commitment: { party: 'US', index: us.protocol }, model: MODEL, deployedAt: new Date().toISOString() }), 422, 'EVAL_COMMITMENT_MISSING');
  });

  it('a notice that predates its commitment', async () => {
    expectProblem(await call('US', 'POST', '/v1/evaluations/notices', { commitment: at(), model: MODEL, deployedAt: '2020-01-01T00:00:00.000Z' }), 422, 'EVAL_NOTICE_BEFORE_COMMITMENT');
  });

  it('a reveal whose value does not match its digest', async () => {
    const outcome = committed.disclosures.find((d) => d.path === 'redLines.cbrn.outcome')!;
    const parents = committed.disclosures.filter((d) => d.path === 'redLines' || d.path === 'redLines.cbrn').map((d) => d.encoded);
    const forged = makeDisclosure('outcome', 'at-or-above', outcome.salt);
    expectProblem(await call('US', 'POST', '/v1/evaluations/reveals', { commitment: at(), disclosures: [...parents, forged.encoded], to: ['CN'], marking: 'TLP:AMBER' }), 422, 'EVAL_DISCLOSURE_MISMATCH');
    // A child without its parent: its digest is in no revealed _sd.
    expectProblem(await call('US', 'POST', '/v1/evaluations/reveals', { commitment: at(), disclosures: [outcome.encoded], to: 'all', marking: 'TLP:CLEAR' }), 422, 'EVAL_DISCLOSURE_MISMATCH');
  });

  it('salts reused across claims', async () => {
    const salt = committed.disclosures[0]!.salt;
    const a = makeDisclosure('alpha', 1, salt);
    const b = makeDisclosure('beta', 2, salt);
    const sd = [a.digest, b.digest, ...Array.from({ length: 6 }, (_, i) => makeDisclosure(`decoy${i}`, i).digest)].sort();
    const c = await call('US', 'POST', '/v1/evaluations/commitments', { stage: 'report', domains: ['safeguards'], sd });
    expect(c.statusCode, c.body).toBe(201);
    expectProblem(await call('US', 'POST', '/v1/evaluations/reveals', { commitment: { party: 'US', index: c.json.index }, disclosures: [a.encoded, b.encoded], to: 'all', marking: 'TLP:CLEAR' }), 422, 'EVAL_SALT_REUSED');
  });

  it('a reveal of another party\u2019s commitment, and a commitment following a report instead of a protocol', async () => {
    const d = committed.disclosures.find((x) => x.path === 'developer')!;
    await waitFor('CN to hold the commitment', async () => (await stores.get('CN')!.received('US', us.commitment)) !== undefined);
    expectProblem(await call('CN', 'POST', '/v1/evaluations/reveals', { commitment: at(), disclosures: [d.encoded], to: ['UK'], marking: 'TLP:AMBER' }), 422, 'EVAL_COMMITMENT_MISSING');
    expectProblem(await call('US', 'POST', '/v1/evaluations/commitments', { stage: 'report', domains: ['CBRN'], sd: committed.sd, protocol: at() }), 422, 'EVAL_COMMITMENT_MISSING');
  });

  it('a body out of shape is a 400 before any rule runs', async () => {
    expectProblem(await call('US', 'POST', '/v1/evaluations/commitments', { stage: 'report', domains: ['CBRN'], sd: [...committed.sd].reverse() }), 400, 'ENTRY_MALFORMED');
    expectProblem(await call('US', 'POST', '/v1/evaluations/reveals', { commitment: at(), disclosures: ['bm90LWEtZGlzY2xvc3VyZQ'], to: ['CN'], marking: 'TLP:AMBER' }), 400, 'ENTRY_MALFORMED');
    expectProblem(await call('US', 'POST', '/v1/evaluations/notices', { commitment: at(), model: { id: 'x', digest: 'md5:00' }, deployedAt: new Date().toISOString() }), 400, 'VALIDATION_FAILED');
  });
});

describe('a hostile peer\u2019s evaluation entries', () => {
  /** CN's receipts of UK/index, with the rejection each carries. */
  async function cnAnswers(index: number) {
    const refs = await stores.get('CN')!.referencing('UK', index);
    return refs.filter((e) => e.meta.type === 'receipt').map((e) => ({ index: e.index, rejection: receiptRejection((parseEntry(e.bytes).body as { clear: unknown }).clear) }));
  }

  it('keeps a reveal whose value does not match as evidence, answered by a signed rejection', async () => {
    await waitFor('CN to answer UK\u2019s reveal and notice', async () => (await cnAnswers(uk.badReveal)).length > 0 && (await cnAnswers(uk.earlyNotice)).length > 0);
    expect(await stores.get('CN')!.received('UK', uk.badReveal)).toBeDefined();
    const [r] = await cnAnswers(uk.badReveal);
    expect(r!.rejection).toMatchObject({ code: 'EVAL_DISCLOSURE_MISMATCH' });
    const rej = parseEntry((await stores.get('CN')!.entry(r!.index))!.bytes);
    expect(rej.from.party).toBe('CN');
    expect(rej.refs).toEqual([{ party: 'UK', index: uk.badReveal, hash: formatBase64((await stores.get('UK')!.entry(uk.badReveal))!.leafHash) }]);
    expect((await cnAnswers(uk.commitment))[0]!.rejection).toBeUndefined();
  });

  it('answers a notice that predates its commitment with a rejection naming the rule', async () => {
    expect((await cnAnswers(uk.earlyNotice))[0]!.rejection).toMatchObject({ code: 'EVAL_NOTICE_BEFORE_COMMITMENT' });
  });

  it('shows the bad entries in the view with their codes, no claims, no timeline', async () => {
    const v = (await call('CN', 'GET', `/v1/evaluations/UK/${uk.commitment}`)).json;
    expect(v.reveals).toEqual([expect.objectContaining({ index: uk.badReveal, addressed: true, error: 'EVAL_DISCLOSURE_MISMATCH' })]);
    expect(v.reveals[0].claims).toBeUndefined();
    expect(v.notices).toEqual([expect.objectContaining({ index: uk.earlyNotice, error: 'EVAL_NOTICE_BEFORE_COMMITMENT' })]);
    expect(v.timeline).toBeUndefined();
  });
});

/** DSSE v1 PAE (EVAL.md §6), written out here so the test does not trust the node's. */
const pae = (type: string, body: Uint8Array) => new Uint8Array([...encodeUtf8(`DSSEv1 ${encodeUtf8(type).length} ${type} ${body.length} `), ...body]);
/** Verifies a DSSE signature with `party`'s log key from the accord. */
function dsseVerifies(env: { payloadType: string; payload: string; signatures: { keyid: string; sig: string }[] }, party: string): boolean {
  const key = parseVerifierKey(parties.find((p) => p.id === party)!.party.logKey);
  const s = env.signatures.find((x) => x.keyid.startsWith(`${party}:`));
  return s !== undefined && getCrypto().ed25519Verifier(key.publicKey)(pae(env.payloadType, parseBase64(env.payload)), parseBase64(s.sig));
}

describe('evidence bundle and DSSE attestation', () => {
  it('CN\u2019s evidence bundle: JCS, the entries with inclusion proofs against early cosigned checkpoints, the opened disclosures', async () => {
    const r = await call('CN', 'GET', `/v1/evaluations/US/${us.commitment}/evidence?reveal=US:${us.reveal}`);
    expect(r.statusCode, r.body).toBe(200);
    expect(isCanonical(encodeUtf8(r.body))).toBe(true);
    const ev = r.json;
    expect(ev).toMatchObject({ type: 'parley/evaluation-evidence', v: 1, accord: nodes.get('CN')!.accord.id });
    expect(JSON.parse(ev.chain).versions).toHaveLength(1);
    for (const [name, index] of [['commitment', us.commitment], ['protocol', us.protocol], ['notice', us.notice], ['reveal', us.reveal]] as const) {
      const item = ev[name];
      expect(item.index, name).toBe(index);
      const bytes = parseBase64(item.entry);
      expect(formatBase64(bytes)).toBe(formatBase64((await stores.get('US')!.entry(index))!.bytes));
      const cp = parseCheckpoint(parseNote(item.checkpoint).text);
      expect(verifyInclusion(item.proof.map((h: string) => parseBase64(h)), cp.treeSize, cp.rootHash, index, leafHash(bytes)), name).toBe(true);
    }
    // The commitment's checkpoint carries CN's cosignature from before the deployment.
    const sigs = parseNote(ev.commitment.checkpoint).signatures.filter((x) => x.name === 'cn.parley.test/log');
    const ts = cosignatureTimestamp(new Uint8Array([...Array.from({ length: 4 }, () => 0), ...sigs[0]!.signature])).timestamp;
    const notice = parseEntry(parseBase64(ev.notice.entry));
    expect(ts * 1000).toBeLessThan(Date.parse((notice.body as { clear: { deployedAt: string } }).clear.deployedAt));
    const picked = selectDisclosures(committed.disclosures, ['model', 'redLines.cbrn.outcome', 'report']).map((d) => d.encoded);
    expect([...ev.disclosures].sort()).toEqual([...picked].sort());
    // Core's offline verifier, against the accord the verifier trusts (the genesis here): every check holds.
    const v = await verifyEvaluationEvidence(r.body, canonicalize(accord));
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    expect(v.ok).toBe(true);
    expect(v.timeline).toMatchObject({ committedBefore: true });
    expect(v.claims).toEqual({ model: { name: 'Frontier-2', version: '2026-11' }, redLines: { cbrn: { outcome: 'below' } }, report: { sha256: 'a'.repeat(64) } });
    // A recipient that forwards a changed value is caught.
    const outcome = committed.disclosures.find((d) => d.path === 'redLines.cbrn.outcome')!;
    const forged = { ...ev, disclosures: ev.disclosures.map((d: string) => (d === outcome.encoded ? makeDisclosure('outcome', 'at-or-above', outcome.salt).encoded : d)) };
    const bad = await verifyEvaluationEvidence(canonicalize(forged), canonicalize(accord));
    expect(bad.ok).toBe(false);
    expect(bad.checks.find((c) => !c.ok)).toBeDefined();
  });

  it('CN signs the in-toto statement of what it opened; US co-signs the same payload', async () => {
    const r = await call('CN', 'POST', `/v1/evaluations/US/${us.commitment}/dsse`, { reveal: `US:${us.reveal}` });
    expect(r.statusCode, r.body).toBe(200);
    const env = r.json;
    expect(env.payloadType).toBe('application/vnd.in-toto+json');
    expect(env.signatures).toHaveLength(1);
    expect(env.signatures[0].keyid).toMatch(/^CN:cn\.parley\.test\/log\+[0-9a-f]{8}$/);
    expect(dsseVerifies(env, 'CN')).toBe(true);
    const statement = JSON.parse(new TextDecoder().decode(parseBase64(env.payload)));
    expect(canonicalize(statement)).toBe(new TextDecoder().decode(parseBase64(env.payload)));
    expect(statement).toMatchObject({ _type: 'https://in-toto.io/Statement/v1', predicateType: 'https://parley.dev/evaluation/v1', subject: [{ name: MODEL.id, digest: { sha256: 'b'.repeat(64) } }] });
    expect(statement.predicate).toMatchObject({ stage: 'report', domains: ['CBRN', 'cyber'], claims: { redLines: { cbrn: { outcome: 'below' } } }, commitment: { party: 'US', index: us.commitment, leafHash: us.leafHash }, notice: { party: 'US', index: us.notice } });
    expect(statement.predicate.timeline).toMatchObject({ committedBefore: true });
    const keys = dsseKeysOf(nodes.get('CN')!.chain.versions);
    expect(verifyDsse(env, keys).signedBy).toEqual([env.signatures[0].keyid]);
    // A flipped byte in the payload no longer verifies.
    const bad = parseBase64(env.payload);
    bad[10] = bad[10]! ^ 1;
    expect(dsseVerifies({ ...env, payload: formatBase64(bad) }, 'CN')).toBe(false);
    // US, the committing party, signs CN's payload as given: one payload, two signatures.
    const co = await call('US', 'POST', `/v1/evaluations/US/${us.commitment}/dsse`, { payload: env.payload }); // US finds the reveal whose claims the statement carries
    expect(co.statusCode, co.body).toBe(200);
    expect(co.json.payload).toBe(env.payload);
    expect(dsseVerifies(co.json, 'US')).toBe(true);
    const merged = mergeDsse(env, co.json);
    expect(verifyDsse(merged, keys).signedBy.map((k) => k.split(':')[0]).sort()).toEqual(['CN', 'US']);
    // A statement whose claims differ from what US holds is refused.
    const forged = { ...statement, predicate: { ...statement.predicate, claims: { redLines: { cbrn: { outcome: 'at-or-above' } } } } };
    expectProblem(await call('US', 'POST', `/v1/evaluations/US/${us.commitment}/dsse`, { payload: formatBase64(encodeUtf8(canonicalize(forged))) }), 422, 'DSSE_INVALID');
    expectProblem(await call('CN', 'POST', `/v1/evaluations/US/${us.commitment}/dsse`, {}, 'audrey'), 403, 'FORBIDDEN');
  });
});

describe('GET /v1/evaluations/{party}/{index} errors', () => {
  it('publishes every evaluation route and its schemas in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${urls['CN']}/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>>; components: { schemas: Record<string, unknown> } };
    expect(Object.keys(doc.paths['/v1/evaluations/commitments']!)).toContain('post');
    expect(Object.keys(doc.paths['/v1/evaluations/notices']!)).toContain('post');
    expect(Object.keys(doc.paths['/v1/evaluations/reveals']!)).toContain('post');
    expect(Object.keys(doc.paths['/v1/evaluations']!)).toContain('get');
    expect(Object.keys(doc.paths['/v1/evaluations/{party}/{index}']!)).toContain('get');
    expect(Object.keys(doc.paths['/v1/evaluations/{party}/{index}/evidence']!)).toContain('get');
    expect(Object.keys(doc.paths['/v1/evaluations/{party}/{index}/dsse']!)).toContain('post');
    for (const id of ['EvaluationCommitmentRequest', 'DeploymentNoticeRequest', 'EvaluationRevealRequest', 'EvaluationView', 'EvaluationEvidence', 'DsseEnvelope']) expect(doc.components.schemas[id], id).toBeDefined();
  });

  it('404 for no commitment there, 400 for a bad index', async () => {
    expectProblem(await call('CN', 'GET', `/v1/evaluations/US/${us.notice}`), 404, 'NOT_FOUND');
    expectProblem(await call('CN', 'GET', '/v1/evaluations/US/01'), 400, 'VALIDATION_FAILED');
  });
});
