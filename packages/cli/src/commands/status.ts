/**
 * `parley status`: one look at a running node, for the operator and for
 * monitoring — its log and latest checkpoint, each witness's latest
 * cosignature of that log (verified here against the accord's keys), the
 * links to the other parties, fork proofs, the rollback guard, and the
 * deliveries awaiting an answer. It composes the node's own routes:
 *
 *     GET /healthz                   party, log size (503 while the node may not sign: read too)
 *     GET /log/checkpoint            our latest signed checkpoint
 *     GET /v1/accord                 keys, heartbeat interval
 *     GET /v1/logs/{us}/cosigned     each peer's latest cosignature of our log
 *     GET /v1/logs/{us}?before&limit the time of the first entry a witness has not cosigned
 *     GET /v1/links, /v1/forks, /v1/continuity
 *     GET /v1/deadlines?direction=received|sent&open=true
 *
 * Exit status: 0 all well; 1 something needs attention (each reason is
 * printed: a link down or degraded, a fork proof held, a delivery overdue
 * either way, the log rolled back or not yet confirmed by a peer, a witness
 * that has not cosigned our newest entries for two heartbeat intervals or
 * --stale-after); 2 not logged in or refused; 3 the node unavailable
 * (not running, unreachable, 5xx).
 */
import type { Command } from 'commander';
import { ACK_TYPES, VerifierSet, formatBase64, openCheckpoint, openWitnessedCheckpoint } from '@parley/core/node';
import type { AccordResponse, ContinuityResponse, CosignedNotes, DeadlineItem, DeadlinesResponse, ForkItem, ForksResponse, Link, LinksResponse, LogListing } from '@parley/node/api';
import { type HttpResponse, httpRequest } from '../http.js';
import { EXIT_INVALID, EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { parseIndexArg } from '../hashes.js';
import { type ClientOpts, NodeRefused, client, clientOptions, networkCause } from '../client.js';
import { ago, columns, span } from '../human.js';

/** Deliveries an officer answers (core's entry-type registry; machine traffic's deadlines show up as links). */
const OFFICER_TYPES: readonly string[] = ACK_TYPES;
/** Continuity states in which the node may not sign (node rollback.ts). */
const HALTED = ['unconfirmed', 'rolled-back', 'recovering'];

type Continuity = Pick<ContinuityResponse, 'state' | 'localSize' | 'cosignedSize' | 'detail' | 'since'>;

export interface Attention {
  readonly kind: 'continuity' | 'fork' | 'link' | 'witness' | 'overdue';
  readonly party?: string;
  readonly detail: string;
}

export interface WitnessStatus {
  readonly party: string;
  /** The size of our log it cosigned (0: none held). */
  readonly size: number;
  /** Its cosignature's timestamp. */
  readonly cosignedAt?: string;
  /** Entries of our checkpoint it has not cosigned. */
  readonly behind: number;
  /** Since when the oldest of those has waited (its entry time). */
  readonly waitingSince?: string;
  readonly stale: boolean;
  /** Why the held cosignature was not accepted here. */
  readonly invalid?: string;
}

interface Counts {
  open: number;
  overdue: number;
}

export interface StatusReport {
  readonly ok: boolean;
  readonly party: string;
  readonly url: string;
  readonly checkedAt: string;
  readonly log: { size: number; checkpoint?: { size: number; rootHash: string } };
  readonly continuity: Continuity;
  readonly witnesses: WitnessStatus[];
  readonly staleAfterSeconds: number;
  readonly links: Link[];
  readonly forks: ForkItem[];
  /** Officer traffic awaiting an answer: received (ours to give), sent (theirs). */
  readonly deadlines: { received: Counts; sent: Counts };
  readonly attention: Attention[];
}

type Client = ReturnType<typeof client>;

/** A public route read without the officers' client: /healthz answers 503 with its body, /log/checkpoint is text. */
async function publicGet(url: string, path: string, ok: readonly number[]): Promise<{ status: number; text: string }> {
  let res: HttpResponse;
  try {
    res = await httpRequest('GET', `${url}${path}`, { headers: {}, timeoutMs: 15_000 });
  } catch (e) {
    throw new UsageError(`cannot reach the node at ${url} (${networkCause(e)}): is it running? start it with: parley serve`, 'NODE_UNREACHABLE');
  }
  const text = new TextDecoder().decode(res.bytes);
  if (!ok.includes(res.status)) throw new NodeRefused(res.status, `HTTP_${res.status}`, `the node refused GET ${path} (HTTP ${res.status})`);
  return { status: res.status, text };
}

/** GET /healthz: which party the node is, and its log size (read while the node may not sign, too). */
export async function nodeHealth(url: string): Promise<{ party: string; treeSize: number }> {
  const { text } = await publicGet(url, '/healthz', [200, 503]);
  let h: { party?: unknown; treeSize?: unknown } = {};
  try {
    h = JSON.parse(text) as typeof h;
  } catch {
    // not a Parley node: said below
  }
  if (typeof h.party !== 'string' || typeof h.treeSize !== 'number') throw new UsageError(`${url}/healthz did not answer as a Parley node does: is --url right?`);
  return { party: h.party, treeSize: h.treeSize };
}

const isOverdue = (d: DeadlineItem) => d.state === 'overdue-receipt' || d.state === 'overdue-ack';

/** Officer deliveries still open in one direction, and the overdue ones. */
async function openDeliveries(c: Client, direction: 'received' | 'sent'): Promise<DeadlineItem[]> {
  // Every page (issue 14: GET /v1/deadlines pages with `next`).
  const out: DeadlineItem[] = [];
  for (let after: string | undefined; ; ) {
    const r = (await c.get(`/v1/deadlines?direction=${direction}&open=true&limit=1000${after !== undefined ? `&after=${encodeURIComponent(after)}` : ''}`)) as DeadlinesResponse;
    out.push(...r.items.filter((d) => OFFICER_TYPES.includes(d.type)));
    if (r.next === undefined) return out;
    after = r.next;
  }
}

/**
 * Each other party's latest cosignature of our log, verified here, and how
 * long our oldest entry it has not cosigned has waited.
 */
async function witnesses(c: Client, us: string, accord: AccordResponse, checkpointSize: number, staleMs: number, now: number): Promise<WitnessStatus[]> {
  const parties = (accord.accord as { parties: { id: string; logKey: string }[] }).parties;
  const ours = parties.find((p) => p.id === us);
  if (ours === undefined) throw new UsageError(`the node's accord does not name its own party ${us}`);
  const held = (await c.get(`/v1/logs/${us}/cosigned`)) as CosignedNotes;
  const out: WitnessStatus[] = [];
  for (const p of parties) {
    if (p.id === us) continue;
    const note = held.notes.find((n) => n.witness === p.id);
    let size = 0;
    let cosignedAt: string | undefined;
    let invalid: string | undefined;
    if (note) {
      try {
        const w = openWitnessedCheckpoint(note.note, new VerifierSet([ours.logKey]), [p.logKey], { quorum: 1 });
        size = w.checkpoint.treeSize;
        cosignedAt = new Date(Math.max(...w.cosignatures.map((x) => x.timestamp)) * 1000).toISOString();
      } catch (e) {
        invalid = `its cosignature held by the node does not verify (${(e as { code?: string }).code ?? (e as Error).message})`;
      }
    }
    const behind = Math.max(0, checkpointSize - size);
    let waitingSince: string | undefined;
    if (behind > 0) {
      // The first entry it has not cosigned: index `size` of our log.
      const page = (await c.get(`/v1/logs/${us}?before=${size + 1}&limit=1`)) as LogListing;
      waitingSince = page.items[0]?.time;
    }
    const stale = invalid !== undefined || (waitingSince !== undefined && now - Date.parse(waitingSince) > staleMs);
    out.push({ party: p.id, size, ...(cosignedAt ? { cosignedAt } : {}), behind, ...(waitingSince ? { waitingSince } : {}), stale, ...(invalid ? { invalid } : {}) });
  }
  return out;
}

/** Everything that needs someone, in order of gravity. */
function attentionOf(r: Omit<StatusReport, 'ok' | 'attention'>, received: DeadlineItem[], sent: DeadlineItem[], now: number): Attention[] {
  const a: Attention[] = [];
  if (HALTED.includes(r.continuity.state)) a.push({ kind: 'continuity', detail: `the log is ${r.continuity.state}: the node signs nothing (${r.continuity.detail}) — see parley recover --help` });
  for (const party of new Set(r.forks.map((f) => f.party))) {
    const n = r.forks.filter((f) => f.party === party).length;
    a.push({ kind: 'fork', party, detail: `${n} fork proof${n === 1 ? '' : 's'} held against ${party}'s log: it showed two histories (GET /v1/forks; parley verify-fork checks one)` });
  }
  for (const l of r.links) {
    if (l.state === 'up') continue;
    const since = l.lastHeardAt ? `last heard ${ago(l.lastHeardAt, now)}` : 'never heard';
    a.push({ kind: 'link', party: l.party, detail: `link to ${l.party} is ${l.state} (${l.reason ?? 'unknown'}): ${since}${l.transport?.detail ? `; ${l.transport.detail}` : ''}` });
  }
  for (const w of r.witnesses) {
    if (!w.stale) continue;
    const detail = w.invalid ?? `${w.party} has not cosigned our log from entry ${w.size} on (${w.behind} entr${w.behind === 1 ? 'y' : 'ies'}, the oldest waiting ${span(now - Date.parse(w.waitingSince!))})`;
    a.push({ kind: 'witness', party: w.party, detail });
  }
  const late = received.filter(isOverdue);
  if (late.length > 0) a.push({ kind: 'overdue', detail: `${late.length} received entr${late.length === 1 ? 'y' : 'ies'} overdue for our ${late.some((d) => d.state === 'overdue-receipt') ? 'receipt or ' : ''}acknowledgement: ${late.map((d) => `${d.party}/${d.index}`).join(', ')} — parley inbox` });
  for (const party of new Set(sent.filter(isOverdue).map((d) => d.recipient))) {
    const mine = sent.filter((d) => isOverdue(d) && d.recipient === party);
    a.push({ kind: 'overdue', party, detail: `${party} let ${mine.length} of our entries go overdue: ${mine.map((d) => `${d.party}/${d.index} (${d.state.replace('overdue-', '')})`).join(', ')} — parley outbox --overdue` });
  }
  return a;
}

/** The report for a person. */
export function statusLines(r: StatusReport, now = Date.now()): string[] {
  const cp = r.log.checkpoint ? `checkpoint ${r.log.checkpoint.size} (root ${r.log.checkpoint.rootHash})` : 'no checkpoint yet';
  const witnessRows = r.witnesses.map((w) => [
    w.party,
    w.size > 0 ? `cosigned ${w.size}${w.cosignedAt ? `, ${ago(w.cosignedAt, now)}` : ''}` : 'nothing cosigned',
    w.invalid !== undefined ? 'INVALID' : w.stale ? `STALE: ${w.behind} behind for ${span(now - Date.parse(w.waitingSince!))}` : w.behind > 0 ? `${w.behind} behind` : 'up to date',
  ]);
  const linkRows = r.links.map((l) => [
    l.party,
    l.state === 'up' ? 'up' : `${l.state.toUpperCase()} (${l.reason ?? 'unknown'})`,
    l.lastHeardAt ? `last heard ${ago(l.lastHeardAt, now)}` : 'never heard',
    l.lastCosigned ? `we cosigned ${l.lastCosigned.size}, ${ago(l.lastCosigned.at, now)}` : '',
  ]);
  const count = (c: Counts, whose: string) => `${c.open} awaiting ${whose}${c.overdue > 0 ? ` (${c.overdue} OVERDUE)` : ''}`;
  const section = (name: string, rows: string[][]) => (rows.length === 0 ? [`${name}none`] : columns(rows).map((l, i) => `${i === 0 ? name : ' '.repeat(name.length)}${l}`));
  const forkRows = r.forks.map((f) => [f.party, 'treeSize' in f.a && 'treeSize' in f.b ? `${f.kind} at sizes ${f.a.treeSize}/${f.b.treeSize}` : `${f.kind}: two versions ${'version' in f.a ? f.a.version : ''}`, f.href]);
  return [
    `${r.party} at ${r.url}: ${r.ok ? 'all well' : `NEEDS ATTENTION (${r.attention.length})`}`,
    '',
    `log          size ${r.log.size}, ${cp}`,
    `continuity   ${r.continuity.state}${r.continuity.state === 'confirmed' || r.continuity.state === 'unchecked' ? '' : `: ${r.continuity.detail}`}`,
    ...section('witnesses    ', witnessRows),
    ...section('links        ', linkRows),
    ...section('forks        ', forkRows),
    `deliveries   received: ${count(r.deadlines.received, 'our acknowledgement')}; sent: ${count(r.deadlines.sent, 'theirs')}`,
    ...(r.attention.length > 0 ? ['', 'needs attention:', ...r.attention.map((x) => `  - ${x.detail}`)] : []),
  ];
}

/** Asks the node everything and judges it. */
async function report(o: ClientOpts, staleAfter: number | undefined): Promise<StatusReport> {
  const c = client(o);
  const h = await nodeHealth(c.url);
  const [accord, cpText, links, forks, continuity, received, sent] = await Promise.all([
    c.get('/v1/accord') as Promise<AccordResponse>,
    publicGet(c.url, '/log/checkpoint', [200, 404]),
    c.get('/v1/links') as Promise<LinksResponse>,
    c.get('/v1/forks') as Promise<ForksResponse>,
    c.get('/v1/continuity') as Promise<ContinuityResponse>,
    openDeliveries(c, 'received'),
    openDeliveries(c, 'sent'),
  ]);
  const now = Date.now();
  const ours = (accord.accord as { parties: { id: string; logKey: string }[] }).parties.find((p) => p.id === h.party);
  let checkpoint: StatusReport['log']['checkpoint'];
  if (cpText.status === 200 && ours) {
    const v = openCheckpoint(cpText.text, new VerifierSet([ours.logKey]));
    checkpoint = { size: v.checkpoint.treeSize, rootHash: formatBase64(v.checkpoint.rootHash) };
  }
  const staleMs = (staleAfter ?? 2 * links.heartbeatSeconds) * 1000;
  const ws = await witnesses(c, h.party, accord, checkpoint?.size ?? 0, staleMs, now);
  const count = (items: DeadlineItem[]): Counts => ({ open: items.length, overdue: items.filter(isOverdue).length });
  const base = {
    party: h.party,
    url: c.url,
    checkedAt: new Date(now).toISOString(),
    log: { size: h.treeSize, ...(checkpoint ? { checkpoint } : {}) },
    continuity: { state: continuity.state, localSize: continuity.localSize, cosignedSize: continuity.cosignedSize, detail: continuity.detail, since: continuity.since },
    witnesses: ws,
    staleAfterSeconds: staleMs / 1000,
    links: links.links,
    forks: forks.forks,
    deadlines: { received: count(received), sent: count(sent) },
  };
  const attention = attentionOf(base, received, sent, now);
  return { ok: attention.length === 0, ...base, attention };
}

export function registerStatus(program: Command): void {
  clientOptions(
    program
      .command('status')
      .description("the node at a glance, for a person or for monitoring: log and checkpoint, witnesses' cosignatures, links, forks, continuity, deliveries awaiting an answer — exit 1 when something needs attention")
      .option('--stale-after <seconds>', "a witness is stale when our oldest entry it has not cosigned is older than this (default: two heartbeat intervals of the accord)"),
  )
    .addHelpText(
      'after',
      `
Needs attention (exit 1), each reason printed: a link down or degraded, a
fork proof held, a delivery overdue either way (ours to acknowledge, or
theirs), the log rolled back or not yet confirmed by a peer (the node signs
nothing), a witness that has not cosigned our newest entries in time.

Exit status: 0 all well, 1 needs attention, 2 not logged in or refused,
3 the node unavailable (not running, unreachable).

Examples:
  $ parley status --data us
  $ parley status --data us --json | jq .attention
  $ parley status --url https://hotline.example --token "$TOKEN" || page-the-operator`,
    )
    .action(
      act(async (o: ClientOpts & { staleAfter?: string }) => {
        const staleAfter = o.staleAfter === undefined ? undefined : parseIndexArg(o.staleAfter, '--stale-after');
        if (staleAfter === 0) throw new UsageError('--stale-after must be at least 1 second');
        const r = await report(o, staleAfter);
        makeOut(o.json === true).result({ ...r }, statusLines(r));
        return r.ok ? EXIT_OK : EXIT_INVALID;
      }),
    );
}
