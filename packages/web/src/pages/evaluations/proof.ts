/**
 * The in-browser proof of one evaluation: fetch the node's evidence bundle
 * (GET /v1/evaluations/:party/:index/evidence, EVAL.md §5 — one per reveal
 * this party can open, `?reveal=PARTY:INDEX`) and the accord chain this
 * browser checks it against (GET /v1/accord/chain), then run core's
 * verifyEvaluationEvidence here — accord chain, each entry's signature at
 * its position, inclusion in its checkpoint, the checkpoint's signature and
 * the counterparts' cosignatures, time-stamp tokens, the notice's reference
 * to the commitment, committed before deployment, each disclosure against
 * its digest — and open each reveal's disclosures against the commitment's
 * digests (model.ts checkReveal). The node's own account is never taken
 * for the result.
 *
 * RFC 3161 tokens need pkijs; it is loaded by a dynamic import of
 * `@parley/core/tsa` from this page only, and only for a bundle that carries
 * tokens, so the main chunk never carries it (test/assets.e2e.test.ts checks).
 */
import { type AccordTimestamping, type VerifyEvidenceOptions, isParleyError, parseAccord, verifyEvaluationEvidence } from '@parley/core';
import { api, ApiError } from '../../api.js';
import type { AccordAnswer } from '../explorer/accord.js';
import { fetchChain } from '../explorer/fetchInput.js';
import { readTrustedAccord } from '../explorer/seen.js';
import { type BrowserProof, type EntryAt, type EvaluationView, type EvidenceLike, type RevealCheck, checkReveal, commitmentOf, keyOf } from './model.js';

export interface RevealProof {
  /** `party/index` of the reveal. */
  readonly reveal: string;
  readonly check: RevealCheck;
}

export interface EvaluationProof {
  /** The evidence bundles' verification, every bundle's checks (the first bundle's timeline). */
  readonly proof: BrowserProof;
  /** The digests the commitment holds, as the verified entry bytes carry them. */
  readonly sdCount?: number | undefined;
  readonly reveals: readonly RevealProof[];
}

/** The roles of the entries an evidence bundle carries. */
const ROLES = ['commitment', 'protocol', 'notice', 'reveal'] as const;

/**
 * The accord's time-stamping authorities: from the newest version of the
 * chain this browser checks against, else the accord the node names.
 */
export function timestampingOf(chain: unknown, answer: AccordAnswer | undefined): AccordTimestamping | undefined {
  const versions = typeof chain === 'object' && chain !== null ? (chain as { versions?: unknown }).versions : undefined;
  const newest = Array.isArray(versions) && versions.length > 0 ? (versions[versions.length - 1] as { accord?: unknown }).accord : answer?.accord;
  try {
    return newest === undefined ? undefined : parseAccord(newest).timestamping;
  } catch {
    return undefined; // the chain check reports what is wrong with it
  }
}

/**
 * The RFC 3161 verifier for core's verifyEvaluationEvidence, when the bundle
 * carries tokens and the accord lists authorities: `@parley/core/tsa`
 * (pkijs) is imported here, on demand, never by the main chunk.
 */
async function tokenVerifier(evidence: Record<string, unknown>, timestamping: AccordTimestamping | undefined): Promise<VerifyEvidenceOptions['verifyTokens']> {
  const stamped = ROLES.some((r) => {
    const ts = (evidence[r] as { timestamps?: unknown } | undefined)?.timestamps;
    return Array.isArray(ts) && ts.length > 0;
  });
  if (!stamped || timestamping === undefined) return undefined;
  const { verifyTimestamps } = await import('@parley/core/tsa');
  return (note, tokens) => verifyTimestamps(note, tokens, timestamping);
}

type Check = BrowserProof['checks'][number];

/**
 * The bundle is about the entry this page shows: the verified entry of `role`
 * sits at `want` (party and index). Else a node could answer with the evidence
 * of another commitment (or reveal) that verifies, and its timeline and claims
 * would be shown under this one's name.
 */
export function positionCheck(role: 'commitment' | 'reveal', got: { readonly entry: { readonly from: { readonly party: string }; readonly seq: number } } | undefined, want: EntryAt): Check {
  const at = got === undefined ? undefined : `${got.entry.from.party}:${got.entry.seq}`;
  const shown = `${want.party}:${want.index}`;
  const ok = at === shown;
  const zh = role === 'commitment' ? '承诺' : '披露';
  return {
    id: `${role}.position`,
    ok,
    detail: ok
      ? { en: `The evidence's ${role} is ${shown}, the one shown here.`, 'zh-CN': `证据中的${zh}即此处所示的 ${shown}。` }
      : at === undefined
        ? { en: `The evidence carries no verified ${role} ${shown}.`, 'zh-CN': `证据中没有经验证的${zh} ${shown}。` }
        : { en: `The evidence's ${role} is ${at}, not ${shown} shown here.`, 'zh-CN': `证据中的${zh}为 ${at}，而非此处所示的 ${shown}。` },
  };
}

