/**
 * Verifying an evaluation evidence bundle (format: evidence.ts) offline,
 * with nothing but the accord chain: each check reported as
 * `{id, ok, detail}` (detail in every language), `ok` only when all hold.
 *
 *     chain                       the accord chain (or signed accord) verifies; its channel is the bundle's
 *     <role>.signature            the entry, by its party's log key for that position (key epochs)
 *     <role>.checkpoint           log signature by a key valid at that size, origin; other parties' cosignatures
 *     <role>.inclusion            RFC 9162 §2.1.3.2 inclusion in that checkpoint
 *     <role>.timestamps           RFC 3161 tokens through the injected verifier (k of n)
 *     commitment.body             an evaluation.commitment with a valid clear body
 *     notice.refs / reveal.refs   cite the commitment by party, index and leaf hash (a reveal: its own sender's)
 *     notice.stage                the cited commitment is a report, not a protocol
 *     commitment.refs, protocol.body   the commitment follows a protocol-stage commitment of its sender
 *     timeline                    proven before the notice's deployedAt (timeline.ts)
 *     salts, disclosures          unique salts; each disclosure opens against the commitment
 *     reveal.disclosures          forwarded disclosures are those of the public reveal
 *
 *     role ∈ commitment | notice | protocol | reveal
 */
import { ParleyError, fail } from '../errors.js';
import { decodeUtf8, parseBase64 } from '../encoding.js';
import { parseJson } from '../ijson.js';
import { checkInclusion } from '../merkle/proof.js';
import { formatNote } from '../note/note.js';
import { cosignerKey, formatKeyId, formatVerifierKey, type VerifierKey } from '../note/key.js';
import { VerifierSet } from '../note/verifier.js';
import { openWitnessedCheckpoint } from '../note/witnessed.js';
import { PARTY_ID, type SignedAccord } from '../accord/accord.js';
import { verifyAccordChain } from '../accord/chain.js';
import { type AccordEpochs, type ChainFile, epochsOf, verifyChainFile } from '../accord/epochs.js';
import { type SignedEntry, type VerifiedEntry, verifyEntry } from '../entry/envelope.js';
import { checkBody, type EvaluationCommitmentBody } from '../entry/bodies.js';
import type { Localized } from '../taxonomy/types.js';
import { type JsonObject, type RevealedClaim, decodeDisclosure, openDisclosures } from './disclosure.js';
import { type EvaluationTimeline, type ProvenTime, evaluationTimeline, provenBy } from './timeline.js';
import { referencedCommitment } from './references.js';
import { type EvaluationEvidence, type EvidenceEntry, type EvidenceRole as Role, type TimestampToken, EVIDENCE_ROLES as ROLES, MAX_EVIDENCE_BYTES, checkEvaluationEvidence, parseEvaluationEvidence } from './evidence.js';

/** One check's outcome. */
export interface EvidenceCheck {
  /** Stable id: `chain`, `commitment.signature`, `notice.refs`, `timeline`, `disclosures`, … */
  readonly id: string;
  readonly ok: boolean;
  readonly detail: Localized;
}

/** What an injected RFC 3161 verifier reports (`@parley/core/tsa` verifyTimestamps, bound to the accord). */
export interface TokenVerification {
  readonly verified: readonly { readonly authority: string; readonly genTime: Date }[];
  readonly failed: readonly { readonly authority: string; readonly code: string }[];
  readonly trustedTime?: Date;
  readonly satisfied: boolean;
}

/** Options of {@link verifyEvaluationEvidence}. */
export interface VerifyEvidenceOptions {
  /** Verifies a checkpoint's tokens (the CLI and web pass `(note, t) => verifyTimestamps(note, t, accord.timestamping)`). */
  readonly verifyTokens?: (note: string, tokens: readonly TimestampToken[]) => Promise<TokenVerification>;
  /** Version digest the verifier already trusts (verifyChainFile `trusted`). */
  readonly trusted?: string;
}

