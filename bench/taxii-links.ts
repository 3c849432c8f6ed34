/**
 * How long a node takes to make its TAXII versions (taxii/source.ts
 * `taxiiVersions`, what the first /taxii2/…/objects/ page after an append
 * waits for) when it holds many incidents with links — the cost issue 14's
 * leftovers named: the links of each incident used to be found by paging
 * every received `incident.link` entry, once per incident.
 *
 *   node --import tsx bench/taxii-links.ts          (TAXII_INCIDENTS, default 2000)
 *
 * CN holds TAXII_INCIDENTS US reports (received) and half as many of its own,
 * one own link per own report (US:i ↔ CN:i) and a received US link for every
 * second one. Stores are SQLite in memory: the figure is the node's work,
 * not the disk's. Prints the cold rebuild's time (wall, and CPU: on a shared
 * machine the wall time is mostly waiting) and one incident's STIX export
 * time. Asserts nothing.
 */
import { formatBase64 } from '@parley/core';
import { openChannel, sampleReport } from '../packages/node/test/helpers/channel.js';
import { incidentStixBundle } from '../packages/node/src/stix.js';
import { taxiiVersions } from '../packages/node/src/taxii/source.js';
import type { Context } from '../packages/node/src/http/context.js';

const N = Number(process.env['TAXII_INCIDENTS'] ?? 2000);
const ch = await openChannel(['CN', 'US']);
const US = ch.node('US');
const CN = ch.node('CN');

async function many<T>(n: number, f: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < n; i += 100) out.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, (_, k) => f(i + k)))));
  return out;
}
const id = (p: string, i: number) => `${p}:2026-${String(i).padStart(5, '0')}`;
async function carry(from: string, to: string, indexes: readonly number[]) {
  for (let i = 0; i < indexes.length; i += 500) {
    const bytes = [];
    for (const x of indexes.slice(i, i + 500)) bytes.push((await ch.store(from).entry(x))!.bytes);
    await ch.node(to).ingest(bytes);
  }
}
const report = (node: typeof US, party: string, to: string, i: number) =>
  node.submit('alice', { type: 'incident.report', to: [to], precedence: 'ROUTINE', marking: 'TLP:GREEN', body: sampleReport({ incident: id(party, i), title: `Incident ${i}` }) as never });
const link = async (node: typeof US, to: string, a: { party: string; index: number }, b: { party: string; index: number }, incidents: string[]) => {
  const ref = async (r: { party: string; index: number }) => {
    const s = r.party === node.party ? (await ch.store(r.party).entry(r.index))! : (await ch.store(node.party).received(r.party, r.index))!;
    return { party: r.party, index: r.index, hash: formatBase64(s.leafHash) };
  };
  return node.submit('alice', { type: 'incident.link', to: [to], precedence: 'ROUTINE', marking: 'TLP:GREEN', refs: [await ref(a), await ref(b)], body: { incidents, relation: 'same-event' } as never });
};

let t = performance.now();
const usReports = await many(N, (i) => report(US, 'US', 'CN', i));
const cnReports = await many(N / 2, (i) => report(CN, 'CN', 'US', i));
await carry('US', 'CN', usReports.map((s) => s.index));
await carry('CN', 'US', cnReports.map((s) => s.index));
const pair = (i: number) => [{ party: 'US', index: usReports[i]!.index }, { party: 'CN', index: cnReports[i]!.index }] as const;
await many(N / 2, (i) => link(CN, 'US', ...pair(i), [id('CN', i), id('US', i)]));
const usLinks = await many(N / 4, (i) => link(US, 'CN', ...pair(2 * i), [id('CN', 2 * i), id('US', 2 * i)]));
await carry('US', 'CN', usLinks.map((s) => s.index));
console.log(`setup: ${N} + ${N / 2} reports, ${N / 2} own + ${N / 4} received links on CN in ${Math.round(performance.now() - t)} ms`);

const ctx = { node: CN, store: ch.store('CN') } as unknown as Context;
t = performance.now();
const cpu = process.cpuUsage();
const versions = await taxiiVersions(ctx, 'officer');
const rebuild = performance.now() - t;
const used = process.cpuUsage(cpu);
t = performance.now();
await incidentStixBundle(CN, ch.store('CN'), id('US', 0), 'officer');
const one = performance.now() - t;
console.log(`taxii rebuild (officer, ${versions.length} versions): ${Math.round(rebuild)} ms wall, ${Math.round((used.user + used.system) / 1000)} ms CPU; one incident's STIX export: ${one.toFixed(1)} ms`);
await ch.close();
