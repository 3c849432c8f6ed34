/**
 * `parley eval verify EVIDENCE --accord FILE | --chain FILE`: an evaluation
 * evidence bundle (EVAL.md §5) checked OFFLINE — nothing is fetched — by
 * core's verifyEvaluationEvidence with `@parley/core/tsa`'s RFC 3161 token
 * verification. Every check is printed (✓/✗ and its detail), then the
 * timeline, the revealed claims and what is provable to whom.
 *
 * Exit 0 only when every check holds; 1 when one fails (named, with core's
 * code); 2 when the command cannot run (no --accord/--chain, unreadable file).
 */
import { type AccordTimestamping, type DsseEnvelope, EVALUATION_PROVABILITY, type Localized, type VerifiedAccord, dsseKeysOf, isParleyError, parseSignedAccord, verifyAccord, verifyChainFile, verifyDsse, verifyEvaluationEvidence } from '@parley/core/node';
import { EXIT_INVALID, EXIT_OK, UsageError } from './exit.js';
import { makeOut, readInput } from './io.js';
import type { VerifyOpts } from './commands/eval.js';

type Lang = 'en' | 'zh-CN';

/** Reads a JSON file named by an option (usage error when unreadable or not JSON): its text and its value. */
function readJson(file: string, what: string): { text: string; value: unknown } {
  const text = new TextDecoder().decode(readInput(file, what));
  try {
    return { text, value: JSON.parse(text) as unknown };
  } catch {
    throw new UsageError(`${what} "${file}" is not valid JSON`, 'FILE_UNREADABLE');
  }
}

const say = (l: Localized | string | undefined, lang: Lang): string => (l === undefined ? '' : typeof l === 'string' ? l : (l[lang] ?? l.en));

