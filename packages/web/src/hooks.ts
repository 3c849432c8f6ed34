/**
 * `useApi(path)`: load JSON from the node, with loading/error state and a
 * `reload()` (call it from `useLiveReload` for live pages). A `null` path
 * loads nothing. Reloads keep showing the previous data until the new
 * answer arrives, so live refreshes do not flicker, and a reload never
 * aborts a read in flight (only a new path does): under a steady stream of
 * events the page still gets its answer.
 */
import { useCallback, useEffect, useRef, useState } from 'react';
import { api, ApiError } from './api.js';

export interface ApiState<T> {
  readonly data: T | undefined;
  readonly error: ApiError | undefined;
  readonly loading: boolean;
  /** Re-reads the path; settles when the answer is shown. */
  reload(): Promise<void>;
}

export function useApi<T>(path: string | null): ApiState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(path !== null);
  const seq = useRef(0);
  const load = useCallback(
    async (signal?: AbortSignal) => {
      if (path === null) return;
      const my = ++seq.current;
      setLoading(true);
      try {
        const d = await api<T>(path, signal !== undefined ? { signal } : {});
        if (my !== seq.current) return;
        setData(d);
        setError(undefined);
      } catch (e) {
        if (my !== seq.current || signal?.aborted === true) return;
        setError(e instanceof ApiError ? e : new ApiError({ status: 0, detail: String(e) }));
      } finally {
        if (my === seq.current) setLoading(false);
      }
    },
    [path],
  );
  useEffect(() => {
    if (path === null) return undefined;
    const ctl = new AbortController();
    void load(ctl.signal);
    return () => ctl.abort();
  }, [load, path]);
  const reload = useCallback(() => load(), [load]);
  return { data, error, loading, reload };
}
