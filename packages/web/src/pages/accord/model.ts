/**
 * The Accord page's view models (pure: no React, no I/O, so the tests feed
 * them data): the governance API's shapes (notes/GOV.md §2, §4), an accord
 * diff turned into readable changes, a pending proposal as the page shows it,
 * and each party's activations (which version governs which log positions).
 *
 *     GET  /v1/accord/chain                      the chain file (public)
 *     GET  /v1/accord/proposals                  { items: ProposalItem[] }
 *     POST /v1/accord/proposals/{digest}/approve  (admin) → 201 { index }
 *
 * Diffs: core's `accordDiff(prev, next)` gives `{ path, from?, to? }` items
 * (the node sends the same in a proposal's `diff`). {@link describeDiff}
 * reads the path loosely — `parties.US.logKey`, `parties[US].logKey`,
 * `/parties/US/logKey` or a party's index — and expands a whole object or
 * the whole parties array into one change per field, so a coarser or finer
 * diff renders the same. `version` and `previous` change in every amendment
 * and are not listed.
 */
import type { Accord, AccordParty, ProposalDiffLine, ProposalStatus, ProposalView as WireProposal } from '@parley/core';
import { DEFAULT_ROLES, ROLE_ACTIONS, permits } from '@parley/core';

/** One changed member of an accord (core accordDiff, the proposals API). */
export type DiffItem = ProposalDiffLine;

export interface ChainSignature {
  readonly party: string;
  readonly sig: string;
  readonly prior?: boolean;
}

export interface ChainVersion {
  readonly accord: Accord;
  readonly signatures: readonly ChainSignature[];
}

export interface ChainActivation {
  readonly party: string;
  readonly version: number;
  readonly size: number;
  /** Base64 entry bytes of the activation entry. */
  readonly entry: string;
  readonly suspectFrom?: number;
}

/** GET /v1/accord/chain (GOV.md §2). */
export interface ChainFile {
  readonly channel: string;
  readonly versions: readonly ChainVersion[];
  readonly activations: readonly ChainActivation[];
}

export type { ProposalStatus } from '@parley/core';

/** One item of GET /v1/accord/proposals (GOV.md §4). */
export type ProposalItem = WireProposal;

export interface ProposalsAnswer {
  readonly items: readonly ProposalItem[];
}

// ---------------------------------------------------------------------------
// Diff → changes

/** Party fields a change can name (anything else is `party.other`). */
export type PartyField = 'logKey' | 'witnessKey' | 'hpkeKey' | 'urls' | 'names';

/**
 * One readable change. `kind` picks the sentence (i18n `accord:change.<kind>`);
 * `field` is the deadline's path below `deadlines` (`ackSeconds.FLASH`,
 * `receiptSeconds`, `initialReportSeconds.5`) or the party's field.
 */
export type Change =
  | { readonly kind: 'party.added'; readonly party: string; readonly to: AccordParty | undefined }
  | { readonly kind: 'party.removed'; readonly party: string }
  | { readonly kind: 'party.logKey' | 'party.witnessKey' | 'party.hpkeKey' | 'party.urls' | 'party.names'; readonly party: string; readonly from?: unknown; readonly to?: unknown }
  | { readonly kind: 'party.other'; readonly party: string; readonly field: string; readonly from?: unknown; readonly to?: unknown }
  | { readonly kind: 'deadline'; readonly field: string; readonly from?: number; readonly to?: number }
  | { readonly kind: 'heartbeat' | 'quorum'; readonly from?: number; readonly to?: number }
  | { readonly kind: 'redLines'; readonly added: readonly RedLineText[]; readonly removed: readonly RedLineText[] }
  | { readonly kind: 'taxonomy' | 'title' | 'name' | 'created'; readonly from?: unknown; readonly to?: unknown }
  | { readonly kind: 'roles'; readonly action: string; readonly from?: readonly string[]; readonly to?: readonly string[] }
  | { readonly kind: 'other'; readonly path: string; readonly from?: unknown; readonly to?: unknown };

/** A red line as the page prints it: category and minimum severity. */
export interface RedLineText {
  readonly category: string;
  readonly minSeverity: number;
}

const PARTY_FIELDS: readonly string[] = ['logKey', 'witnessKey', 'hpkeKey', 'urls', 'names'];
const IGNORED = new Set(['version', 'previous', 'v']);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Path segments of `parties.US.logKey`, `parties[US].logKey`, `/parties/US/logKey`. */
export function pathSegments(path: string): string[] {
  return path.split(/[./[\]]+/).filter((s) => s !== '');
}

