/**
 * A test wrapper around a REAL LogStore that fails chosen calls (STYLE.md
 * §12, after sunlight's `testlog_test.go`): `before` rejects without calling
 * the store ("failed and not persisted"), `after` lets the call complete —
 * the transaction commits — and then rejects ("failed but persisted", the
 * answer lost on the way back).
 */
import { StoreError } from '@parley/core';
import type { LogStore } from '../src/types.js';

export interface Fault {
  readonly method: keyof LogStore;
  /** 1-based call number of `method`, counted from when the fault was armed. */
  readonly call: number;
  readonly when: 'before' | 'after';
}

export interface FaultyStore {
  readonly store: LogStore;
  /** Arms faults; call numbers count from now. */
  arm(faults: readonly Fault[]): void;
  /** Faults that fired so far. */
  readonly fired: Fault[];
}

export function faultyStore(real: LogStore): FaultyStore {
  let faults: readonly Fault[] = [];
  const counts = new Map<string, number>();
  const fired: Fault[] = [];
  const injected = (f: Fault) => new StoreError('STORE_UNAVAILABLE', `injected fault: ${f.method} call ${f.call} ${f.when}`);
  const store = new Proxy(real, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv) as unknown;
      if (typeof v !== 'function') return v;
      const method = prop as keyof LogStore;
      return async (...args: unknown[]) => {
        const c = (counts.get(method) ?? 0) + 1;
        counts.set(method, c);
        const f = faults.find((x) => x.method === method && x.call === c);
        if (f?.when === 'before') {
          fired.push(f);
          throw injected(f);
        }
        const result = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
        if (f?.when === 'after') {
          fired.push(f);
          throw injected(f);
        }
        return result;
      };
    },
  });
  return {
    store,
    fired,
    arm(fs) {
      faults = fs;
      counts.clear();
    },
  };
}
