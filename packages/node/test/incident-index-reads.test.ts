/**
 * Issue 14 (a node holding 10,000,000 entries): the incident index files
 * only reports and the acks answering them, so its refresh reads only those
 * from the store (its type indexes) — not every entry of our log and every
 * received entry with their bytes. Before, the first GET /v1/incidents on a
 * node holding a million hotline messages read them all (bench/rss.mjs: the
 * receiver answered 6 reads in 20 s, its RSS rising by ~100 MiB while it
 * read). Real nodes on SQLite; the store's reads are counted, not replaced.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ListQuery } from '@parley/store';
import { incidentIndex } from '../src/incidents.js';
import { openChannel, sampleReport } from './helpers/channel.js';

let ch: Awaited<ReturnType<typeof openChannel>>;
/** Entries the CN store handed out (own entries and received ones). */
let rows = 0;
const MESSAGES = 40;

beforeAll(async () => {
  ch = await openChannel(['CN', 'US']);
  const bytes: Uint8Array[] = [];
  const send = async (id: string, type: 'hotline.message' | 'incident.report', body: unknown, to: string) => {
    const s = await ch.node(id).submit('alice', { type, to: [to], precedence: 'ROUTINE', marking: 'TLP:AMBER', body: body as never });
    return (await ch.store(id).entry(s.index))!.bytes;
  };
  bytes.push(await send('US', 'incident.report', sampleReport({ incident: 'US:2026-0001' }), 'CN'));
  for (let i = 0; i < MESSAGES; i++) bytes.push(await send('US', 'hotline.message', { text: `message ${i}` }, 'CN'));
  bytes.push(await send('US', 'incident.report', sampleReport({ incident: 'US:2026-0002', kind: 'initial' }), 'CN'));
  await ch.node('CN').ingest(bytes);
  // CN's own log: messages, a report of its own, and an ack of US's first report.
  for (let i = 0; i < MESSAGES; i++) await send('CN', 'hotline.message', { text: `reply ${i}` }, 'US');
  await send('CN', 'incident.report', sampleReport({ incident: 'CN:2026-0001' }), 'US');
  await ch.node('CN').acknowledge('alice', 'US', 0);
  const store = ch.store('CN');
  const count =
    <A extends unknown[], R extends readonly unknown[]>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      const page = await f(...a);
      rows += page.length;
      return page;
    };
  store.inbox = count(store.inbox.bind(store)) as (q: ListQuery) => ReturnType<typeof store.inbox>;
  store.outbox = count(store.outbox.bind(store)) as (q: ListQuery) => ReturnType<typeof store.outbox>;
  store.entries = count(store.entries.bind(store)) as typeof store.entries;
}, 60_000);
afterAll(async () => ch?.close());

describe('the incident index reads only reports and acks', () => {
  it('files every report and ack without reading the other entries', async () => {
    const index = incidentIndex(ch.node('CN'), ch.store('CN'));
    rows = 0;
    await index.refresh();
    // 3 reports and 1 ack, and the newest received row (the "anything new?" probe): not 2 × MESSAGES entries.
    expect(rows).toBeLessThanOrEqual(6);
    expect([...index.ids()].sort()).toEqual(['CN:2026-0001', 'US:2026-0001', 'US:2026-0002']);
    expect(index.timeline('US:2026-0001')).toHaveLength(2); // the report and CN's ack
    // Nothing new: one probe row; a new report is filed by the next refresh, once (a second refresh adds nothing).
    rows = 0;
    await index.refresh();
    expect(rows).toBeLessThanOrEqual(1);
    const s = await ch.node('US').submit('alice', { type: 'incident.report', to: ['CN'], precedence: 'ROUTINE', marking: 'TLP:AMBER', body: sampleReport({ incident: 'US:2026-0001', kind: 'update' }) as never });
    await ch.node('CN').ingest([(await ch.store('US').entry(s.index))!.bytes]);
    await index.refresh();
    await index.refresh();
    expect(index.timeline('US:2026-0001')).toHaveLength(3);
  });
});
