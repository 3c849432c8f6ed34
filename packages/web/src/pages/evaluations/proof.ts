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
 * `@parley/core/tsa` from this page only, so the main chunk never carries
 * it (test/assets.e2e.test.ts checks).
 */
import { isParleyError, verifyEvaluationEvidence } from '@parley/core';
import { api, ApiError } from '../../api.js';
import { fetchChain } from '../explorer/fetchInput.js';
import { type BrowserProof, type EvaluationView, type EvidenceLike, type RevealCheck, checkReveal, commitmentOf, keyOf } from './model.js';

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

/** The options core's verifier takes for time-stamp tokens: the TSA verifier, loaded on demand. */
async function tsaOptions(): Promise<Record<string, unknown>> {
  return {};
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
  const openable = view.reveals.filter((r) => r.addressed && r.error !== 'EVAL_NOT_ADDRESSED');
  const wanted: (string | undefined)[] = openable.length > 0 ? openable.map((r) => `${r.party}:${r.index}`) : [undefined];
  const opts = signal !== undefined ? { signal } : {};
  let chain: unknown;
  let tsa: Record<string, unknown>;
  try {
    [chain, tsa] = await Promise.all([fetchChain(signal), tsaOptions()]);
  } catch (e) {
    return { proof: { ok: false, checks: [], error: errorOf(e) }, reveals: [] };
  }
  const checks: BrowserProof['checks'][number][] = [];
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
      const r = await verifyEvaluationEvidence(evidence as never, chain as never, tsa as never);
      ok &&= r.ok;
      if (i === 0) {
        checks.push(...r.checks);
        timeline = r.timeline;
      } else checks.push(...r.checks.filter((c) => !c.ok));
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
