/**
 * The actions of `parley eval` that talk to a node (commands/eval.ts
 * registers them; verify is eval-verify.ts, offline). The node's API is
 * EVAL.md §10: POST /v1/evaluations/{commitments,notices,reveals}, GET
 * /v1/evaluations[/:party/:index[/evidence]], POST …/dsse.
 */
import { existsSync } from 'node:fs';
import {
  type DsseEnvelope,
  type JsonValue,
  type PathedDisclosure,
  MODEL_DIGEST,
  PARTY_ID,
  commitClaims,
  disclosureDigest,
  evaluationClaims,
  isParleyError,
  openDisclosures,
  parseDisclosure,
  parseDsse,
  selectDisclosures,
} from '@parley/core/node';
import { EXIT_OK, NodeRefused, UsageError } from './exit.js';
import { makeOut } from './io.js';
import { type ClientOpts, client } from './client.js';
import { readJsonFile, writeFileAtomic } from './datadir.js';
import {
  type DisclosuresFile,
  type Position,
  createDisclosuresFile,
  defaultDisclosuresFile,
  documentName,
  parsePosition,
  parseTimeArg,
  positionText,
  readDisclosuresFile,
  readEvaluationDocument,
  removeDisclosuresFile,
  updateDisclosuresFile,
  withReportDigest,
} from './eval-doc.js';
import type { CommitOpts, EvidenceOpts, ExportOpts, NoticeOpts, RevealOpts, ShowOpts } from './commands/eval.js';
import type { SubmittedView } from './commands/send.js';

// ─── what the node answers (EVAL.md §10) ───────────────────────────────────

export interface EvaluationView {
  commitment: { party: string; index: number; leafHash: string; time: string; stage: string; domains: string[]; sdCount: number; provenBy?: string; provenHow?: string };
  protocol?: { party: string; index: number; time: string; provenBy?: string };
  notices: { party: string; index: number; time: string; model: { id: string; digest: string }; deployedAt: string; note?: string; error?: string }[];
  reveals: { party: string; index: number; time: string; to: string[] | string; marking: string; addressed: boolean; claims?: Record<string, JsonValue>; revealed?: { path: string; value: JsonValue; digest: string }[]; error?: string }[];
  timeline?: { committedBefore: boolean; marginSeconds: number; days: number };
}

const evalPath = (p: Position) => `/v1/evaluations/${encodeURIComponent(p.party)}/${p.index}`;

/** A ParleyError of core about the user's input (a bad document, an unknown claim) is a usage error (exit 2) with its own code. */
function asUsage<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (isParleyError(e)) throw new UsageError(e.message, e.code);
    throw e;
  }
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** Every digest of a commitment (top-level and nested `_sd` lists): claims + decoys. */
function digestCount(sd: readonly string[], disclosures: readonly PathedDisclosure[]): number {
  let n = sd.length;
  for (const d of disclosures) {
    const v = d.value;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && Array.isArray((v as { _sd?: unknown })._sd)) n += ((v as { _sd: unknown[] })._sd).length;
  }
  return n;
}

/** A claim value on one line for a person. */
function valueText(v: JsonValue | undefined): string {
  const s = JSON.stringify(v);
  return s === undefined ? '' : s.length > 100 ? `${s.slice(0, 97)}…` : s;
}

// ─── commit ────────────────────────────────────────────────────────────────

