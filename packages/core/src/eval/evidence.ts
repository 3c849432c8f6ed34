/**
 * The evaluation evidence bundle: everything `parley eval verify` needs to
 * check an evaluation offline, with nothing but the accord.
 *
 * RFC 8785 canonical JSON (one spelling), closed member sets:
 *
 *     type         "parley/evaluation-evidence"
 *     v            1
 *     accord       channel id (hex SHA-256 of accord version 1)
 *     chain        the accord chain file text (`GET /v1/accord/chain`), or a signed accord (version 1) as JSON text
 *     commitment   EvidenceEntry      the evaluation.commitment
 *     notice?      EvidenceEntry      a deployment.notice citing it
 *     protocol?    EvidenceEntry      the protocol commitment it follows
 *     reveal?      EvidenceEntry      an evaluation.reveal of it
 *     disclosures? [disclosure]       opened disclosures (a recipient forwards these)
 *     created      time (toISOString form)
 *
 *     EvidenceEntry = {entry: base64 entry bytes, index, proof: [base64 32-byte hash]≤63,
 *                      checkpoint: checkpoint note text (with cosignatures),
 *                      timestamps: [{authority, token: base64 DER}]≤8}
 *
 * Verification ({@link verifyEvaluationEvidence}) reports each check
 * (`{id, ok, detail}`, detail in every language) rather than stopping at the
 * first failure, so a verifier sees all that holds and all that does not;
 * `ok` only when every check holds.
 *
 * RFC 3161 tokens are checked by an injected verifier (`@parley/core/tsa`'s
 * `verifyTimestamps`, bound to the accord's `timestamping`): this module,
 * part of core's main entry, must not pull in certificate code. A token is
 * over the note as it was stamped — the log's own signed note (what a node
 * stamps) or the note with its cosignatures — so both are tried.
 */
import { ParleyError, fail } from '../errors.js';
import { decodeUtf8, formatBase64, parseBase64 } from '../encoding.js';
import { canonicalize } from '../cjson.js';
import { parseJson } from '../ijson.js';
import { HASH_SIZE } from '../merkle/hash.js';
import { checkInclusion } from '../merkle/proof.js';
import { MAX_NOTE_BYTES, formatNote } from '../note/note.js';
import { cosignerKey, formatKeyId, formatVerifierKey, type VerifierKey } from '../note/key.js';
import { VerifierSet } from '../note/verifier.js';
import { openWitnessedCheckpoint } from '../note/witnessed.js';
import { PARTY_ID, type SignedAccord } from '../accord/accord.js';
import { verifyAccordChain } from '../accord/chain.js';
import { type AccordEpochs, type ChainFile, epochsOf, verifyChainFile } from '../accord/epochs.js';
import { MAX_ENTRY_BYTES, type SignedEntry, type VerifiedEntry, verifyEntry } from '../entry/envelope.js';
import { checkBody, type EvaluationCommitmentBody } from '../entry/bodies.js';
import type { Localized } from '../taxonomy/types.js';
import { arr, int, obj, str, time } from '../shape.js';
import { type JsonObject, type RevealedClaim, MAX_SD, parseDisclosure, openDisclosures } from './disclosure.js';
import { type EvaluationTimeline, type ProvenTime, evaluationTimeline, provenBy } from './timeline.js';

export const EVIDENCE_TYPE = 'parley/evaluation-evidence';
export const EVIDENCE_VERSION = 1;
/** Largest evidence bundle we parse. */
export const MAX_EVIDENCE_BYTES = 32 * 1024 * 1024;

/** An RFC 3161 token in its wire form. */
export interface TimestampToken {
  readonly authority: string;
  /** Base64 DER TimeStampToken. */
  readonly token: string;
}

