/**
 * Inbox/outbox paging (src/pages/inbox/paging.ts): pages follow the API's
 * `next` cursor, a live re-read walks as many pages as are shown, an entry
 * pushed down a page by a new arrival is kept once, and "more" is offered
 * while any listing has a next page.
 */
import { describe, expect, it } from 'vitest';
import { type PageAnswer, walk, walkAll } from '../src/pages/inbox/paging.js';

/** A listing newest first (ids high → low), `size` a page, `next` the last id of a full page (like the node). */
function listing(ids: () => number[], size: number) {
  const calls: (number | undefined)[] = [];
  const f = async (before: number | undefined): Promise<PageAnswer<number>> => {
    calls.push(before);
    const all = ids().filter((i) => before === undefined || i < before);
    const items = all.slice(0, size);
    return { items, ...(items.length === size ? { next: items[items.length - 1] } : {}) };
  };
  return { f, calls };
}

const key = (x: number) => String(x);

describe('inbox and outbox paging', () => {
  it('reads one page, then as many as asked, following next', async () => {
    const ids = Array.from({ length: 7 }, (_, i) => 7 - i); // 7..1
    const l = listing(() => ids, 3);
    const one = await walk(l.f, 1, key);
    expect(one.items).toEqual([7, 6, 5]);
    expect(one.next).toBe(5);
    expect([...one.older]).toEqual([]);
    l.calls.length = 0;
    const two = await walk(l.f, 2, key);
    expect(two.items).toEqual([7, 6, 5, 4, 3, 2]);
    expect(l.calls).toEqual([undefined, 5]);
    expect([...two.older]).toEqual(['4', '3', '2']);
    const all = await walk(l.f, 5, key);
    expect(all.items).toEqual([7, 6, 5, 4, 3, 2, 1]);
    expect(all.next).toBeUndefined(); // the last page was short: no more
  });

  it('a live re-read after an arrival shows the new entry and keeps every shown one once', async () => {
    const ids = [6, 5, 4, 3, 2, 1];
    const l = listing(() => ids, 3);
    expect((await walk(l.f, 2, key)).items).toEqual([6, 5, 4, 3, 2, 1]);
    ids.unshift(7); // arrives: 4 moves to the second page
    const again = await walk(l.f, 2, key);
    expect(again.items).toEqual([7, 6, 5, 4, 3, 2]);
    expect(again.older.has('7')).toBe(false);
  });

  it('an entry read twice across pages (moved between two reads) is kept once', async () => {
    let n = 0;
    const f = async (before: number | undefined): Promise<PageAnswer<number>> => (before === undefined ? { items: [5, 4, 3], next: 3 } : (n++, { items: [3, 2] }));
    const w = await walk(f, 2, key);
    expect(w.items).toEqual([5, 4, 3, 2]);
    expect(n).toBe(1);
  });

  it('several listings (one per type): more while any has a next page', async () => {
    const a = listing(() => [9, 8, 7, 6], 2);
    const b = listing(() => [5], 2);
    const first = await walkAll([a.f, b.f], 1, key);
    expect(first.items).toEqual([9, 8, 5]);
    expect(first.more).toBe(true);
    const second = await walkAll([a.f, b.f], 2, key);
    expect(second.items).toEqual([9, 8, 7, 6, 5]);
    expect(second.more).toBe(true); // a's second page was full: the node cannot know it was the last
    const third = await walkAll([a.f, b.f], 3, key);
    expect(third.items).toEqual([9, 8, 7, 6, 5]);
    expect(third.more).toBe(false);
    expect(b.calls.every((c) => c === undefined)).toBe(true); // a short listing is not asked again
  });
});