/** The result of {@link verifyEvaluationEvidence}. */
export interface EvidenceVerification {
  readonly checks: readonly EvidenceCheck[];
  /** Every check holds. */
  readonly ok: boolean;
  readonly timeline?: EvaluationTimeline;
  /** When the commitment provably existed. */
  readonly provenBy?: ProvenTime;
  /** The opened claims, when disclosures are present and open. */
  readonly claims?: JsonObject;
  readonly revealed?: readonly RevealedClaim[];
  /** The verified entries by role. */
  readonly entries: { readonly [R in Role]?: VerifiedEntry };
  /** The commitment's clear members. */
  readonly commitment?: EvaluationCommitmentBody;
}

const L = (en: string, zh: string): Localized => ({ en, 'zh-CN': zh });
const ROLE_ZH: Record<Role, string> = { commitment: '承诺', notice: '部署通知', protocol: '协议承诺', reveal: '披露' };

function errText(e: unknown): string {
  return e instanceof ParleyError ? `${e.code}: ${e.message}` : String(e);
}

/** The accord chain and its epochs from a chain file or a signed accord (JSON text or parsed). */
function chainOf(chain: string | Uint8Array | ChainFile | SignedAccord, trusted?: string): AccordEpochs {
  let v: unknown = chain;
  if (typeof chain === 'string' || chain instanceof Uint8Array) v = parseJson(chain, { maxBytes: MAX_EVIDENCE_BYTES });
  if (typeof v === 'object' && v !== null && 'versions' in v) return verifyChainFile(v as ChainFile, trusted === undefined ? {} : { trusted }).epochs;
  const c = verifyAccordChain([v as SignedAccord], trusted === undefined ? {} : { trusted });
  return epochsOf(c, []);
}

/** The other parties' witness keys (all versions), by cosigner key name+id. */
function witnessesOf(epochs: AccordEpochs, owner: string): Map<string, { party: string; key: VerifierKey }> {
  const out = new Map<string, { party: string; key: VerifierKey }>();
  const parties = new Set(epochs.chain.versions.flatMap((v) => v.accord.parties.map((p) => p.id)));
  for (const p of parties) {
    if (p === owner) continue;
    for (const w of epochs.witnessKeys(p)) {
      const key = cosignerKey(w.key);
      out.set(`${key.name}+${formatKeyId(key.keyId)}`, { party: p, key });
    }
  }
  return out;
}

/**
 * Verifies an evidence bundle offline (module doc).
 * @param evidence the bundle (text, bytes or parsed).
 * @param chain the accord chain the verifier trusts (chain file or signed accord); default the bundle's own `chain`.
 * @returns every check, `ok` when all hold, the timeline and the opened claims.
 * @throws ParseError `EVIDENCE_MALFORMED` for a bundle that does not parse (nothing to check).
 */
