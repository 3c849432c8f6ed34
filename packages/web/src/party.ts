/**
 * Which party this node is: read once from GET /v1/accord's signer list is
 * not enough (every party signs), so it comes from GET /healthz (`party`).
 */
import { useEffect, useState } from 'react';
import { api } from './api.js';

let cached: string | undefined;
let pending: Promise<string | undefined> | undefined;

export function fetchParty(): Promise<string | undefined> {
  if (cached !== undefined) return Promise.resolve(cached);
  pending ??= api<{ party: string }>('/healthz', { anonymous: true })
    .then((h) => (cached = h.party))
    .catch(() => {
      pending = undefined;
      return undefined;
    });
  return pending;
}

export function useParty(): string | undefined {
  const [party, setParty] = useState(cached);
  useEffect(() => {
    let live = true;
    void fetchParty().then((p) => live && setParty(p));
    return () => {
      live = false;
    };
  }, []);
  return party;
}
