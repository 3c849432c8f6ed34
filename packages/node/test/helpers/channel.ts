/**
 * A test channel: parties with fresh keys, an accord signed by all of them,
 * and a node per party on its own SQLite store (in memory or in a directory).
 */
import { join } from 'node:path';
import {
  type AccordParty,
  type SignedAccord,
  draftAccord,
  formatBase64,
  formatVerifierKey,
  generateSignerKey,
  hpkeGenerateKeyPair,
  signAccord,
  verifierKeyOf,
  verifyAccord,
} from '@parley/core/node';
import { SqliteStore } from '@parley/store';
import { type IncidentReport, type NodeKeys, ParleyNode } from '../../src/index.js';

export interface TestParty {
  readonly id: string;
  readonly keys: NodeKeys;
  readonly party: AccordParty;
}

export function makeParty(id: string): TestParty {
  const log = generateSignerKey(`${id.toLowerCase()}.parley.test/log`);
  const hpke = hpkeGenerateKeyPair();
  return {
    id,
    keys: { log, hpke },
    party: {
      id,
      names: { en: `${id} institute`, 'zh-CN': `${id} 研究所` },
      urls: [`http://127.0.0.1/${id.toLowerCase()}`],
      logKey: formatVerifierKey(verifierKeyOf(log)),
      hpkeKey: formatBase64(hpke.publicKey),
    },
  };
}

export function makeAccord(parties: readonly TestParty[], overrides: Partial<Parameters<typeof draftAccord>[0]> = {}): SignedAccord {
  let signed: SignedAccord = { accord: draftAccord({ name: 'test-channel', parties: parties.map((p) => p.party), ...overrides }), signatures: [] };
  for (const p of parties) signed = signAccord(signed, p.id, p.keys.log);
  verifyAccord(signed);
  return signed;
}

/** Opens one node per party; `dir` for file stores, else in memory. */
export async function openChannel(ids: readonly string[], dir?: string) {
  const parties = ids.map(makeParty);
  const accord = makeAccord(parties);
  const nodes = new Map<string, ParleyNode>();
  const stores = new Map<string, SqliteStore>();
  for (const p of parties) {
    const store = SqliteStore.open(dir ? join(dir, `${p.id}.sqlite`) : ':memory:');
    stores.set(p.id, store);
    nodes.set(p.id, await ParleyNode.open({ accord, party: p.id, keys: p.keys, store }));
  }
  return {
    parties,
    accord,
    node: (id: string) => nodes.get(id)!,
    store: (id: string) => stores.get(id)!,
    async close() {
      for (const n of nodes.values()) await n.close();
      for (const s of stores.values()) await s.close();
    },
  };
}

/** A well-formed incident report (WT, severity 5) for tests; override any field. */
export const sampleReport = (over: Partial<IncidentReport> = {}): IncidentReport => ({
  incident: 'US:2026-0007',
  kind: 'initial',
  title: 'Model weights exfiltrated',
  summary: 'Weights of a frontier model were copied to an unknown host.',
  category: 'WT',
  severity: 5,
  stage: 'incident',
  system: { name: 'Frontier-1' },
  actor: { type: 'unknown' },
  harm: { types: ['security'] },
  mitigations: ['Rotated credentials'],
  ...over,
});
