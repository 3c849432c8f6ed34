/**
 * What a TAXII poller costs the node (taxii/source.ts, incidents.ts): every
 * page of a collection is cut from every version of every incident, so
 *   - the versions are made once per role and kept until the node appends or
 *     ingests (then made again: a new entry is served at once), and
 *   - the incident index's refresh, which every incident view and export runs,
 *     reads one received row — not a page of entries with their bytes — when
 *     nothing was received since.
 *   - the links are read once per rebuild, not once per incident (held.ts
 *     `linkIndex`).
 * Before, one page of a 300-incident collection took ~10 s (each page made
 * everything again, and each incident's refresh read 500 received entries);
 * a 3,000-incident node with 1,500 links took 31 s of CPU to rebuild, 7 s
 * after the link index (bench/taxii-links.ts).
 * Real nodes on SQLite; the store's reads are counted, not replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBase64 } from '@parley/core';
import type { ListQuery } from '@parley/store';
import { incidentIndex } from '../src/incidents.js';
import { taxiiVersions } from '../src/taxii/source.js';
import type { Context } from '../src/http/context.js';
import { openChannel, sampleReport } from './helpers/channel.js';

let ch: Awaited<ReturnType<typeof openChannel>>;
let rows = 0;
/** Rows the store handed out when asked for links: listings of type `incident.link`. */
let linkRows = 0;

async function report(i: number): Promise<Uint8Array> {
  const s = await ch.node('US').submit('alice', { type: 'incident.report', to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:AMBER', body: sampleReport({ incident: `US:2026-${String(i).padStart(4, '0')}` }) as never });
  return (await ch.store('US').entry(s.index))!.bytes;
}

beforeAll(async () => {
  ch = await openChannel(['CN', 'US']);
  const bytes: Uint8Array[] = [];
  for (let i = 0; i < 30; i++) bytes.push(await report(i));
  await ch.node('CN').ingest(bytes);
  const store = ch.store('CN');
  const inbox = store.inbox.bind(store);
  store.inbox = async (q: ListQuery) => {
    const page = await inbox(q);
    rows += page.length;
    if (q.type === 'incident.link') linkRows += page.length;
    return page;
  };
  const outbox = store.outbox.bind(store);
  store.outbox = async (q: ListQuery) => {
    const page = await outbox(q);
    if (q.type === 'incident.link') linkRows += page.length;
    return page;
  };
});
afterAll(async () => ch?.close());

describe('the cost of serving TAXII pages', () => {
  it('refreshes the incident index with one row read when nothing was received', async () => {
    const index = incidentIndex(ch.node('CN'), ch.store('CN'));
    await index.refresh();
    rows = 0;
    await index.refresh();
    expect(rows).toBeLessThanOrEqual(1);
  });

  it('makes the versions once per role, and again after an ingest', async () => {
    const ctx = { node: ch.node('CN'), store: ch.store('CN') } as unknown as Context;
    const first = await taxiiVersions(ctx, 'officer');
    expect(new Set(first.filter((v) => v.object.type === 'incident').map((v) => v.object.id)).size).toBe(30);
    rows = 0;
    const again = await taxiiVersions(ctx, 'officer');
    expect(again).toBe(first);
    expect(rows).toBe(0);
    // An auditor's are its own (no AMBER body readable: nothing).
    expect((await taxiiVersions(ctx, 'auditor')).length).toBe(0);
    await ch.node('CN').ingest([await report(30)]);
    const after = await taxiiVersions(ctx, 'officer');
    expect(after).not.toBe(first);
    expect(new Set(after.filter((v) => v.object.type === 'incident').map((v) => v.object.id)).size).toBe(31);
  });
});

describe('links', () => {
  it('reads each link once per rebuild, not once per incident, and still serves every link', async () => {
    const ctx = { node: ch.node('CN'), store: ch.store('CN') } as unknown as Context;
    const ref = async (party: string, index: number) => ({ party, index, hash: formatBase64((await ch.store(party).entry(index))!.leafHash) });
    const us = ch.store('US');
    const reportAt = async (incident: string) => (await us.outbox({ type: 'incident.report', incident, limit: 1 }))[0]!.index;
    // US links five pairs of its incidents (received by CN); CN's officer links three more (its own log).
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 10; i += 2) {
      const [a, b] = [`US:2026-${String(i).padStart(4, '0')}`, `US:2026-${String(i + 1).padStart(4, '0')}`];
      const s = await ch.node('US').submit('alice', { type: 'incident.link', to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:AMBER', refs: [await ref('US', await reportAt(a)), await ref('US', await reportAt(b))], body: { incidents: [a, b], relation: 'related' } });
      sent.push((await us.entry(s.index))!.bytes);
    }
    await ch.node('CN').ingest(sent);
    for (let i = 10; i < 16; i += 2) {
      const [a, b] = [`US:2026-${String(i).padStart(4, '0')}`, `US:2026-${String(i + 1).padStart(4, '0')}`];
      const cite = async (id: string) => ({ party: 'US', index: await reportAt(id), hash: formatBase64((await ch.store('CN').received('US', await reportAt(id)))!.leafHash) });
      await ch.node('CN').submit('alice', { type: 'incident.link', to: ['US'], precedence: 'ROUTINE', marking: 'TLP:AMBER', refs: [await cite(a), await cite(b)], body: { incidents: [a, b], relation: 'same-event' } });
    }
    linkRows = 0;
    const versions = await taxiiVersions(ctx, 'officer');
    // 8 links held (5 received, 3 own): listed once each. Per incident it was the 5 received ones 31 times (155).
    expect(linkRows).toBe(8);
    // Each link relates its two incidents both ways: 16 incident-to-incident relationships.
    const o = (v: (typeof versions)[number]) => v.object as unknown as Record<string, unknown>;
    const related = versions.filter((v) => o(v)['type'] === 'relationship' && String(o(v)['source_ref']).startsWith('incident--') && String(o(v)['target_ref']).startsWith('incident--'));
    expect(new Set(related.map((v) => v.object.id)).size).toBe(16);
  });
});
