/**
 * The zod schemas of node/src/bodies.ts document the bodies (OpenAPI, route
 * validation); core's registry (core entry/bodies.ts) enforces them on every
 * submission and every received body. This keeps the two in agreement: for
 * good bodies of every type and for each one mutated member by member (removed,
 * wrong type, out of range, unknown member added), both accept or both refuse.
 */
import { describe, expect, it } from 'vitest';
import { ENTRY_TYPES, type EntryType, disclosureDigest, makeDisclosure } from '@parley/core';
import { BODY_SCHEMAS, bodyProblem } from '../src/index.js';
import { makeAccord, makeParty, sampleReport } from './helpers/channel.js';

const ACCORD = makeAccord([makeParty('CN'), makeParty('US')]).accord as unknown as Record<string, unknown>;
const SIG = 'A'.repeat(86) + '==';
const DIGEST = 'ab'.repeat(32);
const DISCLOSURE = makeDisclosure('evaluator', 'UK AISI').encoded;
const [SD_A, SD_B] = [DISCLOSURE, makeDisclosure('x', 1).encoded].map(disclosureDigest).sort() as [string, string];

const GOOD: Record<EntryType, Record<string, unknown>[]> = {
  'hotline.message': [{ text: 'hello' }, { text: '你好', lang: 'zh-CN' }],
  'incident.report': [
    sampleReport() as unknown as Record<string, unknown>,
    { ...sampleReport(), techniques: ['AML.T0051', 'AML.T0054.000'], cves: ['CVE-2024-12345'], potential: true, source: { name: 'AIID', id: '23', url: 'https://incidentdatabase.ai/cite/23', license: 'CC BY-SA 4.0' } },
    { ...sampleReport(), occurredAt: '2026-01-02T03:04:05Z', detectedAt: '2026-01-02T03:04:05.123456Z', lang: 'en', system: { name: 'X', developer: 'D', version: '1' }, actor: { type: 'insider', description: 'd' }, harm: { types: [], description: 'd' } },
  ],
  ack: [{}, { reply: 'seen', lang: 'en' }],
  receipt: [{ receivedAt: '2026-01-02T03:04:05.678Z' }, { receivedAt: '2026-01-02T03:04:05.678Z', status: 'rejected', code: 'ENTRY_MALFORMED', reason: 'body.title: missing' }],
  heartbeat: [{ treeSize: 0 }, { treeSize: 2 ** 53 - 1 }],
  'accord.amendment': [
    { accord: ACCORD, signatures: [] },
    { accord: ACCORD, signatures: [{ party: 'CN', sig: SIG }, { party: 'US', sig: SIG }, { party: 'US', sig: SIG, prior: true }], rationale: 'why', recovery: { party: 'CN', suspectFrom: 3 } },
  ],
  'accord.approval': [
    { version: 2, digest: DIGEST, signatures: [{ party: 'US', sig: SIG, prior: true }] },
    { version: 3, digest: DIGEST, signatures: [{ party: 'US', sig: SIG }, { party: 'US', sig: SIG, prior: true }] },
  ],
  'accord.activation': [{ version: 2, digest: DIGEST }],
  'evaluation.commitment': [
    { stage: 'report', domains: ['CBRN'], sdAlg: 'sha-256', sd: [SD_A] },
    { stage: 'protocol', domains: ['CBRN', 'cyber'], sdAlg: 'sha-256', sd: [SD_A, SD_B] },
  ],
  'deployment.notice': [
    { model: { id: 'frontier-1', digest: `sha256:${DIGEST}` }, deployedAt: '2026-01-02T03:04:05Z' },
    { model: { id: 'frontier-1', digest: `sha256:${DIGEST}` }, deployedAt: '2026-01-02T03:04:05.123Z', note: 'general availability' },
  ],
  'evaluation.reveal': [{ disclosures: [DISCLOSURE] }, { disclosures: [DISCLOSURE, makeDisclosure('b', { x: [1] }).encoded] }],
  retraction: [{ action: 'retract', reason: 'sent in error' }, { action: 'supersede', reason: 'corrected', lang: 'en' }],
  'incident.link': [{ incidents: ['CN:2026-0003', 'US:2026-0007'], relation: 'same-event' }, { incidents: ['CN:2026-0003', 'EU:2026-0001', 'US:2026-0007'], relation: 'related', note: 'n', lang: 'zh-CN' }],
};
const VALUES: unknown[] = [['AML.T0051'], ['AML.T51'], ['AML.T0054', 'AML.T0051'], ['CVE-2024-12345'], ['CVE-24-1'], 'retract', 'supersede', 'delete', 'same-event', ['CN:2026-0003', 'US:2026-0007'], ['US:2026-0007', 'CN:2026-0003'], { name: 'AIID', id: '23', license: 'CC BY-SA 4.0' }, { name: 'AIID', id: '23', license: 'L', url: 'http://x' }, false, undefined, null, true, 0, -1, 1, 2, 8, 1.5, 2 ** 53, '', 'x', 'X'.repeat(301), 'en', 'US:2026-0001', 'CY', 'initial', 'incident', 'unknown', '2026-01-02T03:04:05Z', '2026-02-30T03:04:05Z', '2026-01-02T03:04Z', 'rejected', [], ['security'], ['nope'], {}, { name: 'n' }, { type: 'user' }, { types: [] },
  DIGEST, DIGEST.toUpperCase(), { ...ACCORD, name: 'Bad Name' }, { ...ACCORD, extra: 1 }, { party: 'CN', suspectFrom: 0 }, { party: 'cn', suspectFrom: 0 }, { party: 'CN', suspectFrom: -1 },
  [{ party: 'US', sig: SIG }], [{ party: 'US', sig: SIG, prior: false }], [{ party: 'US', sig: 'AAAA' }], [{ party: 'US', sig: SIG }, { party: 'CN', sig: SIG }], [{ party: 'US', sig: SIG, prior: true }, { party: 'US', sig: SIG }], [{ party: 'CN', sig: SIG }, { party: 'US', sig: SIG, prior: true }],
  'report', 'protocol', 'sha-256', 'sha-512', ['CBRN', 'CBRN'], ['x'.repeat(41)], [SD_A], [SD_B, SD_A], [SD_A, SD_A], [SD_A.slice(1)], `sha256:${DIGEST}`, `sha256:${DIGEST.toUpperCase()}`, { id: 'm', digest: `sha256:${DIGEST}` }, { id: '', digest: `sha256:${DIGEST}` },
  [DISCLOSURE], ['WyJhIiwiYiIsMV0'], [DISCLOSURE + '='], [SD_A]];

function agree(type: EntryType, body: unknown): void {
  const zodOk = BODY_SCHEMAS[type].safeParse(body).success;
  const coreOk = bodyProblem(type, body) === undefined;
  expect({ type, body, coreOk }).toEqual({ type, body, coreOk: zodOk });
}

describe('body checks: core registry and OpenAPI (zod) schemas agree', () => {
  it('on good bodies and on every member mutated', () => {
    for (const type of ENTRY_TYPES) {
      for (const good of GOOD[type]) {
        agree(type, good);
        agree(type, { ...good, unknown: 1 });
        for (const k of Object.keys(good)) {
          for (const v of VALUES) {
            const body: Record<string, unknown> = { ...good };
            if (v === undefined) delete body[k];
            else body[k] = v;
            agree(type, body);
          }
        }
      }
    }
  });
});
