/**
 * Issue 14 (a node holding 10,000,000 entries): GET /v1/inbox?order=urgency
 * streams the received deliveries from the store and keeps only the `limit`
 * most urgent — before, it kept every delivery awaiting our acknowledgement
 * (one status object each: millions on a big inbox) and sorted them all.
 * Real nodes on SQLite; the tracker's statuses are watched (WeakRefs after a
 * full GC), not replaced.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deadlineTracker } from '../src/deadlines/tracker.js';
import { MACHINE_TYPES, urgentInbox } from '../src/http/inbox-order.js';
import type { DeliveryStatus } from '../src/deadlines/state.js';
import { openChannel } from './helpers/channel.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let ch: Awaited<ReturnType<typeof openChannel>>;
const MESSAGES = 60;

beforeAll(async () => {
  ch = await openChannel(['CN', 'US']);
  const bytes: Uint8Array[] = [];
  for (let i = 0; i < MESSAGES; i++) {
    // The last one FLASH: the most urgent though the newest.
    const s = await ch.node('US').submit('alice', { type: 'hotline.message', to: ['CN'], precedence: i === MESSAGES - 1 ? 'FLASH' : 'ROUTINE', marking: 'TLP:AMBER', body: { text: `message ${i}` } as never });
    bytes.push((await ch.store('US').entry(s.index))!.bytes);
  }
  await ch.node('CN').ingest(bytes);
}, 60_000);
afterAll(async () => ch?.close());

describe('the urgent inbox', () => {
  it('keeps only `limit` statuses while it reads every awaiting delivery', async () => {
    const tracker = deadlineTracker(ch.node('CN'), ch.store('CN'));
    const statuses = tracker.statuses.bind(tracker);
    const seen: WeakRef<DeliveryStatus>[] = [];
    let alive = -1;
    tracker.statuses = async function* (now, q) {
      for await (const s of statuses(now, q)) {
        seen.push(new WeakRef(s));
        yield s;
      }
      // Out of this job (WeakRefs made in it are kept to its end), a full GC: what urgentInbox still holds lives.
      await new Promise((r) => setImmediate(r));
      gc();
      alive = seen.filter((w) => w.deref() !== undefined).length;
    };
    try {
      const items = await urgentInbox({ node: ch.node('CN'), store: ch.store('CN') }, { limit: 5, excludeTypes: MACHINE_TYPES });
      expect(seen).toHaveLength(MESSAGES);
      expect(alive).toBeGreaterThanOrEqual(0);
      expect(alive).toBeLessThanOrEqual(5);
      // Behaviour unchanged: the FLASH first, then the oldest ROUTINE ones.
      expect(items.map((r) => r.index)).toEqual([MESSAGES - 1, 0, 1, 2, 3]);
    } finally {
      tracker.statuses = statuses;
    }
  });
});