function errorOf(e: unknown): { code: string; message: string } {
  if (e instanceof ApiError) return { code: e.code || `HTTP_${e.status}`, message: e.message };
  if (isParleyError(e)) return { code: e.code, message: e.message };
  return { code: 'EVIDENCE_INVALID', message: e instanceof Error ? e.message : String(e) };
}

/**
 * Verifies one evaluation in this browser.
 * @param view the node's view (which reveals this party can open).
 * @returns the checks, the timeline and each openable reveal's claims, each marked.
 */
export async function proveEvaluation(view: EvaluationView, signal?: AbortSignal): Promise<EvaluationProof> {
  const base = `/v1/evaluations/${encodeURIComponent(view.commitment.party)}/${view.commitment.index}/evidence`;
  // Reveals the node opened without error (one it could not open it also cannot send: its code is shown instead).
  const openable = view.reveals.filter((r) => r.addressed && r.error === undefined);
  const wanted: (string | undefined)[] = openable.length > 0 ? openable.map((r) => `${r.party}:${r.index}`) : [undefined];
  const opts = signal !== undefined ? { signal } : {};
  let chain: unknown;
  let answer: AccordAnswer;
  try {
    [chain, answer] = await Promise.all([fetchChain(signal), api<AccordAnswer>('/v1/accord', opts)]);
  } catch (e) {
    return { proof: { ok: false, checks: [], error: errorOf(e) }, reveals: [] };
  }
  const checks: Check[] = [];
  const reveals: RevealProof[] = [];
  let timeline: BrowserProof['timeline'];
  let error: BrowserProof['error'];
  let sdCount: number | undefined;
  let ok = true;
  for (const [i, reveal] of wanted.entries()) {
    let evidence: EvidenceLike;
    try {
      evidence = await api<EvidenceLike>(`${base}${reveal !== undefined ? `?reveal=${encodeURIComponent(reveal)}` : ''}`, opts);
    } catch (e) {
      error ??= errorOf(e);
      ok = false;
      continue;
    }
    try {
      // The anchor: the accord chain (or, from a node without one, the signed founding accord) and the
      // version this browser trusted before (the explorer's record) — never the bundle's own chain.
      const anchor = chain ?? { accord: answer.accord, signatures: answer.signatures ?? [] };
      const trusted = readTrustedAccord(answer.id);
      const verifyTokens = await tokenVerifier(evidence as Record<string, unknown>, timestampingOf(chain, answer));
      const r = await verifyEvaluationEvidence(evidence as never, anchor as never, { ...(trusted !== undefined ? { trusted } : {}), ...(verifyTokens !== undefined ? { verifyTokens } : {}) });
      // The bundle must be about what this page shows (not judged past a failed chain, which stops core early,
      // nor for an entry whose signature check already failed).
      const judged = (role: string) => r.checks.some((c) => c.id === 'chain' && c.ok) && !r.checks.some((c) => c.id === `${role}.signature` && !c.ok);
      const here = [
        ...(judged('commitment') ? [positionCheck('commitment', r.entries.commitment, view.commitment)] : []),
        ...(reveal !== undefined && judged('reveal') ? [positionCheck('reveal', r.entries.reveal, openable[i]!)] : []),
      ];
      const all = [...r.checks, ...here];
      ok &&= all.every((c) => c.ok);
      if (i === 0) {
        checks.push(...all);
        timeline = r.timeline;
      } else checks.push(...all.filter((c) => !c.ok));
    } catch (e) {
      error ??= errorOf(e);
      ok = false;
    }
    if (reveal === undefined) {
      try {
        sdCount ??= commitmentOf(evidence).sd.length;
      } catch {
        // the checks above say what is wrong with the bundle
      }
      continue;
    }
    const rv = openable[i]!;
    let check: RevealCheck;
    try {
      const body = commitmentOf(evidence);
      sdCount ??= body.sd.length;
      check = checkReveal(body.sd, evidence.disclosures ?? [], rv.revealed);
    } catch (e) {
      check = { ok: false, error: 'EVIDENCE_MALFORMED', message: e instanceof Error ? e.message : String(e), claims: [] };
    }
    ok &&= check.ok;
    reveals.push({ reveal: keyOf(rv), check });
  }
  return { proof: { ok: ok && error === undefined, checks, ...(timeline !== undefined ? { timeline } : {}), ...(error !== undefined ? { error } : {}) }, sdCount, reveals };
}
