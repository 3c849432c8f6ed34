/**
 * The evidence bundle (issue 12, EVAL.md §5) and the in-toto/DSSE
 * attestation (§6) of one evaluation, built from what this node holds.
 *
 * Evidence: each entry (commitment, its protocol, the earliest valid notice,
 * the chosen opened reveal) with its RFC 9162 inclusion proof against a
 * cosigned checkpoint — the EARLIEST cosigned one this node keeps that
 * covers it (times.ts: the note captured when it was first cosigned, else
 * the latest held), so the bundle proves the time the view shows — and that
 * checkpoint's RFC 3161 tokens when the time-stamping part supplies them
 * ({@link setCheckpointTokens}); the accord chain file; the opened
 * disclosures of the reveal. Proofs for another party's log are computed
 * from its entries held here (received ∪ mirrored): no other node is asked.
 *
 * DSSE: the in-toto Statement v1 of the evaluation as opened here, signed
 * with this node's log key (ParleyNode.signWithLogKey); keyid
 * `<PARTY>:<key name>+<key id hex>` (the C2SP note key's name and hash).
 * A node that holds no reveal it can open has no claims to attest: 403
 * EVAL_NOT_ADDRESSED.
 */
import { type JsonObject, type Localized, ParleyError, canonicalize, encodeUtf8, fail, formatBase64, formatHex, getCrypto, MemoryTree, parseCheckpoint, parseNote, proveInclusion } from '@parley/core';
import type { LogStore } from '@parley/store';
import type { ParleyNode } from '../service.js';
import type { HeldEntry } from './refs.js';
import { type CapturedNote, capturedNotes, latestCosigned, provenBy } from './times.js';
import { type Evaluation, type OpenedReveal, timeline } from './views.js';

/** RFC 3161 tokens of a checkpoint (wire form `{authority, token: base64 DER}`), filled by the time-stamping part. */
export type CheckpointTokens = (party: string, size: number) => Promise<{ authority: string; token: string }[]>;
const tokensOf = new WeakMap<LogStore, CheckpointTokens>();

/** Lets the node's time-stamping (i12-tsa-node) supply the tokens of a checkpoint for evidence bundles. */
export function setCheckpointTokens(store: LogStore, f: CheckpointTokens | undefined): void {
  if (f) tokensOf.set(store, f);
  else tokensOf.delete(store);
}

export interface EvidenceEntry {
  readonly entry: string;
  readonly index: number;
  readonly proof: string[];
  readonly checkpoint: string;
  readonly timestamps: { authority: string; token: string }[];
}

export interface EvaluationEvidence {
  readonly type: 'parley/evaluation-evidence';
  readonly v: 1;
  readonly accord: string;
  readonly chain: string;
  readonly commitment: EvidenceEntry;
  readonly protocol?: EvidenceEntry;
  readonly notice?: EvidenceEntry;
  readonly reveal?: EvidenceEntry;
  readonly disclosures?: string[];
  readonly created: string;
}

/** What is provable, to whom (EVAL.md §4). TODO(i12-core-eval): core's EVALUATION_PROVABILITY once it lands. */
const EVALUATION_PROVABILITY: readonly Localized[] = [];

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

