/**
 * `useApi(path)`: load JSON from the node, with loading/error state and a
 * `reload()` (call it from a `useEvents` handler for live pages). A `null`
 * path loads nothing. Reloads keep showing the previous data until the new
 * answer arrives, so live refreshes do not flicker.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from './api.js';

export interface ApiState<T> {
  readonly data: T | undefined;
  readonly error: ApiError | undefined;
  readonly loading: boolean;
  reload(): void;
}

export function useApi<T>(path: string | null): ApiState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(path !== null);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    if (path === null) return undefined;
    const my = ++seq.current;
    const ctl = new AbortController();
    setLoading(true);
    api<T>(path, { signal: ctl.signal })
      .then((d) => {
        if (my !== seq.current) return;
        setData(d);
        setError(undefined);
      })
      .catch((e: unknown) => {
        if (my !== seq.current || ctl.signal.aborted) return;
        setError(e instanceof ApiError ? e : new ApiError({ status: 0, detail: String(e) }));
      })
      .finally(() => {
        if (my === seq.current) setLoading(false);
      });
    return () => ctl.abort();
  }, [path, tick]);
  const reload = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, reload };
}
