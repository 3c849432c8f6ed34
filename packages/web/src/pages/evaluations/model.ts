/**
 * The Evaluations page's view model (pure; test/evaluations-model.test.ts).
 *
 * What the node says (GET /v1/evaluations, EVAL.md §10) is shown as the
 * node's account; what the page calls proved is recomputed here with core:
 *
 *   - {@link commitmentOf}: the commitment's body (stage, domains, digests)
 *     read from the entry bytes in the evidence bundle — the bytes whose
 *     signature and inclusion core's verifyEvaluationEvidence checks — never
 *     from the node's summary.
 *   - {@link checkReveal}: the reveal's disclosures opened against those
 *     digests with core's openDisclosures (each digest recomputed from the
 *     disclosure text and found in the commitment or a revealed parent),
 *     then compared with the claims the node reports, claim by claim.
 *   - {@link timelineVerdict}: the "committed N days before deployment"
 *     line from the browser's verification result, or why there is none.
 *   - {@link evaluationRows}: the list's rows, newest first.
 *   - {@link concernsEvaluations}: the live events that refresh the page.
 */
import { type JsonValue, canonicalize, isParleyError, openDisclosures, parseBase64, parseEntry } from '@parley/core';
import type { ServerEvent } from '../../events.js';
import { isResync } from '../../live.js';
import type { EvaluationView, EvaluationsResponse } from '@parley/node/api';

/** The entry types this page shows. */
export const EVALUATION_TYPES = ['evaluation.commitment', 'deployment.notice', 'evaluation.reveal'] as const;

/** Live events that change what the page shows: an entry of the three types, or a resync. */
export function concernsEvaluations(e: ServerEvent): boolean {
  if (isResync(e)) return true;
  const d = typeof e.data === 'object' && e.data !== null ? (e.data as { type?: unknown }) : {};
  return e.event === 'entry' && typeof d.type === 'string' && (EVALUATION_TYPES as readonly string[]).includes(d.type);
}

/** A party's entry named by position. */
export interface EntryAt {
  readonly party: string;
  readonly index: number;
}

/** GET /v1/evaluations/:party/:index and GET /v1/evaluations (EVAL.md §10): the node's own schema types. */
export type { EvaluationView, EvaluationsResponse };
export type RevealView = EvaluationView['reveals'][number];

/** One row of the list. */
export interface EvaluationRow {
  readonly key: string;
  readonly party: string;
  readonly index: number;
  readonly stage: string;
  readonly domains: readonly string[];
  readonly sdCount: number;
  readonly time: string;
  /** The models deployed under it (notices), in notice order, without repeats. */
  readonly models: readonly string[];
  readonly notices: number;
  readonly reveals: number;
  /** Reveals this party can open. */
  readonly openable: number;
  /** The node's timeline: before / not-before; unproven while no counterpart cosigned or stamped the commitment; none without a notice. */
  readonly nodeTimeline: 'before' | 'not-before' | 'unproven' | 'none';
  readonly days?: number | undefined;
}

/** `party/index`: a route and a React key. */
export const keyOf = (e: EntryAt): string => `${e.party}/${e.index}`;

/** The list's rows, newest commitment first (the node's order is not relied on). */
export function evaluationRows(list: readonly EvaluationView[]): EvaluationRow[] {
  return [...list]
    .sort((a, b) => Date.parse(b.commitment.time) - Date.parse(a.commitment.time) || a.commitment.party.localeCompare(b.commitment.party) || b.commitment.index - a.commitment.index)
    .map((v) => ({
      key: keyOf(v.commitment),
      party: v.commitment.party,
      index: v.commitment.index,
      stage: v.commitment.stage,
      domains: v.commitment.domains,
      sdCount: v.commitment.sdCount,
      time: v.commitment.time,
      models: [...new Set(v.notices.map((n) => n.model.id))],
      notices: v.notices.length,
      reveals: v.reveals.length,
      openable: v.reveals.filter((r) => r.addressed).length,
      nodeTimeline: v.timeline === undefined ? 'none' : v.timeline.committedBefore ? 'before' : v.timeline.marginSeconds === undefined ? 'unproven' : 'not-before',
      ...(v.timeline !== undefined ? { days: v.timeline.days } : {}),
    }));
}

