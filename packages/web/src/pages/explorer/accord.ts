/**
 * The accord as the four channel pages use it: GET /v1/accord once per page,
 * parsed with core's strict parser (so party ids, names and log keys are the
 * accord's, checked), plus a name picker for a party id in the UI language,
 * and the keys of the verified accord chain (GET /v1/accord/chain, keys.ts)
 * when the node serves one and it verifies for this channel.
 */
import { type Accord, type AccordParty, parseAccord } from '@parley/core';
import { useEffect, useMemo, useState } from 'react';
import { useApi } from '../../hooks.js';
import { useLabel } from '../../i18n.js';
import { fetchChain } from './fetchInput.js';
import { type KeySource, keysOfChainFile } from './keys.js';

/** GET /v1/accord (the node adds `signatures` when it sends them). */
export interface AccordAnswer {
  readonly id: string;
  readonly accord: unknown;
  readonly signedBy: readonly string[];
  readonly signatures?: readonly { party: string; sig: string }[];
}

export interface AccordState {
  readonly answer: AccordAnswer | undefined;
  readonly accord: Accord | undefined;
  readonly parties: readonly AccordParty[];
  /** Keys from the verified accord chain (undefined: no chain served, or it did not verify — then the founding accord's keys are used). */
  readonly keys?: KeySource;
  /** "US · United States" style label for a party id (the id alone when unknown). */
  partyName(id: string): string;
}

export function useAccord(): AccordState & { error: ReturnType<typeof useApi>['error'] } {
  const { data, error } = useApi<AccordAnswer>('/v1/accord');
  const { l } = useLabel();
  const accord = useMemo(() => {
    if (data === undefined) return undefined;
    try {
      return parseAccord(data.accord);
    } catch {
      return undefined;
    }
  }, [data]);
  const [chain, setChain] = useState<unknown>(undefined);
  useEffect(() => {
    const ctl = new AbortController();
    fetchChain(ctl.signal).then(setChain, () => undefined);
    return () => ctl.abort();
  }, []);
  const keys = useMemo(() => {
    if (chain === undefined || data === undefined) return undefined;
    try {
      const k = keysOfChainFile(chain);
      return k.channel === data.id ? k : undefined;
    } catch {
      return undefined;
    }
  }, [chain, data]);
  const parties = accord?.parties ?? [];
  return {
    answer: data,
    accord,
    parties,
    ...(keys !== undefined ? { keys } : {}),
    error,
    partyName: (id: string) => {
      const p = parties.find((x) => x.id === id);
      return p === undefined ? id : `${id} · ${l(p.names)}`;
    },
  };
}
