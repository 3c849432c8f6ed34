/**
 * A party's latest checkpoint as the link-health page shows it, checked in
 * the browser with core: the log's signature under a key valid for the
 * party at that tree size (explorer/keys.ts: the verified accord chain's
 * checkpointKeys; the founding accord's key on a node without a chain), and
 * which other parties' witnesses cosigned it and when (C2SP
 * tlog-cosignature; each party's current witness key, witnessKeys — by
 * default its log key as a cosignature/v1 key, node/src/witness.ts).
 */
import { type Accord, type VerifierKey, VerifierSet, cosignerKey, formatKeyId, isParleyError, openWitnessedCheckpoint, parseVerifierKey } from '@parley/core';
import type { KeySource } from '../explorer/keys.js';
import { useEffect, useState } from 'react';
import { api, ApiError } from '../../api.js';
import type { CosignedNotes } from '@parley/node/api';
import type { AccordState } from '../explorer/accord.js';

export interface CheckpointFacts {
  /** Tree size (also when the signature failed: then it is the unverified claim). */
  readonly size?: number;
  readonly verified: boolean;
  /** Core's error code when the signature check failed. */
  readonly code?: string;
  /** Valid witness cosignatures by other parties, in note order (`size`: the tree size cosigned, when not this checkpoint's). */
  readonly cosigned: readonly { readonly party: string; readonly timestamp: number; readonly size?: number }[];
}

export interface CheckpointView extends CheckpointFacts {
  /** Error code when the checkpoint could not be fetched. */
  readonly error?: string;
}

/**
 * Verifies `note` as `party`'s checkpoint under `accord`.
 * @param accord the key source (keys.ts), or the founding accord alone.
 * @returns size, whether the log signature verified, and the parties that cosigned it.
 */
export function checkCheckpoint(note: string, accord: Accord | KeySource, party: string): CheckpointFacts {
  const claimed = /^[^\n]*\n(0|[1-9][0-9]{0,15})\n/.exec(note)?.[1];
  let keys: readonly VerifierKey[];
  let witnesses: readonly { party: string; key: VerifierKey }[];
  if ('parties' in accord) {
    const own = accord.parties.find((p) => p.id === party);
    if (own === undefined) return { verified: false, code: 'PARTY_UNKNOWN', cosigned: [] };
    keys = [parseVerifierKey(own.logKey)];
    witnesses = accord.parties.filter((p) => p.id !== party).map((p) => ({ party: p.id, key: cosignerKey(parseVerifierKey(p.logKey)) }));
  } else {
    if (accord.allLogKeys(party).length === 0) return { verified: false, code: 'PARTY_UNKNOWN', cosigned: [] };
    keys = accord.checkpointKeys(party, Number(claimed ?? 0));
    if (keys.length === 0) return { ...(claimed !== undefined ? { size: Number(claimed) } : {}), verified: false, code: 'KEY_RETIRED', cosigned: [] };
    witnesses = accord.witnesses(party);
  }
  try {
    const w = openWitnessedCheckpoint(note, new VerifierSet([...keys]), witnesses.map((x) => x.key), { origin: keys[0]!.name });
    const cosigned = w.cosignatures.flatMap((c) => {
      const by = witnesses.find((x) => x.key.name === c.name && formatKeyId(x.key.keyId) === formatKeyId(c.keyId));
      return by === undefined ? [] : [{ party: by.party, timestamp: c.timestamp }];
    });
    return { size: w.checkpoint.treeSize, verified: true, cosigned };
  } catch (e) {
    return { ...(claimed !== undefined ? { size: Number(claimed) } : {}), verified: false, code: isParleyError(e) ? e.code : 'INTERNAL', cosigned: [] };
  }
}

/**
 * The cosignatures in the witnessed checkpoints the node holds for `party`
 * (GET /v1/logs/:party/cosigned: for our own log, each peer's latest), each
 * note checked here like a checkpoint; only valid cosignatures by the
 * witness the node names are kept, with the size they cover.
 */
export function cosignaturesOf(answer: CosignedNotes, accord: Accord | KeySource, party: string): CheckpointFacts['cosigned'] {
  return answer.notes.flatMap((n) => {
    const facts = checkCheckpoint(n.note, accord, party);
    if (!facts.verified) return [];
    return facts.cosigned.filter((c) => c.party === n.witness).map((c) => ({ ...c, ...(facts.size !== undefined ? { size: facts.size } : {}) }));
  });
}

/**
 * Fetches and checks `party`'s checkpoint; refetches when `tick` changes.
 * For our own log (`own`), the node's copy of the latest checkpoint carries
 * no cosignatures, so those come from the peers' latest cosignatures it holds.
 */
export function useCheckpoint(party: string, accord: AccordState, tick: number, own = false): CheckpointView {
  const [view, setView] = useState<CheckpointView>({ verified: false, cosigned: [] });
  const a = accord.keys ?? accord.accord;
  useEffect(() => {
    if (a === undefined) return undefined;
    const ctl = new AbortController();
    const path = `/v1/logs/${encodeURIComponent(party)}`;
    const cosigned = own ? api<CosignedNotes>(`${path}/cosigned`, { signal: ctl.signal }).then((r) => cosignaturesOf(r, a, party)) : Promise.resolve(undefined);
    Promise.all([api<string>(`${path}/checkpoint`, { signal: ctl.signal }), cosigned])
      .then(([note, held]) => {
        const facts = checkCheckpoint(String(note), a, party);
        setView(held === undefined ? facts : { ...facts, cosigned: [...facts.cosigned, ...held] });
      })
      .catch((e: unknown) => {
        if (!ctl.signal.aborted) setView({ verified: false, cosigned: [], error: e instanceof ApiError ? e.code : 'NETWORK' });
      });
    return () => ctl.abort();
  }, [party, a, tick, own]);
  return view;
}