export async function verifyEvaluationEvidence(
  evidence: EvaluationEvidence | string | Uint8Array,
  chain?: string | Uint8Array | ChainFile | SignedAccord,
  opts: VerifyEvidenceOptions = {},
): Promise<EvidenceVerification> {
  const ev = typeof evidence === 'string' || evidence instanceof Uint8Array ? parseEvaluationEvidence(evidence) : checkEvaluationEvidence(evidence);
  const checks: EvidenceCheck[] = [];
  const add: Add = (id, ok, detail) => checks.push({ id, ok, detail });
  const entries: { [R in Role]?: VerifiedEntry } = {};
  const proven: { [R in Role]?: ProvenTime } = {};
  const done = (extra: Partial<EvidenceVerification> = {}): EvidenceVerification => ({ checks, ok: checks.every((c) => c.ok), entries, ...extra });

  let epochs: AccordEpochs;
  try {
    epochs = chainOf(chain ?? ev.chain, opts.trusted);
    if (epochs.chain.channel !== ev.accord) throw new ParleyError('ACCORD_CHAIN', `the chain is of channel ${epochs.chain.channel}, the evidence of ${ev.accord}`);
    add('chain', true, L(`Accord chain verifies (channel ${ev.accord.slice(0, 16)}…, ${epochs.chain.versions.length} version(s)).`, `协定链验证通过（频道 ${ev.accord.slice(0, 16)}…，共 ${epochs.chain.versions.length} 个版本）。`));
  } catch (e) {
    add('chain', false, L(`Accord chain does not verify: ${errText(e)}`, `协定链验证失败：${errText(e)}`));
    return done();
  }
  for (const role of ROLES) {
    const item = ev[role];
    if (!item) continue;
    const r = await checkItem(role, item, epochs, opts, add);
    if (r.entry) entries[role] = r.entry;
    if (r.proven) proven[role] = r.proven;
  }
  const body = checkReferences(ev, entries, add);
  // Committed before deployment.
  let timeline: EvaluationTimeline | undefined;
  const c = entries.commitment;
  if (c && entries.notice) {
    try {
      timeline = evaluationTimeline({ commitment: { entry: c.entry, ...(proven.commitment ? { provenBy: proven.commitment } : {}) }, notice: { entry: entries.notice.entry } });
      add('timeline', timeline.committedBefore, timeline.statement);
    } catch (e) {
      add('timeline', false, L(`The notice's deployment time cannot be read (sealed or malformed): ${errText(e)}`, `无法读取部署通知中的部署时间（已加密或格式错误）：${errText(e)}`));
    }
  }
  const opened = body ? checkDisclosures(ev, body, entries.reveal, add) : undefined;
  return done({ ...(timeline ? { timeline } : {}), ...(proven.commitment ? { provenBy: proven.commitment } : {}), ...(opened ?? {}), ...(body ? { commitment: body } : {}) });
}

type Add = (id: string, ok: boolean, detail: Localized) => void;

/** One entry of the bundle: its signature, checkpoint, inclusion, time stamps; and when it provably existed. */
async function checkItem(role: Role, item: EvidenceEntry, epochs: AccordEpochs, opts: VerifyEvidenceOptions, add: Add): Promise<{ entry?: VerifiedEntry; proven?: ProvenTime }> {
  const zh = ROLE_ZH[role];
  let v: VerifiedEntry;
  try {
    const bytes = parseBase64(item.entry);
    const party = (JSON.parse(decodeUtf8(bytes)) as SignedEntry).from?.party;
    // The key of the party's epoch at this position (key rotations: accord/epochs.ts).
    const epoch = typeof party === 'string' && PARTY_ID.test(party) ? epochs.keysFor(party, item.index) : undefined;
    if (!epoch) throw new ParleyError('ENTRY_INVALID', `no key of ${String(party)} governs index ${item.index}`);
    v = verifyEntry(bytes, epoch.version, epoch.member);
    if (v.entry.seq !== item.index) throw new ParleyError('ENTRY_INVALID', `entry seq ${v.entry.seq} is not its index ${item.index}`);
    add(`${role}.signature`, true, L(`The ${role} ${v.entry.from.party}:${item.index} (${v.entry.type}) is signed by ${v.entry.from.party}'s log key for that position.`, `${zh} ${v.entry.from.party}:${item.index}（${v.entry.type}）由 ${v.entry.from.party} 在该位置有效的日志密钥签名。`));
  } catch (e) {
    add(`${role}.signature`, false, L(`The ${role} entry does not verify: ${errText(e)}`, `${zh}条目验证失败：${errText(e)}`));
    return {};
  }
  const cp = checkCheckpoint(role, item, v, epochs, add);
  if (!cp) return { entry: v };
  const stamped = await checkTimestamps(role, item, cp.logNote, cp.treeSize, opts, add);
  const byCosig = provenBy(item.index, [{ treeSize: cp.treeSize, cosignatures: cp.cosignatures }], v.entry.from.party);
  const p = byCosig && stamped ? (stamped.time.getTime() < byCosig.time.getTime() ? stamped : byCosig) : (byCosig ?? stamped);
  return { entry: v, ...(p ? { proven: p } : {}) };
}

