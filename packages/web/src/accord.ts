/**
 * `useAccord()`: the accord this node runs on (GET /v1/accord), fetched once
 * per page load and shared. Typed with core's `Accord`.
 */
import type { Accord } from '@parley/core';
import { useEffect, useState } from 'react';
import { api, ApiError } from './api.js';
import type { AccordResponse } from './types.js';

export interface AccordInfo {
  readonly id: string;
  readonly accord: Accord;
  readonly signedBy: readonly string[];
}

let cached: AccordInfo | undefined;
let pending: Promise<AccordInfo> | undefined;

export function fetchAccord(): Promise<AccordInfo> {
  if (cached !== undefined) return Promise.resolve(cached);
  pending ??= api<AccordResponse>('/v1/accord')
    .then((r) => (cached = { id: r.id, accord: r.accord as unknown as Accord, signedBy: r.signedBy }))
    .finally(() => {
      pending = undefined;
    });
  return pending;
}

export function useAccord(): { accord: AccordInfo | undefined; error: ApiError | undefined } {
  const [accord, setAccord] = useState(cached);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  useEffect(() => {
    let live = true;
    fetchAccord()
      .then((a) => live && setAccord(a))
      .catch((e: unknown) => live && setError(e instanceof ApiError ? e : new ApiError({ status: 0, detail: String(e) })));
    return () => {
      live = false;
    };
  }, []);
  return { accord, error };
}
