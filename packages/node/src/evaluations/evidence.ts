/**
 * The evidence bundle (issue 12, EVAL.md §5) and the in-toto/DSSE
 * attestation (§6) of one evaluation, built from what this node holds.
 *
 * Evidence: each entry (commitment, its protocol, the earliest valid notice,
 * the chosen opened reveal) with its RFC 9162 inclusion proof against a
 * cosigned checkpoint — the EARLIEST cosigned one this node keeps that
 * covers it (times.ts: the note captured when it was first cosigned, else
 * the latest held), so the bundle proves the time the view shows — and that
 * checkpoint's RFC 3161 tokens held (tsa/held.ts); the accord chain file; the opened
 * disclosures of the reveal. Proofs for another party's log are computed
 * from its entries held here (received ∪ mirrored): no other node is asked.
 *
 * DSSE: the in-toto Statement v1 of the evaluation as opened here (core
 * evaluationStatement), signed with this node's log key
 * (ParleyNode.signWithLogKey); keyid `<PARTY>:<key name>+<key id hex>`
 * (core dsseKeyId). A node that holds no reveal it can open has no claims to
 * attest: 403 EVAL_NOT_ADDRESSED; none without a deployment notice (the
 * statement's subject is the deployed model): 422 DSSE_INVALID. Co-signing
 * (the CLI merges several parties' signatures over ONE payload): given
 * another party's payload, the node signs it as given when the facts of the
 * logs agree with its own statement (all but the proof of time: `timeline`
 * and `commitment.checkpointSize` differ by the cosignatures each holds),
 * and its timeline agrees on committedBefore.
 */
import {
  type DsseEnvelope,
  type DsseSigner,
  type EvaluationEvidence,
  type EvidenceEntry,
  type InTotoStatement,
  type JsonObject,
  DSSE_PAYLOAD_TYPE,
  EVIDENCE_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  PARLEY_EVALUATION_PREDICATE,
  MemoryTree,
  ParleyError,
  canonicalize,
  canonicalizeToBytes,
  dsseKeyId,
  evaluationStatement,
  evaluationTimeline,
  evidenceEntryOf,
  fail,
  formatBase64,
  parseBase64,
  parseCheckpoint,
  parseNote,
  parseVerifierKey,
  proveInclusion,
  signDsse,
} from '@parley/core';
import type { ParleyNode } from '../service.js';
import type { HeldEntry } from './refs.js';
import { type CapturedNote, capturedNotes, earliestStamp, evaluationProvenBy, latestCosigned } from './times.js';
import { heldTimestampSet } from '../tsa/held.js';
import type { Evaluation, OpenedReveal } from './views.js';

const sizeOf = (note: string) => parseCheckpoint(parseNote(note).text).treeSize;

/** The inclusion proof of `h` in `party`'s tree of `size`, from what this node holds; undefined when it does not hold every leaf. */
async function proofFor(node: ParleyNode, h: HeldEntry, size: number): Promise<Uint8Array[] | undefined> {
  if (h.party === node.party) return size <= node.treeSize ? node.inclusionProof(h.index, size) : undefined;
  const tree = new MemoryTree();
  for (let from = 0; from < size; ) {
    const page = await node.store.mirrored(h.party, from, Math.min(size, from + 256));
    if (page.length === 0 || page[0]!.index !== from) return undefined;
    for (const e of page) tree.append(e.leafHash);
    from = page[page.length - 1]!.index + 1;
  }
  return tree.size === size ? proveInclusion(size, h.index, tree) : undefined;
}

/**
 * `h` with its proof against the checkpoint held that proves it earliest:
 * a cosigned note (with that size's tokens when held), or a stamped note
 * whose tokens' trusted time is earlier than every cosignature (a tie goes
 * to the cosignature).
 */
