/**
 * Paging of the inbox and outbox: each listing (one per entry type shown) is
 * read newest first in pages of PAGE, following the API's `next` cursor
 * (`?before=<next>`). "Load more" asks for one page more of every listing that
 * has one; a live update re-reads every listing from the top for as many pages
 * as are shown, so new entries appear and older rows' states (receipts,
 * acknowledgements, deadlines) stay current. An entry that moves down a page
 * between two reads (one arrived meanwhile) is kept once.
 */

export const PAGE = 200;

export interface PageAnswer<T> {
  readonly items: readonly T[];
  readonly next?: number | undefined;
}

export interface Walked<T> {
  /** The items of `pages` pages (fewer when the listing ended), each once. */
  readonly items: T[];
  /** Keys of the items that came from pages after the first. */
  readonly older: Set<string>;
  /** The cursor of the page after these, when there may be one. */
  readonly next: number | undefined;
}

/** Reads up to `pages` pages of one listing from its top. */
export async function walk<T>(fetchPage: (before: number | undefined) => Promise<PageAnswer<T>>, pages: number, key: (x: T) => string): Promise<Walked<T>> {
  const items: T[] = [];
  const seen = new Set<string>();
  const older = new Set<string>();
  let next: number | undefined;
  for (let p = 0; p < Math.max(1, pages); p++) {
    const r = await fetchPage(p === 0 ? undefined : next);
    for (const x of r.items) {
      const k = key(x);
      if (seen.has(k)) continue;
      seen.add(k);
      items.push(x);
      if (p > 0) older.add(k);
    }
    next = r.next;
    if (next === undefined) break;
  }
  return { items, older, next };
}

/** Several listings (e.g. one per entry type), each walked `pages` deep; more when any has a next page. */
export async function walkAll<T>(
  listings: readonly ((before: number | undefined) => Promise<PageAnswer<T>>)[],
  pages: number,
  key: (x: T) => string,
): Promise<{ items: T[]; older: Set<string>; more: boolean }> {
  const walked = await Promise.all(listings.map((f) => walk(f, pages, key)));
  return {
    items: walked.flatMap((w) => w.items),
    older: new Set(walked.flatMap((w) => [...w.older])),
    more: walked.some((w) => w.next !== undefined),
  };
}