export async function commit(file: string, o: CommitOpts): Promise<number> {
  const out = makeOut(o.json === true);
  const raw = await readEvaluationDocument(file);
  const docStage = raw['stage'];
  if (o.protocol === true && docStage !== undefined && docStage !== 'protocol') {
    throw new UsageError(`--protocol commits a protocol, but the document says stage: ${JSON.stringify(docStage)} — drop --protocol or change the stage`);
  }
  const stage = o.protocol === true ? 'protocol' : docStage === undefined ? 'report' : docStage;
  if (stage !== 'report' && stage !== 'protocol') throw new UsageError(`stage must be report or protocol, got ${JSON.stringify(stage)}`, 'EVAL_DOCUMENT_INVALID');
  const follows = o.follows !== undefined ? parsePosition(o.follows, '--follows') : undefined;
  if (follows !== undefined && stage !== 'report') throw new UsageError('--follows links a report to the protocol it follows: a protocol follows nothing');
  const { doc, hashed } = await withReportDigest({ ...raw, stage }, file);
  const claims = asUsage(() => evaluationClaims(doc as never));
  const domains = Array.isArray(doc['domains']) ? (doc['domains'] as string[]) : [];
  const { sd, disclosures } = asUsage(() => commitClaims(claims));
  const topClaims = disclosures.filter((d) => !d.path.includes('.')).length;
  const total = digestCount(sd, disclosures);
  const target = o.out ?? defaultDisclosuresFile(file);
  const kept: DisclosuresFile = {
    type: 'parley/evaluation-disclosures',
    v: 1,
    document: documentName(file),
    created: new Date().toISOString(),
    stage,
    domains,
    sd,
    ...(follows ? { protocol: follows } : {}),
    disclosures: disclosures.map((d) => ({ path: d.path, encoded: d.encoded, digest: d.digest })),
  };
  const summary = {
    stage,
    domains,
    claims: disclosures.map((d) => d.path).sort(),
    digests: { top: sd.length, topClaims, topDecoys: sd.length - topClaims, total, claims: disclosures.length, decoys: total - disclosures.length },
    ...(hashed ? { reportFile: hashed } : {}),
    ...(follows ? { follows } : {}),
  };
  const describe = (): string[] => [
    `  stage: ${stage}${follows ? ` (follows protocol ${positionText(follows)})` : ''}; domains in the clear: ${domains.join(', ') || '—'}`,
    `  ${plural(disclosures.length, 'claim')} committed as ${plural(total, 'digest')} (${total - disclosures.length} decoys); the entry carries ${sd.length} top-level digests (${topClaims} claims, ${sd.length - topClaims} decoys)`,
    `  claims: ${disclosures.map((d) => d.path).sort().join(', ')}`,
    ...(hashed ? [`  report file: ${hashed.file} — sha256 ${hashed.sha256}`] : []),
  ];
  if (o.dryRun === true) {
    out.result({ dryRun: true, ...summary, sd }, ['Dry run: nothing written, nothing sent.', ...describe()]);
    return EXIT_OK;
  }
  const c = client(o); // not logged in: say so before writing anything
  // The salts reach the disk before the commitment leaves: a commitment whose salts were lost can never be opened.
  createDisclosuresFile(target, kept, o.force === true);
  let s: SubmittedView;
  try {
    s = (await c.post('/v1/evaluations/commitments', { stage, domains, sd, ...(follows ? { protocol: follows } : {}) })) as SubmittedView;
  } catch (e) {
    // Refused (a 4xx problem): nothing was committed, the salts open nothing. Any other failure (a timeout, a
    // dropped connection, a 5xx) may come after the node logged the commitment: the salts are kept.
    if (e instanceof NodeRefused && e.status < 500) removeDisclosuresFile(target);
    throw e;
  }
  updateDisclosuresFile(target, { ...kept, commitment: { party: s.party, index: s.index, leafHash: s.leafHash } });
  const at = `${s.party}:${s.index}`;
  out.result(
    { ...s, commitment: { party: s.party, index: s.index, leafHash: s.leafHash }, ...summary, disclosuresFile: target },
    [
      `Evaluation ${stage === 'protocol' ? 'protocol ' : ''}committed as ${at} at ${s.entry.time} (${s.entry.marking}) to ${s.entry.to.join(', ')}`,
      ...describe(),
      `  leaf hash: ${s.leafHash}   tree size: ${s.treeSize}`,
      '',
      `Keep ${target} (mode 0600): its salts alone can open this commitment — lose it and nothing can be revealed; leak it and anything can.`,
      stage === 'protocol'
        ? `Next: commit the report with --follows ${at}.`
        : `Next: parley eval notice --commitment ${at} --model-id ID --model-digest sha256:HEX --deployed-at TIME, then parley eval reveal --disclosures ${target} --claim PATH --to PARTY`,
    ],
  );
  return EXIT_OK;
}

// ─── notice ────────────────────────────────────────────────────────────────

