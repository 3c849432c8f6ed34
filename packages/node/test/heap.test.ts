/**
 * Issue 14: leanHeap() (heap.ts, set by `parley serve`) keeps V8's heap near
 * what the process holds. The flag is set after V8 started, which node:v8
 * says may do nothing: this checks, on the Node it runs on, that it does — a
 * process making garbage like a node filing a big log, with and without it.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const churn = fileURLToPath(new URL('./helpers/heap-churn.ts', import.meta.url));
const peak = (mode: string) => Number(execFileSync(process.execPath, ['--import', 'tsx', churn, mode], { encoding: 'utf8' }).trim());

describe('leanHeap', () => {
  it('keeps the heap well below what V8 grows to by default for the same garbage', () => {
    const byDefault = peak('default');
    const lean = peak('lean');
    // ~190 MiB by default, ~95 MiB lean (live: ~20 pages of 5,000 objects).
    expect(lean).toBeLessThan(byDefault * 0.7);
  }, 300_000);
});