export async function verify(file: string, o: VerifyOpts): Promise<number> {
  const lang: Lang = o.lang === 'zh-CN' ? 'zh-CN' : 'en';
  if (o.accord === undefined && o.chain === undefined) throw new UsageError('against what? pass --accord ACCORD.json (the signed accord) or --chain CHAIN.json (parley accord chain --out CHAIN.json): the evidence is checked with the keys they hold, never with keys it carries');
  if (o.accord !== undefined && o.chain !== undefined) throw new UsageError('give --accord FILE or --chain FILE, not both (a chain file holds the accord)');
  const trusted = o.chain !== undefined ? readJson(o.chain, 'chain file') : readJson(o.accord!, 'accord file');
  const ev = readJson(file, 'evidence bundle');
  const out = makeOut(o.json === true);
  if (isEnvelope(ev.value)) return verifyEnvelope(file, ev.value, trusted.text, o.chain !== undefined, out, lang);
  const timestamping = timestampingOf(trusted.value);
  let result: Awaited<ReturnType<typeof verifyEvaluationEvidence>>;
  try {
    // RFC 3161 tokens are checked against the authorities of the accord the verifier trusts (pkijs loaded only then).
    const verifyTokens = timestamping === undefined
      ? undefined
      : async (note: string, tokens: readonly { authority: string; token: string }[]) => (await import('@parley/core/tsa')).verifyTimestamps(note, tokens, timestamping);
    result = await verifyEvaluationEvidence(ev.text, trusted.text, verifyTokens ? { verifyTokens } : {});
  } catch (e) {
    // A bundle that cannot even be read as one (EVIDENCE_MALFORMED): the check failed, exit 1.
    if (!isParleyError(e)) throw e;
    const checks = [{ id: 'evidence', ok: false, detail: { en: `${e.message} (${e.code})`, 'zh-CN': `${e.message} (${e.code})` } }];
    out.failure({ valid: false, code: e.code, error: e.message, checks }, `evidence ${file} NOT verified: ${e.message} (${e.code})`);
    return EXIT_INVALID;
  }
  const provability = EVALUATION_PROVABILITY;
  const failedChecks = result.checks.filter((c) => !c.ok);
  const t = result.timeline;
  const claims = result.claims;
  const human = [
    `Evaluation evidence ${file}`,
    ...result.checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.id} — ${say(c.detail, lang)}`),
    '',
    t === undefined
      ? lang === 'zh-CN' ? '时间线：证据中没有部署通知。' : 'Timeline: no deployment notice in the evidence.'
      : `${lang === 'zh-CN' ? '时间线' : 'Timeline'}: ${say(t.statement, lang)}${lang === 'zh-CN' ? '' : ` Deployed ${t.deployedAt}${result.provenBy ? `; proven by ${result.provenBy.how === 'timestamp' ? 'RFC 3161 time stamps' : 'cosignature'} of ${result.provenBy.by.join(', ')}` : ''}.`}`,
    ...(claims !== undefined && Object.keys(claims).length > 0 ? ['', lang === 'zh-CN' ? '披露的声明（均与承诺的摘要相符）：' : 'Revealed claims (each matches its committed digest):', ...flatten(claims).sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([p, v]) => `  ${p} = ${v}`)] : []),
    '',
    lang === 'zh-CN' ? '可证明的内容及对象：' : 'What this proves, and to whom:',
    ...provability.map((p) => `  • ${say(p, lang)}`),
    '',
    result.ok ? `All ${result.checks.length} checks hold.` : `${failedChecks.length} of ${result.checks.length} checks FAILED: ${failedChecks.map((c) => c.id).join(', ')}.`,
  ];
  const data = {
    valid: result.ok,
    checks: result.checks,
    ...(t !== undefined ? { timeline: t } : {}),
    ...(result.provenBy !== undefined ? { provenBy: { time: result.provenBy.time.toISOString(), how: result.provenBy.how, treeSize: result.provenBy.treeSize, by: result.provenBy.by } } : {}),
    ...(claims !== undefined ? { claims } : {}),
    ...(result.revealed !== undefined ? { revealed: result.revealed } : {}),
    ...(result.commitment !== undefined ? { commitment: result.commitment } : {}),
    provability,
  };
  if (result.ok) {
    out.result(data, human);
    return EXIT_OK;
  }
  if (out.json) out.failure({ ...data, code: 'EVIDENCE_INVALID', error: `${failedChecks.map((c) => `${c.id}: ${say(c.detail, 'en')}`).join('; ')}` }, '');
  else for (const l of human) process.stdout.write(`${l}\n`);
  return EXIT_INVALID;
}

/**
 * The `timestamping` member the trusted accord (or chain) lists: the signed
 * accord's, or the newest chain version's that has one. Absent: the accord
 * names no authority, and tokens in the evidence cannot be trusted.
 */
function timestampingOf(v: unknown): AccordTimestamping | undefined {
  const o = v as { versions?: { accord?: { timestamping?: AccordTimestamping } }[]; accord?: { timestamping?: AccordTimestamping } };
  if (typeof o !== 'object' || o === null) return undefined;
  if (Array.isArray(o.versions)) return [...o.versions].reverse().find((x) => x?.accord?.timestamping !== undefined)?.accord?.timestamping;
  return o.accord?.timestamping;
}

/** A claim tree as `path = value` lines (objects walked, other values as JSON). */
function flatten(v: Record<string, unknown>, prefix = ''): [string, string][] {
  const out: [string, string][] = [];
  for (const [k, x] of Object.entries(v)) {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    if (typeof x === 'object' && x !== null && !Array.isArray(x)) out.push(...flatten(x as Record<string, unknown>, path));
    else out.push([path, JSON.stringify(x)]);
  }
  return out;
}

// ─── a DSSE envelope (parley eval export --dsse) ──────────────────────────

function isEnvelope(v: unknown): v is DsseEnvelope {
  const e = v as Partial<DsseEnvelope>;
  return typeof e === 'object' && e !== null && typeof e.payloadType === 'string' && typeof e.payload === 'string' && Array.isArray(e.signatures);
}

/**
 * An exported envelope checked offline: every signature by a log key of a
 * party of the accord (any version of the chain), each printed; the
 * statement's subject, claims and timeline shown. Exit 0 only when every
 * signature verifies (and there is at least one).
 */
function verifyEnvelope(file: string, env: DsseEnvelope, trustedText: string, isChain: boolean, out: ReturnType<typeof makeOut>, lang: Lang): number {
  type Row = { id: string; ok: boolean; detail: Localized };
  const checks: Row[] = [];
  const L = (en: string, zh: string): Localized => ({ en, 'zh-CN': zh });
  let versions: readonly VerifiedAccord[] = [];
  try {
    versions = isChain ? verifyChainFile(trustedText).chain.versions : [verifyAccord(parseSignedAccord(new TextEncoder().encode(trustedText)))];
    checks.push({ id: 'chain', ok: true, detail: L(`The ${isChain ? 'accord chain' : 'accord'} verifies (channel ${versions[0]!.id.slice(0, 16)}…).`, `${isChain ? '协定链' : '协定'}验证通过（频道 ${versions[0]!.id.slice(0, 16)}…）。`) });
  } catch (e) {
    if (!isParleyError(e)) throw e;
    checks.push({ id: 'chain', ok: false, detail: L(`The ${isChain ? 'accord chain' : 'accord'} does not verify: ${e.code}: ${e.message}`, `${isChain ? '协定链' : '协定'}验证失败：${e.code}：${e.message}`) });
  }
  const keys = dsseKeysOf(versions);
  let statement: Record<string, unknown> | undefined;
  for (const sig of env.signatures) {
    const id = `signature ${sig.keyid}`;
    if (!keys.some((k) => k.keyid === sig.keyid)) {
      checks.push({ id, ok: false, detail: L('Not a log key of any party of the accord.', '不是协定中任何一方的日志密钥。') });
      continue;
    }
    try {
      const r = verifyDsse({ ...env, signatures: [sig] }, keys);
      statement ??= r.statement as Record<string, unknown> | undefined;
      checks.push({ id, ok: true, detail: L(`Verifies over PAE(${env.payloadType}, payload) with ${sig.keyid.split(':')[0]}'s log key.`, `使用 ${sig.keyid.split(':')[0]} 的日志密钥，对 PAE(${env.payloadType}, payload) 的签名验证通过。`) });
    } catch (e) {
      if (!isParleyError(e)) throw e;
      checks.push({ id, ok: false, detail: L(`${e.code}: ${e.message}`, `${e.code}：${e.message}`) });
    }
  }
  if (env.signatures.length === 0) checks.push({ id: 'signatures', ok: false, detail: L('The envelope has no signature.', '信封中没有签名。') });
  const ok = checks.every((c) => c.ok);
  const subject = (statement?.['subject'] as { name: string; digest: Record<string, string> }[] | undefined) ?? [];
  const predicate = statement?.['predicate'] as { claims?: Record<string, unknown>; timeline?: { committedBefore?: boolean; days?: number } } | undefined;
  const human = [
    `DSSE envelope ${file} (${env.payloadType})`,
    ...checks.map((c) => `  ${c.ok ? '✓' : '✗'} ${c.id} — ${say(c.detail, lang)}`),
    ...(statement ? ['', `Statement: ${String(statement['predicateType'])}, subject ${subject.map((x) => `${x.name} sha256:${x.digest['sha256'] ?? '?'}`).join(', ')}`] : []),
    ...(predicate?.claims ? flatten(predicate.claims).map(([p, v]) => `  ${p} = ${v}`) : []),
    '',
    ok ? `All ${checks.length} checks hold.` : `${checks.filter((c) => !c.ok).length} of ${checks.length} checks FAILED: ${checks.filter((c) => !c.ok).map((c) => c.id).join(', ')}.`,
  ];
  const data = { valid: ok, kind: 'dsse', checks, signedBy: checks.filter((c) => c.ok && c.id.startsWith('signature ')).map((c) => c.id.slice('signature '.length)), ...(statement ? { statement } : {}) };
  if (ok) {
    out.result(data, human);
    return EXIT_OK;
  }
  if (out.json) out.failure({ ...data, code: 'DSSE_INVALID', error: checks.filter((c) => !c.ok).map((c) => `${c.id}: ${c.detail.en}`).join('; ') }, '');
  else for (const l of human) process.stdout.write(`${l}\n`);
  return EXIT_INVALID;
}