export async function notice(o: NoticeOpts): Promise<number> {
  const commitment = parsePosition(o.commitment, '--commitment');
  const digest = o.modelDigest.trim();
  if (!MODEL_DIGEST.test(digest)) throw new UsageError(`--model-digest must be sha256: and 64 lower-case hex digits, got "${o.modelDigest}"`);
  const id = o.modelId.trim();
  if (id === '' || id.length > 200) throw new UsageError('--model-id must be 1 to 200 characters');
  if (o.note !== undefined && o.note.length > 2000) throw new UsageError('--note is at most 2000 characters');
  const deployedAt = parseTimeArg(o.deployedAt, '--deployed-at');
  const c = client(o);
  // What the node shows for the commitment now: whether this notice will prove "committed before deployment".
  const warnings: string[] = [];
  const view = (await c.get(evalPath(commitment)).catch(() => undefined)) as EvaluationView | undefined;
  if (view !== undefined) {
    if (view.commitment.stage !== 'report') warnings.push(`${positionText(commitment)} is a ${view.commitment.stage} commitment: a deployment notice cites the report`);
    const proven = view.commitment.provenBy;
    if (proven === undefined) warnings.push(`the node has no trusted time for ${positionText(commitment)} yet (no other party's cosignature or time stamp): "committed before deployment" is not proven until one predates ${deployedAt}`);
    else if (!(Date.parse(proven) < Date.parse(deployedAt))) warnings.push(`${positionText(commitment)} is proven to exist only from ${proven}, not before the deployment time ${deployedAt}: the timeline will not show it committed before deployment`);
  }
  const s = (await c.post('/v1/evaluations/notices', {
    commitment,
    model: { id, digest },
    deployedAt,
    ...(o.note !== undefined ? { note: o.note } : {}),
    ...(o.to ? { to: o.to } : {}),
    ...(o.precedence ? { precedence: o.precedence } : {}),
    ...(o.marking ? { marking: o.marking } : {}),
  })) as SubmittedView;
  const out = makeOut(o.json === true);
  if (!out.json) for (const w of warnings) process.stderr.write(`parley: warning: ${w}\n`);
  out.result(
    { ...s, commitment, model: { id, digest }, deployedAt, ...(warnings.length > 0 ? { warnings } : {}) },
    [
      `Deployment notice logged as ${s.party}:${s.index} (${s.entry.precedence}, ${s.entry.marking}) to ${s.entry.to.join(', ')} at ${s.entry.time}`,
      `  model ${id} ${digest}, deployed ${deployedAt}; cites the commitment ${positionText(commitment)}`,
      `  leaf hash: ${s.leafHash}   tree size: ${s.treeSize}`,
    ],
  );
  return EXIT_OK;
}

// ─── reveal ────────────────────────────────────────────────────────────────

