/**
 * What a TAXII poller costs the node (taxii/source.ts, incidents.ts): every
 * page of a collection is cut from every version of every incident, so
 *   - the versions are made once per role and kept until the node appends or
 *     ingests (then made again: a new entry is served at once), and
 *   - the incident index's refresh, which every incident view and export runs,
 *     reads one received row — not a page of entries with their bytes — when
 *     nothing was received since.
 * Before, one page of a 300-incident collection took ~10 s (each page made
 * everything again, and each incident's refresh read 500 received entries).
 * Real nodes on SQLite; the store's reads are counted, not replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListQuery } from '@parley/store';
import { incidentIndex } from '../src/incidents.js';
import { taxiiVersions } from '../src/taxii/source.js';
import type { Context } from '../src/http/context.js';
import { openChannel, sampleReport } from './helpers/channel.js';

let ch: Awaited<ReturnType<typeof openChannel>>;
let rows = 0;

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