/** One entry with what proves it: inclusion in a checkpoint, its cosignatures, time stamps. */
export interface EvidenceEntry {
  /** Base64 canonical entry bytes. */
  readonly entry: string;
  readonly index: number;
  /** Base64 RFC 6962 inclusion proof hashes against `checkpoint`. */
  readonly proof: readonly string[];
  /** The checkpoint note text of the entry's log (its signature and cosignatures). */
  readonly checkpoint: string;
  readonly timestamps: readonly TimestampToken[];
}

/** The evidence bundle (module doc). */
export interface EvaluationEvidence {
  readonly type: typeof EVIDENCE_TYPE;
  readonly v: 1;
  readonly accord: string;
  readonly chain: string;
  readonly commitment: EvidenceEntry;
  readonly notice?: EvidenceEntry;
  readonly protocol?: EvidenceEntry;
  readonly reveal?: EvidenceEntry;
  readonly disclosures?: readonly string[];
  readonly created: string;
}

const CODE = 'EVIDENCE_MALFORMED';
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;
const AUTHORITY = /^[a-z0-9][a-z0-9-]{0,31}$/;
const ROLES = ['commitment', 'notice', 'protocol', 'reveal'] as const;
type Role = (typeof ROLES)[number];

function b64(v: unknown, path: string, max: number, bytes?: number): string {
  const s = str(v, CODE, path, { pattern: B64, min: 4, max });
  try {
    const out = parseBase64(s, path);
    if (bytes !== undefined && out.length !== bytes) fail(CODE, `${path}: want ${bytes} bytes`);
  } catch (e) {
    if (e instanceof ParleyError && e.code === CODE) throw e;
    return fail(CODE, `${path}: not canonical base64`, e);
  }
  return s;
}

function evidenceEntry(v: unknown, path: string): EvidenceEntry {
  const o = obj(v, CODE, path, ['entry', 'index', 'proof', 'checkpoint', 'timestamps']);
  return {
    entry: b64(o['entry'], `${path}.entry`, 4 * Math.ceil(MAX_ENTRY_BYTES / 3)),
    index: int(o['index'], CODE, `${path}.index`, 0, Number.MAX_SAFE_INTEGER - 1),
    proof: arr(o['proof'], CODE, `${path}.proof`, 63, (h, p) => b64(h, p, 44, HASH_SIZE)),
    checkpoint: str(o['checkpoint'], CODE, `${path}.checkpoint`, { min: 1, max: MAX_NOTE_BYTES }),
    timestamps: arr(o['timestamps'], CODE, `${path}.timestamps`, 8, (t, p) => {
      const to = obj(t, CODE, p, ['authority', 'token']);
      return { authority: str(to['authority'], CODE, `${p}.authority`, { pattern: AUTHORITY, max: 32 }), token: b64(to['token'], `${p}.token`, 64 * 1024) };
    }),
  };
}

/** Checks the shape of a parsed bundle. @throws ParseError `EVIDENCE_MALFORMED`. */
export function checkEvaluationEvidence(v: unknown): EvaluationEvidence {
  const o = obj(v, CODE, 'evidence', ['type', 'v', 'accord', 'chain', 'commitment', 'created'], ['notice', 'protocol', 'reveal', 'disclosures']);
  if (o['type'] !== EVIDENCE_TYPE) fail(CODE, `evidence.type: want "${EVIDENCE_TYPE}"`);
  if (o['v'] !== EVIDENCE_VERSION) fail(CODE, 'evidence.v: unsupported version');
  const out: Record<string, unknown> = {
    type: EVIDENCE_TYPE,
    v: 1,
    accord: str(o['accord'], CODE, 'evidence.accord', { pattern: /^[0-9a-f]{64}$/, max: 64 }),
    chain: str(o['chain'], CODE, 'evidence.chain', { min: 2, max: MAX_EVIDENCE_BYTES }),
    created: time(o['created'], CODE, 'evidence.created'),
  };
  for (const r of ROLES) if (o[r] !== undefined) out[r] = evidenceEntry(o[r], `evidence.${r}`);
  if (o['disclosures'] !== undefined) {
    out['disclosures'] = arr(o['disclosures'], CODE, 'evidence.disclosures', MAX_SD * 4, (x, p) => {
      try {
        return parseDisclosure(x as string).encoded;
      } catch (e) {
        return fail(CODE, `${p}: not a disclosure`, e);
      }
    });
  }
  return out as unknown as EvaluationEvidence;
}

