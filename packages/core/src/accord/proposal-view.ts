/**
 * The wire shape of a proposal as GET /v1/accord/proposals shows it
 * (GOV.md §4): written by the node, read by the CLI and the web console.
 * Types only: pure and browser-safe.
 */
import type { Accord } from './accord.js';

/** Where a proposal stands: gathering signatures, complete, in force, or refused. */
export type ProposalStatus = 'pending' | 'complete' | 'active' | 'refused';

/** One changed member of an accord (core accordDiff, the proposals API). */
export interface ProposalDiffLine {
  readonly path: string;
  readonly from?: unknown;
  readonly to?: unknown;
}

/** A proposal as GET /v1/accord/proposals shows it. */
export interface ProposalView {
  readonly digest: string;
  readonly version: number;
  readonly proposer: { readonly party: string; readonly index: number };
  readonly accord: Accord;
  readonly rationale?: string;
  readonly recovery?: { readonly party: string; readonly suspectFrom: number };
  readonly diff: readonly ProposalDiffLine[];
  readonly approvals: readonly { readonly party: string; readonly prior: boolean; readonly index: number }[];
  readonly consents: { readonly need: readonly string[]; readonly have: readonly string[] };
  readonly quorum: { readonly need: number; readonly have: number };
  readonly status: ProposalStatus;
}