/** The commitment body as the signed entry carries it. */
export interface CommitmentBody {
  readonly stage: string;
  readonly domains: readonly string[];
  readonly sd: readonly string[];
}

/** The part of the evidence bundle (EVAL.md §5) this page reads itself. */
export interface EvidenceLike {
  readonly commitment?: { readonly entry?: unknown } | undefined;
  readonly disclosures?: readonly unknown[] | undefined;
}

/**
 * The commitment's body from the evidence bundle's entry bytes (base64 of
 * the signed entry; TLP:CLEAR, so its body is `{clear: …}`).
 * @throws Error naming what is wrong when the bytes are not a commitment.
 */
export function commitmentOf(evidence: EvidenceLike): CommitmentBody {
  const b64 = evidence.commitment?.entry;
  if (typeof b64 !== 'string') throw new Error('the evidence carries no commitment entry');
  const entry = parseEntry(parseBase64(b64));
  if (entry.type !== 'evaluation.commitment') throw new Error(`the evidence's commitment is a ${entry.type} entry`);
  if (!('clear' in entry.body)) throw new Error('the commitment is sealed');
  const body = entry.body.clear as { stage?: unknown; domains?: unknown; sd?: unknown } | null;
  const sd = body?.sd;
  if (!Array.isArray(sd) || !sd.every((d): d is string => typeof d === 'string')) throw new Error('the commitment has no digest list');
  const domains = Array.isArray(body?.domains) ? body.domains.filter((d): d is string => typeof d === 'string') : [];
  return { stage: typeof body?.stage === 'string' ? body.stage : '', domains, sd };
}

/**
 * How one claim fared:
 *   match      the browser opened it against the commitment and the node reports the same value
 *   mismatch   the browser opened it, but the node reports another value or digest for it
 *   unverified the node reports it, but no disclosure the browser holds opens it
 */
export type ClaimStatus = 'match' | 'mismatch' | 'unverified';

export interface ClaimCheck {
  readonly path: string;
  /** The value as the browser opened it (as the node says, when unverified). */
  readonly value: unknown;
  readonly digest: string;
  readonly status: ClaimStatus;
  /** A nested claim's parent (its value is the object of its revealed children): listed for the count, shown by its children. */
  readonly parent: boolean;
}

export interface RevealCheck {
  /** Every disclosure opened and every claim the node reports matched. */
  readonly ok: boolean;
  /** The error code when the disclosures did not open (EVAL_DISCLOSURE_MISMATCH, EVAL_SALT_REUSED, …). */
  readonly error?: string | undefined;
  readonly message?: string | undefined;
  readonly claims: readonly ClaimCheck[];
}

const same = (a: unknown, b: unknown): boolean => {
  try {
    return canonicalize(a as JsonValue) === canonicalize(b as JsonValue);
  } catch {
    return false;
  }
};

/**
 * Opens `encoded` against the commitment's digests `sd` IN THE BROWSER and
 * marks each claim: the node's report (`nodeRevealed`) is compared with
 * what the browser opened, never taken for it.
 * @returns ok only when every disclosure opened and every reported claim matched.
 */
