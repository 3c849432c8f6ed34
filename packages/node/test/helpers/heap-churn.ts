/**
 * A process that makes garbage the way a node filing a big log does (pages of
 * objects kept for a few turns, then dropped), with `lean` after leanHeap():
 * prints the largest V8 heap (MiB) it reached. Run by heap.test.ts.
 */
import { leanHeap } from '../../src/heap.js';

if (process.argv[2] === 'lean') leanHeap();
const live: unknown[] = [];
let max = 0;
for (let round = 0; round < 200; round++) {
  live.push(Array.from({ length: 5000 }, (_, i) => ({ i, s: `${'x'.repeat(40)}${round}:${i}`, a: [i, i + 1] })));
  if (live.length > 20) live.shift();
  await new Promise((r) => setImmediate(r));
  max = Math.max(max, process.memoryUsage().heapTotal);
}
process.stdout.write(`${(max / 2 ** 20).toFixed(0)}\n`);