/**
 * Parses an evidence bundle: UTF-8, I-JSON, RFC 8785 canonical, the shape above.
 * @throws ParseError `EVIDENCE_MALFORMED`, `INPUT_TOO_LARGE`.
 */
export function parseEvaluationEvidence(input: string | Uint8Array): EvaluationEvidence {
  const size = typeof input === 'string' ? input.length : input.length;
  if (size > MAX_EVIDENCE_BYTES) fail('INPUT_TOO_LARGE', 'evidence bundle larger than 32 MiB');
  let text: string;
  let v: unknown;
  try {
    text = typeof input === 'string' ? input : decodeUtf8(input, 'evidence');
    v = parseJson(text, { maxBytes: MAX_EVIDENCE_BYTES });
  } catch (e) {
    return fail(CODE, 'evidence is not JSON', e);
  }
  const ev = checkEvaluationEvidence(v);
  if (canonicalize(v) !== text) fail(CODE, 'evidence is not canonical JSON (RFC 8785)');
  return ev;
}

/** The bundle as canonical JSON text (what {@link parseEvaluationEvidence} reads back). */
export function formatEvaluationEvidence(ev: EvaluationEvidence): string {
  return canonicalize(checkEvaluationEvidence(JSON.parse(JSON.stringify(ev)) as unknown));
}

