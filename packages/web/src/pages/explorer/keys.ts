/**
 * Where the browser's verifiers (verify.ts, witnesses.ts,
 * links/checkpoint.ts) find a party's keys — the ONE lookup they use
 * (notes/GOV.md §2), never `accord.parties[p].logKey` directly:
 *
 *     chain   the accord chain file (GET /v1/accord/chain) verified here with
 *             core verifyChainFile: versions signed by their quorum and
 *             consents, activation entries signed by the party's key in
 *             that version. Keys come from its epochs (keysFor,
 *             checkpointKeys, witnessKeys).
 *     accord  a node without the governance API: version 1 alone (GET
 *             /v1/accord), every party's keys as it lists them.
 *
 * Witnesses of P's log are the other parties of the version in force, each
 * with its CURRENT witness key only: after a compromise recovery the old
 * witness key (by default the 0x04 form of the old log key) is the
 * attacker's too, so a cosignature by it vouches for nothing.
 */
import {
  type AccordChain,
  type AccordEpochs,
  type AccordMember,
  type ChainFile,
  type VerifiedAccord,
  type VerifierKey,
  cosignerKey,
  formatKeyId,
  parseVerifierKey,
  verifyChainFile,
} from '@parley/core';

/** The version and keys governing one entry of a party's log. */
export interface EntryKeys {
  readonly version: VerifiedAccord;
  readonly member: AccordMember;
  /** First index this version governs in the party's log. */
  readonly from: number;
  /** First index it no longer governs (absent: still in force). */
  readonly until?: number;
  /** The entry is in a compromise recovery's suspect range. */
  readonly suspect: boolean;
}

export interface KeySource {
  /** Channel id (hex SHA-256 of version 1). */
  readonly channel: string;
  /** Number of accord versions verified (1 without a chain). */
  readonly versions: number;
  /** The version in force. */
  readonly current: VerifiedAccord;
  /** The chain, when one was verified. */
  readonly chain?: AccordChain;
  /** The version and key that judge entry `index` of `party`'s log, or undefined (no such party there). */
  entryKeys(party: string, index: number): EntryKeys | undefined;
  /** The log keys that may sign `party`'s checkpoint of tree size `size` (both at a rotation size). */
  checkpointKeys(party: string, size: number): readonly VerifierKey[];
  /** Every log key `party` has had (to tell a retired key's signature from a stranger's). */
  allLogKeys(party: string): readonly VerifierKey[];
  /** The witnesses of `party`'s log: the other parties in force, with their current witness keys. */
  witnesses(party: string): readonly { readonly party: string; readonly key: VerifierKey }[];
}

const sameKey = (a: VerifierKey, b: VerifierKey) => a.name === b.name && formatKeyId(a.keyId) === formatKeyId(b.keyId);

/** Keys from a verified chain's epochs. */
export function keysOfEpochs(chain: AccordChain, epochs: AccordEpochs): KeySource {
  return {
    channel: chain.channel,
    versions: chain.versions.length,
    current: chain.current,
    chain,
    entryKeys(party, index) {
      const e = epochs.keysFor(party, index);
      if (e === undefined) return undefined;
      return { version: e.version, member: e.member, from: e.from, ...(e.until !== undefined ? { until: e.until } : {}), suspect: epochs.suspect(party, index) };
    },
    checkpointKeys: (party, size) => epochs.checkpointKeys(party, size).map((m) => m.logKey),
    allLogKeys(party) {
      const out: VerifierKey[] = [];
      for (const e of epochs.epochs(party)) if (!out.some((k) => sameKey(k, e.member.logKey))) out.push(e.member.logKey);
      return out;
    },
    witnesses: (party) =>
      chain.current.accord.parties
        .filter((p) => p.id !== party)
        .flatMap((p) => {
          const current = epochs.witnessKeys(p.id).filter((w) => w.until === undefined);
          return current.map((w) => ({ party: p.id, key: w.key }));
        }),
  };
}

/**
 * Verifies a chain file and returns its keys.
 * @param file GET /v1/accord/chain (unverified).
 * @param trusted digest of a version this browser verified before: the chain must contain it (no rollback).
 * @throws ParleyError with core's code (ACCORD_CHAIN, ACCORD_QUORUM, ACCORD_CONSENT, SIGNATURE_INVALID, ACCORD_MALFORMED, …).
 */
export function keysOfChainFile(file: unknown, trusted?: string): KeySource {
  const { chain, epochs } = verifyChainFile(file as ChainFile, trusted !== undefined ? { trusted } : {});
  return keysOfEpochs(chain, epochs);
}

/** Keys of version 1 alone (a node without a chain): each party's log key, its 0x04 form as witness key. */
export function keysOfAccord(view: VerifiedAccord): KeySource {
  const logKey = (party: string) => view.party(party)?.logKey;
  return {
    channel: view.id,
    versions: 1,
    current: view,
    entryKeys(party) {
      const member = view.party(party);
      return member === undefined ? undefined : { version: view, member, from: 0, suspect: false };
    },
    checkpointKeys: (party) => {
      const k = logKey(party);
      return k === undefined ? [] : [k];
    },
    allLogKeys: (party) => {
      const k = logKey(party);
      return k === undefined ? [] : [k];
    },
    witnesses: (party) => view.accord.parties.filter((p) => p.id !== party).map((p) => ({ party: p.id, key: cosignerKey(parseVerifierKey(p.logKey)) })),
  };
}