/** The checkpoint (log signature by a key valid at its size, origin, other parties' cosignatures) and the entry's inclusion in it. */
function checkCheckpoint(role: Role, item: EvidenceEntry, v: VerifiedEntry, epochs: AccordEpochs, add: Add): { treeSize: number; logNote: string; cosignatures: { party: string; timestamp: number }[] } | undefined {
  const owner = v.entry.from.party;
  const witnesses = witnessesOf(epochs, owner);
  let treeSize = 0;
  try {
    const keys = new Map(epochs.epochs(owner).map((e) => [formatVerifierKey(e.member.logKey), e.member.logKey] as const));
    const w = openWitnessedCheckpoint(item.checkpoint, new VerifierSet([...keys.values()]), [...witnesses.values()].map((x) => x.key));
    treeSize = w.checkpoint.treeSize;
    // The log key that signed must be valid for this size (rotation epochs), and the origin its name.
    const valid = new Map(epochs.checkpointKeys(owner, treeSize).map((m) => [`${m.logKey.name}+${formatKeyId(m.logKey.keyId)}`, m.logKey] as const));
    const signer = w.signers.map((s) => valid.get(`${s.name}+${formatKeyId(s.keyId)}`)).find((k) => k !== undefined);
    if (!signer) throw new ParleyError('KEY_RETIRED', `checkpoint of size ${treeSize} is not signed by a key of ${owner} valid at that size`);
    if (w.checkpoint.origin !== signer.name) throw new ParleyError('ORIGIN_MISMATCH', `checkpoint origin ${w.checkpoint.origin} is not ${owner}'s log`);
    // The note as the log signed it (its own signature lines only): what a node time-stamps.
    const logNote = decodeUtf8(formatNote({ text: w.note.text, signatures: w.signers }));
    const cosignatures = w.cosignatures.map((c) => ({ party: witnesses.get(`${c.name}+${formatKeyId(c.keyId)}`)!.party, timestamp: c.timestamp }));
    const who = [...new Set(cosignatures.map((c) => c.party))].join(', ') || 'none';
    add(`${role}.checkpoint`, true, L(`Checkpoint of size ${treeSize} is signed by ${owner}'s log; cosigned by: ${who}.`, `大小为 ${treeSize} 的检查点由 ${owner} 的日志签名；联署方：${who === 'none' ? '无' : who}。`));
    // RFC 9162 §2.1.3.2 against the signed checkpoint.
    checkInclusion(item.proof.map((h) => parseBase64(h)), treeSize, w.checkpoint.rootHash, item.index, v.leafHash);
    add(`${role}.inclusion`, true, L(`The entry is included at index ${item.index} of that checkpoint.`, `该条目包含在该检查点的第 ${item.index} 号位置。`));
    return { treeSize, logNote, cosignatures };
  } catch (e) {
    const id = treeSize === 0 ? `${role}.checkpoint` : `${role}.inclusion`;
    add(id, false, L(`${id}: ${errText(e)}`, `${id}：${errText(e)}`));
    return undefined;
  }
}

