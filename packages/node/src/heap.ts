/**
 * The V8 heap of a serving node (issue 14: a node holding and serving
 * 10,000,000 entries in ≤ 256 MiB).
 *
 * What the node keeps is small (a heap snapshot of a node serving a
 * 1,000,000-entry log: ~35 MiB live, nothing per entry). Its RSS was not:
 * V8 lets the old generation grow up to 4× the live heap between two full
 * collections when the machine has much memory (its heap limit is a share of
 * RAM), and a node filing or reading millions of rows makes garbage fast —
 * bench/rss.mjs at 1,000,000 entries, first start: RSS in a saw-tooth from
 * ~190 to ~290 MiB while it filed the log; the empty node itself 147 MiB.
 * `--optimize-for-size` makes V8 grow the heap by a small factor (and keep
 * smaller spaces): same run, ~110–190 MiB and a floor of ~112 MiB.
 *
 * Set once, early, by `parley serve --lean-heap` (before the worker threads
 * start, so they share it); not the default: it halves the durable-append
 * rate (docs/operations.md "Memory"). V8
 * reads this flag at each collection, which is why setting it after start
 * works (node:v8 setFlagsFromString warns that flags changed late may do
 * nothing; the bench measures that this one does).
 */
import { setFlagsFromString } from 'node:v8';

let set = false;

/** Asks V8 to favour a small heap over allocation speed, for the rest of the process (idempotent). */
export function leanHeap(): void {
  if (set) return;
  setFlagsFromString('--optimize-for-size');
  set = true;
}
