/** `parley inbox | show | ack`: what other parties sent us, one entry in full, and the officer's acknowledgement. */
import type { Command } from 'commander';
import { Option } from 'commander';
import { ENTRY_TYPES, PARTY_ID, UNKNOWN_TYPE_LABEL, isKnownType } from '@parley/core/node';
import { EXIT_OK, UsageError, act } from '../exit.js';
import { makeOut } from '../io.js';
import { parseIndexArg } from '../hashes.js';
import { type ClientOpts, client, clientOptions } from '../client.js';
import { type SubmittedView, submittedLines } from './send.js';

interface Stamp {
  index: number;
  time: string;
  officer?: string;
}

interface EntryView {
  party: string;
  index: number;
  leafHash: string;
  entry: { type: string; precedence: string; marking: string; time: string; to: readonly string[]; from: { party: string; officer: string }; refs: readonly { party: string; index: number }[] };
  body?: unknown;
  sealed?: string;
  state?: { receipt?: Stamp; ack?: Stamp };
  /** Delivery deadlines, one per recipient (for received entries: ours). */
  deadlines?: { recipient: string; state: string; dueAt: string; overdue: string[]; settled: boolean }[];
  /** Withdrawn by its sender (issue 13). */
  retracted?: Retracted;
}

interface Retracted {
  by: { party: string; index: number; time: string };
  action: string;
  reason?: string | undefined;
  replacement?: { party: string; index: number } | undefined;
}

/** "RETRACTED (reason)" / "superseded by US/9 (reason)": how a withdrawn entry is marked in every listing. */
export function retractedText(r: Retracted): string {
  const why = r.reason !== undefined ? ` (${r.reason.split('\n')[0]})` : '';
  return r.action === 'supersede' && r.replacement ? `superseded by ${r.replacement.party}/${r.replacement.index}${why}` : `RETRACTED${why}`;
}