/** Expands an object-valued change into one item per leaf member that differs (arrays stay whole). */
function leaves(segs: readonly string[], from: unknown, to: unknown): { segs: string[]; from?: unknown; to?: unknown }[] {
  // A party as a whole (added or removed) stays one change.
  if (segs.length === 2 && segs[0] === 'parties' && (from === undefined || to === undefined)) return [{ segs: [...segs], ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) }];
  if (segs.length === 1 && segs[0] === 'parties' && Array.isArray(from ?? []) && Array.isArray(to ?? [])) {
    const a = (from ?? []) as AccordParty[];
    const b = (to ?? []) as AccordParty[];
    const ids = [...new Set([...a, ...b].map((p) => p.id))].sort();
    return ids.flatMap((id) => {
      const x = a.find((p) => p.id === id);
      const y = b.find((p) => p.id === id);
      return same(x, y) ? [] : leaves(['parties', id], x, y);
    });
  }
  if (isObject(from) && isObject(to) && !(segs.length === 1 && segs[0] === 'title') && !(segs.length === 1 && segs[0] === 'taxonomy') && !(segs.length === 3 && segs[0] === 'parties' && segs[2] === 'names')) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
    return keys.filter((k) => !same(from[k], to[k])).flatMap((k) => leaves([...segs, k], from[k], to[k]));
  }
  return [{ segs: [...segs], ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) }];
}

/** Resolves a party segment (an id, or an index into the previous/next parties) to the party id. */
function partyId(seg: string, prev: Accord | undefined, next: Accord | undefined, from: unknown, to: unknown): string {
  if (/^[0-9]+$/.test(seg)) {
    const i = Number(seg);
    const fromId = isObject(from) && typeof from['id'] === 'string' ? from['id'] : undefined;
    const toId = isObject(to) && typeof to['id'] === 'string' ? to['id'] : undefined;
    return toId ?? fromId ?? (to !== undefined ? next?.parties[i]?.id : prev?.parties[i]?.id) ?? next?.parties[i]?.id ?? prev?.parties[i]?.id ?? `#${seg}`;
  }
  return seg;
}

const redLinesOf = (v: unknown): RedLineText[] =>
  Array.isArray(v) ? v.filter(isObject).map((r) => ({ category: String(r['category']), minSeverity: Number(r['minSeverity']) })) : [];

const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : undefined);

/**
 * Readable changes of one amendment, in a stable order: parties (added,
 * removed, keys and fields, by party id), then quorum, deadlines, heartbeat,
 * red lines, taxonomy, titles, anything else.
 * @param diff core accordDiff(prev, next), or a proposal's `diff`.
 * @param prev the previous version (resolves index-based party paths).
 * @param next the new version.
 */
