/**
 * Which party this node is: read once from GET /v1/accord's signer list is
 * not enough (every party signs), so it comes from GET /healthz (`party`) —
 * which answers 503 with the same body while the node may not sign (its log
 * is rolled back or unconfirmed, issue 9): the party is read from either.
 */
import { useEffect, useState } from 'react';

async function healthParty(): Promise<string> {
  const res = await fetch('/healthz', { headers: { accept: 'application/json' } });
  if (res.status !== 200 && res.status !== 503) throw new Error(`GET /healthz: ${res.status}`);
  const h = (await res.json()) as { party?: unknown };
  if (typeof h.party !== 'string') throw new Error('GET /healthz: no party');
  return h.party;
}

let cached: string | undefined;
let pending: Promise<string | undefined> | undefined;

export function fetchParty(): Promise<string | undefined> {
  if (cached !== undefined) return Promise.resolve(cached);
  pending ??= healthParty()
    .then((p) => (cached = p))
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