export async function reveal(o: RevealOpts): Promise<number> {
  const paths = o.claim ?? [];
  if (paths.length === 0 && o.allClaims !== true) throw new UsageError('which claims? pass --claim PATH (repeatable) or --all-claims');
  if (paths.length > 0 && o.allClaims === true) throw new UsageError('give --claim PATH or --all-claims, not both');
  const to = o.to ?? [];
  if (to.length === 0 && o.public !== true) throw new UsageError('to whom? pass --to PARTY (repeatable; sealed to them) or --public (TLP:CLEAR, everyone)');
  if (to.length > 0 && o.public === true) throw new UsageError('give --to PARTY or --public, not both: a public reveal is readable by every party');
  if (o.public === true && o.marking !== undefined) throw new UsageError('--public is TLP:CLEAR: --marking is for a sealed reveal');
  for (const p of to) if (!PARTY_ID.test(p)) throw new UsageError(`--to "${p}" is not a party id (e.g. CN)`);
  const file = readDisclosuresFile(o.disclosures, (e) => disclosureDigest(e));
  const recorded = file.commitment;
  let commitment: Position;
  if (o.commitment !== undefined) {
    commitment = parsePosition(o.commitment, '--commitment');
    if (recorded !== undefined && (recorded.party !== commitment.party || recorded.index !== commitment.index)) {
      throw new UsageError(`${o.disclosures} holds the salts of ${recorded.party}:${recorded.index}, not of ${positionText(commitment)}: pass the disclosures file of that commitment`);
    }
  } else if (recorded !== undefined) {
    commitment = { party: recorded.party, index: recorded.index };
  } else {
    throw new UsageError(`${o.disclosures} does not record its commitment's position (was the commitment sent?): pass --commitment PARTY:INDEX`);
  }
  const all: PathedDisclosure[] = asUsage(() => file.disclosures.map((d) => ({ ...parseDisclosure(d.encoded), path: d.path })));
  const chosen = o.allClaims === true ? all : asUsage(() => selectDisclosures(all, paths));
  const encoded = chosen.map((d) => d.encoded);
  // Opened here against the committed digests the file keeps: a wrong file fails before the network; the node checks again against its log.
  const opened = asUsage(() => openDisclosures(file.sd, encoded));
  const c = client(o);
  const marking = o.public === true ? 'TLP:CLEAR' : (o.marking ?? 'TLP:AMBER');
  const s = (await c.post('/v1/evaluations/reveals', { commitment, disclosures: encoded, to: o.public === true ? 'all' : to, marking })) as SubmittedView;
  const added = opened.revealed.map((r) => r.path).filter((p) => o.allClaims !== true && !paths.includes(p));
  makeOut(o.json === true).result(
    { ...s, commitment, revealed: opened.revealed.map((r) => ({ path: r.path, value: r.value })), claims: opened.claims, public: o.public === true },
    [
      `Reveal logged as ${s.party}:${s.index} (${s.entry.marking}${o.public === true ? ', public' : ', sealed'}) to ${s.entry.to.join(', ')} at ${s.entry.time}; opens ${positionText(commitment)}`,
      `  ${plural(opened.revealed.length, 'claim')} revealed${added.length > 0 ? ` (parents and children added: ${added.join(', ')})` : ''}:`,
      ...opened.revealed.filter((r) => !chosen.some((d) => d.path === r.path && isNested(d.value))).map((r) => `    ${r.path} = ${valueText(r.value)}`),
      `  leaf hash: ${s.leafHash}   tree size: ${s.treeSize}`,
    ],
  );
  return EXIT_OK;
}

const isNested = (v: JsonValue): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && '_sd' in v;

// ─── list, show ────────────────────────────────────────────────────────────

/** The timeline in words: "committed 3 days before deployment". */
export function timelineText(t: EvaluationView['timeline']): string {
  if (t === undefined) return 'no deployment notice yet';
  if (!t.committedBefore) return 'NOT proven committed before deployment';
  if (t.days >= 1) return `committed ${plural(t.days, 'day')} before deployment`;
  const h = Math.floor(t.marginSeconds / 3600);
  return h >= 1 ? `committed ${plural(h, 'hour')} before deployment` : `committed ${plural(Math.max(0, Math.floor(t.marginSeconds)), 'second')} before deployment`;
}

const toText = (to: string[] | string) => (Array.isArray(to) ? to.join(', ') : to);

export async function list(o: ClientOpts): Promise<number> {
  const c = client(o);
  const r = (await c.get('/v1/evaluations')) as { evaluations: EvaluationView[] };
  const rows = r.evaluations.map((v) => {
    const cm = v.commitment;
    const opened = v.reveals.filter((x) => x.addressed && x.error === undefined && x.revealed !== undefined).length;
    return `${`${cm.party}:${cm.index}`.padEnd(8)}  ${cm.stage.padEnd(8)}  ${cm.time}  ${(cm.domains.join(',') || '—').padEnd(24)}  notices ${v.notices.length}  reveals ${v.reveals.length} (${opened} opened)  ${v.notices.length > 0 ? timelineText(v.timeline) : ''}`.trimEnd();
  });
  makeOut(o.json === true).result({ ...r }, rows.length === 0 ? ['No evaluations on this node.'] : ['commitment  stage     committed                 domains                   notices  reveals', ...rows]);
  return EXIT_OK;
}