/** `h` with its proof against the earliest cosigned checkpoint held that covers it. */
async function evidenceEntry(node: ParleyNode, h: HeldEntry): Promise<EvidenceEntry> {
  const notes: CapturedNote[] = [...(await capturedNotes(node, h.party, h.index)), ...(await latestCosigned(node, h.party)).filter((c) => c.size > h.index && c.cosigner !== h.party)];
  notes.sort((a, b) => a.timestamp - b.timestamp);
  for (const n of notes) {
    const size = sizeOf(n.note);
    const proof = await proofFor(node, h, size);
    if (proof === undefined) continue;
    const timestamps = (await tokensOf.get(node.store)?.(h.party, size)) ?? [];
    return { entry: formatBase64(h.bytes), index: h.index, proof: proof.map(formatBase64), checkpoint: n.note, timestamps };
  }
  throw new ParleyError('EVIDENCE_INVALID', `no cosigned checkpoint of ${h.party}'s log covering entry ${h.index} is held here (yet)`);
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
    type: 'parley/evaluation-evidence',
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

/** DSSE v1 pre-authentication encoding: "DSSEv1" SP len(type) SP type SP len(body) SP body (lengths in ASCII decimal, bytes). */
export function pae(type: string, body: Uint8Array): Uint8Array {
  const t = encodeUtf8(type);
  const head = encodeUtf8(`DSSEv1 ${t.length} ${type} ${body.length} `);
  const out = new Uint8Array(head.length + body.length);
  out.set(head, 0);
  out.set(body, head.length);
  return out;
}

export const INTOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const STATEMENT_TYPE = 'https://in-toto.io/Statement/v1';
export const PREDICATE_TYPE = 'https://parley.dev/evaluation/v1';

/** The in-toto Statement v1 of `ev` as opened here (§6). */
export async function evaluationStatement(node: ParleyNode, ev: Evaluation, reveal: OpenedReveal): Promise<JsonObject> {
  const c = ev.commitment;
  const notice = firstNotice(ev);
  const proven = await provenBy(node, c.party, c.index);
  const checkpoint = (await capturedNotes(node, c.party, c.index))[0] ?? (await latestCosigned(node, c.party)).find((n) => n.size > c.index);
  const subject = notice
    ? { name: notice.body.model.id, digest: { sha256: notice.body.model.digest.replace(/^sha256:/, '') } }
    : { name: `parley:${c.party}/${c.index}`, digest: { sha256: formatHex(getCrypto().sha256(c.bytes)) } };
  const predicate: JsonObject = {
    claims: reveal.claims!,
    domains: [...ev.body.domains],
    stage: ev.body.stage,
    commitment: { party: c.party, index: c.index, leafHash: formatBase64(c.leafHash), ...(checkpoint ? { checkpoint: checkpoint.size } : {}) },
    ...(notice ? { notice: { party: notice.held.party, index: notice.held.index, leafHash: formatBase64(notice.held.leafHash), model: { ...notice.body.model }, deployedAt: notice.body.deployedAt } } : {}),
    reveal: { party: reveal.held.party, index: reveal.held.index, leafHash: formatBase64(reveal.held.leafHash) },
    ...(proven && notice ? { timeline: { provenBy: proven.time, provenHow: proven.how, ...timeline(proven.time, notice.body.deployedAt) } } : {}),
    provability: EVALUATION_PROVABILITY.map((t) => t.en),
  };
  return { _type: STATEMENT_TYPE, subject: [subject], predicateType: PREDICATE_TYPE, predicate };
}

export interface DsseEnvelope {
  readonly payloadType: string;
  readonly payload: string;
  readonly signatures: { keyid: string; sig: string }[];
}

/** The statement of `ev` in a DSSE envelope signed with this node's log key. */
export async function signEvaluation(node: ParleyNode, ev: Evaluation, pick?: { party: string; index: number }): Promise<DsseEnvelope> {
  const reveal = chooseReveal(ev, pick);
  if (reveal === undefined) fail('EVAL_NOT_ADDRESSED', `this node holds no reveal of ${ev.commitment.party}/${ev.commitment.index} it can open: there are no claims to attest`);
  const payload = encodeUtf8(canonicalize(await evaluationStatement(node, ev, reveal)));
  const sig = node.signWithLogKey(pae(INTOTO_PAYLOAD_TYPE, payload), 'current')!;
  return { payloadType: INTOTO_PAYLOAD_TYPE, payload: formatBase64(payload), signatures: [{ keyid: dsseKeyId(node), sig: formatBase64(sig) }] };
}

/** `<PARTY>:<key name>+<key id hex>` of the node's log key (the vkey's name and hash). */
export function dsseKeyId(node: ParleyNode): string {
  const [name, hash] = node.logKey.split('+');
  return `${node.party}:${name}+${hash}`;
}
