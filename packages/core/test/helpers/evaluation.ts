/**
 * A signed evaluation scenario for tests: the channel-v1 accord (US, CN), US's
 * log holding a commitment, a hotline message, a deployment notice and a
 * public reveal, its checkpoint cosigned by CN, and the evidence bundle of it
 * all — built with the real signers, tree, proofs and cosignatures.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  type Envelope,
  type EvaluationEvidence,
  type PathedDisclosure,
  commitClaims,
  evidenceEntryOf,
  formatBase64,
  proveInclusion,
  selectDisclosures,
  verifyAccord,
} from '../../src/index.js';
import { type ChannelVectorLike, type TestLog, buildLog, channelKeys, checkpointNote, cosignNote } from './bundle.js';
import { OWN_VECTORS_DIR } from './vectors.js';

export const channel = JSON.parse(readFileSync(join(OWN_VECTORS_DIR, 'parley/channel-v1.json'), 'utf8')) as ChannelVectorLike;
export const accord = verifyAccord(channel.accord);
export const keys = channelKeys(channel);
export const CHAIN_TEXT = JSON.stringify(channel.accord);

export const CLAIMS = {
  model: { name: 'Frontier-1', version: '2026-11' },
  developer: 'Example Lab',
  evaluator: 'Example Institute',
  redLines: { cbrn: { domain: 'CBRN', threshold: 'novice uplift', outcome: 'below' } },
  report: { sha256: 'cd'.repeat(32) },
};
export const MODEL = { id: 'frontier-1', digest: `sha256:${'ef'.repeat(32)}` };

export interface Scenario {
  readonly log: TestLog;
  readonly sd: string[];
  readonly disclosures: PathedDisclosure[];
  readonly shown: PathedDisclosure[];
  readonly checkpoint: string;
  readonly evidence: EvaluationEvidence;
}

/**
 * @param cosignedAt POSIX seconds of CN's cosignature (undefined: no cosignature).
 * @param deployedAt the notice's deployment time.
 */
export function scenario(o: { cosignedAt?: number; deployedAt?: string; noticeRef?: number; protocol?: boolean } = {}): Scenario {
  const { sd, disclosures } = commitClaims(CLAIMS);
  const shown = selectDisclosures(disclosures, ['redLines.cbrn.outcome', 'evaluator']);
  const base = { v: 1 as const, accord: accord.id, from: { party: 'US', officer: 'alice' }, to: ['CN'], seq: 0, precedence: 'ROUTINE' as const, marking: 'TLP:CLEAR' as const, refs: [] };
  // Entries are signed one after another: a reference needs the leaf hash of an entry signed before it.
  const envs: Envelope[] = [];
  const ref = (i: number) => ({ party: 'US', index: i, hash: formatBase64(buildLog('US', keys.US, envs).entries[i]!.leafHash) });
  const p = o.protocol ? envs.push({ ...base, time: '2026-10-01T00:00:00.000Z', type: 'evaluation.commitment', body: { clear: { stage: 'protocol', domains: ['CBRN'], sdAlg: 'sha-256', sd: commitClaims({ redLines: { cbrn: { domain: 'CBRN', threshold: 'novice uplift' } } }).sd } } }) - 1 : undefined;
  const c = envs.push({ ...base, time: '2026-11-01T00:00:00.000Z', type: 'evaluation.commitment', refs: p === undefined ? [] : [ref(p)], body: { clear: { stage: 'report', domains: ['CBRN'], sdAlg: 'sha-256', sd } } }) - 1;
  const m = envs.push({ ...base, time: '2026-11-02T00:00:00.000Z', type: 'hotline.message', body: { clear: { text: 'hello' } } }) - 1;
  const n = envs.push({ ...base, time: '2026-11-20T00:00:00.000Z', type: 'deployment.notice', precedence: 'PRIORITY', refs: [ref(o.noticeRef === undefined ? c : o.noticeRef === 1 ? m : o.noticeRef)], body: { clear: { model: MODEL, deployedAt: o.deployedAt ?? '2026-11-20T00:00:00Z' } } }) - 1;
  const r = envs.push({ ...base, time: '2026-11-21T00:00:00.000Z', type: 'evaluation.reveal', refs: [ref(c)], body: { clear: { disclosures: shown.map((d) => d.encoded) } } }) - 1;
  const log = buildLog('US', keys.US, envs);
  const plain = checkpointNote(log);
  const checkpoint = o.cosignedAt === undefined ? plain : checkpointNote(log, [cosignNote(plain, keys.CN, o.cosignedAt)]);
  const item = (i: number) => evidenceEntryOf(log.entries[i]!.bytes, i, proveInclusion(log.tree.size, i, log.tree), checkpoint);
  const evidence: EvaluationEvidence = {
    type: 'parley/evaluation-evidence',
    v: 1,
    accord: accord.id,
    chain: CHAIN_TEXT,
    commitment: item(c),
    notice: item(n),
    reveal: item(r),
    ...(p === undefined ? {} : { protocol: item(p) }),
    disclosures: shown.map((d) => d.encoded),
    created: '2026-11-22T00:00:00.000Z',
  };
  return { log, sd, disclosures, shown, checkpoint, evidence };
}

/** POSIX seconds of an ISO time. */
export const secs = (iso: string) => Math.floor(Date.parse(iso) / 1000);