/** The human lines of one evaluation view. */
export function viewLines(v: EvaluationView): string[] {
  const cm = v.commitment;
  const lines = [
    `Evaluation ${cm.party}:${cm.index} — ${cm.stage} commitment, logged ${cm.time}`,
    `  domains (in the clear): ${cm.domains.join(', ') || '—'}; ${cm.sdCount} top-level digests (claims and decoys); leaf hash ${cm.leafHash}`,
    `  proven to exist by: ${cm.provenBy !== undefined ? `${cm.provenBy} (${cm.provenHow ?? 'trusted time'})` : 'not yet (no other party\u2019s cosignature or time stamp)'}`,
  ];
  if (v.protocol) lines.push(`  follows protocol ${v.protocol.party}:${v.protocol.index}, logged ${v.protocol.time}${v.protocol.provenBy ? `, proven by ${v.protocol.provenBy}` : ''}`);
  for (const n of v.notices) lines.push(`  deployment notice ${n.party}:${n.index}: model ${n.model.id} ${n.model.digest}, deployed ${n.deployedAt}${n.note ? ` — ${n.note}` : ''}${n.error ? ` — DOES NOT COUNT (${n.error})` : ''}`);
  if (v.notices.length === 0) lines.push('  no deployment notice yet');
  for (const r of v.reveals) {
    const head = `  reveal ${r.party}:${r.index} (${r.marking}) to ${toText(r.to)}, ${r.time}`;
    if (!r.addressed) lines.push(`${head}: not addressed to us (sealed to others)`);
    else if (r.error !== undefined) lines.push(`${head}: DOES NOT MATCH the commitment (${r.error})`);
    else {
      lines.push(`${head}: every value matches its committed digest`);
      for (const x of r.revealed ?? []) if (!(typeof x.value === 'object' && x.value !== null && !Array.isArray(x.value))) lines.push(`    ${x.path} = ${valueText(x.value)}`);
    }
  }
  if (v.notices.length > 0) {
    const t = v.timeline;
    lines.push(`  timeline: ${timelineText(t)}${t && t.committedBefore ? ` (margin ${t.marginSeconds} s)` : ''}`);
  }
  return lines;
}

export async function show(at: string, o: ShowOpts): Promise<number> {
  const p = parsePosition(at, 'the commitment');
  const v = (await client(o).get(evalPath(p))) as EvaluationView;
  makeOut(o.json === true).result({ ...v }, viewLines(v));
  return EXIT_OK;
}

// ─── evidence, export ──────────────────────────────────────────────────────

function refuseOverwrite(file: string, force: boolean | undefined): void {
  if (force !== true && existsSync(file)) throw new UsageError(`"${file}" exists: choose another file with --out FILE, or pass --force to replace it`, 'FILE_EXISTS');
}

export async function evidence(at: string, o: EvidenceOpts): Promise<number> {
  const p = parsePosition(at, 'the commitment');
  const q = o.reveal !== undefined ? `?reveal=${encodeURIComponent(positionText(parsePosition(o.reveal, '--reveal')))}` : '';
  refuseOverwrite(o.out, o.force);
  const { bytes } = await client(o).getBytes(`${evalPath(p)}/evidence${q}`);
  let parsed: { type?: string; disclosures?: unknown[]; notice?: unknown; reveal?: unknown; accord?: string };
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes)) as typeof parsed;
  } catch {
    throw new UsageError(`the node's answer for ${positionText(p)}'s evidence is not JSON`, 'FILE_UNREADABLE');
  }
  // Opened disclosures of a sealed reveal are in it: readable by the owner only, as the node's other secrets.
  writeFileAtomic(o.out, bytes, 0o600);
  const n = Array.isArray(parsed.disclosures) ? parsed.disclosures.length : 0;
  makeOut(o.json === true).result(
    { file: o.out, bytes: bytes.length, commitment: p, notice: parsed.notice !== undefined, reveal: parsed.reveal !== undefined, disclosures: n },
    [
      `Evidence of ${positionText(p)} written to ${o.out} (${bytes.length} bytes): commitment${parsed.notice !== undefined ? ', deployment notice' : ''}${parsed.reveal !== undefined ? `, reveal with ${plural(n, 'opened disclosure')}` : ''}`,
      `Check it offline: parley eval verify ${o.out} --chain CHAIN.json (parley accord chain --out CHAIN.json) or --accord accord.json`,
    ],
  );
  return EXIT_OK;
}

/** A DSSE envelope checked by core's parseDsse (shape, base64 payload and signatures); `what` names it in the usage error. */
function envelopeOf(v: unknown, what: string, code: 'FILE_UNREADABLE' | 'DSSE_INVALID'): DsseEnvelope {
  try {
    return parseDsse(v);
  } catch (e) {
    if (isParleyError(e)) throw new UsageError(`${what} is not a DSSE envelope ({payloadType, payload, signatures: [{keyid, sig}]}; parley eval export … --dsse writes one): ${e.message}`, code);
    throw e;
  }
}