/** "4m 10s" for a duration in ms. */
function span(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** The deadline as a duty officer needs it: time left, or OVERDUE, loudly. */
function dueOf(v: EntryView, now = Date.now()): string {
  const d = v.deadlines?.[0];
  if (!d) return '';
  const left = Date.parse(d.dueAt) - now;
  if (d.overdue.length > 0 && !d.settled) return `OVERDUE ${d.overdue.join('+')} by ${span(left)}`;
  if (d.overdue.length > 0) return `answered late (${d.overdue.join('+')})`;
  if (!d.settled) return `due in ${span(left)}`;
  return '';
}

/** One line that says what an entry is about (inbox, outbox, watch). */
export function firstLine(v: { sealed?: string | undefined; body?: unknown; entry: EntryView['entry']; retracted?: Retracted | undefined }): string {
  // A withdrawn entry says so first (issue 13): its content no longer stands.
  if (v.retracted !== undefined) return clip(`${retractedText(v.retracted)} — ${firstLine({ ...v, retracted: undefined })}`);
  if (v.sealed !== undefined) return `[sealed: ${v.sealed}]`;
  const b = (v.body ?? {}) as Record<string, unknown>;
  let s: string;
  switch (v.entry.type) {
    case 'hotline.message':
      s = String(b['text'] ?? '');
      break;
    case 'incident.report':
      s = `[${String(b['kind'])} ${String(b['category'])}/${String(b['severity'])}] ${String(b['title'] ?? '')}`;
      break;
    case 'ack':
      s = `ack of ${v.entry.refs.map((r) => `${r.party}/${r.index}`).join(', ')}${b['reply'] ? `: ${String(b['reply'])}` : ''}`;
      break;
    case 'receipt':
      s = `receipt of ${v.entry.refs.map((r) => `${r.party}/${r.index}`).join(', ')}`;
      break;
    case 'heartbeat':
      s = `heartbeat, tree size ${String(b['treeSize'])}`;
      break;
    case 'accord.amendment': {
      const version = (b['accord'] as { version?: unknown } | undefined)?.version ?? 1;
      s = `proposes accord version ${String(version)}${b['recovery'] ? ' (key recovery)' : ''}${b['rationale'] ? `: ${String(b['rationale'])}` : ''}`;
      break;
    }
    case 'accord.approval':
      s = `approves accord version ${String(b['version'])} (${String(b['digest']).slice(0, 12)}…)`;
      break;
    case 'accord.activation':
      s = `adopts accord version ${String(b['version'])} from this entry on`;
      break;
    case 'evaluation.commitment': {
      const sd = Array.isArray(b['sd']) ? b['sd'].length : 0;
      const domains = Array.isArray(b['domains']) ? b['domains'].join(', ') : '';
      s = `commits to an evaluation${b['stage'] === 'protocol' ? ' protocol' : ''} (${domains}): ${sd} digests${v.entry.refs.length > 0 ? `, follows ${v.entry.refs.map((r) => `${r.party}/${r.index}`).join(', ')}` : ''}`;
      break;
    }
    case 'deployment.notice': {
      const m = (b['model'] ?? {}) as { id?: unknown };
      s = `deploys ${String(m.id)} at ${String(b['deployedAt'])}, evaluated in ${v.entry.refs.map((r) => `${r.party}/${r.index}`).join(', ')}`;
      break;
    }
    case 'retraction': {
      const [e, r] = v.entry.refs;
      s = `${b['action'] === 'supersede' && r ? `supersedes ${e?.party}/${e?.index} by ${r.party}/${r.index}` : `retracts ${e?.party}/${e?.index}`}${b['reason'] ? `: ${String(b['reason'])}` : ''}`;
      break;
    }
    case 'evaluation.reveal':
      s = `reveals ${Array.isArray(b['disclosures']) ? b['disclosures'].length : 0} claims of ${v.entry.refs.map((r) => `${r.party}/${r.index}`).join(', ')} (parley eval show)`;
      break;
    default:
      // A type this version does not know (core's entry-type registry): shown, never dropped.
      s = isKnownType(v.entry.type) ? JSON.stringify(b) : `[${UNKNOWN_TYPE_LABEL.en}] ${JSON.stringify(b)}`;
  }
  return clip(s);
}

function clip(s: string): string {
  const line = s.split('\n')[0] ?? '';
  return line.length > 72 ? `${line.slice(0, 71)}…` : line;
}

function stateOf(v: EntryView): string {
  const r = v.state?.receipt ? 'receipt ✓' : 'receipt —';
  const a = v.state?.ack ? `ack ✓ ${v.state.ack.officer ?? ''}`.trim() : 'ack —';
  const due = dueOf(v);
  return due ? `${r}  ${a}  ${due}` : `${r}  ${a}`;
}

function table(items: EntryView[]): string[] {
  const rows = items.map((v) => [v.entry.precedence, v.party, String(v.index), v.entry.type, v.entry.time.replace(/\.\d+Z$/, 'Z'), stateOf(v), firstLine(v)]);
  const head = ['PRECEDENCE', 'FROM', 'INDEX', 'TYPE', 'TIME', 'STATE', 'FIRST LINE'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [fmt(head), ...rows.map(fmt)];
}

function partyIndex(party: string, index: string): { party: string; index: number } {
  if (!PARTY_ID.test(party)) throw new UsageError(`"${party}" is not a party id (e.g. US)`);
  return { party, index: parseIndexArg(index, 'INDEX') };
}

function registerInbox(program: Command): void {
  clientOptions(
    program
      .command('inbox')
      .description('entries other parties sent us, most urgent first (awaiting acknowledgement: overdue, then FLASH → ROUTINE, then by deadline; then the rest newest first), the limit applied after that order: precedence, sender, index, type, time, receipt/ack state, first line')
      .addOption(new Option('--type <type>', 'only entries of this type').choices(ENTRY_TYPES))
      .option('--from <party>', 'only entries from this party')
      .option('--all', 'also list receipts and heartbeats (machine traffic, left out by default)')
      .option('--limit <n>', 'at most n entries (1–200)', '50'),
  ).action(
    act(async (o: ClientOpts & { type?: string; from?: string; all?: boolean; limit: string }) => {
      const limit = parseIndexArg(o.limit, '--limit');
      if (limit < 1 || limit > 200) throw new UsageError('--limit must be between 1 and 200');
      // The node orders and then cuts (order=urgency): sorting a newest-first page here would drop an old FLASH.
      const q = new URLSearchParams({ limit: String(limit), order: 'urgency', ...(o.all === true ? { all: '1' } : {}), ...(o.type ? { type: o.type } : {}), ...(o.from ? { party: o.from } : {}) });
      const r = (await client(o).get(`/v1/inbox?${q}`)) as { items: EntryView[]; next?: number };
      makeOut(o.json === true).result({ ...r }, r.items.length === 0 ? ['inbox is empty'] : table(r.items));
      return EXIT_OK;
    }),
  );
}

function registerShow(program: Command): void {
  clientOptions(
    program
      .command('show')
      .description("one entry in full, with its body opened for officers (sealed bodies stay closed for auditors)")
      .argument('<party>', "the sender's party id (or ours, for our own log)")
      .argument('<index>', "the entry's index in that party's log"),
  ).action(
    act(async (party: string, index: string, o: ClientOpts) => {
      const p = partyIndex(party, index);
      const v = (await client(o).get(`/v1/entries/${p.party}/${p.index}`)) as EntryView;
      const e = v.entry;
      const body = v.sealed !== undefined ? [`[sealed: ${v.sealed}]`] : typeof (v.body as { text?: unknown })?.text === 'string' && e.type === 'hotline.message' ? [(v.body as { text: string }).text] : JSON.stringify(v.body, null, 2).split('\n');
      makeOut(o.json === true).result({ ...v }, [
        `${v.party}/${v.index}  ${e.type}${isKnownType(e.type) ? '' : ` (${UNKNOWN_TYPE_LABEL.en})`}  ${e.precedence}  ${e.marking}`,
        `from:      ${e.from.party} (${e.from.officer})`,
        `to:        ${e.to.join(', ')}`,
        `time:      ${e.time}`,
        `leaf hash: ${v.leafHash}`,
        ...(e.refs.length > 0 ? [`refers to: ${e.refs.map((r) => `${r.party}/${r.index}`).join(', ')}`] : []),
        ...(v.state ? [`state:     ${stateOf(v)}`] : []),
        ...(v.retracted ? [`withdrawn: ${retractedText(v.retracted)} — by ${v.retracted.by.party}/${v.retracted.by.index} at ${v.retracted.by.time}`] : []),
        '',
        ...body,
      ]);
      return EXIT_OK;
    }),
  );
}

function registerAck(program: Command): void {
  clientOptions(
    program
      .command('ack')
      .description("acknowledge a received entry as the duty officer (a signed 'ack' entry in our log)")
      .argument('<party>', "the sender's party id")
      .argument('<index>', "the entry's index in the sender's log")
      .option('--reply <text>', 'a reply sent with the acknowledgement')
      .option('--lang <tag>', 'language of the reply'),
  ).action(
    act(async (party: string, index: string, o: ClientOpts & { reply?: string; lang?: string }) => {
      const p = partyIndex(party, index);
      const s = (await client(o).post(`/v1/entries/${p.party}/${p.index}/ack`, {
        ...(o.reply !== undefined ? { reply: o.reply } : {}),
        ...(o.lang !== undefined ? { lang: o.lang } : {}),
      })) as SubmittedView;
      makeOut(o.json === true).result({ ...s }, submittedLines(`Acknowledgement of ${p.party}/${p.index}`, s));
      return EXIT_OK;
    }),
  );
}

export function registerInboxCommands(program: Command): void {
  registerInbox(program);
  registerShow(program);
  registerAck(program);
}