/** The checkpoint's RFC 3161 tokens through the injected verifier; the trusted time when k of n verified. */
async function checkTimestamps(role: Role, item: EvidenceEntry, logNote: string, treeSize: number, opts: VerifyEvidenceOptions, add: Add): Promise<ProvenTime | undefined> {
  if (item.timestamps.length === 0) return undefined;
  if (!opts.verifyTokens) {
    add(`${role}.timestamps`, false, L('Time stamps present but not checked: no RFC 3161 verifier was given.', '存在时间戳但未核验：未提供 RFC 3161 验证器。'));
    return undefined;
  }
  try {
    // A token's imprint is SHA-256 of the note as stamped: the log's own signed note, or the note with
    // its cosignatures as served; both are tried, the one more tokens verify against counts.
    let r = await opts.verifyTokens(logNote, item.timestamps);
    if (r.failed.length > 0 && logNote !== item.checkpoint) {
      const full = await opts.verifyTokens(item.checkpoint, item.timestamps);
      if (full.verified.length > r.verified.length) r = full;
    }
    const names = r.verified.map((x) => x.authority);
    const failed = r.failed.map((f) => `${f.authority} ${f.code}`).join(', ');
    const ok = r.satisfied && r.failed.length === 0;
    add(`${role}.timestamps`, ok, ok
      ? L(`RFC 3161 time stamps verify (${names.join(', ')}); trusted time ${r.trustedTime?.toISOString() ?? '—'}.`, `RFC 3161 时间戳验证通过（${names.join('、')}）；可信时间 ${r.trustedTime?.toISOString() ?? '—'}。`)
      : L(`RFC 3161 time stamps do not all verify${failed ? `: ${failed}` : ''}${r.satisfied ? '' : ' (too few authorities)'}.`, `RFC 3161 时间戳未全部通过${failed ? `：${failed}` : ''}${r.satisfied ? '' : '（时间戳机构数量不足）'}。`));
    // The verifier applied k-of-n: its trusted time is the k-th smallest over distinct authorities (timeline.ts).
    return r.satisfied && r.trustedTime ? { time: r.trustedTime, how: 'timestamp', treeSize, by: names } : undefined;
  } catch (e) {
    add(`${role}.timestamps`, false, L(`Time stamps do not verify: ${errText(e)}`, `时间戳验证失败：${errText(e)}`));
    return undefined;
  }
}

/** The commitment's body, and the references: notice and reveal to the commitment, the commitment to its protocol. */
function checkReferences(ev: EvaluationEvidence, entries: { readonly [R in Role]?: VerifiedEntry }, add: Add): EvaluationCommitmentBody | undefined {
  const c = entries.commitment;
  let body: EvaluationCommitmentBody | undefined;
  if (c) {
    try {
      if (c.entry.type !== 'evaluation.commitment' || !('clear' in c.entry.body)) throw new ParleyError('EVAL_COMMITMENT_MISSING', `${c.entry.type} is not an evaluation commitment`);
      body = checkBody('evaluation.commitment', c.entry.body.clear);
      add('commitment.body', true, L(`Evaluation commitment (${body.stage}) of ${body.sd.length} digests; domains in the clear: ${body.domains.join(', ')}.`, `评估承诺（${body.stage === 'report' ? '报告' : '协议'}），共 ${body.sd.length} 个摘要；公开领域：${body.domains.join('、')}。`));
    } catch (e) {
      add('commitment.body', false, L(`Not an evaluation commitment: ${errText(e)}`, `不是评估承诺：${errText(e)}`));
    }
  }
  const refersTo = (role: Role, target: VerifiedEntry | undefined, sameSender: boolean) => {
    const e = entries[role];
    if (!e || !target) return;
    const r = e.entry.refs[0];
    // The reference rule every holder applies (references.ts): party, index and leaf hash of a commitment.
    let ok = !sameSender || e.entry.from.party === target.entry.from.party;
    try {
      referencedCommitment(r, target);
    } catch {
      ok = false;
    }
    const what = role === 'commitment' ? 'the protocol' : 'the commitment';
    add(`${role}.refs`, ok, ok
      ? L(`The ${role} cites ${what} by leaf hash.`, `${ROLE_ZH[role]}通过叶哈希引用了${role === 'commitment' ? '协议承诺' : '该承诺'}。`)
      : L(`The ${role} does not cite ${what} (${r ? `${r.party}:${r.index}` : 'no reference'})${sameSender ? ' of its own log' : ''}.`, `${ROLE_ZH[role]}未引用${role === 'commitment' ? '协议承诺' : '该承诺'}。`));
  };
  if (ev.notice) refersTo('notice', c, false);
  if (ev.notice && body && body.stage !== 'report') add('notice.stage', false, L('A deployment notice cites a report-stage commitment, not a protocol.', '部署通知应引用报告阶段的承诺，而非协议。'));
  if (ev.reveal) refersTo('reveal', c, true);
  if (ev.protocol) refersTo('commitment', entries.protocol, true);
  if (entries.protocol) {
    const pe = entries.protocol.entry;
    const ok = pe.type === 'evaluation.commitment' && 'clear' in pe.body && checkBodyOk(pe.body.clear, 'protocol');
    add('protocol.body', ok, ok ? L('The protocol is a protocol-stage commitment.', '协议为协议阶段的评估承诺。') : L('The protocol entry is not a protocol-stage commitment.', '协议条目不是协议阶段的评估承诺。'));
  }
  return body;
}