async function evidenceEntry(node: ParleyNode, h: HeldEntry): Promise<EvidenceEntry> {
  const notes: CapturedNote[] = [...(await capturedNotes(node, h.party, h.index)), ...(await latestCosigned(node, h.party)).filter((c) => c.size > h.index && c.cosigner !== h.party)];
  const candidates: { time: number; note: string; tokens?: { authority: string; token: string }[] }[] = notes.map((n) => ({ time: n.timestamp * 1000, note: n.note }));
  const stamped = await earliestStamp(node, h.party, h.index);
  if (stamped !== undefined) candidates.push({ time: stamped.time, note: stamped.note, tokens: stamped.tokens });
  candidates.sort((a, b) => a.time - b.time); // stable: a cosignature before a stamp of the same time
  for (const n of candidates) {
    const size = sizeOf(n.note);
    const proof = await proofFor(node, h, size);
    if (proof === undefined) continue;
    const timestamps = n.tokens ?? (await heldTimestampSet(node.store, h.party, size))?.timestamps.map(({ authority, token }) => ({ authority, token })) ?? [];
    return evidenceEntryOf(h.bytes, h.index, proof, n.note, timestamps);
  }
  throw new ParleyError('EVIDENCE_INVALID', `no cosigned or time-stamped checkpoint of ${h.party}'s log covering entry ${h.index} is held here (yet)`);
}

/** The reveal to use: `pick` (PARTY:INDEX) or the latest one opened here without error. */
export function chooseReveal(ev: Evaluation, pick?: { party: string; index: number }): OpenedReveal | undefined {
  if (pick) {
    const r = ev.reveals.find((x) => x.held.party === pick.party && x.held.index === pick.index);
    if (r === undefined) fail('EVAL_COMMITMENT_MISSING', `${pick.party}/${pick.index} is not a reveal of this commitment held here`);
    if (!r.addressed || r.claims === undefined) fail('EVAL_NOT_ADDRESSED', `${pick.party}/${pick.index} is not addressed to this party, or this role may not read it`);
    return r;
  }
  return [...ev.reveals].reverse().find((r) => r.claims !== undefined && r.error === undefined);
}

/** The earliest valid deployment notice. */
function firstNotice(ev: Evaluation) {
  return ev.notices.filter((n) => n.error === undefined).sort((a, b) => Date.parse(a.body.deployedAt) - Date.parse(b.body.deployedAt))[0];
}

/** The evidence bundle of §5 for `ev`; `pick` chooses the reveal (default: the latest opened here). */
export async function evaluationEvidence(node: ParleyNode, ev: Evaluation, pick?: { party: string; index: number }): Promise<EvaluationEvidence> {
  const reveal = chooseReveal(ev, pick);
  const notice = firstNotice(ev);
  return {
    type: EVIDENCE_TYPE,
    v: 1,
    accord: node.accord.id,
    chain: canonicalize(await node.chainFile()),
    commitment: await evidenceEntry(node, ev.commitment),
    ...(ev.protocol ? { protocol: await evidenceEntry(node, ev.protocol) } : {}),
    ...(notice ? { notice: await evidenceEntry(node, notice.held) } : {}),
    ...(reveal ? { reveal: await evidenceEntry(node, reveal.held), disclosures: [...reveal.body!.disclosures] } : {}),
    created: new Date().toISOString(),
  };
}

/**
 * The in-toto Statement v1 of `ev` as opened here (EVAL.md §6, core
 * evaluationStatement): subject = the deployed model of the earliest valid
 * notice, claims = the reveal's, the commitment's earliest cosigned
 * checkpoint size and the timeline this node proves.
 * @throws `DSSE_INVALID` when no deployment notice is held (the statement has no subject).
 */
export async function statementOf(node: ParleyNode, ev: Evaluation, reveal: OpenedReveal): Promise<InTotoStatement> {
  const c = ev.commitment;
  const notice = firstNotice(ev);
  if (notice === undefined) fail('DSSE_INVALID', `no deployment notice of ${c.party}/${c.index} is held here: an in-toto statement names the deployed model as its subject`);
  const proven = await evaluationProvenBy(node, c.party, c.index);
  const checkpoint = (await capturedNotes(node, c.party, c.index))[0] ?? (await latestCosigned(node, c.party)).find((n) => n.size > c.index);
  const t = evaluationTimeline({ commitment: { entry: c.entry, ...(proven ? { provenBy: new Date(proven.time) } : {}) }, notice: { entry: notice.held.entry, body: notice.body } });
  return evaluationStatement({
    model: notice.body.model,
    stage: ev.body.stage,
    domains: ev.body.domains,
    claims: reveal.claims!,
    commitment: { party: c.party, index: c.index, leafHash: formatBase64(c.leafHash), checkpointSize: checkpoint ? sizeOf(checkpoint.note) : 0 },
    notice: { party: notice.held.party, index: notice.held.index, leafHash: formatBase64(notice.held.leafHash), deployedAt: notice.body.deployedAt },
    timeline: { committedBefore: t.committedBefore, days: t.days, deployedAt: t.deployedAt, ...(t.marginSeconds !== undefined ? { marginSeconds: t.marginSeconds } : {}), ...(t.provenBy !== undefined ? { provenBy: t.provenBy } : {}) },
  });
}