export function describeDiff(diff: readonly DiffItem[], prev?: Accord, next?: Accord): Change[] {
  const out: Change[] = [];
  for (const d of diff) {
    const top = pathSegments(d.path);
    for (const { segs, from, to } of leaves(top, d.from, d.to)) {
      const [head, second, ...rest] = segs;
      if (head === undefined || IGNORED.has(head)) continue;
      if (head === 'parties' && second !== undefined) {
        const party = partyId(second, prev, next, from, to);
        if (rest.length === 0) {
          if (from === undefined && to !== undefined) out.push({ kind: 'party.added', party, to: isObject(to) ? (to as unknown as AccordParty) : next?.parties.find((p) => p.id === party) });
          else if (to === undefined && from !== undefined) out.push({ kind: 'party.removed', party });
          else out.push({ kind: 'party.other', party, field: '', from, to });
          continue;
        }
        const field = rest.join('.');
        const f = rest[0]!;
        if (PARTY_FIELDS.includes(f)) {
          // names.en and names.zh-CN (or urls.0, urls.1) are one change of the names (urls)
          const kind = `party.${f}` as 'party.logKey';
          if ((f === 'names' || f === 'urls') && out.some((c) => c.kind === kind && c.party === party)) continue;
          if (f === 'names' || f === 'urls') {
            const a = prev?.parties.find((p) => p.id === party);
            const b = next?.parties.find((p) => p.id === party);
            out.push({ kind, party, from: rest.length > 1 && a ? a[f] : from, to: rest.length > 1 && b ? b[f] : to });
          } else out.push({ kind, party, ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
        } else out.push({ kind: 'party.other', party, field, from, to });
        continue;
      }
      if (head === 'deadlines' && second !== undefined) {
        out.push({ kind: 'deadline', field: [second, ...rest].join('.'), ...(num(from) !== undefined ? { from: num(from)! } : {}), ...(num(to) !== undefined ? { to: num(to)! } : {}) });
        continue;
      }
      if (segs.length === 1 && (head === 'heartbeatSeconds' || head === 'amendmentQuorum')) {
        out.push({ kind: head === 'heartbeatSeconds' ? 'heartbeat' : 'quorum', ...(num(from) !== undefined ? { from: num(from)! } : {}), ...(num(to) !== undefined ? { to: num(to)! } : {}) });
        continue;
      }
      if (head === 'redLines') {
        // One change for the whole list, however the diff splits it.
        if (out.some((c) => c.kind === 'redLines')) continue;
        const a = prev ? prev.redLines : segs.length === 1 ? redLinesOf(from) : [];
        const b = next ? next.redLines : segs.length === 1 ? redLinesOf(to) : [];
        const key = (r: RedLineText) => `${r.category}:${r.minSeverity}`;
        out.push({ kind: 'redLines', added: b.filter((r) => !a.some((x) => key(x) === key(r))), removed: a.filter((r) => !b.some((x) => key(x) === key(r))) });
        continue;
      }
      if (head === 'taxonomy' || head === 'title' || head === 'name' || head === 'created') {
        if (out.some((c) => c.kind === head)) continue;
        const a = prev?.[head];
        const b = next?.[head];
        out.push({ kind: head, from: segs.length > 1 && a !== undefined ? a : from, to: segs.length > 1 && b !== undefined ? b : to });
        continue;
      }
      if (head === 'roles') {
        // Officers' roles (core roles.ts): one change per action; a whole member added or dropped is read against the defaults.
        const list = (v: unknown): readonly string[] | undefined => (Array.isArray(v) ? v.map(String) : undefined);
        if (second !== undefined) out.push({ kind: 'roles', action: second, ...(list(from) ? { from: list(from)! } : {}), ...(list(to) ? { to: list(to)! } : {}) });
        else {
          const a = (isObject(from) ? from : DEFAULT_ROLES) as Record<string, unknown>;
          const b = (isObject(to) ? to : DEFAULT_ROLES) as Record<string, unknown>;
          for (const action of ROLE_ACTIONS) if (!same(a[action], b[action])) out.push({ kind: 'roles', action, ...(list(a[action]) ? { from: list(a[action])! } : {}), ...(list(b[action]) ? { to: list(b[action])! } : {}) });
        }
        continue;
      }
      out.push({ kind: 'other', path: segs.join('.'), ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) });
    }
  }
  return out.sort((a, b) => rank(a) - rank(b) || partyOf(a).localeCompare(partyOf(b)));
}

const ORDER = ['party.added', 'party.removed', 'party.logKey', 'party.witnessKey', 'party.hpkeKey', 'party.urls', 'party.names', 'party.other', 'quorum', 'roles', 'deadline', 'heartbeat', 'redLines', 'taxonomy', 'title', 'name', 'created', 'other'];
const rank = (c: Change) => ORDER.indexOf(c.kind);
const partyOf = (c: Change) => ('party' in c ? c.party : '');

/** The key id part of a C2SP verifier key (`name+hash+key` → `name+hash`), for a one-line display. */
export function shortKey(v: unknown): string {
  if (typeof v !== 'string') return '—';
  const parts = v.split('+');
  return parts.length >= 3 ? `${parts[0]}+${parts[1]}` : v.length > 20 ? `${v.slice(0, 16)}…` : v;
}

// ---------------------------------------------------------------------------
// Proposals

export type ApproveBlock = 'role' | 'status' | 'approved' | 'not-party';

export interface ProposalView {
  readonly digest: string;
  readonly version: number;
  readonly proposer: { readonly party: string; readonly index: number };
  readonly status: ProposalStatus;
  readonly rationale?: string;
  readonly recovery?: { readonly party: string; readonly suspectFrom: number };
  readonly changes: readonly Change[];
  /** Distinct parties that approved, sorted, each with whether a prior-key signature is among its approvals. */
  readonly approvedBy: readonly { readonly party: string; readonly prior: boolean; readonly index: number }[];
  /** Parties of the version in force that have not approved (the ones the quorum still waits on). */
  readonly waitingOn: readonly string[];
  readonly quorum: { readonly need: number; readonly have: number; readonly met: boolean };
  readonly consents: { readonly need: readonly string[]; readonly have: readonly string[]; readonly missing: readonly string[] };
  /** True when this officer may press Approve. */
  readonly canApprove: boolean;
  /** Why not, when `canApprove` is false. */
  readonly blocked?: ApproveBlock;
}

/**
 * A proposal as the page shows it.
 * @param p the node's proposal item.
 * @param current the accord version in force (its parties approve).
 * @param me this officer's party and role.
 */
export function proposalView(p: ProposalItem, current: Accord | undefined, me: { party: string; role: string }): ProposalView {
  const byParty = new Map<string, { party: string; prior: boolean; index: number }>();
  for (const a of p.approvals) {
    const had = byParty.get(a.party);
    byParty.set(a.party, { party: a.party, prior: (had?.prior ?? false) || a.prior, index: had === undefined ? a.index : Math.min(had.index, a.index) });
  }
  const approvedBy = [...byParty.values()].sort((a, b) => a.party.localeCompare(b.party));
  const approvers = current?.parties.map((x) => x.id) ?? [];
  const waitingOn = approvers.filter((id) => !byParty.has(id));
  const missing = p.consents.need.filter((id) => !p.consents.have.includes(id));
  const mine = byParty.has(me.party);
  const needsMe = (approvers.includes(me.party) && !mine) || missing.includes(me.party);
  const blocked: ApproveBlock | undefined =
    !permits(current ?? {}, me.role, 'amend') ? 'role' : p.status !== 'pending' ? 'status' : needsMe ? undefined : approvers.includes(me.party) || p.consents.need.includes(me.party) ? 'approved' : 'not-party';
  return {
    digest: p.digest,
    version: p.version,
    proposer: p.proposer,
    status: p.status,
    ...(p.rationale !== undefined ? { rationale: p.rationale } : {}),
    ...(p.recovery !== undefined ? { recovery: p.recovery } : {}),
    changes: describeDiff(p.diff, current, p.accord),
    approvedBy,
    waitingOn,
    quorum: { need: p.quorum.need, have: p.quorum.have, met: p.quorum.have >= p.quorum.need },
    consents: { need: p.consents.need, have: p.consents.have, missing },
    canApprove: blocked === undefined,
    ...(blocked !== undefined ? { blocked } : {}),
  };
}

/** Pending proposals first (newest version first), then the rest. */
export function sortProposals(items: readonly ProposalView[]): ProposalView[] {
  const w = (s: ProposalStatus) => (s === 'pending' ? 0 : s === 'complete' ? 1 : s === 'active' ? 2 : 3);
  return [...items].sort((a, b) => w(a.status) - w(b.status) || b.version - a.version || a.digest.localeCompare(b.digest));
}

// ---------------------------------------------------------------------------
// Activations

/** One party's epoch: log positions [from, until) judged by `version`; `suspect` = [from, to) of its tail a compromise recovery flagged. */
export interface ActivationRow {
  readonly party: string;
  readonly version: number;
  readonly from: number;
  readonly until?: number;
  readonly suspect?: { readonly from: number; readonly to: number };
}

/** An epoch as core's `AccordEpochs.epochs(party)` gives it (only what the page shows). */
export interface EpochLike {
  readonly party: string;
  readonly version: { readonly version: number };
  readonly from: number;
  readonly until?: number;
  readonly suspectFrom?: number;
}

/**
 * The rows of the activations table from the verified chain's epochs
 * (founding parties start under version 1 at 0; core adds that).
 * @returns rows grouped by party (sorted), oldest epoch first; an epoch
 *   whose tail is suspect (after the last checkpoint witnessed under a key
 *   later found compromised, up to the recovery's activation) carries the range.
 */
export function activationRows(epochs: readonly EpochLike[]): ActivationRow[] {
  return [...epochs]
    .sort((a, b) => a.party.localeCompare(b.party) || a.from - b.from || a.version.version - b.version.version)
    .map((e) => ({
      party: e.party,
      version: e.version.version,
      from: e.from,
      ...(e.until !== undefined ? { until: e.until } : {}),
      ...(e.suspectFrom !== undefined && (e.until === undefined || e.suspectFrom < e.until) ? { suspect: { from: e.suspectFrom, to: e.until ?? e.suspectFrom } } : {}),
    }));
}

/** Who signed a version: its approvals under the previous keys (`prior`) and its consents under its own keys. */
export function signersOf(v: ChainVersion): { party: string; prior: boolean }[] {
  return [...v.signatures].map((s) => ({ party: s.party, prior: s.prior === true })).sort((a, b) => a.party.localeCompare(b.party) || Number(a.prior) - Number(b.prior));
}
