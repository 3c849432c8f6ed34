/**
 * The accord chain as the Accord page shows it, verified in the browser
 * with core (verifyChainFile: every version signed by its quorum and
 * consents, every activation entry signed by the party's key in that
 * version) — the node's chain file is untrusted input. The channel id must
 * be the one the node runs on (GET /v1/accord `id`), so a chain of some
 * other channel is refused.
 *
 * Each version's changes are core's accordDiff against the version before,
 * rendered by model.ts describeDiff.
 */
import { type Accord, accordDiff, isParleyError, verifyChainFile } from '@parley/core';
import { type ActivationRow, type Change, activationRows, describeDiff, signersOf } from './model.js';

export interface VersionRow {
  readonly version: number;
  readonly digest: string;
  readonly accord: Accord;
  readonly frozen: boolean;
  /** Who signed: `prior` = with the key of the version before (an approval), else with this version's key (a consent). */
  readonly signers: readonly { readonly party: string; readonly prior: boolean }[];
  /** Against the version before (none for version 1). */
  readonly changes: readonly Change[];
}

export interface ChainView {
  readonly channel: string;
  /** Newest first. */
  readonly versions: readonly VersionRow[];
  readonly current: VersionRow;
  readonly activations: readonly ActivationRow[];
}

/** Why the chain could not be shown: core's error code. */
export class ChainRefused extends Error {
  constructor(readonly code: string) {
    super(code);
    this.name = 'ChainRefused';
  }
}

/**
 * Verifies the chain file and builds the page's view of it.
 * @param file GET /v1/accord/chain, unverified.
 * @param channel the channel id this node runs on.
 * @throws ChainRefused with core's code (ACCORD_CHAIN, ACCORD_QUORUM, …) or `CHANNEL_MISMATCH`.
 */
export function chainView(file: unknown, channel: string): ChainView {
  let verified: ReturnType<typeof verifyChainFile>;
  try {
    verified = verifyChainFile(file as Parameters<typeof verifyChainFile>[0]);
  } catch (e) {
    throw new ChainRefused(isParleyError(e) ? e.code : 'INTERNAL');
  }
  const { chain } = verified;
  if (chain.channel !== channel) throw new ChainRefused('CHANNEL_MISMATCH');
  const rows: VersionRow[] = chain.versions.map((v, i) => {
    const prev = i > 0 ? chain.versions[i - 1] : undefined;
    return {
      version: v.version,
      digest: v.digest,
      accord: v.accord,
      frozen: v.frozen,
      signers: signersOf({ accord: v.accord, signatures: v.signatures }),
      changes: prev === undefined ? [] : describeDiff(accordDiff(prev.accord, v.accord), prev.accord, v.accord),
    };
  });
  const newest = [...rows].reverse();
  const parties = [...new Set(chain.versions.flatMap((v) => v.accord.parties.map((p) => p.id)))];
  const activations = activationRows(parties.flatMap((p) => verified.epochs.epochs(p)));
  return { channel: chain.channel, versions: newest, current: newest[0]!, activations };
}