/** The disclosures — forwarded, or the public reveal's own — against the commitment: unique salts, each digest committed. */
function checkDisclosures(ev: EvaluationEvidence, body: EvaluationCommitmentBody, rv: VerifiedEntry | undefined, add: Add): { claims: JsonObject; revealed: RevealedClaim[] } | undefined {
  const clearReveal = rv && 'clear' in rv.entry.body ? (rv.entry.body.clear as { disclosures?: unknown }) : undefined;
  const inReveal = Array.isArray(clearReveal?.disclosures) ? (clearReveal.disclosures as string[]) : undefined;
  const disclosures = ev.disclosures ?? inReveal;
  if (!disclosures) return undefined;
  const salts = new Set<string>();
  let unique = true;
  try {
    for (const d of disclosures) {
      const s = decodeDisclosure(d).salt;
      if (salts.has(s)) unique = false;
      salts.add(s);
    }
  } catch {
    unique = false;
  }
  add('salts', unique, unique ? L(`Each of the ${disclosures.length} disclosures has its own salt.`, `${disclosures.length} 项披露各有独立的盐值。`) : L('Two disclosures share a salt (or one is malformed).', '有两项披露共用同一盐值（或存在格式错误的披露）。'));
  if (clearReveal && ev.disclosures) {
    const all = ev.disclosures.every((d) => (inReveal ?? []).includes(d));
    add('reveal.disclosures', all, all ? L('The forwarded disclosures are those of the public reveal.', '转交的披露即公开披露中的内容。') : L('Some forwarded disclosures are not in the public reveal.', '部分转交的披露不在公开披露中。'));
  }
  try {
    const opened = openDisclosures(body.sd, disclosures);
    add('disclosures', true, L(`All ${opened.revealed.length} revealed claims match their committed digests.`, `全部 ${opened.revealed.length} 项披露的声明均与所承诺的摘要相符。`));
    return opened;
  } catch (e) {
    add('disclosures', false, L(`Disclosures do not match the commitment: ${errText(e)}`, `披露与承诺不符：${errText(e)}`));
    return undefined;
  }
}

function checkBodyOk(v: unknown, stage: 'protocol' | 'report'): boolean {
  try {
    return checkBody('evaluation.commitment', v).stage === stage;
  } catch {
    return false;
  }
}

/**
 * Throws unless every check of a verification holds (for callers that want an
 * error, e.g. a node refusing to serve a DSSE statement over bad evidence).
 * @throws VerificationError `EVIDENCE_INVALID` naming the failed checks.
 */
export function assertEvidenceOk(r: EvidenceVerification): void {
  const bad = r.checks.filter((c) => !c.ok).map((c) => c.id);
  if (bad.length > 0) fail('EVIDENCE_INVALID', `evidence checks failed: ${bad.join(', ')}`);
}