export function checkReveal(sd: readonly string[], encoded: readonly unknown[], nodeRevealed: RevealView['revealed'] = []): RevealCheck {
  const node = nodeRevealed ?? [];
  const nodePaths = node.map((c) => c.path);
  /** The node's claims, none proved (the disclosures did not open): parents marked so that only leaves are shown. */
  const unproved = (): ClaimCheck[] => node.map((c) => ({ path: c.path, value: c.value, digest: c.digest, status: 'unverified', parent: nodePaths.some((q) => q.startsWith(`${c.path}.`)) }));
  if (!encoded.every((e): e is string => typeof e === 'string') || encoded.length === 0) {
    return { ok: false, error: 'EVAL_DISCLOSURE_MALFORMED', message: 'no disclosures to open', claims: unproved() };
  }
  let opened: ReturnType<typeof openDisclosures>;
  try {
    opened = openDisclosures(sd, encoded);
  } catch (e) {
    return {
      ok: false,
      error: isParleyError(e) ? e.code : 'EVAL_DISCLOSURE_MALFORMED',
      message: e instanceof Error ? e.message : String(e),
      claims: unproved(),
    };
  }
  const paths = new Set(opened.revealed.map((r) => r.path));
  const isParent = (p: string) => [...paths].some((q) => q.startsWith(`${p}.`));
  const byPath = new Map(node.map((c) => [c.path, c]));
  const claims: ClaimCheck[] = opened.revealed.map((r) => {
    const parent = isParent(r.path);
    const n = byPath.get(r.path);
    // A parent's value is the object of its revealed children: the node's spelling of it may differ; its digest may not.
    const agrees = n === undefined || (n.digest === r.digest && (parent || same(n.value, r.value)));
    return { path: r.path, value: r.value, digest: r.digest, status: agrees ? 'match' : 'mismatch', parent };
  });
  for (const n of node) if (!paths.has(n.path)) claims.push({ path: n.path, value: n.value, digest: n.digest, status: 'unverified', parent: false });
  claims.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { ok: claims.every((c) => c.status === 'match'), claims };
}

/** A value as one line of text: strings bare, anything else as JSON. */
export function showValue(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v);
  } catch {
    return String(v);
  }
}

/** What the browser's verification of the evidence gave (core verifyEvaluationEvidence, or its failure). */
export interface BrowserProof {
  readonly ok: boolean;
  readonly checks: readonly { readonly id: string; readonly ok: boolean; readonly detail: { readonly en: string; readonly 'zh-CN': string } }[];
  readonly timeline?: { readonly committedBefore: boolean; readonly marginSeconds?: number | undefined; readonly days?: number | undefined } | undefined;
  /** The evidence could not be checked at all (EVIDENCE_MALFORMED, a fetch error): its code and words. */
  readonly error?: { readonly code: string; readonly message: string } | undefined;
}

/**
 * The page's headline about time:
 *   before       proved in the browser: committed `days` days before deployment (days ≥ 0; 0 = less than a day)
 *   not-before   every check held but the commitment is not proved to precede the deployment
 *   failed       the browser check failed (`reason`: the first failed check's id, or the error code)
 *   no-notice    there is no deployment notice to compare with
 *   pending      the check is still running
 */
/** core verifyEvaluationEvidence's id of the "committed before deployment" check. */
export const TIMELINE_CHECK = 'timeline';

export type TimelineVerdict =
  | { readonly kind: 'before'; readonly days: number; readonly marginSeconds: number }
  | { readonly kind: 'not-before' }
  | { readonly kind: 'failed'; readonly reason: string; readonly detail?: { readonly en: string; readonly 'zh-CN': string } | string | undefined }
  | { readonly kind: 'no-notice' }
  | { readonly kind: 'pending' };

export function timelineVerdict(hasNotice: boolean, proof: BrowserProof | undefined): TimelineVerdict {
  if (proof === undefined) return hasNotice ? { kind: 'pending' } : { kind: 'no-notice' };
  if (proof.error !== undefined) return { kind: 'failed', reason: proof.error.code, detail: proof.error.message };
  // The timeline check (id `timeline`) failing alone is "not before", not a broken proof.
  const failed = proof.checks.find((c) => !c.ok && c.id !== TIMELINE_CHECK);
  if (failed !== undefined) return { kind: 'failed', reason: failed.id, detail: failed.detail };
  const before = proof.checks.find((c) => c.id === TIMELINE_CHECK);
  if (!proof.ok && before?.ok !== false) return { kind: 'failed', reason: 'EVIDENCE_INVALID' };
  if (!hasNotice || proof.timeline === undefined) return before?.ok === false ? { kind: 'not-before' } : { kind: 'no-notice' };
  if (!proof.timeline.committedBefore || before?.ok === false) return { kind: 'not-before' };
  const margin = Math.max(0, proof.timeline.marginSeconds ?? 0);
  return { kind: 'before', days: Math.max(0, proof.timeline.days ?? Math.floor(margin / 86400)), marginSeconds: margin };
}