/** An evidence entry from what a holder has: entry bytes, index, proof hashes, note, tokens. */
export function evidenceEntryOf(bytes: Uint8Array, index: number, proof: readonly Uint8Array[], checkpoint: string, timestamps: readonly TimestampToken[] = []): EvidenceEntry {
  return { entry: formatBase64(bytes), index, proof: proof.map((h) => formatBase64(h)), checkpoint, timestamps };
}

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
  const add = (id: string, ok: boolean, detail: Localized) => checks.push({ id, ok, detail });
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
    const zh = ROLE_ZH[role];
    let v: VerifiedEntry;
    try {
      const bytes = parseBase64(item.entry);
      const party = (JSON.parse(decodeUtf8(bytes)) as SignedEntry).from?.party;
      const epoch = typeof party === 'string' && PARTY_ID.test(party) ? epochs.keysFor(party, item.index) : undefined;
      if (!epoch) throw new ParleyError('ENTRY_INVALID', `no key of ${String(party)} governs index ${item.index}`);
      v = verifyEntry(bytes, epoch.version, epoch.member);
      if (v.entry.seq !== item.index) throw new ParleyError('ENTRY_INVALID', `entry seq ${v.entry.seq} is not its index ${item.index}`);
      entries[role] = v;
      add(`${role}.signature`, true, L(`The ${role} ${v.entry.from.party}:${item.index} (${v.entry.type}) is signed by ${v.entry.from.party}'s log key for that position.`, `${zh} ${v.entry.from.party}:${item.index}（${v.entry.type}）由 ${v.entry.from.party} 在该位置有效的日志密钥签名。`));
    } catch (e) {
      add(`${role}.signature`, false, L(`The ${role} entry does not verify: ${errText(e)}`, `${zh}条目验证失败：${errText(e)}`));
      continue;
    }
    const owner = v.entry.from.party;
    const witnesses = witnessesOf(epochs, owner);
    let cosigs: { party: string; timestamp: number }[] = [];
    let treeSize = 0;
    let logNote = item.checkpoint;
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
      logNote = decodeUtf8(formatNote({ text: w.note.text, signatures: w.signers }));
      cosigs = w.cosignatures.map((c) => ({ party: witnesses.get(`${c.name}+${formatKeyId(c.keyId)}`)!.party, timestamp: c.timestamp }));
      const who = [...new Set(cosigs.map((c) => c.party))].join(', ') || 'none';
      add(`${role}.checkpoint`, true, L(`Checkpoint of size ${treeSize} is signed by ${owner}'s log; cosigned by: ${who}.`, `大小为 ${treeSize} 的检查点由 ${owner} 的日志签名；联署方：${who === 'none' ? '无' : who}。`));
      checkInclusion(item.proof.map((h) => parseBase64(h)), treeSize, w.checkpoint.rootHash, item.index, v.leafHash);
      add(`${role}.inclusion`, true, L(`The entry is included at index ${item.index} of that checkpoint.`, `该条目包含在该检查点的第 ${item.index} 号位置。`));
    } catch (e) {
      const id = treeSize === 0 ? `${role}.checkpoint` : `${role}.inclusion`;
      add(id, false, L(`${id}: ${errText(e)}`, `${id}：${errText(e)}`));
      continue;
    }
    let stamped: ProvenTime | undefined;
    if (item.timestamps.length > 0) {
      if (!opts.verifyTokens) {
        add(`${role}.timestamps`, false, L('Time stamps present but not checked: no RFC 3161 verifier was given.', '存在时间戳但未核验：未提供 RFC 3161 验证器。'));
      } else {
        try {
          // A token's imprint is SHA-256 of the note as stamped: the log's own signed note, or the note with
          // its cosignatures as served; both are tried, the one more tokens verify against counts.
          let r = await opts.verifyTokens(logNote, item.timestamps);
          if (r.failed.length > 0 && logNote !== item.checkpoint) {
            const full = await opts.verifyTokens(item.checkpoint, item.timestamps);
            if (full.verified.length > r.verified.length) r = full;
          }
          const names = r.verified.map((x) => x.authority);
          // The verifier applied k-of-n: its trusted time is the k-th smallest over distinct authorities (timeline.ts).
          if (r.satisfied && r.trustedTime) stamped = { time: r.trustedTime, how: 'timestamp', treeSize, by: names };
          const failed = r.failed.map((f) => `${f.authority} ${f.code}`).join(', ');
          const ok = r.satisfied && r.failed.length === 0;
          add(`${role}.timestamps`, ok, ok
            ? L(`RFC 3161 time stamps verify (${names.join(', ')}); trusted time ${r.trustedTime?.toISOString() ?? '—'}.`, `RFC 3161 时间戳验证通过（${names.join('、')}）；可信时间 ${r.trustedTime?.toISOString() ?? '—'}。`)
            : L(`RFC 3161 time stamps do not all verify${failed ? `: ${failed}` : ''}${r.satisfied ? '' : ' (too few authorities)'}.`, `RFC 3161 时间戳未全部通过${failed ? `：${failed}` : ''}${r.satisfied ? '' : '（时间戳机构数量不足）'}。`));
        } catch (e) {
          add(`${role}.timestamps`, false, L(`Time stamps do not verify: ${errText(e)}`, `时间戳验证失败：${errText(e)}`));
        }
      }
    }
    const byCosig = provenBy(item.index, [{ treeSize, cosignatures: cosigs }], owner);
    const p = byCosig && stamped ? (stamped.time.getTime() < byCosig.time.getTime() ? stamped : byCosig) : (byCosig ?? stamped);
    if (p) proven[role] = p;
  }

  // The commitment itself, and the references between entries.
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
    const ok = r !== undefined && r.party === target.entry.from.party && r.index === target.entry.seq && r.hash === formatBase64(target.leafHash) && (!sameSender || e.entry.from.party === target.entry.from.party);
    const what = role === 'commitment' ? 'the protocol' : 'the commitment';
    add(`${role}.refs`, ok, ok
      ? L(`The ${role} cites ${what} by leaf hash.`, `${ROLE_ZH[role]}通过叶哈希引用了${role === 'commitment' ? '协议承诺' : '该承诺'}。`)
      : L(`The ${role} does not cite ${what} (${r ? `${r.party}:${r.index}` : 'no reference'})${sameSender ? ' of its own log' : ''}.`, `${ROLE_ZH[role]}未引用${role === 'commitment' ? '协议承诺' : '该承诺'}。`));
  };
  if (ev.notice) refersTo('notice', c, false);
  if (ev.reveal) refersTo('reveal', c, true);
  if (ev.protocol) refersTo('commitment', entries.protocol, true);
  if (entries.protocol) {
    const pe = entries.protocol.entry;
    const ok = pe.type === 'evaluation.commitment' && 'clear' in pe.body && checkBodyOk(pe.body.clear, 'protocol');
    add('protocol.body', ok, ok ? L('The protocol is a protocol-stage commitment.', '协议为协议阶段的评估承诺。') : L('The protocol entry is not a protocol-stage commitment.', '协议条目不是协议阶段的评估承诺。'));
  }

  // Committed before deployment.
  let timeline: EvaluationTimeline | undefined;
  if (c && entries.notice) {
    try {
      timeline = evaluationTimeline({ commitment: { entry: c.entry, ...(proven.commitment ? { provenBy: proven.commitment } : {}) }, notice: { entry: entries.notice.entry } });
      add('timeline', timeline.committedBefore, timeline.statement);
    } catch (e) {
      add('timeline', false, L(`The notice's deployment time cannot be read (sealed or malformed): ${errText(e)}`, `无法读取部署通知中的部署时间（已加密或格式错误）：${errText(e)}`));
    }
  }

  // The disclosures: forwarded, or the clear reveal's own.
  let claims: JsonObject | undefined;
  let revealed: RevealedClaim[] | undefined;
  const rv = entries.reveal;
  const clearReveal = rv && 'clear' in rv.entry.body ? (rv.entry.body.clear as { disclosures?: unknown }) : undefined;
  const disclosures = ev.disclosures ?? (Array.isArray(clearReveal?.disclosures) ? (clearReveal.disclosures as string[]) : undefined);
  if (disclosures && body) {
    const salts = new Set<string>();
    let unique = true;
    try {
      for (const d of disclosures) {
        const s = parseDisclosure(d).salt;
        if (salts.has(s)) unique = false;
        salts.add(s);
      }
    } catch {
      unique = false;
    }
    add('salts', unique, unique ? L(`Each of the ${disclosures.length} disclosures has its own salt.`, `${disclosures.length} 项披露各有独立的盐值。`) : L('Two disclosures share a salt (or one is malformed).', '有两项披露共用同一盐值（或存在格式错误的披露）。'));
    if (clearReveal && ev.disclosures) {
      const inReveal = new Set(Array.isArray(clearReveal.disclosures) ? (clearReveal.disclosures as string[]) : []);
      const all = ev.disclosures.every((d) => inReveal.has(d));
      add('reveal.disclosures', all, all ? L('The forwarded disclosures are those of the public reveal.', '转交的披露即公开披露中的内容。') : L('Some forwarded disclosures are not in the public reveal.', '部分转交的披露不在公开披露中。'));
    }
    try {
      const opened = openDisclosures(body.sd, disclosures);
      claims = opened.claims;
      revealed = opened.revealed;
      add('disclosures', true, L(`All ${revealed.length} revealed claims match their committed digests.`, `全部 ${revealed.length} 项披露的声明均与所承诺的摘要相符。`));
    } catch (e) {
      add('disclosures', false, L(`Disclosures do not match the commitment: ${errText(e)}`, `披露与承诺不符：${errText(e)}`));
    }
  }
  return done({ ...(timeline ? { timeline } : {}), ...(proven.commitment ? { provenBy: proven.commitment } : {}), ...(claims ? { claims } : {}), ...(revealed ? { revealed } : {}), ...(body ? { commitment: body } : {}) });
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
