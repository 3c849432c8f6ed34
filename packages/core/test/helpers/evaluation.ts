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
export function scenario(o: { cosignedAt?: number; deployedAt?: string; noticeRef?: number } = {}): Scenario {
  const { sd, disclosures } = commitClaims(CLAIMS);
  const shown = selectDisclosures(disclosures, ['redLines.cbrn.outcome', 'evaluator']);
  const base = { v: 1 as const, accord: accord.id, from: { party: 'US', officer: 'alice' }, to: ['CN'], seq: 0, precedence: 'ROUTINE' as const, marking: 'TLP:CLEAR' as const, refs: [] };
  const commitment: Envelope = { ...base, time: '2026-11-01T00:00:00.000Z', type: 'evaluation.commitment', body: { clear: { stage: 'report', domains: ['CBRN'], sdAlg: 'sha-256', sd } } };
  const message: Envelope = { ...base, time: '2026-11-02T00:00:00.000Z', type: 'hotline.message', body: { clear: { text: 'hello' } } };
  // The commitment's leaf hash is only known once signed: build in two steps.
  const first = buildLog('US', keys.US, [commitment, message]);
  const ref = (i: number) => ({ party: 'US', index: i, hash: formatBase64(first.entries[i]!.leafHash) });
  const notice: Envelope = { ...base, time: '2026-11-20T00:00:00.000Z', type: 'deployment.notice', precedence: 'PRIORITY', refs: [ref(o.noticeRef ?? 0)], body: { clear: { model: MODEL, deployedAt: o.deployedAt ?? '2026-11-20T00:00:00Z' } } };
  const reveal: Envelope = { ...base, time: '2026-11-21T00:00:00.000Z', type: 'evaluation.reveal', refs: [ref(0)], body: { clear: { disclosures: shown.map((d) => d.encoded) } } };
  const log = buildLog('US', keys.US, [commitment, message, notice, reveal]);
  const plain = checkpointNote(log);
  const checkpoint = o.cosignedAt === undefined ? plain : checkpointNote(log, [cosignNote(plain, keys.CN, o.cosignedAt)]);
  const item = (i: number) => evidenceEntryOf(log.entries[i]!.bytes, i, proveInclusion(log.tree.size, i, log.tree), checkpoint);
  const evidence: EvaluationEvidence = {
    type: 'parley/evaluation-evidence',
    v: 1,
    accord: accord.id,
    chain: CHAIN_TEXT,
    commitment: item(0),
    notice: item(2),
    reveal: item(3),
    disclosures: shown.map((d) => d.encoded),
    created: '2026-11-22T00:00:00.000Z',
  };
  return { log, sd, disclosures, shown, checkpoint, evidence };
}

/** POSIX seconds of an ISO time. */
export const secs = (iso: string) => Math.floor(Date.parse(iso) / 1000);