/** This node's DSSE signer: its log key, which stays inside ParleyNode. */
function signerOf(node: ParleyNode): DsseSigner {
  return { keyid: dsseKeyId(node.party, parseVerifierKey(node.logKey)), sign: (m) => node.signWithLogKey(m, 'current')! };
}

/** The statement's parts every holder of the same reveal agrees on (the log's facts): all but the proof of time each node holds. */
function logFacts(statement: JsonObject): string {
  const predicate = { ...(statement['predicate'] as JsonObject) };
  delete predicate['timeline'];
  const commitment = { ...(predicate['commitment'] as JsonObject) };
  delete commitment['checkpointSize'];
  return canonicalize({ ...statement, predicate: { ...predicate, commitment } });
}

/** Parses a payload given to co-sign: base64 of an in-toto statement of the Parley evaluation predicate. */
function givenStatement(payload: string): { bytes: Uint8Array; statement: JsonObject } {
  try {
    const bytes = parseBase64(payload, 'payload');
    const statement = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as JsonObject;
    if (statement['_type'] !== IN_TOTO_STATEMENT_TYPE || statement['predicateType'] !== PARLEY_EVALUATION_PREDICATE || typeof statement['predicate'] !== 'object') throw new Error('not a Parley evaluation statement');
    return { bytes, statement };
  } catch (e) {
    return fail('DSSE_INVALID', `payload: ${e instanceof Error ? e.message : 'not a statement'}`);
  }
}

/**
 * The statement of `ev` in a DSSE envelope signed with this node's log key;
 * with `payload`, that payload co-signed (module doc).
 * @throws `EVAL_NOT_ADDRESSED` when no reveal opens here; `DSSE_INVALID`.
 */
export async function signEvaluation(node: ParleyNode, ev: Evaluation, pick?: { party: string; index: number }, payload?: string): Promise<DsseEnvelope> {
  const given = payload === undefined ? undefined : givenStatement(payload);
  // Co-signing without `pick`: the statement names no reveal, so each reveal opened here is tried for the one whose claims it carries.
  const candidates = pick !== undefined || given === undefined ? [chooseReveal(ev, pick)] : ev.reveals.filter((r) => r.claims !== undefined && r.error === undefined);
  if (candidates[0] === undefined) fail('EVAL_NOT_ADDRESSED', `this node holds no reveal of ${ev.commitment.party}/${ev.commitment.index} it can open: there are no claims to attest`);
  let ours: JsonObject | undefined;
  for (const reveal of candidates) {
    const s = (await statementOf(node, ev, reveal!)) as unknown as JsonObject;
    if (given === undefined || logFacts(given.statement) === logFacts(s)) {
      ours = s;
      break;
    }
  }
  if (ours === undefined) return fail('DSSE_INVALID', 'the statement does not match what this node holds (claims, subject, or the entries it names)');
  let bytes = canonicalizeToBytes(ours);
  if (given) {
    const theirs = (given.statement['predicate'] as { timeline?: { committedBefore?: unknown } }).timeline;
    const mine = (ours['predicate'] as { timeline?: { committedBefore?: unknown } }).timeline;
    if (theirs !== undefined && theirs.committedBefore !== mine?.committedBefore) fail('DSSE_INVALID', 'this node does not prove the statement\u2019s timeline (committed before deployment)');
    bytes = given.bytes;
  }
  return signDsse(bytes, signerOf(node), DSSE_PAYLOAD_TYPE);
}