const readEnvelope = (file: string): DsseEnvelope => envelopeOf(readJsonFile(file, '--add envelope'), `--add "${file}"`, 'FILE_UNREADABLE');

/** Merges other envelopes' signatures into `base`: every payload and type must be the same bytes; a keyid already present is kept once. */
export function mergeEnvelopes(base: DsseEnvelope, others: { file: string; env: DsseEnvelope }[]): { env: DsseEnvelope; added: string[] } {
  const signatures = [...base.signatures];
  const added: string[] = [];
  for (const { file, env } of others) {
    if (env.payloadType !== base.payloadType || env.payload !== base.payload) {
      throw new UsageError(`${file} signs a different statement than the node's (its payload differs): merge only envelopes exported for the same evaluation and the same reveal`, 'DSSE_PAYLOAD_MISMATCH');
    }
    for (const s of env.signatures) {
      if (signatures.some((x) => x.keyid === s.keyid && x.sig === s.sig)) continue;
      if (signatures.some((x) => x.keyid === s.keyid)) throw new UsageError(`${file} has another signature by key ${s.keyid} over the same payload: one key signs once`, 'DSSE_PAYLOAD_MISMATCH');
      signatures.push(s);
      added.push(s.keyid);
    }
  }
  return { env: { ...base, signatures }, added };
}

export async function exportStatement(at: string, o: ExportOpts): Promise<number> {
  const p = parsePosition(at, 'the commitment');
  if (o.add !== undefined && o.add.length > 0 && o.dsse !== true) throw new UsageError('--add merges DSSE signatures: pass --dsse too');
  const others = (o.add ?? []).map((file) => ({ file, env: readEnvelope(file) }));
  refuseOverwrite(o.out, o.force);
  // With --add, our node co-signs the other parties' statement as given (it checks every fact of the logs
  // against what it holds and refuses with DSSE_INVALID otherwise): every signature is over one payload.
  const first = others[0]?.env;
  for (const x of others.slice(1)) if (x.env.payload !== first!.payload || x.env.payloadType !== first!.payloadType) throw new UsageError(`${x.file} and ${others[0]!.file} sign different statements: merge only envelopes of the same evaluation and reveal`, 'DSSE_PAYLOAD_MISMATCH');
  const body = {
    ...(o.reveal !== undefined ? { reveal: positionText(parsePosition(o.reveal, '--reveal')) } : {}),
    ...(first !== undefined ? { payload: first.payload } : {}),
  };
  const env = envelopeOf(await client(o).post(`${evalPath(p)}/dsse`, body), "the node's answer", 'DSSE_INVALID');
  const statement = JSON.parse(Buffer.from(env.payload, 'base64').toString('utf8')) as { _type?: string; subject?: { name: string; digest: Record<string, string> }[]; predicateType?: string };
  const out = makeOut(o.json === true);
  if (o.dsse !== true) {
    writeFileAtomic(o.out, `${JSON.stringify(statement, null, 2)}\n`, 0o644);
    out.result({ file: o.out, statement }, [`in-toto Statement v1 of ${positionText(p)} written to ${o.out} (${statement.predicateType ?? '?'}; subject ${statement.subject?.map((s) => s.name).join(', ') ?? '—'})`, 'Signed by the node: pass --dsse for the envelope.']);
    return EXIT_OK;
  }
  const merged = mergeEnvelopes(env, others);
  writeFileAtomic(o.out, `${JSON.stringify(merged.env, null, 2)}\n`, 0o644);
  out.result(
    { file: o.out, envelope: merged.env, signatures: merged.env.signatures.map((s) => s.keyid), added: merged.added, statement },
    [
      `DSSE envelope of ${positionText(p)}'s in-toto Statement written to ${o.out}`,
      `  subject: ${statement.subject?.map((s) => `${s.name} sha256:${s.digest['sha256'] ?? '?'}`).join(', ') ?? '—'}; predicate ${statement.predicateType ?? '?'}`,
      `  signatures: ${merged.env.signatures.map((s) => s.keyid).join(', ')}${merged.added.length > 0 ? ` (${merged.added.length} merged from ${others.map((x) => x.file).join(', ')})` : ''}`,
    ],
  );
  return EXIT_OK;
}
